// Approvals under a real approval policy, through the tRPC procedures (and
// the service where a case needs an actor no router would let through), on
// PGlite and PostgreSQL: payouts in each band of a two-level policy, the
// wrong people refused, acknowledgements of the balance and of likely
// duplicates enforced and recorded, batches of mixed levels, and expiry.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import type { Actor } from "./types";
import { createUser } from "./users";
import { approvePolicy, createGroup, proposePolicy, setUserGroups } from "./approval-policy";
import { decide, expireOverdueApprovals } from "./approvals";
import { sweep } from "./payout-work";
import { verifyChain } from "./audit-chain";
import { payloadHash, payoutPayload } from "@/server/domain/payout-payload";

describe.each(testDatabases())("approvals under a policy on %s", (kind) => {
  let t: TestDesk;
  let admin2: Actor;
  let approver2: Actor;
  /** Approvers in the treasury group. */
  let treasurer1: Actor;
  let treasurer2: Actor;
  let treasury: string;

  async function person(email: string, role: Actor["role"]): Promise<Actor> {
    const { user } = await createUser(t.desk.db, { email, role, password: `${role}-password-for-${email}` });
    return { id: user.id, email: user.email, name: user.name, role };
  }

  let recipients = 0;
  /** A pawaPay ZMW payout made by the maker, waiting for approval; to a number of its own unless one is given (alike payouts are likely duplicates). */
  async function payout(amount: string, phone = `26076350${String(++recipients).padStart(4, "0")}`) {
    const created = await t.caller("maker").payouts.create({
      id: randomUUID(),
      connectionId: t.pawapayConnectionId,
      amount,
      currency: "ZMW",
      recipientPhone: phone,
      description: `Approvals test ${amount}`,
    });
    return created.id;
  }

  const statusOf = async (id: string) => (await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status;

  beforeAll(async () => {
    t = await startTestDesk(kind);
    admin2 = await person("admin2@test.desk", "admin");
    approver2 = await person("approver2@test.desk", "approver");
    treasurer1 = await person("treasurer1@test.desk", "approver");
    treasurer2 = await person("treasurer2@test.desk", "approver");
    treasury = (await createGroup(t.desk, t.users.admin, { name: "treasury" })).id;
    for (const member of [treasurer1, treasurer2]) await setUserGroups(t.desk, t.users.admin, member.id, [treasury]);
    // The policy under test, proposed by one admin and approved by another (version 2).
    const { version } = await proposePolicy(t.desk, t.users.admin, {
      rules: [
        { name: "Large ZMW", currency: "ZMW", above: "1000", levels: [{ approvers: "group", groupId: treasury, count: 2 }], allowOverBalance: true },
        { name: "Medium ZMW", currency: "ZMW", above: "100", levels: [{ approvers: "approver", count: 1 }, { approvers: "admin", count: 1 }], allowOverBalance: true },
        {
          name: "Checked ZMW",
          connectionId: t.pawapayConnectionId,
          currency: "ZMW",
          above: "50",
          upTo: "100",
          recipientCountry: "ZM",
          levels: [{ approvers: "approver", count: 1 }, { approvers: "group", groupId: treasury, count: 1 }],
          allowOverBalance: false,
        },
      ],
      defaultRule: { levels: [{ approvers: "approver", count: 1 }], allowOverBalance: true },
      approvalWindowHours: 168,
    });
    await approvePolicy(t.desk, admin2, { version });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("asks each band for what its rule says, level by level, and records the level of each approval", async () => {
    const small = await payout("20");
    const medium = await payout("500");
    const large = await payout("5000");
    for (const id of [small, medium, large]) expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).policyVersion).toBe(2);

    // Default rule: one approver.
    expect(await t.caller("approver").approvals.approve({ payoutId: small })).toMatchObject({ status: "approved", level: 1 });
    expect(await statusOf(small)).toBe("approved");

    // Medium: an approver, then an admin.
    expect(await t.caller("approver").approvals.approve({ payoutId: medium })).toMatchObject({ status: "pending_approval", level: 1 });
    const waiting = await t.caller("viewer").approvals.card({ payoutId: medium });
    expect(waiting).toMatchObject({ policyVersion: 2, rule: { name: "Medium ZMW", levels: "1 approver, then 1 admin" } });
    expect(waiting.standing.summary).toBe("Level 2 of 2: 0 of 1 approval; waiting for an admin");
    expect(await statusOf(medium)).toBe("pending_approval");
    expect(await t.caller("admin").approvals.approve({ payoutId: medium })).toMatchObject({ status: "approved", level: 2 });
    const approvals = await t.desk.db.approval.findMany({ where: { payoutId: medium }, orderBy: { level: "asc" } });
    expect(approvals.map((a) => [a.approverId, a.level])).toEqual([
      [t.users.approver.id, 1],
      [t.users.admin.id, 2],
    ]);
    const audits = await t.desk.db.auditLog.findMany({ where: { entityId: medium, action: "payout.approve" }, orderBy: { id: "asc" } });
    expect(audits.map((a) => a.details)).toMatchObject([
      { level: 1, of: 2, complete: false, policyVersion: 2, rule: "Medium ZMW" },
      { level: 2, of: 2, complete: true, policyVersion: 2, rule: "Medium ZMW" },
    ]);

    // Large: two of treasury.
    await t.caller(treasurer1).approvals.approve({ payoutId: large });
    const pending = (await t.caller("approver").approvals.pending()).find((c) => c.payout.id === large)!;
    expect(pending.standing.summary).toBe("Level 1 of 1: 1 of 2 approvals; waiting for treasury");
    expect(pending.approvals.map((a) => a.name)).toEqual([treasurer1.name]);
    expect(await t.caller(treasurer2).approvals.approve({ payoutId: large })).toMatchObject({ status: "approved" });
  });

  it("refuses the wrong people: the maker, a second approval, a second level, a non-member, the wrong role, a level too early", async () => {
    const medium = await payout("400");
    const large = await payout("4000");
    const checked = await payout("80", "260763456789");

    // The maker: by role at the router, and by the own-payout rule in the service whatever their role.
    expect(await refusal(t.caller("maker").approvals.approve({ payoutId: medium }))).toMatchObject({ code: "FORBIDDEN" });
    const makerAsApprover = { ...t.users.maker, role: "approver" as const };
    await expect(decide(t.desk, makerAsApprover, { payoutId: medium, decision: "approved" })).rejects.toMatchObject({ rule: "approval.own_payout" });
    expect(await refusal(t.caller("viewer").approvals.approve({ payoutId: medium }))).toMatchObject({ code: "FORBIDDEN" });

    // An admin may not take level 1 of "approver, then admin".
    expect(await refusal(t.caller("admin").approvals.approve({ payoutId: medium }))).toMatchObject({ code: "FORBIDDEN" });
    await expect(t.caller("admin").approvals.approve({ payoutId: medium })).rejects.toThrow("Level 1 of 2 (approvers) comes first; you count at level 2");

    // Nobody counts twice.
    await t.caller("approver").approvals.approve({ payoutId: medium });
    await expect(t.caller("approver").approvals.approve({ payoutId: medium })).rejects.toMatchObject({
      code: "CONFLICT",
      message: "You have already approved this payout (at level 1); one person approves at one level only",
    });
    // Level 2 needs an admin: another approver is not one.
    await expect(t.caller(approver2).approvals.approve({ payoutId: medium })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Level 2 of 2 needs admins; you are an approver",
    });

    // A non-member of the group asked for.
    await expect(t.caller("approver").approvals.approve({ payoutId: large })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Level 1 of 1 needs treasury; you are not a member of treasury",
    });
    // Nor may a non-member reject it: only those it waits for.
    expect(await refusal(t.caller("approver").approvals.reject({ payoutId: large, reason: "Not mine to stop" }))).toMatchObject({ code: "FORBIDDEN" });

    // One person at one level only: a treasurer is an approver too, and could count at both levels of "Checked ZMW".
    await t.caller(treasurer1).approvals.approve({ payoutId: checked });
    await expect(t.caller(treasurer1).approvals.approve({ payoutId: checked })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/one level only/) });
    expect((await t.caller(treasurer1).approvals.card({ payoutId: checked })).approve).toMatchObject({ ok: false, rule: "approval.already_decided" });
    expect(await t.caller(treasurer2).approvals.approve({ payoutId: checked })).toMatchObject({ status: "approved", level: 2 });

    for (const id of [medium, large]) expect(await statusOf(id)).toBe("pending_approval");
    // Every refusal left nothing behind: one approval on the medium payout (level 1), none on the large one.
    expect(await t.desk.db.approval.count({ where: { payoutId: medium } })).toBe(1);
    expect(await t.desk.db.approval.count({ where: { payoutId: large } })).toBe(0);
  });

  it("lets an admin the payout still waits for reject it before its level, with a reason", async () => {
    const medium = await payout("300");
    expect(await t.caller("admin").approvals.reject({ payoutId: medium, reason: "The invoice was paid by bank" })).toMatchObject({ status: "rejected" });
    expect(await statusOf(medium)).toBe("rejected");
  });

  describe("acknowledgements", () => {
    /** A balance read of 30.00 ZMW on pawaPay, as the balance schedule would record it. */
    async function balanceOf(amountMinor: bigint) {
      await t.desk.db.balanceSnapshot.create({ data: { connectionId: t.pawapayConnectionId, currency: "ZMW", amountMinor, label: "MTN_MOMO_ZMB" } });
    }

    it("shows the connection's money and asks for an acknowledgement past the available balance", async () => {
      await balanceOf(3000n);
      const id = await payout("40");
      const card = await t.caller("approver").approvals.card({ payoutId: id });
      expect(card.liquidity).toMatchObject({ currency: "ZMW", connectionName: expect.any(String), balanceMinor: 3000n, snapshotAt: expect.any(Date) });
      // Earlier tests left approved payouts (reserved) and possibly some in flight: available is what is left of the balance.
      expect(card.liquidity.availableMinor).toBe(3000n - card.liquidity.reservedMinor - card.liquidity.inFlightMinor);
      expect(card.liquidity.remainingMinor).toBe(card.liquidity.availableMinor! - 4000n);
      expect(card.needs.overBalance).toBe(true);

      const refused = await refusal(t.caller("approver").approvals.approve({ payoutId: id }));
      expect(refused).toMatchObject({ code: "BAD_REQUEST", "acknowledge.overBalance": expect.stringMatching(/past the available balance .*acknowledge it to approve anyway/) });
      expect(await statusOf(id)).toBe("pending_approval");
      expect(await t.desk.db.approval.count({ where: { payoutId: id } })).toBe(0);

      await t.caller("approver").approvals.approve({ payoutId: id, acknowledge: { overBalance: true } });
      expect(await statusOf(id)).toBe("approved");
      const approval = await t.desk.db.approval.findFirstOrThrow({ where: { payoutId: id } });
      expect(approval.acknowledged).toMatchObject({ overBalance: { currency: "ZMW", balanceMinor: "3000", remainingMinor: card.liquidity.remainingMinor!.toString() } });
      const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { entityId: id, action: "payout.approve" } });
      expect(entry.details).toMatchObject({ acknowledged: { overBalance: { balanceMinor: "3000" } } });
      // Now approved, it is reserved against the balance the next card shows.
      const next = await t.caller("approver").approvals.card({ payoutId: await payout("1") });
      expect(next.liquidity.reservedMinor).toBe(card.liquidity.reservedMinor + 4000n);
    });

    it("refuses past the balance outright where the rule forbids it, acknowledged or not", async () => {
      await balanceOf(3000n);
      const id = await payout("90", "260763456789");
      const card = await t.caller("approver").approvals.card({ payoutId: id });
      expect(card.approve).toMatchObject({ ok: false, rule: "approval.over_balance_forbidden", message: expect.stringMatching(/^Rule "Checked ZMW" of policy version 2 forbids approving past the available balance/) });
      await expect(t.caller("approver").approvals.approve({ payoutId: id, acknowledge: { overBalance: true } })).rejects.toMatchObject({ code: "FORBIDDEN" });
      // Once the balance covers it, the same approver may.
      await balanceOf(100_000_000n);
      expect(await t.caller("approver").approvals.approve({ payoutId: id })).toMatchObject({ status: "pending_approval", level: 1 });
    });

    it("flags a likely duplicate linking the other payout, and needs it acknowledged by id", async () => {
      await balanceOf(100_000_000n);
      const phone = "260763400001";
      const first = await payout("33", phone);
      const second = await payout("33", phone);
      const card = await t.caller("approver").approvals.card({ payoutId: second });
      expect(card.duplicates.map((d) => d.id)).toEqual([first]);
      expect(card.needs).toEqual({ overBalance: false, duplicates: [first] });

      expect(await refusal(t.caller("approver").approvals.approve({ payoutId: second }))).toMatchObject({
        code: "BAD_REQUEST",
        "acknowledge.duplicates": expect.stringMatching(new RegExp(`${first.slice(0, 8)}.*acknowledge it to approve anyway`)),
      });
      // Acknowledging some other payout is not acknowledging this one.
      expect(await refusal(t.caller("approver").approvals.approve({ payoutId: second, acknowledge: { duplicates: [second] } }))).toMatchObject({ code: "BAD_REQUEST" });
      await t.caller("approver").approvals.approve({ payoutId: second, acknowledge: { duplicates: [first] } });
      const approval = await t.desk.db.approval.findFirstOrThrow({ where: { payoutId: second } });
      expect(approval.acknowledged).toMatchObject({ duplicates: [{ payoutId: first, status: "pending_approval" }] });
      // The first is the second's twin as much: approving it needs the same acknowledgement.
      expect((await t.caller("approver").approvals.card({ payoutId: first })).needs.duplicates).toEqual([second]);
    });
  });

  it("approves a batch of mixed levels with one decision, and a missing acknowledgement stops the whole batch", async () => {
    await t.desk.db.balanceSnapshot.create({ data: { connectionId: t.pawapayConnectionId, currency: "ZMW", amountMinor: 100_000_000n } });
    const phone = "260763400002";
    const small = await payout("25", phone);
    const twin = await payout("25", phone);
    const medium = await payout("600");
    const large = await payout("6000");
    const ids = [small, twin, medium, large];

    const preview = await t.caller("approver").approvals.previewBatch({ payoutIds: ids });
    const item = (id: string) => preview.items.find((i) => i.payout.id === id)!;
    expect(item(small).approve).toMatchObject({ ok: true, level: 1, completes: true });
    expect(item(medium).approve).toMatchObject({ ok: true, level: 1, completes: false });
    expect(item(large).approve).toMatchObject({ ok: false, rule: "approval.not_eligible" });
    expect(item(twin).needs.duplicates).toEqual([small]);
    expect(preview.approvable).toBe(3);
    expect(preview.totals).toEqual([{ currency: "ZMW", count: 3, amountMinor: 2500n + 2500n + 60000n }]);

    // Without the twins' acknowledgements nothing is approved, and the field names the payout.
    const refused = await refusal(t.caller("approver").approvals.approveMany({ payoutIds: ids }));
    expect(refused).toMatchObject({ code: "BAD_REQUEST", [`acknowledgements.${twin}.duplicates`]: expect.any(String), [`acknowledgements.${small}.duplicates`]: expect.any(String) });
    expect(await t.desk.db.approval.count({ where: { payoutId: { in: ids } } })).toBe(0);

    const result = await t.caller("approver").approvals.approveMany({
      payoutIds: ids,
      acknowledgements: [
        { payoutId: small, duplicates: [twin] },
        { payoutId: twin, duplicates: [small] },
      ],
    });
    expect(result.approved.sort()).toEqual([small, twin].sort());
    expect(result.awaitingMore).toEqual([medium]);
    expect(result.refused).toEqual([{ payoutId: large, reason: "Level 1 of 1 needs treasury; you are not a member of treasury" }]);
    expect(await t.desk.db.approval.findFirstOrThrow({ where: { payoutId: medium } })).toMatchObject({ level: 1 });
    // The rows as written together: who, what exactly (the payload and its hash), and what was acknowledged, only where asked.
    const stored = await t.desk.db.approval.findMany({ where: { payoutId: { in: [small, twin, medium] } }, include: { payout: true } });
    const approverId = t.users.approver.id;
    for (const row of stored) {
      expect(row).toMatchObject({ approverId, decision: "approved", reason: null, round: row.payout.approvalRound, voidedAt: null });
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
      expect(row.payload).toEqual(payoutPayload(row.payout));
      expect(row.payloadHash).toBe(payloadHash(payoutPayload(row.payout)));
    }
    const byId = new Map(stored.map((r) => [r.payoutId, r]));
    expect(byId.get(small)!.acknowledged).toMatchObject({ duplicates: [{ payoutId: twin }] });
    expect(byId.get(medium)!.acknowledged).toBeNull();
    expect(await t.desk.db.auditLog.count({ where: { action: "payout.approve", entityId: { in: [small, twin, medium] } } })).toBe(3);
    expect(await verifyChain(t.desk.db)).toMatchObject({ intact: true, broken: null });

    // The admin finishes the medium one at level 2 in a batch of their own.
    const second = await t.caller("admin").approvals.approveMany({ payoutIds: [medium, large] });
    expect(second).toMatchObject({ approved: [medium], refused: [{ payoutId: large }] });
    expect(await statusOf(medium)).toBe("approved");
    expect(await statusOf(large)).toBe("pending_approval");
  });

  it("counts a batch's earlier payouts against the balance, as approving them together would", async () => {
    await t.desk.db.balanceSnapshot.create({ data: { connectionId: t.pawapayConnectionId, currency: "ZMW", amountMinor: 0n } });
    const before = await t.caller("approver").approvals.card({ payoutId: await payout("1") });
    // A balance that leaves room for one 20.00 payout after everything already committed, not two.
    const room = before.liquidity.reservedMinor + before.liquidity.inFlightMinor + 3000n;
    await t.desk.db.balanceSnapshot.create({ data: { connectionId: t.pawapayConnectionId, currency: "ZMW", amountMinor: room } });
    const a = await payout("20");
    const b = await payout("20");
    expect((await t.caller("approver").approvals.card({ payoutId: a })).needs.overBalance).toBe(false);
    expect((await t.caller("approver").approvals.card({ payoutId: b })).needs.overBalance).toBe(false);
    const preview = await t.caller("approver").approvals.previewBatch({ payoutIds: [a, b] });
    const [first, then] = [...preview.items].sort((x, y) => x.payout.id.localeCompare(y.payout.id));
    expect(first!.needs.overBalance).toBe(false);
    expect(then!.needs.overBalance).toBe(true);
    expect(await refusal(t.caller("approver").approvals.approveMany({ payoutIds: [a, b] }))).toMatchObject({ [`acknowledgements.${then!.payout.id}.overBalance`]: expect.any(String) });
    await t.caller("approver").approvals.approveMany({ payoutIds: [a, b], acknowledgements: [{ payoutId: then!.payout.id, overBalance: true }] });
    expect([await statusOf(a), await statusOf(b)]).toEqual(["approved", "approved"]);
  });

  it("expires a payout not fully approved within its window, with an event, and refuses approvals after the window", async () => {
    await t.desk.db.balanceSnapshot.create({ data: { connectionId: t.pawapayConnectionId, currency: "ZMW", amountMinor: 100_000_000n } });
    const medium = await payout("700");
    await t.caller("approver").approvals.approve({ payoutId: medium }); // level 1 of 2 only
    const row = await t.desk.db.payout.findUniqueOrThrow({ where: { id: medium } });
    // Seven days from creation, under version 2 (to within the moment between reading the policy and inserting the row).
    expect(Math.abs(row.approvalExpiresAt!.getTime() - row.createdAt.getTime() - 168 * 3600_000)).toBeLessThan(5_000);
    const card = await t.caller("admin").approvals.card({ payoutId: medium });
    expect(card.expiresSoon).toBe(false);

    // The window passes (the clock is moved, not the payout); before the sweeper runs, nobody may approve it.
    await t.desk.db.payout.update({ where: { id: medium }, data: { approvalExpiresAt: new Date(Date.now() - 1000) } });
    await expect(t.caller("admin").approvals.approve({ payoutId: medium })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/approval window .* ended/) });
    const soon = await payout("20");
    await t.desk.db.payout.update({ where: { id: soon }, data: { approvalExpiresAt: new Date(Date.now() + 3600_000) } });
    expect((await t.caller("approver").approvals.pending()).find((c) => c.payout.id === soon)?.expiresSoon).toBe(true);

    const swept = await sweep(t.desk.db, { sendWithinSeconds: 120, checkOverdueSeconds: 120, stuckAfterMinutes: 30 });
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    expect(await statusOf(medium)).toBe("expired");
    expect(await statusOf(soon)).toBe("pending_approval");
    const event = await t.desk.db.payoutEvent.findFirstOrThrow({ where: { payoutId: medium, toStatus: "expired" } });
    expect(event).toMatchObject({ fromStatus: "pending_approval", source: "system", note: expect.stringMatching(/approval window/) });
    expect(await t.desk.db.auditLog.count({ where: { entityId: medium, action: "payout.expire" } })).toBe(1);
    // Final: a second sweep finds nothing more to do for it.
    expect(await expireOverdueApprovals(t.desk.db)).toBe(0);
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: medium } })).dueAt).toBeNull();

    // A week and a day later, everything still waiting has expired.
    await expireOverdueApprovals(t.desk.db, new Date(Date.now() + 8 * 24 * 3600_000));
    expect(await statusOf(soon)).toBe("expired");
  });
});
