// Reads serverless.yml (the single source of functions, routes and tables) for the local runner and the tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { parseDocument, type Tags } from 'yaml';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SERVERLESS_YML = `${PROJECT_ROOT}serverless.yml`;

/** CloudFormation intrinsic functions as they appear in the file. */
export class Intrinsic {
  constructor(
    readonly fn: string,
    readonly value: unknown,
  ) {}
}

const intrinsicTags: Tags = ['Ref', 'GetAtt', 'Sub', 'Join', 'If', 'Equals', 'Not', 'And', 'Or', 'Select', 'Split', 'ImportValue', 'FindInMap', 'Condition', 'Base64', 'GetAZs', 'Cidr'].flatMap(
  (fn) => [
    { tag: `!${fn}`, resolve: (value: unknown) => new Intrinsic(fn, value) },
    { tag: `!${fn}`, collection: 'seq' as const, resolve: (value: { toJSON(): unknown }) => new Intrinsic(fn, value.toJSON()) },
    { tag: `!${fn}`, collection: 'map' as const, resolve: (value: { toJSON(): unknown }) => new Intrinsic(fn, value.toJSON()) },
  ],
) as Tags;

export interface HttpRoute {
  functionName: string;
  method: string;
  /** API Gateway path with {param} and {proxy+} segments; '*' is the $default route. */
  path: string;
  routeKey: string;
  /** The function's timeout (its own, else the provider's); the local runner's context counts down from it. */
  timeoutSeconds?: number;
}

export interface FunctionDefinition {
  name: string;
  /** Source module relative to the project root, e.g. functions/check-in.ts */
  module: string;
  exportName: string;
  environment: Record<string, unknown>;
  /** The function's timeout (its own, else the provider's), when serverless.yml gives a number. */
  timeoutSeconds?: number;
  httpRoutes: HttpRoute[];
  /** Stream event sources; filterPatterns as Lambda's FilterCriteria (a record passes when any pattern matches). */
  streams: { tableLogicalId: string; batchSize: number; filterPatterns?: FilterPattern[] }[];
  schedules: string[];
}

export interface ServerlessConfig {
  providerEnvironment: Record<string, unknown>;
  functions: FunctionDefinition[];
  /** Table definitions, keyed by CloudFormation logical id; TableName is left for the caller to set. */
  tables: Record<string, Omit<CreateTableCommandInput, 'TableName'> & { ttlAttribute?: string }>;
  /** Other resources by logical id, with their CloudFormation type. */
  resourceTypes: Record<string, string>;
}

export function loadServerlessConfig(path = SERVERLESS_YML): ServerlessConfig {
  const doc = parseDocument(readFileSync(path, 'utf8'), { customTags: intrinsicTags });
  const raw = doc.toJS() as Record<string, any>;
  const functions: FunctionDefinition[] = Object.entries<any>(raw.functions ?? {}).map(([name, fn]) => {
    const handler = String(fn.handler);
    const dot = handler.lastIndexOf('.');
    const httpRoutes: HttpRoute[] = [];
    const streams: FunctionDefinition['streams'] = [];
    const schedules: string[] = [];
    const timeout = fn.timeout ?? raw.provider?.timeout;
    const timeoutSeconds = typeof timeout === 'number' ? timeout : undefined;
    for (const event of fn.events ?? []) {
      if (event.httpApi !== undefined) {
        if (event.httpApi === '*') httpRoutes.push({ functionName: name, method: '*', path: '*', routeKey: '$default', timeoutSeconds });
        else {
          const method = String(event.httpApi.method).toUpperCase();
          httpRoutes.push({ functionName: name, method, path: event.httpApi.path, routeKey: `${method} ${event.httpApi.path}`, timeoutSeconds });
        }
      }
      if (event.stream) {
        const arn = event.stream.arn;
        const logicalId = arn instanceof Intrinsic ? String(Array.isArray(arn.value) ? arn.value[0] : arn.value).split('.')[0] : undefined;
        if (logicalId) {
          streams.push({
            tableLogicalId: logicalId,
            batchSize: event.stream.batchSize ?? 100,
            ...(event.stream.filterPatterns ? { filterPatterns: event.stream.filterPatterns.map((p: unknown) => checkFilterPattern(p, name)) } : {}),
          });
        }
      }
      if (event.schedule) schedules.push(typeof event.schedule === 'string' ? event.schedule : event.schedule.rate);
    }
    return {
      name,
      module: `${handler.slice(0, dot)}.ts`,
      exportName: handler.slice(dot + 1),
      environment: fn.environment ?? {},
      timeoutSeconds,
      httpRoutes,
      streams,
      schedules,
    };
  });

  const tables: ServerlessConfig['tables'] = {};
  const resourceTypes: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries<any>(raw.resources?.Resources ?? {})) {
    resourceTypes[logicalId] = resource.Type;
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const p = resource.Properties;
    tables[logicalId] = {
      AttributeDefinitions: p.AttributeDefinitions,
      KeySchema: p.KeySchema,
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map((index: any) => ({
        IndexName: index.IndexName,
        KeySchema: index.KeySchema,
        Projection: index.Projection,
      })),
      StreamSpecification: p.StreamSpecification
        ? { StreamEnabled: true, StreamViewType: p.StreamSpecification.StreamViewType }
        : undefined,
      ttlAttribute: p.TimeToLiveSpecification?.Enabled ? p.TimeToLiveSpecification.AttributeName : undefined,
    };
  }
  return { providerEnvironment: raw.provider?.environment ?? {}, functions, tables, resourceTypes };
}

/** What `${param:name, 'default'}` and friends resolve to locally. */
export interface LocalValues {
  tableNames: Record<string, string>;
  /** Logical id → value for other resources (the alert topic's ARN). */
  resourceRefs: Record<string, string>;
  params: Record<string, string | undefined>;
}

/** Resolves a function's environment (provider's, then the function's own) to plain strings. */
export function resolveEnvironment(config: ServerlessConfig, fn: FunctionDefinition, values: LocalValues): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...config.providerEnvironment, ...fn.environment })) {
    const resolved = resolveValue(value, values);
    if (resolved !== undefined) env[name] = resolved;
  }
  return env;
}

function resolveValue(value: unknown, values: LocalValues): string | undefined {
  if (value instanceof Intrinsic) {
    if (value.fn === 'Ref') {
      const id = String(value.value);
      return values.tableNames[id] ?? values.resourceRefs[id];
    }
    return undefined;
  }
  if (typeof value !== 'string') return value === undefined || value === null ? undefined : String(value);
  return value.replace(/\$\{param:([A-Za-z0-9_]+)(?:,\s*'([^']*)')?\}/g, (_m, name: string, fallback?: string) => values.params[name] ?? fallback ?? '');
}

/**
 * A Lambda event filter pattern (FilterCriteria): objects nest as in the record, and a leaf is the list of values
 * the record's value may equal. Only that much of the filter syntax is understood; anything else (prefix, numeric,
 * exists, anything-but) is refused when serverless.yml is read (checkFilterPattern), so local mode never filters
 * differently from Lambda without saying so.
 */
export type FilterPattern = { [key: string]: FilterPattern | readonly (string | number | boolean | null)[] };

/** Whether a stream record passes Lambda's filter: with no patterns everything passes; otherwise any one pattern. */
export function passesFilterPatterns(record: unknown, patterns: readonly FilterPattern[] | undefined): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((pattern) => matchesPattern(record, pattern));
}

function matchesPattern(value: unknown, pattern: FilterPattern): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = (value as Record<string, unknown>)[key];
    if (Array.isArray(expected)) return expected.some((allowed) => allowed === actual);
    return matchesPattern(actual, expected as FilterPattern);
  });
}

/** The pattern as it is, or an error naming the function when it uses filter syntax local mode does not apply. */
export function checkFilterPattern(pattern: unknown, functionName: string): FilterPattern {
  const check = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new Error(`serverless.yml: ${functionName}'s stream filter ${path || 'pattern'} must be an object of lists of values`);
    }
    for (const [key, value] of Object.entries(node)) {
      const where = path ? `${path}.${key}` : key;
      if (Array.isArray(value)) {
        if (value.some((v) => v !== null && typeof v === 'object')) {
          throw new Error(`serverless.yml: ${functionName}'s stream filter ${where} uses a content filter (prefix, numeric, exists, anything-but) that local mode does not apply`);
        }
      } else check(value, where);
    }
  };
  check(pattern, '');
  return pattern as FilterPattern;
}

/** Matches a request path against an API Gateway route path; returns the path parameters or undefined. */
export function matchRoutePath(routePath: string, requestPath: string): Record<string, string> | undefined {
  // Segments as API Gateway sees them: '/checkin/' and '//checkin' are not '/checkin'.
  const routeParts = routePath.split('/').slice(1);
  const parts = requestPath.split('/').slice(1);
  const params: Record<string, string> = {};
  for (let i = 0; i < routeParts.length; i += 1) {
    const routePart = routeParts[i];
    const greedy = /^\{(.+)\+\}$/.exec(routePart);
    if (greedy) {
      if (i >= parts.length) return undefined;
      params[greedy[1]] = parts.slice(i).map(safeDecode).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === '') return undefined;
    const param = /^\{(.+)\}$/.exec(routePart);
    if (param) params[param[1]] = safeDecode(part);
    else if (routePart !== part) return undefined;
  }
  return parts.length === routeParts.length ? params : undefined;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
