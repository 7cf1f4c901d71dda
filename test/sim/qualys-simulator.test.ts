import { request } from 'undici';
import { DEFAULT_USER, QualysSimulator, type SimulatorOptions } from '../../sim/qualys-simulator';
import { CIPS_DEFAULT_FILTER } from '../support/fixtures';
import { type RawAnswer as Res, type RawRequest, pcBody, rawHttp, vmBody } from '../support/qualys-wire';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/qualys-vm-role';
const EXTERNAL_ID = /^US_POD_1-71-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const filter = (overrides: Record<string, unknown> = {}) => ({ ...CIPS_DEFAULT_FILTER, ...overrides });

let sim: QualysSimulator;
let base: string;

async function startSim(opts?: SimulatorOptions): Promise<void> {
  if (sim) await sim.stop();
  sim = new QualysSimulator(opts);
  base = await sim.start();
}

const http = (method: string, path: string, opts: RawRequest = {}) => rawHttp(`${base}${path}`, method, opts);

async function login(username = DEFAULT_USER.username, password = DEFAULT_USER.password): Promise<Res> {
  return http('POST', '/auth', {
    body: new URLSearchParams({ username, password, token: 'true' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

async function token(): Promise<string> {
  const res = await login();
  expect(res.status).toBe(200);
  return res.text;
}

function decode(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

beforeEach(async () => {
  await startSim();
});

afterAll(async () => {
  await sim.stop();
});

describe('POST /auth', () => {
  test('GIVEN valid form credentials WHEN authenticating THEN a text/plain JWT with sub, iat and a 4-hour exp comes back', async () => {
    const res = await login();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const parts = res.text.split('.');
    expect(parts).toHaveLength(3);
    const payload = decode(res.text);
    expect(payload.sub).toBe('qualys-user');
    expect(payload.exp).toBe((payload.iat as number) + 4 * 3600);
    expect(sim.issuedTokens()).toEqual([res.text]);
  });

  test('GIVEN a JSON body WHEN authenticating THEN 415', async () => {
    const res = await http('POST', '/auth', {
      json: { username: 'qualys-user', password: DEFAULT_USER.password, token: true },
    });
    expect(res.status).toBe(415);
  });

  test('GIVEN no token=true WHEN authenticating THEN 400', async () => {
    const res = await http('POST', '/auth', {
      body: new URLSearchParams({ username: DEFAULT_USER.username, password: DEFAULT_USER.password }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(400);
  });

  test.each([
    ['a wrong password', DEFAULT_USER.username, 'wrong'],
    ['an unknown user', 'nobody', DEFAULT_USER.password],
  ])('GIVEN %s WHEN authenticating THEN 401 with a plain-text failure', async (_case, username, password) => {
    const res = await login(username, password);
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/Authentication Failure/);
    expect(sim.issuedTokens()).toEqual([]);
  });

  test('GIVEN 5 consecutive bad passwords WHEN the right password is sent THEN 401 locked until unlock()', async () => {
    for (let i = 0; i < 5; i++) expect((await login(DEFAULT_USER.username, `bad-${i}`)).status).toBe(401);
    const locked = await login();
    expect(locked.status).toBe(401);
    expect(locked.text).toMatch(/locked/i);
    expect(sim.isLocked(DEFAULT_USER.username)).toBe(true);
    sim.unlock();
    expect((await login()).status).toBe(200);
  });

  test('GIVEN 4 bad passwords then a good one WHEN more bad ones follow THEN the count restarted (no lockout at 5 total)', async () => {
    for (let i = 0; i < 4; i++) await login(DEFAULT_USER.username, 'bad');
    expect((await login()).status).toBe(200);
    for (let i = 0; i < 4; i++) await login(DEFAULT_USER.username, 'bad');
    expect((await login()).status).toBe(200);
  });

  test('GIVEN a login WHEN calls are inspected THEN the /auth body (the password) is not recorded', async () => {
    await login();
    expect(sim.calls).toEqual([
      expect.objectContaining({ method: 'POST', path: '/auth', status: 200, body: undefined }),
    ]);
    expect(JSON.stringify(sim.calls)).not.toContain(DEFAULT_USER.password);
  });
});

describe('bearer tokens', () => {
  test('GIVEN no Authorization header WHEN listing THEN 401 with a messsage', async () => {
    const res = await http('GET', '/partner-integration/aws/s3/vm');
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ messsage: expect.any(String) });
  });

  test('GIVEN a well-formed JWT the simulator did not issue WHEN listing THEN 401', async () => {
    const real = await token();
    const [h, p] = real.split('.');
    const res = await http('GET', '/partner-integration/aws/s3/vm', { token: `${h}.${p}.forged-signature` });
    expect(res.status).toBe(401);
  });

  test('GIVEN expireAllTokens() WHEN an old token is used THEN 401, and a new token works', async () => {
    const old = await token();
    sim.expireAllTokens();
    expect((await http('GET', '/partner-integration/aws/s3/vm', { token: old })).status).toBe(401);
    expect((await http('GET', '/partner-integration/aws/s3/vm', { token: await token() })).status).toBe(200);
  });

  test('GIVEN a clock past tokenTtlMs WHEN the token is used THEN 401 expired', async () => {
    let now = 1_700_000_000_000;
    await startSim({ now: () => now, tokenTtlMs: 1000 });
    const jwt = await token();
    now += 1000;
    expect((await http('GET', '/partner-integration/aws/s3/pc', { token: jwt })).status).toBe(200);
    now += 1;
    const res = await http('GET', '/partner-integration/aws/s3/pc', { token: jwt });
    expect(res.status).toBe(401);
    expect(res.json().messsage).toMatch(/expired/);
  });

  test('GIVEN a revoked token WHEN it is used THEN 401', async () => {
    const jwt = await token();
    sim.revokeToken(jwt);
    expect((await http('GET', '/partner-integration/aws/s3/vm', { token: jwt })).status).toBe(401);
  });
});

describe('VM integrations', () => {
  let jwt: string;
  beforeEach(async () => {
    jwt = await token();
  });

  test('GIVEN the required fields only WHEN registering THEN 200 with the guide defaults, a fresh external ID and integrationValidated false', async () => {
    const res = await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() });
    expect(res.status).toBe(200);
    const details = res.json();
    expect(Object.keys(details)).toEqual([
      'integrationId',
      'customerId',
      'customerUUID',
      'bucketName',
      'bucketRegion',
      'minSeverity',
      'baseCategory',
      'name',
      'resultSectionNeeded',
      'sendVulnInfo',
      'compressData',
      'externalId',
      'roleArn',
      'integrationValidated',
      'sendAlerts',
      'errorEmails',
    ]);
    expect(details).toEqual({
      integrationId: 1,
      customerId: 71,
      customerUUID: sim.customerUUID,
      bucketName: 'qualys-vm-findings',
      bucketRegion: 'us-east-1',
      minSeverity: 3,
      baseCategory: 'Confirmed',
      name: 'vm-integration',
      resultSectionNeeded: false,
      sendVulnInfo: false,
      compressData: true,
      externalId: expect.stringMatching(EXTERNAL_ID),
      roleArn: ROLE_ARN,
      integrationValidated: false,
      sendAlerts: false,
      errorEmails: [],
    });
    expect(sim.integrations('vm')).toEqual([details]);
  });

  test('GIVEN every optional field WHEN registering two THEN they are kept and IDs increase', async () => {
    const first = await http('POST', '/partner-integration/aws/s3/vm', {
      token: jwt,
      json: vmBody({
        minSeverity: 1,
        baseCategory: 'IG',
        resultSectionNeeded: true,
        sendVulnInfo: true,
        compressData: false,
        sendAlerts: true,
        errorEmails: ['a@example.com', 'b@example.com'],
      }),
    });
    expect(first.json()).toMatchObject({
      minSeverity: 1,
      baseCategory: 'IG',
      compressData: false,
      sendAlerts: true,
      errorEmails: ['a@example.com', 'b@example.com'],
    });
    const second = await http('POST', '/partner-integration/aws/s3/vm', {
      token: jwt,
      json: vmBody({ name: 'other' }),
    });
    expect(second.json().integrationId).toBeGreaterThan(first.json().integrationId);
    expect(second.json().externalId).not.toBe(first.json().externalId);
  });

  test.each<[string, Record<string, unknown>]>([
    ['no bucketName', { bucketName: undefined }],
    ['no bucketRegion', { bucketRegion: undefined }],
    ['no roleArn', { roleArn: undefined }],
    ['no name', { name: undefined }],
    ['an empty name', { name: '' }],
    ['a 51-character name', { name: 'x'.repeat(51) }],
    ['a numeric name', { name: 42 }],
    ['a roleArn that is not a role ARN', { roleArn: 'arn:aws:iam::123:role/short-account' }],
    ['a user ARN', { roleArn: 'arn:aws:iam::123456789012:user/bob' }],
    ['an unresolved token as the bucket', { bucketName: '${Token[TOKEN.123]}' }],
    ['a region that is not one', { bucketRegion: 'US East' }],
    ['minSeverity as a string', { minSeverity: '3' }],
    ['minSeverity 0', { minSeverity: 0 }],
    ['minSeverity 6', { minSeverity: 6 }],
    ['minSeverity 2.5', { minSeverity: 2.5 }],
    ['an unknown baseCategory', { baseCategory: 'High' }],
    ['compressData as a string', { compressData: 'true' }],
    ['sendVulnInfo as null', { sendVulnInfo: null }],
    [
      'six errorEmails',
      { sendAlerts: true, errorEmails: ['1@a.io', '2@a.io', '3@a.io', '4@a.io', '5@a.io', '6@a.io'] },
    ],
    ['an invalid email', { sendAlerts: true, errorEmails: ['not-an-email'] }],
    ['errorEmails as a comma-separated string', { sendAlerts: true, errorEmails: 'a@b.io,c@d.io' }],
    ['sendAlerts true without errorEmails', { sendAlerts: true }],
    ['sendAlerts true with empty errorEmails', { sendAlerts: true, errorEmails: [] }],
    ['regenerateExternalId (update only)', { regenerateExternalId: true }],
    ['an unknown field', { severity: 3 }],
  ])('GIVEN %s WHEN registering THEN 400 and nothing is created', async (_case, overrides) => {
    const res = await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody(overrides) });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ messsage: expect.any(String) });
    expect(sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN a body that is an array WHEN registering THEN 400', async () => {
    expect((await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: [vmBody()] })).status).toBe(400);
  });

  test('GIVEN a text/plain content type WHEN registering THEN 415', async () => {
    const res = await http('POST', '/partner-integration/aws/s3/vm', {
      token: jwt,
      body: JSON.stringify(vmBody()),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
  });

  test('GIVEN malformed JSON WHEN registering THEN 400', async () => {
    const res = await http('POST', '/partner-integration/aws/s3/vm', {
      token: jwt,
      body: '{"name": "x",}',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(400);
  });

  test('GIVEN an existing VM integration WHEN another registers its name THEN 409; a PC integration may use it', async () => {
    await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() });
    const clash = await http('POST', '/partner-integration/aws/s3/vm', {
      token: jwt,
      json: vmBody({ bucketName: 'another-bucket' }),
    });
    expect(clash.status).toBe(409);
    expect(sim.integrations('vm')).toHaveLength(1);
    expect(
      (await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody({ name: 'vm-integration' }) }))
        .status,
    ).toBe(200);
  });

  test('GIVEN no integrations WHEN listing THEN 200 []', async () => {
    const res = await http('GET', '/partner-integration/aws/s3/vm', { token: jwt });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual([]);
  });

  test('GIVEN an integration WHEN reading it by id THEN its details; by the other kind or an unknown id THEN 404 messsage', async () => {
    const created = (await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })).json();
    const got = await http('GET', `/partner-integration/aws/s3/${created.integrationId}/vm`, { token: jwt });
    expect(got.status).toBe(200);
    expect(got.json()).toEqual(created);
    const list = await http('GET', '/partner-integration/aws/s3/vm', { token: jwt });
    expect(list.json()).toEqual([created]);
    const wrongKind = await http('GET', `/partner-integration/aws/s3/${created.integrationId}/pc`, { token: jwt });
    expect(wrongKind.status).toBe(404);
    expect(wrongKind.json()).toEqual({ messsage: expect.any(String) });
    expect((await http('GET', '/partner-integration/aws/s3/999/vm', { token: jwt })).status).toBe(404);
  });

  describe('update (PUT)', () => {
    let id: number;
    let externalId: string;
    beforeEach(async () => {
      const created = (await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })).json();
      id = created.integrationId;
      externalId = created.externalId;
      await http('PATCH', `/partner-integration/aws/s3/${id}/vm/validate`, { token: jwt });
      expect(sim.integration('vm', id)?.integrationValidated).toBe(true);
    });

    test('GIVEN roleArn, name and settings WHEN updating THEN 200 with the messsage only (no externalId), fields applied, validation reset', async () => {
      const res = await http('PUT', `/partner-integration/aws/s3/${id}/vm`, {
        token: jwt,
        json: { roleArn: ROLE_ARN, name: 'renamed', minSeverity: 5, regenerateExternalId: false },
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ messsage: 'AWS S3 VM integration successfully updated.' });
      expect(res.text).not.toContain('externalId');
      expect(sim.integration('vm', id)).toMatchObject({
        name: 'renamed',
        minSeverity: 5,
        bucketName: 'qualys-vm-findings',
        externalId,
        integrationValidated: false,
      });
    });

    test('GIVEN regenerateExternalId true WHEN updating THEN a new external ID is generated (visible only via GET)', async () => {
      const res = await http('PUT', `/partner-integration/aws/s3/${id}/vm`, {
        token: jwt,
        json: { roleArn: ROLE_ARN, name: 'vm-integration', regenerateExternalId: true },
      });
      expect(res.status).toBe(200);
      const after = (await http('GET', `/partner-integration/aws/s3/${id}/vm`, { token: jwt })).json();
      expect(after.externalId).toMatch(EXTERNAL_ID);
      expect(after.externalId).not.toBe(externalId);
    });

    test.each<[string, Record<string, unknown>]>([
      ['no roleArn', { name: 'vm-integration' }],
      ['no name', { roleArn: ROLE_ARN }],
      ['an unknown field', { roleArn: ROLE_ARN, name: 'vm-integration', externalId: 'mine' }],
      ['regenerateExternalId as a string', { roleArn: ROLE_ARN, name: 'vm-integration', regenerateExternalId: 'true' }],
      ['a lower-case baseCategory', { roleArn: ROLE_ARN, name: 'vm-integration', baseCategory: 'confirmed' }],
      ['sendAlerts true without emails', { roleArn: ROLE_ARN, name: 'vm-integration', sendAlerts: true }],
    ])('GIVEN %s WHEN updating THEN 400 and nothing changes', async (_case, body) => {
      const before = sim.integration('vm', id);
      const res = await http('PUT', `/partner-integration/aws/s3/${id}/vm`, { token: jwt, json: body });
      expect(res.status).toBe(400);
      expect(sim.integration('vm', id)).toEqual(before);
    });

    test('GIVEN another VM integration WHEN updating to its name THEN 409; keeping its own name is fine', async () => {
      await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody({ name: 'taken' }) });
      expect(
        (
          await http('PUT', `/partner-integration/aws/s3/${id}/vm`, {
            token: jwt,
            json: { roleArn: ROLE_ARN, name: 'taken' },
          })
        ).status,
      ).toBe(409);
      expect(
        (
          await http('PUT', `/partner-integration/aws/s3/${id}/vm`, {
            token: jwt,
            json: { roleArn: ROLE_ARN, name: 'vm-integration' },
          })
        ).status,
      ).toBe(200);
    });

    test('GIVEN an unknown id WHEN updating THEN 404', async () => {
      expect(
        (
          await http('PUT', '/partner-integration/aws/s3/4242/vm', {
            token: jwt,
            json: { roleArn: ROLE_ARN, name: 'x' },
          })
        ).status,
      ).toBe(404);
    });
  });

  describe('validate (PATCH)', () => {
    test('GIVEN the trust checker accepts WHEN validating THEN it saw the roleArn and current externalId, 200, integrationValidated true', async () => {
      const seen: Array<[string, string]> = [];
      sim.trustChecker = (roleArn, externalId) => {
        seen.push([roleArn, externalId]);
        return { ok: true };
      };
      const created = (await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })).json();
      const res = await http('PATCH', `/partner-integration/aws/s3/${created.integrationId}/vm/validate`, {
        token: jwt,
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ messsage: 'AWS S3 VM integration successfully validated.' });
      expect(seen).toEqual([[ROLE_ARN, created.externalId]]);
      expect(sim.integration('vm', created.integrationId)?.integrationValidated).toBe(true);
    });

    test('GIVEN the trust checker refuses WHEN validating THEN 400 naming the role and reason, still not validated', async () => {
      sim.trustChecker = () => ({ ok: false, reason: 'the trust policy lacks the external ID' });
      const created = (await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })).json();
      const res = await http('PATCH', `/partner-integration/aws/s3/${created.integrationId}/vm/validate`, {
        token: jwt,
      });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({
        messsage: `Unable to assume role ${ROLE_ARN} with the provided external ID: the trust policy lacks the external ID`,
      });
      expect(sim.integration('vm', created.integrationId)?.integrationValidated).toBe(false);
    });

    test('GIVEN an unknown id WHEN validating THEN 404', async () => {
      expect((await http('PATCH', '/partner-integration/aws/s3/77/vm/validate', { token: jwt })).status).toBe(404);
    });
  });

  test('GIVEN an integration WHEN deleting it twice THEN 200 messsage, then 404', async () => {
    const { integrationId } = (
      await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })
    ).json();
    const res = await http('DELETE', `/partner-integration/aws/s3/${integrationId}/vm`, { token: jwt });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ messsage: 'AWS S3 VM integration successfully deleted.' });
    expect(sim.integrations('vm')).toEqual([]);
    expect((await http('DELETE', `/partner-integration/aws/s3/${integrationId}/vm`, { token: jwt })).status).toBe(404);
  });
});

describe('PC integrations', () => {
  let jwt: string;
  beforeEach(async () => {
    jwt = await token();
  });

  test('GIVEN the guide body WHEN registering THEN 200 with the PC details, compressData defaulting to true', async () => {
    const res = await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody() });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      integrationId: 1,
      name: 'pc-integration',
      compressData: true,
      bucketName: 'qualys-pc-data',
      bucketRegion: 'ap-south-1',
      roleArn: 'arn:aws:iam::123456789012:role/qualys-pc-role',
      externalId: expect.stringMatching(EXTERNAL_ID),
      integrationValidated: false,
    });
  });

  test.each<[string, Record<string, unknown>]>([
    ['a VM-only field', { minSeverity: 3 }],
    ['regenerateExternalId', { regenerateExternalId: false }],
    ['compressData as a number', { compressData: 1 }],
    ['no roleArn', { roleArn: undefined }],
  ])('GIVEN %s WHEN registering THEN 400', async (_case, overrides) => {
    expect((await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody(overrides) })).status).toBe(
      400,
    );
  });

  test('GIVEN a PC integration WHEN registering its name again THEN 409', async () => {
    await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody() });
    expect((await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody() })).status).toBe(409);
  });

  test('GIVEN a PC integration WHEN updated, validated and deleted THEN the PC messsages come back', async () => {
    const { integrationId: id, externalId } = (
      await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody() })
    ).json();
    const put = await http('PUT', `/partner-integration/aws/s3/${id}/pc`, {
      token: jwt,
      json: { ...pcBody({ compressData: false }), regenerateExternalId: true },
    });
    expect(put.json()).toEqual({ messsage: 'AWS S3 PC integration successfully updated.' });
    expect(sim.integration('pc', id)).toMatchObject({ compressData: false, integrationValidated: false });
    expect(sim.integration('pc', id)?.externalId).not.toBe(externalId);
    expect(
      (await http('PUT', `/partner-integration/aws/s3/${id}/pc`, { token: jwt, json: pcBody({ sendAlerts: false }) }))
        .status,
    ).toBe(400);
    const patch = await http('PATCH', `/partner-integration/aws/s3/${id}/pc/validate`, { token: jwt });
    expect(patch.json()).toEqual({ messsage: 'AWS S3 PC integration successfully validated.' });
    const list = await http('GET', '/partner-integration/aws/s3/pc', { token: jwt });
    expect(list.json()).toEqual([expect.objectContaining({ integrationId: id, integrationValidated: true })]);
    const del = await http('DELETE', `/partner-integration/aws/s3/${id}/pc`, { token: jwt });
    expect(del.json()).toEqual({ messsage: 'AWS S3 PC integration successfully deleted.' });
  });
});

describe('CIPS', () => {
  let jwt: string;
  beforeEach(async () => {
    jwt = await token();
  });

  test('GIVEN nothing configured WHEN reading the config THEN 404 "No CIPS configuration found"', async () => {
    const res = await http('GET', '/pcas/cips/config', { token: jwt });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ messsage: 'No CIPS configuration found' });
  });

  test('GIVEN policies in the guide shape WHEN added THEN 202 text, and the config lists them sorted', async () => {
    const res = await http('POST', '/pcas/cips/config/policy', {
      token: jwt,
      json: [{ policy: [4771746, 3606517, 4342692, 1109776] }],
    });
    expect(res.status).toBe(202);
    expect(res.text).toBe('Policy added successfully.');
    const config = await http('GET', '/pcas/cips/config', { token: jwt });
    expect(config.status).toBe(200);
    expect(config.json()).toEqual({
      subscriptionId: 3068,
      policy: [1109776, 3606517, 4342692, 4771746],
      lastUpdated: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/),
    });
  });

  test.each<[string, unknown]>([
    ['a bare object', { policy: [1] }],
    ['two objects', [{ policy: [1] }, { policy: [2] }]],
    ['ids as strings', [{ policy: ['1'] }]],
    ['a zero id', [{ policy: [0] }]],
    ['a negative id', [{ policy: [-5] }]],
    ['a fractional id', [{ policy: [1.5] }]],
    ['an empty list', [{ policy: [] }]],
    ['a repeated id', [{ policy: [7, 7] }]],
    ['an extra field', [{ policy: [1], name: 'x' }]],
    ['"policies" instead of "policy"', [{ policies: [1] }]],
  ])('GIVEN %s WHEN adding policies THEN 400', async (_case, body) => {
    expect((await http('POST', '/pcas/cips/config/policy', { token: jwt, json: body })).status).toBe(400);
    expect(sim.cips().policies).toEqual([]);
  });

  test('GIVEN a policy already added WHEN adding it again with others THEN 400 naming it, and nothing is added', async () => {
    await http('POST', '/pcas/cips/config/policy', { token: jwt, json: [{ policy: [11] }] });
    const res = await http('POST', '/pcas/cips/config/policy', { token: jwt, json: [{ policy: [12, 11] }] });
    expect(res.status).toBe(400);
    expect(res.json().messsage).toContain('11');
    expect(sim.cips().policies).toEqual([11]);
  });

  test('GIVEN 99 policies WHEN adding 2 more THEN 400 (max 100); adding 1 succeeds', async () => {
    sim.seedCips({ policies: Array.from({ length: 99 }, (_, i) => i + 1) });
    expect(
      (await http('POST', '/pcas/cips/config/policy', { token: jwt, json: [{ policy: [500, 501] }] })).status,
    ).toBe(400);
    expect((await http('POST', '/pcas/cips/config/policy', { token: jwt, json: [{ policy: [500] }] })).status).toBe(
      202,
    );
    expect(sim.cips().policies).toHaveLength(100);
  });

  test('GIVEN policies WHEN deleting one present and one absent THEN 400 naming the absent one; deleting present ones gives 202', async () => {
    sim.seedCips({ policies: [1, 2, 3] });
    const bad = await http('DELETE', '/pcas/cips/config/policy', { token: jwt, json: [{ policy: [2, 9] }] });
    expect(bad.status).toBe(400);
    expect(bad.json().messsage).toContain('9');
    expect(sim.cips().policies).toEqual([1, 2, 3]);
    const ok = await http('DELETE', '/pcas/cips/config/policy', { token: jwt, json: [{ policy: [2, 3] }] });
    expect(ok.status).toBe(202);
    expect(ok.text).toBe('Policy deleted successfully.');
    expect(sim.cips().policies).toEqual([1]);
    expect((await http('DELETE', '/pcas/cips/config/policy', { token: jwt, json: { policy: [1] } })).status).toBe(400);
  });

  test('GIVEN no filter WHEN creating one THEN 200 with the filter; creating again THEN 409; PUT updates it', async () => {
    const created = await http('POST', '/pcas/cips/config', { token: jwt, json: [filter()] });
    expect(created.status).toBe(200);
    expect(created.json()).toEqual({ subscriptionId: 3068, ...filter(), lastUpdated: expect.any(String) });
    expect((await http('POST', '/pcas/cips/config', { token: jwt, json: [filter()] })).status).toBe(409);
    const updated = await http('PUT', '/pcas/cips/config', {
      token: jwt,
      json: [filter({ includeFailPosture: false })],
    });
    expect(updated.status).toBe(200);
    expect(updated.json()).toMatchObject({ includeFailPosture: false });
    const config = await http('GET', '/pcas/cips/config', { token: jwt });
    expect(config.json()).toEqual({
      subscriptionId: 3068,
      policy: [],
      ...filter({ includeFailPosture: false }),
      lastUpdated: expect.any(String),
    });
    expect(sim.cips()).toEqual({ policies: [], filter: filter({ includeFailPosture: false }) });
  });

  test('GIVEN no filter WHEN updating it THEN 404', async () => {
    expect((await http('PUT', '/pcas/cips/config', { token: jwt, json: [filter()] })).status).toBe(404);
  });

  test.each<[string, unknown]>([
    ['a bare object', filter()],
    ['a missing field', [{ includeEvidenceData: false, includeFailPosture: true, includePassPosture: true }]],
    ['a string value', [filter({ includePassPosture: 'true' })]],
    ['an extra field', [filter({ policy: [1] })]],
  ])('GIVEN %s WHEN creating the filter THEN 400', async (_case, body) => {
    expect((await http('POST', '/pcas/cips/config', { token: jwt, json: body })).status).toBe(400);
    expect(sim.cips().filter).toBeUndefined();
  });
});

describe('routing', () => {
  test.each([
    ['GET', '/nope'],
    ['GET', '/partner-integration/aws/s3/sh'],
    ['PATCH', '/partner-integration/aws/s3/vm'],
    ['GET', '/partner-integration/aws/s3/1/vm/validate'],
    ['GET', '/pcas/cips/config/policy'],
    ['GET', '/auth'],
  ])('GIVEN %s %s WHEN requested THEN 404 JSON', async (method, path) => {
    const res = await http(method, path, { token: await token() });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ messsage: expect.any(String) });
  });
});

describe('rate limiting', () => {
  test('GIVEN a limit of 3 per window WHEN a 4th call comes THEN 429 with the Qualys headers; /auth is exempt; the next window is open', async () => {
    let now = 1_700_000_000_000;
    await startSim({ now: () => now, rateLimit: { limit: 3, windowMs: 60_000 } });
    const jwt = await token();
    for (let i = 0; i < 3; i++) {
      const ok = await http('GET', '/partner-integration/aws/s3/vm', { token: jwt });
      expect(ok.status).toBe(200);
      expect(ok.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    now += 15_000;
    const limited = await http('GET', '/partner-integration/aws/s3/vm', { token: jwt });
    expect(limited.status).toBe(429);
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.headers['x-ratelimit-towait-sec']).toBe('45');
    expect(limited.json()).toEqual({ messsage: expect.any(String) });
    expect((await login()).status).toBe(200);
    now += 45_000;
    expect((await http('GET', '/partner-integration/aws/s3/vm', { token: jwt })).status).toBe(200);
  });
});

describe('fault injection', () => {
  test('GIVEN an HTML 503 fault for one call WHEN listing twice THEN an HTML page, then the normal answer', async () => {
    const jwt = await token();
    sim.inject({ method: 'GET', path: '/partner-integration/aws/s3/vm', html: true });
    const first = await http('GET', '/partner-integration/aws/s3/vm', { token: jwt });
    expect(first.status).toBe(503);
    expect(first.headers['content-type']).toBe('text/html');
    expect(first.text).toMatch(/<title>503 Service (Temporarily )?Unavailable<\/title>/);
    expect((await http('GET', '/partner-integration/aws/s3/vm', { token: jwt })).status).toBe(200);
  });

  test('GIVEN a regex fault with times, status, body and headers WHEN matching calls arrive THEN it is consumed in order and skips non-matching calls', async () => {
    const jwt = await token();
    sim.inject({
      method: 'POST',
      path: /\/s3\/(vm|pc)$/,
      times: 2,
      status: 429,
      body: '{"messsage":"slow down"}',
      headers: { 'X-RateLimit-ToWait-Sec': '2' },
    });
    expect((await http('GET', '/partner-integration/aws/s3/vm', { token: jwt })).status).toBe(200);
    const a = await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() });
    expect(a.status).toBe(429);
    expect(a.headers['x-ratelimit-towait-sec']).toBe('2');
    expect(a.json()).toEqual({ messsage: 'slow down' });
    expect((await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody() })).status).toBe(429);
    expect((await http('POST', '/partner-integration/aws/s3/pc', { token: jwt, json: pcBody() })).status).toBe(200);
    expect(sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN a reset fault WHEN calling THEN the connection drops without an answer and the call is logged with status 0', async () => {
    const jwt = await token();
    sim.inject({ path: '/partner-integration/aws/s3/vm', reset: true });
    await expect(http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })).rejects.toThrow();
    expect(sim.calls.at(-1)).toMatchObject({ method: 'POST', path: '/partner-integration/aws/s3/vm', status: 0 });
    expect(sim.integrations('vm')).toEqual([]);
  });

  test('GIVEN a delay-only fault WHEN calling THEN the answer is normal but late', async () => {
    const jwt = await token();
    sim.inject({ path: '/partner-integration/aws/s3/vm', delayMs: 120 });
    const started = Date.now();
    const res = await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  test('GIVEN faults WHEN cleared THEN calls are handled normally', async () => {
    sim.inject({ status: 500, times: 10 });
    sim.clearFaults();
    expect((await login()).status).toBe(200);
  });

  test('GIVEN latencyMs WHEN calling THEN every response is delayed', async () => {
    await startSim({ latencyMs: 80 });
    const started = Date.now();
    expect((await login()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
  });
});

describe('inspection and seeding', () => {
  test('GIVEN calls with ids WHEN counting THEN ids are replaced by {id}; resetCalls() empties the log', async () => {
    const jwt = await token();
    const { integrationId } = (
      await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })
    ).json();
    await http('GET', `/partner-integration/aws/s3/${integrationId}/vm`, { token: jwt });
    await http('GET', '/partner-integration/aws/s3/99/vm', { token: jwt });
    await http('PATCH', `/partner-integration/aws/s3/${integrationId}/vm/validate`, { token: jwt });
    expect(sim.callCounts()).toEqual({
      'POST /auth': 1,
      'POST /partner-integration/aws/s3/vm': 1,
      'GET /partner-integration/aws/s3/{id}/vm': 2,
      'PATCH /partner-integration/aws/s3/{id}/vm/validate': 1,
    });
    const post = sim.calls.find((c) => c.method === 'POST' && c.path === '/partner-integration/aws/s3/vm');
    expect(post).toMatchObject({ status: 200, body: vmBody(), authorization: `Bearer ${jwt}` });
    sim.resetCalls();
    expect(sim.calls).toEqual([]);
  });

  test('GIVEN a seeded leftover integration WHEN listing THEN it is there with defaults, and new IDs do not collide', async () => {
    const seeded = sim.seedIntegration('vm', { integrationId: 40, name: 'leftover', roleArn: ROLE_ARN });
    expect(seeded).toMatchObject({
      integrationId: 40,
      name: 'leftover',
      minSeverity: 3,
      baseCategory: 'Confirmed',
      externalId: expect.stringMatching(EXTERNAL_ID),
    });
    const jwt = await token();
    expect((await http('GET', '/partner-integration/aws/s3/vm', { token: jwt })).json()).toEqual([seeded]);
    expect(
      (await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody({ name: 'leftover' }) })).status,
    ).toBe(409);
    const created = (await http('POST', '/partner-integration/aws/s3/vm', { token: jwt, json: vmBody() })).json();
    expect(created.integrationId).toBe(41);
    const pc = sim.seedIntegration('pc', {});
    expect(pc).toEqual({
      integrationId: 42,
      name: expect.any(String),
      compressData: true,
      bucketName: expect.any(String),
      bucketRegion: 'us-east-1',
      roleArn: expect.any(String),
      externalId: expect.stringMatching(EXTERNAL_ID),
      integrationValidated: false,
    });
  });

  test('GIVEN the inspection copies WHEN a test mutates them THEN the simulator state is untouched', async () => {
    const seeded = sim.seedIntegration('vm', { name: 'x' });
    sim.integrations('vm')[0].name = 'changed';
    sim.cips().policies.push(1);
    expect(sim.integration('vm', seeded.integrationId)?.name).toBe('x');
    expect(sim.cips().policies).toEqual([]);
  });
});

describe('stop()', () => {
  test('GIVEN an open keep-alive connection and a long pending delay WHEN stopping THEN it resolves promptly and the port refuses', async () => {
    const jwt = await token();
    sim.inject({ path: '/partner-integration/aws/s3/vm', delayMs: 30_000 });
    const pending = http('GET', '/partner-integration/aws/s3/vm', { token: jwt }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await sim.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
    await expect(request(`${base}/auth`, { method: 'POST' })).rejects.toThrow();
    base = await sim.start();
  });
});
