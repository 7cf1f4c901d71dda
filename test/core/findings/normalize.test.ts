/**
 * normalizeObject over generated files, into a strict in-memory lake: row counts and values
 * against the generator's own truth, idempotence, quarantine, unmapped records, skips.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { curatedKey, manifestKey, objectId, quarantineKey } from '../../../src/core/findings/layout';
import { normalizeObject, SourceReadError } from '../../../src/core/findings/normalize';
import type { LakeStore, SourceObject } from '../../../src/core/findings/ports';
import { generatePostureFiles, generateVmRecords, gzip, serialize, VM_SHAPES } from '../../../sim/findings-generator';

/** A lake that behaves like a bucket: objects by key, copied in on put, no partial writes, deletes of absent keys allowed. */
class MemoryLake implements LakeStore {
  readonly objects = new Map<string, Buffer>();
  readonly calls: string[] = [];
  async putFile(key: string, filePath: string): Promise<void> {
    this.calls.push(`put ${key}`);
    this.objects.set(key, fs.readFileSync(filePath));
  }
  async putText(key: string, body: string): Promise<void> {
    this.calls.push(`put ${key}`);
    this.objects.set(key, Buffer.from(body));
  }
  async copySource(source: SourceObject, key: string): Promise<void> {
    this.calls.push(`copy ${key}`);
    const chunks: Buffer[] = [];
    for await (const chunk of await source.open()) chunks.push(chunk as Buffer);
    this.objects.set(key, Buffer.concat(chunks));
  }
  async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.toString('utf8');
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      if (this.objects.has(key)) this.calls.push(`delete ${key}`);
      this.objects.delete(key);
    }
  }
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

const BUCKET = 'findings-bucket';
const LAST_MODIFIED = new Date('2024-05-02T03:00:00Z');

function source(key: string, body: Buffer, size: number | undefined = body.length): SourceObject {
  return { bucket: BUCKET, key, lastModified: LAST_MODIFIED, size, open: async () => Readable.from([body]) };
}

let tmpDir: string;
beforeEach(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'normalize-test-'));
});
afterEach(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };

async function readParquet(lake: MemoryLake, key: string): Promise<Record<string, any>[]> {
  const file = path.join(tmpDir, `${objectId('read', key)}.parquet`);
  fs.writeFileSync(file, lake.objects.get(key)!);
  return parquetReadObjects({ file: await asyncBufferFromFile(file), compressors });
}

describe('posture files of every shape, gzip or not', () => {
  const generated = generatePostureFiles({ seed: 42, hosts: 60, files: 10, quirkRate: 0.05 });

  test('GIVEN the generated files WHEN normalized THEN one row per posture of the truth, with its values', async () => {
    const lake = new MemoryLake();
    let rows = 0;
    for (const file of generated.files) {
      const result = await normalizeObject(source(file.key, file.body), lake, { tmpDir });
      expect(result).toMatchObject({
        status: 'normalized',
        table: 'pc_postures',
        recordsIn: file.records,
        bytesIn: file.jsonBytes,
        gzip: file.gzip,
      });
      rows += result.rowsOut;
      if (result.rowsOut)
        expect(result.outputs).toEqual([curatedKey('pc_postures', '2024-05-01', objectId(BUCKET, file.key))]);
    }
    expect(rows).toBe(generated.truth.length);

    // Read back with hyparquet and compare each posture with what the generator meant.
    const read: Record<string, any>[] = [];
    for (const key of lake.keys('curated/')) read.push(...(await readParquet(lake, key)));
    const byPosture = new Map(read.map((r) => [Number(r.posture_id), r]));
    const withId = generated.truth.filter((t) => byPosture.has(t.postureId));
    // Postures whose id the generator wrote as a string still map (string ids are read).
    expect(withId.length).toBe(generated.truth.length);
    for (const truth of generated.truth) {
      const row = byPosture.get(truth.postureId)!;
      expect([Number(row.host_id), Number(row.policy_id), Number(row.control_id), row.posture]).toEqual([
        truth.hostId,
        truth.policyId,
        truth.controlId,
        truth.posture,
      ]);
      expect(row.evaluation_date?.toISOString().replace('.000', '') ?? null).toBe(truth.evaluationDate);
      expect(row.expected_values ?? null).toEqual(truth.expectedValues);
      expect(row.actual_values ?? null).toEqual(truth.actualValues);
      if (Object.keys(truth.malformedDates).length)
        expect(JSON.parse(row.unparsed_values)).toMatchObject(truth.malformedDates);
      else if (row.unparsed_values)
        expect(Object.keys(JSON.parse(row.unparsed_values))).toEqual(['complianceLastScanDate']);
    }
    expect(generated.truth.some((t) => t.evidenceKeySpace)).toBe(true);
    expect(generated.truth.some((t) => Object.keys(t.malformedDates).length)).toBe(true);
  });

  test('GIVEN the output WHEN DuckDB counts it THEN the same rows, per posture status, as the truth', async () => {
    const lake = new MemoryLake();
    for (const file of generated.files) await normalizeObject(source(file.key, file.body), lake, { tmpDir });
    const out = path.join(tmpDir, 'lake');
    for (const key of lake.keys('curated/')) {
      const target = path.join(out, key);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, lake.objects.get(key)!);
    }
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const result = await connection.runAndReadAll(
      `SELECT posture, count(*)::INTEGER, count(DISTINCT host_id)::INTEGER FROM read_parquet('${out}/curated/pc_postures/**/*.parquet', hive_partitioning = true) WHERE day = '2024-05-01' GROUP BY posture ORDER BY posture`,
    );
    const expected = ['Error', 'Failed', 'Passed'].map((p) => {
      const of = generated.truth.filter((t) => t.posture === p);
      return [p, of.length, new Set(of.map((t) => t.hostId)).size];
    });
    expect(result.getRowsJS()).toEqual(expected);
    connection.closeSync();
  });
});

describe('idempotence', () => {
  const { files } = generatePostureFiles({ seed: 7, hosts: 8, files: 2 });

  test('GIVEN a redelivery WHEN normalized twice THEN the same keys with the same rows, no duplicates', async () => {
    const lake = new MemoryLake();
    const first = await normalizeObject(source(files[0].key, files[0].body), lake, { tmpDir });
    const keys = lake.keys();
    const rows = (await readParquet(lake, first.outputs[0])).length;
    const second = await normalizeObject(source(files[0].key, files[0].body), lake, { tmpDir });
    expect(second.outputs).toEqual(first.outputs);
    expect(lake.keys()).toEqual(keys);
    expect((await readParquet(lake, first.outputs[0])).length).toBe(rows);
    expect(JSON.parse((await lake.getText(manifestKey(objectId(BUCKET, files[0].key))))!)).toMatchObject({
      outputs: first.outputs,
      rowsOut: rows,
    });
  });

  test('GIVEN a re-run that no longer produces an output (the day moved) WHEN normalized THEN the old output is deleted', async () => {
    const lake = new MemoryLake();
    const key = 'qualys_pc_posture_info/no-day-folder.json';
    const body = files[0].body;
    const first = await normalizeObject(source(key, body), lake, { tmpDir });
    expect(first.outputs[0]).toContain('day=2024-05-02');
    const moved = await normalizeObject(
      { ...source(key, body), lastModified: new Date('2024-06-01T00:00:00Z') },
      lake,
      { tmpDir },
    );
    expect(moved.outputs[0]).toContain('day=2024-06-01');
    expect(lake.keys('curated/')).toEqual(moved.outputs);
  });
});

describe('quarantine: nothing partial is published', () => {
  const { files } = generatePostureFiles({ seed: 9, hosts: 40, files: 1, shapes: ['ndjson'] });
  const text = gunzipSync(files[0].body).toString('utf8');
  const key = 'qualys_pc_posture_info/2024-05-01/bad.gz';

  test.each([
    ['a truncated gzip', () => gzip(text).subarray(0, 4000), 'truncated-gzip'],
    ['broken JSON in the middle', () => gzip(text.replace('"policy":[', '"policy":[}')), 'invalid-json'],
    ['garbage between records', () => Buffer.from(text.replace('}\n{', '}\n#{')), 'garbage'],
  ])(
    'GIVEN %s (size unknown) WHEN normalized THEN quarantined with the reason, no curated output',
    async (_, body, kind) => {
      const lake = new MemoryLake();
      const result = await normalizeObject(source(key, body(), undefined), lake, { tmpDir });
      expect(result.status).toBe('quarantined');
      expect(lake.keys('curated/')).toEqual([]);
      expect(lake.objects.get(quarantineKey(key))).toEqual(body());
      const reason = JSON.parse((await lake.getText(`${quarantineKey(key)}.reason.json`))!);
      expect(reason).toMatchObject({
        sourceKey: key,
        reason: kind,
        byteOffset: expect.any(Number),
        recordsRead: expect.any(Number),
        when: expect.any(String),
      });
      expect(fs.readdirSync(tmpDir)).toEqual([]);
    },
  );

  test('GIVEN a good output, then a broken redelivery WHEN normalized THEN the good output is kept and the reason says so; a good run later clears the quarantine', async () => {
    const lake = new MemoryLake();
    const good = await normalizeObject(source(key, files[0].body), lake, { tmpDir });
    const broken = await normalizeObject(source(key, files[0].body.subarray(0, 3000), undefined), lake, { tmpDir });
    expect(broken.status).toBe('quarantined');
    expect(lake.keys('curated/')).toEqual(good.outputs);
    expect(JSON.parse((await lake.getText(`${quarantineKey(key)}.reason.json`))!).previousOutputsKept).toEqual(
      good.outputs,
    );
    await normalizeObject(source(key, files[0].body), lake, { tmpDir });
    expect(lake.keys('quarantine/')).toEqual([]);
  });

  test('GIVEN a stream that ends before the stated size WHEN normalized THEN thrown for a retry, not quarantined', async () => {
    const lake = new MemoryLake();
    const body = files[0].body;
    await expect(normalizeObject(source(key, body.subarray(0, 3000), body.length), lake, { tmpDir })).rejects.toThrow(
      SourceReadError,
    );
    expect(lake.keys()).toEqual([]);
  });
});

describe('records that do not map, and keys that are not findings', () => {
  test('GIVEN PC array elements that are not hosts WHEN normalized THEN counted and kept as NDJSON beside the rows', async () => {
    const { hosts } = generatePostureFiles({ seed: 3, hosts: 2, files: 1, shapes: ['array'] });
    const key = 'qualys_pc_posture_info/2024-05-01/mixed.json';
    const lake = new MemoryLake();
    const result = await normalizeObject(
      source(key, Buffer.from(JSON.stringify([hosts[0], 42, 'x', hosts[1]]))),
      lake,
      { tmpDir },
    );
    expect(result).toMatchObject({ status: 'normalized', recordsIn: 4, unmapped: 2 });
    const lines = lake.objects
      .get(`${quarantineKey(key)}.unmapped.ndjson`)!
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.record, l.value, l.reason])).toEqual([
      [1, 42, 'a number, not a host object'],
      [2, 'x', 'a string, not a host object'],
    ]);
    expect(result.outputs).toContain(`${quarantineKey(key)}.unmapped.ndjson`);
  });

  test.each(VM_SHAPES)(
    'GIVEN VM records shaped %s WHEN normalized THEN one row per finding of the truth',
    async (shape) => {
      const { records, truth } = generateVmRecords({ seed: 5, shape, hosts: 6 });
      const key = `qualys_vm_findings/findings/2024-05-01/${shape}.gz`;
      const lake = new MemoryLake();
      const result = await normalizeObject(
        source(key, gzip(serialize(records, records.length === 1 ? 'object' : 'ndjson'))),
        lake,
        { tmpDir },
      );
      expect(result.rowsOut).toBe(truth.length);
      const rows = await readParquet(lake, result.outputs[0]);
      expect(rows.map((r) => [Number(r.host_id), Number(r.qid), r.severity, r.status])).toEqual(
        truth.map((t) => [t.hostId, t.qid, t.severity, t.status]),
      );
      expect(new Set(rows.map((r) => r.record_type))).toEqual(new Set(['findings']));
    },
  );

  test('GIVEN VM records that are not objects WHEN normalized THEN rows with raw, counted as unmapped', async () => {
    const lake = new MemoryLake();
    const result = await normalizeObject(
      source('qualys_vm_findings/2024-05-01/odd.json', Buffer.from('[1, {"qid": 2}, "x"]')),
      lake,
      { tmpDir },
    );
    expect(result).toMatchObject({ rowsOut: 3, unmapped: 2 });
    expect((await readParquet(lake, result.outputs[0])).map((r) => r.raw)).toEqual(['1', '{"qid":2}', '"x"']);
  });

  test('GIVEN a validation file or a key outside the raw prefixes WHEN normalized THEN skipped, nothing written', async () => {
    const lake = new MemoryLake();
    for (const key of ['qualys_pc_posture_info/test-file.json', 'qualys_vm_findings/test-file.gz', 'other/x.json']) {
      const result = await normalizeObject(source(key, Buffer.from('{}')), lake, { tmpDir });
      expect(result.status).toBe('skipped');
    }
    expect(lake.keys()).toEqual([]);
  });

  test('GIVEN an empty file WHEN normalized THEN no Parquet, a manifest with no outputs', async () => {
    const lake = new MemoryLake();
    const result = await normalizeObject(
      source('qualys_pc_posture_info/2024-05-01/empty.json', Buffer.alloc(0)),
      lake,
      { tmpDir },
    );
    expect(result).toMatchObject({ status: 'normalized', rowsOut: 0, outputs: [] });
    expect(lake.keys()).toEqual([manifestKey(objectId(BUCKET, 'qualys_pc_posture_info/2024-05-01/empty.json'))]);
  });
});
