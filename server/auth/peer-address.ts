// The socket peer of each request, carried to route handlers that only ever
// see a web Request (Next.js exposes no socket address to them, and fills
// `x-forwarded-for` with the peer only when the client sent none).
//
// The desk's server process installs a hook that writes the peer into a
// request header before Next.js sees the request. The header value carries a
// random per-process token, so a client that sends the header itself (or a
// request that arrived before the hook was installed) is not believed.
import http from "node:http";
import https from "node:https";
import { randomBytes } from "node:crypto";

export const PEER_HEADER = "x-desk-peer-address";

// On globalThis: Next.js bundles instrumentation and each route separately,
// and they must all see the one token of this process.
const stateKey = Symbol.for("payout-desk.peer-stamp");
type StampState = { token: string };
type Holder = { [stateKey]?: StampState };

function state(): StampState | undefined {
  return (globalThis as Holder)[stateKey];
}

/** Token first: only this process knows it, so only this process can have written the header. */
function stampValue(token: string, address: string): string {
  return `${token} ${address}`;
}

/**
 * Makes every HTTP(S) server in this process stamp incoming requests with
 * their socket peer. Idempotent. Called from instrumentation.ts, which Next.js
 * runs in the server process at start.
 */
export function installPeerAddressStamp(): void {
  const holder = globalThis as Holder;
  if (holder[stateKey]) return;
  const current: StampState = { token: randomBytes(18).toString("base64url") };
  holder[stateKey] = current;
  for (const Server of [http.Server, https.Server]) {
    const original = Server.prototype.emit;
    // Patching emit (rather than adding a listener) runs before Next.js's own
    // request listener, whatever order the listeners were added in.
    Server.prototype.emit = function emitWithPeerStamp(this: http.Server, event: string | symbol, ...args: unknown[]) {
      if (event === "request" || event === "upgrade" || event === "checkContinue") {
        const req = args[0] as http.IncomingMessage | undefined;
        if (req?.headers) {
          const address = req.socket?.remoteAddress;
          if (address) req.headers[PEER_HEADER] = stampValue(current.token, address);
          else delete req.headers[PEER_HEADER];
        }
      }
      return Reflect.apply(original, this, [event, ...args]) as boolean;
    } as typeof original;
  }
}

/** The peer address stamped on these request headers by this process, or undefined. */
export function stampedPeer(headers: Headers | Record<string, string | string[] | undefined>): string | undefined {
  const current = state();
  if (!current) return undefined;
  const raw = headers instanceof Headers ? headers.get(PEER_HEADER) : headers[PEER_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return undefined;
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space) !== current.token) return undefined;
  return value.slice(space + 1);
}
