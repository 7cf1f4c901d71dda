/**
 * Bad input: flags, commands, environments and configuration files. Exit 2 for usage and
 * configuration errors; --json keeps stdout one JSON document.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEV_SITE, check, expectWellFormed, useCliWorld } from '../support/cli-world';

const w = useCliWorld({ site: DEV_SITE, scope: 'file' });

describe('usage errors exit 2', () => {
  it.each([
    [['preflight', 'dev', '--bogus']],
    [['status', 'dev', '--config']],
    [['frobnicate', 'dev']],
    [[]],
    [['preflight', 'dev', 'extra-arg']],
    [['status', 'dev', '-x']],
  ])('%j exits 2 and says what is wrong', async (args) => {
    const run = await w.run(args.length && !args.includes('--config') ? [...args, '--config', w.config()] : args);
    expect(run.code).toBe(2);
    expect(run.stderr.length + run.stdout.length).toBeGreaterThan(0);
  });

  it('unknown flag with --json: exit 2, stdout is one JSON document, nothing on stderr', async () => {
    const run = await w.run(['preflight', 'dev', '--json', '--nope', '--config', w.config()]);
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.exitCode).toBe(2);
    expect(run.stderr).toBe('');
  });

  it('an environment that is not in the configuration exits 2 (json and human)', async () => {
    const file = w.config();
    const human = await w.run(['status', 'nosuch', '--config', file]);
    expect(human.code).toBe(2);
    expect(human.stderr + human.stdout).toContain('nosuch');
    const json = await w.run(['status', 'nosuch', '--config', file, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).exitCode).toBe(2);
  });

  it('no environment named while the configuration has several exits 2', async () => {
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
  it('a --config file that does not exist', async () => {
    const run = await w.run(['preflight', 'dev', '--config', path.join(w.dir, 'missing.json')]);
    expect(run.code).toBe(2);
  });

  it('a --config file that is not JSON (json mode: stdout still one JSON document)', async () => {
    const file = w.write('{ "environments": { dev: ', true);
    const run = await w.run(['preflight', 'dev', '--config', file, '--json']);
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout);
    expect(doc.exitCode).toBe(2);
    expect(run.stderr).toBe('');
  });

  it('no --config and no cdk.json in the working directory', async () => {
    const run = await w.run(['preflight', 'dev']);
    expect(run.code).toBe(2);
  });

  it('the default configuration is the "qualys" context of cdk.json in cwd', async () => {
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

  it.each([
    ['unknown field', { colour: 'red' }],
    ['neither vm nor pc', { vm: undefined, pc: undefined }],
    ['http gateway that is not loopback', { gatewayUrl: 'http://gateway.example.com' }],
    ['gatewayUrl and platform both set', { platform: 'US1' }],
    ['bad region', { region: 'moon-1' }],
    ['pc policy not an integer', { pc: { policies: ['abc'] } }],
  ])('an invalid environment (%s) exits 2 before any AWS or Qualys call', async (_label, overrides) => {
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
  });

  it('credentialsSecret holding the credentials themselves is refused without echoing them', async () => {
    const leaked = '{"username":"adv-user","password":"Adv-P4ssw0rd-ZZq9"}';
    const run = await w.run(['preflight', 'dev', '--config', w.config({ credentialsSecret: leaked })]);
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).not.toContain('Adv-P4ssw0rd-ZZq9');
  });

  it('a gatewayUrl with user:password is refused without echoing the password', async () => {
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
  it('VM only: preflight checks only the VM API and no CIPS, exit 0 even if the user lacks PC and CIPS', async () => {
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

  it('PC only with policies: preflight checks the PC API and CIPS, not VM', async () => {
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

  it('VM only, deployed, user without PC/CIPS permission: status does not fail on PC it does not use', async () => {
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

  it('PC only, deployed: status passes without touching VM', async () => {
    await w.inSecondWorld({}, async (world) => {
      world.deployed({ kinds: ['pc'] });
      const { code, doc } = await world.json(['status', 'dev', '--config', world.config({ vm: undefined })]);
      expect(doc.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.value}`)).toEqual([]);
      expect(doc.checks.map((c) => c.id)).not.toContain('vm-integration');
      expect(code).toBe(0);
    });
  });
});
