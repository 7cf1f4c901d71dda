/**
 * The layering rules in biome.jsonc, tried on probe files: each layer may import only the layers
 * listed for it. The probes are written to a scratch copy of the tree's layout, not into the tree.
 *
 * biome does not read require() with a relative path, a template-literal import() or a type-level
 * import('...'): for those forms this file scans the tree itself, against LAYERS below (the table
 * biome.jsonc states for the declarations, checked here against the probes).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSync } from '@swc/core';

const ROOT = path.join(__dirname, '..', '..');
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');

type Layer = 'src/core' | 'src/handler' | 'src/config' | 'src/infra' | 'src/cli' | 'sim' | 'src/index.ts';

/** Each layer, the other layers it may import, and whether it must run without the CDK (biome.jsonc's table). */
const LAYERS: Readonly<Record<Layer, { readonly imports: readonly Layer[]; readonly cdkFree: boolean }>> = {
  'src/core': { imports: [], cdkFree: true },
  'src/handler': { imports: ['src/core'], cdkFree: true },
  'src/config': { imports: ['src/core'], cdkFree: true },
  'src/infra': { imports: ['src/core', 'src/config'], cdkFree: false },
  'src/cli': { imports: ['src/core', 'src/config', 'sim'], cdkFree: true },
  sim: { imports: [], cdkFree: false },
  // The package's entry (a file, not a folder).
  'src/index.ts': { imports: ['src/core', 'src/config', 'src/infra'], cdkFree: false },
};

const CDK_PACKAGES = ['aws-cdk-lib', 'constructs', 'cdk-nag', 'aws-cdk'];

/** The layer a path (relative to the root, with forward slashes) lies in. */
function layerOf(file: string): Layer | undefined {
  if (file === 'src/index.ts') return file;
  const match = /^(src\/(?:core|handler|config|infra|cli)|sim)(?:\/|$)/.exec(file);
  return match ? (match[1] as Layer) : undefined;
}

/**
 * Why `file` may not import `specifier`, or undefined when it may. A relative specifier is
 * resolved against the file, and crosses when it lands in a layer `file`'s layer may not import.
 */
function crossing(file: string, specifier: string): string | undefined {
  const from = layerOf(file);
  if (!from) return undefined;
  if (specifier.startsWith('.')) {
    const to = layerOf(path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
    if (to && to !== from && !LAYERS[from].imports.includes(to)) return `${from} may not import ${to}`;
    return undefined;
  }
  const cdk = CDK_PACKAGES.find((name) => specifier === name || specifier.startsWith(`${name}/`));
  return cdk && LAYERS[from].cdkFree ? `${from} runs without the CDK (${cdk})` : undefined;
}

interface Crossing {
  readonly file: string;
  readonly specifier: string;
  readonly reason: string;
}

/**
 * The require() calls, import() calls and import('...') types of one file whose specifier
 * crosses the layering: the forms biome's rule does not read (declarations are biome's). A
 * specifier that is no literal (a variable) cannot be resolved and is left alone.
 */
function dynamicCrossings(file: string, source: string): Crossing[] {
  const specifiers: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, any>;
    if (n.type === 'CallExpression') {
      const byRequire = n.callee?.type === 'Identifier' && n.callee.value === 'require';
      const arg = n.arguments?.[0]?.expression;
      if ((byRequire || n.callee?.type === 'Import') && arg?.type === 'StringLiteral') specifiers.push(arg.value);
      // A template's text up to its first ${...}: enough to see which layer it reaches into.
      if ((byRequire || n.callee?.type === 'Import') && arg?.type === 'TemplateLiteral')
        specifiers.push(arg.quasis[0].cooked);
    }
    if (n.type === 'TsImportType' && n.argument?.type === 'StringLiteral') specifiers.push(n.argument.value);
    for (const [key, value] of Object.entries(n)) if (key !== 'span') visit(value);
  };
  visit(parseSync(source, { syntax: 'typescript', tsx: file.endsWith('.tsx') }));
  return specifiers.flatMap((specifier) => {
    const reason = crossing(file, specifier);
    return reason ? [{ file, specifier, reason }] : [];
  });
}

/** The source files under `dir` (relative to the root), with forward slashes. */
function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((name) => path.posix.join(dir, name.split(path.sep).join('/')))
    .filter((file) => /\.[cm]?[jt]sx?$/.test(file) && !file.endsWith('.d.ts'));
}

interface Probe {
  readonly file: string;
  readonly imports: string;
  readonly allowed: boolean;
  /** The probe file's whole text, for import forms other than `import * as probe from`. */
  readonly source?: string;
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
  { file: 'src/index.ts', imports: './cli/main', allowed: false },
  { file: 'src/core/qualys/probe-core.ts', imports: '../contract', allowed: true },
  { file: 'src/handler/probe-core.ts', imports: '../core/log', allowed: true },
  { file: 'src/config/probe-core.ts', imports: '../core/contract', allowed: true },
  { file: 'src/infra/probe-config.ts', imports: '../config/config', allowed: true },
  { file: 'src/infra/probe-cdk.ts', imports: 'aws-cdk-lib', allowed: true },
  { file: 'src/cli/probe-sim.ts', imports: '../../sim/qualys-simulator', allowed: true },
  { file: 'src/cli/probe-config.ts', imports: '../config/load-config', allowed: true },
];

/** Other ways to write an import, and other packages of the CDK: each must fail as the plain import does. */
const FORMS: readonly Probe[] = [
  {
    file: 'src/core/form-dynamic.ts',
    imports: "await import('../infra/x')",
    allowed: false,
    source: "export const f = async () => await import('../infra/x');\n",
  },
  {
    file: 'src/core/form-export-star.ts',
    imports: "export * from '../infra/x'",
    allowed: false,
    source: "export * from '../infra/x';\n",
  },
  {
    file: 'src/core/form-export-named.ts',
    imports: "export { a } from '../infra/x'",
    allowed: false,
    source: "export { a } from '../infra/x';\n",
  },
  {
    file: 'src/core/form-import-type.ts',
    imports: "import type from '../infra/x'",
    allowed: false,
    source: "import type { A } from '../infra/x';\nexport type B = A;\n",
  },
  { file: 'src/core/a/b/form-deep.ts', imports: '../../../../src/infra/x', allowed: false },
  { file: 'src/core/form-detour.ts', imports: '../core/../infra/x', allowed: false },
  { file: 'src/core/form-cdk-core.ts', imports: 'aws-cdk-lib/core', allowed: false },
  { file: 'src/core/form-constructs.ts', imports: 'constructs', allowed: false },
  {
    file: 'sim/form-dynamic.ts',
    imports: "import('../src/core/contract')",
    allowed: false,
    source: "export const f = () => import('../src/core/contract');\n",
  },
];

/** Forms biome's rule does not read; the scan in this file catches each. */
const EVASIONS: readonly Probe[] = [
  {
    file: 'src/core/evade-require.ts',
    imports: "require('../infra/x')",
    allowed: false,
    source: "export const x = require('../infra/x');\n",
  },
  {
    file: 'src/handler/evade-require.ts',
    imports: "require('../config/config')",
    allowed: false,
    source: "export const x = require('../config/config');\n",
  },
  {
    file: 'sim/evade-require.ts',
    imports: "require('../src/core/contract')",
    allowed: false,
    source: "export const x = require('../src/core/contract');\n",
  },
  {
    file: 'src/core/evade-template.ts',
    imports: 'import(`../infra/x`)',
    allowed: false,
    source: 'export const f = () => import(`../infra/x`);\n',
  },
  {
    file: 'src/core/evade-type-query.ts',
    imports: "import('../infra/x').A",
    allowed: false,
    source: "export type T = import('../infra/x').A;\n",
  },
  {
    file: 'src/core/evade-template-interpolated.ts',
    imports: 'import(`../infra/${name}`)',
    allowed: false,
    source: 'export const f = (name: string) => import(`../infra/${name}`);\n',
  },
  {
    file: 'src/handler/evade-typeof-import.ts',
    imports: "typeof import('../cli/main')",
    allowed: false,
    source: "export type M = typeof import('../cli/main');\n",
  },
  {
    file: 'src/core/evade-require-cdk-module.ts',
    imports: "require('aws-cdk-lib/aws-iam')",
    allowed: false,
    source: "export const iam = require('aws-cdk-lib/aws-iam');\n",
  },
  {
    file: 'src/cli/allowed-require.ts',
    imports: "require('../config/schema') and typeof import('../../sim/fake-aws')",
    allowed: true,
    source: "export const s = require('../config/schema');\nexport type F = typeof import('../../sim/fake-aws');\n",
  },
  {
    file: 'src/core/allowed-require-package.ts',
    imports: "require('undici'), require('./contract')",
    allowed: true,
    source: "export const u = require('undici');\nexport const c = require('./contract');\n",
  },
  {
    file: 'sim/allowed-require-variable.ts',
    imports: 'require(entry), import(`./${name}`)',
    allowed: true,
    source:
      'export const load = (entry: string) => require(entry);\nexport const f = (name: string) => import(`./${name}`);\n',
  },
];

/** CDK packages in the layers that must run without the CDK. */
const CDK_IN_CDK_FREE_LAYERS: readonly Probe[] = [
  { file: 'src/core/cdk-constructs-subpath.ts', imports: 'constructs/lib/construct', allowed: false },
  { file: 'src/handler/cdk-constructs.ts', imports: 'constructs', allowed: false },
  { file: 'src/cli/cdk-constructs.ts', imports: 'constructs', allowed: false },
  { file: 'src/config/cdk-constructs.ts', imports: 'constructs', allowed: false },
  { file: 'src/core/cdk-nag.ts', imports: 'cdk-nag', allowed: false },
  { file: 'src/handler/cdk-nag.ts', imports: 'cdk-nag', allowed: false },
  { file: 'src/cli/cdk-nag-subpath.ts', imports: 'cdk-nag/lib/nag-pack', allowed: false },
  { file: 'src/config/cdk-nag.ts', imports: 'cdk-nag', allowed: false },
  { file: 'src/core/aws-cdk.ts', imports: 'aws-cdk', allowed: false },
  { file: 'src/handler/aws-cdk.ts', imports: 'aws-cdk', allowed: false },
  { file: 'src/cli/aws-cdk.ts', imports: 'aws-cdk', allowed: false },
  { file: 'src/infra/constructs.ts', imports: 'constructs', allowed: true },
  { file: 'src/infra/cdk-nag.ts', imports: 'cdk-nag', allowed: true },
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
        probe.source ?? `import * as probe from '${probe.imports}';\nexport const used = probe;\n`,
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
  const flagged = restrictedImports([...PROBES, ...FORMS, ...CDK_IN_CDK_FREE_LAYERS]);

  test.each(PROBES.filter((p) => !p.allowed))('GIVEN $file importing $imports WHEN linted THEN it fails', (probe) => {
    expect(flagged.has(probe.file)).toBe(true);
  });

  test.each(PROBES.filter((p) => p.allowed))('GIVEN $file importing $imports WHEN linted THEN it passes', (probe) => {
    expect(flagged.has(probe.file)).toBe(false);
  });

  test.each(FORMS)('GIVEN $file with $imports WHEN linted THEN it fails like a plain import', (probe) => {
    expect(flagged.has(probe.file)).toBe(true);
  });

  test.each(CDK_IN_CDK_FREE_LAYERS.filter((p) => !p.allowed))(
    'GIVEN $file importing $imports WHEN linted THEN it fails: the layer runs without the CDK',
    (probe) => {
      expect(flagged.has(probe.file)).toBe(true);
    },
  );

  test.each(CDK_IN_CDK_FREE_LAYERS.filter((p) => p.allowed))(
    'GIVEN $file importing $imports WHEN linted THEN it passes: the constructs use the CDK',
    (probe) => {
      expect(flagged.has(probe.file)).toBe(false);
    },
  );

  // The scan's table and biome's rules must say the same: every plain probe gets the same verdict from both.
  test.each([...PROBES, ...FORMS, ...CDK_IN_CDK_FREE_LAYERS].filter((p) => p.source === undefined))(
    "GIVEN $file importing $imports WHEN judged by the scan's table THEN the verdict is biome's",
    (probe) => {
      expect(crossing(probe.file, probe.imports) === undefined).toBe(flagged.has(probe.file) === false);
    },
  );

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

// biome's noRestrictedImports reads import and export declarations and import() with a plain
// string; its `paths` also match a require() of the exact name, but its `patterns` (which the
// relative paths need) do not, and template literals and type-level import('...') it never reads.
describe('the scan for the forms biome does not read', () => {
  test.each(EVASIONS.filter((p) => !p.allowed))('GIVEN $file with $imports WHEN scanned THEN it fails', (probe) => {
    expect(dynamicCrossings(probe.file, probe.source ?? '')).toEqual([
      expect.objectContaining({ file: probe.file, reason: expect.stringMatching(/may not import|without the CDK/) }),
    ]);
  });

  test.each(EVASIONS.filter((p) => p.allowed))('GIVEN $file with $imports WHEN scanned THEN it passes', (probe) => {
    expect(dynamicCrossings(probe.file, probe.source ?? '')).toEqual([]);
  });

  test('GIVEN a require() named only in a comment or a string WHEN scanned THEN it passes', () => {
    const source = "// require('../infra/x')\nexport const s = \"import('../cli/main')\";\n";
    expect(dynamicCrossings('src/core/commented.ts', source)).toEqual([]);
  });

  test('GIVEN the tree as it stands (src, sim) WHEN scanned THEN no require() or import() crosses the layering', () => {
    const files = [...sourceFiles('src'), ...sourceFiles('sim')];
    // The files known to hold a require() or an import type: the scan must be reading them.
    expect(files).toEqual(
      expect.arrayContaining(['src/core/aws.ts', 'src/config/load-config.ts', 'sim/deployment.ts']),
    );
    const found = files.flatMap((file) => dynamicCrossings(file, fs.readFileSync(path.join(ROOT, file), 'utf8')));
    expect(found).toEqual([]);
  });
});
