// The fallback function answers 404 or 405 from lib/http/routes.ts; serverless.yml routes the requests. The two
// lists must not drift apart, and the local runner must keep reading serverless.yml.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_ROUTES } from '../../lib/http/routes.ts';
import { loadServerlessConfig, PROJECT_ROOT, resolveEnvironment } from '../../local/serverless-config.ts';

const config = loadServerlessConfig();

describe('routes', () => {
  it('lib/http/routes.ts lists exactly the HTTP routes of serverless.yml (but the $default route)', () => {
    const fromServerlessYml = config.functions.flatMap((fn) => fn.httpRoutes).filter((r) => r.routeKey !== '$default').map((r) => r.routeKey);
    expect(new Set(fromServerlessYml).size).toBe(fromServerlessYml.length);
    expect(new Set(KNOWN_ROUTES).size).toBe(KNOWN_ROUTES.length);
    expect([...KNOWN_ROUTES].sort()).toEqual([...fromServerlessYml].sort());
  });

  it('sends everything else to the fallback function', () => {
    expect(config.functions.flatMap((fn) => fn.httpRoutes.filter((r) => r.routeKey === '$default').map(() => fn.name))).toEqual(['fallback']);
  });
});

describe('serverless.yml as the local runner reads it', () => {
  it('names a handler module that exists for every function', () => {
    expect(config.functions.map((fn) => fn.name).sort()).toEqual(['admin', 'alerts', 'certExpiryScan', 'checkin', 'console', 'fallback', 'imaging', 'seedConfig']);
    for (const fn of config.functions) expect(existsSync(join(PROJECT_ROOT, fn.module)), fn.module).toBe(true);
  });

  it('creates the three tables with their keys, index, stream and TTL', () => {
    expect(Object.keys(config.tables).sort()).toEqual(['ConfigTable', 'DecisionsTable', 'DeviceStatusTable']);
    expect(config.tables.DecisionsTable.ttlAttribute).toBe('expiresAt');
    expect(config.tables.DeviceStatusTable.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byStatusShard']);
    expect(config.tables.DeviceStatusTable.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(config.functions.find((fn) => fn.name === 'alerts')!.streams).toEqual([
      { tableLogicalId: 'DeviceStatusTable', batchSize: 25, filterPatterns: [{ dynamodb: { NewImage: { alertRelevant: { BOOL: [true] } } } }] },
    ]);
    expect(config.functions.find((fn) => fn.name === 'certExpiryScan')!.schedules).toEqual(['cron(0 6 * * ? *)']);
  });

  it('resolves each function environment to plain strings with the parameter defaults', () => {
    const values = {
      tableNames: { ConfigTable: 'config', DecisionsTable: 'decisions', DeviceStatusTable: 'status' },
      resourceRefs: { AlertTopic: 'arn:aws:sns:us-east-1:000000000000:alerts' },
      params: {},
    };
    const env = (name: string) => resolveEnvironment(config, config.functions.find((fn) => fn.name === name)!, values);
    expect(env('checkin')).toMatchObject({
      CONFIG_TABLE: 'config',
      DECISIONS_TABLE: 'decisions',
      DEVICE_STATUS_TABLE: 'status',
      DECISION_RETENTION_DAYS: '90',
      TRUSTED_CLIENT_CERT_HEADER: '',
    });
    expect(env('alerts').ALERT_TOPIC_ARN).toBe('arn:aws:sns:us-east-1:000000000000:alerts');
    expect(env('admin').ADMIN_TOKENS).toBe('');
  });
});
