// Setup file of the mutation run only (vitest.mutation.config.ts): the openssl-made keys, certificates and PKCS#12
// files of a test file are made once per run, not once per mutant.
//
// Stryker reruns, for every mutant, only the tests that reached it (a name filter) and with them their files'
// beforeAll hooks, which make certificates with two openssl runs each: seconds per mutant, hours for the certificate
// verifier. Here a request is answered with what an earlier run made for the same request: the same test file, the
// same thing asked for (options, issuer, key, PKCS#12 recipe) and the same rank among the file's identical requests.
// Ranks count identical requests only, so a test run alone under the name filter gets back what it had in the dry
// run although the tests before it did not run (a file-wide count would shift at the first skipped test), and a
// fixture a file makes on first use is found whichever test uses it first. The files live under the sandbox and go
// with it. Nothing of lib/ runs while a certificate is made, so no mutant can change one; a request seen for the
// first time is simply made. Outside a Stryker test runner (vitest run -c vitest.mutation.config.ts by hand) it
// changes nothing.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, expect } from 'vitest';
import { CertificateFactory, type KeyMaterial, type MadeCertificate } from './certificates.ts';
import { OpensslWorkbench, type Pkcs12Request } from './pkcs12.ts';

const CACHE_DIR = resolve('.mutation-fixtures');
const PATCHED = Symbol.for('tollgate.mutation-fixture-cache');

/** How many times the running test file has made each request. */
const seen = new Map<string, number>();

type Issue = (this: CertificateFactory, issuer: MadeCertificate | undefined, options: unknown, kind: string) => MadeCertificate;
type Export = (this: OpensslWorkbench, request: Pkcs12Request) => string;
const factoryPrototype = CertificateFactory.prototype as unknown as { issue: Issue; makeKey: (this: CertificateFactory, keyType: string) => KeyMaterial };
const workbenchPrototype = OpensslWorkbench.prototype as unknown as { exportPkcs12: Export };

if (process.env.STRYKER_MUTATOR_WORKER !== undefined) {
  mkdirSync(CACHE_DIR, { recursive: true });
  // Setup files run again for every test file, and modules may stay loaded between them: wrap only once.
  const marked = factoryPrototype as unknown as Record<symbol, boolean>;
  if (!marked[PATCHED]) {
    marked[PATCHED] = true;
    const makeKey = factoryPrototype.makeKey;
    const issue = factoryPrototype.issue;
    const exportPkcs12 = workbenchPrototype.exportPkcs12;
    factoryPrototype.makeKey = function (this: CertificateFactory, keyType: string) {
      return cachedKey.call(this, makeKey, keyType);
    };
    factoryPrototype.issue = function (this: CertificateFactory, issuer, options, kind) {
      return cachedIssue.call(this, issue, issuer, options, kind);
    };
    workbenchPrototype.exportPkcs12 = function (this: OpensslWorkbench, request: Pkcs12Request) {
      return cachedExport.call(this, exportPkcs12, request);
    };
  }
  beforeAll(() => seen.clear());
}

function cachedKey(this: CertificateFactory, makeKey: (keyType: string) => KeyMaterial, keyType: string): KeyMaterial {
  const keyPath = join(CACHE_DIR, `${requestName(['key', keyType])}.key`);
  const stored = readIfPresent(keyPath);
  if (stored !== undefined) return { keyType: keyType as KeyMaterial['keyType'], keyPath, keyPem: stored };
  const made = makeKey.call(this, keyType);
  writeAtomically(keyPath, made.keyPem);
  return { ...made, keyPath };
}

function cachedIssue(this: CertificateFactory, issue: Issue, issuer: MadeCertificate | undefined, options: unknown, kind: string): MadeCertificate {
  const name = requestName(['certificate', kind, issuer?.fingerprint ?? null, options]);
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

function cachedExport(this: OpensslWorkbench, exportPkcs12: Export, request: Pkcs12Request): string {
  const path = join(CACHE_DIR, `${requestName(['pkcs12', request])}.p12.base64`);
  const stored = readIfPresent(path);
  if (stored !== undefined) return stored;
  const made = exportPkcs12.call(this, request);
  writeAtomically(path, made);
  return made;
}

/** The request's name: its test file, what it asks for, and its rank among the file's identical requests. */
function requestName(request: unknown[]): string {
  const place = JSON.stringify([expect.getState().testPath ?? '', ...request], (_key, value: unknown) =>
    value instanceof Buffer ? value.toString('base64') : value,
  );
  const rank = (seen.get(place) ?? 0) + 1;
  seen.set(place, rank);
  return createHash('sha256').update(`${place}#${rank}`).digest('hex').slice(0, 32);
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
