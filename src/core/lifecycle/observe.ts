/**
 * Reading the current state an event's plan depends on: the Qualys integration, the role's
 * trust policy, the CIPS configuration, the stack's status. What could not be read is
 * recorded as unknown (with why), never as empty, so that nothing is removed on its strength.
 */
import type { RoleTrustStore } from '../aws';
import type { IntegrationKind } from '../contract';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { IntegrationDetails, QualysClient } from '../qualys/client';
import { externalIdsFor } from '../trust-policy';
import type { PhysicalId } from './physical-id';
import {
  type CipsView,
  NOTHING_OBSERVED,
  type Observed,
  type Reading,
  propertyChanges,
  replacementReason,
} from './plan';
import type { IntegrationSpec } from '../resource-properties';

/** Before a create: the integrations of the kind, and the one of the configured name if any. */
export async function observeByName(
  qualys: QualysClient,
  spec: IntegrationSpec,
): Promise<{ readonly observed: Observed; readonly listed: readonly IntegrationDetails[] }> {
  const listed = await qualys.listIntegrations(spec.kind);
  return {
    observed: { ...NOTHING_OBSERVED, integration: { state: 'known', value: listed.find((i) => i.name === spec.name) } },
    listed,
  };
}

/**
 * Before an update: nothing from Qualys (an update reads the integration right after its PUT,
 * and one whose properties say nothing changed makes no call at all), and the stack's status
 * only where it decides something: a rotation or a trust reset during a rollback.
 */
export async function observeForUpdate(
  old: IntegrationSpec,
  spec: IntegrationSpec,
  current: PhysicalId | undefined,
  readStatus: () => Promise<string | undefined>,
  log: Logger,
): Promise<Observed> {
  if (replacementReason(old, spec, current)) return NOTHING_OBSERVED;
  const changes = propertyChanges(old, spec);
  if (!changes.rotate && !changes.trustReset) return NOTHING_OBSERVED;
  try {
    return { ...NOTHING_OBSERVED, stackStatus: { state: 'known', value: await readStatus() } };
  } catch (error) {
    log.warn('update.stack-status-unknown', { error: errorMessage(error) });
    return { ...NOTHING_OBSERVED, stackStatus: { state: 'unknown', why: errorMessage(error) } };
  }
}

/** Before a delete: the stack's status, where the integration was adopted (a rollback keeps it). */
export async function observeForDelete(
  current: PhysicalId,
  readStatus: () => Promise<string | undefined>,
): Promise<Observed> {
  if (!current.foreign) return NOTHING_OBSERVED;
  return { ...NOTHING_OBSERVED, stackStatus: { state: 'known', value: await readStatus() } };
}

/**
 * Everything at once, for `qualys-s3 diff`: the integration by its ID, the external IDs the
 * role requires of the Qualys principal, and (PC) the CIPS configuration. Reads only.
 */
export async function observeLive(
  qualys: QualysClient,
  trust: Pick<RoleTrustStore, 'read'>,
  target: {
    readonly kind: IntegrationKind;
    readonly integrationId: string;
    readonly roleName: string;
    readonly principalArn: string;
  },
): Promise<Observed> {
  const integration = await reading<IntegrationDetails | undefined>(() =>
    qualys.getIntegration(target.kind, target.integrationId),
  );
  const trustedExternalIds = await reading(async () =>
    externalIdsFor(await trust.read(target.roleName), target.principalArn),
  );
  const cips: Reading<CipsView> = target.kind === 'pc' ? await observeCips(qualys) : { state: 'unread' };
  return { ...NOTHING_OBSERVED, integration, trustedExternalIds, cips };
}

export async function observeCips(qualys: QualysClient): Promise<Reading<CipsView>> {
  const config = await reading(() => qualys.getCipsConfig());
  if (config.state !== 'known') return config;
  if (!config.value.readable) return { state: 'unknown', why: config.value.reading };
  return { state: 'known', value: { policies: config.value.policies, filter: config.value.filter } };
}

async function reading<T>(read: () => Promise<T>): Promise<Reading<T>> {
  try {
    return { state: 'known', value: await read() };
  } catch (error) {
    return { state: 'unknown', why: errorMessage(error) };
  }
}
