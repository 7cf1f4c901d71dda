/**
 * Break-review of issue 10, items 10 to 13 and 16, against the simulator and the fake AWS:
 * stacks that exist but were never deployed, remedies naming the secret as configured, and
 * the README's commands as a user pastes them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, PROD_SITE, useCliWorld } from '../support/cli-world';

const { ACCOUNT, ENV, REGION, STACK } = PROD_SITE;

const world = useCliWorld();

describe('status before the first deploy', () => {
  // `cdk deploy --no-execute` (or a change set awaiting review) leaves a stack in
  // REVIEW_IN_PROGRESS: it exists but holds no resources. That is before the first deploy.
  test('GIVEN a stack in REVIEW_IN_PROGRESS (a change set never executed) WHEN status runs THEN CIPS and orphans are not judged, and nothing is blamed on Qualys', async () => {
    world.aws.setStackStatus(STACK, 'REVIEW_IN_PROGRESS');
    world.sim.seedIntegration('vm', { name: `qs3-staging-vm-${ACCOUNT}-${REGION}` });
    const { doc } = await world.json(['status', ENV, '--config', world.config()]);
    expect(check(doc, 'cips').status).toBe('skip');
    expect(check(doc, 'orphans').status).toBe('skip');
    expect(world.sim.calls.map((c) => c.path).filter((p) => p.startsWith('/pcas'))).toEqual([]);
    const human = await world.run(['status', ENV, '--config', world.config()]);
    expect(human.stdout).not.toMatch(/deploy again/);
  });

  test('GIVEN no stack WHEN status runs with --json THEN the stack check names the deploy command', async () => {
    const { code, doc } = await world.json(['status', ENV, '--config', world.config()]);
    expect(code).toBe(1);
    expect(check(doc, 'stack')).toMatchObject({ status: 'fail', remedy: `deploy it: npx cdk deploy ${STACK}` });
  });
});

describe('remedies name the secret as configured', () => {
  // Secret names may hold "=" (letters, digits and /_+=.@-); the log redaction's password-field
  // rule must not rewrite the name inside a command the user is told to paste.
  test('GIVEN a missing secret whose name holds "password=" WHEN preflight runs THEN the create-secret hint has the real name, not "***"', async () => {
    const name = 'team/qualys-password=prod';
    const human = await world.run(['preflight', ENV, '--config', world.config({ credentialsSecret: name })]);
    expect(human.stdout).toContain(`create-secret --name ${name} --region ${REGION}`);
    expect(human.stdout).not.toContain('***');
  });

  test("GIVEN a missing secret given by its complete ARN WHEN preflight runs THEN the hint creates it by name, in the ARN's region", async () => {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:qualys/api-credentials-Zz9Yy8`;
    world.aws.deleteSecret('qualys/api-credentials');
    const { doc } = await world.json(['preflight', ENV, '--config', world.config({ credentialsSecret: arn })]);
    expect(check(doc, 'secret').remedy).toMatch(/create-secret --name qualys\/api-credentials --region eu-west-1 /);
  });
});

describe('operator commands as typed', () => {
  test.each(['preflight', 'status', 'rehearse'])(
    'GIVEN "%s --help" WHEN run THEN that command\'s own help is printed, exit 0',
    async (command) => {
      const out = await world.run([command, '--help']);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`^Usage: qualys-s3 ${command} `));
    },
  );

  test.each([['--bogus'], ['-x'], ['--json=yes']])(
    "GIVEN %s WHEN run THEN our own message, not Node's parseArgs text",
    async (flag) => {
      const out = await world.run(['preflight', ENV, flag]);
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/^qualys-s3: /);
      expect(out.stderr).not.toMatch(/ERR_PARSE_ARGS|To specify an option argument starting with a dash/);
    },
  );
});

describe('the README, pasted', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const shellLines = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n'));

  // Item 16: "Placeholders that cannot break a pasted command (`dev`, not `<env>`)". In a shell,
  // `<env>` is a redirection from a file named "env".
  test("GIVEN the README's shell blocks WHEN pasted THEN no command holds an unquoted <placeholder> outside a quoted string", () => {
    const unquoted = shellLines
      .map((line) =>
        line
          .replace(/#.*$/, '')
          .replace(/'[^']*'/g, "''")
          .replace(/"[^"]*"/g, '""'),
      )
      .filter((line) => /<[^>\s]+>/.test(line));
    expect(unquoted).toEqual([]);
  });

  test("GIVEN the README's links WHEN read in a clone THEN every relative link names a file of the repository and every #anchor a heading", () => {
    const root = path.join(__dirname, '..', '..');
    const slug = (h: string) =>
      h
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, '')
        .replace(/\s/g, '-');
    const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^https?:/.test(l));
    const broken = links.filter((l) =>
      l.startsWith('#') ? !anchors.has(l.slice(1)) : !fs.existsSync(path.join(root, l.split('#')[0])),
    );
    expect(broken).toEqual([]);
  });
});
