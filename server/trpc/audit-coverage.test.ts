// Every tRPC mutation that succeeds leaves an entry on the audit trail, made
// by the caller and from the caller's address. The mutations are walked from
// the router at run time: each must be exercised here (by a scenario step
// with real inputs, or failing that by a generic valid input), or be named in
// AUDITED_ELSEWHERE with the test that checks its entry. A mutation added
// tomorrow fails this test until one of those is true.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "otplib";
import type { Role } from "@/server/auth/roles";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead, approveManyAsRead } from "@/server/testing/approvals";
import { callProcedure, listProcedures, validInput } from "@/server/testing/procedures";
import type { Actor } from "@/server/services/types";
import { verifyChain } from "@/server/services/audit-chain";
import { createBatch, settled, uploadBatch } from "@/server/services/batches";

/** Mutations whose audit entry another test checks, because their setup is a whole run of other machinery. */
const AUDITED_ELSEWHERE: Record<string, string> = {
  "reconciliation.resolve": "server/services/reconciliation.test.ts: resolving an exception of a finished run writes reconciliation.resolve",
  "batches.retryFailed": "server/services/batch-results.test.ts: retrying a sent batch's failed rows (made and asked again) writes batch.retry by the maker",
};

type Caller = ReturnType<TestDesk["caller"]>;

interface Step {
  /** The mutation this step proves audited. */
  path: string;
  as: Role | (() => Actor);
  /** Setup, before the entries are counted (its own entries must not stand in for the step's). */
  prepare?: () => Promise<unknown>;
  /** The one mutation under test (and reads). */
  run: (caller: Caller) => Promise<unknown>;
}

describe.each(testDatabases())("every mutation is audited on %s", (kind) => {
  let t: TestDesk;
  const exercised = new Set<string>();
  const failures: string[] = [];

  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Runs a mutation and checks the entries it left: at least one, by the caller, from the caller's address. */
  async function audited(path: string, actor: Actor, call: () => Promise<unknown>): Promise<unknown> {
    const before = (await t.desk.db.auditLog.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? 0n;
    const result = await call();
    const entries = await t.desk.db.auditLog.findMany({ where: { id: { gt: before } }, orderBy: { id: "asc" } });
    if (!entries.some((e) => e.actorId === actor.id && e.ip === "127.0.0.1")) {
      failures.push(`${path} as ${actor.role}: ${entries.length === 0 ? "no audit entry" : `entries ${entries.map((e) => `${e.action} by ${e.actorId ?? "nobody"} from ${e.ip ?? "nowhere"}`).join(", ")}, none by the caller from its address`}`);
    }
    exercised.add(path);
    return result;
  }

  function actorOf(as: Step["as"]): Actor {
    return typeof as === "function" ? as() : t.users[as];
  }

  it("notices a call that leaves no entry (the check below can fail)", async () => {
    await audited("probe", t.users.admin, () => t.caller("admin").settings.general());
    expect(failures).toEqual(["probe as admin: no audit entry"]);
    failures.length = 0;
    exercised.clear();
  });

  it("writes an entry for every mutation that succeeds", async () => {
    const ctx = {
      payouts: [] as string[],
      limbo: "",
      connectionId: "",
      groupId: "",
      userId: "",
      secondAdmin: null as Actor | null,
      thirdAdmin: null as Actor | null,
      resolutionId: "",
      policyVersion: 0,
      enrolment: { enrolment: "", manualKey: "" },
      recoveryCodes: [] as string[],
      batchId: "",
    };
    const newPayout = async () => {
      const created = await t.caller("maker").payouts.create({
        id: randomUUID(),
        connectionId: t.pawapayConnectionId,
        amount: `${15 + ctx.payouts.length}`,
        currency: "ZMW",
        recipientPhone: "260763456789",
        description: `Audit coverage ${ctx.payouts.length}`,
      });
      ctx.payouts.push(created.id);
      return created.id;
    };
    /** A bulk file of one pawaPay payout, uploaded by the maker and checked. */
    const uploaded = async (what: string) => {
      const rows = ["amount,currency,recipient_phone,recipient_name,description", `${ctx.payouts.length + 30},ZMW,260763456789,Bulk ${what},Bulk ${what}`];
      const bytes = Buffer.from(`${rows.join("\r\n")}\r\n`, "utf8");
      const { batchId, validation } = await uploadBatch(t.desk, t.users.maker, { fileName: `${what}.csv`, bytes, connectionId: t.pawapayConnectionId, dryRun: false, confirmSameFile: true }, "127.0.0.1");
      await validation;
      ctx.batchId = batchId;
    };
    /** The same, its payouts created (waiting for approval). */
    const created = async (what: string) => {
      await uploaded(what);
      await createBatch(t.desk, t.users.maker, { id: ctx.batchId, includeDuplicates: true }, "127.0.0.1");
      await settled(t.desk, ctx.batchId);
    };
    const policy = (hours: number) => ({
      rules: [],
      defaultRule: { levels: [{ approvers: "approver", groupId: null, count: 1 }], allowOverBalance: true },
      approvalWindowHours: hours,
    });
    const secondAdmin = () => ctx.secondAdmin!;
    const code = (secret: string) => generate({ secret: secret.replace(/\s+/g, ""), epoch: Math.floor(Date.now() / 1000) });

    const steps: Step[] = [
      { path: "settings.updateGeneral", as: "admin", run: (c) => c.settings.updateGeneral({ merchantName: "Coverage Ltd", timeZone: "Africa/Lusaka" }) },
      { path: "payouts.updateDuplicateWindow", as: "admin", run: (c) => c.payouts.updateDuplicateWindow({ hours: "12" }) },
      {
        path: "connections.create",
        as: "admin",
        run: async (c) => {
          ctx.connectionId = (await c.connections.create({ provider: "pawapay", name: "Coverage pawaPay", environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: { apiToken: `tok-${randomUUID()}` } })).id;
        },
      },
      {
        path: "connections.update",
        as: "admin",
        run: (c) => c.connections.update({ id: ctx.connectionId, name: "Coverage pawaPay renamed", environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: {} }),
      },
      { path: "connections.test", as: "admin", run: (c) => c.connections.test({ id: t.pawapayConnectionId }) },
      { path: "connections.pause", as: "admin", run: (c) => c.connections.pause({ id: ctx.connectionId }) },
      { path: "connections.resume", as: "admin", run: (c) => c.connections.resume({ id: ctx.connectionId }) },
      { path: "balances.refresh", as: "viewer", run: (c) => c.balances.refresh({ connectionId: t.pawapayConnectionId }) },
      { path: "payouts.create", as: "maker", run: () => newPayout() },
      {
        path: "payouts.update",
        as: "maker",
        run: async (c) => {
          const id = ctx.payouts[0]!;
          const current = await c.payouts.byId({ id });
          return c.payouts.update({
            id,
            revision: (current as unknown as { editRevision: string }).editRevision,
            connectionId: t.pawapayConnectionId,
            amount: "21",
            currency: "ZMW",
            recipientPhone: "260763456789",
            description: "Audit coverage edited",
          });
        },
      },
      { path: "approvals.approve", as: "approver", run: (c) => approveAsRead(c, ctx.payouts[0]!) },
      { path: "approvals.reject", as: "approver", prepare: () => newPayout(), run: (c) => c.approvals.reject({ payoutId: ctx.payouts.at(-1)!, reason: "Not this one" }) },
      { path: "approvals.approveMany", as: "approver", prepare: async () => [await newPayout(), await newPayout()], run: (c) => approveManyAsRead(c, ctx.payouts.slice(-2)) },
      { path: "payouts.cancel", as: "maker", prepare: () => newPayout(), run: (c) => c.payouts.cancel({ id: ctx.payouts.at(-1)! }) },
      {
        path: "outcomes.checkNow",
        as: "approver",
        // A payout whose outcome the desk could not learn (set up directly: how it got there is not under test).
        prepare: async () => {
          ctx.limbo = await newPayout();
          await t.desk.db.payout.update({ where: { id: ctx.limbo }, data: { status: "unknown", approvedAt: new Date(), submittedAt: new Date() } });
        },
        run: (c) => c.outcomes.checkNow({ payoutId: ctx.limbo }),
      },
      {
        path: "outcomes.propose",
        as: "approver",
        prepare: () => t.desk.db.payout.update({ where: { id: ctx.limbo }, data: { dueAt: null, leaseOwner: null, leaseUntil: null } }),
        run: async (c) => {
          ctx.resolutionId = (await c.outcomes.propose({ payoutId: ctx.limbo, outcome: "failed", note: "Provider support confirmed it failed", confirmedWithProvider: true })).id;
        },
      },
      { path: "outcomes.reject", as: "admin", run: (c) => c.outcomes.reject({ resolutionId: ctx.resolutionId, note: "Ask again first" }) },
      {
        path: "outcomes.withdraw",
        as: "approver",
        prepare: async () => {
          ctx.resolutionId = (await t.caller("approver").outcomes.propose({ payoutId: ctx.limbo, outcome: "failed", note: "Confirmed again", confirmedWithProvider: true })).id;
        },
        run: (c) => c.outcomes.withdraw({ resolutionId: ctx.resolutionId }),
      },
      {
        path: "outcomes.approve",
        as: "admin",
        prepare: async () => {
          ctx.resolutionId = (await t.caller("approver").outcomes.propose({ payoutId: ctx.limbo, outcome: "failed", note: "Confirmed a third time", confirmedWithProvider: true })).id;
        },
        run: (c) => c.outcomes.approve({ resolutionId: ctx.resolutionId }),
      },
      { path: "batches.create", as: "maker", prepare: () => uploaded("create"), run: (c) => c.batches.create({ id: ctx.batchId, includeDuplicates: true }) },
      { path: "batches.discard", as: "maker", prepare: () => uploaded("discard"), run: (c) => c.batches.discard({ id: ctx.batchId }) },
      {
        path: "approvals.approveBatch",
        as: "approver",
        prepare: () => created("approve batch"),
        run: (c) => c.approvals.approveBatch({ batchId: ctx.batchId, acknowledge: { overBalance: true, duplicates: true } }),
      },
      { path: "approvals.rejectBatch", as: "approver", prepare: () => created("reject batch"), run: (c) => c.approvals.rejectBatch({ batchId: ctx.batchId, reason: "Wrong file" }) },
      {
        path: "batches.resume",
        as: "maker",
        // A check whose process went away: its heartbeat long stale.
        prepare: async () => {
          await uploaded("resume");
          await t.desk.db.$executeRaw`UPDATE "Batch" SET summary = summary || jsonb_build_object('phase', 'validating', 'heartbeatAt', '2000-01-01T00:00:00.000Z') WHERE id = ${ctx.batchId}::uuid`;
        },
        run: async (c) => {
          const result = await c.batches.resume({ id: ctx.batchId });
          await settled(t.desk, ctx.batchId);
          return result;
        },
      },
      {
        path: "reconciliation.start",
        as: "approver",
        run: (c) => c.reconciliation.start({ connectionId: t.pawapayConnectionId, periodFrom: new Date(Date.now() - 86_400_000), periodTo: new Date() }),
      },
      {
        path: "users.create",
        as: "admin",
        run: async (c) => {
          ctx.userId = (await c.users.create({ email: `covered-${randomUUID()}@users.test`, role: "viewer" })).id;
          const admin = await c.users.create({ email: `second-admin-${randomUUID()}@users.test`, name: "Second Admin", role: "admin" });
          ctx.secondAdmin = { id: admin.id, email: admin.email, name: admin.name, role: "admin" };
          const third = await c.users.create({ email: `third-admin-${randomUUID()}@users.test`, name: "Third Admin", role: "admin" });
          ctx.thirdAdmin = { id: third.id, email: third.email, name: third.name, role: "admin" };
        },
      },
      { path: "users.setRole", as: "admin", run: (c) => c.users.setRole({ userId: ctx.userId, role: "approver" }) },
      { path: "users.setDisabled", as: "admin", run: (c) => c.users.setDisabled({ userId: ctx.userId, disabled: true }) },
      { path: "users.resetPassword", as: "admin", run: (c) => c.users.resetPassword({ userId: ctx.userId }) },
      {
        path: "approvalPolicy.createGroup",
        as: "admin",
        run: async (c) => {
          ctx.groupId = (await c.approvalPolicy.createGroup({ name: `Treasury ${randomUUID().slice(0, 8)}` })).id;
        },
      },
      { path: "approvalPolicy.renameGroup", as: "admin", run: (c) => c.approvalPolicy.renameGroup({ id: ctx.groupId, name: `Treasury ${randomUUID().slice(0, 8)}` }) },
      { path: "users.setGroups", as: "admin", run: (c) => c.users.setGroups({ userId: ctx.userId, groupIds: [ctx.groupId] }) },
      { path: "approvalPolicy.deleteGroup", as: "admin", run: (c) => c.approvalPolicy.deleteGroup({ id: ctx.groupId }) },
      {
        path: "approvalPolicy.propose",
        as: "admin",
        run: async (c) => {
          ctx.policyVersion = (await c.approvalPolicy.propose(policy(100))).version;
        },
      },
      { path: "approvalPolicy.withdraw", as: "admin", run: (c) => c.approvalPolicy.withdraw({ version: ctx.policyVersion }) },
      {
        path: "approvalPolicy.reject",
        as: secondAdmin,
        prepare: async () => {
          ctx.policyVersion = (await t.caller("admin").approvalPolicy.propose(policy(101))).version;
        },
        run: (c) => c.approvalPolicy.reject({ version: ctx.policyVersion, note: "Not now" }),
      },
      {
        path: "approvalPolicy.approve",
        as: secondAdmin,
        prepare: async () => {
          ctx.policyVersion = (await t.caller("admin").approvalPolicy.propose(policy(102))).version;
        },
        run: (c) => c.approvalPolicy.approve({ version: ctx.policyVersion }),
      },
      {
        path: "auth.startEnrolment",
        as: "viewer",
        run: async (c) => {
          ctx.enrolment = await c.auth.startEnrolment();
        },
      },
      {
        path: "auth.confirmEnrolment",
        as: "viewer",
        run: async (c) => {
          ctx.recoveryCodes = (await c.auth.confirmEnrolment({ enrolment: ctx.enrolment.enrolment, code: await code(ctx.enrolment.manualKey) })).recoveryCodes;
        },
      },
      { path: "auth.stepUp", as: "viewer", run: (c) => c.auth.stepUp({ code: ctx.recoveryCodes[0]! }) },
      { path: "auth.regenerateRecoveryCodes", as: "viewer", run: (c) => c.auth.regenerateRecoveryCodes() },
      { path: "auth.disable", as: "viewer", run: (c) => c.auth.disable() },
      { path: "auth.resetSecondFactor", as: "admin", run: (c) => c.auth.resetSecondFactor({ userId: t.users.approver.id }) },
      {
        path: "auth.cancelSecondFactorReset",
        as: "admin",
        // An admin's factor: the reset is proposed, for a second admin to approve.
        prepare: () => t.caller("admin").auth.resetSecondFactor({ userId: secondAdmin().id }),
        run: (c) => c.auth.cancelSecondFactorReset({ userId: secondAdmin().id }),
      },
      {
        path: "auth.approveSecondFactorReset",
        as: secondAdmin,
        prepare: () => t.caller("admin").auth.resetSecondFactor({ userId: ctx.thirdAdmin!.id }),
        run: (c) => c.auth.approveSecondFactorReset({ userId: ctx.thirdAdmin!.id }),
      },
      {
        path: "auth.setRequireForAll",
        as: "admin",
        run: async (c) => {
          await c.auth.setRequireForAll({ required: true });
          return c.auth.setRequireForAll({ required: false });
        },
      },
    ];

    const known = new Set(listProcedures().map((p) => p.path));
    for (const step of steps) {
      if (!known.has(step.path)) continue; // a procedure since renamed: the walk below still covers the new name
      const actor = actorOf(step.as);
      try {
        await step.prepare?.();
        await audited(step.path, actor, () => step.run(t.caller(actor)));
      } catch (error) {
        failures.push(`${step.path} as ${actor.role}: the step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }

    // Whatever the steps did not reach: a valid input built from the schema, by each role allowed, until one succeeds.
    const fixtures = { connectionId: ctx.connectionId || t.pawapayConnectionId, payoutId: ctx.payouts[0] ?? randomUUID() };
    const unexercised: string[] = [];
    for (const procedure of listProcedures()) {
      if (procedure.type !== "mutation" || exercised.has(procedure.path) || AUDITED_ELSEWHERE[procedure.path]) continue;
      const input = validInput(procedure.path, procedure.schema, fixtures);
      const roles = procedure.roles === "public" ? [] : procedure.roles;
      let succeeded = false;
      for (const role of roles) {
        if (!input.ok) break;
        const before = (await t.desk.db.auditLog.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? 0n;
        try {
          await callProcedure(t.caller(role), procedure.path, input.value);
        } catch {
          continue;
        }
        succeeded = true;
        const mine = await t.desk.db.auditLog.count({ where: { id: { gt: before }, actorId: t.users[role].id } });
        if (mine === 0) failures.push(`${procedure.path} as ${role}: succeeded with a generic input and wrote no audit entry by the caller`);
        exercised.add(procedure.path);
        break;
      }
      if (!succeeded) unexercised.push(procedure.path);
    }

    expect(failures).toEqual([]);
    // Add a step above (or an AUDITED_ELSEWHERE line naming the test that checks it) for each of these.
    expect(unexercised).toEqual([]);
    expect(exercised.size).toBeGreaterThan(30);
    expect(await verifyChain(t.desk.db)).toMatchObject({ intact: true });
  });
});
