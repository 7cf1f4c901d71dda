/**
 * The connector custom resource's properties, as one schema: the construct writes them with
 * {@link connectorProperties} and the handler reads them back with {@link parseConnectorProperties}
 * (as ./resource-properties.ts does for the S3 integration). Every value travels as a string.
 */
import * as z from 'zod/mini';
import {
  CONNECTOR_APIS,
  CONNECTOR_MODULES,
  type ConnectorModule,
  ConnectorProp,
  type ConnectorSpec,
} from './connector-contract';
import { PropertiesError } from './errors';

type PropName = (typeof ConnectorProp)[keyof typeof ConnectorProp];

const missing = (key: PropName) => `"${key}" is missing`;
const requiredText = (key: PropName) => z.string(missing(key)).check(z.minLength(1, missing(key)));
const optionalText = z.transform((value: unknown) => (typeof value === 'string' ? value : ''));
const flag = z.transform((value: unknown) => value === 'true' || value === true);
const positive = (key: PropName) =>
  z.pipe(
    z.transform((value: unknown) => Number(value)),
    z
      .number(`"${key}" must be a positive number`)
      .check(z.refine((n: number) => n > 0, `"${key}" must be a positive number`)),
  );

const modules = z.pipe(
  z.string(missing(ConnectorProp.Modules)),
  z.transform((text: string, payload) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      !value.every((m) => (CONNECTOR_MODULES as readonly unknown[]).includes(m))
    ) {
      payload.issues.push({
        code: 'custom',
        input: text,
        message: `"${ConnectorProp.Modules}" must be a JSON list of ${CONNECTOR_MODULES.join(', ')}`,
      });
      return z.NEVER;
    }
    return value as ConnectorModule[];
  }),
);

const shape = {
  [ConnectorProp.Api]: z.enum(CONNECTOR_APIS, `"${ConnectorProp.Api}" must be ${CONNECTOR_APIS.join(' or ')}`),
  [ConnectorProp.ApiUrl]: requiredText(ConnectorProp.ApiUrl),
  [ConnectorProp.CredentialsSecretId]: requiredText(ConnectorProp.CredentialsSecretId),
  [ConnectorProp.ConnectorName]: requiredText(ConnectorProp.ConnectorName),
  [ConnectorProp.Description]: optionalText,
  [ConnectorProp.RoleArn]: requiredText(ConnectorProp.RoleArn),
  [ConnectorProp.ExternalId]: requiredText(ConnectorProp.ExternalId),
  [ConnectorProp.AwsAccountId]: requiredText(ConnectorProp.AwsAccountId),
  [ConnectorProp.Partition]: requiredText(ConnectorProp.Partition),
  [ConnectorProp.Modules]: modules,
  [ConnectorProp.PollingHours]: positive(ConnectorProp.PollingHours),
  [ConnectorProp.Remediation]: flag,
  [ConnectorProp.AdoptExisting]: flag,
  [ConnectorProp.ValidationTimeoutSeconds]: positive(ConnectorProp.ValidationTimeoutSeconds),
} satisfies Record<PropName, z.core.SomeType>;

/** The properties as CloudFormation carries them: every value a string (or a token that resolves to one). */
export type ConnectorProperties = { readonly [K in keyof typeof shape]: string };

/** What the construct writes: the spec, with the timeout in seconds. */
export type ConnectorPropertiesInput = Omit<ConnectorSpec, 'validationTimeoutMs'> & {
  readonly validationTimeoutSeconds: number;
};

const schema = z.pipe(
  z.object(shape),
  z.transform(
    (p): ConnectorSpec => ({
      api: p[ConnectorProp.Api],
      apiUrl: p[ConnectorProp.ApiUrl],
      secretId: p[ConnectorProp.CredentialsSecretId],
      name: p[ConnectorProp.ConnectorName],
      description: p[ConnectorProp.Description],
      roleArn: p[ConnectorProp.RoleArn],
      externalId: p[ConnectorProp.ExternalId],
      awsAccountId: p[ConnectorProp.AwsAccountId],
      partition: p[ConnectorProp.Partition],
      modules: p[ConnectorProp.Modules],
      pollingHours: p[ConnectorProp.PollingHours],
      remediation: p[ConnectorProp.Remediation],
      adoptExisting: p[ConnectorProp.AdoptExisting],
      validationTimeoutMs: p[ConnectorProp.ValidationTimeoutSeconds] * 1000,
    }),
  ),
);

/** Reads the properties CloudFormation sent; throws a {@link PropertiesError} listing every problem. */
export function parseConnectorProperties(props: Record<string, unknown> | undefined): ConnectorSpec {
  const result = z.safeParse(schema, props ?? {});
  if (result.success) return result.data;
  throw new PropertiesError(
    `The connector's properties are not as the construct sends them: ${result.error.issues.map((i) => i.message).join('; ')}`,
  );
}

/** The properties the construct writes for `input`: the inverse of {@link parseConnectorProperties}. */
export function connectorProperties(input: ConnectorPropertiesInput): ConnectorProperties {
  return {
    [ConnectorProp.Api]: input.api,
    [ConnectorProp.ApiUrl]: input.apiUrl,
    [ConnectorProp.CredentialsSecretId]: input.secretId,
    [ConnectorProp.ConnectorName]: input.name,
    [ConnectorProp.Description]: input.description,
    [ConnectorProp.RoleArn]: input.roleArn,
    [ConnectorProp.ExternalId]: input.externalId,
    [ConnectorProp.AwsAccountId]: input.awsAccountId,
    [ConnectorProp.Partition]: input.partition,
    [ConnectorProp.Modules]: JSON.stringify(input.modules),
    [ConnectorProp.PollingHours]: String(input.pollingHours),
    [ConnectorProp.Remediation]: String(input.remediation),
    [ConnectorProp.AdoptExisting]: String(input.adoptExisting),
    [ConnectorProp.ValidationTimeoutSeconds]: String(input.validationTimeoutSeconds),
  };
}
