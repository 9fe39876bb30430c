// npm run bench:balances [-- --days 365 --connections 5 --every 300 --tail 288 --runs 40 --no-pg --no-pglite --keep]
//
// Balances at a year of snapshots (issue 10), on PostgreSQL (BENCH_DATABASE_URL
// or TEST_DATABASE_URL, an admin connection string; a scratch database) and
// on an in-memory PGlite: seeds --connections connections with one read every
// --every seconds for --days days (525,600 snapshot rows at the defaults),
// the last --tail reads of each (a day) written one transaction per read
// through the BalanceLatest trigger as the schedule writes them, then prints:
// - the latest balances as the app reads them (latestBalanceRows, and the
//   Balances page's balanceOverview) at p50 and p95, beside the raw SQL of
//   the same read, and beside the query the desk used before (the newest
//   snapshot per connection and currency found among all snapshots);
// - the thinning (hourly after 7 days, daily after 90): rows before and
//   after, its time, a second run (which deletes nothing), and the latest read
//   again after it.
// Figures, not a test: it exits non-zero only when an answer is wrong (the
// latest differs from the snapshots' newest), never on speed. Target: the
// latest read at most 10 ms.
import type { Db as DbHandle } from "@/server/db/client";
import type { Desk } from "@/server/services/types";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive whole number`);
  return n;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await fn(); // warm up (plans, Prisma's first query)
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

const ms = (n: number) => `${n.toFixed(2)} ms`.padStart(11);
const count = (n: number) => n.toLocaleString("en-US");

const LATEST_RAW = `SELECT "connectionId", "currency", "label", "amountMinor", "at" FROM "BalanceLatest" ORDER BY "connectionId", "currency", "label"`;
// What balanceOverview did before BalanceLatest: the newest `at` per connection and currency among all snapshots, then its rows.
const BEFORE_RAW = `SELECT s."connectionId", s."currency", s."label", s."amountMinor", s."at"
  FROM "BalanceSnapshot" s
  JOIN (SELECT "connectionId", "currency", max("at") AS "at" FROM "BalanceSnapshot" GROUP BY "connectionId", "currency") m
    ON m."connectionId" = s."connectionId" AND m."currency" = s."currency" AND m."at" = s."at"`;

/**
 * All but the last `tail` reads of each connection in bulk (generate_series,
 * the trigger off, BalanceLatest then filled as the migration's backfill
 * does: thousands of times faster than a row at a time), then the last
 * `tail` reads one transaction per read as the schedule writes them, through
 * the trigger, so BalanceLatest is read as it stands after a day of real
 * updates (its old row versions pruned as PostgreSQL and PGlite do on the go).
 */
async function seed(db: DbHandle, connections: number, days: number, everySeconds: number, tail: number, now: Date): Promise<number> {
  const reads = Math.floor((days * 86_400) / everySeconds);
  const bulk = Math.max(0, reads - tail);
  const ids = Array.from({ length: connections }, (_, c) => `00000000-0000-4000-8000-${String(c + 1).padStart(12, "0")}`);
  // The balance wanders (a daily sawtooth of payouts and top-ups plus noise), in whole ngwee.
  const amountOf = (g: number) => 50_000_000 + ((g * 7919) % 10007) * 1000 - (g % 288) * 50_000;
  const atOf = (g: number) => new Date(now.getTime() - (reads - 1 - g) * everySeconds * 1000);
  await db.sql.query(`ALTER TABLE "BalanceSnapshot" DISABLE TRIGGER "BalanceSnapshot_latest"`);
  try {
    for (const [c, id] of ids.entries()) {
      await db.sql.query(
        `INSERT INTO "Connection" ("id", "provider", "name", "environment", "baseUrl", "credentials", "updatedAt")
         VALUES ($1::uuid, 'pawapay', $2, 'sandbox', 'sandbox://pawapay', 'bench', now())`,
        [id, `Bench wallet ${c + 1}`],
      );
      if (bulk === 0) continue;
      await db.sql.query(
        `INSERT INTO "BalanceSnapshot" ("connectionId", "currency", "label", "amountMinor", "at")
         SELECT $1::uuid, 'ZMW', 'ZMB', (50000000 + ((g * 7919) % 10007) * 1000 - (g % 288) * 50000)::bigint,
                $2::timestamptz - ($3::int - 1 - g) * make_interval(secs => $4::int)
         FROM generate_series(0, $5::int - 1) g`,
        [id, now, reads, everySeconds, bulk],
      );
    }
    await db.sql.query(`INSERT INTO "BalanceLatest" ("connectionId", "currency", "label", "amountMinor", "at")
      SELECT DISTINCT ON ("connectionId", "currency", "label") "connectionId", "currency", "label", "amountMinor", "at"
      FROM "BalanceSnapshot" ORDER BY "connectionId", "currency", "label", "at" DESC`);
  } finally {
    await db.sql.query(`ALTER TABLE "BalanceSnapshot" ENABLE TRIGGER "BalanceSnapshot_latest"`);
  }
  for (let g = bulk; g < reads; g++) {
    for (const id of ids) {
      // As refreshBalances writes a read: its rows in one transaction.
      await db.prisma.$transaction([db.prisma.balanceSnapshot.createMany({ data: [{ connectionId: id, currency: "ZMW", label: "ZMB", amountMinor: BigInt(amountOf(g)), at: atOf(g) }] })]);
    }
  }
  return reads * connections;
}

async function benchOne(label: string, db: DbHandle, opts: { connections: number; days: number; every: number; runs: number; tail: number }): Promise<boolean> {
  const { latestBalanceRows, balanceOverview } = await import("@/server/services/balances");
  const { thinBalanceSnapshots } = await import("@/server/services/balance-thinning");
  const desk = { db: db.prisma, config: {}, jobs: { wake() {} } } as unknown as Desk;
  const now = new Date();
  let ok = true;

  process.stdout.write(`\n== ${label}: seeding ${opts.connections} connections × ${opts.days} days, a read every ${opts.every} s… `);
  const t0 = performance.now();
  const rows = await seed(db, opts.connections, opts.days, opts.every, opts.tail, now);
  await db.sql.query(`ANALYZE "BalanceSnapshot"`);
  await db.sql.query(`ANALYZE "BalanceLatest"`);
  console.log(`${count(rows)} snapshot rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (the last ${count(Math.min(opts.tail, rows / opts.connections))} reads of each a transaction each, through the trigger)`);

  const snapshotCount = async () => Number((await db.sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM "BalanceSnapshot"`)).rows[0]!.n);
  const check = async (when: string) => {
    const latest = await latestBalanceRows(desk);
    const before = (await db.sql.query<{ connectionId: string; amountMinor: string | bigint; at: Date }>(BEFORE_RAW)).rows;
    const same =
      latest.length === before.length &&
      before.every((b) => latest.some((l) => l.connectionId === b.connectionId && String(l.amountMinor) === String(b.amountMinor) && l.at.getTime() === new Date(b.at).getTime()));
    if (!same) {
      ok = false;
      console.log(`MISMATCH ${when}: BalanceLatest gives ${latest.length} rows, the snapshots' newest ${before.length}`);
    }
  };
  await check("after seeding");

  const line = (name: string, f: { p50: number; p95: number }) => console.log(`${name.padEnd(58)}${ms(f.p50)} ${ms(f.p95)}`);
  const reads = async (title: string) => {
    console.log(`\n${title.padEnd(58)}${"p50".padStart(11)} ${"p95".padStart(11)}`);
    line("latest balances: latestBalanceRows (app, Prisma)", await timed(opts.runs, () => latestBalanceRows(desk)));
    line("  the same read, raw SQL", await timed(opts.runs, () => db.sql.query(LATEST_RAW)));
    line("Balances page: balanceOverview (app, with payouts)", await timed(opts.runs, () => balanceOverview(desk)));
    line("before: newest snapshot among all (raw SQL)", await timed(Math.max(3, Math.floor(opts.runs / 8)), () => db.sql.query(BEFORE_RAW)));
  };
  await reads(`reads at ${count(await snapshotCount())} snapshots`);

  // The thinning's statements timed one by one: none may hold the database long (PGlite answers one query at a time).
  let longest = 0;
  let statements = 0;
  const timedPrisma = new Proxy(db.prisma, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop !== "$executeRaw" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<number>).apply(target, args);
        } finally {
          longest = Math.max(longest, performance.now() - started);
          statements++;
        }
      };
    },
  });
  const thinDesk = { ...desk, db: timedPrisma } as unknown as Desk;
  const beforeThin = await snapshotCount();
  const t1 = performance.now();
  const thinned = await thinBalanceSnapshots(thinDesk, now);
  const firstStatements = statements;
  const firstLongest = longest;
  const thinMs = performance.now() - t1;
  const afterThin = await snapshotCount();
  const t2 = performance.now();
  const again = await thinBalanceSnapshots(desk, now);
  const againMs = performance.now() - t2;
  console.log(
    `\nthinning (zone ${thinned.timeZone}): ${count(beforeThin)} → ${count(afterThin)} snapshot rows ` +
      `(hourly tier deleted ${count(thinned.hourlyDeleted)}, daily tier ${count(thinned.dailyDeleted)}) in ${(thinMs / 1000).toFixed(2)} s; ` +
      `${firstStatements} statements, the longest ${firstLongest.toFixed(0)} ms; ` +
      `a second run deleted ${count(again.hourlyDeleted + again.dailyDeleted)} in ${againMs.toFixed(0)} ms`,
  );
  if (again.hourlyDeleted + again.dailyDeleted !== 0 || beforeThin - afterThin !== thinned.hourlyDeleted + thinned.dailyDeleted) ok = false;
  await db.sql.query(`ANALYZE "BalanceSnapshot"`);
  await check("after thinning");
  await reads(`reads after thinning, ${count(afterThin)} snapshots`);
  return ok;
}

async function main() {
  const opts = { connections: arg("connections", 5), days: arg("days", 365), every: arg("every", 300), runs: arg("runs", 40), tail: arg("tail", 288) };
  const { createDb } = await import("@/server/db/client");
  let ok = true;
  const admin = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!process.argv.includes("--no-pg")) {
    if (!admin) throw new Error("bench:balances needs BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin connection string to PostgreSQL), or --no-pg");
    process.env.TEST_DATABASE_URL = admin;
    const { createScratchPostgresDatabase } = await import("@/server/db/testing");
    const scratch = await createScratchPostgresDatabase();
    try {
      const db = await createDb({ databaseUrl: scratch.url, max: 4 });
      try {
        ok = (await benchOne("PostgreSQL", db, opts)) && ok;
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
      ok = (await benchOne("PGlite (embedded default)", db, opts)) && ok;
    } finally {
      await db.close();
    }
  }
  console.log(`\ntarget: the latest balances read in at most 10 ms at a year of snapshots (525,600 rows: 5 connections, a read every 300 s)`);
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
