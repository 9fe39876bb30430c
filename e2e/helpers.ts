import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { generate } from "otplib";

// The demo sign-ins the embedded desk seeds (server/services/users.ts,
// DEMO_USERS). The approver and the admin must use two-factor sign-in, so
// they are seeded with these published TOTP keys; codes are computed here.
export const DEMO = {
  maker: { email: "maker@demo.desk", password: "maker-demo-pass" },
  approver: { email: "approver@demo.desk", password: "approver-demo-pass", totpKey: "DEMOAPPROVERTOTPSECRETKEY2345672" },
  admin: { email: "admin@demo.desk", password: "admin-demo-pass", totpKey: "DEMOADMINTOTPSECRETKEYFORDESK234" },
  viewer: { email: "viewer@demo.desk", password: "viewer-demo-pass" },
} as const;

// The desk accepts each code once per user: a code is refused when its
// 30-second step is not after the step of the last code used (counting up to
// 5 seconds into the next step as used too; server/auth/totp.ts). The last
// use per key is kept in a file, so a restarted Playwright worker knows it.
const STEP_MS = 30_000;
const FUTURE_TOLERANCE_MS = 5_000;
const LAST_USE_FILE = path.join("test-results", "e2e-totp-last-use.json");

function lastUses(): Record<string, number> {
  try {
    return existsSync(LAST_USE_FILE) ? (JSON.parse(readFileSync(LAST_USE_FILE, "utf8")) as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/** Records that a code of `secret` was just accepted (call after the page shows it was). */
export function markCodeUsed(secret: string): void {
  mkdirSync(path.dirname(LAST_USE_FILE), { recursive: true });
  writeFileSync(LAST_USE_FILE, JSON.stringify({ ...lastUses(), [secret]: Date.now() }));
}

/** The current code of `secret`, waiting (up to about 35 s) for a step the desk has not seen used yet. */
export async function freshCode(secret: string): Promise<string> {
  const blockedThrough = Math.floor(((lastUses()[secret] ?? 0) + FUTURE_TOLERANCE_MS) / STEP_MS);
  const wait = (blockedThrough + 1) * STEP_MS - Date.now();
  // A little past the boundary, so the server's clock is surely in the new step too.
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 500));
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) });
}

/** A 6-digit code that is not the secret's current one (nor its neighbours'). */
export async function wrongCode(secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const near = new Set(await Promise.all([-30, 0, 30].map((d) => generate({ secret, epoch: now + d }))));
  for (let n = 0; ; n++) if (!near.has(String(n).padStart(6, "0"))) return String(n).padStart(6, "0");
}

/**
 * Answers the step-up dialog whenever it shows on this page (approving,
 * exporting or changing controls more than 5 minutes after the last code),
 * with a fresh code of `secret`, as the person at the desk would.
 */
export async function answerStepUps(page: Page, secret: string): Promise<void> {
  await page.addLocatorHandler(page.getByTestId("step-up-dialog"), async (dialog) => {
    await dialog.getByLabel("Authentication code").fill(await freshCode(secret));
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect(dialog).toBeHidden();
    markCodeUsed(secret);
  });
}

/** Signs in on the login page: the password, then (for two-factor accounts) a code from `totpKey`. */
export async function signInAs(page: Page, who: { email: string; password: string; totpKey?: string }): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  if (who.totpKey) {
    await page.getByLabel("Authentication code").fill(await freshCode(who.totpKey));
    await page.getByRole("button", { name: "Verify and sign in" }).click();
  }
  await expect(page.getByTestId("signed-in-user")).toContainText(who.email);
  if (who.totpKey) markCodeUsed(who.totpKey);
}

const openContexts = new Map<BrowserContext, string>();
const savedSessions = new Map<string, Awaited<ReturnType<BrowserContext["storageState"]>>>();

/** A signed-in page in its own browser context (its own cookies); step-up dialogs are answered as they come. */
export async function signedIn(browser: Browser, who: keyof typeof DEMO): Promise<Page> {
  // The contexts of earlier tests are closed first: left open, each page kept polling the desk for the rest of the run.
  const testId = test.info().testId;
  for (const [context, owner] of openContexts) {
    if (owner !== testId) {
      openContexts.delete(context);
      await context.close().catch(() => undefined);
    }
  }
  const demo: { email: string; password: string; totpKey?: string } = DEMO[who];
  // A role signed in once in this run is signed in again from its saved cookies:
  // a second two-factor sign-in would wait for the next 30-second code.
  const saved = savedSessions.get(who);
  if (saved) {
    const context = await browser.newContext({ storageState: saved });
    openContexts.set(context, testId);
    const page = await context.newPage();
    await page.goto("/");
    if (await page.getByTestId("signed-in-user").filter({ hasText: demo.email }).isVisible()) {
      if (demo.totpKey) await answerStepUps(page, demo.totpKey);
      return page;
    }
    // That session ended (a test signed out or it timed out): sign in afresh.
    savedSessions.delete(who);
    openContexts.delete(context);
    await context.close();
  }
  const context = await browser.newContext();
  openContexts.set(context, testId);
  const page = await context.newPage();
  await signInAs(page, demo);
  savedSessions.set(who, await context.storageState());
  if (demo.totpKey) await answerStepUps(page, demo.totpKey);
  return page;
}

export async function createPayout(page: Page, input: { amount: string; phone: string; description: string; name?: string }): Promise<string> {
  await page.goto("/payouts/new");
  await page.getByLabel("Connection").selectOption({ label: "pawaPay sandbox (sandbox)" });
  await page.getByLabel("Amount").fill(input.amount);
  await page.getByLabel("Recipient phone").fill(input.phone);
  if (input.name) await page.getByLabel("Recipient name").fill(input.name);
  await page.getByLabel("Description").fill(input.description);
  return submitPayoutForm(page);
}

/**
 * Clicks Create payout and lands on the new payout's page. The specs share one
 * desk, so a payout may look like a duplicate of an earlier spec's: the form
 * then says so and links the new payout, which is opened as a maker would.
 */
export async function submitPayoutForm(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Create payout" }).click();
  const opened = page.waitForURL(/\/payouts\/[0-9a-f-]{36}$/).then(() => "opened" as const);
  const duplicate = page.getByRole("button", { name: "Open the new payout" }).or(page.getByRole("link", { name: "Open the new payout" }));
  const warned = duplicate.waitFor().then(() => "warned" as const);
  // A field the form refused is said at once, not after the test's whole timeout.
  const refused = page.locator('[data-testid^="error-"]').first();
  const failed = refused.waitFor().then(async () => {
    throw new Error(`The payout form refused the input: ${await refused.innerText()}`);
  });
  failed.catch(() => undefined);
  if ((await Promise.race([opened, warned, failed])) === "warned") {
    await duplicate.click();
    await page.waitForURL(/\/payouts\/[0-9a-f-]{36}$/);
  }
  return page.url().split("/").pop()!;
}
