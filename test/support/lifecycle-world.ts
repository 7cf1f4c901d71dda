/**
 * The lifecycle's one world: the handler's lifecycle against the Qualys simulator (in any
 * dialect), with in-memory AWS seams and a virtual clock, plus transport hooks that
 * misbehave on purpose. Tests take it with `useLifecycleWorld()`; the validation bench
 * builds it with `makeWorld` on a clock it shares with the simulator.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Prop } from '../../src/core/contract';
import {
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  undiciTransport,
} from '../../src/core/qualys/transport';
import type { LifecycleDeps } from '../../src/core/lifecycle/lifecycle';
import { externalIdsFor } from '../../src/core/trust-policy';
import { QualysSimulator, type SimulatorOptions } from '../../sim/qualys-simulator';
import { QUALYS_ROLE_ARN, VM_DEFAULT_SETTINGS, pendingTrust } from './fixtures';
import { FakeClock, FixedStackStatus, MemorySecrets, MemoryTrustStore, memoryLogger } from './lambda-fakes';

export const QUALYS = QUALYS_ROLE_ARN;
export const USER = { username: 'adv-user', password: 'Adv3rs4rial-P@ss%&=+' };
export const SECRET_ID = 'qualys/api-credentials';
export const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/QualysS3-dev/guid';
export const RESPONSE_URL =
  'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned?X-Amz-Signature=deadbeefcafe';
export const LAMBDA_BUDGET_MS = 14 * 60_000;
export const CLEANUP_RESERVE_MS = 90_000;

export { pendingTrust };

/** A transport hook: return a response to short-circuit, or undefined to pass through. */
export type Hook = (
  req: HttpRequest,
  forward: () => Promise<HttpResponse>,
  n: number,
) => Promise<HttpResponse | undefined>;

export interface World {
  sim: QualysSimulator;
  clock: FakeClock;
  trust: MemoryTrustStore;
  secrets: MemorySecrets;
  stacks: FixedStackStatus;
  lines: string[];
  deps: LifecycleDeps;
  propagationMs: number;
  gateway: string;
  hooks: Hook[];
  /** Every request the handler's transport was asked to send. */
  sent: HttpRequest[];
  start: number;
}

export interface WorldOptions {
  /** From the world's start to the lifecycle's deadline. @default LAMBDA_BUDGET_MS - CLEANUP_RESERVE_MS */
  deadlineMs?: number;
  sim?: Omit<SimulatorOptions, 'users' | 'trustChecker'>;
  /** @default - a new FakeClock */
  clock?: FakeClock;
}

export async function makeWorld(opts: WorldOptions = {}): Promise<World> {
  const clock = opts.clock ?? new FakeClock();
  const trust = new MemoryTrustStore(clock);
  trust.put('vm-role', pendingTrust('vm'));
  trust.put('pc-role', pendingTrust('pc'));
  const partial = {
    clock,
    trust,
    propagationMs: 0,
    hooks: [] as Hook[],
    sent: [] as HttpRequest[],
  } as unknown as World;
  const sim = new QualysSimulator({
    ...opts.sim,
    users: [USER],
    trustChecker: (roleArn, externalId) => {
      const role = trust.roles.get(roleArn.split('/').pop()!);
      if (!role) return { ok: false, reason: 'no such role' };
      if (clock.now() - role.changedAt < partial.propagationMs)
        return { ok: false, reason: 'AccessDenied (not propagated)' };
      return externalIdsFor(role.policy, QUALYS).includes(externalId)
        ? { ok: true }
        : { ok: false, reason: 'AccessDenied: the external ID does not match' };
    },
  });
  const gateway = await sim.start();
  const secrets = new MemorySecrets({ [SECRET_ID]: JSON.stringify(USER) });
  const stacks = new FixedStackStatus();
  const { log, lines } = memoryLogger();
  const real = undiciTransport(5000);
  let n = 0;
  const transport: HttpTransport = async (req) => {
    partial.sent.push(req);
    const i = n++;
    const forward = () => real(req);
    for (const hook of partial.hooks) {
      const out = await hook(req, forward, i);
      if (out) return out;
    }
    return forward();
  };
  return Object.assign(partial, {
    sim,
    secrets,
    stacks,
    lines,
    gateway,
    start: clock.now(),
    deps: {
      secrets,
      trust,
      stacks,
      transport,
      log,
      clock,
      deadline: clock.now() + (opts.deadlineMs ?? LAMBDA_BUDGET_MS - CLEANUP_RESERVE_MS),
      tokenCache: new Map(),
    },
  });
}

/** The current test's world, and a way to build it anew with other options in the test. */
export type WorldHandle = World & {
  /** Tears down the current world (if any) and builds one with these options. */
  build(opts?: WorldOptions): Promise<World>;
};

/**
 * Registers the world's set-up and teardown for every test of the file: a fresh world before
 * each test (unless `perTest`, where each test calls `world.build(...)` itself) and, after
 * it, no secret in any log line and the simulator stopped. The handle always reaches the
 * current test's world.
 */
export function useLifecycleWorld(opts: WorldOptions & { perTest?: boolean } = {}): WorldHandle {
  const { perTest, ...defaults } = opts;
  let current: World | undefined;
  // The stopped world stays readable, so a file's own afterEach may still look at it.
  let live = false;
  const teardown = async () => {
    if (!current || !live) return;
    live = false;
    assertNoSecretsIn(current, current.lines);
    await current.sim.stop();
  };
  const build = async (options: WorldOptions = defaults) => {
    await teardown();
    current = await makeWorld(options);
    live = true;
    return current;
  };
  if (!perTest) beforeEach(() => build());
  afterEach(teardown);
  const now = (key: PropertyKey): World => {
    if (!current) throw new Error(`world.${String(key)} read before the world was built: call world.build() first`);
    return current;
  };
  return new Proxy({} as WorldHandle, {
    get: (_target, key) => (key === 'build' ? build : Reflect.get(now(key), key)),
    set: (_target, key, value) => Reflect.set(now(key), key, value),
  });
}

/** Asserts that no log line holds the password or any JWT the simulator issued. */
export function assertNoSecretsIn(world: World, texts: string[]): void {
  const tokens = world.sim.issuedTokens();
  for (const t of texts) {
    expect(t).not.toContain(USER.password);
    expect(t).not.toContain(encodeURIComponent(USER.password));
    for (const token of tokens) expect(t).not.toContain(token);
  }
}

/** A custom resource's properties as the construct writes them, against a world's gateway. */
export function props(
  world: Pick<World, 'gateway'>,
  kind: 'vm' | 'pc',
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const settings = kind === 'vm' ? VM_DEFAULT_SETTINGS : { compressData: true };
  const defaultName = `qs3-dev-${kind}-123456789012-us-east-1`;
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
    [Prop.Kind]: kind,
    [Prop.GatewayUrl]: world.gateway,
    [Prop.CredentialsSecretId]: SECRET_ID,
    [Prop.RoleArn]: `arn:aws:iam::123456789012:role/${kind}-role`,
    [Prop.RoleName]: `${kind}-role`,
    [Prop.QualysPrincipalArn]: QUALYS,
    [Prop.BucketName]: 'findings-bucket',
    [Prop.BucketRegion]: 'us-east-1',
    [Prop.IntegrationName]: defaultName,
    [Prop.DefaultIntegrationName]: defaultName,
    [Prop.Settings]: JSON.stringify(settings),
    ...(kind === 'pc' ? { [Prop.Cips]: JSON.stringify({ policies: [101, 102] }) } : {}),
    [Prop.ExternalIdRotation]: '',
    [Prop.AdoptExisting]: 'false',
    [Prop.ValidationTimeoutSeconds]: '600',
    [Prop.TrustPolicyFingerprint]: 'fp-1',
    ...overrides,
  };
}

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
  ResponseURL: RESPONSE_URL,
  StackId: STACK_ID,
  RequestId: 'req',
  LogicalResourceId: 'VmIntegration',
  ResourceType: 'Custom::QualysS3Integration',
};

export const createEvent = (p: Record<string, unknown>) =>
  ({ ...common, RequestType: 'Create', ResourceProperties: p }) as unknown as CloudFormationCustomResourceEvent;
export const updateEvent = (physicalId: string, oldP: Record<string, unknown>, newP: Record<string, unknown>) =>
  ({
    ...common,
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    OldResourceProperties: oldP,
    ResourceProperties: newP,
  }) as unknown as CloudFormationCustomResourceEvent;
export const deleteEvent = (physicalId: string, p: Record<string, unknown>) =>
  ({
    ...common,
    RequestType: 'Delete',
    PhysicalResourceId: physicalId,
    ResourceProperties: p,
  }) as unknown as CloudFormationCustomResourceEvent;

export const trustedIds = (world: World, kind: string) =>
  externalIdsFor(world.trust.roles.get(`${kind}-role`)!.policy, QUALYS);
export const callsTo = (world: World, method: string, pathPart: string | RegExp) =>
  world.sim.calls.filter(
    (c) => c.method === method && (typeof pathPart === 'string' ? c.path.includes(pathPart) : pathPart.test(c.path)),
  );

export const isRegister = (req: HttpRequest, kind: 'vm' | 'pc' = 'vm') =>
  req.method === 'POST' && new URL(req.url).pathname === `/partner-integration/aws/s3/${kind}`;

/** An undici-like network error. */
export function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), {
    code,
    name: code === 'UND_ERR_HEADERS_TIMEOUT' ? 'HeadersTimeoutError' : 'SocketError',
  });
}
