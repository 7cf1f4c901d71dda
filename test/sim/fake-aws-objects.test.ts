/**
 * The fake AWS's S3 object calls and SQS sends, driven by the real SDK v3 clients: the shapes,
 * limits and error codes the normalizer's pipeline and the backfill meet in AWS.
 */
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { FakeAws } from '../../sim/fake-aws';

let aws: FakeAws;
let s3: S3Client;
let sqs: SQSClient;

const BINARY = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0d, 0x0a, 0x30]);

async function rejection(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as never;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  aws = new FakeAws();
  const endpoint = await aws.start();
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  s3 = new S3Client(config);
  sqs = new SQSClient(config);
});

afterEach(async () => {
  s3.destroy();
  sqs.destroy();
  await aws.stop();
});

describe('S3 objects', () => {
  test('GIVEN binary bytes streamed with a length (aws-chunked, CRC32 trailer) WHEN put and got THEN the same bytes come back', async () => {
    aws.createBucket('lake');
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'lake',
        Key: 'curated/pc_postures/day=2026-01-02/a b+c.parquet',
        Body: Readable.from([BINARY.subarray(0, 5), BINARY.subarray(5)]),
        ContentLength: BINARY.length,
        ContentType: 'application/vnd.apache.parquet',
      }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(aws.object('lake', 'curated/pc_postures/day=2026-01-02/a b+c.parquet')?.body).toEqual(BINARY);

    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'lake', Key: 'curated/pc_postures/day=2026-01-02/a b+c.parquet' }),
    );
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(BINARY);
    expect(got.ContentType).toBe('application/vnd.apache.parquet');
    expect(got.ContentLength).toBe(BINARY.length);
    expect(got.ETag).toBe(put.ETag);
  });

  test('GIVEN a raw object put by the test WHEN headed THEN its size and last-modified second, and no body', async () => {
    aws.putObject('raw', 'qualys_pc_posture_info/2026-01-02/ü.gz', {
      body: BINARY,
      lastModified: Date.UTC(2026, 0, 2, 3, 4, 5),
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'raw', Key: 'qualys_pc_posture_info/2026-01-02/ü.gz' }));
    expect(head.ContentLength).toBe(BINARY.length);
    expect(head.LastModified?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  test('GIVEN no such key or bucket WHEN got or headed THEN NoSuchKey 404, NotFound 404 (HEAD has no body), NoSuchBucket 404', async () => {
    aws.createBucket('b');
    expect(await rejection(s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'nope' })))).toMatchObject({
      name: 'NoSuchKey',
      $metadata: { httpStatusCode: 404 },
    });
    expect(await rejection(s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'nope' })))).toMatchObject({
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    });
    expect(await rejection(s3.send(new GetObjectCommand({ Bucket: 'other', Key: 'x' })))).toMatchObject({
      name: 'NoSuchBucket',
    });
    expect(await rejection(s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'x', Body: 'x' })))).toMatchObject({
      name: 'NoSuchBucket',
    });
  });

  test('GIVEN a body whose CRC32 does not match WHEN put THEN BadDigest and nothing stored', async () => {
    aws.createBucket('b');
    expect(
      await rejection(
        s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'x', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })),
      ),
    ).toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
    expect(aws.objects('b')).toEqual([]);
  });

  test('GIVEN an aws-chunked body shorter than its declared length WHEN put THEN IncompleteBody', async () => {
    aws.createBucket('b');
    const res = await request(`${aws.url}/b/x`, {
      method: 'PUT',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/s3/aws4_request, Signature=x',
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': '10',
      },
      body: '5\r\nhello\r\n0\r\n\r\n',
    });
    expect(res.statusCode).toBe(400);
    expect(await res.body.text()).toContain('<Code>IncompleteBody</Code>');
    expect(aws.objects('b')).toEqual([]);
  });

  test('GIVEN a key with spaces, plus and unicode WHEN copied with a URL-encoded copy source THEN the copy holds the bytes', async () => {
    const key = 'qualys_pc_posture_info/2026-01-02/a b+c ü.gz';
    aws.putObject('raw', key, { body: BINARY, contentType: 'application/gzip' });
    aws.createBucket('lake');
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket: 'lake',
        Key: `quarantine/${key}`,
        CopySource: `raw/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
      }),
    );
    expect(out.CopyObjectResult?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(aws.object('lake', `quarantine/${key}`)).toMatchObject({ body: BINARY, contentType: 'application/gzip' });
    expect(
      await rejection(s3.send(new CopyObjectCommand({ Bucket: 'lake', Key: 'q/x', CopySource: 'raw/missing' }))),
    ).toMatchObject({ name: 'NoSuchKey' });
  });

  test('GIVEN objects WHEN one deleted and others deleted in a batch (XML, & in a key) THEN they are gone and the rest stay', async () => {
    for (const k of ['a', 'b&c', 'd', 'keep']) aws.putObject('b', k, { body: k });
    await s3.send(new DeleteObjectCommand({ Bucket: 'b', Key: 'a' }));
    // S3 answers a delete of a missing key with success too.
    await s3.send(new DeleteObjectCommand({ Bucket: 'b', Key: 'a' }));
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects: [{ Key: 'b&c' }, { Key: 'd' }, { Key: 'never' }] } }),
    );
    expect(out.Deleted?.map((d) => d.Key)).toEqual(['b&c', 'd', 'never']);
    expect(aws.objects('b').map((o) => o.key)).toEqual(['keep']);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'b' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['keep']);
  });

  test('GIVEN more than 1000 keys WHEN deleted in one batch THEN MalformedXML, as S3 refuses it', async () => {
    aws.createBucket('b');
    const Objects = Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` }));
    expect(await rejection(s3.send(new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects } })))).toMatchObject({
      name: 'MalformedXML',
    });
  });

  test('GIVEN a SlowDown fault on one key WHEN two keys are got THEN only that key is throttled (503)', async () => {
    aws.putObject('b', 'slow', { body: 'x' });
    aws.putObject('b', 'fast', { body: 'y' });
    aws.inject({ service: 's3', action: 'GetObject', key: 'slow', times: 5 });
    expect(await rejection(s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'slow' })))).toMatchObject({
      name: 'SlowDown',
      $metadata: { httpStatusCode: 503 },
    });
    const fast = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'fast' }));
    expect(await fast.Body!.transformToString()).toBe('y');
  });
});

describe('SQS sends', () => {
  test('GIVEN a queue WHEN its URL is asked and a message sent THEN the message is kept with the MD5 the SDK checks', async () => {
    const url = aws.createQueue('normalizer');
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'normalizer' }))).QueueUrl).toBe(url);
    const out = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"Records":[]}' }));
    expect(out.MessageId).toBeDefined();
    expect(aws.queueMessages('normalizer').map((m) => m.body)).toEqual(['{"Records":[]}']);
    expect(aws.calls.at(-1)).toMatchObject({ service: 'sqs', action: 'SendMessage', status: 200 });
  });

  test('GIVEN no such queue WHEN asked or sent to THEN QueueDoesNotExist', async () => {
    expect(await rejection(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })))).toMatchObject({
      name: 'QueueDoesNotExist',
    });
    expect(
      await rejection(sqs.send(new SendMessageCommand({ QueueUrl: `${aws.url}/123456789012/nope`, MessageBody: 'x' }))),
    ).toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
  });

  test('GIVEN ten entries WHEN sent in a batch THEN all succeed in order', async () => {
    const url = aws.createQueue('q');
    const Entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m-${i}`, MessageBody: `body ${i}` }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    expect(out.Successful?.map((s) => s.Id)).toEqual(Entries.map((e) => e.Id));
    expect(out.Failed ?? []).toEqual([]);
    expect(aws.queueMessages('q').map((m) => m.body)).toEqual(Entries.map((e) => e.MessageBody));
  });

  test.each([
    [
      'eleven entries',
      Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })),
      'TooManyEntriesInBatchRequest',
    ],
    ['no entries', [], 'EmptyBatchRequest'],
    [
      'a repeated Id',
      [
        { Id: 'a', MessageBody: 'x' },
        { Id: 'a', MessageBody: 'y' },
      ],
      'BatchEntryIdsNotDistinct',
    ],
    ['an Id with a dot', [{ Id: 'a.b', MessageBody: 'x' }], 'InvalidBatchEntryId'],
    [
      'more than 256 KiB in all',
      [
        { Id: 'a', MessageBody: 'x'.repeat(200_000) },
        { Id: 'b', MessageBody: 'y'.repeat(70_000) },
      ],
      'BatchRequestTooLong',
    ],
  ])('GIVEN %s WHEN sent in a batch THEN %s and nothing is queued', async (_what, Entries, name) => {
    const url = aws.createQueue('q');
    expect(await rejection(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries })))).toMatchObject({
      name,
      $metadata: { httpStatusCode: 400 },
    });
    expect(aws.queueMessages('q')).toEqual([]);
  });

  test('GIVEN one entry with a character SQS refuses WHEN sent in a batch THEN that entry fails and the others are queued', async () => {
    const url = aws.createQueue('q');
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'good', MessageBody: 'fine' },
          { Id: 'bad', MessageBody: 'nul \u0000 here' },
        ],
      }),
    );
    expect(out.Successful?.map((s) => s.Id)).toEqual(['good']);
    expect(out.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' }),
    ]);
    expect(aws.queueMessages('q').map((m) => m.body)).toEqual(['fine']);
  });

  test('GIVEN a message over 256 KiB WHEN sent alone THEN InvalidParameterValue', async () => {
    const url = aws.createQueue('q');
    expect(
      await rejection(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(262_145) }))),
    ).toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('S3 conditional reads', () => {
  test('GIVEN an object rewritten after it was headed WHEN got with If-Match on the old ETag THEN PreconditionFailed 412', async () => {
    aws.putObject('b', 'k', { body: 'first' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
    const same = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k', IfMatch: head.ETag }));
    expect(await same.Body!.transformToString()).toBe('first');
    aws.putObject('b', 'k', { body: 'second' });
    expect(await rejection(s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k', IfMatch: head.ETag })))).toMatchObject(
      {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      },
    );
  });
});
