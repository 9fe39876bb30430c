import type { Desk } from "./types";

/** What was paid today in one currency, with the fees the providers booked for it. */
export interface PaidToday {
  currency: string;
  amountMinor: bigint;
  count: number;
  /** Fees by the currency the provider charged them in (usually the payout's own). */
  fees: Array<{ currency: string; amountMinor: bigint; count: number }>;
  /** Paid payouts whose provider reported no fee: "not reported", never counted as 0. */
  feesNotReported: number;
}

/** Counts by status and today's totals per currency, for the Overview page. */
export async function overview(desk: Desk) {
  const since = new Date();
  since.setUTCHours(0, 0, 0, 0);
  const [byStatus, today, paid, attention] = await Promise.all([
    desk.db.payout.groupBy({ by: ["status"], _count: { _all: true } }),
    desk.db.payout.groupBy({
      by: ["currency", "status"],
      where: { createdAt: { gte: since } },
      _sum: { amountMinor: true },
      _count: { _all: true },
    }),
    // A simple aggregate over today's paid payouts, like the one above (a later issue moves the overview to rollups).
    desk.db.payout.groupBy({
      by: ["currency", "feeCurrency"],
      where: { createdAt: { gte: since }, status: "succeeded" },
      _sum: { amountMinor: true, feeMinor: true },
      _count: { _all: true },
    }),
    desk.db.payout.count({ where: { attentionSince: { not: null } } }),
  ]);
  return {
    attention,
    byStatus: Object.fromEntries(byStatus.map((r) => [r.status, r._count._all])) as Record<string, number>,
    today: today.map((r) => ({ currency: r.currency, status: r.status, count: r._count._all, amountMinor: r._sum.amountMinor ?? 0n })),
    paidToday: paidToday(paid.map((r) => ({ currency: r.currency, feeCurrency: r.feeCurrency, count: r._count._all, amountMinor: r._sum.amountMinor ?? 0n, feeMinor: r._sum.feeMinor }))),
  };
}

/** Folds (payout currency, fee currency) groups into one line per payout currency; a null fee currency means the fee was not reported. */
export function paidToday(groups: Array<{ currency: string; feeCurrency: string | null; count: number; amountMinor: bigint; feeMinor: bigint | null }>): PaidToday[] {
  const lines = new Map<string, PaidToday>();
  for (const group of groups) {
    let line = lines.get(group.currency);
    if (!line) lines.set(group.currency, (line = { currency: group.currency, amountMinor: 0n, count: 0, fees: [], feesNotReported: 0 }));
    line.amountMinor += group.amountMinor;
    line.count += group.count;
    if (group.feeCurrency === null || group.feeMinor === null) line.feesNotReported += group.count;
    else line.fees.push({ currency: group.feeCurrency, amountMinor: group.feeMinor, count: group.count });
  }
  for (const line of lines.values()) line.fees.sort((a, b) => a.currency.localeCompare(b.currency));
  return [...lines.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}
