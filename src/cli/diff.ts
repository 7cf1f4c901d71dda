/**
 * `qualys-s3 diff <env>`: the plan a deploy would apply in Qualys and in the roles' trust
 * policies, and why; the Qualys-side counterpart of `cdk diff`. Reads only: the configuration
 * (desired), the deployed stack's custom resources (their properties and physical IDs), and
 * the live state (the integration, the role's trust policy, CIPS), then runs the handler's
 * own plan function on them.
 */
import {
  type IntegrationKind,
  Prop,
  RESOURCE_TYPE,
  defaultIntegrationName,
  qualysPrincipalArn,
} from '../core/contract';
import { errorMessage } from '../core/errors';
import { observeByName, observeCips, observeLive } from '../core/lifecycle/observe';
import { parsePhysicalId } from '../core/lifecycle/physical-id';
import {
  NOTHING_OBSERVED,
  type Observed,
  type PlanEvent,
  type Step,
  plan,
  propertyChanges,
} from '../core/lifecycle/plan';
import { parseProperties } from '../core/resource-properties';
import type { QualysClient } from '../core/qualys/client';
import type { EnvironmentConfig } from '../config/config';
import { stackName } from '../config/rules';
import { type CommandContext, credentialsOf, qualysClient } from './context';
import type { OperatorAws, StackResourceInfo } from './operator-aws';

export interface IntegrationDiff {
  readonly kind: IntegrationKind;
  /** The event a deploy would send the custom resource. */
  readonly event: PlanEvent['kind'];
  readonly logicalId?: string;
  readonly physicalId?: string;
  readonly steps: readonly Step[];
  /** What could not be read or decided; any makes the answer "could not tell". */
  readonly unknown: readonly string[];
  /** The properties are unchanged: the steps are drift that a plain deploy does not send. */
  readonly driftOnly?: boolean;
}

export interface DiffReport {
  readonly stackName: string;
  readonly stackExists: boolean;
  readonly integrations: readonly IntegrationDiff[];
  /** A failure before any integration could be planned. */
  readonly error?: string;
  /** 0 no changes, 1 changes pending, 2 could not tell. */
  readonly exitCode: 0 | 1 | 2;
}

const PLACEHOLDER = '(made by the deploy)';

export async function diff(ctx: CommandContext): Promise<DiffReport> {
  const name = stackName(ctx.env.envName);
  const fail = (error: string, stackExists = false): DiffReport => ({
    stackName: name,
    stackExists,
    integrations: [],
    error,
    exitCode: 2,
  });
  if (!ctx.aws) return fail('no AWS region: set "region" for this environment, or AWS_REGION / a profile region');
  const aws = ctx.aws;
  let deployed: Awaited<ReturnType<OperatorAws['deployedTemplate']>>;
  let account: string;
  let qualys: QualysClient;
  try {
    ctx.progress(`reading stack ${name}`);
    account = ctx.env.account ?? (await aws.identity()).account;
    const stack = await aws.stack(name);
    // Mid-operation, the template and the resources' properties are neither the old nor the new ones.
    if (stack && /_IN_PROGRESS$/.test(stack.status))
      return fail(`stack ${name} is ${stack.status}: run diff again when CloudFormation has finished`, true);
    deployed = stack ? await aws.deployedTemplate(name) : undefined;
  } catch (error) {
    return fail(`reading stack ${name} failed: ${errorMessage(error)}`);
  }
  try {
    ctx.progress('logging in to Qualys');
    qualys = qualysClient(ctx, await credentialsOf(ctx));
  } catch (error) {
    return fail(`reading the Qualys credentials failed: ${errorMessage(error)}`, deployed !== undefined);
  }
  const configured = (['vm', 'pc'] as const).filter((k) => ctx.env[k] !== undefined);
  const resources = deployed ? customResources(deployed.template, deployed.resources) : [];
  const integrations: IntegrationDiff[] = [];
  for (const kind of configured) {
    const desired = configuredProperties(ctx.env, kind, account, aws.region);
    const resource = resources.find((r) => r.kind === kind);
    ctx.progress(`reading the ${kind.toUpperCase()} integration`);
    integrations.push(
      resource && deployed
        ? await planUpdate(qualys, aws, kind, desired, resource, deployed.resources, account, name)
        : await planCreate(qualys, kind, desired, ctx.env, account),
    );
  }
  for (const resource of resources.filter((r) => !configured.includes(r.kind))) {
    integrations.push(await planDelete(qualys, resource, deployed!.resources, account, aws.region, name));
  }
  const exitCode = integrations.some((i) => i.unknown.length > 0)
    ? 2
    : integrations.some((i) => i.steps.length)
      ? 1
      : 0;
  return { stackName: name, stackExists: deployed !== undefined, integrations, exitCode };
}

/** The properties the construct gives the custom resource from the configuration (see src/infra/qualys-integration.ts). */
export function configuredProperties(
  env: EnvironmentConfig,
  kind: IntegrationKind,
  account: string,
  region: string,
): Record<string, string> {
  const integration = env[kind]!;
  const defaultName = defaultIntegrationName(env.envName, kind, account, region);
  const pc = kind === 'pc' ? env.pc : undefined;
  return {
    [Prop.Kind]: kind,
    [Prop.GatewayUrl]: env.gatewayUrl,
    [Prop.CredentialsSecretId]: env.credentialsSecret,
    [Prop.QualysPrincipalArn]: qualysPrincipalArn(env.qualysAwsAccountId),
    [Prop.IntegrationName]: integration.name ?? defaultName,
    [Prop.DefaultIntegrationName]: defaultName,
    [Prop.Settings]: JSON.stringify(integration.settings),
    [Prop.ExternalIdRotation]: integration.externalIdRotation ?? '',
    [Prop.AdoptExisting]: String(integration.adoptExisting ?? false),
    [Prop.ValidationTimeoutSeconds]: String(env.validationTimeoutSeconds),
    ...(pc ? { [Prop.Cips]: JSON.stringify({ policies: pc.policies, filter: pc.filter }) } : {}),
  };
}

interface DeployedResource {
  readonly kind: IntegrationKind;
  readonly logicalId: string;
  readonly physicalId?: string;
  /** The template's properties, intrinsic functions and all. */
  readonly properties: Record<string, unknown>;
}

function customResources(
  template: Record<string, unknown>,
  resources: readonly StackResourceInfo[],
): DeployedResource[] {
  const all = (template.Resources ?? {}) as Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  return Object.entries(all)
    .filter(([, r]) => r.Type === RESOURCE_TYPE)
    .map(([logicalId, r]) => ({
      kind: r.Properties?.[Prop.Kind] as IntegrationKind,
      logicalId,
      physicalId: resources.find((x) => x.logicalId === logicalId)?.physicalId,
      // Only the properties the handler reads: the ServiceToken's Lambda ARN is neither needed nor resolvable here.
      properties: Object.fromEntries(
        Object.values(Prop)
          .filter((p) => r.Properties?.[p] !== undefined)
          .map((p) => [p, r.Properties?.[p]]),
      ),
    }));
}

/** The template's Ref / Fn::GetAtt / Fn::Join, resolved as CloudFormation did from the resources' physical IDs. */
function resolve(
  value: unknown,
  scope: { resources: readonly StackResourceInfo[]; account: string; region: string; stackName: string },
): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope));
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  const partition = scope.region.startsWith('cn-')
    ? 'aws-cn'
    : scope.region.startsWith('us-gov-')
      ? 'aws-us-gov'
      : 'aws';
  const find = (id: string) => {
    const r = scope.resources.find((x) => x.logicalId === id);
    if (!r) throw new Error(`the template refers to ${id}, which the stack does not hold`);
    return r;
  };
  if ('Ref' in o) {
    const pseudo: Record<string, string> = {
      'AWS::Region': scope.region,
      'AWS::AccountId': scope.account,
      'AWS::Partition': partition,
      'AWS::StackName': scope.stackName,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[o.Ref as string] ?? find(o.Ref as string).physicalId;
  }
  if ('Fn::GetAtt' in o) {
    const [id, attribute] = o['Fn::GetAtt'] as [string, string];
    const r = find(id);
    if (attribute === 'Arn' && r.type === 'AWS::IAM::Role')
      return `arn:${partition}:iam::${scope.account}:role/${r.physicalId}`;
    if (attribute === 'Arn' && r.type === 'AWS::S3::Bucket') return `arn:${partition}:s3:::${r.physicalId}`;
    throw new Error(`the template's ${id}.${attribute} cannot be resolved from here`);
  }
  if ('Fn::Join' in o) {
    const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
    return (resolve(parts, scope) as unknown[]).join(separator);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, scope)]));
}

async function planCreate(
  qualys: QualysClient,
  kind: IntegrationKind,
  desired: Record<string, string>,
  env: EnvironmentConfig,
  account: string,
): Promise<IntegrationDiff> {
  const base = { kind, event: 'create' as const };
  try {
    // The role and (unless named) the bucket do not exist before the first deploy.
    const spec = parseProperties({
      ...desired,
      [Prop.RoleArn]: `arn:aws:iam::${account}:role/${PLACEHOLDER}`,
      [Prop.RoleName]: PLACEHOLDER,
      [Prop.BucketName]: env.bucket.bucketName ?? PLACEHOLDER,
      [Prop.BucketRegion]: env.region ?? PLACEHOLDER,
      [Prop.TrustPolicyFingerprint]: PLACEHOLDER,
    });
    const { observed } = await observeByName(qualys, spec);
    const cips = kind === 'pc' ? await observeCips(qualys) : observed.cips;
    const seen: Observed = { ...observed, cips };
    return { ...base, steps: plan(spec, { kind: 'create' }, seen), unknown: unknowns(seen) };
  } catch (error) {
    return { ...base, steps: [], unknown: [errorMessage(error)] };
  }
}

async function planUpdate(
  qualys: QualysClient,
  aws: OperatorAws,
  kind: IntegrationKind,
  desired: Record<string, string>,
  resource: DeployedResource,
  resources: readonly StackResourceInfo[],
  account: string,
  name: string,
): Promise<IntegrationDiff> {
  const base = { kind, event: 'update' as const, logicalId: resource.logicalId, physicalId: resource.physicalId };
  try {
    const old = resolve(resource.properties, { resources, account, region: aws.region, stackName: name }) as Record<
      string,
      unknown
    >;
    const oldSpec = parseProperties(old);
    const spec = parseProperties({ ...old, ...desired });
    const current = parsePhysicalId(resource.physicalId);
    const event: PlanEvent = { kind: 'update', old: oldSpec, physicalId: current };
    const observed = current
      ? await observeLive(qualys, trustReader(aws), {
          kind,
          integrationId: current.id,
          roleName: spec.roleName,
          principalArn: spec.principalArn,
        })
      : NOTHING_OBSERVED;
    const steps = plan(spec, event, observed);
    return {
      ...base,
      steps,
      unknown: unknowns(observed),
      driftOnly: steps.length > 0 && !propertyChanges(oldSpec, spec).any,
    };
  } catch (error) {
    return { ...base, steps: [], unknown: [errorMessage(error)] };
  }
}

async function planDelete(
  qualys: QualysClient,
  resource: DeployedResource,
  resources: readonly StackResourceInfo[],
  account: string,
  region: string,
  name: string,
): Promise<IntegrationDiff> {
  const base = {
    kind: resource.kind,
    event: 'delete' as const,
    logicalId: resource.logicalId,
    physicalId: resource.physicalId,
  };
  try {
    const spec = parseProperties(
      resolve(resource.properties, { resources, account, region, stackName: name }) as Record<string, unknown>,
    );
    const current = parsePhysicalId(resource.physicalId);
    if (!current) return { ...base, steps: [], unknown: [] };
    const observed: Observed = {
      ...NOTHING_OBSERVED,
      cips: spec.kind === 'pc' ? await observeCips(qualys) : NOTHING_OBSERVED.cips,
      // A plain deploy that drops the kind is a forward update: the stack is not rolling back.
      stackStatus: { state: 'known', value: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' },
    };
    return { ...base, steps: plan(spec, { kind: 'delete', physicalId: current }, observed), unknown: [] };
  } catch (error) {
    return { ...base, steps: [], unknown: [errorMessage(error)] };
  }
}

function trustReader(aws: OperatorAws) {
  return {
    async read(roleName: string) {
      const role = await aws.role(roleName);
      if (!role) throw new Error(`role ${roleName} does not exist`);
      return role.trustPolicy;
    },
  };
}

function unknowns(observed: Observed): string[] {
  const out: string[] = [];
  if (observed.integration.state === 'unknown')
    out.push(`the integration could not be read: ${observed.integration.why}`);
  if (observed.trustedExternalIds.state === 'unknown')
    out.push(`the role's trust policy could not be read: ${observed.trustedExternalIds.why}`);
  if (observed.cips.state === 'unknown') out.push(`the CIPS configuration could not be read: ${observed.cips.why}`);
  return out;
}

/** The report for a person. */
export function formatDiff(report: DiffReport): string {
  if (report.error) return `  ✖ could not tell: ${report.error}\n`;
  const lines: string[] = [];
  if (!report.stackExists) lines.push(`  stack ${report.stackName} does not exist yet: a deploy creates it`, '');
  for (const i of report.integrations) {
    const what = `${i.kind.toUpperCase()} integration${i.physicalId ? ` ${i.physicalId.replace(/~.*$/, '')}` : ''} (${i.event})`;
    lines.push(`  ${what}: ${i.steps.length === 0 ? 'no changes' : `${i.steps.length} step(s)`}`);
    for (const step of i.steps) {
      lines.push(
        `    ${STEP_MARK[i.event]} ${step.name}${step.policies ? ` ${step.policies.join(', ')}` : ''}: ${step.reason}`,
      );
      if (step.onlyIf) lines.push(`        only if ${step.onlyIf}`);
    }
    for (const u of i.unknown) lines.push(`    ? ${u}`);
    if (i.driftOnly)
      lines.push(
        `    note: the stack's properties are unchanged, so a deploy sends this resource no update; change "${i.kind}.externalIdRotation" to have the live state repaired`,
      );
  }
  const pending = report.integrations.reduce((n, i) => n + i.steps.length, 0);
  lines.push(
    '',
    report.exitCode === 2
      ? 'could not tell what a deploy would do: see the ? lines'
      : pending === 0
        ? 'no changes: Qualys and the trust policies are as the configuration says'
        : `${pending} step(s) pending: npx cdk deploy ${report.stackName} applies them`,
  );
  return `${lines.join('\n')}\n`;
}

const STEP_MARK: Record<PlanEvent['kind'], string> = { create: '+', update: '~', delete: '-' };
