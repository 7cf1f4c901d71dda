import { Annotations, Stack, Tags, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type IntegrationKind, defaultIntegrationName } from '../core/contract';
import { ConfigError, type EnvironmentConfig, type PcConfig, type VmConfig, parseEnvironment } from '../config/config';
import type { EnvironmentSettings, FindingsBucketSettings } from '../config/environment-props';
import { FindingsBucket, findingsWritePolicy } from './findings-bucket';
import { IntegrationProvider } from './integration-provider';
import { QualysAccessRole } from './qualys-role';
import { QualysIntegration } from './qualys-integration';

/**
 * One environment's onboarding, as props: the keys of `environments.<envName>` in a JSON
 * configuration, validated by the same schema with the same messages, plus the environment's
 * name; and, where CDK users expect them, objects instead of names.
 */
export interface QualysS3OnboardingProps extends Omit<EnvironmentSettings, 'credentialsSecret' | 'bucket'> {
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
   * @default - a new bucket with every default of FindingsBucketSettings
   */
  readonly bucket?: FindingsBucketSettings | s3.IBucket;
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
  /** The bucket Qualys writes findings into. */
  readonly bucket: s3.IBucket;
  /** The policy attached to the Qualys roles: `s3:PutObject` on the bucket's objects, and nothing else. */
  readonly writePolicy: iam.IManagedPolicy;
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

  constructor(scope: Construct, id: string, props: QualysS3OnboardingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const given = props as QualysS3OnboardingProps | ValidatedEnvironment;
    const secret =
      given instanceof ValidatedEnvironment ? undefined : objectProp<secretsmanager.ISecret>(props.credentialsSecret);
    const existingBucket = given instanceof ValidatedEnvironment ? undefined : objectProp<s3.IBucket>(props.bucket);
    const config = given instanceof ValidatedEnvironment ? given.config : this.validate(props, secret, existingBucket);
    this.config = config;
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);

    let writePolicy: iam.ManagedPolicy;
    if (existingBucket) {
      this.bucket = existingBucket;
      writePolicy = findingsWritePolicy(this, 'WritePolicy', existingBucket, existingBucket.encryptionKey);
      this.warnAboutForeignBucket(existingBucket);
    } else {
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
      allowedGateways: [config.gatewayUrl],
      logRetention: config.logRetentionDays as logs.RetentionDays,
      proxyUrl: config.proxyUrl,
      vpc: config.vpc,
    });
    this.handler = provider.handler;
    const secretId = secret ? (secret.secretFullArn ?? secret.secretName) : config.credentialsSecret;

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
  }

  /**
   * The props as the schema validates them: objects stand in for their names, and the account
   * and region default to the stack's. Every problem, the schema's and the construct's, is
   * thrown together.
   */
  private validate(
    props: QualysS3OnboardingProps,
    secret: secretsmanager.ISecret | undefined,
    existingBucket: s3.IBucket | undefined,
  ): EnvironmentConfig {
    const stack = Stack.of(this);
    const problems: string[] = [];
    const known = (value: string) => (Token.isUnresolved(value) ? undefined : value);
    const { envName, credentialsSecret, bucket, ...settings } = props;
    const raw: Record<string, unknown> = { ...settings };
    for (const key of ['account', 'region'] as const) {
      const stackValue = known(stack[key]);
      if (props[key] === undefined) {
        if (stackValue) raw[key] = stackValue;
      } else if (stackValue && props[key] !== stackValue) {
        problems.push(
          `"props.${key}" is ${JSON.stringify(props[key])}, but the construct's stack deploys to ${key} "${stackValue}"; ` +
            `leave "${key}" out (the stack decides it) or make the two agree`,
        );
      }
    }
    if (secret) {
      // The schema checks the rest of the environment; the secret is the stack's to resolve.
      raw.credentialsSecret = 'qualys-s3-cdk-construct-secret';
      const secretRegion = known(secret.env.region);
      const stackRegion = known(stack.region);
      if (secretRegion && stackRegion && secretRegion !== stackRegion) {
        problems.push(
          `"props.credentialsSecret" is a secret in region ${secretRegion}, but the stack deploys to ${stackRegion}; ` +
            'the handler reads the secret in its own region, so create (or replicate) the secret there',
        );
      }
    } else if (typeof credentialsSecret === 'string' && Token.isUnresolved(credentialsSecret)) {
      raw.credentialsSecret = 'qualys-s3-cdk-construct-secret';
      problems.push(
        '"props.credentialsSecret" is a token, a value known only at deploy; pass the secret itself (an ISecret, e.g. ' +
          'secretsmanager.Secret.fromSecretNameV2(this, "QualysCredentials", "qualys/api-credentials")) or its name',
      );
    } else {
      raw.credentialsSecret = credentialsSecret;
    }
    if (!existingBucket) raw.bucket = bucket;
    let config: EnvironmentConfig;
    try {
      config = parseEnvironment(envName, raw, { root: 'props', source: this.describe() });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError([...error.problems, ...problems], this.describe());
    }
    if (problems.length) throw new ConfigError(problems, this.describe());
    return secret ? { ...config, credentialsSecret: secret.secretName } : config;
  }

  private describe(): string {
    return `QualysS3Onboarding "${this.node.path}"`;
  }

  /**
   * An existing bucket in another account: the roles' identity policy is not enough there, and
   * this stack cannot change that account's bucket policy.
   */
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

/** A prop given as a construct (an ISecret, an IBucket) rather than as a name or settings. */
function objectProp<T>(value: unknown): T | undefined {
  return Construct.isConstruct(value) ? (value as T) : undefined;
}
