/**
 * `qualys-s3 status`: drift a deployed environment in ways the spec says status must catch.
 */
import {
  QUALYS_PRINCIPAL,
  check,
  expectNoSecrets,
  expectWellFormed,
  trustPolicy,
  defaultName,
  DEV_SITE,
  useCliWorld,
} from '../support/cli-world';

const { ACCOUNT, REGION, STACK } = DEV_SITE;
const DEFAULT_NAME = (kind: 'vm' | 'pc', env?: string) => defaultName(DEV_SITE, kind, env);

const w = useCliWorld({ site: DEV_SITE });

describe('status baseline', () => {
  test('GIVEN a healthy deployment WHEN status runs with --json THEN no check fails, it exits 0, the integration checks name their IDs, the data checks their newest object, and nothing goes to stderr or prints a secret', async () => {
    const d = w.deployed();
    const { code, doc, run } = await w.json(['status', 'dev', '--config', w.config()]);
    expectWellFormed(doc);
    expectNoSecrets(w, run);
    expect(doc.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    // each integration: its ID and integrationValidated
    const vm = check(doc, 'vm-integration');
    expect(vm.value).toContain(String(d.ids.vm));
    expect(check(doc, 'pc-integration').value).toContain(String(d.ids.pc));
    // data flowing: newest object and its age
    expect(check(doc, 'vm-data').value).toContain('findings/2026-01-02/b.json.gz');
    expect(check(doc, 'pc-data').value).toContain('qualys_pc_posture_info/2026-01-02/c.json.gz');
    expect(run.stderr).toBe('');
  });

  test('GIVEN a healthy deployment WHEN status prints for a person THEN it exits 0 with a ✔ VM integration line and no ✖', async () => {
    w.deployed();
    const run = await w.run(['status', 'dev', '--config', w.config()]);
    expectNoSecrets(w, run);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ .*VM integration/);
    expect(run.stdout).not.toMatch(/✖/);
  });
});

describe('trust drift', () => {
  test('GIVEN the VM role trusts Qualys without an external ID condition WHEN status runs THEN the VM trust check fails, exit 1', async () => {
    const d = w.deployed();
    w.aws.setTrustPolicy(d.roles.vm!, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: QUALYS_PRINCIPAL }, Action: 'sts:AssumeRole' }],
    });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'vm-trust').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN the VM role trusts only a stale external ID WHEN status runs THEN the VM trust check fails, exit 1', async () => {
    const d = w.deployed();
    w.aws.setTrustPolicy(d.roles.vm!, trustPolicy(['US_POD_1-71-00000000-0000-0000-0000-000000000000']));
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'vm-trust').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN the VM role also admits Qualys with a StringLike "*" external ID WHEN status runs THEN the VM trust check fails, exit 1', async () => {
    // "nothing else trusts the Qualys principal without it": a StringLike "*" condition
    // admits any external ID, i.e. the confused-deputy hole the external ID exists to close.
    const d = w.deployed();
    w.aws.setTrustPolicy(
      d.roles.vm!,
      trustPolicy(
        [d.externalIds.vm!],
        [
          {
            Effect: 'Allow',
            Principal: { AWS: QUALYS_PRINCIPAL },
            Action: 'sts:AssumeRole',
            Condition: { StringLike: { 'sts:ExternalId': '*' } },
          },
        ],
      ),
    );
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'vm-trust').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN another role in the account trusts the Qualys principal without a condition WHEN status runs THEN the open-trust check fails naming that role, exit 1', async () => {
    w.deployed();
    w.aws.createRole('legacy-qualys-role', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: QUALYS_PRINCIPAL }, Action: 'sts:AssumeRole' }],
    });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    const open = check(doc, 'open-trust');
    expect(open.status).toBe('fail');
    expect(open.value).toContain('legacy-qualys-role');
    expect(code).toBe(1);
  });

  test('GIVEN another role trusts the Qualys account root without a condition WHEN status runs THEN the open-trust check fails, exit 1', async () => {
    w.deployed();
    w.aws.createRole('legacy-root-role', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::805950163170:root' }, Action: ['sts:AssumeRole'] },
      ],
    });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'open-trust').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN another role admits Qualys with StringLike sts:ExternalId "*" WHEN status runs THEN the open-trust check fails, exit 1', async () => {
    w.deployed();
    w.aws.createRole('wildcard-qualys-role', {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: QUALYS_PRINCIPAL },
          Action: 'sts:AssumeRole',
          Condition: { StringLike: { 'sts:ExternalId': '*' } },
        },
      ],
    });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'open-trust').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN the PC role deleted outside CloudFormation WHEN status runs THEN the PC trust check fails, exit 1', async () => {
    const d = w.deployed();
    w.aws.deleteRole(d.roles.pc!);
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'pc-trust').status).toBe('fail');
    expect(code).toBe(1);
  });
});

describe('registration drift', () => {
  async function withVm(partial: Record<string, unknown>) {
    // Deploy only PC through the helper, then register VM by hand with the drifted field.
    const d = w.deployed({ kinds: ['pc'] });
    const roleName = `${STACK}-VmRole-ADVvm`;
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
    const details = w.sim.seedIntegration('vm', {
      name: DEFAULT_NAME('vm'),
      bucketName: d.bucket,
      bucketRegion: REGION,
      roleArn,
      integrationValidated: true,
      ...partial,
    });
    w.aws.createRole(roleName, trustPolicy([details.externalId]));
    const outputs = {
      ...w.aws.stack(STACK)!.outputs,
      VmRoleArn: roleArn,
      VmIntegrationId: String(details.integrationId),
      VmIntegrationName: DEFAULT_NAME('vm'),
    };
    w.aws.setStackOutputs(STACK, outputs);
    return w.json(['status', 'dev', '--config', w.config()]);
  }

  test('GIVEN the VM registration points at another bucket WHEN status runs THEN the VM registration check fails, exit 1', async () => {
    const { code, doc } = await withVm({ bucketName: 'someone-elses-bucket' });
    expect(check(doc, 'vm-registration').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN the VM registration points at another region WHEN status runs THEN the VM registration check fails, exit 1', async () => {
    const { code, doc } = await withVm({ bucketRegion: 'eu-central-1' });
    expect(check(doc, 'vm-registration').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN the VM registration points at another role WHEN status runs THEN the VM registration check fails, exit 1', async () => {
    const { code, doc } = await withVm({ roleArn: `arn:aws:iam::${ACCOUNT}:role/some-other-role` });
    expect(check(doc, 'vm-registration').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN a VM integration that is not validated WHEN status runs THEN the VM integration check fails with integrationValidated false in its details, exit 1', async () => {
    const { code, doc } = await withVm({ integrationValidated: false });
    const c = check(doc, 'vm-integration');
    expect(c.status).toBe('fail');
    expect(c.details?.integrationValidated).toBe(false);
    expect(code).toBe(1);
  });
});

describe('CIPS and orphans', () => {
  test('GIVEN a CIPS policy deleted through the Qualys API WHEN status runs THEN the CIPS check fails naming that policy, exit 1, without printing a secret', async () => {
    w.deployed();
    const token = await (
      await fetch(`${w.gateway}/auth`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'adv-user', password: 'Adv-P4ssw0rd-ZZq9', token: 'true' }).toString(),
      })
    ).text();
    const del = await fetch(`${w.gateway}/pcas/cips/config/policy`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ policy: [2002] }]),
    });
    expect(del.ok).toBe(true);
    expect(w.sim.cips().policies).toEqual([2001]);
    const { code, doc, run } = await w.json(['status', 'dev', '--config', w.config()]);
    const c = check(doc, 'cips');
    expect(c.status).toBe('fail');
    expect(c.value).toContain('2002');
    expect(code).toBe(1);
    expectNoSecrets(w, run);
  });

  test('GIVEN the CIPS filter changed in Qualys WHEN status runs THEN the CIPS check fails, exit 1', async () => {
    w.deployed();
    w.sim.seedCips({
      filter: {
        includeEvidenceData: true,
        includeFailPosture: true,
        includePassPosture: true,
        includeErrorPosture: true,
      },
    });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'cips').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN a VM integration named by this app for an environment not in the configuration WHEN status runs THEN the orphans check fails naming it, exit 1', async () => {
    w.deployed();
    w.sim.seedIntegration('vm', { name: DEFAULT_NAME('vm', 'oldenv'), integrationValidated: true });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    const c = check(doc, 'orphans');
    expect(c.status).toBe('fail');
    expect(c.value).toContain(DEFAULT_NAME('vm', 'oldenv'));
    expect(code).toBe(1);
  });

  test('GIVEN a PC integration of a removed environment and a VM one of the configured staging WHEN status runs THEN the orphans check fails naming the PC one, not the staging one', async () => {
    w.deployed();
    w.sim.seedIntegration('pc', { name: DEFAULT_NAME('pc', 'gone') });
    w.sim.seedIntegration('vm', { name: DEFAULT_NAME('vm', 'staging') });
    const file = w.config(
      {},
      {
        staging: {
          account: ACCOUNT,
          region: REGION,
          gatewayUrl: w.gateway,
          credentialsSecret: 'qualys/staging',
          vm: {},
        },
      },
    );
    const { doc } = await w.json(['status', 'dev', '--config', file]);
    const c = check(doc, 'orphans');
    expect(c.status).toBe('fail');
    expect(c.value).toContain(DEFAULT_NAME('pc', 'gone'));
    expect(c.value).not.toContain(DEFAULT_NAME('vm', 'staging'));
  });
});
