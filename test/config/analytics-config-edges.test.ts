/**
 * Edges of the analytics block that the real AWS would expose at deploy time, not at parse time.
 */
import { ConfigError, parseConfig } from '../../src/config/config';

const ENV = { platform: 'US1', credentialsSecret: 'qualys/api-credentials', vm: {} };

function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('analytics.databaseName', () => {
  test('GIVEN a databaseName of 129 to 255 characters WHEN parsed THEN it is refused, because the Athena workgroup takes the same name and Athena allows at most 128', () => {
    // GIVEN: a name Glue would take (<= 255) but Athena's workgroup name pattern
    // [a-zA-Z0-9._-]{1,128} would not; the stack names the workgroup after the database.
    const databaseName = `findings_${'x'.repeat(191)}`;
    expect(databaseName).toHaveLength(200);
    // WHEN
    const problems = problemsOf({ environments: { dev: { ...ENV, analytics: { enabled: true, databaseName } } } });
    // THEN: refused at parse time with the reason, not at deploy by CloudFormation.
    expect(problems).toEqual([expect.stringMatching(/databaseName.*128/)]);
  });
});
