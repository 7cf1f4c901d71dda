// `npm ci` and `npm install` in a clone run this: it builds the operator CLI (dist/qualys-s3.js)
// with esbuild, a devDependency. An install without devDependencies (npm ci --omit=dev) has no
// esbuild: it is told how to get the CLI instead of failing the whole install.
const { execSync } = require('node:child_process');

try {
  require.resolve('esbuild');
} catch {
  process.stderr.write(
    'qualys-s3-cdk: not building the qualys-s3 CLI: esbuild, a devDependency, is not installed ' +
      '(npm ci --omit=dev); run "npm ci" to build it, or use the CLI of the published package (npm i qualys-s3-cdk)\n',
  );
  process.exit(0);
}
execSync('npm run build:cli', { stdio: 'inherit' });
