/** `qualys-s3 normalize` attacked (independent review, issue 14), through main(). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { objectId } from '../../src/core/findings/layout';
import { generatePostureFiles } from '../../sim/findings-generator';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-normalize-edges-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: dir });
  return { code, stdout, stderr };
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

const generated = generatePostureFiles({ seed: 5, hosts: 6, files: 2 });

function writeRaw(root: string): void {
  for (const file of generated.files) {
    const target = path.join(root, file.key);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.body);
  }
}

describe('qualys-s3 normalize, misuse and odd files', () => {
  test('GIVEN --out equal to the input folder WHEN normalized a second time THEN refused (exit 2) or the same tree, never its own outputs read as findings', async () => {
    // GIVEN: a synced folder, normalized into itself once (--out inside the input is excluded; the
    // input itself is not).
    const bucket = path.join(dir, 'bucket');
    writeRaw(bucket);
    await run(['normalize', 'bucket', '--out', 'bucket']);
    const tree = listTree(bucket);
    // WHEN
    const second = await run(['normalize', 'bucket', '--out', 'bucket']);
    // THEN: today its manifests/*.json become vm_findings rows (sniffed as VM) and its own Parquet is
    // quarantined as "unexpected P at byte 0", exit 1; `query --local bucket` then counts manifests as findings.
    if (second.code !== 2) expect(listTree(bucket)).toEqual(tree);
    expect(listTree(bucket).filter((f) => f.startsWith('vm_findings/') || f.startsWith('quarantine/'))).toEqual([]);
  });

  test('GIVEN a folder whose first file holds an id beyond INT64 WHEN normalized THEN the other files are still normalized and the exit is 1, not a usage error', async () => {
    // GIVEN: a.json has a host whose hostId is a 19-digit string above 2^63-1; b.json is a normal file.
    const day = path.join(dir, 'bucket', 'qualys_pc_posture_info', '2024-05-01');
    fs.mkdirSync(day, { recursive: true });
    const host = (hostId: unknown) =>
      JSON.stringify({
        hostId,
        ip: '10.0.0.1',
        policy: [{ id: 1, posture: [{ id: 2, controlId: 3, posture: 'Failed' }] }],
      });
    fs.writeFileSync(path.join(day, 'a.json'), `${host('9999999999999999999')}\n`);
    fs.writeFileSync(path.join(day, 'b.json'), `${host(1001)}\n`);
    // WHEN
    const { code, stderr } = await run(['normalize', 'bucket', '--out', 'lake']);
    // THEN: today the whole run stops at a.json with exit 2 and the usage text
    // ("parquet INT64 value out of range"); b.json is never read, no summary is printed.
    expect(code).not.toBe(2);
    expect(stderr).not.toMatch(/INT64 value out of range/);
    expect(listTree(path.join(dir, 'lake')).filter((f) => f.startsWith('pc_postures/')).length).toBeGreaterThanOrEqual(
      1,
    );
  });

  test('GIVEN --out inside the input folder WHEN normalized THEN a usage error (exit 2) that says why, and nothing written', async () => {
    const bucket = path.join(dir, 'bucket');
    writeRaw(bucket);
    const before = listTree(bucket);
    const { code, stderr } = await run(['normalize', 'bucket', '--out', 'bucket/lake']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/inside the input folder/);
    expect(listTree(bucket)).toEqual(before);
  });

  test('GIVEN a file whose normalization throws (its manifest path is a folder) WHEN the folder is normalized THEN that file is reported failed with its reason, the next file is still read, the summary printed, exit 1', async () => {
    const day = path.join(dir, 'bucket', 'qualys_pc_posture_info', '2024-05-01');
    fs.mkdirSync(day, { recursive: true });
    const host = (hostId: number) =>
      JSON.stringify({
        hostId,
        ip: '10.0.0.1',
        policy: [{ id: 1, posture: [{ id: 2, controlId: 3, posture: 'Failed' }] }],
      });
    fs.writeFileSync(path.join(day, 'a.json'), `${host(1)}\n`);
    fs.writeFileSync(path.join(day, 'b.json'), `${host(2)}\n`);
    // GIVEN: where a.json's manifest goes there is a folder, so reading it fails with EISDIR.
    const blocked = path.join(
      dir,
      'lake',
      'manifests',
      `${objectId('local', 'qualys_pc_posture_info/2024-05-01/a.json')}.json`,
    );
    fs.mkdirSync(path.join(blocked, 'x'), { recursive: true });
    // WHEN
    const { code, stdout } = await run(['normalize', 'bucket', '--out', 'lake']);
    // THEN
    expect(code).toBe(1);
    expect(stdout).toMatch(/a\.json {2}failed: .*EISDIR/);
    expect(stdout).toMatch(/b\.json {2}pc_postures: 1 records -> 1 rows/);
    expect(stdout).toMatch(/files +2: 1 normalized, 0 skipped, 0 quarantined, 1 failed/);
  });
});
