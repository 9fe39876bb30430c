// A bulk file, read: its kind from its bytes, its header mapped onto the
// columns (unknown, repeated and missing ones refuse the file), the
// template's description line skipped, empty rows skipped and counted, and
// then its rows, one at a time, each cell as exact text (cells.ts) under its
// column's name. Whole-file problems are thrown as FileProblem; a row's own
// problems (a formula, a value under no header) travel with the row.
import { csvRows, detectDelimiter, DELIMITER_NAMES } from "./csv";
import { EMPTY_CELL, type Cell } from "./cells";
import { columnLetter, isDescriptionRow, resolveHeader, type ConnectionShape, type ResolvedHeader } from "./columns";
import { detectFileKind, FileProblem } from "./encoding";
import { MAX_ROWS, tooManyRowsMessage } from "./limits";
import type { ReadProgress, SheetRow } from "./sheet";
import { xlsxRows, type XlsxSheets } from "./xlsx";

export interface FileInfo {
  format: "csv" | "xlsx";
  /** CSV only: "UTF-8" or "UTF-8 with BOM". */
  encoding: string | null;
  /** CSV only: "comma" or "semicolon". */
  delimiter: "comma" | "semicolon" | null;
  /** XLSX only: the sheet read, and the other sheets that hold something. */
  sheet: string | null;
  ignoredSheets: string[];
  headerRow: number;
  /** The template's description line, skipped; null when the file has none. */
  descriptionRow: number | null;
  /** The columns as the file wrote them, and as the desk reads them (null: empty header cell). */
  headers: string[];
  columns: Array<string | null>;
  hasConnectionColumn: boolean;
}

export interface DataRow {
  /** The row number the spreadsheet shows. */
  sheetRow: number;
  /** Each column's cell, by the column's name (amount, recipient_phone, email…). */
  cells: Map<string, Cell>;
  /** Problems of the row that belong to no column (a value under no header). */
  stray: string[];
}

export interface ReadTally {
  /** Data rows handed on (not the header, the description line or empty rows). */
  rows: number;
  /** Empty rows skipped below the header: blank lines, rows of empty cells, and gaps a workbook leaves between rows. */
  emptyRows: number;
  /** Set past MAX_ROWS: the rows were counted to the end, not handed on, and the file is refused. */
  tooMany: boolean;
}

export interface ReadOptions {
  /** The connection chosen on the upload page (null: the file must have a connection column). */
  chosen: ConnectionShape | null;
  /** Every connection that can take payouts (a connection column may name any). */
  all: ConnectionShape[];
  progress: ReadProgress;
  /** Filled in as the header is read. */
  info?: (info: FileInfo) => void;
  tally: ReadTally;
}

const isEmpty = (cells: readonly Cell[]) => cells.every((c) => c.problem === undefined && c.text.trim() === "");

/**
 * The file's data rows, streamed. Past MAX_ROWS it keeps counting (without
 * handing rows on) so the refusal can say how many rows the file has, then
 * throws FileProblem.
 */
export async function* readPayoutFile(bytes: Uint8Array, opts: ReadOptions): AsyncGenerator<DataRow> {
  const kind = detectFileKind(bytes);
  const sheets: XlsxSheets = { read: null, ignored: [] };
  let raw: AsyncGenerator<SheetRow>;
  let delimiter: "comma" | "semicolon" | null = null;
  if (kind.format === "csv") {
    const head = new TextDecoder("utf-8").decode(bytes.subarray(kind.start, kind.start + 64 * 1024));
    const detected = detectDelimiter(head);
    delimiter = DELIMITER_NAMES[detected.delimiter] as "comma" | "semicolon";
    raw = csvRows(bytes, kind.start, detected.delimiter, detected.sepLine, opts.progress);
  } else {
    raw = xlsxRows(bytes, opts.progress, sheets);
  }

  const tally = opts.tally;
  let header: ResolvedHeader | null = null;
  let info: FileInfo | null = null;
  let lastRow = 0;
  let sawData = false;
  try {
    for await (const row of raw) {
      // A workbook leaves out rows that hold nothing: the gap is empty rows the maker sees.
      const gap = header && sawData ? Math.max(0, row.sheetRow - lastRow - 1) : 0;
      lastRow = row.sheetRow;
      if (isEmpty(row.cells)) {
        if (header) tally.emptyRows++;
        continue;
      }
      if (!header) {
        header = resolveHeader(
          row.cells.map((c) => c.text),
          opts.chosen,
          opts.all,
        );
        info = {
          format: kind.format,
          encoding: kind.format === "csv" ? kind.encoding : null,
          delimiter,
          sheet: sheets.read,
          ignoredSheets: sheets.ignored,
          headerRow: row.sheetRow,
          descriptionRow: null,
          headers: header.headers,
          columns: header.columns.map((c) => c?.name ?? null),
          hasConnectionColumn: header.hasConnectionColumn,
        };
        opts.info?.(info);
        continue;
      }
      if (!sawData && info!.descriptionRow === null && isDescriptionRow(row.cells.map((c) => c.text))) {
        info!.descriptionRow = row.sheetRow;
        continue;
      }
      sawData = true;
      tally.emptyRows += gap;
      tally.rows++;
      if (tally.rows > MAX_ROWS) {
        tally.tooMany = true;
        continue;
      }
      yield dataRow(row, header);
    }
  } finally {
    await raw.return(undefined);
  }
  if (!header) throw new FileProblem("The file has no header row: its first filled row must name the columns (download the template to see them)");
  if (tally.tooMany) throw new FileProblem(tooManyRowsMessage(tally.rows));
}

function dataRow(row: SheetRow, header: ResolvedHeader): DataRow {
  const cells = new Map<string, Cell>();
  const stray: string[] = [];
  row.cells.forEach((cell, i) => {
    const spec = header.columns[i];
    if (spec) {
      cells.set(spec.name, cell);
      return;
    }
    if (cell.text.trim() === "" && !cell.problem) return;
    const where = `${columnLetter(i)}${row.sheetRow}`;
    stray.push(
      i >= header.headers.length
        ? `cell ${where} is right of the last column the header names; give its column a header or clear it`
        : `cell ${where} is under a column with no header; name the column or clear it`,
    );
  });
  for (const spec of header.columns) if (spec && !cells.has(spec.name)) cells.set(spec.name, EMPTY_CELL);
  return { sheetRow: row.sheetRow, cells, stray };
}
