/**
 * The CloudView / TotalCloud connector in the stack: a read-only role trusted by Qualys's
 * account only with this stack's external ID, permissions that follow the modules, and the
 * connector custom resource, which runs once the role exists. cdk-nag over stacks with it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../src/config/config';
import { ALLOWED_GATEWAYS_ENV } from '../../src/core/contract';
import { CONNECTOR_RESOURCE_TYPE, ConnectorProp } from '../../src/core/connector-contract';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const BASE = { platform: 'EU1', credentialsSecret: 'qualys/api-credentials', ...ENV };

function synth(env: Record<string, unknown>, outdir?: string) {
  const app = new App(outdir ? { outdir } : {});
  if (outdir) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const config = parseConfig({ environments: { dev: env } }).environments[0];
  const stack = new QualysS3Stack(app, 'QualysS3-dev', { config });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
const resources = (t: Template) => Object.entries(t.toJSON().Resources as Record<string, Resource>);
const connectorRole = (t: Template) =>
  resources(t).find(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('CloudViewRole'))!;
const connector = (t: Template) => resources(t).find(([, r]) => r.Type === CONNECTOR_RESOURCE_TYPE)!;
const roleActions = (t: Template) =>
  resources(t)
    .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('CloudViewRoleDefaultPolicy'))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement)
    .flatMap((s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('the connector role', () => {
  test("GIVEN cloudView WHEN synthesized THEN the role trusts Qualys's account (:root, partition-aware) only with the stack's external ID", () => {
    const { template } = synth({ ...BASE, cloudView: {} });
    const [, role] = connectorRole(template);
    const [statement, ...others] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(others).toEqual([]);
    expect(statement.Principal).toEqual({
      AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::805950163170:root']] },
    });
    const externalId = statement.Condition.StringEquals['sts:ExternalId'];
    // Derived from the stack's own ID: unique per stack, stable for its life.
    expect(JSON.stringify(externalId)).toContain('"Ref":"AWS::StackId"');
    const [, resource] = connector(template);
    expect(resource.Properties[ConnectorProp.ExternalId]).toEqual(externalId);
    expect(resource.Properties[ConnectorProp.RoleArn]).toEqual({ 'Fn::GetAtt': [connectorRole(template)[0], 'Arn'] });
  });

  test('GIVEN all three modules (the default) THEN SecurityAudit and the read-only extras, and no write action', () => {
    const { template } = synth({ ...BASE, cloudView: true });
    const [, role] = connectorRole(template);
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain(':iam::aws:policy/SecurityAudit');
    const actions = roleActions(template);
    expect(actions).toEqual(
      expect.arrayContaining(['states:Get*', 'ssm:Describe*', 'apigateway:GET', 'guardduty:GetDetector']),
    );
    const writes = actions.filter((a) => !/^[a-z0-9-]+:(Describe|Get|List|BatchGet)|^apigateway:GET$/.test(a));
    expect(writes).toEqual([]);
  });

  test('GIVEN asset inventory only THEN only its few read actions: no SecurityAudit', () => {
    const { template } = synth({ ...BASE, cloudView: { modules: ['assetInventory'] } });
    const [, role] = connectorRole(template);
    expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
    expect(roleActions(template).sort()).toEqual(
      [
        'ec2:DescribeAddresses',
        'ec2:DescribeImages',
        'ec2:DescribeInstances',
        'ec2:DescribeRegions',
        'ec2:DescribeVpcs',
        'organizations:List*',
      ].sort(),
    );
  });

  test('GIVEN a GovCloud region and the commercial Qualys account THEN synth refuses it, naming the field', () => {
    expect(() =>
      synth({ ...BASE, region: 'us-gov-west-1', cloudView: { qualysAwsAccountId: '805950163170' } }),
    ).toThrow(/cloudView\.qualysAwsAccountId/);
  });
});

describe('the connector resource', () => {
  test('GIVEN defaults THEN Connectors 3.0 on the platform API server, all modules, every 4 hours, and it waits for the role', () => {
    const { template } = synth({ ...BASE, cloudView: {} });
    const [, resource] = connector(template);
    expect(resource.Properties).toMatchObject({
      [ConnectorProp.Api]: 'connectors-v3',
      [ConnectorProp.ApiUrl]: 'https://qualysapi.qualys.eu',
      [ConnectorProp.ConnectorName]: 'qs3-dev-cloudview-111122223333',
      [ConnectorProp.Modules]: JSON.stringify(['assetInventory', 'cloudInventory', 'securityAssessment']),
      [ConnectorProp.PollingHours]: '4',
      [ConnectorProp.Remediation]: 'false',
      [ConnectorProp.AwsAccountId]: '111122223333',
      [ConnectorProp.CredentialsSecretId]: 'qualys/api-credentials',
    });
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CloudViewRole/)]));
  });

  test('GIVEN the CloudView API THEN its host is the platform web host, and the handler may send the credentials there', () => {
    const { template } = synth({ ...BASE, platform: 'US2', cloudView: { api: 'cloudview' } });
    const [, resource] = connector(template);
    expect(resource.Properties[ConnectorProp.ApiUrl]).toBe('https://qualysguard.qg2.apps.qualys.com');
    const handler = resources(template).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x',
    )!;
    expect(handler[1].Properties.Environment.Variables[ALLOWED_GATEWAYS_ENV].split(',')).toEqual([
      'https://gateway.qg2.apps.qualys.com',
      'https://qualysguard.qg2.apps.qualys.com',
    ]);
  });

  test('GIVEN cloudView only (no vm, no pc) THEN the stack has the connector and no findings integration', () => {
    const { template } = synth({ ...BASE, cloudView: {} });
    template.resourceCountIs('Custom::QualysS3Integration', 0);
    template.resourceCountIs(CONNECTOR_RESOURCE_TYPE, 1);
    expect(Object.keys(template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['CloudViewRoleArn', 'CloudViewConnectorId', 'CloudViewExternalId']),
    );
  });
});

describe('cdk-nag AwsSolutions with the connector', () => {
  test.each([
    ['all modules, with VM', { vm: {}, cloudView: {} }],
    ['asset inventory only', { cloudView: { modules: ['assetInventory'] } }],
  ])('GIVEN %s THEN no finding is left unacknowledged', (_label, extra) => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'qualys-nag-cv-'));
    try {
      const { app } = synth({ ...BASE, ...extra }, outdir);
      app.synth();
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string }> }>;
      };
      const [nag] = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
      expect(nag.violations.map((v) => v.ruleName)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
