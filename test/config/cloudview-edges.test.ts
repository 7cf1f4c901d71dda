/**
 * Break-review of issue 13: the `cloudView` configuration at its edges: an explicit apiUrl on
 * the hosts the connector APIs live on, the Qualys account outside the commercial partition in
 * an environment that has only the connector, and every problem at once.
 */
import { ConfigError, parseConfig } from '../../src/config/config';

const BASE = { platform: 'US2', credentialsSecret: 'qualys/api' };

function parse(raw: Record<string, unknown>) {
  return parseConfig({ environments: { dev: raw } }).environments[0];
}

function problems(raw: Record<string, unknown>): readonly string[] {
  try {
    parse(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('an explicit cloudView.apiUrl', () => {
  test.each([
    ['the platform API server (Connectors 3.0, ref §2)', 'connectors-v3', 'https://qualysapi.qg2.apps.qualys.com'],
    [
      "the guide's host for the CloudView REST API (guide l.758)",
      'cloudview',
      'https://qualysguard.qg2.apps.qualys.com',
    ],
    ['US1 API server', 'connectors-v3', 'https://qualysapi.qualys.com'],
    ['an API server of a private platform', 'connectors-v3', 'https://qualysapi.qg1.apps.qualys.example'],
  ])('GIVEN %s (%s) THEN it is accepted: it is exactly the host the connector API lives on', (_label, api, apiUrl) => {
    expect(problems({ ...BASE, cloudView: { api, apiUrl } })).toEqual([]);
    expect(parse({ ...BASE, cloudView: { api, apiUrl } }).cloudView?.apiUrl).toBe(apiUrl);
  });

  test('GIVEN apiUrl with credentials in it THEN it is refused and the credentials are not echoed', () => {
    const found = problems({ ...BASE, cloudView: { apiUrl: 'https://alice:hunter2@qualysapi.qualys.com' } });
    expect(found.join('\n')).toMatch(/cloudView\.apiUrl/);
    expect(found.join('\n')).not.toMatch(/alice|hunter2/);
  });
});

describe('the Qualys account outside the commercial partition', () => {
  test.each(['us-gov-west-1', 'cn-north-1'])(
    'GIVEN only cloudView in %s with cloudView.qualysAwsAccountId THEN no problem: no role trusts the environment-level account',
    (region) => {
      expect(problems({ ...BASE, region, cloudView: { qualysAwsAccountId: '111111111111' } })).toEqual([]);
    },
  );

  test('GIVEN only cloudView in GovCloud and no Qualys account anywhere THEN it is refused, naming qualysAwsAccountId', () => {
    expect(problems({ ...BASE, region: 'us-gov-west-1', cloudView: {} }).join('\n')).toMatch(/qualysAwsAccountId/);
  });

  test('GIVEN vm and cloudView in GovCloud with only cloudView.qualysAwsAccountId THEN the environment-level one is still required (the VM role uses it)', () => {
    expect(
      problems({ ...BASE, region: 'us-gov-west-1', vm: {}, cloudView: { qualysAwsAccountId: '111111111111' } }).join(
        '\n',
      ),
    ).toMatch(/environments\.dev\.qualysAwsAccountId/);
  });
});

describe('every problem at once', () => {
  test('GIVEN a misspelt field, a misspelt api, no modules, a repeated module and bad polling THEN each is named with its field', () => {
    const found = problems({ ...BASE, cloudView: { nmae: 'x', api: 'cloudveiw', modules: [], pollingHours: 0 } });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/cloudView\.nmae.*did you mean "name"/),
        expect.stringMatching(/cloudView\.api.*did you mean "cloudview"/),
        expect.stringMatching(/cloudView\.modules/),
        expect.stringMatching(/cloudView\.pollingHours/),
      ]),
    );
    expect(problems({ ...BASE, cloudView: { modules: ['assetInventory', 'assetInventory'] } })).toEqual([
      expect.stringMatching(/cloudView\.modules.*more than once/),
    ]);
  });
});
