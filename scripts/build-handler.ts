/**
 * Bundles the custom-resource handler once, for the package: lib/assets/handler/index.js, which
 * the compiled construct (lib/infra/handler-asset.js) uses as a ready Lambda asset. The options
 * are the ones a synth from the sources bundles with (HANDLER_BUNDLE_OPTIONS).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleHandler } from '../src/infra/handler-asset';

const dir = path.join(__dirname, '..', 'lib', 'assets', 'handler');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'index.js'), bundleHandler());
