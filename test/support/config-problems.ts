/** What a configuration is rejected with, read from the ConfigError the schema throws. */
import { ConfigError, parseConfig } from '../../src/config/config';

/** The least an environment needs besides a `vm` or `pc` block. */
export const BASE_ENV = Object.freeze({ platform: 'US1', credentialsSecret: 'qualys/api-credentials' });

/** The problems a configuration is rejected with; fails the test when it is accepted. */
export function problemsOf(raw: unknown): readonly string[] {
  const problems = problemsIfAny(raw);
  if (problems === undefined) throw new Error(`expected the configuration to be rejected: ${JSON.stringify(raw)}`);
  return problems;
}

/** The problems of a configuration whose only environment is `dev`; fails the test when it is accepted. */
export const problemsOfEnv = (env: Record<string, unknown>) => problemsOf({ environments: { dev: env } });

/** The problems a configuration is rejected with, or undefined when it is accepted. */
export function problemsIfAny(raw: unknown): readonly string[] | undefined {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return undefined;
}
