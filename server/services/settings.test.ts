// Settings → General on a real database: admins only, audited with what
// changed, every refusal naming its field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { generalSettings, updateGeneralSettings } from "./settings";
import { Forbidden } from "./errors";

describe.each(testDatabases())("general settings on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("starts with no merchant name and UTC", async () => {
    expect(await t.caller("viewer").settings.general()).toEqual({ merchantName: null, timeZone: "UTC", updatedAt: null });
  });

  it("lets an admin set both, stores the zone's canonical name, and audits what changed", async () => {
    const saved = await t.caller("admin").settings.updateGeneral({ merchantName: "  Acme Payouts Ltd ", timeZone: "africa/lusaka" });
    expect(saved).toMatchObject({ merchantName: "Acme Payouts Ltd", timeZone: "Africa/Lusaka" });
    expect(await generalSettings(t.desk.db)).toMatchObject({ merchantName: "Acme Payouts Ltd", timeZone: "Africa/Lusaka", updatedAt: expect.any(Date) });

    await t.caller("admin").settings.updateGeneral({ merchantName: "Acme Payouts Ltd", timeZone: "Europe/London" });
    const entries = await t.desk.db.auditLog.findMany({ where: { action: "settings.update" }, orderBy: { id: "asc" } });
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      actorId: t.users.admin.id,
      entityType: "settings",
      entityId: "general",
      ip: "127.0.0.1",
      details: { changes: { merchantName: { from: null, to: "Acme Payouts Ltd" }, timeZone: { from: "UTC", to: "Africa/Lusaka" } } },
    });
    // Only the zone changed the second time.
    expect(entries[1]!.details).toEqual({ changes: { timeZone: { from: "Africa/Lusaka", to: "Europe/London" } } });
  });

  it("refuses everyone but admins, at the router and in the service", async () => {
    for (const role of ["viewer", "maker", "approver"] as const) {
      expect(await refusal(t.caller(role).settings.updateGeneral({ merchantName: "Mallory", timeZone: "UTC" }))).toMatchObject({ code: "FORBIDDEN" });
    }
    await expect(updateGeneralSettings(t.desk, t.users.approver, { merchantName: "Mallory", timeZone: "UTC" })).rejects.toBeInstanceOf(Forbidden);
    expect((await generalSettings(t.desk.db)).merchantName).toBe("Acme Payouts Ltd");
  });

  it("names the field and the rule", async () => {
    const admin = t.caller("admin");
    expect(await refusal(admin.settings.updateGeneral({ merchantName: "   ", timeZone: "Mars/Olympus_Mons" }))).toMatchObject({
      code: "BAD_REQUEST",
      merchantName: "Enter the merchant's name as it should head exported statements",
      timeZone: 'Choose an IANA time zone such as Europe/London or Africa/Lusaka; "Mars/Olympus_Mons" is not one',
    });
    expect(await refusal(admin.settings.updateGeneral({ merchantName: "x".repeat(121), timeZone: "UTC" }))).toMatchObject({ merchantName: "120 characters at most; this has 121" });
    expect(await refusal(admin.settings.updateGeneral({ merchantName: "Two\nlines", timeZone: "+01:00" }))).toMatchObject({
      merchantName: "One line of text: no line breaks, tabs or control characters",
      timeZone: expect.stringMatching(/IANA/),
    });
    // Nothing refused was stored.
    expect(await generalSettings(t.desk.db)).toMatchObject({ merchantName: "Acme Payouts Ltd", timeZone: "Europe/London" });
    expect(await t.desk.db.auditLog.count({ where: { action: "settings.update" } })).toBe(2);
  });
});
