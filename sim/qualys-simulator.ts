// biome-ignore-all lint/suspicious/noAssignInExpressions: the router tries one path pattern after another and keeps the match
/**
 * A local Qualys API gateway for tests: the S3 partner-integration (VM and PC) and CIPS APIs
 * of the Qualys "Integration with AWS S3 Bucket" guide, as unforgiving as a real service.
 *
 * - `POST /auth` takes form fields and answers a JWT as text; every other call needs that
 *   JWT as a Bearer token while it lives (4 hours by default).
 * - Bodies are checked field by field: wrong types, missing required fields and name clashes
 *   are refused with the status a real service would use.
 * - Messages are spelt `messsage` (three s), as in every sample of the guide.
 * - Where the guide allows more than one reading (its samples contradict its prose, or it
 *   shows no sample), the simulator plays any of them: a `Dialect` (see ./qualys-dialect.ts)
 *   picks PC details with or without ids, the external ID's spelling, the register and PUT
 *   answers, bare, wrapped, single or paged lists, one integration per kind, unknown fields
 *   refused or dropped, CIPS content negotiation, delete path and filter-details shape,
 *   duplicate policy adds, and how a failed validation answers. The `guide` dialect answers
 *   like the guide's samples, and where it is silent in the way hardest for a client.
 * - Without a dialect it answers as it always has ('strict'): full details with ids and
 *   `externalId` everywhere, arrays for lists, no externalId in the PUT answer, unknown
 *   fields refused, Accept ignored. That default is one reading of the guide, not the truth.
 * - Faults (status codes, HTML error pages, delays, dropped connections), rate limiting,
 *   account lockout and token expiry can be switched on to exercise a client's error paths.
 * - Test controls (`integrations`, `integration`, `cips`, `seed*`) always show the full stored
 *   state, with ids and `externalId`, whatever the dialect; seeding ignores `onePerKind`.
 * - Two hosts, two listeners, one state: `url` is the API gateway (`gateway.*`: `/auth`, S3,
 *   CIPS), `apiUrl` the platform's API server (`qualysapi.*`), which serves Qualys's AWS
 *   connector APIs, Connectors 3.0 (QPS) and CloudView REST, with HTTP Basic authentication
 *   (see ./qualys-connectors.ts and its own dialect, `connectorDialect`). Each host answers 404
 *   for the other's paths (CloudView on the gateway only in a reading that allows it); the call
 *   log names the host and API of every call.
 *
 * Only node's `http` and `crypto` are used.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { type DescribedRequest, FakeServer, type FaultKinds, type LoggedCall, type Reply } from './fake-server';
import {
  type AuthOutcome,
  CONNECTOR_DIALECTS,
  type ConnectorDialect,
  type ConnectorDialectName,
  type ConnectorOptions,
  type ConnectorView,
  type ControlEvaluationSeed,
  connectorApiOf,
  DEFAULT_CONNECTOR_DIALECT,
  endpointKey,
  QualysConnectors,
  type SeedConnector,
  type SimHost,
} from './qualys-connectors';
import {
  acceptAdmits,
  DEFAULT_DIALECT,
  type Dialect,
  type DialectName,
  DIALECTS,
  MAX_PAGE_SIZE,
  resolveDialect,
} from './qualys-dialect';

export { CONNECTOR_DIALECTS, DEFAULT_CONNECTOR_DIALECT, DEFAULT_DIALECT, DIALECTS };
export type { ConnectorDialect, ConnectorDialectName, ConnectorOptions, Dialect, DialectName, SimHost };

export type IntegrationKind = 'vm' | 'pc';

/** What a user's role may or may not use: the S3 integration APIs of each kind, CIPS, and the two connector APIs. */
export type ApiArea = 's3-vm' | 's3-pc' | 'cips' | 'qps' | 'cloudview';

/** Which API a call was for, by its path ('unknown' for none of them). */
export type SimApi = 'auth' | 's3' | 'cips' | 'qps' | 'cloudview' | 'unknown';

export interface SimUser {
  username: string;
  password: string;
  /** Areas this user's role lacks; their calls answer 403. @default - none */
  denied?: ApiArea[];
}

export interface TrustCheckResult {
  ok: boolean;
  reason?: string;
}

/**
 * Decides whether Qualys could assume `roleArn` with `externalId` (used by validate, and by
 * connector runs). `at` is the moment of the attempt when it lies in the past (a connector run
 * judged when it is next read); validate passes none (now).
 */
export type TrustChecker = (
  roleArn: string,
  externalId: string,
  at?: number,
) => TrustCheckResult | Promise<TrustCheckResult>;

export interface SimulatorOptions {
  /** @default [{ username: 'qualys-user', password: 'S3cr3t-P@ss' }] */
  users?: SimUser[];
  /** @default 71 */
  customerId?: number;
  /** @default 'US_POD_1' */
  pod?: string;
  /** @default 3068 */
  subscriptionId?: number;
  /** @default 4 hours */
  tokenTtlMs?: number;
  /** Delay before every response. @default 0 */
  latencyMs?: number;
  /** Requests allowed per window, per subscription; `/auth` is exempt. @default - none */
  rateLimit?: { limit: number; windowMs: number };
  /** Consecutive bad passwords that lock a user until `unlock()`. @default 5 */
  lockoutAfter?: number;
  /** @default - always ok */
  trustChecker?: TrustChecker;
  /** Clock for token lifetimes, rate-limit windows and timestamps. @default Date.now */
  now?: () => number;
  /**
   * Called after a successful validation, as Qualys then writes its test file to the bucket.
   * @default - nothing
   */
  onValidated?: (kind: IntegrationKind, details: { bucketName: string; bucketRegion: string; roleArn: string }) => void;
  /**
   * Which reading of the guide to answer in, by name or field by field (see `Dialect`).
   * @default - DEFAULT_DIALECT, the 'strict' dialect
   */
  dialect?: DialectName | Partial<Dialect>;
  /** The connector APIs on the API server (see ConnectorOptions). @default - their defaults */
  connectors?: ConnectorOptions;
}

export interface Fault extends FaultKinds {
  /** Only calls to this host. @default - either */
  host?: SimHost;
  method?: string;
  /** Exact path (no query string), or a pattern tested against it. */
  path?: string | RegExp;
  /** @default 503 with `html`, else 500 with `body`, else none (normal handling after the delay) */
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer a load balancer's HTML error page. */
  html?: boolean;
}

export interface SimCall extends LoggedCall {
  /** The host the call reached: the gateway (`url`) or the API server (`apiUrl`). */
  host: SimHost;
  /** The API the path belongs to, wherever it was sent. */
  api: SimApi;
  method: string;
  path: string;
  /** The parsed JSON body (or raw text); never recorded for `/auth`. */
  body?: unknown;
  /** The Authorization header; for Basic, `Basic <username>:***` (the password is never recorded). */
  authorization?: string;
}

export type BaseCategory = 'IG' | 'Potential' | 'Confirmed';

export interface VmIntegrationDetails {
  integrationId: number;
  customerId: number;
  customerUUID: string;
  bucketName: string;
  bucketRegion: string;
  minSeverity: number;
  baseCategory: BaseCategory;
  name: string;
  resultSectionNeeded: boolean;
  sendVulnInfo: boolean;
  compressData: boolean;
  externalId: string;
  roleArn: string;
  integrationValidated: boolean;
  sendAlerts: boolean;
  errorEmails: string[];
}

export interface PcIntegrationDetails {
  integrationId: number;
  name: string;
  compressData: boolean;
  bucketName: string;
  bucketRegion: string;
  roleArn: string;
  externalId: string;
  integrationValidated: boolean;
}

export type DetailsOf<K extends IntegrationKind> = K extends 'vm' ? VmIntegrationDetails : PcIntegrationDetails;

export interface CipsFilter {
  includeEvidenceData: boolean;
  includeFailPosture: boolean;
  includePassPosture: boolean;
  includeErrorPosture: boolean;
}

export interface CipsState {
  policies: number[];
  filter?: CipsFilter;
}

export const DEFAULT_USER: Readonly<SimUser> = { username: 'qualys-user', password: 'S3cr3t-P@ss' };
export const MAX_CIPS_POLICIES = 100;

const FILTER_FIELDS = [
  'includeEvidenceData',
  'includeFailPosture',
  'includePassPosture',
  'includeErrorPosture',
] as const;
const COMMON_FIELDS = ['bucketName', 'bucketRegion', 'roleArn', 'name'] as const;
const SETTING_FIELDS: Record<IntegrationKind, readonly string[]> = {
  vm: [
    'minSeverity',
    'baseCategory',
    'resultSectionNeeded',
    'sendVulnInfo',
    'compressData',
    'sendAlerts',
    'errorEmails',
  ],
  pc: ['compressData'],
};
const BASE_CATEGORIES: readonly string[] = ['IG', 'Potential', 'Confirmed'];
const ROLE_ARN = /^arn:[a-z][a-z0-9-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const BUCKET_NAME = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface IssuedToken {
  jwt: string;
  username: string;
  issuedAt: number;
  expired: boolean;
  revoked: boolean;
}

interface UserState extends SimUser {
  failures: number;
  locked: boolean;
}

type Stored = { kind: 'vm'; details: VmIntegrationDetails } | { kind: 'pc'; details: PcIntegrationDetails };

const json = (status: number, value: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body: JSON.stringify(value),
  contentType: 'application/json',
  headers,
});
const text = (status: number, body: string): Reply => ({ status, body, contentType: 'text/plain;charset=UTF-8' });
/** An answer with no body and no media type, as Spring sends for a null result. */
const blank = (status: number): Reply => ({ status, body: '', contentType: '' });
const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain;charset=UTF-8';
const messsage = (status: number, message: string, headers?: Record<string, string>): Reply =>
  json(status, { messsage: message }, headers);

export class QualysSimulator extends FakeServer<Fault, SimCall> {
  rateLimit?: { limit: number; windowMs: number };
  trustChecker: TrustChecker;
  onValidated?: SimulatorOptions['onValidated'];
  readonly customerId: number;
  readonly customerUUID = randomUUID();
  readonly pod: string;
  readonly subscriptionId: number;
  tokenTtlMs: number;
  lockoutAfter: number;

  private readonly users = new Map<string, UserState>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly signingKey = randomBytes(32);
  private readonly store = new Map<number, Stored>();
  private nextId = 1;
  private readonly policies = new Set<number>();
  private filter?: CipsFilter;
  private cipsUpdated?: number;
  private hits: number[] = [];
  private current: Dialect;
  private readonly connectorApis: QualysConnectors;

  constructor(opts: SimulatorOptions = {}) {
    super(
      'QualysSimulator',
      (message) => ({ contentType: 'application/json', body: JSON.stringify({ messsage: message }) }),
      opts.now ?? Date.now,
      ['gateway', 'api'],
    );
    for (const u of opts.users ?? [DEFAULT_USER]) this.users.set(u.username, { ...u, failures: 0, locked: false });
    this.customerId = opts.customerId ?? 71;
    this.pod = opts.pod ?? 'US_POD_1';
    this.subscriptionId = opts.subscriptionId ?? 3068;
    this.tokenTtlMs = opts.tokenTtlMs ?? 4 * 60 * 60 * 1000;
    this.latencyMs = opts.latencyMs ?? 0;
    this.rateLimit = opts.rateLimit;
    this.lockoutAfter = opts.lockoutAfter ?? 5;
    this.trustChecker = opts.trustChecker ?? (() => ({ ok: true }));
    this.onValidated = opts.onValidated;
    this.current = resolveDialect(opts.dialect);
    this.connectorApis = new QualysConnectors(
      {
        now: this.now,
        trustChecker: () => this.trustChecker,
        basic: (header) => this.basicUser(header),
        bearer: (header) => this.bearerUser(header),
        denied: (username, api) => this.users.get(username)?.denied?.includes(api) ?? false,
      },
      opts.connectors,
    );
  }

  /** The API server's base URL (`qualysapi.*`: the connector APIs); `url` is the gateway's. */
  get apiUrl(): string {
    return this.urlOf('api');
  }

  /** The connector APIs' dialect in force (a copy); set it by name or by fields to switch mid-run. */
  get connectorDialect(): ConnectorDialect {
    return this.connectorApis.dialect;
  }

  set connectorDialect(dialect: ConnectorDialectName | Partial<ConnectorDialect>) {
    this.connectorApis.dialect = dialect;
  }

  /** The connector APIs' settings (run timing, limits, Qualys accounts), changeable mid-run. */
  get connectorSettings(): Pick<
    QualysConnectors,
    'runTiming' | 'rateLimit' | 'concurrencyLimit' | 'assetsPerRun' | 'trustChecker' | 'qualysAwsAccounts'
  > {
    return this.connectorApis;
  }

  /** Every connector's full stored state (copies), whatever either API shows; states brought up to the clock. */
  connectors(): Promise<ConnectorView[]> {
    return this.connectorApis.connectors();
  }

  /** One connector by QPS id or CloudView UUID (a copy). */
  connector(idOrUuid: number | string): Promise<ConnectorView | undefined> {
    return this.connectorApis.connector(idOrUuid);
  }

  /** Pre-creates a connector without checks (e.g. a leftover of an interrupted deploy, or a foreign one). */
  seedConnector(seed?: SeedConnector): ConnectorView {
    return this.connectorApis.seedConnector(seed);
  }

  clearConnectors(): void {
    this.connectorApis.clearConnectors();
  }

  /** Sets an AWS account's control evaluations; without a list, the guide's sample controls. */
  seedEvaluations(accountId: string, controls?: readonly ControlEvaluationSeed[]): void {
    this.connectorApis.seedEvaluations(accountId, controls);
  }

  clearEvaluations(): void {
    this.connectorApis.clearEvaluations();
  }

  /** The dialect in force (a copy); set it by name or by fields to switch mid-run. */
  get dialect(): Dialect {
    return { ...this.current };
  }

  set dialect(dialect: DialectName | Partial<Dialect>) {
    this.current = resolveDialect(dialect);
  }

  // ---- fault injection and test controls ---------------------------------------------------

  /** Every token issued so far expires at once. */
  expireAllTokens(): void {
    for (const t of this.tokens.values()) t.expired = true;
  }

  revokeToken(jwt: string): void {
    const t = this.tokens.get(jwt);
    if (t) t.revoked = true;
  }

  /** Every JWT this simulator has issued (to assert none leaks into logs). */
  issuedTokens(): string[] {
    return [...this.tokens.keys()];
  }

  /** Lifts the lockout of one user, or of all. */
  unlock(username?: string): void {
    for (const u of this.users.values()) {
      if (username === undefined || u.username === username) {
        u.locked = false;
        u.failures = 0;
      }
    }
  }

  /** Sets (or adds) a user's password, e.g. to test a rotated secret. */
  setPassword(username: string, password: string): void {
    const u = this.users.get(username);
    if (u) u.password = password;
    else this.users.set(username, { username, password, failures: 0, locked: false });
  }

  isLocked(username: string): boolean {
    return this.users.get(username)?.locked ?? false;
  }

  /** The current details of every integration of a kind (copies). */
  integrations<K extends IntegrationKind>(kind: K): DetailsOf<K>[] {
    return [...this.store.values()]
      .filter((s) => s.kind === kind)
      .map((s) => structuredClone(s.details) as DetailsOf<K>);
  }

  integration<K extends IntegrationKind>(kind: K, id: number): DetailsOf<K> | undefined {
    const s = this.store.get(id);
    return s && s.kind === kind ? (structuredClone(s.details) as DetailsOf<K>) : undefined;
  }

  /** The subscription's CIPS state: policy ids (sorted) and the filter, if any. */
  cips(): CipsState {
    return {
      policies: [...this.policies].sort((a, b) => a - b),
      filter: this.filter ? { ...this.filter } : undefined,
    };
  }

  /** Forgets every integration, as if the subscription were new (a test control). */
  clearIntegrations(): void {
    this.store.clear();
  }

  /** Empties the subscription's CIPS state: no policy, no filter (a test control). */
  clearCips(): void {
    this.policies.clear();
    this.filter = undefined;
    this.cipsUpdated = this.now();
  }

  /** Pre-creates CIPS state (no validation). */
  seedCips(state: { policies?: number[]; filter?: CipsFilter }): void {
    for (const p of state.policies ?? []) this.policies.add(p);
    if (state.filter) this.filter = { ...state.filter };
    this.cipsUpdated = this.now();
  }

  /**
   * Pre-creates an integration without validation (e.g. one left behind by an interrupted
   * deploy). Missing fields get the guide's defaults; returns the details.
   */
  seedIntegration<K extends IntegrationKind>(kind: K, partial: Partial<DetailsOf<K>> = {}): DetailsOf<K> {
    const id = typeof partial.integrationId === 'number' ? partial.integrationId : this.nextId;
    if (this.store.has(id)) throw new Error(`integration ${id} already exists`);
    this.nextId = Math.max(this.nextId, id + 1);
    const common = {
      integrationId: id,
      name: `seeded-${kind}-${id}`,
      bucketName: 'seeded-findings-bucket',
      bucketRegion: 'us-east-1',
      roleArn: 'arn:aws:iam::123456789012:role/seeded-qualys-role',
      compressData: true,
      externalId: this.newExternalId(),
      integrationValidated: false,
    };
    if (kind === 'vm') {
      const details: VmIntegrationDetails = {
        ...this.vmDefaults(),
        ...common,
        ...(partial as Partial<VmIntegrationDetails>),
        integrationId: id,
      };
      this.store.set(id, { kind: 'vm', details: orderVm(details) });
    } else {
      const details: PcIntegrationDetails = {
        ...common,
        ...(partial as Partial<PcIntegrationDetails>),
        integrationId: id,
      };
      this.store.set(id, { kind: 'pc', details: orderPc(details) });
    }
    return this.integration(kind, id)!;
  }

  // ---- request handling --------------------------------------------------------------------

  protected describe(req: http.IncomingMessage, raw: string, at: number, hostName: string): DescribedRequest<SimCall> {
    const host = hostName as SimHost;
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const path = url.pathname;
    // The /auth body holds the password: never recorded.
    const call: SimCall = {
      host,
      api: apiOf(path),
      method,
      path,
      status: 0,
      at,
      body: path === '/auth' || raw.length === 0 ? undefined : parseOrText(raw),
    };
    if (req.headers.authorization !== undefined) call.authorization = maskBasic(req.headers.authorization);
    if (this.connectorApis.serves(host, path)) {
      const answer = () =>
        this.connectorApis.handle({ host, method, path, query: url.searchParams, raw, headers: req.headers });
      // In flight from arrival to the last byte (slow faults included), for the concurrency limit.
      return { call, answer, settled: this.connectorApis.enter(method, path) };
    }
    const answer = async (): Promise<Reply> => {
      try {
        if (host === 'api') return apiServerNotFound(method, path);
        // The connector APIs are the API server's: on the gateway, a wrong host (404).
        if (connectorApiOf(path)) throw notFound(method, path);
        return await this.route(req, method, path, raw, url.searchParams);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        return messsage(error.status, error.message, error.headers);
      }
    };
    return { call, answer };
  }

  protected faultMatches(fault: Fault, call: SimCall): boolean {
    return (
      (fault.host === undefined || fault.host === call.host) &&
      (fault.method === undefined || fault.method.toUpperCase() === call.method) &&
      (fault.path === undefined ||
        (typeof fault.path === 'string' ? fault.path === call.path : testPattern(fault.path, call.path)))
    );
  }

  protected faultReply(fault: Fault): Reply | undefined {
    return fault.status !== undefined || fault.html || fault.body !== undefined ? faultReply(fault) : undefined;
  }

  /**
   * `METHOD path`, with numeric (and UUID) path segments replaced by `{id}`; calls to the API
   * server are prefixed `api `.
   */
  protected callKey(call: SimCall): string {
    return `${call.host === 'api' ? 'api ' : ''}${endpointKey(call.method, call.path)}`;
  }

  private async route(
    req: http.IncomingMessage,
    method: string,
    path: string,
    raw: string,
    query: URLSearchParams,
  ): Promise<Reply> {
    if (path === '/auth') {
      if (method !== 'POST') throw notFound(method, path);
      return this.auth(req, raw);
    }

    let m: RegExpExecArray | null;
    if ((m = /^\/partner-integration\/aws\/s3\/(vm|pc)$/.exec(path))) {
      const kind = m[1] as IntegrationKind;
      if (method === 'GET') return this.protect(req, () => this.list(kind, query), `s3-${kind}`);
      if (method === 'POST') return this.protect(req, () => this.register(kind, jsonBody(req, raw)), `s3-${kind}`);
    } else if ((m = /^\/partner-integration\/aws\/s3\/([^/]+)\/(vm|pc)$/.exec(path))) {
      const [, idText, kindText] = m;
      const kind = kindText as IntegrationKind;
      if (method === 'GET')
        return this.protect(req, () => json(200, this.view(this.found(kind, idText))), `s3-${kind}`);
      if (method === 'PUT') {
        return this.protect(
          req,
          () => {
            const body = jsonBody(req, raw);
            return this.update(kind, this.found(kind, idText), body);
          },
          `s3-${kind}`,
        );
      }
      if (method === 'DELETE') {
        return this.protect(
          req,
          () => {
            const found = this.found(kind, idText);
            this.store.delete(found.details.integrationId);
            return messsage(200, `AWS S3 ${kind.toUpperCase()} integration successfully deleted.`);
          },
          `s3-${kind}`,
        );
      }
    } else if ((m = /^\/partner-integration\/aws\/s3\/([^/]+)\/(vm|pc)\/validate$/.exec(path))) {
      const [, idText, kindText] = m;
      const kind = kindText as IntegrationKind;
      if (method === 'PATCH')
        return this.protect(req, () => this.validate(kind, this.found(kind, idText)), `s3-${kind}`);
    } else if (path === '/pcas/cips/config') {
      if (method === 'GET') return this.protect(req, () => this.getCips(), 'cips', JSON_TYPE);
      if (method === 'POST') return this.protect(req, () => this.createFilter(jsonBody(req, raw)), 'cips', JSON_TYPE);
      if (method === 'PUT') return this.protect(req, () => this.updateFilter(jsonBody(req, raw)), 'cips', JSON_TYPE);
      // Under 'policy' this stays the historical 404 (no handler at all for the method).
      if (method === 'DELETE' && this.current.cipsDeletePath !== 'policy') {
        return this.protect(req, () => this.removePolicies(jsonBody(req, raw)), 'cips', TEXT_TYPE);
      }
    } else if (path === '/pcas/cips/config/policy') {
      if (method === 'POST') return this.protect(req, () => this.addPolicies(jsonBody(req, raw)), 'cips', TEXT_TYPE);
      if (method === 'DELETE') {
        if (this.current.cipsDeletePath === 'config') {
          // A gateway that knows the path but not the method answers 405 with the methods it has.
          return this.protect(
            req,
            () => {
              throw new HttpError(
                405,
                `Request method 'DELETE' is not supported for ${path}; remove policies with DELETE /pcas/cips/config`,
                { Allow: 'POST' },
              );
            },
            'cips',
          );
        }
        return this.protect(req, () => this.removePolicies(jsonBody(req, raw)), 'cips', TEXT_TYPE);
      }
    }
    throw notFound(method, path);
  }

  // ---- /auth -------------------------------------------------------------------------------

  private auth(req: http.IncomingMessage, raw: string): Reply {
    if (mediaType(req) !== 'application/x-www-form-urlencoded') {
      return text(415, `Unsupported Media Type: POST /auth takes application/x-www-form-urlencoded form fields`);
    }
    const form = new URLSearchParams(raw);
    if (form.get('token') !== 'true') return text(400, 'Bad Request: the form field token=true is required');
    const username = form.get('username');
    const password = form.get('password');
    if (!username || !password) return text(400, 'Bad Request: the form fields username and password are required');
    const user = this.users.get(username);
    if (!user) return text(401, 'Authentication Failure');
    if (user.locked) {
      return text(
        401,
        'Authentication Failure: the account is locked after too many failed login attempts; contact your Qualys administrator',
      );
    }
    if (user.password !== password) {
      user.failures++;
      if (user.failures >= this.lockoutAfter) user.locked = true;
      return text(401, 'Authentication Failure');
    }
    user.failures = 0;
    const issuedAt = this.now();
    const jwt = this.sign(username, issuedAt);
    this.tokens.set(jwt, { jwt, username, issuedAt, expired: false, revoked: false });
    return text(200, jwt);
  }

  private sign(username: string, issuedAtMs: number): string {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const iat = Math.floor(issuedAtMs / 1000);
    const header = enc({ alg: 'HS256', typ: 'JWT' });
    const payload = enc({
      sub: username,
      iat,
      exp: iat + Math.floor(this.tokenTtlMs / 1000),
      jti: randomUUID(),
      customerId: this.customerId,
      subscriptionId: this.subscriptionId,
    });
    const signature = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  /**
   * Bearer-token check, then the subscription's rate limit, then (under `cipsAccept: 'strict'`)
   * content negotiation against the media type the handler `produces`, then the handler.
   */
  private async protect(
    req: http.IncomingMessage,
    handler: () => Reply | Promise<Reply>,
    area: ApiArea,
    produces?: string,
  ): Promise<Reply> {
    const bearer = this.bearerUser(req.headers.authorization);
    if (!bearer.ok) throw new HttpError(401, bearer.message);
    if (this.users.get(bearer.username)?.denied?.includes(area)) {
      throw new HttpError(403, `Forbidden: user ${bearer.username} has no permission for this API`);
    }
    const rateHeaders = this.checkRate();
    try {
      if (produces && this.current.cipsAccept === 'strict' && !acceptAdmits(acceptHeader(req), produces)) {
        throw new HttpError(
          406,
          `Not Acceptable: ${req.method} ${new URL(req.url ?? '/', 'http://simulator').pathname} answers ${produces}, which the Accept header '${acceptHeader(req)}' does not admit; send Accept: ${produces.split(';')[0]} or */*`,
        );
      }
      const reply = await handler();
      return { ...reply, headers: { ...rateHeaders, ...reply.headers } };
    } catch (e) {
      throw e instanceof HttpError ? new HttpError(e.status, e.message, { ...rateHeaders, ...e.headers }) : e;
    }
  }

  /** The user a Bearer token from `POST /auth` stands for, while it lives. */
  private bearerUser(header: string | undefined): AuthOutcome {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return { ok: false, message: 'Unauthorized: a Bearer token is required in the Authorization header' };
    const token = this.tokens.get(m[1]);
    if (!token || token.revoked) return { ok: false, message: 'Unauthorized: the token is invalid' };
    if (token.expired || this.now() - token.issuedAt > this.tokenTtlMs) {
      return { ok: false, message: 'Unauthorized: the token has expired; generate a new one with POST /auth' };
    }
    return { ok: true, username: token.username };
  }

  /** HTTP Basic credentials against the same users, failures counting toward the same lockout as `/auth`. */
  private basicUser(header: string | undefined): AuthOutcome {
    const m = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? '');
    if (!m) return { ok: false, message: 'Unauthorized: HTTP Basic authentication is required' };
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, message: 'Unauthorized: malformed Basic credentials' };
    const user = this.users.get(decoded.slice(0, colon));
    const password = decoded.slice(colon + 1);
    if (!user) return { ok: false, message: 'Unauthorized: bad username or password' };
    if (user.locked)
      return { ok: false, message: 'Unauthorized: the account is locked after too many failed login attempts' };
    if (user.password !== password) {
      user.failures++;
      if (user.failures >= this.lockoutAfter) user.locked = true;
      return { ok: false, message: 'Unauthorized: bad username or password' };
    }
    user.failures = 0;
    return { ok: true, username: user.username };
  }

  private checkRate(): Record<string, string> {
    if (!this.rateLimit) return {};
    const { limit, windowMs } = this.rateLimit;
    const now = this.now();
    this.hits = this.hits.filter((t) => t > now - windowMs);
    const windowSec = String(Math.max(1, Math.ceil(windowMs / 1000)));
    if (this.hits.length >= limit) {
      const waitSec = Math.max(1, Math.ceil((this.hits[0] + windowMs - now) / 1000));
      throw new HttpError(
        429,
        `API rate limit exceeded: ${limit} calls per ${windowSec} seconds; retry after ${waitSec} seconds`,
        {
          'X-RateLimit-Limit': String(limit),
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Window-Sec': windowSec,
          'X-RateLimit-ToWait-Sec': String(waitSec),
        },
      );
    }
    this.hits.push(now);
    return {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(limit - this.hits.length),
      'X-RateLimit-Window-Sec': windowSec,
    };
  }

  // ---- S3 integrations ---------------------------------------------------------------------

  private found(kind: IntegrationKind, idText: string): Stored {
    if (!/^\d+$/.test(idText)) throw new HttpError(400, `Invalid integration id '${idText}': it must be a number`);
    const s = this.store.get(Number(idText));
    if (!s || s.kind !== kind)
      throw new HttpError(404, `AWS S3 ${kind.toUpperCase()} integration with id ${idText} not found`);
    return s;
  }

  /** The details as the dialect shows them on the wire (by id and in lists). */
  private view(stored: Stored): Record<string, unknown> {
    if (stored.kind === 'pc' && this.current.pcDetails === 'guide') {
      const { name, compressData, bucketName, bucketRegion, roleArn, integrationValidated } = stored.details;
      return { name, compressData, bucketName, bucketRegion, roleArn, integrationValidated };
    }
    return this.withExternalIdKey(structuredClone(stored.details) as unknown as Record<string, unknown>);
  }

  /** Renames `externalId` to the dialect's key, keeping the key's place. */
  private withExternalIdKey(details: Record<string, unknown>): Record<string, unknown> {
    const key = this.current.externalIdKey;
    if (key === 'externalId') return details;
    return Object.fromEntries(Object.entries(details).map(([k, v]) => [k === 'externalId' ? key : k, v]));
  }

  private list(kind: IntegrationKind, query: URLSearchParams): Reply {
    const d = this.current;
    const page = d.list === 'paged' ? pageRequest(query, d) : undefined;
    const items = [...this.store.values()].filter((s) => s.kind === kind).map((s) => this.view(s));
    if (items.length === 0 && d.emptyList === '204') return blank(204);
    if (items.length === 0 && d.emptyList === '404')
      return messsage(404, `No AWS S3 ${kind.toUpperCase()} integration found for this subscription`);
    switch (d.list) {
      case 'array':
        return json(200, items);
      case 'single':
        // The guide's sample is one object; with none, Spring's answer for a null result.
        return items.length > 0 ? json(200, items[0]) : blank(200);
      case 'paged': {
        const { number, size } = page!;
        const content = items.slice(number * size, (number + 1) * size);
        const totalPages = Math.ceil(items.length / size);
        return json(200, {
          content,
          last: number >= totalPages - 1,
          first: number === 0,
          totalPages,
          totalElements: items.length,
          numberOfElements: content.length,
          size,
          number,
        });
      }
      default:
        return json(200, { [d.list]: items });
    }
  }

  private register(kind: IntegrationKind, body: unknown): Reply {
    const fields = checkFields(kind, body, 'register', this.current);
    if (this.current.onePerKind) {
      const existing = [...this.store.values()].find((s) => s.kind === kind);
      if (existing) {
        const { integrationId, name } = existing.details;
        throw new HttpError(
          409,
          `An AWS S3 ${kind.toUpperCase()} integration already exists for this subscription (id ${integrationId}, named '${name}'); only one is allowed: update it with PUT /partner-integration/aws/s3/${integrationId}/${kind} or delete it first`,
        );
      }
    }
    this.assertNameFree(kind, fields.name as string);
    const id = this.nextId++;
    const externalId = this.newExternalId();
    if (kind === 'vm') {
      const details = orderVm({
        ...this.vmDefaults(),
        ...(fields as Partial<VmIntegrationDetails>),
        integrationId: id,
        externalId,
        integrationValidated: false,
      } as VmIntegrationDetails);
      if (details.sendAlerts && details.errorEmails.length === 0) {
        throw new HttpError(400, 'errorEmails must list at least one email address when sendAlerts is true');
      }
      this.store.set(id, { kind, details });
      return this.registered(details);
    }
    const details = orderPc({
      compressData: true,
      ...(fields as Partial<PcIntegrationDetails>),
      integrationId: id,
      externalId,
      integrationValidated: false,
    } as PcIntegrationDetails);
    this.store.set(id, { kind, details });
    return this.registered(details);
  }

  /**
   * 'details' answers every stored field even under `pcDetails: 'guide'`: that option is about
   * GET, and the register answer is the one place a client can learn a PC integration's id.
   */
  private registered(details: VmIntegrationDetails | PcIntegrationDetails): Reply {
    const { registerAnswer, registerStatus, externalIdKey } = this.current;
    if (registerAnswer === 'empty') return blank(registerStatus);
    if (registerAnswer === 'ids')
      return json(registerStatus, { integrationId: details.integrationId, [externalIdKey]: details.externalId });
    return json(registerStatus, this.withExternalIdKey(structuredClone(details) as unknown as Record<string, unknown>));
  }

  private update(kind: IntegrationKind, stored: Stored, body: unknown): Reply {
    const fields = checkFields(kind, body, 'update', this.current);
    this.assertNameFree(kind, fields.name as string, stored.details.integrationId);
    const { regenerateExternalId, ...changes } = fields;
    const next = { ...stored.details, ...changes } as VmIntegrationDetails & PcIntegrationDetails;
    if (kind === 'vm' && next.sendAlerts && next.errorEmails.length === 0) {
      throw new HttpError(400, 'errorEmails must list at least one email address when sendAlerts is true');
    }
    if (regenerateExternalId === true) next.externalId = this.newExternalId();
    next.integrationValidated = false;
    Object.assign(stored.details, next);
    const message = `AWS S3 ${kind.toUpperCase()} integration successfully updated.`;
    if (this.current.putAnswer === 'with-external-id')
      return json(200, { messsage: message, [this.current.externalIdKey]: next.externalId });
    return messsage(200, message);
  }

  private async validate(kind: IntegrationKind, stored: Stored): Promise<Reply> {
    const { roleArn, externalId } = stored.details;
    const result = await this.trustChecker(roleArn, externalId);
    if (!result.ok) {
      // integrationValidated is left as it was (false after any register or PUT).
      const reason = `Unable to assume role ${roleArn} with the provided external ID: ${result.reason ?? 'access denied'}`;
      switch (this.current.validateFailure) {
        case '200-message':
          return messsage(200, `AWS S3 ${kind.toUpperCase()} integration validation failed. ${reason}`);
        case '5xx':
          return messsage(
            500,
            `Internal error while validating the AWS S3 ${kind.toUpperCase()} integration: ${reason}`,
          );
        case '403':
          return messsage(
            403,
            `Access denied while validating the AWS S3 ${kind.toUpperCase()} integration: ${reason}`,
          );
        default:
          return messsage(400, reason);
      }
    }
    stored.details.integrationValidated = true;
    this.onValidated?.(kind, {
      bucketName: stored.details.bucketName,
      bucketRegion: stored.details.bucketRegion,
      roleArn,
    });
    return messsage(200, `AWS S3 ${kind.toUpperCase()} integration successfully validated.`);
  }

  private assertNameFree(kind: IntegrationKind, name: string, exceptId?: number): void {
    for (const s of this.store.values()) {
      if (s.kind === kind && s.details.name === name && s.details.integrationId !== exceptId) {
        throw new HttpError(409, `An AWS S3 ${kind.toUpperCase()} integration named '${name}' already exists`);
      }
    }
  }

  private newExternalId(): string {
    return `${this.pod}-${this.customerId}-${randomUUID()}`;
  }

  private vmDefaults(): Omit<
    VmIntegrationDetails,
    'integrationId' | 'name' | 'bucketName' | 'bucketRegion' | 'roleArn' | 'externalId' | 'integrationValidated'
  > {
    return {
      customerId: this.customerId,
      customerUUID: this.customerUUID,
      minSeverity: 3,
      baseCategory: 'Confirmed',
      resultSectionNeeded: false,
      sendVulnInfo: false,
      compressData: true,
      sendAlerts: false,
      errorEmails: [],
    };
  }

  // ---- CIPS --------------------------------------------------------------------------------

  private getCips(): Reply {
    const d = this.current;
    if (this.policies.size === 0 && !this.filter) {
      if (d.cipsEmpty === '204') return blank(204);
      if (d.cipsEmpty === 'empty-object') return json(200, {});
      return messsage(404, 'No CIPS configuration found');
    }
    const ids = [...this.policies].sort((a, b) => a - b);
    const lastUpdated = isoTime(this.cipsUpdated ?? this.now());
    const flat = { subscriptionId: this.subscriptionId, policy: ids, ...(this.filter ?? {}), lastUpdated };
    switch (d.cipsConfigShape) {
      case 'policies-objects':
        return json(200, {
          subscriptionId: this.subscriptionId,
          policies: ids.map((id) => ({ id, title: `Policy ${id}` })),
          ...(this.filter ?? {}),
          lastUpdated,
        });
      case 'nested':
        return json(200, {
          subscriptionId: this.subscriptionId,
          policyList: ids,
          filter: this.filter ? { ...this.filter } : null,
          lastUpdated,
        });
      case 'array':
        return json(200, [flat]);
      case 'data':
        return json(200, { data: flat });
      case 'opaque':
        return json(200, { config: Buffer.from(JSON.stringify(flat)).toString('base64') });
      default:
        return json(200, flat);
    }
  }

  private addPolicies(body: unknown): Reply {
    const ids = policyIds(body, this.current);
    const present = ids.filter((id) => this.policies.has(id));
    if (present.length > 0 && this.current.cipsDuplicateAdd === 'error')
      throw new HttpError(400, `Policy ${present.join(', ')} already added to CIPS`);
    const fresh = ids.filter((id) => !this.policies.has(id));
    const total = this.policies.size + fresh.length;
    if (total > MAX_CIPS_POLICIES) {
      throw new HttpError(
        400,
        `CIPS allows at most ${MAX_CIPS_POLICIES} policies; ${this.policies.size} are added and ${fresh.length} more were requested`,
      );
    }
    for (const id of fresh) this.policies.add(id);
    this.cipsUpdated = this.now();
    if (present.length > 0)
      return text(202, `Policy added successfully. Policy ${present.join(', ')} already present in CIPS.`);
    return text(202, 'Policy added successfully.');
  }

  private removePolicies(body: unknown): Reply {
    const ids = policyIds(body, this.current);
    const missing = ids.filter((id) => !this.policies.has(id));
    if (missing.length > 0) throw new HttpError(400, `Policy ${missing.join(', ')} not found in CIPS`);
    for (const id of ids) this.policies.delete(id);
    this.cipsUpdated = this.now();
    return text(202, 'Policy deleted successfully.');
  }

  private createFilter(body: unknown): Reply {
    const filter = filterBody(body, this.current);
    if (this.filter)
      throw new HttpError(409, 'A CIPS filter configuration already exists; update it with PUT /pcas/cips/config');
    return this.setFilter(filter);
  }

  private updateFilter(body: unknown): Reply {
    const filter = filterBody(body, this.current);
    if (!this.filter)
      throw new HttpError(404, 'No CIPS filter configuration found; create it with POST /pcas/cips/config');
    return this.setFilter(filter);
  }

  private setFilter(filter: CipsFilter): Reply {
    this.filter = filter;
    this.cipsUpdated = this.now();
    return json(200, { subscriptionId: this.subscriptionId, ...filter, lastUpdated: isoTime(this.cipsUpdated) });
  }
}

// ---- validation ------------------------------------------------------------------------------

function checkFields(
  kind: IntegrationKind,
  body: unknown,
  mode: 'register' | 'update',
  dialect: Dialect,
): Record<string, unknown> {
  if (!isObject(body)) throw new HttpError(400, 'The request body must be a JSON object');
  // The guide's PC register documents only the four common fields (l.670-679).
  const settings =
    kind === 'pc' && mode === 'register' && dialect.pcRegisterFields === 'guide' ? [] : SETTING_FIELDS[kind];
  const allowed = new Set<string>([
    ...COMMON_FIELDS,
    ...settings,
    ...(mode === 'update' ? ['regenerateExternalId'] : []),
  ]);
  const errors: string[] = [];
  const unknown = Object.keys(body).filter((k) => !allowed.has(k));
  if (unknown.length > 0 && dialect.unknownFields === 'reject') {
    errors.push(`unrecognized field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}`);
  }
  const required = mode === 'register' ? COMMON_FIELDS : (['roleArn', 'name'] as const);
  for (const field of required) if (body[field] === undefined) errors.push(`${field} is required`);

  for (const [field, value] of Object.entries(body)) {
    if (!allowed.has(field) || value === undefined) continue;
    const problem = fieldProblem(field, value);
    if (problem) errors.push(`${field} ${problem}`);
  }
  if (errors.length > 0) throw new HttpError(400, `Invalid request: ${errors.join('; ')}`);
  return Object.fromEntries(Object.entries(body).filter(([k]) => allowed.has(k)));
}

function fieldProblem(field: string, value: unknown): string | undefined {
  switch (field) {
    case 'name':
      if (typeof value !== 'string') return 'must be a string';
      if (value.trim().length === 0 || value.length > 50) return 'must be 1 to 50 characters long';
      return undefined;
    case 'bucketName':
      if (typeof value !== 'string') return 'must be a string';
      return BUCKET_NAME.test(value) ? undefined : 'must be a valid S3 bucket name';
    case 'bucketRegion':
      if (typeof value !== 'string') return 'must be a string';
      return REGION.test(value) ? undefined : 'must be an AWS region such as us-east-1';
    case 'roleArn':
      if (typeof value !== 'string') return 'must be a string';
      return ROLE_ARN.test(value)
        ? undefined
        : 'must be an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/<name>)';
    case 'minSeverity':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5
        ? undefined
        : 'must be an integer from 1 to 5';
    case 'baseCategory':
      return typeof value === 'string' && BASE_CATEGORIES.includes(value)
        ? undefined
        : 'must be one of IG, Potential, Confirmed';
    case 'errorEmails':
      if (!Array.isArray(value)) return 'must be an array of email addresses';
      if (value.length > 5) return 'must list at most 5 email addresses';
      return value.every((e) => typeof e === 'string' && EMAIL.test(e))
        ? undefined
        : 'must hold only valid email addresses';
    default:
      // resultSectionNeeded, sendVulnInfo, compressData, sendAlerts, regenerateExternalId
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
  }
}

/** The guide's CIPS body: a JSON array holding exactly one object. */
function singleObject(body: unknown, example: string): Record<string, unknown> {
  if (!Array.isArray(body) || body.length !== 1 || !isObject(body[0])) {
    throw new HttpError(400, `The request body must be a JSON array holding one object, e.g. ${example}`);
  }
  return body[0];
}

function policyIds(body: unknown, dialect: Dialect): number[] {
  const obj = singleObject(body, '[{"policy":[4771746]}]');
  const unknown = Object.keys(obj).filter((k) => k !== 'policy');
  if (unknown.length > 0 && dialect.unknownFields === 'reject')
    throw new HttpError(400, `Invalid request: unrecognized field ${unknown.map((k) => `'${k}'`).join(', ')}`);
  const list = obj.policy;
  if (!Array.isArray(list) || list.length === 0)
    throw new HttpError(400, 'Invalid request: policy must be a non-empty array of policy ids');
  const bad = list.filter((id) => typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0);
  if (bad.length > 0)
    throw new HttpError(
      400,
      `Invalid request: policy ids must be positive integers (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
    );
  const ids = list as number[];
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length > 0)
    throw new HttpError(400, `Invalid request: policy ${[...new Set(dupes)].join(', ')} listed more than once`);
  return ids;
}

function filterBody(body: unknown, dialect: Dialect): CipsFilter {
  const obj = singleObject(
    body,
    '[{"includeEvidenceData":false,"includeFailPosture":true,"includePassPosture":true,"includeErrorPosture":true}]',
  );
  const errors: string[] = [];
  const unknown = Object.keys(obj).filter((k) => !(FILTER_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0 && dialect.unknownFields === 'reject')
    errors.push(`unrecognized field ${unknown.map((k) => `'${k}'`).join(', ')}`);
  for (const f of FILTER_FIELDS) {
    if (obj[f] === undefined) errors.push(`${f} is required`);
    else if (typeof obj[f] !== 'boolean') errors.push(`${f} must be a boolean`);
  }
  if (errors.length > 0) throw new HttpError(400, `Invalid request: ${errors.join('; ')}`);
  return {
    includeEvidenceData: obj.includeEvidenceData as boolean,
    includeFailPosture: obj.includeFailPosture as boolean,
    includePassPosture: obj.includePassPosture as boolean,
    includeErrorPosture: obj.includeErrorPosture as boolean,
  };
}

/** A paged list's `pageNo` and `pageSize`, checked; `number` is the 0-based page. */
function pageRequest(query: URLSearchParams, dialect: Dialect): { number: number; size: number } {
  const errors: string[] = [];
  const read = (name: string, min: number, max: number, fallback: number, range: string): number => {
    const values = query.getAll(name);
    if (values.length === 0) return fallback;
    const value = values[0];
    if (values.length > 1) errors.push(`${name} must be given once (got ${values.length} values)`);
    else if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max)
      errors.push(`${name} must be ${range} (got '${value}')`);
    return Number(value);
  };
  const base = dialect.pageBase;
  const pageNo = read(
    'pageNo',
    base,
    Number.MAX_SAFE_INTEGER,
    base,
    `an integer from ${base} (the first page) upwards`,
  );
  const size = read('pageSize', 1, MAX_PAGE_SIZE, dialect.defaultPageSize, `an integer from 1 to ${MAX_PAGE_SIZE}`);
  if (errors.length > 0) throw new HttpError(400, `Invalid paging parameters: ${errors.join('; ')}`);
  return { number: pageNo - base, size };
}

// ---- helpers ---------------------------------------------------------------------------------

function jsonBody(req: http.IncomingMessage, raw: string): unknown {
  if (raw.trim().length === 0) throw new HttpError(400, 'Required request body is missing');
  const type = mediaType(req);
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      `Content-Type '${req.headers['content-type'] ?? ''}' is not supported; send application/json`,
    );
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'Malformed JSON request body');
  }
}

function acceptHeader(req: http.IncomingMessage): string | undefined {
  const value = req.headers.accept;
  return Array.isArray(value) ? value.join(', ') : value;
}

function mediaType(req: http.IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function notFound(method: string, path: string): HttpError {
  return new HttpError(404, `No handler found for ${method} ${path}`);
}

/** What the API server answers for a path it does not serve (the gateway's APIs included): its web server's 404 page. */
function apiServerNotFound(method: string, path: string): Reply {
  return {
    status: 404,
    contentType: 'text/html',
    body: `<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>${method} ${path.replace(/[<>&"]/g, '')} is not served here.</p></body></html>`,
  };
}

function apiOf(path: string): SimApi {
  if (path === '/auth') return 'auth';
  if (path.startsWith('/partner-integration/')) return 's3';
  if (path.startsWith('/pcas/')) return 'cips';
  return connectorApiOf(path) ?? 'unknown';
}

/** `Basic <base64>` becomes `Basic <username>:***`; any other header is kept. */
function maskBasic(header: string): string {
  const m = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!m) return header;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return `Basic ${colon < 0 ? '?' : decoded.slice(0, colon)}:***`;
}

function faultReply(fault: Fault): Reply {
  const status = fault.status ?? (fault.html ? 503 : 500);
  const reason = http.STATUS_CODES[status] ?? 'Error';
  if (fault.html) {
    const body =
      fault.body ??
      `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n</body>\r\n</html>\r\n`;
    return { status, body, contentType: 'text/html', headers: fault.headers };
  }
  if (fault.body !== undefined) {
    const looksJson = /^\s*[[{]/.test(fault.body);
    return {
      status,
      body: fault.body,
      contentType: looksJson ? 'application/json' : 'text/plain;charset=UTF-8',
      headers: fault.headers,
    };
  }
  return messsage(status, reason, fault.headers);
}

function parseOrText(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function testPattern(pattern: RegExp, value: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The guide's timestamp format, e.g. 2022-11-14T06:34:26.148+00:00. */
function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

function orderVm(d: VmIntegrationDetails): VmIntegrationDetails {
  return {
    integrationId: d.integrationId,
    customerId: d.customerId,
    customerUUID: d.customerUUID,
    bucketName: d.bucketName,
    bucketRegion: d.bucketRegion,
    minSeverity: d.minSeverity,
    baseCategory: d.baseCategory,
    name: d.name,
    resultSectionNeeded: d.resultSectionNeeded,
    sendVulnInfo: d.sendVulnInfo,
    compressData: d.compressData,
    externalId: d.externalId,
    roleArn: d.roleArn,
    integrationValidated: d.integrationValidated,
    sendAlerts: d.sendAlerts,
    errorEmails: [...d.errorEmails],
  };
}

function orderPc(d: PcIntegrationDetails): PcIntegrationDetails {
  return {
    integrationId: d.integrationId,
    name: d.name,
    compressData: d.compressData,
    bucketName: d.bucketName,
    bucketRegion: d.bucketRegion,
    roleArn: d.roleArn,
    externalId: d.externalId,
    integrationValidated: d.integrationValidated,
  };
}
