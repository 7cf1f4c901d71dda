import {
  CfnOutput,
  CfnResource,
  type IAspect,
  Aspects,
  RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
} from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct, IConstruct } from 'constructs';
import { type IntegrationKind, defaultIntegrationName } from '../core/contract';
import type { EnvironmentConfig, PcConfig, VmConfig } from '../config/config';
import { FindingsBucket } from './findings-bucket';
import { IntegrationProvider } from './integration-provider';
import { QualysAccessRole } from './qualys-role';
import { QualysIntegration } from './qualys-integration';

export interface QualysS3StackProps extends StackProps {
  /** One environment of the validated configuration. */
  readonly config: EnvironmentConfig;
}

/**
 * One environment's onboarding: the findings bucket, a Qualys role per integration, and
 * the integrations themselves.
 */
export class QualysS3Stack extends Stack {
  constructor(scope: Construct, id: string, props: QualysS3StackProps) {
    super(scope, id, props);
    const { config } = props;
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);

    const findings = new FindingsBucket(this, 'FindingsBucket', {
      bucketName: config.bucket.bucketName,
      retainOnDelete: config.bucket.retainOnDelete,
      kmsKeyArn: config.bucket.kmsKeyArn,
      expireAfterDays: config.bucket.expireAfterDays,
      transitionAfterDays: config.bucket.transitionAfterDays,
      transitionStorageClass: config.bucket.transitionStorageClass,
    });
    const provider = new IntegrationProvider(this, 'IntegrationProvider', {
      credentialsSecret: config.credentialsSecret,
      allowedGateways: [config.gatewayUrl],
      logRetention: config.logRetentionDays as logs.RetentionDays,
      proxyUrl: config.proxyUrl,
      vpc: config.vpc,
    });
    new CfnOutput(this, 'BucketName', {
      value: findings.bucket.bucketName,
      description: 'The bucket Qualys writes findings into',
    });

    const integrations: Array<[IntegrationKind, VmConfig | PcConfig | undefined]> = [
      ['vm', config.vm],
      ['pc', config.pc],
    ];
    for (const [kind, integration] of integrations) {
      if (!integration) continue;
      const label = kind === 'vm' ? 'Vm' : 'Pc';
      const role = new QualysAccessRole(this, `${label}Role`, {
        kind,
        qualysAwsAccountId: config.qualysAwsAccountId,
        writePolicy: findings.writePolicy,
      });
      provider.allowTrustEdits(role.role);
      const defaultName = defaultIntegrationName(config.envName, kind, this.account, this.region);
      const pc = kind === 'pc' ? (integration as PcConfig) : undefined;
      const resource = new QualysIntegration(this, `${label}Integration`, {
        kind,
        provider,
        role,
        bucket: findings,
        gatewayUrl: config.gatewayUrl,
        credentialsSecret: config.credentialsSecret,
        name: integration.name ?? defaultName,
        defaultName,
        settings: integration.settings,
        cips: pc ? { policies: pc.policies, filter: pc.filter } : undefined,
        externalIdRotation: integration.externalIdRotation,
        adoptExisting: integration.adoptExisting,
        validationTimeoutSeconds: config.validationTimeoutSeconds,
      });
      new CfnOutput(this, `${label}RoleArn`, {
        value: role.role.roleArn,
        description: `The role Qualys assumes for ${kind.toUpperCase()}`,
      });
      new CfnOutput(this, `${label}IntegrationId`, {
        value: resource.integrationId,
        description: `The Qualys ${kind.toUpperCase()} integration ID`,
      });
      new CfnOutput(this, `${label}IntegrationName`, { value: resource.integrationName });
    }

    Aspects.of(this).add(new ExplicitLogGroups(config.logRetentionDays as logs.RetentionDays));
  }
}

/**
 * Gives every Lambda function that has no explicit log group one with a retention (the
 * bucket auto-delete provider that aws-cdk-lib adds is such a function), so that no log
 * group of this stack lives for ever.
 */
class ExplicitLogGroups implements IAspect {
  constructor(private readonly retention: logs.RetentionDays) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    if (node instanceof lambda.CfnFunction) {
      if (node.loggingConfig) return;
    } else if ((node as unknown as { _cfnProperties?: Record<string, unknown> })._cfnProperties?.LoggingConfig) {
      return;
    }
    const scope = node.node.scope ?? Stack.of(node);
    const logGroup = new logs.LogGroup(scope, `${node.node.id}Logs`, {
      retention: this.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    node.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName });
  }
}
