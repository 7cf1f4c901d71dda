/**
 * normalizeObject attacked (independent review, issue 14): values the Parquet types cannot hold,
 * ids beyond 2^53, records that vanish without a trace, short reads that look whole, a cleanup
 * that fails half way, and two deliveries of one key that overlap.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { curatedKey, objectId } from '../../../src/core/findings/layout';
import { normalizeObject } from '../../../src/core/findings/normalize';
import type { LakeStore, SourceObject } from '../../../src/core/findings/ports';

/** A lake that behaves like a bucket (objects by key, whole puts), with a hook to fail or hold a call. */
class MemoryLake implements LakeStore {
  readonly objects = new Map<string, Buffer>();
  /** Called before each operation; may throw (a failing S3 call) or wait. */
  before: (op: string, key: string) => Promise<void> | void = () => {};
  async putFile(key: string, filePath: string): Promise<void> {
    await this.before('put', key);
    this.objects.set(key, fs.readFileSync(filePath));
  }
  async putText(key: string, body: string): Promise<void> {
    await this.before('put', key);
    this.objects.set(key, Buffer.from(body));
  }
  async copySource(source: SourceObject, key: string): Promise<void> {
    await this.before('copy', key);
    const chunks: Buffer[] = [];
    for await (const chunk of await source.open()) chunks.push(chunk as Buffer);
    this.objects.set(key, Buffer.concat(chunks));
  }
  async getText(key: string): Promise<string | undefined> {
    await this.before('get', key);
    return this.objects.get(key)?.toString('utf8');
  }
  async delete(keys: readonly string[]): Promise<void> {
    await this.before('delete', keys.join(','));
    for (const key of keys) this.objects.delete(key);
  }
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

const BUCKET = 'findings-bucket';
const LAST_MODIFIED = new Date('2024-05-02T03:00:00Z');

function source(key: string, body: Buffer | string, size?: number, lastModified = LAST_MODIFIED): SourceObject {
  const bytes = Buffer.from(body);
  return {
    bucket: BUCKET,
    key,
    lastModified,
    size: size ?? bytes.length,
    open: async () => Readable.from([bytes]),
  };
}

let tmpDir: string;
beforeEach(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'normalize-edges-'));
});
afterEach(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };

async function rowsOf(lake: MemoryLake, key: string): Promise<Record<string, any>[]> {
  const file = path.join(tmpDir, `read-${objectId('read', key)}.parquet`);
  fs.writeFileSync(file, lake.objects.get(key)!);
  return parquetReadObjects({ file: await asyncBufferFromFile(file), compressors });
}

async function allRows(lake: MemoryLake, table: string): Promise<Record<string, any>[]> {
  const rows: Record<string, any>[] = [];
  for (const key of lake.keys(`curated/${table}/`)) rows.push(...(await rowsOf(lake, key)));
  return rows;
}

/** One PC host in the guide's shape with `postures` Failed postures under one policy. */
function host(hostId: unknown, postures = 2, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hostId,
    ip: '10.0.0.1',
    dns: 'h.example',
    customerId: 250021,
    assetId: 31680291,
    complianceLastScanData: '2023-01-16T10:47:05Z',
    policy: [
      {
        id: 3567540,
        posture: Array.from({ length: postures }, (_, i) => ({
          id: 25214933 + i,
          controlId: 1071 + i,
          posture: 'Failed',
          evaluationDate: '2023-01-16T10:49:43Z',
        })),
      },
    ],
    ...extra,
  };
}

const ndjson = (...records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('values the columns cannot hold', () => {
  test('GIVEN a PC file where one host has a 19-digit hostId beyond INT64 WHEN normalized THEN the file still lands (that id null), the other hosts with it', async () => {
    // GIVEN: "9999999999999999999" passes toBigint's 19-digit check but is > 2^63-1.
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/2024-05-01/big-id.json';
    const body = ndjson(host(1001), host('9999999999999999999'), host(1003));
    // WHEN
    const result = await normalizeObject(source(key, body), lake, { tmpDir }).catch((error: Error) => ({
      status: `threw: ${error.message}`,
    }));
    // THEN: one odd value must not keep a whole file (and its SQS message, to the DLQ) out of the lake.
    expect(result.status).toBe('normalized');
    const rows = await allRows(lake, 'pc_postures');
    expect(rows.length).toBe(6);
    expect(rows.filter((r) => r.host_id === null).length).toBe(2);
  });

  test('GIVEN a VM record whose QID is a 19-digit string beyond INT64 WHEN normalized THEN a row with raw (never dropped), not an exception', async () => {
    const lake = new MemoryLake();
    const key = 'qualys_vm_findings/findings/2024-05-01/big-qid.json';
    const body = ndjson({ qid: 38739, severity: 3 }, { qid: '9223372036854775808', severity: 4 });
    const result = await normalizeObject(source(key, body), lake, { tmpDir }).catch((error: Error) => ({
      status: `threw: ${error.message}`,
    }));
    expect(result.status).toBe('normalized');
    const rows = await allRows(lake, 'vm_findings');
    expect(rows.map((r) => JSON.parse(r.raw).qid)).toEqual([38739, '9223372036854775808']);
  });

  test('GIVEN a hostId beyond 2^53 as a JSON number WHEN normalized THEN host_id is null and unparsed_values holds the id as sent, every digit (PC has no raw column to recover it from)', async () => {
    // GIVEN: 9007199254740993 = 2^53 + 1, a valid INT64 (the column is bigint precisely to hold such ids).
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/2024-05-01/huge-id.json';
    const body =
      '{"hostId":9007199254740993,"ip":"10.0.0.9","policy":[{"id":1,"posture":[{"id":2,"controlId":3,"posture":"Failed"}]}]}\n';
    // WHEN
    await normalizeObject(source(key, body), lake, { tmpDir });
    // THEN: JSON.parse has rounded the number (to ...992), so the column holds no guess: it is null,
    // and the id is kept as sent (the digits of the JSON text, not the rounded double).
    const rows = await allRows(lake, 'pc_postures');
    expect(rows.map((r) => r.host_id)).toEqual([null]);
    expect(rows[0].unparsed_values).toBe('{"hostId":9007199254740993}');
  });
});

describe('nothing vanishes without a trace', () => {
  test('GIVEN a host whose "policy" is one object, not a list WHEN normalized THEN its postures are rows or the record is kept as unmapped', async () => {
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/2024-05-01/policy-object.json';
    const record = {
      hostId: 7,
      ip: '10.0.0.7',
      policy: { id: 3567540, posture: [{ id: 1, controlId: 1071, posture: 'Failed' }] },
    };
    const result = await normalizeObject(source(key, ndjson(record)), lake, { tmpDir });
    // THEN: today rowsOut 0 and unmapped 0: a Failed posture is gone and nothing says so.
    expect(result.rowsOut + result.unmapped).toBeGreaterThan(0);
  });

  test('GIVEN postures that are not objects inside a policy WHEN normalized THEN they are counted as unmapped (not skipped silently)', async () => {
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/2024-05-01/odd-postures.json';
    const record = host(8, 1);
    (record.policy as any[])[0].posture.push('25214999', null);
    const result = await normalizeObject(source(key, ndjson(record)), lake, { tmpDir });
    expect(result.rowsOut).toBe(1);
    expect(result.unmapped).toBeGreaterThan(0);
  });
});

describe('gzip with trailing bytes', () => {
  test('GIVEN a gzip followed by trailing bytes WHEN normalized THEN quarantined, and the reason says how much JSON was decoded (not 0 bytes)', async () => {
    // GIVEN: a small file, so all of its JSON comes out of the zlib call that fails on the trailing bytes.
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/2024-05-01/trailing.json.gz';
    const json = ndjson(host(1), host(2));
    const gz = gzipSync(json);
    const body = Buffer.concat([gz, Buffer.from('not gzip at all')]);
    // WHEN
    const result = await normalizeObject(source(key, body), lake, { tmpDir });
    // THEN
    expect(result.status).toBe('quarantined');
    const reason = JSON.parse(lake.objects.get(`quarantine/${key}.reason.json`)!.toString());
    expect(reason.reason).toBe('bad-gzip');
    // (zlib notices a bad next header a byte or two into it)
    const at = Number(/at about stored byte (\d+) of (\d+)/.exec(reason.message)?.[1]);
    expect(at - gz.length).toBeGreaterThanOrEqual(0);
    expect(at - gz.length).toBeLessThanOrEqual(2);
    expect(reason.message).toContain(`of ${body.length} (trailing bytes`);
    expect(reason.message).toContain(`after ${Buffer.byteLength(json)} bytes of JSON decoded`);
    expect(reason.byteOffset).toBe(Buffer.byteLength(json));
  });
});

describe('short reads', () => {
  test('GIVEN a stream that ends cleanly on a record boundary before the stated size WHEN normalized THEN thrown for a retry, nothing partial published', async () => {
    // GIVEN: S3 said 3 hosts' worth of bytes; the connection delivered the first 2 lines whole and closed.
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/2024-05-01/short.json';
    const full = Buffer.from(ndjson(host(1), host(2), host(3)));
    const firstTwo = Buffer.from(ndjson(host(1), host(2)));
    const short: SourceObject = { ...source(key, full), open: async () => Readable.from([firstTwo]) };
    // WHEN / THEN: the size mismatch is only checked when the cut falls inside a record; here 2/3 of
    // the file is published as if it were all of it.
    await expect(normalizeObject(short, lake, { tmpDir })).rejects.toThrow(/retry/);
    expect(lake.keys('curated/')).toEqual([]);
  });
});

describe('partial failure and concurrency', () => {
  test('GIVEN a re-run whose cleanup of the old day fails once WHEN the message is redelivered THEN the old day is deleted (no duplicate rows)', async () => {
    // GIVEN: a key without a day folder (the day is LastModified), normalized once on 2024-05-02.
    const lake = new MemoryLake();
    const key = 'qualys_vm_findings/vuln_info/vm/kb.json';
    const body = ndjson({ qid: 1, severity: 3 }, { qid: 2, severity: 5 });
    const first = await normalizeObject(source(key, body), lake, { tmpDir });
    expect(first.outputs).toEqual([curatedKey('vm_findings', '2024-05-02', objectId(BUCKET, key))]);
    // WHEN: overwritten the next month; the DeleteObjects of the old output fails (S3 500 / per-key Errors).
    const later = new Date('2024-06-01T00:00:00Z');
    let failDelete = true;
    lake.before = (op) => {
      if (op === 'delete' && failDelete) {
        failDelete = false;
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        });
      }
    };
    await expect(normalizeObject(source(key, body, undefined, later), lake, { tmpDir })).rejects.toThrow(
      /internal error/,
    );
    // ... and SQS delivers the message again, which now succeeds.
    await normalizeObject(source(key, body, undefined, later), lake, { tmpDir });
    // THEN: only the new day's output; today the manifest was rewritten before the delete, so the
    // retry no longer knows the old output and it stays forever: every record twice in the table.
    expect(lake.keys('curated/')).toEqual([curatedKey('vm_findings', '2024-06-01', objectId(BUCKET, key))]);
    expect((await allRows(lake, 'vm_findings')).length).toBe(2);
  });

  test('GIVEN two overlapping deliveries of one key (v1 read slowly, then v2 overwrote it and was normalized) WHEN v1 finishes last THEN the lake still holds v2', async () => {
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/2024-05-01/overwritten.json';
    const v1 = Buffer.from(ndjson(host(1, 1)));
    const v2 = Buffer.from(ndjson(host(2, 3)));
    // v1's stream stalls after its bytes until released (a slow GET), as v2's delivery runs whole.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowV1: SourceObject = {
      ...source(key, v1, undefined, new Date('2024-05-01T10:00:00Z')),
      open: async () =>
        Readable.from(
          (async function* () {
            yield v1;
            await released;
          })(),
        ),
    };
    const running = normalizeObject(slowV1, lake, { tmpDir });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await normalizeObject(source(key, v2, undefined, new Date('2024-05-01T10:05:00Z')), lake, { tmpDir });
    release();
    await running;
    // THEN: the newer version's 3 rows (host 2); today v1's stale row overwrites them.
    const rows = await allRows(lake, 'pc_postures');
    expect(rows.map((r) => Number(r.host_id))).toEqual([2, 2, 2]);
  });
});
