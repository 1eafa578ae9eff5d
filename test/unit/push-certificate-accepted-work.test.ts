// Unit tests for lib/domain/push-certificate.ts: the costliest PKCS#12 files it still opens. The limits refuse an
// attacker's file before any key derivation (push-certificate-limits.test.ts); these are the other side of those
// limits, files real tools export that must keep opening, and each really derives its keys: seconds of CPU per test.
// Kept apart from the limits so that a run that only needs the refusals (npm run mutation, see docs/testing.md)
// does not pay for them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPushCertificate } from '../../lib/domain/push-certificate.ts';
import { copies, editPkcs12, OpensslWorkbench, pushSubject, tinyKeyBag, type MadeCertificate } from '../support/pkcs12.ts';

const UUID = '0b7e4c1d-2f3a-4e5b-8c6d-7e8f9a0b1c2d';
const TOPIC = `com.apple.mgmt.External.${UUID}`;
const PASSWORD = 'correct horse battery staple';
const NOW = new Date();

let bench: OpensslWorkbench;
let push: MadeCertificate;

beforeAll(() => {
  bench = OpensslWorkbench.create();
  push = bench.makeCertificate({ subject: pushSubject(UUID), key: bench.makeKey() });
});

afterAll(() => bench?.cleanup());

describe('push certificate limits: the work accepted', () => {
  it('opens the costliest file accepted (a SHA-512 MAC at 1,000,000 iterations) within a few seconds of CPU', async () => {
    const p12 = bench.exportPkcs12({
      certificate: push,
      password: PASSWORD,
      extraArgs: ['-iter', '1000000', '-macalg', 'sha512', '-certpbe', 'NONE', '-keypbe', 'NONE'],
    });
    const cpu = process.cpuUsage();
    expect((await openPushCertificate(p12, PASSWORD, NOW)).topic).toBe(TOPIC);
    const used = process.cpuUsage(cpu);
    // Measured 2.2 s of CPU; the bound leaves room for slower machines and still shows the work is bounded.
    expect((used.user + used.system) / 1000).toBeLessThan(8000);
  });

  it.each([
    // Java keytool before JDK 12 used 100,000 for the MAC and 50,000 for the bags (300,000 steps here)
    ['-legacy -iter 100000', ['-iter', '100000'], true],
    // Bouncy Castle 1.86 and OWASP's PBKDF2 figure: 600,000 (600,000 MAC steps + 200,000 PBKDF2 steps)
    ['-iter 600000', ['-iter', '600000'], false],
  ])('still opens real exports with high counts (openssl pkcs12 -export %s)', async (_name, extraArgs, isLegacy) => {
    const p12 = bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: isLegacy, extraArgs });
    expect((await openPushCertificate(p12, PASSWORD, NOW)).topic).toBe(TOPIC);
  });

  it("opens a file with 32 bags in all (openssl's certificate and key bags and 30 more key bags, no MAC)", async () => {
    // Without a MAC every key is decrypted as the password check: 31 keys, each within the budget.
    const legacy = bench.exportPkcs12({ certificate: push, password: PASSWORD, legacy: true });
    const p12 = editPkcs12(legacy, PASSWORD, (p12) => {
      p12.macIterations = null;
      p12.safes[1].bags!.push(...copies(tinyKeyBag(2048n, PASSWORD), 30));
    });
    expect((await openPushCertificate(p12, PASSWORD, NOW)).topic).toBe(TOPIC);
  });
});
