/**
 * `qualys-s3 query <env> <named-query | sql>`: one query, on Athena in the environment's
 * workgroup (the user's credentials), or with `--local <folder>` on DuckDB over a local lake
 * folder (no AWS, no configuration). The result as an aligned table, or `--json`.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { EnvironmentConfig } from '../config/config';
import { stackName } from '../config/rules';
import { findNamedQuery, NAMED_QUERIES, type NamedQuery, renderQuery } from '../core/findings/queries';
import {
  AthenaQueryError,
  type AthenaRunStats,
  athenaTargetFromOutputs,
  formatBytes,
  formatSeconds,
  runAthenaQuery,
} from './athena-query';
import { LocalEngineError, locateLake, NotALakeError, runLocalQuery } from './local-query';
import { resolveRegion, sdkOperatorAws } from './operator-aws';
import { formatTable, type QueryResult } from './query-result';

export const QUERY_HELP = `Usage: qualys-s3 query [envName] <named-query | sql> [--local <folder>] [--param k=v ...] [--json]
       qualys-s3 query --list

Runs one query over the findings lake and prints the result as a table (or --json).
On Athena, in the environment's workgroup and Glue database (the deployed stack's outputs
AthenaWorkGroup and GlueDatabase), with your AWS credentials: progress while it runs, then
the bytes scanned (what Athena bills) and the run time. Ctrl-C stops the query in Athena.
With --local <folder>, the same query runs on DuckDB over a folder that
\`qualys-s3 normalize --out\` wrote, or a copy of the lake bucket (its curated/ is read):
no AWS account and no configuration needed (envName may then be left out).

  --local <folder>  run on DuckDB over this folder instead of Athena
  --param k=v       a named query's parameter (repeatable), e.g. --param days=14
  --list            the named queries and their parameters
  --json            {columns, rows, stats} on stdout

Named queries:
${NAMED_QUERIES.map((q) => `  ${q.name.padEnd(17)} ${q.description}${q.parameters.map((p) => `\n  ${''.padEnd(17)} --param ${p.name}=... (default ${p.default}): ${p.description}`).join('')}`).join('\n')}

Anything else is taken as SQL (quote it): the tables are pc_postures and vm_findings,
partitioned by day ('YYYY-MM-DD'); filter on day to scan less.

Exit status: 0 the query succeeded, 1 it failed (the reason is said), 2 usage or configuration error.`;

export interface QueryIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly interactive?: boolean;
  readonly now?: () => number;
  /** Aborted to stop a running Athena query (Ctrl-C). @default - SIGINT, while the query runs */
  readonly interrupt?: AbortSignal;
}

export interface QueryArgs {
  /** The positionals after `query`. */
  readonly positionals: readonly string[];
  readonly local?: string;
  readonly params: readonly string[];
  readonly list: boolean;
  readonly json: boolean;
}

/** What the command needs from main: the environment, or main's own exit code after it said why not. */
export type EnvironmentReader = (envName: string | undefined) => { env: EnvironmentConfig } | { exitCode: number };

export interface QueryDeps {
  /** The Athena client for a region. @default - the SDK's, with the standard credential chain */
  readonly athena?: (region: string) => AthenaClient;
}

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

class QueryUsageError extends Error {}

/** A single kebab-case word names a query; anything else is SQL. */
const QUERY_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

interface Resolved {
  readonly envName?: string;
  readonly named?: NamedQuery;
  readonly sql: string;
}

function resolve(args: QueryArgs): Resolved {
  const { positionals } = args;
  if (positionals.length === 0)
    throw new QueryUsageError(
      `name a query or give SQL; the named queries are ${NAMED_QUERIES.map((q) => q.name).join(', ')}`,
    );
  if (positionals.length > 2)
    throw new QueryUsageError(`unexpected argument "${positionals[2]}" (quote the SQL as one argument)`);
  const [envName, text] = positionals.length === 2 ? positionals : [undefined, positionals[0]];
  const values: Record<string, string> = {};
  for (const param of args.params) {
    const match = /^([A-Za-z][\w-]*)=(.*)$/s.exec(param);
    if (!match) throw new QueryUsageError(`--param takes name=value, e.g. --param days=30 (got "${param}")`);
    values[match[1]] = match[2];
  }
  if (QUERY_NAME.test(text)) {
    const named = findNamedQuery(text);
    if (!named)
      throw new QueryUsageError(
        `no named query "${text}"; the named queries are ${NAMED_QUERIES.map((q) => q.name).join(', ')} (qualys-s3 query --list), or give SQL`,
      );
    try {
      return { envName, named, sql: renderQuery(named, values) };
    } catch (error) {
      throw new QueryUsageError((error as Error).message);
    }
  }
  if (args.params.length) throw new QueryUsageError('--param goes with a named query, not with SQL');
  return { envName, sql: text };
}

function listQueries(io: QueryIO, json: boolean): number {
  if (json) {
    const queries = NAMED_QUERIES.map((q) => ({
      name: q.name,
      description: q.description,
      parameters: q.parameters.map((p) => ({ name: p.name, description: p.description, default: p.default })),
      sql: renderQuery(q),
    }));
    io.stdout(`${JSON.stringify({ command: 'query', ok: true, queries }, null, 2)}\n`);
  } else {
    for (const q of NAMED_QUERIES) {
      io.stdout(`${q.name}\n  ${q.description}\n`);
      for (const p of q.parameters) io.stdout(`  --param ${p.name}=... (default ${p.default}): ${p.description}\n`);
    }
  }
  return EXIT.ok;
}

function fail(io: QueryIO, json: boolean, exitCode: number, type: string, message: string, extra: object = {}): number {
  if (json)
    io.stdout(
      `${JSON.stringify({ command: 'query', ok: false, exitCode, error: { type, message, ...extra } }, null, 2)}\n`,
    );
  else io.stderr(`qualys-s3 query: ${message}\n`);
  return exitCode;
}

/**
 * Progress on stderr: in place on a terminal; otherwise a line when the state changes, and
 * at most one every 5 seconds while it does not (a CI log stays short).
 */
function progressWriter(io: QueryIO, json: boolean, now: () => number) {
  let lastState = '';
  let lastAt = 0;
  return {
    line(text: string) {
      if (json) return;
      if (io.interactive) return io.stderr(`\r\x1b[K  … ${text}`);
      const state = text.split(' ')[0];
      if (state === lastState && now() - lastAt < 5000) return;
      lastState = state;
      lastAt = now();
      io.stderr(`  … ${text}\n`);
    },
    clear() {
      if (!json && io.interactive) io.stderr('\r\x1b[K');
    },
  };
}

function printResult(
  io: QueryIO,
  json: boolean,
  doc: { engine: 'athena' | 'local'; envName?: string; resolved: Resolved; result: QueryResult; stats: object },
): number {
  if (json) {
    io.stdout(
      `${JSON.stringify(
        {
          command: 'query',
          ok: true,
          exitCode: 0,
          engine: doc.engine,
          envName: doc.envName ?? null,
          query: doc.resolved.named?.name ?? null,
          sql: doc.resolved.sql,
          columns: doc.result.columns,
          rows: doc.result.rows,
          stats: doc.stats,
        },
        null,
        2,
      )}\n`,
    );
  } else io.stdout(formatTable(doc.result));
  return EXIT.ok;
}

export async function queryCommand(
  args: QueryArgs,
  io: QueryIO,
  readEnvironment: EnvironmentReader,
  deps: QueryDeps = {},
): Promise<number> {
  const { json } = args;
  const now = io.now ?? Date.now;
  if (args.list) {
    if (args.positionals.length > 1) return fail(io, json, EXIT.usage, 'usage', '--list takes no query');
    return listQueries(io, json);
  }
  let resolved: Resolved;
  try {
    resolved = resolve(args);
  } catch (error) {
    if (!(error instanceof QueryUsageError)) throw error;
    return fail(io, json, EXIT.usage, 'usage', error.message);
  }

  if (args.local !== undefined) {
    const started = now();
    try {
      const lake = locateLake(args.local);
      const result = await runLocalQuery(lake, resolved.sql);
      const elapsedMs = now() - started;
      if (!json) io.stderr(`  local: DuckDB over ${lake}, ${formatSeconds(elapsedMs)}\n`);
      return printResult(io, json, {
        engine: 'local',
        envName: resolved.envName,
        resolved,
        result,
        stats: { elapsedMs },
      });
    } catch (error) {
      if (error instanceof NotALakeError) return fail(io, json, EXIT.usage, 'usage', error.message);
      if (!(error instanceof LocalEngineError)) throw error;
      return fail(io, json, EXIT.failed, 'local', error.message);
    }
  }

  const picked = readEnvironment(resolved.envName);
  if ('exitCode' in picked) return picked.exitCode;
  const { env } = picked;
  const region = await resolveRegion(env.region);
  if (!region)
    return fail(
      io,
      json,
      EXIT.usage,
      'configuration',
      `no region for ${env.envName}: set "region" in its configuration, or AWS_REGION`,
    );
  const name = stackName(env.envName);
  const progress = progressWriter(io, json, now);
  const aws = sdkOperatorAws(region, (what) => progress.line(`${what} (AWS throttled or dropped the call; retrying)`));
  let outputs: Readonly<Record<string, string>>;
  try {
    const stack = await aws.stack(name);
    if (!stack)
      return fail(
        io,
        json,
        EXIT.failed,
        'stack',
        `no stack ${name} in ${region}: deploy it first (npx cdk deploy ${name}), or use --local <folder>`,
      );
    outputs = stack.outputs;
  } catch (error) {
    return fail(io, json, EXIT.failed, 'aws', `reading the stack ${name}: ${(error as Error).message}`);
  }
  const target = athenaTargetFromOutputs(name, outputs);
  if (typeof target === 'string') return fail(io, json, EXIT.failed, 'stack', target);

  const client =
    deps.athena?.(region) ??
    new (require('@aws-sdk/client-athena') as typeof import('@aws-sdk/client-athena')).AthenaClient({
      region,
      maxAttempts: 6,
    });
  // Ctrl-C stops the query in Athena (a second one ends the process as usual).
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  if (!io.interrupt) process.once('SIGINT', onSigint);
  else io.interrupt.addEventListener('abort', onSigint, { once: true });
  if (!json) io.stderr(`  athena: workgroup ${target.workGroup}, database ${target.database} (${region})\n`);
  try {
    const { result, stats } = await runAthenaQuery({
      client,
      target,
      sql: resolved.sql,
      progress: (line) => progress.line(line),
      interrupt: controller.signal,
      now,
    });
    progress.clear();
    if (!json) io.stderr(`  ${summary(stats)}\n`);
    return printResult(io, json, { engine: 'athena', envName: env.envName, resolved, result, stats });
  } catch (error) {
    progress.clear();
    if (error instanceof AthenaQueryError) {
      return fail(io, json, EXIT.failed, `athena-${error.kind}`, error.message, {
        queryExecutionId: error.queryExecutionId,
        ...(error.stats?.bytesScanned !== undefined ? { bytesScanned: error.stats.bytesScanned } : {}),
      });
    }
    return fail(io, json, EXIT.failed, 'aws', `Athena: ${(error as Error).message}`);
  } finally {
    process.off('SIGINT', onSigint);
    io.interrupt?.removeEventListener('abort', onSigint);
    client.destroy();
  }
}

function summary(stats: AthenaRunStats): string {
  return `SUCCEEDED in ${formatSeconds(stats.elapsedMs)} (engine ${formatSeconds(stats.engineMs)}), ${formatBytes(stats.bytesScanned)} scanned (${stats.bytesScanned} bytes), query ${stats.queryExecutionId}`;
}
