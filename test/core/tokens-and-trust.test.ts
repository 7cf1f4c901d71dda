/**
 * Adversarial: the JWT cache of a warm Lambda, and the injected external ID across updates and
 * rollbacks. The issue: "keep it [the JWT] for its 4-hour life within a warm Lambda"; "a 401 on
 * an expired token re-authenticates once"; "Later stack updates must not silently drop the
 * injected external ID".
 */
import { Prop } from '../../src/core/contract';
import { onEvent } from '../../src/core/lifecycle/lifecycle';
import { QualysSimulator } from '../../sim/qualys-simulator';
import {
  USER,
  callsTo,
  createEvent,
  useLifecycleWorld,
  pendingTrust,
  props,
  trustedIds,
  updateEvent,
} from '../support/lifecycle-world';

const world = useLifecycleWorld();

test("GIVEN a warm Lambda that authenticated against one gateway WHEN another environment uses a different gateway with the same credentials THEN the first gateway's JWT is never sent to the second host", async () => {
  await onEvent(createEvent(props(world, 'vm')), world.deps);
  const firstTokens = world.sim.issuedTokens();
  const other = new QualysSimulator({ users: [USER], trustChecker: () => ({ ok: true }) });
  const otherUrl = await other.start();
  try {
    world.trust.put('pc-role', pendingTrust('pc'));
    await onEvent(
      createEvent(props(world, 'pc', { [Prop.GatewayUrl]: otherUrl, [Prop.Cips]: JSON.stringify({ policies: [] }) })),
      world.deps,
    ).catch(() => undefined);
    const sentToOther = other.calls.map((c) => c.authorization ?? '').filter(Boolean);
    for (const token of firstTokens) for (const auth of sentToOther) expect(auth).not.toContain(token);
  } finally {
    await other.stop();
  }
});

test('GIVEN a cached JWT older than 4 hours WHEN the next event arrives THEN it re-authenticates up front instead of sending an expired token', async () => {
  const p = props(world, 'vm');
  const out = await onEvent(createEvent(p), world.deps);
  world.sim.resetCalls();
  world.clock.time += 4 * 60 * 60 * 1000 + 1000;
  world.sim.expireAllTokens();
  const settings = { ...JSON.parse(p[Prop.Settings] as string), minSeverity: 4 };
  await onEvent(
    updateEvent(out.PhysicalResourceId, p, { ...p, [Prop.Settings]: JSON.stringify(settings) }),
    world.deps,
  );
  expect(world.sim.calls.filter((c) => c.status === 401)).toEqual([]);
  expect(callsTo(world, 'POST', '/auth')).toHaveLength(1);
});

test('GIVEN an update rollback in which CloudFormation restores the old trust document WHEN the custom resource gets the rollback Update (fingerprint back to the old value) THEN the external ID is trusted again', async () => {
  const p1 = props(world, 'vm', { [Prop.TrustPolicyFingerprint]: 'fp-1' });
  const out = await onEvent(createEvent(p1), world.deps);
  const p2 = { ...p1, [Prop.TrustPolicyFingerprint]: 'fp-2' };
  world.trust.put('vm-role', pendingTrust('vm'));
  await onEvent(updateEvent(out.PhysicalResourceId, p1, p2), world.deps);
  // Something else in the stack fails; CloudFormation rolls the role back (rewrite) and then the custom resource.
  world.trust.put('vm-role', pendingTrust('vm'));
  world.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
  await onEvent(updateEvent(out.PhysicalResourceId, p2, p1), world.deps);
  expect(trustedIds(world, 'vm')).toEqual([world.sim.integrations('vm')[0].externalId]);
});

test('GIVEN someone removed the external ID from the trust policy by hand WHEN a later deploy changes a setting THEN the external ID is put back (validation would otherwise fail)', async () => {
  const p = props(world, 'vm');
  const out = await onEvent(createEvent(p), world.deps);
  world.trust.put('vm-role', pendingTrust('vm'));
  const settings = { ...JSON.parse(p[Prop.Settings] as string), minSeverity: 5 };
  await onEvent(
    updateEvent(out.PhysicalResourceId, p, { ...p, [Prop.Settings]: JSON.stringify(settings) }),
    world.deps,
  );
  expect(trustedIds(world, 'vm')).toEqual([world.sim.integrations('vm')[0].externalId]);
  expect(world.sim.integrations('vm')[0].integrationValidated).toBe(true);
});

test('GIVEN an extra statement someone added to the role trust policy (another principal) WHEN the external ID is injected THEN that statement is preserved, and the Qualys statement keeps its condition', async () => {
  const doc = pendingTrust('vm') as { Version: string; Statement: Array<Record<string, unknown>> };
  doc.Statement.push({
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::123456789012:role/break-glass' },
    Action: 'sts:AssumeRole',
  });
  world.trust.put('vm-role', doc);
  await onEvent(createEvent(props(world, 'vm')), world.deps);
  const policy = world.trust.roles.get('vm-role')!.policy as { Statement: Array<Record<string, unknown>> };
  expect(policy.Statement).toHaveLength(2);
  expect(trustedIds(world, 'vm')).toEqual([world.sim.integrations('vm')[0].externalId]);
});
