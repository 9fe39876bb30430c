// The maker edits a payout waiting for approval: the same checks as creating
// it, the approvals so far void and named, the diff kept for approvers, and a
// form loaded before another edit or an approval refused as a conflict.
// Through the tRPC caller, on a real database with the built-in emulators.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { payloadHash, payoutPayload, type PayoutPayload } from "@/server/domain/payout-payload";
import type { Prisma } from "@/server/db/generated/client";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { createUser } from "./users";
import { payoutEdits } from "./payouts";
import type { Actor } from "./types";

describe.each(testDatabases())("payout edits on %s", (kind) => {
  let t: TestDesk;
  let otherMaker: Actor;
  let secondApprover: Actor;
  beforeAll(async () => {
    t = await startTestDesk(kind);
    const made = await createUser(t.desk.db, { email: "maker2@test.desk", role: "maker", password: "maker2-test-password" });
    otherMaker = { id: made.user.id, email: made.user.email, name: made.user.name, role: "maker" };
    const second = await createUser(t.desk.db, { email: "approver2@test.desk", role: "approver", password: "approver2-test-password" });
    secondApprover = { id: second.user.id, email: second.user.email, name: second.user.name, role: "approver" };
  });
  afterAll(async () => {
    await t?.close();
  });

  const maker = () => t.caller("maker");
  // Each payout to a number of its own: the same recipient and amount twice is a likely duplicate, which approvals ask to acknowledge.
  let recipients = 0;
  async function newPayout(extra: Record<string, unknown> = {}) {
    const input = {
      connectionId: t.pawapayConnectionId,
      amount: "12.34",
      currency: "ZMW",
      recipientPhone: `260763455${String(100 + ++recipients)}`,
      description: "Edit test payout",
      ...extra,
    };
    const { id } = await maker().payouts.create({ id: randomUUID(), ...input });
    // The form's fields as the maker would send them back, with `changes` on top.
    return { id, fields: (changes: Record<string, unknown> = {}) => ({ ...input, ...changes }) };
  }
  const revisionOf = async (id: string) => (await maker().payouts.byId({ id })).editRevision;

  /**
   * An approval that does not complete the policy (the first level of two), as
   * decide() records one: this round, the hash and copy of the payload as it
   * stands. Written directly so these tests do not depend on a policy setup.
   */
  async function partialApproval(payoutId: string, approver: Actor) {
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id: payoutId } });
    const payload = payoutPayload(payout);
    return t.desk.db.approval.create({
      data: {
        payoutId,
        approverId: approver.id,
        decision: "approved",
        round: payout.approvalRound,
        level: 1,
        payloadHash: payloadHash(payload),
        payload: payload as unknown as Prisma.InputJsonValue,
      },
    });
  }

  it("voids the round's approvals, names the changed fields, and keeps before and after for approvers", async () => {
    // The emulator pays this number: the edited payout is sent below.
    const { id, fields } = await newPayout({ amount: "15", description: "Rent April", recipientPhone: "260763456789" });
    const approval = await partialApproval(id, secondApprover);
    const revision = await revisionOf(id);

    const result = await maker().payouts.update({ id, revision, ...fields({ amount: "20", description: "Rent for May" }) });
    expect(result).toMatchObject({ id, changed: ["amount", "description"], voidedApprovals: 1, duplicates: [] });

    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id }, include: { approvals: true, events: { orderBy: { id: "asc" } } } });
    expect(payout).toMatchObject({ status: "pending_approval", amountMinor: 2000n, description: "Rent for May", approvalRound: 1 });
    const voided = payout.approvals.find((a) => a.id === approval.id)!;
    expect(voided.voidedAt).toBeInstanceOf(Date);
    expect(voided.voidReason).toMatch(/^Edited by the maker: amount, description/);
    const event = payout.events.at(-1)!;
    expect(event).toMatchObject({ fromStatus: "pending_approval", toStatus: "pending_approval", source: "user", actorId: t.users.maker.id });
    expect(event.note).toBe("Edited by the maker: amount, description. The approval so far void");

    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "payout.edit", entityId: id } });
    expect(entry).toMatchObject({
      actorId: t.users.maker.id,
      details: {
        round: 1,
        changes: { amountMinor: { before: "1500", after: "2000" }, description: { before: "Rent April", after: "Rent for May" } },
        voidedApprovals: [secondApprover.id],
      },
    });

    // What the approver is shown, from the service and on the payout's page.
    const edits = await payoutEdits(t.desk, id);
    expect(edits).toHaveLength(1);
    expect(edits[0]).toMatchObject({
      by: { id: t.users.maker.id, name: t.users.maker.name },
      round: 1,
      changes: [
        { field: "amountMinor", label: "amount", before: "15.00 ZMW", after: "20.00 ZMW" },
        { field: "description", label: "description", before: "Rent April", after: "Rent for May" },
      ],
      voidedApprovals: [{ approverId: secondApprover.id, approverName: secondApprover.name }],
    });
    expect((await t.caller("approver").payouts.byId({ id })).edits).toEqual(edits);

    // A new approval binds the edited payout: it is sent as edited, not sent back for approval.
    await t.caller("approver").approvals.approve({ payoutId: id });
    const approved = await t.desk.db.approval.findFirstOrThrow({ where: { payoutId: id, voidedAt: null } });
    expect(approved).toMatchObject({ round: 1, payloadHash: payloadHash(payoutPayload(payout)) });
    expect((approved.payload as unknown as PayoutPayload).amountMinor).toBe("2000");
    await t.work.run({ payoutId: id });
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status).not.toMatch(/pending_approval|approved/);
  });

  it("runs the same checks as creating: a bad field is refused beside it and nothing changes", async () => {
    const { id, fields } = await newPayout();
    const revision = await revisionOf(id);
    expect(await refusal(maker().payouts.update({ id, revision, ...fields({ amount: "15.001", recipientPhone: "25677" }) }))).toMatchObject({
      code: "BAD_REQUEST",
      amount: "ZMW allows at most 2 decimal places",
      recipientPhone: expect.any(String),
    });
    expect(await refusal(maker().payouts.update({ id, revision, ...fields({ amount: "10000000.01" }) }))).toMatchObject({
      amount: "At most 10,000,000.00 ZMW per payout on pawaPay sandbox (the desk's limit); this is 10,000,000.01 ZMW",
    });
    expect(await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).toMatchObject({ amountMinor: 1234n, approvalRound: 0 });
    expect(await t.desk.db.auditLog.count({ where: { action: "payout.edit", entityId: id } })).toBe(0);
    // Saving what is already there (as the checks store it: trimmed) changes nothing and records nothing.
    const same = await maker().payouts.update({ id, revision, ...fields({ amount: " 12.34 ", description: "  Edit test payout " }) });
    expect(same).toMatchObject({ changed: [], voidedApprovals: 0, revision });
    expect(await t.desk.db.payoutEvent.count({ where: { payoutId: id } })).toBe(1);
  });

  it("refuses an edit by anyone but the payout's maker, and once the payout is approved", async () => {
    const { id, fields } = await newPayout();
    const revision = await revisionOf(id);
    expect(await refusal(t.caller(otherMaker).payouts.update({ id, revision, ...fields({ amount: "99" }) }))).toMatchObject({ code: "FORBIDDEN" });
    await expect(t.caller(otherMaker).payouts.update({ id, revision, ...fields({ amount: "99" }) })).rejects.toThrow("Only the maker who created this payout can edit it");
    // Approvers and admins do not edit payouts at all: the role check says so.
    await expect(t.caller("approver").payouts.update({ id, revision, ...fields({ amount: "99" }) })).rejects.toThrow(/needs the maker role/);
    expect((await t.caller(otherMaker).payouts.byId({ id })).canEdit).toBe(false);
    expect((await maker().payouts.byId({ id })).canEdit).toBe(true);

    await t.caller("approver").approvals.approve({ payoutId: id });
    const late = await refusal(maker().payouts.update({ id, revision, ...fields({ amount: "99" }) }));
    expect(late.code).toBe("CONFLICT");
    await expect(maker().payouts.update({ id, revision: await revisionOf(id), ...fields({ amount: "99" }) })).rejects.toThrow(
      "This payout is approved; only a payout waiting for approval can be edited",
    );
    expect((await maker().payouts.byId({ id })).canEdit).toBe(false);
    expect(await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).toMatchObject({ amountMinor: 1234n, approvalRound: 0 });
  });

  it("refuses a save from a form loaded before another edit or an approval, saying which", async () => {
    const { id, fields } = await newPayout();
    const revision = await revisionOf(id);
    // Two tabs save at once from the same form: one edit lands, the other is told why it did not.
    const outcomes = await Promise.allSettled([
      maker().payouts.update({ id, revision, ...fields({ amount: "21" }) }),
      maker().payouts.update({ id, revision, ...fields({ amount: "22" }) }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: "CONFLICT" });
    expect(String(lost.reason.message)).toMatch(/^This payout was edited meanwhile .*your edit was not saved$/);
    const won = outcomes.indexOf(outcomes.find((o) => o.status === "fulfilled")!);
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).amountMinor).toBe(won === 0 ? 2100n : 2200n);
    expect(await t.desk.db.auditLog.count({ where: { action: "payout.edit", entityId: id } })).toBe(1);

    // An approver approved after the form opened: saving would void an approval the maker has not seen.
    const fresh = await revisionOf(id);
    await partialApproval(id, secondApprover);
    await expect(maker().payouts.update({ id, revision: fresh, ...fields({ amount: "23" }) })).rejects.toThrow(
      `${secondApprover.name} approved this payout meanwhile: saving your edit would void an approval you have not seen. Reload the payout to see it; your edit was not saved`,
    );
    // Reloaded, the same edit goes through and voids it.
    expect(await maker().payouts.update({ id, revision: await revisionOf(id), ...fields({ amount: "23" }) })).toMatchObject({ changed: ["amount"], voidedApprovals: 1 });
  });

  it("refuses an edit to an amount over the connection's maximum set on the Connections form", async () => {
    const { id, fields } = await newPayout();
    const connection = await t.caller("admin").connections.get({ id: t.pawapayConnectionId });
    await t.caller("admin").connections.update({
      id: t.pawapayConnectionId,
      version: connection.version,
      name: connection.name,
      environment: connection.environment,
      baseUrl: "sandbox://pawapay",
      credentials: {},
      limits: { ZMW: { maxPerPayout: "100", daily: "", monthly: "" } },
    });
    try {
      expect(await refusal(maker().payouts.update({ id, revision: await revisionOf(id), ...fields({ amount: "100.01" }) }))).toMatchObject({
        amount: "At most 100.00 ZMW per payout on pawaPay sandbox (the connection's limit); this is 100.01 ZMW",
      });
      expect(await maker().payouts.update({ id, revision: await revisionOf(id), ...fields({ amount: "100" }) })).toMatchObject({ changed: ["amount"] });
    } finally {
      const now = await t.caller("admin").connections.get({ id: t.pawapayConnectionId });
      await t.caller("admin").connections.update({
        id: t.pawapayConnectionId,
        version: now.version,
        name: now.name,
        environment: now.environment,
        baseUrl: "sandbox://pawapay",
        credentials: {},
        limits: {},
      });
    }
  });

  it("answers not found for a payout that does not exist", async () => {
    const { fields } = await newPayout();
    expect(await refusal(maker().payouts.update({ id: randomUUID(), revision: "0.0.0", ...fields() }))).toMatchObject({ code: "NOT_FOUND" });
  });
});
