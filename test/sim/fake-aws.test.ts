import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { request } from 'undici';
import { FakeAws } from '../../sim/fake-aws';
import { QualysSimulator } from '../../sim/qualys-simulator';
import { QUALYS_ROLE_ARN as QUALYS, qualysTrust as trust } from '../support/fixtures';

const EXTERNAL_ID = 'US_POD_1-71-36da0dcf-43d7-4014-82a7-47ce22a0db57';

const withExternalId = (id: string | string[] = EXTERNAL_ID) => trust({ StringEquals: { 'sts:ExternalId': id } });

let aws: FakeAws;
let endpoint: string;
let iam: IAMClient;
let sm: SecretsManagerClient;
let cfn: CloudFormationClient;

function config(maxAttempts = 1) {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts };
}

async function startAws(opts?: ConstructorParameters<typeof FakeAws>[0]): Promise<void> {
  await aws?.stop();
  aws = new FakeAws(opts);
  endpoint = await aws.start();
  for (const c of [iam, sm, cfn]) c?.destroy();
  iam = new IAMClient(config());
  sm = new SecretsManagerClient(config());
  cfn = new CloudFormationClient(config());
}

async function rejection(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as never;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  await startAws();
});

afterAll(async () => {
  for (const c of [iam, sm, cfn]) c.destroy();
  await aws.stop();
});

describe('signing', () => {
  test('GIVEN an unsigned awsQuery request WHEN sent THEN 403 in the IAM XML error shape', async () => {
    aws.createRole('r', trust());
    const res = await request(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetRole&Version=2010-05-08&RoleName=r',
    });
    const body = await res.body.text();
    expect(res.statusCode).toBe(403);
    expect(body).toMatch(
      /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/,
    );
  });

  test('GIVEN an unsigned Secrets Manager request WHEN sent THEN 403 JSON', async () => {
    const res = await request(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body: JSON.stringify({ SecretId: 'x' }),
    });
    expect(res.statusCode).toBe(403);
    expect(await res.body.json()).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: expect.any(String),
    });
  });

  test('GIVEN a signed request for an operation the fake does not know WHEN sent THEN 400 InvalidAction', async () => {
    const res = await request(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc',
      },
      body: 'Action=DeleteRole&Version=2010-05-08&RoleName=r',
    });
    expect(res.statusCode).toBe(400);
    expect(await res.body.text()).toContain('<Code>InvalidAction</Code>');
  });
});

describe('IAM', () => {
  test('GIVEN a role WHEN GetRole THEN the real Role shape with a URL-encoded trust policy', async () => {
    const arn = aws.createRole('qualys-vm', withExternalId());
    const out = await iam.send(new GetRoleCommand({ RoleName: 'qualys-vm' }));
    expect(arn).toBe('arn:aws:iam::123456789012:role/qualys-vm');
    expect(out.Role).toEqual({
      Path: '/',
      RoleName: 'qualys-vm',
      RoleId: expect.stringMatching(/^AROA[A-Z0-9]{17}$/),
      Arn: arn,
      CreateDate: expect.any(Date),
      AssumeRolePolicyDocument: expect.stringMatching(/^%7B%22Version%22/),
      MaxSessionDuration: 3600,
    });
    expect(JSON.parse(decodeURIComponent(out.Role!.AssumeRolePolicyDocument!))).toEqual(withExternalId());
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('GIVEN a role with a path WHEN GetRole THEN the ARN carries the path', async () => {
    aws.createRole('pathed', trust(), { path: '/qualys/' });
    const out = await iam.send(new GetRoleCommand({ RoleName: 'pathed' }));
    expect(out.Role?.Arn).toBe('arn:aws:iam::123456789012:role/qualys/pathed');
    expect(out.Role?.Path).toBe('/qualys/');
  });

  test('GIVEN no such role WHEN GetRole THEN 404 NoSuchEntityException', async () => {
    const error = await rejection(iam.send(new GetRoleCommand({ RoleName: 'missing' })));
    expect(error.name).toBe('NoSuchEntityException');
    expect(error.message).toBe('The role with name missing cannot be found.');
    expect(error.$metadata.httpStatusCode).toBe(404);
  });

  test('GIVEN a role WHEN UpdateAssumeRolePolicy THEN GetRole returns the new document and history keeps both versions', async () => {
    aws.createRole('r', trust());
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'r', PolicyDocument: JSON.stringify(withExternalId()) }),
    );
    const out = await iam.send(new GetRoleCommand({ RoleName: 'r' }));
    expect(JSON.parse(decodeURIComponent(out.Role!.AssumeRolePolicyDocument!))).toEqual(withExternalId());
    const view = aws.role('r');
    expect(view.trustPolicy).toEqual(withExternalId());
    expect(view.history.map((h) => h.policy)).toEqual([trust(), withExternalId()]);
    expect(view.history[1].at).toBeGreaterThanOrEqual(view.history[0].at);
  });

  test.each<[string, string]>([
    ['text that is not JSON', '{"Version": "2012-10-17",'],
    ['no Version', JSON.stringify({ Statement: trust().Statement })],
    ['an unknown Version', JSON.stringify({ ...trust(), Version: '2020-01-01' })],
    ['an empty Statement array', JSON.stringify({ Version: '2012-10-17', Statement: [] })],
    ['a Statement that is not an array', JSON.stringify({ Version: '2012-10-17', Statement: trust().Statement[0] })],
    [
      'an invalid Effect',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ ...trust().Statement[0], Effect: 'Maybe' }] }),
    ],
    [
      'no Principal',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }),
    ],
    ['a principal that is not an ARN', JSON.stringify(trust(undefined, 'qualys'))],
    [
      'a Resource element',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ ...trust().Statement[0], Resource: '*' }] }),
    ],
  ])(
    'GIVEN %s WHEN UpdateAssumeRolePolicy THEN 400 MalformedPolicyDocument and the role is unchanged',
    async (_case, doc) => {
      aws.createRole('r', trust());
      const error = await rejection(
        iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'r', PolicyDocument: doc })),
      );
      expect(error.name).toBe('MalformedPolicyDocumentException');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(aws.role('r').history).toHaveLength(1);
    },
  );

  test('GIVEN an existing role WHEN createRole is called again THEN it is replaced like a delete and create (new RoleId, history restarted)', () => {
    aws.createRole('r', trust());
    const first = aws.role('r');
    aws.setTrustPolicy('r', withExternalId());
    aws.createRole('r', withExternalId('other'));
    const second = aws.role('r');
    expect(second.roleId).not.toBe(first.roleId);
    expect(second.history.map((h) => h.policy)).toEqual([withExternalId('other')]);
  });

  test('GIVEN no such role WHEN inspecting it THEN role() throws and hasRole() is false', () => {
    expect(() => aws.role('missing')).toThrow(/no role named missing/);
    expect(aws.hasRole('missing')).toBe(false);
  });

  test('GIVEN no such role WHEN UpdateAssumeRolePolicy THEN NoSuchEntityException', async () => {
    const error = await rejection(
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'missing', PolicyDocument: JSON.stringify(trust()) })),
    );
    expect(error.name).toBe('NoSuchEntityException');
  });

  test('GIVEN a trust policy over the 2048-character quota WHEN UpdateAssumeRolePolicy THEN LimitExceededException', async () => {
    aws.createRole('r', trust());
    const ids = Array.from(
      { length: 40 },
      (_, i) => `US_POD_1-71-00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    const error = await rejection(
      iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: 'r', PolicyDocument: JSON.stringify(withExternalId(ids)) }),
      ),
    );
    expect(error.name).toBe('LimitExceededException');
    expect(error.message).toBe('Cannot exceed quota for ACLSizePerRole: 2048');
  });
});

describe('Secrets Manager', () => {
  test('GIVEN a secret WHEN read by name and by ARN THEN the value and metadata come back', async () => {
    const arn = aws.putSecret('qualys/api', '{"username":"u","password":"p"}');
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:qualys\/api-[A-Za-z0-9]{6}$/);
    for (const id of ['qualys/api', arn]) {
      const out = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      expect(out).toMatchObject({
        ARN: arn,
        Name: 'qualys/api',
        SecretString: '{"username":"u","password":"p"}',
        VersionId: expect.any(String),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: expect.any(Date),
      });
    }
  });

  test('GIVEN a secret updated by putSecret WHEN read THEN the new value and a new VersionId', async () => {
    aws.putSecret('s', 'one');
    const first = await sm.send(new GetSecretValueCommand({ SecretId: 's' }));
    aws.putSecret('s', 'two');
    const second = await sm.send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(second.SecretString).toBe('two');
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(second.ARN).toBe(first.ARN);
  });

  test('GIVEN no such secret WHEN read THEN ResourceNotFoundException with the real message', async () => {
    const error = await rejection(sm.send(new GetSecretValueCommand({ SecretId: 'missing' })));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe("Secrets Manager can't find the specified secret.");
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  test('GIVEN denySecret WHEN read by name or ARN THEN AccessDeniedException; allowSecret restores it', async () => {
    const arn = aws.putSecret('qualys/api', 'x');
    aws.denySecret('qualys/api');
    for (const id of ['qualys/api', arn]) {
      const error = await rejection(sm.send(new GetSecretValueCommand({ SecretId: id })));
      expect(error.name).toBe('AccessDeniedException');
    }
    aws.allowSecret(arn);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'qualys/api' }))).SecretString).toBe('x');
  });
});

describe('CloudFormation', () => {
  test('GIVEN a stack WHEN DescribeStacks by ID or name THEN its current status', async () => {
    const id = aws.setStackStatus('qualys-s3', 'CREATE_IN_PROGRESS');
    expect(id).toMatch(/^arn:aws:cloudformation:us-east-1:123456789012:stack\/qualys-s3\/[0-9a-f-]{36}$/);
    aws.setStackStatus(id, 'ROLLBACK_IN_PROGRESS');
    for (const name of [id, 'qualys-s3']) {
      const out = await cfn.send(new DescribeStacksCommand({ StackName: name }));
      expect(out.Stacks).toEqual([
        expect.objectContaining({
          StackId: id,
          StackName: 'qualys-s3',
          StackStatus: 'ROLLBACK_IN_PROGRESS',
          CreationTime: expect.any(Date),
        }),
      ]);
    }
  });

  test('GIVEN a stack ID ARN that is unknown WHEN setStackStatus THEN that ARN becomes the stack ID', async () => {
    const arn = 'arn:aws:cloudformation:us-east-1:123456789012:stack/given/11111111-2222-3333-4444-555555555555';
    expect(aws.setStackStatus(arn, 'UPDATE_IN_PROGRESS')).toBe(arn);
    const out = await cfn.send(new DescribeStacksCommand({ StackName: arn }));
    expect(out.Stacks?.[0]).toMatchObject({ StackName: 'given', StackStatus: 'UPDATE_IN_PROGRESS' });
  });

  test('GIVEN no such stack WHEN DescribeStacks THEN ValidationError "Stack with id X does not exist"', async () => {
    const error = await rejection(cfn.send(new DescribeStacksCommand({ StackName: 'ghost' })));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('Stack with id ghost does not exist');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  test('GIVEN a deleted stack WHEN described by name THEN it does not exist; by ID THEN DELETE_COMPLETE', async () => {
    const id = aws.setStackStatus('gone', 'DELETE_COMPLETE');
    expect((await rejection(cfn.send(new DescribeStacksCommand({ StackName: 'gone' })))).name).toBe('ValidationError');
    expect((await cfn.send(new DescribeStacksCommand({ StackName: id }))).Stacks?.[0].StackStatus).toBe(
      'DELETE_COMPLETE',
    );
  });
});

describe('canAssume', () => {
  const roleArn = 'arn:aws:iam::123456789012:role/r';

  test.each<[string, object, string, boolean]>([
    ['the external ID in StringEquals', withExternalId(), EXTERNAL_ID, true],
    ['the external ID in a StringEquals list', withExternalId(['old-id', EXTERNAL_ID]), EXTERNAL_ID, true],
    ['a different external ID', withExternalId(), 'US_POD_1-71-other', false],
    ['no condition (any external ID)', trust(), 'anything', true],
    ['another principal', trust(undefined, 'arn:aws:iam::111111111111:role/other'), EXTERNAL_ID, false],
    [
      'the principal in a list',
      trust({ StringEquals: { 'sts:ExternalId': EXTERNAL_ID } }, ['arn:aws:iam::111111111111:role/other', QUALYS]),
      EXTERNAL_ID,
      true,
    ],
    [
      'a StringLike condition (not evaluated)',
      trust({ StringLike: { 'sts:ExternalId': EXTERNAL_ID } }),
      EXTERNAL_ID,
      false,
    ],
    [
      'an extra condition key',
      trust({ StringEquals: { 'sts:ExternalId': EXTERNAL_ID, 'aws:SourceAccount': '805950163170' } }),
      EXTERNAL_ID,
      false,
    ],
  ])('GIVEN a trust policy with %s WHEN Qualys assumes THEN ok=%s', (_case, policy, externalId, ok) => {
    aws.createRole('r', policy);
    expect(aws.canAssume(roleArn, QUALYS, externalId).ok).toBe(ok);
  });

  test('GIVEN an Allow and a matching Deny WHEN assuming THEN the Deny wins', () => {
    aws.createRole('r', {
      Version: '2012-10-17',
      Statement: [
        ...withExternalId().Statement,
        { Effect: 'Deny', Principal: { AWS: QUALYS }, Action: 'sts:AssumeRole' },
      ],
    });
    expect(aws.canAssume(roleArn, QUALYS, EXTERNAL_ID)).toEqual({ ok: false, reason: expect.stringMatching(/Deny/) });
  });

  test('GIVEN a refusal WHEN reading the reason THEN it names the role and principal but not the external ID', () => {
    aws.createRole('r', withExternalId());
    const result = aws.canAssume(roleArn, QUALYS, 'US_POD_1-71-secret-ish');
    expect(result.ok).toBe(false);
    expect(result.reason).toContain(roleArn);
    expect(result.reason).not.toContain('secret-ish');
    expect(result.reason).not.toContain(EXTERNAL_ID);
  });

  test('GIVEN an unknown role or another account WHEN assuming THEN not ok', () => {
    aws.createRole('r', trust());
    expect(aws.canAssume('arn:aws:iam::123456789012:role/nope', QUALYS, 'x')).toEqual({
      ok: false,
      reason: expect.stringMatching(/does not exist/),
    });
    expect(aws.canAssume('arn:aws:iam::999999999999:role/r', QUALYS, 'x').ok).toBe(false);
  });

  test('GIVEN propagationDelayMs WHEN a role is new, then its trust policy changes THEN STS sees each version only after the delay', async () => {
    let now = 1_700_000_000_000;
    await startAws({ now: () => now, propagationDelayMs: 10_000 });
    aws.createRole('r', withExternalId('first'));
    expect(aws.canAssume(roleArn, QUALYS, 'first')).toEqual({
      ok: false,
      reason: expect.stringMatching(/not yet visible/),
    });
    now += 10_000;
    expect(aws.canAssume(roleArn, QUALYS, 'first').ok).toBe(true);

    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'r', PolicyDocument: JSON.stringify(withExternalId('second')) }),
    );
    now += 9_999;
    expect(aws.canAssume(roleArn, QUALYS, 'first').ok).toBe(true);
    const stale = aws.canAssume(roleArn, QUALYS, 'second');
    expect(stale).toEqual({ ok: false, reason: expect.stringMatching(/has not propagated yet/) });
    now += 1;
    expect(aws.canAssume(roleArn, QUALYS, 'second').ok).toBe(true);
    expect(aws.canAssume(roleArn, QUALYS, 'first').ok).toBe(false);
  });

  describe('principals of an account (:root) and role sessions', () => {
    const ROOT = 'arn:aws:iam::805950163170:root';
    const rootTrust = trust({ StringEquals: { 'sts:ExternalId': EXTERNAL_ID } }, ROOT);

    test.each<[string, string, boolean]>([
      ['a role of that account', QUALYS, true],
      ['another role of that account', 'arn:aws:iam::805950163170:role/any-other-role', true],
      ['a user of that account', 'arn:aws:iam::805950163170:user/scanner', true],
      ['a role session of that account', 'arn:aws:sts::805950163170:assumed-role/QUALYS_ROLE/session-1', true],
      ['a role of another account', 'arn:aws:iam::111111111111:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE', false],
      ['the same account number in another partition', 'arn:aws-us-gov:iam::805950163170:role/QUALYS_ROLE', false],
    ])('GIVEN a trust naming the account :root WHEN %s assumes THEN ok=%s', (_case, principal, ok) => {
      aws.createRole('r', rootTrust);
      expect(aws.canAssume(roleArn, principal, EXTERNAL_ID).ok).toBe(ok);
    });

    test('GIVEN a trust naming the account :root WHEN the external ID is wrong THEN not ok', () => {
      aws.createRole('r', rootTrust);
      expect(aws.canAssume(roleArn, QUALYS, 'other-id').ok).toBe(false);
    });

    test.each<[string, string, boolean]>([
      ['that role', QUALYS, true],
      ['a session of that role', 'arn:aws:sts::805950163170:assumed-role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE/s', true],
      ['another role of the same account', 'arn:aws:iam::805950163170:role/any-other-role', false],
      ['a session of another role', 'arn:aws:sts::805950163170:assumed-role/any-other-role/s', false],
      ['the account root', 'arn:aws:iam::805950163170:root', false],
    ])(
      'GIVEN a trust naming one role (as the S3 integration does) WHEN %s assumes THEN ok=%s',
      (_case, principal, ok) => {
        aws.createRole('r', withExternalId());
        expect(aws.canAssume(roleArn, principal, EXTERNAL_ID).ok).toBe(ok);
      },
    );
  });

  test('GIVEN a trust policy changed at t WHEN judged at a moment given with `at` THEN the version STS saw then decides', async () => {
    let now = 1_700_000_000_000;
    await startAws({ now: () => now, propagationDelayMs: 10_000 });
    const created = now;
    aws.createRole('r', withExternalId('first'));
    now += 60_000;
    aws.setTrustPolicy('r', withExternalId('second'));
    const changed = now;
    now += 60_000;
    expect(aws.canAssume(roleArn, QUALYS, 'second').ok).toBe(true);
    expect(aws.canAssume(roleArn, QUALYS, 'first', changed + 5_000).ok).toBe(true);
    expect(aws.canAssume(roleArn, QUALYS, 'second', changed + 5_000)).toEqual({
      ok: false,
      reason: expect.stringMatching(/has not propagated yet/),
    });
    expect(aws.canAssume(roleArn, QUALYS, 'first', created + 5_000)).toEqual({
      ok: false,
      reason: expect.stringMatching(/not yet visible/),
    });
    expect(aws.canAssume(roleArn, QUALYS, 'first', created - 1)).toEqual({
      ok: false,
      reason: expect.stringMatching(/did not exist yet/),
    });
    expect(aws.qualysTrustChecker(QUALYS)(roleArn, 'first', changed + 5_000).ok).toBe(true);
  });

  test('GIVEN a real-time propagation delay WHEN waiting it out THEN the new trust policy applies', async () => {
    aws.propagationDelayMs = 60;
    aws.createRole('r', withExternalId());
    expect(aws.canAssume(roleArn, QUALYS, EXTERNAL_ID).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 70));
    expect(aws.canAssume(roleArn, QUALYS, EXTERNAL_ID).ok).toBe(true);
  });
});

describe('with the Qualys simulator', () => {
  test('GIVEN qualysTrustChecker as the trust checker WHEN validating before and after the role trusts the external ID THEN 400, then 200', async () => {
    const sim = new QualysSimulator({ trustChecker: aws.qualysTrustChecker(QUALYS) });
    const base = await sim.start();
    try {
      const roleArn = aws.createRole('qualys-vm', trust({ StringEquals: { 'sts:ExternalId': 'pending' } }));
      const jwt = await (
        await request(`${base}/auth`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'username=qualys-user&password=S3cr3t-P%40ss&token=true',
        })
      ).body.text();
      const headers = { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' };
      const registered = (await (
        await request(`${base}/partner-integration/aws/s3/vm`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'vm', bucketName: 'findings', bucketRegion: 'us-east-1', roleArn }),
        })
      ).body.json()) as { integrationId: number; externalId: string };

      const refused = await request(`${base}/partner-integration/aws/s3/${registered.integrationId}/vm/validate`, {
        method: 'PATCH',
        headers,
      });
      expect(refused.statusCode).toBe(400);
      expect(((await refused.body.json()) as { messsage: string }).messsage).toMatch(
        /^Unable to assume role arn:aws:iam::123456789012:role\/qualys-vm with the provided external ID: /,
      );

      await iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: 'qualys-vm',
          PolicyDocument: JSON.stringify(withExternalId(registered.externalId)),
        }),
      );
      const accepted = await request(`${base}/partner-integration/aws/s3/${registered.integrationId}/vm/validate`, {
        method: 'PATCH',
        headers,
      });
      expect(accepted.statusCode).toBe(200);
      await accepted.body.text();
      expect(sim.integration('vm', registered.integrationId)?.integrationValidated).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});

describe('faults and the call log', () => {
  test('GIVEN an IAM throttling fault WHEN GetRole with no retries THEN Throttling 400', async () => {
    aws.createRole('r', trust());
    aws.inject({ service: 'iam', action: 'GetRole' });
    const error = await rejection(iam.send(new GetRoleCommand({ RoleName: 'r' })));
    expect(error.name).toBe('Throttling');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata.httpStatusCode).toBe(400);
    await expect(iam.send(new GetRoleCommand({ RoleName: 'r' }))).resolves.toBeDefined();
  });

  test('GIVEN a Secrets Manager throttling fault WHEN read THEN ThrottlingException', async () => {
    aws.putSecret('s', 'v');
    aws.inject({ action: 'GetSecretValue' });
    expect((await rejection(sm.send(new GetSecretValueCommand({ SecretId: 's' })))).name).toBe('ThrottlingException');
  });

  test('GIVEN one throttle and the SDK retrying WHEN GetRole THEN the second attempt succeeds', async () => {
    aws.createRole('r', trust());
    aws.inject({ service: 'iam', code: 'Throttling', status: 400 });
    const retrying = new IAMClient(config(2));
    try {
      const out = await retrying.send(new GetRoleCommand({ RoleName: 'r' }));
      expect(out.$metadata.attempts).toBe(2);
    } finally {
      retrying.destroy();
    }
    expect(aws.calls.map((c) => c.status)).toEqual([400, 200]);
  });

  test('GIVEN a 500 fault with a custom code WHEN DescribeStacks THEN the SDK sees that code', async () => {
    aws.setStackStatus('s', 'CREATE_COMPLETE');
    aws.inject({ service: 'cloudformation', status: 500, code: 'InternalFailure', message: 'boom' });
    const error = await rejection(cfn.send(new DescribeStacksCommand({ StackName: 's' })));
    expect(error.name).toBe('InternalFailure');
    expect(error.$metadata.httpStatusCode).toBe(500);
  });

  test('GIVEN a reset fault WHEN calling THEN the SDK gets a network error', async () => {
    aws.putSecret('s', 'v');
    aws.inject({ service: 'secretsmanager', reset: true });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 's' }))).rejects.toThrow();
    expect(aws.calls).toEqual([
      expect.objectContaining({ service: 'secretsmanager', action: 'GetSecretValue', status: 0 }),
    ]);
  });

  test('GIVEN calls to all three services WHEN inspecting THEN each is logged with service and action; clearFaults and resetCalls work', async () => {
    aws.createRole('r', trust());
    aws.putSecret('s', 'v');
    aws.setStackStatus('st', 'CREATE_COMPLETE');
    aws.inject({ status: 400, times: 5 });
    aws.clearFaults();
    await iam.send(new GetRoleCommand({ RoleName: 'r' }));
    await sm.send(new GetSecretValueCommand({ SecretId: 's' }));
    await cfn.send(new DescribeStacksCommand({ StackName: 'st' }));
    expect(aws.calls).toEqual([
      { service: 'iam', action: 'GetRole', at: expect.any(Number), status: 200 },
      { service: 'secretsmanager', action: 'GetSecretValue', at: expect.any(Number), status: 200 },
      { service: 'cloudformation', action: 'DescribeStacks', at: expect.any(Number), status: 200 },
    ]);
    expect(aws.callCounts()).toEqual({
      'iam:GetRole': 1,
      'secretsmanager:GetSecretValue': 1,
      'cloudformation:DescribeStacks': 1,
    });
    aws.resetCalls();
    expect(aws.calls).toEqual([]);
  });
});

describe('operator reads: S3 listing, STS identity, IAM role listing, stack outputs', () => {
  // Loaded here only: the handler never makes these calls.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const s3sdk = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const stssdk = require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
  const { ListRolesCommand } = require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam');

  test('GIVEN objects in date folders WHEN listed with a delimiter and small pages THEN common prefixes come page by page, as S3 pages them', async () => {
    const s3 = new s3sdk.S3Client(config());
    for (const day of ['2026-11-20', '2026-11-21', '2026-11-22'])
      aws.putObject('b', `qualys_pc_posture_info/${day}/x.gz`);
    aws.putObject('b', 'qualys_pc_posture_info/loose.gz');
    const first = await s3.send(
      new s3sdk.ListObjectsV2Command({ Bucket: 'b', Prefix: 'qualys_pc_posture_info/', Delimiter: '/', MaxKeys: 2 }),
    );
    expect(first.CommonPrefixes?.map((p) => p.Prefix)).toEqual([
      'qualys_pc_posture_info/2026-11-20/',
      'qualys_pc_posture_info/2026-11-21/',
    ]);
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(
      new s3sdk.ListObjectsV2Command({
        Bucket: 'b',
        Prefix: 'qualys_pc_posture_info/',
        Delimiter: '/',
        ContinuationToken: first.NextContinuationToken,
      }),
    );
    expect(second.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['qualys_pc_posture_info/2026-11-22/']);
    expect(second.Contents?.map((c) => c.Key)).toEqual(['qualys_pc_posture_info/loose.gz']);
    expect(second.IsTruncated).toBe(false);
    s3.destroy();
  });

  test('GIVEN a missing or denied bucket WHEN listed THEN NoSuchBucket (404) or AccessDenied (403)', async () => {
    const s3 = new s3sdk.S3Client(config());
    expect(await rejection(s3.send(new s3sdk.ListObjectsV2Command({ Bucket: 'nope' })))).toMatchObject({
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404 },
    });
    aws.createBucket('locked');
    aws.denyBucket('locked');
    expect(await rejection(s3.send(new s3sdk.ListObjectsV2Command({ Bucket: 'locked' })))).toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    s3.destroy();
  });

  test('GIVEN an account WHEN GetCallerIdentity THEN its account and caller ARN', async () => {
    const sts = new stssdk.STSClient(config());
    expect(await sts.send(new stssdk.GetCallerIdentityCommand({}))).toMatchObject({
      Account: '123456789012',
      Arn: 'arn:aws:iam::123456789012:user/operator',
    });
    sts.destroy();
  });

  test('GIVEN three roles WHEN listed one per page THEN each comes once with its decoded-able trust policy', async () => {
    for (const name of ['c', 'a', 'b']) aws.createRole(name, withExternalId());
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListRolesCommand({ MaxItems: 1, Marker: marker }));
      for (const r of page.Roles ?? []) {
        names.push(r.RoleName!);
        expect(JSON.parse(decodeURIComponent(r.AssumeRolePolicyDocument!))).toEqual(withExternalId());
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    expect(names).toEqual(['a', 'b', 'c']);
  });

  test('GIVEN a stack with outputs WHEN described THEN the outputs come back', async () => {
    aws.setStackStatus('S', 'CREATE_COMPLETE');
    aws.setStackOutputs('S', { BucketName: 'b', VmIntegrationId: '7' });
    const out = await cfn.send(new DescribeStacksCommand({ StackName: 'S' }));
    expect(out.Stacks?.[0].Outputs).toEqual([
      { OutputKey: 'BucketName', OutputValue: 'b' },
      { OutputKey: 'VmIntegrationId', OutputValue: '7' },
    ]);
  });
});
