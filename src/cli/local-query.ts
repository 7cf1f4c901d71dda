/**
 * The local query engine: DuckDB, embedded, over a folder laid out as the lake
 * (`<folder>/pc_postures/day=YYYY-MM-DD/*.parquet`, `<folder>/vm_findings/...`, what
 * `qualys-s3 normalize` writes). No AWS account and no configuration are needed.
 *
 * @duckdb/node-api is an optional dependency (a native binary per platform): it is loaded when
 * a local query runs, and its absence is an error that says how to install it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CURATED_PREFIX } from '../core/findings/layout';
import { type ColumnKind, PARTITION_COLUMN, TABLE_COLUMNS, TABLE_NAMES, type TableName } from '../core/findings/tables';
import type { Cell, QueryResult } from './query-result';

/** The DuckDB type of each column kind: the same types the Glue tables declare, as DuckDB spells them. */
export const DUCKDB_TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'VARCHAR',
  bigint: 'BIGINT',
  int: 'INTEGER',
  timestamp: 'TIMESTAMP',
  string_list: 'VARCHAR[]',
};

export class LocalEngineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalEngineError';
  }
}

/** A folder given to --local that holds no lake: a usage error, not an empty answer. */
export class NotALakeError extends LocalEngineError {
  constructor(message: string) {
    super(message);
    this.name = 'NotALakeError';
  }
}

type DuckDbModule = typeof import('@duckdb/node-api');

/** Loads @duckdb/node-api, or says how to get it. */
export function loadDuckDb(load: () => DuckDbModule = () => require('@duckdb/node-api') as DuckDbModule): DuckDbModule {
  try {
    return load();
  } catch (error) {
    throw new LocalEngineError(
      '--local needs DuckDB, which is not installed here: @duckdb/node-api is an optional dependency ' +
        '(a native binary per platform). Install it with `npm install @duckdb/node-api` and run again, ' +
        'or query on Athena (leave out --local).',
      { cause: error },
    );
  }
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The view of one table: every column of tables.ts, typed as there, whatever the files hold.
 * The typed empty relation is unioned by name with the files, so a column no file has yet is
 * null, and a table with no files at all is an empty view with the right columns.
 */
export function tableViewSql(folder: string, table: TableName, hasFiles: boolean): string {
  const columns = [
    ...TABLE_COLUMNS[table].map((c) => ({ name: c.name, type: DUCKDB_TYPES[c.kind] })),
    { name: PARTITION_COLUMN, type: 'VARCHAR' },
  ];
  const names = columns.map((c) => c.name).join(', ');
  const empty = `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${c.name}`).join(', ')} WHERE false`;
  if (!hasFiles) return `CREATE VIEW ${table} AS ${empty}`;
  const glob = sqlString(`${folder.replaceAll('\\', '/')}/${table}/**/*.parquet`);
  const files = `SELECT * FROM read_parquet(${glob}, hive_partitioning = true, hive_types = {'${PARTITION_COLUMN}': VARCHAR}, union_by_name = true)`;
  return `CREATE VIEW ${table} AS SELECT ${names} FROM (${empty} UNION ALL BY NAME ${files}) AS files`;
}

function hasParquet(dir: string): boolean {
  if (!fs.existsSync(dir)) return false;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (entry.isDirectory() && hasParquet(path.join(dir, entry.name))) return true;
  }
  return false;
}

function assertFolder(folder: string): string {
  const root = path.resolve(folder);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new LocalEngineError(
      `--local ${folder}: no such folder. Give the folder \`qualys-s3 normalize --out\` wrote (it holds pc_postures/ and vm_findings/).`,
    );
  }
  return root;
}

const hasTableFolder = (dir: string) => TABLE_NAMES.some((table) => fs.existsSync(path.join(dir, table)));

/**
 * The folder whose table folders --local reads: the folder itself when it holds pc_postures/ or
 * vm_findings/ (what `qualys-s3 normalize --out` writes), else its curated/ when that does (a
 * copy of the lake bucket, as `aws s3 sync s3://<LakeBucketName> <folder>` makes it, keeps the
 * bucket's curated/ prefix). Any other folder would answer every query with no rows, which
 * reads as "nothing fails": it is refused, saying what was expected.
 */
export function locateLake(folder: string): string {
  const root = assertFolder(folder);
  if (hasTableFolder(root)) return root;
  const curated = path.join(root, CURATED_PREFIX.replace(/\/$/, ''));
  if (hasTableFolder(curated)) return curated;
  const tables = TABLE_NAMES.map((t) => `${t}/`).join(' or ');
  throw new NotALakeError(
    `--local ${folder}: no lake here, no ${tables} folder, neither in it nor in its ${CURATED_PREFIX}. ` +
      'Give the folder `qualys-s3 normalize --out` wrote, or a copy of the lake bucket ' +
      '(aws s3 sync s3://<LakeBucketName> <folder>; the stack output LakeBucketName names it).',
  );
}

/** Opens DuckDB in memory with the views `pc_postures` and `vm_findings` over the folder. */
export async function openLake(folder: string, duckdb: DuckDbModule = loadDuckDb()): Promise<DuckDBConnection> {
  const root = assertFolder(folder);
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  // Athena evaluates current_date and timestamps in UTC; so does the local engine.
  await connection.run("SET TimeZone = 'UTC'");
  for (const table of TABLE_NAMES) {
    await connection.run(tableViewSql(root, table, hasParquet(path.join(root, table))));
  }
  return connection;
}

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;

/** A DuckDB JSON value as a cell: integers as numbers while they are exact, structures as JSON text. */
function toCell(value: unknown, type: string): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (INTEGER_TYPES.test(type)) {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    // A DECIMAL is a number on Athena's side too (athena-query.ts): the same cell from both engines.
    if (/^DECIMAL/.test(type) && value !== '') {
      const n = Number(value);
      if (Number.isFinite(n)) return n;
    }
    return value;
  }
  if (typeof value === 'boolean') return String(value);
  // A list as Athena prints an array ("[a, b, c]"), the only form Athena's results give it in, so
  // that --json is the same from both engines (an element holding ", " cannot be told apart in it).
  if (Array.isArray(value))
    return `[${value.map((v) => (v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}]`;
  return JSON.stringify(value);
}

/** Runs one SQL text on DuckDB over the folder. */
export async function runLocalQuery(
  folder: string,
  sql: string,
  duckdb: DuckDbModule = loadDuckDb(),
): Promise<QueryResult> {
  const connection = await openLake(folder, duckdb);
  try {
    const reader = await connection.runAndReadAll(sql);
    const types = reader.columnTypes().map(String);
    return {
      columns: reader.columnNames(),
      rows: reader.getRowsJson().map((row) => row.map((value, i) => toCell(value, types[i]))),
    };
  } catch (error) {
    if (error instanceof LocalEngineError) throw error;
    throw new LocalEngineError(`DuckDB: ${(error as Error).message}`, { cause: error });
  } finally {
    connection.closeSync();
  }
}
