// A tap on the line between the built-in emulators and the desk's webhook
// route, for tests that need a genuine callback in hand: it records every
// callback an emulator posts, and for the connections a test holds it keeps
// the callback from the desk (answered 503, as a network fault would be), so
// the test owns a genuinely signed callback the desk never applied, to
// tamper with, replay, and deliver itself.
//
// The emulators post with the global fetch they find when the desk first
// mounts them, so install the tap before startTestDesk.
import { vi } from "vitest";

export interface TappedCallback {
  connectionId: string;
  url: string;
  /** As sent, names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

export interface CallbackTap {
  /** The fetch the tap passes through to: the test's own posts go here, unseen and never held. */
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
  const seen: TappedCallback[] = [];
  const held = new Set<string>();
  const tap: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const webhook = /\/api\/webhooks\/([^/?#]+)$/.exec(new URL(url).pathname);
    if (webhook && (init?.method ?? "GET").toUpperCase() === "POST") {
      if (typeof init?.body !== "string") throw new Error("The callback tap reads the emulators' text bodies only");
      const callback: TappedCallback = { connectionId: webhook[1]!, url, headers: Object.fromEntries(new Headers(init.headers).entries()), body: init.body };
      seen.push(callback);
      if (held.has(callback.connectionId)) return new Response("held by the test", { status: 503 });
    }
    return realFetch(input, init);
  };
  vi.stubGlobal("fetch", tap);
  return {
    realFetch,
    seen,
    hold: (connectionId) => void held.add(connectionId),
    release: (connectionId) => void held.delete(connectionId),
    uninstall: () => vi.unstubAllGlobals(),
  };
}
