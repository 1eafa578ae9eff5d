// Every `tollgate` command: its words, options, help, and what it sends to the admin API and prints.
import { createHash, X509Certificate } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { ImpactPreview, StoredSettings } from '../lib/http/api-types.ts';
import { type AdminApi, CliError, UsageError } from './client.ts';
import { formatFields, formatTable, formatValue, print, printJson } from './output.ts';
import { obtainPassword } from './prompt.ts';
import { parseSettingAssignments } from './values.ts';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; description: string; valueName?: string };

export interface CommandContext {
  args: string[];
  options: Record<string, string | boolean | undefined>;
  json: boolean;
  api: AdminApi;
}

export interface Command {
  /** The command's words, e.g. ['settings', 'set']. */
  words: string[];
  /** Positional arguments as shown in the usage line. */
  argsUsage?: string;
  minArgs?: number;
  maxArgs?: number;
  summary: string;
  /** Further help text (examples, notes). */
  details?: string;
  options?: Record<string, OptionSpec>;
  run(context: CommandContext): Promise<void>;
}

// ---- helpers -----------------------------------------------------------------------------------------------------

const enc = encodeURIComponent;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError('FILE_UNREADABLE', `cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readJsonFile(path: string): unknown {
  const text = readText(path, 'JSON file');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError('INVALID_JSON', `${path} is not valid JSON (${(error as Error).message})`);
  }
}

function limitOption(options: CommandContext['options']): string {
  const limit = options.limit as string | undefined;
  if (limit === undefined) return '';
  if (!/^\d+$/.test(limit)) throw new UsageError(`--limit is a whole number from 1 to 500, not "${limit}"`);
  return limit;
}

function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
}

/** A fingerprint given as text (hex, any case, colons allowed) or as a certificate file (PEM or DER). */
function fingerprintOf(argument: string): string {
  if (existsSync(argument) && statSync(argument).isFile()) {
    try {
      return new X509Certificate(readFileSync(argument)).fingerprint256.replace(/:/g, '').toLowerCase();
    } catch {
      throw new CliError('INVALID_CERTIFICATE', `${argument} is not a PEM or DER certificate`);
    }
  }
  const compact = argument.replace(/:/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(compact)) throw new UsageError(`"${argument}" is neither a SHA-256 fingerprint (64 hex digits) nor a certificate file`);
  return compact.toLowerCase();
}

function sha512OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    createReadStream(path)
      .on('error', (error: NodeJS.ErrnoException) => reject(new CliError('FILE_UNREADABLE', `cannot read package file ${path} (${error.code ?? 'error'})`)))
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function printSettings(body: StoredSettings, heading?: string): void {
  const updated = body.updatedAt ? `updated ${body.updatedAt} by ${body.updatedBy}` : 'never changed';
  print(`${heading ?? 'Settings'} — version ${body.version}, ${updated}`);
  print(formatFields(Object.entries(body.settings).map(([key, value]) => [key, formatValue(value)])));
}

/** What `settings set` changed, field by field, and when check-ins and imaging use it. */
function printSettingsChange(before: any, after: any, fields: string[]): void {
  if (before && after.version === before.version) return print(`Settings unchanged: they already had these values (version ${after.version}).`);
  print(`Settings changed to version ${after.version}; check-ins and imaging use them within 5 s:`);
  const changed = fields.filter((key) => JSON.stringify(before?.settings[key]) !== JSON.stringify(after.settings[key]));
  print(formatFields(changed.map((key) => [key, `${formatValue(before?.settings[key])} → ${formatValue(after.settings[key])}`])));
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** An impact preview (API.md §3) as a person reads it: the counts, by violation, and the first devices. */
function printPreview(body: ImpactPreview): void {
  print(`Impact preview — nothing was changed. ${plural(body.devices, 'device')} seen since ${body.since}:`);
  print(`  blocked now: ${body.current.blocked}; with the change: ${body.proposed.blocked}`);
  for (const [group, verb] of [[body.newlyBlocked, 'would block'], [body.newlyAccepted, 'would let in']] as const) {
    if (group.count === 0) {
      print(`  ${verb} no ${verb === 'would block' ? 'more ' : ''}devices`);
      continue;
    }
    print(`  ${verb} ${plural(group.count, verb === 'would block' ? 'more device' : 'blocked device')}:`);
    print(formatFields(Object.entries(group.byViolation).map(([code, count]) => [`    ${code}`, String(count)])));
    print(formatTable(['DEVICE', 'VIOLATIONS', 'LAST CHECK-IN'], group.devices.map((d) => [d.deviceId, d.violations.join(','), d.lastCheckinAt])));
    if (group.devices.length < group.count) print(`  (the first ${group.devices.length} of ${group.count} by device id; --json for the counts as data)`);
  }
}

/** The preview, or undefined from a server that has no preview route (404/405): the change is then saved unasked. */
async function previewIfServed(preview: () => Promise<ImpactPreview>): Promise<ImpactPreview | undefined> {
  try {
    return await preview();
  } catch (error) {
    if (error instanceof CliError && (error.code === 'NOT_FOUND' || error.code === 'METHOD_NOT_ALLOWED')) return undefined;
    throw error;
  }
}

/** Asks on the terminal; true only for y or yes. */
async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

function printCertificates(certificates: { subject: string; notAfter: string; sha256: string }[], empty: string): void {
  if (certificates.length === 0) return print(empty);
  print(formatTable(['SUBJECT', 'NOT AFTER', 'SHA-256'], certificates.map((c) => [c.subject, c.notAfter, c.sha256])));
}

/**
 * A stored device CA that breaks a rule added after it was uploaded keeps anchoring; say so loudly (on stderr, so
 * that scripts reading the table are undisturbed) until it is replaced.
 */
function warnNonconforming(certificates: { subject: string; sha256: string; nonconforming?: { rule: string; message: string }[] }[]): void {
  for (const certificate of certificates) {
    for (const { rule, message } of certificate.nonconforming ?? []) {
      process.stderr.write(
        `WARNING: device CA ${certificate.sha256} (${certificate.subject}) breaks the rule ${rule}: ${message}. ` +
          'It keeps anchoring device certificates until replaced; upload a conforming CA certificate with tollgate device-ca set.\n',
      );
    }
  }
}

function printPushCertificate(body: any): void {
  print(formatFields([
    ['topic', body.topic],
    ['subject', body.subject],
    ['notBefore', body.notBefore],
    ['notAfter', body.notAfter],
    ['daysRemaining', String(body.daysRemaining)],
    ['sha256', body.sha256],
  ]));
}

function printPackages(items: any[]): void {
  if (items.length === 0) return print('No packages are registered.');
  print(formatTable(
    ['PACKAGE', 'NAME', 'CHECKSUM', 'UPDATED AT', 'BY'],
    items.map((p) => [p.packageId, p.name, p.checksum ? `${p.checksum.type} ${p.checksum.value.slice(0, 16)}…` : '-', p.updatedAt, p.updatedBy]),
  ));
}

/** Follows nextToken when `all`, else fetches one page; prints the next-page hint in human mode. */
async function pages(context: CommandContext, path: (token?: string) => string, render: (items: any[]) => void, again: string): Promise<void> {
  const items: any[] = [];
  let token = context.options['next-token'] as string | undefined;
  let next: string | undefined;
  do {
    const res = await context.api.request('GET', path(token));
    items.push(...res.body.items);
    next = res.body.nextToken;
    token = next;
  } while (context.options.all && next);
  if (context.json) return printJson(next ? { items, nextToken: next } : { items });
  render(items);
  if (next) print(`More: ${again} --next-token ${next}`);
}

/** A command that sends one request and prints the answer: the body as JSON with --json, else `render`. */
function exchange(
  method: 'GET' | 'PUT',
  path: (context: CommandContext) => string,
  render: (body: any, context: CommandContext) => void,
  body?: (context: CommandContext) => unknown,
): Command['run'] {
  return async (context) => {
    const res = await context.api.request(method, path(context), body ? { json: body(context) } : {});
    if (context.json) return printJson(res.body ?? {});
    render(res.body, context);
  };
}

/** A command that deletes one thing and says so (nothing to print with --json). */
function removal(path: (context: CommandContext) => string, done: (context: CommandContext) => string): Command['run'] {
  return async (context) => {
    await context.api.request('DELETE', path(context));
    if (!context.json) print(done(context));
  };
}

/** What a write did, as the API's 201 / 200 and the state before it tell. */
type Outcome = 'created' | 'replaced' | 'unchanged';

function outcomeOf(status: number, unchanged: boolean): Outcome {
  if (status === 201) return 'created';
  return unchanged ? 'unchanged' : 'replaced';
}

/** When a change reaches check-ins: they judge with a copy of the settings and trust material at most 5 s old. */
const CHECKINS_SEE_IT = 'check-ins see the change within 5 s';

/** `<what> created; check-ins see the change within 5 s.` — nothing about check-ins when nothing changed. */
function said(what: string, outcome: Outcome, effect = CHECKINS_SEE_IT): string {
  return outcome === 'unchanged' ? `${what} unchanged: it already had these values.` : `${what} ${outcome}; ${effect}.`;
}

const printFieldsOf = (body: Record<string, unknown>) => print(formatFields(Object.entries(body).map(([key, value]) => [key, formatValue(value)])));

const codes = (findings: { code: string }[]) => (findings.length ? findings.map((f) => f.code).join(', ') : '-');

/** Imaging reads accounts and documents from the store on every request. */
const IMAGING_SEES_IT = 'imaging clients get it on their next request';

/**
 * The current digest of an imaging document, from the history (the admin API has no GET of one document): the
 * newest entry of `field` that names `id`; null when there is none or it was deleted.
 */
async function currentDocumentDigest(api: AdminApi, field: string, id: string): Promise<string | null> {
  const prefix = `${id} sha256:`;
  let token: string | undefined;
  do {
    const page = (await api.request('GET', `/admin/settings/history${query({ field, limit: '500', nextToken: token })}`)).body;
    for (const entry of page.items) {
      const change = entry.changes.find((c: any) => c.field === field && [c.from, c.to].some((v) => typeof v === 'string' && v.startsWith(prefix)));
      if (change) return typeof change.to === 'string' && change.to.startsWith(prefix) ? change.to.slice(prefix.length) : null;
    }
    token = page.nextToken;
  } while (token);
  return null;
}

/** `imaging prestage put` / `imaging autorun put`: created, replaced or unchanged (the same document again). */
function putImagingDocument(what: string, route: string, historyField: string): Command['run'] {
  return async ({ api, json, args }) => {
    const [id, file] = args;
    const document = readJsonFile(file);
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new CliError('INVALID_JSON', `${file} holds JSON but not an object; imaging documents are JSON objects`);
    }
    const before = json ? null : await currentDocumentDigest(api, historyField, id);
    const res = await api.request('PUT', `/admin/imaging/${route}/${enc(id)}`, { json: document });
    if (json) return printJson(res.body ?? {});
    print(said(`${what} ${id}`, outcomeOf(res.status, before === res.body.sha256), IMAGING_SEES_IT));
  };
}

const PAGE_OPTIONS: Record<string, OptionSpec> = {
  limit: { type: 'string', valueName: 'N', description: 'items per page, 1–500 (default 50)' },
  'next-token': { type: 'string', valueName: 'TOKEN', description: 'continue from the page this token names' },
  all: { type: 'boolean', description: 'follow every page' },
};

const PASSWORD_FILE: Record<string, OptionSpec> = {
  'password-file': { type: 'string', valueName: 'FILE', description: 'read the password from FILE (one trailing newline is dropped) instead of prompting' },
};

// ---- the commands ------------------------------------------------------------------------------------------------

export const COMMANDS: Command[] = [
  {
    words: ['settings', 'get'],
    summary: 'show the security settings and their version',
    run: exchange('GET', () => '/admin/settings', (body) => printSettings(body)),
  },
  {
    words: ['settings', 'set'],
    argsUsage: 'KEY=VALUE…',
    minArgs: 1,
    summary: 'change settings (a JSON merge patch; values typed by the setting)',
    details: [
      'Values: booleans true/false, enums in any case, numbers, lists as 60,30,14.',
      'Examples:',
      '  tollgate settings set certificateBasedAuthentication=true',
      '  tollgate settings set sslCertificateVerification=always_except_during_enrollment maxClockSkewSeconds=120',
      '  tollgate settings set certificateExpiryAlertDays=30,14,7',
      '  tollgate settings set maxClockSkewSeconds=60 --dry-run      # which devices would be blocked; nothing changes',
      'On a terminal, a change that would block more devices shows the preview and asks before saving (--yes skips).',
    ].join('\n'),
    options: {
      'if-match': { type: 'string', valueName: 'VERSION', description: 'only change the settings if they are still at VERSION (else 412)' },
      'dry-run': { type: 'boolean', description: 'change nothing: show which devices the change would block or let in (the impact preview)' },
      'since-days': { type: 'string', valueName: 'DAYS', description: 'with --dry-run or the confirmation: judge devices seen in the last DAYS days (default 30)' },
      yes: { type: 'boolean', short: 'y', description: 'save without asking, even when the change would block more devices' },
    },
    async run({ api, json, args, options }) {
      const patch = parseSettingAssignments(args);
      const ifMatch = options['if-match'] as string | undefined;
      if (ifMatch !== undefined && !/^\d+$/.test(ifMatch)) throw new UsageError(`--if-match is a version number, not "${ifMatch}"`);
      const sinceDays = options['since-days'] as string | undefined;
      if (sinceDays !== undefined && !/^\d{1,3}$/.test(sinceDays)) throw new UsageError(`--since-days is a whole number of days from 1 to 365, not "${sinceDays}"`);
      const previewOf = async (version: string | undefined): Promise<ImpactPreview> =>
        (await api.request('POST', `/admin/settings/preview${query({ sinceDays })}`, {
          json: patch,
          contentType: 'application/merge-patch+json',
          headers: version ? { 'if-match': `"${version}"` } : {},
        })).body;

      if (options['dry-run']) {
        const body = await previewOf(ifMatch);
        if (json) return printJson(body);
        return printPreview(body);
      }
      const before = json ? undefined : (await api.request('GET', '/admin/settings')).body;
      let expectedVersion = ifMatch;
      // On a terminal, a change that would block more devices is shown and must be confirmed (scripts: --yes, or
      // no terminal, save as asked). What was confirmed is saved only onto the version previewed: if someone else
      // changes the settings while the question is open, the save is refused (412) rather than blocking other devices.
      if (!options.yes && !json && process.stdin.isTTY && process.stdout.isTTY) {
        expectedVersion ??= String(before.version);
        const body = await previewIfServed(() => previewOf(expectedVersion));
        if (body && body.newlyBlocked.count > 0) {
          printPreview(body);
          if (!(await confirm(`Save anyway and block ${plural(body.newlyBlocked.count, 'more device')}? [y/N] `))) {
            throw new CliError('NOT_SAVED', 'nothing was changed (answered no)');
          }
        }
      }
      const headers: Record<string, string> = expectedVersion ? { 'if-match': `"${expectedVersion}"` } : {};
      const res = await api.request('PATCH', '/admin/settings', { json: patch, contentType: 'application/merge-patch+json', headers });
      if (json) return printJson(res.body);
      printSettingsChange(before, res.body, Object.keys(patch));
    },
  },
  {
    words: ['settings', 'history'],
    summary: 'show who changed what, newest first (settings and trust material)',
    options: {
      field: { type: 'string', valueName: 'FIELD', description: 'only changes of this field (a setting, or deviceCa, pushCertificate, …)' },
      since: { type: 'string', valueName: 'TIME', description: 'only changes at or after this RFC 3339 time (e.g. 2026-11-25T00:00:00Z)' },
      ...PAGE_OPTIONS,
    },
    async run(context) {
      const { options } = context;
      const limit = limitOption(options);
      const field = options.field as string | undefined;
      const since = options.since as string | undefined;
      await pages(
        context,
        (token) => `/admin/settings/history${query({ limit, field, since, nextToken: token })}`,
        (items) => {
          if (items.length === 0) return print('No changes recorded yet.');
          print(formatTable(
            ['VERSION', 'CHANGED AT', 'ACTOR', 'CHANGES'],
            items.map((h: any) => [
              String(h.version),
              h.changedAt,
              h.actor,
              h.changes.map((c: any) => `${c.field}: ${formatValue(c.from, { shortenFingerprints: true })} → ${formatValue(c.to, { shortenFingerprints: true })}`).join('; '),
            ]),
          ));
        },
        ['tollgate settings history', field && `--field ${field}`, since && `--since ${since}`, limit && `--limit ${limit}`].filter(Boolean).join(' '),
      );
    },
  },
  {
    words: ['device-ca', 'set'],
    argsUsage: 'FILE.pem',
    minArgs: 1,
    maxArgs: 1,
    summary: 'replace the device CA set with the certificates in a PEM bundle (1–10 CA certificates)',
    async run({ api, json, args }) {
      const certificates = readText(args[0], 'PEM file');
      const before: any[] = json ? [] : (await api.request('GET', '/admin/device-ca')).body.certificates;
      const res = await api.request('PUT', '/admin/device-ca', { json: { certificates } });
      if (json) return printJson(res.body);
      const after: any[] = res.body.certificates;
      const fingerprints = (list: any[]) => list.map((c) => c.sha256).join(',');
      const outcome: Outcome = before.length === 0 ? 'created' : outcomeOf(res.status, fingerprints(before) === fingerprints(after));
      print(said(`Device CA set (${after.length} certificate${after.length === 1 ? '' : 's'})`, outcome));
      printCertificates(after, '');
    },
  },
  {
    words: ['device-ca', 'list'],
    summary: 'list the device CA certificates',
    run: exchange('GET', () => '/admin/device-ca', (body) => {
      printCertificates(body.certificates, 'No device CA certificates are stored.');
      warnNonconforming(body.certificates);
    }),
  },
  {
    words: ['server-cert', 'set'],
    argsUsage: 'FILE.pem',
    minArgs: 1,
    maxArgs: 1,
    summary: 'register the server certificate devices see (the first certificate of the PEM file)',
    async run({ api, json, args }) {
      const certificate = readText(args[0], 'PEM file');
      const before = json ? undefined : await api.find('/admin/server-certificate');
      const res = await api.request('PUT', '/admin/server-certificate', { json: { certificate } });
      if (json) return printJson(res.body);
      print(said('Server certificate', before ? outcomeOf(res.status, before.sha256 === res.body.sha256) : 'created'));
      printFieldsOf(res.body);
    },
  },
  {
    words: ['server-cert', 'show'],
    summary: 'show the registered server certificate',
    run: exchange('GET', () => '/admin/server-certificate', printFieldsOf),
  },
  {
    words: ['push-cert', 'upload'],
    argsUsage: 'FILE.p12',
    minArgs: 1,
    maxArgs: 1,
    summary: 'upload the APNs push certificate (PKCS#12; only the certificate is kept)',
    details: 'The password is prompted for with hidden input when stdin is a terminal; otherwise use --password-file.',
    options: PASSWORD_FILE,
    async run({ api, json, args, options }) {
      let p12: string;
      try {
        p12 = readFileSync(args[0]).toString('base64');
      } catch (error) {
        throw new CliError('FILE_UNREADABLE', `cannot read ${args[0]} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const password = await obtainPassword({ passwordFile: options['password-file'] as string | undefined, prompt: `Password for ${args[0]}: ` });
      const before = json ? undefined : await api.find('/admin/push-certificate');
      const res = await api.request('PUT', '/admin/push-certificate', { json: { p12, password } });
      if (json) return printJson(res.body);
      print(said('Push certificate', before ? outcomeOf(res.status, before.sha256 === res.body.sha256) : 'created'));
      printPushCertificate(res.body);
    },
  },
  {
    words: ['push-cert', 'show'],
    summary: 'show the push certificate: topic, validity, days remaining',
    run: exchange('GET', () => '/admin/push-certificate', printPushCertificate),
  },
  {
    words: ['push-cert', 'delete'],
    summary: 'delete the push certificate (refused while pushNotifications is true)',
    run: removal(() => '/admin/push-certificate', () => `Push certificate deleted; ${CHECKINS_SEE_IT}.`),
  },
  {
    words: ['packages', 'add'],
    argsUsage: 'ID',
    minArgs: 1,
    maxArgs: 1,
    summary: 'register (or replace) a package and its expected checksum',
    details: [
      'Give at most one of --sha512, --sha256, --md5 or --file (which computes SHA-512); none registers it without a checksum.',
      'Example: tollgate packages add office-2026 --name "Microsoft Office" --file Office.pkg',
    ].join('\n'),
    options: {
      name: { type: 'string', valueName: 'NAME', description: 'the package name (required)' },
      sha512: { type: 'string', valueName: 'HEX', description: 'expected SHA-512 (128 hex digits)' },
      sha256: { type: 'string', valueName: 'HEX', description: 'expected SHA-256 (64 hex digits)' },
      md5: { type: 'string', valueName: 'HEX', description: 'expected MD5 (32 hex digits)' },
      file: { type: 'string', valueName: 'PKG', description: 'compute the SHA-512 of this file' },
    },
    async run({ api, json, args, options }) {
      const name = options.name as string | undefined;
      if (!name) throw new UsageError('--name is required');
      const given = (['sha512', 'sha256', 'md5', 'file'] as const).filter((key) => options[key] !== undefined);
      if (given.length > 1) throw new UsageError(`give only one of ${given.map((g) => `--${g}`).join(', ')}`);
      let checksum: { type: string; value: string } | null = null;
      if (options.sha512 !== undefined) checksum = { type: 'SHA_512', value: options.sha512 as string };
      if (options.sha256 !== undefined) checksum = { type: 'SHA_256', value: options.sha256 as string };
      if (options.md5 !== undefined) checksum = { type: 'MD5', value: options.md5 as string };
      if (options.file !== undefined) checksum = { type: 'SHA_512', value: await sha512OfFile(options.file as string) };
      const before = json ? undefined : await api.find(`/admin/packages/${enc(args[0])}`);
      const res = await api.request('PUT', `/admin/packages/${enc(args[0])}`, { json: { name, checksum } });
      if (json) return printJson(res.body);
      print(said(`Package ${res.body.packageId}`, outcomeOf(res.status, before?.updatedAt === res.body.updatedAt)));
      printPackages([res.body]);
    },
  },
  {
    words: ['packages', 'list'],
    summary: 'list the registered packages',
    run: exchange('GET', () => '/admin/packages', (body) => printPackages(body.items)),
  },
  {
    words: ['packages', 'show'],
    argsUsage: 'ID',
    minArgs: 1,
    maxArgs: 1,
    summary: 'show one package',
    run: exchange('GET', ({ args }) => `/admin/packages/${enc(args[0])}`, (body) =>
      print(formatFields([
        ['packageId', body.packageId],
        ['name', body.name],
        ['checksum', body.checksum ? `${body.checksum.type} ${body.checksum.value}` : '-'],
        ['updatedAt', body.updatedAt],
        ['updatedBy', body.updatedBy],
      ])),
    ),
  },
  {
    words: ['packages', 'delete'],
    argsUsage: 'ID',
    minArgs: 1,
    maxArgs: 1,
    summary: 'remove a registered package',
    run: removal(({ args }) => `/admin/packages/${enc(args[0])}`, ({ args }) => `Package ${args[0]} deleted; ${CHECKINS_SEE_IT}.`),
  },
  {
    words: ['revoke'],
    argsUsage: 'FINGERPRINT|CERT.pem',
    minArgs: 1,
    maxArgs: 1,
    summary: 'revoke a device certificate (check-ins refuse it within 5 s)',
    details: 'FINGERPRINT is its SHA-256 (64 hex digits, colons allowed); or give the certificate file (PEM or DER).',
    options: { reason: { type: 'string', valueName: 'REASON', description: 'why (required, up to 512 characters)' } },
    async run({ api, json, args, options }) {
      const reason = options.reason as string | undefined;
      if (!reason) throw new UsageError('--reason is required');
      const sha256 = fingerprintOf(args[0]);
      const before = json ? undefined : (await api.request('GET', '/admin/revocations')).body.items.find((r: any) => r.sha256 === sha256);
      const res = await api.request('PUT', `/admin/revocations/${sha256}`, { json: { reason } });
      if (json) return printJson(res.body);
      const outcome = outcomeOf(res.status, before?.revokedAt === res.body.revokedAt);
      if (outcome === 'unchanged') return print(`${res.body.sha256} was already revoked for this reason; nothing changed.`);
      print(`Revoked ${res.body.sha256} (${res.body.reason}${outcome === 'replaced' ? ', a new reason' : ''}); check-ins refuse it within 5 s.`);
    },
  },
  {
    words: ['unrevoke'],
    argsUsage: 'FINGERPRINT|CERT.pem',
    minArgs: 1,
    maxArgs: 1,
    summary: 'lift a revocation',
    async run({ api, json, args }) {
      const sha256 = fingerprintOf(args[0]);
      await api.request('DELETE', `/admin/revocations/${sha256}`);
      if (!json) print(`Revocation of ${sha256} lifted; ${CHECKINS_SEE_IT}.`);
    },
  },
  {
    words: ['revocations'],
    summary: 'list revoked certificate fingerprints, newest first',
    run: exchange('GET', () => '/admin/revocations', (body) => {
      if (body.items.length === 0) return print('No certificates are revoked.');
      print(formatTable(['SHA-256', 'REVOKED AT', 'BY', 'REASON'], body.items.map((r: any) => [r.sha256, r.revokedAt, r.revokedBy, r.reason])));
    }),
  },
  {
    words: ['exempt'],
    argsUsage: 'DEVICE CODE...',
    minArgs: 2,
    summary: "exempt a device from violation codes until a time (replaces the device's exemption)",
    details: [
      'CODE is a violation code: CLOCK_SKEW_EXCEEDED, SERVER_CERT_NOT_VERIFIED, PACKAGE_CHECKSUM_UNAVAILABLE,',
      'PACKAGE_CHECKSUM_MISSING or PACKAGE_CHECKSUM_MISMATCH (identity violations are never exempted).',
      '--until is an RFC 3339 time at most 30 days ahead; check-ins see the exemption within 5 s.',
      'Example: tollgate exempt C02XK1JHJG5J CLOCK_SKEW_EXCEEDED --until 2026-12-08T00:00:00Z --reason "battery replaced"',
    ].join('\n'),
    options: {
      until: { type: 'string', valueName: 'TIME', description: 'when it ends, RFC 3339 (required)' },
      reason: { type: 'string', valueName: 'REASON', description: 'why (required, up to 512 characters)' },
    },
    async run({ api, json, args, options }) {
      const until = options.until as string | undefined;
      const reason = options.reason as string | undefined;
      if (!until) throw new UsageError('--until is required');
      if (!reason) throw new UsageError('--reason is required');
      const [deviceId, ...violations] = args;
      const res = await api.request('PUT', `/admin/exemptions/${enc(deviceId)}`, { json: { violations, until, reason } });
      if (json) return printJson(res.body);
      const exemption = `from ${res.body.violations.join(', ')} until ${res.body.until}; ${CHECKINS_SEE_IT}.`;
      print(res.status === 201 ? `Device ${res.body.deviceId} exempted ${exemption}` : `Exemption of ${res.body.deviceId} replaced: exempted ${exemption}`);
    },
  },
  {
    words: ['unexempt'],
    argsUsage: 'DEVICE',
    minArgs: 1,
    maxArgs: 1,
    summary: "remove a device's exemption",
    run: removal(({ args }) => `/admin/exemptions/${enc(args[0])}`, ({ args }) => `Exemption of ${args[0]} removed; ${CHECKINS_SEE_IT}.`),
  },
  {
    words: ['exemptions'],
    summary: 'list the exemptions in force, soonest to expire first',
    run: exchange('GET', () => '/admin/exemptions', (body) => {
      if (body.items.length === 0) return print('No exemptions are in force.');
      print(formatTable(['DEVICE', 'CODES', 'UNTIL', 'BY', 'REASON'], body.items.map((e: any) => [e.deviceId, e.violations.join(', '), e.until, e.createdBy, e.reason])));
    }),
  },
  {
    words: ['devices'],
    summary: 'list devices by their latest decision (blocked by default)',
    options: {
      blocked: { type: 'boolean', description: 'devices whose latest check-in was blocked (the default)' },
      accepted: { type: 'boolean', description: 'devices whose latest check-in was accepted' },
      ...PAGE_OPTIONS,
    },
    async run(context) {
      const { options } = context;
      if (options.blocked && options.accepted) throw new UsageError('give --blocked or --accepted, not both');
      const status = options.accepted ? 'ACCEPTED' : 'BLOCKED';
      const limit = limitOption(options);
      await pages(
        context,
        (token) => `/admin/devices${query({ status, limit, nextToken: token })}`,
        (items) => {
          if (items.length === 0) return print(`No ${status.toLowerCase()} devices.`);
          print(formatTable(['DEVICE', 'DECISION', 'LAST CHECK-IN', 'CHECK-IN', 'VIOLATIONS'], items.map((d) => [d.deviceId, d.decision, d.lastCheckinAt, d.checkinId, codes(d.violations)])));
        },
        `tollgate devices --${status.toLowerCase()}${limit ? ` --limit ${limit}` : ''}`,
      );
    },
  },
  {
    words: ['decisions'],
    argsUsage: 'DEVICE',
    minArgs: 1,
    maxArgs: 1,
    summary: 'list the recorded decisions of one device, newest first',
    options: PAGE_OPTIONS,
    async run(context) {
      const deviceId = context.args[0];
      const limit = limitOption(context.options);
      await pages(
        context,
        (token) => `/admin/devices/${enc(deviceId)}/decisions${query({ limit, nextToken: token })}`,
        (items) => {
          if (items.length === 0) return print(`No decisions recorded for ${deviceId}.`);
          print(formatTable(
            ['EVALUATED AT', 'CHECK-IN', 'DECISION', 'ENFORCED', 'SETTINGS', 'VIOLATIONS', 'WARNINGS'],
            items.map((d) => [d.evaluatedAt, d.checkinId, d.decision, String(d.enforced), `v${d.settingsVersion}`, codes(d.violations), codes(d.warnings)]),
          ));
        },
        `tollgate decisions ${deviceId}${limit ? ` --limit ${limit}` : ''}`,
      );
    },
  },
  {
    words: ['attempts'],
    summary: 'list unauthenticated check-in attempts of the last 7 days, newest first',
    details:
      'With certificate-based authentication on, a check-in that does not prove it is the device it names changes ' +
      'nothing of that device; it is kept here instead, with the address it came from.',
    options: PAGE_OPTIONS,
    async run(context) {
      const limit = limitOption(context.options);
      await pages(
        context,
        (token) => `/admin/unauthenticated-attempts${query({ limit, nextToken: token })}`,
        (items) => {
          if (items.length === 0) return print('No unauthenticated check-in attempts in the last 7 days.');
          print(formatTable(
            ['AT', 'CLAIMED DEVICE', 'CHECK-IN', 'SOURCE IP', 'VIOLATIONS', 'CERTIFICATE SHA-256'],
            items.map((a) => [a.at, a.deviceId, a.checkinId, a.sourceIp, a.violations.join(', '), a.fingerprint ?? '-']),
          ));
        },
        `tollgate attempts${limit ? ` --limit ${limit}` : ''}`,
      );
    },
  },
  {
    words: ['imaging', 'account', 'set'],
    argsUsage: 'USER',
    minArgs: 1,
    maxArgs: 1,
    summary: 'create an imaging account or change its password (12+ characters)',
    details: 'The password is prompted for twice with hidden input when stdin is a terminal; otherwise use --password-file.',
    options: PASSWORD_FILE,
    async run({ api, json, args, options }) {
      const password = await obtainPassword({ passwordFile: options['password-file'] as string | undefined, prompt: `New password for ${args[0]}: `, confirm: true });
      const res = await api.request('PUT', `/admin/imaging/accounts/${enc(args[0])}`, { json: { password } });
      if (json) return printJson(res.body ?? {});
      // A password is never the same twice once hashed (a new salt each time): replacing one always changes it.
      print(`Imaging account ${args[0]} ${res.status === 201 ? 'created' : 'replaced (new password)'}; ${IMAGING_SEES_IT}.`);
    },
  },
  {
    words: ['imaging', 'account', 'delete'],
    argsUsage: 'USER',
    minArgs: 1,
    maxArgs: 1,
    summary: 'delete an imaging account',
    run: removal(({ args }) => `/admin/imaging/accounts/${enc(args[0])}`, ({ args }) => `Imaging account ${args[0]} deleted; ${IMAGING_SEES_IT}.`),
  },
  {
    words: ['imaging', 'account', 'list'],
    summary: 'list the imaging accounts',
    run: exchange('GET', () => '/admin/imaging/accounts', (body) => {
      if (body.items.length === 0) return print('No imaging accounts.');
      print(formatTable(['USER', 'CREATED AT', 'UPDATED AT', 'BY'], body.items.map((a: any) => [a.username, a.createdAt, a.updatedAt, a.updatedBy])));
    }),
  },
  {
    words: ['imaging', 'prestage', 'put'],
    argsUsage: 'ID FILE.json',
    minArgs: 2,
    maxArgs: 2,
    summary: 'store a prestage (a JSON object of at most 32 KiB)',
    run: putImagingDocument('PreStage', 'prestages', 'imagingPrestages'),
  },
  {
    words: ['imaging', 'prestage', 'delete'],
    argsUsage: 'ID',
    minArgs: 1,
    maxArgs: 1,
    summary: 'delete a prestage',
    run: removal(({ args }) => `/admin/imaging/prestages/${enc(args[0])}`, ({ args }) => `PreStage ${args[0]} deleted; ${IMAGING_SEES_IT}.`),
  },
  {
    words: ['imaging', 'autorun', 'put'],
    argsUsage: 'DEVICE FILE.json',
    minArgs: 2,
    maxArgs: 2,
    summary: 'store the autorun data of a device (a JSON object of at most 32 KiB)',
    run: putImagingDocument('Autorun data for', 'autorun', 'imagingAutorun'),
  },
  {
    words: ['imaging', 'autorun', 'delete'],
    argsUsage: 'DEVICE',
    minArgs: 1,
    maxArgs: 1,
    summary: 'delete the autorun data of a device',
    run: removal(({ args }) => `/admin/imaging/autorun/${enc(args[0])}`, ({ args }) => `Autorun data for ${args[0]} deleted; ${IMAGING_SEES_IT}.`),
  },
];

