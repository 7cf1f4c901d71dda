/**
 * Gateway pinning: the handler sends the Qualys user name and password only to a server the
 * stack was synthesized with: the S3 integration's gateway (`GatewayUrl`) or the connector's
 * API server (`ApiUrl`). The allowed origins come from the function's own environment (set by
 * the construct), never from the event, because whoever can invoke the function chooses the event.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ALLOWED_GATEWAYS_ENV, Prop, QUALYS_PLATFORM_GATEWAYS, RESOURCE_TYPE, isLoopbackHost } from '../core/contract';
import { CONNECTOR_RESOURCE_TYPE, ConnectorProp, QUALYS_CONNECTOR_HOSTS } from '../core/connector-contract';
import { IntegrationError } from '../core/errors';

/** The event names a gateway this function is not pinned to. */
export class GatewayNotPinnedError extends IntegrationError {}

/** The event is for a resource type this function does not serve. */
export class UnknownResourceTypeError extends IntegrationError {}

/** Each resource type this function serves: the property naming the Qualys server, and Qualys's own servers of that kind. */
const SERVED: Readonly<
  Record<
    string,
    {
      readonly property: string;
      readonly noun: string;
      readonly change: string;
      readonly platformOrigins: readonly string[];
    }
  >
> = {
  [RESOURCE_TYPE]: {
    property: Prop.GatewayUrl,
    noun: 'the gateway',
    change: 'Change "gatewayUrl" or "platform" in the configuration and deploy',
    platformOrigins: Object.values(QUALYS_PLATFORM_GATEWAYS).map((url) => new URL(url).origin),
  },
  [CONNECTOR_RESOURCE_TYPE]: {
    property: ConnectorProp.ApiUrl,
    noun: 'an API server',
    change: "Change the platform (or the connector's API server) in the configuration and deploy",
    // Both APIs' hosts on every platform: Qualys's own.
    platformOrigins: QUALYS_CONNECTOR_HOSTS.map((url) => new URL(url).origin),
  },
};

export const SERVED_RESOURCE_TYPES: readonly string[] = Object.keys(SERVED);

/** Refuses, in words, an event for a resource type this function does not serve. */
export function unknownResourceType(type: unknown): UnknownResourceTypeError {
  const shown =
    typeof type === 'string' ? JSON.stringify(type.slice(0, 100)) : `(${type === undefined ? 'missing' : typeof type})`;
  return new UnknownResourceTypeError(
    `the resource type ${shown} is not one this function serves (${SERVED_RESOURCE_TYPES.join(', ')}); ` +
      'point only the resources of this app at its Provider',
  );
}

export type PinVerdict =
  | { readonly proceed: true }
  /** A Delete aimed at a gateway that is no longer pinned: answered without any call. */
  | { readonly proceed: false; readonly gateway: string };

/** The pinned origins, read from the function's environment; empty when unset. */
export function pinnedGateways(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[ALLOWED_GATEWAYS_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => originOf(s) ?? '')
    .filter((s) => s.length > 0);
}

/** The URL's origin when it is one credentials may go to (https, or http to loopback), else undefined. */
export function originOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  if (url.protocol === 'https:') return url.origin;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url.origin;
  return undefined;
}

/**
 * Decides whether the event may proceed. Create and Update must name a pinned gateway in
 * ResourceProperties (an Update whose old gateway differs registers on the new one and never
 * calls the old, so the old one need not be pinned; when they are equal the check covers both).
 * A Delete may also name one of Qualys's own platform gateways (the configuration moved to
 * another platform, and CloudFormation deletes the old platform's integration): those hosts
 * are Qualys's, so the credentials stay with Qualys. A Delete naming any other unpinned gateway
 * (a custom gatewayUrl that changed, or a forged event) is answered as done without reading
 * the secret: the credentials never travel to an unpinned host and CloudFormation is never
 * left waiting; the caller logs that the old integration must be removed in Qualys by hand.
 *
 * @throws GatewayNotPinnedError for a Create or Update naming an unpinned gateway.
 */
export function checkGatewayPin(event: CloudFormationCustomResourceEvent, pinned: readonly string[]): PinVerdict {
  const served = SERVED[event.ResourceType];
  if (!served) throw unknownResourceType(event.ResourceType);
  const raw = event.ResourceProperties?.[served.property];
  const origin = originOf(raw);
  if (origin !== undefined && pinned.includes(origin)) return { proceed: true };
  if (event.RequestType === 'Delete' && origin !== undefined && served.platformOrigins.includes(origin))
    return { proceed: true };
  const shown = describe(raw);
  if (event.RequestType === 'Delete') return { proceed: false, gateway: shown };
  throw new GatewayNotPinnedError(
    pinned.length === 0
      ? `the handler has no pinned Qualys gateway (${ALLOWED_GATEWAYS_ENV} is not set in its environment), so it sends ` +
          `credentials nowhere; deploy the stack with this version of the app, which sets it from "gatewayUrl" or "platform"`
      : `${served.property} ${shown} is not ${served.noun} this stack was deployed with (${pinned.join(', ')}); ` +
          'the handler sends credentials only there (https, or http to a loopback test server). ' +
          `${served.change}, rather than invoking the function directly`,
  );
}

/** The gateway as it may be shown: its origin only, never a user name or password in it. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return `(${value === undefined ? 'missing' : typeof value})`;
  try {
    const url = new URL(value);
    return JSON.stringify(`${url.protocol}//${url.host}`);
  } catch {
    return '(not a URL)';
  }
}
