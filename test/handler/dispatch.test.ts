/**
 * The Lambda entry point serves two resource types through one Provider: the S3 integration
 * and the CloudView / TotalCloud connector, by `ResourceType`; any other type fails with a
 * reason before anything is read. The connector's ApiUrl is pinned as the S3 GatewayUrl is.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ALLOWED_GATEWAYS_ENV, RESOURCE_TYPE } from '../../src/core/contract';
import { CONNECTOR_RESOURCE_TYPE } from '../../src/core/connector-contract';
import type { LifecycleDeps } from '../../src/core/lifecycle/lifecycle';
import { Logger } from '../../src/core/log';
import { pinnedGateways } from '../../src/handler/gateway-pin';
import { dispatch, wrap } from '../../src/handler/handler';
import { API_URL } from '../support/connector-fakes';
import {
  EXTERNAL_ID,
  ROLE,
  assertNoCredentialsIn,
  connectorCreate,
  connectorDelete,
  connectorProps,
  connectorWorld,
  events,
} from '../support/connector-world';

function entry(pinned: string, world = connectorWorld('connectors-v3')) {
  const out: string[] = [];
  const calls = { deps: 0 };
  const handler = wrap(
    dispatch,
    (_ctx, log) => {
      calls.deps++;
      return { ...world.deps, log } as unknown as LifecycleDeps;
    },
    () => new Logger((line) => out.push(line)),
    () => pinnedGateways({ [ALLOWED_GATEWAYS_ENV]: pinned }),
  );
  const run = (event: CloudFormationCustomResourceEvent) =>
    handler(event, { getRemainingTimeInMillis: () => 900_000 }).then(
      (v) => ({ ok: true as const, v }),
      (e: Error) => ({ ok: false as const, reason: e.message }),
    );
  return { run, out, calls, world };
}

test('GIVEN a connector Create on the pinned API server WHEN invoked THEN the connector lifecycle creates it', async () => {
  const e = entry(API_URL);
  e.world.server.role(ROLE, EXTERNAL_ID, 0);
  const r = await e.run(connectorCreate(connectorProps('connectors-v3')));
  expect(r).toMatchObject({ ok: true, v: { Data: { State: 'SUCCESS' } } });
  expect(e.world.server.connectors.size).toBe(1);
  assertNoCredentialsIn(e.out);
});

test('GIVEN a connector Create naming another ApiUrl WHEN invoked THEN it is refused before the secret is read', async () => {
  const e = entry('https://qualysapi.qualys.eu');
  const r = await e.run(connectorCreate(connectorProps('connectors-v3')));
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.reason).toMatch(
    /^Create failed: ApiUrl "https:\/\/qualysapi\.qg2\.apps\.qualys\.com" is not an API server this stack was deployed with/,
  );
  expect(e.calls.deps).toBe(0);
  expect(e.world.server.requests).toEqual([]);
});

test("GIVEN a connector Delete on a Qualys platform's API server no longer pinned (a move of platform) WHEN invoked THEN it is deleted there", async () => {
  const e = entry(API_URL);
  e.world.server.role(ROLE, EXTERNAL_ID, 0);
  const props = connectorProps('connectors-v3');
  const created = await e.run(connectorCreate(props));
  if (!created.ok) throw new Error(created.reason);
  const moved = entry('https://qualysapi.qualys.eu', e.world);
  const r = await moved.run(connectorDelete(created.v.PhysicalResourceId, props));
  expect(r.ok).toBe(true);
  expect(e.world.server.connectors.size).toBe(0);
});

test("GIVEN a connector Delete naming an unpinned server that is not Qualys's WHEN invoked THEN it is answered without any call, and the log says to remove it by hand", async () => {
  const e = entry(API_URL);
  const props = { ...connectorProps('connectors-v3'), ApiUrl: 'https://collector.attacker.example' };
  const r = await e.run(connectorDelete('connectors-v3:5@collector.attacker.example', props));
  expect(r.ok).toBe(true);
  expect(e.calls.deps).toBe(0);
  expect(e.out.find((l) => l.includes('delete.gateway-not-pinned'))).toMatch(/remove this connector in Qualys by hand/);
});

test.each([
  [
    'another type',
    'Custom::SomethingElse',
    /the resource type "Custom::SomethingElse" is not one this function serves/,
  ],
  ['no type', undefined, /the resource type \(missing\) is not one this function serves/],
])('GIVEN %s WHEN invoked THEN it fails with a clear reason, reading nothing', async (_what, type, reason) => {
  const e = entry(API_URL);
  const event = {
    ...connectorCreate(connectorProps('connectors-v3')),
    ResourceType: type,
  } as CloudFormationCustomResourceEvent;
  const r = await e.run(event);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.reason).toMatch(reason);
  expect(r.reason).toContain(`${RESOURCE_TYPE}, ${CONNECTOR_RESOURCE_TYPE}`);
  expect(e.calls.deps).toBe(0);
});

test("GIVEN a Delete of each type with a physical ID that names nothing WHEN invoked THEN each type's own lifecycle answers it", async () => {
  const e = entry(API_URL);
  const connector = connectorDelete('never-created', connectorProps('connectors-v3'));
  const s3 = {
    ...connectorDelete('never-created', { GatewayUrl: API_URL }),
    ResourceType: RESOURCE_TYPE,
  } as CloudFormationCustomResourceEvent;
  await e.run(connector);
  await e.run(s3);
  const seen = events(e.out);
  expect(seen).toContain('connector.nothing-registered');
  expect(seen).toContain('delete.nothing-registered');
});
