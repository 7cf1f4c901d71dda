/**
 * The connector APIs behind one interface (./api.ts): Connectors 3.0 (./connectors-v3.ts) and
 * the CloudView REST API (./cloudview.ts), chosen by the configuration's `api`.
 */
import type { ConnectorApiKind } from '../../connector-contract';
import type { ConnectorApi } from './api';
import type { ConnectorClientOptions } from './base';
import { CloudViewConnectors } from './cloudview';
import { ConnectorsV3 } from './connectors-v3';

export type * from './api';
export type { ConnectorClientOptions } from './base';
export { CloudViewConnectors } from './cloudview';
export { ConnectorsV3 } from './connectors-v3';

export function connectorApi(kind: ConnectorApiKind, options: ConnectorClientOptions): ConnectorApi {
  return kind === 'cloudview' ? new CloudViewConnectors(options) : new ConnectorsV3(options);
}
