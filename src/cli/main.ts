/**
 * `qualys-s3`: the operator's command line. Parses arguments, reads the configuration with
 * the app's own module, runs one command and sets the exit status:
 * 0 every check passed, 1 a check failed, 2 usage or configuration error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { EnvironmentConfig, QualysS3Config } from '../config/config';
import { ConfigError } from '../config/messages';
import { configLocation, readConfig } from '../config/load-config';
import { isCalendarDay } from '../core/findings/values';
import { type CheckResult, Checklist, formatResult, formatSummary } from './checklist';
import { type CommandContext, keepPlaceholders, operatorLogger } from './context';
import { resolveRegion, sdkOperatorAws } from './operator-aws';
import { preflight } from './preflight';
import { DIALECTS, type DialectName } from '../../sim/qualys-dialect';
import { QUERY_HELP, queryCommand } from './query';
import { rehearse } from './rehearse';
import { status } from './status';

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Where cdk.json (and a relative --config) is looked up. */
  readonly cwd: string;
  /** Whether stderr is a terminal (progress is then shown in place). */
  readonly interactive?: boolean;
  readonly now?: () => number;
  /** Aborted to stop a running Athena query (`query`). @default - Ctrl-C (SIGINT) */
  readonly interrupt?: AbortSignal;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const COMMANDS = ['preflight', 'status', 'diff', 'rehearse', 'normalize', 'query', 'backfill'] as const;
type Command = (typeof COMMANDS)[number];

export const USAGE = `Usage: qualys-s3 <command> [envName] [options]

Commands:
  preflight <env>   check everything a first deploy needs; changes nothing
  status <env>      check a deployed environment: registration, trust, data, CIPS, orphans
  diff <env>        show what a deploy would change in Qualys and the trust policies, and why
  rehearse [env]    run the real handler through create, update, rotation and delete
                    against a local Qualys simulator and fake AWS (no accounts needed)
  normalize <path> --out <folder>
                    findings files (a folder synced from the bucket, or one file) to the
                    lake's Parquet layout, locally, with the Lambda's normalizer
  query <env> <named-query | sql>
                    run a query over the findings lake on Athena, or with --local <folder>
                    on DuckDB over a local folder (qualys-s3 query --list for the named ones)
  backfill <env>    queue the raw findings already in the bucket for the analytics normalizer

Options:
  --config <file>   configuration file (default: the "qualys" context of ./cdk.json, else ./qualys.config.json)
  --json            machine-readable output on stdout
  --verbose         every Qualys call (redacted) on stderr
  --timeout <s>     seconds to wait for each Qualys answer (default 15)
  --iam-delay <s>   rehearse: seconds the fake IAM takes to propagate a trust policy (default 4)
  --dialect <name>  rehearse: the reading of the Qualys guide the simulator plays (default strict)
  --local <folder>  query: run on DuckDB over this folder, not on Athena
  --param k=v       query: a named query's parameter (repeatable)
  --list            query: the named queries
  --from, --to <YYYY-MM-DD>  backfill: the first and last day to queue (default: all)
  --dry-run         backfill: count the objects, send nothing
  -h, --help        this text; qualys-s3 <command> --help for that command's

envName may be left out when the configuration has exactly one environment.
Exit status: 0 all checks pass, 1 a check fails, 2 usage or configuration error.`;

/** Each command's own help: `qualys-s3 <command> --help`. */
export const COMMAND_HELP: Readonly<Record<Command, string>> = {
  preflight: `Usage: qualys-s3 preflight [envName] [--config <file>] [--json] [--verbose] [--timeout <s>]

Checks everything a first deploy of the environment needs, in the order it needs it, and
changes nothing: the configuration, your AWS credentials (and that they are for the
environment's "account"), the bucket region, the credentials secret, the Qualys login, the
VM / PC integration APIs, CIPS (PC with policies or a filter), and whether an integration
with the environment's name already exists. A check whose prerequisite failed is shown as
skipped, with the check it waited for.

Exit status: 0 all checks pass (warnings allowed), 1 a check fails, 2 usage or configuration error.`,
  status: `Usage: qualys-s3 status [envName] [--config <file>] [--json] [--verbose] [--timeout <s>]

Checks a deployed environment and changes nothing: the stack, each integration in Qualys
(validated, registered with the stack's bucket, region and role), the role's trust policy,
data and the validation test file in the bucket, roles that trust Qualys without an
external ID, CIPS drift and orphaned integrations. Before the first deploy (no stack), the
CIPS and orphan checks are skipped: use preflight then.

Exit status: 0 all checks pass (warnings allowed), 1 a check fails, 2 usage or configuration error.`,
  diff: `Usage: qualys-s3 diff [envName] [--config <file>] [--json] [--verbose] [--timeout <s>]

Shows the plan a deploy would apply in Qualys and in the roles' trust policies, step by step
with the reason for each, and changes nothing: it compares the configuration with the deployed
stack's custom resources (their properties and physical IDs) and with the live state (the
integration in Qualys, the role's trust policy, CIPS). Before the first deploy it shows the
plan of the create. The Qualys-side counterpart of "cdk diff".

Exit status: 0 no changes, 1 changes pending, 2 could not tell (what failed is said), or a usage or configuration error.`,
  rehearse: `Usage: qualys-s3 rehearse [envName] [--config <file>] [--json] [--iam-delay <s>] [--dialect <name>]

Synthesizes the app with the environment's configuration and runs the real bundled handler
through create, redeploy, a settings change, an external-ID rotation and delete, against a
local Qualys simulator and a fake AWS endpoint: no AWS or Qualys account is needed and
nothing leaves this machine. Where the rehearsal cannot use the configuration as written
(gateway, account, secret, bucket name, proxy, VPC) it says what it uses instead.

  --iam-delay <s>   seconds the fake IAM takes to propagate a trust policy (default 4)
  --dialect <name>  how the simulator answers where the Qualys guide is silent or contradicts
                    itself: ${Object.keys(DIALECTS).join(', ')}
                    (default strict; "guide" answers like the guide's own samples throughout)

Exit status: 0 every step succeeded, 1 a step failed, 2 usage or configuration error.`,
  query: QUERY_HELP,
  backfill: `Usage: qualys-s3 backfill [envName] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--dry-run] [--json] [--config <file>]

Queues the raw objects already in the stack's findings bucket (under qualys_pc_posture_info/
and qualys_vm_findings/) for the analytics normalizer: one message per object to its queue,
the same message S3 sends when an object lands. Use it once after enabling analytics, or to
normalize again what the dead-letter queue holds. Objects queued twice are normalized twice,
to the same outputs: nothing is duplicated. The objects are listed, never read or changed.

  --from, --to <YYYY-MM-DD>  only objects of these partition days (the key's date folder,
                    else the day the object was written), both inclusive
  --dry-run         count the objects per prefix; send nothing

Exit status: 0 all queued, 1 something could not be listed or queued, 2 usage or configuration error.`,
  normalize: `Usage: qualys-s3 normalize <file-or-folder> --out <folder> [--table <table>] [--bucket <name>] [--json]

Runs the findings lake's normalizer (the Lambda's code) over local files and writes the same
Parquet layout: <out>/pc_postures/day=YYYY-MM-DD/*.parquet and <out>/vm_findings/day=.../*.parquet,
with manifests/ and quarantine/ beside them. Gzip and the file shape (one object, an array,
NDJSON, concatenated objects) are detected. Run again on the same input: the same files, no
duplicates. Needs no configuration and no AWS account.

A file's key is its path from the raw prefix (qualys_pc_posture_info/, qualys_vm_findings/)
when its path has one (a folder from "aws s3 sync s3://<findings-bucket> <folder>"), else its
path relative to the folder given.

  --out <folder>    where the lake goes (created if missing)
  --table <table>   pc_postures or vm_findings, for files under neither raw prefix
                    (default: read from the file's content)
  --bucket <name>   the findings bucket's name: object ids then match the Lambda's (default local)
  --json            the counts and each file's result on stdout

--out must be outside the input folder (the next run would read the lake as findings).
A file that cannot be read is quarantined, one that fails otherwise is reported with its reason:
either way the other files are still read.

Exit status: 0 every file normalized or skipped, 1 a file was quarantined or failed, 2 usage error.`,
};

class UsageError extends Error {}

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  timeout: { type: 'string' },
  'iam-delay': { type: 'string' },
  dialect: { type: 'string' },
  local: { type: 'string' },
  param: { type: 'string', multiple: true },
  list: { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  'dry-run': { type: 'boolean' },
  out: { type: 'string' },
  table: { type: 'string' },
  bucket: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  timeout?: string;
  'iam-delay'?: string;
  dialect?: string;
  local?: string;
  param?: string[];
  list?: boolean;
  from?: string;
  to?: string;
  'dry-run'?: boolean;
  out?: string;
  table?: string;
  bucket?: string;
  help?: boolean;
};

/**
 * The arguments, checked here rather than by parseArgs' strict mode: its messages (and their
 * advice about '--') are Node's, not this command's.
 */
function parseArguments(argv: readonly string[]): { values: Values; positionals: string[]; problem?: string } {
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: OPTIONS,
  });
  const known = values as Values;
  const json = values.json === true;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = (OPTIONS as Record<string, { type: 'string' | 'boolean' }>)[token.name];
    const problem = !spec
      ? `unknown option "${token.rawName}"; the options are ${Object.keys(OPTIONS)
          .map((o) => `--${o}`)
          .join(', ')}`
      : spec.type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
        ? `${token.rawName} needs a value, e.g. ${token.rawName} ${token.name === 'config' ? 'qualys.json' : '30'}`
        : spec.type === 'boolean' && token.value !== undefined
          ? `${token.rawName} takes no value (got "${token.rawName}=${token.value}")`
          : undefined;
    if (problem) return { values: { json, help: values.help === true }, positionals, problem };
  }
  return { values: known, positionals };
}

/**
 * The folder whose cdk.json holds the configuration: the working directory or the nearest
 * one above it (as git finds its repository), so the command works from a subfolder.
 */
export function findProjectDir(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'cdk.json'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const now = io.now ?? Date.now;
  const { values, positionals, problem } = parseArguments(argv);
  const json = values.json === true;
  const [commandName, envArg, ...extra] = positionals;
  const known = COMMANDS.includes(commandName as Command) ? (commandName as Command) : undefined;
  if (values.help) {
    io.stdout(`${known ? COMMAND_HELP[known] : USAGE}\n`);
    return EXIT.ok;
  }
  try {
    if (problem) throw new UsageError(problem);
    if (!commandName) throw new UsageError('no command given');
    if (!known) throw new UsageError(`unknown command "${commandName}"; use one of ${COMMANDS.join(', ')}`);
    if (extra.length && commandName !== 'query') throw new UsageError(`unexpected argument "${extra[0]}"`);
    for (const option of ['local', 'param', 'list'] as const)
      if (values[option] !== undefined && commandName !== 'query')
        throw new UsageError(`--${option} goes with query only`);
    if (values.timeout !== undefined && !/^\d+$/.test(values.timeout))
      throw new UsageError(`--timeout takes whole seconds, e.g. --timeout 30 (got "${values.timeout}")`);
    if (values['iam-delay'] !== undefined && !/^\d+$/.test(values['iam-delay']))
      throw new UsageError(`--iam-delay takes whole seconds, e.g. --iam-delay 10 (got "${values['iam-delay']}")`);
    if (values.dialect !== undefined && commandName !== 'rehearse')
      throw new UsageError('--dialect goes with rehearse only');
    if (values.dialect !== undefined && !Object.hasOwn(DIALECTS, values.dialect)) {
      throw new UsageError(`unknown dialect "${values.dialect}"; use one of ${Object.keys(DIALECTS).join(', ')}`);
    }
    if (values.timeout !== undefined && (Number(values.timeout) < 1 || Number(values.timeout) > 300))
      throw new UsageError('--timeout must be between 1 and 300 seconds');
    for (const option of ['from', 'to', 'dry-run'] as const) {
      if (values[option] !== undefined && commandName !== 'backfill')
        throw new UsageError(`--${option} goes with backfill only`);
    }
    for (const option of ['from', 'to'] as const) {
      const day = values[option];
      if (day !== undefined && !isCalendarDay(day))
        throw new UsageError(`--${option} takes a day as YYYY-MM-DD, e.g. --${option} 2026-01-31 (got "${day}")`);
    }
    if (values.from && values.to && values.from > values.to)
      throw new UsageError(`--from ${values.from} is after --to ${values.to}`);
  } catch (error) {
    return usageError(io, json, (error as Error).message, known);
  }
  const command = commandName as Command;
  if (command === 'normalize') return runNormalize(io, json, envArg, values);
  if (values.out !== undefined || values.table !== undefined || values.bucket !== undefined)
    return usageError(io, json, '--out, --table and --bucket go with normalize only', command);
  if (command === 'query') {
    const args = {
      positionals: positionals.slice(1),
      local: values.local,
      params: values.param ?? [],
      list: values.list === true,
      json,
    };
    return queryCommand(args, io, (envName) => readEnvironment(io, json, values.config, envName));
  }

  // A --config file is relative to where the user is; cdk.json is the project's.
  const projectDir = values.config === undefined ? findProjectDir(io.cwd) : io.cwd;
  if (!projectDir) {
    return usageError(
      io,
      json,
      `no cdk.json in ${path.resolve(io.cwd)} or any folder above it: run qualys-s3 from the project folder (where cdk.json is), or pass --config <file>`,
      command,
      false,
    );
  }
  let config: QualysS3Config;
  let env: EnvironmentConfig;
  try {
    config = readConfig({ file: values.config, dir: projectDir });
    env = pickEnvironment(config, envArg);
  } catch (error) {
    if (error instanceof ConfigError) return configError(io, json, command, error);
    if (error instanceof UsageError) return usageError(io, json, error.message, command, false);
    throw error;
  }

  // Until the logger exists nothing secret is known; then it redacts progress lines too.
  let redact = (text: string) => text;
  const progress = (raw: string) => {
    if (json) return;
    const text = redact(raw);
    if (io.interactive) io.stderr(`\r\x1b[K  … ${text}`);
    else if (!/ \.\.\.$/.test(text)) io.stderr(`  … ${text}\n`);
  };
  const clearProgress = () => {
    if (!json && io.interactive) io.stderr('\r\x1b[K');
  };

  if (command === 'rehearse') {
    if (!json)
      io.stdout(`qualys-s3 rehearse ${env.envName}: a local run of the real handler; nothing leaves this machine\n\n`);
    const report = await rehearse({
      config,
      env,
      cwd: projectDir,
      configFile: values.config,
      propagationDelayMs: values['iam-delay'] === undefined ? undefined : Number(values['iam-delay']) * 1000,
      dialect: values.dialect as DialectName | undefined,
      print: json ? () => {} : (line) => io.stdout(`${line}\n`),
      progress,
      now,
    });
    clearProgress();
    if (json)
      io.stdout(
        `${JSON.stringify({ command, envName: env.envName, ok: report.ok, exitCode: report.ok ? 0 : 1, departures: report.departures, steps: report.steps }, null, 2)}\n`,
      );
    return report.ok ? EXIT.ok : EXIT.failed;
  }

  const trace = values.verbose && !json ? (line: string) => io.stderr(`${line}\n`) : () => {};
  const log = operatorLogger(trace, progress);
  redact = keepPlaceholders(
    (text) => log.redact(text),
    [
      env.credentialsSecret,
      env.credentialsSecret.replace(/^arn:[^:]+:secretsmanager:[^:]+:\d+:secret:/, '').replace(/-[A-Za-z0-9]{6}$/, ''),
    ],
  );
  const redactOutput = redact;
  const checklist = new Checklist(
    {
      progress,
      result: (r: CheckResult) => {
        clearProgress();
        if (!json) io.stdout(`${formatResult(r)}\n`);
      },
    },
    now,
    redactOutput,
  );
  const region = await resolveRegion(env.region);
  const ctx: CommandContext = {
    config,
    env,
    region,
    aws: region
      ? sdkOperatorAws(region, (what) => progress(`${what} (AWS throttled or dropped the call; retrying)`))
      : undefined,
    checklist,
    progress,
    requestTimeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined,
    log,
    now,
  };
  const elsewhere =
    values.config === undefined && projectDir !== path.resolve(io.cwd)
      ? `  configuration: ${configLocation(projectDir)}\n`
      : '';
  if (!json) io.stdout(`qualys-s3 ${command} ${env.envName}${region ? ` (${region})` : ''}\n${elsewhere}\n`);
  if (command === 'backfill') {
    const { backfill, formatBackfill } = require('./backfill') as typeof import('./backfill');
    const report = await backfill(ctx, { from: values.from, to: values.to, dryRun: values['dry-run'] === true });
    clearProgress();
    if (json) {
      const doc = { command, envName: env.envName, region: region ?? null, ...report };
      io.stdout(`${redactOutput(JSON.stringify(doc, null, 2))}\n`);
    } else io.stdout(redactOutput(formatBackfill(report)));
    return report.exitCode;
  }
  if (command === 'diff') {
    // Loaded here: diff reads properties through the schema (zod/mini), which the other commands do not need.
    const { diff, formatDiff } = require('./diff') as typeof import('./diff');
    const report = await diff(ctx);
    clearProgress();
    if (json) {
      const doc = { command, envName: env.envName, region: region ?? null, ok: report.exitCode === 0, ...report };
      io.stdout(`${redactOutput(JSON.stringify(doc, null, 2))}\n`);
    } else io.stdout(redactOutput(formatDiff(report)));
    return report.exitCode;
  }
  await (command === 'preflight' ? preflight(ctx) : status(ctx));
  clearProgress();

  const counts = checklist.counts();
  const exitCode = checklist.failed ? EXIT.failed : EXIT.ok;
  if (json) {
    // Redacted again as a whole: a check that ran before the password was known cannot have been.
    const doc = {
      command,
      envName: env.envName,
      region: region ?? null,
      ok: exitCode === 0,
      exitCode,
      summary: counts,
      checks: checklist.results,
    };
    io.stdout(`${redactOutput(JSON.stringify(doc, null, 2))}\n`);
  } else {
    io.stdout(`\n${formatSummary(counts)}${exitCode === 0 ? '' : ': fix the ✖ lines and run again'}\n`);
  }
  return exitCode;
}

/** The configuration's environment, for a command that reads the configuration only when it needs it. */
function readEnvironment(
  io: CliIO,
  json: boolean,
  configFile: string | undefined,
  envName: string | undefined,
): { env: EnvironmentConfig } | { exitCode: number } {
  const projectDir = configFile === undefined ? findProjectDir(io.cwd) : io.cwd;
  if (!projectDir) {
    const message = `no cdk.json in ${path.resolve(io.cwd)} or any folder above it: run qualys-s3 from the project folder (where cdk.json is), pass --config <file>, or query a local folder with --local <folder>`;
    return { exitCode: usageError(io, json, message, 'query', false) };
  }
  try {
    return { env: pickEnvironment(readConfig({ file: configFile, dir: projectDir }), envName) };
  } catch (error) {
    if (error instanceof ConfigError) return { exitCode: configError(io, json, 'query', error) };
    if (error instanceof UsageError) return { exitCode: usageError(io, json, error.message, 'query', false) };
    throw error;
  }
}

async function runNormalize(io: CliIO, json: boolean, input: string | undefined, values: Values): Promise<number> {
  const { checkOutOutsideInput, formatNormalizeSummary, normalizeFiles } =
    require('./normalize') as typeof import('./normalize');
  if (!input)
    return usageError(
      io,
      json,
      'normalize needs a file or folder: qualys-s3 normalize <path> --out <folder>',
      'normalize',
    );
  if (!values.out) return usageError(io, json, 'normalize needs --out <folder>, where the Parquet goes', 'normalize');
  if (values.table !== undefined && values.table !== 'pc_postures' && values.table !== 'vm_findings')
    return usageError(io, json, `--table takes pc_postures or vm_findings (got "${values.table}")`, 'normalize');
  const out = path.resolve(io.cwd, values.out);
  let report: Awaited<ReturnType<typeof normalizeFiles>>;
  try {
    const inputPath = path.resolve(io.cwd, input);
    if (fs.existsSync(inputPath) && fs.statSync(inputPath).isDirectory()) checkOutOutsideInput(inputPath, out);
    fs.mkdirSync(out, { recursive: true });
    if (!json) io.stdout(`qualys-s3 normalize ${input} -> ${values.out}\n\n`);
    report = await normalizeFiles({
      input: path.resolve(io.cwd, input),
      out,
      table: values.table as 'pc_postures' | 'vm_findings' | undefined,
      bucket: values.bucket,
      print: json ? () => {} : (line) => io.stdout(`${line}\n`),
      now: io.now,
    });
  } catch (error) {
    return usageError(io, json, (error as Error).message, 'normalize', false);
  }
  const exitCode = report.ok ? EXIT.ok : EXIT.failed;
  if (json) {
    const { results, ...totals } = report;
    const files = results.map(
      ({ file, sourceKey, table, status, reason, recordsIn, rowsOut, unmapped, bytesIn, bytesOut, outputs }) => ({
        file,
        sourceKey,
        table: table ?? null,
        status,
        reason: reason ?? null,
        recordsIn,
        rowsOut,
        unmapped,
        bytesIn,
        bytesOut,
        outputs,
      }),
    );
    io.stdout(`${JSON.stringify({ command: 'normalize', exitCode, ...totals, files }, null, 2)}\n`);
  } else io.stdout(formatNormalizeSummary(report, values.out));
  return exitCode;
}

function pickEnvironment(config: QualysS3Config, envName: string | undefined): EnvironmentConfig {
  const names = config.environments.map((e) => e.envName);
  if (!envName) {
    if (config.environments.length === 1) return config.environments[0];
    throw new UsageError(`name the environment: one of ${names.join(', ')}`);
  }
  const env = config.environments.find((e) => e.envName === envName);
  if (!env)
    throw new UsageError(`no environment "${envName}" in the configuration; it has ${names.join(', ') || 'none'}`);
  return env;
}

function usageError(io: CliIO, json: boolean, message: string, command?: string, showUsage = true): number {
  if (json)
    io.stdout(
      `${JSON.stringify({ command: command ?? null, ok: false, exitCode: EXIT.usage, error: { type: 'usage', message } }, null, 2)}\n`,
    );
  else io.stderr(`qualys-s3: ${message}\n${showUsage ? `\n${USAGE}\n` : ''}`);
  return EXIT.usage;
}

function configError(io: CliIO, json: boolean, command: string, error: ConfigError): number {
  if (json) {
    io.stdout(
      `${JSON.stringify({ command, ok: false, exitCode: EXIT.usage, error: { type: 'configuration', message: error.message, problems: error.problems } }, null, 2)}\n`,
    );
  } else {
    io.stdout(`qualys-s3 ${command}\n\n  ✖ configuration                ${error.problems.length} problem(s)\n`);
    io.stderr(`\n${error.message}\n\nFix the configuration (README: "Configuration reference") and run again.\n`);
  }
  return EXIT.usage;
}
