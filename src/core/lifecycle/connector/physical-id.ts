/**
 * The connector resource's physical ID: the API that holds the connector, its ID there, and the
 * API server (`connectors-v3:1234@qualysapi.qg2.apps.qualys.com`,
 * `cloudview:1b2c...@qualysapi.qualys.eu`). Another API or another server is another
 * connector: a change of either gives a new physical ID, and CloudFormation then deletes the
 * old one. An adopted connector that was not this stack's carries `:adopted` and, in its
 * record, the fields it had, so that a rollback can put it back.
 */
import type { ConnectorApiKind } from '../../connector-contract';
import { type CreateRecord, MAX_PHYSICAL_ID_LENGTH, decodeRecord, encodeRecord } from '../physical-id';

export type ConnectorRecord = Pick<CreateRecord, 'adoptedFrom' | 'incomplete'>;

export interface ConnectorPhysicalId {
  readonly api: ConnectorApiKind;
  readonly id: string;
  /** The API server's host (and port), as in the ID. */
  readonly host: string;
  readonly foreign: boolean;
  readonly record: ConnectorRecord;
}

const ADOPTED_SUFFIX = ':adopted';

export function encodeConnectorPhysicalId(
  target: { readonly api: ConnectorApiKind; readonly apiUrl: string; readonly id: string; readonly foreign: boolean },
  record: ConnectorRecord,
): { readonly physicalId: string; readonly tooLong: boolean } {
  const base = `${target.api}:${target.id}@${new URL(target.apiUrl).host}${target.foreign ? ADOPTED_SUFFIX : ''}`;
  const physicalId = record.adoptedFrom ? `${base}~${encodeRecord({ adoptedFrom: record.adoptedFrom })}` : base;
  if (physicalId.length <= MAX_PHYSICAL_ID_LENGTH) return { physicalId, tooLong: false };
  return { physicalId: `${base}~${encodeRecord({ incomplete: true })}`, tooLong: true };
}

export function parseConnectorPhysicalId(physicalId: string | undefined): ConnectorPhysicalId | undefined {
  const match = /^(connectors-v3|cloudview):([^:@~\s]+)@([^\s~]+?)(:adopted)?(?:~([A-Za-z0-9_-]+))?$/.exec(
    physicalId ?? '',
  );
  if (!match) return undefined;
  const record = decodeRecord(match[5]);
  return {
    api: match[1] as ConnectorApiKind,
    id: match[2],
    host: match[3],
    foreign: match[4] !== undefined,
    record: { adoptedFrom: record.adoptedFrom, incomplete: record.incomplete },
  };
}
