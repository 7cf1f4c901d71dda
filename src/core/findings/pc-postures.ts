/**
 * One PC host record (the guide's "Sample: Posture Data Transferred using CIPS") to its rows of
 * pc_postures: one per host x policy x control posture.
 *
 * The guide's quirks, read as Qualys sends them:
 * - the host's last scan is `complianceLastScanData` (sic); `complianceLastScanDate` is read too;
 * - `evidence` is a JSON *string*, which may not parse; its keys may carry a trailing space
 *   (`"expectedValues "`); the raw string is always kept, the parsed parts where it parses;
 * - timestamps may be malformed (`"2023-01-16T10:49:432"`): the column is then null and the
 *   value, as sent, is recorded in `unparsed_values`;
 * - ids may arrive as strings; an id that does not fit INT64 (a 19-digit string beyond 2^63-1,
 *   a JSON number beyond 2^53 that JSON.parse rounded, text) is null and recorded, as sent, in
 *   `unparsed_values` too (its digits from the record's JSON text, when the caller passes it);
 * - anything may be null; policies and postures may be missing or empty (a host without postures
 *   has no rows: see {@link mapHostRecord}); `policy` / `posture` may be one object instead of a
 *   list (read as a list of one); a policy or posture that is not an object is returned as
 *   unmapped, for the caller to keep (never skipped silently).
 */
import type { Row } from './tables';
import { isPlainObject, numberAsSent, readBigint, toText, toTimestamp, unparsedJson } from './values';

/** A part of a host record that did not map (a posture that is not an object, ...): kept by the caller. */
export interface UnmappedPart {
  /** Where in the host record, e.g. `policy[0].posture[3]`. */
  readonly path: string;
  readonly reason: string;
  readonly value: unknown;
}

export type HostMapping =
  | { readonly kind: 'rows'; readonly rows: Row[]; readonly unmapped: UnmappedPart[] }
  /** The record is not a host (not an object, or an object with neither host fields nor policies): kept aside by the caller. */
  | { readonly kind: 'unmapped'; readonly reason: string };

interface ParsedEvidence {
  description: string | null;
  expected: string[] | null;
  actual: string[] | null;
}

const NO_EVIDENCE: ParsedEvidence = { description: null, expected: null, actual: null };

/** The evidence string's parts, where it parses as a JSON object; keys trimmed (the guide's `"expectedValues "`). */
export function parseEvidence(evidence: unknown): ParsedEvidence {
  let doc: unknown = evidence;
  if (typeof evidence === 'string') {
    if (evidence.length === 0 || evidence.charCodeAt(0) !== 0x7b) return NO_EVIDENCE;
    try {
      doc = JSON.parse(evidence);
    } catch {
      return NO_EVIDENCE;
    }
  }
  if (!isPlainObject(doc)) return NO_EVIDENCE;
  const parsed: ParsedEvidence = { description: null, expected: null, actual: null };
  for (const key in doc) {
    const name = key.trim();
    if (name === 'description') parsed.description = toText(doc[key]);
    else if (name === 'expectedValues') parsed.expected = toStringList(doc[key]);
    else if (name === 'actualValues') parsed.actual = toStringList(doc[key]);
  }
  return parsed;
}

function toStringList(value: unknown): string[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value)) return [toText(value) ?? ''];
  return value.map((item) => (typeof item === 'string' ? item : (toText(item) ?? '')));
}

const HOST_KEYS = ['hostId', 'assetId', 'ip', 'dns', 'policy', 'policies'];

/**
 * The rows of one host record. A host with no policies, or policies with no postures, has no
 * rows (there is no posture to report; its host fields reach the lake with its next posture).
 */
export function mapHostRecord(record: unknown, sourceKey: string, recordText?: string): HostMapping {
  if (!isPlainObject(record))
    return {
      kind: 'unmapped',
      reason: `a ${record === null ? 'null' : Array.isArray(record) ? 'array' : typeof record}, not a host object`,
    };
  if (!HOST_KEYS.some((key) => key in record))
    return { kind: 'unmapped', reason: 'an object with none of hostId, assetId, ip, dns, policy' };

  /** An id: the value, or null with the value as sent recorded in `into`. */
  const id = (value: unknown, name: string, into: Unparsed): bigint | null => {
    const read = readBigint(value);
    if (read !== undefined) return read;
    into.note(name, typeof value === 'number' ? numberAsSent(value, recordText) : value);
    return null;
  };

  const hostUnparsed = new Unparsed();
  const rawScan =
    record.complianceLastScanData !== undefined ? record.complianceLastScanData : record.complianceLastScanDate;
  const scanDate = toTimestamp(rawScan);
  if (scanDate === undefined)
    hostUnparsed.note(
      record.complianceLastScanData !== undefined ? 'complianceLastScanData' : 'complianceLastScanDate',
      rawScan,
    );
  const hostId = id(record.hostId, 'hostId', hostUnparsed);
  const assetId = id(record.assetId, 'assetId', hostUnparsed);
  const ip = toText(record.ip);
  const dns = toText(record.dns);
  const os = toText(record.os);
  const osCpe = toText(record.osCpe);
  const trackingMethod = toText(record.trackingMethod);
  const customerId = id(record.customerId, 'customerId', hostUnparsed);
  const customerUuid = toText(record.customerUuid);
  const complianceLastScanDate = scanDate ?? null;

  const rows: Row[] = [];
  const unmapped: UnmappedPart[] = [];
  const policyName = record.policy !== undefined ? 'policy' : 'policies';
  const policies = listOf(record[policyName], policyName, unmapped);
  for (let p = 0; p < policies.length; p++) {
    const policy = policies[p];
    const policyPath = `${policyName}[${p}]`;
    if (!isPlainObject(policy)) {
      unmapped.push({ path: policyPath, reason: `a policy that is ${describe(policy)}, not an object`, value: policy });
      continue;
    }
    const policyUnparsed = new Unparsed(hostUnparsed);
    const policyId = id(policy.id, 'policy.id', policyUnparsed);
    const postureName = policy.posture !== undefined ? 'posture' : 'postures';
    const postures = listOf(policy[postureName], `${policyPath}.${postureName}`, unmapped);
    for (let q = 0; q < postures.length; q++) {
      const posture = postures[q];
      if (!isPlainObject(posture)) {
        unmapped.push({
          path: `${policyPath}.${postureName}[${q}]`,
          reason: `a posture that is ${describe(posture)}, not an object`,
          value: posture,
        });
        continue;
      }
      const unparsed = new Unparsed(policyUnparsed);
      const date = (field: string): Date | null => {
        const value = posture[field];
        const parsed = toTimestamp(value);
        if (parsed !== undefined) return parsed;
        unparsed.note(field, value);
        return null;
      };
      const evidence = posture.evidence;
      const parsed = parseEvidence(evidence);
      // One literal, in the table's column order: the rows of a file share one shape.
      const row: Row = {
        host_id: hostId,
        asset_id: assetId,
        ip,
        dns,
        os,
        os_cpe: osCpe,
        tracking_method: trackingMethod,
        customer_id: customerId,
        customer_uuid: customerUuid,
        compliance_last_scan_date: complianceLastScanDate,
        policy_id: policyId,
        posture_id: id(posture.id, 'posture.id', unparsed),
        control_id: id(posture.controlId, 'controlId', unparsed),
        technology_id: id(posture.technologyId, 'technologyId', unparsed),
        instance: toText(posture.instance),
        posture: toText(posture.posture),
        last_posture: toText(posture.lastPosture),
        control_statement: toText(posture.controlStatement),
        control_reference: toText(posture.controlReference),
        remediation: toText(posture.remediation),
        evaluation_date: date('evaluationDate'),
        posture_modified_date: date('postureModifiedDate'),
        first_evaluated_date: date('firstEvaluatedDate'),
        fail_date_first_found: date('failDateFirstFound'),
        fail_date_last_found: date('failDateLastFound'),
        passed_date_first_found: date('passedDateFirstFound'),
        passed_date_last_found: date('passedDateLastFound'),
        evidence: toText(evidence),
        evidence_description: parsed.description,
        expected_values: parsed.expected,
        actual_values: parsed.actual,
        unparsed_values: null,
        source_key: sourceKey,
      };
      if (unparsed.fields) row.unparsed_values = unparsedJson(unparsed.fields);
      rows.push(row);
    }
  }
  return { kind: 'rows', rows, unmapped };
}

/**
 * The fields of a host, a policy or a posture whose value could not be stored in its column, as
 * sent; a policy's start as its host's and a posture's as its policy's (copied on the first note,
 * so the common case, nothing to note, allocates no object).
 */
class Unparsed {
  fields: Record<string, unknown> | undefined;
  private owned = false;
  constructor(parent?: Unparsed) {
    this.fields = parent?.fields;
  }
  note(name: string, value: unknown): void {
    const fields = this.owned ? (this.fields as Record<string, unknown>) : { ...this.fields };
    fields[name] = value;
    this.fields = fields;
    this.owned = true;
  }
}

/** A list field: a list as it is, one object as a list of one, absent as none; anything else is unmapped. */
function listOf(value: unknown, path: string, unmapped: UnmappedPart[]): readonly unknown[] {
  if (Array.isArray(value)) return value;
  if (value === undefined || value === null) return [];
  if (isPlainObject(value)) return [value];
  unmapped.push({ path, reason: `${describe(value)}, not a list or an object`, value });
  return [];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
