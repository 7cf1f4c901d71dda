import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  CONNECTOR_RESOURCE_TYPE,
  ConnectorAttr,
  type ConnectorApiKind,
  type ConnectorModule,
} from '../core/connector-contract';
import { connectorProperties } from '../core/connector-properties';
import type { CloudViewRole } from './cloudview-role';
import type { IntegrationProvider } from './integration-provider';

export interface CloudViewConnectorProps {
  readonly provider: IntegrationProvider;
  readonly role: CloudViewRole;
  readonly api: ConnectorApiKind;
  /** The host the connector API is called on (pinned in the handler's environment). */
  readonly apiUrl: string;
  /** Name or ARN of the Secrets Manager secret holding {"username","password"}. */
  readonly credentialsSecret: string;
  readonly name: string;
  /**
   * @default ''
   */
  readonly description?: string;
  readonly modules: readonly ConnectorModule[];
  readonly pollingHours: number;
  readonly remediation: boolean;
  readonly adoptExisting: boolean;
  /** How long to wait, at most, for Qualys to report that it could assume the role. */
  readonly validationTimeoutSeconds: number;
  readonly awsAccountId: string;
  readonly partition: string;
}

/**
 * The account's Qualys CloudView / TotalCloud connector as a custom resource: created (after a
 * search: our own leftover adopted, a foreign one refused) once the role exists, run once and
 * waited on until Qualys could assume the role; updated in place; deleted on destroy.
 */
export class CloudViewConnector extends Construct {
  readonly connectorId: string;
  readonly connectorName: string;

  constructor(scope: Construct, id: string, props: CloudViewConnectorProps) {
    super(scope, id);
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: props.provider.serviceToken,
      resourceType: CONNECTOR_RESOURCE_TYPE,
      properties: connectorProperties({
        api: props.api,
        apiUrl: props.apiUrl,
        secretId: props.credentialsSecret,
        name: props.name,
        description: props.description ?? '',
        roleArn: props.role.role.roleArn,
        externalId: props.role.externalId,
        awsAccountId: props.awsAccountId,
        partition: props.partition,
        modules: props.modules,
        pollingHours: props.pollingHours,
        remediation: props.remediation,
        adoptExisting: props.adoptExisting,
        validationTimeoutSeconds: props.validationTimeoutSeconds,
      }),
    });
    // Qualys assumes the role at once: its trust and permissions must be in place first.
    resource.node.addDependency(props.role);
    this.connectorId = resource.getAttString(ConnectorAttr.ConnectorId);
    this.connectorName = resource.getAttString(ConnectorAttr.ConnectorName);
  }
}
