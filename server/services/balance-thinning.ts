// Thinning of balance snapshots (issue 10): the schedule reads every
// connection's balances every few minutes (105,120 reads a year at the default
// 300 s), which nobody looks at one by one once they are old. Older reads are
// thinned, per connection and currency, keeping the chart's shape:
//
// - older than 7 days: per hour, the hour's LAST read, plus its LOWEST and its
//   HIGHEST (by the read's total over its wallets): at most 3 reads an hour;
// - older than 90 days: the same per day: at most 3 reads a day.
//
// A read is all the rows of one answer (one `at`); a read is kept or dropped
// whole, so a kept point still sums every wallet. Hours and days are the
// desk's time zone (Settings → General), so the last read of a day is exactly
// the read a statement takes as that day's closing (and the next day's
// opening) balance: thinning never changes a statement of whole days, nor, in
// the hourly tier, the balance at any hour's boundary. The lowest and highest
// keep dips and peaks on the chart (a wallet that ran dry for twenty minutes
// still shows it). Only whole buckets are thinned (an hour or day that
// straddles the cut-off waits until it is entirely past it), so thinning is
// idempotent: a second run with the same clock deletes nothing.
// The latest balance never depends on thinning (BalanceLatest), and the
// newest read of each currency is always the last of its bucket.
import { generalSettings } from "./settings";
import type { Desk } from "./types";

export const THIN_TO_HOURLY_AFTER_DAYS = 7;
export const THIN_TO_DAILY_AFTER_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ThinningOutcome {
  /** Snapshot rows deleted per tier. */
  hourlyDeleted: number;
  dailyDeleted: number;
  timeZone: string;
}

/**
 * Thins every connection's snapshots as of `now`. Safe to run from several
 * processes at once: each computes the same reads to keep, and a row another
 * process already deleted is simply not deleted twice.
 */
export async function thinBalanceSnapshots(desk: Pick<Desk, "db">, now: Date = new Date()): Promise<ThinningOutcome> {
  const { timeZone } = await generalSettings(desk.db);
  const hourlyDeleted = await thinTier(desk, "hour", new Date(now.getTime() - THIN_TO_HOURLY_AFTER_DAYS * DAY_MS), timeZone);
  const dailyDeleted = await thinTier(desk, "day", new Date(now.getTime() - THIN_TO_DAILY_AFTER_DAYS * DAY_MS), timeZone);
  return { hourlyDeleted, dailyDeleted, timeZone };
}

/** Snapshots are thinned a week (of whole local days) per statement, so no statement holds the database long. */
const WINDOW_DAYS = 7;

async function thinTier(desk: Pick<Desk, "db">, unit: "hour" | "day", before: Date, timeZone: string): Promise<number> {
  // One short statement per week of snapshots, oldest first, rather than one
  // over the whole history: the embedded PGlite answers one query at a time,
  // and a year's first thinning in one statement would hold every page of the
  // desk for tens of seconds. A window runs from a local midnight to the next
  // week's, so it holds whole hours and whole days.
  // Where this process already thinned this tier (and zone) up to, a day of
  // margin kept: an hourly run then reads the last day or so, not the year.
  const done = thinnedThrough(desk).get(`${unit}|${timeZone}`);
  const since = done ? new Date(done.getTime() - DAY_MS) : new Date(0);
  const [first] = await desk.db.$queryRaw<{ oldest: Date | null }[]>`
    SELECT min("at") AS oldest FROM "BalanceSnapshot" WHERE "at" >= ${since}::timestamptz AND "at" < ${before}::timestamptz`;
  let from = first?.oldest ?? null;
  let deleted = 0;
  while (from && from < before) {
    const [window] = await desk.db.$queryRaw<{ start: Date; end: Date }[]>`
      SELECT (date_trunc('day', ${from}::timestamptz AT TIME ZONE ${timeZone}::text) AT TIME ZONE ${timeZone}::text) AS "start",
             ((date_trunc('day', ${from}::timestamptz AT TIME ZONE ${timeZone}::text) + make_interval(days => ${WINDOW_DAYS}::int)) AT TIME ZONE ${timeZone}::text) AS "end"`;
    const end = window!.end < before ? window!.end : before;
    deleted += await thinWindow(desk, unit, window!.start, end, before, timeZone);
    from = window!.end;
  }
  thinnedThrough(desk).set(`${unit}|${timeZone}`, before);
  return deleted;
}

// Per database handle and process: how far each tier has been thinned. A new
// process (or a changed zone) thins the whole history once.
const thinnedKey = Symbol.for("payout-desk.balance-thinned-through");
type ThinnedHolder = { [thinnedKey]?: WeakMap<object, Map<string, Date>> };

function thinnedThrough(desk: Pick<Desk, "db">): Map<string, Date> {
  const holder = globalThis as ThinnedHolder;
  const byDb = (holder[thinnedKey] ??= new WeakMap());
  let map = byDb.get(desk.db);
  if (!map) byDb.set(desk.db, (map = new Map()));
  return map;
}

async function thinWindow(desk: Pick<Desk, "db">, unit: "hour" | "day", start: Date, end: Date, before: Date, timeZone: string): Promise<number> {
  // Buckets are local hours/days of the desk's zone; `at AT TIME ZONE zone`
  // is the local wall-clock time. Only buckets wholly before `before`.
  return desk.db.$executeRaw`
    WITH reads AS (
      SELECT "connectionId", "currency", "at", SUM("amountMinor") AS total,
             date_trunc(${unit}::text, "at" AT TIME ZONE ${timeZone}::text) AS bucket
      FROM "BalanceSnapshot"
      WHERE "at" >= ${start}::timestamptz AND "at" < ${end}::timestamptz
      GROUP BY "connectionId", "currency", "at"
    ), ranked AS (
      SELECT "connectionId", "currency", "at",
             row_number() OVER (PARTITION BY "connectionId", "currency", bucket ORDER BY "at" DESC) AS by_last,
             row_number() OVER (PARTITION BY "connectionId", "currency", bucket ORDER BY total ASC, "at" DESC) AS by_low,
             row_number() OVER (PARTITION BY "connectionId", "currency", bucket ORDER BY total DESC, "at" DESC) AS by_high
      FROM reads
      WHERE bucket < date_trunc(${unit}::text, ${before}::timestamptz AT TIME ZONE ${timeZone}::text)
    )
    DELETE FROM "BalanceSnapshot" s
    USING ranked r
    WHERE s."connectionId" = r."connectionId" AND s."currency" = r."currency" AND s."at" = r."at"
      AND r.by_last > 1 AND r.by_low > 1 AND r.by_high > 1`;
}
