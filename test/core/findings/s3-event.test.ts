import { decodeEventKey, encodeEventKey, parseS3Message, s3EventBody } from '../../../src/core/findings/s3-event';

describe('S3 event keys', () => {
  test.each([
    ['qualys_pc_posture_info/2026-01-16/a+b%2Bc.gz', 'qualys_pc_posture_info/2026-01-16/a b+c.gz'],
    ['x/%C3%BC%20%25.gz', 'x/ü %.gz'],
    ['plain/key.json.gz', 'plain/key.json.gz'],
  ])('GIVEN the event key %s THEN the object key is %s', (encoded, key) => {
    expect(decodeEventKey(encoded)).toBe(key);
  });

  test('GIVEN keys with spaces, plus, percent and unicode WHEN encoded as S3 does and read back THEN the same keys', () => {
    for (const key of ['a b+c/d%e ü.gz', '+', ' ', 'a/b/c']) expect(decodeEventKey(encodeEventKey(key))).toBe(key);
    expect(encodeEventKey('a b+c/d')).toBe('a+b%2Bc/d');
  });
});

describe('parseS3Message', () => {
  test('GIVEN a body written by s3EventBody WHEN parsed THEN its objects, sizes and event name', () => {
    const body = s3EventBody(
      [
        { bucket: 'b', key: 'k 1', size: 3 },
        { bucket: 'b', key: 'k+2' },
      ],
      { eventName: 'ObjectCreated:Copy' },
    );
    expect(parseS3Message(body)).toEqual({
      kind: 'records',
      objects: [
        { bucket: 'b', key: 'k 1', size: 3, eventName: 'ObjectCreated:Copy' },
        { bucket: 'b', key: 'k+2', eventName: 'ObjectCreated:Copy' },
      ],
      otherEvents: [],
    });
  });

  test('GIVEN a record without a bucket name THEN unreadable, naming the record', () => {
    const body = '{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"object":{"key":"k"}}}]}';
    expect(parseS3Message(body)).toEqual({
      kind: 'unreadable',
      reason: 'Records[0] names no s3.bucket.name and s3.object.key',
    });
  });
});
