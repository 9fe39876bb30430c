// "What SQL would bring the migrations up to schema.prisma?" Prisma answers
// this with a shadow database; here the shadow is an in-memory PGlite that the
// app's own migration runner fills, so migrations are checked exactly as they
// will be applied. Never touches the app's data folder or any server.
import { readFileSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { migrate } from "../../server/db/migrate";
import { pgliteExecutor } from "../../server/db/sql-executor";
import { PGLITE_EXTENSIONS } from "../../server/db/pglite-extensions";
import { datamodel, diffSql, isEmptyDiff, openSchemaEngine, type AdapterFactory } from "./schema-engine";

export const DEFAULT_SCHEMA_PATH = path.resolve("prisma", "schema.prisma");
export const DEFAULT_MIGRATIONS_DIR = path.resolve("prisma", "migrations");

export interface SchemaChanges {
  /** Prisma's migration script from the migrated database to schema.prisma. */
  sql: string;
  /** True when the migrations already produce exactly schema.prisma. */
  empty: boolean;
}

export async function schemaChangesSinceMigrations(
  options: { schemaPath?: string; migrationsDir?: string } = {},
): Promise<SchemaChanges> {
  const schemaPath = path.resolve(options.schemaPath ?? DEFAULT_SCHEMA_PATH);
  const schema = readFileSync(schemaPath, "utf8");
  const shadow = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
  try {
    await migrate(pgliteExecutor(shadow), { migrationsDir: options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR });
    // With `schemaDatasource` the engine introspects the database behind the
    // adapter (it ignores _prisma_migrations, as `prisma migrate diff` does).
    const engine = await openSchemaEngine(new PrismaPGlite(shadow) as unknown as AdapterFactory);
    try {
      const sql = await diffSql(
        { tag: "schemaDatasource", files: [{ path: schemaPath, content: schema }], configDir: path.dirname(schemaPath) },
        datamodel(schema, schemaPath),
        engine,
      );
      return { sql, empty: isEmptyDiff(sql) };
    } finally {
      engine.free();
    }
  } finally {
    await shadow.close();
  }
}
