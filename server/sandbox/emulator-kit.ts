// What every built-in emulator needs besides its provider's protocol: its
// background work (callbacks, later status changes, retries) on timers that
// never keep the process alive, a count of work under way so tests can wait
// until it is idle, one close() that stops it all, and the injected faults'
// broken answers.

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
  /** Waits until the client gives up on `signal`, or `maxMs` (a fault that holds the answer). */
  waitForAbort(signal: AbortSignal, maxMs: number): Promise<void>;
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
    waitForAbort(signal, maxMs) {
      return new Promise((resolve) => {
        if (signal.aborted) return resolve();
        const timer = setTimeout(done, maxMs);
        timer.unref?.();
        timers.add(timer);
        signal.addEventListener("abort", done, { once: true });
        function done() {
          clearTimeout(timer);
          timers.delete(timer);
          signal.removeEventListener("abort", done);
          resolve();
        }
      });
    },
  };
  return tasks;
}

/** A "garbage" fault: the gateway's HTML error page served as if it were the provider's JSON. */
export function garbageResponse(): Response {
  return new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", { status: 200, headers: { "content-type": "application/json" } });
}

/** A "drop-after-accept" fault: headers go out, then the connection breaks before the body completes. */
export function droppedResponse(bodyStart: string, status = 200): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(bodyStart));
        controller.error(new Error("connection dropped by fault injection"));
      },
    }),
    { status, headers: { "content-type": "application/json" } },
  );
}
