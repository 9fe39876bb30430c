// The four export formats by name. Each writer streams one file to the
// Writable it is handed (an HTTP response body, say), reading the rows as it
// goes; it ends the stream when the file is complete. If reading or writing
// fails part-way, the writer destroys the stream with the error and rejects:
// the route should let the download fail (a streamed response cannot change
// its status any more) and log the error, never send a truncated file as whole.
import { camt053Writer } from "./camt053";
import { csvWriter } from "./csv";
import { pdfWriter } from "./pdf";
import type { ExportFormat, ExportWriter } from "./types";
import { xlsxWriter } from "./xlsx";

export const exportWriters: Readonly<Record<ExportFormat, ExportWriter>> = {
  csv: csvWriter,
  xlsx: xlsxWriter,
  pdf: pdfWriter,
  camt053: camt053Writer,
};

export function exportWriter(format: ExportFormat): ExportWriter {
  return exportWriters[format];
}

export { camt053Writer } from "./camt053";
export { csvWriter } from "./csv";
export { createPdfWriter, pdfWriter } from "./pdf";
export { createXlsxWriter, xlsxWriter } from "./xlsx";
export { pagedRows } from "./paged-rows";
export type * from "./types";
