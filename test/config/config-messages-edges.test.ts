/**
 * Break-review of issue 10, items 7 and 9: configuration messages a newcomer meets, and CIPS
 * subscription grouping written in the ways a user may write one gateway.
 */
import { parseConfig } from '../../src/config/config';
import { jsonErrorWhere } from '../../src/config/load-config';
import { BASE_ENV as BASE, problemsOf, problemsOfEnv } from '../support/config-problems';

/** Where JSON.parse stopped, as jsonErrorWhere reports it. */
function where(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return jsonErrorWhere(text, error);
  }
  throw new Error('expected invalid JSON');
}

describe('JSON syntax errors give the line and column of the mistake', () => {
  // Node 20 and 22 word "Unexpected token 'x', ..." without "at position n"; the position
  // then defaults to the end of the text, which points a person at the wrong line.
  test('GIVEN an unquoted value on line 3, column 8 WHEN located THEN the message names line 3, column 8 (not the end of the file)', () => {
    const text = '{\n  "a": 1,\n  "b": x,\n  "c": 2,\n  "d": 3\n}';
    expect(where(text)).toMatch(/^line 3, column 8: /);
  });

  test('GIVEN a missing comma between two properties WHEN located THEN the line of the second property is named', () => {
    const text = '{\n  "a": "b"\n  "c": 1\n}';
    expect(where(text)).toMatch(/^line 3, column 3: /);
  });
});

describe('every problem at once, even when two rules touch one field', () => {
  test('GIVEN a gatewayUrl that is plain http to a public host AND has a path WHEN parsed THEN both the https rule and the path rule are reported', () => {
    const [problem, ...rest] = problemsOfEnv({
      credentialsSecret: 'qualys/api',
      gatewayUrl: 'http://gateway.qg1.apps.qualys.com/api/2.0',
      vm: {},
    });
    expect(rest).toEqual([]);
    expect(problem).toMatch(/https/);
    expect(problem).toMatch(/no path/);
  });

  test('GIVEN a bucket name too short and with upper case WHEN parsed THEN both rules are reported', () => {
    const problems = problemsOfEnv({ ...BASE, vm: {}, bucket: { bucketName: 'A' } });
    expect(problems.join('\n')).toMatch(/3 to 63 characters/);
    expect(problems.join('\n')).toMatch(/lowercase letters/);
  });
});

describe('a number where a string is wanted says to quote it', () => {
  test('GIVEN a tag value written as a number WHEN parsed THEN the message says to put it in double quotes', () => {
    const [problem] = problemsOfEnv({ ...BASE, vm: {}, tags: { CostCenter: 1234 } });
    expect(problem).toMatch(/"qualys\.environments\.dev\.tags\.CostCenter"/);
    expect(problem).toMatch(/double quotes|"1234"/);
  });

  test.each([
    ['account', 123456789012],
    ['qualysAwsAccountId', 805950163170],
    ['subscription', 42],
  ])('GIVEN "%s" as a number WHEN parsed THEN it asks to quote it', (field, value) => {
    const problems = problemsOfEnv({ ...BASE, vm: {}, [field]: value });
    expect(problems.find((p) => p.includes(`.${field}"`))).toMatch(new RegExp(`put it in double quotes: "${value}"`));
  });
});

describe('a web-UI address where the gateway is wanted', () => {
  test('GIVEN the web UI host written without https:// (as the browser bar shows it) WHEN parsed THEN it is named as the web UI with the gateway to use', () => {
    const [problem] = problemsOfEnv({
      credentialsSecret: 'qualys/api',
      gatewayUrl: 'qualysguard.qg2.apps.qualys.com',
      vm: {},
    });
    expect(problem).toMatch(/web UI/);
    expect(problem).toMatch(/https:\/\/gateway\.qg2\.apps\.qualys\.com/);
  });

  test('GIVEN the US1 web UI login page URL WHEN parsed THEN the gateway and "platform": "US1" are suggested', () => {
    const [problem] = problemsOfEnv({
      credentialsSecret: 'qualys/api',
      gatewayUrl: 'https://qualysguard.qualys.com/fo/login.php',
      vm: {},
    });
    expect(problem).toMatch(/web UI.*https:\/\/gateway\.qg1\.apps\.qualys\.com or "platform": "US1"/);
  });

  test('GIVEN "platform": "us2" WHEN parsed THEN US2 is suggested', () => {
    const [problem] = problemsOfEnv({ ...BASE, platform: 'us2', vm: {} });
    expect(problem).toMatch(/did you mean "US2"\?/);
  });
});

describe('CIPS subscription grouping across accounts', () => {
  const pcEnv = (
    account: string,
    gateway: Record<string, string>,
    filter: Record<string, boolean>,
    extra: Record<string, unknown> = {},
  ) => ({
    credentialsSecret: 'qualys/api',
    account,
    region: 'eu-west-1',
    ...gateway,
    pc: { filter },
    ...extra,
  });

  test('GIVEN one gateway written as "platform": "US1" and as its URL with upper case and a trailing slash WHEN the filters differ THEN the conflict is still reported', () => {
    const problems = problemsOf({
      environments: {
        a: pcEnv('111111111111', { platform: 'US1' }, { includePassPosture: true }),
        b: pcEnv('222222222222', { gatewayUrl: 'https://GATEWAY.qg1.apps.qualys.com/' }, { includePassPosture: false }),
      },
    });
    expect(problems.join('\n')).toMatch(/"qualys\.environments\.b\.pc\.filter" differs from environment "a"'s/);
  });

  test('GIVEN three accounts whose policies are 40 distinct each WHEN parsed THEN the 120 together are reported against the limit of 100', () => {
    const ids = (from: number) => Array.from({ length: 40 }, (_, i) => from + i);
    const problems = problemsOf({
      environments: {
        a: {
          credentialsSecret: 's',
          platform: 'US1',
          account: '111111111111',
          region: 'eu-west-1',
          pc: { policies: ids(1000) },
        },
        b: {
          credentialsSecret: 's',
          platform: 'US1',
          account: '222222222222',
          region: 'eu-west-1',
          pc: { policies: ids(2000) },
        },
        c: {
          credentialsSecret: 's',
          platform: 'US1',
          account: '333333333333',
          region: 'eu-west-1',
          pc: { policies: ids(3000) },
        },
      },
    });
    expect(problems.join('\n')).toMatch(
      /"a", "b", "c" share one Qualys subscription and together configure 120 CIPS policies/,
    );
  });

  test('GIVEN one gateway, different filters, and different subscription labels WHEN parsed THEN they are separate subscriptions (accepted)', () => {
    expect(() =>
      parseConfig({
        environments: {
          a: pcEnv('111111111111', { platform: 'US1' }, { includePassPosture: true }, { subscription: 'alpha' }),
          b: pcEnv('222222222222', { platform: 'US1' }, { includePassPosture: false }, { subscription: 'beta' }),
        },
      }),
    ).not.toThrow();
  });
});
