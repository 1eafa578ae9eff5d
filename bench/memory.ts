// Memory of the check-in judgement over many devices: EVALUATIONS signed check-ins, each from one of DEVICES distinct
// device certificates chosen at random, through one DeviceCertificateVerifier with its default caches (as a warm
// check-in container holds it), sampling the resident set size as it goes. The caches fill after their first
// thousand certificates; from then on the peak must stay flat, not grow with the devices seen.
//
// Run in a fresh process by bench/run.ts (`node --expose-gc --import tsx bench/memory.ts` prints the JSON alone). The certificates are
// one openssl-made device certificate re-issued under distinct serial numbers and signed again by its CA's key with
// node:crypto (thousands of openssl runs would take minutes); each is a different DER and fingerprint.
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { parseCheckin } from '../lib/domain/checkin.ts';
import { DeviceCertificateVerifier } from '../lib/domain/device-certificates.ts';
import { extractDeviceIdentity } from '../lib/domain/device-identity.ts';
import { evaluateCheckin } from '../lib/domain/evaluate.ts';
import { DEFAULT_SETTINGS, type Settings } from '../lib/domain/settings.ts';
import { CertificateFactory, signBody } from '../test/support/certificates.ts';

export interface MemoryMeasure {
  evaluations: number;
  devices: number;
  /** RSS in MiB after each tenth of the run, garbage collected first. */
  rssMiB: number[];
  /** JavaScript heap in use plus external (native) memory, MiB, at the same moments. */
  heapMiB: number[];
  /** The process's peak RSS (MiB) when the caches had just filled (after the first tenth), and at the end. */
  peakAfterFirstTenthMiB: number;
  peakAtEndMiB: number;
  cachedChains: number;
}

/** A DER length's encoding. */
function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const derElement = (tag: number, contents: Buffer) => Buffer.concat([Buffer.from([tag]), derLength(contents.length), contents]);

/** Header length and content length of the DER element at `offset`. */
function readHeader(der: Buffer, offset: number): { header: number; length: number } {
  const first = der[offset + 1];
  if (first < 0x80) return { header: 2, length: first };
  const octets = first & 0x7f;
  return { header: 2 + octets, length: der.readUIntBE(offset + 2, octets) };
}

/**
 * `count` certificates equal to `template` but for their serial numbers (same length, distinct values), each signed
 * again with the issuer's EC key. The template must be ECDSA-SHA256-signed.
 */
function reissue(template: Buffer, issuerKeyPem: string, count: number): Buffer[] {
  const key = createPrivateKey(issuerKeyPem);
  const outer = readHeader(template, 0);
  const tbsStart = outer.header;
  const tbs = readHeader(template, tbsStart);
  const tbsDer = template.subarray(tbsStart, tbsStart + tbs.header + tbs.length);
  const afterTbs = tbsStart + tbsDer.length;
  const algorithm = readHeader(template, afterTbs);
  const algorithmDer = template.subarray(afterTbs, afterTbs + algorithm.header + algorithm.length);
  // TBSCertificate: [0] version, then the serial number INTEGER.
  let offset = tbs.header;
  if (tbsDer[offset] === 0xa0) offset += readHeader(tbsDer, offset).header + readHeader(tbsDer, offset).length;
  const serial = readHeader(tbsDer, offset);
  if (tbsDer[offset] !== 0x02 || serial.length < 5) throw new Error('the template has no serial number of 5 octets or more');
  const serialStart = offset + serial.header;
  const certificates: Buffer[] = [];
  for (let i = 0; i < count; i += 1) {
    const newTbs = Buffer.from(tbsDer);
    newTbs[serialStart] = 0x01; // positive, no leading zero
    newTbs.writeUInt32BE(i, serialStart + serial.length - 4);
    const signature = sign('sha256', newTbs, key);
    const signatureBits = derElement(0x03, Buffer.concat([Buffer.from([0]), signature]));
    certificates.push(derElement(0x30, Buffer.concat([newTbs, algorithmDer, signatureBits])));
  }
  return certificates;
}

export function measureMemory(evaluations = 100_000, devices = 10_000): MemoryMeasure {
  const factory = CertificateFactory.create('tollgate-bench-memory-');
  try {
    const root = factory.makeRootCa({ cn: 'Bench Root', keyType: 'ec256' });
    const device = factory.makeDeviceCertificate(root, { cn: 'BENCH-MAC', keyType: 'ec256' });
    const certificates = reissue(new X509Certificate(device.pem).raw, root.keyPem, devices).map((der) => der.toString('base64'));
    const body = JSON.stringify({ checkinId: 'c-1', deviceId: 'BENCH-MAC', clientTime: new Date().toISOString(), serverCertificateVerified: true });
    const rawBody = Buffer.from(body);
    const signature = signBody(rawBody, device).toString('base64');
    const verifier = new DeviceCertificateVerifier([root.pem], new Set());
    const settings = { ...DEFAULT_SETTINGS, certificateBasedAuthentication: true } as Settings;
    const now = new Date();
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    const rssMiB: number[] = [];
    const heapMiB: number[] = [];
    let peakAfterFirstTenth = 0;
    for (let n = 1; n <= evaluations; n += 1) {
      const headers = { 'x-device-certificate': certificates[Math.floor(random() * devices)], 'x-device-signature': signature };
      const checkin = parseCheckin(JSON.parse(body));
      const identity = extractDeviceIdentity({ headers });
      const verified = verifier.verify(identity, { deviceId: checkin.deviceId, body: rawBody, now, maxClockSkewSeconds: 300 });
      if (verified.violations.length > 0) throw new Error(`a bench device is refused: ${JSON.stringify(verified.violations)}`);
      evaluateCheckin(checkin, { settings, settingsVersion: 1, packages: new Map(), identity: { way: identity.way, ...verified } }, now);
      if (n % (evaluations / 10) === 0) {
        // Collected first (with --expose-gc), so that a sample is what is held, not garbage not yet collected.
        (globalThis as { gc?: () => void }).gc?.();
        const usage = process.memoryUsage();
        rssMiB.push(mib(usage.rss));
        heapMiB.push(mib(usage.heapUsed + usage.external));
        if (rssMiB.length === 1) peakAfterFirstTenth = mib(process.resourceUsage().maxRSS * 1024);
      }
    }
    return {
      evaluations,
      devices,
      rssMiB,
      heapMiB,
      peakAfterFirstTenthMiB: peakAfterFirstTenth,
      peakAtEndMiB: mib(process.resourceUsage().maxRSS * 1024),
      cachedChains: verifier.cachedChainCount,
    };
  } finally {
    factory.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(measureMemory(Number(process.env.BENCH_MEMORY_EVALUATIONS ?? 100_000), Number(process.env.BENCH_MEMORY_DEVICES ?? 10_000))));
}
