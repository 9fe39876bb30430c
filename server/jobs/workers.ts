// The workers of one process: the payout dispatcher (sending, status checks,
// the sweeper) and the balance schedule.
import type { Desk } from "@/server/services/types";
import { Dispatcher, type DispatcherOptions } from "./dispatcher";
import { startBalanceSnapshots } from "./balance-snapshots";

export interface Workers {
  dispatcher: Dispatcher;
  stop(): Promise<void>;
}

export function startWorkers(desk: Desk, opts: DispatcherOptions & { balances?: boolean } = {}): Workers {
  const dispatcher = new Dispatcher(desk, opts);
  dispatcher.start();
  const stopBalanceSnapshots = opts.balances === false ? () => {} : startBalanceSnapshots(desk);
  return {
    dispatcher,
    async stop() {
      stopBalanceSnapshots();
      await dispatcher.stop();
    },
  };
}
