/** A host record to pc_postures rows, with the guide's quirks. */
import { mapHostRecord, parseEvidence } from '../../../src/core/findings/pc-postures';
import { PC_POSTURE_COLUMNS } from '../../../src/core/findings/tables';

// The guide's sample (l.1082 on), abridged: its spelling, its malformed date, its key with a trailing space.
const GUIDE_HOST = {
  hostId: 10404430,
  dns: 'doctom1.rdlab.in03.qualys.com',
  ip: '10.115.120.97',
  trackingMethod: '4',
  os: 'CentOS Linux 7.5.1804',
  osCpe: null,
  complianceLastScanData: '2023-01-16T10:47:05Z',
  customerUuid: '0a387e70-8b26-78ff-8145-017b816fa17f',
  customerId: 250021,
  assetId: 31680291,
  policy: [
    {
      id: 3567540,
      posture: [
        {
          id: 25214935,
          controlId: 1073,
          controlStatement: "Status of the 'Maximum Password Age' setting",
          controlReference: 'at CL 1 1073(https://www.google.com)',
          remediation: 'To specify password maximum age ...',
          technologyId: 80,
          instance: 'os',
          posture: 'Passed',
          postureModifiedDate: '2023-01-13T07:08:18Z',
          evaluationDate: '2023-01-16T10:49:43Z',
          lastPosture: 'Passed',
          firstEvaluatedDate: '2023-01-13T07:08:18Z',
          failDateFirstFound: null,
          failDateLastFound: null,
          passedDateFirstFound: '2023-01-13T07:08:18Z',
          passedDateLastFound: '2023-01-16T10:49:432',
          evidence:
            '{"description":"The following Integer value \\u003cb\\u003eX\\u003c/b\\u003e indicates the current status","expectedValues ": ["greater than or equal to\\n0"],"actualValues":["99999"],"extendedEvidence":"\\n\\n\\u003d\\u003d\\u003dExtended"}',
        },
      ],
    },
  ],
};

const KEY = 'qualys_pc_posture_info/2023-01-16/a.gz';

function rowsOf(record: unknown) {
  const mapping = mapHostRecord(record, KEY);
  if (mapping.kind !== 'rows') throw new Error(`unmapped: ${mapping.reason}`);
  return mapping.rows;
}

describe('the guide sample', () => {
  const [row] = rowsOf(GUIDE_HOST);

  test('GIVEN the guide host WHEN mapped THEN one row per posture with the host, policy and posture columns', () => {
    expect(rowsOf(GUIDE_HOST)).toHaveLength(1);
    expect(row).toMatchObject({
      host_id: 10404430n,
      asset_id: 31680291n,
      customer_id: 250021n,
      ip: '10.115.120.97',
      dns: 'doctom1.rdlab.in03.qualys.com',
      tracking_method: '4',
      os_cpe: null,
      policy_id: 3567540n,
      posture_id: 25214935n,
      control_id: 1073n,
      technology_id: 80n,
      posture: 'Passed',
      last_posture: 'Passed',
      source_key: KEY,
    });
    expect(Object.keys(row)).toEqual(PC_POSTURE_COLUMNS.map((c) => c.name));
  });

  test('GIVEN complianceLastScanData (sic) WHEN mapped THEN it is the compliance_last_scan_date', () => {
    expect(row.compliance_last_scan_date).toEqual(new Date('2023-01-16T10:47:05Z'));
    const spelledRight = {
      ...GUIDE_HOST,
      complianceLastScanData: undefined,
      complianceLastScanDate: '2024-02-01T00:00:00Z',
    };
    expect(rowsOf(spelledRight)[0].compliance_last_scan_date).toEqual(new Date('2024-02-01T00:00:00Z'));
  });

  test('GIVEN "2023-01-16T10:49:432" WHEN mapped THEN the column is null and the value is in unparsed_values as sent', () => {
    expect(row.passed_date_last_found).toBeNull();
    expect(JSON.parse(row.unparsed_values as string)).toEqual({ passedDateLastFound: '2023-01-16T10:49:432' });
    expect(row.evaluation_date).toEqual(new Date('2023-01-16T10:49:43Z'));
    expect(row.fail_date_first_found).toBeNull();
  });

  test('GIVEN evidence with a key with a trailing space WHEN mapped THEN the raw string is kept and the parts parsed', () => {
    expect(row.evidence).toBe(GUIDE_HOST.policy[0].posture[0].evidence);
    expect(row.expected_values).toEqual(['greater than or equal to\n0']);
    expect(row.actual_values).toEqual(['99999']);
    expect(row.evidence_description).toBe('The following Integer value <b>X</b> indicates the current status');
  });
});

describe('loose input', () => {
  const posture = GUIDE_HOST.policy[0].posture[0];

  test('GIVEN ids as strings WHEN mapped THEN bigint columns; GIVEN junk ids THEN null', () => {
    const [row] = rowsOf({
      ...GUIDE_HOST,
      hostId: '10404430',
      policy: [{ id: ' 77 ', posture: [{ ...posture, id: 'x1' }] }],
    });
    expect(row.host_id).toBe(10404430n);
    expect(row.policy_id).toBe(77n);
    expect(row.posture_id).toBeNull();
  });

  test('GIVEN evidence that does not parse WHEN mapped THEN the raw string stays and the parsed columns are null', () => {
    const [row] = rowsOf({
      ...GUIDE_HOST,
      policy: [{ id: 1, posture: [{ ...posture, evidence: '{"description":"cut' }] }],
    });
    expect(row.evidence).toBe('{"description":"cut');
    expect([row.expected_values, row.actual_values, row.evidence_description]).toEqual([null, null, null]);
    expect(parseEvidence('plain text')).toEqual({ description: null, expected: null, actual: null });
  });

  test('GIVEN nulls everywhere WHEN mapped THEN null columns, no throw', () => {
    const nulls = Object.fromEntries(Object.keys(posture).map((k) => [k, null]));
    const [row] = rowsOf({ hostId: null, policy: [{ id: null, posture: [nulls] }] });
    expect(row.host_id).toBeNull();
    expect(row.evidence).toBeNull();
    expect(row.unparsed_values).toBeNull();
  });

  test('GIVEN dates as numbers or impossible dates WHEN mapped THEN null and recorded as sent', () => {
    const [row] = rowsOf({
      ...GUIDE_HOST,
      policy: [
        { id: 1, posture: [{ ...posture, evaluationDate: 1673866183000, firstEvaluatedDate: '2023-02-30T00:00:00Z' }] },
      ],
    });
    expect(row.evaluation_date).toBeNull();
    expect(row.first_evaluated_date).toBeNull();
    expect(JSON.parse(row.unparsed_values as string)).toMatchObject({
      evaluationDate: 1673866183000,
      firstEvaluatedDate: '2023-02-30T00:00:00Z',
    });
  });

  test('GIVEN a date with an offset or a fraction WHEN mapped THEN the UTC instant', () => {
    const [row] = rowsOf({
      ...GUIDE_HOST,
      policy: [
        {
          id: 1,
          posture: [
            { ...posture, evaluationDate: '2023-01-16T12:49:43.5+02:00', postureModifiedDate: '2023-01-16T10:49:43' },
          ],
        },
      ],
    });
    expect(row.evaluation_date).toEqual(new Date('2023-01-16T10:49:43.500Z'));
    expect(row.posture_modified_date).toEqual(new Date('2023-01-16T10:49:43Z'));
  });

  test('GIVEN a host with no policies, an empty policy list or policies without postures WHEN mapped THEN no rows (and not unmapped)', () => {
    expect(rowsOf({ ...GUIDE_HOST, policy: undefined })).toEqual([]);
    expect(rowsOf({ ...GUIDE_HOST, policy: [] })).toEqual([]);
    expect(rowsOf({ ...GUIDE_HOST, policy: [{ id: 1 }, { id: 2, posture: [] }, null] })).toEqual([]);
  });

  test('GIVEN a record that is not a host WHEN mapped THEN unmapped, with the reason', () => {
    expect(mapHostRecord(42, KEY)).toEqual({ kind: 'unmapped', reason: 'a number, not a host object' });
    expect(mapHostRecord(null, KEY)).toMatchObject({ kind: 'unmapped' });
    expect(mapHostRecord({ foo: 1 }, KEY)).toMatchObject({
      kind: 'unmapped',
      reason: expect.stringMatching(/none of hostId/),
    });
  });
});
