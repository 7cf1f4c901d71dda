/** values.ts attacked (independent review, issue 14): timestamps the fast and slow paths misread. */
import { toTimestamp } from '../../../src/core/findings/values';

describe('toTimestamp', () => {
  test('GIVEN a date in the years 0-99 (the "0001-01-01T00:00:00Z" null sentinel) WHEN read THEN that year, not 19xx', () => {
    // GIVEN / WHEN: Date.UTC maps years 0-99 to 1900-1999, so both paths shift such dates by 1900 years.
    const sentinel = toTimestamp('0001-01-01T00:00:00Z');
    const withFraction = toTimestamp('0099-12-31T23:59:59.5Z');
    // THEN: the instant as written (today 1901-01-01 and 1999-12-31: plausible-looking, wrong dates
    // that a "hosts not evaluated for N days" query would count as real).
    expect(sentinel?.toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(withFraction?.toISOString()).toBe('0099-12-31T23:59:59.500Z');
  });
});
