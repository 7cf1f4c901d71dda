/**
 * The validation schedule swept over IAM propagation delays, in virtual time: the real
 * lifecycle (`onEvent`) against the Qualys simulator, whose trust check fails until D has
 * passed since the role's trust policy was written. Exact and fast, so the sweep can be
 * dense (every 0.5 s from 3 to 45 s) where the wall-clock runs can afford only a few points.
 */
import { onEvent } from '../src/core/lifecycle/lifecycle';
import { Prop } from '../src/core/contract';
import { FakeClock } from '../test/support/lambda-fakes';
import { createEvent, makeWorld, pendingTrust, props } from '../test/support/lifecycle-world';

export interface SweepPoint {
  readonly delayMs: number;
  /** From the trust policy's write to the validated answer. */
  readonly validatedAfterMs: number;
  readonly validateCalls: number;
}

/**
 * Runs one VM create per delay and reports when it validated and with how many calls. The
 * lifecycle tests' world, with the simulator on the world's virtual clock (so its call times
 * are virtual too) and its propagation delay set to D before each create.
 */
export async function sweepValidation(delaysMs: readonly number[]): Promise<SweepPoint[]> {
  const clock = new FakeClock();
  const world = await makeWorld({ clock, sim: { now: () => clock.now() } });
  const points: SweepPoint[] = [];
  try {
    for (const d of delaysMs) {
      world.propagationMs = d;
      world.trust.put('vm-role', pendingTrust('vm'));
      world.sim.resetCalls();
      const name = `sweep-${d}`;
      const out = await onEvent(
        createEvent(props(world, 'vm', { [Prop.IntegrationName]: name, [Prop.DefaultIntegrationName]: name })),
        { ...world.deps, deadline: clock.now() + 13 * 60_000 },
      );
      const writtenAt = world.trust.roles.get('vm-role')!.changedAt;
      const validates = world.sim.calls.filter((c) => c.path.endsWith('/validate'));
      const validatedAt = validates.filter((c) => c.status === 200).at(-1)?.at ?? 0;
      points.push({ delayMs: d, validatedAfterMs: validatedAt - writtenAt, validateCalls: validates.length });
      if (!out.PhysicalResourceId.startsWith('vm:'))
        throw new Error(`sweep create at D=${d} ms answered ${out.PhysicalResourceId}`);
      // The world's logger keeps every line; a sweep has no use for them.
      world.lines.length = 0;
    }
  } finally {
    await world.sim.stop();
  }
  return points;
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
