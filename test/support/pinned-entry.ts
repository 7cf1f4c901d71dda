/**
 * The Lambda entry point (`wrap`) with a stand-in lifecycle that records whether it ran, and
 * the custom-resource events that differ only in their GatewayUrl: enough to test the
 * gateway pin without a client, a secret or a simulator.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ALLOWED_GATEWAYS_ENV, Prop } from '../../src/core/contract';
import type { LifecycleDeps } from '../../src/core/lifecycle/lifecycle';
import { pinnedGateways } from '../../src/handler/gateway-pin';
import { wrap } from '../../src/handler/handler';
import { memoryLogger } from './lambda-fakes';

export const PINNED_GATEWAY = 'https://gateway.qg1.apps.qualys.com';

const base = {
  ServiceToken: 'x',
  ResponseURL: 'https://example.invalid/r',
  StackId: 'stack',
  RequestId: 'r',
  LogicalResourceId: 'VmIntegration',
  ResourceType: 'Custom::QualysS3Integration',
};

/** A VM resource's properties naming `gateway` (any value, to test what is not a URL too). */
export const propsAt = (gateway: unknown) => ({ ServiceToken: 'x', [Prop.GatewayUrl]: gateway, [Prop.Kind]: 'vm' });

export const createAt = (gateway: unknown) =>
  ({
    ...base,
    RequestType: 'Create',
    ResourceProperties: propsAt(gateway),
  }) as unknown as CloudFormationCustomResourceEvent;

export const updateAt = (gateway: unknown, old: unknown) =>
  ({
    ...base,
    RequestType: 'Update',
    PhysicalResourceId: 'vm:1@h',
    ResourceProperties: propsAt(gateway),
    OldResourceProperties: propsAt(old),
  }) as unknown as CloudFormationCustomResourceEvent;

export const deleteAt = (gateway: unknown) =>
  ({
    ...base,
    RequestType: 'Delete',
    PhysicalResourceId: 'vm:1@h',
    ResourceProperties: propsAt(gateway),
  }) as unknown as CloudFormationCustomResourceEvent;

/**
 * The entry point with `pinned` as the function's allowed gateways (undefined: none set). It
 * counts the lifecycle's runs and the building of its clients, and records the gateway each
 * run was given; a run answers with `physicalId(event)`.
 */
export function pinnedEntry(
  pinned: string | undefined,
  physicalId: (event: CloudFormationCustomResourceEvent) => string = (event) => `ran:${event.RequestType}`,
) {
  const calls = { lifecycle: 0, deps: 0 };
  const seen: string[] = [];
  const { log, lines } = memoryLogger();
  const handler = wrap(
    async (event) => {
      calls.lifecycle++;
      seen.push(String(event.ResourceProperties[Prop.GatewayUrl]));
      return { PhysicalResourceId: physicalId(event), Data: {} };
    },
    () => {
      calls.deps++;
      return {} as LifecycleDeps;
    },
    () => log,
    () => pinnedGateways(pinned === undefined ? {} : { [ALLOWED_GATEWAYS_ENV]: pinned }),
  );
  const run = (event: CloudFormationCustomResourceEvent) => handler(event, { getRemainingTimeInMillis: () => 600_000 });
  return { run, calls, seen, lines };
}
