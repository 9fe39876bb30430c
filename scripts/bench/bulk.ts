// npm run bench:bulk [-- --rows 10000 --formats csv,xlsx --db pglite|postgres|both]
//
// The time to check a bulk file: a payroll of --rows rows for the built-in
// pawaPay connection (2 % of them bad: an amount with too many decimals, a
// number of the wrong country, an empty description, in turn), made as CSV and
// as XLSX with the libraries a spreadsheet export uses, uploaded as a maker
// would (uploadBatch: hash, store, then the background check) and timed from
// the upload until every row is checked through checkPayoutInput with its
// duplicate lookups. Also times creating the valid rows' payouts.
//
// A figure, not a test: it exits non-zero on a wrong count, never on speed.
// Target (issue 9): 10,000 rows checked in at most 10 s on 2 cores.
import ExcelJS from "exceljs";
import { stringify } from "csv-stringify/sync";
import { testDatabases, type TestDatabaseKind } from "@/server/db/testing";
import { startTestDesk } from "@/server/testing/desk";
import { createBatch, getBatch, settled, uploadBatch } from "@/server/services/batches";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const rows = Number(arg("rows", "10000"));
if (!Number.isInteger(rows) || rows <= 0 || rows > 50_000) throw new Error("--rows takes a whole number from 1 to 50,000");
const formats = arg("formats", "csv,xlsx").split(",") as Array<"csv" | "xlsx">;
const dbArg = arg("db", "pglite");
const kinds: TestDatabaseKind[] = dbArg === "both" ? testDatabases() : [dbArg as TestDatabaseKind];

const HEADER = ["amount", "currency", "recipient_phone", "recipient_name", "description"];
const BAD_EVERY = 50; // 2 %

function payroll(): string[][] {
  const out: string[][] = [HEADER];
  for (let i = 0; i < rows; i++) {
    const amount = `${100 + (i % 900)}.${String(i % 100).padStart(2, "0")}`;
    const phone = `2607634${String(i).padStart(5, "0")}`;
    const row = [amount, "ZMW", phone, `Employee ${i}`, "Salary May"];
    if (i % BAD_EVERY === 7) {
      const kind = Math.floor(i / BAD_EVERY) % 3;
      if (kind === 0) row[0] = "12.345";
      else if (kind === 1) row[2] = "256772123456";
      else row[4] = "";
    }
    out.push(row);
  }
  return out;
}

async function fileOf(format: "csv" | "xlsx", table: string[][]): Promise<Buffer> {
  if (format === "csv") return Buffer.from(stringify(table, { bom: true, record_delimiter: "windows" }));
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet("Payouts");
  for (const row of table) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

let wrong = false;
const table = payroll();
const expectedInvalid = table.slice(1).filter((_, i) => i % BAD_EVERY === 7).length;
for (const kind of kinds) {
  const t = await startTestDesk(kind);
  try {
    for (const format of formats) {
      const bytes = await fileOf(format, table);
      const started = Date.now();
      const { batchId, validation } = await uploadBatch(t.desk, t.users.maker, {
        fileName: `bench.${format}`,
        bytes,
        connectionId: t.pawapayConnectionId,
        dryRun: false,
        confirmSameFile: true,
      });
      await validation;
      const checked = Date.now() - started;
      const batch = await getBatch(t.desk, t.users.maker, batchId);
      console.log(
        `${kind} ${format.toUpperCase()} (${(bytes.length / 1024 / 1024).toFixed(1)} MB): ${rows.toLocaleString("en")} rows checked in ${secs(checked)} ` +
          `(${Math.round(rows / (checked / 1000)).toLocaleString("en")} rows/s); ${batch.counts.valid.toLocaleString("en")} valid, ${batch.counts.invalid.toLocaleString("en")} invalid`,
      );
      if (batch.phase !== "validated" || batch.counts.rows !== rows || batch.counts.invalid !== expectedInvalid) {
        console.error(`  wrong: expected ${rows} rows with ${expectedInvalid} invalid, got ${batch.phase} ${JSON.stringify(batch.counts)} ${batch.problems.join("; ")}`);
        wrong = true;
        continue;
      }
      if (format !== formats[0]) continue; // creating once per database is enough
      const createStarted = Date.now();
      await createBatch(t.desk, t.users.maker, { id: batchId, includeDuplicates: false });
      await settled(t.desk, batchId);
      const created = await t.desk.db.payout.count({ where: { batchId } });
      console.log(`${kind} created ${created.toLocaleString("en")} payouts in ${secs(Date.now() - createStarted)}`);
      if (created !== rows - expectedInvalid) {
        console.error(`  wrong: expected ${rows - expectedInvalid} payouts`);
        wrong = true;
      }
    }
  } finally {
    await t.close();
  }
}
process.exit(wrong ? 1 : 0);
