/**
 * A deterministic (seeded) generator of the files Qualys writes into the findings bucket, for
 * tests and the benchmark: PC posture files in the guide's shape ("Sample: Posture Data
 * Transferred using CIPS") and VM files in a few plausible shapes (the guide shows none).
 *
 * Realistic where it matters to the normalizer and the queries:
 * - a catalog of controls (statement, reference, remediation, technology) and policies (a fixed
 *   list of controls each): hosts share them, so strings repeat across hosts as they do for real;
 * - evidence as a JSON *string* with Gson's HTML-safe escapes (\u003c, \u003d, \u003e; the
 *   guide's long "\u003d\u003d..." runs in extendedEvidence);
 * - Passed / Failed / Error with the dates that go with each; nulls;
 * - at `quirkRate`: `complianceLastScanDate` instead of the guide's `complianceLastScanData`,
 *   evidence keys with a trailing space (`"expectedValues "`), malformed dates
 *   ("2023-01-16T10:49:432"), ids as strings, evidence that does not parse, hosts without policies;
 * - every file shape (one object, an array, NDJSON, concatenated with or without whitespace),
 *   gzip or not, one gzip member or several.
 *
 * The ground truth comes from the generator's own model, not from reading the files back: the
 * tests of the normalizer and of the named queries compare against it. This module imports
 * nothing from src/.
 */
import { gzipSync } from 'node:zlib';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export type FileShape = 'object' | 'array' | 'ndjson' | 'concatenated' | 'concatenated-tight';
export const FILE_SHAPES: readonly FileShape[] = ['object', 'array', 'ndjson', 'concatenated', 'concatenated-tight'];

export interface PostureOptions {
  readonly seed: number;
  /** Controls in the catalog. @default 300 */
  readonly controls?: number;
  /** Policies in the catalog. @default 12 */
  readonly policies?: number;
  /** Controls per policy (min, max). @default [20, 60] */
  readonly controlsPerPolicy?: readonly [number, number];
  /** Policies a host is evaluated against (min, max). @default [1, 3] */
  readonly policiesPerHost?: readonly [number, number];
  /** Share of postures/hosts given one of the guide's quirks. @default 0.02 */
  readonly quirkRate?: number;
  /** Length of the extendedEvidence "=" runs (min, max). @default [10, 160] */
  readonly evidenceRun?: readonly [number, number];
  /** The scan day (UTC), YYYY-MM-DD. @default '2024-05-01' */
  readonly day?: string;
  /** First host id. @default 10_000_000 */
  readonly firstHostId?: number;
}

/** One posture as the generator meant it (before quirks changed how it is written). */
export interface PostureTruth {
  readonly hostId: number;
  readonly assetId: number;
  readonly ip: string;
  readonly policyId: number;
  readonly postureId: number;
  readonly controlId: number;
  readonly posture: 'Passed' | 'Failed' | 'Error';
  /** ISO-8601 as written, or null where the generator wrote a malformed date (or null). */
  readonly evaluationDate: string | null;
  /** The malformed value written instead of a date, by field. */
  readonly malformedDates: Readonly<Record<string, string>>;
  readonly expectedValues: readonly string[] | null;
  readonly actualValues: readonly string[] | null;
  /** The evidence key was written with a trailing space. */
  readonly evidenceKeySpace: boolean;
  readonly evidenceParses: boolean;
}

interface Control {
  id: number;
  statement: string;
  reference: string;
  remediation: string;
  technologyId: number;
  setting: string;
}

const SETTINGS = [
  'PASS_MIN_LEN',
  'PASS_MIN_DAYS',
  'PASS_MAX_DAYS',
  'PASS_WARN_AGE',
  'LOGIN_RETRIES',
  'UMASK',
  'ENCRYPT_METHOD',
  'SHA_CRYPT_MIN_ROUNDS',
  'FAIL_DELAY',
  'LOGIN_TIMEOUT',
];
const FILES = ['/etc/login.defs', '/etc/ssh/sshd_config', '/etc/pam.d/system-auth', '/etc/security/limits.conf'];
const OSES = [
  'CentOS Linux 7.5.1804',
  'Red Hat Enterprise Linux 8.6',
  'Ubuntu 22.04.3 LTS',
  'Windows Server 2019 Datacenter',
  'Amazon Linux 2',
];

/** Gson's HTML-safe escaping, as Qualys's evidence strings have it. */
function gsonHtmlSafe(json: string): string {
  return json.replace(/[<>=&']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const isoSeconds = (millis: number) => `${new Date(millis).toISOString().slice(0, 19)}Z`;

/** Generates hosts one at a time (memory stays flat for any number), with their ground truth. */
export class PostureGenerator {
  private readonly random: Random;
  private readonly controls: Control[];
  private readonly policies: { id: number; controls: Control[] }[];
  private readonly options: Required<PostureOptions>;
  private nextHostId: number;
  private nextPostureId = 25_000_000;

  constructor(options: PostureOptions) {
    this.options = {
      controls: 300,
      policies: 12,
      controlsPerPolicy: [20, 60],
      policiesPerHost: [1, 3],
      quirkRate: 0.02,
      evidenceRun: [10, 160],
      day: '2024-05-01',
      firstHostId: 10_000_000,
      ...options,
    };
    this.random = new Random(options.seed);
    this.nextHostId = this.options.firstHostId;
    const r = this.random;
    this.controls = Array.from({ length: this.options.controls }, (_, i) => {
      const setting = r.pick(SETTINGS);
      const file = r.pick(FILES);
      return {
        id: 1000 + i * 7,
        setting,
        statement: `Status of the '${setting}' setting in ${file} (control ${1000 + i * 7})`,
        reference: r.chance(0.3)
          ? ''
          : `at CL ${1000 + i * 7}(https://www.qualys.com),at CL ${i}(https://www.cisecurity.org)`,
        remediation: `To set the value for this setting edit the '${file}' file:\nAdd or edit the value of '${setting}' according to the needs of business.\n\nExample: \n${setting} ${r.int(1, 99)} \n\nModify user parameters for all users with a password set to match, with the following command:\n# chage --mindays 7 <user>`,
        technologyId: r.pick([80, 80, 80, 45, 101, 132]),
      };
    });
    this.policies = Array.from({ length: this.options.policies }, (_, i) => {
      const count = r.int(...this.options.controlsPerPolicy);
      const start = r.int(0, this.controls.length - 1);
      const controls = Array.from({ length: count }, (_, k) => this.controls[(start + k * 3) % this.controls.length]);
      return { id: 3_560_000 + i * 13, controls: [...new Map(controls.map((c) => [c.id, c])).values()] };
    });
  }

  /** The next host record (as Qualys would write it) and the truth of its postures. */
  nextHost(): { record: Record<string, unknown>; truth: PostureTruth[] } {
    const r = this.random;
    const o = this.options;
    const quirk = () => r.chance(o.quirkRate);
    const hostId = this.nextHostId++;
    const assetId = 31_000_000 + (hostId - o.firstHostId) * 3;
    const ip = `10.${(hostId >> 16) & 255}.${(hostId >> 8) & 255}.${hostId & 255}`;
    const dayStart = Date.parse(`${o.day}T00:00:00Z`);
    const scan = dayStart + r.int(0, 86_399) * 1000;
    const record: Record<string, unknown> = {
      hostId: quirk() ? String(hostId) : hostId,
      dns: r.chance(0.1) ? null : `host-${hostId}.corp.example.com`,
      ip,
      trackingMethod: r.pick(['4', '2', 'AGENT']),
      os: r.pick(OSES),
      osCpe: null,
      [quirk() ? 'complianceLastScanDate' : 'complianceLastScanData']: isoSeconds(scan),
      customerUuid: '0a387e70-8b26-78ff-8145-017b816fa17f',
      customerId: 250021,
      assetId: quirk() ? String(assetId) : assetId,
    };
    const truth: PostureTruth[] = [];
    if (quirk()) {
      // A host without policies: no postures, no rows.
      record.policy = r.chance(0.5) ? [] : null;
      return { record, truth };
    }
    const policyCount = r.int(...o.policiesPerHost);
    const chosen = new Set<number>();
    while (chosen.size < Math.min(policyCount, this.policies.length)) chosen.add(r.int(0, this.policies.length - 1));
    const policies: Record<string, unknown>[] = [];
    for (const index of [...chosen].sort((a, b) => a - b)) {
      const policy = this.policies[index];
      const postures: Record<string, unknown>[] = [];
      for (const control of policy.controls) {
        const roll = r.next();
        const posture = roll < 0.68 ? 'Passed' : roll < 0.95 ? 'Failed' : 'Error';
        const evaluation = scan + r.int(60, 600) * 1000;
        const firstEvaluated = evaluation - r.int(1, 90) * 86_400_000;
        const modified = r.chance(0.2) ? evaluation : firstEvaluated + r.int(0, 30) * 86_400_000;
        const expected = [`greater than or equal to\n${r.int(0, 14)}`];
        const actual = [String(r.int(0, 99999))];
        const keySpace = quirk();
        const broken = quirk();
        const run = '='.repeat(r.int(...o.evidenceRun));
        const evidenceDoc: Record<string, unknown> = {
          description: `The following Integer value <b>X</b> indicates the current value of the <b>${control.setting}</b> setting.`,
          [keySpace ? 'expectedValues ' : 'expectedValues']: expected,
          actualValues: actual,
          extendedEvidence: `\n\n${run}Extended Evidence${run}\nRow 1:File name, Setting, Value \nRow 2:${FILES[control.id % FILES.length]},${control.setting},${actual[0]}\n`,
          causeOfFailure:
            posture === 'Failed' ? { missing: { logic: 'DP', value: [] }, unexpected: { value: actual } } : undefined,
          scanParameter: '',
        };
        let evidence = gsonHtmlSafe(JSON.stringify(evidenceDoc));
        if (broken) evidence = evidence.slice(0, Math.floor(evidence.length / 2));
        const malformedDates: Record<string, string> = {};
        const date = (field: string, millis: number | null): string | null => {
          if (millis === null) return null;
          if (quirk()) {
            // The guide's own sample: seconds and a stray digit run together.
            const bad = `${isoSeconds(millis).slice(0, 17)}${String(new Date(millis).getUTCSeconds()).padStart(2, '0')}2`;
            malformedDates[field] = bad;
            return bad;
          }
          return isoSeconds(millis);
        };
        const postureId = this.nextPostureId++;
        const failed = posture === 'Failed';
        const written: Record<string, unknown> = {
          id: quirk() ? String(postureId) : postureId,
          controlId: control.id,
          controlStatement: control.statement,
          controlReference: control.reference,
          remediation: control.remediation,
          technologyId: control.technologyId,
          instance: 'os',
          posture,
          postureModifiedDate: date('postureModifiedDate', modified),
          evaluationDate: date('evaluationDate', evaluation),
          lastPosture: r.chance(0.9) ? posture : failed ? 'Passed' : 'Failed',
          firstEvaluatedDate: date('firstEvaluatedDate', firstEvaluated),
          failDateFirstFound: date('failDateFirstFound', failed ? firstEvaluated : null),
          failDateLastFound: date('failDateLastFound', failed ? evaluation : null),
          passedDateFirstFound: date('passedDateFirstFound', failed ? null : firstEvaluated),
          passedDateLastFound: date('passedDateLastFound', failed ? null : evaluation),
          evidence,
        };
        postures.push(written);
        truth.push({
          hostId,
          assetId,
          ip,
          policyId: policy.id,
          postureId,
          controlId: control.id,
          posture,
          evaluationDate: malformedDates.evaluationDate ? null : isoSeconds(evaluation),
          malformedDates,
          expectedValues: broken ? null : expected,
          actualValues: broken ? null : actual,
          evidenceKeySpace: keySpace,
          evidenceParses: !broken,
        });
      }
      policies.push({ id: policy.id, posture: postures });
    }
    record.policy = policies;
    return { record, truth };
  }
}

/** One file's text in a shape. `object` takes exactly one record. */
export function serialize(records: readonly unknown[], shape: FileShape, random = new Random(1)): string {
  switch (shape) {
    case 'object':
      if (records.length !== 1) throw new Error(`the object shape holds one record, not ${records.length}`);
      return JSON.stringify(records[0], null, 2);
    case 'array':
      return `[${records.map((r) => JSON.stringify(r)).join(',\n')}]`;
    case 'ndjson':
      return records.map((r) => `${JSON.stringify(r)}\n`).join('');
    case 'concatenated':
      return records.map((r) => JSON.stringify(r)).join(random.chance(0.5) ? ' ' : '\n\n\t');
    case 'concatenated-tight':
      return records.map((r) => JSON.stringify(r)).join('');
  }
}

/** Gzips text, as one member or split into several (concatenated members are one valid gzip file). */
export function gzip(text: string | Buffer, members = 1): Buffer {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  if (members <= 1) return gzipSync(bytes);
  const size = Math.ceil(bytes.length / members);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(gzipSync(bytes.subarray(i, i + size)));
  return Buffer.concat(parts);
}

export interface GeneratedFile {
  /** The key Qualys would write it under. */
  readonly key: string;
  readonly body: Buffer;
  readonly shape: FileShape;
  readonly gzip: boolean;
  /** Host records in the file. */
  readonly records: number;
  /** Uncompressed JSON bytes. */
  readonly jsonBytes: number;
}

/** A deterministic UUID-looking file name from the random stream. */
function fileUuid(random: Random): string {
  const hex = () =>
    Math.floor(random.next() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return `${hex()}${hex()}-${hex()}-4${hex().slice(1)}-a${hex().slice(1)}-${hex()}${hex()}${hex()}`;
}

/**
 * A set of posture files: `hosts` hosts over `files` files, shapes and gzip rotating through every
 * combination. Returns the files and the truth of every posture in them.
 */
export function generatePostureFiles(
  options: PostureOptions & { readonly hosts: number; readonly files: number; readonly shapes?: readonly FileShape[] },
): { files: GeneratedFile[]; truth: PostureTruth[]; hosts: Record<string, unknown>[] } {
  const generator = new PostureGenerator(options);
  const random = new Random(options.seed ^ 0x5eed);
  const day = options.day ?? '2024-05-01';
  const shapes = options.shapes ?? FILE_SHAPES;
  const files: GeneratedFile[] = [];
  const truth: PostureTruth[] = [];
  const hosts: Record<string, unknown>[] = [];
  let remaining = options.hosts;
  for (let f = 0; f < options.files; f++) {
    const shape = shapes[f % shapes.length];
    const count = shape === 'object' ? 1 : Math.max(1, Math.ceil(remaining / (options.files - f)));
    const records: unknown[] = [];
    for (let h = 0; h < count && (remaining > 0 || records.length === 0); h++, remaining--) {
      const host = generator.nextHost();
      records.push(host.record);
      hosts.push(host.record);
      truth.push(...host.truth);
    }
    const text = serialize(records, shape, random);
    const zipped = Math.floor(f / shapes.length) % 2 === 0;
    files.push({
      key: `qualys_pc_posture_info/${day}/${fileUuid(random)}.${zipped ? 'gz' : 'json'}`,
      body: zipped ? gzip(text, f % 3 === 0 ? 3 : 1) : Buffer.from(text),
      shape,
      gzip: zipped,
      records: records.length,
      jsonBytes: Buffer.byteLength(text),
    });
  }
  return { files, truth, hosts };
}

// ---- VM findings: the guide shows no sample; these are the shapes a reader should expect.

export type VmShape = 'flat-camel' | 'flat-upper' | 'host-detections' | 'wrapped';
export const VM_SHAPES: readonly VmShape[] = ['flat-camel', 'flat-upper', 'host-detections', 'wrapped'];

export interface VmTruth {
  readonly hostId: number;
  readonly ip: string;
  readonly qid: number;
  readonly severity: number;
  readonly status: string;
  readonly lastFound: string;
}

/**
 * VM findings in one of the plausible shapes: flat records (camelCase or UPPER_SNAKE), hosts each
 * with a detection list, or one object wrapping an array (`{"findings":[...]}`). Returns the
 * records (top-level values of the file) and one truth entry per finding.
 */
export function generateVmRecords(options: {
  readonly seed: number;
  readonly shape: VmShape;
  readonly hosts: number;
  readonly findingsPerHost?: readonly [number, number];
  readonly day?: string;
}): { records: unknown[]; truth: VmTruth[] } {
  const r = new Random(options.seed);
  const day = options.day ?? '2024-05-01';
  const [min, max] = options.findingsPerHost ?? [1, 6];
  const truth: VmTruth[] = [];
  const perHost: { host: { id: number; ip: string; dns: string; os: string }; findings: VmTruth[] }[] = [];
  for (let h = 0; h < options.hosts; h++) {
    const id = 20_000_000 + h;
    const host = { id, ip: `172.16.${(h >> 8) & 255}.${h & 255}`, dns: `vm-${id}.example.com`, os: r.pick(OSES) };
    const findings: VmTruth[] = [];
    for (let k = r.int(min, max); k > 0; k--) {
      findings.push({
        hostId: id,
        ip: host.ip,
        qid: r.pick([38170, 38173, 105943, 91234, 376187, 11827, 86476]) + k,
        severity: r.int(1, 5),
        status: r.pick(['New', 'Active', 'Fixed', 'Re-Opened']),
        lastFound: `${day}T${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}:00Z`,
      });
    }
    truth.push(...findings);
    perHost.push({ host, findings });
  }
  const camel = (f: VmTruth, withHost: boolean) => ({
    ...(withHost ? { hostId: f.hostId, ip: f.ip } : {}),
    qid: f.qid,
    severity: f.severity,
    status: f.status,
    type: 'Confirmed',
    title: `Vulnerability ${f.qid}`,
    port: 443,
    protocol: 'tcp',
    firstFound: '2024-01-01T00:00:00Z',
    lastFound: f.lastFound,
  });
  let records: unknown[];
  switch (options.shape) {
    case 'flat-camel':
      records = truth.map((f) => camel(f, true));
      break;
    case 'flat-upper':
      records = truth.map((f) => ({
        HOST_ID: String(f.hostId),
        IP: f.ip,
        QID: String(f.qid),
        SEVERITY: String(f.severity),
        STATUS: f.status,
        TYPE: 'Confirmed',
        FIRST_FOUND_DATETIME: '2024-01-01T00:00:00Z',
        LAST_FOUND_DATETIME: f.lastFound,
      }));
      break;
    case 'host-detections':
      records = perHost.map(({ host, findings }) => ({
        host: { id: host.id, ip: host.ip, dns: host.dns, os: host.os },
        detections: findings.map((f) => camel(f, false)),
      }));
      break;
    case 'wrapped':
      records = [{ count: truth.length, findings: truth.map((f) => camel(f, true)) }];
      break;
  }
  return { records, truth };
}
