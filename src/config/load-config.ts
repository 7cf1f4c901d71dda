// biome-ignore-all lint/suspicious/noAssignInExpressions: the JSON scanner advances its position inside expressions
// biome-ignore-all lint/correctness/noVoidTypeReturn: the scanner's steps return void to end a branch
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from './messages';
import type { QualysS3Config } from './schema';

/**
 * The schema is loaded on first use: zod takes about 0.1 s to load, and the CLI's `--help`
 * and its other commands that read no configuration should not pay for it.
 */
function parseConfig(raw: unknown, source?: string): QualysS3Config {
  return (require('./schema') as typeof import('./schema')).parseConfig(raw, source);
}

/**
 * The shipped configuration file, read when neither `-c config=<path>` nor a `qualys` context
 * is given. It names the JSON Schema with `"$schema"`, so that editors complete and check it.
 */
export const DEFAULT_CONFIG_FILE = 'qualys.config.json';

const CONTEXT_SOURCE = 'the "qualys" context (cdk.json)';

/**
 * What {@link loadConfig} reads of the app it configures: its context. Stated by shape rather
 * than as the constructs package's `Node`, so that this folder stays free of the CDK.
 */
export interface ContextScope {
  readonly node: { tryGetContext(key: string): unknown };
}

/**
 * The configuration of an app: the JSON file named by `-c config=<path>` when given, otherwise
 * the `qualys` context key (cdk.json), otherwise qualys.config.json in the working directory.
 *
 * @throws ConfigError listing every problem, when the configuration is invalid or absent.
 */
export function loadConfig(scope: ContextScope): QualysS3Config {
  const file = scope.node.tryGetContext('config') as string | undefined;
  if (file) return parseConfig(readJson(file), `configuration file ${file}`);
  const context: unknown = scope.node.tryGetContext('qualys');
  if (context === undefined && existsSync(DEFAULT_CONFIG_FILE)) {
    return parseConfig(readJson(DEFAULT_CONFIG_FILE), `configuration file ${DEFAULT_CONFIG_FILE}`);
  }
  return parseContextValue(context);
}

/**
 * {@link loadConfig} for an app's entry point: an invalid configuration is printed as its list
 * of problems (no stack trace, which would bury them) and the process exits with status 1.
 */
export function loadConfigOrExit(scope: ContextScope): QualysS3Config {
  try {
    return loadConfig(scope);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`\n${error.message}\n\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * The same configuration, read outside CDK (the operator CLI): the file given, otherwise the
 * `qualys` context of the cdk.json in `dir`, otherwise `dir`/qualys.config.json. Throws {@link ConfigError}.
 */
export function readConfig(options: { file?: string; dir: string }): QualysS3Config {
  const raw = readRawConfig(options);
  const file = options.file ?? (usesDefaultFile(options.dir) ? DEFAULT_CONFIG_FILE : undefined);
  return file ? parseConfig(raw, `configuration file ${file}`) : parseContextValue(raw);
}

/** The configuration's JSON as written, before validation and defaults (see {@link readConfig}). */
export function readRawConfig(options: { file?: string; dir: string }): unknown {
  if (options.file) return readJson(path.resolve(options.dir, options.file));
  if (usesDefaultFile(options.dir)) return readJson(path.join(options.dir, DEFAULT_CONFIG_FILE));
  const raw = contextOf(options.dir);
  return typeof raw === 'string' ? parseContextJson(raw, CONTEXT_SOURCE) : raw;
}

/** The file the configuration of the project in `dir` is read from when no file is given. */
export function configLocation(dir: string): string {
  return path.join(dir, usesDefaultFile(dir) ? DEFAULT_CONFIG_FILE : 'cdk.json');
}

function contextOf(dir: string): unknown {
  const project = readJson(path.join(dir, 'cdk.json')) as { context?: Record<string, unknown> } | null;
  return project?.context?.qualys;
}

/** An inline `qualys` context wins over the default file, as it does for the app. */
function usesDefaultFile(dir: string): boolean {
  return contextOf(dir) === undefined && existsSync(path.join(dir, DEFAULT_CONFIG_FILE));
}

function parseContextValue(raw: unknown): QualysS3Config {
  if (raw === undefined) {
    throw new ConfigError([
      `no configuration found: write ${DEFAULT_CONFIG_FILE} next to cdk.json, add a "qualys" object to the "context" of cdk.json, or pass a file with -c config=<path> (--config <path> for qualys-s3)`,
    ]);
  }
  return parseConfig(typeof raw === 'string' ? parseContextJson(raw, CONTEXT_SOURCE) : raw, CONTEXT_SOURCE);
}

/** `-c qualys='{...}'` arrives as a string. */
function parseContextJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`the "qualys" context value is not valid JSON: ${jsonErrorWhere(text, error)}`], source);
  }
}

/**
 * A JSON.parse error with the line and column it happened at. Node 20's messages give only a
 * character position (and none at the end of input), which a person editing a file cannot use.
 */
export function jsonErrorWhere(text: string, error: unknown): string {
  // Node 22 adds "(line n column m)" itself; computed here alike on every version.
  const message = (error as Error).message.replace(/\s*\(line \d+ column \d+\)/, '');
  const at = /at position (\d+)/.exec(message);
  const position = at ? Number(at[1]) : (firstBadTokenAt(text) ?? text.length);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${message}`;
}

/**
 * Where JSON text first goes wrong, for the Node versions whose parse errors give no position
 * (Node 20: "Unexpected token 'x', ..."): a small scanner over JSON's grammar.
 */
export function firstBadTokenAt(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => (text.startsWith(word, i) ? void (i += word.length) : fail());
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : undefined;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : undefined;
  }
}

function readJson(file: string): unknown {
  const full = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read ${full}: ${(error as Error).message}`], `configuration file ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      [`${full} is not valid JSON at ${jsonErrorWhere(text, error)}`],
      `configuration file ${file}`,
    );
  }
}
