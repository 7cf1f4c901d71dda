/**
 * The connector custom resource's lifecycle (Custom::QualysCloudViewConnector): create, update
 * and delete of one Qualys CloudView / TotalCloud connector, through either connector API, as
 * plain functions over injected clients. Each event is observed, planned (plan.ts, pure) and
 * applied (apply.ts), as the S3 integration's lifecycle is.
 *
 * Create:  read the secret, search the connectors of the account and the name, then create (or
 *          adopt this environment's leftover; refuse a foreign one unless adoptExisting), run it
 *          and wait until Qualys reports it could assume the role; a failed create undoes itself.
 * Update:  in place for name, description, modules, polling and remediation (no call when
 *          nothing changed); a new connector where it must be (the plan says why).
 * Delete:  delete the connector (already gone counts as done); a physical ID that names no
 *          connector is answered at once.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { ConnectorSpec } from '../../connector-contract';
import { CONNECTOR_MODULES, ConnectorProp } from '../../connector-contract';
import { parseConnectorProperties } from '../../connector-properties';
import type { LifecycleResult } from '../apply';
import {
  CONNECTOR_GONE,
  type ConnectorDeps,
  applyConnectorCreate,
  applyConnectorDelete,
  applyConnectorUpdate,
  awsCall,
  connectConnectorApi,
  unchangedResource,
} from './apply';
import { type ConnectorPhysicalId, parseConnectorPhysicalId } from './physical-id';
import { planConnectorCreate, planConnectorDelete, planConnectorUpdate } from './plan';

export { type ConnectorDeps, STATE_NOT_READ } from './apply';
export { type ConnectorPhysicalId, encodeConnectorPhysicalId, parseConnectorPhysicalId } from './physical-id';
export {
  type ConnectorStep,
  connectorFields,
  planConnectorCreate,
  planConnectorDelete,
  planConnectorUpdate,
} from './plan';
export { isAssumeRoleError, waitUntilRoleAssumed } from './wait';

export async function onConnectorEvent(
  event: CloudFormationCustomResourceEvent,
  deps: ConnectorDeps,
): Promise<LifecycleResult> {
  if (event.RequestType === 'Delete' && !parseConnectorPhysicalId(event.PhysicalResourceId)) {
    // Nothing was ever created under this ID (a create that failed): answer before anything can fail.
    deps.log.info('connector.nothing-registered', { physicalId: event.PhysicalResourceId });
    return { PhysicalResourceId: event.PhysicalResourceId, Data: {} };
  }
  // A Create or Update reads the new properties strictly; old properties (an Update's) and a
  // Delete's need only what names the connector: an older template may lack the rest.
  const spec =
    event.RequestType === 'Delete'
      ? parseConnectorProperties(withDefaults(event.ResourceProperties))
      : parseConnectorProperties(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      return createConnector(spec, deps);
    case 'Update':
      return updateConnector(
        parseConnectorProperties(withDefaults(event.OldResourceProperties)),
        spec,
        event.PhysicalResourceId,
        deps,
      );
    case 'Delete': {
      const current = parseConnectorPhysicalId(event.PhysicalResourceId) as ConnectorPhysicalId;
      const status = current.foreign ? await deps.stacks.status(event.StackId, awsCall(deps)) : undefined;
      await applyConnectorDelete(spec, current, planConnectorDelete(current, status), deps);
      return { PhysicalResourceId: event.PhysicalResourceId, Data: {} };
    }
  }
}

/**
 * Properties with the fields that do not name the connector filled in where absent, as the
 * construct's defaults (the configuration's) would have them.
 */
function withDefaults(props: Record<string, unknown> | undefined): Record<string, unknown> {
  return {
    [ConnectorProp.ValidationTimeoutSeconds]: '600',
    [ConnectorProp.PollingHours]: '4',
    [ConnectorProp.Modules]: JSON.stringify(CONNECTOR_MODULES),
    [ConnectorProp.Remediation]: 'false',
    [ConnectorProp.AdoptExisting]: 'false',
    [ConnectorProp.Description]: '',
    ...props,
  };
}

/** Observe (the account's and the name's connectors), plan, apply. `exclude`: the connector an update replaces. */
async function createConnector(spec: ConnectorSpec, deps: ConnectorDeps, exclude?: string): Promise<LifecycleResult> {
  const api = await connectConnectorApi(spec, deps);
  const found = await api.find({ awsAccountId: spec.awsAccountId, name: spec.name });
  const steps = planConnectorCreate(spec, found, { exclude });
  return applyConnectorCreate(api, spec, steps, deps);
}

async function updateConnector(
  old: ConnectorSpec,
  spec: ConnectorSpec,
  physicalId: string,
  deps: ConnectorDeps,
): Promise<LifecycleResult> {
  const current = parseConnectorPhysicalId(physicalId);
  const steps = planConnectorUpdate(old, spec, current);
  const step = steps[0];
  if (!current || step?.name === 'replace') {
    deps.log.info('connector.replacing', { physicalId, reasons: step?.changes ?? [] });
    // The old connector stays until CloudFormation deletes it: it is not in the way of the new one.
    return createConnector(spec, deps, current?.id);
  }
  if (!step) {
    deps.log.info('connector.nothing-to-change', { connectorId: current.id });
    return unchangedResource(spec, physicalId, current.id);
  }
  const out = await applyConnectorUpdate(spec, current, physicalId, step, deps);
  if (out !== CONNECTOR_GONE) return out;
  deps.log.warn('connector.update-gone-creating', { connectorId: current.id });
  return createConnector(spec, deps);
}
