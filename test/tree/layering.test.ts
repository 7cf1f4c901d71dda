/**
 * The layering rules in biome.jsonc, tried on probe files: each layer may import only the layers
 * listed for it. The probes are written to a scratch copy of the tree's layout, not into the tree.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');

interface Probe {
  readonly file: string;
  readonly imports: string;
  readonly allowed: boolean;
}

const PROBES: readonly Probe[] = [
  { file: 'src/core/probe-infra.ts', imports: '../infra/qualys-role', allowed: false },
  { file: 'src/core/probe-cdk.ts', imports: 'aws-cdk-lib', allowed: false },
  { file: 'src/core/probe-cdk-module.ts', imports: 'aws-cdk-lib/aws-iam', allowed: false },
  { file: 'src/core/qualys/probe-cli.ts', imports: '../../cli/main', allowed: false },
  { file: 'src/core/probe-config.ts', imports: '../config/config', allowed: false },
  { file: 'src/core/probe-sim.ts', imports: '../../sim/qualys-simulator', allowed: false },
  { file: 'src/handler/probe-config.ts', imports: '../config/config', allowed: false },
  { file: 'src/handler/probe-cdk.ts', imports: 'aws-cdk-lib', allowed: false },
  { file: 'src/config/probe-cdk.ts', imports: 'aws-cdk-lib/aws-s3', allowed: false },
  { file: 'src/config/probe-infra.ts', imports: '../infra/findings-bucket', allowed: false },
  { file: 'src/infra/probe-cli.ts', imports: '../cli/main', allowed: false },
  { file: 'src/infra/probe-handler.ts', imports: '../handler/handler', allowed: false },
  { file: 'src/cli/probe-infra.ts', imports: '../infra/qualys-s3-stack', allowed: false },
  { file: 'src/cli/probe-handler.ts', imports: '../handler/handler', allowed: false },
  { file: 'sim/probe-src.ts', imports: '../src/core/contract', allowed: false },
  { file: 'src/core/qualys/probe-core.ts', imports: '../contract', allowed: true },
  { file: 'src/handler/probe-core.ts', imports: '../core/log', allowed: true },
  { file: 'src/config/probe-core.ts', imports: '../core/contract', allowed: true },
  { file: 'src/infra/probe-config.ts', imports: '../config/config', allowed: true },
  { file: 'src/infra/probe-cdk.ts', imports: 'aws-cdk-lib', allowed: true },
  { file: 'src/cli/probe-sim.ts', imports: '../../sim/qualys-simulator', allowed: true },
  { file: 'src/cli/probe-config.ts', imports: '../config/load-config', allowed: true },
];

/** The files biome reports a restricted import in, for the probes written into a scratch tree. */
function restrictedImports(probes: readonly Probe[]): Set<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layering-'));
  try {
    // The scratch tree is no git checkout, so the VCS integration is turned off; the rules are the tree's own.
    const config = fs
      .readFileSync(path.join(ROOT, 'biome.jsonc'), 'utf8')
      .replace(/"vcs":\s*\{[^}]*\}/, '"vcs": { "enabled": false }');
    fs.writeFileSync(path.join(dir, 'biome.jsonc'), config);
    for (const probe of probes) {
      fs.mkdirSync(path.join(dir, path.dirname(probe.file)), { recursive: true });
      fs.writeFileSync(
        path.join(dir, probe.file),
        `import * as probe from '${probe.imports}';\nexport const used = probe;\n`,
      );
    }
    let out: string;
    try {
      out = execFileSync(BIOME, ['lint', '--reporter=json', '--max-diagnostics=none', '.'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? '');
    }
    const report = JSON.parse(out) as { diagnostics: Array<{ category: string; location: { path: string } }> };
    return new Set(
      report.diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports').map((d) => d.location.path),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the layering rule (biome.jsonc)', () => {
  const flagged = restrictedImports(PROBES);

  test.each(PROBES.filter((p) => !p.allowed))('GIVEN $file importing $imports WHEN linted THEN it fails', (probe) => {
    expect(flagged.has(probe.file)).toBe(true);
  });

  test.each(PROBES.filter((p) => p.allowed))('GIVEN $file importing $imports WHEN linted THEN it passes', (probe) => {
    expect(flagged.has(probe.file)).toBe(false);
  });

  test('GIVEN the tree as it stands WHEN linted THEN no file breaks the layering', () => {
    let out: string;
    try {
      out = execFileSync(BIOME, ['lint', '--reporter=json', '--max-diagnostics=none', '.'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? '');
    }
    const report = JSON.parse(out) as { diagnostics: Array<{ category: string; location: { path: string } }> };
    expect(report.diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports')).toEqual([]);
  });
});
