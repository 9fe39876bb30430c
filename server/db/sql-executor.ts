// Raw SQL over either database the desk runs on. The migration runner and the
// job runner need plain SQL, and on the embedded default it must go
// through the SAME PGlite instance Prisma uses: PGlite serialises queries and
// makes outsiders wait while a transaction is open, so sharing is safe, while
// a second instance on the same folder would silently lose writes.
import type { Transaction as PGliteTransaction } from "@electric-sql/pglite";
import type { PGliteLike, ThreadPGlite } from "./pglite-thread";
import type pg from "pg";

export type Row = Record<string, unknown>;

export interface SqlResult<R = Row> {
  rows: R[];
}

export interface QueryOptions {
  /**
   * Prepare the statement under this name on each connection, and run it
   * prepared from then on (no parse, and no plan per call once its generic
   * plan is chosen). On PGlite, the embedded folder's thread does the same
   * (pglite-thread.ts); an in-memory PGlite ignores it. One name, one text,
   * for the life of the process.
   */
  name?: string;
}

export interface SqlQueryable {
  /** One statement, with $1… parameters. */
  query<R = Row>(text: string, values?: unknown[], options?: QueryOptions): Promise<SqlResult<R>>;
  /** Several statements, no parameters; one result per statement. */
  exec(script: string): Promise<SqlResult[]>;
}

export interface SqlExecutor extends SqlQueryable {
  readonly kind: "pglite" | "postgres";
  /** Runs `fn` on one connection, so session state (advisory locks, SET) holds across its calls. */
  session<T>(fn: (connection: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs `fn` between BEGIN and COMMIT on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

export function pgliteExecutor(db: PGliteLike): SqlExecutor {
  return pgliteOn(db, false);
}

function pgliteOn(db: PGliteLike, inSession: boolean): SqlExecutor {
  const executor: SqlExecutor = {
    kind: "pglite",
    ...pgliteQueryable(db),
    // PGlite has exactly one connection, so a session is simply exclusive use of it.
    session: inSession ? (fn) => fn(executor) : (fn) => exclusively(db, () => fn(pgliteOn(db, true))),
    transaction: (fn) => db.transaction((tx) => fn(pgliteQueryable(tx))),
  };
  return executor;
}

function pgliteQueryable(db: PGliteLike | PGliteTransaction): SqlQueryable {
  return {
    query: async <R>(text: string, values?: unknown[], options?: QueryOptions) => {
      const result =
        options?.name && preparesNamed(db)
          ? await db.queryNamed<R>(options.name, text, values)
          : await db.query<R>(text, values as unknown[] | undefined);
      return { rows: result.rows };
    },
    exec: async (script) => (await db.exec(script)).map((result) => ({ rows: result.rows as Row[] })),
  };
}

/** The embedded folder's thread prepares named statements (by its shape: this module loads no PGlite code of its own). */
function preparesNamed(db: PGliteLike | PGliteTransaction): db is ThreadPGlite {
  return typeof (db as Partial<ThreadPGlite>).queryNamed === "function";
}

type PgTarget = pg.Pool | pg.Client | pg.PoolClient;

function isPool(target: PgTarget): target is pg.Pool {
  // Only a Pool counts its idle clients; Client and PoolClient do not.
  return typeof (target as pg.Pool).idleCount === "number";
}

export function pgExecutor(target: PgTarget): SqlExecutor {
  return pgOn(target, false);
}

function pgOn(target: PgTarget, inSession: boolean): SqlExecutor {
  const executor: SqlExecutor = {
    kind: "postgres",
    query: async <R>(text: string, values?: unknown[], options?: QueryOptions) => {
      const result = options?.name
        ? await target.query({ name: options.name, text, values: values as unknown[] | undefined })
        : await target.query(text, values as unknown[] | undefined);
      return { rows: result.rows as R[] };
    },
    exec: async (script) => {
      // Without parameters pg uses the simple protocol, which accepts several
      // statements and answers with one result per statement (or a lone result).
      const result = (await target.query(script)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(result) ? result : [result]).map((r) => ({ rows: r.rows as Row[] }));
    },
    session: async (fn) => {
      if (inSession) return fn(executor);
      if (!isPool(target)) return exclusively(target, () => fn(pgOn(target, true)));
      const client = await target.connect();
      try {
        return await fn(pgOn(client, true));
      } finally {
        client.release();
      }
    },
    transaction: (fn) =>
      executor.session(async (connection) => {
        await connection.query("BEGIN");
        try {
          const result = await fn(connection);
          await connection.query("COMMIT");
          return result;
        } catch (error) {
          await connection.query("ROLLBACK").catch(() => {});
          throw error;
        }
      }),
  };
  return executor;
}

// Sessions on a single connection take turns: session state such as an
// advisory lock is re-entrant within one connection, so two overlapping
// sessions on it would not exclude each other.
const queues = new WeakMap<object, Promise<unknown>>();

function exclusively<T>(connection: object, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(connection) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  queues.set(
    connection,
    run.catch(() => {}),
  );
  return run;
}
