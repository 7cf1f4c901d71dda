/**
 * `qualys-s3 status`: a deployed environment as CloudFormation and the handler leave it, then
 * each kind of drift the command must catch, against the simulator and the fake AWS.
 */
import {
  QUALYS_PRINCIPAL,
  type World,
  check,
  removeAwsCredentials,
  trustPolicy,
  PROD_SITE,
  useCliWorld,
} from '../support/cli-world';
import { VM_DEFAULT_SETTINGS } from '../support/fixtures';

const { ACCOUNT, ENV, REGION, STACK } = PROD_SITE;
// What an edit in the Qualys UI sends back: the settings, without the error e-mails.
const { errorEmails: _errorEmails, ...settingsWithoutEmails } = VM_DEFAULT_SETTINGS;

const world = useCliWorld();
let config: string;

beforeEach(() => {
  config = world.config();
});

const ALL = [
  'config',
  'aws-identity',
  'stack',
  'secret',
  'qualys-auth',
  'vm-integration',
  'vm-registration',
  'vm-trust',
  'vm-data',
  'pc-integration',
  'pc-registration',
  'pc-trust',
  'pc-data',
  'test-file',
  'open-trust',
  'cips',
  'orphans',
  'qualys-readings',
];

describe('status of a healthy deployment', () => {
  test('GIVEN a deployed, validated environment with fresh data WHEN status runs THEN every check passes with what it measured, and it exits 0', async () => {
    const deployed = world.deployed();
    const human = await world.run(['status', ENV, '--config', config]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/✔ deployed stack\s+QualysS3-prod is CREATE_COMPLETE/);
    expect(human.stdout).toMatch(
      new RegExp(`✔ VM integration\\s+ID ${deployed.ids.vm} "qs3-prod-vm-${ACCOUNT}-${REGION}", validated`),
    );
    expect(human.stdout).toMatch(
      new RegExp(
        `✔ VM bucket, region, role\\s+${deployed.bucket} in ${REGION}, role arn:aws:iam::${ACCOUNT}:role/${deployed.roles.vm}: as deployed`,
      ),
    );
    expect(human.stdout).toMatch(/✔ VM role trust policy\s+\S+ trusts Qualys only with external ID US_POD_1…/);
    expect(human.stdout).toMatch(
      /✔ VM data in the bucket\s+newest is qualys_vm_findings\/2026-11-24\/b\.json\.gz, 2 h old/,
    );
    expect(human.stdout).toMatch(
      /✔ PC data in the bucket\s+newest is qualys_pc_posture_info\/2026-11-24\/c\.json\.gz, 5 h old/,
    );
    expect(human.stdout).toMatch(/✔ validation test file\s+test-file\.gz, written 3 days ago/);
    expect(human.stdout).toMatch(
      /✔ roles trusting Qualys\s+none of the 2 roles in the account trusts Qualys without an external ID/,
    );
    expect(human.stdout).toMatch(
      /✔ CIPS policies and filter\s+all 2 configured policies in CIPS; filter as configured/,
    );
    expect(human.stdout).toMatch(/✔ orphaned integrations\s+none/);
    expect(human.stdout).toMatch(/18 passed, 0 failed/);

    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(0);
    expect(doc).toMatchObject({
      command: 'status',
      envName: ENV,
      ok: true,
      exitCode: 0,
      summary: { pass: 18, fail: 0, warn: 0, skip: 0 },
    });
    expect(doc.checks.map((c) => c.id)).toEqual(ALL);
    expect(check(doc, 'vm-integration').details).toEqual({
      integrationId: String(deployed.ids.vm),
      name: `qs3-prod-vm-${ACCOUNT}-${REGION}`,
      integrationValidated: true,
    });
    expect(check(doc, 'vm-data').details).toMatchObject({
      newest: { key: 'qualys_vm_findings/2026-11-24/b.json.gz', ageSeconds: expect.any(Number) },
    });
  });

  test('GIVEN status WHEN it runs THEN it changes nothing: only reads in Qualys and AWS', async () => {
    world.deployed();
    await world.run(['status', ENV, '--config', config]);
    expect(world.sim.calls.filter((c) => c.method !== 'GET').map((c) => c.path)).toEqual(['/auth']);
    expect(Object.keys(world.aws.callCounts()).filter((k) => !/:(Get|List|Describe)/.test(k))).toEqual([]);
  });
});

describe('status catches what went wrong', () => {
  test('GIVEN no stack WHEN status runs THEN the stack check fails with the deploy command, and the per-integration checks are skipped', async () => {
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(1);
    expect(check(doc, 'stack')).toMatchObject({
      status: 'fail',
      value: `no stack ${STACK} in ${REGION}`,
      remedy: `deploy it: npx cdk deploy ${STACK}`,
    });
    expect(check(doc, 'vm-integration').status).toBe('skip');
  });

  test('GIVEN a stack that rolled back WHEN status runs THEN the stack check fails', async () => {
    world.deployed();
    world.aws.setStackStatus(STACK, 'UPDATE_ROLLBACK_COMPLETE');
    const { doc } = await world.json(['status', ENV, '--config', config]);
    expect(check(doc, 'stack')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('UPDATE_ROLLBACK_COMPLETE'),
    });
  });

  test('GIVEN an integration Qualys has not validated WHEN status runs THEN it fails: Qualys sends no data', async () => {
    await world.build();
    config = world.config();
    const deployed = world.deployed();
    // A PUT (e.g. someone edited it in the Qualys UI) clears integrationValidated.
    world.sim.seedIntegration('vm', { name: 'unrelated' });
    const vm = world.sim.integration('vm', deployed.ids.vm!)!;
    await fetch(`${world.gateway}/partner-integration/aws/s3/${vm.integrationId}/vm`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${await token(world)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: vm.name,
        bucketName: vm.bucketName,
        bucketRegion: vm.bucketRegion,
        roleArn: vm.roleArn,
        ...settingsWithoutEmails,
      }),
    });
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(1);
    expect(check(doc, 'vm-integration')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('is not validated'),
    });
  });

  test('GIVEN the integration was deleted in Qualys WHEN status runs THEN it fails and says how to recreate it', async () => {
    const deployed = world.deployed();
    await fetch(`${world.gateway}/partner-integration/aws/s3/${deployed.ids.pc}/pc`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${await token(world)}` },
    });
    const { doc } = await world.json(['status', ENV, '--config', config]);
    expect(check(doc, 'pc-integration')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('no longer exists'),
      remedy: expect.stringContaining('externalIdRotation'),
    });
    expect(check(doc, 'pc-trust').status).toBe('skip');
  });

  test('GIVEN Qualys points at another bucket, region and role WHEN status runs THEN each difference is named', async () => {
    world.sim.seedIntegration('vm', { name: 'placeholder' });
    const deployed = world.deployed({ kinds: ['vm'] });
    const vm = world.sim.integration('vm', deployed.ids.vm!)!;
    await fetch(`${world.gateway}/partner-integration/aws/s3/${vm.integrationId}/vm`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${await token(world)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: vm.name,
        bucketName: 'someone-elses-bucket',
        bucketRegion: 'us-west-2',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/other`,
        ...settingsWithoutEmails,
      }),
    });
    const { doc } = await world.json(['status', ENV, '--config', world.config({ pc: undefined })]);
    const registration = check(doc, 'vm-registration');
    expect(registration.status).toBe('fail');
    expect(registration.value).toContain(`bucketName is "someone-elses-bucket", the stack says ${deployed.bucket}`);
    expect(registration.value).toContain(`bucketRegion is "us-west-2", the stack says ${REGION}`);
    expect(registration.value).toContain('roleArn is "arn:aws:iam::123456789012:role/other"');
  });

  test('GIVEN the role trusts an old external ID only (rotated in Qualys) WHEN status runs THEN the trust check fails: Qualys cannot assume it', async () => {
    const deployed = world.deployed({ kinds: ['vm'] });
    world.aws.setTrustPolicy(deployed.roles.vm!, trustPolicy(['US_POD_1-71-00000000-0000-0000-0000-000000000000']));
    const { code, doc } = await world.json(['status', ENV, '--config', world.config({ pc: undefined })]);
    expect(code).toBe(1);
    expect(check(doc, 'vm-trust')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining("does not trust the integration's current external ID"),
    });
  });

  test('GIVEN the role trusts the current and an old external ID WHEN status runs THEN it warns about the stale one', async () => {
    const deployed = world.deployed({ kinds: ['vm'] });
    const current = world.sim.integration('vm', deployed.ids.vm!)!.externalId!;
    world.aws.setTrustPolicy(
      deployed.roles.vm!,
      trustPolicy([current, 'US_POD_1-71-00000000-0000-0000-0000-000000000000']),
    );
    const { code, doc } = await world.json(['status', ENV, '--config', world.config({ pc: undefined })]);
    expect(code).toBe(0);
    expect(check(doc, 'vm-trust')).toMatchObject({
      status: 'warn',
      value: expect.stringContaining('and 1 other external ID'),
    });
  });

  test('GIVEN the role also trusts Qualys without a condition WHEN status runs THEN the trust check fails', async () => {
    const deployed = world.deployed({ kinds: ['vm'] });
    const current = world.sim.integration('vm', deployed.ids.vm!)!.externalId!;
    world.aws.setTrustPolicy(
      deployed.roles.vm!,
      trustPolicy(
        [current],
        [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::805950163170:root' }, Action: 'sts:AssumeRole' }],
      ),
    );
    const { doc } = await world.json(['status', ENV, '--config', world.config({ pc: undefined })]);
    expect(check(doc, 'vm-trust')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('without an external ID'),
    });
    expect(check(doc, 'open-trust')).toMatchObject({ status: 'fail', details: { roles: [deployed.roles.vm] } });
  });

  test('GIVEN another role in the account trusts the Qualys principal without an external ID WHEN status runs THEN it is named', async () => {
    world.deployed();
    for (let i = 0; i < 3; i++)
      world.aws.createRole(`app-role-${i}`, {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
    world.aws.createRole('old-manual-qualys-role', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: QUALYS_PRINCIPAL }, Action: 'sts:AssumeRole' }],
    });
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(1);
    expect(check(doc, 'open-trust')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('old-manual-qualys-role'),
      details: { roles: ['old-manual-qualys-role'], scanned: 6 },
    });
  });

  test('GIVEN no findings yet WHEN status runs THEN the data checks warn (not fail): Qualys writes after its next run', async () => {
    const deployed = world.deployed();
    world.aws.deleteBucket(deployed.bucket);
    world.aws.putObject(deployed.bucket, 'test-file.gz');
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(0);
    expect(check(doc, 'vm-data')).toMatchObject({
      status: 'warn',
      value: 'nothing under qualys_vm_findings/ or findings/ yet',
    });
    expect(check(doc, 'pc-data')).toMatchObject({ status: 'warn', value: 'nothing under qualys_pc_posture_info/ yet' });
  });

  test('GIVEN findings stopped two days ago WHEN status runs THEN the data check warns with the age of the newest object', async () => {
    const deployed = world.deployed({ kinds: ['pc'] });
    world.aws.deleteBucket(deployed.bucket);
    world.aws.putObject(deployed.bucket, 'test-file.json');
    for (const day of ['2026-11-20', '2026-11-21', '2026-11-22']) {
      world.aws.putObject(deployed.bucket, `qualys_pc_posture_info/${day}/x.json.gz`, {
        lastModified: Date.parse(`${day}T12:00:00Z`),
      });
    }
    const { doc } = await world.json(['status', ENV, '--config', world.config({ vm: undefined })]);
    expect(check(doc, 'pc-data')).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/^newest is qualys_pc_posture_info\/2026-11-22\/x\.json\.gz, \d+ (h|days) old$/),
    });
  });

  test('GIVEN no test file in the bucket WHEN status runs THEN it fails: Qualys has never written there', async () => {
    const deployed = world.deployed();
    world.aws.deleteBucket(deployed.bucket);
    world.aws.createBucket(deployed.bucket);
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(1);
    expect(check(doc, 'test-file')).toMatchObject({ status: 'fail', remedy: expect.stringContaining('s3:PutObject') });
  });

  test('GIVEN a configured CIPS policy removed and the filter changed in Qualys WHEN status runs THEN both are named', async () => {
    world.deployed();
    await fetch(`${world.gateway}/pcas/cips/config/policy`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${await token(world)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ policy: [2002] }]),
    });
    world.sim.seedCips({
      filter: {
        includeEvidenceData: true,
        includeFailPosture: true,
        includePassPosture: true,
        includeErrorPosture: true,
      },
    });
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(1);
    const cips = check(doc, 'cips');
    expect(cips.status).toBe('fail');
    expect(cips.value).toContain('policy 2002 missing from CIPS');
    expect(cips.value).toContain('the filter is');
  });

  test('GIVEN integrations named by this app for an environment no longer configured WHEN status runs THEN they are reported as orphans', async () => {
    world.deployed();
    const orphan = world.sim.seedIntegration('vm', { name: `qs3-staging-vm-${ACCOUNT}-${REGION}` });
    world.sim.seedIntegration('pc', { name: `qs3-prod-pc-${ACCOUNT}-us-west-2` });
    world.sim.seedIntegration('pc', { name: 'hand-made-integration' });
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(1);
    const orphans = check(doc, 'orphans');
    expect(orphans.status).toBe('fail');
    expect((orphans.details!.orphans as Array<{ name: string }>).map((o) => o.name).sort()).toEqual([
      `qs3-prod-pc-${ACCOUNT}-us-west-2`,
      `qs3-staging-vm-${ACCOUNT}-${REGION}`,
    ]);
    expect(orphans.value).toContain(`VM ${orphan.integrationId}`);

    // Once staging is configured again, its integration is no orphan.
    const both = world.config(
      {},
      {
        staging: {
          account: ACCOUNT,
          region: REGION,
          gatewayUrl: world.gateway,
          credentialsSecret: 'qualys/api-credentials',
          vm: {},
        },
      },
    );
    const again = await world.json(['status', ENV, '--config', both]);
    expect((check(again.doc, 'orphans').details!.orphans as Array<{ name: string }>).map((o) => o.name)).toEqual([
      `qs3-prod-pc-${ACCOUNT}-us-west-2`,
    ]);
  });
});

async function token(w: World): Promise<string> {
  const res = await fetch(`${w.gateway}/auth`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'cli-user', password: 'Cli-Pa55word-7xQ', token: 'true' }).toString(),
  });
  return res.text();
}

describe('finding the newest data', () => {
  test('GIVEN VM data nested as the guide shows it (qualys_vm_findings/findings/<date>/, vuln_info/vm) and more than 5,000 older objects WHEN status runs THEN the newest object of the newest day is found', async () => {
    const deployed = world.deployed({ kinds: ['vm'] });
    world.aws.deleteBucket(deployed.bucket);
    world.aws.putObject(deployed.bucket, 'test-file.gz');
    const now = Date.now();
    for (let day = 1; day <= 40; day++) {
      const date = new Date(Date.UTC(2026, 9, 1) + day * 86400_000).toISOString().slice(0, 10);
      for (let i = 0; i < 160; i++)
        world.aws.putObject(
          deployed.bucket,
          `qualys_vm_findings/findings/${date}/${String(i).padStart(3, '0')}.json.gz`,
          { lastModified: now - (41 - day) * 86400_000 - i * 1000 },
        );
    }
    world.aws.putObject(deployed.bucket, 'qualys_vm_findings/findings/2026-11-10/999.json.gz', {
      lastModified: now - 90 * 60_000,
    });
    world.aws.putObject(deployed.bucket, 'qualys_vm_findings/vuln_info/vm/kb.json.gz', {
      lastModified: now - 3 * 86400_000,
    });
    const { doc } = await world.json(['status', ENV, '--config', world.config({ pc: undefined })]);
    expect(check(doc, 'vm-data')).toMatchObject({
      status: 'pass',
      value: 'newest is qualys_vm_findings/findings/2026-11-10/999.json.gz, 90 min old',
    });
  });
});

describe('orphans and the configuration', () => {
  test('GIVEN an environment that dropped PC WHEN its old PC integration is still registered THEN it is an orphan, and its VM one is not', async () => {
    world.deployed({ kinds: ['vm'] });
    world.sim.seedIntegration('pc', { name: `qs3-${ENV}-pc-${ACCOUNT}-${REGION}` });
    const { doc } = await world.json(['status', ENV, '--config', world.config({ pc: undefined })]);
    expect(check(doc, 'orphans')).toMatchObject({
      status: 'fail',
      details: { orphans: [expect.objectContaining({ kind: 'pc', name: `qs3-${ENV}-pc-${ACCOUNT}-${REGION}` })] },
    });
  });

  test("GIVEN an integration named like the app's but named explicitly by a configured environment THEN it is not an orphan", async () => {
    world.deployed();
    world.sim.seedIntegration('vm', { name: `qs3-legacy-vm-${ACCOUNT}-${REGION}` });
    const other = {
      account: ACCOUNT,
      region: REGION,
      gatewayUrl: world.gateway,
      credentialsSecret: 'qualys/api-credentials',
      vm: { name: `qs3-legacy-vm-${ACCOUNT}-${REGION}`, adoptExisting: true },
    };
    const { doc } = await world.json(['status', ENV, '--config', world.config({}, { dev: other })]);
    expect(check(doc, 'orphans')).toMatchObject({ status: 'pass' });
  });
});

describe('before the first deploy, and the set of checks', () => {
  test('GIVEN no stack yet WHEN status runs THEN CIPS and orphans are not judged (no CIPS call, nothing blamed on Qualys), and they say why', async () => {
    // CIPS lacks the configured policies and an app-named integration exists: both would fail if judged.
    world.sim.seedIntegration('vm', { name: `qs3-staging-vm-${ACCOUNT}-${REGION}` });
    const { code, doc } = await world.json(['status', ENV, '--config', config]);
    expect(code).toBe(1);
    expect(check(doc, 'stack').status).toBe('fail');
    for (const id of ['cips', 'orphans']) {
      expect(check(doc, id)).toMatchObject({
        status: 'skip',
        value:
          'needs "deployed stack" (stack), which failed: judged only against a deployed stack (before the first deploy, run qualys-s3 preflight)',
        details: { needs: 'stack', needsStatus: 'fail' },
      });
    }
    expect(
      world.sim.calls
        .map((c) => c.path)
        .filter((p) => p.startsWith('/pcas') || /^\/partner-integration\/aws\/s3\/(vm|pc)$/.test(p)),
    ).toEqual([]);
    const human = await world.run(['status', ENV, '--config', config]);
    expect(human.stdout).not.toMatch(/deploy again/);
    expect(human.stdout).toMatch(/- CIPS policies and filter\s+needs "deployed stack"/);
  });

  test('GIVEN a healthy deployment, no stack, no AWS credentials, the wrong account and bad Qualys credentials WHEN status runs with --json THEN the ids are the same in each', async () => {
    const noStack = await world.json(['status', ENV, '--config', config]);
    world.deployed();
    const healthy = await world.json(['status', ENV, '--config', config]);
    const wrongAccount = await world.json(['status', ENV, '--config', world.config({ account: '210987654321' })]);
    world.aws.putSecret(
      'qualys/api-credentials',
      JSON.stringify({ username: 'cli-user', password: 'wrong-password-1' }),
    );
    const badQualys = await world.json(['status', ENV, '--config', config]);
    removeAwsCredentials(world.dir);
    const noAws = await world.json(['status', ENV, '--config', config]);
    expect([healthy, noStack, wrongAccount, badQualys, noAws].map((r) => r.code)).toEqual([0, 1, 1, 1, 1]);
    for (const { doc } of [healthy, noStack, wrongAccount, badQualys, noAws])
      expect(doc.checks.map((c) => c.id)).toEqual(ALL);
    // Without credentials for the account, nothing of the account is read, not even the roles.
    expect(check(wrongAccount.doc, 'open-trust')).toMatchObject({
      status: 'skip',
      value: expect.stringContaining('(aws-identity), which failed'),
    });
    expect(check(badQualys.doc, 'vm-integration')).toMatchObject({
      status: 'skip',
      value: expect.stringContaining('(qualys-auth), which failed'),
    });
    expect(check(badQualys.doc, 'open-trust').status).toBe('pass');
  });
});

describe("a gateway that answers like the guide's samples", () => {
  test('GIVEN PC details without an external ID, single-object lists and a nested CIPS answer WHEN status runs THEN every check still judges, and the readings are named', async () => {
    await world.build({ sim: { dialect: 'guide' } });
    world.deployed();
    const { code, doc } = await world.json(['status', ENV, '--config', world.config()]);
    expect(check(doc, 'pc-trust')).toMatchObject({
      status: 'pass',
      details: { reading: 'details without an external ID' },
    });
    expect(check(doc, 'cips').status).toBe('pass');
    expect(check(doc, 'orphans').status).toBe('pass');
    expect(check(doc, 'qualys-readings').details!.readings).toMatchObject({
      'PC details': 'without an external ID',
      'PC list': 'one object',
    });
    expect(code).toBe(0);
  });
});
