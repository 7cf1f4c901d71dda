/**
 * The connector lifecycle against the real Qualys simulator (sim/qualys-simulator.ts), in any
 * of its connector dialects, over real HTTP (undici) and a virtual clock shared by the
 * simulator and the lifecycle: a wait of minutes takes milliseconds. The unit world
 * (./connector-world.ts) uses a hand-written fake server; this one uses the simulator the
 * references were turned into.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { ConnectorApiKind } from '../../src/core/connector-contract';
import type { ConnectorPropertiesInput } from '../../src/core/connector-properties';
import type { LifecycleResult } from '../../src/core/lifecycle/apply';
import { type ConnectorDeps, onConnectorEvent } from '../../src/core/lifecycle/connector/lifecycle';
import { type HttpTransport, undiciTransport } from '../../src/core/qualys/transport';
import type { ConnectorDialect, ConnectorDialectName, ConnectorOptions } from '../../sim/qualys-connectors';
import { QualysSimulator } from '../../sim/qualys-simulator';
import {
  ACCOUNT,
  EXTERNAL_ID,
  NAME,
  ROLE,
  SECRET,
  connectorCreate,
  connectorDelete,
  connectorUpdate,
} from './connector-world';
import { connectorProperties } from '../../src/core/connector-properties';
import { FakeClock, FixedStackStatus, MemorySecrets, memoryLogger } from './lambda-fakes';

export { ACCOUNT, EXTERNAL_ID, NAME, ROLE, SECRET };
export const SIM_USER = { username: 'sim-cv-user', password: 'S1m-Cl0ud-V!ew-P@ss' };

export interface SimWorld {
  readonly sim: QualysSimulator;
  readonly clock: FakeClock;
  readonly lines: string[];
  readonly stacks: FixedStackStatus;
  /** Trust: which (role, external ID) pairs Qualys may assume, and from when (virtual ms). */
  readonly trusted: Map<string, number>;
  deps(deadlineMs?: number): ConnectorDeps;
  props(api: ConnectorApiKind, overrides?: Partial<ConnectorPropertiesInput>): Record<string, string>;
  create(props: Record<string, string>, deadlineMs?: number): Promise<Outcome>;
  update(physicalId: string, old: Record<string, string>, props: Record<string, string>): Promise<Outcome>;
  delete(physicalId: string, props: Record<string, string>): Promise<Outcome>;
  /** Wraps the transport (e.g. to drop a connection after the simulator acted). */
  transport: HttpTransport;
  stop(): Promise<void>;
}

export type Outcome = ({ ok: true } & LifecycleResult) | { ok: false; reason: string };

export async function simWorld(
  options: {
    dialect?: ConnectorDialectName | Partial<ConnectorDialect>;
    connectors?: Omit<ConnectorOptions, 'dialect'>;
  } = {},
): Promise<SimWorld> {
  const clock = new FakeClock();
  const trusted = new Map<string, number>([[`${ROLE} ${EXTERNAL_ID}`, 0]]);
  const sim = new QualysSimulator({
    users: [SIM_USER],
    now: () => clock.now(),
    connectors: {
      runTiming: { queuedMs: 2000, runningMs: 4000 },
      rateLimit: false,
      concurrencyLimit: false,
      trustChecker: (roleArn, externalId, at) => {
        const from = trusted.get(`${roleArn} ${externalId}`);
        if (from === undefined) return { ok: false, reason: 'AccessDenied: not authorized to perform sts:AssumeRole' };
        return (at ?? clock.now()) >= from ? { ok: true } : { ok: false, reason: 'AccessDenied (IAM propagating)' };
      },
      ...options.connectors,
      ...(options.dialect ? { dialect: options.dialect } : {}),
    },
  });
  await sim.start();
  const { log, lines } = memoryLogger();
  const secrets = new MemorySecrets({ [SECRET]: JSON.stringify(SIM_USER) });
  const stacks = new FixedStackStatus('CREATE_IN_PROGRESS');
  const world: SimWorld = {
    sim,
    clock,
    lines,
    stacks,
    trusted,
    transport: undiciTransport(),
    deps(deadlineMs = 12 * 60_000) {
      return {
        secrets,
        stacks,
        transport: (req) => world.transport(req),
        log,
        clock,
        deadline: clock.now() + deadlineMs,
        cleanupDeadline: clock.now() + deadlineMs + 80_000,
      };
    },
    props(api, overrides = {}) {
      return {
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
        ...connectorProperties({
          api,
          apiUrl: sim.apiUrl,
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
    },
    create: (props, deadlineMs) => run(connectorCreate(props), world.deps(deadlineMs)),
    update: (physicalId, old, props) => run(connectorUpdate(physicalId, old, props), world.deps()),
    delete: (physicalId, props) => run(connectorDelete(physicalId, props), world.deps()),
    stop: () => sim.stop(),
  };
  return world;
}

async function run(event: CloudFormationCustomResourceEvent, deps: ConnectorDeps): Promise<Outcome> {
  try {
    return { ok: true, ...(await onConnectorEvent(event, deps)) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
