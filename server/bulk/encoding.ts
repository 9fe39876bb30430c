// What kind of file was uploaded, from its bytes (never its name): an XLSX
// workbook (a zip), or CSV text, which must be UTF-8 (with or without the
// byte-order mark Excel's "CSV UTF-8" writes). Anything else is refused with
// what it looks like and how to save it as CSV UTF-8: UTF-16 (Excel's
// "Unicode Text"), Windows-1252 (Excel's plain "CSV (Comma delimited)" on
// Windows), an old .xls, a PDF, a binary file.
import { isUtf8 } from "node:buffer";

/** The whole file is refused: each problem says what is wrong and what to do. */
export class FileProblem extends Error {
  readonly problems: string[];
  constructor(problems: string | string[]) {
    const list = typeof problems === "string" ? [problems] : problems;
    super(list.join("\n"));
    this.problems = list;
    this.name = "FileProblem";
  }
}

export type FileKind = { format: "xlsx" } | { format: "csv"; encoding: "UTF-8" | "UTF-8 with BOM"; /** Where the text starts (after a BOM). */ start: number };

export const SAVE_AS_UTF8 =
  'In Excel: File → Save As, and choose "CSV UTF-8 (Comma delimited) (*.csv)" as the file format (LibreOffice: Save As → Text CSV, character set "Unicode (UTF-8)"); or upload the .xlsx workbook itself';

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const PDF = [0x25, 0x50, 0x44, 0x46, 0x2d];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

export function detectFileKind(bytes: Uint8Array): FileKind {
  if (bytes.length === 0) throw new FileProblem("The file is empty (0 bytes): choose the file with your payouts");
  if (startsWith(bytes, ZIP)) return { format: "xlsx" };
  if (startsWith(bytes, OLE)) {
    throw new FileProblem(
      'This is an Excel 97–2003 workbook (.xls) or another old Office file, which the desk does not read. In Excel: File → Save As, and choose "Excel Workbook (*.xlsx)" or "CSV UTF-8 (Comma delimited) (*.csv)"; then upload that file',
    );
  }
  if (startsWith(bytes, PDF)) throw new FileProblem("This is a PDF document, not a spreadsheet: upload the payouts as a CSV or XLSX file");
  if (startsWith(bytes, [0xff, 0xfe, 0x00, 0x00]) || startsWith(bytes, [0x00, 0x00, 0xfe, 0xff])) {
    throw new FileProblem(`This file is UTF-32 text; the desk reads CSV in UTF-8 only. ${SAVE_AS_UTF8}`);
  }
  if (startsWith(bytes, [0xff, 0xfe])) throw new FileProblem(utf16Message("little-endian, with a byte-order mark"));
  if (startsWith(bytes, [0xfe, 0xff])) throw new FileProblem(utf16Message("big-endian, with a byte-order mark"));
  const bom = startsWith(bytes, [0xef, 0xbb, 0xbf]);
  const start = bom ? 3 : 0;
  const nul = nulPattern(bytes.subarray(start, start + 4096));
  if (nul === "even") throw new FileProblem(utf16Message("big-endian, without a byte-order mark"));
  if (nul === "odd") throw new FileProblem(utf16Message("little-endian, without a byte-order mark"));
  if (nul === "other") throw new FileProblem("This is not a text file (it holds NUL bytes): upload the payouts as a CSV or XLSX file");
  // Native and fast; the slow scan below only runs to say where a bad file goes wrong.
  if (!isUtf8(bytes.subarray(start))) throw new FileProblem(notUtf8Message(bytes, start));
  return { format: "csv", encoding: bom ? "UTF-8 with BOM" : "UTF-8", start };
}

function utf16Message(how: string): string {
  return `This file is UTF-16 text (${how}), which Excel writes for "Unicode Text"; the desk reads CSV in UTF-8 only. ${SAVE_AS_UTF8}`;
}

/**
 * UTF-16 text of mostly Latin characters has a NUL in every other byte: at
 * odd offsets when little-endian, at even ones when big-endian. A NUL byte in
 * any other pattern is a binary file; none at all is text of some 8-bit kind.
 */
function nulPattern(head: Uint8Array): "none" | "even" | "odd" | "other" {
  let even = 0;
  let odd = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] === 0) {
      if (i % 2 === 0) even++;
      else odd++;
    }
  }
  if (even + odd === 0) return "none";
  const pairs = Math.floor(head.length / 2);
  if (odd > pairs * 0.3 && even === 0) return "odd";
  if (even > pairs * 0.3 && odd === 0) return "even";
  return "other";
}

/** Where the first byte that is not UTF-8 is, and how Windows-1252 (the usual culprit) reads it. */
function notUtf8Message(bytes: Uint8Array, start: number): string {
  const at = firstInvalidUtf8(bytes, start);
  let line = 1;
  for (let i = start; i < at; i++) if (bytes[i] === 0x0a) line++;
  const byte = bytes[at]!;
  const hex = `0x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  const latin = looksLikeWindows1252(bytes.subarray(start));
  const shown = latin ? ` (Windows-1252 reads it as "${new TextDecoder("windows-1252").decode(Uint8Array.of(byte))}")` : "";
  const what = latin
    ? 'it looks like Windows-1252 or ISO-8859-1 (Latin-1), which Excel on Windows writes for plain "CSV (Comma delimited)"'
    : "its encoding is not one the desk reads";
  return `This file is not UTF-8: ${what}. Line ${line.toLocaleString("en")} has the byte ${hex}${shown}, which is not UTF-8. ${SAVE_AS_UTF8}`;
}

/** True when every byte at or above 0x80 is a printable Windows-1252 character (its five unassigned bytes are not). */
function looksLikeWindows1252(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b === 0x81 || b === 0x8d || b === 0x8f || b === 0x90 || b === 0x9d) return false;
  return true;
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629). */
export function firstInvalidUtf8(bytes: Uint8Array, start = 0): number {
  let i = start;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let code = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return i;
    i += need + 1;
  }
  return bytes.length;
}
