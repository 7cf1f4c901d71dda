/**
 * One SQS batch of S3 notifications through the normalizer, with everything it touches passed
 * in: where a source object comes from, the lake, the normalize function, the log, the time left.
 *
 * What each message becomes (SQS partial batch response: only the failed ones come back):
 * - an object-created record for a raw object of this stack: normalized, or quarantined by the
 *   normalizer (both handled: success); an object deleted since (NoSuchKey): success, logged;
 * - any other failure (throttled or failing S3, access denied, a bug): that message alone
 *   fails and SQS delivers it again; the normalizer overwrites its outputs, so a redelivery
 *   never duplicates rows;
 * - `s3:TestEvent` (S3 sends it when the notification is configured): acknowledged;
 * - records of another bucket, outside the raw prefixes, Qualys's validation files, and
 *   non-creation events: ignored, one log line each;
 * - a body that is no S3 notification: logged and failed, so that after the queue's
 *   maxReceiveCount it rests in the dead-letter queue (whose alarm tells the operator) instead
 *   of vanishing; it is never retried beyond that.
 */
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorMessage } from '../core/errors';
import { isValidationFile, tableOfKey } from '../core/findings/layout';
import type { LakeStore, NormalizeResult, SourceObject } from '../core/findings/ports';
import { type EventObject, parseS3Message } from '../core/findings/s3-event';
import { isNoSuchKey } from '../core/findings/s3-store';
import type { Logger } from '../core/log';

/** src/core/findings/normalize.ts's `normalizeObject`. */
export type NormalizeFn = (
  source: SourceObject,
  store: LakeStore,
  options?: { tmpDir?: string; now?: () => Date },
) => Promise<NormalizeResult>;

export interface NormalizerBatchDeps {
  /** The bucket Qualys writes to: records of any other bucket are ignored. */
  readonly findingsBucket: string;
  /** A raw object, ready to open (S3: headed; see s3-store.ts). */
  readonly source: (bucket: string, key: string) => Promise<SourceObject>;
  readonly lake: LakeStore;
  readonly normalize: NormalizeFn;
  readonly log: Logger;
  /** Where the normalizer writes its Parquet before upload. @default - the normalizer's default */
  readonly tmpDir?: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** The time left in this invocation. @default - unbounded */
  readonly remainingMs?: () => number;
  /**
   * A message is started only with at least this much time left; the rest of the batch is
   * failed untouched (delivered again) rather than cut off by the Lambda timeout, which would
   * send the whole batch back, finished messages included.
   * @default 60 000
   */
  readonly reserveMs?: number;
}

const DEFAULT_RESERVE_MS = 60_000;

/** How one message ended. */
type MessageOutcome = 'handled' | 'failed';

export async function normalizeBatch(event: SQSEvent, deps: NormalizerBatchDeps): Promise<SQSBatchResponse> {
  const now = deps.now ?? Date.now;
  const started = now();
  const batchItemFailures: SQSBatchItemFailure[] = [];
  const reserve = deps.reserveMs ?? DEFAULT_RESERVE_MS;
  let deferred = 0;
  for (const message of event.Records ?? []) {
    if (deps.remainingMs && deps.remainingMs() < reserve) {
      deferred++;
      batchItemFailures.push({ itemIdentifier: message.messageId });
      continue;
    }
    const outcome = await normalizeMessage(message, deps);
    if (outcome === 'failed') batchItemFailures.push({ itemIdentifier: message.messageId });
  }
  if (deferred > 0) deps.log.warn('findings.deferred', { messages: deferred, reserveMs: reserve });
  deps.log.info('findings.batch', {
    messages: event.Records?.length ?? 0,
    failed: batchItemFailures.length,
    ms: now() - started,
  });
  return { batchItemFailures };
}

async function normalizeMessage(message: SQSRecord, deps: NormalizerBatchDeps): Promise<MessageOutcome> {
  const parsed = parseS3Message(message.body);
  const messageId = message.messageId;
  if (parsed.kind === 'test') {
    deps.log.info('findings.test-event', { messageId, bucket: parsed.bucket });
    return 'handled';
  }
  if (parsed.kind === 'unreadable') {
    deps.log.error('findings.unreadable-message', {
      messageId,
      reason: parsed.reason,
      receiveCount: Number(message.attributes?.ApproximateReceiveCount ?? 0) || undefined,
    });
    return 'failed';
  }
  for (const eventName of parsed.otherEvents) {
    deps.log.info('findings.ignored', { messageId, eventName, why: 'not an object creation' });
  }
  for (const object of parsed.objects) {
    if ((await normalizeOne(object, messageId, deps)) === 'failed') return 'failed';
  }
  return 'handled';
}

async function normalizeOne(
  object: EventObject,
  messageId: string,
  deps: NormalizerBatchDeps,
): Promise<MessageOutcome> {
  const { bucket, key } = object;
  const why =
    bucket !== deps.findingsBucket
      ? `bucket ${bucket} is not the findings bucket ${deps.findingsBucket}`
      : tableOfKey(key) === undefined
        ? 'outside the raw prefixes'
        : isValidationFile(key)
          ? "Qualys's connection-validation file"
          : undefined;
  if (why) {
    deps.log.info('findings.ignored', { messageId, bucket, key, why });
    return 'handled';
  }
  const now = deps.now ?? Date.now;
  const started = now();
  try {
    const source = await deps.source(bucket, key);
    const result = await deps.normalize(source, deps.lake, {
      ...(deps.tmpDir ? { tmpDir: deps.tmpDir } : {}),
      now: () => new Date(now()),
    });
    const line = {
      messageId,
      key,
      eventName: object.eventName,
      table: result.table,
      status: result.status,
      ...(result.reason ? { reason: result.reason } : {}),
      records: result.recordsIn,
      rows: result.rowsOut,
      bytesIn: result.bytesIn,
      bytesOut: result.bytesOut,
      sizeStored: source.size,
      outputs: result.outputs.length,
      ms: now() - started,
    };
    if (result.status === 'quarantined') deps.log.warn('findings.object', line);
    else deps.log.info('findings.object', line);
    return 'handled';
  } catch (error) {
    if (isNoSuchKey(error)) {
      deps.log.warn('findings.object-gone', { messageId, key, ms: now() - started });
      return 'handled';
    }
    deps.log.error('findings.object-failed', {
      messageId,
      key,
      error: errorMessage(error),
      errorName: (error as Error)?.name,
      // A HEAD's error has no body to name it (S3 sends the status alone): the status says it then.
      httpStatus: (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode,
      ms: now() - started,
    });
    return 'failed';
  }
}
