/**
 * The records reader: every shape, gzip detected from the bytes, chunk boundaries anywhere,
 * errors that say what and where, and memory held to one record plus one chunk.
 */
import { gzipSync } from 'node:zlib';
import { RecordReadError, RecordReader } from '../../../src/core/findings/records';

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function readAll(data: Buffer, size = 64 * 1024) {
  const reader = new RecordReader(chunksOf(data, size));
  const records = [];
  for await (const record of reader) records.push(record);
  return { values: records.map((r) => r.value), records, stats: reader.stats };
}

async function failure(data: Buffer, size = 64 * 1024): Promise<RecordReadError> {
  try {
    await readAll(data, size);
  } catch (error) {
    if (error instanceof RecordReadError) return error;
    throw error;
  }
  throw new Error('expected the read to fail');
}

// Escapes, a quote and braces inside strings, multi-byte UTF-8, nesting, numbers.
const A = { hostId: 1, s: 'a "quoted" {brace} [bracket] \\ back\\slash \u00e9\u20ac\ud83d\ude00', n: [1, { x: null }] };
const B = { hostId: 2, evidence: '{"expectedValues ":["\\u003d\\u003d"]}', t: true, e: '' };
const C = { hostId: 3, deep: [[[{ a: [] }]]] };
const j = (v: unknown) => JSON.stringify(v);

const SHAPES: Record<string, { text: string; shape: string; values: unknown[] }> = {
  object: { text: JSON.stringify(A, null, 2), shape: 'object', values: [A] },
  array: { text: `[${j(A)},\n ${j(B)} ,${j(C)}]`, shape: 'array', values: [A, B, C] },
  ndjson: { text: `${j(A)}\n${j(B)}\r\n${j(C)}\n`, shape: 'ndjson', values: [A, B, C] },
  concatenated: { text: `${j(A)} ${j(B)}\t${j(C)}`, shape: 'concatenated', values: [A, B, C] },
  'concatenated without whitespace': { text: `${j(A)}${j(B)}${j(C)}`, shape: 'concatenated', values: [A, B, C] },
  'with a BOM': { text: `\ufeff${j(A)}\n${j(B)}\n`, shape: 'ndjson', values: [A, B] },
  'an empty array': { text: '[ ]', shape: 'array', values: [] },
  'two arrays': { text: `[${j(A)}][${j(B)}]`, shape: 'concatenated', values: [A, B] },
};

describe('shapes, detected not assumed', () => {
  test.each(Object.entries(SHAPES))(
    'GIVEN %s WHEN read (plain and gzip) THEN every record comes out whole',
    async (_, c) => {
      const plain = await readAll(Buffer.from(c.text));
      expect(plain.values).toEqual(c.values);
      expect(plain.stats.shape).toBe(c.shape);
      expect(plain.stats.gzip).toBe(false);
      const zipped = await readAll(gzipSync(c.text));
      expect(zipped.values).toEqual(c.values);
      expect(zipped.stats.gzip).toBe(true);
      expect(zipped.stats.jsonBytes).toBe(Buffer.byteLength(c.text));
    },
  );

  test('GIVEN a gzip of several members WHEN read THEN the members are one stream', async () => {
    const text = SHAPES.ndjson.text;
    const body = Buffer.concat([gzipSync(text.slice(0, 10)), gzipSync(text.slice(10, 50)), gzipSync(text.slice(50))]);
    expect((await readAll(body, 7)).values).toEqual(SHAPES.ndjson.values);
  });

  test('GIVEN an empty file or only whitespace WHEN read THEN no records and no error', async () => {
    expect((await readAll(Buffer.alloc(0))).values).toEqual([]);
    expect((await readAll(Buffer.from(' \n\t'))).stats.shape).toBe('empty');
  });

  test('GIVEN a key ending .gz that holds plain JSON, and a .json that holds gzip THEN the bytes decide', async () => {
    // The reader never sees a key: this asserts the content alone decides.
    expect((await readAll(Buffer.from(j(A)))).stats.gzip).toBe(false);
    expect((await readAll(gzipSync(j(A)))).stats.gzip).toBe(true);
  });

  test('GIVEN array elements that are not objects WHEN read THEN they are records too (the caller decides)', async () => {
    const { values } = await readAll(Buffer.from(`[1, "two", null, true, [3], ${j(A)}, -4.5e2]`));
    expect(values).toEqual([1, 'two', null, true, [3], A, -450]);
  });
});

describe('chunk boundaries', () => {
  test.each(Object.entries(SHAPES))(
    'GIVEN %s WHEN split at every byte (and fed one byte at a time) THEN the records are the same',
    async (_, c) => {
      const data = Buffer.from(c.text);
      for (let cut = 1; cut < data.length; cut++) {
        const reader = new RecordReader(
          (async function* () {
            yield data.subarray(0, cut);
            yield data.subarray(cut);
          })(),
        );
        const values = [];
        for await (const record of reader) values.push(record.value);
        expect(values).toEqual(c.values);
      }
      expect((await readAll(data, 1)).values).toEqual(c.values);
      expect((await readAll(gzipSync(data), 1)).values).toEqual(c.values);
    },
  );

  test('GIVEN records WHEN read THEN each carries its byte offset, size and index', async () => {
    const text = `${j(A)}\n${j(B)}`;
    const { records } = await readAll(Buffer.from(text), 5);
    expect(records.map((r) => [r.index, r.offset, r.bytes])).toEqual([
      [0, 0, Buffer.byteLength(j(A))],
      [1, Buffer.byteLength(j(A)) + 1, Buffer.byteLength(j(B))],
    ]);
  });
});

describe('errors say what is wrong and where', () => {
  test('GIVEN a truncated gzip WHEN read THEN truncated-gzip, after the records that were whole', async () => {
    const whole = gzipSync(`${j(A)}\n${j(B)}\n${j(C)}\n`.repeat(50));
    const error = await failure(whole.subarray(0, whole.length - 30));
    expect(error.kind).toBe('truncated-gzip');
    expect(error.message).toMatch(/gzip stream ends early .* truncated/);
    expect(error.recordsRead).toBeGreaterThan(50);
  });

  test('GIVEN gzip whose bytes are corrupt WHEN read THEN bad-gzip', async () => {
    const body = gzipSync(j(A).repeat(100));
    body.fill(0x41, 20, 40);
    expect((await failure(body)).kind).toMatch(/gzip/);
  });

  test('GIVEN JSON cut inside a record WHEN read THEN truncated-json at the record start, with the records read', async () => {
    const text = `${j(A)}\n${j(B).slice(0, 20)}`;
    const error = await failure(Buffer.from(text), 4);
    expect(error).toMatchObject({ kind: 'truncated-json', offset: Buffer.byteLength(j(A)) + 1, recordsRead: 1 });
    expect(error.message).toMatch(/ends inside record 2 .*truncated/);
  });

  test('GIVEN an array cut between elements WHEN read THEN truncated-json', async () => {
    expect((await failure(Buffer.from(`[${j(A)},`))).kind).toBe('truncated-json');
    expect((await failure(Buffer.from(`[${j(A)}, 12`))).kind).toBe('truncated-json');
  });

  test('GIVEN garbage between records WHEN read THEN garbage, at its byte', async () => {
    const error = await failure(Buffer.from(`${j(A)} xyz ${j(B)}`));
    expect(error).toMatchObject({ kind: 'garbage', offset: Buffer.byteLength(j(A)) + 1, recordsRead: 1 });
    expect(error.message).toMatch(/unexpected "x" at byte \d+ after record 1/);
    expect((await failure(Buffer.from(`${j(A)},${j(B)}`))).kind).toBe('garbage');
    expect((await failure(Buffer.from(`[${j(A)} ${j(B)}]`))).message).toMatch(/expected "," or "\]"/);
  });

  test('GIVEN a top-level value that is not an object WHEN read THEN not-an-object', async () => {
    const error = await failure(Buffer.from(`${j(A)}\n42\n`));
    expect(error).toMatchObject({ kind: 'not-an-object', recordsRead: 1 });
    expect(error.message).toMatch(/is a number, not an object/);
    expect((await failure(Buffer.from('"text"'))).kind).toBe('not-an-object');
  });

  test('GIVEN a record whose braces balance but whose JSON does not parse WHEN read THEN invalid-json with its bytes', async () => {
    const error = await failure(Buffer.from(`${j(A)}{"a": tru}`));
    expect(error).toMatchObject({ kind: 'invalid-json', offset: Buffer.byteLength(j(A)), recordsRead: 1 });
    expect(error.message).toMatch(/record 2 \(bytes \d+-\d+\) is not valid JSON/);
  });

  test('GIVEN a record larger than the limit WHEN read THEN refused before it is held whole', async () => {
    const reader = new RecordReader(chunksOf(Buffer.from(`{"a":"${'x'.repeat(5000)}"}`), 100), {
      maxRecordBytes: 1000,
    });
    await expect(
      (async () => {
        for await (const _ of reader);
      })(),
    ).rejects.toMatchObject({ kind: 'record-too-large' });
    expect(reader.stats.maxCarriedBytes).toBeLessThanOrEqual(1100);
  });

  test('GIVEN the source stream fails WHEN read THEN its own error comes through (not a file problem)', async () => {
    const reader = new RecordReader(
      (async function* () {
        yield gzipSync(j(A));
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      })(),
    );
    await expect(
      (async () => {
        for await (const _ of reader);
      })(),
    ).rejects.toThrow('socket hang up');
  });
});

describe('memory is bounded by one record, not the file', () => {
  test('GIVEN a file 400 times its largest record WHEN read in 16 KiB chunks THEN the reader never carries more than a record plus a chunk', async () => {
    const big = { hostId: 9, policy: Array.from({ length: 40 }, (_, i) => ({ id: i, evidence: 'y'.repeat(1000) })) };
    const small = { hostId: 1 };
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) lines.push(j(i % 10 === 0 ? big : small));
    const data = Buffer.from(lines.join('\n'));
    const chunk = 16 * 1024;
    const { stats } = await readAll(data, chunk);
    expect(stats.records).toBe(400);
    expect(data.length).toBeGreaterThan(stats.largestRecordBytes * 20);
    expect(stats.largestRecordBytes).toBe(Buffer.byteLength(j(big)));
    expect(stats.maxCarriedBytes).toBeLessThanOrEqual(stats.largestRecordBytes + chunk);
    expect(stats.maxCarriedBytes).toBeGreaterThan(0);
  });
});
