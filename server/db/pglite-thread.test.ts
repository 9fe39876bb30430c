// The embedded folder's database on its own thread answers exactly as PGlite
// itself does: the same rows and types, the same errors (as Prisma maps
// them), transactions that have the database to themselves, named statements
// whose plans follow the data as it grows, and files PostgreSQL can still
// read and check after the thread kept their sizes for it.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messages, PGlite } from "@electric-sql/pglite";
import { amcheck } from "@electric-sql/pglite/contrib/amcheck";
import { openPgliteThread, type ThreadPGlite } from "./pglite-thread";
import { createDb, type Db } from "./client";
import { Prisma } from "./generated/client";

const roots: string[] = [];
function freshDir(): string {
  roots.push(mkdtempSync(path.join(os.tmpdir(), "desk-pglite-thread-")));
  return path.join(roots.at(-1)!, "pglite");
}
afterAll(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("PGlite on its own thread", () => {
  let db: ThreadPGlite;
  let dir: string;
  beforeAll(async () => {
    dir = freshDir();
    db = await openPgliteThread(dir, { analyzeEveryMs: 50 });
  });
  afterAll(async () => {
    await db?.close();
  });

  it("answers a statement with the same rows, fields and types as PGlite itself", async () => {
    const text = `SELECT 42::int8 AS big, 7::int4 AS small, 1.50::numeric AS money, true AS yes, NULL::text AS nothing,
      'héllo'::text AS words, ARRAY[1,2,3]::int4[] AS numbers, ARRAY['a', NULL, 'c']::text[] AS texts,
      '{"a": [1, {"b": null}]}'::jsonb AS doc, '2026-12-02T10:11:12.345Z'::timestamptz AS at, '\\x00ff10'::bytea AS bytes,
      $1::text AS echoed, $2::int4 + 1 AS plus, $3::jsonb AS given`;
    const params = ["x'; DROP TABLE y; --", 41, { k: [1, "two"] }];
    const memory = await PGlite.create();
    try {
      const expected = await memory.query(text, params);
      const got = await db.query(text, params);
      expect(got.rows).toEqual(expected.rows);
      expect(got.fields).toEqual(expected.fields);
      expect(got.rows[0]).toMatchObject({ echoed: "x'; DROP TABLE y; --", plus: 42, texts: ["a", null, "c"] });
      const asArrays = await db.query(text, params, { rowMode: "array" });
      expect(asArrays.rows).toEqual((await memory.query(text, params, { rowMode: "array" })).rows);
      // The caller's own parsers win, as in PGlite.
      const custom = await db.query<{ big: unknown }>("SELECT 42::int8 AS big", [], { parsers: { 20: (v: string) => `int8:${v}` } });
      expect(custom.rows[0]!.big).toBe("int8:42");
    } finally {
      await memory.close();
    }
  });

  it("runs scripts of several statements, and reports affected rows", async () => {
    const results = await db.exec(`CREATE TABLE kv (k text PRIMARY KEY, v int NOT NULL); INSERT INTO kv VALUES ('a', 1), ('b', 2); SELECT k FROM kv ORDER BY k`);
    expect(results).toHaveLength(3);
    expect(results[1]!.affectedRows).toBe(2);
    expect(results[2]!.rows).toEqual([{ k: "a" }, { k: "b" }]);
    expect((await db.query("UPDATE kv SET v = v + 1")).affectedRows).toBe(2);
  });

  it("throws PGlite's own DatabaseError, with the statement, and stays usable", async () => {
    const duplicate = await db.query("INSERT INTO kv VALUES ('a', 9)").catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(messages.DatabaseError);
    expect(duplicate).toMatchObject({ code: "23505", constraint: "kv_pkey", table: "kv", query: "INSERT INTO kv VALUES ('a', 9)" });
    // A statement that cannot even be prepared, named or not.
    await expect(db.query("SELEC 1")).rejects.toMatchObject({ code: "42601" });
    await expect(db.queryNamed("desk_test_broken", "SELEC 1")).rejects.toMatchObject({ code: "42601" });
    await expect(db.exec("SELECT * FROM missing_table")).rejects.toMatchObject({ code: "42P01" });
    expect((await db.query("SELECT count(*)::int AS n FROM kv")).rows).toEqual([{ n: 2 }]);
  });

  it("gives a transaction the database to itself: statements from outside wait and never run inside it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let insideDone = false;
    const tx = db.transaction(async (t) => {
      await t.query("INSERT INTO kv VALUES ('c', 3)");
      await gate;
      insideDone = true;
      return "committed";
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    let outsideSawCommit: boolean | undefined;
    const outside = db.query<{ n: number }>("SELECT count(*)::int AS n FROM kv").then((r) => {
      outsideSawCommit = insideDone;
      return r.rows[0]!.n;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(outsideSawCommit).toBeUndefined(); // still waiting
    release();
    expect(await tx).toBe("committed");
    expect(await outside).toBe(3);
    expect(outsideSawCommit).toBe(true);

    // A transaction that throws is rolled back; one rolled back by hand too.
    await expect(
      db.transaction(async (t) => {
        await t.query("INSERT INTO kv VALUES ('d', 4)");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    await db.transaction(async (t) => {
      await t.query("INSERT INTO kv VALUES ('e', 5)");
      await t.rollback();
    });
    // A failed statement inside, its error swallowed: the commit cannot happen.
    await expect(
      db.transaction(async (t) => {
        await t.query("INSERT INTO kv VALUES ('f', 6)");
        await t.query("INSERT INTO kv VALUES ('a', 0)").catch(() => undefined);
      }),
    ).rejects.toThrow(/aborted/);
    expect((await db.query("SELECT k FROM kv ORDER BY k")).rows.map((r) => (r as { k: string }).k)).toEqual(["a", "b", "c"]);
  });

  it("prepares a named statement once and re-plans it once its table has grown, as autovacuum's analyse would", async () => {
    await db.exec(`CREATE TABLE grow (id int PRIMARY KEY, v text); INSERT INTO grow VALUES (1, 'one'); ANALYZE grow`);
    const lookup = "SELECT v FROM grow WHERE id = $1";
    for (let i = 0; i < 8; i++) expect((await db.queryNamed<{ v: string }>("desk_test_lookup", lookup, [1])).rows).toEqual([{ v: "one" }]);
    const planOf = async () => (await db.query<{ "QUERY PLAN": string }>("EXPLAIN EXECUTE desk_test_lookup(5)")).rows.map((r) => r["QUERY PLAN"]).join("\n");
    // On one page, the cached plan reads the whole table…
    expect(await planOf()).toMatch(/Seq Scan on grow/);
    await db.exec(`INSERT INTO grow SELECT g, 'v' || g FROM generate_series(2, 50000) g`);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await db.query("SELECT 1"); // the thread looks for grown tables between statements
    // …and once the table has grown, it is analysed and the statement planned again.
    expect((await db.query<{ relpages: number }>("SELECT relpages FROM pg_class WHERE relname = 'grow'")).rows[0]!.relpages).toBeGreaterThan(100);
    expect(await planOf()).toMatch(/Index Scan using grow_pkey/);
    expect((await db.queryNamed<{ v: string }>("desk_test_lookup", lookup, [49999])).rows).toEqual([{ v: "v49999" }]);
  });

  it("keeps files PostgreSQL reads back whole: sizes match the disk, indexes check out, and the folder reopens", async () => {
    await db.exec(`CREATE TABLE churn (id serial PRIMARY KEY, body text); CREATE INDEX churn_body ON churn (body)`);
    for (let round = 0; round < 3; round++) {
      await db.query(`INSERT INTO churn (body) SELECT repeat(md5(g::text), 20) FROM generate_series(1, 4000) g`);
      await db.query(`DELETE FROM churn WHERE id % 3 = 0`);
      await db.exec(`VACUUM churn`);
    }
    await db.exec(`VACUUM FULL churn`); // a new file for the table and its indexes
    await db.query(`INSERT INTO churn (body) SELECT md5(g::text) FROM generate_series(1, 3000) g`);
    await db.exec(`TRUNCATE grow; INSERT INTO grow SELECT g, 'again' FROM generate_series(1, 2000) g`);
    await db.exec(`CHECKPOINT`);
    for (const relation of ["churn", "churn_body", "churn_pkey", "grow", "grow_pkey", "kv"]) {
      const [row] = (await db.query<{ size: number; file: string }>(`SELECT pg_relation_size($1)::int AS size, pg_relation_filepath($1) AS file`, [relation])).rows;
      expect(row!.size, relation).toBe(statSync(path.join(dir, row!.file)).size);
    }
    const counts = (await db.query<{ churn: number; grow: number }>(`SELECT (SELECT count(*)::int FROM churn) AS churn, (SELECT count(*)::int FROM grow) AS grow`)).rows[0]!;
    await db.close();
    await expect(db.query("SELECT 1")).rejects.toThrow(/closed|stopped/);

    // The folder, opened by PGlite itself: the same rows, and every index consistent with its table.
    const plain = await PGlite.create(dir, { extensions: { amcheck } });
    try {
      expect((await plain.query(`SELECT (SELECT count(*)::int FROM churn) AS churn, (SELECT count(*)::int FROM grow) AS grow`)).rows[0]).toEqual(counts);
      await plain.exec(`CREATE EXTENSION IF NOT EXISTS amcheck`);
      for (const index of ["churn_body", "churn_pkey", "grow_pkey", "kv_pkey"]) await plain.query(`SELECT bt_index_check($1::regclass, true)`, [index]);
    } finally {
      await plain.close();
    }
  });
});

describe("the desk's embedded folder, through Prisma", () => {
  let desk: Db;
  beforeAll(async () => {
    desk = await createDb({ kind: "pglite", dataDir: freshDir() });
  });
  afterAll(async () => {
    await desk?.close();
  });

  it("maps a unique violation to P2002 and runs interactive transactions", async () => {
    const user = { email: "thread@example.com", name: "Thread", passwordHash: "x", role: "viewer" as const };
    await desk.prisma.user.create({ data: user });
    const again = await desk.prisma.user.create({ data: user }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((again as Prisma.PrismaClientKnownRequestError).code).toBe("P2002");
    await expect(
      desk.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { email: user.email }, data: { name: "Renamed" } });
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect((await desk.prisma.user.findUniqueOrThrow({ where: { email: user.email } })).name).toBe("Thread");
    const [count] = await desk.prisma.$transaction([desk.prisma.user.count(), desk.prisma.user.update({ where: { email: user.email }, data: { name: "Kept" } })]);
    expect(count).toBe(1);
    expect((await desk.prisma.user.findUniqueOrThrow({ where: { email: user.email } })).name).toBe("Kept");
  });

  it("runs the raw executor's named statements prepared, with the same answers as unnamed ones", async () => {
    const named = await desk.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM \"User\" WHERE email = $1", ["thread@example.com"], { name: "desk_test_count" });
    const again = await desk.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM \"User\" WHERE email = $1", ["nobody@example.com"], { name: "desk_test_count" });
    expect([named.rows, again.rows]).toEqual([[{ n: 1 }], [{ n: 0 }]]);
    const statements = await desk.sql.query<{ name: string }>("SELECT name FROM pg_prepared_statements WHERE name = 'desk_test_count'");
    expect(statements.rows).toEqual([{ name: "desk_test_count" }]);
  });
});
