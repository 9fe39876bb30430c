import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { signedIn } from "./helpers";

// A maker pays from a file: downloads the connection's template, fills it in
// (one row bad), uploads it, reads the error on the preview, and creates the
// payouts of the valid rows; the batch page then counts them.
test("a maker downloads a template, uploads a file with one bad row, sees its error and creates the valid rows' payouts", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  await maker.goto("/payouts/bulk");
  await maker.getByLabel("Connection").selectOption({ label: "pawaPay sandbox (sandbox)" });

  const saved = maker.waitForEvent("download");
  await maker.getByRole("link", { name: "Download CSV template" }).click();
  const template = await saved;
  expect(template.suggestedFilename()).toBe("payouts-template-pawapay-sandbox.csv");
  const text = readFileSync((await template.path())!, "utf8");
  const [header, descriptions] = text.replace(/^\uFEFF/, "").split("\r\n");
  expect(header).toBe("amount,currency,recipient_phone,recipient_name,channel,description");
  expect(descriptions).toMatch(/^"?Required: the amount/);

  // Filled in below the description line, which the desk skips. Unique amounts: other specs pay the sandbox numbers too.
  const tag = Date.now().toString().slice(-6);
  const filled = `${text}31.${tag.slice(0, 2)},ZMW,260763456789,Jane Banda,,Bulk ${tag} A\r\n12.345,ZMW,260763456789,Bad Row,,Bulk ${tag} B\r\n32.${tag.slice(2, 4)},ZMW,260763456789,John Phiri,,Bulk ${tag} C\r\n`;
  await maker.getByLabel("Choose a file").setInputFiles({ name: `payroll-${tag}.csv`, mimeType: "text/csv", buffer: Buffer.from(filled, "utf8") });
  await maker.getByRole("button", { name: "Upload and check", exact: true }).click();

  const batch = maker.getByTestId("batch");
  await expect(batch.getByTestId("batch-phase")).toHaveText("Checked: not created yet");
  await expect(batch.getByTestId("count-valid")).toHaveText("2");
  await expect(batch.getByTestId("count-invalid")).toHaveText("1");
  // The bad row is named by the row number the spreadsheet shows (header 1, description 2, data from 3), with the field and the rule.
  const bad = batch.locator('[data-testid="invalid-row"][data-row="4"]');
  await expect(bad).toContainText("amount: ZMW allows at most 2 decimal places");
  await expect(batch.getByTestId("batch-totals")).toContainText("Not known before sending");

  await batch.getByRole("button", { name: "Create 2 payouts" }).click();
  await expect(batch.getByTestId("batch-created")).toContainText("2 payouts created, waiting for approval");
  await batch.getByRole("link", { name: "Open the batch" }).click();
  await maker.waitForURL(/\/batches\/[0-9a-f-]{36}$/);
  await expect(maker.getByTestId("batch-status-counts").locator('[data-status-row="pending_approval"]')).toContainText("2");
});
