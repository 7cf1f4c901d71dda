/** Shared assertions on the CLI's reports: well-formed --json, and a human summary that agrees with it. */
import { type JsonReport, type Run, type World, expectNoSecrets, expectWellFormed } from './cli-world';

export interface FullReport extends JsonReport {
  summary: { pass: number; fail: number; warn: number; skip: number };
}

/**
 * README "--json": one document; summary counts equal the checks; ok/exitCode agree with the
 * returned code; exit 1 exactly when a check failed (warnings alone: 0); remedy on fail/warn;
 * durationMs on every check; and never the password or a JWT.
 */
export function expectConsistent(world: World, out: { code: number; doc: JsonReport; run: Run }): FullReport {
  const doc = out.doc as FullReport;
  expectWellFormed(doc);
  expectNoSecrets(world, out.run);
  const tally = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const c of doc.checks) tally[c.status]++;
  expect(doc.summary).toEqual(tally);
  expect(doc.exitCode).toBe(out.code);
  expect(doc.ok).toBe(out.code === 0);
  expect(out.code).toBe(tally.fail > 0 ? 1 : 0);
  for (const c of doc.checks) {
    expect(typeof c.durationMs).toBe('number');
    if (c.status === 'fail' || c.status === 'warn')
      expect(typeof c.remedy === 'string' && c.remedy.length > 0).toBe(true);
  }
  const ids = doc.checks.map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length);
  // --json: stdout is one document and nothing else; progress is not shown.
  expect(out.run.stdout.trim().startsWith('{')).toBe(true);
  expect(out.run.stderr).toBe('');
  return doc;
}

/** The human summary line agrees with the marks printed above it. */
export function expectHumanSummaryMatches(run: Run): void {
  const lines = run.stdout.split('\n');
  const count = (mark: string) => lines.filter((l) => l.startsWith(`  ${mark} `)).length;
  const pass = count('✔');
  const fail = count('✖');
  const warn = count('!');
  const skip = count('-');
  expect(run.stdout).toContain(`${pass} passed, ${fail} failed`);
  if (warn) expect(run.stdout).toMatch(new RegExp(`${fail} failed, ${warn} warnings?`));
  if (skip) expect(run.stdout).toContain(`${skip} skipped`);
  expect(run.code).toBe(fail > 0 ? 1 : 0);
}
