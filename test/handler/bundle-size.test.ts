import * as path from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');
/** The handler bundle's budget (bench/run.ts reports against the same figure). */
const BUDGET_BYTES = 600 * 1024;

test('GIVEN the handler bundled as the construct bundles it WHEN measured THEN it stays under its 600 KB budget', () => {
  // The options of IntegrationProvider's NodejsFunction: minified CJS for node20, the AWS SDK
  // left to the runtime. The handler must read its properties through the schema module.
  const result = buildSync({
    stdin: {
      contents: "export * from './src/handler/handler';\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['@aws-sdk/*'],
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
