/**
 * `qualys-s3 normalize <file-or-folder> --out <folder>`: the Lambda's normalizer, run locally
 * over files (a folder synced from the bucket with `aws s3 sync`, or a single download), writing
 * the same Parquet layout into a local folder. No configuration and no AWS account needed.
 *
 * Keys: a file's key is its path relative to the folder given, from the raw prefix on when the
 * path holds one (`.../qualys_pc_posture_info/2024-05-01/x.gz` is `qualys_pc_posture_info/2024-05-01/x.gz`
 * whichever folder was named), so a synced folder maps to the bucket's layout and day folders.
 * A file under neither raw prefix gets its table from --table, else from its content (a PC
 * posture file names `controlId` / `policy` in its first 64 KiB; anything else is read as VM).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { RAW_PREFIXES, tableOfKey } from '../core/findings/layout';
import { type NormalizeOutcome, normalizeObject, unreadOutcome } from '../core/findings/normalize';
import type { ParquetOptions } from '../core/findings/parquet';
import type { SourceObject } from '../core/findings/ports';
import { TABLE_NAMES, type TableName } from '../core/findings/tables';
import { LocalLakeStore } from './local-lake-store';

export interface NormalizeCommand {
  readonly input: string;
  readonly out: string;
  readonly table?: TableName;
  /** The bucket name the object ids are derived from (the Lambda's ids when it is the findings bucket's). @default 'local' */
  readonly bucket?: string;
  readonly print: (line: string) => void;
  readonly now?: () => number;
  /** @default - the normalizer's (parquet.ts PARQUET_DEFAULTS) */
  readonly parquet?: ParquetOptions;
}

/** A file's result: the normalizer's, or `failed` when it threw (the run goes on to the next file). */
export type FileResult = Omit<NormalizeOutcome, 'status'> & {
  readonly status: NormalizeOutcome['status'] | 'failed';
  readonly file: string;
  readonly inferredTable?: TableName;
};

export interface NormalizeReport {
  readonly ok: boolean;
  readonly files: number;
  readonly normalized: number;
  readonly skipped: number;
  readonly quarantined: number;
  /** Files whose read or write threw (an I/O error, a bug): reported with the reason, the others still read. */
  readonly failed: number;
  readonly recordsIn: number;
  readonly rowsOut: number;
  readonly unmapped: number;
  readonly bytesIn: number;
  readonly storedBytes: number;
  readonly bytesOut: number;
  readonly seconds: number;
  readonly jsonMBPerSecond: number;
  readonly results: readonly FileResult[];
}

/** Refuses an --out that is the input folder or inside it: the next run would read the lake as findings. */
export function checkOutOutsideInput(input: string, out: string): void {
  const real = (p: string): string => {
    // The deepest part that exists, resolved through symlinks, plus the rest as given.
    let head = path.resolve(p);
    const rest: string[] = [];
    while (!fs.existsSync(head) && path.dirname(head) !== head) {
      rest.unshift(path.basename(head));
      head = path.dirname(head);
    }
    return path.join(fs.realpathSync(head), ...rest);
  };
  const from = real(input);
  const to = real(out);
  if (to === from || to.startsWith(from + path.sep))
    throw new Error(
      `--out ${out} is ${to === from ? 'the input folder itself' : 'inside the input folder'} ${input}: the lake's Parquet, manifests and quarantine would be read as findings on the next run; name an --out outside it (e.g. a sibling folder)`,
    );
}

/** The files under a folder, depth first, in name order (hidden files and the output folder left out). */
function listFiles(dir: string, exclude: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (path.resolve(full) === exclude) continue;
    if (entry.isDirectory()) files.push(...listFiles(full, exclude));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}

/** A file's key: from the raw prefix on when its path holds one, else relative to the folder given. */
export function keyOfFile(file: string, base: string): string {
  const absolute = path.resolve(file).split(path.sep).join('/');
  for (const prefix of Object.values(RAW_PREFIXES)) {
    const at = absolute.lastIndexOf(`/${prefix}`);
    if (at >= 0) return absolute.slice(at + 1);
  }
  const relative = path.relative(base, path.resolve(file));
  return (relative === '' ? path.basename(file) : relative).split(path.sep).join('/');
}

/** The table a file outside the raw prefixes feeds, from its first 64 KiB. */
export function sniffTable(file: string): TableName {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const length = fs.readSync(fd, head, 0, head.length, 0);
    let text: string;
    if (length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      try {
        text = gunzipSync(
          head.subarray(0, length),
          { finishFlush: constants.Z_SYNC_FLUSH } /* a partial stream is fine */,
        )
          .subarray(0, 64 * 1024)
          .toString('utf8');
      } catch {
        text = '';
      }
    } else text = head.subarray(0, length).toString('utf8');
    return /"controlId"|"policy"\s*:/.test(text) ? 'pc_postures' : 'vm_findings';
  } finally {
    fs.closeSync(fd);
  }
}

function fileSource(file: string, key: string, bucket: string): SourceObject {
  const stat = fs.statSync(file);
  return {
    bucket,
    key,
    lastModified: stat.mtime,
    size: stat.size,
    open: async () => fs.createReadStream(file, { highWaterMark: 256 * 1024 }),
  };
}

const mb = (bytes: number) => bytes / (1024 * 1024);

export async function normalizeFiles(command: NormalizeCommand): Promise<NormalizeReport> {
  const now = command.now ?? Date.now;
  const input = path.resolve(command.input);
  const out = path.resolve(command.out);
  if (!fs.existsSync(input)) throw new Error(`${command.input}: no such file or folder`);
  const isDir = fs.statSync(input).isDirectory();
  if (isDir) checkOutOutsideInput(input, out);
  const files = isDir ? listFiles(input, out) : [input];
  const base = isDir ? input : path.dirname(input);
  const store = new LocalLakeStore(out);
  fs.mkdirSync(out, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(out, '.tmp-normalize-'));
  const results: FileResult[] = [];
  const started = now();
  try {
    for (const file of files) {
      const key = keyOfFile(file, base);
      const shown = path.relative(process.cwd(), file) || file;
      let inferredTable: TableName | undefined;
      let result: NormalizeOutcome;
      try {
        inferredTable = tableOfKey(key) ? undefined : (command.table ?? sniffTable(file));
        result = await normalizeObject(fileSource(file, key, command.bucket ?? 'local'), store, {
          tmpDir,
          table: inferredTable,
          parquet: command.parquet,
        });
      } catch (error) {
        // One file's error does not stop the run: it is reported with its reason, the others are read.
        const reason = (error as Error)?.message ?? String(error);
        results.push({ ...unreadOutcome(key, inferredTable ?? tableOfKey(key), 'failed', reason), file });
        command.print(`  ✖ ${shown}  failed: ${reason}`);
        continue;
      }
      results.push({ ...result, file, inferredTable: command.table ? undefined : inferredTable });
      if (result.status === 'normalized')
        command.print(
          `  ✔ ${shown}  ${result.table}${inferredTable && !command.table ? ' (from its content)' : ''}: ${result.recordsIn} records -> ${result.rowsOut} rows${result.unmapped ? `, ${result.unmapped} unmapped (kept)` : ''}`,
        );
      else if (result.status === 'quarantined')
        command.print(`  ✖ ${shown}  quarantined: ${result.reason} (see ${result.quarantine?.reasonKey})`);
      else command.print(`  - ${shown}  skipped: ${result.reason}`);
    }
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  const seconds = Math.max((now() - started) / 1000, 1e-3);
  const sum = (pick: (r: FileResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const bytesIn = sum((r) => r.bytesIn);
  return {
    ok: count('quarantined') === 0 && count('failed') === 0,
    files: results.length,
    normalized: count('normalized'),
    skipped: count('skipped'),
    quarantined: count('quarantined'),
    failed: count('failed'),
    recordsIn: sum((r) => r.recordsIn),
    rowsOut: sum((r) => r.rowsOut),
    unmapped: sum((r) => r.unmapped),
    bytesIn,
    storedBytes: sum((r) => r.storedBytes),
    bytesOut: sum((r) => r.bytesOut),
    seconds,
    jsonMBPerSecond: mb(bytesIn) / seconds,
    results,
  };
}

export function formatNormalizeSummary(report: NormalizeReport, out: string): string {
  const share = report.bytesIn ? ` (${((100 * report.bytesOut) / report.bytesIn).toFixed(1)}% of the JSON)` : '';
  return [
    '',
    `  files        ${report.files}: ${report.normalized} normalized, ${report.skipped} skipped, ${report.quarantined} quarantined${report.failed ? `, ${report.failed} failed` : ''}`,
    `  records in   ${report.recordsIn}${report.unmapped ? ` (${report.unmapped} did not map; kept under ${out}/quarantine/)` : ''}`,
    `  rows out     ${report.rowsOut}`,
    `  JSON in      ${mb(report.bytesIn).toFixed(1)} MB (${mb(report.storedBytes).toFixed(1)} MB stored)`,
    `  Parquet out  ${mb(report.bytesOut).toFixed(1)} MB${share}`,
    `  throughput   ${report.jsonMBPerSecond.toFixed(1)} MB/s of JSON, ${Math.round(report.recordsIn / report.seconds)} records/s (${report.seconds.toFixed(2)} s)`,
    `  output       ${out}/{${TABLE_NAMES.join(',')}}/day=YYYY-MM-DD/*.parquet`,
    '',
  ].join('\n');
}
