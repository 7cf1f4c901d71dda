/**
 * The Qualys S3-integration and CIPS API, as the guide describes it, behind one client:
 * what each operation means to this project, including those that take more than one call
 * (register without a duplicate, CIPS adds one by one, the CIPS delete's second path).
 *
 * - `endpoints.ts`: what each operation sends (method, path, body), with the guide's section.
 * - `session.ts`: authentication and its token cache, retries, headers, paging, redaction.
 * - `answers.ts`: reading the answers. Responses say `messsage` (three s); where the guide
 *   shows an answer in more than one shape, or none, every shape it allows is read, and
 *   `readings` records which one this gateway used.
 */
import type { CipsFilter, IntegrationKind } from '../contract';
import {
  type CipsReading,
  type IntegrationDetails,
  type ValidationVerdict,
  describeShape,
  parseJson,
  readCipsAnswer,
  readDetailsAnswer,
  readExternalId,
  readIntegrationAnswer,
  readListAnswer,
  readValidationAnswer,
  saysAlreadyPresent,
  saysFailure,
} from './answers';
import { type QualysRequest, endpoints, label } from './endpoints';
import { IntegrationError, QualysApiError, UnreadableAnswerError } from '../errors';
import type { HttpResponse } from './transport';
import {
  QualysSession,
  type QualysSessionOptions,
  answerError,
  isAuthStep,
  isTransient,
  permissionError,
} from './session';

export type { CipsReading, IntegrationDetails } from './answers';
export { qualysMessage } from './answers';
export {
  type QualysCredentials,
  describeNetworkError,
  requestedDelayFrom,
  sharedTokenCache,
} from './session';

/** An integration with the ID Qualys gave it. */
export type RegisteredIntegration = IntegrationDetails & { readonly integrationId: string };

/** What a PUT did: whether Qualys still knew the integration, and the external ID its answer carried. */
export interface UpdateOutcome {
  readonly found: boolean;
  /** The guide's appendix: "Note down the externalId received in the API Response". */
  readonly externalId?: string;
}

/** One validation attempt's answer, read: Qualys's words and what they mean. */
export interface ValidationAnswer {
  readonly status: number;
  readonly verdict: ValidationVerdict;
  readonly message: string;
}

export type QualysClientOptions = QualysSessionOptions;

/** Validation answers read rather than raised: every 4xx but 401 (renewed) and 404 (gone). */
const VALIDATION_ANSWERS = Array.from({ length: 100 }, (_, i) => 400 + i).filter(
  (s) => s !== 401 && s !== 404 && s !== 429,
);

/** Lists and the CIPS configuration: "none" may come as 204 or 404 as well as empty. */
const NONE_AS_EMPTY = { passStatuses: [204, 404] };

export class QualysClient {
  private readonly session: QualysSession;

  constructor(private readonly options: QualysClientOptions) {
    this.session = new QualysSession(options);
  }

  /** The same client (credentials, token cache) with other deadlines, for cleanup after the work deadline. */
  withDeadlines(deadline: number, requestDeadline?: number): QualysClient {
    return new QualysClient({ ...this.options, deadline, requestDeadline });
  }

  // ---- S3 integrations -------------------------------------------------------------------

  /**
   * Every integration of a kind. The answer may be a bare array, one object (the guide's
   * sample), a wrapper or Spring-style pages; pages are followed to the end. An answer of no
   * known shape is an error, never an empty list: acting on a list misread as empty could
   * register a duplicate or remove CIPS policies another integration uses.
   */
  listIntegrations(kind: IntegrationKind): Promise<IntegrationDetails[]> {
    return this.session.listAll({
      pageAt: (query) => endpoints.listIntegrations(kind, query),
      policy: NONE_AS_EMPTY,
      read: (res, step) => {
        const page = readListAnswer(res);
        if (!page) {
          throw new UnreadableAnswerError(
            `${step} failed: Qualys answered HTTP ${res.status} with a list this tool cannot read (${describeShape(res.body)}). ` +
              "Nothing was changed. Please report the answer's shape (without its values) to the project.",
          );
        }
        return page;
      },
      identity: identityKey,
      onReading: (reading) => this.noteReading(`${label(kind)} list`, reading),
    });
  }

  async getIntegration(kind: IntegrationKind, id: string): Promise<IntegrationDetails | undefined> {
    const request = endpoints.getIntegration(kind, id);
    const res = await this.session.call(request, { passStatuses: [404] });
    if (res.status === 404) return undefined;
    const details = readIntegrationAnswer(res, id);
    if (!details)
      throw new UnreadableAnswerError(
        `${request.step} failed: Qualys answered with no integration details (${describeShape(res.body)})`,
      );
    this.noteReading(`${label(kind)} details`, details.externalId ? 'with its external ID' : 'without an external ID');
    return details;
  }

  /**
   * Registers an integration. A POST is not safe to repeat blindly: when the gateway fails
   * after it may have acted (5xx, dropped connection), the integration list is checked for
   * the name before trying again, so a retry never registers a duplicate. The answer is not
   * documented (l.403): when it names no ID, the list is asked for the new integration.
   */
  async register(
    kind: IntegrationKind,
    body: Record<string, unknown> & { name: string },
  ): Promise<RegisteredIntegration> {
    const request = endpoints.register(kind, body);
    const { step } = request;
    const byName = async (): Promise<IntegrationDetails | undefined> =>
      (await this.listIntegrations(kind)).find((i) => i.name === body.name);
    const isRetryable = (e: unknown) => !isAuthStep(e) && isTransient(e);
    return this.session.retrying(step, isRetryable, async (attempt) => {
      if (attempt > 1) {
        const existing = await byName();
        if (existing) {
          this.options.log.info('register.went-through', {
            integrationId: existing.integrationId ?? 'not reported',
          });
          return requireId(step, existing);
        }
      }
      const res = await this.session.call(request, { retryServerErrors: false });
      const answered = readDetailsAnswer(parseJson(res.body));
      if (answered?.integrationId) {
        this.noteReading(`${label(kind)} register answer`, answered.externalId ? 'ID and external ID' : 'ID only');
        return requireId(step, answered);
      }
      this.noteReading(`${label(kind)} register answer`, 'no ID');
      const listed = await byName();
      if (!listed) {
        const said = this.session.said(res);
        throw new IntegrationError(
          `${step}: Qualys answered HTTP ${res.status} without an integration ID${said ? ` (${said})` : ''}, ` +
            'and no integration of that name is listed. Check the Qualys UI for it before you deploy again.',
        );
      }
      return requireId(step, { ...listed, externalId: listed.externalId ?? answered?.externalId });
    });
  }

  /**
   * Updates an integration in place. `found` is false when Qualys no longer knows it (404);
   * the answer's external ID is kept, as the guide's appendix says the new one arrives there.
   */
  async update(kind: IntegrationKind, id: string, body: Record<string, unknown>): Promise<UpdateOutcome> {
    const request = endpoints.update(kind, id, body);
    const res = await this.session.call(request, { passStatuses: [404] });
    if (res.status === 404) return { found: false };
    this.refuseFailureIn2xx(request, res);
    const externalId = readExternalId(parseJson(res.body));
    this.noteReading(`${label(kind)} update answer`, externalId ? 'with the external ID' : 'a message only');
    return { found: true, externalId };
  }

  /**
   * One validation attempt, read: never thrown for an answer that means "not yet" in any of
   * the ways the guide leaves open (a 2xx that says it failed, any 4xx but 401/403/404, 429,
   * 5xx, a dropped connection); the caller decides, with a read-back when the answer is unclear.
   */
  async validate(kind: IntegrationKind, id: string): Promise<ValidationAnswer> {
    const request = endpoints.validate(kind, id);
    // 5xx and 429 go back to the caller, which paces validation attempts itself.
    const res = await this.session.call(request, {
      passStatuses: VALIDATION_ANSWERS,
      retryServerErrors: false,
      retryRateLimit: false,
      retryNetworkErrors: true,
    });
    const message = this.session.said(res);
    if (res.status >= 200 && res.status < 300) {
      return { status: res.status, verdict: readValidationAnswer(parseJson(res.body), res.body), message };
    }
    // A 403 about the role is Qualys failing to assume it; any other 403 is the user's permission.
    if (res.status === 403 && !/\b(assume|role|trust|external ?id|sts)\b/i.test(message)) {
      throw permissionError(request, message);
    }
    return { status: res.status, verdict: 'failed', message };
  }

  /** Deletes an integration; "absent" when Qualys no longer knows it. */
  async delete(kind: IntegrationKind, id: string): Promise<'deleted' | 'absent'> {
    const request = endpoints.delete(kind, id);
    const res = await this.session.call(request, { passStatuses: [404] });
    if (res.status === 404) return 'absent';
    this.refuseFailureIn2xx(request, res);
    return 'deleted';
  }

  // ---- CIPS (subscription-wide) ---------------------------------------------------------

  /** The subscription's CIPS policies and filter, or `readable: false` for an answer of no known shape. */
  async getCipsConfig(): Promise<CipsReading> {
    const res = await this.session.call(endpoints.getCipsConfig(), NONE_AS_EMPTY);
    const reading = readCipsAnswer(res);
    this.noteReading('CIPS configuration', reading.readable ? reading.reading : `unreadable: ${reading.reading}`);
    return reading;
  }

  /**
   * Adds policies; one Qualys says is there already counts as added. A batch refused because
   * some of it is there may have added none of it: then each policy is added on its own.
   */
  async addCipsPolicies(policies: readonly number[]): Promise<void> {
    const add = (batch: readonly number[]) => this.session.call(endpoints.addCipsPolicies(batch));
    const alreadyThere = (error: unknown) =>
      error instanceof QualysApiError &&
      error.status >= 400 &&
      error.status < 500 &&
      saysAlreadyPresent(error.qualysMessage);
    try {
      await add(policies);
      return;
    } catch (error) {
      if (!alreadyThere(error)) throw error;
      this.options.log.info('cips.already-present', {
        policies,
        answer: (error as QualysApiError).qualysMessage,
      });
      if (policies.length === 1) return;
    }
    for (const policy of policies) {
      try {
        await add([policy]);
      } catch (error) {
        if (!alreadyThere(error)) throw error;
      }
    }
  }

  /**
   * Removes policies. The guide names two paths for this (table: `/pcas/cips/config/policy`,
   * curl: `/pcas/cips/config`): the documented one first, the other when it is not there.
   */
  async removeCipsPolicies(policies: readonly number[]): Promise<void> {
    const notThere = [404, 405];
    const documented = endpoints.removeCipsPolicies(policies);
    const res = await this.session.call(documented, { passStatuses: notThere });
    if (!notThere.includes(res.status)) return;
    const byCurl = endpoints.removeCipsPolicies(policies, true);
    const other = await this.session.call(byCurl, { passStatuses: notThere });
    if (!notThere.includes(other.status)) {
      this.noteReading('CIPS delete path', byCurl.path);
      return;
    }
    // Neither path took it: believe "not there" only when a read-back shows the policies gone.
    const after = await this.getCipsConfig();
    if (after.readable && policies.every((p) => !after.policies.includes(p))) return;
    throw answerError(documented, res.status, this.session.said(res));
  }

  async createCipsFilter(filter: CipsFilter): Promise<void> {
    await this.session.call(endpoints.createCipsFilter(filter));
  }

  async updateCipsFilter(filter: CipsFilter): Promise<void> {
    await this.session.call(endpoints.updateCipsFilter(filter));
  }

  // ---- what this gateway answered -------------------------------------------------------

  /** The reading met per answer ("PC details": "without an external ID"), for operators. */
  readonly readings = new Map<string, string>();

  private noteReading(topic: string, reading: string): void {
    if (this.readings.get(topic) === reading) return;
    this.readings.set(topic, reading);
    this.options.log.info('qualys.reading', { topic, reading });
  }

  /** A 2xx whose own words say it failed did not do what was asked. */
  private refuseFailureIn2xx(request: QualysRequest, res: HttpResponse): void {
    const message = this.session.said(res);
    if (saysFailure(message) && !/\bsuccess/i.test(message)) {
      throw answerError(request, res.status, `${message} (a ${res.status} answer whose message says it failed)`);
    }
  }

  // ---- transport -------------------------------------------------------------------------

  /** A token for this gateway and user: the cached one while it lives, else a new one. */
  token(): Promise<string> {
    return this.session.token();
  }
}

/** How list entries are told apart across pages: the ID, or what the integration is when there is none. */
function identityKey(entry: IntegrationDetails): string {
  return entry.integrationId !== undefined
    ? `id:${entry.integrationId}`
    : `what:${entry.name ?? ''}|${entry.roleArn ?? ''}|${entry.bucketName ?? ''}`;
}

/** An integration this client must address by ID: without one, nothing can be done to it. */
function requireId(step: string, details: IntegrationDetails): RegisteredIntegration {
  if (details.integrationId === undefined) {
    throw new IntegrationError(
      `${step}: the integration "${details.name ?? '?'}" exists in Qualys, but Qualys did not report its ID, so it cannot be ` +
        'managed from here. Delete it in the Qualys UI (or ask Qualys Support for its ID) and deploy again.',
    );
  }
  return details as RegisteredIntegration;
}
