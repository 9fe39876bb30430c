// A connection's non-secret options (Connection.settings, JSON), read in one
// place so a missing or malformed value falls back to the desk's default.

/** Payouts of this connection one worker process acts on at once. */
export function connectionSendConcurrency(settings: unknown, fallback: number): number {
  const value = isRecord(settings) ? settings.sendConcurrency : undefined;
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : fallback;
}

/**
 * Calls a minute the desk may make to this connection's provider: the
 * connection's own setting, else the provider's published limit, else null
 * (no pacing). Each piece of work (a send, a status check) counts as one.
 */
export function connectionRequestsPerMinute(settings: unknown, published: number | null): number | null {
  const value = isRecord(settings) ? settings.requestsPerMinute : undefined;
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 1 && n <= 60_000 ? n : published;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The form's value for the send concurrency: blank means the desk's default. Null when valid; else the message. */
export function sendConcurrencyProblem(value: string): string | null {
  const typed = value.trim();
  if (typed === "") return null;
  const n = Number(typed);
  return /^\d+$/.test(typed) && n >= 1 && n <= 64 ? null : `A whole number from 1 to 64, or blank for the desk's default; not "${typed.slice(0, 20)}"`;
}

/** The settings JSON with the send concurrency set from the form's value (blank removes it). */
export function withSendConcurrency(settings: unknown, value: string): Record<string, unknown> {
  const next: Record<string, unknown> = isRecord(settings) ? { ...settings } : {};
  const typed = value.trim();
  if (typed === "") delete next.sendConcurrency;
  else next.sendConcurrency = Number(typed);
  return next;
}

/** The form's text for the stored send concurrency (blank: the desk's default). */
export function sendConcurrencyText(settings: unknown): string {
  const value = isRecord(settings) ? settings.sendConcurrency : undefined;
  return typeof value === "number" ? String(value) : "";
}

// ─── Limits per currency ─────────────────────────────────────────────────────
//
// Stored as settings.limits = { "UGX": { maxPerPayoutMinor: "1000000", dailyMinor: "…", monthlyMinor: "…" } }:
// minor units as decimal text (JSON has no bigint); an absent key means no
// limit of the connection's own (the provider's or the desk's maximum applies).

export interface CurrencyLimits {
  maxPerPayoutMinor?: bigint;
  dailyMinor?: bigint;
  monthlyMinor?: bigint;
}

export const LIMIT_KEYS = ["maxPerPayoutMinor", "dailyMinor", "monthlyMinor"] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** Every currency's limits as stored; a malformed value reads as no limit of the connection's own. */
export function connectionLimits(settings: unknown): Record<string, CurrencyLimits> {
  const stored = isRecord(settings) && isRecord(settings.limits) ? settings.limits : {};
  const out: Record<string, CurrencyLimits> = Object.create(null);
  for (const [currency, value] of Object.entries(stored)) {
    if (!/^[A-Z]{3,4}$/.test(currency) || !isRecord(value)) continue;
    const limits: CurrencyLimits = {};
    for (const key of LIMIT_KEYS) {
      const v = value[key];
      if (typeof v === "string" && /^[1-9]\d{0,18}$/.test(v)) limits[key] = BigInt(v);
    }
    if (Object.keys(limits).length > 0) out[currency] = limits;
  }
  return out;
}

/** One currency's limits (empty when none are set). */
export function currencyLimits(settings: unknown, currency: string): CurrencyLimits {
  return connectionLimits(settings)[currency] ?? {};
}

/** The settings JSON with its limits replaced (currencies with no limit left out). */
export function withLimits(settings: unknown, limits: Record<string, CurrencyLimits>): Record<string, unknown> {
  const next: Record<string, unknown> = isRecord(settings) ? { ...settings } : {};
  const stored: Record<string, Record<string, string>> = {};
  for (const currency of Object.keys(limits).sort()) {
    const entry = Object.fromEntries(LIMIT_KEYS.flatMap((k) => (limits[currency]![k] === undefined ? [] : [[k, limits[currency]![k]!.toString()]])));
    if (Object.keys(entry).length > 0) stored[currency] = entry;
  }
  if (Object.keys(stored).length > 0) next.limits = stored;
  else delete next.limits;
  return next;
}

/** The limits in one comparable text (for "did they change" and for the audit entry). */
export function limitsKey(settings: unknown): string {
  const limits = connectionLimits(settings);
  return JSON.stringify(
    Object.keys(limits)
      .sort()
      .map((c) => [c, LIMIT_KEYS.map((k) => limits[c]![k]?.toString() ?? null)]),
  );
}

/** The form's value for the requests a minute: blank means the provider's published limit. Null when valid; else the message. */
export function requestsPerMinuteProblem(value: string): string | null {
  const typed = value.trim();
  if (typed === "") return null;
  const n = Number(typed);
  return /^\d+$/.test(typed) && n >= 1 && n <= 60_000
    ? null
    : `A whole number of requests a minute from 1 to 60,000, or blank for the provider's published limit; not "${typed.slice(0, 20)}"`;
}

/** The settings JSON with the requests a minute set from the form's value (blank removes it). */
export function withRequestsPerMinute(settings: unknown, value: string): Record<string, unknown> {
  const next: Record<string, unknown> = isRecord(settings) ? { ...settings } : {};
  const typed = value.trim();
  if (typed === "") delete next.requestsPerMinute;
  else next.requestsPerMinute = Number(typed);
  return next;
}

/** The form's text for the stored requests a minute (blank: the provider's published limit). */
export function requestsPerMinuteText(settings: unknown): string {
  const value = isRecord(settings) ? settings.requestsPerMinute : undefined;
  return typeof value === "number" ? String(value) : "";
}
