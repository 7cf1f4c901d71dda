/**
 * What both connector clients share: a Basic-authentication session on the API server, the
 * readings they note, and the create that is never repeated blindly.
 */
import type { ConnectorApiKind } from '../../connector-contract';
import { IntegrationError, QualysApiError, QualysNetworkError } from '../../errors';
import type { Logger } from '../../log';
import { QualysSession, type QualysSessionOptions, isAuthStep } from '../session';
import type { Connector, ConnectorFields } from './api';

/** What a connector client is built from: the session's options, with the API server's URL. */
export type ConnectorClientOptions = Omit<
  QualysSessionOptions,
  'gatewayUrl' | 'auth' | 'tokenCache' | 'permissionHint'
> & {
  /** The platform's API server (`https://qualysapi...`), where both connector APIs live. */
  readonly apiUrl: string;
};

export const CONNECTOR_PERMISSION_HINT =
  'The Qualys user lacks permission: it needs API access and a role that may manage cloud connectors ' +
  '(CloudView / TotalCloud, or Connectors in AssetView / CSAM) for this subscription.';

/** A failure after which Qualys may or may not have acted: a timeout, a reset, a 5xx (or QPS's word for one). */
export function isAmbiguous(error: unknown): boolean {
  if (isAuthStep(error)) return false;
  if (error instanceof QualysNetworkError) return true;
  return error instanceof QualysApiError && !error.isRateLimit && error.status >= 500;
}

export abstract class ConnectorClientBase {
  protected readonly session: QualysSession;
  protected readonly log: Logger;
  readonly readings = new Map<string, string>();

  constructor(protected readonly options: ConnectorClientOptions) {
    this.log = options.log;
    this.session = new QualysSession({
      ...options,
      gatewayUrl: options.apiUrl,
      auth: 'basic',
      permissionHint: CONNECTOR_PERMISSION_HINT,
    });
  }

  abstract readonly kind: ConnectorApiKind;

  get origin(): string {
    return this.session.origin;
  }

  protected noteReading(topic: string, reading: string): void {
    if (this.readings.get(topic) === reading) return;
    this.readings.set(topic, reading);
    this.log.info('qualys.reading', { topic, reading });
  }

  /** The connector of these fields, if Qualys lists one: same name, and no other account or role reported. */
  protected async findOwn(
    find: (q: { awsAccountId: string; name: string }) => Promise<Connector[]>,
    fields: ConnectorFields,
  ): Promise<Connector | undefined> {
    const listed = await find({ awsAccountId: fields.awsAccountId, name: fields.name });
    return listed.find(
      (c) =>
        c.name === fields.name &&
        (c.awsAccountId === undefined || c.awsAccountId === fields.awsAccountId) &&
        (c.roleArn === undefined || c.roleArn === fields.roleArn),
    );
  }

  /**
   * A create that is never repeated blindly. `send` makes one attempt: it answers the
   * connector, or `undefined` when Qualys's answer names no ID (the connector is then looked
   * up). After an ambiguous failure, the connectors of the name and account are searched
   * first; one found is the create that went through.
   */
  protected createOnce(
    step: string,
    fields: ConnectorFields,
    find: (q: { awsAccountId: string; name: string }) => Promise<Connector[]>,
    send: () => Promise<Connector | undefined>,
  ): Promise<Connector> {
    // A rate-limited create did nothing (the session waited out what it could): it may be sent again as it is.
    let unsure = false;
    const isRetryable = (e: unknown) => {
      // Sticky: once an attempt may have gone through, every later one searches first.
      unsure = unsure || isAmbiguous(e);
      return isAmbiguous(e) || (e instanceof QualysApiError && e.isRateLimit);
    };
    return this.session.retrying(step, isRetryable, async (attempt) => {
      if (attempt > 1 && unsure) {
        const existing = await this.findOwn(find, fields);
        if (existing) {
          this.log.info('connector.create-went-through', { connectorId: existing.id, name: fields.name });
          return existing;
        }
      }
      const created = await send();
      if (created) return created;
      this.noteReading(`${this.kind} create answer`, 'no ID');
      const listed = await this.findOwn(find, fields);
      if (!listed) {
        throw new IntegrationError(
          `${step}: Qualys answered without a connector ID, and no connector named "${fields.name}" for AWS account ` +
            `${fields.awsAccountId} is listed. Check the Qualys UI for it before you deploy again.`,
        );
      }
      return listed;
    });
  }
}

/** The create/update fields' polling interval as Qualys's hours and minutes. */
export function hoursAndMinutes(hours: number): { hours: number; minutes: number } {
  const whole = Math.floor(hours);
  return { hours: whole, minutes: Math.round((hours - whole) * 60) };
}
