// npm run bench:batch [-- --rows 10000 --workers 2 --db both|pglite|postgres] [--decision-only]
//
// A bulk file from upload to every payout final, against the built-in
// emulators over real HTTP (issue 9 §3): a --rows payroll CSV for the pawaPay
// sandbox connection, uploaded and checked as a maker's (uploadBatch), its
// payouts created (createBatch), then approved as one batch by the approver
// through the tRPC procedures (batchPreview, then approveBatch with the
// acknowledgements the card asks for: one decision, one step-up), and sent by
// the workers: in the desk's own process on PGlite (as `npm start` runs), in
// separate `npm run workers` processes on PostgreSQL (as deployed at scale).
// Printed: upload and validation time (target ≤ 10 s), approval to all final
// (target ≤ 120 s), and payouts the emulators hold twice (must be 0).
//
// pawaPay only: its sandbox takes any valid Zambian number and has no rate
// limit. Muda is left out on purpose: it allows 100 requests a minute per
// connection (the desk paces it), so 10,000 rows would take over 100 minutes
// whatever the desk does.
//
// --decision-only: no workers, nothing sent; times the batch decision alone
// (what it costs without the sends competing for the same cores).
//
// A figure, not a test: it exits non-zero on a wrong count or a duplicate,
// never on speed.
import { stringify } from "csv-stringify/sync";
import { isFinal, PAYOUT_STATUSES } from "@/server/domain/payout-state";
import { createBatch, getBatch, settled, uploadBatch } from "@/server/services/batches";
import {
  type Desk,
  describeNotFinal,
  duplicatesAtProviders,
  noSenders,
  numberArg,
  openDesk,
  postgresAdminUrl,
  sleep,
  startSenders,
  stopSenders,
  stringArg,
} from "../lib/pipeline-kit";

const rows = numberArg("rows", 10_000);
const workerCount = numberArg("workers", 2);
const which = stringArg("db", postgresAdminUrl() ? "both" : "pglite");
const decisionOnly = process.argv.includes("--decision-only");
if (!Number.isInteger(rows) || rows > 50_000) throw new Error("--rows takes a whole number from 1 to 50,000");

/** A payroll: distinct Zambian MTN numbers the pawaPay sandbox completes, amounts from 100.00 to 999.99 ZMW. */
function payroll(): Buffer {
  const table: string[][] = [["amount", "currency", "recipient_phone", "recipient_name", "description"]];
  for (let i = 0; i < rows; i++) {
    table.push([`${100 + (i % 900)}.${String(i % 100).padStart(2, "0")}`, "ZMW", `2607634${String(i).padStart(5, "0")}`, `Employee ${i}`, "Salary May"]);
  }
  return Buffer.from(stringify(table, { bom: true, record_delimiter: "windows" }));
}

interface Figures {
  db: string;
  uploadSeconds: number;
  createSeconds: number;
  approveSeconds: number;
  finalSeconds: number;
  approved: number;
  notFinal: number;
  statuses: Record<string, number>;
  duplicates: number;
}

const FINALS = [...PAYOUT_STATUSES].filter((s) => isFinal(s));

async function run(kind: "pglite" | "postgres"): Promise<Figures> {
  const desk: Desk = await openDesk(kind);
  const senders = noSenders();
  try {
    const { t } = desk;
    t.desk.connectorDeps = { timeoutMs: 15_000 };
    const bytes = payroll();

    const uploadStarted = Date.now();
    const { batchId, validation } = await uploadBatch(t.desk, t.users.maker, { fileName: "payroll-may.csv", bytes, connectionId: t.pawapayConnectionId, dryRun: false, confirmSameFile: false });
    await validation;
    const uploadSeconds = (Date.now() - uploadStarted) / 1000;
    const checked = await getBatch(t.desk, t.users.maker, batchId);
    if (checked.counts.valid !== rows) throw new Error(`Expected ${rows} valid rows, got ${JSON.stringify(checked.counts)}: ${checked.problems.join("; ")}`);
    console.log(`[${kind}] ${rows.toLocaleString("en")} rows uploaded and checked in ${uploadSeconds.toFixed(2)} s`);

    const createStarted = Date.now();
    await createBatch(t.desk, t.users.maker, { id: batchId, includeDuplicates: false });
    await settled(t.desk, batchId);
    const createSeconds = (Date.now() - createStarted) / 1000;
    const ids = (await t.desk.db.payout.findMany({ where: { batchId }, select: { id: true } })).map((p) => p.id);
    if (ids.length !== rows) throw new Error(`Expected ${rows} payouts, got ${ids.length}`);
    console.log(`[${kind}] ${ids.length.toLocaleString("en")} payouts created in ${createSeconds.toFixed(2)} s`);

    if (decisionOnly) {
      // Nothing is sent: the decision alone.
    } else {
      await startSenders(desk, workerCount, senders);
    }

    if (!decisionOnly) {
      // Workers read the connections' balances when they start: the approver looks at the card once pawaPay's is
      // known, as one would (a balance read during the decision makes rows past it need an acknowledgement not
      // given, and the decision skips them).
      const waitUntil = Date.now() + 30_000;
      while (Date.now() < waitUntil && (await t.desk.db.balanceSnapshot.count({ where: { connectionId: t.pawapayConnectionId } })) === 0) await sleep(250);
    }
    // The approver reads the batch card and approves the whole batch in one decision, acknowledging what the card shows.
    const approver = t.caller("approver");
    const t0 = Date.now();
    const preview = await approver.approvals.batchPreview({ batchId });
    console.log(`[${kind}] the card: ${preview.final} to approve, past the balance ${preview.needs.overBalanceRows}, likely duplicates ${preview.needs.duplicateRows}`);
    const outcome = await approver.approvals.approveBatch({
      batchId,
      acknowledge: { overBalance: preview.needs.overBalanceRows > 0, duplicates: preview.needs.duplicateRows > 0 },
    });
    const approvedAt = Date.now();
    console.log(
      `[${kind}] batch approved in ${((approvedAt - t0) / 1000).toFixed(1)} s: ${outcome.approved} approved, ${outcome.awaitingMore} awaiting another level, ${outcome.skippedCount} skipped (${outcome.chunks} transactions)`,
    );
    if (outcome.skippedCount > 0) console.log(`  skipped: ${outcome.skipped.map((s) => `${s.count} × ${s.reason}`).join("; ")}`);

    let final = 0;
    let shown = 0;
    const deadline = decisionOnly ? 0 : t0 + 600_000;
    for (;;) {
      const [row] = await t.desk.db.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM "Payout" WHERE "batchId" = ${batchId}::uuid AND status::text = ANY(${FINALS}::text[])`;
      final = Number(row?.n ?? 0);
      if (final - shown >= rows / 10) {
        shown = final;
        process.stdout.write(`\r[${kind}] ${final.toLocaleString("en")} / ${rows.toLocaleString("en")} final`);
      }
      if (final >= rows || Date.now() > deadline) break;
      await sleep(250);
    }
    const done = Date.now();
    console.log("");
    if (!decisionOnly && final < rows) await describeNotFinal(desk, ids, senders.workers);
    const counts = await t.desk.db.payout.groupBy({ by: ["status"], where: { batchId }, _count: { _all: true } });
    return {
      db: decisionOnly ? `${kind === "pglite" ? "PGlite" : "PostgreSQL"} (decision only)` : kind === "pglite" ? "PGlite (one process)" : `PostgreSQL (${workerCount} worker processes)`,
      uploadSeconds,
      createSeconds,
      approveSeconds: (approvedAt - t0) / 1000,
      finalSeconds: (done - t0) / 1000,
      approved: outcome.approved,
      notFinal: rows - final,
      statuses: Object.fromEntries(counts.map((c) => [c.status, c._count._all])),
      duplicates: await duplicatesAtProviders(desk, ids),
    };
  } finally {
    await stopSenders(senders);
    await desk.close();
  }
}

const results: Figures[] = [];
for (const kind of which === "both" ? (["pglite", "postgres"] as const) : [which as "pglite" | "postgres"]) {
  results.push(await run(kind));
}
console.log(`\nbench:batch — one ${rows.toLocaleString("en")}-row file to the pawaPay emulator (targets: upload and validation ≤ 10 s, approval to all final ≤ 120 s, 0 duplicates)`);
for (const r of results) {
  console.log(
    `  ${r.db.padEnd(32)} upload+validation ${r.uploadSeconds.toFixed(1)} s   (creating payouts ${r.createSeconds.toFixed(1)} s)   ` +
      `approval to all final ${r.finalSeconds.toFixed(1)} s (the decision itself ${r.approveSeconds.toFixed(1)} s)   not final: ${r.notFinal}   ` +
      `duplicates at the emulators: ${r.duplicates}   statuses: ${Object.entries(r.statuses).map(([s, n]) => `${s} ${n}`).join(", ")}`,
  );
}
process.exit(results.some((r) => r.duplicates > 0 || (!decisionOnly && r.notFinal > 0) || r.approved !== rows) ? 1 : 0);
