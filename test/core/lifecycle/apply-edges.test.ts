/**
 * Attacks on applying a plan under every simulator dialect: a create that fails part-way
 * leaves nothing registered and the role as it was, and an update after the integration was
 * deleted in Qualys registers it again with a trust policy that holds the new external ID.
 */
import { Prop } from '../../../src/core/contract';
import { onEvent, parsePhysicalId } from '../../../src/core/lifecycle/lifecycle';
import { DIALECTS, type DialectName } from '../../../sim/qualys-dialect';
import { createEvent, props, trustedIds, updateEvent, useLifecycleWorld } from '../../support/lifecycle-world';

const world = useLifecycleWorld({ perTest: true });
const cases = (Object.keys(DIALECTS) as DialectName[]).flatMap((d) =>
  (['vm', 'pc'] as const).map((k) => [d, k] as const),
);

describe('a failed create changes nothing that existed before it', () => {
  test.each(cases)(
    'GIVEN the "%s" reading and validation answering 403 WHEN a %s create runs THEN it fails, nothing stays registered, no CIPS policy was added (the integration and CIPS as before)',
    async (dialect, kind) => {
      await world.build({ sim: { dialect } });
      world.sim.inject({ path: /validate/, status: 403, body: '{"messsage":"forbidden"}', times: 100 });
      await expect(onEvent(createEvent(props(world, kind)), world.deps)).rejects.toThrow(/403|forbidden/i);
      expect(world.sim.integrations(kind)).toEqual([]);
      expect(world.sim.cips().policies).toEqual([]);
    },
  );
});

describe('an update after the integration was deleted in Qualys', () => {
  test.each(cases)(
    'GIVEN the "%s" reading and a %s integration deleted in Qualys WHEN a settings update runs THEN a new integration is registered and the role trusts exactly its external ID',
    async (dialect, kind) => {
      await world.build({ sim: { dialect } });
      const p1 = props(world, kind);
      const created = await onEvent(createEvent(p1), world.deps);
      world.sim.clearIntegrations();
      const p2 = props(world, kind, { [Prop.IntegrationName]: `renamed-${kind}` });
      const out = await onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps);
      const id = parsePhysicalId(out.PhysicalResourceId)!.id;
      expect(id).not.toBe(parsePhysicalId(created.PhysicalResourceId)!.id);
      const listed = world.sim.integrations(kind);
      expect(listed).toHaveLength(1);
      const details = world.sim.integration(kind, Number(id)) as { externalId: string; integrationValidated: boolean };
      expect(trustedIds(world, kind)).toEqual([details.externalId]);
      expect(details.integrationValidated).toBe(true);
    },
  );
});

describe('a failed create leaves the role as it was', () => {
  test.each(['vm', 'pc'] as const)(
    'GIVEN validation answering 403 WHEN a %s create fails and is undone THEN the role trusts no external ID of the deregistered integration',
    async (kind) => {
      await world.build();
      const before = trustedIds(world, kind);
      world.sim.inject({ path: /validate/, status: 403, body: '{"messsage":"forbidden"}', times: 100 });
      await expect(onEvent(createEvent(props(world, kind)), world.deps)).rejects.toThrow(/403|forbidden/i);
      expect(trustedIds(world, kind).filter((id) => !before.includes(id))).toEqual([]);
    },
  );
});
