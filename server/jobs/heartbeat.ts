// Each worker process says it is alive every few seconds, with its counts of
// work done and errors met, so /api/health (which may run in another process)
// can report worker liveness and queue errors.
import { hostname } from "node:os";
import type { Db } from "@/server/services/types";

export interface WorkerStats {
  processed: bigint;
  errors: bigint;
  lastError: string | null;
  lastErrorAt: Date | null;
  startedAt: Date;
}

/** Heartbeats older than this are of processes long gone; they are deleted. */
const FORGET_AFTER_MS = 24 * 3600_000;

export async function beat(db: Db, id: string, stats: WorkerStats): Promise<void> {
  const now = new Date();
  const data = {
    seenAt: now,
    processed: stats.processed,
    errors: stats.errors,
    lastError: stats.lastError,
    lastErrorAt: stats.lastErrorAt,
  };
  await db.workerHeartbeat.upsert({
    where: { id },
    create: { id, host: hostname(), pid: process.pid, startedAt: stats.startedAt, ...data },
    update: data,
  });
  if (Math.random() < 0.01) await db.workerHeartbeat.deleteMany({ where: { seenAt: { lt: new Date(now.getTime() - FORGET_AFTER_MS) } } });
}
