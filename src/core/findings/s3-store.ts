/**
 * The normalizer's ports on S3 (ports.ts): a raw object in the findings bucket as its
 * SourceObject, and the lake bucket as its LakeStore. The S3 client is passed in.
 *
 * Retries are the SDK's (its standard mode: throttling, 5xx, dropped connections), except
 * for a file upload: the SDK does not retry a request whose body is a stream it has already
 * read, so `putFile` retries with a fresh stream of the file itself.
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Clock, systemClock, withRetries } from '../retry';
import type { LakeStore, SourceObject } from './ports';

/** The S3 SDK's commands, required when first used (the Lambda's cold start loads them once). */
const sdk = () => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');

/** S3 DeleteObjects takes at most this many keys per call. */
const DELETE_BATCH = 1000;

/** What a failed S3 call says about itself, as the SDK reports it. */
interface SdkError {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: unknown;
}

/** NoSuchKey (GET), NotFound (HEAD, which has no body to name the error). */
export function isNoSuchKey(error: unknown): boolean {
  const e = error as SdkError;
  return (
    e?.name === 'NoSuchKey' ||
    e?.name === 'NotFound' ||
    (e?.name !== 'NoSuchBucket' && e?.$metadata?.httpStatusCode === 404)
  );
}

/** Worth another try: throttling, S3's 5xx, a dropped connection, a 412 from a changed object. */
export function isTransientS3Error(error: unknown): boolean {
  const e = error as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429 || status === 412 || e?.name === 'SlowDown';
  // No answer at all: a reset, a timeout.
  return (
    !!e &&
    typeof e === 'object' &&
    ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'TimeoutError', 'AbortError'].some(
      (n) => e.name === n || (error as { code?: string }).code === n,
    )
  );
}

/**
 * A raw object, headed once: its size and LastModified (the partition day of a key without a
 * day folder) come from S3, and `open` reads the version that was headed (If-Match on its
 * ETag): an object rewritten in between fails with 412 and is read again on redelivery.
 */
export async function headSourceObject(s3: S3Client, bucket: string, key: string): Promise<SourceObject> {
  const { HeadObjectCommand, GetObjectCommand } = sdk();
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const etag = head.ETag;
  return {
    bucket,
    key,
    lastModified: head.LastModified ?? new Date(0),
    ...(head.ContentLength === undefined ? {} : { size: head.ContentLength }),
    ...(etag === undefined ? {} : { etag }),
    // An unversioned bucket answers no version id, or "null" once versioning was suspended.
    ...(head.VersionId === undefined || head.VersionId === 'null' ? {} : { versionId: head.VersionId }),
    async open(): Promise<Readable> {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }));
      if (!out.Body) throw new Error(`s3://${bucket}/${key}: GetObject answered without a body`);
      // In Node the SDK's body is the HTTP response, a Readable.
      return out.Body as Readable;
    },
  };
}

export interface S3LakeStoreOptions {
  /** For putFile's own retries. @default systemClock */
  readonly clock?: Clock;
  /** putFile attempts in all. @default 4 */
  readonly maxAttempts?: number;
}

/** The lake bucket as the normalizer's LakeStore. */
export function s3LakeStore(s3: S3Client, bucket: string, options: S3LakeStoreOptions = {}): LakeStore {
  const clock = options.clock ?? systemClock;
  return {
    async putFile(key, filePath, contentType) {
      const { PutObjectCommand } = sdk();
      await withRetries(
        {
          maxAttempts: options.maxAttempts ?? 4,
          baseDelayMs: 200,
          maxDelayMs: 5_000,
          isRetryable: isTransientS3Error,
          clock,
        },
        async () => {
          const { size } = await fs.promises.stat(filePath);
          const body = fs.createReadStream(filePath);
          try {
            await s3.send(
              new PutObjectCommand({
                Bucket: bucket,
                Key: key,
                Body: body,
                ContentLength: size,
                ContentType: contentType,
              }),
            );
          } finally {
            body.destroy();
          }
        },
      );
    },

    async putText(key, text, contentType) {
      const { PutObjectCommand } = sdk();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }));
    },

    async copySource(source, key) {
      const { CopyObjectCommand } = sdk();
      // The copy source is a URL path: the key is percent-encoded, its slashes kept. The copy is of
      // the version that was read: its version id where the bucket keeps versions, and the ETag
      // matched (412 when the object was overwritten since: the message is retried, and reads the
      // new version).
      const path = `${source.bucket}/${encodeURIComponent(source.key).replace(/%2F/g, '/')}`;
      const from = source.versionId ? `${path}?versionId=${encodeURIComponent(source.versionId)}` : path;
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: from,
          ...(source.etag ? { CopySourceIfMatch: source.etag } : {}),
        }),
      );
    },

    async getText(key) {
      const { GetObjectCommand } = sdk();
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await out.Body?.transformToString('utf-8')) ?? '';
      } catch (error) {
        if (isNoSuchKey(error)) return undefined;
        throw error;
      }
    },

    async delete(keys) {
      const { DeleteObjectsCommand } = sdk();
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const out = await s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        // DeleteObjects answers 200 even when some keys could not be deleted: they are listed in Errors.
        const failed = out.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0];
          throw new Error(
            `could not delete ${failed.length} of ${batch.length} objects in s3://${bucket}; first: ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim(),
          );
        }
      }
    },
  };
}
