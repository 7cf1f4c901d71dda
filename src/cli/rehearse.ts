/**
 * `qualys-s3 rehearse [env]`: the whole lifecycle on this machine. Synthesizes the app with the
 * environment's configuration, takes the real bundled handler out of the cloud assembly, and
 * sends it what CloudFormation would on deploy, redeploy, a settings change, an external-ID
 * rotation and destroy, against the project's Qualys simulator and fake AWS endpoint (the
 * real AWS SDK and real HTTP, no account needed). Each step prints as it happens.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConnectorProp } from '../core/connector-contract';
import { PENDING_EXTERNAL_ID_PREFIX, Prop, qualysPrincipalArn } from '../core/contract';
import { errorMessage } from '../core/errors';
import type { LogEvent, LogListener } from '../core/log';
import type { EnvironmentConfig, QualysS3Config } from '../config/config';
import { stackName } from '../config/rules';
import { readRawConfig } from '../config/load-config';
import { Checklist, shortExternalId } from './checklist';
import type { CommandContext } from './context';
import { Logger } from '../core/log';
import { sdkOperatorAws } from './operator-aws';
import type { Handler } from '../../sim/cfn-emulator';
import { Deployment, ROOT, loadBundle, synthApp, trustedExternalIds } from '../../sim/deployment';
import { FakeAws } from '../../sim/fake-aws';
import { QualysSimulator } from '../../sim/qualys-simulator';
import { DEFAULT_DIALECT, DIALECTS, type DialectName } from '../../sim/qualys-dialect';

export interface RehearsalOptions {
  readonly config: QualysS3Config;
  readonly env: EnvironmentConfig;
  /** Where the configuration was read from (to re-read it as written). */
  readonly cwd: string;
  readonly configFile?: string;
  readonly print: (line: string) => void;
  readonly progress: (text: string) => void;
  readonly now: () => number;
  /** How long the fake IAM takes to show Qualys a new trust policy. @default 4000 */
  readonly propagationDelayMs?: number;
  /** The reading of the Qualys guide the simulator plays. @default 'strict' */
  readonly dialect?: DialectName;
}

export interface RehearsalStep {
  readonly step: string;
  readonly resource?: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly qualysCalls: number;
  readonly validateAttempts: number;
  readonly note: string;
}

/** Where the rehearsal does not use the configuration as written, and why. */
export interface RehearsalDeparture {
  /** The configuration field, e.g. "bucket.bucketName". */
  readonly field: string;
  readonly configured: unknown;
  /** What the rehearsal uses instead (null: left out). */
  readonly rehearsal: unknown;
  readonly why: string;
}

export interface RehearsalReport {
  readonly ok: boolean;
  readonly steps: RehearsalStep[];
  readonly departures: RehearsalDeparture[];
}

/**
 * What the rehearsal's synth needs beyond `dependencies`: tsx runs bin/app.ts (as cdk.json's
 * app command does) and esbuild bundles the handler from its sources. Both are
 * devDependencies: the rehearsal is a development tool, and an operator's `npm ci --omit=dev`
 * install, made for preflight and status, leaves them out.
 */
const SYNTH_TOOLS = ['tsx', 'esbuild'] as const;

/** Why the rehearsal cannot synthesize in this project folder (undefined: it can). */
export function synthToolsProblem(projectRoot: string): string | undefined {
  const missing = SYNTH_TOOLS.filter(
    (name) => !fs.existsSync(path.join(projectRoot, 'node_modules', name, 'package.json')),
  );
  if (!missing.length) return undefined;
  return (
    `rehearse synthesizes the app, which needs the devDependenc${missing.length === 1 ? 'y' : 'ies'} ${missing.map((m) => `"${m}"`).join(' and ')}, ` +
    `not installed in ${projectRoot} (an "npm ci --omit=dev" install); run "npm ci" there to install them, ` +
    'or use preflight and status, which need no devDependency'
  );
}

const ACCOUNT = '123456789012';
const USER = { username: 'rehearsal-user', password: 'Rehearsal-Only-Pa55' };

export async function rehearse(opts: RehearsalOptions): Promise<RehearsalReport> {
  const { env, print } = opts;
  const region = env.region ?? 'us-east-1';
  const account = env.account ?? ACCOUNT;
  const principal = qualysPrincipalArn(env.qualysAwsAccountId);
  const steps: RehearsalStep[] = [];
  const departures: RehearsalDeparture[] = [];
  const aws = new FakeAws({ account, region, propagationDelayMs: opts.propagationDelayMs ?? 4000 });
  const sim = new QualysSimulator({
    dialect: opts.dialect,
    users: [USER],
    trustChecker: aws.qualysTrustChecker(principal),
    onValidated: (_kind, d) => aws.putObject(d.bucketName, 'test-file.gz', { size: 20 }),
    // A connector run assumes its role a few seconds after it is asked for, as Qualys's do.
    connectors: { runTiming: { queuedMs: 2000, runningMs: 3000 } },
  });
  // Inside the project: the bundle leaves the AWS SDK to the Lambda runtime, and here it is found in node_modules.
  const outdir = fs.mkdtempSync(path.join(ROOT, '.tmp-rehearsal-'));
  const savedEnv = { ...process.env };
  let stopObserving = () => {};
  try {
    const missingTools = synthToolsProblem(ROOT);
    if (missingTools) throw new Error(missingTools);
    const awsUrl = await aws.start();
    const gateway = await sim.start();
    const secretName = env.credentialsSecret.startsWith('arn:') ? 'qualys/api-credentials' : env.credentialsSecret;
    departures.push({
      field: 'gatewayUrl',
      configured: env.gatewayUrl,
      rehearsal: gateway,
      why: 'the Qualys simulator stands in for the gateway',
    });
    if (secretName !== env.credentialsSecret) {
      departures.push({
        field: 'credentialsSecret',
        configured: env.credentialsSecret,
        rehearsal: secretName,
        why: 'an ARN names a secret in a real account; the fake Secrets Manager holds one by this name',
      });
    }
    aws.putSecret(secretName, JSON.stringify(USER));
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'AWS_PROFILE'])
      delete process.env[name];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: awsUrl,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'AKIDREHEARSAL',
      AWS_SECRET_ACCESS_KEY: 'rehearsal-only',
    });

    print(`  Qualys simulator  ${gateway} (stands in for ${env.gatewayUrl})`);
    print(
      `  fake AWS          ${awsUrl}: account ${account}, ${region}; IAM shows Qualys a new trust policy after ${(opts.propagationDelayMs ?? 4000) / 1000} s`,
    );
    print(`  secret            "${secretName}" holding a simulator user`);
    print(`  dialect           ${opts.dialect ?? 'strict'}: ${describeDialect(opts.dialect)}`);
    const { raw, written, dropped } = rehearsalConfig(opts, {
      gateway,
      apiUrl: sim.apiUrl,
      account,
      region,
      secretName,
    });
    if (env.cloudView) {
      departures.push({
        field: 'cloudView.apiUrl',
        configured: env.cloudView.apiUrl,
        rehearsal: sim.apiUrl,
        why: "the simulator's API server stands in for the connector API's host",
      });
      print(`  connector API     ${sim.apiUrl} (stands in for ${env.cloudView.apiUrl}, ${env.cloudView.api})`);
    }
    if (dropped.length) print(`  left out          ${dropped.join(', ')}: the handler runs on this machine`);
    for (const key of dropped)
      departures.push({
        field: key,
        configured: written[key],
        rehearsal: null,
        why: 'the handler runs on this machine',
      });
    if (secretName !== env.credentialsSecret)
      print(
        `  differs           credentialsSecret: the configured ARN is replaced by "${secretName}" in the fake Secrets Manager`,
      );
    print('');

    const name = stackName(env.envName);
    opts.progress('synthesizing the app (cdk synth) ...');
    print(`▶ synth: bin/app.ts with environment "${env.envName}"`);
    const synthStarted = opts.now();
    const synth = synthApp(raw, path.join(outdir, 'cdk.out'), name);
    const bundle = handlerBundle(loadBundle(synth.dir, synth.template));
    const handler = bundle.handler;
    // The handler logs to stdout, as in Lambda; here its events are narrated instead of shown raw.
    let narrate: LogListener = () => {};
    stopObserving = bundle.observeLogEvents((event) => narrate(event), { stdout: false });
    const deployment = new Deployment(synth.template, handler, { aws, stackName: name, account, region });
    aws.setStackStatus(name, 'CREATE_IN_PROGRESS');
    deployment.createPlainResources();
    aws.createBucket(deployment.bucketName);
    const resources = deployment.integrations().sort().reverse(); // VmIntegration before PcIntegration
    const connectors = deployment.connectors();
    print(
      `  ${name}: bucket ${deployment.bucketName}, ${resources.length} integration(s) (${((opts.now() - synthStarted) / 1000).toFixed(1)} s)`,
    );
    const configuredBucket = env.bucket.bucketName;
    if (configuredBucket !== undefined && configuredBucket !== deployment.bucketName) {
      departures.push({
        field: 'bucket.bucketName',
        configured: configuredBucket,
        rehearsal: deployment.bucketName,
        why: 'the fake CloudFormation names every bucket, as for a generated name',
      });
      print(
        `  differs           bucket.bucketName: "${configuredBucket}" is configured; the rehearsal's bucket is ${deployment.bucketName}`,
      );
    }
    steps.push({
      step: 'synth',
      ok: true,
      durationMs: opts.now() - synthStarted,
      qualysCalls: 0,
      validateAttempts: 0,
      note: `${resources.length} integration(s)`,
    });

    const kindOf = (id: string) => (id.startsWith('Vm') ? 'Vm' : 'Pc') as 'Vm' | 'Pc';
    const trust = (id: string) =>
      (connectors.includes(id)
        ? connectorTrust(aws, deployment, env.cloudView?.qualysAwsAccountId ?? env.qualysAwsAccountId)
        : trustedExternalIds(aws, deployment.roleName(kindOf(id)))
      )
        .map(mask)
        .join(', ') || '(none)';

    const run = async (
      step: string,
      id: string,
      describe: string,
      send: () => Promise<{ ok: boolean; reason?: string }>,
    ) => {
      print('');
      print(`▶ ${step} ${id}: ${describe}`);
      print(`    trust before    Qualys with external ID ${trust(id)}`);
      const firstCall = sim.calls.length;
      const started = opts.now();
      narrate = (event) => {
        const shown = narration(event);
        if (shown) print(`    ${shown}`);
      };
      let out: { ok: boolean; reason?: string };
      try {
        out = await send();
      } catch (error) {
        out = { ok: false, reason: errorMessage(error) };
      } finally {
        narrate = () => {};
      }
      const calls = sim.calls.length - firstCall;
      const attempts = sim.calls
        .slice(firstCall)
        .filter((c) => c.method === 'PATCH' && c.path.endsWith('/validate')).length;
      print(`    trust after     Qualys with external ID ${trust(id)}`);
      print(
        `    ${out.ok ? '✔' : '✖'} ${out.ok ? 'CloudFormation gets SUCCESS' : `CloudFormation gets FAILED: ${out.reason}`} (${calls} Qualys call${calls === 1 ? '' : 's'}, ${((opts.now() - started) / 1000).toFixed(1)} s)`,
      );
      steps.push({
        step,
        resource: id,
        ok: out.ok,
        durationMs: opts.now() - started,
        qualysCalls: calls,
        validateAttempts: attempts,
        note: out.ok ? describe : `${describe}: ${out.reason}`,
      });
      return out.ok;
    };

    for (const id of resources) {
      await run('create', id, 'cdk deploy (first)', () => deployment.create(id));
      const kind = kindOf(id) === 'Vm' ? 'vm' : 'pc';
      const [registered] = sim.integrations(kind);
      if (registered) {
        print(
          `    registered      ${kind.toUpperCase()} ${registered.integrationId} "${registered.name}": ${registered.bucketName} in ${registered.bucketRegion}, role ${registered.roleArn}, validated ${registered.integrationValidated}`,
        );
      }
    }
    for (const id of connectors) {
      await run(
        'create',
        id,
        'cdk deploy (first): create the connector, run it, wait until Qualys could assume the role',
        () => deployment.create(id),
      );
      for (const c of await sim.connectors()) {
        print(`    registered      connector ${c.id} "${c.name}": role ${c.arn}, state ${c.state ?? '?'}`);
      }
    }
    aws.setStackStatus(name, 'CREATE_COMPLETE');
    if (env.pc)
      print(
        `    CIPS            policies [${sim.cips().policies.join(', ')}], filter ${JSON.stringify(sim.cips().filter ?? null)}`,
      );

    const rehearsed = rehearsedEnvironment(raw, env.envName);
    /**
     * `qualys-s3 diff` against the stand-ins: the fake CloudFormation holds the stack as deployed
     * (template and physical IDs), and the configuration says what the next deploy would send.
     */
    const showDiff = async (describe: string, desired: EnvironmentConfig, expectChanges: boolean) => {
      print('');
      print(`▶ diff: ${describe}`);
      const started = opts.now();
      const firstCall = sim.calls.length;
      aws.setStackTemplate(name, deployment.template, deployedResources(deployment));
      const { diff, formatDiff } = require('./diff') as typeof import('./diff');
      const report = await diff(diffContext(desired, opts.config, region, opts.now));
      for (const line of formatDiff(report).trimEnd().split('\n')) print(line ? `  ${line}` : '');
      const calls = sim.calls.slice(firstCall);
      const writes = calls.filter((c) => c.method !== 'GET' && c.path !== '/auth').length;
      const ok = report.exitCode === (expectChanges ? 1 : 0) && writes === 0;
      print(
        `    ${ok ? '✔' : '✖'} exit ${report.exitCode} (${expectChanges ? 'changes pending' : 'no changes'} expected), ${calls.length} Qualys call${calls.length === 1 ? '' : 's'}, ${writes} write${writes === 1 ? '' : 's'}`,
      );
      steps.push({
        step: 'diff',
        ok,
        durationMs: opts.now() - started,
        qualysCalls: calls.length,
        validateAttempts: 0,
        note: `${describe}: exit ${report.exitCode}${report.error ? ` (${report.error})` : ''}`,
      });
    };

    await showDiff('after the deploy, nothing to change', rehearsed, false);

    for (const id of [...resources, ...connectors])
      await run('redeploy', id, 'cdk deploy again, nothing changed', () => deployment.update(id));

    let changed = rehearsed;
    const changes: Array<{ id: string; template: Template; change: string }> = [];
    for (const id of resources) {
      const next = changeSettings(changes.at(-1)?.template ?? deployment.template, id);
      changes.push({ id, ...next });
      const kind = kindOf(id) === 'Vm' ? 'vm' : 'pc';
      const integration = changed[kind];
      if (integration) changed = { ...changed, [kind]: { ...integration, settings: settingsOf(next.template, id) } };
    }
    await showDiff(`the configuration changed (${changes.map((c) => c.change).join('; ')})`, changed, true);

    for (const { id, change } of changes) {
      deployment.template = withProperty(
        deployment.template,
        id,
        Prop.Settings,
        changes.find((c) => c.id === id)!.template.Resources[id].Properties?.[Prop.Settings],
      );
      await run('update', id, `a settings change (${change})`, () => deployment.update(id));
    }
    for (const id of resources) {
      deployment.template = withProperty(deployment.template, id, Prop.ExternalIdRotation, `rehearsal-${opts.now()}`);
      const before = sim.integrations(kindOf(id) === 'Vm' ? 'vm' : 'pc')[0]?.externalId;
      await run('rotate', id, 'a new "externalIdRotation" value', () => deployment.update(id));
      const after = sim.integrations(kindOf(id) === 'Vm' ? 'vm' : 'pc')[0]?.externalId;
      print(`    external ID     ${before ? mask(before) : '?'} → ${after ? mask(after) : '?'}`);
    }

    for (const id of connectors) {
      const hours = Number(deployment.template.Resources[id].Properties?.[ConnectorProp.PollingHours] ?? 4);
      const next = hours >= 24 ? hours - 1 : hours + 1;
      deployment.template = withProperty(deployment.template, id, ConnectorProp.PollingHours, String(next));
      await run('update', id, `a connector change (pollingHours ${hours} → ${next}), in place`, () =>
        deployment.update(id),
      );
    }

    aws.setStackStatus(name, 'DELETE_IN_PROGRESS');
    for (const id of [...connectors, ...[...resources].reverse()])
      await run('delete', id, 'cdk destroy', () => deployment.delete(id));
    aws.setStackStatus(name, 'DELETE_COMPLETE');

    const leftConnectors = await sim.connectors();
    if (leftConnectors.length) print(`    connectors left ${leftConnectors.map((c) => c.id).join(', ')}`);
    const left = [...sim.integrations('vm'), ...sim.integrations('pc'), ...leftConnectors];
    const cleanup = left.length === 0;
    print('');
    print(
      `▶ after destroy: ${cleanup ? 'no integration left in Qualys' : `${left.length} integration(s) left in Qualys: ${left.map((i) => ('integrationId' in i ? i.integrationId : `connector ${i.id}`)).join(', ')}`}; CIPS policies [${sim.cips().policies.join(', ')}]`,
    );
    steps.push({
      step: 'cleanup',
      ok: cleanup,
      durationMs: 0,
      qualysCalls: 0,
      validateAttempts: 0,
      note: cleanup ? 'nothing left in Qualys' : `${left.length} integration(s) left`,
    });

    const ok = steps.every((s) => s.ok);
    const total = steps.reduce((n, s) => n + s.durationMs, 0);
    print('');
    print(
      `Summary: ${steps.filter((s) => s.ok).length}/${steps.length} steps succeeded in ${(total / 1000).toFixed(1)} s; ` +
        `${steps.reduce((n, s) => n + s.qualysCalls, 0)} Qualys calls, ${steps.reduce((n, s) => n + s.validateAttempts, 0)} validate attempts.`,
    );
    print(
      ok
        ? `Next: create the credentials secret, run \`npx qualys-s3 preflight ${env.envName}\`, then \`npx cdk deploy ${name}\`.`
        : 'A step failed: see the ✖ lines above.',
    );
    return { ok, steps, departures };
  } catch (error) {
    print(`✖ the rehearsal stopped: ${errorMessage(error)}`);
    steps.push({
      step: 'rehearsal',
      ok: false,
      durationMs: 0,
      qualysCalls: 0,
      validateAttempts: 0,
      note: errorMessage(error),
    });
    return { ok: false, steps, departures };
  } finally {
    stopObserving();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    await sim.stop();
    await aws.stop();
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The environment as written, pointed at the local fakes. */
function rehearsalConfig(
  opts: RehearsalOptions,
  local: { gateway: string; apiUrl: string; account: string; region: string; secretName: string },
): { raw: { environments: Record<string, unknown> }; written: Record<string, unknown>; dropped: string[] } {
  const all = readRawConfig({ file: opts.configFile, dir: opts.cwd }) as {
    environments?: Record<string, Record<string, unknown>>;
  };
  const written = { ...(all.environments?.[opts.env.envName] ?? {}) };
  // The handler runs on this machine: the Lambda's network path does not apply.
  const dropped = ['proxyUrl', 'vpc'].filter((key) => key in written);
  for (const key of ['platform', ...dropped]) delete written[key];
  const env = {
    ...written,
    gatewayUrl: local.gateway,
    account: local.account,
    region: local.region,
    credentialsSecret: local.secretName,
    ...(written.cloudView
      ? { cloudView: { ...(typeof written.cloudView === 'object' ? written.cloudView : {}), apiUrl: local.apiUrl } }
      : {}),
  };
  return {
    raw: { environments: { [opts.env.envName]: env } },
    written: all.environments?.[opts.env.envName] ?? {},
    dropped,
  };
}

type Template = Deployment['template'];

/** The external IDs the CloudView role's trust policy requires of Qualys's account (its `:root`). */
function connectorTrust(aws: FakeAws, deployment: Deployment, qualysAccount: string): string[] {
  const roleId = Object.keys(deployment.template.Resources).find(
    (id) => id.startsWith('CloudViewRole') && deployment.template.Resources[id].Type === 'AWS::IAM::Role',
  );
  const roleName = roleId && deployment.resolver.physicalIds.get(roleId);
  return roleName ? trustedExternalIds(aws, roleName, `arn:aws:iam::${qualysAccount}:root`) : [];
}

function withProperty(template: Template, id: string, key: string, value: unknown): Template {
  const copy = structuredClone(template);
  copy.Resources[id].Properties = { ...copy.Resources[id].Properties, [key]: value };
  return copy;
}

/** A settings change a user might make: one field of the resource's settings. */
function changeSettings(template: Template, id: string): { template: Template; change: string } {
  const text = template.Resources[id].Properties?.[Prop.Settings];
  const settings = (typeof text === 'string' ? JSON.parse(text) : (text ?? {})) as Record<string, unknown>;
  let change: string;
  if (typeof settings.minSeverity === 'number') {
    const next = settings.minSeverity === 5 ? 4 : settings.minSeverity + 1;
    change = `minSeverity ${settings.minSeverity} → ${next}`;
    settings.minSeverity = next;
  } else {
    change = `compressData ${settings.compressData} → ${!settings.compressData}`;
    settings.compressData = !settings.compressData;
  }
  return {
    template: withProperty(template, id, Prop.Settings, typeof text === 'string' ? JSON.stringify(settings) : settings),
    change,
  };
}

function settingsOf(template: Template, id: string): never {
  const text = template.Resources[id].Properties?.[Prop.Settings];
  return (typeof text === 'string' ? JSON.parse(text) : text) as never;
}

/** The rehearsal's configuration (the simulator's gateway, the fake secret) as the app reads it. */
function rehearsedEnvironment(raw: unknown, envName: string): EnvironmentConfig {
  // Loaded here, as the CLI loads it only when it reads a configuration (zod takes a tenth of a second).
  const { parseConfig } = require('../config/schema') as typeof import('../config/schema');
  const found = parseConfig(raw, 'the rehearsal configuration').environments.find((e) => e.envName === envName);
  if (!found) throw new Error(`the rehearsal configuration lost the environment "${envName}"`);
  return found;
}

/** The stack's resources as DescribeStackResources would list them. */
function deployedResources(deployment: Deployment): Array<{ logicalId: string; type: string; physicalId: string }> {
  return Object.entries(deployment.template.Resources).flatMap(([logicalId, r]) => {
    const physicalId = deployment.physicalIds.get(logicalId) ?? deployment.resolver.physicalIds.get(logicalId);
    return physicalId ? [{ logicalId, type: r.Type, physicalId }] : [];
  });
}

/** A command context like the CLI's, reaching the fake AWS (AWS_ENDPOINT_URL is set) and the simulator. */
function diffContext(
  env: EnvironmentConfig,
  config: QualysS3Config,
  region: string,
  now: () => number,
): CommandContext {
  return {
    config,
    env,
    region,
    aws: sdkOperatorAws(region),
    checklist: new Checklist({ progress: () => {}, result: () => {} }, now),
    progress: () => {},
    log: new Logger(() => {}),
    now,
  };
}

/** What rehearse needs of the bundle: the handler Lambda calls, and the seam to its log events. */
interface HandlerBundle {
  readonly handler: Handler;
  readonly observeLogEvents: (listener: LogListener, options: { readonly stdout?: boolean }) => () => void;
}

function handlerBundle(exports: Record<string, unknown>): HandlerBundle {
  if (typeof exports.handler !== 'function' || typeof exports.observeLogEvents !== 'function') {
    throw new Error(
      'the synthesized handler bundle does not export "handler" and "observeLogEvents"; ' +
        'it was built from another version of src/handler/handler.ts: run rehearse from this project',
    );
  }
  return exports as unknown as HandlerBundle;
}

/** The handler's event in words (undefined: not worth showing). The logger has already redacted it. */
export function narration(entry: LogEvent): string | undefined {
  switch (entry.event) {
    case 'qualys.call': {
      const { method, path, status, ms } = entry.fields;
      return `Qualys          ${String(method).padEnd(6)} ${path} → HTTP ${status} (${ms} ms)`;
    }
    case 'validate.waiting': {
      const { attempt, answer, delayMs } = entry.fields;
      return `validate #${attempt}     not yet (${String(answer).replace(/^.*?validate: /, '')}); next try in ${Math.round(Number(delayMs) / 100) / 10} s`;
    }
    case 'qualys.reading':
      return `reading         ${entry.fields.topic}: ${entry.fields.reading}`;
    case 'trust.updated':
      return 'IAM             trust policy rewritten';
    case 'request.received':
    case 'request.done':
      return undefined;
    default:
      return `handler         ${entry.message}${summarize(entry.fields)}`;
  }
}

function summarize(fields: Readonly<Record<string, unknown>>): string {
  const rest = Object.entries(fields);
  return rest.length
    ? ` (${rest.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')})`
    : '';
}

/** The dialect's departures from the strict simulator, in its field names. */
function describeDialect(name: DialectName | undefined): string {
  const fields = Object.entries(DIALECTS[name ?? 'strict']).filter(
    ([k, v]) => (DEFAULT_DIALECT as Record<string, unknown>)[k] !== v,
  );
  return fields.length ? fields.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ') : "the simulator's own answers";
}

function mask(externalId: string): string {
  if (externalId.startsWith(PENDING_EXTERNAL_ID_PREFIX)) return `${externalId} (placeholder until registration)`;
  return shortExternalId(externalId);
}
