import { expect, type Browser, type Page } from "@playwright/test";

export const DEMO = {
  maker: { email: "maker@demo.desk", password: "maker-demo-pass" },
  approver: { email: "approver@demo.desk", password: "approver-demo-pass" },
  admin: { email: "admin@demo.desk", password: "admin-demo-pass" },
  viewer: { email: "viewer@demo.desk", password: "viewer-demo-pass" },
} as const;

/** A signed-in page in its own browser context (its own cookies). */
export async function signedIn(browser: Browser, who: keyof typeof DEMO): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Email").fill(DEMO[who].email);
  await page.getByLabel("Password").fill(DEMO[who].password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-user")).toContainText(DEMO[who].email);
  return page;
}

export async function createPayout(page: Page, input: { amount: string; phone: string; description: string; name?: string }): Promise<string> {
  await page.goto("/payouts/new");
  await page.getByLabel("Connection").selectOption({ label: "pawaPay sandbox (sandbox)" });
  await page.getByLabel("Amount").fill(input.amount);
  await page.getByLabel("Recipient phone").fill(input.phone);
  if (input.name) await page.getByLabel("Recipient name").fill(input.name);
  await page.getByLabel("Description").fill(input.description);
  await page.getByRole("button", { name: "Create payout" }).click();
  await page.waitForURL(/\/payouts\/[0-9a-f-]{36}$/);
  return page.url().split("/").pop()!;
}
