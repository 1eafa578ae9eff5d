// Lambda `seedConfig`: the CloudFormation custom resource SeedConfig (serverless.yml). On Create and Update it writes
// SETTINGS version 1 when the config table has none, so that a new stack, an existing stack on its next deploy, and
// a replaced table all start from a stored SETTINGS item: afterwards a missing one is an incident (503 and the
// SettingsMissing alarm), never a fresh installation. A Delete changes nothing. Every request gets exactly one answer
// (the cfn-response protocol: a PUT of SUCCESS or FAILED to the pre-signed ResponseURL), also when seeding fails or
// the time runs out, so a stack operation never waits an hour for a reply.
import { request } from 'node:https';
import { request as plainRequest } from 'node:http';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { systemClock } from '../lib/adapters/system-clock.ts';
import { readTableConfig } from '../lib/config.ts';
import { logger } from '../lib/observability.ts';
import type { Clock } from '../lib/ports/clock.ts';
import type { ConfigInitializer } from '../lib/ports/config-store.ts';

/** The fields of a CloudFormation custom resource request this handler reads. */
export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties?: Record<string, unknown>;
  /** On Update: the properties before the change. */
  OldResourceProperties?: Record<string, unknown>;
}

export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string>;
}

export interface SeedConfigDeps {
  /**
   * Made inside the request, so that a configuration error (no CONFIG_TABLE) is answered FAILED too: a function
   * that fails before answering leaves the stack waiting an hour.
   */
  config: () => ConfigInitializer;
  clock: Clock;
  /** Sends the answer to CloudFormation (a PUT of the JSON body to the ResponseURL). */
  respond(responseUrl: string, response: CustomResourceResponse): Promise<void>;
}

/** The tables' names the resource carries (serverless.yml SeedConfig); a new name is a replaced, empty table. */
const TABLE_PROPERTIES = ['ConfigTable', 'DecisionsTable', 'DeviceStatusTable'] as const;

/**
 * The tables an Update replaced (their name changed), unless the template allows it (AllowTableReplacement 'true').
 * A replaced table is a new, empty one: seeding it would turn a lost configuration into a fresh installation.
 */
export function replacedTables(event: CustomResourceEvent): string[] {
  if (event.RequestType !== 'Update' || event.ResourceProperties?.AllowTableReplacement === 'true') return [];
  const before = event.OldResourceProperties ?? {};
  const after = event.ResourceProperties ?? {};
  return TABLE_PROPERTIES.filter((name) => before[name] !== undefined && before[name] !== after[name]).map(
    (name) => `${name} (${String(before[name])} → ${String(after[name])})`,
  );
}

/** Kept below the function's 60 s timeout so that the FAILED answer still goes out when seeding hangs. */
export const SEED_DEADLINE_MS = 45_000;

/**
 * One id for the life of the resource: the same on every Update, so CloudFormation never "replaces" it (which would
 * send a Delete of the old one) because a table name changed.
 */
const PHYSICAL_RESOURCE_ID = 'tollgate-seed-config';

export function makeHandler(deps: SeedConfigDeps, deadlineMs = SEED_DEADLINE_MS) {
  return async (event: CustomResourceEvent): Promise<void> => {
    const answer = (Status: CustomResourceResponse['Status'], Reason?: string, Data?: Record<string, string>): CustomResourceResponse => ({
      Status,
      ...(Reason === undefined ? {} : { Reason }),
      PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      ...(Data === undefined ? {} : { Data }),
    });
    let response: CustomResourceResponse;
    const replaced = replacedTables(event);
    if (event.RequestType === 'Delete') {
      // The table keeps its settings: deleting the stack (or this resource) must not touch them.
      response = answer('SUCCESS');
    } else if (replaced.length > 0) {
      // FAILED rolls the update back: the old tables stay in service, the empty replacements go.
      logger.error('seed config refused a table replacement', { replaced });
      response = answer(
        'FAILED',
        `This change replaces ${replaced.join(', ')}: the new tables are empty. Nothing was seeded and the stack rolls back; if the replacement is intended, deploy with --param="allowTableReplacement=true" (docs/operations.md)`.slice(0, 1000),
      );
    } else {
      try {
        const settings = await withDeadline(deps.config().initializeSettings(deps.clock.now()), deadlineMs);
        logger.info('seed config', { requestType: event.RequestType, settings });
        response = answer('SUCCESS', undefined, { Settings: settings });
      } catch (error) {
        const reason = `Could not write SETTINGS version 1: ${(error as { name?: string })?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`;
        logger.error('seed config failed', { requestType: event.RequestType, error: error as Error });
        response = answer('FAILED', `${reason.slice(0, 300)} (see the seedConfig function's log)`);
      }
    }
    await deps.respond(event.ResponseURL, response);
  };
}

class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(`no answer from DynamoDB within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * PUTs the answer to the pre-signed ResponseURL as the protocol asks: an empty Content-Type (the URL was signed
 * without one) and the JSON body. Retried twice: an answer that never arrives leaves the stack waiting an hour.
 */
export async function putResponse(responseUrl: string, response: CustomResourceResponse, attempts = 3): Promise<void> {
  const body = JSON.stringify(response);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await putOnce(responseUrl, body);
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

function putOnce(responseUrl: string, body: string): Promise<void> {
  const url = new URL(responseUrl);
  const send = url.protocol === 'http:' ? plainRequest : request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`ResponseURL answered ${status}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('ResponseURL did not answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

function realDeps(clock: Clock = systemClock): SeedConfigDeps {
  return { config: () => new DynamoDbConfigStore(createDynamoDbClient(), readTableConfig().configTable), clock, respond: putResponse };
}

export const handler = makeHandler(realDeps());
