// A tap on the line between the built-in emulators and the desk's webhook
// route, for tests that need a genuine callback in hand: it records every
// callback an emulator posts, and for the connections a test holds it keeps
// the callback from the desk (answered 503, as a network fault would be), so
// the test owns a genuinely signed callback the desk never applied, to
// tamper with, replay, and deliver itself.
//
// The emulators post on emulator-kit's callbackLine (node:http), which the
// tap replaces while installed.
import { callbackLine } from "@/server/sandbox/emulator-kit";
import type { FetchLike } from "@/server/connectors/transport";

export interface TappedCallback {
  connectionId: string;
  url: string;
  /** As sent, names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

export interface CallbackTap {
  /** A fetch for the test's own posts: unseen and never held. */
  realFetch: typeof fetch;
  /** Every callback an emulator posted, oldest first. */
  seen: TappedCallback[];
  /** Keeps every callback to this connection from the desk. */
  hold(connectionId: string): void;
  release(connectionId: string): void;
  uninstall(): void;
}

export function installCallbackTap(): CallbackTap {
  const realFetch = globalThis.fetch;
  const line = callbackLine.post;
  const seen: TappedCallback[] = [];
  const held = new Set<string>();
  const tap: FetchLike = async (url, init) => {
    const webhook = /\/api\/webhooks\/([^/?#]+)$/.exec(new URL(url).pathname);
    if (webhook && (init?.method ?? "GET").toUpperCase() === "POST") {
      if (typeof init?.body !== "string") throw new Error("The callback tap reads the emulators' text bodies only");
      const callback: TappedCallback = { connectionId: webhook[1]!, url, headers: Object.fromEntries(new Headers(init.headers).entries()), body: init.body };
      seen.push(callback);
      if (held.has(callback.connectionId)) return new Response("held by the test", { status: 503 });
    }
    return line(url, init);
  };
  callbackLine.post = tap;
  return {
    realFetch,
    seen,
    hold: (connectionId) => void held.add(connectionId),
    release: (connectionId) => void held.delete(connectionId),
    uninstall: () => void (callbackLine.post = line),
  };
}
