/**
 * Adversarial: what CloudFormation receives (through the Lambda entry point `wrap`), and
 * whether it always receives it in bounded time. The issue: "Every failure reaches
 * CloudFormation with a reason a person can act on: the step, the HTTP status, Qualys's
 * message; never the password, the JWT or the ResponseURL." and "The custom resource always
 * answers CloudFormation in bounded time."
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { MAX_REASON_BYTES, capReason, defaultLogger, observeLogEvents, wrap } from '../../src/handler/handler';
import { type LifecycleDeps, onEvent } from '../../src/core/lifecycle/lifecycle';
import { type LogEvent, Logger } from '../../src/core/log';
import { ALLOWED_GATEWAYS_ENV, Prop } from '../../src/core/contract';
import {
  CLEANUP_RESERVE_MS,
  LAMBDA_BUDGET_MS,
  RESPONSE_URL,
  SECRET_ID,
  USER,
  assertNoSecretsIn,
  createEvent,
  deleteEvent,
  isRegister,
  useLifecycleWorld,
  networkError,
  props,
} from '../support/lifecycle-world';

const world = useLifecycleWorld();
let out: string[];

/** The Lambda entry point, wired to the world, with a Lambda budget in virtual time. */
function lambda(
  budgetMs = LAMBDA_BUDGET_MS,
  makeLogger: () => Logger = () => new Logger((line) => out.push(line)),
  lifecycle: typeof onEvent = onEvent,
) {
  const started = world.clock.now();
  const context = { getRemainingTimeInMillis: () => budgetMs - (world.clock.now() - started) };
  const handler = wrap(
    lifecycle,
    (ctx, log): LifecycleDeps => ({
      ...world.deps,
      log,
      deadline: world.clock.now() + Math.max(0, ctx.getRemainingTimeInMillis() - CLEANUP_RESERVE_MS),
    }),
    makeLogger,
  );
  return (event: CloudFormationCustomResourceEvent) =>
    handler(event, context).then(
      (v) => ({ ok: true as const, v, elapsed: world.clock.now() - started }),
      (e: Error) => ({
        ok: false as const,
        reason: e.message,
        stack: e.stack ?? '',
        elapsed: world.clock.now() - started,
      }),
    );
}

beforeEach(() => {
  // The function's environment pins its gateway (issue 10): here, the world's simulator.
  process.env[ALLOWED_GATEWAYS_ENV] = world.gateway;
  out = [];
});
afterEach(() => {
  assertNoSecretsIn(world, out);
  for (const line of out) expect(line).not.toContain('X-Amz-Signature');
  delete process.env[ALLOWED_GATEWAYS_ENV];
});

describe('the failure reason CloudFormation receives', () => {
  test('GIVEN bad credentials WHEN created THEN the reason names the step and status, and holds no password, JWT, ResponseURL or stack frames', async () => {
    world.secrets.values.set(SECRET_ID, JSON.stringify({ username: USER.username, password: 'wrong-Pa55!' }));
    const r = await lambda()(createEvent(props(world, 'vm')));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(/^Create failed: .*HTTP 401/);
    expect(r.reason).not.toContain('wrong-Pa55!');
    expect(r.reason).not.toContain(RESPONSE_URL);
    expect(r.stack).not.toMatch(/\n\s+at /);
  });

  test('GIVEN a gateway/WAF that echoes the form-encoded /auth body in its 400 page WHEN created THEN the password does not reach CloudFormation', async () => {
    const password = 'open sesame!(42)~';
    world.secrets.values.set(SECRET_ID, JSON.stringify({ username: USER.username, password }));
    world.sim.setPassword(USER.username, password);
    world.hooks.push(async (req) => {
      if (new URL(req.url).pathname !== '/auth') return undefined;
      return { status: 400, headers: { 'content-type': 'text/plain' }, body: `Bad Request: rejected body ${req.body}` };
    });
    const r = await lambda()(createEvent(props(world, 'vm')));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const formEncoded = new URLSearchParams({ password }).toString().slice('password='.length);
    for (const text of [r.reason, ...out]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(formEncoded);
    }
  });

  test('GIVEN Qualys echoes the bearer token in an error body WHEN created THEN the JWT does not reach CloudFormation', async () => {
    world.hooks.push(async (req) => {
      if (!isRegister(req)) return undefined;
      return {
        status: 400,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messsage: `Bad request for ${req.headers.Authorization ?? req.headers.authorization}` }),
      };
    });
    const r = await lambda()(createEvent(props(world, 'vm')));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    for (const token of world.sim.issuedTokens()) expect(r.reason).not.toContain(token);
    expect(r.reason).toMatch(/HTTP 400/);
  });

  test.each([
    ['a bare password instead of JSON', 'hunter2-plain-password'],
    [
      'JSON with the password under a misspelt key',
      JSON.stringify({ username: 'u', pasword: 'hunter2-plain-password' }),
    ],
    ['JSON with a numeric password', '{"username":"u","password":12345678901234}'],
    ['truncated JSON', '{"username":"u","password":"hunter2-plain-password"'],
    ['JSON with the password as an array', JSON.stringify({ username: 'u', password: ['hunter2-plain-password'] })],
    ['a JSON string', JSON.stringify('hunter2-plain-password')],
  ])(
    'GIVEN a secret holding %s WHEN created THEN the reason explains the format and never echoes the value',
    async (_what, value) => {
      world.secrets.values.set(SECRET_ID, value);
      const r = await lambda()(createEvent(props(world, 'vm')));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.reason).toMatch(/username.*password|password/);
      for (const text of [r.reason, ...out]) {
        expect(text).not.toContain('hunter2-plain-password');
        expect(text).not.toContain('12345678901234');
      }
    },
  );

  test('GIVEN any failure WHEN the handler logs the event THEN the ResponseURL is not logged', async () => {
    world.secrets.values.delete(SECRET_ID);
    await lambda()(createEvent(props(world, 'vm')));
    expect(out.join('\n')).not.toContain('presigned');
  });
});

describe('bounded time', () => {
  test('GIVEN every Qualys request hangs until the 30 s socket timeout WHEN created THEN the handler answers before the Lambda times out', async () => {
    world.hooks.push(async () => {
      await world.clock.sleep(30_000);
      throw networkError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error');
    });
    const r = await lambda()(createEvent(props(world, 'vm')));
    expect(r.ok).toBe(false);
    expect(r.elapsed).toBeLessThan(LAMBDA_BUDGET_MS);
  });

  test('GIVEN registration works and every later request hangs 30 s WHEN created THEN the handler answers before the Lambda times out and names what is left', async () => {
    world.hooks.push(async (req, forward) => {
      if (isRegister(req) || new URL(req.url).pathname === '/auth' || req.method === 'GET') return forward();
      await world.clock.sleep(30_000);
      throw networkError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error');
    });
    const r = await lambda()(createEvent(props(world, 'vm', { [Prop.ValidationTimeoutSeconds]: '720' })));
    expect(r.ok).toBe(false);
    expect(r.elapsed).toBeLessThan(LAMBDA_BUDGET_MS);
    if (!r.ok) expect(r.reason).toContain(String(world.sim.integrations('vm')[0]?.integrationId ?? 'deregistered'));
  });

  test('GIVEN validation is slow (each PATCH takes 29 s, then 400) with the maximum validationTimeoutSeconds WHEN created THEN it answers in time and deregisters', async () => {
    world.propagationMs = Number.POSITIVE_INFINITY;
    world.hooks.push(async (req, forward) => {
      if (req.method !== 'PATCH') return undefined;
      await world.clock.sleep(29_000);
      return forward();
    });
    const r = await lambda()(createEvent(props(world, 'vm', { [Prop.ValidationTimeoutSeconds]: '720' })));
    expect(r.ok).toBe(false);
    expect(r.elapsed).toBeLessThan(LAMBDA_BUDGET_MS);
    expect(world.sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN the DELETE hangs 30 s each time WHEN the stack is destroyed THEN the handler answers before the Lambda times out', async () => {
    const seeded = world.sim.seedIntegration('vm', { name: 'qs3-dev-vm-123456789012-us-east-1' });
    world.stacks.value = 'DELETE_IN_PROGRESS';
    world.hooks.push(async (req) => {
      if (req.method !== 'DELETE') return undefined;
      await world.clock.sleep(30_000);
      throw networkError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error');
    });
    const r = await lambda()(deleteEvent(`vm:${seeded.integrationId}`, props(world, 'vm')));
    expect(r.ok).toBe(false);
    expect(r.elapsed).toBeLessThan(LAMBDA_BUDGET_MS);
  });
});

describe('the log-event seam for an in-process host (rehearse)', () => {
  /** The handler as Lambda builds it: its own logger, writing to stdout. */
  const lambdaAsShipped = () => lambda(LAMBDA_BUDGET_MS, defaultLogger);

  test('GIVEN a listener that silences stdout WHEN created THEN it gets every event in order, redacted, and nothing is written to stdout', async () => {
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const events: LogEvent[] = [];
    const stop = observeLogEvents((e) => events.push(e), { stdout: false });
    try {
      const r = await lambdaAsShipped()(createEvent(props(world, 'vm')));
      expect(r.ok).toBe(true);
    } finally {
      stop();
      stdout.mockRestore();
    }
    expect(stdout).not.toHaveBeenCalled();
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('request.received');
    expect(names).toContain('qualys.call');
    expect(names).toContain('validate.done');
    expect(names.at(-1)).toBe('request.done');
    const call = events.find((e) => e.event === 'qualys.call');
    expect(call?.fields).toEqual(expect.objectContaining({ method: expect.any(String), status: expect.any(Number) }));
    const seen = events.map((e) => JSON.stringify(e));
    assertNoSecretsIn(world, seen);
    expect(seen.join('\n')).not.toContain(RESPONSE_URL);
  });

  test('GIVEN Qualys echoes the password and the token WHEN a listener watches a failed create THEN neither reaches it', async () => {
    world.hooks.push(async (req) => {
      if (!isRegister(req)) return undefined;
      return {
        status: 400,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          message: `bad: ${USER.password} ${req.headers.Authorization ?? req.headers.authorization}`,
        }),
      };
    });
    const events: LogEvent[] = [];
    const stop = observeLogEvents((e) => events.push(e), { stdout: false });
    try {
      expect((await lambdaAsShipped()(createEvent(props(world, 'vm')))).ok).toBe(false);
    } finally {
      stop();
    }
    expect(events.map((e) => e.event)).toContain('request.failed');
    assertNoSecretsIn(
      world,
      events.map((e) => JSON.stringify(e)),
    );
  });

  test('GIVEN a listener that keeps stdout WHEN created THEN the lines still go to stdout; once detached it hears nothing more', async () => {
    const written: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const events: string[] = [];
    try {
      const stop = observeLogEvents((e) => events.push(e.event));
      await lambdaAsShipped()(deleteEvent('vm:999999', props(world, 'vm')));
      stop();
      const heard = events.length;
      await lambdaAsShipped()(deleteEvent('vm:999999', props(world, 'vm')));
      expect(events).toHaveLength(heard);
    } finally {
      stdout.mockRestore();
    }
    expect(events[0]).toBe('request.received');
    const lines = written
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    // Both invocations wrote their lines; the listener heard only the first.
    expect(lines.filter((e) => e === 'request.received')).toHaveLength(2);
    expect(lines.slice(0, events.length)).toEqual(events);
  });
});

describe('break-it (issue 11): listeners and malformed properties', () => {
  const lambdaAsShipped = () => lambda(LAMBDA_BUDGET_MS, defaultLogger);

  test('GIVEN a listener that throws on every event WHEN a create runs THEN the answer is the one without it', async () => {
    const stop = observeLogEvents(
      () => {
        throw new Error('listener broke');
      },
      { stdout: false },
    );
    try {
      const r = await lambdaAsShipped()(createEvent(props(world, 'vm')));
      expect(r).toEqual(expect.objectContaining({ ok: true }));
    } finally {
      stop();
    }
  });

  test('GIVEN a listener that throws on request.done only WHEN a create succeeds THEN CloudFormation still hears success (the integration exists)', async () => {
    const stop = observeLogEvents(
      (e) => {
        if (e.event === 'request.done') throw new Error('listener broke');
      },
      { stdout: false },
    );
    try {
      const r = await lambdaAsShipped()(createEvent(props(world, 'vm')));
      expect(r).toEqual(expect.objectContaining({ ok: true }));
    } finally {
      stop();
    }
  });

  test("GIVEN a listener that throws WHEN the create fails anyway THEN the reason is the create's, never the listener's", async () => {
    const stop = observeLogEvents(
      () => {
        throw new Error('listener broke');
      },
      { stdout: false },
    );
    try {
      const r = await lambdaAsShipped()(createEvent(props(world, 'vm', { [Prop.Settings]: 'not json' })));
      expect(r.ok).toBe(false);
      expect(r.ok ? '' : r.reason).toMatch(/^Create failed: .*"Settings" is not JSON/);
    } finally {
      stop();
    }
  });

  test.each([
    ['null', 'null'],
    ['a number', '5'],
    ['a string', '"x"'],
    ['a list', '[]'],
  ])(
    'GIVEN Settings that are JSON but %s WHEN created THEN a clear FAILED names Settings, and nothing is registered',
    async (_what, settings) => {
      const r = await lambda()(createEvent(props(world, 'vm', { [Prop.Settings]: settings })));

      expect(r.ok).toBe(false);
      expect(r.ok ? '' : r.reason).toMatch(/^Create failed: .*"Settings"/);
      expect(world.sim.integrations('vm')).toHaveLength(0);
    },
  );

  test('GIVEN every property but the pinned gateway absent WHEN created THEN one FAILED lists each required property, in bounded time', async () => {
    const r = await lambda()(
      // The gateway pin is checked first (before the secret is read), so the gateway is the pinned one.
      createEvent({
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
        [Prop.GatewayUrl]: world.gateway,
      }),
    );

    expect(r.ok).toBe(false);
    const reason = r.ok ? '' : r.reason;
    for (const key of [Prop.Kind, Prop.IntegrationName, Prop.Settings, Prop.RoleArn, Prop.BucketName]) {
      expect(reason).toContain(`"${key}" is missing`);
    }
  });

  test('GIVEN a 100 000-character integration name WHEN created THEN the FAILED reason stays within what a CloudFormation response carries (4 KB)', async () => {
    const r = await lambda()(createEvent(props(world, 'vm', { [Prop.IntegrationName]: 'n'.repeat(100_000) })));

    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(/Qualys allows 50/);
    expect(Buffer.byteLength(r.ok ? '' : r.reason)).toBeLessThan(4096);
  });

  test('GIVEN a 100 000-character integration name WHEN the lifecycle refuses it THEN the reason is within the cap, whichever reader the lifecycle uses', async () => {
    const r = await lambda()(createEvent(props(world, 'vm', { [Prop.IntegrationName]: 'n'.repeat(100_000) })));

    const reason = r.ok ? '' : r.reason;
    expect(reason).toMatch(/^Create failed: .*integration name "n+/);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(r.ok ? '' : r.stack).toBe(reason);
  });

  test('GIVEN an error of 50 000 three-byte characters WHEN the create fails THEN the reason is cut to the cap in bytes and the log line keeps it whole', async () => {
    const failing: typeof onEvent = async () => {
      throw new Error('日'.repeat(50_000));
    };
    const r = await lambda(LAMBDA_BUDGET_MS, undefined, failing)(createEvent(props(world, 'vm')));

    const reason = r.ok ? '' : r.reason;
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(reason).toMatch(/^Create failed: 日+…$/);
    const failed = out.map((l) => JSON.parse(l)).find((l) => l.event === 'request.failed');
    expect(failed.error).toBe(`Create failed: ${'日'.repeat(50_000)}`);
  });

  test('GIVEN the logger throws on request.received WHEN a create runs THEN CloudFormation hears a FAILED with the reason, not an unanswered error', async () => {
    const brokenLogger = () =>
      new (class extends Logger {
        override info(event: Parameters<Logger['info']>[0], fields?: Parameters<Logger['info']>[1]): void {
          if (event === 'request.received') throw new Error('sink full');
          super.info(event, fields);
        }
      })((line) => out.push(line));
    const r = await lambda(LAMBDA_BUDGET_MS, brokenLogger)(createEvent(props(world, 'vm')));

    expect(r.ok ? '' : r.reason).toBe('Create failed: sink full');
    expect(world.sim.integrations('vm')).toHaveLength(0);
  });
});

describe('capReason', () => {
  test('GIVEN a reason within the cap WHEN capped THEN it is unchanged', () => {
    expect(capReason('x'.repeat(MAX_REASON_BYTES))).toBe('x'.repeat(MAX_REASON_BYTES));
  });

  test('GIVEN a reason one byte over WHEN capped THEN it is cut to the cap and ends with …', () => {
    const capped = capReason('x'.repeat(MAX_REASON_BYTES + 1));
    expect(Buffer.byteLength(capped)).toBe(MAX_REASON_BYTES);
    expect(capped.endsWith('x…')).toBe(true);
  });

  test('GIVEN astral characters across the cut WHEN capped THEN no character is cut in half', () => {
    const capped = capReason('😀'.repeat(1_000), 10);
    expect(capped).toBe('😀…');
  });
});
