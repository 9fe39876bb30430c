import { expect, test } from "@playwright/test";
import { signedIn } from "./helpers";

// The desk starts with no payouts, so nothing is in limbo: the work page says so.
// (Making a payout's outcome unknown needs a provider fault; the services' tests
// do that against the emulator, see server/services/outcomes.test.ts.)
test("an approver opens Outcome unknown from the nav and sees nothing in limbo", async ({ browser }) => {
  const approver = await signedIn(browser, "approver");
  await approver.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /Outcome unknown/ }).click();
  await expect(approver).toHaveURL(/\/outcomes$/);
  await expect(approver.getByRole("heading", { name: "Outcome unknown" })).toBeVisible();
  await expect(approver.getByText("Nothing in limbo: every sent payout has a known outcome")).toBeVisible();
  await expect(approver.getByTestId("outcome-count")).toHaveCount(0);
});

test("anonymous visitors are sent to sign-in from the Outcome unknown page", async ({ page }) => {
  await page.goto("/outcomes");
  await expect(page).toHaveURL(/\/login/);
  const api = await page.request.get("/api/trpc/outcomes.count");
  expect(api.status()).toBe(401);
});
