/**
 * A stand-in for a user's CDK project that installs this package: `npm pack` of a scratch copy
 * of the tree, installed into a fresh folder with aws-cdk-lib, constructs and the aws-cdk CLI
 * only. Used by the packaging test and by the benchmark.
 *
 * Offline: the consumer's packages come from the repository's node_modules through file: links,
 * standing in for the registry, so npm resolves and links them as it would from it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export interface PackedPackage {
  /** The tarball npm pack wrote. */
  readonly tarball: string;
  /** The files it holds, relative to the package root. */
  readonly files: readonly string[];
  /** Its package.json. */
  readonly manifest: {
    readonly dependencies: Readonly<Record<string, string>>;
    readonly peerDependencies: Readonly<Record<string, string>>;
  } & Readonly<Record<string, unknown>>;
}

/** Runs a command, and on failure says what it printed. */
export function run(command: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/**
 * Packs the tree at `root` as it stands (the files git would commit, changed or not) from a
 * scratch copy under `work`: packing builds lib/ and dist/, which must not change under other
 * readers of the tree.
 */
export function packTree(root: string, work: string): PackedPackage {
  const source = path.join(work, 'source');
  const listed = run('git', ['ls-files', '-co', '--exclude-standard'], root).split('\n').filter(Boolean);
  for (const file of listed) {
    if (!fs.existsSync(path.join(root, file))) continue;
    fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(source, file));
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(source, 'node_modules'));
  const name = run(NPM, ['pack', '--silent', '--pack-destination', work], source).trim().split('\n').pop()!;
  const tarball = path.join(work, name);
  const files = run('tar', ['-tzf', tarball], work)
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  const manifest = JSON.parse(run('tar', ['-xOzf', tarball, 'package/package.json'], work));
  return { tarball, files, manifest };
}

/** One file of the package, as packed. */
export function packedFile(pkg: PackedPackage, file: string): string {
  return run('tar', ['-xOzf', pkg.tarball, `package/${file}`], path.dirname(pkg.tarball));
}

/**
 * A fresh project in `dir` with aws-cdk-lib, constructs, the aws-cdk CLI and the package
 * installed, and `files` written into it (e.g. app.js and cdk.json).
 */
export function consumerProject(root: string, pkg: PackedPackage, dir: string, files: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  const link = (name: string) => `file:${path.join(root, 'node_modules', name)}`;
  const dependencies: Record<string, string> = {
    'aws-cdk-lib': link('aws-cdk-lib'),
    constructs: link('constructs'),
    'aws-cdk': link('aws-cdk'),
    'qualys-s3-cdk': `file:${pkg.tarball}`,
  };
  // What npm would fetch for the package from the registry, from the same installed copies.
  for (const dependency of Object.keys(pkg.manifest.dependencies)) dependencies[dependency] = link(dependency);
  const optionalDependencies: Record<string, string> = {};
  for (const dependency of Object.keys(pkg.manifest.optionalDependencies ?? {}))
    optionalDependencies[dependency] = link(dependency);
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies, optionalDependencies }, null, 2),
  );
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  run(NPM, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
  return dir;
}
