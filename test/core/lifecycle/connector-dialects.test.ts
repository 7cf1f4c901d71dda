/**
 * The connector lifecycle (onConnectorEvent) against the Qualys simulator's connector APIs in
 * their dialects (sim/connector-dialect.ts): the readings where the references are silent or
 * disagree. The unit tests (./connector/lifecycle.test.ts) use a hand-written fake; these use
 * the simulator, over HTTP, with a virtual clock shared by both sides (see
 * ../../support/connector-sim-world.ts).
 */
import type { HttpTransport } from '../../../src/core/qualys/transport';
import { CONNECTOR_DIALECTS, type ConnectorDialectName, resolveConnectorDialect } from '../../../sim/connector-dialect';
import { ACCOUNT, EXTERNAL_ID, NAME, ROLE, SIM_USER, type SimWorld, simWorld } from '../../support/connector-sim-world';

const APIS = ['connectors-v3', 'cloudview'] as const;
type Api = (typeof APIS)[number];
const HAND_MADE = `arn:aws:iam::${ACCOUNT}:role/HandMade`;
const idOf = (physicalId: string) => /^[^:]+:([^@]+)@/.exec(physicalId)![1];
const keyOf = (api: Api, c: { id: number; uuid: string }) => (api === 'cloudview' ? c.uuid : String(c.id));

let w: SimWorld | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

/** Every reading the simulator plays, for each API: the lifecycle must survive them all. */
const WORKING: Record<Api, ConnectorDialectName[]> = {
  'connectors-v3': Object.keys(CONNECTOR_DIALECTS) as ConnectorDialectName[],
  cloudview: Object.keys(CONNECTOR_DIALECTS) as ConnectorDialectName[],
};

describe.each(APIS)('the %s API', (api) => {
  test.each(WORKING[api])(
    'GIVEN the %s dialect WHEN created, updated in place, deleted and deleted again THEN Qualys holds our connector, then its new settings, then nothing',
    async (dialect) => {
      w = await simWorld({ dialect });
      const props = w.props(api);
      const created = await w.create(props);
      expect(created).toMatchObject({ ok: true, Data: { State: expect.stringMatching(/SUCCESS/) } });
      if (!created.ok) return;
      const [stored, ...others] = await w.sim.connectors();
      expect(others).toEqual([]);
      expect(stored).toMatchObject({ name: NAME, arn: ROLE, externalId: EXTERNAL_ID, awsAccountId: ACCOUNT });
      expect(idOf(created.PhysicalResourceId)).toBe(keyOf(api, stored));

      const changed = w.props(api, { description: 'changed', pollingHours: 6 });
      const updated = await w.update(created.PhysicalResourceId, props, changed);
      expect(updated).toMatchObject({ ok: true, PhysicalResourceId: created.PhysicalResourceId });
      expect(await w.sim.connectors()).toEqual([
        expect.objectContaining({ id: stored.id, description: 'changed', runFrequencyMinutes: 360, arn: ROLE }),
      ]);

      // Nothing changed: no call at all.
      const before = w.sim.calls.length;
      expect(await w.update(created.PhysicalResourceId, changed, changed)).toMatchObject({ ok: true });
      expect(w.sim.calls.length).toBe(before);

      expect(await w.delete(created.PhysicalResourceId, changed)).toMatchObject({ ok: true });
      expect(await w.sim.connectors()).toEqual([]);
      expect(await w.delete(created.PhysicalResourceId, changed)).toMatchObject({ ok: true });
    },
  );

  test.each(WORKING[api])(
    'GIVEN the %s dialect and a role IAM takes 45 s to propagate WHEN created THEN it re-runs until Qualys could assume it: SUCCESS, one connector',
    async (dialect) => {
      w = await simWorld({ dialect });
      w.trusted.set(`${ROLE} ${EXTERNAL_ID}`, w.clock.now() + 45_000);
      const created = await w.create(w.props(api));
      expect(created).toMatchObject({ ok: true, Data: { State: expect.stringMatching(/SUCCESS/) } });
      expect(await w.sim.connectors()).toHaveLength(1);
    },
  );

  test.each(WORKING[api])(
    'GIVEN the %s dialect and a role Qualys can never assume WHEN created THEN it fails within ValidationTimeoutSeconds and no connector is left',
    async (dialect) => {
      w = await simWorld({ dialect });
      w.trusted.clear();
      const started = w.clock.now();
      const created = await w.create(w.props(api, { validationTimeoutSeconds: 120 }));
      expect(created).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/could assume role .*was deleted again/),
      });
      expect(w.clock.now() - started).toBeLessThanOrEqual(120_000 + 80_000);
      expect(await w.sim.connectors()).toEqual([]);
    },
  );

  test.each(WORKING[api])(
    'GIVEN the %s dialect and our own leftover (same name, account, role) WHEN created THEN it is adopted, not duplicated',
    async (dialect) => {
      w = await simWorld({ dialect });
      const seeded = w.sim.seedConnector({ name: NAME, arn: ROLE, externalId: EXTERNAL_ID, state: 'FINISHED_SUCCESS' });
      const created = await w.create(w.props(api));
      if (api === 'cloudview' && resolveConnectorDialect(dialect).cloudViewArn === 'hidden') {
        // Where Qualys does not show the role, nothing proves the leftover ours: refused, unchanged.
        expect(created).toMatchObject({ ok: false, reason: expect.stringMatching(/adoptExisting/) });
        expect((await w.sim.connectors()).map((c) => c.id)).toEqual([seeded.id]);
        return;
      }
      expect(created).toMatchObject({ ok: true });
      if (!created.ok) return;
      expect(idOf(created.PhysicalResourceId)).toBe(keyOf(api, seeded));
      expect(created.PhysicalResourceId).not.toMatch(/:adopted/);
      expect((await w.sim.connectors()).map((c) => c.id)).toEqual([seeded.id]);
    },
  );

  test.each(WORKING[api])(
    'GIVEN the %s dialect and a foreign connector for the account WHEN created without adoptExisting THEN it is refused and nothing is changed',
    async (dialect) => {
      w = await simWorld({ dialect });
      const seeded = w.sim.seedConnector({ name: 'hand-made', arn: HAND_MADE, externalId: 'their-external-id' });
      const created = await w.create(w.props(api));
      expect(created).toMatchObject({ ok: false, reason: expect.stringMatching(/hand-made.*adoptExisting/) });
      expect(await w.sim.connectors()).toEqual([
        expect.objectContaining({ id: seeded.id, name: 'hand-made', arn: HAND_MADE, externalId: 'their-external-id' }),
      ]);
    },
  );

  test.each(['reset', '502'] as const)(
    'GIVEN the create reaches Qualys but its answer is lost (%s) WHEN created THEN exactly one connector exists and the deploy succeeds',
    async (how) => {
      w = await simWorld({ dialect: { uniqueness: 'none' } });
      const inner = w.transport;
      let lost = 0;
      w.transport = (async (req) => {
        const res = await inner(req);
        const path = new URL(req.url).pathname;
        if (req.method === 'POST' && /\/create\/am\/|\/aws\/connectors$/.test(path) && lost++ === 0) {
          if (how === 'reset') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          return { status: 502, headers: { 'content-type': 'text/html' }, body: '<html>502 Bad Gateway</html>' };
        }
        return res;
      }) as HttpTransport;
      const created = await w.create(w.props(api));
      expect(created).toMatchObject({ ok: true });
      expect(lost).toBe(1);
      expect(await w.sim.connectors()).toHaveLength(1);
    },
  );

  test('GIVEN a budget of 4 calls a minute WHEN created THEN the 409s are waited out (X-RateLimit-ToWait-Sec), one connector, never a second create', async () => {
    w = await simWorld({ connectors: { rateLimit: { limit: 4, windowMs: 60_000 } } });
    const created = await w.create(w.props(api));
    expect(created).toMatchObject({ ok: true });
    expect(w.sim.calls.some((c) => c.status === 409)).toBe(true);
    expect(await w.sim.connectors()).toHaveLength(1);
    const creates = w.sim.calls.filter(
      (c) => c.method === 'POST' && /\/create\/am\/|\/aws\/connectors$/.test(c.path) && c.status !== 409,
    );
    expect(creates).toHaveLength(1);
  });

  test('GIVEN a Lambda 20 s from its deadline and a role never assumable WHEN created THEN FAILED within the deadline plus the cleanup window, and nothing is left', async () => {
    w = await simWorld();
    w.trusted.clear();
    const started = w.clock.now();
    const created = await w.create(w.props(api, { validationTimeoutSeconds: 600 }), 20_000);
    expect(created).toMatchObject({ ok: false });
    expect(w.clock.now() - started).toBeLessThanOrEqual(20_000 + 80_000);
    expect(await w.sim.connectors()).toEqual([]);
  });

  test('GIVEN every event above WHEN the lines are read THEN neither the password nor its Basic encoding appears', async () => {
    w = await simWorld();
    w.trusted.clear();
    await w.create(w.props(api, { validationTimeoutSeconds: 60 }));
    const basic = Buffer.from(`${SIM_USER.username}:${SIM_USER.password}`).toString('base64');
    expect(w.lines.length).toBeGreaterThan(5);
    for (const line of w.lines) {
      expect(line).not.toContain(SIM_USER.password);
      expect(line).not.toContain(basic);
    }
  });
});

// ---- defects ------------------------------------------------------------------------------

describe('Connectors 3.0 whose run exists only as 2.0 (ref §2: "only a v2 form of run was seen in Qualys code")', () => {
  test.each<ConnectorDialectName>(['qps-run-v2', 'unforgiving'])(
    'GIVEN the %s dialect (the 3.0 run path answers the server HTML 404) WHEN created THEN the run falls back to 2.0 and the connector is created, SUCCESS',
    async (dialect) => {
      w = await simWorld({ dialect });
      const created = await w.create(w.props('connectors-v3'));
      expect(created).toMatchObject({ ok: true, Data: { State: expect.stringMatching(/SUCCESS/) } });
      expect(await w.sim.connectors()).toHaveLength(1);
    },
  );
});

describe("CloudView with the guide's comma-separated connector IDs (guide l.797)", () => {
  test.each<ConnectorDialectName>(['comma-ids', 'unforgiving'])(
    'GIVEN the %s dialect WHEN the stack is deleted THEN the connector is gone from Qualys',
    async (dialect) => {
      w = await simWorld({ dialect });
      const created = await w.create(w.props('cloudview'));
      expect(created).toMatchObject({ ok: true });
      if (!created.ok) return;
      expect(await w.delete(created.PhysicalResourceId, w.props('cloudview'))).toMatchObject({ ok: true });
      expect(await w.sim.connectors()).toEqual([]);
    },
  );

  test('GIVEN the comma-ids dialect and a role IAM takes 45 s to propagate WHEN created THEN the re-runs are accepted and it ends SUCCESS', async () => {
    w = await simWorld({ dialect: 'comma-ids' });
    w.trusted.set(`${ROLE} ${EXTERNAL_ID}`, w.clock.now() + 45_000);
    const created = await w.create(w.props('cloudview'));
    expect(created).toMatchObject({ ok: true, Data: { State: expect.stringMatching(/SUCCESS/) } });
  });

  test('GIVEN the comma-ids dialect and a role never assumable WHEN the create fails THEN no connector is left in Qualys', async () => {
    w = await simWorld({ dialect: 'comma-ids' });
    w.trusted.clear();
    const created = await w.create(w.props('cloudview', { validationTimeoutSeconds: 60 }));
    expect(created).toMatchObject({ ok: false });
    expect(await w.sim.connectors()).toEqual([]);
  });
});

describe('replacement: the old resource is deleted by CloudFormation after the update', () => {
  test('GIVEN a connector registered through Connectors 3.0 WHEN "api" changes to "cloudview" THEN the update is refused, saying how to switch, and Qualys still holds the connector, unchanged', async () => {
    // One store behind both APIs: a replacement would adopt the old connector through the new
    // API, and CloudFormation's Delete of the old resource would then delete it.
    w = await simWorld();
    const old = w.props('connectors-v3');
    const created = await w.create(old);
    expect(created).toMatchObject({ ok: true });
    if (!created.ok) return;
    const before = await w.sim.connectors();
    const updated = await w.update(created.PhysicalResourceId, old, w.props('cloudview'));
    expect(updated).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/"cloudView\.api" changed .*Nothing was changed.*without "cloudView"/),
    });
    expect(await w.sim.connectors()).toEqual(before);
  });

  test.each(APIS)(
    "GIVEN Qualys's one connector per AWS account (the reference dialect) WHEN the role ARN changes (%s) THEN the update succeeds and, after CloudFormation deletes the old resource, one connector with the new role remains",
    async (api) => {
      w = await simWorld();
      const role2 = `arn:aws:iam::${ACCOUNT}:role/QualysCloudView-dev-2`;
      w.trusted.set(`${role2} ${EXTERNAL_ID}`, 0);
      const old = w.props(api);
      const created = await w.create(old);
      expect(created).toMatchObject({ ok: true });
      if (!created.ok) return;
      const next = w.props(api, { roleArn: role2 });
      const updated = await w.update(created.PhysicalResourceId, old, next);
      expect(updated).toMatchObject({ ok: true });
      if (!updated.ok) return;
      if (updated.PhysicalResourceId !== created.PhysicalResourceId)
        expect(await w.delete(created.PhysicalResourceId, old)).toMatchObject({ ok: true });
      const left = await w.sim.connectors();
      expect(left).toEqual([expect.objectContaining({ arn: role2 })]);
      expect(idOf(updated.PhysicalResourceId)).toBe(keyOf(api, left[0]));
    },
  );
});

describe('an adopted foreign connector is put back as it was', () => {
  const seedForeign = (world: SimWorld) =>
    world.sim.seedConnector({
      name: 'hand-made',
      description: 'made by hand',
      arn: HAND_MADE,
      externalId: 'their-external-id',
      runFrequencyMinutes: 720,
    });
  const asItWas = { name: 'hand-made', description: 'made by hand', arn: HAND_MADE, externalId: 'their-external-id' };

  test.each<ConnectorDialectName>(['reference', 'qps-strings'])(
    'GIVEN QPS answers booleans (and numbers) as strings (%s) and adoptExisting WHEN the wait fails THEN the foreign connector is put back as it was',
    async (dialect) => {
      w = await simWorld({ dialect });
      w.trusted.clear();
      const seeded = seedForeign(w);
      const created = await w.create(w.props('connectors-v3', { adoptExisting: true, validationTimeoutSeconds: 60 }));
      expect(created).toMatchObject({ ok: false, reason: expect.stringMatching(/put back as it was\.$/) });
      expect(await w.sim.connectors()).toEqual([
        expect.objectContaining({ id: seeded.id, ...asItWas, runFrequencyMinutes: 720 }),
      ]);
    },
  );

  test('GIVEN an adopted foreign connector (QPS booleans as strings) WHEN the stack rolls back and deletes it THEN it is put back as it was, and the Delete succeeds', async () => {
    w = await simWorld();
    const seeded = seedForeign(w);
    const props = w.props('connectors-v3', { adoptExisting: true });
    const created = await w.create(props);
    expect(created).toMatchObject({ ok: true, PhysicalResourceId: expect.stringMatching(/:adopted/) });
    if (!created.ok) return;
    w.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
    expect(await w.delete(created.PhysicalResourceId, props)).toMatchObject({ ok: true });
    expect(await w.sim.connectors()).toEqual([expect.objectContaining({ id: seeded.id, ...asItWas })]);
  });

  test('GIVEN QPS booleans typed (qps-typed) and adoptExisting WHEN the wait fails THEN the foreign connector is put back as it was', async () => {
    w = await simWorld({ dialect: 'qps-typed' });
    w.trusted.clear();
    const seeded = seedForeign(w);
    const created = await w.create(w.props('connectors-v3', { adoptExisting: true, validationTimeoutSeconds: 60 }));
    expect(created).toMatchObject({ ok: false, reason: expect.stringMatching(/put back as it was\.$/) });
    expect(await w.sim.connectors()).toEqual([expect.objectContaining({ id: seeded.id, ...asItWas })]);
  });

  test('GIVEN the CloudView API (reference) and adoptExisting WHEN the wait fails THEN the foreign connector is put back as it was', async () => {
    w = await simWorld();
    w.trusted.clear();
    const seeded = seedForeign(w);
    const created = await w.create(w.props('cloudview', { adoptExisting: true, validationTimeoutSeconds: 60 }));
    expect(created).toMatchObject({ ok: false, reason: expect.stringMatching(/put back as it was\.$/) });
    expect(await w.sim.connectors()).toEqual([expect.objectContaining({ id: seeded.id, ...asItWas })]);
  });

  test("GIVEN CloudView details that hide externalId (the Swagger's fields do not name it) and adoptExisting WHEN the wait fails THEN the foreign connector is not left pointing at this stack's role (put back, or never taken)", async () => {
    w = await simWorld({ dialect: { cloudViewExternalId: 'hidden' } });
    w.trusted.clear();
    const seeded = seedForeign(w);
    await w.create(w.props('cloudview', { adoptExisting: true, validationTimeoutSeconds: 60 }));
    expect(await w.sim.connectors()).toEqual([expect.objectContaining({ id: seeded.id, ...asItWas })]);
  });
});
