import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Node } from 'constructs';
import { ConfigError, QualysS3Config, parseConfig } from './config';

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
  const position = at ? Number(at[1]) : text.length;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${message}`;
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
    throw new ConfigError([`${full} is not valid JSON at ${jsonErrorWhere(text, error)}`], `configuration file ${file}`);
  }
}
