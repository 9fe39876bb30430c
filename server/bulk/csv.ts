// CSV rows through csv-parse, streamed: the UTF-8 bytes are decoded and fed
// in 64 KB slices, and each record is handed on as it is parsed.
//
// The delimiter is a comma or a semicolon (Excel writes semicolons where the
// decimal separator is a comma), whichever the header line holds more of
// outside quotes; Excel's own `sep=;` first line, when present, decides
// instead (and, as in Excel, is not a row). Records are numbered as a
// spreadsheet numbers rows: a quoted cell spanning lines is still one row.
import { parse, CsvError } from "csv-parse";
import { Readable } from "node:stream";
import { csvCell } from "./cells";
import { FileProblem } from "./encoding";
import { byteChunks, type ReadProgress, type SheetRow } from "./sheet";

export type Delimiter = "," | ";";

export const DELIMITER_NAMES: Record<Delimiter, string> = { ",": "comma", ";": "semicolon" };

/** The delimiter and whether the first line is Excel's `sep=` line, from the start of the text. */
export function detectDelimiter(head: string): { delimiter: Delimiter; sepLine: boolean } {
  const sep = /^sep=([,;])\r?\n/i.exec(head);
  if (sep) return { delimiter: sep[1] as Delimiter, sepLine: true };
  let commas = 0;
  let semicolons = 0;
  let tabs = 0;
  let quoted = false;
  for (const ch of head) {
    if (ch === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (ch === "\n" || ch === "\r") break;
    else if (ch === ",") commas++;
    else if (ch === ";") semicolons++;
    else if (ch === "\t") tabs++;
  }
  if (tabs > 0 && commas === 0 && semicolons === 0) {
    throw new FileProblem(
      'This file is separated by tabs (Excel\'s "Unicode Text" or "Text (Tab delimited)"); the desk reads CSV separated by commas or semicolons. In Excel: File → Save As, and choose "CSV UTF-8 (Comma delimited) (*.csv)"; or upload the .xlsx workbook itself',
    );
  }
  return { delimiter: semicolons > commas ? ";" : ",", sepLine: false };
}

function* decoded(bytes: Uint8Array, start: number, progress: ReadProgress): Generator<string> {
  // Checked as UTF-8 before (encoding.ts); streaming keeps a character split across two slices whole.
  const decoder = new TextDecoder("utf-8");
  for (const chunk of byteChunks(bytes, start, progress)) yield decoder.decode(chunk, { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}

export async function* csvRows(bytes: Uint8Array, start: number, delimiter: Delimiter, sepLine: boolean, progress: ReadProgress): AsyncGenerator<SheetRow> {
  const parser = Readable.from(decoded(bytes, start, progress)).pipe(
    // relax_column_count: a short or long row is the row's problem (named there), not the whole file's.
    parse({ delimiter, relax_column_count: true, bom: false, from_line: sepLine ? 2 : 1 }),
  );
  let n = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      n++;
      yield { sheetRow: n, cells: record.map(csvCell) };
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines;
    throw new FileProblem(
      `This CSV cannot be read after row ${n.toLocaleString("en")}${line ? ` (line ${line.toLocaleString("en")} of the text)` : ""}: ${error.message.replace(/^Invalid /, "invalid ")}. A cell holding a quote, a ${DELIMITER_NAMES[delimiter]} or a line break must be in double quotes, with a quote inside written twice ("")`,
    );
  } finally {
    parser.destroy();
  }
}
