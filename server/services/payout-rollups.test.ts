// The rollups the overview reads must always equal a GROUP BY of the payouts
// table, whatever happened to the payouts: random sequences of creation (the
// form and bulk files), approval, rejection, cancellation, edits, sending to
// the emulators (which pay, fail, hold, and report fees), and status changes
// racing each other on PostgreSQL.
import { randomUUID } from "node:crypto";
import { stringify } from "csv-stringify/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import { createBatch, settled, uploadBatch } from "./batches";
import { applyProviderResult, changeStatusInTx, changeStatusManyInTx } from "./payout-status";
import { ROLLUP_SHARDS, rollupsFromPayouts, storedRollups, storedTimings, timingBucket, timingBucketSeconds, timingPercentiles, timingsFromPayouts } from "./payout-rollups";

/** A small seeded generator (mulberry32), so a failing sequence can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]! };
}

/** Both read in one snapshot, so a callback landing between them cannot make them differ. */
async function bothViews(t: TestDesk) {
  const [stored, grouped, storedTimes, groupedTimes] = await t.desk.db.$transaction(
    [storedRollups(t.desk.db), rollupsFromPayouts(t.desk.db), storedTimings(t.desk.db), timingsFromPayouts(t.desk.db)],
    { isolationLevel: "RepeatableRead" },
  );
  return { stored, grouped, storedTimes, groupedTimes };
}

async function expectConsistent(t: TestDesk, context: string) {
  const { stored, grouped, storedTimes, groupedTimes } = await bothViews(t);
  expect(stored, context).toEqual(grouped);
  // The approval-to-final histogram too: each approved payout counted once, in the bucket of its own time.
  expect(storedTimes, context).toEqual(groupedTimes);
}

describe("approval-to-final histogram", () => {
  it("reads a median and p95 within 2.5 % of the exact nearest-rank figures", () => {
    const rnd = random(7);
    // Mostly seconds, a tail of minutes and hours, some instant.
    const times = Array.from({ length: 5_000 }, (_, i) => (i % 50 === 0 ? 0 : i % 20 === 0 ? 60 + rnd.next() * 7_200 : rnd.next() * 30));
    const histogram = new Map<number, number>();
    for (const s of times) histogram.set(timingBucket(s), (histogram.get(timingBucket(s)) ?? 0) + 1);
    const buckets = [...histogram].sort((a, b) => a[0] - b[0]).map(([bucket, count]) => ({ bucket, count }));
    const sorted = [...times].sort((a, b) => a - b);
    const exact = (p: number) => sorted[Math.ceil(p * sorted.length) - 1]!;
    const read = timingPercentiles(buckets);
    expect(read.count).toBe(5_000);
    expect(Math.abs(read.medianSeconds! - exact(0.5))).toBeLessThanOrEqual(exact(0.5) * 0.025 + 0.05);
    expect(Math.abs(read.p95Seconds! - exact(0.95))).toBeLessThanOrEqual(exact(0.95) * 0.025 + 0.05);
    expect(timingPercentiles([])).toEqual({ count: 0, medianSeconds: null, p95Seconds: null });
    // A bucket's middle falls in the bucket.
    for (const b of [0, 1, 49, 131, 280]) expect(timingBucket(timingBucketSeconds(b))).toBe(b);
  });
});

describe.each(testDatabases())("payout rollups on %s", (kind) => {
  let t: TestDesk;
  let pawapay: string;
  let paytota: string;

  beforeAll(async () => {
    t = await startTestDesk(kind);
    pawapay = t.pawapayConnectionId;
    paytota = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "paytota" } })).id;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("equal a GROUP BY of the payouts after random create/approve/reject/edit/send/fail/succeed sequences", async () => {
    const seed = Number(process.env.ROLLUP_SEED ?? Date.now() % 1_000_000);
    const rnd = random(seed);
    const context = `seed ${seed} (replay with ROLLUP_SEED=${seed})`;
    // pawaPay: paid, failed (two reasons), stays in flight; Paytota: paid with a fee, insufficient funds, pending.
    const kinds = [
      { connection: () => pawapay, currency: "ZMW", amounts: ["12.34", "15.00", "7.50"], phones: ["260763456789", "260763456079", "260763456119", "260763456129"] },
      { connection: () => paytota, currency: "UGX", amounts: ["5000", "7000", "12000"], phones: ["256772123001", "256772123111", "256772123444"] },
    ];
    const created: string[] = [];
    for (let step = 0; step < 40; step++) {
      const action = rnd.pick(["create", "create", "create", "approve", "approve", "reject", "cancel", "edit", "send"] as const);
      const pending = await t.desk.db.payout.findMany({ where: { id: { in: created }, status: "pending_approval" }, select: { id: true } });
      if (action === "create" || created.length === 0) {
        const k = rnd.pick(kinds);
        const made = await t.caller("maker").payouts.create({
          id: randomUUID(),
          connectionId: k.connection(),
          amount: rnd.pick(k.amounts),
          currency: k.currency,
          recipientPhone: rnd.pick(k.phones),
          description: `Rollup step ${step}`,
        });
        created.push(made.id);
      } else if (action === "approve" && pending.length > 0) {
        await approveAsRead(t.caller("approver"), rnd.pick(pending).id);
      } else if (action === "reject" && pending.length > 0) {
        await t.caller("approver").approvals.reject({ payoutId: rnd.pick(pending).id, reason: "Not this one" });
      } else if (action === "cancel" && pending.length > 0) {
        await t.caller("maker").payouts.cancel({ id: rnd.pick(pending).id });
      } else if (action === "edit" && pending.length > 0) {
        // A new amount and possibly another connection and currency: the rollups move the payout across keys.
        const id = rnd.pick(pending).id;
        const payout = await t.caller("maker").payouts.byId({ id });
        const k = rnd.pick(kinds);
        await t.caller("maker").payouts.update({
          id,
          revision: payout.editRevision,
          connectionId: k.connection(),
          amount: rnd.pick(k.amounts),
          currency: k.currency,
          recipientPhone: rnd.pick(k.phones),
          description: `Edited at step ${step}`,
        });
      } else {
        await t.work.run({ all: true });
      }
      if (step % 5 === 4) await expectConsistent(t, `${context}, after step ${step} (${action})`);
    }
    // Send what is approved, let callbacks land, ask again for what is in flight.
    await t.work.run({ all: true });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await t.work.run({ all: true });
    await expectConsistent(t, `${context}, at the end`);
    const statuses = new Set((await t.desk.db.payout.findMany({ where: { id: { in: created } }, select: { status: true } })).map((p) => p.status));
    // The sequence went somewhere: more than one status is counted.
    expect(statuses.size, context).toBeGreaterThan(1);
    // Payouts were sent and finalised: the histogram holds exactly those approved and final.
    const finalised = await t.desk.db.payout.count({ where: { approvedAt: { not: null }, finalizedAt: { not: null } } });
    expect(finalised, context).toBeGreaterThan(0);
    expect((await storedTimings(t.desk.db)).reduce((n, r) => n + r.count, 0), context).toBe(finalised);
  }, 240_000);

  it("count a bulk file's payouts when they are created, and a fee reported after the payout was paid", async () => {
    const rows = [["amount", "currency", "recipient_phone", "recipient_name", "description"]];
    for (let i = 0; i < 30; i++) rows.push([`${100 + i}`, "ZMW", `2607634${String(70000 + i)}`, `Staff ${i}`, "Rollup bulk"]);
    const { batchId, validation } = await uploadBatch(
      t.desk,
      t.users.maker,
      { fileName: "rollups.csv", bytes: Buffer.from(stringify(rows)), connectionId: pawapay, dryRun: false, confirmSameFile: false },
      "127.0.0.1",
    );
    await validation;
    await createBatch(t.desk, t.users.maker, { id: batchId, includeDuplicates: true }, "127.0.0.1");
    await settled(t.desk, batchId);
    expect(await t.desk.db.payout.count({ where: { batchId } })).toBe(30);
    await expectConsistent(t, "after bulk creation");

    // A fee in the payout's currency, then one in another currency, reported after it was paid (no status change).
    const [first, second] = await t.desk.db.payout.findMany({ where: { batchId }, orderBy: { batchRow: "asc" }, take: 2 });
    for (const id of [first!.id, second!.id]) {
      for (const to of ["approved", "submitting", "processing"] as const) await changeStatusInTx(t.desk.db, { payoutId: id, to, source: "system" });
    }
    await applyProviderResult(t.desk.db, first!.id, { state: "succeeded", providerStatus: "COMPLETED", raw: {} }, "callback");
    await applyProviderResult(t.desk.db, first!.id, { state: "succeeded", providerStatus: "COMPLETED", raw: {}, fee: { amountMinor: 25n, currency: "ZMW" } }, "callback");
    await applyProviderResult(t.desk.db, second!.id, { state: "processing", providerStatus: "ACCEPTED", raw: {}, fee: { amountMinor: 3n, currency: "USD" } }, "callback");
    const stored = await storedRollups(t.desk.db);
    const paid = stored.filter((r) => r.connectionId === pawapay && r.status === "succeeded");
    expect(paid.reduce((sum, r) => sum + r.feeMinor, 0n)).toBeGreaterThanOrEqual(25n);
    expect(stored.some((r) => r.status === "processing" && r.feeOtherCount > 0)).toBe(true);
    await expectConsistent(t, "after fees reported without a status change");
  }, 120_000);

  it("stay equal when status changes of many payouts race each other", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(await t.pawapayPayout({ approve: false, amount: `${20 + i}.00`, phone: "260763456789", description: `Race ${i}` }));
    const rnd = random(7);
    // Overlapping batch approvals and single cancellations at once: each payout ends approved or cancelled, never both counted.
    await Promise.all([
      changeStatusManyInTx(t.desk.db, ids.slice(0, 16), { to: "approved", from: ["pending_approval"], source: "system" }),
      changeStatusManyInTx(t.desk.db, ids.slice(8, 24).reverse(), { to: "approved", from: ["pending_approval"], source: "system" }),
      ...ids.filter(() => rnd.next() < 0.3).map((payoutId) => changeStatusInTx(t.desk.db, { payoutId, to: "cancelled", from: ["pending_approval"], source: "system" })),
    ]);
    await expectConsistent(t, "after racing approvals and cancellations");
    const approved = (await t.desk.db.payout.findMany({ where: { id: { in: ids }, status: "approved" }, select: { id: true } })).map((p) => p.id);
    // Each approved payout runs its own life at the same time as the others, with a callback racing its status query.
    await Promise.all(
      approved.map(async (payoutId, i) => {
        await changeStatusInTx(t.desk.db, { payoutId, to: "submitting", from: ["approved"], source: "system" });
        await changeStatusInTx(t.desk.db, { payoutId, to: "processing", from: ["submitting"], source: "provider_response" });
        const end = i % 3 === 0 ? "failed" : "succeeded";
        const fee = { amountMinor: BigInt(i + 1), currency: "ZMW" };
        await Promise.all([
          applyProviderResult(t.desk.db, payoutId, { state: end, providerStatus: end.toUpperCase(), raw: {}, fee, failureCode: end === "failed" ? "OTHER_ERROR" : undefined }, "callback"),
          applyProviderResult(t.desk.db, payoutId, { state: end, providerStatus: end.toUpperCase(), raw: {}, fee, failureCode: end === "failed" ? "OTHER_ERROR" : undefined }, "status_query"),
        ]);
      }),
    );
    await expectConsistent(t, "after racing sends, callbacks and status queries");
    // Each key's sums are split by payout over shards: every shard row holds exactly its own payouts, and the race spread over several.
    const [split] = await t.desk.db.$queryRaw<Array<{ shards: number; astray: number }>>`
      SELECT (SELECT count(DISTINCT shard)::int FROM "PayoutRollup" WHERE count <> 0) AS shards,
             (SELECT count(*)::int FROM (
                SELECT day, "connectionId", currency, status, shard, count FROM "PayoutRollup" WHERE count <> 0
                EXCEPT
                SELECT (a."createdAt" AT TIME ZONE 'UTC')::date, a."connectionId", a.currency, a.status, (get_byte(uuid_send(a.id), 15) % ${ROLLUP_SHARDS})::smallint, count(*)::int
                FROM "Payout" a GROUP BY 1, 2, 3, 4, 5) AS d) AS astray`;
    expect(split!.shards).toBeGreaterThan(1);
    expect(split!.astray).toBe(0);
    const byStatus = await t.desk.db.payoutRollup.groupBy({ by: ["status"], _sum: { count: true } });
    const fromTable = await t.desk.db.payout.groupBy({ by: ["status"], _count: { _all: true } });
    expect(Object.fromEntries(byStatus.filter((r) => r._sum.count).map((r) => [r.status, r._sum.count]))).toEqual(
      Object.fromEntries(fromTable.map((r) => [r.status, r._count._all])),
    );
  }, 180_000);
});
