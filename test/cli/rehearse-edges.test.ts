/**
 * `qualys-s3 rehearse` with a configuration the author's tests do not use: a PC-only
 * environment whose credentialsSecret is a full secret ARN, from a --config file outside the
 * project. Two runs (the command is slow); cwd is the project folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../..');

test('GIVEN a PC-only environment with a secret ARN WHEN rehearse runs THEN each PC lifecycle step and no VM one runs, the external ID rotates, destroy leaves no integration or CIPS policy, the summary counts every step succeeded, no secret is printed, and the project folder and process.env are unchanged', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs3-adv2-rehearse-'));
  const file = path.join(dir, 'qualys.json');
  const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:qualys/api-credentials-AbCdEf';
  fs.writeFileSync(
    file,
    JSON.stringify({
      environments: {
        pconly: {
          account: '111122223333',
          region: 'eu-west-1',
          gatewayUrl: 'https://gateway.qg2.apps.qualys.eu',
          credentialsSecret: arn,
          pc: { policies: [2001, 2002], filter: { includeFailPosture: true, includePassPosture: false } },
        },
      },
    }),
  );
  const before = fs.readdirSync(ROOT).sort();
  const envBefore = { ...process.env };
  let stdout = '';
  let stderr = '';
  try {
    const code = await main(['rehearse', 'pconly', '--config', file, '--iam-delay', '0'], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      cwd: ROOT,
    });
    const all = stdout + stderr;
    expect(all).not.toContain('Rehearsal-Only-Pa55');
    expect(all).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    // Each lifecycle step of the one integration, and none of VM.
    for (const step of [
      '▶ synth',
      '▶ create PcIntegration',
      '▶ redeploy PcIntegration',
      '▶ update PcIntegration',
      '▶ rotate PcIntegration',
      '▶ delete PcIntegration',
    ]) {
      expect(stdout).toContain(step);
    }
    expect(stdout).not.toContain('VmIntegration');
    expect(stdout).toMatch(/registered\s+PC \d+ "qs3-pconly-pc-111122223333-eu-west-1"/);
    expect(stdout).toMatch(/external ID\s+US_POD_1…(\w{4}) → US_POD_1…(?!\1)\w{4}/);
    expect(stdout).toContain('▶ after destroy: no integration left in Qualys');
    // README: the PC policies the stack added are gone after destroy.
    expect(stdout).toMatch(/after destroy:.*CIPS policies \[\]/);
    expect(stdout).toMatch(/Summary: (\d+)\/\1 steps succeeded in [\d.]+ s; \d+ Qualys calls, \d+ validate attempts\./);
    expect(stdout).not.toMatch(/✖/);
    expect(code).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  expect(fs.readdirSync(ROOT).sort()).toEqual(before);
  expect({ ...process.env }).toEqual(envBefore);
}, 90_000);

test('GIVEN a region-agnostic VM + PC environment with a secret ARN WHEN rehearse runs with --json THEN stdout is one ok document listing every step in order, all succeeded, stderr is empty, exit 0, and the project folder and process.env are unchanged', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs3-adv2-rehearse-'));
  const file = path.join(dir, 'qualys.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      environments: {
        shared: {
          gatewayUrl: 'https://gateway.qg1.apps.qualys.com',
          credentialsSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:qualys/shared-XyZ123',
          vm: {},
          pc: {},
        },
      },
    }),
  );
  const before = fs.readdirSync(ROOT).sort();
  const envBefore = { ...process.env };
  let stdout = '';
  let stderr = '';
  let code: number;
  try {
    code = await main(['rehearse', '--config', file, '--iam-delay', '0', '--json'], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      cwd: ROOT,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const doc = JSON.parse(stdout) as {
    command: string;
    envName: string;
    ok: boolean;
    exitCode: number;
    steps: Array<{ step: string; ok: boolean; durationMs: number }>;
  };
  expect(doc).toMatchObject({ command: 'rehearse', envName: 'shared', ok: true, exitCode: 0 });
  expect(doc.steps.map((s) => s.step)).toEqual([
    'synth',
    'create',
    'create',
    'diff',
    'redeploy',
    'redeploy',
    'diff',
    'update',
    'update',
    'rotate',
    'rotate',
    'delete',
    'delete',
    'cleanup',
  ]);
  expect(doc.steps.every((s) => s.ok)).toBe(true);
  expect(code).toBe(0);
  expect(stderr).toBe('');
  expect(stdout).not.toContain('Rehearsal-Only-Pa55');
  expect(fs.readdirSync(ROOT).sort()).toEqual(before);
  expect({ ...process.env }).toEqual(envBefore);
}, 90_000);
