// The template of a connection, as CSV or XLSX: the header row with exactly
// that connection's columns (columns.ts) and, as the second row, a line
// describing each column, every description starting with "Required" or
// "Optional" so the reader knows and skips it. No example payout: a filled-in
// example left in the file would be paid.
//
// CSV: UTF-8 with a byte-order mark (Excel then opens it as UTF-8), CRLF,
// written as the desk's exports write CSV (formula-looking cells escaped).
// XLSX: one sheet, "Payouts"; the description line in grey italics and again
// as a note on each header cell; the two rows frozen; the columns that hold
// numbers as text (phone, account, codes) formatted as Text, so Excel keeps
// every digit and leading zero of what is typed there.
import ExcelJS from "exceljs";
import { stringify } from "csv-stringify/sync";
import { CSV_FORMAT } from "@/server/exports/csv";
import { templateColumns, type ConnectionShape } from "./columns";

export type FileFormat = "csv" | "xlsx";

export const CONTENT_TYPES: Record<FileFormat, string> = {
  csv: "text/csv; charset=utf-8",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

/** "payouts-template-pawapay-sandbox.csv": the connection's name in plain letters. */
export function templateFileName(connectionName: string, format: FileFormat): string {
  const slug = connectionName.normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "connection";
  return `payouts-template-${slug}.${format}`;
}

export async function templateBytes(connection: ConnectionShape, format: FileFormat): Promise<Buffer> {
  const columns = templateColumns(connection);
  if (format === "csv") {
    return Buffer.from(stringify([columns.map((c) => c.name), columns.map((c) => c.description)], CSV_FORMAT));
  }
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "Payout desk";
  const sheet = workbook.addWorksheet("Payouts", { views: [{ state: "frozen", ySplit: 2 }] });
  sheet.columns = columns.map((c) => ({
    key: c.name,
    width: Math.max(14, Math.min(40, c.name.length + 4)),
    style: c.text ? { numFmt: "@" } : {},
  }));
  const header = sheet.getRow(1);
  const notes = sheet.getRow(2);
  columns.forEach((c, i) => {
    const cell = header.getCell(i + 1);
    cell.value = c.name;
    cell.font = { bold: true };
    cell.note = c.description;
    const note = notes.getCell(i + 1);
    note.value = c.description;
    note.font = { italic: true, color: { argb: "FF64748B" } };
    note.alignment = { wrapText: true, vertical: "top" };
  });
  notes.height = 60;
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
