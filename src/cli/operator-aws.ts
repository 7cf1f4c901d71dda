/**
 * The AWS calls the operator CLI makes with the user's own credentials (the standard SDK
 * chain: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...). Read-only: nothing here changes
 * anything in the account.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type SecretReader, sdkSecretReader } from '../core/aws';
import { type PolicyDocument, parsePolicy } from '../core/trust-policy';

export interface RoleInfo {
  readonly name: string;
  readonly arn: string;
  readonly trustPolicy: PolicyDocument;
}

export interface StackInfo {
  readonly stackId: string;
  readonly status: string;
  readonly outputs: Readonly<Record<string, string>>;
}

/** A stack's resource as CloudFormation holds it. */
export interface StackResourceInfo {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
}

export interface ObjectInfo {
  readonly key: string;
  readonly lastModified: number;
  readonly size: number;
}

export interface Listing {
  readonly objects: readonly ObjectInfo[];
  readonly prefixes: readonly string[];
}

export interface OperatorAws {
  /** The region the environment's resources are in. */
  readonly region: string;
  identity(): Promise<{ account: string; arn: string }>;
  readonly secrets: SecretReader;
  /** Undefined when there is no such role. */
  role(name: string): Promise<RoleInfo | undefined>;
  /** Every role of the account, page by page. */
  roles(): AsyncIterable<RoleInfo>;
  /** Undefined when there is no such (live) stack. */
  stack(name: string): Promise<StackInfo | undefined>;
  /** The stack's deployed template (its original form) and its resources; undefined when there is no such stack. */
  deployedTemplate(
    name: string,
  ): Promise<{ template: Record<string, unknown>; resources: readonly StackResourceInfo[] } | undefined>;
  /** Every page of a listing (bounded by `maxPages`). */
  list(bucket: string, options: { prefix: string; delimiter?: string; maxPages?: number }): Promise<Listing>;
}

/** No single AWS call may hold the CLI longer than this. */
const CALL_TIMEOUT_MS = 20_000;
const SDK_OPTIONS = { maxAttempts: 4 };

/**
 * The SDK modules, each required when a check first calls that service: `--help`, a usage or
 * configuration error load none of them (together they are most of the CLI's start-up time).
 * A plain require, as in src/core/aws.ts: import() would load the SDK's slower ES-module build.
 */
const sdk = {
  sts: () => require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts'),
  iam: () => require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam'),
  cloudFormation: () => require('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation'),
  s3: () => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'),
  secretsManager: () => require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager'),
};

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

/** The region of the environment: the configured one, else the SDK chain's (AWS_REGION, profile). */
export async function resolveRegion(configured: string | undefined): Promise<string | undefined> {
  if (configured) return configured;
  try {
    return (await new (sdk.sts().STSClient)(SDK_OPTIONS).config.region()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param onRetry told of each retry the SDK makes (throttling, a dropped connection), which it
 *   otherwise makes silently
 */
export function sdkOperatorAws(region: string, onRetry: (what: string) => void = () => {}): OperatorAws {
  const options = { ...SDK_OPTIONS, region };
  const watched = <C extends Parameters<typeof reportRetries>[0]>(client: C): C => {
    reportRetries(client, onRetry);
    return client;
  };
  const sts = once(() => watched(new (sdk.sts().STSClient)(options)));
  const iam = once(() => watched(new (sdk.iam().IAMClient)(options)));
  const cfn = once(() => watched(new (sdk.cloudFormation().CloudFormationClient)(options)));
  const s3 = once(() => watched(new (sdk.s3().S3Client)(options)));
  const secretsManager = once(
    (): SecretsManagerClient => watched(new (sdk.secretsManager().SecretsManagerClient)(options)),
  );
  const signal = () => ({ abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) });

  return {
    region,
    secrets: sdkSecretReader(async () => secretsManager()),

    async identity() {
      const { GetCallerIdentityCommand } = sdk.sts();
      const out = await sts().send(new GetCallerIdentityCommand({}), signal());
      return { account: out.Account ?? '', arn: out.Arn ?? '' };
    },

    async role(name) {
      const { GetRoleCommand } = sdk.iam();
      try {
        const out = await iam().send(new GetRoleCommand({ RoleName: name }), signal());
        return toRole(out.Role);
      } catch (error) {
        if ((error as Error).name === 'NoSuchEntityException' || (error as Error).name === 'NoSuchEntity')
          return undefined;
        throw error;
      }
    },

    async *roles() {
      const { ListRolesCommand } = sdk.iam();
      let marker: string | undefined;
      do {
        const out = await iam().send(new ListRolesCommand({ Marker: marker, MaxItems: 1000 }), signal());
        for (const role of out.Roles ?? []) {
          const info = toRole(role);
          if (info) yield info;
        }
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
    },

    async stack(name) {
      const { DescribeStacksCommand } = sdk.cloudFormation();
      try {
        const out = await cfn().send(new DescribeStacksCommand({ StackName: name }), signal());
        const stack = out.Stacks?.[0];
        if (!stack?.StackId || !stack.StackStatus) return undefined;
        const outputs: Record<string, string> = {};
        for (const o of stack.Outputs ?? [])
          if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
        return { stackId: stack.StackId, status: stack.StackStatus, outputs };
      } catch (error) {
        if (/does not exist/.test((error as Error).message)) return undefined;
        throw error;
      }
    },

    async deployedTemplate(name) {
      const { GetTemplateCommand, DescribeStackResourcesCommand } = sdk.cloudFormation();
      try {
        const body = await cfn().send(new GetTemplateCommand({ StackName: name, TemplateStage: 'Original' }), signal());
        const listed = await cfn().send(new DescribeStackResourcesCommand({ StackName: name }), signal());
        const resources: StackResourceInfo[] = [];
        for (const r of listed.StackResources ?? [])
          if (r.LogicalResourceId && r.ResourceType && r.PhysicalResourceId)
            resources.push({ logicalId: r.LogicalResourceId, type: r.ResourceType, physicalId: r.PhysicalResourceId });
        return { template: JSON.parse(body.TemplateBody ?? '{}') as Record<string, unknown>, resources };
      } catch (error) {
        if (/does not exist/.test((error as Error).message)) return undefined;
        throw error;
      }
    },

    async list(bucket, { prefix, delimiter, maxPages = 20 }) {
      const { ListObjectsV2Command } = sdk.s3();
      const objects: ObjectInfo[] = [];
      const prefixes: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const out = await s3().send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
          signal(),
        );
        for (const o of out.Contents ?? []) {
          if (o.Key) objects.push({ key: o.Key, lastModified: o.LastModified?.getTime() ?? 0, size: o.Size ?? 0 });
        }
        for (const p of out.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
        if (!token) break;
      }
      return { objects, prefixes };
    },
  };
}

/** Every attempt after the first passes here, after the SDK's retry step. */
function reportRetries(
  // biome-ignore lint/complexity/noBannedTypes: each SDK client types its middleware stack differently; the call below is the same for all
  client: { middlewareStack: { addRelativeTo: Function } },
  onRetry: (what: string) => void,
): void {
  client.middlewareStack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) =>
      async (args: { request?: { headers?: Record<string, string> } }) => {
        const attempt = /attempt=(\d+)/.exec(args.request?.headers?.['amz-sdk-request'] ?? '')?.[1];
        if (attempt && Number(attempt) > 1) onRetry(`${context.commandName ?? 'AWS call'}: attempt ${attempt}`);
        return next(args);
      },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'operatorRetryProgress' },
  );
}

function toRole(
  role: { RoleName?: string; Arn?: string; AssumeRolePolicyDocument?: string } | undefined,
): RoleInfo | undefined {
  if (!role?.RoleName || !role.Arn || !role.AssumeRolePolicyDocument) return undefined;
  // IAM returns the document URL-encoded.
  return {
    name: role.RoleName,
    arn: role.Arn,
    trustPolicy: parsePolicy(decodeURIComponent(role.AssumeRolePolicyDocument)),
  };
}
