/**
 * Tolerant readers shared by both connector APIs: values that may come as strings (booleans,
 * numbers, IDs), list pages in any of the usual shapes, error entries in any of the usual
 * words. Like ../answers.ts, none of them guesses: what cannot be recognised is undefined
 * (unreadable), never an empty list.
 */
import { CONNECTOR_APP_NAMES, type ConnectorModule } from '../../connector-contract';
import { type PageInfo, isObject, pageInfo } from '../answers';
import type { ConnectorErrorEntry } from './api';

export { isObject } from '../answers';

/** Booleans may come back as strings ("true"). */
export function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'TRUE' || value === 'True') return true;
  if (value === 'false' || value === 'FALSE' || value === 'False') return false;
  return undefined;
}

/** An ID, an account or any other value that may come as a number or a string. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A number that may come as a numeric string. */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

export function firstOf(object: Readonly<Record<string, unknown>>, keys: readonly string[]): unknown {
  for (const k of keys) if (object[k] !== undefined && object[k] !== null) return object[k];
  return undefined;
}

/** One page of a list: its entries, the shape met, and what it says of paging. */
export interface EntriesPage {
  readonly entries: readonly unknown[];
  readonly reading: string;
  readonly page: PageInfo;
}

const LIST_WRAPPERS = ['content', 'data', 'items', 'connectors', 'errors', 'results', 'records', 'list', 'elements'];

/**
 * A list answer: a bare array, or an object wrapping one (Spring's `{content: [...], last,
 * number, size, totalPages}` included), one level deep at most. `{}` and `null` are empty.
 * Undefined for anything else: it is no list this reader knows.
 */
export function readEntries(body: unknown): EntriesPage | undefined {
  if (body === undefined) return undefined;
  if (body === null) return { entries: [], reading: 'null', page: { more: false } };
  if (Array.isArray(body)) return { entries: body, reading: 'an array', page: { more: false } };
  if (!isObject(body)) return undefined;
  for (const key of LIST_WRAPPERS) {
    const value = body[key];
    if (Array.isArray(value)) {
      const page = pageInfo(body);
      const paged = page.more || page.index !== undefined;
      return { entries: value, reading: `{${key}: [...]}${paged ? ' pages' : ''}`, page };
    }
    if (isObject(value)) {
      const inner = readEntries(value);
      if (inner && inner.reading !== 'an empty object') return { ...inner, reading: `{${key}: ${inner.reading}}` };
    }
  }
  if (Object.keys(body).length === 0) return { entries: [], reading: 'an empty object', page: { more: false } };
  return undefined;
}

const MESSAGE_KEYS = ['errorMessage', 'message', 'messsage', 'error', 'description', 'reason', 'details', 'detail'];

/** An error entry in any of the usual words; one that has none is kept as its JSON, never dropped. */
export function readErrorEntry(raw: unknown): ConnectorErrorEntry | undefined {
  if (typeof raw === 'string') return raw.trim() ? { message: raw.trim() } : undefined;
  if (!isObject(raw)) return undefined;
  const words = MESSAGE_KEYS.map((k) => raw[k]).filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  const code = textOf(firstOf(raw, ['errorCode', 'code', 'errorType', 'type']));
  const region = textOf(firstOf(raw, ['region', 'regionCode', 'awsRegion']));
  const service = textOf(firstOf(raw, ['service', 'serviceName', 'resourceType']));
  const message = words.length > 0 ? [...new Set(words)].join(' ') : JSON.stringify(raw);
  return { message: message.slice(0, 500), code, region, service };
}

/** Qualys's module names (AI, CI, CSA, in any case, or this project's) as modules; unknown names are left out. */
export function moduleOf(name: unknown): ConnectorModule | undefined {
  if (typeof name !== 'string') return undefined;
  const upper = name.trim().toUpperCase();
  for (const [module, app] of Object.entries(CONNECTOR_APP_NAMES) as [ConnectorModule, string][]) {
    if (upper === app || upper === module.toUpperCase()) return module;
  }
  return undefined;
}

/** The modules in their fixed order, without repeats: two lists compare equal whatever order Qualys keeps. */
export function sortedModules(modules: readonly ConnectorModule[]): ConnectorModule[] {
  const order: readonly ConnectorModule[] = ['assetInventory', 'cloudInventory', 'securityAssessment'];
  return order.filter((m) => modules.includes(m));
}
