/**
 * The connector lifecycle end to end over the fake connector server, for BOTH APIs: create
 * (through IAM propagation), adopt, refuse, a failed create that cleans up, rate limits and an
 * ambiguous create, update in place / none / replacement, delete and delete-already-gone.
 */
import { CONNECTOR_APIS, type ConnectorApiKind } from '../../../../src/core/connector-contract';
import { AdoptionRefusedError } from '../../../../src/core/errors';
import { onConnectorEvent, parseConnectorPhysicalId } from '../../../../src/core/lifecycle/connector/lifecycle';
import { API_URL } from '../../../support/connector-fakes';
import {
  ACCOUNT,
  EXTERNAL_ID,
  NAME,
  ROLE,
  assertNoCredentialsIn,
  connectorCreate,
  connectorDelete,
  connectorProps,
  connectorUpdate,
  connectorWorld,
  events,
} from '../../../support/connector-world';

const CREATE_PATH = /\/create\/am\/awsassetdataconnector$|\/aws\/connectors$/;
const isCreate = (api: ConnectorApiKind, method: string, url: string) =>
  method === 'POST' && CREATE_PATH.test(new URL(url).pathname) && (api === 'connectors-v3' || !url.includes('/run'));

describe.each(CONNECTOR_APIS)('%s', (api) => {
  describe('create', () => {
    test('GIVEN a role IAM takes 45 s to propagate WHEN created THEN the connector is created once, re-run through the assume-role errors, and answered SUCCESS', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 45_000);
      const out = await onConnectorEvent(connectorCreate(connectorProps(api)), w.deps);
      expect(w.server.connectors.size).toBe(1);
      const [stored] = [...w.server.connectors.values()];
      expect(stored).toMatchObject({
        name: NAME,
        arn: ROLE,
        externalId: EXTERNAL_ID,
        awsAccountId: ACCOUNT,
        state: 'SUCCESS',
      });
      expect(out.Data).toEqual({ ConnectorId: stored.id, ConnectorName: NAME, State: 'SUCCESS' });
      expect(parseConnectorPhysicalId(out.PhysicalResourceId)).toMatchObject({ api, id: stored.id, foreign: false });
      expect(out.PhysicalResourceId).toBe(`${api}:${stored.id}@qualysapi.qg2.apps.qualys.com`);
      expect(w.server.requests.filter((r) => isCreate(api, r.method, r.url))).toHaveLength(1);
      expect(w.server.requests.filter((r) => /run/.test(r.url)).length).toBeGreaterThan(1);
      expect(events(w.lines)).toEqual(
        expect.arrayContaining(['connector.created', 'connector.waiting', 'connector.role-assumed']),
      );
      assertNoCredentialsIn(w.lines);
      for (const r of w.server.requests) expect(new URL(r.url).origin).toBe(API_URL);
    });

    test('GIVEN a role trusted at once WHEN created THEN one run is enough', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      await onConnectorEvent(connectorCreate(connectorProps(api)), w.deps);
      expect(w.server.requests.filter((r) => /run/.test(r.url))).toHaveLength(1);
    });

    test('GIVEN a role Qualys can never assume WHEN created THEN it fails within the wait naming the role, and the connector it created is deleted', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, 'another-external-id', 0);
      const started = w.clock.now();
      const failure = await onConnectorEvent(
        connectorCreate(connectorProps(api, { validationTimeoutSeconds: 120 })),
        w.deps,
      ).catch((e: Error) => e);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(new RegExp(`could assume role ${ROLE.replace(/[/]/g, '\\/')} within`));
      expect((failure as Error).message).toMatch(/sts:AssumeRole/);
      expect((failure as Error).message).toMatch(/was deleted again/);
      expect(w.server.connectors.size).toBe(0);
      expect(w.clock.now() - started).toBeLessThan(125_000);
      assertNoCredentialsIn([...w.lines, (failure as Error).message]);
    });

    test('GIVEN a leftover of this environment (same name, account and role) WHEN created THEN it is adopted, not created again', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      const leftover = w.server.seed({
        name: NAME,
        awsAccountId: ACCOUNT,
        arn: ROLE,
        externalId: EXTERNAL_ID,
        description: 'old',
      });
      const out = await onConnectorEvent(connectorCreate(connectorProps(api)), w.deps);
      expect(out.Data.ConnectorId).toBe(leftover.id);
      expect(out.PhysicalResourceId).not.toContain(':adopted');
      expect(w.server.connectors.get(leftover.id)?.description).toBe('dev environment');
      expect(w.server.requests.filter((r) => isCreate(api, r.method, r.url))).toHaveLength(0);
    });

    test('GIVEN another connector for this account WHEN created without adoptExisting THEN it is refused naming it and the choices, changing nothing', async () => {
      const w = connectorWorld(api);
      const theirs = w.server.seed({
        name: 'security-team',
        awsAccountId: ACCOUNT,
        arn: `arn:aws:iam::${ACCOUNT}:role/TheirRole`,
      });
      const failure = await onConnectorEvent(connectorCreate(connectorProps(api)), w.deps).catch((e: Error) => e);
      expect(failure).toBeInstanceOf(AdoptionRefusedError);
      expect((failure as Error).message).toContain(`"security-team" (ID ${theirs.id}`);
      expect((failure as Error).message).toMatch(/adoptExisting.*true/);
      expect(w.server.connectors.get(theirs.id)).toMatchObject({
        name: 'security-team',
        arn: `arn:aws:iam::${ACCOUNT}:role/TheirRole`,
      });
      expect(w.server.requests.filter((r) => r.method !== 'GET' && !/search/.test(r.url))).toEqual([]);
    });

    test('GIVEN a connector of our name with another role WHEN created with adoptExisting THEN it is adopted (:adopted), pointed at our role', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      const theirs = w.server.seed({ name: NAME, awsAccountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:role/Old` });
      const out = await onConnectorEvent(connectorCreate(connectorProps(api, { adoptExisting: true })), w.deps);
      expect(out.PhysicalResourceId).toMatch(new RegExp(`^${api}:${theirs.id}@.*:adopted~`));
      expect(w.server.connectors.get(theirs.id)).toMatchObject({
        arn: ROLE,
        externalId: EXTERNAL_ID,
        state: 'SUCCESS',
      });
    });

    test('GIVEN an adopted foreign connector WHEN the wait fails THEN it is put back as it was, not deleted', async () => {
      const w = connectorWorld(api);
      const theirs = w.server.seed({
        name: 'security-team',
        awsAccountId: ACCOUNT,
        arn: `arn:aws:iam::${ACCOUNT}:role/Old`,
        externalId: 'theirs',
      });
      const failure = await onConnectorEvent(
        connectorCreate(connectorProps(api, { adoptExisting: true, validationTimeoutSeconds: 60 })),
        w.deps,
      ).catch((e: Error) => e);
      expect((failure as Error).message).toMatch(/was put back as it was/);
      expect(w.server.connectors.get(theirs.id)).toMatchObject({
        name: 'security-team',
        arn: `arn:aws:iam::${ACCOUNT}:role/Old`,
        externalId: 'theirs',
      });
    });

    test('GIVEN a connector of our name for another AWS account WHEN created, even with adoptExisting THEN it is refused', async () => {
      const w = connectorWorld(api);
      w.server.seed({ name: NAME, awsAccountId: '210987654321', arn: 'arn:aws:iam::210987654321:role/R' });
      await expect(
        onConnectorEvent(connectorCreate(connectorProps(api, { adoptExisting: true })), w.deps),
      ).rejects.toThrow(/for another AWS account.*not taken over/);
      expect(w.server.connectors.size).toBe(1);
    });

    test('GIVEN Qualys rate-limits the create with 409 and X-RateLimit-ToWait-Sec WHEN created THEN the wait is honoured and one connector made', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      let limited = false;
      w.server.hooks.push((req) => {
        if (limited || !isCreate(api, req.method, req.url)) return undefined;
        limited = true;
        return {
          status: 409,
          headers: {
            'content-type': 'application/json',
            'x-ratelimit-limit': '300',
            'x-ratelimit-window-sec': '3600',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-towait-sec': '42',
          },
          body: JSON.stringify({ message: 'Conflict' }),
        };
      });
      await onConnectorEvent(connectorCreate(connectorProps(api)), w.deps);
      expect(w.server.connectors.size).toBe(1);
      expect(Math.max(...w.clock.sleeps)).toBeGreaterThanOrEqual(42_000);
      expect(w.lines.some((l) => l.includes('"qualys.retrying"') && l.includes('rate limited'))).toBe(true);
    });

    test('GIVEN the create goes through but its answer is a 502 WHEN created THEN the connector is found by name and account, not created twice', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      let failed = false;
      w.server.hooks.push(async (req, _n, forward) => {
        if (failed || !isCreate(api, req.method, req.url)) return undefined;
        failed = true;
        await forward();
        return {
          status: 502,
          headers: { 'content-type': 'text/html' },
          body: '<html><title>502 Bad Gateway</title></html>',
        };
      });
      const out = await onConnectorEvent(connectorCreate(connectorProps(api)), w.deps);
      expect(w.server.connectors.size).toBe(1);
      expect(w.server.requests.filter((r) => isCreate(api, r.method, r.url))).toHaveLength(1);
      expect(out.Data.ConnectorId).toBe([...w.server.connectors.keys()][0]);
      expect(events(w.lines)).toContain('connector.create-went-through');
    });

    test('GIVEN the connection is reset before Qualys acted WHEN created THEN it searches, finds none, and creates once', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      let reset = false;
      w.server.hooks.push((req) => {
        if (reset || !isCreate(api, req.method, req.url)) return undefined;
        reset = true;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      });
      await onConnectorEvent(connectorCreate(connectorProps(api)), w.deps);
      expect(w.server.connectors.size).toBe(1);
      expect(w.server.requests.filter((r) => isCreate(api, r.method, r.url))).toHaveLength(2);
    });
  });

  describe('update', () => {
    async function created() {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      const props = connectorProps(api);
      const out = await onConnectorEvent(connectorCreate(props), w.deps);
      w.server.requests.length = 0;
      w.lines.length = 0;
      const reads = w.secrets.reads;
      return { w, props, out, reads };
    }

    test('GIVEN the same properties WHEN updated THEN no call is made and the secret is not read', async () => {
      const { w, props, out, reads } = await created();
      const again = await onConnectorEvent(connectorUpdate(out.PhysicalResourceId, props, { ...props }), w.deps);
      expect(w.server.requests).toEqual([]);
      expect(w.secrets.reads).toBe(reads);
      expect(again.PhysicalResourceId).toBe(out.PhysicalResourceId);
      expect(again.Data).toMatchObject({ ConnectorId: out.Data.ConnectorId, State: 'UNCHANGED' });
    });

    test('GIVEN a new description and polling WHEN updated THEN the connector is updated in place (same ID)', async () => {
      const { w, props, out } = await created();
      const next = connectorProps(api, { description: 'renamed', pollingHours: 12, remediation: true });
      const again = await onConnectorEvent(connectorUpdate(out.PhysicalResourceId, props, next), w.deps);
      expect(again.PhysicalResourceId).toBe(out.PhysicalResourceId);
      expect(w.server.connectors.get(out.Data.ConnectorId)).toMatchObject({
        description: 'renamed',
        pollingMinutes: 720,
        remediation: true,
      });
      expect(w.server.requests.filter((r) => isCreate(api, r.method, r.url))).toHaveLength(0);
      expect(w.lines.find((l) => l.includes('connector.updated'))).toMatch(/description.*pollingHours.*remediation/);
    });

    test('GIVEN a new role ARN WHEN updated THEN the same connector takes it, in place, and is shown to assume it', async () => {
      const { w, props, out } = await created();
      const role2 = `arn:aws:iam::${ACCOUNT}:role/QualysCloudView-dev-2`;
      w.server.role(role2, EXTERNAL_ID, 0);
      const again = await onConnectorEvent(
        connectorUpdate(out.PhysicalResourceId, props, connectorProps(api, { roleArn: role2 })),
        w.deps,
      );
      expect(again.PhysicalResourceId).toBe(out.PhysicalResourceId);
      expect(w.server.connectors.size).toBe(1);
      expect(w.lines.find((l) => l.includes('connector.updated'))).toMatch(/role/);
    });

    test('GIVEN the connector was deleted outside the stack WHEN updated THEN it is created again', async () => {
      const { w, props, out } = await created();
      w.server.connectors.clear();
      const again = await onConnectorEvent(
        connectorUpdate(out.PhysicalResourceId, props, connectorProps(api, { description: 'x' })),
        w.deps,
      );
      expect(w.server.connectors.size).toBe(1);
      expect(again.PhysicalResourceId).not.toBe(out.PhysicalResourceId);
      expect(events(w.lines)).toContain('connector.update-gone-creating');
    });
  });

  describe('delete', () => {
    test('GIVEN a created connector WHEN deleted, and deleted again THEN it is gone, and the second delete is done at once', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      const props = connectorProps(api);
      const out = await onConnectorEvent(connectorCreate(props), w.deps);
      await expect(onConnectorEvent(connectorDelete(out.PhysicalResourceId, props), w.deps)).resolves.toMatchObject({
        PhysicalResourceId: out.PhysicalResourceId,
      });
      expect(w.server.connectors.size).toBe(0);
      await expect(onConnectorEvent(connectorDelete(out.PhysicalResourceId, props), w.deps)).resolves.toBeDefined();
      expect(events(w.lines)).toEqual(expect.arrayContaining(['connector.deleted', 'connector.already-gone']));
    });

    test('GIVEN a physical ID that never named a connector WHEN deleted THEN it answers at once, reading nothing', async () => {
      const w = connectorWorld(api);
      const physicalId = '2026/12/02/[$LATEST]abcdef';
      await expect(onConnectorEvent(connectorDelete(physicalId, {}), w.deps)).resolves.toEqual({
        PhysicalResourceId: physicalId,
        Data: {},
      });
      expect(w.server.requests).toEqual([]);
      expect(w.secrets.reads).toBe(0);
    });

    test('GIVEN an adopted foreign connector WHEN the stack rolls back THEN it is put back as it was, not deleted', async () => {
      const w = connectorWorld(api);
      w.server.role(ROLE, EXTERNAL_ID, 0);
      const theirs = w.server.seed({
        name: 'security-team',
        awsAccountId: ACCOUNT,
        arn: `arn:aws:iam::${ACCOUNT}:role/Old`,
        externalId: 'theirs',
      });
      const props = connectorProps(api, { adoptExisting: true });
      const out = await onConnectorEvent(connectorCreate(props), w.deps);
      w.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
      await onConnectorEvent(connectorDelete(out.PhysicalResourceId, props), w.deps);
      expect(w.server.connectors.get(theirs.id)).toMatchObject({
        name: 'security-team',
        arn: `arn:aws:iam::${ACCOUNT}:role/Old`,
      });
      w.stacks.value = 'DELETE_IN_PROGRESS';
      await onConnectorEvent(connectorDelete(out.PhysicalResourceId, props), w.deps);
      expect(w.server.connectors.size).toBe(0);
    });
  });
});
