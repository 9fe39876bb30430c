// Two-factor sign-in on a real database (PGlite, and PostgreSQL when
// TEST_DATABASE_URL is set): enrolment confirmed with a code computed by
// otplib from the key the desk shows, codes accepted once, recovery codes
// used up, the step-up window on an injected clock, who is refused and who
// is let through, the tRPC answer the browser acts on, and an admin's reset
// (two admins for an admin's).
//
// Most tests run on a fixed clock in 2030 so every code and window is exact.
// The tRPC tests run procedures that read the real clock, so they use users
// of their own (a proof "in 2030" would make every real code look used).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "otplib";
import { TRPCError } from "@trpc/server";
import { getErrorShape } from "@trpc/server/unstable-core-do-not-import";
import { createTestDatabase, testDatabases, type TestDb } from "@/server/db/testing";
import { readConfig } from "@/server/config";
import { requireRecentSecondFactor, StepUpRequired } from "@/server/auth/step-up";
import { checkSession, startSession } from "@/server/auth/user-sessions";
import { createCallerFactory } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/router";
import type { Role } from "@/server/auth/roles";
import type { Actor, Desk } from "./types";
import { createUser } from "./users";
import { signIn, SIGN_IN_LIMITS } from "./sign-in";
import { Conflict, FieldErrors, Forbidden } from "./errors";
import {
  approveSecondFactorReset,
  cancelSecondFactorReset,
  confirmEnrolment,
  disableSecondFactor,
  regenerateRecoveryCodes,
  resetSecondFactor,
  secondFactorStatus,
  setRequireForAll,
  startEnrolment,
  stepUp,
  userSecondFactor,
} from "./second-factor";

const T0 = new Date("2030-01-01T10:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const IP = "192.0.2.10";

function codeAt(secret: string, when: Date): Promise<string> {
  return generate({ secret, epoch: Math.floor(when.getTime() / 1000) });
}

/** A 6-digit code that is none of the secret's codes from two steps back to two ahead. */
async function wrongCodeAt(secret: string, when: Date): Promise<string> {
  const near = new Set(await Promise.all([-60, -30, 0, 30, 60].map((s) => codeAt(secret, new Date(when.getTime() + s * 1000)))));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, "0");
    if (!near.has(candidate)) return candidate;
  }
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: unknown) => error,
  );
}

describe.each(testDatabases())("two-factor sign-in on %s", (kind) => {
  let db: TestDb;
  let desk: Desk;
  const people = {} as Record<string, Actor>;

  async function person(key: string, role: Role): Promise<Actor> {
    const { user } = await createUser(db.prisma, { email: `${key}@2fa.test`, role, password: `${key} password 123` });
    return (people[key] = { id: user.id, email: user.email, name: user.name, role });
  }

  function session(actor: Actor, when = T0): Promise<string> {
    return startSession(db.prisma, actor.id, { ip: IP }, { now: () => when }).then((s) => s.id);
  }

  /** Enrols through the service as the page does: start, read the manual key, confirm with its code. */
  async function enrol(actor: Actor, sessionId: string, when: Date) {
    const started = await startEnrolment(desk, actor, sessionId, IP, when);
    const secret = started.manualKey.replace(/ /g, "");
    const done = await confirmEnrolment(desk, actor, sessionId, { enrolment: started.enrolment, code: await codeAt(secret, when) }, IP, when);
    return { secret, recoveryCodes: done.recoveryCodes, started };
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    desk = { db: db.prisma, config: readConfig({} as NodeJS.ProcessEnv), credentialsKey: randomBytes(32), jobs: { wake() {} } };
  }, 180_000);
  afterAll(() => db?.dispose());

  it("enrols with a code computed from the key it shows, keeps only a sealed secret and argon2 hashes, and shows ten recovery codes once", async () => {
    const ann = await person("ann", "approver");
    const sid = await session(ann);
    const started = await startEnrolment(desk, ann, sid, IP, T0);
    expect(started.manualKey).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
    expect(started.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(started.qrCode.split(",")[1]!, "base64").toString()).toContain("<svg");
    expect(started).toMatchObject({ issuer: "Payout desk", accountLabel: "ann@2fa.test", replacing: false });
    const secret = started.manualKey.replace(/ /g, "");
    // Nothing is stored until the code confirms it.
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: ann.id } })).toMatchObject({ totpSecret: null, totpEnabledAt: null });

    const wrong = await caught(confirmEnrolment(desk, ann, sid, { enrolment: started.enrolment, code: await wrongCodeAt(secret, at(10)) }, IP, at(10)));
    expect(wrong).toBeInstanceOf(FieldErrors);
    expect((wrong as FieldErrors).fields.code).toMatch(/^Code: not the code of the key you are setting up/);

    const done = await confirmEnrolment(desk, ann, sid, { enrolment: started.enrolment, code: await codeAt(secret, at(10)) }, IP, at(10));
    expect(done.recoveryCodes).toHaveLength(10);
    expect(new Set(done.recoveryCodes).size).toBe(10);
    for (const code of done.recoveryCodes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);

    const row = await db.prisma.user.findUniqueOrThrow({ where: { id: ann.id } });
    expect(row.totpEnabledAt).toEqual(at(10));
    expect(row.totpSecret).toMatch(/^v1\./);
    expect(row.totpSecret).not.toContain(secret);
    const hashes = row.totpRecoveryCodes as string[];
    expect(hashes).toHaveLength(10);
    for (const hash of hashes) expect(hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(hashes)).not.toContain(done.recoveryCodes[0]!.replace("-", ""));
    // The confirming code proved the factor in this session.
    expect((await db.prisma.userSession.findUniqueOrThrow({ where: { id: sid } })).secondFactorAt).toEqual(at(10));
    expect(await secondFactorStatus(desk, ann, sid)).toMatchObject({ enabled: true, requirement: "role", recoveryCodesLeft: 10, provedAt: at(10), freshUntil: at(310) });

    const entries = await db.prisma.auditLog.findMany({ where: { entityId: ann.id, action: { startsWith: "user.second_factor" } }, orderBy: { id: "asc" } });
    expect(entries.map((e) => e.action)).toEqual(["user.second_factor_enrolment_started", "user.second_factor_enrol"]);
    const written = JSON.stringify((await db.prisma.auditLog.findMany({ where: { actorId: ann.id } })).map((e) => e.details));
    expect(written).not.toContain(secret);
    for (const code of done.recoveryCodes) expect(written).not.toContain(code);
  });

  it("refuses a set-up from another session, another user, or past its 15 minutes, naming the field", async () => {
    const bea = await person("bea", "maker");
    const cal = await person("cal", "maker");
    const sid = await session(bea);
    const started = await startEnrolment(desk, bea, sid, IP, T0);
    const code = await codeAt(started.manualKey.replace(/ /g, ""), T0);
    const elsewhere = await caught(confirmEnrolment(desk, bea, await session(bea), { enrolment: started.enrolment, code }, IP, T0));
    expect((elsewhere as FieldErrors).fields.enrolment).toMatch(/started in another session/);
    const stolen = await caught(confirmEnrolment(desk, cal, await session(cal), { enrolment: started.enrolment, code }, IP, T0));
    expect((stolen as FieldErrors).fields.enrolment).toMatch(/not one this desk started for you/);
    const late = await caught(confirmEnrolment(desk, bea, sid, { enrolment: started.enrolment, code: await codeAt(started.manualKey.replace(/ /g, ""), at(901)) }, IP, at(901)));
    expect((late as FieldErrors).fields.enrolment).toMatch(/expired after 15 minutes/);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: bea.id } })).totpEnabledAt).toBeNull();
  });

  it("accepts a TOTP code once and a recovery code once", async () => {
    const dan = await person("dan", "approver");
    const { secret, recoveryCodes } = await enrol(dan, await session(dan), at(10));
    // The code that confirmed enrolment, again, in another session: refused.
    const again = await caught(stepUp(desk, dan, await session(dan), await codeAt(secret, at(10)), IP, at(20)));
    expect((again as FieldErrors).fields.code).toMatch(/^Code: this code has been used already/);
    // The next step's code works, once.
    const s2 = await session(dan);
    const next = await codeAt(secret, at(40));
    expect(await stepUp(desk, dan, s2, next, IP, at(40))).toMatchObject({ usedRecoveryCode: false, recoveryCodesLeft: 10, freshUntil: at(340) });
    expect((await db.prisma.userSession.findUniqueOrThrow({ where: { id: s2 } })).secondFactorAt).toEqual(at(40));
    expect(((await caught(stepUp(desk, dan, await session(dan), next, IP, at(45)))) as FieldErrors).fields.code).toMatch(/used already/);

    // A recovery code, typed in capitals without its dash, works once and is gone (its hash is deleted, so it is just not right now).
    const typed = recoveryCodes[3]!.replace("-", "").toUpperCase();
    expect(await stepUp(desk, dan, await session(dan), typed, IP, at(50))).toMatchObject({ usedRecoveryCode: true, recoveryCodesLeft: 9 });
    expect(((await caught(stepUp(desk, dan, await session(dan), recoveryCodes[3]!, IP, at(55)))) as FieldErrors).fields.code).toMatch(/^Code: not right/);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: dan.id } })).totpRecoveryCodes).toHaveLength(9);
    // The others still work.
    expect(await stepUp(desk, dan, await session(dan), recoveryCodes[4]!, IP, at(60))).toMatchObject({ recoveryCodesLeft: 8 });

    const wrong = await caught(stepUp(desk, dan, await session(dan), await wrongCodeAt(secret, at(100)), IP, at(100)));
    expect((wrong as FieldErrors).fields.code).toMatch(/^Code: not right/);
    const failures = await db.prisma.auditLog.findMany({ where: { action: "user.second_factor_failed", entityId: dan.id } });
    expect(failures.map((f) => (f.details as { why: string }).why)).toEqual(["used", "used", "wrong", "wrong"]);
  });

  it("lets one of two simultaneous uses of a recovery code through", async () => {
    const eve = await person("eve", "maker");
    const { recoveryCodes } = await enrol(eve, await session(eve), at(10));
    const sessions = await Promise.all([session(eve), session(eve), session(eve)]);
    const outcomes = await Promise.allSettled(sessions.map((sid) => stepUp(desk, eve, sid, recoveryCodes[0]!, IP, at(20))));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: eve.id } })).totpRecoveryCodes).toHaveLength(9);
  });

  it("asks again 5 minutes after the last code, on an injected clock", async () => {
    const fay = await person("fay", "approver");
    const sid = await session(fay);
    const { secret } = await enrol(fay, sid, at(10));
    await requireRecentSecondFactor({ desk, actor: fay, sessionId: sid, now: () => at(310) });
    const stale = await caught(requireRecentSecondFactor({ desk, actor: fay, sessionId: sid, now: () => at(311) }));
    expect(stale).toBeInstanceOf(StepUpRequired);
    expect(stale).toMatchObject({ reason: "stale", message: expect.stringMatching(/^Code: .*more than 5 minutes ago, and this session last gave one 5 minutes ago$/) });
    // A step-up makes it fresh again, for this session only.
    await stepUp(desk, fay, sid, await codeAt(secret, at(400)), IP, at(400));
    await requireRecentSecondFactor({ desk, actor: fay, sessionId: sid, now: () => at(700) });
    const other = await session(fay);
    expect(await caught(requireRecentSecondFactor({ desk, actor: fay, sessionId: other, now: () => at(401) }))).toMatchObject({ reason: "stale", message: expect.stringMatching(/has not given one yet/) });
    // No session, or one that has ended, proves nothing.
    expect(await caught(requireRecentSecondFactor({ desk, actor: fay, sessionId: null, now: () => at(401) }))).toMatchObject({ reason: "stale" });
    await db.prisma.userSession.update({ where: { id: sid }, data: { revokedAt: at(402) } });
    expect(await caught(requireRecentSecondFactor({ desk, actor: fay, sessionId: sid, now: () => at(403) }))).toMatchObject({ reason: "stale" });
    // Another user's session does not count for this one.
    const gus = await person("gus", "approver");
    await enrol(gus, await session(gus), at(10));
    expect(await caught(requireRecentSecondFactor({ desk, actor: gus, sessionId: other, now: () => at(401) }))).toMatchObject({ reason: "stale" });
  });

  it("refuses a step-up to those who must enrol and have not, and lets through those the desk does not require it of", async () => {
    const hal = await person("hal", "admin");
    const notEnrolled = await caught(requireRecentSecondFactor({ desk, actor: hal, sessionId: await session(hal), now: () => T0 }));
    expect(notEnrolled).toMatchObject({ reason: "not-enrolled", message: expect.stringMatching(/^Two-factor sign-in is required of admins and you have not set it up/) });

    const ida = await person("ida", "viewer");
    const idaSession = await session(ida);
    await requireRecentSecondFactor({ desk, actor: ida, sessionId: idaSession, now: () => T0 });
    await requireRecentSecondFactor({ desk, actor: ida, sessionId: null, now: () => T0 });

    // The desk requires it of everyone: the viewer is refused too, until enrolled.
    const root = await person("root", "admin");
    const rootSession = await session(root);
    await enrol(root, rootSession, at(10));
    await setRequireForAll(desk, root, rootSession, true, IP, at(20));
    expect(await caught(requireRecentSecondFactor({ desk, actor: ida, sessionId: idaSession, now: () => at(20) }))).toMatchObject({
      reason: "not-enrolled",
      message: expect.stringMatching(/required of everyone on this desk/),
    });
    await setRequireForAll(desk, root, rootSession, false, IP, at(30));
    await requireRecentSecondFactor({ desk, actor: ida, sessionId: idaSession, now: () => at(30) });
    const entries = await db.prisma.auditLog.findMany({ where: { action: "settings.update", entityId: "security" }, orderBy: { id: "asc" } });
    expect(entries.map((e) => e.details)).toEqual([
      { changes: { requireTotpForAll: { from: false, to: true } } },
      { changes: { requireTotpForAll: { from: true, to: false } } },
    ]);
    // Only admins change it, and with a fresh code.
    expect(await caught(setRequireForAll(desk, ida, idaSession, true, IP, at(40)))).toBeInstanceOf(Forbidden);
    expect(await caught(setRequireForAll(desk, root, rootSession, true, IP, at(400)))).toBeInstanceOf(StepUpRequired);

    // Someone who chose to enrol is asked, whatever their role.
    await enrol(ida, idaSession, at(10));
    expect(await caught(requireRecentSecondFactor({ desk, actor: ida, sessionId: idaSession, now: () => at(400) }))).toMatchObject({ reason: "stale" });
  });

  it("turns off only where it is not required, and with a fresh code; recovery codes are replaced with one", async () => {
    const jon = await person("jon", "maker");
    const sid = await session(jon);
    const { secret, recoveryCodes } = await enrol(jon, sid, at(10));
    expect(await caught(regenerateRecoveryCodes(desk, jon, sid, IP, at(400)))).toBeInstanceOf(StepUpRequired);
    await stepUp(desk, jon, sid, await codeAt(secret, at(420)), IP, at(420));
    const fresh = await regenerateRecoveryCodes(desk, jon, sid, IP, at(430));
    expect(fresh.recoveryCodes).toHaveLength(10);
    // The old codes no longer work.
    expect(((await caught(stepUp(desk, jon, sid, recoveryCodes[0]!, IP, at(440)))) as FieldErrors).fields.code).toMatch(/not right/);

    expect(await caught(disableSecondFactor(desk, jon, sid, IP, at(800)))).toBeInstanceOf(StepUpRequired);
    await stepUp(desk, jon, sid, fresh.recoveryCodes[0]!, IP, at(810));
    await disableSecondFactor(desk, jon, sid, IP, at(820));
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: jon.id } })).toMatchObject({ totpSecret: null, totpEnabledAt: null, totpRecoveryCodes: null });
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.second_factor_disable", entityId: jon.id } })).toMatchObject({
      details: { before: { enabled: true, recoveryCodesLeft: 9 }, after: { enabled: false } },
    });

    const kim = await person("kim", "approver");
    const kimSession = await session(kim);
    await enrol(kim, kimSession, at(10));
    const refused = await caught(disableSecondFactor(desk, kim, kimSession, IP, at(20)));
    expect(refused).toBeInstanceOf(Forbidden);
    expect((refused as Error).message).toMatch(/required of approvers, so it cannot be turned off/);
  });

  it("moves to a new device only with a fresh code, and the old factor works until the new one is confirmed", async () => {
    const lea = await person("lea", "approver");
    const sid = await session(lea);
    const first = await enrol(lea, sid, at(10));
    expect(await caught(startEnrolment(desk, lea, sid, IP, at(400)))).toBeInstanceOf(StepUpRequired);
    await stepUp(desk, lea, sid, await codeAt(first.secret, at(420)), IP, at(420));
    const replacing = await startEnrolment(desk, lea, sid, IP, at(430));
    expect(replacing.replacing).toBe(true);
    // Not confirmed yet: the old key still signs in.
    const other = await session(lea);
    await stepUp(desk, lea, other, await codeAt(first.secret, at(460)), IP, at(460));
    const newSecret = replacing.manualKey.replace(/ /g, "");
    await confirmEnrolment(desk, lea, sid, { enrolment: replacing.enrolment, code: await codeAt(newSecret, at(500)) }, IP, at(500));
    expect(((await caught(stepUp(desk, lea, other, await codeAt(first.secret, at(560)), IP, at(560)))) as FieldErrors).fields.code).toMatch(/not right/);
    await stepUp(desk, lea, other, await codeAt(newSecret, at(590)), IP, at(590));
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.second_factor_replace", entityId: lea.id } })).not.toBeNull();
  });

  it("lets an admin reset a non-admin's factor at once: sessions end, the grace sign-in is back", async () => {
    const boss = await person("boss", "admin");
    const bossSession = await session(boss);
    const bossKey = (await enrol(boss, bossSession, at(10))).secret;
    const max = await person("max", "approver");
    const maxSessions = [await session(max), await session(max)];
    await enrol(max, maxSessions[0]!, at(10));
    await db.prisma.user.update({ where: { id: max.id }, data: { totpGraceUsedAt: at(5) } });

    // Not by a non-admin, not on oneself, not without a fresh code.
    expect(await caught(resetSecondFactor(desk, max, maxSessions[0], boss.id, IP, at(20)))).toBeInstanceOf(Forbidden);
    expect(((await caught(resetSecondFactor(desk, boss, bossSession, boss.id, IP, at(20)))) as Forbidden).message).toMatch(/cannot reset your own/);
    expect(await caught(resetSecondFactor(desk, boss, bossSession, max.id, IP, at(400)))).toBeInstanceOf(StepUpRequired);

    await stepUp(desk, boss, bossSession, await codeAt(bossKey, at(420)), IP, at(420));
    expect(await resetSecondFactor(desk, boss, bossSession, max.id, IP, at(430))).toEqual({ outcome: "reset", sessionsEnded: 2 });
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: max.id } })).toMatchObject({ totpSecret: null, totpEnabledAt: null, totpRecoveryCodes: null, totpGraceUsedAt: null });
    for (const sid of maxSessions) expect(await checkSession(db.prisma, { sessionId: sid }, { now: () => at(431) })).toEqual({ active: false, reason: "signed-out" });
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.second_factor_reset", entityId: max.id } })).toMatchObject({
      actorId: boss.id,
      ip: IP,
      details: { resetBy: boss.id, before: { enabled: true, recoveryCodesLeft: 10 }, after: { enabled: false, graceSignIn: true }, sessionsEnded: 2 },
    });
    // One sign-in without a code, to enrol again.
    expect(await signIn(db.prisma, max.email, "max password 123", "198.51.100.1", { now: () => at(500), credentialsKey: desk.credentialsKey })).toMatchObject({ secondFactor: "grace" });
  });

  it("needs two admins for an admin's: one proposes, another approves; the proposer cannot, and a proposal lapses or is withdrawn", async () => {
    const admins = await Promise.all(["ava", "ben", "cyd"].map((k) => person(k, "admin")));
    const [ava, ben, cyd] = admins as [Actor, Actor, Actor];
    const sessions = await Promise.all(admins.map((a) => session(a)));
    const [avaS, benS, cydS] = sessions as [string, string, string];
    const keys: string[] = [];
    for (const [i, a] of admins.entries()) keys.push((await enrol(a, sessions[i]!, at(10))).secret);

    expect(await resetSecondFactor(desk, ava, avaS, cyd.id, IP, at(20))).toEqual({ outcome: "proposed", expiresAt: at(20 + 24 * 3600) });
    // Nothing changed yet.
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: cyd.id } })).totpEnabledAt).not.toBeNull();
    expect(await userSecondFactor(desk, ben, cyd.id, at(30))).toMatchObject({ enabled: true, needsSecondAdmin: true, proposal: { proposedBy: { id: ava.id }, byYou: false } });
    expect(await caught(resetSecondFactor(desk, ava, avaS, cyd.id, IP, at(30)))).toBeInstanceOf(Conflict);
    expect(((await caught(approveSecondFactorReset(desk, ava, avaS, cyd.id, IP, at(30)))) as Forbidden).message).toMatch(/a different admin must approve/);
    expect(((await caught(approveSecondFactorReset(desk, cyd, cydS, cyd.id, IP, at(30)))) as Forbidden).message).toMatch(/cannot reset your own/);
    expect(await caught(approveSecondFactorReset(desk, ben, benS, cyd.id, IP, at(400)))).toBeInstanceOf(StepUpRequired);

    await stepUp(desk, ben, benS, await codeAt(keys[1]!, at(420)), IP, at(420));
    expect(await approveSecondFactorReset(desk, ben, benS, cyd.id, IP, at(430))).toEqual({ outcome: "reset", sessionsEnded: 1 });
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: cyd.id } })).totpEnabledAt).toBeNull();
    expect(await checkSession(db.prisma, { sessionId: cydS }, { now: () => at(431) })).toEqual({ active: false, reason: "signed-out" });
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.second_factor_reset", entityId: cyd.id } })).toMatchObject({
      actorId: ben.id,
      details: { proposedBy: ava.id, approvedBy: ben.id, sessionsEnded: 1 },
    });
    expect(await caught(approveSecondFactorReset(desk, ben, benS, cyd.id, IP, at(440)))).toBeInstanceOf(Conflict);

    // Withdrawn: nothing left to approve.
    await stepUp(desk, ava, avaS, await codeAt(keys[0]!, at(450)), IP, at(450));
    await resetSecondFactor(desk, ava, avaS, ben.id, IP, at(460));
    await cancelSecondFactorReset(desk, ben, ben.id, IP, at(470));
    expect(await caught(approveSecondFactorReset(desk, cyd, cydS, ben.id, IP, at(480)))).toBeInstanceOf(Conflict);
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.second_factor_reset_cancel", entityId: ben.id } })).toMatchObject({ actorId: ben.id });

    // Lapsed after 24 hours: the approval finds none.
    await resetSecondFactor(desk, ava, avaS, ben.id, IP, at(490));
    const later = new Date(at(490).getTime() + 24 * 3_600_000 + 1000);
    await stepUp(desk, ben, benS, await codeAt(keys[1]!, later), IP, later);
    const lapsed = await caught(approveSecondFactorReset(desk, ben, benS, ava.id, IP, later));
    expect((lapsed as Conflict).message).toMatch(/No reset of .* is waiting/);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: ben.id } })).totpEnabledAt).not.toBeNull();
  });

  it("throttles wrong step-up codes with sign-in's limits: one count per account and address for passwords and codes", async () => {
    const tia = await person("tia", "maker");
    const sid = await session(tia);
    const { secret } = await enrol(tia, sid, at(10));
    const address = "198.51.100.77";
    const wrong = await wrongCodeAt(secret, at(100));
    for (let i = 0; i < SIGN_IN_LIMITS.freeFailures; i++) expect(await caught(stepUp(desk, tia, sid, wrong, address, at(100)))).toBeInstanceOf(FieldErrors);
    const throttled = await caught(stepUp(desk, tia, sid, await codeAt(secret, at(100)), address, at(100)));
    expect(throttled).toMatchObject({ name: "SignInThrottled", retryAfterSeconds: 1 });
    expect((throttled as Error).message).toMatch(/^Code: too many wrong codes or passwords for this account from your network address\. Wait 1 second/);
    // The same pair's sign-in waits too.
    expect(await caught(signIn(db.prisma, tia.email, "tia password 123", address, { now: () => at(100), credentialsKey: desk.credentialsKey }))).toMatchObject({ name: "SignInThrottled" });
    // After the wait, the right code goes through and clears the count.
    expect(await stepUp(desk, tia, sid, await codeAt(secret, at(101)), address, at(101))).toMatchObject({ usedRecoveryCode: false });
    expect(await caught(stepUp(desk, tia, sid, wrong, address, at(102)))).toBeInstanceOf(FieldErrors);
  });

  describe("through tRPC, on the real clock", () => {
    const createCaller = createCallerFactory(appRouter);
    const callerFor = (actor: Actor, sessionId: string | null) => createCaller({ desk, actor, ip: IP, sessionId });

    function shapeOf(error: TRPCError) {
      return getErrorShape({ config: appRouter._def._config, error, type: "mutation", path: "connections.create", input: undefined, ctx: undefined });
    }

    it("answers StepUpRequired as FORBIDDEN with data.stepUpRequired, and auth.stepUp makes the same call pass the check", async () => {
      const rex = await person("rex", "admin");
      const sid = await session(rex, new Date());
      const { secret } = await enrol(rex, sid, new Date(Date.now() - 10 * 60_000));
      const create = () => callerFor(rex, sid).connections.create({ provider: "pawapay", name: "", environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: {} });
      const refused = (await caught(create())) as TRPCError;
      expect(refused).toBeInstanceOf(TRPCError);
      expect(refused.code).toBe("FORBIDDEN");
      expect(shapeOf(refused).data).toMatchObject({ stepUpRequired: true, stepUpReason: "stale", httpStatus: 403 });
      expect(refused.message).toMatch(/^Code: enter the current code/);

      const wrong = (await caught(callerFor(rex, sid).auth.stepUp({ code: await wrongCodeAt(secret, new Date()) }))) as TRPCError;
      expect(wrong.code).toBe("BAD_REQUEST");
      expect(shapeOf(wrong).data).toMatchObject({ fieldErrors: { code: expect.stringMatching(/^Code: not right/) } });
      expect(shapeOf(wrong).data).not.toHaveProperty("stepUpRequired");

      expect(await callerFor(rex, sid).auth.stepUp({ code: await codeAt(secret, new Date()) })).toMatchObject({ usedRecoveryCode: false });
      // Past the step-up now: refused for its input instead.
      expect(((await caught(create())) as TRPCError).code).toBe("BAD_REQUEST");
      expect(await callerFor(rex, sid).auth.status()).toMatchObject({ enabled: true, provedAt: expect.any(Date) });
    });

    it("says not-enrolled to an admin without the factor", async () => {
      const sam = await person("sam", "admin");
      const samSession = await session(sam, new Date());
      const notEnrolled = (await caught(
        callerFor(sam, samSession).connections.update({ id: "00000000-0000-4000-8000-000000000000", name: "x", environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: {} }),
      )) as TRPCError;
      expect(notEnrolled.code).toBe("FORBIDDEN");
      expect(shapeOf(notEnrolled).data).toMatchObject({ stepUpRequired: true, stepUpReason: "not-enrolled" });
    });

    it("refuses auth.stepUp without a session, or to someone with nothing to prove", async () => {
      const uma = await person("uma", "viewer");
      expect(((await caught(callerFor(uma, await session(uma, new Date())).auth.stepUp({ code: "123456" }))) as TRPCError).message).toMatch(/not on for this account/);
      expect(((await caught(callerFor(uma, null).auth.stepUp({ code: "123456" }))) as TRPCError).code).toBe("FORBIDDEN");
    });
  });
});
