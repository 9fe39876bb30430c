// Muda puts money in JSON *numbers* in major units ("amount": 10000). The desk
// never lets money pass through a JavaScript float, so numbers are written
// from their decimal string and read back as their raw text.

import { randomBytes } from "node:crypto";

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
  const marks: string[] = [];
  // A per-call nonce: a string in the data cannot pose as a marker.
  const nonce = randomBytes(8).toString("hex");
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof JsonNumber) {
      marks.push(v.text);
      return `\u0000${nonce}:${marks.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(new RegExp(`"\\\\u0000${nonce}:(\\d+)\\\\u0000"`, "g"), (_m, index: string) => marks[Number(index)]!);
}

/**
 * JSON.parse, except that every number comes back as a JsonNumber holding its
 * exact text (so "10000.50" stays "10000.50" and 2^60 is not rounded).
 * Throws SyntaxError on malformed JSON, like JSON.parse.
 */
export function parseWithNumbers(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("Expected a property name");
        const key = string();
        ws();
        if (text[i] !== ":") fail("Expected ':'");
        i++;
        const v = value();
        // Same semantics as JSON.parse for a "__proto__" key: an own property.
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return out;
        }
        fail("Expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return out;
        }
        fail("Expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) return fail("Unexpected token");
    i += match[0].length;
    return new JsonNumber(match[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) fail("Unterminated string");
      const c = text[i]!;
      if (c === '"') break;
      if (c === "\\") i++;
      else if (c < " ") fail("Control character in string");
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const result = value();
  ws();
  if (i !== text.length) fail("Unexpected data after JSON");
  return result;
}

/** The decimal text of a JSON number read by parseWithNumbers, or null when it has an exponent or is not a number. */
export function plainDecimal(value: unknown): string | null {
  return value instanceof JsonNumber && DECIMAL_NUMBER.test(value.text) ? value.text : null;
}
