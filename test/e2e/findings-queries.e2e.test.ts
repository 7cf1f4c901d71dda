/**
 * The issue's promise end to end, as a user runs it: generated posture files in the guide's
 * shape (two days' deliveries of the same hosts, every file shape, gzip and not) through
 * `qualys-s3 normalize`, then each named query through `qualys-s3 query --local --json` on
 * DuckDB; each answer checked against one computed here, in plain JS, from the generator's own
 * records (never from the normalizer's output).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePostureFiles } from '../../sim/findings-generator';
import { main } from '../../src/cli/main';

const DAYS = ['2024-05-01', '2024-05-02'] as const;
let root: string;
let lake: string;

interface Posture {
  host: number;
  policy: number;
  control: number;
  instance: string;
  posture: string;
  evaluation: string;
  modified: string;
  day: string;
}
const postures: Posture[] = [];

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: root });
  return { code, out, err };
}

async function query(name: string, ...params: string[]): Promise<{ columns: string[]; rows: unknown[][] }> {
  const { code, out, err } = await cli(
    'query',
    name,
    '--local',
    lake,
    '--json',
    ...params.flatMap((p) => ['--param', p]),
  );
  expect({ code, err }).toEqual({ code: 0, err: '' });
  return JSON.parse(out) as { columns: string[]; rows: unknown[][] };
}

/** Rows as objects keyed by column. */
function records(result: { columns: string[]; rows: unknown[][] }): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

/** The latest posture per host x policy x control x instance, from the generator's records. */
function latest(): Posture[] {
  const byKey = new Map<string, Posture>();
  for (const p of postures) {
    const key = `${p.host}/${p.policy}/${p.control}/${p.instance}`;
    const seen = byKey.get(key);
    if (!seen || p.evaluation > seen.evaluation || (p.evaluation === seen.evaluation && p.day > seen.day))
      byKey.set(key, p);
  }
  return [...byKey.values()];
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-queries-'));
  const raw = path.join(root, 'raw');
  lake = path.join(root, 'lake');
  for (const [i, day] of DAYS.entries()) {
    // 80 hosts on the first day, the first 50 of them again on the second (re-sent, postures
    // changed); no quirks, so every date parses.
    const { files, hosts } = generatePostureFiles({
      seed: 41 + i,
      hosts: i === 0 ? 80 : 50,
      files: 10,
      day,
      quirkRate: 0,
    });
    for (const f of files) {
      const file = path.join(raw, f.key);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, f.body);
    }
    for (const host of hosts as Array<{ hostId: number; policy?: Array<{ id: number; posture: any[] }> | null }>) {
      for (const policy of host.policy ?? []) {
        for (const p of policy.posture) {
          postures.push({
            host: host.hostId,
            policy: policy.id,
            control: p.controlId,
            instance: p.instance,
            posture: p.posture,
            evaluation: p.evaluationDate,
            modified: p.postureModifiedDate,
            day,
          });
        }
      }
    }
  }
  const normalized = await cli('normalize', raw, '--out', lake, '--json');
  expect(normalized.code).toBe(0);
  expect(postures.length).toBeGreaterThan(1000);
}, 120_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('GIVEN two days of re-sent postures WHEN failing-controls runs THEN exactly the controls whose latest posture is Failed', async () => {
  const expected = latest()
    .filter((p) => p.posture === 'Failed')
    .map((p) => `${p.host}/${p.policy}/${p.control}/${p.instance}`)
    .sort();
  const got = records(await query('failing-controls'))
    .map((r) => `${r.host_id}/${r.policy_id}/${r.control_id}/${r.instance}`)
    .sort();
  expect(got.length).toBeGreaterThan(0);
  expect(got).toEqual(expected);
});

test('GIVEN the same lake WHEN compliance-rate runs THEN per policy the passed, failed and other counts of the latest postures and the rate', async () => {
  const perPolicy = new Map<number, { passed: number; failed: number; other: number; hosts: Set<number> }>();
  for (const p of latest()) {
    const entry = perPolicy.get(p.policy) ?? { passed: 0, failed: 0, other: 0, hosts: new Set<number>() };
    if (p.posture === 'Passed') entry.passed++;
    else if (p.posture === 'Failed') entry.failed++;
    else entry.other++;
    entry.hosts.add(p.host);
    perPolicy.set(p.policy, entry);
  }
  const expected = [...perPolicy.entries()]
    .map(([policy, e]) => ({
      policy_id: policy,
      hosts: e.hosts.size,
      passed: e.passed,
      failed: e.failed,
      other: e.other,
      compliance_pct: Math.round((10000 * e.passed) / (e.passed + e.failed)) / 100,
    }))
    .sort((a, b) => a.policy_id - b.policy_id);
  const got = records(await query('compliance-rate'))
    .map(({ policy_id, hosts, passed, failed, other, compliance_pct }) => ({
      policy_id,
      hosts,
      passed,
      failed,
      other,
      compliance_pct,
    }))
    .sort((a, b) => Number(a.policy_id) - Number(b.policy_id));
  expect(got).toEqual(expected);
});

test('GIVEN the same lake WHEN changed-since runs from the second day THEN the latest postures modified on or after it', async () => {
  const since = DAYS[1];
  const expected = latest()
    .filter((p) => p.modified.slice(0, 10) >= since)
    .map((p) => `${p.host}/${p.policy}/${p.control}/${p.instance}`)
    .sort();
  const got = records(await query('changed-since', `since=${since}`))
    .map((r) => `${r.host_id}/${r.policy_id}/${r.control_id}/${r.instance}`)
    .sort();
  expect(got).toEqual(expected);
});

test('GIVEN hosts last evaluated on either day WHEN stale-hosts runs with N = the days since the second THEN exactly the hosts last evaluated before it', async () => {
  const lastEvaluated = new Map<number, string>();
  for (const p of postures) {
    if ((lastEvaluated.get(p.host) ?? '') < p.evaluation) lastEvaluated.set(p.host, p.evaluation);
  }
  const today = new Date().toISOString().slice(0, 10);
  const days = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000);
  const n = days(DAYS[1], today);
  const expected = [...lastEvaluated.entries()]
    .filter(([, at]) => days(at.slice(0, 10), today) > n)
    .map(([host]) => host)
    .sort((a, b) => a - b);
  const got = records(await query('stale-hosts', `days=${n}`))
    .map((r) => Number(r.host_id))
    .sort((a, b) => a - b);
  expect(expected.length).toBeGreaterThan(0);
  expect(expected.length).toBeLessThan(lastEvaluated.size);
  expect(got).toEqual(expected);
});
