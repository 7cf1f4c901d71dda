/**
 * Reading Qualys's loosely typed values into the curated columns: numbers that may arrive as
 * strings, timestamps that may be malformed (the guide's own sample has "2023-01-16T10:49:432"),
 * nulls anywhere. Shared by both mappers.
 */

/** An integer id (bigint column): a JSON integer or a string of digits; anything else is null. */
export function toBigint(value: unknown): bigint | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : null;
  if (typeof value === 'string') {
    const text = value.trim();
    return /^-?\d{1,19}$/.test(text) ? BigInt(text) : null;
  }
  if (typeof value === 'bigint') return value;
  return null;
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

// ISO-8601 date-time as Qualys writes it: date, time with optional fraction, optional zone (UTC when absent).
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * The same few timestamps repeat across a file's postures (one scan, one evaluation time):
 * a small cache saves most of the parsing. Cleared when full, so memory stays bounded.
 */
const timestampCache = new Map<string, Date | undefined>();
const TIMESTAMP_CACHE_LIMIT = 4096;

/**
 * A timestamp: an ISO-8601 string (UTC when it has no zone). Returns null for null/absent/"",
 * undefined for a value present but not a timestamp (the caller records it as sent).
 */
export function toTimestamp(value: unknown): Date | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') return undefined;
  const cached = timestampCache.get(value);
  if (cached !== undefined || timestampCache.has(value)) return cached;
  let parsed: Date | undefined;
  if (ISO_TIMESTAMP.test(value)) {
    const text = value.replace(' ', 'T');
    const millis = Date.parse(HAS_ZONE.test(text) ? text : `${text}Z`);
    // Date.parse rolls some impossible dates over (2023-02-30): refuse those by reading the day back.
    if (!Number.isNaN(millis) && new Date(millis).toISOString().slice(0, 10) === calendarDay(text, millis))
      parsed = new Date(millis);
  }
  if (timestampCache.size >= TIMESTAMP_CACHE_LIMIT) timestampCache.clear();
  timestampCache.set(value, parsed);
  return parsed;
}

/** The calendar day the text names, as the parsed instant would print it (zones shift the day; then trust the parser). */
function calendarDay(text: string, millis: number): string {
  const zoned = /[+-]\d{2}:?\d{2}$/.test(text);
  return zoned ? new Date(millis).toISOString().slice(0, 10) : text.slice(0, 10);
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
