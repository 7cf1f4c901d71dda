import { Aws, Fn, Names, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ConnectorModule } from '../core/connector-contract';
import { guardQualysAccountPartition } from './qualys-role';

/**
 * What the security-assessment and cloud-inventory apps read beyond SecurityAudit, as Qualys's
 * current CSPM template grants it (qualys-connector-apis.md section 3). Every action reads.
 */
export const CSPM_READ_EXTRAS: readonly string[] = [
  'states:DescribeStateMachine',
  'states:GetExecutionHistory',
  'states:Get*',
  'states:List*',
  'states:Describe*',
  'elasticfilesystem:DescribeFileSystemPolicy',
  'qldb:ListLedgers',
  'qldb:DescribeLedger',
  'kafka:ListClusters',
  'codebuild:BatchGetProjects',
  'wafv2:GetWebACLForResource',
  'backup:ListBackupVaults',
  'backup:DescribeBackupVault',
  'ec2:GetEbsEncryptionByDefault',
  'ec2:GetEbsDefaultKmsKeyId',
  'guardduty:ListDetectors',
  'guardduty:GetDetector',
  'glue:GetDataCatalogEncryptionSettings',
  'elasticmapreduce:GetBlockPublicAccessConfiguration',
  'lambda:GetFunctionConcurrency',
  'ds:ListLogSubscriptions',
  'ssm:GetDocument',
  'ssm:GetServiceSetting',
  'ssm:List*',
  'ssm:Describe*',
  'ssm:Get*',
  'eks:ListFargateProfiles',
  'eks:DescribeFargateProfile',
  'appflow:DescribeFlow',
];

/** What an asset-inventory-only connector reads (the same section). */
export const ASSET_INVENTORY_READ: readonly string[] = [
  'ec2:DescribeInstances',
  'ec2:DescribeAddresses',
  'ec2:DescribeImages',
  'ec2:DescribeRegions',
  'ec2:DescribeVpcs',
  'organizations:List*',
];

export interface CloudViewRoleProps {
  /** Qualys's AWS account, whose principals assume the role (`:root`, with the external ID). */
  readonly qualysAwsAccountId: string;
  /** The apps the connector runs: the permissions follow. */
  readonly modules: readonly ConnectorModule[];
}

/**
 * The read-only role a Qualys CloudView / TotalCloud connector assumes. Its trust policy admits
 * Qualys's account only with this stack's external ID, from its first version; the external ID
 * is derived from the stack's own ID (unique per stack, stable for its life) and handed to
 * Qualys by the connector resource, as the CloudView guide allows ("If you want to use your own
 * external ID, use API to create the connector"). No write permission of any kind.
 */
export class CloudViewRole extends Construct {
  readonly role: iam.Role;
  /** The external ID Qualys must present; known at deploy. Not a secret. */
  readonly externalId: string;

  constructor(scope: Construct, id: string, props: CloudViewRoleProps) {
    super(scope, id);
    guardQualysAccountPartition(this, props.qualysAwsAccountId);
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    // The construct's address tells two connectors' roles of one stack apart.
    this.externalId = `qs3-cv-${stackUuid}-${Names.uniqueId(this).slice(-8).toLowerCase()}`;
    const cspm = props.modules.some((m) => m !== 'assetInventory');
    this.role = new iam.Role(this, 'Role', {
      description: `Assumed by Qualys CloudView / TotalCloud to read this account's configuration (${props.modules.join(', ')})`,
      assumedBy: new iam.AccountPrincipal(props.qualysAwsAccountId).withConditions({
        StringEquals: { 'sts:ExternalId': this.externalId },
      }),
      managedPolicies: cspm ? [iam.ManagedPolicy.fromAwsManagedPolicyName('SecurityAudit')] : [],
    });
    const statements = cspm
      ? [
          new iam.PolicyStatement({
            sid: 'ReadForSecurityAssessment',
            actions: [...CSPM_READ_EXTRAS],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'ReadApiGatewayRestApis',
            actions: ['apigateway:GET'],
            resources: [`arn:${Aws.PARTITION}:apigateway:*::/restapis/*`],
          }),
        ]
      : [
          new iam.PolicyStatement({
            sid: 'ReadForAssetInventory',
            actions: [...ASSET_INVENTORY_READ],
            resources: ['*'],
          }),
        ];
    for (const statement of statements) this.role.addToPolicy(statement);
    this.acknowledge(cspm);
  }

  private acknowledge(cspm: boolean): void {
    const readOnly =
      "a read-only action Qualys CloudView needs to evaluate the account, as in Qualys's own template; its Describe, List " +
      'and Get calls take no resource, or must read every resource of the account';
    const ids = cspm
      ? [
          ...CSPM_READ_EXTRAS.filter((a) => a.endsWith('*')).map((a) => `Action::${a}`),
          'Resource::*',
          'Resource::arn:<AWS::Partition>:apigateway:*::/restapis/*',
        ]
      : [...ASSET_INVENTORY_READ.filter((a) => a.endsWith('*')).map((a) => `Action::${a}`), 'Resource::*'];
    const policy = this.role.node.findChild('DefaultPolicy');
    for (const id of ids) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[${id}]`, reason: readOnly });
    }
    if (cspm) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/SecurityAudit]',
        reason:
          "SecurityAudit is AWS's read-only policy for security audits, which Qualys's CSPM template attaches: AWS keeps it " +
          'current as services are added, which a copy would not be',
      });
    }
  }
}
