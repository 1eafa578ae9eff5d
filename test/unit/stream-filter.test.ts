// The device-status stream's FilterCriteria as local mode applies it (local/serverless-config.ts): read from
// serverless.yml's alerts function, and matched as Lambda matches it, so that `npm start` and the tests invoke alerts
// for exactly the records Lambda would.
import { describe, expect, it } from 'vitest';
import { checkFilterPattern, loadServerlessConfig, passesFilterPatterns } from '../../local/serverless-config.ts';

const alerts = loadServerlessConfig().functions.find((fn) => fn.name === 'alerts')!;
const [deviceStatusStream] = alerts.streams;
const patterns = deviceStatusStream.filterPatterns;

/** A stream record as Lambda hands it over (and as the local poller builds it). */
const record = (eventName: string, newImage?: Record<string, unknown>) => ({
  eventName,
  dynamodb: { Keys: { deviceId: { S: 'mac-1' } }, ...(newImage ? { NewImage: { deviceId: { S: 'mac-1' }, ...newImage } } : {}) },
});

describe('the alerts stream filter, as serverless.yml writes it', () => {
  it('is read from serverless.yml', () => {
    expect(patterns).toEqual([{ dynamodb: { NewImage: { alertRelevant: { BOOL: [true] } } } }]);
  });

  it.each([
    // case | record | passes
    ['a first status (INSERT) marked alert-relevant', record('INSERT', { status: { S: 'BLOCKED' }, alertRelevant: { BOOL: true } }), true],
    ['a changed decision (MODIFY) marked alert-relevant', record('MODIFY', { status: { S: 'ACCEPTED' }, alertRelevant: { BOOL: true } }), true],
    ['an unauthenticated attempt mark', record('INSERT', { kind: { S: 'UNAUTHENTICATED_ATTEMPT' }, alertRelevant: { BOOL: true } }), true],
    ['a check-in that only moved lastCheckinAt (no marker)', record('MODIFY', { status: { S: 'ACCEPTED' }, lastCheckinAt: { S: '2026-12-01T00:00:00.000Z' } }), false],
    ['a marker that is not BOOL true', record('MODIFY', { alertRelevant: { S: 'true' } }), false],
    ['a marker set to false', record('MODIFY', { alertRelevant: { BOOL: false } }), false],
    ['a deleted item or an expired mark (REMOVE has no new image)', record('REMOVE'), false],
  ])('%s → %s', (_case, streamRecord, passes) => {
    expect(passesFilterPatterns(streamRecord, patterns)).toBe(passes);
  });
});

describe('passesFilterPatterns', () => {
  it.each([
    // patterns | record | passes
    [undefined, { eventName: 'MODIFY' }, true],
    [[], { eventName: 'MODIFY' }, true],
    [[{ eventName: ['REMOVE'] }, { eventName: ['INSERT'] }], { eventName: 'INSERT' }, true],
    [[{ eventName: ['REMOVE'] }, { eventName: ['INSERT'] }], { eventName: 'MODIFY' }, false],
    [[{ eventName: ['MODIFY'], dynamodb: { NewImage: { n: { N: ['3'] } } } }], { eventName: 'MODIFY', dynamodb: { NewImage: { n: { N: '3' } } } }, true],
    [[{ eventName: ['MODIFY'], dynamodb: { NewImage: { n: { N: ['3'] } } } }], { eventName: 'INSERT', dynamodb: { NewImage: { n: { N: '3' } } } }, false],
    [[{ dynamodb: { NewImage: { n: { N: ['3'] } } } }], { dynamodb: {} }, false],
  ] as const)('%j on %j → %s', (given, streamRecord, passes) => {
    expect(passesFilterPatterns(streamRecord, given as never)).toBe(passes);
  });

  it('refuses filter syntax that local mode does not apply, naming the function and the field', () => {
    expect(() => checkFilterPattern({ dynamodb: { NewImage: { n: { N: [{ numeric: ['>', 3] }] } } } }, 'alerts')).toThrow(
      "serverless.yml: alerts's stream filter dynamodb.NewImage.n.N uses a content filter (prefix, numeric, exists, anything-but) that local mode does not apply",
    );
    expect(() => checkFilterPattern(['REMOVE'], 'alerts')).toThrow("serverless.yml: alerts's stream filter pattern must be an object of lists of values");
  });
});
