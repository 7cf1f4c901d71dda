/**
 * Break-review of issue 13: the stack with `cloudView` at its edges: what a connector-only
 * environment creates, that no in-place setting moves the role or the external ID (which
 * would replace the connector), and that the handler cannot touch the connector's role.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../src/config/config';
import { CONNECTOR_RESOURCE_TYPE, ConnectorProp } from '../../src/core/connector-contract';
import { QualysS3Stack } from '../../src/infra/qualys-s3-stack';

const BASE = {
  platform: 'EU1',
  credentialsSecret: 'qualys/api-credentials',
  account: '111122223333',
  region: 'eu-west-1',
};

function synth(env: Record<string, unknown>) {
  const app = new App();
  const config = parseConfig({ environments: { dev: env } }).environments[0];
  return Template.fromStack(new QualysS3Stack(app, 'QualysS3-dev', { config }));
}

type Resource = { Type: string; Properties: Record<string, any> };
const resources = (t: Template) => Object.entries(t.toJSON().Resources as Record<string, Resource>);
const connectorProps = (t: Template) => resources(t).find(([, r]) => r.Type === CONNECTOR_RESOURCE_TYPE)![1].Properties;

let connectorOnly: Template;
let withSettings: Template;
beforeAll(() => {
  connectorOnly = synth({ ...BASE, cloudView: {} });
  withSettings = synth({
    ...BASE,
    cloudView: {
      description: 'changed',
      pollingHours: 12,
      remediation: true,
      modules: ['assetInventory'],
      name: 'other-name',
    },
  });
});

test('GIVEN cloudView only (no vm, no pc) THEN no findings bucket or write policy is created: nothing writes findings, and a retained bucket would outlive cdk destroy', () => {
  connectorOnly.resourceCountIs('AWS::S3::Bucket', 0);
  connectorOnly.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
});

test('GIVEN every in-place setting changed (name, description, polling, remediation, modules) THEN the role ARN and the external ID are the same expressions: no replacement of the connector', () => {
  const before = connectorProps(connectorOnly);
  const after = connectorProps(withSettings);
  expect(after[ConnectorProp.RoleArn]).toEqual(before[ConnectorProp.RoleArn]);
  expect(after[ConnectorProp.ExternalId]).toEqual(before[ConnectorProp.ExternalId]);
  expect(after[ConnectorProp.ApiUrl]).toBe(before[ConnectorProp.ApiUrl]);
});

test("GIVEN cloudView THEN the handler's own role may not read or rewrite the connector role (no iam action names it)", () => {
  const cvRole = resources(connectorOnly).find(
    ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('CloudViewRole'),
  )![0];
  const handlerPolicies = resources(connectorOnly).filter(
    ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('IntegrationProviderHandlerRole'),
  );
  expect(handlerPolicies.length).toBeGreaterThan(0);
  for (const [, policy] of handlerPolicies) expect(JSON.stringify(policy.Properties)).not.toContain(cvRole);
});

test('GIVEN cloudView THEN the connector role has no inline or managed policy with a write action and its trust has exactly one statement, conditioned on the external ID', () => {
  const [, role] = resources(connectorOnly).find(
    ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('CloudViewRole'),
  )!;
  const statements = role.Properties.AssumeRolePolicyDocument.Statement;
  expect(statements).toHaveLength(1);
  expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRole' });
  expect(Object.keys(statements[0].Condition)).toEqual(['StringEquals']);
  expect(Object.keys(statements[0].Condition.StringEquals)).toEqual(['sts:ExternalId']);
  expect(role.Properties.Policies ?? []).toEqual([]);
});
