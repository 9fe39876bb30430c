// Muda puts money in JSON *numbers* in major units ("amount": 10000). The desk
// never lets money pass through a JavaScript float, so numbers are written
// from their decimal string and read back as their raw text.

import { parseKeepingNumbers, stringifyKeepingNumbers } from "../json-numbers";

const DECIMAL_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** A JSON number kept as its exact source text. */
export class JsonNumber {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Marks a decimal string to be written as a bare JSON number. */
export function rawNumber(decimal: string): JsonNumber {
  if (!DECIMAL_NUMBER.test(decimal)) throw new Error(`"${decimal}" is not a plain decimal number`);
  return new JsonNumber(decimal);
}

/** JSON.stringify, with JsonNumber values written as bare numbers from their text. */
export function stringifyWithNumbers(value: unknown): string {
  return stringifyKeepingNumbers(value, (v) => (v instanceof JsonNumber ? v.text : null));
}

/**
 * JSON.parse, except that every number comes back as a JsonNumber holding its
 * exact text (so "10000.50" stays "10000.50" and 2^60 is not rounded).
 * Throws SyntaxError on malformed JSON, like JSON.parse.
 */
export function parseWithNumbers(text: string): unknown {
  return parseKeepingNumbers(text, (numberText) => new JsonNumber(numberText));
}

/** The decimal text of a JSON number read by parseWithNumbers, or null when it has an exponent or is not a number. */
export function plainDecimal(value: unknown): string | null {
  return value instanceof JsonNumber && DECIMAL_NUMBER.test(value.text) ? value.text : null;
}
