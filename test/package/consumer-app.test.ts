/**
 * The package as a consumer gets it: `npm pack` of a scratch copy of this tree, installed into a
 * fresh CDK app that has only aws-cdk-lib, constructs and the aws-cdk CLI (no esbuild, no tsx),
 * which synthesizes QualysS3Onboarding next to a resource of its own, and a QualysS3Stack from a
 * JSON configuration.
 *
 * Offline: the consumer's packages come from this repository's node_modules through file: links
 * (standing in for the registry), so npm resolves and links exactly as it would from it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Prop } from '../../src/core/contract';
import { type PackedPackage, consumerProject, packTree, packedFile, run } from '../../sim/consumer-project';

const ROOT = path.join(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');

let work: string;
let pkg: PackedPackage;
let consumer: string;

const CONSUMER_APP = `
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { QualysS3Onboarding, QualysS3Stack, parseConfig, stackName, type QualysS3ConfigFile } from 'qualys-s3-cdk';

const app = new App();
const platform = new Stack(app, 'Platform', { env: { account: '111122223333', region: 'eu-west-1' } });
new sqs.Queue(platform, 'OwnQueue');
const qualys = new QualysS3Onboarding(platform, 'Qualys', {
  envName: 'prod',
  platform: 'EU1',
  credentialsSecret: 'qualys/api-credentials',
  vm: { minSeverity: 4 },
  pc: true,
});
new CfnOutput(platform, 'VmIntegrationId', { value: qualys.vm!.integrationId });
new CfnOutput(platform, 'PcRoleArn', { value: qualys.pc!.role.roleArn });
new CfnOutput(platform, 'Findings', { value: qualys.bucket!.bucketName });

const file: QualysS3ConfigFile = {
  environments: { dev: { platform: 'US1', credentialsSecret: 'qualys/dev', vm: true, analytics: { enabled: true } } },
};
for (const env of parseConfig(file).environments) {
  new QualysS3Stack(app, stackName(env.envName), { config: env });
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    // The package's declarations must stand on their own: they are checked too. Node's types
    // (which a CDK app has, and zod's declarations use) come from this repository.
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    outDir: '.',
  },
  files: ['app.ts'],
};

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'qualys-s3-package-'));
  pkg = packTree(ROOT, work);
  consumer = consumerProject(ROOT, pkg, path.join(work, 'consumer'), {
    'cdk.json': JSON.stringify({ app: 'node app.js', 'cli-telemetry': false }),
    'tsconfig.json': JSON.stringify(TSCONFIG),
    'app.ts': CONSUMER_APP,
  });
}, 240_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  test('GIVEN npm pack THEN it holds the compiled library, its declarations, the prebuilt handler and the CLI, and no sources or tests', () => {
    expect(pkg.files).toEqual(
      expect.arrayContaining([
        'lib/index.js',
        'lib/index.d.ts',
        'lib/infra/qualys-s3-onboarding.d.ts',
        'lib/assets/handler/index.js',
        'lib/assets/normalizer/index.js',
        'bin/qualys-s3.js',
        'dist/qualys-s3.js',
        'qualys-s3.schema.json',
        'README.md',
        'LICENSE',
        'package.json',
      ]),
    );
    expect(pkg.files.filter((f) => /^(src|test|sim|bench|scripts)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual(
      [],
    );
    expect(pkg.files).not.toContain('cdk.json');
    expect(pkg.files.filter((f) => f.startsWith('lib/handler/') || f.startsWith('lib/cli/'))).toEqual([]);
  });

  test('GIVEN the packed package.json THEN it is a library: entry points, peers, keywords, license, repository; not private', () => {
    expect(pkg.manifest).toMatchObject({
      main: 'lib/index.js',
      types: 'lib/index.d.ts',
      exports: { '.': { types: './lib/index.d.ts', default: './lib/index.js' } },
      license: 'Apache-2.0',
      repository: { type: 'git', url: expect.stringMatching(/^git\+https:\/\//) },
    });
    expect(pkg.manifest.private).toBeUndefined();
    expect(pkg.manifest.keywords).toEqual(expect.arrayContaining(['awscdk', 'aws-cdk', 'qualys']));
    expect(pkg.manifest.peerDependencies).toEqual({
      'aws-cdk-lib': expect.stringMatching(/^\^2\./),
      constructs: '^10.5.0',
    });
    // A consumer installs no build tool and no second copy of the CDK.
    for (const name of ['esbuild', 'aws-cdk-lib', 'constructs', 'tsx', 'typescript']) {
      expect(pkg.manifest.dependencies).not.toHaveProperty(name);
    }
  });

  test('GIVEN the declarations THEN every optional prop of the exported props and settings has JSDoc with @default', () => {
    const declarations = [
      'lib/infra/qualys-s3-onboarding.d.ts',
      'lib/infra/qualys-s3-stack.d.ts',
      'lib/config/environment-props.d.ts',
    ];
    const missing: string[] = [];
    let optional = 0;
    for (const file of declarations) {
      const text = packedFile(pkg, file);
      for (const match of text.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?readonly (\w+)\?:/g)) {
        optional++;
        if (!match[1]?.includes('@default')) missing.push(`${file}: ${match[2]}`);
      }
    }
    expect(missing).toEqual([]);
    expect(optional).toBeGreaterThan(30);
  });
});

describe('a consumer app', () => {
  let template: { Resources: Record<string, { Type: string; Properties?: Record<string, any>; Metadata?: any }> };
  let synth: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    run(TSC, ['-p', 'tsconfig.json'], consumer);
    synth = spawnSync(path.join(consumer, 'node_modules', '.bin', 'cdk'), ['synth', '-q'], {
      cwd: consumer,
      encoding: 'utf8',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1' },
    });
    template = JSON.parse(fs.readFileSync(path.join(consumer, 'cdk.out', 'Platform.template.json'), 'utf8'));
  }, 180_000);

  test('GIVEN the installed package THEN the consumer has no esbuild, and its TypeScript compiles against the declarations', () => {
    expect(() => require.resolve('esbuild', { paths: [consumer] })).toThrow();
    expect(fs.existsSync(path.join(consumer, 'app.js'))).toBe(true);
  });

  test('GIVEN cdk synth THEN it succeeds without bundling anything', () => {
    expect({ status: synth.status, stderr: synth.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(synth.stderr).not.toMatch(/Bundling asset|esbuild|docker/i);
  });

  test("GIVEN the consumer's stack THEN its own queue stands next to both integrations as custom resources", () => {
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::SQS::Queue')).toHaveLength(1);
    const integrations = Object.values(template.Resources).filter((r) => r.Type === 'Custom::QualysS3Integration');
    expect(integrations.map((r) => r.Properties?.[Prop.Kind]).sort()).toEqual(['pc', 'vm']);
  });

  test('GIVEN every role Qualys may assume THEN its trust policy requires an external ID', () => {
    const qualysRoles = Object.values(template.Resources).filter(
      (r) =>
        r.Type === 'AWS::IAM::Role' &&
        JSON.stringify(r.Properties?.AssumeRolePolicyDocument).includes('QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE'),
    );
    expect(qualysRoles).toHaveLength(2);
    for (const role of qualysRoles) {
      for (const statement of role.Properties!.AssumeRolePolicyDocument.Statement) {
        expect(statement.Condition.StringEquals['sts:ExternalId']).toMatch(/^qualys-s3-pending-registration-(vm|pc)$/);
      }
    }
  });

  test('GIVEN the cloud assembly THEN the handler asset is the prebuilt bundle from the package, byte for byte', () => {
    const handler = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Runtime === 'nodejs24.x',
    );
    const assetDir = path.join(consumer, 'cdk.out', handler!.Metadata['aws:asset:path']);
    expect(fs.readdirSync(assetDir)).toEqual(['index.js']);
    const prebuilt = path.join(consumer, 'node_modules', 'qualys-s3-cdk', 'lib', 'assets', 'handler', 'index.js');
    expect(fs.readFileSync(path.join(assetDir, 'index.js')).equals(fs.readFileSync(prebuilt))).toBe(true);
  });

  test('GIVEN analytics in the JSON configuration THEN the normalizer asset is the prebuilt bundle from the package, byte for byte', () => {
    const stack = JSON.parse(fs.readFileSync(path.join(consumer, 'cdk.out', 'QualysS3-dev.template.json'), 'utf8'));
    const normalizer = Object.values(
      stack.Resources as Record<string, { Type: string; Properties?: any; Metadata?: any }>,
    ).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.LAKE_BUCKET);
    const assetDir = path.join(consumer, 'cdk.out', normalizer!.Metadata['aws:asset:path']);
    expect(fs.readdirSync(assetDir)).toEqual(['index.js']);
    const prebuilt = path.join(consumer, 'node_modules', 'qualys-s3-cdk', 'lib', 'assets', 'normalizer', 'index.js');
    expect(fs.readFileSync(path.join(assetDir, 'index.js')).equals(fs.readFileSync(prebuilt))).toBe(true);
  });

  test('GIVEN the installed package THEN qualys-s3 normalize and query --local run on its dependencies alone', () => {
    const raw = path.join(consumer, 'raw', 'qualys_pc_posture_info', '2024-05-01');
    fs.mkdirSync(raw, { recursive: true });
    const posture = (controlId: number, result: string) => ({
      id: controlId * 10,
      controlId,
      technologyId: 80,
      instance: 'os',
      posture: result,
      evaluationDate: '2024-05-01T10:00:00Z',
    });
    const host = {
      hostId: 101,
      ip: '10.0.0.1',
      policy: [{ id: 7, posture: [posture(1, 'Passed'), posture(2, 'Failed')] }],
    };
    fs.writeFileSync(path.join(raw, 'a.json'), JSON.stringify(host));
    const cli = (...args: string[]) =>
      spawnSync(path.join(consumer, 'node_modules', '.bin', 'qualys-s3'), args, { cwd: consumer, encoding: 'utf8' });
    const normalized = cli('normalize', 'raw', '--out', 'lake', '--json');
    expect({ status: normalized.status, stderr: normalized.stderr }).toEqual({ status: 0, stderr: '' });
    const answer = cli('query', 'failing-controls', '--local', 'lake', '--json');
    expect({ status: answer.status, stderr: answer.stderr }).toEqual({ status: 0, stderr: '' });
    const { columns, rows } = JSON.parse(answer.stdout) as { columns: string[]; rows: unknown[][] };
    expect(rows.map((row) => [row[columns.indexOf('host_id')], row[columns.indexOf('control_id')]])).toEqual([
      [101, 2],
    ]);
  });

  test('GIVEN a JSON configuration THEN QualysS3Stack synthesizes the stack the app makes', () => {
    const stack = JSON.parse(fs.readFileSync(path.join(consumer, 'cdk.out', 'QualysS3-dev.template.json'), 'utf8'));
    const types = Object.values(stack.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::S3::Bucket', 'Custom::QualysS3Integration']));
    expect(Object.keys(stack.Outputs)).toEqual(expect.arrayContaining(['BucketName', 'VmRoleArn', 'VmIntegrationId']));
  });

  test('GIVEN the installed package THEN its qualys-s3 command runs', () => {
    const help = spawnSync(path.join(consumer, 'node_modules', '.bin', 'qualys-s3'), ['--help'], {
      cwd: consumer,
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: qualys-s3 <command>/);
  });
});
