// The connectors' HTTP client over real sockets: what a connector relies on
// from fetch holds (no redirect followed, text decoded as fetch decodes it,
// a broken answer is an error, an abort ends the request).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";
import { httpFetch } from "./transport";

describe("httpFetch", () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; headers: IncomingMessage["headers"]; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ method: req.method!, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        switch (req.url) {
          case "/echo":
            res.setHeader("x-twice", ["a", "b"]);
            res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ got: Buffer.concat(chunks).toString("utf8") }));
            return;
          case "/redirect":
            res.writeHead(302, { location: "/echo" }).end();
            return;
          case "/bom":
            // A BOM, "é", then a byte that is not UTF-8.
            res.writeHead(200).end(Buffer.from([0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xff]));
            return;
          case "/gzip":
            res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync("inflated"));
            return;
          case "/broken":
            // Promises 100 bytes, sends 10, and hangs up.
            res.writeHead(200, { "content-length": "100" });
            res.write("0123456789");
            setTimeout(() => res.socket?.destroy(), 20);
            return;
          case "/slow":
            setTimeout(() => res.writeHead(200).end("late"), 2_000);
            return;
          default:
            res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("sends the method, headers and body, and answers the status, headers and text", async () => {
    const response = await httpFetch(`${base}/echo`, { method: "POST", headers: { "X-Api-Key": "k", "Content-Type": "application/json" }, body: '{"amount":"1.00 ₦"}' });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(JSON.parse(await response.text())).toEqual({ got: '{"amount":"1.00 ₦"}' });
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("x-twice")).toBe("a, b");
    expect(response.headers.get("x-absent")).toBeNull();
    const sent = seen.at(-1)!;
    expect(sent).toMatchObject({ method: "POST", body: '{"amount":"1.00 ₦"}' });
    expect(sent.headers).toMatchObject({
      "x-api-key": "k",
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength('{"amount":"1.00 ₦"}')),
      "user-agent": "payout-desk",
    });
  });

  it("sends a body without a content type as text/plain, as fetch does; a Headers object is taken as well", async () => {
    await httpFetch(`${base}/echo`, { method: "POST", body: "plain" });
    expect(seen.at(-1)!.headers["content-type"]).toBe("text/plain;charset=UTF-8");
    await httpFetch(`${base}/echo`, { method: "POST", headers: new Headers({ "content-type": "application/xml" }), body: "<a/>" });
    expect(seen.at(-1)!.headers["content-type"]).toBe("application/xml");
  });

  it("never follows a redirect", async () => {
    const response = await httpFetch(`${base}/redirect`, { method: "POST", body: "payout" });
    expect(response.status).toBe(302);
    expect(response.ok).toBe(false);
    expect(response.headers.get("location")).toBe("/echo");
  });

  it("decodes text as fetch does (BOM dropped, malformed bytes replaced) and inflates a compressed body", async () => {
    expect(await (await httpFetch(`${base}/bom`)).text()).toBe("é\uFFFD");
    expect(await (await httpFetch(`${base}/gzip`)).text()).toBe("inflated");
  });

  it("takes an answer broken off mid-body for an error, never for a short body", async () => {
    await expect(httpFetch(`${base}/broken`)).rejects.toThrow();
  });

  it("ends the request when its signal aborts, with the signal's reason", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DOMException("timed out after 100 ms", "TimeoutError")), 100);
    await expect(httpFetch(`${base}/slow`, { signal: controller.signal })).rejects.toMatchObject({ name: "TimeoutError" });
    await expect(httpFetch(`${base}/echo`, { signal: AbortSignal.abort(new Error("already")) })).rejects.toThrow("already");
  });

  it("refuses a URL that is not http or https, and reports a refused connection as an error", async () => {
    await expect(httpFetch("ftp://127.0.0.1/x")).rejects.toThrow(/http and https/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(httpFetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
