// The admin API as the command line sees it: where it is, which token, and errors turned into one-line messages.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** A failure the command line reports as `tollgate: <code>: <message>` with the given exit status. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
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

/** TOLLGATE_URL (default http://127.0.0.1:$PORT, PORT 3000) and TOLLGATE_TOKEN (default: $DATA_DIR/admin-token, DATA_DIR .data). */
export function apiTargetFromEnv(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): ApiTarget {
  const url = (env.TOLLGATE_URL?.trim() || `http://127.0.0.1:${env.PORT?.trim() || '3000'}`).replace(/\/+$/, '');
  return {
    url,
    token: () => {
      const given = env.TOLLGATE_TOKEN?.trim();
      if (given) return given;
      const path = resolve(cwd, env.DATA_DIR?.trim() || '.data', 'admin-token');
      let text: string;
      try {
        text = readFileSync(path, 'utf8').trim();
      } catch {
        throw new CliError('NO_TOKEN', `no admin token: set TOLLGATE_TOKEN, or run where \`npm start\` keeps ${path}`);
      }
      if (!text) throw new CliError('NO_TOKEN', `${path} is empty; set TOLLGATE_TOKEN`);
      return text;
    },
  };
}

/** One line from the contract's error body: message, then each detail as `field: message`. */
function describeError(body: any): { code: string; message: string } | undefined {
  const error = body?.error;
  if (!error || typeof error.code !== 'string') return undefined;
  const parts = [String(error.message ?? '')];
  if (Array.isArray(error.details)) {
    for (const detail of error.details) parts.push(`${detail.field}: ${detail.message}`);
  } else if (error.field && !String(error.message).includes(error.field)) {
    parts.push(`(field ${error.field})`);
  }
  return { code: error.code, message: parts.filter(Boolean).join('; ').replace(/\s*\n\s*/g, ' ') };
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
      throw new CliError('UNREACHABLE', `cannot reach ${this.target.url} (${why}); is Tollgate running (npm start), and is TOLLGATE_URL right?`);
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
      const described = describeError(parsed);
      if (described) throw new CliError(described.code, described.message);
      throw new CliError(`HTTP_${response.status}`, `${method} ${path} answered ${response.status} ${response.statusText}`.trim());
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }
}
