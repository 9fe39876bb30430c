// Applies prisma/migrations at start-up, compatible with `prisma migrate
// deploy`: same _prisma_migrations table, same checksums, same advisory lock,
// so Prisma's own tooling sees the history as in sync. We run it ourselves
// because the native schema engine cannot be installed here, and so the
// embedded PGlite database (which no CLI may open) migrates in-process.
import { randomUUID } from "node:crypto";
import { defaultMigrationsDir, matchesChecksum, readMigrations, type MigrationFile } from "./migration-files";
import type { SqlExecutor, SqlQueryable } from "./sql-executor";

/** The key Prisma's engine locks, so our runner and `prisma migrate deploy` on other replicas serialise. */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export interface MigrateOptions {
  /** Default: prisma/migrations under the working directory, or $PRISMA_MIGRATIONS_DIR. */
  migrationsDir?: string;
  /** Already-read migrations (tests); overrides migrationsDir. */
  migrations?: MigrationFile[];
  log?: (message: string) => void;
}

export interface MigrateResult {
  /** Names applied by this call, in order. */
  applied: string[];
  /** Names that were already applied before this call. */
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(
    /** Prisma's error code for the same situation, where there is one. */
    readonly code: "P3005" | "P3009" | "P3018" | "CHECKSUM_CHANGED",
    message: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  started_at: Date | string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

export async function migrate(sql: SqlExecutor, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = options.migrations ?? readMigrations(options.migrationsDir ?? defaultMigrationsDir());
  const log = options.log ?? (() => {});

  // Advisory locks belong to a session: take, use and release it on one connection.
  return sql.session(async (connection) => {
    await connection.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      await ensureMigrationsTable(connection);
      const rows = await connection.query<MigrationRow>(
        `SELECT migration_name, checksum, started_at, finished_at, rolled_back_at
           FROM _prisma_migrations ORDER BY started_at, migration_name`,
      );
      const live = rows.rows.filter((row) => row.rolled_back_at === null);
      refuseFailedMigrations(live);
      refuseChangedMigrations(live, migrations);

      const done = new Set(live.map((row) => row.migration_name));
      const pending = migrations.filter((m) => !done.has(m.name));
      for (const migration of pending) {
        log(`Applying migration ${migration.name}`);
        await applyOne(connection, migration);
      }
      return {
        applied: pending.map((m) => m.name),
        alreadyApplied: migrations.filter((m) => done.has(m.name)).map((m) => m.name),
      };
    } finally {
      await connection.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
    }
  });
}

async function ensureMigrationsTable(sql: SqlQueryable): Promise<void> {
  const found = await sql.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_name = '_prisma_migrations') AS exists`,
  );
  if (found.rows[0]?.exists) return;

  // Like Prisma's P3005: never lay migrations over tables they did not create.
  const existing = await sql.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()
     UNION ALL
     SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = current_schema() AND t.typtype = 'e'
     LIMIT 5`,
  );
  if (existing.rows.length > 0) {
    const names = existing.rows.map((r) => r.name).join(", ");
    throw new MigrationError(
      "P3005",
      `The database schema is not empty (found ${names}) but has no migration history (_prisma_migrations). ` +
        "Refusing to apply migrations over objects they did not create: use an empty database, " +
        "or baseline it (https://pris.ly/d/migrate-baseline).",
    );
  }
  // Prisma's own DDL for the table, so either tool can take over the history.
  await sql.query(`CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
  )`);
}

function refuseFailedMigrations(live: MigrationRow[]): void {
  const failed = live.filter((row) => row.finished_at === null);
  if (failed.length === 0) return;
  const list = failed.map((row) => `\`${row.migration_name}\` (started at ${new Date(row.started_at).toISOString()})`);
  throw new MigrationError(
    "P3009",
    `Found failed migrations in the target database, new migrations will not be applied: ${list.join(", ")}. ` +
      "Repair the database by hand, then mark the migration rolled back " +
      "(UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '…') or applied " +
      "(prisma migrate resolve). https://pris.ly/d/migrate-resolve",
  );
}

function refuseChangedMigrations(live: MigrationRow[], migrations: MigrationFile[]): void {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const changed = live.filter((row) => {
    const file = byName.get(row.migration_name);
    return file !== undefined && !matchesChecksum(file.sql, row.checksum);
  });
  if (changed.length === 0) return;
  throw new MigrationError(
    "CHECKSUM_CHANGED",
    `Migration ${changed.map((row) => `\`${row.migration_name}\``).join(", ")} was modified after it was applied ` +
      "to this database (checksum differs). Applied migrations are history: restore the file from version " +
      "control and put the change in a new migration (npm run db:migration -- <name>).",
  );
}

async function applyOne(sql: SqlExecutor, migration: MigrationFile): Promise<void> {
  // The migration and its history row commit together or not at all, so a
  // failure leaves nothing half-applied and no failed row blocking the next start.
  try {
    await sql.transaction(async (tx) => {
      const id = randomUUID();
      await tx.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, clock_timestamp(), 0)`,
        [id, migration.checksum, migration.name],
      );
      await tx.exec(migration.sql);
      await tx.query(
        `UPDATE _prisma_migrations SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(
      "P3018",
      `Migration \`${migration.name}\` failed to apply and was rolled back; no later migration was applied. ` +
        `Database error: ${reason}`,
    );
  }
}
