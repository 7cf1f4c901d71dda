/**
 * Break-it pass over the custom resource's properties schema (issue 11: "shared by the
 * construct and the handler"): who reads through it, and whether the configuration and the
 * handler agree on what a valid property is.
 */
import { parseConfig } from '../../src/config/config';
import { Prop } from '../../src/core/contract';
import { parseProperties as lifecycleReader } from '../../src/core/lifecycle/lifecycle';
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

test("GIVEN the handler's lifecycle WHEN it reads the properties THEN it reads them through the shared schema, not a second hand-written reader", () => {
  expect(lifecycleReader).toBe(schemaReader);
});

test.each([
  ['26 astral characters (52 UTF-16 units)', '😀'.repeat(26)],
  ['50 ASCII characters', 'n'.repeat(50)],
  ['51 ASCII characters', 'n'.repeat(51)],
])(
  'GIVEN a vm name of %s WHEN the configuration and then the handler read it THEN they agree whether it fits',
  (_w, name) => {
    const accepts = (read: () => unknown) => {
      try {
        read();
        return true;
      } catch {
        return false;
      }
    };
    const config = { environments: { dev: { platform: 'US1', credentialsSecret: 'q', vm: { name } } } };

    expect(accepts(() => schemaReader(wired(name)))).toBe(accepts(() => parseConfig(config)));
  },
);

test.each([
  ['Infinity', 'Infinity'],
  ['1e400', '1e400'],
  ['NaN', 'NaN'],
  ['a negative number', '-1'],
])(
  'GIVEN ValidationTimeoutSeconds %s WHEN read by either reader THEN both refuse it, naming the property',
  (_w, value) => {
    const props = { ...wired('n'), [Prop.ValidationTimeoutSeconds]: value };

    expect(() => schemaReader(props)).toThrow(/"ValidationTimeoutSeconds" must be a positive number/);
    expect(() => lifecycleReader(props)).toThrow(/"ValidationTimeoutSeconds" must be a positive number/);
  },
);

test('GIVEN an extra property and a 1 MB property WHEN read THEN the extra one is ignored and the reader answers at once', () => {
  const props = { ...wired('n'), Extra: 'x', [Prop.TrustPolicyFingerprint]: 'f'.repeat(1_000_000) };

  const started = Date.now();
  expect(schemaReader(props).trustFingerprint).toHaveLength(1_000_000);
  expect(Date.now() - started).toBeLessThan(500);
});
