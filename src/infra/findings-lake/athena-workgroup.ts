import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { NAMED_QUERIES, renderQuery } from '../../core/findings/queries';
import { PRIVATE_BUCKET, lakeEncryption } from './lake-bucket';

/** Where in the results bucket Athena writes. */
export const RESULTS_PREFIX = 'results/';

export interface AthenaWorkGroupProps {
  /** The workgroup's name (the database's: unique in the account and region like it). */
  readonly workGroupName: string;
  /** The Glue database the named queries run in. */
  readonly databaseName: string;
  /** Query results expire after this many days. */
  readonly resultRetentionDays: number;
  /** Athena cancels a query once it has scanned this many megabytes. */
  readonly bytesScannedLimitMb: number;
  /**
   * The findings bucket's KMS key, which encrypts the results too.
   * @default - SSE-S3
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The Athena side of the lake: a results bucket of its own (encrypted, results expire), a
 * workgroup whose settings clients cannot override (engine v3, the result location and its
 * encryption, the per-query scan limit, CloudWatch metrics), and the named queries.
 */
export class AthenaWorkGroup extends Construct {
  readonly resultsBucket: s3.Bucket;
  readonly workGroup: athena.CfnWorkGroup;
  readonly workGroupName: string;
  readonly namedQueries: readonly athena.CfnNamedQuery[];

  constructor(scope: Construct, id: string, props: AthenaWorkGroupProps) {
    super(scope, id);
    this.resultsBucket = new s3.Bucket(this, 'ResultsBucket', {
      ...lakeEncryption(props.encryptionKey),
      ...PRIVATE_BUCKET,
      // Results are a cache of queries that can be run again: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
      lifecycleRules: [
        {
          id: 'ExpireQueryResults',
          expiration: Duration.days(props.resultRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    Validations.of(this.resultsBucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'Athena writes query results here and they expire; the queries themselves are recorded by Athena and CloudTrail',
    });

    this.workGroupName = props.workGroupName;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'Qualys findings lake (qualys-s3-cdk): settings enforced, scan limit per query',
      state: 'ENABLED',
      // Destroying the stack removes the workgroup with its saved queries and history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedLimitMb * 1024 * 1024,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject(RESULTS_PREFIX),
          expectedBucketOwner: Stack.of(this).account,
          encryptionConfiguration: props.encryptionKey
            ? { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn }
            : { encryptionOption: 'SSE_S3' },
        },
      },
    });
    this.namedQueries = NAMED_QUERIES.map(
      (query) =>
        new athena.CfnNamedQuery(this, `Query-${query.name}`, {
          name: query.name,
          description: query.description,
          database: props.databaseName,
          queryString: renderQuery(query),
          // The workgroup's Ref is its name: the query waits for the workgroup.
          workGroup: this.workGroup.ref,
        }),
    );
  }
}
