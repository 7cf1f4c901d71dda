/**
 * cdk-nag's AwsSolutions rules over every kind of stack the app makes: no finding may be left
 * unacknowledged, and each acknowledgement is one this project made on purpose (with its
 * reason, next to the construct it concerns).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../src/config/config';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

interface Violation {
  ruleName: string;
  severity: string;
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

const BASE = { platform: 'US1', credentialsSecret: 'qualys/api-credentials' };
const CONFIGS: Array<[string, Record<string, unknown>, { account?: string; region?: string }?]> = [
  ['VM only, defaults', { ...BASE, vm: {} }],
  [
    'VM and PC, bucket not retained, a proxy',
    {
      ...BASE,
      vm: {},
      pc: { policies: [1], filter: {} },
      bucket: { retainOnDelete: false },
      proxyUrl: 'http://proxy.example:3128',
    },
  ],
  [
    'VM in a VPC',
    {
      ...BASE,
      vm: {},
      vpc: {
        vpcId: 'vpc-0a1b2c3d4e5f67890',
        subnetIds: ['subnet-0a1b2c3d4e5f67890'],
        securityGroupIds: ['sg-0a1b2c3d4e5f67890'],
      },
    },
  ],
  [
    'VM with a customer-managed KMS key and a findings lifecycle, explicit account and region',
    {
      ...BASE,
      vm: {},
      account: '123456789012',
      region: 'eu-west-1',
      bucket: {
        kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        expireAfterDays: 400,
        transitionAfterDays: 30,
      },
    },
    { account: '123456789012', region: 'eu-west-1' },
  ],
  [
    'PC only, explicit account and region',
    { ...BASE, pc: {}, account: '123456789012', region: 'eu-west-1', bucket: { bucketName: 'acme-qualys-findings' } },
    { account: '123456789012', region: 'eu-west-1' },
  ],
];

/** The acknowledgements this project makes, by rule (the finding's detail follows in brackets). */
const ACKNOWLEDGED = ['AwsSolutions-S1', 'AwsSolutions-IAM5'];

describe.each(CONFIGS)('cdk-nag AwsSolutions: %s', (_label, env, stackEnv) => {
  test('GIVEN the stack WHEN synthesized with the AwsSolutions checks THEN no finding is left, and only the known ones are acknowledged', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'qualys-nag-'));
    try {
      const app = new App({ outdir });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const config = parseConfig({ environments: { nag: env } }).environments[0];
      new QualysS3Stack(app, 'QualysS3-nag', { config, env: stackEnv });
      app.synth();
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
      const [nag] = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
      expect(
        nag.violations.map((v) => `${v.ruleName} ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
      ).toEqual([]);
      expect(nag.conclusion).toBe('success');
      for (const suppressed of nag.suppressedViolations ?? []) {
        expect(ACKNOWLEDGED).toContain(suppressed.ruleName.replace(/\[.*$/, ''));
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
