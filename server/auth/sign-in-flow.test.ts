// Sign-in, session checks and sign-out end to end over real HTTP: next-auth's
// own request handling with the desk's options, and the desk's tRPC endpoint
// with its real context, on one server, against a real database. The
// session clock of the tRPC side is moved by hand to cross the idle and
// absolute limits without waiting.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import NextAuth from "next-auth";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createTestDatabase, testDatabases, type TestDb } from "@/server/db/testing";
import { createUser } from "@/server/services/users";
import { readConfig } from "@/server/config";
import type { Desk } from "@/server/services/types";
import { appRouter } from "@/server/trpc/router";
import { createContext } from "@/server/trpc/context";
import { authOptions } from "./options";
import { clientIp } from "./client-ip";
import { installPeerAddressStamp } from "./peer-address";
import { parseCookieHeader } from "./session-cookie";
import { SIGN_IN_LIMITS } from "@/server/services/sign-in";

const policy = { idleMinutes: 30, maxHours: 8 };

/** Serves /api/auth/* through next-auth (its pages-API entry) and /api/trpc/* through the desk's tRPC handler. */
async function startServer(desk: Desk, clock: { now: () => Date }) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://placeholder");
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      if (url.pathname.startsWith("/api/auth/")) {
        // The shape Next.js gives a pages API route: parsed query, body and cookies, plus its response helpers.
        const apiReq = Object.assign(req, {
          query: { ...Object.fromEntries(url.searchParams), nextauth: url.pathname.slice("/api/auth/".length).split("/") },
          body: Object.fromEntries(new URLSearchParams(body)),
          cookies: Object.fromEntries(parseCookieHeader(req.headers.cookie).map((c) => [c.name, c.value])),
        });
        const apiRes = Object.assign(res, {
          status(code: number) {
            res.statusCode = code;
            return apiRes;
          },
          json(value: unknown) {
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify(value));
          },
          send(value: unknown) {
            res.end(typeof value === "string" ? value : JSON.stringify(value));
          },
        });
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
        await NextAuth(apiReq as never, apiRes as never, authOptions(async () => desk.db, { ip: clientIp(headers) }));
        return;
      }
      const request = new Request(new URL(req.url ?? "/", `http://${req.headers.host}`), {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([name, value]) => (typeof value === "string" ? [[name, value] as [string, string]] : [])),
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
      });
      const response = await fetchRequestHandler({
        endpoint: "/api/trpc",
        req: request,
        router: appRouter,
        createContext: () => createContext(desk, request, { now: clock.now, policy }),
      });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A browser's cookie jar, reduced to what these requests need. */
class Browser {
  cookies = new Map<string, string>();
  constructor(private origin: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.origin}${path}`, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ url: string }> {
    const { csrfToken } = (await (await this.request("/api/auth/csrf")).json()) as { csrfToken: string };
    const response = await this.request(path, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...fields, csrfToken, json: "true" }).toString(),
    });
    return (await response.json()) as { url: string };
  }

  signIn(email: string, password: string, headers: Record<string, string> = {}) {
    return this.form("/api/auth/callback/credentials", { email, password }, headers);
  }

  signOut() {
    return this.form("/api/auth/signout", {});
  }

  async me(): Promise<{ status: number; body: any }> {
    const response = await this.request("/api/trpc/me.get");
    return { status: response.status, body: await response.json() };
  }
}

describe.each(testDatabases())("signing in and out over HTTP on %s", (kind) => {
  let db: TestDb;
  let origin: string;
  let server: http.Server;
  let now = Date.now();
  const clock = { now: () => new Date(now) };
  const saved = { url: process.env.NEXTAUTH_URL, secret: process.env.NEXTAUTH_SECRET };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await createUser(db.prisma, { email: "approver@example.com", role: "approver", password: "approver password" });
    const desk: Desk = {
      db: db.prisma,
      config: readConfig({} as NodeJS.ProcessEnv),
      credentialsKey: randomBytes(32),
      jobs: { wake() {} },
    };
    installPeerAddressStamp();
    ({ server, origin } = await startServer(desk, clock));
    process.env.NEXTAUTH_URL = origin;
    process.env.NEXTAUTH_SECRET = randomBytes(32).toString("base64url");
  }, 180_000);

  afterAll(async () => {
    process.env.NEXTAUTH_URL = saved.url;
    process.env.NEXTAUTH_SECRET = saved.secret;
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await db?.dispose();
  });

  it("opens a session row on sign-in, from the socket peer's address, whatever the client claims", async () => {
    now = Date.now();
    const browser = new Browser(origin);
    const result = await browser.signIn("approver@example.com", "approver password", { "x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.6" });
    expect(result.url).not.toMatch(/error=/);
    expect(await browser.me()).toMatchObject({ status: 200, body: { result: { data: { json: { email: "approver@example.com", role: "approver" } } } } });

    const sessions = await db.prisma.userSession.findMany({ where: { user: { email: "approver@example.com" } } });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ ip: "127.0.0.1", revokedAt: null });
    expect(await db.prisma.auditLog.findFirst({ where: { action: "user.sign_in" } })).toMatchObject({ ip: "127.0.0.1" });
    // The cookie lasts no longer than the session's absolute limit.
    const cookieLine = (await browser.request("/api/auth/session")).headers.getSetCookie().find((l) => l.startsWith("next-auth.session-token="));
    const expires = new Date(/Expires=([^;]+)/i.exec(cookieLine ?? "")?.[1] ?? 0).getTime();
    expect(expires).toBeGreaterThan(Date.now() + (policy.maxHours * 60 - 5) * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + policy.maxHours * 3_600_000 + 60_000);
  });

  it("answers 401 with the reason once the session has been idle too long", async () => {
    now = Date.now();
    const browser = new Browser(origin);
    await browser.signIn("approver@example.com", "approver password");
    now += 29 * 60_000;
    expect((await browser.me()).status).toBe(200);
    now += 29 * 60_000;
    expect((await browser.me()).status).toBe(200);
    now += 30 * 60_000;
    const ended = await browser.me();
    expect(ended.status).toBe(401);
    expect(ended.body.error.json.message).toBe("Your session ended after 30 minutes without activity. Sign in again.");
  });

  it("answers 401 at the absolute limit however active the session is", async () => {
    now = Date.now();
    const browser = new Browser(origin);
    await browser.signIn("approver@example.com", "approver password");
    for (let i = 0; i < 16; i++) {
      now += 29 * 60_000;
      expect((await browser.me()).status).toBe(200);
    }
    now += 29 * 60_000;
    const ended = await browser.me();
    expect(ended.status).toBe(401);
    expect(ended.body.error.json.message).toMatch(/limit of 8 hours since sign-in/);
  });

  it("revokes the session at sign-out: the old cookie, replayed, lets no one in", async () => {
    now = Date.now();
    const browser = new Browser(origin);
    await browser.signIn("approver@example.com", "approver password");
    const stolen = new Map(browser.cookies);
    await browser.signOut();
    expect((await browser.me()).status).toBe(401);

    const replay = new Browser(origin);
    replay.cookies = stolen;
    const refused = await replay.me();
    expect(refused.status).toBe(401);
    expect(refused.body.error.json.message).toBe("This session was signed out. Sign in again.");
    // next-auth's own session endpoint gives the same answer.
    expect(await (await replay.request("/api/auth/session")).json()).toMatchObject({ ended: "signed-out" });
    expect(await (await replay.request("/api/auth/session")).json()).not.toHaveProperty("user");

    const signOut = await db.prisma.auditLog.findFirst({ where: { action: "user.sign_out" }, orderBy: { at: "desc" } });
    expect(signOut?.ip).toBe("127.0.0.1");
  });

  it("passes a throttled sign-in's wait, in words, to the sign-in form", async () => {
    // Failures this client already had (written directly: waiting them out over HTTP would be timing).
    const failures = SIGN_IN_LIMITS.freeFailures + 7;
    await db.prisma.signInAttempt.createMany({
      data: Array.from({ length: failures }, () => ({ email: "approver@example.com", ip: "127.0.0.1", success: false, at: new Date() })),
    });
    const browser = new Browser(origin);
    const result = await browser.signIn("approver@example.com", "approver password");
    const error = new URL(result.url).searchParams.get("error");
    expect(error).toMatch(/^Too many failed sign-in attempts for this account from your network address\. Wait \d+ minutes and try again/);
    expect((await browser.me()).status).toBe(401);
  });
});
