/** `qualys-s3 query --local`: misuse a user would hit, through main(). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { normalizeFiles } from '../../src/cli/normalize';
import { PostureGenerator, serialize } from '../../sim/findings-generator';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'query-edges-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: os.tmpdir() });
  return { code, stdout, stderr };
}

/** A local lake with one host's postures (some Failed), written by the real normalizer. */
async function normalizedLake(): Promise<string> {
  const generator = new PostureGenerator({ seed: 5, quirkRate: 0, day: '2024-05-01' });
  const hosts = Array.from({ length: 3 }, () => generator.nextHost().record);
  const raw = path.join(dir, 'bucket', 'qualys_pc_posture_info', '2024-05-01', 'a1b2c3d4.json');
  fs.mkdirSync(path.dirname(raw), { recursive: true });
  fs.writeFileSync(raw, serialize(hosts, 'ndjson'));
  const out = path.join(dir, 'lake');
  await normalizeFiles({ input: path.join(dir, 'bucket'), out, print: () => {} });
  return out;
}

describe('--param', () => {
  test.each([
    ['an empty lake', false],
    ['a lake with postures', true],
  ])(
    'GIVEN %s WHEN changed-since is given a day that does not exist (--param since=2024-02-30) THEN a usage error (exit 2) naming the parameter, as backfill does for --from',
    async (_, withData) => {
      // GIVEN
      const lake = withData ? await normalizedLake() : fs.mkdtempSync(path.join(dir, 'empty-'));
      // WHEN: the day matches the parameter's pattern (month 02, day 30) but is no calendar day.
      const run = await cli(['query', '--local', lake, 'changed-since', '--param', 'since=2024-02-30']);
      // THEN: refused before any engine runs (today: an empty answer with exit 0 on an empty
      // lake, DuckDB's "Conversion Error" with exit 1 on a full one; on Athena, a query that fails there).
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
      expect(run.stderr).toMatch(/since.*2024-02-30/);
    },
  );
});

describe('--local <folder>', () => {
  test('GIVEN a folder synced from the lake bucket (aws s3 sync: curated/pc_postures/day=.../*.parquet) WHEN a named query runs on it THEN it reads those postures or says it found no table; never an empty answer with exit 0', async () => {
    // GIVEN: the normalizer's output in the lake bucket's own layout (curated/<table>/...), as
    // `aws s3 sync s3://<LakeBucketName> ./synced` gives it.
    const lake = await normalizedLake();
    const synced = path.join(dir, 'synced');
    fs.mkdirSync(path.join(synced, 'curated'), { recursive: true });
    fs.renameSync(path.join(lake, 'pc_postures'), path.join(synced, 'curated', 'pc_postures'));
    const normalizedRows = await cli(['query', '--local', path.join(synced, 'curated'), 'compliance-rate', '--json']);
    expect(normalizedRows.code).toBe(0);
    expect(JSON.parse(normalizedRows.stdout).rows.length).toBeGreaterThan(0);

    // WHEN
    const run = await cli(['query', '--local', synced, 'compliance-rate', '--json']);

    // THEN
    const doc = JSON.parse(run.stdout);
    if (run.code === 0) expect(doc.rows.length).toBeGreaterThan(0);
    else expect(doc.error.message).toMatch(/pc_postures|vm_findings/);
  });

  test.each([
    ['an empty folder', [] as string[]],
    ['a copy of the raw findings bucket', ['qualys_pc_posture_info/2024-05-01']],
    ['a lake bucket copy with nothing curated yet', ['quarantine', 'manifests']],
  ])(
    'GIVEN %s (no pc_postures/ or vm_findings/, in it or in its curated/) WHEN a named query runs on it THEN a usage error (exit 2) saying what was expected, not an empty answer',
    async (_, folders) => {
      // GIVEN
      const folder = path.join(dir, 'not-a-lake');
      fs.mkdirSync(folder);
      for (const sub of folders) fs.mkdirSync(path.join(folder, sub), { recursive: true });
      // WHEN
      const text = await cli(['query', '--local', folder, 'failing-controls']);
      const json = await cli(['query', '--local', folder, 'failing-controls', '--json']);
      // THEN
      expect({ code: text.code, stdout: text.stdout }).toEqual({ code: 2, stdout: '' });
      expect(text.stderr).toMatch(
        /no lake here, no pc_postures\/ or vm_findings\/ folder, neither in it nor in its curated\//,
      );
      expect(text.stderr).toMatch(/qualys-s3 normalize --out.*aws s3 sync/);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout).error).toMatchObject({
        type: 'usage',
        message: expect.stringMatching(/not-a-lake/),
      });
    },
  );
});
