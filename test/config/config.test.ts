import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ConfigError,
  DEFAULTS,
  type EnvironmentConfig,
  QUALYS_PLATFORMS,
  gatewayUrlProblem,
  parseConfig,
  stackName,
} from '../../src/config/config';
import { problemsOf } from '../support/config-problems';
import { CIPS_DEFAULT_FILTER, VM_DEFAULT_SETTINGS, VPC } from '../support/fixtures';

/** A minimal valid environment; each test changes only what it is about. */
function validEnv(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { platform: 'US1', credentialsSecret: 'qualys/api-credentials', vm: {}, ...overrides };
}

/** Parses one environment named `envName` and returns it. */
function parseEnv(env: Record<string, unknown>, envName = 'dev'): EnvironmentConfig {
  const config = parseConfig({ environments: { [envName]: env } });
  expect(config.environments).toHaveLength(1);
  return config.environments[0];
}

function problemsOfEnv(env: Record<string, unknown>, envName = 'dev'): readonly string[] {
  return problemsOf({ environments: { [envName]: env } });
}

/** Escapes a literal for use inside a RegExp. */
function re(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ALL_PLATFORMS = ['US1', 'US2', 'US3', 'US4', 'EU1', 'EU2', 'EU3', 'IN1', 'CA1', 'AE1', 'UK1', 'AU1', 'KSA1'];

describe('parseConfig: defaults', () => {
  test('GIVEN only a platform, a secret and empty vm and pc WHEN parsed THEN every default is filled in', () => {
    const env = parseEnv({ platform: 'US1', credentialsSecret: 'qualys/api-credentials', vm: {}, pc: {} });

    expect(env).toEqual({
      envName: 'dev',
      account: undefined,
      region: undefined,
      gatewayUrl: 'https://gateway.qg1.apps.qualys.com',
      credentialsSecret: 'qualys/api-credentials',
      qualysAwsAccountId: '805950163170',
      bucket: { bucketName: undefined, retainOnDelete: true },
      vm: {
        name: undefined,
        externalIdRotation: '',
        adoptExisting: false,
        settings: VM_DEFAULT_SETTINGS,
      },
      pc: {
        name: undefined,
        externalIdRotation: '',
        adoptExisting: false,
        settings: { compressData: true },
        policies: [],
        filter: undefined,
      },
      validationTimeoutSeconds: 600,
      logRetentionDays: 90,
      tags: {},
    });
  });

  test('GIVEN "vm": true WHEN parsed THEN the VM integration gets the default settings', () => {
    const env = parseEnv({ platform: 'US1', credentialsSecret: 'qualys/api', vm: true });

    expect(env.vm?.settings).toEqual(DEFAULTS.vm);
    expect(env.pc).toBeUndefined();
  });

  test('GIVEN an empty CIPS filter WHEN parsed THEN each filter flag takes its default', () => {
    const env = parseEnv(validEnv({ pc: { filter: {} } }));

    expect(env.pc?.filter).toEqual(CIPS_DEFAULT_FILTER);
  });

  test('GIVEN explicit values WHEN parsed THEN they win over the defaults', () => {
    const env = parseEnv({
      platform: 'EU2',
      credentialsSecret: 'qualys/api',
      qualysAwsAccountId: '111122223333',
      validationTimeoutSeconds: 120,
      logRetentionDays: 30,
      bucket: { bucketName: 'my-findings', retainOnDelete: false },
      tags: { team: 'security' },
      vm: {
        name: 'my-vm',
        minSeverity: 5,
        baseCategory: 'IG',
        resultSectionNeeded: true,
        sendVulnInfo: true,
        compressData: false,
        sendAlerts: true,
        errorEmails: ['sec@example.com'],
        externalIdRotation: 2,
        adoptExisting: true,
      },
      pc: { compressData: false, policies: [7, 8], filter: { includeEvidenceData: true, includePassPosture: false } },
    });

    expect(env.qualysAwsAccountId).toBe('111122223333');
    expect(env.validationTimeoutSeconds).toBe(120);
    expect(env.logRetentionDays).toBe(30);
    expect(env.bucket).toEqual({ bucketName: 'my-findings', retainOnDelete: false });
    expect(env.tags).toEqual({ team: 'security' });
    expect(env.vm).toEqual({
      name: 'my-vm',
      externalIdRotation: '2',
      adoptExisting: true,
      settings: {
        minSeverity: 5,
        baseCategory: 'IG',
        resultSectionNeeded: true,
        sendVulnInfo: true,
        compressData: false,
        sendAlerts: true,
        errorEmails: ['sec@example.com'],
      },
    });
    expect(env.pc?.settings).toEqual({ compressData: false });
    expect(env.pc?.policies).toEqual([7, 8]);
    expect(env.pc?.filter).toEqual({
      includeEvidenceData: true,
      includeFailPosture: true,
      includePassPosture: false,
      includeErrorPosture: true,
    });
  });

  test('GIVEN the shipped example configuration (qualys.config.json) WHEN parsed THEN it is valid', () => {
    const shipped = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'qualys.config.json'), 'utf8'));

    const config = parseConfig(shipped);

    expect(config.environments.map((e) => e.envName)).toEqual(['example']);
    expect(config.environments[0].gatewayUrl).toBe('https://gateway.qg1.apps.qualys.com');
  });

  test('GIVEN an environment name WHEN its stack is named THEN it is QualysS3-<name>', () => {
    expect(stackName('prod')).toBe('QualysS3-prod');
  });
});

describe('parseConfig: platforms', () => {
  test('GIVEN the platform table THEN it lists exactly the 13 Qualys platforms, each an https gateway', () => {
    expect(Object.keys(QUALYS_PLATFORMS)).toEqual(ALL_PLATFORMS);
    for (const url of Object.values(QUALYS_PLATFORMS)) {
      expect(url).toMatch(/^https:\/\/gateway\.qg\d\.apps\.qualys(ksa)?\.[a-z.]+$/);
    }
  });

  test.each([
    ['US1', 'https://gateway.qg1.apps.qualys.com'],
    ['US4', 'https://gateway.qg4.apps.qualys.com'],
    ['EU1', 'https://gateway.qg1.apps.qualys.eu'],
    ['EU3', 'https://gateway.qg3.apps.qualys.it'],
    ['IN1', 'https://gateway.qg1.apps.qualys.in'],
    ['UK1', 'https://gateway.qg1.apps.qualys.co.uk'],
    ['AU1', 'https://gateway.qg1.apps.qualys.com.au'],
    ['KSA1', 'https://gateway.qg1.apps.qualysksa.com'],
  ])('GIVEN platform %s WHEN parsed THEN the gateway is %s', (platform, url) => {
    expect(parseEnv(validEnv({ platform })).gatewayUrl).toBe(url);
  });

  test('GIVEN an unknown platform WHEN parsed THEN it is rejected, naming the field, the value and every allowed platform', () => {
    const run = () => parseConfig({ environments: { dev: validEnv({ platform: 'US9' }) } });

    expect(run).toThrow(ConfigError);
    expect(run).toThrow(
      new RegExp(`"qualys\\.environments\\.dev\\.platform" is "US9"; allowed: ${ALL_PLATFORMS.join(', ')}`),
    );
  });

  test('GIVEN a platform in lower case WHEN parsed THEN it is rejected (platform names are exact) and the right spelling is suggested', () => {
    expect(problemsOfEnv(validEnv({ platform: 'us1' }))).toEqual([
      expect.stringMatching(/platform" is "us1" \(did you mean "US1"\? the value is case-sensitive\); allowed: US1/),
    ]);
  });
});

describe('parseConfig: gatewayUrl', () => {
  function withUrl(gatewayUrl: unknown): Record<string, unknown> {
    const env = validEnv({ gatewayUrl });
    delete env.platform;
    return env;
  }

  test.each([
    ['https://gateway.qg2.apps.qualys.com', 'https://gateway.qg2.apps.qualys.com'],
    ['https://gateway.qg2.apps.qualys.com/', 'https://gateway.qg2.apps.qualys.com'],
    ['https://qualys.internal.example:8443', 'https://qualys.internal.example:8443'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://localhost:9000', 'http://localhost:9000'],
  ])('GIVEN %s WHEN parsed THEN it is accepted as %s', (input, expected) => {
    expect(parseEnv(withUrl(input)).gatewayUrl).toBe(expected);
  });

  test.each([
    ['http://gateway.qg1.apps.qualys.com', /it must use https \(plain http is allowed only for a loopback test server/],
    ['http://127.0.0.1.example.com:8080', /it must use https/],
    ['http://localhost.example.com', /it must use https/],
    ['ftp://gateway.qg1.apps.qualys.com', /it must use https/],
    ['gateway.qg1.apps.qualys.com', /it must be an absolute URL/],
    [
      'https://gateway.qg1.apps.qualys.com/api/2.0',
      /it must be the gateway's base URL, with no path, query or fragment/,
    ],
    ['https://gateway.qg1.apps.qualys.com?x=1', /no path, query or fragment/],
  ])('GIVEN %s WHEN parsed THEN it is rejected, naming the field, the value and what is allowed', (input, why) => {
    const problems = problemsOfEnv(withUrl(input));

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^"qualys\\.environments\\.dev\\.gatewayUrl" is "${re(input)}"; `));
    expect(problems[0]).toMatch(why);
  });

  test('GIVEN a URL with a user name and password WHEN parsed THEN it is rejected without echoing them', () => {
    const problems = problemsOfEnv(withUrl('https://alice:hunter2@gateway.qg1.apps.qualys.com'));

    expect(problems).toEqual([
      '"qualys.environments.dev.gatewayUrl" is "https://***@gateway.qg1.apps.qualys.com"; ' +
        'it must not carry credentials; put them in the Secrets Manager secret',
    ]);
    expect(problems.join('\n')).not.toMatch(/alice|hunter2/);
  });

  test('GIVEN a non-string gatewayUrl WHEN parsed THEN it is rejected', () => {
    expect(problemsOfEnv(withUrl(42))).toEqual([
      '"qualys.environments.dev.gatewayUrl" must be a string, got the number 42; put it in double quotes: "42"',
    ]);
  });

  test('GIVEN both gatewayUrl and platform WHEN parsed THEN it asks for only one', () => {
    const run = () =>
      parseConfig({ environments: { dev: validEnv({ gatewayUrl: 'https://gateway.qg1.apps.qualys.com' }) } });

    expect(run).toThrow(
      /"qualys\.environments\.dev\.gatewayUrl" and "qualys\.environments\.dev\.platform" are both set; set only one of them/,
    );
  });

  test('GIVEN neither gatewayUrl nor platform WHEN parsed THEN it says how to set either', () => {
    const env = validEnv();
    delete env.platform;

    expect(problemsOfEnv(env)).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.dev\.gatewayUrl" is missing; set "gatewayUrl" .* or "platform" to one of US1, US2, .*KSA1$/,
      ),
    ]);
  });

  test('GIVEN the gatewayUrlProblem helper THEN IPv6 loopback http is allowed and https is always fine', () => {
    expect(gatewayUrlProblem('http://[::1]:8080')).toBeUndefined();
    expect(gatewayUrlProblem('https://example.com')).toBeUndefined();
    expect(gatewayUrlProblem('http://10.0.0.1:8080')).toMatch(/must use https/);
  });
});

describe('parseConfig: which integrations', () => {
  test.each([
    ['neither vm nor pc', {}],
    ['vm and pc both false', { vm: false, pc: false }],
    ['vm false and pc absent', { vm: false }],
  ])('GIVEN %s WHEN parsed THEN it asks for at least one integration', (_, integrations) => {
    const env = { platform: 'US1', credentialsSecret: 'qualys/api', ...integrations };

    expect(() => parseConfig({ environments: { dev: env } })).toThrow(
      /"qualys\.environments\.dev\.vm", "qualys\.environments\.dev\.pc" and "qualys\.environments\.dev\.cloudView" are all absent or false; configure at least one integration/,
    );
  });

  test('GIVEN vm false and pc configured WHEN parsed THEN only PC is set up', () => {
    const env = parseEnv({ platform: 'US1', credentialsSecret: 'qualys/api', vm: false, pc: {} });

    expect(env.vm).toBeUndefined();
    expect(env.pc).toBeDefined();
  });

  test('GIVEN pc false and vm configured WHEN parsed THEN only VM is set up', () => {
    const env = parseEnv({ platform: 'US1', credentialsSecret: 'qualys/api', vm: {}, pc: false });

    expect(env.vm).toBeDefined();
    expect(env.pc).toBeUndefined();
  });

  test('GIVEN vm that is neither an object nor a boolean WHEN parsed THEN it is rejected', () => {
    expect(problemsOfEnv(validEnv({ vm: 'yes' }))).toEqual([
      '"qualys.environments.dev.vm" must be an object, got "yes"',
    ]);
  });
});

describe('parseConfig: each bad value names the field, the value and what is allowed', () => {
  const F = 'qualys\\.environments\\.dev';
  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'minSeverity 7',
      { vm: { minSeverity: 7 } },
      new RegExp(`^"${F}\\.vm\\.minSeverity" must be a whole number from 1 to 5, got 7$`),
    ],
    [
      'minSeverity 2.5',
      { vm: { minSeverity: 2.5 } },
      /"qualys\.environments\.dev\.vm\.minSeverity" must be a whole number from 1 to 5, got 2\.5/,
    ],
    ['minSeverity "3"', { vm: { minSeverity: '3' } }, /vm\.minSeverity" must be a whole number from 1 to 5, got "3"/],
    [
      'baseCategory High',
      { vm: { baseCategory: 'High' } },
      new RegExp(`^"${F}\\.vm\\.baseCategory" is "High"; allowed: IG, Potential, Confirmed$`),
    ],
    [
      'compressData "yes"',
      { vm: { compressData: 'yes' } },
      /"qualys\.environments\.dev\.vm\.compressData" must be true or false, got "yes"/,
    ],
    [
      'six errorEmails',
      { vm: { errorEmails: ['a1@x.io', 'a2@x.io', 'a3@x.io', 'a4@x.io', 'a5@x.io', 'a6@x.io'] } },
      /^"qualys\.environments\.dev\.vm\.errorEmails" must be a list of at most 5 email addresses, got \["a1@x\.io",/,
    ],
    [
      'errorEmails as a string',
      { vm: { errorEmails: 'a@x.io' } },
      /vm\.errorEmails" must be a list of at most 5 email addresses, got "a@x\.io"/,
    ],
    [
      'an invalid errorEmail',
      { vm: { errorEmails: ['ok@example.com', 'not-an-email'] } },
      /^"qualys\.environments\.dev\.vm\.errorEmails" holds "not-an-email", which is not an email address$/,
    ],
    [
      'sendAlerts without errorEmails',
      { vm: { sendAlerts: true } },
      /^"qualys\.environments\.dev\.vm\.errorEmails" is empty while "sendAlerts" is true; list 1 to 5 addresses/,
    ],
    [
      'a fractional policy',
      { vm: false, pc: { policies: [1, 2.5] } },
      /^"qualys\.environments\.dev\.pc\.policies" holds 2\.5; each policy ID must be a positive whole number$/,
    ],
    [
      'a negative and a string policy',
      { vm: false, pc: { policies: [-4, '7'] } },
      /pc\.policies" holds -4, "7"; each policy ID must be a positive whole number/,
    ],
    [
      'a duplicated policy',
      { vm: false, pc: { policies: [11, 12, 11] } },
      /^"qualys\.environments\.dev\.pc\.policies" lists 11 more than once; list each policy once$/,
    ],
    [
      '101 policies',
      { vm: false, pc: { policies: Array.from({ length: 101 }, (_, i) => i + 1) } },
      /^"qualys\.environments\.dev\.pc\.policies" lists 101 policies; CIPS accepts at most 100 per subscription$/,
    ],
    [
      'policies as a string',
      { vm: false, pc: { policies: '1,2' } },
      /pc\.policies" must be a list of Qualys policy IDs \(whole numbers\), got "1,2"/,
    ],
    [
      'a filter flag "no"',
      { vm: false, pc: { filter: { includeEvidenceData: 'no' } } },
      /pc\.filter\.includeEvidenceData" must be true or false, got "no"/,
    ],
    [
      'a short account',
      { account: '12345' },
      new RegExp(`^"${F}\\.account" is "12345"; it must be a 12-digit AWS account ID$`),
    ],
    [
      'a numeric account',
      { account: 123456789012 },
      /"qualys\.environments\.dev\.account" must be a string, got the number 123456789012; put it in double quotes: "123456789012"/,
    ],
    [
      'a bad region',
      { region: 'useast1' },
      /^"qualys\.environments\.dev\.region" is "useast1"; it must be an AWS region name such as "us-east-1"$/,
    ],
    [
      'a bad qualysAwsAccountId',
      { qualysAwsAccountId: 'qualys' },
      /"qualys\.environments\.dev\.qualysAwsAccountId" is "qualys"; it must be a 12-digit AWS account ID/,
    ],
    [
      'validationTimeoutSeconds 10',
      { validationTimeoutSeconds: 10 },
      /"qualys\.environments\.dev\.validationTimeoutSeconds" must be a whole number from 30 to 720, got 10/,
    ],
    [
      'validationTimeoutSeconds 900',
      { validationTimeoutSeconds: 900 },
      /validationTimeoutSeconds" must be a whole number from 30 to 720, got 900/,
    ],
    [
      'logRetentionDays 42',
      { logRetentionDays: 42 },
      /^"qualys\.environments\.dev\.logRetentionDays" is 42; allowed: 1, 3, 5, 7, 14, 30, 60, 90, .*3653$/,
    ],
    [
      'retainOnDelete "no"',
      { bucket: { retainOnDelete: 'no' } },
      /"qualys\.environments\.dev\.bucket\.retainOnDelete" must be true or false, got "no"/,
    ],
    [
      'a tag under aws:',
      { tags: { 'aws:owner': 'me' } },
      /"qualys\.environments\.dev\.tags\.aws:owner" must map a tag key .*not starting with "aws:".*got "me"/,
    ],
    [
      'a non-string tag',
      { tags: { cost: 12 } },
      /"qualys\.environments\.dev\.tags\.cost" must be a string, got the number 12; put it in double quotes: "12"/,
    ],
    [
      'an externalIdRotation object',
      { vm: { externalIdRotation: { v: 1 } } },
      /vm\.externalIdRotation" must be a string \(any new value rotates the external ID\), got \{"v":1\}/,
    ],
    [
      'a name of 51 characters',
      { vm: { name: 'n'.repeat(51) } },
      /^"qualys\.environments\.dev\.vm\.name" is 51 characters long, "n+"; at most 50 are allowed$/,
    ],
    [
      'a name with a newline',
      { vm: { name: 'bad\nname' } },
      /"qualys\.environments\.dev\.vm\.name" must not contain control characters/,
    ],
  ])('GIVEN %s WHEN parsed THEN exactly that problem is reported', (_, overrides, expected) => {
    const problems = problemsOfEnv(validEnv(overrides));

    expect(problems).toEqual([expect.stringMatching(expected)]);
  });

  test.each([
    ['ab', /3 to 63 characters long/],
    ['b'.repeat(64), /3 to 63 characters long/],
    ['My-Findings', /only lowercase letters, digits, dots and hyphens/],
    ['findings_bucket', /only lowercase letters, digits, dots and hyphens/],
    ['-findings', /must begin and end with a letter or digit/],
    ['findings..bucket', /must not hold "\.\.", "\.-" or "-\."/],
    ['findings.-bucket', /must not hold/],
    ['192.168.10.1', /must not look like an IP address/],
    ['xn--findings', /prefix or suffix that S3 reserves/],
    ['findings-s3alias', /prefix or suffix that S3 reserves/],
  ])(
    'GIVEN bucket name %j WHEN parsed THEN it is rejected, naming the field, the value and the rule',
    (bucketName, rule) => {
      const problems = problemsOfEnv(validEnv({ bucket: { bucketName } }));

      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        new RegExp(`^"qualys\\.environments\\.dev\\.bucket\\.bucketName" is "${re(bucketName)}"; `),
      );
      expect(problems[0]).toMatch(rule);
    },
  );

  test.each(['abc', 'my.findings-bucket-1', 'b'.repeat(63)])(
    'GIVEN the valid bucket name %j WHEN parsed THEN it is kept',
    (bucketName) => {
      expect(parseEnv(validEnv({ bucket: { bucketName } })).bucket.bucketName).toBe(bucketName);
    },
  );

  test.each(['1dev', 'dev_1', 'dev.prod', 'd'.repeat(33)])(
    'GIVEN the environment name %j WHEN parsed THEN it is rejected with the naming rule',
    (envName) => {
      const problems = problemsOfEnv(validEnv({ vm: { name: 'explicit' } }), envName);

      expect(problems).toEqual([
        expect.stringMatching(
          new RegExp(
            `^environment name "${re(envName)}" is not allowed: use letters, digits and hyphens, starting with a letter, at most 32 characters`,
          ),
        ),
      ]);
    },
  );
});

describe('parseConfig: unknown and misspelt fields', () => {
  test.each<[string, Record<string, unknown>, string, string]>([
    [
      'a misspelt environment field',
      { ...validEnv(), platfrom: 'US1' },
      'qualys.environments.dev.platfrom',
      'platform',
    ],
    [
      'a misspelt VM field',
      validEnv({ vm: { minSeverty: 4 } }),
      'qualys.environments.dev.vm.minSeverty',
      'minSeverity',
    ],
    [
      'a wrongly cased bucket field',
      validEnv({ bucket: { bucketname: 'abc' } }),
      'qualys.environments.dev.bucket.bucketname',
      'bucketName',
    ],
    [
      'a misspelt filter field',
      validEnv({ pc: { filter: { includeFailPostur: true } } }),
      'qualys.environments.dev.pc.filter.includeFailPostur',
      'includeFailPosture',
    ],
    ['a misspelt PC field', validEnv({ pc: { polices: [1] } }), 'qualys.environments.dev.pc.polices', 'policies'],
  ])(
    'GIVEN %s WHEN parsed THEN it is rejected with a "did you mean" hint and the allowed fields',
    (_, env, field, hint) => {
      const problems = problemsOfEnv(env);

      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            new RegExp(
              `^"${re(field)}" is not a known field \\(did you mean "${hint}"\\?\\); allowed: .*\\b${hint}\\b`,
            ),
          ),
        ]),
      );
    },
  );

  test('GIVEN a field unlike any known one WHEN parsed THEN it is rejected without a hint, listing the allowed fields', () => {
    expect(problemsOfEnv(validEnv({ colour: 'blue' }))).toEqual([
      '"qualys.environments.dev.colour" is not a known field; allowed: account, region, gatewayUrl, platform, credentialsSecret, ' +
        'qualysAwsAccountId, bucket, vm, pc, cloudView, validationTimeoutSeconds, logRetentionDays, tags, proxyUrl, vpc, subscription, ' +
        'analytics',
    ]);
  });

  test('GIVEN "environment" instead of "environments" WHEN parsed THEN both the typo and the missing key are reported', () => {
    const problems = problemsOf({ environment: { dev: validEnv() } });

    expect(problems).toEqual([
      '"qualys.environment" is not a known field (did you mean "environments"?); allowed: environments',
      expect.stringMatching(/^"qualys\.environments" is missing; add at least one environment/),
    ]);
  });
});

describe('parseConfig: the configuration as a whole', () => {
  test.each([null, [], 'dev', 3])('GIVEN %j instead of an object WHEN parsed THEN it is rejected', (raw) => {
    expect(() => parseConfig(raw)).toThrow(/the configuration must be a JSON object with an "environments" key/);
  });

  test('GIVEN no environments WHEN parsed THEN it asks for one', () => {
    expect(problemsOf({ environments: {} })).toEqual(['"qualys.environments" is empty; add at least one environment']);
  });

  test('GIVEN a source WHEN rejected THEN the message names the source and counts the problems', () => {
    expect(() => parseConfig({ environments: {} }, 'configuration file qualys.json')).toThrow(
      /^configuration file qualys\.json has 1 problem:\n {2}- "qualys\.environments" is empty/,
    );
  });
});

describe('parseConfig: credentialsSecret', () => {
  test('GIVEN no credentialsSecret WHEN parsed THEN it says what to set and where to read how', () => {
    const env = validEnv();
    delete env.credentialsSecret;

    expect(() => parseConfig({ environments: { dev: env } })).toThrow(
      /"qualys\.environments\.dev\.credentialsSecret" is missing; set it to the name or ARN of the Secrets Manager secret/,
    );
  });

  test.each([
    'qualys api credentials',
    'user:hunter2',
    'arn:aws:secretsmanager:us-east-1:123:secret:qualys/api',
    'arn:aws:s3:::bucket',
  ])('GIVEN the malformed secret %j WHEN parsed THEN it is rejected, saying what is allowed', (credentialsSecret) => {
    const problems = problemsOfEnv(validEnv({ credentialsSecret }));

    expect(problems).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.dev\.credentialsSecret" is .*; it must be a secret name \(letters, digits and \/_\+=\.@-\) or a full secret ARN .*never put the credentials themselves here$/,
      ),
    ]);
  });

  test('GIVEN credentials pasted in place of the secret name WHEN parsed THEN they are not echoed', () => {
    const pasted = '{"username":"alice","password":"hunter2-secret"}';
    const problems = problemsOfEnv(validEnv({ credentialsSecret: pasted }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/credentialsSecret" is not a secret name or ARN \(\d+ characters, not shown\)/);
    expect(problems[0]).not.toContain('hunter2');
  });

  test('GIVEN an empty credentialsSecret WHEN parsed THEN it is rejected', () => {
    expect(problemsOfEnv(validEnv({ credentialsSecret: '' }))).toEqual([
      '"qualys.environments.dev.credentialsSecret" must be a non-empty string, got ""',
    ]);
  });

  test.each([
    'qualys/api-credentials',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:qualys/api-AbCdEf',
    'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:qualys',
  ])('GIVEN the secret name or ARN %j WHEN parsed THEN it is kept as given', (credentialsSecret) => {
    expect(parseEnv(validEnv({ credentialsSecret })).credentialsSecret).toBe(credentialsSecret);
  });
});

describe('parseConfig: every problem at once', () => {
  test('GIVEN two environments with nine distinct problems WHEN parsed THEN one ConfigError lists them all', () => {
    const raw = {
      environments: {
        dev: {
          platform: 'US9',
          credentialsSecret: 'qualys/api',
          account: '12345',
          vm: { minSeverity: 7, baseCategory: 'High', minSeverty: 2 },
        },
        prod: {
          gatewayUrl: 'http://gateway.qg1.apps.qualys.com',
          bucket: { bucketName: 'Bad_Bucket' },
          pc: { policies: [3, 3] },
        },
      },
    };

    let error: unknown;
    try {
      parseConfig(raw, 'configuration file test.json');
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    const expected = [
      /^"qualys\.environments\.dev\.vm\.minSeverty" is not a known field \(did you mean "minSeverity"\?\)/,
      /^"qualys\.environments\.dev\.account" is "12345"; it must be a 12-digit AWS account ID$/,
      /^"qualys\.environments\.dev\.platform" is "US9"; allowed: US1,/,
      /^"qualys\.environments\.dev\.vm\.minSeverity" must be a whole number from 1 to 5, got 7$/,
      /^"qualys\.environments\.dev\.vm\.baseCategory" is "High"; allowed: IG, Potential, Confirmed$/,
      /^"qualys\.environments\.prod\.gatewayUrl" is "http:\/\/gateway\.qg1\.apps\.qualys\.com"; it must use https/,
      /^"qualys\.environments\.prod\.credentialsSecret" is missing/,
      /^"qualys\.environments\.prod\.bucket\.bucketName" is "Bad_Bucket"; a bucket name may hold only lowercase letters/,
      /^"qualys\.environments\.prod\.pc\.policies" lists 3 more than once/,
    ];
    expect(problems).toHaveLength(expected.length);
    for (const pattern of expected) {
      expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
    }
    expect(message.split('\n')[0]).toBe(`configuration file test.json has ${expected.length} problems:`);
    for (const problem of problems) expect(message).toContain(`  - ${problem}`);
  });
});

describe('parseConfig: default integration name length', () => {
  // qs3-<env>-vm-<12-digit account>-<region> must fit in 50 characters. An environment-agnostic
  // stack is checked against the longest region name (15 characters): env names up to 14 fit.
  const LONG_ENV = 'payments-stage1'; // 15 characters

  test('GIVEN an environment name too long for the default name and no account or region WHEN parsed THEN it is rejected', () => {
    const run = () => parseConfig({ environments: { [LONG_ENV]: validEnv() } });

    expect(run).toThrow(
      new RegExp(
        `"qualys\\.environments\\.${LONG_ENV}\\.vm\\.name" is not set, and the default name for environment "${LONG_ENV}" ` +
          `\\("qs3-${LONG_ENV}-vm-<account>-<region>"\\) could be 51 characters, over Qualys's limit of 50; ` +
          `set "qualys\\.environments\\.${LONG_ENV}\\.vm\\.name", shorten the environment name, or set "account" and "region"`,
      ),
    );
  });

  test('GIVEN an environment name one character shorter WHEN parsed THEN the default name fits', () => {
    expect(parseEnv(validEnv(), 'payments-stage').vm?.name).toBeUndefined();
  });

  test('GIVEN the long environment name and an explicit name WHEN parsed THEN it is accepted', () => {
    expect(parseEnv(validEnv({ vm: { name: 'payments-vm' } }), LONG_ENV).vm?.name).toBe('payments-vm');
  });

  test('GIVEN the long environment name with account and a short region WHEN parsed THEN the real default name fits', () => {
    const env = parseEnv(validEnv({ account: '123456789012', region: 'us-east-1' }), LONG_ENV);

    expect(env.vm?.name).toBeUndefined();
  });

  test('GIVEN account and a region that makes the default name too long WHEN parsed THEN the literal name is shown and no account/region hint', () => {
    const envName = 'payments-staging'; // 16 characters: qs3-payments-staging-vm-123456789012-ap-southeast-2 is 51
    const problems = problemsOfEnv(validEnv({ account: '123456789012', region: 'ap-southeast-2' }), envName);

    expect(problems).toEqual([
      `"qualys.environments.${envName}.vm.name" is not set, and the default name for environment "${envName}" ` +
        `("qs3-${envName}-vm-123456789012-ap-southeast-2") could be 51 characters, over Qualys's limit of 50; ` +
        `set "qualys.environments.${envName}.vm.name", shorten the environment name`,
    ]);
  });

  test('GIVEN only PC with the long environment name WHEN parsed THEN only the PC name is reported', () => {
    const problems = problemsOfEnv({ platform: 'US1', credentialsSecret: 'qualys/api', pc: {} }, LONG_ENV);

    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^"qualys\\.environments\\.${LONG_ENV}\\.pc\\.name" is not set`)),
    ]);
  });
});

describe('parseConfig: integration name collisions', () => {
  test('GIVEN two environments on one gateway with the same VM name WHEN parsed THEN it is rejected naming both', () => {
    const run = () =>
      parseConfig({
        environments: {
          dev: validEnv({ vm: { name: 'shared' } }),
          // The same gateway, spelt as a URL with a trailing slash.
          prod: {
            ...validEnv({ vm: { name: 'shared' } }),
            platform: undefined,
            gatewayUrl: 'https://gateway.qg1.apps.qualys.com/',
          },
        },
      });

    expect(run).toThrow(
      /"qualys\.environments\.prod\.vm\.name" is "shared", the same as environment "dev" on the same gateway; give each environment its own integration name/,
    );
  });

  test('GIVEN the same PC name on one gateway WHEN parsed THEN it is rejected', () => {
    const problems = problemsOf({
      environments: {
        a: validEnv({ vm: false, pc: { name: 'cips' } }),
        b: validEnv({ vm: false, pc: { name: 'cips' } }),
      },
    });

    expect(problems).toEqual([
      expect.stringMatching(/^"qualys\.environments\.b\.pc\.name" is "cips", the same as environment "a"/),
    ]);
  });

  test('GIVEN the same name on two different gateways WHEN parsed THEN both environments are accepted', () => {
    const config = parseConfig({
      environments: {
        us: validEnv({ vm: { name: 'shared' } }),
        eu: validEnv({ platform: 'EU1', vm: { name: 'shared' } }),
      },
    });

    expect(config.environments.map((e) => [e.envName, e.gatewayUrl, e.vm?.name])).toEqual([
      ['us', 'https://gateway.qg1.apps.qualys.com', 'shared'],
      ['eu', 'https://gateway.qg1.apps.qualys.eu', 'shared'],
    ]);
  });
});

describe('parseConfig: proxyUrl', () => {
  test('GIVEN no proxyUrl WHEN parsed THEN the handler goes direct (undefined)', () => {
    expect(parseEnv(validEnv()).proxyUrl).toBeUndefined();
  });

  test('GIVEN an http proxy with a trailing slash WHEN parsed THEN it is kept without the slash', () => {
    expect(parseEnv(validEnv({ proxyUrl: 'http://proxy.corp.example:3128/' })).proxyUrl).toBe(
      'http://proxy.corp.example:3128',
    );
  });

  test.each([
    ['credentials in the URL', 'http://alice:hunter2@proxy.corp.example:3128', /must not carry credentials/],
    ['another scheme', 'socks5://proxy.corp.example:1080', /must use http or https/],
    ['a path', 'http://proxy.corp.example:3128/pac', /no path, query or fragment/],
    ['not a URL', 'the corporate proxy', /absolute URL/],
    ['a host and port without a scheme', 'proxy.corp.example:3128', /must use http or https/],
  ])('GIVEN %s WHEN parsed THEN it is rejected naming the field', (_what, proxyUrl, message) => {
    const [problem] = problemsOfEnv(validEnv({ proxyUrl }));
    expect(problem).toMatch(/^"qualys\.environments\.dev\.proxyUrl" is /);
    expect(problem).toMatch(message);
    expect(problem).not.toContain('hunter2');
  });
});

describe('parseConfig: vpc', () => {
  test('GIVEN a VPC with subnets and security groups WHEN parsed THEN it is kept', () => {
    expect(parseEnv(validEnv({ vpc: VPC })).vpc).toEqual(VPC);
  });

  test.each([
    [
      'a malformed vpcId',
      { ...VPC, vpcId: 'my-vpc' },
      /"qualys\.environments\.dev\.vpc\.vpcId" is "my-vpc"; it must be a VPC ID/,
    ],
    [
      'no vpcId',
      { subnetIds: VPC.subnetIds, securityGroupIds: VPC.securityGroupIds },
      /"qualys\.environments\.dev\.vpc\.vpcId" is missing/,
    ],
    [
      'no subnets',
      { ...VPC, subnetIds: [] },
      /"qualys\.environments\.dev\.vpc\.subnetIds" must list 1 to 16 subnet IDs/,
    ],
    [
      'a bad subnet',
      { ...VPC, subnetIds: ['subnet-xyz'] },
      /"qualys\.environments\.dev\.vpc\.subnetIds" holds "subnet-xyz"/,
    ],
    [
      'six security groups',
      { ...VPC, securityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-0a1b2c3d4e5f6789${i}`) },
      /securityGroupIds" must list 1 to 5/,
    ],
    [
      'a misspelt field',
      { ...VPC, subnets: [] },
      /"qualys\.environments\.dev\.vpc\.subnets" is not a known field \(did you mean "subnetIds"\?\)/,
    ],
  ])('GIVEN %s WHEN parsed THEN the field is named', (_what, vpc, message) => {
    expect(problemsOfEnv(validEnv({ vpc }))).toEqual([expect.stringMatching(message)]);
  });
});
