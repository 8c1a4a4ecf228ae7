// A logged-in person in the browser: the identity API's access token (short-lived) and refresh
// token, kept in sessionStorage (gone when the tab closes), refreshed before the access token
// expires. Every page that needs a login uses this.

const KEY = 'dialhub.session';

export interface LoginAnswer {
  readonly accessToken: string;
  readonly accessTokenExpiresAt: string;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAt: string;
  readonly user: { tenantId: string; id: string; name: string; role: string; email: string | null };
}

export interface Stored extends LoginAnswer {
  readonly expiresAt: number;
}

export class LoginError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function load(): Stored | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

function save(a: LoginAnswer): Stored {
  const s: Stored = { ...a, expiresAt: Date.parse(a.accessTokenExpiresAt) };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

async function post(path: string, body: unknown): Promise<LoginAnswer> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as {
    error?: { code: string; message: string };
  } & Partial<LoginAnswer>;
  if (!res.ok)
    throw new LoginError(json.error?.code ?? 'HTTP_' + res.status, json.error?.message ?? res.statusText);
  return json as LoginAnswer;
}

export const session = {
  current(): Stored | null {
    return load();
  },
  async login(tenantId: string, email: string, password: string): Promise<Stored> {
    return save(await post('/api/v1/auth/login', { tenantId, email, password }));
  },
  /** A valid access token, refreshed when it expires within a minute; null when logged out. */
  async accessToken(): Promise<string | null> {
    const s = load();
    if (!s) return null;
    if (s.expiresAt - Date.now() > 60_000) return s.accessToken;
    try {
      return save(await post('/api/v1/auth/refresh', { refreshToken: s.refreshToken })).accessToken;
    } catch {
      sessionStorage.removeItem(KEY);
      return null;
    }
  },
  async logout(): Promise<void> {
    const s = load();
    sessionStorage.removeItem(KEY);
    if (s) {
      await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { authorization: `Bearer ${s.accessToken}` },
      }).catch(() => undefined);
    }
  },
};
