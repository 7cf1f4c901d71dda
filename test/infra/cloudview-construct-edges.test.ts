/**
 * Break-review (issue 13, second pass): the construct library path with `cloudView`. Two
 * onboardings of one account in one app, and two environments of one configuration, each with
 * a connector: the plan refuses (or, with a name match, adopts) a second connector for the same
 * account at deploy, so the clash must be caught at synth as vm/pc names are.
 */
import { App, Stack } from 'aws-cdk-lib';
import { ConfigError, parseConfig } from '../../src/config/config';
import { QualysS3Onboarding } from '../../src/infra/qualys-s3-onboarding';

const ACCOUNT = '111122223333';
const BASE = { platform: 'EU1', credentialsSecret: 'qualys/api-credentials' };

function onboardTwice(a: Record<string, unknown>, b: Record<string, unknown>, regions = ['eu-west-1', 'eu-central-1']) {
  const app = new App();
  const one = new Stack(app, 'One', { env: { account: ACCOUNT, region: regions[0] } });
  const two = new Stack(app, 'Two', { env: { account: ACCOUNT, region: regions[1] } });
  new QualysS3Onboarding(one, 'Qualys', { ...BASE, ...a } as never);
  return () => new QualysS3Onboarding(two, 'Qualys', { ...BASE, ...b } as never);
}

describe('two onboardings with cloudView in one app', () => {
  test("GIVEN two onboardings of the same envName in two regions of one account, both with cloudView THEN the second throws a ConfigError (both default to the connector name qs3-<env>-cloudview-<account>: the second would adopt or be refused the first's connector)", () => {
    const second = onboardTwice({ envName: 'prod', cloudView: true }, { envName: 'prod', cloudView: true });
    expect(second).toThrow(ConfigError);
  });

  test('GIVEN two onboardings with the same explicit cloudView.name on one account THEN the second throws a ConfigError naming the connector name', () => {
    const second = onboardTwice(
      { envName: 'a', cloudView: { name: 'acme-cspm' } },
      { envName: 'b', cloudView: { name: 'acme-cspm' } },
    );
    expect(second).toThrow(/acme-cspm/);
  });

  test('GIVEN two onboardings of one account, both with cloudView (different names) THEN the second throws a ConfigError (one connector per account: the deploy plan refuses a second for the account)', () => {
    const second = onboardTwice({ envName: 'a', cloudView: true }, { envName: 'b', cloudView: true });
    expect(second).toThrow(/cloudView/);
  });

  test('GIVEN two onboardings with cloudView in two accounts THEN both synthesize', () => {
    const app = new App();
    const one = new Stack(app, 'One', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const two = new Stack(app, 'Two', { env: { account: '444455556666', region: 'eu-west-1' } });
    new QualysS3Onboarding(one, 'Qualys', { ...BASE, envName: 'a', cloudView: true } as never);
    expect(
      () => new QualysS3Onboarding(two, 'Qualys', { ...BASE, envName: 'b', cloudView: true } as never),
    ).not.toThrow();
  });
});

describe('two environments with cloudView in one configuration', () => {
  test('GIVEN two environments of one account, both with cloudView THEN parseConfig reports it (naming cloudView), as it does shared integration names', () => {
    const parse = () =>
      parseConfig({
        environments: {
          euw: { ...BASE, account: ACCOUNT, region: 'eu-west-1', cloudView: true },
          euc: { ...BASE, account: ACCOUNT, region: 'eu-central-1', cloudView: true },
        },
      });
    expect(parse).toThrow(/cloudView/);
  });

  test('GIVEN two environments of different accounts with the same explicit cloudView.name on one platform THEN parseConfig reports it (the second create is refused: "already exists in Qualys for another AWS account")', () => {
    const parse = () =>
      parseConfig({
        environments: {
          a: { ...BASE, account: ACCOUNT, region: 'eu-west-1', cloudView: { name: 'acme' } },
          b: { ...BASE, account: '444455556666', region: 'eu-west-1', cloudView: { name: 'acme' } },
        },
      });
    expect(parse).toThrow(/acme/);
  });
});

describe('cdk-nag over a consumer stack with cloudView', () => {
  test.each([
    ['cloudView only, the secret as an ISecret', { cloudView: true }, 'eu-west-1'],
    ['VM and asset inventory', { vm: {}, cloudView: { modules: ['assetInventory'] } }, 'eu-west-1'],
    [
      'GovCloud with its Qualys account',
      {
        platform: undefined,
        gatewayUrl: 'https://gateway.gov1.qualys.us',
        qualysAwsAccountId: '999988887777',
        cloudView: { apiUrl: 'https://qualysapi.gov1.qualys.us' },
      },
      'us-gov-west-1',
    ],
  ])('GIVEN %s THEN no finding is left unacknowledged', (_label, extra, region) => {
    const { mkdtempSync, readFileSync, rmSync } = require('node:fs') as typeof import('node:fs');
    const { tmpdir } = require('node:os') as typeof import('node:os');
    const path = require('node:path') as typeof import('node:path');
    const { Validations } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const { AwsSolutionsChecks } = require('cdk-nag') as typeof import('cdk-nag');
    const secretsmanager = require('aws-cdk-lib/aws-secretsmanager') as typeof import('aws-cdk-lib/aws-secretsmanager');
    const outdir = mkdtempSync(path.join(tmpdir(), 'qualys-nag-cv2-'));
    try {
      const app = new App({ outdir });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const stack = new Stack(app, 'Consumer', { env: { account: ACCOUNT, region } });
      const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'qualys/api-credentials');
      new QualysS3Onboarding(stack, 'Security', {
        ...BASE,
        envName: 'prod',
        credentialsSecret: secret,
        ...extra,
      } as never);
      app.synth();
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: Array<{
          pluginName: string;
          violations: Array<{ ruleName: string; violatingResources: Array<{ resourceLogicalId: string }> }>;
        }>;
      };
      const [nag] = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
      expect(
        nag.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`),
      ).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
