// The behaviour every ConfigStore adapter must have (settings, trust material, catalog, history, conditional
// commits); run against each adapter.
import { describe, expect, it } from 'vitest';
import { InvalidPageTokenError, SettingsMissingError } from '../../lib/ports/errors.ts';
import type { Exemption } from '../../lib/domain/exemptions.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/domain/settings.ts';
import type {
  ConfigChange,
  ConfigCommit,
  ConfigExpectation,
  ConfigStore,
  HistoryEntry,
  PackageRecord,
  RevocationRecord,
  StoredCertificate,
  StoredSettings,
} from '../../lib/ports/config-store.ts';

const at = (minute: number) => `2026-11-25T18:${String(minute).padStart(2, '0')}:00.000Z`;

function certificate(n: number, extra: Partial<StoredCertificate> = {}): StoredCertificate {
  return { pem: `-----BEGIN CERTIFICATE-----\nMII${n}\n-----END CERTIFICATE-----\n`, subject: `CN=Test ${n}`, notAfter: '2030-01-01T00:00:00.000Z', sha256: String(n).repeat(64).slice(0, 64), ...extra };
}

const pkg = (packageId: string): PackageRecord => ({ packageId, name: `Package ${packageId}`, checksum: { type: 'MD5', value: 'a'.repeat(32) }, updatedAt: at(1), updatedBy: 'alice' });
const unchecked = (packageId: string): PackageRecord => ({ packageId, name: packageId, checksum: null, updatedAt: at(1), updatedBy: 'alice' });
const revocation = (sha256: string): RevocationRecord => ({ sha256, reason: 'lost', revokedAt: at(2), revokedBy: 'alice' });
const exemption = (deviceId: string, until = at(50)): Exemption => ({
  deviceId,
  violations: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'],
  until,
  reason: 'travelling',
  createdAt: at(3),
  createdBy: 'alice',
});
const line = (version: number, minute: number, field = 'x'): HistoryEntry => ({ version, changedAt: at(minute), actor: 'alice', changes: [{ field, from: null, to: minute }] });

function settingsAt(version: number, settings: Partial<Settings> = {}): StoredSettings {
  return { settings: { ...DEFAULT_SETTINGS, ...settings } as Settings, version, updatedAt: at(version), updatedBy: 'alice' };
}

const commitOf = (change: ConfigChange, expect?: ConfigExpectation, history: HistoryEntry = line(1, 0)): ConfigCommit => ({ change, expect, history });

/** A store as a deployment leaves it (initialised), or as an empty table (`initialized: false`). */
export type MakeConfigStore = (options?: { initialized?: boolean }) => Promise<ConfigStore>;

export function configStoreContract(name: string, makeStore: MakeConfigStore): void {
  describe(`${name} (ConfigStore contract)`, () => {
    it('initialises an empty store with settings version 1 and the defaults, once', async () => {
      const store = await makeStore({ initialized: false });
      expect(await store.initializeSettings(new Date(at(0)))).toBe('CREATED');
      expect(await store.getSettings()).toEqual({ settings: DEFAULT_SETTINGS, version: 1, updatedAt: null, updatedBy: null });
      expect(await store.getRevision()).toEqual({ version: 1, policyVersion: 1, revocationsVersion: 0 });
      expect(await store.commit(commitOf({ kind: 'SETTINGS', stored: settingsAt(2, { mode: 'MONITOR' }) }, { settingsVersion: 1 }, line(2, 1, 'mode')))).toEqual({ ok: true });
      expect(await store.initializeSettings(new Date(at(2)))).toBe('PRESENT');
      expect(await store.getSettings()).toEqual(settingsAt(2, { mode: 'MONITOR' }));
      expect(await store.getRevision()).toEqual({ version: 2, policyVersion: 2, revocationsVersion: 0 });
      expect(await store.listHistory(10)).toEqual([line(2, 1, 'mode')]);
    });

    it('never reads a missing settings document as the defaults: every read of it, and every commit expecting it, refuses', async () => {
      const store = await makeStore({ initialized: false });
      await expect(store.getSettings()).rejects.toBeInstanceOf(SettingsMissingError);
      await expect(store.loadSnapshot()).rejects.toBeInstanceOf(SettingsMissingError);
      await expect(store.refreshSnapshot()).rejects.toBeInstanceOf(SettingsMissingError);
      const outcome = await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'office', record: pkg('office') }, { settingsVersion: 1 }));
      expect(outcome).toEqual({ ok: false, reason: 'EXPECTATION_FAILED' });
      expect(await store.listPackages()).toEqual([]);
    });

    it('reads an initialised store as version 1 with the defaults, and nothing else stored', async () => {
      const store = await makeStore();
      expect(await store.getSettings()).toEqual({ settings: DEFAULT_SETTINGS, version: 1, updatedAt: null, updatedBy: null });
      expect(await store.loadSnapshot()).toEqual({
        ...(await store.getSettings()),
        revision: { version: 1, policyVersion: 1, revocationsVersion: 0 },
        deviceCas: [],
        packages: new Map(),
        revocations: new Map(),
        exemptions: new Map(),
      });
      expect(await store.listExemptions()).toEqual([]);
      expect([await store.getDeviceCas(), await store.getServerCertificate(), await store.getPushCertificate()]).toEqual([undefined, undefined, undefined]);
      expect([await store.listPackages(), await store.listRevocations(), await store.listHistory(10)]).toEqual([[], [], []]);
    });

    it('commits a settings version that expects the one read, with its history line; a stale expectation changes nothing', async () => {
      const store = await makeStore();
      const second = settingsAt(2, { mode: 'MONITOR' });
      expect(await store.commit(commitOf({ kind: 'SETTINGS', stored: second }, { settingsVersion: 1 }, line(2, 1, 'mode')))).toEqual({ ok: true });
      expect(await store.getSettings()).toEqual(second);
      const stale = await store.commit(commitOf({ kind: 'SETTINGS', stored: settingsAt(2, { mode: 'ENFORCE' }) }, { settingsVersion: 1 }, line(2, 2)));
      expect(stale).toEqual({ ok: false, reason: 'EXPECTATION_FAILED' });
      expect(await store.getSettings()).toEqual(second);
      expect(await store.listHistory(10)).toEqual([line(2, 1, 'mode')]);
    });

    it('lets exactly one of two concurrent commits expecting the same version land', async () => {
      const store = await makeStore();
      const outcomes = await Promise.all(
        ['MONITOR', 'ENFORCE'].map((mode, i) => store.commit(commitOf({ kind: 'SETTINGS', stored: settingsAt(2, { mode: mode as Settings['mode'] }) }, { settingsVersion: 1 }, line(2, i)))),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.find((o) => !o.ok)).toMatchObject({ ok: false });
      expect(await store.listHistory(10)).toHaveLength(1);
    });

    it('stores each kind of trust material, reads it back and loads it in the snapshot, without moving the version', async () => {
      const store = await makeStore();
      const [ca1, ca2, server, push] = [certificate(1), certificate(2), certificate(3, { selfSigned: true, issuer: 'CN=Test 3' }), certificate(4, { topic: 'com.apple.mgmt.External.x' })];
      for (const change of [
        { kind: 'DEVICE_CAS', certificates: [ca1, ca2] },
        { kind: 'SERVER_CERTIFICATE', certificate: server },
        { kind: 'PUSH_CERTIFICATE', certificate: push },
        { kind: 'PACKAGE', packageId: 'office', record: pkg('office') },
        { kind: 'PACKAGE', packageId: 'firefox', record: unchecked('firefox') },
        { kind: 'REVOCATION', sha256: 'ab'.repeat(32), record: revocation('ab'.repeat(32)) },
      ] satisfies ConfigChange[]) {
        expect(await store.commit(commitOf(change))).toEqual({ ok: true });
      }
      expect(await store.getDeviceCas()).toEqual([ca1, ca2]);
      expect(await store.getServerCertificate()).toEqual(server);
      expect(await store.getPushCertificate()).toEqual(push);
      expect(await store.getPackage('office')).toEqual(pkg('office'));
      expect(await store.getPackage('firefox')).toEqual(unchecked('firefox'));
      expect(await store.getPackage('nothing')).toBeUndefined();
      expect((await store.listPackages()).map((p) => p.packageId)).toEqual(['firefox', 'office']);
      expect(await store.getRevocation('ab'.repeat(32))).toEqual(revocation('ab'.repeat(32)));
      expect(await store.listRevocations()).toEqual([revocation('ab'.repeat(32))]);
      const snapshot = await store.loadSnapshot();
      expect(snapshot).toMatchObject({ version: 1, deviceCas: [ca1, ca2], serverCertificate: server, pushCertificate: push });
      expect([...snapshot.packages.keys()].sort()).toEqual(['firefox', 'office']);
      expect(snapshot.packages.get('office')).toEqual(pkg('office'));
      expect([...snapshot.revocations.values()]).toEqual([revocation('ab'.repeat(32))]);
      expect((await store.getSettings()).version).toBe(1);
    });

    it('stores exemptions by device, lists them by deviceId and loads them, expired ones included, in the snapshot', async () => {
      const store = await makeStore();
      for (const item of [exemption('mac-2'), exemption('mac-1', at(1)), exemption('mac-3')]) {
        expect(await store.commit(commitOf({ kind: 'EXEMPTION', deviceId: item.deviceId, exemption: item }))).toEqual({ ok: true });
      }
      const replaced = { ...exemption('mac-2', at(55)), violations: ['PACKAGE_CHECKSUM_MISMATCH'], reason: 'new image' };
      expect(await store.commit(commitOf({ kind: 'EXEMPTION', deviceId: 'mac-2', exemption: replaced }, { exemption: { deviceId: 'mac-2', stored: true } }))).toEqual({ ok: true });
      expect(await store.getExemption('mac-2')).toEqual(replaced);
      expect(await store.getExemption('mac-1')).toEqual(exemption('mac-1', at(1)));
      expect(await store.getExemption('mac-9')).toBeUndefined();
      expect(await store.listExemptions()).toEqual([exemption('mac-1', at(1)), replaced, exemption('mac-3')]);
      const snapshot = await store.loadSnapshot();
      expect([...snapshot.exemptions.keys()].sort()).toEqual(['mac-1', 'mac-2', 'mac-3']);
      expect(snapshot.exemptions.get('mac-2')).toEqual(replaced);
      expect((await store.getSettings()).version).toBe(1);
      expect(await store.listPackages()).toEqual([]);
      expect(await store.listRevocations()).toEqual([]);
    });

    it('removes what a change sets to null', async () => {
      const store = await makeStore();
      await store.commit(commitOf({ kind: 'PUSH_CERTIFICATE', certificate: certificate(4) }));
      await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'office', record: pkg('office') }));
      await store.commit(commitOf({ kind: 'REVOCATION', sha256: 'cd'.repeat(32), record: revocation('cd'.repeat(32)) }));
      await store.commit(commitOf({ kind: 'EXEMPTION', deviceId: 'mac-1', exemption: exemption('mac-1') }));
      for (const change of [
        { kind: 'PUSH_CERTIFICATE', certificate: null },
        { kind: 'PACKAGE', packageId: 'office', record: null },
        { kind: 'REVOCATION', sha256: 'cd'.repeat(32), record: null },
        { kind: 'EXEMPTION', deviceId: 'mac-1', exemption: null },
      ] satisfies ConfigChange[]) {
        expect(await store.commit(commitOf(change))).toEqual({ ok: true });
      }
      const snapshot = await store.loadSnapshot();
      expect([snapshot.pushCertificate, snapshot.packages.size, snapshot.revocations.size, snapshot.exemptions.size]).toEqual([undefined, 0, 0, 0]);
      expect(await store.getExemption('mac-1')).toBeUndefined();
    });

    it.each<[string, ConfigExpectation, ConfigExpectation]>([
      // [what is expected, an expectation that holds, one that does not] — the store holds: device CAs, server 3, push 4, package office, revocation ab…
      ['the settings version', { settingsVersion: 1 }, { settingsVersion: 2 }],
      ['a stored device CA set', { deviceCasStored: true }, { deviceCasStored: false }],
      ['the server certificate', { serverCertificate: certificate(3).sha256 }, { serverCertificate: null }],
      ['another server certificate', { serverCertificate: certificate(3).sha256 }, { serverCertificate: certificate(9).sha256 }],
      ['the push certificate', { pushCertificate: certificate(4).sha256 }, { pushCertificate: certificate(9).sha256 }],
      ['a registered package', { package: { packageId: 'office', stored: true } }, { package: { packageId: 'office', stored: false } }],
      ['an unregistered package', { package: { packageId: 'other', stored: false } }, { package: { packageId: 'other', stored: true } }],
      ['a revocation', { revocation: { sha256: 'ab'.repeat(32), stored: true } }, { revocation: { sha256: 'ab'.repeat(32), stored: false } }],
      ['an exemption', { exemption: { deviceId: 'mac-1', stored: true } }, { exemption: { deviceId: 'mac-1', stored: false } }],
      ['no exemption', { exemption: { deviceId: 'mac-2', stored: false } }, { exemption: { deviceId: 'mac-2', stored: true } }],
    ])('commits only while %s is as expected, on the changed item or another', async (_what, holds, fails) => {
      const store = await makeStore();
      await store.commit(commitOf({ kind: 'DEVICE_CAS', certificates: [certificate(1)] }));
      await store.commit(commitOf({ kind: 'SERVER_CERTIFICATE', certificate: certificate(3) }));
      await store.commit(commitOf({ kind: 'PUSH_CERTIFICATE', certificate: certificate(4) }));
      await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'office', record: pkg('office') }));
      await store.commit(commitOf({ kind: 'REVOCATION', sha256: 'ab'.repeat(32), record: revocation('ab'.repeat(32)) }));
      await store.commit(commitOf({ kind: 'EXEMPTION', deviceId: 'mac-1', exemption: exemption('mac-1') }));
      const before = await store.loadSnapshot();
      const historyBefore = await store.listHistory(50);
      // Each expectation against a change of the item it names (one condition on the written item) and of another.
      for (const change of [
        { kind: 'PACKAGE', packageId: 'office', record: unchecked('office') },
        { kind: 'SERVER_CERTIFICATE', certificate: certificate(3) },
        { kind: 'EXEMPTION', deviceId: 'mac-1', exemption: exemption('mac-1', at(40)) },
      ] satisfies ConfigChange[]) {
        expect(await store.commit(commitOf(change, fails, line(1, 30)))).toEqual({ ok: false, reason: 'EXPECTATION_FAILED' });
        expect(await store.commit(commitOf(change, { ...fails, ...holds }, line(1, 30)))).toEqual({ ok: true });
      }
      expect(await store.commit(commitOf({ kind: 'SETTINGS', stored: settingsAt(2) }, { ...holds, settingsVersion: 1 }, line(2, 31)))).toEqual({ ok: true });
      expect((await store.listHistory(50)).length).toBe(historyBefore.length + 4);
      expect((await store.loadSnapshot()).deviceCas).toEqual(before.deviceCas);
    });

    it('a removal expecting the item to be there fails when it is not, and records nothing', async () => {
      const store = await makeStore();
      const outcome = await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'missing', record: null }, { package: { packageId: 'missing', stored: true } }));
      expect(outcome).toEqual({ ok: false, reason: 'EXPECTATION_FAILED' });
      expect(await store.listHistory(10)).toEqual([]);
    });

    it('lists the history newest first, limited, with the version in force; the same millisecond by version', async () => {
      const store = await makeStore();
      await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'a', record: unchecked('a') }, undefined, line(1, 1, 'packages')));
      await store.commit(commitOf({ kind: 'SETTINGS', stored: settingsAt(2) }, { settingsVersion: 1 }, line(2, 5, 'mode')));
      await store.commit(commitOf({ kind: 'SETTINGS', stored: settingsAt(3) }, { settingsVersion: 2 }, line(3, 5, 'mode')));
      await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'b', record: unchecked('b') }, undefined, line(3, 3, 'packages')));
      expect(await store.listHistory(10)).toEqual([line(3, 5, 'mode'), line(2, 5, 'mode'), line(3, 3, 'packages'), line(1, 1, 'packages')]);
      expect(await store.listHistory(2)).toEqual([line(3, 5, 'mode'), line(2, 5, 'mode')]);
    });

    it('queries the history page by page, by field and since a time, each line exactly once', async () => {
      const store = await makeStore();
      // Minutes 1–12; every third line changes packages, the others mode.
      for (let minute = 1; minute <= 12; minute += 1) {
        const field = minute % 3 === 0 ? 'packages' : 'mode';
        await store.commit(commitOf({ kind: 'PACKAGE', packageId: `p${minute}`, record: unchecked(`p${minute}`) }, undefined, line(1, minute, field)));
      }
      const all = async (query: { limit: number; field?: string; since?: Date }) => {
        const minutes: number[] = [];
        let nextToken: string | undefined;
        let pages = 0;
        do {
          const page = await store.queryHistory({ ...query, nextToken });
          expect(page.items.length).toBeLessThanOrEqual(query.limit);
          minutes.push(...page.items.map((entry) => Number(entry.changedAt.slice(14, 16))));
          nextToken = page.nextToken;
          pages += 1;
        } while (nextToken && pages < 30);
        return minutes;
      };
      for (const limit of [1, 2, 5, 50]) {
        expect(await all({ limit })).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
        expect(await all({ limit, field: 'packages' })).toEqual([12, 9, 6, 3]);
        expect(await all({ limit, since: new Date(at(7)) })).toEqual([12, 11, 10, 9, 8, 7]);
        expect(await all({ limit, field: 'packages', since: new Date(at(7)) })).toEqual([12, 9]);
      }
      expect(await store.queryHistory({ limit: 10, field: 'nothing' })).toEqual({ items: [] });
      expect(await store.queryHistory({ limit: 2 })).toEqual({ items: [line(1, 12, 'packages'), line(1, 11, 'mode')], nextToken: expect.any(String) });
      await expect(store.queryHistory({ limit: 2, nextToken: 'e30' })).rejects.toThrow();
      // A token continues only the query it came from: another field or time is refused, not silently continued.
      const { nextToken } = await store.queryHistory({ limit: 1, field: 'mode' });
      await expect(store.queryHistory({ limit: 1, field: 'packages', nextToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(store.queryHistory({ limit: 1, nextToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(store.queryHistory({ limit: 1, field: 'mode', since: new Date(at(2)), nextToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      expect((await store.queryHistory({ limit: 1, field: 'mode', nextToken })).items.map((entry) => entry.changedAt)).toEqual([at(10)]);
    });

    it('counts every commit in the revision, the revocations apart, and refuses a commit planned on an older one', async () => {
      const store = await makeStore();
      expect(await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'office', record: pkg('office') }, { configVersion: 1 }))).toEqual({ ok: true });
      expect(await store.getRevision()).toEqual({ version: 2, policyVersion: 2, revocationsVersion: 0 });
      expect(await store.commit(commitOf({ kind: 'REVOCATION', sha256: 'ab'.repeat(32), record: revocation('ab'.repeat(32)) }, { configVersion: 2 }))).toEqual({ ok: true });
      expect(await store.getRevision()).toEqual({ version: 3, policyVersion: 2, revocationsVersion: 3 });
      // Planned on revision 2: another commit landed since, whatever it changed.
      const stale = await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'office', record: null }, { configVersion: 2, package: { packageId: 'office', stored: true } }));
      expect(stale).toEqual({ ok: false, reason: 'EXPECTATION_FAILED' });
      expect(await store.getPackage('office')).toEqual(pkg('office'));
      expect(await store.getRevision()).toEqual({ version: 3, policyVersion: 2, revocationsVersion: 3 });
      expect(await store.listHistory(10)).toHaveLength(2);
    });

    it('refreshes a held snapshot: the same one while nothing changed, else with every addition and removal since', async () => {
      const store = await makeStore();
      const [a, b, c] = ['ab', 'cd', 'ef'].map((pair) => pair.repeat(32));
      await store.commit(commitOf({ kind: 'REVOCATION', sha256: a, record: revocation(a) }));
      await store.commit(commitOf({ kind: 'REVOCATION', sha256: b, record: revocation(b) }));
      const held = await store.refreshSnapshot();
      expect(await store.refreshSnapshot(held)).toBe(held);
      await store.commit(commitOf({ kind: 'REVOCATION', sha256: a, record: null }));
      await store.commit(commitOf({ kind: 'REVOCATION', sha256: c, record: revocation(c) }));
      await store.commit(commitOf({ kind: 'REVOCATION', sha256: b, record: { ...revocation(b), reason: 'stolen' } }));
      const refreshed = await store.refreshSnapshot(held);
      expect([...refreshed.revocations.values()]).toEqual([{ ...revocation(b), reason: 'stolen' }, revocation(c)]);
      expect(refreshed.revision).toEqual({ version: 6, policyVersion: 1, revocationsVersion: 6 });
      expect(refreshed.settings).toEqual(held.settings);
      await store.commit(commitOf({ kind: 'PACKAGE', packageId: 'office', record: pkg('office') }));
      const withPackage = await store.refreshSnapshot(refreshed);
      expect([...withPackage.packages.values()]).toEqual([pkg('office')]);
      expect([...withPackage.revocations.keys()]).toEqual([b, c]);
      expect(withPackage).toEqual({ ...(await store.loadSnapshot()) });
    });

    it('keeps what it returns apart from what it stores', async () => {
      const store = await makeStore();
      await store.commit(commitOf({ kind: 'DEVICE_CAS', certificates: [certificate(1)] }));
      const read = (await store.getDeviceCas())!;
      read[0].subject = 'CN=Changed by a caller';
      expect((await store.getDeviceCas())![0].subject).toBe('CN=Test 1');
    });
  });
}
