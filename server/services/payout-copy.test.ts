// "Copy as new payout": a payout that really failed at the pawaPay emulator
// (over real HTTP), copied for a maker on real databases (PGlite, and
// PostgreSQL when TEST_DATABASE_URL is set). The copy carries the payout's
// fields and never its id (the provider's idempotency key); non-makers and
// payouts that did not fail are refused; the copy submitted through the form's
// procedure is a new payout waiting for approval.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { payoutCopy } from "./payout-copy";
import { Conflict, Forbidden, NotFound } from "./errors";

describe.each(testDatabases())("copy as new payout on %s", (kind) => {
  let t: TestDesk;
  let failedId: string;
  beforeAll(async () => {
    t = await startTestDesk(kind);
    failedId = await t.pawapayPayout({ phone: "260763456079", amount: "17.50", description: "Invoice 4411" });
    for (let i = 0; i < 60; i++) {
      await t.work.run({ all: true, payoutId: failedId });
      if ((await t.desk.db.payout.findUniqueOrThrow({ where: { id: failedId } })).status === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it("gives a maker the failed payout's connection, recipient, amount, currency and details, and never its id", async () => {
    const failed = await t.desk.db.payout.findUniqueOrThrow({ where: { id: failedId }, include: { connection: true } });
    expect(failed).toMatchObject({ status: "failed", failureCode: "RECIPIENT_NOT_FOUND" });

    const copy = await payoutCopy(t.desk, t.users.maker, failedId);
    expect(copy).toEqual({
      copiedFromId: failedId,
      connectionId: t.pawapayConnectionId,
      connectionName: failed.connection.name,
      channel: failed.channel,
      currency: "ZMW",
      amount: "17.50",
      recipientPhone: "260763456079",
      recipientName: failed.recipientName,
      recipientAccount: null,
      recipientDetails: failed.recipientDetails === null ? null : expect.any(Object),
      description: "Invoice 4411",
    });
    // The idempotency key is the payout id: it is nowhere in what the form starts from, except as the link back.
    expect(Object.keys(copy)).not.toContain("id");
    const { copiedFromId, ...fields } = copy;
    expect(copiedFromId).toBe(failedId);
    expect(JSON.stringify(fields)).not.toContain(failedId);
  });

  it("submitted as the form does, with the form's new id, makes a new payout waiting for approval and leaves the failed one as it was", async () => {
    const { copiedFromId: _from, connectionName: _name, ...fields } = await payoutCopy(t.desk, t.users.maker, failedId);
    const id = randomUUID();
    const created = await t.caller("maker").payouts.create({ id, ...fields, description: "Invoice 4411 again" });
    expect(created.id).toBe(id);
    expect(created.id).not.toBe(failedId);
    const again = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(again).toMatchObject({ status: "pending_approval", amountMinor: 1750n, currency: "ZMW", recipientPhone: "260763456079", connectionId: t.pawapayConnectionId });
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: failedId } })).status).toBe("failed");
  });

  it("refuses anyone but a maker", async () => {
    for (const role of ["viewer", "approver", "admin"] as const) {
      await expect(payoutCopy(t.desk, t.users[role], failedId), role).rejects.toBeInstanceOf(Forbidden);
    }
  });

  it("refuses a payout that did not fail, and one that does not exist", async () => {
    const waiting = await t.pawapayPayout({ approve: false, amount: "18.00" });
    await expect(payoutCopy(t.desk, t.users.maker, waiting)).rejects.toThrow(Conflict);
    await expect(payoutCopy(t.desk, t.users.maker, waiting)).rejects.toThrow(/only a failed payout is copied as a new one; this one is pending approval/i);
    await expect(payoutCopy(t.desk, t.users.maker, randomUUID())).rejects.toBeInstanceOf(NotFound);
  });
});
