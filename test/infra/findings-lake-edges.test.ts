/**
 * The findings lake's template attacked from the data path (independent review, issue 14): what
 * real S3 answers the normalizer depends on the role's permissions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../src/config/config';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

type Json = any;

const outRoot = mkdtempSync(path.join(tmpdir(), 'qualys-lake-edges-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

const LAKE = {
  platform: 'US1',
  credentialsSecret: 'qualys/api-credentials',
  vm: {},
  pc: {},
  analytics: { enabled: true, rawDataExpirationDays: 60 },
};

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('the normalizer role and S3 answers', () => {
  test('GIVEN analytics WHEN the normalizer role is read THEN it may s3:ListBucket the findings bucket, so that a raw object deleted since its notification answers 404 (handled) and not 403 (failed to the DLQ)', () => {
    // GIVEN: S3 answers a GET/HEAD of a missing key with 403 AccessDenied unless the caller may
    // s3:ListBucket the bucket (S3 API reference, GetObject / HeadObject permissions). The handler treats
    // NoSuchKey/404 as "object gone: success" and everything else as a failure to retry; raw objects do
    // disappear (rawDataExpirationDays, a backfill or DLQ redrive after they expired).
    const app = new App({ outdir: path.join(outRoot, 'a') });
    const config = parseConfig({ environments: { dev: LAKE } }).environments[0];
    const t = Template.fromStack(new QualysS3Stack(app, 'QualysS3-dev', { config })).toJSON();
    const ids = (type: string, part: string) =>
      Object.entries<Json>(t.Resources)
        .filter(([id, r]) => r.Type === type && id.includes(part))
        .map(([id]) => id);
    const [roleId] = ids('AWS::IAM::Role', 'NormalizerRole');
    const [bucketId] = ids('AWS::S3::Bucket', 'FindingsBucket');
    // WHEN
    const listed = Object.values<Json>(t.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: Json) => s.Effect === 'Allow' && asArray<string>(s.Action).includes('s3:ListBucket'))
      .flatMap((s: Json) => asArray<Json>(s.Resource))
      .map((r: Json) => JSON.stringify(r));
    // THEN: today only the lake bucket is listable.
    expect(listed).toContain(JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] }));
  });
});
