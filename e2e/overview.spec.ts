import { expect, test } from "@playwright/test";
import { approveOnCard } from "./approve";
import { createPayout, signedIn } from "./helpers";

// The overview draws its counters with the page and its four charts as a
// chunk of their own just after (components/overview/overview.tsx); each
// counter and chart leads to the payouts list filtered to what it shows.

const CHARTS = ["chart-paid-per-day", "chart-success-rate", "chart-failures", "chart-approval-to-final"];

test("the overview counts, draws each chart (or says it has nothing), and leads to the list", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  const paidId = await createPayout(maker, { amount: "12", phone: "260763456789", description: "Overview paid" });
  await createPayout(maker, { amount: "13", phone: "260763456789", description: "Overview waiting" });
  const approver = await signedIn(browser, "approver");
  await approver.goto("/approvals");
  const row = approver.getByTestId("approvals-list").locator("li", { hasText: "Overview paid" });
  await approveOnCard(row);
  await expect(row).toHaveCount(0);
  await maker.goto(`/payouts/${paidId}`);
  await expect(maker.locator("[data-status=succeeded]").first()).toBeVisible({ timeout: 30_000 });

  await maker.goto("/");
  await expect(maker.getByTestId("overview")).toBeVisible();
  const waiting = maker.getByRole("link", { name: /Waiting for approval/ });
  expect(Number((await waiting.innerText()).match(/\d+/)?.[0] ?? "0")).toBeGreaterThan(0);
  await expect(maker.getByTestId("paid-today")).toContainText("ZMW");

  // Paid today, so the day's bar is drawn; the other charts draw or say, in words, that the period has nothing.
  await expect(maker.getByTestId("chart-paid-per-day").locator("svg.recharts-surface").first()).toBeVisible();
  for (const id of CHARTS) {
    const card = maker.getByTestId(id);
    await expect(card.locator("svg.recharts-surface").first().or(card.getByTestId("chart-empty"))).toBeVisible();
    await expect(card.getByText("Loading the chart…")).toHaveCount(0);
  }
  await maker.screenshot({ path: test.info().outputPath("overview.png"), fullPage: true });

  // Another period redraws the charts with its days.
  await maker.getByRole("button", { name: "30 days" }).click();
  await expect(maker.getByRole("button", { name: "30 days" })).toHaveAttribute("aria-pressed", "true");
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
  await expect(maker.getByRole("heading", { name: new RegExp(`${from} → ${to}`) })).toBeVisible();
  await expect(maker.getByTestId("chart-paid-per-day").locator("svg.recharts-surface").first()).toBeVisible();

  // The all-time count of a status opens the list filtered to it.
  await maker.getByRole("link", { name: /^Pending approval\s*\d+$/ }).click();
  await expect(maker).toHaveURL(/\/payouts\?status=pending_approval/);
  await expect(maker.getByRole("row").filter({ hasText: "13.00 ZMW" }).first()).toContainText("Pending approval");
});
