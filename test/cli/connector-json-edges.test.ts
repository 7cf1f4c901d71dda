/**
 * Break-review (issue 13, second pass): `status` and `preflight --json` with cloudView, for
 * both APIs, under every named connector dialect: one well-formed JSON document, the
 * connector read, nothing secret (neither the password nor the Basic encoding of user:password).
 */
import { CONNECTOR_DIALECTS, type ConnectorDialectName } from '../../sim/connector-dialect';
import { check, expectNoSecrets, expectWellFormed, PROD_SITE, useCliWorld } from '../support/cli-world';

const { ACCOUNT, ENV, STACK } = PROD_SITE;
const NAME = `qs3-${ENV}-cloudview-${ACCOUNT}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/${STACK}-CloudViewRole`;
const APIS = ['connectors-v3', 'cloudview'] as const;

describe.each(Object.keys(CONNECTOR_DIALECTS) as ConnectorDialectName[])('the %s dialect', (dialect) => {
  const world = useCliWorld({
    sim: {
      connectors: {
        dialect,
        runTiming: { queuedMs: 0, runningMs: 0 },
        trustChecker: () => ({ ok: false, reason: 'AccessDenied: not authorized to perform sts:AssumeRole' }),
      },
    },
  });

  test.each(APIS)(
    'GIVEN a deployed %s connector whose run failed WHEN status --json runs THEN one well-formed document, the connector and its errors read, nothing secret',
    async (api) => {
      const seeded = world.sim.seedConnector({ name: NAME, arn: ROLE, startRun: true });
      const id = api === 'cloudview' ? seeded.uuid : String(seeded.id);
      world.deployed({ outputs: { CloudViewConnectorId: id } });
      world.sim.seedEvaluations(ACCOUNT);
      const file = world.config({ cloudView: { api, apiUrl: world.sim.apiUrl } });
      const { doc, run } = await world.json(['status', ENV, '--config', file]);
      expectWellFormed(doc);
      expectNoSecrets(world, run);
      expect(check(doc, 'connector').value).toContain(id);
      expect(check(doc, 'connector-errors')).toMatchObject({
        status: 'warn',
        value: expect.stringMatching(/assume|AccessDenied/i),
      });
      expect(check(doc, 'control-evaluations').status).toBe('pass');
    },
  );

  test.each(APIS)(
    'GIVEN our own leftover (%s) WHEN preflight --json runs THEN one well-formed document that says the deploy adopts it, nothing secret',
    async (api) => {
      world.sim.seedConnector({ name: NAME, arn: ROLE });
      const file = world.config({ cloudView: { api, apiUrl: world.sim.apiUrl } });
      const { doc, run } = await world.json(['preflight', ENV, '--config', file]);
      expectWellFormed(doc);
      expectNoSecrets(world, run);
      expect(check(doc, 'connector-api').status).toBe('pass');
      expect(check(doc, 'existing-connector')).toMatchObject({
        status: 'warn',
        value: expect.stringMatching(/adopts/),
      });
    },
  );
});
