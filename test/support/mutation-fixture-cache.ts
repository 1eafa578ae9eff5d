// Setup file of the mutation run only (vitest.mutation.config.ts): the openssl-made certificates and keys of a test
// file are made once per run, not once per mutant.
//
// Stryker reruns a test file's covering tests for every mutant, and with them the file's beforeAll, which makes its
// certificates with two openssl runs each: seconds per mutant, hours for the certificate verifier. Here the n-th key
// or certificate a factory of a test file asks for, with the same options and the same issuer, is read back from
// what the first run made (files under the sandbox, removed with it). Nothing of lib/ runs while a certificate is
// made, so no mutant can change one; a mismatch (other options, another issuer) simply makes a new one. Outside a
// Stryker test runner (vitest run -c vitest.mutation.config.ts by hand) it changes nothing.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { CertificateFactory, type KeyMaterial, type MadeCertificate } from './certificates.ts';

const CACHE_DIR = resolve('.mutation-fixtures');

/** The test file whose factory asks, and how many keys and certificates it has asked for so far. */
let caller = '';
let calls = 0;

type Issue = (this: CertificateFactory, issuer: MadeCertificate | undefined, options: unknown, kind: string) => MadeCertificate;
const prototype = CertificateFactory.prototype as unknown as { issue: Issue; makeKey: (keyType: string) => KeyMaterial };
const issue = prototype.issue;
const makeKey = prototype.makeKey;
const create = CertificateFactory.create.bind(CertificateFactory);

if (process.env.STRYKER_MUTATOR_WORKER !== undefined) {
  mkdirSync(CACHE_DIR, { recursive: true });
  // Each test file makes one factory; the count starts again with it (modules may be shared between test files).
  CertificateFactory.create = (prefix?: string) => {
    caller = expect.getState().testPath ?? '';
    calls = 0;
    return create(prefix);
  };
  prototype.makeKey = cachedMakeKey;
  prototype.issue = cachedIssue;
}

function cachedMakeKey(this: CertificateFactory, keyType: string): KeyMaterial {
  const name = keyName(['key', keyType]);
  const keyPath = join(CACHE_DIR, `${name}.key`);
  const stored = readIfPresent(keyPath);
  if (stored !== undefined) return { keyType: keyType as KeyMaterial['keyType'], keyPath, keyPem: stored };
  const made = makeKey.call(this, keyType);
  writeAtomically(keyPath, made.keyPem);
  return { ...made, keyPath };
}

function cachedIssue(this: CertificateFactory, issuer: MadeCertificate | undefined, options: unknown, kind: string): MadeCertificate {
  const name = keyName(['certificate', kind, issuer?.fingerprint ?? null, options]);
  const recordPath = join(CACHE_DIR, `${name}.json`);
  const stored = readIfPresent(recordPath);
  if (stored !== undefined) {
    const record = JSON.parse(stored) as Omit<MadeCertificate, 'der' | 'notBefore' | 'notAfter' | 'issuer'> & { notBefore: string; notAfter: string };
    const der = Buffer.from(record.base64, 'base64');
    return { ...record, der, notBefore: new Date(record.notBefore), notAfter: new Date(record.notAfter), issuer };
  }
  const made = issue.call(this, issuer, options, kind);
  const certPath = join(CACHE_DIR, `${name}.pem`);
  writeAtomically(certPath, made.pem);
  let keyPath = made.keyPath;
  if (!(options as { key?: KeyMaterial }).key) {
    keyPath = join(CACHE_DIR, `${name}.key`);
    writeAtomically(keyPath, made.keyPem);
  }
  const { der: _der, issuer: _issuer, ...record } = { ...made, certPath, keyPath };
  writeAtomically(recordPath, JSON.stringify(record));
  return { ...made, certPath, keyPath };
}

function keyName(parts: unknown[]): string {
  calls += 1;
  const text = JSON.stringify([caller, calls, ...parts], (_key, value: unknown) => (value instanceof Buffer ? value.toString('base64') : value));
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Two test runners share the sandbox: a file is written whole under another name, then renamed. */
function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
