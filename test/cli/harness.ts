/**
 * A world for the CLI: the Qualys simulator and the fake AWS endpoint on loopback, the real
 * AWS SDK pointed at the fake through AWS_ENDPOINT_URL, a configuration file, and the CLI's
 * `main` run in-process with its output captured.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { qualysPrincipalArn } from '../../src/core/contract';
import { FakeAws, type FakeAwsOptions } from '../../sim/fake-aws';
import { QualysSimulator, type SimUser, type SimulatorOptions } from '../../sim/qualys-simulator';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const SECRET = 'qualys/api-credentials';
export const USER: SimUser = { username: 'cli-user', password: 'Cli-Pa55word-7xQ' };
export const QUALYS_PRINCIPAL = qualysPrincipalArn('805950163170');
export const ENV = 'prod';
export const STACK = `QualysS3-${ENV}`;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export class World {
  readonly aws: FakeAws;
  readonly sim: QualysSimulator;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-cli-'));
  gateway = '';
  private saved: NodeJS.ProcessEnv = {};

  constructor(opts: { sim?: SimulatorOptions; aws?: FakeAwsOptions } = {}) {
    this.aws = new FakeAws({ account: ACCOUNT, region: REGION, ...opts.aws });
    this.sim = new QualysSimulator({ users: [USER], ...opts.sim });
  }

  async start(): Promise<this> {
    const awsUrl = await this.aws.start();
    this.gateway = await this.sim.start();
    this.aws.putSecret(SECRET, JSON.stringify(USER));
    this.saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: awsUrl,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'AKIDCLITEST',
      AWS_SECRET_ACCESS_KEY: 'cli-test-secret-key',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    return this;
  }

  async stop(): Promise<void> {
    for (const key of Object.keys(process.env)) if (!(key in this.saved)) delete process.env[key];
    Object.assign(process.env, this.saved);
    await this.sim.stop();
    await this.aws.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** One environment (plus any others), written as a configuration file; returns its path. */
  config(overrides: Record<string, unknown> = {}, others: Record<string, unknown> = {}): string {
    const file = path.join(this.dir, `config-${Math.random().toString(36).slice(2)}.json`);
    const env = {
      account: ACCOUNT,
      region: REGION,
      gatewayUrl: this.gateway,
      credentialsSecret: SECRET,
      vm: { minSeverity: 3 },
      pc: { policies: [2001, 2002], filter: { includeFailPosture: true, includePassPosture: false } },
      ...overrides,
    };
    fs.writeFileSync(file, JSON.stringify({ environments: { [ENV]: env, ...others } }));
    return file;
  }

  async run(args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: this.dir });
    // Nothing secret ever leaves the CLI.
    for (const text of [stdout, stderr]) {
      expect(text).not.toContain(USER.password);
      for (const token of this.sim.issuedTokens()) expect(text).not.toContain(token);
    }
    return { code, stdout, stderr };
  }

  /** Runs with --json and returns the parsed document (stdout must be exactly one JSON value). */
  async json(args: string[]): Promise<{ code: number; doc: JsonReport }> {
    const out = await this.run([...args, '--json']);
    return { code: out.code, doc: JSON.parse(out.stdout) as JsonReport };
  }

  /**
   * A deployed environment, as CloudFormation and the handler leave it: the stack and its
   * outputs, a role per integration trusting Qualys with the integration's external ID, the
   * integrations registered and validated, the configured CIPS state, data in the bucket.
   */
  deployed(opts: { kinds?: Array<'vm' | 'pc'>; bucket?: string; now?: number } = {}): Deployed {
    const bucket = opts.bucket ?? 'qualyss3-prod-findingsbucket-1a2b3c';
    const now = opts.now ?? Date.now();
    const outputs: Record<string, string> = { BucketName: bucket };
    const result: Deployed = { bucket, roles: {}, ids: {} };
    for (const kind of opts.kinds ?? ['vm', 'pc']) {
      const label = kind === 'vm' ? 'Vm' : 'Pc';
      const roleName = `${STACK}-${label}RoleABC123-XYZ${kind}`;
      const roleArn = `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
      const name = `qs3-${ENV}-${kind}-${ACCOUNT}-${REGION}`;
      const details = this.sim.seedIntegration(kind, {
        name,
        bucketName: bucket,
        bucketRegion: REGION,
        roleArn,
        integrationValidated: true,
      });
      this.aws.createRole(roleName, trustPolicy([details.externalId!]));
      outputs[`${label}RoleArn`] = roleArn;
      outputs[`${label}IntegrationId`] = String(details.integrationId);
      outputs[`${label}IntegrationName`] = name;
      result.roles[kind] = roleName;
      result.ids[kind] = details.integrationId;
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
    this.aws.putObject(bucket, 'qualys_vm_findings/2026-11-23/a.json.gz', { lastModified: now - 30 * 3600_000 });
    this.aws.putObject(bucket, 'qualys_vm_findings/2026-11-24/b.json.gz', { lastModified: now - 2 * 3600_000 });
    this.aws.putObject(bucket, 'qualys_pc_posture_info/2026-11-24/c.json.gz', { lastModified: now - 5 * 3600_000 });
    return result;
  }
}

export interface Deployed {
  bucket: string;
  roles: Partial<Record<'vm' | 'pc', string>>;
  ids: Partial<Record<'vm' | 'pc', number>>;
}

export interface JsonCheck {
  id: string;
  title: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  value: string;
  remedy?: string;
  durationMs: number;
  details?: Record<string, unknown>;
}

export interface JsonReport {
  command: string;
  envName: string;
  ok: boolean;
  exitCode: number;
  summary: Record<string, number>;
  checks: JsonCheck[];
  error?: { type: string; message: string; problems?: string[] };
}

export function trustPolicy(externalIds: string[], extra: object[] = []): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: QUALYS_PRINCIPAL },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': externalIds.length === 1 ? externalIds[0] : externalIds } },
      },
      ...extra,
    ],
  };
}

export function check(doc: JsonReport, id: string): JsonCheck {
  const found = doc.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check "${id}" in ${doc.checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** The SDK chain finds no credentials at all: no keys, no profile files, no instance metadata. */
export function removeAwsCredentials(dir: string): void {
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-such-credentials`,
    AWS_CONFIG_FILE: `${dir}/no-such-config`,
  });
}
