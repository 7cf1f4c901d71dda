/**
 * `qualys-s3 backfill` against the fake AWS: raw objects a lifecycle rule has archived.
 * (sim/fake-aws.ts: putObject takes a storageClass, which ListObjectsV2 reports.)
 */
import { parseS3Message } from '../../src/core/findings/s3-event';
import { useCliWorld } from '../support/cli-world';

const world = useCliWorld();
const QUEUE = 'QualysS3-prod-AnalyticsQueue';

test('FAILING: GIVEN raw objects a transition rule (bucket.transitionStorageClass GLACIER / DEEP_ARCHIVE) has archived WHEN backfilled THEN they are not queued (the normalizer cannot GetObject them before a restore) and the report names them', async () => {
  // GIVEN: the deployed stack with analytics; two old PC objects archived, one recent in STANDARD.
  const queueUrl = world.aws.createQueue(QUEUE);
  const { bucket } = world.deployed({ outputs: { AnalyticsQueueUrl: queueUrl, LakeBucketName: 'qualyss3-prod-lake' } });
  world.aws.putObject(bucket, 'qualys_pc_posture_info/2025-01-10/old-a.gz', { size: 10, storageClass: 'GLACIER' });
  world.aws.putObject(bucket, 'qualys_pc_posture_info/2025-01-11/old-b.gz', { size: 10, storageClass: 'DEEP_ARCHIVE' });
  world.aws.putObject(bucket, 'qualys_pc_posture_info/2026-11-25/new.gz', { size: 10 });

  // WHEN
  const run = await world.run(['backfill', 'prod', '--config', world.config(), '--from', '2025-01-01']);

  // THEN: every message would otherwise fail InvalidObjectState five times and rest in the
  // dead-letter queue, its alarm firing, with nothing said by backfill.
  const queued = world.aws
    .queueMessages(QUEUE)
    .map((m) => (parseS3Message(m.body) as unknown as { objects: Array<{ key: string }> }).objects[0].key);
  expect(queued).not.toEqual(expect.arrayContaining(['qualys_pc_posture_info/2025-01-10/old-a.gz']));
  expect(queued).not.toEqual(expect.arrayContaining(['qualys_pc_posture_info/2025-01-11/old-b.gz']));
  expect(queued).toEqual(expect.arrayContaining(['qualys_pc_posture_info/2026-11-25/new.gz']));
  expect(run.stdout).toMatch(/GLACIER|DEEP_ARCHIVE|archived|restore/i);
});
