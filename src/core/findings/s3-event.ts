/**
 * The S3 event notification as SQS delivers it (the message body is the notification's JSON),
 * read by the normalizer Lambda and written by the CLI's `backfill`, which sends the same shape
 * so that the Lambda has one kind of message to read.
 *
 * S3 writes an object key in an event URL-encoded the way HTML forms are: a space is '+', a '+'
 * is '%2B' (S3 User Guide, "Event message structure"). `decodeEventKey` undoes exactly that.
 */

/** One object an event names. */
export interface EventObject {
  readonly bucket: string;
  readonly key: string;
  /** As stored, in bytes (absent in some event types). */
  readonly size?: number;
  /** The S3 event name, e.g. ObjectCreated:Put, or ObjectCreated:Backfill for the CLI's messages. */
  readonly eventName: string;
}

/** What a message body is. */
export type S3Message =
  /** Sent once when a notification is configured: nothing to do. */
  | { readonly kind: 'test'; readonly bucket?: string }
  | {
      readonly kind: 'records';
      /** Object-created records, keys decoded. */
      readonly objects: readonly EventObject[];
      /** Records that are no object creation (e.g. ObjectRemoved:*), with their event names: nothing to do. */
      readonly otherEvents: readonly string[];
    }
  /** Not an S3 event notification at all, or one that cannot be read. */
  | { readonly kind: 'unreadable'; readonly reason: string };

/** The eventName the CLI's backfill gives its messages (an object created before analytics was on). */
export const BACKFILL_EVENT_NAME = 'ObjectCreated:Backfill';

/** An S3 event key as it was written: '+' is a space, then percent-decoding. */
export function decodeEventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** A key as S3 writes it into an event (the inverse of `decodeEventKey`). */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Reads an SQS message body. Never throws: what it cannot read is `unreadable`, with why. */
export function parseS3Message(body: string): S3Message {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { kind: 'unreadable', reason: `the body is not JSON (${describeBody(body)})` };
  }
  if (!isObject(doc)) return { kind: 'unreadable', reason: 'the body is JSON but not an object' };
  if (doc.Event === 's3:TestEvent')
    return { kind: 'test', bucket: typeof doc.Bucket === 'string' ? doc.Bucket : undefined };
  if (!Array.isArray(doc.Records)) {
    return {
      kind: 'unreadable',
      reason: `the body has no "Records" list (keys: ${Object.keys(doc).slice(0, 5).join(', ') || 'none'})`,
    };
  }
  const objects: EventObject[] = [];
  const otherEvents: string[] = [];
  for (const [i, record] of doc.Records.entries()) {
    const what = `Records[${i}]`;
    if (!isObject(record) || record.eventSource !== 'aws:s3') {
      return { kind: 'unreadable', reason: `${what} is not an S3 event record (eventSource is not "aws:s3")` };
    }
    const eventName = typeof record.eventName === 'string' ? record.eventName : '';
    if (!eventName.startsWith('ObjectCreated:')) {
      otherEvents.push(eventName || '(no eventName)');
      continue;
    }
    const s3 = isObject(record.s3) ? record.s3 : {};
    const bucket = isObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = isObject(s3.object) ? s3.object : {};
    if (typeof bucket !== 'string' || bucket === '' || typeof object.key !== 'string' || object.key === '') {
      return { kind: 'unreadable', reason: `${what} names no s3.bucket.name and s3.object.key` };
    }
    let key: string;
    try {
      key = decodeEventKey(object.key);
    } catch {
      return {
        kind: 'unreadable',
        reason: `${what}'s key ${JSON.stringify(object.key)} is not URL-encoded as S3 writes keys`,
      };
    }
    const size = typeof object.size === 'number' && Number.isFinite(object.size) ? object.size : undefined;
    objects.push({ bucket, key, eventName, ...(size === undefined ? {} : { size }) });
  }
  return { kind: 'records', objects, otherEvents };
}

/**
 * The body of a message naming `objects`, exactly as S3 -> SQS delivers one (the fields the
 * reader needs, and those that make it recognisably an S3 event).
 */
export function s3EventBody(
  objects: ReadonlyArray<{ bucket: string; key: string; size?: number }>,
  options: { eventName?: string; eventTime?: Date; region?: string } = {},
): string {
  return JSON.stringify({
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: options.region ?? 'us-east-1',
      eventTime: (options.eventTime ?? new Date()).toISOString(),
      eventName: options.eventName ?? 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: o.bucket, arn: `arn:aws:s3:::${o.bucket}` },
        object: { key: encodeEventKey(o.key), ...(o.size === undefined ? {} : { size: o.size }) },
      },
    })),
  });
}

/** A short, safe description of a body that did not parse: its length and first characters. */
function describeBody(body: string): string {
  const head = body.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
  return `${body.length} characters, starting ${JSON.stringify(head)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
