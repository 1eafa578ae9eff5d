// The `alerts` stream handler with a fake publisher (ordering, batch item failures) and SnsAlertPublisher's
// PublishCommand (aws-sdk-client-mock, to see the request and inject SNS faults).
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { AlertPublishError, SnsAlertPublisher } from '../../lib/adapters/sns.ts';
import type { AlertMessage, AlertPublisher } from '../../lib/ports/alert-publisher.ts';

// functions/alerts.ts builds its real dependencies at import, as in Lambda.
vi.hoisted(() => {
  process.env.ALERT_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:unit-test';
});
const { makeHandler } = await import('../../functions/alerts.ts');

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

describe('alerts handler', () => {
  it('publishes one alert per transition, in order, and nothing for records without one', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler({ publisher });
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
    const handler = makeHandler({ publisher });
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
    const handler = makeHandler({ publisher });
    const blocked = record(undefined, status('D9', true, 'c-9'));
    expect((await handler({ Records: [blocked] })).batchItemFailures).toHaveLength(1);
    expect(await handler({ Records: [blocked] })).toEqual({ batchItemFailures: [] });
    const again = fakePublisher();
    await makeHandler({ publisher: again })({ Records: [blocked] });
    expect(again.published[0].message).toEqual(publisher.published[0].message);
  });

  it('an item it cannot read raises no alert and does not hold up the stream', async () => {
    const publisher = fakePublisher();
    const handler = makeHandler({ publisher });
    const result = await handler({ Records: [record(undefined, { deviceId: 'D1', status: 'SOMETHING' }), record(undefined, status('D1', true, 'c-1'))] });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
  });

  it('an empty batch succeeds', async () => {
    expect(await makeHandler({ publisher: fakePublisher() })({ Records: [] })).toEqual({ batchItemFailures: [] });
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
