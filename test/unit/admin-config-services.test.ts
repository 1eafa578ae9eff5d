// The admin settings and trust use cases over the in-memory config store and a manual clock: the rules of
// settings-requirements.ts seen from both writes (status codes, codes, messages), If-Match, history lines, and
// changes that race (the write is judged again on what it finds when it lands).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/adapters/memory/clock.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { HttpError } from '../../lib/domain/errors.ts';
import { describeServerCertificate } from '../../lib/domain/trust-material.ts';
import type { CommitOutcome, ConfigCommit, StoredCertificate } from '../../lib/ports/config-store.ts';
import { ConcurrentModificationError } from '../../lib/ports/errors.ts';
import { AdminExemptionsService } from '../../lib/services/admin/exemptions-service.ts';
import { AdminPackagesService } from '../../lib/services/admin/packages-service.ts';
import { AdminRevocationsService } from '../../lib/services/admin/revocations-service.ts';
import { AdminSettingsService } from '../../lib/services/admin/settings-service.ts';
import { AdminTrustService } from '../../lib/services/admin/trust-service.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import { seed as seedAnyTime, seedSettings as seedSettingsAnyTime } from '../support/config.ts';

const NOW = '2026-11-25T18:06:03.120Z';
const DAY = 86_400_000;

/** Seeds are made before NOW, so that the history lines under test are the newest. */
const BEFORE = { changedAt: '2026-11-25T00:00:00.000Z' };
const seed = (store: InMemoryConfigStore, change: Parameters<typeof seedAnyTime>[1]) => seedAnyTime(store, change, BEFORE);
const seedSettings = (store: InMemoryConfigStore, fields: Parameters<typeof seedSettingsAnyTime>[1]) => seedSettingsAnyTime(store, fields, BEFORE);

let factory: CertificateFactory;
let deviceCa: MadeCertificate;
let selfSignedServer: MadeCertificate;
let caIssuedServer: MadeCertificate;

beforeAll(() => {
  factory = CertificateFactory.create();
  deviceCa = factory.makeRootCa({ cn: 'Device Root', keyType: 'ec256' });
  selfSignedServer = factory.makeDeviceCertificate(undefined, { cn: 'mdm.example.com', keyType: 'ec256', eku: 'serverAuth' });
  caIssuedServer = factory.makeDeviceCertificate(deviceCa, { cn: 'mdm.example.com', keyType: 'ec256', eku: 'serverAuth' });
});
afterAll(() => factory?.cleanup());

/** The in-memory store, running `beforeCommit` once, between the first plan's reads and its commit (a racing admin). */
class RacingStore extends InMemoryConfigStore {
  beforeCommit?: () => Promise<unknown>;
  override async commit(commit: ConfigCommit): Promise<CommitOutcome> {
    const race = this.beforeCommit;
    this.beforeCommit = undefined;
    if (race) await race();
    return super.commit(commit);
  }
}

function setup() {
  const store = new RacingStore();
  const clock = new ManualClock(NOW);
  const context = { actor: 'alice', clock };
  return { store, clock, context, settings: new AdminSettingsService(store), trust: new AdminTrustService(store) };
}

const pushCertificate = (notAfter: string): StoredCertificate => ({
  pem: 'test',
  subject: 'CN=APSP:test',
  notBefore: '2025-01-01T00:00:00.000Z',
  notAfter,
  sha256: 'ee'.repeat(32),
  topic: 'com.apple.mgmt.External.test',
});

async function refusal(run: Promise<unknown>): Promise<HttpError> {
  const error = await run.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

describe('settings writes, judged by what each setting requires of the trust material', () => {
  it.each([
    // [setting turned on, its problem without the trust material]
    [{ pushNotifications: true }, 'pushNotifications', 'Push notifications need a push certificate; upload one first'],
    [{ certificateBasedAuthentication: true }, 'certificateBasedAuthentication', 'Certificate-based authentication needs at least one device CA certificate; upload the device CA first'],
  ])('%j without what it needs is 422 INVALID_SETTINGS naming it, and nothing changes', async (patch, field, message) => {
    const { store, settings, context } = setup();
    expect(await refusal(settings.patch(patch, context))).toMatchObject({
      statusCode: 422,
      code: 'INVALID_SETTINGS',
      message: 'The settings break the rules listed in details; nothing was changed',
      details: [{ field, message }],
    });
    expect(await store.getSettings()).toMatchObject({ version: 1 });
    expect(await store.listHistory(10)).toEqual([]);
  });

  it('ALWAYS with a self-signed server certificate is 422; with a CA-issued one it is stored as the next version with its history line', async () => {
    const { store, settings, context } = setup();
    await seed(store, { kind: 'SERVER_CERTIFICATE', certificate: { ...describeServerCertificate(selfSignedServer.pem) } });
    expect((await refusal(settings.patch({ sslCertificateVerification: 'ALWAYS' }, context))).details).toEqual([
      {
        field: 'sslCertificateVerification',
        message:
          'The stored server certificate is self-signed, so devices cannot verify it during enrollment; use ALWAYS_EXCEPT_DURING_ENROLLMENT or upload a CA-issued server certificate',
      },
    ]);
    await seed(store, { kind: 'SERVER_CERTIFICATE', certificate: { ...describeServerCertificate(caIssuedServer.pem) } });
    const saved = await settings.patch({ sslCertificateVerification: 'ALWAYS' }, context);
    expect(saved).toMatchObject({ version: 2, updatedAt: NOW, updatedBy: 'alice', settings: { sslCertificateVerification: 'ALWAYS' } });
    expect((await store.listHistory(1))[0]).toEqual({
      version: 2,
      changedAt: NOW,
      actor: 'alice',
      changes: [{ field: 'sslCertificateVerification', from: 'ALWAYS_EXCEPT_DURING_ENROLLMENT', to: 'ALWAYS' }],
    });
  });

  it('a push certificate that expired on its own blocks turning push on, not unrelated changes while it stays on', async () => {
    const { store, settings, context, clock } = setup();
    await seed(store, { kind: 'PUSH_CERTIFICATE', certificate: pushCertificate(new Date(Date.parse(NOW) + DAY).toISOString()) });
    await settings.patch({ pushNotifications: true }, context);
    clock.advance(2 * DAY);
    expect((await settings.patch({ maxClockSkewSeconds: 240 }, context)).version).toBe(3);
    await settings.patch({ pushNotifications: false }, context);
    expect((await refusal(settings.patch({ pushNotifications: true }, context))).details).toEqual([
      { field: 'pushNotifications', message: 'The stored push certificate has expired; upload a renewed one first' },
    ]);
  });

  it('is judged again on what it finds when it lands: a self-signed server certificate stored meanwhile refuses ALWAYS', async () => {
    const { store, settings, context } = setup();
    await seed(store, { kind: 'SERVER_CERTIFICATE', certificate: { ...describeServerCertificate(caIssuedServer.pem) } });
    store.beforeCommit = () => seed(store, { kind: 'SERVER_CERTIFICATE', certificate: { ...describeServerCertificate(selfSignedServer.pem) } });
    expect(await refusal(settings.patch({ sslCertificateVerification: 'ALWAYS' }, context))).toMatchObject({ statusCode: 422, code: 'INVALID_SETTINGS' });
    expect((await store.getSettings()).settings.sslCertificateVerification).toBe('ALWAYS_EXCEPT_DURING_ENROLLMENT');
    expect((await store.listHistory(10)).filter((e) => e.actor === 'alice')).toEqual([]);
  });

  it('If-Match: the version named is replaced; a stale one is 412 and a weak tag is 412 saying why; an equal document changes nothing', async () => {
    const { store, settings, context } = setup();
    const current = await settings.get();
    expect((await settings.replace({ ...current.settings, mode: 'MONITOR' }, { ...context, precondition: { versions: [1] } })).version).toBe(2);
    expect(await refusal(settings.patch({ mode: 'ENFORCE' }, { ...context, precondition: { versions: [1] } }))).toMatchObject({
      statusCode: 412,
      code: 'PRECONDITION_FAILED',
      message: 'The settings are at version 2, not the version in If-Match; read them again and retry',
    });
    expect((await refusal(settings.patch({ mode: 'ENFORCE' }, { ...context, precondition: { versions: [], weakTags: true } }))).message).toMatch(
      /^If-Match is compared strongly, so a weak tag .*\(now at version 2\)/,
    );
    expect((await settings.patch({ mode: 'MONITOR' }, context)).version).toBe(2);
    expect(await store.listHistory(10)).toHaveLength(1);
  });

  it('a lost race without If-Match is retried on the new version; with If-Match it is 412', async () => {
    const { store, settings, context } = setup();
    store.beforeCommit = () => seedSettings(store, { maxClockSkewSeconds: 120 });
    expect(await settings.patch({ mode: 'MONITOR' }, context)).toMatchObject({ version: 3, settings: { mode: 'MONITOR', maxClockSkewSeconds: 120 } });
    store.beforeCommit = () => seedSettings(store, { maxClockSkewSeconds: 60 });
    expect(await refusal(settings.patch({ mode: 'ENFORCE' }, { ...context, precondition: { versions: [3] } }))).toMatchObject({ statusCode: 412 });
  });
});

describe('trust writes, judged by what the settings in force require of them', () => {
  it('a self-signed server certificate while sslCertificateVerification is ALWAYS is 422 INVALID_SETTINGS, and nothing is stored', async () => {
    const { store, trust, context } = setup();
    await seedSettings(store, { sslCertificateVerification: 'ALWAYS' });
    expect(await refusal(trust.replaceServerCertificate(selfSignedServer.pem, context))).toMatchObject({
      statusCode: 422,
      code: 'INVALID_SETTINGS',
      message: 'A self-signed server certificate cannot be used while sslCertificateVerification is ALWAYS; nothing was changed',
      details: [
        {
          field: 'sslCertificateVerification',
          message:
            'Devices cannot verify a self-signed server certificate during enrollment; set sslCertificateVerification to ALWAYS_EXCEPT_DURING_ENROLLMENT first, or upload a CA-issued certificate',
        },
      ],
    });
    expect(await store.getServerCertificate()).toBeUndefined();
    expect(await trust.replaceServerCertificate(caIssuedServer.pem, context)).toMatchObject({ selfSigned: false, sha256: caIssuedServer.fingerprint });
  });

  it('a self-signed server certificate is refused when ALWAYS is turned on between its read and its commit', async () => {
    const { store, trust, context } = setup();
    store.beforeCommit = () => seedSettings(store, { sslCertificateVerification: 'ALWAYS' });
    expect(await refusal(trust.replaceServerCertificate(selfSignedServer.pem, context))).toMatchObject({ statusCode: 422, code: 'INVALID_SETTINGS' });
    expect(await store.getServerCertificate()).toBeUndefined();
  });

  it('deleting the push certificate: 404 when there is none, 409 PUSH_CERTIFICATE_IN_USE while pushNotifications is on, else gone with its history line', async () => {
    const { store, trust, context } = setup();
    expect(await refusal(trust.deletePushCertificate(context))).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    await seed(store, { kind: 'PUSH_CERTIFICATE', certificate: pushCertificate('2030-01-01T00:00:00.000Z') });
    await seedSettings(store, { pushNotifications: true });
    expect(await refusal(trust.deletePushCertificate(context))).toMatchObject({
      statusCode: 409,
      code: 'PUSH_CERTIFICATE_IN_USE',
      message: 'Push notifications are on and need this certificate; set pushNotifications to false first, or upload a replacement instead',
    });
    await seedSettings(store, { pushNotifications: false });
    await trust.deletePushCertificate(context);
    expect(await store.getPushCertificate()).toBeUndefined();
    expect((await store.listHistory(1))[0]).toEqual({ version: 3, changedAt: NOW, actor: 'alice', changes: [{ field: 'pushCertificate', from: 'ee'.repeat(32), to: null }] });
  });

  it('replaces the device CA set with a history line at the settings version, which does not move; the same set again records nothing', async () => {
    const { store, trust, context } = setup();
    await seedSettings(store, { mode: 'MONITOR' });
    const view = await trust.replaceDeviceCas(deviceCa.pem, context);
    expect(view).toEqual({ certificates: [{ subject: 'CN=Device Root', notAfter: deviceCa.notAfter.toISOString(), sha256: deviceCa.fingerprint }] });
    expect(await trust.replaceDeviceCas(deviceCa.pem, context)).toEqual(view);
    expect((await store.listHistory(10)).filter((e) => e.actor === 'alice')).toEqual([
      { version: 2, changedAt: NOW, actor: 'alice', changes: [{ field: 'deviceCa', from: null, to: [deviceCa.fingerprint] }] },
    ]);
    expect((await store.getSettings()).version).toBe(2);
  });

  it('gives up with ConcurrentModificationError when every attempt meets another writer', async () => {
    const { context } = setup();
    const contended = new (class extends InMemoryConfigStore {
      override async commit(): Promise<CommitOutcome> {
        return { ok: false, reason: 'CONCURRENT_CHANGE' };
      }
    })();
    await expect(new AdminTrustService(contended).replaceDeviceCas(deviceCa.pem, context)).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(await contended.getDeviceCas()).toBeUndefined();
  });
});

describe('packages and revocations', () => {
  it('registers, replaces, lists and deletes packages with history values of ids and digests only', async () => {
    const { store, context } = setup();
    const packages = new AdminPackagesService(store);
    const checksum = { type: 'SHA_256' as const, value: 'ab'.repeat(32) };
    expect((await packages.put('office', { name: 'Office', checksum }, context)).created).toBe(true);
    expect((await packages.put('office', { name: 'Office', checksum }, context)).created).toBe(false);
    expect((await packages.put('office', { name: 'Office 2', checksum: null }, context)).created).toBe(false);
    expect((await packages.list()).map((p) => [p.packageId, p.name])).toEqual([['office', 'Office 2']]);
    await packages.delete('office', context);
    expect(await refusal(packages.delete('office', context))).toMatchObject({ statusCode: 404 });
    expect((await store.listHistory(10)).map((e) => e.changes[0]).reverse()).toEqual([
      { field: 'packages', from: null, to: `office SHA_256:${'ab'.repeat(32)}` },
      { field: 'packages', from: `office SHA_256:${'ab'.repeat(32)}`, to: 'office' },
      { field: 'packages', from: 'office', to: null },
    ]);
  });

  it('revokes, re-revokes with another reason, lists newest first and unrevokes', async () => {
    const { store, context, clock } = setup();
    const revocations = new AdminRevocationsService(store);
    expect((await revocations.revoke('aa'.repeat(32), 'lost', context)).created).toBe(true);
    clock.advance(1000);
    await revocations.revoke('bb'.repeat(32), 'stolen', context);
    expect((await revocations.revoke('aa'.repeat(32), 'lost', context)).created).toBe(false);
    expect((await revocations.revoke('aa'.repeat(32), 'found and lost again', context)).record.revokedAt).toBe(clock.now().toISOString());
    expect((await revocations.list()).map((r) => r.reason)).toEqual(['found and lost again', 'stolen']);
    await revocations.unrevoke('aa'.repeat(32), context);
    expect(await refusal(revocations.unrevoke('aa'.repeat(32), context))).toMatchObject({ statusCode: 404 });
    expect((await store.listHistory(10)).map((e) => e.changes[0])).toEqual([
      { field: 'revocations', from: 'aa'.repeat(32), to: null },
      { field: 'revocations', from: 'aa'.repeat(32), to: 'aa'.repeat(32) },
      { field: 'revocations', from: null, to: 'bb'.repeat(32) },
      { field: 'revocations', from: null, to: 'aa'.repeat(32) },
    ]);
  });
});

describe('trust-material writes that race: each lands on the state it was planned on, or is planned again', () => {
  const digest = (hex: string) => ({ type: 'SHA_256' as const, value: hex.repeat(64) });
  const history = async (store: InMemoryConfigStore) => (await store.listHistory(10)).map(({ changedAt, changes }) => ({ changedAt, ...changes[0] }));

  it('a package deleted while another admin replaces it: the delete removes what was stored when it landed, and the history says so, in commit order', async () => {
    const { store, context, clock } = setup();
    const packages = new AdminPackagesService(store);
    await packages.put('office', { name: 'Office', checksum: digest('c') }, context);
    // The delete reads ccc…; before it commits, another admin replaces the checksum with ddd… a second later.
    store.beforeCommit = async () => {
      clock.advance(1000);
      await packages.put('office', { name: 'Office', checksum: digest('d') }, context);
    };
    await packages.delete('office', context);
    expect(await packages.list()).toEqual([]);
    const later = clock.now().toISOString();
    expect(await history(store)).toEqual([
      { changedAt: later, field: 'packages', from: `office SHA_256:${'d'.repeat(64)}`, to: null },
      { changedAt: later, field: 'packages', from: `office SHA_256:${'c'.repeat(64)}`, to: `office SHA_256:${'d'.repeat(64)}` },
      { changedAt: NOW, field: 'packages', from: null, to: `office SHA_256:${'c'.repeat(64)}` },
    ]);
  });

  it('a device CA set replaced while another admin replaces it: the history line names the set it actually replaced', async () => {
    const { store, context, clock, trust } = setup();
    const [first, second, third] = ['One', 'Two', 'Three'].map((cn) => factory.makeRootCa({ cn: `Device Root ${cn}`, keyType: 'ec256' }));
    const sha = (ca: MadeCertificate) => describeServerCertificate(ca.pem).sha256;
    await trust.replaceDeviceCas(first.pem, context);
    store.beforeCommit = async () => {
      clock.advance(1000);
      await trust.replaceDeviceCas(second.pem, context);
    };
    await trust.replaceDeviceCas(third.pem, context);
    expect((await trust.getDeviceCas()).certificates.map((c) => c.sha256)).toEqual([sha(third)]);
    expect((await history(store)).map(({ from, to }) => ({ from, to }))).toEqual([
      { from: [sha(second)], to: [sha(third)] },
      { from: [sha(first)], to: [sha(second)] },
      { from: null, to: [sha(first)] },
    ]);
  });

  it('an exemption replaced while another admin replaces it: the history line names the exemption it actually replaced', async () => {
    const { store, clock } = setup();
    const exemptions = new AdminExemptionsService(store, clock);
    const until = new Date(clock.now().getTime() + DAY).toISOString();
    await exemptions.put('mac-1', { violations: ['CLOCK_SKEW_EXCEEDED'], until, reason: 'travelling' }, 'alice');
    store.beforeCommit = () => exemptions.put('mac-1', { violations: ['PACKAGE_CHECKSUM_MISMATCH'], until, reason: 'new image' }, 'bob');
    await exemptions.put('mac-1', { violations: ['SERVER_CERT_NOT_VERIFIED'], until, reason: 'proxy' }, 'carol');
    expect((await exemptions.get('mac-1')).violations).toEqual(['SERVER_CERT_NOT_VERIFIED']);
    expect((await history(store)).map(({ from, to }) => ({ from, to }))).toEqual([
      { from: 'mac-1 PACKAGE_CHECKSUM_MISMATCH', to: 'mac-1 SERVER_CERT_NOT_VERIFIED' },
      { from: 'mac-1 CLOCK_SKEW_EXCEEDED', to: 'mac-1 PACKAGE_CHECKSUM_MISMATCH' },
      { from: null, to: 'mac-1 CLOCK_SKEW_EXCEEDED' },
    ]);
  });

  it('a fingerprint unrevoked while another admin changes its reason: gone, after the reason change in the history', async () => {
    const { store, context, clock } = setup();
    const revocations = new AdminRevocationsService(store);
    const sha256 = 'aa'.repeat(32);
    await revocations.revoke(sha256, 'lost', context);
    store.beforeCommit = async () => {
      clock.advance(1000);
      await revocations.revoke(sha256, 'stolen', context);
    };
    await revocations.unrevoke(sha256, context);
    expect(await revocations.list()).toEqual([]);
    const later = clock.now().toISOString();
    expect(await history(store)).toEqual([
      { changedAt: later, field: 'revocations', from: sha256, to: null },
      { changedAt: later, field: 'revocations', from: sha256, to: sha256 },
      { changedAt: NOW, field: 'revocations', from: null, to: sha256 },
    ]);
  });
});
