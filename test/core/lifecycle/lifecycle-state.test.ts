/**
 * Adversarial: adoption, rotation, updates and deletes against state that is not what the
 * stack expects. The issue: "A rollback never deletes an integration it did not create";
 * "Changing externalIdRotation ... the old external ID is no longer trusted"; "An update that
 * needs nothing from Qualys makes no Qualys call"; "Delete: DELETE the integration (a 404 counts
 * as done)"; "Every failure reaches CloudFormation with a reason a person can act on".
 */
import { Prop } from '../../../src/core/contract';
import { onEvent } from '../../../src/core/lifecycle/lifecycle';
import { QualysSimulator } from '../../../sim/qualys-simulator';
import * as kit from '../../support/lifecycle-world';

const world = kit.useLifecycleWorld();

async function created(kind: 'vm' | 'pc' = 'vm', overrides: Record<string, unknown> = {}) {
  const p = kit.props(world, kind, overrides);
  const out = await onEvent(kit.createEvent(p), world.deps);
  world.sim.resetCalls();
  world.secrets.reads = 0;
  return { p, physicalId: out.PhysicalResourceId };
}

describe('adoption of a foreign integration (adoptExisting: true)', () => {
  const foreignName = 'shared-name';
  function seedForeign() {
    return world.sim.seedIntegration('vm', {
      name: foreignName,
      bucketName: 'someone-elses-bucket',
      roleArn: 'arn:aws:iam::999999999999:role/someone-elses-role',
      minSeverity: 5,
      integrationValidated: true,
    });
  }

  test('GIVEN adoptExisting and validation never succeeds WHEN the create fails THEN the adopted integration is NOT deleted by the cleanup', async () => {
    const foreign = seedForeign();
    world.propagationMs = Number.POSITIVE_INFINITY;
    const p = kit.props(world, 'vm', {
      [Prop.IntegrationName]: foreignName,
      [Prop.AdoptExisting]: 'true',
      [Prop.ValidationTimeoutSeconds]: '30',
    });
    await expect(onEvent(kit.createEvent(p), world.deps)).rejects.toThrow();
    expect(world.sim.integration('vm', foreign.integrationId)).toBeDefined();
  });

  test('GIVEN adoptExisting and the create fails after the PUT THEN the adopted integration is put back as it was (bucket, role, settings)', async () => {
    const foreign = seedForeign();
    world.propagationMs = Number.POSITIVE_INFINITY;
    const p = kit.props(world, 'vm', {
      [Prop.IntegrationName]: foreignName,
      [Prop.AdoptExisting]: 'true',
      [Prop.ValidationTimeoutSeconds]: '30',
    });
    await onEvent(kit.createEvent(p), world.deps).catch(() => undefined);
    const now = world.sim.integration('vm', foreign.integrationId);
    expect(now).toMatchObject({ bucketName: foreign.bucketName, roleArn: foreign.roleArn, minSeverity: 5 });
  });

  test("GIVEN adoptExisting succeeded WHEN the stack create rolls back (another resource failed) THEN the adopted integration is kept AND no longer points at this stack's role and bucket, which the rollback deletes", async () => {
    const foreign = seedForeign();
    const p = kit.props(world, 'vm', { [Prop.IntegrationName]: foreignName, [Prop.AdoptExisting]: 'true' });
    const out = await onEvent(kit.createEvent(p), world.deps);
    world.stacks.value = 'ROLLBACK_IN_PROGRESS';
    await onEvent(kit.deleteEvent(out.PhysicalResourceId, p), world.deps);
    const now = world.sim.integration('vm', foreign.integrationId);
    expect(now).toBeDefined();
    expect(now).toMatchObject({ bucketName: foreign.bucketName, roleArn: foreign.roleArn });
  });
});

describe('rotation', () => {
  test('GIVEN a rotation whose validation never succeeds WHEN the update fails THEN the role trusts exactly the ID Qualys now holds (old one not trusted)', async () => {
    const { p, physicalId } = await created();
    const oldId = world.sim.integrations('vm')[0].externalId;
    world.propagationMs = Number.POSITIVE_INFINITY;
    await expect(
      onEvent(
        kit.updateEvent(physicalId, p, {
          ...p,
          [Prop.ExternalIdRotation]: 'r1',
          [Prop.ValidationTimeoutSeconds]: '30',
        }),
        world.deps,
      ),
    ).rejects.toThrow();
    const nowId = world.sim.integrations('vm')[0].externalId;
    expect(nowId).not.toBe(oldId);
    expect(kit.trustedIds(world, 'vm')).toEqual([nowId]);
  });

  test('GIVEN a rotation that failed WHEN CloudFormation rolls the update back THEN the integration ends validated and trusted with the current ID only', async () => {
    const { p, physicalId } = await created();
    const oldId = world.sim.integrations('vm')[0].externalId;
    const rotated = { ...p, [Prop.ExternalIdRotation]: 'r1' };
    world.propagationMs = Number.POSITIVE_INFINITY;
    await onEvent(
      kit.updateEvent(physicalId, p, { ...rotated, [Prop.ValidationTimeoutSeconds]: '30' }),
      world.deps,
    ).catch(() => undefined);
    world.propagationMs = 0;
    world.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
    await onEvent(kit.updateEvent(physicalId, rotated, p), world.deps);
    const [integration] = world.sim.integrations('vm');
    expect(kit.trustedIds(world, 'vm')).toEqual([integration.externalId]);
    expect(kit.trustedIds(world, 'vm')).not.toContain(oldId);
    expect(integration.integrationValidated).toBe(true);
  });

  test('GIVEN the rotation PUT is processed but answered 502 WHEN updated THEN the role trusts the ID Qualys actually holds', async () => {
    const { p, physicalId } = await created();
    let hit = false;
    world.hooks.push(async (req, forward) => {
      if (req.method !== 'PUT' || hit) return undefined;
      hit = true;
      await forward();
      return { status: 502, headers: { 'content-type': 'text/html' }, body: '<html>502 Bad Gateway</html>' };
    });
    await onEvent(kit.updateEvent(physicalId, p, { ...p, [Prop.ExternalIdRotation]: 'r1' }), world.deps).catch(
      () => undefined,
    );
    const [integration] = world.sim.integrations('vm');
    expect(kit.trustedIds(world, 'vm')).toEqual([integration.externalId]);
  });

  test('GIVEN rotations repeated 30 times WHEN each succeeds THEN the trust policy still holds one external ID (no growth towards the IAM size limit)', async () => {
    let { p, physicalId } = await created();
    for (let i = 0; i < 30; i++) {
      const next = { ...p, [Prop.ExternalIdRotation]: `r${i}` };
      physicalId = (await onEvent(kit.updateEvent(physicalId, p, next), world.deps)).PhysicalResourceId;
      p = next;
    }
    expect(kit.trustedIds(world, 'vm')).toEqual([world.sim.integrations('vm')[0].externalId]);
  });
});

describe('updates that need nothing from Qualys', () => {
  test.each([
    ['ValidationTimeoutSeconds', { [Prop.ValidationTimeoutSeconds]: '120' }],
    ['AdoptExisting', { [Prop.AdoptExisting]: 'true' }],
    ['ServiceToken', { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:new-framework' }],
  ])('GIVEN only %s changed WHEN updated THEN no Qualys call and no secret read', async (_what, change) => {
    const { p, physicalId } = await created();
    await onEvent(kit.updateEvent(physicalId, p, { ...p, ...change }), world.deps);
    expect(world.sim.calls).toEqual([]);
    expect(world.secrets.reads).toBe(0);
  });
});

describe('updates against a changed Qualys', () => {
  test('GIVEN the new name is held by a foreign integration WHEN renamed THEN the update fails naming it, and the foreign integration is untouched', async () => {
    const foreign = world.sim.seedIntegration('vm', {
      name: 'taken-name',
      bucketName: 'theirs',
      roleArn: 'arn:aws:iam::999999999999:role/x',
    });
    const { p, physicalId } = await created();
    const error = await onEvent(
      kit.updateEvent(physicalId, p, { ...p, [Prop.IntegrationName]: 'taken-name' }),
      world.deps,
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/taken-name/);
    expect(world.sim.integration('vm', foreign.integrationId)).toMatchObject({
      bucketName: 'theirs',
      name: 'taken-name',
    });
  });

  test('GIVEN the gateway changes (new platform assigns a different ID) WHEN updated THEN a new physical ID is returned and the old integration survives until the cleanup Delete', async () => {
    const { p, physicalId } = await created();
    const [old] = world.sim.integrations('vm');
    const other = new QualysSimulator({ users: [kit.USER], trustChecker: () => ({ ok: true }) });
    const otherUrl = await other.start();
    try {
      other.seedIntegration('vm', { name: 'unrelated-on-the-other-platform' });
      const newP = { ...p, [Prop.GatewayUrl]: otherUrl };
      const out = await onEvent(kit.updateEvent(physicalId, p, newP), world.deps);
      expect(out.PhysicalResourceId).not.toBe(physicalId);
      expect(world.sim.integration('vm', old.integrationId)).toBeDefined();
      // CloudFormation's cleanup Delete of the old physical resource (old properties).
      world.stacks.value = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
      await onEvent(kit.deleteEvent(physicalId, p), world.deps);
      expect(world.sim.integrations('vm')).toEqual([]);
      expect(other.integrations('vm')).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });

  test('GIVEN the gateway changes and the new platform assigns the same integration ID WHEN updated THEN the old platform is not left with an orphaned integration', async () => {
    const { p, physicalId } = await created();
    const other = new QualysSimulator({ users: [kit.USER], trustChecker: () => ({ ok: true }) });
    const otherUrl = await other.start();
    try {
      const out = await onEvent(kit.updateEvent(physicalId, p, { ...p, [Prop.GatewayUrl]: otherUrl }), world.deps);
      expect(other.integrations('vm')).toHaveLength(1);
      // An unchanged physical ID means CloudFormation sends no cleanup Delete for the old one,
      // so the old platform's integration must be gone already, or the ID must change.
      if (out.PhysicalResourceId === physicalId) expect(world.sim.integrations('vm')).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});

describe('deletes', () => {
  test('GIVEN the credentials secret was deleted WHEN the stack is destroyed THEN the reason names the secret and what to do', async () => {
    const { p, physicalId } = await created();
    world.secrets.values.delete(kit.SECRET_ID);
    world.stacks.value = 'DELETE_IN_PROGRESS';
    const error = await onEvent(kit.deleteEvent(physicalId, p), world.deps).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(kit.SECRET_ID);
    expect(message).toMatch(/create it|restore/i);
    expect(world.sim.integrations('vm')).toHaveLength(1);
  });

  test('GIVEN the integration was already removed in Qualys WHEN destroyed twice (retry of a failed delete) THEN both succeed', async () => {
    const { p, physicalId } = await created();
    world.stacks.value = 'DELETE_IN_PROGRESS';
    await onEvent(kit.deleteEvent(physicalId, p), world.deps);
    await onEvent(kit.deleteEvent(physicalId, p), world.deps);
    expect(world.sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN a destroy after a failed create (framework marker physical ID) THEN nothing in Qualys is touched, even an integration with the configured name', async () => {
    const other = world.sim.seedIntegration('vm', { name: 'qs3-dev-vm-123456789012-us-east-1' });
    world.stacks.value = 'ROLLBACK_IN_PROGRESS';
    await onEvent(
      kit.deleteEvent('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', kit.props(world, 'vm')),
      world.deps,
    );
    expect(world.sim.integration('vm', other.integrationId)).toBeDefined();
  });

  test('GIVEN every DELETE answers a load balancer HTML 404 page (not Qualys JSON) WHEN destroyed THEN the stack is not reported deleted while the integration is still registered', async () => {
    const { p, physicalId } = await created();
    world.sim.inject({ method: 'DELETE', path: /\/vm$/, status: 404, html: true, times: 1000 });
    world.stacks.value = 'DELETE_IN_PROGRESS';
    const done = await onEvent(kit.deleteEvent(physicalId, p), world.deps).then(
      () => true,
      () => false,
    );
    // Either it retried/verified and failed, or it confirmed the integration is gone.
    if (done) expect(world.sim.integrations('vm')).toEqual([]);
    expect(kit.callsTo(world, 'DELETE', /\/vm$/).length).toBeGreaterThan(0);
  });
});
