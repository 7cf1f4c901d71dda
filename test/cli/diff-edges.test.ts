/**
 * Attacks on `qualys-s3 diff`: the answers the brief lists (rotation pending, CIPS policy
 * removed, filter changed, a kind dropped), exit codes, errors that must give 2 with what
 * failed and no secret (Qualys down, AWS denied, the stack mid-update), and read-only under
 * every path.
 */
import { type DiffDoc, PROD_SITE, type Run, useCliWorld } from '../support/cli-world';

const { ENV, STACK } = PROD_SITE;

const world = useCliWorld();
let config: string;

beforeEach(() => {
  config = world.config();
});

async function runDiff(file = config): Promise<{ code: number; doc: DiffDoc; run: Run }> {
  const run = await world.run(['diff', ENV, '--config', file, '--json']);
  return { code: run.code, doc: JSON.parse(run.stdout) as DiffDoc, run };
}

const steps = (doc: DiffDoc, kind: string) => doc.integrations.find((i) => i.kind === kind)?.steps.map((s) => s.name);

function expectReadOnly(): void {
  expect(world.sim.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`)).toEqual(
    world.sim.calls.filter((c) => c.method === 'POST' && c.path === '/auth').map(() => 'POST /auth'),
  );
  expect(Object.keys(world.aws.callCounts()).filter((k) => !/:(Get|List|Describe)/.test(k))).toEqual([]);
}

function expectNoSecret(run: Run): void {
  for (const s of world.secrets()) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}

const FILTER = { includeFailPosture: true, includePassPosture: false };

describe('qualys-s3 diff: the answers', () => {
  test('GIVEN a deployed environment WHEN "vm.externalIdRotation" changes THEN diff plans rotate, write-trust and validate, exits 1, and is not drift only', async () => {
    world.deployWithTemplate(config);
    const { code, doc } = await runDiff(world.config({ vm: { externalIdRotation: '2025-06' } }));
    expect(code).toBe(1);
    expect(steps(doc, 'vm')).toEqual(['rotate-external-id', 'write-trust', 'validate']);
    expect(doc.integrations[0].driftOnly).toBeFalsy();
    expect(steps(doc, 'pc')).toEqual([]);
    expectReadOnly();
  });

  test('GIVEN a deployed environment WHEN a CIPS policy is dropped from "pc.policies" THEN diff plans remove-policies of that policy only', async () => {
    world.deployWithTemplate(config);
    const { code, doc } = await runDiff(world.config({ pc: { policies: [2001], filter: FILTER } }));
    expect(code).toBe(1);
    expect(doc.integrations.find((i) => i.kind === 'pc')?.steps.map((s) => [s.name, s.policies])).toEqual([
      ['remove-policies', [2002]],
    ]);
  });

  test('GIVEN a deployed environment WHEN "pc.filter" changes THEN diff plans set-filter and nothing else', async () => {
    world.deployWithTemplate(config);
    const { code, doc } = await runDiff(
      world.config({ pc: { policies: [2001, 2002], filter: { includeFailPosture: true, includePassPosture: true } } }),
    );
    expect(code).toBe(1);
    expect(steps(doc, 'pc')).toEqual(['set-filter']);
  });

  test('GIVEN a deployed environment WHEN the configuration drops "pc" THEN diff plans the PC resource\'s delete: deregister it', async () => {
    world.deployWithTemplate(config);
    const { code, doc } = await runDiff(world.config({}, {}, ['pc']));
    expect(code).toBe(1);
    const pc = doc.integrations.find((i) => i.kind === 'pc');
    expect(pc?.event).toBe('delete');
    expect(pc?.steps.map((s) => s.name)[0]).toBe('deregister');
    expectReadOnly();
  });

  test('GIVEN the same state WHEN diff runs with and without --json THEN both report the same exit code', async () => {
    world.deployWithTemplate(config);
    const file = world.config({ vm: { minSeverity: 5 } });
    const json = await runDiff(file);
    const text = await world.run(['diff', ENV, '--config', file]);
    expect(json.code).toBe(1);
    expect(text.code).toBe(json.code);
    expect(text.stdout).toMatch(/put-settings: the configuration changed minSeverity/);
  });
});

describe('qualys-s3 diff: what it cannot tell', () => {
  test('GIVEN the stack is mid-update (UPDATE_IN_PROGRESS) WHEN diff runs THEN it exits 2 and says the stack is in progress', async () => {
    world.deployWithTemplate(config);
    world.aws.setStackStatus(STACK, 'UPDATE_IN_PROGRESS');
    const { code, doc, run } = await runDiff(world.config({ vm: { minSeverity: 5 } }));
    expect(code).toBe(2);
    expect(JSON.stringify(doc)).toMatch(/UPDATE_IN_PROGRESS|in progress/i);
    expectNoSecret(run);
  });

  test('GIVEN Qualys answers 503 to every call WHEN diff runs THEN it exits 2, names what failed, shows no secret and writes nothing', async () => {
    world.deployWithTemplate(config);
    world.sim.inject({ html: true, times: 1000 });
    const { code, doc, run } = await runDiff();
    expect(code).toBe(2);
    expect(`${doc.error ?? ''} ${doc.integrations.flatMap((i) => i.unknown).join(' ')}`).toMatch(
      /503|unavailable|gateway/i,
    );
    expectNoSecret(run);
    expectReadOnly();
  });

  test('GIVEN Qualys resets the connection of the integration reads WHEN diff runs THEN it exits 2 and writes nothing', async () => {
    world.deployWithTemplate(config);
    world.sim.inject({ method: 'GET', path: /partner-integration/, reset: true, times: 1000 });
    const { code, run } = await runDiff();
    expect(code).toBe(2);
    expectNoSecret(run);
    expectReadOnly();
  });

  test('GIVEN CloudFormation denies DescribeStacks WHEN diff runs THEN it exits 2 and the error names the stack read', async () => {
    world.deployWithTemplate(config);
    world.aws.inject({
      service: 'cloudformation',
      status: 403,
      code: 'AccessDenied',
      message: 'not authorized',
      times: 1000,
    });
    const { code, doc, run } = await runDiff();
    expect(code).toBe(2);
    expect(doc.error).toMatch(new RegExp(`reading stack ${STACK}.*(AccessDenied|not authorized)`));
    expectNoSecret(run);
  });

  test("GIVEN IAM denies reading the role WHEN diff runs THEN it exits 2 and says the role's trust policy could not be read", async () => {
    world.deployWithTemplate(config);
    world.aws.inject({ service: 'iam', status: 403, code: 'AccessDenied', message: 'not authorized', times: 1000 });
    const { code, doc, run } = await runDiff();
    expect(code).toBe(2);
    expect(doc.integrations.flatMap((i) => i.unknown).join(' ')).toMatch(/trust policy could not be read/);
    expectNoSecret(run);
    expectReadOnly();
  });

  test('GIVEN the credentials secret is denied WHEN diff runs THEN it exits 2, names the secret read and makes no Qualys call', async () => {
    world.deployWithTemplate(config);
    world.aws.denySecret('qualys/api-credentials');
    const { code, doc, run } = await runDiff();
    expect(code).toBe(2);
    expect(doc.error).toMatch(/credentials/);
    expect(world.sim.calls).toEqual([]);
    expectNoSecret(run);
  });
});
