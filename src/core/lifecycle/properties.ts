/**
 * The custom resource's properties, checked and turned into the spec the lifecycle works on.
 * Moved here unchanged from lifecycle.ts; a schema-based replacement is on its way.
 */
import {
  type CipsSettings,
  INTEGRATION_KINDS,
  type IntegrationKind,
  MAX_INTEGRATION_NAME_LENGTH,
  type PcSettings,
  Prop,
  type VmSettings,
} from '../contract';
import { PropertiesError } from '../errors';

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

export function parseProperties(props: Record<string, unknown> | undefined): IntegrationSpec {
  const p = props ?? {};
  const problems: string[] = [];
  const str = (key: string): string => {
    const value = p[key];
    if (typeof value !== 'string' || value.length === 0) {
      problems.push(`"${key}" is missing`);
      return '';
    }
    return value;
  };
  const kind = str(Prop.Kind) as IntegrationKind;
  if (kind && !INTEGRATION_KINDS.includes(kind)) problems.push(`"${Prop.Kind}" must be vm or pc, got "${kind}"`);
  const name = str(Prop.IntegrationName);
  if (name.length > MAX_INTEGRATION_NAME_LENGTH) {
    problems.push(
      `the integration name "${name}" is ${name.length} characters; Qualys allows ${MAX_INTEGRATION_NAME_LENGTH}: set "${kind}.name" in the configuration`,
    );
  }
  const settings = json(p[Prop.Settings], Prop.Settings, problems) as VmSettings | PcSettings;
  const cips = (
    p[Prop.Cips] === undefined ? { policies: [] } : json(p[Prop.Cips], Prop.Cips, problems)
  ) as CipsSettings;
  const timeout = Number(p[Prop.ValidationTimeoutSeconds] ?? 600);
  if (!Number.isFinite(timeout) || timeout <= 0)
    problems.push(`"${Prop.ValidationTimeoutSeconds}" must be a positive number`);
  const spec: IntegrationSpec = {
    kind,
    gatewayUrl: str(Prop.GatewayUrl),
    secretId: str(Prop.CredentialsSecretId),
    roleArn: str(Prop.RoleArn),
    roleName: str(Prop.RoleName),
    principalArn: str(Prop.QualysPrincipalArn),
    bucketName: str(Prop.BucketName),
    bucketRegion: str(Prop.BucketRegion),
    name,
    defaultName: typeof p[Prop.DefaultIntegrationName] === 'string' ? (p[Prop.DefaultIntegrationName] as string) : '',
    settings,
    cips: { policies: Array.isArray(cips?.policies) ? cips.policies : [], filter: cips?.filter },
    rotation: typeof p[Prop.ExternalIdRotation] === 'string' ? (p[Prop.ExternalIdRotation] as string) : '',
    adoptExisting: p[Prop.AdoptExisting] === 'true' || p[Prop.AdoptExisting] === true,
    validationTimeoutMs: timeout * 1000,
    trustFingerprint:
      typeof p[Prop.TrustPolicyFingerprint] === 'string' ? (p[Prop.TrustPolicyFingerprint] as string) : '',
  };
  if (problems.length > 0) {
    throw new PropertiesError(
      `The custom resource's properties are not as the construct sends them: ${problems.join('; ')}`,
    );
  }
  return spec;
}

function json(value: unknown, key: string, problems: string[]): unknown {
  if (typeof value !== 'string') {
    problems.push(`"${key}" is missing`);
    return {};
  }
  try {
    return JSON.parse(value);
  } catch {
    problems.push(`"${key}" is not JSON`);
    return {};
  }
}
