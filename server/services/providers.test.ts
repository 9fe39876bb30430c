// Every provider through the same desk path: create → approve → submit job →
// callbacks / status polling → final status, against each built-in emulator
// over real HTTP, on PGlite and (with TEST_DATABASE_URL) PostgreSQL.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import type { ProviderKind } from "@/server/connectors/types";
import { PROVIDER_CASES, type PayoutFields } from "@/server/testing/provider-cases";
import { sandboxEmulator } from "./sandbox-hosting";
import { openConnector } from "./connections";
import { changeStatus } from "./payout-status";
import { checkPayoutStatus, payoutRequest, submitPayout } from "./submission";

/** What every built-in emulator offers tests: its payouts, and faults on the next send. */
interface TestableEmulator {
  payouts(): unknown[];
  injectFault(fault: { mode: string; count?: number }): unknown;
}

describe.each(testDatabases())("every provider end to end on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function connectionOf(provider: ProviderKind) {
    return (await t.desk.db.connection.findFirstOrThrow({ where: { provider } })).id;
  }

  /** Runs the desk's jobs (submit, status checks) until the payout is final, as the workers would. */
  async function driveToFinal(id: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Sends it, then asks about it without waiting for the provider's schedule.
      await t.work.run({ payoutId: id, all: true, max: 1 });
      const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
      if (["succeeded", "failed", "cancelled", "rejected", "reversed"].includes(payout.status)) return payout;
      if (Date.now() > deadline) throw new Error(`Payout ${id} still ${payout.status} after ${timeoutMs} ms`);
      // Waiting for a callback or for the provider to move on.
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function payOut(provider: ProviderKind, fields: PayoutFields) {
    const created = await t.caller("maker").payouts.create({ id: randomUUID(), connectionId: await connectionOf(provider), ...fields });
    await approveAsRead(t.caller("approver"), created.id);
    return driveToFinal(created.id);
  }

  it.each(PROVIDER_CASES)("$provider pays out to success", async ({ provider, success }) => {
    const payout = await payOut(provider, success);
    expect(payout.status).toBe("succeeded");
    const events = await t.desk.db.payoutEvent.findMany({ where: { payoutId: payout.id }, orderBy: { id: "asc" } });
    expect(events.slice(0, 3).map((e) => e.toStatus)).toEqual(["pending_approval", "approved", "submitting"]);
    expect(events.map((e) => e.toStatus)).not.toContain("failed");
    const calls = await t.desk.db.providerCall.findMany({ where: { payoutId: payout.id } });
    expect(calls.length).toBeGreaterThan(0);
  });

  async function emulatorOf(provider: ProviderKind) {
    return (await sandboxEmulator(provider, t.desk)) as unknown as TestableEmulator;
  }

  /**
   * Payouts the provider holds for this payout id, whatever its wire field is
   * called, leaving out a Paytota payout never executed: the orphan of a lost
   * initiate answer, which moved no money and never will (Paytota pays on execute).
   */
  async function copiesAtProvider(provider: ProviderKind, id: string) {
    const text = (p: unknown) => JSON.stringify(p, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    return (await emulatorOf(provider)).payouts().filter((p) => text(p).includes(id) && (p as { executions?: number }).executions !== 0).length;
  }

  async function approved(provider: ProviderKind, fields: PayoutFields) {
    const created = await t.caller("maker").payouts.create({ id: randomUUID(), connectionId: await connectionOf(provider), ...fields });
    await approveAsRead(t.caller("approver"), created.id);
    return created.id;
  }

  it.each(PROVIDER_CASES)("$provider: a send that times out is unknown, then settled by a status query, paid once", async ({ provider, success }) => {
    const saved = t.desk.connectorDeps;
    t.desk.connectorDeps = { timeoutMs: 800 };
    try {
      const id = await approved(provider, success);
      await (await emulatorOf(provider)).injectFault({ mode: "timeout", count: 1 });
      expect(await submitPayout(t.desk, id)).toBe("unknown");
      await checkPayoutStatus(t.desk, id, 1);
      const payout = await driveToFinal(id);
      expect(payout.status).toBe("succeeded");
      expect(await copiesAtProvider(provider, id)).toBe(1);
    } finally {
      t.desk.connectorDeps = saved;
    }
  });

  it.each(PROVIDER_CASES)("$provider: a worker killed between sending and recording recovers without a duplicate", async ({ provider, success }) => {
    const id = await approved(provider, success);
    await changeStatus(t.desk.db, { payoutId: id, to: "submitting", from: ["approved"], source: "system", patch: { submittedAt: new Date() } });
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id }, include: { connection: true } });
    await openConnector(t.desk, payout.connection, id).submit(payoutRequest(payout)); // sent, never recorded
    // The claim holds no live lease (its worker died): the next look asks the provider, never resends blindly.
    await checkPayoutStatus(t.desk, id, 0);
    const final = await driveToFinal(id);
    expect(final.status).toBe("succeeded");
    expect(await copiesAtProvider(provider, id)).toBe(1);
  });

  it("pays through a Paytota without the undocumented lookup by reference: the first send needs none", async () => {
    const saved = t.desk.connectorDeps;
    const lookups: string[] = [];
    t.desk.connectorDeps = {
      ...saved,
      fetch: async (url, init) => {
        if (/\/api\/v1\/payouts\/\?reference=/.test(url)) {
          lookups.push(url);
          return new Response('{"detail":"Not found."}', { status: 404, headers: { "content-type": "application/json" } });
        }
        return fetch(url, init);
      },
    };
    try {
      const paytota = PROVIDER_CASES.find((c) => c.provider === "paytota")!;
      const payout = await payOut("paytota", paytota.success);
      expect(payout.status).toBe("succeeded");
      expect(lookups).toEqual([]);
    } finally {
      t.desk.connectorDeps = saved;
    }
  });

  it("moves a succeeded payout to reversed when the provider later takes the money back", async () => {
    const pontis = PROVIDER_CASES.find((c) => c.provider === "pontis")!;
    const payout = await payOut("pontis", pontis.success);
    expect(payout.status).toBe("succeeded");
    const emulator = (await emulatorOf("pontis")) as unknown as { settle(transactionId: string, status: string, message?: string): boolean };
    expect(emulator.settle(payout.providerReference!, "reversed", "Returned by the beneficiary bank")).toBe(true);
    // PontisGlobe calls back on the new state; the payout shows it as its own final status.
    const reversed = await eventually(async () => {
      const now = await t.desk.db.payout.findUniqueOrThrow({ where: { id: payout.id } });
      return now.status === "reversed" ? now : null;
    });
    expect(reversed.failureCode).toBe("REVERSED");
    expect(reversed.finalizedAt).toEqual(payout.finalizedAt); // it was final when paid
    const last = await t.desk.db.payoutEvent.findFirstOrThrow({ where: { payoutId: payout.id }, orderBy: { id: "desc" } });
    expect(last).toMatchObject({ fromStatus: "succeeded", toStatus: "reversed", source: "callback" });
    expect(last.note).toMatch(/reversed/i);
  });

  it.each(PROVIDER_CASES)("$provider reports a failure with its reason", async ({ provider, failure }) => {
    const { failureCode, ...fields } = failure;
    const payout = await payOut(provider, fields);
    expect(payout.status).toBe("failed");
    expect(payout.failureCode ?? "").toMatch(failureCode);
  });
});
