/**
 * `qualys-s3 preflight` under the guide's own readings: what it predicts about the deploy
 * must be what the deploy then does. Tests named "(judgement call)" pin an expectation the
 * guide does not settle.
 */
import { check, PROD_SITE, useCliWorld } from '../support/cli-world';

const { ACCOUNT, ENV, REGION } = PROD_SITE;

const world = useCliWorld({ sim: { dialect: 'guide' } });

const DEFAULT_PC_NAME = `qs3-${ENV}-pc-${ACCOUNT}-${REGION}`;

describe('preflight under the "guide" reading', () => {
  test("GIVEN this environment's leftover PC integration listed without an ID (the guide's sample) WHEN preflight runs THEN it does not promise an adoption the deploy will refuse", async () => {
    world.sim.seedIntegration('pc', {
      name: DEFAULT_PC_NAME,
      bucketName: 'leftover-bucket',
      bucketRegion: REGION,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/r`,
    });
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    const existing = check(doc, 'existing-pc');
    // The deploy answers "did not report its ID, so it can be neither adopted nor replaced".
    expect(existing.value).not.toMatch(/ID undefined/);
    expect(existing.value).not.toMatch(/the deploy adopts it/);
    expect(existing.status).toBe('fail');
  });

  test("GIVEN another environment's PC integration in a subscription that holds one per kind (judgement call) WHEN preflight runs THEN it warns that registering a second one may be refused", async () => {
    world.sim.seedIntegration('pc', {
      name: 'qs3-other-pc-123456789012-us-east-1',
      bucketName: 'other-bucket',
      bucketRegion: 'us-east-1',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/o`,
    });
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    const existing = check(doc, 'existing-pc');
    expect(existing.status).not.toBe('pass');
    expect(existing.value).toMatch(/qs3-other-pc-123456789012-us-east-1/);
  });

  test('GIVEN the "guide" reading WHEN preflight runs THEN it reports the readings it met, the single-object list among them', async () => {
    world.sim.seedIntegration('vm', { name: 'qs3-other-vm-123456789012-us-east-1' });
    const { doc } = await world.json(['preflight', ENV, '--config', world.config()]);
    expect(check(doc, 'qualys-readings').value).toMatch(/VM list: one object/);
  });
});
