// Lambda `checkin`: POST /checkin — a device's check-in, judged, recorded, answered 200 (accept) or 403 (block).
import type { Context } from 'aws-lambda';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbUnauthenticatedAttemptStore } from '../lib/adapters/dynamodb/attempt-store.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbDecisionStore } from '../lib/adapters/dynamodb/decision-store.ts';
import { resolveTrustedProxy } from '../lib/adapters/ssm.ts';
import { systemClock } from '../lib/adapters/system-clock.ts';
import { MAX_CHECKIN_BODY_BYTES } from '../lib/domain/checkin.ts';
import { readCheckinConfig, readMassBlockConfig } from '../lib/config.ts';
import { httpStack, type HttpRequest } from '../lib/http/middleware.ts';
import { logger, recordCheckinMetrics } from '../lib/observability.ts';
import type { Clock } from '../lib/ports/clock.ts';
import { type CheckinServiceDeps, makeCheckinService } from '../lib/services/checkin-service.ts';
import { PolicyCache } from '../lib/services/policy-cache.ts';

export function makeHandler(deps: CheckinServiceDeps) {
  const handleCheckin = makeCheckinService(deps);
  return httpStack(
    async (request: HttpRequest, _context: Context) => {
      const answer = await handleCheckin({
        json: request.json,
        rawBody: request.rawBody,
        headers: request.headers,
        clientCertPem: request.event.requestContext.authentication?.clientCert?.clientCertPem,
        sourceIp: request.sourceIp,
      });
      if (answer.ignoredProxyHeader) {
        logger.warn('Client certificate header ignored: not from the trusted proxy', {
          requestId: request.requestId,
          sourceIp: request.sourceIp,
          reason: answer.ignoredProxyHeader,
        });
      }
      logger.info(answer.authenticated === false ? 'Unauthenticated check-in attempt' : 'Check-in', {
        requestId: request.requestId,
        deviceId: answer.deviceId,
        status: answer.statusCode,
        decision: answer.decision,
        violations: answer.violationCodes,
        replayed: answer.replayed,
        authenticated: answer.authenticated,
      });
      recordCheckinMetrics(answer);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.replayed) headers['Idempotent-Replay'] = 'true';
      return { statusCode: answer.statusCode, headers, body: answer.body };
    },
    { maxBodyBytes: MAX_CHECKIN_BODY_BYTES },
  );
}

async function realDeps(clock: Clock = systemClock): Promise<CheckinServiceDeps> {
  const config = readCheckinConfig();
  const client = createDynamoDbClient();
  return {
    policies: new PolicyCache(new DynamoDbConfigStore(client, config.configTable), clock),
    decisions: new DynamoDbDecisionStore(client, {
      decisionsTable: config.decisionsTable,
      deviceStatusTable: config.deviceStatusTable,
      retentionDays: config.decisionRetentionDays,
      idempotencyRetentionDays: config.idempotencyRetentionDays,
    }),
    // Marks attempts on the device-status table for MASS_BLOCK (reason UNAUTHENTICATED).
    attempts: new DynamoDbUnauthenticatedAttemptStore(client, config.decisionsTable, { deviceStatusTable: config.deviceStatusTable, massBlock: readMassBlockConfig() }),
    clock,
    // Read once, at cold start: in AWS from the SSM SecureString parameter the template names.
    trustedProxy: await resolveTrustedProxy(config.trustedProxy),
  };
}

export const handler = makeHandler(await realDeps());
