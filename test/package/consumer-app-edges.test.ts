/**
 * Break-it pass over the package (issue 12): what `npm pack` of a working checkout ships, whether
 * its declarations stand on their own in a consumer that has only the package's dependencies
 * and peers (no @types of this repository's devDependencies on the type roots), the README's own
 * example, an ES-module consumer, and whether the prebuilt handler is what the sources bundle to.
 * The defects it found are fixed; their tests state the correct behaviour, the others pin behaviour
 * that holds. Offline, like test/package/consumer-app.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
/** Output of an earlier build that the sources no longer produce (a renamed or removed module). */
const STALE = ['lib/infra/old-name.js', 'lib/infra/old-name.d.ts'];

let work: string;
let source: string;
let tarball: string;
let files: string[];
let consumer: string;
let packed: { dependencies: Record<string, string>; peerDependencies: Record<string, string> };

const README_EXAMPLE = `
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { QualysS3Onboarding } from 'qualys-s3-cdk';

const app = new App();
const stack = new Stack(app, 'SecurityBaseline', { env: { account: '111122223333', region: 'eu-west-1' } });

const qualys = new QualysS3Onboarding(stack, 'Qualys', {
  envName: 'prod',
  platform: 'EU1',
  credentialsSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'QualysCredentials', 'qualys/api-credentials'),
  vm: { minSeverity: 4 },
  pc: { policies: [1234567] },
});
new CfnOutput(stack, 'QualysVmIntegrationId', { value: qualys.vm!.integrationId });
`;

const ESM_APP = `
import { App, Stack } from 'aws-cdk-lib';
import { QualysS3Onboarding, ConfigError, parseEnvironment, loadConfig } from 'qualys-s3-cdk';
import schema from 'qualys-s3-cdk/qualys-s3.schema.json' with { type: 'json' };

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Esm', { env: { account: '111122223333', region: 'eu-west-1' } });
new QualysS3Onboarding(stack, 'Qualys', { envName: 'esm', platform: 'US1', credentialsSecret: 'q', vm: true });
let caught;
try { parseEnvironment('x', {}); } catch (error) { caught = error; }
app.synth();
console.log(JSON.stringify({ schema: schema.title, configError: caught instanceof ConfigError, loadConfig: typeof loadConfig }));
`;

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-package-edges-'));
  source = path.join(work, 'source');
  const listed = run('git', ['ls-files', '-co', '--exclude-standard'], ROOT).split('\n').filter(Boolean);
  for (const file of listed) {
    if (!fs.existsSync(path.join(ROOT, file))) continue;
    fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(source, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(source, 'node_modules'));
  // A developer's checkout: lib/ holds the output of an earlier build.
  for (const file of STALE) {
    fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
    fs.writeFileSync(path.join(source, file), '// from an earlier build\n');
  }
  const name = run(NPM, ['pack', '--silent', '--pack-destination', work], source).trim().split('\n').pop()!;
  tarball = path.join(work, name);
  files = run('tar', ['-tzf', tarball], work)
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  packed = JSON.parse(run('tar', ['-xOzf', tarball, 'package/package.json'], work));

  consumer = path.join(work, 'consumer');
  fs.mkdirSync(consumer);
  const link = (dependency: string) => `file:${path.join(ROOT, 'node_modules', dependency)}`;
  const dependencies: Record<string, string> = {
    'aws-cdk-lib': link('aws-cdk-lib'),
    constructs: link('constructs'),
    // What a TypeScript CDK app has anyway; nothing else of this repository's @types.
    '@types/node': link('@types/node'),
    'qualys-s3-cdk': `file:${tarball}`,
  };
  for (const dependency of Object.keys(packed.dependencies)) dependencies[dependency] = link(dependency);
  fs.writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies }, null, 2),
  );
  fs.writeFileSync(
    path.join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        skipLibCheck: false,
        // Node's types from the consumer's own node_modules, not this repository's type roots.
        types: ['node'],
        outDir: '.',
      },
      files: ['readme-example.ts'],
    }),
  );
  fs.writeFileSync(path.join(consumer, 'readme-example.ts'), README_EXAMPLE);
  fs.writeFileSync(path.join(consumer, 'esm-app.mjs'), ESM_APP);
  run(NPM, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], consumer);
}, 240_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('npm pack of a working checkout', () => {
  test('GIVEN lib/ holding output of an earlier build WHEN packed (prepack builds) THEN only what the current sources compile to is shipped', () => {
    // build:lib is a bare `tsc -p tsconfig.build.json`, which never removes what it no longer emits.
    expect(files.filter((f) => STALE.includes(f))).toEqual([]);
  });

  test('GIVEN the tarball THEN every relative import of its JavaScript and declarations resolves inside the tarball', () => {
    const shipped = new Set(files);
    const dangling: string[] = [];
    for (const file of files.filter(
      (f) => /^lib\/.*\.(js|d\.ts)$/.test(f) && !f.startsWith('lib/assets/') && !STALE.includes(f),
    )) {
      const text = fs.readFileSync(path.join(consumer, 'node_modules', 'qualys-s3-cdk', file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:require\(|from\s+|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        const candidates = file.endsWith('.d.ts')
          ? [`${base}.d.ts`, `${base}/index.d.ts`]
          : [`${base}.js`, base, `${base}/index.js`];
        if (!candidates.some((c) => shipped.has(c))) dangling.push(`${file} -> ${spec}`);
      }
    }
    expect(dangling).toEqual([]);
  });

  test('GIVEN the declarations THEN none names a type package or module outside the dependencies and peers (no esbuild, aws-lambda, jest)', () => {
    const allowed = new Set([...Object.keys(packed.dependencies), ...Object.keys(packed.peerDependencies), 'node']);
    const foreign: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.d.ts'))) {
      const text = fs.readFileSync(path.join(consumer, 'node_modules', 'qualys-s3-cdk', file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:from\s+|import\(|reference types=)\s*['"]([^'".][^'"]*)['"]/g)) {
        const pkg = spec.startsWith('node:')
          ? 'node'
          : spec.startsWith('@')
            ? spec.split('/').slice(0, 2).join('/')
            : spec.split('/')[0];
        if (!allowed.has(pkg)) foreign.push(`${file}: ${spec}`);
      }
    }
    expect(foreign).toEqual([]);
  });
});

describe('a consumer with only the dependencies and peers', () => {
  test("GIVEN README's construct example THEN it type-checks against the declarations (skipLibCheck false, no foreign type roots) and synthesizes", () => {
    run(TSC, ['-p', 'tsconfig.json'], consumer);
    const outdir = path.join(work, 'readme-out');
    const synth = spawnSync(process.execPath, [path.join(consumer, 'readme-example.js')], {
      cwd: consumer,
      encoding: 'utf8',
      env: { ...process.env, CDK_OUTDIR: outdir },
    });
    expect({ status: synth.status, stderr: synth.stderr }).toEqual({ status: 0, stderr: '' });
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'SecurityBaseline.template.json'), 'utf8'));
    const integrations = Object.values(template.Resources as Record<string, { Type: string }>).filter(
      (r) => r.Type === 'Custom::QualysS3Integration',
    );
    expect(integrations).toHaveLength(2);
    expect(template.Outputs.QualysVmIntegrationId).toBeDefined();
  });

  test('GIVEN an ES-module app THEN the named exports and the JSON Schema import resolve through "exports", and it synthesizes', () => {
    const outdir = path.join(work, 'esm-out');
    const result = spawnSync(process.execPath, [path.join(consumer, 'esm-app.mjs'), outdir], {
      cwd: consumer,
      encoding: 'utf8',
    });
    expect({
      status: result.status,
      stderr: result.stderr.replace(/^.*ExperimentalWarning.*\n(.*--trace-warnings.*\n)?/gm, ''),
    }).toEqual({
      status: 0,
      stderr: '',
    });
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({
      schema: 'qualys-s3-cdk configuration',
      configError: true,
      loadConfig: 'function',
    });
    expect(fs.existsSync(path.join(outdir, 'Esm.template.json'))).toBe(true);
  });

  test('GIVEN the installed package THEN loading it at synth requires nothing outside its dependencies and peers (esbuild, tsx are absent)', () => {
    for (const tool of ['esbuild', 'tsx', 'typescript']) {
      expect(() => require.resolve(tool, { paths: [consumer] })).toThrow();
    }
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        `const Module = require('module'); const seen = new Set(); const load = Module._load;
         Module._load = function (request, parent, ...rest) { if (parent && parent.filename && parent.filename.includes('qualys-s3-cdk') && !request.startsWith('.') && !request.startsWith('/')) seen.add(request.startsWith('@') ? request.split('/').slice(0, 2).join('/') : request.split('/')[0]); return load.call(this, request, parent, ...rest); };
         const { App, Stack } = require('aws-cdk-lib');
         const { QualysS3Onboarding } = require('qualys-s3-cdk');
         const app = new App({ outdir: process.argv[1] });
         new QualysS3Onboarding(new Stack(app, 'S'), 'Q', { envName: 'p', platform: 'US1', credentialsSecret: 'q', vm: true, pc: true });
         app.synth();
         console.log(JSON.stringify([...seen].filter((m) => !m.startsWith('node:'))));`,
        path.join(work, 'probe-out'),
      ],
      { cwd: consumer, encoding: 'utf8' },
    );
    expect(probe.stderr).toBe('');
    const builtins = new Set(require('node:module').builtinModules as string[]);
    const loaded = (JSON.parse(probe.stdout.trim()) as string[]).filter((m) => !builtins.has(m));
    const allowed = new Set([
      ...Object.keys(packed.dependencies),
      ...Object.keys(packed.peerDependencies),
      'qualys-s3-cdk',
    ]);
    expect(loaded).toEqual(expect.arrayContaining(['aws-cdk-lib', 'constructs', 'zod']));
    expect(loaded.filter((m) => !allowed.has(m))).toEqual([]);
  });
});

describe('the prebuilt handler', () => {
  test('GIVEN the package build THEN the shipped handler is byte for byte what a synth from the sources bundles (no stale-handler risk)', () => {
    const shipped = fs.readFileSync(
      path.join(consumer, 'node_modules', 'qualys-s3-cdk', 'lib', 'assets', 'handler', 'index.js'),
    );
    const { bundleHandler } =
      require('../../src/infra/handler-asset') as typeof import('../../src/infra/handler-asset');
    expect(Buffer.from(bundleHandler()).equals(shipped)).toBe(true);
  });
});
