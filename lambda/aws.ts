/**
 * The AWS calls the handler makes, each behind a small interface so that the lifecycle
 * can be tested with fakes. The SDK modules are loaded and the clients created on first
 * use: a cold start that needs none of them (an update with nothing to do) loads none, and
 * the CloudFormation client is loaded only for the rare delete that needs it.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError, TrustPolicyError } from './errors';
import { QualysCredentials } from './qualys-client';
import { PolicyDocument, parsePolicy } from './trust-policy';

export interface SecretReader {
  /** The SecretString of a secret. */
  read(secretId: string): Promise<string>;
}

export interface RoleTrustStore {
  read(roleName: string): Promise<PolicyDocument>;
  write(roleName: string, policy: PolicyDocument): Promise<void>;
}

export interface StackStatusReader {
  /** The stack's status, e.g. "ROLLBACK_IN_PROGRESS"; undefined when it cannot be read. */
  status(stackId: string): Promise<string | undefined>;
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
    async read(secretId) {
      const { GetSecretValueCommand } = sdk.secretsManager();
      const out = await (await client()).send(new GetSecretValueCommand({ SecretId: secretId }));
      if (out.SecretString === undefined) {
        throw new SecretError(`Secret "${secretId}" has no SecretString; store {"username":"...","password":"..."} as a string secret`);
      }
      return out.SecretString;
    },
  };
}

export function sdkRoleTrustStore(
  client = lazy(async (): Promise<IAMClient> => new (sdk.iam().IAMClient)(SDK_RETRY)),
): RoleTrustStore {
  return {
    async read(roleName) {
      const { GetRoleCommand } = sdk.iam();
      const out = await (await client()).send(new GetRoleCommand({ RoleName: roleName }));
      const encoded = out.Role?.AssumeRolePolicyDocument;
      if (!encoded) throw new TrustPolicyError(`Role ${roleName} has no trust policy`);
      // IAM returns the document URL-encoded.
      return parsePolicy(decodeURIComponent(encoded));
    },
    async write(roleName, policy) {
      const { UpdateAssumeRolePolicyCommand } = sdk.iam();
      await (await client()).send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(policy) }));
    },
  };
}

export function sdkStackStatusReader(
  client = lazy(async (): Promise<CloudFormationClient> => new (sdk.cloudFormation().CloudFormationClient)(SDK_RETRY)),
): StackStatusReader {
  return {
    async status(stackId) {
      try {
        const { DescribeStacksCommand } = sdk.cloudFormation();
        const out = await (await client()).send(new DescribeStacksCommand({ StackName: stackId }));
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
export async function readCredentials(secrets: SecretReader, secretId: string): Promise<QualysCredentials> {
  let text: string;
  try {
    text = await secrets.read(secretId);
  } catch (error) {
    if (error instanceof SecretError) throw error;
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
  const missing = ['username', 'password'].filter((k) => typeof record[k] !== 'string' || (record[k] as string).length === 0);
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
