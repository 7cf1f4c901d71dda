/**
 * Reading Qualys's answers tolerantly. The guide shows some answers only once, some never,
 * and contradicts itself on others (see shared/reference/guide-audit.md), so every reader
 * here accepts each shape the guide allows and says which one it met (a "reading"), and
 * none of them guesses: what cannot be recognised is reported as unreadable, so that the
 * caller can refuse to act destructively on it.
 *
 * Pure functions over answers (status and body) and parsed JSON; the client calls them.
 */
import type { CipsFilter } from '../contract';
import { type HttpResponse, header } from './transport';

/** An integration as Qualys reports it (register answer, PUT answer, GET, list entry). */
export interface IntegrationDetails {
  /** Absent where Qualys leaves it out: the guide's PC details sample carries no ID. */
  readonly integrationId?: string;
  readonly name?: string;
  readonly bucketName?: string;
  readonly bucketRegion?: string;
  readonly roleArn?: string;
  /** Spelt `externalId` in the samples and `externalID` in the prose; absent in the PC sample. */
  readonly externalId?: string;
  readonly integrationValidated?: boolean;
  readonly compressData?: boolean;
  readonly [field: string]: unknown;
}

/** What a list page says about paging (Spring's `number`/`size`/`last`, `hasMore`, a next link). */
export interface PageInfo {
  /** The index of the page just read (`number`), when the answer says it; its base is not known. */
  readonly index?: number;
  /** The page size the answer reports (`size`), to keep pages aligned. */
  readonly size?: number;
  /** A link to the next page (relative or absolute), when the answer gives one. */
  readonly link?: string;
  /** The answer says more pages follow. */
  readonly more: boolean;
}

export interface IntegrationPage {
  readonly entries: IntegrationDetails[];
  /** The shape met, in words: "an array", "one object", "{content: [...]} page", ... */
  readonly reading: string;
  readonly page: PageInfo;
}

/** Keys under which a list answer may wrap its entries. */
const LIST_WRAPPERS = [
  'data',
  'content',
  'items',
  'integrations',
  'results',
  'records',
  'list',
  'elements',
  'values',
] as const;

/** Fields that only an integration's details carry: a lone object with one of them is one integration. */
const DETAIL_FIELDS = ['integrationId', 'id', 'name', 'roleArn', 'bucketName'] as const;

const ONE_PAGE: PageInfo = { more: false };

/**
 * One answer of the list call, status included: 204, 404 and an empty body say there are
 * none. Undefined when it is no list this reader knows.
 */
export function readListAnswer(res: HttpResponse): IntegrationPage | undefined {
  if (saysNone(res)) {
    return {
      entries: [],
      reading: res.status === 200 ? 'an empty answer' : `HTTP ${res.status} for none`,
      page: ONE_PAGE,
    };
  }
  const body = parseJson(res.body);
  // A body that is not JSON (a maintenance page, a truncated answer) is no list, never an empty one:
  // read as empty, it would let a create register a second integration.
  if (body === undefined) return undefined;
  return readIntegrationPage(body);
}

/** Reads one answer of `GET /partner-integration/aws/s3/{kind}`; undefined when it is no list this reader knows. */
export function readIntegrationPage(body: unknown): IntegrationPage | undefined {
  if (body === undefined || body === null) return { entries: [], reading: 'an empty answer', page: ONE_PAGE };
  if (Array.isArray(body)) return { entries: entriesOf(body), reading: 'an array', page: ONE_PAGE };
  if (!isObject(body)) return undefined;
  for (const key of LIST_WRAPPERS) {
    const value = body[key];
    if (Array.isArray(value)) {
      const page = pageInfo(body);
      const paged = page.more || page.index !== undefined;
      return { entries: entriesOf(value), reading: `{${key}: [...]}${paged ? ' pages' : ''}`, page };
    }
    // One level deeper: {data: {content: [...], last: false}}, or {data: <one integration>}.
    if (isObject(value)) {
      const inner = readIntegrationPage(value);
      if (inner && inner.reading !== 'an empty object') return { ...inner, reading: `{${key}: ${inner.reading}}` };
    }
  }
  if (DETAIL_FIELDS.some((f) => body[f] !== undefined))
    return { entries: entriesOf([body]), reading: 'one object', page: ONE_PAGE };
  if (Object.keys(body).length === 0) return { entries: [], reading: 'an empty object', page: ONE_PAGE };
  return undefined;
}

export function pageInfo(body: Record<string, unknown>): PageInfo {
  const index = numberOf(body.number) ?? numberOf(body.pageNumber) ?? numberOf(body.pageNo);
  const size = numberOf(body.size) ?? numberOf(body.pageSize);
  const links = isObject(body.links) ? body.links : isObject(body._links) ? body._links : {};
  const link = [
    body.next,
    body.nextPage,
    body.nextLink,
    links.next,
    isObject(links.next) ? links.next.href : undefined,
  ].find((v): v is string => typeof v === 'string' && v.length > 0);
  const totalPages = numberOf(body.totalPages);
  const more =
    body.last === false ||
    body.last === 'false' ||
    truthy(body.hasMore) ||
    truthy(body.hasMoreRecords) ||
    (totalPages !== undefined && index !== undefined && body.last === undefined && index + 1 < totalPages) ||
    link !== undefined;
  return { index, size, link, more };
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function entriesOf(list: unknown[]): IntegrationDetails[] {
  return list.filter(isObject).map((raw) => readDetails(raw));
}

/**
 * One integration's details with the spellings normalised: `integrationId`/`id`, and
 * `externalId`/`externalID`. `fallbackId` fills in the ID a GET by ID leaves out.
 */
export function readDetails(raw: Record<string, unknown>, fallbackId?: string): IntegrationDetails {
  const id = firstOf(raw, ['integrationId', 'integrationID', 'id']);
  const externalId = firstOf(raw, ['externalId', 'externalID', 'external_id']);
  const validated = booleanOf(raw.integrationValidated);
  const compress = booleanOf(raw.compressData);
  const { integrationID: _a, id: _b, externalID: _c, external_id: _d, ...rest } = raw;
  return {
    ...rest,
    integrationId: typeof id === 'string' || typeof id === 'number' ? String(id) : fallbackId,
    externalId: typeof externalId === 'string' && externalId.length > 0 ? externalId : undefined,
    integrationValidated: validated,
    compressData: compress,
  };
}

/** The external ID an answer carries (register, PUT), wrapped or not. */
export function readExternalId(body: unknown): string | undefined {
  const object = unwrapObject(body);
  if (!object) return undefined;
  return readDetails(object).externalId;
}

/** The integration an answer describes (register), wrapped in `data` or an array of one, or not. */
export function readDetailsAnswer(body: unknown): IntegrationDetails | undefined {
  const object = unwrapObject(body);
  return object ? readDetails(object) : undefined;
}

/**
 * A GET-by-ID answer; undefined when it holds no integration. The guide's PC sample carries
 * no ID: the one asked for is the one answered.
 */
export function readIntegrationAnswer(res: HttpResponse, id: string): IntegrationDetails | undefined {
  const object = unwrapObject(parseJson(res.body));
  return object ? readDetails(object, id) : undefined;
}

function unwrapObject(body: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(body)) return body.length === 1 && isObject(body[0]) ? unwrapObject(body[0]) : undefined;
  if (!isObject(body)) return undefined;
  for (const key of ['data', 'integration', 'result']) {
    if (isObject(body[key])) return body[key] as Record<string, unknown>;
  }
  return body;
}

// ---- validation ------------------------------------------------------------------------------

export type ValidationVerdict = 'validated' | 'failed' | 'unclear';

/**
 * What a 2xx validate answer says. The guide's success is `{"messsage": "... successfully
 * validated."}`; failures are undocumented, so a 200 that says it failed must not count,
 * and neither may one that says nothing (a read-back decides then).
 */
export function readValidationAnswer(body: unknown, text: string): ValidationVerdict {
  const object = unwrapObject(body);
  const flag = object ? booleanOf(object.integrationValidated ?? object.validated ?? object.success) : undefined;
  if (flag === false) return 'failed';
  const words = (object ? [object.messsage, object.message, object.status, object.result] : [text])
    .filter((v): v is string => typeof v === 'string')
    .join(' ')
    .toLowerCase();
  if (saysFailure(words) || /\bnot validated\b/.test(words)) return 'failed';
  if (flag === true) return 'validated';
  if (/\b(successfully validated|validated successfully|validation successful|success)\b/.test(words))
    return 'validated';
  return 'unclear';
}

/** Qualys's words say the request failed (the guide documents no failure answer, so by its words). */
export function saysFailure(message: string): boolean {
  return /\b(fail|failed|failure|unable|cannot|could not|denied|invalid|error)\b/i.test(message);
}

// ---- CIPS ------------------------------------------------------------------------------------

export type CipsReading =
  | {
      readonly readable: true;
      readonly policies: readonly number[];
      readonly filter?: CipsFilter;
      readonly reading: string;
    }
  | { readonly readable: false; readonly reading: string };

const FILTER_KEYS = ['includeEvidenceData', 'includeFailPosture', 'includePassPosture', 'includeErrorPosture'] as const;
const POLICY_LIST_KEYS = ['policy', 'policies', 'policyIds', 'policyList', 'policyIdList', 'policyIDs'] as const;
const FILTER_WRAPPERS = [
  'filter',
  'filters',
  'filterConfig',
  'filterConfiguration',
  'config',
  'configuration',
] as const;

/** A Get Filter Details answer, status included: 204, 404 and an empty body say nothing is configured. */
export function readCipsAnswer(res: HttpResponse): CipsReading {
  return saysNone(res)
    ? { readable: true, policies: [], reading: `HTTP ${res.status} for none` }
    : readCipsConfig(parseJson(res.body) ?? res.body);
}

/**
 * The Get Filter Details answer, whose shape the guide never shows (l.1078): the policy list
 * under any usual key, as numbers, numeric strings or objects with an ID; the four filter
 * flags at the top or in a nested object. A 200 whose parts cannot be told apart is
 * unreadable, never "nothing configured".
 */
export function readCipsConfig(body: unknown): CipsReading {
  if (body === undefined || body === null) return { readable: true, policies: [], reading: 'an empty answer' };
  if (Array.isArray(body)) {
    if (body.length === 0) return { readable: true, policies: [], reading: 'an empty array' };
    if (body.length === 1) {
      const inner = readCipsConfig(body[0]);
      return { ...inner, reading: `an array of ${inner.reading}` };
    }
    return { readable: false, reading: `an array of ${body.length} items` };
  }
  if (!isObject(body)) return { readable: false, reading: typeof body };
  if (Object.keys(body).length === 0) return { readable: true, policies: [], reading: 'an empty object' };
  const data = body.data;
  if (isObject(data) || Array.isArray(data)) {
    const inner = readCipsConfig(data);
    return { ...inner, reading: `{data: ${inner.reading}}` };
  }
  const listKey = POLICY_LIST_KEYS.find((k) => body[k] !== undefined);
  const policies = listKey === undefined ? [] : policyIds(body[listKey]);
  if (policies === undefined) return { readable: false, reading: `a "${listKey}" list of unknown items` };
  const wrapperKey = FILTER_WRAPPERS.find(
    (k) => isObject(body[k]) && FILTER_KEYS.some((f) => (body[k] as Record<string, unknown>)[f] !== undefined),
  );
  const filterSource = FILTER_KEYS.some((k) => body[k] !== undefined)
    ? body
    : wrapperKey
      ? (body[wrapperKey] as Record<string, unknown>)
      : undefined;
  const filter = filterSource ? filterOf(filterSource) : undefined;
  if (filterSource && !filter) return { readable: false, reading: 'a filter with missing or non-boolean flags' };
  if (listKey === undefined) {
    // No policy list: "no policies" is believed only from an answer that holds nothing else a
    // policy list could be hiding in (a key this reader does not know).
    const known = new Set<string>([
      'subscriptionId',
      'lastUpdated',
      'customerId',
      'messsage',
      'message',
      ...FILTER_KEYS,
      ...(wrapperKey ? [wrapperKey] : []),
    ]);
    const unknown = Object.keys(body).filter((k) => !known.has(k));
    if (unknown.length > 0)
      return {
        readable: false,
        reading: `an object with ${unknown.slice(0, 5).join(', ')}, which this reader does not know`,
      };
    if (!filter) return { readable: true, policies: [], reading: 'no policy list and no filter' };
  }
  const where = filterSource === body ? 'flags at the top' : filter ? 'a nested filter' : 'no filter';
  return { readable: true, policies, filter, reading: `${listKey ? `"${listKey}" list` : 'no policy list'}, ${where}` };
}

function policyIds(list: unknown): number[] | undefined {
  if (!Array.isArray(list)) return typeof list === 'number' ? [list] : undefined;
  const ids: number[] = [];
  for (const item of list) {
    const raw = isObject(item) ? firstOf(item, ['id', 'policyId', 'policyID', 'policy']) : item;
    const id = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return undefined;
    ids.push(id);
  }
  return ids;
}

function filterOf(source: Record<string, unknown>): CipsFilter | undefined {
  const flags = FILTER_KEYS.map((k) => booleanOf(source[k]));
  if (flags.some((f) => f === undefined)) return undefined;
  const [includeEvidenceData, includeFailPosture, includePassPosture, includeErrorPosture] = flags as boolean[];
  return { includeEvidenceData, includeFailPosture, includePassPosture, includeErrorPosture };
}

/** A CIPS add answered as an error that means the policy is there already: success for us. */
export function saysAlreadyPresent(message: string): boolean {
  return /\balready\b.*\b(added|present|exists?|configured)\b|\bduplicate\b/i.test(message);
}

// ---- Qualys's words ---------------------------------------------------------------------------

/** Qualys's own words: `messsage` (sic), or any usual message field, or the text of an error page. */
export function qualysMessage(res: HttpResponse): string {
  const body = parseJson(res.body);
  // Connectors 3.0 (QPS): {"ServiceResponse": {"responseCode": "...", "responseErrorDetails": {"errorMessage": "..."}}}.
  const service = isObject(body) && isObject(body.ServiceResponse) ? body.ServiceResponse : undefined;
  if (service && typeof service.responseCode === 'string') {
    const details = isObject(service.responseErrorDetails) ? service.responseErrorDetails : {};
    const words = [details.errorMessage, details.errorResolution].filter(
      (v): v is string => typeof v === 'string' && v !== '',
    );
    return truncate(`${service.responseCode}${words.length ? `: ${words.join(' ')}` : ''}`);
  }
  if (isObject(body)) {
    for (const key of ['messsage', 'message', 'errorMessage', 'error', 'errors']) {
      const value = body[key];
      if (typeof value === 'string' && value) return truncate(value);
      if (value !== undefined && typeof value !== 'string') return truncate(JSON.stringify(value));
    }
  }
  return stripToText(res.body);
}

/** An HTML page (a load balancer's or proxy's), not an API answer. */
export function isHtml(res: HttpResponse): boolean {
  return /text\/html/i.test(header(res, 'content-type') ?? '') || /^\s*<(!doctype|html)/i.test(res.body);
}

/** A body as one short line of text: an HTML page's title, or its text without tags. */
export function stripToText(body: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
  const text = (title ?? body.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return truncate(text);
}

/** An answer's shape without its values (key names and types), for error messages. */
export function describeShape(text: string): string {
  const value = parseJson(text);
  if (value === undefined) return `not JSON, ${text.length} characters`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (isObject(value)) return `an object with keys ${Object.keys(value).slice(0, 8).join(', ') || 'none'}`;
  return typeof value;
}

// ---- helpers ---------------------------------------------------------------------------------

/** 204, 404 (from Qualys, not a proxy's page: the session raises those) or an empty body: there is none. */
function saysNone(res: HttpResponse): boolean {
  return res.status === 204 || res.status === 404 || res.body.trim() === '';
}

/** The body as JSON, or undefined when it is not JSON (Qualys answers text too). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function firstOf(object: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const k of keys) if (object[k] !== undefined && object[k] !== null) return object[k];
  return undefined;
}

/** Booleans may come back as strings ("true"), as some Qualys APIs answer them. */
function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
