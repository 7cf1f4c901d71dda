/**
 * Checks as data: every preflight and status check is one unit that declares what it needs;
 * when a prerequisite fails, its dependants are skipped (never run), and every declared check
 * appears in every run, in the human output as in --json. Built from the real check lists,
 * with no AWS access at all (no region: the credentials check fails).
 */
import { type CheckDefinition, type CheckResult, Checklist, formatResult } from '../../src/cli/checklist';
import type { CommandContext } from '../../src/cli/context';
import { preflightChecks } from '../../src/cli/preflight';
import { statusChecks } from '../../src/cli/status';
import { parseConfig } from '../../src/config/config';
import { Logger } from '../../src/core/log';

const BASE = {
  account: '123456789012',
  gatewayUrl: 'https://gateway.qg1.apps.qualys.com',
  credentialsSecret: 'qualys/api-credentials',
};
const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  'VM + PC with CIPS': { vm: { minSeverity: 3 }, pc: { policies: [2001], filter: { includeFailPosture: true } } },
  'VM only': { vm: {} },
  'PC without CIPS': { pc: {} },
};

/** A command context with no region, hence no AWS client: nothing here can reach a network. */
function context(env: Record<string, unknown>, results: CheckResult[]): CommandContext {
  const config = parseConfig({ environments: { dev: { ...BASE, ...env } } });
  return {
    config,
    env: config.environments[0],
    checklist: new Checklist({ progress: () => {}, result: (r) => results.push(r) }),
    progress: () => {},
    now: Date.now,
    log: new Logger(() => {}),
  };
}

/** Every check a definition reaches through its prerequisites. */
function ancestors(checks: readonly CheckDefinition[], id: string): Set<string> {
  const byId = new Map(checks.map((c) => [c.id, c]));
  const out = new Set<string>();
  const visit = (at: string) => {
    for (const need of byId.get(at)?.needs ?? []) {
      if (out.has(need)) continue;
      out.add(need);
      visit(need);
    }
  };
  visit(id);
  return out;
}

const COMMANDS: Record<string, { checks: (ctx: CommandContext) => CheckDefinition[]; roots: readonly string[] }> = {
  preflight: { checks: preflightChecks, roots: ['config', 'aws-identity', 'bucket-region'] },
  status: { checks: statusChecks, roots: ['config', 'aws-identity'] },
};

describe.each(Object.entries(COMMANDS))('%s checks as data', (_command, { checks: make, roots }) => {
  test.each(Object.keys(CONFIGURATIONS))(
    'GIVEN %s THEN only the root checks declare no prerequisite, and every other check needs the AWS credentials check, directly or through others',
    (name) => {
      const checks = make(context(CONFIGURATIONS[name], []));
      expect(checks.filter((c) => !c.needs?.length).map((c) => c.id)).toEqual(roots);
      for (const c of checks.filter((c) => !roots.includes(c.id)))
        expect(ancestors(checks, c.id)).toContain('aws-identity');
    },
  );

  test.each(Object.keys(CONFIGURATIONS))(
    'GIVEN %s and no AWS region WHEN the checks run THEN the credentials check fails, every dependant is skipped naming what it waited for, and every check is reported once, in order',
    async (name) => {
      const results: CheckResult[] = [];
      const ctx = context(CONFIGURATIONS[name], results);
      const checks = make(ctx);
      await ctx.checklist.runAll(checks);
      expect(results.map((r) => r.id)).toEqual(checks.map((c) => c.id));
      expect(results.find((r) => r.id === 'aws-identity')).toMatchObject({ status: 'fail' });
      for (const r of results.filter((r) => !roots.includes(r.id))) {
        expect(r.status).toBe('skip');
        expect(r.value).toMatch(/^needs ".+" \([\w-]+\), which (failed|was skipped)/);
        expect(r.details).toMatchObject({ needs: expect.any(String), needsStatus: expect.stringMatching(/fail|skip/) });
      }
      // The human output has one line per check, skipped ones marked "-".
      const lines = results.map((r) => formatResult(r).split('\n')[0]);
      expect(lines).toHaveLength(checks.length);
      expect(lines.filter((l) => l.startsWith('  - '))).toHaveLength(checks.length - roots.length);
    },
  );
});
