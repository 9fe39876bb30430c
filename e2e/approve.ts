import { expect, type Locator, type Page } from "@playwright/test";

/**
 * Approves as an approver who read the approval card: ticks the
 * acknowledgements it shows (a likely duplicate of another payout made by
 * the suites, past the available balance), then clicks Approve. `scope` is the
 * payout page or one row of the approvals queue.
 */
export async function approveOnCard(scope: Page | Locator): Promise<void> {
  const button = scope.getByRole("button", { name: "Approve", exact: true });
  await expect(button).toBeVisible();
  for (const box of await scope.getByTestId("acknowledgements").getByRole("checkbox").all()) await box.check();
  await button.click();
}
