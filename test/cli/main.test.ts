/**
 * The command line itself: arguments, configuration errors and exit statuses, in-process and
 * through the installed bin.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { ROOT } from '../../sim/deployment';
import { PROD_SITE, useCliWorld } from '../support/cli-world';

const { ENV } = PROD_SITE;

const world = useCliWorld({ scope: 'file' });

describe('usage errors exit 2', () => {
  test.each([
    [[], 'no command given'],
    [['deploy', ENV], 'unknown command "deploy"'],
    [['preflight', ENV, 'extra'], 'unexpected argument "extra"'],
    [['preflight', ENV, '--colour'], 'unknown option "--colour"'],
    [['preflight', ENV, '--timeout', 'soon'], '--timeout takes whole seconds'],
  ])('GIVEN %j WHEN run THEN it exits 2 with the problem and the usage on stderr', async (args, problem) => {
    const out = await world.run(args as string[]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(problem);
    expect(out.stderr).toContain('Usage: qualys-s3 <command>');
  });

  test('GIVEN an environment the configuration does not have WHEN run THEN it exits 2 and lists the ones it has', async () => {
    const out = await world.run(['status', 'qa', '--config', world.config()]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('no environment "qa" in the configuration; it has prod');
  });

  test('GIVEN --json and a usage error THEN stdout is one JSON document saying so', async () => {
    const out = await world.run(['preflight', 'qa', '--config', world.config(), '--json']);
    expect(out.code).toBe(2);
    expect(JSON.parse(out.stdout)).toEqual({
      command: 'preflight',
      ok: false,
      exitCode: 2,
      error: { type: 'usage', message: expect.stringContaining('no environment "qa"') },
    });
  });

  test('GIVEN --help THEN the usage is printed and it exits 0', async () => {
    const out = await world.run(['--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('preflight <env>');
  });
});

describe('configuration errors exit 2, with the same validation as synth', () => {
  test('GIVEN an invalid configuration WHEN preflight runs THEN it exits 2 with every problem, as synth reports them', async () => {
    const file = path.join(world.dir, 'bad.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ environments: { [ENV]: { platform: 'US9', credentialsSecret: '', vm: { minSeverity: 7 } } } }),
    );
    const out = await world.run(['preflight', ENV, '--config', file]);
    expect(out.code).toBe(2);
    expect(out.stdout).toMatch(/✖ configuration\s+3 problem\(s\)/);
    expect(out.stderr).toContain('"qualys.environments.prod.platform" is "US9"');
    expect(out.stderr).toContain('"qualys.environments.prod.vm.minSeverity" must be a whole number from 1 to 5');

    const json = await world.run(['preflight', ENV, '--config', file, '--json']);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ command: 'preflight', ok: false, exitCode: 2, error: { type: 'configuration' } });
    expect(doc.error.problems).toHaveLength(3);
  });

  test('GIVEN a configuration file that is not JSON or does not exist THEN it exits 2 and says which file', async () => {
    const file = path.join(world.dir, 'broken.json');
    fs.writeFileSync(file, '{ environments: ');
    expect((await world.run(['status', ENV, '--config', file])).stderr).toContain('is not valid JSON');
    const missing = await world.run(['status', ENV, '--config', 'nowhere.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });

  test('GIVEN no --config WHEN run in a folder with cdk.json THEN its "qualys" context is the configuration, and one environment needs no name', async () => {
    fs.writeFileSync(
      path.join(world.dir, 'cdk.json'),
      JSON.stringify({ app: 'x', context: { qualys: JSON.parse(fs.readFileSync(world.config(), 'utf8')) } }),
    );
    const { code, doc } = await world.json(['preflight']);
    expect(code).toBe(0);
    expect(doc.envName).toBe(ENV);
  });
});

describe('the installed command', () => {
  test('GIVEN the package bin WHEN run as a process THEN it runs the CLI and exits with its status', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const bin = path.join(ROOT, pkg.bin['qualys-s3']);
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: qualys-s3');
    const bad = spawnSync(process.execPath, [bin, 'preflight', 'nope'], { encoding: 'utf8', cwd: ROOT });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('no environment "nope"');
  });

  test('GIVEN main WHEN called with an io object THEN it writes only through it, even for checks that fail', async () => {
    const lines: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write');
    const stderr = jest.spyOn(process.stderr, 'write');
    try {
      world.aws.deleteSecret('qualys/api-credentials');
      const code = await main(['preflight', ENV, '--config', world.config()], {
        stdout: (t) => lines.push(t),
        stderr: (t) => lines.push(t),
        cwd: world.dir,
      });
      expect(code).toBe(1);
      expect(lines.join('')).toMatch(/✖ credentials secret/);
      expect(stdout).not.toHaveBeenCalled();
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      world.aws.putSecret(
        'qualys/api-credentials',
        JSON.stringify({ username: 'cli-user', password: 'Cli-Pa55word-7xQ' }),
      );
    }
  });
});

describe('our own words for bad options, per-command help, and the project folder', () => {
  test.each([
    [
      ['preflight', ENV, '--bogus'],
      'qualys-s3: unknown option "--bogus"; the options are --config, --json, --verbose, --timeout, --iam-delay, --dialect, --local, --param, --list, --from, --to, --dry-run, --out, --table, --bucket, --help',
    ],
    [['status', ENV, '-x'], 'qualys-s3: unknown option "-x"'],
    [['status', ENV, '--config'], 'qualys-s3: --config needs a value, e.g. --config qualys.json'],
    [['status', ENV, '--config', '--json'], 'qualys-s3: --config needs a value'],
    [['preflight', ENV, '--verbose=yes'], 'qualys-s3: --verbose takes no value (got "--verbose=yes")'],
  ])(
    "GIVEN %j WHEN run THEN it exits 2 with our message and usage, not Node's parseArgs text",
    async (args, message) => {
      const out = await world.run(args);
      expect(out.code).toBe(2);
      expect(out.stderr.startsWith(message)).toBe(true);
      expect(out.stderr).toContain('Usage: qualys-s3 <command>');
      expect(out.stderr).not.toMatch(/Unknown option '|To specify a positional argument|argument missing|ambiguous/);
    },
  );

  test('GIVEN --bogus with --json WHEN run THEN the one JSON document carries our message', async () => {
    const out = await world.run(['preflight', ENV, '--bogus', '--json']);
    expect(out.code).toBe(2);
    expect(JSON.parse(out.stdout)).toMatchObject({
      command: 'preflight',
      exitCode: 2,
      error: { type: 'usage', message: expect.stringMatching(/^unknown option "--bogus"/) },
    });
  });

  test.each(['preflight', 'status', 'rehearse'])(
    'GIVEN "%s --help" WHEN run THEN that command\'s help is printed and it exits 0, without running it',
    async (command) => {
      const calls = world.sim.calls.length;
      const out = await world.run([command, ENV, '--help']);
      expect(out.code).toBe(0);
      expect(out.stdout.startsWith(`Usage: qualys-s3 ${command} [envName]`)).toBe(true);
      expect(out.stdout).not.toContain('Commands:');
      expect(out.stderr).toBe('');
      expect(world.sim.calls.length).toBe(calls);
    },
  );

  test("GIVEN the status help WHEN read THEN it says that CIPS and orphans wait for the first deploy; rehearse's says it departs from the configuration", async () => {
    expect((await world.run(['status', '-h'])).stdout).toMatch(
      /Before the first deploy \(no stack\), the\s+CIPS and orphan checks are skipped/,
    );
    expect((await world.run(['rehearse', '-h'])).stdout).toMatch(/--iam-delay <s>/);
  });

  test('GIVEN a subfolder of the project WHEN run there without --config THEN the cdk.json above is found and named in the header', async () => {
    const project = fs.mkdtempSync(path.join(world.dir, 'project-'));
    fs.writeFileSync(
      path.join(project, 'cdk.json'),
      JSON.stringify({ app: 'x', context: { qualys: JSON.parse(fs.readFileSync(world.config(), 'utf8')) } }),
    );
    const sub = path.join(project, 'lambda', 'deeper');
    fs.mkdirSync(sub, { recursive: true });
    let stdout = '';
    const code = await main(['preflight'], { stdout: (t) => (stdout += t), stderr: () => {}, cwd: sub });
    expect(code).toBe(0);
    expect(stdout).toContain(
      `qualys-s3 preflight ${ENV} (eu-west-1)\n  configuration: ${path.join(project, 'cdk.json')}\n`,
    );
  });

  test('GIVEN a folder with no cdk.json in it or above it WHEN run without --config THEN it exits 2 and says to run from the project folder', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-nowhere-'));
    try {
      let stderr = '';
      const code = await main(['status', ENV], { stdout: () => {}, stderr: (t) => (stderr += t), cwd: outside });
      expect(code).toBe(2);
      expect(stderr).toContain(
        `no cdk.json in ${outside} or any folder above it: run qualys-s3 from the project folder (where cdk.json is), or pass --config <file>`,
      );
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
