/**
 * Adversarial, second pass: cleanup under a rate-limited Qualys at the end of the budget,
 * CIPS (subscription-wide) damaged by an update while another environment relies on a
 * policy, and a failed create that leaves its environment's leftover registered.
 */
import { Prop } from '../../../src/core/contract';
import { onEvent } from '../../../src/core/lifecycle/lifecycle';
import { LAMBDA_BUDGET_MS, createEvent, useLifecycleWorld, props, updateEvent } from '../../support/lifecycle-world';

const world = useLifecycleWorld();

describe('cleanup at the end of the budget', () => {
  test('GIVEN the maximum validationTimeoutSeconds (720) and validation never succeeds WHEN the cleanup DELETE is rate-limited once (429, X-RateLimit-ToWait-Sec: 45) THEN the cleanup reserve is used to deregister, within the Lambda budget', async () => {
    world.propagationMs = Number.POSITIVE_INFINITY;
    world.sim.inject({
      method: 'DELETE',
      path: /\/vm$/,
      status: 429,
      headers: { 'X-RateLimit-ToWait-Sec': '45' },
      body: '{"messsage":"rate limit exceeded"}',
      times: 1,
    });
    const p = props(world, 'vm', { [Prop.ValidationTimeoutSeconds]: '720' });
    await expect(onEvent(createEvent(p), world.deps)).rejects.toThrow(/Validation/);
    // "A failed create leaves nothing registered in Qualys"; the handler keeps 90 s back for exactly this.
    expect(world.sim.integrations('vm')).toEqual([]);
    expect(world.clock.now() - world.start).toBeLessThan(LAMBDA_BUDGET_MS);
  });
});

describe('CIPS is subscription-wide', () => {
  const pc = (policies: number[]) => props(world, 'pc', { [Prop.Cips]: JSON.stringify({ policies }) });

  test("GIVEN another environment's PC integration also configures policy 101 WHEN this environment's update drops 101 THEN 101 stays in CIPS (as a destroy would keep it)", async () => {
    const p1 = pc([101, 102]);
    const out = await onEvent(createEvent(p1), world.deps);
    // Environment "prod" on the same subscription, configured with policy 101 as well.
    const prod = props(world, 'pc', {
      [Prop.IntegrationName]: 'qs3-prod-pc-123456789012-us-east-1',
      [Prop.DefaultIntegrationName]: 'qs3-prod-pc-123456789012-us-east-1',
      [Prop.BucketName]: 'prod-findings-bucket',
      [Prop.Cips]: JSON.stringify({ policies: [101] }),
    });
    await onEvent(createEvent(prod), world.deps);
    const p2 = pc([102]);
    await onEvent(updateEvent(out.PhysicalResourceId, p1, p2), world.deps);
    expect(world.sim.cips().policies).toContain(101);
  });
});

describe('leftover of an interrupted deploy', () => {
  test("GIVEN a leftover integration with this environment's default name WHEN the create adopts it and then fails validation THEN nothing stays registered (no later Delete will ever come for it)", async () => {
    world.sim.seedIntegration('vm', {
      name: 'qs3-dev-vm-123456789012-us-east-1',
      bucketName: 'findings-bucket',
      roleArn: 'arn:aws:iam::123456789012:role/vm-role',
    });
    world.propagationMs = Number.POSITIVE_INFINITY;
    const p = props(world, 'vm', { [Prop.ValidationTimeoutSeconds]: '30' });
    await expect(onEvent(createEvent(p), world.deps)).rejects.toThrow(/Validation/);
    expect(world.sim.integrations('vm')).toEqual([]);
  });
});
