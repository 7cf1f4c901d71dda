/**
 * The Lambda entry point. It wraps the plain lifecycle function: builds its clients (once
 * per warm Lambda, lazily), sets the deadline from the Lambda's remaining time, logs the
 * event without its ResponseURL, and makes sure that what reaches CloudFormation (through
 * the Provider framework) is an error message a person can act on, never a secret.
 */
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { sdkRoleTrustStore, sdkSecretReader, sdkStackStatusReader } from '../core/aws';
import { errorMessage } from '../core/errors';
import { checkGatewayPin, pinnedGateways, unknownResourceType } from './gateway-pin';
import { undiciTransport } from '../core/qualys/transport';
import { type LifecycleDeps, type LifecycleResult, onEvent } from '../core/lifecycle/lifecycle';
import { onConnectorEvent } from '../core/lifecycle/connector/lifecycle';
import { RESOURCE_TYPE } from '../core/contract';
import { CONNECTOR_RESOURCE_TYPE } from '../core/connector-contract';
import { type LogListener, Logger } from '../core/log';
import { systemClock } from '../core/retry';

/**
 * Time kept back from the Lambda's own timeout: enough to deregister after a failed create
 * and to answer, so that the answer never comes from a Lambda timeout.
 */
export const CLEANUP_RESERVE_MS = 90_000;

/** Time kept back from the Lambda's own timeout for the answer itself, after any cleanup. */
export const ANSWER_RESERVE_MS = 10_000;

/**
 * The most of a FAILED reason sent to CloudFormation, in UTF-8 bytes. CloudFormation refuses a
 * custom-resource response over 4 096 bytes as a whole, and the Provider framework adds the IDs
 * and a link to the logs around the reason; the whole reason is in the `request.failed` line.
 */
export const MAX_REASON_BYTES = 3_000;

/** `reason` cut to `maxBytes` of UTF-8, ending with "…" when cut, never inside a character. */
export function capReason(reason: string, maxBytes = MAX_REASON_BYTES): string {
  if (Buffer.byteLength(reason) <= maxBytes) return reason;
  const ellipsis = '…';
  let budget = maxBytes - Buffer.byteLength(ellipsis);
  let kept = '';
  for (const char of reason) {
    budget -= Buffer.byteLength(char);
    if (budget < 0) break;
    kept += char;
  }
  return kept + ellipsis;
}

type Handler = (
  event: CloudFormationCustomResourceEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<LifecycleResult>;

type DepsFactory = (context: Pick<Context, 'getRemainingTimeInMillis'>, log: Logger) => LifecycleDeps;

let clients: Pick<LifecycleDeps, 'secrets' | 'trust' | 'stacks' | 'transport'> | undefined;

export const defaultDeps: DepsFactory = (context, log) => {
  clients ??= {
    secrets: sdkSecretReader(),
    trust: sdkRoleTrustStore(),
    stacks: sdkStackStatusReader(),
    transport: undiciTransport(),
  };
  const remaining = context.getRemainingTimeInMillis();
  return {
    ...clients,
    log,
    clock: systemClock,
    deadline: Date.now() + Math.max(0, remaining - CLEANUP_RESERVE_MS),
    cleanupDeadline: Date.now() + Math.max(0, remaining - ANSWER_RESERVE_MS),
  };
};

/**
 * Hosts that run this module in their own process (`qualys-s3 rehearse` loads the bundle from
 * the cloud assembly) listen here. A module-level seam rather than an option of `wrap`: such a
 * host gets the bundle's exported `handler`, the very function Lambda calls, already wrapped.
 * In Lambda nobody listens, and every line goes to stdout (CloudWatch Logs).
 */
const observers = new Set<LogListener>();
const silencers = new Set<LogListener>();

export interface ObserveOptions {
  /**
   * Whether the handler's lines still go to stdout while this listener is attached; the host
   * then shows the events its own way.
   * @default true
   */
  readonly stdout?: boolean;
}

/**
 * Gets every log event of the handler's invocations from now on, redacted as its log lines
 * are. Returns the function that detaches the listener (and gives stdout back).
 */
export function observeLogEvents(listener: LogListener, options: ObserveOptions = {}): () => void {
  // A wrapper per call, so that the same function attached twice is detached one at a time.
  const attached: LogListener = (event) => listener(event);
  observers.add(attached);
  if (options.stdout === false) silencers.add(attached);
  return () => {
    observers.delete(attached);
    silencers.delete(attached);
  };
}

/** The Lambda's logger: lines to stdout unless a host silenced it, events to the observers. */
export const defaultLogger = (): Logger =>
  new Logger(
    (line) => {
      if (silencers.size === 0) process.stdout.write(`${line}\n`);
    },
    { listeners: observers },
  );

export function wrap(
  fn: (event: CloudFormationCustomResourceEvent, deps: LifecycleDeps) => Promise<LifecycleResult>,
  makeDeps: DepsFactory = defaultDeps,
  makeLogger: () => Logger = defaultLogger,
  allowedGateways: () => readonly string[] = () => pinnedGateways(),
): Handler {
  return async (event, context) => {
    const log = makeLogger();
    try {
      // Inside the try: whatever goes wrong from here on reaches CloudFormation as a reason.
      const { ResponseURL: _omitted, ...loggable } = event;
      log.info('request.received', { ...loggable, ResponseURL: '...' });
      // Before anything reads the secret: credentials go only to a gateway pinned at synth.
      const pin = checkGatewayPin(event, allowedGateways());
      if (!pin.proceed && event.RequestType === 'Delete') {
        log.warn('delete.gateway-not-pinned', {
          gateway: pin.gateway,
          pinned: allowedGateways(),
          PhysicalResourceId: event.PhysicalResourceId,
          action:
            event.ResourceType === CONNECTOR_RESOURCE_TYPE
              ? 'remove this connector in Qualys by hand; the credentials were not sent to that server'
              : 'remove this integration in Qualys by hand; the credentials were not sent to that gateway',
        });
        return { PhysicalResourceId: event.PhysicalResourceId, Data: {} };
      }
      const out = await fn(event, makeDeps(context, log));
      log.info('request.done', { RequestType: event.RequestType, PhysicalResourceId: out.PhysicalResourceId });
      return out;
    } catch (error) {
      const message = log.redact(`${event.RequestType} failed: ${errorMessage(error)}`);
      log.error('request.failed', { error: message });
      // A fresh error: no stack frames and no cause, so that nothing unredacted travels on.
      const reason = capReason(message);
      const answer = new Error(reason);
      answer.stack = reason;
      throw answer;
    }
  };
}

/**
 * One function, one Provider, two resource types: the S3 integration's lifecycle and the
 * CloudView / TotalCloud connector's, by `ResourceType`; any other type fails with a reason
 * (the gateway pin refuses it first, before any secret is read).
 */
export async function dispatch(
  event: CloudFormationCustomResourceEvent,
  deps: LifecycleDeps,
): Promise<LifecycleResult> {
  switch (event.ResourceType) {
    case RESOURCE_TYPE:
      return onEvent(event, deps);
    case CONNECTOR_RESOURCE_TYPE:
      return onConnectorEvent(event, deps);
    default:
      throw unknownResourceType(event.ResourceType);
  }
}

export const handler = wrap(dispatch);
