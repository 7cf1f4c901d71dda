/** Rows to Parquet: the kinds' types as DuckDB and hyparquet read them, row groups bounded by rows and bytes. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { ParquetFileWriter } from '../../../src/core/findings/parquet';
import { VM_FINDING_COLUMNS, type Row } from '../../../src/core/findings/tables';

const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parquet-test-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function vmRow(i: number, overrides: Partial<Row> = {}): Row {
  const row: Row = Object.fromEntries(VM_FINDING_COLUMNS.map((c) => [c.name, null]));
  return {
    ...row,
    host_id: BigInt(i),
    qid: 9_000_000_000n + BigInt(i),
    severity: i % 5,
    raw: `{"i":${i}}`,
    source_key: 'k',
    last_found: new Date(Date.UTC(2024, 4, 1, 0, 0, i)),
    ...overrides,
  };
}

describe('Parquet types', () => {
  test('GIVEN each kind WHEN written THEN DuckDB reads BIGINT, INTEGER, VARCHAR, TIMESTAMP and VARCHAR[] with the values', async () => {
    const file = path.join(dir, 'pc.parquet');
    const writer = new ParquetFileWriter('pc_postures', file);
    await writer.add({
      host_id: 1n,
      policy_id: 2,
      posture: 'Failed',
      evaluation_date: new Date('2024-05-01T10:00:00Z'),
      expected_values: ['a', 'b'],
      actual_values: [],
    });
    await writer.add({ host_id: null, posture: null, evaluation_date: null, expected_values: null });
    expect(await writer.finish()).toMatchObject({ rows: 2 });

    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const described = await connection.runAndReadAll(
      `DESCRIBE SELECT host_id, policy_id, posture, evaluation_date, expected_values, actual_values FROM read_parquet('${file}')`,
    );
    expect(described.getRowsJS().map((r) => [r[0], r[1]])).toEqual([
      ['host_id', 'BIGINT'],
      ['policy_id', 'BIGINT'],
      ['posture', 'VARCHAR'],
      ['evaluation_date', 'TIMESTAMP'],
      ['expected_values', 'VARCHAR[]'],
      ['actual_values', 'VARCHAR[]'],
    ]);
    const rows = await connection.runAndReadAll(
      `SELECT host_id, posture, strftime(evaluation_date, '%Y-%m-%dT%H:%M:%S'), expected_values, len(actual_values) FROM read_parquet('${file}')`,
    );
    expect(rows.getRowsJS()).toEqual([
      [1n, 'Failed', '2024-05-01T10:00:00', ['a', 'b'], 0n],
      [null, null, null, null, null],
    ]);
    connection.closeSync();

    const objects = await parquetReadObjects({ file: await asyncBufferFromFile(file), compressors });
    expect(objects[0]).toMatchObject({
      host_id: 1n,
      posture: 'Failed',
      evaluation_date: new Date('2024-05-01T10:00:00Z'),
      expected_values: ['a', 'b'],
    });
    expect(objects[1].host_id).toBeNull();
  });

  test('GIVEN an int column WHEN written THEN INT32 (DuckDB INTEGER)', async () => {
    const file = path.join(dir, 'vm.parquet');
    const writer = new ParquetFileWriter('vm_findings', file);
    await writer.add(vmRow(1));
    await writer.finish();
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const described = await connection.runAndReadAll(
      `DESCRIBE SELECT severity, port, qid FROM read_parquet('${file}')`,
    );
    expect(described.getRowsJS().map((r) => r[1])).toEqual(['INTEGER', 'INTEGER', 'BIGINT']);
    connection.closeSync();
  });

  test('GIVEN a value of the wrong type WHEN added THEN an error that names the column', async () => {
    const writer = new ParquetFileWriter('vm_findings', path.join(dir, 'x.parquet'));
    await expect(writer.add({ ...vmRow(1), severity: 'high' })).rejects.toThrow(
      /column severity \(int\) cannot hold string/,
    );
  });
});

describe('row groups', () => {
  test('GIVEN more rows than a row group holds WHEN written THEN several row groups, every row kept in order', async () => {
    const file = path.join(dir, 'rows.parquet');
    const writer = new ParquetFileWriter('vm_findings', file, { rowGroupRows: 100 });
    for (let i = 0; i < 350; i++) await writer.add(vmRow(i));
    expect(await writer.finish()).toMatchObject({ rows: 350 });
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([100, 100, 100, 50]);
    const objects = await parquetReadObjects({ file: buffer, compressors, columns: ['host_id'] });
    expect(objects.map((o) => Number(o.host_id))).toEqual([...Array(350).keys()]);
  });

  test('GIVEN big values WHEN written THEN a row group closes on buffered bytes before the row count', async () => {
    const file = path.join(dir, 'bytes.parquet');
    const writer = new ParquetFileWriter('vm_findings', file, { rowGroupRows: 1_000_000, rowGroupBytes: 100_000 });
    for (let i = 0; i < 50; i++) await writer.add(vmRow(i, { raw: 'x'.repeat(10_000) }));
    await writer.finish();
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
    expect(metadata.row_groups.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...metadata.row_groups.map((g) => Number(g.num_rows)))).toBeLessThanOrEqual(10);
  });

  test('GIVEN options given as undefined WHEN written THEN the defaults hold (row groups still close on bytes)', async () => {
    const file = path.join(dir, 'defaults.parquet');
    const writer = new ParquetFileWriter('vm_findings', file, { rowGroupBytes: undefined, rowGroupRows: undefined });
    for (let i = 0; i < 40; i++) await writer.add(vmRow(i, { raw: 'x'.repeat(1024 * 1024) }));
    await writer.finish();
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
    expect(metadata.row_groups.length).toBeGreaterThanOrEqual(4);
  });

  test('GIVEN no rows WHEN finished THEN no file; GIVEN abort THEN the temp file is gone', async () => {
    const empty = new ParquetFileWriter('vm_findings', path.join(dir, 'empty.parquet'));
    expect(await empty.finish()).toEqual({ rows: 0, bytes: 0 });
    expect(fs.existsSync(path.join(dir, 'empty.parquet'))).toBe(false);
    const aborted = new ParquetFileWriter('vm_findings', path.join(dir, 'aborted.parquet'), { rowGroupRows: 1 });
    await aborted.add(vmRow(1));
    expect(fs.existsSync(path.join(dir, 'aborted.parquet'))).toBe(true);
    aborted.abort();
    expect(fs.existsSync(path.join(dir, 'aborted.parquet'))).toBe(false);
  });
});
