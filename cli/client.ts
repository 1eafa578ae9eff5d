// The admin API as the command line sees it: where it is, which token, and errors turned into the CLI's own words.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A failure the command line reports as `tollgate: <code>: <message>` with the given exit status. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
    /** Further lines, one fact each (the rules a change broke), printed indented below the message. */
    readonly lines: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Wrong use of the command line itself: exit status 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message, 2);
  }
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body; undefined for 204 or an empty body. */
  body: any;
}

export interface ApiTarget {
  url: string;
  /** Resolved lazily: `--help` and usage errors need no token. */
  token: () => string;
}

type Env = Record<string, string | undefined>;

/** The project folder, where `npm start` runs (npm runs scripts there, whatever the terminal's folder). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

const TOKEN_FILE = 'admin-token';
const DEFAULT_DATA_DIR = '.data';

/** Where the token `npm start` saved may be: $DATA_DIR (default .data) from this folder, then from the project folder. */
export function adminTokenFiles(env: Env = process.env, cwd = process.cwd()): string[] {
  const dataDir = env.DATA_DIR?.trim() || DEFAULT_DATA_DIR;
  return [...new Set([resolve(cwd, dataDir, TOKEN_FILE), resolve(PROJECT_ROOT, dataDir, TOKEN_FILE)])];
}

/**
 * The admin token, the one way every Tollgate tool finds it: TOLLGATE_TOKEN, else the token `npm start` saved in
 * $DATA_DIR/admin-token (adminTokenFiles). A CliError NO_TOKEN says which variables were read and where it looked.
 */
export function adminTokenFromEnv(env: Env = process.env, cwd = process.cwd()): string {
  const given = env.TOLLGATE_TOKEN?.trim();
  if (given) return given;
  const files = adminTokenFiles(env, cwd);
  for (const path of files) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch {
      continue;
    }
    if (!text) throw new CliError('NO_TOKEN', `${path} is empty; set TOLLGATE_TOKEN to an admin token`);
    return text;
  }
  const dataDir = env.DATA_DIR?.trim() ? `DATA_DIR=${env.DATA_DIR.trim()}` : `DATA_DIR unset, so ${DEFAULT_DATA_DIR}`;
  throw new CliError(
    'NO_TOKEN',
    `no admin token: TOLLGATE_TOKEN is not set, and there is no token saved by \`npm start\` in ${files.join(' or ')} (${dataDir}). ` +
      'Set TOLLGATE_TOKEN to an admin token, or DATA_DIR to the data folder of the running `npm start` (and TOLLGATE_URL or PORT to its address)',
  );
}

/** TOLLGATE_URL, else http://127.0.0.1:$PORT (PORT 3000, as `npm start`). */
export function apiUrlFromEnv(env: Env = process.env): string {
  return (env.TOLLGATE_URL?.trim() || `http://127.0.0.1:${env.PORT?.trim() || '3000'}`).replace(/\/+$/, '');
}

export function apiTargetFromEnv(env: Env = process.env, cwd = process.cwd()): ApiTarget {
  return { url: apiUrlFromEnv(env), token: () => adminTokenFromEnv(env, cwd) };
}

/**
 * What the API says in HTTP terms, said in the command line's: the command to run instead of the route to call.
 * (The API's messages name routes because its clients are HTTP clients.)
 */
const IN_CLI_TERMS: [RegExp, string][] = [
  [/PUT \/admin\/push-certificate to upload one/, 'upload one with tollgate push-cert upload FILE.p12'],
  [/PUT \/admin\/server-certificate to register one/, 'register one with tollgate server-cert set FILE.pem'],
  [/need a push certificate; upload one first$/, 'need a push certificate; upload one first (tollgate push-cert upload FILE.p12)'],
  [/upload a renewed one first$/, 'upload a renewed one first (tollgate push-cert upload FILE.p12)'],
  [/upload the device CA first$/, 'upload the device CA first (tollgate device-ca set FILE.pem)'],
  [/upload a CA-issued (server )?certificate$/, 'upload a CA-issued $1certificate (tollgate server-cert set FILE.pem)'],
  [/set (\w+) to (\w+) first/, 'set $1 to $2 first (tollgate settings set $1=$2)'],
  [/PUT \/admin\/device-ca/g, 'tollgate device-ca set FILE.pem'],
  [/GET \/admin\/settings\b/g, 'tollgate settings get'],
  [/the version in If-Match/, 'the version given with --if-match'],
  [/read them again and retry/, 'read them again (tollgate settings get) and retry'],
  [/may only read \(GET\) and preview settings changes; (GET|PUT|PATCH|POST|DELETE) needs an admin token/, 'may only read; this command needs an admin token (TOLLGATE_TOKEN)'],
  [/the id in the path/, 'the ID given on the command line'],
];

function inCliTerms(message: string): string {
  return IN_CLI_TERMS.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message);
}

/** The contract's error body as a CliError: its message, then each of `details` on a line of its own. */
function describeError(body: any): CliError | undefined {
  const error = body?.error;
  if (!error || typeof error.code !== 'string') return undefined;
  let message = inCliTerms(String(error.message ?? ''));
  const lines: string[] = [];
  if (Array.isArray(error.details) && error.details.length > 0) {
    for (const detail of error.details) lines.push(`${detail.field}: ${inCliTerms(String(detail.message))}`);
    message = message.replace(/^The settings break the rules listed in details; nothing was changed$/, 'nothing was changed; the settings break these rules:');
    message = message.replace(/ listed in details\b/, ' listed below');
  } else if (error.field && !message.includes(error.field)) {
    message = `${message} (field ${error.field})`;
  }
  return new CliError(error.code, message, 1, lines);
}

export class AdminApi {
  constructor(private readonly target: ApiTarget) {}

  async request(method: string, path: string, options: { json?: unknown; contentType?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.target.token()}`, accept: 'application/json', ...(options.headers ?? {}) };
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(`${this.target.url}${path}`, { method, headers, body });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(
        'UNREACHABLE',
        `cannot reach ${this.target.url} (${why}). Is \`npm start\` running? The address is TOLLGATE_URL, else http://127.0.0.1:$PORT (PORT 3000); set them to the running stack's`,
      );
    }
    const text = await response.text();
    let parsed: any;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) {
      throw describeError(parsed) ?? new CliError(`HTTP_${response.status}`, `${method} ${path} answered ${response.status} ${response.statusText}`.trim());
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** GET that answers undefined for 404 NOT_FOUND (what is not there yet). */
  async find(path: string): Promise<any | undefined> {
    try {
      return (await this.request('GET', path)).body;
    } catch (error) {
      if (error instanceof CliError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }
}
