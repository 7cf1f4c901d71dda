/**
 * Attacks on the tolerant readers and the client: answers in shapes the guide allows (or
 * leaves open) that a scripted transport plays, since the simulator cannot play them all.
 * Tests named "(judgement call)" pin an expectation the guide does not settle.
 */
import { IntegrationError, QualysApiError, UnreadableAnswerError } from '../../../src/core/errors';
import type { HttpRequest, HttpResponse } from '../../../src/core/qualys/transport';
import { readCipsConfig, readIntegrationPage, readValidationAnswer } from '../../../src/core/qualys/answers';
import { QualysClient } from '../../../src/core/qualys/client';
import { FakeClock, memoryLogger } from '../../support/lambda-fakes';

const GATEWAY = 'https://gateway.example.test';
const PASSWORD = 'Edg3-Case-P@ss!';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlZGdlIn0.c2lnbmF0dXJlLWVkZ2U';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** A transport that answers /auth with a token and every other request with `answer`. */
function gateway(answer: (req: HttpRequest, url: URL) => HttpResponse) {
  const requests: HttpRequest[] = [];
  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    requests.push(req);
    const url = new URL(req.url);
    if (url.pathname === '/auth') return { status: 200, headers: { 'content-type': 'text/plain' }, body: TOKEN };
    return answer(req, url);
  };
  const { log, lines } = memoryLogger();
  const qualys = new QualysClient({
    gatewayUrl: GATEWAY,
    credentials: { username: 'edge-user', password: PASSWORD },
    credentialsSource: 'secret "qualys/api-credentials"',
    transport,
    log,
    clock: new FakeClock(),
    tokenCache: new Map(),
  });
  return { qualys, requests, lines };
}

const entry = (id: number) => ({
  integrationId: id,
  name: `integration-${id}`,
  bucketName: `bucket-${id}`,
  roleArn: `arn:aws:iam::1:role/r${id}`,
});

describe('list answers', () => {
  test('GIVEN pages counted from 1 that say only "hasMore" WHEN the list is read THEN every page is read and no entry is skipped', async () => {
    // Four integrations, two a page, pageNo counted from 1 (as Qualys's CloudView API does),
    // and no page index in the answer: the first ask (no pageNo) is page 1.
    const all = [1, 2, 3, 4].map(entry);
    const g = gateway((_req, url) => {
      const pageNo = Number(url.searchParams.get('pageNo') ?? '1');
      const from = (Math.max(pageNo, 1) - 1) * 2;
      return json(200, { items: all.slice(from, from + 2), hasMore: from + 2 < all.length });
    });
    const listed = await g.qualys.listIntegrations('vm');
    expect(listed.map((i) => i.integrationId).sort()).toEqual(['1', '2', '3', '4']);
  });

  test('GIVEN pages counted from 0 that say only "hasMore" WHEN the list is read THEN every page is read', async () => {
    const all = [1, 2, 3, 4, 5].map(entry);
    const g = gateway((_req, url) => {
      const pageNo = Number(url.searchParams.get('pageNo') ?? '0');
      const from = pageNo * 2;
      return json(200, { items: all.slice(from, from + 2), hasMore: from + 2 < all.length });
    });
    const listed = await g.qualys.listIntegrations('vm');
    expect(listed.map((i) => i.integrationId).sort()).toEqual(['1', '2', '3', '4', '5']);
  });

  test('GIVEN one integration wrapped in "data" as an object (judgement call) WHEN the list is read THEN it is that one integration, not an unreadable answer', async () => {
    const g = gateway(() => json(200, { data: entry(7) }));
    await expect(g.qualys.listIntegrations('vm')).resolves.toEqual([
      expect.objectContaining({ integrationId: '7', name: 'integration-7' }),
    ]);
  });

  test('GIVEN a next-page link to another host WHEN the list is read THEN the token is never sent there and the error says why', async () => {
    const g = gateway((_req, url) =>
      url.host === 'gateway.example.test'
        ? json(200, {
            content: [entry(1)],
            last: false,
            next: 'https://collector.evil.test/partner-integration/aws/s3/vm?pageNo=1',
          })
        : json(200, { content: [entry(2)], last: true }),
    );
    await expect(g.qualys.listIntegrations('vm')).rejects.toThrow(
      /next-page link points at https:\/\/collector\.evil\.test, not at the configured gateway/,
    );
    expect(g.requests.every((r) => new URL(r.url).host === 'gateway.example.test')).toBe(true);
  });

  test('GIVEN a next-page link on the same host over plain http WHEN the list is read THEN it is not followed (the token stays on TLS)', async () => {
    const g = gateway(() =>
      json(200, {
        content: [entry(1)],
        last: false,
        next: 'http://gateway.example.test/partner-integration/aws/s3/vm?pageNo=1',
      }),
    );
    await expect(g.qualys.listIntegrations('vm')).rejects.toBeInstanceOf(UnreadableAnswerError);
    expect(g.requests.every((r) => r.url.startsWith('https://'))).toBe(true);
  });

  test('GIVEN a list answer of no known shape WHEN the list is read THEN it is an error naming the shape, never an empty list', async () => {
    const g = gateway(() => json(200, { payload: [entry(1)] }));
    await expect(g.qualys.listIntegrations('pc')).rejects.toThrow(
      /cannot read \(an object with keys payload\).*Nothing was changed/,
    );
  });

  test("GIVEN PC entries without IDs, as the guide's sample WHEN read THEN they are kept with name, bucket and role", () => {
    const page = readIntegrationPage({
      name: 'a',
      compressData: 'false',
      bucketName: 'b',
      bucketRegion: 'us-east-1',
      roleArn: 'r',
      integrationValidated: 'true',
    });
    expect(page?.entries).toEqual([
      expect.objectContaining({ name: 'a', roleArn: 'r', integrationValidated: true, compressData: false }),
    ]);
    expect(page?.entries[0].integrationId).toBeUndefined();
  });
});

describe('register answers', () => {
  test("GIVEN a register answered 200 with a failure message and no ID WHEN registering THEN the error quotes Qualys's message", async () => {
    const g = gateway((req) =>
      req.method === 'POST' ? json(200, { messsage: 'Bucket region eu-north-9 is not supported' }) : json(200, []),
    );
    await expect(
      g.qualys.register('vm', {
        name: 'n',
        bucketName: 'b',
        bucketRegion: 'eu-north-9',
        roleArn: 'arn:aws:iam::1:role/r',
      }),
    ).rejects.toThrow(/Bucket region eu-north-9 is not supported/);
  });

  test('GIVEN a register answered 202 with the ID as "id" and "externalID" wrapped in data WHEN registering THEN both are read', async () => {
    const g = gateway((req) =>
      req.method === 'POST' ? json(202, { data: { id: 31, externalID: 'US_POD_1-71-abc' } }) : json(200, []),
    );
    await expect(
      g.qualys.register('pc', { name: 'n', bucketName: 'b', bucketRegion: 'r', roleArn: 'a' }),
    ).resolves.toMatchObject({
      integrationId: '31',
      externalId: 'US_POD_1-71-abc',
    });
  });

  test('GIVEN a register whose first POST went through but answered 502 WHEN it is retried THEN no second POST is made', async () => {
    let posts = 0;
    const g = gateway((req) => {
      if (req.method === 'POST') {
        posts++;
        return {
          status: 502,
          headers: { 'content-type': 'text/html' },
          body: '<html><title>502 Bad Gateway</title></html>',
        };
      }
      return json(200, posts > 0 ? [{ ...entry(9), name: 'n' }] : []);
    });
    await expect(
      g.qualys.register('vm', { name: 'n', bucketName: 'b', bucketRegion: 'r', roleArn: 'a' }),
    ).resolves.toMatchObject({ integrationId: '9' });
    expect(posts).toBe(1);
  });
});

describe('validation answers', () => {
  test.each([
    [{ messsage: 'AWS S3 PC integration validation failed.' }, 'failed'],
    [{ integrationValidated: 'false' }, 'failed'],
    [{ messsage: 'AWS S3 PC integration successfully validated.' }, 'validated'],
    [{ status: 'SUCCESS' }, 'validated'],
    [{ messsage: 'Validation is in progress' }, 'unclear'],
  ] as const)('GIVEN a 2xx validate answer %j WHEN read THEN it is %s', (body, verdict) => {
    expect(readValidationAnswer(body, JSON.stringify(body))).toBe(verdict);
  });

  test('GIVEN a 403 that is about the user, not the role WHEN validating THEN it fails at once naming the missing permission', async () => {
    const g = gateway(() => json(403, { messsage: 'User does not have permission to access this API' }));
    await expect(g.qualys.validate('vm', '5')).rejects.toThrow(/lacks permission.*Manager or Unit Manager/);
  });

  test('GIVEN a 403 that is about assuming the role WHEN validating THEN it is "not yet", not a permission error', async () => {
    const g = gateway(() => json(403, { messsage: 'Unable to assume role arn:aws:iam::1:role/r' }));
    await expect(g.qualys.validate('vm', '5')).resolves.toMatchObject({ status: 403, verdict: 'failed' });
  });
});

describe('CIPS answers', () => {
  test('GIVEN filter flags at the top and the policies under a key this reader does not know WHEN read THEN it is unreadable, not "no policies"', () => {
    const reading = readCipsConfig({
      subscriptionId: 3068,
      cipsPolicies: [101, 555],
      includeEvidenceData: false,
      includeFailPosture: true,
      includePassPosture: true,
      includeErrorPosture: true,
    });
    // Reporting "no policies" here makes a create re-add them and count them as its own.
    if (reading.readable) expect(reading.policies).toEqual([101, 555]);
    else expect(reading.reading).toMatch(/cipsPolicies/);
  });

  test('GIVEN a nested filter and the policies under a key this reader does not know WHEN read THEN it is unreadable, not "no policies"', () => {
    const reading = readCipsConfig({
      subscriptionId: 3068,
      policyDetails: [{ policyId: 101, title: 'CIS' }],
      filter: {
        includeEvidenceData: true,
        includeFailPosture: true,
        includePassPosture: true,
        includeErrorPosture: true,
      },
    });
    expect(reading.readable && reading.policies.length === 0).toBe(false);
  });

  test('GIVEN a text answer to Get Filter Details WHEN read through the client THEN it is unreadable', async () => {
    const g = gateway(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'Policies: 101, 102' }));
    await expect(g.qualys.getCipsConfig()).resolves.toMatchObject({ readable: false });
  });

  test('GIVEN any CIPS call WHEN sent THEN its Accept header admits a text answer', async () => {
    const g = gateway(() => ({
      status: 202,
      headers: { 'content-type': 'text/plain' },
      body: 'Policy added successfully.',
    }));
    await g.qualys.addCipsPolicies([101]);
    const accept = g.requests.find((r) => r.url.endsWith('/pcas/cips/config/policy'))!.headers.Accept;
    expect(accept).toMatch(/\*\/\*|text\/plain/);
  });

  test("GIVEN the documented delete path answers 405 WHEN removing policies THEN the curl's path is used", async () => {
    const g = gateway((_req, url) =>
      url.pathname === '/pcas/cips/config/policy'
        ? json(405, { messsage: 'Method Not Allowed' })
        : { status: 202, headers: {}, body: 'Policy deleted successfully.' },
    );
    await g.qualys.removeCipsPolicies([101]);
    expect(g.requests.filter((r) => r.method === 'DELETE').map((r) => new URL(r.url).pathname)).toEqual([
      '/pcas/cips/config/policy',
      '/pcas/cips/config',
    ]);
  });
});

describe('secrets in errors', () => {
  test('GIVEN a gateway that echoes the bearer token in an error WHEN the call fails THEN no log line holds the token', async () => {
    const g = gateway((req) => json(400, { messsage: `Bad request with header ${req.headers.Authorization}` }));
    await expect(g.qualys.delete('vm', '5')).rejects.toBeInstanceOf(QualysApiError);
    for (const line of g.lines) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(PASSWORD);
    }
  });

  test('GIVEN a gateway that echoes the bearer token in an error (judgement call: only the handler and CLI boundaries redact today) WHEN the call fails THEN the thrown error does not hold the token', async () => {
    const g = gateway((req) => json(400, { messsage: `Bad request with header ${req.headers.Authorization}` }));
    const error = await g.qualys.delete('vm', '5').catch((e: Error) => e);
    expect(error).toBeInstanceOf(QualysApiError);
    expect((error as QualysApiError).message).not.toContain(TOKEN);
    expect((error as QualysApiError).qualysMessage).not.toContain(TOKEN);
  });

  test('GIVEN a register answer naming neither ID nor a listed integration WHEN it fails THEN the error says what to check', async () => {
    const g = gateway((req) => (req.method === 'POST' ? { status: 204, headers: {}, body: '' } : json(200, [])));
    const error = await g.qualys
      .register('vm', { name: 'n', bucketName: 'b', bucketRegion: 'r', roleArn: 'a' })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as Error).message).toMatch(/without an integration ID.*Check the Qualys UI/);
  });
});
