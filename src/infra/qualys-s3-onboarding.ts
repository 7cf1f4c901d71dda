import { Annotations, Stack, Tags, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { type IntegrationKind, defaultConnectorName, defaultIntegrationName } from '../core/contract';
import { ConfigError, type EnvironmentConfig, type PcConfig, type VmConfig, parseEnvironment } from '../config/config';
import { show } from '../config/messages';
import type { AnalyticsSettings, EnvironmentSettings, FindingsBucketSettings } from '../config/environment-props';
import { CloudViewConnector } from './cloudview-connector';
import { CloudViewRole } from './cloudview-role';
import { FindingsBucket, findingsWritePolicy } from './findings-bucket';
import { FindingsLake } from './findings-lake/findings-lake';
import { IntegrationProvider } from './integration-provider';
import { QualysAccessRole } from './qualys-role';
import { QualysIntegration } from './qualys-integration';

/**
 * One environment's onboarding, as props: the keys of `environments.<envName>` in a JSON
 * configuration, validated by the same schema with the same messages, plus the environment's
 * name; and, where CDK users expect them, objects instead of names.
 */
export interface QualysS3OnboardingProps
  extends Omit<EnvironmentSettings, 'credentialsSecret' | 'bucket' | 'analytics'> {
  /**
   * The environment's name (letters, digits and hyphens, starting with a letter, at most 32
   * characters). It is part of the default integration names, qs3-<envName>-<vm|pc>-<account>-<region>.
   */
  readonly envName: string;
  /**
   * The Secrets Manager secret whose SecretString is `{"username","password"}`: its name, its
   * full ARN, or the secret itself. The handler may read this secret and no other; with an
   * `ISecret`, through its `grantRead` (which covers a customer-managed key it names).
   */
  readonly credentialsSecret: string | secretsmanager.ISecret;
  /**
   * The findings bucket: settings for a new bucket, or an existing bucket (an `IBucket`) to
   * write into instead. For an existing bucket the Qualys roles get the same write policy (and
   * the KMS actions on its `encryptionKey`, when the `IBucket` names one), and nothing about the
   * bucket itself is changed: its encryption, TLS, versioning, ownership, public-access and
   * lifecycle settings stay its owner's (see "Use it as a construct" in README.md).
   *
   * With `analytics`, an existing bucket gets the S3 notifications of the two raw prefixes
   * (added beside its other notifications, which must not overlap them), and the normalizer may
   * read those prefixes (and decrypt with its `encryptionKey`, which an SSE-KMS bucket must name);
   * `analytics.rawDataExpirationDays` is refused, since its lifecycle stays its owner's.
   * @default - a new bucket with every default of FindingsBucketSettings
   */
  readonly bucket?: FindingsBucketSettings | s3.IBucket;
  /**
   * The findings lake (see AnalyticsSettings); its alarm topic may be given as the topic itself.
   * @default - no findings lake
   */
  readonly analytics?: QualysAnalyticsSettings;
}

/** The findings lake's settings as props: those of the configuration, the alarm topic also as a topic. */
export interface QualysAnalyticsSettings extends Omit<AnalyticsSettings, 'alarmTopicArn'> {
  /**
   * The SNS topic the lake's two alarms notify, into alarm and back to OK: its full ARN, or the
   * topic itself (an `ITopic`, e.g. an `sns.Topic` of your stack). It must be in the stack's
   * region (CloudWatch notifies topics of its own region only). Nothing is granted on it: its
   * access policy must let CloudWatch publish (a topic's default policy does, for alarms of its
   * own account). An encrypted topic needs a customer-managed KMS key whose key policy allows
   * `cloudwatch.amazonaws.com` `kms:Decrypt` and `kms:GenerateDataKey*` (not `aws/sns`, which
   * CloudWatch cannot use); the key is yours, and this construct does not change it.
   * @default - the alarms have no actions
   */
  readonly alarmTopicArn?: string | sns.ITopic;
}

/** What a consumer can wire into its own resources, per integration. */
export interface QualysS3IntegrationAttributes {
  /** `vm` or `pc`. */
  readonly kind: IntegrationKind;
  /** The integration's ID in Qualys (known at deploy). */
  readonly integrationId: string;
  /** The integration's name in Qualys (known at deploy). */
  readonly integrationName: string;
  /** The role Qualys assumes, with the integration's external ID, to write its findings. */
  readonly role: iam.IRole;
}

/** What a consumer can wire into its own resources from the CloudView / TotalCloud connector. */
export interface QualysCloudViewAttributes {
  /** The connector's ID in Qualys (known at deploy). */
  readonly connectorId: string;
  /** The connector's name in Qualys (known at deploy). */
  readonly connectorName: string;
  /** The read-only role the connector assumes. */
  readonly role: iam.IRole;
  /** The external ID the role requires (this stack's; not a secret). */
  readonly externalId: string;
}

/** What a consumer can wire into its own resources from the findings lake (`analytics`). */
export interface QualysAnalyticsAttributes {
  /** The queue S3 notifies of new raw objects (its URL is the `AnalyticsQueueUrl` output of the app). */
  readonly queue: sqs.IQueue;
  /** Messages the normalizer failed five times. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * In alarm while the dead-letter queue holds a message; it notifies `analytics.alarmTopicArn`
   * (into alarm and back to OK), and without it has no action: add yours.
   */
  readonly deadLetterAlarm: cloudwatch.IAlarm;
  /**
   * In alarm while the oldest queued message has waited over six hours; it notifies
   * `analytics.alarmTopicArn` (into alarm and back to OK), and without it has no action: add yours.
   */
  readonly backlogAlarm: cloudwatch.IAlarm;
  /** The bucket of the curated Parquet (curated/), quarantined sources (quarantine/) and manifests. */
  readonly lakeBucket: s3.IBucket;
  /** The Athena workgroup's own results bucket. */
  readonly resultsBucket: s3.IBucket;
  /** The normalizer Lambda. */
  readonly normalizer: lambda.IFunction;
  /** The Glue database of the tables pc_postures and vm_findings. */
  readonly databaseName: string;
  /** The Athena workgroup (settings enforced, the scan limit per query). */
  readonly workGroupName: string;
}

/** A configuration already validated (by parseConfig or loadConfig), handed over as it is. */
class ValidatedEnvironment {
  constructor(readonly config: EnvironmentConfig) {}
}

/**
 * Onboards one environment to the Qualys S3 findings integration in any stack: the findings
 * bucket (or the one given), a cross-account role per integration trusted by Qualys only with
 * its external ID, and the VM and/or PC integration as custom resources that register, validate,
 * update and deregister them.
 *
 * Validates its props when constructed and throws one ConfigError listing every problem.
 */
export class QualysS3Onboarding extends Construct {
  /**
   * Onboarding from an environment of a configuration already validated, e.g. by `loadConfig`
   * (which also checks what environments must not share).
   */
  static fromConfig(scope: Construct, id: string, config: EnvironmentConfig): QualysS3Onboarding {
    return new QualysS3Onboarding(scope, id, new ValidatedEnvironment(config) as unknown as QualysS3OnboardingProps);
  }

  /** The environment's configuration, validated and with every default filled in. */
  readonly config: EnvironmentConfig;
  /**
   * The bucket Qualys writes findings into.
   * @default - undefined when neither `vm` nor `pc` is configured (nothing writes findings)
   */
  readonly bucket?: s3.IBucket;
  /**
   * The policy attached to the Qualys roles: `s3:PutObject` on the bucket's objects, and nothing else.
   * @default - undefined when there is no bucket
   */
  readonly writePolicy?: iam.IManagedPolicy;
  /** The custom-resource handler (one per onboarding). */
  readonly handler: lambda.IFunction;
  /**
   * The VM integration.
   * @default - undefined when `vm` is not configured
   */
  readonly vm?: QualysS3IntegrationAttributes;
  /**
   * The PC integration.
   * @default - undefined when `pc` is not configured
   */
  readonly pc?: QualysS3IntegrationAttributes;
  /**
   * The CloudView / TotalCloud connector.
   * @default - undefined when `cloudView` is not configured
   */
  readonly cloudView?: QualysCloudViewAttributes;
  /**
   * The findings lake.
   * @default - undefined when `analytics` is not enabled
   */
  readonly analytics?: QualysAnalyticsAttributes;

  constructor(scope: Construct, id: string, props: QualysS3OnboardingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const given = props as unknown;
    const { config, secret, existingBucket, alarmTopic } =
      given instanceof ValidatedEnvironment
        ? { config: this.checkedAgainstStack(given.config), secret: undefined, existingBucket: undefined }
        : this.validate(given);
    this.config = config;
    claimNames(this, config);
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);
    if (secret) this.warnAboutForeignSecret(secret);

    let writePolicy: iam.ManagedPolicy | undefined;
    const findingsWanted = Boolean(config.vm || config.pc);
    if (existingBucket) {
      this.bucket = existingBucket;
      writePolicy = findingsWritePolicy(this, 'WritePolicy', existingBucket, existingBucket.encryptionKey);
      this.warnAboutForeignBucket(existingBucket);
    } else if (findingsWanted) {
      const findings = new FindingsBucket(this, 'FindingsBucket', {
        bucketName: config.bucket.bucketName,
        retainOnDelete: config.bucket.retainOnDelete,
        kmsKeyArn: config.bucket.kmsKeyArn,
        expireAfterDays: config.bucket.expireAfterDays,
        transitionAfterDays: config.bucket.transitionAfterDays,
        transitionStorageClass: config.bucket.transitionStorageClass,
      });
      this.bucket = findings.bucket;
      writePolicy = findings.writePolicy;
    }
    this.writePolicy = writePolicy;

    const provider = new IntegrationProvider(this, 'IntegrationProvider', {
      credentialsSecret: secret ?? config.credentialsSecret,
      allowedGateways: [config.gatewayUrl, ...(config.cloudView ? [config.cloudView.apiUrl] : [])],
      logRetention: config.logRetentionDays as logs.RetentionDays,
      proxyUrl: config.proxyUrl,
      vpc: config.vpc,
    });
    this.handler = provider.handler;
    const secretId = secret ? secretIdOf(secret, stack) : config.credentialsSecret;

    const integrations: Array<[IntegrationKind, VmConfig | PcConfig | undefined]> = [
      ['vm', config.vm],
      ['pc', config.pc],
    ];
    for (const [kind, integration] of integrations) {
      if (!integration || !writePolicy || !this.bucket) continue;
      const label = kind === 'vm' ? 'Vm' : 'Pc';
      const role = new QualysAccessRole(this, `${label}Role`, {
        kind,
        qualysAwsAccountId: config.qualysAwsAccountId,
        writePolicy,
      });
      provider.allowTrustEdits(role.role);
      const defaultName = defaultIntegrationName(config.envName, kind, stack.account, stack.region);
      const pc = kind === 'pc' ? (integration as PcConfig) : undefined;
      const resource = new QualysIntegration(this, `${label}Integration`, {
        kind,
        provider,
        role,
        bucketName: this.bucket.bucketName,
        bucketRegion: this.bucket.env.region,
        writePolicy,
        gatewayUrl: config.gatewayUrl,
        credentialsSecret: secretId,
        name: integration.name ?? defaultName,
        defaultName,
        settings: integration.settings,
        cips: pc ? { policies: pc.policies, filter: pc.filter } : undefined,
        externalIdRotation: integration.externalIdRotation,
        adoptExisting: integration.adoptExisting,
        validationTimeoutSeconds: config.validationTimeoutSeconds,
      });
      const attributes: QualysS3IntegrationAttributes = {
        kind,
        integrationId: resource.integrationId,
        integrationName: resource.integrationName,
        role: role.role,
      };
      if (kind === 'vm') this.vm = attributes;
      else this.pc = attributes;
    }

    if (config.cloudView) {
      const cloudView = config.cloudView;
      const role = new CloudViewRole(this, 'CloudViewRole', {
        qualysAwsAccountId: cloudView.qualysAwsAccountId,
        modules: cloudView.modules,
      });
      const connector = new CloudViewConnector(this, 'CloudViewConnector', {
        provider,
        role,
        api: cloudView.api,
        apiUrl: cloudView.apiUrl,
        credentialsSecret: secretId,
        name: cloudView.name ?? defaultConnectorName(config.envName, stack.account),
        description: cloudView.description,
        modules: cloudView.modules,
        pollingHours: cloudView.pollingHours,
        remediation: cloudView.remediation,
        adoptExisting: cloudView.adoptExisting,
        validationTimeoutSeconds: config.validationTimeoutSeconds,
        awsAccountId: stack.account,
        partition: stack.partition,
      });
      this.cloudView = {
        connectorId: connector.connectorId,
        connectorName: connector.connectorName,
        role: role.role,
        externalId: role.externalId,
      };
    }

    // The schema refuses analytics without an integration, so a bucket exists.
    if (config.analytics && this.bucket) {
      const lake = new FindingsLake(this, 'FindingsLake', {
        findingsBucket: this.bucket,
        findingsKey: this.bucket.encryptionKey,
        analytics: config.analytics,
        alarmTopic,
        retainOnDelete: config.bucket.retainOnDelete,
        logRetention: config.logRetentionDays as logs.RetentionDays,
      });
      this.analytics = {
        queue: lake.queue,
        deadLetterQueue: lake.deadLetterQueue,
        deadLetterAlarm: lake.deadLetterAlarm,
        backlogAlarm: lake.backlogAlarm,
        lakeBucket: lake.lakeBucket,
        resultsBucket: lake.resultsBucket,
        normalizer: lake.normalizer,
        databaseName: lake.databaseName,
        workGroupName: lake.workGroupName,
      };
    }
  }

  /**
   * The props as the schema validates them: objects stand in for their names, and the account
   * and region default to the stack's. Every problem, the schema's and the construct's, is
   * thrown together.
   */
  private validate(given: unknown): Validated {
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      throw new ConfigError([`the props must be an object, got ${show(given)}`], this.describe());
    }
    const stack = Stack.of(this);
    const problems: string[] = [];
    /** Schema problems about fields this method already reported are left out. */
    const reported: string[] = [];
    const { envName, credentialsSecret, bucket, ...settings } = given as Record<string, unknown>;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(settings)) {
      if (Construct.isConstruct(value) && !SETTINGS_KEYS.has(key)) {
        // A misspelt key: the schema names it, with its did-you-mean.
        raw[key] = {};
      } else if (Construct.isConstruct(value)) {
        problems.push(
          `"props.${key}" is a construct (${value.node.path}); give its settings as plain values, as in the configuration`,
        );
        reported.push(key);
      } else {
        raw[key] = value;
      }
    }

    let name = envName;
    if (typeof envName !== 'string') {
      problems.push(
        envName === undefined
          ? '"props.envName" is missing; name the environment (letters, digits and hyphens, starting with a letter)'
          : `"props.envName" must be a string, got ${show(envName)}`,
      );
      name = PLACEHOLDER_ENV_NAME;
    } else if (Token.isUnresolved(envName)) {
      problems.push(`"props.envName" is a token, a value known only at deploy; ${LITERAL}`);
      name = PLACEHOLDER_ENV_NAME;
    }

    for (const key of ['account', 'region'] as const) {
      const stackValue = Token.isUnresolved(stack[key]) ? undefined : stack[key];
      const value = raw[key];
      if (value === undefined) {
        if (stackValue) raw[key] = stackValue;
      } else if (typeof value === 'string' && !Token.isUnresolved(value) && !stackValue) {
        problems.push(
          `"props.${key}" is ${show(value)}, but the construct's stack is environment-agnostic (its ${key} is decided at deploy); ` +
            `set it on the stack (env: { ${key}: ${show(value)} }) and leave it out here`,
        );
        reported.push(key);
      } else if (typeof value === 'string' && stackValue && value !== stackValue) {
        problems.push(
          `"props.${key}" is ${show(value)}, but the construct's stack deploys to ${key} "${stackValue}"; ` +
            `leave "${key}" out (the stack decides it) or make the two agree`,
        );
      }
    }

    let secret: secretsmanager.ISecret | undefined;
    raw.credentialsSecret = credentialsSecret;
    if (Construct.isConstruct(credentialsSecret)) {
      raw.credentialsSecret = PLACEHOLDER_SECRET;
      if (isSecret(credentialsSecret)) {
        secret = credentialsSecret;
        const secretRegion = Token.isUnresolved(secret.env.region) ? undefined : secret.env.region;
        const stackRegion = Token.isUnresolved(stack.region) ? undefined : stack.region;
        if (secretRegion && stackRegion && secretRegion !== stackRegion) {
          problems.push(
            `"props.credentialsSecret" is a secret in region ${secretRegion}, but the stack deploys to ${stackRegion}; ` +
              'the handler reads the secret in its own region, so create (or replicate) the secret there',
          );
        }
      } else {
        problems.push(
          `"props.credentialsSecret" is ${describeConstruct(credentialsSecret)}, not a secret; give the name or ARN of a ` +
            'Secrets Manager secret, or the secret itself (an ISecret)',
        );
      }
    } else if (typeof credentialsSecret === 'string' && Token.isUnresolved(credentialsSecret)) {
      raw.credentialsSecret = PLACEHOLDER_SECRET;
      problems.push(
        '"props.credentialsSecret" is a token, a value known only at deploy; pass the secret itself (an ISecret, e.g. ' +
          'secretsmanager.Secret.fromSecretNameV2(this, "QualysCredentials", "qualys/api-credentials")) or its name',
      );
    }

    const alarmTopic = this.alarmTopicOf(raw, problems);

    let existingBucket: s3.IBucket | undefined;
    let bucketNameToken: string | undefined;
    if (Construct.isConstruct(bucket)) {
      if (isBucket(bucket)) existingBucket = bucket;
      else {
        problems.push(
          `"props.bucket" is ${describeConstruct(bucket)}, not a bucket; give settings for a new bucket, or an existing bucket (an IBucket)`,
        );
      }
    } else if (isObject(bucket) && typeof bucket.bucketName === 'string' && Token.isUnresolved(bucket.bucketName)) {
      // CloudFormation resolves a bucket name (`${stack.account}-findings`); its S3 rules cannot be checked here.
      bucketNameToken = bucket.bucketName;
      raw.bucket = { ...bucket, bucketName: PLACEHOLDER_BUCKET_NAME };
    } else {
      raw.bucket = bucket;
    }

    for (const at of tokenPaths(raw)) {
      problems.push(`"props.${at.join('.')}" is a token, a value known only at deploy; ${LITERAL}`);
      reported.push(at.join('.'));
      removeAt(raw, at);
    }

    let config: EnvironmentConfig | undefined;
    let schemaProblems: readonly string[] = [];
    try {
      config = parseEnvironment(name as string, raw, { root: 'props', source: this.describe() });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      schemaProblems = error.problems.filter((p) => !reported.some((field) => p.startsWith(`"props.${field}`)));
    }
    const rawExpiry = config?.analytics?.rawDataExpirationDays;
    if (existingBucket && rawExpiry !== undefined) {
      problems.push(
        `"props.analytics.rawDataExpirationDays" is ${rawExpiry}, but "props.bucket" is an existing bucket ` +
          `(${existingBucket.node.path}), whose lifecycle stays its owner's: this construct adds no rule to it; expire ` +
          `qualys_pc_posture_info/ and qualys_vm_findings/ after ${rawExpiry} days where that bucket is defined, or ` +
          'leave rawDataExpirationDays out',
      );
    }
    if (!config || problems.length) throw new ConfigError([...schemaProblems, ...problems], this.describe());
    const bucketConfig = bucketNameToken ? { ...config.bucket, bucketName: bucketNameToken } : config.bucket;
    const analytics =
      config.analytics && alarmTopic ? { ...config.analytics, alarmTopicArn: alarmTopic.topicArn } : config.analytics;
    return {
      config: {
        ...config,
        bucket: bucketConfig,
        analytics,
        ...(secret ? { credentialsSecret: secret.secretName } : {}),
      },
      secret,
      existingBucket,
      alarmTopic: config.analytics ? alarmTopic : undefined,
    };
  }

  /**
   * The alarm topic given as a topic (an ITopic): taken out of the props the schema reads, where
   * a stand-in ARN of the stack's region keeps the schema's other rules ("enabled" left out).
   * A token ARN is refused like a token secret name: the topic itself is what to pass.
   */
  private alarmTopicOf(raw: Record<string, unknown>, problems: string[]): sns.ITopic | undefined {
    const analytics = raw.analytics;
    if (!isObject(analytics)) return undefined;
    const given = analytics.alarmTopicArn;
    const field = '"props.analytics.alarmTopicArn"';
    if (typeof given === 'string' && Token.isUnresolved(given)) {
      problems.push(
        `${field} is a token, a value known only at deploy; pass the topic itself (an ITopic, e.g. the sns.Topic of ` +
          'your stack, or sns.Topic.fromTopicArn(this, "Alarms", "arn:aws:sns:...")) or its ARN as a literal',
      );
      raw.analytics = { ...analytics, alarmTopicArn: placeholderTopicArn(raw.region) };
      return undefined;
    }
    if (!Construct.isConstruct(given)) return undefined;
    raw.analytics = { ...analytics, alarmTopicArn: placeholderTopicArn(raw.region) };
    if (!isTopic(given)) {
      problems.push(
        `${field} is ${describeConstruct(given)}, not an SNS topic; give the ARN of an SNS topic, or the topic itself (an ITopic)`,
      );
      return undefined;
    }
    const stack = Stack.of(this);
    const topicRegion = Token.isUnresolved(given.env.region) ? undefined : given.env.region;
    const stackRegion = Token.isUnresolved(stack.region) ? undefined : stack.region;
    if (topicRegion && stackRegion && topicRegion !== stackRegion) {
      problems.push(
        `${field} is a topic in region ${topicRegion}, but the stack deploys to ${stackRegion}; CloudWatch alarms ` +
          "notify topics in their own region only, so give a topic in the stack's region",
      );
    }
    return given;
  }

  /**
   * A configuration validated elsewhere was checked for its own account and region (its KMS key,
   * its default names): the stack must be in them.
   */
  private checkedAgainstStack(config: EnvironmentConfig): EnvironmentConfig {
    const stack = Stack.of(this);
    const problems: string[] = [];
    for (const key of ['account', 'region'] as const) {
      const value = config[key];
      if (value === undefined) continue;
      const stackValue = Token.isUnresolved(stack[key]) ? undefined : stack[key];
      if (stackValue !== value) {
        problems.push(
          `environment "${config.envName}" is for ${key} "${value}", but the construct's stack ` +
            (stackValue
              ? `deploys to ${key} "${stackValue}"`
              : `is environment-agnostic (its ${key} is decided at deploy)`) +
            `; give the stack env: { ${key}: "${value}" }`,
        );
      }
    }
    if (problems.length) throw new ConfigError(problems, this.describe());
    return config;
  }

  private describe(): string {
    return `QualysS3Onboarding "${this.node.path}"`;
  }

  /**
   * An existing bucket in another account: the roles' identity policy is not enough there, and
   * this stack cannot change that account's bucket policy.
   */
  private warnAboutForeignSecret(secret: secretsmanager.ISecret): void {
    const stack = Stack.of(this);
    const account = secret.env.account;
    if (Token.isUnresolved(account) || Token.isUnresolved(stack.account) || account === stack.account) return;
    Annotations.of(this).addWarningV2(
      'qualys-s3-cdk:secretInAnotherAccount',
      `The credentials secret is in account ${account}, not this stack's ${stack.account}: its resource policy must allow ` +
        'secretsmanager:GetSecretValue to the handler role (the handler attribute), and it must be encrypted with a ' +
        'customer-managed KMS key whose policy allows that role kms:Decrypt (aws/secretsmanager cannot be shared)',
    );
  }

  private warnAboutForeignBucket(bucket: s3.IBucket): void {
    const stack = Stack.of(this);
    const bucketAccount = bucket.env.account;
    if (Token.isUnresolved(bucketAccount) || Token.isUnresolved(stack.account) || bucketAccount === stack.account)
      return;
    Annotations.of(this).addWarningV2(
      'qualys-s3-cdk:bucketInAnotherAccount',
      `The findings bucket is in account ${bucketAccount}, not this stack's ${stack.account}: its bucket policy must allow ` +
        's3:PutObject to the Qualys roles (the vm.role and pc.role attributes), and a KMS key of that account must allow them too',
    );
  }
}

interface Validated {
  readonly config: EnvironmentConfig;
  readonly secret?: secretsmanager.ISecret;
  readonly existingBucket?: s3.IBucket;
  readonly alarmTopic?: sns.ITopic;
}

/** The keys of an environment's settings (the compiler holds this list to the documented type). */
const SETTINGS_KEYS = new Set(
  Object.keys({
    account: true,
    region: true,
    gatewayUrl: true,
    platform: true,
    credentialsSecret: true,
    qualysAwsAccountId: true,
    bucket: true,
    vm: true,
    pc: true,
    validationTimeoutSeconds: true,
    logRetentionDays: true,
    tags: true,
    proxyUrl: true,
    vpc: true,
    subscription: true,
    cloudView: true,
    analytics: true,
  } satisfies Record<keyof EnvironmentSettings, true>),
);

/** Stand-ins for values the schema checks elsewhere (a secret or bucket name given as an object or token). */
const PLACEHOLDER_SECRET = 'qualys-s3-cdk-construct-secret';
const PLACEHOLDER_BUCKET_NAME = 'qualys-s3-cdk-token-bucket-name';
const PLACEHOLDER_ENV_NAME = 'unnamed';
/** A topic ARN the schema accepts, in the region it checks it against (any, when that is not a region). */
const placeholderTopicArn = (region: unknown) =>
  `arn:aws:sns:${typeof region === 'string' && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) ? region : 'us-east-1'}:000000000000:qualys-s3-cdk-construct-topic`;
const LITERAL = 'give it as a literal value (the construct checks it at synth, as the configuration does)';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isSecret(value: IConstruct): value is secretsmanager.ISecret {
  const candidate = value as Partial<secretsmanager.ISecret>;
  return typeof candidate.secretArn === 'string' && typeof candidate.grantRead === 'function';
}

function isBucket(value: IConstruct): value is s3.IBucket {
  const candidate = value as Partial<s3.IBucket>;
  return typeof candidate.bucketArn === 'string' && typeof candidate.arnForObjects === 'function';
}

function isTopic(value: IConstruct): value is sns.ITopic {
  const candidate = value as Partial<sns.ITopic>;
  return typeof candidate.topicArn === 'string' && typeof candidate.addSubscription === 'function';
}

function describeConstruct(value: IConstruct): string {
  return `a ${value.constructor.name} (${value.node.path})`;
}

/** The paths of every token (string or number) in a plain value. */
function tokenPaths(value: unknown, at: readonly string[] = []): string[][] {
  if ((typeof value === 'string' || typeof value === 'number') && Token.isUnresolved(value)) return [[...at]];
  if (Array.isArray(value)) return value.some((v) => Token.isUnresolved(v)) ? [[...at]] : [];
  if (!isObject(value) || Construct.isConstruct(value)) return [];
  return Object.entries(value).flatMap(([key, v]) => tokenPaths(v, [...at, key]));
}

function removeAt(value: Record<string, unknown>, at: readonly string[]): void {
  const [head, ...rest] = at;
  if (rest.length === 0) {
    delete value[head];
    return;
  }
  const inner = value[head];
  if (isObject(inner)) {
    value[head] = { ...inner };
    removeAt(value[head] as Record<string, unknown>, rest);
  }
}

/**
 * How the handler names the secret: its full ARN when known; a partial ARN for a secret of
 * another account (a bare name would be looked up in the handler's own); else its name.
 */
function secretIdOf(secret: secretsmanager.ISecret, stack: Stack): string {
  if (secret.secretFullArn) return secret.secretFullArn;
  const account = secret.env.account;
  const foreign = !Token.isUnresolved(account) && !Token.isUnresolved(stack.account) && account !== stack.account;
  return foreign ? secret.secretArn : secret.secretName;
}

/**
 * The integration names (and bucket names) onboardings of one app claim. A second onboarding of
 * the same name on the same gateway would adopt the first's integration as its own, and
 * destroying either would deregister it.
 */
const claimed = new WeakMap<IConstruct, Map<string, string>>();

function claimNames(onboarding: QualysS3Onboarding, config: EnvironmentConfig): void {
  const stack = Stack.of(onboarding);
  const root = onboarding.node.root;
  const names = claimed.get(root) ?? new Map<string, string>();
  claimed.set(root, names);
  const known = (value: string, unknown: string) => (Token.isUnresolved(value) ? unknown : value);
  const problems: string[] = [];
  const claims: Array<[string, string, string?]> = [];
  for (const kind of ['vm', 'pc'] as const) {
    const integration = config[kind];
    if (!integration) continue;
    const name = integration.name ?? defaultIntegrationName(config.envName, kind, stack.account, stack.region);
    const shown =
      integration.name ??
      defaultIntegrationName(config.envName, kind, known(stack.account, '<account>'), known(stack.region, '<region>'));
    claims.push([
      `${new URL(config.gatewayUrl).origin} ${kind} ${name}`,
      `the ${kind.toUpperCase()} integration name "${shown}"`,
    ]);
  }
  if (config.cloudView) {
    // Qualys holds one connector per AWS account (the reference's reading): a second would be
    // refused, or with adoptExisting take over the first's.
    const account = known(stack.account, "<the stack's account>");
    const once =
      'Qualys holds one connector per AWS account: configure cloudView in one onboarding of the account only';
    claims.push([`cloudview-account ${stack.account}`, `"props.cloudView": a connector for account ${account}`, once]);
    const name = config.cloudView.name ?? defaultConnectorName(config.envName, stack.account);
    claims.push([
      `cloudview-name ${new URL(config.cloudView.apiUrl).origin} ${name}`,
      `"props.cloudView.name": the connector name "${config.cloudView.name ?? defaultConnectorName(config.envName, account)}"`,
      'give each connector its own name ("cloudView.name")',
    ]);
  }
  if (config.bucket.bucketName && !Token.isUnresolved(config.bucket.bucketName)) {
    claims.push([`bucket ${config.bucket.bucketName}`, `the bucket name "${config.bucket.bucketName}"`]);
  }
  for (const [key, what] of claims) {
    const other = names.get(key);
    if (other) {
      problems.push(
        `${what} is also claimed by QualysS3Onboarding "${other}" (on the same gateway): the second would take over the ` +
          "first's integration, and destroying either would deregister it; give each onboarding its own envName or name",
      );
    }
  }
  if (config.analytics) {
    // Glue holds one database of a name per account and region; the workgroup takes the same name.
    const database = config.analytics.databaseName;
    const key = `glue-database ${stack.account} ${stack.region} ${database}`;
    const other = names.get(key);
    if (other) {
      problems.push(
        `"props.analytics.databaseName": the Glue database "${database}" is also claimed by QualysS3Onboarding "${other}" ` +
          'in the same account and region, where Glue holds one database of a name (and Athena one workgroup); give ' +
          'each onboarding its own analytics.databaseName (or envName, from which it defaults)',
      );
    }
    claims.push([key, database]);
  }
  if (problems.length) throw new ConfigError(problems, `QualysS3Onboarding "${onboarding.node.path}"`);
  for (const [key] of claims) names.set(key, onboarding.node.path);
}
