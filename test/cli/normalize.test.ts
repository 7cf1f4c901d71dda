/** `qualys-s3 normalize`: a synced folder or a lone file to the local lake layout, through main(). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { main } from '../../src/cli/main';
import { generatePostureFiles, generateVmRecords, gzip, serialize } from '../../sim/findings-generator';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-normalize-'));
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

const generated = generatePostureFiles({ seed: 21, hosts: 20, files: 5 });
const vm = generateVmRecords({ seed: 2, shape: 'flat-upper', hosts: 5 });

function writeBucket(): string {
  const bucket = path.join(dir, 'bucket');
  for (const file of generated.files) {
    const target = path.join(bucket, file.key);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.body);
  }
  const vmKey = path.join(bucket, 'qualys_vm_findings/findings/2024-05-01/v.gz');
  fs.mkdirSync(path.dirname(vmKey), { recursive: true });
  fs.writeFileSync(vmKey, gzip(serialize(vm.records, 'ndjson')));
  fs.writeFileSync(path.join(bucket, 'qualys_pc_posture_info/test-file.json'), '{"test":true}');
  return bucket;
}

describe('qualys-s3 normalize', () => {
  test('GIVEN a folder synced from the bucket WHEN normalized THEN the lake layout, the counts and throughput printed', async () => {
    const bucket = writeBucket();
    const { code, stdout } = await run(['normalize', bucket, '--out', 'lake']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/files +7: 6 normalized, 1 skipped, 0 quarantined/);
    expect(stdout).toContain(`rows out     ${generated.truth.length + vm.truth.length}`);
    expect(stdout).toMatch(/throughput +[\d.]+ MB\/s of JSON/);
    const tree = listTree(path.join(dir, 'lake'));
    expect(
      tree
        .filter((f) => f.endsWith('.parquet'))
        .every((f) => /^(pc_postures|vm_findings)\/day=2024-05-01\/[0-9a-f]{32}\.parquet$/.test(f)),
    ).toBe(true);
    expect(tree.filter((f) => f.startsWith('vm_findings/'))).toHaveLength(1);
    expect(tree.filter((f) => f.startsWith('manifests/'))).toHaveLength(6);

    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const lake = path.join(dir, 'lake');
    const counts = await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM read_parquet('${lake}/pc_postures/*/*.parquet'))::INTEGER, (SELECT count(*) FROM read_parquet('${lake}/vm_findings/*/*.parquet'))::INTEGER`,
    );
    expect(counts.getRowsJS()).toEqual([[generated.truth.length, vm.truth.length]]);
    connection.closeSync();
  });

  test('GIVEN the same folder twice WHEN normalized THEN the same files (no duplicates)', async () => {
    const bucket = writeBucket();
    await run(['normalize', bucket, '--out', 'lake']);
    const before = listTree(path.join(dir, 'lake'));
    expect((await run(['normalize', bucket, '--out', 'lake'])).code).toBe(0);
    expect(listTree(path.join(dir, 'lake'))).toEqual(before);
  });

  test('GIVEN --json WHEN normalized THEN one document with the totals and each file', async () => {
    const bucket = writeBucket();
    const { code, stdout } = await run([
      'normalize',
      path.join(bucket, 'qualys_pc_posture_info'),
      '--out',
      'lake',
      '--json',
    ]);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({
      command: 'normalize',
      exitCode: 0,
      normalized: 5,
      skipped: 1,
      rowsOut: generated.truth.length,
    });
    // From the raw prefix on, even though a subfolder was named: the keys are the bucket's.
    expect(doc.files.map((f: any) => f.sourceKey).sort()).toEqual(
      [...generated.files.map((f) => f.key), 'qualys_pc_posture_info/test-file.json'].sort(),
    );
  });

  test('GIVEN a lone file under no raw prefix WHEN normalized THEN its table comes from its content, or --table', async () => {
    const file = path.join(dir, 'download.gz');
    fs.writeFileSync(file, generated.files[0].body);
    const inferred = await run(['normalize', file, '--out', 'lake', '--json']);
    expect(JSON.parse(inferred.stdout).files[0]).toMatchObject({
      table: 'pc_postures',
      status: 'normalized',
      sourceKey: 'download.gz',
    });
    const forced = await run(['normalize', file, '--out', 'lake2', '--table', 'vm_findings', '--json']);
    expect(JSON.parse(forced.stdout).files[0]).toMatchObject({ table: 'vm_findings' });
    const vmFile = path.join(dir, 'vm.json');
    fs.writeFileSync(vmFile, serialize(vm.records, 'array'));
    expect(JSON.parse((await run(['normalize', vmFile, '--out', 'lake3', '--json'])).stdout).files[0].table).toBe(
      'vm_findings',
    );
  });

  test('GIVEN a broken file WHEN normalized THEN exit 1, the file under <out>/quarantine with its reason', async () => {
    const bucket = path.join(dir, 'bucket', 'qualys_pc_posture_info', '2024-05-01');
    fs.mkdirSync(bucket, { recursive: true });
    fs.writeFileSync(path.join(bucket, 'bad.gz'), generated.files[1].body.subarray(0, 200));
    const { code, stdout } = await run(['normalize', path.join(dir, 'bucket'), '--out', 'lake']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✖ .*bad\.gz +quarantined: the gzip stream ends early/);
    expect(listTree(path.join(dir, 'lake'))).toEqual([
      'quarantine/qualys_pc_posture_info/2024-05-01/bad.gz',
      'quarantine/qualys_pc_posture_info/2024-05-01/bad.gz.reason.json',
    ]);
  });

  test('GIVEN no --out, no path, a bad --table or a missing path WHEN run THEN exit 2 with what to do', async () => {
    expect((await run(['normalize', 'x'])).stderr).toMatch(/needs --out <folder>/);
    expect((await run(['normalize', '--out', 'o'])).stderr).toMatch(/needs a file or folder/);
    expect((await run(['normalize', 'x', '--out', 'o', '--table', 'hosts'])).stderr).toMatch(
      /--table takes pc_postures or vm_findings/,
    );
    const missing = await run(['normalize', 'nope', '--out', 'o']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope: no such file or folder/);
    expect((await run(['status', 'prod', '--out', 'o'])).stderr).toMatch(/go with normalize only/);
  });

  test('GIVEN normalize --help WHEN run THEN its own help, exit 0', async () => {
    const { code, stdout } = await run(['normalize', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Usage: qualys-s3 normalize <file-or-folder> --out <folder>/);
  });
});
