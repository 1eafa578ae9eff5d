// SnsAlertPublisher through the real @aws-sdk/client-sns against the local SNS endpoint (local/sns-endpoint.ts):
// the Query protocol both ways, alerts.jsonl, SNS's errors, and the outage switch.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AlertPublishError, createSnsClient, SnsAlertPublisher } from '../../lib/adapters/sns.ts';
import type { AlertMessage } from '../../lib/domain/alerts.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/sns-endpoint.ts';

let endpoint: SnsEndpoint;
let alertsFile: string;
const printed: string[] = [];

const alert: AlertMessage = {
  type: 'DEVICE_BLOCKED',
  severity: 'high',
  subject: 'Device C02XK1JHJG5J blocked: clock skew 412 s > 300 s',
  message: {
    type: 'DEVICE_BLOCKED',
    alertId: '3b0c8a52-4f2e-8c1d-9a7b-0123456789ab',
    occurredAt: '2026-11-25T18:06:03.120Z',
    deviceId: 'C02XK1JHJG5J',
    checkinId: 'c-1',
    violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'Ünïcödé & <xml> "quotes" = + / %', skewSeconds: 412, maxClockSkewSeconds: 300 }],
  },
};

function lines(): unknown[] {
  if (!existsSync(alertsFile)) return [];
  return readFileSync(alertsFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

function client(): SNSClient {
  return new SNSClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}

beforeAll(async () => {
  alertsFile = join(mkdtempSync(join(tmpdir(), 'tollgate-sns-')), 'alerts.jsonl');
  endpoint = await startSnsEndpoint({ port: 0, alertsFile, print: (line) => printed.push(line) });
});

afterAll(async () => {
  await endpoint?.stop();
});

describe('local SNS endpoint', () => {
  it('takes a Publish from SnsAlertPublisher (SDK client from AWS_ENDPOINT_URL_SNS) and appends one alerts.jsonl line', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', endpoint.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    const sns = createSnsClient();
    await new SnsAlertPublisher(sns, endpoint.topicArn).publish(alert);
    vi.unstubAllEnvs();
    expect(lines()).toEqual([{ subject: alert.subject, message: alert.message, messageAttributes: { type: 'DEVICE_BLOCKED', severity: 'high' } }]);
    expect(printed.at(-1)).toBe('SNS alert [high DEVICE_BLOCKED]: Device C02XK1JHJG5J blocked: clock skew 412 s > 300 s');
    sns.destroy();
  });

  it('answers with a MessageId the SDK parses', async () => {
    const result = await client().send(new PublishCommand({ TopicArn: endpoint.topicArn, Message: 'plain text' }));
    expect(result.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(lines().at(-1)).toEqual({ subject: null, message: 'plain text', messageAttributes: {} });
  });

  it('refuses an unknown topic with SNS NotFound, and writes nothing', async () => {
    const before = lines().length;
    const failure = client().send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:nope', Message: '{}' }));
    await expect(failure).rejects.toBeInstanceOf(NotFoundException);
    await expect(failure).rejects.toMatchObject({ message: 'Topic does not exist', $metadata: { httpStatusCode: 404 } });
    expect(lines()).toHaveLength(before);
  });

  it.each([
    { name: 'a subject of 100 characters', input: { Subject: 'x'.repeat(100), Message: '{}' } },
    { name: 'a subject with a line break', input: { Subject: 'two\nlines', Message: '{}' } },
    { name: 'a subject with non-ASCII characters', input: { Subject: 'Zertifikat München', Message: '{}' } },
    { name: 'an empty message', input: { Message: '' } },
  ])('refuses $name with InvalidParameter, as SNS does', async ({ input }) => {
    await expect(client().send(new PublishCommand({ TopicArn: endpoint.topicArn, ...input }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('pause() makes Publish fail as an unreachable SNS does (connection refused), resume() brings it back on the same port', async () => {
    const publisher = new SnsAlertPublisher(client(), endpoint.topicArn);
    await publisher.publish(alert); // a kept-alive connection exists now
    const url = endpoint.url;
    await endpoint.pause();
    const started = Date.now();
    const failure = publisher.publish(alert);
    await expect(failure).rejects.toBeInstanceOf(AlertPublishError);
    // The kept-alive connection is dropped (ECONNRESET), a new one refused (ECONNREFUSED).
    await expect(failure).rejects.toMatchObject({ cause: { code: expect.stringMatching(/^(ECONNREFUSED|ECONNRESET)$/) } });
    await expect(publisher.publish(alert)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    expect(Date.now() - started).toBeLessThan(2000);
    const count = lines().length;
    await endpoint.resume();
    expect(endpoint.url).toBe(url);
    await publisher.publish(alert);
    expect(lines()).toHaveLength(count + 1);
  });
});
