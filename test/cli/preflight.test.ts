/**
 * `qualys-s3 preflight`: each check passing and failing against the Qualys simulator and the
 * fake AWS endpoint, with the exit status and the --json document.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ConnectProxy } from '../support/connect-proxy';
import { check, removeAwsCredentials, PROD_SITE, useCliWorld } from '../support/cli-world';

const { ACCOUNT, ENV, REGION, SECRET, USER } = PROD_SITE;

const world = useCliWorld();

describe('preflight, everything in order', () => {
  test('GIVEN a valid configuration, a readable secret and a working Qualys user WHEN preflight runs THEN every check passes and it exits 0', async () => {
    const config = world.config();
    const human = await world.run(['preflight', ENV, '--config', config]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/✔ configuration\s+environment "prod" is valid: VM \+ PC/);
    expect(human.stdout).toMatch(/✔ AWS credentials\s+account 123456789012/);
    expect(human.stdout).toMatch(/✔ bucket region\s+eu-west-1, from the environment's "region"/);
    expect(human.stdout).toMatch(
      /✔ credentials secret\s+"qualys\/api-credentials" is readable and has username and password/,
    );
    expect(human.stdout).toMatch(/✔ Qualys login \(POST \/auth\)\s+http:\/\/127\.0\.0\.1:\d+ issued a token in \d+ ms/);
    expect(human.stdout).toMatch(
      /✔ VM integration API\s+GET \/partner-integration\/aws\/s3\/vm allowed \(0 integrations/,
    );
    expect(human.stdout).toMatch(/✔ CIPS configuration\s+GET \/pcas\/cips\/config allowed/);
    expect(human.stdout).toMatch(
      /✔ existing PC integration\s+none named "qs3-prod-pc-123456789012-eu-west-1": a new one will be registered/,
    );
    expect(human.stdout).toMatch(/11 passed, 0 failed/);

    const { code, doc } = await world.json(['preflight', ENV, '--config', config]);
    expect(code).toBe(0);
    expect(doc).toMatchObject({
      command: 'preflight',
      envName: ENV,
      region: REGION,
      ok: true,
      exitCode: 0,
      summary: { pass: 11, fail: 0, warn: 0, skip: 0 },
    });
    expect(doc.checks.map((c) => c.id)).toEqual([
      'config',
      'aws-identity',
      'bucket-region',
      'secret',
      'qualys-auth',
      'api-vm',
      'api-pc',
      'cips',
      'existing-vm',
      'existing-pc',
      'qualys-readings',
    ]);
    for (const c of doc.checks) {
      expect(c).toEqual(
        expect.objectContaining({
          id: expect.any(String),
          title: expect.any(String),
          status: 'pass',
          value: expect.any(String),
          durationMs: expect.any(Number),
        }),
      );
    }
  });

  test('GIVEN preflight WHEN it runs THEN it changes nothing in Qualys (only GETs after POST /auth)', async () => {
    await world.run(['preflight', ENV, '--config', world.config()]);
    expect(world.sim.calls.map((c) => c.method).filter((m) => m !== 'GET')).toEqual(['POST']);
    expect(world.sim.calls[0].path).toBe('/auth');
    expect(Object.keys(world.aws.callCounts()).sort()).toEqual([
      'secretsmanager:GetSecretValue',
      'sts:GetCallerIdentity',
    ]);
  });

  test('GIVEN an environment with VM only WHEN preflight runs THEN there is no PC or CIPS check', async () => {
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config({ pc: undefined })]);
    expect(code).toBe(0);
    expect(doc.checks.map((c) => c.id)).toEqual([
      'config',
      'aws-identity',
      'bucket-region',
      'secret',
      'qualys-auth',
      'api-vm',
      'existing-vm',
      'qualys-readings',
    ]);
  });
});

describe('AWS side', () => {
  test('GIVEN credentials for another account than the environment names WHEN preflight runs THEN the credentials check fails and says which account to use', async () => {
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config({ account: '210987654321' })]);
    expect(code).toBe(1);
    expect(check(doc, 'aws-identity')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining(`account ${ACCOUNT}`),
      remedy: expect.stringContaining('210987654321'),
    });
  });

  test('GIVEN no region in the environment nor in the SDK chain WHEN preflight runs THEN the bucket-region check fails with what to set, and AWS checks are skipped', async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_CONFIG_FILE = path.join(world.dir, 'no-such-config');
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config({ region: undefined })]);
    expect(code).toBe(1);
    expect(check(doc, 'bucket-region')).toMatchObject({ status: 'fail', remedy: expect.stringContaining('"region"') });
    expect(check(doc, 'secret').status).toBe('skip');
  });

  test('GIVEN no region in the environment WHEN AWS_REGION names one THEN the bucket is reported there, from the SDK chain', async () => {
    const { doc } = await world.json(['preflight', ENV, '--config', world.config({ region: undefined })]);
    expect(check(doc, 'bucket-region')).toMatchObject({
      status: 'pass',
      value: expect.stringContaining(`${REGION}, from AWS_REGION`),
    });
  });

  test('GIVEN the secret does not exist WHEN preflight runs THEN the secret check fails with how to create it, and the Qualys checks are skipped', async () => {
    world.aws.deleteSecret(SECRET);
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(code).toBe(1);
    expect(check(doc, 'secret')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('does not exist'),
      remedy: expect.stringContaining('aws secretsmanager create-secret'),
    });
    for (const id of ['qualys-auth', 'api-vm', 'api-pc', 'cips', 'existing-vm', 'existing-pc'])
      expect(check(doc, id).status).toBe('skip');
    expect(world.sim.calls).toEqual([]);
  });

  test('GIVEN a secret without a password WHEN preflight runs THEN the check names the missing key, not any value', async () => {
    world.aws.putSecret(SECRET, JSON.stringify({ username: USER.username }));
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(code).toBe(1);
    expect(check(doc, 'secret')).toMatchObject({ status: 'fail', value: expect.stringContaining('password') });
  });

  test('GIVEN the user may not read the secret WHEN preflight runs THEN the check says access was denied', async () => {
    world.aws.denySecret(SECRET);
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(check(doc, 'secret')).toMatchObject({ status: 'fail', value: expect.stringContaining('access was denied') });
  });
});

describe('Qualys login, each failure in its own words', () => {
  test('GIVEN a wrong password WHEN preflight runs THEN the login fails as bad credentials, and the account is not locked by it', async () => {
    world.aws.putSecret(SECRET, JSON.stringify({ ...USER, password: 'wrong-password-1' }));
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(code).toBe(1);
    expect(check(doc, 'qualys-auth')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('bad credentials'),
      details: { reason: 'bad-credentials' },
    });
    expect(world.sim.calls.filter((c) => c.path === '/auth')).toHaveLength(1);
    expect(world.sim.isLocked(USER.username)).toBe(false);
  });

  test('GIVEN a locked account WHEN preflight runs THEN the login fails as locked, with whom to ask', async () => {
    world.sim.setPassword(USER.username, USER.password);
    world.aws.putSecret(SECRET, JSON.stringify({ ...USER, password: 'wrong' }));
    for (let i = 0; i < 5; i++) await world.run(['preflight', ENV, '--config', world.config(), '--json']);
    world.aws.putSecret(SECRET, JSON.stringify(USER));
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(check(doc, 'qualys-auth')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('account locked'),
      details: { reason: 'locked' },
      remedy: expect.stringContaining('administrator'),
    });
  });

  test('GIVEN a gateway host that does not resolve WHEN preflight runs THEN the login fails as a DNS problem', async () => {
    const { doc } = await world.json([
      'preflight',
      ENV,
      '--config',
      world.config({ gatewayUrl: 'https://gateway.qualys-s3-test.invalid' }),
    ]);
    expect(check(doc, 'qualys-auth')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('DNS'),
      details: { reason: 'dns' },
    });
  });

  test('GIVEN a gateway that does not answer in time WHEN preflight runs with --timeout 1 THEN the login fails as a timeout, after retrying', async () => {
    world.sim.inject({ path: '/auth', delayMs: 2500, times: 5 });
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config(), '--timeout', '1']);
    expect(code).toBe(1);
    expect(check(doc, 'qualys-auth')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('timeout'),
      details: { reason: 'timeout' },
    });
  });

  test('GIVEN a gateway whose TLS certificate is not trusted WHEN preflight runs THEN the login fails as a TLS problem', async () => {
    const certDir = fs.mkdtempSync(path.join(world.dir, 'tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        path.join(certDir, 'key.pem'),
        '-out',
        path.join(certDir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    const server = https.createServer(
      { key: fs.readFileSync(path.join(certDir, 'key.pem')), cert: fs.readFileSync(path.join(certDir, 'cert.pem')) },
      (_q, r) => r.end('x'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const { doc } = await world.json([
        'preflight',
        ENV,
        '--config',
        world.config({ gatewayUrl: `https://127.0.0.1:${port}` }),
      ]);
      expect(check(doc, 'qualys-auth')).toMatchObject({
        status: 'fail',
        value: expect.stringMatching(/^TLS: /),
        details: { reason: 'tls' },
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('GIVEN a gateway that answers 503 twice WHEN preflight runs THEN it retries, shows the retry as progress, and passes', async () => {
    world.sim.inject({ path: '/auth', status: 503, times: 2 });
    const out = await world.run(['preflight', ENV, '--config', world.config()]);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/… Authenticate with Qualys: attempt 1 failed .*retrying in/);
  });

  test('GIVEN HTTP_PROXY in the environment WHEN preflight runs THEN the Qualys calls go through the proxy (CONNECT)', async () => {
    const proxy = new ConnectProxy();
    process.env.HTTP_PROXY = await proxy.start();
    try {
      const { code } = await world.json(['preflight', ENV, '--config', world.config()]);
      expect(code).toBe(0);
      expect(proxy.tunnels).toContain(new URL(world.gateway).host);
    } finally {
      delete process.env.HTTP_PROXY;
      await proxy.stop();
    }
  });
});

describe('Qualys permissions and existing state', () => {
  test('GIVEN a user whose role lacks the PC integration API WHEN preflight runs THEN the PC API check fails with HTTP 403, and VM passes', async () => {
    await world.build({ sim: { users: [{ ...USER, denied: ['s3-pc'] }] } });
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(code).toBe(1);
    expect(check(doc, 'api-vm').status).toBe('pass');
    expect(check(doc, 'api-pc')).toMatchObject({
      status: 'fail',
      value: expect.stringContaining('HTTP 403'),
      remedy: expect.stringContaining('administrator'),
    });
    expect(check(doc, 'existing-pc').status).toBe('skip');
  });

  test('GIVEN a user without CIPS access and PC policies configured WHEN preflight runs THEN the CIPS check fails', async () => {
    await world.build({ sim: { users: [{ ...USER, denied: ['cips'] }] } });
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(check(doc, 'cips')).toMatchObject({ status: 'fail', value: expect.stringContaining('HTTP 403') });
  });

  test('GIVEN CIPS near its limit WHEN the configured policies would pass 100 THEN the CIPS check fails', async () => {
    world.sim.seedCips({ policies: Array.from({ length: 99 }, (_, i) => 5000 + i) });
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(check(doc, 'cips')).toMatchObject({ status: 'fail', value: expect.stringContaining('101 policies') });
  });

  test('GIVEN an integration with the default name exists WHEN preflight runs THEN it warns that the deploy adopts it, and exits 0', async () => {
    world.sim.seedIntegration('vm', { name: `qs3-${ENV}-vm-${ACCOUNT}-${REGION}`, bucketRegion: 'us-east-1' });
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(code).toBe(0);
    expect(check(doc, 'existing-vm')).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/adopts it; its bucketRegion will change from us-east-1 to eu-west-1/),
    });
  });

  test('GIVEN an integration with the configured name exists and adoptExisting is false WHEN preflight runs THEN it fails: the deploy would refuse', async () => {
    world.sim.seedIntegration('pc', { name: 'shared-pc' });
    const refused = await world.json(['preflight', ENV, '--config', world.config({ pc: { name: 'shared-pc' } })]);
    expect(refused.code).toBe(1);
    expect(check(refused.doc, 'existing-pc')).toMatchObject({
      status: 'fail',
      remedy: expect.stringContaining('"pc.adoptExisting": true'),
    });

    const adopted = await world.json([
      'preflight',
      ENV,
      '--config',
      world.config({ pc: { name: 'shared-pc', adoptExisting: true } }),
    ]);
    expect(adopted.code).toBe(0);
    expect(check(adopted.doc, 'existing-pc')).toMatchObject({
      status: 'warn',
      value: expect.stringContaining('takes it over'),
    });
  });
});

describe('every check in every run, skipped when what it needs did not pass', () => {
  const PREFLIGHT_IDS = [
    'config',
    'aws-identity',
    'bucket-region',
    'secret',
    'qualys-auth',
    'api-vm',
    'api-pc',
    'cips',
    'existing-vm',
    'existing-pc',
    'qualys-readings',
  ];

  test('GIVEN a passing run, no AWS credentials, credentials for the wrong account, and bad Qualys credentials WHEN preflight runs with --json THEN the ids are the same in each', async () => {
    const config = world.config();
    const passing = await world.json(['preflight', ENV, '--config', config]);
    const wrongAccount = await world.json(['preflight', ENV, '--config', world.config({ account: '210987654321' })]);
    world.aws.putSecret(SECRET, JSON.stringify({ ...USER, password: 'wrong-password-1' }));
    const badQualys = await world.json(['preflight', ENV, '--config', config]);
    removeAwsCredentials(world.dir);
    const noAws = await world.json(['preflight', ENV, '--config', config]);

    expect([passing.code, wrongAccount.code, badQualys.code, noAws.code]).toEqual([0, 1, 1, 1]);
    for (const { doc } of [passing, wrongAccount, badQualys, noAws])
      expect(doc.checks.map((c) => c.id)).toEqual(PREFLIGHT_IDS);
    expect(check(noAws.doc, 'aws-identity').status).toBe('fail');
    expect(check(badQualys.doc, 'qualys-auth').status).toBe('fail');
  });

  test('GIVEN no working AWS credentials WHEN preflight runs THEN the secret is not read (no "create the secret" advice), and it is skipped naming the credentials check', async () => {
    removeAwsCredentials(world.dir);
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(code).toBe(1);
    expect(check(doc, 'aws-identity')).toMatchObject({
      status: 'fail',
      remedy: expect.stringContaining('configure AWS credentials'),
    });
    const secret = check(doc, 'secret');
    expect(secret).toMatchObject({
      status: 'skip',
      value: expect.stringContaining('needs "AWS credentials" (aws-identity), which failed'),
      details: { needs: 'aws-identity', needsStatus: 'fail' },
    });
    expect(secret.remedy).toBeUndefined();
    expect(check(doc, 'qualys-auth').value).toContain('needs "credentials secret" (secret), which was skipped');
    expect(check(doc, 'bucket-region').status).toBe('pass');
    expect(world.aws.callCounts()['secretsmanager:GetSecretValue']).toBeUndefined();
  });

  test('GIVEN credentials for another account WHEN preflight runs THEN the secret in that account is not read, and Qualys is not called', async () => {
    const { doc } = await world.json(['preflight', ENV, '--config', world.config({ account: '210987654321' })]);
    expect(check(doc, 'secret')).toMatchObject({
      status: 'skip',
      value: expect.stringContaining('(aws-identity), which failed'),
    });
    expect(world.aws.callCounts()['secretsmanager:GetSecretValue']).toBeUndefined();
    expect(world.sim.calls).toEqual([]);
  });

  test('GIVEN a failing run WHEN shown to a person THEN the skipped checks are listed with "-" and counted', async () => {
    const out = await world.run(['preflight', ENV, '--config', world.config({ account: '210987654321' })]);
    expect(out.stdout).toMatch(/- credentials secret\s+needs "AWS credentials" \(aws-identity\), which failed/);
    expect(out.stdout).toContain('2 passed, 1 failed, 8 skipped: fix the ✖ lines and run again');
  });
});

describe('remedies a user can paste', () => {
  test('GIVEN the secret does not exist WHEN preflight runs THEN the create-secret command names the configured secret and region, with placeholders, not "***"', async () => {
    world.aws.deleteSecret(SECRET);
    const human = await world.run(['preflight', ENV, '--config', world.config()]);
    const command = `aws secretsmanager create-secret --name ${SECRET} --region ${REGION} --secret-string '{"username":"<your-qualys-username>","password":"<your-qualys-password>"}'`;
    expect(human.stdout).toContain(`→ create it with: ${command}`);
    expect(human.stdout).not.toContain('***');
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(check(doc, 'secret').remedy).toContain(command);
  });

  test('GIVEN the secret is configured by an ARN that does not exist WHEN preflight runs THEN the command uses its name (without the ARN suffix) and says to configure the new ARN', async () => {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:team/qualys-creds-AbC123`;
    const { doc } = await world.json(['preflight', ENV, '--config', world.config({ credentialsSecret: arn })]);
    const secret = check(doc, 'secret');
    expect(secret.status).toBe('fail');
    expect(secret.remedy).toContain(`create-secret --name team/qualys-creds --region ${REGION} --secret-string`);
    expect(secret.remedy).toContain('set "credentialsSecret" to the ARN it prints');
  });

  test('GIVEN a secret without a password WHEN preflight runs THEN the remedy is put-secret-value on that secret, and neither line shows "***"', async () => {
    world.aws.putSecret(SECRET, JSON.stringify({ username: USER.username, passwd: 'x' }));
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    const secret = check(doc, 'secret');
    expect(secret.remedy).toContain(
      `put-secret-value --secret-id ${SECRET} --region ${REGION} --secret-string '{"username":"<your-qualys-username>","password":"<your-qualys-password>"}'`,
    );
    expect(`${secret.value} ${secret.remedy}`).not.toContain('***');
  });

  test('GIVEN the real password in a secret of the wrong shape WHEN preflight reports it THEN the password never appears', async () => {
    world.aws.putSecret(SECRET, JSON.stringify({ user: USER.username, password: USER.password }));
    const out = await world.run(['preflight', ENV, '--config', world.config(), '--verbose']);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/✖ credentials secret\s+Secret "qualys\/api-credentials" lacks "username"/);
    // World.run asserts that USER.password appears in neither stream.
  });
});

describe('the readings of the guide this gateway answered in', () => {
  test("GIVEN a gateway that answers like the guide's samples, holding another PC integration WHEN preflight runs THEN the last check names the shapes it met, and a second registration is flagged", async () => {
    await world.build({ sim: { dialect: 'guide' } });
    world.sim.seedIntegration('pc', { name: 'someone-elses-pc' });
    const { code, doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(code).toBe(0);
    expect(check(doc, 'existing-pc')).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/"someone-elses-pc".*only one per kind/),
    });
    const readings = check(doc, 'qualys-readings');
    expect(readings.status).toBe('pass');
    expect(readings.details!.readings).toMatchObject({ 'VM list': 'an empty answer', 'PC list': 'one object' });
    expect(check(doc, 'cips').status).toBe('pass');
  });
});
