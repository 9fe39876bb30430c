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

/** A fault an emulator is told to inject: what goes wrong, on which calls, how often. */
export interface EmulatorFault<Mode extends string, Operation extends string> {
  mode: Mode;
  /** How many matching requests it affects (default 1). */
  count?: number;
  /** Which requests it affects (default: the emulator's payout-creating call). */
  operation?: Operation;
  delayMs?: number;
  /** Whether the provider acts on the request despite the broken answer (default: all but outright refusals). */
  process?: boolean;
}

export interface FaultBook<Mode extends string, Operation extends string> {
  normalise(fault: EmulatorFault<Mode, Operation>): Required<EmulatorFault<Mode, Operation>>;
  /** A fault from a control request's fields (numbers as number or bigint), or null when they name none. */
  parse(fields: { mode: unknown; operation?: unknown; count?: unknown; delayMs?: unknown; process?: unknown }): Required<EmulatorFault<Mode, Operation>> | null;
  /** Takes the first fault matching `operation`, account list first; counts it down and drops it when spent. */
  take(lists: Array<Array<Required<EmulatorFault<Mode, Operation>>>>, operation: Operation): Required<EmulatorFault<Mode, Operation>> | null;
}

export function faultBook<Mode extends string, Operation extends string>(spec: {
  modes: readonly Mode[];
  operations: readonly Operation[];
  defaultOperation: Operation;
  /** Modes in which the provider refuses outright, so by default nothing is processed. */
  refusals: readonly Mode[];
}): FaultBook<Mode, Operation> {
  const normalise = (fault: EmulatorFault<Mode, Operation>): Required<EmulatorFault<Mode, Operation>> => ({
    mode: fault.mode,
    count: fault.count ?? 1,
    operation: fault.operation ?? spec.defaultOperation,
    delayMs: fault.delayMs ?? 5000,
    process: fault.process ?? !spec.refusals.includes(fault.mode),
  });
  const positiveCount = (value: unknown): number | null => {
    const n = typeof value === "bigint" ? Number(value) : typeof value === "number" ? value : NaN;
    return Number.isFinite(n) && n > 0 ? Math.floor(n) : null;
  };
  return {
    normalise,
    parse(fields) {
      const mode = String(fields.mode ?? "") as Mode;
      if (!spec.modes.includes(mode)) return null;
      const operation = (fields.operation ?? spec.defaultOperation) as Operation;
      if (!spec.operations.includes(operation)) return null;
      const count = positiveCount(fields.count);
      // delayMs was taken as given (not floored) by the emulators' own parsers.
      const delayMs = typeof fields.delayMs === "bigint" ? Number(fields.delayMs) : typeof fields.delayMs === "number" ? fields.delayMs : null;
      return normalise({
        mode,
        operation,
        ...(count !== null ? { count } : {}),
        ...(delayMs !== null && delayMs >= 0 ? { delayMs } : {}),
        ...(typeof fields.process === "boolean" ? { process: fields.process } : {}),
      });
    },
    take(lists, operation) {
      for (const list of lists) {
        const index = list.findIndex((f) => f.operation === operation || f.operation === "any");
        if (index >= 0) {
          const fault = list[index]!;
          if (--fault.count <= 0) list.splice(index, 1);
          return fault;
        }
      }
      return null;
    },
  };
}
