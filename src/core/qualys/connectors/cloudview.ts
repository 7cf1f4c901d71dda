/**
 * The CloudView REST API (qualys-connector-apis.md §1; the guide's "CloudView APIs",
 * ~l.743-1010): `/cloudview-api/rest/<version>/aws/...` on the API server.
 *
 * - Version: the guide shows `1.5`, a later Swagger `v1`. Neither is assumed: the first call
 *   asks for the connector list under `v1`, then `1.5`; a version that answers anything but
 *   404/405 is the one (remembered per server for the life of a warm Lambda).
 * - Lists are Spring pages (`content`, `number`, `size`, `last`, `totalPages`). The guide asks
 *   for `pageNo=1` and shows `number: 0` back, so whether pageNo counts from 0 or 1 is not
 *   known: page 0 is asked for first, and a 400 to it means the count starts at 1 (the
 *   session's pager notices a server that answers the first page twice).
 * - DELETE (and run) take the IDs, in a shape the sources disagree on: the guide's "comma
 *   separated", the Swagger's JSON array, a third-party client's `{"connectorIds": [...]}`.
 *   Each is tried in turn; a delete is believed only when a read-back no longer finds the
 *   connector (a server that ignores a body it does not know may answer 200 and delete nothing).
 * - Create answers 201 (the guide, no body) or the connector (the Swagger): without an ID in
 *   the answer, the connector is looked up by name and account.
 */
import type { ConnectorApiKind } from '../../connector-contract';
import { IntegrationError, QualysApiError, UnreadableAnswerError, errorMessage } from '../../errors';
import { describeShape, parseJson } from '../answers';
import type { HttpMethod, QualysRequest } from '../endpoints';
import type { HttpResponse } from '../transport';
import type {
  Connector,
  ConnectorApi,
  ConnectorErrorEntry,
  ConnectorFields,
  ConnectorQuery,
  ErrorsReading,
  EvaluationsReading,
  FailingControl,
  RunOutcome,
} from './api';
import { ConnectorClientBase, type ConnectorClientOptions, hoursAndMinutes } from './base';
import { booleanOf, firstOf, isObject, numberOf, readEntries, readErrorEntry, textOf } from './readers';

/** The versions tried, newest first. */
export const CLOUDVIEW_VERSIONS = ['v1', '1.5'] as const;
export type CloudViewVersion = (typeof CLOUDVIEW_VERSIONS)[number];

const PAGE_SIZE = 50;

/** The readings of the DELETE and run bodies, in the order tried. */
export type IdsShape = 'json-array' | 'connectorIds-object' | 'comma-separated-text' | 'comma-separated-query';
export const IDS_SHAPES: readonly IdsShape[] = [
  'json-array',
  'connectorIds-object',
  'comma-separated-text',
  'comma-separated-query',
];

/** What a client learnt of its server; shared with its copies (withDeadlines). */
interface Learnt {
  version?: CloudViewVersion;
  deleteShape?: IdsShape;
  runShape?: IdsShape;
  /** The server counts pageNo from 1 (it refused pageNo=0). */
  pagesFromOne?: boolean;
}

/** A connector as CloudView reports it; undefined without an ID. */
export function readCloudViewConnector(raw: Record<string, unknown>, fallbackId?: string): Connector | undefined {
  const id = textOf(firstOf(raw, ['connectorId', 'id', 'uuid', 'connectorUuid'])) ?? fallbackId;
  if (!id) return undefined;
  const polling = isObject(raw.pollingFrequency) ? raw.pollingFrequency : undefined;
  const hours = polling ? numberOf(polling.hours) : undefined;
  const minutes = polling ? numberOf(polling.minutes) : undefined;
  return {
    id,
    name: textOf(raw.name),
    description: typeof raw.description === 'string' ? raw.description : undefined,
    awsAccountId: textOf(firstOf(raw, ['awsAccountId', 'accountId'])),
    roleArn: textOf(firstOf(raw, ['arn', 'roleArn'])),
    externalId: textOf(raw.externalId),
    state: textOf(firstOf(raw, ['state', 'connectorState', 'status']))?.toUpperCase(),
    lastSync: textOf(firstOf(raw, ['lastSyncedOn', 'lastSync'])),
    nextSync: textOf(firstOf(raw, ['nextSyncedOn', 'nextSync'])),
    pollingHours: hours === undefined && minutes === undefined ? undefined : (hours ?? 0) + (minutes ?? 0) / 60,
    remediation: booleanOf(firstOf(raw, ['remediationEnabled', 'isRemediationEnabled'])),
    // CloudView connectors run the security assessment; the API has no module choice.
    modules: undefined,
    disabled: booleanOf(raw.disabled),
    error: errorText(raw.error),
    raw,
  };
}

function errorText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (isObject(value)) return readErrorEntry(value)?.message;
  return undefined;
}

/** The create and update body: the guide's four fields and the Swagger's polling, remediation and partition. */
export function cloudViewBody(fields: ConnectorFields): Record<string, unknown> {
  return {
    name: fields.name,
    description: fields.description,
    arn: fields.roleArn,
    externalId: fields.externalId,
    isGovCloud: fields.partition === 'aws-us-gov',
    isChinaRegion: fields.partition === 'aws-cn',
    pollingFrequency: hoursAndMinutes(fields.pollingHours),
    remediationEnabled: fields.remediation,
  };
}

const RESTORABLE = [
  'name',
  'description',
  'arn',
  'externalId',
  'isGovCloud',
  'isChinaRegion',
  'pollingFrequency',
  'remediationEnabled',
];

/**
 * The request with the IDs in one reading of the sources. The guide's "comma separated" may be
 * a body or a query parameter (its name is not given; `connectorIds` as the third-party client
 * calls the field).
 */
function withIds(req: QualysRequest, shape: IdsShape, ids: readonly string[]): QualysRequest {
  switch (shape) {
    case 'json-array':
      return { ...req, json: [...ids] };
    case 'connectorIds-object':
      return { ...req, json: { connectorIds: [...ids] } };
    case 'comma-separated-text':
      return { ...req, text: ids.join(',') };
    case 'comma-separated-query':
      return { ...req, path: `${req.path}?connectorIds=${encodeURIComponent(ids.join(','))}` };
  }
}

/** 4xx answers that mean "not this body" (or "not now", for a run): the next reading is tried. */
const SHAPE_REFUSALS = [400, 404, 405, 409, 415, 422];

const CRITICALITY_RANK: Readonly<Record<string, number>> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, INFO: 4 };

export class CloudViewConnectors extends ConnectorClientBase implements ConnectorApi {
  readonly kind: ConnectorApiKind = 'cloudview';
  private readonly learnt: Learnt;

  constructor(options: ConnectorClientOptions, learnt: Learnt = {}) {
    super(options);
    this.learnt = learnt;
  }

  withDeadlines(deadline: number, requestDeadline?: number): CloudViewConnectors {
    return new CloudViewConnectors({ ...this.options, deadline, requestDeadline }, this.learnt);
  }

  // ---- the version -----------------------------------------------------------------------

  /** `/cloudview-api/rest/<version>/aws`, the version found by asking. */
  async base(): Promise<string> {
    if (this.learnt.version) return root(this.learnt.version);
    const tried: string[] = [];
    for (const version of CLOUDVIEW_VERSIONS) {
      const request = get(
        `${root(version)}/connectors?pageNo=0&pageSize=1`,
        `Find the CloudView API version (${version})`,
      );
      let status: number;
      try {
        status = (await this.session.call(request, { passStatuses: [400, 404, 405] })).status;
      } catch (error) {
        // An HTML 404 (a servlet container's page for an unknown path) says "not this version" too.
        if (!(error instanceof QualysApiError && error.status === 404)) throw error;
        status = 404;
      }
      if (status !== 404 && status !== 405) {
        this.learnt.version = version;
        this.noteReading('CloudView API version', version);
        return root(version);
      }
      tried.push(`${request.path}: HTTP ${status}`);
    }
    throw new IntegrationError(
      `The CloudView API answers at none of the versions known (${tried.join('; ')}) on ${this.origin}. ` +
        'Check that ApiUrl is your platform\'s API server (https://qualysapi...), or use "api": "connectors-v3".',
    );
  }

  // ---- connectors ------------------------------------------------------------------------

  /** The list has no documented filter: every connector is read, and the account's and the name's kept. */
  async find(query: ConnectorQuery): Promise<Connector[]> {
    const all = await this.listConnectors();
    return all.filter(
      (c) =>
        (query.awsAccountId !== undefined && c.awsAccountId === query.awsAccountId) ||
        (query.name !== undefined && c.name === query.name),
    );
  }

  private async listConnectors(): Promise<Connector[]> {
    const base = await this.base();
    const entries = await this.listPages(`${base}/connectors`, 'List the CloudView AWS connectors', 'CloudView list');
    return entries.map((raw) => {
      const connector = isObject(raw) ? readCloudViewConnector(raw) : undefined;
      if (!connector) {
        throw new UnreadableAnswerError(
          `List the CloudView AWS connectors failed: an entry has no connector ID (${isObject(raw) ? Object.keys(raw).slice(0, 8).join(', ') : typeof raw}); nothing was changed`,
        );
      }
      return connector;
    });
  }

  async get(id: string): Promise<Connector | undefined> {
    const request = get(`${await this.base()}/connectors/${segment(id)}`, `Read CloudView AWS connector ${id}`);
    const res = await this.session.call(request, { passStatuses: [404] });
    if (res.status === 404) return undefined;
    const body = parseJson(res.body);
    const object = isObject(body) && isObject(body.data) ? body.data : body;
    const connector = isObject(object) ? readCloudViewConnector(object, id) : undefined;
    if (!connector) {
      throw new UnreadableAnswerError(
        `${request.step} failed: Qualys answered with no connector (${describeShape(res.body)})`,
      );
    }
    return connector;
  }

  async create(fields: ConnectorFields): Promise<Connector> {
    const base = await this.base();
    const step = `Create the CloudView AWS connector "${fields.name}"`;
    let body = cloudViewBody(fields);
    return this.createOnce(
      step,
      fields,
      (q) => this.find(q),
      async () => {
        let res: HttpResponse;
        try {
          res = await this.session.call(request('POST', `${base}/connectors`, step, body), {
            retryServerErrors: false,
          });
        } catch (error) {
          // The guide's example also sends the Qualys AWS account ("qualysAccountId"): where a
          // server asks for it, it is read from the API and the create sent again (a 4xx did nothing).
          if (
            !(
              error instanceof QualysApiError &&
              error.status === 400 &&
              /qualys\s*(aws)?\s*account/i.test(error.qualysMessage)
            )
          )
            throw error;
          if (body.qualysAccountId !== undefined) throw error;
          body = { ...body, qualysAccountId: await this.qualysAwsAccountId() };
          this.noteReading('CloudView create body', 'with qualysAccountId');
          res = await this.session.call(request('POST', `${base}/connectors`, step, body), {
            retryServerErrors: false,
          });
        }
        const answered = parseJson(res.body);
        const object = isObject(answered) && isObject(answered.data) ? answered.data : answered;
        const connector = isObject(object) ? readCloudViewConnector(object) : undefined;
        this.noteReading('CloudView create answer', connector ? 'the connector' : `HTTP ${res.status} without an ID`);
        return connector;
      },
    );
  }

  async update(id: string, fields: ConnectorFields): Promise<'updated' | 'absent'> {
    return this.put(id, `Update CloudView AWS connector ${id}`, cloudViewBody(fields));
  }

  async restore(id: string, raw: Readonly<Record<string, unknown>>): Promise<'updated' | 'absent'> {
    const body: Record<string, unknown> = {};
    for (const key of RESTORABLE) if (raw[key] !== undefined && raw[key] !== null) body[key] = raw[key];
    return this.put(id, `Put CloudView AWS connector ${id} back as it was`, body);
  }

  private async put(id: string, step: string, body: Record<string, unknown>): Promise<'updated' | 'absent'> {
    const res = await this.session.call(request('PUT', `${await this.base()}/connectors/${segment(id)}`, step, body), {
      passStatuses: [404],
    });
    return res.status === 404 ? 'absent' : 'updated';
  }

  /**
   * Deletes under every reading of the DELETE body, the one that worked here first. A connector
   * already gone counts as done; a delete counts only once a read-back no longer finds it.
   */
  async delete(id: string): Promise<'deleted' | 'absent'> {
    if (!(await this.get(id))) return 'absent';
    const base = await this.base();
    const step = `Delete CloudView AWS connector ${id}`;
    const shapes = orderShapes(this.learnt.deleteShape);
    const answers: string[] = [];
    for (const shape of shapes) {
      const res = await this.session.call(withIds(request('DELETE', `${base}/connectors`, step), shape, [id]), {
        passStatuses: SHAPE_REFUSALS,
      });
      answers.push(`${shape}: HTTP ${res.status}${this.session.said(res) ? ` ${this.session.said(res)}` : ''}`);
      if (!(await this.get(id))) {
        if (this.learnt.deleteShape !== shape) {
          this.learnt.deleteShape = shape;
          this.noteReading('CloudView delete body', shape);
        }
        return 'deleted';
      }
    }
    throw new IntegrationError(
      `${step} failed: Qualys answered every reading of the DELETE body (${answers.join('; ')}), and the connector is still there. ` +
        'Delete it in the Qualys UI, and report the answers to the project.',
    );
  }

  async run(id: string): Promise<RunOutcome> {
    const base = await this.base();
    const step = `Run CloudView AWS connector ${id}`;
    let last = '';
    for (const shape of orderShapes(this.learnt.runShape)) {
      const res = await this.session.call(withIds(request('POST', `${base}/connectors/run`, step), shape, [id]), {
        passStatuses: SHAPE_REFUSALS,
      });
      if (res.status >= 200 && res.status < 300) {
        if (this.learnt.runShape !== shape) {
          this.learnt.runShape = shape;
          this.noteReading('CloudView run body', shape);
        }
        return { outcome: 'started' };
      }
      last = `HTTP ${res.status}${this.session.said(res) ? `: ${this.session.said(res)}` : ''}`;
      // Once a form is known to work here, its refusal is about the run (one already running), not the form.
      if (this.learnt.runShape === shape) break;
    }
    return { outcome: 'refused', message: last };
  }

  async errors(id: string): Promise<ErrorsReading> {
    try {
      const base = await this.base();
      const entries = await this.listPages(
        `${base}/connectors/${segment(id)}/errors`,
        `Read the errors of CloudView AWS connector ${id}`,
        'CloudView errors',
      );
      const errors = entries.map(readErrorEntry).filter((e): e is ConnectorErrorEntry => e !== undefined);
      return { readable: true, errors, reading: `${entries.length} entries` };
    } catch (error) {
      if (error instanceof UnreadableAnswerError) return { readable: false, reading: errorMessage(error) };
      if (error instanceof QualysApiError && error.status !== 401 && error.status !== 403 && !error.retryable) {
        return { readable: false, reading: errorMessage(error) };
      }
      throw error;
    }
  }

  /** `GET /aws/connectors/qualysAwsAccountId`: the AWS account Qualys assumes roles from (text or JSON). */
  async qualysAwsAccountId(): Promise<string> {
    const request = get(`${await this.base()}/connectors/qualysAwsAccountId`, 'Read the Qualys AWS account ID');
    const res = await this.session.call(request);
    const body = parseJson(res.body);
    const value =
      textOf(body) ??
      (isObject(body)
        ? textOf(firstOf(body, ['qualysAwsAccountId', 'accountId', 'awsAccountId', 'data']))
        : undefined) ??
      (/^\s*"?(\d{12})"?\s*$/.exec(res.body)?.[1] as string | undefined);
    if (!value || !/^\d{12}$/.test(value)) {
      throw new UnreadableAnswerError(
        `${request.step} failed: no 12-digit account in the answer (${describeShape(res.body)})`,
      );
    }
    return value;
  }

  // ---- evaluations -----------------------------------------------------------------------

  /**
   * The account's control evaluations, summed up: the failing ones (`filter=control.result:FAIL`)
   * and the passing ones (`:PASS`) counted, the failing ones ranked by criticality, then by
   * failed resources.
   */
  async evaluations(awsAccountId: string, options: { readonly worst?: number } = {}): Promise<EvaluationsReading> {
    try {
      const base = await this.base();
      const path = `${base}/evaluations/${segment(awsAccountId)}`;
      const failing = await this.listPages(
        path,
        `Read the failing control evaluations of ${awsAccountId}`,
        'CloudView evaluations',
        'control.result:FAIL',
      );
      const passing = await this.listPages(
        path,
        `Read the passing control evaluations of ${awsAccountId}`,
        'CloudView evaluations',
        'control.result:PASS',
      );
      const controls = failing
        .filter(isObject)
        .map(readControl)
        .filter((c): c is FailingControl => c !== undefined);
      const rank = (c: FailingControl) => CRITICALITY_RANK[(c.criticality ?? '').toUpperCase()] ?? 9;
      controls.sort((a, b) => rank(a) - rank(b) || (b.failedResources ?? 0) - (a.failedResources ?? 0));
      return {
        readable: true,
        summary: {
          passed: passing.length,
          failed: failing.length,
          worstFailing: controls.slice(0, options.worst ?? 5),
        },
      };
    } catch (error) {
      if (error instanceof UnreadableAnswerError) return { readable: false, reading: errorMessage(error) };
      if (error instanceof QualysApiError && error.status !== 401 && error.status !== 403 && !error.retryable) {
        return { readable: false, reading: errorMessage(error) };
      }
      throw error;
    }
  }

  // ---- paging ----------------------------------------------------------------------------

  /**
   * Every entry of a Spring-paged list. Page 0 first; a 400 to it means the server counts from 1,
   * which is remembered. An answer of no known shape is an error, never an empty list.
   */
  private async listPages(path: string, step: string, topic: string, filter?: string): Promise<unknown[]> {
    const pageAt = (pageNo: number, pageSize = PAGE_SIZE) =>
      get(`${path}?${filter ? `filter=${filter}&` : ''}pageNo=${pageNo}&pageSize=${pageSize}`, step);
    const list = (firstPageNo: number) =>
      this.session.listAll<unknown>({
        pageAt: (query) => pageAt(query?.pageNo ?? firstPageNo, query?.pageSize),
        policy: {},
        firstPageNo,
        read: (res, readStep) => {
          const page =
            res.status === 204 || res.body.trim() === ''
              ? { entries: [], reading: 'an empty answer', page: { more: false } }
              : readEntries(parseJson(res.body));
          if (!page) {
            throw new UnreadableAnswerError(
              `${readStep} failed: Qualys answered HTTP ${res.status} with a list this tool cannot read (${describeShape(res.body)}). ` +
                "Nothing was changed. Please report the answer's shape (without its values) to the project.",
            );
          }
          return page;
        },
        // Entries without an ID of their own (error entries) are told apart by what they say.
        identity: (entry) =>
          (isObject(entry) ? textOf(firstOf(entry, ['connectorId', 'id', 'uuid', 'controlId'])) : undefined) ??
          JSON.stringify(entry),
        onReading: (reading) => this.noteReading(topic, reading),
      });
    if (this.learnt.pagesFromOne) return list(1);
    try {
      return await list(0);
    } catch (error) {
      if (!(error instanceof QualysApiError && error.status === 400)) throw error;
      this.learnt.pagesFromOne = true;
      this.noteReading('CloudView paging', 'pageNo counted from 1 (pageNo=0 refused)');
      return list(1);
    }
  }
}

function readControl(raw: Record<string, unknown>): FailingControl | undefined {
  const controlId = textOf(firstOf(raw, ['controlId', 'cid', 'id']));
  if (!controlId) return undefined;
  return {
    controlId,
    controlName: textOf(raw.controlName),
    criticality: textOf(raw.criticality),
    service: textOf(raw.service),
    policyName: textOf(raw.policyName),
    failedResources: numberOf(raw.failedResources),
  };
}

function orderShapes(known: IdsShape | undefined): IdsShape[] {
  return known ? [known, ...IDS_SHAPES.filter((s) => s !== known)] : [...IDS_SHAPES];
}

function root(version: CloudViewVersion): string {
  return `/cloudview-api/rest/${version}/aws`;
}

function request(method: HttpMethod, path: string, step: string, json?: unknown): QualysRequest {
  return { method, path, step, json, accept: 'application/json' };
}

function get(path: string, step: string): QualysRequest {
  return request('GET', path, step);
}

function segment(id: string): string {
  return encodeURIComponent(id);
}
