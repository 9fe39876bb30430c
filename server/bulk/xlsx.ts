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
import { inflateRawSync, constants as zlib } from "node:zlib";
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
    for await (const sheet of reader as AsyncIterable<ExcelJS.stream.xlsx.WorksheetReader & { name: string }>) {
      const order = ((reader as unknown as { model?: { sheets?: SheetModel[] } }).model?.sheets ?? []).filter((s) => !s.state || s.state === "visible");
      target ??= order[0]?.name ?? sheet.name;
      if (sheets.read === null && sheet.name === target) {
        sheets.read = sheet.name;
        for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
          const values = row.values as unknown[];
          const cells: Cell[] = [];
          for (let col = 1; col < values.length; col++) cells.push(xlsxCell(values[col], `${columnLetter(col - 1)}${row.number}`));
          yield { sheetRow: row.number, cells };
        }
      } else {
        // Read past (the zip is one stream), noting a sheet that holds anything.
        for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
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
    const floor = Math.max(0, view.length - 65_557);
    let eocd = -1;
    for (let i = view.length - 22; i >= floor; i--) {
      if (view.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return null;
    const entries = view.readUInt16LE(eocd + 10);
    let at = view.readUInt32LE(eocd + 16);
    for (let n = 0; n < entries && at + 46 <= view.length; n++) {
      if (view.readUInt32LE(at) !== 0x02014b50) return null;
      const method = view.readUInt16LE(at + 10);
      const compressed = view.readUInt32LE(at + 20);
      const nameLength = view.readUInt16LE(at + 28);
      const extraLength = view.readUInt16LE(at + 30);
      const commentLength = view.readUInt16LE(at + 32);
      const local = view.readUInt32LE(at + 42);
      const name = view.toString("utf8", at + 46, at + 46 + nameLength);
      at += 46 + nameLength + extraLength + commentLength;
      if (name !== "xl/worksheets/sheet1.xml") continue;
      if (view.readUInt32LE(local) !== 0x04034b50) return null;
      const data = local + 30 + view.readUInt16LE(local + 26) + view.readUInt16LE(local + 28);
      const head = view.subarray(data, Math.min(data + Math.min(compressed, 16_384), view.length));
      const xml = (method === 8 ? inflateRawSync(head, { finishFlush: zlib.Z_SYNC_FLUSH }) : head).toString("utf8");
      const dimension = /<(?:\w+:)?dimension\s+ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"/.exec(xml);
      return dimension ? Number(dimension[2] ?? dimension[1]) : null;
    }
    return null;
  } catch {
    return null;
  }
}
