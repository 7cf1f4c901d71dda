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
  test('GIVEN a healthy environment WHEN preflight runs with --json THEN no check fails, every check appears, it exits 0, and only reads reach Qualys and AWS', async () => {
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

  test('GIVEN a healthy environment WHEN preflight prints for a person THEN it exits 0 with ✔ lines for the credentials secret and the Qualys login', async () => {
    const run = await w.run(['preflight', 'dev', '--config', w.config()]);
    expectNoSecrets(w, run);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ credentials secret/);
    expect(run.stdout).toMatch(/✔ Qualys login/);
  });

  test('GIVEN --verbose WHEN preflight runs THEN it exits 0 and writes to stderr, but never the password or a JWT', async () => {
    const run = await w.run(['preflight', 'dev', '--verbose', '--config', w.config()]);
    expect(run.code).toBe(0);
    expect(run.stderr.length).toBeGreaterThan(0);
    expectNoSecrets(w, run);
  });
});

describe('Qualys login failures, each in its own words', () => {
  test('GIVEN a wrong password in the secret WHEN preflight runs THEN the login fails as bad credentials with a remedy, after a single /auth call, without printing the password, exit 1', async () => {
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

  test('GIVEN an account Qualys has locked WHEN preflight runs THEN the login fails as a lockout, not as bad credentials, exit 1', async () => {
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

  test('GIVEN a gateway that refuses connections WHEN preflight runs THEN the login fails as unreachable, the VM API check is skipped, exit 1', async () => {
    await w.sim.stop();
    const { code, doc } = await preflight();
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/unreachable|refused/i);
    expect(code).toBe(1);
    expect(check(doc, 'api-vm').status).toBe('skip');
  });

  test('GIVEN a gateway host that does not resolve WHEN preflight runs THEN the login fails as DNS, naming the host, exit 1', async () => {
    const { code, doc } = await preflight(w.config({ gatewayUrl: 'https://gateway.invalid' }));
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/DNS/);
    expect(c.value).toContain('gateway.invalid');
    expect(code).toBe(1);
  });

  test('GIVEN /auth answers 503 twice WHEN preflight runs THEN it says on stderr that it retries, and exits 0', async () => {
    w.sim.inject({ path: '/auth', status: 503, html: true, times: 2 });
    const run = await w.run(['preflight', 'dev', '--config', w.config()]);
    expectNoSecrets(w, run);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/retry/i);
  });

  test('GIVEN /auth answers 503 every time WHEN preflight runs THEN the login fails naming 503, exit 1', async () => {
    w.sim.inject({ path: '/auth', status: 503, html: true, times: 10 });
    const { code, doc } = await preflight();
    const c = check(doc, 'qualys-auth');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/503/);
    expect(code).toBe(1);
  });

  test('GIVEN /auth answers 429 every time WHEN preflight runs THEN the login fails naming rate limiting or 429, exit 1', async () => {
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

  test('GIVEN /auth answers an HTML page with 200 (the web UI, not the API gateway) WHEN preflight runs THEN the login fails, exit 1', async () => {
    w.sim.inject({ path: '/auth', status: 200, body: '<html><body>Qualys login</body></html>', times: 5 });
    const { code, doc } = await preflight();
    expect(check(doc, 'qualys-auth').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN a gateway that takes 1.2 s per answer and an interactive terminal WHEN preflight runs THEN stderr shows a progress ellipsis and it exits 0', async () => {
    w.sim.latencyMs = 1200;
    const run = await w.run(['preflight', 'dev', '--config', w.config({ pc: undefined })], { interactive: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('…');
  });
});

describe('permissions', () => {
  test('GIVEN a Qualys user denied the S3 VM API WHEN preflight runs THEN the VM API check fails with 403, the PC one passes, exit 1', async () => {
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

  test('GIVEN a Qualys user denied CIPS and PC policies configured WHEN preflight runs THEN the CIPS check fails, exit 1', async () => {
    await w.inSecondWorld({ sim: { users: [{ ...USER, denied: ['cips'] }] } }, async (world) => {
      const { code, doc } = await world.json(['preflight', 'dev', '--config', world.config()]);
      expect(check(doc, 'cips').status).toBe('fail');
      expect(code).toBe(1);
    });
  });

  test('GIVEN a Qualys error body that repeats the password WHEN preflight runs THEN it exits 1 and prints neither the password nor a JWT', async () => {
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
  test('GIVEN the credentials secret does not exist WHEN preflight runs THEN the secret check fails with a remedy, the login is skipped, exit 1', async () => {
    w.aws.deleteSecret(SECRET);
    const { code, doc } = await preflight();
    const c = check(doc, 'secret');
    expect(c.status).toBe('fail');
    expect(c.remedy).toBeTruthy();
    expect(check(doc, 'qualys-auth').status).toBe('skip');
    expect(code).toBe(1);
  });

  test('GIVEN a secret that is not valid JSON but holds the password WHEN preflight runs THEN the secret check fails without printing the password, exit 1', async () => {
    w.aws.putSecret(SECRET, `{"username":"${USER.username}","password":"${USER.password}"`);
    const { code, doc } = await preflight();
    expect(check(doc, 'secret').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN a secret without a password key WHEN preflight runs THEN the secret check fails naming password, exit 1', async () => {
    w.aws.putSecret(SECRET, JSON.stringify({ username: USER.username, pass: USER.password }));
    const { code, doc } = await preflight();
    const c = check(doc, 'secret');
    expect(c.status).toBe('fail');
    expect(c.value).toContain('password');
    expect(code).toBe(1);
  });

  test('GIVEN the caller may not read the secret WHEN preflight runs THEN the secret check fails as access denied, exit 1', async () => {
    w.aws.denySecret(SECRET);
    const { code, doc } = await preflight();
    const c = check(doc, 'secret');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/denied/i);
    expect(code).toBe(1);
  });
});

describe('AWS and existing integrations', () => {
  test("GIVEN STS rejects the caller's security token WHEN preflight runs THEN the AWS identity check fails, exit 1", async () => {
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

  test('GIVEN an environment configured for account 999999999999 and credentials for another WHEN preflight runs THEN the AWS identity check fails, exit 1', async () => {
    const { code, doc } = await preflight(w.config({ account: '999999999999' }));
    expect(check(doc, 'aws-identity').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN a VM integration with the default name exists WHEN preflight runs THEN the existing-VM check warns, with its ID, that the deploy adopts it, and it exits 0', async () => {
    const seeded = w.sim.seedIntegration('vm', { name: DEFAULT_NAME('vm'), bucketRegion: REGION });
    const { code, doc } = await preflight();
    const c = check(doc, 'existing-vm');
    expect(c.status).toBe('warn');
    expect(c.value).toContain(String(seeded.integrationId));
    expect(c.value).toMatch(/adopt/);
    expect(code).toBe(0);
  });

  test('GIVEN an existing VM integration registered with bucketRegion eu-west-3 WHEN preflight runs THEN the existing-VM check does not pass and names eu-west-3', async () => {
    w.sim.seedIntegration('vm', { name: DEFAULT_NAME('vm'), bucketRegion: 'eu-west-3' });
    const { doc } = await preflight();
    const c = check(doc, 'existing-vm');
    expect(c.status).not.toBe('pass');
    expect(c.value).toContain('eu-west-3');
  });

  test('GIVEN an explicit PC integration name that is taken and no adoptExisting WHEN preflight runs THEN the existing-PC check fails, exit 1', async () => {
    w.sim.seedIntegration('pc', { name: 'team-pc' });
    const { code, doc } = await preflight(w.config({ pc: { name: 'team-pc', policies: [2001] } }));
    expect(check(doc, 'existing-pc').status).toBe('fail');
    expect(code).toBe(1);
  });

  test('GIVEN a secret ARN in eu-west-1 and the region left to AWS_REGION (us-east-1) WHEN preflight runs THEN some check fails naming the region, exit 1', async () => {
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
