/** layout.ts attacked (independent review, issue 14): the partition day of a key. */
import { partitionDay } from '../../../src/core/findings/layout';

describe('partitionDay', () => {
  test('GIVEN a day folder that is no calendar day (2023-02-30) WHEN partitioned THEN the LastModified day, as for 2023-13-45', () => {
    // GIVEN: the check `Date.parse(`${day}T00:00:00Z`)` is meant to refuse impossible days, but V8 accepts
    // any day up to 31 in any month, so 2023-02-30 becomes a partition Athena's date projection never
    // enumerates (its rows are invisible to Athena, visible to DuckDB: the engines disagree).
    const lastModified = new Date('2023-03-02T08:00:00Z');
    // WHEN / THEN
    expect(partitionDay('qualys_pc_posture_info/2023-13-45/a.gz', lastModified)).toBe('2023-03-02');
    expect(partitionDay('qualys_pc_posture_info/2023-02-30/a.gz', lastModified)).toBe('2023-03-02');
    expect(partitionDay('qualys_pc_posture_info/2023-04-31/a.gz', lastModified)).toBe('2023-03-02');
  });
});
