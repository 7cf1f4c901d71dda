/**
 * The normalizer section of `npm run bench` (BENCH_ONLY=normalizer):
 *
 *   1. generate >= 1,000,000 postures (BENCH_POSTURES) as gzipped posture files in the guide's
 *      shape, rotating array / NDJSON / concatenated, into a temp folder (untimed);
 *   2. normalize them end to end (read, gunzip, parse, map, Parquet, publish to a local lake) in a
 *      child process, the way `qualys-s3 normalize` does: wall and CPU time, records/s, peak RSS
 *      (the child's VmHWM; see normalizer-child.ts), the largest record, Parquet bytes / JSON bytes;
 *   3. the two ways of finding records in the JSON, on one 64 MB NDJSON file: the byte scanner
 *      + JSON.parse (records.ts) and stream-json 3.8.0 (parser + streamValues), parse only.
 *
 * "Per core" divides by the child's CPU time (user + system), which includes zlib's work on the
 * libuv pool; wall time is shown beside it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FILE_SHAPES, PostureGenerator, gzip, serialize } from '../sim/findings-generator';

export interface NormalizerFigures {
  postures: number;
  hosts: number;
  files: number;
  jsonBytes: number;
  storedBytes: number;
  parquetBytes: number;
  wallSeconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  largestRecordBytes: number;
  readers: { scannerMBps: number; streamJsonMBps: number; records: number };
}

/**
 * The V8 heap settings the normalizer runs with, as a Lambda would set them in NODE_OPTIONS.
 * Uncapped, V8 grows its heap lazily on a machine with memory to spare (measured: 300-400 MB RSS
 * over 1M postures, not a leak: capped, the same run peaks near 180 MB); a 16 MB young
 * generation keeps the cap from costing throughput (fewer scavenges of short-lived rows).
 */
export const NORMALIZER_NODE_OPTIONS = '--max-old-space-size=160 --max-semi-space-size=16';

export const NORMALIZER_TARGETS = { mbPerSecondPerCore: 30, parquetShare: 0.25, rssBaseBytes: 256 * 1024 * 1024 };

/** Writes gzipped posture files until `postures` postures; returns what it wrote. */
export function generate(
  dir: string,
  postures: number,
): { postures: number; hosts: number; files: number; jsonBytes: number } {
  const generator = new PostureGenerator({ seed: 2024 });
  const folder = path.join(dir, 'qualys_pc_posture_info', '2024-05-01');
  fs.mkdirSync(folder, { recursive: true });
  const shapes = FILE_SHAPES.filter((s) => s !== 'object');
  let total = 0;
  let hosts = 0;
  let files = 0;
  let jsonBytes = 0;
  while (total < postures) {
    const records: unknown[] = [];
    for (let i = 0; i < 150 && total < postures; i++) {
      const host = generator.nextHost();
      records.push(host.record);
      total += host.truth.length;
      hosts++;
    }
    const text = serialize(records, shapes[files % shapes.length]);
    jsonBytes += Buffer.byteLength(text);
    fs.writeFileSync(path.join(folder, `bench-${String(files).padStart(5, '0')}.gz`), gzip(text));
    files++;
  }
  return { postures: total, hosts, files, jsonBytes };
}

export function benchNormalizer(work: string, root: string, tsx: string): NormalizerFigures {
  const target = Number(process.env.BENCH_POSTURES ?? 1_000_000);
  const input = path.join(work, 'normalizer-in');
  const out = path.join(work, 'normalizer-out');
  process.stderr.write(`  generating ${target} postures (untimed) ...\n`);
  const generated = generate(input, target);
  process.stderr.write(
    `  normalizing ${generated.files} files, ${(generated.jsonBytes / 2 ** 20).toFixed(0)} MB of JSON ...\n`,
  );
  const child = execFileSync(
    process.execPath,
    [tsx, path.join(root, 'bench', 'normalizer-child.ts'), 'normalize', input, out],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const run = JSON.parse(child.trim().split('\n').pop()!);

  // The readers, on one NDJSON file (parse only, in a child of its own: neither warms the other).
  const sample = path.join(work, 'normalizer-sample.ndjson');
  const generator = new PostureGenerator({ seed: 7 });
  const fd = fs.openSync(sample, 'w');
  let written = 0;
  while (written < 64 * 2 ** 20) {
    const line = `${JSON.stringify(generator.nextHost().record)}\n`;
    fs.writeSync(fd, line);
    written += Buffer.byteLength(line);
  }
  fs.closeSync(fd);
  const reader = (which: string) =>
    JSON.parse(
      execFileSync(process.execPath, [tsx, path.join(root, 'bench', 'normalizer-child.ts'), which, sample], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .pop()!,
    );
  const scanner = reader('scanner');
  const streamJson = reader('stream-json');
  if (scanner.records !== streamJson.records)
    throw new Error(`the readers disagree: ${scanner.records} vs ${streamJson.records} records`);
  return {
    ...generated,
    storedBytes: run.storedBytes,
    parquetBytes: run.bytesOut,
    wallSeconds: run.wallSeconds,
    cpuSeconds: run.cpuSeconds,
    maxRssBytes: run.maxRssBytes,
    largestRecordBytes: run.largestRecordBytes,
    readers: { scannerMBps: scanner.mbPerSecond, streamJsonMBps: streamJson.mbPerSecond, records: scanner.records },
  };
}
