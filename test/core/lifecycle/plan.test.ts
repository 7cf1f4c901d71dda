/**
 * The plan on its own: desired spec, old spec, observed state and event kind in, named steps
 * out. No simulator, no clients: the function reads nothing.
 */
import { Prop } from '../../../src/core/contract';
import {
  type CreateRecord,
  type PhysicalId,
  encodePhysicalId,
  parsePhysicalId,
} from '../../../src/core/lifecycle/physical-id';
import { NOTHING_OBSERVED, type Observed, type PlanEvent, type StepName, plan } from '../../../src/core/lifecycle/plan';
import { type IntegrationSpec, parseProperties } from '../../../src/core/resource-properties';
import type { IntegrationDetails } from '../../../src/core/qualys/client';
import { VM_DEFAULT_SETTINGS } from '../../support/fixtures';
import { props } from '../../support/lifecycle-world';

const GATEWAY = 'https://gateway.qg2.apps.qualys.com';
/** The properties the construct writes, parsed as the handler parses them. */
function spec(kind: 'vm' | 'pc', overrides: Record<string, unknown> = {}): IntegrationSpec {
  return parseProperties(props({ gateway: GATEWAY }, kind, overrides));
}

/** As the codec reads it back; `incomplete` stands for a record that did not fit the ID. */
function physicalId(kind: 'vm' | 'pc', record: CreateRecord = {}, foreign = false): PhysicalId {
  if (record.incomplete) return { kind, id: '77', foreign, record };
  return parsePhysicalId(encodePhysicalId({ kind, gatewayUrl: GATEWAY, id: '77', foreign }, record).physicalId)!;
}

const seen = (details: IntegrationDetails | undefined): Observed => ({
  ...NOTHING_OBSERVED,
  integration: { state: 'known', value: details },
});
const names = (desired: IntegrationSpec, event: PlanEvent, observed: Observed = NOTHING_OBSERVED): StepName[] =>
  plan(desired, event, observed).map((s) => s.name);

describe('the plan of a create', () => {
  test.each<[string, IntegrationSpec, Observed, StepName[]]>([
    ['VM, no integration of the name', spec('vm'), seen(undefined), ['register', 'write-trust', 'validate']],
    [
      'PC with policies and a filter',
      spec('pc', {
        [Prop.Cips]: JSON.stringify({
          policies: [101],
          filter: {
            includeEvidenceData: true,
            includeFailPosture: true,
            includePassPosture: false,
            includeErrorPosture: false,
          },
        }),
      }),
      seen(undefined),
      ['register', 'put-settings', 'write-trust', 'validate', 'add-policies', 'set-filter'],
    ],
    [
      "VM, this environment's leftover of the name",
      spec('vm'),
      seen({ integrationId: '9', name: 'qs3-dev-vm-123456789012-us-east-1', bucketName: 'findings-bucket' }),
      ['adopt', 'write-trust', 'validate'],
    ],
  ])('GIVEN %s WHEN planned THEN the steps are as listed', (_what, desired, observed, expected) => {
    expect(names(desired, { kind: 'create' }, observed)).toEqual(expected);
  });

  test('GIVEN a foreign integration of the name and adoptExisting true WHEN planned THEN it is adopted, marked foreign, with the reason', () => {
    const [adopt] = plan(
      spec('vm', { [Prop.AdoptExisting]: 'true', [Prop.IntegrationName]: 'shared' }),
      { kind: 'create' },
      seen({ integrationId: '9', name: 'shared', bucketName: 'other-bucket', roleArn: 'arn:aws:iam::1:role/x' }),
    );
    expect(adopt).toMatchObject({ name: 'adopt', integrationId: '9', foreign: true });
    expect(adopt.reason).toMatch(/adoptExisting.*put back as it was if the create fails/);
  });

  test('GIVEN a foreign integration of the name and adoptExisting false WHEN planned THEN the plan refuses, naming the setting', () => {
    expect(() =>
      plan(
        spec('vm', { [Prop.IntegrationName]: 'shared' }),
        { kind: 'create' },
        seen({ integrationId: '9', name: 'shared', bucketName: 'other-bucket', roleArn: 'arn:aws:iam::1:role/x' }),
      ),
    ).toThrow(/already exists in Qualys \(ID 9, bucket other-bucket.*"vm\.adoptExisting": true/);
  });

  test('GIVEN an integration of the name listed without an ID WHEN planned THEN the plan refuses and says nothing was changed', () => {
    expect(() =>
      plan(
        spec('vm'),
        { kind: 'create' },
        seen({ name: 'qs3-dev-vm-123456789012-us-east-1', bucketName: 'findings-bucket' }),
      ),
    ).toThrow(/did not report its ID.*Nothing was changed/);
  });

  test('GIVEN CIPS was read and holds one of two configured policies WHEN a PC create is planned THEN only the missing one is added', () => {
    const steps = plan(
      spec('pc'),
      { kind: 'create' },
      {
        ...seen(undefined),
        cips: { state: 'known', value: { policies: [101] } },
      },
    );
    expect(steps.find((s) => s.name === 'add-policies')?.policies).toEqual([102]);
  });
});

describe('the plan of an update', () => {
  const update = (old: IntegrationSpec, kind: 'vm' | 'pc' = 'vm', record = {}): PlanEvent => ({
    kind: 'update',
    old,
    physicalId: physicalId(kind, record),
  });

  test('GIVEN old and new properties the same WHEN planned THEN the plan is empty', () => {
    expect(plan(spec('vm'), update(spec('vm')), NOTHING_OBSERVED)).toEqual([]);
    expect(plan(spec('pc'), update(spec('pc'), 'pc'), NOTHING_OBSERVED)).toEqual([]);
  });

  test('GIVEN only a setting changed WHEN planned THEN it puts the settings and validates, naming the field', () => {
    const desired = spec('vm', { [Prop.Settings]: JSON.stringify({ ...VM_DEFAULT_SETTINGS, minSeverity: 5 }) });
    const steps = plan(desired, update(spec('vm')), NOTHING_OBSERVED);
    expect(steps.map((s) => s.name)).toEqual(['put-settings', 'validate']);
    expect(steps[0].reason).toMatch(/minSeverity/);
  });

  test('GIVEN externalIdRotation changed WHEN planned THEN it rotates, writes the trust policy and validates', () => {
    const steps = plan(spec('vm', { [Prop.ExternalIdRotation]: 'r2' }), update(spec('vm')), NOTHING_OBSERVED);
    expect(steps.map((s) => s.name)).toEqual(['rotate-external-id', 'write-trust', 'validate']);
    expect(steps[0].reason).toMatch(/externalIdRotation" changed from "" to "r2"/);
  });

  test('GIVEN externalIdRotation changed while the stack rolls back WHEN planned THEN nothing is regenerated', () => {
    const names = plan(spec('vm', { [Prop.ExternalIdRotation]: 'r2' }), update(spec('vm')), {
      ...NOTHING_OBSERVED,
      stackStatus: { state: 'known', value: 'UPDATE_ROLLBACK_IN_PROGRESS' },
    }).map((s) => s.name);
    expect(names).toEqual(['put-settings', 'validate']);
  });

  test('GIVEN the trust-policy fingerprint changed WHEN planned THEN the external ID is put back and validated only if needed', () => {
    const steps = plan(spec('vm', { [Prop.TrustPolicyFingerprint]: 'fp-2' }), update(spec('vm')), NOTHING_OBSERVED);
    expect(steps.map((s) => [s.name, s.onlyIf !== undefined])).toEqual([
      ['write-trust', true],
      ['validate', true],
    ]);
  });

  test('GIVEN the gateway changed WHEN planned THEN the integration is replaced, with the reason', () => {
    const steps = plan(
      spec('vm', { [Prop.GatewayUrl]: 'https://gateway.qg1.apps.qualys.eu' }),
      update(spec('vm')),
      NOTHING_OBSERVED,
    );
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ name: 'replace' });
    expect(steps[0].reason).toMatch(
      /gateway changed from https:\/\/gateway\.qg2.* to https:\/\/gateway\.qg1\.apps\.qualys\.eu/,
    );
  });

  test('GIVEN the integration was deleted outside the stack WHEN planned THEN it is registered again', () => {
    const steps = plan(
      spec('vm', { [Prop.Settings]: JSON.stringify({ ...VM_DEFAULT_SETTINGS, minSeverity: 5 }) }),
      update(spec('vm')),
      seen(undefined),
    );
    expect(steps.map((s) => s.name)).toEqual(['register']);
    expect(steps[0].reason).toMatch(/77 no longer exists in Qualys \(deleted outside this stack\)/);
  });

  test('GIVEN a policy added to the PC configuration WHEN planned THEN only that policy is added', () => {
    const desired = spec('pc', { [Prop.Cips]: JSON.stringify({ policies: [101, 102, 103] }) });
    const steps = plan(desired, update(spec('pc'), 'pc'), NOTHING_OBSERVED);
    expect(steps.map((s) => [s.name, s.policies])).toEqual([['add-policies', [103]]]);
  });

  test('GIVEN a policy dropped that was in CIPS before the create WHEN planned THEN it is not removed', () => {
    const desired = spec('pc', { [Prop.Cips]: JSON.stringify({ policies: [101] }) });
    const steps = plan(desired, update(spec('pc'), 'pc', { keptPolicies: [102] }), NOTHING_OBSERVED);
    expect(steps.map((s) => s.name)).toEqual(['check-cips']);
  });

  test('GIVEN a policy dropped and the CIPS configuration unreadable WHEN planned THEN there is no removal', () => {
    const desired = spec('pc', { [Prop.Cips]: JSON.stringify({ policies: [101] }) });
    const unread = plan(desired, update(spec('pc'), 'pc'), NOTHING_OBSERVED);
    const unreadable = plan(desired, update(spec('pc'), 'pc'), {
      ...NOTHING_OBSERVED,
      cips: { state: 'unknown', why: 'an answer of no known shape' },
    });
    expect(unread.map((s) => [s.name, s.policies])).toEqual([['remove-policies', [102]]]);
    expect(unreadable.map((s) => s.name)).not.toContain('remove-policies');
  });

  test('GIVEN the same properties but a role that lacks the external ID WHEN planned against the live state THEN it writes the trust policy and validates', () => {
    const steps = plan(spec('vm'), update(spec('vm')), {
      ...seen({ integrationId: '77', externalId: 'ext-1', integrationValidated: true }),
      trustedExternalIds: { state: 'known', value: ['qualys-s3-pending-registration-vm'] },
    });
    expect(steps.map((s) => s.name)).toEqual(['write-trust', 'validate']);
  });
});

describe('the plan of a delete', () => {
  test('GIVEN a VM resource WHEN planned THEN it deregisters the integration', () => {
    expect(names(spec('vm'), { kind: 'delete', physicalId: physicalId('vm') })).toEqual(['deregister']);
  });

  test.each<[string, CreateRecord, Observed, number[] | undefined]>([
    ['policies it put there', {}, NOTHING_OBSERVED, [101, 102]],
    ['one policy kept from before its create', { keptPolicies: [101] }, NOTHING_OBSERVED, [102]],
    ['no record of what it added', { incomplete: true }, NOTHING_OBSERVED, undefined],
    [
      'a CIPS configuration that could not be read',
      {},
      { ...NOTHING_OBSERVED, cips: { state: 'unknown', why: 'HTTP 200 of no known shape' } },
      undefined,
    ],
  ])(
    'GIVEN a PC resource with %s WHEN planned THEN it deregisters and removes what is listed',
    (_what, record, observed, removed) => {
      const steps = plan(spec('pc'), { kind: 'delete', physicalId: physicalId('pc', record) }, observed);
      expect(steps[0].name).toBe('deregister');
      expect(steps.find((s) => s.name === 'remove-policies')?.policies).toEqual(removed);
    },
  );

  test('GIVEN an adopted integration while the stack rolls back WHEN planned THEN it is put back, not deregistered', () => {
    const current = physicalId('vm', { adoptedFrom: { name: 'shared', minSeverity: 1 } }, true);
    expect(
      names(
        spec('vm'),
        { kind: 'delete', physicalId: current },
        {
          ...NOTHING_OBSERVED,
          stackStatus: { state: 'known', value: 'ROLLBACK_IN_PROGRESS' },
        },
      ),
    ).toEqual(['restore-adopted']);
  });
});
