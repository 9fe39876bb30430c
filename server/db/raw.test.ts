// rawRows: the desk's own client reads through its driver (on PostgreSQL as
// a named prepared statement), a transaction client through $queryRaw on the
// transaction's own connection; both answer the same rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "./generated/client";
import { createScratchPostgresDatabase, createTestDatabase, testDatabases, type ScratchDatabase, type TestDb } from "./testing";
import { createDb, type Db } from "./client";
import { rawRows } from "./raw";

const OPEN_MS = 120_000;

describe.each(testDatabases())("rawRows on %s", (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  }, OPEN_MS);
  afterAll(async () => db?.dispose());

  it("answers what $queryRaw answers, for the client and inside a transaction", async () => {
    const statement = (id: string) => Prisma.sql`SELECT ${id}::uuid::text AS id, ${new Date("2026-12-02T08:00:00Z")}::timestamptz AS at, ${7}::int AS n`;
    const id = "6f1c2a9e-0b7d-4c55-9a51-0d3f3c1e2b4a";
    const expected = [{ id, at: new Date("2026-12-02T08:00:00Z"), n: 7 }];
    expect(await rawRows(db.prisma, statement(id))).toEqual(expected);
    expect(await db.prisma.$queryRaw(statement(id))).toEqual(expected);
    // Twice more: on PostgreSQL the second and later calls run the prepared statement.
    expect(await rawRows(db.prisma, statement(id))).toEqual(expected);
    await db.prisma.$transaction(async (tx) => {
      expect(await rawRows(tx, statement(id))).toEqual(expected);
    });
  });

  it("inside a transaction runs on the transaction's connection (it sees the transaction's own writes)", async () => {
    const seen = await db.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`CREATE TEMP TABLE raw_probe (n int) ON COMMIT DROP`;
      await tx.$executeRaw`INSERT INTO raw_probe VALUES (41)`;
      return rawRows<{ n: number }>(tx, Prisma.sql`SELECT n + ${1}::int AS n FROM raw_probe`);
    });
    expect(seen).toEqual([{ n: 42 }]);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)("rawRows on PostgreSQL", () => {
  let scratch: ScratchDatabase;
  let db: Db;
  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    // One connection, so the session the statements were prepared on is the one asked.
    db = await createDb({ databaseUrl: scratch.url, max: 1 });
  }, OPEN_MS);
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it("prepares each statement once per connection, under a name of its text", async () => {
    const statement = Prisma.sql`SELECT count(*)::int AS n FROM "Payout" WHERE "connectionId" = ${"00000000-0000-4000-8000-000000000000"}::uuid`;
    for (let i = 0; i < 3; i++) expect(await rawRows(db.prisma, statement)).toEqual([{ n: 0 }]);
    const prepared = await db.sql.query<{ name: string; statement: string }>(`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'desk_%'`);
    expect(prepared.rows).toEqual([{ name: expect.stringMatching(/^desk_[0-9a-f]{20}$/), statement: statement.text }]);
  });
});
