/**
 * `qualys-s3 preflight` against connection resets and rate limiting: each failure in its own
 * words, bounded attempts ("each call is tried up to 3 times"), one JSON document.
 */
import { DEV_SITE, check, useCliWorld } from '../support/cli-world';
import { expectConsistent } from '../support/cli-report-checks';

const w = useCliWorld({ site: DEV_SITE, scope: 'none' });

test('GIVEN the gateway resets every POST /auth WHEN preflight runs THEN the login fails, not as bad credentials or a lockout, after at most 3 attempts, the Qualys API checks are skipped, exit 1', async () => {
  await w.build();
  w.sim.inject({ path: '/auth', reset: true, times: 50 });
  const out = await w.json(['preflight', 'dev', '--config', w.config()]);
  const doc = expectConsistent(w, out);
  const c = check(doc, 'qualys-auth');
  expect(c.status).toBe('fail');
  expect(c.value).not.toMatch(/bad credentials|locked|401/i);
  expect(w.sim.calls.filter((x) => x.path === '/auth').length).toBeLessThanOrEqual(3);
  for (const id of ['api-vm', 'api-pc', 'cips', 'existing-vm', 'existing-pc'])
    expect(check(doc, id).status).toBe('skip');
  expect(out.code).toBe(1);
}, 40_000);

test('GIVEN a gateway that rate limits (429 + X-RateLimit-ToWait-Sec) WHEN preflight runs THEN it meets at least one 429, no check fails, and it exits 0', async () => {
  await w.build({ sim: { rateLimit: { limit: 1, windowMs: 1000 } } });
  const out = await w.json(['preflight', 'dev', '--config', w.config()]);
  const doc = expectConsistent(w, out);
  expect(w.sim.calls.some((x) => x.status === 429)).toBe(true);
  expect(doc.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.value}`)).toEqual([]);
  expect(out.code).toBe(0);
}, 40_000);

test('GIVEN Secrets Manager resets the connection once WHEN preflight runs THEN the secret check passes, exit 0', async () => {
  await w.build();
  w.aws.inject({ service: 'secretsmanager', action: 'GetSecretValue', reset: true, times: 1 });
  const out = await w.json(['preflight', 'dev', '--config', w.config()]);
  expectConsistent(w, out);
  expect(check(out.doc, 'secret').status).toBe('pass');
  expect(out.code).toBe(0);
}, 30_000);
