/**
 * Break-it pass over QualysS3Stack and QualysS3Onboarding.fromConfig as library exports (issue
 * 12): a consumer who keeps a JSON configuration and builds "the stack the app makes", and the
 * app mode itself, whose stacks must stay those deployed before the library existed. Tests named
 * The defects it found are fixed; their tests state the correct behaviour.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError, type EnvironmentConfig, parseConfig, stackName } from '../../src/config/config';
import { QualysS3Onboarding } from '../../src/infra/qualys-s3-onboarding';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The configuration the pre-library app (commit dccf802^) was synthesized with for the pins below. */
const CONFIG = {
  environments: {
    prod: {
      account: '111122223333',
      region: 'eu-west-1',
      platform: 'EU1',
      credentialsSecret: 'qualys/api-credentials',
      bucket: { kmsKeyArn: KEY, retainOnDelete: false, expireAfterDays: 400, transitionAfterDays: 30 },
      vm: { minSeverity: 4 },
      pc: { policies: [1, 2], filter: {} },
      tags: { team: 'sec' },
      vpc: { vpcId: 'vpc-0a1b2c3d4e5f67890', subnetIds: ['subnet-0a1b2c3d'], securityGroupIds: ['sg-0a1b2c3d'] },
      proxyUrl: 'http://proxy.example.com:3128',
    },
    dev: {
      platform: 'US1',
      credentialsSecret: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:q-AbCdEf',
      region: 'us-east-1',
      vm: true,
    },
  },
};

function environment(name: string): EnvironmentConfig {
  const env = parseConfig(CONFIG).environments.find((e) => e.envName === name);
  if (!env) throw new Error(name);
  return env;
}

/** A stack as bin/app.ts makes it. */
function appStack(name: string): QualysS3Stack {
  const env = environment(name);
  return new QualysS3Stack(new App(), stackName(env.envName), {
    config: env,
    env: env.account || env.region ? { account: env.account, region: env.region } : undefined,
  });
}

describe('app mode: the stacks deployed before the library', () => {
  // Logical IDs and outputs of `cdk synth -c config=<CONFIG>` at dccf802^ (the tree before the library work).
  const BEFORE: Record<string, { resources: string[]; outputs: string[]; frameworkDescription: string }> = {
    prod: {
      resources: [
        'CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F',
        'CustomS3AutoDeleteObjectsCustomResourceProviderHandlerLogs5E5D1456',
        'CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092',
        'FindingsBucketAutoDeleteObjectsCustomResourceA24DECBA',
        'FindingsBucketB0DAC543',
        'FindingsBucketPolicy5228F1D1',
        'FindingsBucketWritePolicyCD3ADFA9',
        'IntegrationProviderFrameworkLogsBBBA254A',
        'IntegrationProviderFrameworkRoleCEDF6F59',
        'IntegrationProviderFrameworkRoleDefaultPolicyFF598A32',
        'IntegrationProviderHandlerE88AC442',
        'IntegrationProviderHandlerLogsB7514141',
        'IntegrationProviderHandlerRoleDefaultPolicy0FE79669',
        'IntegrationProviderHandlerRoleF6E7CA9F',
        'IntegrationProviderframeworkonEvent568D4EFD',
        'PcIntegrationA13CC7F8',
        'PcRoleDFCF2363',
        'VmIntegration8BEFA560',
        'VmRoleD6C097D2',
      ],
      outputs: [
        'BucketName',
        'PcIntegrationId',
        'PcIntegrationName',
        'PcRoleArn',
        'VmIntegrationId',
        'VmIntegrationName',
        'VmRoleArn',
      ],
      frameworkDescription:
        'AWS CDK resource provider framework - onEvent (QualysS3-prod/IntegrationProvider/Provider)',
    },
    dev: {
      resources: [
        'FindingsBucketB0DAC543',
        'FindingsBucketPolicy5228F1D1',
        'FindingsBucketWritePolicyCD3ADFA9',
        'IntegrationProviderFrameworkLogsBBBA254A',
        'IntegrationProviderFrameworkRoleCEDF6F59',
        'IntegrationProviderFrameworkRoleDefaultPolicyFF598A32',
        'IntegrationProviderHandlerE88AC442',
        'IntegrationProviderHandlerLogsB7514141',
        'IntegrationProviderHandlerRoleDefaultPolicy0FE79669',
        'IntegrationProviderHandlerRoleF6E7CA9F',
        'IntegrationProviderframeworkonEvent568D4EFD',
        'VmIntegration8BEFA560',
        'VmRoleD6C097D2',
      ],
      outputs: ['BucketName', 'VmIntegrationId', 'VmIntegrationName', 'VmRoleArn'],
      frameworkDescription: 'AWS CDK resource provider framework - onEvent (QualysS3-dev/IntegrationProvider/Provider)',
    },
  };

  test.each(['prod', 'dev'])(
    'GIVEN environment %s THEN the logical IDs and outputs are those of the stacks deployed before the library',
    (name) => {
      const template = Template.fromStack(appStack(name)).toJSON();
      expect(
        Object.keys(template.Resources)
          .filter((id) => id !== 'CDKMetadata')
          .sort(),
      ).toEqual(BEFORE[name].resources);
      expect(Object.keys(template.Outputs).sort()).toEqual(BEFORE[name].outputs);
    },
  );

  test.each(['prod', 'dev'])(
    'GIVEN environment %s WHEN a stack deployed before the library is synthesized again THEN the Provider framework function keeps its description (no update of a deployed function on upgrade)',
    (name) => {
      // Today the description carries the new construct path, ".../Default/IntegrationProvider/Provider",
      // so every deployed stack's framework function is updated on the first deploy after upgrading.
      const template = Template.fromStack(appStack(name)).toJSON();
      expect(template.Resources.IntegrationProviderframeworkonEvent568D4EFD.Properties.Description).toBe(
        BEFORE[name].frameworkDescription,
      );
    },
  );
});

describe('QualysS3Stack from a JSON configuration, as a consumer writes it', () => {
  test("GIVEN an environment with account and region and no env prop (the README's and packaging test's usage) THEN the stack deploys to the environment's account and region, as the app's does", () => {
    const env = environment('prod');
    const stack = new QualysS3Stack(new App(), stackName(env.envName), { config: env });
    // Today: an environment-agnostic stack (the CLI's account and region decide at deploy), whose
    // default integration names are built from ${AWS::AccountId} and ${AWS::Region}.
    expect({ account: stack.account, region: stack.region }).toEqual({ account: '111122223333', region: 'eu-west-1' });
  });

  test("GIVEN an env prop that disagrees with the environment's account and region THEN the stack refuses it, as the construct refuses props that disagree with its stack", () => {
    const env = environment('prod');
    expect(
      () =>
        new QualysS3Stack(new App(), stackName(env.envName), {
          config: env,
          env: { account: '999988887777', region: 'us-east-1' },
        }),
    ).toThrow(/account|region/);
  });

  test("GIVEN QualysS3Onboarding.fromConfig in a stack of another region than the environment's THEN it is refused (the config was validated for eu-west-1, e.g. its KMS key)", () => {
    const stack = new Stack(new App(), 'Platform', { env: { account: '111122223333', region: 'us-east-1' } });
    expect(() => QualysS3Onboarding.fromConfig(stack, 'Qualys', environment('prod'))).toThrow(
      /region "?eu-west-1"?.*us-east-1|us-east-1.*eu-west-1/,
    );
  });

  test('GIVEN QualysS3Onboarding.fromConfig in a stack of the same account and region THEN it builds what the props would, with the defaults filled in', () => {
    const env = environment('prod');
    const stack = new Stack(new App(), 'Platform', { env: { account: env.account, region: env.region } });
    const onboarding = QualysS3Onboarding.fromConfig(stack, 'Qualys', env);
    expect(onboarding.config).toBe(env);
    expect(onboarding.vm?.kind).toBe('vm');
    expect(onboarding.pc?.kind).toBe('pc');
    Template.fromStack(stack).resourceCountIs('Custom::QualysS3Integration', 2);
  });

  test('GIVEN props whose validation fails THEN the error is the ConfigError a consumer can catch from the package, with its problems', () => {
    const stack = new Stack(new App(), 'Platform');
    let caught: unknown;
    try {
      new QualysS3Onboarding(stack, 'Qualys', {
        envName: 'prod',
        credentialsSecret: '',
        vm: { minSeverity: 0 },
      } as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.length).toBeGreaterThanOrEqual(2);
  });
});
