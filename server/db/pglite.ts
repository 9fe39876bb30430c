// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) in a data
// folder, so a fresh machine runs the desk with no server to install.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { acquireLockFile } from "./lock-file";
import { openPgliteThread, type PGliteLike } from "./pglite-thread";
import { PGLITE_EXTENSIONS } from "./pglite-extensions";
import { migrate } from "./migrate";
import { defaultMigrationsDir, migrationsFingerprint, readMigrations } from "./migration-files";
import { pgliteExecutor } from "./sql-executor";

export function defaultPgliteDataDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.env.PGLITE_DATA_DIR ?? path.join(process.env.DESK_DATA_DIR ?? "data", "pglite"));
}

export interface PersistentPglite {
  pglite: PGliteLike;
  dataDir: string;
  /** Closes the database, then releases the folder for other processes. */
  close(): Promise<void>;
}

/**
 * Opens the data folder for this process alone. PGlite allows one process per
 * folder and a second one silently loses its writes, so a lock file next to
 * the folder (`<dir>.lock`, holding the pid) turns that into a clear error.
 */
export async function openPersistentPglite(dataDir: string = defaultPgliteDataDir()): Promise<PersistentPglite> {
  const dir = path.resolve(/*turbopackIgnore: true*/ dataDir);
  const release = acquireLockFile(`${dir}.lock`, {
    describeHolder: (pid) =>
      `The embedded database at ${dir} is in use by process ${pid}; stop it first, or set DATABASE_URL to use PostgreSQL. ` +
      `(If process ${pid} is not the desk, delete ${dir}.lock.)`,
  });
  try {
    mkdirSync(dir, { recursive: true });
    // On a thread of its own, so the database and the rest of the desk use two cores (pglite-thread.ts).
    const pglite = await openPgliteThread(dir);
    return {
      pglite,
      dataDir: dir,
      close: async () => {
        try {
          if (!pglite.closed) await pglite.close();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

// ---- Migrated in-memory databases for tests -------------------------------
// A fresh in-memory PGlite costs seconds (initdb) plus the migrations; loading
// a dump of an already-migrated one costs well under a second. The dump is
// made once per process and shared between the test workers through a file
// in the OS temp folder, keyed by the migrations and the PGlite version.

const templates = new Map<string, Promise<Blob>>();

export interface TemplateOptions {
  migrationsDir?: string;
}

/** A dump (tarball) of an in-memory PGlite with every migration applied. */
export function createMigratedTemplate(options: TemplateOptions = {}): Promise<Blob> {
  const migrations = readMigrations(options.migrationsDir ?? defaultMigrationsDir());
  const key = `${pgliteVersion()}-${migrationsFingerprint(migrations).slice(0, 16)}`;
  let template = templates.get(key);
  if (!template) {
    template = loadOrBuildTemplate(key, async () => {
      const db = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
      try {
        await migrate(pgliteExecutor(db), { migrations });
        return await db.dumpDataDir("none");
      } finally {
        await db.close();
      }
    });
    templates.set(key, template);
    template.catch(() => templates.delete(key));
  }
  return template;
}

const TEMPLATE_PREFIX = "payout-desk-pglite-template-";

async function loadOrBuildTemplate(key: string, build: () => Promise<Blob>): Promise<Blob> {
  const file = path.join(os.tmpdir(), `${TEMPLATE_PREFIX}${key}.tar`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const blob = await build();
  // Write-then-rename: a parallel worker never reads a half-written dump.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, Buffer.from(await blob.arrayBuffer()));
  renameSync(partial, file);
  // Dumps of older migration sets are dead weight (~40 MB each).
  for (const name of readdirSync(os.tmpdir())) {
    if (name.startsWith(TEMPLATE_PREFIX) && name.endsWith(".tar") && path.join(os.tmpdir(), name) !== file) {
      rmSync(path.join(os.tmpdir(), name), { force: true });
    }
  }
  return blob;
}

/** A fresh, fully migrated in-memory database (about half a second). */
export async function cloneMemoryPglite(options: TemplateOptions = {}): Promise<PGlite> {
  return PGlite.create({ loadDataDir: await createMigratedTemplate(options), extensions: PGLITE_EXTENSIONS });
}

function pgliteVersion(): string {
  // The package does not export its package.json: walk up from its entry point.
  let dir = path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  while (dir !== path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@electric-sql/pglite" && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return "unknown";
}
