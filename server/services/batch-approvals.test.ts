// Deciding on a bulk file's batch as one (issue 9 §3), on PGlite and
// PostgreSQL, through the tRPC procedures (one step-up for the whole
// decision) and the service where an actor no router lets through is needed:
// a whole batch approved, large rows getting this approver's level and
// waiting for an admin; chosen rows only; rejection; the maker's own rows
// skipped with the reason; acknowledgements for the whole batch; and a batch
// of more rows than one transaction takes, approved by two calls at once
// without any payout approved twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { appRouter } from "@/server/trpc/router";
import { createCallerFactory } from "@/server/trpc/init";
import type { Actor } from "./types";
import { createUser } from "./users";
import { approvePolicy, proposePolicy } from "./approval-policy";
import { createBatch, settled, uploadBatch } from "./batches";
import { approveBatch, BATCH_DECISION_CHUNK, rejectBatch } from "./batch-approvals";

describe.each(testDatabases())("batch approvals on %s", (kind) => {
  let t: TestDesk;
  let admin2: Actor;
  let files = 0;

  /** A bulk file of these rows for the pawaPay sandbox, uploaded and created by the maker; the batch id. */
  async function batchOf(rows: Array<{ amount: string; phone: string }>): Promise<string> {
    const n = ++files;
    const lines = ["amount,currency,recipient_phone,recipient_name,description", ...rows.map((r, i) => `${r.amount},ZMW,${r.phone},Person ${i},Batch ${n} row ${i}`)];
    const { batchId, validation } = await uploadBatch(
      t.desk,
      t.users.maker,
      { fileName: `batch-${n}.csv`, bytes: Buffer.from(`${lines.join("\r\n")}\r\n`, "utf8"), connectionId: t.pawapayConnectionId, dryRun: false, confirmSameFile: true },
      "127.0.0.1",
    );
    await validation;
    await createBatch(t.desk, t.users.maker, { id: batchId, includeDuplicates: true }, "127.0.0.1");
    await settled(t.desk, batchId);
    expect(await t.desk.db.payout.count({ where: { batchId } })).toBe(rows.length);
    return batchId;
  }
  /** Distinct Zambian numbers for file `f` (no row is another's likely duplicate unless meant to be). */
  const phone = (f: number, i: number) => `26076${String(f).padStart(2, "0")}${String(i).padStart(5, "0")}`;
  const statuses = async (batchId: string) => {
    const rows = await t.desk.db.payout.groupBy({ by: ["status"], where: { batchId }, _count: { _all: true } });
    return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
  };

  beforeAll(async () => {
    t = await startTestDesk(kind);
    const { user } = await createUser(t.desk.db, { email: "admin2@test.desk", role: "admin", password: "admin2-password-long-enough" });
    admin2 = { id: user.id, email: user.email, name: user.name, role: "admin" };
    const { version } = await proposePolicy(t.desk, t.users.admin, {
      rules: [
        { name: "Large ZMW", currency: "ZMW", above: "1000", levels: [{ approvers: "approver", count: 1 }, { approvers: "admin", count: 1 }], allowOverBalance: true },
      ],
      defaultRule: { levels: [{ approvers: "approver", count: 1 }], allowOverBalance: true },
      approvalWindowHours: 168,
    });
    await approvePolicy(t.desk, admin2, { version });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("approves a whole batch with one step-up; large rows get this level and wait for an admin", async () => {
    const f = files + 1;
    const batchId = await batchOf([
      { amount: "20", phone: phone(f, 1) },
      { amount: "30", phone: phone(f, 2) },
      { amount: "40", phone: phone(f, 3) },
      { amount: "5000", phone: phone(f, 4) },
      { amount: "6000", phone: phone(f, 5) },
    ]);

    // A session that has not proved a code lately is asked for one, and nothing is decided.
    await t.caller("approver").approvals.queue(); // enrols the approver, as the test desk does on first use
    const stale = createCallerFactory(appRouter)(async () => ({ desk: t.desk, actor: t.users.approver, ip: "127.0.0.1", sessionId: null }));
    await expect(stale.approvals.approveBatch({ batchId })).rejects.toThrow(/code/i);
    expect(await statuses(batchId)).toEqual({ pending_approval: 5 });

    // The queue shows the batch as one card, not five.
    const queue = await t.caller("approver").approvals.queue();
    expect(queue.singles.some((c) => c.payout.id && c.payout.description.startsWith(`Batch ${f} `))).toBe(false);
    const card = queue.batches.find((b) => b.batch.id === batchId)!;
    expect(card).toMatchObject({ waiting: 5, batch: { fileName: `batch-${f}.csv`, createdBy: { id: t.users.maker.id } }, totals: [{ currency: "ZMW", count: 5, amountMinor: 1_109_000n }] });
    const preview = await t.caller("approver").approvals.batchPreview({ batchId });
    expect(preview).toMatchObject({ waiting: 5, final: 3, awaitingMore: 2, needsLaterLevel: 2, notYours: [] });

    const wakes = t.jobs.wakes;
    const result = await t.caller("approver").approvals.approveBatch({ batchId });
    expect(result).toMatchObject({ considered: 5, approved: 3, awaitingMore: 2, alreadyDecided: 0, skippedCount: 0 });
    expect(t.jobs.wakes).toBeGreaterThan(wakes);
    expect(await statuses(batchId)).toEqual({ approved: 3, pending_approval: 2 });
    const levels = await t.desk.db.approval.findMany({ where: { payout: { batchId } }, select: { level: true, approverId: true } });
    expect(levels).toHaveLength(5);
    expect(levels.every((a) => a.level === 1 && a.approverId === t.users.approver.id)).toBe(true);
    // Audited: one entry for the batch decision, one per payout as a single approval writes.
    const batchEntries = await t.desk.db.auditLog.findMany({ where: { action: "batch.approve", entityId: batchId } });
    expect(batchEntries).toHaveLength(1);
    expect(batchEntries[0]).toMatchObject({ actorId: t.users.approver.id, ip: "127.0.0.1", details: { approved: 3, awaitingMore: 2, considered: 5 } });
    expect(await t.desk.db.auditLog.count({ where: { action: "payout.approve", details: { path: ["batchId"], equals: batchId } } })).toBe(5);

    // The approver again: nothing recorded twice, both large rows counted as already theirs.
    expect(await t.caller("approver").approvals.approveBatch({ batchId })).toMatchObject({ considered: 2, approved: 0, awaitingMore: 0, alreadyDecided: 2 });
    expect(await t.desk.db.approval.count({ where: { payout: { batchId } } })).toBe(5);

    // The admin completes the second level.
    expect(await t.caller("admin").approvals.batchPreview({ batchId })).toMatchObject({ waiting: 2, final: 2 });
    expect(await t.caller("admin").approvals.approveBatch({ batchId })).toMatchObject({ approved: 2, awaitingMore: 0 });
    expect(await statuses(batchId)).toEqual({ approved: 5 });
    expect((await t.caller("approver").approvals.queue()).batches.some((b) => b.batch.id === batchId)).toBe(false);
  }, 120_000);

  it("approves chosen rows only, and names chosen ids that are not the batch's", async () => {
    const f = files + 1;
    const batchId = await batchOf([1, 2, 3, 4].map((i) => ({ amount: `${10 + i}`, phone: phone(f, i) })));
    const rows = await t.caller("approver").approvals.batchRows({ batchId, page: 1 });
    expect(rows.total).toBe(4);
    expect(rows.rows.map((r) => r.row)).toEqual([1, 2, 3, 4]);
    const chosen = [rows.rows[0]!.payout.id, rows.rows[2]!.payout.id];
    const stranger = await t.pawapayPayout({ approve: false, phone: phone(f, 99) });
    const result = await t.caller("approver").approvals.approveBatch({ batchId, payoutIds: [...chosen, stranger] });
    expect(result).toMatchObject({ considered: 3, approved: 2, skippedCount: 1, skipped: [{ rule: "batch.not_in_batch", count: 1 }] });
    const after = await t.desk.db.payout.findMany({ where: { batchId }, orderBy: { batchRow: "asc" }, select: { status: true } });
    expect(after.map((p) => p.status)).toEqual(["approved", "pending_approval", "approved", "pending_approval"]);
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: stranger } })).status).toBe("pending_approval");
  }, 120_000);

  it("rejects a batch with one reason, and asks for the reason first", async () => {
    const f = files + 1;
    const batchId = await batchOf([1, 2, 3].map((i) => ({ amount: `${20 + i}`, phone: phone(f, i) })));
    expect(await refusal(t.caller("approver").approvals.rejectBatch({ batchId, reason: "  " }))).toMatchObject({ code: "BAD_REQUEST", reason: expect.stringMatching(/reason/) });
    expect(await statuses(batchId)).toEqual({ pending_approval: 3 });
    expect(await t.caller("approver").approvals.rejectBatch({ batchId, reason: "Wrong month" })).toMatchObject({ considered: 3, rejected: 3, skippedCount: 0 });
    expect(await statuses(batchId)).toEqual({ rejected: 3 });
    const events = await t.desk.db.payoutEvent.findMany({ where: { payout: { batchId }, toStatus: "rejected" } });
    expect(events.map((e) => e.note)).toEqual(["Wrong month", "Wrong month", "Wrong month"]);
    expect(await t.desk.db.auditLog.count({ where: { action: "batch.reject", entityId: batchId } })).toBe(1);
    expect(await t.desk.db.auditLog.count({ where: { action: "payout.reject", details: { path: ["batchId"], equals: batchId } } })).toBe(3);
  }, 120_000);

  it("skips the maker's own rows, counted with the reason", async () => {
    const f = files + 1;
    const batchId = await batchOf([1, 2].map((i) => ({ amount: `${30 + i}`, phone: phone(f, i) })));
    const makerTurnedApprover: Actor = { ...t.users.maker, role: "approver" };
    const result = await approveBatch(t.desk, makerTurnedApprover, { batchId }, "127.0.0.1");
    expect(result).toMatchObject({ approved: 0, awaitingMore: 0, skippedCount: 2, skipped: [{ rule: "approval.own_payout", count: 2, reason: expect.stringMatching(/another approver/) }] });
    const rejected = await rejectBatch(t.desk, makerTurnedApprover, { batchId, reason: "Mine" }, "127.0.0.1");
    expect(rejected).toMatchObject({ rejected: 0, skippedCount: 2 });
    expect(await statuses(batchId)).toEqual({ pending_approval: 2 });
    expect(await t.desk.db.approval.count({ where: { payout: { batchId } } })).toBe(0);
  }, 120_000);

  it("asks the whole batch's acknowledgement of likely duplicates before deciding any row", async () => {
    const f = files + 1;
    // Rows 1 and 2 pay the same person the same amount: each is the other's likely duplicate.
    const batchId = await batchOf([
      { amount: "50", phone: phone(f, 1) },
      { amount: "50", phone: phone(f, 1) },
      { amount: "51", phone: phone(f, 2) },
    ]);
    expect(await t.caller("approver").approvals.batchPreview({ batchId })).toMatchObject({ needs: { duplicateRows: 2, overBalanceRows: 0 } });
    expect(await refusal(t.caller("approver").approvals.approveBatch({ batchId }))).toMatchObject({ code: "BAD_REQUEST", "acknowledge.duplicates": expect.stringMatching(/^2 rows are likely duplicates/) });
    expect(await statuses(batchId)).toEqual({ pending_approval: 3 });
    expect(await t.caller("approver").approvals.approveBatch({ batchId, acknowledge: { duplicates: true } })).toMatchObject({ approved: 3 });
    const acknowledged = await t.desk.db.approval.findMany({ where: { payout: { batchId }, acknowledged: { not: { equals: null } } } });
    expect(acknowledged).toHaveLength(2);
  }, 120_000);

  it(`approves ${BATCH_DECISION_CHUNK * 8 + 100} rows in chunks, two calls at once approving each payout once`, async () => {
    const f = files + 1;
    const n = BATCH_DECISION_CHUNK * 8 + 100;
    const batchId = await batchOf(Array.from({ length: n }, (_, i) => ({ amount: `${100 + (i % 400)}.${String(i % 100).padStart(2, "0")}`, phone: phone(f, i) })));
    const [a, b] = await Promise.all([t.caller("approver").approvals.approveBatch({ batchId }), t.caller("approver").approvals.approveBatch({ batchId })]);
    // Between them every row once: what one approved the other found already decided, or no longer waiting.
    expect(a.approved + b.approved).toBe(n);
    expect(a.skippedCount + b.skippedCount).toBe(0);
    // No transaction took more than a chunk: between them at least n / chunk transactions.
    expect(a.chunks + b.chunks).toBeGreaterThanOrEqual(Math.ceil(n / BATCH_DECISION_CHUNK));
    expect(await statuses(batchId)).toEqual({ approved: n });
    expect(await t.desk.db.approval.count({ where: { payout: { batchId } } })).toBe(n);
    const moves = await t.desk.db.payoutEvent.count({ where: { payout: { batchId }, toStatus: "approved" } });
    expect(moves).toBe(n);
    expect(await t.desk.db.auditLog.count({ where: { action: "payout.approve", details: { path: ["batchId"], equals: batchId } } })).toBe(n);
    // A retry later decides nothing.
    expect(await t.caller("approver").approvals.approveBatch({ batchId })).toMatchObject({ considered: 0, approved: 0 });
  }, 300_000);
});
