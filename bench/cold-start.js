// Runs in a fresh node process: loads the bundled handler and serves one event, timing both.
// argv: <bundle index.js> <event JSON file>
const t0 = process.hrtime.bigint();
const { handler } = require(process.argv[2]);
const t1 = process.hrtime.bigint();
const event = JSON.parse(require('node:fs').readFileSync(process.argv[3], 'utf8'));
const started = Date.now();
const out = { loadMs: Number(t1 - t0) / 1e6 };
process.stdout.write = () => true; // the handler's log lines are not the measurement
handler(event, { getRemainingTimeInMillis: () => 840000 - (Date.now() - started) })
  .then((res) => {
    out.firstEventMs = Number(process.hrtime.bigint() - t1) / 1e6;
    out.ok = Boolean(res && res.PhysicalResourceId);
  })
  .catch((e) => {
    out.ok = false;
    out.error = e.message;
  })
  .finally(() => {
    process.stderr.write(`${JSON.stringify(out)}\n`);
    process.exit(0);
  });
