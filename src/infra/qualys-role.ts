import { Aws, CfnRule, Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type IntegrationKind, PENDING_EXTERNAL_ID_PREFIX, QUALYS_ASSUMING_ROLE_NAME } from '../core/contract';
import { partitionOfRegion, qualysAccountPartitionProblem } from '../config/config';

export { QUALYS_ASSUMING_ROLE_NAME };

export interface QualysAccessRoleProps {
  /** The integration this role serves. */
  readonly kind: IntegrationKind;
  /** The AWS account Qualys assumes roles from. */
  readonly qualysAwsAccountId: string;
  /** The policy that lets the role write findings; attached to the role. */
  readonly writePolicy: iam.IManagedPolicy;
}

/**
 * Refuses Qualys's commercial account outside the commercial partition: at synth when the
 * partition is known (the stack's region tells it), else with a rule that stops the deploy
 * before anything is created. README tells GovCloud and China users to set qualysAwsAccountId
 * (and region).
 */
export function guardQualysAccountPartition(scope: Construct, qualysAwsAccountId: string): void {
  const stack = Stack.of(scope);
  const partition = !Token.isUnresolved(stack.partition)
    ? stack.partition
    : !Token.isUnresolved(stack.region)
      ? partitionOfRegion(stack.region)
      : undefined;
  const problem = partition && qualysAccountPartitionProblem(partition, qualysAwsAccountId);
  if (problem) throw new Error(`qualysAwsAccountId: ${problem}`);
  if (!partition && qualysAccountPartitionProblem('aws-us-gov', qualysAwsAccountId)) {
    new CfnRule(scope, 'CommercialPartitionOnly', {
      assertions: [
        {
          assert: Fn.conditionEquals(Aws.PARTITION, 'aws'),
          assertDescription:
            'Qualys\'s commercial AWS account cannot be trusted outside the aws partition: set "qualysAwsAccountId" (and "region") for this environment.',
        },
      ],
    });
  }
}

/**
 * The cross-account role Qualys assumes to write findings. Its trust policy requires an
 * `sts:ExternalId` from the moment it exists: until the integration is registered, a value
 * no integration has, so the role is never assumable without the external ID. The custom
 * resource then puts the integration's real external ID in its place.
 */
export class QualysAccessRole extends Construct {
  readonly role: iam.Role;
  /** The Qualys principal the trust policy names, partition-aware. */
  readonly qualysPrincipalArn: string;

  constructor(scope: Construct, id: string, props: QualysAccessRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    guardQualysAccountPartition(this, props.qualysAwsAccountId);
    this.qualysPrincipalArn = stack.formatArn({
      service: 'iam',
      region: '',
      account: props.qualysAwsAccountId,
      resource: 'role',
      resourceName: QUALYS_ASSUMING_ROLE_NAME,
    });
    this.role = new iam.Role(this, 'Role', {
      description: `Assumed by Qualys to write ${props.kind.toUpperCase()} findings into the findings bucket`,
      assumedBy: new iam.ArnPrincipal(this.qualysPrincipalArn).withConditions({
        StringEquals: { 'sts:ExternalId': `${PENDING_EXTERNAL_ID_PREFIX}-${props.kind}` },
      }),
      managedPolicies: [props.writePolicy],
    });
  }
}
