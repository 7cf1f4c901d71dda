/**
 * The tolerant readers, fed the guide's own samples and the other shapes the guide allows.
 */
import {
  describeShape,
  isHtml,
  qualysMessage,
  readCipsAnswer,
  readCipsConfig,
  readDetails,
  readIntegrationAnswer,
  readIntegrationPage,
  readListAnswer,
  readValidationAnswer,
  saysAlreadyPresent,
} from '../../../src/core/qualys/answers';
import type { HttpResponse } from '../../../src/core/qualys/transport';

const answer = (status: number, body: string, headers: HttpResponse['headers'] = {}): HttpResponse => ({
  status,
  headers,
  body,
});

/** The guide's PC "Get Details" sample (l.838-845): no integrationId, no externalId. */
const GUIDE_PC_DETAILS = {
  name: 'Customer Name or integration name',
  compressData: true,
  bucketName: 'qualys-pc-data',
  bucketRegion: 'us-east-1',
  roleArn: 'arn:aws:iam::xxxxxxx:role/policy-role',
  integrationValidated: true,
};

/** The guide's VM "Get Details" sample (l.573-598), abridged to the fields that matter here. */
const GUIDE_VM_DETAILS = {
  integrationId: 9,
  customerId: 71,
  bucketName: 'qualys-vm-data',
  bucketRegion: 'us-east-1',
  name: 'vm one',
  externalId: 'US_POD_1-71-abc',
  roleArn: 'arn:aws:iam::123456789012:role/r',
  integrationValidated: false,
};

describe('integration lists', () => {
  test("GIVEN the guide's single-object answer WHEN read THEN it is a list of one, even without an ID", () => {
    const page = readIntegrationPage(GUIDE_PC_DETAILS);
    expect(page?.reading).toBe('one object');
    expect(page?.entries).toHaveLength(1);
    expect(page?.entries[0]).toMatchObject({
      name: GUIDE_PC_DETAILS.name,
      integrationId: undefined,
      externalId: undefined,
    });
  });

  test.each(['data', 'content', 'items', 'integrations', 'results'])(
    'GIVEN entries wrapped in "%s" WHEN read THEN they are found',
    (key) => {
      const page = readIntegrationPage({ [key]: [GUIDE_VM_DETAILS, { ...GUIDE_VM_DETAILS, integrationId: 10 }] });
      expect(page?.entries.map((e) => e.integrationId)).toEqual(['9', '10']);
      expect(page?.page.more).toBe(false);
    },
  );

  test('GIVEN a Spring page that is not the last WHEN read THEN it says more follow, with its index and size', () => {
    const page = readIntegrationPage({
      content: [GUIDE_VM_DETAILS],
      last: false,
      number: 0,
      size: 1,
      totalPages: 3,
      first: true,
    });
    expect(page?.page).toMatchObject({ more: true, index: 0, size: 1 });
    expect(page?.reading).toBe('{content: [...]} pages');
  });

  test('GIVEN the last Spring page WHEN read THEN no more follow', () => {
    expect(readIntegrationPage({ content: [], last: true, number: 2, totalPages: 3 })?.page.more).toBe(false);
  });

  test('GIVEN a nested page {data: {content, last: false}} WHEN read THEN the entries and the paging are found', () => {
    const page = readIntegrationPage({ data: { content: [GUIDE_VM_DETAILS], last: false, number: 0 } });
    expect(page?.entries).toHaveLength(1);
    expect(page?.page.more).toBe(true);
  });

  test('GIVEN hasMoreRecords or a next link WHEN read THEN more follow', () => {
    expect(readIntegrationPage({ data: [GUIDE_VM_DETAILS], hasMoreRecords: 'true' })?.page.more).toBe(true);
    expect(
      readIntegrationPage({ items: [GUIDE_VM_DETAILS], next: '/partner-integration/aws/s3/vm?pageNo=2' })?.page.link,
    ).toBe('/partner-integration/aws/s3/vm?pageNo=2');
  });

  test('GIVEN an empty object, null or an empty array WHEN read THEN the list is empty', () => {
    expect(readIntegrationPage({})?.entries).toEqual([]);
    expect(readIntegrationPage(null)?.entries).toEqual([]);
    expect(readIntegrationPage([])?.entries).toEqual([]);
  });

  test('GIVEN an object of no known shape or a string WHEN read THEN it is unreadable, not empty', () => {
    expect(readIntegrationPage({ payload: 'eyJ...' })).toBeUndefined();
    expect(readIntegrationPage('a string')).toBeUndefined();
  });
});

describe('details', () => {
  test('GIVEN the prose spelling externalID and an id key WHEN read THEN both are normalised', () => {
    expect(readDetails({ id: 12, externalID: 'US_POD_1-71-x', name: 'n' })).toMatchObject({
      integrationId: '12',
      externalId: 'US_POD_1-71-x',
    });
  });

  test('GIVEN booleans as strings WHEN read THEN they are booleans', () => {
    expect(readDetails({ integrationValidated: 'true', compressData: 'false' })).toMatchObject({
      integrationValidated: true,
      compressData: false,
    });
  });

  test('GIVEN a GET by ID without an ID in the answer WHEN read with the asked ID THEN that ID is used', () => {
    expect(readDetails(GUIDE_PC_DETAILS, '7').integrationId).toBe('7');
  });
});

describe('validation answers', () => {
  test("GIVEN the guide's success message WHEN read THEN validated", () => {
    const body = { messsage: 'AWS S3 VM integration successfully validated.' };
    expect(readValidationAnswer(body, JSON.stringify(body))).toBe('validated');
  });

  test.each([
    [{ messsage: 'Validation failed: unable to assume role' }],
    [{ messsage: 'Could not put the test file' }],
    [{ integrationValidated: false, messsage: 'Done' }],
  ])('GIVEN a 2xx answer %j WHEN read THEN failed', (body) => {
    expect(readValidationAnswer(body, JSON.stringify(body))).toBe('failed');
  });

  test('GIVEN an answer that says nothing either way WHEN read THEN unclear (a read-back decides)', () => {
    expect(readValidationAnswer(undefined, '')).toBe('unclear');
    expect(readValidationAnswer({ messsage: 'Request processed' }, '')).toBe('unclear');
  });
});

describe('CIPS configuration', () => {
  const FLAGS = {
    includeEvidenceData: false,
    includeFailPosture: true,
    includePassPosture: true,
    includeErrorPosture: true,
  };

  test('GIVEN flags at the top and a "policy" list WHEN read THEN both are found', () => {
    const r = readCipsConfig({ subscriptionId: 1, policy: [4771746], ...FLAGS, lastUpdated: 'x' });
    expect(r).toMatchObject({ readable: true, policies: [4771746], filter: FLAGS });
  });

  test('GIVEN policies as objects and a nested filter WHEN read THEN both are found', () => {
    const r = readCipsConfig({ policies: [{ id: 1, title: 'CIS' }, { policyId: '2' }], filter: FLAGS });
    expect(r).toMatchObject({ readable: true, policies: [1, 2], filter: FLAGS });
  });

  test('GIVEN the object wrapped in an array or in data WHEN read THEN it is found', () => {
    expect(readCipsConfig([{ policyList: [3], ...FLAGS }])).toMatchObject({ readable: true, policies: [3] });
    expect(readCipsConfig({ data: { policyIds: [4] } })).toMatchObject({
      readable: true,
      policies: [4],
      filter: undefined,
    });
  });

  test('GIVEN an object that hides its content under unknown keys WHEN read THEN it is unreadable, not "nothing configured"', () => {
    expect(readCipsConfig({ config: 'eyJwb2xpY3kiOlsxXX0=' }).readable).toBe(false);
    expect(readCipsConfig({ policies: [{ title: 'no id' }] }).readable).toBe(false);
    expect(readCipsConfig({ filter: { includeEvidenceData: 'maybe' }, policy: [] }).readable).toBe(false);
  });

  test('GIVEN only bookkeeping fields WHEN read THEN nothing is configured', () => {
    const r = readCipsConfig({ subscriptionId: 1, lastUpdated: 'x' });
    expect(r).toMatchObject({ readable: true, policies: [] });
    expect(r.readable && r.filter).toBeUndefined();
  });

  test('GIVEN add answers WHEN they say the policy is there already THEN that is recognised', () => {
    expect(saysAlreadyPresent('Policy 4771746 already added to CIPS')).toBe(true);
    expect(saysAlreadyPresent('Policy already exists')).toBe(true);
    expect(saysAlreadyPresent('Invalid policy id')).toBe(false);
  });
});

describe('answers with their status', () => {
  test.each([
    [204, '', 'HTTP 204 for none'],
    [404, '{"messsage":"not found"}', 'HTTP 404 for none'],
    [200, '  ', 'an empty answer'],
  ])('GIVEN a list answered %d %j WHEN read THEN it is no integrations, read as "%s"', (status, body, reading) => {
    expect(readListAnswer(answer(status, body))).toEqual({ entries: [], reading, page: { more: false } });
  });

  test('GIVEN a list answer of no known shape WHEN read THEN it is undefined, never an empty list', () => {
    expect(readListAnswer(answer(200, '{"payload":"x"}'))).toBeUndefined();
  });

  test.each(['<html><body>Scheduled maintenance</body></html>', '[{"integrationId": 12', 'OK'])(
    'GIVEN a 200 list answer that is not JSON (%j) WHEN read THEN it is undefined, never an empty list',
    (body) => {
      expect(readListAnswer(answer(200, body))).toBeUndefined();
    },
  );

  test("GIVEN the guide's PC details, which carry no ID WHEN read by ID THEN the ID asked for is the one answered", () => {
    expect(readIntegrationAnswer(answer(200, JSON.stringify(GUIDE_PC_DETAILS)), '17')).toMatchObject({
      integrationId: '17',
      name: 'Customer Name or integration name',
    });
    expect(readIntegrationAnswer(answer(200, '{"data":{"id":9}}'), '17')?.integrationId).toBe('9');
    expect(readIntegrationAnswer(answer(200, 'not json'), '17')).toBeUndefined();
  });

  test('GIVEN Get Filter Details answered 204, 404 or empty WHEN read THEN nothing is configured; text is unreadable', () => {
    expect(readCipsAnswer(answer(404, '{"messsage":"No CIPS configuration found"}'))).toEqual({
      readable: true,
      policies: [],
      reading: 'HTTP 404 for none',
    });
    expect(readCipsAnswer(answer(204, ''))).toMatchObject({ readable: true, policies: [] });
    expect(readCipsAnswer(answer(200, 'Policies: 101, 102'))).toMatchObject({ readable: false });
  });
});

describe("Qualys's words", () => {
  test("GIVEN the guide's messsage (three s) or another message field WHEN read THEN those words are taken", () => {
    expect(qualysMessage(answer(400, '{"messsage":"bucketName is required"}'))).toBe('bucketName is required');
    expect(qualysMessage(answer(400, '{"errors":[{"field":"name"}]}'))).toBe('[{"field":"name"}]');
  });

  test("GIVEN an HTML error page WHEN read THEN its title is the words, and it is known for a proxy's page", () => {
    const page = answer(503, '<html><head><title>503 Service Unavailable</title></head><body>x</body></html>');
    expect(qualysMessage(page)).toBe('503 Service Unavailable');
    expect(isHtml(page)).toBe(true);
    expect(isHtml(answer(404, '', { 'content-type': 'text/html; charset=utf-8' }))).toBe(true);
    expect(isHtml(answer(404, '{"messsage":"not found"}', { 'content-type': 'application/json' }))).toBe(false);
  });

  test('GIVEN a very long answer WHEN read THEN the words are cut to 300 characters', () => {
    const words = qualysMessage(answer(500, 'x'.repeat(1000)));
    expect(words).toHaveLength(300);
    expect(words.endsWith('...')).toBe(true);
  });

  test('GIVEN answers of several shapes WHEN described THEN the keys and types are named, never the values', () => {
    expect(describeShape('{"payload":"secret-value","total":3}')).toBe('an object with keys payload, total');
    expect(describeShape('[1,2]')).toBe('an array of 2');
    expect(describeShape('oops')).toBe('not JSON, 4 characters');
    expect(describeShape('"text"')).toBe('string');
  });
});
