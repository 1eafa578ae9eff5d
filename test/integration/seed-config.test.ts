// functions/seed-config.ts, the custom resource that stores SETTINGS version 1 at deploy time, against DynamoDB Local
// with a local HTTP server standing in for CloudFormation's pre-signed ResponseURL. Every request is answered exactly
// once, SUCCESS or FAILED: on Create and Update the settings are written when absent and left alone when present; a
// Delete touches nothing; a failing or hanging store still gets its FAILED answer out.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { ConfigError } from '../../lib/config.ts';
import { CONFIG_PK, configSk } from '../../lib/adapters/dynamodb/keys.ts';
import { ensureTables, localDynamoDbClient, tableNamesFor } from '../../local/dynamodb-local.ts';
import { loadServerlessConfig } from '../../local/serverless-config.ts';
import { type CustomResourceEvent, makeHandler, putResponse } from '../../functions/seed-config.ts';

const NOW = new Date('2026-12-01T06:00:00.000Z');
const clock = { now: () => new Date(NOW) };

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

let server: Server;
let responseUrl: string;
let received: Received[];
/** Statuses the fake ResponseURL answers with, in order; 200 once they are used up. */
let answers: number[];

const client = localDynamoDbClient(inject('dynamoDbEndpoint'));
let configTable: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: JSON.parse(body) });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cloudformation-response/abc?X-Amz-Signature=signed`;
  const config = loadServerlessConfig();
  const names = tableNamesFor(config, `seed${randomBytes(4).toString('hex')}`);
  await ensureTables(client, config, names);
  configTable = names.ConfigTable;
});

afterAll(async () => {
  client.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(async () => {
  received = [];
  answers = [];
  // Each case starts from a table with no SETTINGS item and no version item.
  for (const sk of [configSk.settings, configSk.version]) {
    await client.send(new DeleteItemCommand({ TableName: configTable, Key: marshall({ pk: CONFIG_PK, sk }) }));
  }
});

function request(type: CustomResourceEvent['RequestType'], extra: Partial<CustomResourceEvent> = {}): CustomResourceEvent {
  return {
    RequestType: type,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/tollgate-prod/0f0e',
    RequestId: `request-${type}`,
    LogicalResourceId: 'SeedConfig',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:seed', ConfigTable: configTable },
    ...extra,
  };
}

const handlerFor = (table: string, deadlineMs?: number) =>
  makeHandler({ config: () => new DynamoDbConfigStore(client, table), clock, respond: putResponse }, deadlineMs);

async function settingsItem() {
  const { Item } = await client.send(new GetItemCommand({ TableName: configTable, Key: marshall({ pk: CONFIG_PK, sk: configSk.settings }), ConsistentRead: true }));
  return Item && unmarshall(Item);
}

const answered = (Status: string, RequestId: string, more: Record<string, unknown> = {}) => ({
  Status,
  PhysicalResourceId: 'tollgate-seed-config',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/tollgate-prod/0f0e',
  RequestId,
  LogicalResourceId: 'SeedConfig',
  ...more,
});

describe('seedConfig custom resource', () => {
  it('Create on an empty table: stores SETTINGS version 1 and answers SUCCESS with one PUT, as the protocol asks', async () => {
    await handlerFor(configTable)(request('Create'));
    expect((await new DynamoDbConfigStore(client, configTable).getSettings()).version).toBe(1);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'PUT', path: '/cloudformation-response/abc?X-Amz-Signature=signed' });
    // The URL is signed without a content type: one sent would break the signature.
    expect(received[0].headers['content-type']).toBe('');
    expect(received[0].body).toEqual(answered('SUCCESS', 'request-Create', { Data: { Settings: 'CREATED' } }));
  });

  it('Update with settings present: changes nothing and answers SUCCESS (PRESENT), keeping the physical id', async () => {
    await handlerFor(configTable)(request('Create'));
    const before = await settingsItem();
    received = [];
    await handlerFor(configTable)(request('Update', { PhysicalResourceId: 'tollgate-seed-config' }));
    expect(await settingsItem()).toEqual(before);
    expect(received.map((r) => r.body)).toEqual([answered('SUCCESS', 'request-Update', { Data: { Settings: 'PRESENT' } })]);
  });

  it('Update after the table lost its settings (replaced, emptied): stores version 1 again', async () => {
    await handlerFor(configTable)(request('Update', { PhysicalResourceId: 'tollgate-seed-config' }));
    expect((await settingsItem())?.version).toBe(1);
    expect(received.map((r) => r.body)).toEqual([answered('SUCCESS', 'request-Update', { Data: { Settings: 'CREATED' } })]);
  });

  it('Delete: answers SUCCESS at once and leaves the table alone, even a table that is gone', async () => {
    await handlerFor(configTable)(request('Create'));
    const before = await settingsItem();
    received = [];
    await handlerFor('no-such-table')(request('Delete', { PhysicalResourceId: 'tollgate-seed-config' }));
    expect(await settingsItem()).toEqual(before);
    expect(received.map((r) => r.body)).toEqual([answered('SUCCESS', 'request-Delete')]);
  });

  it('a store that fails: answers FAILED with the reason, so the deploy stops and rolls back instead of waiting', async () => {
    await handlerFor(`missing-${randomBytes(3).toString('hex')}`)(request('Create'));
    expect(received).toHaveLength(1);
    const body = received[0].body as Record<string, string>;
    expect({ ...body, Reason: undefined }).toEqual(answered('FAILED', 'request-Create', { Reason: undefined }));
    expect(body.Reason).toMatch(/^Could not write SETTINGS version 1: \w+: .* \(see the seedConfig function's log\)$/);
  });

  it('a store that never answers: answers FAILED at the deadline, before the function would time out', async () => {
    const hanging = makeHandler({ config: () => ({ initializeSettings: () => new Promise(() => {}) }), clock, respond: putResponse }, 50);
    await hanging(request('Create'));
    expect(received.map((r) => r.body)).toEqual([
      answered('FAILED', 'request-Create', {
        Reason: "Could not write SETTINGS version 1: DeadlineExceededError: no answer from DynamoDB within 50 ms (see the seedConfig function's log)",
      }),
    ]);
  });

  it('a configuration error (no CONFIG_TABLE): answers FAILED instead of failing before the answer', async () => {
    const broken = makeHandler({ config: () => { throw new ConfigError('Environment variable CONFIG_TABLE is required'); }, clock, respond: putResponse });
    await broken(request('Create'));
    expect(received.map((r) => r.body)).toEqual([
      answered('FAILED', 'request-Create', {
        Reason: "Could not write SETTINGS version 1: ConfigError: Environment variable CONFIG_TABLE is required (see the seedConfig function's log)",
      }),
    ]);
  });

  it.each([
    // case | old properties | new properties | refused
    ['the config table replaced', { ConfigTable: 'old-config', DecisionsTable: 'd', DeviceStatusTable: 's' }, { ConfigTable: 'new-config', DecisionsTable: 'd', DeviceStatusTable: 's' }, 'ConfigTable (old-config → new-config)'],
    ['two tables replaced', { ConfigTable: 'c', DecisionsTable: 'd1', DeviceStatusTable: 's1' }, { ConfigTable: 'c', DecisionsTable: 'd2', DeviceStatusTable: 's2' }, 'DecisionsTable (d1 → d2), DeviceStatusTable (s1 → s2)'],
  ])('Update with %s: answers FAILED (the stack rolls back) and seeds nothing', async (_case, before, after, replaced) => {
    await handlerFor(configTable)(request('Update', { PhysicalResourceId: 'tollgate-seed-config', OldResourceProperties: before, ResourceProperties: { ...after, AllowTableReplacement: 'false' } }));
    expect(await settingsItem()).toBeUndefined();
    expect(received.map((r) => r.body)).toEqual([
      answered('FAILED', 'request-Update', {
        Reason: `This change replaces ${replaced}: the new tables are empty. Nothing was seeded and the stack rolls back; if the replacement is intended, deploy with --param="allowTableReplacement=true" (docs/operations.md)`,
      }),
    ]);
  });

  it('Update replacing a table with allowTableReplacement: seeds the new config table', async () => {
    await handlerFor(configTable)(
      request('Update', {
        PhysicalResourceId: 'tollgate-seed-config',
        OldResourceProperties: { ConfigTable: 'old-config' },
        ResourceProperties: { ConfigTable: configTable, AllowTableReplacement: 'true' },
      }),
    );
    expect((await settingsItem())?.version).toBe(1);
    expect(received.map((r) => (r.body as { Status: string }).Status)).toEqual(['SUCCESS']);
  });

  it('retries the answer when the ResponseURL fails once, and sends it exactly once more', async () => {
    answers = [503];
    await handlerFor(configTable)(request('Create'));
    expect(received.map((r) => (r.body as { Status: string }).Status)).toEqual(['SUCCESS', 'SUCCESS']);
  });
});
