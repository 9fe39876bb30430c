// Prisma CLI configuration. The CLI is only used for `prisma generate` here:
// migrations are created and checked by scripts/db (WebAssembly schema engine)
// and applied at runtime by server/db/migrate.ts.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

// `prisma generate` refuses to run until a schema-engine binary exists and
// otherwise tries to download one (no internet here). Point it at a stand-in
// that explains the offline workflow if some command does try to run it.
const stubEngine = fileURLToPath(new URL("./scripts/db/no-schema-engine.sh", import.meta.url));
if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync(stubEngine)) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = stubEngine;
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // Only CLI commands read this; the app connects through driver adapters.
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
