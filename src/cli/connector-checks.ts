/**
 * The CloudView / TotalCloud connector's checks, for an environment with `cloudView`:
 * before a deploy (may the user use the connector API, and is there a connector for this
 * account already?) and after it (the connector's state, syncs, errors, and the account's
 * control evaluations). Read only.
 */
import { defaultConnectorName } from '../core/contract';
import type { Connector, ConnectorApi } from '../core/qualys/connectors';
import { type CheckDefinition, fail, pass, skipped, warn } from './checklist';
import { type SharedFacts, apiRefusal } from './common-checks';
import { type CommandContext, connectorClient } from './context';

/** What the connector checks found that later ones use. */
interface ConnectorFacts {
  api?: ConnectorApi;
  found?: Connector[];
}

/** Connector states in which Qualys is still at work on a run. */
const RUNNING = /^(PENDING|QUEUED|RUNNING|PROCESSING)$/;
/** States of a run that ended well. */
const SUCCEEDED = /^(SUCCESS|FINISHED_SUCCESS)$/;

/** How many of the worst failing controls status shows. */
export const WORST_CONTROLS_SHOWN = 5;

function connectorName(ctx: CommandContext, facts: SharedFacts): string | undefined {
  const cloudView = ctx.env.cloudView!;
  const account = ctx.env.account ?? facts.account;
  return cloudView.name ?? (account ? defaultConnectorName(ctx.env.envName, account) : undefined);
}

/** What the connector APIs ask of the user (the remedy of a 401 or 403). */
const CONNECTOR_PERMISSIONS = 'API access and a role that may manage cloud connectors (CloudView / TotalCloud)';

/** The connector API answers this user, and lists what it holds for the account. */
function connectorApiCheck(ctx: CommandContext, facts: SharedFacts, found: ConnectorFacts): CheckDefinition {
  const cloudView = ctx.env.cloudView!;
  return {
    id: 'connector-api',
    title: `connector API (${cloudView.api})`,
    needs: ['secret', 'aws-identity'],
    async run() {
      const api = connectorClient(ctx, facts.credentials!);
      const account = ctx.env.account ?? facts.account!;
      const name = connectorName(ctx, facts);
      try {
        found.found = await api.find({ awsAccountId: account, name });
      } catch (error) {
        return apiRefusal(error, `${cloudView.apiUrl} refused the connector search`, CONNECTOR_PERMISSIONS);
      }
      found.api = api;
      return pass(
        `${cloudView.apiUrl} answered: ${found.found.length} connector${found.found.length === 1 ? '' : 's'} for account ${account}` +
          `${name ? ` or named "${name}"` : ''}`,
        { api: cloudView.api, apiUrl: cloudView.apiUrl, readings: Object.fromEntries(api.readings) },
      );
    },
  };
}

/** Preflight: whether a connector for this account already exists, and what a deploy does with it. */
export function preflightConnectorChecks(ctx: CommandContext, facts: SharedFacts): CheckDefinition[] {
  const cloudView = ctx.env.cloudView;
  if (!cloudView) return [];
  const found: ConnectorFacts = {};
  return [
    connectorApiCheck(ctx, facts, found),
    {
      id: 'existing-connector',
      title: 'existing connector',
      needs: ['connector-api'],
      async run() {
        const name = connectorName(ctx, facts)!;
        const connectors = found.found!;
        const details = {
          name,
          connectors: connectors.map((c) => ({ id: c.id, name: c.name ?? null, awsAccountId: c.awsAccountId ?? null })),
        };
        if (connectors.length === 0) return pass(`none for this account: "${name}" will be created`, details);
        const account = ctx.env.account ?? facts.account!;
        const elsewhere = connectors.find((c) => c.name === name && c.awsAccountId && c.awsAccountId !== account);
        if (elsewhere) {
          return fail(
            `"${name}" exists for another AWS account (${elsewhere.awsAccountId}, ID ${elsewhere.id}): the deploy refuses it, even with adoptExisting (taking it over would move that account's monitoring)`,
            'set "cloudView.name" to a name of its own for this account',
            details,
          );
        }
        const same = connectors.find((c) => c.name === name);
        if (same && connectors.length === 1) {
          return warn(
            `"${name}" exists (ID ${same.id}${same.state ? `, ${same.state}` : ''}): the deploy adopts it if it names this stack's role and external ID, else refuses it`,
            'nothing to do if it is a leftover of this environment; otherwise delete it in Qualys or set "cloudView.adoptExisting"',
            details,
          );
        }
        const foreign = connectors.filter((c) => c.name !== name);
        const listed = foreign.map((c) => `"${c.name ?? '?'}" (ID ${c.id})`).join(', ');
        if (cloudView.adoptExisting && foreign.length > 1) {
          return fail(
            `the account has ${foreign.length} connectors of other names (${listed}): the deploy will not choose which to adopt`,
            'delete all but one in Qualys (or all, and let the deploy create its own)',
            details,
          );
        }
        if (cloudView.adoptExisting) {
          return warn(
            `the account already has ${listed}: the deploy takes it over (adoptExisting)`,
            'make sure nobody else relies on it',
            details,
          );
        }
        return fail(
          `the account already has a connector of another name: ${listed}; the deploy would refuse it`,
          'delete it in Qualys, name it in "cloudView.name", or set "cloudView.adoptExisting": true to take it over',
          details,
        );
      },
    },
  ];
}

/** Status: the connector's state, last and next sync, its errors, and the account's control evaluations. */
export function statusConnectorChecks(
  ctx: CommandContext,
  facts: SharedFacts,
  outputs: () => Readonly<Record<string, string>>,
): CheckDefinition[] {
  if (!ctx.env.cloudView) return [];
  const found: ConnectorFacts = {};
  let connector: Connector | undefined;
  return [
    connectorApiCheck(ctx, facts, found),
    {
      id: 'connector',
      title: 'CloudView connector',
      needs: ['connector-api'],
      async run() {
        const id = outputs().CloudViewConnectorId;
        const name = connectorName(ctx, facts);
        connector =
          (id ? await found.api!.get(id) : undefined) ?? found.found!.find((c) => (id ? c.id === id : c.name === name));
        if (!connector) {
          return fail(
            id
              ? `connector ${id} (the stack's output) is not in Qualys`
              : `no connector named "${name}" for this account`,
            'deploy the stack (npx cdk deploy), which creates it',
          );
        }
        const details = {
          id: connector.id,
          name: connector.name ?? null,
          state: connector.state ?? null,
          lastSync: connector.lastSync ?? null,
          nextSync: connector.nextSync ?? null,
        };
        const when = `last sync ${connector.lastSync ?? 'never'}, next ${connector.nextSync ?? 'not scheduled'}`;
        const what = `"${connector.name ?? '?'}" (ID ${connector.id}): ${connector.state ?? 'state not reported'}, ${when}`;
        if (connector.disabled || connector.state === 'DISABLED') {
          return warn(what, 'enable it in Qualys, or deploy again', details);
        }
        if (connector.state && SUCCEEDED.test(connector.state)) return pass(what, details);
        if (connector.state && RUNNING.test(connector.state)) return pass(`${what} (a run is under way)`, details);
        return fail(
          what,
          "see the connector errors below; the role must trust Qualys with this stack's external ID",
          details,
        );
      },
    },
    {
      id: 'connector-errors',
      title: 'connector errors',
      // Also, and most of all, when the connector's state is bad: the errors say why.
      needs: ['connector-api'],
      async run() {
        if (!connector) return skipped('no connector to read errors of');
        const reading = await found.api!.errors(connector!.id);
        if (!reading.readable) {
          return warn(
            `the error list could not be read (${reading.reading})`,
            'look at the connector in the Qualys UI',
          );
        }
        const errors = [...reading.errors, ...(connector!.error ? [{ message: connector!.error }] : [])];
        if (errors.length === 0) return pass('none', { errors: [] });
        const shown = errors
          .slice(0, 3)
          .map((e) => e.message)
          .join('; ');
        return warn(
          `${errors.length} error${errors.length === 1 ? '' : 's'}: ${shown}${errors.length > 3 ? '; ...' : ''}`,
          'an error about assuming the role: check its trust policy (the CloudViewExternalId output) and permissions',
          { errors },
        );
      },
    },
    {
      id: 'control-evaluations',
      title: 'control evaluations',
      needs: ['connector-api'],
      async run() {
        if (!connector) return skipped('no connector, so no evaluations');
        const account = ctx.env.account ?? facts.account!;
        const reading = await found.api!.evaluations(account, { worst: WORST_CONTROLS_SHOWN });
        if (!reading.readable) {
          return skipped(`the evaluations could not be read (${reading.reading})`);
        }
        const { passed, failed, worstFailing } = reading.summary;
        if (passed + failed === 0) {
          return skipped('no control evaluated yet (the first run evaluates the account)', { passed, failed });
        }
        const worst = worstFailing
          .map(
            (c) =>
              `${c.controlId}${c.controlName ? ` ${c.controlName}` : ''}${c.criticality ? ` (${c.criticality})` : ''}`,
          )
          .join('; ');
        return pass(`${passed} passed, ${failed} failed${worst ? `; worst failing: ${worst}` : ''}`, {
          passed,
          failed,
          worstFailing,
        });
      },
    },
  ];
}
