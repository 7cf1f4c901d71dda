/**
 * The plan: what an event needs done, as a list of named steps with the reason for each, from
 * the desired spec, the old one (on update), what was observed and the kind of event. A pure
 * function: it reads nothing and changes nothing, so `qualys-s3 diff` shows the same plan the
 * handler applies.
 *
 * What was not read (`unread`) is left to the step that needs it: the handler reads the CIPS
 * configuration, the trust policy and the integration's details right before the write they
 * guard, as it always has, so its calls and their order are those of a read-then-write. What
 * could not be read (`unknown`) is never taken for empty: nothing is removed on its strength.
 */
import type { CipsFilter, IntegrationKind } from '../contract';
import { AdoptionRefusedError, IntegrationError } from '../errors';
import type { IntegrationDetails } from '../qualys/client';
import type { PhysicalId } from './physical-id';
import type { IntegrationSpec } from '../resource-properties';

export type StepName =
  | 'register'
  | 'adopt'
  | 'put-settings'
  | 'rotate-external-id'
  | 'write-trust'
  | 'validate'
  | 'add-policies'
  | 'remove-policies'
  | 'set-filter'
  | 'check-cips'
  | 'deregister'
  | 'restore-adopted'
  | 'replace';

export interface Step {
  readonly name: StepName;
  /** Why the step is there, in words. */
  readonly reason: string;
  /** The step is taken only when this holds once the step has read what it needs. */
  readonly onlyIf?: string;
  /** add-policies / remove-policies: the policies. */
  readonly policies?: readonly number[];
  /** adopt: the integration taken over; restore-adopted, deregister: the one acted on. */
  readonly integrationId?: string;
  /** adopt: it does not evidently belong to this stack, and is put back as it was should the create fail. */
  readonly foreign?: boolean;
}

/** One reading of the live state. */
export type Reading<T> =
  | { readonly state: 'unread' }
  | { readonly state: 'unknown'; readonly why: string }
  | { readonly state: 'known'; readonly value: T };

export interface CipsView {
  readonly policies: readonly number[];
  readonly filter?: CipsFilter;
}

export interface Observed {
  /** The integration (by name on create, by ID otherwise); `value: undefined` when there is none. */
  readonly integration: Reading<IntegrationDetails | undefined>;
  /** The external IDs the role's trust policy requires of the Qualys principal. */
  readonly trustedExternalIds: Reading<readonly string[]>;
  readonly cips: Reading<CipsView>;
  /** The stack's status; `value: undefined` when CloudFormation did not say. */
  readonly stackStatus: Reading<string | undefined>;
}

export const UNREAD: Reading<never> = { state: 'unread' };
export const NOTHING_OBSERVED: Observed = {
  integration: UNREAD,
  trustedExternalIds: UNREAD,
  cips: UNREAD,
  stackStatus: UNREAD,
};

export type PlanEvent =
  | { readonly kind: 'create' }
  | { readonly kind: 'update'; readonly old: IntegrationSpec; readonly physicalId: PhysicalId | undefined }
  | { readonly kind: 'delete'; readonly physicalId: PhysicalId };

/** What an update's old and new properties say changed. */
export interface PropertyChanges {
  /** Register/update body fields whose value changed. */
  readonly settings: readonly string[];
  readonly rotate: boolean;
  /** CloudFormation rewrote the trust policy, or the role or principal changed: the external ID must be put back. */
  readonly trustReset: boolean;
  readonly cips: boolean;
  readonly any: boolean;
}

export function propertyChanges(old: IntegrationSpec, spec: IntegrationSpec): PropertyChanges {
  const before = integrationBody(old);
  const after = integrationBody(spec);
  // The body as a whole decides (field order included, as the PUT sends it); the names are for the reason.
  const settings =
    JSON.stringify(before) === JSON.stringify(after)
      ? []
      : [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
          (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
        );
  const settingsChanged = JSON.stringify(before) !== JSON.stringify(after);
  const rotate = old.rotation !== spec.rotation;
  const trustReset =
    old.trustFingerprint !== spec.trustFingerprint ||
    old.roleName !== spec.roleName ||
    old.principalArn !== spec.principalArn;
  const cips = spec.kind === 'pc' && JSON.stringify(old.cips) !== JSON.stringify(spec.cips);
  return {
    settings: settingsChanged && settings.length === 0 ? ['(field order)'] : settings,
    rotate,
    trustReset,
    cips,
    any: settingsChanged || rotate || trustReset || cips,
  };
}

/** The update body (and VM's register body), in the guide's field names. */
export function integrationBody(spec: IntegrationSpec): Record<string, unknown> & { name: string } {
  return {
    name: spec.name,
    bucketName: spec.bucketName,
    bucketRegion: spec.bucketRegion,
    roleArn: spec.roleArn,
    ...spec.settings,
  };
}

/**
 * The steps, in the order they are applied. Throws, changing nothing, where the event cannot
 * go ahead: an integration of the configured name that is not this stack's and may not be
 * adopted, or one Qualys lists without an ID.
 */
export function plan(desired: IntegrationSpec, event: PlanEvent, observed: Observed): Step[] {
  switch (event.kind) {
    case 'create':
      return planCreate(desired, observed);
    case 'update':
      return planUpdate(desired, event.old, event.physicalId, observed);
    case 'delete':
      return planDelete(desired, event.physicalId, observed);
  }
}

function label(kind: IntegrationKind): string {
  return kind.toUpperCase();
}

/** An integration of the configured name is ours when it carries our default name or points at our role or bucket. */
export function belongsToThisStack(existing: IntegrationDetails, spec: IntegrationSpec): boolean {
  return (
    existing.name === spec.defaultName || existing.roleArn === spec.roleArn || existing.bucketName === spec.bucketName
  );
}

function planCreate(spec: IntegrationSpec, observed: Observed): Step[] {
  const existing = observed.integration.state === 'known' ? observed.integration.value : undefined;
  const steps: Step[] = [];
  if (existing) {
    const foreign = !belongsToThisStack(existing, spec);
    const where = `${existing.integrationId ? `ID ${existing.integrationId}, ` : ''}bucket ${existing.bucketName ?? '?'}, role ${existing.roleArn ?? '?'}`;
    if (foreign && !spec.adoptExisting) {
      throw new AdoptionRefusedError(
        `A ${label(spec.kind)} integration named "${spec.name}" already exists in Qualys (${where}) and does not point at this stack's bucket or role. ` +
          `To take it over, set "${spec.kind}.adoptExisting": true for this environment; otherwise choose another "${spec.kind}.name".`,
      );
    }
    if (existing.integrationId === undefined) {
      // Registering again would make a duplicate (or clash on the name): stop, changing nothing.
      throw new IntegrationError(
        `A ${label(spec.kind)} integration named "${spec.name}" already exists in Qualys (${where}), but Qualys did not report its ID, ` +
          'so it can be neither adopted nor replaced from here. Nothing was changed. Delete it in the Qualys UI and deploy again, ' +
          `or choose another "${spec.kind}.name".`,
      );
    }
    steps.push({
      name: 'adopt',
      integrationId: existing.integrationId,
      foreign,
      reason: foreign
        ? `an integration named "${spec.name}" exists (${where}) and "${spec.kind}.adoptExisting" is true: it is pointed at this stack's bucket and role, and put back as it was if the create fails`
        : `an integration named "${spec.name}" exists and is this environment's (${where}): it is taken over and given the configured settings`,
    });
  } else {
    const unread = observed.integration.state !== 'known' ? ' (the list of integrations was not read)' : '';
    steps.push({
      name: 'register',
      reason: `Qualys has no ${label(spec.kind)} integration named "${spec.name}"${unread}`,
    });
    if (spec.kind === 'pc') {
      steps.push({
        name: 'put-settings',
        reason:
          'PC registration takes only bucket, region, role and name (guide l.673-679); compressData is set after it',
        onlyIf: `Qualys holds another compressData than the configured ${String((spec.settings as { compressData?: boolean }).compressData)}`,
      });
    }
  }
  const knownId = existing?.externalId;
  const trusted = observed.trustedExternalIds.state === 'known' ? observed.trustedExternalIds.value : undefined;
  if (!(knownId && trusted?.length === 1 && trusted[0] === knownId)) {
    steps.push({
      name: 'write-trust',
      reason: `the role ${spec.roleName} must trust ${spec.principalArn} with the integration's external ID, and with no other`,
    });
  }
  steps.push({ name: 'validate', reason: 'Qualys sends data only to a validated integration' });
  if (spec.kind === 'pc') steps.push(...cipsSteps(spec, undefined, observed, true));
  return steps;
}

/**
 * Why an update must register a new integration rather than change this one, if it must.
 * Another gateway is another Qualys platform: register there. CloudFormation then sends a
 * Delete for the old physical ID, with the old properties, which deregisters the old one.
 */
export function replacementReason(
  old: IntegrationSpec,
  spec: IntegrationSpec,
  current: PhysicalId | undefined,
): string | undefined {
  if (!current) return 'the physical ID names no integration';
  if (current.kind !== spec.kind) return `the kind changed from ${current.kind} to ${spec.kind}`;
  if (old.gatewayUrl !== spec.gatewayUrl) return `the gateway changed from ${old.gatewayUrl} to ${spec.gatewayUrl}`;
  return undefined;
}

/** Whether the observed stack status says the stack is rolling back (unknown: not). */
export function rollingBack(observed: Observed): boolean {
  return observed.stackStatus.state === 'known' && (observed.stackStatus.value?.includes('ROLLBACK') ?? false);
}

function planUpdate(
  spec: IntegrationSpec,
  old: IntegrationSpec,
  current: PhysicalId | undefined,
  observed: Observed,
): Step[] {
  const replacement = replacementReason(old, spec, current);
  if (replacement || !current) {
    return [
      {
        name: 'replace',
        reason: `${replacement}: a new integration is registered, and CloudFormation's Delete of the old resource deregisters the old one`,
      },
    ];
  }
  if (observed.integration.state === 'known' && observed.integration.value === undefined) {
    return [
      {
        name: 'register',
        integrationId: current.id,
        reason: `integration ${current.id} no longer exists in Qualys (deleted outside this stack): it is registered again`,
      },
    ];
  }
  const changes = propertyChanges(old, spec);
  const details = observed.integration.state === 'known' ? observed.integration.value : undefined;
  const trusted = observed.trustedExternalIds.state === 'known' ? observed.trustedExternalIds.value : undefined;
  // Drift the live state shows while the properties are the same (read only by `qualys-s3 diff`).
  const trustLacksId =
    details?.externalId !== undefined &&
    trusted !== undefined &&
    !(trusted.length === 1 && trusted[0] === details.externalId);
  const notValidated = details?.integrationValidated === false;
  const steps: Step[] = [];
  const status = observed.stackStatus.state === 'known' ? observed.stackStatus.value : undefined;
  // A rollback cannot bring an old external ID back (Qualys only ever makes new ones): it regenerates nothing.
  const rolling = rollingBack(observed);
  if (changes.settings.length > 0) {
    steps.push({ name: 'put-settings', reason: `the configuration changed ${changes.settings.join(', ')}` });
  } else if (changes.rotate && rolling) {
    steps.push({
      name: 'put-settings',
      reason: `"externalIdRotation" changed while the stack is ${status}: the settings are put back and no new external ID is made (Qualys cannot bring an old one back)`,
    });
  }
  if (changes.rotate && !rolling) {
    steps.push({
      name: 'rotate-external-id',
      reason: `"${spec.kind}.externalIdRotation" changed from "${old.rotation}" to "${spec.rotation}": Qualys makes a new external ID`,
    });
  }
  if (changes.rotate && !rolling) {
    steps.push({ name: 'write-trust', reason: 'the role must trust the new external ID, and no longer the old one' });
  } else if (changes.trustReset) {
    const why =
      old.roleName !== spec.roleName || old.principalArn !== spec.principalArn
        ? 'the role or the Qualys principal changed'
        : "CloudFormation rewrote the role's trust policy (its fingerprint changed), dropping the external ID";
    steps.push({
      name: 'write-trust',
      reason: `${why}: the integration's external ID is put back`,
      onlyIf: "the role's trust policy does not require exactly the integration's external ID",
    });
  } else if (trustLacksId) {
    steps.push({
      name: 'write-trust',
      reason: `the role ${spec.roleName} does not require exactly the integration's external ID of ${spec.principalArn}`,
    });
  }
  if (changes.settings.length > 0 || changes.rotate) {
    steps.push({
      name: 'validate',
      reason: `Qualys is asked to validate after the change${rolling ? ' (while rolling back, a failure is a warning)' : ''}`,
    });
  } else if (changes.trustReset) {
    steps.push({
      name: 'validate',
      reason: 'the trust policy was rewritten',
      onlyIf: 'the external ID had to be put back, or Qualys reports the integration not validated',
    });
  } else if (trustLacksId || notValidated) {
    steps.push({
      name: 'validate',
      reason: notValidated ? 'Qualys reports the integration not validated' : 'the trust policy is written',
    });
  }
  // CIPS is brought to the configured state when its properties change. Drift in CIPS alone is
  // planned only when nothing else changes (diff shows it as drift a plain deploy does not send):
  // an update for other properties never reads CIPS, so it must not promise a CIPS repair.
  if (spec.kind === 'pc' && (changes.cips || (observed.cips.state === 'known' && !changes.any))) {
    const kept = current.record.keptPolicies ?? [];
    const cips = cipsSteps(
      spec,
      { policies: old.cips.policies, kept, filter: old.cips.filter },
      observed,
      changes.cips,
    );
    if (cips.length === 0 && changes.cips) {
      cips.push({
        name: 'check-cips',
        reason:
          'the CIPS settings changed in form only (order, or policies that were in CIPS before): CIPS is read and brought to the configured state',
      });
    }
    steps.push(...cips);
  }
  return steps;
}

/**
 * The CIPS steps: policies to add (where CIPS was not read, the newly configured ones; where it
 * was, the missing ones), policies to remove (dropped from the configuration, put there by this
 * resource, and not seen missing: never on a configuration that could not be read), the filter.
 * `previous` is the old configuration (none on create); `changed` is false where the properties
 * are the same and only an observed drift counts.
 */
function cipsSteps(
  spec: IntegrationSpec,
  previous:
    | { readonly policies: readonly number[]; readonly kept: readonly number[]; readonly filter?: CipsFilter }
    | undefined,
  observed: Observed,
  changed: boolean,
): Step[] {
  const desired = spec.cips;
  const seen = observed.cips.state === 'known' ? observed.cips.value : undefined;
  const steps: Step[] = [];
  const addable = seen
    ? desired.policies.filter((p) => !seen.policies.includes(p))
    : changed
      ? desired.policies.filter((p) => !(previous?.policies ?? []).includes(p))
      : [];
  if (addable.length > 0) {
    steps.push({
      name: 'add-policies',
      policies: addable,
      reason: seen
        ? 'configured in "pc.policies" and missing from CIPS'
        : `configured in "pc.policies"${observed.cips.state === 'unknown' ? ' (CIPS could not be read: all are sent, none counted as added)' : ''}`,
      ...(seen ? {} : { onlyIf: 'CIPS lacks them' }),
    });
  }
  const dropped = (previous?.policies ?? []).filter(
    (p) => !desired.policies.includes(p) && !(previous?.kept ?? []).includes(p),
  );
  const removable =
    observed.cips.state === 'unknown' ? [] : seen ? dropped.filter((p) => seen.policies.includes(p)) : dropped;
  if (removable.length > 0) {
    steps.push({
      name: 'remove-policies',
      policies: removable,
      reason: 'dropped from "pc.policies", and put in CIPS by this resource',
      onlyIf: 'no other PC integration of the subscription remains to use them',
    });
  }
  if (desired.filter) {
    const differs = seen
      ? !seen.filter || JSON.stringify(sortKeys(seen.filter)) !== JSON.stringify(sortKeys(desired.filter))
      : changed && JSON.stringify(previous?.filter) !== JSON.stringify(desired.filter);
    if (differs) {
      steps.push({
        name: 'set-filter',
        reason: seen?.filter
          ? 'the CIPS filter differs from "pc.filter"'
          : 'CIPS should hold the configured "pc.filter"',
        ...(seen ? {} : { onlyIf: 'the filter Qualys holds differs' }),
      });
    }
  }
  return steps;
}

export function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

function planDelete(spec: IntegrationSpec, current: PhysicalId, observed: Observed): Step[] {
  const steps: Step[] = [];
  if (current.foreign) {
    // An adopted integration existed before this stack: a rollback must not delete it, and
    // puts it back as it was, since the role and bucket it now points at are rolled back too.
    const status = observed.stackStatus.state === 'known' ? observed.stackStatus.value : undefined;
    if (status === undefined || status.includes('ROLLBACK')) {
      if (!current.record.adoptedFrom) return [];
      steps.push({
        name: 'restore-adopted',
        integrationId: current.id,
        reason: `integration ${current.id} was adopted and the stack is ${status ?? 'in an unknown state'}: it is left in place and put back as it was`,
      });
      return [...steps, ...releaseSteps(spec, current, observed)];
    }
  }
  steps.push({
    name: 'deregister',
    integrationId: current.id,
    reason: `the resource is deleted: integration ${current.id} is deregistered`,
  });
  return [...steps, ...releaseSteps(spec, current, observed)];
}

/** A resource removes only the CIPS policies it put there, and none on a configuration it could not read. */
function releaseSteps(spec: IntegrationSpec, current: PhysicalId, observed: Observed): Step[] {
  if (spec.kind !== 'pc' || spec.cips.policies.length === 0 || current.record.incomplete) return [];
  const kept = current.record.keptPolicies ?? [];
  const ours = spec.cips.policies.filter((p) => !kept.includes(p));
  if (ours.length === 0 || observed.cips.state === 'unknown') return [];
  const seen = observed.cips.state === 'known' ? observed.cips.value : undefined;
  const present = seen ? ours.filter((p) => seen.policies.includes(p)) : ours;
  if (present.length === 0) return [];
  return [
    {
      name: 'remove-policies',
      policies: present,
      reason: 'put in CIPS by this resource',
      onlyIf: `no other PC integration of the subscription remains to use them${seen ? '' : ', and CIPS shows them'}`,
    },
  ];
}
