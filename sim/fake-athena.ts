/**
 * A local Athena endpoint for the real AWS SDK v3 Athena client (point it here with the
 * client's `endpoint` option or AWS_ENDPOINT_URL_ATHENA), as strict as the service on the calls
 * a query needs: awsJson1_1 (`X-Amz-Target: AmazonAthena.<Action>`), SigV4-signed requests.
 *
 * - StartQueryExecution: the workgroup must exist and be enabled; a workgroup that enforces
 *   its settings overrides the caller's result configuration; a reused ClientRequestToken with
 *   the same request answers the same execution, with another request it is refused.
 * - GetQueryExecution: QUEUED, then RUNNING, then SUCCEEDED / FAILED over several polls, with
 *   Statistics (DataScannedInBytes growing while it runs); a query whose scan exceeds the
 *   workgroup's BytesScannedCutoffPerQuery ends FAILED with the limit as its reason.
 * - GetQueryResults: only once SUCCEEDED; MaxResults at most 1000; a SELECT's first page starts
 *   with the header row (which counts against MaxResults); every value a VarCharValue string
 *   (a null has none), ColumnInfo with Trino's type names; NextToken pages.
 * - StopQueryExecution: a queued or running query ends CANCELLED.
 * - Faults from FakeServer: TooManyRequestsException (throttling) unless told otherwise.
 *
 * The SQL really runs: on DuckDB (@duckdb/node-api) over a local folder, the fake's "lake",
 * with one view per table it is given (`<lake>/<table>/**\/*.parquet`, Hive partitions). Only
 * SQL both engines accept gives Athena's answer here. Bytes scanned are the sizes of the
 * Parquet files of the tables the SQL names: real Athena reads only the columns and partitions
 * a query needs, so it reports less (never more) than this.
 *
 * Imports nothing from the code it checks: the tables' columns are given by the caller.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { type DescribedRequest, FakeServer, type FaultKinds, type LoggedCall, type Reply } from './fake-server';

export interface FakeAthenaColumn {
  readonly name: string;
  /** The DuckDB type (VARCHAR, BIGINT, INTEGER, TIMESTAMP, VARCHAR[], ...). */
  readonly type: string;
}

export interface FakeAthenaTable {
  readonly columns: readonly FakeAthenaColumn[];
  /** The Hive partition column (a string). @default 'day' */
  readonly partition?: string;
}

export interface FakeWorkGroup {
  readonly name: string;
  /** Athena takes 10,000,000 bytes at least. @default - no limit */
  readonly bytesScannedCutoffPerQuery?: number;
  /** @default true */
  readonly enforceWorkGroupConfiguration?: boolean;
  /** s3://bucket/prefix/ @default - none (the caller must give one, unless enforced) */
  readonly outputLocation?: string;
  /** @default 'ENABLED' */
  readonly state?: 'ENABLED' | 'DISABLED';
}

export interface FakeAthenaOptions {
  /** The folder the tables' Parquet files are under (`<lake>/<table>/...`). */
  readonly lake: string;
  readonly tables: Readonly<Record<string, FakeAthenaTable>>;
  /** The Glue databases queries may run in. */
  readonly databases: readonly string[];
  /** GetQueryExecution polls that answer QUEUED, then RUNNING, before the end. @default { queued: 1, running: 2 } */
  readonly polls?: { readonly queued: number; readonly running: number };
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * The state a query stopped by the workgroup's bytes-scanned cutoff ends in. AWS's
   * documentation says such a query is "cancelled", its reason text says "Query cancelled!",
   * and the state seen in practice is FAILED: a client must read either.
   * @default 'FAILED'
   */
  readonly cutoffState?: 'FAILED' | 'CANCELLED';
}

export interface AthenaFault extends FaultKinds {
  action?: string;
  /** @default 400 */
  status?: number;
  /** @default 'TooManyRequestsException' */
  code?: string;
  /** @default 'Rate exceeded' */
  message?: string;
}

export interface AthenaCall extends LoggedCall {
  action: string;
  body: Record<string, unknown>;
}

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Outcome {
  readonly columns: readonly { name: string; type: string }[];
  readonly rows: readonly (readonly (string | null)[])[];
}

interface Execution {
  readonly id: string;
  readonly sql: string;
  readonly database: string | undefined;
  readonly workGroup: string;
  readonly statementType: 'DML' | 'DDL' | 'UTILITY';
  readonly outputLocation: string | undefined;
  readonly token: string | undefined;
  readonly request: string;
  readonly submittedAt: number;
  /** What a full run scans. */
  readonly scanBytes: number;
  polls: number;
  state: State;
  reason?: string;
  completedAt?: number;
  scanned: number;
  outcome?: Promise<Outcome | { error: string }>;
  result?: Outcome;
}

const MIN_CUTOFF = 10_000_000;
const JSON_TYPE = 'application/x-amz-json-1.1';

class AthenaError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const invalid = (message: string, athenaErrorCode?: string) =>
  new AthenaError(400, 'InvalidRequestException', message, athenaErrorCode ? { AthenaErrorCode: athenaErrorCode } : {});

export class FakeAthena extends FakeServer<AthenaFault, AthenaCall> {
  private readonly workGroups = new Map<string, FakeWorkGroup>();
  private readonly executions = new Map<string, Execution>();
  private readonly lake: string;
  private readonly tables: Readonly<Record<string, FakeAthenaTable>>;
  private readonly databases: ReadonlySet<string>;
  private readonly polls: { queued: number; running: number };
  private readonly cutoffState: 'FAILED' | 'CANCELLED';

  constructor(opts: FakeAthenaOptions) {
    super(
      'FakeAthena',
      (message) => ({
        contentType: JSON_TYPE,
        body: JSON.stringify({ __type: 'InternalServerException', Message: message }),
      }),
      opts.now ?? Date.now,
    );
    this.lake = opts.lake;
    this.tables = opts.tables;
    this.databases = new Set(opts.databases);
    this.polls = opts.polls ?? { queued: 1, running: 2 };
    this.cutoffState = opts.cutoffState ?? 'FAILED';
    this.workGroups.set('primary', { name: 'primary', enforceWorkGroupConfiguration: false });
  }

  // ---- state -----------------------------------------------------------------------------

  /** Creates or replaces a workgroup (as a deploy would); refuses what Athena refuses. */
  putWorkGroup(workGroup: FakeWorkGroup): void {
    const cutoff = workGroup.bytesScannedCutoffPerQuery;
    if (cutoff !== undefined && (!Number.isInteger(cutoff) || cutoff < MIN_CUTOFF))
      throw new Error(
        `FakeAthena: BytesScannedCutoffPerQuery must be an integer of at least ${MIN_CUTOFF} (got ${cutoff})`,
      );
    if (workGroup.outputLocation !== undefined && !/^s3:\/\/[^/]+\//.test(workGroup.outputLocation))
      throw new Error(`FakeAthena: OutputLocation must be s3://bucket/prefix/ (got ${workGroup.outputLocation})`);
    this.workGroups.set(workGroup.name, { enforceWorkGroupConfiguration: true, state: 'ENABLED', ...workGroup });
  }

  /** The executions started so far, oldest first (copies). */
  queries(): Array<{
    id: string;
    sql: string;
    workGroup: string;
    database?: string;
    state: State;
    reason?: string;
    scanned: number;
  }> {
    return [...this.executions.values()].map((e) => ({
      id: e.id,
      sql: e.sql,
      workGroup: e.workGroup,
      database: e.database,
      state: e.state,
      reason: e.reason,
      scanned: e.scanned,
    }));
  }

  // ---- request handling --------------------------------------------------------------------

  protected describe(req: http.IncomingMessage, raw: string, at: number): DescribedRequest<AthenaCall> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const auth = String(req.headers.authorization ?? '');
    const [prefix, action = ''] = target.split('.');
    let body: Record<string, unknown> = {};
    let malformed = false;
    try {
      body = raw.trim() ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      malformed = true;
    }
    const call: AthenaCall = { action, body, at, status: 0 };
    const answer = async (): Promise<Reply> => {
      try {
        if (!/^AWS4-HMAC-SHA256 /.test(auth))
          throw new AthenaError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
        if (prefix !== 'AmazonAthena')
          throw new AthenaError(400, 'UnknownOperationException', `Unknown operation ${target}`);
        if (malformed) throw new AthenaError(400, 'SerializationException', 'Malformed JSON request body');
        return ok(await this.dispatch(action, body));
      } catch (error) {
        if (!(error instanceof AthenaError)) throw error;
        return errorReply(error);
      }
    };
    return { call, answer };
  }

  protected faultMatches(fault: AthenaFault, call: AthenaCall): boolean {
    return fault.action === undefined || fault.action === call.action;
  }

  protected faultReply(fault: AthenaFault): Reply {
    const code = fault.code ?? 'TooManyRequestsException';
    return errorReply(
      new AthenaError(
        fault.status ?? 400,
        code,
        fault.message ?? 'Rate exceeded',
        code === 'TooManyRequestsException' ? { Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED' } : {},
      ),
    );
  }

  protected callKey(call: AthenaCall): string {
    return call.action;
  }

  protected finish(reply: Reply): Reply {
    return { ...reply, headers: { 'x-amzn-RequestId': randomUUID(), ...reply.headers } };
  }

  private dispatch(action: string, body: Record<string, unknown>): Promise<unknown> | unknown {
    switch (action) {
      case 'StartQueryExecution':
        return this.startQuery(body);
      case 'GetQueryExecution':
        return this.getExecution(body);
      case 'GetQueryResults':
        return this.getResults(body);
      case 'StopQueryExecution':
        return this.stopExecution(body);
      default:
        throw new AthenaError(400, 'UnknownOperationException', `FakeAthena implements no operation ${action}`);
    }
  }

  // ---- StartQueryExecution ------------------------------------------------------------------

  private startQuery(body: Record<string, unknown>): unknown {
    const sql = body.QueryString;
    if (typeof sql !== 'string' || sql.length < 1 || sql.length > 262144)
      throw invalid(
        "1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length between 1 and 262144",
      );
    const token = body.ClientRequestToken;
    if (token !== undefined && (typeof token !== 'string' || token.length < 32 || token.length > 128))
      throw invalid(
        "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 128",
      );
    const workGroupName = typeof body.WorkGroup === 'string' ? body.WorkGroup : 'primary';
    const workGroup = this.workGroups.get(workGroupName);
    if (!workGroup) throw invalid(`WorkGroup ${workGroupName} is not found.`);
    if (workGroup.state === 'DISABLED') throw invalid(`WorkGroup ${workGroupName} is disabled.`);
    const context = (body.QueryExecutionContext ?? {}) as { Database?: unknown };
    const database = typeof context.Database === 'string' ? context.Database : undefined;
    const request = JSON.stringify({ sql, workGroupName, database, rc: body.ResultConfiguration ?? null });
    if (typeof token === 'string') {
      const same = [...this.executions.values()].find((e) => e.token === token);
      if (same) {
        if (same.request !== request) throw invalid('Idempotent parameters do not match');
        return { QueryExecutionId: same.id };
      }
    }
    // An enforcing workgroup's settings win over the caller's; otherwise the caller's win.
    const callerOutput = ((body.ResultConfiguration ?? {}) as { OutputLocation?: unknown }).OutputLocation;
    const output =
      workGroup.enforceWorkGroupConfiguration !== false
        ? workGroup.outputLocation
        : typeof callerOutput === 'string'
          ? callerOutput
          : workGroup.outputLocation;
    if (!output)
      throw invalid(
        'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.',
      );
    const id = randomUUID();
    const execution: Execution = {
      id,
      sql,
      database,
      workGroup: workGroupName,
      statementType: statementType(sql),
      outputLocation: `${output}${id}.csv`,
      token: typeof token === 'string' ? token : undefined,
      request,
      submittedAt: this.now(),
      scanBytes: this.scanBytes(sql),
      polls: 0,
      state: 'QUEUED',
      scanned: 0,
    };
    this.executions.set(id, execution);
    if (database !== undefined && !this.databases.has(database)) {
      this.end(execution, 'FAILED', `SCHEMA_NOT_FOUND: Schema '${database}' does not exist`);
    } else {
      execution.outcome = this.execute(sql).catch((error: unknown) => ({ error: (error as Error).message }));
    }
    return { QueryExecutionId: id };
  }

  // ---- GetQueryExecution --------------------------------------------------------------------

  private find(body: Record<string, unknown>): Execution {
    const id = body.QueryExecutionId;
    if (typeof id !== 'string' || id.length === 0)
      throw invalid(
        "1 validation error detected: Value null at 'queryExecutionId' failed to satisfy constraint: Member must not be null",
      );
    const execution = this.executions.get(id);
    if (!execution) throw invalid(`QueryExecution ${id} was not found`);
    return execution;
  }

  private async getExecution(body: Record<string, unknown>): Promise<unknown> {
    const e = this.find(body);
    if (e.state === 'QUEUED' || e.state === 'RUNNING') {
      e.polls++;
      if (e.polls > this.polls.queued + this.polls.running) await this.complete(e);
      else if (e.polls > this.polls.queued) {
        e.state = 'RUNNING';
        const share = (e.polls - this.polls.queued) / (this.polls.running + 1);
        e.scanned = Math.floor(Math.min(e.scanBytes, this.cutoff(e) ?? Number.POSITIVE_INFINITY) * share);
      }
    }
    const elapsed = (e.completedAt ?? this.now()) - e.submittedAt;
    return {
      QueryExecution: {
        QueryExecutionId: e.id,
        Query: e.sql,
        StatementType: e.statementType,
        ResultConfiguration: { OutputLocation: e.outputLocation },
        ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
        QueryExecutionContext: e.database === undefined ? {} : { Database: e.database, Catalog: 'awsdatacatalog' },
        Status: {
          State: e.state,
          ...(e.reason ? { StateChangeReason: e.reason } : {}),
          ...(e.state === 'FAILED'
            ? { AthenaError: { ErrorCategory: 2, ErrorType: 1000, Retryable: false, ErrorMessage: e.reason } }
            : {}),
          SubmissionDateTime: e.submittedAt / 1000,
          ...(e.completedAt ? { CompletionDateTime: e.completedAt / 1000 } : {}),
        },
        Statistics: {
          EngineExecutionTimeInMillis: e.state === 'QUEUED' ? 0 : Math.max(1, elapsed),
          DataScannedInBytes: e.scanned,
          TotalExecutionTimeInMillis: elapsed,
          QueryQueueTimeInMillis: 0,
          ServicePreProcessingTimeInMillis: 0,
        },
        WorkGroup: e.workGroup,
        EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        SubstatementType: e.statementType === 'DML' ? 'SELECT' : undefined,
      },
    };
  }

  private cutoff(e: Execution): number | undefined {
    return this.workGroups.get(e.workGroup)?.bytesScannedCutoffPerQuery;
  }

  private async complete(e: Execution): Promise<void> {
    const cutoff = this.cutoff(e);
    if (cutoff !== undefined && e.scanBytes > cutoff) {
      e.scanned = cutoff;
      return this.end(e, this.cutoffState, 'Query cancelled! : Bytes scanned limit was exceeded');
    }
    const outcome = await e.outcome;
    if (e.state !== 'QUEUED' && e.state !== 'RUNNING') return; // stopped meanwhile
    e.scanned = e.scanBytes;
    if (!outcome || 'error' in outcome) return this.end(e, 'FAILED', outcome?.error ?? 'the query did not run');
    e.result = outcome;
    this.end(e, 'SUCCEEDED');
  }

  private end(e: Execution, state: State, reason?: string): void {
    e.state = state;
    e.reason = reason;
    e.completedAt = this.now();
  }

  // ---- GetQueryResults ----------------------------------------------------------------------

  private getResults(body: Record<string, unknown>): unknown {
    const e = this.find(body);
    const max = body.MaxResults ?? 1000;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 1000)
      throw invalid(
        `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
      );
    if (e.state === 'QUEUED' || e.state === 'RUNNING')
      throw invalid(`Query has not yet finished. Current state: ${e.state}`);
    if (e.state !== 'SUCCEEDED' || !e.result)
      throw invalid(`Query did not finish successfully. Final query state: ${e.state}`);
    const withHeader = e.statementType === 'DML';
    const all: (readonly (string | null)[])[] = [
      ...(withHeader ? [e.result.columns.map((c) => c.name)] : []),
      ...e.result.rows,
    ];
    let offset = 0;
    if (body.NextToken !== undefined) {
      const match =
        typeof body.NextToken === 'string'
          ? /^([0-9a-f-]{36}):(\d+)$/.exec(Buffer.from(body.NextToken, 'base64').toString())
          : null;
      if (!match || match[1] !== e.id || Number(match[2]) >= all.length) throw invalid('Invalid NextToken');
      offset = Number(match[2]);
    }
    const page = all.slice(offset, offset + max);
    const next = offset + page.length;
    return {
      UpdateCount: 0,
      ResultSet: {
        Rows: page.map((row) => ({ Data: row.map((v) => (v === null ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: {
          ColumnInfo: e.result.columns.map((c) => ({
            CatalogName: 'hive',
            SchemaName: '',
            TableName: '',
            Name: c.name,
            Label: c.name,
            Type: c.type,
            Precision: c.type === 'varchar' ? 2147483647 : 0,
            Scale: 0,
            Nullable: 'UNKNOWN',
            CaseSensitive: c.type === 'varchar',
          })),
        },
      },
      ...(next < all.length ? { NextToken: Buffer.from(`${e.id}:${next}`).toString('base64') } : {}),
    };
  }

  // ---- StopQueryExecution -------------------------------------------------------------------

  private stopExecution(body: Record<string, unknown>): unknown {
    const e = this.find(body);
    if (e.state === 'QUEUED' || e.state === 'RUNNING') this.end(e, 'CANCELLED', 'Query cancelled by user');
    return {};
  }

  // ---- the engine ---------------------------------------------------------------------------

  /** The bytes of the Parquet files of every table the SQL names. */
  private scanBytes(sql: string): number {
    let total = 0;
    for (const table of Object.keys(this.tables)) {
      if (!new RegExp(`\\b${table}\\b`, 'i').test(sql)) continue;
      for (const file of parquetFiles(path.join(this.lake, table))) total += fs.statSync(file).size;
    }
    return total;
  }

  private async execute(sql: string): Promise<Outcome> {
    const duckdb = require('@duckdb/node-api') as typeof import('@duckdb/node-api');
    const instance = await duckdb.DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run("SET TimeZone = 'UTC'");
      for (const [name, table] of Object.entries(this.tables)) await connection.run(this.viewSql(name, table));
      const reader = await connection.runAndReadAll(sql);
      const types = reader.columnTypes().map(String);
      return {
        columns: reader.columnNames().map((name, i) => ({ name, type: trinoType(types[i]) })),
        rows: reader.getRowsJson().map((row) => row.map((v, i) => varChar(v, types[i]))),
      };
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  private viewSql(name: string, table: FakeAthenaTable): string {
    const partition = table.partition ?? 'day';
    const columns = [...table.columns, { name: partition, type: 'VARCHAR' }];
    const empty = `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${c.name}`).join(', ')} WHERE false`;
    if (parquetFiles(path.join(this.lake, name)).length === 0) return `CREATE VIEW ${name} AS ${empty}`;
    const glob = `'${path.join(this.lake, name).replaceAll("'", "''")}/**/*.parquet'`;
    return (
      `CREATE VIEW ${name} AS SELECT ${columns.map((c) => c.name).join(', ')} FROM (${empty} UNION ALL BY NAME ` +
      `SELECT * FROM read_parquet(${glob}, hive_partitioning = true, hive_types = {'${partition}': VARCHAR}, union_by_name = true)) AS files`
    );
  }
}

function parquetFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => path.join(e.parentPath, e.name));
}

function statementType(sql: string): 'DML' | 'DDL' | 'UTILITY' {
  const word = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*\(?\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? '';
  if (['select', 'with', 'values', 'table', 'insert', 'update', 'delete', 'merge'].includes(word)) return 'DML';
  if (['create', 'drop', 'alter', 'msck'].includes(word)) return 'DDL';
  return 'UTILITY';
}

/** The Trino type Athena names for a DuckDB type. */
function trinoType(duckdb: string): string {
  if (/^(VARCHAR|UUID|JSON)$/.test(duckdb)) return 'varchar';
  if (/^(BIGINT|HUGEINT|UBIGINT|UINTEGER)$/.test(duckdb)) return 'bigint';
  if (/^(INTEGER|USMALLINT)$/.test(duckdb)) return 'integer';
  if (/^(SMALLINT|UTINYINT)$/.test(duckdb)) return 'smallint';
  if (duckdb === 'TINYINT') return 'tinyint';
  if (duckdb === 'DOUBLE') return 'double';
  if (duckdb === 'FLOAT') return 'real';
  if (duckdb === 'BOOLEAN') return 'boolean';
  if (duckdb === 'DATE') return 'date';
  if (/^TIMESTAMP/.test(duckdb)) return 'timestamp';
  if (/^DECIMAL/.test(duckdb)) return 'decimal';
  if (/\[\]$/.test(duckdb)) return 'array';
  return 'varchar';
}

/** A value as Athena writes it in a VarCharValue (Trino's text forms). */
function varChar(value: unknown, duckdb: string): string | null {
  if (value === null || value === undefined) return null;
  if (/^TIMESTAMP/.test(duckdb) && typeof value === 'string') {
    const [date, time = '00:00:00'] = value.split(' ');
    const [hms, fraction = ''] = time.split('.');
    return `${date} ${hms}.${fraction.padEnd(3, '0').slice(0, 3)}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === null ? 'null' : String(v))).join(', ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function ok(body: unknown): Reply {
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(body) };
}

function errorReply(error: AthenaError): Reply {
  return {
    status: error.status,
    contentType: JSON_TYPE,
    headers: { 'x-amzn-ErrorType': error.code },
    body: JSON.stringify({ __type: error.code, Message: error.message, ...error.extra }),
  };
}
