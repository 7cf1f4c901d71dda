/**
 * The CLI's one world: the Qualys simulator and the fake AWS endpoint on loopback, the real
 * AWS SDK pointed at the fake through AWS_ENDPOINT_URL (and at no credentials, profile or
 * instance metadata of the machine), a configuration file, and the CLI's `main` run
 * in-process with stdout and stderr captured separately. Nothing secret may leave any run.
 *
 * A `Site` is the account, region, environment and names the world deploys into; the tests
 * were written against two (PROD_SITE, the default, and DEV_SITE) and assert their names.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configuredProperties } from '../../src/cli/diff';
import { main } from '../../src/cli/main';
import { readConfig } from '../../src/config/load-config';
import { Prop, qualysPrincipalArn, RESOURCE_TYPE } from '../../src/core/contract';
import { FakeAws, type FakeAwsOptions } from '../../sim/fake-aws';
import { QualysSimulator, type SimUser, type SimulatorOptions } from '../../sim/qualys-simulator';
import { CIPS_FILTER, qualysTrust } from './fixtures';

export const QUALYS_PRINCIPAL = qualysPrincipalArn('805950163170');

export interface Site {
  readonly ACCOUNT: string;
  readonly REGION: string;
  readonly ENV: string;
  readonly STACK: string;
  readonly SECRET: string;
  readonly USER: SimUser;
  /** The environment's `vm` block in a written configuration. */
  readonly vm: Record<string, unknown>;
  /** What `deployed()` names: the bucket, a tag in each role's name, the findings' key prefix and day. */
  readonly deployment: { bucket: string; roleTag: string; findings: string; days: [string, string] };
}

const site = (env: string, region: string, rest: Omit<Site, 'ACCOUNT' | 'REGION' | 'ENV' | 'STACK'>): Site => ({
  ACCOUNT: '123456789012',
  REGION: region,
  ENV: env,
  STACK: `QualysS3-${env}`,
  ...rest,
});

export const PROD_SITE = site('prod', 'eu-west-1', {
  SECRET: 'qualys/api-credentials',
  USER: { username: 'cli-user', password: 'Cli-Pa55word-7xQ' },
  vm: { minSeverity: 3 },
  deployment: {
    bucket: 'qualyss3-prod-findingsbucket-1a2b3c',
    roleTag: 'ABC123-XYZ',
    findings: 'qualys_vm_findings',
    days: ['2026-11-23', '2026-11-24'],
  },
});

export const DEV_SITE = site('dev', 'us-east-1', {
  SECRET: 'qualys/adv-creds',
  USER: { username: 'adv-user', password: 'Adv-P4ssw0rd-ZZq9' },
  vm: {},
  deployment: {
    bucket: 'qualyss3-dev-findingsbucket-adv1',
    roleTag: '-ADV',
    findings: 'findings',
    days: ['2026-01-01', '2026-01-02'],
  },
});

/** The integration name the construct defaults to. */
export const defaultName = (s: Site, kind: 'vm' | 'pc', env = s.ENV) => `qs3-${env}-${kind}-${s.ACCOUNT}-${s.REGION}`;

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

export interface Deployed {
  bucket: string;
  roles: Partial<Record<'vm' | 'pc', string>>;
  roleArns: Partial<Record<'vm' | 'pc', string>>;
  ids: Partial<Record<'vm' | 'pc', number>>;
  externalIds: Partial<Record<'vm' | 'pc', string>>;
}

export interface WorldOptions {
  /** @default PROD_SITE */
  site?: Site;
  sim?: SimulatorOptions;
  aws?: FakeAwsOptions;
}

export class World {
  readonly site: Site;
  readonly aws: FakeAws;
  readonly sim: QualysSimulator;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-cli-'));
  gateway = '';
  awsUrl = '';
  private saved: NodeJS.ProcessEnv = {};

  constructor(opts: WorldOptions = {}) {
    this.site = opts.site ?? PROD_SITE;
    this.aws = new FakeAws({ account: this.site.ACCOUNT, region: this.site.REGION, ...opts.aws });
    this.sim = new QualysSimulator({ users: [this.site.USER], ...opts.sim });
  }

  async start(): Promise<this> {
    this.awsUrl = await this.aws.start();
    this.gateway = await this.sim.start();
    this.aws.putSecret(this.site.SECRET, JSON.stringify(this.site.USER));
    this.saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: this.awsUrl,
      AWS_REGION: this.site.REGION,
      AWS_ACCESS_KEY_ID: 'AKIDCLITEST',
      AWS_SECRET_ACCESS_KEY: 'cli-test-secret-key',
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

  /** Writes {environments: {<site env>: env, ...others}}, without the `drop` keys; returns its path. */
  config(overrides: Record<string, unknown> = {}, others: Record<string, unknown> = {}, drop: string[] = []): string {
    const env: Record<string, unknown> = {
      account: this.site.ACCOUNT,
      region: this.site.REGION,
      gatewayUrl: this.gateway,
      credentialsSecret: this.site.SECRET,
      vm: this.site.vm,
      pc: { policies: [2001, 2002], filter: { includeFailPosture: true, includePassPosture: false } },
      ...overrides,
    };
    for (const k of drop) delete env[k];
    return this.write({ environments: { [this.site.ENV]: env, ...others } });
  }

  /** Writes a configuration file (JSON, or `raw` text as is); returns its path. */
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
    const run = { code, stdout, stderr };
    expectNoSecrets(this, run);
    return run;
  }

  /** Runs with --json and returns the parsed document (stdout must be exactly one JSON value). */
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

  /** Secrets that must never be printed: the password, its Basic encoding and every JWT the simulator issued. */
  secrets(): string[] {
    const { username, password } = this.site.USER;
    // The connector APIs take HTTP Basic: the encoded pair is as secret as the password.
    const basic = Buffer.from(`${username}:${password}`).toString('base64');
    return [password, basic, ...this.sim.issuedTokens()];
  }

  /**
   * A deployed environment, as CloudFormation and the handler leave it: the stack and its
   * outputs, a role per integration trusting Qualys with the integration's external ID, the
   * integrations registered and validated, the configured CIPS state, data in the bucket.
   */
  deployed(
    opts: { kinds?: Array<'vm' | 'pc'>; bucket?: string; now?: number; outputs?: Record<string, string> } = {},
  ): Deployed {
    const { ACCOUNT, REGION, STACK, deployment } = this.site;
    const bucket = opts.bucket ?? deployment.bucket;
    const now = opts.now ?? Date.now();
    const outputs: Record<string, string> = { BucketName: bucket };
    const result: Deployed = { bucket, roles: {}, roleArns: {}, ids: {}, externalIds: {} };
    for (const kind of opts.kinds ?? ['vm', 'pc']) {
      const label = kind === 'vm' ? 'Vm' : 'Pc';
      const roleName = `${STACK}-${label}Role${deployment.roleTag}${kind}`;
      const roleArn = `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
      const name = defaultName(this.site, kind);
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
    this.aws.setStackOutputs(STACK, { ...outputs, ...opts.outputs });
    this.sim.seedCips({
      policies: [2001, 2002],
      filter: CIPS_FILTER,
    });
    const [day1, day2] = deployment.days;
    this.aws.putObject(bucket, 'test-file.gz', { lastModified: now - 3 * 86400_000 });
    this.aws.putObject(bucket, `${deployment.findings}/${day1}/a.json.gz`, { lastModified: now - 30 * 3600_000 });
    this.aws.putObject(bucket, `${deployment.findings}/${day2}/b.json.gz`, { lastModified: now - 2 * 3600_000 });
    this.aws.putObject(bucket, `qualys_pc_posture_info/${day2}/c.json.gz`, { lastModified: now - 5 * 3600_000 });
    return result;
  }

  /**
   * The deployed stack as `cdk deploy` of the configuration `file` leaves it: the harness's
   * deployment (integrations, roles, CIPS), plus the template's custom resources (properties with
   * Refs to the roles and bucket, as the construct writes them) and each resource's physical ID.
   */
  deployWithTemplate(file: string): Deployed {
    const { ACCOUNT, REGION, STACK } = this.site;
    const deployed = this.deployed();
    const env = readConfig({ file, dir: this.dir }).environments[0];
    const gatewayHost = new URL(this.gateway).host;
    const resources: Array<{ logicalId: string; type: string; physicalId: string }> = [
      { logicalId: 'FindingsBucketABC', type: 'AWS::S3::Bucket', physicalId: deployed.bucket },
    ];
    const template: { Resources: Record<string, unknown> } = {
      Resources: { FindingsBucketABC: { Type: 'AWS::S3::Bucket' } },
    };
    for (const kind of ['vm', 'pc'] as const) {
      const label = kind === 'vm' ? 'Vm' : 'Pc';
      resources.push(
        { logicalId: `${label}RoleABC`, type: 'AWS::IAM::Role', physicalId: deployed.roles[kind]! },
        {
          logicalId: `${label}Integration0A1`,
          type: RESOURCE_TYPE,
          physicalId: `${kind}:${deployed.ids[kind]}@${gatewayHost}`,
        },
      );
      template.Resources[`${label}RoleABC`] = { Type: 'AWS::IAM::Role' };
      template.Resources[`${label}Integration0A1`] = {
        Type: RESOURCE_TYPE,
        Properties: {
          ServiceToken: { 'Fn::GetAtt': ['ProviderFrameworkOnEventABC', 'Arn'] },
          ...configuredProperties(env, kind, ACCOUNT, REGION),
          [Prop.RoleArn]: { 'Fn::GetAtt': [`${label}RoleABC`, 'Arn'] },
          [Prop.RoleName]: { Ref: `${label}RoleABC` },
          [Prop.BucketName]: { Ref: 'FindingsBucketABC' },
          [Prop.BucketRegion]: { Ref: 'AWS::Region' },
          [Prop.TrustPolicyFingerprint]: 'fp-1',
        },
      };
    }
    this.aws.setStackTemplate(STACK, template, resources);
    // The CIPS state the configuration asks for, with the filter's defaults filled in.
    this.sim.seedCips({ policies: [...env.pc!.policies], filter: env.pc!.filter });
    return deployed;
  }
}

/** How long a world lives: `test`, a fresh one per test; `file`, one the file's tests share; `none`, built by each test. */
export type CliWorldScope = 'test' | 'file' | 'none';

/** The current test's world, and a way to build it anew with other options in the test. */
export type CliWorldHandle = World & {
  /** Stops the current world (if any) and starts one with the file's options and these laid over them. */
  build(opts?: WorldOptions): Promise<World>;
  /** Runs `fn` in a second world (the file's options and these laid over them) beside the current one, then stops it. */
  inSecondWorld<T>(opts: WorldOptions, fn: (world: World) => Promise<T>): Promise<T>;
};

/**
 * Registers the world's start and stop for the tests of the file (a stop restores process.env
 * and removes the world's folder). The handle always reaches the current world; a stopped
 * world stays readable, so a file's own afterEach may still look at it.
 */
export function useCliWorld(opts: WorldOptions & { scope?: CliWorldScope } = {}): CliWorldHandle {
  const { scope = 'test', ...defaults } = opts;
  let current: World | undefined;
  let live = false;
  const teardown = async () => {
    if (!current || !live) return;
    live = false;
    await current.stop();
  };
  const build = async (options: WorldOptions = {}) => {
    await teardown();
    current = await new World({ ...defaults, ...options }).start();
    live = true;
    return current;
  };
  const inSecondWorld = async <T>(options: WorldOptions, fn: (world: World) => Promise<T>): Promise<T> => {
    const second = await new World({ ...defaults, ...options }).start();
    try {
      return await fn(second);
    } finally {
      await second.stop();
    }
  };
  const handle = { build, inSecondWorld } as Record<PropertyKey, unknown>;
  if (scope === 'file') {
    beforeAll(() => build());
    afterAll(teardown);
  } else {
    if (scope === 'test') beforeEach(() => build());
    afterEach(teardown);
  }
  const now = (key: PropertyKey): World => {
    if (!current) throw new Error(`world.${String(key)} read before the world was built: call world.build() first`);
    return current;
  };
  return new Proxy({} as CliWorldHandle, {
    get: (_target, key) => (Object.hasOwn(handle, key) ? handle[key] : Reflect.get(now(key), key)),
    set: (_target, key, value) => Reflect.set(now(key), key, value),
  });
}

export function trustPolicy(externalIds: string[], extra: object[] = []): object {
  const policy = qualysTrust(
    { StringEquals: { 'sts:ExternalId': externalIds.length === 1 ? externalIds[0] : externalIds } },
    QUALYS_PRINCIPAL,
  );
  return { ...policy, Statement: [...policy.Statement, ...extra] };
}

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

/** `qualys-s3 diff --json`, as the diff tests read it. */
export interface DiffDoc {
  exitCode: number;
  stackExists: boolean;
  error?: string;
  integrations: Array<{
    kind: string;
    event: string;
    steps: Array<{ name: string; reason: string; policies?: number[] }>;
    unknown: string[];
    driftOnly?: boolean;
  }>;
}
