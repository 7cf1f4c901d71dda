/**
 * `qualys-s3 backfill` against the fake AWS: raw objects a lifecycle rule has archived.
 * (sim/fake-aws.ts: putObject takes a storageClass, which ListObjectsV2 reports.) And a send
 * that fails partway through a prefix, over a stand-in for the listing and the sends.
 */
import { type BackfillAws, backfill, needsRestore } from '../../src/cli/backfill';
import type { CommandContext } from '../../src/cli/context';
import { parseS3Message } from '../../src/core/findings/s3-event';
import { useCliWorld } from '../support/cli-world';

const world = useCliWorld();
const QUEUE = 'QualysS3-prod-AnalyticsQueue';

test('GIVEN raw objects a transition rule (bucket.transitionStorageClass GLACIER / DEEP_ARCHIVE) has archived WHEN backfilled THEN they are not queued (the normalizer cannot GetObject them before a restore) and the report names them', async () => {
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

test('GIVEN archived objects WHEN backfilled with --json THEN each prefix counts them per storage class, with their keys, apart from what was queued', async () => {
  // GIVEN
  const queueUrl = world.aws.createQueue(QUEUE);
  const { bucket } = world.deployed({ outputs: { AnalyticsQueueUrl: queueUrl, LakeBucketName: 'qualyss3-prod-lake' } });
  for (let i = 0; i < 7; i++)
    world.aws.putObject(bucket, `qualys_vm_findings/2025-02-0${i + 1}/a.gz`, { size: 10, storageClass: 'GLACIER' });
  world.aws.putObject(bucket, 'qualys_vm_findings/2025-03-01/ir.gz', { size: 10, storageClass: 'GLACIER_IR' });
  world.aws.putObject(bucket, 'qualys_vm_findings/2025-03-02/it.gz', { size: 10, storageClass: 'INTELLIGENT_TIERING' });
  // WHEN
  const { code, doc } = await world.json(['backfill', 'prod', '--config', world.config(), '--from', '2025-01-01']);
  const text = await world.run(['backfill', 'prod', '--config', world.config(), '--from', '2025-01-01', '--dry-run']);
  // THEN: GLACIER_IR and INTELLIGENT_TIERING are read as usual, and queued.
  expect(code).toBe(0);
  const vm = (doc as unknown as { prefixes: Array<Record<string, unknown>> }).prefixes[1];
  expect(vm).toMatchObject({
    prefix: 'qualys_vm_findings/',
    objects: 9 + 2, // deployed() puts two VM objects of 2026-11-23/24
    queued: 4,
    archived: {
      objects: 7,
      bytes: 70,
      byStorageClass: { GLACIER: 7 },
      keys: [1, 2, 3, 4, 5].map((d) => `qualys_vm_findings/2025-02-0${d}/a.gz`),
    },
    complete: true,
  });
  expect(text.stdout).toContain('7 archived (7 GLACIER; 70 B) not queued: they need a restore first');
  expect(text.stdout).toContain('... and 2 more');
  expect(text.stdout).toMatch(/restore them .* then run backfill again/);
  expect(text.stdout).toContain('4 objects would be queued');
});

test.each([
  ['STANDARD', false, false],
  ['GLACIER_IR', false, false],
  ['INTELLIGENT_TIERING', false, false],
  ['STANDARD_IA', false, false],
  ['GLACIER', false, true],
  ['DEEP_ARCHIVE', false, true],
  ['GLACIER', true, false],
  ['DEEP_ARCHIVE', true, false],
])(
  'GIVEN an object in %s, restored %p WHEN backfill decides THEN it needs a restore first: %p',
  (storageClass, restored, expected) => {
    expect(needsRestore({ storageClass, restored })).toBe(expected);
  },
);

test('GIVEN a send that fails partway through a prefix WHEN backfilled THEN the report counts what was already queued for that prefix, marked incomplete', async () => {
  // GIVEN: 45 PC objects (5 batches); SQS takes the first 2 batches, then refuses every call.
  const sent: string[] = [];
  let calls = 0;
  const aws: BackfillAws = {
    async *objects(_bucket, prefix) {
      if (!prefix.startsWith('qualys_pc')) return;
      for (let i = 0; i < 45; i++)
        yield { key: `${prefix}2026-11-25/${String(i).padStart(2, '0')}.gz`, size: 1, lastModified: Date.now() };
    },
    async sendBatch(_queueUrl, entries) {
      calls++;
      if (calls > 2) throw new Error('AccessDenied: not authorized to perform sqs:SendMessageBatch');
      sent.push(...entries.map((e) => e.id));
      return [];
    },
  };
  const ctx = {
    env: { envName: 'prod' },
    region: 'eu-west-1',
    aws: { region: 'eu-west-1', stack: async () => ({ outputs: { BucketName: 'raw', AnalyticsQueueUrl: 'q' } }) },
    progress: () => {},
  } as unknown as CommandContext;
  // WHEN
  const report = await backfill(ctx, { dryRun: false }, aws);
  // THEN
  expect(report).toMatchObject({ ok: false, exitCode: 1, error: { message: expect.stringMatching(/AccessDenied/) } });
  expect(report.prefixes).toEqual([
    expect.objectContaining({ prefix: 'qualys_pc_posture_info/', queued: 20, complete: false }),
  ]);
  expect(sent).toHaveLength(20);
});

test("GIVEN entries SQS fails on its side once, and one it fails as the sender's fault WHEN backfilled THEN the first are sent again and queued, the other is reported at once and never resent", async () => {
  // GIVEN: 3 PC objects; the first SendMessageBatch fails entry o1 on SQS's side and o2 as the sender's fault.
  const sends: string[][] = [];
  const aws: BackfillAws = {
    async *objects(_bucket, prefix) {
      if (!prefix.startsWith('qualys_pc')) return;
      for (let i = 0; i < 3; i++) yield { key: `${prefix}2026-11-25/${i}.gz`, size: 1, lastModified: Date.now() };
    },
    async sendBatch(_queueUrl, entries) {
      sends.push(entries.map((e) => e.id));
      if (sends.length > 1) return [];
      return [
        { id: 'o1', code: 'InternalError', message: 'try again', senderFault: false },
        { id: 'o2', code: 'InvalidMessageContents', message: 'bad characters', senderFault: true },
      ];
    },
  };
  const ctx = {
    env: { envName: 'prod' },
    region: 'eu-west-1',
    aws: { region: 'eu-west-1', stack: async () => ({ outputs: { BucketName: 'raw', AnalyticsQueueUrl: 'q' } }) },
    progress: () => {},
  } as unknown as CommandContext;
  // WHEN
  const report = await backfill(ctx, { dryRun: false }, aws);
  // THEN: one resend, of o1 only; 2 queued; the sender's fault named by its key
  expect(sends).toEqual([['o0', 'o1', 'o2'], ['o1']]);
  expect(report.prefixes).toEqual([
    expect.objectContaining({ prefix: 'qualys_pc_posture_info/', objects: 3, queued: 2 }),
    expect.objectContaining({ prefix: 'qualys_vm_findings/', objects: 0, queued: 0 }),
  ]);
  expect(report).toMatchObject({ ok: false, exitCode: 1 });
  expect(JSON.stringify(report)).toContain('qualys_pc_posture_info/2026-11-25/2.gz');
  expect(JSON.stringify(report)).toContain('InvalidMessageContents');
});

test('GIVEN an entry SQS fails on its side every time WHEN backfilled THEN it is sent 3 times in all, then reported', async () => {
  const sends: string[][] = [];
  const aws: BackfillAws = {
    async *objects(_bucket, prefix) {
      if (prefix.startsWith('qualys_pc')) yield { key: `${prefix}2026-11-25/0.gz`, size: 1, lastModified: Date.now() };
    },
    async sendBatch(_queueUrl, entries) {
      sends.push(entries.map((e) => e.id));
      return [{ id: 'o0', code: 'InternalError', message: 'try again', senderFault: false }];
    },
  };
  const ctx = {
    env: { envName: 'prod' },
    region: 'eu-west-1',
    aws: { region: 'eu-west-1', stack: async () => ({ outputs: { BucketName: 'raw', AnalyticsQueueUrl: 'q' } }) },
    progress: () => {},
  } as unknown as CommandContext;
  const report = await backfill(ctx, { dryRun: false }, aws);
  expect(sends).toEqual([['o0'], ['o0'], ['o0']]);
  expect(report).toMatchObject({ ok: false, exitCode: 1 });
  expect(JSON.stringify(report)).toContain('InternalError');
});
