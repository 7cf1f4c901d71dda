/**
 * A deployed stack, emulated: synthesizes the real app, creates what CloudFormation would
 * (roles in the fake IAM with their synthesized trust policies, a bucket name), and sends
 * the bundled handler the events CloudFormation and the Provider framework would send.
 * Shared by the end-to-end tests and the benchmark.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type Handler,
  Resolver,
  type Template,
  functionAssetDir,
  invoke,
  readTemplate,
  resourcesOfType,
} from './cfn-emulator';
import type { FakeAws } from './fake-aws';

export const ROOT = path.join(__dirname, '..');
export const QUALYS_PRINCIPAL = 'arn:aws:iam::805950163170:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE';

/**
 * Runs the app command (bin/app.ts under tsx, as cdk.json does) with a configuration file,
 * as a user would with `-c config=...`, and returns the stack's template.
 */
export function synthApp(config: unknown, outdir: string, stackName: string): { template: Template; dir: string } {
  fs.mkdirSync(outdir, { recursive: true });
  const configFile = `${outdir}.config.json`;
  fs.writeFileSync(configFile, JSON.stringify(config));
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'bin', 'app.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        // The CLI sets asset metadata; it tells where each function's bundle is.
        CDK_CONTEXT_JSON: JSON.stringify({ config: configFile, 'aws:cdk:enable-asset-metadata': true }),
      },
      stdio: 'pipe',
    },
  );
  return { template: readTemplate(outdir, stackName), dir: outdir };
}

/**
 * The bundled handler module of a synthesized stack (all its exports), loaded fresh like a new
 * Lambda container.
 */
export function loadBundle(dir: string, template: Template): Record<string, unknown> {
  const entry = path.join(functionAssetDir(dir, template, 'IntegrationProviderHandler'), 'index.js');
  delete require.cache[require.resolve(entry)];
  return require(entry) as Record<string, unknown>;
}

/** The bundled handler of a synthesized stack, loaded fresh like a new Lambda container. */
export function loadBundledHandler(dir: string, template: Template): Handler {
  return loadBundle(dir, template).handler as Handler;
}

/**
 * The external IDs a role's trust policy requires of a Qualys principal ('<none>' for a statement
 * without one): by default the S3 integrations' role; a connector's role trusts the account (`:root`).
 */
export function trustedExternalIds(aws: FakeAws, roleName: string, principal = QUALYS_PRINCIPAL): string[] {
  const doc = aws.role(roleName).trustPolicy as {
    Statement: Array<{
      Principal?: { AWS?: string };
      Condition?: { StringEquals?: Record<string, string | string[]> };
    }>;
  };
  return doc.Statement.filter((s) => s.Principal?.AWS === principal).flatMap((s) => {
    const v = s.Condition?.StringEquals?.['sts:ExternalId'];
    return v === undefined ? ['<none>'] : Array.isArray(v) ? v : [v];
  });
}

let deployments = 0;

export interface DeploymentTarget {
  readonly aws: FakeAws;
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
}

export class Deployment {
  readonly resolver: Resolver;
  /** CloudFormation makes physical names unique; so does this. */
  private readonly suffix = `d${++deployments}`;
  readonly physicalIds = new Map<string, string>();
  readonly properties = new Map<string, Record<string, unknown>>();
  /** The Deletes of replaced physical IDs that updates were followed by, and how they went. */
  readonly cleanups: Array<{ id: string; physicalId: string; ok: boolean }> = [];

  constructor(
    public template: Template,
    private readonly handler: Handler,
    private readonly target: DeploymentTarget,
  ) {
    const { account, region, stackName } = target;
    this.resolver = new Resolver({
      account,
      region,
      partition: 'aws',
      stackId: `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/1`,
      stackName,
    });
  }

  get bucketName(): string {
    return `qualyss3-findingsbucket-${this.suffix}`;
  }

  /** Creates the plain resources (roles in the fake IAM, the bucket's name) as CloudFormation would. */
  createPlainResources(): void {
    const { account, region, stackName } = this.target;
    for (const [id, r] of Object.entries(this.template.Resources)) {
      if (r.Type === 'AWS::IAM::Role') {
        const name = `${stackName}-${id}-${this.suffix}`.slice(0, 64);
        this.resolver.physicalIds.set(id, name);
        this.resolver.attributes.set(`${id}.Arn`, `arn:aws:iam::${account}:role/${name}`);
      }
      if (r.Type === 'AWS::S3::Bucket') this.resolver.physicalIds.set(id, this.bucketName);
      if (r.Type === 'AWS::Lambda::Function')
        this.resolver.attributes.set(`${id}.Arn`, `arn:aws:lambda:${region}:${account}:function:${id}`);
    }
    for (const id of resourcesOfType(this.template, 'AWS::IAM::Role')) this.writeRole(id, true);
  }

  /** CloudFormation rewrites a role's trust policy only when its template changed. */
  updateRoles(previous: Template): void {
    for (const id of resourcesOfType(this.template, 'AWS::IAM::Role')) {
      const before = JSON.stringify(previous.Resources[id]?.Properties?.AssumeRolePolicyDocument);
      const after = JSON.stringify(this.template.Resources[id].Properties?.AssumeRolePolicyDocument);
      if (before !== after) this.writeRole(id, false);
    }
  }

  private writeRole(id: string, create: boolean): void {
    const name = this.resolver.physicalIds.get(id)!;
    const policy = this.resolver.resolve(this.template.Resources[id].Properties!.AssumeRolePolicyDocument) as object;
    if (create) this.target.aws.createRole(name, policy);
    else this.target.aws.setTrustPolicy(name, policy);
  }

  integrations(): string[] {
    return resourcesOfType(this.template, 'Custom::QualysS3Integration');
  }

  /** The CloudView connector resources (`Custom::QualysCloudViewConnector`). */
  connectors(): string[] {
    return resourcesOfType(this.template, 'Custom::QualysCloudViewConnector');
  }

  integrationId(kind: 'Vm' | 'Pc'): string {
    const id = this.integrations().find((r) => r.startsWith(`${kind}Integration`));
    if (!id) throw new Error(`no ${kind} integration in the template`);
    return id;
  }

  /**
   * Runs one invocation with the handler function's environment from the template in
   * process.env (the handler is loaded in this process), as Lambda would give it, e.g. the
   * pinned gateways; restores what was there after.
   */
  private async withFunctionEnvironment<T>(run: () => Promise<T>): Promise<T> {
    const variables = this.functionEnvironment();
    const saved = Object.fromEntries(Object.keys(variables).map((k) => [k, process.env[k]]));
    Object.assign(process.env, variables);
    try {
      return await run();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  /** The handler function's environment variables as the template gives them, resolved. */
  functionEnvironment(): Record<string, string> {
    const [, fn] = Object.entries(this.template.Resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('IntegrationProviderHandler'),
    ) ?? [undefined, undefined];
    const raw = (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    return this.resolver.resolve(raw) as Record<string, string>;
  }

  private base(id: string, requestId: string) {
    return {
      StackId: this.resolver.resolve({ Ref: 'AWS::StackId' }),
      LogicalResourceId: id,
      RequestId: requestId,
      // As CloudFormation sends it: the resource's own type (an integration or a connector).
      ResourceType: this.template.Resources[id].Type,
    };
  }

  async create(id: string) {
    const props = this.resolver.resolve(this.template.Resources[id].Properties) as Record<string, unknown>;
    const out = await this.withFunctionEnvironment(() =>
      invoke(this.handler, { ...this.base(id, 'create'), RequestType: 'Create', ResourceProperties: props }),
    );
    if (out.ok) {
      this.physicalIds.set(id, out.PhysicalResourceId);
      this.properties.set(id, props);
    }
    return out;
  }

  async update(id: string) {
    const props = this.resolver.resolve(this.template.Resources[id].Properties) as Record<string, unknown>;
    const oldPhysicalId = this.physicalIds.get(id);
    const oldProps = this.properties.get(id);
    const out = await this.withFunctionEnvironment(() =>
      invoke(this.handler, {
        ...this.base(id, 'update'),
        RequestType: 'Update',
        PhysicalResourceId: oldPhysicalId,
        OldResourceProperties: oldProps,
        ResourceProperties: props,
      }),
    );
    if (out.ok) {
      this.physicalIds.set(id, out.PhysicalResourceId);
      this.properties.set(id, props);
      if (oldPhysicalId !== undefined && out.PhysicalResourceId !== oldPhysicalId) {
        // CloudFormation's cleanup phase: a new physical ID replaced the resource, and the old
        // one is deleted, with its old properties.
        const cleanup = await this.withFunctionEnvironment(() =>
          invoke(this.handler, {
            ...this.base(id, 'cleanup'),
            RequestType: 'Delete',
            PhysicalResourceId: oldPhysicalId,
            ResourceProperties: oldProps,
          }),
        );
        this.cleanups.push({ id, physicalId: oldPhysicalId, ...cleanup });
      }
    }
    return out;
  }

  async delete(id: string) {
    return this.withFunctionEnvironment(() =>
      invoke(this.handler, {
        ...this.base(id, 'delete'),
        RequestType: 'Delete',
        PhysicalResourceId: this.physicalIds.get(id),
        ResourceProperties: this.properties.get(id),
      }),
    );
  }

  roleName(kind: 'Vm' | 'Pc'): string {
    const id = resourcesOfType(this.template, 'AWS::IAM::Role').find((r) => r.startsWith(`${kind}Role`))!;
    return this.resolver.physicalIds.get(id)!;
  }
}
