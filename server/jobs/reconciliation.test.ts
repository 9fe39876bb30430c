// The reconciliation runner on both databases: it takes a run whose worker
// died once the lease runs out (and not before), keeps the lease of a long
// run alive, gives a run back when it stops, runs a connection's runs one at
// a time, never holds payouts up, and queues the daily runs once however many
// workers try.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import { ensureDailyRuns, scheduledRunId, dailyPeriod, takeRun, type ReconciliationSettings } from "@/server/services/reconciliation";
import { generalSettings } from "@/server/services/settings";
import type { PaytotaEmulator } from "@/server/sandbox/paytota";
import { ReconciliationRunner } from "./reconciliation";
import type { RunOutcome } from "@/server/services/reconciliation";

const SETTINGS: ReconciliationSettings = { queriesPerSecond: 20, dailyAt: null, statementWaitMinutes: 1 };

describe.each(testDatabases())("the reconciliation runner on %s", (kind) => {
  let t: TestDesk;
  let paytotaId: string;
  const runners: ReconciliationRunner[] = [];
  const ended: Array<[string, RunOutcome]> = [];

  beforeAll(async () => {
    t = await startTestDesk(kind);
    paytotaId = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "paytota" } })).id;
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await t?.close();
  });

  function runner(opts: ConstructorParameters<typeof ReconciliationRunner>[1] = {}) {
    const r = new ReconciliationRunner(t.desk, { settings: SETTINGS, pollMs: 100, onRunEnd: (id, outcome) => ended.push([id, outcome]), ...opts });
    runners.push(r);
    r.start();
    return r;
  }

  async function start(connectionId: string, minutesAgo = 10) {
    const periodTo = new Date(Date.now() + 60_000 + Math.floor(Math.random() * 1000));
    const { run } = await t.caller("approver").reconciliation.start({ connectionId, periodFrom: new Date(Date.now() - minutesAgo * 60_000), periodTo });
    return run.id;
  }

  const runOf = (id: string) => t.desk.db.reconciliationRun.findUniqueOrThrow({ where: { id } });

  it("takes up a run after its dead worker's lease runs out, not before, and runs a connection's runs one at a time", async () => {
    const first = await start(t.pawapayConnectionId);
    const second = await start(t.pawapayConnectionId, 20);
    // A worker takes the first and dies (it never renews nor finishes).
    expect((await takeRun(t.desk.db, { owner: "dead-worker", leaseSeconds: 3 }))?.id).toBe(first);
    // While its lease lasts, nobody takes it, nor the connection's next run.
    expect(await takeRun(t.desk.db, { owner: "probe" })).toBeNull();

    const live = runner();
    await eventually(async () => ended.some(([id]) => id === second) && (await runOf(second)).status === "done", 30_000);
    const [a, b] = [await runOf(first), await runOf(second)];
    expect(a).toMatchObject({ status: "done", leaseOwner: null, summary: { attempts: 2, phase: "done" } });
    expect(b).toMatchObject({ status: "done", summary: { attempts: 1 } });
    expect(ended.filter(([id]) => id === first)).toEqual([[first, "done"]]);
    // The dead worker's run first (it was taken before), and the next one only once it had finished.
    expect(b.startedAt!.getTime()).toBeGreaterThanOrEqual(a.finishedAt!.getTime());
    await live.stop();
  });

  it("renews the lease of a run waiting on the provider, and no payout waits for it", async () => {
    // Paytota's statement request is held at the wire until the test lets it go: the run is mid-call for as long as the test needs.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const base = globalThis.fetch;
    const saved = t.desk.connectorDeps;
    t.desk.connectorDeps = {
      timeoutMs: 120_000,
      fetch: async (url, init) => {
        if (url.includes("/api/v1/company_statements/") && (init?.method ?? "GET").toUpperCase() === "POST") await gate;
        return base(url, init);
      },
    };
    try {
      const live = runner({ leaseSeconds: 2, renewEverySeconds: 0.5 });
      const runId = await start(paytotaId);
      await eventually(async () => (await runOf(runId)).status === "running");
      const firstLease = (await runOf(runId)).leaseUntil!;

      // A payout is made, sent and paid while the run waits on Paytota.
      const payoutId = await t.pawapayPayout();
      for (let i = 0; i < 100 && (await t.desk.db.payout.findUniqueOrThrow({ where: { id: payoutId } })).status !== "succeeded"; i++) {
        await t.work.run({ payoutId, all: true, max: 1 });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await t.desk.db.payout.findUniqueOrThrow({ where: { id: payoutId } })).status).toBe("succeeded");

      // Past the first lease's end the run is still held, by the same worker, with a later lease: nobody else may take it.
      await eventually(async () => Date.now() > firstLease.getTime() + 1_000);
      const held = await runOf(runId);
      expect(held).toMatchObject({ status: "running", leaseOwner: live.owner });
      expect(held.leaseUntil!.getTime()).toBeGreaterThan(firstLease.getTime());
      expect(await takeRun(t.desk.db, { owner: "probe" })).toBeNull();

      release();
      await eventually(async () => (await runOf(runId)).status === "done", 30_000);
      expect((await runOf(runId)).summary).toMatchObject({ attempts: 1 });
      await live.stop();
    } finally {
      release();
      t.desk.connectorDeps = saved;
    }
  });

  it("gives a run back to the queue when it stops, and the next worker finishes it", async () => {
    const emulator = (await sandboxEmulator("paytota", t.desk)) as unknown as PaytotaEmulator;
    await emulator.injectFault({ mode: "slow", operation: "statements", delayMs: 1_500, count: 1 });
    const stopping = runner();
    const runId = await start(paytotaId);
    await eventually(async () => (await runOf(runId)).status === "running");
    await stopping.stop();
    expect(await runOf(runId)).toMatchObject({ status: "queued", leaseOwner: null, leaseUntil: null });
    expect(ended).toContainEqual([runId, "stopped"]);

    const next = runner();
    await eventually(async () => (await runOf(runId)).status === "done", 30_000);
    expect(await runOf(runId)).toMatchObject({ summary: { attempts: 2 }, error: null });
    await next.stop();
  });

  it("queues the daily run of each enabled connection once, however many workers try, in the desk's zone, and runs them", async () => {
    const daily: ReconciliationSettings = { ...SETTINGS, dailyAt: { hour: 0, minute: 0 } };
    const connections = await t.desk.db.connection.findMany({ where: { enabled: true }, select: { id: true } });
    const [a, b] = await Promise.all([ensureDailyRuns(t.desk, daily), ensureDailyRuns(t.desk, daily)]);
    expect(a.length + b.length).toBe(connections.length);
    expect(await ensureDailyRuns(t.desk, daily)).toEqual([]);

    const { timeZone } = await generalSettings(t.desk.db);
    const { periodFrom, periodTo } = dailyPeriod(new Date(), daily.dailyAt!, timeZone);
    const runs = await t.desk.db.reconciliationRun.findMany({ where: { scheduled: true } });
    expect(runs).toHaveLength(connections.length);
    for (const run of runs) {
      expect(run).toMatchObject({ status: "queued", requestedById: null, periodFrom, periodTo });
      expect(run.id).toBe(scheduledRunId(run.connectionId, periodFrom, periodTo));
    }
    expect(await t.desk.db.auditLog.count({ where: { action: "reconciliation.scheduled" } })).toBe(connections.length);

    // A runner with the schedule on finds them already there, and runs every one: a statement for Paytota, status queries elsewhere.
    const live = runner({ settings: daily, scheduleEveryMs: 0, concurrency: 3 });
    await eventually(async () => (await t.desk.db.reconciliationRun.count({ where: { scheduled: true, status: { not: "done" } } })) === 0, 60_000);
    expect(await t.desk.db.reconciliationRun.count({ where: { scheduled: true } })).toBe(connections.length);
    const methods = await t.desk.db.reconciliationRun.findMany({ where: { scheduled: true }, select: { method: true, connection: { select: { provider: true } } } });
    for (const m of methods) expect(m.method).toBe(m.connection.provider === "paytota" ? "statement" : "status_queries");
    await live.stop();
  });
});
