// DynamoDB Local as local mode and the tests start it (API.md §5): telemetry off, CORS closed to every origin, and
// its data in a folder only its owner can read.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local.ts';

let dynamoDb: DynamoDbLocal;
let dataDir: string;

beforeAll(async () => {
  // A folder that exists already with the usual 0755: starting narrows it.
  dataDir = join(mkdtempSync(join(tmpdir(), 'tollgate-ddb-')), 'dynamodb');
  mkdirSync(dataDir, { mode: 0o755 });
  dynamoDb = await startDynamoDbLocal({ port: 0, dataDir });
});

afterAll(async () => {
  await dynamoDb?.stop();
});

/** What a browser page of another origin would send: a CORS preflight, then the request itself. */
async function fromOrigin(origin: string) {
  const preflight = await fetch(dynamoDb.endpoint, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type,x-amz-target' },
  });
  const request = await fetch(dynamoDb.endpoint, {
    method: 'POST',
    headers: {
      Origin: origin,
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'DynamoDB_20120810.ListTables',
      Authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
    },
    body: '{}',
  });
  return { preflight, request };
}

describe('DynamoDB Local, closed by default', () => {
  it.each([
    // Origin | why
    ['http://evil.example', 'any web page'],
    ['null', 'sandboxed frames and file: pages send this'],
    ['http://127.0.0.1:3000', 'not even the local runner: nothing in a browser talks to DynamoDB Local'],
  ])('gives no Access-Control-Allow-Origin to Origin %s (%s)', async (origin) => {
    const { preflight, request } = await fromOrigin(origin);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    // The request itself is served (the SDK sends no Origin), but a browser would not let the page read it.
    expect(request.status).toBe(200);
    expect(request.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('runs with telemetry off and an empty CORS allow-list', () => {
    const args = dynamoDb.args;
    expect(args).toContain('-disableTelemetry');
    expect(args[args.indexOf('-cors') + 1]).toBe('');
    expect(args).toEqual(expect.arrayContaining(['-port', String(dynamoDb.port), '-dbPath', dataDir, '-sharedDb']));
  });

  it.runIf(existsSync('/proc/self/cmdline'))('the Java process got those arguments (/proc)', () => {
    const argv = readFileSync(`/proc/${dynamoDb.pid}/cmdline`, 'utf8').split('\0');
    expect(argv[0]).toMatch(/java$/);
    expect(argv).toContain('-disableTelemetry');
    expect(argv[argv.indexOf('-cors') + 1]).toBe('');
    expect(argv.some((arg) => arg.endsWith('DynamoDBLocal.jar'))).toBe(true);
  });

  it('keeps its data in a folder only its owner can read, narrowing one that existed', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it('creates a missing data folder with mode 0700', async () => {
    const fresh = join(mkdtempSync(join(tmpdir(), 'tollgate-ddb-')), 'a', 'dynamodb');
    const second = await startDynamoDbLocal({ port: 0, dataDir: fresh });
    try {
      expect(statSync(fresh).mode & 0o777).toBe(0o700);
    } finally {
      await second.stop();
    }
  });
});
