/**
 * The compiled CLI (dist/qualys-s3.js, built by `npm run build:cli`, which `npm ci` runs through
 * `prepare`, and shipped prebuilt in the package): it must run from an install of the published
 * package, which has `dependencies` only, so every package it requires is in `dependencies`; and
 * `--help` must start fast, so it loads none of the heavy packages.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const BUNDLE = path.join(ROOT, 'dist', 'qualys-s3.js');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  scripts: Record<string, string>;
  bin: Record<string, string>;
  files: string[];
};

/** The package a module specifier names: "@scope/name/sub" -> "@scope/name", "name/sub" -> "name". */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

beforeAll(() => {
  execFileSync('npm', ['run', '--silent', 'build:cli'], { cwd: ROOT, stdio: 'pipe' });
}, 60_000);

test('GIVEN the built CLI bundle THEN every package it requires is a Node built-in or in "dependencies", none a devDependency', () => {
  const specs = [...fs.readFileSync(BUNDLE, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
  const packages = [...new Set(specs.filter((s) => !s.startsWith('.') && !s.startsWith('/')).map(packageOf))];
  const builtins = new Set(builtinModules);
  const external = packages.filter((p) => !p.startsWith('node:') && !builtins.has(p));
  // The bundle reaches AWS and Qualys: a regex that found nothing would pass vacuously.
  expect(external).toEqual(expect.arrayContaining(['@aws-sdk/client-sts', 'undici']));
  // An optional dependency (DuckDB for `query --local`, a native binary) is loaded only when used, with its own error when missing.
  const optional = pkg.optionalDependencies ?? {};
  const notDependencies = external.filter((p) => !Object.hasOwn(pkg.dependencies, p) && !Object.hasOwn(optional, p));
  expect(notDependencies).toEqual([]);
});

test('GIVEN package.json THEN the command is the bundle loader, prepare builds it, and its build tool is a devDependency', () => {
  expect(pkg.bin['qualys-s3']).toBe('bin/qualys-s3.js');
  expect(pkg.scripts.prepare).toBe('node scripts/prepare.js');
  expect(pkg.scripts['build:cli']).toMatch(/^esbuild src\/cli\/bin\.ts .*--outfile=dist\/qualys-s3\.js$/);
  // A consumer of the package installs no build tool: the CLI and the handler ship prebuilt.
  expect(Object.keys(pkg.devDependencies)).toContain('esbuild');
  expect(Object.keys(pkg.dependencies)).not.toContain('esbuild');
  expect(pkg.files).toEqual(expect.arrayContaining(['bin/qualys-s3.js', 'dist/qualys-s3.js']));
});

test('GIVEN an install without devDependencies (no esbuild) WHEN prepare runs THEN it says how to get the CLI and does not fail the install', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-prepare-'));
  try {
    fs.copyFileSync(path.join(ROOT, 'scripts', 'prepare.js'), path.join(dir, 'prepare.js'));
    const run = spawnSync(process.execPath, [path.join(dir, 'prepare.js')], { cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(
      /not building the qualys-s3 CLI: esbuild, a devDependency, is not installed.*run "npm ci"/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('GIVEN qualys-s3 --help WHEN it runs THEN it prints the usage and loads neither the AWS SDK, undici nor zod (the configuration schema)', () => {
  // Runs bin/qualys-s3.js in a fresh process and lists, on exit, every package module it loaded.
  const probe = [
    "process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('node_modules')))));",
    "process.argv = [process.argv[0], 'qualys-s3', '--help'];",
    `require(${JSON.stringify(path.join(ROOT, 'bin', 'qualys-s3.js'))});`,
  ].join('\n');
  const run = spawnSync(process.execPath, ['-e', probe], { cwd: ROOT, encoding: 'utf8' });
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/^Usage: qualys-s3 <command>/);
  const loaded = JSON.parse(run.stderr) as string[];
  expect(loaded.filter((f) => /node_modules[\\/](@aws-sdk|@smithy|undici|zod)[\\/]/.test(f))).toEqual([]);
});
