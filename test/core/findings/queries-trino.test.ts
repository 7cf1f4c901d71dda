/**
 * The other half of "SQL both engines accept": queries.test.ts runs every named query on
 * DuckDB; here each one is parsed by a Trino grammar (node-sql-parser's, the engine behind
 * Athena v3), and every function it calls must be one both engines document with the same
 * meaning. No Athena is reachable here, so this is the check that keeps DuckDB-only SQL out.
 */
import { Parser } from 'node-sql-parser/build/trino';
import { NAMED_QUERIES, renderQuery } from '../../../src/core/findings/queries';

/**
 * Functions documented by both Trino (trino.io/docs/current/functions) and DuckDB
 * (duckdb.org/docs/sql/functions) with the same arguments and meaning. Left out on purpose:
 * date_add (argument orders differ), cardinality (DuckDB: maps only), max_by / min_by (ties),
 * strftime / strptime / epoch (DuckDB only), date_format / from_iso8601_timestamp (Trino only).
 */
const FUNCTIONS_IN_BOTH = new Set([
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'round',
  'coalesce',
  'row_number',
  'rank',
  'date_diff',
  'cast',
  'lower',
  'upper',
  'length',
  'concat',
  'nullif',
  'greatest',
  'least',
  'abs',
]);

/** Words followed by "(" that are SQL syntax, not function calls. */
const SYNTAX = new Set([
  'in',
  'as',
  'over',
  'from',
  'and',
  'or',
  'not',
  'exists',
  'values',
  'on',
  'using',
  'join',
  'by',
  'select',
  'where',
  'then',
  'else',
  'when',
]);

/** DuckDB spellings Trino rejects or reads differently. */
const DUCKDB_ONLY = [
  /::/,
  /\bQUALIFY\b/i,
  /\bEXCLUDE\b/i,
  /\bGROUP\s+BY\s+ALL\b/i,
  /\bUNION\s+BY\s+NAME\b/i,
  /\bILIKE\b/i,
  /"[^"]*'/,
];

function functionsCalled(sql: string): string[] {
  const withoutStrings = sql.replace(/'(?:[^']|'')*'/g, "''");
  return [...withoutStrings.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)]
    .map((m) => m[1].toLowerCase())
    .filter((name) => !SYNTAX.has(name));
}

describe.each(NAMED_QUERIES.map((q) => [q.name, q] as const))('named query %s', (_name, query) => {
  const sql = renderQuery(query);

  test('parses as Trino SQL', () => {
    expect(() => new Parser().astify(sql, { database: 'trino' })).not.toThrow();
  });

  test('calls only functions both engines document alike', () => {
    const called = functionsCalled(sql);
    expect(called.filter((name) => !FUNCTIONS_IN_BOTH.has(name))).toEqual([]);
  });

  test('uses no DuckDB-only syntax', () => {
    expect(DUCKDB_ONLY.filter((pattern) => pattern.test(sql)).map(String)).toEqual([]);
  });
});

test('the checks catch DuckDB-only SQL', () => {
  const duckdbOnly =
    "SELECT host_id, evaluation_date::DATE AS d, strftime(evaluation_date, '%Y') AS y FROM pc_postures";
  expect(functionsCalled(duckdbOnly)).toContain('strftime');
  expect(DUCKDB_ONLY.some((pattern) => pattern.test(duckdbOnly))).toBe(true);
  expect(() =>
    new Parser().astify('SELECT a FROM t QUALIFY row_number() OVER (ORDER BY a) = 1', { database: 'trino' }),
  ).toThrow();
});
