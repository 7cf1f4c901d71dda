/**
 * The top-level JSON records of a raw object, read as a stream: gzip is detected from the
 * magic bytes (never from the key), and the shape of the file from its first byte:
 *
 *   {...}                    one object
 *   [{...}, {...}]           an array: each element is a record
 *   {...}\n{...}\n           NDJSON
 *   {...}{...} / {...} {...} concatenated objects, with or without whitespace between them
 *
 * (and any sequence of these, e.g. two arrays one after the other), after an optional BOM.
 *
 * A byte-level scanner finds where each record ends (it tracks depth, strings and escapes
 * across chunk boundaries) and hands that slice to JSON.parse. Measured against stream-json
 * 3.8.0 (bench/run.ts, the normalizer section), it is several times faster, and it holds at
 * most one record plus one chunk: a record that spans chunks is kept as the chunks' slices
 * until it ends.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

export type RecordErrorKind =
  | 'truncated-gzip'
  | 'bad-gzip'
  | 'truncated-json'
  | 'invalid-json'
  | 'garbage'
  | 'not-an-object'
  | 'record-too-large';

/** Why a file cannot be read, and where: the byte offset (in the uncompressed JSON) and the records read before it. */
export class RecordReadError extends Error {
  override readonly name = 'RecordReadError';
  constructor(
    readonly kind: RecordErrorKind,
    message: string,
    /** Byte offset in the uncompressed JSON. */
    readonly offset: number,
    /** Records read whole before the problem. */
    readonly recordsRead: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface JsonRecord {
  /** The parsed value: an object for well-formed files; an array element may be anything. */
  readonly value: unknown;
  /** 0-based, in file order. */
  readonly index: number;
  /** Byte offset of the record's first byte in the uncompressed JSON. */
  readonly offset: number;
  /** The record's size in bytes. */
  readonly bytes: number;
  /** The record's JSON text, as read (for values JSON.parse cannot hold exactly, e.g. integers beyond 2^53). */
  readonly text: string;
}

export type FileShape = 'empty' | 'object' | 'array' | 'ndjson' | 'concatenated';

/** What the reader saw, filled in as it reads. */
export interface ReadStats {
  gzip: boolean;
  shape: FileShape;
  /** Bytes as stored (compressed when gzipped). */
  storedBytes: number;
  /** Uncompressed JSON bytes. */
  jsonBytes: number;
  records: number;
  largestRecordBytes: number;
  /** The most bytes of a record the reader held at once across chunks (the memory bound's evidence). */
  maxCarriedBytes: number;
  /** Stored bytes gunzip consumed without error (where the gzip data went bad, for a reason). */
  gzipGoodBytes?: number;
}

export interface ReadOptions {
  /** A record larger than this is refused (a guard against a file that is one unbalanced brace). @default 256 MiB */
  readonly maxRecordBytes?: number;
}

const DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

const isSpace = (c: number) => c === SPACE || c === LF || c === CR || c === TAB;

/** Between top-level values / inside a top-level array (before an element, after one) / inside a record. */
enum Mode {
  Top,
  ArrayBeforeElement,
  ArrayAfterElement,
  Container,
  String,
  Scalar,
}

/** Reads the records of a byte stream (a Node Readable or any async iterable of chunks). */
export class RecordReader implements AsyncIterable<JsonRecord> {
  readonly stats: ReadStats = {
    gzip: false,
    shape: 'empty',
    storedBytes: 0,
    jsonBytes: 0,
    records: 0,
    largestRecordBytes: 0,
    maxCarriedBytes: 0,
  };
  private readonly maxRecordBytes: number;

  // Scanner state, kept across chunks.
  private mode = Mode.Top;
  private depth = 0;
  private inEscape = false;
  /** Inside a top-level array: the mode a record returns to is ArrayAfterElement, else Top. */
  private inArray = false;
  /** Absolute offset of the current record's first byte. */
  private recordStart = 0;
  /** Slices of the current record from earlier chunks. */
  private carried: Buffer[] = [];
  private carriedBytes = 0;
  /** Absolute offset of the current chunk's first byte. */
  private consumed = 0;
  private topValues = 0;
  private newlineBetweenTopValues = true;
  private sawNewline = false;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    options: ReadOptions = {},
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<JsonRecord> {
    for await (const chunk of this.jsonChunks()) {
      const records = this.scan(chunk);
      for (const record of records) yield record;
    }
    this.end();
  }

  /** The uncompressed bytes: gunzipped when the stream starts with 1f 8b (one gzip member or several), without a BOM. */
  private async *jsonChunks(): AsyncGenerator<Buffer> {
    const stats = this.stats;
    const input = this.source[Symbol.asyncIterator]();
    const countedRest = async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        const next = await input.next();
        if (next.done) return;
        stats.storedBytes += next.value.byteLength;
        yield toBuffer(next.value);
      }
    };
    // Peek until three bytes are known (the BOM; a first chunk of one byte is legal).
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 3) {
      const next = await input.next();
      if (next.done) break;
      stats.storedBytes += next.value.byteLength;
      head = head.length ? Buffer.concat([head, toBuffer(next.value)]) : toBuffer(next.value);
    }
    stats.gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    let raw: AsyncIterable<Buffer>;
    if (stats.gzip) {
      const gunzip = createGunzip({ chunkSize: 64 * 1024 });
      gunzip.once('error', () => {
        stats.gzipGoodBytes = gunzip.bytesWritten;
      });
      // Node's stream machinery gives the backpressure: gunzip produces only as fast as it is read.
      pipeline(
        Readable.from(
          (async function* () {
            yield head;
            yield* countedRest();
          })(),
        ),
        gunzip,
      ).catch(() => {
        // The same error surfaces in the iteration of gunzip below.
      });
      raw = gunzip;
    } else {
      raw = (async function* () {
        if (head.length) yield head;
        yield* countedRest();
      })();
    }
    // The BOM check needs the first three bytes together; tiny gzip outputs may split them.
    let start: Buffer | undefined = Buffer.alloc(0);
    const withoutBom = (buf: Buffer): Buffer => {
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        this.consumed = 3;
        stats.jsonBytes = 3;
        return buf.subarray(3);
      }
      return buf;
    };
    try {
      for await (const chunk of raw) {
        if (start === undefined) {
          yield chunk as Buffer;
          continue;
        }
        start = Buffer.concat([start, chunk as Buffer]);
        if (start.length < 3) continue;
        const first = withoutBom(start);
        start = undefined;
        yield first;
      }
      if (start?.length) yield withoutBom(start);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (stats.gzip && typeof code === 'string' && code.startsWith('Z_')) {
        const truncated = code === 'Z_BUF_ERROR' || /unexpected end of file/i.test((error as Error).message);
        throw new RecordReadError(
          truncated ? 'truncated-gzip' : 'bad-gzip',
          truncated
            ? `the gzip stream ends early after ${stats.storedBytes} stored bytes (${this.consumed} bytes of JSON): the object is truncated`
            : `the gzip stream is corrupt after ${stats.storedBytes} stored bytes (${this.consumed} bytes of JSON): ${(error as Error).message}`,
          this.consumed,
          stats.records,
          { cause: error },
        );
      }
      // Anything else is the source's own failure (a dropped connection): the caller's to retry.
      throw error;
    }
  }

  private fail(kind: RecordErrorKind, message: string, offset: number): never {
    throw new RecordReadError(kind, message, offset, this.stats.records);
  }

  /** Scans one chunk; returns the records that ended in it. */
  private scan(buf: Buffer): JsonRecord[] {
    const records: JsonRecord[] = [];
    let i = 0;
    const n = buf.length;
    /** Where the current record starts in this chunk (0 when it began in an earlier chunk). */
    let start = 0;
    let mode = this.mode;
    let depth = this.depth;
    let escaped = this.inEscape;

    const emit = (endExclusive: number) => {
      const absoluteEnd = this.consumed + endExclusive;
      const bytes = absoluteEnd - this.recordStart;
      let text: string;
      if (this.carried.length) {
        this.carried.push(buf.subarray(0, endExclusive));
        text = Buffer.concat(this.carried, bytes).toString('utf8');
        this.carried = [];
        this.carriedBytes = 0;
      } else text = buf.toString('utf8', start, endExclusive);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        this.fail(
          'invalid-json',
          `record ${this.stats.records + 1} (bytes ${this.recordStart}-${absoluteEnd}) is not valid JSON: ${(error as Error).message}`,
          this.recordStart,
        );
      }
      records.push({ value, index: this.stats.records, offset: this.recordStart, bytes, text });
      this.stats.records++;
      if (bytes > this.stats.largestRecordBytes) this.stats.largestRecordBytes = bytes;
      mode = this.inArray ? Mode.ArrayAfterElement : Mode.Top;
    };
    const begin = (at: number, next: Mode) => {
      start = at;
      this.recordStart = this.consumed + at;
      mode = next;
    };

    while (i < n) {
      switch (mode) {
        case Mode.Container: {
          // The hot loop: most bytes of a file are inside a record.
          for (; i < n; i++) {
            const c = buf[i];
            if (c === QUOTE) {
              const q = closingQuote(buf, i + 1, n);
              if (q === -1) {
                escaped = trailingEscape;
                i = n;
                mode = Mode.String;
                break;
              }
              i = q;
            } else if (c === LBRACE || c === LBRACKET) depth++;
            else if (c === RBRACE || c === RBRACKET) {
              if (--depth === 0) {
                i++;
                emit(i);
                break;
              }
            }
          }
          break;
        }
        case Mode.String: {
          // Resumed inside a string of a container (depth > 0) or a top-level string element (depth 0).
          if (escaped) {
            escaped = false;
            i++;
            if (i >= n) break;
          }
          const q = closingQuote(buf, i, n);
          if (q === -1) {
            escaped = trailingEscape;
            i = n;
            break;
          }
          i = q + 1;
          if (depth === 0) emit(i);
          else mode = Mode.Container;
          break;
        }
        case Mode.Scalar: {
          // A number or literal element of an array: it ends at a delimiter.
          for (; i < n; i++) {
            const c = buf[i];
            if (c === COMMA || c === RBRACKET || isSpace(c)) break;
          }
          if (i < n) emit(i);
          break;
        }
        case Mode.Top: {
          const c = buf[i];
          if (isSpace(c)) {
            if (c === LF) this.sawNewline = true;
            i++;
          } else if (c === LBRACE) {
            this.noteTopValue(false);
            depth = 1;
            begin(i, Mode.Container);
            i++;
          } else if (c === LBRACKET) {
            this.noteTopValue(true);
            this.inArray = true;
            mode = Mode.ArrayBeforeElement;
            i++;
          } else {
            const what = describeStart(c);
            if (what)
              this.fail(
                'not-an-object',
                `the top-level value at byte ${this.consumed + i} is ${what}, not an object or an array of objects`,
                this.consumed + i,
              );
            this.fail(
              'garbage',
              `unexpected ${describeByte(buf, i)} at byte ${this.consumed + i} ${this.stats.records ? `after record ${this.stats.records}` : 'before the first record'}: expected "{" or "["`,
              this.consumed + i,
            );
          }
          break;
        }
        case Mode.ArrayBeforeElement:
        case Mode.ArrayAfterElement: {
          const c = buf[i];
          if (isSpace(c)) {
            i++;
          } else if (c === RBRACKET) {
            this.inArray = false;
            this.sawNewline = false;
            mode = Mode.Top;
            i++;
          } else if (mode === Mode.ArrayAfterElement) {
            if (c !== COMMA)
              this.fail(
                'garbage',
                `unexpected ${describeByte(buf, i)} at byte ${this.consumed + i} after record ${this.stats.records}: expected "," or "]" in the array`,
                this.consumed + i,
              );
            mode = Mode.ArrayBeforeElement;
            i++;
          } else if (c === LBRACE || c === LBRACKET) {
            depth = 1;
            begin(i, Mode.Container);
            i++;
          } else if (c === QUOTE) {
            depth = 0;
            begin(i, Mode.String);
            i++;
          } else if (c === COMMA) {
            this.fail(
              'garbage',
              `unexpected "," at byte ${this.consumed + i}: an array element is missing`,
              this.consumed + i,
            );
          } else {
            begin(i, Mode.Scalar);
          }
          break;
        }
      }
    }

    // The chunk is done: keep the part of an unfinished record.
    if (mode === Mode.Container || mode === Mode.String || mode === Mode.Scalar) {
      const piece = buf.subarray(start, n);
      this.carried.push(piece);
      this.carriedBytes += piece.length;
      if (this.carriedBytes > this.stats.maxCarriedBytes) this.stats.maxCarriedBytes = this.carriedBytes;
      if (this.carriedBytes > this.maxRecordBytes)
        this.fail(
          'record-too-large',
          `record ${this.stats.records + 1} starting at byte ${this.recordStart} is larger than ${this.maxRecordBytes} bytes and has not ended: refusing to hold it in memory`,
          this.recordStart,
        );
    }
    this.mode = mode;
    this.depth = depth;
    this.inEscape = escaped;
    this.consumed += n;
    this.stats.jsonBytes += n;
    return records;
  }

  /** A top-level object or array begins: what it says about the shape. */
  private noteTopValue(isArray: boolean): void {
    if (this.topValues > 0 && !this.sawNewline) this.newlineBetweenTopValues = false;
    this.topValues++;
    this.sawNewline = false;
    this.stats.shape =
      this.topValues === 1
        ? isArray
          ? 'array'
          : 'object'
        : this.newlineBetweenTopValues && !isArray && this.stats.shape !== 'array'
          ? 'ndjson'
          : 'concatenated';
  }

  private end(): void {
    if (this.mode === Mode.Scalar) {
      // A number at the very end of a truncated array: the array itself is unfinished.
      this.fail(
        'truncated-json',
        `the JSON ends inside the top-level array (record ${this.stats.records + 1} at byte ${this.recordStart}): the object is truncated`,
        this.recordStart,
      );
    }
    if (this.mode === Mode.Container || this.mode === Mode.String) {
      this.fail(
        'truncated-json',
        `the JSON ends inside record ${this.stats.records + 1} (it starts at byte ${this.recordStart}; ${this.consumed - this.recordStart} bytes read): the object is truncated`,
        this.recordStart,
      );
    }
    if (this.mode === Mode.ArrayBeforeElement || this.mode === Mode.ArrayAfterElement) {
      this.fail(
        'truncated-json',
        `the JSON ends inside the top-level array after record ${this.stats.records} (byte ${this.consumed}): the object is truncated`,
        this.consumed,
      );
    }
  }
}

/** Set by closingQuote when it returns -1: whether the chunk ends on an escaping backslash. */
let trailingEscape = false;

/**
 * The index of the quote that closes a string whose contents start at i (i itself not escaped),
 * or -1 when the chunk ends first. memchr (Buffer#indexOf) finds the candidates; a quote is
 * escaped when an odd run of backslashes precedes it.
 */
function closingQuote(buf: Buffer, from: number, n: number): number {
  let i = from;
  for (;;) {
    const q = buf.indexOf(QUOTE, i);
    if (q === -1) {
      let run = 0;
      for (let j = n - 1; j >= i && buf[j] === BACKSLASH; j--) run++;
      trailingEscape = (run & 1) === 1;
      return -1;
    }
    let run = 0;
    for (let j = q - 1; j >= i && buf[j] === BACKSLASH; j--) run++;
    if ((run & 1) === 0) return q;
    i = q + 1;
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function describeStart(c: number): string | undefined {
  if (c === QUOTE) return 'a string';
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number';
  if (c === 0x74 || c === 0x66) return 'a boolean';
  if (c === 0x6e) return 'null';
  return undefined;
}

function describeByte(buf: Buffer, i: number): string {
  const c = buf[i];
  return c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/**
 * How many bytes of JSON a gzip stream decodes to before its data goes bad (trailing bytes after
 * the last member, a corrupt block). The reader cannot say: zlib drops all output of the call
 * that fails, which for a small file is everything. This reads the stream again through a fresh
 * gunzip: the `goodBytes` the reader's gunzip consumed without error in large writes, the rest
 * one byte per write, so at most one byte's output is lost; and the stored bytes it consumed
 * before the data went bad (where the trailing bytes start). Memory: one chunk of the stream.
 * For a quarantine reason only (it reads the source a second time).
 */
export async function gzipDecodedBytes(
  source: AsyncIterable<Uint8Array>,
  goodBytes: number,
): Promise<{ readonly jsonBytes: number; readonly goodBytes: number }> {
  const gunzip = createGunzip();
  let decoded = 0;
  let failed = false;
  let good = 0;
  gunzip.on('data', (chunk: Buffer) => {
    decoded += chunk.length;
  });
  const settled = new Promise<void>((resolve) => {
    gunzip.once('error', () => {
      failed = true;
      good = gunzip.bytesWritten;
      resolve();
    });
    gunzip.once('end', resolve);
  });
  // A write's callback is not called once the stream has failed: settled ends the wait then.
  const drained = () =>
    Promise.race([new Promise<void>((resolve) => gunzip.write(Buffer.alloc(0), () => resolve())), settled]);
  let at = 0;
  for await (const chunk of source) {
    const buf = toBuffer(chunk);
    const good = Math.max(0, Math.min(buf.length, goodBytes - at));
    if (good > 0) gunzip.write(buf.subarray(0, good));
    for (let i = good; i < buf.length && !failed; i++) gunzip.write(buf.subarray(i, i + 1));
    at += buf.length;
    await drained();
    if (failed) break;
  }
  if (!failed) gunzip.end();
  await settled;
  return { jsonBytes: decoded, goodBytes: failed ? good : gunzip.bytesWritten };
}
