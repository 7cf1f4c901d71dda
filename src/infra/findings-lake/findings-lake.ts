import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AnalyticsConfig } from '../../config/config';
import { AthenaWorkGroup } from './athena-workgroup';
import { GlueCatalog } from './glue-catalog';
import { IngestQueue } from './ingest-queue';
import { LakeBucket } from './lake-bucket';
import { NORMALIZER, NormalizerFunction } from './normalizer-function';
import { expireRawFindings } from './raw-expiry';

export interface FindingsLakeProps {
  /** The bucket Qualys writes findings into. */
  readonly findingsBucket: s3.IBucket;
  /**
   * The findings bucket's KMS key: the normalizer may decrypt with it, and the lake and the
   * query results are encrypted with it.
   * @default - SSE-S3 everywhere, and no KMS permission
   */
  readonly findingsKey?: kms.IKey;
  /** The environment's analytics settings, validated. */
  readonly analytics: AnalyticsConfig;
  /**
   * The topic the two alarms notify (into alarm and back to OK), when given as a topic rather
   * than by `analytics.alarmTopicArn`.
   * @default - the topic of `analytics.alarmTopicArn`, imported; without it the alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;
  /** Keep the lake bucket on `cdk destroy` (the findings bucket's retainOnDelete). */
  readonly retainOnDelete: boolean;
  readonly logRetention: logs.RetentionDays;
  /**
   * More environment variables for the normalizer.
   * @default - LAKE_BUCKET only
   */
  readonly normalizerEnvironment?: Readonly<Record<string, string>>;
}

/**
 * The findings lake: what Qualys delivers, normalized to Parquet and queryable with Athena.
 * S3 notifications -> SQS (with a dead-letter queue and alarms) -> the normalizer Lambda ->
 * the lake bucket -> Glue tables (partition projection) -> an Athena workgroup with named queries;
 * and, when asked, an expiry of the raw objects.
 */
export class FindingsLake extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly backlogAlarm: cloudwatch.Alarm;
  readonly lakeBucket: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  readonly normalizer: lambda.Function;
  readonly databaseName: string;
  readonly workGroupName: string;

  constructor(scope: Construct, id: string, props: FindingsLakeProps) {
    super(scope, id);
    const { analytics } = props;
    const lake = new LakeBucket(this, 'Lake', {
      encryptionKey: props.findingsKey,
      retainOnDelete: props.retainOnDelete,
    });
    this.lakeBucket = lake.bucket;
    const normalizerTimeout = NORMALIZER.timeout;
    const alarmTopic =
      props.alarmTopic ??
      (analytics.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', analytics.alarmTopicArn) : undefined);
    const ingest = new IngestQueue(this, 'Ingest', {
      findingsBucket: props.findingsBucket,
      consumerTimeout: normalizerTimeout,
      alarmTopic,
    });
    this.queue = ingest.queue;
    this.deadLetterQueue = ingest.deadLetterQueue;
    this.deadLetterAlarm = ingest.deadLetterAlarm;
    this.backlogAlarm = ingest.backlogAlarm;
    this.normalizer = new NormalizerFunction(this, 'Normalizer', {
      queue: ingest.queue,
      findingsBucket: props.findingsBucket,
      findingsKey: props.findingsKey,
      lakeBucket: lake.bucket,
      lakeKey: props.findingsKey,
      logRetention: props.logRetention,
      environment: props.normalizerEnvironment,
    }).function;
    const catalog = new GlueCatalog(this, 'Catalog', {
      databaseName: analytics.databaseName,
      lakeBucket: lake.bucket,
    });
    this.databaseName = catalog.databaseName;
    const athena = new AthenaWorkGroup(this, 'Athena', {
      workGroupName: analytics.databaseName,
      databaseName: analytics.databaseName,
      resultRetentionDays: analytics.resultRetentionDays,
      bytesScannedLimitMb: analytics.bytesScannedLimitMb,
      encryptionKey: props.findingsKey,
    });
    // Named queries name the database as a string: they are created after it.
    for (const query of athena.namedQueries) query.node.addDependency(catalog.database);
    this.resultsBucket = athena.resultsBucket;
    this.workGroupName = athena.workGroupName;

    if (analytics.rawDataExpirationDays !== undefined) {
      if (!(props.findingsBucket instanceof s3.Bucket)) {
        // QualysS3Onboarding refuses this with its own message; a direct use of the construct gets this one.
        throw new Error(
          'FindingsLake: rawDataExpirationDays needs a findings bucket this stack creates (an s3.Bucket); an existing ' +
            "bucket's lifecycle is its owner's",
        );
      }
      expireRawFindings(props.findingsBucket, analytics.rawDataExpirationDays);
    }
  }
}
