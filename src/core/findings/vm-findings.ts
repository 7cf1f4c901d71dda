/**
 * One VM record to vm_findings rows. The guide does not show the format, so nothing is assumed:
 * every record is kept whole in `raw`, and the usual fields are picked out under any of several
 * plausible names, case- and separator-insensitively (`hostId`, `host_id`, `HOST_ID`, and the
 * same under a nested `host` / `asset` object, as the VM detection API nests them).
 *
 * Containers: a record without a QID of its own that holds an array of objects under a wrapper
 * name (`findings`, `data`, `detections`, `vulnerabilities`, ...) is a container, e.g.
 * `{"findings":[...]}` or a host with its detection list: it yields one row per element, each
 * element's fields read first and the container's scalar fields (a host's id, ip, ...) second.
 * `raw` is then the element with the rest of the container under `_container` (the container
 * without its list: a host's tags, cloud details, last scan, ...), so nothing of the record is
 * lost. A container with an empty list is one row, `raw` the container itself (a host with no
 * detections is still a record).
 *
 * A record that maps to nothing (a number, a string, an object with none of the fields) is still
 * a row: the fields are null and `raw` holds it. No record is dropped.
 */
import type { Row } from './tables';
import { isPlainObject, normalizedKey, toBigint, toInt, toText, toTimestamp } from './values';

/**
 * What a VM key holds: vuln_info for keys under qualys_vm_findings/vuln_info/, else findings (the
 * guide reads both ways, qualys_vm_findings/<day>/ and qualys_vm_findings/findings/<day>/, and
 * both are findings).
 */
export function vmRecordType(key: string): 'findings' | 'vuln_info' {
  const rest = key.startsWith('qualys_vm_findings/') ? key.slice('qualys_vm_findings/'.length) : key;
  return /^vuln_info(\/|$)/i.test(rest) ? 'vuln_info' : 'findings';
}

/** The key a container's own fields go under in each element's `raw`. */
export const CONTAINER_KEY = '_container';

/** Column to the names it may go by (normalized: lowercase, no separators), in order of preference. */
const FIELD_NAMES: Readonly<Record<string, readonly string[]>> = {
  host_id: ['hostid', 'host.id', 'host.hostid', 'asset.hostid'],
  asset_id: ['assetid', 'asset.id', 'host.assetid', 'asset.assetid'],
  ip: ['ip', 'ipaddress', 'host.ip', 'asset.ip', 'ipv4'],
  dns: ['dns', 'hostname', 'host.dns', 'asset.dns', 'fqdn', 'dnsname'],
  os: ['os', 'operatingsystem', 'host.os', 'asset.os'],
  qid: ['qid', 'detection.qid', 'vulnerability.qid', 'vuln.qid', 'finding.qid'],
  severity: ['severity', 'severitylevel', 'detection.severity', 'vulnerability.severity', 'vuln.severity'],
  status: ['status', 'vulnstatus', 'detection.status', 'finding.status'],
  type: ['type', 'detectiontype', 'detection.type', 'vulnerabilitytype'],
  title: ['title', 'name', 'vulnerability.title', 'vuln.title', 'detection.title'],
  port: ['port', 'detection.port'],
  protocol: ['protocol', 'detection.protocol'],
  first_found: ['firstfound', 'firstfounddatetime', 'firstfounddate', 'detection.firstfounddatetime', 'firstdetected'],
  last_found: ['lastfound', 'lastfounddatetime', 'lastfounddate', 'detection.lastfounddatetime', 'lastdetected'],
  last_fixed: ['lastfixed', 'lastfixeddatetime', 'lastfixeddate', 'detection.lastfixeddatetime'],
};

/** Array-valued keys that make a record a container of findings (normalized names). */
const WRAPPERS = new Set([
  'findings',
  'data',
  'items',
  'records',
  'results',
  'detections',
  'detectionlist',
  'detection',
  'vulnerabilities',
  'vulns',
  'vulnlist',
]);

/** The record's fields by normalized name, one level of nested objects included as `parent.child`. */
function fieldIndex(record: Record<string, unknown>): Map<string, unknown> {
  const index = new Map<string, unknown>();
  for (const key in record) {
    const value = record[key];
    const name = normalizedKey(key);
    if (!index.has(name)) index.set(name, value);
    if (isPlainObject(value)) {
      for (const sub in value) {
        const nested = `${name}.${normalizedKey(sub)}`;
        if (!index.has(nested)) index.set(nested, value[sub]);
      }
    }
  }
  return index;
}

function pick(indexes: readonly Map<string, unknown>[], column: string): unknown {
  for (const index of indexes)
    for (const name of FIELD_NAMES[column]) {
      const value = index.get(name);
      if (value !== undefined && value !== null && value !== '') return value;
    }
  return null;
}

function row(raw: unknown, indexes: readonly Map<string, unknown>[], recordType: string, sourceKey: string): Row {
  const date = (column: string) => toTimestamp(pick(indexes, column)) ?? null;
  return {
    host_id: toBigint(pick(indexes, 'host_id')),
    asset_id: toBigint(pick(indexes, 'asset_id')),
    ip: toText(pick(indexes, 'ip')),
    dns: toText(pick(indexes, 'dns')),
    os: toText(pick(indexes, 'os')),
    qid: toBigint(pick(indexes, 'qid')),
    severity: toInt(pick(indexes, 'severity')),
    status: toText(pick(indexes, 'status')),
    type: toText(pick(indexes, 'type')),
    title: toText(pick(indexes, 'title')),
    port: toInt(pick(indexes, 'port')),
    protocol: toText(pick(indexes, 'protocol')),
    first_found: date('first_found'),
    last_found: date('last_found'),
    last_fixed: date('last_fixed'),
    record_type: recordType,
    raw: JSON.stringify(raw) ?? 'null',
    source_key: sourceKey,
  };
}

interface Contained {
  readonly findings: unknown[];
  /** The container without its list (the list's key removed, at the level it was found). */
  readonly rest: Record<string, unknown>;
}

const without = (record: Record<string, unknown>, key: string): Record<string, unknown> => {
  const { [key]: _, ...rest } = record;
  return rest;
};

/** The array of finding objects a container holds, or undefined when the record is a finding itself. */
function containedFindings(record: Record<string, unknown>, index: Map<string, unknown>): Contained | undefined {
  if (index.has('qid')) return undefined;
  for (const key in record) {
    const value = record[key];
    if (!WRAPPERS.has(normalizedKey(key))) continue;
    if (Array.isArray(value) && value.every((item) => isPlainObject(item)))
      return { findings: value, rest: without(record, key) };
    // The detection API's DETECTION_LIST: {"DETECTION": [...]}.
    if (isPlainObject(value)) {
      for (const sub in value) {
        const inner = value[sub];
        if (WRAPPERS.has(normalizedKey(sub)) && Array.isArray(inner) && inner.every((item) => isPlainObject(item))) {
          const rest = without(record, key);
          const others = without(value, sub);
          if (Object.keys(others).length > 0) rest[key] = others;
          return { findings: inner, rest };
        }
      }
    }
  }
  return undefined;
}

/** The container's scalar fields (its host's id, ip, ...): the context its elements are read in. */
function scalarContext(record: Record<string, unknown>): Map<string, unknown> {
  const index = fieldIndex(record);
  for (const [name, value] of index) if (typeof value === 'object' && value !== null) index.delete(name);
  return index;
}

/** The rows of one VM record (a container yields one per element; see the module comment). */
export function mapVmRecord(record: unknown, sourceKey: string): Row[] {
  const recordType = vmRecordType(sourceKey);
  if (!isPlainObject(record)) return [row(record, [], recordType, sourceKey)];
  const index = fieldIndex(record);
  const contained = containedFindings(record, index);
  if (!contained || contained.findings.length === 0) return [row(record, [index], recordType, sourceKey)];
  const context = scalarContext(record);
  return contained.findings.map((finding) =>
    row(
      { ...(finding as Record<string, unknown>), [CONTAINER_KEY]: contained.rest },
      [fieldIndex(finding as Record<string, unknown>), context],
      recordType,
      sourceKey,
    ),
  );
}
