// pg-boss on the desk's own database: on PGlite through the shared instance,
// on PostgreSQL with its own pool. Jobs are de-duplicated per payout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type PgBoss from "pg-boss";
import { createTestDatabase, testDatabases, type TestDb } from "@/server/db/testing";
import { PgBossScheduler, QUEUES, startBoss } from "./queue";

describe.each(testDatabases())("job queue on %s", (kind) => {
  let db: TestDb;
  let boss: PgBoss;
  let url: string | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    if (kind === "postgres") {
      const r = await db.sql.query<{ db: string }>("select current_database() as db");
      const u = new URL(process.env.TEST_DATABASE_URL!);
      u.pathname = `/${r.rows[0]!.db}`;
      url = u.toString();
    }
    boss = await startBoss(kind === "postgres" ? { connectionString: url } : { sql: db.sql });
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false, wait: true, close: true });
    await db?.dispose();
  });

  it("runs a submit job, and keeps one waiting job per payout", async () => {
    const scheduler = new PgBossScheduler(boss);
    const payoutId = "0b6f5c3e-8a55-4f4e-9d7a-3c1f0c1d2e3f";
    await scheduler.submitPayout(payoutId);
    await scheduler.submitPayout(payoutId); // dropped: one already waits
    const seen: string[] = [];
    await boss.work<{ payoutId: string }>(QUEUES.submit, { pollingIntervalSeconds: 0.5 }, async ([job]) => {
      if (job) seen.push(job.data.payoutId);
    });
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen).toEqual([payoutId]);
  });

  it("delays status checks", async () => {
    const scheduler = new PgBossScheduler(boss);
    await scheduler.checkStatus("1b6f5c3e-8a55-4f4e-9d7a-3c1f0c1d2e3f", { delaySeconds: 60 });
    const ready = await boss.fetch(QUEUES.status);
    expect(ready ?? []).toEqual([]);
  });
});
