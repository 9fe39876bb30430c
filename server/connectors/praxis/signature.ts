// Praxis's signature and the JSON it is computed over.
//
// Praxis signs requests, responses and notifications the same way: every
// field but `signature`, keys sorted ascending, the VALUES concatenated with
// no separator, the Merchant Secret appended, sha384 as 96 lowercase hex.
//
// Because the values are concatenated as text, the exact text of a JSON
// number matters (a trace_id or an amount in cents must not go through a
// float), so this module reads JSON with numbers kept as their source text
// (JsonNumber) and writes JSON with bigint amounts as plain integers.
//
// How each value becomes text (our decisions where Praxis documents none):
// - string: as is; null (or absent-but-present-as-null): empty string;
// - number: its decimal text as received (JsonNumber) or, when we build a
//   body, the bigint / safe integer in plain decimal;
// - boolean: "1" for true and "" for false, as PHP (Praxis's stack) would
//   print them — never sent by us, never seen in the 1.2 shapes;
// - nested objects and arrays: their values, recursively, objects in sorted
//   key order. Direct API 1.2 bodies are flat (data_* fields are top-level
//   keys), so this is a documented guess that only matters if Praxis adds
//   nested fields; a wrong guess makes a response unverifiable, i.e. "unknown",
//   never wrongly trusted.
import { createHash, timingSafeEqual } from "node:crypto";
import { parseKeepingNumbers } from "../json-numbers";

/** A JSON number kept as the exact text it had on the wire. */
export class JsonNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

export type PraxisValue = string | JsonNumber | bigint | number | boolean | null | undefined | PraxisValue[] | { [key: string]: PraxisValue };
export type PraxisFields = Record<string, PraxisValue>;

export const PRAXIS_VERSION = "1.2";

/** The text a value contributes to the signature string. */
export function signatureText(value: PraxisValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`Praxis fields carry integers only (got ${value})`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "1" : "";
  if (Array.isArray(value)) return value.map(signatureText).join("");
  return Object.keys(value)
    .sort()
    .map((key) => signatureText(value[key]))
    .join("");
}

/** The string that is hashed: sorted values of every field but `signature`, then the secret. */
export function signatureBase(fields: PraxisFields, merchantSecret: string): string {
  return (
    Object.keys(fields)
      .filter((key) => key !== "signature")
      .sort()
      .map((key) => signatureText(fields[key]))
      .join("") + merchantSecret
  );
}

export function signPraxis(fields: PraxisFields, merchantSecret: string): string {
  return createHash("sha384").update(signatureBase(fields, merchantSecret), "utf8").digest("hex");
}

/** True when `fields.signature` is the signature of the other fields under this secret. */
export function verifyPraxis(fields: PraxisFields, merchantSecret: string): boolean {
  const received = fields.signature;
  if (typeof received !== "string" || !/^[0-9a-fA-F]{96}$/.test(received)) return false;
  let expected: string;
  try {
    expected = signPraxis(fields, merchantSecret);
  } catch {
    return false;
  }
  return timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(received.toLowerCase(), "latin1"));
}

/** Adds `signature` (last, as in Praxis's examples). */
export function withSignature<T extends PraxisFields>(fields: T, merchantSecret: string): T & { signature: string } {
  const { signature: _ignored, ...rest } = fields as PraxisFields;
  return { ...(rest as T), signature: signPraxis(rest, merchantSecret) };
}

// ---------------------------------------------------------------- JSON text

/**
 * Writes JSON in the given key order; bigint and JsonNumber values become
 * plain JSON integers without passing through a float.
 */
export function toPraxisJson(value: PraxisValue): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") return value.toString();
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("JSON has no infinite numbers");
    return JSON.stringify(value);
  }
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toPraxisJson).join(",")}]`;
  return `{${Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${toPraxisJson(v)}`)
    .join(",")}}`;
}

export class PraxisJsonError extends Error {}

/** Parses JSON keeping every number as its source text (JsonNumber). Throws PraxisJsonError on bad input. */
export function parsePraxisJson(text: string): PraxisValue {
  try {
    return parseKeepingNumbers(text, (numberText) => new JsonNumber(numberText)) as PraxisValue;
  } catch (error) {
    throw new PraxisJsonError((error as Error).message);
  }
}

/** Parses a body that must be a JSON object; null when it is not. */
export function parsePraxisObject(text: string): PraxisFields | null {
  try {
    const parsed = parsePraxisJson(text);
    return isFields(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function isFields(value: PraxisValue): value is PraxisFields {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

// ---------------------------------------------------------------- reading fields

/** A field as text: strings as they are, numbers as their digits; null otherwise. */
export function textField(fields: PraxisFields, key: string): string | null {
  const value = fields[key];
  if (typeof value === "string") return value;
  if (value instanceof JsonNumber) return value.text;
  return null;
}

/** A field that must be an integer (a JSON integer or a string of digits); null otherwise. */
export function integerField(fields: PraxisFields, key: string): bigint | null {
  const text = textField(fields, key);
  if (text === null || !/^-?(0|[1-9]\d*)$/.test(text.trim())) return null;
  return BigInt(text.trim());
}
