/**
 * The named queries, written once in SQL that both Athena (engine v3, Trino) and DuckDB accept:
 * Athena gets them as named queries in the workgroup (rendered with their default parameters),
 * the CLI's `query` renders them with the operator's parameters for either engine.
 *
 * Tables are referenced unqualified (`pc_postures`, `vm_findings`): Athena runs them in the
 * Glue database, DuckDB over views of the same names.
 *
 * The common subset, and what it leaves out:
 * - no QUALIFY, `::` casts, UNION BY NAME, GROUP BY ALL, EXCLUDE (DuckDB only); no `max_by`
 *   (both have it, but it picks arbitrarily among ties, and "latest" must pick one row the
 *   same way every time): the latest row is `row_number() OVER (... ORDER BY ...)` = 1 in a
 *   subquery, with a total order (evaluation, or the delivery day where the evaluation date
 *   did not parse, then day, then source key);
 * - no `date_add` / `interval` arithmetic on timestamps (the argument orders differ, and DuckDB
 *   turns DATE - INTERVAL into a TIMESTAMP): day counts are `date_diff('day', DATE, DATE)`,
 *   whose meaning on two dates is the same in both; a DATE - INTERVAL is cast back to DATE;
 * - no integer / decimal division (Trino keeps the decimal scale, DuckDB goes to DOUBLE):
 *   rates are computed on a CAST(... AS DOUBLE);
 * - no `count(DISTINCT a, b)` (neither takes several arguments), no FILTER clauses
 *   (`sum(CASE ...)` reads the same everywhere), no double-quoted strings;
 * - every alias is written with AS: DuckDB will not take a bare `day` as one.
 * Partition pruning: queries that can bound the days they read (changed-since) filter on `day`
 * with a constant, so Athena's partition projection scans only those days.
 */

import { isCalendarDay } from './values';

export interface QueryParameter {
  readonly name: string;
  readonly description: string;
  /** The default, as the SQL literal's text (e.g. '30' or '2024-01-01'). */
  readonly default: string;
  /** What a value must look like; the CLI refuses anything else (no SQL injection through parameters). */
  readonly pattern: RegExp;
  /**
   * What a value matching the pattern must also be, said as the end of "is "...", which is ...",
   * and how to tell: e.g. a day the calendar has (2024-02-30 matches the pattern, and an engine
   * would refuse it or, worse, read it as March).
   * @default - the pattern alone
   */
  readonly check?: { readonly mustBe: string; readonly test: (value: string) => boolean };
}

export interface NamedQuery {
  /** Kebab-case, what the CLI takes: `qualys-s3 query <env> failing-controls`. */
  readonly name: string;
  readonly description: string;
  readonly parameters: readonly QueryParameter[];
  /** The SQL with `{{parameter}}` placeholders. */
  readonly template: string;
}

/**
 * When a row was evaluated, for ordering: its evaluation date, or, where that did not parse
 * (the normalizer writes null; the guide's own sample has "2023-01-16T10:49:432"), the start of
 * the day it was delivered. A newer delivery with a malformed date is still newer: sorting
 * nulls last would let an older delivery's state stand as the current one.
 */
const EVALUATED = 'coalesce(p.evaluation_date, CAST(p.day AS TIMESTAMP))';

/** Latest first, as a total order: when evaluated, then the day, then the source key. */
const LATEST_FIRST = `${EVALUATED} DESC, p.day DESC, p.source_key DESC`;

/**
 * The current state of each posture: of the rows for one host x policy x control x instance
 * (Qualys re-sends unchanged postures day after day, so one posture has many rows), the one
 * with the latest evaluation; among rows evaluated at the same moment, the latest day, then
 * the greatest source key, so the choice never depends on the engine.
 */
const LATEST_POSTURES = `SELECT p.*,
    row_number() OVER (
      PARTITION BY p.host_id, p.policy_id, p.control_id, p.instance
      ORDER BY ${LATEST_FIRST}
    ) AS recency
  FROM pc_postures AS p`;

const DAY_PATTERN = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

const CALENDAR_DAY = { mustBe: 'a day the calendar has', test: isCalendarDay };

export const NAMED_QUERIES: readonly NamedQuery[] = [
  {
    name: 'failing-controls',
    description:
      'Controls failing now: per host, policy, control and instance, the latest evaluation, where its posture is Failed',
    parameters: [],
    template: `SELECT host_id, ip, dns, policy_id, control_id, instance, control_statement,
  evaluation_date, fail_date_first_found, posture_modified_date
FROM (
  ${LATEST_POSTURES}
) AS latest
WHERE recency = 1 AND posture = 'Failed'
ORDER BY host_id, policy_id, control_id, instance`,
  },
  {
    name: 'compliance-rate',
    description:
      'Per policy, the share of Passed among the latest postures that passed or failed (Error and other postures are counted apart, not as failures)',
    parameters: [],
    template: `SELECT policy_id,
  count(DISTINCT host_id) AS hosts,
  count(*) AS postures,
  sum(CASE WHEN posture = 'Passed' THEN 1 ELSE 0 END) AS passed,
  sum(CASE WHEN posture = 'Failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN posture = 'Passed' OR posture = 'Failed' THEN 0 ELSE 1 END) AS other,
  round(100 * CAST(sum(CASE WHEN posture = 'Passed' THEN 1 ELSE 0 END) AS DOUBLE)
    / nullif(sum(CASE WHEN posture = 'Passed' OR posture = 'Failed' THEN 1 ELSE 0 END), 0), 2) AS compliance_pct
FROM (
  ${LATEST_POSTURES}
) AS latest
WHERE recency = 1
GROUP BY policy_id
ORDER BY policy_id`,
  },
  {
    name: 'changed-since',
    description:
      'Postures whose current state changed on or after a day (posture_modified_date >= since), one row per host, policy, control and instance',
    parameters: [
      {
        name: 'since',
        description: 'the first day, as YYYY-MM-DD (e.g. --param since=2024-01-31)',
        default: '2024-01-01',
        pattern: DAY_PATTERN,
        check: CALENDAR_DAY,
      },
    ],
    // Rows delivered before the day before `since` cannot hold a change made on or after it
    // (a posture is sent after it changes; the day's margin absorbs a delivery folder in
    // another time zone): the `day` bound lets Athena read only those partitions.
    template: `SELECT host_id, ip, dns, policy_id, control_id, instance, posture, last_posture,
  posture_modified_date, evaluation_date
FROM (
  ${LATEST_POSTURES}
  WHERE p.day >= CAST(CAST(DATE '{{since}}' - INTERVAL '1' DAY AS DATE) AS VARCHAR)
) AS latest
WHERE recency = 1 AND posture_modified_date >= TIMESTAMP '{{since}} 00:00:00'
ORDER BY posture_modified_date DESC, host_id, policy_id, control_id, instance`,
  },
  {
    name: 'stale-hosts',
    description: 'Hosts whose latest evaluation is more than N days before today (UTC)',
    parameters: [
      {
        name: 'days',
        description: 'a whole number of days from 1 to 3650 (e.g. --param days=30)',
        default: '30',
        pattern: /^(?:[1-9]\d{0,2}|[1-2]\d{3}|3[0-5]\d{2}|36[0-4]\d|3650)$/,
      },
    ],
    // A host whose latest delivery has malformed evaluation dates was still evaluated by then:
    // its delivery day stands in (as in LATEST_POSTURES), so it is not reported stale.
    template: `SELECT host_id, ip, dns, os, evaluated AS last_evaluated,
  date_diff('day', CAST(evaluated AS DATE), current_date) AS days_since
FROM (
  SELECT p.host_id, p.ip, p.dns, p.os, ${EVALUATED} AS evaluated,
    row_number() OVER (
      PARTITION BY p.host_id
      ORDER BY ${LATEST_FIRST}
    ) AS recency
  FROM pc_postures AS p
) AS latest
WHERE recency = 1 AND date_diff('day', CAST(evaluated AS DATE), current_date) > {{days}}
ORDER BY last_evaluated, host_id`,
  },
  {
    name: 'vm-by-severity',
    description:
      'VM findings by severity and status: the latest record of each finding (host, QID, port, protocol; a record without host or QID stands alone); vulnerability information (vuln_info/) is not counted',
    parameters: [],
    // A re-sent finding is one finding: its latest record (by last found, a last found that did not
    // parse counting at its delivery day, then day) says its
    // severity and status. Records the normalizer could not map keep their raw JSON, so
    // identical re-sent copies of them still collapse into one. (The CASE is a column of its own
    // rather than a PARTITION BY expression: the Trino grammar the tests parse with reads only columns there.)
    // Only findings: what Qualys sends under vuln_info/ (sendVulnInfo) is knowledge-base entries,
    // one per QID, not findings on a host.
    template: `SELECT severity, status,
  count(*) AS findings,
  count(DISTINCT host_id) AS hosts,
  count(DISTINCT qid) AS qids
FROM (
  SELECT k.severity, k.status, k.host_id, k.qid,
    row_number() OVER (
      PARTITION BY k.host_id, k.qid, k.port, k.protocol, k.unmapped_raw
      ORDER BY coalesce(k.last_found, CAST(k.day AS TIMESTAMP)) DESC, k.day DESC, k.source_key DESC
    ) AS recency
  FROM (
    SELECT v.*, CASE WHEN v.host_id IS NULL OR v.qid IS NULL THEN v.raw END AS unmapped_raw
    FROM vm_findings AS v
    WHERE v.record_type = 'findings'
  ) AS k
) AS latest
WHERE recency = 1
GROUP BY severity, status
ORDER BY severity DESC NULLS LAST, status NULLS LAST`,
  },
];

/** The named query called `name`, or undefined. */
export function findNamedQuery(name: string): NamedQuery | undefined {
  return NAMED_QUERIES.find((q) => q.name === name);
}

/** The SQL of a named query with the given parameters (defaults for the rest); unknown parameters are refused. */
export function renderQuery(query: NamedQuery, values: Readonly<Record<string, string>> = {}): string {
  const known = new Set(query.parameters.map((p) => p.name));
  const unknown = Object.keys(values).filter((name) => !known.has(name));
  if (unknown.length) {
    const takes = query.parameters.length
      ? `it takes ${query.parameters.map((p) => `--param ${p.name}=...`).join(', ')}`
      : 'it takes none';
    throw new Error(`${query.name} has no parameter ${unknown.map((u) => JSON.stringify(u)).join(', ')}; ${takes}`);
  }
  let sql = query.template;
  for (const parameter of query.parameters) {
    const value = values[parameter.name] ?? parameter.default;
    if (!parameter.pattern.test(value)) {
      throw new Error(`${query.name}: --param ${parameter.name} is ${JSON.stringify(value)}; ${parameter.description}`);
    }
    if (parameter.check && !parameter.check.test(value)) {
      throw new Error(
        `${query.name}: --param ${parameter.name} is ${JSON.stringify(value)}, which is not ${parameter.check.mustBe}; ${parameter.description}`,
      );
    }
    sql = sql.replaceAll(`{{${parameter.name}}}`, value);
  }
  return sql;
}
