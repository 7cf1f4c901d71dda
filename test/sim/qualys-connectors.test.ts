/**
 * The Qualys simulator's connector APIs (sim/qualys-connectors.ts), over raw HTTP: Connectors
 * 3.0 (QPS) and CloudView REST on the API server host, their readings (the connector
 * dialect), strictness, runs judged by FakeAws trust policies with propagation delay, limits
 * and faults. "ref §N" is a section of shared/reference/qualys-connector-apis.md, "guide l.N"
 * a line of shared/reference/qualys-cloudview-guide.txt.
 */
import { FakeAws } from '../../sim/fake-aws';
import { CONNECTOR_DIALECT_CHOICES } from '../../sim/connector-dialect';
import { CONNECTOR_DIALECTS, DEFAULT_CONNECTOR_DIALECT, GUIDE_EVALUATIONS } from '../../sim/qualys-connectors';
import { DEFAULT_USER, QualysSimulator, type SimulatorOptions } from '../../sim/qualys-simulator';
import { QUALYS_ROLE_ARN, qualysTrust } from '../support/fixtures';
import { type RawAnswer, type RawRequest, rawHttp, vmBody } from '../support/qualys-wire';

const T0 = 1_700_000_000_000;
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/qualys-cspm`;
const EXT = 'qualys-cspm-3f1c2a9e-stack-a';
const QUALYS_ACCOUNT = '805950163170';
const QPS = '/qps/rest/3.0';
const CONNECTOR = `${QPS}/create/am/awsassetdataconnector`;
const SEARCH = `${QPS}/search/am/awsassetdataconnector`;
const ERRORS = `${QPS}/search/am/assetdataconnectorerrors`;
const CV = '/cloudview-api/rest/1.5';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let now = T0;
const clock = () => now;
let sim: QualysSimulator;

async function startSim(opts: SimulatorOptions = {}): Promise<void> {
  if (sim) await sim.stop();
  now = T0;
  sim = new QualysSimulator({ now: clock, ...opts });
  await sim.start();
}

beforeEach(async () => {
  await startSim();
});

afterAll(async () => {
  await sim.stop();
});

const basic = (username = DEFAULT_USER.username, password = DEFAULT_USER.password) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

interface Call extends RawRequest {
  /** The Authorization header; null sends none. @default Basic with the default user */
  auth?: string | null;
}

function send(base: string, method: string, path: string, opts: Call = {}): Promise<RawAnswer> {
  const { auth, ...rest } = opts;
  const headers = { ...(auth === null ? {} : { authorization: auth ?? basic() }), ...rest.headers };
  return rawHttp(`${base}${path}`, method, { ...rest, headers });
}
const api = (method: string, path: string, opts?: Call) => send(sim.apiUrl, method, path, opts);
const gateway = (method: string, path: string, opts?: Call) => send(sim.url, method, path, opts);

async function jwt(): Promise<string> {
  const res = await rawHttp(`${sim.url}/auth`, 'POST', {
    form: new URLSearchParams({
      username: DEFAULT_USER.username,
      password: DEFAULT_USER.password,
      token: 'true',
    }).toString(),
  });
  expect(res.status).toBe(200);
  return res.text;
}

const sr = (res: RawAnswer) => res.json().ServiceResponse;

const apps = (identifier = ROLE, names = ['AI', 'CI', 'CSA']) => ({
  set: { ConnectorAppInfoQList: [{ set: { ConnectorAppInfo: names.map((name) => ({ name, identifier })) } }] },
});

/** The create body of Qualys's own scripts (ref §2). */
function qpsBody(fields: Record<string, unknown> = {}) {
  return {
    ServiceRequest: {
      data: {
        AwsAssetDataConnector: {
          name: `cspm-${ACCOUNT}`,
          description: 'registered by cdk deploy',
          arn: ROLE,
          externalId: EXT,
          disabled: false,
          allRegions: true,
          runFrequency: 240,
          isRemediationEnabled: false,
          activation: { set: { ActivationModule: ['VM', 'PC'] } },
          connectorAppInfos: apps(),
          ...fields,
        },
      },
    },
  };
}

async function qpsCreate(fields: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await api('POST', CONNECTOR, { json: qpsBody(fields) });
  expect(res.status).toBe(200);
  expect(sr(res).responseCode).toBe('SUCCESS');
  return sr(res).data[0].AwsAssetDataConnector;
}

/** The guide's Example 4 body (guide l.989-995). */
const cvBody = (fields: Record<string, unknown> = {}) => ({
  arn: ROLE,
  description: 'registered by cdk deploy',
  externalId: EXT,
  name: `cspm-${ACCOUNT}`,
  qualysAccountId: QUALYS_ACCOUNT,
  ...fields,
});

async function cvCreate(fields: Record<string, unknown> = {}, version = '1.5'): Promise<Record<string, any>> {
  const res = await api('POST', `/cloudview-api/rest/${version}/aws/connectors`, { json: cvBody(fields) });
  expect(res.status).toBe(201);
  return res.json();
}

const qpsRequest = (inner: Record<string, unknown>) => ({ ServiceRequest: inner });
const criteria = (...list: Array<[string, string, string]>) =>
  qpsRequest({ filters: { Criteria: list.map(([field, operator, value]) => ({ field, operator, value })) } });

// ---- hosts and authentication ------------------------------------------------------------------

describe('hosts and authentication', () => {
  test('GIVEN a started simulator WHEN reading its URLs THEN the gateway and the API server are two listeners sharing one store', async () => {
    expect(sim.apiUrl).not.toBe(sim.url);
    const created = await qpsCreate();
    const listed = (await api('GET', `${CV}/aws/connectors?pageNo=1`)).json();
    expect(listed.content).toEqual([
      expect.objectContaining({ connectorId: created.cloudviewUuid, name: created.name }),
    ]);
    expect(await sim.connectors()).toHaveLength(1);
  });

  test.each([
    ['QPS', `${QPS}/get/am/awsassetdataconnector/1001`],
    ['CloudView', `${CV}/aws/connectors`],
  ])('GIVEN a %s call WHEN sent to the gateway THEN 404, what a wrong host answers', async (_api, path) => {
    await qpsCreate();
    for (const auth of [basic(), `Bearer ${await jwt()}`]) {
      const res = await gateway('GET', path, { auth });
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ messsage: expect.stringMatching(/No handler found/) });
    }
  });

  test.each([
    ['the S3 integration list', 'GET', '/partner-integration/aws/s3/vm'],
    ['POST /auth', 'POST', '/auth'],
  ])('GIVEN %s WHEN sent to the API server THEN 404 (it lives on the gateway)', async (_case, method, path) => {
    const res = await api(method, path);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
  });

  test('GIVEN Basic credentials WHEN calling the gateway S3 API THEN 401: the gateway takes only its JWT', async () => {
    expect((await gateway('GET', '/partner-integration/aws/s3/vm', { auth: basic() })).status).toBe(401);
  });

  test.each([
    ['QPS', 'POST', SEARCH],
    ['CloudView', 'GET', `${CV}/aws/connectors?pageNo=1`],
  ])(
    'GIVEN a JWT from POST /auth WHEN calling %s on the API server THEN 401 with a reason',
    async (name, method, path) => {
      const res = await api(method, path, { auth: `Bearer ${await jwt()}` });
      expect(res.status).toBe(401);
      expect(res.text).toMatch(/Bearer token is not accepted/);
      if (name === 'QPS') expect(sr(res).responseCode).toBe('INVALID_CREDENTIALS');
    },
  );

  test('GIVEN no Authorization WHEN calling the API server THEN 401 with a Basic challenge', async () => {
    const res = await api('POST', SEARCH, { auth: null });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
  });

  test('GIVEN bad Basic passwords WHEN repeated THEN the user is locked for /auth too, as one account', async () => {
    for (let i = 0; i < 5; i++)
      expect((await api('POST', SEARCH, { auth: basic(DEFAULT_USER.username, 'wrong') })).status).toBe(401);
    expect(sim.isLocked(DEFAULT_USER.username)).toBe(true);
    const locked = await api('POST', SEARCH);
    expect(locked.status).toBe(401);
    expect(locked.text).toMatch(/locked/);
    sim.unlock();
    expect((await api('POST', SEARCH)).status).toBe(200);
  });

  test("GIVEN the 'gateway-jwt' reading WHEN CloudView is called on the gateway THEN a JWT works and Basic is refused; QPS stays a wrong host", async () => {
    sim.connectorDialect = 'gateway-jwt';
    const token = await jwt();
    expect((await gateway('GET', `${CV}/aws/connectors?pageNo=1`, { auth: `Bearer ${token}` })).status).toBe(200);
    const refused = await gateway('GET', `${CV}/aws/connectors?pageNo=1`, { auth: basic() });
    expect(refused.status).toBe(401);
    expect(refused.json().message).toMatch(/Basic authentication is not accepted/);
    expect((await gateway('POST', SEARCH, { auth: `Bearer ${token}` })).status).toBe(404);
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`)).status).toBe(200);
  });

  test('GIVEN users denied each connector API WHEN calling it THEN 403 (QPS: UNAUTHORIZED in the body, 200 or 403 by reading)', async () => {
    await startSim({
      users: [
        { username: 'no-qps', password: 'pw-1', denied: ['qps'] },
        { username: 'no-cv', password: 'pw-2', denied: ['cloudview'] },
      ],
    });
    const qps = await api('POST', SEARCH, { auth: basic('no-qps', 'pw-1') });
    expect([qps.status, sr(qps).responseCode]).toEqual([200, 'UNAUTHORIZED']);
    sim.connectorDialect = 'qps-http-errors';
    expect((await api('POST', SEARCH, { auth: basic('no-qps', 'pw-1') })).status).toBe(403);
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`, { auth: basic('no-qps', 'pw-1') })).status).toBe(200);
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`, { auth: basic('no-cv', 'pw-2') })).status).toBe(403);
    expect((await api('POST', SEARCH, { auth: basic('no-cv', 'pw-2') })).status).toBe(200);
  });

  test('GIVEN calls to both hosts WHEN reading the call log THEN each names its host and API, Basic passwords are masked, and API-server keys are prefixed', async () => {
    const token = await jwt();
    await qpsCreate();
    await api('GET', `${QPS}/get/am/awsassetdataconnector/1001`);
    await api('GET', `${CV}/aws/connectors?pageNo=1`);
    await gateway('GET', `${QPS}/get/am/awsassetdataconnector/1001`, { auth: `Bearer ${token}` });
    await gateway('GET', '/partner-integration/aws/s3/vm', { auth: `Bearer ${token}` });
    expect(sim.calls.map((c) => [c.host, c.api, c.status])).toEqual([
      ['gateway', 'auth', 200],
      ['api', 'qps', 200],
      ['api', 'qps', 200],
      ['api', 'cloudview', 200],
      ['gateway', 'qps', 404],
      ['gateway', 's3', 200],
    ]);
    expect(sim.calls[1].authorization).toBe(`Basic ${DEFAULT_USER.username}:***`);
    expect(JSON.stringify(sim.calls)).not.toContain(DEFAULT_USER.password);
    expect(JSON.stringify(sim.calls)).not.toContain(basic().slice(6));
    expect(sim.callCounts()).toEqual({
      'POST /auth': 1,
      'api POST /qps/rest/3.0/create/am/awsassetdataconnector': 1,
      'api GET /qps/rest/3.0/get/am/awsassetdataconnector/{id}': 1,
      'api GET /cloudview-api/rest/1.5/aws/connectors': 1,
      'GET /qps/rest/3.0/get/am/awsassetdataconnector/{id}': 1,
      'GET /partner-integration/aws/s3/vm': 1,
    });
  });

  test('GIVEN the connector APIs mounted WHEN the S3 API is used on the gateway THEN it works as before', async () => {
    const token = await jwt();
    const res = await gateway('POST', '/partner-integration/aws/s3/vm', { auth: `Bearer ${token}`, json: vmBody() });
    expect(res.status).toBe(200);
    expect(sim.integrations('vm')).toHaveLength(1);
  });
});

// ---- Connectors 3.0 (QPS) ------------------------------------------------------------------------

describe('Connectors 3.0 (QPS)', () => {
  test('GIVEN the scripts’ create body WHEN creating THEN SUCCESS with the object in data[0], list wrappers, booleans as strings, and a first run QUEUED', async () => {
    const res = await api('POST', CONNECTOR, { json: qpsBody() });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const answer = sr(res);
    expect(answer).toMatchObject({ responseCode: 'SUCCESS', count: 1 });
    expect(answer.data).toHaveLength(1);
    const c = answer.data[0].AwsAssetDataConnector;
    expect(c).toMatchObject({
      id: 1001,
      name: `cspm-${ACCOUNT}`,
      arn: ROLE,
      externalId: EXT,
      awsAccountId: ACCOUNT,
      qualysAwsAccountId: QUALYS_ACCOUNT,
      cloudviewUuid: expect.stringMatching(UUID_RE),
      connectorState: 'QUEUED',
      disabled: 'false',
      allRegions: 'true',
      isRemediationEnabled: 'false',
      runFrequency: 240,
      activation: { list: { ActivationModule: ['VM', 'PC'] } },
      connectorAppInfos: {
        list: {
          ConnectorAppInfoQList: [
            {
              list: {
                ConnectorAppInfo: [
                  { name: 'AI', identifier: ROLE },
                  { name: 'CI', identifier: ROLE },
                  { name: 'CSA', identifier: ROLE },
                ],
              },
            },
          ],
        },
      },
    });
    const [stored] = await sim.connectors();
    expect(stored).toMatchObject({ id: 1001, createdVia: 'qps', state: 'QUEUED', apps: expect.any(Array) });
    expect(stored.runs).toEqual([expect.objectContaining({ trigger: 'create', requestedAt: T0, startsAt: T0 + 5000 })]);
  });

  test('GIVEN a connector WHEN getting it by id THEN the same object; an unknown id is OBJECT_NOT_FOUND under HTTP 200; a non-numeric one INVALID_REQUEST', async () => {
    const created = await qpsCreate();
    const got = await api('GET', `${QPS}/get/am/awsassetdataconnector/${created.id}`);
    expect(sr(got)).toEqual({ responseCode: 'SUCCESS', count: 1, data: [{ AwsAssetDataConnector: created }] });
    const missing = await api('GET', `${QPS}/get/am/awsassetdataconnector/999`);
    expect(missing.status).toBe(200);
    expect(sr(missing)).toEqual({
      responseCode: 'OBJECT_NOT_FOUND',
      responseErrorDetails: { errorMessage: expect.stringMatching(/999 not found/) },
    });
    expect(sr(await api('GET', `${QPS}/get/am/awsassetdataconnector/abc`)).responseCode).toBe('INVALID_REQUEST');
  });

  test('GIVEN connectors in two accounts WHEN searching by awsAccountId, name, IN and CONTAINS THEN only the matches, criteria ANDed', async () => {
    await qpsCreate();
    await qpsCreate({ name: 'other', arn: 'arn:aws:iam::210987654321:role/qualys-cspm' });
    const byAccount = sr(await api('POST', SEARCH, { json: criteria(['awsAccountId', 'EQUALS', ACCOUNT]) }));
    expect(byAccount).toMatchObject({ responseCode: 'SUCCESS', count: 1, hasMoreRecords: 'false' });
    expect(byAccount.data.map((d: any) => d.AwsAssetDataConnector.name)).toEqual([`cspm-${ACCOUNT}`]);
    const both = sr(await api('POST', SEARCH, { json: criteria(['awsAccountId', 'IN', `${ACCOUNT},210987654321`]) }));
    expect(both.count).toBe(2);
    const anded = sr(
      await api('POST', SEARCH, { json: criteria(['awsAccountId', 'EQUALS', ACCOUNT], ['name', 'EQUALS', 'other']) }),
    );
    expect(anded).toMatchObject({ count: 0, data: [] });
    expect(sr(await api('POST', SEARCH, { json: criteria(['name', 'CONTAINS', 'OTH']) })).count).toBe(1);
    expect(sr(await api('POST', SEARCH)).count).toBe(2);
  });

  test('GIVEN five connectors WHEN searching with limitResults 2 THEN hasMoreRecords and lastId page through them, by startFromId or startFromOffset', async () => {
    sim.connectorDialect = { uniqueness: 'none' };
    for (let i = 0; i < 5; i++) await qpsCreate({ name: `c${i}` });
    const page = (prefs: Record<string, unknown>) =>
      api('POST', SEARCH, { json: qpsRequest({ preferences: prefs }) }).then(sr);
    const first = await page({ limitResults: 2 });
    expect(first).toMatchObject({ count: 2, hasMoreRecords: 'true', lastId: 1002 });
    const second = await page({ limitResults: 2, startFromId: first.lastId + 1 });
    expect(second.data.map((d: any) => d.AwsAssetDataConnector.id)).toEqual([1003, 1004]);
    const last = await page({ limitResults: 2, startFromOffset: 5 });
    expect(last).toMatchObject({ count: 1, hasMoreRecords: 'false' });
    expect(last.lastId).toBeUndefined();
    const bad = sr(
      await api('POST', SEARCH, {
        json: qpsRequest({ preferences: { limitResults: 0, startFromId: 1, startFromOffset: 1 } }),
      }),
    );
    expect(bad.responseCode).toBe('INVALID_REQUEST');
    expect(bad.responseErrorDetails.errorMessage).toMatch(/limitResults.*not both/);
  });

  test('GIVEN a bad criterion WHEN searching THEN INVALID_REQUEST naming every problem', async () => {
    const res = sr(
      await api('POST', SEARCH, {
        json: qpsRequest({
          filters: {
            Criteria: [
              { field: 'color', operator: 'EQUALS', value: 'red' },
              { field: 'name', operator: 'GREATER', value: 'a' },
              { field: 'awsAccountId', operator: 'EQUALS', value: 123456789012 },
            ],
          },
        }),
      }),
    );
    expect(res.responseCode).toBe('INVALID_REQUEST');
    expect(res.responseErrorDetails.errorMessage).toMatch(
      /"color" is not searchable.*"GREATER" is not supported.*non-empty string/,
    );
  });

  test('GIVEN a connector WHEN updating it THEN the answer holds the id only, and the change is stored and shown', async () => {
    const created = await qpsCreate();
    const res = await api('POST', `${QPS}/update/am/awsassetdataconnector/${created.id}`, {
      json: qpsRequest({ data: { AwsAssetDataConnector: { name: 'renamed', runFrequency: 720, description: 'new' } } }),
    });
    expect(sr(res)).toEqual({
      responseCode: 'SUCCESS',
      count: 1,
      data: [{ AwsAssetDataConnector: { id: created.id } }],
    });
    const got = sr(await api('GET', `${QPS}/get/am/awsassetdataconnector/${created.id}`)).data[0].AwsAssetDataConnector;
    expect(got).toMatchObject({ name: 'renamed', runFrequency: 720, description: 'new', arn: ROLE, externalId: EXT });
    const missing = sr(
      await api('POST', `${QPS}/update/am/awsassetdataconnector/999`, {
        json: qpsRequest({ data: { AwsAssetDataConnector: { name: 'x' } } }),
      }),
    );
    expect(missing.responseCode).toBe('OBJECT_NOT_FOUND');
  });

  test('GIVEN a connector WHEN deleting it twice THEN SUCCESS with its id, then OBJECT_NOT_FOUND (already gone)', async () => {
    const created = await qpsCreate();
    const path = `${QPS}/delete/am/awsassetdataconnector/${created.id}`;
    expect(sr(await api('POST', path))).toEqual({
      responseCode: 'SUCCESS',
      count: 1,
      data: [{ AwsAssetDataConnector: { id: created.id } }],
    });
    expect(await sim.connectors()).toEqual([]);
    expect(sr(await api('POST', path, { json: qpsRequest({}) })).responseCode).toBe('OBJECT_NOT_FOUND');
  });

  test('GIVEN a finished connector WHEN running it THEN SUCCESS with its id and QUEUED, and a second run is recorded', async () => {
    const created = await qpsCreate();
    now += 60_000;
    const res = sr(await api('POST', `${QPS}/run/am/awsassetdataconnector/${created.id}`));
    expect(res).toEqual({
      responseCode: 'SUCCESS',
      count: 1,
      data: [{ AwsAssetDataConnector: { id: created.id, connectorState: 'QUEUED' } }],
    });
    expect((await sim.connector(created.id))?.runs.map((r) => r.trigger)).toEqual(['create', 'run']);
    expect(sr(await api('POST', `${QPS}/run/am/awsassetdataconnector/999`)).responseCode).toBe('OBJECT_NOT_FOUND');
  });

  test('GIVEN a failed run WHEN searching assetdataconnectorerrors by connectorId THEN its errors, naming the role and the app', async () => {
    sim.trustChecker = () => ({ ok: false, reason: 'the trust policy lacks the external ID' });
    const created = await qpsCreate();
    await qpsCreate({ name: 'second', arn: 'arn:aws:iam::210987654321:role/r', connectorAppInfos: undefined });
    now += 60_000;
    const res = sr(await api('POST', ERRORS, { json: criteria(['connectorId', 'EQUALS', String(created.id)]) }));
    expect(res).toMatchObject({ responseCode: 'SUCCESS', count: 3, hasMoreRecords: 'false' });
    expect(res.data.map((d: any) => d.AssetDataConnectorError)).toEqual(
      ['AI', 'CI', 'CSA'].map((module) => ({
        id: expect.any(Number),
        connectorId: created.id,
        module,
        errorMessage: expect.stringMatching(new RegExp(`^Unable to assume role ${ROLE}.*lacks the external ID$`)),
        occurredOn: new Date(T0 + 5000).toISOString().replace('.000Z', 'Z'),
      })),
    );
    expect(sr(await api('POST', ERRORS)).count).toBe(4);
    const wrongField = sr(
      await api('POST', ERRORS, { json: criteria(['connector.id', 'EQUALS', String(created.id)]) }),
    );
    expect(wrongField.responseCode).toBe('INVALID_REQUEST');
  });

  test.each([
    ['GET on create', 'GET', CONNECTOR, 405],
    ['POST on get', 'POST', `${QPS}/get/am/awsassetdataconnector/1`, 405],
    ['create with an id', 'POST', `${CONNECTOR}/1`, 404],
    ['update without an id', 'POST', `${QPS}/update/am/awsassetdataconnector`, 404],
    ['another object', 'POST', `${QPS}/search/am/azureassetdataconnector`, 404],
    ['the 2.0 run (not served by default)', 'POST', '/qps/rest/2.0/run/am/awsassetdataconnector/1', 404],
    ['a trailing slash', 'POST', `${SEARCH}/`, 404],
  ])('GIVEN %s WHEN calling THEN %s', async (_case, method, path, status) => {
    const res = await api(method, path);
    expect(res.status).toBe(status);
    if (status === 405) expect(res.headers.allow).toBe(method === 'GET' ? 'POST' : 'GET');
  });

  test('GIVEN a body that is not JSON WHEN creating THEN 415; malformed JSON or no envelope THEN INVALID_REQUEST', async () => {
    const xml = await api('POST', CONNECTOR, { body: '<ServiceRequest/>', headers: { 'content-type': 'text/xml' } });
    expect(xml.status).toBe(415);
    const malformed = await api('POST', CONNECTOR, {
      body: '{"ServiceRequest":',
      headers: { 'content-type': 'application/json' },
    });
    expect(sr(malformed).responseErrorDetails.errorMessage).toMatch(/not well-formed JSON/);
    const bare = await api('POST', CONNECTOR, { json: qpsBody().ServiceRequest.data.AwsAssetDataConnector });
    expect(sr(bare).responseErrorDetails.errorMessage).toMatch(/unrecognized fields? .*in the request body/);
    const empty = await api('POST', CONNECTOR, { body: '', headers: { 'content-type': 'application/json' } });
    expect(sr(empty).responseErrorDetails.errorMessage).toMatch(/request body is required/);
  });
});

describe('QPS readings', () => {
  test("GIVEN qpsBooleans 'boolean' and qpsNumbers 'string' WHEN reading THEN booleans are JSON booleans and numbers strings", async () => {
    sim.connectorDialect = { qpsBooleans: 'boolean', qpsNumbers: 'string' };
    const c = await qpsCreate();
    expect(c).toMatchObject({ id: '1001', runFrequency: '240', disabled: false, allRegions: true });
    expect(sr(await api('POST', SEARCH))).toMatchObject({ count: '1', hasMoreRecords: false });
  });

  test("GIVEN qpsErrorStatus 'http' WHEN a call is refused THEN the HTTP status matches the responseCode", async () => {
    sim.connectorDialect = 'qps-http-errors';
    const missing = await api('GET', `${QPS}/get/am/awsassetdataconnector/999`);
    expect([missing.status, sr(missing).responseCode]).toEqual([404, 'OBJECT_NOT_FOUND']);
    const invalid = await api('POST', CONNECTOR, { json: qpsBody({ arn: 'nope' }) });
    expect([invalid.status, sr(invalid).responseCode]).toEqual([400, 'INVALID_REQUEST']);
  });

  test("GIVEN qpsDefaultFormat 'xml' WHEN Accept does not name JSON THEN XML; with Accept: application/json THEN JSON", async () => {
    sim.connectorDialect = 'qps-xml';
    const created = await api('POST', CONNECTOR, { json: qpsBody() });
    expect(created.headers['content-type']).toMatch(/^application\/xml/);
    expect(created.text).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<ServiceResponse><responseCode>SUCCESS<\/responseCode><count>1<\/count><data><AwsAssetDataConnector><id>1001<\/id>/,
    );
    expect(created.text).toContain(
      '<activation><list><ActivationModule>VM</ActivationModule><ActivationModule>PC</ActivationModule></list></activation>',
    );
    expect(created.text).toContain('<disabled>false</disabled>');
    for (const accept of ['*/*', 'application/xml']) {
      expect((await api('POST', SEARCH, { headers: { accept } })).headers['content-type']).toMatch(/^application\/xml/);
    }
    const asked = await api('POST', SEARCH, { headers: { accept: 'application/json' } });
    expect(asked.headers['content-type']).toMatch(/^application\/json/);
    expect(sr(asked).count).toBe(1);
    const refused = await api('GET', `${QPS}/get/am/awsassetdataconnector/9`);
    expect(refused.text).toContain('<responseCode>OBJECT_NOT_FOUND</responseCode>');
  });

  test("GIVEN the default 'json' WHEN Accept asks only for XML THEN XML", async () => {
    const res = await api('POST', SEARCH, { headers: { accept: 'application/xml' } });
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    expect(res.text).toContain('<hasMoreRecords>false</hasMoreRecords>');
  });

  test.each([
    ['v3', ['3.0'], ['2.0']],
    ['v2', ['2.0'], ['3.0']],
    ['both', ['3.0', '2.0'], []],
  ] as const)(
    "GIVEN qpsRun '%s' WHEN running by each version's path THEN only the served ones work",
    async (qpsRun, served, absent) => {
      sim.connectorDialect = { qpsRun, runWhileBusy: 'accept' };
      const { id } = await qpsCreate();
      for (const v of served)
        expect(sr(await api('POST', `/qps/rest/${v}/run/am/awsassetdataconnector/${id}`)).responseCode).toBe('SUCCESS');
      for (const v of absent)
        expect((await api('POST', `/qps/rest/${v}/run/am/awsassetdataconnector/${id}`)).status).toBe(404);
    },
  );

  test("GIVEN qpsErrorsCriterion 'connector.id' WHEN searching errors THEN that field works and connectorId is refused", async () => {
    sim.connectorDialect = { qpsErrorsCriterion: 'connector.id' };
    sim.trustChecker = () => ({ ok: false, reason: 'denied' });
    const { id } = await qpsCreate({ connectorAppInfos: undefined });
    now += 60_000;
    expect(sr(await api('POST', ERRORS, { json: criteria(['connector.id', 'EQUALS', String(id)]) })).count).toBe(1);
    expect(sr(await api('POST', ERRORS, { json: criteria(['connectorId', 'EQUALS', String(id)]) })).responseCode).toBe(
      'INVALID_REQUEST',
    );
  });

  test("GIVEN qpsEmptyData 'absent' WHEN a search matches nothing THEN no data key; 'empty-array' THEN data: []", async () => {
    expect(sr(await api('POST', SEARCH))).toEqual({
      responseCode: 'SUCCESS',
      count: 0,
      hasMoreRecords: 'false',
      data: [],
    });
    sim.connectorDialect = { qpsEmptyData: 'absent' };
    expect(sr(await api('POST', SEARCH))).toEqual({ responseCode: 'SUCCESS', count: 0, hasMoreRecords: 'false' });
  });
});

// ---- CloudView REST ------------------------------------------------------------------------------

describe('CloudView REST', () => {
  test('GIVEN the guide’s Example 4 body WHEN creating THEN 201 with the Swagger’s fields, and the first run QUEUED', async () => {
    const res = await api('POST', `${CV}/aws/connectors`, { json: cvBody() });
    expect(res.status).toBe(201);
    expect(res.json()).toEqual({
      connectorId: expect.stringMatching(UUID_RE),
      name: `cspm-${ACCOUNT}`,
      description: 'registered by cdk deploy',
      arn: ROLE,
      externalId: EXT,
      awsAccountId: ACCOUNT,
      baseAccountId: QUALYS_ACCOUNT,
      state: 'QUEUED',
      lastSyncedOn: null,
      nextSyncedOn: '2023-11-15T02:13:45+0000',
      error: null,
      totalAssets: 0,
      isGovCloud: false,
      isChinaRegion: false,
      isPortalConnector: false,
      pollingFrequency: { hours: 4, minutes: 0 },
      remediationEnabled: false,
    });
    expect((await sim.connectors())[0]).toMatchObject({
      createdVia: 'cloudview',
      apps: [{ name: 'AI' }, { name: 'CI' }, { name: 'CSA' }],
    });
  });

  test('GIVEN three connectors WHEN listing page by page THEN the guide’s page shape, pageNo=1 first and number 0', async () => {
    sim.connectorDialect = { uniqueness: 'none' };
    for (const name of ['a', 'b', 'c']) {
      await cvCreate({ name });
      now += 1;
    }
    const first = (await api('GET', `${CV}/aws/connectors?pageNo=1&pageSize=2`)).json();
    expect(first).toEqual({
      content: [expect.objectContaining({ name: 'a' }), expect.objectContaining({ name: 'b' })],
      last: false,
      totalPages: 2,
      totalElements: 3,
      sort: null,
      first: true,
      numberOfElements: 2,
      size: 2,
      number: 0,
    });
    const second = (await api('GET', `${CV}/aws/connectors?pageNo=2&pageSize=2`)).json();
    expect(second).toMatchObject({
      content: [expect.objectContaining({ name: 'c' })],
      last: true,
      first: false,
      number: 1,
    });
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`)).json().size).toBe(20);
  });

  test.each([
    ['no pageNo', '', /Required request parameter 'pageNo'/],
    ['pageNo=0 (the first page is 1)', '?pageNo=0', /pageNo must be one integer from 1/],
    ['pageSize=0', '?pageNo=1&pageSize=0', /pageSize must be one integer from 1 to 1000/],
    ['two pageNo', '?pageNo=1&pageNo=2', /pageNo must be one integer/],
  ])('GIVEN %s WHEN listing THEN 400 in Spring’s error shape', async (_case, query, message) => {
    const res = await api('GET', `${CV}/aws/connectors${query}`);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      timestamp: new Date(T0).toISOString(),
      status: 400,
      error: 'Bad Request',
      message: expect.stringMatching(message),
      path: `${CV}/aws/connectors`,
    });
  });

  test('GIVEN a connector WHEN getting it THEN its details; an unknown UUID 404; a malformed one 400', async () => {
    const created = await cvCreate();
    const got = await api('GET', `${CV}/aws/connectors/${created.connectorId}`);
    expect(got.status).toBe(200);
    expect(got.json()).toEqual(created);
    expect((await api('GET', `${CV}/aws/connectors/7b0c4f5e-0d3e-4b8a-9d44-1a2b3c4d5e6f`)).status).toBe(404);
    const bad = await api('GET', `${CV}/aws/connectors/1001`);
    expect(bad.status).toBe(400);
    expect(bad.json().message).toMatch(/java\.util\.UUID/);
  });

  test("GIVEN cloudViewUpdate 'full' (default) WHEN PUT lacks a required field THEN 400; with them all THEN 200 and omitted optionals reset", async () => {
    const created = await cvCreate({ pollingFrequency: { hours: 12, minutes: 30 }, remediationEnabled: true });
    const path = `${CV}/aws/connectors/${created.connectorId}`;
    const partial = await api('PUT', path, { json: { name: 'renamed' } });
    expect(partial.status).toBe(400);
    expect(partial.json().message).toMatch(/arn is required; externalId is required/);
    const full = await api('PUT', path, { json: { name: 'renamed', arn: ROLE, externalId: EXT } });
    expect(full.status).toBe(200);
    expect(full.json()).toMatchObject({
      name: 'renamed',
      description: '',
      pollingFrequency: { hours: 4, minutes: 0 },
      remediationEnabled: false,
    });
    expect(
      (await api('PUT', `${CV}/aws/connectors/7b0c4f5e-0d3e-4b8a-9d44-1a2b3c4d5e6f`, { json: cvBody() })).status,
    ).toBe(404);
  });

  test("GIVEN cloudViewUpdate 'partial' WHEN PUT sends one field THEN only it changes", async () => {
    sim.connectorDialect = { cloudViewUpdate: 'partial' };
    const created = await cvCreate({ pollingFrequency: { hours: 12, minutes: 30 } });
    const res = await api('PUT', `${CV}/aws/connectors/${created.connectorId}`, { json: { description: 'new' } });
    expect(res.json()).toEqual({ ...created, description: 'new' });
  });

  test("GIVEN cloudViewDeleteIds 'array' (the Swagger, default) WHEN deleting THEN 200 and gone; an unknown ID 404 and nothing deleted; other shapes 400", async () => {
    const a = await cvCreate();
    const b = await cvCreate({ name: 'b', arn: 'arn:aws:iam::210987654321:role/r' });
    const unknown = '7b0c4f5e-0d3e-4b8a-9d44-1a2b3c4d5e6f';
    const refused = await api('DELETE', `${CV}/aws/connectors`, { json: [a.connectorId, unknown] });
    expect(refused.status).toBe(404);
    expect(refused.json().message).toContain(unknown);
    expect(await sim.connectors()).toHaveLength(2);
    expect((await api('DELETE', `${CV}/aws/connectors`, { json: { connectorIds: [a.connectorId] } })).status).toBe(400);
    expect((await api('DELETE', `${CV}/aws/connectors?connectorIds=${a.connectorId}`)).status).toBe(400);
    expect((await api('DELETE', `${CV}/aws/connectors`, { json: [] })).status).toBe(400);
    expect((await api('DELETE', `${CV}/aws/connectors`, { json: ['not-a-uuid'] })).status).toBe(400);
    const done = await api('DELETE', `${CV}/aws/connectors`, { json: [a.connectorId, b.connectorId] });
    expect([done.status, done.text]).toEqual([200, '']);
    expect(await sim.connectors()).toEqual([]);
    expect((await api('DELETE', `${CV}/aws/connectors/${a.connectorId}`)).status).toBe(405);
  });

  test.each([
    ['comma', (id: string) => ({ query: `?connectorIds=${id}` })],
    ['object', (id: string) => ({ json: { connectorIds: [id] } })],
  ] as const)(
    "GIVEN cloudViewDeleteIds and cloudViewRunIds '%s' WHEN deleting and running THEN that shape works and the Swagger's array is refused",
    async (shape, ids) => {
      sim.connectorDialect = { cloudViewDeleteIds: shape, cloudViewRunIds: shape };
      const created = await cvCreate();
      now += 60_000;
      const wrong = await api('POST', `${CV}/aws/connectors/run`, { json: [created.connectorId] });
      expect(wrong.status).toBe(400);
      const { query = '', json } = ids(created.connectorId) as { query?: string; json?: unknown };
      expect((await api('POST', `${CV}/aws/connectors/run${query}`, { json })).status).toBe(200);
      expect((await sim.connector(created.connectorId))?.runs).toHaveLength(2);
      expect((await api('DELETE', `${CV}/aws/connectors${query}`, { json })).status).toBe(200);
      expect(await sim.connectors()).toEqual([]);
    },
  );

  test("GIVEN cloudViewDeleteMissing 'ignored' and cloudViewNoContent '204' WHEN deleting an unknown ID THEN 204 with no body", async () => {
    sim.connectorDialect = { cloudViewDeleteMissing: 'ignored', cloudViewNoContent: '204' };
    const res = await api('DELETE', `${CV}/aws/connectors`, { json: ['7b0c4f5e-0d3e-4b8a-9d44-1a2b3c4d5e6f'] });
    expect([res.status, res.text, res.headers['content-type']]).toEqual([204, '', undefined]);
  });

  test('GIVEN a connector WHEN running it by the array body THEN 200, a new run; an unknown ID 404', async () => {
    const created = await cvCreate();
    now += 60_000;
    const res = await api('POST', `${CV}/aws/connectors/run`, { json: [created.connectorId] });
    expect([res.status, res.text]).toEqual([200, '']);
    expect((await api('GET', `${CV}/aws/connectors/${created.connectorId}`)).json().state).toBe('QUEUED');
    expect(
      (await api('POST', `${CV}/aws/connectors/run`, { json: ['7b0c4f5e-0d3e-4b8a-9d44-1a2b3c4d5e6f'] })).status,
    ).toBe(404);
    expect((await api('GET', `${CV}/aws/connectors/run`)).status).toBe(400);
  });

  test('GIVEN a failed run WHEN reading its errors THEN a page of them, and the details carry the first as error', async () => {
    sim.trustChecker = () => ({ ok: false, reason: 'no trust policy statement allows it' });
    const created = await cvCreate();
    now += 60_000;
    const res = (await api('GET', `${CV}/aws/connectors/${created.connectorId}/errors?pageNo=1&pageSize=2`)).json();
    expect(res).toMatchObject({ totalElements: 3, totalPages: 2, numberOfElements: 2, first: true, last: false });
    expect(res.content[0]).toEqual({
      errorMessage: expect.stringMatching(/^Unable to assume role .*no trust policy statement allows it$/),
      module: 'AI',
      occurredOn: '2023-11-14T22:13:25+0000',
    });
    const details = (await api('GET', `${CV}/aws/connectors/${created.connectorId}`)).json();
    expect(details).toMatchObject({
      state: 'FINISHED_ERRORS',
      error: res.content[0].errorMessage,
      lastSyncedOn: '2023-11-14T22:13:45+0000',
    });
    expect((await api('GET', `${CV}/aws/connectors/7b0c4f5e-0d3e-4b8a-9d44-1a2b3c4d5e6f/errors?pageNo=1`)).status).toBe(
      404,
    );
  });

  test.each([
    ['object', 'application/json', { qualysAwsAccountId: QUALYS_ACCOUNT }],
    ['json-string', 'application/json', QUALYS_ACCOUNT],
    ['text', 'text/plain', QUALYS_ACCOUNT],
  ] as const)(
    "GIVEN cloudViewQualysAccount '%s' WHEN asking qualysAwsAccountId THEN that form",
    async (form, type, value) => {
      sim.connectorDialect = { cloudViewQualysAccount: form };
      const res = await api('GET', `${CV}/aws/connectors/qualysAwsAccountId`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(new RegExp(`^${type}`));
      expect(form === 'text' ? res.text : res.json()).toEqual(value);
    },
  );

  test('GIVEN an Accept header that admits no JSON WHEN calling THEN 406', async () => {
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`, { headers: { accept: 'application/xml' } })).status).toBe(
      406,
    );
    sim.connectorDialect = { cloudViewQualysAccount: 'text' };
    expect(
      (await api('GET', `${CV}/aws/connectors/qualysAwsAccountId`, { headers: { accept: 'application/json' } })).status,
    ).toBe(406);
  });

  test.each([
    ['1.5', ['1.5'], ['v1']],
    ['v1', ['v1'], ['1.5']],
    ['both', ['1.5', 'v1'], []],
  ] as const)(
    "GIVEN cloudViewVersions '%s' WHEN listing under each version THEN only the served ones answer",
    async (cloudViewVersions, served, absent) => {
      sim.connectorDialect = { cloudViewVersions };
      for (const v of served)
        expect((await api('GET', `/cloudview-api/rest/${v}/aws/connectors?pageNo=1`)).status).toBe(200);
      for (const v of absent)
        expect((await api('GET', `/cloudview-api/rest/${v}/aws/connectors?pageNo=1`)).status).toBe(404);
    },
  );

  test("GIVEN cloudViewWriteAnswer 'empty' WHEN creating and updating THEN 201 and 200 with no body, found by listing", async () => {
    sim.connectorDialect = { cloudViewWriteAnswer: 'empty' };
    const res = await api('POST', `${CV}/aws/connectors`, { json: cvBody() });
    expect([res.status, res.text, res.headers['content-type']]).toEqual([201, '', undefined]);
    const [listed] = (await api('GET', `${CV}/aws/connectors?pageNo=1`)).json().content;
    const put = await api('PUT', `${CV}/aws/connectors/${listed.connectorId}`, { json: cvBody({ name: 'x' }) });
    expect([put.status, put.text]).toEqual([200, '']);
  });

  test("GIVEN cloudViewExternalId 'hidden' WHEN reading details and lists THEN no externalId, though it is stored", async () => {
    sim.connectorDialect = { cloudViewExternalId: 'hidden' };
    const created = await cvCreate();
    expect(created).not.toHaveProperty('externalId');
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`)).json().content[0]).not.toHaveProperty('externalId');
    expect((await sim.connectors())[0].externalId).toBe(EXT);
  });

  test("GIVEN cloudViewPageBase 0 and cloudViewPageNo 'optional' WHEN listing without pageNo or with pageNo=0 THEN the first page", async () => {
    sim.connectorDialect = { cloudViewPageBase: 0, cloudViewPageNo: 'optional' };
    await cvCreate();
    for (const q of ['', '?pageNo=0'])
      expect((await api('GET', `${CV}/aws/connectors${q}`)).json()).toMatchObject({ number: 0, numberOfElements: 1 });
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`)).json()).toMatchObject({
      number: 1,
      numberOfElements: 0,
    });
  });

  test('GIVEN the download route WHEN called THEN 501: documented (guide l.795) but not simulated', async () => {
    expect((await api('GET', `${CV}/aws/connectors/aws/download?externalId=${EXT}`)).status).toBe(501);
  });
});

describe('CloudView evaluations', () => {
  test('GIVEN the guide’s sample evaluations seeded WHEN listing THEN the sample’s keys in its order, paged', async () => {
    sim.seedEvaluations(ACCOUNT);
    const res = await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?pageNo=1&pageSize=50`);
    expect(res.status).toBe(200);
    const page = res.json();
    expect(page).toMatchObject({
      totalElements: GUIDE_EVALUATIONS.length,
      first: true,
      last: true,
      number: 0,
      size: 50,
    });
    expect(page.content[0]).toEqual({
      controlName: 'Ensure IAM Password Policy is Enabled',
      policyName: 'CIS Amazon Web Services Foundations Benchmark',
      criticality: 'HIGH',
      service: 'IAM',
      result: 'PASS',
      controlId: '6',
      passedResources: 1,
      failedResources: 0,
    });
    expect(Object.keys(page.content[1])).toEqual(Object.keys(page.content[0]));
    expect(page.content.find((c: any) => c.controlId === '44')).toMatchObject({
      result: 'FAIL',
      passedResources: 0,
      failedResources: 2,
    });
  });

  test('GIVEN seeded evaluations WHEN filtering control.result:FAIL or PASS THEN only those; another filter 400', async () => {
    sim.seedEvaluations(ACCOUNT);
    const fail = (await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?filter=control.result:FAIL&pageNo=1`)).json();
    expect(fail.content.map((c: any) => c.controlId)).toEqual(['7', '9', '44']);
    const pass = (await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?filter=control.result:PASS&pageNo=1`)).json();
    expect(pass.content.map((c: any) => c.controlId)).toEqual(['6']);
    for (const filter of ['control.result:{FAIL}', 'control.result:fail', 'resource.result:FAIL'])
      expect(
        (await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?filter=${encodeURIComponent(filter)}&pageNo=1`)).status,
      ).toBe(400);
  });

  test('GIVEN a control with resources WHEN listing its resources THEN the guide’s resource shape with evidences', async () => {
    now = Date.parse('2018-07-16T05:42:16Z');
    sim.seedEvaluations(ACCOUNT);
    const page = (await api('GET', `${CV}/aws/evaluations/${ACCOUNT}/resources/44?pageNo=1&pageSize=1`)).json();
    expect(page).toMatchObject({ totalElements: 2, totalPages: 2, numberOfElements: 1 });
    expect(page.content[0]).toEqual({
      resourceId: 'sg-474f6a39',
      region: 'us-west-2',
      accountId: ACCOUNT,
      evaluatedOn: '2018-07-16T05:42:16+0000',
      evidences: [
        { settingName: 'Number of Inbound Rules ', actualValue: '1', expectedValue: '' },
        { settingName: 'Number of Outbound Rules ', actualValue: '1', expectedValue: '' },
      ],
      resourceType: 'VPC_SECURITY_GROUP',
      result: 'FAIL',
    });
  });

  test("GIVEN evaluationsUnknown '404' (default) WHEN asking for an account nobody knows THEN 404; an account with a connector but nothing evaluated THEN an empty page", async () => {
    expect((await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?pageNo=1`)).status).toBe(404);
    await cvCreate();
    expect((await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?pageNo=1`)).json()).toMatchObject({
      content: [],
      totalElements: 0,
    });
    sim.seedEvaluations(ACCOUNT);
    expect((await api('GET', `${CV}/aws/evaluations/${ACCOUNT}/resources/999?pageNo=1`)).status).toBe(404);
  });

  test("GIVEN evaluationsUnknown 'empty' WHEN asking for an unknown account or control THEN empty pages", async () => {
    sim.connectorDialect = { evaluationsUnknown: 'empty' };
    expect((await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?pageNo=1`)).json()).toMatchObject({
      content: [],
      totalPages: 0,
    });
    expect((await api('GET', `${CV}/aws/evaluations/${ACCOUNT}/resources/44?pageNo=1`)).json()).toMatchObject({
      content: [],
    });
  });

  test('GIVEN an account ID that is not 12 digits (the guide’s samples use 11 and 14) WHEN asking THEN 400', async () => {
    for (const id of ['11111111111', '11111111111111'])
      expect((await api('GET', `${CV}/aws/evaluations/${id}?pageNo=1`)).status).toBe(400);
  });

  test('GIVEN custom evaluations WHEN seeded THEN counts come from resources unless given, and a reseed replaces them', async () => {
    sim.seedEvaluations(ACCOUNT, [
      {
        controlId: '1',
        resources: [
          { resourceId: 'a', result: 'PASS' },
          { resourceId: 'b', result: 'FAIL' },
        ],
      },
      { controlId: '2', result: 'PASS', passedResources: 7, failedResources: 0 },
    ]);
    const content = (await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?pageNo=1`)).json().content;
    expect(content.map((c: any) => [c.controlId, c.result, c.passedResources, c.failedResources])).toEqual([
      ['1', 'FAIL', 1, 1],
      ['2', 'PASS', 7, 0],
    ]);
    sim.seedEvaluations(ACCOUNT, []);
    expect((await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?pageNo=1`)).json().totalElements).toBe(0);
    expect(() => sim.seedEvaluations('1234')).toThrow(/12-digit/);
  });
});

// ---- strictness (both APIs) ------------------------------------------------------------------------

describe('strictness', () => {
  const qpsProblem = async (fields: Record<string, unknown>) => {
    const res = await api('POST', CONNECTOR, { json: qpsBody(fields) });
    expect(res.status).toBe(200);
    expect(sr(res).responseCode).toBe('INVALID_REQUEST');
    return sr(res).responseErrorDetails.errorMessage as string;
  };
  const cvProblem = async (body: unknown) => {
    const res = await api('POST', `${CV}/aws/connectors`, { json: body });
    expect(res.status).toBe(400);
    return res.json().message as string;
  };

  test('GIVEN no name, arn or externalId WHEN creating on either API THEN every missing field is named at once, and nothing is stored', async () => {
    const fields = { name: undefined, arn: undefined, externalId: undefined };
    expect(await qpsProblem(fields)).toMatch(/name is required; arn is required; externalId is required/);
    expect(await cvProblem({ description: 'x' })).toMatch(/name is required; arn is required; externalId is required/);
    expect(await sim.connectors()).toEqual([]);
  });

  test.each([
    ['a user ARN', 'arn:aws:iam::123456789012:user/qualys'],
    ['an S3 ARN', 'arn:aws:s3:::bucket'],
    ['an 11-digit account', 'arn:aws:iam::12345678901:role/r'],
    ['a role name only', 'qualys-cspm'],
  ])('GIVEN %s as arn WHEN creating on either API THEN refused as not an IAM role ARN', async (_case, arn) => {
    expect(await qpsProblem({ arn })).toMatch(/not an IAM role ARN/);
    expect(await cvProblem(cvBody({ arn }))).toMatch(/not an IAM role ARN/);
  });

  test.each([
    [1, false],
    [2, true],
    [1224, true],
    [1225, false],
  ])('GIVEN an externalId of %s characters WHEN creating THEN accepted=%s (2-1224, ref §3)', async (length, ok) => {
    sim.connectorDialect = { uniqueness: 'none' };
    const externalId = 'x'.repeat(length);
    const qps = sr(await api('POST', CONNECTOR, { json: qpsBody({ externalId }) }));
    expect(qps.responseCode).toBe(ok ? 'SUCCESS' : 'INVALID_REQUEST');
    if (!ok) expect(qps.responseErrorDetails.errorMessage).toMatch(/externalId must be 2 to 1224 characters long/);
    expect((await api('POST', `${CV}/aws/connectors`, { json: cvBody({ externalId }) })).status).toBe(ok ? 201 : 400);
  });

  test('GIVEN wrong types WHEN creating on QPS THEN each is named', async () => {
    const message = await qpsProblem({
      name: 42,
      disabled: 'false',
      runFrequency: '240',
      activation: { set: { ActivationModule: ['VM', 'SCA'] } },
      connectorAppInfos: apps(ROLE, ['AI', 'XX']),
    });
    expect(message).toMatch(/name must be a string/);
    expect(message).toMatch(/disabled must be a boolean \(got "false"\)/);
    expect(message).toMatch(/runFrequency must be a whole number/);
    expect(message).toMatch(/ActivationModule takes VM, PC \(got "SCA"\)/);
    expect(message).toMatch(/ConnectorAppInfo\[1\]\.name must be one of AI, CI, CSA/);
  });

  test('GIVEN wrong types WHEN creating on CloudView THEN each is named', async () => {
    const message = await cvProblem(
      cvBody({
        name: ['x'],
        remediationEnabled: 'yes',
        pollingFrequency: { hours: 4, minutes: 75 },
        qualysAccountId: 805950163170,
      }),
    );
    expect(message).toMatch(/name must be a string/);
    expect(message).toMatch(/remediationEnabled must be a boolean/);
    expect(message).toMatch(/pollingFrequency\.minutes must be a whole number from 0 to 59/);
    expect(message).toMatch(/qualysAccountId must be a 12-digit AWS account ID string/);
  });

  test("GIVEN unknown fields and unknownFields 'reject' (default) WHEN creating THEN refused naming them, at any depth", async () => {
    expect(await qpsProblem({ colour: 'red' })).toMatch(/unrecognized field 'colour' in AwsAssetDataConnector/);
    expect(await qpsProblem({ activation: { list: { ActivationModule: ['VM'] } } })).toMatch(
      /unrecognized field 'list' in activation/,
    );
    expect(await cvProblem(cvBody({ modules: ['CSA'] }))).toMatch(/unrecognized field 'modules'/);
    expect(await cvProblem(cvBody({ pollingFrequency: { hours: 4, seconds: 1 } }))).toMatch(
      /'seconds' in pollingFrequency/,
    );
  });

  test("GIVEN unknownFields 'ignore' WHEN creating with unknown fields THEN they are dropped silently (a list wrapper loses the activation)", async () => {
    sim.connectorDialect = { unknownFields: 'ignore', uniqueness: 'none' };
    const qps = await qpsCreate({ colour: 'red', activation: { list: { ActivationModule: ['VM'] } } });
    expect(qps).not.toHaveProperty('colour');
    expect(qps.activation).toEqual({ list: { ActivationModule: [] } });
    expect((await api('POST', `${CV}/aws/connectors`, { json: cvBody({ modules: ['CSA'] }) })).status).toBe(201);
  });

  test.each([
    ['account', [false, true]],
    ['name', [true, false]],
    ['account-or-name', [false, false]],
    ['none', [true, true]],
  ] as const)(
    "GIVEN uniqueness '%s' WHEN creating a second connector for the same account, then one with the same name THEN accepted=%s",
    async (uniqueness, [sameAccount, sameName]) => {
      sim.connectorDialect = { uniqueness };
      await qpsCreate();
      const account = sr(await api('POST', CONNECTOR, { json: qpsBody({ name: 'another-name' }) }));
      expect(account.responseCode).toBe(sameAccount ? 'SUCCESS' : 'INVALID_REQUEST');
      if (!sameAccount) expect(account.responseErrorDetails.errorMessage).toMatch(/only one connector per AWS account/);
      const name = await api('POST', `${CV}/aws/connectors`, {
        json: cvBody({ arn: 'arn:aws:iam::210987654321:role/r' }),
      });
      expect(name.status).toBe(sameName ? 201 : 400);
    },
  );

  test('GIVEN uniqueness WHEN an update would make a duplicate THEN refused; the connector itself does not count', async () => {
    const a = await qpsCreate();
    await qpsCreate({ name: 'b', arn: 'arn:aws:iam::210987654321:role/r' });
    const self = sr(
      await api('POST', `${QPS}/update/am/awsassetdataconnector/${a.id}`, {
        json: qpsRequest({ data: { AwsAssetDataConnector: { arn: ROLE } } }),
      }),
    );
    expect(self.responseCode).toBe('SUCCESS');
    const clash = sr(
      await api('POST', `${QPS}/update/am/awsassetdataconnector/${a.id}`, {
        json: qpsRequest({ data: { AwsAssetDataConnector: { arn: 'arn:aws:iam::210987654321:role/x' } } }),
      }),
    );
    expect(clash.responseErrorDetails.errorMessage).toMatch(/AWS account 210987654321 already exists/);
  });

  test('GIVEN a GovCloud role and no GovCloud Qualys account WHEN creating THEN refused; with one configured THEN its account and isGovCloud', async () => {
    const gov = 'arn:aws-us-gov:iam::123456789012:role/qualys-cspm';
    expect(await qpsProblem({ arn: gov, connectorAppInfos: undefined })).toMatch(
      /partition aws-us-gov.*no Qualys AWS account/,
    );
    await startSim({ connectors: { qualysAwsAccounts: { aws: QUALYS_ACCOUNT, 'aws-us-gov': '111122223333' } } });
    const created = await cvCreate({ arn: gov, qualysAccountId: '111122223333', isGovCloud: true });
    expect(created).toMatchObject({ isGovCloud: true, baseAccountId: '111122223333' });
    expect(await cvProblem(cvBody({ arn: 'arn:aws:iam::210987654321:role/r', isGovCloud: true }))).toMatch(
      /isGovCloud is true but arn is in partition aws/,
    );
  });

  test('GIVEN a qualysAccountId that is not Qualys’s WHEN creating on CloudView THEN refused pointing at qualysAwsAccountId', async () => {
    expect(await cvProblem(cvBody({ qualysAccountId: '111111111111' }))).toMatch(
      /not the Qualys AWS account .*805950163170/,
    );
  });

  test('GIVEN a connector with an app on its own role WHEN the create lists an app twice or an identifier that is no role THEN refused', async () => {
    const twice = {
      set: {
        ConnectorAppInfoQList: [
          {
            set: {
              ConnectorAppInfo: [
                { name: 'AI', identifier: ROLE },
                { name: 'AI', identifier: ROLE },
              ],
            },
          },
        ],
      },
    };
    expect(await qpsProblem({ connectorAppInfos: twice })).toMatch(/app AI is listed twice/);
    expect(await qpsProblem({ connectorAppInfos: apps('not-an-arn', ['AI']) })).toMatch(
      /identifier must be an IAM role ARN/,
    );
  });
});

// ---- runs ----------------------------------------------------------------------------------------

describe('runs', () => {
  test('GIVEN the default timing WHEN the clock moves THEN QUEUED, RUNNING, PROCESSING, FINISHED_SUCCESS, with sync times and assets', async () => {
    const { id } = await qpsCreate();
    const state = async () =>
      sr(await api('GET', `${QPS}/get/am/awsassetdataconnector/${id}`)).data[0].AwsAssetDataConnector;
    expect((await state()).connectorState).toBe('QUEUED');
    now = T0 + 5000;
    expect((await state()).connectorState).toBe('RUNNING');
    now = T0 + 15_000;
    expect((await state()).connectorState).toBe('PROCESSING');
    now = T0 + 25_000;
    const done = await state();
    expect(done).toMatchObject({
      connectorState: 'FINISHED_SUCCESS',
      lastSync: new Date(T0 + 25_000).toISOString().replace('.000Z', 'Z'),
      nextSync: new Date(T0 + 25_000 + 240 * 60_000).toISOString().replace('.000Z', 'Z'),
    });
    expect(done).not.toHaveProperty('lastError');
    expect((await sim.connector(id))?.totalAssets).toBe(12);
  });

  test("GIVEN states 'short' WHEN the clock moves THEN PENDING, RUNNING, SUCCESS (and ERROR on a failed trust)", async () => {
    sim.connectorDialect = 'short-states';
    const created = await cvCreate();
    const state = async () => (await api('GET', `${CV}/aws/connectors/${created.connectorId}`)).json().state;
    expect(created.state).toBe('PENDING');
    now = T0 + 15_000;
    expect(await state()).toBe('RUNNING');
    now = T0 + 25_000;
    expect(await state()).toBe('SUCCESS');
    sim.trustChecker = () => ({ ok: false, reason: 'denied' });
    await api('POST', `${CV}/aws/connectors/run`, { json: [created.connectorId] });
    now += 25_000;
    expect(await state()).toBe('ERROR');
  });

  test('GIVEN runTiming 0/0 WHEN creating THEN the answer already shows the finished run', async () => {
    await startSim({ connectors: { runTiming: { queuedMs: 0, runningMs: 0 } } });
    expect((await qpsCreate()).connectorState).toBe('FINISHED_SUCCESS');
  });

  test("GIVEN a run in progress WHEN asked to run again THEN 'accept' (default) keeps the one run, 'refuse' is INVALID_REQUEST / 400", async () => {
    const { id, cloudviewUuid } = await qpsCreate();
    expect(sr(await api('POST', `${QPS}/run/am/awsassetdataconnector/${id}`)).responseCode).toBe('SUCCESS');
    expect((await sim.connector(id))?.runs).toHaveLength(1);
    sim.connectorDialect = { runWhileBusy: 'refuse' };
    const refused = sr(await api('POST', `${QPS}/run/am/awsassetdataconnector/${id}`));
    expect(refused.responseErrorDetails.errorMessage).toMatch(/is already QUEUED; wait until its run ends/);
    expect((await api('POST', `${CV}/aws/connectors/run`, { json: [cloudviewUuid] })).status).toBe(400);
    now += 25_000;
    expect(sr(await api('POST', `${QPS}/run/am/awsassetdataconnector/${id}`)).responseCode).toBe('SUCCESS');
  });

  test('GIVEN a disabled connector WHEN created, run and read THEN DISABLED, no run, and a run is refused', async () => {
    const c = await qpsCreate({ disabled: true });
    expect(c.connectorState).toBe('DISABLED');
    expect((await sim.connector(c.id))?.runs).toEqual([]);
    const run = sr(await api('POST', `${QPS}/run/am/awsassetdataconnector/${c.id}`));
    expect(run.responseErrorDetails.errorMessage).toMatch(/is disabled/);
  });

  test('GIVEN a finished run WHEN runFrequency passes THEN a scheduled run starts by itself; slots passed unobserved are skipped', async () => {
    const { id } = await qpsCreate({ runFrequency: 60 });
    now = T0 + 25_000 + 60 * 60_000;
    expect((await sim.connector(id))?.state).toBe('QUEUED');
    now += 10 * 60 * 60_000;
    const c = await sim.connector(id);
    expect(c?.runs.map((r) => r.trigger)).toEqual(['create', 'schedule', 'schedule']);
    expect(c?.runs.at(-1)?.requestedAt).toBeLessThanOrEqual(now);
  });

  test('GIVEN one app on a role the checker refuses WHEN the run ends THEN FINISHED_ERRORS with one error naming that app', async () => {
    const other = 'arn:aws:iam::123456789012:role/qualys-inventory';
    sim.trustChecker = (roleArn) => (roleArn === other ? { ok: false, reason: 'no such trust' } : { ok: true });
    const { id } = await qpsCreate({
      connectorAppInfos: {
        set: {
          ConnectorAppInfoQList: [
            {
              set: {
                ConnectorAppInfo: [
                  { name: 'AI', identifier: other },
                  { name: 'CSA', identifier: ROLE },
                ],
              },
            },
          ],
        },
      },
    });
    now += 30_000;
    const c = await sim.connector(id);
    expect(c?.state).toBe('FINISHED_ERRORS');
    expect(c?.errors).toEqual([expect.objectContaining({ module: 'AI', roleArn: other })]);
  });
});

describe('runs against FakeAws trust policies', () => {
  let aws: FakeAws;
  const ROOT = `arn:aws:iam::${QUALYS_ACCOUNT}:root`;
  const rootTrust = (externalId: string) => qualysTrust({ StringEquals: { 'sts:ExternalId': externalId } }, ROOT);

  beforeEach(async () => {
    aws = new FakeAws({ now: clock, propagationDelayMs: 10_000 });
    await startSim({ trustChecker: aws.qualysTrustChecker(QUALYS_ROLE_ARN) });
  });

  test('GIVEN a role trusting the Qualys account :root created with the connector WHEN the first run assumes it before propagation THEN FINISHED_ERRORS, judged as STS saw it then, even when read later; a run after propagation succeeds', async () => {
    aws.createRole('qualys-cspm', rootTrust(EXT));
    const { id } = await qpsCreate();
    now = T0 + 10 * 60_000;
    const failed = await sim.connector(id);
    expect(failed?.state).toBe('FINISHED_ERRORS');
    expect(failed?.errors).toHaveLength(3);
    expect(failed?.errors[0].message).toMatch(/^Unable to assume role .*qualys-cspm.*not yet visible to STS/);
    const errors = sr(await api('POST', ERRORS, { json: criteria(['connectorId', 'EQUALS', String(id)]) }));
    expect(errors.count).toBe(3);

    expect(sr(await api('POST', `${QPS}/run/am/awsassetdataconnector/${id}`)).responseCode).toBe('SUCCESS');
    now += 30_000;
    const ok = sr(await api('GET', `${QPS}/get/am/awsassetdataconnector/${id}`)).data[0].AwsAssetDataConnector;
    expect(ok.connectorState).toBe('FINISHED_SUCCESS');
    expect(ok).not.toHaveProperty('lastError');
    expect(sr(await api('POST', ERRORS, { json: criteria(['connectorId', 'EQUALS', String(id)]) })).count).toBe(0);
  });

  test('GIVEN a role created well before WHEN the connector is created THEN its first run succeeds', async () => {
    aws.createRole('qualys-cspm', rootTrust(EXT));
    now += 60_000;
    const created = await cvCreate();
    now += 30_000;
    expect((await api('GET', `${CV}/aws/connectors/${created.connectorId}`)).json()).toMatchObject({
      state: 'FINISHED_SUCCESS',
      error: null,
      totalAssets: 12,
    });
  });

  test('GIVEN an external ID rotated on both sides at once WHEN run at once THEN the old policy is still what STS sees (FINISHED_ERRORS, not propagated); after the delay the run succeeds', async () => {
    aws.createRole('qualys-cspm', rootTrust(EXT));
    now += 60_000;
    const created = await cvCreate();
    now += 30_000;
    aws.setTrustPolicy('qualys-cspm', rootTrust('rotated-external-id'));
    const put = await api('PUT', `${CV}/aws/connectors/${created.connectorId}`, {
      json: cvBody({ externalId: 'rotated-external-id' }),
    });
    expect(put.status).toBe(200);
    await api('POST', `${CV}/aws/connectors/run`, { json: [created.connectorId] });
    now += 30_000;
    const stale = (await api('GET', `${CV}/aws/connectors/${created.connectorId}`)).json();
    expect(stale.state).toBe('FINISHED_ERRORS');
    expect(stale.error).toMatch(/has not propagated yet/);
    expect(stale.error).not.toContain('rotated-external-id');
    await api('POST', `${CV}/aws/connectors/run`, { json: [created.connectorId] });
    now += 30_000;
    expect((await api('GET', `${CV}/aws/connectors/${created.connectorId}`)).json().state).toBe('FINISHED_SUCCESS');
  });

  test('GIVEN a trust naming a wrong external ID, another Qualys role, or no role at all WHEN the run ends THEN FINISHED_ERRORS', async () => {
    sim.connectorDialect = { uniqueness: 'none' };
    aws.createRole('wrong-id', rootTrust('some-other-id'));
    aws.createRole(
      'other-role',
      qualysTrust({ StringEquals: { 'sts:ExternalId': EXT } }, `arn:aws:iam::${QUALYS_ACCOUNT}:role/someone-else`),
    );
    now += 60_000;
    const ids = [];
    for (const name of ['wrong-id', 'other-role', 'missing'])
      ids.push(
        (await qpsCreate({ name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, connectorAppInfos: undefined })).id,
      );
    now += 30_000;
    const reasons = await Promise.all(ids.map(async (id) => (await sim.connector(id))?.errors[0]?.message));
    expect(reasons).toEqual([
      expect.stringMatching(/no trust policy statement allows it/),
      expect.stringMatching(/no trust policy statement allows it/),
      expect.stringMatching(/does not exist/),
    ]);
  });

  test('GIVEN a trust naming the Qualys role itself (as the S3 integration’s does) WHEN a connector uses it THEN it succeeds too', async () => {
    aws.createRole('qualys-cspm', qualysTrust({ StringEquals: { 'sts:ExternalId': EXT } }));
    now += 60_000;
    const { id } = await qpsCreate();
    now += 30_000;
    expect((await sim.connector(id))?.state).toBe('FINISHED_SUCCESS');
  });
});

// ---- limits and faults ----------------------------------------------------------------------------

describe('rate and concurrency limits', () => {
  test('GIVEN a budget of 3 calls a minute WHEN calling both APIs THEN Remaining counts down, the 4th is 409 with the X-RateLimit headers, and the window reopens', async () => {
    await startSim({ connectors: { rateLimit: { limit: 3, windowMs: 60_000 } } });
    const remaining: unknown[] = [];
    for (const call of [
      () => api('POST', SEARCH),
      () => api('GET', `${CV}/aws/connectors?pageNo=1`),
      () => api('POST', SEARCH),
    ]) {
      const res = await call();
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-window-sec': '60' });
      remaining.push(res.headers['x-ratelimit-remaining']);
      now += 1000;
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await api('POST', CONNECTOR, { json: qpsBody() });
    expect(limited.status).toBe(409);
    expect(limited.headers).toMatchObject({
      'x-ratelimit-limit': '3',
      'x-ratelimit-window-sec': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-towait-sec': '57',
    });
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(sr(limited)).toMatchObject({
      responseCode: 'RATE_LIMIT_EXCEEDED',
      responseErrorDetails: { errorMessage: expect.stringMatching(/retry after 57 seconds/) },
    });
    expect(await sim.connectors()).toEqual([]);
    const cv = await api('GET', `${CV}/aws/connectors?pageNo=1`);
    expect([cv.status, cv.json().status]).toEqual([409, 409]);
    now = T0 + 60_001;
    expect((await api('POST', CONNECTOR, { json: qpsBody() })).status).toBe(200);
  });

  test('GIVEN the budget is per user WHEN one user exhausts it THEN another still gets through; the gateway keeps its own limits', async () => {
    await startSim({
      users: [DEFAULT_USER, { username: 'second', password: 'pw-2' }],
      connectors: { rateLimit: { limit: 1, windowMs: 60_000 } },
    });
    expect((await api('POST', SEARCH)).status).toBe(200);
    expect((await api('POST', SEARCH)).status).toBe(409);
    expect((await api('POST', SEARCH, { auth: basic('second', 'pw-2') })).status).toBe(200);
    const token = await jwt();
    expect((await gateway('GET', '/partner-integration/aws/s3/vm', { auth: `Bearer ${token}` })).status).toBe(200);
  });

  test('GIVEN the default limits WHEN 300 calls an hour are spent THEN the 301st is refused', async () => {
    for (let i = 0; i < 300; i++) expect((await api('POST', SEARCH)).status).toBe(200);
    const res = await api('POST', SEARCH);
    expect([res.status, res.headers['x-ratelimit-limit'], res.headers['x-ratelimit-window-sec']]).toEqual([
      409,
      '300',
      '3600',
    ]);
  });

  test('GIVEN two slow calls in flight on one endpoint WHEN a third arrives THEN 409 with X-Concurrency-Limit-* headers; another endpoint is not affected', async () => {
    sim.inject({ host: 'api', path: SEARCH, delayMs: 300, times: 2 });
    const slow = [api('POST', SEARCH), api('POST', SEARCH)];
    await new Promise((r) => setTimeout(r, 50));
    const third = await api('POST', SEARCH);
    expect(third.status).toBe(409);
    expect(third.headers).toMatchObject({ 'x-concurrency-limit-limit': '2', 'x-concurrency-limit-running': '3' });
    expect(sr(third).responseErrorDetails.errorMessage).toMatch(/at most 2 are allowed at once/);
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`)).headers['x-concurrency-limit-running']).toBe('1');
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
    expect((await api('POST', SEARCH)).status).toBe(200);
  });

  test('GIVEN both limits off WHEN calling THEN no limit headers', async () => {
    await startSim({ connectors: { rateLimit: false, concurrencyLimit: false } });
    const res = await api('POST', SEARCH);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('x-'))).toEqual([]);
  });
});

describe('faults', () => {
  test('GIVEN a 503 HTML fault on the API server WHEN creating THEN the load balancer page, nothing stored; the next call works', async () => {
    sim.inject({ host: 'api', method: 'POST', path: CONNECTOR, status: 503, html: true });
    const res = await api('POST', CONNECTOR, { json: qpsBody() });
    expect([res.status, res.headers['content-type']]).toEqual([503, 'text/html']);
    expect(await sim.connectors()).toEqual([]);
    expect((await api('POST', CONNECTOR, { json: qpsBody() })).status).toBe(200);
  });

  test('GIVEN a 500 fault with a body WHEN calling CloudView THEN that answer', async () => {
    sim.inject({ path: /^\/cloudview-api\//, status: 500, body: '{"message":"boom"}' });
    const res = await api('GET', `${CV}/aws/connectors?pageNo=1`);
    expect([res.status, res.json()]).toEqual([500, { message: 'boom' }]);
  });

  test('GIVEN a fault for the gateway host WHEN the same path is called on the API server THEN it is not consumed there', async () => {
    sim.inject({ host: 'gateway', path: SEARCH, status: 502 });
    expect((await api('POST', SEARCH)).status).toBe(200);
    expect((await gateway('POST', SEARCH, { auth: `Bearer ${await jwt()}` })).status).toBe(502);
  });

  test('GIVEN a reset fault WHEN creating THEN the connection drops, the call is logged with status 0, and the in-flight count is released', async () => {
    sim.inject({ host: 'api', path: CONNECTOR, reset: true, times: 3 });
    for (let i = 0; i < 3; i++) await expect(api('POST', CONNECTOR, { json: qpsBody() })).rejects.toThrow();
    expect(sim.calls.map((c) => c.status)).toEqual([0, 0, 0]);
    expect((await api('POST', CONNECTOR, { json: qpsBody() })).headers['x-concurrency-limit-running']).toBe('1');
  });

  test('GIVEN a delay fault WHEN calling THEN the answer is late but normal', async () => {
    sim.inject({ host: 'api', path: SEARCH, delayMs: 120 });
    const started = Date.now();
    expect((await api('POST', SEARCH)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });
});

// ---- test controls and dialect handling --------------------------------------------------------------

describe('test controls', () => {
  test('GIVEN a seeded leftover WHEN reading it through both APIs THEN it is there, and new ids do not collide', async () => {
    const seeded = sim.seedConnector({
      id: 2000,
      name: 'leftover',
      arn: ROLE,
      externalId: EXT,
      state: 'FINISHED_SUCCESS',
    });
    expect(seeded).toMatchObject({
      id: 2000,
      createdVia: 'seed',
      state: 'FINISHED_SUCCESS',
      awsAccountId: ACCOUNT,
      runs: [],
    });
    const found = sr(await api('POST', SEARCH, { json: criteria(['awsAccountId', 'EQUALS', ACCOUNT]) }));
    expect(found.data[0].AwsAssetDataConnector).toMatchObject({
      id: 2000,
      name: 'leftover',
      connectorState: 'FINISHED_SUCCESS',
    });
    expect((await api('GET', `${CV}/aws/connectors/${seeded.uuid}`)).json().name).toBe('leftover');
    expect(() => sim.seedConnector({ id: 2000 })).toThrow(/already exists/);
    const created = await qpsCreate({ arn: 'arn:aws:iam::210987654321:role/r' });
    expect(created.id).toBe(2001);
  });

  test('GIVEN a seeded connector with startRun WHEN the clock moves THEN it runs like a created one', async () => {
    const seeded = sim.seedConnector({ startRun: true });
    expect(seeded.state).toBe('QUEUED');
    now += 30_000;
    expect((await sim.connector(seeded.id))?.state).toBe('FINISHED_SUCCESS');
  });

  test('GIVEN the copies the controls return WHEN a test mutates them THEN the stored state is untouched; clear* empty it', async () => {
    const seeded = sim.seedConnector({ name: 'x' });
    (await sim.connectors())[0].name = 'changed';
    expect((await sim.connector(seeded.uuid))?.name).toBe('x');
    sim.clearConnectors();
    expect(await sim.connectors()).toEqual([]);
    sim.seedEvaluations(ACCOUNT);
    sim.clearEvaluations();
    expect((await api('GET', `${CV}/aws/evaluations/${ACCOUNT}?pageNo=1`)).status).toBe(404);
  });

  test('GIVEN settings changed mid-run WHEN calling THEN they apply', async () => {
    sim.connectorSettings.runTiming = { queuedMs: 0, runningMs: 0 };
    sim.connectorSettings.assetsPerRun = 99;
    expect((await qpsCreate()).connectorState).toBe('FINISHED_SUCCESS');
    expect((await sim.connectors())[0].totalAssets).toBe(99);
  });
});

describe('connector dialect option and property', () => {
  test('GIVEN no dialect WHEN reading it THEN the reference default, which every field’s choices include', () => {
    expect(sim.connectorDialect).toEqual(DEFAULT_CONNECTOR_DIALECT);
    expect(CONNECTOR_DIALECTS.reference).toEqual(DEFAULT_CONNECTOR_DIALECT);
    for (const [field, value] of Object.entries(DEFAULT_CONNECTOR_DIALECT))
      expect((CONNECTOR_DIALECT_CHOICES as Record<string, readonly unknown[]>)[field]).toContain(value);
  });

  test('GIVEN every named dialect WHEN set THEN it resolves; the unforgiving one sets every field', () => {
    for (const name of Object.keys(CONNECTOR_DIALECTS) as Array<keyof typeof CONNECTOR_DIALECTS>) {
      sim.connectorDialect = name;
      expect(sim.connectorDialect).toEqual({ ...DEFAULT_CONNECTOR_DIALECT, ...CONNECTOR_DIALECTS[name] });
    }
    expect(Object.keys(CONNECTOR_DIALECTS.unforgiving).sort()).toEqual(Object.keys(DEFAULT_CONNECTOR_DIALECT).sort());
  });

  test('GIVEN an unknown name, a bad value and an unknown field WHEN constructing THEN it throws naming them', () => {
    expect(() => new QualysSimulator({ connectors: { dialect: 'nope' as never } })).toThrow(
      /Unknown connector dialect 'nope'.*reference/,
    );
    expect(() => new QualysSimulator({ connectors: { dialect: { qpsBooleans: 'yes', colour: 1 } as never } })).toThrow(
      /qpsBooleans must be one of "string", "boolean" \(got "yes"\); 'colour' is not a connector dialect field/,
    );
  });

  test('GIVEN the unforgiving dialect WHEN a client does the common things THEN each answers in its hardest form', async () => {
    await startSim({ connectors: { dialect: 'unforgiving' } });
    const v1 = '/cloudview-api/rest/v1';
    expect((await api('GET', `${CV}/aws/connectors?pageNo=1`)).status).toBe(404);
    const created = await api('POST', `${v1}/aws/connectors`, { json: cvBody({ colour: 'dropped' }) });
    expect([created.status, created.text]).toEqual([201, '']);
    const [listed] = (await api('GET', `${v1}/aws/connectors?pageNo=1`)).json().content;
    expect(listed).toMatchObject({ state: 'PENDING' });
    expect(listed).not.toHaveProperty('externalId');
    // The create's first run is still going, and runWhileBusy is 'refuse'.
    expect((await api('POST', `${v1}/aws/connectors/run?connectorIds=${listed.connectorId}`)).status).toBe(400);
    const qps = await api('POST', SEARCH);
    expect(qps.headers['content-type']).toMatch(/^application\/xml/);
    expect(qps.text).toContain('<count>1</count><hasMoreRecords>false</hasMoreRecords>');
    const json = sr(await api('POST', SEARCH, { headers: { accept: 'application/json' } }));
    expect(json).toMatchObject({ count: '1', hasMoreRecords: 'false' });
    expect(json.data[0].AwsAssetDataConnector).toMatchObject({ id: '1001', runFrequency: '240', disabled: 'false' });
    expect((await api('POST', '/qps/rest/3.0/run/am/awsassetdataconnector/1001')).status).toBe(404);
    now += 30_000;
    expect((await api('DELETE', `${v1}/aws/connectors?connectorIds=${listed.connectorId}`)).status).toBe(204);
    expect(sr(await api('POST', SEARCH, { headers: { accept: 'application/json' } }))).toEqual({
      responseCode: 'SUCCESS',
      count: '0',
      hasMoreRecords: 'false',
    });
  });
});
