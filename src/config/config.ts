/**
 * The configuration's public face: its schema, types, defaults and rules (schema.ts,
 * rules.ts) and the one error that lists every problem (messages.ts). The app (bin/app.ts)
 * and the CLI read the raw JSON (load-config.ts), call {@link parseConfig} and get either a
 * fully defaulted, validated configuration or one {@link ConfigError}.
 *
 * This module must stay free of aws-cdk-lib so that non-CDK code can share it.
 */
export { ConfigError } from './messages';
export {
  DEFAULTS,
  LIMITS,
  LOG_RETENTION_DAYS,
  QUALYS_PLATFORMS,
  TRANSITION_STORAGE_CLASSES,
  bucketNameProblem,
  bucketNameProblems,
  connectorApiUrl,
  defaultDatabaseName,
  gatewayUrlProblem,
  partitionOfRegion,
  qualysAccountPartitionProblem,
  stackName,
  subscriptionKey,
} from './rules';
export {
  type AnalyticsConfig,
  type BucketConfig,
  type CloudViewConfig,
  type EnvironmentConfig,
  type PcConfig,
  type QualysS3Config,
  type QualysS3ConfigInput,
  type VmConfig,
  type VpcConfig,
  CONFIG_SCHEMA_FILE,
  configJsonSchema,
  configJsonSchemaText,
  configSchema,
  parseConfig,
  parseEnvironment,
} from './schema';
