// Lambda `certExpiryScan` (daily schedule): the certificate expiry scan (lib/services/expiry-scan-service.ts) over the
// config table, the expiry marks and SNS. Throws when an alert is still pending, so that Lambda retries (the next
// daily run would too); each alert sent is remembered, so a retry sends only what is pending.
import type { Context } from 'aws-lambda';
import { runWithDeadline } from '../lib/invocation-deadline.ts';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbExpiryAlertStore } from '../lib/adapters/dynamodb/expiry-alert-store.ts';
import { createSnsClient, SnsAlertPublisher } from '../lib/adapters/sns.ts';
import { systemClock } from '../lib/adapters/system-clock.ts';
import { readAlertConfig, readTableConfig } from '../lib/config.ts';
import { logger } from '../lib/observability.ts';
import type { Clock } from '../lib/ports/clock.ts';
import { type ExpiryScanDeps, ExpiryScanError, type ExpiryScanSummary, scanCertificates } from '../lib/services/expiry-scan-service.ts';

export { type AlertedCertificate, type ExpiryScanDeps, ExpiryScanError, type ExpiryScanSummary, scanCertificates } from '../lib/services/expiry-scan-service.ts';

export function makeHandler(deps: ExpiryScanDeps) {
  /**
   * Resolves to `{ checked, alerted }`; throws ExpiryScanError (with the whole summary) when an alert is pending. Its
   * DynamoDB calls end before the function's timeout (lib/invocation-deadline.ts), so it fails rather than times out.
   */
  return async function handleScheduledScan(_event?: unknown, context?: Context): Promise<Pick<ExpiryScanSummary, 'checked' | 'alerted'>> {
    const summary = await runWithDeadline(context, () => scanCertificates(deps));
    logger.info('Certificate expiry scan', {
      checked: summary.checked,
      alerted: summary.alerted.length,
      failed: summary.failed.length,
      busy: summary.busy.length,
    });
    if (summary.failed.length > 0 || summary.busy.length > 0) throw new ExpiryScanError(summary);
    return { checked: summary.checked, alerted: summary.alerted };
  };
}

function realDeps(clock: Clock = systemClock): ExpiryScanDeps {
  const { configTable } = readTableConfig();
  const { alertTopicArn } = readAlertConfig();
  const client = createDynamoDbClient();
  return {
    config: new DynamoDbConfigStore(client, configTable),
    marks: new DynamoDbExpiryAlertStore(client, configTable),
    publisher: new SnsAlertPublisher(createSnsClient(), alertTopicArn),
    clock,
  };
}

export const handler = makeHandler(realDeps());
