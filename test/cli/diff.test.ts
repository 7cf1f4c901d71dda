/**
 * `qualys-s3 diff`: the plan a deploy would apply, against the simulator and the fake AWS, with
 * a stack whose template and resources are as a deploy of the configuration leaves them.
 */
import { type DiffDoc, PROD_SITE, QUALYS_PRINCIPAL, trustPolicy, useCliWorld } from '../support/cli-world';

const { ENV } = PROD_SITE;

const world = useCliWorld();
let config: string;

beforeEach(() => {
  config = world.config();
});

async function runDiff(file = config): Promise<{ code: number; doc: DiffDoc }> {
  const out = await world.run(['diff', ENV, '--config', file, '--json']);
  return { code: out.code, doc: JSON.parse(out.stdout) as DiffDoc };
}

const steps = (doc: DiffDoc, kind: string) => doc.integrations.find((i) => i.kind === kind)?.steps.map((s) => s.name);

describe('qualys-s3 diff', () => {
  test('GIVEN no stack WHEN diff runs THEN it shows the plan of a create for each kind, and exits 1', async () => {
    const { code, doc } = await runDiff();
    expect(code).toBe(1);
    expect(doc.stackExists).toBe(false);
    expect(steps(doc, 'vm')).toEqual(['register', 'write-trust', 'validate']);
    expect(steps(doc, 'pc')).toEqual([
      'register',
      'put-settings',
      'write-trust',
      'validate',
      'add-policies',
      'set-filter',
    ]);
  });

  test('GIVEN a deployed environment in sync WHEN diff runs THEN the plan is empty and it exits 0', async () => {
    world.deployWithTemplate(config);
    const { code, doc } = await runDiff();
    expect(doc.integrations.map((i) => [i.kind, i.event, i.steps, i.unknown])).toEqual([
      ['vm', 'update', [], []],
      ['pc', 'update', [], []],
    ]);
    expect(code).toBe(0);
    const text = await world.run(['diff', ENV, '--config', config]);
    expect(text.stdout).toMatch(/VM integration vm:\d+@.* \(update\): no changes/);
    expect(text.stdout).toMatch(/no changes: Qualys and the trust policies are as the configuration says/);
  });

  test('GIVEN a setting changed in the configuration WHEN diff runs THEN it plans put-settings naming the field, and exits 1', async () => {
    world.deployWithTemplate(config);
    const { code, doc } = await runDiff(world.config({ vm: { minSeverity: 5 } }));
    expect(code).toBe(1);
    expect(steps(doc, 'vm')).toEqual(['put-settings', 'validate']);
    expect(doc.integrations[0].steps[0].reason).toMatch(/minSeverity/);
    expect(steps(doc, 'pc')).toEqual([]);
  });

  test('GIVEN the integration was deleted in Qualys WHEN diff runs THEN it plans register', async () => {
    world.deployWithTemplate(config);
    world.sim.clearIntegrations();
    const { code, doc } = await runDiff();
    expect(code).toBe(1);
    expect(steps(doc, 'vm')).toEqual(['register']);
    expect(doc.integrations[0].steps[0].reason).toMatch(/no longer exists in Qualys \(deleted outside this stack\)/);
  });

  test("GIVEN the role's trust policy lacks the external ID WHEN diff runs THEN it plans write-trust and validate", async () => {
    const deployed = world.deployWithTemplate(config);
    world.aws.setTrustPolicy(deployed.roles.vm!, trustPolicy(['qualys-s3-pending-registration-vm']));
    const { code, doc } = await runDiff();
    expect(code).toBe(1);
    expect(steps(doc, 'vm')).toEqual(['write-trust', 'validate']);
    expect(doc.integrations[0].steps[0].reason).toContain(QUALYS_PRINCIPAL);
  });

  test('GIVEN a CIPS policy added to the configuration WHEN diff runs THEN it plans add-policies of that policy', async () => {
    world.deployWithTemplate(config);
    const { code, doc } = await runDiff(
      world.config({
        pc: { policies: [2001, 2002, 2003], filter: { includeFailPosture: true, includePassPosture: false } },
      }),
    );
    expect(code).toBe(1);
    expect(doc.integrations.find((i) => i.kind === 'pc')?.steps.map((s) => [s.name, s.policies])).toEqual([
      ['add-policies', [2003]],
    ]);
  });

  test('GIVEN the Qualys login fails WHEN diff runs THEN it exits 2 and says what failed', async () => {
    world.deployWithTemplate(config);
    world.aws.putSecret(
      'qualys/api-credentials',
      JSON.stringify({ username: 'cli-user', password: 'wrong-Pa55word-1' }),
    );
    const { code, doc } = await runDiff();
    expect(code).toBe(2);
    expect(doc.integrations.flatMap((i) => i.unknown).join(' ')).toMatch(/401|credentials|password|log/i);
  });

  test('GIVEN any diff WHEN it runs THEN it changes nothing: the only POST is the auth, and AWS sees only reads', async () => {
    world.deployWithTemplate(config);
    await runDiff(world.config({ vm: { minSeverity: 5 } }));
    world.sim.clearIntegrations();
    await runDiff();
    expect(world.sim.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /auth',
      'POST /auth',
    ]);
    expect(Object.keys(world.aws.callCounts()).filter((k) => !/:(Get|List|Describe)/.test(k))).toEqual([]);
  });
});
