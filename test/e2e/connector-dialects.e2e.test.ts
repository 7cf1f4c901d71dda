/**
 * Break-review of issue 13, end to end: the synthesized app's bundled handler against the
 * simulator's connector APIs in the readings the references leave open, and the replacement
 * CloudFormation makes when "api" changes (its cleanup-phase Delete of the old resource
 * included, which sim/deployment.ts does not send by itself).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeAws } from '../../sim/fake-aws';
import { QualysSimulator } from '../../sim/qualys-simulator';
import type { Template } from '../../sim/cfn-emulator';
import { Deployment, QUALYS_PRINCIPAL, ROOT, loadBundledHandler, synthApp } from '../../sim/deployment';

jest.setTimeout(60_000);

const USER = { username: 'e2e-dialect-user', password: 'e2e-D1alect-Pa55!' };
const BASIC = Buffer.from(`${USER.username}:${USER.password}`).toString('base64');
const SECRET = 'qualys/api-credentials';
const ENV = 'e2e';
const STACK = `QualysS3-${ENV}`;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

let outdir: string;
let aws: FakeAws;
let sim: QualysSimulator;
let gateway: string;
const output: string[] = [];
let restoreStdout: () => void;
const synthesized = new Map<string, { template: Template; dir: string }>();

beforeAll(async () => {
  outdir = fs.mkdtempSync(path.join(ROOT, '.tmp-e2e-cvd-'));
  aws = new FakeAws({ propagationDelayMs: 0 });
  const awsUrl = await aws.start();
  sim = new QualysSimulator({
    users: [USER],
    trustChecker: aws.qualysTrustChecker(QUALYS_PRINCIPAL),
    connectors: { runTiming: { queuedMs: 100, runningMs: 100 } },
  });
  gateway = await sim.start();
  aws.putSecret(SECRET, JSON.stringify(USER));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: awsUrl,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'e2e-secret-key',
  });
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  restoreStdout = () => {
    process.stdout.write = write;
  };
});

afterAll(async () => {
  restoreStdout();
  await sim.stop();
  await aws.stop();
  fs.rmSync(outdir, { recursive: true, force: true });
});

beforeEach(() => {
  sim.clearConnectors();
  sim.connectorDialect = 'reference';
});

function synth(api: 'connectors-v3' | 'cloudview') {
  const known = synthesized.get(api);
  if (known) return known;
  const config = {
    environments: {
      [ENV]: {
        account: ACCOUNT,
        region: REGION,
        gatewayUrl: gateway,
        credentialsSecret: SECRET,
        validationTimeoutSeconds: 30,
        cloudView: { api, apiUrl: sim.apiUrl },
      },
    },
  };
  const out = synthApp(config, path.join(outdir, `synth-${api}`), STACK);
  synthesized.set(api, out);
  return out;
}

function deploy(api: 'connectors-v3' | 'cloudview') {
  const s = synth(api);
  const deployment = new Deployment(s.template, loadBundledHandler(s.dir, s.template), {
    aws,
    stackName: `${STACK}`,
    account: ACCOUNT,
    region: REGION,
  });
  deployment.createPlainResources();
  const [id] = deployment.connectors();
  return { deployment, id };
}

test('GIVEN the qps-run-v2 reading (only /qps/rest/2.0/run exists) WHEN the bundled handler creates a Connectors 3.0 connector THEN it succeeds and Qualys holds one connector', async () => {
  sim.connectorDialect = 'qps-run-v2';
  const { deployment, id } = deploy('connectors-v3');
  const created = await deployment.create(id);
  expect(created).toMatchObject({ ok: true });
  expect(await sim.connectors()).toHaveLength(1);
});

test('GIVEN a deployed Connectors 3.0 connector WHEN "api" becomes "cloudview" THEN the bundled handler refuses the update and Qualys still holds the connector', async () => {
  const { deployment, id } = deploy('connectors-v3');
  const created = await deployment.create(id);
  expect(created).toMatchObject({ ok: true });
  if (!created.ok) return;
  deployment.template = synth('cloudview').template;
  const updated = await deployment.update(id);
  expect(updated).toMatchObject({ ok: false, reason: expect.stringMatching(/"cloudView\.api" changed/) });
  expect(await sim.connectors()).toHaveLength(1);
});

test('GIVEN a role Qualys can never assume WHEN the bundled handler creates the connector THEN FAILED, nothing left in Qualys, and neither the password nor its Basic encoding in the reason or any line', async () => {
  const { deployment, id } = deploy('cloudview');
  // Qualys's runs are judged by the fake IAM: a trust policy that admits no one.
  const roleId = Object.keys(deployment.template.Resources).find(
    (r) => r.startsWith('CloudViewRole') && deployment.template.Resources[r].Type === 'AWS::IAM::Role',
  )!;
  aws.setTrustPolicy(deployment.resolver.physicalIds.get(roleId)!, { Version: '2012-10-17', Statement: [] });
  const created = await deployment.create(id);
  expect(created).toMatchObject({ ok: false });
  expect(await sim.connectors()).toEqual([]);
  const texts = [JSON.stringify(created), ...output];
  for (const t of texts) {
    expect(t).not.toContain(USER.password);
    expect(t).not.toContain(BASIC);
  }
});
