/**
 * QualysS3Onboarding in a consumer's own stack: its props validated by the configuration's
 * schema (the same messages, field paths from "props"), objects where CDK users expect them (an
 * ISecret, an existing IBucket), and the attributes it exposes. cdk-nag runs over the
 * object-valued variants.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Token, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, parseConfig } from '../../src/config/config';
import { Prop, RESOURCE_TYPE } from '../../src/core/contract';
import { QualysS3Onboarding, type QualysS3OnboardingProps } from '../../src/infra/qualys-s3-onboarding';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const PROPS: QualysS3OnboardingProps = {
  envName: 'prod',
  platform: 'EU1',
  credentialsSecret: 'qualys/api-credentials',
  vm: {},
};

function consumerStack(env: { account?: string; region?: string } | undefined = ENV): Stack {
  return new Stack(new App(), 'Platform', { env });
}

function onboard(props: Partial<QualysS3OnboardingProps>, stack = consumerStack()) {
  const onboarding = new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, ...props } as QualysS3OnboardingProps);
  return { stack, onboarding, template: Template.fromStack(stack) };
}

function problemsOf(build: () => unknown): { message: string; problems: readonly string[] } {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return { message: error.message, problems: error.problems };
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function handlerPolicyStatements(template: Template): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith('QualysIntegrationProviderHandlerRole'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

function integrationProps(template: Template): Array<Record<string, unknown>> {
  return Object.values(template.findResources(RESOURCE_TYPE)).map((r) => r.Properties);
}

describe('validation', () => {
  test('GIVEN props with several problems WHEN constructed THEN one ConfigError lists them all, worded as for a JSON configuration, from "props"', () => {
    const bad = { platform: 'US9', vm: { minSeverity: 9 }, pc: { polices: [1] } };
    const { envName: _envName, ...withoutEnvName } = PROPS;
    const { message, problems } = problemsOf(() => onboard(bad as never));
    expect(message).toMatch(/^QualysS3Onboarding "Platform\/Qualys" has 3 problems:\n/);
    // The same schema, the same words: only the field path's root differs.
    const { problems: asJson } = problemsOf(() =>
      parseConfig({
        environments: { prod: { ...withoutEnvName, ...bad, account: ENV.account, region: ENV.region } },
      }),
    );
    expect(problems).toEqual(asJson.map((p) => p.replaceAll('qualys.environments.prod.', 'props.')));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^"props\.platform" is "US9"/),
        expect.stringMatching(/^"props\.vm\.minSeverity" must be a whole number from 1 to 5, got 9/),
        expect.stringMatching(/^"props\.pc\.polices" is not a known field \(did you mean "policies"\?\)/),
      ]),
    );
  });

  test('GIVEN a bad environment name WHEN constructed THEN the schema says what an environment name may be', () => {
    expect(() => onboard({ envName: '1st env' })).toThrow(
      /environment name "1st env" is not allowed: use letters, digits and hyphens, starting with a letter/,
    );
  });

  test("GIVEN a region other than the stack's WHEN constructed THEN that is a problem, listed with the schema's", () => {
    const { problems } = problemsOf(() => onboard({ region: 'us-east-1', vm: { minSeverity: 0 } }));
    expect(problems).toEqual([
      expect.stringMatching(/^"props\.vm\.minSeverity" must be a whole number/),
      expect.stringMatching(/^"props\.region" is "us-east-1", but the construct's stack deploys to region "eu-west-1"/),
    ]);
  });

  test("GIVEN no account and region WHEN constructed THEN the stack's are checked, e.g. a KMS key in another region", () => {
    const key = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(() => onboard({ bucket: { kmsKeyArn: key } })).toThrow(
      /"props\.bucket\.kmsKeyArn" is a key in us-east-1, but the bucket is in eu-west-1/,
    );
  });

  test('GIVEN an environment-agnostic stack WHEN constructed THEN it synthesizes, and the default names are checked against the longest region', () => {
    const { template } = onboard({}, consumerStack(undefined));
    template.resourceCountIs(RESOURCE_TYPE, 1);
    expect(() => onboard({ envName: 'a-very-long-environment-name' }, consumerStack(undefined))).toThrow(
      /"props\.vm\.name" is not set, and the default name for environment "a-very-long-environment-name"/,
    );
  });

  test('GIVEN the secret as a token string WHEN constructed THEN it asks for the ISecret itself', () => {
    const stack = consumerStack();
    const secret = new secretsmanager.Secret(stack, 'Creds');
    expect(() => onboard({ credentialsSecret: secret.secretArn }, stack)).toThrow(
      /"props\.credentialsSecret" is a token.*pass the secret itself \(an ISecret/,
    );
  });
});

describe('credentialsSecret as an ISecret', () => {
  test('GIVEN a secret imported by name THEN the handler may read exactly that secret, and looks it up by name', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'team/qualys');
    const { template } = onboard({ credentialsSecret: secret }, stack);
    const read = handlerPolicyStatements(template).find((s) => JSON.stringify(s.Action).includes('GetSecretValue'));
    expect(JSON.stringify(read?.Resource)).toContain(':secret:team/qualys-??????');
    for (const props of integrationProps(template)) expect(props[Prop.CredentialsSecretId]).toBe('team/qualys');
  });

  test("GIVEN a secret of the consumer's stack with its own KMS key THEN the handler gets its full ARN and may decrypt with that key", () => {
    const stack = consumerStack();
    const key = new kms.Key(stack, 'SecretKey');
    const secret = new secretsmanager.Secret(stack, 'Creds', { encryptionKey: key });
    const { template } = onboard({ credentialsSecret: secret }, stack);
    const secretId = stack.resolve(stack.getLogicalId(secret.node.defaultChild as never));
    for (const props of integrationProps(template)) expect(props[Prop.CredentialsSecretId]).toEqual({ Ref: secretId });
    expect(handlerPolicyStatements(template)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } }),
      ]),
    );
    // In the handler's own policy (the key's may be another stack's), through Secrets Manager only.
    expect(handlerPolicyStatements(template)).toEqual(
      expect.arrayContaining([
        {
          Sid: 'DecryptQualysCredentials',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SecretKey/), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
        },
      ]),
    );
  });

  test('GIVEN a secret in another region THEN construction fails: the handler reads the secret in its own region', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Creds',
      'arn:aws:secretsmanager:us-west-2:111122223333:secret:qualys-AbCdEf',
    );
    expect(() => onboard({ credentialsSecret: secret }, stack)).toThrow(
      /"props\.credentialsSecret" is a secret in region us-west-2, but the stack deploys to eu-west-1/,
    );
  });
});

describe('an existing bucket', () => {
  test('GIVEN a bucket imported by name THEN no bucket is created or changed, and the roles may only put objects into it', () => {
    const stack = consumerStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Findings', 'acme-findings');
    const { template, onboarding } = onboard({ vm: {}, pc: {}, bucket }, stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    const [[policyId, policy]] = Object.entries(template.findResources('AWS::IAM::ManagedPolicy'));
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'PutFindings',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-findings/*']] },
      },
    ]);
    const roles = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('QUALYS_ROLE_ASSUMING'),
    );
    expect(roles.map((r) => r.Properties.ManagedPolicyArns)).toEqual([[{ Ref: policyId }], [{ Ref: policyId }]]);
    for (const props of integrationProps(template)) {
      expect(props).toMatchObject({ [Prop.BucketName]: 'acme-findings', [Prop.BucketRegion]: 'eu-west-1' });
    }
    expect(onboarding.bucket).toBe(bucket);
  });

  test('GIVEN a bucket imported with its KMS key THEN the roles may use that key, through S3 only', () => {
    const stack = consumerStack();
    const key = kms.Key.fromKeyArn(
      stack,
      'Key',
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Findings', {
      bucketName: 'acme-findings',
      encryptionKey: key,
    });
    const { template } = onboard({ bucket }, stack);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'EncryptFindingsWithBucketKey',
            Effect: 'Allow',
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: key.keyArn,
            Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
          },
        ]),
      },
    });
  });

  test("GIVEN a bucket of the consumer's own stack THEN its policy is left to its owner and the integration names it", () => {
    const stack = consumerStack();
    const bucket = new s3.Bucket(stack, 'Own');
    const { template } = onboard({ bucket }, stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as never);
    for (const props of integrationProps(template)) expect(props[Prop.BucketName]).toEqual({ Ref: bucketId });
  });

  test('GIVEN a bucket in another account THEN synth warns that its bucket policy must admit the Qualys roles', () => {
    const stack = consumerStack();
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Findings', {
      bucketName: 'central-findings',
      account: '999988887777',
    });
    onboard({ bucket }, stack);
    Annotations.fromStack(stack).hasWarning(
      '/Platform/Qualys',
      Match.stringLikeRegexp('The findings bucket is in account 999988887777.*bucket policy must allow s3:PutObject'),
    );
  });
});

describe('attributes', () => {
  test("GIVEN VM and PC THEN each integration exposes its ID, name and role, for wiring into the consumer's resources", () => {
    const stack = consumerStack();
    const onboarding = new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, vm: {}, pc: true });
    for (const integration of [onboarding.vm!, onboarding.pc!]) {
      expect(Token.isUnresolved(integration.integrationId)).toBe(true);
      expect(stack.resolve(integration.integrationId)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'IntegrationId'] });
      expect(stack.resolve(integration.integrationName)).toEqual({
        'Fn::GetAtt': [expect.any(String), 'IntegrationName'],
      });
      expect(stack.resolve(integration.role.roleArn)).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^Qualys(Vm|Pc)Role/), 'Arn'],
      });
    }
    expect([onboarding.vm!.kind, onboarding.pc!.kind]).toEqual(['vm', 'pc']);
    expect(onboarding.config.pc?.policies).toEqual([]);
    // Usable by the consumer: a queue named after the integration, say.
    new sqs.Queue(stack, 'Alerts', { queueName: onboarding.vm!.integrationName });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      QueueName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^QualysVmIntegration'), 'IntegrationName'] },
    });
  });

  test('GIVEN VM only THEN pc is undefined', () => {
    const { onboarding } = onboard({ vm: true });
    expect(onboarding.pc).toBeUndefined();
    expect(onboarding.vm?.kind).toBe('vm');
  });

  test('GIVEN two environments onboarded in one stack THEN both synthesize, each with its own handler and default names', () => {
    const stack = consumerStack();
    const a = new QualysS3Onboarding(stack, 'Dev', { ...PROPS, envName: 'dev' });
    const b = new QualysS3Onboarding(stack, 'Test', { ...PROPS, envName: 'test' });
    const template = Template.fromStack(stack);
    template.resourceCountIs(RESOURCE_TYPE, 2);
    expect(a.handler).not.toBe(b.handler);
    const names = integrationProps(template).map((p) => JSON.stringify(p[Prop.IntegrationName]));
    expect(names.some((n) => n.includes('qs3-dev-vm'))).toBe(true);
    expect(names.some((n) => n.includes('qs3-test-vm'))).toBe(true);
  });
});

describe('cdk-nag AwsSolutions over the object-valued props', () => {
  test.each([
    [
      'an imported secret and a bucket imported by name',
      (stack: Stack) => ({
        credentialsSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'team/qualys'),
        bucket: s3.Bucket.fromBucketName(stack, 'Findings', 'acme-findings'),
      }),
    ],
    [
      "a bucket of the consumer's stack with its KMS key",
      (stack: Stack) => ({
        bucket: new s3.Bucket(stack, 'Own', {
          encryption: s3.BucketEncryption.KMS,
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
          enforceSSL: true,
          serverAccessLogsPrefix: 'access/',
        }),
      }),
    ],
  ])('GIVEN %s THEN no finding of the onboarding is left unacknowledged', (_label, objects) => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'qualys-nag-'));
    try {
      const app = new App({ outdir });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const stack = new Stack(app, 'Platform', { env: ENV });
      new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, pc: {}, ...objects(stack) });
      app.synth();
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: Array<{
          pluginName: string;
          violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
        }>;
      };
      const [nag] = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
      const ours = nag.violations.flatMap((v) =>
        v.violatingConstructs
          .filter((c) => c.constructPath.includes('/Qualys/'))
          .map((c) => `${v.ruleName} ${c.constructPath}`),
      );
      expect(ours).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
