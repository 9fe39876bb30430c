// Prisma's schema engine, run as WebAssembly so migration SQL can be computed
// with no native engine binary (it cannot be downloaded here) and no database
// server. Internal, unversioned Prisma API: prisma is pinned to an exact
// version in package.json, and `npm run db:check` in CI catches any breakage.
//
// The .wasm comes from the installed prisma CLI. Its wasm-bindgen JS glue is
// not installed with prisma; the nearest @prisma/schema-engine-wasm build on
// the registry is a pinned devDependency, whose import names match this
// wasm's exactly (checked on load).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { DiffTarget, SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";

export type { DiffTarget, SchemaEngine };

/** What SchemaEngine.new() accepts as its database: a Prisma SQL driver adapter factory. */
export interface AdapterFactory {
  readonly provider: "postgres";
  readonly adapterName: string;
  connect(): Promise<unknown>;
  connectToShadowDb(): Promise<unknown>;
}

const GLUE_MODULE = "./schema_engine_bg.js";
let loaded = false;

function loadWasm(): void {
  if (loaded) return;
  const require = createRequire(import.meta.url);
  const wasmPath = path.join(path.dirname(require.resolve("prisma/package.json")), "build", "schema_engine_bg.wasm");
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  const imports = WebAssembly.Module.imports(module);
  const missing = imports.filter((i) => i.module === GLUE_MODULE && !(i.name in glue)).map((i) => i.name);
  if (missing.length > 0) {
    throw new Error(
      `@prisma/schema-engine-wasm does not match ${wasmPath} (missing ${missing.slice(0, 3).join(", ")}…). ` +
        "After upgrading prisma, pin the @prisma/schema-engine-wasm version named in node_modules/@prisma/engines-version/package.json.",
    );
  }
  // Node 20 cannot `import` a .wasm, so link the glue by hand as its bundler entry would.
  const instance = new WebAssembly.Instance(module, { [GLUE_MODULE]: glue as unknown as WebAssembly.ModuleImports });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  loaded = true;
}

/**
 * A database that exists only to answer the engine's start-up version probe.
 * Diffs between schema files and the empty schema never touch the database.
 */
function noDatabase(): AdapterFactory {
  const refuse = () => Promise.reject(new Error("This schema-engine instance has no database."));
  const adapter = {
    provider: "postgres",
    adapterName: "payout-desk-no-database",
    // The probe: SELECT EXISTS(<schema "public">), version(), server_version_num.
    queryRaw: async () => ({
      columnNames: ["exists", "version", "numeric_version"],
      columnTypes: [5 /* Boolean */, 7 /* Text */, 0 /* Int32 */],
      rows: [[true, "PostgreSQL 15.0 (schema-engine stub)", 150000]],
    }),
    executeRaw: refuse,
    executeScript: refuse,
    startTransaction: refuse,
    getConnectionInfo: () => ({ supportsRelationJoins: true }),
    dispose: async () => {},
  };
  return {
    provider: "postgres",
    adapterName: adapter.adapterName,
    connect: async () => adapter,
    connectToShadowDb: refuse,
  };
}

/**
 * The engine expects every adapter call to return Prisma's `{ ok, value | error }`
 * envelope; driver-adapter-utils adds it. It is taken from @prisma/adapter-pg's
 * own dependency so its version always matches the installed Prisma.
 */
function bindFactory(factory: AdapterFactory): object {
  const require = createRequire(createRequire(import.meta.url).resolve("@prisma/adapter-pg"));
  const utils = require("@prisma/driver-adapter-utils") as typeof import("@prisma/driver-adapter-utils");
  return utils.bindMigrationAwareSqlAdapterFactory(factory as unknown as Parameters<typeof utils.bindMigrationAwareSqlAdapterFactory>[0]);
}

/** Starts a schema engine on `database` (default: none, enough for schema-to-schema diffs). */
export async function openSchemaEngine(database: AdapterFactory = noDatabase()): Promise<SchemaEngine> {
  loadWasm();
  const log = (line: string) => {
    if (process.env.DEBUG_SCHEMA_ENGINE) console.error("[schema-engine]", line);
  };
  return glue.SchemaEngine.new({ datamodels: undefined }, log, bindFactory(database));
}

/** A schema-file diff source/target from the given .prisma text. */
export function datamodel(content: string, filePath = "schema.prisma"): DiffTarget {
  return { tag: "schemaDatamodel", files: [{ path: filePath, content }] };
}

export const EMPTY: DiffTarget = { tag: "empty" };

/**
 * The SQL script that turns `from` into `to`, exactly as `prisma migrate diff
 * --script` prints it. Empty-change diffs return Prisma's "-- This is an empty
 * migration." comment; use isEmptyDiff() to test for it.
 */
export async function diffSql(from: DiffTarget, to: DiffTarget, engine?: SchemaEngine): Promise<string> {
  const own = engine ?? (await openSchemaEngine());
  try {
    const result = await own.diff({
      from,
      to,
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.stdout ?? "";
  } finally {
    if (!engine) own.free();
  }
}

/** True when a diff script contains no statement (only comments and blank lines). */
export function isEmptyDiff(sql: string): boolean {
  return sql
    .split("\n")
    .map((line) => line.trim())
    .every((line) => line === "" || line.startsWith("--"));
}
