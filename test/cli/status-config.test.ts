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
  it('two environments sharing one subscription (same secret ARN), the other region-agnostic: its integrations in any account/region are not orphans', async () => {
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

  it("integrations of a configured environment name but another account or region are orphans; the other environments' are not", async () => {
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

  it('an integration a configured environment names explicitly ("vm.name" in the scheme, adoptExisting) belongs to that environment: not an orphan', async () => {
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
  it('outputs naming an old integration that still exists (replaced since): status does not call it healthy', async () => {
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

  it('a stack without BucketName and VmRoleArn outputs: the registration cannot be confirmed "as deployed" and the run is not a pass', async () => {
    deployVm(`qs3-dev-vm-${ACCOUNT}-${REGION}`, { outputs: { BucketName: undefined, VmRoleArn: undefined } });
    const { code, doc } = await status(w.config({}, {}, ['pc']));
    // README: passes when Qualys's bucketName ... roleArn ... equal the stack's outputs; here there is nothing to equal.
    expect(check(doc, 'vm-registration').status).not.toBe('pass');
    // A skip means "a check it needs failed": skips without any failure cannot end in exit 0.
    if (doc.summary.skip > 0) expect(doc.summary.fail).toBeGreaterThan(0);
    expect(code).toBe(1);
  });

  it('a stack with no outputs at all fails the integration checks with a remedy, exit 1', async () => {
    w.aws.setStackStatus(STACK, 'UPDATE_COMPLETE');
    w.aws.setStackOutputs(STACK, {});
    const { code, doc } = await status(w.config());
    expect(check(doc, 'vm-integration').status).toBe('fail');
    expect(check(doc, 'pc-integration').status).toBe('fail');
    expect(code).toBe(1);
  });
});

describe('exit codes and the JSON document', () => {
  it('warnings alone (stack in progress, stale second external ID, old data) exit 0, ok true, no "fix the ✖" line', async () => {
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

  it('every kind of failure at once (Qualys 500, reset, 403; S3 denied; role gone; orphan; IAM reset): one valid JSON document, counts consistent', async () => {
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
  it('an IAM error that quotes the password (after the secret was read): not printed, human --verbose and --json', async () => {
    w.deployed();
    const message = `Request rejected: policy document contains ${USER.password}`;
    w.aws.inject({ service: 'iam', action: 'ListRoles', status: 403, code: 'AccessDenied', message, times: 20 });
    const out = await status(w.config());
    expect(check(out.doc, 'open-trust').status).toBe('fail');
    const human = await w.run(['status', 'dev', '--config', w.config(), '--verbose']);
    expect(human.stdout + human.stderr).not.toContain(USER.password);
    expect(human.code).toBe(1);
  }, 30_000);

  it('a CloudFormation error that quotes the password (before the secret is read), under --json: not printed', async () => {
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
  it('PC-only environment without policies or filter, user denied VM and CIPS: status passes, no CIPS check, no VM check', async () => {
    await w.build({ sim: { users: [{ ...USER, denied: ['s3-vm', 'cips'] }] } });
    w.deployed({ kinds: ['pc'] });
    const { code, doc } = await status(w.config({ pc: {} }, {}, ['vm']));
    expect(doc.checks.map((c) => c.id).filter((id) => id.startsWith('vm-') || id === 'cips')).toEqual([]);
    expect(check(doc, 'orphans').status).not.toBe('fail');
    expect(code).toBe(0);
  });

  it("preflight for a region-agnostic PC-only environment finds the default-named integration by the caller's account and AWS_REGION (warning: adopted), exit 0", async () => {
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
