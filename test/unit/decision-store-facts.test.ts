// The compact form of a check-in's facts: whatever the observations, reading them back gives them exactly, and the
// common check-in's facts take a fraction of their map form.
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemSize } from '../../bench/write-units.ts';
import { decodeFacts, encodeFacts } from '../../lib/adapters/dynamodb/facts-codec.ts';
import type { Observations } from '../../lib/domain/observations.ts';
import { makeDecision } from '../support/decisions.ts';

const AT = '2026-11-25T18:00:00.000Z';
const base = makeDecision().facts;
const topic = 'com.apple.mgmt.External.12345678-1234-1234-1234-123456789012';

describe('encodeFacts / decodeFacts', () => {
  it.each<[string, Observations]>([
    ['the plain check-in', base],
    ['server time other than the evaluation time', { ...base, serverTime: '2026-11-25T18:00:00.001Z' }],
    ['a skew with a fraction of a millisecond', { ...base, skewMilliseconds: -1234.5, skewSeconds: -1.2 }],
    ['skew seconds that are not the rounded milliseconds', { ...base, skewMilliseconds: 400, skewSeconds: 7 }],
    ['enrollment, certificate not verified', { ...base, phase: 'ENROLLMENT', serverCertificateVerified: false }],
    ['an unknown phase', { ...base, phase: 'LATER' as Observations['phase'] }],
    [
      'every package outcome, with and without checksum types',
      {
        ...base,
        packages: [
          { packageId: 'com.jamf.connect', checksumType: 'SHA_256', outcome: 'MATCH', expectedChecksumType: 'SHA_256' },
          { packageId: '7zip', checksumType: 'MD5', outcome: 'WRONG_TYPE', expectedChecksumType: 'SHA_512' },
          { packageId: 'a', outcome: 'MISSING', expectedChecksumType: 'MD5' },
          { packageId: 'b', checksumType: 'SHA_512', outcome: 'MISMATCH', expectedChecksumType: 'SHA_512' },
          { packageId: 'c', checksumType: 'SHA_256', outcome: 'NOT_REGISTERED' },
          { packageId: 'd', outcome: 'NO_CHECKSUM_ON_RECORD' },
        ],
      },
    ],
    ['a package outcome this codec does not know', { ...base, packages: [{ packageId: 'x', outcome: 'LATER' as 'MATCH' }] }],
    ['a package with a field this codec does not know', { ...base, packages: [{ packageId: 'x', outcome: 'MATCH', size: 3 } as never] }],
    ['the push topic as expected', { ...base, pushTopic: topic, expectedPushTopic: topic }],
    ['another push topic', { ...base, pushTopic: 'com.apple.mgmt.other', expectedPushTopic: topic }],
    ['only the expected push topic', { ...base, expectedPushTopic: topic }],
    ['only a reported push topic', { ...base, pushTopic: topic }],
    ['an identity with a fingerprint and violations', { ...base, identity: { way: 'MTLS', fingerprint: 'ab'.repeat(32), violations: [{ code: 'CLIENT_CERT_EXPIRED', message: 'm', fingerprint: 'ab'.repeat(32) }] } }],
    ['a field this codec does not know', { ...base, osVersion: '15.1' } as Observations],
  ])('%s reads back exactly', (_case, facts) => {
    expect(decodeFacts(encodeFacts(facts, AT), AT)).toStrictEqual(facts);
  });

  it('reads the map form of facts recorded before, and nothing as nothing', () => {
    expect(decodeFacts(base, AT)).toEqual(base);
    expect(decodeFacts(undefined, AT)).toBeUndefined();
  });

  it('takes less than half the bytes of the map form for a check-in with five packages, a push topic and a certificate', () => {
    const facts: Observations = {
      ...base,
      packages: ['com.jamf.connect', 'com.microsoft.teams2', 'com.google.Chrome', 'org.mozilla.firefox', 'com.crowdstrike.falcon'].map((packageId) => ({
        packageId,
        checksumType: 'SHA_256' as const,
        outcome: 'MATCH' as const,
        expectedChecksumType: 'SHA_256' as const,
      })),
      pushTopic: topic,
      expectedPushTopic: topic,
      identity: { way: 'SIGNED_REQUEST', fingerprint: 'ab'.repeat(32), violations: [] },
    };
    const mapBytes = itemSize(marshall({ facts }));
    expect(itemSize(marshall({ facts: encodeFacts(facts, AT) }))).toBeLessThan(mapBytes * 0.5);
  });
});
