/**
 * The lifecycle under every reading the guide allows: the simulator plays each dialect (one
 * per ambiguity, and `guide` for the guide's samples as a whole), and create, a settings
 * change, a rotation, a trust reset, delete and a failed create must come out right in each.
 */
import { Prop } from '../../../src/core/contract';
import { onEvent, parsePhysicalId } from '../../../src/core/lifecycle/lifecycle';
import { DIALECTS, type DialectName } from '../../../sim/qualys-simulator';
import { resolveDialect } from '../../../sim/qualys-dialect';
import {
  callsTo,
  createEvent,
  deleteEvent,
  useLifecycleWorld,
  pendingTrust,
  props,
  trustedIds,
  updateEvent,
} from '../../support/lifecycle-world';
import { CIPS_FILTER as FILTER, VM_DEFAULT_SETTINGS } from '../../support/fixtures';

const NAMES = Object.keys(DIALECTS) as DialectName[];

const world = useLifecycleWorld({ perTest: true });

/** Whether the new external ID of a PC rotation can be learned from an answer under this reading. */
function pcRotationLearnable(name: DialectName): boolean {
  const d = resolveDialect(name);
  return d.pcDetails === 'full' || d.putAnswer === 'with-external-id';
}

/** The filter can be managed only where the CIPS answer can be read. */
const cipsReadable = (name: DialectName) => resolveDialect(name).cipsConfigShape !== 'opaque';

describe.each(NAMES)('under the "%s" reading', (name) => {
  beforeEach(async () => {
    await world.build({ sim: { dialect: name } });
    // Every create meets a few "not yet" answers first, in this dialect's way of saying it.
    world.propagationMs = 8_000;
  });

  test.each(['vm', 'pc'] as const)(
    'the %s integration goes through create, update, rotation, trust reset and delete',
    async (kind) => {
      const cips = JSON.stringify({ policies: [101, 102], ...(cipsReadable(name) ? { filter: FILTER } : {}) });
      const settings =
        kind === 'pc' ? { [Prop.Settings]: JSON.stringify({ compressData: false }), [Prop.Cips]: cips } : {};
      const p1 = props(world, kind, settings);

      // Create: one integration, validated, its external ID the only one trusted.
      const created = await onEvent(createEvent(p1), world.deps);
      const [first] = world.sim.integrations(kind);
      expect(world.sim.integrations(kind)).toHaveLength(1);
      expect(first.integrationValidated).toBe(true);
      expect(trustedIds(world, kind)).toEqual([first.externalId]);
      expect(created.Data.IntegrationId).toBe(String(first.integrationId));
      if (kind === 'pc') {
        // PC register carries only the four documented fields; compressData follows by PUT.
        expect(Object.keys(callsTo(world, 'POST', '/partner-integration/aws/s3/pc')[0].body as object).sort()).toEqual([
          'bucketName',
          'bucketRegion',
          'name',
          'roleArn',
        ]);
        expect(first.compressData).toBe(false);
        expect(world.sim.cips().policies).toEqual([101, 102]);
        if (cipsReadable(name)) expect(world.sim.cips().filter).toEqual(FILTER);
      }

      // A settings change: PUT in place, same integration, validated again.
      const p2 =
        kind === 'vm'
          ? props(world, kind, {
              [Prop.Settings]: JSON.stringify({ ...VM_DEFAULT_SETTINGS, minSeverity: 4 }),
            })
          : props(world, kind, { ...settings, [Prop.Settings]: JSON.stringify({ compressData: true }) });
      const updated = await onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps);
      expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
      expect(world.sim.integration(kind, first.integrationId)?.integrationValidated).toBe(true);
      expect(trustedIds(world, kind)).toEqual([first.externalId]);

      // A rotation: a new external ID, and only it trusted. Where no answer tells the new one,
      // the integration is replaced (registered again, whose answer brings a new external ID).
      const p3 = { ...p2, [Prop.ExternalIdRotation]: '2026-12' };
      const rotatedOut = await onEvent(updateEvent(created.PhysicalResourceId, p2, p3), world.deps);
      const [rotated] = world.sim.integrations(kind);
      expect(world.sim.integrations(kind)).toHaveLength(1);
      expect(rotated.externalId).not.toBe(first.externalId);
      expect(trustedIds(world, kind)).toEqual([rotated.externalId]);
      expect(rotated.integrationValidated).toBe(true);
      const replaced = kind === 'pc' && !pcRotationLearnable(name);
      expect(rotatedOut.PhysicalResourceId === created.PhysicalResourceId).toBe(!replaced);
      if (replaced) {
        // CloudFormation deletes the old physical ID after a replacement: already gone, policies stay for the new one.
        await onEvent(deleteEvent(created.PhysicalResourceId, p2), world.deps);
        expect(world.sim.integrations(kind)).toHaveLength(1);
        expect(world.sim.cips().policies).toEqual([101, 102]);
      }
      const physicalId = rotatedOut.PhysicalResourceId;

      // A trust reset: CloudFormation rewrote the trust policy; the external ID is put back.
      world.trust.put(`${kind}-role`, pendingTrust(kind));
      const p4 = { ...p3, [Prop.TrustPolicyFingerprint]: 'fp-2' };
      await onEvent(updateEvent(physicalId, p3, p4), world.deps);
      const [current] = world.sim.integrations(kind);
      expect(trustedIds(world, kind)).toEqual([current.externalId]);

      // Delete: nothing left in Qualys; the policies this resource added are removed again,
      // unless CIPS could not be read (then it removes none: it cannot tell whose they are).
      await onEvent(deleteEvent(physicalId, p4), world.deps);
      expect(world.sim.integrations(kind)).toEqual([]);
      if (kind === 'pc') expect(world.sim.cips().policies).toEqual(cipsReadable(name) ? [] : [101, 102]);
    },
  );

  test.each(['vm', 'pc'] as const)('a failed %s create leaves nothing behind', async (kind) => {
    world.sim.seedCips({ policies: [555] });
    world.propagationMs = Number.POSITIVE_INFINITY;
    const p = props(world, kind, { [Prop.ValidationTimeoutSeconds]: '40' });
    await expect(onEvent(createEvent(p), world.deps)).rejects.toThrow(
      /did not succeed within \d+ s.*Qualys's last answer: HTTP \d+ .+deregistered again/,
    );
    expect(world.sim.integrations(kind)).toEqual([]);
    expect(world.sim.cips().policies).toEqual([555]);
  });

  test('a second deploy of the same environment adopts its own integration (or, where Qualys lists it without an ID, stops and says so), never a duplicate', async () => {
    const p = props(world, 'pc');
    const first = await onEvent(createEvent(p), world.deps);
    const again = await onEvent(createEvent(p), world.deps).catch((e: Error) => e);
    const ids = world.sim.integrations('pc').map((i) => i.integrationId);
    expect(ids).toHaveLength(1);
    if (again instanceof Error) {
      // Only where Qualys lists the integration without its ID can it not be adopted: said so, nothing changed.
      expect(resolveDialect(name).pcDetails).toBe('guide');
      expect(again.message).toMatch(/did not report its ID.*Nothing was changed/);
    } else {
      expect(parsePhysicalId(again.PhysicalResourceId)?.id).toBe(parsePhysicalId(first.PhysicalResourceId)?.id);
    }
  });
});

describe('one integration per kind (a reading the guide allows)', () => {
  beforeEach(async () => {
    await world.build({ sim: { dialect: 'one-per-kind' } });
  });

  test("GIVEN another environment's VM integration WHEN a second environment is created THEN it fails naming it and the choices, changing nothing", async () => {
    const other = world.sim.seedIntegration('vm', {
      name: 'qs3-prod-vm-123456789012-eu-west-1',
      bucketName: 'prod-bucket',
    });
    await expect(onEvent(createEvent(props(world, 'vm')), world.deps)).rejects.toThrow(
      /already holds the VM integration "qs3-prod-vm-123456789012-eu-west-1" \(ID \d+\).*adopt it.*another Qualys subscription/,
    );
    expect(world.sim.integrations('vm')).toEqual([other]);
    expect(trustedIds(world, 'vm')).toEqual(['qualys-s3-pending-registration-vm']);
  });
});

describe('a rotation rolled back', () => {
  test('GIVEN a rotation whose validation failed WHEN CloudFormation rolls it back THEN nothing is regenerated and the rollback succeeds', async () => {
    await world.build({ sim: { dialect: 'guide' } });
    const p1 = props(world, 'pc', { [Prop.ValidationTimeoutSeconds]: '30' });
    const created = await onEvent(createEvent(p1), world.deps);
    const p2 = { ...p1, [Prop.ExternalIdRotation]: 'now' };
    world.propagationMs = Number.POSITIVE_INFINITY;
    await expect(onEvent(updateEvent(created.PhysicalResourceId, p1, p2), world.deps)).rejects.toThrow(
      /did not succeed/,
    );
    const afterForward = world.sim.integrations('pc')[0];

    world.stacks.value = 'UPDATE_ROLLBACK_IN_PROGRESS';
    world.sim.resetCalls();
    await expect(onEvent(updateEvent(created.PhysicalResourceId, p2, p1), world.deps)).resolves.toMatchObject({
      PhysicalResourceId: created.PhysicalResourceId,
    });
    expect(
      callsTo(world, 'PUT', '/pc').every(
        (c) => (c.body as { regenerateExternalId?: boolean }).regenerateExternalId !== true,
      ),
    ).toBe(true);
    expect(world.sim.integrations('pc')[0].externalId).toBe(afterForward.externalId);
    expect(trustedIds(world, 'pc')).toEqual([afterForward.externalId]);
    expect(world.lines.some((l) => l.includes('the rollback could not validate'))).toBe(true);
  });
});
