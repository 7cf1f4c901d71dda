/**
 * Applying a plan: each step with the clients passed in, with the retries, the validation
 * schedule, the undo of a failed create and the error wording of the lifecycle. The steps read
 * what they need right before the write it guards (see plan.ts); where that reading shows the
 * world is not as planned (the integration vanished), the step says so and the lifecycle
 * plans again.
 */
import {
  Attr,
  type CipsFilter,
  type CipsSettings,
  type IntegrationKind,
  MAX_CIPS_POLICIES,
  PENDING_EXTERNAL_ID_PREFIX,
  type PcSettings,
  type VmSettings,
} from '../contract';
import { type RoleTrustStore, type SecretReader, type StackStatusReader, awsCallSignal, readCredentials } from '../aws';
import { IntegrationError, QualysApiError, UnreadableAnswerError, errorMessage } from '../errors';
import type { HttpTransport } from '../qualys/transport';
import type { Logger } from '../log';
import { type IntegrationDetails, QualysClient } from '../qualys/client';
import { type Clock, withRetries } from '../retry';
import { type PolicyDocument, externalIdsFor, samePolicy, withExternalIds } from '../trust-policy';
import { type CreateRecord, type PhysicalId, encodePhysicalId } from './physical-id';
import {
  type Observed,
  type Step,
  type StepName,
  integrationBody,
  propertyChanges,
  rollingBack,
  sortKeys,
} from './plan';
import type { IntegrationSpec } from '../resource-properties';

export interface LifecycleDeps {
  readonly secrets: SecretReader;
  readonly trust: RoleTrustStore;
  readonly stacks: StackStatusReader;
  readonly transport: HttpTransport;
  readonly log: Logger;
  readonly clock: Clock;
  /** Epoch ms after which no new step or retry of the work starts. */
  readonly deadline: number;
  /**
   * Epoch ms by which undoing a failed create must be done: the time kept back after
   * `deadline` is for this, so that a rate-limited cleanup can still wait and retry.
   * @default - `deadline` plus CLEANUP_WINDOW_MS
   */
  readonly cleanupDeadline?: number;
  /** @default - the Lambda-wide cache, reused while the Lambda is warm */
  readonly tokenCache?: ConstructorParameters<typeof QualysClient>[0]['tokenCache'];
  /** Wait before validation attempt n+1, in ms. @default VALIDATION_SCHEDULE_MS */
  readonly validationDelayMs?: (attempt: number) => number;
}

export interface LifecycleResult {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string>;
}

/**
 * When validation attempts are made, in ms after the trust policy was written. IAM takes from
 * a few seconds to over half a minute to propagate a trust-policy change, and no one delay is
 * typical, so the attempts grow geometrically: the first at once, the next at 3 s, then each
 * 32% later than the one before (at most 30 s apart). Whatever the delay D from 3 to 45 s,
 * the first attempt after it comes at most 32% of D late (15% on average), in about 9 calls
 * on average: Qualys rate-limits per subscription, so calls matter as much as seconds.
 */
export function validationAttemptAt(attempt: number): number {
  let at = 0;
  for (let n = 1; n <= attempt; n++)
    at = n === 1 ? VALIDATION_FIRST_WAIT_MS : at + Math.min(at * (VALIDATION_GROWTH - 1), VALIDATION_MAX_STEP_MS);
  return Math.round(at);
}
export const VALIDATION_FIRST_WAIT_MS = 3_000;
export const VALIDATION_GROWTH = 1.32;
export const VALIDATION_MAX_STEP_MS = 30_000;

/**
 * Validation answers that mean "not yet", since the guide documents no failure: Qualys could
 * not assume the role or write the test file, which is what IAM propagation looks like from
 * its side. Any 4xx but 401 (handled by the client), 403 (permission) and 404 (gone); 429 and
 * 5xx; and a 2xx that says it failed. (A dropped connection is retried by the client itself.)
 */
function isNotYet(error: unknown): boolean {
  if (error instanceof NotValidatedYet) return true;
  if (!(error instanceof QualysApiError)) return false;
  return (
    error.status === 429 || error.status >= 500 || (error.status >= 400 && ![401, 403, 404].includes(error.status))
  );
}

/** A validation answer that did not say yes. */
class NotValidatedYet extends IntegrationError {
  constructor(
    readonly status: number,
    readonly qualysMessage: string,
  ) {
    super(`Qualys answered HTTP ${status}${qualysMessage ? `: ${qualysMessage}` : ''}`);
  }
}

/** How long undoing a failed create may take past the work deadline, when not told. */
export const CLEANUP_WINDOW_MS = 75_000;

function has(steps: readonly Step[], name: StepName): boolean {
  return steps.some((s) => s.name === name);
}

// ---- create -------------------------------------------------------------------------------

/**
 * A create's plan, applied: register (or adopt), set PC's settings, write the external ID into
 * the role's trust policy, validate until IAM has propagated, and for PC bring CIPS to the
 * configured state. A failed create deregisters what it registered before it reports the
 * failure, because the Provider framework sends no Delete after a failed create.
 */
export async function applyCreate(
  qualys: QualysClient,
  spec: IntegrationSpec,
  steps: readonly Step[],
  observed: { readonly existing?: IntegrationDetails; readonly listed: readonly IntegrationDetails[] },
  deps: LifecycleDeps,
  /** CIPS policies an earlier resource for this integration put there (when this one replaces it): still ours, not "kept". */
  inherited: { readonly ownedPolicies?: readonly number[] } = {},
): Promise<LifecycleResult> {
  const adoption = steps.find((s) => s.name === 'adopt');
  let details: IntegrationDetails & { integrationId: string };
  let registered = false;
  let foreign = false;
  let adoptedFrom: Record<string, unknown> | undefined;
  if (adoption && observed.existing && adoption.integrationId !== undefined) {
    const existing = observed.existing;
    foreign = adoption.foreign === true;
    // A foreign integration is put back as it was if this create, or the stack's create, fails.
    if (foreign) adoptedFrom = originalBody(spec.kind, existing);
    deps.log.info('adopt.existing', {
      integrationId: adoption.integrationId,
      name: spec.name,
      foreign,
    });
    const adopted = await adopt(qualys, spec, { ...existing, integrationId: adoption.integrationId }, deps);
    details = adopted.details;
    registered = adopted.registered;
    // It vanished and was registered anew: nothing foreign to put back.
    if (registered) {
      adoptedFrom = undefined;
      foreign = false;
    }
  } else {
    details = await registerOrExplain(qualys, spec, observed.listed);
    registered = true;
    deps.log.info('register.done', { kind: spec.kind, integrationId: details.integrationId, name: spec.name });
  }

  const id = details.integrationId;
  const cips: CipsOutcome = { added: [], keptPolicies: [] };
  let recordedExternalId: string | undefined;
  let trustBefore: PolicyDocument | undefined;
  try {
    let known = details;
    // The plan's put-settings of a PC register; an adopted integration that vanished was registered too.
    if (spec.kind === 'pc' && registered) known = await putPcSettings(qualys, spec, known);
    if (has(steps, 'write-trust')) {
      const externalId = await learnExternalId(qualys, spec, known, { mayRegenerate: !foreign }, deps);
      // Details without the external ID (the guide's PC sample): keep it for a later trust reset.
      if (!externalId.inDetails) recordedExternalId = externalId.value;
      trustBefore = await applyExternalId(spec, externalId.value, deps);
    }
    if (has(steps, 'validate')) await validateUntilReady(qualys, spec, id, deps);
    if (spec.kind === 'pc' && steps.some((s) => CIPS_STEPS.includes(s.name)))
      await syncCips(qualys, spec.cips, deps, { outcome: cips });
  } catch (error) {
    // Undoing gets the time kept back after the work deadline, so that it may wait out a rate limit.
    const cleanupDeadline = deps.cleanupDeadline ?? deps.deadline + CLEANUP_WINDOW_MS;
    const cleanup = qualys.withDeadlines(cleanupDeadline, cleanupDeadline);
    throw await undoCreate(
      cleanup,
      spec,
      { id, registered, adoptedFrom, cipsAdded: cips.added, trustBefore },
      error,
      deps,
    );
  }
  const owned = new Set(inherited.ownedPolicies ?? []);
  const keptPolicies = cips.keptPolicies.filter((p) => !owned.has(p));
  return result(
    spec,
    id,
    { adoptedFrom, keptPolicies, externalId: recordedExternalId },
    adoptedFrom !== undefined,
    deps,
  );
}

const CIPS_STEPS: readonly StepName[] = ['add-policies', 'remove-policies', 'set-filter', 'check-cips'];

/**
 * Registers, sending only the fields the guide documents for the kind. A refusal while the
 * subscription already holds another integration of the kind may mean the subscription takes
 * only one (the guide's wording allows that): the error then names it and the choices.
 */
async function registerOrExplain(
  qualys: QualysClient,
  spec: IntegrationSpec,
  listed: readonly IntegrationDetails[],
): Promise<IntegrationDetails & { integrationId: string }> {
  try {
    return await qualys.register(spec.kind, registerBody(spec));
  } catch (error) {
    const others = listed.filter((i) => i.name !== spec.name);
    const refused =
      error instanceof QualysApiError &&
      error.status >= 400 &&
      error.status < 500 &&
      ![401, 403, 429].includes(error.status);
    if (!refused || others.length === 0) throw error;
    const kind = spec.kind.toUpperCase();
    const named = others
      .map(
        (o) =>
          `"${o.name ?? '?'}"${o.integrationId ? ` (ID ${o.integrationId})` : ''} for bucket ${o.bucketName ?? '?'}`,
      )
      .join(', ');
    // Adopting needs the ID: where Qualys lists the integration without one, that choice is not there.
    const adoptable = others.length === 1 && others[0].integrationId !== undefined;
    const choices = adoptable
      ? `Either adopt it (set "${spec.kind}.name" to its name and "${spec.kind}.adoptExisting": true; it is then pointed at this ` +
        "stack's bucket and role), or onboard this environment with another Qualys subscription."
      : 'Either delete it in the Qualys UI if nothing uses it any more, or onboard this environment with another Qualys subscription.';
    throw new IntegrationError(
      `Qualys refused to register the ${kind} integration "${spec.name}" (HTTP ${error.status}: ${error.qualysMessage}). ` +
        `This subscription already holds the ${kind} integration ${named}, and it may allow only one ${kind} integration. ` +
        `Nothing was changed. ${choices}`,
      { cause: error },
    );
  }
}

/**
 * PC register takes only bucket, region, role and name (l.673-679); compressData is set with
 * a PUT afterwards when it differs from what Qualys holds (the guide's default is true).
 */
async function putPcSettings(
  qualys: QualysClient,
  spec: IntegrationSpec,
  details: IntegrationDetails & { integrationId: string },
): Promise<IntegrationDetails & { integrationId: string }> {
  const wanted = (spec.settings as PcSettings).compressData;
  const held = details.compressData ?? (await qualys.getIntegration('pc', details.integrationId))?.compressData ?? true;
  if (held === wanted) return details;
  const out = await qualys.update('pc', details.integrationId, {
    ...integrationBody(spec),
    regenerateExternalId: false,
  });
  if (!out.found)
    throw new IntegrationError(
      `PC integration ${details.integrationId} vanished right after it was registered; deploy again`,
    );
  return { ...details, compressData: wanted, externalId: details.externalId ?? out.externalId };
}

async function adopt(
  qualys: QualysClient,
  spec: IntegrationSpec,
  existing: IntegrationDetails & { integrationId: string },
  deps: LifecycleDeps,
): Promise<{ details: IntegrationDetails & { integrationId: string }; registered: boolean }> {
  const updated = await qualys.update(spec.kind, existing.integrationId, {
    ...integrationBody(spec),
    regenerateExternalId: false,
  });
  if (!updated.found) {
    deps.log.warn('adopt.vanished', {
      integrationId: existing.integrationId,
    });
    return { details: await qualys.register(spec.kind, registerBody(spec)), registered: true };
  }
  const details = await qualys.getIntegration(spec.kind, existing.integrationId);
  if (!details)
    throw new IntegrationError(
      `Integration ${existing.integrationId} vanished while it was being adopted; deploy again`,
    );
  return {
    details: {
      ...details,
      integrationId: existing.integrationId,
      externalId: updated.externalId ?? details.externalId ?? existing.externalId,
    },
    registered: false,
  };
}

/** The register/update fields of an integration as Qualys reported them, to put it back later. */
function originalBody(kind: IntegrationKind, existing: IntegrationDetails): Record<string, unknown> {
  const fields = [
    'name',
    'bucketName',
    'bucketRegion',
    'roleArn',
    ...Object.keys(kind === 'vm' ? VM_SETTING_FIELDS : PC_SETTING_FIELDS),
  ];
  return Object.fromEntries(fields.filter((f) => existing[f] !== undefined).map((f) => [f, existing[f]]));
}
const VM_SETTING_FIELDS: Record<keyof VmSettings, true> = {
  minSeverity: true,
  baseCategory: true,
  resultSectionNeeded: true,
  sendVulnInfo: true,
  compressData: true,
  sendAlerts: true,
  errorEmails: true,
};
const PC_SETTING_FIELDS: Record<keyof PcSettings, true> = { compressData: true };

/** Puts an adopted foreign integration back as it was before this stack changed it. */
async function restoreAdopted(
  qualys: QualysClient,
  spec: IntegrationSpec,
  id: string,
  original: Record<string, unknown>,
  deps: LifecycleDeps,
): Promise<void> {
  const { found } = await qualys.update(spec.kind, id, { ...original, regenerateExternalId: false });
  deps.log.info(found ? 'adopt.restored' : 'adopt.restore-gone', { integrationId: id });
}

/**
 * Undoes what a failed create did, so that it leaves nothing behind in Qualys: puts back an
 * adopted foreign integration, deregisters any other (registered now, or this environment's
 * own leftover, for which no Delete would ever come), and removes the CIPS policies it added.
 * Returns the error to report, naming anything that could not be undone.
 */
async function undoCreate(
  qualys: QualysClient,
  spec: IntegrationSpec,
  done: {
    id: string;
    registered: boolean;
    adoptedFrom?: Record<string, unknown>;
    cipsAdded: readonly number[];
    /** The role's trust policy before the create wrote the external ID into it. */
    trustBefore?: PolicyDocument;
  },
  cause: unknown,
  deps: LifecycleDeps,
): Promise<Error> {
  const { id } = done;
  deps.log.warn('create.undoing', {
    integrationId: id,
    registered: done.registered,
    error: errorMessage(cause),
  });
  const undone: string[] = [];
  const leftovers: string[] = [];
  if (!done.adoptedFrom) {
    try {
      await qualys.delete(spec.kind, id);
      undone.push(
        `The ${spec.kind.toUpperCase()} integration it had ${done.registered ? 'registered' : 'taken over from an earlier deploy of this environment'} (ID ${id}) was deregistered again.`,
      );
    } catch (error) {
      leftovers.push(
        `integration ${id} could not be deregistered (${errorMessage(error)}); delete it in Qualys by hand`,
      );
    }
  } else {
    try {
      await restoreAdopted(qualys, spec, id, done.adoptedFrom, deps);
      undone.push(`The adopted integration ${id} was put back as it was.`);
    } catch (error) {
      leftovers.push(`adopted integration ${id} could not be put back as it was (${errorMessage(error)})`);
    }
  }
  if (done.cipsAdded.length > 0) {
    try {
      await qualys.removeCipsPolicies(done.cipsAdded);
    } catch (error) {
      leftovers.push(`CIPS policies ${done.cipsAdded.join(', ')} could not be removed (${errorMessage(error)})`);
    }
  }
  if (done.trustBefore) {
    // The role must not go on trusting the external ID of an integration that is gone.
    try {
      await deps.trust.write(spec.roleName, done.trustBefore, awsCall(deps));
    } catch (error) {
      leftovers.push(`the trust policy of role ${spec.roleName} could not be put back (${errorMessage(error)})`);
    }
  }
  const tail = [...undone, ...(leftovers.length > 0 ? [`Also: ${leftovers.join('; ')}.`] : [])].join(' ');
  return new IntegrationError(`${errorMessage(cause)}${tail ? ` ${tail}` : ''}`, { cause });
}

// ---- update -------------------------------------------------------------------------------

/** An update found the integration gone from Qualys: the lifecycle plans again. */
export const GONE = Symbol('gone');

/**
 * An update's plan, applied in place (same integration ID): PUT the changed settings,
 * regenerating the external ID when asked, restore the external ID wherever the trust policy
 * lost it, validate again, and diff the CIPS policy list.
 */
export async function applyUpdate(
  spec: IntegrationSpec,
  old: IntegrationSpec,
  current: PhysicalId,
  physicalId: string,
  steps: readonly Step[],
  observed: Observed,
  deps: LifecycleDeps,
  /** Registers anew (observe, plan, apply of a create), for an integration replaced to get an external ID. */
  recreate: (inherited: { readonly ownedPolicies: readonly number[] }) => Promise<LifecycleResult>,
): Promise<LifecycleResult | typeof GONE> {
  const id = current.id;
  const changes = propertyChanges(old, spec);
  // A rollback that fails leaves the stack in UPDATE_ROLLBACK_FAILED: a validation that does
  // not succeed while rolling back is reported as a warning, not a failure.
  const rolling = rollingBack(observed);
  const regenerate = has(steps, 'rotate-external-id');
  const qualys = await connect(spec, deps);
  let answeredExternalId: string | undefined;
  if (has(steps, 'put-settings') || regenerate) {
    const out = await qualys.update(spec.kind, id, { ...integrationBody(spec), regenerateExternalId: regenerate });
    if (!out.found) return GONE;
    answeredExternalId = out.externalId;
    deps.log.info('update.done', {
      integrationId: id,
      settingsChanged: changes.settings.length > 0,
      rotatedExternalId: regenerate,
    });
  }
  const validation = steps.find((s) => s.name === 'validate');
  if (has(steps, 'put-settings') || regenerate || has(steps, 'write-trust') || validation) {
    const details = await qualys.getIntegration(spec.kind, id);
    if (!details) return GONE;
    if (regenerate && !answeredExternalId && !details.externalId) {
      const owned = current.record.incomplete
        ? []
        : old.cips.policies.filter((p) => !(current.record.keptPolicies ?? []).includes(p));
      return replaceForNewExternalId(qualys, spec, id, deps, () => recreate({ ownedPolicies: owned }));
    }
    const known = { ...details, integrationId: id, externalId: answeredExternalId ?? details.externalId };
    // After a regeneration the role still holds the old ID: it must not be taken for the new one.
    const externalId = await learnExternalId(
      qualys,
      spec,
      known,
      { mayRegenerate: false, trustPolicyHoldsIt: !regenerate, recorded: current.record.externalId, details },
      deps,
    );
    // The trust policy is checked on every change, written only where it differs.
    const trustChanged = (await applyExternalId(spec, externalId.value, deps)) !== undefined;
    if (validation && (!validation.onlyIf || trustChanged || details.integrationValidated === false)) {
      try {
        await validateUntilReady(qualys, spec, id, deps);
      } catch (error) {
        if (!rolling) throw error;
        deps.log.warn('rollback.not-validated', {
          integrationId: id,
          error: errorMessage(error),
        });
      }
    }
  }
  if (steps.some((s) => CIPS_STEPS.includes(s.name))) {
    await syncCips(qualys, spec.cips, deps, {
      previouslyManaged: old.cips.policies,
      keptPolicies: current.record.keptPolicies,
      integrationId: id,
      spec,
    });
  }
  return sameResource(spec, physicalId, id);
}

/**
 * Qualys regenerated the external ID but reported the new one in no answer (neither the PUT
 * the guide's appendix names nor a GET), so no role can trust it: the integration is useless
 * as it stands. It is replaced: deleted, and registered again, whose answer brings a new
 * external ID. The new physical ID makes CloudFormation delete the old one (already gone).
 */
async function replaceForNewExternalId(
  qualys: QualysClient,
  spec: IntegrationSpec,
  id: string,
  deps: LifecycleDeps,
  recreate: () => Promise<LifecycleResult>,
): Promise<LifecycleResult> {
  deps.log.warn('rotate.external-id-missing', {
    integrationId: id,
  });
  await qualys.delete(spec.kind, id);
  return recreate();
}

// ---- delete -------------------------------------------------------------------------------

/** A delete's plan, applied: DELETE the integration (404 counts as done) and release its CIPS policies. */
export async function applyDelete(
  spec: IntegrationSpec,
  current: PhysicalId,
  steps: readonly Step[],
  observed: Observed,
  deps: LifecycleDeps,
): Promise<void> {
  const release = async (qualys: QualysClient) => {
    if (has(steps, 'remove-policies')) await releaseCipsPolicies(qualys, spec, current, deps);
    else if (spec.kind === 'pc' && spec.cips.policies.length > 0 && current.record.incomplete)
      deps.log.warn('cips.keep-unrecorded', { policies: spec.cips.policies });
  };
  if (!has(steps, 'deregister')) {
    const status = observed.stackStatus.state === 'known' ? observed.stackStatus.value : undefined;
    deps.log.warn('delete.keeping-adopted', {
      integrationId: current.id,
      stackStatus: status ?? 'unknown',
    });
    if (has(steps, 'restore-adopted') && current.record.adoptedFrom) {
      const qualys = await connect(spec, deps);
      await restoreAdopted(qualys, spec, current.id, current.record.adoptedFrom, deps);
      await release(qualys);
    }
    return;
  }
  const qualys = await connect(spec, deps);
  const outcome = await qualys.delete(spec.kind, current.id);
  deps.log.info(outcome === 'deleted' ? 'delete.done' : 'delete.already-gone', { integrationId: current.id });
  await release(qualys);
}

/**
 * CIPS policies belong to the whole subscription. A resource removes only the policies it put
 * there (never one that was in CIPS before it was created), and only when no other PC
 * integration is left that may use them: another environment may rely on the same policies.
 */
async function releaseCipsPolicies(
  qualys: QualysClient,
  spec: IntegrationSpec,
  current: PhysicalId,
  deps: LifecycleDeps,
): Promise<void> {
  if (current.record.incomplete) {
    deps.log.warn('cips.keep-unrecorded', {
      policies: spec.cips.policies,
    });
    return;
  }
  const kept = new Set(current.record.keptPolicies ?? []);
  const ours = spec.cips.policies.filter((p) => !kept.has(p));
  if (ours.length === 0) return;
  const others = await otherPcIntegrationsOrUnknown(qualys, current.id, spec, false, deps);
  if (others.length > 0) {
    deps.log.warn('cips.keep-shared', {
      policies: ours,
      otherIntegrations: others,
    });
    return;
  }
  const config = await qualys.getCipsConfig();
  if (!config.readable) {
    deps.log.warn('cips.keep-unreadable', {
      policies: ours,
      reading: config.reading,
    });
    return;
  }
  const present = new Set(config.policies);
  const toRemove = ours.filter((p) => present.has(p));
  if (toRemove.length > 0) await qualys.removeCipsPolicies(toRemove);
  deps.log.info('cips.removed', { policies: toRemove, kept: [...kept] });
}

// ---- shared steps -------------------------------------------------------------------------

/**
 * The names of the subscription's other PC integrations, which may rely on the same CIPS
 * policies. An entry without an ID is told apart only by what it is: while this one is still
 * registered, one of its name is this one; once it is deleted, one of its name is another (a
 * replacement registered by an update, say).
 */
async function otherPcIntegrations(
  qualys: QualysClient,
  id: string,
  spec: IntegrationSpec,
  stillRegistered: boolean,
): Promise<string[]> {
  const isThis = (i: IntegrationDetails) =>
    i.integrationId !== undefined ? i.integrationId === id : stillRegistered && i.name === spec.name;
  return (await qualys.listIntegrations('pc')).filter((i) => !isThis(i)).map((o) => o.name ?? o.integrationId ?? '?');
}

/** As otherPcIntegrations, but a list that cannot be read counts as "others may be there". */
async function otherPcIntegrationsOrUnknown(
  qualys: QualysClient,
  id: string,
  spec: IntegrationSpec,
  stillRegistered: boolean,
  deps: LifecycleDeps,
): Promise<string[]> {
  try {
    return await otherPcIntegrations(qualys, id, spec, stillRegistered);
  } catch (error) {
    if (!(error instanceof UnreadableAnswerError)) throw error;
    deps.log.warn('cips.pc-list-unreadable', {
      error: errorMessage(error),
    });
    return ['(unknown: the list could not be read)'];
  }
}

export async function connect(spec: IntegrationSpec, deps: LifecycleDeps): Promise<QualysClient> {
  const credentials = await readCredentials(deps.secrets, spec.secretId, awsCall(deps));
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

export function awsCall(deps: LifecycleDeps): { signal: AbortSignal } {
  return { signal: awsCallSignal(deps.deadline, deps.clock.now()) };
}

/** An external ID and whether the integration's own details (a GET) carry it. */
interface LearnedExternalId {
  readonly value: string;
  readonly inDetails: boolean;
}

/**
 * The integration's current external ID, from every source there is, in order: what the
 * register or PUT answer said (already in `known`), a GET, the role's live trust policy (the
 * handler wrote it there; not after a regeneration, when it holds the old one), the answer to
 * a PUT of the settings, and the ID this resource recorded at its create. Where none has it,
 * an integration of our own may regenerate it and take the PUT answer's.
 */
async function learnExternalId(
  qualys: QualysClient,
  spec: IntegrationSpec,
  known: IntegrationDetails & { integrationId: string },
  options: {
    readonly mayRegenerate: boolean;
    readonly trustPolicyHoldsIt?: boolean;
    readonly recorded?: string;
    /** The integration's details, when the caller has just read them (no second GET). */
    readonly details?: IntegrationDetails;
  },
  deps: LifecycleDeps,
): Promise<LearnedExternalId> {
  const id = known.integrationId;
  // The guide's VM details carry the external ID; its PC details do not, so for PC a GET
  // tells whether later events can rely on it or need the recorded one.
  if (known.externalId && spec.kind === 'vm') return { value: known.externalId, inDetails: true };
  const details = options.details ?? (await qualys.getIntegration(spec.kind, id));
  if (!details)
    throw new IntegrationError(`Integration ${id} vanished from Qualys while it was being set up; deploy again`);
  if (known.externalId) return { value: known.externalId, inDetails: details.externalId === known.externalId };
  if (details.externalId) return { value: details.externalId, inDetails: true };
  if (options.trustPolicyHoldsIt !== false) {
    const trusted = externalIdsFor(await deps.trust.read(spec.roleName, awsCall(deps)), spec.principalArn).filter(
      (e) => !e.startsWith(PENDING_EXTERNAL_ID_PREFIX),
    );
    if (trusted.length === 1) {
      deps.log.info('external-id.from-trust-policy', {
        integrationId: id,
      });
      return { value: trusted[0], inDetails: false };
    }
  }
  const put = await qualys.update(spec.kind, id, { ...integrationBody(spec), regenerateExternalId: false });
  if (put.externalId) return { value: put.externalId, inDetails: false };
  if (options.recorded && options.trustPolicyHoldsIt !== false) {
    deps.log.info('external-id.from-create-record', { integrationId: id });
    return { value: options.recorded, inDetails: false };
  }
  if (options.mayRegenerate) {
    const out = await qualys.update(spec.kind, id, { ...integrationBody(spec), regenerateExternalId: true });
    if (out.externalId) {
      deps.log.info('external-id.from-regeneration', {
        integrationId: id,
      });
      return { value: out.externalId, inDetails: false };
    }
  }
  throw new IntegrationError(
    `Qualys reported no external ID for ${spec.kind.toUpperCase()} integration ${id} (not in the register or update answer, not in its details` +
      `${options.trustPolicyHoldsIt !== false ? ', and the role trusts none yet' : ''}); without it the role cannot be opened to Qualys safely. ` +
      'Regenerate it in the Qualys UI or with the "Update an Integration" API (regenerateExternalId: true), add it to the role\'s trust policy, ' +
      'and deploy again; or contact Qualys Support.',
  );
}

/** Makes the role trust Qualys with exactly this external ID; true when the policy changed. */
/** Writes the external ID into the role's trust policy; returns the policy it replaced (undefined: nothing to write). */
async function applyExternalId(
  spec: IntegrationSpec,
  externalId: string,
  deps: LifecycleDeps,
): Promise<PolicyDocument | undefined> {
  const policy = await deps.trust.read(spec.roleName, awsCall(deps));
  const next = withExternalIds(policy, spec.principalArn, [externalId]);
  if (samePolicy(policy, next)) return undefined;
  await deps.trust.write(spec.roleName, next, awsCall(deps));
  deps.log.info('trust.updated', {
    roleName: spec.roleName,
    replacedExternalIds: externalIdsFor(policy, spec.principalArn).length,
  });
  return policy;
}

/**
 * Validates until Qualys says yes, the window ends, or an answer says it never will (401,
 * 403, 404). A yes is an answer that says so, or an unclear 2xx followed by a read-back that
 * shows `integrationValidated: true`: a 200 is not enough by itself.
 */
async function validateUntilReady(
  qualys: QualysClient,
  spec: IntegrationSpec,
  id: string,
  deps: LifecycleDeps,
): Promise<void> {
  const started = deps.clock.now();
  const deadline = Math.min(started + spec.validationTimeoutMs, deps.deadline);
  const delayFor =
    deps.validationDelayMs ??
    ((attempt: number) => Math.max(0, started + validationAttemptAt(attempt) - deps.clock.now()));
  let attempts = 0;
  try {
    const message = await withRetries(
      {
        maxAttempts: Number.POSITIVE_INFINITY,
        baseDelayMs: 0,
        maxDelayMs: 0,
        deadline,
        clock: deps.clock,
        delayForAttempt: delayFor,
        jitterRatio: 0.02,
        finalAttemptAtDeadline: true,
        isRetryable: isNotYet,
        requestedDelayMs: (e) => (e instanceof QualysApiError ? e.retryAfterMs : undefined),
        onRetry: (e, attempt, delayMs) =>
          deps.log.info('validate.waiting', {
            attempt,
            delayMs,
            answer: errorMessage(e),
          }),
      },
      async () => {
        attempts++;
        const answer = await qualys.validate(spec.kind, id);
        if (answer.verdict === 'validated') return answer.message;
        if (answer.verdict === 'unclear' && (await qualys.getIntegration(spec.kind, id))?.integrationValidated === true)
          return answer.message;
        throw new NotValidatedYet(answer.status, answer.message);
      },
    );
    deps.log.info('validate.done', { integrationId: id, attempts, ms: deps.clock.now() - started, message });
  } catch (error) {
    if (!isNotYet(error)) throw error;
    const seconds = Math.round((deps.clock.now() - started) / 1000);
    const last =
      error instanceof NotValidatedYet || error instanceof QualysApiError
        ? `HTTP ${error.status} ${error.qualysMessage || '(no message)'}`
        : errorMessage(error);
    throw new IntegrationError(
      `Validation of ${spec.kind.toUpperCase()} integration ${id} did not succeed within ${seconds} s (${attempts} attempts); ` +
        `Qualys's last answer: ${last}. Check that role ${spec.roleArn} trusts ` +
        `${spec.principalArn} with the integration's external ID and may put objects into bucket ${spec.bucketName}; ` +
        'if IAM is slow today, raise "validationTimeoutSeconds" and deploy again.',
      { cause: error },
    );
  }
}

/** What syncCips did: the policies it added, and the configured ones that were there already. */
interface CipsOutcome {
  readonly added: number[];
  readonly keptPolicies: number[];
}

/**
 * Brings the subscription's CIPS policies and filter to the configured state. Adds what is
 * missing, removes what this resource managed before and no longer wants (but never a policy
 * that was in CIPS before this resource was created), and creates or updates the filter.
 * Records the policies it adds in `outcome` as soon as they are added, so that a failure later
 * on can remove them again.
 */
async function syncCips(
  qualys: QualysClient,
  desired: CipsSettings,
  deps: LifecycleDeps,
  options: {
    /** The policies the previous configuration listed (on update). */
    readonly previouslyManaged?: readonly number[];
    /** Policies that were in CIPS before this resource's create. */
    readonly keptPolicies?: readonly number[];
    /** This resource's integration, on update: dropped policies stay while another PC integration remains. */
    readonly integrationId?: string;
    readonly spec?: IntegrationSpec;
    readonly outcome?: CipsOutcome;
  } = {},
): Promise<void> {
  const {
    previouslyManaged = [],
    keptPolicies = [],
    integrationId,
    spec,
    outcome = { added: [], keptPolicies: [] },
  } = options;
  if (desired.policies.length === 0 && previouslyManaged.length === 0 && !desired.filter) return;
  const current = await qualys.getCipsConfig();
  if (!current.readable) {
    // Act on nothing that could not be read: no removal, no filter written over one unseen.
    if (desired.filter) {
      throw new IntegrationError(
        `The CIPS configuration Qualys answered could not be read (${current.reading}), so the configured "pc.filter" was not applied: ` +
          'it would overwrite a subscription-wide filter this tool cannot see. Remove "pc.filter" to leave the filter to the Qualys UI, ' +
          "and report the answer's shape to the project.",
      );
    }
    if (desired.policies.length > 0) await qualys.addCipsPolicies(desired.policies);
    // Whether they were there before is unknown: count them as kept, so this resource never removes them.
    outcome.keptPolicies.push(...desired.policies);
    deps.log.warn('cips.sync-unreadable', {
      reading: current.reading,
      keptDropped: previouslyManaged.filter((p) => !desired.policies.includes(p)),
    });
    return;
  }
  const present = new Set(current.policies);
  const toAdd = desired.policies.filter((p) => !present.has(p));
  outcome.keptPolicies.push(...desired.policies.filter((p) => present.has(p)));
  let toRemove = previouslyManaged.filter(
    (p) => present.has(p) && !desired.policies.includes(p) && !keptPolicies.includes(p),
  );
  if (toRemove.length > 0 && integrationId !== undefined && spec) {
    const others = await otherPcIntegrationsOrUnknown(qualys, integrationId, spec, true, deps);
    if (others.length > 0) {
      deps.log.warn('cips.keep-dropped-shared', {
        policies: toRemove,
        otherIntegrations: others,
      });
      toRemove = [];
    }
  }
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
    outcome.added.push(...toAdd);
  }
  if (desired.filter) {
    if (!current.filter) await createOrUpdateFilter(qualys, desired.filter);
    else if (JSON.stringify(sortKeys(current.filter)) !== JSON.stringify(sortKeys(desired.filter))) {
      await qualys.updateCipsFilter(desired.filter);
    }
  }
  deps.log.info('cips.in-configured-state', {
    added: toAdd,
    removed: toRemove,
    filter: desired.filter ? 'managed' : 'untouched',
  });
}

/** No filter was read: create one, or update it when Qualys says one exists after all. */
async function createOrUpdateFilter(qualys: QualysClient, filter: CipsFilter): Promise<void> {
  try {
    await qualys.createCipsFilter(filter);
  } catch (error) {
    if (!(error instanceof QualysApiError && error.status === 409)) throw error;
    await qualys.updateCipsFilter(filter);
  }
}

/** The register body: PC takes only the four fields the guide lists (l.673-679). */
function registerBody(spec: IntegrationSpec): Record<string, unknown> & { name: string } {
  if (spec.kind === 'vm') return integrationBody(spec);
  return { name: spec.name, bucketName: spec.bucketName, bucketRegion: spec.bucketRegion, roleArn: spec.roleArn };
}

/** The resource's answer after a create: the physical ID with the create record, and the attributes. */
function result(
  spec: IntegrationSpec,
  id: string,
  record: CreateRecord,
  foreign: boolean,
  deps: LifecycleDeps,
): LifecycleResult {
  const { physicalId, tooLong } = encodePhysicalId(
    { kind: spec.kind, gatewayUrl: spec.gatewayUrl, id, foreign },
    record,
  );
  if (tooLong) deps.log.warn('record.too-long', { integrationId: id });
  return { PhysicalResourceId: physicalId, Data: { [Attr.IntegrationId]: id, [Attr.IntegrationName]: spec.name } };
}

/** The same resource after an update: same physical ID (so no replacement), current attributes. */
export function sameResource(spec: IntegrationSpec, physicalId: string, id: string): LifecycleResult {
  return { PhysicalResourceId: physicalId, Data: { [Attr.IntegrationId]: id, [Attr.IntegrationName]: spec.name } };
}
