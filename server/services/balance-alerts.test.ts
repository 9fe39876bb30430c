// Low-balance alerts through the tRPC procedures the Settings page calls, on
// real databases (PGlite, and PostgreSQL when TEST_DATABASE_URL is set):
// thresholds typed in major units and stored in minor units, refusals naming
// the field and the rule, each change audited, lowBalances comparing the
// latest read.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { lowBalances } from "./balance-alerts";

describe.each(testDatabases())("low-balance alerts on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  async function freshConnection() {
    const name = `Alerts ${randomUUID().slice(0, 8)}`;
    const { id } = await t.caller("admin").connections.create({
      provider: "pawapay",
      name,
      environment: "sandbox",
      baseUrl: "sandbox://pawapay",
      credentials: { apiToken: `tok-${randomUUID()}` },
    });
    return { id, name };
  }

  it("stores a threshold typed in major units as minor units, audits each change with before and after, and removes it when blank", async () => {
    const { id, name } = await freshConnection();
    const admin = t.caller("admin");
    const set = await admin.balances.setAlert({ connectionId: id, currency: "zmw", amount: "5,000.50" });
    expect(set).toMatchObject({ connectionId: id, connectionName: name, currency: "ZMW", thresholdMinor: 500_050n });
    expect(await t.desk.db.balanceAlert.findUnique({ where: { connectionId_currency: { connectionId: id, currency: "ZMW" } } })).toMatchObject({ thresholdMinor: 500_050n });

    await admin.balances.setAlert({ connectionId: id, currency: "ZMW", amount: "7000" });
    await admin.balances.setAlert({ connectionId: id, currency: "ZMW", amount: "" });
    expect(await t.desk.db.balanceAlert.count({ where: { connectionId: id } })).toBe(0);

    const entries = await t.desk.db.auditLog.findMany({ where: { action: "balances.alert_set", entityId: id }, orderBy: { id: "asc" } });
    expect(entries.map((e) => e.details)).toEqual([
      expect.objectContaining({ currency: "ZMW", changes: { threshold: { from: null, to: "5000.50 ZMW" } }, fromMinor: null, toMinor: "500050" }),
      expect.objectContaining({ changes: { threshold: { from: "5000.50 ZMW", to: "7000.00 ZMW" } }, fromMinor: "500050", toMinor: "700000" }),
      expect.objectContaining({ changes: { threshold: { from: "7000.00 ZMW", to: null } }, fromMinor: "700000", toMinor: null }),
    ]);
    expect(entries.every((e) => e.actorId === t.users.admin.id)).toBe(true);
    expect((await admin.balances.alerts()).filter((a) => a.connectionId === id)).toEqual([]);
  });

  it("refuses bad input with a field error naming the field and the rule, and saves nothing", async () => {
    const { id } = await freshConnection();
    const admin = t.caller("admin");
    expect(await refusal(admin.balances.setAlert({ connectionId: id, currency: "ZMW", amount: "12.345" }))).toMatchObject({ code: "BAD_REQUEST", amount: expect.stringMatching(/^Alert below: ZMW allows at most 2 decimal places/) });
    expect(await refusal(admin.balances.setAlert({ connectionId: id, currency: "UGX", amount: "10.5" }))).toMatchObject({ amount: expect.stringMatching(/UGX has no minor unit/) });
    expect(await refusal(admin.balances.setAlert({ connectionId: id, currency: "ZMW", amount: "-5" }))).toMatchObject({ amount: expect.stringMatching(/not an amount/) });
    expect(await refusal(admin.balances.setAlert({ connectionId: id, currency: "ZMW", amount: "0" }))).toMatchObject({ amount: expect.stringMatching(/more than zero/) });
    expect(await refusal(admin.balances.setAlert({ connectionId: id, currency: "XYZ", amount: "10" }))).toMatchObject({ currency: expect.stringMatching(/ISO 4217/) });
    expect(await refusal(admin.balances.setAlert({ connectionId: randomUUID(), currency: "ZMW", amount: "10" }))).toMatchObject({ connectionId: expect.stringMatching(/Connection/) });
    expect(await refusal(admin.balances.setAlert({ connectionId: "not-an-id", currency: "ZMW", amount: "10" }))).toMatchObject({ code: "BAD_REQUEST" });
    expect(await t.desk.db.balanceAlert.count({ where: { connectionId: id } })).toBe(0);
    expect(await t.desk.db.auditLog.count({ where: { action: "balances.alert_set", entityId: id } })).toBe(0);
  });

  it("lets only admins set thresholds; every role reads them", async () => {
    const { id } = await freshConnection();
    for (const role of ["viewer", "maker", "approver"] as const) {
      expect(await refusal(t.caller(role).balances.setAlert({ connectionId: id, currency: "ZMW", amount: "10" }))).toMatchObject({ code: "FORBIDDEN" });
      await expect(t.caller(role).balances.low()).resolves.toEqual(expect.any(Array));
    }
    expect(await t.desk.db.balanceAlert.count({ where: { connectionId: id } })).toBe(0);
  });

  it("lists a connection and currency as low while its latest read is under the threshold, and not once it is back above", async () => {
    const { id, name } = await freshConnection();
    const mine = async () => (await lowBalances(t.desk)).filter((l) => l.connectionId === id);
    const read = (label: string, amountMinor: bigint, at: Date) => t.desk.db.balanceSnapshot.create({ data: { connectionId: id, currency: "ZMW", label, amountMinor, at } });

    await t.caller("admin").balances.setAlert({ connectionId: id, currency: "ZMW", amount: "1000" });
    expect(await mine()).toEqual([]); // never read: not known, not low

    const t1 = new Date(Date.now() - 60_000);
    await read("MTN", 60_000n, t1);
    await read("AIRTEL", 30_000n, t1); // 900.00 ZMW over two wallets
    expect(await mine()).toEqual([{ connectionId: id, connectionName: name, currency: "ZMW", balanceMinor: 90_000n, thresholdMinor: 100_000n, at: t1 }]);
    expect((await t.caller("viewer").balances.low()).some((l) => l.connectionId === id)).toBe(true);

    await read("MTN", 100_000n, new Date()); // exactly at the threshold is not under it
    expect(await mine()).toEqual([]);

    // A paused connection raises no banner.
    await read("MTN", 1n, new Date(Date.now() + 1000));
    expect(await mine()).toHaveLength(1);
    await t.desk.db.connection.update({ where: { id }, data: { enabled: false } });
    expect(await mine()).toEqual([]);
  });
});
