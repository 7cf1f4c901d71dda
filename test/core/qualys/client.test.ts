import type { HttpRequest, HttpResponse } from '../../../src/core/qualys/transport';
import { QualysClient } from '../../../src/core/qualys/client';
import { FakeClock } from '../../support/lambda-fakes';
import { type Step, auth, gatewayOptions, json, jwt, scripted, text } from './scripted-gateway';

function client(transport: (req: HttpRequest) => Promise<HttpResponse>, clock = new FakeClock(), cache = new Map()) {
  const { options, ...rest } = gatewayOptions(transport, clock, cache);
  return { qualys: new QualysClient(options), ...rest };
}

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
