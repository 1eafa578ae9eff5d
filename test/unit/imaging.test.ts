// Unit tests for lib/domain/imaging.ts and the password hashing of lib/services/imaging/passwords.ts.
import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../lib/domain/errors.ts';
import {
  accountHistoryChange,
  documentHistoryChange,
  isUsablePasswordHash,
  isValidImagingId,
  isValidUsername,
  LOGIN_FAILURE_WINDOW_MS,
  loginFailureExpiresAt,
  loginLockState,
  MAX_IMAGING_DOCUMENT_BYTES,
  parseAccountBody,
  parseBasicAuthorization,
  parseImagingDocument,
  SCRYPT_PARAMETERS,
  staleFailurePrefix,
} from '../../lib/domain/imaging.ts';
import { hashPassword, PasswordVerifier } from '../../lib/services/imaging/passwords.ts';

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

function thrown(run: () => unknown): HttpError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected an HttpError, but nothing was thrown');
}

describe('usernames and ids', () => {
  it.each([
    ['alice', true],
    ['imaging.tech_01@example-corp', true], // every allowed punctuation
    ['a'.repeat(64), true], // longest
    ['a'.repeat(65), false], // too long
    ['', false], // empty
    ['al:ice', false], // ':' separates the name in Basic
    ['al ice', false], // space
    ['élodie', false], // non-ASCII
    [42, false], // not a string
  ])('username %j → %s', (value, valid) => {
    expect(isValidUsername(value)).toBe(valid);
  });

  it.each([
    ['prestage-1', true],
    ['C02XK1JHJG5J', true],
    ['urn:uuid:1234.5_6', true], // ':' '.' '_' allowed, as in checkinId
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['a/b', false],
    ['a b', false],
    ['', false],
  ])('imaging id %j → %s', (value, valid) => {
    expect(isValidImagingId(value)).toBe(valid);
  });
});

describe('parseAccountBody (PUT /admin/imaging/accounts/{username})', () => {
  it.each([
    // exactly 12 characters
    [{ password: 'abcdefghijkl' }, 'abcdefghijkl'],
    // 12 code points even though 13 UTF-16 units (an astral character)
    [{ password: '𝒜bcdefghijkl' }, '𝒜bcdefghijkl'],
    // decomposed é (e + U+0301) is stored NFC: one character
    [{ password: 'cafe\u0301-longer-pw' }, 'caf\u00e9-longer-pw'],
    // 1024 characters
    [{ password: 'p'.repeat(1024) }, 'p'.repeat(1024)],
  ])('accepts %#', (body, normalized) => {
    expect(parseAccountBody(body)).toBe(normalized);
  });

  it.each([
    // not an object
    ['x', 400, undefined],
    [null, 400, undefined],
    [['password'], 400, undefined],
    // missing or mistyped password
    [{}, 400, 'password'],
    [{ password: 123456789012 }, 400, 'password'],
    // unknown field
    [{ password: 'abcdefghijkl', role: 'admin' }, 400, 'role'],
    // 11 characters: the rule is 12+
    [{ password: 'abcdefghijk' }, 422, 'password'],
    // 11 code points in 12 UTF-16 units
    [{ password: '𝒜bcdefghijk' }, 422, 'password'],
    // over 1024 characters
    [{ password: 'p'.repeat(1025) }, 422, 'password'],
    // a lone surrogate is not text
    [{ password: 'abcdefghijkl\ud800' }, 400, 'password'],
  ])('refuses %# with %i', (body, status, field) => {
    const error = thrown(() => parseAccountBody(body));
    expect({ status: error.statusCode, code: error.code, field: error.field }).toEqual({ status, code: 'INVALID_IMAGING_ACCOUNT', field });
    // The message never repeats the password.
    expect(error.message).not.toContain('abcdefghij');
  });
});

describe('parseImagingDocument', () => {
  it('serializes the object canonically and fingerprints it', () => {
    const parsed = parseImagingDocument({ name: 'Lab', steps: [1, 2] }, 'AUTORUN', 'C02');
    expect(parsed).toEqual({
      json: '{"name":"Lab","steps":[1,2]}',
      sizeBytes: 28,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it.each([
    // exactly 32 KiB serialized: {"a":"…"} is 8 bytes of frame
    [{ a: 'x'.repeat(MAX_IMAGING_DOCUMENT_BYTES - 8) }, undefined],
    // one byte over
    [{ a: 'x'.repeat(MAX_IMAGING_DOCUMENT_BYTES - 7) }, 413],
    // bytes, not characters: 'é' is two bytes in UTF-8
    [{ a: 'é'.repeat(MAX_IMAGING_DOCUMENT_BYTES / 2) }, 413],
  ])('size limit %#', (body, status) => {
    if (status === undefined) expect(parseImagingDocument(body, 'PRESTAGE', 'p').sizeBytes).toBe(MAX_IMAGING_DOCUMENT_BYTES);
    else expect(thrown(() => parseImagingDocument(body, 'PRESTAGE', 'p'))).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it.each([
    // arrays, strings, numbers, null and absent bodies are not objects
    [[1, 2]],
    ['text'],
    [7],
    [null],
    [undefined],
  ])('refuses the non-object %j with 400', (body) => {
    expect(thrown(() => parseImagingDocument(body, 'PRESTAGE', 'p'))).toMatchObject({ statusCode: 400, code: 'INVALID_IMAGING_DOCUMENT' });
  });

  it.each([
    // a PreStage's own id must agree with the path (compared as text) …
    [{ id: 7, name: 'x' }, '7', 'PRESTAGE', true],
    [{ id: 'p1' }, 'p1', 'PRESTAGE', true],
    [{ id: 'other' }, 'p1', 'PRESTAGE', false],
    // … Autorun documents are not listed, so their fields are free
    [{ id: 'other' }, 'C02', 'AUTORUN', true],
  ] as const)('id rule %#', (body, pathId, kind, accepted) => {
    if (accepted) expect(() => parseImagingDocument(body, kind, pathId)).not.toThrow();
    else expect(thrown(() => parseImagingDocument(body, kind, pathId))).toMatchObject({ statusCode: 400, field: 'id' });
  });
});

describe('parseBasicAuthorization', () => {
  it.each([
    // no header, or an empty one
    [undefined, { kind: 'missing' }],
    ['', { kind: 'missing' }],
    // the ordinary case; the scheme is case-insensitive
    [basic('alice:correct horse battery'), { kind: 'credentials', username: 'alice', password: 'correct horse battery' }],
    [basic('alice:pw').replace('Basic', 'bAsIc'), { kind: 'credentials', username: 'alice', password: 'pw' }],
    // only the first ':' separates; the password may hold more
    [basic('alice:a:b:c'), { kind: 'credentials', username: 'alice', password: 'a:b:c' }],
    // an empty password is a (wrong) password, counted like any other
    [basic('alice:'), { kind: 'credentials', username: 'alice', password: '' }],
    // unpadded base64 is read too
    [`Basic ${Buffer.from('bob:pw12').toString('base64').replace(/=+$/, '')}`, { kind: 'credentials', username: 'bob', password: 'pw12' }],
    // the password is read as UTF-8 and normalized to NFC
    [basic('alice:cafe\u0301'), { kind: 'credentials', username: 'alice', password: 'caf\u00e9' }],
  ])('%j', (header, expected) => {
    expect(parseBasicAuthorization(header)).toEqual(expected);
  });

  it.each([
    // another scheme
    ['Bearer abc.def'],
    // no credentials after the scheme
    ['Basic'],
    ['Basic '],
    // not base64
    ['Basic !!!!'],
    ['Basic YWxp=Y2U='],
    // no colon
    [basic('alice')],
    // not UTF-8
    [`Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`],
    // an empty or invalid username
    [basic(':password')],
    [basic('al ice:password')],
    // two headers joined by the gateway
    [`${basic('a:b')}, ${basic('c:d')}`],
    // a password no account can have
    [basic(`alice:${'p'.repeat(1025)}`)],
  ])('%j is malformed', (header) => {
    expect(parseBasicAuthorization(header).kind).toBe('malformed');
  });
});

describe('loginLockState (10 failures within 15 minutes)', () => {
  const now = Date.parse('2026-11-25T18:00:00.000Z');
  const minutes = (m: number) => m * 60_000;
  const failuresAt = (...ago: number[]) => ago.map((m) => now - minutes(m));

  it.each([
    // no failures
    [[], { locked: false, recentFailures: 0 }],
    // 9 recent failures: not yet
    [failuresAt(1, 2, 3, 4, 5, 6, 7, 8, 9), { locked: false, recentFailures: 9 }],
    // 10 failures, the oldest 14 minutes ago: locked until it is 15 minutes old, in 60 s
    [failuresAt(14, 13, 12, 11, 10, 9, 8, 7, 6, 5), { locked: true, recentFailures: 10, lockedUntil: now + minutes(1), retryAfterSeconds: 60 }],
    // 10 failures but the oldest exactly 15 minutes ago: outside the window
    [failuresAt(15, 13, 12, 11, 10, 9, 8, 7, 6, 5), { locked: false, recentFailures: 9 }],
    // sliding, not fixed: 9 old-ish and 1 new within any 15 minutes lock
    [failuresAt(14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 0), { locked: true, recentFailures: 10, lockedUntil: now + 6000, retryAfterSeconds: 6 }],
    // 12 recent: the lock lasts until only 9 remain, i.e. until the 3rd oldest ages out
    [failuresAt(14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3), { locked: true, recentFailures: 12, lockedUntil: now + minutes(3), retryAfterSeconds: 180 }],
    // order does not matter (lists from several containers interleave)
    [failuresAt(5, 14, 6, 13, 7, 12, 8, 11, 9, 10), { locked: true, recentFailures: 10, lockedUntil: now + minutes(1), retryAfterSeconds: 60 }],
    // sub-second remainders round up, and never below 1 s
    [[now - LOGIN_FAILURE_WINDOW_MS + 1, ...failuresAt(1, 1, 1, 1, 1, 1, 1, 1, 1)], { locked: true, recentFailures: 10, lockedUntil: now + 1, retryAfterSeconds: 1 }],
    [[now - LOGIN_FAILURE_WINDOW_MS + 1500, ...failuresAt(1, 1, 1, 1, 1, 1, 1, 1, 1)], { locked: true, recentFailures: 10, lockedUntil: now + 1500, retryAfterSeconds: 2 }],
  ])('case %#', (failures, expected) => {
    expect(loginLockState(failures, now)).toEqual(expected);
  });

  it('unlocks exactly when lockedUntil is reached', () => {
    const failures = failuresAt(14, 13, 12, 11, 10, 9, 8, 7, 6, 5);
    const state = loginLockState(failures, now);
    if (!state.locked) throw new Error('expected a lock');
    expect(loginLockState(failures, state.lockedUntil - 1).locked).toBe(true);
    expect(loginLockState(failures, state.lockedUntil).locked).toBe(false);
  });

  it('counts the stale head of the list and sets the TTL one window after the last failure', () => {
    expect(staleFailurePrefix(failuresAt(20, 16, 15, 14, 30), now)).toBe(3); // stops at the first recent one
    expect(staleFailurePrefix([], now)).toBe(0);
    expect(loginFailureExpiresAt(now)).toBe((now + LOGIN_FAILURE_WINDOW_MS) / 1000);
    expect(loginFailureExpiresAt(now + 1)).toBe((now + LOGIN_FAILURE_WINDOW_MS) / 1000 + 1);
  });
});

describe('history lines', () => {
  it.each([
    [accountHistoryChange('alice', 'created'), { field: 'imagingAccount:alice', from: null, to: 'created' }],
    [accountHistoryChange('alice', 'updated'), { field: 'imagingAccount:alice', from: 'present', to: 'updated' }],
    [accountHistoryChange('alice', 'deleted'), { field: 'imagingAccount:alice', from: 'present', to: 'deleted' }],
    [documentHistoryChange('PRESTAGE', 'p1', null, 'ab'), { field: 'imagingPrestage:p1', from: null, to: 'sha256:ab' }],
    [documentHistoryChange('AUTORUN', 'C02', 'ab', 'cd'), { field: 'imagingAutorun:C02', from: 'sha256:ab', to: 'sha256:cd' }],
    [documentHistoryChange('AUTORUN', 'C02', 'cd', null), { field: 'imagingAutorun:C02', from: 'sha256:cd', to: null }],
  ])('%#', (change, expected) => {
    expect(change).toEqual(expected);
  });
});

describe('password hashing', () => {
  it('stores a salted scrypt hash with every parameter, and it is what scrypt computes', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toEqual({
      algorithm: 'scrypt',
      N: 16384,
      r: 8,
      p: 1,
      keylen: 32,
      salt: expect.any(String),
      hash: expect.any(String),
    });
    expect(Buffer.from(hash.salt, 'base64')).toHaveLength(16);
    const expected = scryptSync('correct horse battery', Buffer.from(hash.salt, 'base64'), 32, { N: 16384, r: 8, p: 1 });
    expect(Buffer.from(hash.hash, 'base64').equals(expected)).toBe(true);
    expect(JSON.stringify(hash)).not.toContain('correct horse');
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('same password here'), hashPassword('same password here')]);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
  });

  it('verifies the right password only, and never an unknown account', async () => {
    const verifier = new PasswordVerifier();
    const stored = await hashPassword('correct horse battery');
    expect(await verifier.verify('correct horse battery', stored)).toBe(true);
    expect(await verifier.verify('correct horse batterY', stored)).toBe(false);
    expect(await verifier.verify('', stored)).toBe(false);
    expect(await verifier.verify('correct horse battery', undefined)).toBe(false);
  });

  it('checks against the parameters recorded with the hash (older, cheaper ones still verify)', async () => {
    const verifier = new PasswordVerifier();
    const old = await hashPassword('an older password', { N: 1024, r: 8, p: 1, keylen: 16 });
    expect(old).toMatchObject({ N: 1024, keylen: 16 });
    expect(await verifier.verify('an older password', old)).toBe(true);
  });

  it('spends the same scrypt work on an unknown account as on a known one', async () => {
    const verifier = new PasswordVerifier();
    const stored = await hashPassword('correct horse battery');
    const time = async (run: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 4; i += 1) await run();
      return Number(process.hrtime.bigint() - start) / 4e6;
    };
    const known = await time(() => verifier.verify('wrong password 123', stored));
    const unknown = await time(() => verifier.verify('wrong password 123', undefined));
    // Both are a full N=16384 scrypt (tens of ms); a skipped hash would take microseconds.
    // Loose bounds: other test files share the CPU.
    expect(unknown).toBeGreaterThan(known * 0.3);
    expect(unknown).toBeLessThan(known * 3);
  });

  it.each([
    // a usable record
    [{ ...SCRYPT_PARAMETERS, algorithm: 'scrypt', salt: Buffer.alloc(16).toString('base64'), hash: Buffer.alloc(32).toString('base64') }, true],
    // another algorithm
    [{ ...SCRYPT_PARAMETERS, algorithm: 'md5', salt: Buffer.alloc(16).toString('base64'), hash: Buffer.alloc(32).toString('base64') }, false],
    // N not a power of two, or absurdly large (memory)
    [{ ...SCRYPT_PARAMETERS, N: 10000, algorithm: 'scrypt', salt: Buffer.alloc(16).toString('base64'), hash: Buffer.alloc(32).toString('base64') }, false],
    [{ ...SCRYPT_PARAMETERS, N: 1 << 24, algorithm: 'scrypt', salt: Buffer.alloc(16).toString('base64'), hash: Buffer.alloc(32).toString('base64') }, false],
    // a short salt, or a hash of the wrong length
    [{ ...SCRYPT_PARAMETERS, algorithm: 'scrypt', salt: Buffer.alloc(8).toString('base64'), hash: Buffer.alloc(32).toString('base64') }, false],
    [{ ...SCRYPT_PARAMETERS, algorithm: 'scrypt', salt: Buffer.alloc(16).toString('base64'), hash: Buffer.alloc(31).toString('base64') }, false],
    [undefined, false],
  ])('isUsablePasswordHash %#', (value, usable) => {
    expect(isUsablePasswordHash(value)).toBe(usable);
  });

  it('never matches an unusable stored hash, even one computed from the password', async () => {
    const verifier = new PasswordVerifier();
    const weird = await hashPassword('correct horse battery', { N: 1024, r: 8, p: 1, keylen: 16 });
    expect(await verifier.verify('correct horse battery', { ...weird, algorithm: 'other' as 'scrypt' })).toBe(false);
  });
});
