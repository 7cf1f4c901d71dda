/**
 * The findings pipeline's world: the fake AWS on loopback with a findings bucket and a lake
 * bucket, the real SDK S3 client pointed at it, SQS events built exactly as S3 -> SQS delivers
 * them, the normalizer handler's log captured, and postures in the guide's shape.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import {
  curatedKey,
  manifestKey,
  objectId,
  partitionDay,
  quarantineKey,
  tableOfKey,
} from '../../src/core/findings/layout';
import type { LakeStore, NormalizeResult, SourceObject } from '../../src/core/findings/ports';
import { s3EventBody } from '../../src/core/findings/s3-event';
import { Logger } from '../../src/core/log';
import type { NormalizeFn } from '../../src/handler/normalizer-batch';
import { FakeAws } from '../../sim/fake-aws';

export const FINDINGS_BUCKET = 'qualyss3-prod-findingsbucket-1a2b3c';
export const LAKE_BUCKET = 'qualyss3-prod-lakebucket-4d5e6f';

export interface LoggedLine {
  level: string;
  event: string;
  [field: string]: unknown;
}

export class FindingsWorld {
  readonly aws = new FakeAws({ region: 'eu-west-1' });
  readonly lines: LoggedLine[] = [];
  readonly log = new Logger((line) => this.lines.push(JSON.parse(line) as LoggedLine));
  readonly tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'findings-world-'));
  s3!: S3Client;

  async start(): Promise<this> {
    const endpoint = await this.aws.start();
    this.aws.createBucket(FINDINGS_BUCKET);
    this.aws.createBucket(LAKE_BUCKET);
    this.s3 = new S3Client({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDFINDINGS', secretAccessKey: 'findings-test-secret' },
      // The SDK's standard retries, shortened: a throttled object fails in the test's time.
      maxAttempts: 2,
    });
    return this;
  }

  async stop(): Promise<void> {
    this.s3?.destroy();
    await this.aws.stop();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }

  /** Puts a raw object into the findings bucket as Qualys would; returns its size. */
  putRaw(key: string, body: Buffer | string, lastModified?: number): number {
    const bytes = Buffer.from(body);
    this.aws.putObject(FINDINGS_BUCKET, key, { body: bytes, lastModified, contentType: 'application/octet-stream' });
    return bytes.length;
  }

  /** Lake keys, sorted. */
  lakeKeys(prefix = ''): string[] {
    return this.aws
      .objects(LAKE_BUCKET)
      .map((o) => o.key)
      .filter((k) => k.startsWith(prefix));
  }

  lakeObject(key: string): Buffer {
    const o = this.aws.object(LAKE_BUCKET, key);
    if (!o) throw new Error(`no ${key} in the lake; it holds ${this.lakeKeys().join(', ') || 'nothing'}`);
    return o.body;
  }

  events(name: string): LoggedLine[] {
    return this.lines.filter((l) => l.event === name);
  }
}

/** An SQS record carrying `body`, with the fields Lambda's SQS event source gives. */
export function sqsRecord(body: string, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `AQEB${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAIT2UOQQY3AUEKVGXU',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:QualysS3-prod-Normalizer',
    awsRegion: 'eu-west-1',
  };
}

/** The S3 notification of one object, delivered through SQS (key URL-encoded as S3 writes it). */
export function objectCreatedRecord(
  key: string,
  size: number,
  bucket = FINDINGS_BUCKET,
  messageId?: string,
): SQSRecord {
  return sqsRecord(s3EventBody([{ bucket, key, size }], { region: 'eu-west-1' }), messageId);
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** Postures in the guide's shape ("Sample: Posture Data Transferred using CIPS"). */
export function postureHost(hostId: number, policies: number, controls: number, posture = 'Failed'): object {
  return {
    hostId,
    dns: `host-${hostId}.example.internal`,
    ip: `10.0.${Math.floor(hostId / 250) % 250}.${hostId % 250}`,
    trackingMethod: '4',
    os: 'CentOS Linux 7.5.1804',
    osCpe: null,
    complianceLastScanData: '2026-01-16T10:47:05Z',
    customerUuid: '0a387e70-8b26-78ff-8145-017b816fa17f',
    customerId: 250021,
    assetId: 30000000 + hostId,
    policy: Array.from({ length: policies }, (_, p) => ({
      id: 3567540 + p,
      posture: Array.from({ length: controls }, (_, c) => ({
        id: hostId * 1000 + p * 100 + c,
        controlId: 1071 + c,
        controlStatement: `Status of the 'Minimum Password Length' setting (${c})`,
        controlReference: '',
        remediation: 'edit the file "/etc/login.defs"',
        technologyId: 80,
        instance: 'os',
        posture,
        postureModifiedDate: '2026-01-13T07:08:18Z',
        evaluationDate: '2026-01-16T10:49:43Z',
        lastPosture: posture,
        firstEvaluatedDate: '2026-01-13T07:08:18Z',
        failDateFirstFound: posture === 'Failed' ? '2026-01-13T07:08:18Z' : null,
        failDateLastFound: posture === 'Failed' ? '2026-01-16T10:49:43Z' : null,
        passedDateFirstFound: posture === 'Passed' ? '2026-01-13T07:08:18Z' : null,
        passedDateLastFound: posture === 'Passed' ? '2026-01-16T10:49:43Z' : null,
        evidence: JSON.stringify({
          description: 'The following Integer value',
          expectedValues: ['14'],
          actualValues: ['5'],
        }),
      })),
    })),
  };
}

/** A gzipped NDJSON posture file of `hosts` hosts. */
export function postureFile(hosts: number, policies = 2, controls = 3): Buffer {
  const lines = Array.from({ length: hosts }, (_, h) => JSON.stringify(postureHost(1000 + h, policies, controls)));
  return gzipSync(`${lines.join('\n')}\n`);
}

/**
 * A stand-in for src/core/findings/normalize.ts (built in parallel), keeping its contract
 * (layout.ts, ports.ts) with the least logic: reads the whole object (gunzipped when it starts
 * with gzip's magic), quarantines what is not JSON (NDJSON included), writes one output file
 * per object with its host IDs, and a manifest; a redelivery overwrites both and deletes
 * outputs the manifest names that it no longer writes. It exercises every LakeStore call.
 */
export const standInNormalize: NormalizeFn = async (source, store, options) => {
  const table = tableOfKey(source.key);
  const raw = await readAll(source);
  const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  const base = { sourceKey: source.key, table, bytesIn: text.length };
  let hosts: Array<{ hostId?: number }>;
  try {
    hosts = text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { hostId?: number });
  } catch (error) {
    const reason = `not JSON: ${(error as Error).message}`;
    await store.copySource(source, quarantineKey(source.key));
    await store.putText(`${quarantineKey(source.key)}.reason.json`, JSON.stringify({ reason }), 'application/json');
    return { ...base, status: 'quarantined', reason, recordsIn: 0, rowsOut: 0, bytesOut: 0, outputs: [] };
  }
  const id = objectId(source.bucket, source.key);
  const day = partitionDay(source.key, source.lastModified);
  const key = curatedKey(table!, day, id);
  const file = path.join(options?.tmpDir ?? os.tmpdir(), `${id}.out`);
  const body = hosts.map((h) => h.hostId).join('\n');
  fs.writeFileSync(file, body);
  await store.putFile(key, file, 'text/plain');
  fs.rmSync(file);
  const previous = await store.getText(manifestKey(id));
  const stale = previous ? (JSON.parse(previous).outputs as string[]).filter((k) => k !== key) : [];
  if (stale.length) await store.delete(stale);
  await store.putText(manifestKey(id), JSON.stringify({ outputs: [key] }), 'application/json');
  const result: NormalizeResult = {
    ...base,
    status: 'normalized',
    recordsIn: hosts.length,
    rowsOut: hosts.length,
    bytesOut: body.length,
    outputs: [key],
  };
  return result;
};

async function readAll(source: SourceObject): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await source.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export type { LakeStore };
