// The signed-in session: the admin token lives in sessionStorage only (API.md §6): never in a URL, cookie or log.
const TOKEN_KEY = 'tollgate.adminToken';

export type Role = 'admin' | 'auditor';

export interface Session {
  name: string;
  role: Role;
}

export function currentToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function keepToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
