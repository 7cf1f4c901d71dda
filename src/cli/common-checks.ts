/** What both commands share: the first checks (whose AWS credentials, the secret, the Qualys login) and their helpers. */
import type { IntegrationKind } from '../core/contract';
import { QualysApiError, errorMessage } from '../core/errors';
import type { QualysClient, QualysCredentials } from '../core/qualys/client';
import type { EnvironmentConfig } from '../config/config';
import { diagnoseAuthFailure } from './auth-diagnosis';
import { type CheckDefinition, fail, pass } from './checklist';
import { CREDENTIALS_PLACEHOLDER, type CommandContext, credentialsOf, qualysClient } from './context';

/** What the checks found that later checks use. */
export interface SharedFacts {
  /** The account of the user's credentials, once `aws-identity` passed. */
  account?: string;
  credentials?: QualysCredentials;
  /** A logged-in client, once `qualys-auth` passed. */
  qualys?: QualysClient;
}

/** The configured secret as `create-secret` / `put-secret-value` name it, and where. */
export function secretCommands(env: EnvironmentConfig, region: string | undefined): { create: string; put: string } {
  const arn = /^arn:[^:]+:secretsmanager:([^:]+):\d{12}:secret:(.+)$/.exec(env.credentialsSecret);
  // An ARN ends in "-" and six random characters that Secrets Manager adds to the name.
  const name = arn ? arn[2].replace(/-[A-Za-z0-9]{6}$/, '') : env.credentialsSecret;
  const where = arn?.[1] ?? region;
  const regionArg = where ? ` --region ${where}` : '';
  const value = ` --secret-string '${CREDENTIALS_PLACEHOLDER}'`;
  return {
    create:
      `create it with: aws secretsmanager create-secret --name ${shellWord(name)}${regionArg}${value}` +
      (arn ? ', then set "credentialsSecret" to the ARN it prints (a new secret gets a new ARN suffix)' : '') +
      ' (README: "Create the credentials secret")',
    put: `store the credentials as JSON: aws secretsmanager put-secret-value --secret-id ${shellWord(env.credentialsSecret)}${regionArg}${value}`,
  };
}

function shellWord(text: string): string {
  return /^[\w/+=.@:-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** Whose credentials: fails without working credentials, or with credentials for another account than the configured one. */
export function identityCheck(ctx: CommandContext, facts: SharedFacts): CheckDefinition {
  const { env } = ctx;
  return {
    id: 'aws-identity',
    title: 'AWS credentials',
    remedyOnError: 'configure AWS credentials (aws configure, AWS_PROFILE, aws sso login) and run again',
    async run() {
      if (!ctx.aws)
        return fail(
          'no region to call AWS in',
          'set "region" for this environment, or AWS_REGION / a region in your AWS profile',
        );
      const who = await ctx.aws.identity();
      if (env.account && env.account !== who.account) {
        return fail(
          `account ${who.account} (${who.arn}), but the environment is in ${env.account}`,
          `use credentials for account ${env.account} (AWS_PROFILE=...), or correct "account" in the configuration`,
          { account: who.account, arn: who.arn },
        );
      }
      facts.account = who.account;
      return pass(`account ${who.account} as ${who.arn}`, { account: who.account, arn: who.arn });
    },
  };
}

/** Reads the secret: only with credentials for the right account (another account's secret of that name is not this one). */
export function secretCheck(ctx: CommandContext, facts: SharedFacts): CheckDefinition {
  const { env } = ctx;
  const commands = secretCommands(env, ctx.region);
  return {
    id: 'secret',
    title: 'credentials secret',
    needs: ['aws-identity'],
    withoutNeeds: { 'aws-identity': 'the secret is read with those credentials, in that account' },
    async run() {
      try {
        facts.credentials = await credentialsOf(ctx);
      } catch (error) {
        const message = errorMessage(error);
        if (/does not exist/.test(message)) return fail(message, commands.create);
        if (/access was denied/.test(message)) {
          return fail(
            message,
            `let your AWS identity read it (secretsmanager:GetSecretValue, and kms:Decrypt if it uses a customer-managed key), or run with credentials that may`,
          );
        }
        if (/is not JSON|lacks|no SecretString/.test(message)) return fail(message, commands.put);
        return fail(
          message,
          `run again; if it persists, check that the secret "${env.credentialsSecret}" exists and is readable (${commands.create})`,
        );
      }
      return pass(`"${env.credentialsSecret}" is readable and has username and password`);
    },
  };
}

/** Logs in with the secret's credentials, as the Lambda will. */
export function loginCheck(ctx: CommandContext, facts: SharedFacts): CheckDefinition {
  const { env } = ctx;
  return {
    id: 'qualys-auth',
    title: 'Qualys login (POST /auth)',
    needs: ['secret'],
    async run() {
      const client = qualysClient(ctx, facts.credentials!);
      const started = ctx.now();
      try {
        await client.token();
      } catch (error) {
        return diagnoseAuthFailure(error, env.gatewayUrl, env.credentialsSecret);
      }
      facts.qualys = client;
      return pass(`${env.gatewayUrl} issued a token in ${ctx.now() - started} ms`);
    },
  };
}

/**
 * Which of the shapes the guide allows this gateway answered in (list, details, register,
 * update and CIPS answers), as the client read them: the guide leaves these open, so an
 * operator should see which reading the real service takes.
 */
export function readingsCheck(facts: SharedFacts): CheckDefinition {
  return {
    id: 'qualys-readings',
    title: 'Qualys answer shapes',
    needs: ['qualys-auth'],
    async run() {
      const readings = Object.fromEntries(facts.qualys!.readings);
      const text = Object.entries(readings)
        .map(([topic, reading]) => `${topic}: ${reading}`)
        .join('; ');
      return pass(text || 'no answer was read', { readings });
    },
  };
}

export function configuredKinds(ctx: CommandContext): IntegrationKind[] {
  return [...(ctx.env.vm ? ['vm' as const] : []), ...(ctx.env.pc ? ['pc' as const] : [])];
}

export function apiRefusal(
  error: unknown,
  what: string,
  permissions = 'API access, the Manager or Unit Manager role, and (for PC) CIPS',
) {
  if (error instanceof QualysApiError && (error.status === 401 || error.status === 403)) {
    return fail(
      `${what}: HTTP ${error.status}${error.qualysMessage ? ` (${error.qualysMessage})` : ''}`,
      `ask your Qualys administrator to grant the user ${permissions}`,
    );
  }
  return fail(errorMessage(error), 'run again; if it persists, check status.qualys.com');
}
