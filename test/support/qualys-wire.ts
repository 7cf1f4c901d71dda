/**
 * Raw HTTP to the Qualys simulator (undici, no project client), so that what a test asserts
 * is the wire answer; and the integration bodies the simulator tests register.
 */
import { request } from 'undici';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => any;
}

export interface RawRequest {
  /** A JSON body (Content-Type application/json unless the headers name one). */
  json?: unknown;
  /** A body sent as is. */
  body?: string;
  /** A form-encoded body. */
  form?: string;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

export async function rawHttp(url: string, method: string, opts: RawRequest = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  let body = opts.body;
  if (opts.form !== undefined) {
    body = opts.form;
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await request(url, { method: method as 'GET', headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

export const vmBody = (overrides: Record<string, unknown> = {}) => ({
  bucketName: 'qualys-vm-findings',
  bucketRegion: 'us-east-1',
  roleArn: 'arn:aws:iam::123456789012:role/qualys-vm-role',
  name: 'vm-integration',
  ...overrides,
});

export const pcBody = (overrides: Record<string, unknown> = {}) => ({
  name: 'pc-integration',
  bucketName: 'qualys-pc-data',
  bucketRegion: 'ap-south-1',
  roleArn: 'arn:aws:iam::123456789012:role/qualys-pc-role',
  ...overrides,
});
