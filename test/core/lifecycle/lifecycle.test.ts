/**
 * The lifecycle against the local Qualys simulator, with the AWS seams faked in memory and
 * a virtual clock (so IAM propagation delays and backoff cost no real time).
 */
import { Prop } from '../../../src/core/contract';
import { onEvent, parsePhysicalId, validationAttemptAt } from '../../../src/core/lifecycle/lifecycle';
import * as kit from '../../support/lifecycle-world';
import { VM_DEFAULT_SETTINGS } from '../../support/fixtures';

const world = kit.useLifecycleWorld({ deadlineMs: 13 * 60_000 });

const props = (kind: 'vm' | 'pc', overrides: Record<string, unknown> = {}) => kit.props(world, kind, overrides);
const trustedIds = (kind: string) => kit.trustedIds(world, kind);
const calls = (method: string, pathPart: string) => kit.callsTo(world, method, pathPart);

describe('create', () => {
  test('GIVEN a VM configuration WHEN created THEN it registers with the guide fields, trusts only the returned external ID and validates', async () => {
    const out = await onEvent(kit.createEvent(props('vm')), world.deps);

    const [integration] = world.sim.integrations('vm');
    expect(out.PhysicalResourceId).toBe(`vm:${integration.integrationId}@${new URL(world.gateway).host}`);
    expect(out.Data).toEqual({
      IntegrationId: String(integration.integrationId),
      IntegrationName: 'qs3-dev-vm-123456789012-us-east-1',
    });
    expect(calls('POST', '/partner-integration/aws/s3/vm')[0].body).toEqual({
      name: 'qs3-dev-vm-123456789012-us-east-1',
      bucketName: 'findings-bucket',
      bucketRegion: 'us-east-1',
      roleArn: 'arn:aws:iam::123456789012:role/vm-role',
      ...VM_DEFAULT_SETTINGS,
    });
    expect(trustedIds('vm')).toEqual([integration.externalId]);
    expect(integration.integrationValidated).toBe(true);
  });

  test('GIVEN IAM takes 20 s to propagate WHEN created THEN validation is retried with backoff, at most 40% late, in few calls', async () => {
    world.propagationMs = 20_000;
    const started = world.clock.now();
    await onEvent(kit.createEvent(props('vm')), world.deps);
    const validates = calls('PATCH', '/validate');
    expect(validates.length).toBeGreaterThan(1);
    expect(validates.length).toBeLessThanOrEqual(10);
    expect(world.clock.now() - started).toBeLessThanOrEqual(20_000 * 1.4);
    expect(world.sim.integrations('vm')[0].integrationValidated).toBe(true);
  });

  test('GIVEN validation never succeeds WHEN created THEN it fails in bounded time, says why, and deregisters what it registered', async () => {
    world.propagationMs = Number.POSITIVE_INFINITY;
    const error = await onEvent(
      kit.createEvent(props('vm', { [Prop.ValidationTimeoutSeconds]: '60' })),
      world.deps,
    ).catch((e) => e);
    expect(error.message).toMatch(
      /Validation of VM integration \d+ did not succeed within \d+ s \(\d+ attempts\).*HTTP 400/,
    );
    expect(error.message).toMatch(/validationTimeoutSeconds/);
    expect(error.message).toMatch(/deregistered again/);
    expect(world.sim.integrations('vm')).toEqual([]);
    expect(world.clock.now() - 1_700_000_000_000).toBeLessThanOrEqual(60_000);
  });

  test('GIVEN a PC configuration with policies and a filter WHEN created THEN CIPS holds them', async () => {
    const filter = {
      includeEvidenceData: true,
      includeFailPosture: true,
      includePassPosture: false,
      includeErrorPosture: true,
    };
    await onEvent(
      kit.createEvent(props('pc', { [Prop.Cips]: JSON.stringify({ policies: [101, 102], filter }) })),
      world.deps,
    );
    expect(world.sim.cips()).toMatchObject({ policies: [101, 102], filter });
    expect(world.sim.integrations('pc')[0].integrationValidated).toBe(true);
  });

  test('GIVEN CIPS refuses the filter WHEN a PC create fails THEN the integration and the policies it added are removed again', async () => {
    world.sim.inject({
      method: 'POST',
      path: '/pcas/cips/config',
      status: 400,
      body: JSON.stringify({ messsage: 'CIPS is not enabled' }),
    });
    const filter = {
      includeEvidenceData: false,
      includeFailPosture: true,
      includePassPosture: true,
      includeErrorPosture: true,
    };
    const error = await onEvent(
      kit.createEvent(props('pc', { [Prop.Cips]: JSON.stringify({ policies: [101], filter }) })),
      world.deps,
    ).catch((e) => e);
    expect(error.message).toMatch(/CIPS posture filter failed: Qualys answered HTTP 400.*CIPS is not enabled/);
    expect(world.sim.integrations('pc')).toEqual([]);
    expect(world.sim.cips().policies).toEqual([]);
  });

  test('GIVEN 503 and 429 bursts WHEN created THEN it succeeds with exactly one integration', async () => {
    world.sim.inject({ method: 'POST', path: '/partner-integration/aws/s3/vm', status: 503, html: true, times: 2 });
    world.sim.inject({
      method: 'PATCH',
      path: /validate$/,
      status: 429,
      headers: { 'X-RateLimit-ToWait-Sec': '2' },
      times: 3,
    });
    await onEvent(kit.createEvent(props('vm')), world.deps);
    expect(world.sim.integrations('vm')).toHaveLength(1);
    expect(world.sim.integrations('vm')[0].integrationValidated).toBe(true);
    expect(world.clock.sleeps.filter((ms) => ms >= 2000).length).toBeGreaterThanOrEqual(3);
  });

  test('GIVEN wrong credentials WHEN created THEN it fails naming the secret and registers nothing', async () => {
    world.secrets.values.set(
      kit.SECRET_ID,
      JSON.stringify({ username: kit.USER.username, password: 'wrong-password' }),
    );
    await expect(onEvent(kit.createEvent(props('vm')), world.deps)).rejects.toThrow(
      /HTTP 401 to POST \/auth.*secret "qualys\/api-credentials"/,
    );
    expect(world.sim.integrations('vm')).toEqual([]);
  });

  test.each([
    ['missing', undefined, /secret "qualys\/api-credentials" failed: it does not exist/],
    ['not JSON', 'user:pass', /is not JSON; its SecretString must be \{"username":"...","password":"..."\}/],
    ['without a password', JSON.stringify({ username: 'u' }), /lacks "password"/],
  ])(
    'GIVEN a secret that is %s WHEN created THEN the error says what is wrong with it',
    async (_what, value, pattern) => {
      if (value === undefined) world.secrets.values.delete(kit.SECRET_ID);
      else world.secrets.values.set(kit.SECRET_ID, value);
      await expect(onEvent(kit.createEvent(props('vm')), world.deps)).rejects.toThrow(pattern);
      expect(world.sim.calls).toEqual([]);
    },
  );
});

describe('existing integrations of the same name', () => {
  test("GIVEN a leftover with this environment's default name WHEN created THEN it is adopted, not duplicated", async () => {
    const leftover = world.sim.seedIntegration('vm', {
      name: 'qs3-dev-vm-123456789012-us-east-1',
      bucketName: 'old',
      roleArn: 'arn:aws:iam::123456789012:role/old',
    });
    const out = await onEvent(kit.createEvent(props('vm')), world.deps);
    expect(out.PhysicalResourceId).toBe(`vm:${leftover.integrationId}@${new URL(world.gateway).host}`);
    expect(calls('POST', '/partner-integration/aws/s3/vm')).toHaveLength(0);
    const [integration] = world.sim.integrations('vm');
    expect(integration).toMatchObject({
      bucketName: 'findings-bucket',
      roleArn: 'arn:aws:iam::123456789012:role/vm-role',
      integrationValidated: true,
    });
    expect(trustedIds('vm')).toEqual([integration.externalId]);
  });

  test('GIVEN a foreign integration of the configured name WHEN created THEN it fails, naming it and how to adopt it, and changes nothing', async () => {
    const other = world.sim.seedIntegration('vm', {
      name: 'shared-name',
      bucketName: 'someone-elses',
      roleArn: 'arn:aws:iam::999999999999:role/x',
    });
    const error = await onEvent(
      kit.createEvent(props('vm', { [Prop.IntegrationName]: 'shared-name' })),
      world.deps,
    ).catch((e) => e);
    expect(error.message).toMatch(
      new RegExp(`named "shared-name" already exists in Qualys \\(ID ${other.integrationId}.*"vm.adoptExisting": true`),
    );
    expect(world.sim.integrations('vm')).toEqual([expect.objectContaining({ bucketName: 'someone-elses' })]);
    expect(world.sim.calls.filter((c) => c.method !== 'GET' && c.path !== '/auth')).toEqual([]);
  });

  test('GIVEN adoptExisting WHEN created, then the stack rolls back THEN the adopted integration is left in place', async () => {
    world.sim.seedIntegration('vm', {
      name: 'shared-name',
      bucketName: 'someone-elses',
      roleArn: 'arn:aws:iam::999999999999:role/x',
    });
    const p = props('vm', { [Prop.IntegrationName]: 'shared-name', [Prop.AdoptExisting]: 'true' });
    const out = await onEvent(kit.createEvent(p), world.deps);
    // The physical ID carries the adopted integration's original fields, to put them back.
    expect(out.PhysicalResourceId).toMatch(/^vm:\d+@127\.0\.0\.1:\d+:adopted~[A-Za-z0-9_-]+$/);

    world.stacks.value = 'ROLLBACK_IN_PROGRESS';
    await onEvent(kit.deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.integrations('vm')).toEqual([
      expect.objectContaining({
        name: 'shared-name',
        bucketName: 'someone-elses',
        roleArn: 'arn:aws:iam::999999999999:role/x',
      }),
    ]);

    world.stacks.value = 'DELETE_IN_PROGRESS';
    await onEvent(kit.deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.integrations('vm')).toHaveLength(0);
  });
});

describe('update', () => {
  async function created(kind: 'vm' | 'pc', overrides: Record<string, unknown> = {}) {
    const p = props(kind, overrides);
    const out = await onEvent(kit.createEvent(p), world.deps);
    world.sim.resetCalls();
    world.secrets.reads = 0;
    return { p, physicalId: out.PhysicalResourceId };
  }

  test('GIVEN nothing Qualys cares about changed WHEN updated THEN no Qualys call and no secret read is made', async () => {
    const { p, physicalId } = await created('vm');
    const out = await onEvent(kit.updateEvent(physicalId, p, { ...p, ServiceToken: 'other' }), world.deps);
    expect(out.PhysicalResourceId).toBe(physicalId);
    expect(world.sim.calls).toEqual([]);
    expect(world.secrets.reads).toBe(0);
  });

  test('GIVEN a changed setting WHEN updated THEN it is PUT in place on the same integration and validated again', async () => {
    const { p, physicalId } = await created('vm');
    const settings = { ...JSON.parse(p[Prop.Settings] as string), minSeverity: 5 };
    const out = await onEvent(
      kit.updateEvent(physicalId, p, { ...p, [Prop.Settings]: JSON.stringify(settings) }),
      world.deps,
    );
    expect(out.PhysicalResourceId).toBe(physicalId);
    expect(calls('POST', '/partner-integration')).toHaveLength(0);
    expect(calls('PUT', '/partner-integration')[0].body).toMatchObject({ minSeverity: 5, regenerateExternalId: false });
    expect(world.sim.integrations('vm')[0]).toMatchObject({ minSeverity: 5, integrationValidated: true });
  });

  test('GIVEN a new externalIdRotation value WHEN updated THEN the external ID is regenerated and only the new one is trusted', async () => {
    const { p, physicalId } = await created('vm');
    const oldId = world.sim.integrations('vm')[0].externalId;
    await onEvent(kit.updateEvent(physicalId, p, { ...p, [Prop.ExternalIdRotation]: '2026-11' }), world.deps);
    const [integration] = world.sim.integrations('vm');
    expect(integration.externalId).not.toBe(oldId);
    expect(calls('PUT', '/partner-integration')[0].body).toMatchObject({ regenerateExternalId: true });
    expect(trustedIds('vm')).toEqual([integration.externalId]);
    expect(integration.integrationValidated).toBe(true);
  });

  test('GIVEN CloudFormation rewrote the trust policy WHEN the fingerprint update arrives THEN the external ID is put back without a PUT', async () => {
    const { p, physicalId } = await created('vm');
    world.trust.put('vm-role', kit.pendingTrust('vm')); // what CloudFormation writes when the role's template changes
    await onEvent(kit.updateEvent(physicalId, p, { ...p, [Prop.TrustPolicyFingerprint]: 'fp-2' }), world.deps);
    expect(trustedIds('vm')).toEqual([world.sim.integrations('vm')[0].externalId]);
    expect(calls('PUT', '/partner-integration')).toHaveLength(0);
    expect(calls('PATCH', '/validate')).toHaveLength(1);
  });

  test('GIVEN the policy list changes WHEN updated THEN CIPS gets the new ones and loses only the dropped ones', async () => {
    const { p, physicalId } = await created('pc');
    await onEvent(
      kit.updateEvent(physicalId, p, { ...p, [Prop.Cips]: JSON.stringify({ policies: [102, 103] }) }),
      world.deps,
    );
    expect(world.sim.cips().policies).toEqual([102, 103]);
    expect(calls('PUT', '/partner-integration')).toHaveLength(0);
  });

  test('GIVEN the integration was deleted outside the stack WHEN a setting changes THEN it is registered again under a new physical ID', async () => {
    const { p, physicalId } = await created('vm');
    // Someone deletes it through the API, as another tool or a person in the UI would.
    await onEvent(kit.deleteEvent(physicalId, p), world.deps);
    const out = await onEvent(kit.updateEvent(physicalId, p, { ...p, [Prop.IntegrationName]: 'renamed' }), world.deps);
    expect(out.PhysicalResourceId).not.toBe(physicalId);
    expect(world.sim.integrations('vm')).toEqual([
      expect.objectContaining({ name: 'renamed', integrationValidated: true }),
    ]);
  });

  test('GIVEN the token expired between events WHEN updated THEN it re-authenticates once and carries on', async () => {
    const { p, physicalId } = await created('vm');
    world.sim.expireAllTokens();
    const settings = { ...JSON.parse(p[Prop.Settings] as string), sendVulnInfo: true };
    await onEvent(kit.updateEvent(physicalId, p, { ...p, [Prop.Settings]: JSON.stringify(settings) }), world.deps);
    expect(calls('POST', '/auth')).toHaveLength(1);
    expect(world.sim.integrations('vm')[0].sendVulnInfo).toBe(true);
  });
});

describe('delete', () => {
  test('GIVEN a PC integration WHEN deleted THEN it is deregistered and its CIPS policies removed', async () => {
    const p = props('pc');
    const out = await onEvent(kit.createEvent(p), world.deps);
    await onEvent(kit.deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.integrations('pc')).toEqual([]);
    expect(world.sim.cips().policies).toEqual([]);
  });

  test('GIVEN another PC integration in the subscription WHEN one is deleted THEN the shared CIPS policies stay', async () => {
    world.sim.seedIntegration('pc', {
      name: 'prod-pc',
      bucketName: 'prod',
      roleArn: 'arn:aws:iam::123456789012:role/prod',
    });
    const p = props('pc');
    const out = await onEvent(kit.createEvent(p), world.deps);
    await onEvent(kit.deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.integrations('pc')).toHaveLength(1);
    expect(world.sim.cips().policies).toEqual([101, 102]);
  });

  test('GIVEN the integration is already gone WHEN deleted THEN a 404 counts as done', async () => {
    await expect(onEvent(kit.deleteEvent('vm:424242', props('vm')), world.deps)).resolves.toMatchObject({
      PhysicalResourceId: 'vm:424242',
    });
  });

  test('GIVEN a physical ID that never named an integration WHEN deleted THEN nothing is called', async () => {
    await onEvent(kit.deleteEvent('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', {}), world.deps);
    expect(world.sim.calls).toEqual([]);
  });
});

describe('physical IDs', () => {
  test('GIVEN a physical ID of the earlier form (no gateway, no record) WHEN parsed THEN it still names the integration', () => {
    expect(parsePhysicalId('vm:42')).toEqual({ kind: 'vm', id: '42', foreign: false, record: {} });
  });

  test('GIVEN a record that is not ours (tampered or truncated) WHEN parsed THEN it counts as incomplete, so nothing is removed on its strength', () => {
    expect(parsePhysicalId('pc:7@gateway.qg1.apps.qualys.com~not-a-record')?.record).toEqual({ incomplete: true });
  });

  test('GIVEN more kept CIPS policies than fit the 1 KB physical ID WHEN created THEN the record says incomplete and the delete removes no policy', async () => {
    // Large, irregular IDs, which compress badly.
    let seed = 12345;
    const many = Array.from({ length: 100 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 4_000_000_000_000_000 + seed * 2_000_003;
    });
    world.sim.seedCips({ policies: many });
    const p = props('pc', { [Prop.Cips]: JSON.stringify({ policies: many }) });
    const out = await onEvent(kit.createEvent(p), world.deps);
    expect(out.PhysicalResourceId.length).toBeLessThanOrEqual(1000);
    expect(parsePhysicalId(out.PhysicalResourceId)?.record).toEqual({ incomplete: true });
    world.stacks.value = 'DELETE_IN_PROGRESS';
    await onEvent(kit.deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.cips().policies).toHaveLength(100);
  });
});

describe('validation schedule', () => {
  test('GIVEN any propagation delay D from 3 to 45 s THEN the first attempt after D comes at most 40% late, on average within 20%, in at most 10 calls on average', () => {
    const attempts = Array.from({ length: 40 }, (_, n) => validationAttemptAt(n));
    const late: number[] = [];
    const calls: number[] = [];
    for (let d = 3_000; d <= 45_000; d += 250) {
      const k = attempts.findIndex((t) => t >= d);
      late.push((attempts[k] - d) / d);
      calls.push(k + 1);
    }
    expect(Math.max(...late)).toBeLessThanOrEqual(0.4);
    expect(late.reduce((a, b) => a + b) / late.length).toBeLessThanOrEqual(0.2);
    expect(calls.reduce((a, b) => a + b) / calls.length).toBeLessThanOrEqual(10);
    expect(attempts[0]).toBe(0);
  });
});
