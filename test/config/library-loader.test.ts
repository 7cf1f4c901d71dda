/**
 * The configuration loader and parsers as the package exports them (src/index.ts, issue 12): a
 * consumer's app calls them, so they throw a ConfigError with the app's messages and never exit
 * the process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as library from '../../src/index';
import { ConfigError, loadConfig, parseConfig, parseEnvironment } from '../../src/index';

function scope(context: Record<string, unknown>) {
  return { node: { tryGetContext: (key: string) => context[key] } };
}

function thrown(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'qualys-loader-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig for a consumer app', () => {
  let exit: jest.SpyInstance;
  beforeEach(() => {
    exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`process.exit(${code})`);
    }) as never);
  });
  afterEach(() => exit.mockRestore());

  test('GIVEN an invalid file named by -c config THEN it throws a ConfigError listing every problem, and does not exit', () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ environments: { prod: { platform: 'US9', credentialsSecret: 'x', vm: { minSeverity: 9 } } } }),
    );
    const error = thrown(() => loadConfig(scope({ config: file })));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(2);
    expect((error as ConfigError).message).toContain(`configuration file ${file}`);
    expect(exit).not.toHaveBeenCalled();
  });

  test('GIVEN a file that does not exist, or is not JSON THEN a ConfigError says so', () => {
    expect(thrown(() => loadConfig(scope({ config: path.join(dir, 'missing.json') })))).toBeInstanceOf(ConfigError);
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ "environments": { ,');
    const error = thrown(() => loadConfig(scope({ config: file }))) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems[0]).toMatch(/is not valid JSON at line 1, column \d+/);
  });

  test('GIVEN the qualys context as a JSON string with an error THEN the messages are those parseConfig gives', () => {
    const raw = { environments: { prod: { platform: 'EU1', credentialsSecret: 'x', vm: { minSevrity: 3 } } } };
    const fromContext = thrown(() => loadConfig(scope({ qualys: JSON.stringify(raw) }))) as ConfigError;
    const fromParse = thrown(() => parseConfig(raw)) as ConfigError;
    expect(fromContext.problems).toEqual(fromParse.problems);
    expect(fromContext.problems[0]).toMatch(/did you mean "minSeverity"/);
  });

  test('GIVEN a valid qualys context THEN it returns the validated configuration', () => {
    const config = loadConfig(
      scope({ qualys: { environments: { prod: { platform: 'EU1', credentialsSecret: 'x', vm: true } } } }),
    );
    expect(config.environments.map((e) => e.envName)).toEqual(['prod']);
  });
});

describe('parseEnvironment and parseConfig', () => {
  test('GIVEN one environment with problems THEN parseEnvironment gives the messages parseConfig gives for it, every problem at once', () => {
    const raw = { platform: 'EU9', credentialsSecret: '', vm: { minSeverity: 0 }, pc: { policies: [1, 1] } };
    const one = thrown(() => parseEnvironment('prod', raw)) as ConfigError;
    const whole = thrown(() => parseConfig({ environments: { prod: raw } })) as ConfigError;
    expect(one).toBeInstanceOf(ConfigError);
    expect(one.problems).toHaveLength(4);
    expect(one.problems).toEqual(whole.problems);
  });

  // A known gap, older than the library: zod skips an object's refinements (even with `when`)
  // once one of its fields has an aborted issue, and an empty string aborts text(). test.failing
  // passes while the gap is there, and fails (to be turned into a test) once it is closed.
  test.failing('GIVEN both platform and gatewayUrl AND an empty credentialsSecret THEN both problems are listed at once (today the first appears only once the second is fixed)', () => {
    const raw = { platform: 'EU1', gatewayUrl: 'https://gateway.qg1.apps.qualys.com', credentialsSecret: '', vm: true };
    const error = thrown(() => parseEnvironment('prod', raw, { root: 'props' })) as ConfigError;
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^"props\.credentialsSecret" must be a non-empty string/),
        expect.stringMatching(/^"props\.gatewayUrl" and "props\.platform" are both set/),
      ]),
    );
  });

  test('GIVEN a root THEN the field paths start there', () => {
    const error = thrown(() =>
      parseEnvironment('prod', { platform: 'US1', credentialsSecret: 'x', vm: { minSeverity: 0 } }, { root: 'props' }),
    ) as ConfigError;
    expect(error.problems).toEqual([expect.stringMatching(/^"props\.vm\.minSeverity"/)]);
  });
});

describe('the package entry', () => {
  test('GIVEN src/index.ts THEN it exports what README tells consumers to use, and nothing of the CLI or the handler', () => {
    const exported = Object.keys(library).sort();
    expect(exported).toEqual(
      expect.arrayContaining([
        'ConfigError',
        'QualysS3Onboarding',
        'QualysS3Stack',
        'loadConfig',
        'parseConfig',
        'parseEnvironment',
        'stackName',
      ]),
    );
    expect(exported.filter((name) => /cli|handler|rehearse|preflight|exit/i.test(name))).toEqual([]);
  });
});
