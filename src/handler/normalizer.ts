/**
 * The normalizer Lambda's entry: SQS batches of S3 notifications (ReportBatchItemFailures on
 * the event source mapping) into normalizer-batch.ts, with the S3 client and the normalize
 * function built once per warm Lambda, lazily, and replaceable for tests (`handlerWith`).
 *
 * Environment:
 *   FINDINGS_BUCKET  the bucket Qualys writes raw objects to (records of others are ignored)
 *   LAKE_BUCKET      the bucket the curated Parquet, quarantine and manifests go to
 *   NORMALIZER_RESERVE_MS  optional: time kept back from the Lambda timeout (default 60 000)
 * The Parquet is written to os.tmpdir() (/tmp, the function's ephemeral storage) before upload.
 */
import * as os from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { NORMALIZER_ENV } from '../core/findings/layout';
import { normalizeObject } from '../core/findings/normalize';
import { headSourceObject, s3LakeStore } from '../core/findings/s3-store';
import { Logger } from '../core/log';
import { type NormalizeFn, type NormalizerBatchDeps, normalizeBatch } from './normalizer-batch';

export interface NormalizerClients {
  readonly s3: S3Client;
  readonly normalize: NormalizeFn;
}

/** The settings the function's environment must give; a missing one is named. */
export function normalizerSettings(env: NodeJS.ProcessEnv = process.env): {
  findingsBucket: string;
  lakeBucket: string;
  reserveMs?: number;
} {
  const missing = [NORMALIZER_ENV.findingsBucket, NORMALIZER_ENV.lakeBucket].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `the normalizer function has no ${missing.join(' or ')} in its environment: deploy the stack again (the analytics construct sets them)`,
    );
  }
  const reserve = env.NORMALIZER_RESERVE_MS;
  if (reserve !== undefined && !/^\d+$/.test(reserve)) {
    throw new Error(`NORMALIZER_RESERVE_MS must be whole milliseconds (got "${reserve}")`);
  }
  return {
    findingsBucket: env[NORMALIZER_ENV.findingsBucket]!,
    lakeBucket: env[NORMALIZER_ENV.lakeBucket]!,
    ...(reserve === undefined ? {} : { reserveMs: Number(reserve) }),
  };
}

let defaults: NormalizerClients | undefined;

/** The real clients, made on first use: the SDK's S3 client and the normalizer of src/core/findings. */
function defaultClients(): NormalizerClients {
  defaults ??= {
    s3: new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({}),
    normalize: normalizeObject,
  };
  return defaults;
}

/** The handler over the given clients (tests), or the default ones made on first use. */
export function handlerWith(
  clients: () => NormalizerClients = defaultClients,
  options: { env?: NodeJS.ProcessEnv; log?: Logger } = {},
): (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    const settings = normalizerSettings(options.env ?? process.env);
    const { s3, normalize } = clients();
    const deps: NormalizerBatchDeps = {
      findingsBucket: settings.findingsBucket,
      source: (bucket, key) => headSourceObject(s3, bucket, key),
      lake: s3LakeStore(s3, settings.lakeBucket),
      normalize,
      log: options.log ?? new Logger(),
      tmpDir: os.tmpdir(),
      ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
      ...(settings.reserveMs === undefined ? {} : { reserveMs: settings.reserveMs }),
    };
    return normalizeBatch(event, deps);
  };
}

export const handler = handlerWith();
