/**
 * Adversarial: odd rate-limit and error answers. The issue: "429 and 5xx (including HTML error
 * bodies) are retried with jittered backoff, honouring X-RateLimit-ToWait-Sec / Retry-After";
 * "The custom resource always answers CloudFormation in bounded time"; failures carry "the step,
 * the HTTP status, Qualys's message".
 */
import { onEvent } from '../../src/core/lifecycle/lifecycle';
import { createEvent, useLifecycleWorld, props } from '../support/lifecycle-world';

const world = useLifecycleWorld();

const REGISTER = '/partner-integration/aws/s3/vm';

test.each([
  ['an HTTP-date Retry-After', { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' }],
  ['a garbage X-RateLimit-ToWait-Sec', { 'X-RateLimit-ToWait-Sec': 'soon' }],
  ['a negative X-RateLimit-ToWait-Sec', { 'X-RateLimit-ToWait-Sec': '-5' }],
  ['an empty Retry-After', { 'Retry-After': '' }],
])(
  'GIVEN 429s with %s WHEN created THEN it backs off sanely (finite, non-negative waits) and succeeds',
  async (_what, headers) => {
    world.sim.inject({ method: 'POST', path: REGISTER, status: 429, headers, times: 2 });
    await onEvent(createEvent(props(world, 'vm')), world.deps);
    expect(world.sim.integrations('vm')).toHaveLength(1);
    for (const ms of world.clock.sleeps) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(0);
    }
  },
);

test('GIVEN a 429 asking to wait an hour WHEN created THEN it does not sleep past its deadline, and fails with the rate-limit reason', async () => {
  world.sim.inject({
    method: 'POST',
    path: REGISTER,
    status: 429,
    headers: { 'X-RateLimit-ToWait-Sec': '3600' },
    times: 100,
  });
  const error = await onEvent(createEvent(props(world, 'vm')), world.deps).catch((e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(/429/);
  expect(world.clock.now()).toBeLessThanOrEqual(world.deps.deadline);
  expect(world.sim.integrations('vm')).toEqual([]);
});

test('GIVEN a persistent 503 HTML error page WHEN created THEN the reason states step and status without dumping the HTML', async () => {
  world.sim.inject({ method: 'POST', path: REGISTER, status: 503, html: true, times: 100 });
  const error = await onEvent(createEvent(props(world, 'vm')), world.deps).catch((e: Error) => e);
  expect((error as Error).message).toMatch(/HTTP 503/);
  expect((error as Error).message).toMatch(/[Rr]egister/);
  expect((error as Error).message).not.toMatch(/<html|<center|<\/body>/i);
  expect(world.sim.integrations('vm')).toEqual([]);
});

test('GIVEN register answers 409 (a name clash the list did not show, e.g. by case) WHEN created THEN it fails naming the conflict, without retrying the POST', async () => {
  world.sim.inject({
    method: 'POST',
    path: REGISTER,
    status: 409,
    body: JSON.stringify({ messsage: "An AWS S3 VM integration named 'QS3-DEV' already exists" }),
  });
  const error = await onEvent(createEvent(props(world, 'vm')), world.deps).catch((e: Error) => e);
  expect((error as Error).message).toMatch(/409.*already exists/);
  expect(world.sim.calls.filter((c) => c.method === 'POST' && c.path === REGISTER)).toHaveLength(1);
});

test('GIVEN a 200 register answer whose body is not JSON (a captive portal) WHEN created THEN it fails clearly and leaves nothing registered', async () => {
  world.sim.inject({ method: 'POST', path: REGISTER, status: 200, body: '<html>Please log in to the proxy</html>' });
  const error = await onEvent(createEvent(props(world, 'vm')), world.deps).catch((e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(/register/i);
  expect(world.sim.integrations('vm')).toEqual([]);
});
