// What /api/health reports: can the desk reach its database, is the payout
// work queue keeping up, are workers alive. Counts and ages only — never a
// message that could carry a URL, a credential or a payout's details.
import type { Db } from "./types";

/** A worker not seen for this long is taken for dead (heartbeats come every 5 s). */
export const WORKER_ALIVE_SECONDS = 30;
/** Queue lag above this makes the desk unhealthy (DESK_HEALTH_MAX_LAG_SECONDS). */
export const DEFAULT_MAX_LAG_SECONDS = 60;

export interface HealthReport {
  ok: boolean;
  /** Why not ok, in a few words each (empty when ok). */
  problems: string[];
  database: { reachable: boolean };
  queue: {
    /** Payouts due now that no worker holds. */
    due: number;
    /** Payouts a worker holds right now. */
    inProgress: number;
    /** Age of the oldest due payout no worker holds (seconds), or 0. */
    lagSeconds: number;
    maxLagSeconds: number;
  };
  workers: {
    alive: number;
    /** Work done and errors met by the live workers since each started. */
    processed: number;
    errors: number;
    lastErrorAt: string | null;
  };
  checkedAt: string;
}

export function maxLagSeconds(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.DESK_HEALTH_MAX_LAG_SECONDS ?? "");
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_LAG_SECONDS;
}

export async function healthReport(db: Db, opts: { maxLagSeconds?: number; now?: Date } = {}): Promise<HealthReport> {
  const now = opts.now ?? new Date();
  const maxLag = opts.maxLagSeconds ?? maxLagSeconds();
  const report: HealthReport = {
    ok: true,
    problems: [],
    database: { reachable: false },
    queue: { due: 0, inProgress: 0, lagSeconds: 0, maxLagSeconds: maxLag },
    workers: { alive: 0, processed: 0, errors: 0, lastErrorAt: null },
    checkedAt: now.toISOString(),
  };
  try {
    const [queue] = await db.$queryRaw<Array<{ due: number; oldest: Date | null; held: number }>>`
      SELECT
        count(*) FILTER (WHERE "leaseUntil" IS NULL OR "leaseUntil" < ${now})::int AS due,
        min("dueAt") FILTER (WHERE "leaseUntil" IS NULL OR "leaseUntil" < ${now}) AS oldest,
        count(*) FILTER (WHERE "leaseUntil" >= ${now})::int AS held
      FROM "Payout" WHERE "dueAt" <= ${now}`;
    report.database.reachable = true;
    report.queue.due = Number(queue?.due ?? 0);
    report.queue.inProgress = Number(queue?.held ?? 0);
    report.queue.lagSeconds = queue?.oldest ? Math.max(0, Math.round((now.getTime() - new Date(queue.oldest).getTime()) / 1000)) : 0;

    const workers = await db.workerHeartbeat.findMany({ where: { seenAt: { gte: new Date(now.getTime() - WORKER_ALIVE_SECONDS * 1000) } } });
    report.workers.alive = workers.length;
    report.workers.processed = workers.reduce((sum, w) => sum + Number(w.processed), 0);
    report.workers.errors = workers.reduce((sum, w) => sum + Number(w.errors), 0);
    const last = workers.map((w) => w.lastErrorAt).filter((d): d is Date => d !== null).sort((a, b) => b.getTime() - a.getTime())[0];
    report.workers.lastErrorAt = last?.toISOString() ?? null;
  } catch {
    report.problems.push("database unreachable");
  }
  if (report.database.reachable) {
    if (report.queue.lagSeconds > maxLag) report.problems.push(`queue lag ${report.queue.lagSeconds} s is over ${maxLag} s`);
    if (report.workers.alive === 0 && report.queue.due > 0) report.problems.push("payouts are due and no worker is alive");
  }
  report.ok = report.problems.length === 0;
  return report;
}
