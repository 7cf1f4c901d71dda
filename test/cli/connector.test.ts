/**
 * `preflight` and `status` for an environment with `cloudView`, against the simulator's
 * connector APIs (both of them): the API allowed or refused, a connector for the account
 * already there (ours, foreign, adopted), and after a deploy the connector's state, syncs,
 * errors and the account's control evaluations.
 */
import { check, PROD_SITE, useCliWorld } from '../support/cli-world';

const { ACCOUNT, ENV, STACK } = PROD_SITE;
const world = useCliWorld();
const NAME = `qs3-${ENV}-cloudview-${ACCOUNT}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/${STACK}-CloudViewRole`;

function config(api: 'connectors-v3' | 'cloudview', cloudView: Record<string, unknown> = {}) {
  return world.config({ cloudView: { api, apiUrl: world.sim.apiUrl, ...cloudView } });
}

describe.each(['connectors-v3', 'cloudview'] as const)('with the %s API', (api) => {
  test('GIVEN no connector for the account WHEN preflight runs THEN the API is allowed and one will be created', async () => {
    const { code, doc } = await world.json(['preflight', ENV, '--config', config(api)]);
    expect(check(doc, 'connector-api')).toMatchObject({
      status: 'pass',
      value: expect.stringMatching(/answered: 0 connectors for account 123456789012/),
    });
    expect(check(doc, 'existing-connector')).toMatchObject({
      status: 'pass',
      value: `none for this account: "${NAME}" will be created`,
    });
    expect(code).toBe(0);
  });

  test('GIVEN a connector of another name for the account WHEN preflight runs THEN it fails, saying how to go on; with adoptExisting it warns', async () => {
    world.sim.seedConnector({ name: 'hand-made', arn: ROLE.replace('CloudViewRole', 'HandMade') });
    const refused = await world.json(['preflight', ENV, '--config', config(api)]);
    expect(check(refused.doc, 'existing-connector')).toMatchObject({
      status: 'fail',
      value: expect.stringMatching(/another name: "hand-made"/),
      remedy: expect.stringMatching(/cloudView\.adoptExisting/),
    });
    expect(refused.code).toBe(1);
    const adopted = await world.json(['preflight', ENV, '--config', config(api, { adoptExisting: true })]);
    expect(check(adopted.doc, 'existing-connector')).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/takes it over/),
    });
  });

  test('GIVEN our own leftover (the default name) WHEN preflight runs THEN it warns that the deploy adopts it', async () => {
    world.sim.seedConnector({ name: NAME, arn: ROLE });
    const { doc } = await world.json(['preflight', ENV, '--config', config(api)]);
    expect(check(doc, 'existing-connector')).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/deploy adopts it/),
    });
  });

  test('GIVEN a deployed connector that ran well and evaluations WHEN status runs THEN state, syncs, no errors and the pass/fail summary', async () => {
    const seeded = world.sim.seedConnector({ name: NAME, arn: ROLE, state: 'FINISHED_SUCCESS' });
    // CloudView names a connector by its UUID, Connectors 3.0 by its number.
    const id = api === 'cloudview' ? seeded.uuid : String(seeded.id);
    world.deployed({ outputs: { CloudViewConnectorId: id } });
    world.sim.seedEvaluations(ACCOUNT);
    const { doc } = await world.json(['status', ENV, '--config', config(api)]);
    expect(check(doc, 'connector')).toMatchObject({
      status: 'pass',
      value: expect.stringMatching(new RegExp(`"${NAME}" \\(ID ${id}\\)`)),
    });
    expect(check(doc, 'connector-errors')).toMatchObject({ status: 'pass', value: 'none' });
    expect(check(doc, 'control-evaluations')).toMatchObject({
      status: 'pass',
      value: expect.stringMatching(/^\d+ passed, \d+ failed; worst failing: /),
    });
  });
});

describe('a user the connector APIs refuse', () => {
  const refused = useCliWorld({ sim: { users: [{ ...PROD_SITE.USER, denied: ['qps', 'cloudview'] }] } });

  test.each(['connectors-v3', 'cloudview'] as const)(
    'GIVEN the %s API WHEN preflight runs THEN connector-api fails with the status and what to ask for',
    async (api) => {
      const file = refused.config({ cloudView: { api, apiUrl: refused.sim.apiUrl } });
      const { code, doc } = await refused.json(['preflight', ENV, '--config', file]);
      expect(check(doc, 'connector-api')).toMatchObject({
        status: 'fail',
        value: expect.stringMatching(/HTTP 40[13]/),
        remedy: expect.stringMatching(/manage cloud connectors/),
      });
      expect(check(doc, 'existing-connector').status).toBe('skip');
      expect(code).toBe(1);
    },
  );
});

describe('status of a connector whose runs fail', () => {
  // No such role in AWS: every run's assume-role fails, as Qualys's would.
  const failing = useCliWorld({
    sim: {
      connectors: {
        runTiming: { queuedMs: 0, runningMs: 0 },
        trustChecker: () => ({ ok: false, reason: 'the role does not exist' }),
      },
    },
  });

  test('GIVEN a connector whose run could not assume the role WHEN status runs THEN connector fails and its errors are listed', async () => {
    const created = failing.sim.seedConnector({ name: NAME, arn: ROLE, startRun: true });
    failing.deployed({ outputs: { CloudViewConnectorId: String(created.id) } });
    const file = failing.config({ cloudView: { apiUrl: failing.sim.apiUrl } });
    const { doc } = await failing.json(['status', ENV, '--config', file]);
    expect(check(doc, 'connector')).toMatchObject({
      status: 'fail',
      value: expect.stringMatching(/FINISHED_ERRORS|ERROR/),
      remedy: expect.stringMatching(/external ID/),
    });
    expect(check(doc, 'connector-errors')).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/^\d+ errors?: .*role/i),
    });
  });
});
