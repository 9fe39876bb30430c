// Limits on what leaves through a connection, per currency: the most one
// payout may be (checked when a payout is created or edited, as a field error
// on its amount), and the totals approved in a day and in a month (checked
// before an approval makes a payout due, which it then holds with a message).
//
// The per-payout maximum is the smallest of: the provider's published limit
// where the connector knows one (else DESK_MAX_PAYOUT_MAJOR), the maximum an
// admin set on the connection (Connections → Limits), and the connection's
// daily and monthly totals (a payout alone over a total could never be approved).
import currencyCodes from "currency-codes";
import { currencyExponent, formatMoney, isKnownCurrency, MoneyError, parseAmount, toDecimalString } from "@/server/domain/money";
import { addDays, startOfDay, zonedDay } from "@/server/domain/statement";
import type { PayoutStatus } from "@/server/domain/payout-state";
import type { PayoutConnector } from "@/server/connectors/types";
import { connectionLimits, currencyLimits, type CurrencyLimits } from "./connection-settings";
import { generalSettings } from "./settings";
import type { Db, Tx } from "./types";

/** Major units of a payout's currency one payout may not exceed where the provider publishes no limit. */
export const DEFAULT_MAX_PAYOUT_MAJOR = 10_000_000n;
let reportedBadMaximum: string | undefined;

/** DESK_MAX_PAYOUT_MAJOR, read per call so a test or an operator's change needs no restart of this module. */
export function deskMaxPayoutMajor(env: NodeJS.ProcessEnv = process.env): bigint {
  const value = env.DESK_MAX_PAYOUT_MAJOR?.trim().replaceAll(/[,_]/g, "");
  if (!value) return DEFAULT_MAX_PAYOUT_MAJOR;
  if (/^[1-9]\d{0,14}$/.test(value)) return BigInt(value);
  if (reportedBadMaximum !== value) {
    reportedBadMaximum = value;
    console.error(`[payouts] DESK_MAX_PAYOUT_MAJOR must be a whole number of major units (1 to 15 digits), not "${value}"; using ${DEFAULT_MAX_PAYOUT_MAJOR}`);
  }
  return DEFAULT_MAX_PAYOUT_MAJOR;
}

/**
 * The ceiling a connection's own maximum may not exceed: the provider's
 * published per-payout maximum where the connector knows one, else the desk's
 * default. An admin may lower it per connection, never raise it: above the
 * provider's limit a payout would only fail there, and above the desk's the
 * operator's DESK_MAX_PAYOUT_MAJOR is what to change.
 */
export function payoutCeiling(connector: PayoutConnector, currency: string, channel: string | null): { maxMinor: bigint; source: "provider" | "desk" } {
  const published = connector.payoutMaximum?.(currency, channel) ?? null;
  if (published !== null) return { maxMinor: published, source: "provider" };
  return { maxMinor: deskMaxPayoutMajor() * 10n ** BigInt(currencyExponent(currency)), source: "desk" };
}

export type MaximumSource = "provider" | "desk" | "connection" | "daily" | "monthly";

/**
 * The most one payout may be on a connection, in minor units, and which rule
 * sets it. The one place this rule lives: creation, edits and (later) the bulk
 * file all ask here.
 */
export function payoutMaximum(
  connector: PayoutConnector,
  currency: string,
  channel: string | null,
  settings: unknown = {},
): { maxMinor: bigint; source: MaximumSource } {
  const ceiling = payoutCeiling(connector, currency, channel);
  const limits = currencyLimits(settings, currency);
  // Ties go to the earlier rule: a per-payout maximum reads better than "a day" when both say the same.
  const candidates: Array<{ maxMinor: bigint; source: MaximumSource }> = [ceiling];
  if (limits.maxPerPayoutMinor !== undefined) candidates.push({ maxMinor: limits.maxPerPayoutMinor, source: "connection" });
  if (limits.dailyMinor !== undefined) candidates.push({ maxMinor: limits.dailyMinor, source: "daily" });
  if (limits.monthlyMinor !== undefined) candidates.push({ maxMinor: limits.monthlyMinor, source: "monthly" });
  return candidates.reduce((least, c) => (c.maxMinor < least.maxMinor ? c : least));
}

/** Why this amount is over the connection's maximum, in words naming the limit and the amount; null when it is not. */
export function payoutLimitProblem(
  connection: { name: string; settings?: unknown },
  connector: PayoutConnector,
  amountMinor: bigint,
  currency: string,
  channel: string | null,
): string | null {
  const { maxMinor, source } = payoutMaximum(connector, currency, channel, connection.settings);
  if (amountMinor <= maxMinor) return null;
  const limit = formatMoney(maxMinor, currency);
  const amount = formatMoney(amountMinor, currency);
  switch (source) {
    case "daily":
      return `At most ${limit} a day on ${connection.name} (its daily total); this payout alone is ${amount}`;
    case "monthly":
      return `At most ${limit} a month on ${connection.name} (its monthly total); this payout alone is ${amount}`;
    case "connection":
      return `At most ${limit} per payout on ${connection.name} (the connection's limit); this is ${amount}`;
    case "desk":
      return `At most ${limit} per payout on ${connection.name} (the desk's limit); this is ${amount}`;
    case "provider":
      return `At most ${limit} per payout on ${connection.name}; this is ${amount}`;
  }
}

/**
 * Payouts that count towards a day's or a month's total: approved and not
 * known to have failed. A failed payout moved no money; one never approved
 * (pending, rejected, cancelled, expired) was never allowed to.
 */
export const COUNTED_STATUSES: readonly PayoutStatus[] = [
  "approved",
  "submitting",
  "processing",
  "provider_pending_approval",
  "unknown",
  "succeeded",
  "reversed",
];

interface PayoutToApprove {
  id: string;
  connectionId: string;
  currency: string;
  amountMinor: bigint;
}

/**
 * Why approving this payout now would take its connection's daily or monthly
 * total (in its currency) past the limit set on the connection, or null when
 * it would not. Call it inside the approval's transaction, just before the
 * approval that makes the payout due: it locks the connection while it counts
 * (only when the currency has a total), so two approvals at once cannot both
 * squeeze under the same total. Days and months are the desk's time zone
 * (Settings → General), counted by when payouts were approved.
 */
export async function limitsProblem(tx: Tx | Db, payout: PayoutToApprove, now: Date = new Date()): Promise<string | null> {
  return (await limitsProblems(tx, [payout], now)).get(payout.id) ?? null;
}

/**
 * The same for several payouts approved together (a batch): each is counted
 * with the ones before it in the list, so a batch cannot pass a total either.
 * Answers the held payouts, each with its message.
 */
export async function limitsProblems(tx: Tx | Db, payouts: readonly PayoutToApprove[], now: Date = new Date()): Promise<Map<string, string>> {
  const held = new Map<string, string>();
  const connectionIds = [...new Set(payouts.map((p) => p.connectionId))];
  if (connectionIds.length === 0) return held;
  const connections = new Map(
    (await tx.connection.findMany({ where: { id: { in: connectionIds } }, select: { id: true, name: true, settings: true } })).map((c) => [c.id, c]),
  );
  const limited = payouts.filter((p) => {
    const limits = currencyLimits(connections.get(p.connectionId)?.settings, p.currency);
    return limits.dailyMinor !== undefined || limits.monthlyMinor !== undefined;
  });
  if (limited.length === 0) return held;

  // Sorted: two batches locking the same connections never deadlock. FOR NO KEY
  // UPDATE, not FOR UPDATE, so payouts can still be created on the connection meanwhile.
  const lockIds = [...new Set(limited.map((p) => p.connectionId))].sort();
  await tx.$queryRaw`SELECT id FROM "Connection" WHERE id::text = ANY(${lockIds}::text[]) ORDER BY id FOR NO KEY UPDATE`;

  const { timeZone } = await generalSettings(tx);
  const period = periodsAt(now, timeZone);
  const used = new Map<string, { day: bigint; month: bigint }>();
  for (const payout of limited) {
    const connection = connections.get(payout.connectionId)!;
    const limits = currencyLimits(connection.settings, payout.currency);
    const key = `${payout.connectionId}|${payout.currency}`;
    let sums = used.get(key);
    if (!sums) {
      sums = await approvedTotals(tx, payout.connectionId, payout.currency, period);
      used.set(key, sums);
    }
    const problem = totalProblem(connection.name, payout, limits, sums, timeZone);
    if (problem) held.set(payout.id, problem);
    else {
      // Approved in this same transaction: the next one in the batch counts it.
      sums.day += payout.amountMinor;
      sums.month += payout.amountMinor;
    }
  }
  return held;
}

interface Periods {
  dayStart: Date;
  dayEnd: Date;
  monthStart: Date;
  monthEnd: Date;
}

/** Today and this month in the zone, as instants [start, end). */
export function periodsAt(now: Date, zone: string): Periods {
  const today = zonedDay(now, zone);
  const firstOfMonth = `${today.slice(0, 8)}01`;
  const [year, month] = today.split("-").map(Number) as [number, number];
  const firstOfNextMonth = new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 10);
  return {
    dayStart: startOfDay(today, zone),
    dayEnd: startOfDay(addDays(today, 1), zone),
    monthStart: startOfDay(firstOfMonth, zone),
    monthEnd: startOfDay(firstOfNextMonth, zone),
  };
}

async function approvedTotals(tx: Tx | Db, connectionId: string, currency: string, period: Periods): Promise<{ day: bigint; month: bigint }> {
  const base = { connectionId, currency, status: { in: [...COUNTED_STATUSES] } };
  const [day, month] = await Promise.all([
    tx.payout.aggregate({ _sum: { amountMinor: true }, where: { ...base, approvedAt: { gte: period.dayStart, lt: period.dayEnd } } }),
    tx.payout.aggregate({ _sum: { amountMinor: true }, where: { ...base, approvedAt: { gte: period.monthStart, lt: period.monthEnd } } }),
  ]);
  return { day: day._sum.amountMinor ?? 0n, month: month._sum.amountMinor ?? 0n };
}

function totalProblem(
  connectionName: string,
  payout: PayoutToApprove,
  limits: CurrencyLimits,
  used: { day: bigint; month: bigint },
  zone: string,
): string | null {
  const { currency, amountMinor } = payout;
  const m = (minor: bigint) => formatMoney(minor, currency);
  const check = (total: bigint | undefined, sum: bigint, what: "daily" | "monthly") => {
    if (total === undefined || sum + amountMinor <= total) return null;
    const today = what === "daily" ? "today" : "this month";
    const when = what === "daily" ? "tomorrow" : "next month";
    const already = sum > total ? `is already over it: ${m(sum)} approved ${today}` : `has ${m(sum)} approved ${today}`;
    return (
      `Held: the ${what} total for ${currency} on ${connectionName} is ${m(total)} and it ${already} (${zone}); ` +
      `this payout of ${m(amountMinor)} would take it to ${m(sum + amountMinor)}. ` +
      `It can be approved ${when}, or once an admin raises the total (Connections → ${connectionName} → Limits)`
    );
  };
  return check(limits.dailyMinor, used.day, "daily") ?? check(limits.monthlyMinor, used.month, "monthly");
}

// ─── The Connections form's Limits fieldset ──────────────────────────────────

/** What the form shows for one currency: amounts in major units as typed text. */
export interface LimitRow {
  currency: string;
  /** Prefilled with the provider's (or the desk's) maximum when the connection sets none. */
  maxPerPayout: string;
  daily: string;
  monthly: string;
  /** The maximum that applies when the field is blank, e.g. "2,000,000 UGX". */
  defaultMax: string;
  defaultSource: "provider" | "desk";
}

/** What the form sends for one currency; blank means "none of the connection's own". */
export interface LimitDraft {
  maxPerPayout: string;
  daily: string;
  monthly: string;
}

function ceilingOf(connector: PayoutConnector | null, currency: string) {
  if (connector) return payoutCeiling(connector, currency, null);
  return { maxMinor: deskMaxPayoutMajor() * 10n ** BigInt(currencyExponent(currency)), source: "desk" as const };
}

/**
 * The currencies a connection's form offers limits for: those it pays
 * (channels or declared payout currencies), those its provider publishes a
 * maximum for (probed over the ISO list: the connector answers from its own
 * table, no call goes out), those already limited, and `alsoCurrencies`
 * (those it has paid in). An admin can add another on the form.
 */
export function limitRows(connector: PayoutConnector | null, settings: unknown, alsoCurrencies: readonly string[] = []): LimitRow[] {
  const stored = connectionLimits(settings);
  const currencies = new Set<string>([...Object.keys(stored), ...alsoCurrencies]);
  if (connector) {
    for (const c of connector.payoutCurrencies?.() ?? connector.channels().map((ch) => ch.currency)) currencies.add(c);
    if (connector.payoutMaximum) for (const c of currencyCodes.codes()) if (connector.payoutMaximum(c, null) != null) currencies.add(c);
  }
  return [...currencies]
    .filter((c) => isKnownCurrency(c))
    .sort()
    .map((currency) => {
      const limits = stored[currency] ?? {};
      const ceiling = ceilingOf(connector, currency);
      const text = (minor: bigint | undefined) => (minor === undefined ? "" : toDecimalString(minor, currency));
      return {
        currency,
        maxPerPayout: text(limits.maxPerPayoutMinor ?? ceiling.maxMinor),
        daily: text(limits.dailyMinor),
        monthly: text(limits.monthlyMinor),
        defaultMax: formatMoney(ceiling.maxMinor, currency),
        defaultSource: ceiling.source,
      };
    });
}

const LIMIT_LABELS = { maxPerPayout: "Maximum per payout", daily: "Daily total", monthly: "Monthly total" } as const;

/**
 * The form's limits checked, as they will be stored; problems go into
 * `errors` under `limits.<currency>.<field>` with the field and the rule. A
 * maximum equal to the provider's (or desk's) is the default and is not
 * stored, so the prefilled value saved unchanged keeps following the provider.
 */
export function checkLimitDrafts(
  connector: PayoutConnector | null,
  drafts: Record<string, LimitDraft>,
  errors: Record<string, string>,
): Record<string, CurrencyLimits> {
  const out: Record<string, CurrencyLimits> = Object.create(null);
  for (const [typed, draft] of Object.entries(drafts)) {
    const currency = typed.trim().toUpperCase();
    const blank = !draft.maxPerPayout.trim() && !draft.daily.trim() && !draft.monthly.trim();
    if (!isKnownCurrency(currency)) {
      if (currency === "" && !blank) errors[`limits.${typed}.currency`] = "Currency: enter the ISO 4217 code these limits are for, e.g. UGX";
      else if (currency !== "") errors[`limits.${typed}.currency`] = `Currency: an ISO 4217 code such as ZMW or UGX; "${typed.slice(0, 8)}" is not one`;
      continue;
    }
    const parsed: Partial<Record<keyof LimitDraft, bigint>> = {};
    for (const field of ["maxPerPayout", "daily", "monthly"] as const) {
      const value = draft[field].trim();
      if (value === "") continue;
      const where = `${LIMIT_LABELS[field]} (${currency})`;
      try {
        const minor = parseAmount(value, currency);
        if (minor <= 0n) errors[`limits.${currency}.${field}`] = `${where} must be more than zero, or blank for none`;
        else parsed[field] = minor;
      } catch (error) {
        if (!(error instanceof MoneyError)) throw error;
        errors[`limits.${currency}.${field}`] = `${where}: ${error.message}`;
      }
    }
    const ceiling = ceilingOf(connector, currency);
    if (parsed.maxPerPayout !== undefined && parsed.maxPerPayout > ceiling.maxMinor) {
      errors[`limits.${currency}.maxPerPayout`] =
        ceiling.source === "provider"
          ? `Maximum per payout (${currency}): the provider publishes at most ${formatMoney(ceiling.maxMinor, currency)} per payout; a larger payout would only be refused there`
          : `Maximum per payout (${currency}): at most the desk's limit, ${formatMoney(ceiling.maxMinor, currency)} (DESK_MAX_PAYOUT_MAJOR); leave it there or lower it`;
    }
    if (parsed.daily !== undefined && parsed.monthly !== undefined && parsed.monthly < parsed.daily) {
      errors[`limits.${currency}.monthly`] = `Monthly total (${currency}) must be at least the daily total, ${formatMoney(parsed.daily, currency)}`;
    }
    const limits: CurrencyLimits = {};
    if (parsed.maxPerPayout !== undefined && parsed.maxPerPayout !== ceiling.maxMinor) limits.maxPerPayoutMinor = parsed.maxPerPayout;
    if (parsed.daily !== undefined) limits.dailyMinor = parsed.daily;
    if (parsed.monthly !== undefined) limits.monthlyMinor = parsed.monthly;
    if (Object.keys(limits).length > 0) out[currency] = limits;
  }
  return out;
}

/** Each changed limit as before → after in words, for the audit entry ("default" where none of the connection's own). */
export function limitChanges(before: unknown, after: unknown): Record<string, Record<string, { before: string; after: string }>> {
  const a = connectionLimits(before);
  const b = connectionLimits(after);
  const out: Record<string, Record<string, { before: string; after: string }>> = {};
  for (const currency of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    for (const key of ["maxPerPayoutMinor", "dailyMinor", "monthlyMinor"] as const) {
      const x = a[currency]?.[key];
      const y = b[currency]?.[key];
      if (x === y) continue;
      const words = (v: bigint | undefined) => (v === undefined ? (key === "maxPerPayoutMinor" ? "default" : "none") : formatMoney(v, currency));
      (out[currency] ??= {})[key.replace(/Minor$/, "")] = { before: words(x), after: words(y) };
    }
  }
  return out;
}
