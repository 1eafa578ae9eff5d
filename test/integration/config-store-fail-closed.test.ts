// A missing settings document is never read as a fresh installation (which would accept every device): check-ins
// and admin reads answer 503 UNAVAILABLE, the SettingsMissing metric is emitted and an error is logged.
import { DeleteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';
import { checkinEvent } from '../support/checkin-event.ts';

// Powertools decides at construction whether metrics and error logs are written: asked for here, before the modules create theirs
// (this file's modules are its own). The check-in module builds its production handler at import, from the
// environment; this test uses makeHandler only.
Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'ERROR', CONFIG_TABLE: 'unused', DECISIONS_TABLE: 'unused', DEVICE_STATUS_TABLE: 'unused' });
const { DynamoDbConfigStore } = await import('../../lib/adapters/dynamodb/config-store.ts');
const { DynamoDbUnauthenticatedAttemptStore } = await import('../../lib/adapters/dynamodb/attempt-store.ts');
const { DynamoDbDecisionStore } = await import('../../lib/adapters/dynamodb/decision-store.ts');
const { ManualClock } = await import('../../lib/adapters/memory/clock.ts');
const { toErrorResponse } = await import('../../lib/http/errors.ts');
const { AdminSettingsService } = await import('../../lib/services/admin/settings-service.ts');
const { PolicyCache } = await import('../../lib/services/policy-cache.ts');
const { makeHandler } = await import('../../functions/check-in.ts');
type ManualClock = InstanceType<typeof ManualClock>;

function container(tables: TestTables, clock: ManualClock) {
  return makeHandler({
    policies: new PolicyCache(new DynamoDbConfigStore(tables.client, tables.names.configTable), clock),
    decisions: new DynamoDbDecisionStore(tables.client, { decisionsTable: tables.names.decisionsTable, deviceStatusTable: tables.names.deviceStatusTable, retentionDays: 90 }),
    attempts: new DynamoDbUnauthenticatedAttemptStore(tables.client, tables.names.decisionsTable),
    clock,
  });
}

async function deleteConfigItems(client: DynamoDBClient, table: string, sks: string[]): Promise<void> {
  for (const sk of sks) await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'CONFIG' }, sk: { S: sk } } }));
}

/** What the function printed to stdout while `run` ran, as JSON lines (EMF documents and log lines). */
async function printed<T>(run: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const chunks: string[] = [];
  const spy = (stream: NodeJS.WriteStream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      chunks.push(String(chunk));
      return true;
    });
  const spies = [spy(process.stdout), spy(process.stderr)];
  try {
    return { result: await run(), lines: chunks.flatMap((c) => c.split('\n')).filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l)) };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

const settingsMissingMetrics = (lines: Record<string, unknown>[]) => lines.filter((line) => 'SettingsMissing' in line).map((line) => line.SettingsMissing);

afterEach(() => vi.restoreAllMocks());

describe('a missing settings document fails closed', () => {
  it('a warm container: accepted while the settings are stored; once the config table is lost, 503 within the cache age, with the metric and an error log, and no decision recorded', async () => {
    const tables = await createTestTables();
    const clock = new ManualClock(new Date().toISOString());
    const handle = container(tables, clock);
    const accepted = await handle(checkinEvent({ checkinId: 'c-1', requestId: 'req-c-1' }), {} as Context);
    expect(accepted.statusCode).toBe(200);
    expect(JSON.parse(accepted.body!)).toMatchObject({ decision: 'ACCEPT' });

    await deleteConfigItems(tables.client, tables.names.configTable, ['SETTINGS', 'VERSION']);
    clock.advance(5000);
    const { result: refused, lines } = await printed(() => handle(checkinEvent({ checkinId: 'c-2', requestId: 'req-c-2' }), {} as Context));
    expect(refused.statusCode).toBe(503);
    expect(JSON.parse(refused.body!)).toEqual({ error: { code: 'UNAVAILABLE', message: 'The service is unavailable; retry later', requestId: 'req-c-2' } });
    expect(settingsMissingMetrics(lines)).toEqual([1]);
    expect(lines.filter((line) => line.level === 'ERROR').map((line) => line.message)).toEqual([
      'The settings document is missing from the config table: requests are refused until it is restored',
    ]);
    const decisions = new DynamoDbDecisionStore(tables.client, { decisionsTable: tables.names.decisionsTable, deviceStatusTable: tables.names.deviceStatusTable, retentionDays: 90 });
    expect((await decisions.listDecisions('D1', 10)).items.map((d) => d.checkinId)).toEqual(['c-1']);
  });

  it('a cold container: the settings item alone deleted is 503, not a check-in judged by the defaults', async () => {
    const tables = await createTestTables();
    await deleteConfigItems(tables.client, tables.names.configTable, ['SETTINGS']);
    const { result, lines } = await printed(() => container(tables, new ManualClock(new Date().toISOString()))(checkinEvent({ checkinId: 'c-3', requestId: 'req-c-3' }), {} as Context));
    expect(result.statusCode).toBe(503);
    expect(settingsMissingMetrics(lines)).toEqual([1]);
  });

  it('admin reads of the settings answer 503 UNAVAILABLE too; initializeSettings brings version 1 back', async () => {
    const tables = await createTestTables();
    const store = new DynamoDbConfigStore(tables.client, tables.names.configTable);
    await deleteConfigItems(tables.client, tables.names.configTable, ['SETTINGS', 'VERSION']);
    const thrown = await new AdminSettingsService(store).get().then(
      () => undefined,
      (error: unknown) => error,
    );
    const { result } = await printed(async () => toErrorResponse(thrown, 'req-admin'));
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body!)).toEqual({ error: { code: 'UNAVAILABLE', message: 'The service is unavailable; retry later', requestId: 'req-admin' } });
    expect(await store.initializeSettings(new Date())).toBe('CREATED');
    expect((await new AdminSettingsService(store).get()).version).toBe(1);
  });
});
