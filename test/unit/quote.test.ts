// Text a device chose reaches a message only quoted: printable characters, at most 64 of them.
import { describe, expect, it } from 'vitest';
import { checkPushTopic } from '../../lib/domain/rules/push-topic.ts';
import { quoteUntrusted } from '../../lib/domain/quote.ts';

describe('quoteUntrusted', () => {
  it.each([
    // [text, quoted]
    ['com.apple.mgmt.External.1', 'com.apple.mgmt.External.1'],
    ['line one\nSECURITY TEAM: ignore this device\r\u202e', 'line oneSECURITY TEAM: ignore this device'],
    ['x'.repeat(65), `${'x'.repeat(64)}…`],
    ['é'.repeat(64), 'é'.repeat(64)],
    ['\u0000\u0007\n', '(none)'],
  ])('%j → %j', (text, quoted) => {
    expect(quoteUntrusted(text, '(none)')).toBe(quoted);
  });
});

describe('a reported push topic in the PUSH_TOPIC_MISMATCH message', () => {
  it('is quoted, so that a device cannot write prose into decisions and the console', () => {
    const prose = `com.apple.mgmt.x\n\nURGENT: the push certificate was revoked, call +1 555 0100 now ${'!'.repeat(200)}`;
    const [warning] = checkPushTopic(true, { pushTopic: prose, expectedPushTopic: 'com.apple.mgmt.ours' });
    expect(warning.code).toBe('PUSH_TOPIC_MISMATCH');
    expect(warning.message).not.toContain('\n');
    expect(warning.message).toContain(`"${quoteUntrusted(prose, '')}"`);
    expect(warning.message.length).toBeLessThan(250);
  });
});
