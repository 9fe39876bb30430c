// A cell as the desk reads it: text, exactly. A spreadsheet's typed cells are
// turned into the text a person sees, with no float noise and no exponent:
//
// - Numbers: Excel keeps 15 significant digits and shows a number at that
//   precision; the file's binary double is rounded to 15 significant digits
//   and written as plain decimal digits. 260763456789 stays "260763456789"
//   (never 2.60763E+11), 0.30000000000000004 (0.1 + 0.2 pasted as a value)
//   reads "0.3", 150.5 reads "150.5". The amount is then read from that text
//   by the same parser as the form's, in minor units (a bigint), never a float.
//   A phone or account number typed as a number has lost any leading 0 or +:
//   a row whose number is refused says so and how to keep the column as Text.
// - Dates: a date cell where text is expected reads as 2026-03-04 (with the
//   time when it has one); in the amount, currency, phone or account column
//   it is refused: Excel turned what was typed ("3/4", "1-2") into a date.
// - Formulas (=...): refused, cell by cell, naming the formula. The cached
//   result a file carries can be stale (a file written by a program, or edited
//   elsewhere, is not recalculated) or absent, and the row would pay what the
//   last program to save the file computed rather than what the maker sees.
//   Paste Special → Values turns them into values.
// - Error cells (#N/A, #REF!) are refused; booleans read TRUE / FALSE; rich
//   text and hyperlinks read as their text.
// - CSV cells are text already. The desk's own downloads escape a cell
//   starting with = + - @ (csv-stringify's escape_formulas) with an apostrophe
//   so a spreadsheet shows it rather than runs it; reading, that apostrophe is
//   removed again, so a downloaded file uploads as it was (the desk never
//   evaluates anything, so nothing is lost by it). A number Excel shortened to
//   scientific notation when it saved the CSV (2.60763E+11) has lost its
//   digits, and is refused in a phone or account column.

export type CellKind = "text" | "number" | "date" | "boolean";

export interface Cell {
  text: string;
  kind: CellKind;
  /** The cell cannot be read as a value (a formula, an error); the row is refused with this. */
  problem?: string;
}

export const EMPTY_CELL: Cell = { text: "", kind: "text" };

/** Excel's precision: 15 significant digits. */
const EXCEL_DIGITS = 15;

/** A spreadsheet number as the plain decimal text Excel would show at full precision. */
export function numberText(n: number): string {
  const rounded = Number(n.toPrecision(EXCEL_DIGITS));
  // BigInt of an integral double is exact however large; String() would switch to 1e+21.
  if (Number.isInteger(rounded)) return BigInt(rounded).toString();
  const plain = String(rounded);
  if (!/e/i.test(plain)) return plain;
  // Tiny numbers (1e-7): toFixed never uses an exponent below 1e21.
  return rounded.toFixed(20).replace(/0+$/, "").replace(/\.$/, "");
}

function dateText(d: Date): string {
  const iso = d.toISOString();
  // exceljs reads spreadsheet dates (which have no zone) as UTC.
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function formulaShown(formula: string): string {
  const f = `=${formula}`;
  return f.length > 40 ? `${f.slice(0, 40)}…` : f;
}

/** An exceljs cell value (streaming reader) as a Cell; `address` (C7) names it in problems. */
export function xlsxCell(value: unknown, address: string): Cell {
  if (value === null || value === undefined) return EMPTY_CELL;
  if (typeof value === "string") return { text: value, kind: "text" };
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return { text: "", kind: "number", problem: `cell ${address} holds a number that cannot be read` };
    return { text: numberText(value), kind: "number" };
  }
  if (typeof value === "boolean") return { text: value ? "TRUE" : "FALSE", kind: "boolean" };
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return { text: "", kind: "date", problem: `cell ${address} holds a date that cannot be read` };
    return { text: dateText(value), kind: "date" };
  }
  if (typeof value === "object") {
    const v = value as Record<string, unknown>;
    if ("formula" in v || "sharedFormula" in v) {
      const formula = typeof v.formula === "string" && v.formula !== "" ? formulaShown(v.formula) : "a formula";
      return {
        text: "",
        kind: "text",
        problem: `cell ${address} holds ${formula === "a formula" ? "a formula" : `the formula ${formula}`}; the desk reads values only, never formulas or their saved results: copy the column and Paste Special → Values, then upload again`,
      };
    }
    if ("error" in v) return { text: "", kind: "text", problem: `cell ${address} shows the error ${String(v.error)}: put the value itself in the cell` };
    if (Array.isArray(v.richText)) return { text: v.richText.map((r: { text?: unknown }) => (typeof r.text === "string" ? r.text : "")).join(""), kind: "text" };
    if ("text" in v && typeof v.text === "string") return { text: v.text, kind: "text" };
  }
  return { text: "", kind: "text", problem: `cell ${address} holds something the desk cannot read as a value` };
}

const FORMULA_ESCAPED = /^'[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** A CSV field as a Cell: its text, with the desk's own formula escape removed. */
export function csvCell(raw: string): Cell {
  return { text: FORMULA_ESCAPED.test(raw) ? raw.slice(1) : raw, kind: "text" };
}

/** Text Excel wrote for a number it shortened to scientific notation when saving a CSV (2.60763E+11). */
export function isScientific(text: string): boolean {
  return /^[+-]?\d+(\.\d+)?E[+-]?\d+$/i.test(text.trim());
}
