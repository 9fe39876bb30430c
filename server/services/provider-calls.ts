// The provider-call log (ProviderCall): every HTTP call a connector makes, for
// the payout timeline. One statement shape writes them, on its own
// (recordCalls) or inside a payout's status change (payout-status.ts `also`),
// where a send's call is written with the status its answer led to.
import { Prisma } from "@/server/db/generated/client";
import { rawRows } from "@/server/db/raw";
import type { ProviderCallRecord } from "@/server/connectors/types";
import type { Db, Tx } from "./types";

/** Calls made for one payout (or none) on one connection. */
export interface ProviderCalls {
  connectionId: string;
  payoutId?: string;
  records: readonly ProviderCallRecord[];
}

/**
 * An INSERT of the calls as one statement (a data-modifying CTE can hold it):
 * the records travel as one JSON array, read back with jsonb_to_recordset.
 * `when`: a condition the insert is made under (inside a status change: that
 * the change was made).
 */
export function insertCallsSql(calls: ProviderCalls, when: Prisma.Sql = Prisma.sql`TRUE`): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "ProviderCall" ("connectionId", "payoutId", operation, method, url, request, "httpStatus", response, error, "latencyMs")
    SELECT ${calls.connectionId}::uuid, x."payoutId", x.operation, x.method, x.url, x.request, x."httpStatus", x.response, x.error, x."latencyMs"
    FROM jsonb_to_recordset(${callsJson(calls)}::jsonb)
      AS x("payoutId" uuid, operation text, method text, url text, request jsonb, "httpStatus" int, response jsonb, error text, "latencyMs" int)
    WHERE ${when}`;
}

/** Writes the calls on their own. The log is evidence, not control flow: a failure is logged, never thrown. */
export async function recordCalls(db: Db | Tx, calls: ProviderCalls): Promise<void> {
  if (calls.records.length === 0) return;
  try {
    await rawRows(db, Prisma.sql`WITH written AS (${insertCallsSql(calls)} RETURNING 1) SELECT count(*)::int AS n FROM written`);
  } catch (error) {
    console.error("[connections] could not record a provider call", error);
  }
}

/** The records as a JSON array; absent values are left out (NULL in the row). */
function callsJson(calls: ProviderCalls): string {
  const rows = calls.records.map((call) => ({
    payoutId: call.payoutId ?? calls.payoutId ?? undefined,
    operation: call.operation,
    method: call.method,
    url: call.url,
    request: jsonValue(call.request),
    httpStatus: call.httpStatus,
    response: jsonValue(call.response),
    error: call.error,
    latencyMs: Math.round(call.latencyMs),
  }));
  return JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** A call's request or response as a JSON value: JSON text as what it says, other text wrapped (and cut); undefined when there is none. */
function jsonValue(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") {
    try {
      return JSON.parse(value) ?? undefined;
    } catch {
      return { text: value.length > 4000 ? `${value.slice(0, 4000)}…` : value };
    }
  }
  return value;
}
