/**
 * The normalizer's SQS batch handling, over the real S3 client against the fake AWS and a
 * stand-in normalize function (the real one is driven by test/e2e/findings-pipeline.test.ts):
 * which messages fail, which are acknowledged, what is logged, what the lake holds.
 */
import type { SQSEvent } from 'aws-lambda';
import { curatedKey, manifestKey, objectId, quarantineKey } from '../../src/core/findings/layout';
import type { LakeStore, SourceObject } from '../../src/core/findings/ports';
import { s3EventBody } from '../../src/core/findings/s3-event';
import { headSourceObject, s3LakeStore } from '../../src/core/findings/s3-store';
import { type NormalizeFn, type NormalizerBatchDeps, normalizeBatch } from '../../src/handler/normalizer-batch';
import { handlerWith, normalizerSettings } from '../../src/handler/normalizer';
import {
  FINDINGS_BUCKET,
  FindingsWorld,
  LAKE_BUCKET,
  objectCreatedRecord,
  postureFile,
  sqsEvent,
  sqsRecord,
  standInNormalize,
} from '../support/findings-world';

let world: FindingsWorld;

beforeEach(async () => {
  world = await new FindingsWorld().start();
});

afterEach(async () => {
  await world.stop();
});

const noWait = { now: () => Date.now(), sleep: async () => {}, random: () => 0.5 };

function deps(overrides: Partial<NormalizerBatchDeps> = {}): NormalizerBatchDeps {
  return {
    findingsBucket: FINDINGS_BUCKET,
    source: (bucket, key) => headSourceObject(world.s3, bucket, key),
    lake: s3LakeStore(world.s3, LAKE_BUCKET, { clock: noWait }),
    normalize: standInNormalize,
    log: world.log,
    tmpDir: world.tmpDir,
    ...overrides,
  };
}

/** A normalize function that records what it was given and does nothing. */
function recording(): { fn: NormalizeFn; seen: SourceObject[] } {
  const seen: SourceObject[] = [];
  const fn: NormalizeFn = async (source) => {
    seen.push(source);
    return {
      sourceKey: source.key,
      table: undefined,
      status: 'skipped',
      recordsIn: 0,
      rowsOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      outputs: [],
    };
  };
  return { fn, seen };
}

describe('object-created notifications', () => {
  test('GIVEN a raw object whose key has a space, a plus and an umlaut WHEN its notification arrives THEN that exact object is normalized into the lake and logged once', async () => {
    const key = 'qualys_pc_posture_info/2026-01-16/run 7+b ü.json.gz';
    const size = world.putRaw(key, postureFile(3));
    const body = s3EventBody([{ bucket: FINDINGS_BUCKET, key, size }]);
    // As S3 writes it: '+' for the space, %2B for the plus.
    expect(body).toContain('"key":"qualys_pc_posture_info/2026-01-16/run+7%2Bb+%C3%BC.json.gz"');

    const out = await normalizeBatch(sqsEvent(sqsRecord(body, 'm-1')), deps());

    expect(out).toEqual({ batchItemFailures: [] });
    const id = objectId(FINDINGS_BUCKET, key);
    expect(world.lakeKeys()).toEqual([curatedKey('pc_postures', '2026-01-16', id), manifestKey(id)]);
    expect(world.lakeObject(curatedKey('pc_postures', '2026-01-16', id)).toString()).toBe('1000\n1001\n1002');
    const [line] = world.events('findings.object');
    expect(line).toMatchObject({
      level: 'INFO',
      messageId: 'm-1',
      key,
      status: 'normalized',
      table: 'pc_postures',
      records: 3,
      rows: 3,
      sizeStored: size,
      outputs: 1,
    });
    expect(typeof line.ms).toBe('number');
    expect(typeof line.bytesIn).toBe('number');
    expect(world.events('findings.object')).toHaveLength(1);
  });

  test('GIVEN a key without a day folder WHEN normalized THEN the source handed over carries its LastModified from S3', async () => {
    const { fn, seen } = recording();
    const lastModified = Date.UTC(2026, 2, 4, 5, 6, 7);
    const size = world.putRaw('qualys_vm_findings/loose.json', '{}', lastModified);
    await normalizeBatch(sqsEvent(objectCreatedRecord('qualys_vm_findings/loose.json', size)), deps({ normalize: fn }));
    expect(seen.map((s) => [s.bucket, s.key, s.lastModified.toISOString(), s.size])).toEqual([
      [FINDINGS_BUCKET, 'qualys_vm_findings/loose.json', '2026-03-04T05:06:07.000Z', 2],
    ]);
  });

  test('GIVEN the same message delivered twice WHEN handled THEN the lake holds the same objects, none twice', async () => {
    const key = 'qualys_pc_posture_info/2026-01-16/a.json.gz';
    const record = objectCreatedRecord(key, world.putRaw(key, postureFile(2)));
    await normalizeBatch(sqsEvent(record), deps());
    const first = world.lakeKeys().map((k) => [k, world.lakeObject(k).toString()]);
    await normalizeBatch(sqsEvent(record), deps());
    expect(world.lakeKeys().map((k) => [k, world.lakeObject(k).toString()])).toEqual(first);
  });

  test('GIVEN an object that is not JSON WHEN handled THEN it is quarantined with its reason and the message succeeds', async () => {
    const key = 'qualys_pc_posture_info/2026-01-16/broken.json';
    const size = world.putRaw(key, '{"hostId": 1, "policy": [');
    const out = await normalizeBatch(sqsEvent(objectCreatedRecord(key, size, FINDINGS_BUCKET, 'm-q')), deps());
    expect(out.batchItemFailures).toEqual([]);
    expect(world.lakeObject(quarantineKey(key)).toString()).toBe('{"hostId": 1, "policy": [');
    expect(world.lakeKeys()).toContain(`${quarantineKey(key)}.reason.json`);
    expect(world.events('findings.object')).toEqual([
      expect.objectContaining({ level: 'WARN', key, status: 'quarantined', reason: expect.stringMatching(/not JSON/) }),
    ]);
  });

  test('GIVEN one object throttled by S3 beyond the retries and one healthy WHEN in one batch THEN only the throttled message fails', async () => {
    const slow = 'qualys_pc_posture_info/2026-01-16/slow.json.gz';
    const fast = 'qualys_pc_posture_info/2026-01-16/fast.json.gz';
    const slowRecord = objectCreatedRecord(slow, world.putRaw(slow, postureFile(1)), FINDINGS_BUCKET, 'm-slow');
    const fastRecord = objectCreatedRecord(fast, world.putRaw(fast, postureFile(1)), FINDINGS_BUCKET, 'm-fast');
    world.aws.inject({ service: 's3', action: 'GetObject', key: slow, times: 10 });

    const out = await normalizeBatch(sqsEvent(slowRecord, fastRecord), deps());

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-slow' }]);
    expect(world.lakeKeys('curated/')).toEqual([
      curatedKey('pc_postures', '2026-01-16', objectId(FINDINGS_BUCKET, fast)),
    ]);
    expect(world.events('findings.object-failed')).toEqual([
      expect.objectContaining({ level: 'ERROR', messageId: 'm-slow', key: slow, errorName: 'SlowDown' }),
    ]);
    // The SDK retried before giving up (maxAttempts 2).
    expect(world.aws.calls.filter((c) => c.action === 'GetObject' && c.key === slow)).toHaveLength(2);
  });

  test('GIVEN the lake throttling one upload (a stream the SDK cannot retry) WHEN normalized THEN the file is uploaded again from disk and the message succeeds', async () => {
    const key = 'qualys_pc_posture_info/2026-01-16/a.json.gz';
    const record = objectCreatedRecord(key, world.putRaw(key, postureFile(2)));
    world.aws.inject({
      service: 's3',
      action: 'PutObject',
      key: curatedKey('pc_postures', '2026-01-16', objectId(FINDINGS_BUCKET, key)),
    });
    const out = await normalizeBatch(sqsEvent(record), deps());
    expect(out.batchItemFailures).toEqual([]);
    expect(world.lakeObject(curatedKey('pc_postures', '2026-01-16', objectId(FINDINGS_BUCKET, key))).toString()).toBe(
      '1000\n1001',
    );
  });

  test('GIVEN a notification for an object deleted since WHEN handled THEN success, logged as gone', async () => {
    const out = await normalizeBatch(
      sqsEvent(objectCreatedRecord('qualys_pc_posture_info/2026-01-16/gone.json.gz', 10, FINDINGS_BUCKET, 'm-gone')),
      deps(),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(world.events('findings.object-gone')).toEqual([
      expect.objectContaining({ key: 'qualys_pc_posture_info/2026-01-16/gone.json.gz', messageId: 'm-gone' }),
    ]);
  });

  test('GIVEN access to the findings bucket denied WHEN handled THEN the message fails (the DLQ keeps it; retrying does not hide it)', async () => {
    const key = 'qualys_pc_posture_info/2026-01-16/a.json.gz';
    const record = objectCreatedRecord(key, world.putRaw(key, 'x'), FINDINGS_BUCKET, 'm-denied');
    world.aws.denyBucket(FINDINGS_BUCKET);
    const out = await normalizeBatch(sqsEvent(record), deps());
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-denied' }]);
    expect(world.events('findings.object-failed')[0]).toMatchObject({ key, httpStatus: 403 });
  });
});

describe('messages with nothing to normalize', () => {
  test("GIVEN S3's test event WHEN handled THEN acknowledged, nothing normalized", async () => {
    const { fn, seen } = recording();
    const body = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-01-16T10:00:00.000Z',
      Bucket: FINDINGS_BUCKET,
      RequestId: 'X',
      HostId: 'Y',
    });
    const out = await normalizeBatch(sqsEvent(sqsRecord(body, 'm-test')), deps({ normalize: fn }));
    expect(out.batchItemFailures).toEqual([]);
    expect(seen).toEqual([]);
    expect(world.events('findings.test-event')).toEqual([
      expect.objectContaining({ messageId: 'm-test', bucket: FINDINGS_BUCKET }),
    ]);
  });

  test('GIVEN records of another bucket, outside the raw prefixes, a validation file and a removal WHEN handled THEN each ignored with a line, none normalized', async () => {
    const { fn, seen } = recording();
    const body = JSON.parse(
      s3EventBody([
        { bucket: 'someone-elses-bucket', key: 'qualys_pc_posture_info/2026-01-16/a.gz' },
        { bucket: FINDINGS_BUCKET, key: 'curated/pc_postures/day=2026-01-16/x.parquet' },
        { bucket: FINDINGS_BUCKET, key: 'qualys_pc_posture_info/test-file.gz' },
        { bucket: FINDINGS_BUCKET, key: 'qualys_pc_posture_info/2026-01-16/b.gz' },
      ]),
    ) as { Records: Array<{ eventName: string }> };
    body.Records[3].eventName = 'ObjectRemoved:Delete';
    const out = await normalizeBatch(sqsEvent(sqsRecord(JSON.stringify(body))), deps({ normalize: fn }));
    expect(out.batchItemFailures).toEqual([]);
    expect(seen).toEqual([]);
    expect(world.events('findings.ignored').map((l) => l.why)).toEqual([
      'not an object creation',
      `bucket someone-elses-bucket is not the findings bucket ${FINDINGS_BUCKET}`,
      'outside the raw prefixes',
      "Qualys's connection-validation file",
    ]);
  });

  test.each([
    ['plain text', 'hello', /not JSON \(5 characters, starting "hello"\)/],
    ['a JSON list', '[1,2]', /not an object/],
    ['an EventBridge event', '{"version":"0","detail-type":"Object Created","detail":{}}', /no "Records" list/],
    ['a record from another source', '{"Records":[{"eventSource":"aws:sns"}]}', /not an S3 event record/],
    [
      'a key that is not URL-encoded',
      '{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"100%"}}}]}',
      /not URL-encoded/,
    ],
  ])(
    'GIVEN %s as the body WHEN handled THEN that message fails (the DLQ keeps it) with the reason logged',
    async (_what, body, reason) => {
      const ok = objectCreatedRecord('qualys_pc_posture_info/2026-01-16/gone.gz', 1, FINDINGS_BUCKET, 'm-ok');
      const out = await normalizeBatch(sqsEvent(sqsRecord(body, 'm-bad'), ok), deps({ normalize: recording().fn }));
      expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-bad' }]);
      expect(world.events('findings.unreadable-message')).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          messageId: 'm-bad',
          reason: expect.stringMatching(reason),
          receiveCount: 1,
        }),
      ]);
    },
  );
});

describe('the time left', () => {
  test('GIVEN less time left than the reserve after the first message WHEN the batch runs THEN the rest fail untouched, to be delivered again', async () => {
    const { fn, seen } = recording();
    let left = 120_000;
    const records = ['a', 'b', 'c'].map((n) => {
      const key = `qualys_pc_posture_info/2026-01-16/${n}.gz`;
      return objectCreatedRecord(key, world.putRaw(key, 'x'), FINDINGS_BUCKET, `m-${n}`);
    });
    const slowFn: NormalizeFn = async (source, store) => {
      left -= 70_000;
      return fn(source, store);
    };
    const out = await normalizeBatch(sqsEvent(...records), deps({ normalize: slowFn, remainingMs: () => left }));
    expect(seen.map((s) => s.key)).toEqual(['qualys_pc_posture_info/2026-01-16/a.gz']);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-b' }, { itemIdentifier: 'm-c' }]);
    expect(world.events('findings.deferred')).toEqual([expect.objectContaining({ messages: 2 })]);
    expect(world.events('findings.batch')).toEqual([expect.objectContaining({ messages: 3, failed: 2 })]);
  });
});

describe('the Lambda entry', () => {
  const env = { FINDINGS_BUCKET, LAKE_BUCKET };

  test('GIVEN its environment and clients WHEN invoked THEN the batch is normalized into LAKE_BUCKET', async () => {
    const key = 'qualys_pc_posture_info/2026-01-16/a.json.gz';
    const event: SQSEvent = sqsEvent(objectCreatedRecord(key, world.putRaw(key, postureFile(1))));
    const handler = handlerWith(() => ({ s3: world.s3, normalize: standInNormalize }), { env, log: world.log });
    expect(await handler(event, { getRemainingTimeInMillis: () => 600_000 })).toEqual({ batchItemFailures: [] });
    expect(world.lakeKeys('curated/')).toHaveLength(1);
  });

  test.each([
    [{}, /no FINDINGS_BUCKET or LAKE_BUCKET in its environment/],
    [{ FINDINGS_BUCKET }, /no LAKE_BUCKET in its environment/],
    [{ ...env, NORMALIZER_RESERVE_MS: '1m' }, /NORMALIZER_RESERVE_MS must be whole milliseconds \(got "1m"\)/],
  ])('GIVEN the environment %p THEN the settings are refused, naming what is missing', (given, message) => {
    expect(() => normalizerSettings(given)).toThrow(message);
  });

  test('GIVEN no environment WHEN invoked THEN the whole batch fails with that error (nothing is acknowledged unread)', async () => {
    const handler = handlerWith(() => ({ s3: world.s3, normalize: standInNormalize }), { env: {}, log: world.log });
    await expect(handler(sqsEvent(sqsRecord('{}')))).rejects.toThrow(/no FINDINGS_BUCKET or LAKE_BUCKET/);
  });
});

describe('the S3 lake store', () => {
  test('GIVEN more than 1000 keys WHEN deleted THEN in batches of at most 1000, all gone', async () => {
    const lake: LakeStore = s3LakeStore(world.s3, LAKE_BUCKET);
    const keys = Array.from({ length: 1203 }, (_, i) => `manifests/k${i}.json`);
    for (const k of keys) world.aws.putObject(LAKE_BUCKET, k, { body: '{}' });
    await lake.delete(keys);
    expect(world.lakeKeys()).toEqual([]);
    expect(world.aws.callCounts()['s3:DeleteObjects']).toBe(2);
  });

  test('GIVEN no manifest WHEN read THEN undefined; GIVEN one THEN its text', async () => {
    const lake = s3LakeStore(world.s3, LAKE_BUCKET);
    expect(await lake.getText('manifests/none.json')).toBeUndefined();
    await lake.putText('manifests/m.json', '{"outputs":["ü"]}', 'application/json');
    expect(await lake.getText('manifests/m.json')).toBe('{"outputs":["ü"]}');
  });
});
