import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeDb, createDb, getDb } from "./client";
import { PayoutStatus, Role } from "./index";
import { createTestDatabase, testDatabases, type TestDb } from "./testing";

// Beyond 2^53: a Number would silently round it.
const HUGE = 9_007_199_254_740_993n;

describe.each(testDatabases())("Prisma on %s", (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(() => db?.dispose());

  it("reports its kind and exposes the driver", () => {
    expect(db.kind).toBe(kind);
    if (kind === "pglite") expect(db.pglite).toBeDefined();
    else expect(db.pool).toBeDefined();
  });

  it("creates, reads, updates and deletes through relations, with BigInt as bigint", async () => {
    const user = await db.prisma.user.create({
      data: { email: `maker-${randomUUID()}@example.test`, name: "Maker", role: Role.maker, passwordHash: "x" },
    });
    const connection = await db.prisma.connection.create({
      data: { provider: "pawapay", name: `pawapay-${randomUUID()}`, environment: "sandbox", baseUrl: "http://x", credentials: "enc" },
    });
    const payout = await db.prisma.payout.create({
      data: {
        id: randomUUID(),
        connectionId: connection.id,
        createdById: user.id,
        amountMinor: HUGE,
        currency: "UGX",
        recipientPhone: "256700000000",
        description: "test",
        status: PayoutStatus.pending_approval,
        events: { create: { toStatus: PayoutStatus.pending_approval, source: "user", payload: { big: "1" } } },
      },
      include: { events: true },
    });
    expect(payout.amountMinor).toBe(HUGE);
    expect(typeof payout.events[0]!.id).toBe("bigint");

    const read = await db.prisma.payout.findUniqueOrThrow({ where: { id: payout.id }, include: { createdBy: true } });
    expect(read.amountMinor).toBe(HUGE);
    expect(typeof read.amountMinor).toBe("bigint");
    expect(read.createdBy.email).toBe(user.email);

    const updated = await db.prisma.payout.update({
      where: { id: payout.id },
      data: { amountMinor: { increment: 7n }, version: { increment: 1 } },
    });
    expect(updated.amountMinor).toBe(HUGE + 7n);
    expect(updated.version).toBe(1);

    const raw = await db.prisma.$queryRaw<{ amount: bigint }[]>`SELECT "amountMinor" AS amount FROM "Payout" WHERE id = ${payout.id}::uuid`;
    expect(raw[0]?.amount).toBe(HUGE + 7n);

    await db.prisma.payoutEvent.deleteMany({ where: { payoutId: payout.id } });
    await db.prisma.payout.delete({ where: { id: payout.id } });
    expect(await db.prisma.payout.count({ where: { id: payout.id } })).toBe(0);
  });

  it("runs interactive transactions and sees them from raw SQL on the same database", async () => {
    const key = `k-${randomUUID()}`;
    await db.prisma.$transaction(async (tx) => {
      await tx.setting.create({ data: { key, value: "one" } });
      await tx.setting.update({ where: { key }, data: { value: "two" } });
    });
    const rows = await db.sql.query<{ value: string }>(`SELECT value FROM "Setting" WHERE key = $1`, [key]);
    expect(rows.rows).toEqual([{ value: "two" }]);

    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.setting.update({ where: { key }, data: { value: "three" } });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect((await db.prisma.setting.findUniqueOrThrow({ where: { key } })).value).toBe("two");
  });

  it("runs multi-statement scripts through sql.exec (as the job queue does)", async () => {
    const results = await db.sql.exec(`CREATE TEMP TABLE t (v int); INSERT INTO t VALUES (1), (2); SELECT sum(v)::int AS s FROM t;`);
    expect(results.at(-1)?.rows).toEqual([{ s: 3 }]);
  });
});

describe("the process-wide database (getDb)", () => {
  const saved = { DATABASE_URL: process.env.DATABASE_URL, PGLITE_DATA_DIR: process.env.PGLITE_DATA_DIR };
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "desk-getdb-"));
    delete process.env.DATABASE_URL;
    process.env.PGLITE_DATA_DIR = path.join(root, "pglite");
  });
  afterEach(() => closeDb());
  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it("opens the embedded folder once, migrated, and shares it until closed", async () => {
    const first = getDb();
    expect(getDb()).toBe(first);
    const db = await first;
    expect(db.kind).toBe("pglite");
    expect(existsSync(path.join(root, "pglite.lock"))).toBe(true);
    expect(await db.prisma.user.count()).toBe(0);

    await closeDb();
    expect(existsSync(path.join(root, "pglite.lock"))).toBe(false);
    const reopened = await getDb();
    expect(reopened).not.toBe(db);
    expect(await reopened.prisma.user.count()).toBe(0);
  });
});

describe("createDb on a data folder", () => {
  it("migrates on open and keeps Prisma data across reopening", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "desk-createdb-"));
    try {
      const dataDir = path.join(root, "pglite");
      const first = await createDb({ kind: "pglite", dataDir });
      await first.prisma.setting.create({ data: { key: "kept", value: "yes" } });
      await first.close();

      const second = await createDb({ kind: "pglite", dataDir });
      try {
        expect((await second.prisma.setting.findUniqueOrThrow({ where: { key: "kept" } })).value).toBe("yes");
      } finally {
        await second.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
