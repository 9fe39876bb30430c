// Statement maths, pure: periods in a time zone, the balance identity, and
// how an export file is named. Zone offsets come from the platform's IANA
// database through Intl; nothing here knows a DST rule of its own.

const DAY_MS = 24 * 60 * 60 * 1000;

// ─── Time zones ──────────────────────────────────────────────────────────────

/** The zone the desk uses when none is set (Settings → General). */
export const DEFAULT_TIME_ZONE = "UTC";

/**
 * The canonical IANA name of a zone ("europe/london" → "Europe/London"), or
 * null when Intl does not know it. Offsets like "+01:00" are refused: a
 * statement period follows a place's clock, DST included.
 */
export function canonicalTimeZone(zone: string): string | null {
  if (typeof zone !== "string" || zone.length === 0 || zone.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** What a clock on the wall in `zone` shows at `instant`. */
export function wallClockOf(instant: Date, zone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of partsFormatter(zone).formatToParts(instant)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** The wall clock as if it were UTC, in ms: the arithmetic form of a local time. */
function wallMs(instantMs: number, zone: string): number {
  const w = wallClockOf(new Date(instantMs), zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** The zone's offset from UTC at an instant, in ms (Europe/London in summer: 3,600,000). */
export function offsetMsAt(instant: Date | number, zone: string): number {
  const ms = typeof instant === "number" ? instant : instant.getTime();
  const whole = Math.floor(ms / 1000) * 1000;
  return wallMs(whole, zone) - whole;
}

/** The calendar day (yyyy-mm-dd) an instant falls on in `zone`. */
export function zonedDay(instant: Date, zone: string): string {
  const w = wallClockOf(instant, zone);
  return dayString(w.year, w.month, w.day);
}

/**
 * The first instant of a calendar day in `zone`. Usually its midnight; where
 * the clocks skip midnight (a spring-forward at 00:00, or a day a country
 * skipped), the day begins when they resume; where midnight happens twice, at
 * the first.
 */
export function startOfDay(day: string, zone: string): Date {
  const { year, month, day: d } = splitDay(day);
  const local = Date.UTC(year, month - 1, d);
  // The offsets in force around that midnight (one each side of any change).
  const candidates = [...new Set([local - DAY_MS, local, local + DAY_MS].map((t) => offsetMsAt(t, zone)))].map((offset) => local - offset);
  const exact = candidates.filter((t) => wallMs(t, zone) === local);
  if (exact.length > 0) return new Date(Math.min(...exact));
  return new Date(Math.min(...candidates.filter((t) => wallMs(t, zone) > local)));
}

// ─── Calendar days ───────────────────────────────────────────────────────────

/** Days a PostgreSQL timestamptz and a JavaScript Date agree on without surprises. */
export const EARLIEST_DAY = "1970-01-02";
export const LATEST_DAY = "9999-12-30";

function dayString(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

function splitDay(day: string): { year: number; month: number; day: number } {
  const [year, month, d] = day.split("-").map(Number);
  return { year: year!, month: month!, day: d! };
}

/** True for a real calendar day written yyyy-mm-dd within the range the desk stores ("2026-02-30" is not one). */
export function isDay(value: unknown): value is string {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && value >= EARLIEST_DAY && value <= LATEST_DAY;
}

/** A calendar day `n` days later (or earlier): plain calendar arithmetic, no zone involved. */
export function addDays(day: string, n: number): string {
  const { year, month, day: d } = splitDay(day);
  return new Date(Date.UTC(year, month - 1, d + n)).toISOString().slice(0, 10);
}

/** Monday 0 … Sunday 6. */
function weekdayOf(day: string): number {
  const { year, month, day: d } = splitDay(day);
  return (new Date(Date.UTC(year, month - 1, d)).getUTCDay() + 6) % 7;
}

function firstOfMonth(day: string, monthsLater = 0): string {
  const { year, month } = splitDay(day);
  const date = new Date(Date.UTC(year, month - 1 + monthsLater, 1));
  return date.toISOString().slice(0, 10);
}

// ─── Periods ─────────────────────────────────────────────────────────────────

export const PERIOD_PRESETS = ["today", "yesterday", "this_week", "last_week", "this_month", "last_month", "custom"] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number];

export const PERIOD_LABELS: Readonly<Record<PeriodPreset, string>> = {
  today: "Today",
  yesterday: "Yesterday",
  this_week: "This week",
  last_week: "Last week",
  this_month: "This month",
  last_month: "Last month",
  custom: "Custom dates",
};

export interface Period {
  /** The first instant of the period. */
  from: Date;
  /** The first instant after it: the period is [from, to). */
  to: Date;
  /** Its first and last calendar days in the zone, inclusive (what people typed, what files are named by). */
  firstDay: string;
  lastDay: string;
  timeZone: string;
}

export type PeriodResult = { ok: true; period: Period } | { ok: false; fields: Record<string, string> };

/**
 * A period of whole days in `zone`: a preset relative to `now` (weeks start on
 * Monday), or custom days `from`–`to`, both inclusive.
 */
export function resolvePeriod(input: { preset: PeriodPreset; from?: string | null; to?: string | null }, zone: string, now: Date): PeriodResult {
  const today = zonedDay(now, zone);
  let first: string;
  let last: string;
  switch (input.preset) {
    case "today":
      first = last = today;
      break;
    case "yesterday":
      first = last = addDays(today, -1);
      break;
    case "this_week":
      first = addDays(today, -weekdayOf(today));
      last = addDays(first, 6);
      break;
    case "last_week":
      first = addDays(today, -weekdayOf(today) - 7);
      last = addDays(first, 6);
      break;
    case "this_month":
      first = firstOfMonth(today);
      last = addDays(firstOfMonth(today, 1), -1);
      break;
    case "last_month":
      first = firstOfMonth(today, -1);
      last = addDays(firstOfMonth(today), -1);
      break;
    case "custom": {
      const fields: Record<string, string> = {};
      if (!input.from) fields.from = "Enter the first day of the period, e.g. 2026-05-01";
      else if (!isDay(input.from)) fields.from = `Use a real date like 2026-05-01, from ${EARLIEST_DAY} to ${LATEST_DAY}`;
      if (!input.to) fields.to = "Enter the last day of the period, e.g. 2026-05-31";
      else if (!isDay(input.to)) fields.to = `Use a real date like 2026-05-31, from ${EARLIEST_DAY} to ${LATEST_DAY}`;
      if (Object.keys(fields).length === 0 && input.to! < input.from!) fields.to = `The last day cannot be before the first day (${input.from})`;
      if (Object.keys(fields).length > 0) return { ok: false, fields };
      first = input.from!;
      last = input.to!;
      break;
    }
  }
  return { ok: true, period: { from: startOfDay(first, zone), to: startOfDay(addDays(last, 1), zone), firstDay: first, lastDay: last, timeZone: zone } };
}

// ─── Showing times ───────────────────────────────────────────────────────────

/** "+01:00": an offset in ms as people write it. */
export function offsetLabel(offsetMs: number): string {
  const sign = offsetMs < 0 ? "-" : "+";
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * An instant as the zone's clock shows it, naming the zone and its offset
 * then, so no time is ever shown without saying whose it is:
 * "29 Mar 2026, 02:00:00 Europe/London (UTC+01:00)", "1 May 2026, 00:00:00 UTC".
 */
export function formatInZone(instant: Date, zone: string): string {
  const w = wallClockOf(instant, zone);
  const clock = `${w.day} ${MONTHS[w.month - 1]} ${w.year}, ${String(w.hour).padStart(2, "0")}:${String(w.minute).padStart(2, "0")}:${String(w.second).padStart(2, "0")}`;
  if (zone === "UTC" || zone === "Etc/UTC") return `${clock} UTC`;
  return `${clock} ${zone} (UTC${offsetLabel(offsetMsAt(instant, zone))})`;
}

/** An inclusive run of days as people say it: "1 May 2026", "1 May 2026 – 31 May 2026". */
export function formatDays(firstDay: string, lastDay: string): string {
  const one = (day: string) => {
    const { year, month, day: d } = splitDay(day);
    return `${d} ${MONTHS[month - 1]} ${year}`;
  };
  return firstDay === lastDay ? one(firstDay) : `${one(firstDay)} – ${one(lastDay)}`;
}

// ─── The balance identity ────────────────────────────────────────────────────

/**
 * closing − (opening − paid − fees + reversals): the money that moved without
 * a payout the desk knows of (top-ups, charges it never saw). Finance checks
 * opening − paid − fees + reversals + unexplained = closing to the minor unit.
 */
export function unexplainedMovement(m: { openingMinor: bigint; paidMinor: bigint; feesMinor: bigint; reversalsMinor: bigint; closingMinor: bigint }): bigint {
  return m.closingMinor - (m.openingMinor - m.paidMinor - m.feesMinor + m.reversalsMinor);
}

// ─── File names ──────────────────────────────────────────────────────────────

/** Lower-case ASCII words joined by dashes: safe in any file system and any Content-Disposition. */
export function slug(text: string): string {
  const words = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return words.slice(0, 60).replace(/-+$/, "") || "export";
}

/** `<connection>-<currency>-<from>-<to>.<ext>`, slugged; "all" for all connections or currencies. */
export function exportFileName(parts: { connection: string | null; currency: string | null; firstDay: string; lastDay: string; extension: string }): string {
  const connection = parts.connection === null ? "all" : slug(parts.connection);
  const currency = parts.currency === null ? "all" : slug(parts.currency);
  return `${connection}-${currency}-${parts.firstDay}-${parts.lastDay}.${parts.extension.replace(/^\./, "")}`;
}
