// The emulators' background work (callbacks, later status changes, retries):
// timers that never keep the process alive, a count of work under way so
// tests can wait until an emulator is idle, and one close() that stops it all.

export interface EmulatorTasks {
  /** Timers owned by code that sets its own (e.g. a fault that holds an answer). */
  readonly timers: Set<ReturnType<typeof setTimeout>>;
  /** Runs `task` after `delayMs`; a failure is logged, never thrown. */
  schedule(delayMs: number, task: () => void | Promise<void>): void;
  /** Marks work started outside schedule(); call end() when it is done. */
  begin(): void;
  end(): void;
  /** Resolves once no work is under way. */
  idle(): Promise<void>;
  /** Cancels every timer and releases anyone waiting for idle(). */
  close(): void;
}

export function createEmulatorTasks(name: string, log: (message: string) => void): EmulatorTasks {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let pending = 0;
  let waiters: Array<() => void> = [];

  function release(): void {
    const waiting = waiters;
    waiters = [];
    for (const resolve of waiting) resolve();
  }

  const tasks: EmulatorTasks = {
    timers,
    schedule(delayMs, task) {
      pending++;
      const timer = setTimeout(async () => {
        timers.delete(timer);
        try {
          await task();
        } catch (error) {
          log(`[${name}] task failed: ${(error as Error).message}`);
        } finally {
          tasks.end();
        }
      }, delayMs);
      timer.unref?.();
      timers.add(timer);
    },
    begin() {
      pending++;
    },
    end() {
      pending = Math.max(0, pending - 1);
      if (pending === 0) release();
    },
    idle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      pending = 0;
      release();
    },
  };
  return tasks;
}
