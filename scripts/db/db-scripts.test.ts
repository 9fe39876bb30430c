import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaChangesSinceMigrations } from "./schema-changes";
import { datamodel, diffSql, EMPTY, isEmptyDiff } from "./schema-engine";

const ROOT = path.resolve(".");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const SCHEMA = readFileSync(path.join(ROOT, "prisma", "schema.prisma"), "utf8");
const WITH_NICKNAME = SCHEMA.replace(/(model User \{\n)/, "$1  nickname String?\n");
/**
 * The WebAssembly schema engine takes a few seconds alone and minutes on a
 * busy 2-core machine (each db:* script starts its own); these tests assert
 * what it writes, never how fast, so they get a limit of their own.
 */
const SCHEMA_ENGINE_TIMEOUT = 300_000;

function run(script: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(ROOT, "scripts", "db", script), ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("schema engine (WebAssembly, no database)", { timeout: SCHEMA_ENGINE_TIMEOUT }, () => {
  it("diffs empty → schema and schema → schema", async () => {
    const init = await diffSql(EMPTY, datamodel(SCHEMA));
    expect(init).toContain('CREATE TABLE "Payout"');
    expect(init).toContain('"amountMinor" BIGINT NOT NULL');
    expect(isEmptyDiff(await diffSql(datamodel(SCHEMA), datamodel(SCHEMA)))).toBe(true);
    expect(await diffSql(datamodel(SCHEMA), datamodel(WITH_NICKNAME))).toContain('ALTER TABLE "User" ADD COLUMN     "nickname" TEXT;');
  });
});

describe("migrations vs schema.prisma", { timeout: SCHEMA_ENGINE_TIMEOUT }, () => {
  it("the committed migrations produce exactly the committed schema", async () => {
    const changes = await schemaChangesSinceMigrations();
    expect(changes.sql.trim()).toBe("-- This is an empty migration.");
    expect(changes.empty).toBe(true);
  });

  it("reports the missing SQL when the schema moves ahead", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "desk-schema-"));
    try {
      writeFileSync(path.join(dir, "schema.prisma"), WITH_NICKNAME);
      const changes = await schemaChangesSinceMigrations({ schemaPath: path.join(dir, "schema.prisma") });
      expect(changes.empty).toBe(false);
      expect(changes.sql).toContain('ALTER TABLE "User" ADD COLUMN     "nickname" TEXT;');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run db:migration / db:check in a copy of the project", { timeout: SCHEMA_ENGINE_TIMEOUT }, () => {
  let project: string;
  beforeAll(() => {
    project = mkdtempSync(path.join(os.tmpdir(), "desk-project-"));
    cpSync(path.join(ROOT, "prisma"), path.join(project, "prisma"), { recursive: true });
    writeFileSync(path.join(project, "prisma", "schema.prisma"), WITH_NICKNAME);
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it("db:check fails with the missing SQL", async () => {
    const { code, out } = await run("check-drift.ts", [], project);
    expect(code).toBe(1);
    expect(out).toContain("Drift: applying prisma/migrations does not produce prisma/schema.prisma.");
    expect(out).toContain('"nickname" TEXT');
  });

  it("db:migration writes the next migration, after which db:check passes", async () => {
    const before = readdirSync(path.join(project, "prisma", "migrations"));
    const created = await run("migration-create.ts", ["Add user nickname"], project);
    expect(created.code).toBe(0);
    const added = readdirSync(path.join(project, "prisma", "migrations")).filter((name) => !before.includes(name));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^\d{14}_add_user_nickname$/);
    const sql = readFileSync(path.join(project, "prisma", "migrations", added[0]!, "migration.sql"), "utf8");
    expect(sql).toContain('ALTER TABLE "User" ADD COLUMN     "nickname" TEXT;');

    const check = await run("check-drift.ts", [], project);
    expect(check.out).toContain("in sync");
    expect(check.code).toBe(0);
  });

  it("db:migration writes nothing when there is no change", async () => {
    const before = readdirSync(path.join(project, "prisma", "migrations"));
    const { code, out } = await run("migration-create.ts", ["nothing"], project);
    expect(code).toBe(0);
    expect(out).toContain("No schema changes");
    expect(readdirSync(path.join(project, "prisma", "migrations"))).toEqual(before);
  });
});
