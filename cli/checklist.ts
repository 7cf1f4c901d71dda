/**
 * A checklist: each check runs once, measures how long it took, and ends as pass, fail,
 * warn (worth knowing, does not fail the command) or skip (an earlier check it needs failed).
 * A check that throws is a failure whose message is the error's; nothing a check does can
 * stop the others from running.
 */
import { errorMessage } from '../lambda/errors';

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

export interface ChecklistSink {
  /** A long step is under way (human output shows it; --json output does not). */
  progress(text: string): void;
  result(result: CheckResult): void;
}

export const pass = (value: string, details?: Record<string, unknown>): CheckOutcome => ({ status: 'pass', value, details });
export const fail = (value: string, remedy: string, details?: Record<string, unknown>): CheckOutcome => ({ status: 'fail', value, remedy, details });
export const warn = (value: string, remedy: string, details?: Record<string, unknown>): CheckOutcome => ({ status: 'warn', value, remedy, details });

export class Checklist {
  readonly results: CheckResult[] = [];

  constructor(
    private readonly sink: ChecklistSink,
    private readonly now: () => number = Date.now,
    /** Applied to everything a check reports: a gateway may echo what it was sent. */
    private readonly redact: (text: string) => string = (text) => text,
  ) {}

  /** Runs a check; a thrown error becomes a failure with `remedyOnError`. */
  async check(id: string, title: string, run: () => Promise<CheckOutcome>, remedyOnError = 'see the message; run again with --verbose for each call made'): Promise<CheckResult> {
    const started = this.now();
    this.sink.progress(`${title} ...`);
    let outcome: CheckOutcome;
    try {
      outcome = await run();
    } catch (error) {
      outcome = fail(errorMessage(error), remedyOnError);
    }
    return this.record({ id, title, ...outcome, durationMs: this.now() - started });
  }

  skip(id: string, title: string, why: string): CheckResult {
    return this.record({ id, title, status: 'skip', value: why, durationMs: 0 });
  }

  get failed(): boolean {
    return this.results.some((r) => r.status === 'fail');
  }

  passed(id: string): boolean {
    return this.results.some((r) => r.id === id && (r.status === 'pass' || r.status === 'warn'));
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
      ...(raw.details !== undefined ? { details: JSON.parse(this.redact(JSON.stringify(raw.details))) as Record<string, unknown> } : {}),
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
  return result.remedy && (result.status === 'fail' || result.status === 'warn') ? `${line}\n      → ${result.remedy}` : line;
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
