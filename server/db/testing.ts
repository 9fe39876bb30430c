// Real databases for integration tests: a fresh migrated PGlite clone by
// default (under a second), and, when TEST_DATABASE_URL points at a
// PostgreSQL server, a fresh database on it, so suites run against both:
//
//   describe.each(testDatabases())("payouts on %s", (kind) => {
//     let db: TestDb;
//     beforeEach(async () => { db = await createTestDatabase(kind); });
//     afterEach(() => db.dispose());
//   });
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDb, type Db, type OpenOptions } from "./client";

export type TestDatabaseKind = "pglite" | "postgres";

export interface TestDb extends Db {
  /** Closes the handle and, on PostgreSQL, drops the database. */
  dispose(): Promise<void>;
}

/** The kinds a suite should run on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function testDatabases(): TestDatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

export async function createTestDatabase(kind: TestDatabaseKind = "pglite", options: OpenOptions = {}): Promise<TestDb> {
  if (kind === "pglite") {
    const db = await createDb({ kind: "pglite-memory", ...options });
    return { ...db, dispose: () => db.close() };
  }
  const scratch = await createScratchPostgresDatabase();
  try {
    const db = await createDb({ databaseUrl: scratch.url, max: 4, ...options });
    return {
      ...db,
      dispose: async () => {
        await db.close();
        await scratch.drop();
      },
    };
  } catch (error) {
    await scratch.drop();
    throw error;
  }
}

/** Runs `fn` on a fresh database and disposes of it afterwards, even if `fn` throws. */
export async function withTestDb<T>(fn: (db: TestDb) => Promise<T>, kind: TestDatabaseKind = "pglite"): Promise<T> {
  const db = await createTestDatabase(kind);
  try {
    return await fn(db);
  } finally {
    await db.dispose();
  }
}

export interface ScratchDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops it, disconnecting anyone still connected. */
  drop(): Promise<void>;
}

/** An empty database named test_<random> on the TEST_DATABASE_URL server (which is only used as admin connection). */
export async function createScratchPostgresDatabase(): Promise<ScratchDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    throw new Error("PostgreSQL tests need TEST_DATABASE_URL (e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres).");
  }
  const name = `test_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
