/**
 * A local AWS endpoint for the real AWS SDK v3 clients (point them at it with `endpoint`
 * or AWS_ENDPOINT_URL): just the calls the integration handler makes.
 *
 * - IAM `GetRole` / `UpdateAssumeRolePolicy` / `ListRoles`, CloudFormation `DescribeStacks`,
 *   `GetTemplate` and `DescribeStackResources`
 *   and STS `GetCallerIdentity` speak the awsQuery protocol (form-encoded POST with `Action=`,
 *   XML answers in the real shapes).
 * - Secrets Manager `GetSecretValue` speaks awsJson1_1 (`X-Amz-Target`).
 * - S3 speaks restXml, path-style (`/<bucket>/<key>`): `ListObjectsV2` with real pagination
 *   (continuation tokens) and delimiters; `GetObject`, `HeadObject`, `PutObject` (plain or
 *   aws-chunked with a trailing checksum, as SDK v3 streams a body; bytes kept as bytes, CRC32 /
 *   Content-MD5 checked; GET honours If-Match), `CopyObject` (`x-amz-copy-source`, URL-encoded; `x-amz-copy-source-if-match` honoured), `DeleteObject` and
 *   `DeleteObjects` (the XML body, at most 1000 keys, Content-MD5 or a checksum required), with
 *   S3's error codes (NoSuchKey, NoSuchBucket, a bodiless 404 to HeadObject). Objects are also
 *   put directly with {@link FakeAws.putObject}.
 * - SQS speaks awsJson1_0 as SDK v3 does (`X-Amz-Target: AmazonSQS.<op>`, `x-amzn-query-mode`,
 *   errors with their awsQuery code in `x-amzn-query-error`): `GetQueueUrl`, `SendMessage` and
 *   `SendMessageBatch` with SQS's limits (1-10 entries, distinct well-formed IDs, 256 KiB per
 *   message and per batch, XML-safe characters), answering the MD5 of each body the SDK checks.
 *   Queues are made with {@link FakeAws.createQueue}; what was sent is read with {@link FakeAws.queueMessages}.
 * - Every request must be SigV4-signed (`Authorization: AWS4-HMAC-SHA256 ...`); the signature
 *   itself is not checked.
 * - IAM is eventually consistent: `canAssume` evaluates the trust policy version that has had
 *   `propagationDelayMs` to propagate, as STS would see it.
 *
 * Only node's `http` and `crypto` are used.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import * as zlib from 'node:zlib';
import { type DescribedRequest, FakeServer, type FaultKinds, type LoggedCall, type Reply } from './fake-server';

export type AwsService = 'iam' | 'secretsmanager' | 'cloudformation' | 's3' | 'sts' | 'sqs';

export interface FakeAwsOptions {
  /** @default '123456789012' */
  account?: string;
  /** Region used in ARNs of secrets and stacks. @default 'us-east-1' */
  region?: string;
  /** @default 0 */
  propagationDelayMs?: number;
  /** @default Date.now */
  now?: () => number;
}

export interface AwsFault extends FaultKinds {
  service?: AwsService;
  action?: string;
  /** @default 400 */
  status?: number;
  /** Only S3 calls on this key (as decoded from the path). */
  key?: string;
  /** @default 'Throttling' (IAM, CloudFormation), 'ThrottlingException' (Secrets Manager), 'SlowDown' (S3), 'RequestThrottled' (SQS) */
  code?: string;
  /** @default 'Rate exceeded' */
  message?: string;
}

export interface AwsCall extends LoggedCall {
  service: AwsService | 'unknown';
  action: string;
  /** The S3 object key the call is on, when it is on one. */
  key?: string;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface RoleView {
  name: string;
  arn: string;
  roleId: string;
  path: string;
  createdAt: number;
  /** The newest trust policy (what GetRole returns). */
  trustPolicy: PolicyDocument;
  /** Every version, oldest first, with the time it was written. */
  history: Array<{ at: number; policy: PolicyDocument }>;
}

export interface AssumeResult {
  ok: boolean;
  reason?: string;
}

export interface StackView {
  stackId: string;
  stackName: string;
  status: string;
  outputs: Record<string, string>;
}

export interface ObjectView {
  key: string;
  size: number;
  lastModified: number;
}

interface StoredObject extends ObjectView {
  /** Absent for objects put by size only (listing tests): they read as `size` zero bytes. */
  body?: Buffer;
  contentType: string;
  etag: string;
  /** As ListObjectsV2 reports it. @default 'STANDARD' */
  storageClass?: string;
}

export interface QueueMessageView {
  messageId: string;
  body: string;
  sentAt: number;
  delaySeconds: number;
}

interface QueueState {
  name: string;
  url: string;
  maxMessageBytes: number;
  messages: QueueMessageView[];
}

interface RoleState {
  name: string;
  path: string;
  roleId: string;
  createdAt: number;
  history: Array<{ at: number; policy: PolicyDocument }>;
}

interface SecretState {
  name: string;
  arn: string;
  value: string;
  versionId: string;
  createdAt: number;
}

interface StackState {
  stackId: string;
  stackName: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  outputs: Record<string, string>;
  /** The deployed template (GetTemplate) and its resources' physical IDs (DescribeStackResources). */
  template?: object;
  resources?: Array<{ logicalId: string; type: string; physicalId: string }>;
}

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const CFN_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const QUERY_VERSIONS: Record<string, AwsService> = {
  '2010-05-08': 'iam',
  '2010-05-15': 'cloudformation',
  '2011-06-15': 'sts',
};
const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'];
/** SQS's limits: entries per batch, bytes per message and per batch (256 KiB), batch entry IDs. */
const SQS_MAX_BATCH_ENTRIES = 10;
const SQS_MAX_BYTES = 262_144;
const SQS_BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** The characters SQS accepts in a message body (XML 1.0's Char production). */
const SQS_INVALID_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** S3 DeleteObjects takes at most this many keys per request. */
const S3_MAX_DELETE_KEYS = 1000;

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** SQS: the awsQuery error code sent in `x-amzn-query-error` (the SDK names the error by it). */
    readonly queryCode?: string,
  ) {
    super(message);
  }
}

export class FakeAws extends FakeServer<AwsFault, AwsCall> {
  readonly account: string;
  readonly region: string;
  propagationDelayMs: number;
  /** IAM's quota on a role's trust policy size, in characters without whitespace. */
  trustPolicySizeLimit = 2048;

  private readonly roles = new Map<string, RoleState>();
  private readonly secrets = new Map<string, SecretState>();
  private readonly denied = new Set<string>();
  private readonly stacks: StackState[] = [];
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private readonly queues = new Map<string, QueueState>();
  /** The identity GetCallerIdentity answers with. */
  callerArn: string;

  constructor(opts: FakeAwsOptions = {}) {
    super('FakeAws', (message) => ({ contentType: 'text/plain', body: message }), opts.now ?? Date.now);
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
    this.propagationDelayMs = opts.propagationDelayMs ?? 0;
    this.callerArn = `arn:aws:iam::${this.account}:user/operator`;
  }

  // ---- state -----------------------------------------------------------------------------

  /**
   * Creates a role (without checking the document); returns its ARN. An existing role of the
   * same name is replaced as if deleted and created again (as a redeployed stack would):
   * new RoleId, history restarted, propagation starting over.
   */
  createRole(name: string, trustPolicy: object, opts: { path?: string } = {}): string {
    const at = this.now();
    this.roles.set(name, {
      name,
      path: opts.path ?? '/',
      roleId: `AROA${randomId(17)}`,
      createdAt: at,
      history: [{ at, policy: structuredClone(trustPolicy) as PolicyDocument }],
    });
    return this.roleArn(name);
  }

  /** Writes a trust policy directly (as an operator in the console would), without checks. */
  setTrustPolicy(name: string, trustPolicy: object): void {
    const role = this.roles.get(name);
    if (!role) throw new Error(`no role ${name}`);
    role.history.push({ at: this.now(), policy: structuredClone(trustPolicy) as PolicyDocument });
  }

  deleteRole(name: string): void {
    this.roles.delete(name);
  }

  hasRole(name: string): boolean {
    return this.roles.has(name);
  }

  /** A role's state (copies); throws when there is no such role. */
  role(name: string): RoleView {
    const role = this.roles.get(name);
    if (!role) throw new Error(`FakeAws: no role named ${name}`);
    return {
      name,
      arn: this.roleArn(name),
      roleId: role.roleId,
      path: role.path,
      createdAt: role.createdAt,
      trustPolicy: structuredClone(role.history[role.history.length - 1].policy),
      history: role.history.map((h) => ({ at: h.at, policy: structuredClone(h.policy) })),
    };
  }

  /** Creates or updates a secret; returns its ARN. */
  putSecret(name: string, secretString: string): string {
    const existing = this.secrets.get(name);
    if (existing) {
      existing.value = secretString;
      existing.versionId = randomUUID();
      return existing.arn;
    }
    const arn = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomId(6, 'mixed')}`;
    this.secrets.set(name, { name, arn, value: secretString, versionId: randomUUID(), createdAt: this.now() });
    return arn;
  }

  deleteSecret(name: string): void {
    this.secrets.delete(name);
  }

  /** GetSecretValue on this secret (name or ARN) answers AccessDeniedException from now on. */
  denySecret(secretId: string): void {
    this.denied.add(this.findSecret(secretId)?.name ?? secretId);
  }

  allowSecret(secretId: string): void {
    this.denied.delete(this.findSecret(secretId)?.name ?? secretId);
  }

  /**
   * Sets a stack's status, creating the stack if needed; `stackIdOrName` may be a stack ID
   * ARN (which then becomes the stack's ID) or a name. Returns the stack ID.
   */
  setStackStatus(stackIdOrName: string, status: string): string {
    const found = this.findStack(stackIdOrName);
    const at = this.now();
    if (found) {
      found.status = status;
      found.updatedAt = at;
      return found.stackId;
    }
    const arn = /^arn:[^:]+:cloudformation:[^:]*:\d{12}:stack\/([^/]+)\/.+$/.exec(stackIdOrName);
    const stackName = arn ? arn[1] : stackIdOrName;
    const stackId = arn
      ? stackIdOrName
      : `arn:aws:cloudformation:${this.region}:${this.account}:stack/${stackName}/${randomUUID()}`;
    this.stacks.push({ stackId, stackName, status, createdAt: at, updatedAt: at, outputs: {} });
    return stackId;
  }

  /** Replaces a stack's outputs (as a deploy would); the stack must exist. */
  setStackOutputs(stackIdOrName: string, outputs: Record<string, string>): void {
    const found = this.findStack(stackIdOrName);
    if (!found) throw new Error(`FakeAws: no stack ${stackIdOrName}`);
    found.outputs = { ...outputs };
  }

  /** Sets what a deploy leaves: the template and each resource's type and physical ID; the stack must exist. */
  setStackTemplate(
    stackIdOrName: string,
    template: object,
    resources: Array<{ logicalId: string; type: string; physicalId: string }>,
  ): void {
    const found = this.findStack(stackIdOrName);
    if (!found) throw new Error(`FakeAws: no stack ${stackIdOrName}`);
    found.template = structuredClone(template);
    found.resources = resources.map((r) => ({ ...r }));
  }

  stack(stackIdOrName: string): StackView | undefined {
    const s = this.findStack(stackIdOrName);
    return s && { stackId: s.stackId, stackName: s.stackName, status: s.status, outputs: { ...s.outputs } };
  }

  /** Creates an empty bucket (no-op when it exists). */
  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  deleteBucket(name: string): void {
    this.buckets.delete(name);
  }

  /**
   * Writes an object (as Qualys would), creating the bucket when needed: with `body`, those
   * bytes; without, an object of `size` (default 1024) zero bytes, for listings.
   */
  putObject(
    bucket: string,
    key: string,
    opts: {
      size?: number;
      lastModified?: number;
      body?: Buffer | string;
      contentType?: string;
      storageClass?: string;
    } = {},
  ): void {
    this.createBucket(bucket);
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    this.buckets.get(bucket)!.set(key, {
      key,
      size: body?.length ?? opts.size ?? 1024,
      lastModified: opts.lastModified ?? this.now(),
      body,
      contentType: opts.contentType ?? 'binary/octet-stream',
      etag: md5Hex(body ?? Buffer.alloc(opts.size ?? 1024)),
      storageClass: opts.storageClass,
    });
  }

  objects(bucket: string): ObjectView[] {
    return [...(this.buckets.get(bucket)?.values() ?? [])]
      .map((o) => ({ key: o.key, size: o.size, lastModified: o.lastModified }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /** An object's bytes and content type (copies), or undefined when there is no such object. */
  object(bucket: string, key: string): { body: Buffer; contentType: string; lastModified: number } | undefined {
    const o = this.buckets.get(bucket)?.get(key);
    return o && { body: Buffer.from(objectBytes(o)), contentType: o.contentType, lastModified: o.lastModified };
  }

  /**
   * Creates a queue (no-op when it exists); returns its URL, on this fake's endpoint as SQS
   * answers GetQueueUrl: `<endpoint>/<account>/<name>`.
   */
  createQueue(name: string, opts: { maxMessageBytes?: number } = {}): string {
    const existing = this.queues.get(name);
    if (existing) return existing.url;
    const url = `${this.url}/${this.account}/${name}`;
    this.queues.set(name, { name, url, maxMessageBytes: opts.maxMessageBytes ?? SQS_MAX_BYTES, messages: [] });
    return url;
  }

  /** The messages sent to a queue, oldest first (copies); nothing is ever received from it. */
  queueMessages(name: string): QueueMessageView[] {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`FakeAws: no queue ${name}`);
    return queue.messages.map((m) => ({ ...m }));
  }

  /** Empties a queue (as PurgeQueue would). */
  purgeQueue(name: string): void {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`FakeAws: no queue ${name}`);
    queue.messages.length = 0;
  }

  /**
   * Whether `principalArn` could assume `roleArn` with `externalId`, judged on the trust
   * policy STS sees at `at` (default: now): the newest version written at least
   * `propagationDelayMs` before then. An explicit Deny wins; an Allow needs the principal,
   * sts:AssumeRole and, when it has a Condition, nothing but `StringEquals` on
   * `sts:ExternalId` that includes the ID.
   *
   * A principal element matches the caller when it is the caller's ARN, `*`, the caller's
   * account (`123456789012` or `arn:<partition>:iam::123456789012:root`, which admits every
   * principal of that account), or, for a caller that is a role session
   * (`arn:<p>:sts::<account>:assumed-role/<role>/<session>`), that role's ARN. A principal
   * naming one role admits only that role (and its sessions), not the rest of its account.
   * The reason never contains the external ID.
   *
   * @param at the moment of the attempt (a later caller judging an earlier one, e.g. a
   *   connector run the Qualys simulator evaluates when it is next read); roles are looked up
   *   as they are now, trust policies as they were then.
   */
  canAssume(roleArn: string, principalArn: string, externalId: string, at?: number): AssumeResult {
    const m = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    if (!m) return { ok: false, reason: `${roleArn} is not a role ARN` };
    const [, account, name] = m;
    const role = this.roles.get(name);
    if (account !== this.account || !role || this.roleArn(name) !== roleArn) {
      return { ok: false, reason: `role ${roleArn} does not exist` };
    }
    const when = at ?? this.now();
    const cutoff = when - this.propagationDelayMs;
    const written = role.history.filter((h) => h.at <= when);
    const visible = [...written].reverse().find((h) => h.at <= cutoff);
    const newest = written[written.length - 1];
    if (!newest) return { ok: false, reason: `role ${roleArn} did not exist yet` };
    const pending =
      visible !== newest ? ` (a trust policy written ${when - newest.at} ms before has not propagated yet)` : '';
    if (!visible) return { ok: false, reason: `role ${roleArn} is not yet visible to STS${pending}` };
    const verdict = evaluateTrust(visible.policy, principalArn, externalId);
    if (verdict === 'allow') return { ok: true };
    const why =
      verdict === 'deny'
        ? 'an explicit Deny in the trust policy applies'
        : 'no trust policy statement allows it with this external ID';
    return {
      ok: false,
      reason: `${principalArn} is not authorized to perform sts:AssumeRole on ${roleArn}: ${why}${pending}`,
    };
  }

  /**
   * A trust checker for the Qualys simulator: Qualys's principal assuming the role (at the
   * moment the simulator names, when it names one).
   */
  qualysTrustChecker(principalArn: string): (roleArn: string, externalId: string, at?: number) => AssumeResult {
    return (roleArn, externalId, at) => this.canAssume(roleArn, principalArn, externalId, at);
  }

  // ---- request handling --------------------------------------------------------------------

  protected describe(
    req: http.IncomingMessage,
    raw: string,
    at: number,
    _host: string,
    bytes: Buffer,
  ): DescribedRequest<AwsCall> {
    const target = header(req, 'x-amz-target');
    const auth = header(req, 'authorization') ?? '';
    const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1];

    let service: AwsService | 'unknown' = 'unknown';
    let action = '';
    let params = new URLSearchParams();
    let key: string | undefined;
    if (target) {
      const [prefix, op] = target.split('.');
      service =
        prefix.toLowerCase() === 'secretsmanager' ? 'secretsmanager' : prefix === 'AmazonSQS' ? 'sqs' : 'unknown';
      action = op ?? '';
    } else if (scope === 's3') {
      service = 's3';
      const url = new URL(req.url ?? '/', 'http://fake');
      params = url.searchParams;
      const [, bucketPart = '', ...keyParts] = url.pathname.split('/');
      key = keyParts.length && keyParts.join('/') !== '' ? decodeURIComponent(keyParts.join('/')) : undefined;
      action = s3Action(req.method ?? 'GET', params, key, header(req, 'x-amz-copy-source'));
      params.set('Bucket', decodeURIComponent(bucketPart));
      if (key !== undefined) params.set('Key', key);
    } else {
      const query = new URL(req.url ?? '/', 'http://fake').searchParams;
      params = req.method === 'POST' ? new URLSearchParams(raw) : query;
      action = params.get('Action') ?? '';
      service =
        QUERY_VERSIONS[params.get('Version') ?? ''] ??
        (scope === 'iam' || scope === 'cloudformation' || scope === 'sts' ? scope : 'unknown');
    }
    const call: AwsCall = { service, action, at, status: 0, ...(key === undefined ? {} : { key }) };
    const json = service === 'secretsmanager' || service === 'sqs';
    const answer = (): Reply => {
      try {
        if (!/^AWS4-HMAC-SHA256 /.test(auth)) {
          throw new AwsError(
            403,
            json ? 'MissingAuthenticationTokenException' : 'MissingAuthenticationToken',
            'Missing Authentication Token',
          );
        }
        let body: Record<string, unknown> = {};
        if (json) {
          try {
            body = raw.trim() ? (JSON.parse(raw) as Record<string, unknown>) : {};
          } catch {
            throw new AwsError(400, 'SerializationException', 'Malformed JSON request body');
          }
        }
        if (service === 's3') return this.s3(action, params, req, bytes);
        return this.dispatch(service, action, params, body);
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        const reply = errorReply(service, error);
        // S3 answers HEAD with the status alone: the SDK then names the error by it (NotFound).
        return action === 'HeadObject' ? { ...reply, body: '', contentType: '' } : reply;
      }
    };
    return { call, answer };
  }

  protected faultMatches(fault: AwsFault, call: AwsCall): boolean {
    return (
      (fault.service === undefined || fault.service === call.service) &&
      (fault.action === undefined || fault.action === call.action) &&
      (fault.key === undefined || fault.key === call.key)
    );
  }

  /** A fault always answers: a throttling error unless it says otherwise (S3's SlowDown is a 503). */
  protected faultReply(fault: AwsFault, call: AwsCall): Reply {
    const defaults: Partial<Record<AwsService | 'unknown', { status: number; code: string; queryCode?: string }>> = {
      secretsmanager: { status: 400, code: 'ThrottlingException' },
      s3: { status: 503, code: 'SlowDown' },
      sqs: { status: 403, code: 'RequestThrottled', queryCode: 'RequestThrottled' },
    };
    const d = defaults[call.service] ?? { status: 400, code: 'Throttling' };
    const code = fault.code ?? d.code;
    const reply = errorReply(
      call.service,
      new AwsError(fault.status ?? d.status, code, fault.message ?? 'Rate exceeded', fault.code ? code : d.queryCode),
    );
    return call.action === 'HeadObject' ? { ...reply, body: '', contentType: '' } : reply;
  }

  /** `service:Action`. */
  protected callKey(call: AwsCall): string {
    return `${call.service}:${call.action}`;
  }

  /** Every answer carries a fresh request ID, in its header and wherever the body names one. */
  protected finish(reply: Reply): Reply {
    const requestId = randomUUID();
    return {
      ...reply,
      body: typeof reply.body === 'string' ? reply.body.replace(/\{\{RequestId\}\}/g, requestId) : reply.body,
      headers: { 'x-amzn-RequestId': requestId, ...reply.headers },
    };
  }

  private dispatch(
    service: AwsService | 'unknown',
    action: string,
    params: URLSearchParams,
    body: Record<string, unknown>,
  ): Reply {
    switch (`${service}:${action}`) {
      case 'iam:GetRole':
        return this.getRole(params);
      case 'iam:UpdateAssumeRolePolicy':
        return this.updateAssumeRolePolicy(params);
      case 'secretsmanager:GetSecretValue':
        return this.getSecretValue(body);
      case 'cloudformation:DescribeStacks':
        return this.describeStacks(params);
      case 'cloudformation:GetTemplate':
        return this.getTemplate(params);
      case 'cloudformation:DescribeStackResources':
        return this.describeStackResources(params);
      case 'iam:ListRoles':
        return this.listRoles(params);
      case 'sts:GetCallerIdentity':
        return this.getCallerIdentity();
      case 'sqs:GetQueueUrl':
        return this.getQueueUrl(body);
      case 'sqs:SendMessage':
        return this.sendMessage(body);
      case 'sqs:SendMessageBatch':
        return this.sendMessageBatch(body);
      default:
        if (service === 'secretsmanager')
          throw new AwsError(400, 'UnknownOperationException', `Unknown operation ${action}`);
        if (service === 'sqs')
          throw new AwsError(
            400,
            'UnsupportedOperation',
            `FakeAws implements no SQS operation ${action}`,
            'AWS.SimpleQueueService.UnsupportedOperation',
          );
        throw new AwsError(400, 'InvalidAction', `Could not find operation ${action || '(none)'} for ${service}`);
    }
  }

  // ---- IAM -----------------------------------------------------------------------------------

  private iamRole(params: URLSearchParams): RoleState {
    const name = params.get('RoleName');
    if (!name) {
      throw new AwsError(
        400,
        'ValidationError',
        "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null",
      );
    }
    const role = this.roles.get(name);
    if (!role) throw new AwsError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  private getRole(params: URLSearchParams): Reply {
    const role = this.iamRole(params);
    const policy = role.history[role.history.length - 1].policy;
    return xml(
      `<GetRoleResponse xmlns="${IAM_NS}">` +
        '<GetRoleResult><Role>' +
        `<Path>${esc(role.path)}</Path>` +
        `<AssumeRolePolicyDocument>${esc(encodeURIComponent(JSON.stringify(policy)))}</AssumeRolePolicyDocument>` +
        '<MaxSessionDuration>3600</MaxSessionDuration>' +
        `<RoleId>${role.roleId}</RoleId>` +
        `<RoleName>${esc(role.name)}</RoleName>` +
        `<Arn>${esc(this.roleArn(role.name))}</Arn>` +
        `<CreateDate>${isoSeconds(role.createdAt)}</CreateDate>` +
        '</Role></GetRoleResult>' +
        '<ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata>' +
        '</GetRoleResponse>',
    );
  }

  private updateAssumeRolePolicy(params: URLSearchParams): Reply {
    const text = params.get('PolicyDocument');
    if (text === null) {
      throw new AwsError(
        400,
        'ValidationError',
        "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null",
      );
    }
    const role = this.iamRole(params);
    const policy = checkTrustPolicy(text);
    const size = text.replace(/\s/g, '').length;
    if (size > this.trustPolicySizeLimit) {
      throw new AwsError(409, 'LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${this.trustPolicySizeLimit}`);
    }
    role.history.push({ at: this.now(), policy });
    return xml(
      `<UpdateAssumeRolePolicyResponse xmlns="${IAM_NS}">` +
        '<ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata>' +
        '</UpdateAssumeRolePolicyResponse>',
    );
  }

  private listRoles(params: URLSearchParams): Reply {
    const max = Number(params.get('MaxItems') ?? '100');
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw new AwsError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${params.get('MaxItems')}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
      );
    }
    const names = [...this.roles.keys()].sort();
    const marker = params.get('Marker');
    const start = marker ? names.findIndex((n) => n > Buffer.from(marker, 'base64url').toString('utf8')) : 0;
    const page = start < 0 ? [] : names.slice(start, start + max);
    const truncated = start >= 0 && start + max < names.length;
    const members = page
      .map((name) => {
        const role = this.roles.get(name)!;
        const policy = role.history[role.history.length - 1].policy;
        return (
          '<member>' +
          `<Path>${esc(role.path)}</Path>` +
          `<AssumeRolePolicyDocument>${esc(encodeURIComponent(JSON.stringify(policy)))}</AssumeRolePolicyDocument>` +
          '<MaxSessionDuration>3600</MaxSessionDuration>' +
          `<RoleId>${role.roleId}</RoleId>` +
          `<RoleName>${esc(name)}</RoleName>` +
          `<Arn>${esc(this.roleArn(name))}</Arn>` +
          `<CreateDate>${isoSeconds(role.createdAt)}</CreateDate>` +
          '</member>'
        );
      })
      .join('');
    return xml(
      `<ListRolesResponse xmlns="${IAM_NS}">` +
        `<ListRolesResult><IsTruncated>${truncated}</IsTruncated>` +
        (truncated ? `<Marker>${Buffer.from(page[page.length - 1]).toString('base64url')}</Marker>` : '') +
        `<Roles>${members}</Roles></ListRolesResult>` +
        '<ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata>' +
        '</ListRolesResponse>',
    );
  }

  // ---- STS -------------------------------------------------------------------------------

  private getCallerIdentity(): Reply {
    return xml(
      `<GetCallerIdentityResponse xmlns="${STS_NS}">` +
        `<GetCallerIdentityResult><Arn>${esc(this.callerArn)}</Arn><UserId>AIDAFAKEOPERATOR</UserId><Account>${this.account}</Account></GetCallerIdentityResult>` +
        '<ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata>' +
        '</GetCallerIdentityResponse>',
    );
  }

  // ---- S3 --------------------------------------------------------------------------------

  private s3(action: string, params: URLSearchParams, req: http.IncomingMessage, bytes: Buffer): Reply {
    const bucket = params.get('Bucket') ?? '';
    const key = params.get('Key') ?? '';
    switch (action) {
      case 'ListObjectsV2':
        return this.listObjectsV2(params);
      case 'GetObject':
      case 'HeadObject': {
        const o = this.storedObject(bucket, key);
        const ifMatch = header(req, 'if-match');
        if (ifMatch !== undefined && ifMatch !== '*' && ifMatch.replace(/"/g, '') !== o.etag) {
          throw new AwsError(
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
        }
        const body = objectBytes(o);
        const headers = {
          'Content-Length': String(body.length),
          ETag: `"${o.etag}"`,
          'Last-Modified': new Date(o.lastModified).toUTCString(),
          'Accept-Ranges': 'bytes',
        };
        return { status: 200, contentType: o.contentType, headers, body: action === 'GetObject' ? body : '' };
      }
      case 'PutObject': {
        const objects = this.bucket(bucket);
        const body = decodePutBody(req, bytes);
        const etag = md5Hex(body);
        objects.set(key, {
          key,
          size: body.length,
          lastModified: this.now(),
          body,
          contentType: header(req, 'content-type') ?? 'binary/octet-stream',
          etag,
        });
        return { status: 200, contentType: '', headers: { ETag: `"${etag}"` }, body: '' };
      }
      case 'CopyObject': {
        const target = this.bucket(bucket);
        const { bucket: fromBucket, key: fromKey } = copySource(header(req, 'x-amz-copy-source') ?? '');
        const from = this.storedObject(fromBucket, fromKey);
        const copyIfMatch = header(req, 'x-amz-copy-source-if-match');
        if (copyIfMatch !== undefined && copyIfMatch !== '*' && copyIfMatch.replace(/"/g, '') !== from.etag) {
          throw new AwsError(
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
        }
        if (fromBucket === bucket && fromKey === key && header(req, 'x-amz-metadata-directive') !== 'REPLACE') {
          throw new AwsError(
            400,
            'InvalidRequest',
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
          );
        }
        const copied: StoredObject = { ...from, key, lastModified: this.now(), body: Buffer.from(objectBytes(from)) };
        target.set(key, copied);
        return xml(
          '<?xml version="1.0" encoding="UTF-8"?>' +
            `<CopyObjectResult xmlns="${S3_NS}"><LastModified>${isoMillis(copied.lastModified)}</LastModified>` +
            `<ETag>&quot;${copied.etag}&quot;</ETag></CopyObjectResult>`,
        );
      }
      case 'DeleteObject':
        this.bucket(bucket).delete(key);
        return { status: 204, contentType: '', body: '' };
      case 'DeleteObjects':
        return this.deleteObjects(bucket, req, bytes);
      default:
        throw new AwsError(501, 'NotImplemented', `FakeAws implements no S3 operation ${action}`);
    }
  }

  /** The bucket's objects; NoSuchBucket / AccessDenied as S3 answers them. */
  private bucket(name: string): Map<string, StoredObject> {
    const objects = this.buckets.get(name);
    if (!objects) throw new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (this.denied.has(`s3:${name}`)) throw new AwsError(403, 'AccessDenied', 'Access Denied');
    return objects;
  }

  private storedObject(bucket: string, key: string): StoredObject {
    const o = this.bucket(bucket).get(key);
    if (!o) throw new AwsError(404, 'NoSuchKey', 'The specified key does not exist.');
    return o;
  }

  private deleteObjects(bucket: string, req: http.IncomingMessage, bytes: Buffer): Reply {
    const objects = this.bucket(bucket);
    const hasIntegrity =
      header(req, 'content-md5') !== undefined || Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-'));
    if (!hasIntegrity) {
      throw new AwsError(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5');
    }
    checkIntegrity(req, bytes);
    const text = bytes.toString('utf8');
    if (!/^\s*(<\?xml[^>]*\?>\s*)?<Delete[\s>]/.test(text) || !/<\/Delete>\s*$/.test(text)) {
      throw malformedXml();
    }
    const keys = [...text.matchAll(/<Object>\s*<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Object>/g)].map((m) =>
      unescapeXml(m[1]),
    );
    if (keys.length === 0 || keys.length > S3_MAX_DELETE_KEYS) throw malformedXml();
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/.test(text);
    for (const k of keys) objects.delete(k);
    const deleted = quiet ? '' : keys.map((k) => `<Deleted><Key>${esc(k)}</Key></Deleted>`).join('');
    return xml(`<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="${S3_NS}">${deleted}</DeleteResult>`);
  }

  private listObjectsV2(params: URLSearchParams): Reply {
    const bucket = params.get('Bucket') ?? '';
    const objects = this.bucket(bucket);
    const prefix = params.get('prefix') ?? '';
    const delimiter = params.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Number(params.get('max-keys') ?? '1000'));
    const token = params.get('continuation-token');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (params.get('start-after') ?? '');
    // Keys and common prefixes in one sorted stream, as S3 pages them.
    const entries: Array<{ key: string; object?: StoredObject }> = [];
    const seenPrefixes = new Set<string>();
    for (const key of [...objects.keys()].sort()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      if (cut >= 0) {
        const common = prefix + rest.slice(0, cut + delimiter.length);
        if (!seenPrefixes.has(common)) {
          seenPrefixes.add(common);
          entries.push({ key: common });
        }
      } else {
        entries.push({ key, object: objects.get(key) });
      }
    }
    const remaining = entries.filter((e) => e.key > after);
    const page = remaining.slice(0, maxKeys);
    const truncated = remaining.length > page.length;
    const contents = page
      .filter((e) => e.object)
      .map(
        (e) =>
          '<Contents>' +
          `<Key>${esc(e.key)}</Key><LastModified>${isoMillis(e.object!.lastModified)}</LastModified>` +
          `<ETag>&quot;${randomId(32).toLowerCase()}&quot;</ETag><Size>${e.object!.size}</Size><StorageClass>${esc(e.object!.storageClass ?? 'STANDARD')}</StorageClass>` +
          '</Contents>',
      )
      .join('');
    const common = page
      .filter((e) => !e.object)
      .map((e) => `<CommonPrefixes><Prefix>${esc(e.key)}</Prefix></CommonPrefixes>`)
      .join('');
    return xml(
      '<?xml version="1.0" encoding="UTF-8"?>' +
        `<ListBucketResult xmlns="${S3_NS}"><Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix>` +
        `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
        (delimiter ? `<Delimiter>${esc(delimiter)}</Delimiter>` : '') +
        `<IsTruncated>${truncated}</IsTruncated>` +
        (token ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : '') +
        (truncated
          ? `<NextContinuationToken>${Buffer.from(page[page.length - 1].key).toString('base64url')}</NextContinuationToken>`
          : '') +
        contents +
        common +
        '</ListBucketResult>',
    );
  }

  /** Every S3 call on this bucket answers AccessDenied from now on. */
  denyBucket(bucket: string): void {
    this.denied.add(`s3:${bucket}`);
  }

  private roleArn(name: string): string {
    const role = this.roles.get(name);
    return `arn:aws:iam::${this.account}:role${role?.path ?? '/'}${name}`;
  }

  // ---- SQS -------------------------------------------------------------------------------

  /** The queue a QueueUrl names: `<any endpoint>/<account>/<name>`, as SQS reads it. */
  private queueOf(body: Record<string, unknown>): QueueState {
    const url = body.QueueUrl;
    if (typeof url !== 'string' || url === '') {
      throw new AwsError(
        400,
        'MissingParameter',
        'The request must contain the parameter QueueUrl.',
        'MissingParameter',
      );
    }
    const match = /^https?:\/\/[^/]+\/(\d{12})\/([^/?#]+)$/.exec(url);
    if (!match)
      throw new AwsError(404, 'InvalidAddress', `The address ${url} is not valid for this endpoint.`, 'InvalidAddress');
    const queue = this.queues.get(match[2]);
    if (match[1] !== this.account || !queue) throw nonExistentQueue();
    return queue;
  }

  private getQueueUrl(body: Record<string, unknown>): Reply {
    const name = body.QueueName;
    const owner = body.QueueOwnerAWSAccountId;
    const queue = typeof name === 'string' ? this.queues.get(name) : undefined;
    if (!queue || (owner !== undefined && owner !== this.account)) throw nonExistentQueue();
    return sqsReply({ QueueUrl: queue.url });
  }

  /** Why SQS refuses this body, or undefined when it takes it. */
  private refusedBody(queue: QueueState, body: unknown): AwsError | undefined {
    if (typeof body !== 'string' || body.length === 0) {
      return new AwsError(
        400,
        'MissingParameter',
        'The request must contain the parameter MessageBody.',
        'MissingParameter',
      );
    }
    if (Buffer.byteLength(body) > queue.maxMessageBytes) {
      return new AwsError(
        400,
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.maxMessageBytes} bytes.`,
        'InvalidParameterValue',
      );
    }
    if (SQS_INVALID_CHAR.test(body)) {
      return new AwsError(
        400,
        'InvalidMessageContents',
        'Invalid binary character in message body. Refer to the allowed character list in the SQS documentation.',
        'InvalidMessageContents',
      );
    }
    return undefined;
  }

  private enqueue(
    queue: QueueState,
    body: string,
    delaySeconds: unknown,
  ): { MessageId: string; MD5OfMessageBody: string } {
    const message = { messageId: randomUUID(), body, sentAt: this.now(), delaySeconds: Number(delaySeconds ?? 0) };
    queue.messages.push(message);
    return { MessageId: message.messageId, MD5OfMessageBody: md5Hex(Buffer.from(body)) };
  }

  private sendMessage(body: Record<string, unknown>): Reply {
    const queue = this.queueOf(body);
    const refused = this.refusedBody(queue, body.MessageBody);
    if (refused) throw refused;
    return sqsReply(this.enqueue(queue, body.MessageBody as string, body.DelaySeconds));
  }

  private sendMessageBatch(body: Record<string, unknown>): Reply {
    const queue = this.queueOf(body);
    const entries = Array.isArray(body.Entries) ? (body.Entries as Array<Record<string, unknown>>) : [];
    if (entries.length === 0) {
      throw new AwsError(
        400,
        'EmptyBatchRequest',
        'There should be at least one SendMessageBatchRequestEntry in the request.',
        'AWS.SimpleQueueService.EmptyBatchRequest',
      );
    }
    if (entries.length > SQS_MAX_BATCH_ENTRIES) {
      throw new AwsError(
        400,
        'TooManyEntriesInBatchRequest',
        `Maximum number of entries per request are ${SQS_MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
        'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      );
    }
    const seen = new Set<string>();
    for (const entry of entries) {
      const id = entry.Id;
      if (typeof id !== 'string' || !SQS_BATCH_ID.test(id)) {
        throw new AwsError(
          400,
          'InvalidBatchEntryId',
          'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
          'AWS.SimpleQueueService.InvalidBatchEntryId',
        );
      }
      if (seen.has(id)) {
        throw new AwsError(
          400,
          'BatchEntryIdsNotDistinct',
          `Id ${id} repeated.`,
          'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
        );
      }
      seen.add(id);
    }
    const total = entries.reduce(
      (sum, e) => sum + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody) : 0),
      0,
    );
    if (total > SQS_MAX_BYTES) {
      throw new AwsError(
        400,
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${SQS_MAX_BYTES} bytes. You have sent ${total} bytes.`,
        'AWS.SimpleQueueService.BatchRequestTooLong',
      );
    }
    const successful: Array<Record<string, unknown>> = [];
    const failed: Array<Record<string, unknown>> = [];
    for (const entry of entries) {
      const refused = this.refusedBody(queue, entry.MessageBody);
      if (refused)
        failed.push({
          Id: entry.Id,
          SenderFault: true,
          Code: refused.queryCode ?? refused.code,
          Message: refused.message,
        });
      else successful.push({ Id: entry.Id, ...this.enqueue(queue, entry.MessageBody as string, entry.DelaySeconds) });
    }
    return sqsReply({ Successful: successful, Failed: failed });
  }

  // ---- Secrets Manager -------------------------------------------------------------------

  private findSecret(secretId: string): SecretState | undefined {
    return this.secrets.get(secretId) ?? [...this.secrets.values()].find((s) => s.arn === secretId);
  }

  private getSecretValue(body: Record<string, unknown>): Reply {
    const id = body.SecretId;
    if (typeof id !== 'string' || id.length === 0) {
      throw new AwsError(
        400,
        'ValidationException',
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
      );
    }
    const secret = this.findSecret(id);
    if (this.denied.has(secret?.name ?? id)) {
      throw new AwsError(
        400,
        'AccessDeniedException',
        `User: arn:aws:sts::${this.account}:assumed-role/handler-role/handler is not authorized to perform: ` +
          `secretsmanager:GetSecretValue on resource: ${id} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      );
    }
    if (!secret)
      throw new AwsError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return {
      status: 200,
      contentType: 'application/x-amz-json-1.1',
      body: JSON.stringify({
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdAt / 1000,
      }),
    };
  }

  // ---- CloudFormation --------------------------------------------------------------------

  /** By stack ID (deleted stacks included), or by name (live stacks only), as CloudFormation does. */
  private findStack(stackIdOrName: string): StackState | undefined {
    return (
      this.stacks.find((s) => s.stackId === stackIdOrName) ??
      this.stacks.find((s) => s.stackName === stackIdOrName && s.status !== 'DELETE_COMPLETE')
    );
  }

  private liveStack(params: URLSearchParams): StackState {
    const name = params.get('StackName') ?? '';
    const found = this.findStack(name);
    if (!found || found.status === 'DELETE_COMPLETE')
      throw new AwsError(400, 'ValidationError', `Stack with id ${name} does not exist`);
    return found;
  }

  private getTemplate(params: URLSearchParams): Reply {
    const stack = this.liveStack(params);
    return xml(
      `<GetTemplateResponse xmlns="${CFN_NS}"><GetTemplateResult>` +
        `<TemplateBody>${esc(JSON.stringify(stack.template ?? { Resources: {} }))}</TemplateBody>` +
        '<StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>' +
        '</GetTemplateResult><ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata></GetTemplateResponse>',
    );
  }

  private describeStackResources(params: URLSearchParams): Reply {
    const stack = this.liveStack(params);
    const members = (stack.resources ?? [])
      .map(
        (r) =>
          '<member>' +
          `<StackName>${esc(stack.stackName)}</StackName><StackId>${esc(stack.stackId)}</StackId>` +
          `<LogicalResourceId>${esc(r.logicalId)}</LogicalResourceId>` +
          `<PhysicalResourceId>${esc(r.physicalId)}</PhysicalResourceId>` +
          `<ResourceType>${esc(r.type)}</ResourceType>` +
          `<Timestamp>${isoMillis(stack.updatedAt)}</Timestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus>` +
          '</member>',
      )
      .join('');
    return xml(
      `<DescribeStackResourcesResponse xmlns="${CFN_NS}"><DescribeStackResourcesResult>` +
        `<StackResources>${members}</StackResources></DescribeStackResourcesResult>` +
        '<ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata></DescribeStackResourcesResponse>',
    );
  }

  private describeStacks(params: URLSearchParams): Reply {
    const name = params.get('StackName');
    let stacks: StackState[];
    if (name) {
      const found = this.findStack(name);
      if (!found) throw new AwsError(400, 'ValidationError', `Stack with id ${name} does not exist`);
      stacks = [found];
    } else {
      stacks = this.stacks.filter((s) => s.status !== 'DELETE_COMPLETE');
    }
    const members = stacks
      .map(
        (s) =>
          '<member>' +
          `<StackId>${esc(s.stackId)}</StackId>` +
          `<StackName>${esc(s.stackName)}</StackName>` +
          `<CreationTime>${isoMillis(s.createdAt)}</CreationTime>` +
          (s.updatedAt !== s.createdAt ? `<LastUpdatedTime>${isoMillis(s.updatedAt)}</LastUpdatedTime>` : '') +
          `<StackStatus>${esc(s.status)}</StackStatus>` +
          '<DisableRollback>false</DisableRollback>' +
          (Object.keys(s.outputs).length
            ? '<Outputs>' +
              Object.entries(s.outputs)
                .map(
                  ([k, v]) => `<member><OutputKey>${esc(k)}</OutputKey><OutputValue>${esc(v)}</OutputValue></member>`,
                )
                .join('') +
              '</Outputs>'
            : '') +
          '</member>',
      )
      .join('');
    return xml(
      `<DescribeStacksResponse xmlns="${CFN_NS}">` +
        `<DescribeStacksResult><Stacks>${members}</Stacks></DescribeStacksResult>` +
        '<ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata>' +
        '</DescribeStacksResponse>',
    );
  }
}

// ---- trust policy evaluation -------------------------------------------------------------------

type Verdict = 'allow' | 'deny' | 'none';

function evaluateTrust(policy: PolicyDocument, principalArn: string, externalId: string): Verdict {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  let allowed = false;
  for (const st of statements) {
    if (!isObject(st)) continue;
    if (!matchesPrincipal(st.Principal, principalArn) || !matchesAssumeRole(st.Action)) continue;
    const condition = conditionHolds(st.Condition, externalId);
    if (condition !== true) continue;
    if (st.Effect === 'Deny') return 'deny';
    if (st.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

/** See `canAssume` for what a principal element admits. */
function matchesPrincipal(principal: unknown, principalArn: string): boolean {
  if (principal === '*') return true;
  if (!isObject(principal)) return false;
  const aws = principal.AWS;
  const list = Array.isArray(aws) ? aws : [aws];
  const account = /^arn:([^:]+):(?:iam|sts)::(\d{12}):/.exec(principalArn);
  // A role session acts as its role: arn:<p>:sts::<a>:assumed-role/<role>/<session> is arn:<p>:iam::<a>:role/<role>.
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(principalArn);
  const sessionRole = session
    ? new RegExp(`^arn:${session[1]}:iam::${session[2]}:role/(?:.*/)?${escapeRegExp(session[3])}$`)
    : undefined;
  return list.some(
    (p) =>
      p === principalArn ||
      p === '*' ||
      (account !== null && (p === account[2] || p === `arn:${account[1]}:iam::${account[2]}:root`)) ||
      (sessionRole !== undefined && typeof p === 'string' && sessionRole.test(p)),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matchesAssumeRole(action: unknown): boolean {
  const list = Array.isArray(action) ? action : [action];
  return list.some((a) => typeof a === 'string' && ['sts:assumerole', 'sts:*', '*'].includes(a.toLowerCase()));
}

/** true when there is no condition or only StringEquals on sts:ExternalId including the ID. */
function conditionHolds(condition: unknown, externalId: string): boolean {
  if (condition === undefined) return true;
  if (!isObject(condition)) return false;
  const operators = Object.keys(condition);
  if (operators.length !== 1 || operators[0] !== 'StringEquals') return false;
  const block = condition.StringEquals;
  if (!isObject(block)) return false;
  const keys = Object.keys(block);
  if (keys.length !== 1 || keys[0].toLowerCase() !== 'sts:externalid') return false;
  const values = block[keys[0]];
  const list = Array.isArray(values) ? values : [values];
  return list.includes(externalId);
}

/** IAM's checks on a trust policy document; MalformedPolicyDocument when it fails them. */
function checkTrustPolicy(text: string): PolicyDocument {
  const malformed = (why: string) => new AwsError(400, 'MalformedPolicyDocument', why);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (!isObject(doc)) throw malformed('Syntax errors in policy.');
  if (typeof doc.Version !== 'string' || !POLICY_VERSIONS.includes(doc.Version)) {
    throw malformed('The policy must contain a valid version string');
  }
  if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) throw malformed('Syntax errors in policy.');
  for (const st of doc.Statement) {
    if (!isObject(st)) throw malformed('Syntax errors in policy.');
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed('Invalid effect in policy.');
    if (st.Principal === undefined && st.NotPrincipal === undefined)
      throw malformed('AssumeRolepolicy contained an invalid principal element');
    const badPrincipal = invalidPrincipal(st.Principal ?? st.NotPrincipal);
    if (badPrincipal) throw malformed(`Invalid principal in policy: ${badPrincipal}`);
    if (st.Action === undefined && st.NotAction === undefined)
      throw malformed('Policy statement must contain actions.');
    if (st.Resource !== undefined) throw malformed('Has prohibited field Resource');
  }
  return doc as PolicyDocument;
}

const AWS_PRINCIPAL =
  /^(?:\*|\d{12}|arn:[a-z][a-z0-9-]*:(?:iam::\d{12}:(?:root|role\/.+|user\/.+)|sts::\d{12}:(?:assumed-role|federated-user)\/.+))$/;

/** Like IAM: the principal element must name principals it recognises (returns the offender). */
function invalidPrincipal(principal: unknown): string | undefined {
  if (principal === '*') return undefined;
  if (!isObject(principal) || Object.keys(principal).length === 0) return JSON.stringify(principal ?? null);
  for (const [type, value] of Object.entries(principal)) {
    const list = Array.isArray(value) ? value : [value];
    if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(type) || list.length === 0)
      return `"${type}":${JSON.stringify(value)}`;
    for (const v of list) {
      if (typeof v !== 'string' || v.length === 0) return `"${type}":${JSON.stringify(v)}`;
      if (type === 'AWS' && !AWS_PRINCIPAL.test(v)) return `"AWS":"${v}"`;
    }
  }
  return undefined;
}

// ---- helpers ---------------------------------------------------------------------------------

function errorReply(service: AwsService | 'unknown', error: AwsError): Reply {
  if (service === 'sqs') {
    return {
      status: error.status,
      contentType: 'application/x-amz-json-1.0',
      headers: {
        'x-amzn-query-error': `${error.queryCode ?? error.code};${error.status >= 500 ? 'Receiver' : 'Sender'}`,
      },
      body: JSON.stringify({ __type: `com.amazonaws.sqs#${error.code}`, message: error.message }),
    };
  }
  if (service === 'secretsmanager') {
    return {
      status: error.status,
      contentType: 'application/x-amz-json-1.1',
      headers: { 'x-amzn-ErrorType': error.code },
      body: JSON.stringify({ __type: error.code, message: error.message }),
    };
  }
  if (service === 's3') {
    return {
      status: error.status,
      contentType: 'application/xml',
      body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${esc(error.code)}</Code><Message>${esc(error.message)}</Message><RequestId>{{RequestId}}</RequestId></Error>`,
    };
  }
  const ns = service === 'cloudformation' ? CFN_NS : service === 'sts' ? STS_NS : IAM_NS;
  return {
    status: error.status,
    contentType: 'text/xml',
    body:
      `<ErrorResponse xmlns="${ns}">` +
      `<Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${esc(error.code)}</Code><Message>${esc(error.message)}</Message></Error>` +
      '<RequestId>{{RequestId}}</RequestId>' +
      '</ErrorResponse>',
  };
}

function xml(body: string): Reply {
  return { status: 200, contentType: 'text/xml', body };
}

function sqsReply(body: object): Reply {
  return { status: 200, contentType: 'application/x-amz-json-1.0', body: JSON.stringify(body) };
}

function nonExistentQueue(): AwsError {
  return new AwsError(
    400,
    'QueueDoesNotExist',
    'The specified queue does not exist.',
    'AWS.SimpleQueueService.NonExistentQueue',
  );
}

function malformedXml(): AwsError {
  return new AwsError(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

/** The S3 operation a path-style request is, read as S3 reads it (method, subresource, headers). */
function s3Action(
  method: string,
  params: URLSearchParams,
  key: string | undefined,
  copyFrom: string | undefined,
): string {
  if (key === undefined) {
    if (method === 'GET' && params.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'POST' && params.has('delete')) return 'DeleteObjects';
    return `${method} bucket`;
  }
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT') return copyFrom === undefined ? 'PutObject' : 'CopyObject';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method} object`;
}

/** `x-amz-copy-source`: `[/]<bucket>/<key>[?versionId=...]`, URL-encoded. */
function copySource(value: string): { bucket: string; key: string } {
  const path = value.replace(/^\//, '').split('?')[0];
  const cut = path.indexOf('/');
  if (!value || cut <= 0) {
    throw new AwsError(
      400,
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
    );
  }
  let key: string;
  try {
    key = decodeURIComponent(path.slice(cut + 1));
  } catch {
    throw new AwsError(400, 'InvalidArgument', 'Invalid copy source encoding');
  }
  return { bucket: decodeURIComponent(path.slice(0, cut)), key };
}

/**
 * A PutObject body as S3 stores it. SDK v3 streams a body of unknown checksum as aws-chunked
 * (`<hex size>[;chunk-signature=...]\r\n<bytes>\r\n ... 0\r\n<trailer>:<value>\r\n\r\n`): the
 * chunks are joined, the decoded length and the trailing checksum checked as S3 checks them.
 */
function decodePutBody(req: http.IncomingMessage, bytes: Buffer): Buffer {
  const chunked =
    /aws-chunked/.test(header(req, 'content-encoding') ?? '') ||
    /^STREAMING-/.test(header(req, 'x-amz-content-sha256') ?? '');
  if (!chunked) {
    checkIntegrity(req, bytes);
    return bytes;
  }
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  const incomplete = () =>
    new AwsError(
      400,
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
    );
  for (;;) {
    const eol = bytes.indexOf('\r\n', at);
    if (eol < 0) throw incomplete();
    const size = Number.parseInt(bytes.subarray(at, eol).toString('latin1').split(';')[0], 16);
    if (!Number.isFinite(size)) throw incomplete();
    at = eol + 2;
    if (size === 0) break;
    if (at + size + 2 > bytes.length) throw incomplete();
    parts.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
  for (const line of bytes.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = Buffer.concat(parts);
  const declared = header(req, 'x-amz-decoded-content-length');
  if (declared === undefined || Number(declared) !== body.length) throw incomplete();
  checkIntegrity(req, body, trailers);
  return body;
}

/** Content-MD5 and x-amz-checksum-crc32 (a header or an aws-chunked trailer), checked as S3 does. */
function checkIntegrity(req: http.IncomingMessage, body: Buffer, trailers: Record<string, string> = {}): void {
  const md5 = header(req, 'content-md5');
  if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) {
    throw new AwsError(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const crc = header(req, 'x-amz-checksum-crc32') ?? trailers['x-amz-checksum-crc32'];
  if (crc !== undefined) {
    const actual = Buffer.alloc(4);
    actual.writeUInt32BE(zlib.crc32(body));
    if (actual.toString('base64') !== crc) {
      throw new AwsError(400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    }
  }
}

function objectBytes(o: StoredObject): Buffer {
  return o.body ?? Buffer.alloc(o.size);
}

function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replace(/&amp;/g, '&');
}

function esc(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function randomId(length: number, alphabet: 'upper' | 'mixed' = 'upper'): string {
  const chars =
    alphabet === 'upper'
      ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
      : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += chars[bytes[i] % chars.length];
  return out;
}
