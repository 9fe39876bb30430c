// The foundation's path, through the tRPC routers (createCaller), the real
// services, a real database (PGlite, and PostgreSQL when TEST_DATABASE_URL is
// set) and the pawaPay emulator over real HTTP, callbacks included.
import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { testDatabases } from "@/server/db/testing";
import { eventually, refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead, approveManyAsRead } from "@/server/testing/approvals";
import { enrolForTests } from "@/server/auth/second-factor-testing";


describe.each(testDatabases())("payout flow on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });
  /** Whether the payout's next piece of work (send, status check) is due now rather than later. */
  async function dueNow(id: string) {
    const [work] = await t.work.due(id);
    return work !== undefined && work.dueAt.getTime() <= Date.now();
  }

  const newPayout = (phone: string, extra: Partial<{ amount: string; description: string; id: string }> = {}) => ({
    id: extra.id ?? randomUUID(),
    connectionId: t.pawapayConnectionId,
    amount: extra.amount ?? "15",
    currency: "ZMW",
    recipientPhone: phone,
    description: extra.description ?? "Invoice 1234",
  });

  /** The maker's account with two-factor on, as an approver's must be (idempotent). */
  async function enrolMaker() {
    const user = await t.desk.db.user.findUniqueOrThrow({ where: { id: t.users.maker.id } });
    if (!user.totpEnabledAt) await enrolForTests(t.desk, t.users.maker.id);
  }

  async function statusOf(id: string) {
    return (await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status;
  }

  it("walks pending_approval → approved → submitting → processing → succeeded", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456789"));
    expect(created.status).toBe("pending_approval");

    const wakes = t.jobs.wakes;
    await approveAsRead(t.caller("approver"), created.id);
    expect(await statusOf(created.id)).toBe("approved");
    // The approval made it due for sending in the same transaction, and woke the workers.
    expect(await dueNow(created.id)).toBe(true);
    expect(t.jobs.wakes).toBe(wakes + 1);

    await t.work.run({ payoutId: created.id, max: 1 });
    expect(["processing", "succeeded"]).toContain(await statusOf(created.id));
    await eventually(async () => (await statusOf(created.id)) === "succeeded");

    const { payout } = await t.caller("viewer").payouts.byId({ id: created.id });
    expect(payout.events.map((e) => e.toStatus)).toEqual(["pending_approval", "approved", "submitting", "processing", "succeeded"]);
    expect(payout.events.at(-1)?.source).toBe("callback");
    expect(payout.events.at(-1)?.payload).toMatchObject({ payoutId: created.id, status: "COMPLETED" });
    expect(payout.amountMinor).toBe(1500n);
    expect(payout.providerCalls.some((c) => c.operation === "submit" && c.httpStatus === 200)).toBe(true);
    expect(JSON.stringify(payout.providerCalls, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toMatch(/sandbox-[0-9a-f]{32}|PRIVATE KEY/);

    const audit = await t.desk.db.auditLog.findMany({ where: { entityId: created.id }, orderBy: { id: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["payout.create", "payout.approve"]);
  });

  it("ends failed with the provider's reason for 260763456079", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456079", { amount: "20.50" }));
    await approveAsRead(t.caller("approver"), created.id);
    await t.work.run({ payoutId: created.id, max: 1 });
    await eventually(async () => (await statusOf(created.id)) === "failed");
    // Final: nothing more is owed to it, so no status check of it is ever made.
    expect(await t.work.due(created.id)).toEqual([]);
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id: created.id } });
    expect(payout.failureCode).toBe("RECIPIENT_NOT_FOUND");
  });

  it("keeps polling a payout pawaPay leaves SUBMITTED (260763456129)", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456129"));
    await approveAsRead(t.caller("approver"), created.id);
    await t.work.run({ payoutId: created.id, max: 1 });
    expect(await statusOf(created.id)).toBe("processing");
    expect(await dueNow(created.id)).toBe(false); // the first check waits for the provider's schedule
    await t.work.run({ payoutId: created.id, max: 1, all: true }); // one status query
    expect(await statusOf(created.id)).toBe("processing");
    const [next] = await t.work.due(created.id);
    expect(next?.checkAttempt).toBe(2);
    expect(next!.dueAt.getTime()).toBeGreaterThan(Date.now() + 5_000); // backing off
  });

  it("refuses the maker's approval: by role, and by the own-payout rule on the server", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456789"));
    await expect(t.caller("maker").approvals.approve({ payoutId: created.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    // Even an approver account cannot approve a payout it created itself. Enrolled in two-factor (as its
    // new role requires), so the step-up lets it through to the own-payout rule this is about.
    const makerTurnedApprover = { ...t.users.maker, role: "approver" as const };
    await enrolMaker();
    await expect(t.caller(makerTurnedApprover).approvals.approve({ payoutId: created.id })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringMatching(/another approver/),
    });
    await expect(t.caller("viewer").approvals.approve({ payoutId: created.id })).rejects.toBeInstanceOf(TRPCError);
    await expect(t.caller(null).payouts.list({})).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(await statusOf(created.id)).toBe("pending_approval");
  });

  it("lets one approval through when two race, and never a second decision", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456789"));
    const results = await Promise.allSettled([
      approveAsRead(t.caller("approver"), created.id),
      approveAsRead(t.caller("approver"), created.id),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(loser.reason).toMatchObject({ code: "CONFLICT" });
    expect(await t.desk.db.approval.count({ where: { payoutId: created.id } })).toBe(1);
    await expect(t.caller("approver").approvals.reject({ payoutId: created.id, reason: "late" })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("approves a batch in one decision, refusing by name what a single approval would refuse", async () => {
    const fine = [await t.pawapayPayout({ approve: false }), await t.pawapayPayout({ approve: false })];
    const decided = await t.pawapayPayout(); // approved already
    const makerTurnedApprover = { ...t.users.maker, role: "approver" as const };
    await enrolMaker();
    const own = await t.pawapayPayout({ approve: false }); // made by the maker
    const missing = "0b6f5c3e-8a55-4f4e-9d7a-3c1f0c1d2e3f";
    const result = await t.caller(makerTurnedApprover).approvals.approveMany({ payoutIds: [own] });
    expect(result).toMatchObject({ approved: [], refused: [{ payoutId: own, reason: expect.stringMatching(/another approver/) }] });

    const wakes = t.jobs.wakes;
    // Alike payouts (same number and amount): the approver acknowledges them as likely duplicates, as the batch review asks.
    const batch = await approveManyAsRead(t.caller("approver"), [...fine, decided, missing, fine[0]!]);
    expect(batch.approved.sort()).toEqual([...fine].sort());
    expect(batch.refused).toEqual(
      expect.arrayContaining([
        { payoutId: decided, reason: expect.stringMatching(/approved, not waiting/) },
        { payoutId: missing, reason: "No such payout" },
      ]),
    );
    for (const id of fine) {
      expect(await statusOf(id)).toBe("approved");
      expect(await dueNow(id)).toBe(true);
      expect(await t.desk.db.auditLog.count({ where: { entityId: id, action: "payout.approve", actorId: t.users.approver.id } })).toBe(1);
    }
    expect(t.jobs.wakes).toBe(wakes + 1);
    expect(await refusal(t.caller("approver").approvals.approveMany({ payoutIds: [] }))).toMatchObject({ code: "BAD_REQUEST", payoutIds: expect.any(String) });
    await expect(t.caller("maker").approvals.approveMany({ payoutIds: fine })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("requires a reason to reject, and records it", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456789"));
    expect(await refusal(t.caller("approver").approvals.reject({ payoutId: created.id, reason: "  " }))).toMatchObject({
      code: "BAD_REQUEST",
      reason: expect.stringMatching(/reason/),
    });
    await t.caller("approver").approvals.reject({ payoutId: created.id, reason: "Duplicate of last week's" });
    expect(await statusOf(created.id)).toBe("rejected");
    expect(await t.work.due(created.id)).toEqual([]);
  });

  it("names the field and the rule for bad input, and creates nothing", async () => {
    const before = await t.desk.db.payout.count();
    const attempt = t.caller("maker").payouts.create({ ...newPayout("0763456789"), amount: "15.555", description: "" });
    expect(await refusal(attempt)).toMatchObject({
      code: "BAD_REQUEST",
      amount: "ZMW allows at most 2 decimal places",
      recipientPhone: expect.stringMatching(/country code/),
      description: expect.any(String),
    });
    expect(await refusal(t.caller("maker").payouts.create({ ...newPayout("260763456789"), id: "not-a-uuid" }))).toMatchObject({
      code: "BAD_REQUEST",
      id: expect.any(String),
    });
    expect(await refusal(t.caller("maker").payouts.create({ ...newPayout("260763456789"), description: "Hi" }))).toMatchObject({
      description: expect.stringMatching(/4/),
    });
    expect(await t.desk.db.payout.count()).toBe(before);
  });

  it("lets the maker withdraw their own undecided payout, and nobody else", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456789", { description: "Wrong amount" }));
    expect((await t.caller("maker").payouts.byId({ id: created.id })).canWithdraw).toBe(true);
    expect((await t.caller("approver").payouts.byId({ id: created.id })).canWithdraw).toBe(false);
    await expect(t.caller("approver").payouts.cancel({ id: created.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await t.caller("maker").payouts.cancel({ id: created.id });
    expect(await statusOf(created.id)).toBe("cancelled");
    await expect(t.caller("maker").payouts.cancel({ id: created.id })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(t.caller("approver").approvals.approve({ payoutId: created.id })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("makes a double-submitted form one payout", async () => {
    const input = newPayout("260763456789", { description: "Double click" });
    const [a, b] = await Promise.allSettled([t.caller("maker").payouts.create(input), t.caller("maker").payouts.create(input)]);
    const ids = [a, b].filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id);
    expect(ids.length).toBeGreaterThanOrEqual(1);
    expect(await t.desk.db.payout.count({ where: { id: input.id } })).toBe(1);
    await expect(t.caller("maker").payouts.create({ ...input, amount: "99" })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("lists with filters and keyset pages that neither skip nor repeat", async () => {
    const seen = new Set<string>();
    let cursor: string | null | undefined = undefined;
    let pages = 0;
    do {
      const page: { items: Array<{ id: string; createdAt: Date }>; nextCursor: string | null } = await t
        .caller("viewer")
        .payouts.list({ limit: 2, cursor });
      for (const item of page.items) {
        expect(seen.has(item.id)).toBe(false);
        seen.add(item.id);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen.size).toBe(await t.desk.db.payout.count());
    const failed = await t.caller("viewer").payouts.list({ status: ["failed"] });
    expect(failed.items.length).toBeGreaterThan(0);
    expect(failed.items.every((p) => p.status === "failed")).toBe(true);
    expect(await refusal(t.caller("viewer").payouts.list({ createdFrom: "21/11/2026" }))).toMatchObject({
      createdFrom: expect.stringMatching(/date like/),
    });
  });

  it("refuses a forged callback and changes nothing; an unsigned one is only a reason to ask", async () => {
    const created = await t.caller("maker").payouts.create(newPayout("260763456129"));
    await approveAsRead(t.caller("approver"), created.id);
    await t.work.run({ payoutId: created.id, max: 1 });
    expect(await dueNow(created.id)).toBe(false);
    const body = JSON.stringify({ payoutId: created.id, status: "FAILED", failureReason: { failureCode: "OTHER_ERROR" } });
    const post = (headers: Record<string, string>) =>
      fetch(`${t.url}/api/webhooks/${t.pawapayConnectionId}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

    const forged = await post({
      "content-digest": `sha-512=:${createHash("sha512").update(body).digest("base64")}:`,
      "signature-date": new Date().toISOString(),
      "signature-input": `sig-pp=("@method" "@authority" "@path" "signature-date" "content-digest" "content-type");alg="ecdsa-p256-sha256";keyid="nobody";created=${Math.floor(Date.now() / 1000)}`,
      signature: `sig-pp=:${Buffer.alloc(64, 7).toString("base64")}:`,
    });
    expect(forged.status).toBe(401);
    expect(await statusOf(created.id)).toBe("processing");
    // It makes the desk ask the provider instead.
    expect(await dueNow(created.id)).toBe(true);
    await t.work.run({ payoutId: created.id, max: 1 });
    expect(await dueNow(created.id)).toBe(false);

    const unsigned = await post({});
    expect(unsigned.status).toBe(200);
    expect(await unsigned.json()).toMatchObject({ message: expect.stringMatching(/confirmed with the provider/) });
    expect(await statusOf(created.id)).toBe("processing");
    expect(await dueNow(created.id)).toBe(true);
  });
});
