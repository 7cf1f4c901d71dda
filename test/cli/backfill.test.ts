/**
 * `qualys-s3 backfill`: the CLI run in-process against the fake AWS (real SDK clients through
 * AWS_ENDPOINT_URL): what it lists, what it sends, and that what it sends is what the
 * normalizer's handler reads.
 */
import { parseS3Message } from '../../src/core/findings/s3-event';
import { normalizeBatch } from '../../src/handler/normalizer-batch';
import { headSourceObject, s3LakeStore } from '../../src/core/findings/s3-store';
import { useCliWorld } from '../support/cli-world';
import { sqsEvent, sqsRecord, standInNormalize } from '../support/findings-world';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '../../src/core/log';

const world = useCliWorld();
const QUEUE = 'QualysS3-prod-AnalyticsQueue';

/** The deployed stack with analytics: its queue and outputs, and raw objects over three days. */
function deployAnalytics(opts: { withQueue?: boolean } = {}) {
  const queueUrl = world.aws.createQueue(QUEUE);
  const deployed = world.deployed({
    outputs: opts.withQueue === false ? {} : { AnalyticsQueueUrl: queueUrl, LakeBucketName: 'qualyss3-prod-lake' },
  });
  const bucket = deployed.bucket;
  // deployed() already put: test-file.gz, two VM objects and one PC object (2026-11-23/24).
  for (let i = 0; i < 23; i++)
    world.aws.putObject(bucket, `qualys_pc_posture_info/2026-11-25/${String(i).padStart(3, '0')} run+${i}.gz`, {
      size: 100 + i,
    });
  world.aws.putObject(bucket, 'qualys_pc_posture_info/test-file.json', { size: 5 });
  world.aws.putObject(bucket, 'somewhere_else/2026-11-25/x.gz', { size: 5 });
  return { bucket, queueUrl };
}

test('GIVEN raw objects under both prefixes WHEN backfilled THEN one message per object, batched by 10, in the S3 event shape, counted per prefix', async () => {
  const { bucket, queueUrl } = deployAnalytics();
  const run = await world.run(['backfill', 'prod', '--config', world.config()]);
  // stderr holds progress only.
  expect(run.stderr).not.toMatch(/✖|error/i);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/qualys_pc_posture_info\/\s+24 of 24 objects queued/);
  expect(run.stdout).toMatch(/qualys_vm_findings\/\s+2 of 2 objects queued/);
  expect(run.stdout).toContain(`26 objects queued to ${queueUrl}`);

  const messages = world.aws.queueMessages(QUEUE);
  expect(messages).toHaveLength(26);
  // 24 PC objects: 10 + 10 + 4; 2 VM objects: 1 batch.
  expect(world.aws.callCounts()['sqs:SendMessageBatch']).toBe(4);
  const objects = messages.map((m) => {
    const parsed = parseS3Message(m.body);
    if (parsed.kind !== 'records') throw new Error(`not an S3 event: ${m.body}`);
    return parsed.objects[0];
  });
  expect(objects.map((o) => o.key).sort()).toEqual(
    world.aws
      .objects(bucket)
      .map((o) => o.key)
      .filter((k) => /^qualys_(pc_posture_info|vm_findings)\/\d{4}-/.test(k))
      .sort(),
  );
  expect(objects.find((o) => o.key.endsWith('/007 run+7.gz'))).toEqual({
    bucket,
    key: 'qualys_pc_posture_info/2026-11-25/007 run+7.gz',
    size: 107,
    eventName: 'ObjectCreated:Backfill',
  });
  // As S3 writes keys: the space a '+', the plus %2B.
  expect(messages.some((m) => m.body.includes('"key":"qualys_pc_posture_info/2026-11-25/007+run%2B7.gz"'))).toBe(true);
});

test('GIVEN --from and --to WHEN backfilled THEN only objects of those days are queued', async () => {
  deployAnalytics();
  const { code, doc } = await world.json([
    'backfill',
    'prod',
    '--config',
    world.config(),
    '--from',
    '2026-11-24',
    '--to',
    '2026-11-24',
  ]);
  expect(code).toBe(0);
  expect(doc).toMatchObject({
    command: 'backfill',
    ok: true,
    from: '2026-11-24',
    to: '2026-11-24',
    prefixes: [
      { prefix: 'qualys_pc_posture_info/', objects: 1, queued: 1 },
      { prefix: 'qualys_vm_findings/', objects: 1, queued: 1 },
    ],
  });
  expect(
    world.aws
      .queueMessages(QUEUE)
      .map((m) => (parseS3Message(m.body) as unknown as { objects: Array<{ key: string }> }).objects[0].key)
      .sort(),
  ).toEqual(['qualys_pc_posture_info/2026-11-24/c.json.gz', 'qualys_vm_findings/2026-11-24/b.json.gz']);
});

test('GIVEN --dry-run WHEN backfilled THEN counts and bytes, and nothing sent', async () => {
  deployAnalytics();
  const { code, doc } = await world.json(['backfill', 'prod', '--config', world.config(), '--dry-run']);
  expect(code).toBe(0);
  expect(doc).toMatchObject({
    dryRun: true,
    prefixes: [
      { prefix: 'qualys_pc_posture_info/', objects: 24, queued: 0, bytes: 1024 + 23 * 100 + (22 * 23) / 2 },
      { prefix: 'qualys_vm_findings/', objects: 2, queued: 0 },
    ],
  });
  expect(world.aws.queueMessages(QUEUE)).toEqual([]);
  expect(world.aws.callCounts()['sqs:SendMessageBatch']).toBeUndefined();
});

test('GIVEN more objects than one listing page WHEN backfilled THEN every page is read', async () => {
  const { bucket } = deployAnalytics();
  for (let i = 0; i < 1500; i++) world.aws.putObject(bucket, `qualys_vm_findings/2026-11-26/${i}.gz`, { size: 1 });
  const { code, doc } = await world.json(['backfill', 'prod', '--config', world.config(), '--dry-run']);
  expect(code).toBe(0);
  expect((doc as unknown as { prefixes: Array<{ objects: number }> }).prefixes[1].objects).toBe(1502);
  expect(world.aws.callCounts()['s3:ListObjectsV2']).toBe(3);
});

test('GIVEN a stack without analytics WHEN backfilled THEN it says analytics is not deployed and how to deploy it', async () => {
  deployAnalytics({ withQueue: false });
  const run = await world.run(['backfill', 'prod', '--config', world.config()]);
  expect(run.code).toBe(1);
  expect(run.stdout).toContain(
    'analytics is not deployed for "prod": the stack QualysS3-prod has no AnalyticsQueueUrl output',
  );
  expect(run.stdout).toContain(
    'set analytics: { enabled: true } for this environment and deploy: npx cdk deploy QualysS3-prod',
  );
});

test('GIVEN no stack WHEN backfilled THEN exit 1 naming the stack to deploy', async () => {
  const { code, doc } = await world.json(['backfill', 'prod', '--config', world.config()]);
  expect(code).toBe(1);
  expect(doc).toMatchObject({ ok: false, error: { message: 'no stack QualysS3-prod in eu-west-1' } });
});

test('GIVEN SQS throttling every send WHEN backfilled THEN exit 1, and the error says to run it again', async () => {
  deployAnalytics();
  world.aws.inject({ service: 'sqs', action: 'SendMessageBatch', times: 1000 });
  const run = await world.run(['backfill', 'prod', '--config', world.config()]);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/backfill stopped: .*Rate exceeded/);
  expect(run.stdout).toContain('run backfill again');
});

test.each([
  [['--from', '2026-02-30'], /--from takes a day as YYYY-MM-DD, e.g. --from 2026-01-31 \(got "2026-02-30"\)/],
  [['--to', 'yesterday'], /--to takes a day as YYYY-MM-DD/],
  [['--from', '2026-02-02', '--to', '2026-02-01'], /--from 2026-02-02 is after --to 2026-02-01/],
])('GIVEN backfill %p THEN a usage error (exit 2)', async (args, message) => {
  const run = await world.run(['backfill', 'prod', '--config', world.config(), ...args]);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(message);
});

test('GIVEN --dry-run on another command THEN a usage error', async () => {
  const run = await world.run(['status', 'prod', '--config', world.config(), '--dry-run']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--dry-run goes with backfill only');
});

test('GIVEN backfilled messages WHEN the normalizer handles them THEN each object is normalized (the shape is the one it reads)', async () => {
  const { bucket } = deployAnalytics();
  world.aws.createBucket('lake');
  await world.run(['backfill', 'prod', '--config', world.config(), '--from', '2026-11-23', '--to', '2026-11-23']);
  const messages = world.aws.queueMessages(QUEUE);
  expect(messages).toHaveLength(1);
  const s3 = new S3Client({ endpoint: world.awsUrl, region: 'eu-west-1', maxAttempts: 1 });
  const lines: string[] = [];
  const out = await normalizeBatch(sqsEvent(...messages.map((m) => sqsRecord(m.body, m.messageId))), {
    findingsBucket: bucket,
    source: (b, k) => headSourceObject(s3, b, k),
    lake: s3LakeStore(s3, 'lake'),
    // The stand-in reads the object (the listing-only objects here hold zero bytes: no records).
    normalize: standInNormalize,
    log: new Logger((l) => lines.push(l)),
  });
  s3.destroy();
  expect(out.batchItemFailures).toEqual([]);
  expect(lines.map((l) => JSON.parse(l))).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        event: 'findings.object',
        key: 'qualys_vm_findings/2026-11-23/a.json.gz',
        eventName: 'ObjectCreated:Backfill',
      }),
    ]),
  );
});
