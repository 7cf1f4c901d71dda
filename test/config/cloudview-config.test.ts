/**
 * The `cloudView` section of an environment: its defaults, the connector API's host derived
 * from the platform, and every problem named with its field.
 */
import { ConfigError, connectorApiUrl, parseConfig, QUALYS_PLATFORMS } from '../../src/config/config';
import { QUALYS_PLATFORM_API_SERVERS } from '../../src/core/connector-contract';

const BASE = { platform: 'US2', credentialsSecret: 'qualys/api' };

function env(raw: Record<string, unknown>) {
  return parseConfig({ environments: { dev: raw } }).environments[0];
}

function problems(raw: Record<string, unknown>): readonly string[] {
  try {
    env(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('defaults', () => {
  test.each([true, {}])(
    'GIVEN cloudView %p THEN Connectors 3.0, all three modules, every 4 hours, no remediation, on the platform API server',
    (cloudView) => {
      expect(env({ ...BASE, cloudView }).cloudView).toEqual({
        api: 'connectors-v3',
        modules: ['assetInventory', 'cloudInventory', 'securityAssessment'],
        pollingHours: 4,
        remediation: false,
        adoptExisting: false,
        qualysAwsAccountId: '805950163170',
        apiUrl: 'https://qualysapi.qg2.apps.qualys.com',
      });
    },
  );

  test('GIVEN cloudView only THEN the environment needs no vm or pc', () => {
    const parsed = env({ ...BASE, cloudView: true });
    expect([parsed.vm, parsed.pc, parsed.cloudView?.api]).toEqual([undefined, undefined, 'connectors-v3']);
  });

  test("GIVEN the environment's qualysAwsAccountId THEN the connector inherits it unless it names its own", () => {
    expect(env({ ...BASE, qualysAwsAccountId: '111111111111', cloudView: {} }).cloudView?.qualysAwsAccountId).toBe(
      '111111111111',
    );
    expect(
      env({ ...BASE, qualysAwsAccountId: '111111111111', cloudView: { qualysAwsAccountId: '222222222222' } }).cloudView
        ?.qualysAwsAccountId,
    ).toBe('222222222222');
  });

  test('GIVEN false THEN no connector', () => {
    expect(env({ ...BASE, vm: true, cloudView: false }).cloudView).toBeUndefined();
  });
});

describe('the connector API host', () => {
  test.each(Object.keys(QUALYS_PLATFORMS))(
    'GIVEN platform %s THEN both APIs have a host on that platform',
    (platform) => {
      const gateway = QUALYS_PLATFORMS[platform];
      const v3 = connectorApiUrl('connectors-v3', gateway)!;
      const cloudview = connectorApiUrl('cloudview', gateway)!;
      expect(v3).toMatch(/^https:\/\/qualysapi\./);
      expect(cloudview).toMatch(/^https:\/\/qualysguard\./);
      // The same platform: the host's domain is the gateway's (US1 and EU1 use their short names).
      const domain = gateway.replace('https://gateway.', '').replace(/^qg1\.apps\.(qualys\.(com|eu))$/, '$1');
      expect(v3).toBe(`https://qualysapi.${domain}`);
      // The handler's table of Qualys's API servers (for a Delete after a platform move) agrees.
      expect(v3).toBe(QUALYS_PLATFORM_API_SERVERS[platform]);
    },
  );

  test('GIVEN US1 and EU1 THEN their short names', () => {
    expect(connectorApiUrl('connectors-v3', QUALYS_PLATFORMS.US1)).toBe('https://qualysapi.qualys.com');
    expect(connectorApiUrl('cloudview', QUALYS_PLATFORMS.EU1)).toBe('https://qualysguard.qualys.eu');
  });

  test('GIVEN a gateway that is no platform (a test server) and no apiUrl THEN the problem says to set it', () => {
    expect(problems({ gatewayUrl: 'http://127.0.0.1:9000', credentialsSecret: 's', cloudView: {} })).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.dev\.cloudView\.apiUrl" is missing, and the connector API's host cannot be derived/,
      ),
    ]);
    expect(
      env({
        gatewayUrl: 'http://127.0.0.1:9000',
        credentialsSecret: 's',
        cloudView: { apiUrl: 'http://127.0.0.1:9001/' },
      }).cloudView?.apiUrl,
    ).toBe('http://127.0.0.1:9001');
  });

  test('GIVEN an apiUrl over plain http to a remote host THEN it is refused as a gateway would be', () => {
    expect(problems({ ...BASE, cloudView: { apiUrl: 'http://qualysapi.example.com' } })).toEqual([
      expect.stringMatching(
        /^"qualys\.environments\.dev\.cloudView\.apiUrl" is "http:\/\/qualysapi\.example\.com".*https/,
      ),
    ]);
  });
});

describe('problems', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a misspelt api', { api: 'conectors-v3' }, /cloudView\.api" is "conectors-v3" \(did you mean "connectors-v3"\?\)/],
    [
      'an unknown module',
      { modules: ['assetInventory', 'vulnScan'] },
      /cloudView\.modules" holds "vulnScan"; each must be one of/,
    ],
    ['no module', { modules: [] }, /cloudView\.modules" must list 1 to 3 of/],
    [
      'a module twice',
      { modules: ['cloudInventory', 'cloudInventory'] },
      /cloudView\.modules" lists cloudInventory more than once/,
    ],
    ['polling of 0 hours', { pollingHours: 0 }, /cloudView\.pollingHours" must be a whole number from 1 to 24, got 0/],
    [
      'polling of 25 hours',
      { pollingHours: 25 },
      /cloudView\.pollingHours" must be a whole number from 1 to 24, got 25/,
    ],
    [
      'a misspelt key',
      { polingHours: 4 },
      /cloudView\.polingHours" is not a known field \(did you mean "pollingHours"\?\)/,
    ],
    ['remediation as text', { remediation: 'yes' }, /cloudView\.remediation" must be true or false/],
    ['a name too long', { name: 'x'.repeat(257) }, /cloudView\.name" is 257 characters long/],
  ])('GIVEN %s THEN its field is named', (_label, cloudView, message) => {
    expect(problems({ ...BASE, cloudView })).toEqual([expect.stringMatching(message)]);
  });

  test('GIVEN several problems THEN all are listed at once', () => {
    expect(problems({ ...BASE, cloudView: { api: 'x', pollingHours: 99, modules: 'all' } })).toHaveLength(3);
  });

  test('GIVEN cloudView that is neither an object nor a flag THEN it says so', () => {
    expect(problems({ ...BASE, cloudView: 'yes' })).toEqual([
      expect.stringMatching(/cloudView" must be an object, got "yes"/),
    ]);
  });
});
