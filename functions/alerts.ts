// Lambda `alerts`: the device-status table's stream → DEVICE_BLOCKED / DEVICE_RECOVERED messages on SNS (API.md §4).
//
// Records are handled one by one, in stream order (one shard holds one device's changes in order). When a publish
// fails, that record and every later one are reported in batchItemFailures: Lambda (or the local runner) retries
// from the first of them, so nothing is lost and a device's alerts keep their order. Retried records yield the same
// alertId, which lets subscribers drop the duplicates of at-least-once delivery.
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { readStreamImage as image } from '../lib/adapters/dynamodb/stream-image.ts';
import { createSnsClient, SnsAlertPublisher } from '../lib/adapters/sns.ts';
import { readAlertConfig } from '../lib/config.ts';
import { type AlertMessage, deviceStatusAlert, readDeviceStatusImage } from '../lib/domain/alerts.ts';
import { logger } from '../lib/observability.ts';
import type { AlertPublisher } from '../lib/ports/alert-publisher.ts';

export interface AlertsDeps {
  publisher: AlertPublisher;
}

/** The alert a stream record raises, if any. */
export function alertForRecord(record: DynamoDBRecord): AlertMessage | undefined {
  if (record.eventName === 'REMOVE') return undefined;
  const newItem = image(record.dynamodb?.NewImage);
  const newImage = readDeviceStatusImage(newItem);
  if (newItem && !newImage) {
    // Not a device-status item we understand: no alert can be derived, and retrying would not change that.
    logger.warn('Stream record without a readable device status; no alert', { eventID: record.eventID });
    return undefined;
  }
  return deviceStatusAlert(readDeviceStatusImage(image(record.dynamodb?.OldImage)), newImage);
}

function causeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; name?: string } })?.cause;
  return cause?.code ?? cause?.name;
}

export function makeHandler(deps: AlertsDeps) {
  return async function handleStreamBatch(event: DynamoDBStreamEvent, _context?: Context): Promise<DynamoDBBatchResponse> {
    const records = event.Records ?? [];
    for (let index = 0; index < records.length; index += 1) {
      const record = records[index];
      let alert: AlertMessage | undefined;
      try {
        alert = alertForRecord(record);
        if (!alert) continue;
        await deps.publisher.publish(alert);
        logger.info('Alert published', { alertId: alert.message.alertId, type: alert.type, deviceId: alert.message.deviceId });
      } catch (error) {
        const failed = records.slice(index);
        logger.error('Alert not published; the record and the later ones will be retried', {
          alertId: alert?.message.alertId,
          type: alert?.type,
          eventID: record.eventID,
          retried: failed.length,
          error: (error as Error)?.name,
          // ECONNREFUSED, TimeoutError, ThrottledException, …: names and codes only, never the SDK's message.
          cause: causeOf(error),
        });
        // Lambda retries from the lowest reported sequence number; an empty identifier fails the whole batch.
        return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })) };
      }
    }
    return { batchItemFailures: [] };
  };
}

function realDeps(): AlertsDeps {
  const { alertTopicArn } = readAlertConfig();
  return { publisher: new SnsAlertPublisher(createSnsClient(), alertTopicArn) };
}

export const handler = makeHandler(realDeps());
