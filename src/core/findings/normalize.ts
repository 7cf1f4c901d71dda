/**
 * Normalizing one raw object: the same code runs in the Lambda (S3 store) and in the CLI's
 * `normalize` (local folder store).
 *
 *   source bytes -> records (records.ts) -> rows (pc-postures.ts / vm-findings.ts)
 *                -> Parquet in a temp file (parquet.ts) -> curated/<table>/day=<day>/<objectId>.parquet
 *
 * Idempotent per source object: the output key depends only on the bucket, the key and the
 * partition day, so a redelivery overwrites it; the manifest (manifests/<objectId>.json) lists what
 * the last good run published, and a re-run deletes what it no longer produces (e.g. the day
 * moved, or the file is now empty).
 *
 * A file that cannot be read publishes nothing of itself: the object is copied to
 * quarantine/<key> with quarantine/<key>.reason.json (what, where, how far it got, when).
 * A previous good output of the same key is KEPT, and the reason says so: the usual cause of a
 * re-read is a redelivery, and a read that fails on a redelivery of an object that once read
 * whole is more likely damage in transit than a new, broken version; the lake keeps the last
 * data it could read. A stream that ends before the object's stated size is not quarantined at
 * all: that is the connection, and the error is thrown for the caller to retry.
 *
 * Records that parse but do not map are never dropped silently: for vm_findings they are rows
 * (null fields, the record in `raw`); for pc_postures, which has no raw column, they are kept as
 * NDJSON in quarantine/<key>.unmapped.ndjson (one line per record: its index, byte offset, why,
 * and the value), and counted in the result.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { curatedKey, isValidationFile, manifestKey, objectId, partitionDay, quarantineKey, tableOfKey } from './layout';
import { type ParquetOptions, ParquetFileWriter } from './parquet';
import { mapHostRecord } from './pc-postures';
import type { LakeStore, NormalizeResult, SourceObject } from './ports';
import {
  type FileShape,
  gzipDecodedBytes,
  type JsonRecord,
  type ReadStats,
  RecordReadError,
  RecordReader,
} from './records';
import type { Row, TableName } from './tables';
import { isPlainObject } from './values';
import { mapVmRecord } from './vm-findings';

export interface NormalizeOptions {
  /** Where temporary Parquet files are written. @default os.tmpdir() */
  readonly tmpDir?: string;
  /**
   * The table for a key outside both raw prefixes (the CLI's lone file); such keys are skipped otherwise.
   * @default - the table of the key's raw prefix
   */
  readonly table?: TableName;
  readonly parquet?: ParquetOptions;
  /** @default 256 MiB (records.ts) */
  readonly maxRecordBytes?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** The contract's result, with what the reader saw. */
export interface NormalizeOutcome extends NormalizeResult {
  /** Records that parsed but did not map (kept: see the module comment). */
  readonly unmapped: number;
  /** Bytes as stored (compressed when gzipped). */
  readonly storedBytes: number;
  readonly gzip: boolean;
  readonly shape: FileShape | undefined;
  readonly largestRecordBytes: number;
  /** Where a quarantined source went, and its reason. */
  readonly quarantine?: { readonly key: string; readonly reasonKey: string };
}

/** What manifests/<objectId>.json holds. */
export interface Manifest {
  readonly version: 1;
  readonly bucket: string;
  readonly sourceKey: string;
  readonly objectId: string;
  /** The version of the source that was read: an older delivery never overwrites a newer one's outputs. */
  readonly source?: { readonly lastModified: string; readonly etag?: string };
  readonly outputs: readonly string[];
  readonly recordsIn: number;
  readonly rowsOut: number;
  readonly unmapped: number;
  readonly normalizedAt: string;
}

export const UNMAPPED_SUFFIX = '.unmapped.ndjson';
export const REASON_SUFFIX = '.reason.json';

/** The source ended before its stated size: the connection, not the file. Retry. */
export class SourceReadError extends Error {
  override readonly name = 'SourceReadError';
}

/** Why a source is quarantined: what went wrong, and where. */
interface Problem {
  readonly kind: string;
  readonly message: string;
  /** Byte offset in the uncompressed JSON. */
  readonly offset: number;
  readonly recordsRead: number;
}

/**
 * The Parquet writer refused a row. The mappers only produce values their columns hold, so this
 * is a bug, and the same on every retry: the source is quarantined with the reason (it would
 * otherwise fail every delivery of its message until the dead-letter queue).
 */
class UnwritableError extends Error {
  constructor(
    readonly cause: unknown,
    readonly record: JsonRecord | undefined,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
  problem(stats: ReadStats): Problem {
    const where = this.record ? `record ${this.record.index + 1} (byte ${this.record.offset})` : 'the last row group';
    return {
      kind: 'unwritable',
      message: `the Parquet writer refused a row of ${where}: ${this.message}`,
      offset: this.record?.offset ?? stats.jsonBytes,
      recordsRead: this.record?.index ?? stats.records,
    };
  }
}

/** The counts of a source that was not read (nothing in, nothing out), with its status and reason. */
export function unreadOutcome<S extends string>(
  sourceKey: string,
  table: TableName | undefined,
  status: S,
  reason: string,
): Omit<NormalizeOutcome, 'status'> & { readonly status: S } {
  return {
    sourceKey,
    table,
    status,
    reason,
    recordsIn: 0,
    rowsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    outputs: [],
    unmapped: 0,
    storedBytes: 0,
    gzip: false,
    shape: undefined,
    largestRecordBytes: 0,
  };
}

function skipped(source: SourceObject, table: TableName | undefined, reason: string): NormalizeOutcome {
  return unreadOutcome(source.key, table, 'skipped', reason);
}

/** Appends NDJSON lines to a temp file (unmapped PC records), opened on the first line. */
class NdjsonFile {
  private fd: number | undefined;
  lines = 0;
  constructor(readonly filePath: string) {}
  write(doc: unknown): void {
    this.fd ??= fs.openSync(this.filePath, 'w');
    fs.writeSync(this.fd, `${JSON.stringify(doc)}\n`);
    this.lines++;
  }
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
  remove(): void {
    this.close();
    fs.rmSync(this.filePath, { force: true });
  }
}

export async function normalizeObject(
  source: SourceObject,
  store: LakeStore,
  options: NormalizeOptions = {},
): Promise<NormalizeOutcome> {
  const key = source.key;
  const table = tableOfKey(key) ?? options.table;
  if (isValidationFile(key)) return skipped(source, table, 'a Qualys connection-validation file, not findings');
  if (!table)
    return skipped(source, undefined, 'outside the raw prefixes qualys_pc_posture_info/ and qualys_vm_findings/');

  const now = options.now ?? (() => new Date());
  const id = objectId(source.bucket, key);
  const day = partitionDay(key, source.lastModified);
  const outputKey = curatedKey(table, day, id);
  const tmpBase = path.join(options.tmpDir ?? os.tmpdir(), `qualys-${id}-${randomBytes(4).toString('hex')}`);
  const parquet = new ParquetFileWriter(table, `${tmpBase}.parquet`, options.parquet);
  const unmappedFile = new NdjsonFile(`${tmpBase}${UNMAPPED_SUFFIX}`);
  let unmapped = 0;

  const stream = await source.open();
  const reader = new RecordReader(stream, { maxRecordBytes: options.maxRecordBytes });
  /** The record being mapped: where a value the writer refuses came from. */
  let at: JsonRecord | undefined;
  const add = async (row: Row) => {
    try {
      await parquet.add(row);
    } catch (error) {
      throw new UnwritableError(error, at);
    }
  };
  let written: { rows: number; bytes: number };
  try {
    for await (const record of reader) {
      at = record;
      if (table === 'pc_postures') {
        const mapping = mapHostRecord(record.value, key, record.text);
        if (mapping.kind === 'unmapped') {
          unmapped++;
          unmappedFile.write({
            record: record.index,
            offset: record.offset,
            reason: mapping.reason,
            value: record.value,
          });
          continue;
        }
        for (const part of mapping.unmapped) {
          unmapped++;
          unmappedFile.write({
            record: record.index,
            offset: record.offset,
            path: part.path,
            reason: part.reason,
            value: part.value,
          });
        }
        for (const row of mapping.rows) await add(row);
      } else {
        if (!isPlainObject(record.value)) unmapped++;
        for (const row of mapVmRecord(record.value, key)) await add(row);
      }
    }
    at = undefined;
    const stats = reader.stats;
    // A stream that ends cleanly between two records before the stated size is a short read too.
    if (source.size !== undefined && stats.storedBytes < source.size)
      throw new SourceReadError(
        `${key}: the stream ended after ${stats.storedBytes} of its ${source.size} bytes; the connection dropped, retry`,
      );
    try {
      written = await parquet.finish();
    } catch (error) {
      throw new UnwritableError(error, undefined);
    }
  } catch (error) {
    parquet.abort();
    unmappedFile.remove();
    stream.destroy();
    const stats = reader.stats;
    if (error instanceof UnwritableError) return quarantine(source, table, store, error.problem(stats), reader, now());
    if (!(error instanceof RecordReadError)) throw error;
    if (
      (error.kind === 'truncated-gzip' || error.kind === 'truncated-json') &&
      source.size !== undefined &&
      stats.storedBytes < source.size
    ) {
      throw new SourceReadError(
        `${key}: the stream ended after ${stats.storedBytes} of its ${source.size} bytes; the connection dropped, retry`,
        { cause: error },
      );
    }
    if (error.kind === 'bad-gzip')
      return quarantine(source, table, store, await badGzip(source, error, stats), reader, now());
    return quarantine(source, table, store, error, reader, now());
  }
  unmappedFile.close();

  const stats = reader.stats;
  const unmappedKey = `${quarantineKey(key)}${UNMAPPED_SUFFIX}`;
  const outputs: string[] = [];
  if (written.rows > 0) outputs.push(outputKey);
  if (unmappedFile.lines > 0) outputs.push(unmappedKey);
  const version = { lastModified: source.lastModified.toISOString(), ...(source.etag ? { etag: source.etag } : {}) };
  const manifestOf = (listed: readonly string[]): Manifest => ({
    version: 1,
    bucket: source.bucket,
    sourceKey: key,
    objectId: id,
    source: version,
    outputs: listed,
    recordsIn: stats.records,
    rowsOut: written.rows,
    unmapped,
    normalizedAt: now().toISOString(),
  });
  const putManifest = (manifest: Manifest) =>
    store.putText(manifestKey(id), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
  try {
    // Overlapping deliveries of one key: a newer version's outputs are never overwritten by an older read.
    const previous = await readManifest(store, id);
    const newer = previous?.source ? Date.parse(previous.source.lastModified) : Number.NaN;
    if (newer > source.lastModified.getTime())
      return {
        ...skipped(
          source,
          table,
          `superseded: a newer version of the object (LastModified ${previous?.source?.lastModified}) is normalized already`,
        ),
        recordsIn: stats.records,
        bytesIn: stats.jsonBytes,
        storedBytes: stats.storedBytes,
        gzip: stats.gzip,
        shape: stats.shape,
        largestRecordBytes: stats.largestRecordBytes,
      };
    // A retry must still find every output ever published: when this run publishes a key the
    // manifest does not list, the manifest lists both first; it lists only this run's once the
    // stale outputs are deleted.
    const listed = new Set(previous?.outputs ?? []);
    if (outputs.some((output) => !listed.has(output)))
      await putManifest(manifestOf([...new Set([...listed, ...outputs])]));
    if (written.rows > 0) await store.putFile(outputKey, parquet.filePath, 'application/vnd.apache.parquet');
    if (unmappedFile.lines > 0) await store.putFile(unmappedKey, unmappedFile.filePath, 'application/x-ndjson');
    const stale = listed;
    // A quarantine of an earlier failed read is stale once the object reads whole.
    stale.add(quarantineKey(key));
    stale.add(`${quarantineKey(key)}${REASON_SUFFIX}`);
    stale.add(unmappedKey);
    for (const output of outputs) stale.delete(output);
    await store.delete([...stale]);
    await putManifest(manifestOf(outputs));
  } finally {
    fs.rmSync(parquet.filePath, { force: true });
    unmappedFile.remove();
  }

  return {
    sourceKey: key,
    table,
    status: 'normalized',
    recordsIn: stats.records,
    rowsOut: written.rows,
    bytesIn: stats.jsonBytes,
    bytesOut: written.rows > 0 ? written.bytes : 0,
    outputs,
    unmapped,
    storedBytes: stats.storedBytes,
    gzip: stats.gzip,
    shape: stats.shape,
    largestRecordBytes: stats.largestRecordBytes,
  };
}

/**
 * A gzip that goes bad (trailing bytes after the last member, a corrupt block): how much JSON it
 * decoded to first, read again (the reader's count misses the output of zlib's failing call, for
 * a small file all of it). When the source cannot be read again, the reader's count, as such.
 */
async function badGzip(source: SourceObject, error: RecordReadError, stats: ReadStats): Promise<Problem> {
  let decoded: { jsonBytes: number; goodBytes: number };
  try {
    decoded = await gzipDecodedBytes(await source.open(), stats.gzipGoodBytes ?? 0);
  } catch {
    return error;
  }
  const cause = (error.cause as Error | undefined)?.message ?? error.message;
  return {
    kind: error.kind,
    message: `the gzip data goes bad at about stored byte ${decoded.goodBytes} of ${source.size ?? stats.storedBytes} (trailing bytes after the last member, or a corrupt block), after ${decoded.jsonBytes} bytes of JSON decoded and ${stats.records} records read: ${cause}`,
    offset: decoded.jsonBytes,
    recordsRead: stats.records,
  };
}

async function readManifest(store: LakeStore, id: string): Promise<Manifest | undefined> {
  const text = await store.getText(manifestKey(id));
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text) as Manifest;
    return Array.isArray(doc.outputs) ? doc : undefined;
  } catch {
    // A manifest that does not parse lists nothing we can trust to delete.
    return undefined;
  }
}

async function quarantine(
  source: SourceObject,
  table: TableName,
  store: LakeStore,
  error: Problem,
  reader: RecordReader,
  when: Date,
): Promise<NormalizeOutcome> {
  const key = quarantineKey(source.key);
  const reasonKey = `${key}${REASON_SUFFIX}`;
  const previous = await readManifest(store, objectId(source.bucket, source.key));
  const stats = reader.stats;
  await store.copySource(source, key);
  const reason = {
    sourceKey: source.key,
    bucket: source.bucket,
    reason: error.kind,
    message: error.message,
    byteOffset: error.offset,
    recordsRead: error.recordsRead,
    storedBytesRead: stats.storedBytes,
    jsonBytesRead: stats.jsonBytes,
    gzip: stats.gzip,
    when: when.toISOString(),
    previousOutputsKept: previous?.outputs.filter((output) => !output.startsWith(key)) ?? [],
    fix: 'nothing of this object was published; when a good copy is in place under the same key, normalize it again (qualys-s3 backfill, or qualys-s3 normalize locally)',
  };
  await store.putText(reasonKey, `${JSON.stringify(reason, null, 2)}\n`, 'application/json');
  return {
    sourceKey: source.key,
    table,
    status: 'quarantined',
    reason: error.message,
    recordsIn: stats.records,
    rowsOut: 0,
    bytesIn: stats.jsonBytes,
    bytesOut: 0,
    outputs: [key, reasonKey],
    unmapped: 0,
    storedBytes: stats.storedBytes,
    gzip: stats.gzip,
    shape: stats.shape,
    largestRecordBytes: stats.largestRecordBytes,
    quarantine: { key, reasonKey },
  };
}
