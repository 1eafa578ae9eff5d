// DynamoDB adapter remembering which certificate expiry alerts were sent (config table, pk EXPIRY_ALERT).
//
// One item per certificate and mark: sk `<sha256>#<threshold>` (CERTIFICATE_EXPIRING, e.g. `…#30`) or
// `<sha256>#<YYYY-MM-DD>` (CERTIFICATE_EXPIRED, one per UTC day). States:
//   SENDING     claimed by a scan that is publishing now; the claim lapses at leaseUntil (a scan that died)
//   SENT        published, and remembered only after SNS accepted it
//   SUPERSEDED  a higher threshold crossed together with a lower one that was alerted instead
// The claim is a conditional put, so two scans running at once cannot both publish the same alert; a publish
// failure releases the claim, so the next run (or Lambda's retry) sends it.
import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type ClaimOutcome, DEFAULT_CLAIM_LEASE_MS, type ExpiryAlertStore, type ExpiryClaim, type ExpiryMark } from '../../ports/expiry-alert-store.ts';
import { callStore } from './client.ts';
import { EXPIRY_ALERT_PK } from './keys.ts';

function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

type MarkWrite = PutItemCommand | UpdateItemCommand | DeleteItemCommand;

export class DynamoDbExpiryAlertStore implements ExpiryAlertStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly leaseMs: number = DEFAULT_CLAIM_LEASE_MS,
  ) {}

  private key(sha256: string, mark: string) {
    return marshall({ pk: EXPIRY_ALERT_PK, sk: `${sha256}#${mark}` });
  }

  /** A mark item: its key and attributes. */
  private item(sha256: string, mark: string, attributes: Record<string, unknown>) {
    return marshall({ pk: EXPIRY_ALERT_PK, sk: `${sha256}#${mark}`, ...attributes });
  }

  /** Sends a conditional write; false when its condition did not hold (nothing was written). */
  private async writeIf(command: MarkWrite): Promise<boolean> {
    try {
      await callStore(() => this.client.send(command as PutItemCommand));
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return false;
    }
  }

  async getMark(sha256: string, mark: string): Promise<ExpiryMark | undefined> {
    const result = await callStore(() =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(sha256, mark), ConsistentRead: true })),
    );
    if (!result.Item) return undefined;
    const item = unmarshall(result.Item);
    return { state: item.state, alertId: item.alertId, leaseUntil: item.leaseUntil };
  }

  async claim(input: { sha256: string; mark: string; alertId: string; now: Date; expiresAt: number }): Promise<ClaimOutcome> {
    const now = input.now.getTime();
    const existing = await this.getMark(input.sha256, input.mark);
    if (existing && existing.state !== 'SENDING') return { outcome: 'DONE' };
    if (existing && (existing.leaseUntil ?? 0) >= now) return { outcome: 'BUSY' };

    const token = randomUUID();
    const claimed = await this.writeIf(
      new PutItemCommand({
        TableName: this.tableName,
        Item: this.item(input.sha256, input.mark, { state: 'SENDING', alertId: input.alertId, claimToken: token, leaseUntil: now + this.leaseMs, expiresAt: input.expiresAt }),
        // Free, or claimed by a scan whose lease has lapsed.
        ConditionExpression: 'attribute_not_exists(pk) OR (#state = :sending AND leaseUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: marshall({ ':sending': 'SENDING', ':now': now }),
      }),
    );
    if (claimed) return { outcome: 'CLAIMED', claim: { sha256: input.sha256, mark: input.mark, token } };
    // Another scan got there first (between our read and our put).
    const winner = await this.getMark(input.sha256, input.mark);
    return winner && winner.state !== 'SENDING' ? { outcome: 'DONE' } : { outcome: 'BUSY' };
  }

  async confirm(claim: ExpiryClaim, input: { sentAt: Date; superseded: string[]; expiresAt: number }): Promise<void> {
    // A false answer: our lease lapsed and another scan took the claim over; it will remember the mark itself.
    await this.writeIf(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(claim.sha256, claim.mark),
        UpdateExpression: 'SET #state = :sent, sentAt = :sentAt REMOVE leaseUntil, claimToken',
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: marshall({ ':sent': 'SENT', ':sentAt': input.sentAt.toISOString(), ':token': claim.token }),
      }),
    );
    for (const mark of input.superseded) {
      const attributes = { state: 'SUPERSEDED', supersededBy: claim.mark, sentAt: input.sentAt.toISOString(), expiresAt: input.expiresAt };
      // Only where nothing is remembered yet: a mark sent or superseded before stays as it is.
      await this.writeIf(new PutItemCommand({ TableName: this.tableName, Item: this.item(claim.sha256, mark, attributes), ConditionExpression: 'attribute_not_exists(pk)' }));
    }
  }

  async release(claim: ExpiryClaim): Promise<void> {
    await this.writeIf(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: this.key(claim.sha256, claim.mark),
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeValues: marshall({ ':token': claim.token }),
      }),
    );
  }
}
