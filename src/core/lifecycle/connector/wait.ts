/**
 * Waiting, bounded, until Qualys reports that it could assume the role: the connector's state
 * and its error list after a run. The role was created moments before, so the first runs may
 * fail to assume it while IAM propagates: such a run is repeated, further apart each time, as
 * the S3 integration's validation is (the polls follow the same schedule, validationAttemptAt).
 *
 * - Assumed: a run that finished (SUCCESS, FINISHED_SUCCESS), or that finished with errors none
 *   of which is about assuming the role (FINISHED_ERRORS, INCOMPLETE: some services or regions
 *   refused, which needs the role assumed first).
 * - Not yet: a finished run with an assume-role error, an ERROR, or an error list that cannot be
 *   read (never taken for "no errors"): run again once the re-run gap has passed.
 * - In progress (PENDING, QUEUED, RUNNING, PROCESSING) or a state not reported: poll again.
 * - DISABLED: stop at once.
 * - At the end of the wait, a run still RUNNING or PROCESSING with no assume-role error reported
 *   is taken as working (a large account's first run outlasts any deploy), with a warning;
 *   anything else fails, with the last state and errors.
 */
import type { ConnectorSpec } from '../../connector-contract';
import { IntegrationError, QualysApiError, QualysNetworkError, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import type { Connector, ConnectorApi, ConnectorErrorEntry } from '../../qualys/connectors/api';
import type { Clock } from '../../retry';
import { validationAttemptAt } from '../apply';

export interface WaitDeps {
  readonly log: Logger;
  readonly clock: Clock;
  /** Epoch ms after which no new poll starts. */
  readonly deadline: number;
  /** When poll n is made, in ms after the wait starts. @default validationAttemptAt */
  readonly connectorPollAt?: (attempt: number) => number;
}

export interface WaitOutcome {
  /** The state Qualys reported last. */
  readonly state: string;
  /** Whether Qualys reported a finished run (false: taken as working at the end of the wait). */
  readonly confirmed: boolean;
  readonly polls: number;
  readonly runs: number;
}

const SUCCESS = ['SUCCESS', 'FINISHED_SUCCESS', 'COMPLETED', 'FINISHED'];
const PARTIAL = ['FINISHED_ERRORS', 'INCOMPLETE', 'PARTIAL_SUCCESS', 'FINISHED_WITH_ERRORS'];
const FAILED = ['ERROR', 'FAILED', 'FAILURE'];
const PROGRESS = ['PENDING', 'QUEUED', 'RUNNING', 'PROCESSING', 'IN_PROGRESS', 'STARTED', 'SCHEDULED'];
/** States in which the run has got past assuming the role, if no error says otherwise. */
const UNDER_WAY = ['RUNNING', 'PROCESSING', 'IN_PROGRESS'];

/** Words of an error that is Qualys failing to assume the role (what IAM propagation looks like from its side). */
export function isAssumeRoleError(message: string): boolean {
  return /assume ?role|sts:|\bsts\b|access ?denied|not authori[sz]ed|external ?id|trust (relationship|policy)|InvalidClientTokenId|unable to assume|could not assume|cannot assume/i.test(
    message,
  );
}

/** The first gap between runs; each later one grows by half, up to the most. */
export const FIRST_RERUN_GAP_MS = 10_000;
export const MAX_RERUN_GAP_MS = 60_000;
/** How close to the end of the wait the last poll is made. */
const FINAL_POLL_MARGIN_MS = 1000;

export async function waitUntilRoleAssumed(
  api: ConnectorApi,
  spec: ConnectorSpec,
  connectorId: string,
  deps: WaitDeps,
  /** The connector before the first run (its last sync tells an old result from a new one). */
  baseline: Pick<Connector, 'state' | 'lastSync'> | undefined,
): Promise<WaitOutcome> {
  const { clock, log } = deps;
  const started = clock.now();
  const end = Math.min(started + spec.validationTimeoutMs, deps.deadline);
  const pollAt = deps.connectorPollAt ?? validationAttemptAt;
  let runs = 0;
  let polls = 0;
  let lastRunAt = started;
  let gap = FIRST_RERUN_GAP_MS;
  let sawProgress = false;
  let lastState = baseline?.state ?? 'not reported';
  let lastErrors: readonly ConnectorErrorEntry[] = [];
  let lastWhy = '';
  let assumeErrorSeen = false;
  /** When the state was last read: an old reading does not count as "still under way". */
  let lastReadAt = started;
  /** Until when Qualys asked to be left alone (a 409's X-RateLimit-ToWait-Sec). */
  let quietUntil = 0;
  /** The wait ended early: a rate limit asked for quiet beyond it. */
  let cutShort = false;

  const run = async () => {
    const outcome = await api.run(connectorId);
    runs++;
    lastRunAt = clock.now();
    sawProgress = false;
    if (outcome.outcome === 'absent') throw vanished(connectorId);
    if (outcome.outcome === 'refused') log.info('connector.run-refused', { connectorId, answer: outcome.message });
    else log.info('connector.run-requested', { connectorId, run: runs });
  };
  await run();

  let finalDone = false;
  for (let attempt = 1; ; attempt++) {
    let at = started + pollAt(attempt);
    if (at >= end - FINAL_POLL_MARGIN_MS) {
      if (finalDone || end - FINAL_POLL_MARGIN_MS <= clock.now()) break;
      at = end - FINAL_POLL_MARGIN_MS;
      finalDone = true;
    }
    // A rate limit asked for quiet: no poll before it ends; past the wait's end, no poll at all.
    if (quietUntil > at) {
      if (quietUntil >= end - FINAL_POLL_MARGIN_MS) {
        cutShort = true;
        break;
      }
      at = quietUntil;
    }
    const delayMs = Math.max(0, at - clock.now());
    if (polls > 0) {
      log.info('connector.waiting', {
        connectorId,
        attempt: polls,
        delayMs,
        state: lastState,
        answer: lastWhy || lastState,
      });
    }
    await clock.sleep(delayMs);
    polls++;
    let connector: Connector | undefined;
    try {
      connector = await api.get(connectorId);
    } catch (error) {
      // A poll that fails for a passing reason is a poll missed, not the end of the wait.
      if (!passing(error)) throw error;
      lastWhy = errorMessage(error);
      const wait = error instanceof QualysApiError ? error.retryAfterMs : undefined;
      if (wait !== undefined && wait > 0) quietUntil = clock.now() + wait;
      if (finalDone) break;
      continue;
    }
    if (!connector) throw vanished(connectorId);
    const state = connector.state ?? 'not reported';
    lastState = state;
    lastReadAt = clock.now();
    if (state === 'DISABLED' || connector.disabled === true) {
      throw new IntegrationError(
        `Connector ${connectorId} is disabled in Qualys, so it will never run: enable it in the Qualys UI (or delete it) and deploy again.`,
      );
    }
    if (SUCCESS.includes(state)) {
      // An old success (an adopted connector's, before its role changed) is not this run's.
      const stale =
        baseline?.lastSync !== undefined &&
        connector.lastSync === baseline.lastSync &&
        !sawProgress &&
        SUCCESS.includes(baseline.state ?? '');
      if (!stale) return done(state, true);
      lastWhy = 'the last sync is the one from before this run';
      continue;
    }
    if (PROGRESS.includes(state)) {
      sawProgress = true;
      lastWhy = connector.error ?? '';
      if (connector.error && isAssumeRoleError(connector.error)) assumeErrorSeen = true;
      continue;
    }
    if (PARTIAL.includes(state) || FAILED.includes(state)) {
      const read = await readErrors(api, connectorId, connector);
      lastErrors = read.errors;
      const assume = read.errors.filter((e) => isAssumeRoleError(e.message));
      assumeErrorSeen = assume.length > 0;
      if (read.readable && assume.length === 0 && PARTIAL.includes(state)) {
        log.warn('connector.role-assumed', {
          connectorId,
          state,
          errors: read.errors.slice(0, 5).map((e) => e.message),
        });
        return done(state, true, false);
      }
      lastWhy = !read.readable
        ? `the error list could not be read (${read.reading})`
        : assume.length > 0
          ? assume[0].message
          : (read.errors[0]?.message ?? 'no error reported');
      if (clock.now() - lastRunAt >= gap) {
        gap = Math.min(MAX_RERUN_GAP_MS, gap * 1.5);
        await run();
      }
      continue;
    }
    // A state this reader does not know: neither success nor failure; poll on.
    lastWhy = `state ${state} is not one this tool knows`;
  }

  // Still under way only when the state was read near the end: a reading from before a run of
  // missed polls (rate-limited, say) may since have turned into a failure.
  const fresh = !cutShort && end - lastReadAt <= MAX_RERUN_GAP_MS;
  if (UNDER_WAY.includes(lastState) && !assumeErrorSeen && fresh) {
    log.warn('connector.wait-unconfirmed', { connectorId, state: lastState, polls, runs });
    return { state: lastState, confirmed: false, polls, runs };
  }
  const seconds = Math.round((clock.now() - started) / 1000);
  const errors =
    lastErrors.length > 0
      ? `; its errors: ${lastErrors
          .slice(0, 3)
          .map((e) => e.message)
          .join(' | ')}`
      : '';
  throw new IntegrationError(
    `Qualys did not report that connector ${connectorId} could assume role ${spec.roleArn} within ${seconds} s ` +
      `(${polls} polls, ${runs} runs); its last state: ${lastState}${fresh ? '' : `, read ${Math.round((clock.now() - lastReadAt) / 1000)} s before the end`}${lastWhy && !errors ? ` (${lastWhy})` : ''}${errors}. ` +
      'Check that the role trusts Qualys\'s AWS account (the one of your platform: "qualysAwsAccountId") with this stack\'s external ID; ' +
      'if IAM is slow today, raise "validationTimeoutSeconds" and deploy again.',
  );

  function done(state: string, confirmed: boolean, logIt = true): WaitOutcome {
    if (logIt) log.info('connector.role-assumed', { connectorId, state, polls, runs, ms: clock.now() - started });
    return { state, confirmed, polls, runs };
  }
}

/** The error list and the connector's own error, together; `readable: false` when the list could not be read. */
async function readErrors(
  api: ConnectorApi,
  id: string,
  connector: Connector,
): Promise<{ readable: boolean; errors: ConnectorErrorEntry[]; reading: string }> {
  const own: ConnectorErrorEntry[] = connector.error ? [{ message: connector.error }] : [];
  try {
    const read = await api.errors(id);
    if (!read.readable) return { readable: false, errors: own, reading: read.reading };
    return { readable: true, errors: [...own, ...read.errors], reading: read.reading };
  } catch (error) {
    if (!passing(error)) throw error;
    return { readable: false, errors: own, reading: errorMessage(error) };
  }
}

function passing(error: unknown): boolean {
  return error instanceof QualysNetworkError || (error instanceof QualysApiError && error.retryable);
}

function vanished(id: string): IntegrationError {
  return new IntegrationError(`Connector ${id} vanished from Qualys while this deploy waited on it; deploy again`);
}
