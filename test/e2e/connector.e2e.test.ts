/**
 * End to end for the CloudView / TotalCloud connector: synthesize the real app with `cloudView`,
 * take the bundled handler out of the cloud assembly, and drive the connector resource through
 * create, update and delete as CloudFormation would, against the simulator's connector APIs
 * (both of them) and the fake IAM, whose trust policies Qualys's runs are judged by.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeAws } from '../../sim/fake-aws';
import { QualysSimulator } from '../../sim/qualys-simulator';
import type { Template } from '../../sim/cfn-emulator';
import { Deployment, QUALYS_PRINCIPAL, ROOT, loadBundledHandler, synthApp } from '../../sim/deployment';

const USER = { username: 'e2e-user', password: 'e2e-Pa55word!' };
const SECRET = 'qualys/api-credentials';
const ENV = 'e2e';
const STACK = `QualysS3-${ENV}`;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const NAME = `qs3-${ENV}-cloudview-${ACCOUNT}`;

let outdir: string;
let restoreStdout: () => void;
const output: string[] = [];

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(ROOT, '.tmp-e2e-cv-'));
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  restoreStdout = () => {
    process.stdout.write = write;
  };
});

afterAll(() => {
  restoreStdout();
  fs.rmSync(outdir, { recursive: true, force: true });
});

interface World {
  sim: QualysSimulator;
  aws: FakeAws;
  gateway: string;
}

async function world(
  opts: {
    propagationDelayMs?: number;
    rateLimit?: { limit: number; windowMs: number };
    trustChecker?: () => { ok: boolean; reason?: string };
  } = {},
): Promise<World> {
  const aws = new FakeAws({ propagationDelayMs: opts.propagationDelayMs ?? 0 });
  const awsUrl = await aws.start();
  const sim = new QualysSimulator({
    users: [USER],
    trustChecker: aws.qualysTrustChecker(QUALYS_PRINCIPAL),
    connectors: {
      runTiming: { queuedMs: 200, runningMs: 200 },
      ...(opts.rateLimit ? { rateLimit: opts.rateLimit } : {}),
      ...(opts.trustChecker ? { trustChecker: opts.trustChecker } : {}),
    },
  });
  const gateway = await sim.start();
  aws.putSecret(SECRET, JSON.stringify(USER));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: awsUrl,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'e2e-secret-key',
  });
  return { sim, aws, gateway };
}

async function stop(w: World) {
  await w.sim.stop();
  await w.aws.stop();
}

let synthCount = 0;
function synth(
  w: World,
  cloudView: Record<string, unknown>,
  env: Record<string, unknown> = {},
): { template: Template; dir: string } {
  const config = {
    environments: {
      [ENV]: {
        account: ACCOUNT,
        region: REGION,
        gatewayUrl: w.gateway,
        credentialsSecret: SECRET,
        validationTimeoutSeconds: 60,
        cloudView: { apiUrl: w.sim.apiUrl, ...cloudView },
        ...env,
      },
    },
  };
  return synthApp(config, path.join(outdir, `synth-${++synthCount}`), STACK);
}

function deploy(w: World, synthesized: { template: Template; dir: string }) {
  const deployment = new Deployment(synthesized.template, loadBundledHandler(synthesized.dir, synthesized.template), {
    aws: w.aws,
    stackName: STACK,
    account: ACCOUNT,
    region: REGION,
  });
  deployment.createPlainResources();
  const [id] = deployment.connectors();
  return { deployment, id };
}

const connectorKey = (api: string, c: { id: number; uuid: string }) => (api === 'cloudview' ? c.uuid : String(c.id));

describe.each(['connectors-v3', 'cloudview'] as const)('the %s API', (api) => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => stop(w));

  test('GIVEN a new stack WHEN the connector is created, updated in place and deleted THEN Qualys holds it with our role and external ID, then not at all', async () => {
    const synthesized = synth(w, { api });
    const { deployment, id } = deploy(w, synthesized);

    const created = await deployment.create(id);
    expect(created).toMatchObject({ ok: true });
    if (!created.ok) return;
    const [stored, ...others] = await w.sim.connectors();
    expect(others).toEqual([]);
    const props = deployment.properties.get(id)!;
    expect(stored).toMatchObject({ name: NAME, arn: props.RoleArn, externalId: props.ExternalId });
    expect(created.Data).toMatchObject({ ConnectorId: connectorKey(api, stored), ConnectorName: NAME });
    // The role's trust policy is what Qualys's run was judged by: our external ID, Qualys's account.
    expect(
      JSON.stringify(
        w.aws.role(
          deployment.resolver.physicalIds.get(
            Object.keys(synthesized.template.Resources).find(
              (r) => r.startsWith('CloudViewRole') && synthesized.template.Resources[r].Type === 'AWS::IAM::Role',
            )!,
          )!,
        ).trustPolicy,
      ),
    ).toContain(String(props.ExternalId));

    deployment.template = synth(w, { api, pollingHours: 6, description: 'managed by qualys-s3-cdk' }).template;
    const updated = await deployment.update(id);
    expect(updated).toMatchObject({ ok: true, PhysicalResourceId: created.PhysicalResourceId });
    const [after] = await w.sim.connectors();
    expect(after).toMatchObject({ id: stored.id, description: 'managed by qualys-s3-cdk', runFrequencyMinutes: 360 });

    const deleted = await deployment.delete(id);
    expect(deleted).toMatchObject({ ok: true });
    expect(await w.sim.connectors()).toEqual([]);
    // Already gone counts as done (a retried delete, or one deleted by hand).
    expect(await deployment.delete(id)).toMatchObject({ ok: true });
  });

  test('GIVEN a foreign connector for the account WHEN the stack is created THEN it fails naming it, and nothing is left of ours', async () => {
    w.sim.seedConnector({ name: 'hand-made', arn: `arn:aws:iam::${ACCOUNT}:role/HandMade` });
    const { deployment, id } = deploy(w, synth(w, { api }));
    const created = await deployment.create(id);
    expect(created).toMatchObject({ ok: false, reason: expect.stringMatching(/hand-made/) });
    expect((await w.sim.connectors()).map((c) => c.name)).toEqual(['hand-made']);
  });

  test('GIVEN the same foreign connector and adoptExisting WHEN created THEN it is taken over in place, not duplicated', async () => {
    const seeded = w.sim.seedConnector({ name: 'hand-made', arn: `arn:aws:iam::${ACCOUNT}:role/HandMade` });
    const { deployment, id } = deploy(w, synth(w, { api, adoptExisting: true }));
    const created = await deployment.create(id);
    expect(created).toMatchObject({ ok: true });
    const all = await w.sim.connectors();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ id: seeded.id, name: NAME, arn: deployment.properties.get(id)!.RoleArn });
  });
});

describe.each(['connectors-v3', 'cloudview'] as const)(
  'IAM propagation, rate limits and a run that never succeeds: %s',
  (api) => {
    test('GIVEN a trust policy that takes 1.5 s to propagate WHEN the connector is created THEN the handler re-runs the connector until Qualys could assume the role', async () => {
      const w = await world({ propagationDelayMs: 1500 });
      try {
        const { deployment, id } = deploy(w, synth(w, { api }));
        const created = await deployment.create(id);
        expect(created).toMatchObject({ ok: true, Data: { State: expect.stringMatching(/SUCCESS/) } });
        expect(await w.sim.connectors()).toHaveLength(1);
      } finally {
        await stop(w);
      }
    }, 60_000);

    test('GIVEN a rate limit of a few calls a window WHEN the connector is created THEN the 409s are waited out and one connector exists', async () => {
      const w = await world({ rateLimit: { limit: 3, windowMs: 2000 } });
      try {
        const { deployment, id } = deploy(w, synth(w, { api }));
        const created = await deployment.create(id);
        expect(created).toMatchObject({ ok: true });
        expect(await w.sim.connectors()).toHaveLength(1);
        expect(w.sim.calls.some((c: { status?: number }) => c.status === 409)).toBe(true);
      } finally {
        await stop(w);
      }
    }, 60_000);

    test('GIVEN a role Qualys can never assume WHEN the connector is created THEN it answers FAILED within its timeout and leaves no connector in Qualys', async () => {
      const w = await world({
        trustChecker: () => ({ ok: false, reason: 'not authorized to perform sts:AssumeRole' }),
      });
      try {
        const { deployment, id } = deploy(w, synth(w, { api }, { validationTimeoutSeconds: 30 }));
        const started = Date.now();
        const created = await deployment.create(id);
        expect(created).toMatchObject({ ok: false, reason: expect.stringMatching(/assume|role/i) });
        expect(Date.now() - started).toBeLessThan(90_000);
        expect(await w.sim.connectors()).toEqual([]);
      } finally {
        await stop(w);
      }
    }, 120_000);
  },
);

describe('logs', () => {
  test('GIVEN every line the handler wrote above THEN no password appears', () => {
    const logs = output.join('');
    // The handler did write: its named events are there.
    expect(logs).toMatch(/"event":"connector\./);
    expect(logs).not.toContain(USER.password);
  });
});
