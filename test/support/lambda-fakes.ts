/**
 * In-memory stand-ins for the handler's AWS seams and clock, for unit tests of the lifecycle.
 */
import type { RoleTrustStore, SecretReader, StackStatusReader } from '../../src/core/aws';
import { Logger } from '../../src/core/log';
import type { Clock } from '../../src/core/retry';
import type { PolicyDocument } from '../../src/core/trust-policy';

/** Virtual time: sleep() advances it at once, so backoff schedules run instantly. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
  random(): number {
    return 0.5;
  }
}

export class MemorySecrets implements SecretReader {
  readonly values = new Map<string, string>();
  reads = 0;
  constructor(entries: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(entries)) this.values.set(k, v);
  }
  async read(secretId: string): Promise<string> {
    this.reads++;
    const value = this.values.get(secretId);
    if (value === undefined) {
      throw Object.assign(new Error("Secrets Manager can't find the specified secret."), {
        name: 'ResourceNotFoundException',
      });
    }
    return value;
  }
}

/** Roles whose trust policies change at a recorded (virtual) time, as IAM's would. */
export class MemoryTrustStore implements RoleTrustStore {
  readonly roles = new Map<string, { policy: PolicyDocument; changedAt: number }>();
  writes = 0;
  constructor(private readonly clock: Clock) {}
  put(roleName: string, policy: PolicyDocument): void {
    this.roles.set(roleName, { policy: structuredClone(policy), changedAt: this.clock.now() });
  }
  async read(roleName: string): Promise<PolicyDocument> {
    const role = this.roles.get(roleName);
    if (!role)
      throw Object.assign(new Error(`The role with name ${roleName} cannot be found.`), {
        name: 'NoSuchEntityException',
      });
    return structuredClone(role.policy);
  }
  async write(roleName: string, policy: PolicyDocument): Promise<void> {
    if (!this.roles.has(roleName))
      throw Object.assign(new Error(`no role ${roleName}`), { name: 'NoSuchEntityException' });
    this.writes++;
    this.put(roleName, policy);
  }
}

export class FixedStackStatus implements StackStatusReader {
  constructor(public value: string | undefined = 'CREATE_IN_PROGRESS') {}
  async status(): Promise<string | undefined> {
    return this.value;
  }
}

/** A logger that keeps its (already redacted) lines. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger((line) => lines.push(line)), lines };
}
