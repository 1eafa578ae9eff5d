// `npm run conformance [-- [--verbose] [path/to/limbo.json]]`: the device-certificate verifier against the x509-limbo suite.
//
// Every testcase that applies to a device certificate runs through the real DeviceCertificateVerifier, as limbo
// means it: the peer certificate as the leaf, the untrusted intermediates as presented (mutual TLS, so no request
// signature), the trusted certificates as the configured device CAs (held to every CA rule), validation_time as the
// clock (null: now) with no clock-skew tolerance, and the purpose the testcase asks for. Two device-profile rules
// limbo does not have are set aside and counted separately: clientAuth in the leaf's extended key usage when the
// testcase asks for no purpose, and CN = deviceId (the leaf's own CN is the deviceId). Testcases that do not apply
// are counted by group, each with its reason (docs/conformance.md). One line per disagreement, then
// `N agree, M disagree, K not applicable`; the exit code is 1 when anything disagrees.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCertificateProfile } from '../lib/domain/certificate-extensions.ts';
import { CLIENT_AUTH_EKU, commonNamesOf, DeviceCertificateVerifier } from '../lib/domain/device-certificates.ts';
import { X509Certificate } from 'node:crypto';

interface LimboTestcase {
  id: string;
  conflicts_with: string[];
  features: string[];
  description: string;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  extended_key_usage: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
  max_chain_depth: number | null;
  crls: string[];
}

/** A group of testcases that do not apply to a device certificate, and why. */
interface NotApplicable {
  group: string;
  reason: string;
  applies: (testcase: LimboTestcase) => boolean;
}

/**
 * Where limbo holds two testcases for one situation that disagree (`conflicts_with`), the side that matches API.md's
 * device profile applies and the other does not. Each pair is named here; an unlisted pair stops the run.
 */
const DEVICE_PROFILE_SIDES: Array<{ pair: [string, string]; applies: string; why: string }> = [
  {
    pair: ['rfc5280::ca-as-leaf', 'webpki::ca-as-leaf'],
    applies: 'webpki::ca-as-leaf',
    why: 'a leaf with CA:TRUE or keyCertSign is not a device certificate',
  },
  {
    pair: ['rfc5280::eku::ee-without-eku', 'webpki::eku::ee-without-eku'],
    applies: 'rfc5280::eku::ee-without-eku',
    why: 'the extended key usage must include clientAuth only if it is present',
  },
  {
    pair: ['rfc5280::nc::permitted-dns-match-noncritical', 'webpki::nc::permitted-dns-match-noncritical'],
    applies: 'rfc5280::nc::permitted-dns-match-noncritical',
    why: 'path validation follows RFC 5280, which requires nameConstraints to be critical (the CA/B Forum exception is for the Web PKI)',
  },
];

/** Testcases whose only fault is a server's name: the name comparison is skipped, so they have nothing left to fail. */
const SERVER_NAME_ONLY_FAILURES = new Set([
  'rfc5280::san::underscore-dns',
  'rfc5280::san::ip-in-dns',
  'webpki::san::mismatch-domain-san',
  'webpki::san::mismatch-subdomain-san',
  'webpki::san::mismatch-subdomain-apex-san',
  'webpki::san::mismatch-apex-subdomain-san',
  'webpki::san::public-suffix-wildcard-san',
  'webpki::san::public-suffix-multi-label-wildcard-san',
  'webpki::san::public-suffix-private-namespace-wildcard-san',
  'webpki::san::wildcard-embedded-leftmost-san',
  'webpki::san::wildcard-not-in-leftmost-san',
  'webpki::san::wildcard-match-across-labels-san',
  'webpki::san::wildcard-embedded-ulabel-san',
  'webpki::san::unicode-emoji-san',
  'webpki::san::no-san',
  'webpki::san::san-critical-with-nonempty-subject',
  'webpki::san::san-wildcard-only',
  'webpki::san::san-wildcard-only-tld',
  'webpki::cn::ipv4-hex-mismatch',
  'webpki::cn::ipv4-leading-zeros-mismatch',
  'webpki::cn::ipv6-uppercase-mismatch',
  'webpki::cn::ipv6-uncompressed-mismatch',
  'webpki::cn::ipv6-non-rfc5952-mismatch',
  'webpki::cn::punycode-not-in-san',
  'webpki::cn::utf8-vs-punycode-mismatch',
  'webpki::cn::not-in-san',
  'webpki::cn::case-mismatch',
]);

/** Issuance rules for key identifiers: how a CA should fill them in, not whether a path holds. */
const KEY_IDENTIFIER_FORM = new Set([
  'rfc5280::aki::leaf-missing-aki',
  'rfc5280::aki::intermediate-missing-aki',
  'rfc5280::aki::cross-signed-root-missing-aki',
  'rfc5280::ski::root-missing-ski',
  'rfc5280::ski::intermediate-missing-ski',
  'webpki::aki::root-with-aki-missing-keyidentifier',
  'webpki::aki::root-with-aki-authoritycertissuer',
  'webpki::aki::root-with-aki-authoritycertserialnumber',
  'webpki::aki::root-with-aki-all-fields',
  'webpki::aki::root-with-aki-ski-mismatch',
]);

const NOT_APPLICABLE: NotApplicable[] = [
  {
    group: 'CRLs',
    reason: 'revocation is by SHA-256 fingerprint (PUT /admin/revocations); CRLs are neither fetched nor read',
    applies: (testcase) => testcase.features.includes('has-crl'),
  },
  {
    group: 'serverAuth purpose',
    reason: 'a device certificate is checked for client authentication; these testcases ask whether a server may use it',
    applies: (testcase) => testcase.extended_key_usage.includes('serverAuth'),
  },
  {
    group: 'configurable chain depth',
    reason: 'the longest path is fixed (8 CA certificates), not set per validation as max_chain_depth asks',
    applies: (testcase) => testcase.features.includes('max-chain-depth'),
  },
  {
    group: 'conflicts_with: the other side applies',
    reason: 'of two testcases that contradict each other, the one matching the device profile runs (see DEVICE_PROFILE_SIDES)',
    applies: (testcase) => testcase.conflicts_with.length > 0 && !deviceProfileSideApplies(testcase),
  },
  {
    group: 'CA certificate as leaf, expected to succeed',
    reason: 'API.md: a leaf with CA:TRUE or keyCertSign is not a device certificate, though RFC 5280 lets a CA end a path',
    applies: (testcase) => testcase.expected_result === 'SUCCESS' && leafIsCa(testcase),
  },
  {
    group: 'server names only',
    reason:
      'a device is named by CN = deviceId, not by a host name: the peer-name comparison is skipped, and these ' +
      "testcases fail on nothing but a server's names (SAN/CN matching, wildcards, public suffixes)",
    applies: (testcase) => SERVER_NAME_ONLY_FAILURES.has(testcase.id),
  },
  {
    group: 'key identifier form (AKI/SKI)',
    reason:
      'paths are built from names and proven by signatures; refusing CAs that omit or fill in key identifiers ' +
      'differently would lock out device PKIs and prove nothing more',
    applies: (testcase) => KEY_IDENTIFIER_FORM.has(testcase.id),
  },
  {
    group: 'serial number form',
    reason:
      'CAs still in service issue zero, negative or over-long serial numbers (older Java-based CAs among them); the ' +
      'serial number plays no part in device identity or revocation here',
    applies: (testcase) => testcase.features.includes('pedantic-serial-number'),
  },
  {
    group: 'authorityInfoAccess content',
    reason: 'issuers are never fetched, so the content of a non-critical AIA extension is not judged',
    applies: (testcase) => testcase.id === 'webpki::malformed-aia',
  },
];

function deviceProfileSideApplies(testcase: LimboTestcase): boolean {
  const side = DEVICE_PROFILE_SIDES.find(({ pair }) => pair.includes(testcase.id) && testcase.conflicts_with.every((id) => pair.includes(id)));
  if (!side) throw new Error(`${testcase.id} conflicts with ${testcase.conflicts_with.join(', ')}: decide in DEVICE_PROFILE_SIDES which side applies`);
  return side.applies === testcase.id;
}

function leafIsCa(testcase: LimboTestcase): boolean {
  try {
    return readCertificateProfile(pemToDer(testcase.peer_certificate)).basicConstraints?.ca === true;
  } catch {
    return false;
  }
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64');
}

const PURPOSES: Record<string, string> = { clientAuth: CLIENT_AUTH_EKU };

interface Outcome {
  result: 'SUCCESS' | 'FAILURE';
  /** Violations other than the set-aside CN binding, as `CODE: first reason`. */
  why: string[];
  /** The leaf has no single CN (the CN = deviceId rule would refuse it). */
  cnBindingFails: boolean;
  /** No purpose was asked and the leaf's EKU lacks clientAuth (the device profile's EKU rule would refuse it). */
  clientAuthFails: boolean;
}

function runTestcase(testcase: LimboTestcase): Outcome {
  const requiredExtendedKeyUsage = testcase.extended_key_usage.length === 0 ? null : PURPOSES[testcase.extended_key_usage[0]];
  if (requiredExtendedKeyUsage === undefined || testcase.extended_key_usage.length > 1) {
    throw new Error(`${testcase.id}: purpose ${testcase.extended_key_usage.join(', ')} has no mapping`);
  }
  const verifier = new DeviceCertificateVerifier(testcase.trusted_certs, new Set(), {
    configuredCaConformance: 'enforce',
    requiredExtendedKeyUsage,
  });
  const leafDer = pemToDer(testcase.peer_certificate);
  let commonNames: string[] = [];
  let purposes: string[] | undefined;
  try {
    commonNames = commonNamesOf(new X509Certificate(leafDer).subject);
    purposes = readCertificateProfile(leafDer).extendedKeyUsage?.purposes;
  } catch {
    // an unreadable leaf: the verifier says so below
  }
  const result = verifier.verify(
    { way: 'MTLS', chainDer: [leafDer, ...testcase.untrusted_intermediates.map(pemToDer)] },
    {
      deviceId: commonNames[0] ?? '',
      body: Buffer.alloc(0),
      now: testcase.validation_time === null ? new Date() : new Date(testcase.validation_time),
      maxClockSkewSeconds: 0,
    },
  );
  const judged = result.violations.filter((violation) => violation.code !== 'CLIENT_CERT_DEVICE_MISMATCH');
  return {
    result: judged.length === 0 ? 'SUCCESS' : 'FAILURE',
    why: judged.map((violation) => `${violation.code}: ${Array.isArray(violation.reasons) ? violation.reasons[0] : violation.message}`),
    cnBindingFails: commonNames.length !== 1,
    clientAuthFails: requiredExtendedKeyUsage === null && purposes !== undefined && !purposes.includes(CLIENT_AUTH_EKU),
  };
}

function main(): number {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const path = args.find((arg) => !arg.startsWith('--')) ?? fileURLToPath(new URL('../../shared/limbo/limbo.json', import.meta.url));
  const limbo = JSON.parse(readFileSync(path, 'utf8')) as { version: number; testcases: LimboTestcase[] };
  if (limbo.version !== 1) throw new Error(`limbo schema version ${limbo.version}; this runner reads version 1`);

  let agree = 0;
  let disagree = 0;
  const notApplicable = new Map<NotApplicable, string[]>(NOT_APPLICABLE.map((group) => [group, []]));
  let cnBindingSetAside = 0;
  let clientAuthSetAside = 0;
  const started = performance.now();

  for (const testcase of limbo.testcases) {
    const group = NOT_APPLICABLE.find((candidate) => candidate.applies(testcase));
    if (group) {
      notApplicable.get(group)?.push(testcase.id);
      continue;
    }
    const startedCase = performance.now();
    const outcome = runTestcase(testcase);
    const ms = performance.now() - startedCase;
    if (outcome.cnBindingFails) cnBindingSetAside += 1;
    if (outcome.clientAuthFails) clientAuthSetAside += 1;
    if (outcome.result === testcase.expected_result) {
      agree += 1;
      if (verbose) console.log(`agree      ${testcase.id}: ${outcome.result}${outcome.why.length ? ` (${outcome.why[0]})` : ''} [${ms.toFixed(0)} ms]`);
    } else {
      disagree += 1;
      console.log(`DISAGREE   ${testcase.id}: limbo expects ${testcase.expected_result}, the verifier says ${outcome.result}${outcome.why.length ? ` (${outcome.why.join(' | ')})` : ''}`);
    }
  }

  const skipped = [...notApplicable.values()].reduce((sum, ids) => sum + ids.length, 0);
  console.log('');
  console.log('Not applicable to a device certificate:');
  for (const [group, ids] of notApplicable) console.log(`  ${String(ids.length).padStart(3)}  ${group.group}: ${group.reason}`);
  console.log('Device-profile rules set aside (limbo has no such rule), among the testcases run:');
  console.log(`  ${String(clientAuthSetAside).padStart(3)}  leaves whose extended key usage lacks clientAuth, in testcases that ask for no purpose`);
  console.log(`  ${String(cnBindingSetAside).padStart(3)}  leaves without exactly one CN (the leaf's CN is the deviceId; these have none to bind)`);
  console.log(`(${limbo.testcases.length} testcases in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`${agree} agree, ${disagree} disagree, ${skipped} not applicable`);
  return disagree === 0 ? 0 : 1;
}

process.exitCode = main();
