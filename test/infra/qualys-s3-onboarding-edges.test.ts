/**
 * Break-it pass over QualysS3Onboarding (issue 12): props a CDK user plausibly passes (tokens,
 * constructs where settings are expected, ISecret and IBucket variants from other stacks and
 * accounts, two onboardings in one app) and what the construct does with them. Tests named
 * The defects it found are fixed; their tests state the correct behaviour.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, CfnOutput, CfnParameter, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../../src/config/config';
import { Prop, RESOURCE_TYPE } from '../../src/core/contract';
import { QualysS3Onboarding, type QualysS3OnboardingProps } from '../../src/infra/qualys-s3-onboarding';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const PROPS: QualysS3OnboardingProps = {
  envName: 'prod',
  platform: 'EU1',
  credentialsSecret: 'qualys/api-credentials',
  vm: {},
};

function consumerStack(env: { account?: string; region?: string } = ENV, app = new App()): Stack {
  return new Stack(app, 'Platform', { env });
}

function onboard(props: Record<string, unknown>, stack = consumerStack()) {
  const onboarding = new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, ...props } as QualysS3OnboardingProps);
  return { stack, onboarding, template: Template.fromStack(stack) };
}

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function integrationProps(template: Template): Array<Record<string, unknown>> {
  return Object.values(template.findResources(RESOURCE_TYPE)).map((r) => r.Properties);
}

function handlerStatements(template: Template): Array<Record<string, unknown>> {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('QualysIntegrationProviderHandlerRole'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

/** The unacknowledged cdk-nag AwsSolutions findings on the onboarding's constructs. */
function nagFindings(build: (app: App) => void): string[] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'qualys-nag-edges-'));
  try {
    const app = new App({ outdir });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    build(app);
    try {
      app.synth();
    } catch {
      // A finding fails the synth; the report lists them.
    }
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{
        pluginName: string;
        violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
      }>;
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    return (nag?.violations ?? []).flatMap((v) =>
      v.violatingConstructs
        .filter((c) => c.constructPath.includes('/Qualys/'))
        .map((c) => `${v.ruleName} ${c.constructPath}`),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('object-valued props from another stack', () => {
  test('GIVEN a secret with its own KMS key in a shared secrets stack WHEN the app synthesizes THEN it does so without a cyclic reference, and the handler may read the secret', () => {
    const app = new App();
    const secrets = new Stack(app, 'Secrets', { env: ENV });
    const key = new kms.Key(secrets, 'Key', { enableKeyRotation: true });
    const secret = new secretsmanager.Secret(secrets, 'QualysCredentials', { encryptionKey: key });
    const stack = consumerStack(ENV, app);
    new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, credentialsSecret: secret });
    // Today: "'Secrets' depends on 'Platform' ... would create a cyclic reference": the key's
    // policy (Secrets) names the handler role (Platform), which reads the secret (Secrets).
    expect(() => app.synth()).not.toThrow();
    const read = handlerStatements(Template.fromStack(stack)).find((s) =>
      JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(JSON.stringify(read?.Resource)).toContain('Fn::ImportValue');
  });

  test('GIVEN a secret without a key in another stack THEN the handler gets its ARN through an export and may read exactly it', () => {
    const app = new App();
    const secrets = new Stack(app, 'Secrets', { env: ENV });
    const secret = new secretsmanager.Secret(secrets, 'QualysCredentials');
    const stack = consumerStack(ENV, app);
    new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, pc: true, credentialsSecret: secret });
    expect(() => app.synth()).not.toThrow();
    const template = Template.fromStack(stack);
    const ids = integrationProps(template).map((p) => p[Prop.CredentialsSecretId]);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Secrets:ExportsOutput/) });
    const read = handlerStatements(template).filter((s) => JSON.stringify(s.Action).includes('GetSecretValue'));
    expect(read).toHaveLength(1);
    expect(read[0].Resource).toEqual(ids[0]);
  });

  test("GIVEN a bucket of another stack of the consumer's app WHEN cdk-nag runs THEN the write policy's object wildcard is acknowledged like any other bucket's", () => {
    // Today the acknowledgement names the bucket's ARN as resolved at construction
    // (<OtherBucket.Arn>/*), and cdk-nag reports it as the export it becomes at synth:
    // AwsSolutions-IAM5[Resource::Shared:ExportsOutputFnGetAtt...Arn.../*] on Platform/Qualys/WritePolicy.
    const findings = nagFindings((app) => {
      const shared = new Stack(app, 'Shared', { env: ENV });
      const bucket = new s3.Bucket(shared, 'Findings', { enforceSSL: true, serverAccessLogsPrefix: 'access/' });
      new QualysS3Onboarding(consumerStack(ENV, app), 'Qualys', { ...PROPS, pc: {}, bucket });
    });
    expect(findings).toEqual([]);
  });

  test("GIVEN a bucket of another stack THEN the integration names it through an export and that stack's bucket is left exactly as it was", () => {
    const sharedTemplate = (withOnboarding: boolean) => {
      const app = new App();
      const shared = new Stack(app, 'Shared', { env: ENV });
      const bucket = new s3.Bucket(shared, 'Findings', { enforceSSL: true });
      if (withOnboarding) {
        new QualysS3Onboarding(consumerStack(ENV, app), 'Qualys', {
          ...PROPS,
          tags: { team: 'security' },
          bucket,
        });
      }
      const resources = Template.fromStack(shared).toJSON().Resources as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(resources).filter(([, r]) => (r as { Type: string }).Type !== 'AWS::CDK::Metadata'),
      );
    };
    expect(sharedTemplate(true)).toEqual(sharedTemplate(false));
    const app = new App();
    const shared = new Stack(app, 'Shared', { env: ENV });
    const bucket = new s3.Bucket(shared, 'Findings');
    const { template } = onboard({ bucket }, consumerStack(ENV, app));
    for (const props of integrationProps(template)) {
      expect(props[Prop.BucketName]).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Shared:ExportsOutputRef/) });
      expect(props[Prop.BucketRegion]).toBe('eu-west-1');
    }
  });
});

describe('ISecret variants', () => {
  test('GIVEN a secret of a central security account imported by partial ARN THEN the handler looks it up by that ARN, not by its bare name in its own account', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretPartialArn(
      stack,
      'Creds',
      'arn:aws:secretsmanager:eu-west-1:999988887777:secret:team/qualys',
    );
    const { template } = onboard({ credentialsSecret: secret }, stack);
    // Today: SecretId "team/qualys", which Secrets Manager resolves in 111122223333, where the
    // handler may read nothing of that name (its grant is on 999988887777's secret).
    for (const props of integrationProps(template)) {
      expect(props[Prop.CredentialsSecretId]).toMatch(
        /^arn:aws:secretsmanager:eu-west-1:999988887777:secret:team\/qualys/,
      );
    }
  });

  test('GIVEN a secret of another account THEN synth warns that its resource policy and a customer-managed key must admit the handler role, as it does for a bucket of another account', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Creds',
      'arn:aws:secretsmanager:eu-west-1:999988887777:secret:team/qualys-AbCdEf',
    );
    onboard({ credentialsSecret: secret }, stack);
    // Today: silent; the deploy fails in the handler with AccessDenied (an identity policy alone
    // never reaches another account's secret, and aws/secretsmanager cannot be shared).
    expect(
      Annotations.fromStack(stack).findWarning('/Platform/Qualys', Match.stringLikeRegexp('999988887777')),
    ).toHaveLength(1);
  });

  test('GIVEN a secret imported by complete ARN THEN the handler may read exactly that ARN, looks it up by it, and the config names the secret', () => {
    const stack = consumerStack();
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/qualys-AbCdEf';
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Creds', arn);
    const { template, onboarding } = onboard({ credentialsSecret: secret, pc: true }, stack);
    for (const props of integrationProps(template)) expect(props[Prop.CredentialsSecretId]).toBe(arn);
    const read = handlerStatements(template).filter((s) => JSON.stringify(s.Action).includes('GetSecretValue'));
    expect(read.map((s) => s.Resource)).toEqual([arn]);
    expect(onboarding.config.credentialsSecret).toBe('team/qualys');
  });

  test('GIVEN a secret imported by partial ARN in its own account THEN the grant covers its six-character suffix only', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretPartialArn(
      stack,
      'Creds',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/qualys',
    );
    const { template } = onboard({ credentialsSecret: secret }, stack);
    const read = handlerStatements(template).filter((s) => JSON.stringify(s.Action).includes('GetSecretValue'));
    expect(read.map((s) => s.Resource)).toEqual([
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/qualys-??????',
    ]);
  });

  test('GIVEN several secrets grants THEN the handler may read no secret but the one given (no wildcard beyond its suffix)', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'team/qualys');
    const { template } = onboard({ credentialsSecret: secret, pc: true }, stack);
    const secretResources = handlerStatements(template)
      .filter((s) => JSON.stringify(s.Action).includes('secretsmanager'))
      .flatMap((s) => [s.Resource].flat());
    expect(secretResources).toHaveLength(1);
    expect(JSON.stringify(secretResources[0])).toMatch(/:secret:team\/qualys-\?\?\?\?\?\?"/);
  });
});

describe('IBucket variants', () => {
  test('GIVEN a bucket imported by ARN THEN its name comes from the ARN and its region is the stack’s', () => {
    const stack = consumerStack();
    const bucket = s3.Bucket.fromBucketArn(stack, 'Findings', 'arn:aws:s3:::acme-findings');
    const { template } = onboard({ bucket }, stack);
    for (const props of integrationProps(template)) {
      expect(props).toMatchObject({ [Prop.BucketName]: 'acme-findings', [Prop.BucketRegion]: 'eu-west-1' });
    }
  });

  test('GIVEN a bucket of another region with its KMS key THEN Qualys is told that region and the key may be used only through S3 there', () => {
    const stack = consumerStack();
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Findings', {
      bucketName: 'acme-findings',
      region: 'us-east-1',
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', keyArn),
    });
    const { template } = onboard({ bucket }, stack);
    for (const props of integrationProps(template)) expect(props[Prop.BucketRegion]).toBe('us-east-1');
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Resource: keyArn,
            Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
          }),
        ]),
      },
    });
  });

  test("GIVEN the consumer's own bucket in the same stack and tags in the props THEN that bucket's resource is not changed at all", () => {
    const bucketResource = (withOnboarding: boolean) => {
      const stack = consumerStack();
      const bucket = new s3.Bucket(stack, 'Own', { versioned: true });
      if (withOnboarding) new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, tags: { team: 'security' }, bucket });
      const template = Template.fromStack(stack);
      return {
        bucket: template.findResources('AWS::S3::Bucket'),
        policies: template.findResources('AWS::S3::BucketPolicy'),
      };
    };
    expect(bucketResource(true)).toEqual(bucketResource(false));
  });

  test('GIVEN an existing bucket THEN no bucket-level custom resource (auto-delete) and no bucket policy is created', () => {
    const stack = consumerStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Findings', 'acme-findings');
    const { template } = onboard({ bucket, pc: true }, stack);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });
});

describe('cdk-nag over more object-valued variants', () => {
  test.each<[string, (stack: Stack) => Record<string, unknown>]>([
    [
      'a secret by complete ARN and a bucket by ARN',
      (stack) => ({
        credentialsSecret: secretsmanager.Secret.fromSecretCompleteArn(
          stack,
          'Creds',
          'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/qualys-AbCdEf',
        ),
        bucket: s3.Bucket.fromBucketArn(stack, 'Findings', 'arn:aws:s3:::acme-findings'),
      }),
    ],
    [
      'a secret by partial ARN and a bucket of another region',
      (stack) => ({
        credentialsSecret: secretsmanager.Secret.fromSecretPartialArn(
          stack,
          'Creds',
          'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/qualys',
        ),
        bucket: s3.Bucket.fromBucketAttributes(stack, 'Findings', { bucketName: 'acme-findings', region: 'us-east-1' }),
      }),
    ],
    [
      'new bucket settings with a KMS key and auto-delete',
      () => ({
        bucket: {
          kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          retainOnDelete: false,
        },
      }),
    ],
  ])('GIVEN %s THEN no finding of the onboarding is left unacknowledged', (_label, objects) => {
    const findings = nagFindings((app) => {
      const stack = consumerStack(ENV, app);
      new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, pc: {}, ...objects(stack) } as QualysS3OnboardingProps);
    });
    expect(findings).toEqual([]);
  });
});

describe('two onboardings in one app', () => {
  test('GIVEN two onboardings of the same environment name in one stack WHEN synthesized THEN the clash of their integration names is refused', () => {
    // Both default to qs3-prod-vm-111122223333-eu-west-1; the handler treats an integration of its
    // default name as its own (belongsToThisStack), so the second silently adopts the first's, and
    // destroying either deregisters the integration the other still manages.
    const stack = consumerStack();
    new QualysS3Onboarding(stack, 'Security', PROPS);
    expect(() => {
      new QualysS3Onboarding(stack, 'Compliance', PROPS);
      Template.fromStack(stack);
    }).toThrow(/qs3-prod-vm-111122223333-eu-west-1/);
  });

  test('GIVEN two stacks of one app onboarding the same environment name to one account and region THEN the clash is refused', () => {
    const app = new App();
    new QualysS3Onboarding(new Stack(app, 'A', { env: ENV }), 'Qualys', PROPS);
    expect(() => {
      new QualysS3Onboarding(new Stack(app, 'B', { env: ENV }), 'Qualys', PROPS);
      app.synth();
    }).toThrow(/qs3-prod-vm-111122223333-eu-west-1/);
  });

  test('GIVEN two onboardings with the same id under different parents, with different names THEN both synthesize with distinct logical IDs and handlers', () => {
    const stack = consumerStack();
    const teamA = new Construct(stack, 'TeamA');
    const teamB = new Construct(stack, 'TeamB');
    const a = new QualysS3Onboarding(teamA, 'Qualys', { ...PROPS, envName: 'team-a' });
    const b = new QualysS3Onboarding(teamB, 'Qualys', { ...PROPS, envName: 'team-b', pc: true });
    const template = Template.fromStack(stack);
    template.resourceCountIs(RESOURCE_TYPE, 3);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(stack.resolve(a.handler.functionArn)).not.toEqual(stack.resolve(b.handler.functionArn));
    const ids = Object.keys(template.toJSON().Resources);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('TeamAQualys')).length).toBeGreaterThan(5);
    expect(ids.filter((id) => id.startsWith('TeamBQualys')).length).toBeGreaterThan(5);
  });
});

describe('attributes in the consumer’s own resources', () => {
  test('GIVEN VM and PC THEN outputs, an alarm on the handler and a queue can use the attributes', () => {
    const stack = consumerStack();
    const onboarding = new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, pc: true });
    new CfnOutput(stack, 'PcName', { value: onboarding.pc!.integrationName });
    new CfnOutput(stack, 'Bucket', { value: onboarding.bucket!.bucketArn });
    new cloudwatch.Alarm(stack, 'HandlerErrors', {
      metric: onboarding.handler.metricErrors(),
      threshold: 1,
      evaluationPeriods: 1,
    });
    const queue = new sqs.Queue(stack, 'Findings');
    onboarding.vm!.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
    const template = Template.fromStack(stack);
    template.hasOutput('PcName', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^QualysPcIntegration'), 'IntegrationName'] },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^QualysIntegrationProviderHandler') } },
      ],
    });
  });

  test('GIVEN pc: false and vm settings THEN pc is undefined and only the VM integration exists', () => {
    const { onboarding, template } = onboard({ vm: { minSeverity: 5 }, pc: false });
    expect(onboarding.pc).toBeUndefined();
    expect(onboarding.vm?.kind).toBe('vm');
    template.resourceCountIs(RESOURCE_TYPE, 1);
  });

  test('GIVEN vm: false and pc: true THEN vm is undefined', () => {
    const { onboarding } = onboard({ vm: false, pc: true });
    expect(onboarding.vm).toBeUndefined();
    expect(onboarding.pc?.kind).toBe('pc');
  });
});

describe('weird props', () => {
  test('GIVEN null props (a JavaScript consumer) WHEN constructed THEN a ConfigError, not a TypeError', () => {
    expect(() => new QualysS3Onboarding(consumerStack(), 'Qualys', null as never)).toThrow(ConfigError);
  });

  test('GIVEN no envName (e.g. from an unset environment variable) WHEN constructed THEN "props.envName" is reported missing, not taken as the name "undefined"', () => {
    const problems = problemsOf(() => onboard({ envName: undefined }));
    expect(problems).toEqual([expect.stringMatching(/props\.envName/)]);
  });

  test('GIVEN a bucket where the secret belongs WHEN constructed THEN "props.credentialsSecret" is refused, not granted as a secret with no SecretId', () => {
    const stack = consumerStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Findings', 'acme-findings');
    // Today: it synthesizes, the handler role gets s3:GetObject on the bucket, and the
    // integrations' SecretId is undefined.
    expect(problemsOf(() => onboard({ credentialsSecret: bucket }, stack))).toEqual([
      expect.stringMatching(/^"props\.credentialsSecret"/),
    ]);
  });

  test('GIVEN a secret where the bucket belongs WHEN constructed THEN "props.bucket" is refused with a ConfigError, not a TypeError', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'team/qualys');
    expect(problemsOf(() => onboard({ bucket: secret }, stack))).toEqual([expect.stringMatching(/^"props\.bucket"/)]);
  });

  test('GIVEN an ec2.IVpc where the VPC settings belong WHEN constructed THEN one problem names "props.vpc", not one per internal field of the construct', () => {
    const stack = consumerStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0a1b2c3d4e5f67890',
      availabilityZones: ['eu-west-1a'],
    });
    // Today: 20 problems such as '"props.vpc._allowCrossEnvironment" is not a known field'.
    const problems = problemsOf(() => onboard({ vpc }, stack));
    expect(problems).toEqual([expect.stringMatching(/^"props\.vpc"/)]);
  });

  test('GIVEN an IBucket under a misspelt key THEN did-you-mean names "bucket", and nothing crashes on the construct', () => {
    const stack = consumerStack();
    const problems = problemsOf(() =>
      onboard({ bukcet: s3.Bucket.fromBucketName(stack, 'B', 'acme-findings') }, stack),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^"props\.bukcet" is not a known field \(did you mean "bucket"\?\)/),
    ]);
  });

  test('GIVEN a plain object that looks like a bucket THEN it is read as bucket settings and its unknown key is reported', () => {
    const problems = problemsOf(() =>
      onboard({ bucket: { bucketName: 'acme-findings', bucketArn: 'arn:aws:s3:::acme-findings' } }),
    );
    expect(problems).toEqual([expect.stringMatching(/^"props\.bucket\.bucketArn" is not a known field/)]);
  });

  test.each([
    ['null', null, /^"props\.bucket" must be an object, got null/],
    ['an array', [], /^"props\.bucket" must be an object, got \[\]/],
  ])('GIVEN bucket as %s THEN the schema says so', (_label, bucket, message) => {
    expect(problemsOf(() => onboard({ bucket }))).toEqual([expect.stringMatching(message)]);
  });

  test('GIVEN several kinds of problems at once (schema, secret region, account) THEN one ConfigError lists all of them', () => {
    const stack = consumerStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Creds',
      'arn:aws:secretsmanager:us-west-2:111122223333:secret:qualys-AbCdEf',
    );
    const problems = problemsOf(() =>
      onboard({ credentialsSecret: secret, account: '999988887777', vm: { minSeverity: 7 }, pcc: true }, stack),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^"props\.vm\.minSeverity"/),
        expect.stringMatching(/^"props\.pcc" is not a known field \(did you mean "pc"\?\)/),
        expect.stringMatching(/^"props\.account" is "999988887777"/),
        expect.stringMatching(/^"props\.credentialsSecret" is a secret in region us-west-2/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });
});

describe('tokens where literals are needed', () => {
  /** The problems a token prop gives: none when the construct accepts it (CloudFormation resolves it). */
  function tokenProblems(props: (stack: Stack) => Record<string, unknown>, stack = consumerStack()): readonly string[] {
    try {
      onboard(props(stack), stack);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems;
    }
  }

  test.each<[string, string, RegExp, (stack: Stack) => Record<string, unknown>]>([
    [
      'a KMS key of the stack',
      'bucket.kmsKeyArn',
      /props\.bucket\.kmsKeyArn/,
      (stack) => ({ bucket: { kmsKeyArn: new kms.Key(stack, 'K').keyArn } }),
    ],
    [
      'a parameter',
      'bucket.bucketName',
      /props\.bucket\.bucketName/,
      (stack) => ({
        bucket: { bucketName: new CfnParameter(stack, 'B').valueAsString },
      }),
    ],
    [
      'a number parameter',
      'vm.minSeverity',
      /props\.vm\.minSeverity/,
      (stack) => ({
        vm: { minSeverity: new CfnParameter(stack, 'S', { type: 'Number' }).valueAsNumber },
      }),
    ],
    [
      'a parameter',
      'envName',
      /props\.envName|environment name/,
      (stack) => ({ envName: new CfnParameter(stack, 'E').valueAsString }),
    ],
    [
      'a parameter',
      'tags.team',
      /props\.tags\.team/,
      (stack) => ({ tags: { team: new CfnParameter(stack, 'T').valueAsString } }),
    ],
  ])(
    'GIVEN %s as "%s" WHEN constructed THEN it is accepted, or the problem names the field and says it is a token known only at deploy (as for credentialsSecret), never "${Token[...]}" or a number like -1.88e+289',
    (_label, _field, field, props) => {
      for (const problem of tokenProblems(props)) {
        expect(problem).toMatch(field);
        expect(problem).toMatch(/token/i);
        expect(problem).not.toMatch(/\$\{Token\[|e\+\d{3}/);
      }
    },
  );

  test('GIVEN the common idiom `${stack.account}-findings` as bucket name in an environment-agnostic stack THEN it is accepted (CloudFormation resolves it) or refused as a token, never as a malformed name', () => {
    // Today: '"props.bucket.bucketName" is "${Token[AWS.AccountId.2]}-qualys-findings"; a bucket name may hold only lowercase letters...'
    const problems = tokenProblems(
      (stack) => ({ bucket: { bucketName: `${stack.account}-qualys-findings` } }),
      consumerStack({}),
    );
    for (const problem of problems) expect(problem).not.toMatch(/\$\{Token\[/);
  });
});

describe('account and region', () => {
  test('GIVEN an environment-agnostic stack and an explicit account in the props THEN the construct says the stack decides it (the account is otherwise silently ignored)', () => {
    const stack = consumerStack({});
    let said = '';
    try {
      onboard({ account: '999988887777' }, stack);
      said = Annotations.fromStack(stack)
        .findWarning('*', Match.anyValue())
        .map((w) => String(w.entry.data))
        .join('\n');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      said = error.message;
    }
    expect(said).toMatch(/props\.account/);
  });

  test("GIVEN account and region equal to the stack's THEN they are accepted", () => {
    const { onboarding } = onboard({ account: ENV.account, region: ENV.region });
    expect(onboarding.config).toMatchObject(ENV);
  });
});
