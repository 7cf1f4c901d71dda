/**
 * Gateway pinning (issue 10, item 1): whoever can invoke the handler chooses the event, so the
 * gateway the credentials go to must come from the function's own environment. Every test
 * goes through `wrap`, the Lambda entry point, with a lifecycle that records whether it ran:
 * when it does not run, no client is built and no secret is read.
 */
import { ALLOWED_GATEWAYS_ENV } from '../../src/core/contract';
import { GatewayNotPinnedError, checkGatewayPin, pinnedGateways } from '../../src/handler/gateway-pin';
import { PINNED_GATEWAY, createAt, deleteAt, pinnedEntry, updateAt } from '../support/pinned-entry';

const PINNED = PINNED_GATEWAY;
const create = createAt;
const update = updateAt;
const del = deleteAt;
const entry = (pinned: string | undefined) => pinnedEntry(pinned);

describe('Create and Update', () => {
  test('GIVEN the pinned gateway WHEN created THEN the lifecycle runs', async () => {
    const { run, calls } = entry(PINNED);
    await expect(run(create(PINNED))).resolves.toMatchObject({ PhysicalResourceId: 'ran:Create' });
    expect(calls.lifecycle).toBe(1);
  });

  test.each([
    ['another host', 'https://collector.attacker.example'],
    ['a look-alike host', 'https://gateway.qg1.apps.qualys.com.attacker.example'],
    ['the pinned host as user info', 'https://gateway.qg1.apps.qualys.com@attacker.example'],
    ['plain http to the pinned host', 'http://gateway.qg1.apps.qualys.com'],
    ['another port', 'https://gateway.qg1.apps.qualys.com:8443'],
    ['no URL', 42],
  ])('GIVEN %s WHEN created THEN it is refused before any client is built or secret read', async (_label, gateway) => {
    const { run, calls } = entry(PINNED);
    await expect(run(create(gateway))).rejects.toThrow(
      /^Create failed: GatewayUrl .* is not the gateway this stack was deployed with \(https:\/\/gateway\.qg1\.apps\.qualys\.com\)/,
    );
    expect(calls).toEqual({ lifecycle: 0, deps: 0 });
  });

  test('GIVEN a refused gateway carrying a user name and password WHEN created THEN neither appears in the answer or the log', async () => {
    const { run, lines } = entry(PINNED);
    const reason = await run(create('https://alice:hunter2@attacker.example')).catch((e: Error) => e.message);
    expect(reason).toMatch(/"https:\/\/attacker\.example"/);
    expect([reason, ...lines.filter((l) => !l.includes('"event"'))].join('\n')).not.toMatch(/alice|hunter2/);
  });

  test('GIVEN no pinned gateway in the environment WHEN created THEN it is refused naming the variable', async () => {
    const { run, calls } = entry(undefined);
    await expect(run(create(PINNED))).rejects.toThrow(
      new RegExp(`has no pinned Qualys gateway \\(${ALLOWED_GATEWAYS_ENV} is not set`),
    );
    expect(calls.lifecycle).toBe(0);
  });

  test('GIVEN the configured gateway changed (new one pinned, old one not) WHEN updated THEN the lifecycle runs (it registers on the new one only)', async () => {
    const { run, calls } = entry('https://gateway.qg2.apps.qualys.com');
    await expect(run(update('https://gateway.qg2.apps.qualys.com', PINNED))).resolves.toMatchObject({
      PhysicalResourceId: 'ran:Update',
    });
    expect(calls.lifecycle).toBe(1);
  });

  test('GIVEN an Update naming an unpinned new gateway WHEN updated THEN it is refused', async () => {
    const { run, calls } = entry(PINNED);
    await expect(run(update('https://attacker.example', PINNED))).rejects.toThrow(
      /^Update failed: GatewayUrl "https:\/\/attacker\.example" is not the gateway/,
    );
    expect(calls.lifecycle).toBe(0);
  });
});

describe('Delete', () => {
  test('GIVEN the pinned gateway WHEN deleted THEN the lifecycle deregisters', async () => {
    const { run, calls } = entry(PINNED);
    await run(del(PINNED));
    expect(calls.lifecycle).toBe(1);
  });

  test("GIVEN a move to another Qualys platform (US1 no longer pinned) WHEN the old integration is deleted THEN it is deregistered on Qualys's own US1 gateway", async () => {
    const { run, calls } = entry('https://gateway.qg2.apps.qualys.com');
    await run(del(PINNED));
    expect(calls.lifecycle).toBe(1);
  });

  test('GIVEN another Qualys platform that is not pinned WHEN created THEN it is refused (only a Delete may reach a former platform)', async () => {
    const { run, calls } = entry(PINNED);
    await expect(run(create('https://gateway.qg2.apps.qualys.com'))).rejects.toThrow(
      /is not the gateway this stack was deployed with/,
    );
    expect(calls.lifecycle).toBe(0);
  });

  test('GIVEN an integration on a custom gateway no longer pinned WHEN deleted THEN CloudFormation gets success at once, nothing is called, and the log says to remove it by hand', async () => {
    const former = 'https://qualys-gateway.corp.example';
    const { run, calls, lines } = entry(PINNED);
    await expect(run(del(former))).resolves.toEqual({ PhysicalResourceId: 'vm:1@h', Data: {} });
    expect(calls).toEqual({ lifecycle: 0, deps: 0 });
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 'WARN');
    expect(warning).toMatchObject({
      gateway: `"${former}"`,
      action: expect.stringMatching(/remove this integration in Qualys by hand/),
    });
  });
});

describe('what may be pinned', () => {
  test('GIVEN https origins, a loopback http origin and a non-loopback http one WHEN read THEN the http one is dropped', () => {
    expect(
      pinnedGateways({
        [ALLOWED_GATEWAYS_ENV]: `${PINNED}/, http://127.0.0.1:8080, http://gateway.example.com,http://[::1]:9`,
      }),
    ).toEqual([PINNED, 'http://127.0.0.1:8080', 'http://[::1]:9']);
  });

  test.each(['http://127.0.0.1:4000', 'http://127.8.9.10:4000', 'http://localhost:4000', 'http://[::1]:4000'])(
    'GIVEN the loopback simulator %s pinned WHEN created THEN it proceeds',
    (gateway) => {
      expect(checkGatewayPin(create(gateway), pinnedGateways({ [ALLOWED_GATEWAYS_ENV]: gateway }))).toEqual({
        proceed: true,
      });
    },
  );

  test('GIVEN plain http to a host that only resembles loopback WHEN created THEN it is refused', () => {
    const gateway = 'http://127.0.0.1.attacker.example';
    expect(() => checkGatewayPin(create(gateway), [gateway])).toThrow(GatewayNotPinnedError);
  });
});
