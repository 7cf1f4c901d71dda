/**
 * One interface over the two Qualys APIs that register an AWS account as a CloudView /
 * TotalCloud connector (shared/reference/qualys-connector-apis.md): Connectors 3.0 (QPS,
 * ./connectors-v3.ts) and the CloudView REST API (./cloudview.ts). The lifecycle speaks only
 * this interface; each module maps it to its API's paths, envelopes and readings.
 *
 * Both APIs live on the platform's API server (`https://qualysapi...`) and take HTTP Basic
 * authentication; the credentials go there and nowhere else (a next-page link to another
 * host is refused by the session).
 */
import type { ConnectorApiKind, ConnectorModule, ConnectorSpec } from '../../connector-contract';

/** What this project sets on a connector: the configuration, in this project's words. */
export type ConnectorFields = Pick<
  ConnectorSpec,
  | 'name'
  | 'description'
  | 'roleArn'
  | 'externalId'
  | 'awsAccountId'
  | 'partition'
  | 'modules'
  | 'pollingHours'
  | 'remediation'
>;

/**
 * A connector as Qualys reports it, in this project's words. Every field but the ID may be
 * absent: neither API documents its answers fully, and what an answer leaves out is unknown,
 * never "empty" or "false".
 */
export interface Connector {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly awsAccountId?: string;
  readonly roleArn?: string;
  readonly externalId?: string;
  /** Qualys's word for it: PENDING, QUEUED, RUNNING, PROCESSING, SUCCESS, FINISHED_SUCCESS, FINISHED_ERRORS, ERROR, ... */
  readonly state?: string;
  readonly lastSync?: string;
  readonly nextSync?: string;
  readonly pollingHours?: number;
  readonly remediation?: boolean;
  readonly modules?: readonly ConnectorModule[];
  readonly disabled?: boolean;
  /** An error the connector itself carries (CloudView's `error`, QPS's `lastError`). */
  readonly error?: string;
  /** The answer's own fields, for putting an adopted connector back as it was. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** One entry of a connector's error list. */
export interface ConnectorErrorEntry {
  readonly message: string;
  readonly code?: string;
  readonly region?: string;
  readonly service?: string;
}

export type ErrorsReading =
  | { readonly readable: true; readonly errors: readonly ConnectorErrorEntry[]; readonly reading: string }
  | { readonly readable: false; readonly reading: string };

/** One failing control of the evaluations API. */
export interface FailingControl {
  readonly controlId: string;
  readonly controlName?: string;
  readonly criticality?: string;
  readonly service?: string;
  readonly policyName?: string;
  readonly failedResources?: number;
}

export interface EvaluationSummary {
  readonly passed: number;
  readonly failed: number;
  /** The failing controls, most critical first (then most failed resources), at most the number asked for. */
  readonly worstFailing: readonly FailingControl[];
}

export type EvaluationsReading =
  | { readonly readable: true; readonly summary: EvaluationSummary }
  | { readonly readable: false; readonly reading: string };

/** What a run request came to. `refused`: Qualys answered it with a 4xx (one already running, say), in its words. */
export type RunOutcome =
  | { readonly outcome: 'started' }
  | { readonly outcome: 'absent' }
  | { readonly outcome: 'refused'; readonly message: string };

export interface ConnectorQuery {
  readonly awsAccountId?: string;
  readonly name?: string;
}

export interface ConnectorApi {
  readonly kind: ConnectorApiKind;
  /** The API server every call goes to. */
  readonly origin: string;
  /**
   * The connectors for the AWS account and those of the name (either, or both: their union).
   * @throws UnreadableAnswerError where a list cannot be read: never "none" on the strength of it
   */
  find(query: ConnectorQuery): Promise<Connector[]>;
  /** The connector, or undefined when Qualys says it does not exist. */
  get(id: string): Promise<Connector | undefined>;
  /**
   * Creates a connector, never twice: after an answer that leaves it unknown whether Qualys
   * acted (timeout, 5xx, reset), the connectors of the name and account are searched before
   * anything is sent again. A rate-limited create (Qualys did nothing) is waited out.
   */
  create(fields: ConnectorFields): Promise<Connector>;
  /** Sets the fields on the connector in place; `absent` when Qualys no longer knows it. */
  update(id: string, fields: ConnectorFields): Promise<'updated' | 'absent'>;
  /** Puts back fields as Qualys reported them (an adopted connector undone); `absent` when it is gone. */
  restore(id: string, raw: Readonly<Record<string, unknown>>): Promise<'updated' | 'absent'>;
  /** Deletes the connector; one already gone counts as done (`absent`). */
  delete(id: string): Promise<'deleted' | 'absent'>;
  /** Asks Qualys to run the connector now. */
  run(id: string): Promise<RunOutcome>;
  /** The connector's error list; `readable: false` when the answer could not be read (never "no errors"). */
  errors(id: string): Promise<ErrorsReading>;
  /** The account's control evaluations, summed up (the CloudView evaluations API, for either kind). */
  evaluations(awsAccountId: string, options?: { readonly worst?: number }): Promise<EvaluationsReading>;
  /** The same client (credentials, what it learnt of the API) with other deadlines, for cleanup. */
  withDeadlines(deadline: number, requestDeadline?: number): ConnectorApi;
  /** The reading met per answer ("CloudView version": "v1"), for operators. */
  readonly readings: ReadonlyMap<string, string>;
}
