// Warning (never a block): the device is enrolled with another APNs topic than the push certificate's.
import type { Finding } from '../errors.ts';
import type { Observations } from '../observations.ts';
import { quoteUntrusted } from '../quote.ts';

export function checkPushTopic(pushNotifications: boolean, observed: Pick<Observations, 'pushTopic' | 'expectedPushTopic'>): Finding[] {
  const { pushTopic, expectedPushTopic } = observed;
  if (!pushNotifications || pushTopic === undefined || expectedPushTopic === undefined) return [];
  if (pushTopic === expectedPushTopic) return [];
  return [
    {
      code: 'PUSH_TOPIC_MISMATCH',
      message: `The device is enrolled with push topic "${quoteUntrusted(pushTopic, '(empty)')}" but the push certificate's topic is "${expectedPushTopic}"; re-enroll the device so it can receive push notifications.`,
      pushTopic,
      expectedPushTopic,
    },
  ];
}
