// One deadline per invocation (lib/invocation-deadline.ts, hooked to the SDK clients by lib/adapters/deadline.ts): every DynamoDB call of an HTTP function is aborted a margin
// before the function would time out, and whatever is still in flight once it has answered is cut off. Proven against
// a DynamoDB that accepts connections and never answers (a local TCP server), with the clients production builds.
import { createServer, type Server, type Socket } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { ANSWER_MARGIN_MS, currentDeadline, deadlineSignal, runWithDeadline } from '../../lib/invocation-deadline.ts';
import { callStore, createDynamoDbClient } from '../../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbUnauthenticatedAttemptStore } from '../../lib/adapters/dynamodb/attempt-store.ts';
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { DynamoDbExpiryAlertStore } from '../../lib/adapters/dynamodb/expiry-alert-store.ts';
import { systemClock } from '../../lib/adapters/system-clock.ts';
import { httpStack } from '../../lib/http/middleware.ts';
import { StoreUnavailableError } from '../../lib/ports/errors.ts';
import { PolicyCache } from '../../lib/services/policy-cache.ts';
import { lambdaContext } from '../../local/api-gateway.ts';
import { loadServerlessConfig } from '../../local/serverless-config.ts';
import { checkinEvent } from '../support/checkin-event.ts';

// The modules build their production handlers at import, from the environment; this test uses makeHandler only.
Object.assign(process.env, { CONFIG_TABLE: 'unused', DECISIONS_TABLE: 'unused', DEVICE_STATUS_TABLE: 'unused', ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:unused' });
const { makeHandler } = await import('../../functions/check-in.ts');
const expiryScan = await import('../../functions/cert-expiry-scan.ts');

/** A "DynamoDB" that accepts every connection, reads what it is sent, and never answers. */
interface SilentDynamoDb {
  endpoint: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections still open. */
  open: Set<Socket>;
  server: Server;
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function silentDynamoDb(): Promise<SilentDynamoDb> {
  const silent: SilentDynamoDb = { endpoint: '', accepted: 0, open: new Set(), server: createServer() };
  silent.server.on('connection', (socket) => {
    silent.accepted += 1;
    silent.open.add(socket);
    socket.on('close', () => silent.open.delete(socket));
    socket.resume();
  });
  servers.push(silent.server);
  await new Promise<void>((resolve) => silent.server.listen(0, '127.0.0.1', resolve));
  silent.endpoint = `http://127.0.0.1:${(silent.server.address() as { port: number }).port}`;
  return silent;
}

/** The client production builds (3 attempts of up to 1.5 s each), pointed at `endpoint`. */
const clientOf = (endpoint: string) => createDynamoDbClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

/** A Lambda context whose remaining time counts down from `ms`, as the runtime's does. */
function contextWith(ms: number): Context {
  const end = Date.now() + ms;
  return { awsRequestId: 'ctx-1', getRemainingTimeInMillis: () => end - Date.now() } as Context;
}

const getItem = () => new GetItemCommand({ TableName: 'c', Key: { pk: { S: 'x' }, sk: { S: 'y' } } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const getEvent = { requestContext: { requestId: 'req-2', http: { method: 'GET', path: '/x', sourceIp: '127.0.0.1' } } } as unknown as APIGatewayProxyEventV2;

describe('a check-in while DynamoDB accepts connections and never answers', () => {
  it('answers 503 UNAVAILABLE before the remaining time runs out, and leaves no call behind', async () => {
    const dynamo = await silentDynamoDb();
    const client = clientOf(dynamo.endpoint);
    const tables = { configTable: 'c', decisionsTable: 'd', deviceStatusTable: 's' };
    const handler = makeHandler({
      policies: new PolicyCache(new DynamoDbConfigStore(client, tables.configTable), systemClock),
      decisions: new DynamoDbDecisionStore(client, { ...tables, retentionDays: 90 }),
      attempts: new DynamoDbUnauthenticatedAttemptStore(client, tables.decisionsTable),
      clock: systemClock,
    });
    // 2 s left: one attempt alone may take 1.5 s and three of them 4.5 s; the deadline is at 2 s - ANSWER_MARGIN_MS.
    const remainingMs = 2000;
    const started = Date.now();
    const response = (await handler(checkinEvent(), contextWith(remainingMs))) as APIGatewayProxyStructuredResultV2;
    const answeredAfter = Date.now() - started;

    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1', 'content-type': 'application/json' });
    expect(JSON.parse(response.body!)).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), requestId: 'req-1' } });
    expect(answeredAfter).toBeGreaterThanOrEqual(remainingMs - ANSWER_MARGIN_MS - 50);
    expect(answeredAfter).toBeLessThan(remainingMs);

    // The request in flight was aborted with the answer, and no attempt is started afterwards.
    await sleep(50);
    expect(dynamo.open.size).toBe(0);
    const acceptedAtAnswer = dynamo.accepted;
    expect(acceptedAtAnswer).toBeGreaterThan(0);
    await sleep(2000);
    expect(dynamo.accepted).toBe(acceptedAtAnswer);
  }, 15_000);
});

describe('httpStack: the invocation deadline on every DynamoDB call', () => {
  it('an aborted call is StoreUnavailableError, answered 503 with the contract shape', async () => {
    const dynamo = await silentDynamoDb();
    const client = clientOf(dynamo.endpoint);
    let thrown: unknown;
    const handler = httpStack(
      async () => {
        try {
          await callStore(() => client.send(getItem()));
        } catch (error) {
          thrown = error;
          throw error;
        }
        return { statusCode: 200, body: '' };
      },
      { maxBodyBytes: 10, readBody: false },
    );
    const response = (await handler(getEvent, contextWith(ANSWER_MARGIN_MS + 300))) as APIGatewayProxyStructuredResultV2;
    expect(thrown).toBeInstanceOf(StoreUnavailableError);
    expect((thrown as Error).cause).toMatchObject({ name: 'AbortError' });
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body!)).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), requestId: 'req-2' } });
  });

  it('a call still in flight when the handler answers is aborted at once (its socket closed), not left to its 1.5 s timeout', async () => {
    const dynamo = await silentDynamoDb();
    const client = clientOf(dynamo.endpoint);
    let leftBehind: Promise<unknown> | undefined;
    const handler = httpStack(
      async () => {
        leftBehind = client.send(getItem());
        leftBehind.catch(() => undefined);
        await sleep(100); // the request reaches the server
        return { statusCode: 200, body: '' };
      },
      { maxBodyBytes: 10, readBody: false },
    );
    const response = (await handler(getEvent, contextWith(10_000))) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(200);
    const answeredAt = Date.now();
    await expect(leftBehind).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - answeredAt).toBeLessThan(200);
    await sleep(50);
    expect(dynamo.open.size).toBe(0);
    expect(dynamo.accepted).toBe(1);
  });

  it('a call made after the deadline never reaches the network', async () => {
    const dynamo = await silentDynamoDb();
    const client = clientOf(dynamo.endpoint);
    const handler = httpStack(
      async () => {
        await sleep(150); // past a deadline of 100 ms
        await callStore(() => client.send(getItem()));
        return { statusCode: 200, body: '' };
      },
      { maxBodyBytes: 10, readBody: false },
    );
    const response = (await handler(getEvent, contextWith(ANSWER_MARGIN_MS + 100))) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(503);
    expect(dynamo.accepted).toBe(0);
  });

  it('outside an invocation (tests, scripts) a client has no deadline', async () => {
    expect(currentDeadline()).toBeUndefined();
    expect(deadlineSignal()).toBeUndefined();
  });
});

describe('the scheduled certificate expiry scan', () => {
  it('fails (and is retried by Lambda) before its timeout rather than timing out', async () => {
    const dynamo = await silentDynamoDb();
    const client = clientOf(dynamo.endpoint);
    const scan = expiryScan.makeHandler({
      config: new DynamoDbConfigStore(client, 'c'),
      marks: new DynamoDbExpiryAlertStore(client, 'c'),
      publisher: { publish: async () => undefined } as never,
      clock: systemClock,
    });
    const remainingMs = 1500;
    const started = Date.now();
    await expect(scan(undefined, contextWith(remainingMs))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(remainingMs);
    await sleep(50);
    expect(dynamo.open.size).toBe(0);
  });
});

describe('runWithDeadline', () => {
  it.each([
    // [context, the deadline's distance from now, in ms (Infinity: none)]
    ['10 s left', { getRemainingTimeInMillis: () => 10_000 }, 10_000 - ANSWER_MARGIN_MS],
    ['less left than the margin: already due', { getRemainingTimeInMillis: () => ANSWER_MARGIN_MS - 100 }, 0],
    ['no getRemainingTimeInMillis (a hand-written context)', {}, Number.POSITIVE_INFINITY],
    ['no context', undefined, Number.POSITIVE_INFINITY],
  ])('%s', async (_case, context, expected) => {
    const before = Date.now();
    const seen = await runWithDeadline(context, async () => currentDeadline()!);
    const distance = seen.at - before;
    if (expected === Number.POSITIVE_INFINITY) expect(distance).toBe(expected);
    else expect(Math.abs(distance - expected)).toBeLessThan(50);
    // Once the work has settled, its signal is aborted.
    expect(seen.signal.aborted).toBe(true);
  });

  it('is aborted by middy\'s own timeout signal too, and keeps concurrent invocations apart', async () => {
    const middyTimeout = new AbortController();
    const seen: AbortSignal[] = [];
    const first = runWithDeadline(contextWith(10_000), async () => {
      seen.push(deadlineSignal()!);
      await sleep(50);
      return deadlineSignal()!.aborted;
    }, { also: middyTimeout.signal });
    const second = runWithDeadline(contextWith(10_000), async () => {
      seen.push(deadlineSignal()!);
      await sleep(100);
      return deadlineSignal()!.aborted;
    });
    middyTimeout.abort();
    expect(await first).toBe(true);
    expect(await second).toBe(false);
    expect(seen[0]).not.toBe(seen[1]);
  });
});

describe('the local runner gives each invocation the remaining time of its function', () => {
  it('reads each function\'s timeout from serverless.yml (its own, else the provider\'s)', () => {
    const timeouts = Object.fromEntries(loadServerlessConfig().functions.map((fn) => [fn.name, fn.timeoutSeconds]));
    expect(timeouts).toMatchObject({ checkin: 10, imaging: 10, admin: 29 });
    const checkinRoute = loadServerlessConfig().functions.find((fn) => fn.name === 'checkin')!.httpRoutes[0];
    expect(checkinRoute.timeoutSeconds).toBe(10);
  });

  it('counts down, as the Lambda runtime\'s context does', async () => {
    const context = lambdaContext('checkin', 'r', 10);
    const first = context.getRemainingTimeInMillis();
    expect(first).toBeLessThanOrEqual(10_000);
    expect(first).toBeGreaterThan(9_900);
    await sleep(60);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(first - 50);
  });
});
