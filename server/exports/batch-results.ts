// A batch's results as a file: one row per data row of the uploaded file, in
// the file's order, with what became of it (its payout's status, the
// provider's reference, the failure reason, the fee), or why no payout was
// made of it (invalid, left out as a likely duplicate). CSV and XLSX, each a
// streaming function of rows like the other export writers: the rows are read
// as the file is written, never all at once.
//
// The conventions are the payouts export's (csv.ts, xlsx.ts): CSV is RFC 4180
// with a BOM and CRLF, formula-looking text escaped; money is the decimal in
// the currency's exponent beside the integer minor units, never a float; a
// fee the provider did not report says "not reported", never 0; times are
// ISO 8601 with the zone's offset (CSV) or spreadsheet dates with the zone in
// the header (XLSX). XLSX cells are values, never formulas; amounts are
// numbers in the currency's format (exact to the minor unit, amounts.ts).
import ExcelJS from "exceljs";
import { stringify } from "csv-stringify";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { decimal, spreadsheetAmount, spreadsheetFormat } from "./amounts";
import { CSV_FORMAT, NOT_REPORTED } from "./csv";
import { drained } from "./streams";
import { cutWithMarker, EXCEL_MAX_CELL_CHARS } from "./text";
import { ZonedClock } from "./zoned-time";

/** One data row of the batch's file and what became of it. */
export interface BatchResultRow {
  /** The row number the spreadsheet shows. */
  row: number;
  /** Null when no payout was made of the row. */
  payoutId: string | null;
  connectionName: string | null;
  recipientName: string | null;
  recipientPhone: string | null;
  recipientAccount: string | null;
  /** The provider's own recipient fields (bank_code, ifsc, email…), by column name. */
  details: Record<string, string> | null;
  channel: string | null;
  /** Null for a row no payout was made of whose amount could not be read: amountText says what the file held. */
  amountMinor: bigint | null;
  amountText: string | null;
  currency: string | null;
  /** A payout status, or "not_created". */
  status: string;
  statusLabel: string;
  final: boolean;
  finalizedAt: Date | null;
  providerReference: string | null;
  failureCode: string | null;
  /** In words: the provider's message, or why no payout was made. */
  failureReason: string | null;
  /** Null: not reported by the provider (payouts), or no payout (feeCurrency null too). */
  feeMinor: bigint | null;
  feeCurrency: string | null;
  description: string | null;
}

export interface BatchResultsFile {
  fileName: string;
  /** The batch's uploaded file name. */
  batchFileName: string;
  batchId: string;
  /** The provider-field columns the batch's file had, in order. */
  detailColumns: string[];
  timeZone: string;
  generatedAt: Date;
  generatedBy: string;
  /** Lines for the XLSX's About sheet: label and value. */
  about: Array<[string, string]>;
  rows: () => AsyncIterable<BatchResultRow>;
}

export const BATCH_RESULT_COLUMNS_BEFORE = ["row", "payout_id", "connection", "recipient_name", "recipient_phone", "recipient_account"] as const;
export const BATCH_RESULT_COLUMNS_AFTER = [
  "channel",
  "amount",
  "amount_minor",
  "currency",
  "status",
  "status_label",
  "final",
  "finalized_at",
  "provider_reference",
  "failure_code",
  "failure_reason",
  "fee",
  "fee_minor",
  "fee_currency",
  "description",
] as const;

export function batchResultColumns(detailColumns: string[]): string[] {
  return [...BATCH_RESULT_COLUMNS_BEFORE, ...detailColumns, ...BATCH_RESULT_COLUMNS_AFTER];
}

type Cell = string | bigint | number | null;

function feeCells(r: BatchResultRow): [Cell, Cell, Cell] {
  if (r.payoutId === null) return [null, null, null];
  if (r.feeMinor === null) return [NOT_REPORTED, null, null];
  const currency = r.feeCurrency ?? r.currency!;
  return [decimal(r.feeMinor, currency), r.feeMinor, currency];
}

function csvRecord(r: BatchResultRow, detailColumns: string[], clock: ZonedClock): Cell[] {
  const [fee, feeMinor, feeCurrency] = feeCells(r);
  return [
    r.row,
    r.payoutId,
    r.connectionName,
    r.recipientName,
    r.recipientPhone,
    r.recipientAccount,
    ...detailColumns.map((c) => r.details?.[c] ?? null),
    r.channel,
    r.amountMinor !== null && r.currency ? decimal(r.amountMinor, r.currency) : r.amountText,
    r.amountMinor,
    r.currency,
    r.status,
    r.statusLabel,
    r.final ? "yes" : "no",
    r.finalizedAt ? clock.iso(r.finalizedAt) : null,
    r.providerReference,
    r.failureCode,
    r.failureReason,
    fee,
    feeMinor,
    feeCurrency,
    r.description,
  ];
}

export async function writeBatchResultsCsv(input: BatchResultsFile, out: Writable): Promise<void> {
  const clock = new ZonedClock(input.timeZone);
  const stringifier = stringify({ header: true, columns: batchResultColumns(input.detailColumns), ...CSV_FORMAT });
  const done = pipeline(stringifier, out);
  try {
    for await (const row of input.rows()) {
      if (!stringifier.write(csvRecord(row, input.detailColumns, clock))) await drained(stringifier);
    }
    stringifier.end();
  } catch (error) {
    stringifier.destroy(error as Error);
  }
  await done;
}

type CellStyle = Partial<ExcelJS.Style>;
const PLAIN: CellStyle = {};
const BOLD: CellStyle = { font: { bold: true } };
const DATE: CellStyle = { numFmt: "yyyy-mm-dd hh:mm:ss" };
const RIGHT: CellStyle = { alignment: { horizontal: "right" } };
const TEXT: CellStyle = { numFmt: "@" };

function headerOf(column: string, zone: string): string {
  if (column === "finalized_at") return `Finalized (${zone})`;
  if (column === "amount_minor" || column === "fee_minor") return "";
  const words = column.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export async function writeBatchResultsXlsx(input: BatchResultsFile, out: Writable): Promise<void> {
  const clock = new ZonedClock(input.timeZone);
  const zone = input.timeZone;
  // The minor-unit columns are the CSV's; a spreadsheet shows the amount as a number in its currency's format.
  const columns = batchResultColumns(input.detailColumns).filter((c) => c !== "amount_minor" && c !== "fee_minor");
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  workbook.creator = input.generatedBy;
  workbook.created = input.generatedAt;
  const text = (value: string) => cutWithMarker(value.replace(/\r\n?/g, "\n"), EXCEL_MAX_CELL_CHARS);
  const amountStyles = new Map<string, CellStyle>();
  const setAmount = (cell: ExcelJS.Cell, minor: bigint, currency: string) => {
    const value = spreadsheetAmount(minor, currency);
    cell.value = value;
    if (typeof value === "number") {
      let style = amountStyles.get(currency);
      if (!style) amountStyles.set(currency, (style = { numFmt: spreadsheetFormat(currency) }));
      cell.style = style;
    } else cell.style = RIGHT;
  };
  const at = (name: string) => columns.indexOf(name) + 1;
  try {
    const sheet = workbook.addWorksheet("Results", { views: [{ state: "frozen", ySplit: 1 }] });
    sheet.columns = columns.map((c) => ({ width: c === "failure_reason" || c === "description" ? 40 : c === "payout_id" ? 38 : c === "row" ? 7 : Math.max(12, c.length + 4) }));
    const header = sheet.addRow(columns.map((c) => headerOf(c, zone)));
    header.eachCell((cell) => (cell.style = BOLD));
    header.commit();
    let sinceYield = 0;
    for await (const r of input.rows()) {
      const [fee, , feeCurrency] = feeCells(r);
      const values: Record<string, ExcelJS.CellValue | undefined> = {
        row: r.row,
        payout_id: r.payoutId ?? undefined,
        connection: r.connectionName === null ? undefined : text(r.connectionName),
        recipient_name: r.recipientName === null ? undefined : text(r.recipientName),
        recipient_phone: r.recipientPhone ?? undefined,
        recipient_account: r.recipientAccount === null ? undefined : text(r.recipientAccount),
        channel: r.channel ?? undefined,
        amount: r.amountMinor === null ? (r.amountText === null ? undefined : text(r.amountText)) : undefined,
        currency: r.currency ?? undefined,
        status: r.status,
        status_label: r.statusLabel,
        final: r.final ? "yes" : "no",
        finalized_at: r.finalizedAt ? clock.wallClock(r.finalizedAt) : undefined,
        provider_reference: r.providerReference === null ? undefined : text(r.providerReference),
        failure_code: r.failureCode === null ? undefined : text(r.failureCode),
        failure_reason: r.failureReason === null ? undefined : text(r.failureReason),
        fee: fee === NOT_REPORTED ? NOT_REPORTED : undefined,
        fee_currency: feeCurrency === null ? undefined : String(feeCurrency),
        description: r.description === null ? undefined : text(r.description),
      };
      for (const c of input.detailColumns) values[c] = r.details?.[c] === undefined ? undefined : text(r.details[c]!);
      const row = sheet.addRow(columns.map((c) => values[c]));
      row.eachCell((cell) => (cell.style = PLAIN));
      // Phones and accounts are text: a number cell would drop a leading 0 or +, and round long ones.
      for (const c of ["recipient_phone", "recipient_account", ...input.detailColumns]) if (values[c] !== undefined) row.getCell(at(c)).style = TEXT;
      if (r.finalizedAt) row.getCell(at("finalized_at")).style = DATE;
      if (r.amountMinor !== null && r.currency) setAmount(row.getCell(at("amount")), r.amountMinor, r.currency);
      if (r.payoutId !== null && r.feeMinor !== null) setAmount(row.getCell(at("fee")), r.feeMinor, r.feeCurrency ?? r.currency!);
      else if (fee === NOT_REPORTED) row.getCell(at("fee")).style = RIGHT;
      row.commit();
      if (++sinceYield === 200) {
        sinceYield = 0;
        await drained(out);
      }
    }
    sheet.commit();

    const about = workbook.addWorksheet("About");
    about.columns = [{ width: 30 }, { width: 70 }];
    const add = (values: Array<string | Date>, style?: CellStyle) => {
      const row = about.addRow(values);
      if (style) row.eachCell((cell) => (cell.style = style));
      return row;
    };
    add([`Batch results: ${text(input.batchFileName)}`], BOLD).commit();
    add(["Batch", input.batchId]).commit();
    for (const [label, value] of input.about) add([label, text(value)]).commit();
    const generated = add([`Generated at (${zone})`, clock.wallClock(input.generatedAt)]);
    generated.getCell(2).style = DATE;
    generated.commit();
    add(["Generated by", text(input.generatedBy)]).commit();
    add(["Rows", "One per data row of the uploaded file, by the row number the spreadsheet shows; rows no payout was made of say why under Failure reason."]).commit();
    about.commit();
    await workbook.commit();
  } catch (error) {
    out.destroy(error as Error);
    throw error;
  }
}
