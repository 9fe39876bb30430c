// Muda's OAuth access tokens, shared by every connector of the process.
//
// The desk makes a connector per use, so a token kept on the connector would
// mean a token exchange per payout. Tokens live here instead, keyed by base
// URL + api_key + a hash of the secret (a rotated secret gets a new entry),
// refreshed at 80% of their lifetime (before Muda would refuse them), and
// fetched single-flight: concurrent callers share one exchange.
import { createHash } from "node:crypto";
import type { HttpCaller } from "../http";
import { isRecord, readEnvelope } from "./wire";

/** Refresh when this share of the token's lifetime has passed. */
export const REFRESH_AT_SHARE = 0.8;
/** Lifetime assumed when Muda's answer does not say (expires_in absent and no JWT exp). */
const FALLBACK_LIFETIME_SECONDS = 300;

export type TokenResult =
  | { ok: true; token: string }
  | {
      ok: false;
      /** refused: Muda answered and turned the credentials down. unavailable: no usable answer. */
      kind: "refused" | "unavailable";
      message: string;
      httpStatus?: number;
    };

interface CachedToken {
  token: string;
  refreshAt: number;
  expiresAt: number;
}

interface Entry {
  current?: CachedToken;
  inflight?: Promise<TokenResult>;
}

// On globalThis so that Next.js dev-mode module reloads share one cache.
const cacheKey = Symbol.for("payout-desk.muda-token-cache");
const holder = globalThis as { [cacheKey]?: Map<string, Entry> };
const cache: Map<string, Entry> = (holder[cacheKey] ??= new Map());

/** Forgets every cached token (tests). */
export function clearMudaTokenCache(): void {
  cache.clear();
}

export interface TokenSourceOptions {
  /** The connector's base URL (without /v1). */
  baseUrl: string;
  apiKey: string;
  secretKey: string;
  /** A caller that records the exchange without the secret or the token. */
  call: HttpCaller;
  now: () => number;
}

export interface TokenSource {
  /** A token that is not near its expiry; `fresh` forces a new exchange (the admin's Test button). */
  get(options?: { fresh?: boolean }): Promise<TokenResult>;
  /** Drops `token` after Muda refused it (401); a newer token is kept. */
  invalidate(token: string): void;
}

export function mudaTokenSource(options: TokenSourceOptions): TokenSource {
  const secretHash = createHash("sha256").update(options.secretKey).digest("hex");
  const key = `${options.baseUrl}\n${options.apiKey}\n${secretHash}`;
  const entry = (): Entry => {
    let found = cache.get(key);
    if (!found) cache.set(key, (found = {}));
    return found;
  };

  async function exchange(): Promise<TokenResult> {
    const url = `${options.baseUrl}/v1/clients/oauth/token`;
    const outcome = await options.call({
      operation: "token",
      method: "POST",
      url,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ secret_key: options.secretKey, api_key: options.apiKey }),
      recordBody: { secret_key: "[redacted]", api_key: options.apiKey },
    });
    if (outcome.kind === "error") {
      return { ok: false, kind: "unavailable", message: `Muda's sign-in did not answer (${outcome.error})` };
    }
    const envelope = outcome.jsonOk ? readEnvelope(outcome.json) : null;
    if (outcome.status >= 200 && outcome.status < 300) {
      const data = envelope && isRecord(envelope.data) ? envelope.data : null;
      const token = data && typeof data.access_token === "string" && data.access_token !== "" ? data.access_token : null;
      if (!token) {
        return { ok: false, kind: "unavailable", httpStatus: outcome.status, message: "Muda's sign-in answer held no access_token" };
      }
      const issuedAt = options.now();
      const lifetimeSeconds = lifetimeOf(data!.expires_in, token, issuedAt);
      const cached: CachedToken = {
        token,
        refreshAt: issuedAt + lifetimeSeconds * 1000 * REFRESH_AT_SHARE,
        expiresAt: issuedAt + lifetimeSeconds * 1000,
      };
      entry().current = cached;
      return { ok: true, token };
    }
    const reason = envelope?.message ? `: ${envelope.message}` : "";
    // The credentials (or the base URL) are wrong: Muda answered, and said no.
    if ([400, 401, 403, 404, 422].includes(outcome.status) && envelope) {
      return {
        ok: false,
        kind: "refused",
        httpStatus: outcome.status,
        message: `Muda refused the sign-in with HTTP ${outcome.status}${reason}. Check the connection's apiKey, secretKey and base URL`,
      };
    }
    return { ok: false, kind: "unavailable", httpStatus: outcome.status, message: `Muda's sign-in answered HTTP ${outcome.status}${reason}` };
  }

  return {
    async get(opts = {}) {
      const current = entry();
      if (!opts.fresh && current.current && options.now() < current.current.refreshAt) {
        return { ok: true, token: current.current.token };
      }
      const previous = current.current;
      const flight =
        current.inflight ??
        exchange().finally(() => {
          if (current.inflight === flight) delete current.inflight;
        });
      current.inflight = flight;
      const result = await flight;
      // Muda's sign-in is briefly unavailable, but the token we hold has not expired yet: keep using it.
      if (!result.ok && result.kind === "unavailable" && !opts.fresh && previous && options.now() < previous.expiresAt) {
        return { ok: true, token: previous.token };
      }
      return result;
    },
    invalidate(token) {
      const current = cache.get(key);
      if (current?.current?.token === token) delete current.current;
    },
  };
}

/** expires_in (seconds), else the JWT's exp, else a short fallback. */
function lifetimeOf(expiresIn: unknown, token: string, issuedAtMs: number): number {
  const fromField = typeof expiresIn === "number" ? expiresIn : typeof expiresIn === "string" ? Number(expiresIn) : NaN;
  if (Number.isFinite(fromField) && fromField > 0) return fromField;
  const exp = jwtExp(token);
  if (exp !== null && exp * 1000 > issuedAtMs) return (exp * 1000 - issuedAtMs) / 1000;
  return FALLBACK_LIFETIME_SECONDS;
}

function jwtExp(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return isRecord(claims) && typeof claims.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}
