// XLSX through exceljs's streaming WorkbookWriter: each row is committed (turned
// into XML and handed to the zip) as soon as it is added, so memory stays flat
// whatever the number of rows. Shared strings are off: the shared-string table
// would keep every distinct text of the file in memory until the end.
//
// - Summary sheet: what the export is (period, zone, merchant, connection,
//   generated at and by) and, per connection section and in total, the
//   statement's lines (opening, settled per status, paid, fees, reversals, in
//   flight, closing, unexplained movement).
// - Detail sheet(s): one row per payout. Past `maxDataRowsPerSheet` rows
//   (Excel's 1,048,575 below its header) the detail continues on "Detail 2",
//   "Detail 3" … with the header repeated; nothing is cut.
// - Amounts are numbers in the currency's format (`#,##0.00 "ZMW"`, UGX with
//   no decimals); see amounts.ts for why that is exact and the text fallback
//   for amounts beyond 15 significant digits. A fee the provider did not
//   report says "not reported", never 0.
// - Dates are real spreadsheet dates showing the wall clock of the export's
//   zone; spreadsheet dates carry no zone, so each date column names it.
// - Text is written as text cells (never formulas), exactly as typed, so a
//   description such as `=HYPERLINK(...)` is shown and never evaluated on
//   opening. (Excel's own guard against re-evaluation after a person edits
//   the cell, the quotePrefix style, is not something exceljs can write.)
// - A text longer than Excel's 32,767 characters is cut with a visible marker.
//   Line breaks are written as line feeds (a carriage return does not survive XML).
import ExcelJS from "exceljs";
import type { Writable } from "node:stream";
import { spreadsheetAmount, spreadsheetFormat } from "./amounts";
import { NOT_REPORTED } from "./csv";
import { drained } from "./streams";
import { exportTitle, summaryLines } from "./summary-lines";
import { cutWithMarker, EXCEL_MAX_CELL_CHARS } from "./text";
import type { ExportInput, ExportRow, ExportWriter, StatementSummary } from "./types";
import { ZonedClock } from "./zoned-time";
import { failureInWords } from "@/server/domain/failure-reasons";

/** Excel's last row is 1,048,576; one is the header. */
export const EXCEL_MAX_DATA_ROWS = 1_048_575;

export interface XlsxOptions {
  /** Data rows per detail sheet before the next one starts. Default Excel's 1,048,575 (tests use a few). */
  maxDataRowsPerSheet?: number;
  /** Characters per cell before the cut. Default Excel's 32,767. */
  maxCellChars?: number;
}

type CellStyle = Partial<ExcelJS.Style>;

const DATE_FORMAT = "yyyy-mm-dd hh:mm:ss";
// One object per style: exceljs recognises a style it has seen by identity (a WeakMap),
// so reusing these objects spares it re-registering a style for every cell.
const PLAIN: CellStyle = {};
const BOLD: CellStyle = { font: { bold: true } };
const DATE: CellStyle = { numFmt: DATE_FORMAT };
const RIGHT: CellStyle = { alignment: { horizontal: "right" } };
const TITLE: CellStyle = { font: { bold: true, size: 14 } };
const WRAP: CellStyle = { alignment: { wrapText: true, vertical: "top" } };

const DETAIL_COLUMNS: Array<{ header: (zone: string) => string; width: number }> = [
  { header: () => "Payout id", width: 38 },
  { header: (zone) => `Created (${zone})`, width: 20 },
  { header: (zone) => `Finalized (${zone})`, width: 20 },
  { header: (zone) => `Reversed (${zone})`, width: 20 },
  { header: () => "Status", width: 14 },
  { header: () => "Connection", width: 22 },
  { header: () => "Provider", width: 12 },
  { header: () => "Currency", width: 9 },
  { header: () => "Amount", width: 18 },
  { header: () => "Fee", width: 16 },
  { header: () => "Fee currency", width: 9 },
  { header: () => "Debited", width: 18 },
  { header: () => "Debited currency", width: 9 },
  { header: () => "Destination amount", width: 18 },
  { header: () => "Destination currency", width: 9 },
  { header: () => "FX rate", width: 12 },
  { header: () => "Recipient name", width: 28 },
  { header: () => "Recipient phone", width: 16 },
  { header: () => "Recipient account", width: 22 },
  { header: () => "Description", width: 40 },
  { header: () => "Provider reference", width: 26 },
  { header: () => "Failure code", width: 18 },
  { header: () => "Failure message", width: 40 },
  { header: () => "Failure reason", width: 60 },
];

export function createXlsxWriter(options: XlsxOptions = {}): ExportWriter {
  const maxRows = options.maxDataRowsPerSheet ?? EXCEL_MAX_DATA_ROWS;
  const maxChars = options.maxCellChars ?? EXCEL_MAX_CELL_CHARS;
  if (!Number.isInteger(maxRows) || maxRows < 1 || maxRows > EXCEL_MAX_DATA_ROWS) {
    throw new RangeError(`maxDataRowsPerSheet must be 1 to ${EXCEL_MAX_DATA_ROWS}, not ${maxRows}`);
  }
  return {
    format: "xlsx",
    extension: "xlsx",
    contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    write: (input, out) => writeXlsx(input, out, maxRows, maxChars),
  };
}

export const xlsxWriter = createXlsxWriter();

async function writeXlsx(input: ExportInput, out: Writable, maxRows: number, maxChars: number): Promise<void> {
  const clock = new ZonedClock(input.meta.timeZone);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  workbook.creator = input.meta.generatedBy;
  workbook.created = input.meta.generatedAt;
  // XML turns a carriage return into a line feed when it is read back, and a line break in a
  // spreadsheet cell is a line feed: say so up front rather than let the reader change it.
  const text = (value: string) => cutWithMarker(value.replace(/\r\n?/g, "\n"), maxChars);
  const amountStyles = new Map<string, CellStyle>();
  const amountStyle = (currency: string): CellStyle => {
    let style = amountStyles.get(currency);
    if (!style) amountStyles.set(currency, (style = { numFmt: spreadsheetFormat(currency) }));
    return style;
  };
  /** Sets an amount cell: a number in its currency's format, or exact text when too large for a number. */
  const setAmount = (cell: ExcelJS.Cell, minor: bigint, currency: string) => {
    const value = spreadsheetAmount(minor, currency);
    cell.value = value;
    cell.style = typeof value === "number" ? amountStyle(currency) : RIGHT;
  };

  try {
    writeSummarySheet(workbook, input, clock, text, setAmount);

    const zone = input.meta.timeZone;
    let sheetNumber = 0;
    let rowsInSheet = 0;
    const startSheet = () => {
      sheetNumber += 1;
      const sheet = workbook.addWorksheet(sheetNumber === 1 ? "Detail" : `Detail ${sheetNumber}`, {
        views: [{ state: "frozen", ySplit: 1 }],
      });
      sheet.columns = DETAIL_COLUMNS.map((column) => ({ width: column.width }));
      const header = sheet.addRow(DETAIL_COLUMNS.map((column) => column.header(zone)));
      header.eachCell((cell) => (cell.style = BOLD));
      header.commit();
      rowsInSheet = 0;
      return sheet;
    };
    let current = startSheet();
    let sinceYield = 0;
    for await (const payout of input.rows()) {
      if (rowsInSheet === maxRows) {
        // A sheet is zipped as a whole before the next one starts; commit it first.
        current.commit();
        current = startSheet();
      }
      writeDetailRow(current, payout, clock, text, setAmount);
      rowsInSheet += 1;
      if (++sinceYield === 200) {
        sinceYield = 0;
        await zipCaughtUp(current);
        await drained(out);
      }
    }
    current.commit();
    await workbook.commit();
  } catch (error) {
    // A half-written zip is no file: end the download as failed.
    out.destroy(error as Error);
    throw error;
  }
}

/** Unzipped sheet XML allowed to wait for the zip before the writer pauses. */
const ZIP_BACKLOG_BYTES = 1 << 20;

/**
 * Waits until the zip has taken in what the sheet wrote. exceljs's streaming
 * writer has no backpressure of its own (exceljs#734): a committed row is
 * written to the zip's input whether or not the zip keeps up, and that input
 * buffers without limit; on 2 cores the sheet XML piled up at 70 MB per
 * 100,000 rows. So the writer looks at the sheet's stream (exceljs's
 * StreamBuf) and the stream the zip reads it through, and yields to the event
 * loop (where zlib's results arrive) until the unzipped backlog is under
 * 1 MB. Private fields of a pinned exceljs; if they are ever missing this
 * waits for nothing, and the bench's memory figure shows it. A zip that makes
 * no progress at all for 2 s (it should never happen) stops the waiting
 * rather than the export.
 */
async function zipCaughtUp(sheet: ExcelJS.Worksheet) {
  type Buffered = { length?: number };
  type Pipe = { _readableState?: Buffered; _writableState?: Buffered };
  const stream = (sheet as unknown as { stream?: { pipes?: Pipe[]; buffers?: unknown[] } }).stream;
  const backlog = () => {
    const pipe = stream?.pipes?.[0];
    return (stream?.buffers?.length ?? 0) * 65_536 + (pipe?._readableState?.length ?? 0) + (pipe?._writableState?.length ?? 0);
  };
  let last = backlog();
  let stalledSince = Date.now();
  while (last > ZIP_BACKLOG_BYTES) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const now = backlog();
    if (now < last) stalledSince = Date.now();
    else if (Date.now() - stalledSince > 2_000) return;
    last = now;
  }
}

/** The failure in words (failure-reasons.ts), as the payout page and the list say it; no cell when the payout carries no failure. */
function reasonText(p: ExportRow, text: (value: string) => string): string | undefined {
  const words = failureInWords(p.provider, p.failureCode, p.failureMessage);
  return words === null ? undefined : text(words);
}

type SetAmount = (cell: ExcelJS.Cell, minor: bigint, currency: string) => void;

function writeDetailRow(sheet: ExcelJS.Worksheet, p: ExportRow, clock: ZonedClock, text: (value: string) => string, setAmount: SetAmount) {
  // Absent values are `undefined`, not null: exceljs makes no cell for them, where a null
  // cell would still be styled and written.
  const row = sheet.addRow([
    p.payoutId,
    clock.wallClock(p.createdAt),
    p.finalizedAt ? clock.wallClock(p.finalizedAt) : undefined,
    p.reversedAt ? clock.wallClock(p.reversedAt) : undefined,
    p.status,
    text(p.connectionName),
    p.provider,
    p.currency,
    undefined,
    undefined,
    p.feeMinor === null ? undefined : (p.feeCurrency ?? p.currency),
    undefined,
    p.debitedMinor === null ? undefined : (p.debitedCurrency ?? undefined),
    undefined,
    p.destinationMinor === null ? undefined : (p.destinationCurrency ?? undefined),
    p.fxRate ?? undefined,
    p.recipientName === null ? undefined : text(p.recipientName),
    p.recipientPhone ?? undefined,
    p.recipientAccount === null ? undefined : text(p.recipientAccount),
    text(p.description),
    p.providerReference === null ? undefined : text(p.providerReference),
    p.failureCode === null ? undefined : text(p.failureCode),
    p.failureMessage === null ? undefined : text(p.failureMessage),
    reasonText(p, text),
  ]);
  // Every cell gets a style object exceljs has seen before: it recognises styles by identity,
  // and the fresh empty style each new cell carries cost a full style lookup per cell.
  row.eachCell((cell) => (cell.style = PLAIN));
  row.getCell(2).style = DATE;
  if (p.finalizedAt) row.getCell(3).style = DATE;
  if (p.reversedAt) row.getCell(4).style = DATE;
  setAmount(row.getCell(9), p.amountMinor, p.currency);
  if (p.feeMinor === null) {
    const fee = row.getCell(10);
    fee.value = NOT_REPORTED;
    fee.style = RIGHT;
  } else {
    setAmount(row.getCell(10), p.feeMinor, p.feeCurrency ?? p.currency);
  }
  if (p.debitedMinor !== null && p.debitedCurrency) setAmount(row.getCell(12), p.debitedMinor, p.debitedCurrency);
  if (p.destinationMinor !== null && p.destinationCurrency) setAmount(row.getCell(14), p.destinationMinor, p.destinationCurrency);
  row.commit();
}

function writeSummarySheet(
  workbook: ExcelJS.stream.xlsx.WorkbookWriter,
  input: ExportInput,
  clock: ZonedClock,
  text: (value: string) => string,
  setAmount: SetAmount,
) {
  const { meta } = input;
  const zone = meta.timeZone;
  const sheet = workbook.addWorksheet("Summary");
  sheet.columns = [{ width: 34 }, { width: 24 }, { width: 10 }, { width: 24 }, { width: 70 }];
  const add = (values: Array<string | number | Date | null>, style?: CellStyle) => {
    const row = sheet.addRow(values);
    if (style) row.eachCell((cell) => (cell.style = style));
    return row;
  };
  const dated = (label: string, instant: Date) => {
    const row = add([label, clock.wallClock(instant)]);
    row.getCell(2).style = DATE;
    row.commit();
  };

  add([`${exportTitle(meta)}: ${text(meta.merchantName)}`], TITLE).commit();
  add(["Merchant", text(meta.merchantName)]).commit();
  add(["Connection", text(meta.connectionLabel)]).commit();
  add(["Currency", meta.currency ?? "several (each row names its own)"]).commit();
  dated(`Period from (${zone})`, meta.periodFrom);
  dated(`Period to, not included (${zone})`, meta.periodTo);
  add(["Time zone", `${zone} (${clock.offsetLabel(meta.periodFrom)} at the start of the period)`]).commit();
  if (meta.filters) add(["Filters", text(meta.filters)]).commit();
  dated(`Generated at (${zone})`, meta.generatedAt);
  add(["Generated by", text(meta.generatedBy)]).commit();

  const blocks: Array<{ title: string; summary: StatementSummary }> = input.sections.map((section) => ({
    title: `${section.connectionName} (${section.provider}) — ${section.summary.currency}`,
    summary: section.summary,
  }));
  if (input.total && input.sections.length !== 1) blocks.push({ title: `Total — ${input.total.currency}`, summary: input.total });
  for (const block of blocks) {
    add([]).commit();
    const head = add([text(block.title), "Amount", "Payouts", `At (${zone})`, "Note"], BOLD);
    head.commit();
    for (const line of summaryLines(block.summary)) {
      const row = add([line.label, null, line.count ?? null, line.at ? clock.wallClock(line.at) : null, line.note ?? null]);
      if (line.amountMinor !== null) setAmount(row.getCell(2), line.amountMinor, block.summary.currency);
      if (line.at) row.getCell(4).style = DATE;
      if (line.strong) row.getCell(1).style = BOLD;
      if (line.note) row.getCell(5).style = WRAP;
      row.commit();
    }
  }
  if (input.sections.length === 0) {
    add([]).commit();
    add(["The detail sheet lists every payout of this export, one row each."]).commit();
  }
  sheet.commit();
}
