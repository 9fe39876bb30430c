// What every built-in emulator needs besides its provider's protocol: its
// background work (callbacks, later status changes, retries) on timers that
// never keep the process alive, a count of work under way so tests can wait
// until it is idle, one close() that stops it all, and the injected faults'
// broken answers.
import { httpFetch, type FetchLike, type TransportResponse } from "@/server/connectors/transport";

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

/** One delivery of a callback, as an emulator keeps it for its tests and control API. */
export interface CallbackAttempt {
  at: string;
  url: string;
  httpStatus?: number;
  error?: string;
}

export interface CallbackDelivery<A extends CallbackAttempt> {
  url: string;
  /** Names the callback in the log, e.g. "[pawapay-emulator] callback for <id>". */
  label: string;
  /** The waits before the second, third… attempt; none left, it is given up. */
  retryDelaysMs: readonly number[];
  /** The record of one attempt, made before it is sent. */
  start(at: string): A;
  /** The attempt's request, built afresh each time: signatures and timestamps belong to one attempt. */
  request(attempt: A): { headers: Record<string, string>; body: string } | Promise<{ headers: Record<string, string>; body: string }>;
  /** Whether the receiver took it; default: any 2xx (the answer's body is read and dropped). */
  accepted?(response: TransportResponse): Promise<boolean>;
  /** Keeps the attempt, once its answer (or failure) is known. */
  keep(attempt: A, accepted: boolean): void;
}

/**
 * Sends callbacks the way providers do: an attempt now, then one after each
 * retry delay until the receiver takes it. Each attempt counts as work under
 * way, so idle() waits for its record.
 */
/**
 * How emulators not given a fetch post their callbacks: over node:http, as a
 * provider would. Looked up at each post, so a test's tap on the line
 * (server/testing/callback-tap.ts) sees every callback whenever it is put on.
 */
export const callbackLine: { post: FetchLike } = { post: httpFetch };

export function createCallbackSender(env: { tasks: EmulatorTasks; post?: FetchLike; now: () => Date; log: (message: string) => void }) {
  const post: FetchLike = env.post ?? ((url, init) => callbackLine.post(url, init));
  return function deliver<A extends CallbackAttempt>(delivery: CallbackDelivery<A>, attempt = 0): void {
    env.tasks.begin();
    void (async () => {
      const record = delivery.start(env.now().toISOString());
      let accepted = false;
      try {
        const { headers, body } = await delivery.request(record);
        const response = await post(delivery.url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
        record.httpStatus = response.status;
        if (delivery.accepted) {
          accepted = await delivery.accepted(response);
        } else {
          await response.arrayBuffer().catch(() => undefined);
          accepted = response.ok;
        }
      } catch (error) {
        record.error = (error as Error).message;
      }
      delivery.keep(record, accepted);
      if (!accepted && attempt < delivery.retryDelaysMs.length) {
        env.log(`${delivery.label} not taken (${record.httpStatus ?? record.error}); sending again later`);
        env.tasks.schedule(delivery.retryDelaysMs[attempt]!, () => deliver(delivery, attempt + 1));
      }
    })().finally(() => env.tasks.end());
  };
}

/** A request's JSON body, or null when it is not JSON (the emulator answers that with its provider's error). */
export async function readJson(request: Request): Promise<unknown> {
  try {
    return JSON.parse(await request.text());
  } catch {
    return null;
  }
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

/** The faults every emulator injects; a provider may add its own. */
export type CommonFaultMode = "500" | "garbage" | "timeout" | "slow" | "drop-after-accept";

/** How one provider words the broken answers of the common faults. */
export interface FaultAnswers<Mode extends string> {
  /** Its own answer to an internal error. */
  serverError(): Response;
  /** What it answers at the end of a timeout fault's hold, if the client still listens. */
  gatewayTimeout(): Response;
  /** The connection broken after the provider accepted: the start of the answer that never completes. */
  dropped(processed: Response | null): Response;
  /** The provider's own fault modes. */
  other?(mode: Exclude<Mode, CommonFaultMode>, processed: Response | null): Response | Promise<Response>;
}

/**
 * Answers a request under an injected fault. When the fault says the provider
 * acts on the request anyway, `answer` runs first (the payout exists), and only
 * the answer is broken: that is the case a client must never take for a refusal.
 */
export async function answerUnderFault<Mode extends string>(
  tasks: EmulatorTasks,
  request: Request,
  fault: Required<EmulatorFault<Mode, string>>,
  answer: () => Response | Promise<Response>,
  answers: FaultAnswers<Mode>,
): Promise<Response> {
  const processed = fault.process ? await answer() : null;
  const mode = fault.mode as string;
  switch (mode) {
    case "500":
      return answers.serverError();
    case "garbage":
      return garbageResponse();
    case "timeout":
      await tasks.waitForAbort(request.signal, 10 * 60_000);
      return answers.gatewayTimeout();
    case "slow":
      await tasks.waitForAbort(request.signal, fault.delayMs);
      return processed ?? answer();
    case "drop-after-accept":
      return answers.dropped(processed);
  }
  if (!answers.other) throw new Error(`No answer for the fault mode ${mode}`);
  return answers.other(mode as Exclude<Mode, CommonFaultMode>, processed);
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
  /**
   * When (epoch ms) a fault that no request has met yet lapses (default: never).
   * A drill injecting faults for minutes sets it, so its faults are transient
   * blips as a provider's outages are, and do not pile up for the one payout
   * still being polled at the end.
   */
  lapsesAt?: number;
}

export interface FaultBook<Mode extends string, Operation extends string> {
  normalise(fault: EmulatorFault<Mode, Operation>): Required<EmulatorFault<Mode, Operation>>;
  /** A fault from a control request's fields (numbers as number or bigint), or null when they name none. */
  parse(fields: { mode: unknown; operation?: unknown; count?: unknown; delayMs?: unknown; process?: unknown }): Required<EmulatorFault<Mode, Operation>> | null;
  /** Takes the first fault matching `operation`, account list first; counts it down and drops it when spent. Lapsed faults are dropped unmet. */
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
    lapsesAt: fault.lapsesAt ?? Number.POSITIVE_INFINITY,
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
      const now = Date.now();
      for (const list of lists) {
        for (let i = list.length - 1; i >= 0; i--) if (list[i]!.lapsesAt <= now) list.splice(i, 1);
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
