#!/usr/bin/env node
// The operator CLI. It is TypeScript run through tsx, as cdk.json runs the app, so that the CLI
// and the Lambda share their modules as written (see cli/main.ts).
// The SDK's notice that it will need Node 22 in 2027 would interleave with the checklist.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
const { main } = require('../cli/main.ts');

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  interactive: Boolean(process.stderr.isTTY),
}).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (error) => {
    process.stderr.write(`qualys-s3: unexpected error: ${error && error.stack ? error.stack : error}\n`);
    process.exit(2);
  },
);
