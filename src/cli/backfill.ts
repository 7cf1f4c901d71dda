/**
 * `qualys-s3 backfill <env>`: normalizes, on request, the raw objects that landed before
 * analytics was enabled (or that a bad day sent to the dead-letter queue). It lists both raw
 * prefixes in the stack's findings bucket and sends one message per object to the
 * normalizer's queue, in the shape S3's own notifications have (s3-event.ts), so the Lambda
 * reads one kind of message. The normalizer is idempotent per object: backfilling an object
 * already normalized rewrites the same outputs, it never duplicates rows.
 *
 * The bucket and the queue come from the deployed stack's outputs (BucketName, AnalyticsQueueUrl).
 * Nothing else is changed: the objects are only listed, never read.
 *
 * Objects a lifecycle rule moved to GLACIER or DEEP_ARCHIVE (bucket.transitionStorageClass) are
 * not queued until they are restored: GetObject fails on them (InvalidObjectState), so each
 * message would fail in the normalizer until the dead-letter queue took it. They are counted
 * and named instead. GLACIER_IR and INTELLIGENT_TIERING (its automatic tiers) read as usual.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { isValidationFile, partitionDay, RAW_PREFIXES } from '../core/findings/layout';
import { BACKFILL_EVENT_NAME, s3EventBody } from '../core/findings/s3-event';
import { stackName } from '../config/rules';
import { type Clock, systemClock, withRetries } from '../core/retry';
import type { CommandContext } from './context';

export interface BackfillOptions {
  /** First partition day (YYYY-MM-DD) to queue, inclusive. @default - the oldest */
  readonly from?: string;
  /** Last partition day (YYYY-MM-DD) to queue, inclusive. @default - the newest */
  readonly to?: string;
  /** Count only; send nothing. */
  readonly dryRun: boolean;
}

/** One object as ListObjectsV2 lists it. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: number;
  /** @default 'STANDARD' */
  readonly storageClass?: string;
  /** Of an archived object: a restored copy can be read now (a restore finished and has not expired). @default false */
  readonly restored?: boolean;
}

/** What the backfill needs from AWS beyond the stack: listing and sending. */
export interface BackfillAws {
  /** Every object under the prefix, page by page (ListObjectsV2), as they come. */
  objects(bucket: string, prefix: string): AsyncIterable<ListedObject>;
  /** One SendMessageBatch; the entries SQS did not take, with why. */
  sendBatch(queueUrl: string, entries: ReadonlyArray<{ id: string; body: string }>): Promise<readonly SendFailure[]>;
}

/** An entry SQS did not take, and why. */
export interface SendFailure {
  readonly id: string;
  readonly code: string;
  readonly message: string;
  /** SQS's SenderFault: the entry itself is wrong, and sending it again would not help. */
  readonly senderFault: boolean;
}

/** The storage classes GetObject refuses until the object is restored. */
export const ARCHIVE_STORAGE_CLASSES: readonly string[] = ['GLACIER', 'DEEP_ARCHIVE'];

/** Whether GetObject would fail on the object now: archived and not restored. */
export function needsRestore(o: Pick<ListedObject, 'storageClass' | 'restored'>): boolean {
  return ARCHIVE_STORAGE_CLASSES.includes(o.storageClass ?? 'STANDARD') && !o.restored;
}

/** How many archived keys a report names (the count says the rest). */
export const ARCHIVED_KEYS_NAMED = 5;

export interface ArchivedCount {
  /** Objects in the day range that need a restore first: not queued. */
  readonly objects: number;
  readonly bytes: number;
  /** Per storage class (GLACIER, DEEP_ARCHIVE). */
  readonly byStorageClass: Readonly<Record<string, number>>;
  /** The first few of their keys, as listed. */
  readonly keys: readonly string[];
}

export interface PrefixCount {
  readonly prefix: string;
  /** Raw objects found in the day range (validation files left out), archived ones included. */
  readonly objects: number;
  readonly bytes: number;
  /** Messages SQS accepted (0 under --dry-run). */
  readonly queued: number;
  /** Of `objects`, those in GLACIER or DEEP_ARCHIVE and not restored: not queued. */
  readonly archived: ArchivedCount;
  /** false when the backfill stopped while listing or sending this prefix: the counts are what it got to. */
  readonly complete: boolean;
}

export interface BackfillReport {
  readonly ok: boolean;
  /** 0 done, 1 something could not be queued or read, as EXIT in main.ts. */
  readonly exitCode: 0 | 1;
  readonly dryRun: boolean;
  readonly from?: string;
  readonly to?: string;
  readonly bucket?: string;
  readonly queueUrl?: string;
  readonly prefixes: readonly PrefixCount[];
  /** What went wrong and what to do, when not ok. */
  readonly error?: { readonly message: string; readonly remedy: string };
}

/** SQS takes at most 10 entries per SendMessageBatch. */
export const BATCH_SIZE = 10;
/** Batches in flight at once: a million objects is a hundred thousand batches. */
const IN_FLIGHT = 8;
/** Entries SQS failed on its side (SenderFault false): sent up to 3 times in all, with backoff. */
const RESENDS = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000 } as const;

export async function backfill(
  ctx: CommandContext,
  options: BackfillOptions,
  aws: BackfillAws | undefined = ctx.region ? sdkBackfillAws(ctx.region) : undefined,
): Promise<BackfillReport> {
  const base = { dryRun: options.dryRun, from: options.from, to: options.to, prefixes: [] as PrefixCount[] };
  const failed = (message: string, remedy: string, more: Partial<BackfillReport> = {}): BackfillReport => ({
    ...base,
    ...more,
    ok: false,
    exitCode: 1,
    error: { message, remedy },
  });
  if (!ctx.aws || !aws) {
    return failed('no AWS region', 'set "region" for this environment, or AWS_REGION / a profile region');
  }
  const name = stackName(ctx.env.envName);
  ctx.progress(`reading stack ${name} ...`);
  const stack = await ctx.aws.stack(name);
  if (!stack) return failed(`no stack ${name} in ${ctx.aws.region}`, `deploy it: npx cdk deploy ${name}`);
  const bucket = stack.outputs.BucketName;
  const queueUrl = stack.outputs.AnalyticsQueueUrl;
  if (!bucket)
    return failed(`the stack ${name} has no BucketName output`, `deploy the current version: npx cdk deploy ${name}`);
  if (!queueUrl) {
    return failed(
      `analytics is not deployed for "${ctx.env.envName}": the stack ${name} has no AnalyticsQueueUrl output`,
      `set analytics: { enabled: true } for this environment and deploy: npx cdk deploy ${name}`,
      { bucket },
    );
  }

  const inRange = (day: string) => (!options.from || day >= options.from) && (!options.to || day <= options.to);
  const prefixes: PrefixCount[] = [];
  const sender = new BatchSender(aws, queueUrl);
  // The prefix being worked on, so that a stop partway through still reports what it queued.
  let current: PrefixTally | undefined;
  const countOf = (tally: PrefixTally, complete: boolean): PrefixCount => ({
    prefix: tally.prefix,
    objects: tally.objects,
    bytes: tally.bytes,
    queued: sender.queued - tally.queuedBefore,
    archived: tally.archived,
    complete,
  });
  try {
    for (const prefix of Object.values(RAW_PREFIXES)) {
      const tally = newTally(prefix, sender.queued);
      current = tally;
      let pending: ListedObject[] = [];
      for await (const o of aws.objects(bucket, prefix)) {
        if (isValidationFile(o.key) || !inRange(partitionDay(o.key, new Date(o.lastModified)))) continue;
        tally.objects++;
        tally.bytes += o.size;
        if (needsRestore(o)) {
          countArchived(tally.archived, o);
          continue;
        }
        if (options.dryRun) continue;
        pending.push(o);
        if (pending.length === BATCH_SIZE) {
          await sender.send(
            pending.map((p) => ({ ...p, bucket })),
            ctx.region!,
          );
          pending = [];
          ctx.progress(`${prefix}: ${sender.queued - tally.queuedBefore} queued ...`);
        }
      }
      if (pending.length)
        await sender.send(
          pending.map((p) => ({ ...p, bucket })),
          ctx.region!,
        );
      await sender.drain();
      prefixes.push(countOf(tally, true));
      current = undefined;
    }
  } catch (error) {
    await sender.drain().catch(() => {});
    if (current) prefixes.push(countOf(current, false));
    return failed(
      `backfill stopped: ${(error as Error).message}`,
      'fix the cause and run backfill again (objects queued twice are normalized twice, to the same outputs)',
      { bucket, queueUrl, prefixes },
    );
  }
  if (sender.failures.length > 0) {
    const first = sender.failures[0];
    return failed(
      `${sender.failures.length} object(s) could not be queued; first: ${first.key}: ${first.code} ${first.message}`,
      'run backfill again (with --from/--to to narrow it); objects queued twice are normalized twice, to the same outputs',
      { bucket, queueUrl, prefixes },
    );
  }
  return { ...base, ok: true, exitCode: 0, bucket, queueUrl, prefixes };
}

interface PrefixTally {
  readonly prefix: string;
  objects: number;
  bytes: number;
  /** The sender's count when this prefix began. */
  readonly queuedBefore: number;
  readonly archived: { objects: number; bytes: number; byStorageClass: Record<string, number>; keys: string[] };
}

function newTally(prefix: string, queuedBefore: number): PrefixTally {
  return {
    prefix,
    objects: 0,
    bytes: 0,
    queuedBefore,
    archived: { objects: 0, bytes: 0, byStorageClass: {}, keys: [] },
  };
}

function countArchived(archived: PrefixTally['archived'], o: ListedObject): void {
  const storageClass = o.storageClass ?? 'STANDARD';
  archived.objects++;
  archived.bytes += o.size;
  archived.byStorageClass[storageClass] = (archived.byStorageClass[storageClass] ?? 0) + 1;
  if (archived.keys.length < ARCHIVED_KEYS_NAMED) archived.keys.push(o.key);
}

/** SendMessageBatch calls, a few in flight, failed entries sent again when SQS says it was its fault. */
class BatchSender {
  queued = 0;
  readonly failures: Array<{ key: string; code: string; message: string }> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private error: unknown;

  constructor(
    private readonly aws: BackfillAws,
    private readonly queueUrl: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async send(
    objects: ReadonlyArray<{ bucket: string; key: string; size: number; lastModified: number }>,
    region: string,
  ) {
    if (this.error) throw this.error;
    while (this.inFlight.size >= IN_FLIGHT) await Promise.race(this.inFlight);
    if (this.error) throw this.error;
    const entries = objects.map((o, i) => ({
      id: `o${i}`,
      key: o.key,
      body: s3EventBody([{ bucket: o.bucket, key: o.key, size: o.size }], {
        eventName: BACKFILL_EVENT_NAME,
        eventTime: new Date(o.lastModified),
        region,
      }),
    }));
    const call = this.sendWithResends(entries)
      .catch((error) => {
        this.error ??= error;
      })
      .finally(() => this.inFlight.delete(call));
    this.inFlight.add(call);
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    if (this.error) throw this.error;
  }

  /**
   * One batch, and its entries SQS failed on its side sent again with backoff (the one retry
   * helper; a sender's fault is final at once). What still fails is reported by key.
   */
  private async sendWithResends(entries: Array<{ id: string; key: string; body: string }>): Promise<void> {
    let left = entries;
    const report = (failed: readonly SendFailure[]) => {
      for (const f of failed)
        this.failures.push({ key: entries.find((e) => e.id === f.id)?.key ?? f.id, code: f.code, message: f.message });
    };
    try {
      await withRetries(
        { ...RESENDS, clock: this.clock, isRetryable: (error) => error instanceof EntriesToResend },
        async () => {
          const failed = await this.aws.sendBatch(this.queueUrl, left);
          this.queued += left.length - failed.length;
          report(failed.filter((f) => f.senderFault));
          const again = failed.filter((f) => !f.senderFault);
          left = left.filter((e) => again.some((f) => f.id === e.id));
          if (again.length > 0) throw new EntriesToResend(again);
        },
      );
    } catch (error) {
      if (!(error instanceof EntriesToResend)) throw error;
      report(error.failed);
    }
  }
}

/** Entries of a batch that SQS failed on its side: sent again. */
class EntriesToResend extends Error {
  constructor(readonly failed: readonly SendFailure[]) {
    super(`${failed.length} entries failed on SQS's side`);
  }
}

/** The listing and the sends over the SDK, with the user's credentials (the standard chain). */
export function sdkBackfillAws(region: string): BackfillAws {
  let s3: S3Client | undefined;
  let sqs: SQSClient | undefined;
  const options = { region, maxAttempts: 4 };
  return {
    async *objects(bucket, prefix) {
      const { S3Client: Client, ListObjectsV2Command } =
        require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      s3 ??= new Client(options);
      let token: string | undefined;
      do {
        const out = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ContinuationToken: token,
            // So that an archived object already restored is queued, not counted as archived again.
            OptionalObjectAttributes: ['RestoreStatus'],
          }),
          { abortSignal: AbortSignal.timeout(20_000) },
        );
        const now = Date.now();
        for (const o of out.Contents ?? []) {
          if (!o.Key) continue;
          const restore = o.RestoreStatus;
          yield {
            key: o.Key,
            size: o.Size ?? 0,
            lastModified: o.LastModified?.getTime() ?? 0,
            storageClass: o.StorageClass,
            restored:
              restore?.IsRestoreInProgress === false &&
              restore.RestoreExpiryDate !== undefined &&
              restore.RestoreExpiryDate.getTime() > now,
          };
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    },
    async sendBatch(queueUrl, entries) {
      const { SQSClient: Client, SendMessageBatchCommand } =
        require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
      sqs ??= new Client(options);
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries.map((e) => ({ Id: e.id, MessageBody: e.body })),
        }),
        { abortSignal: AbortSignal.timeout(20_000) },
      );
      return (out.Failed ?? []).map((f) => ({
        id: f.Id ?? '',
        code: f.Code ?? 'Unknown',
        message: f.Message ?? '',
        senderFault: f.SenderFault ?? false,
      }));
    },
  };
}

/** The report for a person. */
export function formatBackfill(report: BackfillReport): string {
  const lines: string[] = [];
  const range = report.from || report.to ? ` (days ${report.from ?? 'first'} to ${report.to ?? 'last'})` : '';
  if (report.bucket) lines.push(`  raw objects in s3://${report.bucket}${range}`);
  for (const p of report.prefixes) {
    const queueable = p.objects - p.archived.objects;
    const what = report.dryRun ? `${queueable} objects would be queued` : `${p.queued} of ${p.objects} objects queued`;
    const stopped = p.complete ? '' : ' when it stopped';
    lines.push(`    ${p.prefix.padEnd(26)} ${what}${stopped} (${formatBytes(p.bytes)})`);
    if (p.archived.objects > 0) lines.push(...formatArchived(p.archived));
  }
  if (report.error) {
    lines.push(`  ✖ ${report.error.message}`, `    → ${report.error.remedy}`);
  } else {
    const archived = report.prefixes.reduce((n, p) => n + p.archived.objects, 0);
    const objects = report.prefixes.reduce((n, p) => n + p.objects, 0) - archived;
    const queued = report.prefixes.reduce((n, p) => n + p.queued, 0);
    const notQueued = archived > 0 ? `; ${archived} archived objects not queued (restore them first, as above)` : '';
    lines.push(
      report.dryRun
        ? `  dry run: ${objects} objects would be sent to ${report.queueUrl}; nothing was sent${notQueued}`
        : `  ✔ ${queued} objects queued to ${report.queueUrl}; the normalizer works through them (the queue's metrics show its progress)${notQueued}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Archived objects: how many, in which classes, the first keys, and what to do. */
function formatArchived(archived: ArchivedCount): string[] {
  const classes = Object.entries(archived.byStorageClass)
    .map(([storageClass, n]) => `${n} ${storageClass}`)
    .join(', ');
  const more = archived.objects - archived.keys.length;
  return [
    `      ⚠ ${archived.objects} archived (${classes}; ${formatBytes(archived.bytes)}) not queued: they need a restore first`,
    ...archived.keys.map((key) => `        ${key}`),
    ...(more > 0 ? [`        ... and ${more} more`] : []),
    '        → restore them (aws s3api restore-object, or S3 Batch Operations for many), then run backfill again for their days',
  ];
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
