// The behaviour every ImagingStore adapter must have (accounts, documents, their history lines at the settings
// version in force); run against each adapter, with the config store whose history it writes into.
import { describe, expect, it } from 'vitest';
import { parseImagingDocument, type PasswordHash } from '../../lib/domain/imaging.ts';
import type { ConfigStore } from '../../lib/ports/config-store.ts';
import type { ImagingStore } from '../../lib/ports/imaging-store.ts';
import { seedSettings } from '../support/config.ts';

export interface ImagingStores {
  imaging: ImagingStore;
  config: ConfigStore;
}

const hash = (n: number): PasswordHash => ({ algorithm: 'scrypt', N: 16384, r: 8, p: 1, keylen: 32, salt: `c2FsdC${n}==`, hash: `aGFzaC${n}==` });
const at = (iso: string) => ({ actor: 'alice-admin', changedAt: iso });

/** History lines with a change of the field, oldest first. */
async function historyOf(config: ConfigStore, field: string) {
  return (await config.listHistory(200)).filter((e) => e.changes.some((c) => c.field === field)).reverse();
}

export function imagingStoreContract(name: string, makeStores: () => Promise<ImagingStores>): void {
  describe(`${name} (ImagingStore contract)`, () => {
    it('creates, replaces and deletes accounts, each with one history line carrying the settings version, which does not move', async () => {
      const { imaging, config } = await makeStores();
      expect(await imaging.putAccount('tech1', hash(1), at('2026-11-25T10:00:00.000Z'))).toEqual({
        created: true,
        account: { username: 'tech1', createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z', updatedBy: 'alice-admin' },
      });
      expect(await imaging.putAccount('tech1', hash(2), at('2026-11-25T11:00:00.000Z'))).toEqual({
        created: false,
        account: { username: 'tech1', createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T11:00:00.000Z', updatedBy: 'alice-admin' },
      });
      expect((await imaging.getAccount('tech1'))?.passwordHash).toEqual(hash(2));
      expect(await imaging.deleteAccount('tech1', at('2026-11-25T12:00:00.000Z'))).toBe(true);
      expect(await imaging.getAccount('tech1')).toBeUndefined();
      expect(await imaging.deleteAccount('tech1', at('2026-11-25T12:01:00.000Z'))).toBe(false);
      expect(await historyOf(config, 'imagingAccounts')).toEqual([
        { version: 1, changedAt: '2026-11-25T10:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccounts', from: null, to: 'tech1' }] },
        { version: 1, changedAt: '2026-11-25T11:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccounts', from: 'tech1', to: 'tech1' }] },
        { version: 1, changedAt: '2026-11-25T12:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccounts', from: 'tech1', to: null }] },
      ]);
      expect((await config.getSettings()).version).toBe(1);
    });

    it('records the settings version in force when the settings have moved on', async () => {
      const { imaging, config } = await makeStores();
      await seedSettings(config, { requireImagingAuthentication: false });
      await imaging.putAccount('versioned', hash(3), at('2026-11-25T13:00:00.000Z'));
      expect((await historyOf(config, 'imagingAccounts')).map((e) => e.version)).toEqual([2]);
    });

    it('lists accounts without their hashes, ordered by username', async () => {
      const { imaging } = await makeStores();
      await imaging.putAccount('zed', hash(4), at('2026-11-25T10:00:00.000Z'));
      await imaging.putAccount('amy', hash(4), at('2026-11-25T10:00:01.000Z'));
      expect(await imaging.listAccounts()).toEqual([
        { username: 'amy', createdAt: '2026-11-25T10:00:01.000Z', updatedAt: '2026-11-25T10:00:01.000Z', updatedBy: 'alice-admin' },
        { username: 'zed', createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z', updatedBy: 'alice-admin' },
      ]);
    });

    it('creates, replaces, lists, counts and deletes documents, per kind, fingerprinting them in the history', async () => {
      const { imaging, config } = await makeStores();
      const v1 = parseImagingDocument({ name: 'Lab Macs', enrollment: { skip: ['Siri'] } }, 'PRESTAGE', 'lab');
      const v2 = parseImagingDocument({ name: 'Lab Macs', enrollment: { skip: [] } }, 'PRESTAGE', 'lab');
      const other = parseImagingDocument({ name: 'Art' }, 'PRESTAGE', 'art');
      const created = await imaging.putDocument('PRESTAGE', 'lab', v1, at('2026-11-25T10:00:00.000Z'));
      expect(created).toEqual({
        created: true,
        document: { kind: 'PRESTAGE', id: 'lab', ...v1, createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z', updatedBy: 'alice-admin' },
      });
      expect((await imaging.putDocument('PRESTAGE', 'lab', v2, at('2026-11-25T11:00:00.000Z'))).created).toBe(false);
      await imaging.putDocument('PRESTAGE', 'art', other, at('2026-11-25T11:00:01.000Z'));
      expect((await imaging.getDocument('PRESTAGE', 'lab'))?.json).toBe(v2.json);
      expect((await imaging.listDocuments('PRESTAGE')).map((d) => [d.id, d.json])).toEqual([
        ['art', other.json],
        ['lab', v2.json],
      ]);
      expect(await imaging.countDocuments('PRESTAGE')).toBe(2);
      // Kinds are separate: an Autorun with the same id is another thing.
      expect(await imaging.getDocument('AUTORUN', 'lab')).toBeUndefined();
      expect(await imaging.countDocuments('AUTORUN')).toBe(0);
      expect(await imaging.deleteDocument('PRESTAGE', 'lab', at('2026-11-25T12:00:00.000Z'))).toBe(true);
      expect(await imaging.deleteDocument('PRESTAGE', 'lab', at('2026-11-25T12:00:01.000Z'))).toBe(false);
      expect((await historyOf(config, 'imagingPrestages')).filter((e) => JSON.stringify(e).includes('lab')).map((e) => e.changes)).toEqual([
        [{ field: 'imagingPrestages', from: null, to: `lab sha256:${v1.sha256}` }],
        [{ field: 'imagingPrestages', from: `lab sha256:${v1.sha256}`, to: `lab sha256:${v2.sha256}` }],
        [{ field: 'imagingPrestages', from: `lab sha256:${v2.sha256}`, to: null }],
      ]);
    });

    it('two concurrent writers of a new id both succeed: one creates, the other replaces (one line each)', async () => {
      const { imaging, config } = await makeStores();
      const a = parseImagingDocument({ writer: 'a' }, 'AUTORUN', 'C02RACE');
      const b = parseImagingDocument({ writer: 'b' }, 'AUTORUN', 'C02RACE');
      const results = await Promise.all([
        imaging.putDocument('AUTORUN', 'C02RACE', a, at('2026-11-25T10:00:00.000Z')),
        imaging.putDocument('AUTORUN', 'C02RACE', b, at('2026-11-25T10:00:00.001Z')),
      ]);
      expect(results.map((r) => r.created).sort()).toEqual([false, true]);
      expect(await historyOf(config, 'imagingAutorun')).toHaveLength(2);
    });
  });
}
