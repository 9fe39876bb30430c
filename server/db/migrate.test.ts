import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { PGLITE_EXTENSIONS } from "./pglite-extensions";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { migrate, MigrationError } from "./migrate";
import { readMigrations } from "./migration-files";
import { pgExecutor, pgliteExecutor, type SqlExecutor } from "./sql-executor";
import { createScratchPostgresDatabase, testDatabases, type ScratchDatabase } from "./testing";

const REAL_MIGRATIONS = path.resolve("prisma", "migrations");

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A throwaway migrations folder: { "<name>": "<sql>" }. */
function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "desk-migrations-"));
  made.push(dir);
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

const FIRST = { "20250101000000_first": 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);\n' };
const SECOND = { ...FIRST, "20250102000000_second": 'ALTER TABLE "A" ADD COLUMN "b" TEXT;\n' };

describe.each(testDatabases())("migration runner on %s", (kind) => {
  let sql: SqlExecutor;
  let close: () => Promise<void>;

  beforeAll(async () => {
    if (kind === "pglite") {
      const db = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
      sql = pgliteExecutor(db);
      close = () => db.close();
    } else {
      const scratch: ScratchDatabase = await createScratchPostgresDatabase();
      const pool = new pg.Pool({ connectionString: scratch.url, max: 4 });
      sql = pgExecutor(pool);
      close = async () => {
        await pool.end();
        await scratch.drop();
      };
    }
  });
  afterAll(() => close?.());

  beforeEach(async () => {
    await sql.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  });

  it("applies the real migrations once, then finds nothing to do", async () => {
    const first = await migrate(sql, { migrationsDir: REAL_MIGRATIONS });
    expect(first.applied).toEqual(readMigrations(REAL_MIGRATIONS).map((m) => m.name));
    expect(first.applied.length).toBeGreaterThan(0);
    const again = await migrate(sql, { migrationsDir: REAL_MIGRATIONS });
    expect(again).toEqual({ applied: [], alreadyApplied: first.applied });
    const tables = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'Payout'`,
    );
    expect(tables.rows[0]?.n).toBe(1);
  });

  it("writes _prisma_migrations exactly as Prisma does, checksum = sha256 of migration.sql", async () => {
    await migrate(sql, { migrationsDir: REAL_MIGRATIONS });
    const columns = await sql.query<{ column_name: string; data_type: string; is_nullable: string; len: number | null }>(
      `SELECT column_name, data_type, is_nullable, character_maximum_length AS len
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.rows.map((c) => [c.column_name, c.data_type, c.is_nullable, c.len])).toEqual([
      ["id", "character varying", "NO", 36],
      ["checksum", "character varying", "NO", 64],
      ["finished_at", "timestamp with time zone", "YES", null],
      ["migration_name", "character varying", "NO", 255],
      ["logs", "text", "YES", null],
      ["rolled_back_at", "timestamp with time zone", "YES", null],
      ["started_at", "timestamp with time zone", "NO", null],
      ["applied_steps_count", "integer", "NO", null],
    ]);

    const rows = await sql.query<Record<string, unknown>>(`SELECT * FROM _prisma_migrations ORDER BY migration_name`);
    const files = readMigrations(REAL_MIGRATIONS);
    expect(rows.rows).toHaveLength(files.length);
    for (const [i, row] of rows.rows.entries()) {
      const name = files[i]!.name;
      const bytes = readFileSync(path.join(REAL_MIGRATIONS, name, "migration.sql"));
      expect(row.migration_name).toBe(name);
      expect(row.checksum).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(new Date(row.finished_at as string).getTime()).toBeGreaterThanOrEqual(new Date(row.started_at as string).getTime());
    }
  });

  it("applies only the new migration when one is added", async () => {
    await migrate(sql, { migrationsDir: migrationsDir(FIRST) });
    const result = await migrate(sql, { migrationsDir: migrationsDir(SECOND) });
    expect(result).toEqual({ applied: ["20250102000000_second"], alreadyApplied: ["20250101000000_first"] });
  });

  it("refuses when an applied migration's file changed", async () => {
    await migrate(sql, { migrationsDir: migrationsDir(FIRST) });
    const edited = migrationsDir({ "20250101000000_first": 'CREATE TABLE "A" ("id" BIGINT PRIMARY KEY);\n' });
    const error = await migrate(sql, { migrationsDir: edited }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).code).toBe("CHECKSUM_CHANGED");
    expect((error as Error).message).toContain("`20250101000000_first` was modified after it was applied");
  });

  it("accepts a file whose only change is CRLF line endings", async () => {
    await migrate(sql, { migrationsDir: migrationsDir(FIRST) });
    const crlf = migrationsDir({ "20250101000000_first": FIRST["20250101000000_first"].replace(/\n/g, "\r\n") });
    await expect(migrate(sql, { migrationsDir: crlf })).resolves.toMatchObject({ applied: [] });
  });

  it("is blocked by an unfinished (failed) migration row, like Prisma's P3009", async () => {
    await migrate(sql, { migrationsDir: migrationsDir(FIRST) });
    await sql.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
      ["00000000-0000-4000-8000-000000000001", "0".repeat(64), "20250102000000_second"],
    );
    const error = await migrate(sql, { migrationsDir: migrationsDir(SECOND) }).catch((e: unknown) => e);
    expect((error as MigrationError).code).toBe("P3009");
    expect((error as Error).message).toContain("`20250102000000_second`");

    // Marked rolled back (as `prisma migrate resolve --rolled-back` does), it is retried.
    await sql.query(`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE finished_at IS NULL`);
    await expect(migrate(sql, { migrationsDir: migrationsDir(SECOND) })).resolves.toMatchObject({
      applied: ["20250102000000_second"],
    });
  });

  it("refuses a non-empty database without migration history, like Prisma's P3005", async () => {
    await sql.query(`CREATE TABLE "Legacy" (id int)`);
    const error = await migrate(sql, { migrationsDir: migrationsDir(FIRST) }).catch((e: unknown) => e);
    expect((error as MigrationError).code).toBe("P3005");
    expect((error as Error).message).toContain("Legacy");
  });

  it("rolls back a failing migration completely and records nothing", async () => {
    const broken = migrationsDir({
      ...FIRST,
      "20250102000000_broken": 'CREATE TABLE "B" ("id" INTEGER);\nSELECT no_such_function();\n',
    });
    const error = await migrate(sql, { migrationsDir: broken }).catch((e: unknown) => e);
    expect((error as MigrationError).code).toBe("P3018");
    expect((error as Error).message).toContain("20250102000000_broken");
    const names = await sql.query<{ migration_name: string }>(`SELECT migration_name FROM _prisma_migrations`);
    expect(names.rows.map((r) => r.migration_name)).toEqual(["20250101000000_first"]);
    const b = await sql.query<{ t: string | null }>(`SELECT to_regclass('"B"')::text AS t`);
    expect(b.rows[0]?.t).toBeNull();
  });

  it("serialises concurrent runners with the advisory lock: each migration applied once", async () => {
    const dir = migrationsDir(SECOND);
    const results = await Promise.all([migrate(sql, { migrationsDir: dir }), migrate(sql, { migrationsDir: dir })]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(["20250101000000_first", "20250102000000_second"]);
    const count = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM _prisma_migrations`);
    expect(count.rows[0]?.n).toBe(2);
  });
});
