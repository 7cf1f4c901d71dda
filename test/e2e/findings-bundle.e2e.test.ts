/**
 * The normalizer as it ships: the app synthesized with analytics on, the normalizer function's
 * asset from the cloud assembly loaded like a fresh Lambda container, its handler run on an SQS
 * event in the shape S3 -> SQS delivers, with the runtime's SDK talking to the fake AWS through
 * AWS_ENDPOINT_URL. What it writes is read back with DuckDB, the local engine of `query`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Template, functionAssetDir } from '../../sim/cfn-emulator';
import { synthApp } from '../../sim/deployment';
import { FakeAws } from '../../sim/fake-aws';
import { runLocalQuery } from '../../src/cli/local-query';
import { curatedKey, objectId } from '../../src/core/findings/layout';
import { s3EventBody } from '../../src/core/findings/s3-event';
import { postureHost, sqsEvent, sqsRecord } from '../support/findings-world';

const ROOT = path.join(__dirname, '..', '..');
const STACK = 'QualysS3-lake';
const FINDINGS = 'findings-bucket-e2e';
const LAKE = 'lake-bucket-e2e';
const DAY = '2026-03-04';

let outdir: string;
let synthesized: { template: Template; dir: string };
const aws = new FakeAws({ region: 'eu-west-1' });
const saved = { ...process.env };

beforeAll(async () => {
  outdir = fs.mkdtempSync(path.join(ROOT, '.tmp-e2e-lake-'));
  synthesized = synthApp(
    {
      environments: {
        lake: {
          account: '123456789012',
          region: 'eu-west-1',
          platform: 'US1',
          credentialsSecret: 'qualys/api',
          pc: {},
          analytics: { enabled: true },
        },
      },
    },
    path.join(outdir, 'synth'),
    STACK,
  );
  const endpoint = await aws.start();
  aws.createBucket(FINDINGS);
  aws.createBucket(LAKE);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDLAKE',
    AWS_SECRET_ACCESS_KEY: 'lake-test-secret',
  });
}, 180_000);

afterAll(async () => {
  process.env = saved;
  await aws.stop();
  fs.rmSync(outdir, { recursive: true, force: true });
});

function normalizerLogicalId(template: Template): string {
  const [id] = Object.entries(template.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties?.Environment ?? {}).includes('LAKE_BUCKET'),
  ) ?? [''];
  return id;
}

test('GIVEN the synthesized app with analytics WHEN its bundled normalizer handles a notification THEN the Parquet it writes answers a query', async () => {
  const { template, dir } = synthesized;
  const logicalId = normalizerLogicalId(template);
  expect(logicalId).not.toBe('');
  const entry = path.join(functionAssetDir(dir, template, logicalId), 'index.js');
  // GIVEN the function's environment as the template sets it, with the fake's bucket names
  const environment = template.Resources[logicalId].Properties?.Environment as { Variables: Record<string, unknown> };
  const variables = environment.Variables;
  expect(Object.keys(variables).sort()).toEqual(['FINDINGS_BUCKET', 'LAKE_BUCKET']);
  Object.assign(process.env, { FINDINGS_BUCKET: FINDINGS, LAKE_BUCKET: LAKE });
  const key = `qualys_pc_posture_info/${DAY}/3f1c2a9e-8d4b-4e6f-a1b2-c3d4e5f60718.gz`;
  const body = gzipSync([postureHost(7001, 2, 3), postureHost(7002, 2, 3)].map((h) => JSON.stringify(h)).join('\n'));
  aws.putObject(FINDINGS, key, { body });

  // WHEN the bundle, loaded fresh, handles the message
  delete require.cache[require.resolve(entry)];
  const { handler } = require(entry) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
  const event = sqsEvent(sqsRecord(s3EventBody([{ bucket: FINDINGS, key, size: body.length }])));
  const answer = await handler(event, { getRemainingTimeInMillis: () => 900_000 });

  // THEN no message failed, and the day's Parquet holds one row per host x policy x control
  expect(answer).toEqual({ batchItemFailures: [] });
  const parquetKey = curatedKey('pc_postures', DAY, objectId(FINDINGS, key));
  const parquet = aws.object(LAKE, parquetKey);
  expect(parquet).toBeDefined();
  const local = fs.mkdtempSync(path.join(outdir, 'lake-'));
  const file = path.join(local, parquetKey.replace(/^curated\//, ''));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, parquet!.body);
  const result = await runLocalQuery(
    local,
    'SELECT host_id, count(*) AS rows, min(day) AS day FROM pc_postures GROUP BY host_id ORDER BY host_id',
  );
  expect(result.rows).toEqual([
    [7001, 6, DAY],
    [7002, 6, DAY],
  ]);
}, 120_000);
