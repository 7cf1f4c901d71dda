/**
 * A checklist: checks as data, each declaring the checks it needs. Each runs once, measures
 * how long it took, and ends as pass, fail, warn (worth knowing, does not fail the command) or
 * skip (a check it needs failed or was skipped: it is then never run). Every declared check
 * appears in every run, so `--json` consumers see the same ids whatever went wrong.
 * A check that throws is a failure whose message is the error's; nothing a check does can
 * stop the others from running.
 */
import { errorMessage } from '../core/errors';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckOutcome {
  readonly status: CheckStatus;
  /** What was measured, in a few words. */
  readonly value: string;
  /** On fail or warn: what to do about it. */
  readonly remedy?: string;
  /** Machine-readable facts for --json. */
  readonly details?: Record<string, unknown>;
}

export interface CheckResult extends CheckOutcome {
  readonly id: string;
  readonly title: string;
  readonly durationMs: number;
}

/** One check, as data. */
export interface CheckDefinition {
  readonly id: string;
  readonly title: string;
  /**
   * Ids of earlier checks that must pass (or warn) for this one to mean anything; when one
   * failed or was skipped, this check is skipped and its reason names that one.
   * @default - none
   */
  readonly needs?: readonly string[];
  /**
   * Per prerequisite id, added to the skip reason: what this check cannot judge without it.
   * @default - the prerequisite alone is named
   */
  readonly withoutNeeds?: Readonly<Record<string, string>>;
  /** The remedy when `run` throws. @default - run again with --verbose */
  readonly remedyOnError?: string;
  run(): Promise<CheckOutcome>;
}

export interface ChecklistSink {
  /** A long step is under way (human output shows it; --json output does not). */
  progress(text: string): void;
  result(result: CheckResult): void;
}

export const pass = (value: string, details?: Record<string, unknown>): CheckOutcome => ({
  status: 'pass',
  value,
  details,
});
export const fail = (value: string, remedy: string, details?: Record<string, unknown>): CheckOutcome => ({
  status: 'fail',
  value,
  remedy,
  details,
});
export const warn = (value: string, remedy: string, details?: Record<string, unknown>): CheckOutcome => ({
  status: 'warn',
  value,
  remedy,
  details,
});
/** Not applicable for a reason found while running (not a prerequisite): e.g. a stack output the check compares with is missing. */
export const skipped = (value: string, details?: Record<string, unknown>): CheckOutcome => ({
  status: 'skip',
  value,
  details,
});

export class Checklist {
  readonly results: CheckResult[] = [];

  constructor(
    private readonly sink: ChecklistSink,
    private readonly now: () => number = Date.now,
    /** Applied to everything a check reports: a gateway may echo what it was sent. */
    private readonly redact: (text: string) => string = (text) => text,
  ) {}

  /**
   * Runs the checks in order, each only when every check it needs passed or warned.
   * Throws (a mistake in the list, not in the user's setup) when an id repeats or a check
   * needs one that does not come before it.
   */
  async runAll(checks: readonly CheckDefinition[]): Promise<CheckResult[]> {
    const seen = new Set<string>();
    for (const c of checks) {
      if (seen.has(c.id)) throw new Error(`check "${c.id}" is declared twice`);
      for (const need of c.needs ?? [])
        if (!seen.has(need)) throw new Error(`check "${c.id}" needs "${need}", which is not declared before it`);
      seen.add(c.id);
    }
    const out: CheckResult[] = [];
    for (const c of checks) out.push(await this.runOne(c));
    return out;
  }

  private async runOne(c: CheckDefinition): Promise<CheckResult> {
    const unmet = (c.needs ?? [])
      .map((id) => this.results.find((r) => r.id === id)!)
      .find((r) => r.status === 'fail' || r.status === 'skip');
    if (unmet) {
      const why = `needs "${unmet.title}" (${unmet.id}), which ${unmet.status === 'fail' ? 'failed' : 'was skipped'}${c.withoutNeeds?.[unmet.id] ? `: ${c.withoutNeeds[unmet.id]}` : ''}`;
      return this.record({
        id: c.id,
        title: c.title,
        status: 'skip',
        value: why,
        details: { needs: unmet.id, needsStatus: unmet.status },
        durationMs: 0,
      });
    }
    const started = this.now();
    this.sink.progress(`${c.title} ...`);
    let outcome: CheckOutcome;
    try {
      outcome = await c.run();
    } catch (error) {
      outcome = fail(
        errorMessage(error),
        c.remedyOnError ?? 'see the message; run again with --verbose for each call made',
      );
    }
    return this.record({ id: c.id, title: c.title, ...outcome, durationMs: this.now() - started });
  }

  get failed(): boolean {
    return this.results.some((r) => r.status === 'fail');
  }

  counts(): Record<CheckStatus, number> {
    const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
    for (const r of this.results) counts[r.status]++;
    return counts;
  }

  private record(raw: CheckResult): CheckResult {
    const result: CheckResult = {
      ...raw,
      value: this.redact(raw.value),
      ...(raw.remedy !== undefined ? { remedy: this.redact(raw.remedy) } : {}),
      ...(raw.details !== undefined
        ? { details: JSON.parse(this.redact(JSON.stringify(raw.details))) as Record<string, unknown> }
        : {}),
    };
    this.results.push(result);
    this.sink.result(result);
    return result;
  }
}

const MARKS: Record<CheckStatus, string> = { pass: '✔', fail: '✖', warn: '!', skip: '-' };

/** One checklist line (and, on fail or warn, the remedy under it). */
export function formatResult(result: CheckResult, titleWidth = 28): string {
  const timing = result.durationMs >= 1000 ? ` (${(result.durationMs / 1000).toFixed(1)} s)` : '';
  const line = `  ${MARKS[result.status]} ${result.title.padEnd(titleWidth)} ${result.value}${timing}`;
  return result.remedy && (result.status === 'fail' || result.status === 'warn')
    ? `${line}\n      → ${result.remedy}`
    : line;
}

export function formatSummary(counts: Record<CheckStatus, number>): string {
  const parts = [`${counts.pass} passed`, `${counts.fail} failed`];
  if (counts.warn) parts.push(`${counts.warn} warning${counts.warn === 1 ? '' : 's'}`);
  if (counts.skip) parts.push(`${counts.skip} skipped`);
  return parts.join(', ');
}

/** An external ID shortened for output: enough to tell two apart, not the whole value. */
export function shortExternalId(externalId: string): string {
  return externalId.length > 12 ? `${externalId.slice(0, 8)}…${externalId.slice(-4)}` : externalId;
}
