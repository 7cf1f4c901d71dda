/**
 * `qualys-s3 status` against AWS faults and missing pieces; and one real process (`--json`).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { check, expectNoSecrets, expectWellFormed, DEV_SITE, useCliWorld } from '../support/cli-world';

const { STACK, USER } = DEV_SITE;

const w = useCliWorld({ site: DEV_SITE });

async function status(file = w.config()) {
  const out = await w.json(['status', 'dev', '--config', file]);
  expectWellFormed(out.doc);
  expectNoSecrets(w, out.run);
  expect(out.run.stderr).toBe('');
  return out;
}

test('GIVEN no deployed stack WHEN status runs THEN the stack check fails with a remedy to deploy, exit 1', async () => {
  const { code, doc } = await status();
  const c = check(doc, 'stack');
  expect(c.status).toBe('fail');
  expect(c.remedy).toMatch(/deploy/);
  expect(code).toBe(1);
});

test('GIVEN a stack in ROLLBACK_COMPLETE WHEN status runs THEN the stack check fails, exit 1', async () => {
  w.deployed();
  w.aws.setStackStatus(STACK, 'ROLLBACK_COMPLETE');
  const { code, doc } = await status();
  expect(check(doc, 'stack').status).toBe('fail');
  expect(code).toBe(1);
});

test('GIVEN CloudFormation denies DescribeStacks WHEN status runs THEN the stack check fails quoting the error, exit 1', async () => {
  w.deployed();
  w.aws.inject({
    service: 'cloudformation',
    action: 'DescribeStacks',
    status: 403,
    code: 'AccessDenied',
    message: 'User is not authorized to perform cloudformation:DescribeStacks',
    times: 10,
  });
  const { code, doc } = await status();
  const c = check(doc, 'stack');
  expect(c.status).toBe('fail');
  expect(c.value).toMatch(/not authorized|AccessDenied/);
  expect(code).toBe(1);
});

test('GIVEN IAM denies GetRole WHEN status runs THEN the VM trust check fails, exit 1', async () => {
  w.deployed();
  w.aws.inject({
    service: 'iam',
    action: 'GetRole',
    status: 403,
    code: 'AccessDenied',
    message: 'not authorized to perform iam:GetRole',
    times: 10,
  });
  const { code, doc } = await status();
  expect(check(doc, 'vm-trust').status).toBe('fail');
  expect(code).toBe(1);
});

test('GIVEN IAM denies ListRoles WHEN status runs THEN the open-trust check fails, the orphans check still passes, exit 1', async () => {
  w.deployed();
  w.aws.inject({
    service: 'iam',
    action: 'ListRoles',
    status: 403,
    code: 'AccessDenied',
    message: 'not authorized to perform iam:ListRoles',
    times: 10,
  });
  const { code, doc } = await status();
  expect(check(doc, 'open-trust').status).toBe('fail');
  expect(check(doc, 'orphans').status).toBe('pass');
  expect(code).toBe(1);
});

test('GIVEN S3 denies listing the bucket WHEN status runs THEN the VM data check fails, exit 1', async () => {
  const d = w.deployed();
  w.aws.denyBucket(d.bucket);
  const { code, doc } = await status();
  expect(check(doc, 'vm-data').status).toBe('fail');
  expect(code).toBe(1);
});

test('GIVEN a bucket without the validation test file WHEN status runs THEN the test-file check fails, exit 1', async () => {
  const d = w.deployed();
  w.aws.deleteBucket(d.bucket);
  w.aws.createBucket(d.bucket);
  const { code, doc } = await status();
  expect(check(doc, 'test-file').status).toBe('fail');
  expect(code).toBe(1);
});

test('GIVEN the newest object in the bucket is 9 days old WHEN status runs THEN the VM data check does not pass and names that object and its age', async () => {
  const d = w.deployed();
  w.aws.deleteBucket(d.bucket);
  const now = Date.now();
  w.aws.putObject(d.bucket, 'test-file.gz', { lastModified: now - 10 * 86400_000 });
  w.aws.putObject(d.bucket, 'findings/2025-12-01/old.json.gz', { lastModified: now - 9 * 86400_000 });
  const { doc } = await status();
  const c = check(doc, 'vm-data');
  expect(c.status).not.toBe('pass');
  expect(c.value).toContain('findings/2025-12-01/old.json.gz');
  expect(c.value).toMatch(/9 days/);
});

test('GIVEN the VM integration deleted in Qualys while the stack still names it WHEN status runs THEN the VM integration check fails, exit 1', async () => {
  const d = w.deployed();
  const token = await (
    await fetch(`${w.gateway}/auth`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: USER.username, password: USER.password, token: 'true' }).toString(),
    })
  ).text();
  const del = await fetch(`${w.gateway}/partner-integration/aws/s3/${d.ids.vm}/vm`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(del.ok).toBe(true);
  const { code, doc } = await status();
  expect(check(doc, 'vm-integration').status).toBe('fail');
  expect(code).toBe(1);
});

test('GIVEN the gateway is down WHEN status runs THEN the Qualys login check fails in a well-formed JSON document, exit 1', async () => {
  w.deployed();
  await w.sim.stop();
  const { code, doc } = await status();
  expect(check(doc, 'qualys-auth').status).toBe('fail');
  expect(code).toBe(1);
});

test('GIVEN a healthy deployment WHEN `node bin/qualys-s3.js status dev --json` runs as a real process THEN stdout is one well-formed JSON document, stderr is empty, no secret is printed, and it exits 0 as the document says', async () => {
  w.deployed();
  const file = w.config();
  const root = path.resolve(__dirname, '../..');
  const child = spawn(
    process.execPath,
    [path.join(root, 'bin/qualys-s3.js'), 'status', 'dev', '--json', '--config', file],
    {
      cwd: w.dir,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const doc = JSON.parse(stdout);
  expectWellFormed(doc);
  expect(code).toBe(doc.exitCode);
  expect(code).toBe(0);
  expect(stderr).toBe('');
  for (const s of w.secrets()) expect(stdout + stderr).not.toContain(s);
}, 30_000);
