/**
 * The named queries on DuckDB over what the real normalizer writes (qualys-s3 normalize's
 * normalizeFiles over raw files in the bucket's layout), checked against answers computed here
 * from the generated records themselves.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLocalQuery } from '../../../src/cli/local-query';
import { normalizeFiles } from '../../../src/cli/normalize';
import type { QueryResult } from '../../../src/cli/query-result';
import { findNamedQuery, renderQuery } from '../../../src/core/findings/queries';
import { generateVmRecords, PostureGenerator, serialize } from '../../../sim/findings-generator';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queries-edges-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Raw files at their bucket keys, normalized into <dir>/lake by the real normalizer. */
async function lakeOf(files: Record<string, string>): Promise<string> {
  const bucket = path.join(dir, 'bucket');
  for (const [key, text] of Object.entries(files)) {
    const file = path.join(bucket, ...key.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  const out = path.join(dir, 'lake');
  const report = await normalizeFiles({ input: bucket, out, print: () => {} });
  expect(report.quarantined).toBe(0);
  return out;
}

async function run(lake: string, name: string, params: Record<string, string> = {}): Promise<QueryResult> {
  const query = findNamedQuery(name);
  if (!query) throw new Error(`no query ${name}`);
  return runLocalQuery(lake, renderQuery(query, params));
}

const objects = (result: QueryResult) =>
  result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));

describe('vm-by-severity', () => {
  test('GIVEN findings under findings/<day>/ and the vulnerability information Qualys sends under vuln_info/vm (sendVulnInfo) WHEN vm-by-severity runs THEN it counts the findings only, not the knowledge-base entries', async () => {
    // GIVEN: the generator's findings, and one vuln_info record per QID they name (QID, severity,
    // title: what a knowledge-base entry holds; no host, no status).
    const vm = generateVmRecords({ seed: 3, shape: 'flat-camel', hosts: 4 });
    const qids = [...new Set(vm.truth.map((t) => t.qid))];
    const vulnInfo = qids.map((qid) => ({ qid, severity: 4, title: `Vulnerability ${qid}`, category: 'General' }));
    const lake = await lakeOf({
      'qualys_vm_findings/findings/2024-05-01/5d1c0a2e.json': serialize(vm.records, 'ndjson'),
      'qualys_vm_findings/vuln_info/vm/9f3e77b1.json': serialize(vulnInfo, 'ndjson'),
    });

    // WHEN
    const rows = objects(await run(lake, 'vm-by-severity'));

    // THEN: the findings, by severity and status, as the generator made them; nothing else.
    const expected = new Map<string, number>();
    for (const f of vm.truth)
      expected.set(`${f.severity}|${f.status}`, (expected.get(`${f.severity}|${f.status}`) ?? 0) + 1);
    const got = new Map(rows.map((r) => [`${r.severity}|${r.status}`, r.findings as number]));
    expect(rows.reduce((n, r) => n + (r.findings as number), 0)).toBe(vm.truth.length);
    expect(got).toEqual(expected);
  });
});

describe('failing-controls', () => {
  test("GIVEN a control that failed on day 1 and passes in day 2's delivery, whose evaluationDate is malformed as in the guide's sample WHEN failing-controls runs THEN the control is not listed (day 2's delivery is its current state)", async () => {
    // GIVEN: one host of the generator, its postures delivered on 2024-05-01; on 2024-05-02 the
    // same host is delivered again, every posture now Passed, one evaluation a day later, and
    // one posture's evaluationDate written the way the guide's own sample writes a date
    // ("2023-01-16T10:49:432": seconds and a stray digit).
    const generator = new PostureGenerator({ seed: 11, quirkRate: 0, day: '2024-05-01' });
    const day1 = generator.nextHost().record as { policy: { id: number; posture: Record<string, unknown>[] }[] };
    const target = day1.policy[0].posture[0];
    target.posture = 'Failed';
    const day2 = structuredClone(day1);
    for (const policy of day2.policy)
      for (const posture of policy.posture) {
        posture.lastPosture = posture.posture;
        posture.posture = 'Passed';
        posture.evaluationDate = '2024-05-02T10:49:43Z';
        posture.postureModifiedDate = '2024-05-02T10:49:43Z';
      }
    day2.policy[0].posture[0].evaluationDate = '2024-05-02T10:49:432';
    const lake = await lakeOf({
      'qualys_pc_posture_info/2024-05-01/0b8f2c6a.json': serialize([day1], 'ndjson'),
      'qualys_pc_posture_info/2024-05-02/7e41d9c3.json': serialize([day2], 'ndjson'),
    });

    // WHEN
    const failing = objects(await run(lake, 'failing-controls'));

    // THEN: nothing fails now: every posture of the latest delivery is Passed.
    expect(failing.map((r) => `${r.policy_id}|${r.control_id}`)).toEqual([]);
  });
});
