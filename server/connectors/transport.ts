// The HTTP client under the connectors (and the emulators' callbacks): one
// request, its status, headers and body as text, on node:http / node:https
// with kept-alive sockets.
//
// Why not the global fetch: every payout costs a provider call and a
// callback, and on a 2-core machine Node's fetch (undici in JavaScript, its
// HTTP parser in WebAssembly, the body through web streams) cost about 0.5 ms
// of CPU more per request than node:http, whose parser is native: a fifth of
// a worker's CPU per payout. The behaviour a connector relies on is kept:
// - no redirect is followed (a payout POST is never replayed elsewhere);
// - the body is decoded as fetch's text() decodes it (UTF-8, a BOM dropped,
//   malformed bytes replaced), a compressed body is inflated;
// - a string body without a content type is sent as text/plain, as fetch does,
//   and a request names its client (User-Agent), as fetch's does: some
//   gateways refuse a request without one;
// - an abort (our timeout) destroys the request, and a connection broken
//   mid-answer is an error, never a short body taken for the whole.
import http from "node:http";
import https from "node:https";
import zlib from "node:zlib";

/** What connectors read of a response's headers (a fetch Headers has it too). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface TransportResponse {
  status: number;
  ok: boolean;
  headers: ResponseHeaders;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface TransportInit {
  method?: string;
  headers?: Headers | Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Only "manual" (what connectors ask of fetch); httpFetch never follows a redirect. */
  redirect?: "manual";
}

/** A fetch-shaped function: the global fetch, a test's fake, or httpFetch. */
export type FetchLike = (url: string, init: TransportInit) => Promise<TransportResponse>;

// Sockets are kept between requests; an idle one is closed after 4 s, or
// earlier when the server's Keep-Alive header says it closes them sooner
// (Node's agent reads that hint), so a request is not sent on a socket the
// server is closing.
const agents = {
  "http:": new http.Agent({ keepAlive: true, timeout: 4_000 }),
  "https:": new https.Agent({ keepAlive: true, timeout: 4_000 }),
};

const USER_AGENT = "payout-desk";

/** One request over node:http(s); resolves when the whole body has arrived. */
export function httpFetch(url: string, init: TransportInit = {}): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const agent = agents[target.protocol as keyof typeof agents];
    if (!agent) {
      reject(new TypeError(`Only http and https URLs are supported, not ${target.protocol}`));
      return;
    }
    if (init.signal?.aborted) {
      reject(init.signal.reason);
      return;
    }
    const headers: Record<string, string> = {};
    if (init.headers instanceof Headers) init.headers.forEach((value, name) => (headers[name] = value));
    else for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
    headers["user-agent"] ??= USER_AGENT;
    const body = init.body === undefined ? undefined : Buffer.from(init.body, "utf8");
    if (body) {
      headers["content-length"] = String(body.length);
      headers["content-type"] ??= "text/plain;charset=UTF-8";
    }
    const request = (target.protocol === "https:" ? https : http).request(target, { method: init.method ?? "GET", headers, agent });
    const abort = () => request.destroy(init.signal?.reason instanceof Error ? init.signal.reason : new DOMException("aborted", "AbortError"));
    init.signal?.addEventListener("abort", abort, { once: true });
    const done = () => init.signal?.removeEventListener("abort", abort);
    const fail = (error: Error) => {
      done();
      reject(error);
    };
    request.on("error", fail);
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      const decoded = inflated(response);
      decoded.on("data", (chunk: Buffer) => chunks.push(chunk));
      // Ended without all of its bytes (the connection broke mid-answer): an error, as with fetch.
      response.on("error", fail);
      if (decoded !== response) decoded.on("error", fail);
      response.on("aborted", () => fail(new Error("the connection closed before the response was complete")));
      decoded.on("end", () => {
        done();
        if (!response.complete) {
          reject(new Error("the connection closed before the response was complete"));
          return;
        }
        const bytes = Buffer.concat(chunks);
        const status = response.statusCode ?? 0;
        resolve({
          status,
          ok: status >= 200 && status < 300,
          headers: responseHeaders(response.headers),
          text: async () => new TextDecoder().decode(bytes),
          arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
        });
      });
    });
    request.end(body);
  });
}

function inflated(response: http.IncomingMessage): NodeJS.ReadableStream {
  switch ((response.headers["content-encoding"] ?? "").toLowerCase().trim()) {
    case "gzip":
    case "x-gzip":
      return response.pipe(zlib.createGunzip());
    case "deflate":
      return response.pipe(zlib.createInflate());
    case "br":
      return response.pipe(zlib.createBrotliDecompress());
    default:
      return response;
  }
}

/** Header lookup by any case; repeated fields joined with ", " as fetch's Headers joins them. */
function responseHeaders(raw: http.IncomingHttpHeaders): ResponseHeaders {
  return {
    get(name: string): string | null {
      const value = raw[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(", ") : value;
    },
  };
}
