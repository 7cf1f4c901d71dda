/**
 * Each named query on DuckDB over Parquet written from generated rows, checked against the
 * answer computed here, in plain JS, from the same rows. The SQL is the product's
 * (renderQuery) and so is the engine (runLocalQuery, the CLI's --local).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLocalQuery } from '../../../src/cli/local-query';
import type { QueryResult } from '../../../src/cli/query-result';
import { findNamedQuery, NAMED_QUERIES, renderQuery } from '../../../src/core/findings/queries';
import { dayOf, generateLake, type Lake, type PcRow, type VmRow, writeLake } from '../../support/findings-lake';

let dir: string;
let lake: Lake;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-queries-'));
  lake = generateLake();
  await writeLake(dir, lake);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(name: string, params: Record<string, string> = {}): Promise<QueryResult> {
  const query = findNamedQuery(name);
  if (!query) throw new Error(`no query ${name}`);
  return runLocalQuery(dir, renderQuery(query, params));
}

/** Rows as objects, for readable comparisons. */
function objects(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

const postureKey = (r: PcRow) => `${r.host_id}|${r.policy_id}|${r.control_id}|${r.instance}`;
const later = (a: PcRow, b: PcRow) =>
  a.evaluation_date !== b.evaluation_date
    ? a.evaluation_date > b.evaluation_date
    : a.day !== b.day
      ? a.day > b.day
      : a.source_key > b.source_key;

/** The latest row of each posture, computed without SQL. */
function latestPostures(rows: readonly PcRow[]): PcRow[] {
  const latest = new Map<string, PcRow>();
  for (const row of rows) {
    const seen = latest.get(postureKey(row));
    if (!seen || later(row, seen)) latest.set(postureKey(row), row);
  }
  return [...latest.values()];
}

const byKey = (a: PcRow, b: PcRow) =>
  a.host_id - b.host_id ||
  a.policy_id - b.policy_id ||
  a.control_id - b.control_id ||
  (a.instance === b.instance
    ? 0
    : a.instance === null
      ? 1
      : b.instance === null
        ? -1
        : a.instance < b.instance
          ? -1
          : 1);

describe('the generated lake', () => {
  it('has what the queries must cope with: re-sent postures, every posture kind, stale and active hosts', () => {
    const keys = lake.pc.map((r) => `${postureKey(r)}|${r.evaluation_date}`);
    expect(new Set(keys).size).toBeLessThan(keys.length);
    expect(new Set(lake.pc.map((r) => r.posture))).toEqual(new Set(['Passed', 'Failed', 'Error']));
    expect(lake.pc.length).toBeGreaterThan(1000);
  });
});

describe('failing-controls', () => {
  it('lists the latest evaluation of each host, policy, control and instance whose posture is Failed, once', async () => {
    const result = await run('failing-controls');
    const expected = latestPostures(lake.pc)
      .filter((r) => r.posture === 'Failed')
      .sort(byKey);
    expect(expected.length).toBeGreaterThan(10);
    expect(
      objects(result).map((r) => [
        r.host_id,
        r.policy_id,
        r.control_id,
        r.instance,
        r.evaluation_date,
        r.fail_date_first_found,
      ]),
    ).toEqual(
      expected.map((r) => [
        r.host_id,
        r.policy_id,
        r.control_id,
        r.instance,
        r.evaluation_date,
        r.fail_date_first_found,
      ]),
    );
  });

  it('does not list a control that failed earlier and passes now', async () => {
    const result = objects(await run('failing-controls'));
    const recovered = latestPostures(lake.pc).find(
      (r) => r.posture !== 'Failed' && lake.pc.some((o) => postureKey(o) === postureKey(r) && o.posture === 'Failed'),
    );
    expect(recovered).toBeDefined();
    expect(
      result.some(
        (r) =>
          r.host_id === recovered!.host_id &&
          r.policy_id === recovered!.policy_id &&
          r.control_id === recovered!.control_id &&
          r.instance === recovered!.instance,
      ),
    ).toBe(false);
  });
});

describe('compliance-rate', () => {
  it('is, per policy, Passed over Passed + Failed among the latest postures, Error counted apart', async () => {
    const latest = latestPostures(lake.pc);
    const expected = [101, 102].map((policy) => {
      const rows = latest.filter((r) => r.policy_id === policy);
      const passed = rows.filter((r) => r.posture === 'Passed').length;
      const failed = rows.filter((r) => r.posture === 'Failed').length;
      return {
        policy_id: policy,
        hosts: new Set(rows.map((r) => r.host_id)).size,
        postures: rows.length,
        passed,
        failed,
        other: rows.length - passed - failed,
        compliance_pct: Math.round((10000 * passed) / (passed + failed)) / 100,
      };
    });
    expect(objects(await run('compliance-rate'))).toEqual(expected);
    expect(expected.every((e) => e.other > 0)).toBe(true);
  });
});

describe('changed-since', () => {
  it.each([1, 3, 30])(
    'lists the current postures modified on or after a day (%i days ago), one row each',
    async (back) => {
      const since = dayOf(Date.now() - back * 86_400_000);
      const expected = latestPostures(lake.pc)
        .filter((r) => r.posture_modified_date >= `${since} 00:00:00`)
        .sort((a, b) =>
          a.posture_modified_date < b.posture_modified_date
            ? 1
            : a.posture_modified_date > b.posture_modified_date
              ? -1
              : byKey(a, b),
        );
      const result = objects(await run('changed-since', { since }));
      expect(
        result.map((r) => [r.host_id, r.policy_id, r.control_id, r.instance, r.posture, r.posture_modified_date]),
      ).toEqual(
        expected.map((r) => [r.host_id, r.policy_id, r.control_id, r.instance, r.posture, r.posture_modified_date]),
      );
      if (back === 1) expect(result.length).toBeLessThan(latestPostures(lake.pc).length);
    },
  );
});

describe('stale-hosts', () => {
  it.each([30, 60, 68])('lists the hosts whose latest evaluation is more than %i days old', async (days) => {
    const latest = new Map<number, PcRow>();
    for (const r of lake.pc) {
      const seen = latest.get(r.host_id);
      if (!seen || later(r, seen)) latest.set(r.host_id, r);
    }
    const today = Date.parse(`${dayOf(Date.now())}T00:00:00Z`);
    const expected = [...latest.values()]
      .map((r) => ({
        r,
        since: Math.round((today - Date.parse(`${r.evaluation_date.slice(0, 10)}T00:00:00Z`)) / 86_400_000),
      }))
      .filter(({ since }) => since > days)
      .sort((a, b) =>
        a.r.evaluation_date < b.r.evaluation_date
          ? -1
          : a.r.evaluation_date > b.r.evaluation_date
            ? 1
            : a.r.host_id - b.r.host_id,
      );
    const result = objects(await run('stale-hosts', { days: String(days) }));
    expect(result.map((r) => [r.host_id, r.dns, r.last_evaluated, r.days_since])).toEqual(
      expected.map(({ r, since }) => [r.host_id, r.dns, r.evaluation_date, since]),
    );
    if (days === 30) expect(result.length).toBeGreaterThan(0);
  });
});

describe('vm-by-severity', () => {
  it('counts each finding once, by the severity and status of its latest record; unmapped records stand alone; vulnerability information is not counted', async () => {
    const latest = new Map<string, VmRow>();
    for (const r of lake.vm.filter((v) => v.record_type === 'findings')) {
      const key =
        r.host_id === null || r.qid === null ? `raw|${r.raw}` : `${r.host_id}|${r.qid}|${r.port}|${r.protocol}`;
      const seen = latest.get(key);
      const newer =
        !seen ||
        (r.last_found ?? '') > (seen.last_found ?? '') ||
        ((r.last_found ?? '') === (seen.last_found ?? '') && r.day > seen.day);
      if (newer) latest.set(key, r);
    }
    const groups = new Map<string, VmRow[]>();
    for (const r of latest.values()) {
      const key = JSON.stringify([r.severity, r.status]);
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const expected = [...groups.entries()]
      .map(([key, rows]) => {
        const [severity, status] = JSON.parse(key) as [number | null, string | null];
        return {
          severity,
          status,
          findings: rows.length,
          hosts: new Set(rows.map((r) => r.host_id).filter((h) => h !== null)).size,
          qids: new Set(rows.map((r) => r.qid).filter((q) => q !== null)).size,
        };
      })
      .sort(
        (a, b) =>
          (b.severity ?? -1) - (a.severity ?? -1) ||
          (a.status === b.status ? 0 : a.status === null ? 1 : b.status === null ? -1 : a.status < b.status ? -1 : 1),
      );
    expect(objects(await run('vm-by-severity'))).toEqual(expected);
    expect(expected.reduce((n, e) => n + e.findings, 0)).toBeLessThan(lake.vm.length);
  });
});

describe('a lake with no files yet', () => {
  it('answers every named query with its columns and no rows', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-empty-'));
    try {
      for (const query of NAMED_QUERIES) {
        const result = await runLocalQuery(empty, renderQuery(query));
        expect(result.rows).toEqual([]);
        expect(result.columns.length).toBeGreaterThan(2);
      }
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('renderQuery', () => {
  it('refuses a parameter that does not match its pattern, so nothing can be injected', () => {
    const since = findNamedQuery('changed-since')!;
    expect(() => renderQuery(since, { since: "2024-01-01' OR 1=1 --" })).toThrow(/--param since is .*YYYY-MM-DD/);
    expect(() => renderQuery(findNamedQuery('stale-hosts')!, { days: '30; DROP TABLE x' })).toThrow(
      /whole number of days/,
    );
    expect(() => renderQuery(findNamedQuery('stale-hosts')!, { days: '0' })).toThrow(/from 1 to 3650/);
  });

  it('refuses a parameter the query does not take', () => {
    expect(() => renderQuery(findNamedQuery('failing-controls')!, { days: '3' })).toThrow(
      /no parameter "days"; it takes none/,
    );
  });

  it('leaves no placeholder behind, with the defaults', () => {
    for (const query of NAMED_QUERIES) expect(renderQuery(query)).not.toMatch(/\{\{|\}\}/);
  });

  it('keeps to SQL Trino also takes: no DuckDB-only syntax', () => {
    for (const query of NAMED_QUERIES) {
      const sql = renderQuery(query);
      expect(sql).not.toMatch(/::|\bQUALIFY\b|\bBY NAME\b|\bGROUP BY ALL\b|\bEXCLUDE\b|"|\bmax_by\b|\bFILTER\s*\(/i);
    }
  });
});
