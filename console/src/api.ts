// The admin API as the console calls it: same origin, the bearer token from the session, errors in one shape.
import { currentToken } from './session.ts';

/** The API's error body (API.md: `{ error: { code, message, field?, details? } }`) with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }

  /** The message for one field: its entry in details, or the whole message when the error names that field. */
  messageFor(field: string): string | undefined {
    const detail = this.details.find((d) => d.field === field);
    if (detail) return detail.message;
    return this.field === field ? this.message : undefined;
  }
}

/** The store, or the API itself, could not be reached (503 or no answer): nothing was changed. */
export class StoreUnreachable extends Error {
  constructor() {
    super(STORE_UNREACHABLE);
  }
}

export const STORE_UNREACHABLE = 'Tollgate cannot reach its store; nothing was changed';

/** The token stopped working (401): the app goes back to sign-in, keeping the page's URL. */
export class SessionEnded extends Error {}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

type SessionEndedListener = () => void;
let onSessionEnded: SessionEndedListener = () => undefined;
export function whenSessionEnds(listener: SessionEndedListener): void {
  onSessionEnded = listener;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** A token to try instead of the session's (signing in). */
  token?: string;
}

export async function request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
  const token = options.token ?? currentToken();
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new StoreUnreachable();
  }
  const text = await response.text().catch(() => '');
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.ok) return { status: response.status, body, headers: response.headers };
  if (response.status === 503 || response.status === 502 || response.status === 504) throw new StoreUnreachable();
  const error = body?.error;
  if (response.status === 401 && options.token === undefined) {
    onSessionEnded();
    throw new SessionEnded(error?.message ?? 'The token is no longer accepted');
  }
  throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? `Tollgate answered ${response.status}`, error?.field, error?.details ?? []);
}

export const get = <T = any>(path: string) => request<T>('GET', path).then((answer) => answer.body);

/** A GET that answers undefined for 404 NOT_FOUND (nothing stored). */
export async function getOptional<T = any>(path: string): Promise<T | undefined> {
  try {
    return await get<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** What to show a person for an error: the API's message, or the store sentence. */
export function describeError(error: unknown): string {
  if (error instanceof StoreUnreachable) return STORE_UNREACHABLE;
  if (error instanceof ApiError || error instanceof SessionEnded) return error.message;
  return 'Something went wrong in the console; reload the page.';
}

export const encodeSegment = (value: string) => encodeURIComponent(value);
