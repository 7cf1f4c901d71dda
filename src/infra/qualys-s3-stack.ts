import {
  CfnOutput,
  CfnResource,
  type Environment,
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
import { ConfigError, type EnvironmentConfig } from '../config/config';
import { QualysS3Onboarding } from './qualys-s3-onboarding';

export interface QualysS3StackProps extends StackProps {
  /** One environment of a configuration validated by `loadConfig` or `parseConfig`. */
  readonly config: EnvironmentConfig;
}

/**
 * One environment as a stack, as the app makes it (QualysS3-<envName>): the onboarding, its
 * outputs (bucket, and per integration its role, ID and name), the environment's tags on the
 * stack, and a retention for every log group of the stack.
 */
export class QualysS3Stack extends Stack {
  /** The environment's onboarding: its bucket, roles and integrations. */
  readonly onboarding: QualysS3Onboarding;

  constructor(scope: Construct, id: string, props: QualysS3StackProps) {
    super(scope, id, { ...props, env: stackEnv(props) });
    const { config } = props;
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);

    // "Default" keeps the onboarding out of the resources' logical IDs: they stay those of the
    // stacks deployed before the construct existed.
    const onboarding = QualysS3Onboarding.fromConfig(this, 'Default', config);
    if (onboarding.bucket) {
      new CfnOutput(this, 'BucketName', {
        value: onboarding.bucket.bucketName,
        description: 'The bucket Qualys writes findings into',
      });
    }
    for (const integration of [onboarding.vm, onboarding.pc]) {
      if (!integration) continue;
      const { kind } = integration;
      const label = kind === 'vm' ? 'Vm' : 'Pc';
      new CfnOutput(this, `${label}RoleArn`, {
        value: integration.role.roleArn,
        description: `The role Qualys assumes for ${kind.toUpperCase()}`,
      });
      new CfnOutput(this, `${label}IntegrationId`, {
        value: integration.integrationId,
        description: `The Qualys ${kind.toUpperCase()} integration ID`,
      });
      new CfnOutput(this, `${label}IntegrationName`, { value: integration.integrationName });
    }
    if (onboarding.cloudView) {
      new CfnOutput(this, 'CloudViewRoleArn', {
        value: onboarding.cloudView.role.roleArn,
        description: 'The read-only role Qualys CloudView / TotalCloud assumes',
      });
      new CfnOutput(this, 'CloudViewConnectorId', {
        value: onboarding.cloudView.connectorId,
        description: 'The Qualys CloudView / TotalCloud connector ID',
      });
      new CfnOutput(this, 'CloudViewExternalId', {
        value: onboarding.cloudView.externalId,
        description: "The external ID the role requires (this stack's own; not a secret)",
      });
    }
    if (onboarding.analytics) {
      // The CLI (query, normalize backfills) finds the lake by these output names.
      const analytics = onboarding.analytics;
      const outputs: Array<[string, string, string]> = [
        ['AnalyticsQueueUrl', analytics.queue.queueUrl, 'The queue S3 notifies of new raw findings'],
        [
          'AnalyticsDeadLetterQueueName',
          analytics.deadLetterQueue.queueName,
          'Messages the normalizer failed five times',
        ],
        [
          'LakeBucketName',
          analytics.lakeBucket.bucketName,
          'The findings lake: curated Parquet, quarantine, manifests',
        ],
        ['AthenaWorkGroup', analytics.workGroupName, 'The Athena workgroup of the findings lake'],
        ['GlueDatabase', analytics.databaseName, 'The Glue database of pc_postures and vm_findings'],
        ['ResultsBucketName', analytics.resultsBucket.bucketName, "The Athena workgroup's results bucket"],
      ];
      for (const [id, value, description] of outputs) new CfnOutput(this, id, { value, description });
    }
    this.onboarding = onboarding;

    Aspects.of(this).add(new ExplicitLogGroups(config.logRetentionDays as logs.RetentionDays));
  }
}

/**
 * The stack's account and region: the environment's, unless `env` says otherwise, which it may
 * only where the environment is silent (its configuration was checked for its own).
 */
function stackEnv({ config, env }: QualysS3StackProps): Environment | undefined {
  if (config.account === undefined && config.region === undefined) return env;
  for (const key of ['account', 'region'] as const) {
    if (env?.[key] !== undefined && config[key] !== undefined && env[key] !== config[key]) {
      throw new ConfigError(
        [
          `environment "${config.envName}" is for ${key} "${config[key]}", but the stack's env gives "${env[key]}"; ` +
            `leave env out (the environment decides) or make the two agree`,
        ],
        `QualysS3Stack for environment "${config.envName}"`,
      );
    }
  }
  return { account: config.account ?? env?.account, region: config.region ?? env?.region };
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
