// Queue workers: thin adapters from jobs to the services that do the work.
import type PgBoss from "pg-boss";
import type { Desk } from "@/server/services/types";
import { checkPayoutStatus, submitPayout, sweep } from "@/server/services/submission";
import { QUEUES } from "./queue";
import { startBalanceSnapshots } from "./balance-snapshots";

interface PayoutJob {
  payoutId: string;
  attempt?: number;
}

export async function startWorkers(boss: PgBoss, desk: Desk, opts: { sweepEverySeconds?: number } = {}): Promise<() => void> {
  const pollingIntervalSeconds = 0.5;
  await boss.work<PayoutJob>(QUEUES.submit, { batchSize: 1, pollingIntervalSeconds }, async ([job]) => {
    if (job) await submitPayout(desk, job.data.payoutId);
  });
  await boss.work<PayoutJob>(QUEUES.status, { batchSize: 1, pollingIntervalSeconds }, async ([job]) => {
    if (job) await checkPayoutStatus(desk, job.data.payoutId, job.data.attempt ?? 0);
  });
  // The safety net: lost submit jobs and stuck payouts. Every process may run
  // it; jobs are de-duplicated per payout.
  const timer = setInterval(() => {
    sweep(desk).catch((error) => console.error("[jobs] sweep failed", error));
  }, (opts.sweepEverySeconds ?? 30) * 1000);
  timer.unref();
  const stopBalanceSnapshots = startBalanceSnapshots(desk);
  return () => {
    clearInterval(timer);
    stopBalanceSnapshots();
  };
}
