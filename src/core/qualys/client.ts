/**
 * The Qualys S3-integration and CIPS API, as the guide describes it, behind one client.
 *
 * - Authentication: `POST /auth` with form fields, the JWT comes back as the text body and
 *   lives 4 hours; it is cached per gateway and user for the life of a warm Lambda, and a 401
 *   on an expired token re-authenticates once.
 * - Retries: 429 and 5xx (HTML error pages included) and network failures are retried with
 *   jittered backoff, honouring `X-RateLimit-ToWait-Sec` and `Retry-After`.
 * - Quirks: responses say `messsage` (three s). Where the guide shows an answer in more than
 *   one shape, or none, `qualys-answers.ts` reads every shape it allows, and `readings`
 *   records which one this gateway used.
 */
import { createHash } from 'node:crypto';
import type { CipsFilter, IntegrationKind } from '../contract';
import {
  type CipsReading,
  type IntegrationDetails,
  type IntegrationPage,
  type ValidationVerdict,
  readCipsConfig,
  readDetails,
  readDetailsAnswer,
  readExternalId,
  readIntegrationPage,
  readValidationAnswer,
  saysAlreadyPresent,
  saysFailure,
} from './answers';
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

export type { CipsReading, IntegrationDetails } from './answers';

/** An integration with the ID Qualys gave it. */
export type RegisteredIntegration = IntegrationDetails & { readonly integrationId: string };

/** What a PUT did: whether Qualys still knew the integration, and the external ID its answer carried. */
export interface UpdateOutcome {
  readonly found: boolean;
  /** The guide's appendix: "Note down the externalId received in the API Response". */
  readonly externalId?: string;
}

/** One validation attempt's answer, read: Qualys's words and what they mean. */
export interface ValidationAnswer {
  readonly status: number;
  readonly verdict: ValidationVerdict;
  readonly message: string;
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
  /** Retry 429. False where the caller paces its own attempts (validation). @default true */
  readonly retryRateLimit?: boolean;
  /** Retry network errors. @default retryServerErrors */
  readonly retryNetworkErrors?: boolean;
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

  /**
   * Every integration of a kind. The answer may be a bare array, one object (the guide's
   * sample), a wrapper or Spring-style pages; pages are followed to the end. An answer of no
   * known shape is an error, never an empty list: acting on a list misread as empty could
   * register a duplicate or remove CIPS policies another integration uses.
   */
  async listIntegrations(kind: IntegrationKind): Promise<IntegrationDetails[]> {
    const path = `/partner-integration/aws/s3/${kind}`;
    const step = `List ${label(kind)} integrations`;
    const found = new Map<string, IntegrationDetails>();
    const collect = (page: IntegrationPage): number => {
      let added = 0;
      for (const entry of page.entries) {
        const key = identityKey(entry);
        if (!found.has(key)) added++;
        found.set(key, entry);
      }
      return added;
    };
    let page = await this.listPage(step, path);
    collect(page);
    this.noteReading(`${label(kind)} list`, page.reading);
    // The paging parameters are not in the guide; Qualys's other APIs take pageNo/pageSize,
    // counting from 0 or 1. Ask for the page after the one the answer says it was; a service
    // counting from 1 answers that with the first page again, and the next ask corrects it.
    let base = 0;
    let asked: number | undefined;
    for (let pages = 1; page.page.more; pages++) {
      if (pages >= MAX_LIST_PAGES) {
        throw new UnreadableAnswerError(
          `${step} failed: Qualys kept answering "more pages" after ${MAX_LIST_PAGES} pages`,
        );
      }
      // The page after the one answered: by its own number where it says one, else after the one asked for.
      const pageNo = page.page.index !== undefined ? page.page.index + 1 + base : (asked ?? 0) + 1;
      const nextPath = page.page.link
        ? this.sameGatewayPath(step, page.page.link)
        : `${path}?pageNo=${pageNo}${page.page.size ? `&pageSize=${page.page.size}` : ''}`;
      const next = await this.listPage(step, nextPath);
      if (!page.page.link) asked = pageNo;
      const added = collect(next);
      const samePageAgain =
        next.page.index !== undefined ? next.page.index === page.page.index : added === 0 && next.entries.length > 0;
      if (!page.page.link && samePageAgain) {
        if (base === 1)
          throw new UnreadableAnswerError(
            `${step} failed: Qualys answered the same page twice for pageNo ${pageNo - 1} and ${pageNo}`,
          );
        base = 1;
        this.noteReading(`${label(kind)} list`, `${page.reading}, pageNo counted from 1`);
        continue;
      }
      page = next;
    }
    return [...found.values()];
  }

  private async listPage(step: string, path: string): Promise<IntegrationPage> {
    const res = await this.call({ step, method: 'GET', path, passStatuses: [204, 404] });
    if (res.status === 204 || res.status === 404 || res.body.trim() === '') {
      return {
        entries: [],
        reading: res.status === 200 ? 'an empty answer' : `HTTP ${res.status} for none`,
        page: { more: false },
      };
    }
    const page = readIntegrationPage(parseJson(res.body));
    if (!page) {
      throw new UnreadableAnswerError(
        `${step} failed: Qualys answered HTTP ${res.status} with a list this tool cannot read (${describeShape(res.body)}). ` +
          "Nothing was changed. Please report the answer's shape (without its values) to the project.",
      );
    }
    return page;
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

  async getIntegration(kind: IntegrationKind, id: string): Promise<IntegrationDetails | undefined> {
    const step = `Read ${label(kind)} integration ${id}`;
    const res = await this.call({
      step,
      method: 'GET',
      path: `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}`,
      passStatuses: [404],
    });
    if (res.status === 404) return undefined;
    const object = readDetailsAnswer(parseJson(res.body));
    if (!object)
      throw new UnreadableAnswerError(
        `${step} failed: Qualys answered with no integration details (${describeShape(res.body)})`,
      );
    // The guide's PC sample carries no ID: the one asked for is the one answered.
    const details = readDetails({ ...object, integrationId: object.integrationId ?? id });
    this.noteReading(`${label(kind)} details`, details.externalId ? 'with its external ID' : 'without an external ID');
    return details;
  }

  /**
   * Registers an integration. A POST is not safe to repeat blindly: when the gateway fails
   * after it may have acted (5xx, dropped connection), the integration list is checked for
   * the name before trying again, so a retry never registers a duplicate. The answer is not
   * documented (l.403): when it names no ID, the list is asked for the new integration.
   */
  async register(
    kind: IntegrationKind,
    body: Record<string, unknown> & { name: string },
  ): Promise<RegisteredIntegration> {
    const step = `Register the ${label(kind)} integration "${body.name}"`;
    const byName = async (): Promise<IntegrationDetails | undefined> =>
      (await this.listIntegrations(kind)).find((i) => i.name === body.name);
    return withRetries(
      {
        maxAttempts: this.options.maxAttempts ?? 6,
        baseDelayMs: 1000,
        maxDelayMs: 20_000,
        deadline: this.options.deadline,
        clock: this.clock,
        isRetryable: (e) => !isAuthStep(e) && isTransient(e),
        requestedDelayMs: requestedDelay,
        onRetry: (e, attempt, delay) =>
          this.options.log.warn('qualys.retrying', { step, attempt, delayMs: delay, error: errorMessage(e) }),
      },
      async (attempt) => {
        if (attempt > 1) {
          const existing = await byName();
          if (existing) {
            this.options.log.info('register.went-through', {
              integrationId: existing.integrationId ?? 'not reported',
            });
            return requireId(step, existing);
          }
        }
        const res = await this.call({
          step,
          method: 'POST',
          path: `/partner-integration/aws/s3/${kind}`,
          json: body,
          retryServerErrors: false,
        });
        const answered = readDetailsAnswer(parseJson(res.body));
        if (answered?.integrationId) {
          this.noteReading(`${label(kind)} register answer`, answered.externalId ? 'ID and external ID' : 'ID only');
          return requireId(step, answered);
        }
        this.noteReading(`${label(kind)} register answer`, 'no ID');
        const listed = await byName();
        if (!listed) {
          throw new IntegrationError(
            `${step}: Qualys answered HTTP ${res.status} without an integration ID${this.said(res) ? ` (${this.said(res)})` : ''}, ` +
              'and no integration of that name is listed. Check the Qualys UI for it before you deploy again.',
          );
        }
        return requireId(step, { ...listed, externalId: listed.externalId ?? answered?.externalId });
      },
    );
  }

  /**
   * Updates an integration in place. `found` is false when Qualys no longer knows it (404);
   * the answer's external ID is kept, as the guide's appendix says the new one arrives there.
   */
  async update(kind: IntegrationKind, id: string, body: Record<string, unknown>): Promise<UpdateOutcome> {
    const step = `Update ${label(kind)} integration ${id}`;
    const path = `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}`;
    const res = await this.call({ step, method: 'PUT', path, json: body, passStatuses: [404] });
    if (res.status === 404) return { found: false };
    this.refuseFailureIn2xx(step, 'PUT', path, res);
    const externalId = readExternalId(parseJson(res.body));
    this.noteReading(`${label(kind)} update answer`, externalId ? 'with the external ID' : 'a message only');
    return { found: true, externalId };
  }

  /**
   * One validation attempt, read: never thrown for an answer that means "not yet" in any of
   * the ways the guide leaves open (a 2xx that says it failed, any 4xx but 401/403/404, 429,
   * 5xx, a dropped connection); the caller decides, with a read-back when the answer is unclear.
   */
  async validate(kind: IntegrationKind, id: string): Promise<ValidationAnswer> {
    const step = `Validate ${label(kind)} integration ${id}`;
    const path = `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}/validate`;
    // 5xx and 429 go back to the caller, which paces validation attempts itself.
    const res = await this.call({
      step,
      method: 'PATCH',
      path,
      passStatuses: VALIDATION_ANSWERS,
      retryServerErrors: false,
      retryRateLimit: false,
      retryNetworkErrors: true,
    });
    const message = this.said(res);
    if (res.status >= 200 && res.status < 300) {
      return { status: res.status, verdict: readValidationAnswer(parseJson(res.body), res.body), message };
    }
    // A 403 about the role is Qualys failing to assume it; any other 403 is the user's permission.
    if (res.status === 403 && !/\b(assume|role|trust|external ?id|sts)\b/i.test(message)) {
      throw new QualysApiError(step, 'PATCH', path, 403, `${message}${message ? '. ' : ''}${NO_PERMISSION}`);
    }
    return { status: res.status, verdict: 'failed', message };
  }

  /** Deletes an integration; "absent" when Qualys no longer knows it. */
  async delete(kind: IntegrationKind, id: string): Promise<'deleted' | 'absent'> {
    const step = `Delete ${label(kind)} integration ${id}`;
    const path = `/partner-integration/aws/s3/${encodeURIComponent(id)}/${kind}`;
    const res = await this.call({ step, method: 'DELETE', path, passStatuses: [404] });
    if (res.status === 404) return 'absent';
    this.refuseFailureIn2xx(step, 'DELETE', path, res);
    return 'deleted';
  }

  // ---- CIPS (subscription-wide) ---------------------------------------------------------

  /** The subscription's CIPS policies and filter, or `readable: false` for an answer of no known shape. */
  async getCipsConfig(): Promise<CipsReading> {
    const res = await this.call({
      step: 'Read the CIPS configuration',
      method: 'GET',
      path: CIPS_CONFIG,
      passStatuses: [204, 404],
    });
    const reading: CipsReading =
      res.status === 204 || res.status === 404 || res.body.trim() === ''
        ? { readable: true, policies: [], reading: `HTTP ${res.status} for none` }
        : readCipsConfig(parseJson(res.body) ?? res.body);
    this.noteReading('CIPS configuration', reading.readable ? reading.reading : `unreadable: ${reading.reading}`);
    return reading;
  }

  /**
   * Adds policies; one Qualys says is there already counts as added. A batch refused because
   * some of it is there may have added none of it: then each policy is added on its own.
   */
  async addCipsPolicies(policies: readonly number[]): Promise<void> {
    const add = (batch: readonly number[]) =>
      this.call({
        step: `Add CIPS policies ${batch.join(', ')}`,
        method: 'POST',
        path: CIPS_POLICY,
        json: [{ policy: batch }],
      });
    const alreadyThere = (error: unknown) =>
      error instanceof QualysApiError &&
      error.status >= 400 &&
      error.status < 500 &&
      saysAlreadyPresent(error.qualysMessage);
    try {
      await add(policies);
      return;
    } catch (error) {
      if (!alreadyThere(error)) throw error;
      this.options.log.info('cips.already-present', {
        policies,
        answer: (error as QualysApiError).qualysMessage,
      });
      if (policies.length === 1) return;
    }
    for (const policy of policies) {
      try {
        await add([policy]);
      } catch (error) {
        if (!alreadyThere(error)) throw error;
      }
    }
  }

  /**
   * Removes policies. The guide names two paths for this (table: `/pcas/cips/config/policy`,
   * curl: `/pcas/cips/config`): the documented one first, the other when it is not there.
   */
  async removeCipsPolicies(policies: readonly number[]): Promise<void> {
    const step = `Remove CIPS policies ${policies.join(', ')}`;
    const json = [{ policy: policies }];
    const res = await this.call({ step, method: 'DELETE', path: CIPS_POLICY, json, passStatuses: [404, 405] });
    if (res.status !== 404 && res.status !== 405) return;
    const other = await this.call({ step, method: 'DELETE', path: CIPS_CONFIG, json, passStatuses: [404, 405] });
    if (other.status !== 404 && other.status !== 405) {
      this.noteReading('CIPS delete path', CIPS_CONFIG);
      return;
    }
    // Neither path took it: believe "not there" only when a read-back shows the policies gone.
    const after = await this.getCipsConfig();
    if (after.readable && policies.every((p) => !after.policies.includes(p))) return;
    throw new QualysApiError(step, 'DELETE', CIPS_POLICY, res.status, this.said(res));
  }

  async createCipsFilter(filter: CipsFilter): Promise<void> {
    await this.call({
      step: 'Create the CIPS posture filter',
      method: 'POST',
      path: CIPS_CONFIG,
      json: [filterBody(filter)],
    });
  }

  async updateCipsFilter(filter: CipsFilter): Promise<void> {
    await this.call({
      step: 'Update the CIPS posture filter',
      method: 'PUT',
      path: CIPS_CONFIG,
      json: [filterBody(filter)],
    });
  }

  // ---- what this gateway answered -------------------------------------------------------

  /** The reading met per answer ("PC details": "without an external ID"), for operators. */
  readonly readings = new Map<string, string>();

  private noteReading(topic: string, reading: string): void {
    if (this.readings.get(topic) === reading) return;
    this.readings.set(topic, reading);
    this.options.log.info('qualys.reading', { topic, reading });
  }

  /**
   * Qualys's words, with this client's password and tokens taken out: a gateway that echoes
   * the request (an error quoting the Authorization header) must not carry them into an error.
   */
  private said(res: HttpResponse): string {
    return this.options.log.redact(qualysMessage(res));
  }

  /** A 2xx whose own words say it failed did not do what was asked. */
  private refuseFailureIn2xx(step: string, method: string, path: string, res: HttpResponse): void {
    const message = this.said(res);
    if (saysFailure(message) && !/\bsuccess/i.test(message)) {
      throw new QualysApiError(
        step,
        method,
        path,
        res.status,
        `${message} (a ${res.status} answer whose message says it failed)`,
      );
    }
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
      const detail = this.options.log.redact(stripToText(res.body));
      throw new QualysAuthError(
        `Authenticate with Qualys failed: the gateway answered HTTP ${res.status} to POST /auth${detail ? ` (${detail})` : ''}. ` +
          `Check the username and password in ${this.options.credentialsSource}, that the user has API access, ` +
          'that the account is not locked, and that the gateway URL matches your Qualys platform.',
        detail,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new QualysApiError(AUTH_STEP, 'POST', '/auth', res.status, this.options.log.redact(stripToText(res.body)));
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
    const retryRateLimit = opts.retryRateLimit ?? true;
    const retryNetworkErrors = opts.retryNetworkErrors ?? retryServerErrors;
    // Authentication retries on its own; retrying it again here would multiply the attempts.
    const isRetryable = (e: unknown) =>
      !isAuthStep(e) &&
      ((e instanceof QualysNetworkError && retryNetworkErrors) ||
        (e instanceof QualysApiError && (e.status === 429 ? retryRateLimit : e.retryable && retryServerErrors)));
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
      const message = this.said(res);
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
          `${message}${message ? '. ' : ''}${NO_PERMISSION}`,
        );
      }
      throw new QualysApiError(opts.step, opts.method, opts.path, res.status, message, requestedDelayFrom(res));
    });
  }

  private requestParts(jwt: string, json: unknown): { headers: Record<string, string>; body?: string } {
    // The CIPS endpoints answer text ("Policy added successfully.") and the guide's curl sends
    // `accept: */*`: an Accept of JSON alone could be refused with 406 there.
    const headers: Record<string, string> = { Authorization: `Bearer ${jwt}`, Accept: ACCEPT };
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
        onRetry: (e, attempt, delayMs) =>
          this.options.log.warn('qualys.retrying', { step, attempt, delayMs, error: errorMessage(e) }),
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
        timeoutMs:
          requestDeadline === undefined ? undefined : Math.max(MIN_REQUEST_MS, requestDeadline - this.clock.now()),
      });
    } catch (error) {
      throw new QualysNetworkError(step, method, path, describeNetworkError(error), { cause: error });
    }
    this.options.log.info('qualys.call', { method, path, status: res.status, ms: this.clock.now() - started });
    if (res.status === 429 || res.status >= 500) {
      throw new QualysApiError(step, method, path, res.status, this.said(res), requestedDelayFrom(res));
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

const NO_PERMISSION =
  'The Qualys user lacks permission: it needs API access, the Manager or Unit Manager role, and (for PC) the CIPS service enabled by Qualys Support.';

/** Validation answers read rather than raised: every 4xx but 401 (renewed) and 404 (gone). */
const VALIDATION_ANSWERS = Array.from({ length: 100 }, (_, i) => 400 + i).filter(
  (s) => s !== 401 && s !== 404 && s !== 429,
);

const ACCEPT = 'application/json, text/plain;q=0.9, */*;q=0.8';
const CIPS_CONFIG = '/pcas/cips/config';
const CIPS_POLICY = '/pcas/cips/config/policy';

/** Pages of one list followed at the most: far beyond any subscription, short of a loop. */
const MAX_LIST_PAGES = 100;

/** How list entries are told apart across pages: the ID, or what the integration is when there is none. */
function identityKey(entry: IntegrationDetails): string {
  return entry.integrationId !== undefined
    ? `id:${entry.integrationId}`
    : `what:${entry.name ?? ''}|${entry.roleArn ?? ''}|${entry.bucketName ?? ''}`;
}

/** An integration this client must address by ID: without one, nothing can be done to it. */
function requireId(step: string, details: IntegrationDetails): RegisteredIntegration {
  if (details.integrationId === undefined) {
    throw new IntegrationError(
      `${step}: the integration "${details.name ?? '?'}" exists in Qualys, but Qualys did not report its ID, so it cannot be ` +
        'managed from here. Delete it in the Qualys UI (or ask Qualys Support for its ID) and deploy again.',
    );
  }
  return details as RegisteredIntegration;
}

/** An answer's shape without its values (key names and types), for error messages. */
function describeShape(text: string): string {
  const value = parseJson(text);
  if (value === undefined) return `not JSON, ${text.length} characters`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null)
    return `an object with keys ${Object.keys(value).slice(0, 8).join(', ') || 'none'}`;
  return typeof value;
}

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
  if (Number.isFinite(toWait) && toWait >= 0 && header(res, 'x-ratelimit-towait-sec') !== undefined)
    return toWait * 1000;
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
