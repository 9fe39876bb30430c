// Reading the audit trail as the Audit page does (filters, keyset pages, links
// to objects, verification in slices with progress) and exporting a period
// as CSV and as an evidence pack, on a real database with real sessions.
import { createHash } from "node:crypto";
import { parse } from "csv-parse/sync";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TRPCError } from "@trpc/server";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { sessionCookieName } from "@/server/auth/session-cookie";
import { provedSession } from "@/server/auth/second-factor-testing";
import type { Role } from "@/server/auth/roles";
import { zonedDay } from "@/server/domain/statement";
import { audit } from "./audit";
import { entryHash } from "./audit-chain";
import { entityHref, verifyAuditChain } from "./audit-log";
import { AUDIT_CSV_COLUMNS, auditExportDownload, EVIDENCE_FORMAT_NAME } from "./audit-export";

const SECRET = "audit-log-test-secret-of-enough-length-0";

describe.each(testDatabases())("the audit trail read and exported on %s", (kind) => {
  let t: TestDesk;
  const today = () => zonedDay(new Date(), "UTC");
  const yesterday = () => zonedDay(new Date(Date.now() - 86_400_000), "UTC");

  async function cookieFor(role: Role): Promise<string> {
    const sid = await provedSession(t.desk, t.users[role]);
    return `${sessionCookieName()}=${await encode({ token: { uid: t.users[role].id, sid }, secret: SECRET })}`;
  }
  const get = (query: Record<string, string>, cookie: string | null) =>
    new Request(`http://desk.test/api/audit/export?${new URLSearchParams(query)}`, { headers: cookie ? { cookie } : {} });

  beforeAll(async () => {
    vi.stubEnv("NEXTAUTH_SECRET", SECRET);
    vi.stubEnv("APP_URL", "http://desk.test");
    t = await startTestDesk(kind);
    // Entries of several kinds, by people and by the system.
    await t.caller("admin").settings.updateGeneral({ merchantName: "Audit Test Merchant", timeZone: "Africa/Lusaka" });
    await t.caller("admin").users.create({ email: "audited@users.test", role: "viewer" });
    await audit(t.desk.db, { action: "payout.approvals_voided", entityType: "payout", entityId: "3f2b8c1e-0000-4000-8000-000000000001", details: { reason: "test" } });
    await audit(t.desk.db, { actorId: t.users.maker.id, action: "payout.create", entityType: "payout", entityId: "=HYPERLINK(\"http://evil\")", details: { amountMinor: 10n }, ip: "192.0.2.7" });
  });
  afterAll(async () => {
    await t?.close();
    vi.unstubAllEnvs();
  });

  it("is for viewers (the auditor's read-only role), approvers and admins, not makers", async () => {
    for (const role of ["viewer", "approver", "admin"] as const) expect((await t.caller(role).audit.list({})).entries.length).toBeGreaterThan(0);
    // Thunks: a refused call made before its turn would reject unhandled.
    for (const call of [() => t.caller("maker").audit.list({}), () => t.caller("maker").audit.verify({}), () => t.caller("maker").audit.filterOptions()]) {
      await expect(call()).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
    const refused = await auditExportDownload(t.desk, get({ format: "csv", fromDay: today(), toDay: today() }, await cookieFor("maker")));
    expect(refused.status).toBe(403);
  });

  it("lists newest first in keyset pages that together hold every entry once", async () => {
    const all = await t.desk.db.auditLog.findMany({ orderBy: { id: "desc" }, select: { id: true } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<ReturnType<TestDesk["caller"]>["audit"]["list"]>> = await t.caller("viewer").audit.list({ cursor, limit: 3 });
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id.toString()));
  });

  it("filters by who, action, object and period, and refuses bad days naming the field", async () => {
    const viewer = t.caller("viewer");
    const byAdmin = await viewer.audit.list({ actor: t.users.admin.id });
    expect(byAdmin.entries.length).toBeGreaterThan(0);
    expect(byAdmin.entries.every((e) => e.actor?.id === t.users.admin.id)).toBe(true);
    const system = await viewer.audit.list({ actor: "system" });
    expect(system.entries.map((e) => e.action)).toContain("payout.approvals_voided");
    expect(system.entries.every((e) => e.actor === null)).toBe(true);

    const users = await viewer.audit.list({ action: "user." });
    expect(users.entries.length).toBeGreaterThan(0);
    expect(users.entries.every((e) => e.action.startsWith("user."))).toBe(true);

    const one = await viewer.audit.list({ entityType: "payout", entityId: "3f2b8c1e-0000-4000-8000-000000000001" });
    expect(one.entries.map((e) => e.action)).toEqual(["payout.approvals_voided"]);
    expect(one.entries[0]!.href).toBe("/payouts/3f2b8c1e-0000-4000-8000-000000000001");

    // upto: the list starts at that entry (Verify chain links a broken one so).
    const middle = (await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "user.create" } })).id.toString();
    const fromThere = await viewer.audit.list({ upto: middle });
    expect(fromThere.entries[0]!.id).toBe(middle);
    expect(fromThere.entries.every((e) => BigInt(e.id) <= BigInt(middle))).toBe(true);
    expect(((await viewer.audit.list({ upto: "0x10" }).catch((e: TRPCError) => e)) as TRPCError).cause).toMatchObject({ fields: { upto: expect.any(String) } });

    expect((await viewer.audit.list({ fromDay: today(), toDay: today(), timeZone: "UTC" })).entries.length).toBeGreaterThan(0);
    expect((await viewer.audit.list({ fromDay: yesterday(), toDay: yesterday(), timeZone: "UTC" })).entries).toEqual([]);

    const refused = await viewer.audit.list({ fromDay: today(), toDay: "2020-01-01" }).catch((e: TRPCError) => e);
    expect(refused).toBeInstanceOf(TRPCError);
    expect((refused as TRPCError).cause).toMatchObject({ fields: { toDay: expect.stringContaining("cannot be before") } });
    const badDay = await viewer.audit.list({ fromDay: "2026-02-30" }).catch((e: TRPCError) => e);
    expect((badDay as TRPCError).cause).toMatchObject({ fields: { fromDay: expect.stringContaining("real date") } });
    const badZone = await viewer.audit.list({ timeZone: "Mars/Olympus" }).catch((e: TRPCError) => e);
    expect((badZone as TRPCError).cause).toMatchObject({ fields: { timeZone: expect.any(String) } });
  });

  it("links each kind of object to its page", () => {
    expect(entityHref("payout", "abc", null)).toBe("/payouts/abc");
    expect(entityHref("connection", "abc", null)).toBe("/connections");
    expect(entityHref("user", "abc", null)).toBe("/settings?user=abc#users");
    expect(entityHref("policy", "3", null)).toBe("/settings#approval-policy");
    expect(entityHref("reconciliation_run", "r1", null)).toBe("/reconciliation?run=r1");
    expect(entityHref("reconciliation_item", "i1", { runId: "r2" })).toBe("/reconciliation?run=r2");
    expect(entityHref("batch", "b1", null)).toBe("/payouts/bulk");
    expect(entityHref("something_new", "x", null)).toBeNull();
  });

  it("offers the people, the object types present and recent actions as filter choices", async () => {
    const options = await t.caller("approver").audit.filterOptions();
    expect(options.people.map((p) => p.email)).toEqual(expect.arrayContaining(["admin@test.desk", "audited@users.test"]));
    expect(options.entityTypes).toEqual(expect.arrayContaining(["payout", "settings", "user"]));
    expect(options.entityTypes).toEqual([...new Set(options.entityTypes)].sort());
    expect(options.actions).toEqual(expect.arrayContaining(["settings.update", "user.create", "payout.create"]));
  });

  it("verifies in slices toward a fixed goal, with progress, and names the entry edited in the database", async () => {
    const whole = await t.caller("viewer").audit.verify({});
    expect(whole).toMatchObject({ intact: true, broken: null, nextFrom: null });
    const goal = whole.range.last!;

    // Three entries per slice, as the page does with thousands: the same verdict, walked in steps.
    let from: string | null = null;
    let checked = 0;
    let slices = 0;
    do {
      const slice = await verifyAuditChain(t.desk, t.users.viewer, { from, to: goal }, 3);
      expect(slice.intact).toBe(true);
      expect(slice.range.last).toBe(goal);
      checked += slice.checked;
      slices++;
      from = slice.nextFrom;
    } while (from);
    expect(checked).toBe(whole.checked);
    expect(slices).toBeGreaterThan(1);

    const victim = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "settings.update" } });
    const original = victim.details;
    await t.desk.db.$executeRaw`UPDATE "AuditLog" SET "details" = '{"changes": {}}'::jsonb WHERE "id" = ${victim.id}`;
    try {
      const broken = await t.caller("admin").audit.verify({});
      expect(broken).toMatchObject({ intact: false, broken: { kind: "edited", id: victim.id.toString() } });
      expect(broken.broken!.message).toContain(`Entry #${victim.id}`);
    } finally {
      await t.desk.db.$executeRaw`UPDATE "AuditLog" SET "details" = ${JSON.stringify(original)}::jsonb WHERE "id" = ${victim.id}`;
    }
    expect((await t.caller("admin").audit.verify({})).intact).toBe(true);
  });

  it("exports a period as CSV with the desk's conventions (BOM, CRLF, formulas escaped), and audits the export", async () => {
    const before = await t.desk.db.auditLog.count();
    const response = await auditExportDownload(t.desk, get({ format: "csv", fromDay: today(), toDay: today(), timeZone: "UTC" }, await cookieFor("viewer")));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/csv");
    expect(response.headers.get("content-disposition")).toContain(`audit-${today()}.csv`);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const text = bytes.toString("utf8");
    expect(text).toContain("\r\n");
    const records = parse(text, { bom: true, columns: true }) as Array<Record<string, string>>;
    // The export's own entry was written before the file, after the range was fixed: every entry before it is in.
    expect(records).toHaveLength(before);
    expect(Object.keys(records[0]!)).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(Number(response.headers.get("x-export-rows"))).toBe(before);
    const evil = records.find((r) => r.action === "payout.create")!;
    expect(evil.entity_id).toBe("'=HYPERLINK(\"http://evil\")");
    expect(evil).toMatchObject({ actor_email: "maker@test.desk", ip: "192.0.2.7", details: '{"amountMinor":"10"}' });
    const exported = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "audit.export" }, orderBy: { id: "desc" } });
    expect(exported).toMatchObject({ actorId: t.users.viewer.id, entityType: "audit" });
    expect(exported.details).toMatchObject({ format: "csv", fromDay: today(), toDay: today(), entries: before });
  });

  it("exports an evidence pack: the entries as stored, each hash recomputable, and a manifest with the chain head and the entries' sha256", async () => {
    const response = await auditExportDownload(t.desk, get({ format: "evidence", fromDay: today(), toDay: today(), timeZone: "UTC" }, await cookieFor("admin")));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toContain(`audit-evidence-${today()}.jsonl`);
    const text = await response.text();
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    const manifestLine = lines.pop()!;
    const body = lines.map((l) => `${l}\n`).join("");
    const { manifest } = JSON.parse(manifestLine);
    expect(manifest).toMatchObject({ format: EVIDENCE_FORMAT_NAME, entries: lines.length, linksInPack: { intact: true }, anchorPrevHash: null });
    expect(manifest.entriesSha256).toBe(createHash("sha256").update(body, "utf8").digest("hex"));
    expect(manifest.generatedBy).toMatchObject({ id: t.users.admin.id, email: "admin@test.desk" });
    expect(manifest.actors[t.users.maker.id]).toEqual({ email: "maker@test.desk", name: t.users.maker.name });

    // Each line is the stored entry: its hash recomputes from the line alone, and names the line before it.
    let prev: string | null = manifest.anchorPrevHash;
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(entry.prevHash).toBe(prev);
      expect(entryHash({ ...entry, at: new Date(entry.at) })).toBe(entry.hash);
      prev = entry.hash;
    }
    // The head is the chain's last entry when the pack was made: the pack's own audit.export entry.
    const head = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "audit.export" }, orderBy: { id: "desc" } });
    expect(manifest.chainHead).toEqual({ id: head.id.toString(), hash: head.hash, at: head.at.toISOString() });
    expect(head.details).toMatchObject({ format: "evidence" });
  });

  it("says an empty period in words, and names each refused field", async () => {
    const cookie = await cookieFor("viewer");
    const empty = await auditExportDownload(t.desk, get({ format: "csv", fromDay: "2020-01-01", toDay: "2020-01-31", timeZone: "UTC" }, cookie));
    expect(empty.status).toBe(404);
    expect(await empty.json()).toEqual({ error: "No audit entries from 2020-01-01 to 2020-01-31 (UTC)", empty: true });
    const refused = await auditExportDownload(t.desk, get({ format: "xlsx", fromDay: "2026-13-01" }, cookie));
    expect(refused.status).toBe(400);
    expect((await refused.json()).fieldErrors).toMatchObject({ format: expect.any(String), fromDay: expect.stringContaining("real date"), toDay: expect.any(String) });
    expect((await auditExportDownload(t.desk, get({ format: "csv", fromDay: today(), toDay: today() }, null))).status).toBe(401);
  });
});
