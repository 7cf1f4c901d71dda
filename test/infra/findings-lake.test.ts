/**
 * The findings lake in the app's stack (QualysS3Stack with analytics enabled): every resource
 * the issue names, asserted on the property that matters, and IAM exactly as narrow as stated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../src/config/config';
import { NAMED_QUERIES, renderQuery } from '../../src/core/findings/queries';
import { GLUE_TYPES, TABLE_COLUMNS } from '../../src/core/findings/tables';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

type Json = any;

const BASE = { platform: 'US1', credentialsSecret: 'qualys/api-credentials', vm: {}, pc: {} };
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const outRoot = mkdtempSync(path.join(tmpdir(), 'qualys-lake-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));
const cache = new Map<string, Json>();

function synth(env: Record<string, unknown>, envName = 'dev'): Json {
  const key = JSON.stringify([env, envName]);
  if (!cache.has(key)) {
    const app = new App({ outdir: path.join(outRoot, String(cache.size)) });
    const config = parseConfig({ environments: { [envName]: env } }).environments[0];
    cache.set(key, Template.fromStack(new QualysS3Stack(app, `QualysS3-${envName}`, { config })).toJSON());
  }
  return cache.get(key);
}

const LAKE = { ...BASE, analytics: { enabled: true, rawDataExpirationDays: 60 } };
const LAKE_KMS = {
  ...BASE,
  account: '123456789012',
  region: 'eu-west-1',
  bucket: { kmsKeyArn: KEY_ARN, retainOnDelete: false },
  logRetentionDays: 14,
  analytics: { enabled: true, resultRetentionDays: 7, bytesScannedLimitMb: 10, databaseName: 'findings_prod' },
};

const resources = (t: Json, type: string): Array<[string, Json]> =>
  Object.entries(t.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
const only = (t: Json, type: string, idPart: string): [string, Json] => {
  const found = resources(t, type).filter(([id]) => id.includes(idPart));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0];
};
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** An ARN expression as text: `<Logical.Arn>/curated/*`, `<Ref>`, or the literal. */
function arnText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  if (value.Ref) return `<${value.Ref}>`;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(arnText).join(value['Fn::Join'][0]);
  return JSON.stringify(value);
}

/** Every Allow statement of the inline policies attached to a role, as `actions on resources [condition]`. */
function grantsOf(t: Json, roleId: string): string[] {
  const out: string[] = [];
  for (const [, policy] of resources(t, 'AWS::IAM::Policy')) {
    if (!policy.Properties.Roles.some((r: Json) => r.Ref === roleId)) continue;
    for (const s of policy.Properties.PolicyDocument.Statement) {
      const condition = s.Condition ? ` if ${JSON.stringify(s.Condition)}` : '';
      out.push(`${asArray(s.Action).join(',')} on ${asArray(s.Resource).map(arnText).join(' ')}${condition}`);
    }
  }
  return out.sort();
}

describe('notifications, queue and dead-letter queue', () => {
  test('GIVEN analytics WHEN synthesized THEN the findings bucket notifies the queue of objects created under each raw prefix, and of nothing else', () => {
    const t = synth(LAKE);
    const [queueId] = only(t, 'AWS::SQS::Queue', 'IngestQueue');
    const [, notifications] = only(t, 'Custom::S3BucketNotifications', '');
    const [bucketId] = only(t, 'AWS::S3::Bucket', 'FindingsBucket');

    expect(notifications.Properties.BucketName).toEqual({ Ref: bucketId });
    expect(notifications.Properties.NotificationConfiguration).toEqual({
      QueueConfigurations: ['qualys_pc_posture_info/', 'qualys_vm_findings/'].map((prefix) => ({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
        QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      })),
    });
  });

  test('GIVEN analytics WHEN synthesized THEN the queue keeps a message 14 days (the maximum), so a long backfill does not expire before the normalizer reaches it', () => {
    const [, queue] = only(synth(LAKE), 'AWS::SQS::Queue', 'IngestQueue');
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  test('GIVEN analytics WHEN synthesized THEN the queue is SSE-SQS, hides a message for six normalizer timeouts, and moves it to the dead-letter queue after 5 receives', () => {
    const t = synth(LAKE);
    const [, queue] = only(t, 'AWS::SQS::Queue', 'IngestQueue');
    const [dlqId, dlq] = only(t, 'AWS::SQS::Queue', 'DeadLetters');
    const [, fn] = only(t, 'AWS::Lambda::Function', 'NormalizerFunction');

    expect(queue.Properties.VisibilityTimeout).toBe(6 * fn.Properties.Timeout);
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(dlq.Properties).toEqual({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
  });

  test('GIVEN analytics WHEN the queue policies are read THEN both queues refuse plain HTTP, and only S3, for the findings bucket, may send', () => {
    const t = synth(LAKE);
    const [bucketId] = only(t, 'AWS::S3::Bucket', 'FindingsBucket');
    const policies = resources(t, 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(2);
    for (const [, policy] of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
    const allows = policies.flatMap(([, p]) =>
      p.Properties.PolicyDocument.Statement.filter((s: Json) => s.Effect === 'Allow'),
    );
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 's3.amazonaws.com' },
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
      }),
    ]);
  });

  test('GIVEN analytics WHEN synthesized THEN one alarm fires on any message in the dead-letter queue and one on a queue backlog over six hours', () => {
    const t = synth(LAKE);
    const [dlqId] = only(t, 'AWS::SQS::Queue', 'DeadLetters');
    const [queueId] = only(t, 'AWS::SQS::Queue', 'IngestQueue');
    const alarms = resources(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const queueName = (id: string) => [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }];

    expect(alarms).toHaveLength(2);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: queueName(dlqId),
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: queueName(queueId),
        Threshold: 6 * 3600,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
  });
});

describe('alarm actions', () => {
  const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:qualys-findings-alarms';
  const alarmsOf = (t: Json) => resources(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  test('GIVEN alarmTopicArn WHEN synthesized THEN both alarms notify that topic going into alarm and back to OK, and nothing is granted on it', () => {
    const t = synth({ ...LAKE_KMS, analytics: { ...LAKE_KMS.analytics, alarmTopicArn: TOPIC } });
    const alarms = alarmsOf(t);

    expect(alarms.map((a) => a.MetricName).sort()).toEqual([
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesVisible',
    ]);
    for (const alarm of alarms) {
      expect(alarm).toEqual(expect.objectContaining({ AlarmActions: [TOPIC], OKActions: [TOPIC] }));
      expect(alarm).not.toHaveProperty('InsufficientDataActions');
    }
    // The topic is imported: no topic, topic policy or KMS grant of this stack names it.
    const types = Object.values<Json>(t.Resources).map((r) => r.Type);
    expect(types.filter((type) => type.startsWith('AWS::SNS::'))).toEqual([]);
    expect(JSON.stringify(resources(t, 'AWS::IAM::Policy'))).not.toContain('sns');
    expect(JSON.stringify(resources(t, 'AWS::KMS::Key'))).toBe('[]');
  });

  test('GIVEN no alarmTopicArn WHEN synthesized THEN neither alarm has any action', () => {
    const alarms = [...alarmsOf(synth(LAKE)), ...alarmsOf(synth(LAKE_KMS))];

    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      for (const key of ['AlarmActions', 'OKActions', 'InsufficientDataActions']) expect(alarm).not.toHaveProperty(key);
    }
  });
});

describe('the normalizer', () => {
  test('GIVEN analytics WHEN synthesized THEN the function is nodejs24.x on arm64 with 2 GB, 15 minutes, 4 GB of /tmp, its own log group, FINDINGS_BUCKET and LAKE_BUCKET', () => {
    const t = synth(LAKE_KMS);
    const [, fn] = only(t, 'AWS::Lambda::Function', 'NormalizerFunction');
    const [findingsId] = only(t, 'AWS::S3::Bucket', 'FindingsBucket');
    const [lakeId] = only(t, 'AWS::S3::Bucket', 'FindingsLakeBucket');
    const [logsId, logs] = only(t, 'AWS::Logs::LogGroup', 'NormalizerLogs');

    expect(fn.Properties).toEqual(
      expect.objectContaining({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 2048,
        Timeout: 900,
        EphemeralStorage: { Size: 4096 },
        Handler: 'index.handler',
        Environment: { Variables: { FINDINGS_BUCKET: { Ref: findingsId }, LAKE_BUCKET: { Ref: lakeId } } },
        LoggingConfig: expect.objectContaining({ LogGroup: { Ref: logsId } }),
      }),
    );
    expect(logs.Properties.RetentionInDays).toBe(14);
  });

  test('GIVEN analytics WHEN synthesized THEN the queue drives the function in batches of 5, failures reported per message, at most 10 at once', () => {
    const t = synth(LAKE);
    const [queueId] = only(t, 'AWS::SQS::Queue', 'IngestQueue');
    const [fnId] = only(t, 'AWS::Lambda::Function', 'NormalizerFunction');

    expect(resources(t, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties)).toEqual([
      {
        BatchSize: 5,
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        FunctionName: { Ref: fnId },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 10 },
      },
    ]);
  });

  test('GIVEN SSE-S3 buckets WHEN the normalizer role is read THEN it may read the two raw prefixes, write the three lake prefixes, list the lake and the findings bucket, consume the queue and log, and nothing else', () => {
    const t = synth(LAKE);
    const [roleId, role] = only(t, 'AWS::IAM::Role', 'NormalizerRole');
    const [bucketId] = only(t, 'AWS::S3::Bucket', 'FindingsBucket');
    const [lakeId] = only(t, 'AWS::S3::Bucket', 'FindingsLakeBucket');
    const [queueId] = only(t, 'AWS::SQS::Queue', 'IngestQueue');
    const [logsId] = only(t, 'AWS::Logs::LogGroup', 'NormalizerLogs');

    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    expect(grantsOf(t, roleId)).toEqual(
      [
        `logs:CreateLogStream,logs:PutLogEvents on <${logsId}.Arn>`,
        `s3:GetObject on <${bucketId}.Arn>/qualys_pc_posture_info/* <${bucketId}.Arn>/qualys_vm_findings/*`,
        `s3:GetObject,s3:PutObject,s3:DeleteObject on <${lakeId}.Arn>/curated/* <${lakeId}.Arn>/quarantine/* <${lakeId}.Arn>/manifests/*`,
        `s3:ListBucket on <${lakeId}.Arn>`,
        `s3:ListBucket on <${bucketId}.Arn>`,
        `sqs:ReceiveMessage,sqs:ChangeMessageVisibility,sqs:GetQueueUrl,sqs:DeleteMessage,sqs:GetQueueAttributes on <${queueId}.Arn>`,
      ].sort(),
    );
  });

  test('GIVEN a customer-managed key WHEN the normalizer role is read THEN it may decrypt raw findings and encrypt the lake with that key only, through S3 in its region only', () => {
    const t = synth(LAKE_KMS);
    const [roleId] = only(t, 'AWS::IAM::Role', 'NormalizerRole');
    const viaS3 = JSON.stringify({ StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } });

    expect(grantsOf(t, roleId).filter((g) => g.startsWith('kms:'))).toEqual(
      [`kms:Decrypt on ${KEY_ARN} if ${viaS3}`, `kms:GenerateDataKey,kms:Decrypt on ${KEY_ARN} if ${viaS3}`].sort(),
    );
  });

  test('GIVEN analytics WHEN every IAM statement of the stack is read THEN none allows a wildcard resource or action', () => {
    for (const env of [LAKE, LAKE_KMS]) {
      const bad: string[] = [];
      for (const [id, r] of Object.entries<Json>(synth(env).Resources)) {
        const docs: Json[] = [];
        if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
          docs.push(r.Properties.PolicyDocument);
        if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
        for (const s of docs.flatMap((d) => d.Statement).filter((s: Json) => s.Effect === 'Allow')) {
          for (const res of asArray(s.Resource)) if (res === '*') bad.push(`${id}: Resource *`);
          for (const a of asArray<string>(s.Action)) if (a.includes('*')) bad.push(`${id}: Action ${a}`);
        }
      }
      expect(bad).toEqual([]);
    }
  });
});

describe('the lake and results buckets', () => {
  test('GIVEN SSE-S3 findings WHEN synthesized THEN the lake bucket is SSE-S3, private, versioned with noncurrent versions expiring, TLS-only, and retained', () => {
    const t = synth(LAKE);
    const [lakeId, lake] = only(t, 'AWS::S3::Bucket', 'FindingsLakeBucket');
    const policy = resources(t, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === lakeId)?.[1];

    expect(lake.DeletionPolicy).toBe('Retain');
    expect(lake.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual(
      {
        SSEAlgorithm: 'AES256',
      },
    );
    expect(lake.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(lake.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(lake.Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 }, Status: 'Enabled' }),
    ]);
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  test("GIVEN the findings bucket's KMS key and retainOnDelete false WHEN synthesized THEN the lake and results use that key with Bucket Keys, and the lake goes with the stack", () => {
    const t = synth(LAKE_KMS);
    const [, lake] = only(t, 'AWS::S3::Bucket', 'FindingsLakeBucket');
    const [, results] = only(t, 'AWS::S3::Bucket', 'ResultsBucket');
    for (const bucket of [lake, results]) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual(
        expect.objectContaining({
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN },
        }),
      );
    }
    expect(lake.DeletionPolicy).toBe('Delete');
  });

  test('GIVEN resultRetentionDays WHEN synthesized THEN query results expire after that many days, and the results bucket goes with the stack', () => {
    const results = (env: Json) => only(synth(env), 'AWS::S3::Bucket', 'ResultsBucket')[1];

    expect(results(LAKE).Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Id: 'ExpireQueryResults', ExpirationInDays: 30 }),
    ]);
    expect(results(LAKE_KMS).Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ ExpirationInDays: 7 }),
    ]);
    expect(results(LAKE).DeletionPolicy).toBe('Delete');
  });
});

describe('raw-data expiry', () => {
  test('GIVEN rawDataExpirationDays WHEN synthesized THEN the findings bucket expires each raw prefix after that many days, beside its own rules', () => {
    const [, bucket] = only(synth(LAKE), 'AWS::S3::Bucket', 'FindingsBucket');

    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Id: 'ExpireOverwrittenFindings' }),
      { Id: 'ExpireRawPostures', Prefix: 'qualys_pc_posture_info/', ExpirationInDays: 60, Status: 'Enabled' },
      { Id: 'ExpireRawVmFindings', Prefix: 'qualys_vm_findings/', ExpirationInDays: 60, Status: 'Enabled' },
    ]);
  });

  test('GIVEN no rawDataExpirationDays WHEN synthesized THEN no raw object expires', () => {
    const [, bucket] = only(synth(LAKE_KMS), 'AWS::S3::Bucket', 'FindingsBucket');

    expect(bucket.Properties.LifecycleConfiguration.Rules.map((r: Json) => r.Id)).toEqual([
      'ExpireOverwrittenFindings',
    ]);
  });
});

describe('Glue', () => {
  test('GIVEN analytics WHEN synthesized THEN the database has the default name from the environment', () => {
    const [, db] = only(synth(LAKE, 'prod-eu'), 'AWS::Glue::Database', '');

    expect(db.Properties.DatabaseInput.Name).toBe('qualys_s3_prod_eu');
  });

  test.each(['pc_postures', 'vm_findings'] as const)(
    'GIVEN analytics WHEN the %s table is read THEN its columns are tables.ts, Parquet, partitioned by day with projection over curated/<table>/',
    (table) => {
      const t = synth(LAKE_KMS);
      const [lakeId] = only(t, 'AWS::S3::Bucket', 'FindingsLakeBucket');
      const [dbId] = only(t, 'AWS::Glue::Database', '');
      const [, resource] = resources(t, 'AWS::Glue::Table').find(([, r]) => r.Properties.TableInput.Name === table)!;
      const input = resource.Properties.TableInput;
      const location = `s3://<${lakeId}>/curated/${table}/`;

      expect(resource.Properties.DatabaseName).toEqual({ Ref: dbId });
      expect(input.StorageDescriptor.Columns).toEqual(
        TABLE_COLUMNS[table].map((c) => ({ Name: c.name, Type: GLUE_TYPES[c.kind], Comment: c.comment })),
      );
      expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'day', Type: 'string' })]);
      expect(arnText(input.StorageDescriptor.Location)).toBe(location);
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      );
      expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
      const { 'storage.location.template': template, ...parameters } = input.Parameters;
      expect(parameters).toEqual({
        classification: 'parquet',
        EXTERNAL: 'TRUE',
        'projection.enabled': 'true',
        'projection.day.type': 'date',
        'projection.day.format': 'yyyy-MM-dd',
        // A day ahead of UTC: a folder named in a time zone ahead of UTC is visible at once.
        'projection.day.range': '2020-01-01,NOW+1DAYS',
        'projection.day.interval': '1',
        'projection.day.interval.unit': 'DAYS',
      });
      expect(arnText(template)).toBe(`${location}day=\${day}/`);
    },
  );
});

describe('Athena', () => {
  test('GIVEN analytics WHEN the workgroup is read THEN its settings are enforced: engine v3, metrics, the result location and encryption, the scan limit; it is deleted with its contents', () => {
    const t = synth(LAKE);
    const [resultsId] = only(t, 'AWS::S3::Bucket', 'ResultsBucket');
    const [, wg] = only(t, 'AWS::Athena::WorkGroup', '');
    const { ResultConfiguration, ...config } = wg.Properties.WorkGroupConfiguration;

    expect(wg.Properties.Name).toBe('qualys_s3_dev');
    expect(wg.Properties.RecursiveDeleteOption).toBe(true);
    expect(config).toEqual({
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      BytesScannedCutoffPerQuery: 10240 * 1024 * 1024,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
    });
    expect(arnText(ResultConfiguration.OutputLocation)).toBe(`s3://<${resultsId}>/results/`);
    expect(ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_S3' });
  });

  test('GIVEN a KMS key and a 10 MB limit WHEN the workgroup is read THEN results are SSE-KMS with that key and queries stop at 10 MB', () => {
    const [, wg] = only(synth(LAKE_KMS), 'AWS::Athena::WorkGroup', '');
    const config = wg.Properties.WorkGroupConfiguration;

    expect(wg.Properties.Name).toBe('findings_prod');
    expect(config.BytesScannedCutoffPerQuery).toBe(10 * 1024 * 1024);
    expect(config.ResultConfiguration.EncryptionConfiguration).toEqual({
      EncryptionOption: 'SSE_KMS',
      KmsKey: KEY_ARN,
    });
  });

  test('GIVEN the named queries of queries.ts WHEN synthesized THEN each is one named query in the workgroup and the database, its SQL rendered with the defaults', () => {
    const t = synth(LAKE);
    const [wgId] = only(t, 'AWS::Athena::WorkGroup', '');
    const [dbId] = only(t, 'AWS::Glue::Database', '');
    const queries = resources(t, 'AWS::Athena::NamedQuery');

    expect(queries.map(([, q]) => q.Properties)).toEqual(
      NAMED_QUERIES.map((q) => ({
        Name: q.name,
        Description: q.description,
        Database: 'qualys_s3_dev',
        QueryString: renderQuery(q),
        WorkGroup: { Ref: wgId },
      })),
    );
    for (const [, q] of queries) expect(q.DependsOn).toContain(dbId);
  });
});

describe('outputs and a stack without analytics', () => {
  test('GIVEN analytics WHEN synthesized THEN the stack outputs the ids the CLI reads', () => {
    const t = synth(LAKE);
    const [queueId] = only(t, 'AWS::SQS::Queue', 'IngestQueue');
    const [dlqId] = only(t, 'AWS::SQS::Queue', 'DeadLetters');
    const [lakeId] = only(t, 'AWS::S3::Bucket', 'FindingsLakeBucket');
    const [resultsId] = only(t, 'AWS::S3::Bucket', 'ResultsBucket');
    const value = (id: string) => t.Outputs[id].Value;

    expect(value('AnalyticsQueueUrl')).toEqual({ Ref: queueId });
    expect(value('AnalyticsDeadLetterQueueName')).toEqual({ 'Fn::GetAtt': [dlqId, 'QueueName'] });
    expect(value('LakeBucketName')).toEqual({ Ref: lakeId });
    expect(value('ResultsBucketName')).toEqual({ Ref: resultsId });
    expect(value('AthenaWorkGroup')).toBe('qualys_s3_dev');
    expect(value('GlueDatabase')).toBe('qualys_s3_dev');
  });

  test('GIVEN analytics off, with its settings kept ("enabled": false) WHEN synthesized THEN the template is the one without any analytics block', () => {
    const without = synth(BASE);
    const off = synth({ ...BASE, analytics: { enabled: false, resultRetentionDays: 7, rawDataExpirationDays: 3 } });
    const empty = synth({ ...BASE, analytics: {} });

    expect(JSON.stringify(off)).toBe(JSON.stringify(without));
    expect(JSON.stringify(empty)).toBe(JSON.stringify(without));
    const types = new Set(Object.values<Json>(without.Resources).map((r) => r.Type));
    for (const type of [
      'AWS::SQS::Queue',
      'AWS::Glue::Database',
      'AWS::Athena::WorkGroup',
      'AWS::Lambda::EventSourceMapping',
      'Custom::S3BucketNotifications',
      'AWS::CloudWatch::Alarm',
    ]) {
      expect(types).not.toContain(type);
    }
    expect(Object.keys(without.Outputs)).not.toContain('LakeBucketName');
  });
});
