/**
 * Bad input: flags, commands, environments and configuration files. Exit 2 for usage and
 * configuration errors; --json keeps stdout one JSON document.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEV_SITE, check, expectWellFormed, useCliWorld } from '../support/cli-world';

const w = useCliWorld({ site: DEV_SITE, scope: 'file' });

describe('usage errors exit 2', () => {
  test.each([
    [['preflight', 'dev', '--bogus']],
    [['status', 'dev', '--config']],
    [['frobnicate', 'dev']],
    [[]],
    [['preflight', 'dev', 'extra-arg']],
    [['status', 'dev', '-x']],
  ])('GIVEN the arguments %j WHEN the CLI runs THEN it exits 2 and prints a message', async (args) => {
    const run = await w.run(args.length && !args.includes('--config') ? [...args, '--config', w.config()] : args);
    expect(run.code).toBe(2);
    expect(run.stderr.length + run.stdout.length).toBeGreaterThan(0);
  });

  test('GIVEN an unknown flag and --json WHEN preflight runs THEN it exits 2, stdout is one JSON document with ok false and exitCode 2, and stderr is empty', async () => {
    const run = await w.run(['preflight', 'dev', '--json', '--nope', '--config', w.config()]);
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.exitCode).toBe(2);
    expect(run.stderr).toBe('');
  });

  test('GIVEN an environment that is not in the configuration WHEN status runs for a person and with --json THEN both exit 2, the human output names it, and the JSON says exitCode 2', async () => {
    const file = w.config();
    const human = await w.run(['status', 'nosuch', '--config', file]);
    expect(human.code).toBe(2);
    expect(human.stderr + human.stdout).toContain('nosuch');
    const json = await w.run(['status', 'nosuch', '--config', file, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).exitCode).toBe(2);
  });

  test('GIVEN a configuration with several environments WHEN preflight runs without naming one THEN it exits 2', async () => {
    const file = w.config(
      {},
      {
        other: {
          account: '123456789012',
          region: 'us-east-1',
          gatewayUrl: w.gateway,
          credentialsSecret: 'x/y',
          vm: { name: 'other-vm' },
        },
      },
    );
    const run = await w.run(['preflight', '--config', file]);
    expect(run.code).toBe(2);
  });
});

describe('configuration errors exit 2', () => {
  test('GIVEN a --config file that does not exist WHEN preflight runs THEN it exits 2', async () => {
    const run = await w.run(['preflight', 'dev', '--config', path.join(w.dir, 'missing.json')]);
    expect(run.code).toBe(2);
  });

  test('GIVEN a --config file that is not JSON WHEN preflight runs with --json THEN it exits 2, stdout is one JSON document with exitCode 2, and stderr is empty', async () => {
    const file = w.write('{ "environments": { dev: ', true);
    const run = await w.run(['preflight', 'dev', '--config', file, '--json']);
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout);
    expect(doc.exitCode).toBe(2);
    expect(run.stderr).toBe('');
  });

  test('GIVEN no --config and no cdk.json in the working directory WHEN preflight runs THEN it exits 2', async () => {
    const run = await w.run(['preflight', 'dev']);
    expect(run.code).toBe(2);
  });

  test('GIVEN no --config and a cdk.json in the working directory with a "qualys" context WHEN preflight runs THEN the configuration check passes for an environment of that context', async () => {
    fs.writeFileSync(
      path.join(w.dir, 'cdk.json'),
      JSON.stringify({
        app: 'x',
        context: {
          qualys: { environments: { ctxenv: { gatewayUrl: w.gateway, credentialsSecret: 'does/not-exist', vm: {} } } },
        },
      }),
    );
    try {
      const { doc } = await w.json(['preflight', 'ctxenv']);
      expectWellFormed(doc);
      expect(check(doc, 'config').status).toBe('pass');
    } finally {
      fs.rmSync(path.join(w.dir, 'cdk.json'));
    }
  });

  test.each([
    ['unknown field', { colour: 'red' }],
    ['neither vm nor pc', { vm: undefined, pc: undefined }],
    ['http gateway that is not loopback', { gatewayUrl: 'http://gateway.example.com' }],
    ['gatewayUrl and platform both set', { platform: 'US1' }],
    ['bad region', { region: 'moon-1' }],
    ['pc policy not an integer', { pc: { policies: ['abc'] } }],
  ])(
    'GIVEN an invalid environment (%s) WHEN preflight runs THEN it exits 2, exitCode 2 in the JSON, before any AWS or Qualys call',
    async (_label, overrides) => {
      w.aws.resetCalls();
      w.sim.resetCalls();
      const { code, doc } = await w.json([
        'preflight',
        'dev',
        '--config',
        w.config(overrides as Record<string, unknown>),
      ]);
      expect(code).toBe(2);
      expect(doc.exitCode).toBe(2);
      expect(w.aws.calls).toEqual([]);
      expect(w.sim.calls).toEqual([]);
    },
  );

  test('GIVEN a credentialsSecret that holds the credentials themselves WHEN preflight runs THEN it exits 2 without echoing the password', async () => {
    const leaked = '{"username":"adv-user","password":"Adv-P4ssw0rd-ZZq9"}';
    const run = await w.run(['preflight', 'dev', '--config', w.config({ credentialsSecret: leaked })]);
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).not.toContain('Adv-P4ssw0rd-ZZq9');
  });

  test('GIVEN a gatewayUrl with user:password WHEN preflight runs with --json THEN it exits 2 without echoing the password', async () => {
    const run = await w.run([
      'preflight',
      'dev',
      '--json',
      '--config',
      w.config({ gatewayUrl: 'https://adv-user:Adv-P4ssw0rd-ZZq9@gateway.qg1.apps.qualys.com' }),
    ]);
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).not.toContain('Adv-P4ssw0rd-ZZq9');
  });
});

describe('environments with only VM or only PC', () => {
  test('GIVEN a VM-only environment and a user denied PC and CIPS WHEN preflight runs THEN there is no PC API or CIPS check and it exits 0', async () => {
    await w.inSecondWorld(
      {
        sim: { users: [{ username: 'adv-user', password: 'Adv-P4ssw0rd-ZZq9', denied: ['s3-pc', 'cips'] }] },
      },
      async (world) => {
        const { code, doc } = await world.json(['preflight', 'dev', '--config', world.config({ pc: undefined })]);
        expectWellFormed(doc);
        expect(doc.checks.map((c) => c.id)).not.toContain('api-pc');
        expect(doc.checks.map((c) => c.id)).not.toContain('cips');
        expect(code).toBe(0);
      },
    );
  });

  test('GIVEN a PC-only environment with policies and a user denied VM WHEN preflight runs THEN the PC API and CIPS checks pass, there is no VM API check, and it exits 0', async () => {
    await w.inSecondWorld(
      {
        sim: { users: [{ username: 'adv-user', password: 'Adv-P4ssw0rd-ZZq9', denied: ['s3-vm'] }] },
      },
      async (world) => {
        const { code, doc } = await world.json(['preflight', 'dev', '--config', world.config({ vm: undefined })]);
        expect(check(doc, 'api-pc').status).toBe('pass');
        expect(check(doc, 'cips').status).toBe('pass');
        expect(doc.checks.map((c) => c.id)).not.toContain('api-vm');
        expect(code).toBe(0);
      },
    );
  });

  test('GIVEN a deployed VM-only environment and a user denied PC and CIPS WHEN status runs THEN no check fails and it exits 0', async () => {
    await w.inSecondWorld(
      {
        sim: { users: [{ username: 'adv-user', password: 'Adv-P4ssw0rd-ZZq9', denied: ['s3-pc', 'cips'] }] },
      },
      async (world) => {
        world.deployed({ kinds: ['vm'] });
        const { code, doc } = await world.json(['status', 'dev', '--config', world.config({ pc: undefined })]);
        expectWellFormed(doc);
        const failed = doc.checks.filter((c) => c.status === 'fail');
        expect(failed.map((c) => `${c.id}: ${c.value}`)).toEqual([]);
        expect(code).toBe(0);
      },
    );
  });

  test('GIVEN a deployed PC-only environment WHEN status runs THEN no check fails, there is no VM integration check, and it exits 0', async () => {
    await w.inSecondWorld({}, async (world) => {
      world.deployed({ kinds: ['pc'] });
      const { code, doc } = await world.json(['status', 'dev', '--config', world.config({ vm: undefined })]);
      expect(doc.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.value}`)).toEqual([]);
      expect(doc.checks.map((c) => c.id)).not.toContain('vm-integration');
      expect(code).toBe(0);
    });
  });
});
