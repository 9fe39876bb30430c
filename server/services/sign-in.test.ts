import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDb } from "@/server/db/testing";
import { signIn, SIGN_IN_LIMITS } from "./sign-in";
import { createUser, seedDemoUsers, DEMO_USERS } from "./users";
import { TooManyAttempts } from "./errors";

describe("sign-in", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDatabase("pglite");
    await createUser(db.prisma, { email: "Finance@Example.com", role: "approver", password: "correct horse battery" });
  });
  afterAll(() => db?.dispose());

  it("signs in with the right password, case-insensitive email, and stores an argon2id hash", async () => {
    const user = await signIn(db.prisma, "finance@example.com", "correct horse battery", "10.0.0.1");
    expect(user).toMatchObject({ email: "finance@example.com", role: "approver" });
    const row = await db.prisma.user.findUniqueOrThrow({ where: { email: "finance@example.com" } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await signIn(db.prisma, "finance@example.com", "wrong", "10.0.0.1")).toBeNull();
    expect(await signIn(db.prisma, "nobody@example.com", "wrong", "10.0.0.1")).toBeNull();
  });

  it("locks an account after repeated failures, even with the right password and from another IP", async () => {
    await createUser(db.prisma, { email: "target@example.com", role: "maker", password: "the right password" });
    for (let i = 0; i < SIGN_IN_LIMITS.perAccount; i++) {
      expect(await signIn(db.prisma, "target@example.com", `guess ${i}`, `10.1.0.${i}`)).toBeNull();
    }
    await expect(signIn(db.prisma, "target@example.com", "the right password", "10.9.9.9")).rejects.toBeInstanceOf(TooManyAttempts);
  });

  it("limits one IP address trying many accounts", async () => {
    for (let i = 0; i < SIGN_IN_LIMITS.perIp; i++) {
      await signIn(db.prisma, `spray${i}@example.com`, "password", "10.2.0.1");
    }
    await expect(signIn(db.prisma, "finance@example.com", "correct horse battery", "10.2.0.1")).rejects.toThrow(/Too many failed sign-in attempts/);
    expect(await signIn(db.prisma, "finance@example.com", "correct horse battery", "10.2.0.2")).not.toBeNull();
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

  it("seeds demo users once, only into an empty desk", async () => {
    const fresh = await createTestDatabase("pglite");
    try {
      expect(await seedDemoUsers(fresh.prisma)).toBe(true);
      expect(await seedDemoUsers(fresh.prisma)).toBe(false);
      for (const demo of DEMO_USERS) expect(await signIn(fresh.prisma, demo.email, demo.password, "127.0.0.1")).toMatchObject({ role: demo.role });
    } finally {
      await fresh.dispose();
    }
  });
});
