/**
 * Adversarial: the handler's AWS calls, through the real AWS SDK against the fake AWS endpoint
 * (AWS_ENDPOINT_URL), in real time. IAM throttling, a stalled AWS API, a denied
 * DescribeStacks while deleting an adopted integration.
 */
import { sdkRoleTrustStore, sdkSecretReader, sdkStackStatusReader } from '../../src/core/aws';
import { Prop } from '../../src/core/contract';
import { undiciTransport } from '../../src/core/qualys/transport';
import { type LifecycleDeps, onEvent } from '../../src/core/lifecycle/lifecycle';
import { systemClock } from '../../src/core/retry';
import { FakeAws } from '../../sim/fake-aws';
import { memoryLogger } from '../support/lambda-fakes';
import { QualysSimulator } from '../../sim/qualys-simulator';
import {
  QUALYS,
  SECRET_ID,
  STACK_ID,
  USER,
  createEvent as create,
  deleteEvent as del,
  pendingTrust,
  props as resourceProps,
} from '../support/lifecycle-world';

const ACCOUNT = '123456789012';

let aws: FakeAws;
let sim: QualysSimulator;
let gateway: string;
let lines: string[];
const saved = { ...process.env };

beforeAll(async () => {
  aws = new FakeAws({ account: ACCOUNT });
  const url = await aws.start();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'adv',
  });
  sim = new QualysSimulator({ users: [USER], trustChecker: aws.qualysTrustChecker(QUALYS) });
  gateway = await sim.start();
  aws.putSecret(SECRET_ID, JSON.stringify(USER));
});
afterAll(async () => {
  await sim.stop();
  await aws.stop();
  process.env = saved;
});

let roleName: string;
let n = 0;
afterEach(() => {
  for (const line of lines ?? []) expect(line).not.toContain(USER.password);
});
beforeEach(() => {
  roleName = `adv-vm-role-${++n}`;
  aws.createRole(roleName, pendingTrust('vm'));
  aws.clearFaults();
  sim.clearFaults();
});

function deps(deadlineInMs: number): LifecycleDeps {
  const { log, lines: l } = memoryLogger();
  lines = l;
  return {
    secrets: sdkSecretReader(),
    trust: sdkRoleTrustStore(),
    stacks: sdkStackStatusReader(),
    transport: undiciTransport(5000),
    log,
    clock: systemClock,
    deadline: Date.now() + deadlineInMs,
    tokenCache: new Map(),
    validationDelayMs: () => 200,
  };
}

function props(overrides: Record<string, unknown> = {}) {
  const name = `qs3-adv-vm-${roleName}`.slice(0, 50);
  return resourceProps({ gateway }, 'vm', {
    [Prop.RoleArn]: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    [Prop.RoleName]: roleName,
    [Prop.IntegrationName]: name,
    [Prop.DefaultIntegrationName]: name,
    [Prop.ValidationTimeoutSeconds]: '30',
    ...overrides,
  });
}

const mine = () =>
  sim.integrations('vm').filter((i) => i.roleArn.endsWith(`/${roleName}`) || i.name === props()[Prop.IntegrationName]);

test('GIVEN IAM throttles GetRole and UpdateAssumeRolePolicy three times each WHEN created THEN the create still succeeds', async () => {
  aws.setStackStatus(STACK_ID, 'CREATE_IN_PROGRESS');
  aws.inject({ service: 'iam', action: 'GetRole', times: 3 });
  aws.inject({ service: 'iam', action: 'UpdateAssumeRolePolicy', times: 3 });
  const out = await onEvent(create(props()), deps(60_000));
  expect(out.PhysicalResourceId).toMatch(/^vm:\d+@127\.0\.0\.1:\d+$/);
  expect(mine()).toEqual([expect.objectContaining({ integrationValidated: true })]);
}, 60_000);

test('GIVEN Secrets Manager throttles twice WHEN created THEN the create still succeeds', async () => {
  aws.setStackStatus(STACK_ID, 'CREATE_IN_PROGRESS');
  aws.inject({ service: 'secretsmanager', action: 'GetSecretValue', times: 2 });
  await onEvent(create(props()), deps(60_000));
  expect(mine()).toHaveLength(1);
}, 60_000);

test('GIVEN IAM UpdateAssumeRolePolicy stalls (no answer for 5 minutes) WHEN created with 3 s left before the deadline THEN the handler still answers within its cleanup reserve and deregisters', async () => {
  aws.setStackStatus(STACK_ID, 'CREATE_IN_PROGRESS');
  aws.inject({ service: 'iam', action: 'UpdateAssumeRolePolicy', delayMs: 5 * 60_000, times: 10 });
  const started = Date.now();
  const result = await Promise.race([
    onEvent(create(props()), deps(3_000)).then(
      () => 'ok',
      (e: Error) => `failed: ${e.message}`,
    ),
    // The Lambda has 90 s of cleanup reserve after the deadline; 20 s is already generous.
    new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 20_000)),
  ]);
  aws.clearFaults();
  expect(result).not.toBe('still running');
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(mine()).toEqual([]);
}, 60_000);

test('GIVEN DescribeStacks is denied WHEN an adopted (foreign) integration gets a Delete THEN it is not deleted (cannot tell a rollback from a destroy)', async () => {
  const foreign = sim.seedIntegration('vm', {
    name: `foreign-${roleName}`.slice(0, 50),
    roleArn: 'arn:aws:iam::999999999999:role/x',
  });
  aws.setStackStatus(STACK_ID, 'ROLLBACK_IN_PROGRESS');
  aws.inject({
    service: 'cloudformation',
    action: 'DescribeStacks',
    status: 403,
    code: 'AccessDenied',
    message: 'not authorized',
    times: 20,
  });
  await onEvent(
    del(
      `vm:${foreign.integrationId}:adopted`,
      props({ [Prop.IntegrationName]: foreign.name, [Prop.AdoptExisting]: 'true' }),
    ),
    deps(60_000),
  ).catch(() => undefined);
  aws.clearFaults();
  expect(sim.integration('vm', foreign.integrationId)).toBeDefined();
}, 60_000);
