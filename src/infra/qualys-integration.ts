import { createHash } from 'node:crypto';
import { CustomResource, Lazy, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  Attr,
  type CipsSettings,
  type IntegrationKind,
  type PcSettings,
  RESOURCE_TYPE,
  type VmSettings,
} from '../core/contract';
import { resourceProperties } from '../core/resource-properties';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IntegrationProvider } from './integration-provider';
import type { QualysAccessRole } from './qualys-role';

export interface QualysIntegrationProps {
  readonly kind: IntegrationKind;
  readonly provider: IntegrationProvider;
  readonly role: QualysAccessRole;
  /** The bucket Qualys writes findings into. */
  readonly bucketName: string;
  /** The bucket's region. */
  readonly bucketRegion: string;
  /** The policy that lets the role write findings into the bucket; in place before the integration validates. */
  readonly writePolicy: iam.IManagedPolicy;
  /** The Qualys API gateway, e.g. https://gateway.qg1.apps.qualys.com. */
  readonly gatewayUrl: string;
  /** Name or ARN of the Secrets Manager secret holding {"username","password"}. */
  readonly credentialsSecret: string;
  /** The integration's name in Qualys (at most 50 characters). */
  readonly name: string;
  /** This environment's default name; an existing integration of that name is adopted. */
  readonly defaultName: string;
  /** The register/update settings of this kind. */
  readonly settings: VmSettings | PcSettings;
  /**
   * CIPS policies and filter (PC only).
   * @default - none
   */
  readonly cips?: CipsSettings;
  /**
   * Any new value regenerates the external ID.
   * @default ''
   */
  readonly externalIdRotation?: string;
  /**
   * Take over an integration of the same name that does not evidently belong to this stack.
   * @default false
   */
  readonly adoptExisting?: boolean;
  /** How long to keep validating while IAM propagates the trust policy. */
  readonly validationTimeoutSeconds: number;
}

/**
 * One Qualys S3 integration (VM or PC) as a custom resource: registered on create, updated in
 * place on update, deregistered on delete. Only the properties the handler needs are passed,
 * each by name; never the credentials.
 */
export class QualysIntegration extends Construct {
  readonly integrationId: string;
  readonly integrationName: string;

  constructor(scope: Construct, id: string, props: QualysIntegrationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const role = props.role.role;
    const properties = resourceProperties({
      kind: props.kind,
      gatewayUrl: props.gatewayUrl,
      secretId: props.credentialsSecret,
      roleArn: role.roleArn,
      roleName: role.roleName,
      principalArn: props.role.qualysPrincipalArn,
      bucketName: props.bucketName,
      bucketRegion: props.bucketRegion,
      name: props.name,
      defaultName: props.defaultName,
      settings: props.settings,
      cips: props.cips,
      rotation: props.externalIdRotation ?? '',
      adoptExisting: props.adoptExisting ?? false,
      validationTimeoutSeconds: props.validationTimeoutSeconds,
      trustFingerprint: Lazy.string({
        produce: () =>
          createHash('sha256')
            .update(JSON.stringify(stack.resolve(role.assumeRolePolicy?.toJSON())))
            .digest('hex')
            .slice(0, 16),
      }),
    });

    const resource = new CustomResource(this, 'Resource', {
      serviceToken: props.provider.serviceToken,
      resourceType: RESOURCE_TYPE,
      properties,
    });
    // Qualys validates by assuming the role and writing a test file: the write permission
    // must be in place before the custom resource runs.
    resource.node.addDependency(props.writePolicy);
    resource.node.addDependency(role);
    this.integrationId = resource.getAttString(Attr.IntegrationId);
    this.integrationName = resource.getAttString(Attr.IntegrationName);
  }
}
