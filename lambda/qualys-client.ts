/**
 * The Qualys S3-integration and CIPS API, as the guide describes it, behind one client.
 *
 * - Authentication: `POST /auth` with form fields, the JWT comes back as the text body and
 *   lives 4 hours; it is cached per gateway and user for the life of a warm Lambda, and a 401
 *   on an expired token re-authenticates once.
 * - Retries: 429 and 5xx (HTML error pages included) and network failures are retried with
 *   jittered backoff, honouring `X-RateLimit-ToWait-Sec` and `Retry-After`.
 * - Quirks: responses say `messsage` (three s); the PUT response carries no externalId.
 */
import { createHash } from 'node:crypto';
import { CipsFilter, IntegrationKind } from './contract';
import {
  IntegrationError,
  QualysApiError,
  QualysAuthError,
  QualysNetworkError,
  errorMessage,
} from './errors';
import { HttpResponse, HttpTransport, header } from './http';
import { Logger } from './log';
import { Clock, systemClock, withRetries } from './retry';

export interface QualysCredentials {
  readonly username: string;
  readonly password: string;
}

/** An integration as Qualys reports it (GET, and the register response). */
export interface IntegrationDetails {
  readonly integrationId: string;
  readonly name?: string;
  readonly bucketName?: string;
  readonly bucketRegion?: string;
  readonly roleArn?: string;
  readonly externalId?: string;
  readonly integrationValidated?: boolean;
  readonly [field: string]: unknown;
}

export interface CipsConfig {
  readonly policies: readonly number[];
  readonly filter?: CipsFilter;
}

interface CachedToken {
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

export interface QualysClientOptions {
  readonly gatewayUrl: string;
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

interface CallOptions {
  readonly step: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly json?: unknown;
  /** Statuses returned to the caller instead of raised. */
  readonly passStatuses?: readonly number[];
  /** Retry 5xx and network errors. False for calls that must not run twice. @default true */
  readonly retryServerErrors?: boolean;
}

export class QualysClient {
  private readonly clock: Clock;
  private readonly cache: Map<string, CachedToken>;
  private readonly cacheKey: string;
  private readonly gatewayUrl: string;

  constructor(private readonly options: QualysClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.cache = options.tokenCache ?? sharedTokenCache;
    this.gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
    const passwordHash = createHash('sha256').update(options.credentials.password).digest('hex').slice(0, 16);
    this.cacheKey = `${this.gatewayUrl}|${options.credentials.username}|${passwordHash}`;
    options.log.addSecret(options.credentials.password);
  }

  /** The same client (credentials, token cache) with other deadlines, for cleanup after the work deadline. */
  withDeadlines(deadline: number, requestDeadline?: number): QualysClient {
    return new QualysClient({ ...this.options, deadline, requestDeadline });
  }

  // ---- S3 integrations -------------------------------------------------------------------

  async listIntegrations(kind: IntegrationKind): Promise<IntegrationDetails[]> {
    const res = await this.call({
      step: `List ${label(kind)} integrations`,
      method: 'GET',
      path: `/partner-integration/aws/s3/${kind}`,
      passStatuses: [204, 404],
    });
    if (res.status === 204 || res.status === 404 || res.body.trim() === '') return [];
    const body = parseJson(res.body);
    const items = Array.isArray(body)
      ? body
      : isObject(body) && Array.isArray(body.data)
        ? body.data
        : isObject(body) && (body.integrationId !== undefined || body.id !== undefined)
          ? [body]
          : [];
    return items.filter(isObject).map(toDetails).filter((d): d is IntegrationDetails => d !== undefined);
  }

  async getIntegration(kind: IntegrationKind, id: string): Promise<IntegrationDetails | undefined> {
    const res = await this.call({
      step: `Read ${label(kind)} integration ${id}`,
      method: 'GET',
      path: `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}`,
      passStatuses: [404],
    });
    if (res.status === 404) return undefined;
    const body = parseJson(res.body);
    const details = isObject(body) ? toDetails({ integrationId: id, ...body }) : undefined;
    if (!details) throw new IntegrationError(`Read ${label(kind)} integration ${id} failed: Qualys answered with no integration details`);
    return details;
  }

  /**
   * Registers an integration. A POST is not safe to repeat blindly: when the gateway fails
   * after it may have acted (5xx, dropped connection), the integration list is checked for
   * the name before trying again, so a retry never registers a duplicate.
   */
  async register(kind: IntegrationKind, body: Record<string, unknown> & { name: string }): Promise<IntegrationDetails> {
    const step = `Register the ${label(kind)} integration "${body.name}"`;
    return withRetries(
      {
        maxAttempts: this.options.maxAttempts ?? 6,
        baseDelayMs: 1000,
        maxDelayMs: 20_000,
        deadline: this.options.deadline,
        clock: this.clock,
        isRetryable: (e) => !isAuthStep(e) && isTransient(e),
        requestedDelayMs: requestedDelay,
        onRetry: (e, attempt, delay) => this.options.log.warn('retrying', { step, attempt, delayMs: delay, error: errorMessage(e) }),
      },
      async (attempt) => {
        if (attempt > 1) {
          const existing = (await this.listIntegrations(kind)).find((i) => i.name === body.name);
          if (existing) {
            this.options.log.info('the failed registration had gone through; using it', { integrationId: existing.integrationId });
            return existing;
          }
        }
        const res = await this.call({
          step,
          method: 'POST',
          path: `/partner-integration/aws/s3/${kind}`,
          json: body,
          retryServerErrors: false,
        });
        const parsed = parseJson(res.body);
        const details = isObject(parsed) ? toDetails(parsed) : undefined;
        if (!details) {
          throw new IntegrationError(`${step} failed: Qualys answered HTTP ${res.status} without an integration ID`);
        }
        return details;
      },
    );
  }

  /** Updates an integration in place; false when Qualys no longer knows it (404). */
  async update(kind: IntegrationKind, id: string, body: Record<string, unknown>): Promise<boolean> {
    const res = await this.call({
      step: `Update ${label(kind)} integration ${id}`,
      method: 'PUT',
      path: `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}`,
      json: body,
      passStatuses: [404],
    });
    return res.status !== 404;
  }

  /** One validation attempt; throws QualysApiError when Qualys cannot yet use the role. */
  async validate(kind: IntegrationKind, id: string): Promise<string> {
    const res = await this.call({
      step: `Validate ${label(kind)} integration ${id}`,
      method: 'PATCH',
      path: `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}/validate`,
    });
    return qualysMessage(res);
  }

  /** Deletes an integration; "absent" when Qualys no longer knows it. */
  async delete(kind: IntegrationKind, id: string): Promise<'deleted' | 'absent'> {
    const res = await this.call({
      step: `Delete ${label(kind)} integration ${id}`,
      method: 'DELETE',
      path: `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}`,
      passStatuses: [404],
    });
    return res.status === 404 ? 'absent' : 'deleted';
  }

  // ---- CIPS (subscription-wide) ---------------------------------------------------------

  async getCipsConfig(): Promise<CipsConfig> {
    const res = await this.call({ step: 'Read the CIPS configuration', method: 'GET', path: '/pcas/cips/config', passStatuses: [204, 404] });
    if (res.status === 204 || res.status === 404 || res.body.trim() === '') return { policies: [] };
    const raw = parseJson(res.body);
    const body = Array.isArray(raw) ? raw[0] : raw;
    if (!isObject(body)) return { policies: [] };
    const list = body.policy ?? body.policies ?? body.policyIds;
    const policies = Array.isArray(list) ? list.map(Number).filter((n) => Number.isSafeInteger(n)) : [];
    const hasFilter = ['includeEvidenceData', 'includeFailPosture', 'includePassPosture', 'includeErrorPosture'].every(
      (k) => typeof body[k] === 'boolean',
    );
    const filter = hasFilter
      ? {
          includeEvidenceData: body.includeEvidenceData as boolean,
          includeFailPosture: body.includeFailPosture as boolean,
          includePassPosture: body.includePassPosture as boolean,
          includeErrorPosture: body.includeErrorPosture as boolean,
        }
      : undefined;
    return { policies, filter };
  }

  async addCipsPolicies(policies: readonly number[]): Promise<void> {
    await this.call({ step: `Add CIPS policies ${policies.join(', ')}`, method: 'POST', path: '/pcas/cips/config/policy', json: [{ policy: policies }] });
  }

  async removeCipsPolicies(policies: readonly number[]): Promise<void> {
    await this.call({
      step: `Remove CIPS policies ${policies.join(', ')}`,
      method: 'DELETE',
      path: '/pcas/cips/config/policy',
      json: [{ policy: policies }],
    });
  }

  async createCipsFilter(filter: CipsFilter): Promise<void> {
    await this.call({ step: 'Create the CIPS posture filter', method: 'POST', path: '/pcas/cips/config', json: [filterBody(filter)] });
  }

  async updateCipsFilter(filter: CipsFilter): Promise<void> {
    await this.call({ step: 'Update the CIPS posture filter', method: 'PUT', path: '/pcas/cips/config', json: [filterBody(filter)] });
  }

  // ---- transport -------------------------------------------------------------------------

  /** A token for this gateway and user: the cached one while it lives, else a new one. */
  async token(): Promise<string> {
    const cached = this.cache.get(this.cacheKey);
    if (cached && cached.expiresAt - TOKEN_RENEW_MARGIN_MS > this.clock.now()) return cached.jwt;
    const jwt = await this.authenticate();
    this.cache.set(this.cacheKey, { jwt, expiresAt: tokenExpiry(jwt, this.clock.now()) });
    return jwt;
  }

  private async authenticate(): Promise<string> {
    const { username, password } = this.options.credentials;
    const form = new URLSearchParams({ username, password, token: 'true' }).toString();
    const res = await this.retrying(AUTH_STEP, isTransient, () =>
      this.send(AUTH_STEP, 'POST', '/auth', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form,
      }),
    );
    if (res.status === 401 || res.status === 403) {
      const detail = stripToText(res.body);
      throw new QualysAuthError(
        `Authenticate with Qualys failed: the gateway answered HTTP ${res.status} to POST /auth${detail ? ` (${detail})` : ''}. ` +
          `Check the username and password in ${this.options.credentialsSource}, that the user has API access, ` +
          'that the account is not locked, and that the gateway URL matches your Qualys platform.',
        detail,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new QualysApiError(AUTH_STEP, 'POST', '/auth', res.status, stripToText(res.body));
    }
    const jwt = res.body.trim();
    if (!jwt || /\s/.test(jwt) || jwt.startsWith('<') || jwt.startsWith('{')) {
      throw new IntegrationError(
        'Authenticate with Qualys failed: POST /auth answered without a token; check that the gateway URL is the API gateway ' +
          '(e.g. https://gateway.qg1.apps.qualys.com), not the web UI.',
      );
    }
    this.options.log.addSecret(jwt);
    return jwt;
  }

  private async call(opts: CallOptions): Promise<HttpResponse> {
    const retryServerErrors = opts.retryServerErrors ?? true;
    // Authentication retries on its own; retrying it again here would multiply the attempts.
    const isRetryable = (e: unknown) =>
      !isAuthStep(e) && (retryServerErrors ? isTransient(e) : e instanceof QualysApiError && e.status === 429);
    return this.retrying(opts.step, isRetryable, async () => {
      const jwt = await this.token();
      let res = await this.send(opts.step, opts.method, opts.path, this.requestParts(jwt, opts.json));
      if (res.status === 401) {
        // The token may have expired or been revoked since it was cached: renew it once.
        this.cache.delete(this.cacheKey);
        res = await this.send(opts.step, opts.method, opts.path, this.requestParts(await this.token(), opts.json));
        if (res.status === 401) {
          throw new QualysAuthError(
            `${opts.step} failed: Qualys answered HTTP 401 to ${opts.method} ${opts.path} even with a fresh token. ` +
              'The user needs API access and the Manager or Unit Manager role.',
          );
        }
      }
      if (res.status >= 200 && res.status < 300) return res;
      if (opts.passStatuses?.includes(res.status) && !isHtml(res)) return res;
      const message = qualysMessage(res);
      if (res.status === 404 && isHtml(res)) {
        // A 404 page from a load balancer or proxy says nothing about the integration: "not
        // found" is believed only when Qualys itself says it.
        throw new QualysApiError(
          opts.step,
          opts.method,
          opts.path,
          404,
          `${message ? `${message}: ` : ''}an HTML error page, not an answer from the Qualys API; check that the gateway URL is the API gateway and that no proxy rewrites the request`,
        );
      }
      if (res.status === 403) {
        throw new QualysApiError(
          opts.step,
          opts.method,
          opts.path,
          403,
          `${message}${message ? '. ' : ''}The Qualys user lacks permission: it needs API access, the Manager or Unit Manager role, ` +
            'and (for PC) the CIPS service enabled by Qualys Support.',
        );
      }
      throw new QualysApiError(opts.step, opts.method, opts.path, res.status, message, requestedDelayFrom(res));
    });
  }

  private requestParts(jwt: string, json: unknown): { headers: Record<string, string>; body?: string } {
    const headers: Record<string, string> = { Authorization: `Bearer ${jwt}`, Accept: 'application/json' };
    if (json === undefined) return { headers };
    headers['Content-Type'] = 'application/json';
    return { headers, body: JSON.stringify(json) };
  }

  private async retrying<T>(step: string, isRetryable: (e: unknown) => boolean, fn: () => Promise<T>): Promise<T> {
    return withRetries(
      {
        maxAttempts: this.options.maxAttempts ?? 6,
        baseDelayMs: 1000,
        maxDelayMs: 20_000,
        deadline: this.options.deadline,
        clock: this.clock,
        isRetryable,
        requestedDelayMs: requestedDelay,
        onRetry: (e, attempt, delayMs) => this.options.log.warn('retrying', { step, attempt, delayMs, error: errorMessage(e) }),
      },
      fn,
    );
  }

  /** One HTTP exchange; 429 and 5xx become retryable errors, network failures too. */
  private async send(
    step: string,
    method: string,
    path: string,
    parts: { headers: Record<string, string>; body?: string },
  ): Promise<HttpResponse> {
    let res: HttpResponse;
    const started = this.clock.now();
    try {
      const { requestDeadline } = this.options;
      res = await this.options.transport({
        method,
        url: `${this.gatewayUrl}${path}`,
        headers: { 'User-Agent': 'qualys-s3-cdk', ...parts.headers },
        body: parts.body,
        timeoutMs: requestDeadline === undefined ? undefined : Math.max(MIN_REQUEST_MS, requestDeadline - this.clock.now()),
      });
    } catch (error) {
      throw new QualysNetworkError(step, method, path, describeNetworkError(error), { cause: error });
    }
    this.options.log.info('qualys call', { method, path, status: res.status, ms: this.clock.now() - started });
    if (res.status === 429 || res.status >= 500) {
      throw new QualysApiError(step, method, path, res.status, qualysMessage(res), requestedDelayFrom(res));
    }
    return res;
  }
}

function label(kind: IntegrationKind): string {
  return kind.toUpperCase();
}

function filterBody(filter: CipsFilter): CipsFilter {
  return {
    includeEvidenceData: filter.includeEvidenceData,
    includeFailPosture: filter.includeFailPosture,
    includePassPosture: filter.includePassPosture,
    includeErrorPosture: filter.includeErrorPosture,
  };
}

const AUTH_STEP = 'Authenticate with Qualys';

/** The shortest time limit a request gets, however near its deadline. */
const MIN_REQUEST_MS = 1000;

function isAuthStep(error: unknown): boolean {
  return (error instanceof QualysApiError || error instanceof QualysNetworkError) && error.step === AUTH_STEP;
}

function isTransient(error: unknown): boolean {
  return error instanceof QualysNetworkError || (error instanceof QualysApiError && error.retryable);
}

function requestedDelay(error: unknown): number | undefined {
  return error instanceof QualysApiError ? error.retryAfterMs : undefined;
}

/** The wait a 429/503 asks for: Qualys's `X-RateLimit-ToWait-Sec`, or standard `Retry-After`. */
export function requestedDelayFrom(res: HttpResponse): number | undefined {
  const toWait = Number(header(res, 'x-ratelimit-towait-sec'));
  if (Number.isFinite(toWait) && toWait >= 0 && header(res, 'x-ratelimit-towait-sec') !== undefined) return toWait * 1000;
  const retryAfter = header(res, 'retry-after');
  if (retryAfter === undefined) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Qualys's own words: `messsage` (sic), or any usual message field, or the text of an error page. */
export function qualysMessage(res: HttpResponse): string {
  const body = parseJson(res.body);
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
function isHtml(res: HttpResponse): boolean {
  return /text\/html/i.test(header(res, 'content-type') ?? '') || /^\s*<(!doctype|html)/i.test(res.body);
}

function stripToText(body: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
  const text = (title ?? body.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return truncate(text);
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toDetails(raw: Record<string, unknown>): IntegrationDetails | undefined {
  const id = raw.integrationId ?? raw.id;
  if (typeof id !== 'number' && typeof id !== 'string') return undefined;
  return { ...raw, integrationId: String(id) } as IntegrationDetails;
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
      return 'DNS lookup failed: check the gateway URL and the network\'s DNS';
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
