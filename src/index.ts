/**
 * qualys-s3-cdk as a construct library: onboard AWS accounts to the Qualys S3 findings
 * integration from your own CDK app. The app in this repository (bin/app.ts) is built from
 * the same exports.
 *
 * The package's entry: it re-exports the constructs (src/infra) and the configuration
 * (src/config), and nothing of the CLI, the handler or the simulators.
 */
export {
  QualysS3Onboarding,
  type QualysS3OnboardingProps,
  type QualysS3IntegrationAttributes,
  type QualysCloudViewAttributes,
  type QualysAnalyticsAttributes,
  type QualysAnalyticsSettings,
} from './infra/qualys-s3-onboarding';
export { QualysS3Stack, type QualysS3StackProps } from './infra/qualys-s3-stack';
export type {
  AnalyticsSettings,
  CipsFilterSettings,
  CloudViewSettings,
  ConnectorModuleName,
  EnvironmentSettings,
  FindingsBucketSettings,
  IntegrationCommonSettings,
  LogRetentionDays,
  PcIntegrationSettings,
  QualysPlatform,
  QualysS3ConfigFile,
  TransitionStorageClass,
  VmIntegrationSettings,
  VpcSettings,
} from './config/environment-props';
export {
  type AnalyticsConfig,
  type BucketConfig,
  type CloudViewConfig,
  ConfigError,
  DEFAULTS,
  type EnvironmentConfig,
  type PcConfig,
  QUALYS_PLATFORMS,
  type QualysS3Config,
  type VmConfig,
  type VpcConfig,
  parseConfig,
  parseEnvironment,
  stackName,
} from './config/config';
export { type ContextScope, DEFAULT_CONFIG_FILE, loadConfig, readConfig } from './config/load-config';
export type { IntegrationKind } from './core/contract';
