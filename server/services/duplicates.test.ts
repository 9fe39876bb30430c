// Likely duplicates at creation: the same recipient, amount and currency
// within the window is flagged (never refused) and the earlier payout named;
// outside it, or once the earlier one can no longer pay, it is not. The window
// is an admin's setting, else DESK_DUPLICATE_WINDOW_HOURS, else 24 hours.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { duplicateWindow, findLikelyDuplicates, findLikelyDuplicatesOfStored } from "./duplicates";

describe.each(testDatabases())("likely duplicates on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(async () => {
    delete process.env.DESK_DUPLICATE_WINDOW_HOURS;
    await t.caller("admin").payouts.updateDuplicateWindow({ hours: "" });
  });

  let recipients = 0;
  /** A fresh recipient per test, so tests do not see each other's payouts. */
  const newRecipient = () => `260763453${String(100 + ++recipients)}`;
  const create = (phone: string, amount = "15", extra: Record<string, unknown> = {}) =>
    t.caller("maker").payouts.create({ id: randomUUID(), connectionId: t.pawapayConnectionId, amount, currency: "ZMW", recipientPhone: phone, description: "Duplicate test", ...extra });
  /** Moves a payout's creation back in time, as if it had been made then. */
  const createdHoursAgo = (id: string, hours: number) => t.desk.db.payout.update({ where: { id }, data: { createdAt: new Date(Date.now() - hours * 3600_000) } });

  it("flags a payout to the same recipient, amount and currency within 24 hours, naming the earlier one, and creates it all the same", async () => {
    const phone = newRecipient();
    const first = await create(phone);
    expect(first.duplicates).toEqual([]);
    await createdHoursAgo(first.id, 23);

    const second = await create(phone);
    expect(second.status).toBe("pending_approval");
    expect(second.duplicates).toEqual([
      expect.objectContaining({ id: first.id, amountMinor: 1500n, currency: "ZMW", recipientPhone: phone, status: "pending_approval", connectionName: "pawaPay sandbox", createdByName: t.users.maker.name }),
    ]);
    // Another amount, or another recipient, is no duplicate.
    expect((await create(phone, "15.01")).duplicates).toEqual([]);
    expect((await create(newRecipient())).duplicates).toEqual([]);

    // On the approval card the earlier one sees the later too: both are worth a look.
    const firstRow = await t.desk.db.payout.findUniqueOrThrow({ where: { id: first.id } });
    expect((await findLikelyDuplicates(t.desk.db, firstRow, 24)).map((d) => d.id)).toEqual([second.id]);
  });

  it("finds for many stored payouts at once exactly what it finds one by one (the approval cards and batches use it)", async () => {
    // Two recipients, two amounts, payouts spread over 60 hours, one withdrawn: twins in and out of the window.
    const phones = [newRecipient(), newRecipient()];
    const ids: string[] = [];
    for (let i = 0; i < 14; i++) {
      const made = await create(phones[i % 2]!, i % 3 === 0 ? "17" : "18");
      await createdHoursAgo(made.id, (i * 37) % 60);
      ids.push(made.id);
    }
    await t.caller("maker").payouts.cancel({ id: ids[5]! });
    const rows = await t.desk.db.payout.findMany({ where: { id: { in: ids } } });
    const together = await findLikelyDuplicatesOfStored(t.desk.db, rows, 24);
    let flagged = 0;
    for (const row of rows) {
      const alone = (await findLikelyDuplicates(t.desk.db, row, 24)).map((d) => d.id);
      expect((together.get(row.id) ?? []).map((d) => d.id), `duplicates of ${row.id}`).toEqual(alone);
      if (alone.length > 0) flagged++;
    }
    expect(flagged).toBeGreaterThan(4);
  });

  it("does not flag one outside the window, nor one that can no longer pay", async () => {
    const phone = newRecipient();
    const old = await create(phone);
    await createdHoursAgo(old.id, 25);
    expect((await create(phone)).duplicates).toEqual([]);

    const other = newRecipient();
    const withdrawn = await create(other);
    await t.caller("maker").payouts.cancel({ id: withdrawn.id });
    expect((await create(other)).duplicates).toEqual([]);
  });

  it("follows the window an admin sets, else DESK_DUPLICATE_WINDOW_HOURS, and audits the change", async () => {
    const phone = newRecipient();
    const old = await create(phone);
    await createdHoursAgo(old.id, 30);
    expect((await create(phone, "16")).duplicates).toEqual([]);

    expect(await t.caller("admin").payouts.updateDuplicateWindow({ hours: "48" })).toEqual({ hours: 48, source: "setting", defaultHours: 24 });
    expect((await create(phone)).duplicates.map((d) => d.id)).toEqual([old.id]);
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "settings.update", actorId: t.users.admin.id }, orderBy: { id: "desc" } });
    expect(entry.details).toEqual({ changes: { duplicateWindowHours: { from: "default (24 h)", to: "48 h" } } });

    // 0 switches the warning off.
    await t.caller("admin").payouts.updateDuplicateWindow({ hours: "0" });
    expect((await create(phone)).duplicates).toEqual([]);

    // Cleared, the environment decides.
    await t.caller("admin").payouts.updateDuplicateWindow({ hours: "" });
    process.env.DESK_DUPLICATE_WINDOW_HOURS = "36";
    expect(await duplicateWindow(t.desk.db)).toEqual({ hours: 36, source: "environment", defaultHours: 36 });
    expect((await create(phone)).duplicates.map((d) => d.id)).toContain(old.id);
    process.env.DESK_DUPLICATE_WINDOW_HOURS = "29";
    expect((await create(phone)).duplicates.map((d) => d.id)).not.toContain(old.id);
  });

  it("lets only admins change the window, and refuses a bad value beside the field", async () => {
    expect(await refusal(t.caller("maker").payouts.updateDuplicateWindow({ hours: "12" }))).toMatchObject({ code: "FORBIDDEN" });
    expect(await refusal(t.caller("admin").payouts.updateDuplicateWindow({ hours: "1.5" }))).toMatchObject({
      code: "BAD_REQUEST",
      duplicateWindowHours: 'Whole hours from 0 (no warning) to 720, or blank for the default; not "1.5"',
    });
    expect(await refusal(t.caller("admin").payouts.updateDuplicateWindow({ hours: "721" }))).toMatchObject({ duplicateWindowHours: expect.stringMatching(/^Whole hours/) });
    expect(await t.caller("viewer").payouts.duplicateWindow()).toEqual({ hours: 24, source: "environment", defaultHours: 24 });
  });
});
