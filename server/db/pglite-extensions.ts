// The PostgreSQL extensions the migrations create, as PGlite bundles them:
// every PGlite the desk opens (data folder, test clones, the shadow database
// of db:check) must load them, or CREATE EXTENSION fails there.
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";

/** pg_trgm: the payouts list's search by recipient name and description (trigram GIN indexes). */
export const PGLITE_EXTENSIONS = { pg_trgm };

/**
 * The same extensions by module, for the embedded folder's thread
 * (pglite-thread.ts), which loads them itself: keep the two lists alike.
 */
export const PGLITE_EXTENSION_MODULES: Record<keyof typeof PGLITE_EXTENSIONS, string> = { pg_trgm: "@electric-sql/pglite/contrib/pg_trgm" };
