/**
 * Break-review of issue 13: `preflight` and `status` with `cloudView` at their edges: verdicts
 * that must agree with what the deploy's plan would do, the errors search in the readings the
 * references leave open, and faults (refused, unreadable, missing), always one JSON document
 * and nothing secret printed (the Basic encoding included).
 */
import { check, PROD_SITE, useCliWorld } from '../support/cli-world';
import type { Run } from '../support/cli-world';

const { ACCOUNT, ENV, STACK, USER } = PROD_SITE;
const NAME = `qs3-${ENV}-cloudview-${ACCOUNT}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/${STACK}-CloudViewRole`;
const BASIC = Buffer.from(`${USER.username}:${USER.password}`).toString('base64');
const APIS = ['connectors-v3', 'cloudview'] as const;

function expectNothingSecret(run: Run) {
  for (const text of [run.stdout, run.stderr]) {
    expect(text).not.toContain(USER.password);
    expect(text).not.toContain(BASIC);
  }
}

describe('preflight verdicts agree with what the deploy would do', () => {
  const world = useCliWorld();
  const config = (api: string, cloudView: Record<string, unknown> = {}) =>
    world.config({ cloudView: { api, apiUrl: world.sim.apiUrl, ...cloudView } });

  test.each(APIS)(
    'GIVEN a connector of our name for another AWS account (%s) WHEN preflight runs THEN existing-connector fails: the deploy refuses it even with adoptExisting',
    async (api) => {
      world.sim.seedConnector({ name: NAME, arn: 'arn:aws:iam::210987654321:role/Elsewhere' });
      const { code, doc } = await world.json(['preflight', ENV, '--config', config(api, { adoptExisting: true })]);
      expect(check(doc, 'existing-connector')).toMatchObject({
        status: 'fail',
        value: expect.stringMatching(/210987654321|another (AWS )?account/),
      });
      expect(code).toBe(1);
    },
  );

  test.each(APIS)(
    'GIVEN two foreign connectors for the account and adoptExisting (%s) WHEN preflight runs THEN existing-connector fails: the deploy will not choose which to adopt',
    async (api) => {
      world.sim.seedConnector({ name: 'a', arn: `arn:aws:iam::${ACCOUNT}:role/A` });
      world.sim.seedConnector({ name: 'b', arn: `arn:aws:iam::${ACCOUNT}:role/B` });
      const { code, doc } = await world.json(['preflight', ENV, '--config', config(api, { adoptExisting: true })]);
      expect(check(doc, 'existing-connector')).toMatchObject({ status: 'fail' });
      expect(code).toBe(1);
    },
  );

  test.each(APIS)(
    'GIVEN one foreign connector and adoptExisting (%s) WHEN preflight runs THEN it warns that the deploy takes it over',
    async (api) => {
      world.sim.seedConnector({ name: 'a', arn: `arn:aws:iam::${ACCOUNT}:role/A` });
      const { doc, run } = await world.json(['preflight', ENV, '--config', config(api, { adoptExisting: true })]);
      expect(check(doc, 'existing-connector')).toMatchObject({
        status: 'warn',
        value: expect.stringMatching(/takes it over/),
      });
      expectNothingSecret(run);
    },
  );
});

describe('status reads the errors however the errors search names the connector (no source gives the criterion)', () => {
  const world = useCliWorld({
    sim: {
      connectors: {
        dialect: { qpsErrorsCriterion: 'connector.id' },
        runTiming: { queuedMs: 0, runningMs: 0 },
        trustChecker: () => ({ ok: false, reason: 'the role does not exist' }),
      },
    },
  });

  test('GIVEN a Connectors 3.0 connector whose run could not assume the role, and errors searchable by connector.id WHEN status runs THEN connector-errors lists them', async () => {
    const created = world.sim.seedConnector({ name: NAME, arn: ROLE, startRun: true });
    world.deployed({ outputs: { CloudViewConnectorId: String(created.id) } });
    const file = world.config({ cloudView: { apiUrl: world.sim.apiUrl } });
    const { doc } = await world.json(['status', ENV, '--config', file]);
    expect(check(doc, 'connector-errors')).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/^\d+ errors?: .*role/i),
    });
  });
});

describe('status under faults: always one JSON document, nothing secret', () => {
  const world = useCliWorld({ sim: { connectors: { runTiming: { queuedMs: 0, runningMs: 0 } } } });
  const deployed = (api: string) => {
    const seeded = world.sim.seedConnector({ name: NAME, arn: ROLE, state: 'FINISHED_SUCCESS', startRun: true });
    const id = api === 'cloudview' ? seeded.uuid : String(seeded.id);
    world.deployed({ outputs: { CloudViewConnectorId: id } });
    world.sim.seedEvaluations(ACCOUNT);
    return { id, file: world.config({ cloudView: { api, apiUrl: world.sim.apiUrl } }) };
  };

  test.each(APIS)(
    'GIVEN the evaluations API answers an HTML 500, every time (%s) WHEN status runs THEN the connector passes and the evaluations are not claimed',
    async (api) => {
      const { file } = deployed(api);
      world.sim.inject({ host: 'api', path: /\/evaluations\//, status: 500, html: true, times: 100 });
      const { doc, run } = await world.json(['status', ENV, '--config', file]);
      expect(check(doc, 'connector').status).toBe('pass');
      expect(check(doc, 'control-evaluations').status).not.toBe('pass');
      expectNothingSecret(run);
    },
  );

  test.each(APIS)(
    'GIVEN the connector the stack names is gone from Qualys (%s) WHEN status runs THEN connector fails saying so',
    async (api) => {
      deployed(api);
      const file = world.config({ cloudView: { api, apiUrl: world.sim.apiUrl } });
      world.deployed({
        outputs: { CloudViewConnectorId: api === 'cloudview' ? '00000000-0000-4000-8000-000000000000' : '999999' },
      });
      const { code, doc, run } = await world.json(['status', ENV, '--config', file]);
      expect(check(doc, 'connector')).toMatchObject({ status: 'fail', value: expect.stringMatching(/not in Qualys/) });
      expect(code).not.toBe(0);
      expectNothingSecret(run);
    },
  );

  test.each(APIS)(
    'GIVEN the connector details answer a shape no reader knows (%s) WHEN status runs THEN it is not taken for a connector, and the report is one JSON document',
    async (api) => {
      const { file } = deployed(api);
      world.sim.inject({
        host: 'api',
        method: 'GET',
        path: api === 'cloudview' ? /\/aws\/connectors\/[0-9a-f-]{36}$/ : /\/get\/am\/awsassetdataconnector\//,
        status: 200,
        body: '["not", "a", "connector"]',
        times: 10,
      });
      const { doc, run } = await world.json(['status', ENV, '--config', file]);
      expect(check(doc, 'connector').status).not.toBe('pass');
      expectNothingSecret(run);
    },
  );
});
