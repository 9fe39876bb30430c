// The one place that opens the database: PostgreSQL when DATABASE_URL is set,
// otherwise the embedded PGlite folder. Opening is lazy (`next build` imports
// this module and must never touch the data folder) and applies pending
// migrations first, so a started desk always has the schema its code expects.
import type { PGlite } from "@electric-sql/pglite";
import type { PGliteLike } from "./pglite-thread";
import type pg from "pg";
import { PrismaClient } from "./generated/client";
import { migrate } from "./migrate";
import { pgExecutor, pgliteExecutor, type SqlExecutor } from "./sql-executor";
import { registerDriver } from "./raw";

export interface Db {
  kind: "pglite" | "postgres";
  prisma: PrismaClient;
  /** Raw SQL on the same database (job queue, hot paths); on PGlite, the same instance as `prisma`. */
  sql: SqlExecutor;
  /** Disconnects Prisma, then closes the pool or the PGlite folder (releasing its lock). */
  close(): Promise<void>;
  /** The embedded database: on its own thread for a data folder (pglite-thread.ts), PGlite itself in memory. */
  pglite?: PGliteLike;
  pool?: pg.Pool;
}

export interface OpenOptions {
  /** Default: prisma/migrations under the working directory, or $PRISMA_MIGRATIONS_DIR. */
  migrationsDir?: string;
  /** Progress lines (migrations applied). */
  log?: (message: string) => void;
}

export type CreateDbOptions = OpenOptions &
  (
    | { kind: "pglite"; /** default $DESK_DATA_DIR/pglite (./data/pglite), or $PGLITE_DATA_DIR */ dataDir?: string }
    | { kind: "pglite-memory" }
    | { kind?: "postgres"; databaseUrl: string; /** pool size, default 10 */ max?: number }
  );

/** A new database handle (not shared): tests, scripts. The app uses getDb(). */
export async function createDb(options: CreateDbOptions): Promise<Db> {
  if ("databaseUrl" in options) return openPostgres(options.databaseUrl, options);
  return options.kind === "pglite-memory" ? openMemoryPglite(options) : openPglite(options.dataDir, options);
}

/**
 * Prisma's defaults (2 s to get a connection, 5 s to finish) fail a busy desk's
 * approvals and callbacks with "Unable to start a transaction in the given
 * time" while the pool is merely busy; waiting a little longer is the better answer.
 */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

const holderKey = Symbol.for("payout-desk.db");
type Holder = { [holderKey]?: Promise<Db> };

/**
 * The process-wide database. Kept on globalThis so Next.js module reloading
 * (dev mode, separate route bundles) never opens the PGlite folder twice.
 */
export function getDb(): Promise<Db> {
  const holder = globalThis as Holder;
  const existing = holder[holderKey];
  if (existing) return existing;
  const forget = () => {
    if (holder[holderKey] === opening) delete holder[holderKey];
  };
  const opening: Promise<Db> = openFromEnvironment().then(
    // Closing the shared handle (by whoever holds it) lets the next getDb() reopen.
    (db) => ({
      ...db,
      close: () => {
        forget();
        return db.close();
      },
    }),
    (error: unknown) => {
      forget(); // let a later call retry, e.g. once the folder's other user stopped
      throw error;
    },
  );
  holder[holderKey] = opening;
  return opening;
}

/** Closes the process-wide database, if it was opened. */
export async function closeDb(): Promise<void> {
  const opening = (globalThis as Holder)[holderKey];
  const db = await opening?.catch(() => undefined); // a failed open has nothing to close
  await db?.close();
}

function openFromEnvironment(): Promise<Db> {
  const log = (message: string) => console.log(`[db] ${message}`);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  return databaseUrl ? createDb({ databaseUrl, log }) : createDb({ kind: "pglite", log });
}

async function openPostgres(databaseUrl: string, options: OpenOptions & { max?: number }): Promise<Db> {
  // Drivers load on demand: a PostgreSQL deployment never loads PGlite's wasm, and vice versa.
  const [{ DeskPool }, { PrismaPg }] = await Promise.all([import("./pg-pool"), import("@prisma/adapter-pg")]);
  // A failed query keeps its connection when the server answered (pg-pool would reconnect): see pg-pool.ts.
  const pool = new DeskPool({ connectionString: databaseUrl, max: options.max ?? 10 });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on("error", (error) => console.error("[db] idle PostgreSQL connection failed:", error.message));
  try {
    const sql = pgExecutor(pool);
    await migrate(sql, { migrationsDir: options.migrationsDir, log: options.log });
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool), transactionOptions: TRANSACTION_OPTIONS });
    registerDriver(prisma, sql);
    return {
      kind: "postgres",
      prisma,
      sql,
      pool,
      close: async () => {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

async function openPglite(dataDir: string | undefined, options: OpenOptions): Promise<Db> {
  const { openPersistentPglite } = await import("./pglite");
  const opened = await openPersistentPglite(dataDir);
  return wrapPglite(opened.pglite, opened.close, options);
}

async function openMemoryPglite(options: OpenOptions): Promise<Db> {
  const { cloneMemoryPglite } = await import("./pglite");
  const pglite = await cloneMemoryPglite({ migrationsDir: options.migrationsDir });
  return wrapPglite(pglite, () => pglite.close(), options);
}

async function wrapPglite(pglite: PGliteLike, closePglite: () => Promise<void>, options: OpenOptions): Promise<Db> {
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const sql = pgliteExecutor(pglite);
  try {
    await migrate(sql, { migrationsDir: options.migrationsDir, log: options.log });
  } catch (error) {
    await closePglite();
    throw error;
  }
  // The adapter uses only query, exec and transaction, which the thread's stand-in answers as PGlite does.
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite as PGlite), transactionOptions: TRANSACTION_OPTIONS });
  registerDriver(prisma, sql);
  return {
    kind: "pglite",
    prisma,
    sql,
    pglite,
    close: async () => {
      await prisma.$disconnect();
      await closePglite();
    },
  };
}
