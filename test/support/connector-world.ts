/**
 * The connector lifecycle's world: onConnectorEvent against the fake connector server (either
 * API), with in-memory AWS seams and a virtual clock, and the events CloudFormation sends.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { CONNECTOR_RESOURCE_TYPE, type ConnectorApiKind } from '../../src/core/connector-contract';
import { type ConnectorPropertiesInput, connectorProperties } from '../../src/core/connector-properties';
import type { ConnectorDeps } from '../../src/core/lifecycle/connector/lifecycle';
import { API_URL, CONNECTOR_USER, FakeConnectorServer, type FakeOptions } from './connector-fakes';
import { FakeClock, FixedStackStatus, MemorySecrets, memoryLogger } from './lambda-fakes';

export const ACCOUNT = '123456789012';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/QualysCloudView-dev`;
export const EXTERNAL_ID = 'qcv-3f9a2c71-5d4e-4b8a-9e11-0c2d7a6b5f43';
export const SECRET = 'qualys/api-credentials';
export const NAME = `qcv-dev-${ACCOUNT}`;
export const STACK = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/QualysS3-dev/guid`;

export interface ConnectorWorld {
  readonly api: ConnectorApiKind;
  readonly clock: FakeClock;
  readonly server: FakeConnectorServer;
  readonly secrets: MemorySecrets;
  readonly stacks: FixedStackStatus;
  readonly lines: string[];
  readonly deps: ConnectorDeps;
}

export function connectorWorld(
  api: ConnectorApiKind,
  options: Omit<FakeOptions, 'api' | 'clock'> = {},
  deadlineMs = 12 * 60_000,
): ConnectorWorld {
  const clock = new FakeClock();
  const server = new FakeConnectorServer({ api, clock, ...options });
  const { log, lines } = memoryLogger();
  const secrets = new MemorySecrets({ [SECRET]: JSON.stringify(CONNECTOR_USER) });
  const stacks = new FixedStackStatus('CREATE_IN_PROGRESS');
  const deps: ConnectorDeps = {
    secrets,
    stacks,
    transport: server.transport,
    log,
    clock,
    deadline: clock.now() + deadlineMs,
    cleanupDeadline: clock.now() + deadlineMs + 80_000,
  };
  return { api, clock, server, secrets, stacks, lines, deps };
}

export function connectorProps(
  api: ConnectorApiKind,
  overrides: Partial<ConnectorPropertiesInput> = {},
): Record<string, string> {
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    ...connectorProperties({
      api,
      apiUrl: API_URL,
      secretId: SECRET,
      name: NAME,
      description: 'dev environment',
      roleArn: ROLE,
      externalId: EXTERNAL_ID,
      awsAccountId: ACCOUNT,
      partition: 'aws',
      modules: ['assetInventory', 'cloudInventory', 'securityAssessment'],
      pollingHours: 4,
      remediation: false,
      adoptExisting: false,
      validationTimeoutSeconds: 300,
      ...overrides,
    }),
  };
}

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned',
  StackId: STACK,
  RequestId: 'req-1',
  LogicalResourceId: 'Connector',
  ResourceType: CONNECTOR_RESOURCE_TYPE,
};

export function connectorCreate(props: Record<string, string>): CloudFormationCustomResourceEvent {
  return { ...common, RequestType: 'Create', ResourceProperties: props } as CloudFormationCustomResourceEvent;
}

export function connectorUpdate(
  physicalId: string,
  old: Record<string, string>,
  props: Record<string, string>,
): CloudFormationCustomResourceEvent {
  return {
    ...common,
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    ResourceProperties: props,
    OldResourceProperties: old,
  } as CloudFormationCustomResourceEvent;
}

export function connectorDelete(physicalId: string, props: Record<string, string>): CloudFormationCustomResourceEvent {
  return {
    ...common,
    RequestType: 'Delete',
    PhysicalResourceId: physicalId,
    ResourceProperties: props,
  } as CloudFormationCustomResourceEvent;
}

/** Neither the password nor its Basic encoding in any line. */
export function assertNoCredentialsIn(texts: readonly string[]): void {
  const basic = Buffer.from(`${CONNECTOR_USER.username}:${CONNECTOR_USER.password}`).toString('base64');
  for (const text of texts) {
    expect(text).not.toContain(CONNECTOR_USER.password);
    expect(text).not.toContain(basic);
  }
}

export function events(lines: readonly string[]): string[] {
  return lines.map((l) => JSON.parse(l).event as string);
}
