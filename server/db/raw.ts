// Raw SQL of the hot paths (sending, callbacks, the work queue) through the
// driver underneath Prisma, when the caller holds the desk's own client.
//
// Prisma's $queryRaw costs about 0.25 ms of CPU per statement in our process
// whatever the statement, and sends each one unnamed, so PostgreSQL parses and
// plans it on every call (about 1 ms for a status change's statement). A
// payout's way from approval to final runs some fifteen statements, so on a
// 2-core machine both were a large part of what bounded payouts per second.
// Here the same SQL (the same Prisma.Sql) runs on the same pool or PGlite
// instance, as a named prepared statement on PostgreSQL.
//
// Only a client registered with its driver (createDb does it) takes this
// path. A transaction client is never registered: its statements must run on
// the transaction's connection, so they go through $queryRaw as before.
import { createHash } from "node:crypto";
import type { Prisma } from "./generated/client";
import type { SqlQueryable } from "./sql-executor";

interface RawCapable {
  $queryRaw<T = unknown>(query: Prisma.Sql): Prisma.PrismaPromise<T>;
}

const drivers = new WeakMap<object, SqlQueryable>();
const names = new Map<string, string>();
/** Distinct statement texts given names; past this, statements run unnamed (a text built from data would otherwise grow every connection's cache). */
const MAX_NAMED = 500;

/** Lets `rawRows` run `client`'s statements on `driver` (the pool or PGlite instance the client's adapter uses). */
export function registerDriver(client: object, driver: SqlQueryable): void {
  drivers.set(client, driver);
}

/**
 * The rows of `statement`, read through the driver when `db` is a registered
 * client, else through `db.$queryRaw` (a transaction, or a client opened
 * elsewhere). Results come as the driver gives them: text, int4 as number,
 * timestamps as Date; cast int8 and numeric to int or text in the SQL.
 * `prepared: false` runs it unnamed (planned for its values every call), for
 * statements whose shape varies with a person's filters.
 */
export async function rawRows<T>(db: RawCapable, statement: Prisma.Sql, opts: { prepared?: boolean } = {}): Promise<T[]> {
  const driver = drivers.get(db);
  if (!driver) return db.$queryRaw<T[]>(statement);
  const name = opts.prepared === false ? undefined : statementName(statement.text);
  return (await driver.query<T>(statement.text, statement.values, name ? { name } : undefined)).rows;
}

function statementName(text: string): string | undefined {
  const known = names.get(text);
  if (known) return known;
  if (names.size >= MAX_NAMED) return undefined;
  const name = `desk_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
  names.set(text, name);
  return name;
}
