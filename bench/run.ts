// `npm run bench`: the check-in path's costs as ratios to a floor measured in the same process, so that results
// compare across machines and survive a loaded one. Never part of `npm test`. The floor is what no implementation of
// a signed check-in can avoid: one RSA-2048 signature verified with a key parsed beforehand, JSON.parse of a 1 KB
// body and one SHA-256 of it. COLD rows are a device seen for the first time (its certificate parsed and its path
// validated, the CA set parsed before), the warm row every later check-in (chain cache hit). Every row is measured
// in each of BENCH_ROUNDS interleaved rounds; the table gives the median ratio and its min–max over the rounds.
// Then: the check-in bundle and the time fresh processes take to import it (bundle.ts), the write units per check-in
// (write-units.ts), and, each in a fresh process, check-ins per second through the local runner against bare DynamoDB
// Local calls (throughput.ts) and memory over 10,000 device certificates (memory.ts). Writes the table to
// bench/RESULTS.md with the machine it ran on.
import { spawnSync } from 'node:child_process';
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import { parseCheckin } from '../lib/domain/checkin.ts';
import { DeviceCertificateVerifier } from '../lib/domain/device-certificates.ts';
import { extractDeviceIdentity } from '../lib/domain/device-identity.ts';
import { evaluateCheckin } from '../lib/domain/evaluate.ts';
import { DEFAULT_SETTINGS, type Settings } from '../lib/domain/settings.ts';
import { CertificateFactory, deviceCertificateHeader, signBody } from '../test/support/certificates.ts';
import { buildCheckinBundle, measureImport, removeBundle } from './bundle.ts';
import type { MemoryMeasure } from './memory.ts';
import { designsFor, steadyCheckin } from './write-units.ts';
import type { ThroughputMeasure } from './throughput.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 150);
const IMPORT_RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 15);

/** This process's CPU time (user + system), in ms. */
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * CPU nanoseconds per call of fn, over at least minMs of CPU time (after a warm-up for the JIT). CPU time rather than
 * wall time: on a shared machine the process is often descheduled, which wall time would count.
 */
function nsPerOp(fn: () => unknown, minMs: number): number {
  for (let i = 0; i < 20; i += 1) fn();
  let iterations = 0;
  const start = cpuMs();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 10; i += 1) fn();
    iterations += 10;
    elapsed = cpuMs() - start;
  }
  return (elapsed * 1e6) / iterations;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const spread = (values: number[], digits: number) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

/** Runs bench/<file> in a fresh Node process (with tsx) and returns the JSON it prints last. */
function runChild<T>(file: string, nodeOptions: string[] = []): T {
  const child = spawnSync(process.execPath, [...nodeOptions, '--no-warnings', '--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`bench/${file} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as T;
}

function throughputRows(measure: ThroughputMeasure): string[] {
  const { rounds, writeUnits: units } = measure;
  const perSecond = (values: number[]) => `${median(values).toFixed(0)}/s`;
  const checkins = rounds.map((r) => r.checkinsPerSecond);
  const setting = `${measure.connections} connections, ${measure.perPhase} calls per phase × ${rounds.length} interleaved rounds`;
  const bytes = units.itemBytes;
  return [
    `| check-ins answered per second through the local runner / bare 3-item \`TransactWriteItems\` of the same items, same DynamoDB Local and client process, ${setting} | ${spread(rounds.map((r) => r.checkinsPerSecond / r.transactionsPerSecond), 2)}× (check-ins ${perSecond(checkins)}, transactions ${perSecond(rounds.map((r) => r.transactionsPerSecond))}; ${measure.unavailable} answered 503) | ≥ 0.8× |`,
    `| the same / bare \`PutItem\` of the status item | ${spread(rounds.map((r) => r.checkinsPerSecond / r.putsPerSecond), 2)}× (puts ${perSecond(rounds.map((r) => r.putsPerSecond))}) |  |`,
    `| CPU per check-in through the local runner (runner, its DynamoDB client and the HTTP client: one process) | ${spread(rounds.map((r) => r.cpuMsPerCheckin), 2)} ms |  |`,
    `| the same, for the check-ins of this run (no packages, unsigned), read back from DynamoDB Local: claim ${bytes.idempotency} B, decision ${bytes.decision} B, status ${bytes.status} B, status index entry ${bytes.statusIndexEntry} B | ${units.singleWrites + units.index} WRU: three single writes ${units.singleWrites} + the index entry moved (delete + put) ${units.index}; as one transaction ${units.transaction + units.index} |  |`,
  ];
}

/** The write units of the check-in the service records (signed, a push topic, 5 packages), by bench/write-units.ts. */
async function writeUnitsRow(): Promise<string> {
  const { decision, response, binding } = await steadyCheckin(5);
  const designs = designsFor(decision, response, binding);
  const kept = designs.find((d) => d.name.startsWith('kept:'));
  const before = designs.find((d) => d.name.startsWith('before:'));
  if (!kept || !before) throw new Error('bench/write-units.ts names no kept and no former design');
  const writes = kept.writes.map((w) => `${w.what} ${w.bytes} B → ${w.units}`).join('; ');
  return `| write units per steady-state check-in (signed, push topic, 5 packages), from the sizes of the items written (bench/write-units.ts) | ${kept.units} WRU: ${writes} (before: ${before.units}, one transaction) | ≤ 4, or the reason |`;
}

function memoryRow(measure: MemoryMeasure): string {
  const tenths = measure.rssMiB.join(', ');
  return (
    `| memory: ${measure.evaluations.toLocaleString('en')} signed check-ins judged over ${measure.devices.toLocaleString('en')} distinct device certificates (one verifier, default caches: ${measure.cachedChains} chains held at the end) | ` +
    `RSS after each tenth, collected first: ${tenths} MiB (heap + external ${measure.heapMiB[0]}–${Math.max(...measure.heapMiB)} MiB); peak RSS ${measure.peakAfterFirstTenthMiB} MiB after the first tenth, ${measure.peakAtEndMiB} MiB at the end | flat once the caches are full |`
  );
}

const loadAtStart = loadavg();
const factory = CertificateFactory.create('tollgate-bench-');
try {
  const root = factory.makeRootCa({ cn: 'Bench Root', keyType: 'rsa2048' });
  const device = factory.makeDeviceCertificate(root, { cn: 'BENCH-MAC', keyType: 'rsa2048' });
  const issuing = factory.makeIntermediateCa(root, { cn: 'Bench Issuing CA', keyType: 'ec256' });
  const deviceViaIssuing = factory.makeDeviceCertificate(issuing, { cn: 'BENCH-MAC', keyType: 'ec256' });
  // About 1 KB, as the floor is defined.
  const body = JSON.stringify({
    checkinId: 'c-1',
    deviceId: 'BENCH-MAC',
    clientTime: new Date().toISOString(),
    serverCertificateVerified: true,
    packages: Array.from({ length: 7 }, (_, i) => ({ packageId: `pkg-${i}`, checksum: { type: 'SHA_256', value: 'ab'.repeat(32) } })),
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
  const signature = signBody(rawBody, device);
  const headers = { 'x-device-certificate': deviceCertificateHeader([device]), 'x-device-signature': signature.toString('base64') };
  // A request's headers are new strings every time (its event is parsed anew), whose hash V8 has yet to compute: the
  // warm rows present them so (a copy of ≈ 1,700 characters, ≈ 0.2 µs), not the same string objects again.
  const certificateHeaderBytes = Buffer.from(headers['x-device-certificate'], 'latin1');
  const signatureHeaderBytes = Buffer.from(headers['x-device-signature'], 'latin1');
  const requestHeaders = () => ({
    'x-device-certificate': certificateHeaderBytes.toString('latin1'),
    'x-device-signature': signatureHeaderBytes.toString('latin1'),
  });
  const headersViaIssuing = {
    'x-device-certificate': deviceCertificateHeader([deviceViaIssuing, issuing]),
    'x-device-signature': signBody(rawBody, deviceViaIssuing).toString('base64'),
  };
  const settings = { ...DEFAULT_SETTINGS, certificateBasedAuthentication: true } as Settings;
  const packages = new Map(
    Array.from({ length: 7 }, (_, i) => [`pkg-${i}`, { packageId: `pkg-${i}`, name: 'p', checksum: { type: 'SHA_256' as const, value: 'ab'.repeat(32) } }]),
  );
  const warmVerifier = new DeviceCertificateVerifier([root.pem], new Set());
  // CAs parsed once, nothing else remembered: every check-in is a device seen for the first time.
  const uncachedVerifier = new DeviceCertificateVerifier([root.pem], new Set(), { chainCacheSize: 0 });
  // The same with one revocation (of a certificate not on the path): every ECDSA-signed certificate then also has its
  // signature-encoding twins computed, so that a revocation written with either encoding applies.
  const uncachedRevokingVerifier = new DeviceCertificateVerifier([root.pem], new Set(['00'.repeat(32)]), { chainCacheSize: 0 });
  const now = new Date();

  const judge = (verifier: () => DeviceCertificateVerifier, presented: () => Record<string, string> = () => headers) => () => {
    const checkin = parseCheckin(JSON.parse(body));
    const identity = extractDeviceIdentity({ headers: presented() });
    const verified = verifier().verify(identity, { deviceId: checkin.deviceId, body: rawBody, now, maxClockSkewSeconds: 300 });
    if (verified.violations.length > 0) throw new Error(`the bench device is refused: ${JSON.stringify(verified.violations)}`);
    return evaluateCheckin(checkin, { settings, settingsVersion: 1, packages, identity: { way: identity.way, ...verified } }, now);
  };

  // The warm row's steps, each measured alone on the values the step before it gives (made once here).
  const parsedCheckin = parseCheckin(JSON.parse(body));
  const presentedIdentity = extractDeviceIdentity({ headers });
  const verifiedOnce = warmVerifier.verify(presentedIdentity, { deviceId: parsedCheckin.deviceId, body: rawBody, now, maxClockSkewSeconds: 300 });

  // The floor's key is parsed once, as a verifier's would be.
  const devicePublicKey = new X509Certificate(device.pem).publicKey;
  const floor = () => {
    JSON.parse(body);
    createHash('sha256').update(rawBody).digest();
    if (!verifySignature('sha256', rawBody, devicePublicKey, signature)) throw new Error('the floor signature does not verify');
  };

  // The cold check as most tutorials write it: node-forge parses the leaf, checks its chain to the CA store (parsed
  // before, like the native verifier's CA set) and the body's signature, then the same schema and judgement.
  const forgeCaStore = forge.pki.createCaStore([root.pem]);
  const forgeSignature = signature.toString('binary');
  const forgeCold = () => {
    const checkin = parseCheckin(JSON.parse(body));
    const der = Buffer.from(headers['x-device-certificate'], 'base64').toString('binary');
    const leaf = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der));
    forge.pki.verifyCertificateChain(forgeCaStore, [leaf]);
    const digest = forge.md.sha256.create().update(rawBody.toString('binary'));
    if (!(leaf.publicKey as forge.pki.rsa.PublicKey).verify(digest.digest().bytes(), forgeSignature)) throw new Error('forge: bad signature');
    if (leaf.subject.getField('CN').value !== checkin.deviceId) throw new Error('forge: another device');
    return evaluateCheckin(checkin, { settings, settingsVersion: 1, packages, identity: { way: 'CERTIFICATE_HEADER', violations: [] } as never }, now);
  };

  const rows: { name: string; fn: () => unknown; target?: string }[] = [
    { name: 'schema: parseCheckin(JSON.parse(body))', fn: () => parseCheckin(JSON.parse(body)) },
    { name: 'schema, refused: the same body with its last checksum too short', fn: () => refuse(invalidBody) },
    {
      name: 'evaluate, certificate auth off',
      fn: () => evaluateCheckin(parseCheckin(JSON.parse(body)), { settings: DEFAULT_SETTINGS as Settings, settingsVersion: 1, packages, identity: { way: 'NONE', violations: [] } }, now),
    },
    { name: 'signed check-in judged, chain cached (warm)', fn: judge(() => warmVerifier, requestHeaders), target: '≤ 1.5×' },
    { name: 'warm step alone: identity headers read (new strings, as a request\'s)', fn: () => extractDeviceIdentity({ headers: requestHeaders() }) },
    {
      name: 'warm step alone: verifier on the cached chain, with the body\'s signature',
      fn: () => warmVerifier.verify(presentedIdentity, { deviceId: parsedCheckin.deviceId, body: rawBody, now, maxClockSkewSeconds: 300 }),
    },
    {
      name: 'warm step alone: evaluateCheckin of the verified check-in',
      fn: () => evaluateCheckin(parsedCheckin, { settings, settingsVersion: 1, packages, identity: { way: presentedIdentity.way, ...verifiedOnce } }, now),
    },
    { name: 'signed check-in judged, COLD leaf (CA set parsed before)', fn: judge(() => uncachedVerifier), target: '≤ 10×' },
    { name: 'the same COLD leaf check with node-forge', fn: forgeCold, target: 'native ≥ 4× faster' },
    { name: 'COLD leaf via a presented intermediate', fn: judge(() => uncachedVerifier, () => headersViaIssuing) },
    { name: 'COLD leaf via a presented intermediate, a revocation configured (ECDSA signature twins checked)', fn: judge(() => uncachedRevokingVerifier, () => headersViaIssuing) },
    { name: 'COLD verifier (CA and leaf parsed, path validated)', fn: judge(() => new DeviceCertificateVerifier([root.pem], new Set())) },
  ];
  const only = process.env.BENCH_ONLY;
  const selected = only ? rows.filter((row) => row.name.includes(only)) : rows;

  const floorNs: number[] = [];
  const ratios = new Map<string, number[]>(selected.map((row) => [row.name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    const floorThisRound = nsPerOp(floor, ROUND_MS);
    floorNs.push(floorThisRound);
    for (const row of selected) ratios.get(row.name)!.push(nsPerOp(row.fn, ROUND_MS) / floorThisRound);
  }
  const floorUs = median(floorNs) / 1000;

  const table: string[] = [
    '| what | median (min–max) | target |',
    '|---|---|---|',
    `| floor: RSA-2048 \`crypto.verify\` (key parsed before) + \`JSON.parse\` of the ${rawBody.length}-byte body + one SHA-256 | ${spread(floorNs.map((ns) => ns / 1000), 1)} µs | — |`,
  ];
  for (const row of selected) {
    const values = ratios.get(row.name)!;
    table.push(`| ${row.name} | ${spread(values, 2)}× floor (≈ ${((median(values) * floorUs)).toFixed(0)} µs) | ${row.target ? `${row.target} floor`.replace('faster floor', 'faster') : ''} |`);
  }
  // The warm row against its steps measured alone (schema, identity, verifier, evaluate), per round.
  const warmSteps = [
    'schema: parseCheckin(JSON.parse(body))',
    'warm step alone: identity headers read (new strings, as a request\'s)',
    'warm step alone: verifier on the cached chain, with the body\'s signature',
    'warm step alone: evaluateCheckin of the verified check-in',
  ].map((name) => ratios.get(name));
  const warmRatios = ratios.get('signed check-in judged, chain cached (warm)');
  if (warmRatios && warmSteps.every((step) => step)) {
    const summed = warmRatios.map((_, i) => warmSteps.reduce((sum, step) => sum + step![i], 0));
    table.push(
      `| the warm row's four steps measured alone, summed (per round) | ${spread(summed, 2)}× floor (≈ ${(median(summed) * floorUs).toFixed(0)} µs) |  |`,
      `| the warm row / its steps summed (per round) | ${spread(warmRatios.map((w, i) => w / summed[i]), 2)}× |  |`,
    );
  }
  const forgeRatios = ratios.get('the same COLD leaf check with node-forge');
  const coldRatios = ratios.get('signed check-in judged, COLD leaf (CA set parsed before)');
  if (forgeRatios && coldRatios) {
    table.push(`| node-forge / native, cold leaf (per round) | ${spread(forgeRatios.map((f, i) => f / coldRatios[i]), 2)}× | ≥ 4× |`);
  }

  if (!only) {
    const bundle = await buildCheckinBundle();
    try {
      const imports = measureImport(bundle.file, IMPORT_RUNS);
      const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
      const largest = bundle.byPackage.slice(0, 6).map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ');
      table.push(
        `| check-in bundle (serverless.yml's custom.esbuild), minified | ${kb(bundle.bytes)}, of which ${kb(bundle.lazyBytes)} ASN.1 code evaluated only on the first new certificate and ${kb(bundle.ssmBytes)} SSM client evaluated only when a parameter is read, ${kb(bundle.atImportBytes)} evaluated at import (+ ${kb(bundle.mapBytes)} map); largest: ${largest} | ≤ 250 KB |`,
        `| importing it in a fresh process minus a bare one, wall (${IMPORT_RUNS} interleaved) | ${spread(imports.wallMs, 1)} ms (bare process ${median(imports.bareWallMs).toFixed(0)} ms) | ≤ 40 ms |`,
        `| the same, CPU time (user + system) | ${spread(imports.cpuMs, 1)} ms (bare process ${median(imports.bareCpuMs).toFixed(0)} ms; the import ${spread(imports.cpuMs.map((ms, i) => ms / imports.bareCpuMs[i]), 2)}× a bare process) | ≤ 40 ms |`,
      );
    } finally {
      removeBundle(bundle);
    }
    table.push(await writeUnitsRow());
    table.push(...throughputRows(runChild<ThroughputMeasure>('throughput.ts')), memoryRow(runChild<MemoryMeasure>('memory.ts', ['--expose-gc'])));
  }

  const loadAtEnd = loadavg();
  const cpu = cpus();
  const machine = [
    `- CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version} (${process.platform} ${process.arch})`,
    `- Load average (1, 5, 15 min) at start ${loadAtStart.map((l) => l.toFixed(1)).join(', ')}, at end ${loadAtEnd.map((l) => l.toFixed(1)).join(', ')}`,
    `- ${ROUNDS} rounds of ${ROUND_MS} ms per row; import: ${IMPORT_RUNS} interleaved pairs of fresh processes`,
    `- ${new Date().toISOString()}`,
  ];
  const report = [
    '# Benchmark results',
    '',
    'Ratios of CPU time to the floor measured in the same process and the same round, so they compare across machines;',
    'the median over the rounds, with the min–max. Import times are absolute, and a loaded machine inflates them: read',
    'the CPU row, and its ratio to a bare process started in the same loop.',
    '',
    'Rerun: `npm run bench` (BENCH_ROUNDS, BENCH_ROUND_MS, BENCH_IMPORT_RUNS, BENCH_THROUGHPUT_CHECKINS (per phase),',
    'BENCH_MEMORY_EVALUATIONS and BENCH_MEMORY_DEVICES to change the repetitions; BENCH_ONLY=text for the in-process rows',
    'whose name contains text, without the other rows and without writing this file). The machine is shared: the load',
    'average at the start and the end of the run is below; the ratios hold better than the absolute times under load.',
    '',
    '## Machine',
    '',
    ...machine,
    '',
    '## Results',
    '',
    ...table,
    '',
  ].join('\n');
  console.log(report);
  if (!only) writeFileSync(new URL('./RESULTS.md', import.meta.url), report);
} finally {
  factory.cleanup();
}
