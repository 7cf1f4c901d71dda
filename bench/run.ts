/**
 * `npm run bench`: measures what users wait for and what they pay in Qualys API calls.
 *
 *   1. synth wall time of the app with 1, 10 and 50 environments, beside a minimal app (one
 *      empty stack) run the same way, interleaved run by run; the ratios;
 *   2. the handler bundle's size (plain and gzipped) and its cold start: loading it in a fresh
 *      node process and serving a first event against the local simulator;
 *   3. the validation schedule swept over IAM propagation delays D from 3 to 45 s in virtual
 *      time (the real lifecycle against the simulator), and create, update, rotation and
 *      delete wall time through the bundled handler at D = 0, 4, 8, 15 and 30 s (validation
 *      fails until D has passed since the trust policy changed), with the overhead beyond D;
 *   4. Qualys API calls per create, update (changed / unchanged), rotation and delete, split
 *      by endpoint, with /auth apart;
 *   5. the operator CLI's start-up: `qualys-s3 --help` (the built bundle, through bin/) beside
 *      `node -e 0`, interleaved run by run; the ratio;
 *   6. the package in a consumer's app: `npm pack`, installed into a fresh project, and that
 *      app's synth with QualysS3Onboarding beside the same app with everyday constructs only
 *      (a bucket, a function, a queue), interleaved run by run; the ratio.
 *
 *   7. the findings lake's normalizer (bench/normalizer.ts): >= 1,000,000 postures end to end,
 *      MB/s of JSON per core, records/s, peak RSS, Parquet bytes / JSON bytes, and the two JSON
 *      record readers side by side (BENCH_POSTURES sets the count).
 *
 * Each figure is the median of several runs (BENCH_RUNS, default 5; lifecycle at D >= 15 s
 * uses BENCH_SLOW_RUNS, default 3). Prints a table and writes bench/results.json.
 * BENCH_ONLY=synth,lambda,lifecycle,cli,package,normalizer picks sections.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Template, functionAssetDir } from '../sim/cfn-emulator';
import { Deployment, QUALYS_PRINCIPAL, ROOT, loadBundledHandler, synthApp } from '../sim/deployment';
import { consumerProject, packTree } from '../sim/consumer-project';
import { FakeAws } from '../sim/fake-aws';
import { QualysSimulator } from '../sim/qualys-simulator';
import { NORMALIZER_NODE_OPTIONS, NORMALIZER_TARGETS, benchNormalizer } from './normalizer';
import { summarize, sweepValidation } from './validation-sweep';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SLOW_RUNS = Number(process.env.BENCH_SLOW_RUNS ?? 3);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'synth,lambda,lifecycle,cli,package,normalizer').split(','));
const USER = { username: 'bench-user', password: 'bench-Pa55word!' };
const SECRET = 'qualys/api-credentials';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ENV = 'bench';
const STACK = `QualysS3-${ENV}`;
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

const TARGETS = {
  /** Time to validated beyond D, as a share of D: on average over D in 3-45 s, and at any D. */
  meanOverheadShare: 0.2,
  worstOverheadShare: 0.4,
  meanValidateCalls: 10,
  synth1VsMinimal: 1.5,
  synth50Vs1: 4,
  bundleBytes: 600 * 1024,
  coldStartMs: 150,
  cliHelpMs: 400,
  consumerSynthVsEveryday: 1.5,
};

// Inside the project, so that the bundles resolve the AWS SDK from its node_modules as the runtime provides it.
const work = fs.mkdtempSync(path.join(ROOT, '.tmp-bench-'));
const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
  runs: RUNS,
};
const rows: string[][] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function row(what: string, value: string, target = '', verdict = ''): void {
  rows.push([what, value, target, verdict]);
  process.stderr.write(`  ${what}: ${value}${target ? ` (target ${target}: ${verdict})` : ''}\n`);
}

const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const ms = (n: number) => `${Math.round(n)} ms`;
const s = (n: number) => `${(n / 1000).toFixed(2)} s`;

function environmentsConfig(count: number, gatewayUrl = 'https://gateway.qg1.apps.qualys.com') {
  const environments: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    environments[count === 1 ? ENV : `env${i}`] = {
      account: ACCOUNT,
      region: REGION,
      gatewayUrl,
      credentialsSecret: SECRET,
      vm: { minSeverity: 3 },
      pc: { policies: [1000 + i], filter: { includeFailPosture: true } },
    };
  }
  return { environments };
}

/** One run of an app command, timed from spawn to exit, as `cdk synth` would run it. */
function timeApp(entry: string, outdir: string, context: Record<string, unknown>): number {
  fs.rmSync(outdir, { recursive: true, force: true });
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, [TSX, entry], {
    cwd: ROOT,
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
    stdio: 'pipe',
  });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function benchSynth(): void {
  process.stderr.write('\n1. synth wall time (app command: node tsx bin/app.ts)\n');
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['minimal', path.join(ROOT, 'bench', 'minimal-app.ts'), {}],
  ];
  for (const n of [1, 10, 50]) {
    const file = path.join(work, `synth-${n}.json`);
    fs.writeFileSync(file, JSON.stringify(environmentsConfig(n)));
    cases.push([`${n} env`, path.join(ROOT, 'bin', 'app.ts'), { config: file }]);
  }
  const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  timeApp(cases[1][1], path.join(work, 'warmup'), cases[1][2]); // warm the file cache once
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, so that machine noise falls on every case alike.
    for (const [name, entry, context] of cases)
      times.get(name)!.push(timeApp(entry, path.join(work, `out-${name.replace(' ', '')}`), context));
  }
  const med = Object.fromEntries([...times].map(([k, v]) => [k, median(v)]));
  results.synth = { medianMs: med, samplesMs: Object.fromEntries(times) };
  for (const [name] of cases) row(`synth ${name}`, ms(med[name]));
  const r1 = med['1 env'] / med.minimal;
  const r50 = med['50 env'] / med['1 env'];
  (results.synth as Record<string, unknown>).ratios = {
    oneEnvVsMinimal: r1,
    tenVsOne: med['10 env'] / med['1 env'],
    fiftyVsOne: r50,
  };
  row(
    'synth 1 env / minimal app',
    `${r1.toFixed(2)}x`,
    `<= ${TARGETS.synth1VsMinimal}x`,
    verdict(r1 <= TARGETS.synth1VsMinimal),
  );
  row('synth 10 env / 1 env', `${(med['10 env'] / med['1 env']).toFixed(2)}x`);
  row('synth 50 env / 1 env', `${r50.toFixed(2)}x`, `<= ${TARGETS.synth50Vs1}x`, verdict(r50 <= TARGETS.synth50Vs1));
}

interface World {
  sim: QualysSimulator;
  aws: FakeAws;
  gateway: string;
}

async function startWorld(): Promise<World> {
  const aws = new FakeAws();
  const awsUrl = await aws.start();
  const sim = new QualysSimulator({ users: [USER], trustChecker: aws.qualysTrustChecker(QUALYS_PRINCIPAL) });
  const gateway = await sim.start();
  aws.putSecret(SECRET, JSON.stringify(USER));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: awsUrl,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
  });
  return { sim, aws, gateway };
}

function synthForWorld(world: World): { template: Template; dir: string } {
  const config = environmentsConfig(1, world.gateway);
  const env = (config.environments as Record<string, Record<string, unknown>>)[ENV];
  env.validationTimeoutSeconds = 120;
  return synthApp(config, path.join(work, 'lifecycle'), STACK);
}

async function benchLambda(world: World, synthesized: { template: Template; dir: string }): Promise<void> {
  process.stderr.write('\n2. the handler Lambda\n');
  const assetDir = functionAssetDir(synthesized.dir, synthesized.template, 'IntegrationProviderHandler');
  const files = fs.readdirSync(assetDir);
  const bundle = fs.readFileSync(path.join(assetDir, 'index.js'));
  const gz = gzipSync(bundle, { level: 9 }).length;
  row(
    'handler bundle (minified, AWS SDK external)',
    `${(bundle.length / 1024).toFixed(1)} KB`,
    '<= 600 KB',
    verdict(bundle.length <= TARGETS.bundleBytes),
  );
  row('handler bundle gzipped', `${(gz / 1024).toFixed(1)} KB`);
  const sdkInBundle = /@aws-sdk\/client-/.test(bundle.toString('utf8').replace(/require\("@aws-sdk\/[^"]+"\)/g, ''));
  results.lambda = { assetFiles: files, bundleBytes: bundle.length, gzipBytes: gz, awsSdkBundled: sdkInBundle };

  // Cold start: a fresh process per run, each serving a first Create against the simulator.
  const samples: Array<{ loadMs: number; firstEventMs: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    const deployment = new Deployment(synthesized.template, loadBundledHandler(synthesized.dir, synthesized.template), {
      aws: world.aws,
      stackName: STACK,
      account: ACCOUNT,
      region: REGION,
    });
    deployment.createPlainResources();
    const id = deployment.integrationId('Vm');
    const props = deployment.resolver.resolve(synthesized.template.Resources[id].Properties);
    const eventFile = path.join(work, `cold-${run}.json`);
    fs.writeFileSync(
      eventFile,
      JSON.stringify({
        RequestType: 'Create',
        StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/1`,
        RequestId: 'cold',
        LogicalResourceId: id,
        ResourceType: 'Custom::QualysS3Integration',
        ResponseURL: 'https://example.invalid/',
        ResourceProperties: props,
      }),
    );
    const out = await new Promise<string>((resolve, reject) => {
      const env = { ...process.env, ...deployment.functionEnvironment() };
      const child = spawn(
        process.execPath,
        [path.join(ROOT, 'bench', 'cold-start.js'), path.join(assetDir, 'index.js'), eventFile],
        { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', () => resolve(err));
      child.on('error', reject);
    });
    const parsed = JSON.parse(out.trim().split('\n').pop()!);
    if (!parsed.ok) throw new Error(`cold start run failed: ${out}`);
    samples.push(parsed);
  }
  const load = median(samples.map((x) => x.loadMs));
  const first = median(samples.map((x) => x.firstEventMs));
  Object.assign(results.lambda as object, { coldStart: { loadMsMedian: load, firstCreateMsMedian: first, samples } });
  row('cold start: load the bundle', ms(load));
  row(
    'cold start: load + first Create served',
    ms(load + first),
    `< ${TARGETS.coldStartMs} ms`,
    verdict(load + first < TARGETS.coldStartMs),
  );
}

type Counts = Record<string, number>;

function splitCounts(counts: Counts): { auth: number; calls: Counts; total: number } {
  const calls: Counts = {};
  let auth = 0;
  let total = 0;
  for (const [k, v] of Object.entries(counts)) {
    if (k.endsWith(' /auth')) auth += v;
    else {
      calls[k] = v;
      total += v;
    }
  }
  return { auth, calls, total };
}

function withProperty(template: Template, logicalId: string, prop: string, value: string): Template {
  const copy = JSON.parse(JSON.stringify(template)) as Template;
  copy.Resources[logicalId].Properties![prop] = value;
  return copy;
}

async function benchValidationSweep(): Promise<void> {
  process.stderr.write(
    '\n3a. validation schedule over IAM propagation delays D = 3..45 s (virtual time, every 0.5 s)\n',
  );
  const delays: number[] = [];
  for (let d = 3_000; d <= 45_000; d += 500) delays.push(d);
  const points = await sweepValidation(delays);
  for (const p of points.filter((x) => [4_000, 8_000, 15_000, 30_000, 45_000].includes(x.delayMs))) {
    const share = (p.validatedAfterMs - p.delayMs) / p.delayMs;
    row(
      `sweep D = ${p.delayMs / 1000} s`,
      `validated after ${s(p.validatedAfterMs)} (+${Math.round(share * 100)}%), ${p.validateCalls} calls`,
    );
  }
  const sum = summarize(points);
  results.validationSweep = { points, ...sum };
  row(
    'sweep 3-45 s: mean overhead',
    `${(sum.meanOverhead * 100).toFixed(1)}% of D`,
    `<= ${TARGETS.meanOverheadShare * 100}%`,
    verdict(sum.meanOverhead <= TARGETS.meanOverheadShare),
  );
  row(
    'sweep 3-45 s: worst overhead',
    `${(sum.worstOverhead * 100).toFixed(1)}% of D`,
    `<= ${TARGETS.worstOverheadShare * 100}%`,
    verdict(sum.worstOverhead <= TARGETS.worstOverheadShare),
  );
  row(
    'sweep 3-45 s: mean validate calls',
    `${sum.meanCalls.toFixed(1)} (max ${sum.maxCalls})`,
    `<= ${TARGETS.meanValidateCalls}`,
    verdict(sum.meanCalls <= TARGETS.meanValidateCalls),
  );
}

async function benchLifecycle(world: World, synthesized: { template: Template; dir: string }): Promise<void> {
  process.stderr.write('\n3-4. lifecycle against the simulator, with IAM propagation delay D\n');
  const handler = loadBundledHandler(synthesized.dir, synthesized.template); // one warm Lambda
  const lifecycle: Record<string, unknown> = {};
  let callsPerOperation: Record<string, ReturnType<typeof splitCounts>> | undefined;
  const silence = process.stdout.write.bind(process.stdout);
  const measured: Array<{ delay: number; overhead: number; calls: number }> = [];
  for (const delay of [0, 4_000, 8_000, 15_000, 30_000]) {
    const runs = delay >= 15_000 ? SLOW_RUNS : RUNS;
    const t: Record<string, number[]> = { create: [], validateCalls: [], update: [], rotation: [], delete: [] };
    world.aws.propagationDelayMs = delay;
    for (let run = 0; run < runs; run++) {
      const d = new Deployment(synthesized.template, handler, {
        aws: world.aws,
        stackName: STACK,
        account: ACCOUNT,
        region: REGION,
      });
      d.createPlainResources();
      const id = d.integrationId('Vm');
      const counts: Record<string, ReturnType<typeof splitCounts>> = {};
      const op = async (name: string, fn: () => Promise<{ ok: boolean }>) => {
        world.sim.resetCalls();
        process.stdout.write = (() => true) as typeof process.stdout.write;
        const started = Date.now();
        const out = await fn().finally(() => (process.stdout.write = silence));
        const elapsed = Date.now() - started;
        if (!out.ok) throw new Error(`${name} failed at D=${delay}: ${JSON.stringify(out)}`);
        counts[name] = splitCounts(world.sim.callCounts());
        return elapsed;
      };
      t.create.push(await op('create', () => d.create(id)));
      t.validateCalls.push(counts.create.calls['PATCH /partner-integration/aws/s3/{id}/vm/validate'] ?? 0);
      const settings = JSON.parse(d.template.Resources[id].Properties!.Settings as string);
      d.template = withProperty(d.template, id, 'Settings', JSON.stringify({ ...settings, minSeverity: 5 }));
      t.update.push(await op('update (setting changed)', () => d.update(id)));
      await op('update (nothing changed)', () => d.update(id));
      d.template = withProperty(d.template, id, 'ExternalIdRotation', `rotation-${run}`);
      t.rotation.push(await op('rotation', () => d.update(id)));
      t.delete.push(await op('delete', () => d.delete(id)));
      if (delay === 8_000 && run === 0) callsPerOperation = counts;
    }
    const med = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
    lifecycle[`D=${delay / 1000}s`] = { medianMs: med, samples: t };
    const label = `D = ${delay / 1000} s`;
    const overhead = med.create - delay;
    if (delay > 0) measured.push({ delay, overhead: overhead / delay, calls: med.validateCalls });
    const share = delay > 0 ? ` = ${Math.round((overhead / delay) * 100)}% of D` : '';
    row(
      `${label}: create`,
      `${s(med.create)} (overhead ${s(overhead)}${share})`,
      delay > 0 ? `overhead <= ${TARGETS.worstOverheadShare * 100}% of D` : '',
      delay > 0 ? verdict(overhead / delay <= TARGETS.worstOverheadShare) : '',
    );
    row(`${label}: validate calls per create`, String(med.validateCalls));
    row(`${label}: update (setting changed)`, s(med.update));
    row(`${label}: rotation`, s(med.rotation));
    row(`${label}: delete`, s(med.delete));
  }
  world.aws.propagationDelayMs = 0;
  const meanMeasured = measured.reduce((a, m) => a + m.overhead, 0) / measured.length;
  const meanMeasuredCalls = measured.reduce((a, m) => a + m.calls, 0) / measured.length;
  row(
    'wall clock, D = 4/8/15/30 s: mean overhead',
    `${Math.round(meanMeasured * 100)}% of D`,
    `<= ${TARGETS.meanOverheadShare * 100}%`,
    verdict(meanMeasured <= TARGETS.meanOverheadShare),
  );
  row(
    'wall clock, D = 4/8/15/30 s: mean validate calls',
    meanMeasuredCalls.toFixed(1),
    `<= ${TARGETS.meanValidateCalls}`,
    verdict(meanMeasuredCalls <= TARGETS.meanValidateCalls),
  );
  results.lifecycle = lifecycle;
  results.apiCallsPerOperation = callsPerOperation;
  process.stderr.write('\n4. Qualys API calls per operation (VM, warm Lambda, D = 8 s)\n');
  for (const [name, c] of Object.entries(callsPerOperation ?? {})) {
    const detail = Object.entries(c.calls)
      .map(([k, v]) => `${k} x${v}`)
      .join(', ');
    row(
      `calls: ${name}`,
      `${c.total} (+${c.auth} /auth)${detail ? `: ${detail}` : ''}`,
      name === 'update (nothing changed)' ? '0' : '',
      name === 'update (nothing changed)' ? verdict(c.total === 0 && c.auth === 0) : '',
    );
  }
}

/** One run of a command, timed from spawn to exit. */
function timeCommand(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'pipe' });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function benchCli(): void {
  process.stderr.write('\n5. CLI start-up (qualys-s3 --help, beside node -e 0)\n');
  // The bundle of the sources as they are now, as `npm ci` (prepare) builds it.
  execFileSync('npm', ['run', '--silent', 'build:cli'], { cwd: ROOT, stdio: 'pipe' });
  const cases: Array<[string, string[]]> = [
    ['qualys-s3 --help', [path.join(ROOT, 'bin', 'qualys-s3.js'), '--help']],
    ['node -e 0', ['-e', '0']],
  ];
  for (const [, args] of cases) timeCommand(args); // warm the file cache once
  const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, so that machine noise falls on both alike.
    for (const [name, args] of cases) times.get(name)!.push(timeCommand(args));
  }
  const help = median(times.get('qualys-s3 --help')!);
  const bare = median(times.get('node -e 0')!);
  results.cli = { medianMs: { help, nodeBare: bare }, samplesMs: Object.fromEntries(times), ratio: help / bare };
  row('qualys-s3 --help', ms(help), `< ${TARGETS.cliHelpMs} ms`, verdict(help < TARGETS.cliHelpMs));
  row('node -e 0', ms(bare));
  row('qualys-s3 --help / node -e 0', `${(help / bare).toFixed(2)}x`);
}

const CONSUMER_STACK = `
const { App, Stack } = require('aws-cdk-lib');
// CFN_VALIDATE=0 turns off aws-cdk-lib's own template validation at synth (on by default since 2.27x).
const app = new App({ builtinCloudFormationValidation: process.env.CFN_VALIDATE !== '0' });
const stack = new Stack(app, 'Platform', { env: { account: '111122223333', region: 'eu-west-1' } });
`;

/** The consumer's app with the onboarding (VM and PC), as a user's app would have it. */
const ONBOARDING_APP = `${CONSUMER_STACK}
const { QualysS3Onboarding } = require('qualys-s3-cdk');
new QualysS3Onboarding(stack, 'Qualys', {
  envName: 'prod', platform: 'EU1', credentialsSecret: 'qualys/api-credentials', vm: {}, pc: {},
});
app.synth();
`;

/** The same app with everyday constructs only: a bucket, a function that writes to it, a queue. */
const EVERYDAY_APP = `${CONSUMER_STACK}
const s3 = require('aws-cdk-lib/aws-s3');
const lambda = require('aws-cdk-lib/aws-lambda');
const sqs = require('aws-cdk-lib/aws-sqs');
const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true });
const fn = new lambda.Function(stack, 'Fn', {
  runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {};'),
});
bucket.grantPut(fn);
new sqs.Queue(stack, 'Queue');
app.synth();
`;

function benchPackage(): void {
  process.stderr.write('\n6. the package in a consumer app (node app.js), beside everyday constructs\n');
  const pkg = packTree(ROOT, path.join(work, 'pack'));
  const dir = consumerProject(ROOT, pkg, path.join(work, 'consumer'), {
    'onboarding.js': ONBOARDING_APP,
    'everyday.js': EVERYDAY_APP,
  });
  const timeNode = (file: string, validate: boolean) => {
    const outdir = path.join(dir, `out-${file}`);
    fs.rmSync(outdir, { recursive: true, force: true });
    const started = process.hrtime.bigint();
    execFileSync(process.execPath, [file], {
      cwd: dir,
      env: { ...process.env, CDK_OUTDIR: outdir, CFN_VALIDATE: validate ? '1' : '0' },
      stdio: 'pipe',
    });
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const resources = (file: string) =>
    Object.keys(JSON.parse(fs.readFileSync(path.join(dir, `out-${file}`, 'Platform.template.json'), 'utf8')).Resources)
      .length;
  const cases: Array<[string, string, boolean]> = [
    ['onboarding', 'onboarding.js', true],
    ['everyday', 'everyday.js', true],
    ['onboarding, no template validation', 'onboarding.js', false],
    ['everyday, no template validation', 'everyday.js', false],
  ];
  const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  timeNode('onboarding.js', true);
  for (let i = 0; i < RUNS; i++)
    for (const [name, file, validate] of cases) times.get(name)!.push(timeNode(file, validate));
  const med = Object.fromEntries([...times].map(([k, v]) => [k, median(v)]));
  const ratio = med.onboarding / med.everyday;
  const ratioUnvalidated = med['onboarding, no template validation'] / med['everyday, no template validation'];
  const counts = { onboarding: resources('onboarding.js'), everyday: resources('everyday.js') };
  results.package = {
    tarballBytes: fs.statSync(pkg.tarball).size,
    medianMs: med,
    samplesMs: Object.fromEntries(times),
    resources: counts,
    ratio,
    ratioWithoutTemplateValidation: ratioUnvalidated,
  };
  for (const [name] of cases) row(`consumer synth, ${name}`, ms(med[name]));
  row('consumer template resources, onboarding / everyday', `${counts.onboarding} / ${counts.everyday}`);
  row(
    'consumer synth, onboarding / everyday',
    `${ratio.toFixed(2)}x`,
    `<= ${TARGETS.consumerSynthVsEveryday}x`,
    verdict(ratio <= TARGETS.consumerSynthVsEveryday),
  );
  row('consumer synth, the same without template validation', `${ratioUnvalidated.toFixed(2)}x`);
  row('package tarball', `${(fs.statSync(pkg.tarball).size / 1024).toFixed(1)} KB`);
}

function normalizerSection(): void {
  const f = benchNormalizer(work, ROOT, TSX);
  const mb = (bytes: number) => bytes / 2 ** 20;
  const perCore = mb(f.jsonBytes) / f.cpuSeconds;
  const share = f.parquetBytes / f.jsonBytes;
  const rssLimit = NORMALIZER_TARGETS.rssBaseBytes + 2 * f.largestRecordBytes;
  results.normalizer = f;
  row(
    'normalizer: input',
    `${f.postures} postures, ${f.hosts} hosts, ${f.files} gzip files, ${mb(f.jsonBytes).toFixed(0)} MB JSON (${mb(f.storedBytes).toFixed(0)} MB stored)`,
  );
  row(
    'normalizer: MB/s of JSON per core (CPU time)',
    `${perCore.toFixed(1)} MB/s (${f.cpuSeconds.toFixed(1)} s CPU; wall ${(mb(f.jsonBytes) / f.wallSeconds).toFixed(1)} MB/s in ${f.wallSeconds.toFixed(1)} s)`,
    `>= ${NORMALIZER_TARGETS.mbPerSecondPerCore}`,
    verdict(perCore >= NORMALIZER_TARGETS.mbPerSecondPerCore),
  );
  row(
    'normalizer: records/s per core',
    `${Math.round(f.postures / f.cpuSeconds)} postures/s, ${Math.round(f.hosts / f.cpuSeconds)} hosts/s`,
  );
  row(
    'normalizer: peak RSS',
    `${mb(f.maxRssBytes).toFixed(0)} MB (largest record ${(f.largestRecordBytes / 1024).toFixed(0)} KB; ${NORMALIZER_NODE_OPTIONS})`,
    `< ${mb(rssLimit).toFixed(0)} MB`,
    verdict(f.maxRssBytes < rssLimit),
  );
  row(
    'normalizer: Parquet / JSON',
    `${(100 * share).toFixed(1)}% (${mb(f.parquetBytes).toFixed(1)} MB)`,
    `<= ${100 * NORMALIZER_TARGETS.parquetShare}%`,
    verdict(share <= NORMALIZER_TARGETS.parquetShare),
  );
  row(
    'normalizer: record readers, parse only',
    `byte scanner + JSON.parse ${f.readers.scannerMBps.toFixed(0)} MB/s, stream-json 3.8.0 ${f.readers.streamJsonMBps.toFixed(0)} MB/s (${f.readers.records} records)`,
  );
}

async function main(): Promise<void> {
  process.stderr.write(
    `qualys-s3-cdk benchmark: ${RUNS} runs per figure (median), node ${process.version}, ${os.cpus().length} cores\n`,
  );
  if (ONLY.has('synth')) benchSynth();
  if (ONLY.has('cli')) benchCli();
  if (ONLY.has('package')) benchPackage();
  if (ONLY.has('normalizer')) normalizerSection();
  if (ONLY.has('lifecycle') || ONLY.has('sweep')) await benchValidationSweep();
  if (ONLY.has('lambda') || ONLY.has('lifecycle')) {
    const world = await startWorld();
    try {
      const synthesized = synthForWorld(world);
      if (ONLY.has('lambda')) await benchLambda(world, synthesized);
      if (ONLY.has('lifecycle')) await benchLifecycle(world, synthesized);
    } finally {
      await world.sim.stop();
      await world.aws.stop();
    }
  }
  const width = [0, 1, 2, 3].map((i) =>
    Math.max(...rows.map((r) => r[i].length), ['measure', 'value', 'target', ''][i].length),
  );
  const line = (r: string[]) => r.map((c, i) => c.padEnd(width[i])).join(' | ');
  process.stdout.write(
    `\n${line(['measure', 'value', 'target', 'verdict'])}\n${width.map((w) => '-'.repeat(w)).join('-|-')}\n`,
  );
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  results.table = rows.map(([measure, value, target, v]) => ({ measure, value, target, verdict: v }));
  fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write('\nwrote bench/results.json\n');
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((error) => {
  process.stderr.write(`benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
