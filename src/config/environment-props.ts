/**
 * One environment's configuration as a person writes it: the keys of `environments.<envName>` in
 * a JSON configuration, and the props of the `QualysS3Onboarding` construct. The schema
 * (schema.ts) is what validates and defaults them; these interfaces document them for editors
 * and TypeScript users, and test/config/environment-props.test.ts keeps the two in step (the
 * same keys, every documented `@default` the one the schema fills in).
 */

/** Qualys platforms by name (`"platform"`), each standing for its API gateway. */
export type QualysPlatform =
  | 'US1'
  | 'US2'
  | 'US3'
  | 'US4'
  | 'EU1'
  | 'EU2'
  | 'EU3'
  | 'IN1'
  | 'CA1'
  | 'AE1'
  | 'UK1'
  | 'AU1'
  | 'KSA1';

/** S3 storage classes findings may move to. */
export type TransitionStorageClass =
  | 'STANDARD_IA'
  | 'ONEZONE_IA'
  | 'INTELLIGENT_TIERING'
  | 'GLACIER_IR'
  | 'GLACIER'
  | 'DEEP_ARCHIVE';

/** The retention periods CloudWatch Logs accepts, in days. */
export type LogRetentionDays =
  | 1
  | 3
  | 5
  | 7
  | 14
  | 30
  | 60
  | 90
  | 120
  | 150
  | 180
  | 365
  | 400
  | 545
  | 731
  | 1096
  | 1827
  | 2192
  | 2557
  | 2922
  | 3288
  | 3653;

/** The findings bucket the stack creates. */
export interface FindingsBucketSettings {
  /**
   * The bucket's name (S3 naming rules are checked at synth).
   * @default - CloudFormation generates a unique name
   */
  readonly bucketName?: string;
  /**
   * Keep the bucket and its findings on `cdk destroy`; `false` empties and deletes it.
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /**
   * The full ARN of a customer-managed KMS key, in the stack's account and region, for the
   * bucket's default encryption (with S3 Bucket Keys). The Qualys roles get `kms:GenerateDataKey`
   * and `kms:Decrypt` on this key only, through S3 only.
   * @default - SSE-S3 (AES256)
   */
  readonly kmsKeyArn?: string;
  /**
   * Current findings expire this many days after they are written (1 to 36500; after
   * `transitionAfterDays` when both are set).
   * @default - findings are kept
   */
  readonly expireAfterDays?: number;
  /**
   * Findings move to `transitionStorageClass` this many days after they are written (at least
   * 30 for STANDARD_IA and ONEZONE_IA).
   * @default - no transition
   */
  readonly transitionAfterDays?: number;
  /**
   * The storage class findings move to after `transitionAfterDays` (which it requires).
   * @default 'STANDARD_IA'
   */
  readonly transitionStorageClass?: TransitionStorageClass;
}

/** What both integrations have. */
export interface IntegrationCommonSettings {
  /**
   * The integration's name in Qualys: at most 50 characters, unique per subscription, not blank
   * and not starting or ending with spaces.
   * @default - qs3-<envName>-<vm|pc>-<account>-<region>
   */
  readonly name?: string;
  /**
   * Change to any new value to make Qualys regenerate the external ID (the role's trust policy
   * follows).
   * @default ''
   */
  readonly externalIdRotation?: string | number;
  /**
   * Take over an existing integration of the same name that this environment did not evidently
   * create.
   * @default false
   */
  readonly adoptExisting?: boolean;
}

/** The VM (vulnerability) findings integration; field names and defaults are the guide's. */
export interface VmIntegrationSettings extends IntegrationCommonSettings {
  /**
   * The least severity (1 to 5) sent.
   * @default 3
   */
  readonly minSeverity?: number;
  /**
   * `Confirmed`, `Potential` (adds potential vulnerabilities) or `IG` (adds information gathered).
   * @default 'Confirmed'
   */
  readonly baseCategory?: 'IG' | 'Potential' | 'Confirmed';
  /**
   * Include the result section in findings.
   * @default false
   */
  readonly resultSectionNeeded?: boolean;
  /**
   * Include vulnerability information.
   * @default false
   */
  readonly sendVulnInfo?: boolean;
  /**
   * Write `.gz` files instead of `.json`.
   * @default true
   */
  readonly compressData?: boolean;
  /**
   * Send ProActive alert notifications to `errorEmails` (which it requires).
   * @default false
   */
  readonly sendAlerts?: boolean;
  /**
   * Up to 5 addresses that receive Qualys alerts.
   * @default []
   */
  readonly errorEmails?: readonly string[];
}

/** The subscription-wide CIPS posture filter. */
export interface CipsFilterSettings {
  /**
   * Include evidence in posture data.
   * @default false
   */
  readonly includeEvidenceData?: boolean;
  /**
   * Include failed postures.
   * @default true
   */
  readonly includeFailPosture?: boolean;
  /**
   * Include passed postures.
   * @default true
   */
  readonly includePassPosture?: boolean;
  /**
   * Include postures in error.
   * @default true
   */
  readonly includeErrorPosture?: boolean;
}

/** The PC (policy compliance) findings integration, and the CIPS policies it sends. */
export interface PcIntegrationSettings extends IntegrationCommonSettings {
  /**
   * Write `.gz` files instead of `.json`.
   * @default true
   */
  readonly compressData?: boolean;
  /**
   * The Qualys policy IDs this environment adds to CIPS (at most 100 per subscription, each once).
   * @default []
   */
  readonly policies?: readonly number[];
  /**
   * The subscription-wide CIPS posture filter, written on every deploy.
   * @default - the subscription's filter is left as it is
   */
  readonly filter?: CipsFilterSettings;
}

/** The apps a CloudView / TotalCloud connector runs. */
export type ConnectorModuleName = 'assetInventory' | 'cloudInventory' | 'securityAssessment';

/**
 * The account's Qualys CloudView / TotalCloud connector: a read-only role Qualys assumes with
 * an external ID of this stack's, and the connector that uses it.
 */
export interface CloudViewSettings {
  /**
   * The connector's name in Qualys (at most 256 characters).
   * @default - qs3-<envName>-cloudview-<account>
   */
  readonly name?: string;
  /**
   * The connector's description in Qualys.
   * @default - none
   */
  readonly description?: string;
  /**
   * The API that registers the connector: `connectors-v3` (Connectors 3.0, what Qualys's
   * current scripts use) or `cloudview` (the CloudView guide's REST API).
   * @default 'connectors-v3'
   */
  readonly api?: 'connectors-v3' | 'cloudview';
  /**
   * The apps the connector runs: asset inventory, cloud inventory, security assessment (all
   * three: CSPM). The role's permissions follow: asset inventory alone gets only its few
   * read actions; with the others, SecurityAudit and the read-only extras Qualys lists.
   * @default ['assetInventory', 'cloudInventory', 'securityAssessment']
   */
  readonly modules?: readonly ConnectorModuleName[];
  /**
   * How often the connector runs, in hours (1 to 24).
   * @default 4
   */
  readonly pollingHours?: number;
  /**
   * Qualys's remediation on this connector. The role stays read-only either way.
   * @default false
   */
  readonly remediation?: boolean;
  /**
   * Qualys's AWS account the connector assumes the role from; required outside the commercial
   * partition.
   * @default - the environment's qualysAwsAccountId
   */
  readonly qualysAwsAccountId?: string;
  /**
   * The host the connector API is called on.
   * @default - the platform's: qualysapi.* for connectors-v3, qualysguard.* for cloudview
   */
  readonly apiUrl?: string;
  /**
   * Take over a connector for this account that this environment did not evidently create.
   * @default false
   */
  readonly adoptExisting?: boolean;
}

/**
 * The findings lake: S3 notifications for what Qualys writes under `qualys_pc_posture_info/`
 * and `qualys_vm_findings/`, a queue (with a dead-letter queue and alarms), the normalizer
 * Lambda that writes Parquet into a lake bucket, Glue tables over it (partition projection on
 * `day`) and an Athena workgroup with its own results bucket and named queries. Requires `vm`
 * or `pc` (the findings bucket). Options set while `enabled` is left out are refused (the lake
 * would silently not exist); with `enabled: false` written out they are accepted and unused.
 */
export interface AnalyticsSettings {
  /**
   * Create the findings lake. Off, nothing of it exists and the stack is as without this block.
   * @default false
   */
  readonly enabled?: boolean;
  /**
   * Athena query results expire from the results bucket this many days after they are written.
   * @default 30
   */
  readonly resultRetentionDays?: number;
  /**
   * Athena cancels a query of the workgroup once it has scanned this many megabytes (at least
   * 10, Athena's least limit). Athena bills by the bytes scanned.
   * @default 10240
   */
  readonly bytesScannedLimitMb?: number;
  /**
   * Raw objects under `qualys_pc_posture_info/` and `qualys_vm_findings/` expire this many days
   * after they are written (a lifecycle rule per prefix on the findings bucket the stack
   * creates; refused for an existing bucket, whose lifecycle is its owner's). Less than
   * `bucket.expireAfterDays` when both are set. The curated Parquet is kept.
   * @default - raw objects are kept
   */
  readonly rawDataExpirationDays?: number;
  /**
   * The Glue database, also the Athena workgroup's name: lowercase letters, digits and
   * underscores, starting with a letter; unique per account and region.
   * @default - qualys_s3_<envName> (lowercase, hyphens as underscores)
   */
  readonly databaseName?: string;
  /**
   * The full ARN of an existing SNS topic (`arn:aws:sns:<region>:<account>:<name>`) that the
   * lake's two alarms (a message in the dead-letter queue, a backlog over six hours) notify, both
   * when they go into alarm and when they are OK again. It must be in the stack's region:
   * CloudWatch notifies topics of its own region only. Nothing is granted on the topic: its
   * access policy must let CloudWatch publish (a topic's default policy does, for alarms of its
   * own account). An encrypted topic needs a customer-managed KMS key whose key policy allows
   * `cloudwatch.amazonaws.com` `kms:Decrypt` and `kms:GenerateDataKey*` (with the AWS managed key
   * `aws/sns`, CloudWatch cannot publish); that key is yours and this stack does not change it.
   * @default - the alarms have no actions
   */
  readonly alarmTopicArn?: string;
}

/** An existing VPC the handler runs in. */
export interface VpcSettings {
  /** The VPC's ID, e.g. `vpc-0a1b2c3d4e5f67890`. */
  readonly vpcId: string;
  /** 1 to 16 subnets with a route to the Qualys gateway and to the IAM, Secrets Manager and CloudFormation APIs. */
  readonly subnetIds: readonly string[];
  /** 1 to 5 security groups for the handler's network interfaces. */
  readonly securityGroupIds: readonly string[];
}

/** One environment: `environments.<envName>` of a JSON configuration. */
export interface EnvironmentSettings {
  /**
   * The stack's 12-digit AWS account ID.
   * @default - the CLI's account (an environment-agnostic stack); for the construct, its stack's
   */
  readonly account?: string;
  /**
   * The stack's AWS region, e.g. `eu-west-1`.
   * @default - the CLI's region (an environment-agnostic stack); for the construct, its stack's
   */
  readonly region?: string;
  /**
   * Your Qualys API gateway's base URL, e.g. `https://gateway.qg1.apps.qualys.com` (https only;
   * plain http only for a loopback test server). Set this or `platform`, not both.
   * @default - the gateway of `platform`
   */
  readonly gatewayUrl?: string;
  /**
   * Your Qualys platform. Set this or `gatewayUrl`, not both.
   * @default - `gatewayUrl` names the gateway
   */
  readonly platform?: QualysPlatform;
  /**
   * The name or full ARN of the Secrets Manager secret whose SecretString is
   * `{"username","password"}` (an ARN must be in the stack's region).
   */
  readonly credentialsSecret: string;
  /**
   * The AWS account of `QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE`; required outside the commercial
   * partition (GovCloud, China), where Qualys gives you the account.
   * @default '805950163170'
   */
  readonly qualysAwsAccountId?: string;
  /**
   * The findings bucket.
   * @default - a new bucket with every default of {@link FindingsBucketSettings}
   */
  readonly bucket?: FindingsBucketSettings;
  /**
   * The VM integration: settings, `true` for the defaults, `false` or absent for none. At least
   * one of `vm` and `pc` is required.
   * @default - no VM integration
   */
  readonly vm?: boolean | VmIntegrationSettings;
  /**
   * The PC integration: settings, `true` for the defaults, `false` or absent for none. At least
   * one of `vm` and `pc` is required.
   * @default - no PC integration
   */
  readonly pc?: boolean | PcIntegrationSettings;
  /**
   * The account's CloudView / TotalCloud connector: settings, `true` for the defaults, `false`
   * or absent for none.
   * @default - no connector
   */
  readonly cloudView?: boolean | CloudViewSettings;
  /**
   * How long to keep validating while IAM propagates the trust policy (30 to 720 seconds).
   * @default 600
   */
  readonly validationTimeoutSeconds?: number;
  /**
   * Retention of every log group, in days (a CloudWatch Logs value).
   * @default 90
   */
  readonly logRetentionDays?: LogRetentionDays;
  /**
   * Tags for every resource (at most 50).
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * An HTTP(S) proxy (`http://host:port`, no credentials) the handler reaches Qualys through.
   * @default - direct
   */
  readonly proxyUrl?: string;
  /**
   * An existing VPC to run the handler in.
   * @default - Lambda's own network
   */
  readonly vpc?: VpcSettings;
  /**
   * The findings lake (Parquet, Glue, Athena) over what the integrations deliver.
   * @default - none
   */
  readonly analytics?: AnalyticsSettings;
  /**
   * A label for the Qualys subscription this environment uses, for the subscription-wide CIPS
   * checks across environments.
   * @default - environments on one gateway share one subscription
   */
  readonly subscription?: string;
}

/** A JSON configuration file (qualys.config.json, or the file `-c config=<path>` names). */
export interface QualysS3ConfigFile {
  /**
   * The JSON Schema of the file, for editors, e.g. `./node_modules/qualys-s3-cdk/qualys-s3.schema.json`.
   * @default - none
   */
  readonly $schema?: string;
  /** One stack per environment, named QualysS3-<envName>; at least one. */
  readonly environments: Readonly<Record<string, EnvironmentSettings>>;
}
