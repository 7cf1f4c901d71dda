/**
 * The two curated tables, defined once: the normalizer writes their Parquet from these
 * columns, the Glue tables declare them, and the local query engine reads them. A column's
 * `kind` fixes its Parquet physical type and its Glue / Athena type together, so the two
 * engines can never disagree about a column.
 *
 * `day` is not a column of the files: it is the Hive partition in the object key
 * (`<table>/day=YYYY-MM-DD/...`), a string in both engines.
 */

/** How a column is stored (Parquet) and declared (Glue). */
export type ColumnKind = 'string' | 'bigint' | 'int' | 'timestamp' | 'string_list';

export interface ColumnDef {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Shown in the Glue table and the README. */
  readonly comment: string;
}

/** The Glue / Athena (Hive DDL) type of each kind. */
export const GLUE_TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'string',
  bigint: 'bigint',
  int: 'int',
  timestamp: 'timestamp',
  string_list: 'array<string>',
};

export type TableName = 'pc_postures' | 'vm_findings';
export const TABLE_NAMES: readonly TableName[] = ['pc_postures', 'vm_findings'];

/** The partition column: the day folder Qualys delivered the source object into. */
export const PARTITION_COLUMN = 'day';

const col = (name: string, kind: ColumnKind, comment: string): ColumnDef => ({ name, kind, comment });

/** One row per host x policy x control posture (the guide's "Sample: Posture Data Transferred using CIPS"). */
export const PC_POSTURE_COLUMNS: readonly ColumnDef[] = [
  col('host_id', 'bigint', 'hostId'),
  col('asset_id', 'bigint', 'assetId'),
  col('ip', 'string', 'ip'),
  col('dns', 'string', 'dns'),
  col('os', 'string', 'os'),
  col('os_cpe', 'string', 'osCpe'),
  col('tracking_method', 'string', 'trackingMethod'),
  col('customer_id', 'bigint', 'customerId'),
  col('customer_uuid', 'string', 'customerUuid'),
  col('compliance_last_scan_date', 'timestamp', 'complianceLastScanDate (the guide spells it complianceLastScanData)'),
  col('policy_id', 'bigint', 'policy[].id'),
  col('posture_id', 'bigint', 'policy[].posture[].id'),
  col('control_id', 'bigint', 'controlId'),
  col('technology_id', 'bigint', 'technologyId'),
  col('instance', 'string', 'instance'),
  col('posture', 'string', 'posture: Passed, Failed, Error, ...'),
  col('last_posture', 'string', 'lastPosture'),
  col('control_statement', 'string', 'controlStatement'),
  col('control_reference', 'string', 'controlReference'),
  col('remediation', 'string', 'remediation'),
  col('evaluation_date', 'timestamp', 'evaluationDate'),
  col('posture_modified_date', 'timestamp', 'postureModifiedDate'),
  col('first_evaluated_date', 'timestamp', 'firstEvaluatedDate'),
  col('fail_date_first_found', 'timestamp', 'failDateFirstFound'),
  col('fail_date_last_found', 'timestamp', 'failDateLastFound'),
  col('passed_date_first_found', 'timestamp', 'passedDateFirstFound'),
  col('passed_date_last_found', 'timestamp', 'passedDateLastFound'),
  col('evidence', 'string', 'evidence, the raw string as Qualys sent it'),
  col('evidence_description', 'string', 'evidence.description, where the evidence parses as JSON'),
  col('expected_values', 'string_list', 'evidence.expectedValues, where the evidence parses as JSON'),
  col('actual_values', 'string_list', 'evidence.actualValues, where the evidence parses as JSON'),
  col(
    'unparsed_values',
    'string',
    "JSON object of the fields whose value could not be stored in its column's type, as sent (the column is then null): dates that are not ISO-8601 timestamps, ids beyond INT64 or beyond 2^53 as JSON numbers",
  ),
  col('source_key', 'string', 'the S3 key of the object the row came from'),
];

/**
 * VM findings: the guide does not document the format, so every record is kept whole in `raw`
 * and the usual fields are picked out where a record has them under a name we recognise.
 */
export const VM_FINDING_COLUMNS: readonly ColumnDef[] = [
  col('host_id', 'bigint', 'hostId / host_id / HOST_ID, where present'),
  col('asset_id', 'bigint', 'assetId, where present'),
  col('ip', 'string', 'ip, where present'),
  col('dns', 'string', 'dns, where present'),
  col('os', 'string', 'os, where present'),
  col('qid', 'bigint', 'qid / QID, where present'),
  col('severity', 'int', 'severity (1-5), where present'),
  col('status', 'string', 'status (New, Active, Fixed, Re-Opened), where present'),
  col('type', 'string', 'type (Confirmed, Potential, ...), where present'),
  col('title', 'string', 'title, where present'),
  col('port', 'int', 'port, where present'),
  col('protocol', 'string', 'protocol, where present'),
  col('first_found', 'timestamp', 'firstFound / first_found_datetime, where present'),
  col('last_found', 'timestamp', 'lastFound / last_found_datetime, where present'),
  col('last_fixed', 'timestamp', 'lastFixed, where present'),
  col(
    'record_type',
    'string',
    'vuln_info for keys under qualys_vm_findings/vuln_info/, else findings (qualys_vm_findings/<day>/ and qualys_vm_findings/findings/<day>/ both hold findings)',
  ),
  col('raw', 'string', 'the whole record as JSON'),
  col('source_key', 'string', 'the S3 key of the object the row came from'),
];

export const TABLE_COLUMNS: Readonly<Record<TableName, readonly ColumnDef[]>> = {
  pc_postures: PC_POSTURE_COLUMNS,
  vm_findings: VM_FINDING_COLUMNS,
};

/** A row as the mappers produce it: column name to value (null where absent). */
export type Row = Record<string, string | number | bigint | Date | readonly string[] | null>;
