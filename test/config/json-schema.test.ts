/**
 * The JSON Schema editors use (qualys-s3.schema.json) is generated from the zod schema, is
 * committed up to date, and accepts the shipped configuration and the README's example.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIG_SCHEMA_FILE, configJsonSchema, configJsonSchemaText, parseConfig } from '../../src/config/config';
import { DEFAULT_CONFIG_FILE, configLocation, readConfig } from '../../src/config/load-config';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

type Schema = Record<string, unknown>;

/**
 * The JSON Schema keywords the generated schema uses, checked as an editor would: the
 * problems of `value` against `schema`, each with its JSON path. Unknown keywords fail, so a
 * new keyword is not silently ignored.
 */
function violations(schema: Schema, value: unknown, at = '$'): string[] {
  const known = new Set([
    ...['$schema', 'title', 'description', 'default', 'type', 'properties', 'required', 'additionalProperties'],
    ...['propertyNames', 'minProperties', 'items', 'minItems', 'maxItems', 'enum', 'pattern', 'minLength'],
    ...['maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'anyOf'],
  ]);
  const unknown = Object.keys(schema).filter((k) => !known.has(k));
  if (unknown.length > 0) return [`${at}: the checker does not know ${unknown.join(', ')}`];
  const out: string[] = [];
  if (schema.anyOf) {
    const branches = (schema.anyOf as Schema[]).map((s) => violations(s, value, at));
    if (branches.every((b) => b.length > 0)) out.push(`${at}: matches no branch (${branches.flat().join('; ')})`);
  }
  const type = schema.type as string | undefined;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const typeOk =
    type === undefined ||
    (type === 'object' && isObject) ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'boolean' && typeof value === 'boolean') ||
    (type === 'number' && typeof value === 'number') ||
    (type === 'integer' && Number.isInteger(value));
  if (!typeOk) return [...out, `${at}: is not of type ${type}`];
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) out.push(`${at}: is not one of the enum`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern as string, 'u').test(value)) out.push(`${at}: breaks the pattern`);
    if (schema.minLength !== undefined && value.length < (schema.minLength as number)) out.push(`${at}: too short`);
    if (schema.maxLength !== undefined && value.length > (schema.maxLength as number)) out.push(`${at}: too long`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < (schema.minimum as number)) out.push(`${at}: below minimum`);
    if (schema.maximum !== undefined && value > (schema.maximum as number)) out.push(`${at}: above maximum`);
    if (schema.exclusiveMinimum !== undefined && value <= (schema.exclusiveMinimum as number))
      out.push(`${at}: not above exclusiveMinimum`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < (schema.minItems as number)) out.push(`${at}: too few items`);
    if (schema.maxItems !== undefined && value.length > (schema.maxItems as number)) out.push(`${at}: too many items`);
    if (schema.items) {
      for (const [i, v] of value.entries()) out.push(...violations(schema.items as Schema, v, `${at}[${i}]`));
    }
  }
  if (isObject) {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in object)) out.push(`${at}.${key}: is required`);
    }
    if (schema.minProperties !== undefined && Object.keys(object).length < (schema.minProperties as number))
      out.push(`${at}: too few properties`);
    for (const [key, v] of Object.entries(object)) {
      if (schema.propertyNames) out.push(...violations(schema.propertyNames as Schema, key, `${at}.${key} (name)`));
      if (properties[key]) out.push(...violations(properties[key], v, `${at}.${key}`));
      else if (schema.additionalProperties === false) out.push(`${at}.${key}: is not allowed`);
      else if (typeof schema.additionalProperties === 'object')
        out.push(...violations(schema.additionalProperties as Schema, v, `${at}.${key}`));
    }
  }
  return out;
}

/** The first ```jsonc block of README.md's configuration reference, its // comments dropped. */
function readmeExample(): unknown {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Configuration reference'));
  const block = /```jsonc\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md has no ```jsonc example under "## Configuration reference"');
  return JSON.parse(block[1].replace(/\s\/\/ .*$/gm, ''));
}

describe('the JSON Schema file', () => {
  test('GIVEN the zod schema WHEN its JSON Schema is generated THEN the committed qualys-s3.schema.json is the same (else run npm run schema)', () => {
    expect(read(CONFIG_SCHEMA_FILE)).toBe(configJsonSchemaText());
  });

  test('GIVEN the shipped qualys.config.json WHEN read THEN it names the schema with $schema, the schema accepts it and parseConfig does too', () => {
    const shipped = JSON.parse(read(DEFAULT_CONFIG_FILE));

    expect(shipped.$schema).toBe(`./${CONFIG_SCHEMA_FILE}`);
    expect(violations(configJsonSchema(), shipped)).toEqual([]);
    expect(parseConfig(shipped).environments.map((e) => e.envName)).toEqual(['example']);
  });

  test("GIVEN the README's configuration example WHEN checked THEN the JSON Schema and parseConfig accept it", () => {
    const example = readmeExample();

    expect(violations(configJsonSchema(), example)).toEqual([]);
    expect(() => parseConfig(example)).not.toThrow();
  });

  test('GIVEN a misspelt field, a platform in lower case and a string severity WHEN checked against the JSON Schema THEN an editor is told of each', () => {
    const found = violations(configJsonSchema(), {
      environments: {
        dev: { platfrom: 'US1', platform: 'us1', credentialsSecret: 's', vm: { minSeverity: '3' } },
      },
    });

    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.environments\.dev\.platfrom: is not allowed$/),
        expect.stringMatching(/^\$\.environments\.dev\.platform: is not one of the enum$/),
        expect.stringMatching(/^\$\.environments\.dev\.vm: matches no branch .*minSeverity: is not of type integer/),
      ]),
    );
  });

  test('GIVEN an environment without credentialsSecret and a bad environment name WHEN checked THEN both are flagged', () => {
    const found = violations(configJsonSchema(), { environments: { '1dev': { platform: 'US1', vm: {} } } });

    expect(found).toEqual([
      '$.environments.1dev (name): breaks the pattern',
      '$.environments.1dev.credentialsSecret: is required',
    ]);
  });
});

describe('where the configuration is read from', () => {
  const ENV = { platform: 'US1', credentialsSecret: 'qualys/api', vm: {} };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qualys-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, value: unknown) => writeFileSync(path.join(dir, file), JSON.stringify(value));

  test('GIVEN a cdk.json without a "qualys" context and a qualys.config.json WHEN read THEN the file is the configuration', () => {
    write('cdk.json', { context: {} });
    write(DEFAULT_CONFIG_FILE, { $schema: `./${CONFIG_SCHEMA_FILE}`, environments: { fromFile: ENV } });

    expect(readConfig({ dir }).environments.map((e) => e.envName)).toEqual(['fromFile']);
    expect(configLocation(dir)).toBe(path.join(dir, DEFAULT_CONFIG_FILE));
  });

  test('GIVEN both a "qualys" context and a qualys.config.json WHEN read THEN the inline context wins, as for the app', () => {
    write('cdk.json', { context: { qualys: { environments: { inline: ENV } } } });
    write(DEFAULT_CONFIG_FILE, { environments: { fromFile: ENV } });

    expect(readConfig({ dir }).environments.map((e) => e.envName)).toEqual(['inline']);
    expect(configLocation(dir)).toBe(path.join(dir, 'cdk.json'));
  });

  test('GIVEN a bad qualys.config.json WHEN read THEN the problem names that file', () => {
    write('cdk.json', { context: {} });
    write(DEFAULT_CONFIG_FILE, { environments: {} });

    expect(() => readConfig({ dir })).toThrow(/^configuration file qualys\.config\.json has 1 problem:/);
  });

  test('GIVEN neither WHEN read THEN it says where a configuration may live', () => {
    write('cdk.json', { context: {} });

    expect(() => readConfig({ dir })).toThrow(/no configuration found: write qualys\.config\.json next to cdk\.json/);
  });
});
