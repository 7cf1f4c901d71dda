/**
 * Dialects of the Qualys simulator: one field per place where the Qualys "Integration with AWS
 * S3 Bucket" guide allows more than one reading of what the service answers (its samples
 * disagree with its prose, or it shows no sample at all). See
 * /work/shared/reference/guide-audit.md sections 1 and 5; "l.N" is a line of the guide.
 *
 * A dialect is chosen per simulator (`dialect` option or property) so that one client can be
 * run against every reading; `DEFAULT_DIALECT` is the simulator's historical behaviour.
 */

export interface Dialect {
  /**
   * PC GET (by id and in lists). 'guide': only the keys of the guide's PC sample (l.838-845),
   * so no integrationId and no external ID. VM details always follow the VM sample.
   */
  pcDetails: 'full' | 'guide';
  /** The key of every external ID the simulator sends; the guide's prose spells `externalID` (l.438, l.734). */
  externalIdKey: 'externalId' | 'externalID';
  /**
   * The register answer: every detail, only `{integrationId, <externalIdKey>}` (step 6, l.231),
   * or an empty body (the guide's register output is blank, l.403).
   */
  registerAnswer: 'details' | 'ids' | 'empty';
  /** The status of a successful register; the guide gives none. */
  registerStatus: 200 | 201;
  /** 'with-external-id': the PUT answer carries the current external ID beside `messsage` (l.1310). */
  putAnswer: 'message' | 'with-external-id';
  /**
   * `GET /partner-integration/aws/s3/{vm|pc}` without an id. 'single': one bare object, as the
   * guide's sample (l.563-598); data/content/items/integrations: `{<key>: [...]}`; 'paged':
   * Spring-style pages as Qualys's CloudView API answers, with `pageNo` and `pageSize`.
   */
  list: 'array' | 'single' | 'data' | 'content' | 'items' | 'integrations' | 'paged';
  /** Whether `pageNo` counts from 0 or from 1 (CloudView asks pageNo=1 for the first page). */
  pageBase: 0 | 1;
  /** The page size when `pageSize` is not given. */
  defaultPageSize: number;
  /**
   * The list answer when there is no integration of that kind: the list form's own empty value
   * (`[]`, `{key: []}`, an empty page, or for 'single' a 200 with an empty body), 204, or 404.
   */
  emptyList: 'empty' | '204' | '404';
  /** The subscription holds at most one integration per kind (the guide's "each customer", l.424, l.720). */
  onePerKind: boolean;
  /** Unknown body fields: refused with 400, or silently dropped. */
  unknownFields: 'reject' | 'ignore';
  /** 'guide': PC register takes only bucketName, bucketRegion, roleArn, name (l.670-679); compressData is then unknown. */
  pcRegisterFields: 'lenient' | 'guide';
  /** 'strict': 406 when the Accept header does not admit the answer's media type (the guide sends `accept: *\/*`, l.955). */
  cipsAccept: 'any' | 'strict';
  /** Which path removes CIPS policies: the table's `/pcas/cips/config/policy` (l.912, l.972), the curl's `/pcas/cips/config` (l.979), or both. */
  cipsDeletePath: 'policy' | 'config' | 'both';
  /** The Get Filter Details answer, which the guide leaves blank (l.1078). */
  cipsConfigShape: 'flat' | 'policies-objects' | 'nested' | 'array' | 'data' | 'opaque';
  /** Get Filter Details for a subscription with nothing configured. */
  cipsEmpty: '404' | '204' | 'empty-object';
  /** Adding a policy already present: 400, or a 202 success that says it was already there. */
  cipsDuplicateAdd: 'error' | 'ok';
  /** A validation that cannot assume the role: 400, 200 with a failure `messsage`, 500, or 403. */
  validateFailure: '400' | '200-message' | '5xx' | '403';
}

export const DEFAULT_DIALECT: Readonly<Dialect> = Object.freeze({
  pcDetails: 'full',
  externalIdKey: 'externalId',
  registerAnswer: 'details',
  registerStatus: 200,
  putAnswer: 'message',
  list: 'array',
  pageBase: 0,
  defaultPageSize: 2,
  emptyList: 'empty',
  onePerKind: false,
  unknownFields: 'reject',
  pcRegisterFields: 'lenient',
  cipsAccept: 'any',
  cipsDeletePath: 'policy',
  cipsConfigShape: 'flat',
  cipsEmpty: '404',
  cipsDuplicateAdd: 'error',
  validateFailure: '400',
});

export const DIALECTS = {
  strict: { ...DEFAULT_DIALECT },
  'pc-guide-details': { pcDetails: 'guide' },
  externalID: { externalIdKey: 'externalID' },
  'register-ids': { registerAnswer: 'ids' },
  'register-empty': { registerAnswer: 'empty', registerStatus: 201 },
  'put-external-id': { putAnswer: 'with-external-id' },
  'single-list': { list: 'single' },
  'wrapped-list': { list: 'content' },
  'paged-list': { list: 'paged', pageBase: 0 },
  'paged-list-1': { list: 'paged', pageBase: 1 },
  'one-per-kind': { onePerKind: true },
  'pc-register-ignore': { pcRegisterFields: 'guide', unknownFields: 'ignore' },
  'pc-register-reject': { pcRegisterFields: 'guide', unknownFields: 'reject' },
  'text-cips': { cipsAccept: 'strict' },
  'cips-delete-config': { cipsDeletePath: 'config' },
  'cips-nested': { cipsConfigShape: 'nested' },
  'cips-policies-objects': { cipsConfigShape: 'policies-objects' },
  'cips-opaque': { cipsConfigShape: 'opaque' },
  'cips-duplicate-ok': { cipsDuplicateAdd: 'ok' },
  'validate-200-failure': { validateFailure: '200-message' },
  'validate-5xx': { validateFailure: '5xx' },
  'validate-403': { validateFailure: '403' },
  /**
   * The guide's samples wherever it shows one; where it is silent, the reading hardest for a
   * client:
   * - PC details as the PC sample (no id, no external ID); lists as the single-object sample,
   *   and for none a 200 with an empty body (what Spring answers for a null result, and what
   *   a JSON reader chokes on); the VM sample's `externalId` spelling.
   * - Register: ids only, as step 6's prose says (l.231) rather than the blank output (l.403),
   *   because with the PC sample's details and a blank answer no client could ever learn a
   *   PC integration's id; with 201, which a client testing `=== 200` misses.
   * - PUT answers the external ID (l.1310); one integration per kind (l.424, l.720); PC
   *   register takes the four documented fields and unknown fields are dropped silently (the
   *   client never learns its compressData was not applied).
   * - CIPS: text-only strict content negotiation; the curl's delete path (l.979); a nested
   *   filter-details answer (the guide's words: "filter configuration and a list of
   *   policies", l.1060) with `{}` when empty; a duplicate add refused, so a client that
   *   misreads the list and re-adds fails.
   * - A failed validation answers 200 with a failure `messsage`, so only a client that reads
   *   the body or re-reads `integrationValidated` notices.
   */
  guide: {
    pcDetails: 'guide',
    externalIdKey: 'externalId',
    registerAnswer: 'ids',
    registerStatus: 201,
    putAnswer: 'with-external-id',
    list: 'single',
    emptyList: 'empty',
    onePerKind: true,
    unknownFields: 'ignore',
    pcRegisterFields: 'guide',
    cipsAccept: 'strict',
    cipsDeletePath: 'config',
    cipsConfigShape: 'nested',
    cipsEmpty: 'empty-object',
    cipsDuplicateAdd: 'error',
    validateFailure: '200-message',
  },
} satisfies Record<string, Partial<Dialect>>;

export type DialectName = keyof typeof DIALECTS;

const CHOICES: { [K in keyof Dialect]: readonly Dialect[K][] | 'page-size' } = {
  pcDetails: ['full', 'guide'],
  externalIdKey: ['externalId', 'externalID'],
  registerAnswer: ['details', 'ids', 'empty'],
  registerStatus: [200, 201],
  putAnswer: ['message', 'with-external-id'],
  list: ['array', 'single', 'data', 'content', 'items', 'integrations', 'paged'],
  pageBase: [0, 1],
  defaultPageSize: 'page-size',
  emptyList: ['empty', '204', '404'],
  onePerKind: [false, true],
  unknownFields: ['reject', 'ignore'],
  pcRegisterFields: ['lenient', 'guide'],
  cipsAccept: ['any', 'strict'],
  cipsDeletePath: ['policy', 'config', 'both'],
  cipsConfigShape: ['flat', 'policies-objects', 'nested', 'array', 'data', 'opaque'],
  cipsEmpty: ['404', '204', 'empty-object'],
  cipsDuplicateAdd: ['error', 'ok'],
  validateFailure: ['400', '200-message', '5xx', '403'],
};

/** The largest `pageSize` a paged list accepts. */
export const MAX_PAGE_SIZE = 1000;

/** A complete dialect from a name or a partial one (missing fields from DEFAULT_DIALECT). */
export function resolveDialect(dialect: DialectName | Partial<Dialect> | undefined): Dialect {
  if (dialect === undefined) return { ...DEFAULT_DIALECT };
  if (typeof dialect === 'string') {
    if (!Object.hasOwn(DIALECTS, dialect)) {
      throw new Error(`Unknown simulator dialect '${dialect}': use one of ${Object.keys(DIALECTS).join(', ')}`);
    }
    return { ...DEFAULT_DIALECT, ...(DIALECTS[dialect] as Partial<Dialect>) };
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(dialect)) {
    if (value === undefined) continue;
    const choices = (CHOICES as Record<string, readonly unknown[] | 'page-size'>)[key];
    if (choices === undefined)
      problems.push(`'${key}' is not a dialect field (fields: ${Object.keys(CHOICES).join(', ')})`);
    else if (choices === 'page-size') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
        problems.push(`${key} must be an integer from 1 to ${MAX_PAGE_SIZE} (got ${JSON.stringify(value)})`);
      }
    } else if (!choices.includes(value)) {
      problems.push(
        `${key} must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')} (got ${JSON.stringify(value)})`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`Invalid simulator dialect: ${problems.join('; ')}`);
  const defined = Object.fromEntries(Object.entries(dialect).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_DIALECT, ...defined };
}

// ---- content negotiation (RFC 9110 §12.5.1) --------------------------------------------------

interface MediaRange {
  type: string;
  subtype: string;
  params: Record<string, string>;
  q: number;
}

function parseMediaType(value: string): { type: string; subtype: string; params: Record<string, string> } | undefined {
  const [essence, ...rest] = value.split(';');
  const m = /^\s*([!#$%&'*+.^_`|~\w-]+)\/([!#$%&'*+.^_`|~\w-]+)\s*$/.exec(essence);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    if (name) params[name] = v;
  }
  return { type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), params };
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  // Split on commas outside quoted strings.
  for (const part of header.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    if (part.trim().length === 0) continue;
    const parsed = parseMediaType(part);
    if (!parsed) continue;
    const { q: qText, ...params } = parsed.params;
    let q = 1;
    if (qText !== undefined) {
      if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(qText)) continue; // a malformed weight voids the range
      q = Number(qText);
    }
    if (parsed.type === '*' && parsed.subtype !== '*') continue; // "*/json" is not a media range
    ranges.push({ type: parsed.type, subtype: parsed.subtype, params, q });
  }
  return ranges;
}

/**
 * Whether an Accept header admits `produced` (e.g. 'text/plain;charset=UTF-8'): the most
 * specific range that matches decides its weight, and weight 0 means "not acceptable". A
 * missing or blank header admits anything. A range's parameters must all be the answer's
 * (charset compared without case; a JSON answer is UTF-8).
 */
export function acceptAdmits(header: string | undefined, produced: string): boolean {
  if (header === undefined || header.trim().length === 0) return true;
  const answer = parseMediaType(produced);
  if (!answer) return false;
  const answerParams: Record<string, string> = { ...answer.params };
  if (answerParams.charset === undefined && answer.type === 'application' && answer.subtype === 'json')
    answerParams.charset = 'utf-8';
  let best: { specificity: number; q: number } | undefined;
  for (const range of parseAccept(header)) {
    if (range.type !== '*' && range.type !== answer.type) continue;
    if (range.subtype !== '*' && range.subtype !== answer.subtype) continue;
    const names = Object.keys(range.params);
    const paramsMatch = names.every((n) => {
      const mine = answerParams[n];
      return (
        mine !== undefined &&
        (n === 'charset' ? mine.toLowerCase() === range.params[n].toLowerCase() : mine === range.params[n])
      );
    });
    if (!paramsMatch) continue;
    const specificity = (range.type === '*' ? 0 : 1) + (range.subtype === '*' ? 0 : 1) + names.length;
    if (!best || specificity > best.specificity) best = { specificity, q: range.q };
  }
  return best !== undefined && best.q > 0;
}
