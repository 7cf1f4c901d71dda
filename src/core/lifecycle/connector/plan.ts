/**
 * The connector's plan: what an event needs done, as named steps with the reason for each, from
 * the desired spec, the old one (on update), and what Qualys lists. A pure function, as the S3
 * integration's plan.ts is: it reads and changes nothing.
 *
 * - Create: a connector of the configured name for this account, with this stack's role (or
 *   none reported), is this environment's leftover: adopted. A connector of the name with
 *   another role, or another connector for this account, is foreign: refused unless
 *   `adoptExisting`, naming it and the choices. A connector of the name for another AWS account
 *   is never taken over (that would move another account's monitoring here).
 * - Update: in place for name, description, modules, polling and remediation; a new connector
 *   only when it must be (the API, the API server, the account, the partition, the role ARN or
 *   the external ID changed); nothing changed, no step.
 * - Delete: the connector, except an adopted foreign one while the stack rolls back (put back).
 */
import type { ConnectorApiKind, ConnectorSpec } from '../../connector-contract';
import { AdoptionRefusedError, IntegrationError } from '../../errors';
import type { Connector, ConnectorFields } from '../../qualys/connectors/api';
import { sortedModules } from '../../qualys/connectors/readers';
import type { ConnectorPhysicalId } from './physical-id';

export type ConnectorStepName =
  | 'create'
  | 'adopt'
  | 'run'
  | 'wait'
  | 'update'
  | 'replace'
  | 'delete'
  | 'restore-adopted'
  | 'keep-adopted';

export interface ConnectorStep {
  readonly name: ConnectorStepName;
  /** Why the step is there, in words. */
  readonly reason: string;
  /** adopt, update, delete, restore-adopted: the connector acted on. */
  readonly connectorId?: string;
  /** adopt: not evidently this stack's; put back as it was should the create fail. */
  readonly foreign?: boolean;
  /** update: the fields that changed; replace: what forces a new connector. */
  readonly changes?: readonly string[];
  /** adopt/create: other connectors for this account, left alone. */
  readonly others?: readonly string[];
}

/** The connector's fields from the spec, as the clients send them. */
export function connectorFields(spec: ConnectorSpec): ConnectorFields {
  return {
    name: spec.name,
    description: spec.description,
    roleArn: spec.roleArn,
    externalId: spec.externalId,
    awsAccountId: spec.awsAccountId,
    partition: spec.partition,
    modules: sortedModules(spec.modules),
    pollingHours: spec.pollingHours,
    remediation: spec.remediation,
  };
}

function describe(c: Connector): string {
  return `"${c.name ?? '?'}" (ID ${c.id}, AWS account ${c.awsAccountId ?? '?'}, role ${c.roleArn ?? 'not reported'})`;
}

/** Same role and external ID, where Qualys reports them. */
/**
 * Whether Qualys shows the connector using this stack's role. An answer that does not show the
 * role is no proof: such a connector is not taken as ours (it needs "adoptExisting").
 */
function sameRole(c: Connector, spec: ConnectorSpec): boolean {
  return c.roleArn === spec.roleArn && (c.externalId === undefined || c.externalId === spec.externalId);
}

/**
 * A create's steps, from the connectors Qualys lists for the account and the name. `exclude`:
 * the connector an update replaces (CloudFormation deletes it afterwards).
 * @throws AdoptionRefusedError, changing nothing, where a connector is in the way
 */
export function planConnectorCreate(
  spec: ConnectorSpec,
  found: readonly Connector[],
  options: { readonly exclude?: string } = {},
): ConnectorStep[] {
  const candidates = found.filter((c) => c.id !== options.exclude);
  const named = candidates.filter((c) => c.name === spec.name);
  const elsewhere = named.filter((c) => c.awsAccountId !== undefined && c.awsAccountId !== spec.awsAccountId);
  if (elsewhere.length > 0) {
    throw new AdoptionRefusedError(
      `A connector named "${spec.name}" already exists in Qualys for another AWS account: ${elsewhere.map(describe).join(', ')}. ` +
        'It is not taken over (that would move another account out of Qualys), even with "adoptExisting". ' +
        'Choose another "cloudView.name" for this environment, or delete that connector in Qualys if nothing uses it.',
    );
  }
  const mine = named.find((c) => sameRole(c, spec));
  const forAccount = candidates.filter((c) => c.awsAccountId === spec.awsAccountId && c !== mine);
  const wait: ConnectorStep[] = [
    { name: 'run', reason: 'Qualys is asked to run the connector at once, rather than at its first polling' },
    {
      name: 'wait',
      reason: `until Qualys reports it could assume ${spec.roleArn} (state and error list), re-running through IAM propagation, for at most ${Math.round(spec.validationTimeoutMs / 1000)} s`,
    },
  ];
  if (mine) {
    return [
      {
        name: 'adopt',
        connectorId: mine.id,
        foreign: false,
        others: forAccount.map((c) => c.id),
        reason: `a connector named "${spec.name}" for AWS account ${spec.awsAccountId} with this stack's role exists (ID ${mine.id}): it is this environment's, and is given the configured settings`,
      },
      ...wait,
    ];
  }
  const foreign = [...named, ...forAccount.filter((c) => !named.includes(c))];
  if (foreign.length > 0) {
    const listed = foreign.map(describe).join(', ');
    if (!spec.adoptExisting) {
      throw new AdoptionRefusedError(
        `Qualys already holds a connector for this account or of this name that is not this stack's: ${listed}. Nothing was changed. ` +
          'To take it over, set "cloudView.adoptExisting": true for this environment (it is then pointed at this stack\'s role and external ID, ' +
          'put back as it was if the deploy fails, and deleted with the stack); otherwise delete it in Qualys, ' +
          `or (if only the name is taken) choose another "cloudView.name".`,
      );
    }
    if (foreign.length > 1) {
      throw new AdoptionRefusedError(
        `"adoptExisting" is set, but Qualys holds more than one connector for this account or of this name: ${listed}. ` +
          'Nothing was changed: delete all but the one to adopt in Qualys, and deploy again.',
      );
    }
    if (foreign[0].externalId === undefined) {
      // Adopting points it at this stack's role and external ID; without its own, a failed
      // deploy could not put it back, and it would be left pointing at this stack's role.
      throw new AdoptionRefusedError(
        `"adoptExisting" is set, but Qualys does not show the external ID of ${describe(foreign[0])}, so it could not be put back ` +
          "as it was if the deploy failed. Nothing was changed: delete it in Qualys (the deploy then creates this stack's own), " +
          'or use "cloudView.api": "connectors-v3", whose answers show it.',
      );
    }
    return [
      {
        name: 'adopt',
        connectorId: foreign[0].id,
        foreign: true,
        reason: `${describe(foreign[0])} exists and "adoptExisting" is true: it is pointed at this stack's role and external ID, and put back as it was if the create fails`,
      },
      ...wait,
    ];
  }
  return [
    {
      name: 'create',
      reason: `Qualys has no connector named "${spec.name}" and none for AWS account ${spec.awsAccountId}`,
    },
    ...wait,
  ];
}

/** What forces a new connector, in words; empty when the change can be made in place. */
export function replacementReasons(
  old: ConnectorSpec,
  spec: ConnectorSpec,
  current: ConnectorPhysicalId | undefined,
): string[] {
  if (!current) return ['the physical ID names no connector'];
  const reasons: string[] = [];
  const api = (a: ConnectorApiKind) => `"${a}"`;
  if (current.api !== spec.api) {
    // Both APIs see the same connectors: a replacement would find the old connector through the
    // new API and adopt it, and CloudFormation's Delete of the old resource would then delete it.
    throw new IntegrationError(
      `"cloudView.api" changed from ${api(current.api)} to ${api(spec.api)} on a deployed connector (${current.id}), which is ` +
        'not done in place: both APIs manage the same connector. Nothing was changed. Keep the API it was created with; or ' +
        'to switch, deploy once without "cloudView" (the connector is deleted), then with the new "api".',
    );
  }
  if (originOf(old.apiUrl) !== originOf(spec.apiUrl))
    reasons.push(`the API server changed from ${originOf(old.apiUrl)} to ${originOf(spec.apiUrl)}`);
  if (old.awsAccountId !== spec.awsAccountId)
    reasons.push(`the AWS account changed from ${old.awsAccountId} to ${spec.awsAccountId}`);
  if (old.partition !== spec.partition)
    reasons.push(`the partition changed from ${old.partition} to ${spec.partition}`);
  // A new role or external ID is set on the same connector (both APIs update them in place): a
  // second connector for the account is what Qualys may refuse.
  return reasons;
}

/** The in-place fields that differ, by their configuration names. Modules count for Connectors 3.0 only. */
export function inPlaceChanges(old: ConnectorSpec, spec: ConnectorSpec): string[] {
  const changes: string[] = [];
  if (old.name !== spec.name) changes.push('name');
  if (old.description !== spec.description) changes.push('description');
  if (
    spec.api === 'connectors-v3' &&
    JSON.stringify(sortedModules(old.modules)) !== JSON.stringify(sortedModules(spec.modules))
  )
    changes.push('modules');
  if (old.pollingHours !== spec.pollingHours) changes.push('pollingHours');
  if (old.remediation !== spec.remediation) changes.push('remediation');
  if (old.roleArn !== spec.roleArn) changes.push('role');
  if (old.externalId !== spec.externalId) changes.push('externalId');
  return changes;
}

export function planConnectorUpdate(
  old: ConnectorSpec,
  spec: ConnectorSpec,
  current: ConnectorPhysicalId | undefined,
): ConnectorStep[] {
  const reasons = replacementReasons(old, spec, current);
  if (reasons.length > 0 || !current) {
    return [
      {
        name: 'replace',
        changes: reasons,
        reason: `${reasons.join('; ')}: a new connector is created, and CloudFormation's Delete of the old resource deletes the old one`,
      },
    ];
  }
  const changes = inPlaceChanges(old, spec);
  if (changes.length === 0) return [];
  return [
    {
      name: 'update',
      connectorId: current.id,
      changes,
      reason: `the configuration changed ${changes.join(', ')}: connector ${current.id} is updated in place`,
    },
  ];
}

/** `stackStatus`: CloudFormation's word, undefined when it could not be read (read only for an adopted connector). */
export function planConnectorDelete(current: ConnectorPhysicalId, stackStatus?: string): ConnectorStep[] {
  if (current.foreign && (stackStatus === undefined || stackStatus.includes('ROLLBACK'))) {
    const why = `connector ${current.id} was adopted and the stack is ${stackStatus ?? 'in an unknown state'}`;
    if (!current.record.adoptedFrom) {
      return [{ name: 'keep-adopted', connectorId: current.id, reason: `${why}: it is left in place` }];
    }
    return [
      {
        name: 'restore-adopted',
        connectorId: current.id,
        reason: `${why}: it is left in place and put back as it was`,
      },
    ];
  }
  return [
    { name: 'delete', connectorId: current.id, reason: `the resource is deleted: connector ${current.id} is deleted` },
  ];
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
