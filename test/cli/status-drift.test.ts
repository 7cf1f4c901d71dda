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
  it('a healthy deployment passes every check, exit 0, value per check, no secret printed', async () => {
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

  it('human output: one line per check with a mark, and the summary; exit 0', async () => {
    w.deployed();
    const run = await w.run(['status', 'dev', '--config', w.config()]);
    expectNoSecrets(w, run);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ .*VM integration/);
    expect(run.stdout).not.toMatch(/✖/);
  });
});

describe('trust drift', () => {
  it('role trust policy without any external ID condition fails (exit 1)', async () => {
    const d = w.deployed();
    w.aws.setTrustPolicy(d.roles.vm!, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: QUALYS_PRINCIPAL }, Action: 'sts:AssumeRole' }],
    });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'vm-trust').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('role trusting only a stale external ID fails', async () => {
    const d = w.deployed();
    w.aws.setTrustPolicy(d.roles.vm!, trustPolicy(['US_POD_1-71-00000000-0000-0000-0000-000000000000']));
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    expect(check(doc, 'vm-trust').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('the integration role also admitting Qualys with a wildcard StringLike external ID is caught', async () => {
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

  it('another role in the account trusting the Qualys principal without a condition fails', async () => {
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

  it('another role trusting the Qualys account root (not just the role ARN) without a condition fails', async () => {
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

  it('another role admitting Qualys with StringLike sts:ExternalId "*" (no real external ID) is caught', async () => {
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

  it('the role deleted outside CloudFormation fails', async () => {
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

  it('registration pointing at another bucket fails', async () => {
    const { code, doc } = await withVm({ bucketName: 'someone-elses-bucket' });
    expect(check(doc, 'vm-registration').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('registration pointing at another region fails', async () => {
    const { code, doc } = await withVm({ bucketRegion: 'eu-central-1' });
    expect(check(doc, 'vm-registration').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('registration pointing at another role fails', async () => {
    const { code, doc } = await withVm({ roleArn: `arn:aws:iam::${ACCOUNT}:role/some-other-role` });
    expect(check(doc, 'vm-registration').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('integration not validated fails and reports integrationValidated', async () => {
    const { code, doc } = await withVm({ integrationValidated: false });
    const c = check(doc, 'vm-integration');
    expect(c.status).toBe('fail');
    expect(c.details?.integrationValidated).toBe(false);
    expect(code).toBe(1);
  });
});

describe('CIPS and orphans', () => {
  it('CIPS policy removed through the API is reported as missing (exit 1)', async () => {
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

  it('a CIPS filter changed in Qualys fails', async () => {
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

  it('an integration named by this app for an environment not in the configuration is an orphan', async () => {
    w.deployed();
    w.sim.seedIntegration('vm', { name: DEFAULT_NAME('vm', 'oldenv'), integrationValidated: true });
    const { code, doc } = await w.json(['status', 'dev', '--config', w.config()]);
    const c = check(doc, 'orphans');
    expect(c.status).toBe('fail');
    expect(c.value).toContain(DEFAULT_NAME('vm', 'oldenv'));
    expect(code).toBe(1);
  });

  it('a PC orphan is found too, and integrations of other configured environments are not orphans', async () => {
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
