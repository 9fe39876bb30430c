// Many payouts at once for the list's plan tests and `npm run bench:list`:
// INSERT … SELECT FROM generate_series, the same SQL on PostgreSQL and PGlite,
// in chunks so one statement never holds the whole table in memory. Rows look
// like a desk's: mostly settled, a long tail of other statuses, three
// currencies, 1,200 recipient names, invoice numbers in the descriptions.
import { Prisma } from "@/server/db/generated/client";
import type { Db } from "@/server/services/types";
import { randomUUID } from "node:crypto";
import { rebuildTimings } from "@/server/services/payout-rollups";
import type { SqlExecutor } from "@/server/db/sql-executor";
import type { TestDesk } from "./desk";

/** Payouts per INSERT … SELECT while seeding at size. */
const SEED_CHUNK = 100_000;

export interface ListSeed {
  connectionIds: string[];
  makerId: string;
  /** Rows 1..batchRows belong to this batch (made here). */
  batchId: string;
  batchRows: number;
  /** Row g is created `g * spacingSeconds` before `newest`. */
  newest: Date;
  spacingSeconds: number;
}

const FIRST = ["Thandiwe", "Mutale", "Chanda", "Bwalya", "Mwila", "Natasha", "Kalaba", "Lubinda", "Nkandu", "Sibongile", "Akello", "Okello", "Nakato", "Mugisha", "Kato", "Namubiru", "Ssali", "Achieng", "Otieno", "Wanjiru", "Kamau", "Priya", "Arjun", "Ananya", "Rohan", "Maria", "Jose", "Ana", "Luis", "Grace"];
const LAST = ["Phiri", "Banda", "Mwansa", "Tembo", "Zulu", "Lungu", "Mulenga", "Sakala", "Chileshe", "Kunda", "Nabwire", "Ochieng", "Mukasa", "Kiggundu", "Nsubuga", "Atwine", "Tumusiime", "Byaruhanga", "Kariuki", "Njoroge", "Mwangi", "Sharma", "Patel", "Iyer", "Reddy", "Nair", "Santos", "Reyes", "Cruz", "Garcia", "Mendoza", "Bautista", "Okafor", "Adeyemi", "Mensah", "Owusu", "Diallo", "Traore", "Moyo", "Dube"];

/** The id of row g (deterministic, so a bench can name the row it searches for). */
export function seededIdSql(g: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(md5('list-seed-' || ${g}::text))::uuid`;
}

export function seededId(g: number, md5: (text: string) => string): string {
  const hex = md5(`list-seed-${g}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** What row g holds, as the seed writes it (for tests and the bench to search by). */
export function seededRow(g: number): { phone: string; name: string; description: string; reference: string | null } {
  const status = statusOf(g);
  return {
    phone: `2607${String(g % 100_000_000).padStart(8, "0")}`,
    name: `${FIRST[g % FIRST.length]} ${LAST[Math.floor(g / FIRST.length) % LAST.length]}`,
    description: `Invoice INV-${String(g).padStart(7, "0")} for services`,
    reference: status === "pending_approval" || status === "expired" || status === "rejected" ? null : `PRV-${g}`,
  };
}

function statusOf(g: number): string {
  const b = g % 100;
  return b < 70 ? "succeeded" : b < 80 ? "failed" : b < 85 ? "pending_approval" : b < 88 ? "processing" : b < 90 ? "expired" : b < 93 ? "cancelled" : b < 95 ? "approved" : b < 97 ? "rejected" : b < 98 ? "unknown" : b < 99 ? "reversed" : "submitting";
}

const STATUS_CASE = Prisma.sql`(CASE WHEN g % 100 < 70 THEN 'succeeded' WHEN g % 100 < 80 THEN 'failed' WHEN g % 100 < 85 THEN 'pending_approval'
  WHEN g % 100 < 88 THEN 'processing' WHEN g % 100 < 90 THEN 'expired' WHEN g % 100 < 93 THEN 'cancelled' WHEN g % 100 < 95 THEN 'approved'
  WHEN g % 100 < 97 THEN 'rejected' WHEN g % 100 < 98 THEN 'unknown' WHEN g % 100 < 99 THEN 'reversed' ELSE 'submitting' END)`;

/** Makes the seed's batch row (the payouts reference it). */
export async function createSeedBatch(db: Db, seed: ListSeed): Promise<void> {
  await db.$executeRaw`INSERT INTO "Batch" ("id", "fileName", "fileSha256", "fileBytes", "status", "createdById", "rowCount", "validCount")
    VALUES (${seed.batchId}::uuid, 'seed.csv', ${seed.batchId}, '\\x'::bytea, 'created', ${seed.makerId}::uuid, ${seed.batchRows}, ${seed.batchRows})`;
}

/** Inserts rows first..last (inclusive) with `eventsEach` events each. */
export async function seedPayouts(db: Db, seed: ListSeed, first: number, last: number, eventsEach = 4): Promise<void> {
  const connections = Prisma.sql`ARRAY[${Prisma.join(seed.connectionIds.map((id) => Prisma.sql`${id}::uuid`))}]`;
  const firstNames = Prisma.sql`ARRAY[${Prisma.join(FIRST)}]::text[]`;
  const lastNames = Prisma.sql`ARRAY[${Prisma.join(LAST)}]::text[]`;
  const newest = seed.newest.toISOString();
  await db.$executeRaw`
    INSERT INTO "Payout" ("id", "connectionId", "amountMinor", "currency", "recipientPhone", "phoneDigitsReversed", "recipientName",
      "description", "status", "providerReference", "createdById", "createdAt", "updatedAt", "finalizedAt", "feeMinor", "feeCurrency",
      "attentionSince", "batchId", "batchRow")
    SELECT ${seededIdSql(Prisma.sql`g`)},
      (${connections})[1 + g % ${seed.connectionIds.length}],
      100 + (g::bigint * 7919) % 2000000,
      (ARRAY['ZMW','UGX','USD'])[1 + g % 3],
      '2607' || lpad((g % 100000000)::text, 8, '0'),
      reverse('2607' || lpad((g % 100000000)::text, 8, '0')),
      (${firstNames})[1 + g % ${FIRST.length}] || ' ' || (${lastNames})[1 + (g / ${FIRST.length}) % ${LAST.length}],
      'Invoice INV-' || lpad(g::text, 7, '0') || ' for services',
      s.status::"PayoutStatus",
      CASE WHEN s.status IN ('pending_approval', 'expired', 'rejected') THEN NULL ELSE 'PRV-' || g END,
      ${seed.makerId}::uuid,
      ${newest}::timestamptz - g * make_interval(secs => ${seed.spacingSeconds}),
      ${newest}::timestamptz - g * make_interval(secs => ${seed.spacingSeconds}),
      CASE WHEN s.status IN ('succeeded', 'failed', 'reversed') THEN ${newest}::timestamptz - g * make_interval(secs => ${seed.spacingSeconds}) + interval '2 minutes' END,
      CASE WHEN s.status = 'succeeded' THEN (100 + (g::bigint * 7919) % 2000000) / 100 END,
      CASE WHEN s.status = 'succeeded' THEN (ARRAY['ZMW','UGX','USD'])[1 + g % 3] END,
      CASE WHEN s.status = 'processing' AND g % 7 = 0 THEN ${newest}::timestamptz END,
      CASE WHEN g <= ${seed.batchRows} THEN ${seed.batchId}::uuid END,
      CASE WHEN g <= ${seed.batchRows} THEN g::int END
    FROM generate_series(${first}::int, ${last}::int) g, LATERAL (SELECT ${STATUS_CASE} AS status) s`;
  if (eventsEach > 0) {
    await db.$executeRaw`
      INSERT INTO "PayoutEvent" ("payoutId", "fromStatus", "toStatus", "source", "note", "at")
      SELECT ${seededIdSql(Prisma.sql`g`)}, CASE WHEN e = 1 THEN NULL ELSE 'pending_approval'::"PayoutStatus" END,
        CASE WHEN e = 1 THEN 'pending_approval'::"PayoutStatus" ELSE 'approved'::"PayoutStatus" END,
        CASE WHEN e = 1 THEN 'user'::"EventSource" ELSE 'system'::"EventSource" END, 'seeded',
        ${newest}::timestamptz - g * make_interval(secs => ${seed.spacingSeconds}) + e * interval '10 seconds'
      FROM generate_series(${first}::int, ${last}::int) g, generate_series(1, ${eventsEach}::int) e`;
  }
}

/**
 * The rollups made again from the payouts (seeded rows bypass the services
 * that keep them): the same statement as migration 20261201231100_payout_rollups's
 * backfill; and the approval-to-final histogram.
 */
export async function rebuildRollups(db: Db): Promise<void> {
  await db.$executeRaw`DELETE FROM "PayoutRollup"`;
  await db.$executeRaw`
    INSERT INTO "PayoutRollup" ("day", "connectionId", "currency", "status", "count", "amountMinor", "feeMinor", "feeCount", "feeOtherCount")
    SELECT ("createdAt" AT TIME ZONE 'UTC')::date, "connectionId", "currency", "status",
           count(*),
           sum("amountMinor"),
           coalesce(sum("feeMinor") FILTER (WHERE "feeMinor" IS NOT NULL AND "feeCurrency" = "currency"), 0),
           count(*) FILTER (WHERE "feeMinor" IS NOT NULL AND "feeCurrency" = "currency"),
           count(*) FILTER (WHERE "feeMinor" IS NOT NULL AND "feeCurrency" IS NOT NULL AND "feeCurrency" <> "currency")
    FROM "Payout"
    GROUP BY 1, 2, 3, 4`;
  await rebuildTimings(db);
}

export { statusOf as seededStatus };

/** Drops the table's secondary indexes (kept: primary key), answering the statements that make them again. */
async function dropIndexes(db: { sql: SqlExecutor }, table: string): Promise<string[]> {
  const { rows } = await db.sql.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = $1
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [table],
  );
  for (const r of rows) await db.sql.query(`DROP INDEX "${r.indexname}"`);
  return rows.map((r) => r.indexdef);
}

/**
 * `rows` payouts (about four events each) over the last year, newest now, on
 * the test desk's connections, as a bulk load would: secondary indexes
 * dropped while loading and made again, rollups rebuilt, tables analyzed.
 * Prints its progress. Used by bench:list and bench:pages.
 */
export async function seedAtSize(db: { sql: SqlExecutor }, t: Pick<TestDesk, "desk" | "users">, rows: number): Promise<ListSeed> {
  const connections = await t.desk.db.connection.findMany({ select: { id: true }, orderBy: { name: "asc" } });
  const s: ListSeed = {
    connectionIds: connections.map((c) => c.id),
    makerId: t.users.maker.id,
    batchId: randomUUID(),
    batchRows: 20_000,
    newest: new Date(),
    // A year of payouts, newest now.
    spacingSeconds: Math.max(1, Math.floor((365 * 24 * 3600) / rows)),
  };
  await createSeedBatch(t.desk.db, s);
  const started = Date.now();
  const payoutIndexes = await dropIndexes(db, "Payout");
  const eventIndexes = await dropIndexes(db, "PayoutEvent");
  for (let first = 1; first <= rows; first += SEED_CHUNK) {
    const last = Math.min(rows, first + SEED_CHUNK - 1);
    await seedPayouts(t.desk.db, s, first, last, 4);
    process.stdout.write(`\r  seeded ${last.toLocaleString("en")} payouts (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  process.stdout.write("\n");
  const indexed = Date.now();
  for (const def of [...payoutIndexes, ...eventIndexes]) await db.sql.query(def);
  // Seeded rows bypass the services that keep the rollups: made again as the migration's backfill makes them.
  await rebuildRollups(t.desk.db);
  await db.sql.query(`ANALYZE "Payout"`);
  await db.sql.query(`ANALYZE "PayoutRollup"`);
  await db.sql.query(`ANALYZE "PayoutEvent"`);
  console.log(`  indexes made again and analyzed in ${((Date.now() - indexed) / 1000).toFixed(0)} s (${payoutIndexes.length} on Payout, ${eventIndexes.length} on PayoutEvent)`);
  return s;
}
