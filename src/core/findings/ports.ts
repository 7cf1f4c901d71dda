/**
 * What the normalizer needs from the world, passed in: where a source object's bytes come
 * from and where its outputs go. The Lambda passes S3 (src/handler/normalizer.ts), the CLI's
 * `normalize` passes the local filesystem (src/cli/normalize.ts); the logic in between
 * (src/core/findings/normalize.ts) is the same code.
 */
import type { Readable } from 'node:stream';
import type { TableName } from './tables';

/** One raw object Qualys delivered. */
export interface SourceObject {
  readonly bucket: string;
  readonly key: string;
  /** When the object was last written (the partition day of keys without a day folder). */
  readonly lastModified: Date;
  /** Bytes as stored (compressed when gzipped), when known. */
  readonly size?: number;
  /** The version that is read, when the store has them: the manifest records it, quarantine copies it. */
  readonly etag?: string;
  /** The S3 version id, when the bucket is versioned. */
  readonly versionId?: string;
  /** The object's bytes, as stored: gzip is detected by the reader, never assumed from the key. */
  open(): Promise<Readable>;
}

/** The lake the outputs go to: a bucket (Lambda) or a folder (CLI). Keys come from layout.ts. */
export interface LakeStore {
  /** Stores a finished local file under key (Parquet outputs are written to a temp file first). */
  putFile(key: string, filePath: string, contentType: string): Promise<void>;
  putText(key: string, body: string, contentType: string): Promise<void>;
  /** Copies the source object, as stored, to key (quarantine). */
  copySource(source: SourceObject, key: string): Promise<void>;
  /** The text at key, or undefined when there is none (manifests). */
  getText(key: string): Promise<string | undefined>;
  delete(keys: readonly string[]): Promise<void>;
}

export type NormalizeStatus = 'normalized' | 'quarantined' | 'skipped';

/** What normalizing one source object did. */
export interface NormalizeResult {
  readonly sourceKey: string;
  readonly table: TableName | undefined;
  readonly status: NormalizeStatus;
  /** Why it was quarantined or skipped. */
  readonly reason?: string;
  /** Top-level records read (hosts for PC, records for VM). */
  readonly recordsIn: number;
  /** Rows written. */
  readonly rowsOut: number;
  /** Uncompressed JSON bytes read. */
  readonly bytesIn: number;
  /** Parquet bytes written. */
  readonly bytesOut: number;
  /** Keys written in the lake. */
  readonly outputs: readonly string[];
}
