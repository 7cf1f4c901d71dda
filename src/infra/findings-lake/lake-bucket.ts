import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** How the lake's buckets are encrypted: with the findings bucket's KMS key when it has one. */
export function lakeEncryption(
  key: kms.IKey | undefined,
): Pick<s3.BucketProps, 'encryption' | 'encryptionKey' | 'bucketKeyEnabled'> {
  return key
    ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
    : { encryption: s3.BucketEncryption.S3_MANAGED };
}

/** What every bucket of the lake is: private, TLS-only, owned by the bucket owner, no SSE-C. */
export const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  blockedEncryptionTypes: [s3.BlockedEncryptionType.SSE_C],
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const satisfies Partial<s3.BucketProps>;

/** How long an overwritten curated object's old version is kept. */
export const LAKE_NONCURRENT_DAYS = 7;

export interface LakeBucketProps {
  /**
   * The findings bucket's KMS key, which encrypts the lake too.
   * @default - SSE-S3
   */
  readonly encryptionKey?: kms.IKey;
  /** Keep the bucket and its Parquet when the stack is destroyed (the findings bucket's setting). */
  readonly retainOnDelete: boolean;
}

/**
 * The bucket the normalizer writes: curated/ (Parquet, by table and day), quarantine/ (what
 * could not be read, and why) and manifests/ (what each source produced). Versioned: with a raw
 * expiry the lake may hold the only copy of old findings, so a mistaken delete must be undoable;
 * a redelivery overwrites curated objects, whose old versions expire after a week.
 */
export class LakeBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...lakeEncryption(props.encryptionKey),
      ...PRIVATE_BUCKET,
      versioned: true,
      removalPolicy: props.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.retainOnDelete,
      lifecycleRules: [
        {
          id: 'ExpireOverwrittenLakeObjects',
          noncurrentVersionExpiration: Duration.days(LAKE_NONCURRENT_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'Only the normalizer writes here, under keys derived from the source objects; the lake is rebuilt from the findings ' +
        'bucket, and object-level access is audited with CloudTrail data events where an account requires it',
    });
  }
}
