/**
 * Adversarial: faults during a create. The issue: "A failed create leaves nothing registered in
 * Qualys"; "An integration already registered under the configured name is never duplicated";
 * "Retries: 429 and 5xx (including HTML error bodies) are retried ..."; README: "a POST that may
 * have gone through is never blindly repeated (the list is checked first)".
 */
import { onEvent } from '../../../src/core/lifecycle/lifecycle';
import { Prop } from '../../../src/core/contract';
import {
  USER,
  callsTo,
  createEvent,
  isRegister,
  useLifecycleWorld,
  networkError,
  props,
  trustedIds,
} from '../../support/lifecycle-world';

const world = useLifecycleWorld();

/** Outcome check shared by "register went through but the answer was lost" tests. */
async function expectExactlyOneOrNone(run: Promise<unknown>) {
  const out = await run.then(
    (v) => ({ ok: true as const, v }),
    (e: Error) => ({ ok: false as const, e }),
  );
  const vms = world.sim.integrations('vm');
  if (out.ok) {
    expect(vms).toHaveLength(1);
    expect(vms[0].integrationValidated).toBe(true);
    expect(trustedIds(world, 'vm')).toEqual([vms[0].externalId]);
  } else {
    // A failed create must leave nothing registered.
    expect(vms).toEqual([]);
  }
  return out;
}

describe('register went through, but the answer was lost', () => {
  test('GIVEN POST register is processed but answered 500 WHEN created THEN exactly one integration exists (or none on failure)', async () => {
    world.hooks.push(async (req, forward) => {
      if (!isRegister(req) || callsTo(world, 'POST', /\/s3\/vm$/).length > 0) return undefined;
      await forward();
      return {
        status: 500,
        headers: { 'content-type': 'application/json' },
        body: '{"messsage":"Internal Server Error"}',
      };
    });
    await expectExactlyOneOrNone(onEvent(createEvent(props(world, 'vm')), world.deps));
  });

  test('GIVEN POST register is processed but the connection is reset WHEN created THEN exactly one integration exists (or none on failure)', async () => {
    world.hooks.push(async (req, forward) => {
      if (!isRegister(req) || callsTo(world, 'POST', /\/s3\/vm$/).length > 0) return undefined;
      await forward();
      throw networkError('UND_ERR_SOCKET', 'other side closed');
    });
    await expectExactlyOneOrNone(onEvent(createEvent(props(world, 'vm')), world.deps));
  });

  test('GIVEN POST register is processed but the answer times out WHEN created THEN exactly one integration exists (or none on failure)', async () => {
    world.hooks.push(async (req, forward) => {
      if (!isRegister(req) || callsTo(world, 'POST', /\/s3\/vm$/).length > 0) return undefined;
      await forward();
      await world.clock.sleep(30_000);
      throw networkError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error');
    });
    await expectExactlyOneOrNone(onEvent(createEvent(props(world, 'vm')), world.deps));
  });

  test('GIVEN POST register is processed, answered 502 HTML, and the list GET then 503s once WHEN created THEN no duplicate and nothing left behind on failure', async () => {
    world.hooks.push(async (req, forward) => {
      if (!isRegister(req) || callsTo(world, 'POST', /\/s3\/vm$/).length > 0) return undefined;
      await forward();
      return {
        status: 502,
        headers: { 'content-type': 'text/html' },
        body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
      };
    });
    world.sim.inject({ method: 'GET', path: '/partner-integration/aws/s3/vm', status: 503, html: true, times: 1 });
    await expectExactlyOneOrNone(onEvent(createEvent(props(world, 'vm')), world.deps));
  });

  test('GIVEN a PC register is processed but answered 500 WHEN created THEN exactly one PC integration exists (or none on failure)', async () => {
    world.hooks.push(async (req, forward) => {
      if (!isRegister(req, 'pc') || callsTo(world, 'POST', /\/s3\/pc$/).length > 0) return undefined;
      await forward();
      return {
        status: 500,
        headers: { 'content-type': 'application/json' },
        body: '{"messsage":"Internal Server Error"}',
      };
    });
    const out = await onEvent(createEvent(props(world, 'pc')), world.deps).then(
      () => true,
      () => false,
    );
    expect(world.sim.integrations('pc')).toHaveLength(out ? 1 : 0);
  });
});

describe('failures after registration leave nothing behind', () => {
  test('GIVEN the role was deleted out of band (IAM NoSuchEntity) WHEN created THEN the create fails naming the role and deregisters', async () => {
    world.trust.roles.delete('vm-role');
    const error = await onEvent(createEvent(props(world, 'vm')), world.deps).then(
      () => new Error('unexpectedly succeeded'),
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/vm-role/);
    expect(world.sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN IAM refuses the trust-policy update (AccessDenied) WHEN created THEN the create fails and deregisters', async () => {
    world.trust.write = async () => {
      throw Object.assign(new Error('User is not authorized to perform: iam:UpdateAssumeRolePolicy'), {
        name: 'AccessDenied',
      });
    };
    const error = await onEvent(createEvent(props(world, 'vm')), world.deps).then(
      () => new Error('unexpectedly succeeded'),
      (e: Error) => e,
    );
    expect(error.message).toMatch(/UpdateAssumeRolePolicy|AccessDenied/);
    expect(world.sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN validation fails AND the cleanup DELETE keeps failing WHEN created THEN the reason names the integration left behind and how to remove it', async () => {
    world.propagationMs = Number.POSITIVE_INFINITY;
    world.sim.inject({ method: 'DELETE', path: /\/vm$/, status: 503, html: true, times: 1000 });
    const error = await onEvent(
      createEvent(props(world, 'vm', { [Prop.ValidationTimeoutSeconds]: '30' })),
      world.deps,
    ).then(
      () => new Error('unexpectedly succeeded'),
      (e: Error) => e,
    );
    const [left] = world.sim.integrations('vm');
    expect(left).toBeDefined();
    expect(error.message).toContain(String(left.integrationId));
    expect(error.message).toMatch(/HTTP 503/);
    expect(world.clock.now() - world.start).toBeLessThan(world.deps.deadline - world.start + 90_000);
  });

  test('GIVEN the token expires right after registration and validation keeps failing WHEN created THEN the cleanup re-authenticates and deregisters', async () => {
    world.propagationMs = Number.POSITIVE_INFINITY;
    world.hooks.push(async (req, forward) => {
      if (!isRegister(req)) return undefined;
      const res = await forward();
      world.sim.expireAllTokens();
      return res;
    });
    await expect(
      onEvent(createEvent(props(world, 'vm', { [Prop.ValidationTimeoutSeconds]: '30' })), world.deps),
    ).rejects.toThrow(/Validation/);
    expect(world.sim.integrations('vm')).toEqual([]);
  });
});

describe('retries', () => {
  test('GIVEN /auth answers 503 HTML twice and then 429 with Retry-After WHEN created THEN it succeeds', async () => {
    world.sim.inject({ method: 'POST', path: '/auth', status: 503, html: true, times: 2 });
    world.sim.inject({ method: 'POST', path: '/auth', status: 429, headers: { 'Retry-After': '3' }, times: 1 });
    await onEvent(createEvent(props(world, 'vm')), world.deps);
    expect(world.sim.integrations('vm')).toHaveLength(1);
    expect(world.clock.sleeps.some((ms) => ms >= 3000)).toBe(true);
  });

  test('GIVEN connection resets on every kind of call once WHEN created THEN it still succeeds with one integration', async () => {
    for (const [method, path] of [
      ['POST', '/auth'],
      ['GET', '/partner-integration/aws/s3/vm'],
      ['PATCH', /validate$/],
    ] as const) {
      world.sim.inject({ method, path, reset: true, times: 1 });
    }
    await onEvent(createEvent(props(world, 'vm')), world.deps);
    expect(world.sim.integrations('vm')).toHaveLength(1);
    expect(world.sim.integrations('vm')[0].integrationValidated).toBe(true);
  });

  test('GIVEN the token expires mid-run (after registration) WHEN created THEN it re-authenticates exactly once and succeeds', async () => {
    world.hooks.push(async (req, forward) => {
      if (!isRegister(req)) return undefined;
      const res = await forward();
      world.sim.expireAllTokens();
      return res;
    });
    await onEvent(createEvent(props(world, 'vm')), world.deps);
    expect(callsTo(world, 'POST', '/auth')).toHaveLength(2);
    expect(world.sim.integrations('vm')[0].integrationValidated).toBe(true);
  });

  test('GIVEN a 401 that persists after re-authentication WHEN created THEN it does not loop on /auth and fails quickly', async () => {
    world.sim.inject({
      method: 'GET',
      path: '/partner-integration/aws/s3/vm',
      status: 401,
      body: '{"messsage":"Unauthorized"}',
      times: 1000,
    });
    const error = await onEvent(createEvent(props(world, 'vm')), world.deps).then(
      () => new Error('unexpectedly succeeded'),
      (e: Error) => e,
    );
    expect(error.message).toMatch(/401/);
    expect(callsTo(world, 'POST', '/auth').length).toBeLessThanOrEqual(2);
    expect(world.sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN wrong credentials WHEN created THEN /auth is tried once (no account lockout from retries)', async () => {
    world.secrets.values.set('qualys/api-credentials', JSON.stringify({ username: USER.username, password: 'wrong' }));
    await expect(onEvent(createEvent(props(world, 'vm')), world.deps)).rejects.toThrow(/401/);
    expect(callsTo(world, 'POST', '/auth')).toHaveLength(1);
  });
});

describe('a list answer that is no list', () => {
  test('GIVEN the VM list answered 200 with an HTML maintenance page WHEN created THEN the create fails saying the answer was unreadable, and registers nothing', async () => {
    world.sim.inject({ method: 'GET', path: '/partner-integration/aws/s3/vm', status: 200, html: true, times: 1000 });
    await expect(onEvent(createEvent(props(world, 'vm')), world.deps)).rejects.toThrow(
      /List VM integrations failed: .*cannot read \(not JSON.*Nothing was changed/,
    );
    expect(callsTo(world, 'POST', /\/s3\/vm$/)).toEqual([]);
    expect(world.sim.integrations('vm')).toEqual([]);
  });
});
