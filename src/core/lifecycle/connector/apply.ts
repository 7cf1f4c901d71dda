/**
 * Applying a connector plan with the clients passed in: create (or adopt), run and wait; undo a
 * failed create so that nothing stays half-registered; update in place; delete.
 */
import {
  type AwsCallOptions,
  type SecretReader,
  type StackStatusReader,
  awsCallSignal,
  readCredentials,
} from '../../aws';
import { ConnectorAttr, type ConnectorApiKind, type ConnectorSpec } from '../../connector-contract';
import { IntegrationError, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { connectorApi } from '../../qualys/connectors';
import type { Connector, ConnectorApi } from '../../qualys/connectors/api';
import type { HttpTransport } from '../../qualys/transport';
import type { Clock } from '../../retry';
import { CLEANUP_WINDOW_MS, type LifecycleResult } from '../apply';
import { encodeConnectorPhysicalId, type ConnectorPhysicalId } from './physical-id';
import { type ConnectorStep, connectorFields } from './plan';
import { waitUntilRoleAssumed } from './wait';

/** What the connector lifecycle is given (the S3 lifecycle's deps fit: it needs fewer). */
export interface ConnectorDeps {
  readonly secrets: SecretReader;
  readonly stacks: StackStatusReader;
  readonly transport: HttpTransport;
  readonly log: Logger;
  readonly clock: Clock;
  /** Epoch ms after which no new step or retry of the work starts. */
  readonly deadline: number;
  /** Epoch ms by which undoing a failed create must be done. @default - `deadline` plus CLEANUP_WINDOW_MS */
  readonly cleanupDeadline?: number;
  /** When poll n of the wait is made, in ms after it starts. @default validationAttemptAt */
  readonly connectorPollAt?: (attempt: number) => number;
}

/** The `State` attribute of an update that made no call: Qualys was not asked. */
export const STATE_NOT_READ = 'UNCHANGED';

/** Fields of a connector kept to put an adopted one back (the two APIs' names for them). */
const RESTORABLE_FIELDS = [
  'name',
  'description',
  'arn',
  'externalId',
  'runFrequency',
  'isRemediationEnabled',
  'disabled',
  'connectorAppInfos',
  'isGovCloud',
  'isChinaRegion',
  'pollingFrequency',
  'remediationEnabled',
];

export async function connectConnectorApi(
  spec: ConnectorSpec,
  deps: ConnectorDeps,
  kind: ConnectorApiKind = spec.api,
): Promise<ConnectorApi> {
  const credentials = await readCredentials(deps.secrets, spec.secretId, awsCall(deps));
  return connectorApi(kind, {
    apiUrl: spec.apiUrl,
    credentials,
    credentialsSource: `secret "${spec.secretId}"`,
    transport: deps.transport,
    log: deps.log,
    clock: deps.clock,
    deadline: deps.deadline,
  });
}

export function awsCall(deps: Pick<ConnectorDeps, 'deadline' | 'clock'>): AwsCallOptions {
  return { signal: awsCallSignal(deps.deadline, deps.clock.now()) };
}

// ---- create ---------------------------------------------------------------------------------

/**
 * A create's plan, applied. A failure after the connector exists deletes it again (or, adopted
 * from someone else, puts it back as it was) before the failure is reported: the Provider
 * framework sends no Delete after a failed create.
 */
export async function applyConnectorCreate(
  api: ConnectorApi,
  spec: ConnectorSpec,
  steps: readonly ConnectorStep[],
  deps: ConnectorDeps,
): Promise<LifecycleResult> {
  const fields = connectorFields(spec);
  const adoption = steps.find((s) => s.name === 'adopt');
  let connector: Connector;
  let made: 'created' | 'own' | 'foreign' = 'created';
  let adoptedFrom: Record<string, unknown> | undefined;
  let baseline: Connector | undefined;
  const others = steps.flatMap((s) => s.others ?? []);
  if (others.length > 0) deps.log.warn('connector.other-for-account', { awsAccountId: spec.awsAccountId, others });
  if (adoption?.connectorId !== undefined) {
    const before = await api.get(adoption.connectorId);
    const updated = before ? await api.update(adoption.connectorId, fields) : 'absent';
    if (!before || updated === 'absent') {
      deps.log.warn('connector.adopt-vanished', { connectorId: adoption.connectorId });
      connector = await api.create(fields);
      deps.log.info('connector.created', { connectorId: connector.id, name: spec.name, api: api.kind });
    } else {
      made = adoption.foreign ? 'foreign' : 'own';
      if (adoption.foreign) adoptedFrom = restorable(before.raw);
      deps.log.info('connector.adopting', { connectorId: before.id, name: spec.name, foreign: made === 'foreign' });
      connector = before;
      baseline = before;
    }
  } else {
    connector = await api.create(fields);
    baseline = connector;
    deps.log.info('connector.created', { connectorId: connector.id, name: spec.name, api: api.kind });
  }
  const id = connector.id;
  let state = connector.state ?? 'NOT_REPORTED';
  try {
    if (steps.some((s) => s.name === 'wait')) {
      const outcome = await waitUntilRoleAssumed(api, spec, id, deps, baseline);
      state = outcome.state;
    }
  } catch (error) {
    // Undoing gets the time kept back after the work deadline, so that it may wait out a rate limit.
    const cleanupDeadline = deps.cleanupDeadline ?? deps.deadline + CLEANUP_WINDOW_MS;
    throw await undoConnectorCreate(
      api.withDeadlines(cleanupDeadline, cleanupDeadline),
      { id, made, adoptedFrom },
      error,
      deps,
    );
  }
  const { physicalId, tooLong } = encodeConnectorPhysicalId(
    { api: api.kind, apiUrl: spec.apiUrl, id, foreign: made === 'foreign' },
    { adoptedFrom },
  );
  if (tooLong) deps.log.warn('record.too-long', { connectorId: id });
  return { PhysicalResourceId: physicalId, Data: attributes(id, spec, state) };
}

/** Deletes what a failed create made (or put back the foreign connector it adopted); the error to report names what could not be undone. */
async function undoConnectorCreate(
  api: ConnectorApi,
  done: {
    readonly id: string;
    readonly made: 'created' | 'own' | 'foreign';
    readonly adoptedFrom?: Record<string, unknown>;
  },
  cause: unknown,
  deps: ConnectorDeps,
): Promise<Error> {
  const { id, made } = done;
  deps.log.warn('connector.create-undoing', { connectorId: id, made, error: errorMessage(cause) });
  let tail: string;
  try {
    if (made === 'foreign') {
      if (!done.adoptedFrom) throw new IntegrationError('its fields before the adoption were not kept');
      await api.restore(id, done.adoptedFrom);
      tail = `The adopted connector ${id} was put back as it was.`;
    } else {
      await api.delete(id);
      tail =
        made === 'created'
          ? `The connector it had created (ID ${id}) was deleted again.`
          : `The connector it had taken over from an earlier deploy of this environment (ID ${id}) was deleted.`;
    }
  } catch (error) {
    tail =
      made === 'foreign'
        ? `Also: the adopted connector ${id} could not be put back as it was (${errorMessage(error)}).`
        : `Also: connector ${id} could not be deleted (${errorMessage(error)}); delete it in Qualys by hand.`;
  }
  return new IntegrationError(`${errorMessage(cause)} ${tail}`, { cause });
}

// ---- update ---------------------------------------------------------------------------------

/** An update found the connector gone from Qualys: the lifecycle creates it again. */
export const CONNECTOR_GONE = Symbol('connector gone');

export async function applyConnectorUpdate(
  spec: ConnectorSpec,
  current: ConnectorPhysicalId,
  physicalId: string,
  step: ConnectorStep,
  deps: ConnectorDeps,
): Promise<LifecycleResult | typeof CONNECTOR_GONE> {
  const api = await connectConnectorApi(spec, deps, current.api);
  const newRole = step.changes?.some((c) => c === 'role' || c === 'externalId') ?? false;
  // The wait tells this run's result from an older one by the state before it: read only then.
  const before = newRole ? await api.get(current.id) : undefined;
  if (newRole && !before) return CONNECTOR_GONE;
  if ((await api.update(current.id, connectorFields(spec))) === 'absent') return CONNECTOR_GONE;
  deps.log.info('connector.updated', { connectorId: current.id, changed: step.changes ?? [] });
  if (newRole) {
    // Qualys now assumes another role, or with another external ID: shown to work as at create.
    const outcome = await waitUntilRoleAssumed(api, spec, current.id, deps, before);
    return { PhysicalResourceId: physicalId, Data: attributes(current.id, spec, outcome.state) };
  }
  const after = await api.get(current.id);
  if (!after) return CONNECTOR_GONE;
  return { PhysicalResourceId: physicalId, Data: attributes(current.id, spec, after.state ?? 'NOT_REPORTED') };
}

/** The same resource after an update with nothing to change: no call, so the state is not read. */
export function unchangedResource(spec: ConnectorSpec, physicalId: string, id: string): LifecycleResult {
  return { PhysicalResourceId: physicalId, Data: attributes(id, spec, STATE_NOT_READ) };
}

// ---- delete ---------------------------------------------------------------------------------

export async function applyConnectorDelete(
  spec: ConnectorSpec,
  current: ConnectorPhysicalId,
  steps: readonly ConnectorStep[],
  deps: ConnectorDeps,
): Promise<void> {
  const step = steps[0];
  if (!step) return;
  if (step.name === 'keep-adopted') {
    deps.log.warn('connector.keeping-adopted', { connectorId: current.id, reason: step.reason });
    return;
  }
  const api = await connectConnectorApi(spec, deps, current.api);
  if (step.name === 'restore-adopted' && current.record.adoptedFrom) {
    deps.log.warn('connector.keeping-adopted', { connectorId: current.id, reason: step.reason });
    const out = await api.restore(current.id, current.record.adoptedFrom);
    deps.log.info(out === 'updated' ? 'connector.restored' : 'connector.restore-gone', { connectorId: current.id });
    return;
  }
  const out = await api.delete(current.id);
  deps.log.info(out === 'deleted' ? 'connector.deleted' : 'connector.already-gone', { connectorId: current.id });
}

// ---- shared ---------------------------------------------------------------------------------

function attributes(id: string, spec: ConnectorSpec, state: string): Record<string, string> {
  return { [ConnectorAttr.ConnectorId]: id, [ConnectorAttr.ConnectorName]: spec.name, [ConnectorAttr.State]: state };
}

function restorable(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    RESTORABLE_FIELDS.filter((k) => raw[k] !== undefined && raw[k] !== null).map((k) => [k, raw[k]]),
  );
}
