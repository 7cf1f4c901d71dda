/**
 * Break-review of issue 13: the gateway pin for the connector resource (ApiUrl). The Delete of a
 * connector left behind on a former platform may reach Qualys's own hosts for it; which hosts
 * those are follows from how the configuration derives `cloudView.apiUrl` (src/config/rules.ts
 * connectorApiUrl: qualysapi.* for connectors-v3, qualysguard.* for cloudview, as the README says).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { QUALYS_PLATFORMS, connectorApiUrl } from '../../src/config/config';
import { CONNECTOR_RESOURCE_TYPE, ConnectorProp } from '../../src/core/connector-contract';
import { checkGatewayPin } from '../../src/handler/gateway-pin';

const event = (type: 'Create' | 'Delete', apiUrl: string, api: string) =>
  ({
    ServiceToken: 'x',
    ResponseURL: 'https://example.invalid/r',
    StackId: 'stack',
    RequestId: 'r',
    LogicalResourceId: 'CloudViewConnector',
    ResourceType: CONNECTOR_RESOURCE_TYPE,
    RequestType: type,
    ...(type === 'Delete' ? { PhysicalResourceId: `${api}:1@${new URL(apiUrl).host}` } : {}),
    ResourceProperties: { ServiceToken: 'x', [ConnectorProp.ApiUrl]: apiUrl, [ConnectorProp.Api]: api },
  }) as unknown as CloudFormationCustomResourceEvent;

// The environment moved from US2 to US1: only US1's hosts are pinned now.
const US1 = QUALYS_PLATFORMS.US1;
const US2 = QUALYS_PLATFORMS.US2;

test('GIVEN a connectors-v3 connector on the API server derived for US2 WHEN the environment moved to US1 and CloudFormation deletes the old one THEN the Delete proceeds (a Qualys host)', () => {
  const old = connectorApiUrl('connectors-v3', US2)!;
  const pinned = [US1, connectorApiUrl('connectors-v3', US1)!];
  expect(checkGatewayPin(event('Delete', old, 'connectors-v3'), pinned)).toEqual({ proceed: true });
});

test('GIVEN a cloudview connector on the host derived for US2 (qualysguard.*) WHEN the environment moved to US1 and CloudFormation deletes the old one THEN the Delete proceeds, as it does for connectors-v3 (else the old connector is orphaned)', () => {
  const old = connectorApiUrl('cloudview', US2)!;
  expect(old).toBe('https://qualysguard.qg2.apps.qualys.com');
  const pinned = [US1, connectorApiUrl('cloudview', US1)!];
  expect(checkGatewayPin(event('Delete', old, 'cloudview'), pinned)).toEqual({ proceed: true });
});

test.each(['connectors-v3', 'cloudview'])(
  'GIVEN a %s Create naming a former platform host (not pinned) WHEN checked THEN it is refused: only a Delete may reach a former platform',
  (api) => {
    const old = connectorApiUrl(api as 'cloudview', US2)!;
    const pinned = [US1, connectorApiUrl(api as 'cloudview', US1)!];
    expect(() => checkGatewayPin(event('Create', old, api), pinned)).toThrow(
      /ApiUrl .* is not an API server this stack was deployed with/,
    );
  },
);

test('GIVEN a connector Delete naming an attacker host WHEN checked THEN it does not proceed (answered without sending credentials)', () => {
  const pinned = [US1, connectorApiUrl('connectors-v3', US1)!];
  expect(
    checkGatewayPin(event('Delete', 'https://qualysapi.qualys.com.attacker.example', 'connectors-v3'), pinned),
  ).toMatchObject({
    proceed: false,
  });
});
