/**
 * Rows to a Parquet file on local disk, written incrementally with hyparquet-writer's
 * ParquetWriter: rows are buffered as columns and written out as a row group whenever the
 * buffer reaches a row count or an estimated byte size, whichever comes first, so memory is
 * bounded by one row group whatever the size of the source. The file goes to a temporary path;
 * the caller publishes it.
 *
 * Types come from the table's column kinds (tables.ts):
 *   string      BYTE_ARRAY UTF8                    (Athena string, DuckDB VARCHAR)
 *   bigint      INT64                              (bigint, BIGINT)
 *   int         INT32                              (int, INTEGER)
 *   timestamp   INT64 TIMESTAMP_MILLIS, UTC values (timestamp, TIMESTAMP)
 *   string_list 3-level LIST of UTF8               (array<string>, VARCHAR[])
 * all OPTIONAL. Timestamps carry the legacy converted type only, with no isAdjustedToUTC logical
 * type: DuckDB then reads a plain TIMESTAMP, as Athena's Glue `timestamp` is, so a query
 * comparing with a timestamp literal means the same in both engines.
 */
import * as fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { ColumnDef, ColumnKind, Row, TableName } from './tables';
import { TABLE_COLUMNS } from './tables';

// hyparquet-writer is an ES module: loaded once, on first use (the Lambda bundle inlines it).
type HyparquetWriter = typeof import('hyparquet-writer');
let writerModule: Promise<HyparquetWriter> | undefined;
const loadWriter = () => {
  writerModule ??= import('hyparquet-writer');
  return writerModule;
};

export type ParquetCodec = 'SNAPPY' | 'GZIP' | 'UNCOMPRESSED';

export interface ParquetOptions {
  /** Rows per row group at most. @default 100_000 */
  readonly rowGroupRows?: number;
  /**
   * Estimated bytes of buffered values per row group at most: the memory bound. Measured over
   * 1M postures (bench, normalizer section) with the heap flags of bench/normalizer.ts: 8 MiB
   * peaks at about 180 MB RSS at about 37 MB/s per core; 12 MiB and 32 MiB were no faster there
   * and peaked 100-200 MB higher.
   * @default 8 MiB
   */
  readonly rowGroupBytes?: number;
  /**
   * GZIP is node's native zlib: as fast end to end as the writer's pure-JS SNAPPY on posture data
   * and less than half its size (2.5% vs 5.8% of the JSON, so Athena scans, and bills, less).
   * Athena and DuckDB read it; hyparquet needs a GZIP decompressor passed in (`compressors`).
   * @default 'GZIP'
   */
  readonly codec?: ParquetCodec;
}

export const PARQUET_DEFAULTS = { rowGroupRows: 100_000, rowGroupBytes: 8 * 1024 * 1024, codec: 'GZIP' } as const;

// biome-ignore lint/suspicious/noExplicitAny: hyparquet's SchemaElement type, without importing hyparquet's types here
type SchemaElement = any;

function leafElement(name: string, kind: Exclude<ColumnKind, 'string_list'>): SchemaElement {
  switch (kind) {
    case 'string':
      return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
    case 'bigint':
      return { name, type: 'INT64', repetition_type: 'OPTIONAL' };
    case 'int':
      return { name, type: 'INT32', repetition_type: 'OPTIONAL' };
    case 'timestamp':
      return { name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' };
  }
}

/** The Parquet schema of a table: its columns, in order, from their kinds. */
export function parquetSchema(columns: readonly ColumnDef[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const { name, kind } of columns) {
    if (kind === 'string_list') {
      schema.push(
        { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      );
    } else schema.push(leafElement(name, kind));
  }
  return schema;
}

/** Estimated in-memory bytes of a value once buffered (strings count their length). */
function valueBytes(value: Row[string]): number {
  if (value === null) return 1;
  if (typeof value === 'string') return value.length + 16;
  if (Array.isArray(value)) {
    let total = 16;
    for (const item of value) total += item.length + 16;
    return total;
  }
  return 8;
}

/** Coerces a mapper's value to what the column's Parquet type takes (a mapper bug surfaces here, named). */
function coerce(value: Row[string] | undefined, kind: ColumnKind, column: string): Row[string] {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'bigint':
      if (typeof value === 'bigint' && value >= -(2n ** 63n) && value < 2n ** 63n) return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      break;
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      break;
    case 'timestamp':
      if (value instanceof Date) return value;
      break;
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'string_list':
      if (Array.isArray(value)) return value;
      break;
  }
  throw new TypeError(`column ${column} (${kind}) cannot hold ${typeof value} ${String(value).slice(0, 40)}`);
}

/**
 * Columns of long free text: min/max statistics on them help no query (nobody filters evidence by
 * range) and computing them is a tenth of the write time; the other columns keep them, so Athena
 * and DuckDB can skip row groups on host_id, posture, dates, ...
 */
const NO_STATISTICS = new Set([
  'evidence',
  'evidence_description',
  'expected_values',
  'actual_values',
  'remediation',
  'control_statement',
  'control_reference',
  'unparsed_values',
  'raw',
  'title',
]);

const compressors = {
  GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input, { level: 6 })),
};

/** Writes one table's rows to a Parquet file at filePath, one row group at a time. */
export class ParquetFileWriter {
  private readonly columns: readonly ColumnDef[];
  private buffers: Row[string][][];
  private bufferedRows = 0;
  private bufferedBytes = 0;
  private totalRows = 0;
  private readonly options: Required<ParquetOptions>;
  // biome-ignore lint/suspicious/noExplicitAny: hyparquet-writer's ParquetWriter, created on first flush
  private writer: any;
  private finished = false;

  constructor(
    readonly table: TableName,
    readonly filePath: string,
    options: ParquetOptions = {},
  ) {
    this.columns = TABLE_COLUMNS[table];
    // An option given as undefined keeps its default (a spread would put undefined over it).
    this.options = {
      rowGroupRows: options.rowGroupRows ?? PARQUET_DEFAULTS.rowGroupRows,
      rowGroupBytes: options.rowGroupBytes ?? PARQUET_DEFAULTS.rowGroupBytes,
      codec: options.codec ?? PARQUET_DEFAULTS.codec,
    };
    this.buffers = this.columns.map(() => []);
  }

  get rows(): number {
    return this.totalRows + this.bufferedRows;
  }

  /** Buffers a row; writes a row group when the buffer is full. */
  async add(row: Row): Promise<void> {
    const columns = this.columns;
    let bytes = 0;
    for (let c = 0; c < columns.length; c++) {
      const { name, kind } = columns[c];
      const value = coerce(row[name], kind, name);
      this.buffers[c].push(value);
      bytes += valueBytes(value);
    }
    this.bufferedRows++;
    this.bufferedBytes += bytes;
    if (this.bufferedRows >= this.options.rowGroupRows || this.bufferedBytes >= this.options.rowGroupBytes)
      await this.flush();
  }

  private async open(): Promise<void> {
    const { ParquetWriter, fileWriter } = await loadWriter();
    const file = fileWriter(this.filePath);
    this.writer = new ParquetWriter({
      writer: file,
      schema: parquetSchema(this.columns),
      codec: this.options.codec,
      compressors,
      createdBy: 'qualys-s3 normalizer (hyparquet-writer)',
    });
  }

  /** Writes the buffered rows as one row group. */
  private async flush(): Promise<void> {
    if (this.bufferedRows === 0) return;
    if (!this.writer) await this.open();
    const columnData = this.columns.map(({ name }, c) => ({
      name,
      data: this.buffers[c],
      statistics: !NO_STATISTICS.has(name),
    }));
    await this.writer.write({ columnData, rowGroupSize: this.bufferedRows });
    this.totalRows += this.bufferedRows;
    this.buffers = this.columns.map(() => []);
    this.bufferedRows = 0;
    this.bufferedBytes = 0;
  }

  /** Writes what is buffered and the footer; returns the rows and bytes of the file (0 rows: no file is written). */
  async finish(): Promise<{ rows: number; bytes: number }> {
    await this.flush();
    this.finished = true;
    if (!this.writer) return { rows: 0, bytes: 0 };
    await this.writer.finish();
    return { rows: this.totalRows, bytes: fs.statSync(this.filePath).size };
  }

  /** Drops what was written (a source that failed half way publishes nothing). */
  abort(): void {
    this.finished = true;
    this.buffers = [];
    fs.rmSync(this.filePath, { force: true });
  }

  get done(): boolean {
    return this.finished;
  }
}
