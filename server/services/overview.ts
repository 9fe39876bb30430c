// The Overview a finance lead opens first. Everything counted comes from the
// payout rollups (payout-rollups.ts), never from a count of the payouts
// table; what the rollups cannot answer is a small indexed query bounded by
// the period or a recent window:
//   - failures by reason: failed payouts created in the period (status, createdAt index);
//   - approval-to-final times: the histogram of payouts finalised in the
//     period (PayoutTimingRollup, a few hundred rows a day at most);
//   - needs attention: the sweeper's flags (attentionSince index), approvals
//     expiring soon (approvalExpiresAt index), balance read failures (one row
//     per connection), unresolved exceptions of each connection's latest run;
//   - connector health: the recorded provider calls and callbacks of the last
//     24 hours ((connectionId, at) and (connectionId, verified, receivedAt)
//     indexes); payouts in flight counted from the rollups, the longest in
//     flight from the (connectionId, status, submittedAt) index.
// Days are UTC days; a payout's day is the day it was created (the list's from/to).
import { Prisma } from "@/server/db/generated/client";
import { IN_FLIGHT_STATUSES, PAYOUT_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import { EXCEPTION_KINDS } from "@/server/domain/reconciliation";
import { ATTENTION_REASONS } from "./payout-work";
import { countOutcomeWork } from "./outcomes";
import { FieldErrors } from "./errors";
import { timingPercentiles } from "./payout-rollups";
import type { Desk } from "./types";

/** What was paid today in one currency, with the fees the providers booked for it. */
export interface PaidToday {
  currency: string;
  amountMinor: bigint;
  count: number;
  /** Fees reported in the payout's own currency (the rollups sum those). */
  fees: Array<{ currency: string; amountMinor: bigint; count: number }>;
  /** Paid payouts whose provider reported no fee: "not reported", never counted as 0. */
  feesNotReported: number;
  /** Paid payouts whose fee was reported in another currency (left out of `fees`); absent when none. */
  feesOtherCurrency?: number;
}

/** The longest period the overview reads at once. */
export const MAX_PERIOD_DAYS = 366;
/** The period when none is asked for: the last 14 days, today included. */
export const DEFAULT_PERIOD_DAYS = 14;
/** Connector health looks at this much recent time. */
export const HEALTH_WINDOW_HOURS = 24;
/** A payout waiting for approval whose window ends within this is "about to expire". */
export const EXPIRING_WITHIN_HOURS = 24;

export interface Period {
  /** First UTC day, YYYY-MM-DD. */
  from: string;
  /** Last UTC day (included), YYYY-MM-DD. */
  to: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const dayText = (d: Date) => d.toISOString().slice(0, 10);

function parseDay(value: string, field: string, problems: Record<string, string>): Date | null {
  const date = DAY.test(value) ? new Date(`${value}T00:00:00.000Z`) : null;
  if (!date || Number.isNaN(date.getTime()) || dayText(date) !== value) {
    problems[field] = "Must be a date written YYYY-MM-DD, e.g. 2026-12-01";
    return null;
  }
  return date;
}

/** The period asked for, checked (field errors name the field and the rule), or the default one ending today. */
export function overviewPeriod(input: { from?: string | null; to?: string | null } = {}, now = new Date()): Period & { start: Date; end: Date } {
  const problems: Record<string, string> = {};
  const today = new Date(`${dayText(now)}T00:00:00.000Z`);
  const to = input.to ? parseDay(input.to, "to", problems) : today;
  const from = input.from ? parseDay(input.from, "from", problems) : to ? new Date(to.getTime() - (DEFAULT_PERIOD_DAYS - 1) * 86_400_000) : null;
  if (from && to && from > to) problems.from = `Must be on or before the "to" date (${dayText(to)})`;
  if (from && to && !problems.from && (to.getTime() - from.getTime()) / 86_400_000 + 1 > MAX_PERIOD_DAYS) {
    problems.from = `The period may be at most ${MAX_PERIOD_DAYS} days`;
  }
  if (Object.keys(problems).length > 0 || !from || !to) throw new FieldErrors(problems);
  return { from: dayText(from), to: dayText(to), start: from, end: new Date(to.getTime() + 86_400_000) };
}

interface RollupSums {
  count: number;
  amountMinor: bigint;
  feeMinor: bigint;
  feeCount: number;
  feeOtherCount: number;
}

/** Counts and sums by status, paid per day by connection, success rate per day, for the period; read from the rollups. */
export async function overview(desk: Desk, input: { from?: string | null; to?: string | null } = {}, now = new Date()) {
  const period = overviewPeriod(input, now);
  const today = dayText(now);
  const [allTime, inPeriod, failures, approvalToFinal, attention, connections] = await Promise.all([
    // Every day there is: a few rows per day, connection, currency and status.
    desk.db.$queryRaw<Array<{ status: PayoutStatus; count: number }>>`
      SELECT status, sum(count)::int AS count FROM "PayoutRollup" GROUP BY status`,
    desk.db.$queryRaw<Array<{ day: string; connectionId: string; currency: string; status: PayoutStatus } & RollupSums>>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day, "connectionId"::text AS "connectionId", currency, status,
             sum(count)::int AS count, sum("amountMinor")::bigint AS "amountMinor", sum("feeMinor")::bigint AS "feeMinor",
             sum("feeCount")::int AS "feeCount", sum("feeOtherCount")::int AS "feeOtherCount"
      FROM "PayoutRollup"
      WHERE day >= ${period.from}::date AND day <= ${period.to}::date
      GROUP BY day, "connectionId", currency, status
      HAVING sum(count) <> 0
      ORDER BY day`,
    failuresByReason(desk, period),
    approvalToFinalTimes(desk, period),
    desk.db.payout.count({ where: { attentionSince: { not: null } } }),
    desk.db.connection.findMany({ select: { id: true, name: true, provider: true }, orderBy: { name: "asc" } }),
  ]);

  const byStatus = Object.fromEntries(PAYOUT_STATUSES.map((s) => [s, 0])) as Record<PayoutStatus, number>;
  for (const row of allTime) byStatus[row.status] = row.count;

  // Per status and currency over the period (count and amount).
  const periodByStatus = new Map<string, { status: PayoutStatus; currency: string; count: number; amountMinor: bigint }>();
  const paidPerDay = new Map<string, { day: string; connectionId: string; currency: string; count: number; amountMinor: bigint }>();
  const outcomesPerDay = new Map<string, { day: string; succeeded: number; failed: number; reversed: number }>();
  const todayPaid = new Map<string, PaidToday>();
  for (const row of inPeriod) {
    const key = `${row.status}|${row.currency}`;
    const line = periodByStatus.get(key) ?? { status: row.status, currency: row.currency, count: 0, amountMinor: 0n };
    line.count += row.count;
    line.amountMinor += row.amountMinor;
    periodByStatus.set(key, line);
    if (row.status === "succeeded") {
      const paidKey = `${row.day}|${row.connectionId}|${row.currency}`;
      const paid = paidPerDay.get(paidKey) ?? { day: row.day, connectionId: row.connectionId, currency: row.currency, count: 0, amountMinor: 0n };
      paid.count += row.count;
      paid.amountMinor += row.amountMinor;
      paidPerDay.set(paidKey, paid);
    }
    if (row.status === "succeeded" || row.status === "failed" || row.status === "reversed") {
      const day = outcomesPerDay.get(row.day) ?? { day: row.day, succeeded: 0, failed: 0, reversed: 0 };
      day[row.status] += row.count;
      outcomesPerDay.set(row.day, day);
    }
    if (row.status === "succeeded" && row.day === today) {
      const paid = todayPaid.get(row.currency) ?? { currency: row.currency, amountMinor: 0n, count: 0, fees: [], feesNotReported: 0 };
      paid.amountMinor += row.amountMinor;
      paid.count += row.count;
      if (row.feeCount > 0) {
        const fee = paid.fees[0] ?? { currency: row.currency, amountMinor: 0n, count: 0 };
        fee.amountMinor += row.feeMinor;
        fee.count += row.feeCount;
        paid.fees[0] = fee;
      }
      paid.feesNotReported += row.count - row.feeCount - row.feeOtherCount;
      if (row.feeOtherCount > 0) paid.feesOtherCurrency = (paid.feesOtherCurrency ?? 0) + row.feeOtherCount;
      todayPaid.set(row.currency, paid);
    }
  }

  return {
    period: { from: period.from, to: period.to },
    today,
    attention,
    byStatus,
    /** Per status and currency, payouts created in the period. */
    periodByStatus: [...periodByStatus.values()].sort((a, b) => a.currency.localeCompare(b.currency) || a.status.localeCompare(b.status)),
    paidToday: [...todayPaid.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    /** Paid payouts per day of creation, connection and currency. */
    paidPerDay: [...paidPerDay.values()].sort((a, b) => a.day.localeCompare(b.day) || a.connectionId.localeCompare(b.connectionId)),
    /** Of the payouts created each day that reached a provider's final word: how many were paid (reversed counts as not paid). */
    successPerDay: [...outcomesPerDay.values()]
      .sort((a, b) => a.day.localeCompare(b.day))
      .map((d) => ({ ...d, rate: d.succeeded / (d.succeeded + d.failed + d.reversed) })),
    failuresByReason: failures,
    approvalToFinal,
    connections,
  };
}

export type OverviewSummary = Awaited<ReturnType<typeof overview>>;

/** Failed payouts created in the period, by the provider's failure code (indexed: status, createdAt). */
async function failuresByReason(desk: Desk, period: { start: Date; end: Date }) {
  const rows = await desk.db.$queryRaw<Array<{ code: string | null; message: string | null; count: number }>>`
    SELECT "failureCode" AS code, min("failureMessage") AS message, count(*)::int AS count
    FROM "Payout"
    WHERE status = 'failed' AND "createdAt" >= ${period.start} AND "createdAt" < ${period.end}
    GROUP BY "failureCode"
    ORDER BY count(*) DESC, "failureCode"
    LIMIT 12`;
  return rows;
}

/**
 * Time from approval to a final status, for payouts finalised in the period:
 * median and 95th percentile, in seconds, from the histogram written as each
 * payout is finalised (payout-rollups.ts: buckets about 5 % wide, so within
 * 2.5 % of the exact figure). A payout never approved (rejected, expired) is not counted.
 */
async function approvalToFinalTimes(desk: Desk, period: { from: string; to: string }) {
  const buckets = await desk.db.$queryRaw<Array<{ bucket: number; count: number }>>`
    SELECT bucket, sum(count)::int AS count FROM "PayoutTimingRollup"
    WHERE day >= ${period.from}::date AND day <= ${period.to}::date
    GROUP BY bucket HAVING sum(count) > 0 ORDER BY bucket`;
  return timingPercentiles(buckets);
}

/** What a person should look at now, each with where to look. */
export async function needsAttention(desk: Desk, now = new Date()) {
  const expiringBy = new Date(now.getTime() + EXPIRING_WITHIN_HOURS * 3600_000);
  const [flags, outcomesUnknown, expiring, balanceFailures, latestRuns] = await Promise.all([
    // The sweeper's flags (payout-work.ts): not sent, status check overdue, in flight too long.
    desk.db.payout.groupBy({ by: ["attentionReason"], where: { attentionSince: { not: null } }, _count: { _all: true } }),
    countOutcomeWork(desk),
    desk.db.payout.count({ where: { status: "pending_approval", approvalExpiresAt: { gt: now, lte: expiringBy } } }),
    desk.db.balanceReadFailure.findMany({ select: { connectionId: true, message: true, at: true, connection: { select: { name: true } } }, orderBy: { at: "desc" } }),
    // Each connection's latest finished run: its unresolved exceptions are the open ones (earlier runs' are carried into it).
    desk.db.$queryRaw<Array<{ id: string; connectionId: string }>>`
      SELECT DISTINCT ON ("connectionId") id::text AS id, "connectionId"::text AS "connectionId"
      FROM "ReconciliationRun" WHERE status = 'done'
      ORDER BY "connectionId", "createdAt" DESC`,
  ]);
  const exceptions =
    latestRuns.length === 0
      ? 0
      : await desk.db.reconciliationItem.count({ where: { runId: { in: latestRuns.map((r) => r.id) }, resolvedAt: null, kind: { in: [...EXCEPTION_KINDS] } } });
  const flagged = Object.fromEntries(flags.map((f) => [f.attentionReason ?? "other", f._count._all])) as Record<string, number>;
  return {
    items: [
      { key: "outcome_unknown", label: "Outcomes unknown", count: outcomesUnknown, href: "/outcomes" },
      { key: "stuck", label: ATTENTION_REASONS.stuck, count: flagged.stuck ?? 0, href: "/payouts?attention=1" },
      { key: "check_overdue", label: ATTENTION_REASONS.check_overdue, count: flagged.check_overdue ?? 0, href: "/payouts?attention=1" },
      { key: "not_sent", label: ATTENTION_REASONS.not_sent, count: flagged.not_sent ?? 0, href: "/payouts?status=approved&attention=1" },
      { key: "expiring", label: `Approvals expiring within ${EXPIRING_WITHIN_HOURS} h`, count: expiring, href: "/approvals" },
      { key: "balance_reads", label: "Failed balance reads", count: balanceFailures.length, href: "/balances" },
      { key: "reconciliation", label: "Unresolved reconciliation exceptions", count: exceptions, href: "/reconciliation" },
    ],
    balanceFailures: balanceFailures.map((f) => ({ connectionId: f.connectionId, connectionName: f.connection.name, message: f.message, at: f.at })),
  };
}

// The in-flight statuses written into the SQL as literals (our own constants):
// a plain IN list the planner matches to the status index on PostgreSQL, and
// no enum array parameter, which the embedded PGlite sends as a bare string.
const IN_FLIGHT_SQL = Prisma.raw([...IN_FLIGHT_STATUSES].map((s) => `'${s}'::"PayoutStatus"`).join(", "));

/** How a recorded provider call went wrong, if it did. */
export type CallErrorKind = "timeout" | "server_error" | "refused" | "network";

/**
 * Per connection over the last HEALTH_WINDOW_HOURS: provider latency (p50,
 * p95), errors by kind (timeouts, 5xx, refusals = other 4xx, network), the
 * lag from sending to the provider's callback, the oldest payout in flight,
 * and the success rate of payouts created in that window (rollups).
 */
export async function connectorHealth(desk: Desk, now = new Date()) {
  const since = new Date(now.getTime() - HEALTH_WINDOW_HOURS * 3600_000);
  const connections = await desk.db.connection.findMany({ select: { id: true, name: true, provider: true, enabled: true }, orderBy: { name: "asc" } });
  const ids = connections.map((c) => c.id);
  if (ids.length === 0) return { windowHours: HEALTH_WINDOW_HOURS, connections: [] };
  const [calls, callbacks, inFlight, outcomes] = await Promise.all([
    // One index range per connection (connectionId, at).
    desk.db.$queryRaw<
      Array<{ connectionId: string; calls: number; p50: number | null; p95: number | null; timeouts: number; server_errors: number; refusals: number; network: number }>
    >`
      SELECT c.id::text AS "connectionId", s.*
      FROM "Connection" c
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS calls,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY pc."latencyMs")::float8 AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY pc."latencyMs")::float8 AS p95,
               count(*) FILTER (WHERE pc."httpStatus" IS NULL AND pc.error LIKE 'timed out%')::int AS timeouts,
               count(*) FILTER (WHERE pc."httpStatus" >= 500)::int AS server_errors,
               count(*) FILTER (WHERE pc."httpStatus" >= 400 AND pc."httpStatus" < 500)::int AS refusals,
               count(*) FILTER (WHERE pc."httpStatus" IS NULL AND pc.error IS NOT NULL AND pc.error NOT LIKE 'timed out%')::int AS network
        FROM "ProviderCall" pc WHERE pc."connectionId" = c.id AND pc.at >= ${since}
      ) s
      WHERE c.id = ANY(${ids}::uuid[])`,
    // Verified callbacks of the window about a sent payout: how long after sending they came (recorded on receipt).
    desk.db.$queryRaw<Array<{ connectionId: string; callbacks: number; p50: number | null; p95: number | null }>>`
      SELECT c.id::text AS "connectionId", s.*
      FROM "Connection" c
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS callbacks,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY cr."sinceSentMs" / 1000.0)::float8 AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY cr."sinceSentMs" / 1000.0)::float8 AS p95
        FROM "CallbackReceipt" cr
        WHERE cr."connectionId" = c.id AND cr.verified AND cr."receivedAt" >= ${since} AND cr."sinceSentMs" IS NOT NULL
      ) s
      WHERE c.id = ANY(${ids}::uuid[])`,
    // In flight: counted from the rollups; the longest in flight, per
    // connection and in-flight status, is the first entry of the
    // (connectionId, status, submittedAt) index. Neither reads the payouts in
    // flight one by one, however many there are.
    desk.db.$queryRaw<Array<{ connectionId: string; count: number; oldestCreatedAt: Date | null; oldestSubmittedAt: Date | null }>>`
      SELECT c.id::text AS "connectionId", n.count, o."createdAt" AS "oldestCreatedAt", o."submittedAt" AS "oldestSubmittedAt"
      FROM "Connection" c
      CROSS JOIN LATERAL (
        SELECT coalesce(sum(r.count), 0)::int AS count FROM "PayoutRollup" r WHERE r."connectionId" = c.id AND r.status IN (${IN_FLIGHT_SQL})
      ) n
      LEFT JOIN LATERAL (
        SELECT f."createdAt", f."submittedAt" FROM (${Prisma.join(
          [...IN_FLIGHT_STATUSES].map(
            (status) => Prisma.sql`(SELECT p."createdAt", p."submittedAt" FROM "Payout" p
              WHERE p."connectionId" = c.id AND p.status = ${Prisma.raw(`'${status}'::"PayoutStatus"`)} ORDER BY p."submittedAt" LIMIT 1)`,
          ),
          " UNION ALL ",
        )}) AS f
        ORDER BY f."submittedAt" NULLS LAST, f."createdAt" LIMIT 1
      ) o ON true
      WHERE c.id = ANY(${ids}::uuid[]) AND n.count > 0`,
    desk.db.$queryRaw<Array<{ connectionId: string; status: PayoutStatus; count: number }>>`
      SELECT "connectionId"::text AS "connectionId", status, sum(count)::int AS count
      FROM "PayoutRollup"
      WHERE day >= ${dayText(since)}::date AND status IN ('succeeded', 'failed', 'reversed')
      GROUP BY "connectionId", status`,
  ]);
  return {
    windowHours: HEALTH_WINDOW_HOURS,
    connections: connections.map((c) => {
      const call = calls.find((r) => r.connectionId === c.id);
      const callback = callbacks.find((r) => r.connectionId === c.id);
      const flight = inFlight.find((r) => r.connectionId === c.id);
      const ended = outcomes.filter((r) => r.connectionId === c.id);
      const succeeded = ended.find((r) => r.status === "succeeded")?.count ?? 0;
      const finished = ended.reduce((sum, r) => sum + r.count, 0);
      const total = call?.calls ?? 0;
      const rate = (n: number) => (total > 0 ? n / total : null);
      return {
        ...c,
        successRate: finished > 0 ? succeeded / finished : null,
        finished,
        calls: total,
        latencyMs: { p50: call?.p50 ?? null, p95: call?.p95 ?? null },
        errors: {
          timeout: { count: call?.timeouts ?? 0, rate: rate(call?.timeouts ?? 0) },
          server_error: { count: call?.server_errors ?? 0, rate: rate(call?.server_errors ?? 0) },
          refused: { count: call?.refusals ?? 0, rate: rate(call?.refusals ?? 0) },
          network: { count: call?.network ?? 0, rate: rate(call?.network ?? 0) },
        } satisfies Record<CallErrorKind, { count: number; rate: number | null }>,
        callbackLagSeconds: { count: callback?.callbacks ?? 0, p50: callback?.p50 ?? null, p95: callback?.p95 ?? null },
        inFlight: { count: flight?.count ?? 0, oldestCreatedAt: flight?.oldestCreatedAt ?? null, oldestSubmittedAt: flight?.oldestSubmittedAt ?? null },
      };
    }),
  };
}
