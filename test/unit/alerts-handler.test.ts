// The `alerts` stream handler with a fake publisher (ordering, batch item failures) and SnsAlertPublisher's
// PublishCommand (aws-sdk-client-mock, to see the request and inject SNS faults).
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { InMemoryAlertParking } from '../../lib/adapters/memory/alert-publisher.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import { InMemoryMassBlockWindowStore } from '../../lib/adapters/memory/mass-block-window-store.ts';
import { AlertPublishError, SnsAlertPublisher } from '../../lib/adapters/sns.ts';
import { makeDecision } from '../support/decisions.ts';
import type { AlertMessage, AlertPublisher } from '../../lib/ports/alert-publisher.ts';

// functions/alerts.ts builds its real dependencies at import, as in Lambda.
vi.hoisted(() => {
  process.env.ALERT_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:unit-test';
  process.env.DECISIONS_TABLE = 'unit-test-decisions';
});
const { makeHandler } = await import('../../functions/alerts.ts');
type AlertsDeps = import('../../functions/alerts.ts').AlertsDeps;

const SKEW = { code: 'CLOCK_SKEW_EXCEEDED', message: 'The device clock is off.', skewSeconds: 412, maxClockSkewSeconds: 300 };

function status(deviceId: string, blocked: boolean, checkinId: string) {
  const violations = blocked ? [SKEW] : [];
  return {
    deviceId,
    status: blocked ? 'BLOCKED' : 'ACCEPTED',
    decision: blocked ? 'BLOCK' : 'ACCEPT',
    violations,
    violationCodes: violations.map((v) => v.code),
    lastCheckinAt: '2026-11-25T18:06:03.120Z',
    checkinId,
    settingsVersion: 1,
  };
}

let sequence = 100;
function record(oldItem: object | undefined, newItem: object | undefined): DynamoDBRecord {
  sequence += 1;
  const image = (i: object | undefined) => (i ? (marshall(i) as never) : undefined);
  return {
    eventID: `e-${sequence}`,
    eventName: !oldItem ? 'INSERT' : newItem ? 'MODIFY' : 'REMOVE',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      Keys: image({ deviceId: ((newItem ?? oldItem) as { deviceId: string }).deviceId }),
      NewImage: image(newItem),
      OldImage: image(oldItem),
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/status/stream/2026-11-25T00:00:00.000',
  };
}

/** Records what it publishes; fails the publishes whose index (0-based, over all calls) is in `failAt`. */
function fakePublisher(failAt: number[] = []): AlertPublisher & { published: AlertMessage[]; calls: number } {
  const fake = {
    published: [] as AlertMessage[],
    calls: 0,
    async publish(alert: AlertMessage) {
      const call = fake.calls++;
      if (failAt.includes(call)) throw new AlertPublishError(alert.message.alertId, new Error('connect ECONNREFUSED'));
      fake.published.push(alert);
    },
  };
  return fake;
}

/** The handler's other dependencies in memory: a MASS_BLOCK threshold far away unless given, no decisions. */
function depsWith(publisher: AlertPublisher, overrides: Partial<AlertsDeps> = {}): AlertsDeps {
  return {
    publisher,
    parking: new InMemoryAlertParking(),
    massBlock: { store: new InMemoryMassBlockWindowStore(), policy: { devices: 50, windowMinutes: 10 } },
    decisions: new InMemoryDecisionStore(),
    ...overrides,
  };
}

describe('alerts handler', () => {
  it('publishes one alert per transition, in order, and nothing for records without one', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler(depsWith(publisher));
    const result = await handler({
      Records: [
        record(undefined, status('D1', true, 'c-1')), // first check-in blocked
        record(status('D1', true, 'c-1'), status('D1', true, 'c-2')), // same block: nothing
        record(undefined, status('D2', false, 'c-3')), // first check-in accepted: nothing
        record(status('D1', true, 'c-2'), status('D1', false, 'c-4')), // recovered
        record(status('D2', false, 'c-3'), undefined), // removed: nothing
      ],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(publisher.published.map((a) => [a.type, a.message.deviceId, a.message.checkinId])).toEqual([
      ['DEVICE_BLOCKED', 'D1', 'c-1'],
      ['DEVICE_RECOVERED', 'D1', 'c-4'],
    ]);
  });

  it('on a publish failure reports that record and every later one, and publishes nothing after it', async () => {
    const publisher = fakePublisher([1]);
    const handler = makeHandler(depsWith(publisher));
    const records = [
      record(undefined, status('D1', true, 'c-1')),
      record(undefined, status('D2', true, 'c-2')), // fails
      record(undefined, status('D3', false, 'c-3')), // no alert, but after the failure
      record(undefined, status('D4', true, 'c-4')),
    ];
    const result = await handler({ Records: records });
    expect(result.batchItemFailures).toEqual(records.slice(1).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber })));
    expect(publisher.published.map((a) => a.message.deviceId)).toEqual(['D1']);
    expect(publisher.calls).toBe(2);
  });

  it('a retried record yields the same message (same alertId) as the first delivery', async () => {
    const publisher = fakePublisher([0]);
    const handler = makeHandler(depsWith(publisher));
    const blocked = record(undefined, status('D9', true, 'c-9'));
    expect((await handler({ Records: [blocked] })).batchItemFailures).toHaveLength(1);
    expect(await handler({ Records: [blocked] })).toEqual({ batchItemFailures: [] });
    const again = fakePublisher();
    await makeHandler(depsWith(again))({ Records: [blocked] });
    expect(again.published[0].message).toEqual(publisher.published[0].message);
  });

  it('an item it cannot read raises no alert and does not hold up the stream', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler(depsWith(publisher));
    const result = await handler({ Records: [record(undefined, { deviceId: 'D1', status: 'SOMETHING' }), record(undefined, status('D1', true, 'c-1'))] });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
  });

  it('an empty batch succeeds', async () => {
    expect(await makeHandler(depsWith(fakePublisher()))({ Records: [] })).toEqual({ batchItemFailures: [] });
  });
});

/** A mark the check-in leaves for an unauthenticated attempt (lib/adapters/dynamodb/attempt-store.ts). */
function mark(claimedDeviceId: string, at = '2026-11-25T18:06:03.120Z') {
  return {
    deviceId: `#UNAUTHENTICATED#2026-11-25T18:00:00.000Z#${claimedDeviceId}`,
    kind: 'UNAUTHENTICATED_ATTEMPT',
    claimedDeviceId,
    windowStart: '2026-11-25T18:00:00.000Z',
    violationCodes: ['CLIENT_CERT_EXPIRED'],
    at,
    settingsVersion: 4,
    alertRelevant: true,
  };
}

const summary = (a: AlertMessage) => [a.type, a.message.deviceId ?? a.message.reason, a.message.count ?? a.message.checkinId];

describe('MASS_BLOCK in the handler (massBlockDevices 3)', () => {
  const policy = { devices: 3, windowMinutes: 10 };

  it('six devices blocked in one window: three DEVICE_BLOCKED, then one MASS_BLOCK for the fourth, nothing for the rest', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler(depsWith(publisher, { massBlock: { store: new InMemoryMassBlockWindowStore(), policy } }));
    const records = Array.from({ length: 6 }, (_, i) => record(undefined, status(`M${i}`, true, `c-${i}`)));
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
    expect(publisher.published.map(summary)).toEqual([
      ['DEVICE_BLOCKED', 'M0', 'c-0'],
      ['DEVICE_BLOCKED', 'M1', 'c-1'],
      ['DEVICE_BLOCKED', 'M2', 'c-2'],
      ['MASS_BLOCK', 'BLOCKED', 4],
    ]);
    expect(publisher.published[3]).toEqual({
      type: 'MASS_BLOCK',
      severity: 'critical',
      subject: 'Mass block: 4 devices blocked within 10 minutes',
      message: {
        type: 'MASS_BLOCK',
        alertId: expect.any(String),
        occurredAt: '2026-11-25T18:06:03.120Z',
        reason: 'BLOCKED',
        count: 4,
        windowMinutes: 10,
        byViolation: { CLOCK_SKEW_EXCEEDED: 4 },
        settingsVersion: 1,
        devices: ['M0', 'M1', 'M2', 'M3'],
      },
    });

    // A batch delivered twice (a crash before the checkpoint): the second time, the very same messages again.
    const again = fakePublisher();
    const redelivered = makeHandler(depsWith(again, { massBlock: { store: new InMemoryMassBlockWindowStore(), policy } }));
    await redelivered({ Records: records });
    await redelivered({ Records: records });
    expect(again.published.slice(0, 4).map((a) => a.message)).toEqual(again.published.slice(4).map((a) => a.message));
    expect(again.published.slice(0, 4).map(summary)).toEqual(publisher.published.map(summary));
  });

  it('a publish failure at the crossing: the retried record publishes the same MASS_BLOCK', async () => {
    const publisher = fakePublisher([3]);
    const handler = makeHandler(depsWith(publisher, { massBlock: { store: new InMemoryMassBlockWindowStore(), policy } }));
    const records = Array.from({ length: 5 }, (_, i) => record(undefined, status(`R${i}`, true, `c-${i}`)));
    const first = await handler({ Records: records });
    expect(first.batchItemFailures).toEqual(records.slice(3).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber })));
    expect(await handler({ Records: records.slice(3) })).toEqual({ batchItemFailures: [] });
    expect(publisher.published.map(summary)).toEqual([
      ['DEVICE_BLOCKED', 'R0', 'c-0'],
      ['DEVICE_BLOCKED', 'R1', 'c-1'],
      ['DEVICE_BLOCKED', 'R2', 'c-2'],
      ['MASS_BLOCK', 'BLOCKED', 4],
    ]);
  });

  it('windows are apart: blocks in the next window start counting again', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler(depsWith(publisher, { massBlock: { store: new InMemoryMassBlockWindowStore(), policy } }));
    const later = (deviceId: string, checkinId: string) => ({ ...status(deviceId, true, checkinId), lastCheckinAt: '2026-11-25T18:10:00.000Z' });
    await handler({
      Records: [
        ...['W0', 'W1', 'W2'].map((d, i) => record(undefined, status(d, true, `c-${i}`))),
        ...['W3', 'W4', 'W5'].map((d, i) => record(undefined, later(d, `c-${i + 3}`))),
      ],
    });
    expect(publisher.published.map((a) => a.type)).toEqual(Array(6).fill('DEVICE_BLOCKED'));
  });

  it('a device counted already keeps its own alerts when its codes change; recoveries are never summarised', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler(depsWith(publisher, { massBlock: { store: new InMemoryMassBlockWindowStore(), policy } }));
    const records = Array.from({ length: 5 }, (_, i) => record(undefined, status(`K${i}`, true, `c-${i}`)));
    const changed = { ...status('K0', true, 'c-10'), violations: [SKEW, { code: 'SERVER_CERT_NOT_VERIFIED', message: 'x' }], violationCodes: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'] };
    await handler({
      Records: [
        ...records,
        record(status('K0', true, 'c-0'), changed),
        record(status('K4', true, 'c-4'), status('K4', false, 'c-11')),
      ],
    });
    expect(publisher.published.map(summary)).toEqual([
      ['DEVICE_BLOCKED', 'K0', 'c-0'],
      ['DEVICE_BLOCKED', 'K1', 'c-1'],
      ['DEVICE_BLOCKED', 'K2', 'c-2'],
      ['MASS_BLOCK', 'BLOCKED', 4],
      ['DEVICE_BLOCKED', 'K0', 'c-10'],
      ['DEVICE_RECOVERED', 'K4', 'c-11'],
    ]);
  });

  it('unauthenticated attempts from five claimed devices: one MASS_BLOCK reason UNAUTHENTICATED, no other alert', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler(depsWith(publisher, { massBlock: { store: new InMemoryMassBlockWindowStore(), policy } }));
    const marks = ['U0', 'U1', 'U2', 'U3', 'U4'].map((d) => record(undefined, mark(d)));
    // A mark is written once; anything but its INSERT (a TTL removal, a rewrite) counts nothing.
    await handler({ Records: [...marks, record(mark('U9'), mark('U9', '2026-11-25T18:07:00.000Z')), record(mark('U8'), undefined)] });
    expect(publisher.published).toEqual([
      {
        type: 'MASS_BLOCK',
        severity: 'critical',
        subject: 'Mass block: unauthenticated check-ins from 4 claimed devices within 10 minutes',
        message: {
          type: 'MASS_BLOCK',
          alertId: expect.any(String),
          occurredAt: '2026-11-25T18:06:03.120Z',
          reason: 'UNAUTHENTICATED',
          count: 4,
          windowMinutes: 10,
          byViolation: { CLIENT_CERT_EXPIRED: 4 },
          settingsVersion: 4,
          devices: ['U0', 'U1', 'U2', 'U3'],
        },
      },
    ]);
  });
});

describe('SNS failure modes in the handler', () => {
  function failingPublisher(errorName: string, failing: string[]): AlertPublisher & { published: AlertMessage[] } {
    const fake = {
      published: [] as AlertMessage[],
      async publish(alert: AlertMessage) {
        if (failing.includes(String(alert.message.deviceId))) throw new AlertPublishError(alert.message.alertId, Object.assign(new Error('refused'), { name: errorName }));
        fake.published.push(alert);
      },
    };
    return fake;
  }

  it.each(['InvalidParameterException', 'KMSDisabledException', 'KMSAccessDeniedException', 'AuthorizationErrorException'])(
    'SNS refusing for good (%s): the alert is parked at once and the batch goes on',
    async (errorName) => {
      const publisher = failingPublisher(errorName, ['P1']);
      const parking = new InMemoryAlertParking();
      const handler = makeHandler(depsWith(publisher, { parking }));
      const records = ['P0', 'P1', 'P2'].map((d, i) => record(undefined, status(d, true, `c-${i}`)));
      expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
      expect(publisher.published.map((a) => a.message.deviceId)).toEqual(['P0', 'P2']);
      expect(parking.parked).toEqual([
        {
          alert: expect.objectContaining({ type: 'DEVICE_BLOCKED', message: expect.objectContaining({ deviceId: 'P1', checkinId: 'c-1' }) }),
          error: errorName,
          parkedAt: expect.any(String),
          eventID: records[1].eventID,
          sequenceNumber: records[1].dynamodb!.SequenceNumber,
        },
      ]);
    },
  );

  it.each(['ThrottledException', 'InternalErrorException', 'KMSThrottlingException', 'TimeoutError'])('a transient failure (%s) is retried, not parked', async (errorName) => {
    const publisher = failingPublisher(errorName, ['T1']);
    const parking = new InMemoryAlertParking();
    const records = ['T0', 'T1', 'T2'].map((d, i) => record(undefined, status(d, true, `c-${i}`)));
    const result = await makeHandler(depsWith(publisher, { parking }))({ Records: records });
    expect(result.batchItemFailures).toEqual(records.slice(1).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber })));
    expect(parking.parked).toEqual([]);
  });

  it('when parking fails too, the record is retried', async () => {
    const publisher = failingPublisher('InvalidParameterException', ['F0']);
    const parking = { park: async () => Promise.reject(Object.assign(new Error('down'), { name: 'QueueDoesNotExist' })) };
    const records = [record(undefined, status('F0', true, 'c-0'))];
    const result = await makeHandler(depsWith(publisher, { parking }))({ Records: records });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0].dynamodb!.SequenceNumber }]);
  });

  it('stops before the function times out: with too little time left the rest is reported for retry', async () => {
    const publisher = fakePublisher();
    let left = 20_000;
    const context = { getRemainingTimeInMillis: () => left } as unknown as Context;
    const slow: AlertPublisher = {
      async publish(alert, options) {
        expect(options?.signal).toBeInstanceOf(AbortSignal);
        left -= 9_000;
        await publisher.publish(alert);
      },
    };
    const records = ['S0', 'S1', 'S2', 'S3'].map((d, i) => record(undefined, status(d, true, `c-${i}`)));
    const result = await makeHandler(depsWith(slow))({ Records: records }, context);
    // 20 s: S0 (→ 11 s left), S1 (→ 2 s left), then less than MIN_TIME_FOR_RECORD_MS: S2 and S3 are retried.
    expect(publisher.published.map((a) => a.message.deviceId)).toEqual(['S0', 'S1']);
    expect(result.batchItemFailures).toEqual(records.slice(2).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber })));
  });
});

describe('recovery alerts after a status item was deleted or restored', () => {
  const SKEW_DECISION = { decision: 'BLOCK' as const, statusCode: 403, violations: [SKEW] };

  async function decisionsOf(...decisions: Parameters<typeof makeDecision>[0][]): Promise<InMemoryDecisionStore> {
    const store = new InMemoryDecisionStore();
    for (const d of decisions) await store.record(makeDecision(d), { statusCode: d?.statusCode ?? 200, body: '{}' });
    return store;
  }

  it('deleted while blocked, then accepted: the next check-in (a status without an old image) raises DEVICE_RECOVERED', async () => {
    const decisions = await decisionsOf(
      { deviceId: 'X1', checkinId: 'c-1', evaluatedAt: '2026-11-25T18:00:00.000Z', ...SKEW_DECISION },
      { deviceId: 'X1', checkinId: 'c-2', evaluatedAt: '2026-11-25T18:06:03.120Z' },
    );
    const publisher = fakePublisher();
    await makeHandler(depsWith(publisher, { decisions }))({ Records: [record(undefined, status('X1', false, 'c-2'))] });
    expect(publisher.published.map(summary)).toEqual([['DEVICE_RECOVERED', 'X1', 'c-2']]);
  });

  it('deleted while blocked, then blocked again with the same violations: nothing re-fires', async () => {
    const decisions = await decisionsOf(
      { deviceId: 'X2', checkinId: 'c-1', evaluatedAt: '2026-11-25T18:00:00.000Z', ...SKEW_DECISION },
      { deviceId: 'X2', checkinId: 'c-2', evaluatedAt: '2026-11-25T18:06:03.120Z', ...SKEW_DECISION },
    );
    const publisher = fakePublisher();
    await makeHandler(depsWith(publisher, { decisions }))({ Records: [record(undefined, status('X2', true, 'c-2'))] });
    expect(publisher.published).toEqual([]);
  });

  it('a restored copy raises nothing; the check-in after it compares against it (blocked → accepted: DEVICE_RECOVERED)', async () => {
    const publisher = fakePublisher();
    const restored = { ...status('X3', true, 'c-1'), restoredAt: '2026-11-26T08:00:00.000Z' };
    const records = [record(undefined, restored), record(restored, status('X3', false, 'c-2')), record(status('X3', false, 'c-2'), status('X3', false, 'c-3'))];
    await makeHandler(depsWith(publisher))({ Records: records });
    expect(publisher.published.map(summary)).toEqual([['DEVICE_RECOVERED', 'X3', 'c-2']]);
  });

  it('a deletion raises nothing', async () => {
    const publisher = fakePublisher();
    await makeHandler(depsWith(publisher))({ Records: [record(status('X4', true, 'c-1'), undefined)] });
    expect(publisher.published).toEqual([]);
  });
});

describe('SnsAlertPublisher', () => {
  const alert: AlertMessage = {
    type: 'DEVICE_BLOCKED',
    severity: 'high',
    subject: 'Device D1 blocked: clock skew 412 s > 300 s',
    message: { type: 'DEVICE_BLOCKED', alertId: 'id-1', occurredAt: '2026-11-25T18:06:03.120Z', deviceId: 'D1', checkinId: 'c-1', violations: [SKEW] },
  };

  it('sends Message (JSON), Subject and the type and severity attributes to the topic', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await new SnsAlertPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:1:t').publish(alert);
    const input = sns.commandCalls(PublishCommand)[0].args[0].input;
    expect(input).toEqual({
      TopicArn: 'arn:aws:sns:us-east-1:1:t',
      Subject: alert.subject,
      Message: JSON.stringify(alert.message),
      MessageAttributes: {
        type: { DataType: 'String', StringValue: 'DEVICE_BLOCKED' },
        severity: { DataType: 'String', StringValue: 'high' },
      },
    });
    expect(JSON.parse(input.Message!)).toEqual(alert.message);
    sns.restore();
  });

  it('turns an SNS failure into AlertPublishError naming the alert, with the SDK error as cause', async () => {
    const sns = mockClient(SNSClient);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
    sns.on(PublishCommand).rejects(throttled);
    const failure = new SnsAlertPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:t').publish(alert);
    await expect(failure).rejects.toThrow(AlertPublishError);
    await expect(failure).rejects.toMatchObject({ alertId: 'id-1', message: 'Publishing alert id-1 failed (ThrottledException)', cause: throttled });
    sns.restore();
  });
});
