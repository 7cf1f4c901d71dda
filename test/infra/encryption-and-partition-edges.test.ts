/**
 * Break-review of issue 10, items 2, 3 and 6, on the synthesized template: the bucket policy is
 * evaluated for the uploads a writer could send (which encryption each leaves the object
 * under), the Qualys principal of a stack whose partition is unknown at synth, and the README's
 * "*"-permission claim for configurations the existing tests do not combine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../src/config/config';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

type Json = any;

const outRoot = mkdtempSync(path.join(tmpdir(), 'qualys-break10-template-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));
let apps = 0;
const cache = new Map<string, Json>();

function templateOf(env: Record<string, unknown>, stackEnv?: Environment): Json {
  const key = JSON.stringify([env, stackEnv]);
  if (!cache.has(key)) {
    const config = parseConfig({ environments: { test: env } }).environments[0];
    const app = new App({ outdir: path.join(outRoot, String(++apps)) });
    cache.set(key, Template.fromStack(new QualysS3Stack(app, 'QualysS3-test', { config, env: stackEnv })).toJSON());
  }
  return cache.get(key);
}

const resources = (t: Json, type: string): Json[] =>
  Object.values(t.Resources as Record<string, Json>).filter((r) => r.Type === type);

const HERE = { account: '123456789012', region: 'eu-west-1' };
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY = 'arn:aws:kms:eu-west-1:999999999999:key/99999999-12ab-34cd-56ef-1234567890ab';
const VM = { platform: 'US1', credentialsSecret: 'qualys/api', vm: {} };
const WITH_KEY = { ...VM, ...HERE, bucket: { kmsKeyArn: KEY } };

/**
 * Whether the bucket policy denies a PutObject carrying these condition keys (a TLS 1.3
 * request is assumed). Only the operators the stack uses are understood; any other fails the test.
 */
function deniedBy(template: Json, request: Record<string, string>): string[] {
  const context: Record<string, string> = { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3', ...request };
  const statements: Json[] = resources(template, 'AWS::S3::BucketPolicy').flatMap(
    (p) => p.Properties.PolicyDocument.Statement,
  );
  const matches = (op: string, block: Record<string, unknown>): boolean =>
    Object.entries(block).every(([key, expected]) => {
      const values = [expected].flat().map(String);
      const actual = context[key];
      switch (op) {
        case 'Null':
          return values[0] === 'true' ? actual === undefined : actual !== undefined;
        case 'StringEquals':
          return actual !== undefined && values.includes(actual);
        case 'StringNotEquals':
          return actual === undefined || !values.includes(actual);
        case 'Bool':
          return actual !== undefined && values.includes(actual);
        case 'NumericLessThan':
          return actual !== undefined && Number(actual) < Number(values[0]);
        default:
          throw new Error(`operator ${op} not understood by this test`);
      }
    });
  return statements
    .filter((s) => s.Effect === 'Deny' && [s.Action].flat().some((a: string) => a === 's3:PutObject' || a === 's3:*'))
    .filter((s) =>
      Object.entries((s.Condition ?? {}) as Record<string, Record<string, unknown>>).every(([op, block]) =>
        matches(op, block),
      ),
    )
    .map((s) => s.Sid ?? JSON.stringify(s.Condition));
}

const SSE = 's3:x-amz-server-side-encryption';
const KEY_ID = 's3:x-amz-server-side-encryption-aws-kms-key-id';
const SSE_C = 's3:x-amz-server-side-encryption-customer-algorithm';

describe('a bucket with a customer-managed key (bucket.kmsKeyArn): which uploads the policy lets through', () => {
  test('GIVEN an upload naming no encryption WHEN evaluated THEN it is allowed (the bucket default, the configured key, applies)', () => {
    expect(deniedBy(templateOf(WITH_KEY, HERE), {})).toEqual([]);
  });

  test("GIVEN an upload naming aws:kms and the bucket's own key WHEN evaluated THEN it is allowed", () => {
    expect(deniedBy(templateOf(WITH_KEY, HERE), { [SSE]: 'aws:kms', [KEY_ID]: KEY })).toEqual([]);
  });

  test.each([
    ["another account's key", { [SSE]: 'aws:kms', [KEY_ID]: OTHER_KEY }],
    ['SSE-S3 (AES256)', { [SSE]: 'AES256' }],
    ['dual-layer SSE-KMS', { [SSE]: 'aws:kms:dsse', [KEY_ID]: KEY }],
    ['SSE-C', { [SSE_C]: 'AES256' }],
  ])('GIVEN an upload naming %s WHEN evaluated THEN it is denied', (_label, request) => {
    expect(deniedBy(templateOf(WITH_KEY, HERE), request)).not.toEqual([]);
  });

  // S3's PutObject reference: "If you specify x-amz-server-side-encryption:aws:kms ... but do not
  // provide x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the AWS managed key
  // (aws/s3)". The writer then chooses a key that is not bucket.kmsKeyArn: the owner's key
  // policy (who may read findings, audit, disable) no longer governs those objects.
  test('GIVEN an upload naming aws:kms without a key ID WHEN evaluated THEN it is denied (S3 would use aws/s3, not the configured key)', () => {
    expect(deniedBy(templateOf(WITH_KEY, HERE), { [SSE]: 'aws:kms' })).not.toEqual([]);
  });
});

describe('the default SSE-S3 bucket: which uploads the policy lets through', () => {
  test.each([
    ['no encryption', {}],
    ['AES256', { [SSE]: 'AES256' }],
  ])('GIVEN an upload naming %s WHEN evaluated THEN it is allowed', (_label, request) => {
    expect(deniedBy(templateOf(VM), request)).toEqual([]);
  });

  test.each([
    ['aws:kms without a key ID (aws/s3)', { [SSE]: 'aws:kms' }],
    ['aws:kms with a foreign key', { [SSE]: 'aws:kms', [KEY_ID]: OTHER_KEY }],
    ['a foreign key ID alone', { [KEY_ID]: OTHER_KEY }],
    ['SSE-C', { [SSE_C]: 'AES256' }],
  ])('GIVEN an upload naming %s WHEN evaluated THEN it is denied', (_label, request) => {
    expect(deniedBy(templateOf(VM), request)).not.toEqual([]);
  });
});

describe('the Qualys principal when the partition is unknown at synth (no "region")', () => {
  // Item 3: "In another partition, require an explicit qualysAwsAccountId ... with a clear
  // message." Without a region synth cannot know the partition, and the trust principal becomes
  // arn:${AWS::Partition}:iam::805950163170:..., which in GovCloud or China names an account that
  // is not Qualys's. A CloudFormation Rule can still refuse that deploy with a clear message.
  test('GIVEN no region and the default Qualys account WHEN synthesized THEN the template refuses to deploy outside the aws partition, naming qualysAwsAccountId', () => {
    const template = templateOf(VM);
    const rules = Object.values((template.Rules ?? {}) as Record<string, Json>);
    const guard = rules.find((r) => JSON.stringify(r).includes('AWS::Partition'));
    expect(guard).toBeDefined();
    expect(JSON.stringify(guard)).toMatch(/qualysAwsAccountId/);
  });

  test('GIVEN no region and an explicit Qualys account WHEN synthesized THEN the trust principal is that account in the deploy-time partition', () => {
    const template = templateOf({ ...VM, qualysAwsAccountId: '111122223333' });
    const role = resources(template, 'AWS::IAM::Role').find((r) =>
      /Assumed by Qualys/.test(r.Properties.Description ?? ''),
    );
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toMatch(
      /\{"Ref":"AWS::Partition"\},":iam::111122223333:role\/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE"/,
    );
  });
});

describe('"*" permissions for combined options (README: "exactly two cases")', () => {
  const VPC = {
    vpcId: 'vpc-0a1b2c3d4e5f67890',
    subnetIds: ['subnet-0a1b2c3d4e5f67890'],
    securityGroupIds: ['sg-0a1b2c3d4e5f67890'],
  };

  test.each([
    [
      'a VPC, a KMS key, a proxy and a bucket not retained',
      {
        ...WITH_KEY,
        pc: {},
        proxyUrl: 'http://proxy.example:3128',
        vpc: VPC,
        bucket: { kmsKeyArn: KEY, retainOnDelete: false },
      },
      HERE,
    ],
    [
      'a VPC, PC with CIPS policies and a filter, a full secret ARN',
      {
        ...VM,
        pc: { policies: [1, 2], filter: {} },
        vpc: VPC,
        credentialsSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:qualys/api-AbCdEf',
      },
      undefined,
    ],
  ])('GIVEN %s WHEN synthesized THEN the only "*" resources are the documented ones', (_label, env, stackEnv) => {
    const template = templateOf(env, stackEnv as Environment | undefined);
    const statements: Json[] = [];
    for (const r of Object.values(template.Resources as Record<string, Json>)) {
      if (['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type))
        statements.push(...r.Properties.PolicyDocument.Statement);
      if (r.Type === 'AWS::IAM::Role')
        for (const p of r.Properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
    }
    const wildcard = (res: unknown) =>
      typeof res === 'string' && (res === '*' || /^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$/.test(res));
    const star = statements.filter((s) => s.Effect === 'Allow' && [s.Resource].flat().some(wildcard));
    expect(star.map((s) => s.Sid)).toEqual(['ManageOwnNetworkInterfaces']);
    expect(statements.filter((s) => s.NotResource !== undefined || s.NotAction !== undefined)).toEqual([]);
  });
});
