// The one way connectors talk HTTP: a timeout, the latency, and a record of
// every call for the payout timeline — with no secrets. Transport failures are
// returned, never thrown, so a connector can decide what they mean (usually:
// the outcome is unknown, because the provider may have acted).
import type { ConnectorDeps, ProviderCallRecord } from "./types";
import { httpFetch, type FetchLike, type ResponseHeaders } from "./transport";

export const DEFAULT_TIMEOUT_MS = 15_000;

export type CallOutcome =
  | { kind: "response"; status: number; text: string; json: unknown; jsonOk: boolean; headers: ResponseHeaders }
  | { kind: "error"; error: string; timedOut: boolean };

export interface CallInput {
  operation: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  payoutId?: string;
  /** What to keep of the request body on the timeline, when the body itself is secret or encrypted. */
  recordBody?: unknown;
}

export interface HttpCallerOptions {
  deps: ConnectorDeps;
  /** Headers added to every call (e.g. Authorization); never recorded. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Header names (lower case) never written to the timeline, besides authorization and cookie. */
  secretHeaders?: readonly string[];
}

export type HttpCaller = (input: CallInput) => Promise<CallOutcome>;

export function createHttpCaller(options: HttpCallerOptions): HttpCaller {
  // A test's fetch (faults injected) when given; else node:http (transport.ts says why not the global fetch).
  const doFetch: FetchLike = options.deps.fetch ?? httpFetch;
  const timeoutMs = options.deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secret = new Set(["authorization", "cookie", ...(options.secretHeaders ?? []).map((h) => h.toLowerCase())]);

  return async function call(input: CallInput): Promise<CallOutcome> {
    const headers = new Headers(input.headers);
    if (!headers.has("accept")) headers.set("Accept", "application/json");
    for (const [name, value] of Object.entries((await options.headers?.()) ?? {})) headers.set(name, value);
    const started = performance.now();
    let outcome: CallOutcome;
    // The timeout is ours, held here: it aborts the request and, should a
    // fetch ever not honour the abort, the call still answers "timed out"
    // (the outcome is then unknown, never failed). A provider call that never
    // returns would otherwise hold its payout for as long as the worker lives.
    const controller = new AbortController();
    let expire: () => void = () => undefined;
    const expired = new Promise<never>((_, reject) => {
      expire = () => {
        const error = new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError");
        controller.abort(error);
        reject(error);
      };
    });
    expired.catch(() => undefined);
    const timer = setTimeout(expire, timeoutMs);
    try {
      const response = await Promise.race([
        doFetch(input.url, {
          method: input.method,
          headers,
          body: input.body,
          // A redirect of a payout POST is not something to follow blindly.
          redirect: "manual",
          signal: controller.signal,
        }),
        expired,
      ]);
      // The body is read under the same timeout.
      const text = await Promise.race([response.text(), expired]);
      let json: unknown = undefined;
      let jsonOk = false;
      if (text.trim() !== "") {
        try {
          json = JSON.parse(text);
          jsonOk = true;
        } catch {
          jsonOk = false;
        }
      }
      outcome = { kind: "response", status: response.status, text, json, jsonOk, headers: response.headers };
    } catch (error) {
      outcome = describeTransportError(error, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    const record: ProviderCallRecord = {
      operation: input.operation,
      method: input.method,
      url: input.url,
      request:
        input.body !== undefined || input.headers
          ? recordedRequest(headers, input.recordBody !== undefined ? JSON.stringify(input.recordBody) : input.body, secret)
          : undefined,
      latencyMs: performance.now() - started,
      ...(input.payoutId ? { payoutId: input.payoutId } : {}),
      ...(outcome.kind === "response"
        ? { httpStatus: outcome.status, response: outcome.jsonOk ? outcome.json : truncate(outcome.text) }
        : { error: outcome.error }),
    };
    try {
      await options.deps.onCall?.(record);
    } catch {
      // Recording is evidence, not control flow.
    }
    return outcome;
  };
}

export function describeTransportError(error: unknown, timeoutMs: number): { kind: "error"; error: string; timedOut: boolean } {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return { kind: "error", error: `timed out after ${timeoutMs} ms`, timedOut: true };
  }
  const cause = err?.cause?.code ?? err?.cause?.message;
  return { kind: "error", error: cause ? `${err?.message ?? "fetch failed"} (${cause})` : (err?.message ?? String(error)), timedOut: false };
}

/** What is kept of a request for the timeline: the body and non-secret headers. */
function recordedRequest(headers: Headers, body: string | undefined, secret: ReadonlySet<string>): unknown {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (secret.has(name)) continue;
    kept[name] = value;
  }
  let parsedBody: unknown = body;
  if (body !== undefined) {
    try {
      parsedBody = JSON.parse(body);
    } catch {
      parsedBody = truncate(body);
    }
  }
  return { headers: kept, ...(body !== undefined ? { body: parsedBody } : {}) };
}

export function truncate(text: string): string {
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
