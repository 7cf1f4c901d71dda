/**
 * vm-by-severity's "latest record" against a re-sent finding whose newer delivery has a date that
 * does not parse (independent review, issue 14, second pass). The PC queries were fixed for the
 * same case (coalesce(evaluation_date, day)); the VM query orders by last_found NULLS LAST.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLocalQuery } from '../../../src/cli/local-query';
import { normalizeFiles } from '../../../src/cli/normalize';
import { findNamedQuery, renderQuery } from '../../../src/core/findings/queries';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queries-vm-edges-'));
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

describe('vm-by-severity', () => {
  test("GIVEN a finding Active on day 1 and re-sent Fixed on day 2 with a lastFound that does not parse (as the guide's '...T10:49:432') WHEN vm-by-severity runs THEN it is one Fixed finding (day 2's record is its latest), not Active", async () => {
    // GIVEN
    const finding = { hostId: 1001, qid: 38170, port: 443, protocol: 'tcp', severity: 4, type: 'Confirmed' };
    const lake = await lakeOf({
      'qualys_vm_findings/2024-05-01/a.json': JSON.stringify({
        ...finding,
        status: 'Active',
        lastFound: '2024-05-01T10:49:43Z',
      }),
      'qualys_vm_findings/2024-05-02/b.json': JSON.stringify({
        ...finding,
        status: 'Fixed',
        lastFound: '2024-05-02T10:49:432',
      }),
    });
    // WHEN
    const result = await runLocalQuery(lake, renderQuery(findNamedQuery('vm-by-severity')!));
    // THEN
    const rows = result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
    expect(rows).toEqual([{ severity: 4, status: 'Fixed', findings: 1, hosts: 1, qids: 1 }]);
  });
});
