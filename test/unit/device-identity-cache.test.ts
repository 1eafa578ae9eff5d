// Unit tests: presented chains remembered by their exact text (lib/domain/device-identity.ts). A device presents the
// same certificate text at every check-in; the decoding is remembered so that a warm device's identity costs a
// lookup, and it must give exactly what decoding gives. Remembered chains hand out the same Buffer objects, which is
// how these tests tell a remembered decoding from a fresh one.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractDeviceIdentity,
  presentedFingerprint,
  REMEMBERED_PRESENTATIONS,
  type PresentedIdentity,
} from '../../lib/domain/device-identity.ts';
import { CertificateFactory, deviceCertificateHeader, pemBundle, type MadeCertificate } from '../support/certificates.ts';

let factory: CertificateFactory;
let root: MadeCertificate;
let intermediate: MadeCertificate;
let leaf: MadeCertificate;
let other: MadeCertificate;

beforeAll(() => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Identity Cache Root', keyType: 'ec256' });
  intermediate = factory.makeIntermediateCa(root, { cn: 'Identity Cache Issuing CA', keyType: 'ec256' });
  leaf = factory.makeDeviceCertificate(intermediate, { cn: 'CACHE-MAC-1', keyType: 'ec256' });
  other = factory.makeDeviceCertificate(intermediate, { cn: 'CACHE-MAC-2', key: leaf });
});

afterAll(() => factory?.cleanup());

const sha256 = (der: Buffer) => createHash('sha256').update(der).digest('hex');
const signed = (certificateHeader: string) => extractDeviceIdentity({ headers: { 'x-device-certificate': certificateHeader } });
const chainOf = (identity: PresentedIdentity): Buffer[] => {
  if (!('chainDer' in identity)) throw new Error(`no chain: ${JSON.stringify(identity)}`);
  return identity.chainDer;
};
/** A header value no other test uses: base64 of some bytes (decoding does not ask for a certificate). */
const distinctHeader = (label: string) => Buffer.from(`presentation ${label}`).toString('base64');

describe('the same text presented again', () => {
  it('gives the same chain, from the same remembered bytes, with each DER fingerprinted once decoded', () => {
    const header = deviceCertificateHeader([leaf, intermediate]);
    const first = chainOf(signed(header));
    const again = chainOf(signed(header));

    expect(first).toEqual([leaf.der, intermediate.der]);
    expect(again).toEqual([leaf.der, intermediate.der]);
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    expect(presentedFingerprint(again[0])).toBe(sha256(leaf.der));
    expect(presentedFingerprint(again[1])).toBe(sha256(intermediate.der));
  });

  it('gives each caller its own list, so that changing one list changes no later presentation', () => {
    const header = deviceCertificateHeader([other]);
    chainOf(signed(header)).push(intermediate.der);
    expect(chainOf(signed(header))).toEqual([other.der]);
  });

  it('is remembered from a text with another spelling (a copy of the string) just the same', () => {
    const header = deviceCertificateHeader([leaf]);
    const first = chainOf(signed(header));
    const copy = [...header].join('');
    expect(chainOf(signed(copy))[0]).toBe(first[0]);
  });
});

describe('different texts', () => {
  it('give their own chains', () => {
    expect(chainOf(signed(deviceCertificateHeader([leaf])))).toEqual([leaf.der]);
    expect(chainOf(signed(deviceCertificateHeader([other])))).toEqual([other.der]);
    expect(chainOf(signed(deviceCertificateHeader([other, intermediate])))).toEqual([other.der, intermediate.der]);
  });

  it('of two devices checking in by turns are both remembered (neither takes the other\'s place)', () => {
    const [one, two] = [deviceCertificateHeader([leaf]), deviceCertificateHeader([other, intermediate])];
    const [oneFirst, twoFirst] = [chainOf(signed(one)), chainOf(signed(two))];
    const [oneAgain, twoAgain] = [chainOf(signed(one)), chainOf(signed(two))];
    expect(oneAgain[0]).toBe(oneFirst[0]);
    expect(twoAgain[0]).toBe(twoFirst[0]);
    expect(twoAgain[1]).toBe(twoFirst[1]);
  });

  it('that share their length, first and last characters give their own chains, and take each other\'s place', () => {
    // Looked up by length, first 64 and last 64 characters, then compared whole.
    const around = 'A'.repeat(96);
    const first = `${around}${Buffer.from('first middle').toString('base64')}${around}`;
    const second = `${around}${Buffer.from('other middle').toString('base64')}${around}`;
    expect(first.length).toBe(second.length);
    const bytes = (text: string) => Buffer.from(text, 'base64');

    const firstDer = chainOf(signed(first))[0];
    expect(firstDer).toEqual(bytes(first));
    expect(chainOf(signed(second))).toEqual([bytes(second)]);
    const firstAgain = chainOf(signed(first))[0];
    expect(firstAgain).toEqual(bytes(first));
    expect(firstAgain).not.toBe(firstDer);
  });

  it('are remembered per way: a text one way decodes is decoded anew, and refused, by a way that cannot read it', () => {
    // Base64 DER is an X-Device-Certificate value but no PEM, so as a mutual TLS certificate it is unreadable.
    const base64 = leaf.base64;
    expect(chainOf(signed(base64))).toEqual([leaf.der]);
    expect(extractDeviceIdentity({ clientCertPem: base64, headers: {} })).toEqual({ way: 'MTLS', unparseable: true });
    expect(chainOf(signed(base64))).toEqual([leaf.der]);
  });

  it('that are the same PEM presented two ways give the same chain by each', () => {
    const pem = pemBundle([leaf, intermediate]);
    expect(chainOf(extractDeviceIdentity({ clientCertPem: pem, headers: {} }))).toEqual([leaf.der, intermediate.der]);
    expect(chainOf(signed(pem))).toEqual([leaf.der, intermediate.der]);
    expect(chainOf(extractDeviceIdentity({ clientCertPem: pem, headers: {} }))).toEqual([leaf.der, intermediate.der]);
  });
});

describe('a text that cannot be decoded', () => {
  it.each<[name: string, header: () => string]>([
    ['not base64', () => 'not*base64'],
    ['more certificates than a chain may have', () => Array.from({ length: 11 }, () => leaf.base64).join(',')],
    ['a broken PEM block', () => '-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----'],
  ])('is refused every time it is presented: %s', (_name, header) => {
    for (let time = 0; time < 3; time += 1) expect(signed(header())).toEqual({ way: 'SIGNED_REQUEST', unparseable: true });
  });

  it('is refused as mutual TLS every time, although its text was once a valid header', () => {
    const header = deviceCertificateHeader([intermediate]);
    expect(chainOf(signed(header))).toEqual([intermediate.der]);
    for (let time = 0; time < 2; time += 1) {
      expect(extractDeviceIdentity({ clientCertPem: header, headers: {} })).toEqual({ way: 'MTLS', unparseable: true });
    }
  });
});

describe('how many texts are remembered', () => {
  it(`keeps at most ${REMEMBERED_PRESENTATIONS}: a text presented again outlives one presented once after it, which is decoded anew`, () => {
    const kept = distinctHeader('kept');
    const dropped = distinctHeader('dropped');
    const keptDer = chainOf(signed(kept))[0];
    const droppedDer = chainOf(signed(dropped))[0];
    // `dropped` is now the older of the two: presenting `kept` again makes it the most recent.
    expect(chainOf(signed(kept))[0]).toBe(keptDer);
    for (let i = 0; i < REMEMBERED_PRESENTATIONS - 1; i += 1) signed(distinctHeader(`filler ${i}`));

    const keptAgain = chainOf(signed(kept))[0];
    const droppedAgain = chainOf(signed(dropped))[0];
    expect(keptAgain).toBe(keptDer);
    expect(droppedAgain).not.toBe(droppedDer);
    expect(droppedAgain).toEqual(droppedDer);
    expect(presentedFingerprint(droppedAgain)).toBe(sha256(droppedDer));
  });
});

describe('presentedFingerprint', () => {
  it('is the SHA-256 of DER bytes that were never presented as well', () => {
    const bytes = Buffer.from(leaf.der);
    expect(presentedFingerprint(bytes)).toBe(sha256(leaf.der));
    expect(presentedFingerprint(Buffer.from('not a certificate'))).toBe(sha256(Buffer.from('not a certificate')));
  });
});
