// Serves a Web-standard handler (Request → Response) over real HTTP on
// 127.0.0.1, so tests exercise the same bytes, headers and sockets the desk
// and the providers exchange: emulators, fake callback receivers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ServeOptions {
  /** Port to listen on (default 0: a free one). */
  port?: number;
  host?: string;
}

export interface ServedHandler {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:49152 */
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function serveWebHandler(handle: (request: Request) => Promise<Response>, opts: ServeOptions = {}): Promise<ServedHandler> {
  const host = opts.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    void dispatch(handle, req, res);
  });
  // fetch (undici) keeps a socket about 4 s; Node's server closed idle ones at
  // 5 s, and on a busy machine a request sent on a socket the server was just
  // closing failed with ECONNRESET. The server now outwaits the client.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        // Keep-alive sockets (fetch pools them) would otherwise hold close() open.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function dispatch(handle: (request: Request) => Promise<Response>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The handler learns that the client went away (e.g. a timed-out fetch) through request.signal.
  const aborter = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) aborter.abort(new Error("client disconnected"));
  });

  let response: Response;
  try {
    const request = await toRequest(req, aborter.signal);
    response = await handle(request);
  } catch (error) {
    if (aborter.signal.aborted || res.destroyed) return;
    response = new Response(JSON.stringify({ errorMessage: `Handler error: ${(error as Error).message}` }), {
      status: 500,
      headers: { "content-type": "application/json" },
    });
  }
  if (res.destroyed) return;
  await writeResponse(response, res);
}

async function toRequest(req: IncomingMessage, signal: AbortSignal): Promise<Request> {
  const url = `http://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`;
  const headers = new Headers();
  // rawHeaders keeps repeated fields as separate lines; Headers joins them as RFC 9110 says.
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? "GET";
  let body: Buffer | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = Buffer.concat(chunks);
  }
  return new Request(url, { method, headers, body: body ? new Uint8Array(body) : undefined, signal });
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === "set-cookie") return;
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
    res.end();
  } catch (error) {
    // A body that fails half-way must look like a broken connection to the client, not a short success.
    res.destroy(error as Error);
  }
}
