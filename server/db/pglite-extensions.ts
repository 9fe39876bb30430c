// The PostgreSQL extensions the migrations create, as PGlite bundles them:
// every PGlite the desk opens (data folder, test clones, the shadow database
// of db:check) must load them, or CREATE EXTENSION fails there.
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";

/** pg_trgm: the payouts list's search by recipient name and description (trigram GIN indexes). */
export const PGLITE_EXTENSIONS = { pg_trgm };
