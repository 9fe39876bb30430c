// npm run bench:export [-- --rows 1000000 --pdf-rows 10000 --formats csv,xlsx,pdf --page 3000 --keep]
//
// Statement exports at scale on PostgreSQL (BENCH_DATABASE_URL or
// TEST_DATABASE_URL, an admin connection string): seeds --rows payouts of one
// connection in a scratch database with generate_series, then streams each
// writer over keyset-paged reads (server/exports/paged-rows.ts: ORDER BY
// finalizedAt, id after a row-value cursor, --page rows a page) into a sink
// that only counts bytes. Each format runs in a node process of its own, so
// its peak RSS is its own (the kernel's high-water mark, getrusage maxrss, in
// MiB): CSV and XLSX over all rows, with rows/s and peak RSS at 100k rows and
// at the end; the PDF over its first --pdf-rows rows, timed.
//
// BENCH_TRACE=1 prints each format's memory (RSS, heap, buffers) every 100,000 rows.
// --keep leaves the scratch database (its URL is printed) so one format can be
// rerun or profiled alone:
//   node -r tsx/cjs -e 'require("./scripts/bench/export.ts").child(require("./server/exports/csv.ts").csvWriter)' \
//     -- --child csv --url <url> --limit 1000000
//
// Figures, not a test: it exits non-zero on a wrong row count or a failed
// export, never on speed. Targets (issue 7): CSV ≥ 50,000 rows/s, XLSX ≥
// 15,000 rows/s, peak RSS ≤ 256 MB and flat from 100k to 1M; PDF of 10,000
// rows ≤ 30 s.
import { spawn } from "node:child_process";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { DEFAULT_PAGE_SIZE, pagedRows } from "@/server/exports/paged-rows";
import type { ExportFormat, ExportInput, ExportRow, ExportWriter, StatementSummary } from "@/server/exports/types";

/**
 * Each format's process loads only that format's writer (a process writing a
 * CSV never loads exceljs or pdfkit): the file and the name it exports.
 */
const WRITERS: Record<ExportFormat, [file: string, name: string]> = {
  csv: ["server/exports/csv.ts", "csvWriter"],
  xlsx: ["server/exports/xlsx.ts", "xlsxWriter"],
  pdf: ["server/exports/pdf.ts", "pdfWriter"],
  camt053: ["server/exports/camt053.ts", "camt053Writer"],
};

const CONNECTION_ID = "0e5b2c1a-7d3f-4b8e-9a6c-5f4e3d2c1b0a";
const CONNECTION_NAME = "Paytota bench";
const CURRENCY = "UGX";
const PERIOD_FROM = new Date("2026-02-01T00:00:00.000Z");
const PERIOD_TO = new Date("2026-03-01T00:00:00.000Z");
const CHECKPOINT = 100_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function positive(name: string, fallback: number): number {
  const n = Number(arg(name, String(fallback)));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive whole number`);
  return n;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
/** Peak resident set size of this process so far (the kernel's high-water mark), in bytes. */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

// ---------------------------------------------------------------- the reader

type Cursor = { finalizedAt: Date; id: string };

interface PayoutRecord {
  id: string;
  createdAtMs: number;
  finalizedAtMs: number;
  status: string;
  amountMinor: string;
  feeMinor: string | null;
  feeCurrency: string | null;
  debitedMinor: string | null;
  debitedCurrency: string | null;
  recipientName: string | null;
  recipientPhone: string | null;
  description: string;
  providerReference: string | null;
  failureCode: string | null;
  failureMessage: string | null;
}

// Instants are read as epoch milliseconds: pg's parsing of timestamptz text into a Date
// (postgres-date) was a sixth of the CSV export's time; a float8 of milliseconds is exact.
const COLUMNS = `p.id, (extract(epoch FROM p."createdAt") * 1000)::float8 AS "createdAtMs",
  (extract(epoch FROM p."finalizedAt") * 1000)::float8 AS "finalizedAtMs", p.status::text AS status, p."amountMinor", p."feeMinor", p."feeCurrency",
  p."debitedMinor", p."debitedCurrency", p."recipientName", p."recipientPhone", p.description, p."providerReference",
  p."failureCode", p."failureMessage"`;
const SCOPE = `p."connectionId" = $1 AND p.currency = $2 AND p."finalizedAt" >= $3 AND p."finalizedAt" < $4`;
// The row-value comparison lets PostgreSQL start the index scan at the cursor
// (on the ("connectionId", currency, "finalizedAt") index it bounds
// "finalizedAt" and sorts ties by id incrementally), so every page costs the same.
const FIRST_PAGE = `SELECT ${COLUMNS} FROM "Payout" p WHERE ${SCOPE} ORDER BY p."finalizedAt", p.id LIMIT $5`;
const NEXT_PAGE = `SELECT ${COLUMNS} FROM "Payout" p WHERE ${SCOPE} AND (p."finalizedAt", p.id) > ($6, $7::uuid) ORDER BY p."finalizedAt", p.id LIMIT $5`;

function toExportRow(r: PayoutRecord): ExportRow {
  return {
    payoutId: r.id,
    createdAt: new Date(r.createdAtMs),
    finalizedAt: new Date(r.finalizedAtMs),
    status: r.status,
    connectionName: CONNECTION_NAME,
    provider: "paytota",
    currency: CURRENCY,
    amountMinor: BigInt(r.amountMinor),
    feeMinor: r.feeMinor === null ? null : BigInt(r.feeMinor),
    feeCurrency: r.feeCurrency,
    debitedMinor: r.debitedMinor === null ? null : BigInt(r.debitedMinor),
    debitedCurrency: r.debitedCurrency,
    destinationMinor: null,
    destinationCurrency: null,
    fxRate: null,
    recipientName: r.recipientName,
    recipientPhone: r.recipientPhone,
    recipientAccount: null,
    description: r.description,
    providerReference: r.providerReference,
    failureCode: r.failureCode,
    failureMessage: r.failureMessage,
  };
}

function statementRows(pool: pg.Pool, pageSize: number) {
  const scope = [CONNECTION_ID, CURRENCY, PERIOD_FROM, PERIOD_TO, pageSize];
  return pagedRows<ExportRow, Cursor>({
    pageSize,
    fetchPage: async (after) => {
      const result = after
        ? await pool.query<PayoutRecord>(NEXT_PAGE, [...scope, after.finalizedAt, after.id])
        : await pool.query<PayoutRecord>(FIRST_PAGE, scope);
      return result.rows.map(toExportRow);
    },
    cursorOf: (row) => ({ finalizedAt: row.finalizedAt!, id: row.payoutId }),
  });
}

async function summaryOf(pool: pg.Pool): Promise<StatementSummary> {
  const { rows } = await pool.query<{ status: string; count: string; amount: string; fees: string; no_fee: string }>(
    `SELECT p.status::text AS status, count(*) AS count, sum(p."amountMinor") AS amount,
            coalesce(sum(p."feeMinor"), 0) AS fees, count(*) FILTER (WHERE p."feeMinor" IS NULL) AS no_fee
       FROM "Payout" p WHERE ${SCOPE} GROUP BY 1 ORDER BY 1`,
    [CONNECTION_ID, CURRENCY, PERIOD_FROM, PERIOD_TO],
  );
  const of = (status: string) => rows.find((r) => r.status === status);
  return {
    currency: CURRENCY,
    balanceReported: false,
    opening: null,
    closing: null,
    settled: rows.map((r) => ({ status: r.status, count: Number(r.count), amountMinor: BigInt(r.amount) })),
    paidMinor: BigInt(of("succeeded")?.amount ?? 0),
    feesMinor: rows.reduce((sum, r) => sum + BigInt(r.fees), 0n),
    feesNotReported: rows.reduce((sum, r) => sum + Number(r.no_fee), 0),
    reversalsMinor: BigInt(of("reversed")?.amount ?? 0),
    inFlightAtEnd: { count: 0, amountMinor: 0n },
    unexplainedMinor: null,
  };
}

// ---------------------------------------------------------------- one format, in its own process

interface Figures {
  format: ExportFormat;
  rows: number;
  bytes: number;
  seconds: number;
  peakRss: number;
  checkpoint: { rows: number; seconds: number; peakRss: number } | null;
}

async function runFormat(writer: ExportWriter, url: string, limit: number, pageSize: number): Promise<Figures> {
  const format = writer.format;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const summary = await summaryOf(pool);
    const started = performance.now();
    let rows = 0;
    let bytes = 0;
    let checkpoint: Figures["checkpoint"] = null;
    const counted = (): AsyncIterable<ExportRow> => ({
      async *[Symbol.asyncIterator]() {
        rows = 0;
        for await (const row of statementRows(pool, pageSize)) {
          yield row;
          rows += 1;
          if (rows === CHECKPOINT) checkpoint = { rows, seconds: (performance.now() - started) / 1000, peakRss: peakRss() };
          if (process.env.BENCH_TRACE && rows % 100_000 === 0) {
            const m = process.memoryUsage();
            console.error(`${rows} rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} peak ${mb(peakRss())} out ${mb(bytes)} t ${((performance.now() - started) / 1000).toFixed(1)}`);
          }
          if (rows === limit) break;
        }
      },
    });
    const input: ExportInput = {
      meta: {
        kind: "statement",
        merchantName: "Bench Merchant Ltd",
        connectionLabel: CONNECTION_NAME,
        currency: CURRENCY,
        periodFrom: PERIOD_FROM,
        periodTo: PERIOD_TO,
        timeZone: "Africa/Kampala",
        generatedAt: new Date(),
        generatedBy: "bench:export",
      },
      sections: [{ connectionId: CONNECTION_ID, connectionName: CONNECTION_NAME, provider: "paytota", summary, rows: counted }],
      total: summary,
      rows: counted,
    };
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    });
    await writer.write(input, sink);
    return { format, rows, bytes, seconds: (performance.now() - started) / 1000, peakRss: peakRss(), checkpoint };
  } finally {
    await pool.end();
  }
}

function runChild(format: ExportFormat, url: string, limit: number, pageSize: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    // tsx's CommonJS hook compiles the TypeScript in the process itself; its ESM loader would
    // add a loader thread (about 30 MB) to every figure, which a built server does not carry.
    const [file, name] = WRITERS[format];
    const code = `require(${JSON.stringify(path.resolve("scripts/bench/export.ts"))}).child(require(${JSON.stringify(path.resolve(file))}).${name})`;
    const child = spawn(
      process.execPath,
      ["--require", "tsx/cjs", "--eval", code, "--", "--child", format, "--url", url, "--limit", String(limit), "--page", String(pageSize)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("FIGURES "));
      if (code !== 0 || !line) reject(new Error(`the ${format} export process ended with ${code}:\n${out}`));
      else resolve(JSON.parse(line.slice("FIGURES ".length)) as Figures);
    });
  });
}

// ---------------------------------------------------------------- seeding

async function seed(pool: pg.Pool, count: number) {
  const userId = "5d6c7b8a-9f0e-4d1c-8b2a-3e4f5a6b7c8d";
  await pool.query(
    `INSERT INTO "User" (id, email, name, role, "passwordHash", "updatedAt") VALUES ($1, 'bench@desk.example', 'Bench', 'maker', 'x', now())`,
    [userId],
  );
  await pool.query(
    `INSERT INTO "Connection" (id, provider, name, environment, "baseUrl", credentials, "updatedAt")
     VALUES ($1, 'paytota', $2, 'sandbox', 'http://127.0.0.1:1', 'x', now())`,
    [CONNECTION_ID, CONNECTION_NAME],
  );
  // One statement, set-based: payouts spread evenly over the period, mostly
  // succeeded, some failed (no fee reported) and reversed, a few names in
  // other scripts (the PDF must draw them).
  await pool.query(
    `INSERT INTO "Payout" (id, "connectionId", "amountMinor", currency, "recipientPhone", "recipientName", description, status,
                           "providerReference", "failureCode", "failureMessage", "createdById", "createdAt", "updatedAt",
                           "submittedAt", "finalizedAt", "feeMinor", "feeCurrency", "debitedMinor", "debitedCurrency")
     SELECT gen_random_uuid(), $1, amount, 'UGX', '2567' || lpad((g % 100000000)::text, 8, '0'),
            CASE g % 50 WHEN 0 THEN 'अमित शर्मा' WHEN 1 THEN '王小明' WHEN 2 THEN 'محمد علي' WHEN 3 THEN 'ተስፋዬ ገብሩ' ELSE 'Recipient ' || g END,
            'Invoice ' || g || ' for goods delivered',
            status, 'PT-' || lpad(g::text, 9, '0'),
            CASE WHEN status = 'failed' THEN 'insufficient_funds' END,
            CASE WHEN status = 'failed' THEN 'The account balance is too low' END,
            $2, created, created + interval '1 minute', created + interval '5 seconds', created + interval '1 minute',
            fee, CASE WHEN fee IS NULL THEN NULL ELSE 'UGX' END, amount + fee, CASE WHEN fee IS NULL THEN NULL ELSE 'UGX' END
       FROM (SELECT g,
                    500 + (g::bigint * 7919) % 2000000 AS amount,
                    (CASE WHEN g % 20 = 0 THEN 'failed' WHEN g % 97 = 0 THEN 'reversed' ELSE 'succeeded' END)::"PayoutStatus" AS status,
                    CASE WHEN g % 20 = 0 THEN NULL ELSE 500 + (g % 7) * 100 END AS fee,
                    $3::timestamptz + (g - 1) * (($4::timestamptz - $3::timestamptz - interval '2 minutes') / $5::int) AS created
               FROM generate_series(1, $5::int) AS g) AS s`,
    [CONNECTION_ID, userId, PERIOD_FROM, PERIOD_TO, count],
  );
  await pool.query(`VACUUM ANALYZE "Payout"`);
}

// ---------------------------------------------------------------- main

/** The body of a per-format process (see runChild), given its writer. */
export function child(writer: ExportWriter) {
  runFormat(writer, arg("url", ""), positive("limit", 1), positive("page", DEFAULT_PAGE_SIZE)).then(
    (figures) => process.stdout.write(`FIGURES ${JSON.stringify(figures)}\n`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

async function main() {
  const total = positive("rows", 1_000_000);
  const pdfRows = positive("pdf-rows", 10_000);
  const pageSize = positive("page", DEFAULT_PAGE_SIZE);
  const formats = arg("formats", "csv,xlsx,pdf").split(",") as ExportFormat[];
  for (const format of formats) if (!(format in WRITERS)) throw new Error(`--formats: csv, xlsx, pdf or camt053, not "${format}"`);
  const admin = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error("bench:export needs BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin connection string to PostgreSQL)");
  process.env.TEST_DATABASE_URL = admin; // createScratchPostgresDatabase makes its database on this server
  const { createScratchPostgresDatabase } = await import("@/server/db/testing");
  const { createDb } = await import("@/server/db/client");

  const scratch = await createScratchPostgresDatabase();
  let failed = false;
  try {
    const db = await createDb({ databaseUrl: scratch.url, max: 2 });
    try {
      const t = performance.now();
      process.stdout.write(`seeding ${total.toLocaleString("en-US")} payouts… `);
      await seed(db.pool!, total);
      console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);
      const plan = await db.pool!.query<{ "QUERY PLAN": string }>(
        `EXPLAIN ${NEXT_PAGE}`,
        [CONNECTION_ID, CURRENCY, PERIOD_FROM, PERIOD_TO, pageSize, new Date("2026-02-15T00:00:00Z"), "00000000-0000-4000-8000-000000000000"],
      );
      console.log(`a page after a cursor:\n${plan.rows.map((r) => `  ${r["QUERY PLAN"]}`).join("\n")}`);
    } finally {
      await db.close();
    }

    console.log(`\nformat  rows        seconds    rows/s   peak RSS   bytes`);
    for (const format of formats) {
      const limit = format === "pdf" ? Math.min(pdfRows, total) : total;
      const f = await runChild(format, scratch.url, limit, pageSize);
      if (f.rows !== limit) {
        failed = true;
        console.log(`${format}: wrote ${f.rows} rows, expected ${limit}`);
      }
      const line = (rows: number, seconds: number, rss: number, bytes?: number) =>
        `${format.padEnd(7)} ${rows.toLocaleString("en-US").padEnd(11)} ${seconds.toFixed(1).padStart(7)} ${Math.round(rows / seconds).toLocaleString("en-US").padStart(9)}  ${mb(rss).padStart(8)}` +
        (bytes === undefined ? "" : `   ${bytes.toLocaleString("en-US")}`);
      if (f.checkpoint) console.log(line(f.checkpoint.rows, f.checkpoint.seconds, f.checkpoint.peakRss));
      console.log(line(f.rows, f.seconds, f.peakRss, f.bytes));
    }
    console.log(`\ntargets: csv ≥ 50,000 rows/s, xlsx ≥ 15,000 rows/s, peak RSS ≤ 256 MiB and flat 100k → 1M, pdf of 10,000 rows ≤ 30 s`);
  } catch (error) {
    failed = true;
    console.error(error);
  } finally {
    if (process.argv.includes("--keep")) console.log(`kept the database: ${scratch.url}`);
    else await scratch.drop();
  }
  process.exit(failed ? 1 : 0);
}

// No top-level await: the per-format processes load this file as CommonJS (see runChild) and call child().
if (!process.argv.includes("--child")) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
