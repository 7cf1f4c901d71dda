/**
 * Attacks on the plan's honesty: the plan `qualys-s3 diff` computes from the live state
 * (observeLive, then plan) against what the handler then does for the same event, read from
 * the simulator's call log; and an update that changes nothing makes no call.
 */
import { Prop } from '../../../src/core/contract';
import { connect } from '../../../src/core/lifecycle/apply';
import { onEvent, parsePhysicalId, parseProperties } from '../../../src/core/lifecycle/lifecycle';
import { observeLive } from '../../../src/core/lifecycle/observe';
import { type StepName, plan } from '../../../src/core/lifecycle/plan';
import { QUALYS, createEvent, props, updateEvent, useLifecycleWorld } from '../../support/lifecycle-world';
import type { World } from '../../support/lifecycle-world';

const world = useLifecycleWorld({ perTest: true });

/** What `qualys-s3 diff` plans for this update: the handler's plan on the live state. */
async function diffPlan(w: World, physicalId: string, oldP: Record<string, unknown>, newP: Record<string, unknown>) {
  const old = parseProperties(oldP);
  const spec = parseProperties(newP);
  const current = parsePhysicalId(physicalId)!;
  const qualys = await connect(spec, w.deps);
  const observed = await observeLive(qualys, w.deps.trust, {
    kind: spec.kind,
    integrationId: current.id,
    roleName: spec.roleName,
    principalArn: QUALYS,
  });
  return plan(spec, { kind: 'update', old, physicalId: current }, observed).map((s) => s.name);
}

/** The writes the simulator saw, as the plan's step names. */
function appliedSteps(w: World): StepName[] {
  const out: StepName[] = [];
  for (const c of w.sim.calls) {
    const body = (c.body ?? {}) as Record<string, unknown>;
    let step: StepName | undefined;
    if (c.method === 'PUT' && /^\/partner-integration\/aws\/s3\/\d+\/(vm|pc)$/.test(c.path))
      step = body.regenerateExternalId === true ? 'rotate-external-id' : 'put-settings';
    else if (c.method === 'POST' && /^\/partner-integration\/aws\/s3\/(vm|pc)$/.test(c.path)) step = 'register';
    else if (/validate/.test(c.path)) step = 'validate';
    else if (c.path === '/pcas/cips/config/policy' && c.method === 'POST') step = 'add-policies';
    else if (c.path === '/pcas/cips/config' && c.method === 'DELETE') step = 'remove-policies';
    else if (c.path === '/pcas/cips/config' && (c.method === 'POST' || c.method === 'PUT')) step = 'set-filter';
    if (step && out[out.length - 1] !== step) out.push(step);
  }
  return out;
}

describe('the plan diff shows is the plan the update applies', () => {
  test('GIVEN a PC integration whose CIPS lost a configured policy in Qualys WHEN the configuration changes compressData THEN the steps diff plans are the writes the update makes', async () => {
    await world.build();
    const p1 = props(world, 'pc');
    const created = await onEvent(createEvent(p1), world.deps);
    world.sim.clearCips();
    world.sim.seedCips({ policies: [101] });
    const p2 = props(world, 'pc', { [Prop.Settings]: JSON.stringify({ compressData: false }) });

    const planned = await diffPlan(world, created.PhysicalResourceId, p1, p2);
    world.sim.resetCalls();
    await onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps);

    expect(planned.filter((s) => s !== 'write-trust')).toEqual(appliedSteps(world));
  });

  test('GIVEN a PC integration whose CIPS filter was changed in Qualys WHEN the configuration changes compressData THEN the steps diff plans are the writes the update makes', async () => {
    await world.build();
    const filter = {
      includeEvidenceData: false,
      includeFailPosture: true,
      includePassPosture: false,
      includeErrorPosture: false,
    };
    const p1 = props(world, 'pc', { [Prop.Cips]: JSON.stringify({ policies: [101], filter }) });
    const created = await onEvent(createEvent(p1), world.deps);
    world.sim.seedCips({ filter: { ...filter, includePassPosture: true } });
    const p2 = { ...p1, [Prop.Settings]: JSON.stringify({ compressData: false }) };

    const planned = await diffPlan(world, created.PhysicalResourceId, p1, p2);
    world.sim.resetCalls();
    await onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps);

    expect(planned.filter((s) => s !== 'write-trust')).toEqual(appliedSteps(world));
  });

  test.each(['vm', 'pc'] as const)(
    'GIVEN a %s integration in sync WHEN a setting changes THEN diff plans exactly the writes the update makes',
    async (kind) => {
      await world.build();
      const p1 = props(world, kind);
      const created = await onEvent(createEvent(p1), world.deps);
      const settings =
        kind === 'vm' ? { ...JSON.parse(p1[Prop.Settings] as string), minSeverity: 5 } : { compressData: false };
      const p2 = props(world, kind, { [Prop.Settings]: JSON.stringify(settings) });
      const planned = await diffPlan(world, created.PhysicalResourceId, p1, p2);
      world.sim.resetCalls();
      await onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps);
      expect(planned).toEqual(appliedSteps(world));
    },
  );

  test.each(['vm', 'pc'] as const)(
    'GIVEN a %s integration WHEN externalIdRotation changes THEN diff plans rotate, write-trust and validate, and the update makes those writes',
    async (kind) => {
      await world.build();
      const p1 = props(world, kind);
      const created = await onEvent(createEvent(p1), world.deps);
      const p2 = props(world, kind, { [Prop.ExternalIdRotation]: '2025-01' });
      const planned = await diffPlan(world, created.PhysicalResourceId, p1, p2);
      const trustWrites = world.trust.roles.get(`${kind}-role`)!;
      const before = JSON.stringify(trustWrites.policy);
      world.sim.resetCalls();
      await onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps);
      expect(planned).toEqual(['rotate-external-id', 'write-trust', 'validate']);
      expect(appliedSteps(world)).toEqual(['rotate-external-id', 'validate']);
      expect(JSON.stringify(world.trust.roles.get(`${kind}-role`)!.policy)).not.toBe(before);
    },
  );
});

describe('an update that changes nothing', () => {
  test.each(['vm', 'pc'] as const)(
    'GIVEN a %s integration WHEN an update carries only properties the handler does not send (timeout, adoptExisting, ServiceToken) THEN its plan is empty and it makes no Qualys call',
    async (kind) => {
      await world.build();
      const p1 = props(world, kind);
      const created = await onEvent(createEvent(p1), world.deps);
      const p2 = props(world, kind, {
        [Prop.ValidationTimeoutSeconds]: '900',
        [Prop.AdoptExisting]: 'true',
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:other',
      });
      const current = parsePhysicalId(created.PhysicalResourceId);
      expect(
        plan(
          parseProperties(p2),
          { kind: 'update', old: parseProperties(p1), physicalId: current },
          {
            integration: { state: 'unread' },
            trustedExternalIds: { state: 'unread' },
            cips: { state: 'unread' },
            stackStatus: { state: 'unread' },
          },
        ),
      ).toEqual([]);
      world.sim.resetCalls();
      const out = await onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps);
      expect(out.PhysicalResourceId).toBe(created.PhysicalResourceId);
      expect(world.sim.calls).toEqual([]);
    },
  );
});
