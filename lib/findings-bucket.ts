import { CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
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
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'Only the Qualys role writes here, with s3:PutObject alone, and every object is versioned and owned by the bucket ' +
        'owner; object-level access is audited with CloudTrail data events where an account requires it, rather than a ' +
        'second, unbounded log bucket per environment',
    });
    this.writePolicy = new iam.ManagedPolicy(this, 'WritePolicy', {
      description: 'Lets the Qualys integration role put findings into the findings bucket, and nothing else',
      statements: [
        new iam.PolicyStatement({
          sid: 'PutFindings',
          actions: ['s3:PutObject'],
          resources: [this.bucket.arnForObjects('*')],
        }),
      ],
    });
    const bucketId = Stack.of(this).resolve(Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnResource));
    Validations.of(this.writePolicy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason:
        'Qualys writes findings under date-named keys it chooses (qualys_vm_findings/<date>/<uuid>.gz and a validation test ' +
        'file), so the object ARN needs a wildcard; the statement allows s3:PutObject only, on this one bucket',
    });
  }
}
