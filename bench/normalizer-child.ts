/**
 * The child process of the normalizer benchmark, so that its peak RSS is the normalizer's alone:
 *   normalize <in> <out>   qualys-s3 normalize's code over a folder; prints the figures as JSON
 *   scanner <file>         records.ts over an NDJSON file, parse only
 *   stream-json <file>     stream-json 3.8.0 (parser with jsonStreaming + streamValues) over the same
 */
import * as fs from 'node:fs';
import { normalizeFiles } from '../src/cli/normalize';
import { RecordReader } from '../src/core/findings/records';

/**
 * The peak RSS of this process: VmHWM where /proc has it. resourceUsage().maxRSS is not enough
 * here: Linux carries ru_maxrss across fork + exec, so a child of the (big, generating) benchmark
 * process would report the parent's peak as its own.
 */
function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: maxRSS, with the caveat above.
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function main(): Promise<void> {
  const [mode, input, out] = process.argv.slice(2);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (mode === 'normalize') {
    const rowGroupBytes = process.env.BENCH_ROW_GROUP_BYTES ? Number(process.env.BENCH_ROW_GROUP_BYTES) : undefined;
    const report = await normalizeFiles({ input, out, print: () => {}, parquet: { rowGroupBytes } });
    const cpu = process.cpuUsage(cpu0);
    const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!report.ok) throw new Error(`${report.quarantined} files were quarantined`);
    process.stdout.write(
      `${JSON.stringify({
        bytesIn: report.bytesIn,
        storedBytes: report.storedBytes,
        bytesOut: report.bytesOut,
        recordsIn: report.recordsIn,
        rowsOut: report.rowsOut,
        wallSeconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        maxRssBytes: peakRssBytes(),
        maxRssReportedBytes: process.resourceUsage().maxRSS * 1024,
        largestRecordBytes: Math.max(...report.results.map((r) => r.largestRecordBytes)),
      })}\n`,
    );
    return;
  }
  const size = fs.statSync(input).size;
  let records = 0;
  if (mode === 'scanner') {
    for await (const _ of new RecordReader(fs.createReadStream(input, { highWaterMark: 256 * 1024 }))) records++;
  } else if (mode === 'stream-json') {
    const { parser } = await import('stream-json');
    const { streamValues } = await import('stream-json/streamers/stream-values.js');
    const chainModule = await import('stream-chain');
    const chain = (chainModule as any).default ?? (chainModule as any).chain;
    const pipeline = chain([
      fs.createReadStream(input, { highWaterMark: 256 * 1024 }),
      parser({ jsonStreaming: true }),
      streamValues(),
    ]);
    for await (const _ of pipeline) records++;
  } else throw new Error(`unknown mode ${mode}`);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${JSON.stringify({ records, seconds, mbPerSecond: size / 2 ** 20 / seconds })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
