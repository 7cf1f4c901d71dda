/**
 * `qualys-s3 query` both ways: --local on DuckDB over a lake folder (no AWS, no configuration),
 * and on Athena against the fake Athena (the real SDK, AWS_ENDPOINT_URL_ATHENA) with the stack's
 * outputs in the fake CloudFormation. Both run the same named queries over the same lake.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_TYPES, loadDuckDb, runLocalQuery } from '../../src/cli/local-query';
import { main } from '../../src/cli/main';
import { findNamedQuery, renderQuery } from '../../src/core/findings/queries';
import { TABLE_COLUMNS, TABLE_NAMES } from '../../src/core/findings/tables';
import { FakeAthena } from '../../sim/fake-athena';
import { World } from '../support/cli-world';
import { generateLake, type Lake, writeLake } from '../support/findings-lake';

const WORKGROUP = 'qualys-s3-prod';
const DATABASE = 'qualys_s3_prod';

let lakeDir: string;
let lake: Lake;

beforeAll(async () => {
  lakeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-query-lake-'));
  lake = generateLake();
  await writeLake(lakeDir, lake);
});

afterAll(() => fs.rmSync(lakeDir, { recursive: true, force: true }));

/** The CLI run in-process, in a folder with no cdk.json (no configuration anywhere). */
async function cli(args: string[], opts: { cwd?: string; interrupt?: AbortSignal; interactive?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: opts.cwd ?? os.tmpdir(),
    interrupt: opts.interrupt,
    interactive: opts.interactive,
  });
  return { code, stdout, stderr };
}

const parquetBytes = (dir: string) =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .reduce((n, e) => n + fs.statSync(path.join(e.parentPath, e.name)).size, 0);

describe('query --local', () => {
  it('runs a named query on DuckDB with no configuration and prints an aligned table', async () => {
    const run = await cli(['query', '--local', lakeDir, 'compliance-rate']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^policy_id\s+hosts\s+postures\s+passed\s+failed\s+other\s+compliance_pct$/);
    expect(lines[1]).toMatch(/^-+( +-+){6}$/);
    expect(lines.slice(2, 4).map((l) => l.trim().split(/\s+/)[0])).toEqual(['101', '102']);
    expect(lines[4]).toBe('(2 rows)');
    // Columns line up: every row's cells end where the header's do (numbers right-aligned).
    expect(lines[2].length).toBe(lines[0].length);
    expect(run.stderr).toMatch(/local: DuckDB over .*, \d+\.\d s/);
  });

  it('takes the environment name too, and --json gives the columns and rows as the engine answered', async () => {
    const run = await cli(['query', 'prod', 'failing-controls', '--local', lakeDir, '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const doc = JSON.parse(run.stdout);
    const direct = await runLocalQuery(lakeDir, renderQuery(findNamedQuery('failing-controls')!));
    expect(doc).toMatchObject({
      command: 'query',
      ok: true,
      engine: 'local',
      envName: 'prod',
      query: 'failing-controls',
    });
    expect(doc.columns).toEqual(direct.columns);
    expect(doc.rows).toEqual(direct.rows);
    expect(doc.rows.length).toBeGreaterThan(10);
    expect(typeof doc.rows[0][0]).toBe('number');
  });

  it('passes parameters, and refuses a bad one with the reason (exit 2)', async () => {
    const ok = await cli(['query', '--local', lakeDir, 'stale-hosts', '--param', 'days=30', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).rows.length).toBeGreaterThan(0);
    const bad = await cli(['query', '--local', lakeDir, 'stale-hosts', '--param', "days=1' OR '1'='1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--param days is .*whole number of days/);
    const unknown = await cli(['query', '--local', lakeDir, 'failing-controls', '--param', 'since=2024-01-01']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/failing-controls has no parameter "since"/);
  });

  it('runs SQL as given, and cuts long cells in the table but not in --json', async () => {
    const sql =
      "SELECT control_statement, length(control_statement) AS n FROM pc_postures WHERE control_id = 2002 AND day >= '2000-01-01' LIMIT 1";
    const table = await cli(['query', '--local', lakeDir, sql]);
    expect(table.code).toBe(0);
    const row = table.stdout.split('\n')[2];
    expect(row).toMatch(/…/);
    const json = JSON.parse((await cli(['query', '--local', lakeDir, sql, '--json'])).stdout);
    expect(json.rows[0][0].length).toBe(json.rows[0][1]);
    expect(json.rows[0][1]).toBeGreaterThan(60);
  });

  it('names the queries when the one asked for does not exist', async () => {
    const run = await cli(['query', '--local', lakeDir, 'failing-control']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /no named query "failing-control"; the named queries are failing-controls, compliance-rate, changed-since, stale-hosts, vm-by-severity/,
    );
  });

  it('lists the named queries with --list', async () => {
    const run = await cli(['query', '--list', '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.queries.map((q: { name: string }) => q.name)).toEqual([
      'failing-controls',
      'compliance-rate',
      'changed-since',
      'stale-hosts',
      'vm-by-severity',
    ]);
    expect(doc.queries.find((q: { name: string }) => q.name === 'stale-hosts').parameters[0]).toMatchObject({
      name: 'days',
      default: '30',
    });
  });

  it('says what is wrong with a missing folder or bad SQL (exit 1)', async () => {
    const missing = await cli(['query', '--local', path.join(lakeDir, 'nope'), 'failing-controls']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such folder.*qualys-s3 normalize --out/);
    const bad = await cli(['query', '--local', lakeDir, 'SELECT nope FROM pc_postures', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error).toMatchObject({
      type: 'local',
      message: expect.stringMatching(/DuckDB: .*nope/),
    });
  });

  it('says how to install DuckDB when the optional dependency is missing', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@duckdb/node-api'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => loadDuckDb(missing)).toThrow(
      /--local needs DuckDB.*npm install @duckdb\/node-api.*or query on Athena/,
    );
  });

  it('refuses --local with another command', async () => {
    const run = await cli(['status', 'prod', '--local', lakeDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--local goes with query only/);
  });
});

describe('query on Athena', () => {
  let world: World;
  let athena: FakeAthena;
  let config: string;

  const tables = () =>
    Object.fromEntries(
      TABLE_NAMES.map((t) => [
        t,
        { columns: TABLE_COLUMNS[t].map((c) => ({ name: c.name, type: DUCKDB_TYPES[c.kind] })) },
      ]),
    );

  beforeAll(async () => {
    world = await new World().start();
    athena = new FakeAthena({ lake: lakeDir, tables: tables(), databases: [DATABASE] });
    athena.putWorkGroup({
      name: WORKGROUP,
      outputLocation: 's3://qualys-s3-prod-athena-results/',
      bytesScannedCutoffPerQuery: 1_000_000_000,
    });
    process.env.AWS_ENDPOINT_URL_ATHENA = await athena.start();
    config = world.config();
  });

  afterAll(async () => {
    await athena.stop();
    await world.stop();
  });

  beforeEach(() => {
    world.aws.setStackStatus(world.site.STACK, 'UPDATE_COMPLETE');
    world.aws.setStackOutputs(world.site.STACK, {
      AthenaWorkGroup: WORKGROUP,
      GlueDatabase: DATABASE,
      BucketName: 'b',
    });
    athena.clearFaults();
    athena.resetCalls();
  });

  const run = (args: string[], opts: { interrupt?: AbortSignal } = {}) =>
    cli(['query', world.site.ENV, ...args, '--config', config], { cwd: world.dir, ...opts });

  it('runs a named query in the stack workgroup and database, with progress, then the bytes scanned', async () => {
    const result = await run(['compliance-rate']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`athena: workgroup ${WORKGROUP}, database ${DATABASE} \\(eu-west-1\\)`));
    expect(result.stderr).toMatch(/… QUEUED \d+\.\d s, 0 B scanned \(query [0-9a-f-]{36}\)/);
    expect(result.stderr).toMatch(/… RUNNING \d+\.\d s, [\d.]+ KB scanned/);
    const bytes = parquetBytes(path.join(lakeDir, 'pc_postures'));
    expect(result.stderr).toContain(`scanned (${bytes} bytes), query `);
    expect(result.stderr).toMatch(/SUCCEEDED in \d+\.\d s \(engine \d+\.\d s\)/);
    const [query] = athena.queries();
    expect(query).toMatchObject({ workGroup: WORKGROUP, database: DATABASE, state: 'SUCCEEDED' });
    expect(query.sql).toBe(renderQuery(findNamedQuery('compliance-rate')!));
    // The same answer as the local engine (Athena's text forms read back as numbers).
    const local = await cli(['query', '--local', lakeDir, 'compliance-rate']);
    expect(result.stdout).toBe(local.stdout);
  });

  it('gives --json with every row, timestamps as Athena writes them', async () => {
    const { code, stdout } = await run(['failing-controls', '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    const local = await runLocalQuery(lakeDir, renderQuery(findNamedQuery('failing-controls')!));
    expect(doc).toMatchObject({ engine: 'athena', envName: world.site.ENV, columns: local.columns });
    const dateColumn = local.columns.indexOf('evaluation_date');
    expect(doc.rows.map((r: unknown[]) => r[dateColumn])).toEqual(local.rows.map((r) => `${r[dateColumn]}.000`));
    expect(doc.stats.bytesScanned).toBe(parquetBytes(path.join(lakeDir, 'pc_postures')));
    expect(doc.stats.queryExecutionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads every page of a result over 1000 rows, the header row skipped once', async () => {
    const sql =
      'SELECT host_id, policy_id, control_id, instance, day FROM pc_postures ORDER BY day, host_id, policy_id, control_id, instance';
    const { code, stdout } = await run([sql, '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.rows.length).toBe(lake.pc.length);
    expect(lake.pc.length).toBeGreaterThan(1500);
    expect(doc.rows[0]).not.toEqual(['host_id', 'policy_id', 'control_id', 'instance', 'day']);
    expect(athena.callCounts().GetQueryResults).toBe(Math.ceil((lake.pc.length + 1) / 1000));
    expect(new Set(doc.rows.map((r: unknown[]) => JSON.stringify(r))).size).toBeGreaterThan(lake.pc.length / 2);
  });

  it('retries when Athena throttles', async () => {
    athena.inject({ action: 'GetQueryExecution', times: 2 });
    athena.inject({ action: 'StartQueryExecution' });
    const before = athena.queries().length;
    const result = await run(['vm-by-severity']);
    expect(result.code).toBe(0);
    // The retried start made one query (the SDK resends the same ClientRequestToken).
    expect(athena.queries()).toHaveLength(before + 1);
    expect(
      athena.calls
        .filter((c) => c.action === 'GetQueryExecution')
        .slice(0, 2)
        .map((c) => c.status),
    ).toEqual([400, 400]);
    expect(athena.calls.filter((c) => c.action === 'StartQueryExecution').map((c) => c.status)).toEqual([400, 200]);
  });

  it('says why a query failed, with Athena reason (exit 1)', async () => {
    const result = await run(['SELECT nope FROM pc_postures', '--json']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.error).toMatchObject({ type: 'athena-failed', queryExecutionId: expect.any(String) });
    expect(doc.error.message).toMatch(/query [0-9a-f-]{36} FAILED: .*nope/);
  });

  // The documentation calls such a query cancelled; the state seen is FAILED: both are read.
  it.each(['FAILED', 'CANCELLED'] as const)(
    'says the workgroup limit stopped a query (ending %s), and how to raise it',
    async (cutoffState) => {
      const bigLake = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-big-lake-'));
      const big = new FakeAthena({ lake: bigLake, tables: tables(), databases: [DATABASE], cutoffState });
      try {
        const folder = path.join(bigLake, 'vm_findings', 'day=2026-01-01');
        fs.mkdirSync(folder, { recursive: true });
        const instance = await DuckDBInstance.create(':memory:');
        const connection = await instance.connect();
        await connection.run(
          `COPY (SELECT CAST(i AS BIGINT) AS host_id, md5(CAST(i AS VARCHAR)) || md5(CAST(-i AS VARCHAR)) AS raw FROM range(400000) AS t(i)) TO '${folder}/big.parquet' (FORMAT parquet)`,
        );
        connection.closeSync();
        instance.closeSync();
        const cutoff = 10_000_000;
        expect(parquetBytes(bigLake)).toBeGreaterThan(cutoff);
        big.putWorkGroup({ name: WORKGROUP, outputLocation: 's3://results/', bytesScannedCutoffPerQuery: cutoff });
        process.env.AWS_ENDPOINT_URL_ATHENA = await big.start();

        const text = await run(['vm-by-severity']);
        expect(text.code).toBe(1);
        expect(text.stderr).toMatch(
          new RegExp(
            `the workgroup ${WORKGROUP} stopped query [0-9a-f-]{36} at its bytes-scanned limit after 9.54 MB \\(Athena: .*Bytes scanned limit was exceeded\\)`,
          ),
        );
        expect(text.stderr).toMatch(/raise the limit: set analytics.bytesScannedLimitMb for this environment/);
        expect(text.stdout).toBe('');
        const json = JSON.parse((await run(['vm-by-severity', '--json'])).stdout);
        expect(json.error).toMatchObject({ type: 'athena-cutoff', bytesScanned: cutoff });
        // A query that names only the small table is under the limit.
        expect((await run(['failing-controls'])).code).toBe(0);
      } finally {
        process.env.AWS_ENDPOINT_URL_ATHENA = athena.url;
        await big.stop();
        fs.rmSync(bigLake, { recursive: true, force: true });
      }
    },
  );

  it('stops the query in Athena on Ctrl-C', async () => {
    const slow = new FakeAthena({
      lake: lakeDir,
      tables: tables(),
      databases: [DATABASE],
      polls: { queued: 1, running: 1000 },
    });
    slow.putWorkGroup({ name: WORKGROUP, outputLocation: 's3://results/' });
    process.env.AWS_ENDPOINT_URL_ATHENA = await slow.start();
    try {
      const controller = new AbortController();
      const running = run(['failing-controls'], { interrupt: controller.signal });
      while (!slow.queries().some((q) => q.state === 'RUNNING')) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      const result = await running;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/interrupted: query [0-9a-f-]{36} was stopped in Athena/);
      expect(slow.callCounts().StopQueryExecution).toBe(1);
      expect(slow.queries()[0].state).toBe('CANCELLED');
    } finally {
      process.env.AWS_ENDPOINT_URL_ATHENA = athena.url;
      await slow.stop();
    }
  });

  it('says when the stack has no analytics outputs, or there is no stack', async () => {
    world.aws.setStackOutputs(world.site.STACK, { BucketName: 'b' });
    const noOutputs = await run(['failing-controls']);
    expect(noOutputs.code).toBe(1);
    expect(noOutputs.stderr).toMatch(
      /has no AthenaWorkGroup or GlueDatabase output: analytics is not deployed.*"analytics": \{ "enabled": true \}/,
    );
    world.aws.setStackStatus(world.site.STACK, 'DELETE_COMPLETE');
    const noStack = await run(['failing-controls']);
    expect(noStack.code).toBe(1);
    expect(noStack.stderr).toMatch(/no stack QualysS3-prod in eu-west-1/);
    expect(athena.calls).toHaveLength(0);
  });

  it('passes on Athena refusal of a workgroup that does not exist', async () => {
    world.aws.setStackOutputs(world.site.STACK, { AthenaWorkGroup: 'gone', GlueDatabase: DATABASE });
    const result = await run(['failing-controls']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Athena: WorkGroup gone is not found/);
  });

  it('needs the configuration without --local', async () => {
    const result = await cli(['query', 'prod', 'failing-controls'], {
      cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'no-config-')),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no cdk.json .* or query a local folder with --local <folder>/);
  });
});
