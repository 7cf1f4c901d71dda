/**
 * The connector plan, a pure function: what a create adopts, refuses or creates; what an update
 * does in place or replaces (and says why); what a delete keeps.
 */
import { parseConnectorProperties } from '../../../../src/core/connector-properties';
import { AdoptionRefusedError } from '../../../../src/core/errors';
import {
  encodeConnectorPhysicalId,
  parseConnectorPhysicalId,
  planConnectorCreate,
  planConnectorDelete,
  planConnectorUpdate,
} from '../../../../src/core/lifecycle/connector/lifecycle';
import type { Connector } from '../../../../src/core/qualys/connectors/api';
import { ACCOUNT, EXTERNAL_ID, NAME, ROLE, connectorProps } from '../../../support/connector-world';

const spec = (overrides = {}) => parseConnectorProperties(connectorProps('connectors-v3', overrides));
const connector = (fields: Partial<Connector>): Connector => ({ id: '9', raw: {}, ...fields });
const names = (steps: { name: string }[]) => steps.map((s) => s.name);

describe('create', () => {
  test('GIVEN nothing listed THEN create, run, wait', () => {
    expect(names(planConnectorCreate(spec(), []))).toEqual(['create', 'run', 'wait']);
  });

  test('GIVEN our name, account and role THEN it is adopted as ours', () => {
    const c = connector({ name: NAME, awsAccountId: ACCOUNT, roleArn: ROLE, externalId: EXTERNAL_ID });
    expect(planConnectorCreate(spec(), [c])[0]).toMatchObject({ name: 'adopt', connectorId: '9', foreign: false });
  });

  test('GIVEN our name and account but no role reported THEN it is no proof of ours: refused without adoptExisting', () => {
    const c = connector({ name: NAME, awsAccountId: ACCOUNT });
    expect(() => planConnectorCreate(spec(), [c])).toThrow(AdoptionRefusedError);
  });

  test('GIVEN our name with another external ID THEN it is foreign: refused, or adopted as foreign with adoptExisting', () => {
    const c = connector({ name: NAME, awsAccountId: ACCOUNT, roleArn: ROLE, externalId: 'other' });
    expect(() => planConnectorCreate(spec(), [c])).toThrow(AdoptionRefusedError);
    expect(planConnectorCreate(spec({ adoptExisting: true }), [c])[0]).toMatchObject({ name: 'adopt', foreign: true });
  });

  test('GIVEN two foreign connectors for the account WHEN adoptExisting THEN it is refused: which one is not ours to choose', () => {
    const list = [
      connector({ id: '1', name: 'a', awsAccountId: ACCOUNT }),
      connector({ id: '2', name: 'b', awsAccountId: ACCOUNT }),
    ];
    expect(() => planConnectorCreate(spec({ adoptExisting: true }), list)).toThrow(/more than one/);
  });

  test('GIVEN ours and another for the account THEN ours is adopted and the other named as left alone', () => {
    const list = [
      connector({ id: '1', name: NAME, awsAccountId: ACCOUNT, roleArn: ROLE }),
      connector({ id: '2', name: 'b', awsAccountId: ACCOUNT }),
    ];
    expect(planConnectorCreate(spec(), list)[0]).toMatchObject({ connectorId: '1', others: ['2'] });
  });

  test('GIVEN the connector an update replaces THEN it is not in the way', () => {
    const old = connector({
      id: '5',
      name: NAME,
      awsAccountId: ACCOUNT,
      roleArn: 'arn:aws:iam::123456789012:role/Old',
    });
    expect(names(planConnectorCreate(spec(), [old], { exclude: '5' }))).toEqual(['create', 'run', 'wait']);
  });
});

describe('update', () => {
  const current = parseConnectorPhysicalId('connectors-v3:5@qualysapi.qg2.apps.qualys.com');

  test('GIVEN nothing that Qualys holds changed (timeout, adoptExisting) THEN no step', () => {
    expect(planConnectorUpdate(spec(), spec({ validationTimeoutSeconds: 900, adoptExisting: true }), current)).toEqual(
      [],
    );
  });

  test('GIVEN name, description, modules, polling and remediation THEN one in-place update naming them', () => {
    const next = spec({
      name: 'n2',
      description: 'd2',
      modules: ['assetInventory'],
      pollingHours: 8,
      remediation: true,
    });
    expect(planConnectorUpdate(spec(), next, current)).toEqual([
      expect.objectContaining({
        name: 'update',
        connectorId: '5',
        changes: ['name', 'description', 'modules', 'pollingHours', 'remediation'],
      }),
    ]);
  });

  test('GIVEN the modules in another order THEN nothing changed', () => {
    const next = spec({ modules: ['securityAssessment', 'cloudInventory', 'assetInventory'] });
    expect(planConnectorUpdate(spec(), next, current)).toEqual([]);
  });

  test.each([
    ['the account', { awsAccountId: '210987654321' }, /AWS account changed/],
    ['the API server', { apiUrl: 'https://qualysapi.qualys.eu' }, /API server changed/],
  ])('GIVEN %s changed THEN a new connector, and the plan says why', (_what, overrides, why) => {
    const [step] = planConnectorUpdate(spec(), spec(overrides), current);
    expect(step.name).toBe('replace');
    expect(step.reason).toMatch(why);
  });
});

test('GIVEN the API changed THEN the plan refuses it, changing nothing: both APIs manage the same connector', () => {
  const current = parseConnectorPhysicalId('connectors-v3:5@qualysapi.qg2.apps.qualys.com');
  expect(() => planConnectorUpdate(spec(), spec({ api: 'cloudview' }), current)).toThrow(
    /"cloudView\.api" changed from "connectors-v3" to "cloudview".*Nothing was changed/,
  );
});

test.each([
  ['the role ARN', { roleArn: 'arn:aws:iam::123456789012:role/Other' }, 'role'],
  ['the external ID', { externalId: 'new' }, 'externalId'],
])(
  'GIVEN %s changed THEN the same connector is updated in place (a second one for the account Qualys may refuse)',
  (_what, overrides, change) => {
    const [step] = planConnectorUpdate(
      spec(),
      spec(overrides),
      parseConnectorPhysicalId('connectors-v3:5@qualysapi.qg2.apps.qualys.com'),
    );
    expect(step).toMatchObject({ name: 'update', changes: [change] });
  },
);

describe('delete and the physical ID', () => {
  test('GIVEN an adopted foreign connector THEN a rollback (or an unknown status) puts it back; a stack delete deletes it', () => {
    const { physicalId } = encodeConnectorPhysicalId(
      { api: 'cloudview', apiUrl: 'http://127.0.0.1:8443', id: 'u-1', foreign: true },
      { adoptedFrom: { name: 'theirs' } },
    );
    const current = parseConnectorPhysicalId(physicalId);
    expect(current).toMatchObject({
      api: 'cloudview',
      id: 'u-1',
      host: '127.0.0.1:8443',
      foreign: true,
      record: { adoptedFrom: { name: 'theirs' } },
    });
    if (!current) return;
    expect(names(planConnectorDelete(current, 'UPDATE_ROLLBACK_IN_PROGRESS'))).toEqual(['restore-adopted']);
    expect(names(planConnectorDelete(current, undefined))).toEqual(['restore-adopted']);
    expect(names(planConnectorDelete(current, 'DELETE_IN_PROGRESS'))).toEqual(['delete']);
  });

  test('GIVEN physical IDs of other resources THEN they name no connector', () => {
    for (const id of ['vm:17@gateway.qg1.apps.qualys.com', '2026/12/02/[$LATEST]abc', '', 'cloudview:@x']) {
      expect(parseConnectorPhysicalId(id)).toBeUndefined();
    }
  });
});
