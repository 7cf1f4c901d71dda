/**
 * The findings lake through QualysS3Onboarding in a consumer's stack: with an existing bucket
 * (what works, what is refused), two onboardings in one stack, and two environments in one app.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ConfigError, parseConfig, stackName } from '../../src/config/config';
import { QualysS3Onboarding, type QualysS3OnboardingProps } from '../../src/infra/qualys-s3-onboarding';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

type Json = any;

const ENV = { account: '111122223333', region: 'eu-west-1' };
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PROPS: QualysS3OnboardingProps = {
  envName: 'prod',
  platform: 'EU1',
  credentialsSecret: 'qualys/api-credentials',
  vm: {},
  analytics: { enabled: true },
};

const consumerStack = () => new Stack(new App(), 'Platform', { env: ENV });

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function existingBucket(stack: Stack, withKey: boolean): s3.IBucket {
  return s3.Bucket.fromBucketAttributes(stack, 'Existing', {
    bucketName: 'acme-security-findings',
    encryptionKey: withKey ? kms.Key.fromKeyArn(stack, 'ExistingKey', KEY_ARN) : undefined,
  });
}

const statementsOf = (t: Json, roleIdPart: string) =>
  Object.values<Json>(t.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref.includes(roleIdPart)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);

describe('an existing bucket (an IBucket)', () => {
  test('GIVEN an existing SSE-KMS bucket that names its key WHEN analytics is enabled THEN its raw prefixes notify the queue, unmanaged (its other notifications kept), and the normalizer reads them with that key', () => {
    const stack = consumerStack();
    const onboarding = new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, bucket: existingBucket(stack, true) });
    const t = Template.fromStack(stack).toJSON();
    const notifications = Object.values<Json>(t.Resources).filter((r) => r.Type === 'Custom::S3BucketNotifications');
    const statements = statementsOf(t, 'NormalizerRole');

    expect(onboarding.analytics?.databaseName).toBe('qualys_s3_prod');
    expect(notifications).toHaveLength(1);
    expect(notifications[0].Properties).toEqual(
      expect.objectContaining({ BucketName: 'acme-security-findings', Managed: false }),
    );
    expect(
      notifications[0].Properties.NotificationConfiguration.QueueConfigurations.map(
        (c: Json) => c.Filter.Key.FilterRules[0].Value,
      ),
    ).toEqual(['qualys_pc_posture_info/', 'qualys_vm_findings/']);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'ReadRawFindings',
        Action: 's3:GetObject',
        Resource: [
          expect.objectContaining({
            'Fn::Join': ['', expect.arrayContaining([':s3:::acme-security-findings/qualys_pc_posture_info/*'])],
          }),
          expect.objectContaining({
            'Fn::Join': ['', expect.arrayContaining([':s3:::acme-security-findings/qualys_vm_findings/*'])],
          }),
        ],
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Sid: 'DecryptRawFindings', Action: 'kms:Decrypt', Resource: KEY_ARN }),
    );
    // The existing bucket's lifecycle is untouched: there is no bucket resource for it at all.
    expect(Object.values<Json>(t.Resources).filter((r) => r.Type === 'AWS::S3::Bucket')).toHaveLength(2);
  });

  test("GIVEN a bucket of another stack of the app WHEN analytics is enabled THEN the notifications are written from the onboarding's stack, so the bucket's stack does not depend on it", () => {
    const app = new App();
    const storage = new Stack(app, 'Storage', { env: ENV });
    const bucket = new s3.Bucket(storage, 'Findings');
    const platform = new Stack(app, 'Platform', { env: ENV });
    new QualysS3Onboarding(platform, 'Qualys', { ...PROPS, bucket });
    const types = (stack: Stack) =>
      Object.values<Json>(Template.fromStack(stack).toJSON().Resources).map((r) => r.Type);

    expect(types(platform)).toContain('Custom::S3BucketNotifications');
    expect(types(storage)).not.toContain('Custom::S3BucketNotifications');
    expect(storage.dependencies).toEqual([]);
  });

  test('GIVEN an existing bucket without a key WHEN analytics is enabled THEN the normalizer holds no KMS permission and the lake is SSE-S3', () => {
    const stack = consumerStack();
    new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, bucket: existingBucket(stack, false) });
    const t = Template.fromStack(stack).toJSON();

    expect(statementsOf(t, 'NormalizerRole').filter((s: Json) => String(s.Action).includes('kms:'))).toEqual([]);
    const lake = Object.entries<Json>(t.Resources).find(([id]) => id.includes('FindingsLakeBucket'))![1];
    expect(lake.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual(
      {
        SSEAlgorithm: 'AES256',
      },
    );
  });

  test('GIVEN an existing bucket WHEN rawDataExpirationDays is set THEN the construct refuses it, saying why and what to do instead', () => {
    const stack = consumerStack();
    const problems = problemsOf(
      () =>
        new QualysS3Onboarding(stack, 'Qualys', {
          ...PROPS,
          bucket: existingBucket(stack, false),
          analytics: { enabled: true, rawDataExpirationDays: 30 },
        }),
    );

    expect(problems).toEqual([
      expect.stringMatching(
        /^"props\.analytics\.rawDataExpirationDays" is 30, but "props\.bucket" is an existing bucket \(Platform\/Existing\), whose lifecycle stays its owner's: .*expire qualys_pc_posture_info\/ and qualys_vm_findings\/ after 30 days where that bucket is defined, or leave rawDataExpirationDays out$/,
      ),
    ]);
  });

  test('GIVEN a new bucket in construct mode WHEN rawDataExpirationDays is set THEN the rule is added to that bucket', () => {
    const stack = consumerStack();
    new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, analytics: { enabled: true, rawDataExpirationDays: 30 } });
    const t = Template.fromStack(stack).toJSON();
    const findings = Object.entries<Json>(t.Resources).find(
      ([id, r]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('QualysFindingsBucket'),
    )![1];

    expect(findings.Properties.LifecycleConfiguration.Rules.map((r: Json) => r.Id)).toEqual([
      'ExpireOverwrittenFindings',
      'ExpireRawPostures',
      'ExpireRawVmFindings',
    ]);
  });

  test('GIVEN a CloudView-only onboarding WHEN analytics is enabled THEN it is refused: there is no findings bucket', () => {
    const problems = problemsOf(
      () => new QualysS3Onboarding(consumerStack(), 'Qualys', { ...PROPS, vm: undefined, cloudView: true }),
    );

    expect(problems).toEqual([
      expect.stringMatching(/^"props\.analytics" is enabled, but neither "props\.vm" nor "props\.pc" is configured/),
    ]);
  });
});

describe('the alarm topic', () => {
  const alarmsOf = (stack: Stack) =>
    Object.values<Json>(Template.fromStack(stack).toJSON().Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties);

  test("GIVEN a topic of the consumer's stack (an ITopic) WHEN analytics is enabled THEN both alarms notify it going into alarm and back to OK", () => {
    const stack = consumerStack();
    const topic = new sns.Topic(stack, 'Alarms');
    const onboarding = new QualysS3Onboarding(stack, 'Qualys', {
      ...PROPS,
      analytics: { enabled: true, alarmTopicArn: topic },
    });
    const topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
    const alarms = alarmsOf(stack);

    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) {
      expect(alarm).toEqual(
        expect.objectContaining({ AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] }),
      );
    }
    expect(stack.resolve(onboarding.config.analytics?.alarmTopicArn)).toEqual({ Ref: topicId });
  });

  test('GIVEN an imported topic or its ARN as a string WHEN analytics is enabled THEN the alarms notify that ARN', () => {
    const arn = 'arn:aws:sns:eu-west-1:111122223333:security-alarms';
    for (const given of ['string', 'ITopic'] as const) {
      const stack = consumerStack();
      const alarmTopicArn = given === 'string' ? arn : sns.Topic.fromTopicArn(stack, 'Alarms', arn);
      new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, analytics: { enabled: true, alarmTopicArn } });

      expect(alarmsOf(stack).map((a) => [a.AlarmActions, a.OKActions])).toEqual([
        [[arn], [arn]],
        [[arn], [arn]],
      ]);
    }
  });

  test("GIVEN a topic in another region than the stack's, as a topic or as an ARN WHEN constructed THEN it is refused, saying why", () => {
    const arn = 'arn:aws:sns:us-east-1:111122223333:security-alarms';
    const stack = consumerStack();
    const asTopic = sns.Topic.fromTopicArn(stack, 'Alarms', arn);
    const why = "CloudWatch alarms notify topics in their own region only, so give a topic in the stack's region";

    expect(
      problemsOf(
        () => new QualysS3Onboarding(stack, 'A', { ...PROPS, analytics: { enabled: true, alarmTopicArn: asTopic } }),
      ),
    ).toEqual([
      `"props.analytics.alarmTopicArn" is a topic in region us-east-1, but the stack deploys to eu-west-1; ${why}`,
    ]);
    expect(
      problemsOf(
        () => new QualysS3Onboarding(stack, 'B', { ...PROPS, analytics: { enabled: true, alarmTopicArn: arn } }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^"props\.analytics\.alarmTopicArn" is a topic in region us-east-1, but the stack deploys to eu-west-1; CloudWatch alarms notify topics in their own region only/,
      ),
    ]);
  });

  test('GIVEN a construct that is no topic, or a token ARN WHEN constructed THEN each is refused, pointing to the topic itself', () => {
    const stack = consumerStack();
    const notATopic = new Construct(stack, 'NotATopic');
    const token = new sns.Topic(stack, 'Alarms').topicArn;

    expect(
      problemsOf(
        () =>
          new QualysS3Onboarding(stack, 'A', {
            ...PROPS,
            analytics: { enabled: true, alarmTopicArn: notATopic as unknown as sns.ITopic },
          }),
      ),
    ).toEqual([
      '"props.analytics.alarmTopicArn" is a Construct (Platform/NotATopic), not an SNS topic; give the ARN of an SNS topic, ' +
        'or the topic itself (an ITopic)',
    ]);
    expect(
      problemsOf(
        () => new QualysS3Onboarding(stack, 'B', { ...PROPS, analytics: { enabled: true, alarmTopicArn: token } }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^"props\.analytics\.alarmTopicArn" is a token, a value known only at deploy; pass the topic itself \(an ITopic/,
      ),
    ]);
  });

  test('GIVEN a topic while "enabled" is left out WHEN constructed THEN it is refused like any option of the lake', () => {
    const stack = consumerStack();
    const topic = new sns.Topic(stack, 'Alarms');

    expect(
      problemsOf(() => new QualysS3Onboarding(stack, 'Qualys', { ...PROPS, analytics: { alarmTopicArn: topic } })),
    ).toEqual([
      expect.stringMatching(
        /^"props\.analytics\.enabled" is not set \(default false\), but "props\.analytics\.alarmTopicArn" is;/,
      ),
    ]);
  });
});

describe('names across onboardings and environments', () => {
  test('GIVEN two onboardings in one stack with the same databaseName WHEN constructed THEN the second is refused, naming the first', () => {
    const stack = consumerStack();
    new QualysS3Onboarding(stack, 'First', { ...PROPS, analytics: { enabled: true, databaseName: 'findings' } });

    expect(
      problemsOf(
        () =>
          new QualysS3Onboarding(stack, 'Second', {
            ...PROPS,
            envName: 'other',
            analytics: { enabled: true, databaseName: 'findings' },
          }),
      ),
    ).toEqual([
      expect.stringMatching(/the Glue database "findings" is also claimed by QualysS3Onboarding "Platform\/First"/),
    ]);
  });

  test('GIVEN two onboardings in one stack with their default names WHEN constructed THEN each has its own database, workgroup, queue and lake, and one notifications handler serves both', () => {
    const stack = consumerStack();
    const a = new QualysS3Onboarding(stack, 'A', PROPS);
    const b = new QualysS3Onboarding(stack, 'B', { ...PROPS, envName: 'staging' });
    const t = Template.fromStack(stack).toJSON();
    const names = (type: string, pick: (r: Json) => string) =>
      Object.values<Json>(t.Resources)
        .filter((r) => r.Type === type)
        .map(pick)
        .sort();

    expect([a.analytics?.databaseName, b.analytics?.databaseName]).toEqual(['qualys_s3_prod', 'qualys_s3_staging']);
    expect(names('AWS::Glue::Database', (r) => r.Properties.DatabaseInput.Name)).toEqual([
      'qualys_s3_prod',
      'qualys_s3_staging',
    ]);
    expect(names('AWS::Athena::WorkGroup', (r) => r.Properties.Name)).toEqual(['qualys_s3_prod', 'qualys_s3_staging']);
    expect(Object.values<Json>(t.Resources).filter((r) => r.Type === 'AWS::SQS::Queue')).toHaveLength(4);
    expect(
      Object.values<Json>(t.Resources).filter(
        (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes('S3BucketNotifications'),
      ),
    ).toHaveLength(1);
  });

  test('GIVEN two environments of one configuration WHEN the app makes their stacks THEN each stack outputs its own database and workgroup', () => {
    const app = new App();
    const base = { platform: 'US1', credentialsSecret: 'qualys/api-credentials', vm: {}, analytics: { enabled: true } };
    const config = parseConfig({ environments: { dev: base, 'prod-eu': { ...base, pc: {} } } });
    const stacks = config.environments.map((env) => new QualysS3Stack(app, stackName(env.envName), { config: env }));
    const outputs = stacks.map((stack) => Template.fromStack(stack).toJSON().Outputs);

    expect(outputs.map((o) => [o.GlueDatabase.Value, o.AthenaWorkGroup.Value])).toEqual([
      ['qualys_s3_dev', 'qualys_s3_dev'],
      ['qualys_s3_prod_eu', 'qualys_s3_prod_eu'],
    ]);
  });
});
