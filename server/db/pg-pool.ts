// The PostgreSQL pool the desk (Prisma's adapter and its own raw SQL) runs on.
//
// pg-pool's own `query` destroys the connection whenever a query fails, even
// when the server answered with an ordinary SQL error on a healthy
// connection: a unique violation (a duplicate callback, an id already taken),
// a serialization failure, a statement timeout. Each failure then costs a new
// connection: a server process forked and a SCRAM handshake (thousands of
// PBKDF2 rounds on both sides). Under a provider's callback retries that cost
// fed on itself: slower answers, more retries, more duplicates, more
// reconnects (a bench run fell from 37 to 8 payouts/s, a quarter of its CPU in
// reconnecting). Here a query's connection is kept when the server answered
// with an error that leaves the session as it was, and dropped on anything
// else (a broken socket, the server going away, a protocol error).
import pg from "pg";

/**
 * SQLSTATE classes after which the connection is not trusted again:
 * 08 connection exception, 57 operator intervention (shutdown, crash
 * recovery; 57014 query_canceled is kept, see below), 53 insufficient
 * resources, 58 system error, XX internal error, F0 configuration file error.
 */
const DROP_CLASSES = new Set(["08", "57", "53", "58", "XX", "F0"]);

/** Whether a failed query leaves its connection fit for the next one. */
export function connectionSurvives(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return false; // not an answer from the server: the connection is suspect
  const code = error.code ?? "";
  if (!/^[0-9A-Z]{5}$/.test(code)) return false;
  // A statement timeout cancels the statement, not the session.
  if (code === "57014") return true;
  return !DROP_CLASSES.has(code.slice(0, 2));
}

type QueryArgs = [pg.QueryConfig | string, unknown[]?];

export class DeskPool extends pg.Pool {
  /** Connections dropped because a query failed in a way that leaves them suspect (for tests and health). */
  dropped = 0;

  // Promise-style calls (Prisma's adapter, the desk's SqlExecutor) keep the
  // connection after a plain SQL error; callback-style calls go to pg-pool as they are.
  // (Typed loosely: pg.Pool's query has a dozen overloads, all served here.)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: unknown[]): any {
    if (typeof args[args.length - 1] === "function") return (super.query as (...a: unknown[]) => unknown)(...args);
    return this.queryKeepingConnection(...(args as QueryArgs));
  }

  private async queryKeepingConnection(config: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult> {
    const client = await this.connect();
    let failure: unknown;
    // A connection that breaks mid-query emits "error" besides failing the
    // query; heard here (as pg-pool's own query does), or it would crash the process.
    const onError = (error: Error) => {
      failure ??= error;
    };
    client.on("error", onError);
    try {
      return await (values === undefined ? client.query(config as pg.QueryConfig) : client.query(config as string, values));
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      client.removeListener("error", onError);
      const drop = failure !== undefined && !connectionSurvives(failure);
      if (drop) this.dropped++;
      client.release(drop ? (failure as Error) : undefined);
    }
  }
}
