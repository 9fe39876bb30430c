// Bulk files, end to end on a real database (PGlite, and PostgreSQL when
// TEST_DATABASE_URL is set) with the built-in connections: real CSV and XLSX
// bytes made here with the libraries a spreadsheet export would use
// (csv-stringify, exceljs), uploaded through the upload route's own function
// with a real session cookie or through the service, checked in the
// background, read back through the tRPC caller, and created.
import { randomUUID } from "node:crypto";
import ExcelJS from "exceljs";
import { stringify } from "csv-stringify/sync";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { startSession } from "@/server/auth/user-sessions";
import { sessionCookieName } from "@/server/auth/session-cookie";
import type { Role } from "@/server/auth/roles";
import { batchPayoutId } from "@/server/bulk/ids";
import { MAX_ROWS, tooLargeMessage as tooLargeWords } from "@/server/bulk/limits";
import { invalidRowsRequest, templateRequest, uploadRequest } from "./batch-requests";
import { createBatch, runCreation, settled, uploadBatch, validateBatch, type InvalidRow } from "./batches";

const SECRET = "batches-test-secret-of-enough-length-0000";

type Row = Array<string | number | Date | null | { formula: string; result?: unknown }>;

function csv(rows: Row[], opts: { delimiter?: string; bom?: boolean; recordDelimiter?: "windows" | "unix" } = {}): Buffer {
  const text = stringify(rows as string[][], { delimiter: opts.delimiter ?? ",", record_delimiter: opts.recordDelimiter ?? "windows" });
  return Buffer.concat([opts.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, "utf8")]);
}

async function xlsx(rows: Row[], opts: { formats?: Record<string, string>; extraSheet?: Row[] } = {}): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet("Payouts");
  rows.forEach((row, i) => {
    const r = sheet.getRow(i + 1);
    row.forEach((value, j) => {
      r.getCell(j + 1).value = value as ExcelJS.CellValue;
    });
    r.commit();
  });
  for (const [address, format] of Object.entries(opts.formats ?? {})) sheet.getCell(address).numFmt = format;
  if (opts.extraSheet) workbook.addWorksheet("Notes").addRows(opts.extraSheet);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const HEADER = ["amount", "currency", "recipient_phone", "recipient_name", "description"];

/** A Zambian MTN number of the emulator's "success" kind, different per n. */
const phone = (n: number) => `2607634${String(50000 + n).padStart(5, "0")}`;

describe.each(testDatabases())("bulk files on %s", (kind) => {
  let t: TestDesk;
  let pawapay: string;
  let pontis: string;
  const cookies = {} as Record<Role, string>;

  beforeAll(async () => {
    process.env.NEXTAUTH_SECRET = SECRET;
    t = await startTestDesk(kind);
    pawapay = t.pawapayConnectionId;
    pontis = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "pontis" } })).id;
    for (const role of ["maker", "viewer", "admin"] as const) {
      const session = await startSession(t.desk.db, t.users[role].id, {});
      cookies[role] = `${sessionCookieName()}=${await encode({ token: { uid: t.users[role].id, sid: session.id }, secret: SECRET })}`;
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Uploads as the maker and waits for the check; the batch as the page sees it. */
  async function upload(bytes: Buffer, opts: { fileName?: string; connectionId?: string | null; dryRun?: boolean; confirm?: boolean } = {}) {
    const { batchId, validation } = await uploadBatch(t.desk, t.users.maker, {
      fileName: opts.fileName ?? "payouts.csv",
      bytes,
      connectionId: opts.connectionId === undefined ? pawapay : opts.connectionId,
      dryRun: opts.dryRun ?? false,
      confirmSameFile: opts.confirm ?? false,
    }, "127.0.0.1");
    await validation;
    return t.caller("maker").batches.get({ id: batchId });
  }

  async function invalidRows(id: string): Promise<InvalidRow[]> {
    const out: InvalidRow[] = [];
    for (let page = 1; ; page++) {
      const got = await t.caller("maker").batches.rows({ id, list: "invalidRows", page });
      out.push(...(got.items as InvalidRow[]));
      if (out.length >= got.total || got.items.length === 0) return out;
    }
  }

  it("reads a comma CSV with a BOM and a semicolon CSV without one, and says which", async () => {
    const rows: Row[] = [HEADER, ["15.50", "ZMW", phone(1), "Ann", "Salary May"], ["20", "ZMW", phone(2), "", "Salary May"]];
    const comma = await upload(csv(rows, { bom: true }), { fileName: "comma.csv" });
    expect(comma).toMatchObject({ phase: "validated", status: "validated", counts: { rows: 2, valid: 2, invalid: 0 } });
    expect(comma.file).toMatchObject({ format: "csv", encoding: "UTF-8 with BOM", delimiter: "comma", headerRow: 1 });
    expect(comma.totals).toEqual([
      expect.objectContaining({ connectionName: "pawaPay sandbox", currency: "ZMW", count: 2, amountMinor: 3550n, feeMinor: null }),
    ]);

    const semi = await upload(csv([HEADER, ["15,50", "ZMW", phone(3), "Ann", "Salary May"], ["1.020,25", "zmw", phone(4), "", "Salary May"]], { delimiter: ";" }), { fileName: "semi.csv" });
    expect(semi.file).toMatchObject({ encoding: "UTF-8", delimiter: "semicolon" });
    expect(semi.counts).toMatchObject({ valid: 2, invalid: 0 });
    // A decimal comma in a semicolon file: 15,50 + 1.020,25 = 1035.75.
    expect(semi.totals![0]!.amountMinor).toBe(103575n);
  });

  it("refuses UTF-16 and Windows-1252 files, naming the encoding and how to save as CSV UTF-8", async () => {
    const text = "amount,currency,recipient_phone,description\r\n15,ZMW,260763450001,Café\r\n";
    const utf16 = await upload(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]), { fileName: "unicode.txt" });
    expect(utf16).toMatchObject({ phase: "failed", status: "discarded" });
    expect(utf16.problems[0]).toMatch(/UTF-16 text \(little-endian, with a byte-order mark\).*"CSV UTF-8 \(Comma delimited\) \(\*\.csv\)"/);

    const latin = await upload(Buffer.from(text, "latin1"), { fileName: "latin.csv" });
    expect(latin.phase).toBe("failed");
    expect(latin.problems[0]).toMatch(/not UTF-8: it looks like Windows-1252.*Line 2 has the byte 0xE9 \(Windows-1252 reads it as "é"\).*CSV UTF-8/);
  });

  it("names unknown, repeated and missing columns, and counts and skips empty rows", async () => {
    const unknown = await upload(csv([["amount", "currency", "phone number", "employee id", "ifsc", "Amount"], ["1", "ZMW", phone(5), "x", "y", "2"]]), { fileName: "cols.csv" });
    expect(unknown.phase).toBe("failed");
    expect(unknown.problems).toEqual([
      'Unknown column "employee id" (column D): rename it to one of amount, currency, recipient_phone, recipient_name, channel, description, connection, or remove it',
      'Column "ifsc" (column E) is for PontisGlobe sandbox, not pawaPay sandbox: remove it, or add a connection column so each row names its connection',
      "Columns A and F are both amount: keep one",
      expect.stringMatching(/^Missing column description: what the payout is for/),
    ]);

    const empties = await upload(
      csv([HEADER, ["15", "ZMW", phone(6), "", "Salary May"], [], ["", "", "", "", ""], ["16", "ZMW", phone(7), "", "Salary May"], [" ", "", "", "", ""]]),
      { fileName: "empties.csv" },
    );
    expect(empties.counts).toMatchObject({ rows: 2, valid: 2, emptyRows: 3 });
  });

  it("skips the template's description line, and its columns are exactly the connection's", async () => {
    const response = await templateRequest(t.desk, new Request(`http://desk.test/api/batches/template?connectionId=${pontis}&format=csv`, { headers: { cookie: cookies.viewer } }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toContain("payouts-template-pontisglobe-sandbox.csv");
    const template = Buffer.from(await response.arrayBuffer());
    expect([...template.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, descriptions] = template.toString("utf8").slice(1).split("\r\n");
    expect(header).toBe("amount,currency,recipient_name,recipient_account,channel,bank_code,ifsc,description");
    expect(descriptions).toMatch(/^"?Required: the amount in major units/);
    expect(descriptions).toContain("Required for India IMPS (INR): IFSC");

    const filled = Buffer.concat([template, Buffer.from(csv([["100.00", "USDT", "Asha Rao", "123456789012", "IN-imps", "", "SBIN0001234", "Invoice 7"]]))]);
    const batch = await upload(filled, { connectionId: pontis, fileName: "pontis.csv" });
    expect(batch.file).toMatchObject({ headerRow: 1, descriptionRow: 2 });
    expect(batch.counts).toMatchObject({ rows: 1, valid: 1, invalid: 0, emptyRows: 0 });

    const xlsxResponse = await templateRequest(t.desk, new Request(`http://desk.test/api/batches/template?connectionId=${pawapay}&format=xlsx`, { headers: { cookie: cookies.maker } }));
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await xlsxResponse.arrayBuffer()) as unknown as ExcelJS.Buffer);
    const sheet = workbook.getWorksheet("Payouts")!;
    expect(sheet.getRow(1).values).toEqual([undefined, "amount", "currency", "recipient_phone", "recipient_name", "channel", "description"]);
    expect(String(sheet.getCell("C2").value)).toMatch(/^Required: the mobile number/);
    expect(sheet.getColumn(3).numFmt).toBe("@");
    // Refused: no such format, no such connection, nobody signed in.
    const bad = await templateRequest(t.desk, new Request("http://desk.test/api/batches/template?connectionId=nope&format=pdf", { headers: { cookie: cookies.maker } }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).fieldErrors).toEqual({ format: "Choose a format: csv or xlsx", connectionId: "Choose a connection that takes payouts" });
    expect((await templateRequest(t.desk, new Request(`http://desk.test/api/batches/template?connectionId=${pawapay}`))).status).toBe(401);
  });

  it("reads XLSX numbers and dates exactly and refuses formula cells, naming the cell", async () => {
    const bytes = await xlsx(
      [
        HEADER,
        [15.5, "ZMW", 260763450101, "Ann", "Salary May"],
        [0.1 + 0.2, "ZMW", "260763450102", "Ben", "Salary May"],
        [{ formula: "A2*2", result: 31 }, "ZMW", "260763450103", "Cy", "Salary May"],
        [12, "ZMW", new Date(Date.UTC(2026, 2, 4)), "Di", new Date(Date.UTC(2026, 4, 1))],
        [12, "ZMW", 976345010, "Ed", "Salary May"],
      ],
      { formats: { C5: "yyyy-mm-dd", E5: "yyyy-mm-dd" }, extraSheet: [["a note"]] },
    );
    const batch = await upload(bytes, { fileName: "payroll.xlsx" });
    expect(batch.file).toMatchObject({ format: "xlsx", sheet: "Payouts", encoding: null, delimiter: null });
    expect(batch.notes).toEqual(['Only the sheet "Payouts" was read; "Notes" also holds values, which were not read']);
    expect(batch.counts).toMatchObject({ rows: 5, valid: 2, invalid: 3 });
    // 15.5 + 0.3 (0.30000000000000004 as Excel shows it), never float noise.
    expect(batch.totals![0]!.amountMinor).toBe(1580n);
    const invalid = await invalidRows(batch.id);
    expect(invalid.map((r) => r.row)).toEqual([4, 5, 6]);
    expect(invalid[0]!.errors.amount).toBe(
      "cell A4 holds the formula =A2*2; the desk reads values only, never formulas or their saved results: copy the column and Paste Special → Values, then upload again",
    );
    expect(invalid[1]!.errors.recipient_phone).toMatch(/^is a date in the spreadsheet \(2026-03-04\)/);
    // A date in the description is text (its date), not a refusal.
    expect(invalid[1]!.errors.description).toBeUndefined();
    expect(invalid[1]!.values).toEqual(["12", "ZMW", "2026-03-04", "Di", "2026-05-01"]);
    // A phone typed as a number lost its country code's digits: said with the reason.
    expect(invalid[2]!.errors.recipient_phone).toMatch(/\(the cell is a number in the spreadsheet, which drops a leading 0 or \+: format the column as Text/);
    const payoutPhones = await t.desk.db.payout.count({ where: { recipientPhone: "260763450101" } });
    expect(payoutPhones).toBe(0); // checked, not created
  });

  it("gives each of 2 % bad rows its own field errors, by the row number the spreadsheet shows", async () => {
    const rows: Row[] = [HEADER];
    for (let i = 0; i < 100; i++) rows.push([`${50 + i}.25`, "ZMW", phone(100 + i), `Agent ${i}`, "Commission May"]);
    rows[21] = ["12.345", "ZMW", phone(120), "Agent 20", "Commission May"]; // spreadsheet row 22
    rows[71] = ["5 ZMW", "ZMW", "26076345", "Agent 70", ""]; // spreadsheet row 72
    const batch = await upload(csv(rows), { fileName: "commissions.csv" });
    expect(batch.counts).toMatchObject({ rows: 100, valid: 98, invalid: 2 });
    const invalid = await invalidRows(batch.id);
    expect(invalid).toEqual([
      { row: 22, connection: "pawaPay sandbox", values: ["12.345", "ZMW", phone(120), "Agent 20", "Commission May"], errors: { amount: "ZMW allows at most 2 decimal places" } },
      {
        row: 72,
        connection: "pawaPay sandbox",
        values: ["5 ZMW", "ZMW", "26076345", "Agent 70", ""],
        errors: {
          amount: '"5 ZMW" is not an amount: use digits with an optional decimal point, e.g. 1250.50',
          recipient_phone: expect.any(String),
          description: "Enter a description the recipient will recognise",
        },
      },
    ]);
    // Nothing is created by checking.
    expect(await t.desk.db.payout.count({ where: { description: "Commission May" } })).toBe(0);
  });

  it("flags a row repeating another row of the file, and one repeating a payout of the last 24 hours", async () => {
    const earlier = await t.pawapayPayout({ phone: phone(300), amount: "42.00", approve: false });
    const batch = await upload(
      csv([
        HEADER,
        ["10", "ZMW", phone(301), "A", "Bonus"],
        ["11", "ZMW", phone(302), "B", "Bonus"],
        ["10.00", "ZMW", phone(301), "A again", "Bonus"],
        ["42", "ZMW", phone(300), "C", "Bonus"],
      ]),
      { fileName: "dups.csv" },
    );
    expect(batch.counts).toMatchObject({ valid: 4, invalid: 0, inFileDuplicates: 1, recentDuplicates: 1, creatableWithoutDuplicates: 2 });
    expect(batch.duplicateWindowHours).toBe(24);
    expect((await t.caller("maker").batches.rows({ id: batch.id, list: "inFileDuplicates" })).items).toEqual([{ row: 4, sameAs: 2 }]);
    expect((await t.caller("maker").batches.rows({ id: batch.id, list: "recentDuplicates" })).items).toEqual([
      { row: 5, payouts: [expect.objectContaining({ id: earlier, status: "pending_approval", connectionName: "pawaPay sandbox" })] },
    ]);
    // Left out unless the maker includes them.
    await createBatch(t.desk, t.users.maker, { id: batch.id, includeDuplicates: false }, "127.0.0.1");
    await settled(t.desk, batch.id);
    const made = await t.desk.db.payout.findMany({ where: { batchId: batch.id }, orderBy: { batchRow: "asc" } });
    expect(made.map((p) => [p.batchRow, p.recipientPhone, p.amountMinor])).toEqual([
      [1, phone(301), 1000n],
      [2, phone(302), 1100n],
    ]);
    expect((await t.caller("maker").batches.get({ id: batch.id })).create).toMatchObject({ state: "done", createdCount: 2, skippedDuplicates: 2 });
  });

  it("refuses the same file uploaded again unless the maker confirms, saying when and by whom; a dry run neither counts nor creates", async () => {
    const bytes = csv([HEADER, ["77", "ZMW", phone(400), "Z", "Refund 1"], ["78", "ZMW", phone(401), "Y", "Refund 2"]]);
    const dry = await upload(bytes, { fileName: "refunds.csv", dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, phase: "validated", status: "discarded", canCreate: false, counts: { valid: 2 } });
    expect(await refusal(t.caller("maker").batches.create({ id: dry.id }))).toMatchObject({ code: "CONFLICT" });
    expect(await t.desk.db.payout.count({ where: { description: { startsWith: "Refund " } } })).toBe(0);

    // The dry run does not make the real upload a repeat.
    const first = await upload(bytes, { fileName: "refunds.csv" });
    expect(first).toMatchObject({ phase: "validated", sameFileAs: null, canCreate: true });

    const again = uploadBatch(t.desk, t.users.maker, { fileName: "refunds (1).csv", bytes, connectionId: pawapay, dryRun: false, confirmSameFile: false });
    await expect(again).rejects.toMatchObject({
      name: "SameFileUploaded",
      message: expect.stringMatching(/^This file was uploaded before: refunds\.csv, on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC by maker \(its payouts were not created yet\)\. Upload it again only if/),
      earlier: { batchId: first.id, fileName: "refunds.csv", createdByName: "maker" },
    });
    const confirmed = await upload(bytes, { fileName: "refunds (1).csv", confirm: true });
    expect(confirmed.sameFileAs).toMatchObject({ batchId: first.id });
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "batch.upload", entityId: confirmed.id } });
    expect(entry.details).toMatchObject({ sameFileAs: first.id, confirmed: true, dryRun: false });
  });

  it("creates each valid row's payout once, with an id derived from the batch and the row, however often it is asked", async () => {
    const rows: Row[] = [HEADER];
    for (let i = 0; i < 600; i++) rows.push([`${200 + i}`, "ZMW", phone(500 + i), `Staff ${i}`, "Payroll June"]);
    rows[301] = ["-1", "ZMW", phone(999), "Bad", "Payroll June"];
    const batch = await upload(csv(rows), { fileName: "june.csv" });
    expect(batch.counts).toMatchObject({ valid: 599, invalid: 1 });

    // Asked through the router while two other runs (two processes resuming it) race it: each row's payout once.
    expect(await t.caller("maker").batches.create({ id: batch.id })).toEqual({ id: batch.id });
    await Promise.all([runCreation(t.desk, batch.id), runCreation(t.desk, batch.id), settled(t.desk, batch.id)]);
    expect(await t.desk.db.payout.count({ where: { batchId: batch.id } })).toBe(599);
    const ids = (await t.desk.db.payout.findMany({ where: { batchId: batch.id }, select: { id: true }, orderBy: { id: "asc" } })).map((p) => p.id);

    // A run that died after its first transaction (250 rows), taken up again: the same ids, the rest made, nothing twice.
    const later = await t.desk.db.payout.findMany({ where: { batchId: batch.id, batchRow: { gt: 250 } }, select: { id: true } });
    await t.desk.db.payoutEvent.deleteMany({ where: { payoutId: { in: later.map((p) => p.id) } } });
    await t.desk.db.payout.deleteMany({ where: { id: { in: later.map((p) => p.id) } } });
    await t.desk.db.batch.update({ where: { id: batch.id }, data: { status: "validated", committedAt: null } });
    await t.desk.db.$executeRaw`UPDATE "Batch" SET summary = jsonb_set(summary, '{phase}', '"creating"') WHERE id = ${batch.id}::uuid`;
    await runCreation(t.desk, batch.id, "127.0.0.1", { stopAfterChunks: 2 });
    expect(await t.desk.db.payout.count({ where: { batchId: batch.id } })).toBe(500);
    await runCreation(t.desk, batch.id, "127.0.0.1");
    expect((await t.desk.db.payout.findMany({ where: { batchId: batch.id }, select: { id: true }, orderBy: { id: "asc" } })).map((p) => p.id)).toEqual(ids);
    // Asked again once done: nothing more.
    await t.caller("maker").batches.create({ id: batch.id });
    await settled(t.desk, batch.id);
    expect(await t.desk.db.payout.count({ where: { batchId: batch.id } })).toBe(599);

    const made = await t.desk.db.payout.findMany({ where: { batchId: batch.id }, orderBy: { batchRow: "asc" }, include: { events: true } });
    // Row 302 of the sheet (batchRow 301) was invalid: no payout; every other row's id is derived from (batch, row).
    expect(made.map((p) => p.batchRow)).not.toContain(301);
    for (const p of made) {
      expect(p.id).toBe(batchPayoutId(batch.id, p.batchRow!));
      expect(p.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    // As the single form makes them: waiting for approval under the policy, with its expiry, a Created event and an audit entry.
    expect(made[0]).toMatchObject({ status: "pending_approval", createdById: t.users.maker.id, policyVersion: expect.any(Number), approvalExpiresAt: expect.any(Date) });
    expect(made[0]!.events).toEqual([expect.objectContaining({ toStatus: "pending_approval", note: "Created from june.csv, row 2" })]);
    const entries = await t.desk.db.auditLog.findMany({ where: { action: "payout.create", entityId: { in: made.map((p) => p.id) } }, select: { entityId: true, details: true } });
    expect(new Set(entries.map((e) => e.entityId)).size).toBe(599);
    expect(entries[0]!.details).toMatchObject({ batchId: batch.id, batchRow: expect.any(Number), currency: "ZMW" });
    const view = await t.caller("viewer").batches.get({ id: batch.id });
    expect(view).toMatchObject({ status: "created", phase: "created", committedAt: expect.any(Date), canCreate: false, create: { state: "done", createdCount: 599 } });
    expect(view.statusCounts).toEqual([{ status: "pending_approval", currency: "ZMW", count: 599, amountMinor: made.reduce((sum, p) => sum + p.amountMinor, 0n) }]);
    expect(await t.desk.db.auditLog.count({ where: { entityId: batch.id, action: { in: ["batch.create", "batch.created"] } } })).toBeGreaterThanOrEqual(2);
    // Nobody else creates it: another maker is refused, naming the rule.
    const other = await refusal(t.caller("viewer").batches.create({ id: batch.id }));
    expect(other.code).toBe("FORBIDDEN");
  });

  it("downloads the invalid rows with an error column, which upload again once fixed", async () => {
    const rows: Row[] = [HEADER, ["10", "ZMW", phone(700), "Ok", "Fix test"], ["10.999", "ZMW", "+260763457001", "=HYPERLINK(1)", "Fix test"], ["12", "ZMW", "12345", "Two", "Fix test"]];
    const batch = await upload(csv(rows), { fileName: "fix.csv" });
    expect(batch.counts).toMatchObject({ valid: 1, invalid: 2 });
    for (const format of ["csv", "xlsx"] as const) {
      const response = await invalidRowsRequest(t.desk, new Request(`http://desk.test/api/batches/${batch.id}/invalid-rows?format=${format}`, { headers: { cookie: cookies.maker } }), batch.id);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-disposition")).toContain(`fix-invalid-rows.${format}`);
      const file = Buffer.from(await response.arrayBuffer());
      let table: string[][];
      if (format === "csv") {
        const text = file.toString("utf8");
        // Formula-looking cells are escaped as the exports escape them.
        expect(text).toContain("'=HYPERLINK(1)");
        expect(text).toContain("'+260763457001");
        table = text.slice(1).trim().split("\r\n").map((line) => line.split(","));
      } else {
        const workbook = new ExcelJS.Workbook();
        await workbook.xlsx.load(file as unknown as ExcelJS.Buffer);
        table = [];
        workbook.worksheets[0]!.eachRow((row) => table.push((row.values as string[]).slice(1)));
      }
      expect(table[0]).toEqual(["connection", ...HEADER, "error"]);
      expect(table.length).toBe(3);
      expect(table[1]!.at(-1)).toBe("row 3: amount: ZMW allows at most 2 decimal places");
      expect(table[2]!.at(-1)).toMatch(/^row 4: recipient_phone: /);

      // Fixed in the file itself, error column left in, uploaded again: it reads as it was written.
      const fixed = format === "csv" ? Buffer.from(file.toString("utf8").replace("10.999", "10.99").replace(",12345,", ",260763457004,")) : await fixXlsx(file);
      const again = await upload(fixed, { fileName: `fix-invalid-rows.${format}`, connectionId: null });
      expect(again.counts).toMatchObject({ rows: 2, valid: 2, invalid: 0 });
      expect(again.file).toMatchObject({ hasConnectionColumn: true });
    }
    // Only the batch's maker (or an admin) gets its rows.
    const refused = await invalidRowsRequest(t.desk, new Request(`http://desk.test/api/batches/${batch.id}/invalid-rows?format=csv`, { headers: { cookie: cookies.viewer } }), batch.id);
    expect(refused.status).toBe(403);
    expect(await t.desk.db.auditLog.count({ where: { action: "batch.invalid_rows_export", entityId: batch.id } })).toBe(2);
  });

  async function fixXlsx(file: Buffer): Promise<Buffer> {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file as unknown as ExcelJS.Buffer);
    const sheet = workbook.worksheets[0]!;
    sheet.getCell("B2").value = "10.99";
    sheet.getCell("D3").value = "260763457004";
    return Buffer.from(await workbook.xlsx.writeBuffer());
  }

  it("takes uploads as the route does: makers only, 20 MB at most (said in words), 50,000 rows at most", async () => {
    const post = (cookie: string | null, body: Uint8Array, query = `fileName=p.csv&connectionId=${pawapay}`, type = "application/octet-stream") =>
      uploadRequest(t.desk, new Request(`http://desk.test/api/batches/upload?${query}`, { method: "POST", headers: { ...(cookie ? { cookie } : {}), "content-type": type }, body: body as BodyInit }));

    expect((await post(null, csv([HEADER]))).status).toBe(401);
    const viewer = await post(cookies.viewer, csv([HEADER]));
    expect(viewer.status).toBe(403);
    expect((await viewer.json()).error).toBe("Only makers upload payout files; you are viewer");
    expect((await post(cookies.maker, csv([HEADER]), `fileName=p.csv`, "multipart/form-data")).status).toBe(400);

    const big = new Uint8Array(20 * 1024 * 1024 + 1);
    // Without a Content-Length the body is read to just past the limit, no further.
    const tooBig = await post(cookies.maker, big);
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).fieldErrors.file).toBe(
      "The file is more than 20 MB; the limit is 20 MB a file. Split it into smaller files (at most 50,000 rows each) and upload each one",
    );
    // With one (as browsers send), refused before reading, with the size.
    const declared = await uploadRequest(
      t.desk,
      new Request(`http://desk.test/api/batches/upload?fileName=big.csv&connectionId=${pawapay}`, {
        method: "POST",
        headers: { cookie: cookies.maker, "content-type": "application/octet-stream", "content-length": String(23 * 1024 * 1024 + 5) },
        body: csv([HEADER]) as BodyInit,
      }),
    );
    expect((await declared.json()).fieldErrors.file).toMatch(/^The file is 23\.0 MB; the limit is 20 MB a file/);
    expect(tooLargeWords(20 * 1024 * 1024 + 1)).toBe(
      "The file is just over 20 MB (20,971,521 bytes); the limit is 20 MB a file. Split it into smaller files (at most 50,000 rows each) and upload each one",
    );
    const badConnection = await post(cookies.maker, csv([HEADER]), "fileName=p.csv&connectionId=nope");
    expect((await badConnection.json()).fieldErrors).toEqual({ connectionId: "Choose a connection (or leave it empty when the file has a connection column)" });

    const ok = await post(cookies.maker, csv([HEADER, ["1", "ZMW", phone(800), "", "Route test"]]), `fileName=${encodeURIComponent("route test.csv")}&connectionId=${pawapay}&dryRun=1`);
    expect(ok.status).toBe(202);
    const { batchId } = await ok.json();
    await settled(t.desk, batchId);
    expect(await t.caller("maker").batches.get({ id: batchId })).toMatchObject({ fileName: "route test.csv", dryRun: true, counts: { valid: 1 } });

    // Too many rows: counted to the end, refused before any row is checked.
    const many: Row[] = [HEADER];
    for (let i = 0; i <= MAX_ROWS; i++) many.push(["1", "ZMW", "260763456789", "", "x"]);
    const tooMany = await upload(csv(many, { recordDelimiter: "unix" }), { fileName: "many.csv", dryRun: true });
    expect(tooMany).toMatchObject({ phase: "failed", status: "discarded" });
    expect(tooMany.problems).toEqual([
      "The file has 50,001 rows of payouts; the limit is 50,000 rows a file. Split it into 2 files of at most 50,000 rows and upload each one",
    ]);
  });

  it("pays rows of one file through several connections named in a connection column", async () => {
    const bytes = csv([
      ["connection", "amount", "currency", "recipient_phone", "recipient_account", "recipient_name", "channel", "ifsc", "description"],
      ["pawaPay sandbox", "15", "ZMW", phone(900), "", "", "", "", "Mixed"],
      ["PontisGlobe sandbox", "100", "USDT", "", "123456789012", "Asha Rao", "India IMPS (INR)", "SBIN0001234", "Mixed"],
      ["Nowhere", "1", "ZMW", phone(901), "", "", "", "", "Mixed"],
      ["pontisglobe SANDBOX", "100", "USDT", "", "123456789013", "Ravi K", "IN-imps", "", "Mixed"],
    ]);
    const batch = await upload(bytes, { fileName: "mixed.csv", connectionId: null });
    expect(batch.counts).toMatchObject({ valid: 2, invalid: 2 });
    expect(batch.totals!.map((x) => [x.connectionName, x.currency, x.amountMinor])).toEqual(
      expect.arrayContaining([
        ["pawaPay sandbox", "ZMW", 1500n],
        ["PontisGlobe sandbox", "USDT", 10000n],
      ]),
    );
    // PontisGlobe reports no balance; the total says so rather than comparing with nothing.
    expect(batch.totals!.find((x) => x.currency === "USDT")!.balance).toMatchObject({ reports: false, availableMinor: null, enough: null });
    const invalid = await invalidRows(batch.id);
    expect(invalid[0]).toMatchObject({ row: 4, connection: null, errors: { connection: expect.stringMatching(/^No connection is named "Nowhere"; use one of: /) } });
    expect(invalid[1]).toEqual(expect.objectContaining({ row: 5, connection: "PontisGlobe sandbox", errors: { ifsc: expect.any(String) } }));
  });

  it("refuses damaged workbooks, old .xls files and non-workbook zips in words, without hanging", async () => {
    const good = await xlsx([HEADER, ["15", "ZMW", phone(950), "", "Zip test"]]);
    const cut = await upload(good.subarray(0, Math.floor(good.length / 2)), { fileName: "cut.xlsx" });
    expect(cut.problems[0]).toMatch(/^This XLSX file is damaged \(its table of contents is missing or unreadable\): was the download or copy cut short\?/);
    // Bytes changed inside the sheet: exceljs alone would wait on it for ever.
    const sheetAt = good.indexOf(Buffer.from("xl/worksheets/sheet1.xml"));
    const damaged = Buffer.from(good);
    for (let i = sheetAt + 60; i < sheetAt + 120; i++) damaged[i] = damaged[i]! ^ 0x5a;
    const broken = await upload(damaged, { fileName: "broken.xlsx" });
    expect(broken).toMatchObject({ phase: "failed", status: "discarded" });
    expect(broken.problems[0]).toMatch(/^This XLSX file is damaged \(xl\/worksheets\/sheet1\.xml does not (unpack|match its checksum)\)/);

    const xls = await upload(Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(600)]), { fileName: "old.xls" });
    expect(xls.problems[0]).toMatch(/^This is an Excel 97–2003 workbook \(\.xls\)/);
  });

  it("reads a filled-in XLSX template as it is, description row and Text-formatted columns included", async () => {
    const response = await templateRequest(t.desk, new Request(`http://desk.test/api/batches/template?connectionId=${pawapay}&format=xlsx`, { headers: { cookie: cookies.maker } }));
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await response.arrayBuffer()) as unknown as ExcelJS.Buffer);
    const sheet = workbook.getWorksheet("Payouts")!;
    sheet.getRow(3).values = [25.75, "ZMW", "0763456789", "Eve", "", "Salary"];
    sheet.getRow(4).values = [26, "ZMW", "260763456951", "Fay", "MTN_MOMO_ZMB", "Salary"];
    const batch = await upload(Buffer.from(await workbook.xlsx.writeBuffer()), { fileName: "template-filled.xlsx" });
    expect(batch.file).toMatchObject({ format: "xlsx", headerRow: 1, descriptionRow: 2 });
    expect(batch.counts).toMatchObject({ rows: 2, valid: 1, invalid: 1 });
    // The leading 0 of a number typed into a Text column survives, and gets the phone rule's own answer.
    expect(await invalidRows(batch.id)).toEqual([
      expect.objectContaining({ row: 3, values: ["25.75", "ZMW", "0763456789", "Eve", "", "Salary"], errors: { recipient_phone: "Start with the country code, not 0 (e.g. 260763456789 for Zambia)" } }),
    ]);
  });

  it("refuses a cell PostgreSQL cannot store as that row's error, and the rest of the file is checked", async () => {
    const rows: Row[] = [HEADER];
    // Past the first 4 KB, where a NUL no longer marks the whole file as binary.
    for (let i = 0; i < 120; i++) rows.push([`${60 + i}`, "ZMW", phone(960 + i), `Person ${i}`, "Stipend"]);
    rows.push(["61", "ZMW", phone(1100), "Nul\u0000Name", "Stipend\u0000x"]);
    const batch = await upload(csv(rows), { fileName: "nul.csv" });
    expect(batch).toMatchObject({ phase: "validated", counts: { valid: 120, invalid: 1 } });
    const [bad] = await invalidRows(batch.id);
    expect(bad).toMatchObject({
      row: 122,
      values: ["61", "ZMW", phone(1100), "NulName", "Stipendx"],
      errors: { recipient_name: expect.stringMatching(/^Contains a character that cannot be stored/), description: expect.stringMatching(/^Contains a character/) },
    });
  });

  it("takes up a stopped check or creation again: a stalled run is resumed, a failed creation is asked again and finishes once", async () => {
    const bytes = csv([HEADER, ["81", "ZMW", phone(1200), "", "Resume"], ["82", "ZMW", phone(1201), "", "Resume"]]);
    const batch = await upload(bytes, { fileName: "resume.csv" });
    // A creation whose process died, asked for by someone no longer there: resuming it fails, and says so.
    await t.desk.db.$executeRaw`
      UPDATE "Batch" SET summary = summary || jsonb_build_object('phase', 'creating', 'heartbeatAt', '2000-01-01T00:00:00.000Z',
        'create', jsonb_build_object('state', 'creating', 'includeDuplicates', false, 'requestedById', ${randomUUID()}::text, 'requestedAt', '2000-01-01T00:00:00.000Z',
          'createdCount', 0, 'skippedDuplicates', 0, 'nowInvalid', '[]'::jsonb, 'error', null, 'finishedAt', null, 'totals', '[]'::jsonb))
      WHERE id = ${batch.id}::uuid`;
    expect((await t.caller("maker").batches.get({ id: batch.id })).stalled).toBe(true);
    expect(await t.caller("maker").batches.resume({ id: batch.id })).toEqual({ resumed: true });
    await settled(t.desk, batch.id);
    const stopped = await t.caller("maker").batches.get({ id: batch.id });
    expect(stopped).toMatchObject({ phase: "validated", canCreate: true, create: { state: "stopped", error: expect.stringMatching(/^Creating stopped after 0 payouts/) } });
    expect(await t.desk.db.auditLog.count({ where: { action: "batch.resume", entityId: batch.id, actorId: t.users.maker.id } })).toBe(1);
    // Asked again by its maker: it finishes.
    await t.caller("maker").batches.create({ id: batch.id });
    await settled(t.desk, batch.id);
    expect(await t.caller("maker").batches.get({ id: batch.id })).toMatchObject({ status: "created", create: { state: "done", createdCount: 2, error: null } });
    // Nothing stalled: resuming does nothing.
    expect(await t.caller("maker").batches.resume({ id: batch.id })).toEqual({ resumed: false });
  });
});
