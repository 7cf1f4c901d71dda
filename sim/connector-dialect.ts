/**
 * Dialects of the Qualys connector simulator (./qualys-connectors.ts): one field per place
 * where the sources of the two AWS connector APIs allow more than one reading of what the
 * service accepts or answers. The sources:
 *
 * - "guide l.N": a line of /work/shared/reference/qualys-cloudview-guide.txt (CloudView
 *   APIs, l.743-1010: the API table l.783-797, Examples 1-4 l.803-1009).
 * - "ref §N": a section of /work/shared/reference/qualys-connector-apis.md (§1 CloudView
 *   REST, with the 2021 Swagger and other reports; §2 Connectors 3.0 (QPS); §3 the role).
 *
 * Where a source speaks, the default follows it; where the sources disagree or are silent,
 * the default takes the first reading named in the field's comment, and the other values
 * are there so that one client can be run against every reading. `DEFAULT_CONNECTOR_DIALECT`
 * is that default ('reference'); 'unforgiving' takes, wherever the sources allow a choice,
 * the reading hardest for a client.
 */

export interface ConnectorDialect {
  // ---- CloudView REST (ref §1) ---------------------------------------------------------------

  /**
   * The `<version>` in `/cloudview-api/rest/<version>/aws/...`: the guide's `1.5` (every path
   * of the table, guide l.786-797), the 2021 Swagger's `v1` (ref §1), or both. A version not
   * served answers 404.
   */
  cloudViewVersions: '1.5' | 'v1' | 'both';
  /**
   * Whether the gateway host also serves CloudView: 'absent' (404 there; the guide's hosts and
   * the Swagger's `basicAuth` are the API server's, ref §1), or 'jwt' (one 2026 report: the
   * `gateway.*` host with a JWT bearer token from `POST /auth` works, ref §1; Basic is then
   * refused on the gateway).
   */
  cloudViewOnGateway: 'absent' | 'jwt';
  /**
   * The `pageNo` of the first page. The guide's samples ask `pageNo=1` and get `"first": true,
   * "number": 0` (guide l.810, l.854-857), so 1; Spring's own default is 0.
   */
  cloudViewPageBase: 1 | 0;
  /** 'required': no `pageNo` is a 400, as the guide marks it "(required)" (guide l.816, l.876, l.932). */
  cloudViewPageNo: 'required' | 'optional';
  /**
   * The body of a 201 create (guide l.1007-1009 shows only "201 Created") and of a PUT: the
   * connector's details (the Swagger's response fields, ref §1) or nothing at all, so that a
   * client must find its connector by listing.
   */
  cloudViewWriteAnswer: 'details' | 'empty';
  /**
   * PUT `/aws/connectors/{id}` (guide l.794: "the connector details such as qualysAccountId,
   * arn, externalId, so on"): 'full' needs the create's required fields again (a replacement,
   * omitted optional fields fall back to their defaults); 'partial' changes only the fields sent.
   */
  cloudViewUpdate: 'full' | 'partial';
  /**
   * Where `DELETE /aws/connectors` takes its IDs; the sources disagree (ref §1): 'array', a JSON
   * array body (the Swagger); 'comma', a query parameter `connectorIds=a,b` (the guide's
   * "Multiple connector IDs are comma separated", guide l.797; the parameter's name is not
   * given anywhere and is this simulator's guess); 'object', `{"connectorIds": [...]}` (a
   * third-party client). Any other shape is a 400.
   */
  cloudViewDeleteIds: 'array' | 'comma' | 'object';
  /** The same for `POST /aws/connectors/run` ("Specify the IDs", guide l.796; no shape anywhere). */
  cloudViewRunIds: 'array' | 'comma' | 'object';
  /** Deleting an ID that does not exist: 404 and nothing deleted, or silently ignored (no source). */
  cloudViewDeleteMissing: '404' | 'ignored';
  /** The status of a successful delete and run, which no source gives: 200 (empty body) or 204. */
  cloudViewNoContent: '200' | '204';
  /** Whether details and lists show `externalId` (the Swagger's response fields, ref §1, do not name it). */
  cloudViewExternalId: 'shown' | 'hidden';
  /** Whether details and lists show the role's `arn`: a request field of the Swagger, not among its response fields (ref §1). */
  cloudViewArn: 'shown' | 'hidden';
  /**
   * `GET /aws/connectors/qualysAwsAccountId` (guide l.789: "Get the AWS account ID of Qualys"),
   * whose answer no source shows: `{"qualysAwsAccountId": "..."}`, a JSON string, or plain text.
   */
  cloudViewQualysAccount: 'object' | 'json-string' | 'text';
  /**
   * Evaluations of an AWS account the subscription knows nothing of (no connector, nothing
   * evaluated), and resources of a control the account has no evaluation of: 404, or an
   * empty page (no source).
   */
  evaluationsUnknown: '404' | 'empty';

  // ---- Connectors 3.0 / QPS (ref §2) -----------------------------------------------------------

  /** Booleans in QPS answers (`disabled`, `allRegions`, `hasMoreRecords`, ...): "Booleans may come back as strings" (ref §2). */
  qpsBooleans: 'string' | 'boolean';
  /** Numbers in QPS answers (`id`, `runFrequency`, `count`, ...): JSON numbers, or strings as an XML-born JSON gives them (no source). */
  qpsNumbers: 'number' | 'string';
  /**
   * The HTTP status of a QPS answer whose `responseCode` is not SUCCESS (INVALID_REQUEST,
   * OBJECT_NOT_FOUND, ...): '200', the code only in the body; 'http', a matching status (400,
   * 404, 403). Authentication (401) and rate limits (409, ref §2) always use HTTP statuses.
   */
  qpsErrorStatus: '200' | 'http';
  /**
   * The answer's format when the Accept header does not ask for JSON by name ("JSON (or
   * XML)", ref §2): 'json', or 'xml' (only `Accept: application/json` then gets JSON).
   */
  qpsDefaultFormat: 'json' | 'xml';
  /**
   * Which run path exists: `/qps/rest/3.0/run/am/awsassetdataconnector/<id>` (the brief's
   * reading of ref §2), `/qps/rest/2.0/run/...` ("only a v2 form of run was seen in Qualys
   * code", ref §2), or both.
   */
  qpsRun: 'v3' | 'v2' | 'both';
  /** The criterion naming the connector in `search/am/assetdataconnectorerrors` (no source gives it). */
  qpsErrorsCriterion: 'connectorId' | 'connector.id';
  /** A search with no match: `data: []`, or no `data` key at all (no source). */
  qpsEmptyData: 'empty-array' | 'absent';

  // ---- both APIs ---------------------------------------------------------------------------

  /** Unknown body fields: refused (400 / INVALID_REQUEST naming them), or silently dropped. */
  unknownFields: 'reject' | 'ignore';
  /**
   * Whether a second connector is refused: for the same AWS account ('account'; unknown, the
   * brief asks for it as a reading), with the same name ('name'), either ('account-or-name'),
   * or never ('none').
   */
  uniqueness: 'account' | 'name' | 'account-or-name' | 'none';
  /**
   * The state names of a run (ref §2 lists PENDING, QUEUED, RUNNING, PROCESSING, SUCCESS,
   * FINISHED_SUCCESS, FINISHED_ERRORS, ERROR, INCOMPLETE, DISABLED, without saying which API
   * or which order): 'finished', QUEUED, RUNNING, PROCESSING, then FINISHED_SUCCESS or
   * FINISHED_ERRORS; 'short', PENDING, RUNNING, then SUCCESS or ERROR. DISABLED in both.
   */
  states: 'finished' | 'short';
  /**
   * A run asked for while one is queued or running (a create starts one: "Upon setting up the
   * AWS connector, it starts discovering", guide l.150): accepted without a second run, or
   * refused (400 / INVALID_REQUEST). No source.
   */
  runWhileBusy: 'accept' | 'refuse';
}

export const DEFAULT_CONNECTOR_DIALECT: Readonly<ConnectorDialect> = Object.freeze({
  cloudViewVersions: '1.5',
  cloudViewOnGateway: 'absent',
  cloudViewPageBase: 1,
  cloudViewPageNo: 'required',
  cloudViewWriteAnswer: 'details',
  cloudViewUpdate: 'full',
  cloudViewDeleteIds: 'array',
  cloudViewRunIds: 'array',
  cloudViewDeleteMissing: '404',
  cloudViewNoContent: '200',
  cloudViewExternalId: 'shown',
  cloudViewArn: 'shown',
  cloudViewQualysAccount: 'object',
  evaluationsUnknown: '404',
  qpsBooleans: 'string',
  qpsNumbers: 'number',
  qpsErrorStatus: '200',
  qpsDefaultFormat: 'json',
  qpsRun: 'v3',
  qpsErrorsCriterion: 'connectorId',
  qpsEmptyData: 'empty-array',
  unknownFields: 'reject',
  uniqueness: 'account',
  states: 'finished',
  runWhileBusy: 'accept',
});

export const CONNECTOR_DIALECTS = {
  reference: { ...DEFAULT_CONNECTOR_DIALECT },
  'swagger-v1': { cloudViewVersions: 'v1' },
  'both-versions': { cloudViewVersions: 'both' },
  'gateway-jwt': { cloudViewOnGateway: 'jwt' },
  'comma-ids': { cloudViewDeleteIds: 'comma', cloudViewRunIds: 'comma' },
  'object-ids': { cloudViewDeleteIds: 'object', cloudViewRunIds: 'object' },
  'qps-typed': { qpsBooleans: 'boolean', qpsNumbers: 'number' },
  'qps-strings': { qpsBooleans: 'string', qpsNumbers: 'string' },
  'qps-http-errors': { qpsErrorStatus: 'http' },
  'qps-xml': { qpsDefaultFormat: 'xml' },
  'qps-run-v2': { qpsRun: 'v2' },
  'short-states': { states: 'short' },
  /** The forgiving end of every choice: unknown fields dropped, no uniqueness, paging from 0 without pageNo. */
  lenient: {
    unknownFields: 'ignore',
    uniqueness: 'none',
    cloudViewPageBase: 0,
    cloudViewPageNo: 'optional',
    cloudViewUpdate: 'partial',
    cloudViewDeleteMissing: 'ignored',
    cloudViewVersions: 'both',
  },
  /**
   * Wherever the sources allow a choice, the reading hardest for a client:
   * - CloudView: the Swagger's `v1` only (a client reading only the guide's `1.5` fails); an
   *   empty 201 and PUT (the id must be found by listing); PUT as a full replacement; the
   *   guide's comma-separated IDs; 204 for delete and run (a client testing `=== 200`
   *   fails); no external ID in details (an adopting client cannot compare it); the account
   *   ID as bare text; empty pages, not 404s, for unknown accounts (an absent connector looks
   *   like a clean account).
   * - QPS: booleans and numbers as strings (`"false"` is truthy); error codes under HTTP 200;
   *   XML unless JSON is asked for by name; only the v2 run; no `data` key on an empty search.
   * - Both: unknown fields dropped silently (the client never learns a setting was not
   *   applied); one connector per account and per name; PENDING/SUCCESS/ERROR state names; a
   *   run refused while the create's first run is still going.
   */
  unforgiving: {
    cloudViewVersions: 'v1',
    cloudViewOnGateway: 'absent',
    cloudViewPageBase: 1,
    cloudViewPageNo: 'required',
    cloudViewWriteAnswer: 'empty',
    cloudViewUpdate: 'full',
    cloudViewDeleteIds: 'comma',
    cloudViewRunIds: 'comma',
    cloudViewDeleteMissing: '404',
    cloudViewNoContent: '204',
    cloudViewExternalId: 'hidden',
    cloudViewArn: 'hidden',
    cloudViewQualysAccount: 'text',
    evaluationsUnknown: 'empty',
    qpsBooleans: 'string',
    qpsNumbers: 'string',
    qpsErrorStatus: '200',
    qpsDefaultFormat: 'xml',
    qpsRun: 'v2',
    qpsErrorsCriterion: 'connector.id',
    qpsEmptyData: 'absent',
    unknownFields: 'ignore',
    uniqueness: 'account-or-name',
    states: 'short',
    runWhileBusy: 'refuse',
  },
} satisfies Record<string, Partial<ConnectorDialect>>;

export type ConnectorDialectName = keyof typeof CONNECTOR_DIALECTS;

const CHOICES: { [K in keyof ConnectorDialect]: readonly ConnectorDialect[K][] } = {
  cloudViewVersions: ['1.5', 'v1', 'both'],
  cloudViewOnGateway: ['absent', 'jwt'],
  cloudViewPageBase: [1, 0],
  cloudViewPageNo: ['required', 'optional'],
  cloudViewWriteAnswer: ['details', 'empty'],
  cloudViewUpdate: ['full', 'partial'],
  cloudViewDeleteIds: ['array', 'comma', 'object'],
  cloudViewRunIds: ['array', 'comma', 'object'],
  cloudViewDeleteMissing: ['404', 'ignored'],
  cloudViewNoContent: ['200', '204'],
  cloudViewExternalId: ['shown', 'hidden'],
  cloudViewArn: ['shown', 'hidden'],
  cloudViewQualysAccount: ['object', 'json-string', 'text'],
  evaluationsUnknown: ['404', 'empty'],
  qpsBooleans: ['string', 'boolean'],
  qpsNumbers: ['number', 'string'],
  qpsErrorStatus: ['200', 'http'],
  qpsDefaultFormat: ['json', 'xml'],
  qpsRun: ['v3', 'v2', 'both'],
  qpsErrorsCriterion: ['connectorId', 'connector.id'],
  qpsEmptyData: ['empty-array', 'absent'],
  unknownFields: ['reject', 'ignore'],
  uniqueness: ['account', 'name', 'account-or-name', 'none'],
  states: ['finished', 'short'],
  runWhileBusy: ['accept', 'refuse'],
};

/** Every value each dialect field takes (for tests that run a client against each). */
export const CONNECTOR_DIALECT_CHOICES: Readonly<typeof CHOICES> = CHOICES;

/** A complete dialect from a name or a partial one (missing fields from DEFAULT_CONNECTOR_DIALECT). */
export function resolveConnectorDialect(
  dialect: ConnectorDialectName | Partial<ConnectorDialect> | undefined,
): ConnectorDialect {
  if (dialect === undefined) return { ...DEFAULT_CONNECTOR_DIALECT };
  if (typeof dialect === 'string') {
    if (!Object.hasOwn(CONNECTOR_DIALECTS, dialect)) {
      throw new Error(
        `Unknown connector dialect '${dialect}': use one of ${Object.keys(CONNECTOR_DIALECTS).join(', ')}`,
      );
    }
    return { ...DEFAULT_CONNECTOR_DIALECT, ...(CONNECTOR_DIALECTS[dialect] as Partial<ConnectorDialect>) };
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(dialect)) {
    if (value === undefined) continue;
    const choices = (CHOICES as Record<string, readonly unknown[]>)[key];
    if (choices === undefined)
      problems.push(`'${key}' is not a connector dialect field (fields: ${Object.keys(CHOICES).join(', ')})`);
    else if (!choices.includes(value))
      problems.push(
        `${key} must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')} (got ${JSON.stringify(value)})`,
      );
  }
  if (problems.length > 0) throw new Error(`Invalid connector dialect: ${problems.join('; ')}`);
  const defined = Object.fromEntries(Object.entries(dialect).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_CONNECTOR_DIALECT, ...defined };
}
