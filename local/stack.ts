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
import { loadServerlessConfig, PROJECT_ROOT, resolveEnvironment, type ServerlessConfig } from './serverless-config.ts';
import { type SnsEndpoint, startSnsEndpoint } from './sns-endpoint.ts';
import { type StreamPoller, startStreamPoller } from './stream-poller.ts';
import { loadOrCreateServerCertificate } from './tls.ts';

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

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = resolve(options.dataDir);
  const config = loadServerlessConfig();
  const params = { ...options.params };
  // A trusted proxy header without its secret is refused (ConfigError, one line) before anything starts.
  readTrustedProxyConfig(functionEnvironment(config, { tableNames: {}, resourceRefs: {}, params }, {}, options.trustedProxySecret));
  ensurePrivateDirectory(dataDir);
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };

  try {
    // Refuse taken ports before starting anything.
    await ensurePortFree(options.port, 'HTTP', 'PORT');
    await ensurePortFree(options.tlsPort, 'HTTPS', 'TLS_PORT');

    let dynamoDb: DynamoDbLocal | undefined;
    let dynamoDbEndpoint = options.dynamoDbEndpoint;
    if (!dynamoDbEndpoint) {
      dynamoDb = await startDynamoDbLocal({ port: options.dynamoDbPort, dataDir: join(dataDir, 'dynamodb') });
      stoppers.push(() => dynamoDb!.stop());
      dynamoDbEndpoint = dynamoDb.endpoint;
      log(dynamoDbLocalExposureNote(dynamoDb.port));
    }
    const tableNames = tableNamesFor(config, options.tablePrefix ?? 'tollgate-local');
    const client = localDynamoDbClient(dynamoDbEndpoint);
    stoppers.push(async () => client.destroy());
    await ensureTables(client, config, tableNames);

    const sns = await startSnsEndpoint({ port: options.snsPort ?? 0, alertsFile: join(dataDir, ALERTS_FILE), print: log });
    stoppers.push(() => sns.stop());

    const { token: adminToken, generated } = loadAdminToken(dataDir, options.adminToken);
    const adminTokens = [`local-admin:admin:${createHash('sha256').update(adminToken).digest('hex')}`, options.adminTokens]
      .filter(Boolean)
      .join(',');
    const env = functionEnvironment(
      config,
      { tableNames, resourceRefs: { [LOCAL_TOPIC_LOGICAL_ID]: sns.topicArn }, params: { adminTokens, ...params } },
      {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint,
        AWS_ENDPOINT_URL_SNS: sns.url,
      },
      options.trustedProxySecret,
    );
    // Lambda would give each function its own environment; here they share one process, and their variables do not clash.
    // The caller's own log level wins (tests run silent); NODE_OPTIONS stays the caller's.
    Object.assign(process.env, env, {
      NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
    });
    const recordedEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_VARIABLES.includes(name)));
    writeFileSync(join(dataDir, STATE_FILE), JSON.stringify({ env: recordedEnv, pid: process.pid } satisfies LocalStackState, null, 2), { mode: 0o600 });

    const handlers = new Map<string, LambdaHandler>();
    for (const fn of config.functions) {
      const module = await import(pathToFileURL(join(PROJECT_ROOT, fn.module)).href);
      handlers.set(fn.name, module[fn.exportName]);
    }

    // The HTTPS server's self-signed certificate is the server certificate devices see: register it (first start).
    const tls = loadOrCreateServerCertificate(dataDir);
    const configStore = new DynamoDbConfigStore(client, tableNames.ConfigTable);
    if (!(await configStore.getServerCertificate())) {
      const certificate = describeServerCertificate(tls.cert);
      const { version } = await configStore.getSettings();
      await configStore.commit({
        change: { kind: 'SERVER_CERTIFICATE', certificate },
        expect: { serverCertificate: null },
        history: { version, actor: 'local-runner', changedAt: new Date().toISOString(), changes: [{ field: 'serverCertificate', from: null, to: certificate.sha256 }] },
      });
    }

    const targets: RouteTarget[] = config.functions.flatMap((fn) =>
      fn.httpRoutes.map((route) => ({ route, invoke: handlers.get(fn.name)! })),
    );
    const onError = (error: unknown) => log(`Handler failed: ${(error as Error)?.stack ?? String(error)}`);
    const httpServer = createApiGateway({ targets, onError });
    const httpsServer = createApiGateway({ targets, onError, tls: { key: tls.key, cert: tls.cert } });
    const port = await listen(httpServer, options.port);
    stoppers.push(() => new Promise((r) => { httpServer.closeAllConnections?.(); httpServer.close(() => r()); }));
    const tlsPort = await listen(httpsServer, options.tlsPort);
    stoppers.push(() => new Promise((r) => { (httpsServer as Server).closeAllConnections?.(); httpsServer.close(() => r()); }));

    const pollers: StreamPoller[] = [];
    for (const fn of config.functions) {
      for (const stream of fn.streams) {
        const poller = startStreamPoller({
          endpoint: dynamoDbEndpoint,
          tableName: tableNames[stream.tableLogicalId],
          checkpointFile: join(dataDir, `stream-${fn.name}-${stream.tableLogicalId}.json`),
          batchSize: stream.batchSize,
          handler: (event) => handlers.get(fn.name)!(event, lambdaContext(fn.name)),
          log,
        });
        pollers.push(poller);
        stoppers.push(() => poller.stop());
      }
    }

    if (generated) log(`Admin token (saved to ${join(dataDir, 'admin-token')}): ${adminToken}`);
    else if (!options.adminToken) log(`Admin token: the one saved in ${join(dataDir, 'admin-token')}`);
    return {
      httpUrl: `http://127.0.0.1:${port}`,
      httpsUrl: `https://127.0.0.1:${tlsPort}`,
      adminToken,
      dataDir,
      dynamoDbEndpoint,
      tableNames,
      sns,
      serverCertificatePem: tls.cert,
      invoke: async (functionName, event = {}) => {
        const handler = handlers.get(functionName);
        if (!handler) throw new Error(`No function "${functionName}" in serverless.yml; there are: ${[...handlers.keys()].join(', ')}`);
        return handler(event, lambdaContext(functionName));
      },
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
