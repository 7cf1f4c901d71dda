/**
 * `qualys-s3 status` at scale and under transient faults: paging of IAM roles and S3 objects
 * (with throttling between pages), Qualys rate limiting with X-RateLimit-ToWait-Sec, and
 * connection resets from the gateway and from AWS.
 */
import { QUALYS_PRINCIPAL, type WorldOptions, check, DEV_SITE, useCliWorld } from '../support/cli-world';
import { expectConsistent, expectHumanSummaryMatches } from '../support/cli-report-checks';

const { ACCOUNT } = DEV_SITE;

const DAY = 86400_000;
const HOUR = 3600_000;
const SERVICE_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const OPEN_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: QUALYS_PRINCIPAL }, Action: 'sts:AssumeRole' }],
};

const w = useCliWorld({ site: DEV_SITE, scope: 'none' });
const start = (opts: WorldOptions = {}) => w.build(opts);

/** Runs `after` once, right after the fake has answered the first call its wrapped handler sees. */
function afterFirstPage(
  method: 'listRoles' | 'listObjectsV2',
  matches: (params: URLSearchParams) => boolean,
  after: () => void,
) {
  const fake = w.aws as unknown as Record<string, (p: URLSearchParams) => unknown>;
  const original = fake[method].bind(w.aws);
  let done = false;
  fake[method] = (params: URLSearchParams) => {
    const reply = original(params);
    if (!done && matches(params)) {
      done = true;
      after();
    }
    return reply;
  };
}

describe('paging', () => {
  test('GIVEN 2,401 roles and IAM throttling ListRoles after the first page WHEN status runs THEN the open-trust check fails naming only the open role on the last page, after at least five ListRoles calls, exit 1', async () => {
    await start();
    w.deployed();
    for (let i = 0; i < 2400; i++) w.aws.createRole(`bulk-role-${String(i).padStart(4, '0')}`, SERVICE_TRUST);
    w.aws.createRole('zzz-legacy-open', OPEN_TRUST);
    afterFirstPage(
      'listRoles',
      () => true,
      () => w.aws.inject({ service: 'iam', action: 'ListRoles', times: 2 }),
    );
    const out = await w.json(['status', 'dev', '--config', w.config()]);
    const doc = expectConsistent(w, out);
    const c = check(doc, 'open-trust');
    expect(c.status).toBe('fail');
    expect(c.value).toContain('zzz-legacy-open');
    expect(c.value).not.toContain('bulk-role');
    expect(out.code).toBe(1);
    // Three pages of 1000 and the two throttled attempts.
    expect(w.aws.callCounts()['iam:ListRoles']).toBeGreaterThanOrEqual(5);
  }, 40_000);

  test('GIVEN a 2,500-object date folder with its newest object on the third page and S3 SlowDown after the first WHEN status runs THEN the VM data check passes naming that object, exit 0', async () => {
    await start();
    const now = Date.now();
    const d = w.deployed({ kinds: ['vm'], now: now - 10 * DAY });
    for (let i = 0; i < 2500; i++) {
      w.aws.putObject(d.bucket, `qualys_vm_findings/2026-02-01/obj-${String(i).padStart(4, '0')}.json.gz`, {
        lastModified: i === 2300 ? now - 30 * 60_000 : now - 3 * DAY,
      });
    }
    afterFirstPage(
      'listObjectsV2',
      (p) => (p.get('prefix') ?? '').startsWith('qualys_vm_findings/2026-02-01/'),
      () =>
        w.aws.inject({
          service: 's3',
          action: 'ListObjectsV2',
          status: 503,
          code: 'SlowDown',
          message: 'Please reduce your request rate.',
          times: 2,
        }),
    );
    const out = await w.json(['status', 'dev', '--config', w.config({ pc: undefined }, {}, ['pc'])]);
    const doc = expectConsistent(w, out);
    const c = check(doc, 'vm-data');
    expect(c.status).toBe('pass');
    expect(c.value).toContain('qualys_vm_findings/2026-02-01/obj-2300.json.gz');
    expect(out.code).toBe(0);
  }, 40_000);

  test('GIVEN more than 1,000 date folders (CommonPrefixes over several pages) WHEN status runs THEN the VM data check passes naming the newest object, in the newest folder', async () => {
    await start();
    const now = Date.now();
    const d = w.deployed({ kinds: ['vm'], now: now - 10 * DAY });
    // After the harness's own findings/2026-01-02/ folder, so the newest folder name is also the newest data.
    const day0 = Date.UTC(2026, 1, 1);
    for (let i = 0; i < 1100; i++) {
      const date = new Date(day0 + i * DAY).toISOString().slice(0, 10);
      w.aws.putObject(d.bucket, `findings/${date}/part-${i}.json.gz`, {
        lastModified: i === 1099 ? now - HOUR : now - 20 * DAY,
      });
    }
    const newestKey = `findings/${new Date(day0 + 1099 * DAY).toISOString().slice(0, 10)}/part-1099.json.gz`;
    const out = await w.json(['status', 'dev', '--config', w.config({}, {}, ['pc'])]);
    const doc = expectConsistent(w, out);
    const c = check(doc, 'vm-data');
    expect(c.status).toBe('pass');
    expect(c.value).toContain(newestKey);
  }, 40_000);

  test('GIVEN a fresh object in an older date folder than the newest folder WHEN status runs THEN the VM data check passes naming that fresh object', async () => {
    // Qualys may (re)write into an earlier date folder; the newest folder name is not the newest object.
    await start();
    const now = Date.now();
    const d = w.deployed({ kinds: ['vm'], now: now - 10 * DAY });
    w.aws.putObject(d.bucket, 'qualys_vm_findings/2026-03-02/late-folder.json.gz', { lastModified: now - 40 * HOUR });
    w.aws.putObject(d.bucket, 'qualys_vm_findings/2026-03-01/rewritten.json.gz', { lastModified: now - 30 * 60_000 });
    const out = await w.json(['status', 'dev', '--config', w.config({}, {}, ['pc'])]);
    const doc = expectConsistent(w, out);
    const c = check(doc, 'vm-data');
    expect(c.value).toContain('qualys_vm_findings/2026-03-01/rewritten.json.gz');
    expect(c.status).toBe('pass');
  }, 30_000);
});

describe('Qualys rate limiting and resets during status', () => {
  test('GIVEN a gateway that answers 429 with X-RateLimit-ToWait-Sec WHEN status runs THEN each 429 is retried no sooner than the wait, no check fails, progress shows on stderr, and it exits 0', async () => {
    await start({ sim: { rateLimit: { limit: 2, windowMs: 1500 } } });
    w.deployed();
    const run = await w.run(['status', 'dev', '--config', w.config()]);
    for (const s of w.secrets()) expect(run.stdout + run.stderr).not.toContain(s);
    const limited = w.sim.calls.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    // The retry of a 429 comes no sooner than the wait the gateway asked for (at least 1 s).
    for (const c of limited) {
      const next = w.sim.calls.find((n) => n.at > c.at && n.path === c.path && n.method === c.method);
      expect(next).toBeDefined();
      expect(next!.at - c.at).toBeGreaterThanOrEqual(900);
    }
    expect(run.stdout).not.toMatch(/^ {2}✖/m);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/…/);
    expectHumanSummaryMatches(run);
  }, 40_000);

  test('GIVEN a 429 asking to wait 10 minutes on GET VM integration WHEN status runs THEN it ends within 30 s, the VM integration check fails as rate limited, the PC one passes, exit 1, one JSON document', async () => {
    await start();
    const d = w.deployed();
    w.sim.inject({
      path: `/partner-integration/aws/s3/${d.ids.vm}/vm`,
      status: 429,
      headers: { 'X-RateLimit-Limit': '300', 'X-RateLimit-Remaining': '0', 'X-RateLimit-ToWait-Sec': '600' },
      body: JSON.stringify({ messsage: 'API rate limit exceeded' }),
      times: 10,
    });
    const started = Date.now();
    const out = await w.json(['status', 'dev', '--config', w.config()]);
    expect(Date.now() - started).toBeLessThan(30_000);
    const doc = expectConsistent(w, out);
    const c = check(doc, 'vm-integration');
    expect(c.status).toBe('fail');
    expect(c.value).toMatch(/429|rate/i);
    expect(check(doc, 'pc-integration').status).toBe('pass');
    expect(out.code).toBe(1);
  }, 45_000);

  test('GIVEN the gateway resets the connection once on GET VM integration WHEN status runs THEN progress shows on stderr, the VM integration check passes with its ID, and it exits 0', async () => {
    await start();
    const d = w.deployed();
    w.sim.inject({ path: `/partner-integration/aws/s3/${d.ids.vm}/vm`, reset: true, times: 1 });
    const run = await w.run(['status', 'dev', '--config', w.config()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ VM integration\s+ID \d+/);
    expect(run.stderr).toMatch(/…/);
    expectHumanSummaryMatches(run);
  }, 30_000);

  test('GIVEN the gateway keeps resetting GET /pcas/cips/config WHEN status runs THEN the CIPS check fails, not as a permission or credentials problem, the orphans and VM integration checks pass, exit 1', async () => {
    await start();
    w.deployed();
    w.sim.inject({ path: '/pcas/cips/config', reset: true, times: 20 });
    const out = await w.json(['status', 'dev', '--config', w.config()]);
    const doc = expectConsistent(w, out);
    const c = check(doc, 'cips');
    expect(c.status).toBe('fail');
    expect(c.value).not.toMatch(/HTTP 403|not allowed|bad credentials/i);
    expect(check(doc, 'orphans').status).toBe('pass');
    expect(check(doc, 'vm-integration').status).toBe('pass');
    expect(out.code).toBe(1);
  }, 40_000);
});

describe('AWS resets and throttling', () => {
  test('GIVEN one connection reset on each of STS, CloudFormation, IAM and S3 WHEN status runs THEN every check passes and it exits 0', async () => {
    await start();
    w.deployed();
    w.aws.inject({ service: 'sts', action: 'GetCallerIdentity', reset: true, times: 1 });
    w.aws.inject({ service: 'cloudformation', action: 'DescribeStacks', reset: true, times: 1 });
    w.aws.inject({ service: 'iam', action: 'GetRole', reset: true, times: 1 });
    w.aws.inject({ service: 'iam', action: 'ListRoles', reset: true, times: 1 });
    w.aws.inject({ service: 's3', action: 'ListObjectsV2', reset: true, times: 1 });
    const out = await w.json(['status', 'dev', '--config', w.config()]);
    const doc = expectConsistent(w, out);
    expect(doc.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}:${c.status}:${c.value}`)).toEqual([]);
    expect(out.code).toBe(0);
  }, 40_000);

  test('GIVEN S3 keeps resetting the connection WHEN status runs THEN the data and test-file checks fail (not pass, not warn), the VM trust check passes, exit 1', async () => {
    await start();
    w.deployed();
    w.aws.inject({ service: 's3', action: 'ListObjectsV2', reset: true, times: 200 });
    const out = await w.json(['status', 'dev', '--config', w.config()]);
    const doc = expectConsistent(w, out);
    for (const id of ['vm-data', 'pc-data', 'test-file']) expect(check(doc, id).status).toBe('fail');
    expect(check(doc, 'vm-trust').status).toBe('pass');
    expect(out.code).toBe(1);
  }, 45_000);

  test('GIVEN IAM throttles ListRoles three times WHEN status runs THEN stderr shows a progress ellipsis and it exits 0', async () => {
    await start();
    w.deployed();
    w.aws.inject({ service: 'iam', action: 'ListRoles', times: 3 });
    const run = await w.run(['status', 'dev', '--config', w.config()]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/…/);
  }, 30_000);
});

test('GIVEN the dev site of the CLI world WHEN status runs THEN the credentials check names the account the fake AWS reports, the one the tests above assume', async () => {
  await start();
  w.deployed();
  const run = await w.run(['status', 'dev', '--config', w.config(), '--json']);
  const report = JSON.parse(run.stdout) as { checks: Array<{ id: string; value?: string }> };
  expect(report.checks.find((c) => c.id === 'aws-identity')?.value).toContain(ACCOUNT);
}, 30_000);
