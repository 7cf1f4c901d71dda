/**
 * `qualys-s3 rehearse` for an environment with `cloudView`: the connector is created, run and
 * waited on through IAM propagation, redeployed without a change, updated in place and deleted,
 * against the simulator's connector API, next to the S3 integrations.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { ROOT } from '../../sim/deployment';

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: ROOT });
  return { code, stdout, stderr };
}

test.each(['connectors-v3', 'cloudview'] as const)(
  'GIVEN an environment with VM and a %s connector WHEN rehearse runs THEN the connector goes through create, redeploy, update and delete, and nothing is left',
  async (api) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-rehearse-cv-'));
    try {
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(
        file,
        JSON.stringify({
          environments: {
            demo: { platform: 'US1', credentialsSecret: 'qualys/api-credentials', vm: {}, cloudView: { api } },
          },
        }),
      );
      const out = await run(['rehearse', 'demo', '--config', file, '--iam-delay', '1', '--json']);
      const doc = JSON.parse(out.stdout) as {
        ok: boolean;
        steps: Array<{ step: string; resource?: string; ok: boolean; note: string }>;
      };
      const connectorSteps = doc.steps.filter((s) => s.resource?.startsWith('CloudViewConnector'));
      expect(connectorSteps.map((s) => [s.step, s.ok])).toEqual([
        ['create', true],
        ['redeploy', true],
        ['update', true],
        ['delete', true],
      ]);
      expect(doc.steps.find((s) => s.step === 'cleanup')).toMatchObject({ ok: true });
      expect(doc.ok).toBe(true);
      expect(out.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  120_000,
);
