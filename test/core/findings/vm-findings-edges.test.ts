/**
 * vm-findings.ts attacked (independent review, issue 14): the issue asks to "keep every record
 * whole (a raw JSON column) ... and never drop a record that does not map".
 */
import { mapVmRecord } from '../../../src/core/findings/vm-findings';

const KEY = 'qualys_vm_findings/findings/2024-05-01/a.json';

describe('containers', () => {
  test('GIVEN a host record with an empty detection list WHEN mapped THEN the record is still a row (raw holds it)', () => {
    // GIVEN: a host Qualys reports with no detections (or any record without a QID that has an empty
    // list under a common name: data, items, records, results, ...).
    const record = { hostId: 101, ip: '10.0.0.5', os: 'Windows Server 2019', detections: [] };
    // WHEN
    const rows = mapVmRecord(record, KEY);
    // THEN: today no row at all: the record, its host fields and its raw JSON never reach the lake.
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0].raw as string)).toEqual(record);
  });

  test("GIVEN a container record WHEN mapped THEN the container's own fields survive in raw", () => {
    // GIVEN: a host with nested details and one detection.
    const record = {
      host: { id: 101, ip: '10.0.0.5', tags: ['prod', 'pci'], cloud: { provider: 'aws', instanceId: 'i-0abc' } },
      lastVmScan: '2024-05-01T10:00:00Z',
      detections: [{ qid: 38739, severity: 3, status: 'Active' }],
    };
    // WHEN
    const rows = mapVmRecord(record, KEY);
    // THEN: raw is only the detection; the host's tags, cloud instance and lastVmScan are in no column
    // and in no raw: the record was not kept whole.
    expect(rows).toHaveLength(1);
    const kept = JSON.stringify(rows.map((r) => JSON.parse(r.raw as string)));
    expect(kept).toContain('i-0abc');
    expect(kept).toContain('pci');
    expect(kept).toContain('lastVmScan');
  });
});
