// The "Outcome unknown" work, through the tRPC routers, the real services, a
// real database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set) and the
// pawaPay emulator over HTTP. Payouts become unknown for real: the emulator
// is told to hold its answer past the connector's timeout.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import type { PawapayEmulator, PawapayFault } from "@/server/sandbox/pawapay";
import { sandboxEmulator } from "./sandbox-hosting";
import { changeStatus } from "./payout-status";
import { sweep } from "./payout-work";
import { createUser } from "./users";
import { checkAgainNow, CHECK_AGAIN_EVERY_SECONDS, RESOLVED_BY_DESK } from "./outcomes";

// pawaPay's sandbox numbers: 129 stays SUBMITTED at the operator (no final status, no callback); 789 is paid.
const STAYS_IN_FLIGHT = "260763456129";
const PAID = "260763456789";

describe.each(testDatabases())("outcome unknown work on %s", (kind) => {
  let t: TestDesk;
  let emulator: PawapayEmulator;
  let apiToken: string;

  beforeAll(async () => {
    t = await startTestDesk(kind);
    // Short, so a held answer becomes a lost one quickly.
    t.desk.connectorDeps = { timeoutMs: 700 };
    emulator = (await sandboxEmulator("pawapay", t.desk)) as unknown as PawapayEmulator;
    apiToken = await t.pawapayApiToken();
  });
  afterAll(async () => {
    await t?.close();
  });

  const approvedPayout = (phone: string) => t.pawapayPayout({ phone, description: "Limbo drill" });

  /** Approves a payout and sends it as a worker would, with the provider's answer lost: the payout is `unknown`. */
  async function unknownPayout(phone = STAYS_IN_FLIGHT, fault: PawapayFault = { mode: "timeout" }) {
    const id = await approvedPayout(phone);
    await emulator.injectFault(fault, apiToken);
    expect(await t.work.run({ payoutId: id, max: 1 })).toBe(1);
    expect(await statusOf(id)).toBe("unknown");
    return id;
  }

  const statusOf = async (id: string) => (await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status;
  const auditOf = async (id: string) =>
    (await t.desk.db.auditLog.findMany({ where: { entityType: "payout", entityId: id, action: { startsWith: "outcome." } }, orderBy: { id: "asc" } })).map(
      (a) => a.action,
    );
  const callsOf = (id: string) => t.desk.db.providerCall.count({ where: { payoutId: id } });

  const paid = (payoutId: string, note = "pawaPay support confirmed it was paid (ticket 4411)") => ({
    payoutId,
    outcome: "succeeded" as const,
    providerReference: "PP-REF-9001",
    note,
  });
  const failed = (payoutId: string) => ({
    payoutId,
    outcome: "failed" as const,
    note: "pawaPay support: rejected by the operator, will not be paid",
    confirmedWithProvider: true,
  });

  it("lists an unknown payout with what was sent, the last provider answer and its time in limbo", async () => {
    const id = await unknownPayout();
    const list = await t.caller("viewer").outcomes.list();
    const item = list.items.find((i) => i.payout.id === id);
    expect(item).toBeDefined();
    expect(item!.payout.amountMinor).toBe(1234n);
    expect(item!.payout.recipientPhone).toBe(STAYS_IN_FLIGHT);
    expect(item!.payout.connection.name).toContain("pawaPay");
    expect(item!.limboReason).toBe("Outcome unknown");
    const becameUnknown = await t.desk.db.payoutEvent.findFirstOrThrow({ where: { payoutId: id, toStatus: "unknown" } });
    expect(item!.limboSince).toEqual(becameUnknown.at);
    // The lost answer is the last thing the provider "said": a call with no HTTP status.
    expect(item!.lastCall).toMatchObject({ method: "POST", httpStatus: null });
    expect(item!.lastCall!.error).toBeTruthy();
    // A viewer reads, but may not act.
    expect(item!.canPropose).toBe(false);
    expect(item!.canCheckNow).toBe(false);
    const asApprover = (await t.caller("approver").outcomes.list()).items.find((i) => i.payout.id === id)!;
    expect(asApprover.canPropose).toBe(true);
    expect(asApprover.canCheckNow).toBe(true);
    expect(await t.caller("viewer").outcomes.count()).toBe(list.total);
  });

  it("lists flagged in-flight payouts, and not those in flight on schedule or final ones", async () => {
    const flagged = await approvedPayout(STAYS_IN_FLIGHT);
    await t.work.run({ payoutId: flagged, max: 1 });
    const onSchedule = await approvedPayout(STAYS_IN_FLIGHT);
    await t.work.run({ payoutId: onSchedule, max: 1 });
    expect(await statusOf(flagged)).toBe("processing");
    expect(await statusOf(onSchedule)).toBe("processing");
    await t.desk.db.payout.update({ where: { id: flagged }, data: { submittedAt: new Date(Date.now() - 31 * 60_000) } });
    await sweep(t.desk.db, { sendWithinSeconds: 120, checkOverdueSeconds: 120, stuckAfterMinutes: 30 });

    const items = (await t.caller("approver").outcomes.list()).items;
    const item = items.find((i) => i.payout.id === flagged);
    expect(item?.limboReason).toBe("In flight too long");
    expect(item?.resolvable).toBe(true);
    expect(items.some((i) => i.payout.id === onSchedule)).toBe(false);
    // Its own page says why it cannot be resolved by hand.
    const panel = await t.caller("approver").outcomes.forPayout({ payoutId: onSchedule });
    expect(panel.inLimbo).toBe(false);
    expect(panel.canPropose).toBe(false);
    expect(panel.proposeBlockedBecause).toMatch(/status checks are on schedule/);

    await changeStatus(t.desk.db, { payoutId: flagged, to: "succeeded", source: "status_query" });
    expect((await t.caller("approver").outcomes.list()).items.some((i) => i.payout.id === flagged)).toBe(false);
  });

  it("refuses makers and viewers every action, naming the role needed", async () => {
    const id = await unknownPayout();
    for (const role of ["maker", "viewer"] as const) {
      expect((await refusal(t.caller(role).outcomes.propose(paid(id)))).code).toBe("FORBIDDEN");
      expect((await refusal(t.caller(role).outcomes.checkNow({ payoutId: id }))).code).toBe("FORBIDDEN");
    }
    const { id: resolutionId } = await t.caller("approver").outcomes.propose(paid(id));
    for (const role of ["maker", "viewer"] as const) {
      expect((await refusal(t.caller(role).outcomes.approve({ resolutionId }))).code).toBe("FORBIDDEN");
      expect((await refusal(t.caller(role).outcomes.reject({ resolutionId, note: "no" }))).code).toBe("FORBIDDEN");
    }
    await expect(t.caller("maker").outcomes.approve({ resolutionId })).rejects.toThrow(/approver or admin/);
    expect(await statusOf(id)).toBe("unknown");
    expect(await auditOf(id)).toEqual(["outcome.propose"]);
  });

  it("names the field and the rule of a bad proposal", async () => {
    const id = await unknownPayout();
    const noReference = await refusal(t.caller("approver").outcomes.propose({ payoutId: id, outcome: "succeeded", note: "  " }));
    expect(noReference.code).toBe("BAD_REQUEST");
    expect(noReference.providerReference).toMatch(/reference is required to mark a payout paid/);
    expect(noReference.note).toMatch(/how you know/);
    const unconfirmed = await refusal(t.caller("approver").outcomes.propose({ ...failed(id), confirmedWithProvider: false }));
    expect(unconfirmed.confirmedWithProvider).toMatch(/may be paid twice/);
    const tooLong = await refusal(t.caller("approver").outcomes.propose(paid(id, "x".repeat(1001))));
    expect(tooLong.note).toBe("1,000 characters at most; this has 1,001");
    expect(await t.desk.db.outcomeResolution.count({ where: { payoutId: id } })).toBe(0);
  });

  it("never lets the proposer approve their own proposal, and refuses a second open one", async () => {
    const id = await unknownPayout();
    const { id: resolutionId } = await t.caller("approver").outcomes.propose(paid(id));

    const own = await refusal(t.caller("approver").outcomes.approve({ resolutionId }));
    expect(own.code).toBe("FORBIDDEN");
    await expect(t.caller("approver").outcomes.approve({ resolutionId })).rejects.toThrow(/different approver or admin/);
    const panel = await t.caller("approver").outcomes.forPayout({ payoutId: id });
    expect(panel.proposals[0]).toMatchObject({ state: "open", canApprove: false, canWithdraw: true, canReject: false });

    const second = await refusal(t.caller("admin").outcomes.propose(failed(id)));
    expect(second.code).toBe("CONFLICT");
    await expect(t.caller("admin").outcomes.propose(failed(id))).rejects.toThrow(/already has an open proposal \(mark paid, by/);
    expect(await t.desk.db.outcomeResolution.count({ where: { payoutId: id } })).toBe(1);
    expect(await statusOf(id)).toBe("unknown");
  });

  it("moves the status only when a second person approves, with the event, the decision and the audit", async () => {
    const id = await unknownPayout();
    const { id: resolutionId } = await t.caller("approver").outcomes.propose(paid(id));
    expect(await statusOf(id)).toBe("unknown");

    const asAdmin = await t.caller("admin").outcomes.forPayout({ payoutId: id });
    expect(asAdmin.proposals[0]).toMatchObject({ state: "open", canApprove: true, canReject: true, canWithdraw: false });
    expect(await t.caller("admin").outcomes.approve({ resolutionId, note: "Checked the statement too" })).toEqual({ status: "succeeded" });

    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(payout.status).toBe("succeeded");
    expect(payout.providerReference).toBe("PP-REF-9001");
    expect(payout.failureCode).toBeNull();
    expect(payout.dueAt).toBeNull(); // final: the desk asks the provider nothing more
    const last = await t.desk.db.payoutEvent.findFirstOrThrow({ where: { payoutId: id }, orderBy: { id: "desc" } });
    expect(last).toMatchObject({ fromStatus: "unknown", toStatus: "succeeded", source: "user", actorId: t.users.admin.id });
    expect(last.note).toContain("proposed by");
    expect(last.note).toContain("PP-REF-9001");
    const resolution = await t.desk.db.outcomeResolution.findUniqueOrThrow({ where: { id: resolutionId } });
    expect(resolution).toMatchObject({ decision: "approved", decidedById: t.users.admin.id, decisionNote: "Checked the statement too" });
    expect(resolution.decidedAt).not.toBeNull();
    expect(await auditOf(id)).toEqual(["outcome.propose", "outcome.approve"]);

    // Decided once: a second click is told who decided it.
    await expect(t.caller("admin").outcomes.approve({ resolutionId })).rejects.toThrow(/already approved by/);
    expect((await t.caller("approver").outcomes.list()).items.some((i) => i.payout.id === id)).toBe(false);
  });

  it("two people deciding at once: one decision counts, the status changes once", async () => {
    const id = await unknownPayout();
    const { user } = await createUser(t.desk.db, { email: `approver-${randomUUID()}@test.desk`, role: "approver", password: "second-approver-password" });
    const second = { id: user.id, email: user.email, name: user.name, role: "approver" as const };
    const { id: resolutionId } = await t.caller("approver").outcomes.propose(paid(id));
    const results = await Promise.allSettled([
      t.caller("admin").outcomes.approve({ resolutionId }),
      t.caller(second).outcomes.reject({ resolutionId, note: "Not convinced" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(String((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason)).toMatch(/already (approved|rejected) by/);
    const decided = await t.desk.db.outcomeResolution.findUniqueOrThrow({ where: { id: resolutionId } });
    expect(await statusOf(id)).toBe(decided.decision === "approved" ? "succeeded" : "unknown");
    expect(await t.desk.db.payoutEvent.count({ where: { payoutId: id, source: "user", fromStatus: "unknown" } })).toBe(decided.decision === "approved" ? 1 : 0);
  });

  it("waits for a status check under way before applying a resolution", async () => {
    const id = await unknownPayout();
    const { id: resolutionId } = await t.caller("approver").outcomes.propose(paid(id));
    await t.desk.db.payout.update({ where: { id }, data: { leaseOwner: "busy-worker", leaseUntil: new Date(Date.now() + 30_000) } });
    await expect(t.caller("admin").outcomes.approve({ resolutionId })).rejects.toThrow(/asking the provider about this payout right now/);
    expect(await statusOf(id)).toBe("unknown");
    await t.desk.db.payout.update({ where: { id }, data: { leaseOwner: null, leaseUntil: null } });
    await t.caller("admin").outcomes.approve({ resolutionId });
    expect(await statusOf(id)).toBe("succeeded");
  });

  it("marks failed with the desk's failure code after confirmation with the provider", async () => {
    const id = await unknownPayout();
    const { id: resolutionId } = await t.caller("admin").outcomes.propose(failed(id));
    await t.caller("approver").outcomes.approve({ resolutionId });
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(payout.status).toBe("failed");
    expect(payout.failureCode).toBe(RESOLVED_BY_DESK);
    expect(payout.failureMessage).toContain("will not be paid");
  });

  it("a payout that settles meanwhile makes the proposal moot: refused, and nothing changed", async () => {
    // Lost before pawaPay created it: the next status check finds nothing, resends with the same id, and pawaPay pays it.
    const id = await unknownPayout(PAID, { mode: "500" });
    const { id: resolutionId } = await t.caller("approver").outcomes.propose(failed(id));
    await t.work.run({ payoutId: id, all: true, max: 1 });
    await eventually(async () => (await statusOf(id)) === "succeeded");

    const moot = await refusal(t.caller("admin").outcomes.approve({ resolutionId }));
    expect(moot.code).toBe("CONFLICT");
    await expect(t.caller("admin").outcomes.approve({ resolutionId })).rejects.toThrow(/became succeeded \(a provider callback, .*\) after this was proposed, so this proposal is moot/);
    expect(await statusOf(id)).toBe("succeeded");
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).failureCode).toBeNull();
    expect(await t.desk.db.outcomeResolution.findUniqueOrThrow({ where: { id: resolutionId } })).toMatchObject({ decision: null });
    const panel = await t.caller("admin").outcomes.forPayout({ payoutId: id });
    expect(panel.proposals[0]).toMatchObject({ state: "moot", canApprove: false });
    expect(panel.canPropose).toBe(false);
    // The proposer may still tidy it away.
    await t.caller("approver").outcomes.withdraw({ resolutionId });
    expect(await auditOf(id)).toEqual(["outcome.propose", "outcome.withdraw"]);
  });

  it("a status change short of final also makes the proposal moot, and a fresh one may be made", async () => {
    const id = await unknownPayout();
    const { id: stale } = await t.caller("approver").outcomes.propose(failed(id));
    // The status check finds the payout at pawaPay, in flight: "failed" was a judgement on a payout that no longer looks like this.
    await t.work.run({ payoutId: id, all: true, max: 1 });
    expect(await statusOf(id)).toBe("processing");
    await expect(t.caller("admin").outcomes.approve({ resolutionId: stale })).rejects.toThrow(/became processing .* moot; propose again/);
    expect(await statusOf(id)).toBe("processing");

    // Still processing but flagged (stuck): resolvable again, and the moot proposal does not block a new one.
    await t.desk.db.payout.update({ where: { id }, data: { submittedAt: new Date(Date.now() - 31 * 60_000) } });
    await sweep(t.desk.db, { sendWithinSeconds: 120, checkOverdueSeconds: 120, stuckAfterMinutes: 30 });
    const { id: fresh } = await t.caller("admin").outcomes.propose(paid(id));
    await t.caller("approver").outcomes.approve({ resolutionId: fresh });
    expect(await statusOf(id)).toBe("succeeded");
  });

  it("reject needs a note and leaves the payout as it was; withdraw is the proposer's alone", async () => {
    const id = await unknownPayout();
    const { id: first } = await t.caller("approver").outcomes.propose(paid(id));
    expect((await refusal(t.caller("admin").outcomes.reject({ resolutionId: first }))).note).toMatch(/Say why you reject/);
    expect((await refusal(t.caller("approver").outcomes.reject({ resolutionId: first, note: "mine" }))).code).toBe("FORBIDDEN");
    await t.caller("admin").outcomes.reject({ resolutionId: first, note: "The reference is for another payout" });
    expect(await statusOf(id)).toBe("unknown");

    const { id: second } = await t.caller("approver").outcomes.propose(paid(id));
    expect((await refusal(t.caller("admin").outcomes.withdraw({ resolutionId: second }))).code).toBe("FORBIDDEN");
    await t.caller("approver").outcomes.withdraw({ resolutionId: second });
    expect((await refusal(t.caller("admin").outcomes.approve({ resolutionId: second }))).code).toBe("CONFLICT");
    expect(await statusOf(id)).toBe("unknown");
    expect(await auditOf(id)).toEqual(["outcome.propose", "outcome.reject", "outcome.propose", "outcome.withdraw"]);
  });

  it("refuses to resolve a payout that is being sent, or final", async () => {
    const id = await approvedPayout(STAYS_IN_FLIGHT);
    await changeStatus(t.desk.db, { payoutId: id, to: "submitting", from: ["approved"], source: "system", patch: { submittedAt: new Date() } });
    await t.desk.db.payout.update({ where: { id }, data: { attentionSince: new Date(), attentionReason: "stuck" } });
    expect((await t.caller("approver").outcomes.list()).items.find((i) => i.payout.id === id)?.resolvable).toBe(false);
    await expect(t.caller("approver").outcomes.propose(paid(id))).rejects.toThrow(/sending this payout right now/);
    await changeStatus(t.desk.db, { payoutId: id, to: "succeeded", source: "status_query" });
    await expect(t.caller("approver").outcomes.propose(paid(id))).rejects.toThrow(/already succeeded, a final status/);
    expect(await t.desk.db.outcomeResolution.count({ where: { payoutId: id } })).toBe(0);
  });

  it("check again now asks the provider at once, throttled per payout, audited", async () => {
    const id = await unknownPayout();
    // After the lost send the next check is due later, on pawaPay's schedule.
    expect((await t.work.due(id))[0]!.dueAt.getTime()).toBeGreaterThan(Date.now());
    const wakes = t.jobs.wakes;
    const callsBefore = await callsOf(id);

    await t.caller("approver").outcomes.checkNow({ payoutId: id });
    expect(t.jobs.wakes).toBe(wakes + 1);
    expect((await t.work.due(id))[0]!.dueAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await auditOf(id)).toEqual(["outcome.check_now"]);

    // A second press, by anyone, within the window is refused, saying when it may be asked again.
    const again = await refusal(t.caller("admin").outcomes.checkNow({ payoutId: id }));
    expect(again.code).toBe("TOO_MANY_REQUESTS");
    await expect(t.caller("admin").outcomes.checkNow({ payoutId: id })).rejects.toThrow(new RegExp(`once every ${CHECK_AGAIN_EVERY_SECONDS} s per payout`));
    expect(await auditOf(id)).toEqual(["outcome.check_now"]);
    const panel = await t.caller("approver").outcomes.forPayout({ payoutId: id });
    expect(panel.checkAgainAfter!.getTime()).toBeGreaterThan(Date.now());

    // A worker does it without waiting for the schedule (no `all`), and pawaPay says it has it.
    expect(await t.work.run({ payoutId: id, max: 1 })).toBe(1);
    expect(await callsOf(id)).toBe(callsBefore + 1);
    expect(await statusOf(id)).toBe("processing");

    // Past the window it may be asked again.
    const later = new Date(Date.now() + (CHECK_AGAIN_EVERY_SECONDS + 1) * 1000);
    await checkAgainNow(t.desk, t.users.admin, id, "127.0.0.1", later);
    expect(await auditOf(id)).toEqual(["outcome.check_now", "outcome.check_now"]);
  });

  it("check again now refuses a payout that is not in flight", async () => {
    const id = await unknownPayout();
    await changeStatus(t.desk.db, { payoutId: id, to: "failed", source: "status_query" });
    const refused = await refusal(t.caller("approver").outcomes.checkNow({ payoutId: id }));
    expect(refused.code).toBe("CONFLICT");
    await expect(t.caller("approver").outcomes.checkNow({ payoutId: id })).rejects.toThrow(/only asks the provider about payouts in flight/);
    expect(await auditOf(id)).toEqual([]);
  });
});
