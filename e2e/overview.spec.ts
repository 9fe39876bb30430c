import { expect, test } from "@playwright/test";
import { createPayout, signedIn } from "./helpers";

// The overview draws its counters with the page and its four charts as a
// chunk of their own just after (components/overview/overview.tsx); each
// counter and chart leads to the payouts list filtered to what it shows.

const CHARTS = ["chart-paid-per-day", "chart-success-rate", "chart-failures", "chart-approval-to-final"];

test("the overview shows its counters, draws each chart (or says it has nothing), and leads to the list", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  await createPayout(maker, { amount: "12", phone: "260763456789", description: "Overview check" });

  await maker.goto("/");
  await expect(maker.getByTestId("overview")).toBeVisible();
  const waiting = maker.getByRole("link", { name: /Waiting for approval/ });
  await expect(waiting).toBeVisible();
  expect(Number((await waiting.innerText()).match(/\d+/)?.[0] ?? "0")).toBeGreaterThan(0);

  for (const id of CHARTS) {
    const card = maker.getByTestId(id);
    await expect(card).toBeVisible();
    // A drawn chart, or the card's own words for an empty period: never a blank card or a stuck "Loading".
    await expect(card.locator("svg.recharts-surface").first().or(card.getByTestId("chart-empty"))).toBeVisible();
    await expect(card.getByText("Loading the chart…")).toHaveCount(0);
  }

  // Another period redraws the charts with its days.
  await maker.getByRole("button", { name: "30 days" }).click();
  await expect(maker.getByRole("button", { name: "30 days" })).toHaveAttribute("aria-pressed", "true");
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
  await expect(maker.getByRole("heading", { name: new RegExp(`${from} → ${to}`) })).toBeVisible();
  await expect(maker.getByTestId("chart-paid-per-day")).toBeVisible();

  // The all-time count of a status opens the list filtered to it.
  await maker.getByRole("link", { name: /^Pending approval\s*\d+$/ }).click();
  await expect(maker).toHaveURL(/\/payouts\?status=pending_approval/);
  await expect(maker.getByText("Overview check").first()).toBeVisible();
});
