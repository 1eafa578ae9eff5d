// Concurrency over real HTTP against the local runner, as properties over the number of parallel requests (seeded
// like the hostile-input runs): parallel PATCHes under one If-Match → exactly one wins; parallel retries of one
// check-in → one decision; parallel trust uploads → each in the history, the final state one of them; parallel
// exemption grants for one device → one exemption, created once.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import { FUZZ_SEED } from '../support/fuzz-harness.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

/** Each property runs this many times, with 2 to `maxParallel` requests at once. */
const RUNS = 6;
let stack: LocalStack;
let decisions: DynamoDbDecisionStore;
let factory: CertificateFactory;
let roots: MadeCertificate[] = [];

beforeAll(async () => {
  factory = CertificateFactory.create('tollgate-concurrency-');
  roots = Array.from({ length: 6 }, (_, i) => factory.makeRootCa({ cn: `Concurrency Root ${i}` }));
  stack = await startTestStack();
  decisions = new DynamoDbDecisionStore(localDynamoDbClient(stack.dynamoDbEndpoint), {
    decisionsTable: stack.tableNames.DecisionsTable,
    deviceStatusTable: stack.tableNames.DeviceStatusTable,
    retentionDays: 90,
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
});

const admin = (method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> =>
  call(`${stack.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers }, json });

async function historyItems(field: string): Promise<any[]> {
  const res = await admin('GET', `/admin/settings/history?limit=500&field=${field}`);
  expect(res.status, res.text).toBe(200);
  return res.body.items;
}

let unavailable = 0;
const options = { seed: FUZZ_SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true };

describe('parallel requests', () => {
  it('PATCHes under one If-Match: exactly one wins, the others are 412 and changed nothing', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 12 }), async (parallel) => {
        run += 1;
        const current = await admin('GET', '/admin/settings');
        const etag = current.headers.etag;
        // Values no earlier run set, so that no PATCH is a no-op (answered 200 as stored, changing nothing).
        const answers = await Promise.all(
          Array.from({ length: parallel }, (_, i) => admin('PATCH', '/admin/settings', { maxClockSkewSeconds: 1000 * run + i }, { 'if-match': etag, 'content-type': 'application/merge-patch+json' })),
        );
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses).toEqual([200, ...Array(parallel - 1).fill(412)]);
        for (const refused of answers.filter((a) => a.status === 412)) expect(refused.body.error.code).toBe('PRECONDITION_FAILED');
        const winner = answers.find((a) => a.status === 200)!;
        const after = await admin('GET', '/admin/settings');
        expect(after.body).toEqual({ ...winner.body, version: current.body.version + 1 });
        const history = await historyItems('maxClockSkewSeconds');
        expect(history.filter((h) => h.version === current.body.version + 1)).toHaveLength(1);
      }),
      options,
    );
  }, 120_000);

  it('retries of one check-in: one decision recorded; every answer that decision (or 503 with Retry-After when the store is slow), all but one replays; a later retry replays it', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 24 }), fc.boolean(), async (parallel, compliant) => {
        run += 1;
        const deviceId = `CONCURRENT-${run}-${parallel}`;
        const body = JSON.stringify({ checkinId: `retry-${run}`, deviceId, clientTime: new Date().toISOString(), serverCertificateVerified: compliant });
        const send = () => call(`${stack.httpUrl}/checkin`, { body, headers: { 'content-type': 'application/json' } });
        const answers = await Promise.all(Array.from({ length: parallel }, send));
        const decided = answers.filter((a) => a.status !== 503);
        unavailable += parallel - decided.length;
        for (const slow of answers.filter((a) => a.status === 503)) expect(slow.headers['retry-after']).toMatch(/^\d+$/);
        const expectedStatus = compliant ? 200 : 403;
        expect(decided.map((a) => a.status)).toEqual(Array(decided.length).fill(expectedStatus));
        expect(decided.filter((a) => a.headers['idempotent-replay'] !== 'true').length).toBeLessThanOrEqual(1);
        for (const answer of decided) expect(answer.body).toEqual(decided[0].body);
        // The device's retry after the storm: the one recorded answer.
        const retry = await send();
        expect(retry.status).toBe(expectedStatus);
        expect(retry.headers['idempotent-replay']).toBe('true');
        if (decided.length > 0) expect(retry.body).toEqual(decided[0].body);
        const recorded = await decisions.listDecisions(deviceId, 50);
        expect(recorded.items.map((d) => d.checkinId)).toEqual([`retry-${run}`]);
      }),
      options,
    );
    console.log(`parallel check-in retries: ${unavailable} answered 503 (the store slow), every other one the recorded decision`);
  }, 180_000);

  it('device CA uploads: each answered 200 and in the history, the final set one of them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 2, maxLength: 6 }), async (picks) => {
        const before = (await historyItems('deviceCa')).length;
        const answers = await Promise.all(picks.map((i) => admin('PUT', '/admin/device-ca', { certificates: roots[i].pem })));
        expect(answers.map((a) => a.status), answers.map((a) => a.text).join('\n')).toEqual(picks.map(() => 200));
        const history = await historyItems('deviceCa');
        // Each upload is one history line of its own (an upload of the set already in force may change nothing).
        expect(history.length - before).toBeGreaterThanOrEqual(picks.length - 1);
        const recorded = JSON.stringify(history);
        for (const i of picks) expect(recorded).toContain(roots[i].fingerprint);
        const final = await admin('GET', '/admin/device-ca');
        expect(final.body.certificates.map((c: { sha256: string }) => c.sha256)).toHaveLength(1);
        expect(picks.map((i) => roots[i].fingerprint)).toContain(final.body.certificates[0].sha256);
      }),
      options,
    );
  }, 180_000);

  it('exemption grants for one device: one exemption, created by exactly one of them, the others replacing it', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 10 }), async (parallel) => {
        run += 1;
        const deviceId = `EXEMPT-${run}`;
        const until = new Date(Date.now() + 86_400_000).toISOString();
        const answers = await Promise.all(
          Array.from({ length: parallel }, (_, i) => admin('PUT', `/admin/exemptions/${deviceId}`, { violations: ['CLOCK_SKEW_EXCEEDED'], until, reason: `grant ${i}` })),
        );
        expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
        expect(answers.filter((a) => a.status === 200)).toHaveLength(parallel - 1);
        const listed = (await admin('GET', '/admin/exemptions')).body.items.filter((e: { deviceId: string }) => e.deviceId === deviceId);
        expect(listed).toHaveLength(1);
        expect(answers.map((a) => a.body.reason)).toContain(listed[0].reason);
      }),
      options,
    );
  }, 120_000);
});
