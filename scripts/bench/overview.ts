// npm run bench:overview [-- --pg-rows 1000000 --pglite-rows 100000 --runs 40 --keep]
//
// The Overview at scale: seeds --pg-rows payouts on PostgreSQL (a scratch
// database on BENCH_DATABASE_URL or TEST_DATABASE_URL, created and dropped
// here) and --pglite-rows on an in-memory PGlite, spread over a year across
// five connections, with generate_series; fills the rollups with the very
// statement the migration's backfill runs; records provider calls and
// callbacks for the last two days. Then times the Overview's three calls as
// the app makes them (services/overview.ts through Prisma) beside the same
// SQL sent raw, and prints EXPLAIN of each query, flagging any sequential
// scan of the payouts table.
//
// Figures, not a test: it exits non-zero only when a plan scans "Payout" or
// the service's counts disagree with the raw SQL. Target (issue 10): p95 of
// the overview ≤ 50 ms at 1M payouts on PostgreSQL.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Db as DbHandle } from "@/server/db/client";
import type { SqlExecutor } from "@/server/db/sql-executor";
import type { Desk } from "@/server/services/types";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = Number(i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive whole number`);
  return n;
}

const CONNECTIONS = [
  { id: "0b1d5a4e-1f6c-4c1e-9a51-000000000001", provider: "pawapay", name: "pawaPay bench", currency: "ZMW" },
  { id: "0b1d5a4e-1f6c-4c1e-9a51-000000000002", provider: "muda", name: "Muda bench", currency: "UGX" },
  { id: "0b1d5a4e-1f6c-4c1e-9a51-000000000003", provider: "paytota", name: "Paytota bench", currency: "UGX" },
  { id: "0b1d5a4e-1f6c-4c1e-9a51-000000000004", provider: "praxis", name: "Praxis bench", currency: "USD" },
  { id: "0b1d5a4e-1f6c-4c1e-9a51-000000000005", provider: "pontis", name: "PontisGlobe bench", currency: "USDT" },
];
const USER_ID = "5d6c7b8a-9f0e-4d1c-8b2a-3e4f5a6b7c8d";

/** A backfill statement of a migration, as it stands there (from its INSERT to the end of the file). */
function backfillSql(migration: string, table: string): string {
  const file = readFileSync(path.resolve(`prisma/migrations/${migration}/migration.sql`), "utf8");
  const start = file.indexOf(`INSERT INTO "${table}"`);
  if (start < 0) throw new Error(`Migration ${migration} has no backfill of ${table}`);
  return file.slice(start);
}

async function seed(sql: SqlExecutor, count: number, now: Date) {
  await sql.query(`INSERT INTO "User" (id, email, name, role, "passwordHash", "updatedAt") VALUES ($1, 'bench@desk.example', 'Bench', 'maker', 'x', now())`, [USER_ID]);
  for (const c of CONNECTIONS) {
    await sql.query(
      `INSERT INTO "Connection" (id, provider, name, environment, "baseUrl", credentials, "updatedAt") VALUES ($1, $2::"ProviderKind", $3, 'sandbox', 'http://127.0.0.1:1', 'x', now())`,
      [c.id, c.provider, c.name],
    );
  }
  const connections = `(VALUES ${CONNECTIONS.map((c, i) => `(${i}, '${c.id}'::uuid, '${c.currency}')`).join(", ")}) AS conn(ci, id, currency)`;
  // A year of payouts, one every (year / count), the newest now. The last two
  // hours are still on their way (waiting, approved, in flight, unknown); the
  // rest ended: mostly paid, 5% failed (two reasons), some reversed, rejected,
  // cancelled, expired. Two of three paid ones have a fee.
  await sql.query(
    `INSERT INTO "Payout" (id, "connectionId", "amountMinor", currency, "recipientPhone", "recipientName", description, status,
                           "failureCode", "failureMessage", "createdById", "createdAt", "updatedAt", "approvedAt", "submittedAt", "finalizedAt",
                           "feeMinor", "feeCurrency", "attentionSince", "attentionReason", "approvalExpiresAt", "providerReference")
     SELECT gen_random_uuid(), conn.id, s.amount, conn.currency, '2607' || lpad((s.g % 100000000)::text, 8, '0'), 'Recipient ' || s.g, 'Invoice ' || s.g,
            s.status,
            CASE WHEN s.status = 'failed' THEN CASE WHEN s.g % 40 = 0 THEN 'RECIPIENT_NOT_FOUND' ELSE 'INSUFFICIENT_FUNDS' END END,
            CASE WHEN s.status = 'failed' THEN 'Declined by the provider' END,
            $1::uuid, s.created, s.created,
            CASE WHEN s.status NOT IN ('pending_approval', 'rejected', 'expired') THEN s.created + interval '30 seconds' END,
            CASE WHEN s.status NOT IN ('pending_approval', 'approved', 'rejected', 'expired', 'cancelled') THEN s.created + interval '31 seconds' END,
            CASE WHEN s.status IN ('succeeded', 'failed', 'reversed', 'cancelled') THEN s.created + interval '31 seconds' + (s.g % 600) * interval '1 second'
                 WHEN s.status IN ('rejected', 'expired') THEN s.created + interval '1 hour' END,
            CASE WHEN s.status IN ('succeeded', 'reversed') AND s.g % 3 <> 0 THEN 100 + s.g % 50 END,
            CASE WHEN s.status IN ('succeeded', 'reversed') AND s.g % 3 <> 0 THEN conn.currency END,
            CASE WHEN s.status = 'processing' AND s.g % 8 = 2 THEN s.created + interval '30 minutes' END,
            CASE WHEN s.status = 'processing' AND s.g % 8 = 2 THEN 'stuck' END,
            s.created + interval '72 hours',
            'REF-' || s.g
     FROM (SELECT g, g % 5 AS ci, 500 + (g::bigint * 7919) % 2000000 AS amount, created,
                  (CASE WHEN created > $2::timestamptz - interval '2 hours' THEN
                          CASE g % 4 WHEN 0 THEN 'pending_approval' WHEN 1 THEN 'approved' WHEN 2 THEN 'processing' ELSE 'unknown' END
                        WHEN g % 20 = 0 THEN 'failed' WHEN g % 97 = 0 THEN 'reversed' WHEN g % 50 = 1 THEN 'rejected'
                        WHEN g % 53 = 2 THEN 'cancelled' WHEN g % 61 = 3 THEN 'expired' ELSE 'succeeded' END)::"PayoutStatus" AS status
           FROM (SELECT g, $2::timestamptz - ($3::int - g) * (interval '365 days' / $3::int) AS created FROM generate_series(1, $3::int) AS g) AS t) AS s
     JOIN ${connections} ON conn.ci = s.ci`,
    [USER_ID, now, count],
  );
  // Two days of provider calls (a send and a status check each) and callbacks, with some timeouts, 5xx and refusals.
  await sql.query(
    `INSERT INTO "ProviderCall" ("connectionId", "payoutId", operation, method, url, "httpStatus", error, "latencyMs", at)
     SELECT p."connectionId", p.id, op, 'POST', 'http://127.0.0.1:1/payouts',
            CASE WHEN k % 97 = 0 THEN NULL WHEN k % 89 = 0 THEN 503 WHEN k % 83 = 0 THEN 400 ELSE 200 END,
            CASE WHEN k % 97 = 0 THEN 'timed out after 15000 ms' END,
            40 + (k * 37) % 900, p."createdAt" + interval '31 seconds'
     FROM (SELECT *, row_number() OVER () AS k FROM "Payout" WHERE "createdAt" > $1::timestamptz - interval '2 days' AND "submittedAt" IS NOT NULL) AS p
     CROSS JOIN (VALUES ('submit'), ('status')) AS o(op)`,
    [now],
  );
  await sql.query(
    `INSERT INTO "CallbackReceipt" (id, "connectionId", "dedupeKey", "payoutId", headers, body, verified, outcome, "receivedAt", "processedAt", "sinceSentMs")
     SELECT gen_random_uuid(), "connectionId", id::text, id, '{}'::jsonb, '{}', true, 'applied', "submittedAt" + (2 + (abs(hashtext(id::text)) % 60)) * interval '1 second', "finalizedAt",
            (2 + (abs(hashtext(id::text)) % 60)) * 1000
     FROM "Payout" WHERE "createdAt" > $1::timestamptz - interval '2 days' AND "submittedAt" IS NOT NULL`,
    [now],
  );
  await sql.query(backfillSql("20261201231100_payout_rollups", "PayoutRollup"));
  await sql.query(backfillSql("20261202043434_overview_timings", "PayoutTimingRollup"));
  await sql.query(`VACUUM ANALYZE`);
}

/** The Overview's queries as raw SQL, the same text services/overview.ts sends (default period: the last 14 days). */
function rawQueries(now: Date) {
  const today = new Date(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  const from = new Date(today.getTime() - 13 * 86_400_000);
  const end = new Date(today.getTime() + 86_400_000);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const since = new Date(now.getTime() - 24 * 3600_000);
  const ids = CONNECTIONS.map((c) => c.id);
  return {
    "summary: count by status (rollups)": [`SELECT status, sum(count)::int AS count FROM "PayoutRollup" GROUP BY status`, []],
    "summary: the period's rollups": [
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, "connectionId"::text, currency, status, sum(count)::int AS count, sum("amountMinor")::bigint AS "amountMinor",
              sum("feeMinor")::bigint AS "feeMinor", sum("feeCount")::int AS "feeCount", sum("feeOtherCount")::int AS "feeOtherCount"
       FROM "PayoutRollup" WHERE day >= $1::date AND day <= $2::date
       GROUP BY day, "connectionId", currency, status HAVING sum(count) <> 0 ORDER BY day`,
      [day(from), day(today)],
    ],
    "summary: failures by reason": [
      `SELECT "failureCode" AS code, min("failureMessage") AS message, count(*)::int AS count FROM "Payout"
       WHERE status = 'failed' AND "createdAt" >= $1 AND "createdAt" < $2 GROUP BY "failureCode" ORDER BY count(*) DESC, "failureCode" LIMIT 12`,
      [from, end],
    ],
    "summary: approval to final (histogram)": [
      `SELECT bucket, sum(count)::int AS count FROM "PayoutTimingRollup" WHERE day >= $1::date AND day <= $2::date
       GROUP BY bucket HAVING sum(count) > 0 ORDER BY bucket`,
      [day(from), day(today)],
    ],
    "summary: flagged for attention": [`SELECT count(*) FROM "Payout" WHERE "attentionSince" IS NOT NULL`, []],
    "attention: outcomes unknown (rollups)": [`SELECT coalesce(sum(count), 0)::int AS n FROM "PayoutRollup" WHERE status = 'unknown'`, []],
    "attention: flagged in flight, not unknown": [
      `SELECT count(*) FROM "Payout" WHERE "attentionSince" IS NOT NULL AND status IN ('submitting', 'processing', 'provider_pending_approval')`,
      [],
    ],
    "attention: approvals about to expire": [
      `SELECT count(*) FROM "Payout" WHERE status = 'pending_approval' AND "approvalExpiresAt" > $1 AND "approvalExpiresAt" <= $2`,
      [now, new Date(now.getTime() + 24 * 3600_000)],
    ],
    "health: provider calls (24 h)": [
      `SELECT c.id::text, s.* FROM "Connection" c CROSS JOIN LATERAL (
         SELECT count(*)::int AS calls, percentile_cont(0.5) WITHIN GROUP (ORDER BY pc."latencyMs")::float8 AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY pc."latencyMs")::float8 AS p95,
                count(*) FILTER (WHERE pc."httpStatus" >= 500)::int AS server_errors
         FROM "ProviderCall" pc WHERE pc."connectionId" = c.id AND pc.at >= $1) s WHERE c.id = ANY($2::uuid[])`,
      [since, ids],
    ],
    "health: callback lag (24 h)": [
      `SELECT c.id::text, s.* FROM "Connection" c CROSS JOIN LATERAL (
         SELECT count(*)::int AS callbacks,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY cr."sinceSentMs" / 1000.0)::float8 AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY cr."sinceSentMs" / 1000.0)::float8 AS p95
         FROM "CallbackReceipt" cr
         WHERE cr."connectionId" = c.id AND cr.verified AND cr."receivedAt" >= $1 AND cr."sinceSentMs" IS NOT NULL) s WHERE c.id = ANY($2::uuid[])`,
      [since, ids],
    ],
    "health: in flight": [
      `SELECT c.id::text, n.count, o.* FROM "Connection" c
       CROSS JOIN LATERAL (SELECT coalesce(sum(r.count), 0)::int AS count FROM "PayoutRollup" r
                           WHERE r."connectionId" = c.id AND r.status IN ('submitting', 'processing', 'provider_pending_approval', 'unknown')) n
       LEFT JOIN LATERAL (SELECT f.* FROM (${["submitting", "processing", "provider_pending_approval", "unknown"]
         .map((st) => `(SELECT p."createdAt", p."submittedAt" FROM "Payout" p WHERE p."connectionId" = c.id AND p.status = '${st}' ORDER BY p."submittedAt" LIMIT 1)`)
         .join(" UNION ALL ")}) f ORDER BY f."submittedAt" NULLS LAST, f."createdAt" LIMIT 1) o ON true
       WHERE c.id = ANY($1::uuid[]) AND n.count > 0`,
      [ids],
    ],
  } satisfies Record<string, [string, unknown[]]>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

async function timed(runs: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await fn(); // warm: plans cached, pages in memory
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(9);

async function benchOne(label: string, db: DbHandle, count: number, runs: number): Promise<boolean> {
  const now = new Date();
  let ok = true;
  const t0 = performance.now();
  process.stdout.write(`\n== ${label}: seeding ${count.toLocaleString("en-US")} payouts… `);
  await seed(db.sql, count, now);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { overview, needsAttention, connectorHealth } = await import("@/server/services/overview");
  const desk = { db: db.prisma } as unknown as Desk;
  const queries = rawQueries(now);

  // Same answers both ways, and the rollups equal the table.
  const summary = await overview(desk, {}, now);
  const [byStatus] = (await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Payout"`)).rows;
  const total = Object.values(summary.byStatus).reduce((a, b) => a + b, 0);
  if (total !== byStatus!.n) {
    ok = false;
    console.log(`MISMATCH: rollups count ${total} payouts, the table ${byStatus!.n}`);
  }
  console.log(
    `period ${summary.period.from} → ${summary.period.to}: ${summary.paidPerDay.reduce((a, r) => a + r.count, 0).toLocaleString("en-US")} paid, ` +
      `${summary.failuresByReason.reduce((a, r) => a + r.count, 0).toLocaleString("en-US")} failed, approval→final median ${summary.approvalToFinal.medianSeconds?.toFixed(0)} s, p95 ${summary.approvalToFinal.p95Seconds?.toFixed(0)} s over ${summary.approvalToFinal.count.toLocaleString("en-US")}`,
  );

  // The histogram's median and p95 against the exact percentiles over the payouts table (what the overview read before).
  const [exact] = (
    await db.sql.query<{ count: number; p: number[] }>(
      `SELECT count(*)::int AS count, percentile_disc(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM "finalizedAt" - "approvedAt"))::float8[] AS p
       FROM "Payout" WHERE "finalizedAt" >= $1 AND "finalizedAt" < $2 AND "approvedAt" IS NOT NULL`,
      [new Date(`${summary.period.from}T00:00:00Z`), new Date(new Date(`${summary.period.to}T00:00:00Z`).getTime() + 86_400_000)],
    )
  ).rows;
  const within = (a: number | null, b: number | undefined) => a !== null && b !== undefined && Math.abs(a - b) <= b * 0.025 + 0.05;
  const timingsAgree = exact!.count === summary.approvalToFinal.count && within(summary.approvalToFinal.medianSeconds, exact!.p[0]) && within(summary.approvalToFinal.p95Seconds, exact!.p[1]);
  if (!timingsAgree) ok = false;
  console.log(
    `approval→final from the histogram: median ${summary.approvalToFinal.medianSeconds?.toFixed(1)} s, p95 ${summary.approvalToFinal.p95Seconds?.toFixed(1)} s; ` +
      `exact over the payouts: ${exact!.p[0]?.toFixed(1)} s, ${exact!.p[1]?.toFixed(1)} s over ${exact!.count.toLocaleString("en-US")}${timingsAgree ? " (within 2.5 %)" : "   <<< DISAGREE"}`,
  );

  console.log(`\n${"call".padEnd(44)}      p50       p95`);
  const line = (name: string, f: { p50: number; p95: number }) => console.log(`${name.padEnd(44)}${ms(f.p50)} ${ms(f.p95)}`);
  const raw = Object.values(queries);
  line("overview.summary (app, Prisma)", await timed(runs, () => overview(desk, {}, now)));
  line("  the same queries raw, in parallel", await timed(runs, () => Promise.all(raw.slice(0, 5).map(([q, v]) => db.sql.query(q, v)))));
  line("overview.attention (app, Prisma)", await timed(runs, () => needsAttention(desk, now)));
  line("overview.health (app, Prisma)", await timed(runs, () => connectorHealth(desk, now)));
  line("  health queries raw, in parallel", await timed(runs, () => Promise.all(raw.slice(8).map(([q, v]) => db.sql.query(q, v)))));
  line("all three overview calls (the page's load)", await timed(runs, () => Promise.all([overview(desk, {}, now), needsAttention(desk, now), connectorHealth(desk, now)])));
  for (const [name, [q, v]] of Object.entries(queries)) line(`  raw: ${name}`, await timed(runs, () => db.sql.query(q, v)));

  console.log(`\nEXPLAIN of each query:`);
  for (const [name, [q, v]] of Object.entries(queries)) {
    const plan = await db.sql.query<{ "QUERY PLAN": string }>(`EXPLAIN ${q}`, v);
    const lines = plan.rows.map((r) => r["QUERY PLAN"]);
    const scans = lines.some((l) => /Seq Scan on "Payout"/.test(l));
    if (scans) ok = false;
    console.log(`-- ${name}${scans ? "   <<< SEQUENTIAL SCAN OF Payout" : ""}\n${lines.map((l) => `   ${l}`).join("\n")}`);
  }
  return ok;
}

async function main() {
  const pgRows = arg("pg-rows", 1_000_000);
  const pgliteRows = arg("pglite-rows", 100_000);
  const runs = arg("runs", 40);
  const { createDb } = await import("@/server/db/client");
  let ok = true;

  const admin = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!process.argv.includes("--no-pg")) {
    if (!admin) throw new Error("bench:overview needs BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin connection string to PostgreSQL), or --no-pg");
    process.env.TEST_DATABASE_URL = admin;
    const { createScratchPostgresDatabase } = await import("@/server/db/testing");
    const scratch = await createScratchPostgresDatabase();
    try {
      const db = await createDb({ databaseUrl: scratch.url, max: 10 });
      try {
        ok = (await benchOne(`PostgreSQL, ${pgRows.toLocaleString("en-US")} payouts`, db, pgRows, runs)) && ok;
      } finally {
        await db.close();
      }
    } finally {
      if (process.argv.includes("--keep")) console.log(`kept the database: ${scratch.url}`);
      else await scratch.drop();
    }
  }
  if (!process.argv.includes("--no-pglite")) {
    const db = await createDb({ kind: "pglite-memory" });
    try {
      ok = (await benchOne(`PGlite, ${pgliteRows.toLocaleString("en-US")} payouts`, db, pgliteRows, runs)) && ok;
    } finally {
      await db.close();
    }
  }
  console.log(`\ntarget: overview p95 ≤ 50 ms at 1,000,000 payouts on PostgreSQL; no sequential scan of "Payout"`);
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
