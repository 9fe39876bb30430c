// The workers of one process: the payout dispatcher (sending, status checks,
// the sweeper), the balance schedule and the reconciliation runner.
import type { Desk } from "@/server/services/types";
import { Dispatcher, type DispatcherOptions } from "./dispatcher";
import { startBalanceSnapshots } from "./balance-snapshots";
import { startReconciliationRunner, type ReconciliationRunner } from "./reconciliation";

export interface Workers {
  dispatcher: Dispatcher;
  reconciliation: ReconciliationRunner | null;
  stop(): Promise<void>;
}

export function startWorkers(desk: Desk, opts: DispatcherOptions & { balances?: boolean; reconciliation?: boolean } = {}): Workers {
  const dispatcher = new Dispatcher(desk, opts);
  dispatcher.start();
  const stopBalanceSnapshots = opts.balances === false ? () => {} : startBalanceSnapshots(desk);
  const reconciliation = opts.reconciliation === false ? null : startReconciliationRunner(desk);
  return {
    dispatcher,
    reconciliation,
    async stop() {
      stopBalanceSnapshots();
      await Promise.all([dispatcher.stop(), reconciliation?.stop()]);
    },
  };
}
