/**
 * Break-it pass over the custom resource's properties schema (issue 11: "shared by the
 * construct and the handler"): what the schema refuses, and how much of a bad value its
 * message carries to CloudFormation.
 *
 * The lifecycle still has its own reader until its rewrite is merged (it then reads through
 * this schema), so these tests target the schema only. That the configuration counts a
 * name's length as the handler does is tested on the configuration's side
 * (test/config/config-edges.test.ts).
 */
import { Prop } from '../../src/core/contract';
import { parseProperties as schemaReader, resourceProperties } from '../../src/core/resource-properties';

const wired = (name: string) =>
  resourceProperties({
    kind: 'vm',
    gatewayUrl: 'https://gateway.qg1.apps.qualys.com',
    secretId: 'qualys/api-credentials',
    roleArn: 'arn:aws:iam::123456789012:role/r',
    roleName: 'r',
    principalArn: 'arn:aws:iam::805950163170:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE',
    bucketName: 'b',
    bucketRegion: 'us-east-1',
    name,
    defaultName: name,
    settings: { compressData: true },
    rotation: '',
    adoptExisting: false,
    validationTimeoutSeconds: 600,
    trustFingerprint: 'fp',
  });

test.each([
  ['26 astral characters (52 UTF-16 units)', false, '😀'.repeat(26)],
  ['25 astral characters (50 UTF-16 units)', true, '😀'.repeat(25)],
  ['50 ASCII characters', true, 'n'.repeat(50)],
  ['51 ASCII characters', false, 'n'.repeat(51)],
])(
  'GIVEN a vm name of %s WHEN the handler reads it THEN it fits: %s (counted in UTF-16 units, as the handler always has)',
  (_w, fits, name) => {
    if (fits) expect(schemaReader(wired(name)).name).toBe(name);
    else expect(() => schemaReader(wired(name))).toThrow(/Qualys allows 50/);
  },
);

test.each([
  ['null', 'null', 'null'],
  ['a number', '5', 'a number'],
  ['a string', '"x"', 'a string'],
  ['a list', '[]', 'a list'],
  ['a boolean', 'true', 'a boolean'],
])(
  'GIVEN Settings that are JSON but %s WHEN read THEN they are refused, naming Settings and what they are',
  (_w, settings, kind) => {
    const props = { ...wired('n'), [Prop.Settings]: settings };

    expect(() => schemaReader(props)).toThrow(
      new RegExp(`"Settings" must be a JSON object \\(\\{\\.\\.\\.\\}\\), got ${kind}$`),
    );
  },
);

test('GIVEN a 100 000-character name WHEN read THEN the message quotes at most 100 characters of it and still gives its length', () => {
  const name = 'n'.repeat(100_000);

  let message = '';
  try {
    schemaReader(wired(name));
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toContain(`the integration name "${'n'.repeat(100)}…" is 100000 characters; Qualys allows 50`);
  expect(message.length).toBeLessThan(400);
});

test('GIVEN a long name whose 100th unit starts an astral character WHEN quoted THEN the character is not cut in half', () => {
  const name = `${'n'.repeat(99)}${'😀'.repeat(10)}`;

  expect(() => schemaReader(wired(name))).toThrow(`the integration name "${'n'.repeat(99)}…" is 119 characters`);
});

test('GIVEN a 10 000-character kind WHEN read THEN the message quotes at most 100 characters of it', () => {
  const props = { ...wired('n'), [Prop.Kind]: 'k'.repeat(10_000) };

  expect(() => schemaReader(props)).toThrow(`"Kind" must be vm or pc, got "${'k'.repeat(100)}…"`);
});

test.each([
  ['Infinity', 'Infinity'],
  ['1e400', '1e400'],
  ['NaN', 'NaN'],
  ['a negative number', '-1'],
])('GIVEN ValidationTimeoutSeconds %s WHEN read THEN it is refused, naming the property', (_w, value) => {
  const props = { ...wired('n'), [Prop.ValidationTimeoutSeconds]: value };

  expect(() => schemaReader(props)).toThrow(/"ValidationTimeoutSeconds" must be a positive number/);
});

test('GIVEN an extra property and a 1 MB property WHEN read THEN the extra one is ignored and the reader answers at once', () => {
  const props = { ...wired('n'), Extra: 'x', [Prop.TrustPolicyFingerprint]: 'f'.repeat(1_000_000) };

  const started = Date.now();
  expect(schemaReader(props).trustFingerprint).toHaveLength(1_000_000);
  expect(Date.now() - started).toBeLessThan(500);
});
