// Text limits the formats impose, applied without ever splitting a character
// (a surrogate pair) and always visibly: a reader must see that something was cut.

/** Excel's limit on the characters (UTF-16 code units) in one cell. */
export const EXCEL_MAX_CELL_CHARS = 32_767;

/**
 * `text` if it fits in `max` UTF-16 code units; otherwise its beginning and a
 * marker saying how long it was, together exactly within `max`.
 */
export function cutWithMarker(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = ` … [cut: ${text.length.toLocaleString("en-US")} characters in all; the CSV export has the full text]`;
  let keep = Math.max(0, max - marker.length);
  // Never end on the first half of a surrogate pair.
  if (keep > 0 && isHighSurrogate(text.charCodeAt(keep - 1))) keep -= 1;
  return text.slice(0, keep) + marker;
}

/** At most `max` code points, with "…" at the end when cut (camt.053's MaxNNText counts characters). */
export function cutCodePoints(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  return points.slice(0, max - 1).join("") + "…";
}

/** Consecutive chunks of at most `max` code points: long text spread over repeatable fields, nothing lost. */
export function chunkCodePoints(text: string, max: number): string[] {
  const points = Array.from(text);
  const chunks: string[] = [];
  for (let i = 0; i < points.length; i += max) chunks.push(points.slice(i, i + max).join(""));
  return chunks;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
