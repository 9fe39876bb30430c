// XLSX rows through exceljs's streaming WorkbookReader, fed the uploaded
// bytes in 64 KB slices; rows are handed on one at a time as the sheet's XML
// is parsed. The sheet read is the workbook's first visible sheet (the
// template has one, "Payouts"); other sheets are read past and named in the
// summary when they hold anything, so nobody thinks they were paid.
//
// Cells keep their types until cells.ts turns them into text (numbers exact,
// dates spelled out, formulas refused), which is why styles are read: a date
// is a number with a date format.
import ExcelJS from "exceljs";
import { Readable } from "node:stream";
import { crc32, inflateRawSync, constants as zlib } from "node:zlib";
import { xlsxCell, type Cell } from "./cells";
import { columnLetter } from "./columns";
import { FileProblem, SAVE_AS_UTF8 } from "./encoding";
import { byteChunks, type ReadProgress, type SheetRow } from "./sheet";

export interface XlsxSheets {
  /** The sheet read. */
  read: string | null;
  /** Other sheets that hold at least one value (not read). */
  ignored: string[];
}

interface SheetModel {
  name: string;
  state?: string;
}

export async function* xlsxRows(bytes: Uint8Array, progress: ReadProgress, sheets: XlsxSheets): AsyncGenerator<SheetRow> {
  checkWorkbookZip(bytes);
  progress.rowsExpected = firstSheetRows(bytes);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(byteChunks(bytes, 0, progress)), {
    worksheets: "emit",
    sharedStrings: "cache",
    hyperlinks: "ignore",
    styles: "cache",
    entries: "ignore",
  });
  let target: string | null = null;
  try {
    for await (const sheet of stallGuard(reader as AsyncIterable<ExcelJS.stream.xlsx.WorksheetReader & { name: string }>)) {
      const order = ((reader as unknown as { model?: { sheets?: SheetModel[] } }).model?.sheets ?? []).filter((s) => !s.state || s.state === "visible");
      target ??= order[0]?.name ?? sheet.name;
      if (sheets.read === null && sheet.name === target) {
        sheets.read = sheet.name;
        for await (const row of stallGuard(sheet as AsyncIterable<ExcelJS.Row>)) {
          const values = row.values as unknown[];
          const cells: Cell[] = [];
          for (let col = 1; col < values.length; col++) cells.push(xlsxCell(values[col], `${columnLetter(col - 1)}${row.number}`));
          yield { sheetRow: row.number, cells };
        }
      } else {
        // Read past (the zip is one stream), noting a sheet that holds anything.
        for await (const row of stallGuard(sheet as AsyncIterable<ExcelJS.Row>)) {
          if (!sheets.ignored.includes(sheet.name) && (row.values as unknown[]).some((v) => v !== null && v !== undefined && v !== "")) sheets.ignored.push(sheet.name);
        }
      }
    }
  } catch (error) {
    if (error instanceof FileProblem) throw error;
    throw new FileProblem(
      `This XLSX file cannot be read (${(error as Error).message || "it is damaged or not an Excel workbook"}): open it in Excel and save it again as "Excel Workbook (*.xlsx)". ${SAVE_AS_UTF8.replace(/; or upload the \.xlsx workbook itself$/, "")}`,
    );
  }
  if (sheets.read === null) {
    throw new FileProblem('This file is a zip archive but holds no Excel worksheet: upload an Excel workbook (.xlsx) or a CSV UTF-8 file');
  }
}

/**
 * How long exceljs may go without a row (or a sheet) before the file is given
 * up on. Generous on purpose: exceljs turns the event loop once per small
 * slice of XML, and reads all of a workbook's shared strings before its first
 * row, so on a busy desk (thousands of payouts being sent on the embedded
 * database, whose queries hold the event loop) a valid 50,000-row workbook
 * went more than a minute without a row and was refused as unreadable (found
 * by the 50,000-row acceptance walk; the same file reads in 1.3 s on an idle
 * desk). A damaged file is refused by checkWorkbookZip before exceljs sees it.
 */
const STALL_MS = 300_000;

/**
 * The last guard against a file exceljs waits on forever (checkWorkbookZip
 * catches the damage we know of): a read that yields nothing for STALL_MS
 * refuses the file instead of leaving its check running for ever.
 */
async function* stallGuard<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FileProblem(`This XLSX file could not be read: nothing came out of it for ${STALL_MS / 1000} seconds. Open it in Excel and save it again, or save it as "CSV UTF-8 (Comma delimited) (*.csv)"`)), STALL_MS);
    });
    let next: IteratorResult<T>;
    try {
      next = await Promise.race([iterator.next(), stalled]);
    } finally {
      // Only the wait for exceljs counts, never the time the rows take to check.
      clearTimeout(timer);
    }
    if (next.done) return;
    yield next.value;
  }
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressed: number;
  uncompressed: number;
  /** Where the entry's data starts. */
  data: number;
}

/** The zip's central directory, or null when it has none (a cut-off file) or one this reader cannot follow (zip64). */
function zipEntries(view: Buffer): ZipEntry[] | null {
  const floor = Math.max(0, view.length - 65_557);
  let eocd = -1;
  for (let i = view.length - 22; i >= floor; i--) {
    if (view.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const count = view.readUInt16LE(eocd + 10);
  let at = view.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > view.length || view.readUInt32LE(at) !== 0x02014b50) return null;
    const nameLength = view.readUInt16LE(at + 28);
    const local = view.readUInt32LE(at + 42);
    const entry = {
      name: view.toString("utf8", at + 46, at + 46 + nameLength),
      flags: view.readUInt16LE(at + 8),
      method: view.readUInt16LE(at + 10),
      crc: view.readUInt32LE(at + 16),
      compressed: view.readUInt32LE(at + 20),
      uncompressed: view.readUInt32LE(at + 24),
      data: -1,
    };
    at += 46 + nameLength + view.readUInt16LE(at + 30) + view.readUInt16LE(at + 32);
    if (entry.compressed === 0xffffffff || entry.uncompressed === 0xffffffff || local === 0xffffffff) return null;
    if (local + 30 > view.length || view.readUInt32LE(local) !== 0x04034b50) return null;
    entry.data = local + 30 + view.readUInt16LE(local + 26) + view.readUInt16LE(local + 28);
    if (entry.data + entry.compressed > view.length) return null;
    entries.push(entry);
  }
  return entries;
}

/** What an XLSX may unpack to: far above any 50,000-row sheet, far below what would hurt the server (a zip bomb). */
const MAX_UNPACKED_BYTES = 512 * 1024 * 1024;

/**
 * Checks the workbook's zip before exceljs reads it: every entry must unpack
 * (with its checksum right) and the whole stay under MAX_UNPACKED_BYTES.
 * exceljs's streaming reader does not report a damaged entry: it waits for
 * it forever, so a damaged file would never finish checking. Also says what
 * a zip that is not a workbook is (an .ods, a .docx).
 */
export function checkWorkbookZip(bytes: Uint8Array): void {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const entries = zipEntries(view);
  const damaged = (why: string) =>
    new FileProblem(`This XLSX file is damaged (${why}): was the download or copy cut short? Open it in Excel and save it again as "Excel Workbook (*.xlsx)", or as "CSV UTF-8 (Comma delimited) (*.csv)"`);
  if (!entries) throw damaged("its table of contents is missing or unreadable");
  const names = new Set(entries.map((e) => e.name));
  if (!names.has("xl/workbook.xml")) {
    const mimetype = entries.find((e) => e.name === "mimetype");
    const ods = mimetype && mimetype.method === 0 && view.toString("utf8", mimetype.data, mimetype.data + mimetype.compressed).includes("opendocument.spreadsheet");
    if (ods) throw new FileProblem('This is an OpenDocument spreadsheet (.ods): in LibreOffice, File → Save As, and choose "Excel 2007-365 (.xlsx)" or "Text CSV" with the character set "Unicode (UTF-8)"');
    const word = names.has("word/document.xml");
    throw new FileProblem(`This is a zip archive${word ? " (a Word document)" : ""}, not an Excel workbook: upload the payouts as an .xlsx workbook or a CSV UTF-8 file`);
  }
  let total = 0;
  for (const entry of entries) {
    total += entry.uncompressed;
    if (total > MAX_UNPACKED_BYTES) throw new FileProblem(`This XLSX file unpacks to more than ${MAX_UNPACKED_BYTES / 1024 / 1024} MB, far more than 50,000 rows of payouts take: it is not a payout file the desk can read`);
    if (entry.flags & 0x1) throw new FileProblem("This XLSX file is password-protected (encrypted): save a copy without a password and upload that");
    if (entry.method !== 0 && entry.method !== 8) throw damaged(`${entry.name} is packed in a way Excel does not use`);
    const packed = view.subarray(entry.data, entry.data + entry.compressed);
    let unpacked: Buffer;
    try {
      unpacked = entry.method === 8 ? inflateRawSync(packed, { maxOutputLength: entry.uncompressed + 1 }) : packed;
    } catch {
      throw damaged(`${entry.name} does not unpack`);
    }
    if (unpacked.length !== entry.uncompressed || crc32(unpacked) !== entry.crc) throw damaged(`${entry.name} does not match its checksum`);
  }
}

/**
 * How many rows the workbook's first worksheet says it spans (its
 * <dimension ref="A1:H5001">), read from the zip's first kilobytes of that
 * sheet without unpacking the rest; null when it does not say. Only for the
 * progress bar: exceljs may have to unpack a whole sheet to a temporary file
 * before it reads a row (when the shared strings come after the sheets, as
 * Excel writes them), so the bytes read say little of how far the rows are.
 */
export function firstSheetRows(bytes: Uint8Array): number | null {
  try {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const sheet = zipEntries(view)?.find((e) => e.name === "xl/worksheets/sheet1.xml");
    if (!sheet) return null;
    const head = view.subarray(sheet.data, sheet.data + Math.min(sheet.compressed, 16_384));
    const xml = (sheet.method === 8 ? inflateRawSync(head, { finishFlush: zlib.Z_SYNC_FLUSH }) : head).toString("utf8");
    const dimension = /<(?:\w+:)?dimension\s+ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"/.exec(xml);
    return dimension ? Number(dimension[2] ?? dimension[1]) : null;
  } catch {
    return null;
  }
}
