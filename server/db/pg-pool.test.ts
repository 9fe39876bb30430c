// A failed query keeps its PostgreSQL connection when the server answered
// with an ordinary SQL error, through the pool and through Prisma.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "./client";
import { createScratchPostgresDatabase } from "./testing";
import { connectionSurvives, DeskPool } from "./pg-pool";

const url = process.env.TEST_DATABASE_URL;

function sqlError(code: string): pg.DatabaseError {
  const error = new pg.DatabaseError("x", 0, "error");
  error.code = code;
  return error;
}

describe("connectionSurvives", () => {
  it("keeps the connection after a plain SQL error, drops it after a broken or shut-down one", () => {
    for (const code of ["23505", "40001", "40P01", "22012", "42P01", "55P03", "57014"]) expect(connectionSurvives(sqlError(code)), code).toBe(true);
    for (const code of ["57P01", "57P03", "08006", "53300", "XX000", "58030"]) expect(connectionSurvives(sqlError(code)), code).toBe(false);
    expect(connectionSurvives(new Error("Connection terminated unexpectedly"))).toBe(false);
    expect(connectionSurvives(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(false);
  });
});

describe.skipIf(!url)("the desk's PostgreSQL pool", () => {
  const pid = async (q: (text: string) => Promise<{ rows: Array<{ pid: number }> }>) => (await q("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;

  it("plain pg-pool reconnects after any failed query (why DeskPool exists)", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const before = await pid((t) => pool.query(t));
      await expect(pool.query("SELECT 1/0")).rejects.toThrow(/division by zero/);
      expect(await pid((t) => pool.query(t))).not.toBe(before);
    } finally {
      await pool.end();
    }
  });

  it("keeps the connection after SQL errors, and drops one whose server process went away", async () => {
    const pool = new DeskPool({ connectionString: url, max: 1 });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const first = await pid((t) => pool.query(t));
      await expect(pool.query("SELECT 1/0")).rejects.toThrow(/division by zero/);
      await expect(pool.query({ text: "SELECT $1::int", values: ["not a number"] })).rejects.toThrow(/invalid input syntax/);
      await expect(pool.query("SELECT * FROM no_such_table")).rejects.toThrow(/does not exist/);
      expect(await pid((t) => pool.query(t))).toBe(first);
      expect(pool.dropped).toBe(0);

      // The server process is ended under a running query: that connection is dropped, the next query gets a new one.
      const running = pool.query("SELECT pg_sleep(30)");
      running.catch(() => undefined);
      for (let i = 0; i < 50; i++) {
        const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [first]);
        if (rows[0]!.n === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await admin.query("SELECT pg_terminate_backend($1)", [first]);
      await expect(running).rejects.toThrow(/terminat/);
      expect(pool.dropped).toBe(1);
      expect(await pid((t) => pool.query(t))).not.toBe(first);
      // Callback style still works as pg-pool's.
      const viaCallback = await new Promise<number>((resolve, reject) =>
        (pool.query as (text: string, cb: (e: Error | null, r: pg.QueryResult) => void) => void)("SELECT 2 AS n", (e, r) => (e ? reject(e) : resolve(r.rows[0].n))),
      );
      expect(viaCallback).toBe(2);
    } finally {
      await admin.end();
      await pool.end();
    }
  });

  describe("through Prisma", () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const scratch = await createScratchPostgresDatabase();
      drop = scratch.drop;
      db = await createDb({ databaseUrl: scratch.url, max: 1 });
    }, 120_000);
    afterAll(async () => {
      await db?.close();
      await drop?.();
    });

    it("a unique violation (a duplicate callback, an id taken) keeps the connection", async () => {
      const before = (await db.prisma.$queryRaw<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`)[0]!.pid;
      const user = { email: "dup@desk.example", name: "Dup", role: "viewer" as const, passwordHash: "x" };
      await db.prisma.user.create({ data: user });
      await expect(db.prisma.user.create({ data: user })).rejects.toMatchObject({ code: "P2002" });
      const after = (await db.prisma.$queryRaw<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`)[0]!.pid;
      expect(after).toBe(before);
    });
  });
});
