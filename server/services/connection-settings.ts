// A connection's non-secret options (Connection.settings, JSON), read in one
// place so a missing or malformed value falls back to the desk's default.

/** Payouts of this connection one worker process acts on at once. */
export function connectionSendConcurrency(settings: unknown, fallback: number): number {
  const value = isRecord(settings) ? settings.sendConcurrency : undefined;
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : fallback;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
