/**
 * The custom resource's physical ID: the integration it names, the gateway that holds it, and
 * the record the resource keeps from its create until its delete.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { IntegrationKind } from '../contract';

/**
 * What a resource must remember from its create until its delete. CloudFormation's Update and
 * Delete events carry only the physical ID and the template's properties, so the record
 * travels in the physical ID, which stays the same for the resource's life.
 */
export interface CreateRecord {
  /** An adopted foreign integration's fields before this stack changed them. */
  readonly adoptedFrom?: Record<string, unknown>;
  /** Configured CIPS policies that were in CIPS before this resource's create: never removed by it. */
  readonly keptPolicies?: readonly number[];
  /**
   * The external ID at create, kept only where Qualys's details do not carry it (the guide's
   * PC sample): the one source left when CloudFormation rewrites the trust policy. Not a
   * secret (AWS: the external ID is no secret; it stands in the trust policy too).
   */
  readonly externalId?: string;
  /** The record did not fit the physical ID: no CIPS policy is removed and nothing is put back. */
  readonly incomplete?: boolean;
}

export interface PhysicalId {
  readonly kind: IntegrationKind;
  readonly id: string;
  readonly foreign: boolean;
  readonly record: CreateRecord;
}

/** CloudFormation's limit on a physical ID is 1 KB. */
export const MAX_PHYSICAL_ID_LENGTH = 1000;

const ADOPTED_SUFFIX = ':adopted';

/**
 * The physical ID names the integration and the gateway that holds it: IDs are numbered per
 * platform, so without the gateway a move to another platform that happened to hand out the
 * same ID would look like no replacement to CloudFormation, which would then never delete
 * the integration on the old platform. A record too long for the limit is replaced by one
 * that says so (`tooLong`), so that the resource never acts on what it could not keep.
 */
export function encodePhysicalId(
  target: {
    readonly kind: IntegrationKind;
    readonly gatewayUrl: string;
    readonly id: string;
    readonly foreign: boolean;
  },
  record: CreateRecord,
): { readonly physicalId: string; readonly tooLong: boolean } {
  const base = `${target.kind}:${target.id}@${new URL(target.gatewayUrl).host}${target.foreign ? ADOPTED_SUFFIX : ''}`;
  const compact: CreateRecord = {
    ...(record.adoptedFrom ? { adoptedFrom: record.adoptedFrom } : {}),
    ...(record.keptPolicies?.length ? { keptPolicies: record.keptPolicies } : {}),
    ...(record.externalId ? { externalId: record.externalId } : {}),
  };
  const physicalId = Object.keys(compact).length === 0 ? base : `${base}~${encodeRecord(compact)}`;
  if (physicalId.length <= MAX_PHYSICAL_ID_LENGTH) return { physicalId, tooLong: false };
  return { physicalId: `${base}~${encodeRecord({ incomplete: true })}`, tooLong: true };
}

export function encodeRecord(record: CreateRecord): string {
  return deflateRawSync(JSON.stringify(record)).toString('base64url');
}

export function decodeRecord(text: string | undefined): CreateRecord {
  if (!text) return {};
  try {
    const parsed = JSON.parse(inflateRawSync(Buffer.from(text, 'base64url')).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as CreateRecord) : { incomplete: true };
  } catch {
    return { incomplete: true };
  }
}

export function parsePhysicalId(physicalId: string | undefined): PhysicalId | undefined {
  const match = /^(vm|pc):([^:@~]+)(?:@[^\s~]+?)?(:adopted)?(?:~([A-Za-z0-9_-]+))?$/.exec(physicalId ?? '');
  if (!match) return undefined;
  return {
    kind: match[1] as IntegrationKind,
    id: match[2],
    foreign: match[3] !== undefined,
    record: decodeRecord(match[4]),
  };
}
