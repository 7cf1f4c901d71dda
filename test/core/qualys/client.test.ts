import { QualysApiError, QualysAuthError, QualysNetworkError } from '../../../src/core/errors';
import type { HttpRequest, HttpResponse } from '../../../src/core/qualys/transport';
import { QualysClient } from '../../../src/core/qualys/client';
import { FakeClock, memoryLogger } from '../../support/lambda-fakes';

type Step = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** A transport that answers from a script and records every request. */
function scripted(...steps: Step[]) {
  const requests: HttpRequest[] = [];
  const transport = async (req: HttpRequest) => {
    requests.push(req);
    const step = steps.shift();
    if (!step) throw new Error(`unexpected request ${req.method} ${req.url}`);
    return step(req);
  };
  return { transport, requests, remaining: () => steps.length };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const text = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body,
});

function jwt(expSeconds: number): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'HS256' })}.${enc({ sub: 'qualys-user', exp: expSeconds })}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
}

const PASSWORD = 'Sup3r-S3cret!';

function client(transport: (req: HttpRequest) => Promise<HttpResponse>, clock = new FakeClock(), cache = new Map()) {
  const { log, lines } = memoryLogger();
  const qualys = new QualysClient({
    gatewayUrl: 'https://gateway.example.test/',
    credentials: { username: 'qualys-user', password: PASSWORD },
    credentialsSource: 'secret "qualys/api-credentials"',
    transport,
    log,
    clock,
    tokenCache: cache,
  });
  return { qualys, lines, clock, cache };
}

const auth =
  (token: string): Step =>
  (req) => {
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://gateway.example.test/auth');
    return text(200, token);
  };

describe('authentication', () => {
  test('GIVEN valid credentials WHEN a call is made THEN POST /auth sends the form fields and the JWT is used as a Bearer token', async () => {
    const token = jwt(1_700_000_000 + 4 * 3600);
    const s = scripted(auth(token), () => json(200, []));
    const { qualys } = client(s.transport);
    await qualys.listIntegrations('vm');
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
    await client(s.transport, clock, cache).qualys.listIntegrations('vm');
    await client(s.transport, clock, cache).qualys.listIntegrations('pc');
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
    await client(s.transport, clock, cache).qualys.listIntegrations('vm');
    clock.time += 4 * 3600 * 1000 - 60_000; // one minute before expiry
    await client(s.transport, clock, cache).qualys.listIntegrations('vm');
    expect(s.requests[3].headers.Authorization).toBe(`Bearer ${second}`);
  });

  test('GIVEN the gateway rejects an expired token with 401 WHEN a call is made THEN it re-authenticates once and retries', async () => {
    const s = scripted(
      auth('tok.en.one'),
      () => json(401, { messsage: 'Token expired' }),
      auth('tok.en.two'),
      () => json(200, []),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.listIntegrations('vm')).resolves.toEqual([]);
    expect(s.requests[3].headers.Authorization).toBe('Bearer tok.en.two');
  });

  test('GIVEN 401 even with a fresh token WHEN a call is made THEN it fails with a permission hint and does not loop', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(401, {}),
      auth('d.e.f'),
      () => json(401, {}),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.listIntegrations('vm')).rejects.toThrow(/HTTP 401 .*even with a fresh token.*API access/);
    expect(s.remaining()).toBe(0);
  });

  test('GIVEN wrong credentials WHEN authenticating THEN the error names the secret, not the password', async () => {
    const s = scripted(() => text(401, 'Authentication Failure'));
    const { qualys, lines } = client(s.transport);
    const error = await qualys.listIntegrations('vm').catch((e) => e);
    expect(error).toBeInstanceOf(QualysAuthError);
    expect(error.message).toMatch(/HTTP 401 to POST \/auth.*secret "qualys\/api-credentials"/);
    expect(error.message).not.toContain(PASSWORD);
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  test('GIVEN /auth answers an HTML page WHEN authenticating THEN it explains the gateway URL is probably wrong', async () => {
    const s = scripted(() => text(200, '<html><body>Login</body></html>'));
    const { qualys } = client(s.transport);
    await expect(qualys.listIntegrations('vm')).rejects.toThrow(/without a token.*API gateway/);
  });
});

describe('retries', () => {
  test('GIVEN a 503 HTML page then success WHEN calling THEN it retries and succeeds', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => text(503, '<html><title>503 Service Unavailable</title></html>'),
      () => json(200, []),
    );
    const { qualys, clock } = client(s.transport);
    await expect(qualys.listIntegrations('vm')).resolves.toEqual([]);
    expect(clock.sleeps).toHaveLength(1);
  });

  test('GIVEN 503s that never stop WHEN calling THEN the error carries the status and the page title, after bounded attempts', async () => {
    const steps: Step[] = [auth('a.b.c')];
    for (let i = 0; i < 6; i++)
      steps.push(() => text(503, '<html><head><title>503 Service Unavailable</title></head></html>'));
    const s = scripted(...steps);
    const { qualys } = client(s.transport);
    const error = await qualys.listIntegrations('vm').catch((e) => e);
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
    const { qualys, clock } = client(s.transport);
    await qualys.listIntegrations('vm');
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(12_000);
  });

  test('GIVEN a 429 with Retry-After WHEN calling THEN it waits at least that long', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(429, {}, { 'retry-after': '4' }),
      () => json(200, []),
    );
    const { qualys, clock } = client(s.transport);
    await qualys.listIntegrations('vm');
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(4000);
  });

  test('GIVEN /auth is rate-limited WHEN authenticating THEN it is retried too', async () => {
    const s = scripted(
      () => text(429, 'slow down', { 'retry-after': '1' }),
      auth('a.b.c'),
      () => json(200, []),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.listIntegrations('vm')).resolves.toEqual([]);
  });

  test('GIVEN a refused connection WHEN calling THEN a network error names the cause', async () => {
    const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const s = scripted(...Array.from({ length: 6 }, () => refused));
    const { qualys } = client(s.transport);
    const error = await qualys.listIntegrations('vm').catch((e) => e);
    expect(error).toBeInstanceOf(QualysNetworkError);
    expect(error.message).toMatch(/could not reach the Qualys gateway for POST \/auth \(connection refused\)/);
  });

  test("GIVEN a 400 WHEN calling THEN it is not retried and Qualys's messsage is reported", async () => {
    const s = scripted(auth('a.b.c'), () => json(400, { messsage: 'bucketName is required' }));
    const { qualys } = client(s.transport);
    await expect(qualys.register('vm', { name: 'n' })).rejects.toThrow(
      /HTTP 400 to POST \/partner-integration\/aws\/s3\/vm: bucketName is required/,
    );
  });
});

describe('register is never duplicated', () => {
  test('GIVEN the POST fails with 502 after Qualys acted WHEN retried THEN the existing integration is used, not registered again', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => text(502, 'Bad Gateway'),
      () => json(200, [{ integrationId: 17, name: 'env-vm', externalId: 'US_POD_1-71-x' }]),
    );
    const { qualys } = client(s.transport);
    const details = await qualys.register('vm', { name: 'env-vm' });
    expect(details.integrationId).toBe('17');
    expect(s.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/s3/vm'))).toHaveLength(1);
  });

  test('GIVEN the POST fails with 503 before Qualys acted WHEN retried THEN it registers once more', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => text(503, 'down'),
      () => json(200, []),
      () => json(200, { integrationId: 5, externalId: 'US_POD_1-71-y', name: 'env-vm' }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.register('vm', { name: 'env-vm' })).resolves.toMatchObject({
      integrationId: '5',
      externalId: 'US_POD_1-71-y',
    });
  });
});

describe('responses', () => {
  test('GIVEN PUT or DELETE of an unknown integration THEN they report absence instead of failing', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(404, { messsage: 'not found' }),
      () => json(404, { messsage: 'not found' }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.update('vm', '9', { name: 'n' })).resolves.toEqual({ found: false });
    await expect(qualys.delete('vm', '9')).resolves.toBe('absent');
  });

  test('GIVEN a CIPS config WHEN read THEN policies and filter are parsed; a 404 means empty', async () => {
    const s = scripted(
      auth('a.b.c'),
      () =>
        json(200, {
          subscriptionId: 1,
          policy: [3, 1],
          includeEvidenceData: false,
          includeFailPosture: true,
          includePassPosture: false,
          includeErrorPosture: true,
        }),
      () => json(404, { messsage: 'No CIPS configuration found' }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.getCipsConfig()).resolves.toMatchObject({
      readable: true,
      policies: [3, 1],
      filter: {
        includeEvidenceData: false,
        includeFailPosture: true,
        includePassPosture: false,
        includeErrorPosture: true,
      },
    });
    await expect(qualys.getCipsConfig()).resolves.toMatchObject({ readable: true, policies: [] });
  });

  test("GIVEN CIPS policy changes WHEN sent THEN the body is the guide's array-of-one-object shape", async () => {
    const s = scripted(
      auth('a.b.c'),
      () => text(202, 'Policy added successfully.'),
      () => text(202, 'Policy deleted successfully.'),
    );
    const { qualys } = client(s.transport);
    await qualys.addCipsPolicies([1, 2]);
    await qualys.removeCipsPolicies([2]);
    expect(JSON.parse(s.requests[1].body!)).toEqual([{ policy: [1, 2] }]);
    expect(s.requests[2].method).toBe('DELETE');
    expect(s.requests[2].url).toBe('https://gateway.example.test/pcas/cips/config/policy');
    expect(JSON.parse(s.requests[2].body!)).toEqual([{ policy: [2] }]);
  });
});

describe('deadlines', () => {
  test('GIVEN a cleanup client with a request deadline 5 s away WHEN it calls THEN each request is limited to what is left, never past the deadline', async () => {
    const s = scripted(auth(jwt(1_700_000_000 + 4 * 3600)), () => json(200, []));
    const { qualys, clock } = client(s.transport);
    const cleanup = qualys.withDeadlines(clock.now() + 5_000, clock.now() + 5_000);
    await cleanup.listIntegrations('vm');
    expect(s.requests.map((r) => r.timeoutMs)).toEqual([5_000, 5_000]);
  });

  test('GIVEN a client without a request deadline WHEN it calls THEN the transport keeps its own time limit', async () => {
    const s = scripted(auth(jwt(1_700_000_000 + 4 * 3600)), () => json(200, []));
    await client(s.transport).qualys.listIntegrations('vm');
    expect(s.requests.map((r) => r.timeoutMs)).toEqual([undefined, undefined]);
  });
});

describe('answers in every shape the guide allows', () => {
  const vm = (id: number, name = `vm-${id}`) => ({
    integrationId: id,
    name,
    externalId: `US_POD_1-71-${id}`,
    roleArn: 'arn:aws:iam::123456789012:role/r',
  });
  const path = (req: HttpRequest) => new URL(req.url).pathname + new URL(req.url).search;

  test('GIVEN any call WHEN sent THEN Accept admits JSON and text, as the CIPS endpoints answer text', async () => {
    const s = scripted(auth('a.b.c'), () => text(202, 'Policy added successfully.'));
    const { qualys } = client(s.transport);
    await qualys.addCipsPolicies([1]);
    expect(s.requests[1].headers.Accept).toMatch(/\*\/\*/);
    expect(s.requests[1].headers.Accept).toMatch(/text\/plain/);
  });

  test('GIVEN Spring pages counted from 0 WHEN listed THEN every page is read once, asking pageNo 1, 2', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(200, { content: [vm(1), vm(2)], last: false, number: 0, size: 2 }),
      (req) => {
        expect(path(req)).toBe('/partner-integration/aws/s3/vm?pageNo=1&pageSize=2');
        return json(200, { content: [vm(3), vm(4)], last: false, number: 1, size: 2 });
      },
      (req) => {
        expect(path(req)).toBe('/partner-integration/aws/s3/vm?pageNo=2&pageSize=2');
        return json(200, { content: [vm(5)], last: true, number: 2, size: 2 });
      },
    );
    const { qualys } = client(s.transport);
    expect((await qualys.listIntegrations('vm')).map((i) => i.integrationId)).toEqual(['1', '2', '3', '4', '5']);
    expect(s.remaining()).toBe(0);
  });

  test('GIVEN Spring pages whose pageNo counts from 1 WHEN listed THEN the repeated first page is noticed and the rest is read', async () => {
    const pages: Record<string, unknown> = {
      '': { content: [vm(1), vm(2)], last: false, number: 0, size: 2 },
      '1': { content: [vm(1), vm(2)], last: false, number: 0, size: 2 },
      '2': { content: [vm(3), vm(4)], last: false, number: 1, size: 2 },
      '3': { content: [vm(5)], last: true, number: 2, size: 2 },
    };
    const answer: Step = (req) => json(200, pages[new URL(req.url).searchParams.get('pageNo') ?? '']);
    const s = scripted(auth('a.b.c'), answer, answer, answer, answer);
    const { qualys } = client(s.transport);
    expect((await qualys.listIntegrations('vm')).map((i) => i.integrationId)).toEqual(['1', '2', '3', '4', '5']);
    expect(qualys.readings.get('VM list')).toMatch(/counted from 1/);
  });

  test('GIVEN a next-page link to another host WHEN listed THEN the token is not sent there', async () => {
    const s = scripted(auth('a.b.c'), () =>
      json(200, { data: [vm(1)], next: 'https://elsewhere.example/partner-integration/aws/s3/vm?page=2' }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.listIntegrations('vm')).rejects.toThrow(/elsewhere\.example, not at the configured gateway/);
    expect(s.requests).toHaveLength(2);
  });

  test('GIVEN a list answer of no known shape WHEN listed THEN it is an error that names the keys, not an empty list', async () => {
    const s = scripted(auth('a.b.c'), () => json(200, { payload: 'x', total: 3 }));
    const { qualys } = client(s.transport);
    await expect(qualys.listIntegrations('vm')).rejects.toThrow(/cannot read \(an object with keys payload, total\)/);
  });

  test("GIVEN the guide's PC sample in a list WHEN listed THEN the entry is kept without an ID", async () => {
    const s = scripted(auth('a.b.c'), () =>
      json(200, {
        name: 'pc one',
        compressData: true,
        bucketName: 'b',
        bucketRegion: 'us-east-1',
        roleArn: 'arn:aws:iam::1:role/r',
        integrationValidated: true,
      }),
    );
    const { qualys } = client(s.transport);
    const [entry] = await qualys.listIntegrations('pc');
    expect(entry).toMatchObject({ name: 'pc one', integrationId: undefined });
  });

  test('GIVEN a register answer with only the prose spelling externalID WHEN registered THEN both IDs are taken', async () => {
    const s = scripted(auth('a.b.c'), () => json(200, { integrationId: 5, externalID: 'US_POD_1-71-x' }));
    const { qualys } = client(s.transport);
    await expect(qualys.register('vm', { name: 'n' })).resolves.toMatchObject({
      integrationId: '5',
      externalId: 'US_POD_1-71-x',
    });
  });

  test('GIVEN an empty register answer WHEN registered THEN the list is asked for the new integration by name', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => text(201, ''),
      () => json(200, [vm(4, 'other'), vm(5, 'n')]),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.register('vm', { name: 'n' })).resolves.toMatchObject({ integrationId: '5' });
  });

  test('GIVEN an empty register answer and a listed entry without an ID WHEN registered THEN it fails saying the ID is unknown, registering nothing more', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => text(200, ''),
      () => json(200, { name: 'n', roleArn: 'arn:aws:iam::1:role/r' }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.register('pc', { name: 'n' })).rejects.toThrow(/did not report its ID/);
    expect(s.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/pc'))).toHaveLength(1);
  });

  test('GIVEN a PUT answer with the regenerated external ID WHEN updated THEN it is returned', async () => {
    const s = scripted(auth('a.b.c'), () =>
      json(200, { messsage: 'AWS S3 PC integration successfully updated.', externalId: 'US_POD_1-71-new' }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.update('pc', '9', { name: 'n', regenerateExternalId: true })).resolves.toEqual({
      found: true,
      externalId: 'US_POD_1-71-new',
    });
  });

  test('GIVEN a 200 PUT answer whose message says it failed WHEN updated THEN it is an error', async () => {
    const s = scripted(auth('a.b.c'), () => json(200, { messsage: 'Update failed: invalid roleArn' }));
    const { qualys } = client(s.transport);
    await expect(qualys.update('vm', '9', { name: 'n' })).rejects.toThrow(/Update failed: invalid roleArn/);
  });

  test('GIVEN validate answers WHEN read THEN a 200 that says it failed, a 4xx and a 403 about the role are "failed", a 403 about the user is an error', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(200, { messsage: 'Validation failed: unable to assume role' }),
      () => json(422, { messsage: 'cannot write the test file' }),
      () => json(403, { messsage: 'AccessDenied: not authorized to perform sts:AssumeRole' }),
      () => json(403, { messsage: 'Forbidden' }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.validate('vm', '9')).resolves.toMatchObject({ status: 200, verdict: 'failed' });
    await expect(qualys.validate('vm', '9')).resolves.toMatchObject({ status: 422, verdict: 'failed' });
    await expect(qualys.validate('vm', '9')).resolves.toMatchObject({ status: 403, verdict: 'failed' });
    await expect(qualys.validate('vm', '9')).rejects.toThrow(/lacks permission/);
  });

  test('GIVEN a 503 on validate WHEN validated THEN the client hands it back at once for the caller to pace', async () => {
    const s = scripted(auth('a.b.c'), () => json(503, { messsage: 'busy' }));
    const { qualys } = client(s.transport);
    await expect(qualys.validate('vm', '9')).rejects.toMatchObject({ status: 503 });
    expect(s.requests).toHaveLength(2);
  });

  test("GIVEN the documented delete path is not there WHEN policies are removed THEN the curl's path is used", async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(405, { messsage: 'Method Not Allowed' }),
      (req) => {
        expect(path(req)).toBe('/pcas/cips/config');
        return text(202, 'Policy deleted successfully.');
      },
    );
    const { qualys } = client(s.transport);
    await qualys.removeCipsPolicies([7]);
    expect(qualys.readings.get('CIPS delete path')).toBe('/pcas/cips/config');
  });

  test('GIVEN neither delete path takes it WHEN removed THEN a read-back that still shows the policy makes it an error', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(404, { messsage: 'not found' }),
      () => json(404, { messsage: 'not found' }),
      () => json(200, { policy: [7] }),
    );
    const { qualys } = client(s.transport);
    await expect(qualys.removeCipsPolicies([7])).rejects.toThrow(/HTTP 404/);
  });

  test('GIVEN an add answered "already added" WHEN policies are added THEN that is success', async () => {
    const s = scripted(auth('a.b.c'), () => json(400, { messsage: 'Policy 7 already added to CIPS' }));
    const { qualys } = client(s.transport);
    await expect(qualys.addCipsPolicies([7])).resolves.toBeUndefined();
  });
});

describe('CIPS adds refused in part', () => {
  test('GIVEN a batch refused because one policy is there WHEN added THEN each is added on its own', async () => {
    const s = scripted(
      auth('a.b.c'),
      () => json(400, { messsage: 'Policy 1 already added to CIPS' }),
      () => json(400, { messsage: 'Policy 1 already added to CIPS' }),
      () => text(202, 'Policy added successfully.'),
    );
    const { qualys } = client(s.transport);
    await qualys.addCipsPolicies([1, 2]);
    expect(s.requests.slice(2).map((r) => JSON.parse(r.body!))).toEqual([[{ policy: [1] }], [{ policy: [2] }]]);
  });
});
