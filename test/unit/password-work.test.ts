// An unknown imaging account must cost the same scrypt work as a known one, or the time of a failed login tells an
// attacker which usernames exist. The work is what scrypt is asked to do (its cost parameters and output length),
// recorded by a pass-through wrapper around node:crypto's scrypt: a deterministic check, where a stopwatch is not.
import { describe, expect, it, vi } from 'vitest';

const scryptCalls = vi.hoisted(() => [] as Array<{ keylen: number; N?: number; r?: number; p?: number }>);

vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  const scrypt = (...args: Parameters<typeof crypto.scrypt>) => {
    const [, , keylen, options] = args as unknown as [unknown, unknown, number, { N?: number; r?: number; p?: number }];
    scryptCalls.push({ keylen, N: options.N, r: options.r, p: options.p });
    return (crypto.scrypt as (...a: unknown[]) => void)(...args);
  };
  return { ...crypto, default: { ...crypto, scrypt }, scrypt };
});

// Loaded afresh, so that the wrapper is what they call even where modules stay loaded between test files.
vi.resetModules();
const { SCRYPT_PARAMETERS } = await import('../../lib/domain/imaging.ts');
const { hashPassword, PasswordVerifier } = await import('../../lib/services/imaging/passwords.ts');

const FULL_WORK = { keylen: SCRYPT_PARAMETERS.keylen, N: SCRYPT_PARAMETERS.N, r: SCRYPT_PARAMETERS.r, p: SCRYPT_PARAMETERS.p };

async function workOf(run: () => Promise<boolean>) {
  scryptCalls.length = 0;
  const answer = await run();
  return { answer, calls: [...scryptCalls] };
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
