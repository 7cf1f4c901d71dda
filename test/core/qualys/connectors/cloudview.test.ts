/**
 * The CloudView REST API over an injected transport, in each reading the sources allow: version
 * v1 or 1.5, pageNo from 0 or 1, the three DELETE bodies (and a server that ignores the ones it
 * does not know), a create answered 201 with no body, the qualysAccountId the guide's example
 * sends, the error list, the evaluations summary.
 */
import { IntegrationError } from '../../../../src/core/errors';
import type { ConnectorFields } from '../../../../src/core/qualys/connectors/api';
import {
  CloudViewConnectors,
  cloudViewBody,
  readCloudViewConnector,
} from '../../../../src/core/qualys/connectors/cloudview';
import type { HttpRequest, HttpResponse } from '../../../../src/core/qualys/transport';
import {
  API_URL,
  CONNECTOR_USER,
  FakeConnectorServer,
  type FakeOptions,
  type IdsShape,
} from '../../../support/connector-fakes';
import { FakeClock, memoryLogger } from '../../../support/lambda-fakes';
import { json, scripted } from '../scripted-gateway';

const ACCOUNT = '123456789012';
const FIELDS: ConnectorFields = {
  name: 'qcv-dev',
  description: 'dev',
  roleArn: `arn:aws:iam::${ACCOUNT}:role/R`,
  externalId: 'ext-1',
  awsAccountId: ACCOUNT,
  partition: 'aws',
  modules: ['securityAssessment'],
  pollingHours: 4.5,
  remediation: true,
};

function client(transport: (req: HttpRequest) => Promise<HttpResponse>, clock = new FakeClock()) {
  const { log, lines } = memoryLogger();
  const api = new CloudViewConnectors({
    apiUrl: API_URL,
    credentials: CONNECTOR_USER,
    credentialsSource: 'secret "s"',
    transport,
    log,
    clock,
  });
  return { api, lines };
}

function served(options: Omit<FakeOptions, 'api' | 'clock'> = {}) {
  const clock = new FakeClock();
  const server = new FakeConnectorServer({ api: 'cloudview', clock, ...options });
  return { server, ...client(server.transport, clock) };
}

const paths = (server: FakeConnectorServer) =>
  server.requests.map((r) => `${r.method} ${new URL(r.url).pathname}${new URL(r.url).search}`);

describe('the version', () => {
  test.each(['v1', '1.5'] as const)(
    'GIVEN a server at %s WHEN listing THEN that version is found by asking, once',
    async (version) => {
      const { server, api, lines } = served({ version });
      server.seed({ name: 'a', awsAccountId: ACCOUNT, arn: FIELDS.roleArn });
      await api.find({ awsAccountId: ACCOUNT });
      await api.find({ awsAccountId: ACCOUNT });
      const probes = paths(server).filter((p) => p.includes('pageSize=1'));
      expect(probes.at(-1)).toContain(`/cloudview-api/rest/${version}/aws/connectors`);
      expect(probes).toHaveLength(version === 'v1' ? 1 : 2);
      expect(lines.some((l) => l.includes('CloudView API version') && l.includes(version))).toBe(true);
    },
  );

  test('GIVEN neither version WHEN called THEN the error names both tries and the API server', async () => {
    const s = scripted(
      () => json(404, { message: 'no' }),
      () => ({ status: 404, headers: { 'content-type': 'text/html' }, body: '<html>404</html>' }),
    );
    const { api } = client(s.transport);
    await expect(api.get('x')).rejects.toThrow(/none of the versions known .*v1.*1\.5/);
  });
});

describe('paging', () => {
  test.each([false, true])(
    'GIVEN pageNo counted from 1 = %s and 7 connectors in pages of 3 THEN all 7 are read',
    async (pagesFromOne) => {
      const { server, api } = served({ pagesFromOne, pageSize: 3 });
      for (let i = 0; i < 7; i++) server.seed({ name: `c${i}`, awsAccountId: ACCOUNT, arn: FIELDS.roleArn });
      await expect(api.find({ awsAccountId: ACCOUNT })).resolves.toHaveLength(7);
    },
  );

  test('GIVEN a list answer of no known shape THEN it is unreadable, never empty', async () => {
    const s = scripted(
      () => json(200, { content: [] }),
      () => json(200, { connectorsPage: 'x' }),
    );
    const { api } = client(s.transport);
    await expect(api.find({ name: 'n' })).rejects.toThrow(/cannot read/);
  });
});

describe('create', () => {
  test("GIVEN the fields THEN the body is the guide's four and the Swagger's polling, remediation and partition", () => {
    expect(cloudViewBody(FIELDS)).toEqual({
      name: 'qcv-dev',
      description: 'dev',
      arn: FIELDS.roleArn,
      externalId: 'ext-1',
      isGovCloud: false,
      isChinaRegion: false,
      pollingFrequency: { hours: 4, minutes: 30 },
      remediationEnabled: true,
    });
  });

  test('GIVEN 201 with no body (the guide) WHEN created THEN the connector is found by name and account', async () => {
    const { server, api } = served({ createAnswersNothing: true });
    const c = await api.create(FIELDS);
    expect(server.connectors.get(c.id)).toMatchObject({ name: 'qcv-dev' });
  });

  test('GIVEN a server that asks for qualysAccountId WHEN created THEN it is read from the API and sent', async () => {
    const { server, api } = served();
    server.hooks.push((req) => {
      if (req.method !== 'POST' || !req.url.endsWith('/aws/connectors')) return undefined;
      if (JSON.parse(req.body ?? '{}').qualysAccountId === '805950163170') return undefined;
      return json(400, { message: 'qualysAccountId is required' });
    });
    await api.create(FIELDS);
    expect(server.connectors.size).toBe(1);
    expect(paths(server)).toContain('GET /cloudview-api/rest/v1/aws/connectors/qualysAwsAccountId');
  });

  test('GIVEN a connector reported with its Swagger fields THEN it is read', () => {
    expect(
      readCloudViewConnector({
        connectorId: 'u-1',
        name: 'n',
        awsAccountId: ACCOUNT,
        state: 'finished_errors',
        lastSyncedOn: 't',
        pollingFrequency: { hours: 2, minutes: 30 },
        remediationEnabled: 'false',
        error: { errorMessage: 'AccessDenied' },
      }),
    ).toMatchObject({
      id: 'u-1',
      state: 'FINISHED_ERRORS',
      pollingHours: 2.5,
      remediation: false,
      error: 'AccessDenied',
    });
  });
});

describe('delete, under every reading of its body', () => {
  test.each<IdsShape>(['json-array', 'connectorIds-object', 'comma-separated-text'])(
    'GIVEN a server that takes %s WHEN deleted THEN the connector is gone, and that reading used first next time',
    async (deleteShape) => {
      const { server, api } = served({ deleteShape });
      const a = server.seed({ name: 'a', awsAccountId: ACCOUNT, arn: FIELDS.roleArn });
      const b = server.seed({ name: 'b', awsAccountId: ACCOUNT, arn: FIELDS.roleArn });
      await expect(api.delete(a.id)).resolves.toBe('deleted');
      server.requests.length = 0;
      await expect(api.delete(b.id)).resolves.toBe('deleted');
      expect(server.of('DELETE', /\/aws\/connectors$/)).toHaveLength(1);
      expect(server.connectors.size).toBe(0);
    },
  );

  test('GIVEN a server that answers 200 to bodies it does not know WHEN deleted THEN the read-back sees it still there and the next reading is tried', async () => {
    const { server, api } = served({ deleteShape: 'comma-separated-text', ignoreOtherShapes: true });
    const a = server.seed({ name: 'a', awsAccountId: ACCOUNT, arn: FIELDS.roleArn });
    await expect(api.delete(a.id)).resolves.toBe('deleted');
    expect(server.of('DELETE', /\/aws\/connectors$/)).toHaveLength(3);
  });

  test('GIVEN a connector already gone WHEN deleted THEN it is absent, with no DELETE sent', async () => {
    const { server, api } = served();
    await expect(api.delete('0000-gone')).resolves.toBe('absent');
    expect(server.of('DELETE', /./)).toHaveLength(0);
  });

  test('GIVEN a server that deletes nothing whatever the body THEN the delete fails, naming each answer', async () => {
    const { server, api } = served();
    const a = server.seed({ name: 'a', awsAccountId: ACCOUNT, arn: FIELDS.roleArn });
    server.hooks.push((req) => (req.method === 'DELETE' ? json(200, { message: 'ok' }) : undefined));
    const error = await api.delete(a.id).catch((e: Error) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as Error).message).toMatch(
      /json-array: HTTP 200.*connectorIds-object.*comma-separated-text.*still there/,
    );
  });
});

describe('errors and evaluations', () => {
  test('GIVEN an errors answer of no known shape THEN it is unreadable, never "no errors"', async () => {
    const { server, api } = served();
    const a = server.seed({ name: 'a', awsAccountId: ACCOUNT, arn: FIELDS.roleArn });
    server.hooks.push((req) => (req.url.includes('/errors') ? json(200, { weird: true }) : undefined));
    await expect(api.errors(a.id)).resolves.toMatchObject({ readable: false });
  });

  test('GIVEN evaluations THEN passing and failing are counted and the worst failing ranked by criticality and resources', async () => {
    const { api } = served();
    const read = await api.evaluations(ACCOUNT, { worst: 2 });
    expect(read).toEqual({
      readable: true,
      summary: {
        passed: 1,
        failed: 3,
        worstFailing: [
          expect.objectContaining({ controlId: '44', failedResources: 7 }),
          expect.objectContaining({ controlId: '9', criticality: 'HIGH' }),
        ],
      },
    });
  });
});
