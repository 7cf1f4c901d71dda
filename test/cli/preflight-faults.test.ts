/**
 * `qualys-s3 preflight` against faults: the gateway, the login, permissions, the secret, AWS.
 */
import { check, expectNoSecrets, expectWellFormed, defaultName, DEV_SITE, useCliWorld } from '../support/cli-world';

const { REGION, SECRET, USER } = DEV_SITE;
const DEFAULT_NAME = (kind: 'vm' | 'pc', env?: string) => defaultName(DEV_SITE, kind, env);

const w = useCliWorld({ site: DEV_SITE });

async function preflight(file = w.config(), extra: string[] = []) {
  const out = await w.json(['preflight', 'dev', '--config', file, ...extra]);
  expectWellFormed(out.doc);
  expectNoSecrets(w, out.run);
  expect(out.run.stderr).toBe('');
  expect(out.doc.exitCode).toBe(out.code);
  return out;
}

describe('healthy', () => {
  it('passes, exit 0, and changes nothing (only reads in Qualys and AWS)', async () => {
    const { code, doc } = await preflight();
    expect(doc.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    expect(w.sim.calls.filter((c) => c.method !== 'GET' && c.path !== '/auth')).toEqual([]);
    expect(
      Object.keys(w.aws.callCounts()).filter(
        (k) => !/GetSecretValue|GetCallerIdentity|GetRole|ListRoles|DescribeStacks|ListObjects/.test(k),
      ),
    ).toEqual([]);
    for (const id of [
      'config',
      'secret',
      'qualys-auth',
      'api-vm',
      'api-pc',
      'cips',
      'existing-vm',
      'existing-pc',
      'bucket-region',
    ])
      check(doc, id);
  });

  it('human output: checklist lines with marks and a summary', async () => {
    const run = await w.run(['preflight', 'dev', '--config', w.config()]);
    expectNoSecrets(w, run);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ credentials secret/);
    expect(run.stdout).toMatch(/✔ Qualys login/);
  });

  it('--verbose prints Qualys calls but never the password or the JWT', async () => {
    const run = await w.run(['preflight', 'dev', '--verbose', '--config', w.config()]);
    expect(run.code).toBe(0);
    expect(run.stderr.length).toBeGreaterThan(0);
    expectNoSecrets(w, run);
  });
});

describe('Qualys login failures, each in its own words', () => {
  it('wrong password: "bad credentials", exit 1, a single POST /auth (no lockout by retries)', async () => {
    w.aws.putSecret(SECRET, JSON.stringify({ username: USER.username, password: 'Wrong-Pass-123-XYZ' }));
    const { code, doc, run } = await preflight();
    expect(run.stdout).not.toContain('Wrong-Pass-123-XYZ');
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/bad credentials|401/i);
    expect(c.remedy).toBeTruthy();
    expect(code).toBe(1);
    expect(w.sim.calls.filter((x) => x.path === '/auth')).toHaveLength(1);
  });

  it('locked account is reported as a lockout, not as bad credentials', async () => {
    w.sim.lockoutAfter = 1;
    await fetch(`${w.gateway}/auth`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: USER.username, password: 'nope', token: 'true' }).toString(),
    });
    expect(w.sim.isLocked(USER.username)).toBe(true);
    const { code, doc } = await preflight();
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/lock/i);
    expect(c.value).not.toMatch(/bad credentials/i);
    expect(code).toBe(1);
  });

  it('gateway down (connection refused): fails as unreachable, exit 1', async () => {
    await w.sim.stop();
    const { code, doc } = await preflight();
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/unreachable|refused/i);
    expect(code).toBe(1);
    expect(check(doc, 'api-vm').status).toBe('skip');
  });

  it('DNS failure (https://gateway.invalid) is reported as DNS', async () => {
    const { code, doc } = await preflight(w.config({ gatewayUrl: 'https://gateway.invalid' }));
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/DNS/);
    expect(c.value).toContain('gateway.invalid');
    expect(code).toBe(1);
  });

  it('a 503 burst on /auth is retried and the run passes (progress shown on stderr)', async () => {
    w.sim.inject({ path: '/auth', status: 503, html: true, times: 2 });
    const run = await w.run(['preflight', 'dev', '--config', w.config()]);
    expectNoSecrets(w, run);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/retry/i);
  });

  it('persistent 503 is a gateway error, exit 1', async () => {
    w.sim.inject({ path: '/auth', status: 503, html: true, times: 10 });
    const { code, doc } = await preflight();
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/503/);
    expect(code).toBe(1);
  });

  it('persistent 429 on /auth is reported as rate limiting, exit 1', async () => {
    w.sim.inject({
      path: '/auth',
      status: 429,
      body: '{"messsage":"slow down"}',
      headers: { 'Retry-After': '1' },
      times: 10,
    });
    const { code, doc } = await preflight();
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/rate|429/i);
    expect(code).toBe(1);
  });

  it('the web UI instead of the API gateway (HTML 200 on /auth) fails with a clear message', async () => {
    w.sim.inject({ path: '/auth', status: 200, body: '<html><body>Qualys login</body></html>', times: 5 });
    const { code, doc } = await preflight();
    expect(check(doc, 'qualys-auth').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('slow gateway in an interactive terminal shows progress while waiting', async () => {
    w.sim.latencyMs = 1200;
    const run = await w.run(['preflight', 'dev', '--config', w.config({ pc: undefined })], { interactive: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('…');
  });
});

describe('permissions', () => {
  it('user without S3 VM permission: api-vm fails with HTTP 403, exit 1', async () => {
    await w.inSecondWorld({ sim: { users: [{ ...USER, denied: ['s3-vm'] }] } }, async (world) => {
      const { code, doc, run } = await world.json(['preflight', 'dev', '--config', world.config()]);
      expectNoSecrets(world, run);
      const c = check(doc, 'api-vm');
      expect(c.status).toBe('fail');
      expect(c.value).toMatch(/403/);
      expect(check(doc, 'api-pc').status).toBe('pass');
      expect(code).toBe(1);
    });
  });

  it('user without CIPS permission while PC policies are configured: cips fails, exit 1', async () => {
    await w.inSecondWorld({ sim: { users: [{ ...USER, denied: ['cips'] }] } }, async (world) => {
      const { code, doc } = await world.json(['preflight', 'dev', '--config', world.config()]);
      expect(check(doc, 'cips').status).toBe('fail');
      expect(code).toBe(1);
    });
  });

  it('a Qualys error body that reflects the password is not printed', async () => {
    w.sim.inject({
      method: 'GET',
      path: '/partner-integration/aws/s3/vm',
      status: 400,
      body: JSON.stringify({ messsage: `bad request for user ${USER.username} password ${USER.password}` }),
    });
    const run = await w.run(['preflight', 'dev', '--config', w.config()]);
    expect(run.code).toBe(1);
    expectNoSecrets(w, run);
  });
});

describe('the credentials secret', () => {
  it('missing secret: fails with a remedy, login skipped, exit 1', async () => {
    w.aws.deleteSecret(SECRET);
    const { code, doc } = await preflight();
    const c = check(doc, 'secret');
    expect(c.status).toBe('fail');
    expect(c.remedy).toBeTruthy();
    expect(check(doc, 'qualys-auth').status).toBe('skip');
    expect(code).toBe(1);
  });

  it('secret not JSON (but holding the password) fails without printing its content', async () => {
    w.aws.putSecret(SECRET, `{"username":"${USER.username}","password":"${USER.password}"`);
    const { code, doc } = await preflight();
    expect(check(doc, 'secret').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('secret without password fails and names what is missing', async () => {
    w.aws.putSecret(SECRET, JSON.stringify({ username: USER.username, pass: USER.password }));
    const { code, doc } = await preflight();
    const c = check(doc, 'secret');
    expect(c.status).toBe('fail');
    expect(c.value).toContain('password');
    expect(code).toBe(1);
  });

  it('access to the secret denied fails, exit 1', async () => {
    w.aws.denySecret(SECRET);
    const { code, doc } = await preflight();
    const c = check(doc, 'secret');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/denied/i);
    expect(code).toBe(1);
  });
});

describe('AWS and existing integrations', () => {
  it('STS refusing the caller: aws-identity fails, exit 1', async () => {
    w.aws.inject({
      service: 'sts',
      action: 'GetCallerIdentity',
      status: 403,
      code: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
      times: 10,
    });
    const { code, doc } = await preflight();
    expect(check(doc, 'aws-identity').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('credentials for another account than the configured one fail', async () => {
    const { code, doc } = await preflight(w.config({ account: '999999999999' }));
    expect(check(doc, 'aws-identity').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('an integration with the default name already exists: reported (it would be adopted), not a failure', async () => {
    const seeded = w.sim.seedIntegration('vm', { name: DEFAULT_NAME('vm'), bucketRegion: REGION });
    const { code, doc } = await preflight();
    const c = check(doc, 'existing-vm');
    expect(c.status).toBe('warn');
    expect(c.value).toContain(String(seeded.integrationId));
    expect(c.value).toMatch(/adopt/);
    expect(code).toBe(0);
  });

  it('an existing integration registered with another bucketRegion is called out', async () => {
    w.sim.seedIntegration('vm', { name: DEFAULT_NAME('vm'), bucketRegion: 'eu-west-3' });
    const { doc } = await preflight();
    const c = check(doc, 'existing-vm');
    expect(c.status).not.toBe('pass');
    expect(c.value).toContain('eu-west-3');
  });

  it('explicit name taken and adoptExisting false: fails', async () => {
    w.sim.seedIntegration('pc', { name: 'team-pc' });
    const { code, doc } = await preflight(w.config({ pc: { name: 'team-pc', policies: [2001] } }));
    expect(check(doc, 'existing-pc').status).toBe('fail');
    expect(code).toBe(1);
  });

  it('the secret lives in another region than the environment: bucket-region/secret check fails', async () => {
    // The secret ARN names eu-west-1 while the environment's region is left to AWS_REGION (us-east-1).
    const file = w.config(
      { credentialsSecret: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SECRET}-AbCdEf` },
      {},
      ['region'],
    );
    const { code, doc } = await preflight(file);
    expect(doc.checks.some((c) => c.status === 'fail' && /region/i.test(c.value))).toBe(true);
    expect(code).toBe(1);
  });
});
