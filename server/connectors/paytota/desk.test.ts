// Paytota's lost initiate answer through the whole desk: the real services
// and database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set), the
// payout work queue driven as a worker drives it, and the built-in emulator
// over real HTTP. The connector-level drill (lost-initiate.test.ts) covers
// every reading and fault; this proves the desk's side of rule 1: the id is
// on the payout row before the money moves, and only there.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import { openConnector } from "@/server/services/connections";
import { changeStatus } from "@/server/services/payout-status";
import { payoutRequest } from "@/server/services/submission";
import type { PaytotaEmulator, PaytotaFault } from "@/server/sandbox/paytota";

describe.each(testDatabases())("Paytota through the desk on %s", (kind) => {
  let t: TestDesk;
  let emulator: PaytotaEmulator;
  let connectionId: string;
  beforeAll(async () => {
    t = await startTestDesk(kind);
    // Short enough that a hanging initiate is given up soon. On a busy machine a normal answer may miss it too:
    // that is one more lost answer, and the assertions below hold for any number of them.
    t.desk.connectorDeps = { timeoutMs: 2000 };
    emulator = (await sandboxEmulator("paytota", t.desk)) as unknown as PaytotaEmulator;
    connectionId = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "paytota" } })).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function approved(): Promise<string> {
    const created = await t.caller("maker").payouts.create({
      id: randomUUID(),
      connectionId,
      amount: "500",
      currency: "UGX",
      recipientPhone: "256772123456",
      description: `Lost initiate ${randomUUID().slice(0, 8)}`,
    });
    await approveAsRead(t.caller("approver"), created.id);
    return created.id;
  }

  async function driveToFinal(id: string) {
    for (let round = 0; round < 120; round++) {
      await t.work.run({ payoutId: id, all: true, max: 1 });
      const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
      if (["succeeded", "failed"].includes(payout.status)) return payout;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Payout ${id} is not final`);
  }

  it.each<[string, PaytotaFault]>([
    ["timeout", { mode: "timeout", operation: "initiate" }],
    ["garbage", { mode: "garbage", operation: "initiate" }],
    ["dropped after accept", { mode: "drop-after-accept", operation: "initiate", process: true }],
    ["500, processed", { mode: "500", operation: "initiate", process: true }],
  ])("initiate answer lost (%s): the payout is paid, by exactly one execution, of the id it holds", async (_name, fault) => {
    const id = await approved();
    await emulator.injectFault(fault);
    const payout = await driveToFinal(id);
    expect(payout.status).toBe("succeeded");
    const atPaytota = emulator.payoutsByReference(id, { repeats: true });
    expect(atPaytota.length).toBeGreaterThanOrEqual(2); // the orphan of the lost answer, and the payout sent
    const executed = atPaytota.filter((p) => p.executions > 0);
    expect(executed.map((p) => p.executions)).toEqual([1]);
    expect(payout.providerReference).toBe(executed[0]!.id);
    for (const orphan of atPaytota.filter((p) => p.id !== payout.providerReference)) expect(orphan).toMatchObject({ status: "initialized", executions: 0 });
    // On the timeline: unknown after the lost answer, then sent again (submitting a second time).
    const events = await t.desk.db.payoutEvent.findMany({ where: { payoutId: id }, orderBy: { id: "asc" } });
    const moves = events.filter((e) => e.fromStatus !== e.toStatus).map((e) => e.toStatus);
    expect(moves.slice(0, 4)).toEqual(["pending_approval", "approved", "submitting", "unknown"]);
    expect(moves.slice(4)).toContain("submitting");
    expect(moves.at(-1)).toBe("succeeded");
  });

  it("the id is on the payout row before Paytota executes it", async () => {
    const id = await approved();
    await changeStatus(t.desk.db, { payoutId: id, to: "submitting", from: ["approved"], source: "system", patch: { submittedAt: new Date() } });
    const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id }, include: { connection: true } });
    let heldAtExecute: string | null | undefined;
    const saved = t.desk.connectorDeps;
    t.desk.connectorDeps = {
      ...saved,
      // Looks at the row the moment the execute call leaves.
      fetch: async (input, init) => {
        if (String(input).includes("/paytota_proxy/")) heldAtExecute = (await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).providerReference;
        return fetch(input, init);
      },
    };
    try {
      const result = await openConnector(t.desk, payout.connection, id).submit(payoutRequest(payout)); // a worker that dies before recording this
      expect(result.state).toBe("processing");
      expect(heldAtExecute).toBe(result.providerReference);
    } finally {
      t.desk.connectorDeps = saved;
    }
  });

  it("a worker that lost the race never executes the payout it created: the row keeps the first id", async () => {
    const id = await approved();
    await changeStatus(t.desk.db, { payoutId: id, to: "submitting", from: ["approved"], source: "system", patch: { submittedAt: new Date() } });
    const stale = await t.desk.db.payout.findUniqueOrThrow({ where: { id }, include: { connection: true } });
    // Another attempt got its answer first and holds its id.
    const first = await openConnector(t.desk, stale.connection, id).submit(payoutRequest(stale));
    expect(first.providerReference).toBeTruthy();
    // This one read the row before that and creates another payout: the emulator refuses the reference, and with no
    // lookup to show the first (Paytota as documented: 404) it initiates under a repeat of it.
    const saved = t.desk.connectorDeps;
    t.desk.connectorDeps = {
      ...saved,
      fetch: async (input, init) =>
        /\/api\/v1\/payouts\/\?reference=/.test(String(input)) ? Response.json({ detail: "Not found." }, { status: 404 }) : fetch(input, init),
    };
    const late = await openConnector(t.desk, stale.connection, id)
      .submit({ ...payoutRequest(stale), firstAttempt: false })
      .finally(() => (t.desk.connectorDeps = saved));
    expect(late).toMatchObject({ state: "unknown" });
    expect(late.providerReference).toBeUndefined();
    expect(late.failureMessage).toMatch(/could not hold its id .*not executed/);
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).providerReference).toBe(first.providerReference);
    const atPaytota = emulator.payoutsByReference(id, { repeats: true });
    expect(atPaytota.map((p) => p.executions).sort()).toEqual([0, 1]);
    expect(atPaytota.find((p) => p.executions === 1)!.id).toBe(first.providerReference);
  });
});
