import { Prop } from '../../src/core/contract';
import { PropertiesError } from '../../src/core/errors';
import {
  type IntegrationPropertiesInput,
  type IntegrationSpec,
  type ResourceProperties,
  parseProperties as schemaParse,
  resourceProperties,
} from '../../src/core/resource-properties';
import { VM_DEFAULT_SETTINGS } from '../support/fixtures';

const PREFIX = "The custom resource's properties are not as the construct sends them: ";
const VM_SETTINGS = { ...VM_DEFAULT_SETTINGS, errorEmails: ['ops@example.com'] };
const FILTER = {
  includeEvidenceData: true,
  includeFailPosture: true,
  includePassPosture: false,
  includeErrorPosture: false,
};

/** The properties as CloudFormation hands them to the Lambda for a VM integration. */
function vmProperties(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
    [Prop.Kind]: 'vm',
    [Prop.GatewayUrl]: 'https://gateway.qg1.apps.qualys.com',
    [Prop.CredentialsSecretId]: 'qualys/api-credentials',
    [Prop.RoleArn]: 'arn:aws:iam::123456789012:role/vm-role',
    [Prop.RoleName]: 'vm-role',
    [Prop.QualysPrincipalArn]: 'arn:aws:iam::805950163170:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE',
    [Prop.BucketName]: 'findings-bucket',
    [Prop.BucketRegion]: 'us-east-1',
    [Prop.IntegrationName]: 'qs3-dev-vm-123456789012-us-east-1',
    [Prop.DefaultIntegrationName]: 'qs3-dev-vm-123456789012-us-east-1',
    [Prop.Settings]: JSON.stringify(VM_SETTINGS),
    [Prop.ExternalIdRotation]: '2026-11',
    [Prop.AdoptExisting]: 'false',
    [Prop.ValidationTimeoutSeconds]: '600',
    [Prop.TrustPolicyFingerprint]: '0123456789abcdef',
    ...overrides,
  };
}

const VM_SPEC: IntegrationSpec = {
  kind: 'vm',
  gatewayUrl: 'https://gateway.qg1.apps.qualys.com',
  secretId: 'qualys/api-credentials',
  roleArn: 'arn:aws:iam::123456789012:role/vm-role',
  roleName: 'vm-role',
  principalArn: 'arn:aws:iam::805950163170:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE',
  bucketName: 'findings-bucket',
  bucketRegion: 'us-east-1',
  name: 'qs3-dev-vm-123456789012-us-east-1',
  defaultName: 'qs3-dev-vm-123456789012-us-east-1',
  settings: VM_SETTINGS,
  cips: { policies: [], filter: undefined },
  rotation: '2026-11',
  adoptExisting: false,
  validationTimeoutMs: 600_000,
  trustFingerprint: '0123456789abcdef',
};

const REQUIRED = [
  Prop.Kind,
  Prop.IntegrationName,
  Prop.GatewayUrl,
  Prop.CredentialsSecretId,
  Prop.RoleArn,
  Prop.RoleName,
  Prop.QualysPrincipalArn,
  Prop.BucketName,
  Prop.BucketRegion,
];

function problemsOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(PropertiesError);
    const message = (error as Error).message;
    expect(message.startsWith(PREFIX)).toBe(true);
    return message.slice(PREFIX.length);
  }
  throw new Error('expected the properties to be refused');
}

// The one reader the handler uses (lifecycle.ts reads the properties through it).
describe.each([['the schema in resource-properties.ts', schemaParse]])('parseProperties: %s', (_name, parse) => {
  test('GIVEN the properties of a VM integration WHEN parsed THEN every field is read and the service token ignored', () => {
    expect(parse(vmProperties())).toStrictEqual(VM_SPEC);
  });

  test('GIVEN a PC integration with CIPS policies and a filter WHEN parsed THEN the settings and CIPS come back decoded', () => {
    const spec = parse(
      vmProperties({
        [Prop.Kind]: 'pc',
        [Prop.Settings]: '{"compressData":false}',
        [Prop.Cips]: JSON.stringify({ policies: [101, 102], filter: FILTER }),
      }),
    );
    expect(spec.kind).toBe('pc');
    expect(spec.settings).toStrictEqual({ compressData: false });
    expect(spec.cips).toStrictEqual({ policies: [101, 102], filter: FILTER });
  });

  test('GIVEN no properties at all WHEN parsed THEN every required property is named, in one message', () => {
    expect(problemsOf(() => parse(undefined))).toBe(
      '"Kind" is missing; "IntegrationName" is missing; "Settings" is missing; "GatewayUrl" is missing; ' +
        '"CredentialsSecretId" is missing; "RoleArn" is missing; "RoleName" is missing; ' +
        '"QualysPrincipalArn" is missing; "BucketName" is missing; "BucketRegion" is missing',
    );
  });

  test.each(
    REQUIRED.flatMap((key) => [
      [key, 'absent', undefined] as const,
      ...[['empty', ''] as const, ['a number', 7] as const].map(([what, value]) => [key, what, value] as const),
    ]),
  )('GIVEN "%s" %s WHEN parsed THEN it is reported missing', (key, _what, value) => {
    const props = vmProperties({ [key]: value });
    if (value === undefined) delete props[key];
    expect(problemsOf(() => parse(props))).toBe(`"${key}" is missing`);
  });

  test('GIVEN a kind that is neither vm nor pc WHEN parsed THEN the message names the value and the allowed ones', () => {
    expect(problemsOf(() => parse(vmProperties({ [Prop.Kind]: 'VM' })))).toBe('"Kind" must be vm or pc, got "VM"');
  });

  test('GIVEN a name of 50 characters WHEN parsed THEN it is accepted', () => {
    expect(parse(vmProperties({ [Prop.IntegrationName]: 'n'.repeat(50) })).name).toBe('n'.repeat(50));
  });

  test('GIVEN a name over 50 characters WHEN parsed THEN the message gives its length and the configuration key to set', () => {
    const name = 'n'.repeat(51);
    expect(problemsOf(() => parse(vmProperties({ [Prop.Kind]: 'pc', [Prop.IntegrationName]: name })))).toBe(
      `the integration name "${name}" is 51 characters; Qualys allows 50: set "pc.name" in the configuration`,
    );
  });

  test('GIVEN a name over 50 characters and no kind WHEN parsed THEN both are reported, kind first', () => {
    const name = 'n'.repeat(60);
    expect(problemsOf(() => parse(vmProperties({ [Prop.Kind]: undefined, [Prop.IntegrationName]: name })))).toBe(
      `"Kind" is missing; the integration name "${name}" is 60 characters; Qualys allows 50: set ".name" in the configuration`,
    );
  });

  test.each([
    ['text that is not JSON', Prop.Settings, '{"compressData":', '"Settings" is not JSON'],
    ['an empty string', Prop.Settings, '', '"Settings" is not JSON'],
    ['a non-string', Prop.Settings, { compressData: true }, '"Settings" is missing'],
    ['text that is not JSON', Prop.Cips, 'policies=101', '"Cips" is not JSON'],
    ['null', Prop.Cips, null, '"Cips" is missing'],
  ])('GIVEN %s for "%s" WHEN parsed THEN it is reported', (_what, key, value, problem) => {
    expect(problemsOf(() => parse(vmProperties({ [key]: value })))).toBe(problem);
  });

  test.each([
    ['JSON null', 'null'],
    ['an object without policies', '{"filter":null}'],
    ['policies that are not a list', '{"policies":"101"}'],
    ['a number', '5'],
  ])('GIVEN CIPS as %s WHEN parsed THEN the policy list reads as empty', (_what, cips) => {
    expect(parse(vmProperties({ [Prop.Cips]: cips })).cips.policies).toEqual([]);
  });

  test('GIVEN settings that are a JSON object of any fields WHEN parsed THEN they pass through unchecked (the configuration checks them at synth)', () => {
    expect(parse(vmProperties({ [Prop.Settings]: '{"unknown":[1]}' })).settings).toEqual({ unknown: [1] });
  });

  test.each([
    ['absent (a resource from before the property)', undefined, 600_000],
    ['null', null, 600_000],
    ['"60"', '60', 60_000],
    ['" 60 " (Number() trims)', ' 60 ', 60_000],
    ['"1.5"', '1.5', 1_500],
    ['"6e2"', '6e2', 600_000],
  ])('GIVEN a validation timeout %s WHEN parsed THEN it reads as %s ms', (_what, value, ms) => {
    const props = vmProperties({ [Prop.ValidationTimeoutSeconds]: value });
    if (value === undefined) delete props[Prop.ValidationTimeoutSeconds];
    expect(parse(props).validationTimeoutMs).toBe(ms);
  });

  test.each([
    ['"0"', '0'],
    ['"-5"', '-5'],
    ['"ten"', 'ten'],
    ['""', ''],
    ['"Infinity"', 'Infinity'],
    ['{}', {}],
  ])('GIVEN a validation timeout %s WHEN parsed THEN it must be a positive number', (_what, value) => {
    expect(problemsOf(() => parse(vmProperties({ [Prop.ValidationTimeoutSeconds]: value })))).toBe(
      '"ValidationTimeoutSeconds" must be a positive number',
    );
  });

  test.each([
    ['"true"', 'true', true],
    ['true (a boolean)', true, true],
    ['"false"', 'false', false],
    ['"TRUE"', 'TRUE', false],
    ['"1"', '1', false],
    ['absent', undefined, false],
  ])('GIVEN AdoptExisting %s WHEN parsed THEN adoption is %s', (_what, value, adopt) => {
    expect(parse(vmProperties({ [Prop.AdoptExisting]: value })).adoptExisting).toBe(adopt);
  });

  test.each([
    [Prop.DefaultIntegrationName, 'defaultName'],
    [Prop.ExternalIdRotation, 'rotation'],
    [Prop.TrustPolicyFingerprint, 'trustFingerprint'],
  ] as const)('GIVEN "%s" absent or not a string WHEN parsed THEN %s reads as empty', (key, field) => {
    const absent = vmProperties();
    delete absent[key];
    expect(parse(absent)[field]).toBe('');
    expect(parse(vmProperties({ [key]: 42 }))[field]).toBe('');
    expect(parse(vmProperties({ [key]: '' }))[field]).toBe('');
  });

  test('GIVEN several wrong properties WHEN parsed THEN every problem is reported at once, in a fixed order', () => {
    const props = vmProperties({
      [Prop.Kind]: 'xx',
      [Prop.IntegrationName]: 'n'.repeat(51),
      [Prop.Settings]: 'nope',
      [Prop.Cips]: '{',
      [Prop.ValidationTimeoutSeconds]: '0',
      [Prop.BucketRegion]: '',
    });
    expect(problemsOf(() => parse(props))).toBe(
      `"Kind" must be vm or pc, got "xx"; the integration name "${'n'.repeat(51)}" is 51 characters; Qualys allows 50: ` +
        'set "xx.name" in the configuration; "Settings" is not JSON; "Cips" is not JSON; ' +
        '"ValidationTimeoutSeconds" must be a positive number; "BucketRegion" is missing',
    );
  });
});

// The handler reads the settings' fields by name: JSON that is no object is refused (issue 11's
// break-it pass; the hand-written reader before the schema let it through).
describe('Settings that are JSON but not an object', () => {
  test('GIVEN Settings of JSON null or a list WHEN parsed by the schema THEN each is refused, naming Settings', () => {
    expect(problemsOf(() => schemaParse(vmProperties({ [Prop.Settings]: 'null' })))).toBe(
      '"Settings" must be a JSON object ({...}), got null',
    );
    expect(problemsOf(() => schemaParse(vmProperties({ [Prop.Settings]: '[1]' })))).toBe(
      '"Settings" must be a JSON object ({...}), got a list',
    );
  });
});

describe('resourceProperties', () => {
  const { cips: _noCips, validationTimeoutMs: _inMs, ...vmFields } = VM_SPEC;
  const vmInput: IntegrationPropertiesInput = { ...vmFields, validationTimeoutSeconds: 600 };

  test('GIVEN a VM integration WHEN written THEN every value is a string and Cips is left out', () => {
    const written = resourceProperties(vmInput);
    expect(written).toStrictEqual({
      Kind: 'vm',
      GatewayUrl: 'https://gateway.qg1.apps.qualys.com',
      CredentialsSecretId: 'qualys/api-credentials',
      RoleArn: 'arn:aws:iam::123456789012:role/vm-role',
      RoleName: 'vm-role',
      QualysPrincipalArn: 'arn:aws:iam::805950163170:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE',
      BucketName: 'findings-bucket',
      BucketRegion: 'us-east-1',
      IntegrationName: 'qs3-dev-vm-123456789012-us-east-1',
      DefaultIntegrationName: 'qs3-dev-vm-123456789012-us-east-1',
      Settings: JSON.stringify(VM_SETTINGS),
      ExternalIdRotation: '2026-11',
      AdoptExisting: 'false',
      ValidationTimeoutSeconds: '600',
      TrustPolicyFingerprint: '0123456789abcdef',
    });
  });

  test.each([
    ['a VM integration', vmInput],
    [
      'a PC integration that adopts, with CIPS',
      {
        ...vmInput,
        kind: 'pc',
        settings: { compressData: false },
        cips: { policies: [101, 102], filter: FILTER },
        adoptExisting: true,
        validationTimeoutSeconds: 45,
      },
    ],
    ['a PC integration with policies and no filter', { ...vmInput, kind: 'pc', cips: { policies: [7] } }],
  ] as Array<[string, IntegrationPropertiesInput]>)(
    'GIVEN %s WHEN written and read back by either reader THEN the spec is what was written',
    (_what, input) => {
      const { validationTimeoutSeconds, cips, ...rest } = input;
      const expected: IntegrationSpec = {
        ...rest,
        cips: { policies: cips?.policies ?? [], filter: cips?.filter },
        validationTimeoutMs: validationTimeoutSeconds * 1000,
      };
      // Through JSON, as CloudFormation carries them.
      const delivered = JSON.parse(JSON.stringify(resourceProperties(input))) as Record<string, unknown>;
      expect(schemaParse(delivered)).toStrictEqual(expected);
    },
  );

  test('GIVEN a property left out or one the schema does not know WHEN compiled THEN tsc refuses it; WHEN read THEN the first is reported and the second ignored', () => {
    const written = resourceProperties(vmInput);
    const { Kind: _dropped, ...withoutKind } = written;
    // @ts-expect-error: "Kind" is required on the wire
    const incomplete: ResourceProperties = withoutKind;
    // @ts-expect-error: the schema has no such property
    const extra: ResourceProperties = { ...written, Gateway: 'https://gateway.qg1.apps.qualys.com' };
    // @ts-expect-error: the builder takes the spec's field names
    resourceProperties({ ...vmInput, gateway: 'https://gateway.qg1.apps.qualys.com' });
    expect(problemsOf(() => schemaParse(incomplete))).toBe('"Kind" is missing');
    expect(schemaParse(extra)).toStrictEqual(VM_SPEC);
  });
});
