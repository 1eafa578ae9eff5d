// `npm run invoke -- <function>` (local/invoke.ts) as a separate process against a running local stack: the
// certificate expiry scan on demand, events passed with --data, and clear errors when the stack is not running.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { describeServerCertificate } from '../../lib/domain/trust-material.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import { loadServerlessConfig, PROJECT_ROOT } from '../../local/serverless-config.ts';
import type { LocalStack } from '../../local/stack.ts';
import { seed } from '../support/config.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import { startTestStack } from '../support/local-stack.ts';

const DAY = 86_400_000;
let stack: LocalStack;
let factory: CertificateFactory;
let expiringCa: MadeCertificate;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `npm run invoke -- …args` is `tsx local/invoke.ts …args`; most cases run that directly (npm costs a second each).
 * `viaNpm` goes through the package.json script itself (-s: without npm's banner on stdout).
 */
function invoke(args: string[], dataDir: string, viaNpm = false): Promise<Run> {
  const [command, commandArgs] = viaNpm
    ? ['npm', ['run', '-s', 'invoke', '--', ...args]]
    : [join(PROJECT_ROOT, 'node_modules/.bin/tsx'), [join(PROJECT_ROOT, 'local/invoke.ts'), ...args]];
  return new Promise((resolve) => {
    execFile(
      command,
      commandArgs,
      { cwd: PROJECT_ROOT, env: { ...process.env, DATA_DIR: dataDir }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  stack = await startTestStack();
  factory = CertificateFactory.create();
  expiringCa = factory.makeRootCa({ cn: 'Expiring Device CA', keyType: 'ec256', notAfter: new Date(Date.now() + 10 * DAY + 3_600_000) });
  const client = localDynamoDbClient(stack.dynamoDbEndpoint);
  await seed(new DynamoDbConfigStore(client, stack.tableNames.ConfigTable), { kind: 'DEVICE_CAS', certificates: [describeServerCertificate(expiringCa.pem)] });
  client.destroy();
});

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
});

describe('npm run invoke', () => {
  it('runs certExpiryScan against the running stack, prints { checked, alerted } as JSON, and alerts once', async () => {
    const run = await invoke(['certExpiryScan'], stack.dataDir, true);
    expect(run.code, run.stderr).toBe(0);
    // stdout is the result alone (logs go to stderr), so it parses as it is.
    const result = JSON.parse(run.stdout);
    expect(result).toEqual({
      checked: 2, // the device CA and the local runner's own server certificate (825 days)
      alerted: [
        {
          type: 'CERTIFICATE_EXPIRING',
          severity: 'warning',
          alertId: expect.any(String),
          kind: 'DEVICE_CA',
          subject: 'CN=Expiring Device CA',
          sha256: expiringCa.fingerprint,
          notAfter: expiringCa.notAfter.toISOString(),
          daysRemaining: 10,
          threshold: 14,
        },
      ],
    });

    const lines = readFileSync(join(stack.dataDir, 'alerts.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        subject: 'Device CA certificate Expiring Device CA expires in 10 days',
        message: {
          type: 'CERTIFICATE_EXPIRING',
          alertId: result.alerted[0].alertId,
          occurredAt: expect.any(String),
          certificate: { kind: 'DEVICE_CA', subject: 'CN=Expiring Device CA', notAfter: expiringCa.notAfter.toISOString(), daysRemaining: 10, sha256: expiringCa.fingerprint },
        },
        messageAttributes: { type: 'CERTIFICATE_EXPIRING', severity: 'warning' },
      },
    ]);

    // Each threshold once: a second run the same day alerts nothing.
    const again = await invoke(['certExpiryScan'], stack.dataDir);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ checked: 2, alerted: [] });
  });

  it('passes --data as the event', async () => {
    const run = await invoke(['alerts', '--data', '{"Records":[]}'], stack.dataDir);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ batchItemFailures: [] });
  });

  it('answers an event without requestContext with 400 INVALID_REQUEST from every HTTP function, never 500', async () => {
    const httpFunctions = loadServerlessConfig().functions.filter((fn) => fn.httpRoutes.length > 0).map((fn) => fn.name);
    expect(httpFunctions).toEqual(expect.arrayContaining(['checkin', 'imaging', 'admin', 'fallback']));
    for (const name of httpFunctions) {
      const run = await invoke([name, '--data', '{}'], stack.dataDir);
      expect(run.code, `${name}: ${run.stderr}`).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.statusCode, name).toBe(400);
      expect(JSON.parse(result.body)).toEqual({
        error: {
          code: 'INVALID_REQUEST',
          message:
            'The event is not an API Gateway HTTP API request (payload format 2.0): it has no requestContext.http; send the request over HTTP instead (npm start serves every route)',
          requestId: expect.any(String),
        },
      });
    }
  }, 240_000);

  it('says clearly when the stack is not running, or the function or arguments are wrong', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tollgate-invoke-'));
    const stale = mkdtempSync(join(tmpdir(), 'tollgate-invoke-'));
    // A state file left behind by a stack whose DynamoDB Local is gone.
    writeFileSync(join(stale, 'local-stack.json'), JSON.stringify({ env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' }, pid: process.pid }));
    const [notStarted, gone, unknown, badJson, usage] = await Promise.all([
      invoke(['certExpiryScan'], empty),
      invoke(['certExpiryScan'], stale),
      invoke(['noSuchFunction'], stack.dataDir),
      invoke(['alerts', '--data', '{nope'], stack.dataDir),
      invoke([], stack.dataDir),
    ]);
    expect(notStarted).toMatchObject({ code: 1, stdout: '' });
    expect(notStarted.stderr).toContain(`The local stack is not running (no ${join(empty, 'local-stack.json')}); start it with \`npm start\``);
    expect(gone).toMatchObject({ code: 1, stdout: '' });
    expect(gone.stderr).toContain('The local stack is not running (DynamoDB Local at http://127.0.0.1:9 does not answer)');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No function "noSuchFunction" in serverless.yml; there are: .*certExpiryScan/);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('--data is not valid JSON');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("Usage: npm run invoke -- <function> [--data '<json event>']");
    expect(existsSync(join(empty, 'alerts.jsonl'))).toBe(false);
  }, 240_000);
});
