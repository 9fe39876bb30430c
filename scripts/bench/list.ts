// npm run bench:list [-- --db pglite|postgres|both --rows N --runs 25]
//
// The payouts list at size (issue 10): seeds 1,000,000 payouts with about four
// events each on PostgreSQL (a database made for the bench on the
// TEST_DATABASE_URL server, dropped after) and 100,000 on PGlite (in memory),
// with INSERT … SELECT FROM generate_series (indexes dropped while loading,
// then made again, as a bulk load would), ANALYZEs, then times for each case:
//   app: listPayouts / listTotals, the service functions the tRPC router calls
//        (one statement, through the driver the desk holds beside Prisma,
//        db/raw.ts rawRows; rows mapped for the page);
//   raw: the very same statement through the plain driver (pg / PGlite);
// in turn, in the same run, and prints p50 / p95 of each beside the other,
// with the EXPLAIN of every statement. It fails loudly (exit 1) when a plan
// reads the payouts table with a Seq Scan, or a case finds the wrong rows.
// Targets: p95 at most 50 ms on PostgreSQL at 1M, the app at most 2x the raw SQL.
import { createHash } from "node:crypto";
import { createTestDatabase, testDatabases, type TestDatabaseKind } from "@/server/db/testing";
import { startTestDesk } from "@/server/testing/desk";
import { seedAtSize, seededId, seededRow, seededStatus } from "@/server/testing/payout-list-seed";
import { listPageSql, listPayouts, listTotals, listTotalsQuery, resolveListFilters, type PayoutFilters } from "@/server/services/payout-list";
import type { PayoutListOrder } from "@/server/domain/payout-list-params";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const dbArg = arg("db", "both");
const kinds: TestDatabaseKind[] = dbArg === "both" ? testDatabases() : [dbArg as TestDatabaseKind];
if (kinds.includes("postgres") && !process.env.TEST_DATABASE_URL) {
  throw new Error("bench:list on PostgreSQL needs TEST_DATABASE_URL (a server where it may create and drop a database), e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres");
}
const runs = Number(arg("runs", "25"));
const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const PAGE = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => `${n.toFixed(2).padStart(8)} ms`;

interface Case {
  name: string;
  filters: PayoutFilters;
  cursor?: string;
  totals?: boolean;
  /** A check of what the page found. */
  expect?: (ids: string[]) => boolean;
}

function cursorOf(order: Required<PayoutListOrder>, row: { createdAt: Date; id: string; currency: string; amountMinor: bigint; status: string }): string {
  return Buffer.from(
    JSON.stringify({ sort: order.sort, direction: order.direction, createdAt: row.createdAt.toISOString(), id: row.id, currency: row.currency, amountMinor: row.amountMinor.toString(), status: row.status }),
  ).toString("base64url");
}

let failed = false;

for (const kind of kinds) {
  const rows = Number(arg("rows", kind === "postgres" ? "1000000" : "100000"));
  console.log(`\n== ${kind}: ${rows.toLocaleString("en")} payouts, ~4 events each ==`);
  const db = await createTestDatabase(kind);
  const t = await startTestDesk(kind, { database: db });
  try {
    const s = await seedAtSize(db, t, rows);
    const { rows: [count] } = await db.sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM "PayoutEvent"`);
    console.log(`  ${Number(count!.n).toLocaleString("en")} events`);

    // The row 1,000 pages down the default order (newest first: row g is the g-th newest).
    const deep = 1000 * PAGE;
    const target = Math.floor(rows / 2) + 7;
    const rowAt = async (g: number) =>
      (await t.desk.db.payout.findUniqueOrThrow({ where: { id: seededId(g, md5) }, select: { createdAt: true, id: true, currency: true, amountMinor: true, status: true } }));
    const deepRow = await rowAt(Math.min(deep, rows - 100));
    const midRow = await rowAt(target);
    const failedG = [...Array(200).keys()].map((i) => target + i).find((g) => seededStatus(g) === "failed")!;
    const failedRow = await rowAt(failedG);
    const targetId = seededId(target, md5);
    const row = seededRow(target);
    const referenceG = [...Array(200).keys()].map((i) => target + i).find((g) => seededRow(g).reference)!;
    const has = (id: string) => (ids: string[]) => ids.includes(id);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const cases: Case[] = [
      { name: "first page", filters: {}, expect: (ids) => ids.length === PAGE && ids[0] === seededId(1, md5) },
      { name: "page at depth 1,000", filters: {}, cursor: cursorOf({ sort: "created", direction: "desc" }, deepRow), expect: (ids) => ids[0] === seededId(Math.min(deep, rows - 100) + 1, md5) },
      { name: "status failed, deep", filters: { status: ["failed"] }, cursor: cursorOf({ sort: "created", direction: "desc" }, midRow), expect: (ids) => ids.length === PAGE },
      { name: "statuses failed+unknown+expired", filters: { status: ["failed", "unknown", "expired"] }, expect: (ids) => ids.length === PAGE },
      { name: "connection", filters: { connectionId: s.connectionIds[1] }, expect: (ids) => ids.length === PAGE },
      { name: "batch", filters: { batchId: s.batchId }, expect: (ids) => ids.length === PAGE },
      { name: "dates (3 days)", filters: { createdFrom: day(midRow.createdAt), createdTo: day(new Date(midRow.createdAt.getTime() + 2 * 86400_000)) }, expect: (ids) => ids.length === PAGE },
      { name: "amount range ZMW 100-150", filters: { currency: "ZMW", amountMin: "100", amountMax: "150" }, expect: (ids) => ids.length > 0 },
      { name: "attention", filters: { attention: true }, expect: (ids) => ids.length > 0 },
      { name: "sort amount, deep", filters: { sort: "amount", direction: "desc" }, cursor: cursorOf({ sort: "amount", direction: "desc" }, midRow), expect: (ids) => ids.length === PAGE },
      { name: "sort status, deep", filters: { sort: "status", direction: "asc" }, cursor: cursorOf({ sort: "status", direction: "asc" }, failedRow), expect: (ids) => ids.length === PAGE },
      { name: "search id", filters: { search: targetId }, expect: (ids) => ids.length === 1 && ids[0] === targetId },
      { name: "search id prefix (8)", filters: { search: targetId.slice(0, 8) }, expect: has(targetId) },
      { name: "search reference", filters: { search: seededRow(referenceG).reference! }, expect: (ids) => ids.length === 1 && ids[0] === seededId(referenceG, md5) },
      { name: "search phone (local layout)", filters: { search: `0${row.phone.slice(3, 5)} ${row.phone.slice(5, 8)} ${row.phone.slice(8)}` }, expect: has(targetId) },
      { name: "search name", filters: { search: row.name }, expect: (ids) => ids.length === PAGE || ids.includes(targetId) },
      { name: "search invoice text", filters: { search: `INV-${String(target).padStart(7, "0")}` }, expect: (ids) => ids.length === 1 && ids[0] === targetId },
      { name: "totals, no filter (rollups)", filters: {}, totals: true },
      { name: "totals, status failed (rollups)", filters: { status: ["failed"] }, totals: true },
      { name: "totals, one UTC day (rollups)", filters: { createdFrom: day(midRow.createdAt), createdTo: day(midRow.createdAt), timeZone: "UTC" }, totals: true },
      { name: "totals, one day in Lusaka (capped)", filters: { createdFrom: day(midRow.createdAt), createdTo: day(midRow.createdAt), timeZone: "Africa/Lusaka" }, totals: true },
      { name: "totals, search name (capped)", filters: { search: row.name }, totals: true },
    ];

    const header = `  ${"case".padEnd(34)} ${"app p50".padStart(11)} ${"app p95".padStart(11)} ${"raw p50".padStart(11)} ${"raw p95".padStart(11)}  app/raw p50`;
    const lines: string[] = [];
    const plans: string[] = [];
    for (const c of cases) {
      const { sort, direction, ...filters } = c.filters;
      const resolved = resolveListFilters(filters);
      const sql = c.totals ? listTotalsQuery(resolved) : listPageSql(resolved, { sort, direction }, c.cursor, PAGE + 1);
      const plan = (await db.sql.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql.text}`, sql.values)).rows.map((r) => r["QUERY PLAN"]).join("\n");
      plans.push(`-- ${c.name}\n${plan}`);
      if (/Seq Scan on "Payout"/.test(plan)) {
        failed = true;
        console.error(`\n!! ${kind} "${c.name}" reads the payouts table with a Seq Scan:\n${plan}\n`);
      }
      const app = async () => {
        if (c.totals) return void (await listTotals(t.desk, filters));
        const page = await listPayouts(t.desk, c.filters, { cursor: c.cursor, limit: PAGE });
        if (c.expect && !c.expect(page.items.map((p) => p.id))) throw new Error(`${kind} "${c.name}": the page found the wrong payouts`);
      };
      const raw = () => db.sql.query(sql.text, sql.values);
      for (let i = 0; i < 3; i++) {
        await app();
        await raw();
      }
      const appTimes: number[] = [];
      const rawTimes: number[] = [];
      for (let i = 0; i < runs; i++) {
        let started = performance.now();
        await app();
        appTimes.push(performance.now() - started);
        started = performance.now();
        await raw();
        rawTimes.push(performance.now() - started);
      }
      appTimes.sort((a, b) => a - b);
      rawTimes.sort((a, b) => a - b);
      const a50 = percentile(appTimes, 50), a95 = percentile(appTimes, 95), r50 = percentile(rawTimes, 50), r95 = percentile(rawTimes, 95);
      const flags = [kind === "postgres" && a95 > 50 ? "p95>50ms" : "", a50 > 2 * r50 ? "app>2x raw" : ""].filter(Boolean).join(" ");
      lines.push(`  ${c.name.padEnd(34)} ${ms(a50)} ${ms(a95)} ${ms(r50)} ${ms(r95)}  ${(a50 / r50).toFixed(2).padStart(5)}x ${flags}`);
      console.log(lines.at(-1));
    }
    console.log(`\n${kind} summary (${rows.toLocaleString("en")} payouts, ${runs} runs each, app = service function, raw = same SQL through the driver):\n${header}\n${lines.join("\n")}`);
    console.log(`\n${kind} plans:\n${plans.join("\n\n")}`);
  } catch (error) {
    failed = true;
    console.error(error);
  } finally {
    // Closes the desk and drops its database (PostgreSQL) or frees it (PGlite).
    await t.close();
  }
}

if (failed) {
  console.error("\nbench:list FAILED: a plan scans the payouts table, or a case found the wrong rows (see above).");
  process.exit(1);
}
process.exit(0);
