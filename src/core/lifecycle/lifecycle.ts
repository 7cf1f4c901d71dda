/**
 * The custom resource's lifecycle: create, update and delete of one Qualys S3 integration
 * (VM or PC), as plain functions over injected clients. Each event is observed (observe.ts),
 * planned (plan.ts, a pure function) and applied (apply.ts).
 *
 * Create:  read the secret, authenticate, list the integrations, then register (or adopt an
 *          existing integration of the same name), write its external ID into the role's trust
 *          policy, validate until IAM has propagated, and for PC bring CIPS to the configured
 *          state; a failed create undoes what it did.
 * Update:  PUT the changed settings in place (same integration ID), regenerate the external ID
 *          when asked, restore the external ID whenever CloudFormation rewrote the trust
 *          policy, validate again, and diff the CIPS policy list. An update whose properties
 *          say nothing changed has an empty plan and makes no call.
 * Delete:  DELETE the integration (404 counts as done) and remove its CIPS policies.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  GONE,
  type LifecycleDeps,
  type LifecycleResult,
  applyCreate,
  applyDelete,
  applyUpdate,
  awsCall,
  connect,
  sameResource,
} from './apply';
import { observeByName, observeForDelete, observeForUpdate } from './observe';
import { type PhysicalId, parsePhysicalId } from './physical-id';
import { plan } from './plan';
import { type IntegrationSpec, parseProperties } from '../resource-properties';

export {
  CLEANUP_WINDOW_MS,
  type LifecycleDeps,
  type LifecycleResult,
  VALIDATION_FIRST_WAIT_MS,
  VALIDATION_GROWTH,
  VALIDATION_MAX_STEP_MS,
  validationAttemptAt,
} from './apply';
export { type CreateRecord, type PhysicalId, parsePhysicalId } from './physical-id';
export { type IntegrationSpec, parseProperties } from '../resource-properties';

export async function onEvent(event: CloudFormationCustomResourceEvent, deps: LifecycleDeps): Promise<LifecycleResult> {
  if (event.RequestType === 'Delete' && !parsePhysicalId(event.PhysicalResourceId)) {
    // Nothing was ever registered under this ID: answer before anything else can fail.
    deps.log.info('delete.nothing-registered', {
      physicalId: event.PhysicalResourceId,
    });
    return { PhysicalResourceId: event.PhysicalResourceId, Data: {} };
  }
  const spec = parseProperties(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      return create(spec, deps);
    case 'Update':
      return update(parseProperties(event.OldResourceProperties), spec, event.PhysicalResourceId, event.StackId, deps);
    case 'Delete': {
      const current = parsePhysicalId(event.PhysicalResourceId) as PhysicalId;
      const observed = await observeForDelete(current, () => deps.stacks.status(event.StackId, awsCall(deps)));
      await applyDelete(spec, current, plan(spec, { kind: 'delete', physicalId: current }, observed), observed, deps);
      return { PhysicalResourceId: event.PhysicalResourceId, Data: {} };
    }
  }
}

async function create(
  spec: IntegrationSpec,
  deps: LifecycleDeps,
  inherited: { readonly ownedPolicies?: readonly number[] } = {},
): Promise<LifecycleResult> {
  const qualys = await connect(spec, deps);
  const { observed, listed } = await observeByName(qualys, spec);
  const steps = plan(spec, { kind: 'create' }, observed);
  const existing = observed.integration.state === 'known' ? observed.integration.value : undefined;
  return applyCreate(qualys, spec, steps, { existing, listed }, deps, inherited);
}

async function update(
  old: IntegrationSpec,
  spec: IntegrationSpec,
  physicalId: string,
  stackId: string,
  deps: LifecycleDeps,
): Promise<LifecycleResult> {
  const current = parsePhysicalId(physicalId);
  const observed = await observeForUpdate(
    old,
    spec,
    current,
    () => deps.stacks.status(stackId, awsCall(deps)),
    deps.log,
  );
  const event = { kind: 'update', old, physicalId: current } as const;
  const steps = plan(spec, event, observed);
  if (steps[0]?.name === 'replace' || !current) {
    deps.log.info('update.replacing', { physicalId, gatewayChanged: old.gatewayUrl !== spec.gatewayUrl });
    return create(spec, deps);
  }
  if (steps.length === 0) {
    deps.log.info('update.nothing-to-change', { integrationId: current.id });
    return sameResource(spec, physicalId, current.id);
  }
  const outcome = await applyUpdate(spec, old, current, physicalId, steps, observed, deps, (inherited) =>
    create(spec, deps, inherited),
  );
  if (outcome !== GONE) return outcome;
  // The integration was deleted outside this stack: the plan for what is there now registers it again.
  const again = plan(spec, event, { ...observed, integration: { state: 'known', value: undefined } });
  deps.log.warn('update.gone-registering-again', { integrationId: again[0]?.integrationId ?? current.id });
  return create(spec, deps);
}
