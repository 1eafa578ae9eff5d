// SNS failure modes through the real @aws-sdk/client-sns against the local SNS endpoint made slow or refusing:
// a slow SNS must not multiply copies, a permanent refusal is told apart from a transient one.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertPublishError, createSnsClient, SNS_REQUEST_TIMEOUT_MS, SnsAlertPublisher } from '../../lib/adapters/sns.ts';
import type { AlertMessage } from '../../lib/domain/alerts.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/sns-endpoint.ts';

let endpoint: SnsEndpoint;
let alertsFile: string;
let counter = 0;

function alert(): AlertMessage {
  counter += 1;
  return {
    type: 'DEVICE_BLOCKED',
    severity: 'high',
    subject: `Device SLOW-${counter} blocked`,
    message: { type: 'DEVICE_BLOCKED', alertId: `alert-${counter}`, occurredAt: '2026-12-01T22:00:00.000Z', deviceId: `SLOW-${counter}`, checkinId: 'c-1', violations: [] },
  };
}

function copiesOf(alertId: string): number {
  if (!existsSync(alertsFile)) return 0;
  return readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean).filter((line) => JSON.parse(line).message.alertId === alertId).length;
}

beforeAll(async () => {
  alertsFile = join(mkdtempSync(join(tmpdir(), 'tollgate-sns-failures-')), 'alerts.jsonl');
  endpoint = await startSnsEndpoint({ port: 0, alertsFile, print: () => undefined });
  Object.assign(process.env, { AWS_ENDPOINT_URL_SNS: endpoint.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
});

afterEach(() => {
  endpoint.setLatency(0);
  endpoint.refuseWith(undefined);
});

afterAll(async () => {
  await endpoint?.stop();
  rmSync(dirname(alertsFile), { recursive: true, force: true });
});

describe('a slow SNS (the message kept, the answer 3 s late)', () => {
  it('with a request timeout below the answer time, the SDK sends the message again on each timeout: 3 copies from one publish', async () => {
    // The configuration before: 3 attempts of 2 s. Each attempt's message was kept; each answer came too late.
    const before = new SNSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true } });
    endpoint.setLatency(3000);
    const sent = alert();
    await expect(new SnsAlertPublisher(before, endpoint.topicArn).publish(sent)).rejects.toThrow(AlertPublishError);
    expect(copiesOf(sent.message.alertId)).toBe(3);
    before.destroy();
  }, 30_000);

  it('createSnsClient waits for the slow answer: exactly one copy, published', async () => {
    expect(SNS_REQUEST_TIMEOUT_MS).toBeGreaterThan(3000);
    endpoint.setLatency(3000);
    const sent = alert();
    await new SnsAlertPublisher(createSnsClient(), endpoint.topicArn).publish(sent);
    expect(copiesOf(sent.message.alertId)).toBe(1);
  }, 30_000);

  it('the caller deadline aborts a publish that would outlive it, and the error is a transient one (retried)', async () => {
    endpoint.setLatency(5000);
    const sent = alert();
    const started = Date.now();
    const failure = new SnsAlertPublisher(createSnsClient(), endpoint.topicArn).publish(sent, { signal: AbortSignal.timeout(1000) });
    await expect(failure).rejects.toMatchObject({ name: 'AlertPublishError', permanent: false });
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);
});

describe('SNS refusing', () => {
  it.each([
    ['KMSDisabled', 400, true],
    ['KMSAccessDenied', 400, true],
    ['InvalidParameter', 400, true],
    ['AuthorizationError', 403, true],
    ['Throttled', 400, false],
    ['InternalError', 500, false],
  ])('%s (HTTP %i): permanent %s', async (code, statusCode, permanent) => {
    endpoint.refuseWith({ code, statusCode });
    const sent = alert();
    const failure = new SnsAlertPublisher(createSnsClient(), endpoint.topicArn).publish(sent);
    await expect(failure).rejects.toMatchObject({ name: 'AlertPublishError', alertId: sent.message.alertId, permanent });
    expect(copiesOf(sent.message.alertId)).toBe(0);
  }, 30_000);
});
