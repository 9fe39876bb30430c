// Settings → Users through the tRPC procedures a browser calls, on a real
// database: who may manage users, the last enabled admin, disabling that
// ends sessions at once, password resets shown once, approval groups, and
// the audit entry (before and after) each change leaves on the chain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { verifyPassword } from "@/server/auth/password";
import { checkSession, startSession } from "@/server/auth/user-sessions";
import type { Actor } from "./types";
import { verifyChain } from "./audit-chain";
import { resetPassword } from "./user-admin";

async function refusal(call: Promise<unknown>): Promise<{ code: string; message: string; fields: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    const fields = (error.cause as { fields?: Record<string, string> } | undefined)?.fields ?? {};
    return { code: error.code, message: error.message, fields };
  }
  throw new Error("expected the call to be refused");
}

describe.each(testDatabases())("users on %s", (kind) => {
  let t: TestDesk;
  let n = 0;
  const email = (what: string) => `${what}-${++n}@users.test`;

  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const lastEntry = (action: string, entityId: string) =>
    t.desk.db.auditLog.findFirstOrThrow({ where: { action, entityId }, orderBy: { id: "desc" } });

  /** A second admin the test can act as. */
  async function anotherAdmin(): Promise<Actor> {
    const created = await t.caller("admin").users.create({ email: email("admin"), name: "Second Admin", role: "admin" });
    return { id: created.id, email: created.email, name: created.name, role: "admin" };
  }

  it("lets only admins manage users", async () => {
    for (const role of ["viewer", "maker", "approver"] as const) {
      expect(await refusal(t.caller(role).users.list())).toMatchObject({ code: "FORBIDDEN" });
      expect(await refusal(t.caller(role).users.create({ email: email("x"), role: "viewer" }))).toMatchObject({ code: "FORBIDDEN" });
    }
    const list = await t.caller("admin").users.list();
    expect(list.users.map((u) => u.email)).toEqual(expect.arrayContaining(["admin@test.desk", "maker@test.desk"]));
    expect(list.users.find((u) => u.email === "admin@test.desk")).toMatchObject({ role: "admin", disabled: false, isYou: true });
  });

  it("creates a user with a generated password shown once, stores only its hash, and audits the account without it", async () => {
    const created = await t.caller("admin").users.create({ email: email("New.Person").toUpperCase(), name: "  New Person  ", role: "maker" });
    expect(created).toMatchObject({ name: "New Person", role: "maker", generated: true });
    expect(created.email).toBe(created.email.toLowerCase());
    expect(created.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const row = await t.desk.db.user.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.passwordHash).not.toContain(created.password);
    expect(await verifyPassword(row.passwordHash, created.password)).toBe(true);

    const entry = await lastEntry("user.create", created.id);
    expect(entry).toMatchObject({ actorId: t.users.admin.id, ip: "127.0.0.1", entityType: "user" });
    expect(entry.details).toEqual({ after: { email: created.email, name: "New Person", role: "maker", disabled: false }, password: "generated" });
    expect(JSON.stringify(entry.details)).not.toContain(created.password);
    // Nowhere in the list either.
    expect(JSON.stringify(await t.caller("admin").users.list())).not.toContain(created.password);
  });

  it("refuses a bad email, a short password and a taken email, naming the field", async () => {
    expect((await refusal(t.caller("admin").users.create({ email: "not an email", role: "viewer" }))).fields).toMatchObject({ email: expect.stringContaining("valid email") });
    expect((await refusal(t.caller("admin").users.create({ email: email("short"), role: "viewer", password: "short" }))).fields).toMatchObject({
      password: expect.stringContaining("at least 12"),
    });
    expect((await refusal(t.caller("admin").users.create({ email: "MAKER@test.desk", role: "viewer" }))).fields).toMatchObject({ email: expect.stringContaining("already exists") });
    const set = await t.caller("admin").users.create({ email: email("chosen"), role: "viewer", password: "a password the admin chose" });
    expect(set).toMatchObject({ generated: false, password: "a password the admin chose" });
    expect((await lastEntry("user.create", set.id)).details).toMatchObject({ password: "set by the creator" });
  });

  it("changes a role with before and after in the audit entry", async () => {
    const user = await t.caller("admin").users.create({ email: email("promoted"), role: "viewer" });
    expect(await t.caller("admin").users.setRole({ userId: user.id, role: "approver" })).toMatchObject({ role: "approver", changed: true });
    expect((await t.desk.db.user.findUniqueOrThrow({ where: { id: user.id } })).role).toBe("approver");
    expect((await lastEntry("user.role", user.id)).details).toEqual({ email: user.email, before: { role: "viewer" }, after: { role: "approver" } });
    // The same role again changes nothing and writes nothing.
    const count = await t.desk.db.auditLog.count({ where: { action: "user.role", entityId: user.id } });
    expect(await t.caller("admin").users.setRole({ userId: user.id, role: "approver" })).toMatchObject({ changed: false });
    expect(await t.desk.db.auditLog.count({ where: { action: "user.role", entityId: user.id } })).toBe(count);
  });

  it("never lets the last enabled admin go: not demoted, not disabled; nobody disables themselves", async () => {
    // Start from one enabled admin: disable any others earlier tests made.
    const admins = await t.desk.db.user.findMany({ where: { role: "admin", disabled: false, id: { not: t.users.admin.id } } });
    for (const a of admins) await t.caller("admin").users.setDisabled({ userId: a.id, disabled: true });

    const demote = await refusal(t.caller("admin").users.setRole({ userId: t.users.admin.id, role: "approver" }));
    expect(demote.code).toBe("BAD_REQUEST");
    expect(demote.fields.role).toContain("last enabled admin");
    const self = await refusal(t.caller("admin").users.setDisabled({ userId: t.users.admin.id, disabled: true }));
    expect(self).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("your own account") });

    // With a second admin, the first may step down; the second may then not.
    const second = await anotherAdmin();
    await t.caller(second).users.setRole({ userId: t.users.admin.id, role: "approver" });
    expect((await refusal(t.caller(second).users.setRole({ userId: second.id, role: "viewer" }))).fields.role).toContain("last enabled admin");
    // A disabled admin does not count: back to admin, then the second is disabled, and the first is the last again.
    await t.caller(second).users.setRole({ userId: t.users.admin.id, role: "admin" });
    await t.caller("admin").users.setDisabled({ userId: second.id, disabled: true });
    expect((await refusal(t.caller("admin").users.setRole({ userId: t.users.admin.id, role: "maker" }))).fields.role).toContain("last enabled admin");
    expect(await t.desk.db.user.count({ where: { role: "admin", disabled: false } })).toBe(1);
  });

  it("lets only one of two admins disabling each other at once succeed", async () => {
    const admins = await t.desk.db.user.findMany({ where: { role: "admin", disabled: false, id: { not: t.users.admin.id } } });
    for (const a of admins) await t.caller("admin").users.setDisabled({ userId: a.id, disabled: true });
    const second = await anotherAdmin();
    const results = await Promise.allSettled([
      t.caller("admin").users.setDisabled({ userId: second.id, disabled: true }),
      t.caller(second).users.setDisabled({ userId: t.users.admin.id, disabled: true }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await t.desk.db.user.count({ where: { role: "admin", disabled: false } })).toBe(1);
    // Put the test desk's admin back if it was the one disabled.
    const first = await t.desk.db.user.findUniqueOrThrow({ where: { id: t.users.admin.id } });
    if (first.disabled) {
      await t.caller(second).users.setDisabled({ userId: first.id, disabled: false });
      await t.caller("admin").users.setDisabled({ userId: second.id, disabled: true });
    }
  });

  it("ends a disabled user's sessions at once, and says why to their browsers", async () => {
    const user = await t.caller("admin").users.create({ email: email("leaver"), role: "maker" });
    const one = await startSession(t.desk.db, user.id, { ip: "192.0.2.10" });
    const two = await startSession(t.desk.db, user.id, { ip: "192.0.2.11" });
    expect((await checkSession(t.desk.db, { sessionId: one.id })).active).toBe(true);

    expect(await t.caller("admin").users.setDisabled({ userId: user.id, disabled: true })).toMatchObject({ disabled: true, sessionsEnded: 2 });
    const rows = await t.desk.db.userSession.findMany({ where: { userId: user.id } });
    expect(rows.every((r) => r.revokedAt !== null)).toBe(true);
    for (const s of [one, two]) expect(await checkSession(t.desk.db, { sessionId: s.id })).toEqual({ active: false, reason: "disabled" });
    expect((await lastEntry("user.disable", user.id)).details).toEqual({ email: user.email, before: { disabled: false }, after: { disabled: true }, sessionsEnded: 2 });

    // Enabled again: the old sessions stay ended (they were revoked), a new sign-in works.
    await t.caller("admin").users.setDisabled({ userId: user.id, disabled: false });
    expect((await lastEntry("user.enable", user.id)).details).toEqual({ email: user.email, before: { disabled: true }, after: { disabled: false } });
    expect(await checkSession(t.desk.db, { sessionId: one.id })).toEqual({ active: false, reason: "signed-out" });
    const three = await startSession(t.desk.db, user.id, {});
    expect((await checkSession(t.desk.db, { sessionId: three.id })).active).toBe(true);
  });

  it("resets a password: a new one shown once, the old one dead, sessions ended; an admin resetting their own keeps the session in use", async () => {
    const user = await t.caller("admin").users.create({ email: email("forgetful"), role: "viewer", password: "the first password" });
    const session = await startSession(t.desk.db, user.id, {});
    const reset = await t.caller("admin").users.resetPassword({ userId: user.id });
    expect(reset).toMatchObject({ generated: true, sessionsEnded: 1 });
    const row = await t.desk.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(await verifyPassword(row.passwordHash, "the first password")).toBe(false);
    expect(await verifyPassword(row.passwordHash, reset.password)).toBe(true);
    expect((await checkSession(t.desk.db, { sessionId: session.id })).active).toBe(false);
    const entry = await lastEntry("user.password_reset", user.id);
    expect(entry.details).toEqual({ email: user.email, password: "generated", sessionsEnded: 1 });
    expect(JSON.stringify(entry.details)).not.toContain(reset.password);

    expect((await refusal(t.caller("admin").users.resetPassword({ userId: user.id, password: "too short" }))).fields).toMatchObject({ password: expect.any(String) });

    // An admin's own reset: the session making the request survives, their other one ends.
    const admin = await t.caller("admin").users.create({ email: email("self-reset"), role: "admin" });
    const actor: Actor = { id: admin.id, email: admin.email, name: admin.name, role: "admin" };
    const here = await startSession(t.desk.db, admin.id, {});
    const elsewhere = await startSession(t.desk.db, admin.id, {});
    const own = await resetPassword(t.desk, actor, { userId: admin.id, password: "my own new password" }, "127.0.0.1", here.id);
    expect(own).toMatchObject({ generated: false, sessionsEnded: 1 });
    expect((await checkSession(t.desk.db, { sessionId: here.id })).active).toBe(true);
    expect((await checkSession(t.desk.db, { sessionId: elsewhere.id })).active).toBe(false);
    await t.caller("admin").users.setDisabled({ userId: admin.id, disabled: true });
  });

  it("assigns approval groups, audited with the group names before and after", async () => {
    const treasury = await t.desk.db.approvalGroup.create({ data: { name: `Treasury ${n}` } });
    const user = await t.caller("admin").users.create({ email: email("treasurer"), role: "approver" });
    await t.caller("admin").users.setGroups({ userId: user.id, groupIds: [treasury.id] });
    expect((await t.caller("admin").users.list()).users.find((u) => u.id === user.id)!.groups).toEqual([{ id: treasury.id, name: treasury.name }]);
    expect((await lastEntry("user.groups", user.id)).details).toEqual({ before: [], after: [treasury.name] });
    await t.caller("admin").users.setGroups({ userId: user.id, groupIds: [] });
    expect((await lastEntry("user.groups", user.id)).details).toEqual({ before: [treasury.name], after: [] });
    expect(await refusal(t.caller("approver").users.setGroups({ userId: user.id, groupIds: [] }))).toMatchObject({ code: "FORBIDDEN" });
  });

  it("leaves every change on an intact chain", async () => {
    expect(await verifyChain(t.desk.db)).toMatchObject({ intact: true, broken: null });
  });
});
