/**
 * A small findings lake written by DuckDB itself, from rows generated here: the ground truth
 * the named queries' answers are computed from independently (in plain JS).
 *
 * PC: hosts x policies x controls (some with instances) evaluated on several days, postures
 * that flip between Passed, Failed and Error, every day's postures re-sent in the next day's
 * file (Qualys re-sends), hosts last evaluated long ago (stale), one file without a column
 * (read by name). VM: findings whose status moves on from day to day, re-sent, records
 * without a host or QID kept whole, and vulnerability information (knowledge-base entries, one
 * per QID, under vuln_info/) that is not findings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_TYPES } from '../../src/cli/local-query';
import { PC_POSTURE_COLUMNS, type TableName, TABLE_COLUMNS, VM_FINDING_COLUMNS } from '../../src/core/findings/tables';

export interface PcRow {
  host_id: number;
  asset_id: number;
  ip: string;
  dns: string;
  os: string;
  policy_id: number;
  control_id: number;
  instance: string | null;
  posture: string;
  last_posture: string | null;
  control_statement: string;
  evaluation_date: string;
  posture_modified_date: string;
  fail_date_first_found: string | null;
  expected_values: string[];
  source_key: string;
  day: string;
}

export interface VmRow {
  host_id: number | null;
  qid: number | null;
  severity: number | null;
  status: string | null;
  port: number | null;
  protocol: string | null;
  last_found: string | null;
  raw: string;
  /** 'findings', or 'vuln_info' for the knowledge-base entries Qualys sends under vuln_info/ (sendVulnInfo). */
  record_type: 'findings' | 'vuln_info';
  source_key: string;
  day: string;
}

/** A seeded generator, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const DAY_MS = 86_400_000;
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export interface Lake {
  readonly pc: PcRow[];
  readonly vm: VmRow[];
  /** The days with PC files, oldest first. */
  readonly days: string[];
}

/** The ground truth: rows per day relative to today (UTC), so stale-hosts has hosts on both sides. */
export function generateLake(opts: { hosts?: number; controls?: number; seed?: number } = {}): Lake {
  const random = prng(opts.seed ?? 14);
  const hosts = opts.hosts ?? 12;
  const controls = opts.controls ?? 10;
  const today = Date.parse(`${dayOf(Date.now())}T00:00:00Z`);
  // Active hosts: the last 5 days. Stale hosts (every 4th): 70 to 66 days ago.
  const activeDays = [5, 4, 3, 2, 1].map((n) => today - n * DAY_MS);
  const staleDays = [70, 69, 68, 67, 66].map((n) => today - n * DAY_MS);
  const pc: PcRow[] = [];
  const current = new Map<string, { posture: string; modified: string; failFirst: string | null }>();
  const postures = ['Passed', 'Passed', 'Failed', 'Failed', 'Error'];
  for (let h = 1; h <= hosts; h++) {
    const stale = h % 4 === 0;
    const days = stale ? staleDays : activeDays;
    for (const [i, dayMs] of days.entries()) {
      if (!stale && h % 5 === 0 && i === days.length - 1) continue; // some hosts miss the latest day
      for (const policy of [101, 102]) {
        for (let c = 1; c <= controls; c++) {
          const instances = c <= 2 ? ['oracle:db1', 'oracle:db2'] : [null];
          for (const instance of instances) {
            const key = `${h}|${policy}|${c}|${instance}`;
            const evaluated = stamp(dayMs + (h * 7 + c) * 60_000);
            const before = current.get(key);
            const posture =
              random() < 0.6 && before ? before.posture : postures[Math.floor(random() * postures.length)];
            const changed = !before || before.posture !== posture;
            const state = {
              posture,
              modified: changed ? evaluated : before.modified,
              failFirst: posture === 'Failed' ? (changed ? evaluated : before.failFirst) : null,
            };
            current.set(key, state);
            pc.push({
              host_id: 1000 + h,
              asset_id: 5000 + h,
              ip: `10.0.0.${h}`,
              dns: `host-${h}.example.internal`,
              os: h % 2 ? 'Amazon Linux 2' : 'Windows Server 2022',
              policy_id: policy,
              control_id: 2000 + c,
              instance,
              posture,
              last_posture: before?.posture ?? null,
              control_statement: `Control ${c}: ${'ensure the setting is configured. '.repeat(1 + (c % 3))}`.trim(),
              evaluation_date: evaluated,
              posture_modified_date: state.modified,
              fail_date_first_found: state.failFirst,
              expected_values: [`value-${c}`],
              source_key: `qualys_pc_posture_info/${dayOf(dayMs)}/part-${h % 2}.json.gz`,
              day: dayOf(dayMs),
            });
          }
        }
      }
    }
  }
  // Qualys re-sends: every row of a day is in the next day's files too (same evaluation).
  const days = [...new Set(pc.map((r) => r.day))].sort();
  const resent = pc
    .filter((r) => days.indexOf(r.day) < days.length - 1 && random() < 0.5)
    .map((r) => {
      const next = days[days.indexOf(r.day) + 1];
      return { ...r, day: next, source_key: `qualys_pc_posture_info/${next}/resend.json.gz` };
    });
  pc.push(...resent);

  const vm: VmRow[] = [];
  const statuses = ['New', 'Active', 'Active', 'Fixed', 'Re-Opened'];
  for (const [i, dayMs] of activeDays.entries()) {
    for (let h = 1; h <= 6; h++) {
      for (const qid of [38100 + h, 90200, 11000 + (h % 3)]) {
        if (random() < 0.2) continue;
        const severity = (qid % 5) + 1;
        const status = statuses[Math.min(i, statuses.length - 1)];
        const record = { hostId: 1000 + h, qid, severity, status, port: qid === 90200 ? 443 : null };
        vm.push({
          host_id: 1000 + h,
          qid,
          severity,
          status,
          port: record.port,
          protocol: record.port ? 'tcp' : null,
          last_found: stamp(dayMs + h * 60_000),
          raw: JSON.stringify(record),
          record_type: 'findings',
          source_key: `qualys_vm_findings/findings/${dayOf(dayMs)}/vm.json.gz`,
          day: dayOf(dayMs),
        });
      }
    }
    // Records the mapper could not read a host or QID from, re-sent every day.
    for (const n of [1, 2]) {
      vm.push({
        host_id: null,
        qid: null,
        severity: n === 1 ? 3 : null,
        status: null,
        port: null,
        protocol: null,
        last_found: null,
        raw: JSON.stringify({ unknownShape: n }),
        record_type: 'findings',
        source_key: `qualys_vm_findings/findings/${dayOf(dayMs)}/vm.json.gz`,
        day: dayOf(dayMs),
      });
    }
  }
  // Vulnerability information: a QID with its severity, no host, no status (not a finding).
  const lastDay = dayOf(activeDays[activeDays.length - 1]);
  for (const qid of [38101, 90200, 11000, 11001]) {
    const record = { qid, severity: 5, title: `Vulnerability ${qid}` };
    vm.push({
      host_id: null,
      qid,
      severity: 5,
      status: null,
      port: null,
      protocol: null,
      last_found: null,
      raw: JSON.stringify(record),
      record_type: 'vuln_info',
      source_key: 'qualys_vm_findings/vuln_info/vm/kb.json.gz',
      day: lastDay,
    });
  }
  return { pc, vm, days };
}

/**
 * Writes the lake under `dir` as the normalizer lays it out, one Parquet file per day and source
 * (the types of tables.ts), with DuckDB's COPY. The first PC file lacks the `remediation` column.
 */
export async function writeLake(dir: string, lake: Lake): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    let first = true;
    for (const [table, rows] of [
      ['pc_postures', lake.pc],
      ['vm_findings', lake.vm],
    ] as Array<[TableName, Array<PcRow | VmRow>]>) {
      const groups = new Map<string, Array<PcRow | VmRow>>();
      for (const row of rows) {
        const key = `${row.day}\n${path.basename(row.source_key)}`;
        groups.set(key, [...(groups.get(key) ?? []), row]);
      }
      for (const [key, group] of groups) {
        const [day, file] = key.split('\n');
        const folder = path.join(dir, table, `day=${day}`);
        fs.mkdirSync(folder, { recursive: true });
        const json = path.join(folder, `${file}.ndjson`);
        fs.writeFileSync(json, group.map((r) => JSON.stringify(r)).join('\n'));
        const columns = TABLE_COLUMNS[table].filter(
          (c) => !(first && table === 'pc_postures' && c.name === 'remediation'),
        );
        first = false;
        const spec = columns.map((c) => `${c.name}: '${DUCKDB_TYPES[c.kind]}'`).join(', ');
        await connection.run(
          `COPY (SELECT ${columns.map((c) => c.name).join(', ')} FROM read_json('${json}', format = 'newline_delimited', columns = {${spec}})) ` +
            `TO '${path.join(folder, `${file.replace(/\W/g, '_')}.parquet`)}' (FORMAT parquet)`,
        );
        fs.rmSync(json);
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Just the columns a check needs. */
export const PC_COLUMNS = PC_POSTURE_COLUMNS.map((c) => c.name);
export const VM_COLUMNS = VM_FINDING_COLUMNS.map((c) => c.name);
