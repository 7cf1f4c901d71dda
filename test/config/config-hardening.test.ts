/**
 * Configuration rules added by issue 10: subscriptions across accounts, partitions, the
 * bucket's key and lifecycle, and messages that say how to fix the value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type EnvironmentConfig, parseConfig, partitionOfRegion } from '../../src/config/config';
import { jsonErrorWhere, readConfig } from '../../src/config/load-config';
import { BASE_ENV as BASE, problemsOf, problemsOfEnv } from '../support/config-problems';

const parseEnv = (env: Record<string, unknown>): EnvironmentConfig =>
  parseConfig({ environments: { dev: env } }).environments[0];

describe('CIPS checks across accounts (one Qualys user, many accounts)', () => {
  const inAccount = (account: string, pc: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    ...BASE,
    account,
    region: 'us-east-1',
    pc,
    ...extra,
  });

  test('GIVEN two accounts on one gateway with different CIPS filters and no subscription label WHEN parsed THEN the conflict is reported', () => {
    const found = problemsOf({
      environments: {
        a: inAccount('111111111111', { filter: { includePassPosture: true } }),
        b: inAccount('222222222222', { filter: { includePassPosture: false } }),
      },
    });
    expect(found).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.b\.pc\.filter" differs from environment "a"'s.*no "subscription" label/,
      ),
    ]);
  });

  test('GIVEN two accounts whose policies together exceed 100 WHEN parsed THEN the shared budget is reported', () => {
    const ids = (from: number) => Array.from({ length: 60 }, (_, i) => from + i);
    const found = problemsOf({
      environments: {
        a: inAccount('111111111111', { policies: ids(1) }),
        b: inAccount('222222222222', { policies: ids(1000) }),
      },
    });
    expect(found).toEqual([
      expect.stringMatching(
        /environments "a", "b" share one Qualys subscription and together configure 120 CIPS policies/,
      ),
    ]);
  });

  test('GIVEN different subscription labels WHEN parsed THEN the environments are separate subscriptions and both filters are accepted', () => {
    const config = parseConfig({
      environments: {
        a: inAccount('111111111111', { filter: { includePassPosture: true } }, { subscription: 'acme-prod' }),
        b: inAccount('222222222222', { filter: { includePassPosture: false } }, { subscription: 'acme-lab' }),
      },
    });
    expect(config.environments.map((e) => e.subscription)).toEqual(['acme-prod', 'acme-lab']);
  });

  test('GIVEN the same subscription label WHEN parsed THEN the conflict is reported naming the label', () => {
    const found = problemsOf({
      environments: {
        a: inAccount('111111111111', { filter: { includePassPosture: true } }, { subscription: 'acme' }),
        b: inAccount('222222222222', { filter: { includePassPosture: false } }, { subscription: 'acme' }),
      },
    });
    expect(found).toEqual([expect.stringMatching(/"subscription" "acme"/)]);
  });

  test('GIVEN a subscription label with a slash WHEN parsed THEN it is rejected naming the field', () => {
    expect(problemsOfEnv({ ...BASE, vm: {}, subscription: 'a/b' })).toEqual([
      expect.stringMatching(/^"qualys\.environments\.dev\.subscription" is "a\/b"; it must be a label/),
    ]);
  });
});

describe('partitions', () => {
  test.each([
    ['us-gov-west-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
    ['eu-west-1', 'aws'],
  ])('GIVEN region %s WHEN its partition is asked THEN it is %s', (region, partition) => {
    expect(partitionOfRegion(region)).toBe(partition);
  });

  test.each(['us-gov-west-1', 'cn-northwest-1'])(
    'GIVEN region %s and no qualysAwsAccountId WHEN parsed THEN an explicit Qualys account is required',
    (region) => {
      expect(problemsOfEnv({ ...BASE, region, vm: {} })).toEqual([
        expect.stringMatching(
          /^"qualys\.environments\.dev\.qualysAwsAccountId" is not set, but the stack deploys to the aws-(us-gov|cn) partition.*set "qualysAwsAccountId"/,
        ),
      ]);
    },
  );

  test('GIVEN GovCloud with the commercial Qualys account written out WHEN parsed THEN it is refused too', () => {
    expect(problemsOfEnv({ ...BASE, region: 'us-gov-east-1', qualysAwsAccountId: '805950163170', vm: {} })).toEqual([
      expect.stringMatching(/qualysAwsAccountId" is "805950163170", but the stack deploys to the aws-us-gov partition/),
    ]);
  });

  test('GIVEN GovCloud with a Qualys account of its own WHEN parsed THEN it is accepted', () => {
    expect(
      parseEnv({ ...BASE, region: 'us-gov-west-1', qualysAwsAccountId: '123456789012', vm: {} }).qualysAwsAccountId,
    ).toBe('123456789012');
  });
});

describe('bucket: KMS key and lifecycle', () => {
  const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  test("GIVEN a key ARN in the stack's account and region WHEN parsed THEN it is kept", () => {
    expect(
      parseEnv({ ...BASE, account: '123456789012', region: 'eu-west-1', vm: {}, bucket: { kmsKeyArn: KEY } }).bucket
        .kmsKeyArn,
    ).toBe(KEY);
  });

  test('GIVEN a key alias WHEN parsed THEN it is rejected asking for the key ARN', () => {
    expect(problemsOfEnv({ ...BASE, vm: {}, bucket: { kmsKeyArn: 'alias/findings' } })).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.dev\.bucket\.kmsKeyArn" is "alias\/findings"; it must be the full ARN of a customer-managed KMS key/,
      ),
    ]);
  });

  test('GIVEN a key in another account and region WHEN parsed THEN both problems are reported', () => {
    const other = 'arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(
      problemsOfEnv({ ...BASE, account: '123456789012', region: 'eu-west-1', vm: {}, bucket: { kmsKeyArn: other } }),
    ).toEqual([
      expect.stringMatching(/kmsKeyArn" is a key in us-east-1, but the bucket is in eu-west-1/),
      expect.stringMatching(/kmsKeyArn" is a key in account 999999999999, not the stack's account 123456789012/),
    ]);
  });

  test('GIVEN expiry and a transition WHEN parsed THEN they are kept, the class defaulting to STANDARD_IA', () => {
    expect(
      parseEnv({ ...BASE, vm: {}, bucket: { expireAfterDays: 400, transitionAfterDays: 30 } }).bucket,
    ).toMatchObject({
      expireAfterDays: 400,
      transitionAfterDays: 30,
      transitionStorageClass: 'STANDARD_IA',
    });
  });

  test('GIVEN no lifecycle settings WHEN parsed THEN findings are kept (no expiry, no transition)', () => {
    const { bucket } = parseEnv({ ...BASE, vm: {} });
    expect([bucket.expireAfterDays, bucket.transitionAfterDays]).toEqual([undefined, undefined]);
  });

  test('GIVEN a transition to STANDARD_IA after 10 days that expires after 5 WHEN parsed THEN both rules are reported', () => {
    expect(problemsOfEnv({ ...BASE, vm: {}, bucket: { expireAfterDays: 5, transitionAfterDays: 10 } })).toEqual([
      expect.stringMatching(/transitionAfterDays" is 10; S3 moves objects to STANDARD_IA no sooner than 30 days/),
      expect.stringMatching(/expireAfterDays" is 5, not after .*transitionAfterDays" \(10\)/),
    ]);
  });

  test('GIVEN a storage class in lower case and no transition days WHEN parsed THEN the spelling is suggested and the missing days reported', () => {
    expect(problemsOfEnv({ ...BASE, vm: {}, bucket: { transitionStorageClass: 'glacier_ir' } })).toEqual([
      expect.stringMatching(/transitionStorageClass" is "glacier_ir" \(did you mean "GLACIER_IR"\?/),
      expect.stringMatching(/transitionStorageClass" is set without .*transitionAfterDays"/),
    ]);
  });
});

describe('messages that say how to fix the value', () => {
  test('GIVEN a numeric secret name WHEN parsed THEN it asks to quote it', () => {
    expect(problemsOfEnv({ ...BASE, credentialsSecret: 12345, vm: {} })).toEqual([
      '"qualys.environments.dev.credentialsSecret" must be a string, got the number 12345; put it in double quotes: "12345"',
    ]);
  });

  test('GIVEN a quoted number where a number is wanted WHEN parsed THEN it asks to drop the quotes', () => {
    expect(problemsOfEnv({ ...BASE, vm: {}, logRetentionDays: '30' })).toEqual([
      expect.stringMatching(/logRetentionDays" is "30" \(write it as a number, without quotes: 30\)/),
    ]);
  });

  test.each([
    ['https://qualysguard.qg2.apps.qualys.com/fo/login.php', 'https://gateway.qg2.apps.qualys.com', 'US2'],
    ['https://qualysguard.qualys.com', 'https://gateway.qg1.apps.qualys.com', 'US1'],
    ['https://qualysapi.qg1.apps.qualys.eu', 'https://gateway.qg1.apps.qualys.eu', 'EU1'],
  ])(
    'GIVEN the web UI or classic API URL %s as gatewayUrl WHEN parsed THEN it says so and names the gateway',
    (url, gateway, platform) => {
      const [problem] = problemsOfEnv({ credentialsSecret: 'qualys/api', gatewayUrl: url, vm: {} });
      expect(problem).toContain('that is the Qualys web UI');
      expect(problem).toContain(`use ${gateway} or "platform": "${platform}"`);
    },
  );

  test('GIVEN both gatewayUrl and a misspelt platform WHEN parsed THEN every problem is reported at once', () => {
    const problems = problemsOfEnv({
      credentialsSecret: 'qualys/api',
      gatewayUrl: 'http://gateway.example.com',
      platform: 'us2',
      vm: {},
    });
    // The schema reports each field's own problems before the rule across the two fields.
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/gatewayUrl" and "qualys\.environments\.dev\.platform" are both set/),
        expect.stringMatching(/platform" is "us2" \(did you mean "US2"\?/),
        expect.stringMatching(/gatewayUrl" is "http:\/\/gateway\.example\.com"; it must use https/),
      ]),
    );
  });

  test('GIVEN a bucket name that breaks three naming rules WHEN parsed THEN all three are reported', () => {
    const found = problemsOfEnv({ ...BASE, vm: {}, bucket: { bucketName: `Acme..${'x'.repeat(60)}` } });
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toMatch(/3 to 63 characters[\s\S]*lowercase letters[\s\S]*must not hold "\.\."/);
  });

  test('GIVEN a name too long and with a control character WHEN parsed THEN both are reported', () => {
    const found = problemsOfEnv({ ...BASE, vm: { name: `x${'\u0007'}${'y'.repeat(60)}` } });
    expect(found).toEqual([
      expect.stringMatching(/vm\.name" is 62 characters long/),
      expect.stringMatching(/vm\.name" must not contain control characters/),
    ]);
  });
});

describe('JSON syntax errors give line and column', () => {
  test('GIVEN a trailing comma on line 3 WHEN located THEN the message names line 4, column 1', () => {
    const text = '{\n  "environments": {\n    "dev": {},\n}}';
    let error: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      error = e;
    }
    expect(jsonErrorWhere(text, error)).toMatch(/^line 4, column 1: /);
  });

  test('GIVEN a file cut short WHEN read THEN the problem names the file, the last line and column', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qualys-json-'));
    try {
      writeFileSync(path.join(dir, 'broken.json'), '{\n  "environments": {');
      expect(() => readConfig({ file: 'broken.json', dir })).toThrow(
        /broken\.json is not valid JSON at line 2, column 20: /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('GIVEN a cdk.json whose "qualys" context is a string of bad JSON WHEN read THEN line and column are given', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qualys-json-'));
    try {
      writeFileSync(
        path.join(dir, 'cdk.json'),
        JSON.stringify({ context: { qualys: '{"environments": {"dev": {platform: 1}}}' } }),
      );
      expect(() => readConfig({ dir })).toThrow(/"qualys" context value is not valid JSON: line 1, column 27:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the shipped example (qualys.config.json)', () => {
  test('GIVEN the example WHEN parsed THEN it leaves the subscription-wide CIPS filter and policies alone, so it is safe to copy', () => {
    const shipped = JSON.parse(
      require('node:fs').readFileSync(path.join(__dirname, '..', '..', 'qualys.config.json'), 'utf8'),
    );
    const [env] = parseConfig(shipped).environments;
    expect(env.pc === undefined || (env.pc.filter === undefined && env.pc.policies.length === 0)).toBe(true);
  });
});
