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
