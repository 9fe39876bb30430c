// What the rest of the app imports from the database layer: the handle
// (getDb), and the generated client's types, enums and Prisma namespace. The
// generated code lives in ./generated (git-ignored; `npx prisma generate`).
// Browser code must not import this; use ./generated/browser for enums there.
export { getDb, closeDb, createDb, type Db, type CreateDbOptions, type OpenOptions } from "./client";
export type { SqlExecutor, SqlQueryable, SqlResult } from "./sql-executor";
export * from "./generated/client";
