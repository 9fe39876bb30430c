// The migrations folder in Prisma's layout: prisma/migrations/<name>/migration.sql,
// applied in name order (names start with a UTC timestamp).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 hex of migration.sql's bytes: what Prisma stores in _prisma_migrations.checksum. */
  checksum: string;
}

/** prisma/migrations under the working directory (Next.js and the scripts run from the project root). */
export function defaultMigrationsDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.env.PRISMA_MIGRATIONS_DIR ?? path.join(process.cwd(), "prisma", "migrations"));
}

export function sha256(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/**
 * Whether `sql` is the script that was checksummed. Like Prisma, a file whose
 * only change is CRLF vs LF line endings (a Windows checkout) still matches.
 */
export function matchesChecksum(sql: string, checksum: string): boolean {
  const lf = sql.replace(/\r\n/g, "\n");
  return [sql, lf, lf.replace(/\n/g, "\r\n")].some((variant) => sha256(variant) === checksum);
}

export function readMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  if (!existsSync(/*turbopackIgnore: true*/ dir)) return [];
  return readdirSync(/*turbopackIgnore: true*/ dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = path.join(dir, name, "migration.sql");
      if (!existsSync(file)) {
        throw new Error(`Migration folder ${path.join(dir, name)} has no migration.sql; remove the folder or add the file.`);
      }
      const bytes = readFileSync(file);
      return { name, sql: bytes.toString("utf8"), checksum: sha256(bytes) };
    });
}

/** One fingerprint of the whole migration history, e.g. to key a cached migrated database. */
export function migrationsFingerprint(migrations: MigrationFile[]): string {
  return sha256(migrations.map((m) => `${m.name}:${m.checksum}`).join("\n"));
}
