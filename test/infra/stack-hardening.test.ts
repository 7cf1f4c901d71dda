/**
 * Template assertions for issue 10's security items: the gateway pinned in the handler's
 * environment, encryption chosen by the bucket and not by the writer, an optional
 * customer-managed key, the partition-aware Qualys principal, exact secret grants, the
 * retained handler log group and the findings lifecycle.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ALLOWED_GATEWAYS_ENV } from '../../src/core/contract';
import { type EnvironmentConfig, parseConfig } from '../../src/config/config';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

type Json = any;

const outRoot = mkdtempSync(path.join(tmpdir(), 'qualys-hardening-test-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));
let apps = 0;

function configFor(env: Record<string, unknown>): EnvironmentConfig {
  return parseConfig({ environments: { test: env } }).environments[0];
}
function stackFor(config: EnvironmentConfig, stackEnv?: Environment): QualysS3Stack {
  const app = new App({ outdir: path.join(outRoot, String(++apps)) });
  return new QualysS3Stack(app, 'QualysS3-test', { config, env: stackEnv });
}
const cache = new Map<string, Template>();
function synth(env: Record<string, unknown>, stackEnv?: Environment): Template {
  const key = JSON.stringify([env, stackEnv]);
  if (!cache.has(key)) cache.set(key, Template.fromStack(stackFor(configFor(env), stackEnv)));
  return cache.get(key)!;
}

const BASE = { platform: 'US1', credentialsSecret: 'qualys/api' };
const VM_ONLY = { ...BASE, vm: {} };
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const WITH_KEY = { ...VM_ONLY, account: '123456789012', region: 'eu-west-1', bucket: { kmsKeyArn: KEY } };
const HERE = { account: '123456789012', region: 'eu-west-1' };

function resources(template: Template, type: string): Array<[string, Json]> {
  return Object.entries(template.toJSON().Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
}
function handler(template: Template): Json {
  return resources(template, 'AWS::Lambda::Function').find(([, r]) =>
    /Qualys S3 integration custom resource/.test(r.Properties.Description ?? ''),
  )![1];
}
function bucketPolicyStatements(template: Template): Json[] {
  return resources(template, 'AWS::S3::BucketPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}
function writePolicyStatements(template: Template): Json[] {
  return resources(template, 'AWS::IAM::ManagedPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

describe('gateway pinning', () => {
  test("GIVEN platform US1 WHEN synthesized THEN the handler function's own environment pins that gateway", () => {
    expect(handler(synth(VM_ONLY)).Properties.Environment.Variables).toEqual({
      [ALLOWED_GATEWAYS_ENV]: 'https://gateway.qg1.apps.qualys.com',
    });
  });

  test("GIVEN a gatewayUrl and a proxy WHEN synthesized THEN the pin is the gateway's origin and the proxy variables stay", () => {
    const template = synth({
      credentialsSecret: 'qualys/api',
      gatewayUrl: 'https://gateway.qg3.apps.qualys.com/',
      vm: {},
      proxyUrl: 'http://proxy.example:3128',
    });
    expect(handler(template).Properties.Environment.Variables).toEqual({
      [ALLOWED_GATEWAYS_ENV]: 'https://gateway.qg3.apps.qualys.com',
      HTTPS_PROXY: 'http://proxy.example:3128',
      HTTP_PROXY: 'http://proxy.example:3128',
    });
  });
});

describe("encryption is the bucket owner's choice", () => {
  test('GIVEN the default bucket WHEN synthesized THEN SSE-C is blocked on the bucket (BlockedEncryptionTypes)', () => {
    synth(VM_ONLY).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
            BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
          }),
        ],
      },
    });
  });

  test('GIVEN the default bucket WHEN synthesized THEN its policy denies PutObject naming other encryption, customer keys or any KMS key', () => {
    const statements = bucketPolicyStatements(synth(VM_ONLY));
    const byId = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
    expect(byId.DenyOtherEncryption).toMatchObject({
      Effect: 'Deny',
      Action: 's3:PutObject',
      Principal: { AWS: '*' },
      Condition: {
        Null: { 's3:x-amz-server-side-encryption': 'false' },
        StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' },
      },
    });
    expect(byId.DenyCustomerProvidedKeys).toMatchObject({
      Effect: 'Deny',
      Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
    });
    expect(byId.DenyOtherKmsKeys).toMatchObject({
      Effect: 'Deny',
      Condition: { Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' } },
    });
  });

  test('GIVEN no kmsKeyArn WHEN synthesized THEN no policy grants any KMS action', () => {
    expect(JSON.stringify(synth(VM_ONLY).toJSON())).not.toMatch(/"kms:/);
  });

  test('GIVEN a kmsKeyArn WHEN synthesized THEN the bucket encrypts with that key, bucket keys on, SSE-C still blocked', () => {
    synth(WITH_KEY, HERE).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY },
            BucketKeyEnabled: true,
            BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
          },
        ],
      },
    });
  });

  test('GIVEN a kmsKeyArn WHEN synthesized THEN uploads naming another key or SSE-S3 are denied', () => {
    const byId = Object.fromEntries(
      bucketPolicyStatements(synth(WITH_KEY, HERE))
        .filter((s) => s.Sid)
        .map((s) => [s.Sid, s]),
    );
    expect(byId.DenyOtherKmsKeys.Condition).toEqual({
      Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
      StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY },
    });
    expect(byId.DenyOtherEncryption.Condition.StringNotEquals).toEqual({
      's3:x-amz-server-side-encryption': 'aws:kms',
    });
  });

  test('GIVEN a kmsKeyArn WHEN synthesized THEN the Qualys write policy grants exactly GenerateDataKey and Decrypt on that key, through S3 only', () => {
    const kms = writePolicyStatements(synth(WITH_KEY, HERE)).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(kms).toEqual([
      {
        Sid: 'EncryptFindingsWithBucketKey',
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]);
  });
});

describe('Qualys principal per partition', () => {
  test('GIVEN a GovCloud stack with the default Qualys account WHEN the role is built THEN synth fails naming qualysAwsAccountId', () => {
    // The config parser refuses this too; the construct refuses it for any caller that skips the parser.
    const config = { ...configFor(VM_ONLY), region: 'us-gov-west-1' };
    expect(() => stackFor(config, { account: '123456789012', region: 'us-gov-west-1' })).toThrow(
      /qualysAwsAccountId: the stack deploys to the aws-us-gov partition, where Qualys's commercial AWS account 805950163170 cannot be trusted/,
    );
  });

  test("GIVEN a China stack with an explicit Qualys account WHEN synthesized THEN the role trusts that account in the stack's partition", () => {
    const template = synth(
      { ...VM_ONLY, region: 'cn-north-1', qualysAwsAccountId: '111122223333' },
      { region: 'cn-north-1' },
    );
    const principals = resources(template, 'AWS::IAM::Role').flatMap(([, r]) =>
      r.Properties.AssumeRolePolicyDocument.Statement.map((s: Json) => JSON.stringify(s.Principal)),
    );
    expect(principals.filter((p) => p.includes('QUALYS_ROLE'))).toEqual([
      JSON.stringify({
        AWS: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE'],
          ],
        },
      }),
    ]);
  });
});

describe('secret grants', () => {
  const reads = (template: Template) =>
    resources(template, 'AWS::IAM::Policy')
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((s: Json) => s.Sid === 'ReadQualysCredentials')
      .flatMap((s: Json) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));

  test('GIVEN a complete secret ARN WHEN synthesized THEN exactly that ARN is granted, with no -?????? wildcard', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:qualys/api-AbC123';
    expect(reads(synth({ ...VM_ONLY, credentialsSecret: arn }))).toEqual([arn]);
  });

  test('GIVEN a partial secret ARN (no suffix) WHEN synthesized THEN the six-character wildcard is kept', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:qualys/api';
    expect(reads(synth({ ...VM_ONLY, credentialsSecret: arn }))).toEqual([`${arn}-??????`]);
  });
});

describe('logs and lifecycle', () => {
  test("GIVEN the stack WHEN synthesized THEN the handler's log group is retained on destroy, with its retention", () => {
    const template = synth(VM_ONLY);
    const ref = handler(template).Properties.LoggingConfig.LogGroup.Ref;
    expect(template.toJSON().Resources[ref]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { RetentionInDays: 90 },
    });
  });

  test('GIVEN no lifecycle settings WHEN synthesized THEN no rule expires or moves current findings', () => {
    const rules: Json[] = resources(synth(VM_ONLY), 'AWS::S3::Bucket')[0][1].Properties.LifecycleConfiguration.Rules;
    expect(rules.filter((r) => r.ExpirationInDays !== undefined || r.Transitions !== undefined)).toEqual([]);
  });

  test('GIVEN expireAfterDays and a transition WHEN synthesized THEN one rule moves findings and later expires them', () => {
    const template = synth({
      ...VM_ONLY,
      bucket: { expireAfterDays: 400, transitionAfterDays: 90, transitionStorageClass: 'GLACIER_IR' },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'AgeFindings',
            Status: 'Enabled',
            ExpirationInDays: 400,
            Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
          }),
        ]),
      },
    });
  });
});

describe('cdk.json feature flags', () => {
  const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
  const flags = Object.fromEntries(
    Object.entries(cdkJson.context as Record<string, unknown>).filter(([k]) => k.startsWith('@aws-cdk')),
  );

  test('GIVEN aws-cdk-lib\'s recommended flags WHEN cdk.json is read THEN every one is set (synth prints no "feature flags are not configured")', () => {
    const recommended = JSON.parse(readFileSync(require.resolve('aws-cdk-lib/recommended-feature-flags.json'), 'utf8'));
    expect(Object.keys(recommended).filter((k) => !(k in flags))).toEqual([]);
  });

  test.each([
    [
      'the shipped example',
      JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'qualys.config.json'), 'utf8')).environments.example,
      undefined,
    ],
    [
      'an account and region, bucket not retained',
      { ...BASE, vm: {}, pc: {}, account: '123456789012', region: 'eu-west-1', bucket: { retainOnDelete: false } },
      HERE,
    ],
  ])(
    "GIVEN %s WHEN synthesized with cdk.json's flags THEN the template is the one these tests check (without them)",
    (_label, env, stackEnv) => {
      const withFlags = new App({ outdir: path.join(outRoot, `flags-${++apps}`), context: flags });
      const flagged = Template.fromStack(
        new QualysS3Stack(withFlags, 'QualysS3-test', { config: configFor(env), env: stackEnv }),
      );
      expect(flagged.toJSON()).toEqual(synth(env, stackEnv).toJSON());
    },
  );
});

describe('"*" permissions (the README\'s claim, for every configuration)', () => {
  const VPC = {
    vpcId: 'vpc-0a1b2c3d4e5f67890',
    subnetIds: ['subnet-0a1b2c3d4e5f67890'],
    securityGroupIds: ['sg-0a1b2c3d4e5f67890'],
  };
  const CASES: Array<[string, Record<string, unknown>, Environment | undefined, string[], string[]]> = [
    ['defaults', { ...VM_ONLY, pc: {} }, undefined, [], []],
    ['a KMS key and a proxy', { ...WITH_KEY, proxyUrl: 'http://proxy.example:3128' }, HERE, [], []],
    ['a VPC', { ...VM_ONLY, vpc: VPC }, undefined, ['ManageOwnNetworkInterfaces'], []],
    [
      'bucket not retained',
      { ...VM_ONLY, bucket: { retainOnDelete: false } },
      undefined,
      [],
      ['AWSLambdaBasicExecutionRole'],
    ],
  ];

  test.each(CASES)(
    'GIVEN %s WHEN synthesized THEN the only "*"-resource statements and AWS managed policies are the documented ones',
    (_label, env, stackEnv, starSids, managed) => {
      const template = synth(env, stackEnv);
      const statements: Json[] = [];
      for (const [, r] of Object.entries(template.toJSON().Resources as Record<string, Json>)) {
        if (['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type))
          statements.push(...r.Properties.PolicyDocument.Statement);
        if (r.Type === 'AWS::IAM::Role')
          for (const p of r.Properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
      }
      const star = statements.filter((s) => s.Effect === 'Allow' && [s.Resource].flat().includes('*'));
      expect(star.map((s) => s.Sid ?? JSON.stringify(s.Action))).toEqual(starSids);
      const managedArns = resources(template, 'AWS::IAM::Role').flatMap(([, r]) =>
        (r.Properties.ManagedPolicyArns ?? []).map((a: Json) => JSON.stringify(a)),
      );
      const awsManaged = managedArns.filter((a) => a.includes('iam::aws:policy'));
      expect(awsManaged.map((a) => /policy\/(?:service-role\/)?([A-Za-z]+)/.exec(a)![1])).toEqual(managed);
    },
  );
});
