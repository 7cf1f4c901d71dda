/**
 * The configuration's analytics block: its defaults, its rules and their messages, and what
 * environments must not share.
 */
import { ConfigError, parseConfig, parseEnvironment } from '../../src/config/config';

const ENV = { platform: 'US1', credentialsSecret: 'qualys/api-credentials', vm: {} };

function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
const problemsOfEnv = (env: Record<string, unknown>) => problemsOf({ environments: { dev: { ...ENV, ...env } } });

describe('defaults', () => {
  test('GIVEN "enabled": true alone WHEN parsed THEN every default is filled in, the database named from the environment', () => {
    expect(parseEnvironment('prod-eu-2', { ...ENV, analytics: { enabled: true } }).analytics).toEqual({
      enabled: true,
      resultRetentionDays: 30,
      bytesScannedLimitMb: 10240,
      rawDataExpirationDays: undefined,
      databaseName: 'qualys_s3_prod_eu_2',
    });
  });

  test('GIVEN no analytics, an empty one, or "enabled": false with settings kept WHEN parsed THEN analytics is absent (off)', () => {
    for (const analytics of [
      undefined,
      {},
      { enabled: false },
      { enabled: false, resultRetentionDays: 7, databaseName: 'x' },
    ]) {
      expect(parseEnvironment('dev', { ...ENV, analytics }).analytics).toBeUndefined();
    }
  });

  test('GIVEN every option WHEN parsed THEN each is kept as written', () => {
    const analytics = {
      enabled: true,
      resultRetentionDays: 1,
      bytesScannedLimitMb: 10,
      rawDataExpirationDays: 400,
      databaseName: 'findings_2',
    };
    expect(parseEnvironment('dev', { ...ENV, analytics }).analytics).toEqual(analytics);
  });
});

describe('rules', () => {
  test('GIVEN options without "enabled" WHEN parsed THEN it is refused: the lake would silently not exist', () => {
    expect(problemsOfEnv({ analytics: { resultRetentionDays: 7, rawDataExpirationDays: 30 } })).toEqual([
      '"qualys.environments.dev.analytics.enabled" is not set (default false), but ' +
        '"qualys.environments.dev.analytics.resultRetentionDays", "qualys.environments.dev.analytics.rawDataExpirationDays" are; ' +
        'nothing of the findings lake is created while analytics is off: set "enabled": true to create it, or ' +
        '"enabled": false to keep the settings for later',
    ]);
  });

  test("GIVEN a scan limit under Athena's 10 MB WHEN parsed THEN it says Athena's least", () => {
    expect(problemsOfEnv({ analytics: { enabled: true, bytesScannedLimitMb: 9 } })).toEqual([
      '"qualys.environments.dev.analytics.bytesScannedLimitMb" is 9; Athena accepts a per-query limit of at least 10 MB',
    ]);
    expect(problemsOfEnv({ analytics: { enabled: true, bytesScannedLimitMb: 10.5 } })).toEqual([
      expect.stringMatching(/bytesScannedLimitMb" must be a whole number of megabytes from 10 .* got 10\.5$/),
    ]);
  });

  test('GIVEN a database name Athena cannot read unquoted WHEN parsed THEN it says what a name may hold', () => {
    expect(problemsOfEnv({ analytics: { enabled: true, databaseName: 'Findings-Prod' } })).toEqual([
      '"qualys.environments.dev.analytics.databaseName" is "Findings-Prod"; it must be lowercase letters, digits and ' +
        'underscores, starting with a letter (a name Athena reads without quotes)',
    ]);
  });

  test('GIVEN out-of-range days and an unknown key WHEN parsed THEN each is named', () => {
    const problems = problemsOfEnv({
      analytics: { enabled: true, resultRetentionDays: 0, rawDataExpirationDays: -1, retention: 3 },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^"qualys\.environments\.dev\.analytics\.retention" is not a known field/),
      expect.stringMatching(/resultRetentionDays" must be a whole number from 1 to 36500, got 0$/),
      expect.stringMatching(/rawDataExpirationDays" must be a whole number from 1 to 36500, got -1$/),
    ]);
  });

  test('GIVEN a CloudView-only environment WHEN analytics is enabled THEN it is refused: there is no findings bucket', () => {
    expect(
      problemsOf({ environments: { dev: { ...ENV, vm: undefined, cloudView: true, analytics: { enabled: true } } } }),
    ).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.dev\.analytics" is enabled, but neither "qualys\.environments\.dev\.vm" nor "qualys\.environments\.dev\.pc" is configured \(a CloudView-only environment has no findings bucket\)/,
      ),
    ]);
  });

  test('GIVEN a raw expiry the bucket expiry already overtakes WHEN parsed THEN it is refused; a shorter one is accepted', () => {
    expect(
      problemsOfEnv({ bucket: { expireAfterDays: 90 }, analytics: { enabled: true, rawDataExpirationDays: 90 } }),
    ).toEqual([
      '"qualys.environments.dev.analytics.rawDataExpirationDays" is 90, but "bucket.expireAfterDays" (90) already expires ' +
        'every object of the findings bucket, raw findings included, sooner; make rawDataExpirationDays the smaller, or leave it out',
    ]);
    expect(
      parseEnvironment('dev', {
        ...ENV,
        bucket: { expireAfterDays: 90 },
        analytics: { enabled: true, rawDataExpirationDays: 30 },
      }).analytics?.rawDataExpirationDays,
    ).toBe(30);
  });
});

describe('alarmTopicArn', () => {
  const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:qualys-findings-alarms';

  test('GIVEN the ARN of a topic in the stack region, or with no region named WHEN parsed THEN it is kept as written', () => {
    for (const region of ['eu-west-1', undefined]) {
      const analytics = { enabled: true, alarmTopicArn: TOPIC };
      expect(parseEnvironment('dev', { ...ENV, region, analytics }).analytics?.alarmTopicArn).toBe(TOPIC);
    }
    const govCloud = 'arn:aws-us-gov:sns:us-gov-west-1:123456789012:Alarms_1';
    const inGovCloud = { ...ENV, region: 'us-gov-west-1', qualysAwsAccountId: '123456789012' };
    expect(
      parseEnvironment('dev', { ...inGovCloud, analytics: { enabled: true, alarmTopicArn: govCloud } }).analytics
        ?.alarmTopicArn,
    ).toBe(govCloud);
    expect(parseEnvironment('dev', { ...ENV, analytics: { enabled: true } }).analytics?.alarmTopicArn).toBeUndefined();
  });

  test('GIVEN a topic name, an ARN of another service or a FIFO topic WHEN parsed THEN it says what a topic ARN looks like', () => {
    for (const bad of [
      'qualys-findings-alarms',
      'arn:aws:sqs:eu-west-1:123456789012:qualys-findings-alarms',
      'arn:aws:sns:eu-west-1:1234:alarms',
      'arn:aws:sns:eu-west-1:123456789012:alarms.fifo',
    ]) {
      expect(problemsOfEnv({ analytics: { enabled: true, alarmTopicArn: bad } })).toEqual([
        `"qualys.environments.dev.analytics.alarmTopicArn" is "${bad}"; it must be the full ARN of an existing SNS topic ` +
          '(arn:aws:sns:<region>:<account>:<topic name>, a name of letters, digits, hyphens and underscores)',
      ]);
    }
  });

  test("GIVEN a topic in another region than the stack's WHEN parsed THEN it is refused: CloudWatch notifies its own region's topics only", () => {
    expect(problemsOfEnv({ region: 'us-east-1', analytics: { enabled: true, alarmTopicArn: TOPIC } })).toEqual([
      '"qualys.environments.dev.analytics.alarmTopicArn" is a topic in region eu-west-1, but the stack deploys to ' +
        "us-east-1; CloudWatch alarms notify topics in their own region only, so create the topic in the stack's region " +
        'and name it here',
    ]);
  });

  test('GIVEN a topic without "enabled" WHEN parsed THEN it is refused like any option of the lake', () => {
    expect(problemsOfEnv({ analytics: { alarmTopicArn: TOPIC } })).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.dev\.analytics\.enabled" is not set \(default false\), but "qualys\.environments\.dev\.analytics\.alarmTopicArn" is;/,
      ),
    ]);
  });
});

describe('across environments', () => {
  const lake = (extra: Record<string, unknown> = {}) => ({ ...ENV, analytics: { enabled: true, ...extra } });

  test('GIVEN two environments naming one database WHEN they may deploy to the same account and region THEN the second is refused', () => {
    expect(
      problemsOf({ environments: { a: lake({ databaseName: 'findings' }), b: lake({ databaseName: 'findings' }) } }),
    ).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.b\.analytics\.databaseName" is "findings", the same as environment "a"'s, and both may deploy to the same account and region/,
      ),
    ]);
  });

  test('GIVEN environment names that differ only in case WHEN both default their database THEN the clash is named as the default', () => {
    expect(problemsOf({ environments: { dev: lake(), Dev: lake() } })).toEqual([
      expect.stringMatching(
        /"qualys\.environments\.Dev\.analytics\.databaseName" is "qualys_s3_dev" \(the default from the environment name\)/,
      ),
    ]);
  });

  test('GIVEN one database name in two regions, or in two environments of which one is off, WHEN parsed THEN both are accepted', () => {
    const inRegion = (region: string) => ({ ...lake({ databaseName: 'findings' }), region });
    expect(() => parseConfig({ environments: { a: inRegion('eu-west-1'), b: inRegion('us-east-1') } })).not.toThrow();
    expect(() =>
      parseConfig({
        environments: {
          a: lake({ databaseName: 'findings' }),
          b: { ...ENV, analytics: { enabled: false, databaseName: 'findings' } },
        },
      }),
    ).not.toThrow();
  });
});
