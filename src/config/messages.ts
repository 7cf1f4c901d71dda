/**
 * How the schema's findings read: one {@link ConfigError} listing every problem, each naming the
 * field path (`"qualys.environments.prod.vm.minSeverity"`), the bad value and what is allowed.
 *
 * The schema's fields word their own messages (fields.ts); this module turns zod's issues into
 * those lines: it adds the field path, expands unknown keys into one line each with a "did you
 * mean" hint, and looks inside `true | {...}` unions for the object's own problems.
 */
import type { z } from 'zod';

/** Every problem found in a configuration, reported together. */
export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    source = 'the configuration',
  ) {
    super(
      `${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * How field paths read: from `root`, with the leading `under` keys of each issue's path left out
 * (the construct validates one environment as `environments.<envName>` and names its fields from
 * `props`). The default names every field from the configuration's root, `qualys`.
 */
export interface FieldPathView {
  readonly root: string;
  readonly under?: readonly PropertyKey[];
}

const WHOLE_CONFIGURATION: FieldPathView = { root: 'qualys' };

/** A value as a message shows it: JSON, cut to 80 characters. */
export function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const MARK = '\u0000';

/**
 * A reference, inside a message, to another field of the object that holds the field the
 * message is about; it reads as that field's full path (`"qualys.environments.dev.platform"`).
 * A rule does not know the path of the object it checks (an environment does not know its name).
 */
export function sibling(key: string): string {
  return `${MARK}${key}${MARK}`;
}

/** `params` of a custom issue whose message is a whole sentence, not a field path's tail. */
export const WHOLE = { whole: true } as const;

/** The tail of an unknown-key message names the allowed keys after this. */
const ALLOWED = 'allowed: ';

/** The message of an object's unknown keys (zod's `unrecognized_keys`); the path and hint are added here. */
export function allowedKeys(keys: readonly string[]): string {
  return `${ALLOWED}${keys.join(', ')}`;
}

interface Problem {
  readonly path: readonly PropertyKey[];
  readonly text: string;
  /** For an unknown key: the path of the object it is in. */
  readonly unknownIn?: readonly PropertyKey[];
}

/** The problems zod's issues describe, worded and in reading order. */
export function problemsFrom(issues: readonly z.core.$ZodIssue[], view = WHOLE_CONFIGURATION): string[] {
  const found: Problem[] = [];
  const fieldPath = (path: readonly PropertyKey[]) => {
    const under = view.under ?? [];
    const shown = under.every((key, i) => path[i] === key) ? path.slice(under.length) : path;
    return [view.root, ...shown.map(asWritten)].join('.');
  };
  for (const issue of issues) collect(issue, [], found, fieldPath);
  return unknownKeysFirst(found).map((p) => p.text);
}

type FieldPath = (path: readonly PropertyKey[]) => string;

function collect(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[], out: Problem[], fieldPath: FieldPath): void {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union') {
    // `"vm": true | {...}`: when the value is an object, its own problems are the ones to tell.
    const objectBranch = issue.errors.find(
      (branch) => !(branch.length === 1 && branch[0].code === 'invalid_type' && branch[0].path.length === 0),
    );
    if (objectBranch) {
      for (const inner of objectBranch) collect(inner, path, out, fieldPath);
      return;
    }
  }
  if (issue.code === 'unrecognized_keys') {
    const allowed = issue.message.startsWith(ALLOWED) ? issue.message.slice(ALLOWED.length).split(', ') : [];
    for (const key of issue.keys) {
      const hint = closest(key, allowed);
      out.push({
        path: [...path, key],
        unknownIn: path,
        text: `"${fieldPath([...path, key])}" is not a known field${hint ? ` (did you mean "${hint}"?)` : ''}; ${issue.message}`,
      });
    }
    return;
  }
  const whole = path.length === 0 || (issue.code === 'custom' && issue.params?.whole === true);
  const message = issue.message.replace(
    new RegExp(`${MARK}([^${MARK}]+)${MARK}`, 'g'),
    (_, key: string) => `"${fieldPath([...path.slice(0, -1), key])}"`,
  );
  out.push({ path, text: whole ? message : `"${fieldPath(path)}" ${message}` });
}

/**
 * The name a record reads a `"__proto__"` key under. zod skips that key (assigning it to a plain
 * object replaces the prototype instead), so the entry would vanish without a word; under this
 * name no rule accepts it (it starts with a control character) and every message shows it as written.
 */
export const PROTO_KEY = '\u0000__proto__';

/** A key as the configuration wrote it (see {@link PROTO_KEY}). */
export function asWritten(key: PropertyKey): string {
  return key === PROTO_KEY ? '__proto__' : String(key);
}

/** An object's unknown keys are named before its other problems: often they explain them (a misspelt key). */
function unknownKeysFirst(problems: readonly Problem[]): Problem[] {
  const ordered: Problem[] = [];
  for (const problem of problems) {
    const object = problem.unknownIn;
    if (!object) {
      ordered.push(problem);
      continue;
    }
    const inObject = (p: Problem) => object.every((key, i) => p.path[i] === key);
    const isEarlierUnknown = (p: Problem) => p.unknownIn !== undefined && p.unknownIn.length === object.length;
    let at = ordered.findIndex((p) => inObject(p) && !isEarlierUnknown(p));
    if (at < 0) at = ordered.length;
    ordered.splice(at, 0, problem);
  }
  return ordered;
}

/**
 * The known name nearest to a misspelt one (ignoring case), when it is near enough to be a typo:
 * at most `tolerance(key.length)` edits away.
 */
export function closest(
  key: string,
  known: readonly string[],
  tolerance: (length: number) => number = (length) => Math.max(2, Math.floor(length / 4)),
): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= tolerance(key.length) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
