/**
 * The Qualys operations this project calls, one builder each, with the method, path and body
 * the guide gives (shared/reference/qualys-s3-integration-guide.txt; "l.N" is a line of it).
 * Each builder only makes the request: nothing here sends, retries or reads an answer
 * (session.ts sends, answers.ts reads what comes back).
 */
import type { CipsFilter, IntegrationKind } from '../contract';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request to Qualys, ready to send. */
export interface QualysRequest {
  /** What the request does, in words, for errors and logs ("Update VM integration 5"). */
  readonly step: string;
  readonly method: HttpMethod;
  /** The path on the gateway, with its query. */
  readonly path: string;
  /** A JSON body. */
  readonly json?: unknown;
  /** A form-encoded body (only `/auth` takes one). */
  readonly form?: Readonly<Record<string, string>>;
  /** A text/plain body (one reading of the CloudView delete: comma-separated IDs). */
  readonly text?: string;
  /** The Accept header, where the API chooses its format by it (Connectors 3.0 answers XML otherwise). */
  readonly accept?: string;
}

/** The step `/auth` runs under: authentication retries on its own, and callers tell it apart by this. */
export const AUTH_STEP = 'Authenticate with Qualys';

/** The paging query the guide does not document: Qualys's other APIs take `pageNo`/`pageSize`. */
export interface PageQuery {
  readonly pageNo: number;
  readonly pageSize?: number;
}

/** The root of every S3-integration path; `{kind}` is `vm` or `pc`, as in the guide's two chapters. */
const S3 = '/partner-integration/aws/s3';
const CIPS_CONFIG = '/pcas/cips/config';

/**
 * Each operation the guide documents, as it gives its method and URL, with the section it
 * comes from ("VM" is the VM/VMDR chapter, "PC" the Policy Compliance one, "CIPS" Add
 * Policies to CIPS).
 */
export const endpoints = {
  /** "Generate a JWT Token" (VM l.322-342, CIPS l.917-941): form fields, the JWT comes back as text. */
  authenticate: (username: string, password: string): QualysRequest => ({
    ...request('POST', '/auth', AUTH_STEP),
    form: { username, password, token: 'true' },
  }),

  /**
   * "Get Details of an Integration" without an ID (VM l.563-569, PC l.828-832). The guide
   * shows one object and no paging; `page` asks for a page past the first (session.ts).
   */
  listIntegrations: (kind: IntegrationKind, page?: PageQuery): QualysRequest =>
    request('GET', `${S3}/${kind}${page ? pageQuery(page) : ''}`, `List ${label(kind)} integrations`),

  /** "Get Details of an Integration" by ID (VM l.552-561, PC l.817-826). */
  getIntegration: (kind: IntegrationKind, id: string): QualysRequest =>
    request('GET', `${S3}/${segment(id)}/${kind}`, `Read ${label(kind)} integration ${id}`),

  /** "Register/Onboard an Integration" (VM l.344-403, PC l.666-699). */
  register: (kind: IntegrationKind, body: Record<string, unknown> & { name: string }): QualysRequest =>
    request('POST', `${S3}/${kind}`, `Register the ${label(kind)} integration "${body.name}"`, body),

  /** "Update an Integration" (VM l.434-546, PC l.730-811). */
  update: (kind: IntegrationKind, id: string, body: Record<string, unknown>): QualysRequest =>
    request('PUT', `${S3}/${segment(id)}/${kind}`, `Update ${label(kind)} integration ${id}`, body),

  /** "Validate an Integration" (VM l.405-432, PC l.701-728): no body. */
  validate: (kind: IntegrationKind, id: string): QualysRequest =>
    request('PATCH', `${S3}/${segment(id)}/${kind}/validate`, `Validate ${label(kind)} integration ${id}`),

  /** "De-Register/Delete an Integration" (VM l.600-628, PC l.848-873). */
  delete: (kind: IntegrationKind, id: string): QualysRequest =>
    request('DELETE', `${S3}/${segment(id)}/${kind}`, `Delete ${label(kind)} integration ${id}`),

  /** CIPS "Get Filter Details" (l.1058-1080): the policies and the filter; the answer's shape is not shown. */
  getCipsConfig: (): QualysRequest => request('GET', CIPS_CONFIG, 'Read the CIPS configuration'),

  /** CIPS "Add a Policy" (l.943-966): the body is an array of one object (l.958-959). */
  addCipsPolicies: (policies: readonly number[]): QualysRequest =>
    request('POST', `${CIPS_CONFIG}/policy`, `Add CIPS policies ${policies.join(', ')}`, [{ policy: policies }]),

  /**
   * CIPS "Delete a Policy" (l.968-990). Its table and URL block say `/pcas/cips/config/policy`
   * (l.912, l.972), its curl `/pcas/cips/config` (l.979): `byCurl` takes the curl's.
   */
  removeCipsPolicies: (policies: readonly number[], byCurl = false): QualysRequest =>
    request('DELETE', byCurl ? CIPS_CONFIG : `${CIPS_CONFIG}/policy`, `Remove CIPS policies ${policies.join(', ')}`, [
      { policy: policies },
    ]),

  /** CIPS "Create Filter Configuration" (l.992-1023). */
  createCipsFilter: (filter: CipsFilter): QualysRequest =>
    request('POST', CIPS_CONFIG, 'Create the CIPS posture filter', [filterBody(filter)]),

  /** CIPS "Update the Filter Configuration" (l.1025-1056). */
  updateCipsFilter: (filter: CipsFilter): QualysRequest =>
    request('PUT', CIPS_CONFIG, 'Update the CIPS posture filter', [filterBody(filter)]),
};

/** How a step names an integration kind: "VM", "PC". */
export function label(kind: IntegrationKind): string {
  return kind.toUpperCase();
}

function request(method: HttpMethod, path: string, step: string, json?: unknown): QualysRequest {
  return { step, method, path, json };
}

/** An integration ID as one path segment, whatever Qualys put in it. */
function segment(id: string): string {
  return encodeURIComponent(id);
}

function pageQuery({ pageNo, pageSize }: PageQuery): string {
  return `?pageNo=${pageNo}${pageSize ? `&pageSize=${pageSize}` : ''}`;
}

/** The four flags and nothing else: a filter read back from Qualys may carry more. */
function filterBody(filter: CipsFilter): CipsFilter {
  return {
    includeEvidenceData: filter.includeEvidenceData,
    includeFailPosture: filter.includeFailPosture,
    includePassPosture: filter.includePassPosture,
    includeErrorPosture: filter.includeErrorPosture,
  };
}
