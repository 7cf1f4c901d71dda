/**
 * The `qualys-s3` process: runs `main` with this process's streams and exits with its code.
 * Bundled by `npm run build:cli` into dist/qualys-s3.js, which bin/qualys-s3.js loads, so that
 * the command starts as plain JavaScript (no TypeScript compiler at start-up).
 */
// The SDK's notice that it will need Node 22 in 2027 would interleave with the checklist.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { main } from './main';

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  interactive: Boolean(process.stderr.isTTY),
}).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(
      `qualys-s3: unexpected error: ${error instanceof Error && error.stack ? error.stack : String(error)}\n`,
    );
    process.exit(2);
  },
);
