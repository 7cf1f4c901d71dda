/**
 * What every command works with: the environment's configuration, the user's AWS access in
 * the environment's region, and the Qualys client the Lambda uses (same module: auth, token
 * handling, retries, endpoints), built from the credentials in the environment's secret.
 */
import { readCredentials } from '../core/aws';
import { SecretError } from '../core/errors';
import { undiciTransport } from '../core/qualys/transport';
import { Logger } from '../core/log';
import { type ConnectorApi, connectorApi } from '../core/qualys/connectors';
import { QualysClient, type QualysCredentials } from '../core/qualys/client';
import type { EnvironmentConfig, QualysS3Config } from '../config/config';
import type { Checklist } from './checklist';
import type { OperatorAws } from './operator-aws';

export interface CommandContext {
  readonly config: QualysS3Config;
  readonly env: EnvironmentConfig;
  /** The environment's region, configured or from the SDK chain; undefined when neither names one. */
  readonly region?: string;
  /** Undefined when no region could be resolved. */
  readonly aws?: OperatorAws;
  readonly checklist: Checklist;
  /** Shows a long step's progress (retries, pages) to a person; silent under --json. */
  readonly progress: (text: string) => void;
  readonly now: () => number;
  /** The one logger: the Qualys client registers the password and each token with it, and every output line is redacted by it. */
  readonly log: Logger;
  /** Per Qualys request. @default 15 s */
  readonly requestTimeoutMs?: number;
}

/** Qualys calls from the CLI give up sooner than the Lambda's: a person is waiting. */
const REQUEST_TIMEOUT_MS = 15_000;
const QUALYS_BUDGET_MS = 60_000;

export async function credentialsOf(ctx: CommandContext): Promise<QualysCredentials> {
  if (!ctx.aws)
    throw new SecretError('No AWS region: set "region" for this environment, or AWS_REGION / a profile region');
  return readCredentials(ctx.aws.secrets, ctx.env.credentialsSecret, { signal: AbortSignal.timeout(20_000) });
}

/**
 * The shared Qualys client. It honours HTTPS_PROXY / NO_PROXY of the CLI's own environment;
 * the environment's `proxyUrl` is the Lambda's network path and is not used from here.
 */
export function qualysClient(ctx: CommandContext, credentials: QualysCredentials): QualysClient {
  return new QualysClient({
    gatewayUrl: ctx.env.gatewayUrl,
    credentials,
    credentialsSource: `secret "${ctx.env.credentialsSecret}"`,
    transport: undiciTransport(ctx.requestTimeoutMs ?? REQUEST_TIMEOUT_MS),
    log: ctx.log,
    deadline: ctx.now() + Math.max(QUALYS_BUDGET_MS, 3 * (ctx.requestTimeoutMs ?? REQUEST_TIMEOUT_MS)),
    maxAttempts: 3,
    tokenCache: new Map(),
  });
}

/** The connector API's client for the environment's `cloudView` (the same credentials, on its own host). */
export function connectorClient(ctx: CommandContext, credentials: QualysCredentials): ConnectorApi {
  const cloudView = ctx.env.cloudView!;
  return connectorApi(cloudView.api, {
    apiUrl: cloudView.apiUrl,
    credentials,
    credentialsSource: `secret "${ctx.env.credentialsSecret}"`,
    transport: undiciTransport(ctx.requestTimeoutMs ?? REQUEST_TIMEOUT_MS),
    log: ctx.log,
    deadline: ctx.now() + Math.max(QUALYS_BUDGET_MS, 3 * (ctx.requestTimeoutMs ?? REQUEST_TIMEOUT_MS)),
    maxAttempts: 3,
  });
}

/** The CLI's logger: every line to --verbose, and retries (the typed event, not its line) as progress. */
export function operatorLogger(trace: (line: string) => void, progress: (text: string) => void): Logger {
  return new Logger(trace, {
    listeners: [
      (entry) => {
        if (entry.event !== 'qualys.retrying') return;
        const { step, attempt, error, delayMs } = entry.fields;
        progress(
          `${step}: attempt ${attempt} failed (${error}); retrying in ${Math.round((delayMs ?? 0) / 100) / 10} s`,
        );
      },
    ],
  });
}

/**
 * Texts the CLI authored to be pasted, kept as written: the logger's password-field rule
 * would turn their `"password":"<placeholder>"` into `"password":"***"`. Only these exact
 * texts are spared; everything around them is redacted as usual.
 */
/**
 * What the secret should hold, as the user types it. Placeholders, not `...` or `***`: a
 * pasted `***` would become the password.
 */
export const CREDENTIALS_PLACEHOLDER = '{"username":"<your-qualys-username>","password":"<your-qualys-password>"}';

const PASTEABLE = [
  CREDENTIALS_PLACEHOLDER,
  // The Lambda's own message naming the secret's shape.
  '{"username":"...","password":"..."}',
];

export function keepPlaceholders(
  redact: (text: string) => string,
  names: readonly string[] = [],
): (text: string) => string {
  // Names the user configured (the secret's, which may hold "password=") are shown as written.
  const kept = [...PASTEABLE, ...names.filter((n) => n.length >= 8)]
    .sort((a, b) => b.length - a.length)
    .flatMap((t) => [t, JSON.stringify(t).slice(1, -1)]);
  const go = (text: string, i: number): string =>
    i === kept.length
      ? redact(text)
      : text
          .split(kept[i])
          .map((part) => go(part, i + 1))
          .join(kept[i]);
  return (text) => go(text, 0);
}
