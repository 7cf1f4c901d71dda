// biome-ignore-all lint/suspicious/noAssignInExpressions: the JSON scanner advances its position inside expressions
// biome-ignore-all lint/correctness/noVoidTypeReturn: the scanner's steps return void to end a branch
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Node } from 'constructs';
import { ConfigError, type QualysS3Config, parseConfig } from './config';

/**
 * The configuration of an app: the JSON file named by `-c config=<path>` when given,
 * otherwise the `qualys` context key (cdk.json). Exits with every problem listed when
 * the configuration is invalid.
 */
export function loadConfig(scope: { node: Node }): QualysS3Config {
  const file = scope.node.tryGetContext('config') as string | undefined;
  try {
    if (file) return parseConfig(readJson(file), `configuration file ${file}`);
    return parseContextValue(scope.node.tryGetContext('qualys'));
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
 * `qualys` context of the cdk.json in `dir`. Throws {@link ConfigError}.
 */
export function readConfig(options: { file?: string; dir: string }): QualysS3Config {
  const raw = readRawConfig(options);
  return options.file ? parseConfig(raw, `configuration file ${options.file}`) : parseContextValue(raw);
}

/** The configuration's JSON as written, before validation and defaults (see {@link readConfig}). */
export function readRawConfig(options: { file?: string; dir: string }): unknown {
  if (options.file) return readJson(path.resolve(options.dir, options.file));
  const project = readJson(path.join(options.dir, 'cdk.json')) as { context?: Record<string, unknown> } | null;
  const raw = project?.context?.qualys;
  return typeof raw === 'string' ? parseContextJson(raw, 'the "qualys" context (cdk.json)') : raw;
}

function parseContextValue(raw: unknown): QualysS3Config {
  if (raw === undefined) {
    throw new ConfigError([
      'no configuration found: add a "qualys" object to the "context" of cdk.json, or pass a file with -c config=<path> (--config <path> for qualys-s3)',
    ]);
  }
  const source = 'the "qualys" context (cdk.json)';
  return parseConfig(typeof raw === 'string' ? parseContextJson(raw, source) : raw, source);
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
