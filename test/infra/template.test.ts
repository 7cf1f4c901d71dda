/**
 * Adversarial: the synthesized template. The issue: the trust policy "carries an
 * sts:ExternalId condition from the moment it exists"; "Partition-aware ARNs, no hard-coded
 * arn:aws"; "every function of the stack, the Provider framework's included, has an explicit log
 * group with retention; the Lambda's role may read only that secret and change only that role's
 * trust policy"; "Later stack updates must not silently drop the injected external ID".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../src/config/config';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const BASE = { platform: 'US1', credentialsSecret: 'qualys/api-credentials' };
const cache = new Map<string, Json>();
// Assemblies under one folder removed after the file, not cdk.out* folders left in the temp directory.
const outRoot = mkdtempSync(path.join(tmpdir(), 'qualys-adv-template-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));
function synth(env: Record<string, unknown>, stackEnv?: { account?: string; region?: string }): Json {
  const key = JSON.stringify([env, stackEnv]);
  if (!cache.has(key)) {
    const app = new App({ outdir: path.join(outRoot, String(cache.size)) });
    const config = parseConfig({ environments: { adv: env } }).environments[0];
    const stack = new QualysS3Stack(app, 'QualysS3-adv', { config, env: stackEnv });
    cache.set(key, Template.fromStack(stack).toJSON());
  }
  return cache.get(key);
}

const CONFIGS: Array<[string, Record<string, unknown>, { account?: string; region?: string }?]> = [
  ['VM only', { ...BASE, vm: {} }],
  ['PC only', { ...BASE, pc: { policies: [1] } }],
  ['both, not retained', { ...BASE, vm: {}, pc: {}, bucket: { retainOnDelete: false }, logRetentionDays: 7 }],
  [
    'custom Qualys account, explicit env',
    { ...BASE, vm: {}, pc: {}, qualysAwsAccountId: '111122223333', account: '123456789012', region: 'eu-west-1' },
    { account: '123456789012', region: 'eu-west-1' },
  ],
];

const resources = (t: Json, type?: string): Array<[string, Json]> =>
  Object.entries(t.Resources as Record<string, Json>).filter(([, r]) => !type || r.Type === type);
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe.each(CONFIGS)('%s', (_label, env, stackEnv) => {
  const t = () => synth(env, stackEnv);

  test('GIVEN the synthesized template WHEN the roles trusting the Qualys principal are read THEN there is one at least, and each Allow statement has only a StringEquals sts:ExternalId condition', () => {
    const qualysRoles = resources(t(), 'AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE'),
    );
    expect(qualysRoles.length).toBeGreaterThan(0);
    for (const [, role] of qualysRoles) {
      for (const s of role.Properties.AssumeRolePolicyDocument.Statement) {
        if (s.Effect !== 'Allow') continue;
        expect(s.Condition?.StringEquals?.['sts:ExternalId']).toEqual(expect.any(String));
        expect(Object.keys(s.Condition)).toEqual(['StringEquals']);
      }
    }
  });

  test('GIVEN the synthesized template WHEN every IAM statement is read THEN none allows a wildcard resource or action, and only the auto-delete role has an AWS managed policy', () => {
    const bad: string[] = [];
    for (const [id, r] of resources(t())) {
      const docs: Json[] = [];
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') docs.push(r.Properties.PolicyDocument);
      if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
      for (const doc of docs) {
        for (const s of doc.Statement) {
          if (s.Effect !== 'Allow') continue;
          for (const res of asArray(s.Resource)) if (res === '*') bad.push(`${id}: Resource *`);
          for (const a of asArray<string>(s.Action)) if (a.includes('*')) bad.push(`${id}: Action ${a}`);
        }
      }
      if (r.Type === 'AWS::IAM::Role') {
        for (const m of r.Properties.ManagedPolicyArns ?? []) {
          const text = JSON.stringify(m);
          if (text.includes(':iam::aws:policy/') && !id.startsWith('CustomS3AutoDeleteObjects'))
            bad.push(`${id}: AWS managed policy ${text}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  test('GIVEN the synthesized template WHEN its Lambda functions are read THEN each logs to a log group of the stack with the configured retention (90 days by default)', () => {
    const retention = (env.logRetentionDays as number | undefined) ?? 90;
    const groups = Object.fromEntries(resources(t(), 'AWS::Logs::LogGroup'));
    const fns = resources(t(), 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(0);
    for (const [id, fn] of fns) {
      const ref = fn.Properties.LoggingConfig?.LogGroup?.Ref;
      expect({ id, ref }).toEqual({ id, ref: expect.any(String) });
      expect({ id, retention: groups[ref]?.Properties?.RetentionInDays }).toEqual({ id, retention });
    }
  });

  test('GIVEN the synthesized template WHEN its text is searched THEN no string starts with a hard-coded arn:aws: partition', () => {
    expect(JSON.stringify(t())).not.toMatch(/"arn:aws:/);
  });

  test("GIVEN the synthesized template WHEN its IAM policies are read THEN exactly one statement touches Secrets Manager, allowing only GetSecretValue on that secret's name-?????? ARN", () => {
    const statements = resources(t(), 'AWS::IAM::Policy').flatMap(([, r]) => r.Properties.PolicyDocument.Statement);
    const read = statements.filter((s: Json) => asArray<string>(s.Action).some((a) => a.startsWith('secretsmanager:')));
    expect(read).toHaveLength(1);
    expect(asArray(read[0].Action)).toEqual(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(read[0].Resource)).toMatch(/secret:qualys\/api-credentials-\?{6}"/);
  });
});

test('GIVEN qualysAwsAccountId changes WHEN re-synthesized THEN the trust fingerprint changes too (so the injected external ID is put back after CloudFormation rewrites the trust policy)', () => {
  const fp = (t: Json) =>
    resources(t, 'Custom::QualysS3Integration')
      .map(([, r]) => r.Properties.TrustPolicyFingerprint)
      .sort();
  const a = synth({ ...BASE, vm: {}, pc: {} });
  const b = synth({ ...BASE, vm: {}, pc: {}, qualysAwsAccountId: '111122223333' });
  const roleDoc = (t: Json) =>
    resources(t, 'AWS::IAM::Role')
      .filter(([id]) => /^(Vm|Pc)Role/.test(id))
      .map(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument));
  expect(roleDoc(a)).not.toEqual(roleDoc(b));
  const [fa, fb] = [fp(a), fp(b)];
  expect(fa[0]).not.toEqual(fb[0]);
  expect(fa[1]).not.toEqual(fb[1]);
});

test('GIVEN only the log retention changes WHEN re-synthesized THEN no custom-resource property changes (no Qualys call on that deploy)', () => {
  const props = (t: Json) =>
    resources(t, 'Custom::QualysS3Integration').map(([, r]) =>
      JSON.stringify({ ...r.Properties, ServiceToken: undefined }),
    );
  expect(props(synth({ ...BASE, vm: {}, pc: {}, logRetentionDays: 7 }))).toEqual(
    props(synth({ ...BASE, vm: {}, pc: {}, logRetentionDays: 30 })),
  );
});

test('GIVEN any configuration WHEN synthesized THEN the handler times out before the Provider framework does (the framework always answers)', () => {
  const t = synth({ ...BASE, vm: {} });
  const fns = resources(t, 'AWS::Lambda::Function');
  const handler = fns.find(([id]) => id.startsWith('IntegrationProviderHandler'))![1];
  const framework = fns.find(([id]) => id.startsWith('IntegrationProviderframework'))![1];
  expect(handler.Properties.Timeout).toBeLessThan(framework.Properties.Timeout);
});
