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
    const raw = scope.node.tryGetContext('qualys');
    if (raw === undefined) {
      throw new ConfigError([
        'no configuration found: add a "qualys" object to the "context" of cdk.json, or pass a file with -c config=<path>',
      ]);
    }
    const source = 'the "qualys" context (cdk.json)';
    return parseConfig(typeof raw === 'string' ? parseContextJson(raw, source) : raw, source);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`\n${error.message}\n\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** `-c qualys='{...}'` arrives as a string. */
function parseContextJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`the "qualys" context value is not valid JSON: ${(error as Error).message}`], source);
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
    throw new ConfigError([`${full} is not valid JSON: ${(error as Error).message}`], `configuration file ${file}`);
  }
}
