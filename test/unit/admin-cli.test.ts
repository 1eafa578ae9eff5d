// The admin command line in-process: typed setting values, --help on every command, usage errors (exit 2).
// (test/e2e/cli.test.ts drives the real binary against the local runner.)
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../cli/commands.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminTokenFiles, PROJECT_ROOT } from '../../cli/client.ts';
import { formatValue, shortenFingerprint } from '../../cli/output.ts';
import { oneLine, runCli } from '../../cli/run.ts';
import { parseSettingAssignments, parseSettingValue } from '../../cli/values.ts';

let stdout: string;
let stderr: string;

beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  // Nothing here may reach a server: an unroutable URL makes any attempt fail loudly.
  vi.stubEnv('TOLLGATE_URL', 'http://127.0.0.1:9');
  vi.stubEnv('TOLLGATE_TOKEN', 'unit-test-token');
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('settings values', () => {
  it.each([
    // [field, text, value]
    ['certificateBasedAuthentication', 'true', true],
    ['pushNotifications', 'FALSE', false],
    ['requireImagingAuthentication', 'no', false],
    ['mode', 'monitor', 'MONITOR'],
    ['sslCertificateVerification', 'always-except-during-enrollment', 'ALWAYS_EXCEPT_DURING_ENROLLMENT'],
    ['packageValidation', 'When_Checksum_Present', 'WHEN_CHECKSUM_PRESENT'],
    ['maxClockSkewSeconds', '120', 120],
    ['maxClockSkewSeconds', '1.5', 1.5],
    ['certificateExpiryAlertDays', '60,30,14', [60, 30, 14]],
    ['certificateExpiryAlertDays', '[30, 7]', [30, 7]],
    ['certificateExpiryAlertDays', '', []],
  ])('%s=%s → %j', (field, text, value) => {
    expect(parseSettingValue(field, text)).toEqual(value);
  });

  it.each([
    ['colour', 'red'],
    ['pushNotifications', 'maybe'],
    ['mode', 'AUDIT'],
    ['maxClockSkewSeconds', '2m'],
    ['certificateExpiryAlertDays', '30,seven'],
  ])('%s=%s is a usage error', (field, text) => {
    expect(() => parseSettingValue(field, text)).toThrow(expect.objectContaining({ code: 'usage', exitCode: 2 }));
  });

  it('builds a merge patch from key=value words', () => {
    expect(parseSettingAssignments(['mode=MONITOR', 'maxClockSkewSeconds=60'])).toEqual({ mode: 'MONITOR', maxClockSkewSeconds: 60 });
    expect(() => parseSettingAssignments(['mode=MONITOR', 'mode=ENFORCE'])).toThrow('given twice');
    expect(() => parseSettingAssignments(['=1'])).toThrow('not key=value');
  });
});

describe('--help', () => {
  it.each(COMMANDS.map((c) => [c.words.join(' ')]))('tollgate %s --help shows usage, options and environment', async (words) => {
    expect(await runCli([...words.split(' '), '--help'])).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: tollgate ${words}`));
    expect(stdout).toContain('--json');
    expect(stdout).toContain('TOLLGATE_URL');
    expect(stderr).toBe('');
  });

  it('tollgate help CMD and -h work too; a group lists its commands', async () => {
    expect(await runCli(['help', 'revoke'])).toBe(0);
    expect(stdout).toMatch(/^Usage: tollgate revoke FINGERPRINT\|CERT\.pem/);
    stdout = '';
    expect(await runCli(['packages', 'add', '-h'])).toBe(0);
    expect(stdout).toContain('--sha512 HEX');
    stdout = '';
    expect(await runCli(['imaging', '--help'])).toBe(0);
    expect(stdout).toContain('imaging prestage put ID FILE.json');
  });
});

describe('usage errors: exit 2 and one line on stderr', () => {
  it.each([
    // [why, argv]
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['a group without its command', ['imaging', 'account']],
    ['an unknown option', ['devices', '--everything']],
    ['a missing argument', ['decisions']],
    ['an extra argument', ['settings', 'get', 'now']],
    ['an option missing its value', ['settings', 'history', '--limit']],
    ['a bad --limit', ['devices', '--limit', 'many']],
    ['an unknown setting', ['settings', 'set', 'colour=red']],
    ['a mistyped boolean', ['settings', 'set', 'pushNotifications=maybe']],
    ['not key=value', ['settings', 'set', 'mode']],
    ['a bad --if-match', ['settings', 'set', '--if-match', 'latest', 'mode=MONITOR']],
    ['two checksums for a package', ['packages', 'add', 'p', '--name', 'P', '--md5', 'ab', '--sha256', 'cd']],
    ['a package without --name', ['packages', 'add', 'p']],
    ['revoke without --reason', ['revoke', 'ab'.repeat(32)]],
    ['revoke with neither fingerprint nor file', ['revoke', 'not-a-fingerprint', '--reason', 'x']],
    ['both --blocked and --accepted', ['devices', '--blocked', '--accepted']],
  ])('%s', async (_why, argv) => {
    expect(await runCli(argv)).toBe(2);
    if (argv.length > 0) {
      expect(stderr).toMatch(/^tollgate: usage: \S/);
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

describe('history values in tables', () => {
  const fp = '0123456789abcdef'.repeat(4);
  it.each([
    // a SHA-256 fingerprint (deviceCa, certificates, revocations)
    [fp, '0123456789abcdef…'],
    // a package with a checksum: the digest is shortened, the id kept
    [`office SHA_512:${'ab'.repeat(64)}`, `office SHA_512:${'ab'.repeat(8)}…`],
    [`zoom MD5:${'ef'.repeat(16)}`, `zoom MD5:${'ef'.repeat(8)}…`],
    // an imaging document (imagingPrestages, imagingAutorun): the id kept, its SHA-256 shortened
    [`lab sha256:${'0a'.repeat(32)}`, `lab sha256:${'0a'.repeat(8)}…`],
    // a package without one, and ids that merely look like hex, stay as they are
    ['bare', 'bare'],
    ['abcdef0123456789abcdef0123456789', 'abcdef0123456789abcdef0123456789'],
  ])('%s → %s', (value, shown) => {
    expect(shortenFingerprint(value)).toBe(shown);
  });

  it('shortens every fingerprint of a list and shows null as -', () => {
    expect(formatValue([fp, fp], { shortenFingerprints: true })).toBe('[0123456789abcdef…, 0123456789abcdef…]');
    expect(formatValue(null, { shortenFingerprints: true })).toBe('-');
  });
});

describe('device-ca list', () => {
  it('warns on stderr, naming the rule, about a stored CA that breaks a rule added after its upload; the table stays on stdout', async () => {
    const command = COMMANDS.find((c) => c.words.join(' ') === 'device-ca list')!;
    const body = {
      certificates: [
        { subject: 'CN=Legacy Root', notAfter: '2030-01-01T00:00:00.000Z', sha256: 'a'.repeat(64), nonconforming: [{ rule: 'basic-constraints-critical', message: 'its basicConstraints extension is not marked critical' }] },
        { subject: 'CN=Good Root', notAfter: '2031-01-01T00:00:00.000Z', sha256: 'b'.repeat(64) },
      ],
    };
    const api = { request: async () => ({ status: 200, body, headers: {} }) } as never;
    await command.run({ args: [], options: {}, json: false, api });
    expect(stdout).toMatch(/^CN=Legacy Root\s+2030-01-01T00:00:00.000Z\s+a{64}$/m);
    expect(stderr.trimEnd().split('\n')).toEqual([
      `WARNING: device CA ${'a'.repeat(64)} (CN=Legacy Root) breaks the rule basic-constraints-critical: its basicConstraints extension is not marked critical. It keeps anchoring device certificates until replaced; upload a conforming CA certificate with tollgate device-ca set.`,
    ]);
  });
});

describe('the admin token', () => {
  it('is looked for in $DATA_DIR/admin-token (DATA_DIR .data) from this folder, then from the project folder', () => {
    expect(adminTokenFiles({}, '/home/alice/elsewhere')).toEqual(['/home/alice/elsewhere/.data/admin-token', join(PROJECT_ROOT, '.data', 'admin-token')]);
    expect(adminTokenFiles({ DATA_DIR: 'state' }, '/home/alice/elsewhere')).toEqual(['/home/alice/elsewhere/state/admin-token', join(PROJECT_ROOT, 'state', 'admin-token')]);
    expect(adminTokenFiles({ DATA_DIR: '/var/tollgate' }, '/home/alice/elsewhere')).toEqual(['/var/tollgate/admin-token']);
  });

  it('missing: NO_TOKEN names the variables it reads, where it looked, and how to point it at the running stack', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tollgate-no-token-'));
    vi.stubEnv('TOLLGATE_TOKEN', '');
    vi.stubEnv('DATA_DIR', empty);
    expect(await runCli(['settings', 'get'])).toBe(1);
    expect(stderr).toBe(
      `tollgate: NO_TOKEN: no admin token: TOLLGATE_TOKEN is not set, and there is no token saved by \`npm start\` in ${join(empty, 'admin-token')} (DATA_DIR=${empty}). ` +
        'Set TOLLGATE_TOKEN to an admin token, or DATA_DIR to the data folder of the running `npm start` (and TOLLGATE_URL or PORT to its address)\n',
    );
  });

  it('unreachable: says which variables make the address', async () => {
    expect(await runCli(['settings', 'get'])).toBe(1);
    expect(stderr).toMatch(
      /^tollgate: UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:9 \([^)]+\)\. Is `npm start` running\? The address is TOLLGATE_URL, else http:\/\/127\.0\.0\.1:\$PORT \(PORT 3000\); set them to the running stack's\n$/,
    );
  });
});

describe('one line per message', () => {
  it.each([
    ['"not json\n" is not valid JSON', '"not json\\n" is not valid JSON'],
    ['tab\there, return\r, bell\u0007, delete\u007f', 'tab\\there, return\\r, bell\\u0007, delete\\u007f'],
    ['plain text — with Unicode', 'plain text — with Unicode'],
  ])('%j → %j', (text, shown) => {
    expect(oneLine(text)).toBe(shown);
  });
});
