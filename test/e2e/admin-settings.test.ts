// The settings document over real HTTP: GET/PUT/PATCH, ETag and If-Match, concurrent writers, 400 vs 422, history.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { seed } from '../support/config.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const ALICE_TOKEN = 'alice-token-for-the-settings-test';
const AUDITOR_TOKEN = 'auditor-token-for-the-settings-test';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const DEFAULTS = {
  certificateBasedAuthentication: false,
  pushNotifications: false,
  sslCertificateVerification: 'ALWAYS_EXCEPT_DURING_ENROLLMENT',
  packageValidation: 'WHEN_CHECKSUM_PRESENT',
  maxClockSkewSeconds: 300,
  requireImagingAuthentication: true,
  mode: 'ENFORCE',
  certificateExpiryAlertDays: [60, 30, 14, 7, 1],
};

let stack: LocalStack;
let configStore: DynamoDbConfigStore;

beforeAll(async () => {
  stack = await startTestStack({
    adminTokens: `alice:admin:${sha256(ALICE_TOKEN)},auditor1:auditor:${sha256(AUDITOR_TOKEN)}`,
  });
  configStore = new DynamoDbConfigStore(localDynamoDbClient(stack.dynamoDbEndpoint), stack.tableNames.ConfigTable);
});

afterAll(async () => {
  await stack?.stop();
});

function admin(method: string, path: string, options: { json?: unknown; body?: string; headers?: Record<string, string>; token?: string } = {}): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, {
    method,
    json: options.json,
    body: options.body,
    headers: { authorization: `Bearer ${options.token ?? TEST_ADMIN_TOKEN}`, ...(options.headers ?? {}) },
  });
}

const getSettings = () => admin('GET', '/admin/settings');
/** A whole-document replace, conditional on the version just read (PUT requires If-Match). */
const put = async (json: unknown) => admin('PUT', '/admin/settings', { json, headers: { 'if-match': (await getSettings()).headers.etag } });
const patch = (json: unknown, headers: Record<string, string> = {}, token?: string) =>
  admin('PATCH', '/admin/settings', { json, headers: { 'content-type': 'application/merge-patch+json', ...headers }, token });
const historyItems = async (limit = 50) => (await admin('GET', `/admin/settings/history?limit=${limit}`)).body.items as any[];

describe('GET /admin/settings on a fresh installation', () => {
  it('is version 1 with the defaults of API.md, an ETag, and no author', async () => {
    const res = await getSettings();
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toEqual({ settings: DEFAULTS, version: 1, updatedAt: null, updatedBy: null });
  });

  it('is readable by an auditor', async () => {
    const res = await admin('GET', '/admin/settings', { token: AUDITOR_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
  });
});

describe('PUT and PATCH with If-Match', () => {
  it('PUT replaces the whole document, adds 1 to the version, answers like GET with the new ETag', async () => {
    const res = await admin('PUT', '/admin/settings', { json: { ...DEFAULTS, maxClockSkewSeconds: 120 }, headers: { 'if-match': '"1"' }, token: ALICE_TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.body).toEqual({
      settings: { ...DEFAULTS, maxClockSkewSeconds: 120 },
      version: 2,
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedBy: 'alice',
    });
    expect((await getSettings()).body).toEqual(res.body);
    const [latest] = await historyItems(1);
    expect(latest).toEqual({ version: 2, changedAt: res.body.updatedAt, actor: 'alice', changes: [{ field: 'maxClockSkewSeconds', from: 300, to: 120 }] });
  });

  it('a stale If-Match is 412 PRECONDITION_FAILED and changes nothing', async () => {
    const before = await getSettings();
    const historyBefore = await historyItems();
    const stale = await patch({ mode: 'MONITOR' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual({ error: { code: 'PRECONDITION_FAILED', message: expect.any(String), requestId: expect.any(String) } });
    const stalePut = await admin('PUT', '/admin/settings', { json: DEFAULTS, headers: { 'if-match': '"1"' } });
    expect(stalePut.status).toBe(412);
    expect((await getSettings()).body).toEqual(before.body);
    expect(await historyItems()).toEqual(historyBefore);
  });

  it.each([
    ['the ETag as sent', (v: number) => `"${v}"`],
    ['a bare number', (v: number) => `${v}`],
    ['a list naming it after a weak tag of it', (v: number) => `W/"${v}", "${v}"`],
    ['a list naming it', (v: number) => `"999", "${v}"`],
    ['*', () => '*'],
  ])('If-Match as %s is honoured', async (_name, form) => {
    const { version, settings } = (await getSettings()).body;
    const res = await patch({ maxClockSkewSeconds: settings.maxClockSkewSeconds + 1 }, { 'if-match': form(version) });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(version + 1);
  });

  it('a weak tag never matches (strong comparison, RFC 9110 §13.1.1): 412 PRECONDITION_FAILED and nothing changes', async () => {
    const before = await getSettings();
    const historyBefore = await historyItems();
    const { version } = before.body;
    const weak = await patch({ mode: 'MONITOR' }, { 'if-match': `W/"${version}"` });
    expect(weak.status).toBe(412);
    expect(weak.body).toEqual({ error: { code: 'PRECONDITION_FAILED', message: expect.stringContaining('weak'), requestId: expect.any(String) } });
    const weakPut = await admin('PUT', '/admin/settings', { json: { ...before.body.settings, mode: 'MONITOR' }, headers: { 'if-match': `W/"${version}"` } });
    expect(weakPut.status).toBe(412);
    expect((await getSettings()).body).toEqual(before.body);
    expect(await historyItems()).toEqual(historyBefore);
  });

  it('a malformed If-Match is 400, never a silent pass', async () => {
    const res = await patch({ mode: 'MONITOR' }, { 'if-match': 'version three' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', field: 'If-Match' });
  });

  it('PUT without If-Match is 428 PRECONDITION_REQUIRED and changes nothing: a whole replace must not revert another change', async () => {
    const before = await getSettings();
    const res = await admin('PUT', '/admin/settings', { json: { ...before.body.settings, mode: 'MONITOR' } });
    expect(res.status).toBe(428);
    expect(res.body.error).toMatchObject({ code: 'PRECONDITION_REQUIRED', field: 'If-Match' });
    expect((await getSettings()).body).toEqual(before.body);
  });

  it('PATCH without If-Match goes to the current version', async () => {
    const { version } = (await getSettings()).body;
    const res = await patch({ mode: 'MONITOR' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: version + 1, settings: { mode: 'MONITOR' } });
    expect(res.headers.etag).toBe(`"${version + 1}"`);
    const back = await patch({ mode: 'ENFORCE' }, { 'content-type': 'application/json' });
    expect(back.status).toBe(200);
  });

  it('a change that changes nothing is 200 with the same version and no history entry', async () => {
    const before = await getSettings();
    const historyBefore = await historyItems();
    const res = await patch({ mode: before.body.settings.mode }, { 'if-match': before.headers.etag });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(before.body);
    expect(res.headers.etag).toBe(before.headers.etag);
    const replaced = await put(before.body.settings);
    expect(replaced.body.version).toBe(before.body.version);
    expect(await historyItems()).toEqual(historyBefore);
  });

  it('PATCH accepts only a merge patch content type (415 for JSON Patch or text)', async () => {
    for (const type of ['application/json-patch+json', 'text/plain']) {
      const res = await admin('PATCH', '/admin/settings', { body: '{"mode":"MONITOR"}', headers: { 'content-type': type } });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });
});

describe('concurrent writers (fired in parallel against the HTTP server)', () => {
  it('with the same If-Match exactly one wins; the others get 412 and the version moves by one', async () => {
    const current = await getSettings();
    const values = [11, 12, 13, 14, 15, 16, 17, 18];
    const results = await Promise.all(values.map((value) => patch({ maxClockSkewSeconds: value }, { 'if-match': current.headers.etag })));
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(values.length - 1);
    const after = await getSettings();
    expect(after.body.version).toBe(current.body.version + 1);
    expect(after.body.settings.maxClockSkewSeconds).toBe(winners[0].body.settings.maxClockSkewSeconds);
    const [latest] = await historyItems(1);
    expect(latest.version).toBe(after.body.version);
  });

  it('without If-Match every writer lands (the read-modify-write is retried) and none loses another one\'s change', async () => {
    const current = await getSettings();
    const patches = [
      { mode: 'MONITOR' },
      { packageValidation: 'ALWAYS' },
      { maxClockSkewSeconds: 42 },
      { requireImagingAuthentication: false },
      { sslCertificateVerification: 'NEVER' },
      { certificateExpiryAlertDays: [30, 7] },
    ];
    const results = await Promise.all(patches.map((p) => patch(p)));
    expect(results.map((r) => r.status)).toEqual(patches.map(() => 200));
    const after = await getSettings();
    expect(after.body.version).toBe(current.body.version + patches.length);
    expect(after.body.settings).toEqual({ ...current.body.settings, ...Object.assign({}, ...patches) });
    const versions = (await historyItems(patches.length)).map((h) => h.version);
    expect(versions).toEqual(patches.map((_p, i) => after.body.version - i));
    // Back to the defaults for the rule tests below.
    expect((await put(DEFAULTS)).status).toBe(200);
  });

  it('two admins: alice PATCHes while the other PUTs the document it read earlier without If-Match → 428, and alice\'s change survives', async () => {
    const readByTheOther = await getSettings();
    const alice = await patch({ maxClockSkewSeconds: 90 }, {}, ALICE_TOKEN);
    expect(alice.status).toBe(200);
    const historyAfterAlice = await historyItems();

    // The stale whole document, sent as a careless script or an old client would: no If-Match, and also with `If-Match`
    // left empty (an empty header is no precondition either).
    for (const headers of [{}, { 'if-match': '' }, { 'if-match': '  ' }] as Record<string, string>[]) {
      const revert = await admin('PUT', '/admin/settings', { json: { ...readByTheOther.body.settings, mode: 'MONITOR' }, headers });
      expect(revert.status).toBe(428);
      expect(revert.body).toEqual({
        error: { code: 'PRECONDITION_REQUIRED', message: expect.stringContaining('If-Match'), field: 'If-Match', requestId: expect.any(String) },
      });
    }
    // Replaying the ETag it read is 412: still nothing reverted.
    const stale = await admin('PUT', '/admin/settings', { json: { ...readByTheOther.body.settings, mode: 'MONITOR' }, headers: { 'if-match': readByTheOther.headers.etag } });
    expect(stale.status).toBe(412);

    expect((await getSettings()).body).toEqual(alice.body);
    expect(alice.body).toMatchObject({ version: readByTheOther.body.version + 1, settings: { ...readByTheOther.body.settings, maxClockSkewSeconds: 90 }, updatedBy: 'alice' });
    expect(await historyItems()).toEqual(historyAfterAlice);
    expect(historyAfterAlice[0]).toEqual({
      version: alice.body.version,
      changedAt: expect.any(String),
      actor: 'alice',
      changes: [{ field: 'maxClockSkewSeconds', from: readByTheOther.body.settings.maxClockSkewSeconds, to: 90 }],
    });
    expect((await put(DEFAULTS)).status).toBe(200);
  });
});

describe('400 for shape, 422 for rules; nothing changes either way', () => {
  const badShapes: [string, string, unknown, string | undefined][] = [
    // [why, method, body, field at fault]
    ['an unknown field (PUT)', 'PUT', { ...DEFAULTS, colour: 'red' }, 'colour'],
    ['a missing field (PUT)', 'PUT', { ...DEFAULTS, mode: undefined }, 'mode'],
    ['a number as a string', 'PUT', { ...DEFAULTS, maxClockSkewSeconds: '300' }, 'maxClockSkewSeconds'],
    ['an unknown enum value', 'PUT', { ...DEFAULTS, mode: 'AUDIT' }, 'mode'],
    ['a boolean as a string', 'PUT', { ...DEFAULTS, pushNotifications: 'false' }, 'pushNotifications'],
    ['a list of strings', 'PUT', { ...DEFAULTS, certificateExpiryAlertDays: ['7'] }, 'certificateExpiryAlertDays'],
    ['an array instead of the document', 'PUT', [DEFAULTS], undefined],
    ['an unknown field (PATCH)', 'PATCH', { colour: 'red' }, 'colour'],
    ['removing a setting with null (PATCH)', 'PATCH', { mode: null }, 'mode'],
    ['a wrong type (PATCH)', 'PATCH', { certificateBasedAuthentication: 1 }, 'certificateBasedAuthentication'],
    ['a JSON Patch array sent as a merge patch', 'PATCH', [{ op: 'replace', path: '/mode', value: 'MONITOR' }], undefined],
  ];

  it.each(badShapes)('%s is 400 INVALID_SETTINGS', async (_why, method, body, field) => {
    const before = await getSettings();
    const res = method === 'PUT' ? await put(body) : await patch(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_SETTINGS');
    expect(res.body.error.field).toBe(field);
    expect((await getSettings()).body).toEqual(before.body);
  });

  const brokenRules: [string, Record<string, unknown>, string[]][] = [
    // [why, patch, fields in details]
    ['maxClockSkewSeconds 0', { maxClockSkewSeconds: 0 }, ['maxClockSkewSeconds']],
    ['maxClockSkewSeconds above a day', { maxClockSkewSeconds: 86401 }, ['maxClockSkewSeconds']],
    ['maxClockSkewSeconds not an integer', { maxClockSkewSeconds: 1.5 }, ['maxClockSkewSeconds']],
    ['no expiry alert days', { certificateExpiryAlertDays: [] }, ['certificateExpiryAlertDays']],
    ['eleven expiry alert days', { certificateExpiryAlertDays: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, ['certificateExpiryAlertDays']],
    ['repeated expiry alert days', { certificateExpiryAlertDays: [7, 7] }, ['certificateExpiryAlertDays']],
    ['an expiry alert day above 365', { certificateExpiryAlertDays: [366] }, ['certificateExpiryAlertDays']],
    ['a negative expiry alert day', { certificateExpiryAlertDays: [-1] }, ['certificateExpiryAlertDays']],
    ['certificate-based authentication without a device CA', { certificateBasedAuthentication: true }, ['certificateBasedAuthentication']],
    ['push notifications without a push certificate', { pushNotifications: true }, ['pushNotifications']],
    // The local runner registered its self-signed HTTPS certificate as the server certificate.
    ['ALWAYS while the server certificate is self-signed', { sslCertificateVerification: 'ALWAYS' }, ['sslCertificateVerification']],
    [
      'several at once, each reported',
      { maxClockSkewSeconds: 0, pushNotifications: true, certificateExpiryAlertDays: [400] },
      ['pushNotifications', 'maxClockSkewSeconds', 'certificateExpiryAlertDays'],
    ],
  ];

  it.each(brokenRules)('%s is 422 INVALID_SETTINGS with details', async (_why, body, fields) => {
    const before = await getSettings();
    const historyBefore = await historyItems();
    const viaPatch = await patch(body);
    const viaPut = await put({ ...DEFAULTS, ...body });
    for (const res of [viaPatch, viaPut]) {
      expect(res.status).toBe(422);
      expect(res.body.error).toEqual({
        code: 'INVALID_SETTINGS',
        message: expect.any(String),
        details: fields.map((field) => ({ field, message: expect.any(String) })),
        requestId: expect.any(String),
      });
    }
    expect((await getSettings()).body).toEqual(before.body);
    expect(await historyItems()).toEqual(historyBefore);
  });
});

describe('trust-dependent rules apply to the change, not to what stays as it was', () => {
  it('an expired push certificate does not block unrelated changes while pushNotifications stays true, but blocks turning it on', async () => {
    const push = (notAfter: string) =>
      seed(configStore, {
        kind: 'PUSH_CERTIFICATE',
        certificate: { pem: 'test', subject: 'CN=APSP:test', notBefore: '2025-01-01T00:00:00.000Z', notAfter, sha256: 'ee'.repeat(32), topic: 'com.apple.mgmt.External.test' },
      });
    await push(new Date(Date.now() + 86_400_000).toISOString());
    expect((await patch({ pushNotifications: true })).status).toBe(200);
    // Time passes: the stored certificate expires while push notifications are on.
    await push(new Date(Date.now() - 1000).toISOString());
    const unrelated = await patch({ maxClockSkewSeconds: 240 });
    expect(unrelated.status).toBe(200);
    expect((await patch({ pushNotifications: false })).status).toBe(200);
    const again = await patch({ pushNotifications: true });
    expect(again.status).toBe(422);
    expect(again.body.error.details).toEqual([{ field: 'pushNotifications', message: expect.stringContaining('expired') }]);
    expect((await put(DEFAULTS)).status).toBe(200);
    await seed(configStore, { kind: 'PUSH_CERTIFICATE', certificate: null });
  });
});

describe('GET /admin/settings/history', () => {
  it('lists changes newest first with version, time, actor and a field-by-field diff', async () => {
    const start = (await getSettings()).body.version;
    await patch({ maxClockSkewSeconds: 600, mode: 'MONITOR' }, {}, ALICE_TOKEN);
    await patch({ mode: 'ENFORCE' });
    const items = await historyItems(2);
    expect(items).toEqual([
      { version: start + 2, changedAt: expect.any(String), actor: 'local-admin', changes: [{ field: 'mode', from: 'MONITOR', to: 'ENFORCE' }] },
      {
        version: start + 1,
        changedAt: expect.any(String),
        actor: 'alice',
        changes: [
          { field: 'maxClockSkewSeconds', from: 300, to: 600 },
          { field: 'mode', from: 'ENFORCE', to: 'MONITOR' },
        ],
      },
    ]);
    expect(Date.parse(items[0].changedAt)).toBeGreaterThanOrEqual(Date.parse(items[1].changedAt));
  });

  it('pages with nextToken, and keeps only one field\'s changes or those since a time', async () => {
    const since = new Date().toISOString();
    await patch({ maxClockSkewSeconds: 601 });
    await patch({ mode: 'MONITOR' });
    await patch({ maxClockSkewSeconds: 602 });
    await patch({ mode: 'ENFORCE' });
    const fields = (items: any[]) => items.map((h) => h.changes.map((c: any) => `${c.field}=${c.to}`).join(','));

    const recent = await admin('GET', `/admin/settings/history?since=${encodeURIComponent(since)}`);
    expect(recent.status).toBe(200);
    expect(fields(recent.body.items)).toEqual(['mode=ENFORCE', 'maxClockSkewSeconds=602', 'mode=MONITOR', 'maxClockSkewSeconds=601']);
    expect(recent.body.nextToken).toBeUndefined();

    const first = await admin('GET', `/admin/settings/history?field=maxClockSkewSeconds&since=${encodeURIComponent(since)}&limit=1`);
    expect(fields(first.body.items)).toEqual(['maxClockSkewSeconds=602']);
    const second = await admin('GET', `/admin/settings/history?field=maxClockSkewSeconds&since=${encodeURIComponent(since)}&limit=1&nextToken=${first.body.nextToken}`);
    expect(fields(second.body.items)).toEqual(['maxClockSkewSeconds=601']);
    expect(second.body.nextToken).toBeUndefined();
    // The token continues only the query it came from.
    const otherField = await admin('GET', `/admin/settings/history?field=mode&since=${encodeURIComponent(since)}&limit=1&nextToken=${first.body.nextToken}`);
    expect(otherField.status).toBe(400);
    expect(otherField.body.error).toMatchObject({ code: 'INVALID_REQUEST', field: 'nextToken' });
  });

  it('says that a well-formed since names no real date', async () => {
    const res = await admin('GET', '/admin/settings/history?since=2026-02-30T00:00:00Z');
    expect(res.body.error).toMatchObject({
      code: 'INVALID_REQUEST',
      field: 'since',
      message: 'since 2026-02-30T00:00:00Z names a date that does not exist: February 2026 has 28 days',
    });
  });

  it.each([
    // [query, field at fault]
    ['since=yesterday', 'since'],
    ['since=2026-02-30T00:00:00Z', 'since'],
    ['field=mode%3Bdrop', 'field'],
    ['nextToken=e30', 'nextToken'],
  ])('refuses %s with 400 on %s', async (queryText, field) => {
    const res = await admin('GET', `/admin/settings/history?${queryText}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', field });
  });

  it('defaults to 50 entries and refuses a limit outside 1..500', async () => {
    const all = await admin('GET', '/admin/settings/history');
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeGreaterThan(10);
    expect(all.body.items.length).toBeLessThanOrEqual(50);
    for (const limit of ['0', '501', 'ten', '-1', '2.5']) {
      const res = await admin('GET', `/admin/settings/history?limit=${limit}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', field: 'limit' });
    }
  });
});
