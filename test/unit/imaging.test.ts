// Unit tests for lib/domain/imaging.ts, the password hashing of lib/services/imaging/passwords.ts and the order of
// work in lib/services/imaging/login-guard.ts (over the in-memory attempt store, with a frozen clock).
import { createHash, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../lib/domain/errors.ts';
import {
  accountHistoryChange,
  assertImagingId,
  assertUsername,
  decideLoginAttempt,
  documentHistoryChange,
  isUsablePasswordHash,
  isValidImagingId,
  isValidUsername,
  jsonNestingExceeds,
  LOGIN_FAILURE_WINDOW_MS,
  LOGIN_IN_FLIGHT_MS,
  type LoginAttemptEntry,
  loginAttemptsExpiresAt,
  MAX_IMAGING_DOCUMENT_BYTES,
  MAX_IMAGING_DOCUMENT_DEPTH,
  parseAccountBody,
  parseBasicAuthorization,
  parseImagingDocument,
  type PasswordHash,
  SCRYPT_PARAMETERS,
  scryptMemoryBytes,
} from '../../lib/domain/imaging.ts';
import { LoginGuard } from '../../lib/services/imaging/login-guard.ts';
import { hashPassword, PasswordVerifier } from '../../lib/services/imaging/passwords.ts';
import { InMemoryLoginAttemptStore } from '../../lib/adapters/memory/login-attempt-store.ts';
import { StoreUnavailableError } from '../../lib/ports/errors.ts';
import type { LoginReservation } from '../../lib/ports/login-attempt-store.ts';

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
    [42, false], // not a string
  ])('imaging id %j → %s', (value, valid) => {
    expect(isValidImagingId(value)).toBe(valid);
  });

  it('assertUsername and assertImagingId hand back a valid value and refuse others with 400, naming the field', () => {
    expect(assertUsername('alice')).toBe('alice');
    expect(assertImagingId('prestage-1', 'id')).toBe('prestage-1');
    expect(thrown(() => assertUsername('al:ice'))).toMatchObject({
      statusCode: 400,
      code: 'INVALID_IMAGING_ACCOUNT',
      field: 'username',
      message: 'username must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", "@" and "-"',
    });
    expect(thrown(() => assertImagingId('a/b', 'deviceId'))).toMatchObject({
      statusCode: 400,
      code: 'INVALID_IMAGING_DOCUMENT',
      field: 'deviceId',
      message: 'deviceId must be 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"',
    });
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

  const NOT_AN_OBJECT = 'The body must be a JSON object: { "password": "…" }';
  const LENGTH_RULE = 'password must be 12 to 1024 characters long';
  it.each([
    // [body, status, field, message]
    // not an object
    ['x', 400, undefined, NOT_AN_OBJECT],
    [null, 400, undefined, NOT_AN_OBJECT],
    [['password'], 400, undefined, NOT_AN_OBJECT],
    // missing or mistyped password
    [{}, 400, 'password', 'password is required and must be a string'],
    [{ password: 123456789012 }, 400, 'password', 'password is required and must be a string'],
    // unknown field
    [{ password: 'abcdefghijkl', role: 'admin' }, 400, 'role', 'Unknown field "role"; the body is { "password": "…" }'],
    // 11 characters: the rule is 12+
    [{ password: 'abcdefghijk' }, 422, 'password', LENGTH_RULE],
    // 11 code points in 12 UTF-16 units
    [{ password: '𝒜bcdefghijk' }, 422, 'password', LENGTH_RULE],
    // over 1024 characters
    [{ password: 'p'.repeat(1025) }, 422, 'password', LENGTH_RULE],
    // a lone surrogate is not text
    [{ password: 'abcdefghijkl\ud800' }, 400, 'password', 'password must be valid Unicode text'],
  ])('refuses %# with %i', (body, status, field, message) => {
    const error = thrown(() => parseAccountBody(body));
    expect({ status: error.statusCode, code: error.code, field: error.field, message: error.message }).toEqual({ status, code: 'INVALID_IMAGING_ACCOUNT', field, message });
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

  it('says how large the document is and what is allowed', () => {
    expect(thrown(() => parseImagingDocument({ a: 'x'.repeat(MAX_IMAGING_DOCUMENT_BYTES - 7) }, 'AUTORUN', 'C02'))).toMatchObject({
      message: 'The document is 32769 bytes as JSON; at most 32768 (32 KiB) are allowed',
    });
  });

  it.each([
    // arrays, strings, numbers, null and absent bodies are not objects
    [[1, 2]],
    ['text'],
    [7],
    [null],
    [undefined],
  ])('refuses the non-object %j with 400', (body) => {
    expect(thrown(() => parseImagingDocument(body, 'PRESTAGE', 'p'))).toMatchObject({
      statusCode: 400,
      code: 'INVALID_IMAGING_DOCUMENT',
      message: 'The body must be a JSON object (the PreStage information to store)',
    });
    expect(thrown(() => parseImagingDocument(body, 'AUTORUN', 'C02'))).toMatchObject({
      statusCode: 400,
      code: 'INVALID_IMAGING_DOCUMENT',
      message: 'The body must be a JSON object (the Autorun information to store)',
    });
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
    else {
      expect(thrown(() => parseImagingDocument(body, kind, pathId))).toMatchObject({
        statusCode: 400,
        code: 'INVALID_IMAGING_DOCUMENT',
        field: 'id',
        message: 'The PreStage\'s "id", when present, must equal the id in the path',
      });
    }
  });
});

describe('parseBasicAuthorization', () => {
  it.each([
    // no header, or an empty or blank one
    [undefined, { kind: 'missing' }],
    ['', { kind: 'missing' }],
    ['   ', { kind: 'missing' }],
    // spaces around and between are allowed
    [`  ${basic('alice:pw')}  `, { kind: 'credentials', username: 'alice', password: 'pw' }],
    [basic('alice:pw').replace(' ', '   '), { kind: 'credentials', username: 'alice', password: 'pw' }],
    // the longest password any account can have
    [basic(`alice:${'p'.repeat(1024)}`), { kind: 'credentials', username: 'alice', password: 'p'.repeat(1024) }],
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
    // [header, why it is malformed (logged with the refusal), the username when one was read]
    // another scheme, even with Basic credentials
    ['Bearer abc.def', 'scheme Bearer instead of Basic', undefined],
    [basic('alice:pw').replace('Basic', 'Bearer'), 'scheme Bearer instead of Basic', undefined],
    [`${'X'.repeat(30)} abc`, `scheme ${'X'.repeat(20)} instead of Basic`, undefined],
    // no credentials after the scheme, or more than one word
    ['Basic', 'not "Basic <credentials>"', undefined],
    ['Basic ', 'not "Basic <credentials>"', undefined],
    [`${basic('alice:pw')} extra`, 'not "Basic <credentials>"', undefined],
    // not base64
    ['Basic !!!!', 'credentials are not base64', undefined],
    ['Basic YWxp=Y2U=', 'credentials are not base64', undefined],
    ['Basic YWxpY2U6cHd!', 'credentials are not base64', undefined],
    // RFC 7617 credentials are standard base64: the URL alphabet's "-" and "_" are not read
    ['Basic YWxpY2U6cHc-Pw==', 'credentials are not base64', undefined],
    ['Basic YWxpY2U6cHc_Pz4=', 'credentials are not base64', undefined],
    // one character more than a whole number of base64 quadruples cannot be base64
    ['Basic YWxpY', 'credentials are not base64', undefined],
    // no colon
    [basic('alice'), 'no ":" between username and password', undefined],
    // not UTF-8
    [`Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`, 'credentials are not UTF-8', undefined],
    // an empty or invalid username
    [basic(':password'), 'not a valid imaging username', ''],
    [basic('al ice:password'), 'not a valid imaging username', 'al ice'],
    // two headers joined by the gateway
    [`${basic('a:b')}, ${basic('c:d')}`, 'not "Basic <credentials>"', undefined],
    // a password no account can have
    [basic(`alice:${'p'.repeat(1025)}`), 'password too long', 'alice'],
  ])('%j is malformed: %s', (header, reason, username) => {
    expect(parseBasicAuthorization(header)).toEqual({ kind: 'malformed', reason, username });
  });
});

describe('decideLoginAttempt (at most 10 failed or in-flight attempts within 15 minutes)', () => {
  const now = Date.parse('2026-11-25T18:00:00.000Z');
  const minutes = (m: number) => m * 60_000;
  let n = 0;
  const failed = (...ago: number[]): LoginAttemptEntry[] => ago.map((m) => ({ id: `f${(n += 1)}`, at: now - minutes(m), state: 'FAILED' }));
  const pending = (...agoMs: number[]): LoginAttemptEntry[] => agoMs.map((ms) => ({ id: `p${(n += 1)}`, at: now - ms, state: 'PENDING' }));
  const summary = (entries: LoginAttemptEntry[]) => {
    const { stale, ...rest } = decideLoginAttempt(entries, now);
    return { ...rest, stale: stale.length };
  };

  it.each([
    // nothing recorded
    [[], { allowed: true, counted: 0, stale: 0 }],
    // 9 recent failures: one more may be checked
    [failed(1, 2, 3, 4, 5, 6, 7, 8, 9), { allowed: true, counted: 9, stale: 0 }],
    // 9 failures and 1 attempt in flight: full, and the in-flight one may end any moment → Retry-After 1
    [[...failed(1, 2, 3, 4, 5, 6, 7, 8, 9), ...pending(50)], { allowed: false, counted: 10, failed: 9, pending: 1, lockedUntil: now, retryAfterSeconds: 1, stale: 0 }],
    // 10 attempts in flight at once (10 parallel guesses, or 10 legitimate logins of a shared account)
    [pending(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), { allowed: false, counted: 10, failed: 0, pending: 10, lockedUntil: now, retryAfterSeconds: 1, stale: 0 }],
    // 10 failures, the oldest 14 minutes ago: locked until it is 15 minutes old, in 60 s
    [failed(14, 13, 12, 11, 10, 9, 8, 7, 6, 5), { allowed: false, counted: 10, failed: 10, pending: 0, lockedUntil: now + minutes(1), retryAfterSeconds: 60, stale: 0 }],
    // 10 failures but the oldest exactly 15 minutes ago: it has left the window
    [failed(15, 13, 12, 11, 10, 9, 8, 7, 6, 5), { allowed: true, counted: 9, stale: 1 }],
    // sliding, not fixed: 9 old-ish and 1 new within any 15 minutes lock
    [failed(14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 14.9, 0), { allowed: false, counted: 10, failed: 10, pending: 0, lockedUntil: now + 6000, retryAfterSeconds: 6, stale: 0 }],
    // 12 counted (a failure marked after its PENDING entry was dropped): locked until only 9 remain
    [failed(14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3), { allowed: false, counted: 12, failed: 12, pending: 0, lockedUntil: now + minutes(3), retryAfterSeconds: 180, stale: 0 }],
    // order does not matter
    [failed(5, 14, 6, 13, 7, 12, 8, 11, 9, 10), { allowed: false, counted: 10, failed: 10, pending: 0, lockedUntil: now + minutes(1), retryAfterSeconds: 60, stale: 0 }],
    // a PENDING entry never confirmed (its container died, or its failure could not be recorded) counts like a failure
    // for the whole window: once it is no longer in flight, the lock lasts until it is 15 minutes old
    [[...failed(1, 2, 3, 4, 5, 6, 7, 8, 9), ...pending(LOGIN_IN_FLIGHT_MS - 1)], { allowed: false, counted: 10, failed: 9, pending: 1, lockedUntil: now, retryAfterSeconds: 1, stale: 0 }],
    [[...failed(1, 2, 3, 4, 5, 6, 7, 8, 9), ...pending(LOGIN_IN_FLIGHT_MS)], { allowed: false, counted: 10, failed: 9, pending: 1, lockedUntil: now + minutes(6), retryAfterSeconds: 360, stale: 0 }],
    [[...failed(1, 2, 3, 4, 5, 6, 7, 8, 9), ...pending(minutes(10))], { allowed: false, counted: 10, failed: 9, pending: 1, lockedUntil: now + minutes(5), retryAfterSeconds: 300, stale: 0 }],
    [[...failed(1, 2, 3, 4, 5, 6, 7, 8, 9), ...pending(minutes(15) - 1)], { allowed: false, counted: 10, failed: 9, pending: 1, lockedUntil: now + 1, retryAfterSeconds: 1, stale: 0 }],
    [[...failed(1, 2, 3, 4, 5, 6, 7, 8, 9), ...pending(minutes(15))], { allowed: true, counted: 9, stale: 1 }],
    // 10 unconfirmed attempts of 5 to 14 minutes ago: locked until the oldest has left the window
    [pending(...[14, 13, 12, 11, 10, 9, 8, 7, 6, 5].map(minutes)), { allowed: false, counted: 10, failed: 0, pending: 10, lockedUntil: now + minutes(1), retryAfterSeconds: 60, stale: 0 }],
    // 11 counted, one of them in flight: its end would leave 10 failures, so the lock lasts until the oldest failure goes
    [[...failed(14, 13, 12, 11, 10, 9, 8, 7, 6, 5), ...pending(10)], { allowed: false, counted: 11, failed: 10, pending: 1, lockedUntil: now + minutes(1), retryAfterSeconds: 60, stale: 0 }],
    // sub-second remainders round up, and never below 1 s
    [[{ id: 'edge', at: now - LOGIN_FAILURE_WINDOW_MS + 1, state: 'FAILED' }, ...failed(1, 1, 1, 1, 1, 1, 1, 1, 1)], { allowed: false, counted: 10, failed: 10, pending: 0, lockedUntil: now + 1, retryAfterSeconds: 1, stale: 0 }],
    [[{ id: 'edge', at: now - LOGIN_FAILURE_WINDOW_MS + 1500, state: 'FAILED' }, ...failed(1, 1, 1, 1, 1, 1, 1, 1, 1)], { allowed: false, counted: 10, failed: 10, pending: 0, lockedUntil: now + 1500, retryAfterSeconds: 2, stale: 0 }],
  ] as [LoginAttemptEntry[], object][])('case %#', (entries, expected) => {
    expect(summary(entries)).toEqual(expected);
  });

  it('unlocks exactly when lockedUntil is reached', () => {
    const entries = failed(14, 13, 12, 11, 10, 9, 8, 7, 6, 5);
    const state = decideLoginAttempt(entries, now);
    if (state.allowed) throw new Error('expected a lock');
    expect(decideLoginAttempt(entries, state.lockedUntil - 1).allowed).toBe(false);
    expect(decideLoginAttempt(entries, state.lockedUntil).allowed).toBe(true);
  });

  it('names the stale entries for removal and sets the TTL one window after the last write', () => {
    const entries = [...failed(20, 16, 15, 14), ...pending(minutes(15) + 1, LOGIN_IN_FLIGHT_MS + 1, 10)];
    expect(decideLoginAttempt(entries, now).stale.map((e) => e.at)).toEqual([now - minutes(20), now - minutes(16), now - minutes(15), now - minutes(15) - 1]);
    expect(loginAttemptsExpiresAt(now)).toBe((now + LOGIN_FAILURE_WINDOW_MS) / 1000);
    expect(loginAttemptsExpiresAt(now + 1)).toBe((now + LOGIN_FAILURE_WINDOW_MS) / 1000 + 1);
  });
});

describe('history lines (fixed field names; ids and fingerprints, never a secret)', () => {
  it.each([
    // [change, its history line]
    [() => accountHistoryChange('alice', 'created'), { field: 'imagingAccounts', from: null, to: 'alice' }],
    [() => accountHistoryChange('alice', 'updated'), { field: 'imagingAccounts', from: 'alice', to: 'alice' }],
    [() => accountHistoryChange('alice', 'deleted'), { field: 'imagingAccounts', from: 'alice', to: null }],
    [() => documentHistoryChange('PRESTAGE', 'p1', null, 'ab'), { field: 'imagingPrestages', from: null, to: 'p1 sha256:ab' }],
    [() => documentHistoryChange('PRESTAGE', 'p1', 'ab', 'cd'), { field: 'imagingPrestages', from: 'p1 sha256:ab', to: 'p1 sha256:cd' }],
    [() => documentHistoryChange('PRESTAGE', 'p1', 'ab', null), { field: 'imagingPrestages', from: 'p1 sha256:ab', to: null }],
    [() => documentHistoryChange('AUTORUN', 'C02', null, 'ab'), { field: 'imagingAutorun', from: null, to: 'C02 sha256:ab' }],
    [() => documentHistoryChange('AUTORUN', 'C02', 'ab', 'cd'), { field: 'imagingAutorun', from: 'C02 sha256:ab', to: 'C02 sha256:cd' }],
    [() => documentHistoryChange('AUTORUN', 'C02', 'cd', null), { field: 'imagingAutorun', from: 'C02 sha256:cd', to: null }],
  ])('%#', (change, expected) => {
    expect(change()).toEqual(expected);
  });

  it('fingerprints the stored JSON text', () => {
    const parsed = parseImagingDocument({ name: 'Lab' }, 'PRESTAGE', 'lab');
    const expected = createHash('sha256').update('{"name":"Lab"}').digest('hex');
    expect(documentHistoryChange('PRESTAGE', 'lab', null, parsed.sha256).to).toBe(`lab sha256:${expected}`);
  });
});

describe('LoginGuard: the attempt is reserved before the password is checked', () => {
  const NOW = Date.parse('2026-11-25T18:00:00.000Z');
  const RIGHT = 'the right password';
  const STORED = { algorithm: 'scrypt', hash: 'stored' } as unknown as PasswordHash;

  /** The in-memory store, with faults the tests switch on and a count of reservations. */
  class InMemoryAttempts extends InMemoryLoginAttemptStore {
    reserveCalls = 0;
    contended = false;
    failRelease = false;
    override async reserve(username: string, id: string, nowMs: number): Promise<LoginReservation> {
      this.reserveCalls += 1;
      if (this.contended) return { reserved: false, reason: 'CONTENDED' };
      return super.reserve(username, id, nowMs);
    }
    override async release(username: string, id: string) {
      if (this.failRelease) throw new StoreUnavailableError(new Error('store gone'));
      return super.release(username, id);
    }
  }

  /** A password check that waits until the test opens the gate, so that many requests are in flight at once. */
  function gatedVerifier() {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const checked: (string | undefined)[] = [];
    return {
      checked,
      open: () => open(),
      verify: async (password: string, stored: PasswordHash | undefined) => {
        checked.push(stored === undefined ? undefined : password);
        await gate;
        return stored !== undefined && password === RIGHT;
      },
    };
  }

  function setup() {
    const clock = { ms: NOW, now: () => new Date(clock.ms) };
    const attempts = new InMemoryAttempts();
    const passwords = gatedVerifier();
    const logs: Record<string, unknown>[] = [];
    let ids = 0;
    const guard = new LoginGuard({
      accounts: { getAccount: async (username) => (username === 'alice' ? { username, createdAt: '', updatedAt: '', updatedBy: '', passwordHash: STORED } : undefined) },
      attempts,
      passwords,
      clock,
      log: { warn: (message, fields) => logs.push({ message, ...fields }) },
      newAttemptId: () => `a${(ids += 1)}`,
    });
    const attempt = (username: string, password: string) =>
      guard
        .authenticate({ authorization: basic(`${username}:${password}`), sourceIp: '192.0.2.7', requestId: `r${ids}` })
        .then(
          (user) => ({ status: 200, user, retryAfter: undefined as string | undefined }),
          (error: HttpError) => ({ status: error.statusCode, user: undefined, retryAfter: error.headers?.['Retry-After'] }),
        );
    return { clock, attempts, passwords, logs, attempt };
  }

  it('30 parallel wrong guesses: only 10 passwords are checked (401), 20 are refused before any work (429)', async () => {
    const { attempts, passwords, logs, attempt } = setup();
    const pendingAnswers = Array.from({ length: 30 }, (_, i) => attempt('alice', `guess ${i}`));
    await new Promise((r) => setTimeout(r, 10));
    expect(passwords.checked).toHaveLength(10); // while the first ten are still being checked
    passwords.open();
    const answers = await Promise.all(pendingAnswers);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(10);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(20);
    // Refused while the ten were in flight: they may end at any moment, so "ask again in 1 s".
    expect(new Set(refused.map((a) => a.retryAfter))).toEqual(new Set(['1']));
    expect(passwords.checked).toHaveLength(10);
    expect((await attempts.getAttempts('alice')).map((e) => e.state)).toEqual(Array(10).fill('FAILED'));

    // Now ten failures count: even the right password is refused, for the whole window.
    const locked = await attempt('alice', RIGHT);
    expect(locked).toMatchObject({ status: 429, retryAfter: '900' });
    expect(passwords.checked).toHaveLength(10);
    expect(logs.at(-1)).toMatchObject({ reason: 'LOCKED_OUT', username: 'alice', sourceIp: '192.0.2.7', failedAttempts: 10, pendingAttempts: 0 });
    expect(JSON.stringify(logs)).not.toMatch(/guess|the right password/);
  });

  it('5 parallel right logins all succeed and leave nothing counted', async () => {
    const { attempts, passwords, attempt } = setup();
    const pendingAnswers = Array.from({ length: 5 }, () => attempt('alice', RIGHT));
    passwords.open();
    expect((await Promise.all(pendingAnswers)).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await attempts.getAttempts('alice')).toEqual([]);
  });

  it('unknown usernames are reserved, checked (against no hash: the dummy) and counted like known ones', async () => {
    const { attempts, passwords, logs, attempt } = setup();
    passwords.open();
    expect(await attempt('ghost', RIGHT)).toMatchObject({ status: 401 });
    expect(passwords.checked).toEqual([undefined]);
    expect(await attempts.getAttempts('ghost')).toEqual([{ id: expect.any(String), at: NOW, state: 'FAILED' }]);
    expect(logs.at(-1)).toMatchObject({ reason: 'UNKNOWN_USERNAME', username: 'ghost', recentAttempts: 1 });
  });

  it('missing and malformed credentials are refused without a reservation', async () => {
    const { attempts, passwords, attempt } = setup();
    passwords.open();
    expect(await attempt('bad name', 'x')).toMatchObject({ status: 401 });
    expect(attempts.reserveCalls).toBe(0);
    expect(passwords.checked).toEqual([]);
  });

  it('records the failure at the time the check ended, so it counts for 15 minutes from then', async () => {
    const { clock, attempts, passwords, attempt } = setup();
    const answer = attempt('alice', 'wrong');
    clock.ms += 40; // the scrypt work
    passwords.open();
    expect(await answer).toMatchObject({ status: 401 });
    expect(await attempts.getAttempts('alice')).toEqual([{ id: expect.any(String), at: NOW + 40, state: 'FAILED' }]);
  });

  it('refuses with 429 and Retry-After 1 when the reservation keeps losing the race (fails closed, checks nothing)', async () => {
    const { attempts, passwords, logs, attempt } = setup();
    attempts.contended = true;
    passwords.open();
    expect(await attempt('alice', RIGHT)).toMatchObject({ status: 429, retryAfter: '1' });
    expect(passwords.checked).toEqual([]);
    expect(logs.at(-1)).toMatchObject({ reason: 'CONTENDED', username: 'alice' });
  });

  it('a right password stands even if its reservation cannot be removed (unconfirmed, it counts for the 15 minutes)', async () => {
    const { attempts, passwords, logs, attempt } = setup();
    attempts.failRelease = true;
    passwords.open();
    expect(await attempt('alice', RIGHT)).toMatchObject({ status: 200, user: 'alice' });
    expect(logs.at(-1)).toMatchObject({ message: 'Imaging login attempt not released', username: 'alice' });
    expect(decideLoginAttempt(await attempts.getAttempts('alice'), NOW + LOGIN_FAILURE_WINDOW_MS - 1).counted).toBe(1);
    expect(decideLoginAttempt(await attempts.getAttempts('alice'), NOW + LOGIN_FAILURE_WINDOW_MS).counted).toBe(0);
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
    [{ ...SCRYPT_PARAMETERS, algorithm: 'scrypt', salt: Buffer.alloc(12).toString('base64'), hash: Buffer.alloc(32).toString('base64') }, false],
    [{ ...SCRYPT_PARAMETERS, algorithm: 'scrypt', salt: Buffer.alloc(16).toString('base64'), hash: Buffer.alloc(31).toString('base64') }, false],
    [undefined, false],
    [[], false],
    // a record whose hash attribute was written as DynamoDB NULL: refused like any unusable one, not a crash
    [null, false],
  ])('isUsablePasswordHash %#', (value, usable) => {
    expect(isUsablePasswordHash(value)).toBe(usable);
  });

  it.each([
    // [change to a usable record, usable?] — each parameter at and just past its bounds
    [{ N: 1024 }, true],
    [{ N: 512 }, false],
    [{ N: 1 << 20 }, true],
    [{ N: 1 << 21 }, false],
    [{ N: 16384.5 }, false],
    [{ N: '16384' }, false],
    [{ r: 1 }, true],
    [{ r: 0 }, false],
    [{ r: 32 }, true],
    [{ r: 33 }, false],
    [{ r: 8.5 }, false],
    [{ p: 16 }, true],
    [{ p: 17 }, false],
    [{ keylen: 16, hash: Buffer.alloc(16).toString('base64') }, true],
    [{ keylen: 15, hash: Buffer.alloc(15).toString('base64') }, false],
    [{ keylen: 64, hash: Buffer.alloc(64).toString('base64') }, true],
    [{ keylen: 65, hash: Buffer.alloc(65).toString('base64') }, false],
    [{ salt: 1234567890123456 }, false],
    [{ hash: 32 }, false],
  ])('isUsablePasswordHash with %j → %s', (change, usable) => {
    const record = { ...SCRYPT_PARAMETERS, algorithm: 'scrypt', salt: Buffer.alloc(16).toString('base64'), hash: Buffer.alloc(32).toString('base64') };
    expect(isUsablePasswordHash({ ...record, ...change })).toBe(usable);
  });

  it('gives scrypt the memory its parameters need, with 1 MiB to spare', () => {
    // 128·N·r + 128·r·p bytes (scrypt's V and B arrays)
    expect(scryptMemoryBytes(SCRYPT_PARAMETERS)).toBe(128 * 16384 * 8 + 128 * 8 * 1 + 1024 * 1024);
    expect(scryptMemoryBytes({ N: 1024, r: 2, p: 4, keylen: 16 })).toBe(262144 + 1024 + 1048576);
  });

  it('never matches an unusable stored hash, even one computed from the password', async () => {
    const verifier = new PasswordVerifier();
    const weird = await hashPassword('correct horse battery', { N: 1024, r: 8, p: 1, keylen: 16 });
    expect(await verifier.verify('correct horse battery', { ...weird, algorithm: 'other' as 'scrypt' })).toBe(false);
  });
});

describe('parseImagingDocument: nesting depth (at most 64 levels, the document itself being level 1)', () => {
  // Parsed with JSON.parse, as the admin function does, which reads any depth; JSON.stringify does not.
  const nestedObject = (depth: number, leaf = '{}') => JSON.parse(`${'{"a":'.repeat(depth - 1)}${leaf}${'}'.repeat(depth - 1)}`);
  /** A document whose "steps" holds arrays nested so that the whole is `depth` levels deep. */
  const nestedArrays = (depth: number) => JSON.parse(`{"steps":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`);

  it('measures depth without recursion: scalars 0, {} and [] 1, mixed containers counted alike', () => {
    expect(jsonNestingExceeds('text', 0)).toBe(false);
    expect(jsonNestingExceeds(null, 0)).toBe(false);
    expect(jsonNestingExceeds({}, 0)).toBe(true);
    expect(jsonNestingExceeds({}, 1)).toBe(false);
    expect(jsonNestingExceeds({ a: [{ b: [] }] }, 4)).toBe(false);
    expect(jsonNestingExceeds({ a: [{ b: [] }] }, 3)).toBe(true);
    // the deepest branch counts, wherever it is
    expect(jsonNestingExceeds({ wide: Array.from({ length: 1000 }, () => ({})), deep: nestedObject(5) }, 5)).toBe(true);
    expect(jsonNestingExceeds(nestedObject(1_000_000), 64)).toBe(true);
  });

  it.each([
    ['objects', nestedObject],
    ['arrays', nestedArrays],
  ])('accepts %s nested exactly 64 levels deep', (_kind, make) => {
    const document = make(MAX_IMAGING_DOCUMENT_DEPTH);
    expect(MAX_IMAGING_DOCUMENT_DEPTH).toBe(64);
    expect(parseImagingDocument(document, 'AUTORUN', 'C02').json).toBe(JSON.stringify(document));
  });

  it.each([
    ['objects 65 levels deep', () => nestedObject(65)],
    ['arrays 65 levels deep', () => nestedArrays(65)],
    // 32 KiB of '[' inside a document: already past the point where JSON.stringify overflows
    ['32 KiB of [ ([[[…]]])', () => nestedArrays(32 * 1024)],
    // what fits in the 1 MiB admin body: 100,000 levels of {"a": …} are 600 KB
    ['objects 100,000 levels deep', () => nestedObject(100_000, '1')],
    ['arrays 100,000 levels deep', () => nestedArrays(100_000)],
    // a deep value in the PreStage's own "id": comparing it with the path would recurse too (Array#toString)
    ['an "id" 100,000 arrays deep', () => JSON.parse(`{"id":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)],
  ])('refuses %s with 400 INVALID_IMAGING_DOCUMENT, not a stack overflow', (_name, make) => {
    const document = make();
    for (const kind of ['PRESTAGE', 'AUTORUN'] as const) {
      const error = thrown(() => parseImagingDocument(document, kind, 'p1'));
      expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_IMAGING_DOCUMENT' });
      expect(error.message).toMatch(/more than 64 levels deep/);
    }
  });

  it('accepts wide, shallow documents of any breadth', () => {
    const document = { packages: Array.from({ length: 2000 }, (_, i) => ({ id: `p${i}` })) };
    expect(parseImagingDocument(document, 'PRESTAGE', 'p1').sizeBytes).toBeLessThanOrEqual(MAX_IMAGING_DOCUMENT_BYTES);
  });
});
