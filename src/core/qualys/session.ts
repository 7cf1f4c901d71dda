/**
 * One conversation with a Qualys server: what every call needs whatever it asks.
 *
 * - Authentication, one of two:
 *   - `jwt` (the S3-integration gateway): `POST /auth` with form fields, the JWT comes back as
 *     the text body and lives 4 hours; it is cached per gateway and user for the life of a
 *     warm Lambda, and a 401 on an expired token re-authenticates once.
 *   - `basic` (the connector APIs on the platform's API server): HTTP Basic on every request;
 *     a 401 is final.
 * - Retries: 429 and 5xx (HTML error pages included), a 409 that Qualys's `X-RateLimit-*` /
 *   `X-Concurrency-Limit-*` headers mark as a limit, and network failures are retried with
 *   jittered backoff, honouring `X-RateLimit-ToWait-Sec` and `Retry-After`, within the deadline.
 * - Headers, time limits cut to the deadline, pages followed (on this gateway only), and
 *   Qualys's words redacted before they go into an error.
 */
import { createHash } from 'node:crypto';
import { type PageInfo, isHtml, qualysMessage, stripToText } from './answers';
import { AUTH_STEP, type PageQuery, type QualysRequest, endpoints } from './endpoints';
import {
  IntegrationError,
  QualysApiError,
  QualysAuthError,
  QualysNetworkError,
  UnreadableAnswerError,
  errorMessage,
} from '../errors';
import { type HttpResponse, type HttpTransport, header } from './transport';
import type { Logger } from '../log';
import { type Clock, systemClock, withRetries } from '../retry';

export interface QualysCredentials {
  readonly username: string;
  readonly password: string;
}

export interface CachedToken {
  readonly jwt: string;
  readonly expiresAt: number;
}

/**
 * Tokens outlive one invocation: a warm Lambda reuses them for their 4-hour life, which
 * saves an `/auth` round trip per event. Keyed by gateway, user and a hash of the password,
 * so a rotated password never reuses an old token.
 */
export const sharedTokenCache = new Map<string, CachedToken>();

const TOKEN_LIFETIME_MS = 4 * 60 * 60 * 1000;
/** Renew a little before expiry so that a token never dies between check and use. */
const TOKEN_RENEW_MARGIN_MS = 5 * 60 * 1000;

/** How a session authenticates: a JWT from `POST /auth` (the gateway), or HTTP Basic (the API server). */
export type SessionAuth = 'jwt' | 'basic';

export interface QualysSessionOptions {
  /** The server every request goes to (the gateway, or the API server for `basic`); the credentials go nowhere else. */
  readonly gatewayUrl: string;
  /** @default 'jwt' */
  readonly auth?: SessionAuth;
  /**
   * What a 403 about the user's permissions adds to Qualys's words.
   * @default - what the S3 integration's user needs
   */
  readonly permissionHint?: string;
  readonly credentials: QualysCredentials;
  /** Where the credentials came from, for error messages (e.g. `secret "qualys/api"`). */
  readonly credentialsSource: string;
  readonly transport: HttpTransport;
  readonly log: Logger;
  readonly clock?: Clock;
  /** No retry starts after this epoch-millisecond time. @default - none */
  readonly deadline?: number;
  /**
   * Epoch-millisecond time no request may run past (its time limit is cut to fit).
   * @default - each request has the transport's own limit
   */
  readonly requestDeadline?: number;
  /** @default 6 */
  readonly maxAttempts?: number;
  /** @default sharedTokenCache */
  readonly tokenCache?: Map<string, CachedToken>;
}

/** How one call treats what comes back. */
export interface CallPolicy {
  /** Statuses returned to the caller instead of raised. */
  readonly passStatuses?: readonly number[];
  /** Retry 5xx and network errors. False for calls that must not run twice. @default true */
  readonly retryServerErrors?: boolean;
  /** Retry 429. False where the caller paces its own attempts (validation). @default true */
  readonly retryRateLimit?: boolean;
  /** Retry network errors. @default retryServerErrors */
  readonly retryNetworkErrors?: boolean;
  /**
   * The caller probes whether a path exists (Connectors 3.0's run at 3.0, then 2.0): a 404 error
   * page is then an answer too, "no such path", and comes back instead of being raised.
   * @default false
   */
  readonly probe?: boolean;
}

/** One page of a list, as the caller's reader made it out. */
export interface ReadPage<T> {
  readonly entries: readonly T[];
  readonly reading: string;
  readonly page: PageInfo;
}

/** A list that may come in pages: how to ask for a page, read it, and tell its entries apart. */
export interface PagedList<T> {
  /** The request for a page; without a query, for the first (its step names the list in errors). */
  readonly pageAt: (query?: PageQuery) => QualysRequest;
  readonly policy: CallPolicy;
  /** Reads one answer; throws (naming the step) when it cannot. */
  readonly read: (res: HttpResponse, step: string) => ReadPage<T>;
  /** What tells one entry from another across pages. */
  readonly identity: (entry: T) => string;
  /** Told the first page's reading, and how the gateway counts pages when that turns out. */
  readonly onReading: (reading: string) => void;
  /**
   * The pageNo the first request (`pageAt()`) asks for, where the caller knows it: 1 for a
   * service known to count from 1 (pages are then asked for from there). @default 0
   */
  readonly firstPageNo?: number;
}

/** Qualys answered `request` with an error status; `message` is its words, redacted. */
export function answerError(
  { step, method, path }: QualysRequest,
  status: number,
  message: string,
  retryAfterMs?: number,
): QualysApiError {
  return new QualysApiError(step, method, path, status, message, retryAfterMs);
}

export const S3_PERMISSION_HINT =
  'The Qualys user lacks permission: it needs API access, the Manager or Unit Manager role, and (for PC) the CIPS service enabled by Qualys Support.';

/** A 403 that is about the Qualys user's permissions: Qualys's words, and what the user needs. */
export function permissionError(request: QualysRequest, message: string, hint = S3_PERMISSION_HINT): QualysApiError {
  return answerError(request, 403, `${message}${message ? '. ' : ''}${hint}`);
}

/** Pages of one list followed at the most: far beyond any subscription, short of a loop. */
const MAX_LIST_PAGES = 100;

/** The shortest time limit a request gets, however near its deadline. */
const MIN_REQUEST_MS = 1000;

// The CIPS endpoints answer text ("Policy added successfully.") and the guide's curl sends
// `accept: */*`: an Accept of JSON alone could be refused with 406 there.
const ACCEPT = 'application/json, text/plain;q=0.9, */*;q=0.8';

export class QualysSession {
  private readonly clock: Clock;
  private readonly cache: Map<string, CachedToken>;
  private readonly cacheKey: string;
  private readonly gatewayUrl: string;
  private readonly log: Logger;
  private readonly auth: SessionAuth;
  /** `Basic ...` for the `basic` session: a secret, registered with the logger like the password. */
  private readonly basic?: string;

  constructor(private readonly options: QualysSessionOptions) {
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.cache = options.tokenCache ?? sharedTokenCache;
    this.gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
    this.auth = options.auth ?? 'jwt';
    const passwordHash = createHash('sha256').update(options.credentials.password).digest('hex').slice(0, 16);
    this.cacheKey = `${this.gatewayUrl}|${options.credentials.username}|${passwordHash}`;
    options.log.addSecret(options.credentials.password);
    if (this.auth === 'basic') {
      const { username, password } = options.credentials;
      const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
      options.log.addSecret(encoded);
      this.basic = `Basic ${encoded}`;
    }
  }

  /** The server's origin: where every request of this session goes. */
  get origin(): string {
    return new URL(this.gatewayUrl).origin;
  }

  /** Sends a request with a token, renewing it once on a 401, retrying what the policy allows. */
  async call(request: QualysRequest, policy: CallPolicy = {}): Promise<HttpResponse> {
    const { step, method, path } = request;
    const retryServerErrors = policy.retryServerErrors ?? true;
    const retryRateLimit = policy.retryRateLimit ?? true;
    const retryNetworkErrors = policy.retryNetworkErrors ?? retryServerErrors;
    // Authentication retries on its own; retrying it again here would multiply the attempts.
    const isRetryable = (e: unknown) =>
      !isAuthStep(e) &&
      ((e instanceof QualysNetworkError && retryNetworkErrors) ||
        (e instanceof QualysApiError && (e.isRateLimit ? retryRateLimit : e.retryable && retryServerErrors)));
    const sendWithToken = async () =>
      this.send(
        request,
        this.basic ? withBasic(this.basic, request) : withToken(await this.token(), request.json, request.accept),
      );
    return this.retrying(step, isRetryable, async () => {
      let res = await sendWithToken();
      if (res.status === 401 && this.basic) {
        throw new QualysAuthError(
          `${step} failed: Qualys answered HTTP 401 to ${method} ${path}${this.said(res) ? ` (${this.said(res)})` : ''}. ` +
            `Check the username and password in ${this.options.credentialsSource}, that the user has API access and is not locked, ` +
            "and that the URL is your platform's API server (https://qualysapi...).",
          this.said(res),
        );
      }
      if (res.status === 401) {
        // The token may have expired or been revoked since it was cached: renew it once.
        this.cache.delete(this.cacheKey);
        res = await sendWithToken();
        if (res.status === 401) {
          throw new QualysAuthError(
            `${step} failed: Qualys answered HTTP 401 to ${method} ${path} even with a fresh token. ` +
              'The user needs API access and the Manager or Unit Manager role.',
          );
        }
      }
      if (res.status >= 200 && res.status < 300) return res;
      if (policy.passStatuses?.includes(res.status) && (!isHtml(res) || (policy.probe && res.status === 404)))
        return res;
      const message = this.said(res);
      if (res.status === 404 && isHtml(res)) {
        // A 404 page from a load balancer or proxy says nothing about the integration: "not
        // found" is believed only when Qualys itself says it.
        throw answerError(
          request,
          404,
          `${message ? `${message}: ` : ''}an HTML error page, not an answer from the Qualys API; check that the gateway URL is the API gateway and that no proxy rewrites the request`,
        );
      }
      if (res.status === 403) throw permissionError(request, message, this.options.permissionHint);
      throw answerError(request, res.status, message, requestedDelayFrom(res));
    });
  }

  /**
   * Every entry of a list, its pages followed to the end. The paging parameters are not in
   * the guide; Qualys's other APIs take pageNo/pageSize, counting from 0 or 1. Ask for the
   * page after the one the answer says it was; a service counting from 1 answers that with
   * the first page again, and the next ask corrects it.
   */
  async listAll<T>(list: PagedList<T>): Promise<T[]> {
    const first = list.pageAt();
    const { step } = first;
    const found = new Map<string, T>();
    const collect = (page: ReadPage<T>): number => {
      let added = 0;
      for (const entry of page.entries) {
        const key = list.identity(entry);
        if (!found.has(key)) added++;
        found.set(key, entry);
      }
      return added;
    };
    const readPage = async (request: QualysRequest) => list.read(await this.call(request, list.policy), step);
    let page = await readPage(first);
    collect(page);
    list.onReading(page.reading);
    let base = list.firstPageNo ?? 0;
    let asked: number | undefined = list.firstPageNo;
    for (let pages = 1; page.page.more; pages++) {
      if (pages >= MAX_LIST_PAGES) {
        throw new UnreadableAnswerError(
          `${step} failed: Qualys kept answering "more pages" after ${MAX_LIST_PAGES} pages`,
        );
      }
      const { index, size, link } = page.page;
      // The page after the one answered: by its own number where it says one, else after the one asked for.
      const pageNo = index !== undefined ? index + 1 + base : (asked ?? 0) + 1;
      const next = await readPage(
        link ? { ...first, path: this.sameGatewayPath(step, link) } : list.pageAt({ pageNo, pageSize: size }),
      );
      if (!link) asked = pageNo;
      const added = collect(next);
      const samePageAgain =
        next.page.index !== undefined ? next.page.index === index : added === 0 && next.entries.length > 0;
      if (!link && samePageAgain) {
        if (base === 1)
          throw new UnreadableAnswerError(
            `${step} failed: Qualys answered the same page twice for pageNo ${pageNo - 1} and ${pageNo}`,
          );
        base = 1;
        list.onReading(`${page.reading}, pageNo counted from 1`);
        continue;
      }
      page = next;
    }
    return [...found.values()];
  }

  /** Retries `fn` as every call does (bounded, jittered, within the deadline), logging each retry. */
  retrying<T>(step: string, isRetryable: (e: unknown) => boolean, fn: (attempt: number) => Promise<T>): Promise<T> {
    return withRetries(
      {
        maxAttempts: this.options.maxAttempts ?? 6,
        baseDelayMs: 1000,
        maxDelayMs: 20_000,
        deadline: this.options.deadline,
        clock: this.clock,
        isRetryable,
        requestedDelayMs: requestedDelay,
        onRetry: (e, attempt, delayMs) =>
          this.log.warn('qualys.retrying', { step, attempt, delayMs, error: errorMessage(e) }),
      },
      fn,
    );
  }

  /**
   * Qualys's words, with this client's password and tokens taken out: a gateway that echoes
   * the request (an error quoting the Authorization header) must not carry them into an error.
   */
  said(res: HttpResponse): string {
    return this.log.redact(qualysMessage(res));
  }

  /** A token for this gateway and user: the cached one while it lives, else a new one. */
  async token(): Promise<string> {
    if (this.auth === 'basic') throw new IntegrationError('A Basic-authentication session has no token');
    const cached = this.cache.get(this.cacheKey);
    if (cached && cached.expiresAt - TOKEN_RENEW_MARGIN_MS > this.clock.now()) return cached.jwt;
    const jwt = await this.authenticate();
    this.cache.set(this.cacheKey, { jwt, expiresAt: tokenExpiry(jwt, this.clock.now()) });
    return jwt;
  }

  /** A next-page link is followed only on the configured gateway: the token goes nowhere else. */
  private sameGatewayPath(step: string, link: string): string {
    const url = new URL(link, `${this.gatewayUrl}/`);
    if (url.origin !== new URL(this.gatewayUrl).origin) {
      throw new UnreadableAnswerError(
        `${step} failed: Qualys's next-page link points at ${url.origin}, not at the configured gateway`,
      );
    }
    return `${url.pathname}${url.search}`;
  }

  private async authenticate(): Promise<string> {
    const { username, password } = this.options.credentials;
    const auth = endpoints.authenticate(username, password);
    const res = await this.retrying(AUTH_STEP, isTransient, () =>
      this.send(auth, {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(auth.form).toString(),
      }),
    );
    const detail = this.log.redact(stripToText(res.body));
    if (res.status === 401 || res.status === 403) {
      throw new QualysAuthError(
        `${AUTH_STEP} failed: the gateway answered HTTP ${res.status} to POST /auth${detail ? ` (${detail})` : ''}. ` +
          `Check the username and password in ${this.options.credentialsSource}, that the user has API access, ` +
          'that the account is not locked, and that the gateway URL matches your Qualys platform.',
        detail,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw answerError(auth, res.status, detail);
    }
    const jwt = res.body.trim();
    if (!jwt || /\s/.test(jwt) || jwt.startsWith('<') || jwt.startsWith('{')) {
      throw new IntegrationError(
        `${AUTH_STEP} failed: POST /auth answered without a token; check that the gateway URL is the API gateway ` +
          '(e.g. https://gateway.qg1.apps.qualys.com), not the web UI.',
      );
    }
    this.log.addSecret(jwt);
    return jwt;
  }

  /** One HTTP exchange; 429, 5xx and a rate-limited 409 become retryable errors, network failures too. */
  private async send(
    request: QualysRequest,
    parts: { headers: Record<string, string>; body?: string },
  ): Promise<HttpResponse> {
    const { step, method, path } = request;
    let res: HttpResponse;
    const started = this.clock.now();
    try {
      const { requestDeadline } = this.options;
      res = await this.options.transport({
        method,
        url: `${this.gatewayUrl}${path}`,
        headers: { 'User-Agent': 'qualys-s3-cdk', ...parts.headers },
        body: parts.body,
        timeoutMs:
          requestDeadline === undefined ? undefined : Math.max(MIN_REQUEST_MS, requestDeadline - this.clock.now()),
      });
    } catch (error) {
      throw new QualysNetworkError(step, method, path, describeNetworkError(error), { cause: error });
    }
    this.log.info('qualys.call', { method, path, status: res.status, ms: this.clock.now() - started });
    if (res.status === 429 || res.status >= 500) {
      throw answerError(request, res.status, this.said(res), requestedDelayFrom(res));
    }
    const limit = rateLimitOf(res);
    if (limit) {
      const said = this.said(res);
      throw new QualysApiError(
        step,
        method,
        path,
        res.status,
        `${said ? `${said} ` : ''}(${limit})`,
        requestedDelayFrom(res),
        true,
      );
    }
    return res;
  }
}

function withToken(jwt: string, json: unknown, accept = ACCEPT): { headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = { Authorization: `Bearer ${jwt}`, Accept: accept };
  if (json === undefined) return { headers };
  headers['Content-Type'] = 'application/json';
  return { headers, body: JSON.stringify(json) };
}

function withBasic(basic: string, request: QualysRequest): { headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = { Authorization: basic, Accept: request.accept ?? ACCEPT };
  if (request.text !== undefined) {
    headers['Content-Type'] = 'text/plain';
    return { headers, body: request.text };
  }
  if (request.json === undefined) return { headers };
  headers['Content-Type'] = 'application/json';
  return { headers, body: JSON.stringify(request.json) };
}

/**
 * Whether a 409 is Qualys's rate or concurrency limit rather than a conflict, and which, in
 * words; undefined when it is not. Qualys's API server answers a blocked call with 409 and
 * `X-RateLimit-ToWait-Sec`, or `X-Concurrency-Limit-Running` at its `-Limit`. The headers come
 * on every answer (a conflict too, `-Remaining` then counting down), so only a wait asked for,
 * a concurrency at its limit, or words that say so make a 409 a limit.
 */
export function rateLimitOf(res: HttpResponse): string | undefined {
  if (res.status !== 409) return undefined;
  const toWait = Number(header(res, 'x-ratelimit-towait-sec'));
  const limit = header(res, 'x-ratelimit-limit');
  const window = header(res, 'x-ratelimit-window-sec');
  if (Number.isFinite(toWait) && toWait > 0) {
    return `rate limited${limit ? `: ${limit} calls per ${window ?? '?'} s` : ''}; Qualys asks to wait ${toWait} s`;
  }
  const running = Number(header(res, 'x-concurrency-limit-running'));
  const concurrency = Number(header(res, 'x-concurrency-limit-limit'));
  if (Number.isFinite(running) && Number.isFinite(concurrency) && concurrency > 0 && running >= concurrency) {
    return `concurrency limited: ${running} of ${concurrency} calls running`;
  }
  if (/\b(rate limit|concurrency limit|too many requests|limit exceeded)\b/i.test(qualysMessage(res))) {
    return 'rate limited, by its words';
  }
  return undefined;
}

/** An error of `/auth` itself, which retries on its own. */
export function isAuthStep(error: unknown): boolean {
  return (error instanceof QualysApiError || error instanceof QualysNetworkError) && error.step === AUTH_STEP;
}

/** A failure that may pass: a network error, a 429 or a 5xx. */
export function isTransient(error: unknown): boolean {
  return error instanceof QualysNetworkError || (error instanceof QualysApiError && error.retryable);
}

function requestedDelay(error: unknown): number | undefined {
  return error instanceof QualysApiError ? error.retryAfterMs : undefined;
}

/** The wait a 429/503 asks for: Qualys's `X-RateLimit-ToWait-Sec`, or standard `Retry-After`. */
export function requestedDelayFrom(res: HttpResponse): number | undefined {
  const toWaitHeader = header(res, 'x-ratelimit-towait-sec');
  const toWait = Number(toWaitHeader);
  if (Number.isFinite(toWait) && toWait >= 0 && toWaitHeader !== undefined) return toWait * 1000;
  const retryAfter = header(res, 'retry-after');
  if (retryAfter === undefined) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The JWT's own `exp` when it has one (never trusted beyond the documented 4 hours). */
function tokenExpiry(jwt: string, now: number): number {
  const fallback = now + TOKEN_LIFETIME_MS;
  const payload = jwt.split('.')[1];
  if (!payload) return fallback;
  try {
    const exp = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).exp;
    return typeof exp === 'number' ? Math.min(exp * 1000, fallback) : fallback;
  } catch {
    return fallback;
  }
}

/** A network failure in words a person can act on (DNS, TLS, refused, timed out). */
export function describeNetworkError(error: unknown): string {
  const err = error as { code?: string; cause?: { code?: string }; name?: string; message?: string };
  const code = err?.code ?? err?.cause?.code;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return "DNS lookup failed: check the gateway URL and the network's DNS";
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'the request timed out';
    case 'CERT_HAS_EXPIRED':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS certificate problem (${code})`;
    default:
      if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'the request timed out';
      return code ? `${code}: ${err?.message ?? ''}`.trim() : (err?.message ?? String(error));
  }
}
