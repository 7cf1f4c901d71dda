/**
 * The validation schedule swept over IAM propagation delays, in virtual time: the real
 * lifecycle (`onEvent`) against the Qualys simulator, whose trust check fails until D has
 * passed since the role's trust policy was written. Exact and fast, so the sweep can be
 * dense (every 0.5 s from 3 to 45 s) where the wall-clock runs can afford only a few points.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Prop } from '../src/core/contract';
import { undiciTransport } from '../src/core/qualys/transport';
import { onEvent } from '../src/core/lifecycle/lifecycle';
import { Logger } from '../src/core/log';
import type { Clock } from '../src/core/retry';
import { type PolicyDocument, externalIdsFor } from '../src/core/trust-policy';
import { QualysSimulator } from '../sim/qualys-simulator';

const PRINCIPAL = 'arn:aws:iam::805950163170:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE';
const USER = { username: 'sweep-user', password: 'sweep-Pa55word!' };

export interface SweepPoint {
  readonly delayMs: number;
  /** From the trust policy's write to the validated answer. */
  readonly validatedAfterMs: number;
  readonly validateCalls: number;
}

/** Runs one VM create per delay and reports when it validated and with how many calls. */
export async function sweepValidation(delaysMs: readonly number[]): Promise<SweepPoint[]> {
  let now = 1_700_000_000_000;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    random: () => 0.5,
  };
  let policy: PolicyDocument = { Version: '2012-10-17', Statement: [] };
  let writtenAt = now;
  let delay = 0;
  const sim = new QualysSimulator({
    users: [USER],
    now: () => now,
    trustChecker: (_role, externalId) =>
      now - writtenAt >= delay && externalIdsFor(policy, PRINCIPAL).includes(externalId)
        ? { ok: true }
        : { ok: false, reason: 'not propagated' },
  });
  const gateway = await sim.start();
  const points: SweepPoint[] = [];
  try {
    for (const d of delaysMs) {
      delay = d;
      policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: PRINCIPAL },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': 'qualys-s3-pending-registration-vm' } },
          },
        ],
      };
      sim.resetCalls();
      const name = `sweep-${d}`;
      const out = await onEvent(createEvent(gateway, name), {
        secrets: { read: async () => JSON.stringify(USER) },
        trust: {
          read: async () => structuredClone(policy),
          write: async (_r, next) => {
            policy = structuredClone(next);
            writtenAt = now;
          },
        },
        stacks: { status: async () => 'CREATE_IN_PROGRESS' },
        transport: undiciTransport(5000),
        log: new Logger(() => undefined),
        clock,
        deadline: now + 13 * 60_000,
        tokenCache: new Map(),
      });
      const validatedAt = sim.calls.filter((c) => c.path.endsWith('/validate') && c.status === 200).at(-1)?.at ?? 0;
      points.push({
        delayMs: d,
        validatedAfterMs: validatedAt - writtenAt,
        validateCalls: sim.calls.filter((c) => c.path.endsWith('/validate')).length,
      });
      if (!out.PhysicalResourceId.startsWith('vm:'))
        throw new Error(`sweep create at D=${d} ms answered ${out.PhysicalResourceId}`);
    }
  } finally {
    await sim.stop();
  }
  return points;
}

function createEvent(gateway: string, name: string): CloudFormationCustomResourceEvent {
  const props = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
    [Prop.Kind]: 'vm',
    [Prop.GatewayUrl]: gateway,
    [Prop.CredentialsSecretId]: 'qualys/api-credentials',
    [Prop.RoleArn]: 'arn:aws:iam::123456789012:role/sweep-role',
    [Prop.RoleName]: 'sweep-role',
    [Prop.QualysPrincipalArn]: PRINCIPAL,
    [Prop.BucketName]: 'sweep-bucket',
    [Prop.BucketRegion]: 'us-east-1',
    [Prop.IntegrationName]: name,
    [Prop.DefaultIntegrationName]: name,
    [Prop.Settings]: JSON.stringify({
      minSeverity: 3,
      baseCategory: 'Confirmed',
      resultSectionNeeded: false,
      sendVulnInfo: false,
      compressData: true,
      sendAlerts: false,
      errorEmails: [],
    }),
    [Prop.ExternalIdRotation]: '',
    [Prop.AdoptExisting]: 'false',
    [Prop.ValidationTimeoutSeconds]: '600',
    [Prop.TrustPolicyFingerprint]: 'fp',
  };
  return {
    RequestType: 'Create',
    ServiceToken: props.ServiceToken,
    ResponseURL: 'https://example.invalid/',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/QualysS3-sweep/1',
    RequestId: 'sweep',
    LogicalResourceId: 'VmIntegration',
    ResourceType: 'Custom::QualysS3Integration',
    ResourceProperties: props,
  } as CloudFormationCustomResourceEvent;
}

/** Overhead (validated after D, less D, as a share of D) and calls: each point and the means. */
export function summarize(points: readonly SweepPoint[]): {
  meanOverhead: number;
  worstOverhead: number;
  meanCalls: number;
  maxCalls: number;
} {
  const overheads = points.map((p) => (p.validatedAfterMs - p.delayMs) / p.delayMs);
  return {
    meanOverhead: overheads.reduce((a, b) => a + b, 0) / overheads.length,
    worstOverhead: Math.max(...overheads),
    meanCalls: points.reduce((a, p) => a + p.validateCalls, 0) / points.length,
    maxCalls: Math.max(...points.map((p) => p.validateCalls)),
  };
}
