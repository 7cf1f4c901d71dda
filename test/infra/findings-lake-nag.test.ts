/**
 * cdk-nag's AwsSolutions rules over stacks with the findings lake: no finding is left, and the
 * only acknowledgements are the project's known ones (each with its reason next to its construct).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../src/config/config';
import { QualysS3Onboarding } from '../../src/infra/qualys-s3-onboarding';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

interface Violation {
  ruleName: string;
  violatingConstructs: Array<{ constructPath: string }>;
}
interface Report {
  pluginReports: Array<{
    pluginName: string;
    conclusion: string;
    violations: Violation[];
    suppressedViolations?: Violation[];
  }>;
}

const BASE = { platform: 'US1' as const, credentialsSecret: 'qualys/api-credentials' };
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The rules acknowledged anywhere, and where the lake adds to them. */
const ACKNOWLEDGED = ['AwsSolutions-S1', 'AwsSolutions-IAM5', 'AwsSolutions-IAM4'];

function nagReport(build: (app: App) => void): Report['pluginReports'][number] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'qualys-lake-nag-'));
  try {
    const app = new App({ outdir });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    build(app);
    app.synth();
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
    return report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions')[0];
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function expectClean(nag: Report['pluginReports'][number]): void {
  expect(
    nag.violations.map((v) => `${v.ruleName} ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
  ).toEqual([]);
  expect(nag.conclusion).toBe('success');
  for (const suppressed of nag.suppressedViolations ?? []) {
    expect(ACKNOWLEDGED).toContain(suppressed.ruleName.replace(/\[.*$/, ''));
  }
}

const CONFIGS: Array<[string, Record<string, unknown>]> = [
  [
    'VM and PC, SSE-S3, raw expiry',
    { ...BASE, vm: {}, pc: {}, analytics: { enabled: true, rawDataExpirationDays: 90 } },
  ],
  [
    'PC, a customer-managed key, not retained, explicit account and region, an alarm topic',
    {
      ...BASE,
      pc: {},
      account: '123456789012',
      region: 'eu-west-1',
      bucket: { kmsKeyArn: KEY_ARN, retainOnDelete: false },
      analytics: {
        enabled: true,
        bytesScannedLimitMb: 100,
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:qualys-findings-alarms',
      },
    },
  ],
];

describe.each(CONFIGS)('cdk-nag AwsSolutions with the findings lake: %s', (_label, env) => {
  test('GIVEN the stack WHEN synthesized with the AwsSolutions checks THEN no finding is left, and only the known ones are acknowledged', () => {
    const nag = nagReport((app) => {
      const config = parseConfig({ environments: { nag: env } }).environments[0];
      new QualysS3Stack(app, 'QualysS3-nag', {
        config,
        env: env.account ? { account: env.account as string, region: env.region as string } : undefined,
      });
    });

    expectClean(nag);
    // The lake's own acknowledgements are there (a suppression that matched nothing would not be listed).
    expect((nag.suppressedViolations ?? []).map((v) => v.ruleName)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<\w+\.Arn>\/qualys_pc_posture_info\/\*\]$/),
        expect.stringMatching(/^AwsSolutions-IAM4\[Policy::.*AWSLambdaBasicExecutionRole\]$/),
      ]),
    );
  });
});

test('GIVEN the construct with an existing bucket of another stack WHEN synthesized with the AwsSolutions checks THEN no finding is left', () => {
  const nag = nagReport((app) => {
    const env = { account: '123456789012', region: 'eu-west-1' };
    const storage = new Stack(app, 'Storage', { env });
    const bucket = new s3.Bucket(storage, 'Findings', { enforceSSL: true });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions::AwsSolutions-S1', reason: 'test fixture' });
    const platform = new Stack(app, 'Platform', { env });
    new QualysS3Onboarding(platform, 'Qualys', {
      envName: 'prod',
      ...BASE,
      vm: {},
      bucket,
      analytics: { enabled: true },
    });
  });

  expectClean(nag);
});
