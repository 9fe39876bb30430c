import { expect, test } from "@playwright/test";
import { signedIn } from "./helpers";

test("GET /api/health answers without sign-in, with figures and no secrets", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  expect(response.headers()["cache-control"]).toContain("no-store");
  const body = await response.json();
  expect(body).toMatchObject({ ok: true, database: { reachable: true }, queue: { lagSeconds: expect.any(Number) }, workers: { alive: expect.any(Number) } });
  expect(body.workers.alive).toBeGreaterThanOrEqual(1);
  expect(JSON.stringify(body)).not.toMatch(/password|secret|token|postgres:\/\//i);
});

test("pages load under the Content-Security-Policy with no violation", async ({ browser }) => {
  const page = await signedIn(browser, "admin");
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
  });
  for (const path of ["/", "/payouts", "/approvals", "/outcomes", "/balances", "/connections", "/login"]) {
    const response = await page.goto(path);
    expect(response?.headers()["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+'/);
    await page.waitForLoadState("networkidle");
  }
  expect(violations).toEqual([]);
});

test("signing out ends the session on the server: the old cookie no longer works", async ({ browser }) => {
  const page = await signedIn(browser, "viewer");
  const cookies = await page.context().cookies();
  expect((await page.request.get("/api/trpc/me.get")).status()).toBe(200);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  // A copy of the cookie taken before signing out is refused.
  const copy = await browser.newContext();
  await copy.addCookies(cookies);
  const replay = await copy.request.get("/api/trpc/me.get");
  expect(replay.status()).toBe(401);
  await copy.close();
});
