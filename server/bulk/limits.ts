// What one bulk file may hold, and how sizes are said to people.

/** Rows of payouts in one file (not counting the header, the description line or empty rows). */
export const MAX_ROWS = 50_000;

/** Bytes in one file: 20 MB, in the binary megabytes spreadsheets and file managers show. */
export const MAX_BYTES = 20 * 1024 * 1024;

/** "23.4 MB", "812 KB", "96 bytes": what a file manager would show for this many bytes. */
export function sizeInWords(bytes: number): string {
  if (bytes < 1024) return `${bytes.toLocaleString("en")} byte${bytes === 1 ? "" : "s"}`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  // Never rounds a file just over the limit down to "20.0 MB".
  const mb = Math.floor((bytes / (1024 * 1024)) * 10) / 10;
  return `${mb.toFixed(1)} MB`;
}

export const MAX_BYTES_WORDS = "20 MB";

/** `atLeast`: the upload was cut off at the limit, so only a lower bound is known. */
export function tooLargeMessage(bytes: number, atLeast = false): string {
  const size = sizeInWords(bytes);
  const said = atLeast ? `more than ${MAX_BYTES_WORDS}` : size === "20.0 MB" ? `just over ${MAX_BYTES_WORDS} (${bytes.toLocaleString("en")} bytes)` : size;
  return `The file is ${said}; the limit is ${MAX_BYTES_WORDS} a file. Split it into smaller files (at most ${MAX_ROWS.toLocaleString("en")} rows each) and upload each one`;
}

export function tooManyRowsMessage(rows: number): string {
  const files = Math.ceil(rows / MAX_ROWS);
  return `The file has ${rows.toLocaleString("en")} rows of payouts; the limit is ${MAX_ROWS.toLocaleString("en")} rows a file. Split it into ${files} files of at most ${MAX_ROWS.toLocaleString("en")} rows and upload each one`;
}
