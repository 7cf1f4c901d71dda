/** A gateway that never answers /auth: reported as a timeout, in its own words. */
import { DEV_SITE, check, expectNoSecrets, useCliWorld } from '../support/cli-world';

const w = useCliWorld({ site: DEV_SITE });

test("GIVEN a gateway that does not answer POST /auth within the CLI's remaining budget WHEN preflight runs THEN the login fails as a timeout, without printing a secret, exit 1", async () => {
  w.sim.inject({ path: '/auth', delayMs: 40_000, times: 5 });
  // Leave ~1 s of the CLI's Qualys budget so that only one (timed-out) attempt is made.
  const { code, doc, run } = await w.json(['preflight', 'dev', '--config', w.config({ pc: undefined })], {
    now: () => Date.now() - 59_000,
  });
  expectNoSecrets(w, run);
  const c = check(doc, 'qualys-auth');
  expect(c.status).toBe('fail');
  expect(c.value).toMatch(/timeout|timed out/i);
  expect(code).toBe(1);
}, 50_000);
