// One look at every tRPC input before its schema sees it, so no router can
// forget a rule that holds for all of them:
// - PostgreSQL text cannot hold a NUL byte, and a lone UTF-16 surrogate
//   cannot be encoded as UTF-8 at all: either reaches the database as error
//   22P05 (a 500). They are refused with the field named, except in search
//   fields, where they can only be noise and are dropped.
// - Keys that mean something to JavaScript objects (`__proto__`,
//   `constructor`, `prototype`) are refused as unknown fields: superjson
//   refuses to serialise them, so a reply that echoed one would break.
// - Only JSON-shaped values get through: a multipart body arrives as FormData,
//   which a z.object would read as an empty object (balances.refresh then
//   read every provider instead of the one asked for).
// - Depth and size are bounded, so a pathological input cannot exhaust the
//   stack of this walker or of a schema.

/** Keys refused anywhere in an input. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const MAX_DEPTH = 32;
const MAX_NODES = 200_000;

export const UNSTORABLE_MESSAGE = "Contains a character that cannot be stored (a NUL byte or a broken Unicode character); remove it";

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** True when PostgreSQL could not store this text as it is. */
export function hasUnstorableCharacters(text: string): boolean {
  return UNSTORABLE.test(text);
}

/** The text without the characters PostgreSQL cannot store (for searches). */
export function dropUnstorableCharacters(text: string): string {
  return text.replace(UNSTORABLE_ALL, "");
}

export type InputVerdict =
  | { ok: true; /** Set when search fields were cleaned: pass this on instead of the raw input. */ cleaned?: unknown }
  | { ok: false; fields: Record<string, string> };

/**
 * Checks a raw tRPC input. `searchFields` are top-level keys whose text is
 * cleaned instead of refused. Field names are dotted paths, as zod names them.
 */
export function inspectInput(raw: unknown, searchFields: readonly string[] = []): InputVerdict {
  if (isFormData(raw)) {
    return { ok: false, fields: fieldsOf([["input", "Send this as JSON: a form upload (multipart/form-data) is not accepted here"]]) };
  }
  const problems: Array<[string, string]> = [];
  let cleanedAny = false;
  let nodes = 0;
  // Recursive, but MAX_DEPTH bounds it long before the call stack would.
  const walk = (value: unknown, path: string[], depth: number, search: boolean): unknown => {
    if (problems.length >= 20) return value;
    if (++nodes > MAX_NODES) {
      if (nodes === MAX_NODES + 1) problems.push(["input", `Too large: at most ${MAX_NODES.toLocaleString("en")} values in one request`]);
      return value;
    }
    const field = path.join(".") || "input";
    if (typeof value === "string") {
      if (!hasUnstorableCharacters(value)) return value;
      if (search) {
        cleanedAny = true;
        return dropUnstorableCharacters(value);
      }
      problems.push([field, UNSTORABLE_MESSAGE]);
      return value;
    }
    if (value === null || typeof value !== "object") return value;
    if (depth >= MAX_DEPTH) {
      problems.push([field, `Nested too deeply (at most ${MAX_DEPTH} levels)`]);
      return value;
    }
    if (value instanceof Date) return value;
    if (Array.isArray(value)) {
      let changed = false;
      const out = value.map((item, i) => {
        const next = walk(item, [...path, String(i)], depth + 1, search);
        if (next !== item) changed = true;
        return next;
      });
      return changed ? out : value;
    }
    if (value instanceof Map || value instanceof Set) {
      for (const [k, v] of value instanceof Map ? value.entries() : [...value].map((v, i) => [String(i), v] as const)) {
        if (typeof k === "string" && hasUnstorableCharacters(k)) problems.push([field, `A key ${UNSTORABLE_MESSAGE.toLowerCase()}`]);
        walk(v, [...path, String(k)], depth + 1, false);
      }
      return value;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      problems.push([field, "Not a JSON value: send plain objects, arrays, text, numbers and booleans"]);
      return value;
    }
    let changed = false;
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (RESERVED_KEYS.has(key)) {
        problems.push([[...path, key].join("."), `"${key}" is not a field this form takes`]);
        continue;
      }
      if (hasUnstorableCharacters(key)) {
        problems.push([field, `A field name ${UNSTORABLE_MESSAGE.toLowerCase()}`]);
        continue;
      }
      const next = walk(child, [...path, key], depth + 1, search || (depth === 0 && searchFields.includes(key)));
      if (next !== child) changed = true;
      out[key] = next;
    }
    // A plain object again (not null-prototype), so schemas see what they always saw.
    return changed ? { ...out } : value;
  };
  const cleaned = walk(raw, [], 0, false);
  if (problems.length > 0) return { ok: false, fields: fieldsOf(problems) };
  return cleanedAny ? { ok: true, cleaned } : { ok: true };
}

/** Field → message, first message per field kept; a null-prototype object, so no key is special. */
function fieldsOf(entries: Array<[string, string]>): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const [field, message] of entries) if (!Object.hasOwn(fields, field)) fields[field] = message;
  return fields;
}

function isFormData(value: unknown): boolean {
  return (
    (typeof FormData !== "undefined" && value instanceof FormData) ||
    (typeof Blob !== "undefined" && value instanceof Blob) ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value)
  );
}

/** The size of an input as sent (JSON characters), for logs; never throws. */
export function inputSize(raw: unknown): number | null {
  if (raw === undefined) return 0;
  try {
    return JSON.stringify(raw, (_k, v) => (typeof v === "bigint" ? v.toString() : v))?.length ?? 0;
  } catch {
    return null;
  }
}

/** At most `max` characters of `text`, saying how much was left out. */
export function capForLog(text: string, max = 2048): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${(text.length - max).toLocaleString("en")} more characters of ${text.length.toLocaleString("en")}]`;
}
