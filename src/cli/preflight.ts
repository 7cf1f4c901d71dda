/**
 * `qualys-s3 preflight <env>`: everything a first deploy needs, checked before it. Reads
 * only; changes nothing in AWS or Qualys.
 */
import { type IntegrationKind, MAX_CIPS_POLICIES, defaultIntegrationName } from '../core/contract';
import type { CipsReading, IntegrationDetails } from '../core/qualys/client';
import type { PcConfig, VmConfig } from '../config/config';
import { type CheckDefinition, fail, pass, warn } from './checklist';
import { preflightConnectorChecks } from './connector-checks';
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
export async function preflight(ctx: CommandContext): Promise<void> {
  await ctx.checklist.runAll(preflightChecks(ctx));
}

/** The checks, in the order a first deploy needs them; which ones depends only on the configuration. */
export function preflightChecks(ctx: CommandContext): CheckDefinition[] {
  const { env } = ctx;
  const kinds = configuredKinds(ctx);
  const facts: SharedFacts = {};
  const existing = new Map<IntegrationKind, IntegrationDetails[]>();
  const checks: CheckDefinition[] = [
    {
      id: 'config',
      title: 'configuration',
      run: async () =>
        pass(
          `environment "${env.envName}" is valid: ${[...kinds.map((k) => k.toUpperCase()), ...(env.cloudView ? [`CloudView (${env.cloudView.api})`] : [])].join(' + ')} on ${env.gatewayUrl}`,
        ),
    },
    identityCheck(ctx, facts),
    {
      id: 'bucket-region',
      title: 'bucket region',
      async run() {
        if (!ctx.region) {
          return fail(
            'no region: the environment names none and the AWS SDK chain has none',
            'set "region" for this environment (or AWS_REGION)',
          );
        }
        const source = env.region
          ? 'the environment\'s "region"'
          : 'AWS_REGION / your profile (the environment names no region)';
        const secretRegion = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(env.credentialsSecret)?.[1];
        if (secretRegion && secretRegion !== ctx.region) {
          return fail(
            `the stack deploys to ${ctx.region} but the secret is in ${secretRegion}`,
            'keep the secret in the stack\'s region, or set "region" to match',
          );
        }
        return pass(
          `${ctx.region}, from ${source}: the bucket is created there and registered with bucketRegion ${ctx.region}`,
          { region: ctx.region },
        );
      },
    },
    secretCheck(ctx, facts),
    loginCheck(ctx, facts),
  ];

  for (const kind of kinds) {
    checks.push({
      id: `api-${kind}`,
      title: `${kind.toUpperCase()} integration API`,
      needs: ['qualys-auth'],
      async run() {
        try {
          const list = await facts.qualys!.listIntegrations(kind);
          existing.set(kind, list);
          return pass(
            `GET /partner-integration/aws/s3/${kind} allowed (${list.length} integration${list.length === 1 ? '' : 's'} in the subscription)`,
          );
        } catch (error) {
          return apiRefusal(error, `the user may not use the AWS S3 ${kind.toUpperCase()} integration API`);
        }
      },
    });
  }

  const pc = env.pc;
  if (pc && (pc.policies.length > 0 || pc.filter)) {
    checks.push({
      id: 'cips',
      title: 'CIPS configuration',
      needs: ['qualys-auth'],
      async run() {
        let cips: CipsReading;
        try {
          cips = await facts.qualys!.getCipsConfig();
        } catch (error) {
          return apiRefusal(error, 'the user may not read the CIPS configuration (GET /pcas/cips/config)');
        }
        if (!cips.readable) {
          return warn(
            `GET /pcas/cips/config allowed, but its answer could not be read (${cips.reading})`,
            'a deploy then adds the configured policies, removes none, and refuses to set "pc.filter"; report the answer\'s shape to the project',
            { reading: cips.reading },
          );
        }
        const present = pc.policies.filter((p) => cips.policies.includes(p));
        const union = new Set([...cips.policies, ...pc.policies]);
        const details = {
          current: cips.policies,
          configured: pc.policies,
          alreadyPresent: present,
          filter: cips.filter ?? null,
        };
        if (union.size > MAX_CIPS_POLICIES) {
          return fail(
            `CIPS would hold ${union.size} policies (${cips.policies.length} now + ${pc.policies.length - present.length} new); Qualys allows ${MAX_CIPS_POLICIES}`,
            'remove policies from "pc.policies" or from CIPS first',
            details,
          );
        }
        return pass(
          `GET /pcas/cips/config allowed: ${cips.policies.length} polic${cips.policies.length === 1 ? 'y' : 'ies'} now, ` +
            `${present.length} of the ${pc.policies.length} configured already there; filter ${cips.filter ? 'set' : 'not set'}`,
          details,
        );
      },
    });
  }

  for (const kind of kinds) {
    const integration = (kind === 'vm' ? env.vm : env.pc) as VmConfig | PcConfig;
    checks.push({
      id: `existing-${kind}`,
      title: `existing ${kind.toUpperCase()} integration`,
      needs: [`api-${kind}`],
      async run() {
        const list = existing.get(kind)!;
        const account = env.account ?? facts.account;
        const defaultName =
          ctx.region && account ? defaultIntegrationName(env.envName, kind, account, ctx.region) : undefined;
        const name = integration.name ?? defaultName;
        if (!name)
          return warn(
            'cannot tell the default name without an account and region',
            'set "account" and "region" for the environment',
          );
        const found = list.find((i) => i.name === name);
        if (!found) {
          const others = list.filter((i) => i.name !== name);
          if (others.length > 0) {
            // The guide's wording allows a subscription that holds one integration per kind.
            return warn(
              `none named "${name}", but the subscription holds ${others.length} other ${kind.toUpperCase()} integration(s) (${others.map((o) => `"${o.name ?? '?'}"`).join(', ')}): ` +
                'if it allows only one per kind, registering a second is refused',
              'if the deploy is refused, adopt the existing one ("name" and "adoptExisting") or use another Qualys subscription',
              { name, others: others.map((o) => ({ name: o.name, integrationId: o.integrationId ?? null })) },
            );
          }
          return pass(`none named "${name}": a new one will be registered`, { name });
        }
        if (found.integrationId === undefined) {
          return fail(
            `"${name}" exists, but Qualys did not report its ID, so the deploy can neither adopt nor replace it`,
            `delete it in the Qualys UI, or choose another "${kind}.name"`,
            { name, integrationId: null },
          );
        }
        const summary = `ID ${found.integrationId}, bucket ${found.bucketName ?? '?'} in ${found.bucketRegion ?? '?'}, ${found.integrationValidated ? 'validated' : 'not validated'}`;
        const moves =
          found.bucketRegion && ctx.region && found.bucketRegion !== ctx.region
            ? `; its bucketRegion will change from ${found.bucketRegion} to ${ctx.region}`
            : '';
        const details = {
          name,
          integrationId: found.integrationId,
          bucketName: found.bucketName,
          bucketRegion: found.bucketRegion,
        };
        if (name === defaultName) {
          return warn(
            `"${name}" exists (${summary}): this environment's default name, so the deploy adopts it${moves}`,
            'nothing to do if it is a leftover of this environment',
            details,
          );
        }
        if (integration.adoptExisting) {
          return warn(
            `"${name}" exists (${summary}): the deploy takes it over (adoptExisting)${moves}`,
            'make sure nobody else relies on it',
            details,
          );
        }
        return fail(
          `"${name}" exists (${summary}) and "${kind}.adoptExisting" is false: the deploy would refuse it`,
          `set "${kind}.adoptExisting": true to take it over, or choose another "${kind}.name"`,
          details,
        );
      },
    });
  }
  checks.push(...preflightConnectorChecks(ctx, facts));
  checks.push(readingsCheck(facts));
  return checks;
}
