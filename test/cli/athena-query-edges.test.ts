/**
 * `qualys-s3 query` on Athena (the fake Athena, the real SDK) against the same SQL on the local
 * DuckDB engine (independent review, issue 14, second pass): Athena returns every value as a
 * VarCharValue string, and the CLI's cells are meant to be "the same from both engines"
 * (src/cli/query-result.ts), so that `--json` from Athena and from `--local` can be read alike.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { FakeAthena } from '../../sim/fake-athena';
import { runAthenaQuery } from '../../src/cli/athena-query';
import { DUCKDB_TYPES, runLocalQuery } from '../../src/cli/local-query';
import { TABLE_COLUMNS, TABLE_NAMES } from '../../src/core/findings/tables';

let lake: string;
let athena: FakeAthena;
let client: AthenaClient;

beforeAll(async () => {
  lake = fs.mkdtempSync(path.join(os.tmpdir(), 'athena-query-edges-'));
  fs.mkdirSync(path.join(lake, 'pc_postures'));
  const tables = Object.fromEntries(
    TABLE_NAMES.map((t) => [
      t,
      { columns: TABLE_COLUMNS[t].map((c) => ({ name: c.name, type: DUCKDB_TYPES[c.kind] })) },
    ]),
  );
  athena = new FakeAthena({ lake, tables, databases: ['qualys_s3_prod'] });
  athena.putWorkGroup({ name: 'qualys_s3_prod', outputLocation: 's3://results/' });
  client = new AthenaClient({
    endpoint: await athena.start(),
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDATHENA', secretAccessKey: 'athena-test-secret' },
  });
});

afterAll(async () => {
  client.destroy();
  await athena.stop();
  fs.rmSync(lake, { recursive: true, force: true });
});

const onAthena = async (sql: string) =>
  (
    await runAthenaQuery({
      client,
      target: { workGroup: 'qualys_s3_prod', database: 'qualys_s3_prod' },
      sql,
      poll: { firstMs: 1, maxMs: 1 },
    })
  ).result;

describe('typed values: Athena and --local give the same cells', () => {
  test('GIVEN a query answering an array<string> (expected_values, actual_values are such columns) WHEN run on Athena and with --local THEN the cell is the same: Athena\'s text form "[a, b, c]", the only one its results give an array in', async () => {
    // GIVEN: Athena writes an array as Trino's text form, elements joined by ", " without quotes
    // (so an element holding ", " cannot be told apart: README says so); --local prints the same.
    const sql = "SELECT ARRAY['a', 'b, c'] AS values_list, ARRAY['x'] AS one";
    // WHEN
    const [remote, local] = [await onAthena(sql), await runLocalQuery(lake, sql)];
    // THEN
    expect(local.rows).toEqual([['[a, b, c]', '[x]']]);
    expect(remote.rows).toEqual(local.rows);
  });

  test('GIVEN a query answering a DECIMAL WHEN run on Athena and with --local THEN the cell is the same (Athena: the number 1.5; local: the string "1.50")', async () => {
    // GIVEN: a user's SQL computing a rate with a decimal literal (DECIMAL in both engines).
    const sql = 'SELECT CAST(1.5 AS DECIMAL(4,2)) AS rate';
    // WHEN
    const [remote, local] = [await onAthena(sql), await runLocalQuery(lake, sql)];
    // THEN
    expect(remote.rows).toEqual(local.rows);
  });
});
