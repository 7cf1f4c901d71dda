/**
 * Adversarial: configuration input at synth. The issue: "Every configuration error is reported
 * at synth time, all of them at once, each naming the field, the bad value and what is
 * allowed"; "Default integration names are unique per account, region and environment ... so
 * that several environments never collide."
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BASE_ENV as BASE, problemsIfAny } from '../support/config-problems';

const ROOT = path.join(__dirname, '..', '..');
const problems = (raw: unknown): readonly string[] => problemsIfAny(raw) ?? [];

/** Runs bin/app.ts as `cdk synth` does, with the given context. */
function runApp(context: Record<string, unknown>) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'adv-cfg-'));
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'bin', 'app.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  rmSync(outdir, { recursive: true, force: true });
  return r;
}

describe('synth entry point', () => {
  test('GIVEN -c qualys=<malformed JSON string> WHEN synthesized THEN it fails with a configuration message, not a stack trace', () => {
    const r = runApp({ qualys: '{"environments": {' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/qualys/);
    expect(r.stderr).toMatch(/not valid JSON|JSON/);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  }, 60_000);

  test('GIVEN a config file with a bad value WHEN synthesized THEN it exits 1 naming the field (withstood)', () => {
    const r = runApp({ qualys: { environments: { dev: { ...BASE, vm: { minSeverity: 9 } } } } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/"qualys\.environments\.dev\.vm\.minSeverity" must be a whole number from 1 to 5, got 9/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe('values synth accepts but a deploy would fail on, or that cause harm', () => {
  test('GIVEN an integration name of only spaces WHEN parsed THEN it is rejected (Qualys refuses blank names)', () => {
    expect(problems({ environments: { dev: { ...BASE, vm: { name: '   ' } } } })).toEqual([
      expect.stringMatching(/vm\.name/),
    ]);
  });

  test('GIVEN six errorEmails with sendAlerts WHEN parsed THEN the only problem reported is the count (not a false "is empty")', () => {
    const emails = ['a@b.co', 'c@d.co', 'e@f.co', 'g@h.co', 'i@j.co', 'k@l.co'];
    const found = problems({ environments: { dev: { ...BASE, vm: { sendAlerts: true, errorEmails: emails } } } });
    expect(found).toHaveLength(1);
    expect(found.join('\n')).not.toMatch(/is empty/);
  });

  test("GIVEN an environment whose explicit name equals another environment's default name WHEN parsed THEN it is rejected (the other would adopt it as its own)", () => {
    const env = { ...BASE, account: '123456789012', region: 'us-east-1' };
    const found = problems({
      environments: {
        dev: { ...env, vm: { name: 'qs3-prod-vm-123456789012-us-east-1' } },
        prod: { ...env, vm: {} },
      },
    });
    expect(found).toEqual([expect.stringMatching(/dev\.vm\.name.*prod/)]);
  });

  test('GIVEN two environments with the same explicit bucketName WHEN parsed THEN it is rejected (bucket names are global)', () => {
    const found = problems({
      environments: {
        dev: { ...BASE, vm: {}, bucket: { bucketName: 'acme-qualys-findings' } },
        prod: { ...BASE, vm: {}, bucket: { bucketName: 'acme-qualys-findings' } },
      },
    });
    expect(found).toEqual([expect.stringMatching(/bucketName/)]);
  });

  test('GIVEN a tag value with characters AWS tags refuse WHEN parsed THEN the tag is named as a problem at synth', () => {
    expect(problems({ environments: { dev: { ...BASE, vm: {}, tags: { Owner: 'team <security>' } } } })).toEqual([
      expect.stringMatching(/tags\.Owner/),
    ]);
  });

  test('GIVEN 60 tags WHEN parsed THEN it is rejected (IAM roles take at most 50 tags)', () => {
    const tags = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v']));
    expect(problems({ environments: { dev: { ...BASE, vm: {}, tags } } })).toEqual([expect.stringMatching(/tags/)]);
  });

  test("GIVEN a secret ARN in another region than the stack's WHEN parsed THEN it is rejected (README: create it in the stack's account and region)", () => {
    const found = problems({
      environments: {
        dev: {
          ...BASE,
          account: '123456789012',
          region: 'eu-west-1',
          vm: {},
          credentialsSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:qualys-AbCdEf',
        },
      },
    });
    expect(found).toEqual([expect.stringMatching(/credentialsSecret/)]);
  });

  test('GIVEN two environments on one account, region, gateway and secret (one subscription) with different CIPS filters WHEN parsed THEN the conflict is reported (the filter is subscription-wide)', () => {
    const env = { ...BASE, account: '123456789012', region: 'us-east-1' };
    const found = problems({
      environments: {
        dev: { ...env, pc: { filter: { includePassPosture: true } } },
        prod: { ...env, pc: { filter: { includePassPosture: false } } },
      },
    });
    expect(found).toEqual([expect.stringMatching(/filter/)]);
  });
});
