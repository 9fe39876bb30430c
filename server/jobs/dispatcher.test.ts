// The worker loop against a real database and the pawaPay emulator over HTTP:
// payouts are sent several at a time, each exactly once; one payout held by a
// dead worker delays no other and is taken up when its lease runs out; two
// dispatchers on one database share the work; the sweeper flags what is late;
// the health report says when no worker is alive.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "@/server/db/client";
import { testDatabases } from "@/server/db/testing";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import type { PawapayEmulator } from "@/server/sandbox/pawapay";
import { sweep } from "@/server/services/payout-work";
import { healthReport } from "@/server/services/health";
import { isFinal, type PayoutStatus } from "@/server/domain/payout-state";
import type { Desk } from "@/server/services/types";
import { httpFetch } from "@/server/connectors/transport";
import { Dispatcher } from "./dispatcher";

const FAST = { idlePollMs: 50, sweepEverySeconds: 1, heartbeatEverySeconds: 1 };

describe.each(testDatabases())("the payout dispatcher on %s", (kind) => {
  let t: TestDesk;
  let emulator: PawapayEmulator;
  const running: Dispatcher[] = [];
  const extraDbs: Db[] = [];

  beforeAll(async () => {
    t = await startTestDesk(kind);
    emulator = (await sandboxEmulator("pawapay", t.desk)) as unknown as PawapayEmulator;
  }, 120_000);
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });
  afterAll(async () => {
    for (const db of extraDbs) await db.close();
    await t?.close();
  });

  function start(desk: Desk = t.desk): Dispatcher {
    const dispatcher = new Dispatcher(desk, FAST);
    running.push(dispatcher);
    dispatcher.start();
    return dispatcher;
  }

  async function approved(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await t.pawapayPayout({ amount: `${10 + i}`, description: `Dispatcher drill ${i}` }));
    return ids;
  }

  const statusOf = async (id: string) => (await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status as PayoutStatus;
  const copiesAtProvider = (id: string) => emulator.payouts().filter((p) => p.payoutId === id).length;
  const allFinal = async (ids: string[]) => {
    const rows = await t.desk.db.payout.findMany({ where: { id: { in: ids } }, select: { status: true } });
    return rows.length === ids.length && rows.every((r) => isFinal(r.status as PayoutStatus));
  };

  it("sends several payouts of a connection at once, each exactly once, and settles them all", async () => {
    const ids = await approved(12);
    // Requests to the provider under way at once, counted on the line itself.
    let open = 0;
    let most = 0;
    const deps = t.desk.connectorDeps;
    t.desk.connectorDeps = {
      ...deps,
      fetch: async (url, init) => {
        most = Math.max(most, ++open);
        try {
          return await httpFetch(url, init);
        } finally {
          open--;
        }
      },
    };
    const dispatcher = start();
    try {
      await eventually(() => allFinal(ids), 90_000);
    } finally {
      t.desk.connectorDeps = deps;
    }
    expect(most).toBeGreaterThan(1); // concurrent, not one job at a time
    for (const id of ids) {
      expect(await statusOf(id)).toBe("succeeded");
      expect(copiesAtProvider(id)).toBe(1);
    }
    // Final payouts are owed nothing: no status check of them will ever run.
    expect(await t.desk.db.payout.count({ where: { id: { in: ids }, dueAt: { not: null } } })).toBe(0);
    // Its heartbeat says it is alive, with the work it did.
    const beat = await eventually(async () => {
      const row = await t.desk.db.workerHeartbeat.findUnique({ where: { id: dispatcher.owner } });
      return row && row.processed > 0n ? row : null;
    }, 30_000);
    expect(beat.errors).toBe(0n);
  }, 150_000);

  it("lets no payout held by a dead worker delay another, and takes it up when the lease runs out", async () => {
    const [orphan, ...others] = await approved(5);
    // A worker took the orphan and died at once: its lease still runs.
    await t.desk.db.payout.update({ where: { id: orphan! }, data: { leaseOwner: "dead-worker", leaseUntil: new Date(Date.now() + 10 * 60_000) } });
    start();
    await eventually(() => allFinal(others), 90_000);
    expect(await statusOf(orphan!)).toBe("approved");
    expect(copiesAtProvider(orphan!)).toBe(0);
    // Its lease runs out (LEASE_SECONDS in life; moved along here): the next look takes it up.
    await t.desk.db.payout.update({ where: { id: orphan! }, data: { leaseUntil: new Date(Date.now() - 1000) } });
    await eventually(async () => (await statusOf(orphan!)) === "succeeded", 60_000);
    expect(copiesAtProvider(orphan!)).toBe(1);
  }, 150_000);

  it("paces a connection's work under its provider's rate limit, and still sends everything", async () => {
    // One request a second for this connection (its own setting; Muda's published 100 a minute is the same mechanism).
    await t.desk.db.connection.update({ where: { id: t.pawapayConnectionId }, data: { settings: { requestsPerMinute: 60 } } });
    try {
      const ids = await approved(6);
      const started = Date.now();
      const sentSoFar = () => t.desk.db.payoutEvent.count({ where: { payoutId: { in: ids }, toStatus: "submitting" } });
      start();
      // Whatever the machine's speed, never more than the bucket (2) plus one a second since the start.
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const sent = await sentSoFar();
        const allowed = 2 + Math.floor((Date.now() - started) / 1000) + 1;
        expect(sent).toBeLessThanOrEqual(allowed);
      }
      await eventually(() => allFinal(ids), 90_000);
      for (const id of ids) expect(copiesAtProvider(id)).toBe(1);
    } finally {
      await t.desk.db.connection.update({ where: { id: t.pawapayConnectionId }, data: { settings: {} } });
    }
  }, 150_000);

  it("shares the work between two dispatchers on one database with no payout sent twice", async () => {
    let second: Desk = t.desk;
    if (kind === "postgres") {
      // A second pool of connections, as a second worker process has.
      const [row] = await t.desk.db.$queryRaw<Array<{ db: string }>>`SELECT current_database() AS db`;
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${row!.db}`;
      const other = await createDb({ databaseUrl: url.toString(), max: 4 });
      extraDbs.push(other);
      second = { ...t.desk, db: other.prisma };
    }
    const ids = await approved(16);
    const a = start();
    const b = start(second);
    await eventually(() => allFinal(ids), 120_000);
    for (const id of ids) expect(copiesAtProvider(id)).toBe(1);
    const sends = await t.desk.db.payoutEvent.count({ where: { payoutId: { in: ids }, toStatus: "submitting" } });
    expect(sends).toBe(ids.length);
    expect(a.stats.errors + b.stats.errors).toBe(0n);
  }, 180_000);
});

describe("the sweeper and the health report", () => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });
  const LIMITS = { sendWithinSeconds: 120, checkOverdueSeconds: 120, stuckAfterMinutes: 30 };

  const approvedPayout = (phone = "260763456789") => t.pawapayPayout({ phone, description: "Sweeper drill" });

  it("flags a payout approved but not sent, and clears the flag once a worker sends it", async () => {
    const id = await approvedPayout();
    expect((await sweep(t.desk.db, LIMITS)).notSent).toBe(0); // just approved: not late
    await t.desk.db.payout.update({ where: { id }, data: { approvedAt: new Date(Date.now() - 3 * 60_000) } });
    expect((await sweep(t.desk.db, LIMITS)).notSent).toBe(1);
    const flagged = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(flagged).toMatchObject({ attentionReason: "not_sent", status: "approved" });
    expect(flagged.dueAt).not.toBeNull(); // still due: the first live worker takes it
    const event = await t.desk.db.payoutEvent.findFirstOrThrow({ where: { payoutId: id }, orderBy: { id: "desc" } });
    expect(event.note).toMatch(/not yet sent/);
    await t.work.run({ payoutId: id, max: 1 });
    const sent = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(sent.attentionSince).toBeNull();
    expect(sent.status).not.toBe("approved");
  });

  it("flags an overdue status check and clears it when the check is made", async () => {
    const id = await approvedPayout("260763456129"); // pawaPay leaves it SUBMITTED
    await t.work.run({ payoutId: id, max: 1 });
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status).toBe("processing");
    await t.desk.db.payout.update({ where: { id }, data: { dueAt: new Date(Date.now() - 5 * 60_000) } });
    expect((await sweep(t.desk.db, LIMITS)).checkOverdue).toBe(1);
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).attentionReason).toBe("check_overdue");
    await t.work.run({ payoutId: id, max: 1 });
    const checked = await t.desk.db.payout.findUniqueOrThrow({ where: { id } });
    expect(checked.attentionReason).toBeNull();
    expect(checked.dueAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it("makes due a payout waiting on the desk with nothing due", async () => {
    const id = await approvedPayout();
    await t.desk.db.payout.update({ where: { id }, data: { dueAt: null } });
    expect((await sweep(t.desk.db, LIMITS)).repaired).toBe(1);
    expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).dueAt).not.toBeNull();
  });

  it("reports lag and no live worker as unhealthy, and a keeping-up queue as healthy", async () => {
    await approvedPayout();
    await t.desk.db.payout.updateMany({ where: { dueAt: { not: null } }, data: { dueAt: new Date(Date.now() - 5 * 60_000) } });
    const stalled = await healthReport(t.desk.db, { maxLagSeconds: 60 });
    expect(stalled.ok).toBe(false);
    expect(stalled.database.reachable).toBe(true);
    expect(stalled.queue.due).toBeGreaterThan(0);
    expect(stalled.queue.lagSeconds).toBeGreaterThanOrEqual(299);
    expect(stalled.problems.join("; ")).toMatch(/queue lag .* over 60 s; payouts are due and no worker is alive/);
    expect(JSON.stringify(stalled)).not.toMatch(/sandbox-|2607634/); // no secrets, no payout details

    const dispatcher = new Dispatcher(t.desk, FAST);
    dispatcher.start();
    try {
      const healthy = await eventually(async () => {
        const report = await healthReport(t.desk.db, { maxLagSeconds: 60 });
        return report.ok ? report : null;
      }, 90_000);
      expect(healthy.workers.alive).toBeGreaterThanOrEqual(1);
      expect(healthy.queue.lagSeconds).toBeLessThanOrEqual(60);
    } finally {
      await dispatcher.stop();
    }
  }, 150_000);
});
