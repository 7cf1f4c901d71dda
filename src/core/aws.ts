/**
 * The AWS calls the handler makes, each behind a small interface so that the lifecycle
 * can be tested with fakes. The SDK modules are loaded and the clients created on first
 * use: a cold start that needs none of them (an update with nothing to do) loads none, and
 * the CloudFormation client is loaded only for the rare delete that needs it.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IntegrationError, SecretError, TrustPolicyError } from './errors';
import type { QualysCredentials } from './qualys/client';
import { type PolicyDocument, parsePolicy } from './trust-policy';

/** Per-call options: a signal that ends a call AWS does not answer in time. */
export interface AwsCallOptions {
  readonly signal?: AbortSignal;
}

export interface SecretReader {
  /** The SecretString of a secret. */
  read(secretId: string, options?: AwsCallOptions): Promise<string>;
}

export interface RoleTrustStore {
  read(roleName: string, options?: AwsCallOptions): Promise<PolicyDocument>;
  write(roleName: string, policy: PolicyDocument, options?: AwsCallOptions): Promise<void>;
}

export interface StackStatusReader {
  /** The stack's status, e.g. "ROLLBACK_IN_PROGRESS"; undefined when it cannot be read. */
  status(stackId: string, options?: AwsCallOptions): Promise<string | undefined>;
}

/**
 * A signal for one AWS call: the SDK sets no time limit of its own, and a call that hangs
 * must not keep the handler from cleaning up and answering CloudFormation.
 */
export function awsCallSignal(deadline: number, now: number): AbortSignal {
  return AbortSignal.timeout(Math.min(AWS_CALL_MAX_MS, Math.max(AWS_CALL_MIN_MS, deadline - now)));
}
const AWS_CALL_MAX_MS = 30_000;
const AWS_CALL_MIN_MS = 2_000;

/** Runs one SDK call; a call ended by its signal becomes an error that says which call did not answer. */
async function sdkCall<T>(
  what: string,
  options: AwsCallOptions | undefined,
  call: (abortSignal?: AbortSignal) => Promise<T>,
): Promise<T> {
  try {
    return await call(options?.signal);
  } catch (error) {
    if (options?.signal?.aborted) {
      throw new IntegrationError(
        `${what} failed: AWS did not answer in time; deploy again, or check the AWS Health Dashboard`,
        { cause: error },
      );
    }
    throw error;
  }
}

const SDK_RETRY = { maxAttempts: 5 };

/**
 * The SDK modules, required on first use. A plain require, not import(): the bundle is
 * CommonJS, and import() would send Node through the SDK's ES-module build, several times
 * slower to load.
 */
const sdk = {
  secretsManager: () => require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager'),
  iam: () => require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam'),
  cloudFormation: () => require('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation'),
};

export function sdkSecretReader(
  client = lazy(async (): Promise<SecretsManagerClient> => new (sdk.secretsManager().SecretsManagerClient)(SDK_RETRY)),
): SecretReader {
  return {
    async read(secretId, options) {
      const { GetSecretValueCommand } = sdk.secretsManager();
      const out = await sdkCall(`Reading secret "${secretId}"`, options, async (abortSignal) =>
        (await client()).send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal }),
      );
      if (out.SecretString === undefined) {
        throw new SecretError(
          `Secret "${secretId}" has no SecretString; store {"username":"...","password":"..."} as a string secret`,
        );
      }
      return out.SecretString;
    },
  };
}

export function sdkRoleTrustStore(
  client = lazy(async (): Promise<IAMClient> => new (sdk.iam().IAMClient)(SDK_RETRY)),
): RoleTrustStore {
  return {
    async read(roleName, options) {
      const { GetRoleCommand } = sdk.iam();
      const out = await sdkCall(
        `Reading the trust policy of role ${roleName} (iam:GetRole)`,
        options,
        async (abortSignal) => (await client()).send(new GetRoleCommand({ RoleName: roleName }), { abortSignal }),
      );
      const encoded = out.Role?.AssumeRolePolicyDocument;
      if (!encoded) throw new TrustPolicyError(`Role ${roleName} has no trust policy`);
      // IAM returns the document URL-encoded.
      return parsePolicy(decodeURIComponent(encoded));
    },
    async write(roleName, policy, options) {
      const { UpdateAssumeRolePolicyCommand } = sdk.iam();
      await sdkCall(
        `Updating the trust policy of role ${roleName} (iam:UpdateAssumeRolePolicy)`,
        options,
        async (abortSignal) =>
          (await client()).send(
            new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(policy) }),
            { abortSignal },
          ),
      );
    },
  };
}

export function sdkStackStatusReader(
  client = lazy(async (): Promise<CloudFormationClient> => new (sdk.cloudFormation().CloudFormationClient)(SDK_RETRY)),
): StackStatusReader {
  return {
    async status(stackId, options) {
      try {
        const { DescribeStacksCommand } = sdk.cloudFormation();
        const out = await (await client()).send(new DescribeStacksCommand({ StackName: stackId }), {
          abortSignal: options?.signal,
        });
        return out.Stacks?.[0]?.StackStatus;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Reads and checks the Qualys credentials. Errors name the secret and what is wrong with
 * it, never its value.
 */
export async function readCredentials(
  secrets: SecretReader,
  secretId: string,
  options?: AwsCallOptions,
): Promise<QualysCredentials> {
  let text: string;
  try {
    text = await secrets.read(secretId, options);
  } catch (error) {
    // Already in words a person can act on (a SecretError, or a call that did not answer in time).
    if (error instanceof IntegrationError) throw error;
    const name = (error as { name?: string }).name ?? 'Error';
    const hint =
      name === 'ResourceNotFoundException'
        ? 'it does not exist in this account and region; create it as README.md shows'
        : name === 'AccessDeniedException'
          ? 'access was denied; if the secret is encrypted with a customer-managed KMS key, allow the handler role to decrypt with it'
          : name === 'DecryptionFailure'
            ? 'Secrets Manager could not decrypt it with its KMS key'
            : `${name}`;
    throw new SecretError(`Reading the Qualys credentials from secret "${secretId}" failed: ${hint}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SecretError(
      `Secret "${secretId}" is not JSON; its SecretString must be {"username":"...","password":"..."}`,
    );
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const missing = ['username', 'password'].filter(
    (k) => typeof record[k] !== 'string' || (record[k] as string).length === 0,
  );
  if (missing.length > 0) {
    throw new SecretError(
      `Secret "${secretId}" lacks ${missing.map((m) => `"${m}"`).join(' and ')} (non-empty strings); ` +
        'its SecretString must be {"username":"...","password":"..."}',
    );
  }
  return { username: record.username as string, password: record.password as string };
}

/** One value, made on first use and reused (a promise, so concurrent first uses share it). */
function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}
