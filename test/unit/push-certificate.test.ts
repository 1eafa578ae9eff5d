// Unit tests for lib/domain/push-certificate.ts: real PKCS#12 files made by openssl (legacy and modern).

import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleViolationError } from '../../lib/domain/errors.ts';
import { openPushCertificate, type PushCertificateSummary } from '../../lib/domain/push-certificate.ts';
import { OpensslWorkbench, pushSubject, type KeyFile, type MadeCertificate } from '../support/pkcs12.ts';

const UUID = '6f1c1a52-3a8e-4d1b-9f0e-2b7c5d4e3a21';
const TOPIC = `com.apple.mgmt.External.${UUID}`;
const SUBJECT = `UID=${TOPIC}, CN=APSP:${UUID}, C=US`;
const PASSWORD = 'Tr0ub4dor&3-horse';
const NON_ASCII_PASSWORD = 'pässwörd-€-😀';
const NOT_BEFORE = new Date('2025-03-01T08:30:00Z');
const NOT_AFTER = new Date('2035-03-01T08:30:00Z');
/** A fixed clock: 3652 days (ten years with two leap days) minus 12 h before NOT_AFTER, so 3651 whole days. */
const NOW = new Date('2025-03-01T20:30:00Z');

let bench: OpensslWorkbench;
let key: KeyFile;
let push: MadeCertificate;
let sha256: string;

beforeAll(() => {
  bench = OpensslWorkbench.create();
  key = bench.makeKey();
  push = bench.makeCertificate({ subject: pushSubject(UUID), key, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  sha256 = bench.inspect(push).sha256;
});

/** Each PKCS#12 file (base64) and how openssl makes it; made on first use, so a test pays only for its own files. */
const recipes = {
  modern: () => bench.exportPkcs12({ certificate: push, password: PASSWORD }),
  legacy: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true }),
  modernWithChain: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, chain: [appleCa()] }),
  modernNonAscii: () => bench.exportPkcs12({ certificate: push, password: NON_ASCII_PASSWORD }),
  legacyNonAscii: () => bench.exportPkcs12({ certificate: push, password: NON_ASCII_PASSWORD, legacy: true }),
  modernNoMac: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-nomac'] }),
  legacyNoMac: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true, extraArgs: ['-nomac'] }),
  mixed: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'AES-128-CBC', '-macalg', 'sha512'] }),
  emptyPassword: () => bench.exportPkcs12({ certificate: push, password: '' }),
  caFirstNoKey: () => bench.exportPkcs12({ certificate: appleCa(), chain: [push], noKey: true, password: PASSWORD }),
  // A push certificate that is itself CA:TRUE, paired with the key: only localKeyId pairing picks it over the decoy.
  pairedByKeyId: () => {
    const pushMarkedCa = bench.makeCertificate({ subject: pushSubject(UUID), key, ca: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const decoy = bench.makeCertificate({ subject: '/CN=not the push certificate', key: ecKey(), issuer: appleCa() });
    return bench.exportPkcs12({ certificate: pushMarkedCa, chain: [decoy], password: PASSWORD });
  },
  keyOnly: () => bench.exportPkcs12({ keyOnly: key, password: PASSWORD }),
  noUid: () => {
    const noUid = bench.makeCertificate({ subject: pushSubject(UUID, { uid: null }), key, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    return bench.exportPkcs12({ certificate: noUid, password: PASSWORD });
  },
  otherUid: () => {
    const otherUid = bench.makeCertificate({ subject: pushSubject(UUID, { uid: 'com.example.push' }), key, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    return bench.exportPkcs12({ certificate: otherUid, password: PASSWORD, legacy: true });
  },
  expired: () => {
    const dates = { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') };
    return bench.exportPkcs12({ certificate: bench.makeCertificate({ subject: pushSubject(UUID), key, ...dates }), password: PASSWORD });
  },
  // Just over the iteration bound (a CPU bomb would use far more); openssl's -iter sets the MAC's count too.
  tooManyIterations: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-iter', '1000001', '-keypbe', 'NONE'] }),
  sha384Mac: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-macalg', 'sha384'] }),
  sha224Mac: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true, extraArgs: ['-macalg', 'sha224'] }),
  md5Mac: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-macalg', 'md5'] }),
  aes128And192: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-certpbe', 'AES-128-CBC', '-keypbe', 'AES-192-CBC'] }),
  rc2With2Des: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true, extraArgs: ['-certpbe', 'PBE-SHA1-RC2-128', '-keypbe', 'PBE-SHA1-2DES'] }),
  rc2With3Des3Des: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true, extraArgs: ['-descert'] }),
  oneIteration: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, extraArgs: ['-iter', '1'] }),
  noIterationCounts: () => bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true, extraArgs: ['-noiter', '-nomaciter'] }),
  longForeignUid: () => {
    const foreign = bench.makeCertificate({ subject: pushSubject(UUID, { uid: `com.example.${'x'.repeat(140)}` }), key, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    return bench.exportPkcs12({ certificate: foreign, password: PASSWORD });
  },
} satisfies Record<string, () => string>;

const made = new Map<string, string>();
function file(name: keyof typeof recipes): string {
  if (!made.has(name)) made.set(name, recipes[name]());
  return made.get(name)!;
}

let appleCaCertificate: MadeCertificate | undefined;
let ecKeyFile: KeyFile | undefined;
const ecKey = () => (ecKeyFile ??= bench.makeKey('ec256'));
const appleCa = () =>
  (appleCaCertificate ??= bench.makeCertificate({ subject: '/CN=Apple Application Integration 2 CA/O=Apple Inc./C=US', key: ecKey(), ca: true }));

afterAll(() => bench?.cleanup());

async function rejection(promise: Promise<unknown>): Promise<RuleViolationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RuleViolationError);
    return error as RuleViolationError;
  }
  throw new Error('expected a RuleViolationError, but the promise resolved');
}

describe('openPushCertificate', () => {
  it.each([
    // openssl 3 default: PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC
    ['modern', PASSWORD],
    // openssl -legacy, as Keychain Access exports: RC2-40 certificates, 3DES key, SHA-1 MAC
    ['legacy', PASSWORD],
    // with the issuing CA in the file: the certificate paired with the key is returned
    ['modernWithChain', PASSWORD],
    // non-ASCII password: PBKDF2 takes its UTF-8 bytes (node-forge alone fails here)
    ['modernNonAscii', NON_ASCII_PASSWORD],
    // non-ASCII password, PKCS#12 KDF with the BMPString form
    ['legacyNonAscii', NON_ASCII_PASSWORD],
    // no MAC: the password is checked by decryption instead
    ['modernNoMac', PASSWORD],
    ['legacyNoMac', PASSWORD],
    // 3DES certificates, AES-128 key, SHA-512 MAC
    ['mixed', PASSWORD],
    // the empty password
    ['emptyPassword', ''],
    // no key: the first non-CA certificate is the push certificate
    ['caFirstNoKey', PASSWORD],
    // MACs with SHA-384 and SHA-224
    ['sha384Mac', PASSWORD],
    ['sha224Mac', PASSWORD],
    // PBES2 with AES-128 for the certificates and AES-192 for the key
    ['aes128And192', PASSWORD],
    // older PKCS#12 PBEs: RC2-128 certificates with a two-key 3DES key, and 3DES throughout
    ['rc2With2Des', PASSWORD],
    ['rc2With3Des3Des', PASSWORD],
    // a single iteration, and no iteration counts at all (both default to 1)
    ['oneIteration', PASSWORD],
    ['noIterationCounts', PASSWORD],
  ] as const)('opens %s', async (name, password) => {
    const summary = await openPushCertificate(file(name), password, NOW);
    const expected: PushCertificateSummary = {
      pem: push.pem,
      topic: TOPIC,
      subject: SUBJECT,
      notBefore: '2025-03-01T08:30:00.000Z',
      notAfter: '2035-03-01T08:30:00.000Z',
      daysRemaining: 3651,
      sha256,
    };
    expect(summary).toEqual(expected);
    expect(JSON.stringify(summary)).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(summary)).not.toContain(key.pem.split('\n')[1]);
  });

  it('picks the certificate whose localKeyId matches a key even when a non-CA certificate follows it', async () => {
    const summary = await openPushCertificate(file('pairedByKeyId'), PASSWORD, NOW);
    expect(summary.topic).toBe(TOPIC);
    expect(summary.sha256).not.toBe(sha256); // the CA-flagged twin, not `push`
  });

  it('counts days from the given clock', async () => {
    const summary = await openPushCertificate(file('modern'), PASSWORD, new Date('2035-02-28T08:30:00Z'));
    expect(summary.daysRemaining).toBe(1);
  });

  it.each([
    // wrong password, modern and legacy
    ['modern', 'not-the-password-42', 'INVALID_P12', /password is wrong/],
    ['legacy', 'not-the-password-42', 'INVALID_P12', /password is wrong/],
    // wrong password without a MAC: caught by decryption
    ['modernNoMac', 'not-the-password-42', 'INVALID_P12', /password is wrong/],
    ['legacyNoMac', 'not-the-password-42', 'INVALID_P12', /password is wrong/],
    // the right password in the wrong encoding is still wrong
    ['modernNonAscii', 'passwörd', 'INVALID_P12', /password is wrong/],
    // a key without its certificate
    ['keyOnly', PASSWORD, 'INVALID_P12', /holds no certificate/],
    // no UID attribute in the subject
    ['noUid', PASSWORD, 'NOT_A_PUSH_CERTIFICATE', /no UID attribute/],
    // a UID that is not an MDM topic
    ['otherUid', PASSWORD, 'NOT_A_PUSH_CERTIFICATE', /\(UID "com\.example\.push"\) does not start with com\.apple\.mgmt/],
    // a key-derivation iteration count above 1,000,000 is refused before any work is done
    ['tooManyIterations', PASSWORD, 'INVALID_P12', /asks for 1000001 key-derivation iterations; 1 to 1,000,000 are supported/],
    // expired in 2021 (real clock is irrelevant: NOW is 2025)
    ['expired', PASSWORD, 'CERTIFICATE_EXPIRED', /expired at 2021-01-01T00:00:00\.000Z/],
    // a MAC digest this code does not compute: said, not guessed at
    ['md5Mac', PASSWORD, 'INVALID_P12', /^The push certificate file uses an unsupported MAC algorithm \(1\.2\.840\.113549\.2\.5\)$/],
    // a foreign topic is quoted, cut at 100 characters
    ['longForeignUid', PASSWORD, 'NOT_A_PUSH_CERTIFICATE', new RegExp(`^The certificate's topic \\(UID "com\\.example\\.${'x'.repeat(88)}…"\\) does not start with com\\.apple\\.mgmt`)],
  ] as const)('rejects %s with password %j → %s', async (name, password, code, message) => {
    const error = await rejection(openPushCertificate(file(name), password, NOW));
    expect(error.statusCode).toBe(422);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    // one refusal, one sentence: no per-field details
    expect(error.details).toBeUndefined();
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(password);
    expect(error.message).not.toContain(PASSWORD);
  });

  it('rejects the wrong password without echoing it, in any form', async () => {
    const secret = 'hunter2-SECRET-do-not-log';
    const error = await rejection(openPushCertificate(file('modern'), secret, NOW));
    expect(error.code).toBe('INVALID_P12');
    const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('hunter2');
  });

  it('rejects a certificate that expired a millisecond ago, and accepts it at the instant of expiry', async () => {
    const atExpiry = await openPushCertificate(file('modern'), PASSWORD, NOT_AFTER);
    expect(atExpiry.daysRemaining).toBe(0);
    const error = await rejection(openPushCertificate(file('modern'), PASSWORD, new Date(NOT_AFTER.getTime() + 1)));
    expect(error.code).toBe('CERTIFICATE_EXPIRED');
  });

  it('refuses a file whose MAC was altered after export, though its content and password are right', async () => {
    const pfx = forge.asn1.fromDer(Buffer.from(file('modern'), 'base64').toString('binary'));
    const macDigest = ((pfx.value as forge.asn1.Asn1[])[2].value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
    const digest = Buffer.from(macDigest[1].value as string, 'binary');
    digest[0] ^= 0x01;
    macDigest[1].value = digest.toString('binary');
    const altered = Buffer.from(forge.asn1.toDer(pfx).getBytes(), 'binary').toString('base64');
    const error = await rejection(openPushCertificate(altered, PASSWORD, NOW));
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'INVALID_P12',
      message: 'The push certificate file could not be opened: the password is wrong or the file is damaged',
    });
  });

  it.each([
    // not base64 at all
    ['not base64', () => '%%% this is not base64 %%%'],
    // empty
    ['empty', () => ''],
    // base64 of text
    ['base64 of text', () => Buffer.from('hello world, not a p12').toString('base64')],
    // base64 of a certificate (DER), not a PKCS#12
    ['a bare certificate', () => push.pem.replace(/-----[^-]+-----|\n/g, '')],
    // truncated file
    ['truncated', () => file('modern').slice(0, Math.floor(file('modern').length / 2 / 4) * 4)],
    // a whole file with bytes after its end
    ['followed by other bytes', () => Buffer.concat([Buffer.from(file('modern'), 'base64'), Buffer.from([0x05, 0x00])]).toString('base64')],
    // one flipped byte in the middle: the MAC no longer matches
    ['corrupted', () => {
      const bytes = Buffer.from(file('modern'), 'base64');
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      return bytes.toString('base64');
    }],
  ])('rejects %s as INVALID_P12', async (_name, p12) => {
    const error = await rejection(openPushCertificate(p12(), PASSWORD, NOW));
    expect(error.code).toBe('INVALID_P12');
    expect(error.statusCode).toBe(422);
    expect(error.message).not.toContain(PASSWORD);
  });

  it('accepts base64 wrapped in lines (as `base64` prints it)', async () => {
    const wrapped = file('legacy').replace(/.{76}/g, '$&\n');
    expect((await openPushCertificate(wrapped, PASSWORD, NOW)).topic).toBe(TOPIC);
  });
});
