// The production deployment, reviewed offline: packages serverless.yml with osls (no AWS account, no network) and
// asserts on the CloudFormation template and the function bundles it generates (issues 6 and 18). Four runs share
// the work: `--stage prod` with the defaults (10,000 devices), `--stage prod` with every optional parameter (custom
// domain with mutual TLS, a trusted proxy with its secret parameter, an existing alarm topic, 100,000 devices, other
// limits), `--stage prod` for 1,000,000 devices with raised quotas, and `--stage dev` for what differs by stage.
// Three more runs must be refused (a trusted proxy without its secret or without a custom domain, prod without its
// admin tokens parameter); they stop before bundling.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import { loadServerlessConfig, PROJECT_ROOT } from '../../local/serverless-config.ts';
import { CONFIG_PK, IMAGING_PK, REVOCATION_LOG_PK, REVOCATION_SHARDS, revocationPk } from '../../lib/adapters/dynamodb/keys.ts';
import { createMetrics, recordCheckinMetrics, recordSettingsMissing, recordUnavailable } from '../../lib/observability.ts';
import {
  type CfnResource,
  type CfnTemplate,
  cleanupPackages,
  deployedView,
  describeReference,
  packageService,
  type PackagedService,
  packagingRefusal,
  referencedLogicalIds,
} from './osls-package.ts';

/** Function name → its logical id prefix, handler module and role. */
const FUNCTIONS = {
  checkin: { id: 'Checkin', module: 'functions/check-in' },
  imaging: { id: 'Imaging', module: 'functions/imaging' },
  admin: { id: 'Admin', module: 'functions/admin' },
  fallback: { id: 'Fallback', module: 'functions/fallback' },
  console: { id: 'Console', module: 'functions/console' },
  alerts: { id: 'Alerts', module: 'functions/alerts' },
  certExpiryScan: { id: 'CertExpiryScan', module: 'functions/cert-expiry-scan' },
  seedConfig: { id: 'SeedConfig', module: 'functions/seed-config' },
} as const;
type FunctionName = keyof typeof FUNCTIONS;
const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

const logs = (id: string) => [`logs:CreateLogStream ${id}LogGroup.Arn`, `logs:PutLogEvents ${id}LogGroup.Arn`];
const publishAlerts = ['sns:Publish AlertTopic', 'kms:Decrypt AlertsKey.Arn', 'kms:GenerateDataKey AlertsKey.Arn'];

/**
 * Every grant of every role, as "action resource". Exact: a new action or resource fails here until it is added
 * on purpose. The actions are what the function's adapters call (see the bundle check below).
 */
const EXPECTED_GRANTS: Record<FunctionName, string[]> = {
  checkin: [
    ...logs('Checkin'),
    'dynamodb:GetItem ConfigTable.Arn',
    'dynamodb:Query ConfigTable.Arn',
    'dynamodb:PutItem DecisionsTable.Arn',
    'dynamodb:GetItem DecisionsTable.Arn',
    'dynamodb:PutItem DeviceStatusTable.Arn',
  ],
  imaging: [...logs('Imaging'), 'dynamodb:GetItem ConfigTable.Arn', 'dynamodb:Query ConfigTable.Arn', 'dynamodb:UpdateItem ConfigTable.Arn'],
  admin: [
    ...logs('Admin'),
    'dynamodb:GetItem ConfigTable.Arn',
    'dynamodb:Query ConfigTable.Arn',
    'dynamodb:PutItem ConfigTable.Arn',
    'dynamodb:DeleteItem ConfigTable.Arn',
    'dynamodb:ConditionCheckItem ConfigTable.Arn',
    'dynamodb:Query DecisionsTable.Arn',
    'dynamodb:Query Sub(${DeviceStatusTable.Arn}/index/byStatusShard)',
    'ssm:GetParameter Sub(arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/tollgate/prod/admin-tokens)',
  ],
  fallback: [...logs('Fallback')],
  console: [...logs('Console')],
  alerts: [
    ...logs('Alerts'),
    'dynamodb:DescribeStream DeviceStatusTable.StreamArn',
    'dynamodb:GetRecords DeviceStatusTable.StreamArn',
    'dynamodb:GetShardIterator DeviceStatusTable.StreamArn',
    'dynamodb:ListStreams DeviceStatusTable.StreamArn',
    'sqs:SendMessage AlertsDeadLetterQueue.Arn',
    // MASS_BLOCK windows (UpdateItem, GetItem) and a device's decisions when its status item has no old image.
    'dynamodb:UpdateItem DecisionsTable.Arn',
    'dynamodb:GetItem DecisionsTable.Arn',
    'dynamodb:Query DecisionsTable.Arn',
    ...publishAlerts,
  ],
  certExpiryScan: [
    ...logs('CertExpiryScan'),
    'dynamodb:Query ConfigTable.Arn',
    'dynamodb:GetItem ConfigTable.Arn',
    'dynamodb:PutItem ConfigTable.Arn',
    'dynamodb:UpdateItem ConfigTable.Arn',
    'dynamodb:DeleteItem ConfigTable.Arn',
    'sqs:SendMessage AlertsDeadLetterQueue.Arn',
    ...publishAlerts,
  ],
  seedConfig: [...logs('SeedConfig'), 'dynamodb:PutItem ConfigTable.Arn', 'dynamodb:UpdateItem ConfigTable.Arn'],
};

/**
 * Calls that a function's bundle contains (an adapter module is bundled whole) but that the function never makes,
 * so its role does not grant them. A call not granted and not listed here fails the bundle check: grant it in
 * serverless.yml, or list it with the reason it is never made.
 */
const NOT_GRANTED_ON_PURPOSE: Record<FunctionName, Record<string, string>> = {
  checkin: {
    'dynamodb:UpdateItem': 'config-store.ts initializeSettings is the seedConfig function\'s (and local mode\'s); check-in only loads the snapshot',
    'dynamodb:DeleteItem': 'config-store.ts trust-material writes are the admin function\'s; check-in only loads the snapshot',
    'dynamodb:ConditionCheckItem': 'config-store.ts optimistic admin writes; check-in only loads the snapshot',
  },
  imaging: {
    'dynamodb:PutItem': 'imaging-store.ts / config-store.ts writes of accounts, documents and settings are the admin function\'s',
    'dynamodb:DeleteItem': 'imaging-store.ts / config-store.ts deletes are the admin function\'s',
    'dynamodb:ConditionCheckItem': 'imaging-store.ts / config-store.ts optimistic admin writes',
  },
  admin: {
    'dynamodb:UpdateItem': 'imaging-store.ts login-attempt records are the imaging function\'s',
  },
  fallback: {},
  console: {},
  alerts: {
    'dynamodb:PutItem': 'decision-store.ts writes are the check-in function\'s; alerts only reads a device\'s decisions',
  },
  certExpiryScan: {
    'dynamodb:ConditionCheckItem': 'config-store.ts optimistic admin writes; the scan only loads the snapshot',
  },
  seedConfig: {
    'dynamodb:GetItem': 'config-store.ts reads; the seed only writes SETTINGS and the version item when absent',
    'dynamodb:Query': 'config-store.ts snapshot and history reads',
    'dynamodb:DeleteItem': 'config-store.ts trust-material deletes are the admin function\'s',
    'dynamodb:ConditionCheckItem': 'config-store.ts optimistic admin writes',
  },
};

/** AWS SDK command classes → the IAM actions they need. TransactWriteItems needs the actions of its items. */
const COMMAND_ACTIONS: Record<string, string[]> = {
  GetItemCommand: ['dynamodb:GetItem'],
  PutItemCommand: ['dynamodb:PutItem'],
  UpdateItemCommand: ['dynamodb:UpdateItem'],
  DeleteItemCommand: ['dynamodb:DeleteItem'],
  QueryCommand: ['dynamodb:Query'],
  ScanCommand: ['dynamodb:Scan'],
  BatchGetItemCommand: ['dynamodb:BatchGetItem'],
  BatchWriteItemCommand: ['dynamodb:BatchWriteItem'],
  TransactGetItemsCommand: ['dynamodb:GetItem'],
  GetParameterCommand: ['ssm:GetParameter'],
  TransactWriteItemsCommand: [],
  PublishCommand: ['sns:Publish'],
  PublishBatchCommand: ['sns:Publish'],
  SendMessageCommand: ['sqs:SendMessage'],
};
const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Delete: 'dynamodb:DeleteItem',
  Update: 'dynamodb:UpdateItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** Parameters of the second prod run: everything optional switched on. */
const FULL_PARAMS = {
  domainName: 'gate.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100',
  truststoreUri: 's3://example-tollgate-truststore/truststore.pem',
  truststoreVersion: 'v3QmBvLVdGpxJ0gm1Jk2kN7ZxYt0QeRr',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alarms',
  ownershipVerificationCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  fleetSize: '100000',
  blockedShareAlarmPercent: '7',
  errorRateAlarmPercent: '2',
  serverErrorRateAlarmPercent: '3',
  throttledRateAlarmPercent: '4',
  unavailableRateAlarmPercent: '6',
  unauthenticatedCheckinsAlarmThreshold: '9',
  decisionRetentionDays: '30',
  idempotencyRetentionDays: '2',
  trustedClientCertHeader: 'x-amzn-mtls-clientcert',
  trustedProxySecretParameter: '/tollgate/prod/trusted-proxy-secret',
  trustedProxySecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  adminTokensParameter: '/tollgate/prod/admin-tokens-2',
  adminTokensKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab',
};

/** prod's one required parameter: the name of the SSM parameter holding ADMIN_TOKENS. */
const PROD_PARAMS = { adminTokensParameter: '/tollgate/prod/admin-tokens' };
/** A million devices, in an account whose quotas AWS raised (HTTP API 40,000 rps / 20,000 burst, Lambda 20,000). */
const MILLION_PARAMS = { ...PROD_PARAMS, fleetSize: '1000000', apiRateQuota: '40000', apiBurstQuota: '20000', lambdaConcurrencyQuota: '20000' };

let prod: PackagedService;
let full: PackagedService;
let dev: PackagedService;
let million: PackagedService;
/** prod's template as deployed (conditions applied). */
let t: CfnTemplate;

beforeAll(async () => {
  // One at a time: each run bundles six functions with esbuild, and the machines have two cores.
  prod = await packageService('prod', PROD_PARAMS);
  full = await packageService('prod', FULL_PARAMS);
  dev = await packageService('dev');
  million = await packageService('prod', MILLION_PARAMS);
  t = deployedView(prod.template);
  console.log(
    `osls package: prod ${(prod.elapsedMs / 1000).toFixed(1)} s, prod with all parameters ${(full.elapsedMs / 1000).toFixed(1)} s, dev ${(dev.elapsedMs / 1000).toFixed(1)} s, 1M devices ${(million.elapsedMs / 1000).toFixed(1)} s`,
  );
}, 540_000);

afterAll(async () => {
  await cleanupPackages();
});

function resource(template: CfnTemplate, id: string): CfnResource {
  const found = template.Resources[id];
  if (!found) throw new Error(`No resource ${id} in the template`);
  return found;
}

function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

interface Grant {
  action: string;
  resource: unknown;
  condition?: unknown;
}

function grantsOf(role: CfnResource): Grant[] {
  const grants: Grant[] = [];
  for (const policy of role.Properties?.Policies ?? []) {
    for (const statement of policy.PolicyDocument.Statement) {
      for (const action of asArray(statement.Action)) {
        for (const target of asArray(statement.Resource)) grants.push({ action, resource: target, condition: statement.Condition });
      }
    }
  }
  return grants;
}

const grantKeys = (role: CfnResource) => grantsOf(role).map((g) => `${g.action} ${describeReference(g.resource)}`);
const roleOf = (fn: FunctionName) => resource(t, `${FUNCTIONS[fn].id}Role`);

describe('functions', () => {
  it.each(FUNCTION_NAMES)('%s: nodejs22.x on arm64, its own role and log group with retention', (fn) => {
    const { id, module } = FUNCTIONS[fn];
    const lambda = resource(t, `${id}LambdaFunction`);
    expect(lambda.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: `${module}.handler`,
      Role: { 'Fn::GetAtt': [`${id}Role`, 'Arn'] },
    });
    expect(lambda.Properties!.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(asArray(lambda.DependsOn ?? [])).toContain(`${id}LogGroup`);
    expect(resource(t, `${id}LogGroup`).Properties!.RetentionInDays).toBe(90);
    expect(resource(dev.template, `${id}LogGroup`).Properties!.RetentionInDays).toBe(30);
  });

  it('has exactly the functions of serverless.yml', () => {
    expect(resourcesOfType(t, 'AWS::Lambda::Function').map(([id]) => id).sort()).toEqual(
      FUNCTION_NAMES.map((fn) => `${FUNCTIONS[fn].id}LambdaFunction`).sort(),
    );
  });

  it('passes the stage parameters to the environment', () => {
    const env = (template: CfnTemplate, id: string) => resource(template, `${id}LambdaFunction`).Properties!.Environment.Variables;
    expect(env(t, 'Checkin')).toMatchObject({
      DECISION_RETENTION_DAYS: '90',
      IDEMPOTENCY_RETENTION_DAYS: '3',
      TRUSTED_CLIENT_CERT_HEADER: '',
      TRUSTED_PROXY_SECRET_PARAMETER: '',
      CONFIG_TABLE: { Ref: 'ConfigTable' },
      DECISIONS_TABLE: { Ref: 'DecisionsTable' },
      DEVICE_STATUS_TABLE: { Ref: 'DeviceStatusTable' },
    });
    expect(env(full.template, 'Checkin')).toMatchObject({
      DECISION_RETENTION_DAYS: '30',
      IDEMPOTENCY_RETENTION_DAYS: '2',
      TRUSTED_CLIENT_CERT_HEADER: 'x-amzn-mtls-clientcert',
      TRUSTED_PROXY_SECRET_PARAMETER: FULL_PARAMS.trustedProxySecretParameter,
    });
    // The secret itself is never in the template.
    for (const [id, lambda] of resourcesOfType(full.template, 'AWS::Lambda::Function')) {
      expect(Object.keys(lambda.Properties!.Environment.Variables), id).not.toContain('TRUSTED_PROXY_SECRET');
    }
    expect(env(t, 'Alerts')).toMatchObject({ ALERT_TOPIC_ARN: { Ref: 'AlertTopic' }, MASS_BLOCK_DEVICES: '50', MASS_BLOCK_WINDOW_MINUTES: '10' });
    expect(env(t, 'CertExpiryScan').ALERT_TOPIC_ARN).toEqual({ Ref: 'AlertTopic' });
    // The admin tokens: the SSM parameter's name only; ADMIN_TOKENS (local mode) stays empty in every template.
    expect(env(t, 'Admin')).toMatchObject({ ADMIN_TOKENS: '', ADMIN_TOKENS_PARAMETER: PROD_PARAMS.adminTokensParameter });
    expect(env(full.template, 'Admin')).toMatchObject({ ADMIN_TOKENS: '', ADMIN_TOKENS_PARAMETER: FULL_PARAMS.adminTokensParameter });
    expect(env(dev.template, 'Admin')).toMatchObject({ ADMIN_TOKENS: '', ADMIN_TOKENS_PARAMETER: '' });
    for (const run of [prod, full, dev, million]) expect(JSON.stringify(run.template)).not.toMatch(/[0-9a-f]{64}/);
  });
});

describe('bundles', () => {
  const bundleOf = (fn: FunctionName) => {
    const artifact = prod.artifacts.get(fn);
    if (!artifact) throw new Error(`No artifact ${fn}.zip`);
    const code = artifact.get(`${FUNCTIONS[fn].module}.mjs`);
    const map = artifact.get(`${FUNCTIONS[fn].module}.mjs.map`);
    if (!code || !map) throw new Error(`${fn}.zip holds ${[...artifact.keys()].join(', ')}`);
    return { entries: [...artifact.keys()], code: code.toString('utf8'), sources: JSON.parse(map.toString('utf8')).sources as string[] };
  };

  it.each(FUNCTION_NAMES)('%s: one minified ESM .mjs with the createRequire banner and its source map', (fn) => {
    const { entries, code, sources } = bundleOf(fn);
    expect(entries.sort()).toEqual([`${FUNCTIONS[fn].module}.mjs`, `${FUNCTIONS[fn].module}.mjs.map`]);
    expect(code.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(true);
    const file = FUNCTIONS[fn].module.split('/').pop();
    expect(code.trimEnd().endsWith(`//# sourceMappingURL=${file}.mjs.map`)).toBe(true);
    // Minified: a few hundred bytes per line on average, where formatted code has tens.
    expect(code.length / code.split('\n').length).toBeGreaterThan(500);
    expect(sources.some((s) => s.endsWith(`${FUNCTIONS[fn].module}.ts`))).toBe(true);
  });

  it('keeps node-forge out of every bundle but the admin one', () => {
    const withForge = FUNCTION_NAMES.filter((fn) => bundleOf(fn).sources.some((s) => s.includes('node_modules/node-forge/')));
    expect(withForge.filter((fn) => fn !== 'admin')).toEqual([]);
    // The check-in bundle does hold the domain it needs (so the source list is a real one).
    expect(bundleOf('checkin').sources.some((s) => s.endsWith('lib/domain/evaluate.ts'))).toBe(true);
  });

  it.each(FUNCTION_NAMES)('%s: the AWS SDK from its ES module builds, with credentials read from the environment only', (fn) => {
    const { sources } = bundleOf(fn);
    const sdk = sources.filter((s) => /node_modules\/@(aws-sdk|smithy)\//.test(s));
    expect(sdk.filter((s) => s.includes('/dist-cjs/'))).toEqual([]);
    expect(sdk.filter((s) => /\/(credential-provider-[^/]+|nested-clients|token-providers)\//.test(s))).toEqual([]);
    expect(sources.some((s) => s.endsWith('lib/adapters/lambda-credentials.ts'))).toBe(sdk.length > 0);
  });

  // 563 KB since the plain certificate reading (lib/domain/plain-certificate.ts, ≈ 9 KB) spares a new device's check-in
  // OpenSSL's key decoding; the bound guards against the SDK or a library growing back in.
  it('check-in: the bundle stays within 570 KB minified (1046 KB with the SDK as CommonJS and the default credential chain)', () => {
    const { code } = bundleOf('checkin');
    expect(Buffer.byteLength(code)).toBeLessThan(570_000);
  });

  it('admin bundles node-forge when it opens push certificates (PKCS#12)', () => {
    const admin = bundleOf('admin').sources;
    expect(admin.some((s) => s.endsWith('lib/domain/push-certificate.ts'))).toBe(true);
    expect(admin.some((s) => s.includes('node_modules/node-forge/'))).toBe(true);
  });

  // DynamoDB Local does not enforce IAM, so a call the role does not allow would first fail in AWS (as a 503).
  it.each(FUNCTION_NAMES)('%s: every AWS call its code can make is granted to its role, or denied on purpose', (fn) => {
    const ownSources = bundleOf(fn)
      .sources.filter((s) => !s.includes('node_modules/'))
      .map((s) => s.replace(/^(\.\.\/)+/, ''));
    const needed = new Map<string, string[]>();
    for (const source of ownSources) {
      const text = readFileSync(join(PROJECT_ROOT, source), 'utf8');
      const actions = new Set<string>();
      for (const [, command] of text.matchAll(/new (\w+Command)\(/g)) {
        const mapped = COMMAND_ACTIONS[command];
        if (!mapped) throw new Error(`${source} sends ${command}: add its IAM actions to COMMAND_ACTIONS in this test`);
        mapped.forEach((a) => actions.add(a));
      }
      if (/TransactWriteItem/.test(text)) {
        for (const [, kind] of text.matchAll(/\b(Put|Delete|Update|ConditionCheck)\s*:\s*\{/g)) actions.add(TRANSACT_ITEM_ACTIONS[kind]);
      }
      for (const action of actions) needed.set(action, [...(needed.get(action) ?? []), source]);
    }
    // What the role may be granted with some parameters: the default run, and the one with every option on.
    const granted = new Set([...grantsOf(roleOf(fn)), ...grantsOf(resource(deployedView(full.template), `${FUNCTIONS[fn].id}Role`))].map((g) => g.action));
    const denied = NOT_GRANTED_ON_PURPOSE[fn];
    const missing = [...needed.entries()].filter(([action]) => !granted.has(action) && !(action in denied)).map(([a, files]) => `${a} (${files.join(', ')})`);
    expect(missing, `${fn}: grant these in serverless.yml or list them in NOT_GRANTED_ON_PURPOSE`).toEqual([]);
    expect(Object.keys(denied).filter((action) => granted.has(action))).toEqual([]);
  });
});

describe('IAM: one role per function, the fewest actions on named resources', () => {
  it('has exactly one role per function and no shared or managed policies', () => {
    expect(resourcesOfType(t, 'AWS::IAM::Role').map(([id]) => id).sort()).toEqual(FUNCTION_NAMES.map((fn) => `${FUNCTIONS[fn].id}Role`).sort());
    expect(t.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(resourcesOfType(t, 'AWS::IAM::Policy')).toEqual([]);
    expect(resourcesOfType(t, 'AWS::IAM::ManagedPolicy')).toEqual([]);
    for (const [, role] of resourcesOfType(t, 'AWS::IAM::Role')) {
      expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
  });

  it.each(FUNCTION_NAMES)('%s: grants exactly the expected actions on the expected resources', (fn) => {
    expect(grantKeys(roleOf(fn)).sort()).toEqual([...EXPECTED_GRANTS[fn]].sort());
  });

  it('has no wildcard: every action is named, every resource is a resource of this stack', () => {
    for (const [id, role] of resourcesOfType(t, 'AWS::IAM::Role')) {
      for (const policy of role.Properties!.Policies) {
        for (const statement of policy.PolicyDocument.Statement) {
          expect(statement.Effect, id).toBe('Allow');
          expect(statement.NotAction, id).toBeUndefined();
          expect(statement.NotResource, id).toBeUndefined();
          for (const action of asArray(statement.Action as string)) {
            expect(action, `${id}: ${action}`).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
          }
          for (const target of asArray(statement.Resource)) {
            expect(target, id).not.toBe('*');
            // An SSM parameter is no resource of the stack: it is named by its parameter (checked below).
            if (statement.Action.includes?.('ssm:GetParameter')) continue;
            const ids = referencedLogicalIds(target);
            expect(ids.length, `${id}: ${JSON.stringify(target)} names no resource of the stack`).toBeGreaterThan(0);
            for (const logicalId of ids) expect(t.Resources[logicalId], `${id} → ${logicalId}`).toBeDefined();
          }
        }
      }
    }
  });

  it('lets only alerts and certExpiryScan publish, and only to the alert topic', () => {
    for (const fn of FUNCTION_NAMES) {
      const sns = grantsOf(roleOf(fn)).filter((g) => g.action.startsWith('sns:'));
      if (fn === 'alerts' || fn === 'certExpiryScan') expect(sns).toEqual([{ action: 'sns:Publish', resource: { Ref: 'AlertTopic' }, condition: undefined }]);
      else expect(sns, fn).toEqual([]);
    }
  });

  it('keeps check-in from writing settings or trust material and from publishing', () => {
    const checkin = grantsOf(roleOf('checkin'));
    const onConfig = checkin.filter((g) => describeReference(g.resource).startsWith('ConfigTable'));
    expect(onConfig.map((g) => g.action)).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(checkin.filter((g) => /^(sns|kms|sqs|ssm):/.test(g.action))).toEqual([]);
  });

  const leadingKeys = (...partitions: string[]) => ({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': partitions } });
  const onConfigTable = (fn: FunctionName) =>
    grantsOf(roleOf(fn))
      .filter((g) => describeReference(g.resource) === 'ConfigTable.Arn')
      .map((g) => ({ action: g.action, condition: g.condition }));

  it('lets check-in read the CONFIG partition and the revocations of the config table and no other (imaging password hashes, history)', () => {
    // What the policy cache reads: the VERSION item, the CONFIG partition, the 16 revocation partitions and their log.
    const reads = leadingKeys(CONFIG_PK, REVOCATION_LOG_PK, ...REVOCATION_SHARDS.map(revocationPk));
    expect(onConfigTable('checkin')).toEqual([
      { action: 'dynamodb:GetItem', condition: reads },
      { action: 'dynamodb:Query', condition: reads },
    ]);
  });

  it('lets imaging read only the settings and its own partitions, and write only its login attempts', () => {
    const reads = leadingKeys(CONFIG_PK, IMAGING_PK.account, IMAGING_PK.PRESTAGE, IMAGING_PK.AUTORUN, IMAGING_PK.loginFailures);
    expect(onConfigTable('imaging')).toEqual([
      { action: 'dynamodb:GetItem', condition: reads },
      { action: 'dynamodb:Query', condition: reads },
      // The settings (CONFIG) and the accounts cannot be changed by the imaging function.
      { action: 'dynamodb:UpdateItem', condition: leadingKeys(IMAGING_PK.loginFailures) },
    ]);
  });

  it('limits partitions only where every granted action names its partition key', () => {
    // ForAllValues holds vacuously for a request without dynamodb:LeadingKeys (a Scan): such actions must not be
    // granted under a partition condition, or the condition would let them read everything.
    for (const fn of FUNCTION_NAMES) {
      for (const grant of grantsOf(roleOf(fn)).filter((g) => JSON.stringify(g.condition ?? {}).includes('dynamodb:LeadingKeys'))) {
        expect(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'], `${fn} ${grant.action}`).toContain(grant.action);
        // ForAllValues (every key the request names must match), never ForAnyValue.
        expect(Object.keys(grant.condition as object), fn).toHaveLength(1);
        expect(['ForAllValues:StringEquals', 'ForAllValues:StringLike'], fn).toContain(Object.keys(grant.condition as object)[0]);
      }
    }
  });

  it('lets the publishers use the topic key only through SNS', () => {
    for (const fn of ['alerts', 'certExpiryScan'] as const) {
      for (const grant of grantsOf(roleOf(fn)).filter((g) => g.action.startsWith('kms:'))) {
        expect(grant.resource).toEqual({ 'Fn::GetAtt': ['AlertsKey', 'Arn'] });
        expect(grant.condition).toEqual({ StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } });
      }
    }
  });
});

describe('trusted proxy secret', () => {
  const isSecretGrant = (g: Grant) => g.action.startsWith('ssm:') || g.resource === FULL_PARAMS.trustedProxySecretKeyArn;
  const secretGrants = (template: CfnTemplate, roleId: string) => grantsOf(resource(template, roleId)).filter(isSecretGrant);

  it('lets check-in read exactly the named SecureString parameter, and decrypt with its key only through SSM', () => {
    const view = deployedView(full.template);
    expect(secretGrants(view, 'CheckinRole')).toEqual([
      {
        action: 'ssm:GetParameter',
        resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${FULL_PARAMS.trustedProxySecretParameter}` },
        condition: undefined,
      },
      {
        action: 'kms:Decrypt',
        resource: FULL_PARAMS.trustedProxySecretKeyArn,
        condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } },
      },
    ]);
    // Everything else check-in may do is what it may do without a proxy.
    const others = grantsOf(resource(view, 'CheckinRole')).filter((g) => !isSecretGrant(g));
    expect(others.map((g) => `${g.action} ${describeReference(g.resource)}`).sort()).toEqual([...EXPECTED_GRANTS.checkin].sort());
    for (const fn of FUNCTION_NAMES.filter((f) => f !== 'checkin' && f !== 'admin')) {
      expect(grantsOf(resource(view, `${FUNCTIONS[fn].id}Role`)).filter((g) => g.action.startsWith('ssm:')), fn).toEqual([]);
    }
  });

  it('lets admin read exactly its tokens parameter, and decrypt with its key only through SSM; dev without one grants nothing of SSM', () => {
    const adminSecretGrants = (template: CfnTemplate) =>
      grantsOf(resource(template, 'AdminRole')).filter((g) => g.action.startsWith('ssm:') || g.action.startsWith('kms:'));
    expect(adminSecretGrants(deployedView(full.template))).toEqual([
      {
        action: 'ssm:GetParameter',
        resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${FULL_PARAMS.adminTokensParameter}` },
        condition: undefined,
      },
      {
        action: 'kms:Decrypt',
        resource: FULL_PARAMS.adminTokensKeyArn,
        condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } },
      },
    ]);
    expect(adminSecretGrants(t).map((g) => g.action)).toEqual(['ssm:GetParameter']);
    expect(adminSecretGrants(deployedView(dev.template))).toEqual([]);
  });

  it('needs no KMS grant for a parameter under the AWS managed key aws/ssm (its key policy lets the account decrypt through SSM)', () => {
    const template = structuredClone(full.template);
    // The condition as osls writes it for trustedProxySecretKeyArn '' (same shape as in the default run).
    template.Conditions!.HasTrustedProxySecretKey = structuredClone(prod.template.Conditions!.HasTrustedProxySecretKey);
    expect(secretGrants(deployedView(template), 'CheckinRole').map((g) => g.action)).toEqual(['ssm:GetParameter']);
  });

  it('grants nothing of SSM when no proxy is configured', () => {
    expect(secretGrants(t, 'CheckinRole')).toEqual([]);
    expect(resource(t, 'CheckinLambdaFunction').Properties!.Environment.Variables.TRUSTED_PROXY_SECRET_PARAMETER).toBe('');
  });

  it('disables the execute-api endpoint whenever the header is on, with or without mutual TLS', () => {
    const withoutMutualTls = structuredClone(full.template);
    withoutMutualTls.Conditions!.HasMutualTls = structuredClone(prod.template.Conditions!.HasMutualTls);
    expect(resource(deployedView(withoutMutualTls), 'ApiDomainName').Properties!.MutualTlsAuthentication).toBeUndefined();
    expect(resource(deployedView(withoutMutualTls), 'HttpApi').Properties!.DisableExecuteApiEndpoint).toBe(true);
    // The same stack without the header keeps it: the header is what turned it off.
    const withoutHeader = structuredClone(withoutMutualTls);
    withoutHeader.Conditions!.HasTrustedProxyHeader = structuredClone(prod.template.Conditions!.HasTrustedProxyHeader);
    expect(resource(deployedView(withoutHeader), 'HttpApi').Properties!.DisableExecuteApiEndpoint).toBe(false);
  });

  /** What serverless-plugins/deploy-guards.cjs refuses, checked without osls (the two runs below check it with osls). */
  const { refusalFor } = createRequire(import.meta.url)('../../serverless-plugins/deploy-guards.cjs') as {
    refusalFor(guards: Record<string, string>): string | undefined;
  };
  const domain = { domainName: 'gate.example.com', certificateArn: FULL_PARAMS.certificateArn };
  const parameter = { trustedProxySecretParameter: '/tollgate/prod/trusted-proxy-secret' };

  it.each([
    // guards (resolved custom.deployGuards) | refusal matching
    [{ trustedClientCertHeader: '', trustedProxySecretParameter: '', domainName: '' }, undefined],
    [{ trustedClientCertHeader: 'x-client-cert', ...parameter, ...domain }, undefined],
    [{ trustedClientCertHeader: 'x-client-cert', trustedProxySecretParameter: '', ...domain }, /without trustedProxySecretParameter/],
    [{ trustedClientCertHeader: 'x-client-cert', trustedProxySecretParameter: '   ', ...domain }, /without trustedProxySecretParameter/],
    [{ trustedClientCertHeader: 'x-client-cert', trustedProxySecretParameter: 'tollgate-secret', ...domain }, /must be an SSM parameter path starting with '\/'/],
    [{ trustedClientCertHeader: 'x-client-cert', ...parameter, domainName: '' }, /needs a custom domain \(domainName/],
    [{ trustedClientCertHeader: '', trustedProxySecretParameter: '', domainName: 'gate.example.com', certificateArn: '' }, /^domainName is set without certificateArn: /],
    [{ trustedClientCertHeader: '', trustedProxySecretParameter: '', domainName: 'gate.example.com', certificateArn: ' ' }, /^domainName is set without certificateArn: /],
    [{ trustedClientCertHeader: '', trustedProxySecretParameter: '', ...domain }, undefined],
    // Admin tokens: a name on prod, never the hashes themselves in a template.
    [{ stage: 'prod', adminTokensParameter: '/tollgate/prod/admin-tokens' }, undefined],
    [{ stage: 'prod', adminTokensParameter: '' }, /^prod needs adminTokensParameter: /],
    [{ stage: 'dev', adminTokensParameter: '' }, undefined],
    [{ stage: 'dev', adminTokensParameter: 'admin-tokens' }, /^adminTokensParameter must be an SSM parameter path starting with '\/'/],
    [{ stage: 'dev', adminTokens: `alice:admin:${'a'.repeat(64)}` }, /^adminTokens is for local mode only: /],
    // The truststore: its version with its URI.
    [{ stage: 'dev', truststoreUri: 's3://bucket/truststore.pem', truststoreVersion: '' }, /^truststoreUri is set without truststoreVersion: /],
    [{ stage: 'dev', truststoreUri: 's3://bucket/truststore.pem', truststoreVersion: 'v1' }, undefined],
  ])('deploy guard %j', (guards, refusal) => {
    const found = refusalFor(guards);
    if (refusal === undefined) expect(found).toBeUndefined();
    else {
      expect(found).toMatch(refusal);
      expect(found).not.toContain('\n');
    }
  });

  describe('osls package refuses, with one line', () => {
    let withoutParameter: string[];
    let withoutDomain: string[];
    let withoutAdminTokens: string[];

    beforeAll(async () => {
      // All stop before bundling, so they can share the machine.
      [withoutParameter, withoutDomain, withoutAdminTokens] = await Promise.all([
        packagingRefusal('prod', { trustedClientCertHeader: 'x-client-cert', ...domain }),
        packagingRefusal('prod', { trustedClientCertHeader: 'x-client-cert', ...parameter }),
        packagingRefusal('prod', {}),
      ]);
    }, 200_000);

    it('prod without the admin tokens parameter', () => {
      expect(withoutAdminTokens).toEqual([
        'prod needs adminTokensParameter: create an SSM SecureString parameter holding ADMIN_TOKENS (name:role:sha256hex,…) and pass its name with --param="adminTokensParameter=/tollgate/prod/admin-tokens"',
      ]);
    });

    it('a trusted proxy header without the secret parameter', () => {
      expect(withoutParameter).toHaveLength(1);
      expect(withoutParameter[0]).toMatch(/^trustedClientCertHeader is set without trustedProxySecretParameter: /);
    });

    it('a trusted proxy header without a custom domain', () => {
      expect(withoutDomain).toHaveLength(1);
      expect(withoutDomain[0]).toMatch(/^trustedClientCertHeader needs a custom domain \(domainName, certificateArn\)/);
    });
  });
});

describe('tables', () => {
  const TABLES = ['ConfigTable', 'DecisionsTable', 'DeviceStatusTable'];

  it.each(TABLES)('%s: on demand, point-in-time recovery, deletion protection and retention on prod', (id) => {
    const table = resource(t, id);
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it.each([
    ['ConfigTable', 'tollgate-prod-config'],
    ['DecisionsTable', 'tollgate-prod-decisions'],
    ['DeviceStatusTable', 'tollgate-prod-device-status'],
  ])('%s: named on prod, so a change that would replace it fails the deploy instead of creating an empty table', (id, name) => {
    expect(resource(t, id).Properties!.TableName).toBe(name);
    expect(resource(deployedView(dev.template), id).Properties!.TableName).toBeUndefined();
  });

  it.each(TABLES)('%s: no deletion protection on other stages', (id) => {
    const table = resource(dev.template, id);
    expect(table.Properties!.DeletionProtectionEnabled).toBe(false);
    expect(table.Properties!.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.DeletionPolicy).toBe('Delete');
  });

  it('expires decisions and idempotency records by TTL on expiresAt', () => {
    expect(resource(t, 'DecisionsTable').Properties!.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('grants queries only on indexes the tables have', () => {
    const granted = FUNCTION_NAMES.flatMap((fn) => grantKeys(roleOf(fn))).flatMap((key) => [...key.matchAll(/\$\{(\w+)\.Arn\}\/index\/(\w+)/g)]);
    expect(granted.length).toBeGreaterThan(0);
    for (const [, table, index] of granted) {
      expect(resource(t, table).Properties!.GlobalSecondaryIndexes.map((i: { IndexName: string }) => i.IndexName), `${table}/index/${index}`).toContain(index);
    }
  });

  it('indexes device status by status shard and last check-in, and streams both images', () => {
    const table = resource(t, 'DeviceStatusTable').Properties!;
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byStatusShard',
        KeySchema: [
          { AttributeName: 'statusShard', KeyType: 'HASH' },
          { AttributeName: 'statusSk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(table.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  // Device status items carry no expiresAt (test/unit/decision-store-writes.test.ts pins the whole items), so only
  // the marks expire; a REMOVE record of an expired mark passes no stream filter.
  it('expires the unauthenticated-attempt marks of the device-status table by TTL on expiresAt', () => {
    expect(resource(t, 'DeviceStatusTable').Properties!.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });
});

describe('alert path', () => {
  it('encrypts the alert topic with a rotated customer managed key that CloudWatch alarms may use', () => {
    expect(resource(t, 'AlertTopic').Properties!.KmsMasterKeyId).toEqual({ Ref: 'AlertsKey' });
    const key = resource(t, 'AlertsKey').Properties!;
    expect(key.EnableKeyRotation).toBe(true);
    const statements = key.KeyPolicy.Statement as any[];
    for (const statement of statements) expect(statement.Principal).not.toBe('*');
    expect(statements.find((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  it('reads the device-status stream with retries, bisection, partial batch failures and an encrypted on-failure queue', () => {
    const [[, mapping], ...others] = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping');
    expect(others).toEqual([]);
    const p = mapping.Properties!;
    expect(p).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['DeviceStatusTable', 'StreamArn'] },
      FunctionName: { 'Fn::GetAtt': ['AlertsLambdaFunction', 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['AlertsDeadLetterQueue', 'Arn'] } } },
    });
    // No count limit: retried until the records are 12 h old, which leaves 12 h to re-drive them from the 24 h stream.
    expect(p.MaximumRetryAttempts).toBe(-1);
    expect(p.MaximumRecordAgeInSeconds).toBe(12 * 3600);
    const queue = resource(t, 'AlertsDeadLetterQueue').Properties!;
    expect(queue.SqsManagedSseEnabled === true || queue.KmsMasterKeyId !== undefined).toBe(true);
    expect(queue.MessageRetentionPeriod).toBe(1209600);
  });

  it('invokes alerts only for what can raise an alert: a record the check-in marked alert-relevant', () => {
    const [[, mapping]] = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties!.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual([
      { dynamodb: { NewImage: { alertRelevant: { BOOL: [true] } } } },
    ]);
  });

  it('sends a certExpiryScan run that failed its retries to the on-failure queue', () => {
    expect(resourcesOfType(t, 'AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties)).toEqual([
      {
        FunctionName: { Ref: 'CertExpiryScanLambdaFunction' },
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['AlertsDeadLetterQueue', 'Arn'] } } },
        Qualifier: '$LATEST',
      },
    ]);
  });

  it('lets only the alerts and certExpiryScan roles publish to the alert topic, and only over TLS', () => {
    expect(resource(t, 'AlertTopicPolicy').Properties).toEqual({
      Topics: [{ Ref: 'AlertTopic' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'PublishOnlyFromAlertFunctions',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: { Ref: 'AlertTopic' },
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['AlertsRole', 'Arn'] }, { 'Fn::GetAtt': ['CertExpiryScanRole', 'Arn'] }] } },
          },
          { Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 'sns:*', Resource: { Ref: 'AlertTopic' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        ],
      },
    });
  });

  it("lets this account's CloudWatch alarms publish to the alarm topic, only over TLS; none with a topic of one's own", () => {
    expect(resource(t, 'AlarmTopicPolicy').Properties).toEqual({
      Topics: [{ Ref: 'AlarmTopic' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: 'AlarmTopic' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
          { Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 'sns:*', Resource: { Ref: 'AlarmTopic' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        ],
      },
    });
    expect(deployedView(full.template).Resources.AlarmTopicPolicy).toBeUndefined();
  });
});

describe('settings at deploy time', () => {
  it('runs seedConfig as a custom resource on the three tables, so that it sees (and refuses) a replaced one', () => {
    expect(resource(t, 'SeedConfig')).toEqual({
      Type: 'Custom::SeedConfig',
      Properties: {
        ServiceToken: { 'Fn::GetAtt': ['SeedConfigLambdaFunction', 'Arn'] },
        ConfigTable: { Ref: 'ConfigTable' },
        DecisionsTable: { Ref: 'DecisionsTable' },
        DeviceStatusTable: { Ref: 'DeviceStatusTable' },
        AllowTableReplacement: 'false',
      },
    });
    // Not an HTTP function, and it answers before its timeout (functions/seed-config.ts SEED_DEADLINE_MS is 45 s).
    expect(resource(t, 'SeedConfigLambdaFunction').Properties).toMatchObject({ Timeout: 60 });
    expect(resourcesOfType(t, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties).includes('SeedConfig'))).toEqual([]);
  });

  it('runs certExpiryScan daily', () => {
    const rules = resourcesOfType(t, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    expect(rule.Properties!.ScheduleExpression).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    expect(rule.Properties!.State).toBe('ENABLED');
    expect(rule.Properties!.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['CertExpiryScanLambdaFunction', 'Arn'] } })]);
  });
});

describe('HTTP API', () => {
  it('routes exactly the routes of serverless.yml to their functions', () => {
    const routes = resourcesOfType(t, 'AWS::ApiGatewayV2::Route').map(([, r]) => {
      const target = String(r.Properties!.Target['Fn::Join'][1][1].Ref);
      return `${r.Properties!.RouteKey} → ${target}`;
    });
    const expected = loadServerlessConfig().functions.flatMap((fn) =>
      fn.httpRoutes.map((route) => `${route.routeKey} → HttpApiIntegration${fn.name[0].toUpperCase()}${fn.name.slice(1)}`),
    );
    expect(routes.sort()).toEqual(expected.sort());
    expect(routes).toContain('POST /checkin → HttpApiIntegrationCheckin');
  });

  it('writes a JSON access log with latency, integration error and client-certificate serial, with retention', () => {
    const stage = resource(t, 'HttpApiStage').Properties!;
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
    expect(JSON.parse(stage.AccessLogSettings.Format)).toEqual({
      requestId: '$context.requestId',
      apiId: '$context.apiId',
      ip: '$context.identity.sourceIp',
      requestTime: '$context.requestTime',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLength: '$context.responseLength',
      responseLatency: '$context.responseLatency',
      integrationLatency: '$context.integrationLatency',
      integrationStatus: '$context.integrationStatus',
      integrationErrorMessage: '$context.integrationErrorMessage',
      errorMessage: '$context.error.message',
      clientCertSerial: '$context.identity.clientCert.serialNumber',
    });
    expect(resource(t, 'HttpApiLogGroup').Properties!.RetentionInDays).toBe(90);
  });

  it('has no custom domain and keeps the execute-api endpoint by default', () => {
    expect(resource(t, 'HttpApi').Properties!.DisableExecuteApiEndpoint).toBe(false);
    expect(resourcesOfType(t, 'AWS::ApiGatewayV2::DomainName')).toEqual([]);
    expect(resourcesOfType(t, 'AWS::ApiGatewayV2::ApiMapping')).toEqual([]);
  });

  it('with a domain and a truststore: mutual TLS on the domain, and the execute-api endpoint disabled', () => {
    const view = deployedView(full.template);
    expect(resource(view, 'HttpApi').Properties!.DisableExecuteApiEndpoint).toBe(true);
    expect(resource(view, 'ApiDomainName').Properties).toEqual({
      DomainName: FULL_PARAMS.domainName,
      DomainNameConfigurations: [
        {
          CertificateArn: FULL_PARAMS.certificateArn,
          EndpointType: 'REGIONAL',
          SecurityPolicy: 'TLS_1_2',
          OwnershipVerificationCertificateArn: FULL_PARAMS.ownershipVerificationCertificateArn,
        },
      ],
      MutualTlsAuthentication: { TruststoreUri: FULL_PARAMS.truststoreUri, TruststoreVersion: FULL_PARAMS.truststoreVersion },
    });
    expect(resource(view, 'ApiDomainMapping').Properties).toEqual({ ApiId: { Ref: 'HttpApi' }, DomainName: { Ref: 'ApiDomainName' }, Stage: '$default' });
    expect(resource(view, 'ApiDnsRecord').Properties).toMatchObject({ HostedZoneId: FULL_PARAMS.hostedZoneId, Name: FULL_PARAMS.domainName, Type: 'A' });
  });

  it('with a domain but no truststore (and no trusted proxy): no mutual TLS, and the execute-api endpoint stays', () => {
    const template = structuredClone(full.template);
    // The conditions as osls writes them for truststoreUri '' and trustedClientCertHeader '' (as in the default run).
    template.Conditions!.HasMutualTls = structuredClone(prod.template.Conditions!.HasMutualTls);
    template.Conditions!.HasTrustedProxyHeader = structuredClone(prod.template.Conditions!.HasTrustedProxyHeader);
    template.Conditions!.HasOwnershipVerificationCertificate = structuredClone(prod.template.Conditions!.HasOwnershipVerificationCertificate);
    const view = deployedView(template);
    expect(resource(view, 'ApiDomainName').Properties!.MutualTlsAuthentication).toBeUndefined();
    expect(resource(view, 'ApiDomainName').Properties!.DomainNameConfigurations[0].OwnershipVerificationCertificateArn).toBeUndefined();
    expect(resource(view, 'HttpApi').Properties!.DisableExecuteApiEndpoint).toBe(false);
  });
});

describe('alarms', () => {
  const alarms = (template: CfnTemplate) => resourcesOfType(template, 'AWS::CloudWatch::Alarm');
  const alarmOn = (template: CfnTemplate, namespace: string, metric: string, dimension?: unknown) =>
    alarms(template).filter(
      ([, a]) =>
        a.Properties!.Namespace === namespace &&
        a.Properties!.MetricName === metric &&
        (dimension === undefined || JSON.stringify(a.Properties!.Dimensions) === JSON.stringify(dimension)),
    );
  const service = [{ Name: 'service', Value: 'tollgate' }];
  const api = [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }];
  const stat = (Id: string, Namespace: string, MetricName: string, Dimensions: unknown) => ({
    Id,
    ReturnData: false,
    MetricStat: { Metric: { Namespace, MetricName, Dimensions }, Period: 300, Stat: 'Sum' },
  });
  /** A share alarm: its metrics, the expression (the percentage, 0 below 20 requests) and the threshold in percent. */
  const share = (id: string, metrics: unknown[], expression: { Id: string; Label: string; Expression: string }, threshold: number) => ({
    id,
    properties: {
      Metrics: [...metrics, { ...expression, ReturnData: true }],
      EvaluationPeriods: 1,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  });
  const MIN = 20;
  const SHARE_ALARMS = (thresholds: { blocked: number; errors: number; serverErrors: number; throttled: number; unavailable: number }) => [
    share(
      'CheckinsBlockedAlarm',
      [stat('blocked', 'Tollgate', 'CheckinBlocked', service), stat('accepted', 'Tollgate', 'CheckinAccepted', service)],
      {
        Id: 'blockedShare',
        Label: 'Blocked check-ins (%)',
        Expression: `IF(FILL(blocked, 0) + FILL(accepted, 0) >= ${MIN}, 100 * FILL(blocked, 0) / (FILL(blocked, 0) + FILL(accepted, 0)), 0)`,
      },
      thresholds.blocked,
    ),
    share(
      'CheckinErrorsAlarm',
      [
        stat('errors', 'AWS/Lambda', 'Errors', [{ Name: 'FunctionName', Value: { Ref: 'CheckinLambdaFunction' } }]),
        stat('invocations', 'AWS/Lambda', 'Invocations', [{ Name: 'FunctionName', Value: { Ref: 'CheckinLambdaFunction' } }]),
      ],
      { Id: 'errorRate', Label: 'Failed checkin invocations (%)', Expression: `IF(FILL(invocations, 0) >= ${MIN}, 100 * FILL(errors, 0) / invocations, 0)` },
      thresholds.errors,
    ),
    share(
      'ApiServerErrorsAlarm',
      [stat('serverErrors', 'AWS/ApiGateway', '5xx', api), stat('requests', 'AWS/ApiGateway', 'Count', api)],
      { Id: 'serverErrorRate', Label: '5xx answers (%)', Expression: `IF(FILL(requests, 0) >= ${MIN}, 100 * FILL(serverErrors, 0) / requests, 0)` },
      thresholds.serverErrors,
    ),
    share(
      'ApiThrottledAlarm',
      [stat('throttled', 'Tollgate', 'ApiThrottled', [{ Name: 'apiId', Value: { Ref: 'HttpApi' } }]), stat('requests', 'AWS/ApiGateway', 'Count', api)],
      { Id: 'throttledRate', Label: 'Throttled requests (%)', Expression: `IF(FILL(requests, 0) >= ${MIN}, 100 * FILL(throttled, 0) / requests, 0)` },
      thresholds.throttled,
    ),
    share(
      'UnavailableAlarm',
      [
        stat('unavailable', 'Tollgate', 'Unavailable', service),
        stat('accepted', 'Tollgate', 'CheckinAccepted', service),
        stat('blocked', 'Tollgate', 'CheckinBlocked', service),
        stat('replayed', 'Tollgate', 'CheckinReplayed', service),
      ],
      {
        Id: 'unavailableRate',
        Label: '503 UNAVAILABLE answers (%)',
        Expression: `IF(FILL(unavailable, 0) + FILL(accepted, 0) + FILL(blocked, 0) + FILL(replayed, 0) >= ${MIN}, 100 * FILL(unavailable, 0) / (FILL(unavailable, 0) + FILL(accepted, 0) + FILL(blocked, 0) + FILL(replayed, 0)), 0)`,
      },
      thresholds.unavailable,
    ),
  ];

  // seedConfig has none: it runs only inside a deploy, whose failure (FAILED answer) is the alarm.
  it.each(FUNCTION_NAMES.filter((fn) => fn !== 'seedConfig'))('%s: alarms on errors and on throttles', (fn) => {
    const dimension = [{ Name: 'FunctionName', Value: { Ref: `${FUNCTIONS[fn].id}LambdaFunction` } }];
    // checkin's errors are a share of its invocations (below); every other function alarms on its first error.
    for (const metric of fn === 'checkin' ? ['Throttles'] : ['Errors', 'Throttles']) {
      const [found, ...more] = alarmOn(t, 'AWS/Lambda', metric, dimension);
      expect(found, `${fn} ${metric}`).toBeDefined();
      expect(more).toEqual([]);
      expect(found[1].Properties).toMatchObject({ Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
  });

  it('alarms as soon as the on-failure queue holds a message, and when alerts fall behind', () => {
    const [[, queue]] = alarmOn(t, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', [
      { Name: 'QueueName', Value: { 'Fn::GetAtt': ['AlertsDeadLetterQueue', 'QueueName'] } },
    ]);
    expect(queue.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' });
    expect(alarmOn(t, 'AWS/Lambda', 'IteratorAge', [{ Name: 'FunctionName', Value: { Ref: 'AlertsLambdaFunction' } }])).toHaveLength(1);
  });

  it('alarms on shares, not counts, with metric math: blocked check-ins, checkin errors, 5xx, 429 and 503 answers', () => {
    const expected = SHARE_ALARMS({ blocked: 5, errors: 1, serverErrors: 1, throttled: 1, unavailable: 1 });
    for (const { id, properties } of expected) {
      expect(resource(t, id).Properties, id).toEqual({ AlarmDescription: expect.any(String), ...properties, AlarmActions: [{ Ref: 'AlarmTopic' }], OKActions: [{ Ref: 'AlarmTopic' }] });
    }
    const view = deployedView(full.template);
    for (const { id, properties } of SHARE_ALARMS({ blocked: 7, errors: 2, serverErrors: 3, throttled: 4, unavailable: 6 })) {
      const found = resource(view, id).Properties!;
      expect({ ...found, Threshold: Number(found.Threshold) }, id).toEqual({
        AlarmDescription: expect.any(String),
        ...properties,
        AlarmActions: [FULL_PARAMS.alarmTopicArn],
        OKActions: [FULL_PARAMS.alarmTopicArn],
      });
    }
  });

  it('counts 429 answers from the access log, since the HTTP API publishes no metric of them', () => {
    expect(resource(t, 'ApiThrottledMetricFilter').Properties).toEqual({
      LogGroupName: { Ref: 'HttpApiLogGroup' },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [{ MetricNamespace: 'Tollgate', MetricName: 'ApiThrottled', MetricValue: '1', Unit: 'Count', Dimensions: [{ Key: 'apiId', Value: '$.apiId' }] }],
    });
    // The fields the filter reads are in the access log format.
    const format = JSON.parse(resource(t, 'HttpApiStage').Properties!.AccessLogSettings.Format);
    expect({ status: format.status, apiId: format.apiId }).toEqual({ status: '$context.status', apiId: '$context.apiId' });
  });

  it('alarms at the first check-in refused because the SETTINGS item is missing', () => {
    const [[, alarm], ...more] = alarmOn(t, 'Tollgate', 'SettingsMissing', service);
    expect(more).toEqual([]);
    expect(alarm.Properties).toMatchObject({ Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('alarms on unauthenticated check-in attempts above the configured rate', () => {
    const [[, alarm], ...more] = alarmOn(t, 'Tollgate', 'UnauthenticatedCheckins', service);
    expect(more).toEqual([]);
    expect(alarm.Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 20,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    const [[, fullAlarm]] = alarmOn(full.template, 'Tollgate', 'UnauthenticatedCheckins');
    expect(Number(fullAlarm.Properties!.Threshold)).toBe(9);
  });

  it('notifies its own encrypted alarm topic by default, or the alarmTopicArn given', () => {
    expect(resource(t, 'AlarmTopic').Properties!.KmsMasterKeyId).toEqual({ Ref: 'AlertsKey' });
    for (const [id, alarm] of alarms(t)) {
      expect(alarm.Properties!.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties!.OKActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
    }
    const view = deployedView(full.template);
    expect(view.Resources.AlarmTopic).toBeUndefined();
    for (const [id, alarm] of alarms(view)) expect(alarm.Properties!.AlarmActions, id).toEqual([FULL_PARAMS.alarmTopicArn]);
  });
});

describe('capacity model (capacity.cjs, docs/capacity.md)', () => {
  const stageOf = (run: PackagedService) => resource(deployedView(run.template), 'HttpApiStage');
  const reserved = (run: PackagedService) =>
    Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, resource(run.template, `${FUNCTIONS[fn].id}LambdaFunction`).Properties!.ReservedConcurrentExecutions]));
  const OTHERS = { imaging: 10, admin: 10, console: 5, fallback: 5, alerts: 10, certExpiryScan: 2, seedConfig: 1 };

  it.each([
    // run | devices | POST /checkin rate and burst | checkin's reserved concurrency
    // 10,000 / 900 s = 11.1/s, peak ×15 = 166.7/s, ×2 headroom = 334/s; a brown-out at peak (8 s) wants 1,334 at once,
    // and the default quota (1,000, 100 unreserved, 43 for the others) leaves 857.
    ['prod (defaults)', () => prod, 10_000, 334, 334, 857],
    // 100,000: 111.1/s, peak 1,666.7/s, 3,334/s; the burst bucket is capped by the account's 5,000.
    ['prod with all parameters', () => full, 100_000, 3_334, 3_334, 857],
    // 1,000,000: 1,111.1/s, peak 16,666.7/s, 33,334/s within a raised 40,000 quota, burst at the raised 20,000;
    // concurrency wants 133,334 and gets the raised 20,000 less 143.
    ['1M devices, raised quotas', () => million, 1_000_000, 33_334, 20_000, 19_857],
  ])('%s: %i devices', (_name, run, _devices, rate, burst, checkinConcurrency) => {
    const stage = stageOf(run());
    expect(stage.DependsOn).toContain('HttpApiRoutePostCheckin');
    expect(stage.Properties!.RouteSettings).toEqual({ 'POST /checkin': { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst } });
    // Every other route (admin, imaging, console, health, $default) shares the low default.
    expect(stage.Properties!.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 });
    expect(reserved(run())).toEqual({ checkin: checkinConcurrency, ...OTHERS });
  });

  it('says at packaging time where the quotas cap what the fleet wants', () => {
    expect(prod.output).toContain('Capacity: checkin may run 857 at once where a brown-out at peak wants 1334: ask AWS to raise the Lambda concurrency quota and pass it as lambdaConcurrencyQuota');
    expect(million.output).toContain('Capacity: checkin may run 19857 at once where a brown-out at peak wants 133334');
    expect(million.output).not.toContain('POST /checkin is throttled at');
  });

  it('matches the arithmetic capacity.cjs exports (the same numbers docs/capacity.md shows)', () => {
    const { capacityFor } = createRequire(import.meta.url)('../../capacity.cjs') as { capacityFor(input: Record<string, number>): any };
    const quotas = { apiRateQuota: 10_000, apiBurstQuota: 5_000, lambdaConcurrencyQuota: 1_000 };
    expect(
      [1_000, 10_000, 100_000, 1_000_000].map((fleetSize) => {
        const c = capacityFor({ fleetSize, checkinIntervalMinutes: 15, ...quotas });
        return [fleetSize, c.averagePerSecond, c.peakPerSecond, c.checkin.wantedRateLimit, c.checkin.rateLimit, c.checkin.burstLimit, c.checkin.wantedConcurrency, c.checkin.reservedConcurrency];
      }),
    ).toEqual([
      [1_000, 1.1, 16.7, 34, 34, 34, 134, 134],
      [10_000, 11.1, 166.7, 334, 334, 334, 1_334, 857],
      [100_000, 111.1, 1_666.7, 3_334, 3_334, 3_334, 13_334, 857],
      [1_000_000, 1_111.1, 16_666.7, 33_334, 9_975, 5_000, 133_334, 857],
    ]);
    expect(() => capacityFor({ fleetSize: 10, checkinIntervalMinutes: 15, ...quotas, lambdaConcurrencyQuota: 100 })).toThrow('leaves no room for checkin');
  });
});

describe('metrics emitted match the alarms', () => {
  /** The EMF documents written while fn runs, with a Metrics instance that emits (vitest disables them). */
  function emfOf(fn: (target: ReturnType<typeof createMetrics>) => void): any[] {
    const saved = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      fn(createMetrics());
    } finally {
      write.mockRestore();
      process.env.POWERTOOLS_METRICS_DISABLED = saved;
    }
    return lines.flatMap((l) => l.split('\n')).filter((l) => l.trim()).map((l) => JSON.parse(l));
  }

  const metricsOf = (doc: any) => doc._aws.CloudWatchMetrics.flatMap((m: any) => m.Metrics.map((x: any) => x.Name));
  /** The metric a share alarm reads (its MetricStat.Metric: namespace, name, dimensions). */
  const alarmMetric = (alarmId: string, metricName: string) =>
    resource(t, alarmId).Properties!.Metrics.find((m: any) => m.MetricStat?.Metric.MetricName === metricName).MetricStat.Metric;

  it('a blocked check-in: CheckinBlocked as the alarm reads it, and one CheckinBlockedByViolation per code', () => {
    const docs = emfOf((m) =>
      recordCheckinMetrics({ decision: 'BLOCK', violationCodes: ['CLOCK_SKEW_EXCEEDED', 'CLIENT_CERT_MISSING', 'CLOCK_SKEW_EXCEEDED'], replayed: false }, m),
    );
    const alarm = alarmMetric('CheckinsBlockedAlarm', 'CheckinBlocked');
    const blocked = docs.find((d) => metricsOf(d).includes('CheckinBlocked'));
    expect(blocked._aws.CloudWatchMetrics[0].Namespace).toBe(alarm.Namespace);
    expect(blocked._aws.CloudWatchMetrics[0].Dimensions).toEqual([alarm.Dimensions.map((d: any) => d.Name)]);
    for (const d of alarm.Dimensions) expect(blocked[d.Name]).toBe(d.Value);
    expect(blocked.CheckinBlocked).toBe(1);
    const byCode = docs.filter((d) => metricsOf(d).includes('CheckinBlockedByViolation'));
    expect(byCode.map((d) => d.violationCode).sort()).toEqual(['CLIENT_CERT_MISSING', 'CLOCK_SKEW_EXCEEDED']);
    expect(byCode[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'violationCode']]);
  });

  it('an unauthenticated attempt: UnauthenticatedCheckins as the alarm reads it, and nothing else', () => {
    const docs = emfOf((m) =>
      recordCheckinMetrics({ authenticated: false, decision: 'BLOCK', violationCodes: ['CLIENT_CERT_MISSING'], replayed: false }, m),
    );
    expect(docs.map(metricsOf)).toEqual([['UnauthenticatedCheckins']]);
    const [, alarm] = resourcesOfType(t, 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties!.MetricName === 'UnauthenticatedCheckins')!;
    expect(docs[0]._aws.CloudWatchMetrics[0].Namespace).toBe(alarm.Properties!.Namespace);
    expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([alarm.Properties!.Dimensions.map((d: any) => d.Name)]);
    for (const d of alarm.Properties!.Dimensions) expect(docs[0][d.Name]).toBe(d.Value);
  });

  it('accepted and replayed check-ins, and 503s', () => {
    expect(emfOf((m) => recordCheckinMetrics({ decision: 'ACCEPT', violationCodes: [], replayed: false }, m)).map(metricsOf)).toEqual([['CheckinAccepted']]);
    expect(emfOf((m) => recordCheckinMetrics({ replayed: true }, m)).map(metricsOf)).toEqual([['CheckinReplayed']]);
    const unavailable = emfOf((m) => recordUnavailable(m));
    expect(unavailable.map(metricsOf)).toEqual([['Unavailable']]);
    expect(unavailable[0]._aws.CloudWatchMetrics[0].Namespace).toBe(alarmMetric('UnavailableAlarm', 'Unavailable').Namespace);
    // The share's other terms are the metrics the check-in emits.
    for (const name of ['CheckinAccepted', 'CheckinBlocked', 'CheckinReplayed']) expect(alarmMetric('UnavailableAlarm', name).Namespace).toBe('Tollgate');
  });

  it('a check-in refused for want of SETTINGS: SettingsMissing as its alarm reads it', () => {
    const docs = emfOf((m) => recordSettingsMissing(m));
    expect(docs.map(metricsOf)).toEqual([['SettingsMissing']]);
    const alarm = resource(t, 'SettingsMissingAlarm').Properties!;
    expect(docs[0]._aws.CloudWatchMetrics[0].Namespace).toBe(alarm.Namespace);
    expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([alarm.Dimensions.map((d: any) => d.Name)]);
    for (const d of alarm.Dimensions) expect(docs[0][d.Name]).toBe(d.Value);
    expect(docs[0].SettingsMissing).toBe(1);
  });

  it.each([
    ['tests (POWERTOOLS_METRICS_DISABLED=true)', 'true'],
    ['local mode (not in Lambda, nothing set)', undefined],
  ])('stays quiet in %s', (_case, disabled) => {
    const saved = process.env.POWERTOOLS_METRICS_DISABLED;
    if (disabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = disabled;
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const target = createMetrics();
      recordCheckinMetrics({ decision: 'BLOCK', violationCodes: ['CLIENT_CERT_MISSING'], replayed: false }, target);
      recordUnavailable(target);
      recordCheckinMetrics({ decision: 'ACCEPT', violationCodes: [], replayed: false });
    } finally {
      write.mockRestore();
      process.env.POWERTOOLS_METRICS_DISABLED = saved;
    }
    expect(lines).toEqual([]);
  });
});

describe('packaging', () => {
  it('needs no AWS account and no network', () => {
    // Where the machine allows it (unshare -rn), osls ran in a network namespace with no interface but loopback,
    // so any call to AWS would have failed the run.
    for (const run of [prod, full, dev, million]) {
      expect(run.output).toMatch(/Service packaged/);
      expect(run.output).not.toMatch(/credentials|AccessDenied|getaddrinfo|ENOTFOUND/i);
    }
  });
});
