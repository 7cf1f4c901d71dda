/**
 * `qualys-s3 status <env>`: after a deploy, is the integration what the configuration and the
 * stack say, does the role trust Qualys only with the current external ID, and do findings
 * arrive? Reads only.
 */
import {
  DEFAULT_NAME_PREFIX,
  INTEGRATION_KINDS,
  type IntegrationKind,
  PENDING_EXTERNAL_ID_PREFIX,
  qualysPrincipalArn,
} from '../core/contract';
import { QualysApiError } from '../core/errors';
import type { IntegrationDetails, QualysClient } from '../core/qualys/client';
import { externalIdsFor, statementsWithoutExternalId } from '../core/trust-policy';
import type { PcConfig } from '../config/config';
import { stackName } from '../config/rules';
import { type CheckDefinition, type CheckOutcome, fail, pass, shortExternalId, skipped, warn } from './checklist';
import { statusConnectorChecks } from './connector-checks';
import type { CommandContext } from './context';
import {
  type SharedFacts,
  apiRefusal,
  configuredKinds,
  identityCheck,
  loginCheck,
  readingsCheck,
  secretCheck,
} from './common-checks';
import type { ObjectInfo, OperatorAws, StackInfo } from './operator-aws';

/** Where Qualys writes each kind's data (the guide's "View Findings on AWS S3 Console"). */
export const DATA_PREFIXES: Readonly<Record<IntegrationKind, readonly string[]>> = {
  vm: ['qualys_vm_findings/', 'findings/'],
  pc: ['qualys_pc_posture_info/'],
};
/** Qualys writes this at validation, at the top of the bucket or under a data prefix. */
export const TEST_FILE_PREFIX = 'test-file';
/** How many of the newest date folders are read for the newest object. */
export const DATE_FOLDERS_READ = 3;
/** Data older than this is reported as a warning: Qualys sends at least daily once scans run. */
export const STALE_AFTER_MS = 26 * 3600_000;

const LABEL: Record<IntegrationKind, string> = { vm: 'Vm', pc: 'Pc' };

export async function status(ctx: CommandContext): Promise<void> {
  await ctx.checklist.runAll(statusChecks(ctx));
}

/** Said for the judgements that mean nothing before the first deploy. */
const BEFORE_FIRST_DEPLOY = 'judged only against a deployed stack (before the first deploy, run qualys-s3 preflight)';

/** The checks of a deployed environment; which ones depends only on the configuration. */
export function statusChecks(ctx: CommandContext): CheckDefinition[] {
  const { env } = ctx;
  const kinds = configuredKinds(ctx);
  const facts: SharedFacts = {};
  const name = stackName(env.envName);
  let stack: StackInfo | undefined;
  const outputs = () => stack?.outputs ?? {};

  const checks: CheckDefinition[] = [
    { id: 'config', title: 'configuration', run: async () => pass(`environment "${env.envName}" is valid`) },
    identityCheck(ctx, facts),
    {
      id: 'stack',
      title: 'deployed stack',
      needs: ['aws-identity'],
      async run() {
        const aws = ctx.aws!;
        const found = await aws.stack(name);
        if (!found) return fail(`no stack ${name} in ${aws.region}`, `deploy it: npx cdk deploy ${name}`);
        stack = found;
        const details = { stackName: name, status: found.status, outputs: found.outputs };
        if (found.status === 'REVIEW_IN_PROGRESS') {
          // A change set was made but never executed: the stack holds nothing yet.
          return fail(
            `${name} was never deployed (REVIEW_IN_PROGRESS: a change set that was not executed)`,
            `execute the change set, or deploy: npx cdk deploy ${name}`,
            details,
          );
        }
        if (/_IN_PROGRESS$/.test(found.status))
          return warn(`${name} is ${found.status}`, 'run status again when the stack operation has finished', details);
        if (/FAILED|ROLLBACK/.test(found.status))
          return fail(
            `${name} is ${found.status}`,
            'see the stack events in the CloudFormation console, fix the cause and deploy again',
            details,
          );
        return pass(`${name} is ${found.status}`, details);
      },
    },
    secretCheck(ctx, facts),
    loginCheck(ctx, facts),
  ];

  for (const kind of kinds) {
    const title = kind.toUpperCase();
    let details: IntegrationDetails | undefined;
    // Declared on the stack and the login, not on `${kind}-integration`: an integration Qualys has
    // but has not validated fails that check, yet its registration and trust are still worth reading.
    const withoutIntegration = skipped(
      `needs "${title} integration" (${kind}-integration), which found no integration to read`,
      { needs: `${kind}-integration`, needsStatus: 'fail' },
    );
    checks.push(
      {
        id: `${kind}-integration`,
        title: `${title} integration`,
        needs: ['stack', 'qualys-auth'],
        async run() {
          const integrationId = outputs()[`${LABEL[kind]}IntegrationId`];
          if (!integrationId)
            return fail(
              `the stack has no ${LABEL[kind]}IntegrationId output`,
              `deploy the current version: npx cdk deploy ${name}`,
            );
          try {
            details = await facts.qualys!.getIntegration(kind, integrationId);
          } catch (error) {
            return apiRefusal(error, `reading ${title} integration ${integrationId}`);
          }
          if (!details) {
            return fail(
              `ID ${integrationId} no longer exists in Qualys`,
              `it was deleted outside CloudFormation: change "${kind}.externalIdRotation" and deploy, or destroy and deploy the stack`,
              { integrationId },
            );
          }
          const found = {
            integrationId,
            name: details.name,
            integrationValidated: details.integrationValidated === true,
          };
          if (details.integrationValidated !== true) {
            return fail(
              `ID ${integrationId} "${details.name}" is not validated: Qualys does not send data`,
              `deploy again (the deploy validates), or see the Troubleshooting section of the README`,
              found,
            );
          }
          return pass(`ID ${integrationId} "${details.name}", validated`, found);
        },
      },
      {
        id: `${kind}-registration`,
        title: `${title} bucket, region, role`,
        needs: ['stack', 'qualys-auth'],
        async run() {
          if (!details) return withoutIntegration;
          const o = outputs();
          const roleArn = o[`${LABEL[kind]}RoleArn`];
          const missing = [...(o.BucketName ? [] : ['BucketName']), ...(roleArn ? [] : [`${LABEL[kind]}RoleArn`])];
          return missing.length
            ? fail(
                `the stack has no ${missing.join(' or ')} output to compare Qualys's registration with`,
                `deploy the current version of the app: npx cdk deploy ${name}`,
              )
            : compareRegistration(ctx, kind, details!, {
                bucket: o.BucketName,
                region: regionOfStack(stack!),
                roleArn,
                name: o[`${LABEL[kind]}IntegrationName`],
              });
        },
      },
      {
        id: `${kind}-trust`,
        title: `${title} role trust policy`,
        needs: ['stack', 'qualys-auth'],
        async run() {
          if (!details) return withoutIntegration;
          const roleArn = outputs()[`${LABEL[kind]}RoleArn`];
          return roleArn
            ? checkTrust(ctx, details!, roleArn)
            : skipped(`the stack has no ${LABEL[kind]}RoleArn output`);
        },
      },
      {
        id: `${kind}-data`,
        title: `${title} data in the bucket`,
        needs: ['stack', 'qualys-auth'],
        async run() {
          if (!details) return withoutIntegration;
          const bucket = outputs().BucketName;
          return bucket ? checkData(ctx.aws!, bucket, kind, ctx.now()) : skipped('the stack has no BucketName output');
        },
      },
    );
  }

  checks.push(
    {
      id: 'test-file',
      title: 'validation test file',
      needs: ['stack'],
      async run() {
        const bucket = outputs().BucketName;
        return bucket
          ? checkTestFile(ctx.aws!, bucket, kinds, ctx.now())
          : skipped('the stack has no BucketName output');
      },
    },
    {
      id: 'open-trust',
      title: 'roles trusting Qualys',
      needs: ['aws-identity'],
      run: async () => checkOpenTrust(ctx, ctx.aws!),
    },
  );

  if (env.pc && (env.pc.policies.length > 0 || env.pc.filter)) {
    const pc = env.pc;
    // Before the first deploy CIPS lacks the configured policies by design: not drift to blame on Qualys.
    checks.push({
      id: 'cips',
      title: 'CIPS policies and filter',
      needs: ['stack', 'qualys-auth'],
      withoutNeeds: { stack: BEFORE_FIRST_DEPLOY },
      run: async () => checkCips(facts.qualys!, pc),
    });
  }
  checks.push({
    id: 'orphans',
    title: 'orphaned integrations',
    needs: ['stack', 'qualys-auth'],
    withoutNeeds: { stack: BEFORE_FIRST_DEPLOY },
    run: async () => checkOrphans(ctx, facts.qualys!),
  });
  checks.push(...statusConnectorChecks(ctx, facts, outputs));
  checks.push(readingsCheck(facts));
  return checks;
}

function regionOfStack(stack: StackInfo): string | undefined {
  return /^arn:[^:]+:cloudformation:([^:]+):/.exec(stack.stackId)?.[1];
}

function compareRegistration(
  ctx: CommandContext,
  kind: IntegrationKind,
  details: IntegrationDetails,
  expected: { bucket?: string; region?: string; roleArn?: string; name?: string },
): CheckOutcome {
  const configuredBucket = ctx.env.bucket.bucketName;
  const configuredName = (kind === 'vm' ? ctx.env.vm : ctx.env.pc)?.name;
  const mismatches: string[] = [];
  const compare = (field: string, actual: unknown, want: string | undefined, source: string) => {
    if (want !== undefined && actual !== want)
      mismatches.push(`${field} is ${JSON.stringify(actual ?? null)}, ${source} says ${want}`);
  };
  compare('bucketName', details.bucketName, expected.bucket, 'the stack');
  compare('bucketName', details.bucketName, configuredBucket, 'the configuration');
  compare('bucketRegion', details.bucketRegion, expected.region, 'the stack');
  compare('bucketRegion', details.bucketRegion, ctx.env.region, 'the configuration');
  compare('roleArn', details.roleArn, expected.roleArn, 'the stack');
  compare('name', details.name, expected.name, 'the stack');
  compare('name', details.name, configuredName, 'the configuration');
  const facts = { bucketName: details.bucketName, bucketRegion: details.bucketRegion, roleArn: details.roleArn };
  if (mismatches.length) {
    return fail(
      `Qualys's registration differs: ${mismatches.join('; ')}`,
      'it was changed in Qualys, or the configuration changed since the last deploy: deploy again (cdk deploy) to make them match',
      { ...facts, mismatches },
    );
  }
  return pass(`${details.bucketName} in ${details.bucketRegion}, role ${details.roleArn}: as deployed`, facts);
}

async function checkTrust(ctx: CommandContext, details: IntegrationDetails, roleArn: string): Promise<CheckOutcome> {
  const principal = qualysPrincipalArn(ctx.env.qualysAwsAccountId);
  const roleName = roleArn.split('/').pop()!;
  const role = await ctx.aws!.role(roleName);
  if (!role)
    return fail(
      `role ${roleName} does not exist`,
      'it was deleted outside CloudFormation: deploy again to recreate it',
    );
  const open = statementsWithoutExternalId(role.trustPolicy, principal);
  if (open.length) {
    return fail(
      `${roleName} lets Qualys assume it without an external ID (${open.length} statement${open.length === 1 ? '' : 's'})`,
      "remove those statements (IAM console > Roles > Trust relationships), or deploy again to restore the stack's trust policy",
      { openStatements: open.length },
    );
  }
  const trusted = externalIdsFor(role.trustPolicy, principal);
  const current = details.externalId;
  if (!current) {
    // The guide's PC details carry no external ID: then one trusted ID and a validated
    // integration are the evidence that it is the right one (Qualys assumed the role with it).
    const real = trusted.filter((id) => !id.startsWith(PENDING_EXTERNAL_ID_PREFIX));
    if (real.length === 1 && trusted.length === 1 && details.integrationValidated === true) {
      return pass(
        `${roleName} trusts Qualys only with external ID ${shortExternalId(real[0])}; Qualys's details do not carry the external ID, and it reports the integration validated`,
        {
          current: shortExternalId(real[0]),
          reading: 'details without an external ID',
        },
      );
    }
    return warn(
      `${roleName} trusts ${trusted.length} external ID(s); Qualys's details do not carry the integration's, so which one it uses cannot be checked`,
      'check the integration in the Qualys UI; deploy again if it is not validated',
    );
  }
  const shown = shortExternalId(current);
  if (!trusted.includes(current)) {
    return fail(
      `${roleName} does not trust the integration's current external ID ${shown}: Qualys cannot assume it`,
      'deploy again: the deploy writes the current external ID into the trust policy',
      { trusted: trusted.map(shortExternalId), current: shown },
    );
  }
  const stale = trusted.filter((id) => id !== current);
  if (stale.length) {
    return warn(
      `${roleName} trusts ${shown} and ${stale.length} other external ID(s)`,
      'an earlier rotation left old IDs: deploy again to drop them',
      {
        trusted: trusted.map(shortExternalId),
        current: shown,
      },
    );
  }
  return pass(`${roleName} trusts Qualys only with external ID ${shown}`, { current: shown });
}

async function checkData(aws: OperatorAws, bucket: string, kind: IntegrationKind, now: number): Promise<CheckOutcome> {
  let newest: ObjectInfo | undefined;
  for (const root of DATA_PREFIXES[kind]) {
    const found = await newestUnder(aws, bucket, root);
    if (found && (!newest || found.lastModified > newest.lastModified)) newest = found;
  }
  const where = DATA_PREFIXES[kind].join(' or ');
  if (!newest) {
    return warn(
      `nothing under ${where} yet`,
      `Qualys writes after its next ${kind === 'vm' ? 'vulnerability' : 'posture'} data run; if none arrives within a day, check the integration in the Qualys UI`,
      {
        newest: null,
      },
    );
  }
  const age = now - newest.lastModified;
  const facts = {
    newest: {
      key: newest.key,
      lastModified: new Date(newest.lastModified).toISOString(),
      ageSeconds: Math.round(age / 1000),
    },
  };
  if (age > STALE_AFTER_MS) {
    return warn(
      `newest is ${newest.key}, ${formatAge(age)} old`,
      'findings have stopped arriving: check that the integration is validated and that scans run',
      facts,
    );
  }
  return pass(`newest is ${newest.key}, ${formatAge(age)} old`, facts);
}

/**
 * The newest object under a data prefix. Qualys writes into date folders (YYYY-MM-DD/): the
 * newest few are read in full (a late batch can land in the previous day's folder; reading all
 * of a years-old bucket would take minutes); other folders (e.g. findings/, vuln_info/) are
 * searched the same way, two levels deep. Test files do not count as data.
 */
async function newestUnder(
  aws: OperatorAws,
  bucket: string,
  prefix: string,
  depth = 0,
): Promise<ObjectInfo | undefined> {
  const level = await aws.list(bucket, { prefix, delimiter: '/' });
  const candidates: Array<ObjectInfo | undefined> = [...level.objects];
  const dated = level.prefixes.filter((p) => /\d{4}-\d{2}-\d{2}\/$/.test(p)).sort();
  for (const folder of dated.slice(-DATE_FOLDERS_READ))
    candidates.push(...(await aws.list(bucket, { prefix: folder })).objects);
  if (depth < 2) {
    for (const folder of level.prefixes.filter((p) => !dated.includes(p)))
      candidates.push(await newestUnder(aws, bucket, folder, depth + 1));
  }
  return candidates
    .filter(
      (o): o is ObjectInfo => o !== undefined && !o.key.slice(o.key.lastIndexOf('/') + 1).startsWith(TEST_FILE_PREFIX),
    )
    .reduce<ObjectInfo | undefined>((a, b) => (!a || b.lastModified > a.lastModified ? b : a), undefined);
}

async function checkTestFile(
  aws: OperatorAws,
  bucket: string,
  kinds: readonly IntegrationKind[],
  now: number,
): Promise<CheckOutcome> {
  const prefixes = ['', ...kinds.flatMap((k) => DATA_PREFIXES[k])].map((p) => `${p}${TEST_FILE_PREFIX}`);
  const found: ObjectInfo[] = [];
  for (const prefix of prefixes) found.push(...(await aws.list(bucket, { prefix, maxPages: 1 })).objects);
  if (!found.length) {
    return fail(
      `no ${TEST_FILE_PREFIX}.gz / .json in ${bucket}: Qualys has not written to the bucket`,
      "Qualys writes it when it validates the integration: check the role's s3:PutObject policy on the bucket and deploy again to validate",
    );
  }
  const newest = found.reduce((a, b) => (b.lastModified > a.lastModified ? b : a));
  return pass(`${newest.key}, written ${formatAge(now - newest.lastModified)} ago`, {
    key: newest.key,
    lastModified: new Date(newest.lastModified).toISOString(),
  });
}

async function checkOpenTrust(ctx: CommandContext, aws: OperatorAws): Promise<CheckOutcome> {
  const principal = qualysPrincipalArn(ctx.env.qualysAwsAccountId);
  const open: string[] = [];
  let scanned = 0;
  for await (const role of aws.roles()) {
    if (++scanned % 500 === 0) ctx.progress(`roles trusting Qualys: ${scanned} roles read`);
    if (statementsWithoutExternalId(role.trustPolicy, principal).length) open.push(role.name);
  }
  if (open.length) {
    return fail(
      `${open.length} role(s) trust Qualys's principal without an external ID: ${open.join(', ')}`,
      'add an sts:ExternalId condition to those trust policies or delete the roles: an integration of any Qualys customer could assume them',
      { roles: open, scanned },
    );
  }
  return pass(`none of the ${scanned} roles in the account trusts Qualys without an external ID`, { scanned });
}

async function checkCips(qualys: QualysClient, pc: PcConfig): Promise<CheckOutcome> {
  const cips = await qualys.getCipsConfig();
  if (!cips.readable) {
    return warn(
      `the CIPS configuration's answer could not be read (${cips.reading})`,
      'check the policies and the filter in the Qualys UI',
      {
        reading: cips.reading,
      },
    );
  }
  const missing = pc.policies.filter((p) => !cips.policies.includes(p));
  const extra = cips.policies.filter((p) => !pc.policies.includes(p));
  const filterDiffers =
    pc.filter && JSON.stringify(sortKeys(cips.filter ?? {})) !== JSON.stringify(sortKeys(pc.filter));
  const facts = {
    policies: cips.policies,
    configured: pc.policies,
    missing,
    filter: cips.filter ?? null,
    configuredFilter: pc.filter ?? null,
  };
  const problems: string[] = [];
  if (missing.length)
    problems.push(`polic${missing.length === 1 ? 'y' : 'ies'} ${missing.join(', ')} missing from CIPS`);
  if (filterDiffers)
    problems.push(
      `the filter is ${JSON.stringify(cips.filter ?? null)}, the configuration says ${JSON.stringify(pc.filter)}`,
    );
  if (problems.length)
    return fail(problems.join('; '), 'they were changed in Qualys: deploy again (cdk deploy) to restore them', facts);
  const others = extra.length ? `; ${extra.length} more from elsewhere` : '';
  return pass(
    `all ${pc.policies.length} configured policies in CIPS${others}; filter ${pc.filter ? 'as configured' : 'not managed'}`,
    facts,
  );
}

/** Names this app generates: qs3-<env>-<kind>-<account>-<region>. */
const GENERATED_NAME = new RegExp(`^${DEFAULT_NAME_PREFIX}-(.+)-(vm|pc)-(\\d{12})-([a-z]{2}(?:-[a-z]+)+-\\d+)$`);

async function checkOrphans(ctx: CommandContext, qualys: QualysClient): Promise<CheckOutcome> {
  const orphans: Array<{ kind: IntegrationKind; integrationId: string; name: string }> = [];
  const unreadable: string[] = [];
  const configured = configuredKinds(ctx);
  for (const kind of INTEGRATION_KINDS) {
    let list: IntegrationDetails[];
    try {
      list = await qualys.listIntegrations(kind);
    } catch (error) {
      // A kind this environment does not use may be closed to its user: not this environment's failure.
      if (
        !configured.includes(kind) &&
        error instanceof QualysApiError &&
        (error.status === 401 || error.status === 403)
      ) {
        unreadable.push(kind.toUpperCase());
        continue;
      }
      throw error;
    }
    for (const i of list) {
      const m = GENERATED_NAME.exec(i.name ?? '');
      if (!m) continue;
      const [, envName, , account, region] = m;
      // Named explicitly by a configured environment, or by default for one.
      const owner =
        ctx.config.environments.find((e) => (kind === 'vm' ? e.vm : e.pc)?.name === i.name) ??
        ctx.config.environments.find(
          (e) =>
            e.envName === envName &&
            (kind === 'vm' ? e.vm : e.pc) !== undefined &&
            (!e.account || e.account === account) &&
            (!e.region || e.region === region),
        );
      if (!owner) orphans.push({ kind, integrationId: i.integrationId ?? 'ID not reported', name: i.name! });
    }
  }
  if (orphans.length) {
    return fail(
      `${orphans.length} integration(s) named like this app's belong to no configured environment: ${orphans.map((o) => `${o.name} (${o.kind.toUpperCase()} ${o.integrationId})`).join(', ')}`,
      'if their stacks are gone, delete them in the Qualys UI (or DELETE /partner-integration/aws/s3/{id}/{vm|pc}); if not, add their environments to this configuration',
      { orphans },
    );
  }
  const unchecked = unreadable.length ? ` (${unreadable.join(', ')} not readable by this user, not checked)` : '';
  return pass(`none: every integration named like this app's belongs to a configured environment${unchecked}`, {
    orphans,
    unchecked: unreadable,
  });
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
