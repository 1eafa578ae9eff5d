// PolicyCache: a snapshot is served for at most 5 s; the certificate verifier survives reloads unless trust changes.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../lib/domain/settings.ts';
import type { ConfigReader, ConfigSnapshot, IncrementalConfigReader } from '../../lib/ports/config-store.ts';
import { SettingsMissingError } from '../../lib/ports/errors.ts';
import { PolicyCache, POLICY_MAX_AGE_MS } from '../../lib/services/policy-cache.ts';

function fakeReader() {
  const state = { loads: 0, revoked: [] as string[], version: 1 };
  const reader: ConfigReader = {
    loadSnapshot: async (): Promise<ConfigSnapshot> => {
      state.loads += 1;
      return {
        settings: { ...DEFAULT_SETTINGS, certificateExpiryAlertDays: [1] },
        version: state.version,
        updatedAt: null,
        updatedBy: null,
        deviceCas: [],
        packages: new Map(),
        revocations: new Map(state.revoked.map((sha256) => [sha256, { sha256, reason: 'r', revokedAt: '', revokedBy: '' }])),
        exemptions: new Map(),
      };
    },
  };
  return { reader, state };
}

describe('PolicyCache', () => {
  it('keeps the 5 s bound the contract promises', () => {
    expect(POLICY_MAX_AGE_MS).toBeLessThanOrEqual(5000);
  });

  it('serves one load for 5 s, then reloads', async () => {
    const { reader, state } = fakeReader();
    let now = 0;
    const cache = new PolicyCache(reader, { now: () => new Date(now) });
    const first = await cache.get();
    expect([first.snapshot.version, first.snapshot.settings]).toEqual([1, { ...DEFAULT_SETTINGS, certificateExpiryAlertDays: [1] }]);
    now = 4999;
    state.version = 2;
    // still within 5 s: the same policy, though the stored version has moved
    expect(await cache.get()).toBe(first);
    expect(state.loads).toBe(1);
    now = 5000;
    expect((await cache.get()).snapshot.version).toBe(2);
    expect(state.loads).toBe(2);
  });

  it('shares one load between concurrent callers', async () => {
    const { reader, state } = fakeReader();
    const cache = new PolicyCache(reader, { now: () => new Date(0) });
    const [first, ...others] = await Promise.all([cache.get(), cache.get(), cache.get()]);
    // every caller is served the one policy that was loaded
    expect(others.map((policy) => policy === first)).toEqual([true, true]);
    expect(first.snapshot.version).toBe(1);
    expect(state.loads).toBe(1);
  });

  it('keeps the verifier (and its chain cache) across reloads until the revocations change', async () => {
    const { reader, state } = fakeReader();
    let now = 0;
    const cache = new PolicyCache(reader, { now: () => new Date(now) });
    const first = (await cache.get()).verifier;
    now = 6000;
    expect((await cache.get()).verifier).toBe(first);
    state.revoked = ['ab'.repeat(32)];
    now = 12000;
    expect((await cache.get()).verifier).not.toBe(first);
  });

  it('does not remember a failed load', async () => {
    const { reader, state } = fakeReader();
    let fail = true;
    const flaky: ConfigReader = { loadSnapshot: () => (fail ? Promise.reject(new Error('down')) : reader.loadSnapshot()) };
    const cache = new PolicyCache(flaky, { now: () => new Date(0) });
    await expect(cache.get()).rejects.toThrow('down');
    fail = false;
    state.version = 2;
    // the next call loads again, at once, and serves what it loaded
    expect((await cache.get()).snapshot.version).toBe(2);
    expect(state.loads).toBe(1);
  });
});

describe('PolicyCache over a reader that refreshes incrementally', () => {
  function incrementalReader() {
    const state = { revoked: [] as string[], version: 1, missing: false, held: [] as (ConfigSnapshot | undefined)[] };
    const { reader: whole } = fakeReader();
    let last: ConfigSnapshot | undefined;
    const reader: IncrementalConfigReader = {
      loadSnapshot: () => whole.loadSnapshot(),
      refreshSnapshot: async (held) => {
        state.held.push(held);
        if (state.missing) throw new SettingsMissingError();
        if (held && held.revision?.version === state.version) return held;
        const revocations = new Map(state.revoked.map((sha256) => [sha256, { sha256, reason: 'r', revokedAt: '', revokedBy: '' }]));
        last = { ...(await whole.loadSnapshot()), revision: { version: state.version, policyVersion: 1, revocationsVersion: state.version }, revocations: last && sameKeys(last.revocations, revocations) ? last.revocations : revocations };
        return last;
      },
    };
    return { reader, state };
  }
  const sameKeys = (a: Map<string, unknown>, b: Map<string, unknown>) => [...a.keys()].join() === [...b.keys()].join();

  it('asks for what changed since the snapshot it holds, and serves the same policy while the revision has not moved', async () => {
    const { reader, state } = incrementalReader();
    let now = 0;
    const cache = new PolicyCache(reader, { now: () => new Date(now) });
    const first = await cache.get();
    now = 5000;
    expect(await cache.get()).toBe(first);
    expect(state.held).toEqual([undefined, first.snapshot]);
  });

  it('rebuilds the verifier when a refresh brings other revocations, and only then', async () => {
    const { reader, state } = incrementalReader();
    let now = 0;
    const cache = new PolicyCache(reader, { now: () => new Date(now) });
    const first = await cache.get();
    state.version = 2; // a change of something else: same revocations
    now = 5000;
    const second = await cache.get();
    expect([second.snapshot.revision?.version, second.verifier === first.verifier]).toEqual([2, true]);
    state.version = 3;
    state.revoked = ['ab'.repeat(32)];
    now = 10000;
    const third = await cache.get();
    expect([third.snapshot.revision?.version, third.verifier === first.verifier]).toEqual([3, false]);
  });

  it('refuses (SettingsMissingError) once the settings are gone, rather than serving what it held, and recovers when they are back', async () => {
    const { reader, state } = incrementalReader();
    let now = 0;
    const cache = new PolicyCache(reader, { now: () => new Date(now) });
    await cache.get();
    state.missing = true;
    now = 5000;
    await expect(cache.get()).rejects.toBeInstanceOf(SettingsMissingError);
    state.missing = false;
    state.version = 2;
    expect((await cache.get()).snapshot.revision?.version).toBe(2);
  });
});
