// The reconciliation worker of one process: takes queued runs from their rows
// (server/services/reconciliation.ts takeRun) with a lease, renews the lease
// while a run goes on, and queues the daily runs when DESK_RECONCILE_DAILY_AT
// says so. Like the payout dispatcher, no job library: the run row is the
// queue, and a dead worker's lease runs out so the next worker takes the run
// up. It shares nothing with the payout dispatcher but the database, so a
// run waiting minutes for a statement holds no payout up.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Desk } from "@/server/services/types";
import {
  ensureDailyRuns,
  executeRun,
  readReconciliationSettings,
  renewRunLeases,
  RUN_LEASE_SECONDS,
  takeRun,
  type ReconciliationSettings,
  type RunOutcome,
} from "@/server/services/reconciliation";

export interface ReconciliationRunnerOptions {
  settings?: ReconciliationSettings;
  /** How often to look for a queued run when none is running (default 2 s). */
  pollMs?: number;
  /** Runs of different connections this process works on at once (default 2). */
  concurrency?: number;
  /** Lease length and how often it is renewed (default 30 s, every 10 s). */
  leaseSeconds?: number;
  renewEverySeconds?: number;
  /** How often the daily schedule is looked at (default 60 s). */
  scheduleEveryMs?: number;
  /** Called when a run ends, with its outcome (tests). */
  onRunEnd?: (runId: string, outcome: RunOutcome) => void;
}

export class ReconciliationRunner {
  readonly owner = `${hostname()}:${process.pid}:reconcile:${randomBytes(3).toString("hex")}`;
  private readonly settings: ReconciliationSettings;
  private readonly active = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private nudge: (() => void) | null = null;
  private lastSchedule = 0;

  constructor(
    private readonly desk: Desk,
    private readonly opts: ReconciliationRunnerOptions = {},
  ) {
    this.settings = opts.settings ?? readReconciliationSettings();
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    const renew = setInterval(() => void this.renew(), (this.opts.renewEverySeconds ?? 10) * 1000);
    renew.unref();
    this.timers.push(renew);
  }

  /** Runs this process is working on right now. */
  get inProgress(): number {
    return this.active.size;
  }

  /**
   * Stops taking runs; the runs under way notice at their next step and are
   * given back to the queue (another worker starts them afresh). Waits up to
   * `waitMs` for that; a run that does not stop in time keeps its lease until
   * it runs out.
   */
  async stop(waitMs = 10_000): Promise<void> {
    this.abort.abort();
    for (const timer of this.timers) clearInterval(timer);
    this.nudge?.();
    await this.loop;
    await Promise.race([Promise.allSettled([...this.active.values()]), new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.schedule();
        if (this.active.size < (this.opts.concurrency ?? 2)) {
          const taken = await takeRun(this.desk.db, { owner: this.owner, leaseSeconds: this.opts.leaseSeconds ?? RUN_LEASE_SECONDS });
          if (taken && !this.stopped) {
            this.launch(taken.id);
            continue; // there may be more waiting
          }
        }
      } catch (error) {
        console.error("[reconciliation] taking a run failed:", error);
      }
      await this.nap(this.opts.pollMs ?? 2_000);
    }
  }

  private async schedule(): Promise<void> {
    if (!this.settings.dailyAt) return;
    const every = this.opts.scheduleEveryMs ?? 60_000;
    if (Date.now() - this.lastSchedule < every) return;
    this.lastSchedule = Date.now();
    const created = await ensureDailyRuns(this.desk, this.settings);
    if (created.length) console.log(`[reconciliation] queued ${created.length} daily run(s)`);
  }

  private launch(runId: string): void {
    const done = executeRun(this.desk, runId, this.owner, { settings: this.settings, signal: this.abort.signal })
      .then((outcome) => this.opts.onRunEnd?.(runId, outcome))
      .catch((error) => console.error(`[reconciliation] run ${runId} failed unexpectedly:`, error))
      .finally(() => {
        this.active.delete(runId);
        this.nudge?.();
      });
    this.active.set(runId, done);
  }

  private async renew(): Promise<void> {
    try {
      await renewRunLeases(this.desk.db, this.owner, [...this.active.keys()], this.opts.leaseSeconds ?? RUN_LEASE_SECONDS);
    } catch (error) {
      console.error("[reconciliation] renewing run leases failed:", error);
    }
  }

  private nap(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.nudge = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.nudge = null;
    });
  }
}

export function startReconciliationRunner(desk: Desk, opts: ReconciliationRunnerOptions = {}): ReconciliationRunner {
  const runner = new ReconciliationRunner(desk, opts);
  runner.start();
  return runner;
}
