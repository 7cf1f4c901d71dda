/**
 * The contract between the CDK construct that declares the custom resource and the Lambda
 * that serves it. Both sides import this module, so the compiler checks that they agree.
 *
 * CloudFormation hands every custom-resource property to the Lambda as a string, so
 * structured values travel as JSON strings and booleans as "true"/"false".
 */

export const RESOURCE_TYPE = 'Custom::QualysS3Integration';

export type IntegrationKind = 'vm' | 'pc';
export const INTEGRATION_KINDS: readonly IntegrationKind[] = ['vm', 'pc'];

/** Names of the custom resource's properties. */
export const Prop = {
  Kind: 'Kind',
  GatewayUrl: 'GatewayUrl',
  CredentialsSecretId: 'CredentialsSecretId',
  RoleArn: 'RoleArn',
  RoleName: 'RoleName',
  QualysPrincipalArn: 'QualysPrincipalArn',
  BucketName: 'BucketName',
  BucketRegion: 'BucketRegion',
  IntegrationName: 'IntegrationName',
  DefaultIntegrationName: 'DefaultIntegrationName',
  /** JSON of {@link VmSettings} or {@link PcSettings} (without the deploy-time values above). */
  Settings: 'Settings',
  /** JSON of {@link CipsSettings}; PC only. */
  Cips: 'Cips',
  ExternalIdRotation: 'ExternalIdRotation',
  AdoptExisting: 'AdoptExisting',
  ValidationTimeoutSeconds: 'ValidationTimeoutSeconds',
  /**
   * A fingerprint of the role's synthesized trust policy. When CloudFormation rewrites the
   * trust policy (and so drops the external ID the Lambda injected), this value changes too,
   * which makes CloudFormation send the custom resource an Update that puts it back.
   */
  TrustPolicyFingerprint: 'TrustPolicyFingerprint',
} as const;

/** Names of the attributes the custom resource returns (`Fn::GetAtt`). */
export const Attr = {
  IntegrationId: 'IntegrationId',
  IntegrationName: 'IntegrationName',
} as const;

/** The VM integration's settings, as the guide's register/update body names them. */
export interface VmSettings {
  readonly minSeverity: number;
  readonly baseCategory: 'IG' | 'Potential' | 'Confirmed';
  readonly resultSectionNeeded: boolean;
  readonly sendVulnInfo: boolean;
  readonly compressData: boolean;
  readonly sendAlerts: boolean;
  readonly errorEmails: readonly string[];
}

/** The PC integration's settings, as the guide's register/update body names them. */
export interface PcSettings {
  readonly compressData: boolean;
}

export interface CipsFilter {
  readonly includeEvidenceData: boolean;
  readonly includeFailPosture: boolean;
  readonly includePassPosture: boolean;
  readonly includeErrorPosture: boolean;
}

/** What the PC custom resource manages in CIPS (subscription-wide in Qualys). */
export interface CipsSettings {
  readonly policies: readonly number[];
  /** Absent: the subscription's filter is left as it is. */
  readonly filter?: CipsFilter;
}

/** The trust-policy external ID a role carries before any integration is registered. */
export const PENDING_EXTERNAL_ID_PREFIX = 'qualys-s3-pending-registration';

/** The Qualys API limit on integration names. */
export const MAX_INTEGRATION_NAME_LENGTH = 50;

/** The Qualys CIPS limit on policies per subscription. */
export const MAX_CIPS_POLICIES = 100;

/** The role in Qualys's AWS account that assumes customer roles. */
export const QUALYS_ASSUMING_ROLE_NAME = 'QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE';

export function qualysPrincipalArn(qualysAwsAccountId: string): string {
  return `arn:aws:iam::${qualysAwsAccountId}:role/${QUALYS_ASSUMING_ROLE_NAME}`;
}

/** Prefix of every integration name this app generates; lets operators spot them. */
export const DEFAULT_NAME_PREFIX = 'qs3';

/**
 * The default integration name: unique per environment, kind, account and region, so that
 * several environments sharing one Qualys subscription never collide.
 */
export function defaultIntegrationName(
  envName: string,
  kind: IntegrationKind,
  account: string,
  region: string,
): string {
  return `${DEFAULT_NAME_PREFIX}-${envName}-${kind}-${account}-${region}`;
}

/**
 * The handler function's environment variable that pins the Qualys gateway(s) it may send
 * credentials to: origins (https://host[:port]) separated by commas, set by the construct at
 * synth. An event naming any other gateway is refused before the secret is read.
 */
export const ALLOWED_GATEWAYS_ENV = 'QUALYS_S3_ALLOWED_GATEWAYS';

/** Loopback hosts, the only ones plain http may reach (the tests' simulator). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The Qualys platforms and their API gateway URLs (Qualys's own hosts). The handler also
 * deregisters on these when they are no longer pinned: a move to another platform.
 */
export const QUALYS_PLATFORM_GATEWAYS: Readonly<Record<string, string>> = {
  US1: 'https://gateway.qg1.apps.qualys.com',
  US2: 'https://gateway.qg2.apps.qualys.com',
  US3: 'https://gateway.qg3.apps.qualys.com',
  US4: 'https://gateway.qg4.apps.qualys.com',
  EU1: 'https://gateway.qg1.apps.qualys.eu',
  EU2: 'https://gateway.qg2.apps.qualys.eu',
  EU3: 'https://gateway.qg3.apps.qualys.it',
  IN1: 'https://gateway.qg1.apps.qualys.in',
  CA1: 'https://gateway.qg1.apps.qualys.ca',
  AE1: 'https://gateway.qg1.apps.qualys.ae',
  UK1: 'https://gateway.qg1.apps.qualys.co.uk',
  AU1: 'https://gateway.qg1.apps.qualys.com.au',
  KSA1: 'https://gateway.qg1.apps.qualysksa.com',
};
