/**
 * Field types of the configuration schema, each carrying today's wording: a message says what
 * is wrong with the value, shows it and says what is allowed; the field path is added by
 * messages.ts. Every builder here is a plain zod schema, so the JSON Schema sees its type,
 * bounds and pattern.
 */
import { z } from 'zod';
import { PROTO_KEY, allowedKeys, closest, show } from './messages';

/** A message that depends on the rejected value. */
type Wording = (value: unknown) => string;

const said = (wording: Wording) => (issue: { readonly input?: unknown }) => wording(issue.input);

/** A string that is not a number; JSON numbers lose leading zeros (account IDs) and are not names. */
function notAString(value: unknown): string {
  return typeof value === 'number'
    ? `must be a string, got the number ${show(value)}; put it in double quotes: "${value}"`
    : `must be a non-empty string, got ${show(value)}`;
}

export interface TextRules {
  /** What the value must look like, and how to say so ("a 12-digit AWS account ID"). */
  readonly pattern?: RegExp;
  readonly describe?: string;
  readonly maxLength?: number;
  /** Why the value may not be longer, when a reader would not guess it ("the X takes the same name"). */
  readonly maxLengthReason?: string;
  /** The message when the field is required and absent. */
  readonly missing?: string;
}

/**
 * A non-empty string. Too long and off-pattern are both reported. The length is counted in
 * UTF-16 code units (`.length`), as the handler and Qualys count it; zod's max counts code
 * points, which would pass a name of 26 emoji (52 units) that the deploy then refuses.
 */
export function text(rules: TextRules = {}) {
  let schema = z
    .string({ error: said((v) => (v === undefined && rules.missing ? `is missing; ${rules.missing}` : notAString(v))) })
    .min(1, { error: said(notAString), abort: true });
  if (rules.maxLength !== undefined) {
    const max = rules.maxLength;
    const reason = rules.maxLengthReason ? ` (${rules.maxLengthReason})` : '';
    schema = schema
      .refine((v) => v.length <= max, {
        error: said(
          (v) => `is ${(v as string).length} characters long, ${show(v)}; at most ${max} are allowed${reason}`,
        ),
      })
      .meta({ maxLength: max });
  }
  if (rules.pattern) {
    const describe = rules.describe;
    schema = schema.regex(rules.pattern, { error: said((v) => `is ${show(v)}; it must be ${describe}`) });
  }
  return schema;
}

/** true or false. */
export function flag() {
  return z.boolean({ error: said((v) => `must be true or false, got ${show(v)}`) });
}

/** A whole number from min to max. */
export function whole(min: number, max: number) {
  const error = said((v) => `must be a whole number from ${min} to ${max}, got ${show(v)}`);
  // abort: a number beyond the safe integers fails the int check and the bound alike; one message is enough.
  return z.int({ error, abort: true }).min(min, { error }).max(max, { error });
}

const withoutSeparators = (name: string) => name.toLowerCase().replace(/[\s_-]/g, '');

/**
 * Why a value is not one of the allowed ones, with the right spelling when it differs only in
 * case, is misspelt by a character or two (as for field names), or is a number in quotes.
 */
export function notOneOf(value: unknown, allowed: readonly (string | number)[]): string {
  const names = allowed.filter((a): a is string => typeof a === 'string');
  const sameButCase =
    typeof value === 'string' ? names.find((a) => a.toLowerCase() === value.toLowerCase()) : undefined;
  const near =
    typeof value === 'string' && sameButCase === undefined
      ? (names.find((a) => withoutSeparators(a) === withoutSeparators(value)) ??
        // Stricter than for field names: values are short codes, and "US9" is not a typo of "US1".
        closest(value, names, (length) => Math.floor(length / 4)))
      : undefined;
  const quoted =
    typeof value === 'string' && allowed.some((a) => typeof a === 'number' && String(a) === value.trim())
      ? value.trim()
      : undefined;
  const hint =
    sameButCase !== undefined
      ? ` (did you mean ${show(sameButCase)}? the value is case-sensitive)`
      : near !== undefined
        ? ` (did you mean ${show(near)}?)`
        : quoted
          ? ` (write it as a number, without quotes: ${quoted})`
          : '';
  return `is ${show(value)}${hint}; allowed: ${allowed.join(', ')}`;
}

/** One of a list of names (exact case). */
export function oneOfNames<const T extends readonly [string, ...string[]]>(allowed: T) {
  return z.enum(allowed, { error: said((v) => notOneOf(v, allowed)) });
}

/** One of a list of numbers. */
export function oneOfNumbers<const T extends readonly [number, ...number[]]>(allowed: T) {
  return z.literal(allowed, { error: said((v) => notOneOf(v, allowed)) });
}

/**
 * An object with exactly these keys. `unlisted` keys are accepted but left out of the list an
 * unknown key's message gives (`$schema`, which is for editors).
 */
export function strictObject<S extends z.core.$ZodLooseShape>(
  shape: S,
  options: { readonly unlisted?: readonly string[]; readonly notAnObject?: Wording } = {},
) {
  const listed = Object.keys(shape).filter((key) => !options.unlisted?.includes(key));
  const notAnObject = options.notAnObject ?? ((v: unknown) => `must be an object, got ${show(v)}`);
  return z
    .object(shape, {
      error: (issue) => (issue.code === 'unrecognized_keys' ? allowedKeys(listed) : notAnObject(issue.input)),
    })
    .strict();
}

export interface ListRules {
  readonly min?: number;
  readonly max?: number;
  /** The message when the value is not a list, or has too few or too many items. */
  readonly notAList: Wording;
  /** The one message for every item that is not acceptable, given them all. */
  readonly badItems: (bad: readonly unknown[]) => string;
}

/**
 * A list whose bad items are reported in one line that shows them all (`holds -4, "7"; ...`)
 * rather than one line per item; a list of the wrong length is reported for its length only.
 * The length is checked here, not with zod's min/max: those also measure a string given in
 * place of the list, and are skipped once an item fails.
 */
export function listOf<T extends z.ZodType>(item: T, rules: ListRules) {
  return z
    .array(item, { error: said(rules.notAList) })
    .superRefine(
      (value, ctx) => {
        if (!Array.isArray(value)) return;
        const itemIssues = ctx.issues.filter((issue) => issue.path !== undefined && issue.path.length > 0);
        const wrongLength =
          (rules.min !== undefined && value.length < rules.min) ||
          (rules.max !== undefined && value.length > rules.max);
        if (itemIssues.length === 0 && !wrongLength) return;
        const badAt = new Set(itemIssues.map((issue) => issue.path?.[0]));
        const others = ctx.issues.filter((issue) => !itemIssues.includes(issue));
        ctx.issues.splice(0, ctx.issues.length, ...others);
        ctx.addIssue({
          code: 'custom',
          input: value,
          // Keep the list aborted, as its items' problems left it, so that no later rule reads it.
          continue: false,
          message: wrongLength ? rules.notAList(value) : rules.badItems(value.filter((_, i) => badAt.has(i))),
        });
      },
      // Item problems abort the list (zod's int even explicitly); the collapse must run after them.
      { when: () => true },
    )
    .meta({ minItems: rules.min, maxItems: rules.max });
}

/**
 * A record (z.record) that reads a `"__proto__"` key, as JSON.parse hands it over, under
 * {@link PROTO_KEY} instead of letting zod drop it, so that its rules can refuse it by name.
 */
export function keepingProtoKey<T extends z.ZodType>(record: T) {
  return z.preprocess(
    (value) =>
      typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')
        ? Object.fromEntries(Object.entries(value).map(([key, v]) => [key === '__proto__' ? PROTO_KEY : key, v]))
        : value,
    record,
  );
}

/**
 * For a rule across an object's fields: run it even when some fields have problems (every
 * problem at once), but not when the value is not an object at all.
 */
export const evenWithOtherProblems = {
  when: (payload: z.core.ParsePayload) =>
    !payload.issues.some((issue) => issue.code === 'invalid_type' && (issue.path?.length ?? 0) === 0),
};

/** Whether a field of the object a rule checks has no problem of its own (then its value is the parsed one). */
export function isValid(ctx: { readonly issues: readonly z.core.$ZodRawIssue[] }, ...path: PropertyKey[]): boolean {
  return !ctx.issues.some((issue) => path.every((key, i) => issue.path?.[i] === key));
}
