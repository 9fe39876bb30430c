// PontisGlobe session tokens (JWTs from POST /api/v1/user/login), shared by
// every connector instance of the same account in this process: the desk
// opens a connector per job, and logging in for each would be slow and could
// trip Pontis' rate limit. One login at a time per account (single flight);
// a token is renewed a little before it expires.

export interface SessionToken {
  token: string;
  /** Epoch ms at which Pontis stops accepting it. */
  expiresAtMs: number;
  /** Epoch ms after which a fresh one is fetched. */
  refreshAtMs: number;
}

const tokens = new Map<string, SessionToken>();
const inFlight = new Map<string, Promise<unknown>>();

/** Renew this long before expiry: 20% of the lifetime, at most a minute. */
export function refreshMarginMs(expiresInSeconds: number): number {
  return Math.min(60_000, expiresInSeconds * 200);
}

export function sessionKey(baseUrl: string, apiKey: string, email: string): string {
  return `${baseUrl}\n${apiKey}\n${email}`;
}

export function cachedToken(key: string, nowMs: number): SessionToken | null {
  const token = tokens.get(key);
  return token && nowMs < token.refreshAtMs ? token : null;
}

export function storeToken(key: string, token: SessionToken): void {
  tokens.set(key, token);
}

/** Forgets a token Pontis refused, unless a newer one already replaced it. */
export function forgetToken(key: string, token: string): void {
  if (tokens.get(key)?.token === token) tokens.delete(key);
}

/** Runs `login` unless one is already running for this account, whose result is then shared. */
export function singleFlight<T>(key: string, login: () => Promise<T>): Promise<T> {
  const running = inFlight.get(key);
  if (running) return running as Promise<T>;
  const started = login().finally(() => inFlight.delete(key));
  inFlight.set(key, started);
  return started;
}

/** For tests: forget every cached session. */
export function clearPontisSessions(): void {
  tokens.clear();
  inFlight.clear();
}
