import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testDatabases, type TestDb } from "@/server/db/testing";
import { createUser } from "@/server/services/users";
import {
  checkSession,
  LAST_SEEN_RESOLUTION_MS,
  revokeSession,
  sessionEndMessage,
  sessionPolicy,
  startSession,
  type SessionPolicy,
} from "./user-sessions";

const policy: SessionPolicy = { idleMinutes: 30, maxHours: 8 };

function manualClock(start = "2030-05-06T08:00:00.000Z") {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advanceMinutes(minutes: number) {
      now += minutes * 60_000;
    },
  };
}

describe("session policy", () => {
  it("defaults to 30 idle minutes and 8 hours, and reads the environment", () => {
    expect(sessionPolicy({})).toEqual({ idleMinutes: 30, maxHours: 8 });
    expect(sessionPolicy({ DESK_SESSION_IDLE_MINUTES: "5", DESK_SESSION_MAX_HOURS: "0.5" })).toEqual({ idleMinutes: 5, maxHours: 0.5 });
  });

  it("refuses a setting that is not a positive number, naming it", () => {
    expect(() => sessionPolicy({ DESK_SESSION_IDLE_MINUTES: "0" })).toThrow('DESK_SESSION_IDLE_MINUTES must be a positive number of minutes, not "0"');
    expect(() => sessionPolicy({ DESK_SESSION_MAX_HOURS: "eight" })).toThrow('DESK_SESSION_MAX_HOURS must be a positive number of hours, not "eight"');
  });

  it("words each ending with the rule that caused it", () => {
    expect(sessionEndMessage("idle", policy)).toBe("Your session ended after 30 minutes without activity. Sign in again.");
    expect(sessionEndMessage("expired", policy)).toBe("Your session reached its limit of 8 hours since sign-in. Sign in again.");
    expect(sessionEndMessage("idle", { idleMinutes: 1, maxHours: 1 })).toBe("Your session ended after 1 minute without activity. Sign in again.");
    expect(sessionEndMessage("signed-out", policy)).toMatch(/signed out/);
    expect(sessionEndMessage("disabled", policy)).toMatch(/account is disabled/);
  });
});

describe.each(testDatabases())("sessions on %s", (kind) => {
  let db: TestDb;
  let userId: string;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ({ user: { id: userId } } = await createUser(db.prisma, { email: "sessions@example.com", role: "approver", password: "a long enough password" }));
  }, 180_000);
  afterAll(() => db?.dispose());

  it("lets the user in with their current role, and counts requests as activity at most once a minute", async () => {
    const clock = manualClock();
    const session = await startSession(db.prisma, userId, { ip: "192.0.2.1", userAgent: "x".repeat(1000) }, { ...clock, policy });
    expect(session.expiresAt.toISOString()).toBe("2030-05-06T16:00:00.000Z");
    const row = await db.prisma.userSession.findUniqueOrThrow({ where: { id: session.id } });
    expect(row.userAgent).toHaveLength(400);

    const check = await checkSession(db.prisma, { sessionId: session.id, userId }, { ...clock, policy });
    expect(check).toMatchObject({ active: true, actor: { id: userId, role: "approver", email: "sessions@example.com" } });

    clock.advanceMinutes(0.5);
    await checkSession(db.prisma, { sessionId: session.id }, { ...clock, policy });
    expect((await db.prisma.userSession.findUniqueOrThrow({ where: { id: session.id } })).lastSeenAt.toISOString()).toBe("2030-05-06T08:00:00.000Z");
    clock.advanceMinutes(LAST_SEEN_RESOLUTION_MS / 60_000);
    await checkSession(db.prisma, { sessionId: session.id }, { ...clock, policy });
    expect((await db.prisma.userSession.findUniqueOrThrow({ where: { id: session.id } })).lastSeenAt.toISOString()).toBe("2030-05-06T08:01:30.000Z");
  });

  it("ends after the idle window without activity, and not while the user keeps working", async () => {
    const clock = manualClock();
    const { id } = await startSession(db.prisma, userId, {}, { ...clock, policy });
    for (let i = 0; i < 4; i++) {
      clock.advanceMinutes(29);
      expect(await checkSession(db.prisma, { sessionId: id }, { ...clock, policy })).toMatchObject({ active: true });
    }
    clock.advanceMinutes(30);
    expect(await checkSession(db.prisma, { sessionId: id }, { ...clock, policy })).toEqual({ active: false, reason: "idle" });
    // A later request does not revive it.
    expect(await checkSession(db.prisma, { sessionId: id }, { ...clock, policy })).toEqual({ active: false, reason: "idle" });
  });

  it("ends at the absolute limit however active the user is", async () => {
    const clock = manualClock();
    const { id } = await startSession(db.prisma, userId, {}, { ...clock, policy });
    for (let minutes = 20; minutes < 8 * 60; minutes += 20) {
      clock.advanceMinutes(20);
      expect(await checkSession(db.prisma, { sessionId: id }, { ...clock, policy })).toMatchObject({ active: true });
    }
    clock.advanceMinutes(20);
    expect(await checkSession(db.prisma, { sessionId: id }, { ...clock, policy })).toEqual({ active: false, reason: "expired" });
  });

  it("ends at sign-out, once, with an audit entry from the signing-out address", async () => {
    const clock = manualClock();
    const { id } = await startSession(db.prisma, userId, { ip: "192.0.2.7" }, { ...clock, policy });
    expect(await revokeSession(db.prisma, id, { ...clock, ip: "192.0.2.8" })).toBe(true);
    expect(await revokeSession(db.prisma, id, clock)).toBe(false);
    expect(await checkSession(db.prisma, { sessionId: id }, { ...clock, policy })).toEqual({ active: false, reason: "signed-out" });
    const entries = await db.prisma.auditLog.findMany({ where: { action: "user.sign_out", actorId: userId } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ ip: "192.0.2.8", details: { sessionId: id, signedInFrom: "192.0.2.7" } });
    // Other sessions of the same user are untouched.
    const other = await startSession(db.prisma, userId, {}, { ...clock, policy });
    expect(await checkSession(db.prisma, { sessionId: other.id }, { ...clock, policy })).toMatchObject({ active: true });
  });

  it("ends every session of a disabled account", async () => {
    const { user } = await createUser(db.prisma, { email: "leaver@example.com", role: "maker", password: "a long enough password" });
    const clock = manualClock();
    const { id } = await startSession(db.prisma, user.id, {}, { ...clock, policy });
    await db.prisma.user.update({ where: { id: user.id }, data: { disabled: true } });
    expect(await checkSession(db.prisma, { sessionId: id }, { ...clock, policy })).toEqual({ active: false, reason: "disabled" });
  });

  it("lets no one in on a token that names no session, a malformed one, or another user's", async () => {
    const clock = manualClock();
    const { id } = await startSession(db.prisma, userId, {}, { ...clock, policy });
    for (const claim of [{}, { sessionId: "not-a-uuid" }, { sessionId: "00000000-0000-4000-8000-000000000000" }, { sessionId: id, userId: "someone-else" }]) {
      expect(await checkSession(db.prisma, claim, { ...clock, policy })).toEqual({ active: false, reason: "invalid" });
    }
  });
});
