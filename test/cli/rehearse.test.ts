/**
 * `qualys-s3 rehearse`: the newcomer's first command. It must synthesize the real app and run
 * the real bundled handler through the whole lifecycle on this machine, and say what happened.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { ROOT } from '../../sim/deployment';

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: ROOT });
  return { code, stdout, stderr };
}

test("GIVEN the project's shipped configuration WHEN rehearse runs THEN create, redeploy, update, rotation and delete all succeed, printed step by step with each validate attempt", async () => {
  const before = fs.readdirSync(ROOT);
  const out = await run(['rehearse', 'example', '--iam-delay', '1']);
  expect(out.code).toBe(0);
  const text = out.stdout;
  for (const step of [
    '▶ synth',
    '▶ create VmIntegration',
    '▶ create PcIntegration',
    '▶ redeploy VmIntegration',
    '▶ update VmIntegration',
    '▶ rotate PcIntegration',
    '▶ delete VmIntegration',
  ]) {
    expect(text).toContain(step);
  }
  // The trust policy before and after registration: the placeholder, then the real external ID.
  expect(text).toMatch(
    /trust before\s+Qualys with external ID qualys-s3-pending-registration-vm \(placeholder until registration\)/,
  );
  expect(text).toMatch(/trust after\s+Qualys with external ID US_POD_1…\w{4}/);
  // IAM takes a second to propagate: the first validation fails and is retried.
  expect(text).toMatch(
    /validate #1\s+not yet \(.*not (yet visible to STS|authorized to perform sts:AssumeRole).*\); next try in/,
  );
  expect(text).toMatch(/Qualys\s+PATCH\s+\/partner-integration\/aws\/s3\/\d+\/vm\/validate → HTTP 200/);
  expect(text).toMatch(/registered\s+VM \d+ "qs3-example-vm-123456789012-us-east-1"/);
  expect(text).toMatch(
    /redeploy VmIntegration\w+: cdk deploy again, nothing changed[\s\S]*?✔ CloudFormation gets SUCCESS \(0 Qualys calls/,
  );
  expect(text).toMatch(/external ID\s+US_POD_1…(\w{4}) → US_POD_1…(?!\1)\w{4}/);
  expect(text).toContain('▶ after destroy: no integration left in Qualys');
  expect(text).toMatch(/Summary: 14\/14 steps succeeded in [\d.]+ s; \d+ Qualys calls, 10 validate attempts\./);
  expect(text).not.toContain('Rehearsal-Only-Pa55');
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  // It leaves nothing behind in the project, and restores the environment it changed.
  expect(fs.readdirSync(ROOT)).toEqual(before);
  expect(process.env.AWS_ENDPOINT_URL).toBeUndefined();
}, 120_000);

test('GIVEN --json WHEN rehearse runs THEN stdout is one document with every step', async () => {
  const out = await run(['rehearse', 'example', '--json', '--iam-delay', '0']);
  expect(out.code).toBe(0);
  const doc = JSON.parse(out.stdout);
  expect(doc).toMatchObject({ command: 'rehearse', envName: 'example', ok: true, exitCode: 0 });
  expect(doc.steps.map((s: { step: string }) => s.step)).toEqual([
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
  for (const s of doc.steps)
    expect(s).toEqual(
      expect.objectContaining({ ok: true, durationMs: expect.any(Number), qualysCalls: expect.any(Number) }),
    );
  // qualys-s3 diff against the stand-ins: in sync after the deploy, the settings change pending before the update.
  expect(doc.steps.filter((s: { step: string }) => s.step === 'diff').map((s: { note: string }) => s.note)).toEqual([
    expect.stringMatching(/^after the deploy, nothing to change: exit 0$/),
    expect.stringMatching(/^the configuration changed \(minSeverity 3 → 4; compressData true → false\): exit 1$/),
  ]);
  // The example names no bucket and no ARN: only the gateway is stood in for.
  expect(doc.departures).toEqual([
    {
      field: 'gatewayUrl',
      configured: 'https://gateway.qg1.apps.qualys.com',
      rehearsal: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      why: expect.any(String),
    },
  ]);
}, 120_000);

test('GIVEN a configuration with a proxy and a VPC WHEN rehearse runs THEN it leaves them out (the handler runs here) and says so', async () => {
  const file = path.join(ROOT, '.tmp-rehearse-config.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      environments: {
        corp: {
          platform: 'EU1',
          credentialsSecret: 'qualys/api',
          proxyUrl: 'http://proxy.corp.example:3128',
          vpc: {
            vpcId: 'vpc-0123456789abcdef0',
            subnetIds: ['subnet-0123456789abcdef0'],
            securityGroupIds: ['sg-0123456789abcdef0'],
          },
          vm: {},
        },
      },
    }),
  );
  try {
    const out = await run(['rehearse', '--config', file, '--iam-delay', '0']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('left out          proxyUrl, vpc: the handler runs on this machine');
    expect(out.stdout).toMatch(/Summary: 9\/9 steps succeeded/);
    expect(out.stdout).not.toContain('differs');
  } finally {
    fs.rmSync(file, { force: true });
  }
}, 120_000);

test('GIVEN a configured bucket name and a secret ARN WHEN rehearse runs THEN it says it uses a generated bucket and a secret by name instead, in both output forms', async () => {
  const file = path.join(ROOT, '.tmp-rehearse-departures.json');
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:team/qualys-AbC123';
  fs.writeFileSync(
    file,
    JSON.stringify({
      environments: {
        named: {
          platform: 'US1',
          region: 'us-east-1',
          credentialsSecret: arn,
          bucket: { bucketName: 'acme-qualys-findings' },
          vm: {},
        },
      },
    }),
  );
  try {
    const out = await run(['rehearse', '--config', file, '--iam-delay', '0']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(
      'differs           credentialsSecret: the configured ARN is replaced by "qualys/api-credentials" in the fake Secrets Manager',
    );
    expect(out.stdout).toMatch(
      /differs {11}bucket\.bucketName: "acme-qualys-findings" is configured; the rehearsal's bucket is qualyss3-findingsbucket-\w+/,
    );
    expect(out.stdout).not.toContain('left out');

    const json = await run(['rehearse', '--config', file, '--iam-delay', '0', '--json']);
    const doc = JSON.parse(json.stdout);
    expect(doc.departures.map((d: { field: string }) => d.field)).toEqual([
      'gatewayUrl',
      'credentialsSecret',
      'bucket.bucketName',
    ]);
    expect(doc.departures[1]).toMatchObject({ configured: arn, rehearsal: 'qualys/api-credentials' });
    expect(doc.departures[2]).toMatchObject({
      configured: 'acme-qualys-findings',
      rehearsal: expect.stringMatching(/^qualyss3-findingsbucket-/),
    });
  } finally {
    fs.rmSync(file, { force: true });
  }
}, 120_000);

test("GIVEN --dialect guide WHEN rehearse runs THEN the simulator answers like the guide's samples and every step still succeeds", async () => {
  const out = await run(['rehearse', 'example', '--iam-delay', '0', '--dialect', 'guide']);
  expect(out.code).toBe(0);
  expect(out.stdout).toMatch(/dialect +guide: pcDetails "guide"/);
  expect(out.stdout).toMatch(/reading +VM register answer: ID and external ID/);
});

test('GIVEN an unknown --dialect, or --dialect on another command WHEN run THEN it exits 2 naming the choices', async () => {
  const unknown = await run(['rehearse', 'example', '--dialect', 'lenient']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/unknown dialect "lenient"; use one of strict, .*guide/);
  const misplaced = await run(['preflight', 'example', '--dialect', 'guide']);
  expect(misplaced.code).toBe(2);
  expect(misplaced.stderr).toMatch(/--dialect goes with rehearse only/);
});
