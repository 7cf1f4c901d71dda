/**
 * Attacks on the lifecycle under the readings the guide allows: replacements after changes
 * made outside the stack, rotations whose answers go missing and their rollbacks, CIPS
 * answers the reader half understands, one integration per kind, and validation pacing.
 * Tests named "(judgement call)" pin an expectation the guide does not settle.
 */
import { Prop } from '../../../src/core/contract';
import type { HttpResponse } from '../../../src/core/qualys/transport';
import { onEvent, parsePhysicalId } from '../../../src/core/lifecycle/lifecycle';
import type { DialectName } from '../../../sim/qualys-simulator';
import * as kit from '../../support/lifecycle-world';
import { CIPS_FILTER as FILTER } from '../../support/fixtures';

const OTHER_FILTER = {
  includeEvidenceData: true,
  includeFailPosture: true,
  includePassPosture: true,
  includeErrorPosture: true,
};

const world = kit.useLifecycleWorld({ perTest: true });

const bodyOf = (body: string | undefined): Record<string, unknown> => {
  try {
    return JSON.parse(body ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
};
const isIntegrationPut = (method: string, url: string) =>
  method === 'PUT' && new URL(url).pathname.startsWith('/partner-integration/aws/s3/');
const badGateway: HttpResponse = {
  status: 502,
  headers: { 'content-type': 'text/html' },
  body: '<html><title>502 Bad Gateway</title></html>',
};

describe('a replacement after the integration was deleted outside the stack', () => {
  test.each(['guide', 'pc-guide-details', 'strict'] as DialectName[])(
    'GIVEN the "%s" reading and a PC integration deleted in Qualys WHEN an update re-registers it and CloudFormation deletes the old resource THEN the new integration keeps its CIPS policies',
    async (dialect) => {
      await world.build({ sim: { dialect } });
      const p1 = kit.props(world, 'pc');
      const created = await onEvent(kit.createEvent(p1), world.deps);
      expect(world.sim.cips().policies).toEqual([101, 102]);

      world.sim.clearIntegrations();
      const p2 = kit.props(world, 'pc', { [Prop.Settings]: JSON.stringify({ compressData: false }) });
      const replaced = await onEvent(kit.updateEvent(created.PhysicalResourceId, p1, p2), world.deps);
      expect(parsePhysicalId(replaced.PhysicalResourceId)?.id).not.toBe(
        parsePhysicalId(created.PhysicalResourceId)?.id,
      );

      // CloudFormation's cleanup phase: a Delete for the replaced physical ID, with the old properties.
      await onEvent(kit.deleteEvent(created.PhysicalResourceId, p1), world.deps);
      expect(world.sim.integrations('pc')).toHaveLength(1);
      expect(world.sim.cips().policies).toEqual([101, 102]);
    },
  );
});

describe('rotation when the PUT answers the external ID only when regenerating', () => {
  test("GIVEN PC details as the guide's sample and a PUT whose answer carries the external ID only with regenerateExternalId true (the literal guide, judgement call) WHEN the external ID is rotated THEN the new one is trusted and validated", async () => {
    await world.build({ sim: { dialect: { pcDetails: 'guide', putAnswer: 'with-external-id' } } });
    // l.776-779: the regenerate=false answer is a message only; l.1310: the regenerated ID is in the answer.
    world.hooks.push(async (req, forward) => {
      if (!isIntegrationPut(req.method, req.url) || bodyOf(req.body).regenerateExternalId === true) return undefined;
      const res = await forward();
      const { messsage } = bodyOf(res.body);
      return { ...res, body: JSON.stringify({ messsage }) };
    });
    const p1 = kit.props(world, 'pc');
    const created = await onEvent(kit.createEvent(p1), world.deps);
    const before = world.sim.integrations('pc')[0].externalId;

    const p2 = { ...p1, [Prop.ExternalIdRotation]: '2026-12' };
    await onEvent(kit.updateEvent(created.PhysicalResourceId, p1, p2), world.deps);
    const after = world.sim.integrations('pc')[0];
    expect(after.externalId).not.toBe(before);
    expect(kit.trustedIds(world, 'pc')).toEqual([after.externalId]);
    expect(after.integrationValidated).toBe(true);
  });
});

describe('a rotation that failed half-way, rolled back', () => {
  const cases: [DialectName, 'vm' | 'pc'][] = [
    ['strict', 'vm'],
    ['strict', 'pc'],
    ['guide', 'vm'],
    ['guide', 'pc'],
    ['put-external-id', 'pc'],
    ['externalID', 'pc'],
  ];

  test.each(cases)(
    'GIVEN the "%s" reading and a %s rotation whose regenerating PUT took effect but every answer was lost WHEN CloudFormation rolls it back THEN the rollback succeeds and the role trusts Qualys\'s current external ID',
    async (dialect, kind) => {
      await world.build({ sim: { dialect } });
      const p1 = kit.props(world, kind);
      const created = await onEvent(kit.createEvent(p1), world.deps);
      const p2 = { ...p1, [Prop.ExternalIdRotation]: 'now' };
      world.hooks.push(async (req, forward) => {
        if (!isIntegrationPut(req.method, req.url) || bodyOf(req.body).regenerateExternalId !== true) return undefined;
        await forward();
        return badGateway;
      });
      await expect(onEvent(kit.updateEvent(created.PhysicalResourceId, p1, p2), world.deps)).rejects.toThrow(
        /HTTP 502/,
      );

      world.hooks.length = 0;
      world.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
      await expect(onEvent(kit.updateEvent(created.PhysicalResourceId, p2, p1), world.deps)).resolves.toMatchObject({
        PhysicalResourceId: created.PhysicalResourceId,
      });
      const current = world.sim.integrations(kind)[0];
      expect(kit.trustedIds(world, kind)).toEqual([current.externalId]);
      expect(current.integrationValidated).toBe(true);
    },
  );

  test.each(cases)(
    'GIVEN the "%s" reading and a %s rotation that regenerated but could not write the trust policy WHEN CloudFormation rolls it back THEN the rollback succeeds and the role trusts Qualys\'s current external ID',
    async (dialect, kind) => {
      await world.build({ sim: { dialect } });
      const p1 = kit.props(world, kind);
      const created = await onEvent(kit.createEvent(p1), world.deps);
      const p2 = { ...p1, [Prop.ExternalIdRotation]: 'now' };
      const write = world.trust.write.bind(world.trust);
      let refuse = true;
      world.trust.write = async (...args) => {
        if (refuse) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
        return write(...args);
      };
      await expect(onEvent(kit.updateEvent(created.PhysicalResourceId, p1, p2), world.deps)).rejects.toThrow();
      refuse = false;
      world.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
      await expect(onEvent(kit.updateEvent(created.PhysicalResourceId, p2, p1), world.deps)).resolves.toBeDefined();
      const current = world.sim.integrations(kind)[0];
      expect(kit.trustedIds(world, kind)).toEqual([current.externalId]);
      expect(current.integrationValidated).toBe(true);
    },
  );
});

describe("one integration per kind, as the guide's sample", () => {
  test('GIVEN the "guide" reading and another environment\'s PC integration WHEN a second environment is created and then follows the error\'s advice to adopt it (judgement call) THEN the advice works, or the error does not offer it', async () => {
    await world.build({ sim: { dialect: 'guide' } });
    const otherName = 'qs3-prod-pc-123456789012-eu-west-1';
    const other = world.sim.seedIntegration('pc', {
      name: otherName,
      bucketName: 'prod-bucket',
      roleArn: 'arn:aws:iam::123456789012:role/prod-pc-role',
    });

    const first = await onEvent(kit.createEvent(kit.props(world, 'pc')), world.deps).catch((e: Error) => e);
    expect(first).toBeInstanceOf(Error);
    const message = (first as Error).message;
    expect(message).toContain(otherName);
    expect(world.sim.integrations('pc')).toEqual([other]);
    if (!/adopt/i.test(message)) return;

    const adopting = kit.props(world, 'pc', { [Prop.IntegrationName]: otherName, [Prop.AdoptExisting]: 'true' });
    await expect(onEvent(kit.createEvent(adopting), world.deps)).resolves.toBeDefined();
  });
});

describe('a CIPS answer the reader half understands', () => {
  test("GIVEN another environment's policy 101 in CIPS under a key the reader does not know WHEN a create adds it and fails later THEN policy 101 stays in CIPS", async () => {
    await world.build();
    world.sim.seedCips({ policies: [101], filter: OTHER_FILTER });
    // Get Filter Details has no sample (l.1078): here the policies come as "cipsPolicies".
    world.hooks.push(async (req, forward) => {
      if (req.method !== 'GET' || new URL(req.url).pathname !== '/pcas/cips/config') return undefined;
      const res = await forward();
      const { policy, ...rest } = bodyOf(res.body);
      return res.status === 200 ? { ...res, body: JSON.stringify({ ...rest, cipsPolicies: policy }) } : res;
    });
    // The filter write fails for good, after the policies were added.
    world.sim.inject({ method: 'PUT', path: '/pcas/cips/config', status: 500, times: 100 });
    const p = kit.props(world, 'pc', { [Prop.Cips]: JSON.stringify({ policies: [101, 102], filter: FILTER }) });
    await expect(onEvent(kit.createEvent(p), world.deps)).rejects.toThrow();
    expect(world.sim.integrations('pc')).toEqual([]);
    expect(world.sim.cips().policies).toContain(101);
  });

  test('GIVEN an unreadable CIPS answer WHEN a PC integration with policies is deleted THEN no policy is removed and the filter is untouched', async () => {
    await world.build({ sim: { dialect: 'cips-opaque' } });
    const p = kit.props(world, 'pc');
    const created = await onEvent(kit.createEvent(p), world.deps);
    world.sim.seedCips({ filter: OTHER_FILTER });
    await onEvent(kit.deleteEvent(created.PhysicalResourceId, p), world.deps);
    expect(world.sim.cips().policies).toEqual([101, 102]);
    expect(world.sim.cips().filter).toEqual(OTHER_FILTER);
    expect(kit.callsTo(world, 'DELETE', '/pcas/cips')).toEqual([]);
  });
});

describe('validation pacing', () => {
  test('GIVEN a validate answered 429 with X-RateLimit-ToWait-Sec: 20 WHEN validating THEN the next validate waits at least 20 s', async () => {
    await world.build();
    const at: number[] = [];
    world.hooks.push(async (req) => {
      if (req.method !== 'PATCH') return undefined;
      at.push(world.clock.now());
      if (at.length > 1) return undefined;
      return {
        status: 429,
        headers: { 'content-type': 'application/json', 'x-ratelimit-towait-sec': '20' },
        body: JSON.stringify({ messsage: 'Rate limit exceeded' }),
      };
    });
    await onEvent(kit.createEvent(kit.props(world, 'vm')), world.deps);
    expect(at.length).toBeGreaterThanOrEqual(2);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(20_000);
    expect(world.sim.integrations('vm')[0].integrationValidated).toBe(true);
  });

  test('GIVEN a validate that keeps answering 200 with a failure message WHEN the window ends THEN the error quotes Qualys and says what to do, and nothing is left registered', async () => {
    await world.build({ sim: { dialect: 'validate-200-failure' } });
    world.propagationMs = Number.POSITIVE_INFINITY;
    const p = kit.props(world, 'vm', { [Prop.ValidationTimeoutSeconds]: '30' });
    await expect(onEvent(kit.createEvent(p), world.deps)).rejects.toThrow(
      /Qualys's last answer: HTTP 200 AWS S3 VM integration validation failed.*raise "validationTimeoutSeconds".*deregistered again/,
    );
    expect(world.sim.integrations('vm')).toEqual([]);
  });
});

describe('duplicates and leftovers', () => {
  test('GIVEN the "guide" reading and a PC register that went through but answered 500 WHEN the create retries THEN no duplicate is registered and the error says what to do', async () => {
    await world.build({ sim: { dialect: 'guide' } });
    let first = true;
    world.hooks.push(async (req, forward) => {
      if (!(req.method === 'POST' && new URL(req.url).pathname === '/partner-integration/aws/s3/pc') || !first)
        return undefined;
      first = false;
      await forward();
      return {
        status: 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messsage: 'Internal Server Error' }),
      };
    });
    const outcome = await onEvent(kit.createEvent(kit.props(world, 'pc')), world.deps).catch((e: Error) => e);
    expect(world.sim.integrations('pc')).toHaveLength(1);
    if (outcome instanceof Error) expect(outcome.message).toMatch(/Delete it in the Qualys UI|ask Qualys Support/);
  });

  test("GIVEN a create that failed before any integration was recorded WHEN CloudFormation sends the Delete for the framework's physical ID THEN no Qualys call is made", async () => {
    await world.build();
    world.sim.resetCalls();
    await expect(
      onEvent(kit.deleteEvent('2f1a8c7e-framework-request-id', kit.props(world, 'vm')), world.deps),
    ).resolves.toMatchObject({
      PhysicalResourceId: '2f1a8c7e-framework-request-id',
    });
    expect(world.sim.calls).toEqual([]);
  });
});
