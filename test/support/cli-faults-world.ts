/**
 * Adversarial harness for the qualys-s3 CLI: a Qualys simulator and a fake AWS endpoint on
 * loopback, the real AWS SDK pointed at the fake through AWS_ENDPOINT_URL, a configuration
 * file, and `main` run in-process with stdout and stderr captured separately.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { qualysPrincipalArn } from '../../src/core/contract';
import { FakeAws, type FakeAwsOptions } from '../../sim/fake-aws';
import { QualysSimulator, type SimUser, type SimulatorOptions } from '../../sim/qualys-simulator';
import { trustPolicy } from '../cli/harness';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const SECRET = 'qualys/adv-creds';
export const USER: SimUser = { username: 'adv-user', password: 'Adv-P4ssw0rd-ZZq9' };
export const QUALYS_PRINCIPAL = qualysPrincipalArn('805950163170');
export const ENV = 'dev';
export const STACK = `QualysS3-${ENV}`;
export const DEFAULT_NAME = (kind: 'vm' | 'pc', env = ENV) => `qs3-${env}-${kind}-${ACCOUNT}-${REGION}`;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface JsonCheck {
  id: string;
  title: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  value: string;
  remedy?: string;
  details?: Record<string, unknown>;
}

export interface JsonReport {
  command: string;
  ok: boolean;
  exitCode: number;
  checks: JsonCheck[];
  error?: { type: string; message: string };
}

export class World {
  readonly aws: FakeAws;
  readonly sim: QualysSimulator;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs3-adv-cli-'));
  gateway = '';
  awsUrl = '';
  private saved: NodeJS.ProcessEnv = {};

  constructor(opts: { sim?: SimulatorOptions; aws?: FakeAwsOptions } = {}) {
    this.aws = new FakeAws({ account: ACCOUNT, region: REGION, ...opts.aws });
    this.sim = new QualysSimulator({ users: [USER], ...opts.sim });
  }

  async start(): Promise<this> {
    this.awsUrl = await this.aws.start();
    this.gateway = await this.sim.start();
    this.aws.putSecret(SECRET, JSON.stringify(USER));
    this.saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: this.awsUrl,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'AKIDADVERSARIAL',
      AWS_SECRET_ACCESS_KEY: 'adversarial-secret-key',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(this.dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(this.dir, 'no-aws-credentials'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_DEFAULT_REGION;
    return this;
  }

  async stop(): Promise<void> {
    for (const key of Object.keys(process.env)) if (!(key in this.saved)) delete process.env[key];
    Object.assign(process.env, this.saved);
    await this.sim.stop();
    await this.aws.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Writes {environments: {dev: env, ...others}}; returns the file path. */
  config(overrides: Record<string, unknown> = {}, others: Record<string, unknown> = {}, drop: string[] = []): string {
    const env: Record<string, unknown> = {
      account: ACCOUNT,
      region: REGION,
      gatewayUrl: this.gateway,
      credentialsSecret: SECRET,
      vm: {},
      pc: { policies: [2001, 2002], filter: { includeFailPosture: true, includePassPosture: false } },
      ...overrides,
    };
    for (const k of drop) delete env[k];
    return this.write({ environments: { [ENV]: env, ...others } });
  }

  write(content: unknown, raw = false): string {
    const file = path.join(this.dir, `config-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, raw ? String(content) : JSON.stringify(content));
    return file;
  }

  async run(args: string[], opts: { interactive?: boolean; now?: () => number } = {}): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const code = await main(args, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      cwd: this.dir,
      interactive: opts.interactive,
      now: opts.now,
    });
    return { code, stdout, stderr };
  }

  async json(args: string[], opts: { now?: () => number } = {}): Promise<{ code: number; doc: JsonReport; run: Run }> {
    const run = await this.run([...args, '--json'], opts);
    let doc: JsonReport;
    try {
      doc = JSON.parse(run.stdout) as JsonReport;
    } catch (error) {
      throw new Error(`stdout under --json is not one JSON document: ${(error as Error).message}\n---\n${run.stdout}`);
    }
    return { code: run.code, doc, run };
  }

  /** Secrets that must never be printed: the password and every JWT the simulator issued. */
  secrets(): string[] {
    return [USER.password, ...this.sim.issuedTokens()];
  }

  /**
   * A deployed environment as CloudFormation and the handler leave it: stack and outputs,
   * per-kind roles trusting Qualys with the current external ID, validated integrations,
   * CIPS as configured, fresh data and the test file in the bucket.
   */
  deployed(opts: { kinds?: Array<'vm' | 'pc'>; bucket?: string; now?: number } = {}): Deployed {
    const bucket = opts.bucket ?? 'qualyss3-dev-findingsbucket-adv1';
    const now = opts.now ?? Date.now();
    const outputs: Record<string, string> = { BucketName: bucket };
    const result: Deployed = { bucket, roles: {}, roleArns: {}, ids: {}, externalIds: {} };
    for (const kind of opts.kinds ?? ['vm', 'pc']) {
      const label = kind === 'vm' ? 'Vm' : 'Pc';
      const roleName = `${STACK}-${label}Role-ADV${kind}`;
      const roleArn = `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
      const name = DEFAULT_NAME(kind);
      const details = this.sim.seedIntegration(kind, {
        name,
        bucketName: bucket,
        bucketRegion: REGION,
        roleArn,
        integrationValidated: true,
      });
      this.aws.createRole(roleName, trustPolicy([details.externalId]));
      outputs[`${label}RoleArn`] = roleArn;
      outputs[`${label}IntegrationId`] = String(details.integrationId);
      outputs[`${label}IntegrationName`] = name;
      result.roles[kind] = roleName;
      result.roleArns[kind] = roleArn;
      result.ids[kind] = details.integrationId;
      result.externalIds[kind] = details.externalId;
    }
    this.aws.setStackStatus(STACK, 'CREATE_COMPLETE');
    this.aws.setStackOutputs(STACK, outputs);
    this.sim.seedCips({
      policies: [2001, 2002],
      filter: {
        includeEvidenceData: false,
        includeFailPosture: true,
        includePassPosture: false,
        includeErrorPosture: true,
      },
    });
    this.aws.putObject(bucket, 'test-file.gz', { lastModified: now - 3 * 86400_000 });
    this.aws.putObject(bucket, 'findings/2026-01-01/a.json.gz', { lastModified: now - 30 * 3600_000 });
    this.aws.putObject(bucket, 'findings/2026-01-02/b.json.gz', { lastModified: now - 2 * 3600_000 });
    this.aws.putObject(bucket, 'qualys_pc_posture_info/2026-01-02/c.json.gz', { lastModified: now - 5 * 3600_000 });
    return result;
  }
}

export interface Deployed {
  bucket: string;
  roles: Partial<Record<'vm' | 'pc', string>>;
  roleArns: Partial<Record<'vm' | 'pc', string>>;
  ids: Partial<Record<'vm' | 'pc', number>>;
  externalIds: Partial<Record<'vm' | 'pc', string>>;
}

/** The same trust policy the author's CLI tests use (Qualys with these external IDs). */
export { trustPolicy };

export function check(doc: JsonReport, id: string): JsonCheck {
  const found = doc.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check "${id}" in ${doc.checks.map((c) => `${c.id}:${c.status}`).join(', ')}`);
  return found;
}

/** The spec's JSON contract: every check has id, title, status and value. */
export function expectWellFormed(doc: JsonReport): void {
  expect(Array.isArray(doc.checks)).toBe(true);
  for (const c of doc.checks) {
    expect(typeof c.id).toBe('string');
    expect(c.id.length).toBeGreaterThan(0);
    expect(typeof c.title).toBe('string');
    expect(['pass', 'fail', 'warn', 'skip']).toContain(c.status);
    expect(typeof c.value).toBe('string');
  }
}

export function expectNoSecrets(world: World, run: Run): void {
  for (const s of world.secrets()) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}
