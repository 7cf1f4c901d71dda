import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Prop, RESOURCE_TYPE } from '../../src/core/contract';
import { type EnvironmentConfig, parseConfig } from '../../src/config/config';
import { HANDLER_TIMEOUT } from '../../src/infra/integration-provider';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';
import { CIPS_DEFAULT_FILTER, VM_DEFAULT_SETTINGS, VPC } from '../support/fixtures';

const ROOT = path.join(__dirname, '..', '..');
const QUALYS_ROLE = 'QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE';
const PARTITION = { Ref: 'AWS::Partition' };

/** Template JSON, read loosely. */
type Json = any;

// ---------------------------------------------------------------------------------------------
// Synthesis, memoized: each distinct configuration is synthesized (and bundled) once per file.
// ---------------------------------------------------------------------------------------------

function configFor(env: Record<string, unknown>, envName = 'test'): EnvironmentConfig {
  return parseConfig({ environments: { [envName]: env } }).environments[0];
}

const templates = new Map<string, Template>();
// Cloud assemblies go under one folder this file removes, not into cdk.out* folders left in the temp directory.
const outRoot = mkdtempSync(path.join(tmpdir(), 'qualys-stack-test-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));
function synth(env: Record<string, unknown>, opts: { envName?: string; stackEnv?: Environment } = {}): Template {
  const key = JSON.stringify([env, opts]);
  let template = templates.get(key);
  if (!template) {
    const envName = opts.envName ?? 'test';
    const app = new App({ outdir: path.join(outRoot, String(templates.size)) });
    const stack = new QualysS3Stack(app, `QualysS3-${envName}`, {
      config: configFor(env, envName),
      env: opts.stackEnv,
    });
    template = Template.fromStack(stack);
    templates.set(key, template);
  }
  return template;
}

const BASE = { platform: 'US1', credentialsSecret: 'qualys/api' };
const BOTH = { ...BASE, vm: {}, pc: { policies: [101, 102], filter: {} } };
const VM_ONLY = { ...BASE, vm: {} };
const PC_ONLY = { ...BASE, pc: { policies: [5] } };
const NOT_RETAINED = { ...BOTH, bucket: { retainOnDelete: false } };

// ---------------------------------------------------------------------------------------------
// Helpers over the template JSON.
// ---------------------------------------------------------------------------------------------

function resources(template: Template, type?: string): Array<[string, Json]> {
  const all = Object.entries(template.toJSON().Resources as Record<string, Json>);
  return type ? all.filter(([, r]) => r.Type === type) : all;
}

function onlyId(template: Template, type: string, props: Json = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** Renders {Fn::Join}/{Ref} values as one readable string: arn:${AWS::Partition}:... */
function flat(value: Json): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `\${${value.Ref}}`;
  if (value?.['Fn::GetAtt']) return `\${${value['Fn::GetAtt'].join('.')}}`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(flat).join(value['Fn::Join'][0]);
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The roles whose trust policy names the Qualys principal. */
function qualysRoles(template: Template): Array<[string, Json]> {
  return resources(template, 'AWS::IAM::Role').filter(([, r]) =>
    JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(QUALYS_ROLE),
  );
}

/** Every statement of every IAM policy (inline, managed, default) and bucket policy in the template. */
function allPolicyStatements(template: Template): Array<{ owner: string; statement: Json }> {
  const out: Array<{ owner: string; statement: Json }> = [];
  for (const [id, r] of resources(template)) {
    const docs: Json[] = [];
    if (['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::S3::BucketPolicy'].includes(r.Type)) {
      docs.push(r.Properties.PolicyDocument);
    }
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
    for (const doc of docs) for (const statement of doc.Statement) out.push({ owner: id, statement });
  }
  return out;
}

/** The statements of the policies attached to one role. */
function statementsOfRole(template: Template, roleId: string): Json[] {
  const role = template.toJSON().Resources[roleId];
  const inline = (role.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement);
  const attached = resources(template, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles ?? []).some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  return [...inline, ...attached];
}

function integrations(template: Template): Array<[string, Json]> {
  return resources(template, RESOURCE_TYPE);
}

function integrationOf(template: Template, kind: 'vm' | 'pc'): Json {
  const found = integrations(template).filter(([, r]) => r.Properties.Kind === kind);
  expect(found).toHaveLength(1);
  return found[0][1].Properties;
}

/** The handler: the function the provider framework invokes. */
function handlerId(template: Template): string {
  const framework = resources(template, 'AWS::Lambda::Function').find(
    ([, f]) => f.Properties.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN,
  );
  expect(framework).toBeDefined();
  return framework![1].Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN['Fn::GetAtt'][0];
}

function frameworkId(template: Template): string {
  return resources(template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Handler === 'framework.onEvent')![0];
}

function roleOfFunction(template: Template, functionId: string): string {
  return template.toJSON().Resources[functionId].Properties.Role['Fn::GetAtt'][0];
}

// ---------------------------------------------------------------------------------------------

describe('findings bucket', () => {
  test('GIVEN the default configuration WHEN synthesized THEN the bucket is encrypted, private, versioned and owner-enforced', () => {
    const template = synth(BOTH);

    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('GIVEN the bucket WHEN synthesized THEN its policy denies every request made without TLS', () => {
    const template = synth(BOTH);
    const bucketId = onlyId(template, 'AWS::S3::Bucket');

    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [
              { 'Fn::GetAtt': [bucketId, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
            ],
          },
        ]),
      },
    });
  });

  test('GIVEN retainOnDelete by default WHEN synthesized THEN the bucket is retained and nothing empties it', () => {
    const template = synth(BOTH);

    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('GIVEN retainOnDelete false WHEN synthesized THEN the bucket is deleted and emptied first by the auto-delete custom resource', () => {
    const template = synth(NOT_RETAINED);
    const bucketId = onlyId(template, 'AWS::S3::Bucket');

    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: { Ref: bucketId } });
  });

  test('GIVEN a bucket name and tags WHEN synthesized THEN the bucket has that name and the tags', () => {
    const template = synth({ ...VM_ONLY, bucket: { bucketName: 'acme-qualys-findings' }, tags: { team: 'security' } });

    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'acme-qualys-findings',
      Tags: Match.arrayWith([{ Key: 'team', Value: 'security' }]),
    });
  });
});

describe('write policy', () => {
  test('GIVEN the stack WHEN synthesized THEN the managed policy allows exactly s3:PutObject on the bucket objects', () => {
    const template = synth(BOTH);
    const bucketId = onlyId(template, 'AWS::S3::Bucket');
    const [[, policy]] = resources(template, 'AWS::IAM::ManagedPolicy');

    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'PutFindings',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
      },
    ]);
  });

  test('GIVEN VM and PC WHEN synthesized THEN the write policy, and only it, is attached to each Qualys role', () => {
    const template = synth(BOTH);
    const policyId = onlyId(template, 'AWS::IAM::ManagedPolicy');
    const roles = qualysRoles(template);

    expect(roles).toHaveLength(2);
    for (const [roleId, role] of roles) {
      expect(role.Properties.ManagedPolicyArns).toEqual([{ Ref: policyId }]);
      expect(role.Properties.Policies).toBeUndefined();
      expect(statementsOfRole(template, roleId)).toEqual([]);
    }
  });
});

describe('Qualys roles', () => {
  test('GIVEN VM and PC WHEN synthesized THEN each role trusts the partition-aware Qualys principal only with an external ID', () => {
    const template = synth(BOTH);

    for (const kind of ['vm', 'pc']) {
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Principal: {
                AWS: { 'Fn::Join': ['', ['arn:', PARTITION, `:iam::805950163170:role/${QUALYS_ROLE}`]] },
              },
              Condition: { StringEquals: { 'sts:ExternalId': `qualys-s3-pending-registration-${kind}` } },
            },
          ],
        },
      });
    }
  });

  test.each([
    ['both integrations, no account/region', BOTH, undefined],
    ['account and region given', BOTH, { account: '123456789012', region: 'eu-west-1' }],
    ['retainOnDelete false', NOT_RETAINED, undefined],
  ])(
    'GIVEN %s WHEN synthesized THEN every statement trusting Qualys requires sts:ExternalId and no ARN names the aws partition',
    (_, env, stackEnv) => {
      const template = synth(env, { stackEnv });
      const statements = qualysRoles(template).flatMap(([, r]) => r.Properties.AssumeRolePolicyDocument.Statement);
      const trusting = statements.filter((s: Json) => JSON.stringify(s.Principal ?? {}).includes(QUALYS_ROLE));

      expect(trusting.length).toBeGreaterThanOrEqual(2);
      for (const statement of trusting) {
        expect(statement.Effect).toBe('Allow');
        expect(statement.Condition?.StringEquals?.['sts:ExternalId']).toEqual(expect.stringMatching(/\S/));
      }
      expect(JSON.stringify(template.toJSON())).not.toContain('arn:aws:');
    },
  );

  test('GIVEN a custom qualysAwsAccountId WHEN synthesized THEN the roles trust that account and not the default one', () => {
    const template = synth({ ...BOTH, qualysAwsAccountId: '111122223333' });
    const principals = qualysRoles(template).map(([, r]) =>
      flat(r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.AWS),
    );

    expect(principals).toEqual([
      `arn:\${AWS::Partition}:iam::111122223333:role/${QUALYS_ROLE}`,
      `arn:\${AWS::Partition}:iam::111122223333:role/${QUALYS_ROLE}`,
    ]);
    expect(JSON.stringify(template.toJSON())).not.toContain('805950163170');
  });
});

describe('handler and provider Lambdas', () => {
  test("GIVEN the stack WHEN synthesized THEN the handler runs on nodejs24.x for 840 s, under the framework's 900 s, logging to its log group", () => {
    const template = synth(BOTH);
    const handler = template.toJSON().Resources[handlerId(template)].Properties;
    const framework = template.toJSON().Resources[frameworkId(template)].Properties;

    expect(HANDLER_TIMEOUT.toSeconds()).toBe(840);
    expect(handler.Runtime).toBe('nodejs24.x');
    expect(handler.Timeout).toBe(840);
    expect(framework.Timeout).toBe(900);
    expect(handler.Timeout).toBeLessThan(framework.Timeout);
    expect(handler.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
    const logGroup = template.toJSON().Resources[handler.LoggingConfig.LogGroup.Ref];
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(90);
  });

  test.each([
    ['retainOnDelete true', BOTH, 2],
    ['retainOnDelete false (bucket auto-delete provider too)', NOT_RETAINED, 3],
  ])(
    'GIVEN %s WHEN synthesized THEN every function logs to a log group of this stack and every log group has a retention',
    (_, env, functions) => {
      const template = synth(env);
      const all = resources(template, 'AWS::Lambda::Function');

      expect(all).toHaveLength(functions);
      for (const [, fn] of all) {
        const logGroup = fn.Properties.LoggingConfig?.LogGroup;
        expect(logGroup).toEqual({ Ref: expect.any(String) });
        expect(template.toJSON().Resources[logGroup.Ref].Type).toBe('AWS::Logs::LogGroup');
      }
      const logGroups = resources(template, 'AWS::Logs::LogGroup');
      expect(logGroups).toHaveLength(functions);
      for (const [, group] of logGroups) expect(group.Properties.RetentionInDays).toBe(90);
    },
  );

  test('GIVEN logRetentionDays 30 WHEN synthesized THEN every log group keeps logs 30 days', () => {
    const template = synth({ ...NOT_RETAINED, logRetentionDays: 30 });
    const retentions = resources(template, 'AWS::Logs::LogGroup').map(([, g]) => g.Properties.RetentionInDays);

    expect(retentions).toEqual([30, 30, 30]);
  });
});

describe('least privilege', () => {
  test('GIVEN a secret name WHEN synthesized THEN the handler may read only that secret, by its suffixed ARN', () => {
    const template = synth(BOTH);
    const statements = statementsOfRole(template, roleOfFunction(template, handlerId(template)));
    const reads = statements.filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'));

    expect(reads).toHaveLength(1);
    expect(asArray(reads[0].Action)).toEqual(['secretsmanager:GetSecretValue']);
    expect(asArray(reads[0].Resource).map(flat)).toEqual([
      'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:qualys/api-??????',
    ]);
  });

  test('GIVEN a full secret ARN WHEN synthesized THEN the handler may read only that secret', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:qualys/api-AbCdEf';
    const template = synth({ ...VM_ONLY, credentialsSecret: arn });
    const statements = statementsOfRole(template, roleOfFunction(template, handlerId(template)));
    const resourcesRead = statements
      .filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => asArray(s.Resource));

    // A complete ARN (ending in Secrets Manager's -XXXXXX suffix) is granted exactly, with no wildcard.
    expect(resourcesRead).toEqual([arn]);
    template.hasResourceProperties(RESOURCE_TYPE, { [Prop.CredentialsSecretId]: arn });
  });

  test('GIVEN VM and PC WHEN synthesized THEN the handler may get and update the trust policy of the two Qualys roles only', () => {
    const template = synth(BOTH);
    const statements = statementsOfRole(template, roleOfFunction(template, handlerId(template)));
    const iamStatements = statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('iam:')));
    const qualysRoleArns = qualysRoles(template).map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] }));

    for (const s of iamStatements)
      expect(asArray(s.Action).sort()).toEqual(['iam:GetRole', 'iam:UpdateAssumeRolePolicy']);
    expect(iamStatements.flatMap((s) => asArray(s.Resource))).toEqual(expect.arrayContaining(qualysRoleArns));
    expect(iamStatements.flatMap((s) => asArray(s.Resource))).toHaveLength(qualysRoleArns.length);
  });

  test('GIVEN VM only WHEN synthesized THEN the handler may edit only the VM role', () => {
    const template = synth(VM_ONLY);
    const statements = statementsOfRole(template, roleOfFunction(template, handlerId(template)));
    const [[vmRoleId]] = qualysRoles(template);

    expect(
      statements
        .filter((s) => asArray(s.Action).includes('iam:UpdateAssumeRolePolicy'))
        .flatMap((s) => asArray(s.Resource)),
    ).toEqual([{ 'Fn::GetAtt': [vmRoleId, 'Arn'] }]);
  });

  test('GIVEN the stack WHEN synthesized THEN the handler and framework roles hold exactly the actions they need', () => {
    const template = synth(BOTH);
    const actionsOf = (functionId: string) =>
      [
        ...new Set(statementsOfRole(template, roleOfFunction(template, functionId)).flatMap((s) => asArray(s.Action))),
      ].sort();

    expect(actionsOf(handlerId(template))).toEqual([
      'cloudformation:DescribeStacks',
      'iam:GetRole',
      'iam:UpdateAssumeRolePolicy',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actionsOf(frameworkId(template))).toEqual([
      'lambda:GetFunction',
      'lambda:InvokeFunction',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
  });

  test('GIVEN the stack WHEN synthesized THEN the handler and framework roles have no managed policy (no AWSLambdaBasicExecutionRole)', () => {
    const template = synth(NOT_RETAINED);

    for (const fn of [handlerId(template), frameworkId(template)]) {
      const role = template.toJSON().Resources[roleOfFunction(template, fn)];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    // The one exception: aws-cdk-lib's bucket auto-delete provider (only when retainOnDelete is
    // false) hard-codes AWSLambdaBasicExecutionRole on its own role.
    const withBasic = resources(template, 'AWS::IAM::Role')
      .filter(([, r]) => JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes('AWSLambdaBasicExecutionRole'))
      .map(([id]) => id);
    expect(withBasic).toEqual([expect.stringMatching(/^CustomS3AutoDeleteObjectsCustomResourceProviderRole/)]);
    expect(
      resources(synth(BOTH), 'AWS::IAM::Role').some(([, r]) =>
        JSON.stringify(r).includes('AWSLambdaBasicExecutionRole'),
      ),
    ).toBe(false);
  });

  test.each([
    ['retainOnDelete true', BOTH],
    ['retainOnDelete false', NOT_RETAINED],
  ])('GIVEN %s WHEN synthesized THEN no policy statement of the stack allows "*" as a resource', (_, env) => {
    const statements = allPolicyStatements(synth(env));

    expect(statements.length).toBeGreaterThan(5);
    for (const { owner, statement } of statements) {
      expect({ owner, resources: asArray(statement.Resource) }).toEqual({
        owner,
        resources: expect.not.arrayContaining(['*']),
      });
      expect(statement.NotResource).toBeUndefined();
      if (statement.Effect === 'Allow') expect(asArray(statement.Action)).not.toContain('*');
    }
  });
});

describe('Qualys integration custom resources', () => {
  test.each([
    ['VM only', VM_ONLY, ['vm']],
    ['PC only', PC_ONLY, ['pc']],
    ['VM and PC', BOTH, ['vm', 'pc']],
  ])(
    'GIVEN %s WHEN synthesized THEN there is one custom resource and one Qualys role per integration',
    (_, env, kinds) => {
      const template = synth(env);

      template.resourceCountIs(RESOURCE_TYPE, kinds.length);
      expect(
        integrations(template)
          .map(([, r]) => r.Properties.Kind)
          .sort(),
      ).toEqual([...kinds].sort());
      expect(qualysRoles(template)).toHaveLength(kinds.length);
    },
  );

  test('GIVEN VM WHEN synthesized THEN the VM resource carries exactly the properties the handler needs', () => {
    const template = synth(BOTH);
    const props = integrationOf(template, 'vm');
    const [vmRoleId] = qualysRoles(template).find(([id]) => id.startsWith('VmRole'))!;
    const bucketId = onlyId(template, 'AWS::S3::Bucket');

    expect(Object.keys(props).sort()).toEqual(
      ['ServiceToken', ...Object.values(Prop).filter((p) => p !== Prop.Cips)].sort(),
    );
    expect(props).toEqual({
      ServiceToken: { 'Fn::GetAtt': [frameworkId(template), 'Arn'] },
      Kind: 'vm',
      GatewayUrl: 'https://gateway.qg1.apps.qualys.com',
      CredentialsSecretId: 'qualys/api',
      RoleArn: { 'Fn::GetAtt': [vmRoleId, 'Arn'] },
      RoleName: { Ref: vmRoleId },
      QualysPrincipalArn: { 'Fn::Join': ['', ['arn:', PARTITION, `:iam::805950163170:role/${QUALYS_ROLE}`]] },
      BucketName: { Ref: bucketId },
      BucketRegion: { Ref: 'AWS::Region' },
      IntegrationName: expect.anything(),
      DefaultIntegrationName: expect.anything(),
      Settings: expect.any(String),
      ExternalIdRotation: '',
      AdoptExisting: 'false',
      ValidationTimeoutSeconds: '600',
      TrustPolicyFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(JSON.parse(props.Settings)).toEqual(VM_DEFAULT_SETTINGS);
  });

  test('GIVEN PC with policies and a filter WHEN synthesized THEN the PC resource carries its settings and CIPS as JSON', () => {
    const props = integrationOf(synth(BOTH), 'pc');

    expect(JSON.parse(props.Settings)).toEqual({ compressData: true });
    expect(JSON.parse(props.Cips)).toEqual({
      policies: [101, 102],
      filter: CIPS_DEFAULT_FILTER,
    });
  });

  test('GIVEN PC without a filter WHEN synthesized THEN Cips holds the policies and no filter', () => {
    const props = integrationOf(synth(PC_ONLY), 'pc');

    expect(JSON.parse(props.Cips)).toEqual({ policies: [5] });
  });

  test('GIVEN custom VM settings, a name, a rotation and adoption WHEN synthesized THEN they reach the resource as given', () => {
    const template = synth({
      ...BASE,
      platform: 'EU2',
      validationTimeoutSeconds: 300,
      vm: {
        name: 'acme-vm',
        minSeverity: 4,
        baseCategory: 'Potential',
        sendAlerts: true,
        errorEmails: ['soc@example.com'],
        externalIdRotation: '2024-06',
        adoptExisting: true,
      },
    });

    template.hasResourceProperties(RESOURCE_TYPE, {
      Kind: 'vm',
      GatewayUrl: 'https://gateway.qg2.apps.qualys.eu',
      IntegrationName: 'acme-vm',
      DefaultIntegrationName: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
      ExternalIdRotation: '2024-06',
      AdoptExisting: 'true',
      ValidationTimeoutSeconds: '300',
      Cips: Match.absent(),
    });
    expect(JSON.parse(integrationOf(template, 'vm').Settings)).toMatchObject({
      minSeverity: 4,
      baseCategory: 'Potential',
      sendAlerts: true,
      errorEmails: ['soc@example.com'],
    });
  });

  test('GIVEN any configuration WHEN synthesized THEN no custom resource property carries a password or other credential', () => {
    for (const env of [BOTH, PC_ONLY, NOT_RETAINED]) {
      for (const [, resource] of integrations(synth(env))) {
        const text = JSON.stringify(resource.Properties);
        expect(text).not.toMatch(/\b(password|passwd|username|token|authorization|bearer)\b/i);
        expect(resource.Properties.GatewayUrl).not.toContain('@');
        expect(resource.Properties.CredentialsSecretId).toBe('qualys/api');
      }
    }
  });

  test('GIVEN each integration WHEN synthesized THEN it runs only after its role and the write policy exist', () => {
    const template = synth(BOTH);
    const policyId = onlyId(template, 'AWS::IAM::ManagedPolicy');

    for (const [, resource] of integrations(template)) {
      const roleId = resource.Properties.RoleArn['Fn::GetAtt'][0];
      expect(resource.DependsOn).toEqual(expect.arrayContaining([policyId, roleId]));
    }
  });
});

describe('trust policy fingerprint', () => {
  function fingerprints(template: Template): Record<string, string> {
    return Object.fromEntries(
      integrations(template).map(([, r]) => [r.Properties.Kind, r.Properties.TrustPolicyFingerprint]),
    );
  }

  test("GIVEN the stack WHEN synthesized THEN each fingerprint is the hash of its role's synthesized trust policy", () => {
    const template = synth(BOTH);

    for (const [, resource] of integrations(template)) {
      const roleId = resource.Properties.RoleArn['Fn::GetAtt'][0];
      const trust = template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument;
      const expected = createHash('sha256').update(JSON.stringify(trust)).digest('hex').slice(0, 16);
      expect(resource.Properties.TrustPolicyFingerprint).toBe(expected);
    }
    const { vm, pc } = fingerprints(template);
    expect(vm).not.toBe(pc); // the pending external IDs differ
  });

  test('GIVEN a different qualysAwsAccountId WHEN synthesized THEN both fingerprints change', () => {
    const before = fingerprints(synth(BOTH));
    const after = fingerprints(synth({ ...BOTH, qualysAwsAccountId: '111122223333' }));

    expect(after.vm).not.toBe(before.vm);
    expect(after.pc).not.toBe(before.pc);
  });

  test('GIVEN changes that leave the trust policy alone WHEN synthesized THEN the fingerprints stay the same', () => {
    const before = fingerprints(synth(BOTH));

    for (const env of [
      NOT_RETAINED,
      { ...BOTH, vm: { minSeverity: 5, externalIdRotation: 'r2' }, pc: { policies: [9] } },
      { ...BOTH, bucket: { bucketName: 'acme-findings' }, logRetentionDays: 30, validationTimeoutSeconds: 120 },
      { ...BOTH, platform: 'EU1', credentialsSecret: 'other/secret' },
    ]) {
      expect(fingerprints(synth(env))).toEqual(before);
    }
    expect(fingerprints(synth(BOTH, { envName: 'other' }))).toEqual(before);
  });
});

describe('outputs', () => {
  test('GIVEN VM and PC WHEN synthesized THEN the bucket name and both roles and integration IDs are outputs', () => {
    const template = synth(BOTH);
    const bucketId = onlyId(template, 'AWS::S3::Bucket');
    const vm = integrations(template).find(([, r]) => r.Properties.Kind === 'vm')!;
    const pc = integrations(template).find(([, r]) => r.Properties.Kind === 'pc')!;

    template.hasOutput('BucketName', { Value: { Ref: bucketId } });
    template.hasOutput('VmRoleArn', { Value: vm[1].Properties.RoleArn });
    template.hasOutput('VmIntegrationId', { Value: { 'Fn::GetAtt': [vm[0], 'IntegrationId'] } });
    template.hasOutput('PcRoleArn', { Value: pc[1].Properties.RoleArn });
    template.hasOutput('PcIntegrationId', { Value: { 'Fn::GetAtt': [pc[0], 'IntegrationId'] } });
  });

  test.each([
    ['VM only', VM_ONLY, ['BucketName', 'VmRoleArn', 'VmIntegrationId'], ['PcRoleArn', 'PcIntegrationId']],
    ['PC only', PC_ONLY, ['BucketName', 'PcRoleArn', 'PcIntegrationId'], ['VmRoleArn', 'VmIntegrationId']],
  ])('GIVEN %s WHEN synthesized THEN only its outputs exist', (_, env, present, absent) => {
    const outputs = Object.keys(synth(env).toJSON().Outputs);

    expect(outputs).toEqual(expect.arrayContaining(present));
    for (const name of absent) expect(outputs).not.toContain(name);
  });
});

describe('environment', () => {
  test('GIVEN an environment-agnostic stack WHEN synthesized THEN the default name is joined from AWS::AccountId and AWS::Region', () => {
    const template = synth(BOTH);

    template.hasResourceProperties(RESOURCE_TYPE, {
      Kind: 'vm',
      IntegrationName: {
        'Fn::Join': ['', ['qs3-test-vm-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
      },
    });
    expect(flat(integrationOf(template, 'pc').IntegrationName)).toBe('qs3-test-pc-${AWS::AccountId}-${AWS::Region}');
  });

  test('GIVEN account and region WHEN synthesized THEN the default name is a literal string', () => {
    const template = synth(BOTH, { envName: 'prod', stackEnv: { account: '123456789012', region: 'eu-west-1' } });

    template.hasResourceProperties(RESOURCE_TYPE, {
      Kind: 'vm',
      IntegrationName: 'qs3-prod-vm-123456789012-eu-west-1',
      DefaultIntegrationName: 'qs3-prod-vm-123456789012-eu-west-1',
      BucketRegion: 'eu-west-1',
    });
    template.hasResourceProperties(RESOURCE_TYPE, {
      Kind: 'pc',
      IntegrationName: 'qs3-prod-pc-123456789012-eu-west-1',
    });
  });
});

describe('bin/app.ts', () => {
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qualys-s3-app-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the app exactly as the CDK CLI does: the "app" command of cdk.json, context in CDK_CONTEXT_JSON. */
  function runApp(config: unknown, outName: string) {
    const configFile = path.join(dir, `${outName}.json`);
    writeFileSync(configFile, JSON.stringify(config));
    const outdir = path.join(dir, outName);
    const result = spawnSync(cdkJson.app, {
      cwd: ROOT,
      shell: true,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ config: configFile }) },
    });
    return { ...result, outdir };
  }

  test('GIVEN a configuration file with two environments WHEN the app runs THEN it writes one template per environment', () => {
    const { status, stderr, outdir } = runApp(
      {
        environments: {
          dev: { platform: 'US1', credentialsSecret: 'qualys/api', vm: {} },
          prod: {
            platform: 'EU1',
            credentialsSecret: 'qualys/api',
            account: '123456789012',
            region: 'eu-west-1',
            pc: {},
          },
        },
      },
      'good',
    );

    expect({ status, stderr: status === 0 ? '' : stderr }).toEqual({ status: 0, stderr: '' });
    expect(
      readdirSync(outdir)
        .filter((f) => f.endsWith('.template.json'))
        .sort(),
    ).toEqual(['QualysS3-dev.template.json', 'QualysS3-prod.template.json']);
    const dev = Template.fromJSON(JSON.parse(readFileSync(path.join(outdir, 'QualysS3-dev.template.json'), 'utf8')));
    const prod = Template.fromJSON(JSON.parse(readFileSync(path.join(outdir, 'QualysS3-prod.template.json'), 'utf8')));
    dev.resourceCountIs(RESOURCE_TYPE, 1);
    dev.hasResourceProperties(RESOURCE_TYPE, { Kind: 'vm', GatewayUrl: 'https://gateway.qg1.apps.qualys.com' });
    prod.resourceCountIs(RESOURCE_TYPE, 1);
    prod.hasResourceProperties(RESOURCE_TYPE, {
      Kind: 'pc',
      GatewayUrl: 'https://gateway.qg1.apps.qualys.eu',
      IntegrationName: 'qs3-prod-pc-123456789012-eu-west-1',
    });
    const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts['QualysS3-prod'].environment).toBe('aws://123456789012/eu-west-1');
    expect(manifest.artifacts['QualysS3-dev'].environment).toBe('aws://unknown-account/unknown-region');
  });

  test('GIVEN an invalid configuration file WHEN the app runs THEN it exits non-zero listing every problem and writes no template', () => {
    const { status, stderr, outdir } = runApp(
      {
        environments: {
          dev: { platfrom: 'US1', credentialsSecret: 'qualys/api', vm: { minSeverity: 7 } },
          prod: { platform: 'XX9', vm: false, pc: false },
        },
      },
      'bad',
    );

    expect(status).not.toBe(0);
    expect(stderr).toMatch(/configuration file .*bad\.json has 6 problems:/);
    for (const problem of [
      /"qualys\.environments\.dev\.platfrom" is not a known field \(did you mean "platform"\?\)/,
      /"qualys\.environments\.dev\.gatewayUrl" is missing/,
      /"qualys\.environments\.dev\.vm\.minSeverity" must be a whole number from 1 to 5, got 7/,
      /"qualys\.environments\.prod\.platform" is "XX9"; allowed: US1/,
      /"qualys\.environments\.prod\.credentialsSecret" is missing/,
      /"qualys\.environments\.prod\.vm", "qualys\.environments\.prod\.pc" and "qualys\.environments\.prod\.cloudView" are all absent or false/,
    ]) {
      expect(stderr).toMatch(problem);
    }
    const written = existsSync(outdir) ? readdirSync(outdir).filter((f) => f.endsWith('.template.json')) : [];
    expect(written).toEqual([]);
  });
});

describe('proxy', () => {
  test('GIVEN a proxyUrl WHEN synthesized THEN the handler gets it as HTTPS_PROXY and HTTP_PROXY, which its HTTP client honours', () => {
    const template = synth({ ...VM_ONLY, proxyUrl: 'http://proxy.corp.example:3128' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Qualys S3 integration custom resource'),
      Environment: {
        Variables: { HTTPS_PROXY: 'http://proxy.corp.example:3128', HTTP_PROXY: 'http://proxy.corp.example:3128' },
      },
    });
  });

  test('GIVEN no proxyUrl WHEN synthesized THEN the handler has no proxy variables', () => {
    const [, handler] = resources(synth(VM_ONLY), 'AWS::Lambda::Function').find(([, r]) =>
      /Qualys S3 integration custom resource/.test(r.Properties.Description ?? ''),
    )!;
    expect(handler.Properties.Environment?.Variables?.HTTPS_PROXY).toBeUndefined();
  });
});

describe('VPC placement', () => {
  test('GIVEN a vpc WHEN synthesized THEN the handler runs in those subnets with those security groups', () => {
    synth({ ...VM_ONLY, vpc: VPC }).hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Qualys S3 integration custom resource'),
      VpcConfig: { SubnetIds: VPC.subnetIds, SecurityGroupIds: VPC.securityGroupIds },
    });
  });

  test('GIVEN a vpc WHEN synthesized THEN the handler role gets the network-interface actions inline, and no AWS managed policy', () => {
    const template = synth({ ...VM_ONLY, vpc: VPC });
    const statements = resources(template, 'AWS::IAM::Policy').flatMap(
      ([, r]) => r.Properties.PolicyDocument.Statement as Json[],
    );
    const eni = statements.filter((s) => s.Sid === 'ManageOwnNetworkInterfaces');
    expect(eni).toEqual([
      expect.objectContaining({
        Resource: '*',
        Action: expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']),
      }),
    ]);
    // Only these actions may have a * resource.
    expect(statements.filter((s) => s.Resource === '*' && s.Sid !== 'ManageOwnNetworkInterfaces')).toEqual([]);
    for (const [, role] of resources(template, 'AWS::IAM::Role')) {
      expect(JSON.stringify(role.Properties.ManagedPolicyArns ?? [])).not.toContain('AWSLambdaVPCAccessExecutionRole');
    }
  });

  test('GIVEN no vpc WHEN synthesized THEN the handler has no VpcConfig and no network-interface permission', () => {
    const template = synth(VM_ONLY);
    const [, handler] = resources(template, 'AWS::Lambda::Function').find(([, r]) =>
      /Qualys S3 integration custom resource/.test(r.Properties.Description ?? ''),
    )!;
    expect(handler.Properties.VpcConfig).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('ec2:CreateNetworkInterface');
  });
});
