// Admin authentication and roles: bearer tokens checked against ADMIN_TOKENS (API.md §3), read once at cold start.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, readTableConfig, SSM_PARAMETER_PATH, type TableConfig } from '../config.ts';
import { HttpError } from '../domain/errors.ts';
import type { AdminRole } from './admin-route.ts';

/** One `name:role:sha256hex` entry of ADMIN_TOKENS. The token itself is never known to the server. */
export interface AdminTokenEntry {
  /** The actor recorded in the history. */
  name: string;
  role: AdminRole;
  /** SHA-256 of the token (32 bytes). */
  digest: Buffer;
}

export interface AdminPrincipal {
  name: string;
  role: AdminRole;
}

export interface AdminConfig extends TableConfig {
  tokens: AdminTokenEntry[];
}

const NAME = /^[A-Za-z0-9._@+-]{1,64}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const ROLES: readonly AdminRole[] = ['admin', 'auditor'];

/**
 * Parses ADMIN_TOKENS: comma-separated `name:role:sha256hex` (whitespace around entries and empty entries are
 * ignored). Throws ConfigError naming the entry (by position and name) and what is wrong with it; a message never
 * repeats the third part, in case someone pasted a token where its hash belongs.
 */
export function parseAdminTokens(text: string | undefined): AdminTokenEntry[] {
  const raw = (text ?? '').split(',').map((entry) => entry.trim());
  const entries: AdminTokenEntry[] = [];
  const seen = new Map<string, number>();
  raw.forEach((entry, index) => {
    if (entry === '') return;
    const position = `ADMIN_TOKENS entry ${index + 1}`;
    const parts = entry.split(':');
    if (parts.length !== 3) {
      throw new ConfigError(`${position} must be name:role:sha256hex (three parts separated by ':'), found ${parts.length} part(s)`);
    }
    const [name, role, hash] = parts.map((part) => part.trim());
    if (!NAME.test(name)) {
      throw new ConfigError(`${position}: the name must be 1 to 64 of letters, digits, '.', '_', '@', '+' or '-'`);
    }
    const where = `${position} ("${name}")`;
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(`${where}: the role must be admin or auditor`);
    }
    if (!SHA256_HEX.test(hash)) {
      throw new ConfigError(
        `${where}: the third part must be the token's SHA-256 as 64 hex digits (printf %s "$TOKEN" | sha256sum), not the token itself`,
      );
    }
    const digestHex = hash.toLowerCase();
    const earlier = seen.get(digestHex);
    if (earlier !== undefined) {
      throw new ConfigError(`${where} has the same token hash as entry ${earlier}; one token must map to one name and role`);
    }
    seen.set(digestHex, index + 1);
    entries.push({ name, role: role as AdminRole, digest: Buffer.from(digestHex, 'hex') });
  });
  if (entries.length === 0) {
    throw new ConfigError('Environment variable ADMIN_TOKENS is required: comma-separated name:role:sha256hex entries (role admin or auditor)');
  }
  return entries;
}

/** The admin function's configuration: the tables and the tokens. Throws ConfigError at cold start. */
export function readAdminConfig(env: Record<string, string | undefined> = process.env): AdminConfig {
  return { ...readTableConfig(env), tokens: parseAdminTokens(env.ADMIN_TOKENS) };
}

/**
 * The admin configuration with its tokens from ADMIN_TOKENS (local mode, tests) or from the SSM SecureString parameter
 * named by ADMIN_TOKENS_PARAMETER (AWS: the template carries the name only), read once through `readParameter`.
 * Exactly one of the two is set. A mistake in the parameter's entries is reported like one in ADMIN_TOKENS, with the
 * parameter's name, and never quotes a hash.
 */
export async function loadAdminConfig(
  env: Record<string, string | undefined>,
  readParameter: (name: string) => Promise<string>,
): Promise<AdminConfig> {
  const parameter = env.ADMIN_TOKENS_PARAMETER?.trim() || undefined;
  if (parameter === undefined) return readAdminConfig(env);
  if (env.ADMIN_TOKENS?.trim()) throw new ConfigError('Set ADMIN_TOKENS or ADMIN_TOKENS_PARAMETER, not both');
  if (!SSM_PARAMETER_PATH.test(parameter)) {
    throw new ConfigError(`ADMIN_TOKENS_PARAMETER must be an SSM parameter path such as /tollgate/prod/admin-tokens, got "${parameter}"`);
  }
  const tables = readTableConfig(env);
  const text = await readParameter(parameter);
  try {
    return { ...tables, tokens: parseAdminTokens(text) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(`The SSM parameter ${parameter} (ADMIN_TOKENS_PARAMETER): ${error.message}`);
  }
}

/** Why a request was refused, for the log (never the token). */
export type AuthFailure = 'MISSING' | 'NOT_BEARER' | 'UNKNOWN_TOKEN';

export class AdminAuthError extends HttpError {
  override name = 'AdminAuthError';
  readonly reason: AuthFailure;
  constructor(reason: AuthFailure) {
    // RFC 6750 §3: no error code when credentials are missing, invalid_token when they do not verify.
    const challenge = reason === 'UNKNOWN_TOKEN' ? 'Bearer error="invalid_token"' : 'Bearer';
    const message =
      reason === 'UNKNOWN_TOKEN'
        ? 'The bearer token is not valid'
        : 'Authentication required: send Authorization: Bearer <admin token>';
    super(401, 'UNAUTHENTICATED', message, { headers: { 'WWW-Authenticate': challenge } });
    this.reason = reason;
  }
}

/** Longest Authorization header read; longer is refused without hashing. */
const MAX_AUTHORIZATION_LENGTH = 4096;

/**
 * The principal a request's Authorization header proves, or AdminAuthError (401). The presented token is hashed and
 * compared with every entry in constant time (no early exit), so timing tells nothing about which entry came close.
 */
export function authenticate(authorization: string | undefined, entries: readonly AdminTokenEntry[]): AdminPrincipal {
  const header = authorization?.trim();
  if (!header) throw new AdminAuthError('MISSING');
  const match = /^Bearer[ \t]+(\S+)$/i.exec(header);
  if (!match || header.length > MAX_AUTHORIZATION_LENGTH) throw new AdminAuthError('NOT_BEARER');
  const digest = createHash('sha256').update(match[1], 'utf8').digest();
  let found: AdminTokenEntry | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(digest, entry.digest) && found === undefined) found = entry;
  }
  if (!found) throw new AdminAuthError('UNKNOWN_TOKEN');
  return { name: found.name, role: found.role };
}

/** What authorization looks at: the method, and for the two reads sent with a body, the route and the query. */
export interface AuthorizedRequest {
  method: string;
  routeKey: string;
  query: Readonly<Record<string, string | undefined>>;
}

/**
 * Requests that change nothing although their method could: the impact preview (API.md §3), which takes the patch
 * it judges as a body, and its `PATCH /admin/settings?dryRun=true` shortcut.
 */
function isReadOnly({ method, routeKey, query }: AuthorizedRequest): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  if (routeKey === 'POST /admin/settings/preview') return true;
  return routeKey === 'PATCH /admin/settings' && query.dryRun === 'true';
}

/** Auditors read: GET (HEAD too, which API Gateway never routes here) and the impact preview. Anything else is 403. */
export function authorize(principal: AdminPrincipal, request: AuthorizedRequest): void {
  if (principal.role === 'admin') return;
  if (isReadOnly(request)) return;
  throw new HttpError(403, 'FORBIDDEN', `The ${principal.role} role may only read (GET) and preview settings changes; ${request.method} needs an admin token`);
}
