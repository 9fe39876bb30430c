// npm run db:check — CI guard: applying every migration must yield exactly
// prisma/schema.prisma. Fails when someone edits the schema without creating
// a migration, or edits a migration by hand into something else.
import { schemaChangesSinceMigrations } from "./schema-changes";

async function main(): Promise<number> {
  const changes = await schemaChangesSinceMigrations();
  if (changes.empty) {
    console.log("Migrations are in sync with prisma/schema.prisma.");
    return 0;
  }
  console.error(
    [
      "Drift: applying prisma/migrations does not produce prisma/schema.prisma.",
      "This SQL is missing from the migrations:",
      "",
      changes.sql.trim(),
      "",
      "Fix: npm run db:migration -- <name>   (then review and commit the new migration)",
    ].join("\n"),
  );
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`db:check failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
