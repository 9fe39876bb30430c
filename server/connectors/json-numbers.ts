// Providers put money in JSON numbers. JSON.parse would turn "10000.50" or
// 2^60 into a float; these read and write JSON with every number kept as its
// exact text (lossless-json), so money never passes through a float.
import { LosslessNumber, parse, stringify } from "lossless-json";

/**
 * JSON.parse, except that every number is handed to `keep` as its source
 * text. Throws SyntaxError on malformed JSON (and on a key given twice,
 * which a provider's answer has no reason to do).
 */
export function parseKeepingNumbers<N>(text: string, keep: (numberText: string) => N): unknown {
  return parse(text, null, keep);
}

/** JSON.stringify, with values for which `numberText` answers a string written as bare JSON numbers. */
export function stringifyKeepingNumbers(value: unknown, numberText: (value: unknown) => string | null): string {
  const text = stringify(value, (_key, v: unknown) => {
    const number = numberText(v);
    return number === null ? v : new LosslessNumber(number);
  });
  if (text === undefined) throw new Error("Nothing to write as JSON");
  return text;
}
