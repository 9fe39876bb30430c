// What both readers hand on: the rows of one sheet, one at a time, numbered
// as the spreadsheet shows them, and how far into the file's bytes they are.
import type { Cell } from "./cells";

export interface SheetRow {
  /** The row number a spreadsheet shows for it (the header is usually 1). */
  sheetRow: number;
  cells: Cell[];
}

/** How far the reading is, for the progress bar. */
export interface ReadProgress {
  bytesRead: number;
  totalBytes: number;
  /** Rows the sheet says it has (an XLSX's dimension), when known: a better measure than bytes there. */
  rowsExpected: number | null;
}

/** Slices of the uploaded bytes, fed to a parser one at a time (never one big string), counting what was handed over. */
export function* byteChunks(bytes: Uint8Array, start: number, progress: ReadProgress, size = 64 * 1024): Generator<Buffer> {
  for (let at = start; at < bytes.length; at += size) {
    const end = Math.min(at + size, bytes.length);
    progress.bytesRead = end;
    yield Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at);
  }
}
