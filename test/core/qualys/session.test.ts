/**
 * The session: authentication and its token cache, retries and their pacing, against a
 * scripted gateway. (Moved from client.test.ts; the calls go through the session directly.)
 */
import { QualysApiError, QualysAuthError, QualysNetworkError } from '../../../src/core/errors';
import type { HttpRequest, HttpResponse } from '../../../src/core/qualys/transport';
import { endpoints } from '../../../src/core/qualys/endpoints';
import { QualysSession } from '../../../src/core/qualys/session';
import { FakeClock } from '../../support/lambda-fakes';
import { PASSWORD, type Step, auth, gatewayOptions, json, jwt, scripted, text } from './scripted-gateway';

function scriptedSession(
  transport: (req: HttpRequest) => Promise<HttpResponse>,
  clock = new FakeClock(),
  cache = new Map(),
) {
  const { options, ...rest } = gatewayOptions(transport, clock, cache);
  return { session: new QualysSession(options), ...rest };
}

describe('authentication', () => {
  test('GIVEN valid credentials WHEN a call is made THEN POST /auth sends the form fields and the JWT is used as a Bearer token', async () => {
    const token = jwt(1_700_000_000 + 4 * 3600);
    const s = scripted(auth(token), () => json(200, []));
    const { session } = scriptedSession(s.transport);
    await session.call(endpoints.listIntegrations('vm'));
    const [authReq, listReq] = s.requests;
    expect(authReq.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(authReq.body))).toEqual({
      username: 'qualys-user',
      password: PASSWORD,
      token: 'true',
    });
    expect(listReq.url).toBe('https://gateway.example.test/partner-integration/aws/s3/vm');
    expect(listReq.headers.Authorization).toBe(`Bearer ${token}`);
  });

  test('GIVEN a cached token WHEN another client for the same gateway and user calls THEN no new /auth is made', async () => {
    const token = jwt(1_700_000_000 + 4 * 3600);
    const s = scripted(
      auth(token),
      () => json(200, []),
      () => json(200, []),
    );
    const cache = new Map();
    const clock = new FakeClock();
    await scriptedSession(s.transport, clock, cache).session.call(endpoints.listIntegrations('vm'));
    await scriptedSession(s.transport, clock, cache).session.call(endpoints.listIntegrations('pc'));
    expect(s.requests.filter((r) => r.url.endsWith('/auth'))).toHaveLength(1);
  });

  test('GIVEN a token near its 4-hour end WHEN a call is made THEN a new token is fetched first', async () => {
    const clock = new FakeClock();
    const first = jwt(clock.now() / 1000 + 4 * 3600);
    const second = jwt(clock.now() / 1000 + 8 * 3600);
    const s = scripted(
      auth(first),
      () => json(200, []),
      auth(second),
      () => json(200, []),
    );
    const cache = new Map();
    await scriptedSession(s.transport, clock, cache).session.call(endpoints.listIntegrations('vm'));
    clock.time += 4 * 3600 * 1000 - 60_000; // one minute before expiry
    await scriptedSession(s.transport, clock, cache).session.call(endpoints.listIntegrations('vm'));
    expect(s.requests[3].headers.Authorization).toBe(`Bearer ${second}`);
  });

  test('GIVEN the gateway rejects an expired token with 401 WHEN a call is made THEN it re-authenticates once and retries', async () => {
    const s = scripted(
      auth('tok.en.one'),
      () => json(401, { messsage: 'Token expired' }),
      auth('tok.en.two'),
      () => json(200, []),
    );
    const { session } = scriptedSession(s.transport);
    await expect(session.call(endpoints.listIntegrations('vm'))).resolves.toMatchObject({ status: 200 });
    expect(s.requests[3].headers.Authorization).toBe('Bearer tok.en.two');
  });

  test('GIVEN 401 even with a fresh token WHEN a call is made THEN it fails with a permission hint and does not loop', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(401, {}),
      auth('d.e.f'),
      () => json(401, {}),
    );
    const { session } = scriptedSession(s.transport);
    await expect(session.call(endpoints.listIntegrations('vm'))).rejects.toThrow(
      /HTTP 401 .*even with a fresh token.*API access/,
    );
    expect(s.remaining()).toBe(0);
  });

  test('GIVEN wrong credentials WHEN authenticating THEN the error names the secret, not the password', async () => {
    const s = scripted(() => text(401, 'Authentication Failure'));
    const { session, lines } = scriptedSession(s.transport);
    const error = await session.call(endpoints.listIntegrations('vm')).catch((e) => e);
    expect(error).toBeInstanceOf(QualysAuthError);
    expect(error.message).toMatch(/HTTP 401 to POST \/auth.*secret "qualys\/api-credentials"/);
    expect(error.message).not.toContain(PASSWORD);
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  test('GIVEN /auth answers an HTML page WHEN authenticating THEN it explains the gateway URL is probably wrong', async () => {
    const s = scripted(() => text(200, '<html><body>Login</body></html>'));
    const { session } = scriptedSession(s.transport);
    await expect(session.call(endpoints.listIntegrations('vm'))).rejects.toThrow(/without a token.*API gateway/);
  });
});

describe('retries', () => {
  test('GIVEN a 503 HTML page then success WHEN calling THEN it retries and succeeds', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => text(503, '<html><title>503 Service Unavailable</title></html>'),
      () => json(200, []),
    );
    const { session, clock } = scriptedSession(s.transport);
    await expect(session.call(endpoints.listIntegrations('vm'))).resolves.toMatchObject({ status: 200 });
    expect(clock.sleeps).toHaveLength(1);
  });

  test('GIVEN 503s that never stop WHEN calling THEN the error carries the status and the page title, after bounded attempts', async () => {
    const steps: Step[] = [auth('a.b.c')];
    for (let i = 0; i < 6; i++)
      steps.push(() => text(503, '<html><head><title>503 Service Unavailable</title></head></html>'));
    const s = scripted(...steps);
    const { session } = scriptedSession(s.transport);
    const error = await session.call(endpoints.listIntegrations('vm')).catch((e) => e);
    expect(error).toBeInstanceOf(QualysApiError);
    expect(error.message).toMatch(/HTTP 503 to GET \/partner-integration\/aws\/s3\/vm: 503 Service Unavailable/);
    expect(s.remaining()).toBe(0);
  });

  test('GIVEN a 429 with X-RateLimit-ToWait-Sec WHEN calling THEN it waits at least that long', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(429, { messsage: 'rate limited' }, { 'x-ratelimit-towait-sec': '12' }),
      () => json(200, []),
    );
    const { session, clock } = scriptedSession(s.transport);
    await session.call(endpoints.listIntegrations('vm'));
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(12_000);
  });

  test('GIVEN a 429 with Retry-After WHEN calling THEN it waits at least that long', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(429, {}, { 'retry-after': '4' }),
      () => json(200, []),
    );
    const { session, clock } = scriptedSession(s.transport);
    await session.call(endpoints.listIntegrations('vm'));
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(4000);
  });

  test('GIVEN /auth is rate-limited WHEN authenticating THEN it is retried too', async () => {
    const s = scripted(
      () => text(429, 'slow down', { 'retry-after': '1' }),
      auth('a.b.c'),
      () => json(200, []),
    );
    const { session } = scriptedSession(s.transport);
    await expect(session.call(endpoints.listIntegrations('vm'))).resolves.toMatchObject({ status: 200 });
  });

  test('GIVEN a refused connection WHEN calling THEN a network error names the cause', async () => {
    const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const s = scripted(...Array.from({ length: 6 }, () => refused));
    const { session } = scriptedSession(s.transport);
    const error = await session.call(endpoints.listIntegrations('vm')).catch((e) => e);
    expect(error).toBeInstanceOf(QualysNetworkError);
    expect(error.message).toMatch(/could not reach the Qualys gateway for POST \/auth \(connection refused\)/);
  });

  test("GIVEN a 400 WHEN calling THEN it is not retried and Qualys's messsage is reported", async () => {
    const s = scripted(auth('a.b.c'), () => json(400, { messsage: 'bucketName is required' }));
    const { session } = scriptedSession(s.transport);
    await expect(session.call(endpoints.register('vm', { name: 'n' }), { retryServerErrors: false })).rejects.toThrow(
      /HTTP 400 to POST \/partner-integration\/aws\/s3\/vm: bucketName is required/,
    );
  });
});
