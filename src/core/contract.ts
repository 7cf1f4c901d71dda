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
/** The connector name an environment gets when it names none: one connector per account. */
export function defaultConnectorName(envName: string, account: string): string {
  return `qs3-${envName}-cloudview-${account}`;
}

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

/**
 * The handler's log events, by name, with the message each line carries. Every line the handler
 * writes names its event in `event`; whatever reads the logs (the CLI's progress output,
 * `rehearse`) matches on these names, never on the message texts, which may be reworded.
 */
export const LOG_EVENTS = {
  'request.received': 'event',
  'request.done': 'done',
  'request.failed': 'failed',
  'delete.gateway-not-pinned': 'not deregistering: the integration is on a gateway this function is not pinned to',
  'qualys.call': 'qualys call',
  'qualys.retrying': 'retrying',
  'qualys.reading': 'qualys reading',
  'register.went-through': 'the failed registration had gone through; using it',
  'cips.already-present': 'CIPS says policies are there already',
  'delete.nothing-registered': 'no integration was registered under this physical ID; nothing to delete',
  'adopt.existing': 'adopting the existing integration',
  'register.done': 'registered',
  'adopt.vanished': 'the integration to adopt vanished; registering a new one',
  'adopt.restored': 'put the adopted integration back as it was',
  'adopt.restore-gone': 'the adopted integration is gone; nothing to put back',
  'create.undoing': 'create failed; undoing it',
  'update.replacing': 'replacing the integration',
  'update.nothing-to-change': 'nothing to change in Qualys',
  'update.done': 'updated',
  'rollback.not-validated': 'the rollback could not validate the integration; run "qualys-s3 status" and deploy again',
  'rotate.external-id-missing':
    'Qualys did not report the regenerated external ID; replacing the integration to get one',
  'update.stack-status-unknown': 'could not read the stack status; treating this update as a forward one',
  'update.gone-registering-again':
    'the integration no longer exists in Qualys (deleted outside this stack); registering it again',
  'delete.keeping-adopted':
    'leaving the adopted integration in place: the stack is rolling back (or its status is unknown)',
  'delete.done': 'deleted',
  'delete.already-gone': 'already gone from Qualys',
  'cips.keep-unrecorded': 'keeping the CIPS policies: this resource did not record which ones it added',
  'cips.keep-shared': 'keeping the CIPS policies: other PC integrations of this subscription may use them',
  'cips.keep-unreadable': 'keeping the CIPS policies: the CIPS configuration could not be read',
  'cips.removed': 'removed CIPS policies',
  'cips.pc-list-unreadable': 'the PC integration list could not be read; assuming others may use the CIPS policies',
  'external-id.from-trust-policy': 'Qualys did not report the external ID; using the one the role already trusts',
  'external-id.from-create-record': 'Qualys did not report the external ID; using the one recorded at create',
  'external-id.from-regeneration':
    'Qualys did not report the external ID; regenerated it and took the new one from the answer',
  'trust.updated': 'trust policy updated',
  'validate.waiting': 'not validated yet; waiting for IAM to propagate',
  'validate.done': 'validated',
  'cips.sync-unreadable': 'the CIPS configuration could not be read: added the configured policies, removed none',
  'cips.keep-dropped-shared': 'keeping dropped CIPS policies: other PC integrations of this subscription may use them',
  'cips.in-configured-state': 'CIPS in the configured state',
  'record.too-long':
    'the create record does not fit the physical ID; this resource will remove no CIPS policy and put nothing back',
  'log.listener-failed': 'a log listener threw; the event was written and the other listeners still heard it',
  // The CloudView / TotalCloud connector (connector-contract.ts).
  'connector.create-went-through': 'the connector create that failed had gone through; using the connector it made',
  'connector.created': 'connector created',
  'connector.adopting': 'adopting the existing connector',
  'connector.adopt-vanished': 'the connector to adopt vanished; creating a new one',
  'connector.other-for-account': 'another connector for this AWS account exists in Qualys; it is left alone',
  'connector.run-requested': 'asked Qualys to run the connector',
  'connector.run-refused': "Qualys did not start a run now; waiting on the connector's state",
  'connector.waiting': 'Qualys has not reported that it could assume the role yet; waiting',
  'connector.role-assumed': 'Qualys could assume the role',
  'connector.wait-unconfirmed':
    'the first run had not finished within the wait, and Qualys reported no assume-role error; taking the connector as working',
  'connector.create-undoing': 'connector create failed; undoing it',
  'connector.updated': 'connector updated in place',
  'connector.nothing-to-change': 'nothing to change in the connector; no call made',
  'connector.replacing': 'creating a new connector; CloudFormation deletes the old one',
  'connector.update-gone-creating':
    'the connector no longer exists in Qualys (deleted outside this stack); creating it again',
  'connector.deleted': 'connector deleted',
  'connector.already-gone': 'connector already gone from Qualys',
  'connector.nothing-registered': 'no connector was created under this physical ID; nothing to delete',
  'connector.keeping-adopted':
    'leaving the adopted connector in place: the stack is rolling back (or its status is unknown)',
  'connector.restored': 'put the adopted connector back as it was',
  'connector.restore-gone': 'the adopted connector is gone; nothing to put back',
  // The findings lake's normalizer (src/handler/normalizer-batch.ts): one line per object, one per batch.
  'findings.object': 'source object handled',
  'findings.object-failed': 'source object not handled; its message will be delivered again',
  'findings.object-gone': 'the source object no longer exists; nothing to normalize',
  'findings.ignored': 'not a raw findings object of this stack; ignored',
  'findings.test-event': 'S3 test event (sent when the notification was configured); acknowledged',
  'findings.unreadable-message':
    'the message is not an S3 event notification; failing it so that the dead-letter queue keeps it',
  'findings.deferred': 'too little time left in this invocation; the message will be delivered again',
  'findings.batch': 'batch done',
} as const;

export type LogEventName = keyof typeof LOG_EVENTS;

/**
 * The fields of the events other parts of the program read (the CLI's progress, `rehearse`'s
 * narration). The Logger's signature holds the code that logs them to these names, so a
 * renamed field fails to compile instead of silently blanking a progress line. Other events'
 * fields are free-form.
 */
export interface LogEventFields {
  'qualys.call': { readonly method: string; readonly path: string; readonly status: number; readonly ms: number };
  'qualys.retrying': {
    readonly step: string;
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: string;
  };
  'qualys.reading': { readonly topic: string; readonly reading: string };
  'validate.waiting': { readonly attempt: number; readonly delayMs: number; readonly answer: string };
  'connector.waiting': {
    readonly connectorId: string;
    readonly attempt: number;
    readonly delayMs: number;
    readonly state: string;
    readonly answer: string;
  };
}
