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

/** The posture's date fields: guide name to column. */
const POSTURE_DATES = [
  ['evaluationDate', 'evaluation_date'],
  ['postureModifiedDate', 'posture_modified_date'],
  ['firstEvaluatedDate', 'first_evaluated_date'],
  ['failDateFirstFound', 'fail_date_first_found'],
  ['failDateLastFound', 'fail_date_last_found'],
  ['passedDateFirstFound', 'passed_date_first_found'],
  ['passedDateLastFound', 'passed_date_last_found'],
] as const;

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
  const host = {
    host_id: toBigint(record.hostId),
    asset_id: toBigint(record.assetId),
    ip: toText(record.ip),
    dns: toText(record.dns),
    os: toText(record.os),
    os_cpe: toText(record.osCpe),
    tracking_method: toText(record.trackingMethod),
    customer_id: toBigint(record.customerId),
    customer_uuid: toText(record.customerUuid),
    compliance_last_scan_date: scanDate ?? null,
  };

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
      const dates: Record<string, Date | null> = {};
      for (const [field, column] of POSTURE_DATES) {
        const value = posture[field];
        const date = toTimestamp(value);
        if (date === undefined) {
          unparsed = { ...unparsed, [field]: value };
          dates[column] = null;
        } else dates[column] = date;
      }
      const evidence = posture.evidence;
      const parsed = parseEvidence(evidence);
      rows.push({
        ...host,
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
        evaluation_date: dates.evaluation_date,
        posture_modified_date: dates.posture_modified_date,
        first_evaluated_date: dates.first_evaluated_date,
        fail_date_first_found: dates.fail_date_first_found,
        fail_date_last_found: dates.fail_date_last_found,
        passed_date_first_found: dates.passed_date_first_found,
        passed_date_last_found: dates.passed_date_last_found,
        evidence: toText(evidence),
        evidence_description: parsed.description,
        expected_values: parsed.expected,
        actual_values: parsed.actual,
        unparsed_dates: unparsed ? JSON.stringify(unparsed) : null,
        source_key: sourceKey,
      });
    }
  }
  return { kind: 'rows', rows };
}
