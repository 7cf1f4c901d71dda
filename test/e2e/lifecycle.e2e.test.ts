/**
 * End to end: synthesize the real app (bin/app.ts, as `cdk synth` runs it), take the
 * bundled handler out of the cloud assembly, and drive it through create, update, rotation
 * and delete the way CloudFormation and the Provider framework would: against the local
 * Qualys simulator and a local fake AWS endpoint reached through AWS_ENDPOINT_URL, with the
 * real AWS SDK and real HTTP.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeAws } from '../../sim/fake-aws';
import { DIALECTS, type DialectName, QualysSimulator } from '../../sim/qualys-simulator';
import { resolveDialect } from '../../sim/qualys-dialect';
import { type Template, resourcesOfType } from '../../sim/cfn-emulator';
import {
  Deployment,
  QUALYS_PRINCIPAL,
  ROOT,
  loadBundledHandler as loadHandler,
  synthApp,
  trustedExternalIds,
} from '../../sim/deployment';
import { CIPS_FILTER } from '../support/fixtures';

const USER = { username: 'e2e-user', password: 'e2e-Pa55word!' };
const SECRET = 'qualys/api-credentials';
const ENV = 'e2e';
const STACK = `QualysS3-${ENV}`;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

let sim: QualysSimulator;
let aws: FakeAws;
let gateway: string;
let outdir: string;
let output: string[] = [];
let restoreStdout: () => void;

const synth = (config: unknown, name: string) => synthApp(config, path.join(outdir, name), STACK);
const target = () => ({ aws, stackName: STACK, account: ACCOUNT, region: REGION });
const externalIds = (roleName: string) => trustedExternalIds(aws, roleName);

function environment(overrides: Record<string, unknown> = {}) {
  return {
    environments: {
      [ENV]: {
        account: ACCOUNT,
        region: REGION,
        gatewayUrl: gateway,
        credentialsSecret: SECRET,
        validationTimeoutSeconds: 30,
        vm: { minSeverity: 4 },
        pc: { policies: [2001, 2002], filter: { includeFailPosture: true, includePassPosture: false } },
        ...overrides,
      },
    },
  };
}

beforeAll(async () => {
  outdir = fs.mkdtempSync(path.join(ROOT, '.tmp-e2e-'));
  aws = new FakeAws();
  const awsUrl = await aws.start();
  sim = new QualysSimulator({ users: [USER], trustChecker: aws.qualysTrustChecker(QUALYS_PRINCIPAL) });
  gateway = await sim.start();
  aws.putSecret(SECRET, JSON.stringify(USER));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: awsUrl,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'e2e-secret-key',
  });
  // Capture everything the handler writes, as CloudWatch Logs would.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  restoreStdout = () => {
    process.stdout.write = write;
  };
}, 60_000);

afterAll(async () => {
  restoreStdout?.();
  await sim?.stop();
  await aws?.stop();
  fs.rmSync(outdir, { recursive: true, force: true });
});

afterEach(() => {
  const text = output.join('');
  expect(text).not.toContain(USER.password);
  for (const token of sim.issuedTokens()) expect(text).not.toContain(token);
  expect(text).not.toContain('X-Amz-Signature');
  output = [];
});

describe('the synthesized app, deployed and destroyed', () => {
  test("GIVEN the app synthesized with VM and PC WHEN CloudFormation creates, redeploys unchanged, updates, rotates, rewrites the trust policy and deletes THEN Qualys and the roles' trust follow each step, the unchanged redeploy makes no Qualys call, and destroy leaves no integration or CIPS policy", async () => {
    // GIVEN the app synthesized for one environment with VM and PC
    const first = synth(environment(), 'v1');
    const deployment = new Deployment(first.template, loadHandler(first.dir, first.template), target());
    deployment.createPlainResources();
    const [pcId, vmId] = deployment.integrations().sort();

    // Before registration the roles trust Qualys only with a placeholder external ID.
    expect(externalIds(deployment.roleName('Vm'))).toEqual(['qualys-s3-pending-registration-vm']);

    // WHEN CloudFormation creates the custom resources
    const vm = await deployment.create(vmId);
    const pc = await deployment.create(pcId);

    // THEN both integrations are registered, validated, and their roles trust only their external IDs
    expect(vm).toMatchObject({ ok: true });
    expect(pc).toMatchObject({ ok: true });
    const [vmIntegration] = sim.integrations('vm');
    const [pcIntegration] = sim.integrations('pc');
    expect(vmIntegration).toMatchObject({
      name: `qs3-${ENV}-vm-${ACCOUNT}-${REGION}`,
      minSeverity: 4,
      bucketName: deployment.bucketName,
      bucketRegion: REGION,
      integrationValidated: true,
    });
    expect(pcIntegration).toMatchObject({ name: `qs3-${ENV}-pc-${ACCOUNT}-${REGION}`, integrationValidated: true });
    expect(externalIds(deployment.roleName('Vm'))).toEqual([vmIntegration.externalId]);
    expect(externalIds(deployment.roleName('Pc'))).toEqual([pcIntegration.externalId]);
    expect(sim.cips()).toEqual({ policies: [2001, 2002], filter: CIPS_FILTER });

    // WHEN the same app is deployed again unchanged THEN no Qualys call is made
    sim.resetCalls();
    expect(await deployment.update(vmId)).toMatchObject({ ok: true });
    expect(await deployment.update(pcId)).toMatchObject({ ok: true });
    expect(sim.calls).toEqual([]);

    // WHEN a setting and the policy list change THEN the same integrations are updated in place
    const second = synth(
      environment({
        vm: { minSeverity: 2, sendVulnInfo: true },
        pc: { policies: [2002, 2003], filter: { includeFailPosture: true, includePassPosture: false } },
      }),
      'v2',
    );
    deployment.template = second.template;
    expect(await deployment.update(vmId)).toMatchObject({
      ok: true,
      PhysicalResourceId: vm.ok ? vm.PhysicalResourceId : '',
    });
    expect(await deployment.update(pcId)).toMatchObject({ ok: true });
    expect(sim.integrations('vm')).toEqual([
      expect.objectContaining({
        integrationId: vmIntegration.integrationId,
        minSeverity: 2,
        sendVulnInfo: true,
        integrationValidated: true,
      }),
    ]);
    expect(sim.cips().policies).toEqual([2002, 2003]);
    expect(sim.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/partner-integration'))).toEqual([]);

    // WHEN the external ID is rotated THEN only the new one is trusted
    const third = synth(
      environment({
        vm: { minSeverity: 2, sendVulnInfo: true, externalIdRotation: '2026-11-22' },
        pc: { policies: [2002, 2003], filter: { includeFailPosture: true, includePassPosture: false } },
      }),
      'v3',
    );
    deployment.template = third.template;
    expect(await deployment.update(vmId)).toMatchObject({ ok: true });
    const rotated = sim.integrations('vm')[0];
    expect(rotated.externalId).not.toEqual(vmIntegration.externalId);
    expect(externalIds(deployment.roleName('Vm'))).toEqual([rotated.externalId]);
    expect(
      aws.canAssume(
        `arn:aws:iam::${ACCOUNT}:role/${deployment.roleName('Vm')}`,
        QUALYS_PRINCIPAL,
        vmIntegration.externalId!,
      ).ok,
    ).toBe(false);

    // WHEN a later deploy changes the role's trust document, CloudFormation rewrites it with the
    // placeholder; the custom resource's fingerprint property follows the document, so it gets an Update
    const previous = deployment.template;
    const changed = JSON.parse(JSON.stringify(previous)) as Template;
    const roleId = resourcesOfType(changed, 'AWS::IAM::Role').find((r) => r.startsWith('VmRole'))!;
    (
      changed.Resources[roleId].Properties!.AssumeRolePolicyDocument as { Statement: Array<Record<string, unknown>> }
    ).Statement[0].Sid = 'QualysAssume';
    changed.Resources[vmId].Properties!.TrustPolicyFingerprint = 'changed-with-the-document';
    deployment.template = changed;
    deployment.updateRoles(previous);
    expect(externalIds(deployment.roleName('Vm'))).toEqual(['qualys-s3-pending-registration-vm']);
    expect(await deployment.update(vmId)).toMatchObject({ ok: true });
    // THEN the custom resource puts the external ID back
    expect(externalIds(deployment.roleName('Vm'))).toEqual([rotated.externalId]);

    // WHEN the stack is destroyed THEN both integrations and the CIPS policies are gone
    expect(await deployment.delete(vmId)).toMatchObject({ ok: true });
    expect(await deployment.delete(pcId)).toMatchObject({ ok: true });
    expect(sim.integrations('vm')).toEqual([]);
    expect(sim.integrations('pc')).toEqual([]);
    expect(sim.cips().policies).toEqual([]);
  }, 120_000);

  test('GIVEN a VM integration whose validation never succeeds WHEN CloudFormation creates it THEN the create fails within 45 s saying validation did not succeed and it was deregistered, and nothing is left in Qualys', async () => {
    const { template, dir } = synth(environment({ pc: false }), 'fail');
    const deployment = new Deployment(template, loadHandler(dir, template), target());
    deployment.createPlainResources();
    aws.propagationDelayMs = 10 * 60_000;
    try {
      const started = Date.now();
      const out = await deployment.create(deployment.integrations()[0]);
      expect(out.ok).toBe(false);
      expect(Date.now() - started).toBeLessThan(45_000);
      if (!out.ok)
        expect(out.reason).toMatch(
          /Create failed: Validation of VM integration \d+ did not succeed within 29 s \(\d+ attempts\).*deregistered again/,
        );
      expect(sim.integrations('vm')).toEqual([]);
    } finally {
      aws.propagationDelayMs = 0;
    }
  }, 90_000);

  test('GIVEN a wrong password in the secret WHEN CloudFormation creates the VM integration THEN it fails with HTTP 401 to POST /auth naming the secret, and nothing is registered', async () => {
    aws.putSecret(SECRET, JSON.stringify({ username: USER.username, password: 'not-the-password' }));
    try {
      const { template, dir } = synth(environment({ pc: false }), 'badcreds');
      const deployment = new Deployment(template, loadHandler(dir, template), target());
      deployment.createPlainResources();
      const out = await deployment.create(deployment.integrations()[0]);
      expect(out).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/HTTP 401 to POST \/auth.*secret "qualys\/api-credentials"/),
      });
      expect(sim.integrations('vm')).toEqual([]);
    } finally {
      aws.putSecret(SECRET, JSON.stringify(USER));
    }
  }, 60_000);

  test('GIVEN a missing or malformed secret, 503/429/502 bursts, an expired token, and a leftover or foreign integration of the same name WHEN CloudFormation creates and deletes THEN the secret faults fail saying what to fix without echoing the value, the bursts end in one validated integration, the expired token costs one login, the leftover is adopted and the foreign one refused and left alone', async () => {
    const { template, dir } = synth(environment({ pc: false }), 'faults');
    const deployment = new Deployment(template, loadHandler(dir, template), target());
    deployment.createPlainResources();
    const vmId = deployment.integrations()[0];
    try {
      // A missing secret: the reason names it and says what to do; nothing is registered.
      aws.deleteSecret(SECRET);
      expect(await deployment.create(vmId)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/secret "qualys\/api-credentials" failed: it does not exist.*README/),
      });
      // A malformed secret: the reason explains the format and never echoes the value.
      aws.putSecret(SECRET, 'just-the-password-1234');
      const malformed = await deployment.create(vmId);
      expect(malformed).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/is not JSON; its SecretString must be \{"username":"...","password":"..."\}/),
      });
      expect(JSON.stringify(malformed)).not.toContain('just-the-password-1234');
      expect(sim.integrations('vm')).toEqual([]);
      aws.putSecret(SECRET, JSON.stringify(USER));

      // 503 (HTML) and 429 bursts are retried, honouring Retry-After; one integration results.
      sim.inject({ method: 'POST', path: '/auth', status: 503, html: true, times: 2 });
      sim.inject({
        method: 'GET',
        path: '/partner-integration/aws/s3/vm',
        status: 429,
        headers: { 'Retry-After': '1' },
        times: 2,
      });
      sim.inject({ method: 'PATCH', path: /\/validate$/, status: 502, html: true, times: 1 });
      const created = await deployment.create(vmId);
      expect(created).toMatchObject({ ok: true });
      expect(sim.integrations('vm')).toEqual([expect.objectContaining({ integrationValidated: true })]);

      // An expired token: the handler re-authenticates once and the delete goes through.
      sim.expireAllTokens();
      sim.resetCalls();
      expect(await deployment.delete(vmId)).toMatchObject({ ok: true });
      expect(sim.calls.filter((c) => c.path === '/auth')).toHaveLength(1);
      expect(sim.integrations('vm')).toEqual([]);

      // A leftover of an interrupted deploy (this environment's default name) is adopted, not duplicated.
      const leftover = sim.seedIntegration('vm', {
        name: `qs3-${ENV}-vm-${ACCOUNT}-${REGION}`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/gone`,
      });
      sim.resetCalls();
      expect(await deployment.create(vmId)).toMatchObject({
        ok: true,
        PhysicalResourceId: expect.stringMatching(new RegExp(`^vm:${leftover.integrationId}@`)),
      });
      expect(sim.calls.filter((c) => c.method === 'POST' && c.path === '/partner-integration/aws/s3/vm')).toEqual([]);
      expect(sim.integrations('vm')).toEqual([
        expect.objectContaining({
          integrationId: leftover.integrationId,
          bucketName: deployment.bucketName,
          integrationValidated: true,
        }),
      ]);
      expect(await deployment.delete(vmId)).toMatchObject({ ok: true });
    } finally {
      aws.putSecret(SECRET, JSON.stringify(USER));
    }

    // Someone else's integration of the configured name is refused, named, and left alone.
    const named = synth(environment({ pc: false, vm: { name: 'e2e-shared-name' } }), 'foreign');
    const other = new Deployment(named.template, loadHandler(named.dir, named.template), target());
    other.createPlainResources();
    const foreign = sim.seedIntegration('vm', {
      name: 'e2e-shared-name',
      bucketName: 'someone-elses-bucket',
      roleArn: 'arn:aws:iam::999999999999:role/theirs',
    });
    const refused = await other.create(other.integrations()[0]);
    expect(refused).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        new RegExp(`named "e2e-shared-name" already exists in Qualys \\(ID ${foreign.integrationId}.*adoptExisting`),
      ),
    });
    expect(sim.integrations('vm')).toEqual([
      expect.objectContaining({ integrationId: foreign.integrationId, bucketName: 'someone-elses-bucket' }),
    ]);
  }, 120_000);
});

describe.each(Object.keys(DIALECTS) as DialectName[])('the bundled handler under the "%s" reading', (dialect) => {
  let v1: ReturnType<typeof synth>;
  let v2: ReturnType<typeof synth>;
  beforeAll(() => {
    // One synthesis for every dialect: the templates name the same simulator.
    shared.v1 ??= synth(
      environment({ vm: { minSeverity: 4 }, pc: { policies: [2001], compressData: false } }),
      'dialect-v1',
    );
    shared.v2 ??= synth(
      environment({
        vm: { minSeverity: 2, externalIdRotation: 'r2' },
        pc: { policies: [2001, 2002], compressData: true },
      }),
      'dialect-v2',
    );
    ({ v1, v2 } = shared as { v1: typeof v1; v2: typeof v2 });
    // Each reading starts from an empty subscription (the tests above leave a foreign integration).
    sim.clearIntegrations();
    sim.clearCips();
    sim.dialect = dialect;
  });
  afterAll(() => {
    sim.dialect = 'strict';
  });

  test("GIVEN VM and PC integrations WHEN created, updated with a VM rotation, given a PC trust rewrite and deleted THEN Qualys and the roles' trust follow each step, and destroy removes the CIPS policies unless this reading cannot read CIPS", async () => {
    const deployment = new Deployment(v1.template, loadHandler(v1.dir, v1.template), target());
    deployment.createPlainResources();
    const [pcId, vmId] = deployment.integrations().sort();
    expect(await deployment.create(vmId)).toMatchObject({ ok: true });
    expect(await deployment.create(pcId)).toMatchObject({ ok: true });
    const [vm] = sim.integrations('vm');
    const [pc] = sim.integrations('pc');
    expect([vm.integrationValidated, pc.integrationValidated]).toEqual([true, true]);
    expect(pc.compressData).toBe(false);
    expect(externalIds(deployment.roleName('Vm'))).toEqual([vm.externalId]);
    expect(externalIds(deployment.roleName('Pc'))).toEqual([pc.externalId]);
    expect(sim.cips().policies).toEqual([2001]);

    deployment.template = v2.template;
    expect(await deployment.update(vmId)).toMatchObject({ ok: true });
    expect(await deployment.update(pcId)).toMatchObject({ ok: true });
    const rotated = sim.integrations('vm')[0];
    expect(rotated).toMatchObject({ integrationId: vm.integrationId, minSeverity: 2, integrationValidated: true });
    expect(rotated.externalId).not.toBe(vm.externalId);
    expect(externalIds(deployment.roleName('Vm'))).toEqual([rotated.externalId]);
    expect(sim.integrations('pc')[0]).toMatchObject({ integrationId: pc.integrationId, compressData: true });
    expect(sim.cips().policies).toEqual([2001, 2002]);

    // CloudFormation rewrites the PC role's trust document: the handler puts the external ID back.
    const previous = deployment.template;
    const changed = JSON.parse(JSON.stringify(previous)) as Template;
    const roleId = resourcesOfType(changed, 'AWS::IAM::Role').find((r) => r.startsWith('PcRole'))!;
    (
      changed.Resources[roleId].Properties!.AssumeRolePolicyDocument as { Statement: Array<Record<string, unknown>> }
    ).Statement[0].Sid = 'QualysAssume';
    changed.Resources[pcId].Properties!.TrustPolicyFingerprint = 'changed-with-the-document';
    deployment.template = changed;
    deployment.updateRoles(previous);
    expect(await deployment.update(pcId)).toMatchObject({ ok: true });
    expect(externalIds(deployment.roleName('Pc'))).toEqual([sim.integrations('pc')[0].externalId]);

    expect(await deployment.delete(vmId)).toMatchObject({ ok: true });
    expect(await deployment.delete(pcId)).toMatchObject({ ok: true });
    expect(sim.integrations('vm')).toEqual([]);
    expect(sim.integrations('pc')).toEqual([]);
    // Where CIPS cannot be read, no policy is removed: it cannot tell which ones were there before.
    expect(sim.cips().policies).toEqual(resolveDialect(dialect).cipsConfigShape === 'opaque' ? [2001, 2002] : []);
    sim.clearCips();
  }, 120_000);

  test('GIVEN Qualys losing the VM integration at validation and CIPS refusing the PC policy add WHEN both are created THEN each create fails saying it deregistered again, and no integration or CIPS change is left', async () => {
    const deployment = new Deployment(v1.template, loadHandler(v1.dir, v1.template), target());
    deployment.createPlainResources();
    const [pcId, vmId] = deployment.integrations().sort();
    const policiesBefore = sim.cips().policies;
    // VM: Qualys says the integration is gone at validation; PC: CIPS refuses the policy add.
    sim.inject({
      method: 'PATCH',
      path: /\/vm\/validate$/,
      status: 404,
      body: JSON.stringify({ messsage: 'not found' }),
    });
    sim.inject({
      method: 'POST',
      path: '/pcas/cips/config/policy',
      status: 400,
      body: JSON.stringify({ messsage: 'CIPS is not enabled' }),
    });
    expect(await deployment.create(vmId)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/deregistered again/),
    });
    expect(await deployment.create(pcId)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/CIPS is not enabled.*deregistered again/),
    });
    sim.clearFaults();
    expect(sim.integrations('vm')).toEqual([]);
    expect(sim.integrations('pc')).toEqual([]);
    expect(sim.cips().policies).toEqual(policiesBefore);
  }, 60_000);
});

const shared: { v1?: ReturnType<typeof synth>; v2?: ReturnType<typeof synth> } = {};
