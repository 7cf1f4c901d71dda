import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The one policy that lets Qualys's roles put findings into `bucket` and do nothing else: only
 * `s3:PutObject` on its objects, and with a KMS key exactly the actions an SSE-KMS upload
 * needs, on that key only and only through S3 in the bucket's region.
 */
export function findingsWritePolicy(
  scope: Construct,
  id: string,
  bucket: s3.IBucket,
  key?: kms.IKey,
): iam.ManagedPolicy {
  const policy = new iam.ManagedPolicy(scope, id, {
    description: 'Lets the Qualys integration role put findings into the findings bucket, and nothing else',
    statements: [
      new iam.PolicyStatement({
        sid: 'PutFindings',
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('*')],
      }),
      ...(key
        ? [
            new iam.PolicyStatement({
              sid: 'EncryptFindingsWithBucketKey',
              // GenerateDataKey for every upload; Decrypt for multipart uploads, whose parts S3 joins.
              actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
              resources: [key.keyArn],
              conditions: { StringEquals: { 'kms:ViaService': `s3.${bucket.env.region}.amazonaws.com` } },
            }),
          ]
        : []),
    ],
  });
  const acknowledge = () => {
    const objects = nagResource(Stack.of(scope).resolve(bucket.arnForObjects('*')));
    Validations.of(policy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${objects}]`,
      reason:
        'Qualys writes findings under date-named keys it chooses (qualys_vm_findings/<date>/<uuid>.gz and a validation test ' +
        'file), so the object ARN needs a wildcard; the statement allows s3:PutObject only, on this one bucket',
    });
  };
  if (Stack.of(bucket) === Stack.of(scope)) {
    acknowledge();
  } else {
    // A bucket of another stack reaches this one as an export, named only once synthesis has
    // resolved the references: the finding is acknowledged then (before the checks run).
    policy.node.addValidation({
      validate: () => {
        acknowledge();
        return [];
      },
    });
  }
  return policy;
}

/** A resolved ARN as cdk-nag names it in a finding: `<Logical.Attr>` for GetAtt, `<Name>` for Ref. */
export function nagResource(value: unknown): string {
  if (typeof value === 'string') return value;
  const intrinsic = value as Record<string, unknown>;
  if (Array.isArray(intrinsic['Fn::GetAtt'])) return `<${(intrinsic['Fn::GetAtt'] as string[]).join('.')}>`;
  if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
  if (typeof intrinsic['Fn::ImportValue'] === 'string') return intrinsic['Fn::ImportValue'];
  const join = intrinsic['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(nagResource).join(join[0]);
  return JSON.stringify(value);
}

export interface FindingsBucketProps {
  /**
   * The bucket's name.
   * @default - CloudFormation generates a unique name
   */
  readonly bucketName?: string;
  /**
   * Keep the bucket and its findings when the stack is destroyed.
   * When false, `cdk destroy` empties and removes it.
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /**
   * A customer-managed KMS key (its full ARN) for the bucket's default encryption, with S3
   * Bucket Keys on. The Qualys roles get exactly the KMS actions an SSE-KMS upload needs, on
   * this key only, and only through S3.
   * @default - SSE-S3 (AES256), and no KMS permission anywhere
   */
  readonly kmsKeyArn?: string;
  /**
   * Current findings expire this many days after they are written.
   * @default - findings are kept until someone deletes them
   */
  readonly expireAfterDays?: number;
  /**
   * Findings move to {@link transitionStorageClass} this many days after they are written.
   * @default - they stay in S3 Standard
   */
  readonly transitionAfterDays?: number;
  /**
   * The storage class findings move to after {@link transitionAfterDays}.
   * @default 'STANDARD_IA'
   */
  readonly transitionStorageClass?: string;
}

/**
 * The bucket Qualys writes findings into: encrypted, private, TLS-only, versioned, owned by
 * the bucket owner whatever writes into it; and the one policy that lets Qualys's role put
 * objects there and do nothing else.
 */
export class FindingsBucket extends Construct {
  readonly bucket: s3.Bucket;
  /** Allows only `s3:PutObject` on this bucket's objects; attach it to the Qualys roles. */
  readonly writePolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: FindingsBucketProps = {}) {
    super(scope, id);
    const retain = props.retainOnDelete ?? true;
    const key = props.kmsKeyArn ? kms.Key.fromKeyArn(this, 'Key', props.kmsKeyArn) : undefined;
    const current: s3.LifecycleRule[] = [];
    if (props.expireAfterDays !== undefined || props.transitionAfterDays !== undefined) {
      current.push({
        id: 'AgeFindings',
        expiration: props.expireAfterDays !== undefined ? Duration.days(props.expireAfterDays) : undefined,
        transitions:
          props.transitionAfterDays !== undefined
            ? [
                {
                  storageClass: new s3.StorageClass(props.transitionStorageClass ?? 'STANDARD_IA'),
                  transitionAfter: Duration.days(props.transitionAfterDays),
                },
              ]
            : undefined,
      });
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      ...(key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      // The writer must not pick a key the owner does not hold: no SSE-C, ever.
      blockedEncryptionTypes: [s3.BlockedEncryptionType.SSE_C],
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
      lifecycleRules: [
        {
          id: 'ExpireOverwrittenFindings',
          // Versioning guards against loss; old versions need not be kept for ever.
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        ...current,
      ],
    });
    this.denyForeignEncryption(key);
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'Only the Qualys role writes here, with s3:PutObject alone, and every object is versioned and owned by the bucket ' +
        'owner; object-level access is audited with CloudTrail data events where an account requires it, rather than a ' +
        'second, unbounded log bucket per environment',
    });
    this.writePolicy = findingsWritePolicy(this, 'WritePolicy', this.bucket, key);
  }

  /**
   * Bucket-policy denies that keep the choice of encryption with the bucket owner: an upload
   * may name no encryption (the bucket default applies) or exactly the bucket's own, never
   * SSE-C and never another KMS key (whose owner could then withhold the findings).
   */
  private denyForeignEncryption(key: kms.IKey | undefined): void {
    const objects = this.bucket.arnForObjects('*');
    const header = 's3:x-amz-server-side-encryption';
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyOtherEncryption',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { Null: { [header]: 'false' }, StringNotEquals: { [header]: key ? 'aws:kms' : 'AES256' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyCustomerProvidedKeys',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
      }),
    );
    const keyHeader = 's3:x-amz-server-side-encryption-aws-kms-key-id';
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyOtherKmsKeys',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: key
          ? { Null: { [keyHeader]: 'false' }, StringNotEquals: { [keyHeader]: key.keyArn } }
          : { Null: { [keyHeader]: 'false' } },
      }),
    );
    if (key) {
      // "aws:kms" without a key ID makes S3 use the AWS managed key aws/s3, not the bucket's.
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DenyKmsWithoutTheBucketKey',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:PutObject'],
          resources: [objects],
          conditions: { StringEquals: { [header]: 'aws:kms' }, Null: { [keyHeader]: 'true' } },
        }),
      );
    }
  }
}
