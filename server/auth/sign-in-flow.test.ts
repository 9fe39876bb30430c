// Sign-in, session checks and sign-out end to end over real HTTP: next-auth's
// own request handling with the desk's options, and the desk's tRPC endpoint
// with its real context, on one server, against a real database. The
// session clock (of sign-in and of the tRPC side) is moved by hand to cross
// the idle and absolute limits without waiting, and to reach the next TOTP
// code (each code is accepted once) without waiting 30 seconds.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import NextAuth from "next-auth";
import { generate } from "otplib";
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
import { enrolForTests } from "./second-factor-testing";
import { readSignInAnswer } from "./sign-in-answers";

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
        await NextAuth(apiReq as never, apiRes as never, authOptions(async () => desk, { ip: clientIp(headers), now: clock.now }));
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

/** The kind and words of a refused sign-in, as the form reads them from the answer's ?error=. */
function answerOf(result: { url: string }) {
  const error = new URL(result.url).searchParams.get("error");
  return error === null ? null : readSignInAnswer(error);
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

  signIn(email: string, password: string, headers: Record<string, string> = {}, code?: string) {
    return this.form("/api/auth/callback/credentials", { email, password, ...(code === undefined ? {} : { code }) }, headers);
  }

  async trpc(path: string, input: unknown): Promise<{ status: number; body: any }> {
    const response = await this.request(`/api/trpc/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ json: input }) });
    return { status: response.status, body: await response.json() };
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

  let desk: Desk;
  let approverKey: string;
  let lastProof = 0;

  /**
   * The approver's code on the session clock, moved on to a 30-second step
   * after the last code used (each is accepted once, and up to 5 seconds of
   * the next step counts as used too).
   */
  function nextApproverCode(): Promise<string> {
    while (Math.floor(now / 30_000) <= Math.floor((lastProof + 5_000) / 30_000)) now += 30_000;
    lastProof = now;
    return generate({ secret: approverKey, epoch: Math.floor(now / 1000) });
  }

  /** Signs the approver in as the form does: password, the answer asking for a code, then all three. */
  async function signInWithCode(browser: Browser, headers: Record<string, string> = {}) {
    expect(answerOf(await browser.signIn("approver@example.com", "approver password", headers))?.kind).toBe("code-required");
    return browser.signIn("approver@example.com", "approver password", headers, await nextApproverCode());
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const { user } = await createUser(db.prisma, { email: "approver@example.com", role: "approver", password: "approver password" });
    desk = {
      db: db.prisma,
      config: readConfig({} as NodeJS.ProcessEnv),
      credentialsKey: randomBytes(32),
      jobs: { wake() {} },
    };
    approverKey = await enrolForTests(desk, user.id);
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
    const result = await signInWithCode(browser, { "x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.6" });
    expect(result.url).not.toMatch(/error=/);
    expect(await browser.me()).toMatchObject({ status: 200, body: { result: { data: { json: { email: "approver@example.com", role: "approver" } } } } });

    const sessions = await db.prisma.userSession.findMany({ where: { user: { email: "approver@example.com" } } });
    expect(sessions).toHaveLength(1);
    // Signed in with a code: the row records when the factor was proved.
    expect(sessions[0]).toMatchObject({ ip: "127.0.0.1", revokedAt: null, secondFactorAt: new Date(now) });
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
    await signInWithCode(browser);
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
    await signInWithCode(browser);
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
    await signInWithCode(browser);
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

  it("asks for the code after the right password, refuses a wrong one beside the code field, and opens no session until the right one", async () => {
    now = Date.now() + 3_600_000;
    const browser = new Browser(origin);
    const before = await db.prisma.signInAttempt.count({ where: { email: "approver@example.com" } });
    expect(answerOf(await browser.signIn("approver@example.com", "approver password"))).toEqual({ kind: "code-required", message: "Enter the code from your authenticator app to finish signing in" });
    expect((await browser.me()).status).toBe(401);
    // The answer that asks for the code is not counted either way.
    expect(await db.prisma.signInAttempt.count({ where: { email: "approver@example.com" } })).toBe(before);
    // A wrong password never reaches the code: it is only wrong.
    expect(new URL((await browser.signIn("approver@example.com", "not it", {}, "123456")).url).searchParams.get("error")).toBe("Wrong email or password");

    const right = await nextApproverCode();
    const wrong = right === "000000" ? "000001" : "000000";
    const refused = answerOf(await browser.signIn("approver@example.com", "approver password", {}, wrong));
    expect(refused?.kind).toBe("code-refused");
    expect(refused?.message).toMatch(/^Code: not right/);
    expect((await browser.me()).status).toBe(401);

    expect(answerOf(await browser.signIn("approver@example.com", "approver password", {}, right))).toBeNull();
    expect((await browser.me()).status).toBe(200);
    // Used once: the same code again is refused, in another browser too.
    expect(answerOf(await new Browser(origin).signIn("approver@example.com", "approver password", {}, right))?.message).toMatch(/used already/);
  });

  it("lets an approver who has not enrolled in once, and then tells the form to ask an admin", async () => {
    now = Date.now() + 2 * 3_600_000;
    await createUser(db.prisma, { email: "newcomer@example.com", role: "approver", password: "newcomer password" });
    const browser = new Browser(origin);
    expect(answerOf(await browser.signIn("newcomer@example.com", "newcomer password"))).toBeNull();
    expect(await browser.me()).toMatchObject({ status: 200, body: { result: { data: { json: { email: "newcomer@example.com" } } } } });
    await browser.signOut();
    const overdue = answerOf(await new Browser(origin).signIn("newcomer@example.com", "newcomer password"));
    expect(overdue?.kind).toBe("enrolment-overdue");
    expect(overdue?.message).toMatch(/Ask an admin to reset your second factor/);
  });

  it("answers a stale session's credentials change with a 403 carrying stepUpRequired; auth.stepUp over HTTP lets the retry through", async () => {
    const { user } = await createUser(db.prisma, { email: "admin@example.com", role: "admin", password: "admin password here" });
    const adminKey = await enrolForTests(desk, user.id);
    // Signed in (with a code) six minutes ago on the session clock; step-up reads the real clock.
    now = Date.now() - 6 * 60_000;
    const browser = new Browser(origin);
    expect(answerOf(await browser.signIn("admin@example.com", "admin password here"))?.kind).toBe("code-required");
    expect(answerOf(await browser.signIn("admin@example.com", "admin password here", {}, await generate({ secret: adminKey, epoch: Math.floor(now / 1000) })))).toBeNull();
    now = Date.now();

    const draft = { provider: "pawapay", name: "", environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: {} };
    const refused = await browser.trpc("connections.create", draft);
    expect(refused.status).toBe(403);
    expect(refused.body.error.json).toMatchObject({ message: expect.stringMatching(/^Code: /), data: { code: "FORBIDDEN", stepUpRequired: true, stepUpReason: "stale" } });

    const proved = await browser.trpc("auth.stepUp", { code: await generate({ secret: adminKey }) });
    expect(proved.status).toBe(200);
    const retried = await browser.trpc("connections.create", draft);
    // Past the step-up: now refused only for its input.
    expect(retried.status).toBe(400);
    expect(retried.body.error.json.data).not.toHaveProperty("stepUpRequired");
  });

  it("passes a throttled sign-in's wait, in words, to the sign-in form", async () => {
    now = Date.now();
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
