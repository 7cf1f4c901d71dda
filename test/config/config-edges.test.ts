/**
 * Break-it pass over the zod configuration schema (issue 11): prototype keys, huge numbers,
 * wrong-typed integrations, lengths counted as before, the $schema key, near-miss enum values
 * and 500 environments. Each failing case is a difference from the hand-written reader the
 * schema replaced (lib/config.ts before f3c4564) or from the brief's promise.
 */
import { ConfigError, parseConfig } from '../../src/config/config';
import { VM_DEFAULT_SETTINGS } from '../support/fixtures';

const validEnv = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  platform: 'US1',
  credentialsSecret: 'qualys/api-credentials',
  vm: {},
  ...overrides,
});

/** The problems a configuration is rejected with; fails the test when it is accepted. */
function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected the configuration to be rejected: ${JSON.stringify(raw)}`);
}

describe('prototype keys, as JSON.parse hands them over', () => {
  test('GIVEN an environment named "__proto__" beside a valid one WHEN parsed THEN its name is refused, not the environment silently dropped', () => {
    const raw = JSON.parse(
      `{"environments":{"dev":${JSON.stringify(validEnv())},"__proto__":${JSON.stringify(validEnv({ bucket: { bucketName: 'BAD' } }))}}}`,
    );

    expect(problemsOf(raw)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^environment name "__proto__" is not allowed/)]),
    );
  });

  test('GIVEN only an environment named "__proto__" WHEN parsed THEN the name is refused (not "environments is empty")', () => {
    const raw = JSON.parse(`{"environments":{"__proto__":${JSON.stringify(validEnv())}}}`);

    expect(problemsOf(raw)).toEqual([expect.stringMatching(/^environment name "__proto__" is not allowed/)]);
  });

  test('GIVEN "constructor", "toString" and "__proto__" keys inside vm, the environment and the root WHEN parsed THEN each is an unknown field', () => {
    const raw = JSON.parse(
      '{"__proto__":{},"environments":{"dev":{"platform":"US1","credentialsSecret":"q","vm":{"constructor":1,"toString":2,"__proto__":{}}}}}',
    );

    expect(problemsOf(raw)).toEqual([
      expect.stringMatching(/^"qualys\.__proto__" is not a known field/),
      expect.stringMatching(/^"qualys\.environments\.dev\.vm\.constructor" is not a known field/),
      expect.stringMatching(/^"qualys\.environments\.dev\.vm\.toString" is not a known field/),
      expect.stringMatching(/^"qualys\.environments\.dev\.vm\.__proto__" is not a known field/),
    ]);
  });

  test('GIVEN environments named "constructor" and "hasOwnProperty" WHEN parsed THEN both are ordinary environments', () => {
    const config = parseConfig({ environments: { constructor: validEnv(), hasOwnProperty: validEnv() } });

    expect(config.environments.map((e) => e.envName)).toEqual(['constructor', 'hasOwnProperty']);
  });
});

describe('numbers beyond what a field allows', () => {
  test.each([
    ['vm.minSeverity', { vm: { minSeverity: 1e308 } }, /vm\.minSeverity" must be a whole number from 1 to 5/],
    ['vm.minSeverity', { vm: { minSeverity: -1e308 } }, /vm\.minSeverity" must be a whole number from 1 to 5/],
    ['validationTimeoutSeconds', { validationTimeoutSeconds: 1e20 }, /validationTimeoutSeconds" must be a whole/],
    ['bucket.expireAfterDays', { bucket: { expireAfterDays: 1e20 } }, /expireAfterDays" must be a whole number/],
  ])('GIVEN %s beyond the safe integers WHEN parsed THEN it is reported once, not twice', (_field, env, expected) => {
    const problems = problemsOf({ environments: { dev: validEnv(env) } });

    expect(problems).toEqual([expect.stringMatching(expected)]);
  });
});

describe('an integration given as a falsy value of the wrong type', () => {
  test.each([[''], [0], [null]])(
    'GIVEN "pc": %j and no vm WHEN parsed THEN pc is named as not an object, and nobody is told it is "absent or false"',
    (pc) => {
      const problems = problemsOf({ environments: { dev: { platform: 'US1', credentialsSecret: 'q', pc } } });

      expect(problems).toEqual([`"qualys.environments.dev.pc" must be an object, got ${JSON.stringify(pc)}`]);
    },
  );
});

describe('lengths', () => {
  test('GIVEN a vm name of 26 astral characters (52 UTF-16 units) WHEN parsed THEN it is refused as over 50, as before and as the handler counts', () => {
    // The handler's property reader counts String.length; a name accepted here fails the deploy there.
    const problems = problemsOf({ environments: { dev: validEnv({ vm: { name: '😀'.repeat(26) } }) } });

    expect(problems).toEqual([expect.stringMatching(/vm\.name" is 52 characters long, .*at most 50 are allowed/)]);
  });

  test('GIVEN a vm name of 51 ASCII characters WHEN parsed THEN it is refused as over 50', () => {
    expect(problemsOf({ environments: { dev: validEnv({ vm: { name: 'a'.repeat(51) } }) } })).toEqual([
      expect.stringMatching(/vm\.name" is 51 characters long/),
    ]);
  });
});

describe('the $schema key', () => {
  test('GIVEN "$schema": 5 WHEN parsed THEN the message is in the house wording (what is wrong, what to write), not zod\'s default', () => {
    const [problem] = problemsOf({ $schema: 5, environments: { dev: validEnv() } });

    expect(problem).toMatch(/^"qualys\.\$schema" /);
    expect(problem).not.toMatch(/Invalid input|expected string, received/);
  });

  test('GIVEN "$schema" inside an environment WHEN parsed THEN it is an unknown field there', () => {
    expect(problemsOf({ environments: { dev: validEnv({ $schema: './qualys-s3.schema.json' }) } })).toEqual([
      expect.stringMatching(/^"qualys\.environments\.dev\.\$schema" is not a known field/),
    ]);
  });
});

describe('"did you mean" for values', () => {
  test.each([
    ['platform', { platform: 'us1' }, /did you mean "US1"\?/],
    ['vm.baseCategory', { vm: { baseCategory: 'confirmed' } }, /did you mean "Confirmed"\?/],
    [
      'bucket.transitionStorageClass',
      { bucket: { transitionAfterDays: 40, transitionStorageClass: 'standard_ia' } },
      /did you mean "STANDARD_IA"\?/,
    ],
  ])('GIVEN %s in the wrong case WHEN parsed THEN the right spelling is offered', (_field, env, hint) => {
    expect(problemsOf({ environments: { dev: validEnv(env) } }).join('\n')).toMatch(hint);
  });

  test.each([
    ['vm.baseCategory', { vm: { baseCategory: 'Confirmd' } }, /did you mean "Confirmed"\?/],
    [
      'bucket.transitionStorageClass',
      { bucket: { transitionAfterDays: 40, transitionStorageClass: 'STANDARD-IA' } },
      /did you mean "STANDARD_IA"\?/,
    ],
    ['platform', { platform: 'US-1' }, /did you mean "US1"\?/],
  ])(
    'GIVEN %s misspelt by one or two characters WHEN parsed THEN the near value is offered as for field names',
    (_f, env, hint) => {
      expect(problemsOf({ environments: { dev: validEnv(env) } }).join('\n')).toMatch(hint);
    },
  );
});

describe('scale', () => {
  test('GIVEN 500 valid environments WHEN parsed THEN all are read, in order, in well under a second', () => {
    const environments = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`env${i}`, validEnv({ account: '123456789012', region: 'us-east-1' })]),
    );

    const started = Date.now();
    const config = parseConfig({ environments });

    expect(Date.now() - started).toBeLessThan(1000);
    expect(config.environments.map((e) => e.envName)).toEqual(Object.keys(environments));
  });

  test('GIVEN 500 environments each with a bad severity WHEN parsed THEN 500 problems are listed, each with its path', () => {
    const environments = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`env${i}`, validEnv({ vm: { minSeverity: 0 } })]),
    );

    const problems = problemsOf({ environments });

    expect(problems).toHaveLength(500);
    expect(problems[499]).toMatch(/^"qualys\.environments\.env499\.vm\.minSeverity" must be a whole number/);
  });
});

describe("the README's documented defaults", () => {
  test('GIVEN an environment with only platform, secret and "vm": true, "pc": true WHEN parsed THEN every default is the README\'s', () => {
    const [env] = parseConfig({ environments: { dev: validEnv({ vm: true, pc: true }) } }).environments;

    expect(env).toMatchObject({
      gatewayUrl: 'https://gateway.qg1.apps.qualys.com',
      qualysAwsAccountId: '805950163170',
      validationTimeoutSeconds: 600,
      logRetentionDays: 90,
      bucket: { retainOnDelete: true },
      vm: {
        externalIdRotation: '',
        adoptExisting: false,
        settings: VM_DEFAULT_SETTINGS,
      },
      pc: { externalIdRotation: '', adoptExisting: false, settings: { compressData: true }, policies: [] },
    });
    expect(env.pc?.filter).toBeUndefined();
    expect(env.bucket.transitionStorageClass).toBeUndefined();
  });

  test('GIVEN a transition without a storage class and a filter with one field WHEN parsed THEN STANDARD_IA and the filter defaults apply', () => {
    const [env] = parseConfig({
      environments: {
        dev: validEnv({ bucket: { transitionAfterDays: 30 }, pc: { filter: { includeEvidenceData: true } } }),
      },
    }).environments;

    expect(env.bucket.transitionStorageClass).toBe('STANDARD_IA');
    expect(env.pc?.filter).toEqual({
      includeEvidenceData: true,
      includeFailPosture: true,
      includePassPosture: true,
      includeErrorPosture: true,
    });
  });
});

describe('the fixes, at their edges', () => {
  test('GIVEN an environment named "__proto__" with a bad severity WHEN parsed THEN its own problem is reported under the name as written, beside the name', () => {
    const raw = JSON.parse(`{"environments":{"__proto__":${JSON.stringify(validEnv({ vm: { minSeverity: 9 } }))}}}`);

    expect(problemsOf(raw)).toEqual([
      '"qualys.environments.__proto__.vm.minSeverity" must be a whole number from 1 to 5, got 9',
      expect.stringMatching(/^environment name "__proto__" is not allowed/),
    ]);
  });

  test('GIVEN a tag key "__proto__" WHEN parsed THEN it is refused by name, not dropped from the tags', () => {
    const raw = JSON.parse(`{"environments":{"dev":${JSON.stringify(validEnv())}}}`);
    raw.environments.dev.tags = JSON.parse('{"team":"sec","__proto__":"x"}');

    expect(problemsOf(raw)).toEqual([
      expect.stringMatching(/^"qualys\.environments\.dev\.tags\.__proto__" is a tag key that cannot reach the stack/),
    ]);
  });

  test('GIVEN "vm": 0 and no pc WHEN parsed THEN only vm is named as not an object', () => {
    expect(problemsOf({ environments: { dev: { platform: 'US1', credentialsSecret: 'q', vm: 0 } } })).toEqual([
      '"qualys.environments.dev.vm" must be an object, got 0',
    ]);
  });

  test('GIVEN "vm": false and no pc WHEN parsed THEN "all absent or false" is still reported', () => {
    expect(problemsOf({ environments: { dev: { platform: 'US1', credentialsSecret: 'q', vm: false } } })).toEqual([
      expect.stringMatching(
        /vm", "qualys\.environments\.dev\.pc" and "qualys\.environments\.dev\.cloudView" are all absent or false/,
      ),
    ]);
  });

  test('GIVEN "$schema": 5 WHEN parsed THEN the message names the field, the value and what to write', () => {
    expect(problemsOf({ $schema: 5, environments: { dev: validEnv() } })).toEqual([
      '"qualys.$schema" must be a string, the path or URL of the JSON Schema (e.g. "./qualys-s3.schema.json"), got 5',
    ]);
  });

  test('GIVEN a vm name of 25 astral characters (50 UTF-16 units) WHEN parsed THEN it is accepted', () => {
    const [env] = parseConfig({ environments: { dev: validEnv({ vm: { name: '😀'.repeat(25) } }) } }).environments;

    expect(env.vm?.name).toBe('😀'.repeat(25));
  });

  test.each([
    ['platform', { platform: 'ksa-1' }, /is "ksa-1" \(did you mean "KSA1"\?\); allowed:/],
    [
      'vm.baseCategory',
      { vm: { baseCategory: 'Potentail' } },
      /is "Potentail" \(did you mean "Potential"\?\); allowed:/,
    ],
    ['platform', { platform: 'EU7' }, /is "EU7"; allowed:/],
    ['vm.baseCategory', { vm: { baseCategory: 'XY' } }, /is "XY"; allowed:/],
  ])(
    'GIVEN %s of %j WHEN parsed THEN a hint is offered only for a near miss, not for another short code',
    (_f, env, expected) => {
      expect(problemsOf({ environments: { dev: validEnv(env) } })).toEqual([expect.stringMatching(expected)]);
    },
  );
});
