/**
 * The contract between the construct that declares a Qualys CloudView / TotalCloud connector
 * (Connectors 3.0 or the CloudView REST API) and the handler that serves it: the resource type,
 * property and attribute names, and what one connector is. The S3 integration's contract is
 * ./contract.ts; both travel through the same Provider and handler bundle.
 */

export const CONNECTOR_RESOURCE_TYPE = 'Custom::QualysCloudViewConnector';

/** Which Qualys API registers the connector (qualys-connector-apis.md sections 1 and 2). */
export type ConnectorApiKind = 'connectors-v3' | 'cloudview';
export const CONNECTOR_APIS: readonly ConnectorApiKind[] = ['connectors-v3', 'cloudview'];

/**
 * The apps a connector runs: asset inventory (AI), cloud inventory (CI), cloud security
 * assessment (CSA). A CSPM connector runs all three.
 */
export type ConnectorModule = 'assetInventory' | 'cloudInventory' | 'securityAssessment';
export const CONNECTOR_MODULES: readonly ConnectorModule[] = ['assetInventory', 'cloudInventory', 'securityAssessment'];
/** The module names Connectors 3.0 uses (`ConnectorAppInfo.name`). */
export const CONNECTOR_APP_NAMES: Readonly<Record<ConnectorModule, 'AI' | 'CI' | 'CSA'>> = {
  assetInventory: 'AI',
  cloudInventory: 'CI',
  securityAssessment: 'CSA',
};

/** Names of the connector custom resource's properties. */
export const ConnectorProp = {
  Api: 'Api',
  /** The platform's API server (`https://qualysapi...`), where both connector APIs live. */
  ApiUrl: 'ApiUrl',
  CredentialsSecretId: 'CredentialsSecretId',
  ConnectorName: 'ConnectorName',
  Description: 'Description',
  RoleArn: 'RoleArn',
  /** Ours, unique per stack and stable for its life; the role's trust policy requires it. */
  ExternalId: 'ExternalId',
  AwsAccountId: 'AwsAccountId',
  /** The partition the account is in: `aws`, `aws-us-gov`, `aws-cn` (Qualys's isGovCloud / isChinaRegion). */
  Partition: 'Partition',
  /** JSON list of {@link ConnectorModule}. */
  Modules: 'Modules',
  PollingHours: 'PollingHours',
  Remediation: 'Remediation',
  AdoptExisting: 'AdoptExisting',
  /** How long to wait, at most, for Qualys to report that it could assume the role. */
  ValidationTimeoutSeconds: 'ValidationTimeoutSeconds',
} as const;

/** Names of the attributes the connector custom resource returns (`Fn::GetAtt`). */
export const ConnectorAttr = {
  ConnectorId: 'ConnectorId',
  ConnectorName: 'ConnectorName',
  /** The connector's state when the deploy finished (e.g. SUCCESS, FINISHED_SUCCESS). */
  State: 'State',
} as const;

/** One connector, as the handler reads it from the properties. */
export interface ConnectorSpec {
  readonly api: ConnectorApiKind;
  readonly apiUrl: string;
  readonly secretId: string;
  readonly name: string;
  readonly description: string;
  readonly roleArn: string;
  readonly externalId: string;
  readonly awsAccountId: string;
  readonly partition: string;
  readonly modules: readonly ConnectorModule[];
  readonly pollingHours: number;
  readonly remediation: boolean;
  readonly adoptExisting: boolean;
  readonly validationTimeoutMs: number;
}

/**
 * The Qualys platforms' API servers (Qualys's own hosts), where both connector APIs live. The
 * handler also deletes connectors on these when they are no longer pinned: a move to another
 * platform (as QUALYS_PLATFORM_GATEWAYS in ./contract.ts is for the S3 integration).
 */
export const QUALYS_PLATFORM_API_SERVERS: Readonly<Record<string, string>> = {
  US1: 'https://qualysapi.qualys.com',
  US2: 'https://qualysapi.qg2.apps.qualys.com',
  US3: 'https://qualysapi.qg3.apps.qualys.com',
  US4: 'https://qualysapi.qg4.apps.qualys.com',
  EU1: 'https://qualysapi.qualys.eu',
  EU2: 'https://qualysapi.qg2.apps.qualys.eu',
  EU3: 'https://qualysapi.qg3.apps.qualys.it',
  IN1: 'https://qualysapi.qg1.apps.qualys.in',
  CA1: 'https://qualysapi.qg1.apps.qualys.ca',
  AE1: 'https://qualysapi.qg1.apps.qualys.ae',
  UK1: 'https://qualysapi.qg1.apps.qualys.co.uk',
  AU1: 'https://qualysapi.qg1.apps.qualys.com.au',
  KSA1: 'https://qualysapi.qg1.apps.qualysksa.com',
};

/**
 * The host a connector API lives on, on a platform: Connectors 3.0 on its API server
 * (qualysapi.*), the CloudView REST API on the host the CloudView guide calls it on
 * (qualysguard.*, its l.758-771). One table, {@link QUALYS_PLATFORM_API_SERVERS}, for both.
 */
export function platformConnectorHost(api: ConnectorApiKind, platform: string): string | undefined {
  const server = QUALYS_PLATFORM_API_SERVERS[platform];
  if (!server) return undefined;
  return api === 'connectors-v3' ? server : server.replace('://qualysapi.', '://qualysguard.');
}

/** Every Qualys host a connector API may live on (both APIs, every platform). */
export const QUALYS_CONNECTOR_HOSTS: readonly string[] = Object.keys(QUALYS_PLATFORM_API_SERVERS).flatMap((p) =>
  CONNECTOR_APIS.map((api) => platformConnectorHost(api, p) as string),
);
