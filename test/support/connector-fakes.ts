/**
 * A fake Qualys API server for the connector tests: both connector APIs (Connectors 3.0 and
 * CloudView) as the reference describes them, in-memory, as an injected transport on a virtual
 * clock, with its readings chosen per test (CloudView version, paging base, DELETE body, QPS
 * answers wrapped or not, booleans as strings) and runs whose outcome depends on a fake IAM:
 * a role becomes assumable a set time after the test says it was created.
 *
 * Not the simulator (sim/, another engineer's): a small stand-in written from the reference,
 * so that the clients can be tested before it is there.
 */
import type { HttpRequest, HttpResponse, HttpTransport } from '../../src/core/qualys/transport';
import type { FakeClock } from './lambda-fakes';

export const API_URL = 'https://qualysapi.qg2.apps.qualys.com';
export const CONNECTOR_USER = { username: 'cv-user', password: 'Cl0ud-V!ew-P@ss' };
export const QUALYS_AWS_ACCOUNT = '805950163170';

export type IdsShape = 'json-array' | 'connectorIds-object' | 'comma-separated-text';

export interface FakeOptions {
  readonly api: 'connectors-v3' | 'cloudview';
  readonly clock: FakeClock;
  /** CloudView: the one version served. @default 'v1' */
  readonly version?: 'v1' | '1.5';
  /** CloudView: pageNo counts from 1 and 0 is refused with 400. @default false */
  readonly pagesFromOne?: boolean;
  /** CloudView: the one DELETE body understood; others get 400 (or 200 doing nothing, with `ignoreOtherShapes`). */
  readonly deleteShape?: IdsShape;
  readonly ignoreOtherShapes?: boolean;
  /** CloudView: create answers 201 with no body (the guide) rather than the connector (the Swagger). */
  readonly createAnswersNothing?: boolean;
  /** Connectors 3.0: `data` is a list of plain objects rather than `{AwsAssetDataConnector: {...}}`. */
  readonly plainData?: boolean;
  /** Connectors 3.0: booleans and numbers as strings. */
  readonly stringly?: boolean;
  /** Connectors 3.0: only the 2.0 run path exists. */
  readonly runOnlyV2?: boolean;
  /** Entries per list page. @default 100 */
  readonly pageSize?: number;
  /** How long a run takes once started. @default 20 s */
  readonly runMs?: number;
}

export interface Stored {
  id: string;
  name: string;
  description: string;
  awsAccountId: string;
  arn: string;
  externalId: string;
  state: string;
  lastSync?: string;
  pollingMinutes: number;
  remediation: boolean;
  modules: string[];
  runStartedAt?: number;
  errors: string[];
}

/** A hook may answer in the server's place, or `forward()` to let the server act and then answer otherwise. */
export type Hook = (
  req: HttpRequest,
  n: number,
  forward: () => Promise<HttpResponse>,
) => HttpResponse | undefined | Promise<HttpResponse | undefined>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});

export class FakeConnectorServer {
  readonly connectors = new Map<string, Stored>();
  readonly requests: HttpRequest[] = [];
  /** Run before the server answers; the first to answer wins. */
  readonly hooks: Hook[] = [];
  /** Role ARN → when it becomes assumable (virtual ms) and the external ID its trust requires. */
  readonly roles = new Map<string, { assumableAt: number; externalId: string }>();
  private nextId = 1000;

  constructor(readonly options: FakeOptions) {}

  /** IAM: the role exists from now on, assumable after `propagationMs`. */
  role(arn: string, externalId: string, propagationMs = 0): void {
    this.roles.set(arn, { assumableAt: this.options.clock.now() + propagationMs, externalId });
  }

  /** A connector already in Qualys (a leftover or someone else's). */
  seed(fields: Partial<Stored> & Pick<Stored, 'name' | 'awsAccountId' | 'arn'>): Stored {
    const stored: Stored = {
      id: this.newId(),
      description: '',
      externalId: 'their-external-id',
      state: 'SUCCESS',
      lastSync: '2026-01-01T00:00:00Z',
      pollingMinutes: 240,
      remediation: false,
      modules: ['AI', 'CI', 'CSA'],
      errors: [],
      ...fields,
    };
    this.connectors.set(stored.id, stored);
    return stored;
  }

  of(method: string, pattern: RegExp): HttpRequest[] {
    return this.requests.filter((r) => r.method === method && pattern.test(new URL(r.url).pathname));
  }

  readonly transport: HttpTransport = async (req) => {
    this.requests.push(req);
    const n = this.requests.length;
    for (const hook of this.hooks) {
      const out = await hook(req, n, async () => this.answer(req));
      if (out) return out;
    }
    return this.answer(req);
  };

  private answer(req: HttpRequest): HttpResponse {
    const url = new URL(req.url);
    if (url.origin !== API_URL) throw new Error(`the fake serves ${API_URL} only, not ${url.origin}`);
    const expected = `Basic ${Buffer.from(`${CONNECTOR_USER.username}:${CONNECTOR_USER.password}`).toString('base64')}`;
    if (req.headers.Authorization !== expected) return json(401, { message: 'Bad credentials' });
    return this.options.api === 'connectors-v3' ? this.qps(req, url) : this.cloudview(req, url);
  }

  // ---- state -----------------------------------------------------------------------------------

  private newId(): string {
    const n = this.nextId++;
    return this.options.api === 'cloudview' ? `0000${n}-aaaa-4bbb-8ccc-${String(n).padStart(12, '0')}` : String(n);
  }

  /** The connector's state now: a run goes QUEUED, RUNNING, then SUCCESS or ERROR by the fake IAM. */
  private advance(c: Stored): void {
    if (c.runStartedAt === undefined) return;
    const elapsed = this.options.clock.now() - c.runStartedAt;
    const runMs = this.options.runMs ?? 20_000;
    if (elapsed < 1000) c.state = 'QUEUED';
    else if (elapsed < runMs) c.state = 'RUNNING';
    else {
      const role = this.roles.get(c.arn);
      const at = c.runStartedAt + 1000;
      if (role && role.externalId === c.externalId && at >= role.assumableAt) {
        c.state = 'SUCCESS';
        c.errors = [];
      } else {
        c.state = 'ERROR';
        c.errors = [`Unable to assume role ${c.arn}: AccessDenied: User is not authorized to perform: sts:AssumeRole`];
      }
      c.lastSync = new Date(c.runStartedAt + runMs).toISOString();
      c.runStartedAt = undefined;
    }
  }

  private startRun(c: Stored): void {
    this.advance(c);
    if (c.runStartedAt === undefined) c.runStartedAt = this.options.clock.now();
  }

  private create(fields: {
    name: string;
    description?: string;
    arn: string;
    externalId: string;
    pollingMinutes: number;
    remediation: boolean;
    modules: string[];
  }): Stored {
    const account = /^arn:[^:]+:iam::(\d{12}):role\//.exec(fields.arn)?.[1] ?? '000000000000';
    const stored: Stored = {
      id: this.newId(),
      description: '',
      awsAccountId: account,
      state: 'PENDING',
      errors: [],
      ...fields,
    };
    this.connectors.set(stored.id, stored);
    return stored;
  }

  // ---- Connectors 3.0 --------------------------------------------------------------------------

  private qps(req: HttpRequest, url: URL): HttpResponse {
    const path = url.pathname;
    const m =
      /^\/qps\/rest\/(3\.0|2\.0)\/(\w+)\/am\/(awsassetdataconnector|assetdataconnectorerrors)(?:\/(\w+))?$/.exec(path);
    if (!m || req.headers.Accept !== 'application/json') return { status: 404, headers: {}, body: 'Not Found' };
    const [, version, verb, object, id] = m;
    if (version === '2.0' && verb !== 'run') return { status: 404, headers: {}, body: 'Not Found' };
    const body = req.body ? JSON.parse(req.body) : undefined;
    const ok = (items: unknown[], extra: Record<string, unknown> = {}) =>
      json(200, {
        ServiceResponse: {
          responseCode: 'SUCCESS',
          count: this.s(items.length),
          hasMoreRecords: this.s(false),
          ...extra,
          ...(items.length > 0 ? { data: items } : {}),
        },
      });
    const notFound = () =>
      json(200, {
        ServiceResponse: {
          responseCode: 'OBJECT_NOT_FOUND',
          responseErrorDetails: { errorMessage: `AwsAssetDataConnector with id ${id} not found` },
        },
      });
    const wrap = (c: Stored) => (this.options.plainData ? this.v3View(c) : { AwsAssetDataConnector: this.v3View(c) });
    if (object === 'assetdataconnectorerrors') {
      const criteria = body?.ServiceRequest?.filters?.Criteria ?? [];
      const c = this.connectors.get(criteria.find((k: { field: string }) => k.field === 'connectorId')?.value);
      if (!c) return ok([]);
      this.advance(c);
      return ok(c.errors.map((e) => ({ AssetDataConnectorError: { errorMessage: e, region: 'us-east-1' } })));
    }
    switch (verb) {
      case 'search': {
        const criteria: { field: string; operator: string; value: string }[] = body.ServiceRequest.filters.Criteria;
        let list = [...this.connectors.values()].sort((a, b) => Number(a.id) - Number(b.id));
        for (const k of criteria) {
          if (k.operator === 'EQUALS')
            list = list.filter((c) => String((c as unknown as Record<string, unknown>)[k.field]) === k.value);
          else if (k.operator === 'GREATER' && k.field === 'id')
            list = list.filter((c) => Number(c.id) > Number(k.value));
          else
            return json(200, {
              ServiceResponse: {
                responseCode: 'INVALID_REQUEST',
                responseErrorDetails: { errorMessage: `bad criteria ${k.field}` },
              },
            });
        }
        for (const c of list) this.advance(c);
        const size = this.options.pageSize ?? 100;
        const page = list.slice(0, size);
        const more = list.length > size;
        return ok(page.map(wrap), {
          hasMoreRecords: this.s(more),
          ...(more ? { lastId: this.s(Number(page[page.length - 1].id)) } : {}),
        });
      }
      case 'get': {
        const c = this.connectors.get(id);
        if (!c) return notFound();
        this.advance(c);
        return ok([wrap(c)]);
      }
      case 'create': {
        const d = body.ServiceRequest.data.AwsAssetDataConnector;
        const c = this.create({
          name: d.name,
          description: d.description,
          arn: d.arn,
          externalId: d.externalId,
          pollingMinutes: d.runFrequency,
          remediation: d.isRemediationEnabled,
          modules: d.connectorAppInfos.set.ConnectorAppInfoQList[0].set.ConnectorAppInfo.map(
            (a: { name: string }) => a.name,
          ),
        });
        return ok([wrap(c)]);
      }
      case 'update': {
        const c = this.connectors.get(id);
        if (!c) return notFound();
        const d = body.ServiceRequest.data.AwsAssetDataConnector;
        if (d.name !== undefined) c.name = d.name;
        if (d.description !== undefined) c.description = d.description;
        if (d.arn !== undefined) c.arn = d.arn;
        if (d.externalId !== undefined) c.externalId = d.externalId;
        if (d.runFrequency !== undefined) c.pollingMinutes = Number(d.runFrequency);
        if (d.isRemediationEnabled !== undefined) c.remediation = String(d.isRemediationEnabled) === 'true';
        const apps = d.connectorAppInfos?.set?.ConnectorAppInfoQList?.[0]?.set?.ConnectorAppInfo;
        if (apps) c.modules = apps.map((a: { name: string }) => a.name);
        return ok([{ AwsAssetDataConnector: { id: this.options.stringly ? c.id : Number(c.id) } }]);
      }
      case 'delete': {
        if (!this.connectors.delete(id)) return notFound();
        return ok([{ AwsAssetDataConnector: { id: Number(id) } }]);
      }
      case 'run': {
        if (this.options.runOnlyV2 && version === '3.0') return { status: 404, headers: {}, body: 'Not Found' };
        const c = this.connectors.get(id);
        if (!c) return notFound();
        this.startRun(c);
        return ok([{ AwsAssetDataConnector: { id: Number(id) } }]);
      }
    }
    return { status: 404, headers: {}, body: 'Not Found' };
  }

  private s(value: boolean | number): boolean | number | string {
    return this.options.stringly ? String(value) : value;
  }

  private v3View(c: Stored): Record<string, unknown> {
    return {
      id: this.s(Number(c.id)),
      name: c.name,
      description: c.description,
      arn: c.arn,
      externalId: c.externalId,
      awsAccountId: c.awsAccountId,
      qualysAwsAccountId: QUALYS_AWS_ACCOUNT,
      connectorState: c.state,
      ...(c.lastSync ? { lastSync: c.lastSync } : {}),
      runFrequency: this.s(c.pollingMinutes),
      isRemediationEnabled: this.s(c.remediation),
      disabled: this.s(false),
      connectorAppInfos: {
        list: {
          ConnectorAppInfoQList: [
            { list: { ConnectorAppInfo: c.modules.map((name) => ({ name, identifier: c.arn })) } },
          ],
        },
      },
    };
  }

  // ---- CloudView -------------------------------------------------------------------------------

  private cloudview(req: HttpRequest, url: URL): HttpResponse {
    const version = this.options.version ?? 'v1';
    const prefix = `/cloudview-api/rest/${version}/aws`;
    if (!url.pathname.startsWith(`${prefix}/`)) {
      return {
        status: 404,
        headers: { 'content-type': 'text/html' },
        body: '<html><title>404 Not Found</title></html>',
      };
    }
    const path = url.pathname.slice(prefix.length);
    const body = req.body && req.headers['Content-Type'] === 'application/json' ? JSON.parse(req.body) : req.body;
    const page = (items: unknown[]): HttpResponse => {
      const fromOne = this.options.pagesFromOne ?? false;
      const pageNo = Number(url.searchParams.get('pageNo') ?? 'x');
      const size = Math.min(Number(url.searchParams.get('pageSize') ?? 50), this.options.pageSize ?? 100);
      if (!Number.isInteger(pageNo) || (fromOne && pageNo < 1) || pageNo < 0)
        return json(400, { message: 'Page index must not be less than zero' });
      const index = fromOne ? pageNo - 1 : pageNo;
      const content = items.slice(index * size, index * size + size);
      const totalPages = Math.max(1, Math.ceil(items.length / size));
      return json(200, {
        content,
        last: index + 1 >= totalPages,
        first: index === 0,
        totalPages,
        totalElements: items.length,
        numberOfElements: content.length,
        size,
        number: index,
        sort: null,
      });
    };
    const view = (c: Stored) => ({
      connectorId: c.id,
      name: c.name,
      description: c.description,
      awsAccountId: c.awsAccountId,
      arn: c.arn,
      externalId: c.externalId,
      state: c.state,
      ...(c.lastSync ? { lastSyncedOn: c.lastSync } : {}),
      pollingFrequency: { hours: Math.floor(c.pollingMinutes / 60), minutes: c.pollingMinutes % 60 },
      remediationEnabled: c.remediation,
      error: c.errors[0] ?? null,
    });
    const ids = (shape: IdsShape): string[] | undefined => {
      if (shape === 'json-array' && Array.isArray(body)) return body;
      if (shape === 'connectorIds-object' && body && Array.isArray(body.connectorIds)) return body.connectorIds;
      if (shape === 'comma-separated-text' && typeof body === 'string' && req.headers['Content-Type'] === 'text/plain')
        return body.split(',');
      return undefined;
    };
    const anyIds = (): string[] | undefined =>
      ids('json-array') ?? ids('connectorIds-object') ?? ids('comma-separated-text');
    if (path === '/connectors' && req.method === 'GET') {
      const list = [...this.connectors.values()];
      for (const c of list) this.advance(c);
      return page(list.map(view));
    }
    if (path === '/connectors/qualysAwsAccountId' && req.method === 'GET') return json(200, QUALYS_AWS_ACCOUNT);
    if (path === '/connectors' && req.method === 'POST') {
      const known = [
        'name',
        'description',
        'arn',
        'externalId',
        'isGovCloud',
        'isChinaRegion',
        'pollingFrequency',
        'remediationEnabled',
        'qualysAccountId',
      ];
      const unknown = Object.keys(body).filter((k) => !known.includes(k));
      if (unknown.length > 0) return json(400, { message: `Unknown fields: ${unknown.join(', ')}` });
      const c = this.create({
        name: body.name,
        description: body.description,
        arn: body.arn,
        externalId: body.externalId,
        pollingMinutes: body.pollingFrequency.hours * 60 + body.pollingFrequency.minutes,
        remediation: body.remediationEnabled,
        modules: ['CSA'],
      });
      return this.options.createAnswersNothing ? json(201, undefined) : json(201, view(c));
    }
    if (path === '/connectors' && req.method === 'DELETE') {
      const wanted = this.options.deleteShape ?? 'json-array';
      const list = ids(wanted);
      if (!list) {
        if (this.options.ignoreOtherShapes) return json(200, { message: 'Deleted' });
        return json(400, { message: 'Malformed request body' });
      }
      for (const id of list) this.connectors.delete(id);
      return json(200, { message: 'Deleted successfully' });
    }
    if (path === '/connectors/run' && req.method === 'POST') {
      const list = anyIds();
      if (!list) return json(400, { message: 'Malformed request body' });
      for (const id of list) {
        const c = this.connectors.get(id);
        if (c) this.startRun(c);
      }
      return json(200, { message: 'Connectors run triggered' });
    }
    const errorsMatch = /^\/connectors\/([\w-]+)\/errors$/.exec(path);
    if (errorsMatch && req.method === 'GET') {
      const c = this.connectors.get(errorsMatch[1]);
      if (!c) return json(404, { message: 'Connector not found' });
      this.advance(c);
      return page(c.errors.map((e) => ({ errorMessage: e, region: 'us-east-1', service: 'STS' })));
    }
    const one = /^\/connectors\/([\w-]+)$/.exec(path);
    if (one) {
      const c = this.connectors.get(one[1]);
      if (!c) return json(404, { message: 'Connector not found' });
      if (req.method === 'GET') {
        this.advance(c);
        return json(200, view(c));
      }
      if (req.method === 'PUT') {
        if (body.name !== undefined) c.name = body.name;
        if (body.description !== undefined) c.description = body.description;
        if (body.arn !== undefined) c.arn = body.arn;
        if (body.externalId !== undefined) c.externalId = body.externalId;
        if (body.pollingFrequency) c.pollingMinutes = body.pollingFrequency.hours * 60 + body.pollingFrequency.minutes;
        if (body.remediationEnabled !== undefined) c.remediation = body.remediationEnabled;
        return json(200, view(c));
      }
    }
    const evaluations = /^\/evaluations\/(\d+)$/.exec(path);
    if (evaluations && req.method === 'GET') {
      const filter = url.searchParams.get('filter');
      const all = [
        {
          controlId: '6',
          controlName: 'Password policy',
          criticality: 'HIGH',
          result: 'PASS',
          passedResources: 1,
          failedResources: 0,
        },
        {
          controlId: '7',
          controlName: 'Uppercase letter',
          criticality: 'MEDIUM',
          result: 'FAIL',
          passedResources: 0,
          failedResources: 1,
        },
        {
          controlId: '9',
          controlName: 'Symbol',
          criticality: 'HIGH',
          result: 'FAIL',
          passedResources: 0,
          failedResources: 1,
        },
        {
          controlId: '44',
          controlName: 'Security groups',
          criticality: 'HIGH',
          result: 'FAIL',
          passedResources: 2,
          failedResources: 7,
        },
      ];
      return page(filter ? all.filter((e) => `control.result:${e.result}` === filter) : all);
    }
    return json(404, { message: `No route ${req.method} ${url.pathname}` });
  }
}
