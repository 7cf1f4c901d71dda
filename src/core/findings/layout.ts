/**
 * Where things are: the raw prefixes Qualys writes into the findings bucket (guide, "View
 * Findings on AWS S3 Console"), and the layout of the lake bucket the normalizer writes.
 * The Lambda, the CLI's local `normalize` and the Glue tables all take their keys from here.
 *
 * Lake bucket:
 *   curated/<table>/day=YYYY-MM-DD/<objectId>.parquet   one file per source object and table
 *   quarantine/<source key>                              a copy of a source that could not be read
 *   quarantine/<source key>.reason.json                  why, and what was read before it failed
 *   manifests/<objectId>.json                            what a source produced (for redelivery)
 */
import { createHash } from 'node:crypto';
import type { TableName } from './tables';
import { isCalendarDay } from './values';

export const RAW_PREFIXES = {
  pc: 'qualys_pc_posture_info/',
  vm: 'qualys_vm_findings/',
} as const;

export const CURATED_PREFIX = 'curated/';
export const QUARANTINE_PREFIX = 'quarantine/';
export const MANIFEST_PREFIX = 'manifests/';

/** The table a raw key feeds, or undefined for a key outside both raw prefixes. */
export function tableOfKey(key: string): TableName | undefined {
  if (key.startsWith(RAW_PREFIXES.pc)) return 'pc_postures';
  if (key.startsWith(RAW_PREFIXES.vm)) return 'vm_findings';
  return undefined;
}

/** Qualys's connection-validation files (test-file.gz / test-file.json): not findings. */
export function isValidationFile(key: string): boolean {
  return /(^|\/)test-file\.(gz|json)$/i.test(key);
}

const DAY = /(?:^|\/)(\d{4}-\d{2}-\d{2})(?:\/|$)/;

/**
 * The partition day of a raw key: its YYYY-MM-DD folder (the guide's two readings of the VM
 * layout, `qualys_vm_findings/<day>/` and `qualys_vm_findings/findings/<day>/`, both have one);
 * else the day the object was last modified (UTC). A folder that is no calendar day (2023-02-30)
 * is not a day: Athena's date projection would never enumerate it (checked by round trip, as
 * Date.parse accepts any day up to 31 in any month).
 */
export function partitionDay(key: string, lastModified: Date): string {
  const match = DAY.exec(key);
  if (match && isCalendarDay(match[1])) return match[1];
  return lastModified.toISOString().slice(0, 10);
}

/** A stable, key-safe name for a source object: the same object always maps to the same outputs. */
export function objectId(bucket: string, key: string): string {
  return createHash('sha256').update(`${bucket}/${key}`).digest('hex').slice(0, 32);
}

export function curatedKey(table: TableName, day: string, id: string): string {
  return `${CURATED_PREFIX}${table}/day=${day}/${id}.parquet`;
}

export function tablePrefix(table: TableName): string {
  return `${CURATED_PREFIX}${table}/`;
}

export function manifestKey(id: string): string {
  return `${MANIFEST_PREFIX}${id}.json`;
}

export function quarantineKey(sourceKey: string): string {
  return `${QUARANTINE_PREFIX}${sourceKey}`;
}

/** The environment the stack gives the normalizer function and the handler reads. */
export const NORMALIZER_ENV = {
  /** The bucket Qualys writes raw objects to. */
  findingsBucket: 'FINDINGS_BUCKET',
  /** The bucket the curated Parquet, quarantine and manifests go to. */
  lakeBucket: 'LAKE_BUCKET',
} as const;
