// The page headers as the proxy really produces them: proxy.ts is called with
// real NextRequests, and its NextResponse is read the way Next.js reads it
// (the request headers it forwards travel as x-middleware-request-*).
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NextRequest, type NextFetchEvent } from "next/server";
import { encode } from "next-auth/jwt";
import { contentSecurityPolicy, newNonce, REQUEST_PATH_HEADER } from "./security-headers";

const event = { waitUntil() {} } as unknown as NextFetchEvent;
const secret = randomBytes(32).toString("base64url");

async function loadProxy(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.stubEnv("NEXTAUTH_SECRET", secret);
  return (await import("@/proxy")).proxy;
}

function directives(policy: string | null): Map<string, string> {
  return new Map(
    (policy ?? "").split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values.join(" ")];
    }),
  );
}

describe("the Content-Security-Policy", () => {
  it("allows scripts from the desk and this request's nonce only, no framing, plugins or base rewriting", () => {
    const policy = directives(contentSecurityPolicy({ nonce: "abc123==", https: false, dev: false }));
    expect(policy.get("script-src")).toBe("'self' 'nonce-abc123=='");
    expect(policy.get("style-src")).toBe("'self' 'nonce-abc123=='");
    expect(policy.get("style-src-attr")).toBe("'unsafe-inline'");
    expect(policy.get("frame-ancestors")).toBe("'none'");
    expect(policy.get("object-src")).toBe("'none'");
    expect(policy.get("base-uri")).toBe("'self'");
    expect(policy.get("default-src")).toBe("'self'");
    expect(policy.has("upgrade-insecure-requests")).toBe(false);
    expect([...policy.values()].join(" ")).not.toMatch(/unsafe-eval|https?:|\*/);
  });

  it("upgrades stray http requests when served over https, and allows eval only in development", () => {
    expect(directives(contentSecurityPolicy({ nonce: "n", https: true, dev: false })).has("upgrade-insecure-requests")).toBe(true);
    expect(directives(contentSecurityPolicy({ nonce: "n", https: false, dev: true })).get("script-src")).toContain("'unsafe-eval'");
  });

  it("uses a fresh 128-bit nonce each time", () => {
    const nonces = new Set(Array.from({ length: 50 }, newNonce));
    expect(nonces.size).toBe(50);
    for (const nonce of nonces) expect(Buffer.from(nonce, "base64")).toHaveLength(16);
  });
});

describe("proxy.ts", () => {
  beforeEach(() => {
    vi.stubEnv("NODE_ENV", "production");
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("gives the sign-in page a CSP with a fresh nonce, on the response and on the request Next.js renders", async () => {
    const proxy = await loadProxy({ APP_URL: "http://127.0.0.1:3000", NEXTAUTH_URL: "http://127.0.0.1:3000" });
    const first = (await proxy(new NextRequest("http://127.0.0.1:3000/login?ended=idle"), event))!;
    const second = (await proxy(new NextRequest("http://127.0.0.1:3000/login"), event))!;
    const policy = first.headers.get("content-security-policy");
    expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/]+={0,2}'/);
    // Next.js takes the nonce for its inline scripts from the request's CSP header.
    expect(first.headers.get("x-middleware-request-content-security-policy")).toBe(policy);
    expect(first.headers.get(`x-middleware-request-${REQUEST_PATH_HEADER}`)).toBe("/login?ended=idle");
    expect(second.headers.get("content-security-policy")).not.toBe(policy);
    expect(first.headers.get("strict-transport-security")).toBeNull();
  });

  it("sends a visitor without a session to sign-in, with where they were going", async () => {
    const proxy = await loadProxy({ APP_URL: "http://127.0.0.1:3000", NEXTAUTH_URL: "http://127.0.0.1:3000" });
    const response = (await proxy(new NextRequest("http://127.0.0.1:3000/approvals?x=1"), event))!;
    expect(response.status).toBe(307);
    const location = new URL(response.headers.get("location")!);
    expect(location.pathname).toBe("/login");
    expect(location.searchParams.get("callbackUrl")).toBe("/approvals?x=1");
  });

  it("lets a signed-in browser through to a dashboard page with the headers, and a forged request path header replaced", async () => {
    const proxy = await loadProxy({ APP_URL: "http://127.0.0.1:3000", NEXTAUTH_URL: "http://127.0.0.1:3000" });
    const token = await encode({ token: { uid: "u", sid: "s" }, secret });
    const request = new NextRequest("http://127.0.0.1:3000/payouts", {
      headers: { cookie: `next-auth.session-token=${token}`, [REQUEST_PATH_HEADER]: "//evil.example" },
    });
    const response = (await proxy(request, event))!;
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get(`x-middleware-request-${REQUEST_PATH_HEADER}`)).toBe("/payouts");
  });

  it("sends HSTS and expects the Secure-prefixed cookie when APP_URL is https", async () => {
    const proxy = await loadProxy({ APP_URL: "https://desk.example.com", NEXTAUTH_URL: "https://desk.example.com" });
    const login = (await proxy(new NextRequest("https://desk.example.com/login"), event))!;
    expect(login.headers.get("strict-transport-security")).toBe("max-age=63072000; includeSubDomains");
    expect(login.headers.get("content-security-policy")).toContain("upgrade-insecure-requests");

    const token = await encode({ token: { uid: "u", sid: "s" }, secret });
    // The plain-http cookie name is not the session on an https desk.
    const plain = (await proxy(new NextRequest("https://desk.example.com/", { headers: { cookie: `next-auth.session-token=${token}` } }), event))!;
    expect(plain.status).toBe(307);
    const secure = (await proxy(new NextRequest("https://desk.example.com/", { headers: { cookie: `__Secure-next-auth.session-token=${token}` } }), event))!;
    expect(secure.status).toBe(200);
  });
});

describe("next.config.js", () => {
  it("denies browser features the desk does not use, on every response", async () => {
    // @ts-expect-error next.config.js is plain JavaScript without type declarations
    const imported: { default: unknown } = await import("@/next.config.js");
    const config = imported.default as { headers(): Promise<Array<{ source: string; headers: Array<{ key: string; value: string }> }>> };
    const rules = await config.headers();
    const all = rules.find((rule) => rule.source === "/:path*");
    const policy = all?.headers.find((h) => h.key === "Permissions-Policy")?.value ?? "";
    for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"]) expect(policy).toContain(`${feature}=()`);
    expect(all?.headers.find((h) => h.key === "X-Frame-Options")?.value).toBe("DENY");
  });
});
