/**
 * Connectors 3.0 (QPS) over an injected transport: the envelopes in every shape the reference
 * allows (wrapped or plain data, one object, `list`, booleans and numbers as strings), errors in
 * a 200, OBJECT_NOT_FOUND, paging by lastId, rate limits, Basic authentication, the run path.
 */
import { QualysApiError, QualysAuthError, UnreadableAnswerError } from '../../../../src/core/errors';
import {
  ConnectorsV3,
  readServiceAnswer,
  readV3Connector,
  v3Body,
} from '../../../../src/core/qualys/connectors/connectors-v3';
import type { ConnectorFields } from '../../../../src/core/qualys/connectors/api';
import type { HttpRequest, HttpResponse } from '../../../../src/core/qualys/transport';
import { API_URL, CONNECTOR_USER, FakeConnectorServer } from '../../../support/connector-fakes';
import { FakeClock, memoryLogger } from '../../../support/lambda-fakes';
import { json, scripted, text } from '../scripted-gateway';

const FIELDS: ConnectorFields = {
  name: 'qcv-dev',
  description: 'dev',
  roleArn: 'arn:aws:iam::123456789012:role/R',
  externalId: 'ext-1',
  awsAccountId: '123456789012',
  partition: 'aws',
  modules: ['securityAssessment', 'assetInventory'],
  pollingHours: 4,
  remediation: false,
};

function client(transport: (req: HttpRequest) => Promise<HttpResponse>, clock = new FakeClock()) {
  const { log, lines } = memoryLogger();
  const api = new ConnectorsV3({
    apiUrl: `${API_URL}/`,
    credentials: CONNECTOR_USER,
    credentialsSource: 'secret "s"',
    transport,
    log,
    clock,
  });
  return { api, lines, clock };
}

const ok = (data: unknown, extra: Record<string, unknown> = {}) =>
  json(200, { ServiceResponse: { responseCode: 'SUCCESS', count: 1, hasMoreRecords: 'false', ...extra, data } });

describe('reading QPS answers', () => {
  test.each([
    ['wrapped objects', { ServiceResponse: { responseCode: 'SUCCESS', data: [{ AwsAssetDataConnector: { id: 7 } }] } }],
    ['plain objects', { ServiceResponse: { responseCode: 'SUCCESS', data: [{ id: '7' }] } }],
    ['one object', { ServiceResponse: { responseCode: 'SUCCESS', data: { AwsAssetDataConnector: { id: 7 } } } }],
    [
      'a list wrapper',
      { ServiceResponse: { responseCode: 'SUCCESS', data: { list: [{ AwsAssetDataConnector: { id: 7 } }] } } },
    ],
    ['no ServiceResponse wrapper', { responseCode: 'SUCCESS', data: [{ AwsAssetDataConnector: { id: 7 } }] }],
  ])('GIVEN %s THEN the connector is read', (_what, body) => {
    const answer = readServiceAnswer(body);
    expect(answer?.responseCode).toBe('SUCCESS');
    expect(answer?.items?.map((i) => readV3Connector(i)?.id)).toEqual(['7']);
  });

  test('GIVEN booleans, numbers and nested apps as strings and lists THEN they are read as values', () => {
    const c = readV3Connector({
      id: '12',
      name: 'n',
      awsAccountId: 123456789012,
      connectorState: 'finished_success',
      runFrequency: '240',
      isRemediationEnabled: 'true',
      disabled: 'false',
      connectorAppInfos: {
        list: {
          ConnectorAppInfoQList: [
            {
              list: {
                ConnectorAppInfo: [
                  { name: 'CSA', identifier: 'arn:x' },
                  { name: 'AI', identifier: 'arn:x' },
                ],
              },
            },
          ],
        },
      },
    });
    expect(c).toMatchObject({
      id: '12',
      awsAccountId: '123456789012',
      state: 'FINISHED_SUCCESS',
      pollingHours: 4,
      remediation: true,
      disabled: false,
      modules: ['assetInventory', 'securityAssessment'],
      roleArn: 'arn:x',
    });
  });

  test('GIVEN no responseCode THEN it is no QPS answer', () => {
    expect(readServiceAnswer({ data: [] })).toBeUndefined();
    expect(readServiceAnswer([1])).toBeUndefined();
  });

  test("GIVEN the fields THEN the create body is the reference's: set-wrapped apps, minutes, booleans", () => {
    expect(v3Body({ ...FIELDS, partition: 'aws-us-gov' })).toEqual({
      name: 'qcv-dev',
      description: 'dev',
      arn: FIELDS.roleArn,
      externalId: 'ext-1',
      disabled: false,
      allRegions: true,
      runFrequency: 240,
      isRemediationEnabled: false,
      isGovCloud: true,
      connectorAppInfos: {
        set: {
          ConnectorAppInfoQList: [
            {
              set: {
                ConnectorAppInfo: [
                  { name: 'AI', identifier: FIELDS.roleArn },
                  { name: 'CSA', identifier: FIELDS.roleArn },
                ],
              },
            },
          ],
        },
      },
    });
  });
});

describe('calls', () => {
  test('GIVEN any call THEN it goes to the API server with Basic auth and Accept JSON, nowhere else', async () => {
    const s = scripted(() => ok([{ AwsAssetDataConnector: { id: 5, name: 'n' } }]));
    const { api } = client(s.transport);
    await api.get('5');
    const [req] = s.requests;
    expect(req.url).toBe(`${API_URL}/qps/rest/3.0/get/am/awsassetdataconnector/5`);
    expect(req.headers.Authorization).toBe(
      `Basic ${Buffer.from(`${CONNECTOR_USER.username}:${CONNECTOR_USER.password}`).toString('base64')}`,
    );
    expect(req.headers.Accept).toBe('application/json');
  });

  test('GIVEN a 401 THEN a QualysAuthError says what to check, with neither the password nor its encoding', async () => {
    const s = scripted((req) => json(401, { message: `bad ${req.headers.Authorization}` }));
    const { api, lines } = client(s.transport);
    const error = await api.get('5').catch((e: Error) => e);
    expect(error).toBeInstanceOf(QualysAuthError);
    expect((error as Error).message).toMatch(/username and password in secret "s"/);
    const basic = Buffer.from(`${CONNECTOR_USER.username}:${CONNECTOR_USER.password}`).toString('base64');
    for (const t of [(error as Error).message, ...lines]) expect(t).not.toContain(basic);
  });

  test.each([
    ['HTTP 200 with OBJECT_NOT_FOUND', json(200, { ServiceResponse: { responseCode: 'OBJECT_NOT_FOUND' } })],
    ['HTTP 404 with OBJECT_NOT_FOUND', json(404, { ServiceResponse: { responseCode: 'OBJECT_NOT_FOUND' } })],
    ['HTTP 404 saying not found', json(404, { message: 'Connector not found' })],
  ])('GIVEN %s WHEN deleted or read THEN it is absent', async (_what, answer) => {
    const s = scripted(
      () => answer,
      () => answer,
    );
    const { api } = client(s.transport);
    await expect(api.delete('5')).resolves.toBe('absent');
    await expect(api.get('5')).resolves.toBeUndefined();
  });

  test("GIVEN HTTP 200 whose responseCode is INVALID_REQUEST THEN the update fails in Qualys's words", async () => {
    const s = scripted(() =>
      json(200, {
        ServiceResponse: { responseCode: 'INVALID_REQUEST', responseErrorDetails: { errorMessage: 'arn is invalid' } },
      }),
    );
    const { api } = client(s.transport);
    await expect(api.update('5', FIELDS)).rejects.toThrow(/INVALID_REQUEST: arn is invalid/);
  });

  test('GIVEN SUCCESS with neither data nor count THEN the search is unreadable, never empty', async () => {
    const s = scripted(() => json(200, { ServiceResponse: { responseCode: 'SUCCESS' } }));
    const { api } = client(s.transport);
    await expect(api.find({ name: 'n' })).rejects.toThrow(UnreadableAnswerError);
  });

  test('GIVEN SUCCESS with count 0 THEN the search is empty', async () => {
    const s = scripted(() => json(200, { ServiceResponse: { responseCode: 'SUCCESS', count: 0 } }));
    const { api } = client(s.transport);
    await expect(api.find({ name: 'n' })).resolves.toEqual([]);
  });

  test('GIVEN an HTML page THEN it is unreadable and names the API server', async () => {
    const s = scripted(() => text(200, '<html><body>Login</body></html>', { 'content-type': 'text/html' }));
    const { api } = client(s.transport);
    await expect(api.find({ name: 'n' })).rejects.toThrow(/without a QPS responseCode.*API server/);
  });

  test('GIVEN five connectors and pages of two THEN the search pages by id GREATER lastId', async () => {
    const clock = new FakeClock();
    const server = new FakeConnectorServer({ api: 'connectors-v3', clock, pageSize: 2, stringly: true });
    for (let i = 0; i < 5; i++)
      server.seed({ name: `c${i}`, awsAccountId: '123456789012', arn: 'arn:aws:iam::123456789012:role/R' });
    const { api } = client(server.transport, clock);
    const found = await api.find({ awsAccountId: '123456789012' });
    expect(found).toHaveLength(5);
    const bodies = server.requests.map((r) => JSON.parse(r.body ?? '{}').ServiceRequest.filters.Criteria);
    expect(bodies[1]).toContainEqual({ field: 'id', operator: 'GREATER', value: '1001' });
    expect(bodies).toHaveLength(3);
  });

  test('GIVEN data as plain objects WHEN a connector is created THEN its ID is read', async () => {
    const clock = new FakeClock();
    const server = new FakeConnectorServer({ api: 'connectors-v3', clock, plainData: true });
    const { api } = client(server.transport, clock);
    const c = await api.create(FIELDS);
    expect(server.connectors.get(c.id)).toMatchObject({ name: 'qcv-dev', modules: ['AI', 'CSA'] });
  });

  test('GIVEN only the 2.0 run path WHEN run twice THEN 3.0 is tried once, and 2.0 used from then on', async () => {
    const clock = new FakeClock();
    const server = new FakeConnectorServer({ api: 'connectors-v3', clock, runOnlyV2: true });
    const c = server.seed({ name: 'n', awsAccountId: '123456789012', arn: 'arn:aws:iam::123456789012:role/R' });
    const { api } = client(server.transport, clock);
    await expect(api.run(c.id)).resolves.toEqual({ outcome: 'started' });
    await expect(api.run(c.id)).resolves.toEqual({ outcome: 'started' });
    expect(server.requests.map((r) => new URL(r.url).pathname)).toEqual([
      `/qps/rest/3.0/run/am/awsassetdataconnector/${c.id}`,
      `/qps/rest/2.0/run/am/awsassetdataconnector/${c.id}`,
      `/qps/rest/2.0/run/am/awsassetdataconnector/${c.id}`,
    ]);
  });

  test('GIVEN INTERNAL_ERROR in a 200 to the create after Qualys acted THEN the search finds it and nothing is sent twice', async () => {
    const clock = new FakeClock();
    const server = new FakeConnectorServer({ api: 'connectors-v3', clock });
    server.hooks.push(async (req, _n, forward) => {
      if (!req.url.includes('/create/')) return undefined;
      await forward();
      return json(200, { ServiceResponse: { responseCode: 'INTERNAL_ERROR' } });
    });
    const { api } = client(server.transport, clock);
    const c = await api.create(FIELDS);
    expect(server.connectors.size).toBe(1);
    expect(c.id).toBe([...server.connectors.keys()][0]);
    expect(server.of('POST', /\/create\//)).toHaveLength(1);
  });

  test('GIVEN 409 with X-Concurrency-Limit-Running at its limit THEN the call waits and is sent again; a 409 conflict is not', async () => {
    const s = scripted(
      () => json(409, {}, { 'x-concurrency-limit-limit': '2', 'x-concurrency-limit-running': '2' }),
      () => ok([{ AwsAssetDataConnector: { id: 5 } }]),
      () =>
        json(
          409,
          { message: 'Connector already exists' },
          { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '300' },
        ),
    );
    const { api, clock } = client(s.transport);
    await expect(api.get('5')).resolves.toMatchObject({ id: '5' });
    expect(clock.sleeps.length).toBe(1);
    const conflict = await api.update('5', FIELDS).catch((e: QualysApiError) => e);
    expect(conflict).toBeInstanceOf(QualysApiError);
    expect((conflict as QualysApiError).isRateLimit).toBe(false);
    expect(s.remaining()).toBe(0);
  });

  test('GIVEN the errors search THEN entries are read in their words', async () => {
    const s = scripted(() =>
      ok([{ AssetDataConnectorError: { errorMessage: 'AccessDenied sts:AssumeRole', region: 'eu-west-1' } }]),
    );
    const { api } = client(s.transport);
    await expect(api.errors('5')).resolves.toMatchObject({
      readable: true,
      errors: [{ message: 'AccessDenied sts:AssumeRole', region: 'eu-west-1' }],
    });
  });
});
