/**
 * Break-review of issue 10, item 1: GatewayUrl values that differ subtly from the pinned one,
 * through the Lambda entry point with a lifecycle that records whether it ran.
 */
import { PINNED_GATEWAY, createAt, deleteAt, pinnedEntry } from '../support/pinned-entry';

const PINNED = PINNED_GATEWAY;
const event = (type: 'Create' | 'Delete', gateway: unknown) =>
  type === 'Create' ? createAt(gateway) : deleteAt(gateway);
const entry = (pinned: string) => pinnedEntry(pinned, () => 'ran');

describe('Create: look-alikes of the pinned gateway are refused before the lifecycle runs', () => {
  test.each([
    ['a trailing dot (another DNS name to TLS and to a proxy)', 'https://gateway.qg1.apps.qualys.com.'],
    ['the pinned host as a prefix of another', 'https://gateway.qg1.apps.qualys.community'],
    ['the pinned host as a subdomain label', 'https://gateway.qg1.apps.qualys.com.evil.example'],
    ['a user name only', 'https://admin@gateway.qg1.apps.qualys.com'],
    ['a backslash that WHATWG reads as a path', 'https://attacker.example\\@gateway.qg1.apps.qualys.com'],
    ['the IPv6 loopback over http when only https is pinned', 'http://[::1]'],
    ['an IPv4-mapped loopback over http', 'http://[::ffff:127.0.0.1]'],
    ['0.0.0.0 over http', 'http://0.0.0.0:8080'],
    ['a non-https scheme', 'ftp://gateway.qg1.apps.qualys.com'],
    ['an empty string', ''],
  ])('GIVEN %s WHEN created THEN it is refused', async (_label, gateway) => {
    const { run, seen } = entry(PINNED);
    await expect(run(event('Create', gateway))).rejects.toThrow(
      /^Create failed: GatewayUrl .* is not the gateway this stack was deployed with/,
    );
    expect(seen).toEqual([]);
  });

  test.each([
    ['upper case', 'https://GATEWAY.QG1.apps.qualys.com'],
    ['the default port written out', 'https://gateway.qg1.apps.qualys.com:443'],
    ['a trailing slash', 'https://gateway.qg1.apps.qualys.com/'],
  ])(
    'GIVEN the pinned gateway written with %s WHEN created THEN it proceeds (the same origin)',
    async (_label, gateway) => {
      const { run, seen } = entry(PINNED);
      await expect(run(event('Create', gateway))).resolves.toMatchObject({ PhysicalResourceId: 'ran' });
      expect(seen).toHaveLength(1);
    },
  );
});

describe('Delete on an unpinned host', () => {
  test.each([
    ['a custom host', 'https://collector.attacker.example'],
    ['a Qualys platform over plain http', 'http://gateway.qg2.apps.qualys.com'],
    ['a Qualys platform host with a user name', 'https://x@gateway.qg2.apps.qualys.com'],
    ['a Qualys platform host on another port', 'https://gateway.qg2.apps.qualys.com:8443'],
  ])(
    'GIVEN %s WHEN deleted THEN success is answered with no lifecycle call and nothing of the URL but its origin is logged',
    async (_label, gateway) => {
      const { run, seen, lines } = entry(PINNED);
      await expect(run(event('Delete', gateway))).resolves.toEqual({ PhysicalResourceId: 'vm:1@h', Data: {} });
      expect(seen).toEqual([]);
      const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 'WARN');
      expect(warning?.action).toMatch(/remove this integration in Qualys by hand/);
      expect(JSON.stringify(warning)).not.toMatch(/x@/);
    },
  );
});
