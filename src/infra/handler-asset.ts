import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * How the handler is bundled: minified CommonJS for Node 20 and later, the AWS SDK v3 left to the
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

/** The handler's entry in the sources, from this folder. */
const HANDLER_ENTRY = path.join(__dirname, '..', 'handler', 'handler.ts');

/** Where the package build puts the bundle, from this folder once compiled (lib/infra). */
export const PREBUILT_HANDLER_DIR = path.join(__dirname, '..', 'assets', 'handler');

let bundledFromSources: string | undefined;

/**
 * The folder holding the handler's `index.js`, ready to be a Lambda asset.
 *
 * A published package carries the bundle prebuilt, so that a consumer's synth needs neither
 * esbuild nor Docker and is as fast as any construct's. Run from the TypeScript sources (this
 * repository's app, its tests and `rehearse`), the handler is bundled here on first use in the
 * process instead, so that a change to it can never be deployed stale.
 */
export function handlerAssetDir(): string {
  if (!__filename.endsWith('.ts')) {
    if (!fs.existsSync(path.join(PREBUILT_HANDLER_DIR, 'index.js'))) {
      throw new Error(
        `qualys-s3-cdk: the prebuilt handler is missing (${PREBUILT_HANDLER_DIR}/index.js); ` +
          'reinstall the package, or run "npm run build" in a clone of the repository',
      );
    }
    return PREBUILT_HANDLER_DIR;
  }
  bundledFromSources ??= writeBundle(bundleHandler());
  return bundledFromSources;
}

/** The handler bundled from its sources with {@link HANDLER_BUNDLE_OPTIONS}. */
export function bundleHandler(): Uint8Array {
  // esbuild is a devDependency: only a synth from the sources, or the package build, loads it.
  let esbuild: typeof import('esbuild');
  try {
    esbuild = require('esbuild');
  } catch (error) {
    throw new Error(
      'qualys-s3-cdk: bundling the handler from its sources needs esbuild, a devDependency that is not installed; ' +
        'run "npm ci" in the project folder',
      { cause: error },
    );
  }
  const result = esbuild.buildSync({ ...HANDLER_BUNDLE_OPTIONS, entryPoints: [HANDLER_ENTRY], write: false });
  return result.outputFiles[0].contents;
}

/**
 * Writes the bundle to a folder named by its content, once: concurrent synths (test workers)
 * write the same bytes, and each renames its own complete copy into place.
 */
function writeBundle(code: Uint8Array): string {
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const cache = path.join(os.tmpdir(), 'qualys-s3-cdk-handler');
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
