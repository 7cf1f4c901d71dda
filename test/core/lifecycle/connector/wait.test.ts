/**
 * The wait until Qualys could assume the role, by the states and errors Qualys reports: a
 * scripted ConnectorApi, a virtual clock.
 */
import { parseConnectorProperties } from '../../../../src/core/connector-properties';
import { isAssumeRoleError, waitUntilRoleAssumed } from '../../../../src/core/lifecycle/connector/lifecycle';
import type { Connector, ConnectorApi, ErrorsReading } from '../../../../src/core/qualys/connectors/api';
import { connectorProps } from '../../../support/connector-world';
import { FakeClock, memoryLogger } from '../../../support/lambda-fakes';

const spec = parseConnectorProperties(connectorProps('connectors-v3', { validationTimeoutSeconds: 300 }));

function scriptedApi(
  states: (Partial<Connector> | undefined)[],
  errors: ErrorsReading = { readable: true, errors: [], reading: '' },
) {
  const calls = { runs: 0, gets: 0 };
  const api = {
    run: async () => {
      calls.runs++;
      return { outcome: 'started' as const };
    },
    get: async () => {
      const next = states[Math.min(calls.gets++, states.length - 1)];
      return next === undefined ? undefined : ({ id: '5', raw: {}, ...next } as Connector);
    },
    errors: async () => errors,
  } as unknown as ConnectorApi;
  return { api, calls };
}

function deps() {
  const clock = new FakeClock();
  const { log, lines } = memoryLogger();
  return { clock, lines, deps: { log, clock, deadline: clock.now() + 600_000 } };
}

test('GIVEN FINISHED_ERRORS with errors none of which is about the role THEN the role was assumed', async () => {
  const { api } = scriptedApi([{ state: 'RUNNING' }, { state: 'FINISHED_ERRORS' }], {
    readable: true,
    errors: [{ message: 'Region ap-east-1 is not enabled' }],
    reading: '',
  });
  const d = deps();
  await expect(waitUntilRoleAssumed(api, spec, '5', d.deps, undefined)).resolves.toMatchObject({
    state: 'FINISHED_ERRORS',
    confirmed: true,
  });
});

test('GIVEN FINISHED_ERRORS whose error list cannot be read THEN it is not taken for success', async () => {
  const { api, calls } = scriptedApi([{ state: 'FINISHED_ERRORS' }], { readable: false, reading: 'weird' });
  const d = deps();
  await expect(waitUntilRoleAssumed(api, spec, '5', d.deps, undefined)).rejects.toThrow(/could not be read/);
  expect(calls.runs).toBeGreaterThan(1);
});

test('GIVEN a first run still RUNNING at the end of the wait, no assume-role error THEN it is taken as working, with a warning', async () => {
  const { api } = scriptedApi([{ state: 'RUNNING' }]);
  const d = deps();
  await expect(waitUntilRoleAssumed(api, spec, '5', d.deps, undefined)).resolves.toMatchObject({
    state: 'RUNNING',
    confirmed: false,
  });
  expect(d.lines.some((l) => l.includes('connector.wait-unconfirmed'))).toBe(true);
  expect(d.clock.now() - 1_700_000_000_000).toBeLessThanOrEqual(300_000);
});

test('GIVEN QUEUED to the end THEN it fails, bounded by validationTimeoutSeconds', async () => {
  const { api } = scriptedApi([{ state: 'QUEUED' }]);
  const d = deps();
  await expect(waitUntilRoleAssumed(api, spec, '5', d.deps, undefined)).rejects.toThrow(
    /within 29\d s .*last state: QUEUED/,
  );
});

test('GIVEN DISABLED THEN it fails at once', async () => {
  const { api, calls } = scriptedApi([{ state: 'DISABLED' }]);
  const d = deps();
  await expect(waitUntilRoleAssumed(api, spec, '5', d.deps, undefined)).rejects.toThrow(/disabled in Qualys/);
  expect(calls.gets).toBe(1);
});

test("GIVEN an adopted connector's old SUCCESS (same last sync) THEN it is not taken for this run's", async () => {
  const { api, calls } = scriptedApi([
    { state: 'SUCCESS', lastSync: 't0' },
    { state: 'SUCCESS', lastSync: 't0' },
    { state: 'SUCCESS', lastSync: 't1' },
  ]);
  const d = deps();
  await waitUntilRoleAssumed(api, spec, '5', d.deps, { state: 'SUCCESS', lastSync: 't0' });
  expect(calls.gets).toBe(3);
});

test('GIVEN the connector vanishes THEN the wait says so', async () => {
  const { api } = scriptedApi([undefined]);
  await expect(waitUntilRoleAssumed(api, spec, '5', deps().deps, undefined)).rejects.toThrow(/vanished/);
});

test.each([
  ['Unable to assume role arn:aws:iam::1:role/R', true],
  ['AccessDenied: not authorized to perform: sts:AssumeRole', true],
  ['The external ID does not match', true],
  ['Region ap-east-1 is not enabled', false],
])('GIVEN the error %p THEN it is an assume-role error: %p', (message, expected) => {
  expect(isAssumeRoleError(message)).toBe(expected);
});
