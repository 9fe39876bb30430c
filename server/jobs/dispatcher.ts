// The worker loop of one process: takes due payouts from the payout rows
// (server/services/payout-work.ts) and acts on them, several at once per
// connection, never more than the connection's concurrency in this process.
//
// Why no job queue library for this: the payout row already is the truth
// (its status and version decide whether a send may happen), so it is also
// the queue. A separate job row could be orphaned by a dead worker and, under
// pg-boss's stately policy, block every other payout's job (pg-boss#536); a
// lease on the row cannot: it runs out, and the payout is taken up again.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Desk, JobScheduler } from "@/server/services/types";
import { connectionsWithDueWork, LEASE_SECONDS, renewLeases, sweep, takeDueWork, type DueWork } from "@/server/services/payout-work";
import { claimTaken, workOnPayout } from "@/server/services/submission";
import { connectionRequestsPerMinute, connectionSendConcurrency } from "@/server/services/connection-settings";
import { publishedRequestsPerMinute } from "@/server/connectors/registry";
import type { ProviderKind } from "@/server/connectors/types";
import { WORKER_ALIVE_SECONDS } from "@/server/services/health";
import { beat, type WorkerStats } from "./heartbeat";

export interface DispatcherOptions {
  /** How long to wait for new work when none is due (a wake() cuts it short). */
  idlePollMs?: number;
  /** Seconds between sweeps (flags, repairs). */
  sweepEverySeconds?: number;
  /** Seconds between heartbeats (and lease renewals). */
  heartbeatEverySeconds?: number;
}

/** A piece of work longer than this stops renewing its lease, so a hung call cannot hold a payout for ever. */
const MAX_WORK_SECONDS = 300;
const CONNECTIONS_CACHE_MS = 10_000;
/**
 * Woken by a payout it finished while others are still under way, the loop
 * waits this long before taking: the payouts finishing meanwhile free their
 * slots too, and one take fills them all (one statement, not one each).
 */
const GATHER_MS = 3;
/** The scan for other connections' due work, when the busy ones had none, runs at most this often. */
const MIN_SCAN_GAP_MS = 50;

export class Dispatcher implements JobScheduler {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  readonly stats: WorkerStats = { processed: 0n, errors: 0n, lastError: null, lastErrorAt: null, startedAt: new Date() };
  private readonly active = new Map<string, { connectionId: string; startedAt: number; done: Promise<void> }>();
  private readonly perConnection = new Map<string, number>();
  private connections: { at: number; concurrency: Map<string, number>; rate: Map<string, number | null>; workers: number } = {
    at: 0,
    concurrency: new Map(),
    rate: new Map(),
    workers: 1,
  };
  /** Per connection: requests this process may still make now under the provider's rate limit. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Connections whose last take found due payouts: asked directly next time, before any scan. */
  private readonly busyConnections = new Set<string>();
  private scannedAt = 0;
  private stopped = false;
  private nudged = false;
  private nudge: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];

  constructor(
    private readonly desk: Desk,
    private readonly opts: DispatcherOptions = {},
  ) {}

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    const heartbeat = setInterval(() => void this.heartbeat(), (this.opts.heartbeatEverySeconds ?? 5) * 1000);
    const sweeper = setInterval(() => void this.sweep(), (this.opts.sweepEverySeconds ?? 15) * 1000);
    heartbeat.unref();
    sweeper.unref();
    this.timers.push(heartbeat, sweeper);
    void this.heartbeat();
  }

  /** Something became due: look now rather than at the next poll. */
  wake(): void {
    this.nudged = true;
    this.nudge?.();
  }

  /** Stops taking work and waits (up to `waitMs`) for the work under way; leases of unfinished work run out on their own. */
  async stop(waitMs = 10_000): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.wake();
    await this.loop;
    const pending = [...this.active.values()].map((a) => a.done);
    await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  /** Payouts this process is acting on right now. */
  get inProgress(): number {
    return this.active.size;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let took = 0;
      try {
        took = await this.takeWork();
      } catch (error) {
        this.recordError("taking due payouts", error);
        await this.nap(1000);
        continue;
      }
      // Nothing taken: either nothing is due, or every connection with work is at its limit
      // (a finishing payout wakes us). Something taken: look again at once.
      if (took === 0) {
        await this.nap(this.opts.idlePollMs ?? 250);
        if (this.active.size > 0 && !this.stopped) await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
      }
    }
  }

  /**
   * Takes due payouts into the free slots. A connection that had due work a
   * moment ago is asked again directly (each finished payout frees a slot
   * and wakes us, so under load that is once per payout); the scan for the
   * other connections with due work runs when those had none, and at least
   * every idle poll, so no connection waits longer than that to be seen.
   */
  private async takeWork(): Promise<number> {
    const concurrency = await this.concurrency();
    const free = (connectionId: string) =>
      (concurrency.get(connectionId) ?? this.desk.config.sendConcurrency) - (this.perConnection.get(connectionId) ?? 0);
    // Only connections with a free slot are worth a look.
    if (![...concurrency.keys()].some((id) => free(id) > 0)) return 0;
    let took = 0;
    const asked = new Set<string>();
    const take = async (connectionId: string) => {
      asked.add(connectionId);
      const slots = Math.min(free(connectionId), this.allowance(connectionId));
      if (slots <= 0 || this.stopped) return;
      const works = await takeDueWork(this.desk.db, { owner: this.owner, connectionId, limit: slots });
      // The approved ones are claimed together; should that fail, each is claimed (or found claimed) on its own way.
      const claimed = await claimTaken(this.desk, works, this.owner).catch((error) => {
        this.recordError("claiming taken payouts", error);
        return new Map<string, number>();
      });
      for (const work of works) this.launch(work, claimed.get(work.id));
      this.spend(connectionId, works.length);
      took += works.length;
      if (works.length > 0) this.busyConnections.add(connectionId);
      else this.busyConnections.delete(connectionId);
    };
    for (const connectionId of [...this.busyConnections]) await take(connectionId);
    const scanEveryMs = this.opts.idlePollMs ?? 250;
    const sinceScan = Date.now() - this.scannedAt;
    if ((took === 0 && sinceScan >= Math.min(MIN_SCAN_GAP_MS, scanEveryMs)) || sinceScan >= scanEveryMs) {
      this.scannedAt = Date.now();
      for (const connectionId of await connectionsWithDueWork(this.desk.db)) if (!asked.has(connectionId)) await take(connectionId);
    }
    return took;
  }

  /**
   * How many requests this process may make to the connection's provider now:
   * a token bucket filled at the provider's rate (Muda: 100 a minute) divided
   * among the live worker processes, so together they stay under it. No limit
   * known: unbounded (concurrency alone paces it).
   */
  private allowance(connectionId: string): number {
    const perMinute = this.connections.rate.get(connectionId) ?? null;
    if (perMinute === null) return Number.POSITIVE_INFINITY;
    const perSecond = perMinute / 60 / Math.max(1, this.connections.workers);
    const burst = Math.max(1, perSecond * 2);
    const now = Date.now();
    const bucket = this.buckets.get(connectionId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(connectionId, bucket);
    return Math.floor(bucket.tokens);
  }

  private spend(connectionId: string, requests: number): void {
    const bucket = this.buckets.get(connectionId);
    if (bucket) bucket.tokens -= requests;
  }

  private launch(work: DueWork, claimedVersion?: number): void {
    this.perConnection.set(work.connectionId, (this.perConnection.get(work.connectionId) ?? 0) + 1);
    const done = workOnPayout(this.desk, work, this.owner, claimedVersion)
      .then(() => {
        this.stats.processed++;
      })
      .catch((error) => this.recordError(`payout ${work.id} (${work.status})`, error))
      .finally(() => {
        this.active.delete(work.id);
        this.perConnection.set(work.connectionId, (this.perConnection.get(work.connectionId) ?? 1) - 1);
        this.wake();
      });
    this.active.set(work.id, { connectionId: work.connectionId, startedAt: Date.now(), done });
  }

  private async concurrency(): Promise<Map<string, number>> {
    if (Date.now() - this.connections.at > CONNECTIONS_CACHE_MS) {
      const rows = await this.desk.db.connection.findMany({ select: { id: true, settings: true, provider: true } });
      const workers = await this.desk.db.workerHeartbeat.count({ where: { seenAt: { gte: new Date(Date.now() - WORKER_ALIVE_SECONDS * 1000) } } });
      this.connections = {
        at: Date.now(),
        concurrency: new Map(rows.map((r) => [r.id, connectionSendConcurrency(r.settings, this.desk.config.sendConcurrency)])),
        rate: new Map(rows.map((r) => [r.id, connectionRequestsPerMinute(r.settings, publishedRequestsPerMinute(r.provider as ProviderKind))])),
        workers: Math.max(1, workers),
      };
    }
    return this.connections.concurrency;
  }

  private nap(ms: number): Promise<void> {
    if (this.nudged || this.stopped) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.nudge = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.nudge = null;
      this.nudged = false;
    });
  }

  private async heartbeat(): Promise<void> {
    try {
      const now = Date.now();
      const renewable = [...this.active.entries()].filter(([, a]) => now - a.startedAt < MAX_WORK_SECONDS * 1000).map(([id]) => id);
      await renewLeases(this.desk.db, this.owner, renewable, LEASE_SECONDS);
      await beat(this.desk.db, this.owner, this.stats);
    } catch (error) {
      this.recordError("heartbeat", error);
    }
  }

  private async sweep(): Promise<void> {
    try {
      await sweep(this.desk.db, {
        sendWithinSeconds: this.desk.config.sendWithinSeconds,
        checkOverdueSeconds: this.desk.config.sendWithinSeconds,
        stuckAfterMinutes: this.desk.config.stuckAfterMinutes,
      });
    } catch (error) {
      this.recordError("sweep", error);
    }
  }

  /** Every queue error is logged and counted; the count reaches /api/health through the heartbeat. */
  private recordError(what: string, error: unknown): void {
    this.stats.errors++;
    const message = error instanceof Error ? error.message : String(error);
    this.stats.lastError = `${what}: ${message}`.slice(0, 1000);
    this.stats.lastErrorAt = new Date();
    console.error(`[jobs] ${what} failed:`, error);
  }
}
