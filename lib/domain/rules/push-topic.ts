// Warning (never a block): the device is enrolled with another APNs topic than the push certificate's.
import type { Finding } from '../errors.ts';
import { quoteUntrusted } from '../quote.ts';

export function checkPushTopic(pushNotifications: boolean, reportedTopic: string | undefined, certificateTopic: string | undefined): Finding[] {
  if (!pushNotifications || reportedTopic === undefined || certificateTopic === undefined) return [];
  if (reportedTopic === certificateTopic) return [];
  return [
    {
      code: 'PUSH_TOPIC_MISMATCH',
      message: `The device is enrolled with push topic "${quoteUntrusted(reportedTopic, '(empty)')}" but the push certificate's topic is "${certificateTopic}"; re-enroll the device so it can receive push notifications.`,
      pushTopic: reportedTopic,
      expectedPushTopic: certificateTopic,
    },
  ];
}
