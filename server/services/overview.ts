import type { Desk } from "./types";

/** Counts by status and today's totals per currency, for the Overview page. */
export async function overview(desk: Desk) {
  const since = new Date();
  since.setUTCHours(0, 0, 0, 0);
  const [byStatus, today, attention] = await Promise.all([
    desk.db.payout.groupBy({ by: ["status"], _count: { _all: true } }),
    desk.db.payout.groupBy({
      by: ["currency", "status"],
      where: { createdAt: { gte: since } },
      _sum: { amountMinor: true },
      _count: { _all: true },
    }),
    desk.db.payout.count({ where: { attentionSince: { not: null } } }),
  ]);
  return {
    attention,
    byStatus: Object.fromEntries(byStatus.map((r) => [r.status, r._count._all])) as Record<string, number>,
    today: today.map((r) => ({ currency: r.currency, status: r.status, count: r._count._all, amountMinor: r._sum.amountMinor ?? 0n })),
  };
}
