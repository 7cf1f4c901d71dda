/**
 * Every operation's method and path against the guide
 * (shared/reference/qualys-s3-integration-guide.txt, lines cited; shared/reference/guide-audit.md
 * section 1 lists the same operations), and the bodies the guide's samples show.
 */
import { AUTH_STEP, type QualysRequest, endpoints } from '../../../src/core/qualys/endpoints';

const FILTER = {
  includeEvidenceData: false,
  includeFailPosture: true,
  includePassPosture: true,
  includeErrorPosture: true,
};

describe('the guide operations table', () => {
  test.each<[string, QualysRequest, string, string]>([
    // Generate a JWT Token (l.326-327, l.921-922)
    ['Generate a JWT Token', endpoints.authenticate('u', 'p'), 'POST', '/auth'],
    // Register/Onboard an Integration (VM l.348-349, PC l.670-671)
    ['VM register', endpoints.register('vm', { name: 'n' }), 'POST', '/partner-integration/aws/s3/vm'],
    ['PC register', endpoints.register('pc', { name: 'n' }), 'POST', '/partner-integration/aws/s3/pc'],
    // Validate an Integration (VM l.409-410, PC l.705-706)
    ['VM validate', endpoints.validate('vm', '42'), 'PATCH', '/partner-integration/aws/s3/42/vm/validate'],
    ['PC validate', endpoints.validate('pc', '42'), 'PATCH', '/partner-integration/aws/s3/42/pc/validate'],
    // Update an Integration (VM l.440-441, PC l.736-737)
    ['VM update', endpoints.update('vm', '42', { name: 'n' }), 'PUT', '/partner-integration/aws/s3/42/vm'],
    ['PC update', endpoints.update('pc', '42', { name: 'n' }), 'PUT', '/partner-integration/aws/s3/42/pc'],
    // Get Details of an Integration, by ID and without (VM l.552-567, PC l.817-832)
    ['VM details by ID', endpoints.getIntegration('vm', '42'), 'GET', '/partner-integration/aws/s3/42/vm'],
    ['PC details by ID', endpoints.getIntegration('pc', '42'), 'GET', '/partner-integration/aws/s3/42/pc'],
    ['VM details without ID', endpoints.listIntegrations('vm'), 'GET', '/partner-integration/aws/s3/vm'],
    ['PC details without ID', endpoints.listIntegrations('pc'), 'GET', '/partner-integration/aws/s3/pc'],
    // De-Register/Delete an Integration (VM l.604-605, PC l.852-853)
    ['VM delete', endpoints.delete('vm', '42'), 'DELETE', '/partner-integration/aws/s3/42/vm'],
    ['PC delete', endpoints.delete('pc', '42'), 'DELETE', '/partner-integration/aws/s3/42/pc'],
    // CIPS (table l.909-915)
    ['Add a Policy (l.947-948)', endpoints.addCipsPolicies([1]), 'POST', '/pcas/cips/config/policy'],
    ['Delete a Policy, table (l.972-973)', endpoints.removeCipsPolicies([1]), 'DELETE', '/pcas/cips/config/policy'],
    ['Delete a Policy, curl (l.978-979)', endpoints.removeCipsPolicies([1], true), 'DELETE', '/pcas/cips/config'],
    ['Create Filter Configuration (l.996-997)', endpoints.createCipsFilter(FILTER), 'POST', '/pcas/cips/config'],
    ['Update the Filter Configuration (l.1029-1030)', endpoints.updateCipsFilter(FILTER), 'PUT', '/pcas/cips/config'],
    ['Get Filter Details (l.1062-1063)', endpoints.getCipsConfig(), 'GET', '/pcas/cips/config'],
  ])('GIVEN the guide\'s "%s" WHEN its request is built THEN it is %s %s', (_name, request, method, path) => {
    expect(request.method).toBe(method);
    expect(request.path).toBe(path);
  });
});

describe('request builders', () => {
  test('GIVEN credentials WHEN the JWT request is built THEN it carries the form fields of l.332-336 and no JSON', () => {
    const request = endpoints.authenticate('qualys-user', 'p@ss&=');
    expect(request.form).toEqual({ username: 'qualys-user', password: 'p@ss&=', token: 'true' });
    expect(request.json).toBeUndefined();
    expect(request.step).toBe(AUTH_STEP);
  });

  test('GIVEN an integration ID with characters a path cannot hold WHEN a request is built THEN the ID is one encoded segment', () => {
    expect(endpoints.update('vm', '4/2?x', {}).path).toBe('/partner-integration/aws/s3/4%2F2%3Fx/vm');
    expect(endpoints.validate('pc', 'a b').path).toBe('/partner-integration/aws/s3/a%20b/pc/validate');
  });

  test('GIVEN a page past the first WHEN the list request is built THEN it asks by pageNo and keeps the page size', () => {
    expect(endpoints.listIntegrations('vm', { pageNo: 2, pageSize: 50 }).path).toBe(
      '/partner-integration/aws/s3/vm?pageNo=2&pageSize=50',
    );
    expect(endpoints.listIntegrations('pc', { pageNo: 1 }).path).toBe('/partner-integration/aws/s3/pc?pageNo=1');
  });

  test("GIVEN policies WHEN they are added or removed THEN the body is the guide's array of one object (l.958-959)", () => {
    expect(endpoints.addCipsPolicies([4771746, 2]).json).toEqual([{ policy: [4771746, 2] }]);
    expect(endpoints.removeCipsPolicies([7]).json).toEqual([{ policy: [7] }]);
    expect(endpoints.removeCipsPolicies([7], true).json).toEqual([{ policy: [7] }]);
  });

  test('GIVEN a filter read back with extra fields WHEN it is sent THEN only the four flags of l.1008-1010 go', () => {
    const readBack = { ...FILTER, subscriptionId: 3068, lastUpdated: 'x' };
    expect(endpoints.createCipsFilter(readBack).json).toEqual([FILTER]);
    expect(endpoints.updateCipsFilter(readBack).json).toEqual([FILTER]);
  });

  test('GIVEN a register or update body WHEN the request is built THEN it is sent as given, and the step names the integration', () => {
    const body = { name: 'env-vm', bucketName: 'b', roleArn: 'arn:aws:iam::1:role/r' };
    expect(endpoints.register('vm', body)).toEqual({
      step: 'Register the VM integration "env-vm"',
      method: 'POST',
      path: '/partner-integration/aws/s3/vm',
      json: body,
    });
    expect(endpoints.update('pc', '9', body).step).toBe('Update PC integration 9');
  });

  test('GIVEN the calls without a body (GET, validate, delete) WHEN built THEN they carry none', () => {
    for (const request of [
      endpoints.listIntegrations('vm'),
      endpoints.getIntegration('vm', '1'),
      endpoints.validate('vm', '1'),
      endpoints.delete('vm', '1'),
      endpoints.getCipsConfig(),
    ]) {
      expect(request.json).toBeUndefined();
      expect(request.form).toBeUndefined();
    }
  });
});
