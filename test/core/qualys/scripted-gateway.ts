/**
 * A scripted Qualys gateway for the client's and the session's tests: each request gets the
 * next answer of the script, and every request is recorded.
 */
import type { CachedToken, QualysSessionOptions } from '../../../src/core/qualys/session';
import type { HttpRequest, HttpResponse } from '../../../src/core/qualys/transport';
import { FakeClock, memoryLogger } from '../../support/lambda-fakes';

export const PASSWORD = 'Sup3r-S3cret!';

/** What a client or a session of the scripted gateway is built from, and the log lines it writes. */
export function gatewayOptions(
  transport: (req: HttpRequest) => Promise<HttpResponse>,
  clock = new FakeClock(),
  cache = new Map<string, CachedToken>(),
): { options: QualysSessionOptions; lines: string[]; clock: FakeClock; cache: Map<string, CachedToken> } {
  const { log, lines } = memoryLogger();
  const options = {
    gatewayUrl: 'https://gateway.example.test/',
    credentials: { username: 'qualys-user', password: PASSWORD },
    credentialsSource: 'secret "qualys/api-credentials"',
    transport,
    log,
    clock,
    tokenCache: cache,
  };
  return { options, lines, clock, cache };
}

export type Step = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** A transport that answers from a script and records every request. */
export function scripted(...steps: Step[]) {
  const requests: HttpRequest[] = [];
  const transport = async (req: HttpRequest) => {
    requests.push(req);
    const step = steps.shift();
    if (!step) throw new Error(`unexpected request ${req.method} ${req.url}`);
    return step(req);
  };
  return { transport, requests, remaining: () => steps.length };
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
export const text = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body,
});

export function jwt(expSeconds: number): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'HS256' })}.${enc({ sub: 'qualys-user', exp: expSeconds })}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
}

/** The `/auth` step of a script: asserts the request is the JWT request and answers `token`. */
export const auth =
  (token: string): Step =>
  (req) => {
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://gateway.example.test/auth');
    return text(200, token);
  };
