import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * How the Lambda entries are bundled: minified CommonJS for Node 20 and later, the AWS SDK v3 left to the
 * nodejs24.x runtime. The package build (`npm run build:handler`) and a synth from the sources
 * use these same options.
 */
export const HANDLER_BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  platform: 'node' as const,
  target: 'node20',
  format: 'cjs' as const,
  external: ['@aws-sdk/*'],
  sourcemap: false,
  logLevel: 'warning' as const,
};

/**
 * The Lambda functions this package ships, by the name of their asset folder: the
 * custom-resource handler and the findings lake's normalizer. Each is bundled on its own.
 */
export const LAMBDA_ENTRIES = {
  handler: 'handler.ts',
  normalizer: 'normalizer.ts',
} as const;

export type LambdaEntry = keyof typeof LAMBDA_ENTRIES;

/** An entry's source file, from this folder. */
const entryFile = (entry: LambdaEntry) => path.join(__dirname, '..', 'handler', LAMBDA_ENTRIES[entry]);

/** Where the package build puts an entry's bundle, from this folder once compiled (lib/infra). */
export const prebuiltDir = (entry: LambdaEntry): string => path.join(__dirname, '..', 'assets', entry);

/** Where the package build puts the custom-resource handler's bundle. */
export const PREBUILT_HANDLER_DIR = prebuiltDir('handler');

const bundledFromSources = new Map<LambdaEntry, string>();

/**
 * The folder holding the entry's `index.js` (the custom-resource handler by default), ready to
 * be a Lambda asset.
 *
 * A published package carries the bundles prebuilt, so that a consumer's synth needs neither
 * esbuild nor Docker and is as fast as any construct's. Run from the TypeScript sources (this
 * repository's app, its tests and `rehearse`), an entry is bundled here on first use in the
 * process instead, so that a change to it can never be deployed stale.
 */
export function handlerAssetDir(entry: LambdaEntry = 'handler'): string {
  if (!__filename.endsWith('.ts')) {
    const dir = prebuiltDir(entry);
    if (!fs.existsSync(path.join(dir, 'index.js'))) {
      throw new Error(
        `qualys-s3-cdk: the prebuilt ${entry} is missing (${dir}/index.js); ` +
          'reinstall the package, or run "npm run build" in a clone of the repository',
      );
    }
    return dir;
  }
  let dir = bundledFromSources.get(entry);
  if (!dir) {
    dir = writeBundle(entry, bundleHandler(entry));
    bundledFromSources.set(entry, dir);
  }
  return dir;
}

/** An entry (the custom-resource handler by default) bundled from its sources with {@link HANDLER_BUNDLE_OPTIONS}. */
export function bundleHandler(entry: LambdaEntry = 'handler'): Uint8Array {
  // esbuild is a devDependency: only a synth from the sources, or the package build, loads it.
  let esbuild: typeof import('esbuild');
  try {
    esbuild = require('esbuild');
  } catch (error) {
    throw new Error(
      `qualys-s3-cdk: bundling the ${entry} from its sources needs esbuild, a devDependency that is not installed; ` +
        'run "npm ci" in the project folder',
      { cause: error },
    );
  }
  const result = esbuild.buildSync({ ...HANDLER_BUNDLE_OPTIONS, entryPoints: [entryFile(entry)], write: false });
  return result.outputFiles[0].contents;
}

/**
 * Writes the bundle to a folder named by its content, once: concurrent synths (test workers)
 * write the same bytes, and each renames its own complete copy into place.
 */
function writeBundle(entry: LambdaEntry, code: Uint8Array): string {
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  // The handler's cache keeps its name of before the normalizer existed.
  const cache = path.join(os.tmpdir(), entry === 'handler' ? 'qualys-s3-cdk-handler' : `qualys-s3-cdk-${entry}`);
  const dir = path.join(cache, digest);
  const file = path.join(dir, 'index.js');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    // Outside the asset folder, which must only ever hold index.js.
    const partial = path.join(cache, `${digest}.${process.pid}.partial`);
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, file);
  }
  return dir;
}
