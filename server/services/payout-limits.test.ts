// Limits per connection and currency, set on the Connections form: the
// maximum per payout (prefilled from the provider's published limit, lowered
// by an admin, refused at creation beside the amount) and the daily and
// monthly totals that hold approvals, counted in the desk's time zone.
// Through the tRPC caller on a real database with the built-in emulators.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { toDecimalString } from "@/server/domain/money";
import { limitsProblem, limitsProblems } from "./payout-limits";

describe.each(testDatabases())("payout limits on %s", (kind) => {
  let t: TestDesk;
  let mudaId: string;
  beforeAll(async () => {
    t = await startTestDesk(kind);
    mudaId = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "muda" } })).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const admin = () => t.caller("admin").connections;
  /** Saves the connection's limits as the form would (its other fields as they are). */
  async function setLimits(connectionId: string, limits: Record<string, { maxPerPayout?: string; daily?: string; monthly?: string }>) {
    const form = await admin().get({ id: connectionId });
    return admin().update({
      id: connectionId,
      version: form.version,
      name: form.name,
      environment: form.environment,
      baseUrl: form.builtInEmulator ? `sandbox://${form.provider}` : form.baseUrl,
      credentials: {},
      limits: Object.fromEntries(Object.entries(limits).map(([c, l]) => [c, { maxPerPayout: l.maxPerPayout ?? "", daily: l.daily ?? "", monthly: l.monthly ?? "" }])),
    });
  }
  const muda = (amount: string) => ({
    id: randomUUID(),
    connectionId: mudaId,
    amount,
    currency: "UGX",
    recipientPhone: "256772123456",
    description: "Limit test payout",
  });
  let recipients = 0;
  /** A pawaPay ZMW payout, to a number of its own (so no two are likely duplicates). */
  const zmw = (amount: string) => ({
    id: randomUUID(),
    connectionId: t.pawapayConnectionId,
    amount,
    currency: "ZMW",
    recipientPhone: `260763454${String(100 + ++recipients)}`,
    description: "Limit test payout",
  });

  it("prefills Muda's maximum from its published limit, refuses a payout over it, and lets an admin lower it", async () => {
    const form = await admin().get({ id: mudaId });
    expect(form.limits).toContainEqual({ currency: "UGX", maxPerPayout: "2000000", daily: "", monthly: "", defaultMax: "2,000,000 UGX", defaultSource: "provider" });
    expect(await refusal(t.caller("maker").payouts.create(muda("2000001")))).toMatchObject({
      code: "BAD_REQUEST",
      amount: "At most 2,000,000 UGX per payout on Muda sandbox; this is 2,000,001 UGX",
    });

    // Saved as prefilled: still the provider's, so nothing of the connection's own is stored or audited.
    expect(await setLimits(mudaId, { UGX: { maxPerPayout: "2000000" } })).toMatchObject({ changed: [] });
    expect((await t.desk.db.connection.findUniqueOrThrow({ where: { id: mudaId } })).settings).not.toHaveProperty("limits");

    // Above what Muda publishes is refused beside the field; so is a monthly total below the daily.
    expect(await refusal(setLimits(mudaId, { UGX: { maxPerPayout: "2,000,001", daily: "5000000", monthly: "4000000" } }))).toMatchObject({
      code: "BAD_REQUEST",
      "limits.UGX.maxPerPayout": "Maximum per payout (UGX): the provider publishes at most 2,000,000 UGX per payout; a larger payout would only be refused there",
      "limits.UGX.monthly": "Monthly total (UGX) must be at least the daily total, 5,000,000 UGX",
    });
    expect(await refusal(setLimits(mudaId, { UGX: { daily: "12.5" }, XYZ: { daily: "1" } }))).toMatchObject({
      "limits.UGX.daily": "Daily total (UGX): UGX has no minor unit: enter a whole number",
      "limits.XYZ.currency": 'Currency: an ISO 4217 code such as ZMW or UGX; "XYZ" is not one',
    });

    expect(await setLimits(mudaId, { UGX: { maxPerPayout: "1,000,000" } })).toMatchObject({ changed: ["limits"] });
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "connection.update", entityId: mudaId }, orderBy: { id: "desc" } });
    expect(entry.details).toMatchObject({ changed: ["limits"], limits: { UGX: { maxPerPayout: { before: "default", after: "1,000,000 UGX" } } } });
    expect((await admin().get({ id: mudaId })).limits).toContainEqual(expect.objectContaining({ currency: "UGX", maxPerPayout: "1000000", defaultMax: "2,000,000 UGX" }));

    expect(await refusal(t.caller("maker").payouts.create(muda("1000001")))).toMatchObject({
      amount: "At most 1,000,000 UGX per payout on Muda sandbox (the connection's limit); this is 1,000,001 UGX",
    });
    await expect(t.caller("maker").payouts.create(muda("1000000"))).resolves.toMatchObject({ status: "pending_approval" });

    // Cleared: back to the provider's limit.
    await setLimits(mudaId, {});
    await expect(t.caller("maker").payouts.create(muda("2000000"))).resolves.toMatchObject({ status: "pending_approval" });
  });

  it("holds an approval that would take the day past its total, and refuses at creation a payout larger than the total", async () => {
    await setLimits(t.pawapayConnectionId, { ZMW: { daily: "100" } });
    try {
      expect(await refusal(t.caller("maker").payouts.create(zmw("100.01")))).toMatchObject({
        amount: "At most 100.00 ZMW a day on pawaPay sandbox (its daily total); this payout alone is 100.01 ZMW",
      });
      const first = await t.caller("maker").payouts.create(zmw("60"));
      const second = await t.caller("maker").payouts.create(zmw("50"));
      const third = await t.caller("maker").payouts.create(zmw("40"));
      await t.caller("approver").approvals.approve({ payoutId: first.id });

      const held = await refusal(t.caller("approver").approvals.approve({ payoutId: second.id }));
      expect(held.code).toBe("CONFLICT");
      await expect(t.caller("approver").approvals.approve({ payoutId: second.id })).rejects.toThrow(
        "Held: the daily total for ZMW on pawaPay sandbox is 100.00 ZMW and it has 60.00 ZMW approved today (UTC); this payout of 50.00 ZMW would take it to 110.00 ZMW. " +
          "It can be approved tomorrow, or once an admin raises the total (Connections → pawaPay sandbox → Limits)",
      );
      // Held, not decided: it still waits, and no approval of it was kept.
      expect(await t.desk.db.payout.findUniqueOrThrow({ where: { id: second.id } })).toMatchObject({ status: "pending_approval" });
      expect(await t.desk.db.approval.count({ where: { payoutId: second.id } })).toBe(0);

      // Up to the total exactly is allowed; after that the day is full.
      await t.caller("approver").approvals.approve({ payoutId: third.id });
      expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: third.id } })).status).toBe("approved");
      const fourth = await t.caller("maker").payouts.create(zmw("0.01"));
      await expect(t.caller("approver").approvals.approve({ payoutId: fourth.id })).rejects.toThrow(/^Held: the daily total for ZMW on pawaPay sandbox is 100.00 ZMW and it has 100.00 ZMW approved today/);

      // An admin raises the total: the held payout can be approved.
      await setLimits(t.pawapayConnectionId, { ZMW: { daily: "200" } });
      await t.caller("approver").approvals.approve({ payoutId: second.id });
      expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: second.id } })).status).toBe("approved");
    } finally {
      await setLimits(t.pawapayConnectionId, {});
    }
  });

  it("lets only one of two approvals at once squeeze under the same total", async () => {
    const a = await t.caller("maker").payouts.create(zmw("60"));
    const b = await t.caller("maker").payouts.create(zmw("50"));
    // Today's total so far, plus 100: room for either payout, not both.
    const today = await t.desk.db.payout.aggregate({ _sum: { amountMinor: true }, where: { connectionId: t.pawapayConnectionId, currency: "ZMW", status: "approved" } });
    const room = (today._sum.amountMinor ?? 0n) + 10_000n;
    await setLimits(t.pawapayConnectionId, { ZMW: { daily: toDecimalString(room, "ZMW") } });
    try {
      const outcomes = await Promise.allSettled([
        t.caller("approver").approvals.approve({ payoutId: a.id }),
        t.caller("approver").approvals.approve({ payoutId: b.id }),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
      expect(String((outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult).reason.message)).toMatch(/^Held: the daily total for ZMW/);
      const statuses = await t.desk.db.payout.findMany({ where: { id: { in: [a.id, b.id] } }, select: { status: true } });
      expect(statuses.map((p) => p.status).sort()).toEqual(["approved", "pending_approval"]);
    } finally {
      await setLimits(t.pawapayConnectionId, {});
    }
  });

  it("counts days and months in the desk's time zone, by when payouts were approved, and a batch against itself", async () => {
    await t.caller("admin").settings.updateGeneral({ merchantName: "Limits test", timeZone: "Africa/Lusaka" });
    // Approved at 23:30 in Lusaka on 10 March (21:30 UTC); the checks below are at instants in March 2026,
    // so payouts the other tests approved today do not count.
    const earlier = await t.caller("maker").payouts.create(zmw("80"));
    await t.caller("approver").approvals.approve({ payoutId: earlier.id });
    await t.desk.db.payout.update({ where: { id: earlier.id }, data: { approvedAt: new Date("2026-03-10T21:30:00Z") } });
    await setLimits(t.pawapayConnectionId, { ZMW: { daily: "100", monthly: "150" } });
    try {
      const next = await t.caller("maker").payouts.create(zmw("30"));
      const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id: next.id } });

      // 23:45 in Lusaka: the same day, 80 + 30 is over 100.
      expect(await limitsProblem(t.desk.db, payout, new Date("2026-03-10T21:45:00Z"))).toMatch(
        /^Held: the daily total for ZMW on pawaPay sandbox is 100.00 ZMW and it has 80.00 ZMW approved today \(Africa\/Lusaka\)/,
      );
      // 00:30 in Lusaka (still 10 March in UTC): a new day, and 110 is within the month's 150.
      expect(await limitsProblem(t.desk.db, payout, new Date("2026-03-10T22:30:00Z"))).toBeNull();
      // Later that month a larger one passes the day but not the month.
      const big = { ...payout, id: randomUUID(), amountMinor: 7_500n };
      expect(await limitsProblem(t.desk.db, big, new Date("2026-03-20T10:00:00Z"))).toMatch(
        /^Held: the monthly total for ZMW on pawaPay sandbox is 150.00 ZMW and it has 80.00 ZMW approved this month \(Africa\/Lusaka\); this payout of 75.00 ZMW would take it to 155.00 ZMW\. It can be approved next month/,
      );
      // 1 April in Lusaka is 31 March 22:00 UTC: a new month.
      expect(await limitsProblem(t.desk.db, big, new Date("2026-03-31T22:00:00Z"))).toBeNull();

      // A batch on 11 March counts its own earlier payouts: 30 fits (month 110), 60 would make the month 170
      // (held, and not counted), 10 still fits (month 120).
      const second = { ...payout, id: randomUUID(), amountMinor: 6_000n };
      const third = { ...payout, id: randomUUID(), amountMinor: 1_000n };
      const held = await limitsProblems(t.desk.db, [payout, second, third], new Date("2026-03-11T08:00:00Z"));
      expect([...held.keys()]).toEqual([second.id]);
      expect(held.get(second.id)).toMatch(/^Held: the monthly total for ZMW on pawaPay sandbox is 150.00 ZMW and it has 110.00 ZMW approved this month \(Africa\/Lusaka\); this payout of 60.00 ZMW would take it to 170.00 ZMW/);
    } finally {
      await setLimits(t.pawapayConnectionId, {});
      await t.caller("admin").settings.updateGeneral({ merchantName: "Limits test", timeZone: "UTC" });
    }
  });

  it("leaves currencies and connections without totals alone", async () => {
    const created = await t.caller("maker").payouts.create(zmw("5000"));
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id: created.id } });
    expect(await limitsProblem(t.desk.db, payout)).toBeNull();
    await setLimits(t.pawapayConnectionId, { UGX: { daily: "1" } });
    try {
      expect(await limitsProblem(t.desk.db, payout)).toBeNull();
    } finally {
      await setLimits(t.pawapayConnectionId, {});
    }
  });
});
