// The tRPC procedures as tests see them: walked from the router at run time
// (so a router added tomorrow is covered without editing a list), each with
// the roles it declares, its input schema, and a valid input made from that
// schema. Used by the RBAC matrix and the input fuzz.
import type { z } from "zod";
import type { Role } from "@/server/auth/roles";
import { appRouter } from "@/server/trpc/router";

export interface ProcedureInfo {
  path: string;
  type: "query" | "mutation" | "subscription";
  roles: readonly Role[] | "public";
  /** The first input parser (a zod schema), if the procedure takes input. */
  schema: z.ZodType | undefined;
}

interface ProcedureDef {
  _def: { type: ProcedureInfo["type"]; meta?: { roles?: ProcedureInfo["roles"] }; inputs?: unknown[] };
}

export function listProcedures(): ProcedureInfo[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;
  return Object.entries(procedures)
    .map(([path, p]) => ({
      path,
      type: p._def.type,
      roles: p._def.meta?.roles ?? [],
      schema: p._def.inputs?.[0] as z.ZodType | undefined,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Calls `path` on a createCaller caller. */
export function callProcedure(caller: unknown, path: string, input: unknown): Promise<unknown> {
  const fn = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller);
  return (fn as (input: unknown) => Promise<unknown>)(input);
}

/** Real rows a valid input can point at. */
export interface Fixtures {
  connectionId: string;
  payoutId: string;
}

// zod 4 keeps a schema's description in `_zod.def`; only the parts read here are typed.
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string>;
  values?: unknown[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  defaultValue?: unknown;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The top-level field names of an object input (through optional/default/pipe wrappers), or []. */
export function inputKeys(schema: z.ZodType | undefined): string[] {
  let s = schema;
  for (let i = 0; s && i < 10; i++) {
    const def = defOf(s);
    if (def.type === "object") return Object.keys(def.shape ?? {});
    s = def.innerType ?? def.in;
  }
  return [];
}

/**
 * Values the desk's field names usually take, realistic first, so a valid
 * input reaches the service rather than stopping at the schema. Ids are the
 * fixtures' (a connection for connection procedures, otherwise a payout).
 */
export function likelyValues(key: string, path: string, fixtures: Fixtures): unknown[] {
  const connectionScoped = path.startsWith("connections.") || path.startsWith("balances.");
  switch (key) {
    case "id":
      return connectionScoped ? [fixtures.connectionId] : [fixtures.payoutId];
    case "payoutId":
      return [fixtures.payoutId];
    case "connectionId":
      return [fixtures.connectionId];
    case "amount":
      return ["15"];
    case "currency":
      return ["ZMW"];
    case "recipientPhone":
      return ["260763456789"];
    case "recipientName":
      return ["Ada Lovelace"];
    case "description":
      return ["Rbac check payout"];
    case "reason":
      return ["Checked by the RBAC matrix"];
    case "provider":
      return ["pawapay"];
    case "name":
      return ["RBAC matrix connection"];
    case "environment":
      return ["sandbox"];
    case "baseUrl":
      return ["sandbox://pawapay"];
    case "credentials":
      return [{ apiToken: "rbac-matrix-token" }];
    case "days":
      return [7];
    case "limit":
      return [10];
    case "createdFrom":
    case "createdTo":
      return ["2026-01-01"];
    case "cursor":
    case "channel":
    case "recipientAccount":
    case "recipientDetails":
      return [null];
    case "search":
      return ["260763456789"];
    case "status":
      return [["pending_approval"]];
    default:
      return [];
  }
}

/**
 * A valid input for a schema: for each field, the first likely value the
 * field's own schema accepts, else one built from the schema's type.
 * Returns undefined for a schema it cannot satisfy (the caller says so).
 */
export function validInput(path: string, schema: z.ZodType | undefined, fixtures: Fixtures): { ok: true; value: unknown } | { ok: false } {
  if (!schema) return { ok: true, value: undefined };
  const value = build(schema, "", path, fixtures, 0);
  return schema.safeParse(value).success ? { ok: true, value } : { ok: false };
}

function build(schema: z.ZodType, key: string, path: string, fixtures: Fixtures, depth: number): unknown {
  for (const candidate of likelyValues(key, path, fixtures)) if (schema.safeParse(candidate).success) return candidate;
  if (depth > 8) return undefined;
  const def = defOf(schema);
  switch (def.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(def.shape ?? {})) {
        const v = build(s, k, path, fixtures, depth + 1);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional": {
      // Prefer a real value (it exercises more), but an absent one is valid too.
      const inner = build(def.innerType!, key, path, fixtures, depth + 1);
      return schema.safeParse(inner).success ? inner : undefined;
    }
    case "pipe":
      return build(def.in!, key, path, fixtures, depth + 1);
    case "array":
      return [build(def.element!, key, path, fixtures, depth + 1)].filter((v) => v !== undefined);
    case "enum":
      return Object.values(def.entries ?? {})[0];
    case "literal":
      return def.values?.[0];
    case "union":
      for (const option of def.options ?? []) {
        const v = build(option, key, path, fixtures, depth + 1);
        if (option.safeParse(v).success) return v;
      }
      return undefined;
    case "record":
      return {};
    case "boolean":
      return false;
    case "number":
    case "int":
      return 1;
    case "bigint":
      return 1n;
    case "date":
      return new Date("2026-01-01T00:00:00Z");
    case "string":
      for (const candidate of ["Sample text", "ZMW", "2026-01-01", fixtures.payoutId, "x"]) if (schema.safeParse(candidate).success) return candidate;
      return "x";
    default:
      return undefined;
  }
}
