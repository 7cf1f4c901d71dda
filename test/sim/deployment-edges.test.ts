/**
 * Break-review of issue 13: the deployment emulator (sim/deployment.ts) the end-to-end tests
 * trust. CloudFormation, after an Update whose answer carries a new physical ID, sends a
 * Delete of the old physical ID (with the old properties) in its cleanup phase; a replacement
 * whose old Delete is never sent cannot show what that Delete does to the new resource.
 */
import type { Handler, Template } from '../../sim/cfn-emulator';
import { Deployment } from '../../sim/deployment';
import type { FakeAws } from '../../sim/fake-aws';

const template = (version: string): Template => ({
  Resources: { Connector: { Type: 'Custom::QualysCloudViewConnector', Properties: { Version: version } } },
});

function recording() {
  const events: Array<{ RequestType: string; PhysicalResourceId?: string; ResourceProperties?: unknown }> = [];
  const handler: Handler = async (event) => {
    const e = event as { RequestType: string; PhysicalResourceId?: string; ResourceProperties: { Version: string } };
    events.push({
      RequestType: e.RequestType,
      PhysicalResourceId: e.PhysicalResourceId,
      ResourceProperties: e.ResourceProperties,
    });
    return {
      PhysicalResourceId: e.RequestType === 'Delete' ? e.PhysicalResourceId! : `id-${e.ResourceProperties.Version}`,
      Data: {},
    };
  };
  return { events, handler };
}

const target = { aws: {} as FakeAws, stackName: 'S', account: '123456789012', region: 'us-east-1' };

test('GIVEN an Update answered with a new physical ID WHEN the emulator updates the resource THEN it then deletes the old physical ID with the old properties, as CloudFormation does', async () => {
  const { events, handler } = recording();
  const deployment = new Deployment(template('1'), handler, target);
  await deployment.create('Connector');
  deployment.template = template('2');
  await deployment.update('Connector');
  expect(events.map((e) => [e.RequestType, e.PhysicalResourceId ?? null])).toEqual([
    ['Create', null],
    ['Update', 'id-1'],
    ['Delete', 'id-1'],
  ]);
  expect(events[2].ResourceProperties).toEqual({ Version: '1' });
});

test('GIVEN an Update answered with the same physical ID WHEN the emulator updates THEN no Delete is sent', async () => {
  const { events, handler } = recording();
  const same: Handler = async (event) => ({
    ...(await handler(event, { getRemainingTimeInMillis: () => 1 })),
    PhysicalResourceId: 'fixed',
  });
  const deployment = new Deployment(template('1'), same, target);
  await deployment.create('Connector');
  deployment.template = template('2');
  await deployment.update('Connector');
  expect(events.map((e) => e.RequestType)).toEqual(['Create', 'Update']);
});
