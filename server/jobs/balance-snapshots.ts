// Balance snapshots on a schedule: every process that runs workers reads the
// providers' balances every few minutes (DESK_BALANCE_EVERY_SECONDS, default
// 300). A plain timer like the sweeper's rather than a queue job: a missed or
// doubled read costs one provider call and one row, never money.
import type { Desk } from "@/server/services/types";
import { refreshBalances } from "@/server/services/balances";
import { thinBalanceSnapshots } from "@/server/services/balance-thinning";

const DEFAULT_EVERY_SECONDS = 300;
/** The first read soon after start, so a fresh desk shows balances without waiting a whole period. */
const FIRST_READ_AFTER_SECONDS = 15;
/** Old snapshots are thinned (hourly after 7 days, daily after 90) this often, and once soon after start. */
const THIN_EVERY_SECONDS = 3600;
const FIRST_THIN_AFTER_SECONDS = 60;

export function balanceEverySeconds(env: Record<string, string | undefined> = process.env): number {
  const value = env.DESK_BALANCE_EVERY_SECONDS;
  if (value === undefined || value === "") return DEFAULT_EVERY_SECONDS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 10) {
    throw new Error(`DESK_BALANCE_EVERY_SECONDS must be a number of seconds, 10 or more, not "${value}"`);
  }
  return seconds;
}

/** Starts the schedule; returns the function that stops it. */
export function startBalanceSnapshots(desk: Desk, everySeconds = balanceEverySeconds()): () => void {
  const read = () => {
    // refreshBalances reports each provider's failure itself; this catches only the desk's own (database) trouble.
    refreshBalances(desk).catch((error) => console.error("[jobs] balance snapshots failed", error));
  };
  const thin = () => {
    thinBalanceSnapshots(desk).catch((error) => console.error("[jobs] thinning balance snapshots failed", error));
  };
  const first = setTimeout(read, Math.min(everySeconds, FIRST_READ_AFTER_SECONDS) * 1000);
  const timer = setInterval(read, everySeconds * 1000);
  const firstThin = setTimeout(thin, FIRST_THIN_AFTER_SECONDS * 1000);
  const thinTimer = setInterval(thin, THIN_EVERY_SECONDS * 1000);
  for (const t of [first, timer, firstThin, thinTimer]) t.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
    clearTimeout(firstThin);
    clearInterval(thinTimer);
  };
}
