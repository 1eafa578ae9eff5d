// The whole service on one machine: DynamoDB Local, the local SNS endpoint, the handlers of serverless.yml behind
// HTTP and HTTPS, and the stream delivery to the alerts function. Used by `npm start` and the end-to-end tests.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { readTrustedProxyConfig } from '../lib/config.ts';
import { describeServerCertificate } from '../lib/domain/trust-material.ts';
import { createApiGateway, lambdaContext, type LambdaHandler, type RouteTarget } from './api-gateway.ts';
import {
  type DynamoDbLocal,
  dynamoDbLocalExposureNote,
  ensurePortFree,
  ensurePrivateDirectory,
  ensureTables,
  localDynamoDbClient,
  startDynamoDbLocal,
  tableNamesFor,
} from './dynamodb-local.ts';
import { loadServerlessConfig, passesFilterPatterns, PROJECT_ROOT, resolveEnvironment, type ServerlessConfig } from './serverless-config.ts';
import { type SnsEndpoint, startSnsEndpoint } from './sns-endpoint.ts';
import { type StreamPoller, startStreamPoller } from './stream-poller.ts';
import type { RequestSummary } from './terminal.ts';
import { loadOrCreateServerCertificate } from './tls.ts';
import { ConfigError } from '../lib/config.ts';
import { parseAdminTokens } from '../lib/http/admin-auth.ts';

export interface LocalStackOptions {
  port: number;
  tlsPort: number;
  dynamoDbPort: number;
  dataDir: string;
  /** The admin bearer token; generated and saved under dataDir when absent. */
  adminToken?: string;
  /** Extra `name:role:sha256hex` entries, as in production. */
  adminTokens?: string;
  /** Use this DynamoDB (Local) endpoint instead of starting one. */
  dynamoDbEndpoint?: string;
  snsPort?: number;
  tablePrefix?: string;
  /** Values for serverless.yml's ${param:…} (trustedClientCertHeader, decisionRetentionDays, …). */
  params?: Record<string, string>;
  /**
   * TRUSTED_PROXY_SECRET, needed with params.trustedClientCertHeader (API.md §1, way 2). In AWS the check-in function
   * reads it from SSM; local mode has no Parameter Store and gives it to the handlers directly.
   */
  trustedProxySecret?: string;
  log?: (line: string) => void;
  /** Told of every answered HTTP request. */
  onRequest?: (summary: RequestSummary) => void;
}

export interface LocalStack {
  httpUrl: string;
  httpsUrl: string;
  adminToken: string;
  dataDir: string;
  dynamoDbEndpoint: string;
  tableNames: Record<string, string>;
  sns: SnsEndpoint;
  /** The TLS server certificate (PEM), for clients that want to verify it. */
  serverCertificatePem: string;
  /** Runs one function of serverless.yml once with the given event. */
  invoke(functionName: string, event?: unknown): Promise<unknown>;
  /** Waits until every device-status change so far has been handed to the alerts function. */
  drainAlerts(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** What `npm run invoke` needs to find the running stack. */
export interface LocalStackState {
  env: Record<string, string>;
  pid: number;
}

export const STATE_FILE = 'local-stack.json';
export const ALERTS_FILE = 'alerts.jsonl';
const LOCAL_TOPIC_LOGICAL_ID = 'AlertTopic';

function loadAdminToken(dataDir: string, given?: string): { token: string; generated: boolean } {
  if (given) return { token: given, generated: false };
  const path = join(dataDir, 'admin-token');
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), generated: false };
  const token = randomBytes(32).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolveListen(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** The variables local mode keeps out of $DATA_DIR/local-stack.json (`npm run invoke` takes them from its own environment). */
const SECRET_VARIABLES = ['TRUSTED_PROXY_SECRET'];

/**
 * Sets the environment the handlers read at import, the way Lambda would from serverless.yml, with the trusted
 * proxy's secret itself in place of the name of its SSM parameter.
 */
function functionEnvironment(
  config: ServerlessConfig,
  values: Parameters<typeof resolveEnvironment>[2],
  base: Record<string, string>,
  trustedProxySecret: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = { ...base };
  for (const fn of config.functions) Object.assign(env, resolveEnvironment(config, fn, values));
  env.TRUSTED_PROXY_SECRET = trustedProxySecret ?? '';
  env.TRUSTED_PROXY_SECRET_PARAMETER = '';
  return env;
}

/** What was started, stopped in the reverse order; a failed stop does not keep the others from stopping. */
class Stoppers {
  private readonly stops: (() => Promise<void>)[] = [];

  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async stopAll(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch(() => undefined);
  }
}

/** The DynamoDB endpoint given, or a DynamoDB Local started under dataDir. */
async function dynamoDbEndpointFor(options: LocalStackOptions, dataDir: string, log: (line: string) => void, stoppers: Stoppers): Promise<string> {
  if (options.dynamoDbEndpoint) return options.dynamoDbEndpoint;
  const dynamoDb: DynamoDbLocal = await startDynamoDbLocal({ port: options.dynamoDbPort, dataDir: join(dataDir, 'dynamodb') });
  stoppers.add(() => dynamoDb.stop());
  log(dynamoDbLocalExposureNote(dynamoDb.port));
  return dynamoDb.endpoint;
}

/**
 * Gives the handlers their environment: in process.env, where they read it at import (Lambda would give each
 * function its own; here they share one process, and their variables do not clash), and in $DATA_DIR/local-stack.json
 * for `npm run invoke`, without the secrets. The caller's own log level wins (tests run silent); NODE_OPTIONS stays
 * the caller's.
 */
function exportEnvironment(env: Record<string, string>, dataDir: string): void {
  Object.assign(process.env, env, {
    NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
  });
  const recordedEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_VARIABLES.includes(name)));
  writeFileSync(join(dataDir, STATE_FILE), JSON.stringify({ env: recordedEnv, pid: process.pid } satisfies LocalStackState, null, 2), { mode: 0o600 });
}

/** Each function's handler, imported as Lambda would (after the environment is set). */
async function loadHandlers(config: ServerlessConfig): Promise<Map<string, LambdaHandler>> {
  const handlers = new Map<string, LambdaHandler>();
  for (const fn of config.functions) {
    const module = await import(pathToFileURL(join(PROJECT_ROOT, fn.module)).href);
    handlers.set(fn.name, module[fn.exportName]);
  }
  return handlers;
}

/** The HTTPS server's self-signed certificate is the server certificate devices see: registered on the first start. */
async function registerServerCertificate(configStore: DynamoDbConfigStore, pem: string): Promise<void> {
  if (await configStore.getServerCertificate()) return;
  const certificate = describeServerCertificate(pem);
  const { version } = await configStore.getSettings();
  await configStore.commit({
    change: { kind: 'SERVER_CERTIFICATE', certificate },
    expect: { serverCertificate: null },
    history: { version, actor: 'local-runner', changedAt: new Date().toISOString(), changes: [{ field: 'serverCertificate', from: null, to: certificate.sha256 }] },
  });
}

function closeOnStop(server: Server, stoppers: Stoppers): void {
  stoppers.add(
    () =>
      new Promise((resolveClose) => {
        server.closeAllConnections?.();
        server.close(() => resolveClose());
      }),
  );
}

/** The HTTP routes of serverless.yml over HTTP and HTTPS, as API Gateway would serve them. */
async function startGateways(
  config: ServerlessConfig,
  handlers: Map<string, LambdaHandler>,
  tls: { key: string; cert: string },
  options: LocalStackOptions,
  log: (line: string) => void,
  stoppers: Stoppers,
): Promise<{ port: number; tlsPort: number }> {
  const targets: RouteTarget[] = config.functions.flatMap((fn) => fn.httpRoutes.map((route) => ({ route, invoke: handlers.get(fn.name)! })));
  const onError = (error: unknown) => log(`Handler failed: ${(error as Error)?.stack ?? String(error)}`);
  const httpServer = createApiGateway({ targets, onError, onRequest: options.onRequest });
  const httpsServer = createApiGateway({ targets, onError, onRequest: options.onRequest, tls: { key: tls.key, cert: tls.cert } }) as Server;
  const port = await listen(httpServer, options.port);
  closeOnStop(httpServer, stoppers);
  const tlsPort = await listen(httpsServer, options.tlsPort);
  closeOnStop(httpsServer, stoppers);
  return { port, tlsPort };
}

/** The stream deliveries of serverless.yml (the alerts function on the device-status stream), as Lambda's mapping. */
function startPollers(
  config: ServerlessConfig,
  handlers: Map<string, LambdaHandler>,
  where: { endpoint: string; tableNames: Record<string, string>; dataDir: string },
  log: (line: string) => void,
  stoppers: Stoppers,
): StreamPoller[] {
  const pollers: StreamPoller[] = [];
  for (const fn of config.functions) {
    for (const stream of fn.streams) {
      const poller = startStreamPoller({
        endpoint: where.endpoint,
        tableName: where.tableNames[stream.tableLogicalId],
        checkpointFile: join(where.dataDir, `stream-${fn.name}-${stream.tableLogicalId}.json`),
        batchSize: stream.batchSize,
        // As Lambda's FilterCriteria: records no pattern matches never reach the function; an empty batch is no call.
        handler: (event) => {
          const Records = event.Records.filter((record) => passesFilterPatterns(record, stream.filterPatterns));
          return Records.length === 0 ? Promise.resolve({ batchItemFailures: [] }) : handlers.get(fn.name)!({ ...event, Records }, lambdaContext(fn.name));
        },
        log,
      });
      pollers.push(poller);
      stoppers.add(() => poller.stop());
    }
  }
  return pollers;
}

/** Runs one function of serverless.yml once with the given event, as `npm run invoke` does. */
function invokerFor(handlers: Map<string, LambdaHandler>): LocalStack['invoke'] {
  return async (functionName, event = {}) => {
    const handler = handlers.get(functionName);
    if (!handler) throw new Error(`No function "${functionName}" in serverless.yml; there are: ${[...handlers.keys()].join(', ')}`);
    return handler(event, lambdaContext(functionName));
  };
}

/** ADMIN_TOKENS naming the local admin token again would be refused as a duplicate of an entry the user never wrote. */
function refuseLocalTokenAmong(adminTokens: string | undefined, localToken: string): void {
  if (!adminTokens?.trim()) return;
  const localDigest = createHash('sha256').update(localToken).digest();
  const entries = parseAdminTokens(adminTokens);
  const index = entries.findIndex((entry) => entry.digest.equals(localDigest));
  if (index < 0) return;
  const position = adminTokens.split(',').map((e) => e.trim()).findIndex((e, i, all) => e !== '' && all.slice(0, i + 1).filter(Boolean).length === index + 1) + 1;
  throw new ConfigError(
    `ADMIN_TOKENS entry ${position} ("${entries[index].name}") is the local admin token (ADMIN_TOKEN or $DATA_DIR/admin-token), which npm start accepts as local-admin already; remove that entry`,
  );
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = resolve(options.dataDir);
  const config = loadServerlessConfig();
  const params = { ...options.params };
  // A trusted proxy header without its secret is refused (ConfigError, one line) before anything starts.
  readTrustedProxyConfig(functionEnvironment(config, { tableNames: {}, resourceRefs: {}, params }, {}, options.trustedProxySecret));
  // The user's ADMIN_TOKENS alone first, so that a mistake is reported by its position in what they wrote.
  if (options.adminTokens?.trim()) parseAdminTokens(options.adminTokens);
  ensurePrivateDirectory(dataDir);
  const stoppers = new Stoppers();
  const stop = () => stoppers.stopAll();

  try {
    // Refuse taken ports before starting anything.
    await ensurePortFree(options.port, 'HTTP', 'PORT');
    await ensurePortFree(options.tlsPort, 'HTTPS', 'TLS_PORT');
    const dynamoDbEndpoint = await dynamoDbEndpointFor(options, dataDir, log, stoppers);
    const tableNames = tableNamesFor(config, options.tablePrefix ?? 'tollgate-local');
    const client = localDynamoDbClient(dynamoDbEndpoint);
    stoppers.add(async () => client.destroy());
    await ensureTables(client, config, tableNames, log);
    const sns = await startSnsEndpoint({ port: options.snsPort ?? 0, alertsFile: join(dataDir, ALERTS_FILE), print: log });
    stoppers.add(() => sns.stop());

    const { token: adminToken, generated } = loadAdminToken(dataDir, options.adminToken);
    const localEntry = `local-admin:admin:${createHash('sha256').update(adminToken).digest('hex')}`;
    refuseLocalTokenAmong(options.adminTokens, adminToken);
    // The local entry last: the user's entries keep their positions in any message about them.
    const adminTokens = [options.adminTokens, localEntry].filter(Boolean).join(',');
    const localAws = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint, AWS_ENDPOINT_URL_SNS: sns.url };
    const values = { tableNames, resourceRefs: { [LOCAL_TOPIC_LOGICAL_ID]: sns.topicArn }, params: { adminTokens, ...params } };
    exportEnvironment(functionEnvironment(config, values, localAws, options.trustedProxySecret), dataDir);
    const handlers = await loadHandlers(config);

    const tls = loadOrCreateServerCertificate(dataDir);
    const configStore = new DynamoDbConfigStore(client, tableNames.ConfigTable);
    // What the deployment's seed-config resource does: settings version 1 when absent (a missing one answers 503).
    await configStore.initializeSettings(new Date());
    await registerServerCertificate(configStore, tls.cert);
    const { port, tlsPort } = await startGateways(config, handlers, tls, options, log, stoppers);
    const pollers = startPollers(config, handlers, { endpoint: dynamoDbEndpoint, tableNames, dataDir }, log, stoppers);

    if (generated) log(`Admin token (saved to ${join(dataDir, 'admin-token')}): ${adminToken}`);
    else if (!options.adminToken) log(`Admin token: the one saved in ${join(dataDir, 'admin-token')}`);
    return {
      invoke: invokerFor(handlers),
      httpUrl: `http://127.0.0.1:${port}`,
      httpsUrl: `https://127.0.0.1:${tlsPort}`,
      adminToken,
      dataDir,
      dynamoDbEndpoint,
      tableNames,
      sns,
      serverCertificatePem: tls.cert,
      drainAlerts: async (timeoutMs) => {
        for (const poller of pollers) await poller.drain(timeoutMs);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
