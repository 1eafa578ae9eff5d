// An unknown imaging account must cost the same scrypt work as a known one, or the time of a failed login tells an
// attacker which usernames exist. The work is what scrypt is asked to do (its cost parameters and output length),
// recorded by a pass-through wrapper around node:crypto's scrypt: a deterministic check, where a stopwatch is not.
import { describe, expect, it, vi } from 'vitest';

const scryptCalls = vi.hoisted(() => [] as Array<{ keylen: number; N?: number; r?: number; p?: number; finished: boolean }>);

vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  // Records each call's work, and whether the derivation had finished (its callback run) by the time it is read.
  const scrypt = (...args: unknown[]) => {
    const [password, salt, keylen, options, callback] = args as [string, Buffer, number, { N?: number; r?: number; p?: number }, (...result: unknown[]) => void];
    const call = { keylen, N: options.N, r: options.r, p: options.p, finished: false };
    scryptCalls.push(call);
    crypto.scrypt(password, salt, keylen, options, (...result: unknown[]) => {
      call.finished = true;
      callback(...result);
    });
  };
  return { ...crypto, default: { ...crypto, scrypt }, scrypt };
});

// Loaded afresh, so that the wrapper is what they call even where modules stay loaded between test files.
vi.resetModules();
const { SCRYPT_PARAMETERS } = await import('../../lib/domain/imaging.ts');
const { hashPassword, PasswordVerifier } = await import('../../lib/services/imaging/passwords.ts');

// One whole derivation of the current parameters, finished before the login is answered.
const FULL_WORK = { keylen: SCRYPT_PARAMETERS.keylen, N: SCRYPT_PARAMETERS.N, r: SCRYPT_PARAMETERS.r, p: SCRYPT_PARAMETERS.p, finished: true };

/** The answer, and the derivations asked for, each marked finished if it had finished when the answer came. */
async function workOf(run: () => Promise<boolean>) {
  scryptCalls.length = 0;
  const answer = await run();
  return { answer, calls: scryptCalls.map((call) => ({ ...call })) };
}

describe('a failed imaging login costs the same whether or not the account exists', () => {
  it('runs one full scrypt for a known account, an unknown one and one whose stored hash is unusable', async () => {
    const verifier = new PasswordVerifier();
    const stored = await hashPassword('correct horse battery');

    const known = await workOf(() => verifier.verify('wrong password 123', stored));
    const unknown = await workOf(() => verifier.verify('wrong password 123', undefined));
    const unusable = await workOf(() => verifier.verify('wrong password 123', { ...stored, N: 10000 }));

    expect(known).toEqual({ answer: false, calls: [FULL_WORK] });
    expect(unknown).toEqual({ answer: false, calls: [FULL_WORK] });
    expect(unusable).toEqual({ answer: false, calls: [FULL_WORK] });
  });

  it('still accepts the right password with that same work', async () => {
    const verifier = new PasswordVerifier();
    const stored = await hashPassword('correct horse battery');
    expect(await workOf(() => verifier.verify('correct horse battery', stored))).toEqual({ answer: true, calls: [FULL_WORK] });
  });

  it('never accepts a password against the stand-in hash of an unknown account', async () => {
    const verifier = new PasswordVerifier();
    // The stand-in is random per verifier: neither the empty password nor a common one can match it.
    for (const guess of ['', 'password', 'correct horse battery']) expect(await verifier.verify(guess, undefined)).toBe(false);
  });
});
