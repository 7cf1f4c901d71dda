/**
 * The custom resource's lifecycle: create, update and delete of one Qualys S3 integration
 * (VM or PC), as plain functions over injected clients.
 *
 * Create:  read the secret, authenticate, register (or adopt an existing integration of the
 *          same name), write its external ID into the role's trust policy, validate until IAM
 *          has propagated, and for PC bring CIPS to the configured state. A failed create
 *          deregisters what it registered before it reports the failure, because the Provider
 *          framework sends no Delete after a failed create.
 * Update:  PUT the changed settings in place (same integration ID), regenerate the external ID
 *          when asked, restore the external ID whenever CloudFormation rewrote the trust
 *          policy, validate again, and diff the CIPS policy list. An update that needs
 *          nothing from Qualys makes no Qualys call.
 * Delete:  DELETE the integration (404 counts as done) and remove its CIPS policies.
 */
import { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  Attr,
  CipsSettings,
  INTEGRATION_KINDS,
  IntegrationKind,
  MAX_CIPS_POLICIES,
  MAX_INTEGRATION_NAME_LENGTH,
  PcSettings,
  Prop,
  VmSettings,
} from './contract';
import { RoleTrustStore, SecretReader, StackStatusReader, readCredentials } from './aws';
import {
  AdoptionRefusedError,
  IntegrationError,
  PropertiesError,
  QualysApiError,
  errorMessage,
} from './errors';
import { HttpTransport } from './http';
import { Logger } from './log';
import { IntegrationDetails, QualysClient } from './qualys-client';
import { Clock, withRetries } from './retry';
import { externalIdsFor, samePolicy, withExternalIds } from './trust-policy';

export interface LifecycleDeps {
  readonly secrets: SecretReader;
  readonly trust: RoleTrustStore;
  readonly stacks: StackStatusReader;
  readonly transport: HttpTransport;
  readonly log: Logger;
  readonly clock: Clock;
  /** Epoch ms by which all work, cleanup included, must be done. */
  readonly deadline: number;
  /** @default - the Lambda-wide cache, reused while the Lambda is warm */
  readonly tokenCache?: ConstructorParameters<typeof QualysClient>[0]['tokenCache'];
  /** Wait before validation attempt n+1, in ms. @default VALIDATION_SCHEDULE_MS */
  readonly validationDelayMs?: (attempt: number) => number;
}

export interface LifecycleResult {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string>;
}

/** What one custom resource manages, read from its properties. */
export interface IntegrationSpec {
  readonly kind: IntegrationKind;
  readonly gatewayUrl: string;
  readonly secretId: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly principalArn: string;
  readonly bucketName: string;
  readonly bucketRegion: string;
  readonly name: string;
  readonly defaultName: string;
  readonly settings: VmSettings | PcSettings;
  readonly cips: CipsSettings;
  readonly rotation: string;
  readonly adoptExisting: boolean;
  readonly validationTimeoutMs: number;
  readonly trustFingerprint: string;
}

/**
 * Waits between validation attempts. IAM usually propagates a trust-policy change within
 * seconds, rarely more than a minute: the first attempt goes at once (a fast propagation
 * costs nothing), the next after 7 s, and then the waits grow slowly, so that attempts land
 * at about 7, 15, 24 and 34 s: a propagation of 6 s costs 2 calls, one of 30 s costs 5, and
 * neither overshoots by more than a few seconds. Qualys rate-limits per subscription, so
 * calls matter as much as seconds.
 */
export const VALIDATION_SCHEDULE_MS = [7_000, 8_000, 9_000, 10_000, 12_000, 15_000, 20_000, 30_000];
const scheduledDelay = (attempt: number): number =>
  VALIDATION_SCHEDULE_MS[Math.min(attempt - 1, VALIDATION_SCHEDULE_MS.length - 1)];

/**
 * Validation answers that mean "not yet": Qualys could not assume the role or write the test
 * file, which is what IAM propagation looks like from its side.
 */
const VALIDATION_NOT_YET = new Set([400, 409, 412, 422, 424]);

const ADOPTED_SUFFIX = ':adopted';

export async function onEvent(event: CloudFormationCustomResourceEvent, deps: LifecycleDeps): Promise<LifecycleResult> {
  if (event.RequestType === 'Delete' && !parsePhysicalId(event.PhysicalResourceId)) {
    // Nothing was ever registered under this ID: answer before anything else can fail.
    deps.log.info('no integration was registered under this physical ID; nothing to delete', {
      physicalId: event.PhysicalResourceId,
    });
    return { PhysicalResourceId: event.PhysicalResourceId, Data: {} };
  }
  const spec = parseProperties(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      return create(spec, deps);
    case 'Update':
      return update(parseProperties(event.OldResourceProperties), spec, event.PhysicalResourceId, deps);
    case 'Delete':
      await remove(spec, event.PhysicalResourceId, event.StackId, deps);
      return { PhysicalResourceId: event.PhysicalResourceId, Data: {} };
  }
}

// ---- create -------------------------------------------------------------------------------

async function create(spec: IntegrationSpec, deps: LifecycleDeps): Promise<LifecycleResult> {
  const qualys = await connect(spec, deps);
  const existing = (await qualys.listIntegrations(spec.kind)).find((i) => i.name === spec.name);
  let details: IntegrationDetails;
  let registered = false;
  let foreign = false;
  if (existing) {
    foreign = !belongsToThisStack(existing, spec);
    if (foreign && !spec.adoptExisting) {
      throw new AdoptionRefusedError(
        `A ${spec.kind.toUpperCase()} integration named "${spec.name}" already exists in Qualys (ID ${existing.integrationId}, ` +
          `bucket ${existing.bucketName ?? '?'}, role ${existing.roleArn ?? '?'}) and does not point at this stack's bucket or role. ` +
          `To take it over, set "${spec.kind}.adoptExisting": true for this environment; otherwise choose another "${spec.kind}.name".`,
      );
    }
    deps.log.info('adopting the existing integration', { integrationId: existing.integrationId, name: spec.name, foreign });
    details = await adopt(qualys, spec, existing, deps);
  } else {
    details = await qualys.register(spec.kind, integrationBody(spec));
    registered = true;
    deps.log.info('registered', { kind: spec.kind, integrationId: details.integrationId, name: spec.name });
  }

  const id = details.integrationId;
  const cipsAdded: number[] = [];
  try {
    const externalId = details.externalId ?? (await readExternalId(qualys, spec, id));
    await applyExternalId(spec, externalId, deps);
    await validateUntilReady(qualys, spec, id, deps);
    if (spec.kind === 'pc') await syncCips(qualys, spec.cips, [], deps, cipsAdded);
  } catch (error) {
    if (!registered) throw error;
    throw await undoRegistration(qualys, spec, id, cipsAdded, error, deps);
  }
  return result(spec, id, foreign);
}

/** An integration of the configured name is ours when it carries our default name or points at our role or bucket. */
function belongsToThisStack(existing: IntegrationDetails, spec: IntegrationSpec): boolean {
  return existing.name === spec.defaultName || existing.roleArn === spec.roleArn || existing.bucketName === spec.bucketName;
}

async function adopt(
  qualys: QualysClient,
  spec: IntegrationSpec,
  existing: IntegrationDetails,
  deps: LifecycleDeps,
): Promise<IntegrationDetails> {
  const updated = await qualys.update(spec.kind, existing.integrationId, { ...integrationBody(spec), regenerateExternalId: false });
  if (!updated) {
    deps.log.warn('the integration to adopt vanished; registering a new one', { integrationId: existing.integrationId });
    return qualys.register(spec.kind, integrationBody(spec));
  }
  const details = await qualys.getIntegration(spec.kind, existing.integrationId);
  if (!details) throw new IntegrationError(`Integration ${existing.integrationId} vanished while it was being adopted; deploy again`);
  return details;
}

/**
 * Deregisters an integration this create registered, so that a failed create leaves nothing
 * behind in Qualys, and returns the error to report.
 */
async function undoRegistration(
  qualys: QualysClient,
  spec: IntegrationSpec,
  id: string,
  cipsAdded: readonly number[],
  cause: unknown,
  deps: LifecycleDeps,
): Promise<Error> {
  deps.log.warn('create failed; deregistering the integration it registered', { integrationId: id, error: errorMessage(cause) });
  const leftovers: string[] = [];
  try {
    await qualys.delete(spec.kind, id);
  } catch (error) {
    leftovers.push(`integration ${id} could not be deregistered (${errorMessage(error)}); delete it in Qualys by hand`);
  }
  if (cipsAdded.length > 0) {
    try {
      await qualys.removeCipsPolicies(cipsAdded);
    } catch (error) {
      leftovers.push(`CIPS policies ${cipsAdded.join(', ')} could not be removed (${errorMessage(error)})`);
    }
  }
  const tail = leftovers.length === 0 ? ` The ${spec.kind.toUpperCase()} integration it had registered (ID ${id}) was deregistered again.` : ` Also: ${leftovers.join('; ')}.`;
  return new IntegrationError(`${errorMessage(cause)}${tail}`, { cause });
}

// ---- update -------------------------------------------------------------------------------

async function update(
  old: IntegrationSpec,
  spec: IntegrationSpec,
  physicalId: string,
  deps: LifecycleDeps,
): Promise<LifecycleResult> {
  const current = parsePhysicalId(physicalId);
  if (!current || current.kind !== spec.kind || old.gatewayUrl !== spec.gatewayUrl) {
    // Another gateway is another Qualys platform: register there. CloudFormation then sends
    // a Delete for the old physical ID, with the old properties, which deregisters the old one.
    deps.log.info('replacing the integration', { physicalId, gatewayChanged: old.gatewayUrl !== spec.gatewayUrl });
    return create(spec, deps);
  }
  const id = current.id;
  const settingsChanged = JSON.stringify(integrationBody(old)) !== JSON.stringify(integrationBody(spec));
  const rotate = old.rotation !== spec.rotation;
  const trustReset =
    old.trustFingerprint !== spec.trustFingerprint || old.roleName !== spec.roleName || old.principalArn !== spec.principalArn;
  const cipsChanged = spec.kind === 'pc' && JSON.stringify(old.cips) !== JSON.stringify(spec.cips);
  if (!settingsChanged && !rotate && !trustReset && !cipsChanged) {
    deps.log.info('nothing to change in Qualys', { integrationId: id });
    return result(spec, id, current.foreign);
  }

  const qualys = await connect(spec, deps);
  if (settingsChanged || rotate) {
    const found = await qualys.update(spec.kind, id, { ...integrationBody(spec), regenerateExternalId: rotate });
    if (!found) return reregister(spec, id, deps);
    deps.log.info('updated', { integrationId: id, settingsChanged, rotatedExternalId: rotate });
  }
  if (settingsChanged || rotate || trustReset) {
    // The PUT response carries no externalId: read it back.
    const details = await qualys.getIntegration(spec.kind, id);
    if (!details) return reregister(spec, id, deps);
    const externalId = requireExternalId(details, spec);
    const trustChanged = await applyExternalId(spec, externalId, deps);
    if (settingsChanged || rotate || trustChanged || details.integrationValidated === false) {
      await validateUntilReady(qualys, spec, id, deps);
    }
  }
  if (cipsChanged) await syncCips(qualys, spec.cips, old.cips.policies, deps);
  return result(spec, id, current.foreign);
}

async function reregister(spec: IntegrationSpec, goneId: string, deps: LifecycleDeps): Promise<LifecycleResult> {
  deps.log.warn('the integration no longer exists in Qualys (deleted outside this stack); registering it again', {
    integrationId: goneId,
  });
  return create(spec, deps);
}

// ---- delete -------------------------------------------------------------------------------

async function remove(spec: IntegrationSpec, physicalId: string, stackId: string, deps: LifecycleDeps): Promise<void> {
  const current = parsePhysicalId(physicalId);
  if (!current) return;
  if (current.foreign) {
    // An adopted integration existed before this stack: a rollback must not delete it.
    const status = await deps.stacks.status(stackId);
    if (status === undefined || status.includes('ROLLBACK')) {
      deps.log.warn('leaving the adopted integration in place: the stack is rolling back (or its status is unknown)', {
        integrationId: current.id,
        stackStatus: status ?? 'unknown',
      });
      return;
    }
  }
  const qualys = await connect(spec, deps);
  const outcome = await qualys.delete(spec.kind, current.id);
  deps.log.info(outcome === 'deleted' ? 'deleted' : 'already gone from Qualys', { integrationId: current.id });
  if (spec.kind === 'pc' && spec.cips.policies.length > 0) await releaseCipsPolicies(qualys, spec, current.id, deps);
}

/**
 * CIPS policies belong to the whole subscription. They are removed only when no other PC
 * integration is left to use them: another environment may need the same policies.
 */
async function releaseCipsPolicies(qualys: QualysClient, spec: IntegrationSpec, id: string, deps: LifecycleDeps): Promise<void> {
  const others = (await qualys.listIntegrations('pc')).filter((i) => i.integrationId !== id);
  if (others.length > 0) {
    deps.log.warn('keeping the CIPS policies: other PC integrations of this subscription may use them', {
      policies: spec.cips.policies,
      otherIntegrations: others.map((o) => o.name ?? o.integrationId),
    });
    return;
  }
  const present = new Set((await qualys.getCipsConfig()).policies);
  const toRemove = spec.cips.policies.filter((p) => present.has(p));
  if (toRemove.length > 0) await qualys.removeCipsPolicies(toRemove);
  deps.log.info('removed CIPS policies', { policies: toRemove });
}

// ---- shared steps -------------------------------------------------------------------------

async function connect(spec: IntegrationSpec, deps: LifecycleDeps): Promise<QualysClient> {
  const credentials = await readCredentials(deps.secrets, spec.secretId);
  return new QualysClient({
    gatewayUrl: spec.gatewayUrl,
    credentials,
    credentialsSource: `secret "${spec.secretId}"`,
    transport: deps.transport,
    log: deps.log,
    clock: deps.clock,
    deadline: deps.deadline,
    tokenCache: deps.tokenCache,
  });
}

async function readExternalId(qualys: QualysClient, spec: IntegrationSpec, id: string): Promise<string> {
  const details = await qualys.getIntegration(spec.kind, id);
  if (!details) throw new IntegrationError(`Integration ${id} vanished right after it was registered; deploy again`);
  return requireExternalId(details, spec);
}

function requireExternalId(details: IntegrationDetails, spec: IntegrationSpec): string {
  if (typeof details.externalId !== 'string' || details.externalId.length === 0) {
    throw new IntegrationError(
      `Qualys reported no externalId for ${spec.kind.toUpperCase()} integration ${details.integrationId}; ` +
        'without it the role cannot be opened to Qualys safely. Contact Qualys Support.',
    );
  }
  return details.externalId;
}

/** Makes the role trust Qualys with exactly this external ID; true when the policy changed. */
async function applyExternalId(spec: IntegrationSpec, externalId: string, deps: LifecycleDeps): Promise<boolean> {
  const policy = await deps.trust.read(spec.roleName);
  const next = withExternalIds(policy, spec.principalArn, [externalId]);
  if (samePolicy(policy, next)) return false;
  await deps.trust.write(spec.roleName, next);
  deps.log.info('trust policy updated', {
    roleName: spec.roleName,
    replacedExternalIds: externalIdsFor(policy, spec.principalArn).length,
  });
  return true;
}

async function validateUntilReady(qualys: QualysClient, spec: IntegrationSpec, id: string, deps: LifecycleDeps): Promise<void> {
  const started = deps.clock.now();
  const deadline = Math.min(started + spec.validationTimeoutMs, deps.deadline);
  let attempts = 0;
  try {
    const message = await withRetries(
      {
        maxAttempts: Number.POSITIVE_INFINITY,
        baseDelayMs: 0,
        maxDelayMs: 0,
        deadline,
        clock: deps.clock,
        delayForAttempt: deps.validationDelayMs ?? scheduledDelay,
        finalAttemptAtDeadline: true,
        isRetryable: (e) => e instanceof QualysApiError && VALIDATION_NOT_YET.has(e.status),
        onRetry: (e, attempt, delayMs) =>
          deps.log.info('not validated yet; waiting for IAM to propagate', { attempt, delayMs, answer: errorMessage(e) }),
      },
      () => {
        attempts++;
        return qualys.validate(spec.kind, id);
      },
    );
    deps.log.info('validated', { integrationId: id, attempts, ms: deps.clock.now() - started, message });
  } catch (error) {
    if (!(error instanceof QualysApiError && VALIDATION_NOT_YET.has(error.status))) throw error;
    const seconds = Math.round((deps.clock.now() - started) / 1000);
    throw new IntegrationError(
      `Validation of ${spec.kind.toUpperCase()} integration ${id} did not succeed within ${seconds} s (${attempts} attempts); ` +
        `Qualys's last answer: HTTP ${error.status} ${error.qualysMessage}. Check that role ${spec.roleArn} trusts ` +
        `${spec.principalArn} with the integration's external ID and may put objects into bucket ${spec.bucketName}; ` +
        'if IAM is slow today, raise "validationTimeoutSeconds" and deploy again.',
      { cause: error },
    );
  }
}

/**
 * Brings the subscription's CIPS policies and filter to the configured state. Adds what is
 * missing, removes what this resource managed before and no longer wants, and creates or
 * updates the filter. Records the policies it added in `added` as soon as they are added, so
 * that a failure later on can remove them again.
 */
async function syncCips(
  qualys: QualysClient,
  desired: CipsSettings,
  previouslyManaged: readonly number[],
  deps: LifecycleDeps,
  added: number[] = [],
): Promise<void> {
  if (desired.policies.length === 0 && previouslyManaged.length === 0 && !desired.filter) return;
  const current = await qualys.getCipsConfig();
  const present = new Set(current.policies);
  const toAdd = desired.policies.filter((p) => !present.has(p));
  const toRemove = previouslyManaged.filter((p) => present.has(p) && !desired.policies.includes(p));
  const total = present.size + toAdd.length - toRemove.length;
  if (total > MAX_CIPS_POLICIES) {
    throw new IntegrationError(
      `CIPS would hold ${total} policies after adding ${toAdd.join(', ')}; Qualys allows at most ${MAX_CIPS_POLICIES} ` +
        'per subscription. Remove policies from "pc.policies" or from CIPS.',
    );
  }
  if (toRemove.length > 0) await qualys.removeCipsPolicies(toRemove);
  if (toAdd.length > 0) {
    await qualys.addCipsPolicies(toAdd);
    added.push(...toAdd);
  }
  if (desired.filter) {
    if (!current.filter) await qualys.createCipsFilter(desired.filter);
    else if (JSON.stringify(sortKeys(current.filter)) !== JSON.stringify(sortKeys(desired.filter))) {
      await qualys.updateCipsFilter(desired.filter);
    }
  }
  deps.log.info('CIPS in the configured state', { added: toAdd, removed: toRemove, filter: desired.filter ? 'managed' : 'untouched' });
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** The register/update body, in the guide's field names. */
function integrationBody(spec: IntegrationSpec): Record<string, unknown> & { name: string } {
  return {
    name: spec.name,
    bucketName: spec.bucketName,
    bucketRegion: spec.bucketRegion,
    roleArn: spec.roleArn,
    ...spec.settings,
  };
}

function result(spec: IntegrationSpec, id: string, foreign: boolean): LifecycleResult {
  return {
    PhysicalResourceId: `${spec.kind}:${id}${foreign ? ADOPTED_SUFFIX : ''}`,
    Data: { [Attr.IntegrationId]: id, [Attr.IntegrationName]: spec.name },
  };
}

export function parsePhysicalId(physicalId: string | undefined): { kind: IntegrationKind; id: string; foreign: boolean } | undefined {
  const match = /^(vm|pc):([^:]+)(:adopted)?$/.exec(physicalId ?? '');
  if (!match) return undefined;
  return { kind: match[1] as IntegrationKind, id: match[2], foreign: match[3] !== undefined };
}

// ---- properties ---------------------------------------------------------------------------

export function parseProperties(props: Record<string, unknown> | undefined): IntegrationSpec {
  const p = props ?? {};
  const problems: string[] = [];
  const str = (key: string): string => {
    const value = p[key];
    if (typeof value !== 'string' || value.length === 0) {
      problems.push(`"${key}" is missing`);
      return '';
    }
    return value;
  };
  const kind = str(Prop.Kind) as IntegrationKind;
  if (kind && !INTEGRATION_KINDS.includes(kind)) problems.push(`"${Prop.Kind}" must be vm or pc, got "${kind}"`);
  const name = str(Prop.IntegrationName);
  if (name.length > MAX_INTEGRATION_NAME_LENGTH) {
    problems.push(
      `the integration name "${name}" is ${name.length} characters; Qualys allows ${MAX_INTEGRATION_NAME_LENGTH}: set "${kind}.name" in the configuration`,
    );
  }
  const settings = json(p[Prop.Settings], Prop.Settings, problems) as VmSettings | PcSettings;
  const cips = (p[Prop.Cips] === undefined ? { policies: [] } : json(p[Prop.Cips], Prop.Cips, problems)) as CipsSettings;
  const timeout = Number(p[Prop.ValidationTimeoutSeconds] ?? 600);
  if (!Number.isFinite(timeout) || timeout <= 0) problems.push(`"${Prop.ValidationTimeoutSeconds}" must be a positive number`);
  const spec: IntegrationSpec = {
    kind,
    gatewayUrl: str(Prop.GatewayUrl),
    secretId: str(Prop.CredentialsSecretId),
    roleArn: str(Prop.RoleArn),
    roleName: str(Prop.RoleName),
    principalArn: str(Prop.QualysPrincipalArn),
    bucketName: str(Prop.BucketName),
    bucketRegion: str(Prop.BucketRegion),
    name,
    defaultName: typeof p[Prop.DefaultIntegrationName] === 'string' ? (p[Prop.DefaultIntegrationName] as string) : '',
    settings,
    cips: { policies: Array.isArray(cips?.policies) ? cips.policies : [], filter: cips?.filter },
    rotation: typeof p[Prop.ExternalIdRotation] === 'string' ? (p[Prop.ExternalIdRotation] as string) : '',
    adoptExisting: p[Prop.AdoptExisting] === 'true' || p[Prop.AdoptExisting] === true,
    validationTimeoutMs: timeout * 1000,
    trustFingerprint: typeof p[Prop.TrustPolicyFingerprint] === 'string' ? (p[Prop.TrustPolicyFingerprint] as string) : '',
  };
  if (problems.length > 0) {
    throw new PropertiesError(`The custom resource's properties are not as the construct sends them: ${problems.join('; ')}`);
  }
  return spec;
}

function json(value: unknown, key: string, problems: string[]): unknown {
  if (typeof value !== 'string') {
    problems.push(`"${key}" is missing`);
    return {};
  }
  try {
    return JSON.parse(value);
  } catch {
    problems.push(`"${key}" is not JSON`);
    return {};
  }
}
