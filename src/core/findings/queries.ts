/**
 * The named queries, written once in SQL that both Athena (Trino) and DuckDB accept: Athena
 * gets them as named queries in the workgroup (rendered with their default parameters), the
 * CLI's `query` renders them with the operator's parameters for either engine.
 *
 * Tables are referenced unqualified (`pc_postures`, `vm_findings`): Athena runs them in the
 * Glue database, DuckDB over views of the same names.
 */

export interface QueryParameter {
  readonly name: string;
  readonly description: string;
  /** The default, as the SQL literal's text (e.g. '30' or '2024-01-01'). */
  readonly default: string;
  /** What a value must look like; the CLI refuses anything else (no SQL injection through parameters). */
  readonly pattern: RegExp;
}

export interface NamedQuery {
  /** Kebab-case, what the CLI takes: `qualys-s3 query <env> failing-controls`. */
  readonly name: string;
  readonly description: string;
  readonly parameters: readonly QueryParameter[];
  /** The SQL with `{{parameter}}` placeholders. */
  readonly template: string;
}

// STUB (the lead's placeholder so the infra can be built in parallel): the query helper replaces this list.
export const NAMED_QUERIES: readonly NamedQuery[] = [
  {
    name: 'vm-by-severity',
    description: 'VM records by severity',
    parameters: [],
    template: 'SELECT severity, count(*) AS records FROM vm_findings GROUP BY severity ORDER BY severity DESC',
  },
];

/** The SQL of a named query with the given parameters (defaults for the rest). */
export function renderQuery(query: NamedQuery, values: Readonly<Record<string, string>> = {}): string {
  let sql = query.template;
  for (const parameter of query.parameters) {
    const value = values[parameter.name] ?? parameter.default;
    if (!parameter.pattern.test(value)) {
      throw new Error(`${query.name}: --${parameter.name} is ${JSON.stringify(value)}; ${parameter.description}`);
    }
    sql = sql.replaceAll(`{{${parameter.name}}}`, value);
  }
  return sql;
}
