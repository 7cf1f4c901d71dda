/**
 * The Athena engine: runs one SQL text in the environment's workgroup and Glue database
 * (the stack's outputs `AthenaWorkGroup` and `GlueDatabase`) with the user's credentials.
 * Start, poll with backoff (progress while it runs), then read every page of the result.
 * Ctrl-C stops the query in Athena, so it stops scanning (and costing).
 */
import { randomUUID } from 'node:crypto';
import type { AthenaClient, QueryExecution } from '@aws-sdk/client-athena';
import type { Cell, QueryResult } from './query-result';

/** Where the queries run: from the deployed stack's outputs. */
export interface AthenaTarget {
  readonly workGroup: string;
  readonly database: string;
}

export interface AthenaRunStats {
  readonly queryExecutionId: string;
  readonly bytesScanned: number;
  /** The engine's own run time. */
  readonly engineMs: number;
  /** From start to the last result page, as the CLI saw it. */
  readonly elapsedMs: number;
}

export interface AthenaRunOptions {
  readonly client: AthenaClient;
  readonly target: AthenaTarget;
  readonly sql: string;
  /** A progress line while the query runs (state, elapsed, bytes scanned so far). */
  readonly progress?: (line: string) => void;
  /** Aborted on Ctrl-C: the query is stopped in Athena. */
  readonly interrupt?: AbortSignal;
  readonly now?: () => number;
  /** The first and the longest pause between polls. @default { firstMs: 300, maxMs: 3000 } */
  readonly poll?: { readonly firstMs: number; readonly maxMs: number };
  /** Idempotence token for StartQueryExecution. @default - a random UUID */
  readonly clientRequestToken?: string;
}

export type AthenaFailureKind = 'cutoff' | 'failed' | 'cancelled' | 'interrupted';

/** A query that did not succeed: its state, and Athena's reason. */
export class AthenaQueryError extends Error {
  constructor(
    readonly kind: AthenaFailureKind,
    message: string,
    readonly queryExecutionId: string,
    readonly stats?: Partial<AthenaRunStats>,
  ) {
    super(message);
    this.name = 'AthenaQueryError';
  }
}

const sdk = () => require('@aws-sdk/client-athena') as typeof import('@aws-sdk/client-athena');

/** Athena's reason when the workgroup's per-query data usage control stopped a query. */
const CUTOFF_REASON = /bytes scanned limit|data usage (control|limit)|BytesScannedCutoffPerQuery/i;

const NUMERIC_TYPES = /^(tinyint|smallint|integer|int|bigint|double|float|real|decimal)/i;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Resolves after ms, or at once when the signal aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function toCell(value: string | undefined, type: string | undefined): Cell {
  if (value === undefined) return null;
  if (type && NUMERIC_TYPES.test(type) && value !== '') {
    const n = Number(value);
    if (Number.isFinite(n) && (!/^(tinyint|smallint|integer|int|bigint)$/i.test(type) || Number.isSafeInteger(n)))
      return n;
  }
  return value;
}

/** Runs the query to its end and returns every row; throws AthenaQueryError when it does not succeed. */
export async function runAthenaQuery(
  options: AthenaRunOptions,
): Promise<{ result: QueryResult; stats: AthenaRunStats }> {
  const { client, target, sql, interrupt } = options;
  const now = options.now ?? Date.now;
  const progress = options.progress ?? (() => {});
  const poll = options.poll ?? { firstMs: 300, maxMs: 3000 };
  const { StartQueryExecutionCommand, GetQueryExecutionCommand, GetQueryResultsCommand, StopQueryExecutionCommand } =
    sdk();
  const started = now();

  const start = await client.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: target.workGroup,
      QueryExecutionContext: { Database: target.database },
      ClientRequestToken: options.clientRequestToken ?? randomUUID(),
    }),
  );
  const id = start.QueryExecutionId;
  if (!id) throw new Error('Athena StartQueryExecution answered without a QueryExecutionId');

  let execution: QueryExecution | undefined;
  let delay = poll.firstMs;
  for (;;) {
    if (interrupt?.aborted) {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      throw new AthenaQueryError(
        'interrupted',
        `interrupted: query ${id} was stopped in Athena (StopQueryExecution); what it scanned until then is billed`,
        id,
      );
    }
    execution = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
    const state = execution?.Status?.State ?? 'UNKNOWN';
    if (state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED') break;
    const scanned = execution?.Statistics?.DataScannedInBytes ?? 0;
    progress(`${state} ${formatSeconds(now() - started)}, ${formatBytes(scanned)} scanned (query ${id})`);
    await pause(delay, interrupt);
    delay = Math.min(poll.maxMs, Math.round(delay * 1.5));
  }

  const status = execution?.Status;
  const statistics = execution?.Statistics;
  const bytesScanned = statistics?.DataScannedInBytes ?? 0;
  const engineMs = statistics?.EngineExecutionTimeInMillis ?? 0;
  if (status?.State !== 'SUCCEEDED') {
    const reason = status?.StateChangeReason ?? 'Athena gave no reason';
    const stats = { queryExecutionId: id, bytesScanned, engineMs, elapsedMs: now() - started };
    if (CUTOFF_REASON.test(reason)) {
      throw new AthenaQueryError(
        'cutoff',
        `the workgroup ${target.workGroup} stopped query ${id} at its bytes-scanned limit after ${formatBytes(bytesScanned)} (Athena: ${reason}). ` +
          'Narrow the query (filter on day, the partition column, to read fewer days), or raise the limit: ' +
          'set analytics.bytesScannedLimitMb for this environment in the configuration and deploy again.',
        id,
        stats,
      );
    }
    const kind = status?.State === 'CANCELLED' ? 'cancelled' : 'failed';
    throw new AthenaQueryError(kind, `query ${id} ${status?.State ?? 'ended'}: ${reason}`, id, stats);
  }

  // A SELECT's first result row is its header (the column names); other statements have none.
  const skipHeader = execution?.StatementType === 'DML';
  let columns: string[] | undefined;
  let types: (string | undefined)[] = [];
  const rows: Cell[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await client.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
    );
    if (!columns) {
      const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      columns = info.map((c) => c.Label ?? c.Name ?? '');
      types = info.map((c) => c.Type);
    }
    const pageRows = page.ResultSet?.Rows ?? [];
    for (const [index, row] of pageRows.entries()) {
      if (first && index === 0 && skipHeader) continue;
      rows.push((row.Data ?? []).map((datum, i) => toCell(datum.VarCharValue, types[i])));
    }
    first = false;
    token = page.NextToken;
    if (token) progress(`reading results: ${rows.length} rows so far`);
  } while (token);

  return {
    result: { columns: columns ?? [], rows },
    stats: { queryExecutionId: id, bytesScanned, engineMs, elapsedMs: now() - started },
  };
}

/** The workgroup and database from the stack's outputs, or what is missing and how to get it. */
export function athenaTargetFromOutputs(
  stackName: string,
  outputs: Readonly<Record<string, string>>,
): AthenaTarget | string {
  const workGroup = outputs.AthenaWorkGroup;
  const database = outputs.GlueDatabase;
  if (workGroup && database) return { workGroup, database };
  const missing = [workGroup ? undefined : 'AthenaWorkGroup', database ? undefined : 'GlueDatabase'].filter(Boolean);
  return (
    `the stack ${stackName} has no ${missing.join(' or ')} output: analytics is not deployed for this environment. ` +
    'Set "analytics": { "enabled": true } in its configuration and deploy, or query a local folder with --local <folder>.'
  );
}
