/**
 * Adversarial: CIPS is subscription-wide. The issue: "For PC: add the configured policies to
 * CIPS ... at most 100 policies"; "Delete: ... remove its CIPS policies"; "A failed create
 * leaves nothing registered in Qualys ... the handler cleans up"; "A rollback never deletes an
 * integration it did not create". The guide: "You can add up to 100 policies to CIPS."
 */
import { Prop } from '../../../src/core/contract';
import { onEvent } from '../../../src/core/lifecycle/lifecycle';
import {
  callsTo,
  createEvent,
  deleteEvent,
  useLifecycleWorld,
  props,
  updateEvent,
} from '../../support/lifecycle-world';
import { CIPS_DEFAULT_FILTER as FILTER } from '../../support/fixtures';

const world = useLifecycleWorld();

const pcProps = (cips: object, overrides: Record<string, unknown> = {}) =>
  props(world, 'pc', { [Prop.Cips]: JSON.stringify(cips), ...overrides });

describe('policies already in CIPS before the deploy', () => {
  test('GIVEN policy 101 is already in CIPS WHEN a PC create configures [101, 102] THEN it succeeds and CIPS holds both', async () => {
    world.sim.seedCips({ policies: [101] });
    await onEvent(createEvent(pcProps({ policies: [101, 102] })), world.deps);
    expect(world.sim.cips().policies).toEqual([101, 102]);
  });

  test('GIVEN policy 101 was in CIPS before the deploy WHEN the stack is destroyed THEN 101 stays (the stack did not add it)', async () => {
    world.sim.seedCips({ policies: [101] });
    const p = pcProps({ policies: [101, 102] });
    const out = await onEvent(createEvent(p), world.deps);
    world.stacks.value = 'DELETE_IN_PROGRESS';
    await onEvent(deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.integrations('pc')).toEqual([]);
    expect(world.sim.cips().policies).toEqual([101]);
  });

  test('GIVEN policy 101 was in CIPS before the deploy WHEN a PC create fails after adding policies THEN the cleanup leaves 101 in place', async () => {
    world.sim.seedCips({ policies: [101] });
    world.sim.inject({
      method: 'POST',
      path: '/pcas/cips/config',
      status: 400,
      body: JSON.stringify({ messsage: 'filter refused' }),
    });
    await expect(onEvent(createEvent(pcProps({ policies: [101, 102], filter: FILTER })), world.deps)).rejects.toThrow(
      /filter/,
    );
    expect(world.sim.integrations('pc')).toEqual([]);
    expect(world.sim.cips().policies).toEqual([101]);
  });

  test("GIVEN policy 101 was in CIPS before the deploy WHEN an update drops 101 from the configuration THEN 101 stays (it was never the stack's)", async () => {
    world.sim.seedCips({ policies: [101] });
    const p = pcProps({ policies: [101, 102] });
    const out = await onEvent(createEvent(p), world.deps);
    await onEvent(updateEvent(out.PhysicalResourceId, p, pcProps({ policies: [102] })), world.deps);
    expect(world.sim.cips().policies).toEqual([101, 102]);
  });
});

describe('the 100-policy limit', () => {
  test('GIVEN CIPS already holds 95 policies WHEN a PC create adds 10 more THEN it fails with an actionable reason, adds none and registers nothing', async () => {
    const existing = Array.from({ length: 95 }, (_, i) => 5000 + i);
    world.sim.seedCips({ policies: existing });
    const wanted = Array.from({ length: 10 }, (_, i) => 9000 + i);
    const error = await onEvent(createEvent(pcProps({ policies: wanted })), world.deps).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/100/);
    expect(world.sim.cips().policies).toEqual(existing);
    expect(world.sim.integrations('pc')).toEqual([]);
  });

  test('GIVEN CIPS holds 100 policies WHEN an update swaps one configured policy for another THEN it succeeds (remove before add)', async () => {
    const others = Array.from({ length: 99 }, (_, i) => 5000 + i);
    world.sim.seedCips({ policies: others });
    const p = pcProps({ policies: [101] });
    const out = await onEvent(createEvent(p), world.deps);
    expect(world.sim.cips().policies).toHaveLength(100);
    await onEvent(updateEvent(out.PhysicalResourceId, p, pcProps({ policies: [102] })), world.deps);
    expect(world.sim.cips().policies).toContain(102);
    expect(world.sim.cips().policies).not.toContain(101);
  });
});

describe('the posture filter', () => {
  test('GIVEN a filter already exists in the subscription WHEN a PC create configures a filter THEN it is updated (PUT), not refused', async () => {
    world.sim.seedCips({ filter: { ...FILTER, includePassPosture: true } });
    await onEvent(
      createEvent(pcProps({ policies: [101], filter: { ...FILTER, includePassPosture: false } })),
      world.deps,
    );
    expect(world.sim.cips().filter).toEqual({ ...FILTER, includePassPosture: false });
  });

  test('GIVEN CIPS GET fails with 503 twice WHEN a PC create runs THEN it retries and succeeds', async () => {
    world.sim.inject({ method: 'GET', path: '/pcas/cips/config', status: 503, html: true, times: 2 });
    await onEvent(createEvent(pcProps({ policies: [101], filter: FILTER })), world.deps);
    expect(world.sim.cips().policies).toEqual([101]);
  });
});

describe('shared subscription on delete', () => {
  test('GIVEN no other PC integration remains WHEN this stack is destroyed THEN the policies it added are removed and one that was there before stays', async () => {
    world.sim.seedCips({ policies: [900] });
    const p = pcProps({ policies: [101, 102] });
    const out = await onEvent(createEvent(p), world.deps);
    world.stacks.value = 'DELETE_IN_PROGRESS';
    await onEvent(deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.cips().policies).toEqual([900]);
  });

  // A decision, not a gap: CIPS policies are subscription-wide, and the handler cannot see
  // what another environment (maybe another account or app) configured. Removing a policy
  // another environment relies on silently stops its posture data; keeping one costs nothing
  // until the last PC integration goes, which then removes it.
  test("GIVEN another environment's PC integration remains WHEN this stack is destroyed THEN the policies are kept for it, and the log says so", async () => {
    world.sim.seedIntegration('pc', {
      name: 'qs3-prod-pc-123456789012-us-east-1',
      roleArn: 'arn:aws:iam::123456789012:role/prod',
    });
    const p = pcProps({ policies: [101, 102] });
    const out = await onEvent(createEvent(p), world.deps);
    world.stacks.value = 'DELETE_IN_PROGRESS';
    await onEvent(deleteEvent(out.PhysicalResourceId, p), world.deps);
    expect(world.sim.integrations('pc')).toHaveLength(1);
    expect(world.sim.cips().policies).toEqual([101, 102]);
    expect(world.lines.join('\n')).toMatch(/keeping the CIPS policies: other PC integrations/);
  });

  test('GIVEN a failed PC create while another PC integration exists THEN the policies this create added are removed again', async () => {
    world.sim.seedIntegration('pc', {
      name: 'qs3-prod-pc-123456789012-us-east-1',
      roleArn: 'arn:aws:iam::123456789012:role/prod',
    });
    world.sim.inject({
      method: 'POST',
      path: '/pcas/cips/config',
      status: 400,
      body: JSON.stringify({ messsage: 'filter refused' }),
    });
    await expect(onEvent(createEvent(pcProps({ policies: [101, 102], filter: FILTER })), world.deps)).rejects.toThrow();
    expect(world.sim.cips().policies).toEqual([]);
    expect(callsTo(world, 'POST', /\/s3\/pc$/)).toHaveLength(1);
  });
});
