// The invalid rows of a file, as a file to fix and upload again: the file's
// own columns with the values as the desk read them, and an "error" column
// the reader ignores, so the fixed file uploads as it is.
//
// CSV is written as the desk's exports write it (server/exports/csv.ts's
// CSV_FORMAT: BOM, CRLF, and a cell starting with = + - @ escaped with an
// apostrophe so a spreadsheet shows it instead of running it; the reader
// removes that apostrophe again). XLSX cells are all text cells, never
// formulas, so nothing in them is evaluated and every digit is kept.
import ExcelJS from "exceljs";
import { PassThrough } from "node:stream";
import { stringify } from "csv-stringify";
import { CSV_FORMAT } from "@/server/exports/csv";
import { cutWithMarker, EXCEL_MAX_CELL_CHARS } from "@/server/exports/text";
import type { FileFormat } from "./template";

export interface InvalidFileRow {
  values: string[];
  error: string;
}

async function collect(stream: PassThrough, write: () => Promise<void>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  await write();
  await ended;
  return Buffer.concat(chunks);
}

/** At most MAX_ROWS rows of a dozen short cells: built in memory, a few megabytes at worst. */
export async function invalidRowsFile(columns: string[], rows: Iterable<InvalidFileRow>, format: FileFormat): Promise<Buffer> {
  const header = [...columns, "error"];
  if (format === "csv") {
    const out = new PassThrough();
    return collect(out, async () => {
      const stringifier = stringify(CSV_FORMAT);
      stringifier.pipe(out);
      stringifier.write(header);
      for (const row of rows) stringifier.write([...row.values, row.error]);
      stringifier.end();
    });
  }
  const out = new PassThrough();
  return collect(out, async () => {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
    const sheet = workbook.addWorksheet("Invalid rows", { views: [{ state: "frozen", ySplit: 1 }] });
    sheet.columns = header.map((name) => ({ key: name, width: name === "error" ? 80 : Math.max(14, name.length + 4), style: { numFmt: "@" } }));
    const head = sheet.addRow(header);
    head.font = { bold: true };
    head.commit();
    const cell = (text: string) => cutWithMarker(text, EXCEL_MAX_CELL_CHARS);
    for (const row of rows) sheet.addRow([...row.values.map(cell), cell(row.error)]).commit();
    sheet.commit();
    await workbook.commit();
  });
}
