/**
 * The JSON Schema editors use (qualys-s3.schema.json) is generated from the zod schema, is
 * committed up to date, and accepts the shipped configuration and the README's example.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CONFIG_SCHEMA_FILE,
  ConfigError,
  configJsonSchema,
  configJsonSchemaText,
  parseConfig,
} from '../../src/config/config';
import { DEFAULT_CONFIG_FILE, configLocation, loadConfig, readConfig } from '../../src/config/load-config';

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
  const type = schema.type as string | string[] | undefined;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  // A list of types ("type": ["string", "number"]) admits a value of any of them.
  const types = Array.isArray(type) ? type : [type];
  const typeOk = types.some(
    (type) =>
      type === undefined ||
      (type === 'object' && isObject) ||
      (type === 'array' && Array.isArray(value)) ||
      (type === 'string' && typeof value === 'string') ||
      (type === 'boolean' && typeof value === 'boolean') ||
      (type === 'number' && typeof value === 'number') ||
      (type === 'integer' && Number.isInteger(value)),
  );
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

describe('the JSON Schema is never stricter than the loader', () => {
  const env = (overrides: Record<string, unknown> = {}) => ({
    platform: 'US1',
    credentialsSecret: 'qualys/api-credentials',
    vm: {},
    ...overrides,
  });
  const { platform: _platform, ...withoutPlatform } = env();
  const ACCEPTED: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ['vm and pc as true', env({ vm: true, pc: true })],
    ['pc false beside vm', env({ pc: false })],
    ['a gatewayUrl with a trailing slash', { ...withoutPlatform, gatewayUrl: 'https://gateway.qg1.apps.qualys.com/' }],
    ['a loopback http gateway', { ...withoutPlatform, gatewayUrl: 'http://127.0.0.1:8080' }],
    ['a numeric externalIdRotation', env({ vm: { externalIdRotation: 7 }, pc: { externalIdRotation: 1.5 } })],
    ['bounds of every number', env({ vm: { minSeverity: 5 }, validationTimeoutSeconds: 720, logRetentionDays: 3653 })],
    ['lower bounds', env({ vm: { minSeverity: 1 }, validationTimeoutSeconds: 30, logRetentionDays: 1 })],
    [
      'the whole bucket',
      env({
        account: '123456789012',
        region: 'eu-west-1',
        bucket: {
          bucketName: 'a.b-c1',
          retainOnDelete: false,
          kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          expireAfterDays: 36500,
          transitionAfterDays: 0,
          transitionStorageClass: 'GLACIER_IR',
        },
      }),
    ],
    ['a name of 50 characters', env({ vm: { name: 'n'.repeat(50) } })],
    ['unicode tags', env({ tags: { équipe: 'sécurité', 'cost:center': '42', 'a b': 'x=y+z@w/v' } })],
    ['50 tags', env({ tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, ''])) })],
    [
      'alerts with five emails',
      env({ vm: { sendAlerts: true, errorEmails: ['a@b.co', 'c@d.io', 'e@f.gh', 'i@j.kl', 'm@n.op'] } }),
    ],
    ['100 policies and a full filter', env({ pc: { policies: Array.from({ length: 100 }, (_, i) => i + 1) } })],
    [
      'a vpc with 16 subnets and 5 groups',
      env({
        vpc: {
          vpcId: 'vpc-0123456789abcdef0',
          subnetIds: Array.from({ length: 16 }, (_, i) => `subnet-${String(i).padStart(8, '0')}`),
          securityGroupIds: Array.from({ length: 5 }, (_, i) => `sg-${String(i).padStart(17, 'a')}`),
        },
      }),
    ],
    [
      'a proxy and a subscription label',
      env({ proxyUrl: 'http://proxy.internal:3128', subscription: 'Main sub_1.a:b@c-d' }),
    ],
    [
      'a secret ARN in the stack region',
      env({ region: 'us-east-1', credentialsSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:q-AbCdEf' }),
    ],
    ['GovCloud with its Qualys account', env({ region: 'us-gov-west-1', qualysAwsAccountId: '111122223333' })],
  ];

  test.each(ACCEPTED)(
    'GIVEN %s, which the loader accepts WHEN checked against the JSON Schema THEN it passes',
    (_what, e) => {
      const config = { $schema: `./${CONFIG_SCHEMA_FILE}`, environments: { dev: e } };

      expect(() => parseConfig(config)).not.toThrow();
      expect(violations(configJsonSchema(), config)).toEqual([]);
    },
  );

  test('GIVEN an environment name of 32 characters and one with digits and hyphens WHEN checked THEN both pass', () => {
    const config = {
      environments: { ['a'.repeat(32)]: env({ vm: { name: 'long-env-vm' } }), 'prod-eu-2': env({ pc: {} }) },
    };

    expect(() => parseConfig(config)).not.toThrow();
    expect(violations(configJsonSchema(), config)).toEqual([]);
  });

  test.each([
    ['a number as account', { account: 123456789012 }, /account: is not of type string/],
    ['a lower-case platform', { platform: 'us1' }, /platform: is not one of the enum/],
    ['an unlisted log retention', { logRetentionDays: 91 }, /logRetentionDays: is not one of the enum/],
    ['a severity of 6', { vm: { minSeverity: 6 } }, /vm: matches no branch/],
    ['an unknown bucket field', { bucket: { retainOnDelet: true } }, /bucket\.retainOnDelet: is not allowed/],
    ['a string policy ID', { pc: { policies: ['1'] } }, /pc: matches no branch/],
    [
      'a vpc without subnets',
      { vpc: { vpcId: 'vpc-01234567', securityGroupIds: ['sg-01234567'] } },
      /subnetIds: is required/,
    ],
    ['an empty secret', { credentialsSecret: '' }, /credentialsSecret: too short/],
  ])(
    'GIVEN %s WHEN checked against the JSON Schema THEN an editor flags it, as the loader does',
    (_what, e, flagged) => {
      const config = { environments: { dev: env(e) } };

      expect(() => parseConfig(config)).toThrow(ConfigError);
      expect(violations(configJsonSchema(), config).join('\n')).toMatch(flagged);
    },
  );
});

describe('"$schema" wherever a configuration comes from', () => {
  const ENV = { platform: 'US1', credentialsSecret: 'qualys/api', vm: {} };
  const WITH_SCHEMA = { $schema: `./${CONFIG_SCHEMA_FILE}`, environments: { dev: ENV } };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qualys-schema-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('GIVEN a file named with --config that names the schema WHEN read THEN it is accepted', () => {
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify(WITH_SCHEMA));

    expect(readConfig({ dir, file: 'other.json' }).environments.map((e) => e.envName)).toEqual(['dev']);
  });

  test('GIVEN the "qualys" context in cdk.json as an object naming the schema WHEN read THEN it is accepted', () => {
    writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ context: { qualys: WITH_SCHEMA } }));

    expect(readConfig({ dir }).environments.map((e) => e.envName)).toEqual(['dev']);
  });

  test('GIVEN the "qualys" context as a JSON string (-c qualys=...) naming the schema WHEN read THEN it is accepted', () => {
    writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ context: { qualys: JSON.stringify(WITH_SCHEMA) } }));

    expect(readConfig({ dir }).environments.map((e) => e.envName)).toEqual(['dev']);
  });

  test('GIVEN the app\'s loader with -c config= and with a qualys context string WHEN loaded THEN both accept "$schema"', () => {
    const file = path.join(dir, 'app.json');
    writeFileSync(file, JSON.stringify(WITH_SCHEMA));
    const scope = (context: Record<string, unknown>) => ({ node: { tryGetContext: (key: string) => context[key] } });

    expect(loadConfig(scope({ config: file }) as never).environments[0].envName).toBe('dev');
    expect(loadConfig(scope({ qualys: JSON.stringify(WITH_SCHEMA) }) as never).environments[0].envName).toBe('dev');
  });
});
