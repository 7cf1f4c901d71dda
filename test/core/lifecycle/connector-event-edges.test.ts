/**
 * Break-review (issue 13, second pass): connector events CloudFormation can send that the
 * lifecycle reads too strictly, and the work deadline, against the Qualys simulator.
 */
import { ConnectorProp } from '../../../src/core/connector-contract';
import { type SimWorld, simWorld } from '../../support/connector-sim-world';

const APIS = ['connectors-v3', 'cloudview'] as const;

let w: SimWorld | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const without = (props: Record<string, string>, ...keys: string[]) =>
  Object.fromEntries(Object.entries(props).filter(([k]) => !keys.includes(k)));

describe.each(APIS)('the %s API', (api) => {
  test('GIVEN an Update whose old properties lack fields that do not name the connector (ValidationTimeoutSeconds, PollingHours, Modules: an older template) THEN the connector is updated in place to the new properties, not failed (a failed update rolls back with the old, short properties again)', async () => {
    w = await simWorld();
    const props = w.props(api);
    const created = await w.create(props);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const old = without(
      props,
      ConnectorProp.ValidationTimeoutSeconds,
      ConnectorProp.PollingHours,
      ConnectorProp.Modules,
    );
    const changed = w.props(api, { pollingHours: 6 });
    const updated = await w.update(created.PhysicalResourceId, old, changed);
    expect(updated).toMatchObject({ ok: true, PhysicalResourceId: created.PhysicalResourceId });
    expect(await w.sim.connectors()).toEqual([expect.objectContaining({ runFrequencyMinutes: 360 })]);
  });

  test('GIVEN a Delete whose properties lack fields a delete does not need (ValidationTimeoutSeconds, PollingHours, Modules) THEN the connector is deleted, not DELETE_FAILED with the connector left in Qualys', async () => {
    w = await simWorld();
    const props = w.props(api);
    const created = await w.create(props);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const short = without(
      props,
      ConnectorProp.ValidationTimeoutSeconds,
      ConnectorProp.PollingHours,
      ConnectorProp.Modules,
    );
    expect(await w.delete(created.PhysicalResourceId, short)).toMatchObject({ ok: true });
    expect(await w.sim.connectors()).toEqual([]);
  });

  test("GIVEN a work deadline (the Lambda's remaining time) shorter than ValidationTimeoutSeconds and a role never assumable THEN the create fails by the deadline and leaves no connector", async () => {
    w = await simWorld();
    w.trusted.clear();
    const started = w.clock.now();
    const created = await w.create(w.props(api, { validationTimeoutSeconds: 900 }), 60_000);
    expect(created.ok).toBe(false);
    expect(w.clock.now() - started).toBeLessThan(60_000 + 80_000);
    expect(await w.sim.connectors()).toEqual([]);
  });

  test('GIVEN an Update with nothing changed but adoptExisting and the timeout THEN no call to Qualys', async () => {
    w = await simWorld();
    const props = w.props(api);
    const created = await w.create(props);
    if (!created.ok) throw new Error(created.reason);
    const before = w.sim.calls.length;
    const same = w.props(api, { adoptExisting: true, validationTimeoutSeconds: 600 });
    expect(await w.update(created.PhysicalResourceId, props, same)).toMatchObject({ ok: true });
    expect(w.sim.calls.length).toBe(before);
  });

  test('GIVEN a Delete whose stack update failed (UPDATE_ROLLBACK_IN_PROGRESS) of a connector this stack created THEN it is deleted', async () => {
    w = await simWorld();
    const props = w.props(api);
    const created = await w.create(props);
    if (!created.ok) throw new Error(created.reason);
    w.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
    expect(await w.delete(created.PhysicalResourceId, props)).toMatchObject({ ok: true });
    expect(await w.sim.connectors()).toEqual([]);
  });
});

describe.each(APIS)('the %s API under a rate limit longer than the Lambda has left', (api) => {
  test('GIVEN 3 calls per hour and a work deadline of 2 minutes WHEN created THEN it fails by the deadline (plus the cleanup window), saying the rate limit, and no connector is left', async () => {
    w = await simWorld({ connectors: { rateLimit: { limit: 3, windowMs: 3_600_000 } } });
    const started = w.clock.now();
    const created = await w.create(w.props(api), 120_000);
    expect(created.ok).toBe(false);
    if (created.ok) return;
    expect(w.clock.now() - started).toBeLessThanOrEqual(120_000 + 80_000);
    expect(created.reason).toMatch(/rate limit|409/i);
    // Whatever it created within the budget, it deleted again (or says so).
    const left = await w.sim.connectors();
    if (left.length > 0) expect(created.reason).toMatch(/delete it in Qualys by hand/);
  });
});

describe.each(APIS)('the %s API: the wait when its polls are rate limited', (api) => {
  // Enough calls for the search, the create, the run and about one read; every poll after is a 409 asking to wait an hour.
  const LIMIT = api === 'cloudview' ? 7 : 6;

  test('GIVEN a role Qualys can never assume and a rate limit that refuses every poll after the first WHEN created THEN the create does not succeed on a stale RUNNING state (the run ended in errors long before the wait did)', async () => {
    w = await simWorld({ connectors: { rateLimit: { limit: LIMIT, windowMs: 3_600_000 } } });
    w.trusted.clear();
    const created = await w.create(w.props(api, { validationTimeoutSeconds: 120 }), 120_000);
    expect(created).toMatchObject({ ok: false });
  });

  test('GIVEN a 409 that asks to wait 3600 s during the wait THEN no more calls are made to the endpoint within the deadline (the rate limit is waited out, never hammered)', async () => {
    w = await simWorld({ connectors: { rateLimit: { limit: LIMIT, windowMs: 3_600_000 } } });
    await w.create(w.props(api, { validationTimeoutSeconds: 120 }), 120_000);
    const refused = w.sim.calls.filter((c) => c.status === 409);
    // One 409 tells the client to wait an hour; the cleanup may try once more.
    expect(refused.length).toBeLessThanOrEqual(2);
  });
});

describe('the create plan when CloudView lists a connector without its role', () => {
  const { planConnectorCreate } =
    require('../../../src/core/lifecycle/connector/plan') as typeof import('../../../src/core/lifecycle/connector/plan');
  const spec = {
    api: 'cloudview' as const,
    apiUrl: 'https://qualysguard.qg2.apps.qualys.com',
    secretId: 'qualys/api-credentials',
    name: 'acme-cspm',
    description: '',
    roleArn: 'arn:aws:iam::111122223333:role/QualysS3-dev-CloudViewRole-ABC',
    externalId: 'qs3-cv-uuid-12345678',
    awsAccountId: '111122223333',
    partition: 'aws',
    modules: ['assetInventory', 'cloudInventory', 'securityAssessment'] as const,
    pollingHours: 4,
    remediation: false,
    adoptExisting: false,
    validationTimeoutMs: 300_000,
  };

  test("GIVEN a connector of our name for this account whose list entry shows neither arn nor externalId (the Swagger's response fields name neither) THEN it is not adopted as this environment's own without adoptExisting (README: our leftover is \"this name and account, this stack's role\"): refused, or adopted as foreign so that a failed deploy puts it back", () => {
    const found = [{ id: 'c-1', name: 'acme-cspm', awsAccountId: '111122223333', raw: {} }];
    let steps: ReturnType<typeof planConnectorCreate> | undefined;
    try {
      steps = planConnectorCreate(spec as never, found as never);
    } catch {
      steps = undefined; // refused: correct
    }
    const adopt = steps?.find((s) => s.name === 'adopt');
    if (adopt) expect(adopt.foreign).toBe(true);
  });
});
