/**
 * The simulator's dialects, one describe per Dialect field, over raw HTTP (undici) so that
 * what is asserted is the wire answer, not what the project's client makes of it.
 */
import {
  DEFAULT_DIALECT,
  DEFAULT_USER,
  type Dialect,
  type DialectName,
  DIALECTS,
  QualysSimulator,
  type SimulatorOptions,
} from '../../sim/qualys-simulator';
import { CIPS_DEFAULT_FILTER } from '../support/fixtures';
import { type RawRequest, pcBody, rawHttp, vmBody } from '../support/qualys-wire';

const GUIDE_PC_SAMPLE_KEYS = ['name', 'compressData', 'bucketName', 'bucketRegion', 'roleArn', 'integrationValidated'];
const EXTERNAL_ID = /^US_POD_1-71-[0-9a-f-]{36}$/;

const filter = CIPS_DEFAULT_FILTER;

let sim: QualysSimulator | undefined;
let base: string;
let jwt: string;

async function startSim(dialect?: SimulatorOptions['dialect'], opts: SimulatorOptions = {}): Promise<QualysSimulator> {
  if (sim) await sim.stop();
  sim = new QualysSimulator({ ...opts, dialect });
  base = await sim.start();
  const form = new URLSearchParams({ username: DEFAULT_USER.username, password: DEFAULT_USER.password, token: 'true' });
  const auth = await http('POST', '/auth', { anonymous: true, form: form.toString() });
  expect(auth.status).toBe(200);
  jwt = auth.text;
  return sim;
}

/** A call with the session's token, unless `anonymous`. */
const http = (method: string, path: string, { anonymous, ...opts }: RawRequest & { anonymous?: boolean } = {}) =>
  rawHttp(`${base}${path}`, method, { ...opts, token: anonymous ? undefined : jwt });

afterAll(async () => {
  await sim?.stop();
});

describe('dialect option and property', () => {
  test('GIVEN no dialect WHEN reading it THEN it is DEFAULT_DIALECT, which the strict dialect equals', async () => {
    const s = await startSim();
    expect(s.dialect).toEqual(DEFAULT_DIALECT);
    expect(DIALECTS.strict).toEqual(DEFAULT_DIALECT);
  });

  test.each(Object.keys(DIALECTS).filter((n) => n !== 'strict') as DialectName[])(
    'GIVEN the named dialect %s WHEN resolved THEN it differs from the default in at least one field',
    (name) => {
      const s = new QualysSimulator({ dialect: name });
      const changed = (Object.keys(DEFAULT_DIALECT) as (keyof Dialect)[]).filter(
        (k) => s.dialect[k] !== DEFAULT_DIALECT[k],
      );
      expect(changed.length).toBeGreaterThan(0);
    },
  );

  test('GIVEN an unknown dialect name WHEN constructing THEN it throws naming it and the valid names', () => {
    expect(() => new QualysSimulator({ dialect: 'nope' as DialectName })).toThrow(
      /Unknown simulator dialect 'nope': use one of strict, .*guide/,
    );
  });

  test('GIVEN a bad field value and an unknown field WHEN constructing THEN both are named', () => {
    expect(() => new QualysSimulator({ dialect: { list: 'pages', colour: 1 } as unknown as Partial<Dialect> })).toThrow(
      /list must be one of "array", .*"paged" \(got "pages"\); 'colour' is not a dialect field/,
    );
    expect(() => new QualysSimulator({ dialect: { defaultPageSize: 0 } })).toThrow(
      /defaultPageSize must be an integer from 1 to 1000 \(got 0\)/,
    );
  });

  test('GIVEN a running simulator WHEN its dialect is set mid-run THEN the next answer follows it, and the getter is a copy', async () => {
    const s = await startSim();
    s.seedIntegration('vm');
    expect(Array.isArray((await http('GET', '/partner-integration/aws/s3/vm')).json())).toBe(true);
    s.dialect = 'single-list';
    expect((await http('GET', '/partner-integration/aws/s3/vm')).json()).toMatchObject({ integrationId: 1 });
    const copy = s.dialect;
    copy.list = 'array';
    expect(s.dialect.list).toBe('single');
  });
});

describe('pcDetails', () => {
  test("GIVEN 'guide' WHEN a PC integration is read by id and in the list THEN only the guide sample's keys come back, in its order", async () => {
    const s = await startSim({ pcDetails: 'guide' });
    const seeded = s.seedIntegration('pc', { compressData: false });
    const byId = await http('GET', `/partner-integration/aws/s3/${seeded.integrationId}/pc`);
    expect(byId.status).toBe(200);
    expect(Object.keys(byId.json())).toEqual(GUIDE_PC_SAMPLE_KEYS);
    expect(byId.json()).toEqual({
      name: seeded.name,
      compressData: false,
      bucketName: seeded.bucketName,
      bucketRegion: seeded.bucketRegion,
      roleArn: seeded.roleArn,
      integrationValidated: false,
    });
    const list = (await http('GET', '/partner-integration/aws/s3/pc')).json();
    expect(list.map((d: object) => Object.keys(d))).toEqual([GUIDE_PC_SAMPLE_KEYS]);
    // The test controls still show the whole stored state.
    expect(s.integration('pc', seeded.integrationId)).toMatchObject({
      integrationId: seeded.integrationId,
      externalId: expect.stringMatching(EXTERNAL_ID),
    });
  });

  test("GIVEN 'guide' WHEN a VM integration is read THEN it keeps integrationId and externalId, as the VM sample does", async () => {
    const s = await startSim({ pcDetails: 'guide' });
    const vm = s.seedIntegration('vm');
    const body = (await http('GET', `/partner-integration/aws/s3/${vm.integrationId}/vm`)).json();
    expect(body).toMatchObject({ integrationId: vm.integrationId, externalId: vm.externalId });
  });

  test("GIVEN 'full' WHEN a PC integration is read THEN integrationId and externalId are there", async () => {
    const s = await startSim({ pcDetails: 'full' });
    const pc = s.seedIntegration('pc');
    const body = (await http('GET', `/partner-integration/aws/s3/${pc.integrationId}/pc`)).json();
    expect(body).toMatchObject({ integrationId: pc.integrationId, externalId: pc.externalId });
  });
});

describe('externalIdKey', () => {
  test("GIVEN 'externalID' WHEN registering, reading, listing and regenerating THEN every answer spells externalID and none externalId", async () => {
    const s = await startSim({ externalIdKey: 'externalID', putAnswer: 'with-external-id' });
    const reg = await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody() });
    expect(reg.status).toBe(200);
    const id = reg.json().integrationId;
    const answers = [
      reg.json(),
      (await http('GET', `/partner-integration/aws/s3/${id}/vm`)).json(),
      (await http('GET', '/partner-integration/aws/s3/vm')).json()[0],
      (
        await http('PUT', `/partner-integration/aws/s3/${id}/vm`, {
          json: { name: 'vm-integration', roleArn: vmBody().roleArn, regenerateExternalId: true },
        })
      ).json(),
    ];
    for (const a of answers) {
      expect(a).not.toHaveProperty('externalId');
      expect(a.externalID).toMatch(EXTERNAL_ID);
    }
    expect(answers[3].externalID).toBe(s.integration('vm', id)!.externalId);
    // The key keeps its place among the VM sample's keys.
    const keys = Object.keys(answers[1]);
    expect(keys.indexOf('externalID')).toBe(keys.indexOf('compressData') + 1);
  });
});

describe('registerAnswer (and registerStatus)', () => {
  test("GIVEN 'details' (default) WHEN registering THEN 200 with every stored field", async () => {
    const s = await startSim();
    const reg = await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody() });
    expect(reg.status).toBe(200);
    expect(reg.json()).toEqual(s.integrations('pc')[0]);
  });

  test("GIVEN 'ids' WHEN registering THEN only integrationId and the external ID come back", async () => {
    const s = await startSim('register-ids');
    const reg = await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody() });
    expect(reg.status).toBe(200);
    const stored = s.integrations('vm')[0];
    expect(reg.json()).toEqual({ integrationId: stored.integrationId, externalId: stored.externalId });
  });

  test("GIVEN 'empty' with 201 WHEN registering THEN 201 with no body and no content type, and the integration exists", async () => {
    const s = await startSim('register-empty');
    const reg = await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody() });
    expect(reg.status).toBe(201);
    expect(reg.text).toBe('');
    expect(reg.headers['content-type']).toBeUndefined();
    expect(s.integrations('pc')).toHaveLength(1);
  });
});

describe('putAnswer', () => {
  const put = (id: number, regenerateExternalId: boolean) =>
    http('PUT', `/partner-integration/aws/s3/${id}/pc`, {
      json: { name: 'pc-integration', roleArn: pcBody().roleArn, regenerateExternalId },
    });

  test("GIVEN 'with-external-id' WHEN regenerating THEN the answer carries the new external ID beside messsage", async () => {
    const s = await startSim('put-external-id');
    const before = s.seedIntegration('pc', { name: 'pc-integration' });
    const res = await put(before.integrationId, true);
    expect(res.status).toBe(200);
    const after = s.integration('pc', before.integrationId)!;
    expect(after.externalId).not.toBe(before.externalId);
    expect(res.json()).toEqual({
      messsage: 'AWS S3 PC integration successfully updated.',
      externalId: after.externalId,
    });
  });

  test("GIVEN 'with-external-id' WHEN updating without regenerating THEN the answer carries the unchanged external ID", async () => {
    const s = await startSim('put-external-id');
    const before = s.seedIntegration('pc', { name: 'pc-integration' });
    expect((await put(before.integrationId, false)).json().externalId).toBe(before.externalId);
  });

  test("GIVEN 'message' (default) WHEN regenerating THEN the answer holds only messsage", async () => {
    const s = await startSim();
    const before = s.seedIntegration('pc', { name: 'pc-integration' });
    expect((await put(before.integrationId, true)).json()).toEqual({
      messsage: 'AWS S3 PC integration successfully updated.',
    });
  });
});

describe('list and emptyList', () => {
  test.each(['data', 'content', 'items', 'integrations'] as const)(
    "GIVEN list '%s' WHEN listing two VM integrations THEN they come wrapped under that key",
    async (key) => {
      const s = await startSim({ list: key });
      const a = s.seedIntegration('vm');
      const b = s.seedIntegration('vm');
      s.seedIntegration('pc');
      const res = await http('GET', '/partner-integration/aws/s3/vm');
      expect(res.json()).toEqual({ [key]: [a, b] });
    },
  );

  test("GIVEN list 'single' WHEN listing THEN one bare object, the first integration of that kind", async () => {
    const s = await startSim('single-list');
    const first = s.seedIntegration('pc');
    s.seedIntegration('pc');
    const res = await http('GET', '/partner-integration/aws/s3/pc');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual(first);
  });

  test.each([
    ['single', 'empty', 200, ''],
    ['single', '204', 204, ''],
    ['array', 'empty', 200, '[]'],
    ['array', '204', 204, ''],
    ['content', 'empty', 200, '{"content":[]}'],
  ] as const)(
    "GIVEN list '%s' and emptyList '%s' WHEN there is no integration THEN %i with body %j",
    async (list, emptyList, status, body) => {
      await startSim({ list, emptyList });
      const res = await http('GET', '/partner-integration/aws/s3/vm');
      expect(res.status).toBe(status);
      expect(res.text).toBe(body);
    },
  );

  test.each(['single', 'array', 'paged'] as const)(
    "GIVEN list '%s' and emptyList '404' WHEN there is none THEN 404 with a messsage",
    async (list) => {
      const s = await startSim({ list, emptyList: '404' });
      s.seedIntegration('vm');
      const res = await http('GET', '/partner-integration/aws/s3/pc');
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ messsage: 'No AWS S3 PC integration found for this subscription' });
    },
  );

  describe('paged', () => {
    async function walk(pageBase: 0 | 1): Promise<{ pages: any[]; ids: number[] }> {
      const pages: any[] = [];
      for (let pageNo = pageBase; ; pageNo++) {
        const res = await http('GET', `/partner-integration/aws/s3/vm?pageNo=${pageNo}`);
        expect(res.status).toBe(200);
        pages.push(res.json());
        if (res.json().last) break;
        expect(pages.length).toBeLessThan(10);
      }
      return { pages, ids: pages.flatMap((p) => p.content.map((d: { integrationId: number }) => d.integrationId)) };
    }

    test.each([0, 1] as const)(
      'GIVEN pageBase %i and 5 integrations WHEN walking every page of 2 THEN 3 Spring pages hold them all once',
      async (pageBase) => {
        const s = await startSim({ list: 'paged', pageBase, defaultPageSize: 2 });
        for (let i = 0; i < 5; i++) s.seedIntegration('vm');
        s.seedIntegration('pc');
        const { pages, ids } = await walk(pageBase);
        expect(ids).toEqual(s.integrations('vm').map((d) => d.integrationId));
        expect(pages.map((p) => [p.number, p.first, p.last, p.numberOfElements])).toEqual([
          [0, true, false, 2],
          [1, false, false, 2],
          [2, false, true, 1],
        ]);
        for (const p of pages) {
          expect(Object.keys(p)).toEqual([
            'content',
            'last',
            'first',
            'totalPages',
            'totalElements',
            'numberOfElements',
            'size',
            'number',
          ]);
          expect(p).toMatchObject({ totalPages: 3, totalElements: 5, size: 2 });
        }
      },
    );

    test('GIVEN the paged-list-1 dialect WHEN asking without pageNo THEN the first page, the same as pageNo=1', async () => {
      const s = await startSim('paged-list-1');
      for (let i = 0; i < 3; i++) s.seedIntegration('pc');
      const implicit = (await http('GET', '/partner-integration/aws/s3/pc')).json();
      expect(implicit).toMatchObject({ number: 0, first: true, size: 2 });
      expect((await http('GET', '/partner-integration/aws/s3/pc?pageNo=1')).json()).toEqual(implicit);
    });

    test('GIVEN pageSize=10 WHEN listing THEN one page holds all; a page past the last is empty and last', async () => {
      const s = await startSim('paged-list');
      for (let i = 0; i < 3; i++) s.seedIntegration('vm');
      expect((await http('GET', '/partner-integration/aws/s3/vm?pageNo=0&pageSize=10')).json()).toMatchObject({
        totalPages: 1,
        numberOfElements: 3,
        size: 10,
        first: true,
        last: true,
      });
      expect((await http('GET', '/partner-integration/aws/s3/vm?pageNo=5')).json()).toMatchObject({
        content: [],
        number: 5,
        first: false,
        last: true,
        totalElements: 3,
      });
    });

    test('GIVEN no integration and emptyList empty WHEN listing THEN an empty first page with 0 pages', async () => {
      await startSim('paged-list');
      expect((await http('GET', '/partner-integration/aws/s3/vm')).json()).toEqual({
        content: [],
        last: true,
        first: true,
        totalPages: 0,
        totalElements: 0,
        numberOfElements: 0,
        size: 2,
        number: 0,
      });
    });

    test.each([
      [0, 'pageNo=-1', /pageNo must be an integer from 0 \(the first page\) upwards \(got '-1'\)/],
      [0, 'pageNo=abc', /pageNo .*got 'abc'/],
      [0, 'pageNo=1.5', /pageNo .*got '1.5'/],
      [1, 'pageNo=0', /pageNo must be an integer from 1 \(the first page\) upwards \(got '0'\)/],
      [0, 'pageSize=0', /pageSize must be an integer from 1 to 1000 \(got '0'\)/],
      [0, 'pageSize=1001', /pageSize .*got '1001'/],
      [0, 'pageSize=', /pageSize .*got ''/],
      [0, 'pageNo=0&pageNo=1', /pageNo must be given once/],
    ] as const)('GIVEN pageBase %i WHEN asking ?%s THEN 400 naming the parameter', async (pageBase, query, message) => {
      const s = await startSim({ list: 'paged', pageBase });
      s.seedIntegration('vm');
      const res = await http('GET', `/partner-integration/aws/s3/vm?${query}`);
      expect(res.status).toBe(400);
      expect(res.json().messsage).toMatch(message);
    });

    test("GIVEN list 'array' WHEN paging parameters are sent THEN they are ignored and everything comes back", async () => {
      const s = await startSim();
      for (let i = 0; i < 3; i++) s.seedIntegration('vm');
      expect((await http('GET', '/partner-integration/aws/s3/vm?pageNo=abc&pageSize=1')).json()).toHaveLength(3);
    });
  });
});

describe('onePerKind', () => {
  test('GIVEN one VM integration WHEN registering a second THEN 409 naming the one that exists, and nothing is stored', async () => {
    const s = await startSim('one-per-kind');
    const first = await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody() });
    expect(first.status).toBe(200);
    const second = await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody({ name: 'another-name' }) });
    expect(second.status).toBe(409);
    expect(second.json().messsage).toMatch(
      /AWS S3 VM integration already exists for this subscription \(id 1, named 'vm-integration'\); only one is allowed/,
    );
    expect(s.integrations('vm')).toHaveLength(1);
  });

  test('GIVEN one VM integration WHEN registering a PC one, or a VM one after deleting THEN both succeed', async () => {
    await startSim('one-per-kind');
    const vm = await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody() });
    expect((await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody() })).status).toBe(200);
    expect((await http('DELETE', `/partner-integration/aws/s3/${vm.json().integrationId}/vm`)).status).toBe(200);
    expect((await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody() })).status).toBe(200);
  });

  test('GIVEN onePerKind false (default) WHEN registering a second VM integration THEN it is stored', async () => {
    const s = await startSim();
    await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody() });
    expect(
      (await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody({ name: 'another-name' }) })).status,
    ).toBe(200);
    expect(s.integrations('vm')).toHaveLength(2);
  });
});

describe('unknownFields and pcRegisterFields', () => {
  test('GIVEN pc-register-reject WHEN PC register sends compressData THEN 400 naming it; without it THEN 200', async () => {
    const s = await startSim('pc-register-reject');
    const refused = await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody({ compressData: false }) });
    expect(refused.status).toBe(400);
    expect(refused.json().messsage).toMatch(/unrecognized field 'compressData'/);
    expect(s.integrations('pc')).toHaveLength(0);
    expect((await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody() })).status).toBe(200);
  });

  test('GIVEN pc-register-ignore WHEN PC register sends compressData false THEN 200 and the stored compressData stays true', async () => {
    const s = await startSim('pc-register-ignore');
    const res = await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody({ compressData: false }) });
    expect(res.status).toBe(200);
    expect(res.json().compressData).toBe(true);
    expect(s.integrations('pc')[0].compressData).toBe(true);
  });

  test("GIVEN pcRegisterFields 'guide' WHEN PC update sends compressData false THEN it applies (the guide documents it there)", async () => {
    const s = await startSim('pc-register-reject');
    const pc = s.seedIntegration('pc', { name: 'pc-integration' });
    const res = await http('PUT', `/partner-integration/aws/s3/${pc.integrationId}/pc`, {
      json: { name: 'pc-integration', roleArn: pcBody().roleArn, compressData: false },
    });
    expect(res.status).toBe(200);
    expect(s.integration('pc', pc.integrationId)!.compressData).toBe(false);
  });

  test("GIVEN 'lenient' (default) WHEN PC register sends compressData false THEN it is stored", async () => {
    const s = await startSim();
    expect(
      (await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody({ compressData: false }) })).status,
    ).toBe(200);
    expect(s.integrations('pc')[0].compressData).toBe(false);
  });

  test("GIVEN unknownFields 'ignore' WHEN S3 and CIPS bodies carry unknown fields THEN they succeed and nothing unknown is stored", async () => {
    const s = await startSim({ unknownFields: 'ignore' });
    const reg = await http('POST', '/partner-integration/aws/s3/vm', {
      json: vmBody({ colour: 'blue', regenerateExternalId: true }),
    });
    expect(reg.status).toBe(200);
    expect(reg.json()).not.toHaveProperty('colour');
    const id = reg.json().integrationId;
    const put = await http('PUT', `/partner-integration/aws/s3/${id}/vm`, {
      json: { name: 'vm-integration', roleArn: vmBody().roleArn, colour: 'red' },
    });
    expect(put.status).toBe(200);
    expect(s.integration('vm', id)).not.toHaveProperty('colour');
    expect((await http('POST', '/pcas/cips/config/policy', { json: [{ policy: [7], note: 'x' }] })).status).toBe(202);
    expect((await http('POST', '/pcas/cips/config', { json: [{ ...filter, extra: true }] })).status).toBe(200);
    expect(s.cips()).toEqual({ policies: [7], filter });
  });

  test("GIVEN unknownFields 'reject' (default) WHEN bodies carry unknown fields THEN 400 naming the field", async () => {
    await startSim();
    const reg = await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody({ colour: 'blue' }) });
    expect(reg.status).toBe(400);
    expect(reg.json().messsage).toMatch(/unrecognized field 'colour'/);
    expect((await http('POST', '/pcas/cips/config', { json: [{ ...filter, extra: true }] })).json().messsage).toMatch(
      /unrecognized field 'extra'/,
    );
  });
});

describe('cipsAccept', () => {
  const add = (accept: string | undefined, policy = [4771746]) =>
    http('POST', '/pcas/cips/config/policy', { json: [{ policy }], headers: accept === undefined ? {} : { accept } });

  test.each([
    [undefined, 202],
    ['', 202],
    ['*/*', 202],
    ['text/*', 202],
    ['text/plain', 202],
    ['TEXT/Plain', 202],
    ['text/plain;charset=utf-8', 202],
    ['text/plain; charset="UTF-8"', 202],
    ['application/json, text/plain;q=0.5', 202],
    ['text/*;q=0, text/plain', 202],
    ['application/json', 406],
    ['text/html, application/*', 406],
    ['text/plain;q=0', 406],
    ['*/*;q=0.8, text/plain;q=0', 406],
    ['text/plain;charset=iso-8859-1', 406],
    ['application/json;q=1, */*;q=0', 406],
    ['text/plain;q=2', 406],
  ] as const)(
    'GIVEN strict WHEN adding a policy (text/plain answer) with Accept %j THEN %i',
    async (accept, status) => {
      const s = await startSim('text-cips');
      const res = await add(accept);
      expect(res.status).toBe(status);
      expect(s.cips().policies).toEqual(status === 202 ? [4771746] : []);
    },
  );

  test.each([
    ['application/json', 200],
    ['application/*', 200],
    ['*/*', 200],
    ['application/json;charset=UTF-8', 200],
    ['text/plain', 406],
    ['text/*', 406],
    ['*/*;q=0', 406],
  ] as const)(
    'GIVEN strict WHEN reading the CIPS config (JSON answer) with Accept %j THEN %i',
    async (accept, status) => {
      const s = await startSim('text-cips');
      s.seedCips({ policies: [1] });
      expect((await http('GET', '/pcas/cips/config', { headers: { accept } })).status).toBe(status);
    },
  );

  test('GIVEN strict WHEN refused THEN the 406 messsage names the media type to ask for, and a missing token still answers 401 first', async () => {
    await startSim('text-cips');
    const res = await add('application/json');
    expect(res.json().messsage).toMatch(
      /answers text\/plain;charset=UTF-8, which the Accept header 'application\/json' does not admit; send Accept: text\/plain or \*\/\*/,
    );
    const anonymous = await http('POST', '/pcas/cips/config/policy', {
      json: [{ policy: [1] }],
      headers: { accept: 'application/json' },
      anonymous: true,
    });
    expect(anonymous.status).toBe(401);
  });

  test("GIVEN 'any' (default) WHEN adding with Accept application/json THEN 202 text/plain", async () => {
    await startSim();
    const res = await add('application/json');
    expect(res.status).toBe(202);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
  });

  test('GIVEN strict WHEN S3 calls send Accept text/plain THEN they are not negotiated (only CIPS is)', async () => {
    const s = await startSim('text-cips');
    s.seedIntegration('vm');
    expect((await http('GET', '/partner-integration/aws/s3/vm', { headers: { accept: 'text/plain' } })).status).toBe(
      200,
    );
  });
});

describe('cipsDeletePath', () => {
  const del = (path: string) => http('DELETE', path, { json: [{ policy: [1] }] });

  test("GIVEN 'policy' (default) WHEN deleting THEN /config/policy removes and /config answers 404", async () => {
    const s = await startSim();
    s.seedCips({ policies: [1, 2] });
    expect((await del('/pcas/cips/config')).status).toBe(404);
    expect(s.cips().policies).toEqual([1, 2]);
    expect((await del('/pcas/cips/config/policy')).status).toBe(202);
    expect(s.cips().policies).toEqual([2]);
  });

  test("GIVEN 'config' WHEN deleting THEN /config removes and /config/policy answers 405 with Allow: POST", async () => {
    const s = await startSim('cips-delete-config');
    s.seedCips({ policies: [1, 2] });
    const wrong = await del('/pcas/cips/config/policy');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(wrong.json().messsage).toMatch(/remove policies with DELETE \/pcas\/cips\/config/);
    expect(s.cips().policies).toEqual([1, 2]);
    const right = await del('/pcas/cips/config');
    expect(right.status).toBe(202);
    expect(right.text).toBe('Policy deleted successfully.');
    expect(s.cips().policies).toEqual([2]);
  });

  test("GIVEN 'both' WHEN deleting on either path THEN each removes its policy", async () => {
    const s = await startSim({ cipsDeletePath: 'both' });
    s.seedCips({ policies: [1, 2] });
    expect((await del('/pcas/cips/config')).status).toBe(202);
    expect((await http('DELETE', '/pcas/cips/config/policy', { json: [{ policy: [2] }] })).status).toBe(202);
    expect(s.cips().policies).toEqual([]);
  });
});

describe('cipsConfigShape and cipsEmpty', () => {
  const flags = { ...filter };

  test.each([
    ['flat', (t: string) => ({ subscriptionId: 3068, policy: [1, 2], ...flags, lastUpdated: t })],
    [
      'policies-objects',
      (t: string) => ({
        subscriptionId: 3068,
        policies: [
          { id: 1, title: 'Policy 1' },
          { id: 2, title: 'Policy 2' },
        ],
        ...flags,
        lastUpdated: t,
      }),
    ],
    ['nested', (t: string) => ({ subscriptionId: 3068, policyList: [1, 2], filter: flags, lastUpdated: t })],
    ['array', (t: string) => [{ subscriptionId: 3068, policy: [1, 2], ...flags, lastUpdated: t }]],
    ['data', (t: string) => ({ data: { subscriptionId: 3068, policy: [1, 2], ...flags, lastUpdated: t } })],
  ] as const)("GIVEN shape '%s' WHEN reading a configured subscription THEN that shape", async (shape, expected) => {
    const s = await startSim({ cipsConfigShape: shape }, { now: () => Date.UTC(2024, 0, 2) });
    s.seedCips({ policies: [2, 1], filter: flags });
    const res = await http('GET', '/pcas/cips/config');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual(expected('2024-01-02T00:00:00.000+00:00'));
  });

  test("GIVEN 'nested' and policies but no filter WHEN reading THEN filter is null", async () => {
    const s = await startSim('cips-nested');
    s.seedCips({ policies: [5] });
    expect((await http('GET', '/pcas/cips/config')).json()).toMatchObject({ policyList: [5], filter: null });
  });

  test("GIVEN 'opaque' WHEN reading THEN a 200 JSON object whose only key holds a string, with no policy id or flag in sight", async () => {
    const s = await startSim('cips-opaque');
    s.seedCips({ policies: [4771746], filter: flags });
    const res = await http('GET', '/pcas/cips/config');
    expect(res.status).toBe(200);
    expect(Object.keys(res.json())).toEqual(['config']);
    expect(typeof res.json().config).toBe('string');
    expect(res.text).not.toMatch(/4771746|include|polic/i);
  });

  test.each([
    ['404', 404, '{"messsage":"No CIPS configuration found"}'],
    ['204', 204, ''],
    ['empty-object', 200, '{}'],
  ] as const)("GIVEN cipsEmpty '%s' WHEN nothing is configured THEN %i %s", async (cipsEmpty, status, body) => {
    await startSim({ cipsEmpty, cipsConfigShape: 'nested' });
    const res = await http('GET', '/pcas/cips/config');
    expect(res.status).toBe(status);
    expect(res.text).toBe(body);
  });
});

describe('cipsDuplicateAdd', () => {
  test("GIVEN 'ok' WHEN adding a policy already present with a new one THEN 202 saying which was present, and both are there", async () => {
    const s = await startSim('cips-duplicate-ok');
    s.seedCips({ policies: [1] });
    const res = await http('POST', '/pcas/cips/config/policy', { json: [{ policy: [1, 2] }] });
    expect(res.status).toBe(202);
    expect(res.text).toBe('Policy added successfully. Policy 1 already present in CIPS.');
    expect(s.cips().policies).toEqual([1, 2]);
  });

  test("GIVEN 'ok' and 99 policies WHEN adding one present and one new THEN the limit counts only the new one", async () => {
    const s = await startSim('cips-duplicate-ok');
    s.seedCips({ policies: Array.from({ length: 99 }, (_, i) => i + 1) });
    expect((await http('POST', '/pcas/cips/config/policy', { json: [{ policy: [1, 500] }] })).status).toBe(202);
    expect(s.cips().policies).toHaveLength(100);
  });

  test("GIVEN 'error' (default) WHEN adding a policy already present THEN 400 and nothing changes", async () => {
    const s = await startSim();
    s.seedCips({ policies: [1] });
    const res = await http('POST', '/pcas/cips/config/policy', { json: [{ policy: [1, 2] }] });
    expect(res.status).toBe(400);
    expect(res.json().messsage).toBe('Policy 1 already added to CIPS');
    expect(s.cips().policies).toEqual([1]);
  });
});

describe('validateFailure', () => {
  test.each([
    ['400', 400, /^Unable to assume role/],
    [
      '200-message',
      200,
      /^AWS S3 VM integration validation failed\. Unable to assume role .*: trust policy lacks the external ID$/,
    ],
    ['5xx', 500, /^Internal error while validating .*Unable to assume role/],
    ['403', 403, /^Access denied while validating .*Unable to assume role/],
  ] as const)(
    "GIVEN '%s' WHEN the role cannot be assumed THEN %i with a messsage, and integrationValidated stays false",
    async (validateFailure, status, message) => {
      const s = await startSim(
        { validateFailure },
        { trustChecker: () => ({ ok: false, reason: 'trust policy lacks the external ID' }) },
      );
      const vm = s.seedIntegration('vm');
      const res = await http('PATCH', `/partner-integration/aws/s3/${vm.integrationId}/vm/validate`);
      expect(res.status).toBe(status);
      expect(Object.keys(res.json())).toEqual(['messsage']);
      expect(res.json().messsage).toMatch(message);
      expect(s.integration('vm', vm.integrationId)!.integrationValidated).toBe(false);
      expect(
        (await http('GET', `/partner-integration/aws/s3/${vm.integrationId}/vm`)).json().integrationValidated,
      ).toBe(false);
    },
  );

  test("GIVEN '200-message' WHEN the role can be assumed THEN the success messsage and integrationValidated true", async () => {
    const s = await startSim('validate-200-failure');
    const vm = s.seedIntegration('vm');
    const res = await http('PATCH', `/partner-integration/aws/s3/${vm.integrationId}/vm/validate`);
    expect(res.json()).toEqual({ messsage: 'AWS S3 VM integration successfully validated.' });
    expect(s.integration('vm', vm.integrationId)!.integrationValidated).toBe(true);
  });
});

describe('the guide dialect', () => {
  test("GIVEN guide WHEN a PC integration is registered with the four documented fields and read back THEN the GET keys are exactly the sample's", async () => {
    const s = await startSim('guide');
    const reg = await http('POST', '/partner-integration/aws/s3/pc', { json: pcBody(), headers: { accept: '*/*' } });
    expect(reg.status).toBe(201);
    const stored = s.integrations('pc')[0];
    expect(reg.json()).toEqual({ integrationId: stored.integrationId, externalId: stored.externalId });
    const byId = (await http('GET', `/partner-integration/aws/s3/${stored.integrationId}/pc`)).json();
    expect(Object.keys(byId).sort()).toEqual([...GUIDE_PC_SAMPLE_KEYS].sort());
    expect(Object.keys(byId)).toEqual(GUIDE_PC_SAMPLE_KEYS);
    const listed = (await http('GET', '/partner-integration/aws/s3/pc')).json();
    expect(listed).toEqual(byId);
  });

  test('GIVEN guide WHEN running through the VM and CIPS calls THEN each answers the guide reading', async () => {
    const s = await startSim('guide');
    expect((await http('GET', '/partner-integration/aws/s3/vm')).text).toBe('');
    const { integrationId } = (
      await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody({ colour: 'ignored' }) })
    ).json();
    expect((await http('POST', '/partner-integration/aws/s3/vm', { json: vmBody({ name: 'second' }) })).status).toBe(
      409,
    );
    const put = await http('PUT', `/partner-integration/aws/s3/${integrationId}/vm`, {
      json: { name: 'vm-integration', roleArn: vmBody().roleArn, regenerateExternalId: true },
    });
    expect(put.json()).toEqual({
      messsage: 'AWS S3 VM integration successfully updated.',
      externalId: s.integration('vm', integrationId)!.externalId,
    });
    expect(
      (
        await http('POST', '/pcas/cips/config/policy', {
          json: [{ policy: [4771746] }],
          headers: { accept: 'application/json' },
        })
      ).status,
    ).toBe(406);
    expect(
      (await http('POST', '/pcas/cips/config/policy', { json: [{ policy: [4771746] }], headers: { accept: '*/*' } }))
        .status,
    ).toBe(202);
    expect(
      (await http('POST', '/pcas/cips/config/policy', { json: [{ policy: [4771746] }], headers: { accept: '*/*' } }))
        .status,
    ).toBe(400);
    expect((await http('GET', '/pcas/cips/config', { headers: { accept: '*/*' } })).json()).toMatchObject({
      policyList: [4771746],
      filter: null,
    });
    expect(
      (await http('DELETE', '/pcas/cips/config', { json: [{ policy: [4771746] }], headers: { accept: '*/*' } })).status,
    ).toBe(202);
    expect((await http('GET', '/pcas/cips/config')).text).toBe('{}');
  });
});
