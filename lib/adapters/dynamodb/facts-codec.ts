// A check-in's observations (`facts`) as a compact JSON string, for the items the check-in writes (the decision and
// the device status): about a third of the size of the same facts as a DynamoDB map, so that both items stay under
// the 1 KB a write unit covers. Lossless for any Observations: values a rule may not expect (an unknown outcome, a
// field added later) are kept verbatim, never dropped. Reading accepts the map form of items written before.
import { CHECKSUM_TYPES } from '../../domain/checkin.ts';
import { type Observations, type PackageObservation, type PackageOutcome, roundSkewSeconds } from '../../domain/observations.ts';

const OUTCOMES: readonly PackageOutcome[] = ['MATCH', 'MISMATCH', 'MISSING', 'WRONG_TYPE', 'NOT_REGISTERED', 'NO_CHECKSUM_ON_RECORD'];
const PHASES = ['CHECKIN', 'ENROLLMENT'] as const;
const KNOWN_FIELDS = new Set(['clientTime', 'serverTime', 'skewSeconds', 'skewMilliseconds', 'phase', 'serverCertificateVerified', 'packages', 'pushTopic', 'expectedPushTopic', 'identity']);
const PACKAGE_FIELDS = new Set(['packageId', 'checksumType', 'outcome', 'expectedChecksumType']);

/** One digit for a known value, '-' for none; undefined when the value is not one of `values` (kept verbatim then). */
function digit(value: string | undefined, values: readonly string[]): string | undefined {
  if (value === undefined) return '-';
  const index = values.indexOf(value);
  return index < 0 ? undefined : String(index);
}

/** `<outcome><reported type><expected type><packageId>`, or the observation itself when it does not fit that form. */
function encodePackage(p: PackageObservation): string | PackageObservation {
  const outcome = digit(p.outcome, OUTCOMES);
  const reported = digit(p.checksumType, CHECKSUM_TYPES);
  const expected = digit(p.expectedChecksumType, CHECKSUM_TYPES);
  const plain = Object.keys(p).every((key) => PACKAGE_FIELDS.has(key));
  if (!plain || outcome === undefined || outcome === '-' || reported === undefined || expected === undefined || typeof p.packageId !== 'string') return p;
  return `${outcome}${reported}${expected}${p.packageId}`;
}

function decodePackage(entry: string | PackageObservation): PackageObservation {
  if (typeof entry !== 'string') return entry;
  const type = (d: string) => (d === '-' ? undefined : CHECKSUM_TYPES[Number(d)]);
  const checksumType = type(entry[1]);
  const expectedChecksumType = type(entry[2]);
  return {
    packageId: entry.slice(3),
    ...(checksumType ? { checksumType } : {}),
    outcome: OUTCOMES[Number(entry[0])],
    ...(expectedChecksumType ? { expectedChecksumType } : {}),
  };
}

interface CompactFacts {
  c: string;
  /** serverTime, when it is not the evaluation time. */
  s?: string;
  k: number;
  /** skewSeconds, when it is not skewMilliseconds rounded as the domain rounds it. */
  r?: number;
  p: number | string;
  v: boolean;
  g: (string | PackageObservation)[];
  t?: string;
  /** expectedPushTopic, or 1 when it equals pushTopic. */
  e?: string | 1;
  i: Observations['identity'];
  /** Fields this codec does not know, verbatim. */
  x?: Record<string, unknown>;
}

/** The facts as stored; `evaluatedAt` is stored beside them on both items (their serverTime, nearly always). */
export function encodeFacts(facts: Observations, evaluatedAt: string): string {
  const phase = PHASES.indexOf(facts.phase);
  const compact: CompactFacts = {
    c: facts.clientTime,
    ...(facts.serverTime === evaluatedAt ? {} : { s: facts.serverTime }),
    k: facts.skewMilliseconds,
    ...(facts.skewSeconds === roundSkewSeconds(facts.skewMilliseconds) ? {} : { r: facts.skewSeconds }),
    p: phase < 0 ? facts.phase : phase,
    v: facts.serverCertificateVerified,
    g: facts.packages.map(encodePackage),
    ...(facts.pushTopic === undefined ? {} : { t: facts.pushTopic }),
    ...(facts.expectedPushTopic === undefined ? {} : { e: facts.expectedPushTopic === facts.pushTopic ? 1 : facts.expectedPushTopic }),
    i: facts.identity,
  };
  const unknown = Object.entries(facts).filter(([key]) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) compact.x = Object.fromEntries(unknown);
  return JSON.stringify(compact);
}

/** The facts as they were recorded: a compact string from encodeFacts, or the map of an item written before it. */
export function decodeFacts(stored: unknown, evaluatedAt: string): Observations | undefined {
  if (stored === undefined || stored === null) return undefined;
  if (typeof stored !== 'string') return stored as Observations;
  const compact = JSON.parse(stored) as CompactFacts;
  return {
    clientTime: compact.c,
    serverTime: compact.s ?? evaluatedAt,
    skewSeconds: compact.r ?? roundSkewSeconds(compact.k),
    skewMilliseconds: compact.k,
    phase: (typeof compact.p === 'number' ? PHASES[compact.p] : compact.p) as Observations['phase'],
    serverCertificateVerified: compact.v,
    packages: compact.g.map(decodePackage),
    ...(compact.t === undefined ? {} : { pushTopic: compact.t }),
    ...(compact.e === undefined ? {} : { expectedPushTopic: compact.e === 1 ? (compact.t as string) : compact.e }),
    identity: compact.i,
    ...compact.x,
  };
}
