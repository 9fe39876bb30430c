// A batch's page once its payouts exist, end to end on a real database
// (PGlite, and PostgreSQL when TEST_DATABASE_URL is set): a payroll file with
// rows the pawaPay emulator pays, rows it fails (its sandbox numbers) and an
// invalid row, uploaded and created through the bulk path, approved, and sent
// over real HTTP by the work runner until every payout is final. Then: the
// figures (per status, paid per currency, the failed rows with their reasons),
// the results as CSV and XLSX through the route's own function with a real
// session cookie (read back with csv-parse and exceljs), and "retry failed
// rows" as a new batch through the upload's own checks, made once.
import ExcelJS from "exceljs";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveManyAsRead } from "@/server/testing/approvals";
import { startSession } from "@/server/auth/user-sessions";
import { sessionCookieName } from "@/server/auth/session-cookie";
import { enrolForTests } from "@/server/auth/second-factor-testing";
import { FINAL_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import { settled, uploadBatch } from "./batches";
import { batchResultsRequest } from "./batch-results";

const SECRET = "batch-results-test-secret-of-enough-length";

const HEADER = ["amount", "currency", "recipient_phone", "recipient_name", "description"];
/** A Zambian MTN number the emulator pays, different per n. */
const phone = (n: number) => `2607634${String(60000 + n).padStart(5, "0")}`;
/** pawaPay's sandbox numbers that fail: RECIPIENT_NOT_FOUND and OTHER_ERROR. */
const NOT_FOUND = "260763456079";
const OTHER_ERROR = "260763456119";

function csv(rows: string[][]): Buffer {
  return Buffer.from(stringify(rows, { record_delimiter: "windows" }));
}

describe.each(testDatabases())("a batch's results on %s", (kind) => {
  let t: TestDesk;
  let batchId: string;
  const cookies = { maker: "", viewer: "" };

  async function cookieFor(role: "maker" | "viewer" | "admin", provedAt: Date | null = new Date()) {
    const user = t.users[role];
    if (role === "admin") await enrolForTests(t.desk, user.id);
    const session = await startSession(t.desk.db, user.id, {}, { secondFactorAt: provedAt });
    return `${sessionCookieName()}=${await encode({ token: { uid: user.id, sid: session.id }, secret: SECRET })}`;
  }

  /** Uploads as the maker, waits for the check, creates the valid rows' payouts; the batch id. */
  async function createdBatch(rows: string[][], fileName: string): Promise<string> {
    const { batchId: id, validation } = await uploadBatch(t.desk, t.users.maker, { fileName, bytes: csv([HEADER, ...rows]), connectionId: t.pawapayConnectionId, dryRun: false, confirmSameFile: true }, "127.0.0.1");
    await validation;
    await t.caller("maker").batches.create({ id });
    await settled(t.desk, id);
    return id;
  }

  function results(id: string, format: string, cookie: string | null) {
    return batchResultsRequest(t.desk, new Request(`http://desk.test/api/batches/${id}/results?format=${format}`, { headers: cookie ? { cookie } : {} }), id);
  }

  beforeAll(async () => {
    process.env.NEXTAUTH_SECRET = SECRET;
    t = await startTestDesk(kind);
    cookies.maker = await cookieFor("maker");
    cookies.viewer = await cookieFor("viewer", null);
    batchId = await createdBatch(
      [
        ["15.00", "ZMW", phone(1), "Ann Banda", "Payroll June"],
        ["16.00", "ZMW", NOT_FOUND, "Ben Phiri", "Payroll June"],
        ["17.00", "ZMW", phone(2), "Cy Mwale", "Payroll June"],
        ["-1", "ZMW", phone(3), "=HYPERLINK(\"x\")", "Payroll June"],
        ["18.00", "ZMW", OTHER_ERROR, "Ed Zulu", "Payroll June"],
      ],
      "payroll-june.csv",
    );
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("counts its payouts per status while they wait, and refuses a retry until every one is final", async () => {
    const outcome = await t.caller("viewer").batches.outcome({ id: batchId });
    expect(outcome).toMatchObject({ total: 4, final: 0, percentFinal: 0, allFinal: false, statuses: [{ status: "pending_approval", count: 4, final: false }] });
    expect(outcome.retry).toMatchObject({ batch: null, canRetry: false, refusal: expect.stringMatching(/^4 of its payouts are not final yet \(waiting for approval, or on their way\)/) });
    const refused = await refusal(t.caller("maker").batches.retryFailed({ id: batchId }));
    expect(refused.code).toBe("CONFLICT");
    const again = await t.caller("maker").batches.retryFailed({ id: batchId }).catch((e: Error) => e.message);
    expect(again).toMatch(/^4 payouts of this batch are not final yet \(waiting for approval, or on their way\): retry the failed rows once every payout is final/);
    expect(await t.desk.db.batch.count({ where: { retryOfId: batchId } })).toBe(0);
  });

  it("once approved and sent, says how many are final, what was paid per currency, and which rows failed and why", async () => {
    const ids = (await t.desk.db.payout.findMany({ where: { batchId }, select: { id: true } })).map((p) => p.id);
    await approveManyAsRead(t.caller("approver"), ids);
    // The work runner sends them to the emulator over HTTP and asks after them until each is final.
    await eventually(async () => {
      await t.work.run({ all: true, max: 40 });
      const statuses = await t.desk.db.payout.findMany({ where: { batchId }, select: { status: true } });
      return statuses.every((p) => FINAL_STATUSES.has(p.status as PayoutStatus));
    }, 90_000);

    const outcome = await t.caller("viewer").batches.outcome({ id: batchId });
    expect(outcome).toMatchObject({ total: 4, final: 4, percentFinal: 100, allFinal: true, rowsInFile: 5 });
    expect(outcome.statuses).toEqual([
      { status: "succeeded", count: 2, final: true },
      { status: "failed", count: 2, final: true },
    ]);
    expect(outcome.currencies).toEqual([
      { currency: "ZMW", count: 4, amountMinor: 6600n, paidCount: 2, paidMinor: 3200n, failedCount: 2, failedMinor: 3400n, openCount: 0, openMinor: 0n },
    ]);
    // The viewer may not retry (makers do), and the page says nothing stops a maker.
    expect(outcome.retry).toEqual({ batch: null, refusal: null, canRetry: false });
    expect((await t.caller("maker").batches.outcome({ id: batchId })).retry.canRetry).toBe(true);

    // The failed rows, by the row the spreadsheet shows, with the provider's code and its reason in words, linked to their payouts.
    expect(outcome.failed).toMatchObject({ total: 2, page: 1, pages: 1 });
    expect(outcome.failed.items.map((r) => [r.row, r.recipientPhone, r.amountMinor, r.failureCode])).toEqual([
      [3, NOT_FOUND, 1600n, "RECIPIENT_NOT_FOUND"],
      [6, OTHER_ERROR, 1800n, "OTHER_ERROR"],
    ]);
    for (const row of outcome.failed.items) {
      expect(row.reason).toEqual(expect.any(String));
      expect(row.reason!.length).toBeGreaterThan(5);
      expect(await t.desk.db.payout.findUnique({ where: { id: row.payoutId }, select: { batchId: true } })).toEqual({ batchId });
    }
    // Pages of the failed rows: one a page here.
    const { batchOutcome } = await import("./batch-results");
    const second = await batchOutcome(t.desk, t.users.viewer, batchId, 2, 1);
    expect(second.failed).toMatchObject({ total: 2, page: 2, pages: 2, items: [expect.objectContaining({ row: 6 })] });
    const beyond = await batchOutcome(t.desk, t.users.viewer, batchId, 9, 1);
    expect(beyond.failed.page).toBe(2);
  }, 120_000);

  it("downloads its results as CSV and XLSX, every row of the file with its status, reference, failure reason and fee, and they read back", async () => {
    const response = await results(batchId, "csv", cookies.maker);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toContain('filename="payroll-june-results.csv"');
    expect(response.headers.get("x-export-rows")).toBe("5");
    const bytes = Buffer.from(await response.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(bytes, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.row, r.recipient_phone, r.status, r.final])).toEqual([
      ["2", phone(1), "succeeded", "yes"],
      ["3", NOT_FOUND, "failed", "yes"],
      ["4", phone(2), "succeeded", "yes"],
      ["5", phone(3), "not_created", "yes"],
      ["6", OTHER_ERROR, "failed", "yes"],
    ]);
    const paid = rows[0]!;
    expect(paid).toMatchObject({ recipient_name: "Ann Banda", amount: "15.00", amount_minor: "1500", currency: "ZMW", status_label: "Succeeded", connection: "pawaPay sandbox", description: "Payroll June", failure_code: "" });
    expect(paid.payout_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(paid.finalized_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
    // The provider's reference as stored (pawaPay knows a payout by the desk's own id, so it may have none of its own).
    const db = await t.desk.db.payout.findUniqueOrThrow({ where: { id: paid.payout_id! } });
    expect(paid.provider_reference).toBe(db.providerReference ?? "");
    expect(paid.finalized_at).toBe(db.finalizedAt!.toISOString().replace("Z", "+00:00"));
    // A fee the provider did not report is said, never 0; a fee it reported is the decimal beside the minor units.
    if (db.feeMinor === null) expect([paid.fee, paid.fee_minor]).toEqual(["not reported", ""]);
    else expect(paid.fee_minor).toBe(String(db.feeMinor));
    expect(rows[1]).toMatchObject({ failure_code: "RECIPIENT_NOT_FOUND", amount: "16.00" });
    expect(rows[1]!.failure_reason!.length).toBeGreaterThan(5);
    // The invalid row: no payout, what the file held (a cell that looks like a formula escaped: shown, never run), and why.
    // ("-1" as the file held it is text here, and text starting with "-" is escaped like a formula.)
    expect(rows[3]).toMatchObject({ payout_id: "", amount: "'-1", amount_minor: "", recipient_name: "'=HYPERLINK(\"x\")", fee: "" });
    expect(rows[3]!.failure_reason).toMatch(/^Not created: invalid in the file \(amount: /);

    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "batch.results_export", entityId: batchId } });
    expect(entry).toMatchObject({ actorId: t.users.maker.id, entityType: "batch", details: { format: "csv", rows: 5, payouts: 4, fileName: "payroll-june-results.csv" } });

    const xlsx = await results(batchId, "xlsx", cookies.viewer);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get("content-type")).toBe("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as unknown as ExcelJS.Buffer);
    const sheet = workbook.getWorksheet("Results")!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(expect.arrayContaining(["Row", "Payout id", "Recipient phone", "Amount", "Status", "Provider reference", "Failure reason", "Fee", "Finalized (UTC)"]));
    const col = (name: string) => header.indexOf(name) + 1;
    expect(sheet.rowCount).toBe(6);
    expect(sheet.getRow(2).getCell(col("Amount")).value).toBe(15);
    expect(sheet.getRow(2).getCell(col("Amount")).numFmt).toBe('#,##0.00 "ZMW"');
    expect(sheet.getRow(2).getCell(col("Recipient phone")).value).toBe(phone(1));
    expect(sheet.getRow(2).getCell(col("Finalized (UTC)")).value).toBeInstanceOf(Date);
    expect(sheet.getRow(3).getCell(col("Failure code")).value).toBe("RECIPIENT_NOT_FOUND");
    expect(sheet.getRow(5).getCell(col("Recipient name")).value).toBe('=HYPERLINK("x")');
    expect(sheet.getRow(5).getCell(col("Recipient name")).formula).toBeUndefined();
    expect(sheet.getRow(5).getCell(col("Status")).value).toBe("not_created");
    expect(sheet.getRow(5).getCell(col("Amount")).value).toBe("-1");
    expect(workbook.getWorksheet("About")!.getCell("B2").value).toBe(batchId);
  });

  it("answers the download as the export routes do: signed in, a named format, a batch with payouts, a fresh second factor", async () => {
    expect((await results(batchId, "csv", null)).status).toBe(401);
    const bad = await results(batchId, "pdf", cookies.maker);
    expect(bad.status).toBe(400);
    expect((await bad.json()).fieldErrors).toEqual({ format: "Choose a format: csv or xlsx" });
    expect((await results("00000000-0000-4000-8000-000000000000", "csv", cookies.maker)).status).toBe(404);
    expect((await results("not-a-batch", "csv", cookies.maker)).status).toBe(404);
    // A batch whose payouts were never created has no results yet: said, before any code is asked.
    const { batchId: unmade, validation } = await uploadBatch(t.desk, t.users.maker, { fileName: "later.csv", bytes: csv([HEADER, ["20.00", "ZMW", phone(9), "", "Later"]]), connectionId: t.pawapayConnectionId, dryRun: false, confirmSameFile: true });
    await validation;
    const empty = await results(unmade, "csv", cookies.maker);
    expect(empty.status).toBe(404);
    expect(await empty.json()).toEqual({ empty: true, error: "No payouts were created from this batch, so it has no results yet" });
    // An admin whose last code is over 5 minutes old is asked for one (the browser's download code acts on the flag).
    const stale = await cookieFor("admin", new Date(Date.now() - 6 * 60_000));
    const before = await t.desk.db.auditLog.count({ where: { action: "batch.results_export" } });
    const refused = await results(batchId, "csv", stale);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ stepUpRequired: true, stepUpReason: "stale" });
    expect(await t.desk.db.auditLog.count({ where: { action: "batch.results_export" } })).toBe(before);
    const fresh = await results(batchId, "xlsx", await cookieFor("admin"));
    expect(fresh.status).toBe(200);
    await fresh.arrayBuffer();
  });

  it("retries the failed rows as a new batch through the upload's checks, once, and again only after that one is discarded", async () => {
    expect((await refusal(t.caller("viewer").batches.retryFailed({ id: batchId }))).code).toBe("FORBIDDEN");
    const first = await t.caller("maker").batches.retryFailed({ id: batchId });
    expect(first).toMatchObject({ created: true, rows: 2 });
    await settled(t.desk, first.id);
    // Asked again (a double click, another maker): the same batch, nothing new.
    expect(await t.caller("maker").batches.retryFailed({ id: batchId })).toEqual({ id: first.id, created: false, rows: 2 });
    expect(await t.desk.db.batch.count({ where: { retryOfId: batchId } })).toBe(1);

    // A batch like any other: checked row by row, waiting for its maker's preview and creation.
    const retry = await t.caller("maker").batches.get({ id: first.id });
    expect(retry).toMatchObject({ status: "validated", phase: "validated", fileName: "payroll-june-failed-rows.csv", counts: { rows: 2, valid: 2, invalid: 0, inFileDuplicates: 0, recentDuplicates: 0 }, canCreate: true });
    expect(retry.file).toMatchObject({ format: "csv", hasConnectionColumn: true });
    expect(retry.totals).toEqual([expect.objectContaining({ connectionName: "pawaPay sandbox", currency: "ZMW", count: 2, amountMinor: 3400n })]);
    expect(await t.desk.db.batch.findUniqueOrThrow({ where: { id: first.id }, select: { retryOfId: true, createdById: true } })).toEqual({ retryOfId: batchId, createdById: t.users.maker.id });
    const outcome = await t.caller("maker").batches.outcome({ id: batchId });
    expect(outcome.retry).toMatchObject({ batch: { id: first.id, fileName: "payroll-june-failed-rows.csv" }, canRetry: false });
    expect((await t.caller("viewer").batches.outcome({ id: first.id })).retryOf).toEqual({ id: batchId, fileName: "payroll-june.csv" });
    const audited = await t.desk.db.auditLog.findMany({ where: { action: "batch.retry", entityId: batchId }, orderBy: { id: "asc" } });
    expect(audited.map((e) => [e.actorId, (e.details as { retryBatchId: string }).retryBatchId])).toEqual([
      [t.users.maker.id, first.id],
      [t.users.maker.id, first.id],
    ]);

    // Discarded, it no longer stands: asking again makes another.
    await t.caller("maker").batches.discard({ id: first.id });
    // Two asks at once (two makers, two tabs): one retry made, both answered with it.
    const [second, twin] = await Promise.all([t.caller("maker").batches.retryFailed({ id: batchId }), t.caller("maker").batches.retryFailed({ id: batchId })]);
    expect([second.created, twin.created].sort()).toEqual([false, true]);
    expect(twin.id).toBe(second.id);
    expect(second.id).not.toBe(first.id);
    expect(await t.desk.db.batch.count({ where: { retryOfId: batchId, status: { not: "discarded" } } })).toBe(1);
    await settled(t.desk, second.id);
    await t.caller("maker").batches.create({ id: second.id });
    await settled(t.desk, second.id);
    const made = await t.desk.db.payout.findMany({ where: { batchId: second.id }, orderBy: { batchRow: "asc" } });
    // The failed rows as they were (recipient, amount, currency, description), new payouts waiting for approval like any other.
    expect(made.map((p) => [p.recipientPhone, p.recipientName, p.amountMinor, p.currency, p.description, p.status, p.batchRow])).toEqual([
      [NOT_FOUND, "Ben Phiri", 1600n, "ZMW", "Payroll June", "pending_approval", 1],
      [OTHER_ERROR, "Ed Zulu", 1800n, "ZMW", "Payroll June", "pending_approval", 2],
    ]);
    const failedIds = new Set((await t.desk.db.payout.findMany({ where: { batchId, status: "failed" }, select: { id: true } })).map((p) => p.id));
    expect(made.some((p) => failedIds.has(p.id))).toBe(false);
  }, 60_000);

  it("refuses a retry, in words, of a batch with no failed row or no payouts", async () => {
    const rejectedBatch = await createdBatch([["21.00", "ZMW", phone(20), "Fay", "Bonus"]], "bonus.csv");
    const [payout] = await t.desk.db.payout.findMany({ where: { batchId: rejectedBatch }, select: { id: true } });
    await t.caller("approver").approvals.reject({ payoutId: payout!.id, reason: "Not this month" });
    const refused = await t.caller("maker").batches.retryFailed({ id: rejectedBatch }).catch((e: Error) => e.message);
    expect(refused).toBe("No row of this batch failed: there is nothing to retry");
    expect((await t.caller("maker").batches.outcome({ id: rejectedBatch })).retry).toEqual({ batch: null, refusal: "No row of this batch failed: there is nothing to retry", canRetry: false });

    const { batchId: unmade, validation } = await uploadBatch(t.desk, t.users.maker, { fileName: "unmade.csv", bytes: csv([HEADER, ["22.00", "ZMW", phone(21), "", "Later"]]), connectionId: t.pawapayConnectionId, dryRun: false, confirmSameFile: true });
    await validation;
    expect(await t.caller("maker").batches.retryFailed({ id: unmade }).catch((e: Error) => e.message)).toMatch(/^No payouts were created from this batch/);
    expect((await refusal(t.caller("maker").batches.retryFailed({ id: "00000000-0000-4000-8000-000000000000" }))).code).toBe("NOT_FOUND");
  }, 60_000);
});
