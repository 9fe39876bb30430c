// Policy versions are maker-checker, on PGlite and PostgreSQL: one admin
// proposes, a different admin approves (or rejects, or the proposer
// withdraws), the diff enters the audit trail, and payouts already waiting
// keep the version they were created under. Version 1 is seeded once however
// many processes start at once; groups are managed and assigned, audited.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { DEFAULT_APPROVAL_POLICY } from "@/server/domain/approval-policy";
import type { Actor } from "./types";
import { createUser } from "./users";
import { activePolicy, ensurePolicySeeded, setUserGroups } from "./approval-policy";

describe.each(testDatabases())("approval policy versions on %s", (kind) => {
  let t: TestDesk;
  let admin2: Actor;

  beforeAll(async () => {
    t = await startTestDesk(kind);
    const { user } = await createUser(t.desk.db, { email: "admin2@test.desk", role: "admin", password: "second-admin-password" });
    admin2 = { id: user.id, email: user.email, name: user.name, role: "admin" };
  });
  afterAll(async () => {
    await t?.close();
  });

  const medium = (levels: Array<{ approvers: string; count: number; groupId?: string }>) => ({
    rules: [{ name: "Medium ZMW", currency: "ZMW", above: "100", levels, allowOverBalance: true }],
    defaultRule: { levels: [{ approvers: "approver", count: 1 }], allowOverBalance: true },
    approvalWindowHours: 168,
  });

  async function payout(amount: string) {
    return (
      await t.caller("maker").payouts.create({
        id: randomUUID(),
        connectionId: t.pawapayConnectionId,
        amount,
        currency: "ZMW",
        recipientPhone: `26076351${String(Math.floor(Math.random() * 1e4)).padStart(4, "0")}`,
        description: "Policy versions test",
      })
    ).id;
  }

  it("starts at version 1, one approver for any payout, seven days", async () => {
    const overview = await t.caller("viewer").approvalPolicy.overview();
    expect(overview.active).toMatchObject({ version: 1, status: "active", policy: DEFAULT_APPROVAL_POLICY });
    expect(overview.proposal).toBeNull();
    expect(overview.canPropose).toBe(false); // a viewer reads it only
    const id = await payout("20");
    expect(await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).toMatchObject({ policyVersion: 1 });
  });

  it("takes effect only once a different admin approves it, with the diff in the audit trail", async () => {
    const underV1 = await payout("500");
    const proposed = await t.caller("admin").approvalPolicy.propose({ ...medium([{ approvers: "approver", count: 1 }, { approvers: "admin", count: 1 }]), note: "Admins see the medium ones" });
    expect(proposed.version).toBe(2);
    expect(proposed.changes).toEqual([{ subject: 'Rule "Medium ZMW"', before: null, after: "1. ZMW, above 100.00 ZMW: 1 approver, then 1 admin" }]);

    // Proposed is not active: new payouts still get version 1.
    expect((await activePolicy(t.desk.db)).version).toBe(1);
    const whileProposed = await payout("500");
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: whileProposed } })).policyVersion).toBe(1);

    // The proposer may not approve their own proposal; nor may a non-admin.
    expect(await refusal(t.caller("admin").approvalPolicy.approve({ version: 2 }))).toMatchObject({ code: "FORBIDDEN" });
    await expect(t.caller("admin").approvalPolicy.approve({ version: 2 })).rejects.toThrow("You proposed this version; a different admin must approve it");
    expect(await refusal(t.caller("approver").approvalPolicy.approve({ version: 2 }))).toMatchObject({ code: "FORBIDDEN" });
    // One proposal open at a time.
    expect(await refusal(t.caller(admin2).approvalPolicy.propose(medium([{ approvers: "admin", count: 1 }])))).toMatchObject({ code: "CONFLICT" });

    const seen = await t.caller(admin2).approvalPolicy.overview();
    expect(seen).toMatchObject({ canDecideProposal: true, canWithdrawProposal: false, proposal: { version: 2, proposedBy: { id: t.users.admin.id } } });

    await t.caller(admin2).approvalPolicy.approve({ version: 2, note: "Agreed at the Monday meeting" });
    const after = await t.caller("viewer").approvalPolicy.overview();
    expect(after.active).toMatchObject({ version: 2, decidedBy: { id: admin2.id }, decisionNote: "Agreed at the Monday meeting" });
    expect(after.history.find((v) => v.version === 1)?.status).toBe("superseded");
    const entries = await t.desk.db.auditLog.findMany({ where: { entityType: "policy", entityId: "2" }, orderBy: { id: "asc" } });
    expect(entries.map((e) => [e.action, e.actorId])).toEqual([
      ["policy.propose", t.users.admin.id],
      ["policy.approve", admin2.id],
    ]);
    expect(entries[1]!.details).toMatchObject({ version: 2, replaces: 1, changes: [{ subject: 'Rule "Medium ZMW"', after: expect.stringMatching(/1 approver, then 1 admin/) }] });

    // Payouts waiting keep version 1: one approver completes them. A new one needs the admin too.
    expect(await t.caller("viewer").approvals.card({ payoutId: underV1 })).toMatchObject({ policyVersion: 1, rule: { name: "Default rule" } });
    expect(await t.caller("approver").approvals.approve({ payoutId: underV1 })).toMatchObject({ status: "approved" });
    const underV2 = await payout("500");
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: underV2 } })).policyVersion).toBe(2);
    expect(await t.caller("approver").approvals.approve({ payoutId: underV2 })).toMatchObject({ status: "pending_approval", level: 1 });
    expect((await t.caller("viewer").approvals.card({ payoutId: underV2 })).standing.summary).toBe("Level 2 of 2: 0 of 1 approval; waiting for an admin");
  });

  it("lets a different admin reject a proposal with a reason, and the proposer withdraw theirs", async () => {
    const { version } = await t.caller(admin2).approvalPolicy.propose(medium([{ approvers: "admin", count: 1 }]));
    expect(await refusal(t.caller("admin").approvalPolicy.reject({ version, note: " " }))).toMatchObject({ code: "BAD_REQUEST", note: expect.stringMatching(/Say why/) });
    expect(await refusal(t.caller(admin2).approvalPolicy.reject({ version, note: "Mine" }))).toMatchObject({ code: "FORBIDDEN" });
    await t.caller("admin").approvalPolicy.reject({ version, note: "Two levels stay" });
    expect(await refusal(t.caller(admin2).approvalPolicy.approve({ version }))).toMatchObject({ code: "CONFLICT" });

    const again = await t.caller(admin2).approvalPolicy.propose(medium([{ approvers: "admin", count: 1 }]));
    expect(await refusal(t.caller("admin").approvalPolicy.withdraw({ version: again.version }))).toMatchObject({ code: "FORBIDDEN" });
    await t.caller(admin2).approvalPolicy.withdraw({ version: again.version });
    const overview = await t.caller("admin").approvalPolicy.overview();
    expect(overview.active?.version).toBe(2);
    expect(overview.history.filter((v) => v.version > 2).map((v) => v.status)).toEqual(["withdrawn", "rejected"]);
    expect(await t.desk.db.auditLog.count({ where: { action: { in: ["policy.reject", "policy.withdraw"] } } })).toBe(2);
  });

  it("names the rule and field of each problem in a proposal, and refuses one that changes nothing", async () => {
    const bad = await refusal(
      t.caller("admin").approvalPolicy.propose({
        rules: [{ name: "Big", above: "1000", levels: [{ approvers: "admin", count: 3 }], allowOverBalance: true }],
        defaultRule: { levels: [], allowOverBalance: true },
        approvalWindowHours: 0,
      }),
    );
    expect(bad).toMatchObject({
      code: "BAD_REQUEST",
      "rules.0.currency": 'Rule 1 ("Big"): an amount range needs a currency (amounts compare only within one currency)',
      // The desk has two admins: a level of three could never be completed.
      "rules.0.levels.0.count": 'Rule 1 ("Big"), level 1: needs 3 different admins but the desk has 2 who could approve',
      "defaultRule.levels": "Default rule: add at least one level of approvers",
      approvalWindowHours: expect.stringMatching(/whole hours from 1/),
    });
    const same = await refusal(t.caller("admin").approvalPolicy.propose(medium([{ approvers: "approver", count: 1 }, { approvers: "admin", count: 1 }])));
    expect(same).toMatchObject({ code: "BAD_REQUEST", rules: "This is the same as version 2, the active policy: change something to propose it" });
    expect(await t.desk.db.approvalPolicyVersion.count({ where: { status: "proposed" } })).toBe(0);
  });

  it("refuses a proposal made against a version that is no longer active", async () => {
    // Written as two admins racing would leave it: a proposal based on version 1 while 2 is active.
    await t.desk.db.approvalPolicyVersion.create({
      data: { version: 90, rules: DEFAULT_APPROVAL_POLICY as object, status: "proposed", proposedById: admin2.id, diff: { baseVersion: 1, changes: [] } },
    });
    await expect(t.caller("admin").approvalPolicy.approve({ version: 90 })).rejects.toMatchObject({
      code: "CONFLICT",
      message: "Version 90 was proposed against version 1, but version 2 is active now; withdraw it and propose again",
    });
    await t.caller(admin2).approvalPolicy.withdraw({ version: 90 });
  });

  it("manages groups: unique names, assignment audited, and no deleting a group a policy or a waiting payout needs", async () => {
    const group = await t.caller("admin").approvalPolicy.createGroup({ name: "  Treasury  " });
    expect(group.name).toBe("Treasury");
    expect(await refusal(t.caller("admin").approvalPolicy.createGroup({ name: "treasury" }))).toMatchObject({ code: "BAD_REQUEST", name: "A group named Treasury exists already; names are unique" });
    expect(await refusal(t.caller("approver").approvalPolicy.createGroup({ name: "Mine" }))).toMatchObject({ code: "FORBIDDEN" });
    await t.caller("admin").approvalPolicy.renameGroup({ id: group.id, name: "Treasury team" });

    await setUserGroups(t.desk, t.users.admin, t.users.approver.id, [group.id]);
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "user.groups", entityId: t.users.approver.id } });
    expect(entry).toMatchObject({ actorId: t.users.admin.id, details: { before: [], after: ["Treasury team"] } });
    await expect(setUserGroups(t.desk, t.users.approver, t.users.approver.id, [])).rejects.toMatchObject({ rule: "policy.role" });
    await expect(setUserGroups(t.desk, t.users.admin, t.users.approver.id, [randomUUID()])).rejects.toMatchObject({ fields: { groupIds: expect.any(String) } });

    // A policy asking for the group, then a payout under it; the group cannot go while either holds.
    const { version } = await t.caller("admin").approvalPolicy.propose({
      ...medium([{ approvers: "approver", count: 1 }, { approvers: "admin", count: 1 }]),
      rules: [{ name: "Team", currency: "ZMW", above: "5000", levels: [{ approvers: "group", groupId: group.id, count: 1 }], allowOverBalance: true }],
    });
    await t.caller(admin2).approvalPolicy.approve({ version });
    expect(await refusal(t.caller("admin").approvalPolicy.deleteGroup({ id: group.id }))).toMatchObject({ code: "CONFLICT" });
    await expect(t.caller("admin").approvalPolicy.deleteGroup({ id: group.id })).rejects.toThrow(`Version ${version} (active) of the approval policy asks for Treasury team`);
    const waiting = await payout("6000");
    expect((await t.caller("viewer").approvals.card({ payoutId: waiting })).standing.summary).toBe("Level 1 of 1: 0 of 1 approval; waiting for Treasury team");

    // A newer version without the group: the waiting payout still needs it.
    const v4 = await t.caller("admin").approvalPolicy.propose(medium([{ approvers: "approver", count: 1 }]));
    await t.caller(admin2).approvalPolicy.approve({ version: v4.version });
    await expect(t.caller("admin").approvalPolicy.deleteGroup({ id: group.id })).rejects.toThrow(`1 payout waiting for approval under version ${version} still needs Treasury team; delete it once it is decided or expired`);
    await t.caller("approver").approvals.approve({ payoutId: waiting }); // the approver is in the group
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: waiting } })).status).toBe("approved");
    await t.caller("admin").approvalPolicy.deleteGroup({ id: group.id });
    expect(await t.desk.db.userGroup.count({ where: { groupId: group.id } })).toBe(0);
    expect(await t.desk.db.auditLog.count({ where: { entityType: "group", entityId: group.id } })).toBe(3); // create, rename, delete
  });
});

describe.each(testDatabases())("seeding version 1 on %s", (kind) => {
  it("seeds exactly once when many start at once, with one audit entry", async () => {
    const db = await createTestDatabase(kind);
    try {
      await Promise.all(Array.from({ length: 8 }, () => ensurePolicySeeded(db.prisma)));
      expect(await db.prisma.approvalPolicyVersion.findMany({ select: { version: true, status: true } })).toEqual([{ version: 1, status: "active" }]);
      expect(await db.prisma.auditLog.count({ where: { action: "policy.seed" } })).toBe(1);
      await ensurePolicySeeded(db.prisma);
      expect(await db.prisma.approvalPolicyVersion.count()).toBe(1);
    } finally {
      await db.dispose();
    }
  });
});
