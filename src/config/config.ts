/**
 * The configuration's one definition: its types, its defaults and its validation.
 *
 * The app (bin/app.ts) and any other tool read the raw JSON, call {@link parseConfig} and get
 * either a fully defaulted, validated configuration or one {@link ConfigError} that lists
 * every problem at once, each naming the field, the bad value and what is allowed.
 *
 * This module must stay free of aws-cdk-lib so that non-CDK code can share it.
 */
import {
  type CipsFilter,
  type IntegrationKind,
  MAX_CIPS_POLICIES,
  MAX_INTEGRATION_NAME_LENGTH,
  type PcSettings,
  type VmSettings,
  defaultIntegrationName,
  QUALYS_PLATFORM_GATEWAYS,
  isLoopbackHost,
} from '../core/contract';

/** The Qualys platforms and their API gateway URLs. */
export const QUALYS_PLATFORMS: Readonly<Record<string, string>> = QUALYS_PLATFORM_GATEWAYS;

/** Every default in one place. */
export const DEFAULTS = {
  qualysAwsAccountId: '805950163170',
  retainBucketOnDelete: true,
  validationTimeoutSeconds: 600,
  logRetentionDays: 90,
  vm: {
    minSeverity: 3,
    baseCategory: 'Confirmed',
    resultSectionNeeded: false,
    sendVulnInfo: false,
    compressData: true,
    sendAlerts: false,
    errorEmails: [] as string[],
  } satisfies VmSettings,
  pc: { compressData: true } satisfies PcSettings,
  cipsFilter: {
    includeEvidenceData: false,
    includeFailPosture: true,
    includePassPosture: true,
    includeErrorPosture: true,
  } satisfies CipsFilter,
} as const;

/** S3 storage classes findings may move to, and the least age S3 accepts for each (days). */
export const TRANSITION_STORAGE_CLASSES: Readonly<Record<string, number>> = {
  STANDARD_IA: 30,
  ONEZONE_IA: 30,
  INTELLIGENT_TIERING: 0,
  GLACIER_IR: 0,
  GLACIER: 0,
  DEEP_ARCHIVE: 0,
};

/** Validation bounds: the custom-resource Lambda must finish, cleanup included, within 14 minutes. */
export const LIMITS = {
  maxEnvNameLength: 32,
  minValidationTimeoutSeconds: 30,
  maxValidationTimeoutSeconds: 720,
  maxErrorEmails: 5,
  /** AWS allows 50 user tags per resource. */
  maxTags: 50,
  /** The longest AWS region name (us-isof-south-1), to check default names of region-agnostic stacks. */
  longestRegionLength: 15,
} as const;

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

interface IntegrationCommon {
  /** The integration's name in Qualys; undefined means the default name for the environment. */
  readonly name?: string;
  /** Change to any new value to regenerate the external ID. */
  readonly externalIdRotation: string;
  /** Take over an integration of the same name that this environment did not evidently create. */
  readonly adoptExisting: boolean;
}

export interface VmConfig extends IntegrationCommon {
  readonly settings: VmSettings;
}

export interface PcConfig extends IntegrationCommon {
  readonly settings: PcSettings;
  readonly policies: readonly number[];
  /** Undefined: the subscription's CIPS filter is left alone. */
  readonly filter?: CipsFilter;
}

export interface BucketConfig {
  /** Undefined: CloudFormation picks a unique name. */
  readonly bucketName?: string;
  readonly retainOnDelete: boolean;
  /** A customer-managed KMS key (full key ARN) for the bucket's default encryption; undefined: SSE-S3. */
  readonly kmsKeyArn?: string;
  /** Findings (current versions) expire this many days after they are written; undefined: kept. */
  readonly expireAfterDays?: number;
  /** Findings move to {@link transitionStorageClass} this many days after they are written; undefined: they stay. */
  readonly transitionAfterDays?: number;
  /** The storage class of {@link transitionAfterDays}. */
  readonly transitionStorageClass?: string;
}

/** One environment, validated and with every default filled in. */
export interface EnvironmentConfig {
  readonly envName: string;
  readonly account?: string;
  readonly region?: string;
  readonly gatewayUrl: string;
  readonly credentialsSecret: string;
  readonly qualysAwsAccountId: string;
  /**
   * The Qualys subscription this environment uses, for the subscription-wide CIPS checks;
   * undefined: environments on one gateway are taken to share one subscription.
   */
  readonly subscription?: string;
  readonly bucket: BucketConfig;
  readonly vm?: VmConfig;
  readonly pc?: PcConfig;
  readonly validationTimeoutSeconds: number;
  readonly logRetentionDays: number;
  readonly tags: Readonly<Record<string, string>>;
  /** An HTTP(S) proxy the handler reaches Qualys through; undefined: direct. */
  readonly proxyUrl?: string;
  /** Where the handler runs; undefined: Lambda's own network. */
  readonly vpc?: VpcConfig;
}

/** An existing VPC the handler Lambda is placed in, for accounts whose egress must pass their own network. */
export interface VpcConfig {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

export interface QualysS3Config {
  readonly environments: readonly EnvironmentConfig[];
}

/** Every problem found in a configuration, reported together. */
export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    source = 'the configuration',
  ) {
    super(
      `${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** The stack name of an environment. */
export function stackName(envName: string): string {
  return `QualysS3-${envName}`;
}

const ENV_KEYS = [
  'account',
  'region',
  'gatewayUrl',
  'platform',
  'credentialsSecret',
  'qualysAwsAccountId',
  'bucket',
  'vm',
  'pc',
  'validationTimeoutSeconds',
  'logRetentionDays',
  'tags',
  'proxyUrl',
  'vpc',
  'subscription',
] as const;
const VPC_KEYS = ['vpcId', 'subnetIds', 'securityGroupIds'] as const;
const BUCKET_KEYS = [
  'bucketName',
  'retainOnDelete',
  'kmsKeyArn',
  'expireAfterDays',
  'transitionAfterDays',
  'transitionStorageClass',
] as const;
const VM_KEYS = [
  'name',
  'minSeverity',
  'baseCategory',
  'resultSectionNeeded',
  'sendVulnInfo',
  'compressData',
  'sendAlerts',
  'errorEmails',
  'externalIdRotation',
  'adoptExisting',
] as const;
const PC_KEYS = ['name', 'compressData', 'policies', 'filter', 'externalIdRotation', 'adoptExisting'] as const;
const FILTER_KEYS = ['includeEvidenceData', 'includeFailPosture', 'includePassPosture', 'includeErrorPosture'] as const;
const BASE_CATEGORIES = ['IG', 'Potential', 'Confirmed'] as const;

/** Collects problems while reading one raw object; each reader names the field it reads. */
class Reader {
  constructor(
    private readonly problems: string[],
    private readonly path: string,
    private readonly raw: Record<string, unknown>,
  ) {}

  field(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  get(key: string): unknown {
    return this.raw[key];
  }

  problem(key: string, message: string): void {
    this.problems.push(`"${this.field(key)}" ${message}`);
  }

  rejectUnknown(known: readonly string[]): void {
    for (const key of Object.keys(this.raw)) {
      if (known.includes(key)) continue;
      const hint = closest(key, known);
      this.problems.push(
        `"${this.field(key)}" is not a known field${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${known.join(', ')}`,
      );
    }
  }

  string(key: string, opts: { pattern?: RegExp; describe?: string; maxLength?: number } = {}): string | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (typeof value === 'number') {
      // JSON numbers lose leading zeros (account IDs) and are not names: say how to write it.
      this.problem(key, `must be a string, got the number ${show(value)}; put it in double quotes: "${value}"`);
      return undefined;
    }
    if (typeof value !== 'string' || value.length === 0) {
      this.problem(key, `must be a non-empty string, got ${show(value)}`);
      return undefined;
    }
    let ok = true;
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      this.problem(key, `is ${value.length} characters long, ${show(value)}; at most ${opts.maxLength} are allowed`);
      ok = false;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.problem(key, `is ${show(value)}; it must be ${opts.describe}`);
      ok = false;
    }
    return ok ? value : undefined;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(key, `must be true or false, got ${show(value)}`);
      return fallback;
    }
    return value;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(key, `must be a whole number from ${min} to ${max}, got ${show(value)}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string | number>(key: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw[key];
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) {
      const near =
        typeof value === 'string'
          ? allowed.find((a) => typeof a === 'string' && a.toLowerCase() === value.toLowerCase())
          : undefined;
      const quoted =
        typeof value === 'string' && allowed.some((a) => typeof a === 'number' && String(a) === value.trim())
          ? value.trim()
          : undefined;
      const hint =
        near !== undefined
          ? ` (did you mean ${show(near)}? the value is case-sensitive)`
          : quoted
            ? ` (write it as a number, without quotes: ${quoted})`
            : '';
      this.problem(key, `is ${show(value)}${hint}; allowed: ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  object(key: string): Reader | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) {
      this.problem(key, `must be an object, got ${show(value)}`);
      return undefined;
    }
    return new Reader(this.problems, this.field(key), value);
  }
}

/**
 * Validates a raw configuration (the `qualys` context object, or the file named by
 * `-c config=...`) and fills in every default.
 *
 * @throws ConfigError listing every problem found.
 */
export function parseConfig(raw: unknown, source?: string): QualysS3Config {
  const problems: string[] = [];
  if (!isPlainObject(raw)) {
    throw new ConfigError(
      [`the configuration must be a JSON object with an "environments" key, got ${show(raw)}`],
      source,
    );
  }
  const root = new Reader(problems, 'qualys', raw);
  root.rejectUnknown(['environments']);
  const envs = root.object('environments');
  if (!envs) {
    if (!root.has('environments')) {
      problems.push(
        '"qualys.environments" is missing; add at least one environment, e.g. {"environments": {"dev": {...}}}',
      );
    }
    throw new ConfigError(problems, source);
  }
  const envNames = Object.keys(raw.environments as object);
  if (envNames.length === 0) {
    problems.push('"qualys.environments" is empty; add at least one environment');
  }
  const environments: EnvironmentConfig[] = [];
  for (const envName of envNames) {
    const env = parseEnvironment(problems, envName, envs);
    if (env) environments.push(env);
  }
  checkAcrossEnvironments(problems, environments);
  if (problems.length > 0) throw new ConfigError(problems, source);
  return { environments };
}

function parseEnvironment(problems: string[], envName: string, envs: Reader): EnvironmentConfig | undefined {
  const before = problems.length;
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(envName) || envName.length > LIMITS.maxEnvNameLength) {
    problems.push(
      `environment name ${show(envName)} is not allowed: use letters, digits and hyphens, starting with a letter, ` +
        `at most ${LIMITS.maxEnvNameLength} characters (it becomes the stack name ${stackName('<name>')})`,
    );
  }
  const env = envs.object(envName);
  if (!env) return undefined;
  env.rejectUnknown(ENV_KEYS);

  const account = env.string('account', { pattern: /^\d{12}$/, describe: 'a 12-digit AWS account ID' });
  const region = env.string('region', {
    pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/,
    describe: 'an AWS region name such as "us-east-1"',
  });
  const gatewayUrl = parseGateway(env);
  const credentialsSecret = parseSecretId(env, region);
  const explicitQualysAccount = env.string('qualysAwsAccountId', {
    pattern: /^\d{12}$/,
    describe: 'a 12-digit AWS account ID',
  });
  const qualysAwsAccountId = explicitQualysAccount ?? DEFAULTS.qualysAwsAccountId;
  if (region && (explicitQualysAccount || !env.has('qualysAwsAccountId'))) {
    const problem = qualysAccountPartitionProblem(partitionOfRegion(region), qualysAwsAccountId);
    if (problem)
      env.problem(
        'qualysAwsAccountId',
        `${explicitQualysAccount ? `is "${explicitQualysAccount}"` : 'is not set'}, but ${problem}`,
      );
  }
  const subscription = env.string('subscription', {
    pattern: /^[A-Za-z0-9][A-Za-z0-9 _.:@-]{0,63}$/,
    describe:
      'a label of at most 64 letters, digits, spaces and _ . : @ -, the same in every environment on that subscription',
  });
  const bucket = parseBucket(env, account, region);
  const validationTimeoutSeconds = env.integer(
    'validationTimeoutSeconds',
    DEFAULTS.validationTimeoutSeconds,
    LIMITS.minValidationTimeoutSeconds,
    LIMITS.maxValidationTimeoutSeconds,
  );
  const logRetentionDays = env.oneOf('logRetentionDays', DEFAULTS.logRetentionDays as number, LOG_RETENTION_DAYS);
  const tags = parseTags(env);
  const proxyUrl = parseProxyUrl(env);
  const vpc = parseVpc(env);

  const vm = parseIntegration(env, 'vm', (r) => parseVm(r));
  const pc = parseIntegration(env, 'pc', (r) => parsePc(r));
  if (env.get('vm') === undefined || env.get('vm') === false) {
    if (env.get('pc') === undefined || env.get('pc') === false) {
      problems.push(
        `"${env.field('vm')}" and "${env.field('pc')}" are both absent or false; configure at least one integration, e.g. "vm": {}`,
      );
    }
  }
  for (const [kind, integration] of [
    ['vm', vm],
    ['pc', pc],
  ] as const) {
    checkNameLength(problems, env, envName, kind, integration, account, region);
  }
  if (problems.length > before || !gatewayUrl || !credentialsSecret) return undefined;
  return {
    envName,
    account,
    region,
    gatewayUrl,
    credentialsSecret,
    qualysAwsAccountId,
    subscription,
    bucket,
    vm,
    pc,
    validationTimeoutSeconds,
    logRetentionDays,
    tags,
    proxyUrl,
    vpc,
  };
}

function parseGateway(env: Reader): string | undefined {
  const hasUrl = env.has('gatewayUrl');
  const hasPlatform = env.has('platform');
  if (hasUrl && hasPlatform) {
    env.problem('gatewayUrl', `and "${env.field('platform')}" are both set; set only one of them`);
    // Still read both, so that every problem with either is reported in this run.
    env.oneOf('platform', '', Object.keys(QUALYS_PLATFORMS));
    readGatewayUrl(env);
    return undefined;
  }
  if (hasPlatform) {
    const platform = env.oneOf('platform', '', Object.keys(QUALYS_PLATFORMS));
    return QUALYS_PLATFORMS[platform];
  }
  if (!hasUrl) {
    env.problem(
      'gatewayUrl',
      `is missing; set "gatewayUrl" to your Qualys API gateway (e.g. "https://gateway.qg1.apps.qualys.com") ` +
        `or "platform" to one of ${Object.keys(QUALYS_PLATFORMS).join(', ')}`,
    );
    return undefined;
  }
  return readGatewayUrl(env);
}

function readGatewayUrl(env: Reader): string | undefined {
  const value = env.string('gatewayUrl');
  if (value === undefined) return undefined;
  const problem = gatewayUrlProblem(value);
  if (problem) {
    // Never echo a user name or password written into the URL.
    env.problem('gatewayUrl', `is ${show(value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@'))}; ${problem}`);
    return undefined;
  }
  return value.replace(/\/+$/, '');
}

/** Why a gateway URL is unacceptable, or undefined when it is fine. */
export function gatewayUrlProblem(value: string): string | undefined {
  const webUiAdvice = (hostname: string): string | undefined => {
    const webUi = webUiGateway(hostname);
    return webUi
      ? `that is the Qualys web UI (or the classic API server), not the API gateway; use ${webUi.gateway}` +
          `${webUi.platform ? ` or "platform": "${webUi.platform}"` : ''} (the gateway URL of your platform is listed in your Qualys account under Help > About)`
      : undefined;
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // A host written without its scheme, e.g. qualysguard.qg2.apps.qualys.com.
    const advice = webUiAdvice(value.replace(/^\/\//, '').split(/[/?#:]/)[0]);
    return advice ?? 'it must be an absolute URL such as "https://gateway.qg1.apps.qualys.com"';
  }
  if (url.username || url.password) return 'it must not carry credentials; put them in the Secrets Manager secret';
  const advice = webUiAdvice(url.hostname);
  if (advice) return advice;
  // Every problem at once, so that one fix is not followed by another message.
  const problems: string[] = [];
  if (url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    problems.push("it must be the gateway's base URL, with no path, query or fragment");
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    problems.push(
      'it must use https (plain http is allowed only for a loopback test server such as http://127.0.0.1:8080)',
    );
  }
  return problems.length > 0 ? problems.join('; and ') : undefined;
}

/**
 * The gateway that belongs to a Qualys web-UI host (qualysguard.*) or classic API host
 * (qualysapi.*): the same platform, gateway.* instead. US1 and EU1 have short UI names.
 */
function webUiGateway(hostname: string): { gateway: string; platform?: string } | undefined {
  const match = /^(qualysguard|qualysapi)\.(.+)$/i.exec(hostname);
  if (!match) return undefined;
  const rest = match[2].toLowerCase();
  const aliases: Record<string, string> = { 'qualys.com': 'qg1.apps.qualys.com', 'qualys.eu': 'qg1.apps.qualys.eu' };
  const gateway = `https://gateway.${aliases[rest] ?? rest}`;
  const platform = Object.keys(QUALYS_PLATFORMS).find((p) => QUALYS_PLATFORMS[p] === gateway);
  return { gateway, platform };
}

/** The AWS partition of a region name; commercial ("aws") for any region not in another. */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}

/**
 * Why the Qualys account cannot be used in a partition, or undefined when it can: the default
 * account ID is Qualys's commercial one, which does not exist in GovCloud, China or the ISO regions.
 */
export function qualysAccountPartitionProblem(partition: string, qualysAwsAccountId: string): string | undefined {
  if (partition === 'aws' || qualysAwsAccountId !== DEFAULTS.qualysAwsAccountId) return undefined;
  return (
    `the stack deploys to the ${partition} partition, where Qualys's commercial AWS account ${DEFAULTS.qualysAwsAccountId} ` +
    `cannot be trusted (the principal would be arn:${partition}:iam::${DEFAULTS.qualysAwsAccountId}:role/...); ` +
    `set "qualysAwsAccountId" to the account Qualys uses in ${partition} (ask Qualys support for it)`
  );
}

function parseVpc(env: Reader): VpcConfig | undefined {
  const vpc = env.object('vpc');
  if (!vpc) return undefined;
  vpc.rejectUnknown(VPC_KEYS);
  const vpcId = vpc.string('vpcId', {
    pattern: /^vpc-[0-9a-f]{8,17}$/,
    describe: 'a VPC ID such as "vpc-0a1b2c3d4e5f67890"',
  });
  if (!vpc.has('vpcId')) vpc.problem('vpcId', 'is missing; name the VPC the handler should run in');
  const subnetIds = idList(
    vpc,
    'subnetIds',
    /^subnet-[0-9a-f]{8,17}$/,
    'subnet IDs such as "subnet-0a1b2c3d4e5f67890"',
    16,
  );
  const securityGroupIds = idList(
    vpc,
    'securityGroupIds',
    /^sg-[0-9a-f]{8,17}$/,
    'security group IDs such as "sg-0a1b2c3d4e5f67890"',
    5,
  );
  if (!vpcId || !subnetIds || !securityGroupIds) return undefined;
  return { vpcId, subnetIds, securityGroupIds };
}

function idList(r: Reader, key: string, pattern: RegExp, describe: string, max: number): string[] | undefined {
  const value = r.get(key);
  if (!Array.isArray(value) || value.length === 0 || value.length > max) {
    r.problem(key, `must list 1 to ${max} ${describe}, got ${show(value)}`);
    return undefined;
  }
  const bad = value.filter((v) => typeof v !== 'string' || !pattern.test(v));
  if (bad.length > 0) {
    r.problem(key, `holds ${bad.map(show).join(', ')}; it must list ${describe}`);
    return undefined;
  }
  return [...new Set(value as string[])];
}

function parseProxyUrl(env: Reader): string | undefined {
  const value = env.string('proxyUrl');
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const problem = !url
    ? 'it must be an absolute URL such as "http://proxy.example.com:3128"'
    : url.username || url.password
      ? 'it must not carry credentials (they would be written into the template); use a proxy that admits the handler by its network'
      : !['http:', 'https:'].includes(url.protocol)
        ? 'it must use http or https'
        : url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')
          ? "it must be the proxy's base URL, with no path, query or fragment"
          : undefined;
  if (problem) {
    env.problem('proxyUrl', `is ${show(value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@'))}; ${problem}`);
    return undefined;
  }
  return value.replace(/\/+$/, '');
}

function parseSecretId(env: Reader, region: string | undefined): string | undefined {
  if (!env.has('credentialsSecret')) {
    env.problem(
      'credentialsSecret',
      'is missing; set it to the name or ARN of the Secrets Manager secret that holds {"username","password"} ' +
        '(see "Create the credentials secret" in README.md)',
    );
    return undefined;
  }
  const value = env.string('credentialsSecret');
  if (value === undefined) return undefined;
  const isArn = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/.test(value);
  const isName = /^[A-Za-z0-9/_+=.@-]{1,512}$/.test(value) && !value.startsWith('arn:');
  if (!isArn && !isName) {
    // The value is not echoed: a wrong value here is too often the credentials themselves.
    env.problem(
      'credentialsSecret',
      `is not a secret name or ARN (${value.length} characters, not shown); it must be a secret name ` +
        '(letters, digits and /_+=.@-) or a full secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>); ' +
        'never put the credentials themselves here',
    );
    return undefined;
  }
  const arnRegion = isArn ? value.split(':')[3] : undefined;
  if (arnRegion && region && arnRegion !== region) {
    env.problem(
      'credentialsSecret',
      `is a secret in region ${arnRegion}, but the stack deploys to ${region}; the handler reads the secret in its own ` +
        'region, so create (or replicate) the secret there and name it here',
    );
    return undefined;
  }
  return value;
}

/** Days S3 lifecycle rules accept, here bounded to a century. */
const MAX_LIFECYCLE_DAYS = 36500;

function parseBucket(env: Reader, account: string | undefined, region: string | undefined): BucketConfig {
  const bucket = env.object('bucket');
  if (!bucket) return { retainOnDelete: DEFAULTS.retainBucketOnDelete };
  bucket.rejectUnknown(BUCKET_KEYS);
  const bucketName = bucket.string('bucketName');
  if (bucketName !== undefined) {
    for (const problem of bucketNameProblems(bucketName))
      bucket.problem('bucketName', `is ${show(bucketName)}; ${problem}`);
  }
  const kmsKeyArn = parseKmsKeyArn(bucket, account, region);
  const expireAfterDays = bucket.has('expireAfterDays')
    ? bucket.integer('expireAfterDays', 0, 1, MAX_LIFECYCLE_DAYS)
    : undefined;
  const transitionAfterDays = bucket.has('transitionAfterDays')
    ? bucket.integer('transitionAfterDays', 0, 0, MAX_LIFECYCLE_DAYS)
    : undefined;
  const classes = Object.keys(TRANSITION_STORAGE_CLASSES);
  const storageClass = bucket.has('transitionStorageClass')
    ? bucket.oneOf('transitionStorageClass', '', classes)
    : undefined;
  if (storageClass !== undefined && transitionAfterDays === undefined && bucket.has('transitionStorageClass')) {
    bucket.problem(
      'transitionStorageClass',
      `is set without "${bucket.field('transitionAfterDays')}"; set the number of days after which findings move`,
    );
  }
  const transitionStorageClass = transitionAfterDays !== undefined ? storageClass || 'STANDARD_IA' : undefined;
  if (transitionAfterDays !== undefined && transitionStorageClass) {
    const least = TRANSITION_STORAGE_CLASSES[transitionStorageClass] ?? 0;
    if (transitionAfterDays < least) {
      bucket.problem(
        'transitionAfterDays',
        `is ${transitionAfterDays}; S3 moves objects to ${transitionStorageClass} no sooner than ${least} days after they are written`,
      );
    }
    if (expireAfterDays !== undefined && expireAfterDays <= transitionAfterDays) {
      bucket.problem(
        'expireAfterDays',
        `is ${expireAfterDays}, not after "${bucket.field('transitionAfterDays')}" (${transitionAfterDays}); findings must move before they expire, ` +
          'so make expireAfterDays the larger or drop the transition',
      );
    }
  }
  return {
    bucketName,
    retainOnDelete: bucket.boolean('retainOnDelete', DEFAULTS.retainBucketOnDelete),
    kmsKeyArn,
    expireAfterDays,
    transitionAfterDays,
    transitionStorageClass,
  };
}

function parseKmsKeyArn(bucket: Reader, account: string | undefined, region: string | undefined): string | undefined {
  const value = bucket.string('kmsKeyArn', {
    pattern: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
    describe:
      'the full ARN of a customer-managed KMS key (arn:aws:kms:<region>:<account>:key/<key-id>); an alias or key ID cannot be ' +
      'pinned in the bucket policy',
  });
  if (value === undefined) return undefined;
  const [, , , keyRegion, keyAccount] = value.split(':');
  let ok = true;
  if (region && keyRegion !== region) {
    bucket.problem(
      'kmsKeyArn',
      `is a key in ${keyRegion}, but the bucket is in ${region}; S3 encrypts only with a key in the bucket's region`,
    );
    ok = false;
  }
  if (account && keyAccount !== account) {
    bucket.problem(
      'kmsKeyArn',
      `is a key in account ${keyAccount}, not the stack's account ${account}; use a key this account owns, so that its findings stay readable by it`,
    );
    ok = false;
  }
  return ok ? value : undefined;
}

/** S3's general-purpose bucket naming rules: the first one a name breaks, or undefined. */
export function bucketNameProblem(name: string): string | undefined {
  return bucketNameProblems(name)[0];
}

/** Every S3 general-purpose bucket naming rule a name breaks. */
export function bucketNameProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length < 3 || name.length > 63) out.push('a bucket name must be 3 to 63 characters long');
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    out.push(
      'a bucket name may hold only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit',
    );
  }
  if (name.includes('..') || name.includes('.-') || name.includes('-.'))
    out.push('a bucket name must not hold "..", ".-" or "-."');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) out.push('a bucket name must not look like an IP address');
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name)) {
    out.push(
      'a bucket name must not use a prefix or suffix that S3 reserves (xn--, sthree-, -s3alias, --ol-s3, --x-s3)',
    );
  }
  return out;
}

/** The characters AWS accepts in tag keys and values (IAM, S3 and Lambda alike). */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function parseTags(env: Reader): Record<string, string> {
  const tags = env.object('tags');
  if (!tags) return {};
  const keys = Object.keys(env.get('tags') as object);
  if (keys.length > LIMITS.maxTags) {
    env.problem('tags', `holds ${keys.length} tags; AWS resources take at most ${LIMITS.maxTags}`);
  }
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = tags.get(key);
    if (typeof value === 'number' || typeof value === 'boolean') {
      tags.problem(
        key,
        `must be a string, got the ${typeof value} ${show(value)}; put it in double quotes: "${value}"`,
      );
      continue;
    }
    const fits =
      typeof value === 'string' &&
      key.length >= 1 &&
      key.length <= 128 &&
      value.length <= 256 &&
      !key.toLowerCase().startsWith('aws:') &&
      TAG_CHARACTERS.test(key) &&
      TAG_CHARACTERS.test(value);
    if (!fits) {
      tags.problem(
        key,
        `must map a tag key (1 to 128 characters, not starting with "aws:") to a string of at most 256 characters, ` +
          `both of letters, digits, spaces and _ . : / = + - @ only; got ${show(value)}`,
      );
      continue;
    }
    out[key] = value;
  }
  return out;
}

function parseIntegration<T>(env: Reader, kind: IntegrationKind, parse: (r: Reader) => T): T | undefined {
  const value = env.get(kind);
  if (value === undefined || value === false) return undefined;
  if (value === true) return parse(new Reader([], env.field(kind), {}));
  const reader = env.object(kind);
  return reader ? parse(reader) : undefined;
}

function parseCommon(r: Reader): IntegrationCommon {
  const name = r.string('name', { maxLength: MAX_INTEGRATION_NAME_LENGTH });
  // Read the raw value too: a name that is too long may break the other rules as well.
  const rawName = r.get('name');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (typeof rawName === 'string' && /[\u0000-\u001f\u007f]/.test(rawName))
    r.problem('name', 'must not contain control characters');
  // Qualys refuses blank names, and a name it trims would no longer match ours on the next lookup.
  if (typeof rawName === 'string' && rawName.length > 0 && rawName.trim() !== rawName) {
    r.problem('name', `is ${show(rawName)}; it must not be blank or start or end with spaces`);
  }
  const rotation = r.get('externalIdRotation');
  let externalIdRotation = '';
  if (rotation !== undefined) {
    if (typeof rotation !== 'string' && typeof rotation !== 'number') {
      r.problem(
        'externalIdRotation',
        `must be a string (any new value rotates the external ID), got ${show(rotation)}`,
      );
    } else {
      externalIdRotation = String(rotation);
    }
  }
  return { name, externalIdRotation, adoptExisting: r.boolean('adoptExisting', false) };
}

function parseVm(r: Reader): VmConfig {
  r.rejectUnknown(VM_KEYS);
  const d = DEFAULTS.vm;
  const sendAlerts = r.boolean('sendAlerts', d.sendAlerts);
  const errorEmails = parseEmails(r);
  if (sendAlerts && errorEmails?.length === 0) {
    r.problem('errorEmails', 'is empty while "sendAlerts" is true; list 1 to 5 addresses to receive the alerts');
  }
  return {
    ...parseCommon(r),
    settings: {
      minSeverity: r.integer('minSeverity', d.minSeverity, 1, 5),
      baseCategory: r.oneOf('baseCategory', d.baseCategory, BASE_CATEGORIES),
      resultSectionNeeded: r.boolean('resultSectionNeeded', d.resultSectionNeeded),
      sendVulnInfo: r.boolean('sendVulnInfo', d.sendVulnInfo),
      compressData: r.boolean('compressData', d.compressData),
      sendAlerts,
      errorEmails: errorEmails ?? [],
    },
  };
}

/** The addresses, or undefined when the field has a problem (already reported). */
function parseEmails(r: Reader): string[] | undefined {
  const value = r.get('errorEmails');
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > LIMITS.maxErrorEmails) {
    r.problem('errorEmails', `must be a list of at most ${LIMITS.maxErrorEmails} email addresses, got ${show(value)}`);
    return undefined;
  }
  const bad = value.filter((e) => typeof e !== 'string' || !/^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/.test(e));
  if (bad.length > 0) {
    r.problem(
      'errorEmails',
      `holds ${bad.map(show).join(', ')}, which ${bad.length === 1 ? 'is not an email address' : 'are not email addresses'}`,
    );
    return undefined;
  }
  return value as string[];
}

function parsePc(r: Reader): PcConfig {
  r.rejectUnknown(PC_KEYS);
  const filterReader = r.object('filter');
  let filter: CipsFilter | undefined;
  if (filterReader) {
    filterReader.rejectUnknown(FILTER_KEYS);
    const d = DEFAULTS.cipsFilter;
    filter = {
      includeEvidenceData: filterReader.boolean('includeEvidenceData', d.includeEvidenceData),
      includeFailPosture: filterReader.boolean('includeFailPosture', d.includeFailPosture),
      includePassPosture: filterReader.boolean('includePassPosture', d.includePassPosture),
      includeErrorPosture: filterReader.boolean('includeErrorPosture', d.includeErrorPosture),
    };
  }
  return {
    ...parseCommon(r),
    settings: { compressData: r.boolean('compressData', DEFAULTS.pc.compressData) },
    policies: parsePolicies(r),
    filter,
  };
}

function parsePolicies(r: Reader): number[] {
  const value = r.get('policies');
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    r.problem('policies', `must be a list of Qualys policy IDs (whole numbers), got ${show(value)}`);
    return [];
  }
  const bad = value.filter((p) => typeof p !== 'number' || !Number.isSafeInteger(p) || p <= 0);
  if (bad.length > 0) {
    r.problem('policies', `holds ${bad.map(show).join(', ')}; each policy ID must be a positive whole number`);
    return [];
  }
  const duplicates = value.filter((p, i) => value.indexOf(p) !== i);
  if (duplicates.length > 0) {
    r.problem('policies', `lists ${[...new Set(duplicates)].join(', ')} more than once; list each policy once`);
  }
  if (value.length > MAX_CIPS_POLICIES) {
    r.problem('policies', `lists ${value.length} policies; CIPS accepts at most ${MAX_CIPS_POLICIES} per subscription`);
  }
  return [...new Set(value as number[])];
}

function checkNameLength(
  problems: string[],
  env: Reader,
  envName: string,
  kind: IntegrationKind,
  integration: IntegrationCommon | undefined,
  account: string | undefined,
  region: string | undefined,
): void {
  if (!integration || integration.name !== undefined) return;
  const name = defaultIntegrationName(
    envName,
    kind,
    account ?? '0'.repeat(12),
    region ?? 'x'.repeat(LIMITS.longestRegionLength),
  );
  if (name.length > MAX_INTEGRATION_NAME_LENGTH) {
    problems.push(
      `"${env.field(kind)}.name" is not set, and the default name for environment "${envName}" ` +
        `(${account && region ? `"${name}"` : `"${defaultIntegrationName(envName, kind, account ?? '<account>', region ?? '<region>')}"`}) ` +
        `could be ${name.length} characters, over Qualys's limit of ${MAX_INTEGRATION_NAME_LENGTH}; ` +
        `set "${env.field(kind)}.name", shorten the environment name${account && region ? '' : ', or set "account" and "region"'}`,
    );
  }
}

/**
 * What environments must not share: an integration name on one gateway (explicit, or the
 * default name of another environment, which that environment would adopt as its own), a
 * bucket name (S3 names are global), and, on one Qualys subscription, the CIPS filter and
 * the 100-policy budget (both are subscription-wide).
 */
function checkAcrossEnvironments(problems: string[], environments: readonly EnvironmentConfig[]): void {
  const names = new Map<string, { envName: string; explicit: boolean }>();
  const buckets = new Map<string, string>();
  for (const env of environments) {
    for (const kind of ['vm', 'pc'] as const) {
      const integration = env[kind];
      if (!integration) continue;
      const explicit = integration.name !== undefined;
      const name =
        integration.name ??
        (env.account && env.region ? defaultIntegrationName(env.envName, kind, env.account, env.region) : undefined);
      if (name === undefined) continue;
      const key = `${new URL(env.gatewayUrl).origin} ${kind} ${name}`;
      const other = names.get(key);
      if (other) {
        const [field, owner] = explicit ? [env.envName, other] : [other.envName, { envName: env.envName, explicit }];
        problems.push(
          `"qualys.environments.${field}.${kind}.name" is "${name}", the ${owner.explicit ? 'same as' : 'default name of'} ` +
            `environment "${owner.envName}" on the same gateway; give each environment its own integration name`,
        );
      }
      names.set(key, { envName: env.envName, explicit });
    }
    const bucketName = env.bucket.bucketName;
    if (bucketName !== undefined) {
      const other = buckets.get(bucketName);
      if (other) {
        problems.push(
          `"qualys.environments.${env.envName}.bucket.bucketName" is "${bucketName}", the same as environment "${other}"; ` +
            'bucket names are global, so give each environment its own bucket (or leave bucketName out)',
        );
      }
      buckets.set(bucketName, env.envName);
    }
  }
  checkSharedSubscriptions(problems, environments);
}

/**
 * Environments on one gateway use one Qualys subscription unless their "subscription" labels
 * differ: several accounts onboarding with the same Qualys user is the common case, and the
 * secret's name or account says nothing about which user it holds. They share the CIPS filter
 * and policy list: conflicting filters would overwrite each other on every deploy, and the
 * policies together must fit CIPS's limit.
 */
function checkSharedSubscriptions(problems: string[], environments: readonly EnvironmentConfig[]): void {
  const groups = new Map<string, EnvironmentConfig[]>();
  for (const env of environments) {
    if (!env.pc) continue;
    const key = subscriptionKey(env);
    groups.set(key, [...(groups.get(key) ?? []), env]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const withFilter = group.filter((e) => e.pc?.filter);
    const [first] = withFilter;
    for (const env of withFilter.slice(1)) {
      if (JSON.stringify(env.pc?.filter) !== JSON.stringify(first.pc?.filter)) {
        problems.push(
          `"qualys.environments.${env.envName}.pc.filter" differs from environment "${first.envName}"'s, and both use one ` +
            `Qualys subscription (same gateway${env.subscription ? ` and "subscription" ${show(env.subscription)}` : ', no "subscription" label'}), ` +
            'whose CIPS filter is subscription-wide; configure the same filter in both, or the filter in one of them only, ' +
            'or give each environment its own "subscription" label if they really use different Qualys subscriptions',
        );
      }
    }
    const policies = new Set(group.flatMap((e) => e.pc?.policies ?? []));
    if (policies.size > MAX_CIPS_POLICIES) {
      problems.push(
        `environments ${group.map((e) => `"${e.envName}"`).join(', ')} share one Qualys subscription and together ` +
          `configure ${policies.size} CIPS policies; CIPS accepts at most ${MAX_CIPS_POLICIES} per subscription ` +
          '(environments on one gateway share a subscription unless their "subscription" labels differ)',
      );
    }
  }
}

/** Environments with equal keys are taken to use one Qualys subscription: same gateway, same (or no) label. */
export function subscriptionKey(env: Pick<EnvironmentConfig, 'gatewayUrl' | 'subscription'>): string {
  return `${new URL(env.gatewayUrl).origin} ${env.subscription ?? ''}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The known name nearest to a misspelt one, when it is near enough to be a typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
