/**
 * The project's configuration rules that are not about a value's type: Qualys platforms and
 * gateways, AWS partitions, S3 bucket names, and every default and bound. The schema
 * (schema.ts) applies them; the constructs reuse some (partitions).
 */
import {
  type CipsFilter,
  type PcSettings,
  QUALYS_PLATFORM_GATEWAYS,
  type VmSettings,
  isLoopbackHost,
} from '../core/contract';
import { platformConnectorHost } from '../core/connector-contract';

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
  cloudView: {
    api: 'connectors-v3',
    modules: ['assetInventory', 'cloudInventory', 'securityAssessment'],
    pollingHours: 4,
    remediation: false,
  },
  analytics: {
    enabled: false,
    resultRetentionDays: 30,
    /** 10 GB: a query over a year of a large subscription's postures fits; a runaway SELECT * does not. */
    bytesScannedLimitMb: 10240,
  },
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
  /** Days S3 lifecycle rules accept, here bounded to a century. */
  maxLifecycleDays: 36500,
  maxSubnets: 16,
  /** Qualys states no limits for connector names and descriptions; these are generous. */
  maxConnectorNameLength: 256,
  maxConnectorDescriptionLength: 1024,
  maxPollingHours: 24,
  maxSecurityGroups: 5,
  /** Athena refuses a per-query data usage limit under 10 MB. */
  minBytesScannedLimitMb: 10,
  /** 1 PB, far beyond any query of findings; the bound only keeps the number an integer CloudFormation takes. */
  maxBytesScannedLimitMb: 1024 ** 3,
  /**
   * Glue takes database names of up to 255 characters, but the stack names the Athena workgroup
   * after the database, and Athena allows workgroup names of [a-zA-Z0-9._-]{1,128}.
   */
  maxDatabaseNameLength: 128,
} as const;

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The stack name of an environment. */
export function stackName(envName: string): string {
  return `QualysS3-${envName}`;
}

/**
 * The Glue database of an environment's findings lake when analytics.databaseName is not set:
 * `qualys_s3_<envName>` in lowercase with underscores, the only form Athena names without quotes.
 * Environment names are letters, digits and hyphens, so distinct names map to distinct
 * databases except for names that differ in case only (the schema checks those).
 */
export function defaultDatabaseName(envName: string): string {
  return `qualys_s3_${envName.toLowerCase().replace(/-/g, '_')}`;
}

/** What a Glue database name, as Athena reads it unquoted, must look like. */
export const DATABASE_NAME = /^[a-z][a-z0-9_]*$/;

/** The characters AWS accepts in tag keys and values (IAM, S3 and Lambda alike). */
export const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** A URL as it may be shown: a user name or password written into it is masked. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
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

/**
 * The host a connector API lives on, on the platform of `gatewayUrl` (see
 * platformConnectorHost); undefined for a gateway that is no platform's (a test server), whose
 * connector host must be given.
 */
export function connectorApiUrl(api: 'connectors-v3' | 'cloudview', gatewayUrl: string): string | undefined {
  const origin = new URL(gatewayUrl).origin.toLowerCase();
  const platform = Object.keys(QUALYS_PLATFORMS).find((p) => QUALYS_PLATFORMS[p] === origin);
  return platform ? platformConnectorHost(api, platform) : undefined;
}

/**
 * Why a connector API host is unacceptable, or undefined when it is fine: a base URL (no path,
 * query or credentials) over https, or plain http to a loopback test server.
 */
export function connectorHostProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'it must be an absolute URL such as "https://qualysapi.qg2.apps.qualys.com"';
  }
  if (url.username || url.password) return 'it must not carry credentials; put them in the Secrets Manager secret';
  const problems: string[] = [];
  if (url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    problems.push("it must be the host's base URL, with no path, query or fragment");
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    problems.push('it must use https (plain http is allowed only for a loopback test server)');
  }
  return problems.length > 0 ? problems.join('; and ') : undefined;
}

/** Why a proxy URL is unacceptable, or undefined when it is fine. */
export function proxyUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'it must be an absolute URL such as "http://proxy.example.com:3128"';
  }
  if (url.username || url.password) {
    return 'it must not carry credentials (they would be written into the template); use a proxy that admits the handler by its network';
  }
  if (!['http:', 'https:'].includes(url.protocol)) return 'it must use http or https';
  if (url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    return "it must be the proxy's base URL, with no path, query or fragment";
  }
  return undefined;
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

/** Environments with equal keys are taken to use one Qualys subscription: same gateway, same (or no) label. */
export function subscriptionKey(env: { readonly gatewayUrl: string; readonly subscription?: string }): string {
  return `${new URL(env.gatewayUrl).origin} ${env.subscription ?? ''}`;
}
