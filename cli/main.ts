/**
 * `qualys-s3`: the operator's command line. Parses arguments, reads the configuration with
 * the app's own module, runs one command and sets the exit status:
 * 0 every check passed, 1 a check failed, 2 usage or configuration error.
 */
import { parseArgs } from 'node:util';
import { ConfigError, EnvironmentConfig, QualysS3Config } from '../lib/config';
import { readConfig } from '../lib/load-config';
import { CheckResult, Checklist, formatResult, formatSummary } from './checklist';
import { CommandContext, operatorLogger } from './context';
import { resolveRegion, sdkOperatorAws } from './operator-aws';
import { preflight } from './preflight';
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
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const COMMANDS = ['preflight', 'status', 'rehearse'] as const;
type Command = (typeof COMMANDS)[number];

export const USAGE = `Usage: qualys-s3 <command> [envName] [options]

Commands:
  preflight <env>   check everything a first deploy needs; changes nothing
  status <env>      check a deployed environment: registration, trust, data, CIPS, orphans
  rehearse [env]    run the real handler through create, update, rotation and delete
                    against a local Qualys simulator and fake AWS (no accounts needed)

Options:
  --config <file>   configuration file (default: the "qualys" context of ./cdk.json)
  --json            machine-readable output on stdout
  --verbose         every Qualys call (redacted) on stderr
  --timeout <s>     seconds to wait for each Qualys answer (default 15)
  --iam-delay <s>   rehearse: seconds the fake IAM takes to propagate a trust policy (default 4)
  -h, --help        this text

envName may be left out when the configuration has exactly one environment.
Exit status: 0 all checks pass, 1 a check fails, 2 usage or configuration error.`;

class UsageError extends Error {}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const now = io.now ?? Date.now;
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        'iam-delay': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError(io, argv.includes('--json'), (error as Error).message);
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  const [commandName, envArg, ...extra] = positionals;
  try {
    if (!commandName) throw new UsageError('no command given');
    if (!COMMANDS.includes(commandName as Command)) throw new UsageError(`unknown command "${commandName}"; use one of ${COMMANDS.join(', ')}`);
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (values.timeout !== undefined && !/^\d+$/.test(values.timeout)) throw new UsageError(`--timeout takes whole seconds, e.g. --timeout 30 (got "${values.timeout}")`);
    if (values['iam-delay'] !== undefined && !/^\d+$/.test(values['iam-delay'])) throw new UsageError(`--iam-delay takes whole seconds, e.g. --iam-delay 10 (got "${values['iam-delay']}")`);
    if (values.timeout !== undefined && (Number(values.timeout) < 1 || Number(values.timeout) > 300)) throw new UsageError('--timeout must be between 1 and 300 seconds');
  } catch (error) {
    return usageError(io, json, (error as Error).message);
  }
  const command = commandName as Command;

  let config: QualysS3Config;
  let env: EnvironmentConfig;
  try {
    config = readConfig({ file: values.config, dir: io.cwd });
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
    if (!json) io.stdout(`qualys-s3 rehearse ${env.envName}: a local run of the real handler; nothing leaves this machine\n\n`);
    const report = await rehearse({ config, env, cwd: io.cwd, configFile: values.config, propagationDelayMs: values['iam-delay'] === undefined ? undefined : Number(values['iam-delay']) * 1000, print: json ? () => {} : (line) => io.stdout(`${line}\n`), progress, now });
    clearProgress();
    if (json) io.stdout(`${JSON.stringify({ command, envName: env.envName, ok: report.ok, exitCode: report.ok ? 0 : 1, steps: report.steps }, null, 2)}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  }

  const trace = values.verbose && !json ? (line: string) => io.stderr(`${line}\n`) : () => {};
  const log = operatorLogger(trace, progress);
  redact = (text) => log.redact(text);
  const checklist = new Checklist(
    {
      progress,
      result: (r: CheckResult) => {
        clearProgress();
        if (!json) io.stdout(`${formatResult(r)}\n`);
      },
    },
    now,
    (text) => log.redact(text),
  );
  const region = await resolveRegion(env.region);
  const ctx: CommandContext = {
    config,
    env,
    region,
    aws: region ? sdkOperatorAws(region, (what) => progress(`${what} (AWS throttled or dropped the call; retrying)`)) : undefined,
    checklist,
    progress,
    requestTimeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined,
    log,
    now,
  };
  if (!json) io.stdout(`qualys-s3 ${command} ${env.envName}${region ? ` (${region})` : ''}\n\n`);
  await (command === 'preflight' ? preflight(ctx) : status(ctx));
  clearProgress();

  const counts = checklist.counts();
  const exitCode = checklist.failed ? EXIT.failed : EXIT.ok;
  if (json) {
    // Redacted again as a whole: a check that ran before the password was known cannot have been.
    const doc = { command, envName: env.envName, region: region ?? null, ok: exitCode === 0, exitCode, summary: counts, checks: checklist.results };
    io.stdout(`${log.redact(JSON.stringify(doc, null, 2))}\n`);
  } else {
    io.stdout(`\n${formatSummary(counts)}${exitCode === 0 ? '' : ': fix the ✖ lines and run again'}\n`);
  }
  return exitCode;
}

function pickEnvironment(config: QualysS3Config, envName: string | undefined): EnvironmentConfig {
  const names = config.environments.map((e) => e.envName);
  if (!envName) {
    if (config.environments.length === 1) return config.environments[0];
    throw new UsageError(`name the environment: one of ${names.join(', ')}`);
  }
  const env = config.environments.find((e) => e.envName === envName);
  if (!env) throw new UsageError(`no environment "${envName}" in the configuration; it has ${names.join(', ') || 'none'}`);
  return env;
}

function usageError(io: CliIO, json: boolean, message: string, command?: string, showUsage = true): number {
  if (json) io.stdout(`${JSON.stringify({ command: command ?? null, ok: false, exitCode: EXIT.usage, error: { type: 'usage', message } }, null, 2)}\n`);
  else io.stderr(`qualys-s3: ${message}\n${showUsage ? `\n${USAGE}\n` : ''}`);
  return EXIT.usage;
}

function configError(io: CliIO, json: boolean, command: string, error: ConfigError): number {
  if (json) {
    io.stdout(`${JSON.stringify({ command, ok: false, exitCode: EXIT.usage, error: { type: 'configuration', message: error.message, problems: error.problems } }, null, 2)}\n`);
  } else {
    io.stdout(`qualys-s3 ${command}\n\n  ✖ configuration                ${error.problems.length} problem(s)\n`);
    io.stderr(`\n${error.message}\n\nFix the configuration (README: "Configuration reference") and run again.\n`);
  }
  return EXIT.usage;
}
