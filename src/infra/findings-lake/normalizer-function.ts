import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CURATED_PREFIX,
  MANIFEST_PREFIX,
  NORMALIZER_ENV,
  QUARANTINE_PREFIX,
  RAW_PREFIXES,
} from '../../core/findings/layout';
import { nagResource } from '../findings-bucket';
import { handlerAssetDir } from '../handler-asset';

/** The normalizer's sizing, in one place. */
export const NORMALIZER = {
  /** The Parquet writer holds a row group of columns in memory; 2 GB also buys the CPU of about 1.2 vCPU. */
  memorySize: 2048,
  timeout: Duration.minutes(15),
  /** Parquet is written to /tmp before upload; a batch's files fit many times over. */
  ephemeralStorage: Size.gibibytes(4),
  /** Source objects per invocation: a large posture file alone can take minutes. */
  batchSize: 5,
  /** Concurrent invocations at most, so that a backfill does not take the account's Lambda concurrency. */
  maxConcurrency: 10,
} as const;

export interface NormalizerFunctionProps {
  readonly queue: sqs.IQueue;
  readonly findingsBucket: s3.IBucket;
  /** The findings bucket's KMS key, when it has one (its objects are read). */
  readonly findingsKey?: kms.IKey;
  readonly lakeBucket: s3.IBucket;
  /** The lake bucket's KMS key, when it has one (its objects are written and read). */
  readonly lakeKey?: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /**
   * More environment variables for the function, beside FINDINGS_BUCKET and LAKE_BUCKET.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * The normalizer Lambda, drained by the ingest queue in small batches (failed messages reported
 * one by one), and a role that may read the raw prefixes of the findings bucket, write the three
 * prefixes of the lake bucket, and nothing else.
 */
export class NormalizerFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: NormalizerFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Normalizes Qualys findings into Parquet in the findings lake',
    });
    const rawObjects = [RAW_PREFIXES.pc, RAW_PREFIXES.vm].map((prefix) =>
      props.findingsBucket.arnForObjects(`${prefix}*`),
    );
    const lakeObjects = [CURATED_PREFIX, QUARANTINE_PREFIX, MANIFEST_PREFIX].map((prefix) =>
      props.lakeBucket.arnForObjects(`${prefix}*`),
    );
    const statements = [
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
      new iam.PolicyStatement({ sid: 'ReadRawFindings', actions: ['s3:GetObject'], resources: rawObjects }),
      new iam.PolicyStatement({
        sid: 'WriteLake',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: lakeObjects,
      }),
      // Without it S3 answers a GetObject of a missing manifest with 403 instead of 404, and a
      // first delivery could not be told from a denied read. It lists the lake bucket only.
      new iam.PolicyStatement({
        sid: 'TellMissingManifests',
        actions: ['s3:ListBucket'],
        resources: [props.lakeBucket.bucketArn],
      }),
      // The same for the raw objects: one deleted since its notification (raw expiry, a backfill or
      // a DLQ redrive after it expired) must answer 404, which the handler takes as "gone: done", not
      // 403, which it retries to the dead-letter queue. Unconditioned: S3 decides 403 vs 404 from
      // ListBucket on the bucket with no prefix in the request context, so an s3:prefix condition
      // would never match. It lets the role list key names, no object's content.
      new iam.PolicyStatement({
        sid: 'TellMissingRawFindings',
        actions: ['s3:ListBucket'],
        resources: [props.findingsBucket.bucketArn],
      }),
      ...kmsStatements(props),
    ];
    for (const statement of statements) this.role.addToPolicy(statement);

    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(handlerAssetDir('normalizer')),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: NORMALIZER.memorySize,
      timeout: NORMALIZER.timeout,
      ephemeralStorageSize: NORMALIZER.ephemeralStorage,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.TEXT,
      description: 'Qualys findings lake: normalizes delivered postures and findings into Parquet',
      environment: {
        [NORMALIZER_ENV.findingsBucket]: props.findingsBucket.bucketName,
        [NORMALIZER_ENV.lakeBucket]: props.lakeBucket.bucketName,
        ...props.environment,
      },
    });
    this.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: NORMALIZER.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: NORMALIZER.maxConcurrency,
      }),
    );

    // The object ARNs are named once synthesis has resolved the buckets (one may be another stack's).
    this.role.node.addValidation({
      validate: () => {
        for (const [arn, reason] of [
          ...rawObjects.map((arn) => [arn, RAW_REASON] as const),
          ...lakeObjects.map((arn) => [arn, LAKE_REASON] as const),
        ]) {
          Validations.of(this.role).acknowledge({
            id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResource(Stack.of(this).resolve(arn))}]`,
            reason,
          });
        }
        return [];
      },
    });
  }
}

const RAW_REASON =
  'Qualys writes findings under date-named keys it chooses; the normalizer reads (s3:GetObject only) the objects of the ' +
  'two raw prefixes it is notified of, and no other object of the findings bucket';
const LAKE_REASON =
  "The normalizer's outputs are named by the source object (curated/<table>/day=<day>/<id>.parquet, quarantine/<key>, " +
  'manifests/<id>.json); it may read, write and delete under these three prefixes of its own lake bucket only';

/** Exactly what reading SSE-KMS objects and writing them needs, on the named keys only, and only through S3. */
function kmsStatements(props: NormalizerFunctionProps): iam.PolicyStatement[] {
  const viaS3 = (bucket: s3.IBucket) => ({
    StringEquals: { 'kms:ViaService': `s3.${bucket.env.region}.amazonaws.com` },
  });
  const statements: iam.PolicyStatement[] = [];
  if (props.findingsKey) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'DecryptRawFindings',
        actions: ['kms:Decrypt'],
        resources: [props.findingsKey.keyArn],
        conditions: viaS3(props.findingsBucket),
      }),
    );
  }
  if (props.lakeKey) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'EncryptLake',
        // GenerateDataKey for every upload; Decrypt to read manifests back and for multipart uploads.
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.lakeKey.keyArn],
        conditions: viaS3(props.lakeBucket),
      }),
    );
  }
  return statements;
}
