/**
 * One PC host record (the guide's "Sample: Posture Data Transferred using CIPS") to its rows of
 * pc_postures: one per host x policy x control posture.
 *
 * The guide's quirks, read as Qualys sends them:
 * - the host's last scan is `complianceLastScanData` (sic); `complianceLastScanDate` is read too;
 * - `evidence` is a JSON *string*, which may not parse; its keys may carry a trailing space
 *   (`"expectedValues "`); the raw string is always kept, the parsed parts where it parses;
 * - timestamps may be malformed (`"2023-01-16T10:49:432"`): the column is then null and the
 *   value, as sent, is recorded in `unparsed_dates`;
 * - ids may arrive as strings; anything may be null; policies and postures may be missing or empty
 *   (a host without postures has no rows: see {@link mapHostRecord}).
 */
import type { Row } from './tables';
import { isPlainObject, toBigint, toText, toTimestamp } from './values';

export type HostMapping =
  | { readonly kind: 'rows'; readonly rows: Row[] }
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
export function mapHostRecord(record: unknown, sourceKey: string): HostMapping {
  if (!isPlainObject(record))
    return {
      kind: 'unmapped',
      reason: `a ${record === null ? 'null' : Array.isArray(record) ? 'array' : typeof record}, not a host object`,
    };
  if (!HOST_KEYS.some((key) => key in record))
    return { kind: 'unmapped', reason: 'an object with none of hostId, assetId, ip, dns, policy' };

  const rawScan =
    record.complianceLastScanData !== undefined ? record.complianceLastScanData : record.complianceLastScanDate;
  const scanDate = toTimestamp(rawScan);
  const hostUnparsed: Record<string, unknown> | undefined =
    scanDate === undefined
      ? { [record.complianceLastScanData !== undefined ? 'complianceLastScanData' : 'complianceLastScanDate']: rawScan }
      : undefined;
  const hostId = toBigint(record.hostId);
  const assetId = toBigint(record.assetId);
  const ip = toText(record.ip);
  const dns = toText(record.dns);
  const os = toText(record.os);
  const osCpe = toText(record.osCpe);
  const trackingMethod = toText(record.trackingMethod);
  const customerId = toBigint(record.customerId);
  const customerUuid = toText(record.customerUuid);
  const complianceLastScanDate = scanDate ?? null;

  const rows: Row[] = [];
  const policies = record.policy ?? record.policies;
  if (!Array.isArray(policies)) return { kind: 'rows', rows };
  for (const policy of policies) {
    if (!isPlainObject(policy)) continue;
    const policyId = toBigint(policy.id);
    const postures = policy.posture ?? policy.postures;
    if (!Array.isArray(postures)) continue;
    for (const posture of postures) {
      if (!isPlainObject(posture)) continue;
      let unparsed = hostUnparsed;
      const date = (field: string): Date | null => {
        const value = posture[field];
        const parsed = toTimestamp(value);
        if (parsed !== undefined) return parsed;
        unparsed = { ...unparsed, [field]: value };
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
        posture_id: toBigint(posture.id),
        control_id: toBigint(posture.controlId),
        technology_id: toBigint(posture.technologyId),
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
        unparsed_dates: null,
        source_key: sourceKey,
      };
      if (unparsed) row.unparsed_dates = JSON.stringify(unparsed);
      rows.push(row);
    }
  }
  return { kind: 'rows', rows };
}
