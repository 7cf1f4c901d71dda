import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { HANDLER_BUNDLE_OPTIONS } from '../../src/infra/handler-asset';

const ROOT = path.join(__dirname, '..', '..');
/** The handler bundle's budget (bench/run.ts reports against the same figure). */
const BUDGET_BYTES = 600 * 1024;

test('GIVEN the handler bundled as the construct bundles it WHEN measured THEN it stays under its 600 KB budget', () => {
  // The options the package build and a synth from the sources bundle the handler with. The
  // handler must read its properties through the schema module.
  const result = buildSync({
    ...HANDLER_BUNDLE_OPTIONS,
    stdin: {
      contents: "export * from './src/handler/handler';\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toEqual(expect.arrayContaining([expect.stringMatching(/src\/core\/resource-properties\.ts$/)]));
  expect(inputs.filter((file) => file.includes('@aws-sdk/'))).toEqual([]);
  const bytes = result.outputFiles[0].contents.length;
  expect(bytes).toBeLessThan(BUDGET_BYTES);
});
