// `npx tsx bench/write-units.ts`: the DynamoDB write units of one steady-state check-in (a known device, accepted
// again with the same decision), computed from the sizes of the items the write path writes, with AWS's pricing
// rules — not read from DynamoDB Local, whose ConsumedCapacity under-reports transactions. Rules:
// - an item's size is the sum of its attribute names' and values' sizes (strings: UTF-8 bytes; numbers: about one
//   byte per two significant digits, plus one; booleans and null: 1; a list or map: 3 bytes plus, per element,
//   1 byte, its name if a map, and its value);
// - a standard write costs 1 unit per started KB of the item; a transactional write twice that;
// - each index the write touches costs the index entry's size the same way (the projected attributes, the table
//   and index keys, and 100 bytes of overhead per index entry); an update that changes the index key costs a delete
//   of the old entry and a put of the new one.
// The check-in is made by the real check-in service (its body, its facts), then written by each design's builder.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { buildCheckinWrites, type DecisionTables } from '../lib/adapters/dynamodb/decision-store.ts';
import { deviceStatusOf } from '../lib/adapters/device-status.ts';
import { DEFAULT_SETTINGS } from '../lib/domain/settings.ts';
import type { DecisionRecord, RecordedResponse, ReplayBinding } from '../lib/ports/decision-store.ts';
import { makeCheckinService } from '../lib/services/checkin-service.ts';

type Item = Record<string, AttributeValue>;

export const INDEX_ENTRY_OVERHEAD_BYTES = 100;

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) {
    const digits = value.N.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
  }
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + valueSize(element), 0);
  if (value.SS !== undefined) return value.SS.reduce((sum, element) => sum + Buffer.byteLength(element), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, element) => sum + valueSize({ N: element }), 0);
  throw new Error(`Unsupported attribute value ${JSON.stringify(value)}`);
}

/** An item's size in bytes as DynamoDB bills it. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueSize(value), 0);
}

/** Write units of one write of `bytes`: 1 per started KB, twice that inside a transaction. */
export function writeUnits(bytes: number, transactional: boolean): number {
  return Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);
}

/** Which of the status item's attributes an index projects besides its keys. */
export type Projection = { type: 'ALL' } | { type: 'KEYS_ONLY' } | { type: 'INCLUDE'; attributes: string[] };

export interface IndexShape {
  name: string;
  /** The table's and the index's key attributes. */
  keys: string[];
  projection: Projection;
}

/** The index entry a status item makes, with its 100 bytes of overhead. */
export function indexEntrySize(item: Item, index: IndexShape): number {
  const kept = Object.entries(item).filter(
    ([name]) => index.keys.includes(name) || index.projection.type === 'ALL' || (index.projection.type === 'INCLUDE' && index.projection.attributes.includes(name)),
  );
  return itemSize(Object.fromEntries(kept)) + INDEX_ENTRY_OVERHEAD_BYTES;
}

export interface Write {
  what: string;
  bytes: number;
  units: number;
}

export interface Design {
  name: string;
  writes: Write[];
  /** Total write units. */
  units: number;
}

function design(name: string, writes: Write[]): Design {
  return { name, writes, units: writes.reduce((sum, w) => sum + w.units, 0) };
}

/** A steady check-in moves its status in the index (lastCheckinAt is part of the key): a delete and a put. */
function indexMove(item: Item, index: IndexShape): Write[] {
  const bytes = indexEntrySize(item, index);
  return [
    { what: `${index.name} delete (${index.projection.type})`, bytes, units: writeUnits(bytes, false) },
    { what: `${index.name} put (${index.projection.type})`, bytes, units: writeUnits(bytes, false) },
  ];
}

const put = (what: string, item: Item, transactional: boolean): Write => ({ what: `${what}${transactional ? ' (transaction)' : ''}`, bytes: itemSize(item), units: writeUnits(itemSize(item), transactional) });

/** The items the write path wrote before this change: three Puts in one transaction, facts as a DynamoDB map. */
function itemsBefore(decision: DecisionRecord, response: RecordedResponse, binding: ReplayBinding | undefined, retentionDays: number) {
  const expiresAt = Math.floor(Date.parse(decision.evaluatedAt) / 1000) + retentionDays * 86400;
  return {
    idempotency: marshall(
      { pk: `CHECKIN#${decision.checkinId}`, sk: 'CHECKIN', deviceId: decision.deviceId, statusCode: response.statusCode, body: response.body, fingerprint: binding?.fingerprint, expiresAt },
      { removeUndefinedValues: true },
    ),
    decision: marshall({ pk: `DEVICE#${decision.deviceId}`, sk: `${decision.evaluatedAt}#${decision.checkinId}`, ...decision, expiresAt }, { removeUndefinedValues: true }),
    status: marshall({ ...deviceStatusOf(decision), violationCodes: [...new Set(decision.violations.map((v) => v.code))].sort() }, { removeUndefinedValues: true }),
  };
}

const BY_STATUS_BEFORE: IndexShape = { name: 'byStatus', keys: ['deviceId', 'status', 'lastCheckinAt'], projection: { type: 'ALL' } };
const SHARD_KEYS = ['deviceId', 'statusShard', 'statusSk'];
/** What the device listing and the impact preview read from the index. */
const LISTED = ['status', 'decision', 'violations', 'lastCheckinAt', 'checkinId', 'settingsVersion', 'exemptionExpired', 'facts'];

/** Every design measured for one check-in: before, and the alternatives that keep API.md §1's guarantees. */
export function designsFor(decision: DecisionRecord, response: RecordedResponse, binding: ReplayBinding | undefined): Design[] {
  const tables: DecisionTables = { decisionsTable: 'Decisions', deviceStatusTable: 'DeviceStatus', retentionDays: 90, idempotencyRetentionDays: 3 };
  const before = itemsBefore(decision, response, binding, 90);
  // A claim token of the length the store draws (9 random bytes, base64url): it is part of the claim's size.
  const now = buildCheckinWrites(tables, decision, response, binding, 'x'.repeat(12));
  const claim = now.claim.Item!;
  const decisionItem = now.decision.Item!;
  const status = now.steadyStatus.Item!;
  const byShard = (projection: Projection): IndexShape => ({ name: 'byStatusShard', keys: SHARD_KEYS, projection });
  return [
    design('before: one transaction of 3 Puts, facts as a map, byStatus ALL', [
      put('idempotency record', before.idempotency, true),
      put('decision', before.decision, true),
      put('status', before.status, true),
      ...indexMove(before.status, BY_STATUS_BEFORE),
    ]),
    design('one transaction of 3 Puts, facts compact, byStatusShard ALL', [
      put('claim', claim, true),
      put('decision', decisionItem, true),
      put('status', status, true),
      ...indexMove(status, byShard({ type: 'ALL' })),
    ]),
    design('claim, then one transaction of decision + status, byStatusShard ALL', [
      put('claim', claim, false),
      put('decision', decisionItem, true),
      put('status', status, true),
      ...indexMove(status, byShard({ type: 'ALL' })),
    ]),
    design('kept: claim, decision, status as single Puts, byStatusShard ALL', [
      put('claim', claim, false),
      put('decision', decisionItem, false),
      put('status', status, false),
      ...indexMove(status, byShard({ type: 'ALL' })),
    ]),
    design('single Puts, byStatusShard INCLUDE (listed fields)', [
      put('claim', claim, false),
      put('decision', decisionItem, false),
      put('status', status, false),
      ...indexMove(status, byShard({ type: 'INCLUDE', attributes: LISTED })),
    ]),
    design('single Puts, byStatusShard KEYS_ONLY (listing and preview read each item back)', [
      put('claim', claim, false),
      put('decision', decisionItem, false),
      put('status', status, false),
      ...indexMove(status, byShard({ type: 'KEYS_ONLY' })),
    ]),
  ];
}

const TOPIC = 'com.apple.mgmt.External.12345678-1234-1234-1234-123456789012';
const PACKAGE_IDS = ['com.jamf.connect', 'com.microsoft.teams2', 'com.google.Chrome', 'org.mozilla.firefox', 'com.crowdstrike.falcon.sensor', 'com.microsoft.Word', 'com.microsoft.Excel', 'com.microsoft.Outlook', 'com.tinyspeck.slackmacgap', 'us.zoom.xos', 'com.okta.mobile', 'com.1password.1password', 'com.docker.docker', 'com.apple.dt.Xcode', 'com.googlecode.iterm2', 'org.videolan.vlc', 'com.adobe.Reader', 'com.cisco.anyconnect', 'com.sophos.endpoint', 'com.paloaltonetworks.GlobalProtect'];

/**
 * A steady-state check-in as the service records it: certificate-based authentication on, a signed request, push
 * notifications with the device's topic, `packages` packages reported with SHA-256 checksums that match.
 */
export async function steadyCheckin(packages: number): Promise<{ decision: DecisionRecord; response: RecordedResponse; binding?: ReplayBinding }> {
  const registered = new Map(PACKAGE_IDS.slice(0, packages).map((packageId) => [packageId, { packageId, name: packageId, checksum: { type: 'SHA_256' as const, value: 'ab'.repeat(32) }, updatedAt: '', updatedBy: '' }]));
  const settings = { ...DEFAULT_SETTINGS, certificateBasedAuthentication: true, pushNotifications: true, packageValidation: 'ALWAYS' as const };
  let recorded: { decision: DecisionRecord; response: RecordedResponse; binding?: ReplayBinding } | undefined;
  const now = new Date('2026-12-01T10:00:00.000Z');
  const service = makeCheckinService({
    // The policy and the certificate check as the cache would give them; only their results matter here.
    policies: { get: async () => ({ snapshot: { settings, version: 12, packages: registered, pushCertificate: { topic: TOPIC }, exemptions: new Map() }, verifier: { verify: () => ({ fingerprint: '3f'.repeat(32), violations: [] }) } }) } as never,
    decisions: {
      record: async (decision, response, binding) => {
        recorded = { decision, response, binding };
        return { outcome: 'RECORDED' };
      },
    },
    attempts: { record: async () => undefined } as never,
    clock: { now: () => now },
  });
  const body = {
    checkinId: '6f1c2a9e-8b7d-4c3e-9a1f-2b3c4d5e6f70',
    deviceId: 'C02XK1JHJG5J',
    clientTime: new Date(now.getTime() - 1200).toISOString(),
    serverCertificateVerified: true,
    pushTopic: TOPIC,
    packages: PACKAGE_IDS.slice(0, packages).map((packageId) => ({ packageId, checksum: { type: 'SHA_256', value: 'ab'.repeat(32) } })),
  };
  await service({ json: body, rawBody: Buffer.from(JSON.stringify(body)), headers: { 'x-device-certificate': 'MIIB', 'x-device-signature': 'c2ln' }, sourceIp: '192.0.2.1' });
  if (!recorded) throw new Error('The check-in was not recorded');
  return recorded;
}

/** The table, as Markdown: for each package count, each design's writes with their bytes and units. */
export async function writeUnitsReport(packageCounts: readonly number[] = [5, 0, 20]): Promise<string> {
  const lines: string[] = [];
  for (const packages of packageCounts) {
    const { decision, response, binding } = await steadyCheckin(packages);
    lines.push(`### ${packages} packages reported`, '', '| design | writes (bytes → units) | WRU |', '|---|---|---:|');
    for (const d of designsFor(decision, response, binding)) {
      lines.push(`| ${d.name} | ${d.writes.map((w) => `${w.what} ${w.bytes} B → ${w.units}`).join('; ')} | **${d.units}** |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('Write units of one steady-state check-in (a known device accepted again), from item sizes with AWS pricing rules.\n');
  console.log(await writeUnitsReport());
}
