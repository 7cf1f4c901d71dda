import { TrustPolicyError } from '../../src/core/errors';
import {
  type PolicyDocument,
  externalIdsFor,
  parsePolicy,
  samePolicy,
  statementsWithoutExternalId,
  withExternalIds,
} from '../../src/core/trust-policy';
import { QUALYS_ROLE_ARN as QUALYS, pendingTrust } from '../support/fixtures';

const pendingPolicy = (): PolicyDocument => pendingTrust('vm');

describe('withExternalIds', () => {
  test('GIVEN the pending policy WHEN the real external ID is applied THEN only that ID is trusted', () => {
    const next = withExternalIds(pendingPolicy(), QUALYS, ['US_POD_1-71-abc']);
    expect(next.Statement[0].Condition).toEqual({ StringEquals: { 'sts:ExternalId': 'US_POD_1-71-abc' } });
    expect(externalIdsFor(next, QUALYS)).toEqual(['US_POD_1-71-abc']);
  });

  test('GIVEN a rotated ID WHEN applied THEN the old ID is no longer trusted', () => {
    const first = withExternalIds(pendingPolicy(), QUALYS, ['old-id']);
    const rotated = withExternalIds(first, QUALYS, ['new-id']);
    expect(externalIdsFor(rotated, QUALYS)).toEqual(['new-id']);
  });

  test('GIVEN other statements and condition keys WHEN applied THEN they are kept untouched', () => {
    const policy = pendingPolicy();
    policy.Statement[0].Condition = {
      StringEquals: { 'sts:ExternalId': 'x', 'aws:PrincipalTag/team': 'sec' },
      Bool: { 'aws:SecureTransport': 'true' },
    };
    policy.Statement.push({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' });
    const next = withExternalIds(policy, QUALYS, ['id-1']);
    expect(next.Statement[0].Condition).toEqual({
      StringEquals: { 'sts:ExternalId': 'id-1', 'aws:PrincipalTag/team': 'sec' },
      Bool: { 'aws:SecureTransport': 'true' },
    });
    expect(next.Statement[1]).toEqual(policy.Statement[1]);
  });

  test('GIVEN two IDs WHEN applied THEN both are listed', () => {
    const next = withExternalIds(pendingPolicy(), QUALYS, ['a', 'b']);
    expect(next.Statement[0].Condition?.StringEquals['sts:ExternalId']).toEqual(['a', 'b']);
  });

  test('GIVEN no external ID WHEN applied THEN it refuses to open the role', () => {
    expect(() => withExternalIds(pendingPolicy(), QUALYS, [])).toThrow(/without an external ID/);
    expect(() => withExternalIds(pendingPolicy(), QUALYS, [''])).toThrow(TrustPolicyError);
  });

  test('GIVEN a policy that no longer trusts Qualys WHEN applied THEN it fails and says how to restore it', () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'x' }, Action: 'sts:AssumeRole' }],
    };
    expect(() => withExternalIds(policy, QUALYS, ['id'])).toThrow(
      /no statement that lets .*QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE.*cdk deploy/,
    );
  });

  test('GIVEN the input WHEN applied THEN the input document is not mutated', () => {
    const policy = pendingPolicy();
    withExternalIds(policy, QUALYS, ['id']);
    expect(policy).toEqual(pendingPolicy());
  });
});

describe('parsePolicy and samePolicy', () => {
  test('GIVEN a single statement object WHEN parsed THEN Statement becomes a list', () => {
    const doc = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: pendingPolicy().Statement[0] }));
    expect(doc.Statement).toHaveLength(1);
  });

  test('GIVEN invalid JSON WHEN parsed THEN a TrustPolicyError names the problem', () => {
    expect(() => parsePolicy('{')).toThrow(/not valid JSON/);
  });

  test('GIVEN the same policy with keys in another order THEN they are the same', () => {
    const a = pendingPolicy();
    const b = JSON.parse(JSON.stringify({ Statement: a.Statement, Version: a.Version }));
    expect(samePolicy(a, b)).toBe(true);
    expect(samePolicy(a, withExternalIds(a, QUALYS, ['other']))).toBe(false);
  });
});

describe('statementsWithoutExternalId', () => {
  const doc = (statements: object[]): PolicyDocument => ({
    Version: '2012-10-17',
    Statement: statements as PolicyDocument['Statement'],
  });
  const allow = (principal: unknown, extra: object = {}) => ({
    Effect: 'Allow',
    Principal: principal,
    Action: 'sts:AssumeRole',
    ...extra,
  });

  test.each([
    ['the Qualys role itself', { AWS: QUALYS }],
    ['the Qualys account ID', { AWS: '805950163170' }],
    ['the Qualys account root', { AWS: 'arn:aws:iam::805950163170:root' }],
    ['any AWS principal', { AWS: '*' }],
    ['everyone', '*'],
    ['a list including the Qualys role', { AWS: ['arn:aws:iam::111111111111:root', QUALYS] }],
  ])('GIVEN a statement admitting %s without a condition THEN it is found', (_what, principal) => {
    expect(statementsWithoutExternalId(doc([allow(principal)]), QUALYS)).toHaveLength(1);
  });

  test('GIVEN statements that require an external ID, deny, or admit someone else THEN none is found', () => {
    const policy = doc([
      allow({ AWS: QUALYS }, { Condition: { StringEquals: { 'sts:ExternalId': 'US_POD_1-71-x' } } }),
      allow({ AWS: '805950163170' }, { Condition: { StringLike: { 'STS:EXTERNALID': 'US_POD_1-71-36da0dcf' } } }),
      { Effect: 'Deny', Principal: { AWS: QUALYS }, Action: 'sts:AssumeRole' },
      allow({ AWS: 'arn:aws:iam::111111111111:root' }),
      allow({ Service: 'lambda.amazonaws.com' }),
      allow({ AWS: QUALYS }, { Action: 'sts:TagSession' }),
    ]);
    expect(statementsWithoutExternalId(policy, QUALYS)).toEqual([]);
  });

  test.each([
    ['StringLike "*"', { StringLike: { 'sts:ExternalId': '*' } }],
    ['StringLike with a wildcard (any customer of the pod)', { StringLike: { 'sts:ExternalId': 'US_POD_1-*' } }],
    ['StringEqualsIfExists (true when no ID is sent)', { StringEqualsIfExists: { 'sts:ExternalId': 'US_POD_1-71-x' } }],
    ['StringNotEquals', { StringNotEquals: { 'sts:ExternalId': 'US_POD_1-71-x' } }],
    ['an empty list', { StringEquals: { 'sts:ExternalId': [] } }],
  ])('GIVEN an external-ID condition that admits any caller (%s) THEN the statement is open', (_what, condition) => {
    expect(statementsWithoutExternalId(doc([allow({ AWS: QUALYS }, { Condition: condition })]), QUALYS)).toHaveLength(
      1,
    );
  });

  test('GIVEN a condition on something other than the external ID THEN the statement is still open', () => {
    const policy = doc([allow({ AWS: QUALYS }, { Condition: { Bool: { 'aws:SecureTransport': 'true' } } })]);
    expect(statementsWithoutExternalId(policy, QUALYS)).toHaveLength(1);
  });
});
