import { expect, test } from "@playwright/test";
import { createPayout, signedIn } from "./helpers";
import { approveOnCard } from "./approve";

test("anonymous visitors are sent to sign-in from every dashboard page", async ({ page }) => {
  for (const path of ["/", "/payouts", "/payouts/new", "/approvals", "/balances", "/connections", "/audit", "/settings"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/login/);
  }
  const api = await page.request.get("/api/trpc/payouts.list?input=" + encodeURIComponent(JSON.stringify({ json: {} })));
  expect(api.status()).toBe(401);
});

test("wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill("maker@demo.desk");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("error-note")).toContainText("Wrong email or password");
});

test("maker creates, approver approves, pawaPay pays, the timeline shows it all", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  await expect(maker.getByTestId("signed-in-role")).toHaveText("Maker");

  const payoutId = await createPayout(maker, { amount: "15", phone: "260763456789", description: "Invoice 1234", name: "Jane Banda" });
  await expect(maker.getByRole("heading", { name: "15.00 ZMW" })).toBeVisible();
  // The maker cannot approve: no button, and a forced call is refused by the server.
  await expect(maker.getByTestId("decision-blocked")).toBeVisible();
  await expect(maker.getByRole("button", { name: "Approve" })).toHaveCount(0);
  const forced = await maker.request.post("/api/trpc/approvals.approve", { data: { json: { payoutId } } });
  expect(forced.status()).toBe(403);

  const approver = await signedIn(browser, "approver");
  await approver.goto("/approvals");
  const row = approver.getByTestId("approvals-list").locator("li", { hasText: "Invoice 1234" });
  await approveOnCard(row);
  // Gone from the queue (other specs' payouts may still wait there).
  await expect(row).toHaveCount(0);

  await maker.reload();
  await expect(maker.locator("[data-status=succeeded]").first()).toBeVisible({ timeout: 30_000 });
  await expect(maker.getByTestId("timeline-event").last()).toHaveAttribute("data-to", "succeeded");
  const steps = await maker.getByTestId("timeline-event").evaluateAll((els) => els.map((e) => e.getAttribute("data-to")));
  expect(steps).toEqual(["pending_approval", "approved", "submitting", "processing", "succeeded"]);
  await expect(maker.getByTestId("provider-calls")).toContainText("POST");
});

test("a payout to a number pawaPay cannot find ends failed with the reason shown", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  const payoutId = await createPayout(maker, { amount: "20.50", phone: "260763456079", description: "Refund 77" });
  const approver = await signedIn(browser, "approver");
  await approver.goto(`/payouts/${payoutId}`);
  await approveOnCard(approver);
  await expect(approver.locator("[data-status=failed]").first()).toBeVisible({ timeout: 30_000 });
  await expect(approver.getByTestId("failure-code")).toHaveText("RECIPIENT_NOT_FOUND");
});

test("the form names the field and the rule on bad input", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  await maker.goto("/payouts/new");
  await maker.getByLabel("Connection").selectOption({ label: "pawaPay sandbox (sandbox)" });
  await maker.getByLabel("Amount").fill("15.555");
  await maker.getByLabel("Recipient phone").fill("0763456789");
  await maker.getByLabel("Description").fill("Invoice 9");
  await maker.getByRole("button", { name: "Create payout" }).click();
  await expect(maker.getByText("ZMW allows at most 2 decimal places")).toBeVisible();
  await expect(maker.getByText(/Start with the country code/)).toBeVisible();
  await expect(maker).toHaveURL(/\/payouts\/new$/);
});

test("an approver can reject with a reason, and must give one", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  const payoutId = await createPayout(maker, { amount: "30", phone: "260763456789", description: "Duplicate bill" });
  const approver = await signedIn(browser, "approver");
  await approver.goto(`/payouts/${payoutId}`);
  await approver.getByRole("button", { name: "Reject…" }).click();
  await approver.getByRole("button", { name: "Reject payout" }).click();
  await expect(approver.getByText("Give a reason for the rejection")).toBeVisible();
  await approver.getByLabel("Reason for rejecting").fill("Already paid last week");
  await approver.getByRole("button", { name: "Reject payout" }).click();
  await expect(approver.locator("[data-status=rejected]").first()).toBeVisible();
  await expect(approver.getByText("“Already paid last week”")).toBeVisible();
});
