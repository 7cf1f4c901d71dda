/** What both commands share: the first checks (whose AWS credentials, the secret, the Qualys login) and their helpers. */
import { IntegrationKind } from '../lambda/contract';
import { QualysApiError, errorMessage } from '../lambda/errors';
import { QualysClient, QualysCredentials } from '../lambda/qualys-client';
import { diagnoseAuthFailure } from './auth-diagnosis';
import { fail, pass } from './checklist';
import { CommandContext, credentialsOf, qualysClient } from './context';

export const SECRET_REMEDY =
  'create it with: aws secretsmanager create-secret --name <name> --secret-string \'{"username":"...","password":"..."}\' (README: "Create the credentials secret")';

/** The account the user's credentials are for; undefined when they do not work. */
export async function checkIdentity(ctx: CommandContext): Promise<string | undefined> {
  const { env } = ctx;
  let account: string | undefined;
  await ctx.checklist.check(
    'aws-identity',
    'AWS credentials',
    async () => {
      if (!ctx.aws) return fail('no region to call AWS in', 'set "region" for this environment, or AWS_REGION / a region in your AWS profile');
      const who = await ctx.aws.identity();
      if (env.account && env.account !== who.account) {
        return fail(
          `account ${who.account} (${who.arn}), but the environment is in ${env.account}`,
          `use credentials for account ${env.account} (AWS_PROFILE=...), or correct "account" in the configuration`,
          { account: who.account, arn: who.arn },
        );
      }
      account = who.account;
      return pass(`account ${who.account} as ${who.arn}`, { account: who.account, arn: who.arn });
    },
    'configure AWS credentials (aws configure, AWS_PROFILE, aws sso login) and run again',
  );
  return account;
}

/** Reads the secret and logs in; the client when both worked. */
export async function checkSecretAndLogin(ctx: CommandContext): Promise<QualysClient | undefined> {
  const { env, checklist } = ctx;
  let credentials: QualysCredentials | undefined;
  if (!ctx.aws) {
    checklist.skip('secret', 'credentials secret', 'needs an AWS region');
  } else {
    await checklist.check(
      'secret',
      'credentials secret',
      async () => {
        credentials = await credentialsOf(ctx);
        return pass(`"${env.credentialsSecret}" is readable and has username and password`);
      },
      SECRET_REMEDY,
    );
  }
  if (!credentials) {
    checklist.skip('qualys-auth', 'Qualys login (POST /auth)', 'needs the credentials secret');
    return undefined;
  }
  const client = qualysClient(ctx, credentials);
  const result = await checklist.check('qualys-auth', 'Qualys login (POST /auth)', async () => {
    const started = ctx.now();
    try {
      await client.token();
    } catch (error) {
      return diagnoseAuthFailure(error, env.gatewayUrl, env.credentialsSecret);
    }
    return pass(`${env.gatewayUrl} issued a token in ${ctx.now() - started} ms`);
  });
  return result.status === 'pass' ? client : undefined;
}

export function configuredKinds(ctx: CommandContext): IntegrationKind[] {
  return [...(ctx.env.vm ? ['vm' as const] : []), ...(ctx.env.pc ? ['pc' as const] : [])];
}

export function apiRefusal(error: unknown, what: string) {
  if (error instanceof QualysApiError && (error.status === 401 || error.status === 403)) {
    return fail(`${what}: HTTP ${error.status}${error.qualysMessage ? ` (${error.qualysMessage})` : ''}`, 'ask your Qualys administrator to grant the user API access to CloudView/TotalCloud connectors and CIPS');
  }
  return fail(errorMessage(error), 'run again; if it persists, check status.qualys.com');
}
