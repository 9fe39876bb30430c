import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testDatabases, type TestDb } from "@/server/db/testing";
import { pairDelaySeconds, signIn, SignInThrottled, SIGN_IN_LIMITS, waitInWords } from "./sign-in";
import { createUser, seedDemoUsers, DEMO_USERS } from "./users";
import { TooManyAttempts } from "./errors";

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
    await createUser(db.prisma, { email: "Finance@Example.com", role: "approver", password: "correct horse battery" });
  }, 180_000);
  afterAll(() => db?.dispose());

  it("signs in with the right password, case-insensitive email, and stores an argon2id hash", async () => {
    const user = await signIn(db.prisma, "finance@example.com", "correct horse battery", "10.0.0.1");
    expect(user).toMatchObject({ email: "finance@example.com", role: "approver" });
    const row = await db.prisma.user.findUniqueOrThrow({ where: { email: "finance@example.com" } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await signIn(db.prisma, "finance@example.com", "wrong", "10.0.0.1")).toBeNull();
    expect(await signIn(db.prisma, "nobody@example.com", "wrong", "10.0.0.1")).toBeNull();
    const audit = await db.prisma.auditLog.findFirst({ where: { action: "user.sign_in", entityId: user!.id } });
    expect(audit?.ip).toBe("10.0.0.1");
  });

  it("spaces out one client's guesses at an account with doubling waits, and says how long", async () => {
    await createUser(db.prisma, { email: "target@example.com", role: "approver", password: "the right password" });
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
    await createUser(db.prisma, { email: "owner@example.com", role: "approver", password: "owner's own password" });
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
  it("are seeded once, only into an empty desk", async () => {
    const fresh = await createTestDatabase("pglite");
    try {
      expect(await seedDemoUsers(fresh.prisma)).toBe(true);
      expect(await seedDemoUsers(fresh.prisma)).toBe(false);
      for (const demo of DEMO_USERS) expect(await signIn(fresh.prisma, demo.email, demo.password, "127.0.0.1")).toMatchObject({ role: demo.role });
    } finally {
      await fresh.dispose();
    }
  }, 120_000);
});
