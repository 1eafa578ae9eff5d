// Check-ins for the fault tests: one sent and timed, and the decisions a device has recorded, read from the store.
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { call, type HttpResult } from './http.ts';

/** serverless.yml: the check-in function's timeout. */
export const FUNCTION_TIMEOUT_MS = 10_000;

export interface Answer {
  checkinId: string;
  status: number;
  decision?: string;
  retryAfter?: string;
  replay: boolean;
  ms: number;
}

function checkinBody(checkinId: string, deviceId: string, compliant: boolean): string {
  return JSON.stringify({ checkinId, deviceId, clientTime: new Date().toISOString(), serverCertificateVerified: compliant });
}

export async function send(url: string, checkinId: string, deviceId: string, compliant: boolean): Promise<Answer> {
  const started = Date.now();
  let res: HttpResult;
  try {
    res = await call(`${url}/checkin`, { body: checkinBody(checkinId, deviceId, compliant), headers: { 'content-type': 'application/json' } });
  } catch (error) {
    throw new Error(`${checkinId}: no answer (${(error as Error).message})`);
  }
  return { checkinId, status: res.status, decision: res.body?.decision, retryAfter: res.headers['retry-after'], replay: res.headers['idempotent-replay'] === 'true', ms: Date.now() - started };
}

/** Every decision recorded for the devices, as checkinId → the decisions recorded under it. */
export async function recordedDecisions(client: DynamoDBClient, table: string, devices: string[]): Promise<Map<string, string[]>> {
  const recorded = new Map<string, string[]>();
  for (const deviceId of devices) {
    let start: Record<string, any> | undefined;
    do {
      const page = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `DEVICE#${deviceId}` } }, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const item of page.Items ?? []) recorded.set(item.checkinId.S!, [...(recorded.get(item.checkinId.S!) ?? []), item.decision.S!]);
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return recorded;
}

