/** VM records to vm_findings rows: names in any case, containers, nothing dropped. */
import { mapVmRecord, vmRecordType } from '../../../src/core/findings/vm-findings';
import { VM_FINDING_COLUMNS } from '../../../src/core/findings/tables';

const KEY = 'qualys_vm_findings/findings/2024-05-01/x.json';

describe('vm_findings rows', () => {
  test('GIVEN camelCase, snake_case and UPPER names WHEN mapped THEN the same columns', () => {
    const camel = mapVmRecord(
      { hostId: 7, qid: 38170, severity: 4, status: 'Active', lastFound: '2024-05-01T01:02:03Z', port: '443' },
      KEY,
    )[0];
    const snake = mapVmRecord(
      {
        host_id: '7',
        qid: '38170',
        severity: '4',
        status: 'Active',
        last_found_datetime: '2024-05-01T01:02:03Z',
        port: 443,
      },
      KEY,
    )[0];
    const upper = mapVmRecord(
      { HOST_ID: 7, QID: 38170, SEVERITY: 4, STATUS: 'Active', LAST_FOUND_DATETIME: '2024-05-01T01:02:03Z', PORT: 443 },
      KEY,
    )[0];
    for (const row of [camel, snake, upper]) {
      expect(row).toMatchObject({
        host_id: 7n,
        qid: 38170n,
        severity: 4,
        status: 'Active',
        port: 443,
        record_type: 'findings',
        source_key: KEY,
      });
      expect(row.last_found).toEqual(new Date('2024-05-01T01:02:03Z'));
    }
    expect(Object.keys(camel)).toEqual(VM_FINDING_COLUMNS.map((c) => c.name));
    expect(JSON.parse(snake.raw as string)).toEqual({
      host_id: '7',
      qid: '38170',
      severity: '4',
      status: 'Active',
      last_found_datetime: '2024-05-01T01:02:03Z',
      port: 443,
    });
  });

  test('GIVEN a nested host object WHEN mapped THEN host fields come from it', () => {
    const [row] = mapVmRecord({ host: { id: 5, ip: '1.2.3.4', dns: 'h' }, qid: 1 }, KEY);
    expect(row).toMatchObject({ host_id: 5n, ip: '1.2.3.4', dns: 'h', qid: 1n });
  });

  test('GIVEN {"findings": [...]} WHEN mapped THEN one row per finding, raw is the finding with the rest of the container under _container, container fields as context', () => {
    const rows = mapVmRecord(
      {
        hostId: 9,
        ip: '10.0.0.1',
        findings: [
          { qid: 1, severity: 5 },
          { qid: 2, severity: 3, ip: '10.0.0.2' },
        ],
      },
      KEY,
    );
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => [r.host_id, r.qid, r.ip])).toEqual([
      [9n, 1n, '10.0.0.1'],
      [9n, 2n, '10.0.0.2'],
    ]);
    expect(JSON.parse(rows[0].raw as string)).toEqual({
      qid: 1,
      severity: 5,
      _container: { hostId: 9, ip: '10.0.0.1' },
    });
    expect(
      JSON.parse(
        mapVmRecord({ HOST: { ID: 1 }, DETECTION_LIST: { COUNT: 1, DETECTION: [{ QID: 4 }] } }, KEY)[0].raw as string,
      ),
    ).toEqual({ QID: 4, _container: { HOST: { ID: 1 }, DETECTION_LIST: { COUNT: 1 } } });
    expect(mapVmRecord({ data: [{ QID: 3 }] }, KEY)[0].qid).toBe(3n);
    expect(
      mapVmRecord({ HOST: { ID: 1 }, DETECTION_LIST: { DETECTION: [{ QID: 4 }, { QID: 5 }] } }, KEY).map((r) => [
        r.host_id,
        r.qid,
      ]),
    ).toEqual([
      [1n, 4n],
      [1n, 5n],
    ]);
  });

  test('GIVEN a finding that itself has a list (not a container) WHEN mapped THEN one row', () => {
    expect(mapVmRecord({ qid: 1, results: [{ a: 1 }] }, KEY)).toHaveLength(1);
  });

  test('GIVEN records that map to nothing WHEN mapped THEN still a row, raw holds them', () => {
    for (const value of [42, 'text', null, [1, 2], { unknown: true }]) {
      const rows = mapVmRecord(value, KEY);
      expect(rows).toHaveLength(1);
      expect(rows[0].raw).toBe(JSON.stringify(value));
      expect(rows[0].qid).toBeNull();
    }
  });

  test('GIVEN the key folder WHEN mapped THEN record_type vuln_info under vuln_info/, else findings (both of the guide readings)', () => {
    expect(vmRecordType('qualys_vm_findings/findings/2024-05-01/a.gz')).toBe('findings');
    expect(vmRecordType('qualys_vm_findings/vuln_info/vm/a.gz')).toBe('vuln_info');
    expect(vmRecordType('qualys_vm_findings/2024-05-01/a.gz')).toBe('findings');
  });

  test('GIVEN an out-of-range severity or port WHEN mapped THEN null, not a wrapped number', () => {
    expect(mapVmRecord({ qid: 1, severity: 'high', port: 99999999999 }, KEY)[0]).toMatchObject({
      severity: null,
      port: null,
    });
  });
});
