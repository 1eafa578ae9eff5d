// The exemption admin use cases on the in-memory config store (the contract suite proves DynamoDB behaves the same),
// and the body rules of PUT /admin/exemptions/{deviceId}: 400 for shapes and types, 422 INVALID_EXEMPTION for rules.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/adapters/memory/clock.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { parseExemptionBody } from '../../lib/http/admin-request.ts';
import { AdminExemptionsService } from '../../lib/services/admin/exemptions-service.ts';

const NOW = '2026-11-25T18:06:03.000Z';
const later = (seconds: number) => new Date(Date.parse(NOW) + seconds * 1000).toISOString();

function setup() {
  const store = new InMemoryConfigStore();
  const clock = new ManualClock(NOW);
  return { store, clock, exemptions: new AdminExemptionsService(store, clock) };
}

const body = (extra: Record<string, unknown> = {}) => ({ violations: ['CLOCK_SKEW_EXCEEDED'], until: later(3600), reason: 'travelling', ...extra });

describe('exemptions service', () => {
  it('creates (created) then replaces (not created) an exemption, answering it with createdAt and createdBy', async () => {
    const { exemptions, store, clock } = setup();
    const first = await exemptions.put('mac-1', body(), 'alice');
    expect(first).toEqual({
      created: true,
      exemption: { deviceId: 'mac-1', violations: ['CLOCK_SKEW_EXCEEDED'], until: later(3600), reason: 'travelling', createdAt: NOW, createdBy: 'alice' },
    });
    clock.advance(1000);
    const second = await exemptions.put('mac-1', body({ violations: ['SERVER_CERT_NOT_VERIFIED', 'CLOCK_SKEW_EXCEEDED'] }), 'bob');
    expect(second).toMatchObject({ created: false, exemption: { violations: ['SERVER_CERT_NOT_VERIFIED', 'CLOCK_SKEW_EXCEEDED'], createdBy: 'bob', createdAt: later(1) } });
    expect(await exemptions.get('mac-1')).toEqual(second.exemption);
    expect((await store.loadSnapshot()).exemptions.get('mac-1')).toEqual(second.exemption);
  });

  it('records history lines of ids and codes only, at the settings version in force, which does not move', async () => {
    const { exemptions, store } = setup();
    await exemptions.put('mac-1', body(), 'alice');
    await exemptions.put('mac-1', body({ violations: ['CLOCK_SKEW_EXCEEDED', 'PACKAGE_CHECKSUM_MISMATCH'], reason: 'secret' }), 'alice');
    await exemptions.delete('mac-1', 'bob');
    const history = await store.listHistory(10);
    expect(history.map((h) => [h.version, h.actor, h.changes])).toEqual([
      [1, 'bob', [{ field: 'exemption', from: 'mac-1 CLOCK_SKEW_EXCEEDED,PACKAGE_CHECKSUM_MISMATCH', to: null }]],
      [1, 'alice', [{ field: 'exemption', from: 'mac-1 CLOCK_SKEW_EXCEEDED', to: 'mac-1 CLOCK_SKEW_EXCEEDED,PACKAGE_CHECKSUM_MISMATCH' }]],
      [1, 'alice', [{ field: 'exemption', from: null, to: 'mac-1 CLOCK_SKEW_EXCEEDED' }]],
    ]);
    expect(JSON.stringify(history)).not.toContain('secret');
    expect((await store.getSettings()).version).toBe(1);
  });

  it('lists only the exemptions in force, soonest to expire first; an expired one reads as 404', async () => {
    const { exemptions, clock } = setup();
    await exemptions.put('mac-late', body({ until: later(7200) }), 'alice');
    await exemptions.put('mac-soon', body({ until: later(10) }), 'alice');
    await exemptions.put('mac-mid', body({ until: later(3600) }), 'alice');
    expect((await exemptions.list()).map((e) => e.deviceId)).toEqual(['mac-soon', 'mac-mid', 'mac-late']);
    clock.advance(10_000);
    expect((await exemptions.list()).map((e) => e.deviceId)).toEqual(['mac-mid', 'mac-late']);
    await expect(exemptions.get('mac-soon')).rejects.toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    await expect(exemptions.get('mac-none')).rejects.toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    // Setting it again after it ran out is a creation.
    expect((await exemptions.put('mac-soon', body(), 'alice')).created).toBe(true);
  });

  it('deletes (404 when there is none) and refuses invalid exemptions with 422 writing nothing', async () => {
    const { exemptions, store } = setup();
    await expect(exemptions.delete('mac-1', 'alice')).rejects.toMatchObject({ statusCode: 404 });
    await expect(exemptions.put('mac-1', body({ violations: ['CLIENT_CERT_MISSING'] }), 'alice')).rejects.toMatchObject({ statusCode: 422, code: 'INVALID_EXEMPTION', field: 'violations' });
    await expect(exemptions.put('mac-1', body({ until: later(31 * 86_400) }), 'alice')).rejects.toMatchObject({ statusCode: 422, field: 'until' });
    await expect(exemptions.put('mac-1', body({ reason: ' ' }), 'alice')).rejects.toMatchObject({ statusCode: 422, field: 'reason' });
    expect(await store.listExemptions()).toEqual([]);
    expect(await store.listHistory(10)).toEqual([]);
  });
});

describe('parseExemptionBody', () => {
  it('reads violations, until and reason', () => {
    expect(parseExemptionBody(body())).toEqual(body());
  });

  it.each([
    ['not an object', [], 'body'],
    ['an unknown field', body({ extra: 1 }), 'extra'],
    ['violations missing', { until: later(60), reason: 'r' }, 'violations'],
    ['until missing', { violations: [], reason: 'r' }, 'until'],
    ['reason missing', { violations: [], until: later(60) }, 'reason'],
    ['violations not an array', body({ violations: 'CLOCK_SKEW_EXCEEDED' }), 'violations'],
    ['a code not a string', body({ violations: [1] }), 'violations'],
    ['until not a string', body({ until: 1764094000 }), 'until'],
    ['reason not a string', body({ reason: true }), 'reason'],
  ])('refuses %s with 400 INVALID_REQUEST naming %s', (_name, json, field) => {
    expect(() => parseExemptionBody(json)).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_REQUEST', field }));
  });

  it.each([
    // [name, body, field, message]: a field left out or null comes before a field of the wrong type
    ['a list', [], 'body', 'The body must be a JSON object with "violations", "until", "reason"'],
    ['an unknown field before a missing one', { note: 1, violations: [] }, 'note', 'Unknown field "note"; expected violations, until, reason'],
    ['a bad violations and a null reason', body({ violations: 5, reason: null }), 'reason', 'reason is required'],
    ['a code not a string', body({ violations: ['CLOCK_SKEW_EXCEEDED', 1] }), 'violations', 'violations must be an array of violation codes'],
    ['until and reason of the wrong type', body({ until: 5, reason: false }), 'until', 'until must be an RFC 3339 date-time string'],
    ['reason not a string', body({ reason: [] }), 'reason', 'reason must be a string'],
  ])('names %s with its sentence', (_name, json, field, message) => {
    expect(() => parseExemptionBody(json)).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_REQUEST', field, message }));
  });
});
