// Getting to a final status safely, through the real services, a real
// database and the pawaPay emulator over HTTP with faults injected: every
// fault ends in the right state, and the emulator never holds two payouts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import type { PawapayEmulator, PawapayFault } from "@/server/sandbox/pawapay";
import { sandboxEmulator } from "./sandbox-hosting";
import { openConnector } from "./connections";
import { applyProviderResult, changeStatus } from "./payout-status";
import { checkPayoutStatus, claimTaken, payoutRequest, submitPayout, workOnPayout } from "./submission";
import { sweep, takeDueWork } from "./payout-work";

describe.each(testDatabases())("submission safety on %s", (kind) => {
  let t: TestDesk;
  let emulator: PawapayEmulator;
  let apiToken: string;

  beforeAll(async () => {
    t = await startTestDesk(kind);
    t.desk.connectorDeps = { timeoutMs: 700 };
    emulator = (await sandboxEmulator("pawapay", t.desk)) as unknown as PawapayEmulator;
    apiToken = await t.pawapayApiToken();
  });
  afterAll(async () => {
    await t?.close();
  });

  const approvedPayout = (phone = "260763456789") => t.pawapayPayout({ phone, description: "Fault drill" });

  const statusOf = async (id: string) => (await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status;
  const copiesAtProvider = (id: string) => emulator.payouts().filter((p) => p.payoutId === id).length;
  const events = async (id: string) =>
    (await t.desk.db.payoutEvent.findMany({ where: { payoutId: id }, orderBy: { id: "asc" } })).map((e) => e.toStatus);

  async function withFault(fault: PawapayFault, id: string) {
    await emulator.injectFault(fault, apiToken);
    return submitPayout(t.desk, id);
  }

  it.each([
    ["timeout", { mode: "timeout" } as PawapayFault, 1],
    ["garbage body", { mode: "garbage" } as PawapayFault, 1],
    ["dropped connection after accepting", { mode: "drop-after-accept" } as PawapayFault, 1],
    ["500 before creating", { mode: "500" } as PawapayFault, 0],
  ])("a %s leaves the payout unknown, never failed, and a status query settles it", async (_name, fault, createdByFault) => {
    const id = await approvedPayout();
    expect(await withFault(fault, id)).toBe("unknown");
    expect(copiesAtProvider(id)).toBe(createdByFault);
    // The follow-up status check: pawaPay either has it (→ in flight) or never saw it (→ resent with the same id).
    await checkPayoutStatus(t.desk, id, 1);
    await eventually(async () => (await statusOf(id)) === "succeeded");
    expect(copiesAtProvider(id)).toBe(1);
    const history = await events(id);
    expect(history.slice(0, 4)).toEqual(["pending_approval", "approved", "submitting", "unknown"]);
    expect(history).not.toContain("failed");
    if (createdByFault === 0) expect(history).toContain("submitting"); // resent after "never saw it"
  });

  it("applies a provider's answer from a status seen a moment ago, and reads again when the payout has moved since", async () => {
    const id = await approvedPayout();
    await changeStatus(t.desk.db, { payoutId: id, to: "submitting", from: ["approved"], source: "system" });
    await changeStatus(t.desk.db, { payoutId: id, to: "processing", from: ["submitting"], source: "provider_response" });
    // The sender believes it still submitting (a callback got there first): the change misses, reads processing, and applies.
    expect(await applyProviderResult(t.desk.db, id, { state: "succeeded", providerStatus: "COMPLETED", raw: {} }, "provider_response", "submitting")).toEqual({
      kind: "changed",
      from: "processing",
      to: "succeeded",
    });
    // A late answer believing it processing finds it final: kept, nothing moves twice.
    expect(await applyProviderResult(t.desk.db, id, { state: "succeeded", providerStatus: "COMPLETED", raw: {} }, "callback", "processing")).toEqual({
      kind: "unchanged",
      current: "succeeded",
    });
    expect(await events(id)).toEqual(["pending_approval", "approved", "submitting", "processing", "succeeded"]);
  });

  it("a worker's send writes the provider call and lets go of the payout in the status change itself, or on their own when that change is not made", async () => {
    const calls = async (id: string) => t.desk.db.providerCall.findMany({ where: { payoutId: id } });
    const released = async (id: string) =>
      t.desk.db.payout.findUniqueOrThrow({ where: { id }, select: { status: true, leaseOwner: true, leaseUntil: true, dueAt: true, checkAttempt: true } });

    // Taken with its row and approvals, which the sender checks and sends without reading them again.
    const id = await approvedPayout();
    const [taken] = await takeDueWork(t.desk.db, { owner: "w1", limit: 1, payoutId: id });
    expect(taken?.approved?.payout).toMatchObject({ id, status: "approved", amountMinor: expect.any(BigInt) });
    expect(taken?.approved?.approvals.length).toBeGreaterThan(0);
    const status = await workOnPayout(t.desk, taken!, "w1");
    expect(["processing", "succeeded"]).toContain(status);
    expect(await calls(id)).toHaveLength(1);
    expect((await calls(id))[0]).toMatchObject({ operation: "submit", method: "POST", httpStatus: 200, response: expect.any(Object) });
    const after = await released(id);
    expect(after.leaseOwner).toBeNull();
    if (after.status === "processing") expect(after).toMatchObject({ checkAttempt: 1, dueAt: expect.any(Date) });

    // A callback moves the payout while the answer is on its way: the sender's change misses, and the call and the release are written on their own.
    const raced = await approvedPayout();
    const [second] = await takeDueWork(t.desk.db, { owner: "w2", limit: 1, payoutId: raced });
    const realFetch = globalThis.fetch;
    t.desk.connectorDeps = {
      ...t.desk.connectorDeps,
      fetch: async (...args: Parameters<typeof fetch>) => {
        const response = await realFetch(...args);
        await changeStatus(t.desk.db, { payoutId: raced, to: "processing", from: ["submitting"], source: "callback" });
        return response;
      },
    };
    try {
      expect(["processing", "succeeded"]).toContain(await workOnPayout(t.desk, second!, "w2"));
    } finally {
      t.desk.connectorDeps = { timeoutMs: 700 };
    }
    expect(await calls(raced)).toHaveLength(1);
    expect((await released(raced)).leaseOwner).toBeNull();
    expect(copiesAtProvider(raced)).toBe(1);
  });

  it("claims the approved payouts a worker takes together, and leaves one changed behind the desk's back to the full check", async () => {
    const [a, b, tampered] = [await approvedPayout(), await approvedPayout(), await approvedPayout()];
    // Changed after it was approved, by a hand that went round the desk (no version bump, status kept).
    await t.desk.db.$executeRaw`UPDATE "Payout" SET "amountMinor" = "amountMinor" + 100 WHERE id = ${tampered}::uuid`;
    const taken = await Promise.all([a, b, tampered].map(async (id) => (await takeDueWork(t.desk.db, { owner: "w3", limit: 1, payoutId: id }))[0]!));
    const tamperedWork = taken[2]!;
    const claimed = await claimTaken(t.desk, taken, "w3");
    expect([...claimed.keys()].sort()).toEqual([a, b].sort());
    expect(await statusOf(a)).toBe("submitting");
    expect(await statusOf(tampered)).toBe("approved");
    for (const [i, id] of [a, b].entries()) {
      expect(["processing", "succeeded"]).toContain(await workOnPayout(t.desk, taken[i]!, "w3", claimed.get(id)));
      expect(copiesAtProvider(id)).toBe(1);
    }
    // Not claimed: the whole way, which reads it afresh, finds it changed, and sends nothing.
    expect(await workOnPayout(t.desk, tamperedWork, "w3", claimed.get(tampered))).toBe("pending_approval");
    expect(copiesAtProvider(tampered)).toBe(0);
  });

  it("a slow answer within the timeout is simply processing", async () => {
    const id = await approvedPayout();
    expect(await withFault({ mode: "slow", delayMs: 300 }, id)).toBe("processing");
    expect(copiesAtProvider(id)).toBe(1);
  });

  it("recovers a worker killed between sending and recording, without a second payout", async () => {
    const id = await approvedPayout();
    // A worker takes the payout, claims it and sends it ... and dies before recording the answer.
    const [taken] = await takeDueWork(t.desk.db, { owner: "dead-worker", limit: 1, payoutId: id });
    expect(taken?.status).toBe("approved");
    await changeStatus(t.desk.db, {
      payoutId: id,
      to: "submitting",
      from: ["approved"],
      source: "system",
      patch: { submittedAt: new Date(), leaseOwner: "dead-worker", leaseUntil: new Date(Date.now() + 30_000) },
    });
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id }, include: { connection: true } });
    const answer = await openConnector(t.desk, payout.connection, id).submit(payoutRequest(payout));
    expect(answer.state).toBe("processing");
    expect(await statusOf(id)).toBe("submitting");

    // While its lease runs, no other worker takes the payout, and nothing resends it...
    expect(await t.work.run({ payoutId: id })).toBe(0);
    expect(await submitPayout(t.desk, id)).toBe("submitting");
    expect(await checkPayoutStatus(t.desk, id)).toBe("submitting");
    // ...and once the lease has run out, the next worker asks the provider instead of resending.
    await t.desk.db.payout.update({ where: { id }, data: { leaseUntil: new Date(Date.now() - 1000) } });
    expect(await t.work.run({ payoutId: id, max: 1 })).toBe(1);
    expect(["processing", "succeeded"]).toContain(await statusOf(id));
    await eventually(async () => (await statusOf(id)) === "succeeded");
    expect(copiesAtProvider(id)).toBe(1);
    expect((await events(id)).slice(0, 5)).toEqual(["pending_approval", "approved", "submitting", "unknown", "processing"]);
  });

  it("resends only with the same id, and a duplicate send is answered from the provider's record", async () => {
    const id = await approvedPayout();
    await submitPayout(t.desk, id);
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id }, include: { connection: true } });
    const again = await openConnector(t.desk, payout.connection, id).submit(payoutRequest(payout));
    expect(["processing", "succeeded"]).toContain(again.state);
    expect(copiesAtProvider(id)).toBe(1);
  });

  it("drops a replayed callback and never moves a final status", async () => {
    const id = await approvedPayout();
    await submitPayout(t.desk, id);
    await eventually(async () => (await statusOf(id)) === "succeeded");
    const before = await events(id);
    const resend = await fetch(`${t.url}/api/sandbox/pawapay/payouts/resend-callback`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ payoutId: id }),
    });
    expect(resend.status).toBe(200);
    await new Promise((r) => setTimeout(r, 800));
    expect(await events(id)).toEqual(before);
    const receipts = await t.desk.db.callbackReceipt.findMany({ where: { payoutId: id } });
    expect(receipts.filter((r) => r.verified)).toHaveLength(1);
  });

  it("sends only what was approved: a payout changed after approval goes back to approval, naming the change", async () => {
    const id = await approvedPayout();
    // Someone alters the approved row behind the desk's back (the app allows no edit once approved).
    await t.desk.db.payout.update({ where: { id }, data: { description: "Changed after", recipientPhone: "260763456779" } });
    expect(await submitPayout(t.desk, id)).toBe("pending_approval");
    expect(copiesAtProvider(id)).toBe(0);
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id }, include: { approvals: true } });
    expect(payout).toMatchObject({ status: "pending_approval", approvalRound: 1, dueAt: null });
    expect(payout.approvals.every((a) => a.voidedAt !== null)).toBe(true);
    const event = await t.desk.db.payoutEvent.findFirstOrThrow({ where: { payoutId: id }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ fromStatus: "approved", toStatus: "pending_approval", source: "system" });
    expect(event.note).toMatch(/recipient phone, description/);
    expect(await t.desk.db.auditLog.count({ where: { entityId: id, action: "payout.approvals_voided" } })).toBe(1);

    // Approved again as it now stands, it is sent.
    await approveAsRead(t.caller("approver"), id);
    expect(await submitPayout(t.desk, id)).not.toBe("pending_approval");
    expect(copiesAtProvider(id)).toBe(1);
  });

  it("never sends a payout marked approved with no approval standing in its round", async () => {
    const id = await t.pawapayPayout({ approve: false });
    // Someone sets the status behind the desk's back.
    await t.desk.db.payout.update({ where: { id }, data: { status: "approved", dueAt: new Date() } });
    expect(await submitPayout(t.desk, id)).toBe("pending_approval");
    expect(copiesAtProvider(id)).toBe(0);
    const event = await t.desk.db.payoutEvent.findFirstOrThrow({ where: { payoutId: id }, orderBy: { id: "desc" } });
    expect(event.note).toMatch(/without an approval standing/);
  });

  it("flags a payout in flight too long, and clears the flag when it ends", async () => {
    const id = await approvedPayout("260763456129"); // pawaPay leaves it SUBMITTED
    await submitPayout(t.desk, id);
    expect(await statusOf(id)).toBe("processing");
    await t.desk.db.payout.update({ where: { id }, data: { submittedAt: new Date(Date.now() - 31 * 60_000) } });
    expect((await sweep(t.desk.db, LIMITS)).stuck).toBeGreaterThanOrEqual(1);
    const flagged = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(flagged.attentionSince).not.toBeNull();
    expect(flagged.attentionReason).toBe("stuck");
    expect((await sweep(t.desk.db, LIMITS)).stuck).toBe(0); // once
    await changeStatus(t.desk.db, { payoutId: id, to: "failed", source: "status_query", note: "drill" });
    const ended = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(ended.attentionSince).toBeNull();
    expect(ended.dueAt).toBeNull();
  });
});

const LIMITS = { sendWithinSeconds: 120, checkOverdueSeconds: 120, stuckAfterMinutes: 30 };
