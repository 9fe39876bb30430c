// The payout rollups (model PayoutRollup): per UTC day of creation,
// connection, currency and status, the count of payouts, the sum of their
// amounts and of the fees their providers reported. They move in the same
// statement or transaction as whatever changes a payout's key or money:
//   - its status (payout-status.ts changeRows: out of the old status, into the new),
//   - its fee, reported later without a status change (payout-status.ts),
//   - its creation (payouts.ts insertPayoutsInTx, the one insert of new payouts),
//   - a maker's edit of amount, currency or connection (payouts.ts).
// The day is the day the payout was created, in UTC: it never changes, and it
// is the day the payouts list filters on, so a chart's bar clicks through to
// exactly the payouts it counts.
//
// Every write is one INSERT … ON CONFLICT DO UPDATE of the summed deltas,
// keyed and ordered, so two transactions moving the same rows take their row
// locks in the same order and never deadlock each other.
//
// Each key's sums are split over ROLLUP_SHARDS rows (column shard), a
// payout's shard fixed by its id. Without the split, every status change of a
// connection's payouts on one day moved the same two rows, and each held
// their locks until its commit was on disk: sending serialised on them
// (changes waited 8-11 ms each for the lock at 36 payouts/s). Readers add the
// shards up (GROUP BY the key); backfills and rebuilds write shard 0.
import { Prisma } from "@/server/db/generated/client";
import type { Db, Tx } from "./types";

/** SQL expressions of the columns a payout's contribution depends on. */
export interface RollupTerms {
  /** The payout's id: it picks the shard. */
  id: Prisma.Sql;
  createdAt: Prisma.Sql;
  connectionId: Prisma.Sql;
  currency: Prisma.Sql;
  status: Prisma.Sql;
  amountMinor: Prisma.Sql;
  feeMinor: Prisma.Sql;
  feeCurrency: Prisma.Sql;
}

/** The columns of a "Payout" row (or a row with its column names) under `alias`. */
export function payoutTerms(alias: string, overrides: Partial<RollupTerms> = {}): RollupTerms {
  const col = (name: string) => Prisma.raw(`${alias}."${name}"`);
  return {
    id: col("id"),
    createdAt: col("createdAt"),
    connectionId: col("connectionId"),
    currency: col("currency"),
    status: col("status"),
    amountMinor: col("amountMinor"),
    feeMinor: col("feeMinor"),
    feeCurrency: col("feeCurrency"),
    ...overrides,
  };
}

/**
 * The select list of one payout's contribution, times `sign` (1 adds it, -1
 * takes it away). A fee counts in feeMinor when reported in the payout's own
 * currency, in feeOtherCount when in another, in neither when not reported.
 */
/** How many rows each key's sums are split over. */
export const ROLLUP_SHARDS = 16;

/** A payout's shard, from its id (random bytes in a v4 uuid; the same for every write of that payout). */
export function shardSql(id: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(get_byte(uuid_send(${id}), 15) % ${Prisma.raw(String(ROLLUP_SHARDS))})::smallint`;
}

export function contributionSql(t: RollupTerms, sign: 1 | -1): Prisma.Sql {
  const s = Prisma.raw(String(sign));
  const own = Prisma.sql`(${t.feeMinor} IS NOT NULL AND ${t.feeCurrency} = ${t.currency})`;
  const other = Prisma.sql`(${t.feeMinor} IS NOT NULL AND ${t.feeCurrency} IS NOT NULL AND ${t.feeCurrency} <> ${t.currency})`;
  return Prisma.sql`(${t.createdAt} AT TIME ZONE 'UTC')::date AS day, ${t.connectionId} AS "connectionId", ${t.currency}::varchar(4) AS currency,
    ${t.status} AS status, ${shardSql(t.id)} AS shard, ${s}::bigint AS n, ${s}::bigint * ${t.amountMinor} AS amount,
    ${s}::bigint * (CASE WHEN ${own} THEN ${t.feeMinor} ELSE 0 END) AS fee,
    ${s}::bigint * (CASE WHEN ${own} THEN 1 ELSE 0 END) AS fee_count,
    ${s}::bigint * (CASE WHEN ${other} THEN 1 ELSE 0 END) AS fee_other`;
}

/**
 * The upsert of summed deltas: `deltas` is a query whose rows are
 * contributions (day, connectionId, currency, status, shard, n, amount, fee,
 * fee_count, fee_other). Usable as a data-modifying CTE of a larger statement.
 */
export function upsertDeltasSql(deltas: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "PayoutRollup" AS r (day, "connectionId", currency, status, shard, count, "amountMinor", "feeMinor", "feeCount", "feeOtherCount")
    SELECT day, "connectionId", currency, status, shard, sum(n), sum(amount), sum(fee), sum(fee_count), sum(fee_other)
    FROM (${deltas}) AS d
    GROUP BY day, "connectionId", currency, status, shard
    HAVING sum(n) <> 0 OR sum(amount) <> 0 OR sum(fee) <> 0 OR sum(fee_count) <> 0 OR sum(fee_other) <> 0
    ORDER BY day, "connectionId", currency, status, shard
    ON CONFLICT (day, "connectionId", currency, status, shard) DO UPDATE SET
      count = r.count + EXCLUDED.count,
      "amountMinor" = r."amountMinor" + EXCLUDED."amountMinor",
      "feeMinor" = r."feeMinor" + EXCLUDED."feeMinor",
      "feeCount" = r."feeCount" + EXCLUDED."feeCount",
      "feeOtherCount" = r."feeOtherCount" + EXCLUDED."feeOtherCount"
    RETURNING 1`;
}

/** Adds just-inserted payouts (by id) to the rollups; call in the transaction that inserted them. */
export async function addNewPayoutsToRollupsInTx(tx: Db | Tx, payoutIds: readonly string[]): Promise<void> {
  if (payoutIds.length === 0) return;
  await tx.$queryRaw`
    WITH up AS (${upsertDeltasSql(Prisma.sql`SELECT ${contributionSql(payoutTerms("a"), 1)} FROM "Payout" AS a WHERE a.id = ANY(${[...payoutIds]}::uuid[])`)})
    SELECT count(*)::int AS n FROM up`;
}

/** What places a payout in the rollups. */
export interface RollupFacts {
  id: string;
  createdAt: Date;
  connectionId: string;
  currency: string;
  status: string;
  amountMinor: bigint;
  feeMinor: bigint | null;
  feeCurrency: string | null;
}

/** Moves one payout from what it was to what it is now (an edit of its amount, currency or connection). */
export async function movePayoutInRollupsInTx(tx: Db | Tx, before: RollupFacts, after: RollupFacts): Promise<void> {
  const row = (f: RollupFacts, sign: 1 | -1) =>
    Prisma.sql`SELECT ${contributionSql(
      {
        id: Prisma.sql`${f.id}::uuid`,
        createdAt: Prisma.sql`${f.createdAt}::timestamptz`,
        connectionId: Prisma.sql`${f.connectionId}::uuid`,
        currency: Prisma.sql`${f.currency}::varchar(4)`,
        status: Prisma.sql`${f.status}::"PayoutStatus"`,
        amountMinor: Prisma.sql`${f.amountMinor}::bigint`,
        feeMinor: Prisma.sql`${f.feeMinor}::bigint`,
        feeCurrency: Prisma.sql`${f.feeCurrency}::varchar(4)`,
      },
      sign,
    )}`;
  await tx.$queryRaw`WITH up AS (${upsertDeltasSql(Prisma.sql`${row(before, -1)} UNION ALL ${row(after, 1)}`)}) SELECT count(*)::int AS n FROM up`;
}

export interface RollupRow {
  day: string;
  connectionId: string;
  currency: string;
  status: string;
  count: number;
  amountMinor: bigint;
  feeMinor: bigint;
  feeCount: number;
  feeOtherCount: number;
}

/** The rollups as stored, shards added up, without keys that hold nothing (left behind when their payouts moved on); sorted by key. */
export function storedRollups(db: Db) {
  return db.$queryRaw<RollupRow[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, "connectionId"::text AS "connectionId", currency, status::text AS status,
           sum(count)::int AS count, sum("amountMinor")::bigint AS "amountMinor", sum("feeMinor")::bigint AS "feeMinor",
           sum("feeCount")::int AS "feeCount", sum("feeOtherCount")::int AS "feeOtherCount"
    FROM "PayoutRollup"
    GROUP BY day, "connectionId", currency, status
    HAVING sum(count) <> 0 OR sum("amountMinor") <> 0 OR sum("feeMinor") <> 0 OR sum("feeCount") <> 0 OR sum("feeOtherCount") <> 0
    ORDER BY day, "connectionId", currency, status`;
}

/** The rollups as a GROUP BY of the payouts table would give them (what the backfill writes): the check of storedRollups. */
export function rollupsFromPayouts(db: Db) {
  return db.$queryRaw<RollupRow[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, "connectionId"::text AS "connectionId", currency, status::text AS status,
           sum(n)::int AS count, sum(amount)::bigint AS "amountMinor", sum(fee)::bigint AS "feeMinor",
           sum(fee_count)::int AS "feeCount", sum(fee_other)::int AS "feeOtherCount"
    FROM (SELECT ${contributionSql(payoutTerms("a"), 1)} FROM "Payout" AS a) AS d
    GROUP BY day, "connectionId", currency, status
    ORDER BY day, "connectionId", currency, status`;
}

// ---------------------------------------------------------------------------
// Approval-to-final times (model PayoutTimingRollup): a histogram per UTC day
// of finalisation. A payout's seconds s from approval to final fall in bucket
// floor(ln(1 + 10 s) / ln(1.05)): buckets about 5 % wide (0.1 s wide near 0),
// 280 of them up to a day, so a percentile read back is within 2.5 % of the
// exact one. Written once per payout, in the statement that finalises it
// (finalizedAt is set once: the only move out of a final status, a reversal,
// keeps it), for payouts that were approved (rejected, expired ones never were).

/** The growth factor between bucket bounds, and the resolution near zero (buckets per second there). */
const TIMING_BASE = 1.05;
const TIMING_SCALE = 10;

/** The bucket of `seconds` as SQL (a negative span, clocks apart, counts as 0). */
export function timingBucketSql(seconds: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`floor(ln(1 + ${Prisma.raw(String(TIMING_SCALE))} * GREATEST(${seconds}, 0)::float8) / ln(${Prisma.raw(String(TIMING_BASE))}))::int`;
}

/** The bucket of `seconds`, as timingBucketSql computes it. */
export function timingBucket(seconds: number): number {
  return Math.floor(Math.log(1 + TIMING_SCALE * Math.max(seconds, 0)) / Math.log(TIMING_BASE));
}

/** The middle of a bucket, in seconds: what a percentile falling in it reads. */
export function timingBucketSeconds(bucket: number): number {
  const low = (TIMING_BASE ** bucket - 1) / TIMING_SCALE;
  const high = (TIMING_BASE ** (bucket + 1) - 1) / TIMING_SCALE;
  return (low + high) / 2;
}

/**
 * Median and p95 (nearest rank) of a histogram read from PayoutTimingRollup:
 * `buckets` are (bucket, count) sorted by bucket.
 */
export function timingPercentiles(buckets: ReadonlyArray<{ bucket: number; count: number }>): { count: number; medianSeconds: number | null; p95Seconds: number | null } {
  const count = buckets.reduce((sum, b) => sum + b.count, 0);
  if (count === 0) return { count: 0, medianSeconds: null, p95Seconds: null };
  const at = (p: number) => {
    const rank = Math.max(1, Math.ceil(p * count));
    let seen = 0;
    for (const b of buckets) {
      seen += b.count;
      if (seen >= rank) return timingBucketSeconds(b.bucket);
    }
    return timingBucketSeconds(buckets.at(-1)!.bucket);
  };
  return { count, medianSeconds: at(0.5), p95Seconds: at(0.95) };
}

/**
 * The histogram's rows (day, bucket, count) of the approved and finalised
 * payouts in `source`: the "Payout" table, or the rows a status change just
 * finalised. The one place a payout's day and bucket are worked out.
 */
function timingsOfSql(source: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT (ch."finalizedAt" AT TIME ZONE 'UTC')::date AS day,
           ${timingBucketSql(Prisma.sql`EXTRACT(EPOCH FROM ch."finalizedAt" - ch."approvedAt")`)} AS bucket,
           ${shardSql(Prisma.sql`ch.id`)} AS shard, count(*)::int AS count
    FROM ${source} AS ch
    WHERE ch."approvedAt" IS NOT NULL AND ch."finalizedAt" IS NOT NULL
    GROUP BY 1, 2, 3`;
}

/**
 * The data-modifying CTE body that adds finalised payouts to the histogram:
 * `changed` names rows with "approvedAt" and "finalizedAt". Ordered by key,
 * like the rollups' upsert, so concurrent writers never deadlock.
 */
export function upsertTimingsSql(changed: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "PayoutTimingRollup" AS r (day, bucket, shard, count)
    ${timingsOfSql(changed)}
    ORDER BY 1, 2, 3
    ON CONFLICT (day, bucket, shard) DO UPDATE SET count = r.count + EXCLUDED.count
    RETURNING 1`;
}

export interface TimingRow {
  day: string;
  bucket: number;
  count: number;
}

/** The histogram as stored, shards added up, sorted by key. */
export function storedTimings(db: Db) {
  return db.$queryRaw<TimingRow[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, bucket, sum(count)::int AS count FROM "PayoutTimingRollup"
    GROUP BY day, bucket HAVING sum(count) <> 0 ORDER BY day, bucket`;
}

/** The check of storedTimings: the histogram made from the payouts table. */
export function timingsFromPayouts(db: Db) {
  return db.$queryRaw<TimingRow[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, bucket, sum(count)::int AS count FROM (${timingsOfSql(Prisma.sql`"Payout"`)}) AS t
    GROUP BY day, bucket ORDER BY day, bucket`;
}

/** Makes the histogram again from the payouts (rows seeded behind the services' back), in shard 0. */
export async function rebuildTimings(db: Db): Promise<void> {
  await db.$executeRaw`DELETE FROM "PayoutTimingRollup"`;
  await db.$executeRaw`
    INSERT INTO "PayoutTimingRollup" (day, bucket, count)
    SELECT day, bucket, sum(count) FROM (${timingsOfSql(Prisma.sql`"Payout"`)}) AS t GROUP BY day, bucket`;
}
