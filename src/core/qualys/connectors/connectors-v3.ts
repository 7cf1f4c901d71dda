/**
 * Connectors 3.0 (QPS), what Qualys's own current scripts use (qualys-connector-apis.md §2):
 * `/qps/rest/3.0/{create,search,get,update,delete,run}/am/awsassetdataconnector[/<id>]` on
 * the API server, JSON in `{"ServiceRequest": ...}` and out in `{"ServiceResponse": ...}`.
 *
 * - Every answer carries `responseCode`; QPS answers errors with HTTP 200 too, so a 2xx is
 *   success only when the code says `SUCCESS`. `OBJECT_NOT_FOUND` is "absent".
 * - Requests wrap collections in `set`, answers in `list`; booleans and numbers may come back
 *   as strings; `data` is a list of `{AwsAssetDataConnector: {...}}` (or, read tolerantly, the
 *   objects themselves, or one object).
 * - Search pages: `hasMoreRecords` with `lastId`; the next page asks for `id GREATER lastId`
 *   (QPS's documented way to page).
 * - Run: only a 2.0 form was seen in Qualys's code; 3.0 is tried first, and 2.0 where the
 *   server does not know the 3.0 path.
 */
import { CONNECTOR_APP_NAMES, type ConnectorModule } from '../../connector-contract';
import { IntegrationError, QualysApiError, UnreadableAnswerError, errorMessage } from '../../errors';
import { describeShape, isHtml, parseJson } from '../answers';
import type { HttpMethod, QualysRequest } from '../endpoints';
import type { HttpResponse } from '../transport';
import type {
  Connector,
  ConnectorApi,
  ConnectorFields,
  ConnectorQuery,
  ErrorsReading,
  EvaluationsReading,
  RunOutcome,
} from './api';
import { ConnectorClientBase, type ConnectorClientOptions } from './base';
import { CloudViewConnectors } from './cloudview';
import { booleanOf, firstOf, isObject, moduleOf, numberOf, readErrorEntry, sortedModules, textOf } from './readers';

const QPS = '/qps/rest/3.0';
const OBJECT = 'am/awsassetdataconnector';
const OBJECT_NAME = 'AwsAssetDataConnector';
const ERRORS_OBJECT = 'am/assetdataconnectorerrors';
/** QPS chooses its format by the Accept header: JSON is asked for, not merely allowed. */
const JSON_ONLY = 'application/json';

/** Pages of a search followed at the most. */
const MAX_PAGES = 100;

/** A QPS answer, read. */
export interface ServiceAnswer {
  readonly responseCode: string;
  /** Qualys's words for an error (`responseErrorDetails`), empty on success. */
  readonly message: string;
  /** The objects under `data`, unwrapped; undefined when the answer has no `data`. */
  readonly items?: readonly Record<string, unknown>[];
  readonly count?: number;
  /** Undefined when the answer does not say. */
  readonly hasMoreRecords?: boolean;
  readonly lastId?: string;
  readonly reading: string;
}

/** QPS's error codes that mean "it does not exist". */
const NOT_FOUND_CODES = ['OBJECT_NOT_FOUND', 'NOT_FOUND'];
/** QPS's codes for a failure on its side, where it may or may not have acted. */
const SERVER_CODES = ['INTERNAL_ERROR', 'SERVICE_UNAVAILABLE', 'TIMEOUT', 'SERVER_ERROR'];
const RATE_CODES = ['TOO_MANY_REQUESTS', 'RATE_LIMIT_EXCEEDED', 'CONCURRENCY_LIMIT_EXCEEDED'];

/**
 * Reads a QPS envelope: `{ServiceResponse: {...}}`, or the response object itself. Undefined
 * when it is none (no `responseCode`).
 */
export function readServiceAnswer(body: unknown): ServiceAnswer | undefined {
  const outer = isObject(body) && isObject(body.ServiceResponse) ? body.ServiceResponse : body;
  if (!isObject(outer) || typeof outer.responseCode !== 'string') return undefined;
  const details = isObject(outer.responseErrorDetails) ? outer.responseErrorDetails : {};
  const message = [details.errorMessage, details.errorResolution]
    .filter((v): v is string => typeof v === 'string' && v !== '')
    .join(' ');
  const items = itemsOf(outer.data);
  const wrapped = outer === body ? 'a bare response' : '{ServiceResponse}';
  return {
    responseCode: outer.responseCode.toUpperCase(),
    message,
    items: items?.items,
    count: numberOf(outer.count ?? outer.COUNT),
    hasMoreRecords: booleanOf(outer.hasMoreRecords),
    lastId: textOf(outer.lastId),
    reading: `${wrapped}${items ? `, data as ${items.reading}` : ''}`,
  };
}

/** The objects under `data`: `[{AwsAssetDataConnector: {...}}]`, `[{...}]`, `{AwsAssetDataConnector: [...]}`, one object. */
function itemsOf(data: unknown): { items: Record<string, unknown>[]; reading: string } | undefined {
  if (data === undefined || data === null) return undefined;
  const unwrapOne = (item: Record<string, unknown>): Record<string, unknown>[] => {
    const keys = Object.keys(item);
    // {AwsAssetDataConnector: {...}} or {AssetDataConnectorError: [...]}: one key whose value is the object(s).
    if (keys.length === 1 && /^[A-Z]/.test(keys[0])) {
      const inner = item[keys[0]];
      if (isObject(inner)) return [inner];
      if (Array.isArray(inner)) return inner.filter(isObject);
    }
    return [item];
  };
  if (Array.isArray(data)) {
    const objects = data.filter(isObject);
    const wrapped = objects.some((o) => Object.keys(o).length === 1 && /^[A-Z]/.test(Object.keys(o)[0]));
    return { items: objects.flatMap(unwrapOne), reading: wrapped ? 'a list of wrapped objects' : 'a list of objects' };
  }
  if (isObject(data)) {
    if (isObject(data.list) || Array.isArray(data.list)) {
      const inner = itemsOf(data.list);
      return inner ? { ...inner, reading: `{list: ${inner.reading}}` } : undefined;
    }
    return { items: unwrapOne(data), reading: 'one object' };
  }
  return undefined;
}

/** A connector as QPS reports it; undefined without an ID (nothing can be done to it). */
export function readV3Connector(raw: Record<string, unknown>): Connector | undefined {
  const id = textOf(raw.id);
  if (!id) return undefined;
  const apps = appInfosOf(raw.connectorAppInfos);
  const minutes = numberOf(raw.runFrequency);
  return {
    id,
    name: textOf(raw.name),
    description: typeof raw.description === 'string' ? raw.description : undefined,
    awsAccountId: textOf(raw.awsAccountId),
    roleArn: textOf(firstOf(raw, ['arn', 'roleArn'])) ?? apps?.identifiers[0],
    externalId: textOf(raw.externalId),
    state: textOf(firstOf(raw, ['connectorState', 'state']))?.toUpperCase(),
    lastSync: textOf(firstOf(raw, ['lastSync', 'lastSyncedOn'])),
    nextSync: textOf(firstOf(raw, ['nextSync', 'nextSyncedOn'])),
    pollingHours: minutes === undefined ? undefined : minutes / 60,
    remediation: booleanOf(firstOf(raw, ['isRemediationEnabled', 'remediationEnabled'])),
    modules: apps ? sortedModules(apps.modules) : undefined,
    disabled: booleanOf(raw.disabled),
    error: textOf(firstOf(raw, ['lastError', 'error', 'errorMessage'])),
    raw,
  };
}

/**
 * The apps of `connectorAppInfos`, however deep QPS nests them (`{list: {ConnectorAppInfoQList:
 * [{list: {ConnectorAppInfo: [...]}}]}}`, or `set` in place of `list`, or plain arrays).
 */
function appInfosOf(value: unknown): { modules: ConnectorModule[]; identifiers: string[] } | undefined {
  if (value === undefined || value === null) return undefined;
  const modules: ConnectorModule[] = [];
  const identifiers: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > 8) return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n, depth + 1);
      return;
    }
    if (!isObject(node)) return;
    const module = moduleOf(node.name);
    if (module) {
      modules.push(module);
      const identifier = textOf(node.identifier);
      if (identifier) identifiers.push(identifier);
      return;
    }
    for (const v of Object.values(node)) walk(v, depth + 1);
  };
  walk(value, 0);
  return { modules, identifiers };
}

/** The create and update body: the reference's fields, collections in `set`. */
export function v3Body(fields: ConnectorFields): Record<string, unknown> {
  return {
    name: fields.name,
    description: fields.description,
    arn: fields.roleArn,
    externalId: fields.externalId,
    disabled: false,
    allRegions: true,
    runFrequency: Math.round(fields.pollingHours * 60),
    isRemediationEnabled: fields.remediation,
    ...(fields.partition === 'aws-us-gov' ? { isGovCloud: true } : {}),
    ...(fields.partition === 'aws-cn' ? { isChinaRegion: true } : {}),
    connectorAppInfos: {
      set: {
        ConnectorAppInfoQList: [
          {
            set: {
              ConnectorAppInfo: sortedModules(fields.modules).map((m) => ({
                name: CONNECTOR_APP_NAMES[m],
                identifier: fields.roleArn,
              })),
            },
          },
        ],
      },
    },
  };
}

const RESTORABLE = ['name', 'description', 'arn', 'externalId', 'runFrequency', 'isRemediationEnabled', 'disabled'];

/** An adopted connector's fields as QPS reported them, for an update that puts them back (`list` read, `set` sent). */
function restoreBody(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const key of RESTORABLE) if (raw[key] !== undefined && raw[key] !== null) body[key] = typed(key, raw[key]);
  if (raw.connectorAppInfos !== undefined) body.connectorAppInfos = listToSet(raw.connectorAppInfos);
  return body;
}

/** QPS answers booleans and numbers as strings (a reading); it takes them typed. */
const BOOLEAN_FIELDS = new Set(['isRemediationEnabled', 'disabled']);
const NUMBER_FIELDS = new Set(['runFrequency']);

function typed(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (BOOLEAN_FIELDS.has(key) && (value === 'true' || value === 'false')) return value === 'true';
  if (NUMBER_FIELDS.has(key) && /^\d+$/.test(value)) return Number(value);
  return value;
}

function listToSet(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(listToSet);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === 'list' ? 'set' : k, listToSet(v)]));
}

/** What one client has learnt of this server, shared with its copies (withDeadlines). */
interface Learnt {
  runPath?: string;
  errorsField?: string;
}

export class ConnectorsV3 extends ConnectorClientBase implements ConnectorApi {
  readonly kind = 'connectors-v3' as const;
  private evaluationsClient?: CloudViewConnectors;

  constructor(
    options: ConnectorClientOptions,
    private readonly learnt: Learnt = {},
  ) {
    super(options);
  }

  withDeadlines(deadline: number, requestDeadline?: number): ConnectorsV3 {
    return new ConnectorsV3({ ...this.options, deadline, requestDeadline }, this.learnt);
  }

  async find(query: ConnectorQuery): Promise<Connector[]> {
    const found = new Map<string, Connector>();
    const criteria: { field: string; value: string }[] = [];
    if (query.awsAccountId) criteria.push({ field: 'awsAccountId', value: query.awsAccountId });
    if (query.name) criteria.push({ field: 'name', value: query.name });
    for (const { field, value } of criteria) {
      for (const c of await this.search(field, value)) found.set(c.id, c);
    }
    return [...found.values()];
  }

  /** Every connector whose `field` equals `value`, pages followed (`id GREATER lastId`). */
  private async search(field: string, value: string): Promise<Connector[]> {
    const step = `Search the Connectors 3.0 AWS connectors by ${field}`;
    const found = new Map<string, Connector>();
    let after: string | undefined;
    for (let pages = 0; ; pages++) {
      if (pages >= MAX_PAGES) {
        throw new UnreadableAnswerError(
          `${step} failed: Qualys kept answering "more records" after ${MAX_PAGES} pages`,
        );
      }
      const Criteria: Record<string, string>[] = [{ field, operator: 'EQUALS', value }];
      if (after !== undefined) Criteria.push({ field: 'id', operator: 'GREATER', value: after });
      const request = qps('POST', `${QPS}/search/${OBJECT}`, step, { ServiceRequest: { filters: { Criteria } } });
      const answer = await this.answer(request);
      if (answer === 'absent') return [...found.values()];
      // None is believed from `count: 0` or a `hasMoreRecords` that stands alone, never from SUCCESS by itself.
      if (answer.items === undefined && answer.count !== 0 && answer.hasMoreRecords === undefined) {
        throw new UnreadableAnswerError(
          `${step} failed: Qualys answered SUCCESS without data or a count (${answer.reading}); ` +
            "nothing was changed. Please report the answer's shape (without its values) to the project.",
        );
      }
      this.noteReading('Connectors 3.0 search answer', answer.reading);
      const before = found.size;
      let last: string | undefined;
      for (const raw of answer.items ?? []) {
        const connector = readV3Connector(raw);
        if (!connector) {
          throw new UnreadableAnswerError(
            `${step} failed: Qualys listed a connector without an ID (${Object.keys(raw).slice(0, 8).join(', ')}); nothing was changed`,
          );
        }
        if (booleanOf(raw.isDeleted) === true) continue;
        found.set(connector.id, connector);
        last = connector.id;
      }
      if (!answer.hasMoreRecords) return [...found.values()];
      const next = answer.lastId ?? last;
      if (next === undefined || next === after || found.size === before) {
        throw new UnreadableAnswerError(
          `${step} failed: Qualys says more records follow, but its answer gives no way to the next page; nothing was changed`,
        );
      }
      after = next;
    }
  }

  async get(id: string): Promise<Connector | undefined> {
    const request = qps('GET', `${QPS}/get/${OBJECT}/${segment(id)}`, `Read Connectors 3.0 AWS connector ${id}`);
    const answer = await this.answer(request, { retry: true });
    if (answer === 'absent') return undefined;
    const raw = answer.items?.[0];
    const connector = raw ? readV3Connector({ id, ...raw }) : undefined;
    if (!connector) {
      throw new UnreadableAnswerError(
        `${request.step} failed: Qualys answered SUCCESS with no connector (${answer.reading})`,
      );
    }
    return connector;
  }

  create(fields: ConnectorFields): Promise<Connector> {
    const request = qps('POST', `${QPS}/create/${OBJECT}`, `Create the Connectors 3.0 AWS connector "${fields.name}"`, {
      ServiceRequest: { data: { [OBJECT_NAME]: v3Body(fields) } },
    });
    return this.createOnce(
      request.step,
      fields,
      (q) => this.find(q),
      async () => {
        // Never repeated by the session: a 5xx or a dropped connection is ambiguous (createOnce decides).
        const answer = await this.answer(request, { retry: false, sessionRetries: false });
        if (answer === 'absent') throw new IntegrationError(`${request.step}: Qualys answered OBJECT_NOT_FOUND`);
        const raw = answer.items?.[0];
        const connector = raw ? readV3Connector(raw) : undefined;
        this.noteReading('Connectors 3.0 create answer', connector ? 'the connector' : 'no ID');
        return connector ? { ...fieldsAsReported(fields), ...dropUndefined(connector) } : undefined;
      },
    );
  }

  async update(id: string, fields: ConnectorFields): Promise<'updated' | 'absent'> {
    return this.send('update', id, `Update Connectors 3.0 AWS connector ${id}`, v3Body(fields));
  }

  async restore(id: string, raw: Readonly<Record<string, unknown>>): Promise<'updated' | 'absent'> {
    return this.send('update', id, `Put Connectors 3.0 AWS connector ${id} back as it was`, restoreBody(raw));
  }

  async delete(id: string): Promise<'deleted' | 'absent'> {
    const request = qps('POST', `${QPS}/delete/${OBJECT}/${segment(id)}`, `Delete Connectors 3.0 AWS connector ${id}`);
    const answer = await this.answer(request, { retry: true });
    return answer === 'absent' ? 'absent' : 'deleted';
  }

  async run(id: string): Promise<RunOutcome> {
    const paths = this.learnt.runPath ? [this.learnt.runPath] : ['/qps/rest/3.0', '/qps/rest/2.0'];
    let lastMessage = '';
    for (const base of paths) {
      const request = qps('POST', `${base}/run/${OBJECT}/${segment(id)}`, `Run Connectors 3.0 AWS connector ${id}`);
      const res = await this.session.call(request, { passStatuses: REFUSALS, probe: !this.learnt.runPath });
      const answer = readServiceAnswer(parseJson(res.body));
      if (res.status === 404 && !answer) {
        // The server does not know this path (no QPS envelope): the next form.
        lastMessage = `HTTP 404 for ${request.path}`;
        continue;
      }
      if (answer && NOT_FOUND_CODES.includes(answer.responseCode)) return { outcome: 'absent' };
      if (res.status >= 200 && res.status < 300 && (!answer || answer.responseCode === 'SUCCESS')) {
        if (!this.learnt.runPath) {
          this.learnt.runPath = base;
          this.noteReading('Connectors 3.0 run path', `${base}/run`);
        }
        return { outcome: 'started' };
      }
      if (answer && SERVER_CODES.includes(answer.responseCode)) throw qpsError(request, res, answer);
      return { outcome: 'refused', message: this.session.said(res) || `HTTP ${res.status}` };
    }
    return { outcome: 'refused', message: `Qualys knows neither run path (${lastMessage})` };
  }

  async errors(id: string): Promise<ErrorsReading> {
    // Which field names the connector in the errors search is not documented: the first that
    // Qualys reads is remembered.
    const fields = this.learnt.errorsField ? [this.learnt.errorsField] : ['connectorId', 'connector.id'];
    let last: ErrorsReading = { readable: false, reading: 'not asked' };
    for (const field of fields) {
      last = await this.errorsBy(field, id);
      if (last.readable) {
        if (!this.learnt.errorsField) {
          this.learnt.errorsField = field;
          this.noteReading('Connectors 3.0 errors criterion', field);
        }
        return last;
      }
    }
    return last;
  }

  private async errorsBy(field: string, id: string): Promise<ErrorsReading> {
    const request = qps(
      'POST',
      `${QPS}/search/${ERRORS_OBJECT}`,
      `Read the errors of Connectors 3.0 AWS connector ${id}`,
      {
        ServiceRequest: { filters: { Criteria: [{ field, operator: 'EQUALS', value: id }] } },
      },
    );
    try {
      const answer = await this.answer(request, { retry: true });
      if (answer === 'absent') return { readable: true, errors: [], reading: 'OBJECT_NOT_FOUND for none' };
      if (answer.items === undefined) {
        return answer.count === 0
          ? { readable: true, errors: [], reading: 'count 0' }
          : { readable: false, reading: `SUCCESS without data (${answer.reading})` };
      }
      const errors = answer.items.map(readErrorEntry).filter((e) => e !== undefined);
      this.noteReading('Connectors 3.0 errors answer', answer.reading);
      return { readable: true, errors, reading: answer.reading };
    } catch (error) {
      if (error instanceof QualysApiError && error.status !== 401 && error.status !== 403 && !error.retryable) {
        return { readable: false, reading: errorMessage(error) };
      }
      if (error instanceof UnreadableAnswerError) return { readable: false, reading: errorMessage(error) };
      throw error;
    }
  }

  /** The evaluations API is CloudView's, on the same server and credentials. */
  evaluations(awsAccountId: string, options?: { readonly worst?: number }): Promise<EvaluationsReading> {
    this.evaluationsClient ??= new CloudViewConnectors(this.options);
    return this.evaluationsClient.evaluations(awsAccountId, options);
  }

  // ---- one call ------------------------------------------------------------------------------

  private async send(
    verb: 'update',
    id: string,
    step: string,
    body: Record<string, unknown>,
  ): Promise<'updated' | 'absent'> {
    const request = qps('POST', `${QPS}/${verb}/${OBJECT}/${segment(id)}`, step, {
      ServiceRequest: { data: { [OBJECT_NAME]: body } },
    });
    const answer = await this.answer(request, { retry: true });
    return answer === 'absent' ? 'absent' : 'updated';
  }

  /**
   * One QPS call, its envelope read: `SUCCESS`, or `absent` for OBJECT_NOT_FOUND (or a 404 whose
   * words say so); any other code is raised in Qualys's words, a server-side one (INTERNAL_ERROR)
   * as retryable. `retry`: a server-side code is tried again (idempotent calls only).
   */
  private async answer(
    request: QualysRequest,
    { retry = true, sessionRetries = true }: { readonly retry?: boolean; readonly sessionRetries?: boolean } = {},
  ): Promise<ServiceAnswer | 'absent'> {
    const once = async (): Promise<ServiceAnswer | 'absent'> => {
      const res = await this.session.call(request, {
        passStatuses: [404],
        ...(sessionRetries ? {} : { retryServerErrors: false }),
      });
      const answer = readServiceAnswer(parseJson(res.body));
      if (res.status === 404) {
        if (answer ? NOT_FOUND_CODES.includes(answer.responseCode) : saysNotFound(this.session.said(res)))
          return 'absent';
        throw qpsError(request, res, answer);
      }
      if (!answer) {
        throw new UnreadableAnswerError(
          `${request.step} failed: Qualys answered HTTP ${res.status} without a QPS responseCode (${describeShape(res.body)}${isHtml(res) ? ', an HTML page' : ''}); ` +
            "check that ApiUrl is the platform's API server (https://qualysapi...). Nothing was changed on the strength of it.",
        );
      }
      if (answer.responseCode === 'SUCCESS') return answer;
      if (NOT_FOUND_CODES.includes(answer.responseCode)) return 'absent';
      throw qpsError(request, res, answer);
    };
    if (!retry) return once();
    return this.session.retrying(request.step, (e) => e instanceof QpsAnswerError && e.retryable, once);
  }
}

/** A QPS answer whose responseCode is an error, as an API error of the matching HTTP status. */
export class QpsAnswerError extends QualysApiError {
  constructor(
    request: QualysRequest,
    status: number,
    message: string,
    readonly responseCode: string | undefined,
  ) {
    super(
      request.step,
      request.method,
      request.path,
      status,
      message,
      undefined,
      RATE_CODES.includes(responseCode ?? ''),
    );
  }
}

function qpsError(request: QualysRequest, res: HttpResponse, answer: ServiceAnswer | undefined): QpsAnswerError {
  const code = answer?.responseCode;
  const words = answer ? `${code}${answer.message ? `: ${answer.message}` : ''}` : `HTTP ${res.status}`;
  let status = Math.max(res.status, 400);
  if (code && SERVER_CODES.includes(code)) status = res.status >= 500 ? res.status : 503;
  else if (code && RATE_CODES.includes(code)) status = 409;
  else if (code === 'INVALID_CREDENTIALS') status = 401;
  else if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') status = 403;
  else if (code && NOT_FOUND_CODES.includes(code)) status = 404;
  return new QpsAnswerError(request, status, words, code);
}

/** 4xx answers a run reads rather than raises (one already running, a form this server does not take). */
const REFUSALS = [400, 404, 405, 409, 412, 415, 422];

function saysNotFound(message: string): boolean {
  return /\b(not found|does not exist|no such|unknown connector)\b/i.test(message);
}

function qps(method: HttpMethod, path: string, step: string, json?: unknown): QualysRequest {
  return { method, path, step, json, accept: JSON_ONLY };
}

function segment(id: string): string {
  return encodeURIComponent(id);
}

/** What a create answer leaves out is what was sent: the fields, as a connector. */
function fieldsAsReported(fields: ConnectorFields): Omit<Connector, 'id' | 'raw'> {
  return {
    name: fields.name,
    description: fields.description,
    awsAccountId: fields.awsAccountId,
    roleArn: fields.roleArn,
    externalId: fields.externalId,
    pollingHours: fields.pollingHours,
    remediation: fields.remediation,
    modules: sortedModules(fields.modules),
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
