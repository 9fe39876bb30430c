import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cloneMemoryPglite, openPersistentPglite, type PersistentPglite } from "./pglite";

const FIXTURE = path.resolve("server/db/__fixtures__/open-pglite.ts");

/** Runs the fixture in a separate Node process (with tsx), as a second app process would. */
function openInChild(dataDir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function deadPid(): number {
  // A process that has already exited: its pid is (for a moment) not in use.
  const done = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(done.stdout.toString());
}

describe("embedded PGlite folder", () => {
  let opened: PersistentPglite | undefined;
  const roots: string[] = [];
  /** <fresh temp folder>/pglite: the lock file lands next to it, inside the temp folder. */
  const freshDataDir = () => {
    roots.push(mkdtempSync(path.join(os.tmpdir(), "desk-pglite-")));
    return path.join(roots.at(-1)!, "pglite");
  };
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it("refuses a second process with a clear error while one has it open, and lets it in afterwards", async () => {
    const dir = freshDataDir();
    opened = await openPersistentPglite(dir);
    expect(readFileSync(`${dir}.lock`, "utf8").trim()).toBe(String(process.pid));

    const refused = await openInChild(dir);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      `The embedded database at ${dir} is in use by process ${process.pid}; stop it first, or set DATABASE_URL to use PostgreSQL`,
    );

    await opened.close();
    opened = undefined;
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const allowed = await openInChild(dir);
    expect(allowed.stderr).toBe("");
    expect(allowed.code).toBe(0);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it("refuses a second open in the same process", async () => {
    const dir = freshDataDir();
    opened = await openPersistentPglite(dir);
    await expect(openPersistentPglite(dir)).rejects.toThrow(/in use by process \d+.*this process already has it open/);
  });

  it("takes over a stale lock left by a process that died", async () => {
    const dir = freshDataDir();
    writeFileSync(`${dir}.lock`, `${deadPid()}\n`);
    opened = await openPersistentPglite(dir);
    expect(readFileSync(`${dir}.lock`, "utf8").trim()).toBe(String(process.pid));
  });

  it("keeps data across reopening", async () => {
    const dir = freshDataDir();
    opened = await openPersistentPglite(dir);
    await opened.pglite.exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');`);
    await opened.close();
    opened = await openPersistentPglite(dir);
    expect((await opened.pglite.query<{ v: string }>(`SELECT v FROM kept`)).rows).toEqual([{ v: "still here" }]);
  });
});

describe("migrated in-memory clones", () => {
  it("are fully migrated and independent of each other", async () => {
    const a = await cloneMemoryPglite(); // may build the template
    const b = await cloneMemoryPglite();
    try {
      const applied = await b.query<{ n: number }>(`SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL`);
      expect(applied.rows[0]!.n).toBeGreaterThan(0);
      await a.exec(`INSERT INTO "Setting" (key, value, "updatedAt") VALUES ('only-in-a', 'x', now())`);
      expect((await b.query(`SELECT * FROM "Setting"`)).rows).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
