/**
 * Reading Qualys's loosely typed values into the curated columns: numbers that may arrive as
 * strings, timestamps that may be malformed (the guide's own sample has "2023-01-16T10:49:432"),
 * nulls anywhere. Shared by both mappers.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An integer id read for a bigint (INT64) column: the id; null when absent (null, missing, "");
 * undefined when present but it does not fit: not an integer, beyond INT64, or a JSON number
 * beyond 2^53 that JSON.parse has already rounded (the caller records the value as sent).
 */
export function readBigint(value: unknown): bigint | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  let id: bigint;
  if (typeof value === 'string') {
    const text = value.trim();
    if (!/^-?\d{1,19}$/.test(text)) return undefined;
    id = BigInt(text);
  } else if (typeof value === 'bigint') id = value;
  else return undefined;
  return id >= INT64_MIN && id <= INT64_MAX ? id : undefined;
}

/** An integer id (bigint column), or null for anything that is absent or does not fit (see {@link readBigint}). */
export function toBigint(value: unknown): bigint | null {
  return readBigint(value) ?? null;
}

/**
 * The text of a JSON number as it was sent, found in the record's JSON: JSON.parse rounds
 * integers beyond 2^53 (9007199254740993 reads as 9007199254740992), so the parsed value is not
 * what Qualys sent. The record's integer literals of 16 digits or more that parse to the same
 * number are the candidates; with exactly one, it is the text as sent, else the parsed number.
 */
export function numberAsSent(value: number, recordText: string | undefined): number | RawJsonNumber {
  if (recordText === undefined || Number.isSafeInteger(value) || !Number.isFinite(value)) return value;
  let found: string | undefined;
  for (const match of recordText.matchAll(/-?\d{16,}(?![.\deE])/g)) {
    if (Number(match[0]) !== value) continue;
    if (found !== undefined && found !== match[0]) return value;
    found = match[0];
  }
  return found === undefined ? value : new RawJsonNumber(found);
}

/** A JSON number kept as its text (beyond what a double holds); {@link unparsedJson} writes it unquoted. */
export class RawJsonNumber {
  constructor(readonly text: string) {}
}

/** The JSON of fields kept as sent: a {@link RawJsonNumber} is written as the number it was, digits intact. */
export function unparsedJson(fields: Readonly<Record<string, unknown>>): string {
  const raws: string[] = [];
  const marker = '\u0000qualys-raw-number:';
  const json = JSON.stringify(fields, (_key, value) =>
    value instanceof RawJsonNumber ? `${marker}${raws.push(value.text) - 1}` : value,
  );
  if (raws.length === 0) return json;
  // JSON.stringify writes U+0000 as the escape \u0000: only a sent string holding a NUL and this marker could collide.
  return json.replace(/"\\u0000qualys-raw-number:(\d+)"/g, (_match, at: string) => raws[Number(at)]);
}

const INT32_MAX = 2 ** 31 - 1;

/** A small integer (int column): a JSON integer or a string of digits within INT32; anything else is null. */
export function toInt(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d{1,10}\s*$/.test(value)) n = Number(value);
  else return null;
  return Number.isInteger(n) && n <= INT32_MAX && n >= -INT32_MAX - 1 ? n : null;
}

/** A string column: strings as they are, numbers and booleans as their text, objects as JSON; null stays null. */
export function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

// ISO-8601 date-time as Qualys writes it: date, time with optional seconds and fraction, optional zone (UTC when absent).
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const digit = (text: string, at: number) => text.charCodeAt(at) - 48;
const two = (text: string, at: number) => digit(text, at) * 10 + digit(text, at + 1);

/** Milliseconds of a calendar date and time, or NaN when a field is out of range (2023-02-30, 24:00, ...). */
function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return Number.NaN;
  // Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear takes the year as written.
  const date = new Date(0);
  date.setUTCFullYear(y, mo, 0);
  if (d > date.getUTCDate()) return Number.NaN;
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

/** Whether YYYY-MM-DD is a calendar day (2023-02-30 and 2023-13-45 are not). */
export function isCalendarDay(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const millis = utcMillis(Number(match[1]), Number(match[2]), Number(match[3]), 0, 0, 0, 0);
  return !Number.isNaN(millis) && new Date(millis).toISOString().slice(0, 10) === text;
}

/**
 * A timestamp: an ISO-8601 string (UTC when it has no zone). Returns null for null/absent/"",
 * undefined for a value present but not a timestamp (the caller records it as sent).
 */
export function toTimestamp(value: unknown): Date | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') return undefined;
  // The form Qualys writes (2023-01-16T10:47:05Z), read without a regex: most of a file's dates.
  if (
    value.length === 20 &&
    value.charCodeAt(4) === 45 &&
    value.charCodeAt(7) === 45 &&
    value.charCodeAt(10) === 84 &&
    value.charCodeAt(13) === 58 &&
    value.charCodeAt(16) === 58 &&
    value.charCodeAt(19) === 90 &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(value)
  ) {
    const millis = utcMillis(
      two(value, 0) * 100 + two(value, 2),
      two(value, 5),
      two(value, 8),
      two(value, 11),
      two(value, 14),
      two(value, 17),
      0,
    );
    return Number.isNaN(millis) ? undefined : new Date(millis);
  }
  const match = ISO_TIMESTAMP.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  let millis = utcMillis(
    Number(y),
    Number(mo),
    Number(d),
    Number(h),
    Number(mi),
    Number(s ?? 0),
    fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0,
  );
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    millis -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return Number.isNaN(millis) ? undefined : new Date(millis);
}

/**
 * Reads the keys of an object case- and separator-insensitively: `hostId`, `host_id`, `HOST_ID`
 * and `HostID` are one name (`hostid`). Keys with stray spaces (the guide's `"expectedValues "`)
 * are trimmed.
 */
export function normalizedKey(key: string): string {
  return key
    .trim()
    .replace(/[_\-\s]/g, '')
    .toLowerCase();
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
