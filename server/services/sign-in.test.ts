import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "otplib";
import { createTestDatabase, testDatabases, type TestDb } from "@/server/db/testing";
import { readConfig } from "@/server/config";
import { EnrolmentOverdue, pairDelaySeconds, SecondFactorNeeded, SecondFactorRefused, signIn, SignInThrottled, SIGN_IN_LIMITS, waitInWords } from "./sign-in";
import { createUser, seedDemoUsers, DEMO_USERS } from "./users";
import { confirmEnrolment, startEnrolment } from "./second-factor";
import type { Desk } from "./types";

/** A clock the test moves by hand: the throttle's waits are asserted without sleeping. */
function manualClock(start = "2030-03-04T09:00:00.000Z") {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<SignInThrottled> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignInThrottled);
  return error as SignInThrottled;
}

/** One wrong password from this pair, waiting out any throttle first (on the fake clock). */
async function failOnce(db: TestDb, email: string, ip: string, clock: ReturnType<typeof manualClock>): Promise<void> {
  for (;;) {
    const outcome = await signIn(db.prisma, email, "a wrong password", ip, clock).catch((e: unknown) => e);
    if (outcome instanceof SignInThrottled) {
      clock.advance(outcome.retryAfterSeconds);
      continue;
    }
    expect(outcome).toBeNull();
    return;
  }
}

describe("waiting times", () => {
  it("grow from 1 s after the free failures, doubling, capped at 15 minutes", () => {
    const free = SIGN_IN_LIMITS.freeFailures;
    expect([0, 1, free - 1].map(pairDelaySeconds)).toEqual([0, 0, 0]);
    expect([free, free + 1, free + 2, free + 3].map(pairDelaySeconds)).toEqual([1, 2, 4, 8]);
    expect(pairDelaySeconds(free + 20)).toBe(15 * 60);
    expect(pairDelaySeconds(1e9)).toBe(15 * 60);
  });

  it("are told in words, rounded up", () => {
    expect(waitInWords(0.2)).toBe("1 second");
    expect(waitInWords(4)).toBe("4 seconds");
    expect(waitInWords(59.2)).toBe("1 minute");
    expect(waitInWords(61)).toBe("2 minutes");
    expect(waitInWords(900)).toBe("15 minutes");
  });
});

describe.each(testDatabases())("sign-in on %s", (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // Makers: these tests are about passwords and waits; the second factor approvers must give has its own tests below.
    await createUser(db.prisma, { email: "Finance@Example.com", role: "maker", password: "correct horse battery" });
  }, 180_000);
  afterAll(() => db?.dispose());

  it("signs in with the right password, case-insensitive email, and stores an argon2id hash", async () => {
    const user = await signIn(db.prisma, "finance@example.com", "correct horse battery", "10.0.0.1");
    expect(user).toMatchObject({ email: "finance@example.com", role: "maker", secondFactor: "none", sessionId: expect.any(String) });
    const row = await db.prisma.user.findUniqueOrThrow({ where: { email: "finance@example.com" } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await signIn(db.prisma, "finance@example.com", "wrong", "10.0.0.1")).toBeNull();
    expect(await signIn(db.prisma, "nobody@example.com", "wrong", "10.0.0.1")).toBeNull();
    const audit = await db.prisma.auditLog.findFirst({ where: { action: "user.sign_in", entityId: user!.id } });
    expect(audit?.ip).toBe("10.0.0.1");
  });

  it("spaces out one client's guesses at an account with doubling waits, and says how long", async () => {
    await createUser(db.prisma, { email: "target@example.com", role: "maker", password: "the right password" });
    const clock = manualClock();
    const attacker = "203.0.113.7";
    for (let i = 0; i < SIGN_IN_LIMITS.freeFailures; i++) {
      expect(await signIn(db.prisma, "target@example.com", `guess ${i}`, attacker, clock)).toBeNull();
    }
    const first = await refusal(signIn(db.prisma, "target@example.com", "guess x", attacker, clock));
    expect(first.retryAfterSeconds).toBe(1);
    expect(first.message).toMatch(/Too many failed sign-in attempts for this account from your network address\. Wait 1 second and try again/);
    // Even the right password waits its turn from this client: otherwise the wait would not slow guessing.
    await refusal(signIn(db.prisma, "target@example.com", "the right password", attacker, clock));

    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const refused = await refusal(signIn(db.prisma, "target@example.com", "guess y", attacker, clock));
      waits.push(refused.retryAfterSeconds);
      clock.advance(refused.retryAfterSeconds);
      expect(await signIn(db.prisma, "target@example.com", `guess y${i}`, attacker, clock)).toBeNull();
    }
    expect(waits).toEqual([1, 2, 4, 8]);
    const fifth = await refusal(signIn(db.prisma, "target@example.com", "guess z", attacker, clock));
    expect(fifth.message).toMatch(/Wait 16 seconds/);
    clock.advance(10);
    expect((await refusal(signIn(db.prisma, "target@example.com", "guess z", attacker, clock))).message).toMatch(/Wait 6 seconds/);
    // Refused attempts were not recorded: only the guesses that were checked count.
    expect(await db.prisma.signInAttempt.count({ where: { email: "target@example.com", ip: attacker } })).toBe(SIGN_IN_LIMITS.freeFailures + 4);
  });

  it("never refuses the right password from another client because of someone else's failures", async () => {
    await createUser(db.prisma, { email: "owner@example.com", role: "maker", password: "owner's own password" });
    const clock = manualClock();
    for (let i = 0; i < 12; i++) await failOnce(db, "owner@example.com", "198.51.100.9", clock);
    await refusal(signIn(db.prisma, "owner@example.com", "owner's own password", "198.51.100.9", clock));
    expect(await signIn(db.prisma, "owner@example.com", "owner's own password", "192.0.2.44", clock)).toMatchObject({ email: "owner@example.com" });
    // The owner's own typo from their machine costs nothing: their pair has its own count.
    expect(await signIn(db.prisma, "owner@example.com", "typo", "192.0.2.44", clock)).toBeNull();
    expect(await signIn(db.prisma, "owner@example.com", "owner's own password", "192.0.2.44", clock)).not.toBeNull();
  });

  it("caps the wait at 15 minutes, and a success from the pair starts its count again", async () => {
    await createUser(db.prisma, { email: "forgetful@example.com", role: "maker", password: "remembered at last" });
    const clock = manualClock();
    const ip = "192.0.2.80";
    // 2^(n - free) seconds passes 15 minutes at the 13th failure in a row.
    for (let i = 0; i < SIGN_IN_LIMITS.freeFailures + 10; i++) await failOnce(db, "forgetful@example.com", ip, clock);
    const capped = await refusal(signIn(db.prisma, "forgetful@example.com", "remembered at last", ip, clock));
    expect(capped.retryAfterSeconds).toBe(SIGN_IN_LIMITS.maxDelaySeconds);
    expect(capped.message).toMatch(/Wait 15 minutes and try again/);
    await failOnce(db, "forgetful@example.com", ip, clock);
    expect((await refusal(signIn(db.prisma, "forgetful@example.com", "x", ip, clock))).retryAfterSeconds).toBe(SIGN_IN_LIMITS.maxDelaySeconds);

    clock.advance(SIGN_IN_LIMITS.maxDelaySeconds);
    expect(await signIn(db.prisma, "forgetful@example.com", "remembered at last", ip, clock)).not.toBeNull();
    for (let i = 0; i < SIGN_IN_LIMITS.freeFailures; i++) {
      expect(await signIn(db.prisma, "forgetful@example.com", `again ${i}`, ip, clock)).toBeNull();
    }
    expect((await refusal(signIn(db.prisma, "forgetful@example.com", "x", ip, clock))).retryAfterSeconds).toBe(1);
  });

  it("stops one address spraying many accounts, with the wait until its oldest failure leaves the window", async () => {
    const clock = manualClock();
    const sprayer = "10.2.0.1";
    for (let i = 0; i < SIGN_IN_LIMITS.perIpFailures; i++) {
      expect(await signIn(db.prisma, `spray${i}@example.com`, "password", sprayer, clock)).toBeNull();
      clock.advance(1);
    }
    const refused = await refusal(signIn(db.prisma, "finance@example.com", "correct horse battery", sprayer, clock));
    expect(refused.scope).toBe("address");
    expect(refused.message).toMatch(/from your network address \(at most 30 in 15 minutes\)\. Wait 15 minutes and try again/);
    expect(await signIn(db.prisma, "finance@example.com", "correct horse battery", "10.2.0.2", clock)).not.toBeNull();
    clock.advance(refused.retryAfterSeconds);
    expect(await signIn(db.prisma, "finance@example.com", "correct horse battery", sprayer, clock)).not.toBeNull();
  });

  it("lets parallel guesses from one client through no faster than one at a time would", async () => {
    await createUser(db.prisma, { email: "parallel@example.com", role: "viewer", password: "parallel password" });
    const clock = manualClock();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => signIn(db.prisma, "parallel@example.com", `guess ${i}`, "198.18.0.5", clock)),
    );
    const checked = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.filter((o) => o.status === "rejected" && o.reason instanceof SignInThrottled);
    expect(checked).toHaveLength(SIGN_IN_LIMITS.freeFailures);
    expect(refused).toHaveLength(8 - SIGN_IN_LIMITS.freeFailures);
  });

  it("refuses short passwords and duplicate emails with the field named", async () => {
    await expect(createUser(db.prisma, { email: "short@example.com", role: "viewer", password: "short" })).rejects.toMatchObject({
      fields: { password: expect.stringMatching(/at least 12/) },
    });
    await expect(createUser(db.prisma, { email: "not-an-email", role: "viewer" })).rejects.toMatchObject({ fields: { email: expect.any(String) } });
    await expect(createUser(db.prisma, { email: "FINANCE@example.com", role: "viewer" })).rejects.toThrow(/already exists/);
  });

  it("generates a password when none is given", async () => {
    const { password } = await createUser(db.prisma, { email: "generated@example.com", role: "admin" });
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(await signIn(db.prisma, "generated@example.com", password, "10.3.0.1")).not.toBeNull();
  });
});

describe("demo users", () => {
  it("are seeded once, only into an empty desk; the approver and admin sign in with codes from their published keys", async () => {
    const fresh = await createTestDatabase("pglite");
    const credentialsKey = randomBytes(32);
    try {
      expect(await seedDemoUsers(fresh.prisma, credentialsKey)).toBe(true);
      expect(await seedDemoUsers(fresh.prisma, credentialsKey)).toBe(false);
      for (const demo of DEMO_USERS) {
        if (!demo.totpKey) {
          expect(await signIn(fresh.prisma, demo.email, demo.password, "127.0.0.1", { credentialsKey })).toMatchObject({ role: demo.role, secondFactor: "none" });
          continue;
        }
        expect(["approver", "admin"]).toContain(demo.role);
        await expect(signIn(fresh.prisma, demo.email, demo.password, "127.0.0.1", { credentialsKey })).rejects.toBeInstanceOf(SecondFactorNeeded);
        const code = await generate({ secret: demo.totpKey });
        expect(await signIn(fresh.prisma, demo.email, demo.password, "127.0.0.1", { credentialsKey, code })).toMatchObject({ role: demo.role, secondFactor: "totp" });
      }
    } finally {
      await fresh.dispose();
    }
  }, 120_000);
});

describe.each(testDatabases())("the second factor at sign-in on %s", (kind) => {
  let db: TestDb;
  let desk: Desk;
  const T0 = new Date("2031-06-01T08:00:00.000Z");
  const at = (seconds: number) => () => new Date(T0.getTime() + seconds * 1000);
  const codeAt = (secret: string, seconds: number) => generate({ secret, epoch: Math.floor(T0.getTime() / 1000) + seconds });

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    desk = { db: db.prisma, config: readConfig({} as NodeJS.ProcessEnv), credentialsKey: randomBytes(32), jobs: { wake() {} } };
  }, 180_000);
  afterAll(() => db?.dispose());

  /** An enrolled user, through the enrolment service (so its recovery codes are real). */
  async function enrolled(email: string, role: "approver" | "admin" | "maker") {
    const { user } = await createUser(db.prisma, { email, role, password: `${email} password` });
    const actor = { id: user.id, email: user.email, name: user.name, role };
    const started = await startEnrolment(desk, actor, null, "10.9.9.9", at(-600)());
    const secret = started.manualKey.replace(/ /g, "");
    const { recoveryCodes } = await confirmEnrolment(desk, actor, null, { enrolment: started.enrolment, code: await codeAt(secret, -600) }, "10.9.9.9", at(-600)());
    return { user, secret, recoveryCodes, password: `${email} password` };
  }

  const attempts = (email: string, ip: string) => db.prisma.signInAttempt.findMany({ where: { email, ip }, orderBy: { id: "asc" }, select: { success: true } });

  it("asks for the code after a right password without counting that answer, and opens the session with the factor's time", async () => {
    const { user, secret, password } = await enrolled("totp@example.com", "approver");
    const ip = "203.0.113.50";
    await expect(signIn(db.prisma, user.email, password, ip, { now: at(0), credentialsKey: desk.credentialsKey })).rejects.toBeInstanceOf(SecondFactorNeeded);
    // Not a guess: the pair's count is untouched.
    expect(await attempts(user.email, ip)).toEqual([]);
    // A wrong password with a right code says only "wrong email or password".
    expect(await signIn(db.prisma, user.email, "not the password", ip, { now: at(0), credentialsKey: desk.credentialsKey, code: await codeAt(secret, 0) })).toBeNull();

    const signedIn = await signIn(db.prisma, user.email, password, ip, { now: at(0), credentialsKey: desk.credentialsKey, code: await codeAt(secret, 0), userAgent: "test browser" });
    expect(signedIn).toMatchObject({ id: user.id, role: "approver", secondFactor: "totp" });
    expect(await db.prisma.userSession.findUniqueOrThrow({ where: { id: signedIn!.sessionId } })).toMatchObject({ secondFactorAt: at(0)(), ip, userAgent: "test browser" });
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.sign_in", actorId: user.id } })).toMatchObject({ ip, details: { sessionId: signedIn!.sessionId, secondFactor: "totp" } });
    expect(await attempts(user.email, ip)).toEqual([{ success: false }, { success: true }]);

    // The same code again, from anywhere: used.
    const replay = signIn(db.prisma, user.email, password, "198.51.100.50", { now: at(5), credentialsKey: desk.credentialsKey, code: await codeAt(secret, 0) });
    await expect(replay).rejects.toBeInstanceOf(SecondFactorRefused);
    await expect(signIn(db.prisma, user.email, password, "198.51.100.50", { now: at(6), credentialsKey: desk.credentialsKey, code: await codeAt(secret, 0) })).rejects.toThrow(/used already/);
  });

  it("counts wrong codes like wrong passwords: the pair waits, even with the right code", async () => {
    const { user, secret, password } = await enrolled("guessed@example.com", "admin");
    const ip = "203.0.113.51";
    for (let i = 0; i < SIGN_IN_LIMITS.freeFailures; i++) {
      const refused = signIn(db.prisma, user.email, password, ip, { now: at(100), credentialsKey: desk.credentialsKey, code: String(i).padStart(6, "0") === (await codeAt(secret, 100)) ? "999999" : String(i).padStart(6, "0") });
      await expect(refused).rejects.toThrow(/^Code: not right/);
    }
    const throttled = await signIn(db.prisma, user.email, password, ip, { now: at(100), credentialsKey: desk.credentialsKey, code: await codeAt(secret, 100) }).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(SignInThrottled);
    expect((throttled as SignInThrottled).retryAfterSeconds).toBe(1);
    const failed = await db.prisma.auditLog.findMany({ where: { action: "user.sign_in_failed", entityId: user.id } });
    expect(failed.map((e) => [e.actorId, (e.details as { reason: string }).reason])).toEqual(Array(SIGN_IN_LIMITS.freeFailures).fill([null, "wrong second-factor code"]));
    // After the wait, the right code signs in and clears the count.
    expect(await signIn(db.prisma, user.email, password, ip, { now: at(101), credentialsKey: desk.credentialsKey, code: await codeAt(secret, 101) })).toMatchObject({ secondFactor: "totp" });
  });

  it("signs in once with each recovery code", async () => {
    const { user, recoveryCodes, password } = await enrolled("recovering@example.com", "approver");
    const ip = "203.0.113.52";
    expect(await signIn(db.prisma, user.email, password, ip, { now: at(200), credentialsKey: desk.credentialsKey, code: recoveryCodes[0] })).toMatchObject({ secondFactor: "recovery" });
    await expect(signIn(db.prisma, user.email, password, ip, { now: at(260), credentialsKey: desk.credentialsKey, code: recoveryCodes[0] })).rejects.toBeInstanceOf(SecondFactorRefused);
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.sign_in", actorId: user.id } })).toMatchObject({ details: { secondFactor: "recovery", recoveryCodesLeft: 9 } });
  });

  it("gives an approver who has not enrolled one sign-in of grace, and no further", async () => {
    const { user } = await createUser(db.prisma, { email: "late@example.com", role: "approver", password: "late approver password" });
    const ip = "203.0.113.53";
    const first = await signIn(db.prisma, user.email, "late approver password", ip, { now: at(300), credentialsKey: desk.credentialsKey });
    expect(first).toMatchObject({ secondFactor: "grace" });
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totpGraceUsedAt).toEqual(at(300)());
    expect((await db.prisma.userSession.findUniqueOrThrow({ where: { id: first!.sessionId } })).secondFactorAt).toBeNull();
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.sign_in", actorId: user.id } })).toMatchObject({ details: { secondFactor: "grace", requiredBy: "role" } });

    const second = await signIn(db.prisma, user.email, "late approver password", ip, { now: at(400), credentialsKey: desk.credentialsKey }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(EnrolmentOverdue);
    expect((second as Error).message).toMatch(/^Two-factor sign-in is required of approvers, and the one sign-in allowed to set it up has been used/);
    // Said only after the right password: a wrong one is just wrong.
    expect(await signIn(db.prisma, user.email, "a wrong password", ip, { now: at(400), credentialsKey: desk.credentialsKey })).toBeNull();
    // The refusal is not a guess, so it does not add to the pair's count.
    expect(await attempts(user.email, ip)).toEqual([{ success: true }, { success: false }]);
  });

  it("lets only one of two simultaneous sign-ins have the grace", async () => {
    const { user } = await createUser(db.prisma, { email: "twice@example.com", role: "admin", password: "twice admin password" });
    const outcomes = await Promise.allSettled(
      ["203.0.113.54", "203.0.113.55"].map((ip) => signIn(db.prisma, user.email, "twice admin password", ip, { now: at(500), credentialsKey: desk.credentialsKey })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === "rejected" && o.reason instanceof EnrolmentOverdue)).toHaveLength(1);
  });

  it("gives everyone the grace, then asks them to enrol, when the desk requires two-factor of everyone", async () => {
    const { user } = await createUser(db.prisma, { email: "everyone@example.com", role: "viewer", password: "viewer's password" });
    const ip = "203.0.113.56";
    expect(await signIn(db.prisma, user.email, "viewer's password", ip, { now: at(600), credentialsKey: desk.credentialsKey })).toMatchObject({ secondFactor: "none" });
    await db.prisma.setting.create({ data: { key: "security.requireTotpForAll", value: "true" } });
    try {
      expect(await signIn(db.prisma, user.email, "viewer's password", ip, { now: at(610), credentialsKey: desk.credentialsKey })).toMatchObject({ secondFactor: "grace" });
      await expect(signIn(db.prisma, user.email, "viewer's password", ip, { now: at(620), credentialsKey: desk.credentialsKey })).rejects.toThrow(/required of everyone on this desk/);
    } finally {
      await db.prisma.setting.delete({ where: { key: "security.requireTotpForAll" } });
    }
    expect(await signIn(db.prisma, user.email, "viewer's password", ip, { now: at(630), credentialsKey: desk.credentialsKey })).toMatchObject({ secondFactor: "none" });
  });
});
