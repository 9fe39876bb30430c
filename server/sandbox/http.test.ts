import { describe, expect, it } from "vitest";
import { serveWebHandler } from "./http";

describe("serveWebHandler", () => {
  it("hands the handler a faithful Request and writes its Response back", async () => {
    const served = await serveWebHandler(async (request) => {
      const body = await request.text();
      const headers = new Headers({ "content-type": "application/json", "x-echo": request.headers.get("x-multi") ?? "" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response(JSON.stringify({ method: request.method, url: request.url, body, host: request.headers.get("host") }), { status: 201, headers });
    });
    try {
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append("x-multi", "one");
      headers.append("x-multi", "two");
      const response = await fetch(`${served.url}/a/b?c=d`, { method: "POST", headers, body: "héllo" });
      expect(response.status).toBe(201);
      expect(response.headers.get("x-echo")).toBe("one, two");
      expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      const json = await response.json();
      expect(json).toEqual({ method: "POST", url: `${served.url}/a/b?c=d`, body: "héllo", host: new URL(served.url).host });
    } finally {
      await served.close();
    }
  });

  it("aborts request.signal when the client gives up", async () => {
    let aborted: Promise<boolean> | undefined;
    const served = await serveWebHandler(
      (request) =>
        new Promise<Response>((resolve) => {
          aborted = new Promise((done) => request.signal.addEventListener("abort", () => done(true)));
          request.signal.addEventListener("abort", () => resolve(new Response("late")));
        }),
    );
    try {
      await expect(fetch(served.url, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
      await expect(aborted).resolves.toBe(true);
    } finally {
      await served.close();
    }
  });

  it("breaks the connection when the response body fails half-way, and answers 500 when the handler throws", async () => {
    const served = await serveWebHandler(async (request) => {
      if (new URL(request.url).pathname === "/throw") throw new Error("boom");
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("partial"));
            controller.error(new Error("dropped"));
          },
        }),
      );
    });
    try {
      await expect(fetch(served.url).then((r) => r.text())).rejects.toThrow();
      const thrown = await fetch(`${served.url}/throw`);
      expect(thrown.status).toBe(500);
    } finally {
      await served.close();
    }
  });
});
