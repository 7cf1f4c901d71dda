/**
 * Bundles the Lambda entries once, for the package: lib/assets/<entry>/index.js (the
 * custom-resource handler and the findings lake's normalizer), which the compiled constructs
 * (lib/infra/handler-asset.js) use as ready Lambda assets. The options are the ones a synth from
 * the sources bundles with (HANDLER_BUNDLE_OPTIONS).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LAMBDA_ENTRIES, type LambdaEntry, bundleHandler } from '../src/infra/handler-asset';

for (const entry of Object.keys(LAMBDA_ENTRIES) as LambdaEntry[]) {
  const dir = path.join(__dirname, '..', 'lib', 'assets', entry);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.js'), bundleHandler(entry));
}
