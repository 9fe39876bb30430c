// The one HTTP path of the connectors: its timeout holds whatever the fetch does.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderCallRecord } from "./types";
import { createHttpCaller } from "./http";

describe("createHttpCaller", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers /slow-headers never, /slow-body with headers and then nothing.
    server = createServer((req, res) => {
      if (req.url === "/slow-body") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write("{");
        return;
      }
      if (req.url === "/ok") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"ok":true}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("times out a provider that never answers, or stops half way through its body, and records the call", async () => {
    const calls: ProviderCallRecord[] = [];
    const call = createHttpCaller({ deps: { timeoutMs: 300, onCall: (c) => void calls.push(c) } });
    for (const path of ["/slow-headers", "/slow-body"]) {
      const outcome = await call({ operation: "submit", method: "POST", url: `${url}${path}`, body: "{}", payoutId: "p1" });
      expect(outcome).toEqual({ kind: "error", error: "timed out after 300 ms", timedOut: true });
    }
    expect(calls.map((c) => c.error)).toEqual(["timed out after 300 ms", "timed out after 300 ms"]);
    expect(await call({ operation: "status", method: "GET", url: `${url}/ok` })).toMatchObject({ kind: "response", status: 200, json: { ok: true } });
  });

  it("answers 'timed out' even when the fetch ignores the abort and never settles", async () => {
    // A fetch that hangs for ever, deaf to its signal: the call must still come back.
    const call = createHttpCaller({ deps: { timeoutMs: 200, fetch: () => new Promise<Response>(() => undefined) } });
    const started = Date.now();
    const outcome = await call({ operation: "submit", method: "POST", url: "http://127.0.0.1:1/never", body: "{}" });
    expect(outcome).toEqual({ kind: "error", error: "timed out after 200 ms", timedOut: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
