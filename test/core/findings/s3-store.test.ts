/** The normalizer's S3 ports against the fake S3 (strict: If-Match and x-amz-copy-source-if-match honoured). */
import { FINDINGS_BUCKET, FindingsWorld, LAKE_BUCKET } from '../../support/findings-world';
import { headSourceObject, s3LakeStore } from '../../../src/core/findings/s3-store';

let world: FindingsWorld;
beforeEach(async () => {
  world = await new FindingsWorld().start();
});
afterEach(() => world.stop());

const KEY = 'qualys_pc_posture_info/2024-05-01/a.json';

describe('quarantine copies the version that was read', () => {
  test('GIVEN a source headed and read WHEN copied to quarantine THEN the copy is that version, with its ETag', async () => {
    world.putRaw(KEY, '{"hostId":1}\n');
    const source = await headSourceObject(world.s3, FINDINGS_BUCKET, KEY);
    expect(source.etag).toMatch(/^"[0-9a-f]{32}"$/);
    await s3LakeStore(world.s3, LAKE_BUCKET).copySource(source, `quarantine/${KEY}`);
    expect(world.lakeObject(`quarantine/${KEY}`).toString()).toBe('{"hostId":1}\n');
  });

  test('GIVEN the source overwritten after it was read WHEN copied to quarantine THEN 412 (retried), never the new version under the old reason', async () => {
    world.putRaw(KEY, '{"hostId":1}\n');
    const source = await headSourceObject(world.s3, FINDINGS_BUCKET, KEY);
    world.putRaw(KEY, '{"hostId":2}\n');
    await expect(s3LakeStore(world.s3, LAKE_BUCKET).copySource(source, `quarantine/${KEY}`)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    expect(world.lakeKeys('quarantine/')).toEqual([]);
  });
});
