/**
 * A local AWS endpoint for the real AWS SDK v3 clients (point them at it with `endpoint`
 * or AWS_ENDPOINT_URL): just the calls the integration handler makes.
 *
 * - IAM `GetRole` / `UpdateAssumeRolePolicy` / `ListRoles`, CloudFormation `DescribeStacks`,
 *   `GetTemplate` and `DescribeStackResources`
 *   and STS `GetCallerIdentity` speak the awsQuery protocol (form-encoded POST with `Action=`,
 *   XML answers in the real shapes).
 * - Secrets Manager `GetSecretValue` speaks awsJson1_1 (`X-Amz-Target`).
 * - S3 `ListObjectsV2` speaks restXml, path-style (`GET /<bucket>?list-type=2`), with real
 *   pagination (continuation tokens) and delimiters; objects are put with {@link FakeAws.putObject}.
 * - Every request must be SigV4-signed (`Authorization: AWS4-HMAC-SHA256 ...`); the signature
 *   itself is not checked.
 * - IAM is eventually consistent: `canAssume` evaluates the trust policy version that has had
 *   `propagationDelayMs` to propagate, as STS would see it.
 *
 * Only node's `http` and `crypto` are used.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { type DescribedRequest, FakeServer, type FaultKinds, type LoggedCall, type Reply } from './fake-server';

export type AwsService = 'iam' | 'secretsmanager' | 'cloudformation' | 's3' | 'sts';

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
  /** @default 'Throttling' (IAM, CloudFormation) or 'ThrottlingException' (Secrets Manager) */
  code?: string;
  /** @default 'Rate exceeded' */
  message?: string;
}

export interface AwsCall extends LoggedCall {
  service: AwsService | 'unknown';
  action: string;
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

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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
  private readonly buckets = new Map<string, Map<string, ObjectView>>();
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

  /** Writes an object (as Qualys would), creating the bucket when needed. */
  putObject(bucket: string, key: string, opts: { size?: number; lastModified?: number } = {}): void {
    this.createBucket(bucket);
    this.buckets.get(bucket)!.set(key, { key, size: opts.size ?? 1024, lastModified: opts.lastModified ?? this.now() });
  }

  objects(bucket: string): ObjectView[] {
    return [...(this.buckets.get(bucket)?.values() ?? [])]
      .map((o) => ({ ...o }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
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

  protected describe(req: http.IncomingMessage, raw: string, at: number): DescribedRequest<AwsCall> {
    const target = header(req, 'x-amz-target');
    const auth = header(req, 'authorization') ?? '';
    const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1];

    let service: AwsService | 'unknown' = 'unknown';
    let action = '';
    let params = new URLSearchParams();
    if (target) {
      const [prefix, op] = target.split('.');
      service = prefix.toLowerCase() === 'secretsmanager' ? 'secretsmanager' : 'unknown';
      action = op ?? '';
    } else if (scope === 's3') {
      service = 's3';
      const url = new URL(req.url ?? '/', 'http://fake');
      params = url.searchParams;
      action =
        req.method === 'GET' && params.get('list-type') === '2' ? 'ListObjectsV2' : `${req.method} ${url.pathname}`;
      params.set('Bucket', decodeURIComponent(url.pathname.split('/')[1] ?? ''));
    } else {
      const query = new URL(req.url ?? '/', 'http://fake').searchParams;
      params = req.method === 'POST' ? new URLSearchParams(raw) : query;
      action = params.get('Action') ?? '';
      service =
        QUERY_VERSIONS[params.get('Version') ?? ''] ??
        (scope === 'iam' || scope === 'cloudformation' || scope === 'sts' ? scope : 'unknown');
    }
    const call: AwsCall = { service, action, at, status: 0 };
    const json = service === 'secretsmanager';
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
        return this.dispatch(service, action, params, body);
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        return errorReply(service, error);
      }
    };
    return { call, answer };
  }

  protected faultMatches(fault: AwsFault, call: AwsCall): boolean {
    return (
      (fault.service === undefined || fault.service === call.service) &&
      (fault.action === undefined || fault.action === call.action)
    );
  }

  /** A fault always answers: a throttling error unless it says otherwise. */
  protected faultReply(fault: AwsFault, call: AwsCall): Reply {
    const status = fault.status ?? 400;
    const code = fault.code ?? (call.service === 'secretsmanager' ? 'ThrottlingException' : 'Throttling');
    return errorReply(call.service, new AwsError(status, code, fault.message ?? 'Rate exceeded'));
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
      body: reply.body.replace(/\{\{RequestId\}\}/g, requestId),
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
      case 's3:ListObjectsV2':
        return this.listObjectsV2(params);
      default:
        if (service === 'secretsmanager')
          throw new AwsError(400, 'UnknownOperationException', `Unknown operation ${action}`);
        if (service === 's3') throw new AwsError(501, 'NotImplemented', `FakeAws implements no S3 operation ${action}`);
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

  private listObjectsV2(params: URLSearchParams): Reply {
    const bucket = params.get('Bucket') ?? '';
    const objects = this.buckets.get(bucket);
    if (!objects) throw new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (this.denied.has(`s3:${bucket}`)) throw new AwsError(403, 'AccessDenied', 'Access Denied');
    const prefix = params.get('prefix') ?? '';
    const delimiter = params.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Number(params.get('max-keys') ?? '1000'));
    const token = params.get('continuation-token');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (params.get('start-after') ?? '');
    // Keys and common prefixes in one sorted stream, as S3 pages them.
    const entries: Array<{ key: string; object?: ObjectView }> = [];
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
          `<ETag>&quot;${randomId(32).toLowerCase()}&quot;</ETag><Size>${e.object!.size}</Size><StorageClass>STANDARD</StorageClass>` +
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

  /** ListObjectsV2 on this bucket answers AccessDenied from now on. */
  denyBucket(bucket: string): void {
    this.denied.add(`s3:${bucket}`);
  }

  private roleArn(name: string): string {
    const role = this.roles.get(name);
    return `arn:aws:iam::${this.account}:role${role?.path ?? '/'}${name}`;
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
