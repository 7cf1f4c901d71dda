// biome-ignore-all lint/suspicious/noAssignInExpressions: the routers try one path pattern after another and keep the match
/**
 * Qualys's two AWS connector APIs, as the Qualys simulator (./qualys-simulator.ts) serves
 * them, over one store of connectors:
 *
 * - Connectors 3.0 (QPS, ref §2): `POST /qps/rest/3.0/{create,search,update/<id>,delete/<id>,
 *   run/<id>}/am/awsassetdataconnector`, `GET /qps/rest/3.0/get/am/awsassetdataconnector/<id>`
 *   and `POST /qps/rest/3.0/search/am/assetdataconnectorerrors`, in ServiceRequest /
 *   ServiceResponse envelopes (`set` in requests, `list` in answers), JSON or XML.
 * - CloudView REST (ref §1, guide l.783-1009): `/cloudview-api/rest/<version>/aws/connectors`
 *   (list, create, details, update, delete, run, errors, qualysAwsAccountId) and
 *   `/aws/evaluations/{accountId}` with `.../resources/{controlId}`, in Spring-style pages.
 *
 * "guide l.N" is a line of /work/shared/reference/qualys-cloudview-guide.txt, "ref §N" a
 * section of /work/shared/reference/qualys-connector-apis.md. Every place where those allow
 * more than one reading is a field of `ConnectorDialect` (./connector-dialect.ts). What
 * neither says and no dialect covers (error bodies, the rate-limit body, field length limits,
 * QPS's `lastSync`/`nextSync`/`lastError`, the error objects' fields) is this simulator's
 * guess, marked "guess" where it is made; a client must not depend on it.
 *
 * Both APIs live on the platform's API server (`qualysapi.*`, ref §1-2) with HTTP Basic
 * authentication; the simulator's second listener (`apiUrl`) plays that host. A JWT there is
 * refused (401); QPS on the gateway is a wrong host (404); CloudView on the gateway only in
 * the `cloudViewOnGateway: 'jwt'` reading, with a Bearer token and not Basic.
 *
 * A connector runs when it is created (guide l.150) or asked to run: QUEUED, RUNNING,
 * PROCESSING, then FINISHED_SUCCESS or FINISHED_ERRORS (or PENDING, RUNNING, SUCCESS/ERROR)
 * over the simulator's clock. When its run reaches RUNNING it assumes its role(s) with its
 * external ID: the simulator asks its TrustChecker (with FakeAws: Qualys's principal against
 * the role's trust policy as STS saw it at that moment, propagation delay included). After a
 * run, the next one is scheduled `runFrequency` minutes later. State is worked out lazily,
 * whenever a call or a test control reads it.
 *
 * Limits (ref §2): a budget of calls per window per user (300 an hour by default) and about 2
 * concurrent calls per endpoint; beyond either, 409 with `X-RateLimit-*` or
 * `X-Concurrency-Limit-*` headers. Every answer after the check carries the budget headers.
 *
 * Only node built-ins are used.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import {
  CONNECTOR_DIALECTS,
  type ConnectorDialect,
  type ConnectorDialectName,
  DEFAULT_CONNECTOR_DIALECT,
  resolveConnectorDialect,
} from './connector-dialect';
import type { Reply } from './fake-server';
import { acceptAdmits, MAX_PAGE_SIZE } from './qualys-dialect';

export { CONNECTOR_DIALECTS, DEFAULT_CONNECTOR_DIALECT };
export type { ConnectorDialect, ConnectorDialectName };

/** The two hosts of a Qualys platform the simulator plays. */
export type SimHost = 'gateway' | 'api';
export type ConnectorApi = 'qps' | 'cloudview';
/** The apps a connector runs (ref §2): asset inventory, cloud inventory, cloud security assessment. */
export type AppModule = 'AI' | 'CI' | 'CSA';
/** QPS `activation` modules; the reference shows VM and PC (ref §2). */
export type ActivationModule = 'VM' | 'PC';
export type Partition = 'aws' | 'aws-us-gov' | 'aws-cn';
export type ConnectorState =
  | 'PENDING'
  | 'QUEUED'
  | 'RUNNING'
  | 'PROCESSING'
  | 'SUCCESS'
  | 'FINISHED_SUCCESS'
  | 'FINISHED_ERRORS'
  | 'ERROR'
  | 'DISABLED';

/** The trust check a run makes; `at` is the moment of the attempt (see FakeAws.canAssume). */
export type ConnectorTrustChecker = (
  roleArn: string,
  externalId: string,
  at?: number,
) => { ok: boolean; reason?: string } | Promise<{ ok: boolean; reason?: string }>;

export interface ConnectorOptions {
  /**
   * Qualys's AWS account, per partition, whose principal assumes the connector's role. A
   * connector in a partition without one is refused. Commercial: 805950163170 (ref §3);
   * GovCloud and China are not public (ref §3).
   * @default { aws: '805950163170' }
   */
  qualysAwsAccounts?: Partial<Record<Partition, string>>;
  /** @default - DEFAULT_CONNECTOR_DIALECT ('reference') */
  dialect?: ConnectorDialectName | Partial<ConnectorDialect>;
  /** @default - the simulator's `trustChecker`, read at each run */
  trustChecker?: ConnectorTrustChecker;
  /** How long a run waits in the queue, then runs (simulated time). @default { queuedMs: 5000, runningMs: 20000 } */
  runTiming?: { queuedMs?: number; runningMs?: number };
  /** Calls per window per user over both APIs; false turns it off. @default { limit: 300, windowMs: 3_600_000 } (ref §2) */
  rateLimit?: { limit: number; windowMs: number } | false;
  /** Concurrent calls per endpoint; false turns it off. @default 2 (ref §2) */
  concurrencyLimit?: number | false;
  /** The assets a successful run reports (`totalAssets`). @default 12 */
  assetsPerRun?: number;
}

/** What the simulator lends the connector APIs: its clock, its users and its trust checker. */
export interface ConnectorEnvironment {
  now: () => number;
  trustChecker: () => ConnectorTrustChecker;
  /** Checks `Authorization: Basic ...` against the simulator's users (lockout included). */
  basic: (header: string | undefined) => AuthOutcome;
  /** Checks `Authorization: Bearer <jwt>` against the tokens `POST /auth` issued. */
  bearer: (header: string | undefined) => AuthOutcome;
  /** Whether the user's role lacks this API (then 403). */
  denied: (username: string, api: ConnectorApi) => boolean;
}

export type AuthOutcome = { ok: true; username: string } | { ok: false; message: string };

export interface ConnectorRequest {
  host: SimHost;
  method: string;
  path: string;
  query: URLSearchParams;
  raw: string;
  headers: http.IncomingHttpHeaders;
}

export interface ConnectorApp {
  name: AppModule;
  /** The role that app assumes (Qualys's scripts give the connector's role ARN to each, ref §2). */
  identifier: string;
}

export interface ConnectorError {
  id: number;
  module: AppModule;
  roleArn: string;
  message: string;
  at: number;
}

export interface ConnectorRun {
  trigger: 'create' | 'run' | 'schedule' | 'seed';
  requestedAt: number;
  /** When the run assumes its roles (the trust check's moment). */
  startsAt: number;
  endsAt: number;
  /** The roles and external ID as they were when the run was asked for. */
  roles: ConnectorApp[];
  externalId: string;
  /** Set once the run has reached `startsAt` and made its trust check. */
  outcome?: { ok: boolean; errors: ConnectorError[] };
}

/** A connector's full stored state, whatever either API shows of it. */
export interface ConnectorView {
  /** The QPS id. */
  id: number;
  /** The CloudView `connectorId` and QPS `cloudviewUuid`. */
  uuid: string;
  name: string;
  description: string;
  arn: string;
  externalId: string;
  awsAccountId: string;
  partition: Partition;
  qualysAwsAccountId: string;
  baseAccountId: string;
  disabled: boolean;
  allRegions: boolean;
  runFrequencyMinutes: number;
  remediationEnabled: boolean;
  apps: ConnectorApp[];
  activation: ActivationModule[];
  isGovCloud: boolean;
  isChinaRegion: boolean;
  isPortalConnector: boolean;
  state: ConnectorState;
  createdVia: ConnectorApi | 'seed';
  createdAt: number;
  updatedAt: number;
  lastSyncedOn?: number;
  nextSyncedOn?: number;
  /** The errors of the last finished run. */
  errors: ConnectorError[];
  runs: ConnectorRun[];
  totalAssets: number;
}

export interface SeedConnector
  extends Partial<
    Pick<
      ConnectorView,
      | 'id'
      | 'uuid'
      | 'name'
      | 'description'
      | 'arn'
      | 'externalId'
      | 'disabled'
      | 'allRegions'
      | 'runFrequencyMinutes'
      | 'remediationEnabled'
      | 'apps'
      | 'activation'
      | 'isPortalConnector'
      | 'totalAssets'
    >
  > {
  /** The state shown while the connector has no run. @default - the queued state */
  state?: ConnectorState;
  /** How the connector came to be. @default 'seed' */
  createdVia?: ConnectorApi | 'seed';
  /** Start a run now, as a create would. @default false */
  startRun?: boolean;
}

export interface EvidenceSeed {
  settingName: string;
  actualValue: string;
  expectedValue: string;
}

export interface ResourceEvaluationSeed {
  resourceId: string;
  region?: string;
  resourceType?: string;
  result?: 'PASS' | 'FAIL';
  evidences?: EvidenceSeed[];
  /** @default - the simulator's clock when seeded */
  evaluatedOn?: number;
}

export interface ControlEvaluationSeed {
  controlId: string;
  controlName?: string;
  /** @default 'CIS Amazon Web Services Foundations Benchmark' (guide l.826) */
  policyName?: string;
  /** @default 'HIGH' */
  criticality?: string;
  /** @default 'IAM' */
  service?: string;
  /** @default - FAIL when a resource fails, else PASS */
  result?: 'PASS' | 'FAIL';
  /** @default - counted from `resources` */
  passedResources?: number;
  failedResources?: number;
  resources?: ResourceEvaluationSeed[];
}

/** The guide's sample evaluations (Examples 1-3, guide l.822-980), for `seedEvaluations` without a list. */
export const GUIDE_EVALUATIONS: readonly ControlEvaluationSeed[] = Object.freeze([
  {
    controlId: '6',
    controlName: 'Ensure IAM Password Policy is Enabled',
    result: 'PASS',
    resources: [{ resourceId: 'password-policy', resourceType: 'IAM_PASSWORD_POLICY', result: 'PASS' }],
  },
  {
    controlId: '7',
    controlName: 'Ensure IAM password policy requires at least one uppercase letter',
    resources: [{ resourceId: 'password-policy', resourceType: 'IAM_PASSWORD_POLICY', result: 'FAIL' }],
  },
  {
    controlId: '9',
    controlName: 'Ensure IAM password policy require at least one symbol',
    resources: [{ resourceId: 'password-policy', resourceType: 'IAM_PASSWORD_POLICY', result: 'FAIL' }],
  },
  {
    controlId: '44',
    // Example 3 shows this control's resources but not its name (guide l.916-980).
    controlName: 'Control 44 (the guide names only its resources)',
    service: 'VPC',
    resources: [
      {
        resourceId: 'sg-474f6a39',
        region: 'us-west-2',
        resourceType: 'VPC_SECURITY_GROUP',
        result: 'FAIL',
        evidences: [
          { settingName: 'Number of Inbound Rules ', actualValue: '1', expectedValue: '' },
          { settingName: 'Number of Outbound Rules ', actualValue: '1', expectedValue: '' },
        ],
      },
      {
        resourceId: 'sg-acd511c4',
        region: 'us-east-2',
        resourceType: 'VPC_SECURITY_GROUP',
        result: 'FAIL',
        evidences: [
          { settingName: 'Number of Inbound Rules ', actualValue: '1', expectedValue: '' },
          { settingName: 'Number of Outbound Rules ', actualValue: '1', expectedValue: '' },
        ],
      },
    ],
  },
]);

export const QUALYS_COMMERCIAL_ACCOUNT = '805950163170';
/** QPS `runFrequency` when none is given: Qualys's scripts send 240 (ref §2). */
export const DEFAULT_RUN_FREQUENCY_MINUTES = 240;
/** QPS `limitResults` when none is given (guess), and its largest value (guess). */
export const QPS_DEFAULT_LIMIT = 100;
export const QPS_MAX_LIMIT = 1000;
/** CloudView `pageSize` when none is given: Spring's default (guess). */
export const CLOUDVIEW_DEFAULT_PAGE_SIZE = 20;

const ROLE_ARN = /^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const APP_MODULES: readonly AppModule[] = ['AI', 'CI', 'CSA'];
const ACTIVATION_MODULES: readonly ActivationModule[] = ['VM', 'PC'];
/** Name and description limits: no source gives them (guess). */
const MAX_NAME = 255;
const MAX_DESCRIPTION = 1024;
/** External ID length in Qualys's template (ref §3). */
const EXTERNAL_ID_MIN = 2;
const EXTERNAL_ID_MAX = 1224;

/** The QPS responseCodes of refusals, and the HTTP status each has under `qpsErrorStatus: 'http'`. */
const QPS_CODES = {
  INVALID_REQUEST: 400,
  OBJECT_NOT_FOUND: 404,
  UNAUTHORIZED: 403,
} as const;
type QpsCode =
  | keyof typeof QPS_CODES
  | 'INVALID_CREDENTIALS'
  | 'RATE_LIMIT_EXCEEDED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED';

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: QpsCode = 'INVALID_REQUEST',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Stored extends Omit<ConnectorView, 'state' | 'errors' | 'lastSyncedOn' | 'nextSyncedOn'> {
  seedState?: ConnectorState;
  /** A trust check in progress for the last run (so that concurrent reads make one). */
  evaluating?: Promise<void>;
}

interface StoredEvaluation {
  controlId: string;
  controlName: string;
  policyName: string;
  criticality: string;
  service: string;
  result: 'PASS' | 'FAIL';
  passedResources: number;
  failedResources: number;
  resources: Array<Required<Omit<ResourceEvaluationSeed, 'evaluatedOn'>> & { evaluatedOn: number }>;
}

/** Fields that ended up on a connector from a create or an update body. */
type ConnectorFields = Partial<
  Pick<
    Stored,
    | 'name'
    | 'description'
    | 'arn'
    | 'externalId'
    | 'disabled'
    | 'allRegions'
    | 'runFrequencyMinutes'
    | 'remediationEnabled'
    | 'apps'
    | 'activation'
    | 'isGovCloud'
    | 'isChinaRegion'
    | 'isPortalConnector'
  >
> & { qualysAccountId?: string };

/**
 * `METHOD path` with numeric and UUID path segments replaced by `{id}`: the call-log key, and
 * the "endpoint" the concurrency limit counts per.
 */
export function endpointKey(method: string, path: string): string {
  return `${method} ${path.replace(/\/(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=\/|$)/gi, '/{id}')}`;
}

/** Which connector API a path belongs to, if any. */
export function connectorApiOf(path: string): ConnectorApi | undefined {
  if (path.startsWith('/qps/')) return 'qps';
  if (path.startsWith('/cloudview-api/')) return 'cloudview';
  return undefined;
}

export class QualysConnectors {
  readonly qualysAwsAccounts: Partial<Record<Partition, string>>;
  trustChecker?: ConnectorTrustChecker;
  runTiming: { queuedMs: number; runningMs: number };
  rateLimit: { limit: number; windowMs: number } | false;
  concurrencyLimit: number | false;
  assetsPerRun: number;

  private current: ConnectorDialect;
  private readonly store = new Map<number, Stored>();
  private readonly evaluations = new Map<string, StoredEvaluation[]>();
  private readonly hits = new Map<string, number[]>();
  private readonly running = new Map<string, number>();
  private nextId = 1001;
  private nextErrorId = 1;

  constructor(
    private readonly env: ConnectorEnvironment,
    opts: ConnectorOptions = {},
  ) {
    this.qualysAwsAccounts = { ...(opts.qualysAwsAccounts ?? { aws: QUALYS_COMMERCIAL_ACCOUNT }) };
    this.trustChecker = opts.trustChecker;
    this.runTiming = { queuedMs: opts.runTiming?.queuedMs ?? 5000, runningMs: opts.runTiming?.runningMs ?? 20000 };
    this.rateLimit = opts.rateLimit ?? { limit: 300, windowMs: 3_600_000 };
    this.concurrencyLimit = opts.concurrencyLimit ?? 2;
    this.assetsPerRun = opts.assetsPerRun ?? 12;
    this.current = resolveConnectorDialect(opts.dialect);
  }

  get dialect(): ConnectorDialect {
    return { ...this.current };
  }

  set dialect(dialect: ConnectorDialectName | Partial<ConnectorDialect>) {
    this.current = resolveConnectorDialect(dialect);
  }

  /** Whether a request to `host` at `path` is the connector APIs' to answer. */
  serves(host: SimHost, path: string): boolean {
    const api = connectorApiOf(path);
    if (host === 'api') return api !== undefined;
    return api === 'cloudview' && this.current.cloudViewOnGateway === 'jwt';
  }

  /** Counts a call in flight on its endpoint until the returned function is called. */
  enter(method: string, path: string): () => void {
    const key = endpointKey(method, path);
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.running.get(key) ?? 1) - 1;
      if (left <= 0) this.running.delete(key);
      else this.running.set(key, left);
    };
  }

  // ---- test controls -------------------------------------------------------------------------

  /** Every connector's full stored state (copies), states brought up to the clock. */
  async connectors(): Promise<ConnectorView[]> {
    await this.advance();
    return [...this.store.values()].sort((a, b) => a.id - b.id).map((c) => this.view(c));
  }

  /** One connector by QPS id or CloudView UUID. */
  async connector(idOrUuid: number | string): Promise<ConnectorView | undefined> {
    await this.advance();
    const c = this.find(idOrUuid);
    return c && this.view(c);
  }

  /** Pre-creates a connector without any check (e.g. a leftover, or another team's). */
  seedConnector(seed: SeedConnector = {}): ConnectorView {
    const id = seed.id ?? this.nextId;
    if (this.store.has(id)) throw new Error(`connector ${id} already exists`);
    this.nextId = Math.max(this.nextId, id + 1);
    const arn = seed.arn ?? 'arn:aws:iam::123456789012:role/seeded-qualys-connector';
    const parsed = ROLE_ARN.exec(arn);
    const partition = (parsed?.[1] ?? 'aws') as Partition;
    const now = this.env.now();
    const c: Stored = {
      id,
      uuid: seed.uuid ?? randomUUID(),
      name: seed.name ?? `seeded-connector-${id}`,
      description: seed.description ?? '',
      arn,
      externalId: seed.externalId ?? `seeded-external-id-${id}`,
      awsAccountId: parsed?.[2] ?? '',
      partition,
      qualysAwsAccountId: this.qualysAwsAccounts[partition] ?? '',
      baseAccountId: this.qualysAwsAccounts[partition] ?? '',
      disabled: seed.disabled ?? false,
      allRegions: seed.allRegions ?? true,
      runFrequencyMinutes: seed.runFrequencyMinutes ?? DEFAULT_RUN_FREQUENCY_MINUTES,
      remediationEnabled: seed.remediationEnabled ?? false,
      apps: (seed.apps ?? APP_MODULES.map((name) => ({ name, identifier: arn }))).map((a) => ({ ...a })),
      activation: [...(seed.activation ?? [])],
      isGovCloud: partition === 'aws-us-gov',
      isChinaRegion: partition === 'aws-cn',
      isPortalConnector: seed.isPortalConnector ?? false,
      createdVia: seed.createdVia ?? 'seed',
      createdAt: now,
      updatedAt: now,
      runs: [],
      totalAssets: seed.totalAssets ?? 0,
      seedState: seed.state,
    };
    this.store.set(id, c);
    if (seed.startRun) this.startRun(c, 'seed', now);
    return this.view(c);
  }

  /** Forgets every connector (a test control). */
  clearConnectors(): void {
    this.store.clear();
  }

  /**
   * Sets the control evaluations of an AWS account (replacing earlier ones); without a list,
   * the guide's sample controls (GUIDE_EVALUATIONS). Returns what the evaluations API will show.
   */
  seedEvaluations(accountId: string, controls: readonly ControlEvaluationSeed[] = GUIDE_EVALUATIONS): void {
    if (!/^\d{12}$/.test(accountId))
      throw new Error(`seedEvaluations: '${accountId}' is not a 12-digit AWS account ID`);
    const now = this.env.now();
    this.evaluations.set(
      accountId,
      controls.map((c) => {
        const resources = (c.resources ?? []).map((r) => ({
          resourceId: r.resourceId,
          region: r.region ?? 'us-east-1',
          resourceType: r.resourceType ?? 'UNKNOWN',
          result: r.result ?? 'FAIL',
          evidences: (r.evidences ?? []).map((e) => ({ ...e })),
          evaluatedOn: r.evaluatedOn ?? now,
        }));
        const failed = c.failedResources ?? resources.filter((r) => r.result === 'FAIL').length;
        const passed = c.passedResources ?? resources.filter((r) => r.result === 'PASS').length;
        return {
          controlId: c.controlId,
          controlName: c.controlName ?? `Control ${c.controlId}`,
          policyName: c.policyName ?? 'CIS Amazon Web Services Foundations Benchmark',
          criticality: c.criticality ?? 'HIGH',
          service: c.service ?? 'IAM',
          result: c.result ?? (failed > 0 ? 'FAIL' : 'PASS'),
          passedResources: passed,
          failedResources: failed,
          resources,
        };
      }),
    );
  }

  clearEvaluations(): void {
    this.evaluations.clear();
  }

  // ---- serving -------------------------------------------------------------------------------

  /** Answers a request `serves` claimed. */
  async handle(req: ConnectorRequest): Promise<Reply> {
    const api = connectorApiOf(req.path)!;
    try {
      const run = api === 'qps' ? this.qpsRoute(req) : this.cloudViewRoute(req);
      const username = this.authenticate(req, api);
      const limits = this.checkLimits(req, username);
      try {
        await this.advance();
        const reply = await run();
        return { ...reply, headers: { ...limits, ...reply.headers } };
      } catch (error) {
        if (error instanceof ApiError)
          throw new ApiError(error.status, error.message, error.code, { ...limits, ...error.headers });
        throw error;
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return api === 'qps' ? this.qpsError(req, error) : cloudViewError(req, error, this.env.now());
    }
  }

  private authenticate(req: ConnectorRequest, api: ConnectorApi): string {
    const header = headerOf(req.headers, 'authorization');
    const scheme = /^(\S+)/.exec(header ?? '')?.[1]?.toLowerCase();
    let outcome: AuthOutcome;
    if (req.host === 'api') {
      outcome =
        scheme === 'bearer'
          ? { ok: false, message: 'This host takes HTTP Basic authentication; a Bearer token is not accepted here' }
          : this.env.basic(header);
    } else {
      outcome =
        scheme === 'basic'
          ? {
              ok: false,
              message: 'The gateway takes a Bearer token from POST /auth; Basic authentication is not accepted here',
            }
          : this.env.bearer(header);
    }
    if (!outcome.ok) {
      throw new ApiError(
        401,
        outcome.message,
        'INVALID_CREDENTIALS',
        req.host === 'api' ? { 'WWW-Authenticate': 'Basic realm="Qualys API"' } : {},
      );
    }
    if (this.env.denied(outcome.username, api)) {
      throw new ApiError(
        403,
        `User ${outcome.username} has no permission for the ${api === 'qps' ? 'Connectors 3.0' : 'CloudView'} API`,
        'UNAUTHORIZED',
      );
    }
    return outcome.username;
  }

  /** Concurrency per endpoint, then the user's budget; the headers every later answer carries. */
  private checkLimits(req: ConnectorRequest, username: string): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.concurrencyLimit !== false) {
      const running = this.running.get(endpointKey(req.method, req.path)) ?? 1;
      headers['X-Concurrency-Limit-Limit'] = String(this.concurrencyLimit);
      headers['X-Concurrency-Limit-Running'] = String(running);
      if (running > this.concurrencyLimit) {
        throw new ApiError(
          409,
          `Concurrency limit exceeded: ${running} calls to ${req.method} ${req.path} are running; at most ${this.concurrencyLimit} are allowed at once`,
          'RATE_LIMIT_EXCEEDED',
          headers,
        );
      }
    }
    if (this.rateLimit !== false) {
      const { limit, windowMs } = this.rateLimit;
      const now = this.env.now();
      const hits = (this.hits.get(username) ?? []).filter((t) => t > now - windowMs);
      this.hits.set(username, hits);
      const windowSec = String(Math.max(1, Math.ceil(windowMs / 1000)));
      headers['X-RateLimit-Limit'] = String(limit);
      headers['X-RateLimit-Window-Sec'] = windowSec;
      if (hits.length >= limit) {
        const wait = Math.max(1, Math.ceil((hits[0] + windowMs - now) / 1000));
        throw new ApiError(
          409,
          `API rate limit exceeded: ${limit} calls per ${windowSec} seconds; retry after ${wait} seconds`,
          'RATE_LIMIT_EXCEEDED',
          { ...headers, 'X-RateLimit-Remaining': '0', 'X-RateLimit-ToWait-Sec': String(wait) },
        );
      }
      hits.push(now);
      headers['X-RateLimit-Remaining'] = String(limit - hits.length);
    }
    return headers;
  }

  // ---- runs ------------------------------------------------------------------------------------

  private startRun(c: Stored, trigger: ConnectorRun['trigger'], at: number): ConnectorRun {
    const startsAt = at + this.runTiming.queuedMs;
    const run: ConnectorRun = {
      trigger,
      requestedAt: at,
      startsAt,
      endsAt: startsAt + this.runTiming.runningMs,
      roles: c.apps.map((a) => ({ ...a })),
      externalId: c.externalId,
    };
    c.runs.push(run);
    return run;
  }

  /** Brings every connector's runs up to the clock: trust checks due, scheduled runs begun. */
  private async advance(): Promise<void> {
    for (const c of [...this.store.values()]) await this.advanceOne(c);
  }

  private async advanceOne(c: Stored): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const now = this.env.now();
      const run = c.runs.at(-1);
      if (!run) return;
      if (!run.outcome) {
        if (now < run.startsAt) return;
        c.evaluating ??= this.evaluate(c, run).finally(() => {
          c.evaluating = undefined;
        });
        await c.evaluating;
        continue;
      }
      if (now < run.endsAt || c.disabled) return;
      const period = c.runFrequencyMinutes * 60_000;
      let next = run.endsAt + period;
      if (now < next) return;
      // Runs whose slots passed unobserved are skipped: only the latest due one is made.
      if (now - next >= period) next += Math.floor((now - next) / period) * period;
      this.startRun(c, 'schedule', next);
    }
  }

  private async evaluate(c: Stored, run: ConnectorRun): Promise<void> {
    const checker = this.trustChecker ?? this.env.trustChecker();
    const errors: ConnectorError[] = [];
    const verdicts = new Map<string, { ok: boolean; reason?: string }>();
    for (const app of run.roles) {
      let verdict = verdicts.get(app.identifier);
      if (!verdict) {
        verdict = await checker(app.identifier, run.externalId, run.startsAt);
        verdicts.set(app.identifier, verdict);
      }
      if (!verdict.ok) {
        errors.push({
          id: this.nextErrorId++,
          module: app.name,
          roleArn: app.identifier,
          message: `Unable to assume role ${app.identifier} with the external ID of connector '${c.name}': ${verdict.reason ?? 'access denied'}`,
          at: run.startsAt,
        });
      }
    }
    run.outcome = { ok: errors.length === 0, errors };
    if (run.outcome.ok) c.totalAssets = this.assetsPerRun;
  }

  private stateOf(c: Stored, now: number): ConnectorState {
    const short = this.current.states === 'short';
    if (c.disabled) return 'DISABLED';
    const run = c.runs.at(-1);
    if (!run) return c.seedState ?? (short ? 'PENDING' : 'QUEUED');
    if (now < run.startsAt) return short ? 'PENDING' : 'QUEUED';
    if (now < run.endsAt || !run.outcome) {
      if (short) return 'RUNNING';
      return now < run.startsAt + (run.endsAt - run.startsAt) / 2 ? 'RUNNING' : 'PROCESSING';
    }
    if (run.outcome.ok) return short ? 'SUCCESS' : 'FINISHED_SUCCESS';
    return short ? 'ERROR' : 'FINISHED_ERRORS';
  }

  private busy(c: Stored, now: number): boolean {
    const run = c.runs.at(-1);
    return run !== undefined && (now < run.endsAt || !run.outcome);
  }

  private lastFinished(c: Stored, now: number): ConnectorRun | undefined {
    return [...c.runs].reverse().find((r) => r.outcome && r.endsAt <= now);
  }

  private view(c: Stored): ConnectorView {
    const now = this.env.now();
    const { seedState: _seedState, evaluating: _evaluating, ...rest } = c;
    const finished = this.lastFinished(c, now);
    const last = c.runs.at(-1);
    return structuredClone({
      ...rest,
      state: this.stateOf(c, now),
      errors: finished?.outcome?.errors ?? [],
      lastSyncedOn: finished?.endsAt,
      nextSyncedOn: last && !c.disabled ? last.endsAt + c.runFrequencyMinutes * 60_000 : undefined,
    });
  }

  private find(idOrUuid: number | string): Stored | undefined {
    if (typeof idOrUuid === 'number') return this.store.get(idOrUuid);
    return [...this.store.values()].find((c) => c.uuid === idOrUuid.toLowerCase());
  }

  // ---- shared validation -----------------------------------------------------------------------

  /** Partition, account and Qualys account of a role ARN, or the problem with it. */
  private roleFacts(
    arn: string,
  ): { partition: Partition; awsAccountId: string; qualysAwsAccountId: string } | { problem: string } {
    const m = ROLE_ARN.exec(arn);
    if (!m)
      return { problem: `arn '${arn}' is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/<name>)` };
    const partition = m[1] as Partition;
    const qualys = this.qualysAwsAccounts[partition];
    if (!qualys)
      return {
        problem: `arn '${arn}' is in partition ${partition}, for which this subscription has no Qualys AWS account`,
      };
    return { partition, awsAccountId: m[2], qualysAwsAccountId: qualys };
  }

  /** Refuses a connector the dialect's uniqueness forbids beside the others. */
  private assertUnique(name: string, awsAccountId: string, exceptId?: number): void {
    const rule = this.current.uniqueness;
    for (const other of this.store.values()) {
      if (other.id === exceptId) continue;
      if ((rule === 'account' || rule === 'account-or-name') && other.awsAccountId === awsAccountId)
        throw new ApiError(
          400,
          `A connector for AWS account ${awsAccountId} already exists (id ${other.id}, '${other.name}'); only one connector per AWS account is allowed`,
        );
      if ((rule === 'name' || rule === 'account-or-name') && other.name === name)
        throw new ApiError(400, `A connector named '${name}' already exists (id ${other.id})`);
    }
  }

  /** Makes a connector from checked fields (create on either API). */
  private create(fields: ConnectorFields, via: ConnectorApi): Stored {
    const facts = this.roleFacts(fields.arn!);
    if ('problem' in facts) throw new ApiError(400, facts.problem);
    this.assertUnique(fields.name!, facts.awsAccountId);
    const now = this.env.now();
    const id = this.nextId++;
    const c: Stored = {
      id,
      uuid: randomUUID(),
      name: fields.name!,
      description: fields.description ?? '',
      arn: fields.arn!,
      externalId: fields.externalId!,
      ...facts,
      baseAccountId: facts.qualysAwsAccountId,
      disabled: fields.disabled ?? false,
      allRegions: fields.allRegions ?? true,
      runFrequencyMinutes: fields.runFrequencyMinutes ?? DEFAULT_RUN_FREQUENCY_MINUTES,
      remediationEnabled: fields.remediationEnabled ?? false,
      // A QPS connector without connectorAppInfos runs asset inventory only; a CloudView
      // connector is a CloudView (CSPM) connector, all three apps (guess; no source says).
      apps:
        fields.apps ??
        (via === 'qps'
          ? [{ name: 'AI', identifier: fields.arn! }]
          : APP_MODULES.map((name) => ({ name, identifier: fields.arn! }))),
      activation: fields.activation ?? [],
      isGovCloud: facts.partition === 'aws-us-gov',
      isChinaRegion: facts.partition === 'aws-cn',
      isPortalConnector: fields.isPortalConnector ?? false,
      createdVia: via,
      createdAt: now,
      updatedAt: now,
      runs: [],
      totalAssets: 0,
    };
    this.store.set(id, c);
    // "Upon setting up the AWS connector, it starts discovering" (guide l.150).
    if (!c.disabled) this.startRun(c, 'create', now);
    return c;
  }

  /** Applies checked fields to a connector (update on either API). */
  private change(c: Stored, fields: ConnectorFields): void {
    const arn = fields.arn ?? c.arn;
    const facts = this.roleFacts(arn);
    if ('problem' in facts) throw new ApiError(400, facts.problem);
    this.assertUnique(fields.name ?? c.name, facts.awsAccountId, c.id);
    const { qualysAccountId: _q, apps, ...rest } = fields;
    const oldArn = c.arn;
    Object.assign(c, rest, facts, { baseAccountId: facts.qualysAwsAccountId, updatedAt: this.env.now() });
    c.isGovCloud = facts.partition === 'aws-us-gov';
    c.isChinaRegion = facts.partition === 'aws-cn';
    // Apps that used the connector's role follow it to a new one (guess; no source says).
    if (apps) c.apps = apps;
    else c.apps = c.apps.map((a) => (a.identifier === oldArn ? { ...a, identifier: arn } : a));
  }

  /** Asks for a run now; refused for a disabled connector, and while busy under `runWhileBusy: 'refuse'`. */
  private requestRun(c: Stored): void {
    const now = this.env.now();
    if (c.disabled) throw new ApiError(400, `Connector ${c.id} ('${c.name}') is disabled; enable it before running it`);
    if (this.busy(c, now)) {
      if (this.current.runWhileBusy === 'refuse')
        throw new ApiError(
          400,
          `Connector ${c.id} ('${c.name}') is already ${this.stateOf(c, now)}; wait until its run ends`,
        );
      return;
    }
    this.startRun(c, 'run', now);
  }

  // ---- Connectors 3.0 (QPS) ------------------------------------------------------------------

  private qpsRoute(req: ConnectorRequest): () => Promise<Reply> | Reply {
    const m =
      /^\/qps\/rest\/(3\.0|2\.0)\/(create|search|update|delete|run|get)\/am\/(awsassetdataconnector|assetdataconnectorerrors)(?:\/([^/]+))?$/.exec(
        req.path,
      );
    if (!m) throw notFound(req);
    const [, version, op, object, id] = m;
    const runVersions = { v3: ['3.0'], v2: ['2.0'], both: ['3.0', '2.0'] }[this.current.qpsRun];
    const shape =
      object === 'assetdataconnectorerrors'
        ? op === 'search' && id === undefined && version === '3.0'
          ? 'errors'
          : undefined
        : op === 'run'
          ? runVersions.includes(version) && id !== undefined
            ? 'run'
            : undefined
          : version === '3.0' && (op === 'create' || op === 'search') === (id === undefined)
            ? op
            : undefined;
    if (!shape) throw notFound(req);
    const method = shape === 'get' ? 'GET' : 'POST';
    if (req.method !== method)
      throw new ApiError(405, `Request method '${req.method}' is not supported for ${req.path}`, 'METHOD_NOT_ALLOWED', {
        Allow: method,
      });
    const body = () => qpsBody(req, shape === 'create' || shape === 'update');
    switch (shape) {
      case 'create':
        return () => this.qpsCreate(req, body());
      case 'search':
        return () => this.qpsSearch(req, body());
      case 'get':
        return () =>
          this.qpsAnswer(req, { count: 1, data: [{ AwsAssetDataConnector: this.qpsConnector(this.qpsFound(id!)) }] });
      case 'update':
        return () => this.qpsUpdate(req, this.qpsFound(id!), body());
      case 'delete':
        return () => {
          this.serviceRequest(body(), []);
          const c = this.qpsFound(id!);
          this.store.delete(c.id);
          return this.qpsAnswer(req, { count: 1, data: [{ AwsAssetDataConnector: { id: c.id } }] });
        };
      case 'run':
        return async () => {
          this.serviceRequest(body(), []);
          const c = this.qpsFound(id!);
          this.requestRun(c);
          await this.advance();
          return this.qpsAnswer(req, {
            count: 1,
            data: [{ AwsAssetDataConnector: { id: c.id, connectorState: this.stateOf(c, this.env.now()) } }],
          });
        };
      default:
        return () => this.qpsErrors(req, body());
    }
  }

  private qpsFound(idText: string): Stored {
    if (!/^\d{1,18}$/.test(idText)) throw new ApiError(400, `Invalid connector id '${idText}': it must be a number`);
    const c = this.store.get(Number(idText));
    if (!c) throw new ApiError(404, `AwsAssetDataConnector with id ${idText} not found`, 'OBJECT_NOT_FOUND');
    return c;
  }

  private async qpsCreate(req: ConnectorRequest, body: Record<string, unknown> | undefined): Promise<Reply> {
    const fields = this.qpsFields(this.qpsData(body, true)!, 'create');
    const c = this.create(fields, 'qps');
    await this.advance();
    return this.qpsAnswer(req, { count: 1, data: [{ AwsAssetDataConnector: this.qpsConnector(c) }] });
  }

  private qpsUpdate(req: ConnectorRequest, c: Stored, body: Record<string, unknown> | undefined): Reply {
    const fields = this.qpsFields(this.qpsData(body, true)!, 'update');
    this.change(c, fields);
    // "answers the id only" (ref §2).
    return this.qpsAnswer(req, { count: 1, data: [{ AwsAssetDataConnector: { id: c.id } }] });
  }

  /** `ServiceRequest.data.AwsAssetDataConnector`, with the envelope's own keys checked. */
  private qpsData(body: Record<string, unknown> | undefined, required: boolean): Record<string, unknown> | undefined {
    const sr = this.serviceRequest(body, ['data']);
    const data = sr?.data;
    if (data === undefined) {
      if (required) throw new ApiError(400, 'ServiceRequest.data.AwsAssetDataConnector is required');
      return undefined;
    }
    if (!isObject(data)) throw new ApiError(400, 'ServiceRequest.data must be an object holding AwsAssetDataConnector');
    this.unknown(data, ['AwsAssetDataConnector'], 'ServiceRequest.data');
    const connector = data.AwsAssetDataConnector;
    if (!isObject(connector)) throw new ApiError(400, 'ServiceRequest.data.AwsAssetDataConnector must be an object');
    return connector;
  }

  private serviceRequest(
    body: Record<string, unknown> | undefined,
    allowed: string[],
  ): Record<string, unknown> | undefined {
    if (body === undefined) return undefined;
    this.unknown(body, ['ServiceRequest'], 'the request body');
    const sr = body.ServiceRequest;
    if (sr === undefined) return undefined;
    if (!isObject(sr)) throw new ApiError(400, 'ServiceRequest must be an object');
    this.unknown(sr, allowed, 'ServiceRequest');
    return sr;
  }

  /** Throws (under `unknownFields: 'reject'`) when `obj` has keys outside `allowed`. */
  private unknown(obj: Record<string, unknown>, allowed: readonly string[], where: string, problems?: string[]): void {
    const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
    if (extra.length === 0 || this.current.unknownFields === 'ignore') return;
    const message = `unrecognized field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')} in ${where}`;
    if (problems) problems.push(message);
    else throw new ApiError(400, `Invalid request: ${message}`);
  }

  private qpsFields(obj: Record<string, unknown>, mode: 'create' | 'update'): ConnectorFields {
    const problems: string[] = [];
    const allowed = [
      'name',
      'description',
      'arn',
      'externalId',
      'disabled',
      'allRegions',
      'runFrequency',
      'isRemediationEnabled',
      'activation',
      'connectorAppInfos',
    ];
    this.unknown(obj, allowed, 'AwsAssetDataConnector', problems);
    const out: ConnectorFields = {};
    if (mode === 'create')
      for (const f of ['name', 'arn', 'externalId']) if (obj[f] === undefined) problems.push(`${f} is required`);
    commonField(obj, 'name', problems, out);
    commonField(obj, 'description', problems, out);
    commonField(obj, 'arn', problems, out);
    commonField(obj, 'externalId', problems, out);
    for (const [key, target] of [
      ['disabled', 'disabled'],
      ['allRegions', 'allRegions'],
      ['isRemediationEnabled', 'remediationEnabled'],
    ] as const) {
      const v = obj[key];
      if (v === undefined) continue;
      if (typeof v !== 'boolean') problems.push(`${key} must be a boolean (got ${JSON.stringify(v)})`);
      else out[target] = v;
    }
    if (obj.runFrequency !== undefined) {
      const v = obj.runFrequency;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
        problems.push(`runFrequency must be a whole number of minutes (got ${JSON.stringify(v)})`);
      else out.runFrequencyMinutes = v;
    }
    if (obj.activation !== undefined) {
      const modules = this.qpsSet(obj.activation, 'activation', 'ActivationModule', problems);
      if (modules) {
        const bad = modules.filter((m) => !(ACTIVATION_MODULES as readonly unknown[]).includes(m));
        if (bad.length > 0)
          problems.push(
            `activation.set.ActivationModule takes ${ACTIVATION_MODULES.join(', ')} (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
          );
        else out.activation = [...new Set(modules as ActivationModule[])];
      }
    }
    if (obj.connectorAppInfos !== undefined) {
      const qlists = this.qpsSet(obj.connectorAppInfos, 'connectorAppInfos', 'ConnectorAppInfoQList', problems);
      const apps: ConnectorApp[] = [];
      for (const [i, qlist] of (qlists ?? []).entries()) {
        const infos = this.qpsSet(qlist, `ConnectorAppInfoQList[${i}]`, 'ConnectorAppInfo', problems);
        for (const [j, info] of (infos ?? []).entries()) {
          const where = `ConnectorAppInfoQList[${i}].ConnectorAppInfo[${j}]`;
          if (!isObject(info)) {
            problems.push(`${where} must be an object with name and identifier`);
            continue;
          }
          this.unknown(info, ['name', 'identifier'], where, problems);
          if (typeof info.name !== 'string' || !(APP_MODULES as readonly string[]).includes(info.name))
            problems.push(`${where}.name must be one of ${APP_MODULES.join(', ')} (got ${JSON.stringify(info.name)})`);
          else if (typeof info.identifier !== 'string' || !ROLE_ARN.test(info.identifier))
            problems.push(`${where}.identifier must be an IAM role ARN (got ${JSON.stringify(info.identifier)})`);
          else if (apps.some((a) => a.name === info.name)) problems.push(`${where}: app ${info.name} is listed twice`);
          else apps.push({ name: info.name as AppModule, identifier: info.identifier });
        }
      }
      if (qlists && apps.length === 0 && problems.length === 0)
        problems.push('connectorAppInfos must list at least one ConnectorAppInfo');
      if (apps.length > 0) out.apps = apps;
    }
    if (problems.length > 0) throw new ApiError(400, `Invalid request: ${problems.join('; ')}`);
    return out;
  }

  /**
   * A request collection: `{set: {<item>: [...]}}` (ref §2: "Requests wrap collections in
   * `set`"); a single item stands for a list of one. A `list` wrapper (the answers' form) is
   * an unknown field.
   */
  private qpsSet(value: unknown, where: string, item: string, problems: string[]): unknown[] | undefined {
    if (!isObject(value)) {
      problems.push(`${where} must be {"set": {"${item}": [...]}}`);
      return undefined;
    }
    this.unknown(value, ['set'], where, problems);
    const set = value.set;
    if (set === undefined) {
      if (this.current.unknownFields === 'reject' || Object.keys(value).length === 0)
        problems.push(`${where} must be {"set": {"${item}": [...]}}`);
      return undefined;
    }
    if (!isObject(set)) {
      problems.push(`${where}.set must be an object holding ${item}`);
      return undefined;
    }
    this.unknown(set, [item], `${where}.set`, problems);
    const items = set[item];
    if (items === undefined) {
      problems.push(`${where}.set.${item} is required`);
      return undefined;
    }
    return Array.isArray(items) ? items : [items];
  }

  private qpsSearch(req: ConnectorRequest, body: Record<string, unknown> | undefined): Reply {
    const sr = this.serviceRequest(body, ['filters', 'preferences']);
    const criteria = this.qpsCriteria(sr, {
      id: ['EQUALS', 'IN', 'GREATER', 'LESSER'],
      name: ['EQUALS', 'CONTAINS'],
      awsAccountId: ['EQUALS', 'IN'],
    });
    const matches = [...this.store.values()]
      .sort((a, b) => a.id - b.id)
      .filter((c) =>
        criteria.every(({ field, operator, values }) => {
          const actual = field === 'id' ? String(c.id) : field === 'name' ? c.name : c.awsAccountId;
          return criterionHolds(actual, operator, values, field === 'id');
        }),
      );
    return this.qpsPage(
      req,
      sr,
      matches,
      (c) => ({ AwsAssetDataConnector: this.qpsConnector(c) }),
      (c) => c.id,
    );
  }

  private qpsErrors(req: ConnectorRequest, body: Record<string, unknown> | undefined): Reply {
    const sr = this.serviceRequest(body, ['filters', 'preferences']);
    const field = this.current.qpsErrorsCriterion;
    const criteria = this.qpsCriteria(sr, { [field]: ['EQUALS', 'IN'], id: ['EQUALS', 'GREATER'] });
    const now = this.env.now();
    const errors = [...this.store.values()]
      .sort((a, b) => a.id - b.id)
      .flatMap((c) => (this.lastFinished(c, now)?.outcome?.errors ?? []).map((e) => ({ c, e })))
      .filter(({ c, e }) =>
        criteria.every(({ field: f, operator, values }) =>
          criterionHolds(f === 'id' ? String(e.id) : String(c.id), operator, values, true),
        ),
      );
    // The error object's name and fields: guess (no source shows them).
    return this.qpsPage(
      req,
      sr,
      errors,
      ({ c, e }) => ({
        AssetDataConnectorError: {
          id: e.id,
          connectorId: c.id,
          module: e.module,
          errorMessage: e.message,
          occurredOn: qpsTime(e.at),
        },
      }),
      ({ e }) => e.id,
    );
  }

  private qpsCriteria(
    sr: Record<string, unknown> | undefined,
    fields: Record<string, readonly string[]>,
  ): Array<{ field: string; operator: string; values: string[] }> {
    const filters = sr?.filters;
    if (filters === undefined) return [];
    if (!isObject(filters)) throw new ApiError(400, 'ServiceRequest.filters must be {"Criteria": [...]}');
    this.unknown(filters, ['Criteria'], 'ServiceRequest.filters');
    const raw = filters.Criteria;
    if (raw === undefined) return [];
    const list = Array.isArray(raw) ? raw : [raw];
    const problems: string[] = [];
    const out: Array<{ field: string; operator: string; values: string[] }> = [];
    for (const [i, c] of list.entries()) {
      const where = `Criteria[${i}]`;
      if (!isObject(c)) {
        problems.push(`${where} must be {"field", "operator", "value"}`);
        continue;
      }
      this.unknown(c, ['field', 'operator', 'value'], where, problems);
      const { field, operator, value } = c;
      if (typeof field !== 'string' || !Object.hasOwn(fields, field)) {
        problems.push(
          `${where}.field ${JSON.stringify(field)} is not searchable (fields: ${Object.keys(fields).join(', ')})`,
        );
        continue;
      }
      if (typeof operator !== 'string' || !fields[field].includes(operator)) {
        problems.push(
          `${where}: operator ${JSON.stringify(operator)} is not supported for ${field} (${fields[field].join(', ')})`,
        );
        continue;
      }
      if (typeof value !== 'string' || value.length === 0) {
        problems.push(`${where}.value must be a non-empty string (got ${JSON.stringify(value)})`);
        continue;
      }
      out.push({ field, operator, values: operator === 'IN' ? value.split(',').map((v) => v.trim()) : [value] });
    }
    if (problems.length > 0) throw new ApiError(400, `Invalid request: ${problems.join('; ')}`);
    return out;
  }

  /** One page of a QPS search: `preferences.limitResults`, `startFromOffset` (1-based) or `startFromId`. */
  private qpsPage<T>(
    req: ConnectorRequest,
    sr: Record<string, unknown> | undefined,
    items: T[],
    render: (item: T) => Record<string, unknown>,
    idOf: (item: T) => number,
  ): Reply {
    const prefs = sr?.preferences;
    let limit = QPS_DEFAULT_LIMIT;
    let from = items;
    if (prefs !== undefined) {
      if (!isObject(prefs)) throw new ApiError(400, 'ServiceRequest.preferences must be an object');
      const problems: string[] = [];
      this.unknown(prefs, ['limitResults', 'startFromOffset', 'startFromId'], 'ServiceRequest.preferences', problems);
      const int = (key: string, min: number, max: number): number | undefined => {
        const v = prefs[key];
        if (v === undefined) return undefined;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
          problems.push(`preferences.${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
          return undefined;
        }
        return v;
      };
      limit = int('limitResults', 1, QPS_MAX_LIMIT) ?? limit;
      const offset = int('startFromOffset', 1, Number.MAX_SAFE_INTEGER);
      const fromId = int('startFromId', 1, Number.MAX_SAFE_INTEGER);
      if (offset !== undefined && fromId !== undefined)
        problems.push('preferences: give startFromOffset or startFromId, not both');
      if (problems.length > 0) throw new ApiError(400, `Invalid request: ${problems.join('; ')}`);
      if (offset !== undefined) from = items.slice(offset - 1);
      if (fromId !== undefined) from = items.filter((i) => idOf(i) >= fromId);
    }
    const page = from.slice(0, limit);
    const more = from.length > page.length;
    const answer: Record<string, unknown> = { count: page.length, hasMoreRecords: more };
    if (more) answer.lastId = idOf(page[page.length - 1]);
    if (page.length > 0 || this.current.qpsEmptyData === 'empty-array') answer.data = page.map(render);
    return this.qpsAnswer(req, answer);
  }

  /** A connector as QPS shows it (ref §2); `lastSync`, `nextSync` and `lastError` are guesses. */
  private qpsConnector(c: Stored): Record<string, unknown> {
    const now = this.env.now();
    const view = this.view(c);
    const out: Record<string, unknown> = {
      id: c.id,
      name: c.name,
      description: c.description,
      arn: c.arn,
      externalId: c.externalId,
      awsAccountId: c.awsAccountId,
      qualysAwsAccountId: c.qualysAwsAccountId,
      cloudviewUuid: c.uuid,
      connectorState: this.stateOf(c, now),
      disabled: c.disabled,
      allRegions: c.allRegions,
      runFrequency: c.runFrequencyMinutes,
      isRemediationEnabled: c.remediationEnabled,
      activation: { list: { ActivationModule: [...c.activation] } },
      connectorAppInfos: {
        list: {
          ConnectorAppInfoQList: [
            { list: { ConnectorAppInfo: c.apps.map((a) => ({ name: a.name, identifier: a.identifier })) } },
          ],
        },
      },
    };
    if (view.lastSyncedOn !== undefined) out.lastSync = qpsTime(view.lastSyncedOn);
    if (view.nextSyncedOn !== undefined) out.nextSync = qpsTime(view.nextSyncedOn);
    if (view.errors.length > 0) out.lastError = view.errors[0].message;
    return out;
  }

  /** A SUCCESS ServiceResponse, in the format the Accept header and `qpsDefaultFormat` choose. */
  private qpsAnswer(req: ConnectorRequest, fields: Record<string, unknown>, status = 200): Reply {
    return this.qpsReply(req, status, { responseCode: 'SUCCESS', ...fields });
  }

  private qpsError(req: ConnectorRequest, error: ApiError): Reply {
    if (error.status === 404 && error.code === 'NOT_FOUND') return htmlError(404, error.headers);
    if (error.status === 405) return htmlError(405, error.headers);
    const bodyLevel =
      Object.hasOwn(QPS_CODES, error.code) && QPS_CODES[error.code as keyof typeof QPS_CODES] === error.status;
    const status = bodyLevel && this.current.qpsErrorStatus === '200' ? 200 : error.status;
    const reply = this.qpsReply(req, status, {
      responseCode: error.code,
      responseErrorDetails: { errorMessage: error.message },
    });
    return { ...reply, headers: { ...error.headers, ...reply.headers } };
  }

  private qpsReply(req: ConnectorRequest, status: number, response: Record<string, unknown>): Reply {
    const value = scalars(response, this.current);
    const accept = headerOf(req.headers, 'accept');
    const namesJson =
      accept !== undefined && /\bapplication\/json\b/i.test(accept) && acceptAdmits(accept, 'application/json');
    const xml =
      this.current.qpsDefaultFormat === 'xml'
        ? !namesJson
        : !acceptAdmits(accept, 'application/json') && acceptAdmits(accept, 'application/xml');
    if (xml) {
      return {
        status,
        contentType: 'application/xml',
        body: `<?xml version="1.0" encoding="UTF-8"?>\n${toXml('ServiceResponse', value)}`,
      };
    }
    return { status, contentType: 'application/json', body: JSON.stringify({ ServiceResponse: value }) };
  }

  // ---- CloudView REST --------------------------------------------------------------------------

  private cloudViewRoute(req: ConnectorRequest): () => Promise<Reply> | Reply {
    const m = /^\/cloudview-api\/rest\/([^/]+)(\/.*)$/.exec(req.path);
    const versions = { '1.5': ['1.5'], v1: ['v1'], both: ['1.5', 'v1'] }[this.current.cloudViewVersions];
    if (!m || !versions.includes(m[1])) throw notFound(req);
    const rest = m[2];
    const method = req.method;
    const allow = (...methods: string[]): void => {
      if (!methods.includes(method))
        throw new ApiError(405, `Request method '${method}' is not supported`, 'METHOD_NOT_ALLOWED', {
          Allow: methods.join(', '),
        });
    };
    this.cloudViewAccept(
      req,
      rest === '/aws/connectors/qualysAwsAccountId' && this.current.cloudViewQualysAccount === 'text',
    );
    let p: RegExpExecArray | null;
    if (rest === '/aws/connectors') {
      allow('GET', 'POST', 'DELETE');
      if (method === 'GET') return () => this.cloudViewList(req);
      if (method === 'POST') return () => this.cloudViewCreate(req);
      return () => this.cloudViewDelete(req);
    }
    if (rest === '/aws/connectors/qualysAwsAccountId') {
      allow('GET');
      return () => this.cloudViewQualysAccount();
    }
    if (rest === '/aws/connectors/run') {
      // GET /aws/connectors/run reaches /{connectorId} in Spring, whose UUID 'run' does not parse.
      if (method !== 'POST') return () => this.cloudViewConnectorRoute(req, 'run');
      return () => this.cloudViewRun(req);
    }
    if (rest === '/aws/connectors/aws/download') {
      allow('GET');
      return () => {
        throw new ApiError(501, 'The CloudFormation template download is not simulated');
      };
    }
    if ((p = /^\/aws\/connectors\/([^/]+)$/.exec(rest))) {
      allow('GET', 'PUT');
      const id = p[1];
      return () => this.cloudViewConnectorRoute(req, id);
    }
    if ((p = /^\/aws\/connectors\/([^/]+)\/errors$/.exec(rest))) {
      allow('GET');
      const id = p[1];
      return () => this.cloudViewErrors(req, id);
    }
    if ((p = /^\/aws\/evaluations\/([^/]+)$/.exec(rest))) {
      allow('GET');
      const account = p[1];
      return () => this.cloudViewEvaluations(req, account);
    }
    if ((p = /^\/aws\/evaluations\/([^/]+)\/resources\/([^/]+)$/.exec(rest))) {
      allow('GET');
      const [, account, control] = p;
      return () => this.cloudViewResources(req, account, control);
    }
    throw notFound(req);
  }

  /** Spring answers 406 when the Accept header admits nothing the endpoint produces. */
  private cloudViewAccept(req: ConnectorRequest, text: boolean): void {
    const accept = headerOf(req.headers, 'accept');
    const produces = text ? 'text/plain;charset=UTF-8' : 'application/json';
    if (!acceptAdmits(accept, produces))
      throw new ApiError(
        406,
        `Not Acceptable: this endpoint produces ${produces.split(';')[0]}, which Accept '${accept}' does not admit`,
      );
  }

  private cloudViewConnectorRoute(req: ConnectorRequest, idText: string): Reply {
    const c = this.cloudViewFound(idText);
    if (req.method === 'GET') return json(200, this.cloudViewConnector(c));
    const fields = this.cloudViewFields(
      cloudViewJson(req),
      this.current.cloudViewUpdate === 'full' ? 'replace' : 'partial',
    );
    if (this.current.cloudViewUpdate === 'full') {
      // A replacement: what the body leaves out goes back to its default.
      fields.description ??= '';
      fields.isPortalConnector ??= false;
      fields.remediationEnabled ??= false;
      fields.runFrequencyMinutes ??= DEFAULT_RUN_FREQUENCY_MINUTES;
    }
    this.change(c, fields);
    if (this.current.cloudViewWriteAnswer === 'empty') return noContent(this.current);
    return json(200, this.cloudViewConnector(c));
  }

  private cloudViewFound(idText: string): Stored {
    if (!UUID.test(idText))
      throw new ApiError(
        400,
        `Failed to convert value of type 'java.lang.String' to required type 'java.util.UUID'; Invalid UUID string: ${idText}`,
      );
    const c = this.find(idText);
    if (!c) throw new ApiError(404, `Connector with id ${idText} not found`);
    return c;
  }

  private cloudViewList(req: ConnectorRequest): Reply {
    const page = this.cloudViewPage(req.query);
    const items = [...this.store.values()]
      .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)
      .map((c) => this.cloudViewConnector(c));
    return json(200, springPage(items, page));
  }

  private async cloudViewCreate(req: ConnectorRequest): Promise<Reply> {
    const fields = this.cloudViewFields(cloudViewJson(req), 'create');
    const c = this.create(fields, 'cloudview');
    await this.advance();
    // "The response code 201 is returned when the connector is successfully created" (guide l.1009).
    if (this.current.cloudViewWriteAnswer === 'empty') return { status: 201, body: '', contentType: '' };
    return json(201, this.cloudViewConnector(c));
  }

  private cloudViewDelete(req: ConnectorRequest): Reply {
    const ids = this.cloudViewIds(req, this.current.cloudViewDeleteIds);
    const found = ids.map((id) => this.find(id));
    const missing = ids.filter((_, i) => !found[i]);
    if (missing.length > 0 && this.current.cloudViewDeleteMissing === '404')
      throw new ApiError(404, `Connector${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`);
    for (const c of found) if (c) this.store.delete(c.id);
    return noContent(this.current);
  }

  private async cloudViewRun(req: ConnectorRequest): Promise<Reply> {
    const ids = this.cloudViewIds(req, this.current.cloudViewRunIds);
    const found = ids.map((id) => this.find(id));
    const missing = ids.filter((_, i) => !found[i]);
    if (missing.length > 0)
      throw new ApiError(404, `Connector${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`);
    for (const c of found) this.requestRun(c!);
    await this.advance();
    return noContent(this.current);
  }

  /** The connector IDs of a delete or run, in the shape the dialect reads (see `cloudViewDeleteIds`). */
  private cloudViewIds(req: ConnectorRequest, shape: ConnectorDialect['cloudViewDeleteIds']): string[] {
    let ids: unknown;
    if (shape === 'comma') {
      const values = req.query.getAll('connectorIds');
      if (values.length === 0)
        throw new ApiError(
          400,
          "Required request parameter 'connectorIds' for method parameter type List is not present",
        );
      ids = values.flatMap((v) => v.split(',')).map((v) => v.trim());
    } else {
      const body = cloudViewJson(req);
      if (shape === 'array') {
        if (!Array.isArray(body))
          throw new ApiError(400, 'JSON parse error: the body must be a JSON array of connector IDs, e.g. ["<uuid>"]');
        ids = body;
      } else {
        if (!isObject(body)) throw new ApiError(400, 'JSON parse error: the body must be {"connectorIds": ["<uuid>"]}');
        this.unknown(body, ['connectorIds'], 'the request body');
        if (!Array.isArray(body.connectorIds))
          throw new ApiError(400, 'connectorIds must be an array of connector IDs');
        ids = body.connectorIds;
      }
    }
    const list = ids as unknown[];
    if (list.length === 0) throw new ApiError(400, 'At least one connector ID is required');
    const bad = list.filter((id) => typeof id !== 'string' || !UUID.test(id));
    if (bad.length > 0)
      throw new ApiError(
        400,
        `Invalid connector ID${bad.length > 1 ? 's' : ''}: ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
      );
    return [...new Set((list as string[]).map((id) => id.toLowerCase()))];
  }

  private cloudViewQualysAccount(): Reply {
    const account = this.qualysAwsAccounts.aws ?? Object.values(this.qualysAwsAccounts)[0] ?? '';
    switch (this.current.cloudViewQualysAccount) {
      case 'text':
        return { status: 200, body: account, contentType: 'text/plain;charset=UTF-8' };
      case 'json-string':
        return json(200, account);
      default:
        return json(200, { qualysAwsAccountId: account });
    }
  }

  private cloudViewErrors(req: ConnectorRequest, idText: string): Reply {
    const c = this.cloudViewFound(idText);
    const page = this.cloudViewPage(req.query);
    const errors = this.lastFinished(c, this.env.now())?.outcome?.errors ?? [];
    // The error object's fields: guess (no source shows them).
    return json(
      200,
      springPage(
        errors.map((e) => ({ errorMessage: e.message, module: e.module, occurredOn: cloudViewTime(e.at) })),
        page,
      ),
    );
  }

  private accountEvaluations(accountText: string): StoredEvaluation[] | undefined {
    if (!/^\d{12}$/.test(accountText))
      throw new ApiError(400, `Invalid AWS account ID '${accountText}': it must be 12 digits`);
    const seeded = this.evaluations.get(accountText);
    if (seeded) return seeded;
    const known = [...this.store.values()].some((c) => c.awsAccountId === accountText);
    if (known || this.current.evaluationsUnknown === 'empty') return [];
    return undefined;
  }

  private cloudViewEvaluations(req: ConnectorRequest, accountText: string): Reply {
    const page = this.cloudViewPage(req.query);
    const filter = req.query.getAll('filter');
    let result: 'PASS' | 'FAIL' | undefined;
    if (filter.length > 1) throw new ApiError(400, 'filter must be given once');
    if (filter.length === 1) {
      // The guide's form: filter=control.result:FAIL or PASS (guide l.869-875).
      const f = /^control\.result:(PASS|FAIL)$/.exec(filter[0]);
      if (!f)
        throw new ApiError(400, `Unsupported filter '${filter[0]}': use control.result:FAIL or control.result:PASS`);
      result = f[1] as 'PASS' | 'FAIL';
    }
    const evaluations = this.accountEvaluations(accountText);
    if (!evaluations) throw new ApiError(404, `No evaluations found for AWS account ${accountText}`);
    // Keys in the order of the guide's sample (guide l.824-848).
    const content = evaluations
      .filter((e) => result === undefined || e.result === result)
      .map((e) => ({
        controlName: e.controlName,
        policyName: e.policyName,
        criticality: e.criticality,
        service: e.service,
        result: e.result,
        controlId: e.controlId,
        passedResources: e.passedResources,
        failedResources: e.failedResources,
      }));
    return json(200, springPage(content, page));
  }

  private cloudViewResources(req: ConnectorRequest, accountText: string, controlId: string): Reply {
    const page = this.cloudViewPage(req.query);
    const evaluations = this.accountEvaluations(accountText);
    const control = evaluations?.find((e) => e.controlId === controlId);
    if (!control && (!evaluations || this.current.evaluationsUnknown === '404'))
      throw new ApiError(404, `No evaluation of control ${controlId} found for AWS account ${accountText}`);
    // Keys in the order of the guide's sample (guide l.940-979).
    const content = (control?.resources ?? []).map((r) => ({
      resourceId: r.resourceId,
      region: r.region,
      accountId: accountText,
      evaluatedOn: cloudViewTime(r.evaluatedOn),
      evidences: r.evidences.map((e) => ({ ...e })),
      resourceType: r.resourceType,
      result: r.result,
    }));
    return json(200, springPage(content, page));
  }

  /** `pageNo` and `pageSize` (guide l.810-818), checked; `number` is the 0-based page. */
  private cloudViewPage(query: URLSearchParams): { number: number; size: number } {
    const { cloudViewPageBase: base, cloudViewPageNo } = this.current;
    const problems: string[] = [];
    const read = (name: string, min: number, max: number): number | undefined => {
      const values = query.getAll(name);
      if (values.length === 0) return undefined;
      if (values.length > 1 || !/^\d{1,9}$/.test(values[0]) || Number(values[0]) < min || Number(values[0]) > max) {
        problems.push(`${name} must be one integer from ${min} to ${max} (got '${values.join("', '")}')`);
        return undefined;
      }
      return Number(values[0]);
    };
    const pageNo = read('pageNo', base, 999_999_999);
    const size = read('pageSize', 1, MAX_PAGE_SIZE);
    if (pageNo === undefined && cloudViewPageNo === 'required' && query.getAll('pageNo').length === 0)
      problems.push("Required request parameter 'pageNo' for method parameter type Integer is not present");
    if (problems.length > 0) throw new ApiError(400, problems.join('; '));
    return { number: (pageNo ?? base) - base, size: size ?? CLOUDVIEW_DEFAULT_PAGE_SIZE };
  }

  /** A connector as CloudView shows it: the Swagger's request and response fields (ref §1). */
  private cloudViewConnector(c: Stored): Record<string, unknown> {
    const view = this.view(c);
    return {
      connectorId: c.uuid,
      name: c.name,
      description: c.description,
      ...(this.current.cloudViewArn === 'shown' ? { arn: c.arn } : {}),
      ...(this.current.cloudViewExternalId === 'shown' ? { externalId: c.externalId } : {}),
      awsAccountId: c.awsAccountId,
      baseAccountId: c.baseAccountId,
      state: view.state,
      lastSyncedOn: view.lastSyncedOn === undefined ? null : cloudViewTime(view.lastSyncedOn),
      nextSyncedOn: view.nextSyncedOn === undefined ? null : cloudViewTime(view.nextSyncedOn),
      error: view.errors[0]?.message ?? null,
      totalAssets: c.totalAssets,
      isGovCloud: c.isGovCloud,
      isChinaRegion: c.isChinaRegion,
      isPortalConnector: c.isPortalConnector,
      pollingFrequency: { hours: Math.floor(c.runFrequencyMinutes / 60), minutes: c.runFrequencyMinutes % 60 },
      remediationEnabled: c.remediationEnabled,
    };
  }

  /**
   * A CloudView create or update body: the guide's fields (arn, description, externalId,
   * name, qualysAccountId; guide l.989-995) and the Swagger's (isGovCloud, isChinaRegion,
   * isPortalConnector, pollingFrequency {hours, minutes}, remediationEnabled; ref §1).
   */
  private cloudViewFields(body: unknown, mode: 'create' | 'replace' | 'partial'): ConnectorFields {
    if (!isObject(body)) throw new ApiError(400, 'JSON parse error: the request body must be a JSON object');
    const problems: string[] = [];
    const allowed = [
      'name',
      'description',
      'arn',
      'externalId',
      'qualysAccountId',
      'isGovCloud',
      'isChinaRegion',
      'isPortalConnector',
      'pollingFrequency',
      'remediationEnabled',
    ];
    this.unknown(body, allowed, 'the request body', problems);
    if (mode !== 'partial')
      for (const f of ['name', 'arn', 'externalId'])
        if (body[f] === undefined || body[f] === null) problems.push(`${f} is required`);
    const out: ConnectorFields = {};
    commonField(body, 'name', problems, out);
    commonField(body, 'description', problems, out);
    commonField(body, 'arn', problems, out);
    commonField(body, 'externalId', problems, out);
    for (const key of ['isGovCloud', 'isChinaRegion', 'isPortalConnector', 'remediationEnabled'] as const) {
      const v = body[key];
      if (v === undefined) continue;
      if (typeof v !== 'boolean') problems.push(`${key} must be a boolean (got ${JSON.stringify(v)})`);
      else out[key] = v;
    }
    if (body.pollingFrequency !== undefined) {
      const pf = body.pollingFrequency;
      if (!isObject(pf)) problems.push('pollingFrequency must be {"hours": <n>, "minutes": <n>}');
      else {
        this.unknown(pf, ['hours', 'minutes'], 'pollingFrequency', problems);
        const hours = pf.hours ?? 0;
        const minutes = pf.minutes ?? 0;
        if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 0)
          problems.push(`pollingFrequency.hours must be a whole number (got ${JSON.stringify(hours)})`);
        else if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 0 || minutes > 59)
          problems.push(
            `pollingFrequency.minutes must be a whole number from 0 to 59 (got ${JSON.stringify(minutes)})`,
          );
        else if (hours * 60 + minutes < 1) problems.push('pollingFrequency must be at least one minute');
        else out.runFrequencyMinutes = hours * 60 + minutes;
      }
    }
    const arn = out.arn;
    const facts = arn ? this.roleFacts(arn) : undefined;
    if (body.qualysAccountId !== undefined) {
      const q = body.qualysAccountId;
      const expected = facts && !('problem' in facts) ? facts.qualysAwsAccountId : this.qualysAwsAccounts.aws;
      if (typeof q !== 'string' || !/^\d{12}$/.test(q))
        problems.push(`qualysAccountId must be a 12-digit AWS account ID string (got ${JSON.stringify(q)})`);
      // Guess: a Qualys account that is not Qualys's is refused (no source says).
      else if (expected !== undefined && q !== expected)
        problems.push(
          `qualysAccountId ${q} is not the Qualys AWS account of this platform (${expected}; see GET /aws/connectors/qualysAwsAccountId)`,
        );
    }
    // Guess: the partition flags must agree with the role ARN (no source says).
    if (facts && !('problem' in facts)) {
      if (out.isGovCloud !== undefined && out.isGovCloud !== (facts.partition === 'aws-us-gov'))
        problems.push(`isGovCloud is ${out.isGovCloud} but arn is in partition ${facts.partition}`);
      if (out.isChinaRegion !== undefined && out.isChinaRegion !== (facts.partition === 'aws-cn'))
        problems.push(`isChinaRegion is ${out.isChinaRegion} but arn is in partition ${facts.partition}`);
    }
    if (problems.length > 0) throw new ApiError(400, `Validation failed: ${problems.join('; ')}`);
    delete out.isGovCloud;
    delete out.isChinaRegion;
    return out;
  }
}

// ---- shared field checks ---------------------------------------------------------------------

/** name, description, arn and externalId, the same on both APIs (brief; ref §1-3). */
function commonField(
  obj: Record<string, unknown>,
  key: 'name' | 'description' | 'arn' | 'externalId',
  problems: string[],
  out: ConnectorFields,
): void {
  const v = obj[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'string') {
    problems.push(`${key} must be a string (got ${JSON.stringify(v)})`);
    return;
  }
  switch (key) {
    case 'name':
      if (v.trim().length === 0 || v.length > MAX_NAME)
        return void problems.push(`name must be 1 to ${MAX_NAME} characters long`);
      break;
    case 'description':
      if (v.length > MAX_DESCRIPTION)
        return void problems.push(`description must be at most ${MAX_DESCRIPTION} characters long`);
      break;
    case 'arn':
      if (!ROLE_ARN.test(v))
        return void problems.push(
          `arn '${v}' is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/<name>)`,
        );
      break;
    default:
      if (v.length < EXTERNAL_ID_MIN || v.length > EXTERNAL_ID_MAX)
        return void problems.push(
          `externalId must be ${EXTERNAL_ID_MIN} to ${EXTERNAL_ID_MAX} characters long (got ${v.length})`,
        );
  }
  out[key] = v;
}

function criterionHolds(actual: string, operator: string, values: string[], numeric: boolean): boolean {
  switch (operator) {
    case 'EQUALS':
      return actual === values[0];
    case 'IN':
      return values.includes(actual);
    case 'CONTAINS':
      return actual.toLowerCase().includes(values[0].toLowerCase());
    case 'GREATER':
      return numeric ? Number(actual) > Number(values[0]) : actual > values[0];
    default:
      return numeric ? Number(actual) < Number(values[0]) : actual < values[0];
  }
}

// ---- wire helpers ------------------------------------------------------------------------------

/** A QPS body: required for create and update, optional elsewhere; JSON only (XML requests are not simulated). */
function qpsBody(req: ConnectorRequest, required: boolean): Record<string, unknown> | undefined {
  if (req.raw.trim().length === 0) {
    if (required)
      throw new ApiError(
        400,
        'The request body is required: {"ServiceRequest": {"data": {"AwsAssetDataConnector": {...}}}}',
      );
    return undefined;
  }
  if (mediaType(req.headers) !== 'application/json')
    throw new ApiError(
      415,
      `Content-Type '${headerOf(req.headers, 'content-type') ?? ''}' is not supported; send application/json`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.raw);
  } catch {
    throw new ApiError(400, 'The request body is not well-formed JSON');
  }
  if (!isObject(parsed)) throw new ApiError(400, 'The request body must be {"ServiceRequest": {...}}');
  return parsed;
}

function cloudViewJson(req: ConnectorRequest): unknown {
  if (req.raw.trim().length === 0) throw new ApiError(400, 'Required request body is missing');
  if (mediaType(req.headers) !== 'application/json')
    throw new ApiError(
      415,
      `Content type '${headerOf(req.headers, 'content-type') ?? ''}' not supported; send application/json`,
    );
  try {
    return JSON.parse(req.raw);
  } catch {
    throw new ApiError(400, 'JSON parse error: the request body is not well-formed JSON');
  }
}

function springPage<T>(items: T[], { number, size }: { number: number; size: number }): Record<string, unknown> {
  const content = items.slice(number * size, (number + 1) * size);
  const totalPages = Math.ceil(items.length / size);
  // The keys of the guide's sample page (guide l.850-857).
  return {
    content,
    last: number >= totalPages - 1,
    totalPages,
    totalElements: items.length,
    sort: null,
    first: number === 0,
    numberOfElements: content.length,
    size,
    number,
  };
}

/** Spring Boot's error body (guess: the guide shows no error). */
function cloudViewError(req: ConnectorRequest, error: ApiError, now: number): Reply {
  return {
    status: error.status,
    contentType: 'application/json',
    headers: error.headers,
    body: JSON.stringify({
      timestamp: new Date(now).toISOString(),
      status: error.status,
      error: http.STATUS_CODES[error.status] ?? 'Error',
      message: error.message,
      path: req.path,
    }),
  };
}

function htmlError(status: number, headers: Record<string, string>): Reply {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  return {
    status,
    contentType: 'text/html',
    headers,
    body: `<html><head><title>${status} ${reason}</title></head><body><h1>${status} ${reason}</h1></body></html>`,
  };
}

function notFound(req: ConnectorRequest): ApiError {
  return new ApiError(404, `No handler found for ${req.method} ${req.path}`, 'NOT_FOUND');
}

function noContent(dialect: ConnectorDialect): Reply {
  return dialect.cloudViewNoContent === '204'
    ? { status: 204, body: '', contentType: '' }
    : { status: 200, body: '', contentType: '' };
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value), contentType: 'application/json' };
}

/** Booleans and numbers of a QPS answer as the dialect writes them. */
function scalars(value: unknown, dialect: ConnectorDialect): unknown {
  if (typeof value === 'boolean') return dialect.qpsBooleans === 'string' ? String(value) : value;
  if (typeof value === 'number') return dialect.qpsNumbers === 'string' ? String(value) : value;
  if (Array.isArray(value)) return value.map((v) => scalars(v, dialect));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scalars(v, dialect)]));
  return value;
}

/** QPS's XML: one element per key, an array as repeated elements, `data` holding its items' elements. */
function toXml(name: string, value: unknown): string {
  if (Array.isArray(value)) {
    if (name === 'data')
      return `<data>${value
        .map((item) =>
          isObject(item)
            ? Object.entries(item)
                .map(([k, v]) => toXml(k, v))
                .join('')
            : '',
        )
        .join('')}</data>`;
    return value.map((v) => toXml(name, v)).join('');
  }
  if (isObject(value))
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => toXml(k, v))
      .join('')}</${name}>`;
  if (value === null || value === undefined) return `<${name}/>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function headerOf(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function mediaType(headers: http.IncomingHttpHeaders): string {
  return (headerOf(headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** QPS time stamps (guess: ISO 8601 in UTC, seconds). */
function qpsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** CloudView time stamps, as the guide's `evaluatedOn` (guide l.943): 2018-07-16T05:42:16+0000. */
function cloudViewTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}
