/**
 * The custom resource's properties, as one schema: the construct writes them with
 * {@link resourceProperties} and the handler reads them back with {@link parseProperties}.
 * Both sides take their property names from the schema's shape, so a property renamed,
 * added or dropped on one side fails to compile on the other.
 *
 * CloudFormation hands every property to the Lambda as a string: structured values travel as
 * JSON, booleans as "true"/"false", numbers as their decimal text. This module ships in the
 * Lambda bundle, hence zod/mini (a few KB) rather than zod.
 */
import * as z from 'zod/mini';
import {
  type CipsSettings,
  INTEGRATION_KINDS,
  type IntegrationKind,
  MAX_INTEGRATION_NAME_LENGTH,
  type PcSettings,
  Prop,
  type VmSettings,
} from './contract';
import { PropertiesError } from './errors';

/** What one custom resource manages, read from its properties. */
export interface IntegrationSpec {
  readonly kind: IntegrationKind;
  readonly gatewayUrl: string;
  readonly secretId: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly principalArn: string;
  readonly bucketName: string;
  readonly bucketRegion: string;
  readonly name: string;
  readonly defaultName: string;
  readonly settings: VmSettings | PcSettings;
  readonly cips: CipsSettings;
  readonly rotation: string;
  readonly adoptExisting: boolean;
  readonly validationTimeoutMs: number;
  readonly trustFingerprint: string;
}

/** What the construct writes: the spec's fields, with the timeout in seconds and CIPS optional (PC only). */
export type IntegrationPropertiesInput = Omit<IntegrationSpec, 'cips' | 'validationTimeoutMs'> & {
  readonly cips?: CipsSettings;
  readonly validationTimeoutSeconds: number;
};

type PropName = (typeof Prop)[keyof typeof Prop];

/** Used when the property is absent: resources created before it existed. */
const DEFAULT_VALIDATION_TIMEOUT_SECONDS = 600;

const missing = (key: PropName) => `"${key}" is missing`;

/** A property the handler cannot work without: a non-empty string. */
const requiredText = (key: PropName) => z.string(missing(key)).check(z.minLength(1, missing(key)));

/**
 * A property the handler can do without: anything but a string reads as ''. (z.catch would say
 * the same, but it pulls all of zod's utilities into the bundle.)
 */
const optionalText = z.transform((value: unknown) => (typeof value === 'string' ? value : ''));

/** What a JSON value is, in the words of an error message. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/**
 * A JSON-encoded value; its content is the configuration's business, checked at synth. With
 * `objectOnly`, the value must be a JSON object: the handler reads its fields by name.
 */
const jsonText = (key: PropName, objectOnly = false) =>
  z.pipe(
    z.string(missing(key)),
    z.transform((text: string, payload) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        payload.issues.push({ code: 'custom', message: `"${key}" is not JSON`, input: text });
        return z.NEVER;
      }
      if (objectOnly && (value === null || typeof value !== 'object' || Array.isArray(value))) {
        payload.issues.push({
          code: 'custom',
          message: `"${key}" must be a JSON object ({...}), got ${jsonKind(value)}`,
          input: text,
        });
        return z.NEVER;
      }
      return value;
    }),
  );

/** The most of a refused value an error message quotes: a message reaches CloudFormation, which takes 4 KB. */
const MAX_QUOTED_LENGTH = 100;

/** `value` in quotes, cut to {@link MAX_QUOTED_LENGTH} UTF-16 units (never inside a surrogate pair). */
function quoted(value: string): string {
  if (value.length <= MAX_QUOTED_LENGTH) return `"${value}"`;
  const end = /[\uD800-\uDBFF]/.test(value[MAX_QUOTED_LENGTH - 1]) ? MAX_QUOTED_LENGTH - 1 : MAX_QUOTED_LENGTH;
  return `"${value.slice(0, end)}…"`;
}

const timeoutMessage = `"${Prop.ValidationTimeoutSeconds}" must be a positive number`;

/**
 * The properties, keyed by their names in the contract. The keys' order is the order in which
 * problems are reported.
 */
const propertyShape = {
  [Prop.Kind]: z.pipe(
    requiredText(Prop.Kind),
    z.enum(INTEGRATION_KINDS, {
      error: (issue) => `"${Prop.Kind}" must be ${INTEGRATION_KINDS.join(' or ')}, got ${quoted(String(issue.input))}`,
    }),
  ),
  [Prop.IntegrationName]: requiredText(Prop.IntegrationName),
  [Prop.Settings]: jsonText(Prop.Settings, true),
  [Prop.Cips]: z.optional(jsonText(Prop.Cips)),
  [Prop.ValidationTimeoutSeconds]: z.pipe(
    // Number(), not a stricter parse: what the handler has always accepted ("  60 ", "6e2").
    z.transform((value: unknown) => Number(value ?? DEFAULT_VALIDATION_TIMEOUT_SECONDS)),
    z.number(timeoutMessage).check(z.refine((seconds: number) => seconds > 0, timeoutMessage)),
  ),
  [Prop.GatewayUrl]: requiredText(Prop.GatewayUrl),
  [Prop.CredentialsSecretId]: requiredText(Prop.CredentialsSecretId),
  [Prop.RoleArn]: requiredText(Prop.RoleArn),
  [Prop.RoleName]: requiredText(Prop.RoleName),
  [Prop.QualysPrincipalArn]: requiredText(Prop.QualysPrincipalArn),
  [Prop.BucketName]: requiredText(Prop.BucketName),
  [Prop.BucketRegion]: requiredText(Prop.BucketRegion),
  [Prop.DefaultIntegrationName]: optionalText,
  [Prop.ExternalIdRotation]: optionalText,
  [Prop.AdoptExisting]: z.transform((value: unknown) => value === 'true' || value === true),
  [Prop.TrustPolicyFingerprint]: optionalText,
} satisfies Record<PropName, z.core.SomeType>;

const REPORT_ORDER: readonly string[] = Object.keys(propertyShape);

type WireName = keyof typeof propertyShape;
/** Absent for a VM integration. */
type OptionalWireName = typeof Prop.Cips;

/** The properties as CloudFormation carries them: every value a string (or a token that resolves to one). */
export type ResourceProperties = { readonly [K in Exclude<WireName, OptionalWireName>]: string } & {
  readonly [K in OptionalWireName]?: string;
};

const propertiesSchema = z.pipe(
  z.object(propertyShape).check(
    z.check(
      (payload) => {
        const name = payload.value[Prop.IntegrationName];
        if (typeof name !== 'string' || name.length <= MAX_INTEGRATION_NAME_LENGTH) return;
        // The operator fixes this in the configuration, under the kind's section.
        const rawKind: unknown = payload.value[Prop.Kind];
        const kind = typeof rawKind === 'string' ? rawKind : '';
        payload.issues.push({
          code: 'custom',
          path: [Prop.IntegrationName],
          input: name,
          message: `the integration name ${quoted(name)} is ${name.length} characters; Qualys allows ${MAX_INTEGRATION_NAME_LENGTH}: set "${kind}.name" in the configuration`,
        });
      },
      // Also when other properties are wrong, so that every problem is reported at once.
      { when: () => true },
    ),
  ),
  z.transform((p): IntegrationSpec => {
    const cips = (p[Prop.Cips] === undefined ? { policies: [] } : p[Prop.Cips]) as Partial<CipsSettings> | null;
    return {
      kind: p[Prop.Kind],
      gatewayUrl: p[Prop.GatewayUrl],
      secretId: p[Prop.CredentialsSecretId],
      roleArn: p[Prop.RoleArn],
      roleName: p[Prop.RoleName],
      principalArn: p[Prop.QualysPrincipalArn],
      bucketName: p[Prop.BucketName],
      bucketRegion: p[Prop.BucketRegion],
      name: p[Prop.IntegrationName],
      defaultName: p[Prop.DefaultIntegrationName],
      settings: p[Prop.Settings] as VmSettings | PcSettings,
      cips: { policies: Array.isArray(cips?.policies) ? cips.policies : [], filter: cips?.filter },
      rotation: p[Prop.ExternalIdRotation],
      adoptExisting: p[Prop.AdoptExisting],
      validationTimeoutMs: p[Prop.ValidationTimeoutSeconds] * 1000,
      trustFingerprint: p[Prop.TrustPolicyFingerprint],
    };
  }),
);

/**
 * Reads the properties CloudFormation sent. Throws a {@link PropertiesError} that lists every
 * problem, each naming its property.
 */
export function parseProperties(props: Record<string, unknown> | undefined): IntegrationSpec {
  const result = z.safeParse(propertiesSchema, props ?? {});
  if (result.success) return result.data;
  const rank = (issue: z.core.$ZodIssue) => REPORT_ORDER.indexOf(String(issue.path[0]));
  // Stable: problems of one property keep the order in which they were found.
  const problems = [...result.error.issues].sort((a, b) => rank(a) - rank(b)).map((issue) => issue.message);
  throw new PropertiesError(
    `The custom resource's properties are not as the construct sends them: ${problems.join('; ')}`,
  );
}

/** The properties the construct writes for `input`: the inverse of {@link parseProperties}. */
export function resourceProperties(input: IntegrationPropertiesInput): ResourceProperties {
  return {
    [Prop.Kind]: input.kind,
    [Prop.GatewayUrl]: input.gatewayUrl,
    [Prop.CredentialsSecretId]: input.secretId,
    [Prop.RoleArn]: input.roleArn,
    [Prop.RoleName]: input.roleName,
    [Prop.QualysPrincipalArn]: input.principalArn,
    [Prop.BucketName]: input.bucketName,
    [Prop.BucketRegion]: input.bucketRegion,
    [Prop.IntegrationName]: input.name,
    [Prop.DefaultIntegrationName]: input.defaultName,
    [Prop.Settings]: JSON.stringify(input.settings),
    [Prop.ExternalIdRotation]: input.rotation,
    [Prop.AdoptExisting]: String(input.adoptExisting),
    [Prop.ValidationTimeoutSeconds]: String(input.validationTimeoutSeconds),
    [Prop.TrustPolicyFingerprint]: input.trustFingerprint,
    ...(input.cips ? { [Prop.Cips]: JSON.stringify(input.cips) } : {}),
  };
}
