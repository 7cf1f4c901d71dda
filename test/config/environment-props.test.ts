/**
 * The documented configuration types (environment-props.ts) against the schema that validates
 * the configuration: the same keys at every level, every documented value accepted, and every
 * literal `@default` in their JSDoc the default the schema fills in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  AnalyticsSettings,
  CipsFilterSettings,
  CloudViewSettings,
  EnvironmentSettings,
  FindingsBucketSettings,
  PcIntegrationSettings,
  QualysS3ConfigFile,
  VmIntegrationSettings,
  VpcSettings,
} from '../../src/config/environment-props';
import {
  configJsonSchema,
  type EnvironmentInput,
  parseEnvironment,
  type QualysS3ConfigInput,
} from '../../src/config/schema';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Settings<T> = Exclude<NonNullable<T>, boolean>;
type Input = EnvironmentInput;
type DeepMutable<T> = T extends readonly (infer U)[]
  ? DeepMutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: DeepMutable<T[K]> }
    : T;

// Compile-time: tsc (run by npm test) fails when a key is added to one side only.
const sameKeys: [
  Same<keyof EnvironmentSettings, keyof Input>,
  Same<keyof FindingsBucketSettings, keyof NonNullable<Input['bucket']>>,
  Same<keyof VmIntegrationSettings, keyof Settings<Input['vm']>>,
  Same<keyof PcIntegrationSettings, keyof Settings<Input['pc']>>,
  Same<keyof CipsFilterSettings, keyof NonNullable<Settings<Input['pc']>['filter']>>,
  Same<keyof VpcSettings, keyof NonNullable<Input['vpc']>>,
  Same<keyof QualysS3ConfigFile, keyof QualysS3ConfigInput>,
  Same<keyof CloudViewSettings, keyof Settings<Input['cloudView']>>,
  Same<keyof AnalyticsSettings, keyof NonNullable<Input['analytics']>>,
] = [true, true, true, true, true, true, true, true, true];

// Every value the documented types admit is one the schema's input type admits.
const accepted = (settings: EnvironmentSettings): Input => settings as DeepMutable<EnvironmentSettings>;

const SOURCE = fs.readFileSync(path.join(__dirname, '../../src/config/environment-props.ts'), 'utf8');

/** interface name -> property -> the literal of its `@default` (absent for `@default - ...`). */
function documentedDefaults(): Map<string, Map<string, string | undefined>> {
  const found = new Map<string, Map<string, string | undefined>>();
  for (const block of SOURCE.matchAll(/export interface (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
    const props = new Map<string, string | undefined>();
    for (const prop of block[2].matchAll(/\/\*\*([\s\S]*?)\*\/\s*readonly (\w+)(\??):/g)) {
      const tag = /@default (.+)/.exec(prop[1])?.[1].trim();
      if (prop[3] === '?') props.set(prop[2], tag === undefined ? 'MISSING' : tag.startsWith('- ') ? undefined : tag);
    }
    found.set(block[1], props);
  }
  return found;
}

type JsonSchema = { properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[]; default?: unknown };
const objectBranch = (s: JsonSchema) => s.anyOf?.find((b) => b.properties) ?? s;

const env = (configJsonSchema() as { properties: { environments: { additionalProperties: JsonSchema } } }).properties
  .environments.additionalProperties;
const SCHEMA_OF: Record<string, JsonSchema | undefined> = {
  QualysS3ConfigFile: configJsonSchema() as JsonSchema,
  EnvironmentSettings: env,
  FindingsBucketSettings: env.properties?.bucket,
  IntegrationCommonSettings: objectBranch(env.properties!.vm),
  VmIntegrationSettings: objectBranch(env.properties!.vm),
  PcIntegrationSettings: objectBranch(env.properties!.pc),
  CipsFilterSettings: objectBranch(env.properties!.pc).properties?.filter,
  VpcSettings: env.properties?.vpc,
  CloudViewSettings: objectBranch(env.properties!.cloudView),
  AnalyticsSettings: env.properties?.analytics,
};

/** Defaults the JSON Schema does not carry (applied after a transform), checked by a parse instead. */
const MINIMAL = { platform: 'US1', credentialsSecret: 's', vm: true };
const PARSED_DEFAULTS: Record<string, () => unknown> = {
  'EnvironmentSettings.qualysAwsAccountId': () => parseEnvironment('dev', MINIMAL).qualysAwsAccountId,
  'FindingsBucketSettings.transitionStorageClass': () =>
    parseEnvironment('dev', { ...MINIMAL, bucket: { transitionAfterDays: 40 } }).bucket.transitionStorageClass,
  'PcIntegrationSettings.policies': () =>
    parseEnvironment('dev', { platform: 'US1', credentialsSecret: 's', pc: {} }).pc?.policies,
};

// `sameKeys` and `accepted` are checked by tsc; this test checks the same at run time, against
// the JSON Schema the same schema yields (what editors see).
void sameKeys;
void accepted;

test('GIVEN the documented interfaces THEN each has exactly the keys of its part of the JSON Schema', () => {
  const keysOf = (name: string): string[] => {
    const block = new RegExp(`export interface ${name}(?: extends (\\w+))? \\{([\\s\\S]*?)\\n\\}`).exec(SOURCE);
    if (!block) throw new Error(`no interface ${name} in environment-props.ts`);
    const own = [...block[2].matchAll(/^ {2}readonly (\$?\w+)\??:/gm)].map((m) => m[1]);
    return block[1] ? [...keysOf(block[1]), ...own] : own;
  };
  for (const [name, schema] of Object.entries(SCHEMA_OF)) {
    if (name === 'IntegrationCommonSettings') continue;
    expect({ name, keys: keysOf(name).sort() }).toEqual({ name, keys: Object.keys(schema?.properties ?? {}).sort() });
  }
});

test('GIVEN every optional documented field THEN its JSDoc has @default, and a literal default is the one the schema applies', () => {
  const documented = documentedDefaults();
  expect([...documented.keys()].sort()).toEqual(Object.keys(SCHEMA_OF).sort());
  const checked: string[] = [];
  for (const [name, props] of documented) {
    for (const [prop, literal] of props) {
      const where = `${name}.${prop}`;
      expect(`${where}: ${literal}`).not.toBe(`${where}: MISSING`);
      if (literal === undefined) continue;
      const expected = PARSED_DEFAULTS[where] ? PARSED_DEFAULTS[where]() : SCHEMA_OF[name]?.properties?.[prop]?.default;
      expect({ where, value: JSON.parse(literal.replace(/'/g, '"')) }).toEqual({ where, value: expected });
      checked.push(where);
    }
  }
  // The scan found the documented literals (a regex that matched nothing would pass vacuously).
  expect(checked).toEqual(
    expect.arrayContaining(['VmIntegrationSettings.minSeverity', 'EnvironmentSettings.logRetentionDays']),
  );
  expect(checked.length).toBeGreaterThan(20);
});
