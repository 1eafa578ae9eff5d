// Write units per check-in, from item sizes with AWS's pricing rules (bench/write-units.ts): the rules themselves,
// and what the write path costs a steady-state check-in before and now.
import { describe, expect, it } from 'vitest';
import { designsFor, indexEntrySize, itemSize, steadyCheckin, writeUnits } from '../../bench/write-units.ts';

describe('itemSize', () => {
  it.each([
    // [case, item, bytes]
    ['a string: name and UTF-8 bytes', { id: { S: 'abc' } }, 2 + 3],
    ['a multi-byte string', { n: { S: 'é€' } }, 1 + 5],
    ['a number: a byte per two significant digits, plus one', { n: { N: '12345' } }, 1 + 4],
    ['a number with leading and trailing zeros', { n: { N: '-0.00120' } }, 1 + 2],
    ['a boolean and a null', { b: { BOOL: true }, z: { NULL: true } }, 1 + 1 + 1 + 1],
    ['an empty list and an empty map', { l: { L: [] }, m: { M: {} } }, 1 + 3 + 1 + 3],
    ['a list: 3 bytes, and 1 per element', { l: { L: [{ S: 'ab' }, { BOOL: false }] } }, 1 + 3 + (1 + 2) + (1 + 1)],
    ['a map: 3 bytes, and per element 1, its name and its value', { m: { M: { code: { S: 'X' } } } }, 1 + 3 + (1 + 4 + 1)],
  ])('%s', (_case, item, bytes) => {
    expect(itemSize(item)).toBe(bytes);
  });
});

describe('writeUnits', () => {
  it.each([
    [1, false, 1],
    [1024, false, 1],
    [1025, false, 2],
    [1024, true, 2],
    [2049, true, 6],
  ])('%i bytes, transactional %s: %i', (bytes, transactional, units) => {
    expect(writeUnits(bytes, transactional)).toBe(units);
  });

  it('an index entry carries its keys, what it projects, and 100 bytes of overhead', () => {
    const item = { deviceId: { S: 'D1' }, statusShard: { S: 'ACCEPTED#01' }, statusSk: { S: 'T#D1' }, facts: { S: 'x'.repeat(50) } };
    const index = { name: 'i', keys: ['deviceId', 'statusShard', 'statusSk'] };
    expect(indexEntrySize(item, { ...index, projection: { type: 'KEYS_ONLY' } })).toBe(itemSize(item) - (5 + 50) + 100);
    expect(indexEntrySize(item, { ...index, projection: { type: 'ALL' } })).toBe(itemSize(item) + 100);
  });
});

describe('a steady-state check-in (five packages, a certificate, a push topic)', () => {
  it('cost 14 write units before and costs 5 with the writes kept; the alternatives keeping a transaction cost 7 or 8', async () => {
    const { decision, response, binding } = await steadyCheckin(5);
    expect(designsFor(decision, response, binding).map((d) => [d.name, d.units])).toEqual([
      ['before: one transaction of 3 Puts, facts as a map, byStatus ALL', 14],
      ['one transaction of 3 Puts, facts compact, byStatusShard ALL', 8],
      ['claim, then one transaction of decision + status, byStatusShard ALL', 7],
      ['kept: claim, decision, status as single Puts, byStatusShard ALL', 5],
      ['single Puts, byStatusShard INCLUDE (listed fields)', 5],
      ['single Puts, byStatusShard KEYS_ONLY (listing and preview read each item back)', 5],
    ]);
  });

  it('keeps every item the kept design writes under the 1 KB of one write unit', async () => {
    const { decision, response, binding } = await steadyCheckin(5);
    const kept = designsFor(decision, response, binding).find((d) => d.name.startsWith('kept'))!;
    expect(kept.writes.map((w) => [w.what, w.units])).toEqual([
      ['claim', 1],
      ['decision', 1],
      ['status', 1],
      ['byStatusShard delete (ALL)', 1],
      ['byStatusShard put (ALL)', 1],
    ]);
  });
});
