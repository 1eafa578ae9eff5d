// `npm run bench`: the check-in path's costs as ratios against a baseline measured in the same process
// (JSON.parse of the same body), so results compare across machines. Never part of `npm test`. The COLD rows are
// what a device seen for the first time costs (its certificate parsed and its path validated), the warm row what
// every later check-in costs (chain cache hit).
import { performance } from 'node:perf_hooks';
import { parseCheckin } from '../lib/domain/checkin.ts';
import { DeviceCertificateVerifier } from '../lib/domain/device-certificates.ts';
import { extractDeviceIdentity } from '../lib/domain/device-identity.ts';
import { evaluateCheckin } from '../lib/domain/evaluate.ts';
import { DEFAULT_SETTINGS, type Settings } from '../lib/domain/settings.ts';
import { CertificateFactory, deviceCertificateHeader, signBody } from '../test/support/certificates.ts';

function measure(name: string, fn: () => unknown, minMs = 400): { name: string; nsPerOp: number } {
  for (let i = 0; i < 200; i += 1) fn(); // warm-up (JIT)
  let iterations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 100; i += 1) fn();
    iterations += 100;
    elapsed = performance.now() - start;
  }
  return { name, nsPerOp: (elapsed * 1e6) / iterations };
}

const factory = CertificateFactory.create('tollgate-bench-');
try {
  const root = factory.makeRootCa({ cn: 'Bench Root', keyType: 'rsa2048' });
  const device = factory.makeDeviceCertificate(root, { cn: 'BENCH-MAC', keyType: 'rsa2048' });
  const issuing = factory.makeIntermediateCa(root, { cn: 'Bench Issuing CA', keyType: 'ec256' });
  const deviceViaIssuing = factory.makeDeviceCertificate(issuing, { cn: 'BENCH-MAC', keyType: 'ec256' });
  const body = JSON.stringify({
    checkinId: 'c-1',
    deviceId: 'BENCH-MAC',
    clientTime: new Date().toISOString(),
    serverCertificateVerified: true,
    packages: Array.from({ length: 20 }, (_, i) => ({ packageId: `pkg-${i}`, checksum: { type: 'SHA_256', value: 'ab'.repeat(32) } })),
  });
  const rawBody = Buffer.from(body);
  const invalidBody = body.replace(/"ab(ab){31}"\}\}\]/, '"ab"}}]');
  if (invalidBody === body) throw new Error('the refused body must differ from the accepted one');
  const refuse = (text: string) => {
    try {
      parseCheckin(JSON.parse(text));
    } catch (error) {
      return error;
    }
    throw new Error('the refused body was accepted');
  };
  const headers = { 'x-device-certificate': deviceCertificateHeader([device]), 'x-device-signature': signBody(rawBody, device).toString('base64') };
  const headersViaIssuing = {
    'x-device-certificate': deviceCertificateHeader([deviceViaIssuing, issuing]),
    'x-device-signature': signBody(rawBody, deviceViaIssuing).toString('base64'),
  };
  const settings = { ...DEFAULT_SETTINGS, certificateBasedAuthentication: true } as Settings;
  const packages = new Map(Array.from({ length: 20 }, (_, i) => [`pkg-${i}`, { packageId: `pkg-${i}`, name: 'p', checksum: { type: 'SHA_256' as const, value: 'ab'.repeat(32) } }]));
  const warmVerifier = new DeviceCertificateVerifier([root.pem], new Set());
  // CAs parsed once, nothing else remembered: every check-in is a device seen for the first time.
  const uncachedVerifier = new DeviceCertificateVerifier([root.pem], new Set(), { chainCacheSize: 0 });
  const now = new Date();

  const judge = (verifier: () => DeviceCertificateVerifier, presented = headers) => () => {
    const checkin = parseCheckin(JSON.parse(body));
    return evaluateCheckin(
      checkin,
      {
        settings,
        settingsVersion: 1,
        packages,
        identity: (() => {
          const identity = extractDeviceIdentity({ headers: presented });
          return { way: identity.way, ...verifier().verify(identity, { deviceId: checkin.deviceId, body: rawBody, now, maxClockSkewSeconds: 300 }) };
        })(),
      },
      now,
    );
  };

  const baseline = measure('baseline: JSON.parse of the body', () => JSON.parse(body));
  const rows = [
    measure('schema: parseCheckin(JSON.parse(body))', () => parseCheckin(JSON.parse(body))),
    measure('schema, refused: the same body with its last checksum too short', () => refuse(invalidBody)),
    measure('evaluate, certificate auth off', () => evaluateCheckin(parseCheckin(JSON.parse(body)), { settings: DEFAULT_SETTINGS as Settings, settingsVersion: 1, packages, identity: { way: 'NONE', violations: [] } }, now)),
    measure('evaluate + signed request, warm verifier (chain cached)', judge(() => warmVerifier)),
    measure('evaluate + signed request, COLD leaf (leaf parsed, path validated; CAs parsed before)', judge(() => uncachedVerifier)),
    measure('evaluate + signed request, COLD leaf via a presented intermediate', judge(() => uncachedVerifier, headersViaIssuing)),
    measure('evaluate + signed request, COLD verifier (CA and leaf parsed, path validated)', judge(() => new DeviceCertificateVerifier([root.pem], new Set()))),
  ];
  console.log(`${baseline.name}: ${(baseline.nsPerOp / 1000).toFixed(2)} µs/op (ratio 1.0)`);
  for (const row of rows) {
    console.log(`${row.name}: ${(row.nsPerOp / 1000).toFixed(2)} µs/op, ratio ${(row.nsPerOp / baseline.nsPerOp).toFixed(1)}× baseline`);
  }
  const warm = rows[2].nsPerOp;
  const coldLeaf = rows[3].nsPerOp;
  const coldVerifier = rows[5].nsPerOp;
  console.log(`cold leaf / warm: ${(coldLeaf / warm).toFixed(1)}×, cold verifier / warm: ${(coldVerifier / warm).toFixed(1)}× (the caches' gain per check-in)`);
} finally {
  factory.cleanup();
}
