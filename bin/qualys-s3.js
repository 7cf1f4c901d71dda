#!/usr/bin/env node
// The operator CLI, bundled from src/cli/bin.ts by `npm run build:cli` (run by `npm ci` through
// `prepare`, and by `npm test`).
try {
  require.resolve('../dist/qualys-s3.js');
} catch {
  process.stderr.write(
    'qualys-s3: the CLI is not built yet; run "npm run build:cli" (or "npm ci") in the project folder\n',
  );
  process.exit(2);
}
require('../dist/qualys-s3.js');
