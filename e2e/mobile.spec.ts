// The desk on a phone (390 px wide): the menu folds behind a button, tables
// read as cards without sideways scrolling, and an approver can review and
// approve a payout, step-up code included.
import { expect, test, type Page } from "@playwright/test";
import { createPayout, signedIn } from "./helpers";
import { approveOnCard } from "./approve";

const PHONE = { width: 390, height: 844 };

async function noSidewaysScroll(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

test("on a phone the menu folds away and the payouts list reads as cards", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  await createPayout(maker, { amount: "12", phone: "260763456789", description: `Card ${Date.now() % 1_000_000}` });
  // The list is rendered on the server with its first page: rows are in the HTML before any script runs.
  const html = await (await maker.request.get("/payouts")).text();
  expect(html).toContain('data-testid="payout-row"');
  await maker.setViewportSize(PHONE);
  await maker.goto("/payouts");
  const menu = maker.getByRole("navigation", { name: "Main" });
  await expect(menu).toBeHidden();
  const toggle = maker.getByRole("button", { name: "Menu" });
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(menu).toBeVisible();
  await expect(maker.getByRole("button", { name: "Close" })).toHaveAttribute("aria-expanded", "true");
  await maker.keyboard.press("Escape");
  await expect(menu).toBeHidden();

  // Rows are cards: the column headings are hidden and each value carries its own label.
  const row = maker.getByTestId("payout-row").first();
  await expect(row).toBeVisible();
  await expect(maker.getByTestId("payouts-table").locator("thead")).toBeHidden();
  const box = await row.boundingBox();
  expect(box!.width).toBeLessThanOrEqual(PHONE.width);
  await noSidewaysScroll(maker);
  await maker.screenshot({ path: "test-results/mobile-payouts.png", fullPage: true });

  // The menu takes the maker to another page and folds again.
  await maker.getByRole("button", { name: "Menu" }).click();
  await menu.getByRole("link", { name: "Approvals" }).click();
  await expect(maker).toHaveURL(/\/approvals$/);
  await expect(menu).toBeHidden();
});

test("an approver reviews and approves a payout from a phone", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  const description = `Phone ok ${Date.now() % 1_000_000}`;
  const payoutId = await createPayout(maker, { amount: "14", phone: "260763456789", description, name: "Mwila Phiri" });

  const approver = await signedIn(browser, "approver");
  await approver.setViewportSize(PHONE);
  await approver.goto("/approvals");
  const card = approver.getByTestId("approvals-list").locator("li", { hasText: description });
  await expect(card).toBeVisible();
  await noSidewaysScroll(approver);
  await approver.screenshot({ path: "test-results/mobile-approvals.png", fullPage: true });
  await approveOnCard(card);
  await expect(card).toHaveCount(0);

  await approver.goto(`/payouts/${payoutId}`);
  await expect(approver.getByTestId("timeline-event").nth(1)).toHaveAttribute("data-to", "approved");
  await noSidewaysScroll(approver);
  await approver.screenshot({ path: "test-results/mobile-payout.png", fullPage: true });
});
