// Both AlertPublisher adapters pass the same contract: SNS (through the SDK, against the local SNS endpoint) and memory.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll } from 'vitest';
import { InMemoryAlertPublisher } from '../../lib/adapters/memory/alert-publisher.ts';
import { SnsAlertPublisher } from '../../lib/adapters/sns.ts';
import type { AlertMessage } from '../../lib/domain/alerts.ts';
import { type PublishedAlertLine, type SnsEndpoint, startSnsEndpoint } from '../../local/sns-endpoint.ts';
import { alertPublisherContract } from '../contract/alert-publisher.contract.ts';

const endpoints: SnsEndpoint[] = [];
afterAll(async () => {
  for (const endpoint of endpoints) await endpoint.stop();
});

alertPublisherContract('InMemoryAlertPublisher', async () => {
  const publisher = new InMemoryAlertPublisher();
  return { publisher, delivered: async () => publisher.published };
});

alertPublisherContract('SnsAlertPublisher', async () => {
  const alertsFile = join(mkdtempSync(join(tmpdir(), 'tollgate-sns-')), 'alerts.jsonl');
  const endpoint = await startSnsEndpoint({ port: 0, alertsFile, print: () => undefined });
  endpoints.push(endpoint);
  const client = new SNSClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const delivered = async (): Promise<AlertMessage[]> => {
    if (!existsSync(alertsFile)) return [];
    const lines = readFileSync(alertsFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as PublishedAlertLine);
    return lines.map(({ subject, message, messageAttributes }) => ({ subject, type: messageAttributes.type, severity: messageAttributes.severity, message }) as AlertMessage);
  };
  return { publisher: new SnsAlertPublisher(client, endpoint.topicArn), delivered };
});
