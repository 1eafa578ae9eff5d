// Unit tests for the limits of lib/domain/push-certificate.ts: PKCS#12 files an attacker would upload to keep the
// admin function busy until its timeout (huge iteration counts in the MAC and in the bags, thousands of bags or
// SafeContents, deep ASN.1, oversized files and passwords). Each is refused with 422 INVALID_P12, saying why,
// before any key derivation: node:crypto is wrapped so the tests can count every hash and PBKDF2 call, and the
// counts are astronomically large (2^31-1 iterations would take hours if anything were derived).

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const derivations = vi.hoisted(() => ({ createHash: 0, pbkdf2Sync: 0 }));

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    createHash: (...args: Parameters<typeof actual.createHash>) => {
      derivations.createHash += 1;
      return actual.createHash(...args);
    },
    pbkdf2Sync: (...args: Parameters<typeof actual.pbkdf2Sync>) => {
      derivations.pbkdf2Sync += 1;
      return actual.pbkdf2Sync(...args);
    },
  };
});

import { RuleViolationError } from '../../lib/domain/errors.ts';
import { openPushCertificate } from '../../lib/domain/push-certificate.ts';
import {
  copies,
  editPkcs12,
  emptySafe,
  isShroudedKeyBag,
  keyBagEncryption,
  nestedSequences,
  OpensslWorkbench,
  pushSubject,
  secretBag,
  setIterations,
  tinyKeyBag,
  type EditablePkcs12,
  type MadeCertificate,
} from '../support/pkcs12.ts';

const UUID = '0b7e4c1d-2f3a-4e5b-8c6d-7e8f9a0b1c2d';
const TOPIC = `com.apple.mgmt.External.${UUID}`;
const PASSWORD = 'correct horse battery staple';
const NOW = new Date();
/** Refusals read the structure only; far below what a single derivation at the counts used here would take. */
const FAST_MS = 1000;
const HUGE = 2n ** 31n - 1n;

let bench: OpensslWorkbench;
let push: MadeCertificate;
/** openssl's defaults: modern (PBES2 AES-256, PBKDF2-SHA256, SHA-256 MAC) and -legacy (RC2-40, 3DES, SHA-1 MAC). */
let modern: string;
let legacy: string;

beforeAll(() => {
  bench = OpensslWorkbench.create();
  const key = bench.makeKey();
  push = bench.makeCertificate({ subject: pushSubject(UUID), key });
  modern = bench.exportPkcs12({ certificate: push, password: PASSWORD });
  legacy = bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true });
});

afterAll(() => bench?.cleanup());

/** The file openssl made, edited. safes[0] is the encrypted certificate SafeContents, safes[1] the key's. */
const edit = (file: string, change: (p12: EditablePkcs12) => void): string => editPkcs12(file, PASSWORD, change);

const keyBag = (p12: EditablePkcs12) => {
  const bag = p12.safes[1].bags!.find(isShroudedKeyBag);
  if (!bag) throw new Error('no shrouded key bag');
  return bag;
};

async function refusal(p12: string, password = PASSWORD): Promise<{ error: RuleViolationError; ms: number }> {
  // Only what openPushCertificate does is counted (making the file may use PBKDF2 itself).
  derivations.createHash = 0;
  derivations.pbkdf2Sync = 0;
  const start = performance.now();
  try {
    await openPushCertificate(p12, password, NOW);
  } catch (error) {
    const ms = performance.now() - start;
    expect(error).toBeInstanceOf(RuleViolationError);
    return { error: error as RuleViolationError, ms };
  }
  throw new Error('expected a RuleViolationError, but the file opened');
}

async function expectRefusedBeforeDerivation(p12: string, message: RegExp, password = PASSWORD): Promise<void> {
  const { error, ms } = await refusal(p12, password);
  expect(error.statusCode).toBe(422);
  expect(error.code).toBe('INVALID_P12');
  expect(error.message).toMatch(message);
  expect(error.message).not.toContain(password);
  expect(derivations).toEqual({ createHash: 0, pbkdf2Sync: 0 });
  expect(ms).toBeLessThan(FAST_MS);
}

describe('push certificate limits: iteration counts', () => {
  it.each([
    ['a modern MAC (SHA-256)', HUGE, () => modern, /asks for 2147483647 key-derivation iterations; 1 to 1,000,000 are supported \(in the MAC\)/],
    ['a legacy MAC (SHA-1)', HUGE, () => legacy, /asks for 2147483647 key-derivation iterations.*\(in the MAC\)/],
    // a count no 32-bit field holds: read from the INTEGER itself, not cut to a number first
    ['a modern MAC', 2n ** 64n, () => modern, /asks for 18446744073709551616 key-derivation iterations/],
    ['a modern MAC', 1_000_001n, () => modern, /asks for 1000001 key-derivation iterations; 1 to 1,000,000/],
    ['a modern MAC', 0n, () => modern, /asks for 0 key-derivation iterations; 1 to 1,000,000/],
  ])('refuses %s stating %s iterations before deriving anything', async (_name, count, file, message) => {
    await expectRefusedBeforeDerivation(edit(file(), (p12) => (p12.macIterations = count)), message);
  });

  it.each([
    ['PBES2/PBKDF2 (modern)', () => modern],
    ['PKCS#12 PBE, RC2-40 (legacy)', () => legacy],
  ])('refuses an encrypted SafeContents stating 2^31-1 %s iterations, with a valid MAC, before checking the MAC', async (_name, file) => {
    const p12 = edit(file(), (p12) => setIterations(p12.safes[0].encryption!, HUGE));
    await expectRefusedBeforeDerivation(p12, /asks for 2147483647 key-derivation iterations.*\(in an encrypted SafeContents\)/);
  });

  it.each([
    // with a MAC the key is never decrypted, but a count like this is refused wherever it is
    ['modern, with a MAC', () => modern, false],
    ['legacy (3DES), with a MAC', () => legacy, false],
    // without a MAC each key would be decrypted as the password check: this is the CPU bomb
    ['modern, without a MAC', () => modern, true],
    ['legacy (3DES), without a MAC', () => legacy, true],
  ])('refuses a key bag stating 2^31-1 iterations (%s)', async (_name, file, noMac) => {
    const p12 = edit(file(), (p12) => {
      setIterations(keyBagEncryption(keyBag(p12)), HUGE);
      if (noMac) p12.macIterations = null;
    });
    await expectRefusedBeforeDerivation(p12, /asks for 2147483647 key-derivation iterations.*\(in an encrypted private key\)/);
  });

  it('opens a file whose key bag states exactly 1,000,000 iterations (with a MAC the key is never derived)', async () => {
    const p12 = edit(modern, (p12) => setIterations(keyBagEncryption(keyBag(p12)), 1_000_000n));
    expect((await openPushCertificate(p12, PASSWORD, NOW)).topic).toBe(TOPIC);
  });
});

describe('push certificate limits: total key-derivation work', () => {
  it('refuses a legacy certificate SafeContents at 1,000,000 iterations: each of its two RC2 blocks costs 1,000,000 steps', async () => {
    const p12 = edit(legacy, (p12) => setIterations(p12.safes[0].encryption!, 1_000_000n));
    await expectRefusedBeforeDerivation(p12, /asks for more than 1,000,000 key-derivation steps in all/);
  });

  it('refuses three encrypted SafeContents at 1,000,000 PBKDF2 iterations each, though each alone is within bounds', async () => {
    const p12 = edit(modern, (p12) => {
      setIterations(p12.safes[0].encryption!, 1_000_000n);
      p12.safes.push({ ...p12.safes[0] }, { ...p12.safes[0] });
    });
    await expectRefusedBeforeDerivation(p12, /asks for more than 1,000,000 key-derivation steps in all/);
  });

  it("refuses openssl's -iter 1000000, which puts the MAC and every bag at 1,000,000", async () => {
    const p12 = bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-iter', '1000000'] });
    await expectRefusedBeforeDerivation(p12, /asks for more than 1,000,000 key-derivation steps in all/);
  });
});

describe('push certificate limits: bags and SafeContents', () => {
  it('refuses 500 key bags without a MAC (each would be decrypted to check the password) before deriving any', async () => {
    // Each copy really decrypts with the password: read bag by bag, this file would cost 500 key derivations.
    const p12 = edit(legacy, (p12) => {
      p12.macIterations = null;
      p12.safes[1].bags!.push(...copies(tinyKeyBag(2048n, PASSWORD), 500));
    });
    await expectRefusedBeforeDerivation(p12, /holds more than 32 bags/);
  });

  it('refuses 1,000 bags that cost nothing to derive', async () => {
    const p12 = edit(modern, (p12) => p12.safes[1].bags!.push(...copies(secretBag(1), 1000)));
    await expectRefusedBeforeDerivation(p12, /holds more than 32 bags/);
  });

  it('refuses 100 SafeContents', async () => {
    const p12 = edit(modern, (p12) => p12.safes.push(...Array.from({ length: 98 }, emptySafe)));
    await expectRefusedBeforeDerivation(p12, /holds 100 SafeContents; at most 8 are supported/);
  });

  // 30 more key bags without a MAC (each decrypted as the password check): push-certificate-accepted-work.test.ts.
  it("opens a file with 32 bags in all (openssl's certificate and key bags and 30 more bags that cost nothing)", async () => {
    const p12 = edit(modern, (p12) => p12.safes[1].bags!.push(...copies(secretBag(1), 30)));
    expect((await openPushCertificate(p12, PASSWORD, NOW)).topic).toBe(TOPIC);
  });

  // What only decryption reveals: without a MAC, bags inside the encrypted certificate SafeContents. That one
  // SafeContents is decrypted (one PBKDF2); nothing it holds is derived.
  it('refuses 1,000 bags hidden in an encrypted SafeContents after decrypting it alone', async () => {
    const p12 = edit(modern, (p12) => {
      p12.macIterations = null;
      p12.safes[0].bags!.push(...copies(secretBag(1), 1000));
    });
    const { error } = await refusal(p12);
    expect(error.code).toBe('INVALID_P12');
    expect(error.message).toMatch(/holds more than 32 bags/);
    expect(derivations).toEqual({ createHash: 0, pbkdf2Sync: 1 });
  });

  it('refuses a key bag at 1,000,000 iterations hidden in an encrypted SafeContents before deriving its key', async () => {
    const p12 = edit(modern, (p12) => {
      p12.macIterations = null;
      p12.safes[0].bags!.push(tinyKeyBag(1_000_000n));
    });
    const { error } = await refusal(p12);
    expect(error.code).toBe('INVALID_P12');
    expect(error.message).toMatch(/asks for more than 1,000,000 key-derivation steps in all/);
    expect(derivations).toEqual({ createHash: 0, pbkdf2Sync: 1 });
  });

  it('refuses a key bag at 2^31-1 iterations hidden in an encrypted SafeContents', async () => {
    const p12 = edit(modern, (p12) => {
      p12.macIterations = null;
      p12.safes[0].bags!.push(tinyKeyBag(HUGE));
    });
    const { error } = await refusal(p12);
    expect(error.message).toMatch(/asks for 2147483647 key-derivation iterations/);
    expect(derivations).toEqual({ createHash: 0, pbkdf2Sync: 1 });
  });
});

describe('push certificate limits: size, nesting and password', () => {
  it('refuses a file over 64 KiB (a push certificate file is a few kilobytes)', async () => {
    const p12 = edit(modern, (p12) => p12.safes[1].bags!.push(secretBag(70_000)));
    await expectRefusedBeforeDerivation(p12, /is 7\d,\d{3} bytes; at most 65,536 are supported/);
  });

  it('refuses a megabyte of base64 without decoding it', async () => {
    await expectRefusedBeforeDerivation('A'.repeat(1024 * 1024), /is 786,432 bytes; at most 65,536 are supported/);
  });

  it.each([
    ['the whole file', () => nestedSequences(15_000).toString('base64')],
    ['a SafeContents, under a valid MAC', () => edit(modern, (p12) => (p12.safes[1] = { raw: nestedSequences(15_000) }))],
  ])('refuses ASN.1 nested thousands deep in %s as unreadable, without running out of stack', async (_name, file) => {
    await expectRefusedBeforeDerivation(file(), /not a readable PKCS#12 file/);
  });

  it('refuses a password over 1,024 characters without deriving anything or echoing it', async () => {
    const password = 'é'.repeat(500_000);
    await expectRefusedBeforeDerivation(modern, /the password is longer than 1,024 characters/, password);
  });

  it('still opens a file whose password is 1,024 characters long', async () => {
    const password = 'p'.repeat(1024);
    const p12 = bench.exportPkcs12({ certificate: push, password, legacy: true });
    expect((await openPushCertificate(p12, password, NOW)).topic).toBe(TOPIC);
  });
});
