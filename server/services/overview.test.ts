// The Overview through its router, on payouts made and sent the real way
// (pawaPay's emulator over HTTP: paid, recipient not found, other error).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { overviewPeriod } from "./overview";

const PAID = "260763456789";
const NOT_FOUND = "260763456079";
const OTHER_ERROR = "260763456119";

describe.each(testDatabases())("overview on %s", (kind) => {
  let t: TestDesk;
  const today = new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    t = await startTestDesk(kind);
    for (const [phone, amount] of [
      [PAID, "10.00"],
      [PAID, "20.00"],
      [PAID, "30.00"],
      [NOT_FOUND, "11.00"],
      [NOT_FOUND, "12.00"],
      [OTHER_ERROR, "13.00"],
    ] as const) {
      await t.pawapayPayout({ phone, amount });
    }
    await t.pawapayPayout({ approve: false, amount: "99.00" });
    await t.work.run({ all: true });
    // pawaPay answers by callback: wait until all six have their final word.
    for (let i = 0; i < 50; i++) {
      if ((await t.desk.db.payout.count({ where: { status: { in: ["succeeded", "failed"] } } })) === 6) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await t.work.run({ all: true });
    }
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it("counts by status, paid per day by connection, success rate per day, failures by reason and approval-to-final times", async () => {
    const summary = await t.caller("viewer").overview.summary();
    expect(summary.period).toEqual({ from: new Date(Date.now() - 13 * 86_400_000).toISOString().slice(0, 10), to: today });
    const table = await t.desk.db.payout.groupBy({ by: ["status"], _count: { _all: true } });
    for (const row of table) expect(summary.byStatus[row.status]).toBe(row._count._all);
    expect(summary.byStatus).toMatchObject({ succeeded: 3, failed: 3, pending_approval: 1 });

    expect(summary.paidPerDay).toEqual([{ day: today, connectionId: t.pawapayConnectionId, currency: "ZMW", count: 3, amountMinor: 6_000n }]);
    expect(summary.successPerDay).toEqual([{ day: today, succeeded: 3, failed: 3, reversed: 0, rate: 0.5 }]);
    expect(summary.paidToday).toEqual([{ currency: "ZMW", amountMinor: 6_000n, count: 3, fees: [], feesNotReported: 3 }]);
    expect(summary.failuresByReason.map((r) => [r.code, r.count])).toEqual([
      ["RECIPIENT_NOT_FOUND", 2],
      [expect.any(String), 1],
    ]);
    expect(summary.approvalToFinal.count).toBe(6);
    expect(summary.approvalToFinal.medianSeconds).toBeGreaterThanOrEqual(0);
    expect(summary.approvalToFinal.p95Seconds).toBeGreaterThanOrEqual(summary.approvalToFinal.medianSeconds!);

    // A period before any payout: nothing in it, the all-time counts unchanged.
    const before = await t.caller("viewer").overview.summary({ from: "2020-01-01", to: "2020-01-31" });
    expect(before).toMatchObject({ paidPerDay: [], successPerDay: [], failuresByReason: [], approvalToFinal: { count: 0, medianSeconds: null } });
    expect(before.byStatus.succeeded).toBe(3);
  });

  it("reads the rollups, not the payouts table", async () => {
    // Knock one rollup row (one shard of the key) off by one: the overview follows the rollup (then put it back).
    const [row] = await t.desk.db.$queryRaw<Array<{ shard: number }>>`
      SELECT shard FROM "PayoutRollup" WHERE status = 'succeeded' AND day = ${today}::date ORDER BY shard LIMIT 1`;
    const moved = await t.desk.db.$executeRaw`UPDATE "PayoutRollup" SET count = count + 1 WHERE status = 'succeeded' AND day = ${today}::date AND shard = ${row!.shard}`;
    expect(moved).toBe(1);
    try {
      const summary = await t.caller("viewer").overview.summary();
      expect(summary.byStatus.succeeded).toBe(4);
      expect(summary.paidPerDay[0]!.count).toBe(4);
    } finally {
      await t.desk.db.$executeRaw`UPDATE "PayoutRollup" SET count = count - 1 WHERE status = 'succeeded' AND day = ${today}::date AND shard = ${row!.shard}`;
    }
  });

  it("refuses a bad period with the field and the rule", async () => {
    expect(await refusal(t.caller("viewer").overview.summary({ from: "2026-12-05", to: "2026-12-01" }))).toMatchObject({
      code: "BAD_REQUEST",
      from: 'Must be on or before the "to" date (2026-12-01)',
    });
    expect(await refusal(t.caller("viewer").overview.summary({ to: "01/12/2026" }))).toMatchObject({ to: "Must be a date written YYYY-MM-DD, e.g. 2026-12-01" });
    expect(await refusal(t.caller("viewer").overview.summary({ from: "2024-01-01", to: "2026-01-01" }))).toMatchObject({ from: "The period may be at most 366 days" });
    expect(overviewPeriod({}, new Date("2026-03-01T23:59:00Z"))).toMatchObject({ from: "2026-02-16", to: "2026-03-01" });
  });

  it("lists what needs attention: sweeper flags, approvals about to expire, failed balance reads", async () => {
    const pending = await t.desk.db.payout.findFirstOrThrow({ where: { status: "pending_approval" } });
    await t.desk.db.payout.update({ where: { id: pending.id }, data: { approvalExpiresAt: new Date(Date.now() + 3600_000) } });
    await t.desk.db.balanceReadFailure.create({ data: { connectionId: t.pawapayConnectionId, message: "HTTP 503 from the provider", at: new Date() } });
    const attention = await t.caller("viewer").overview.attention();
    const count = (key: string) => attention.items.find((i) => i.key === key)!.count;
    expect(count("expiring")).toBe(1);
    expect(count("balance_reads")).toBe(1);
    expect(count("outcome_unknown")).toBe(0);
    expect(count("reconciliation")).toBe(0);
    expect(attention.balanceFailures).toEqual([expect.objectContaining({ connectionName: "pawaPay sandbox", message: "HTTP 503 from the provider" })]);
  });

  it("reports each connection's health from its recorded provider calls", async () => {
    const health = await t.caller("viewer").overview.health();
    const pawapay = health.connections.find((c) => c.id === t.pawapayConnectionId)!;
    const calls = await t.desk.db.providerCall.findMany({ where: { connectionId: t.pawapayConnectionId } });
    expect(pawapay.calls).toBe(calls.length);
    expect(pawapay.calls).toBeGreaterThanOrEqual(6);
    expect(pawapay.latencyMs.p50).toBeGreaterThanOrEqual(0);
    expect(pawapay.latencyMs.p95).toBeGreaterThanOrEqual(pawapay.latencyMs.p50!);
    expect(pawapay.successRate).toBe(0.5);
    expect(pawapay.errors.server_error.count).toBe(calls.filter((c) => (c.httpStatus ?? 0) >= 500).length);
    expect(pawapay.inFlight.count).toBe(0);
    // Each of the six final words came by callback, after sending: the lag recorded on its receipt is that span.
    const receipts = await t.desk.db.callbackReceipt.findMany({ where: { connectionId: t.pawapayConnectionId, verified: true }, include: { payout: true } });
    expect(pawapay.callbackLagSeconds.count).toBe(receipts.length);
    expect(receipts.length).toBeGreaterThanOrEqual(6);
    for (const r of receipts) expect(r.sinceSentMs).toBe(Math.max(r.receivedAt.getTime() - r.payout!.submittedAt!.getTime(), 0));
    const lags = receipts.map((r) => r.sinceSentMs! / 1000).sort((a, b) => a - b);
    expect(pawapay.callbackLagSeconds.p50).toBeGreaterThanOrEqual(lags[0]!);
    expect(pawapay.callbackLagSeconds.p95).toBeLessThanOrEqual(lags.at(-1)!);

    // pawaPay's sandbox keeps this number in flight: counted, with its age.
    const stays = await t.pawapayPayout({ phone: "260763456129", amount: "14.00" });
    await t.work.run({ payoutId: stays });
    const submitted = await t.desk.db.payout.findUniqueOrThrow({ where: { id: stays } });
    expect(["submitting", "processing", "unknown"]).toContain(submitted.status);
    const later = (await t.caller("viewer").overview.health()).connections.find((c) => c.id === t.pawapayConnectionId)!;
    expect(later.inFlight).toEqual({ count: 1, oldestCreatedAt: submitted.createdAt, oldestSubmittedAt: submitted.submittedAt });
    const other = health.connections.find((c) => c.id !== t.pawapayConnectionId)!;
    expect(other).toMatchObject({ calls: 0, successRate: null, latencyMs: { p50: null, p95: null } });
  });
});
