/**
 * `qualys-s3 status` with configurations and stacks the first review did not try: several
 * environments in one configuration (region-agnostic ones too), names that follow the app's
 * scheme, stale or missing stack outputs, warnings only, every kind of failure at once, and
 * the password inside AWS errors.
 */
import { check, trustPolicy, DEV_SITE, useCliWorld } from '../support/cli-world';
import { expectConsistent, expectHumanSummaryMatches } from '../support/cli-report-checks';

const { ACCOUNT, REGION, SECRET, STACK, USER } = DEV_SITE;

const DAY = 86400_000;
const w = useCliWorld({ site: DEV_SITE });

async function status(file: string) {
  const out = await w.json(['status', 'dev', '--config', file]);
  return { ...out, doc: expectConsistent(w, out) };
}

/** A VM-only deployment whose integration has `name` (e.g. an explicit "vm.name"). */
function deployVm(name: string, opts: { outputs?: Record<string, string | undefined> } = {}) {
  const bucket = 'qualyss3-dev-findingsbucket-adv2';
  const roleName = `${STACK}-VmRole-ADV2`;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
  const details = w.sim.seedIntegration('vm', {
    name,
    bucketName: bucket,
    bucketRegion: REGION,
    roleArn,
    integrationValidated: true,
  });
  w.aws.createRole(roleName, trustPolicy([details.externalId]));
  const outputs: Record<string, string | undefined> = {
    BucketName: bucket,
    VmRoleArn: roleArn,
    VmIntegrationId: String(details.integrationId),
    VmIntegrationName: name,
    ...opts.outputs,
  };
  w.aws.setStackStatus(STACK, 'CREATE_COMPLETE');
  w.aws.setStackOutputs(
    STACK,
    Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined)) as Record<string, string>,
  );
  w.aws.putObject(bucket, 'test-file.gz', { lastModified: Date.now() - DAY });
  w.aws.putObject(bucket, 'qualys_vm_findings/2026-01-02/a.json.gz', { lastModified: Date.now() - 3600_000 });
  return { bucket, roleArn, details };
}

describe('orphans with several environments in one configuration', () => {
  test('GIVEN environments sharing one secret ARN, one region-agnostic, with integrations named for them in several accounts and regions WHEN status runs THEN the orphans check passes, exit 0', async () => {
    const arn = w.aws.putSecret(SECRET, JSON.stringify(USER));
    w.deployed();
    w.sim.seedIntegration('vm', { name: 'qs3-prod-vm-999999999999-eu-west-1' });
    w.sim.seedIntegration('vm', { name: `qs3-prod-vm-${ACCOUNT}-${REGION}` });
    w.sim.seedIntegration('vm', { name: `qs3-dev-eu-vm-${ACCOUNT}-eu-west-1` });
    const file = w.config(
      { credentialsSecret: arn },
      {
        prod: { gatewayUrl: w.gateway, credentialsSecret: arn, vm: {} },
        'dev-eu': { account: ACCOUNT, region: 'eu-west-1', gatewayUrl: w.gateway, credentialsSecret: SECRET, vm: {} },
      },
    );
    const { code, doc } = await status(file);
    const c = check(doc, 'orphans');
    expect(c.status).toBe('pass');
    expect(code).toBe(0);
  });

  test("GIVEN integrations named for dev and dev-eu in another account or region WHEN status runs THEN the orphans check fails naming them, not the region-agnostic prod's nor dev's own, exit 1", async () => {
    w.deployed();
    w.sim.seedIntegration('vm', { name: 'qs3-prod-vm-999999999999-eu-west-1' });
    w.sim.seedIntegration('vm', { name: 'qs3-dev-vm-999999999999-us-east-1' });
    w.sim.seedIntegration('pc', { name: `qs3-dev-eu-pc-${ACCOUNT}-us-west-2` });
    const file = w.config(
      {},
      {
        prod: { gatewayUrl: w.gateway, credentialsSecret: SECRET, vm: {} },
        'dev-eu': {
          account: ACCOUNT,
          region: 'eu-west-1',
          gatewayUrl: w.gateway,
          credentialsSecret: SECRET,
          vm: {},
          pc: {},
        },
      },
    );
    const { code, doc } = await status(file);
    const c = check(doc, 'orphans');
    expect(c.status).toBe('fail');
    expect(c.value).toContain('qs3-dev-vm-999999999999-us-east-1');
    expect(c.value).toContain(`qs3-dev-eu-pc-${ACCOUNT}-us-west-2`);
    expect(c.value).not.toContain('qs3-prod-vm');
    expect(c.value).not.toContain(`qs3-dev-vm-${ACCOUNT}`);
    expect(code).toBe(1);
  });

  test('GIVEN an integration the environment names explicitly ("vm.name" in the scheme, adoptExisting) WHEN status runs THEN the VM integration, registration and orphans checks pass without calling it an orphan, exit 0', async () => {
    const name = `qs3-legacy-vm-${ACCOUNT}-${REGION}`;
    deployVm(name);
    const file = w.config({ vm: { name, adoptExisting: true } }, {}, ['pc']);
    const { code, doc } = await status(file);
    expect(check(doc, 'vm-integration').status).toBe('pass');
    expect(check(doc, 'vm-registration').status).toBe('pass');
    const c = check(doc, 'orphans');
    expect(c.value).not.toContain(name);
    expect(c.status).toBe('pass');
    expect(code).toBe(0);
  });
});

describe('stale or missing stack outputs', () => {
  test('GIVEN stack outputs naming an old VM integration that still exists WHEN status runs THEN the VM trust and registration checks fail, exit 1', async () => {
    const d = w.deployed({ kinds: ['vm'] });
    // The stack still points at the integration it had before; the live one (and the role) moved on.
    const old = w.sim.seedIntegration('vm', {
      name: 'qualys-s3-old-registration',
      bucketName: d.bucket,
      bucketRegion: REGION,
      roleArn: d.roleArns.vm,
      integrationValidated: true,
    });
    const outputs = { ...w.aws.stack(STACK)!.outputs, VmIntegrationId: String(old.integrationId) };
    w.aws.setStackOutputs(STACK, outputs);
    const { code, doc } = await status(w.config({}, {}, ['pc']));
    expect(code).toBe(1);
    // The role trusts the live integration's external ID, not the one the stack names.
    expect(check(doc, 'vm-trust').status).toBe('fail');
    expect(check(doc, 'vm-registration').status).toBe('fail');
  });

  test('GIVEN a stack without BucketName and VmRoleArn outputs WHEN status runs THEN the VM registration check does not pass, no skip comes without a failure, and it exits 1', async () => {
    deployVm(`qs3-dev-vm-${ACCOUNT}-${REGION}`, { outputs: { BucketName: undefined, VmRoleArn: undefined } });
    const { code, doc } = await status(w.config({}, {}, ['pc']));
    // README: passes when Qualys's bucketName ... roleArn ... equal the stack's outputs; here there is nothing to equal.
    expect(check(doc, 'vm-registration').status).not.toBe('pass');
    // A skip means "a check it needs failed": skips without any failure cannot end in exit 0.
    if (doc.summary.skip > 0) expect(doc.summary.fail).toBeGreaterThan(0);
    expect(code).toBe(1);
  });

  test('GIVEN a stack with no outputs WHEN status runs THEN the VM and PC integration checks fail with a remedy, exit 1', async () => {
    w.aws.setStackStatus(STACK, 'UPDATE_COMPLETE');
    w.aws.setStackOutputs(STACK, {});
    const { code, doc } = await status(w.config());
    expect(check(doc, 'vm-integration').status).toBe('fail');
    expect(check(doc, 'pc-integration').status).toBe('fail');
    expect(code).toBe(1);
  });
});

describe('exit codes and the JSON document', () => {
  test('GIVEN only warnings (stack in progress, a stale second external ID, old data) WHEN status runs THEN the stack, VM trust and data checks warn, none fails, it exits 0 with ok true, and the human output has no "fix the ✖" line', async () => {
    const d = w.deployed({ now: Date.now() - 3 * DAY });
    w.aws.setStackStatus(STACK, 'UPDATE_IN_PROGRESS');
    w.aws.setTrustPolicy(d.roles.vm!, trustPolicy([d.externalIds.vm!, 'US_POD_1-old-external-id-0000']));
    const { code, doc } = await status(w.config());
    expect(doc.summary.fail).toBe(0);
    expect(doc.summary.warn).toBeGreaterThanOrEqual(4);
    for (const id of ['stack', 'vm-trust', 'vm-data', 'pc-data']) expect(check(doc, id).status).toBe('warn');
    expect(code).toBe(0);
    expect(doc.ok).toBe(true);
    const human = await w.run(['status', 'dev', '--config', w.config()]);
    expect(human.code).toBe(0);
    expect(human.stdout).not.toContain('fix the ✖');
    expectHumanSummaryMatches(human);
  });

  test('GIVEN many failures at once (Qualys 500 and 403, S3 denied, role gone, orphan, IAM reset) WHEN status runs THEN each affected check fails in one consistent JSON document, exit 1, and the human summary agrees with its marks', async () => {
    const d = w.deployed();
    w.sim.seedIntegration('vm', { name: `qs3-gone-vm-${ACCOUNT}-${REGION}` });
    w.sim.inject({ path: '/pcas/cips/config', status: 500, body: '{"messsage":"Internal error"}', times: 10 });
    w.sim.inject({
      path: `/partner-integration/aws/s3/${d.ids.pc}/pc`,
      status: 403,
      body: '{"messsage":"Access denied"}',
      times: 10,
    });
    w.aws.denyBucket(d.bucket);
    w.aws.deleteRole(d.roles.vm!);
    w.aws.inject({ service: 'iam', action: 'ListRoles', reset: true, times: 20 });
    const { code, doc } = await status(w.config());
    expect(code).toBe(1);
    for (const id of ['cips', 'pc-integration', 'vm-data', 'vm-trust', 'open-trust', 'orphans'])
      expect(check(doc, id).status).toBe('fail');
    // Human output agrees with itself too.
    w.sim.clearFaults();
    w.aws.clearFaults();
    const human = await w.run(['status', 'dev', '--config', w.config()]);
    expectHumanSummaryMatches(human);
  }, 45_000);
});

describe('the password never appears', () => {
  test('GIVEN an IAM error that quotes the password WHEN status runs with --json and with --verbose THEN the open-trust check fails, neither output contains the password, exit 1', async () => {
    w.deployed();
    const message = `Request rejected: policy document contains ${USER.password}`;
    w.aws.inject({ service: 'iam', action: 'ListRoles', status: 403, code: 'AccessDenied', message, times: 20 });
    const out = await status(w.config());
    expect(check(out.doc, 'open-trust').status).toBe('fail');
    const human = await w.run(['status', 'dev', '--config', w.config(), '--verbose']);
    expect(human.stdout + human.stderr).not.toContain(USER.password);
    expect(human.code).toBe(1);
  }, 30_000);

  test('GIVEN a CloudFormation error that quotes the password WHEN status runs with --json THEN stdout does not contain it, exit 1', async () => {
    w.deployed();
    w.aws.inject({
      service: 'cloudformation',
      action: 'DescribeStacks',
      status: 400,
      code: 'ValidationError',
      message: `Parameter value ${USER.password} is invalid`,
      times: 20,
    });
    const out = await w.json(['status', 'dev', '--config', w.config()]);
    expect(out.run.stdout).not.toContain(USER.password);
    expect(out.code).toBe(1);
  }, 30_000);
});

describe('PC only', () => {
  test('GIVEN a PC-only environment without policies or filter and a user denied VM and CIPS WHEN status runs THEN there is no VM or CIPS check, orphans does not fail, and it exits 0', async () => {
    await w.build({ sim: { users: [{ ...USER, denied: ['s3-vm', 'cips'] }] } });
    w.deployed({ kinds: ['pc'] });
    const { code, doc } = await status(w.config({ pc: {} }, {}, ['vm']));
    expect(doc.checks.map((c) => c.id).filter((id) => id.startsWith('vm-') || id === 'cips')).toEqual([]);
    expect(check(doc, 'orphans').status).not.toBe('fail');
    expect(code).toBe(0);
  });

  test("GIVEN a region-agnostic PC-only environment and a default-named PC integration for the caller's account and AWS_REGION WHEN preflight runs THEN the existing-PC check warns naming it, there is no VM check, and it exits 0", async () => {
    w.sim.seedIntegration('pc', { name: `qs3-dev-pc-${ACCOUNT}-${REGION}`, bucketRegion: REGION });
    const file = w.config({ pc: { policies: [2001] } }, {}, ['vm', 'account', 'region']);
    const out = await w.json(['preflight', 'dev', '--config', file]);
    const doc = expectConsistent(w, out);
    expect(check(doc, 'existing-pc').status).toBe('warn');
    expect(check(doc, 'existing-pc').value).toContain(`qs3-dev-pc-${ACCOUNT}-${REGION}`);
    expect(doc.checks.some((c) => c.id === 'api-vm' || c.id === 'existing-vm')).toBe(false);
    expect(out.code).toBe(0);
  });
});
