// Lambda `alerts`: the device-status table's stream → DEVICE_BLOCKED / DEVICE_RECOVERED / MASS_BLOCK messages on SNS
// (API.md §4).
//
// Records are handled one by one, in stream order (one shard holds one device's changes in order). When a record
// cannot be handled now (SNS unreachable or slow, the store unavailable, the function's time running out), that
// record and every later one are reported in batchItemFailures: Lambda (or the local runner) retries from the first
// of them, so nothing is lost and a device's alerts keep their order. Retried records yield the same alertId, which
// lets subscribers drop the duplicates of at-least-once delivery. An alert SNS refuses for good (a bad parameter,
// the topic's key disabled, no authorization) is parked on the on-failure queue at once and the batch goes on.
//
// MASS_BLOCK: every DEVICE_BLOCKED is counted in its window (massBlockWindowStart of the check-in's time); up to
// massBlockDevices devices get their own alert, the next one raises the window's one MASS_BLOCK instead, later ones
// are summarised in it (docs/alerts.md). Unauthenticated attempts reach this function as marks the check-in leaves
// on the status table (one per window and claimed device) and are counted the same way, without alerts of their own.
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { deadlineSignal, runWithDeadline } from '../lib/invocation-deadline.ts';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbDecisionReader } from '../lib/adapters/dynamodb/decision-store.ts';
import { DynamoDbMassBlockWindowStore } from '../lib/adapters/dynamodb/mass-block-window-store.ts';
import { readStreamImage as image } from '../lib/adapters/dynamodb/stream-image.ts';
import { createSnsClient, SnsAlertPublisher } from '../lib/adapters/sns.ts';
import { createSqsClient, SqsAlertParking } from '../lib/adapters/sqs-alert-parking.ts';
import { readAlertsFunctionConfig } from '../lib/config.ts';
import {
  type AlertMessage,
  type DeviceStatusImage,
  deviceStatusAlert,
  isRestoredCopy,
  type MassBlockPolicy,
  type MassBlockReason,
  massBlockAlert,
  massBlockRole,
  massBlockWindowStart,
  previousStatusFromDecisions,
  readDeviceStatusImage,
  readUnauthenticatedAttemptMark,
} from '../lib/domain/alerts.ts';
import { logger } from '../lib/observability.ts';
import type { AlertParking, AlertPublisher, ParkedAlert } from '../lib/ports/alert-publisher.ts';
import type { DecisionReader } from '../lib/ports/decision-store.ts';
import type { MassBlockWindowStore } from '../lib/ports/mass-block-window-store.ts';

export interface AlertsDeps {
  publisher: AlertPublisher;
  /** Where an alert SNS refuses for good goes (the on-failure queue). */
  parking: AlertParking;
  massBlock: { store: MassBlockWindowStore; policy: MassBlockPolicy };
  /** A device's decisions: its status before a status item that appears without an old image. */
  decisions: DecisionReader;
}

/**
 * A record is not started with less time than this left; every call (publish, window count, decisions read) is
 * aborted this long before the timeout (the invocation's deadline, lib/invocation-deadline.ts).
 */
export const MIN_TIME_FOR_RECORD_MS = 3000;
export const ABORT_MARGIN_MS = 1500;
/** How many of a device's newest decisions are read to find the one before a status item without an old image. */
const PREVIOUS_DECISIONS_READ = 10;
/** A window's item is kept a day after the window ends (TTL). */
const WINDOW_KEPT_SECONDS = 86_400;

/** The alert a stream record raises, if any (counting it in its MASS_BLOCK window when it is a DEVICE_BLOCKED). */
export async function alertForRecord(record: DynamoDBRecord, deps: AlertsDeps): Promise<AlertMessage | undefined> {
  if (record.eventName === 'REMOVE') return undefined;
  const newItem = image(record.dynamodb?.NewImage);
  const mark = readUnauthenticatedAttemptMark(newItem);
  if (mark) {
    // Written once (if absent): only its INSERT counts.
    if (record.eventName !== 'INSERT') return undefined;
    const summary = await countInWindow(deps, 'UNAUTHENTICATED', mark.claimedDeviceId, mark.violationCodes, mark.at, {
      occurredAt: mark.at,
      settingsVersion: mark.settingsVersion ?? null,
    });
    // An unauthenticated attempt has no alert of its own.
    return summary === OWN_ALERT ? undefined : summary;
  }
  const newImage = readDeviceStatusImage(newItem);
  if (newItem && !newImage) {
    // Not a device-status item we understand: no alert can be derived, and retrying would not change that.
    logger.warn('Stream record without a readable device status; no alert', { eventID: record.eventID });
    return undefined;
  }
  let oldImage = readDeviceStatusImage(image(record.dynamodb?.OldImage));
  if (isRestoredCopy(oldImage, newImage)) {
    logger.info('Restored status item; its state was alerted when it happened', { deviceId: newImage?.deviceId, eventID: record.eventID });
    return undefined;
  }
  if (!oldImage && newImage) oldImage = await previousStatus(deps.decisions, newImage);
  const alert = deviceStatusAlert(oldImage, newImage);
  if (alert?.type !== 'DEVICE_BLOCKED' || !newImage || Number.isNaN(Date.parse(newImage.lastCheckinAt))) return alert;
  const summary = await countInWindow(deps, 'BLOCKED', newImage.deviceId, newImage.violationCodes, newImage.lastCheckinAt, {
    occurredAt: newImage.lastCheckinAt,
    settingsVersion: newImage.settingsVersion ?? null,
  });
  return summary === OWN_ALERT ? alert : summary;
}

const OWN_ALERT = Symbol('own alert');

/**
 * Counts a device in its window: OWN_ALERT up to the threshold, the window's MASS_BLOCK for the device that crosses
 * it, nothing after (summarised).
 */
async function countInWindow(
  deps: AlertsDeps,
  reason: MassBlockReason,
  deviceId: string,
  violationCodes: string[],
  at: string,
  trigger: { occurredAt: string; settingsVersion: number | null },
): Promise<AlertMessage | typeof OWN_ALERT | undefined> {
  const { store, policy } = deps.massBlock;
  const windowStart = massBlockWindowStart(at, policy.windowMinutes);
  const expiresAt = Math.floor(Date.parse(windowStart) / 1000) + policy.windowMinutes * 60 + WINDOW_KEPT_SECONDS;
  const counted = await store.count({ reason, windowStart, deviceId, violationCodes, expiresAt }, policy.devices + 1);
  const role = massBlockRole(counted.counted ? counted.rank : undefined, policy.devices);
  if (role === 'MASS_BLOCK' && counted.counted) return massBlockAlert(counted.window, policy, trigger);
  if (role === 'OWN_ALERT') return OWN_ALERT;
  if (reason === 'BLOCKED') logger.info('DEVICE_BLOCKED summarised in the window\'s MASS_BLOCK', { deviceId, windowStart });
  return undefined;
}

/** The status before a status item without an old image: from the device's decisions (undefined for a first one). */
async function previousStatus(decisions: DecisionReader, current: DeviceStatusImage): Promise<DeviceStatusImage | undefined> {
  const { items } = await decisions.listDecisions(current.deviceId, PREVIOUS_DECISIONS_READ);
  return previousStatusFromDecisions(items, current);
}

function causeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; name?: string } })?.cause;
  return cause?.code ?? cause?.name;
}

function isPermanent(error: unknown): boolean {
  return (error as { permanent?: unknown })?.permanent === true;
}

/** Milliseconds left before the function's timeout (no limit without a Lambda context: tests, tools). */
function timeLeft(context: Context | undefined): number {
  return typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Number.POSITIVE_INFINITY;
}

export function makeHandler(deps: AlertsDeps) {
  return async function handleStreamBatch(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> {
    return runWithDeadline(context, () => handleRecords(event.Records ?? [], context), { marginMs: ABORT_MARGIN_MS });
  };

  async function handleRecords(records: DynamoDBRecord[], context: Context | undefined): Promise<DynamoDBBatchResponse> {
    // Lambda retries from the lowest reported sequence number; an empty identifier fails the whole batch.
    const failFrom = (index: number): DynamoDBBatchResponse => ({
      batchItemFailures: records.slice(index).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })),
    });
    for (let index = 0; index < records.length; index += 1) {
      const record = records[index];
      const left = timeLeft(context);
      if (left < MIN_TIME_FOR_RECORD_MS) {
        logger.warn('Stopping before the function times out; the record and the later ones will be retried', { eventID: record.eventID, retried: records.length - index, timeLeftMs: left });
        return failFrom(index);
      }
      let alert: AlertMessage | undefined;
      try {
        alert = await alertForRecord(record, deps);
        if (!alert) continue;
        await deps.publisher.publish(alert, { signal: deadlineSignal() });
        logger.info('Alert published', { alertId: alert.message.alertId, type: alert.type, deviceId: alert.message.deviceId });
      } catch (error) {
        if (alert && isPermanent(error)) {
          if (await park(deps.parking, alert, error, record)) continue;
        }
        logger.error('Alert not published; the record and the later ones will be retried', {
          alertId: alert?.message.alertId,
          type: alert?.type,
          eventID: record.eventID,
          retried: records.length - index,
          error: (error as Error)?.name,
          // ECONNREFUSED, TimeoutError, ThrottledException, …: names and codes only, never the SDK's message.
          cause: causeOf(error),
        });
        return failFrom(index);
      }
    }
    return { batchItemFailures: [] };
  }
}

/** Parks an alert SNS refused for good; false when parking failed too (the record is then retried). */
async function park(parking: AlertParking, alert: AlertMessage, error: unknown, record: DynamoDBRecord): Promise<boolean> {
  const parked: ParkedAlert = {
    alert,
    error: causeOf(error) ?? (error as Error)?.name ?? 'Error',
    parkedAt: new Date().toISOString(),
    eventID: record.eventID,
    sequenceNumber: record.dynamodb?.SequenceNumber,
  };
  try {
    await parking.park(parked);
    logger.error('Alert refused by SNS for good; parked on the on-failure queue', { alertId: alert.message.alertId, type: alert.type, cause: parked.error });
    return true;
  } catch (parkingError) {
    logger.error('Parking a refused alert failed', { alertId: alert.message.alertId, error: (parkingError as Error)?.name });
    return false;
  }
}

/** Without a queue (local mode) a refused alert is parked in the log: the error line names it. */
const LOGGED_PARKING: AlertParking = {
  async park(parked) {
    logger.error('Parked alert (no on-failure queue configured)', { parkedAlert: parked });
  },
};

function realDeps(): AlertsDeps {
  const config = readAlertsFunctionConfig();
  const dynamoDb = createDynamoDbClient();
  const queueUrl = process.env.ALERTS_FAILURE_QUEUE_URL?.trim();
  return {
    publisher: new SnsAlertPublisher(createSnsClient(), config.alertTopicArn),
    parking: queueUrl ? new SqsAlertParking(createSqsClient(), queueUrl) : LOGGED_PARKING,
    massBlock: { store: new DynamoDbMassBlockWindowStore(dynamoDb, config.decisionsTable), policy: config.massBlock },
    decisions: new DynamoDbDecisionReader(dynamoDb, config.decisionsTable),
  };
}

export const handler = makeHandler(realDeps());
