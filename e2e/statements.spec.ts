import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { parse } from "csv-parse/sync";
import ExcelJS from "exceljs";
import { createPayout, signedIn } from "./helpers";
import { approveOnCard } from "./approve";

/** Clicks a download button on the page and returns the saved file's name and bytes. */
async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const saved = page.waitForEvent("download");
  await page.getByTestId("downloads").getByRole("button", { name: button, exact: true }).click();
  const file = await saved;
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: await readFile(path) };
}

test("a paid pawaPay payout is on today's statement, and every format downloads from the Statements page", async ({ browser }) => {
  const maker = await signedIn(browser, "maker");
  const payoutId = await createPayout(maker, { amount: "15", phone: "260763456789", description: "Statement e2e", name: "Thandiwe Phiri" });
  const approver = await signedIn(browser, "approver");
  await approver.goto(`/payouts/${payoutId}`);
  await approveOnCard(approver);
  await expect(approver.locator("[data-status=succeeded]").first()).toBeVisible({ timeout: 30_000 });

  const viewer = await signedIn(browser, "viewer");
  await viewer.goto("/statements");
  await viewer.getByLabel("Connection", { exact: true }).selectOption({ label: "pawaPay sandbox" });
  await viewer.getByLabel("Currency", { exact: true }).selectOption("ZMW");
  await expect(viewer.getByLabel("Period", { exact: true })).toHaveValue("today");
  await expect(viewer.getByTestId("statement-title")).toContainText("pawaPay sandbox · ZMW");
  // Times name their zone (the desk's default, UTC).
  await expect(viewer.getByText(/Times are shown in UTC/)).toBeVisible();
  const total = viewer.getByTestId("statement-total");
  await expect(total.getByTestId("settled-table")).toContainText("Succeeded");
  await expect(total.getByTestId("unexplained")).toBeVisible();
  await expect(viewer.getByTestId("statement-lines").locator(`a[href="/payouts/${payoutId}"]`)).toContainText("Thandiwe Phiri");

  const fileName = /^pawapay-sandbox-zmw-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.(csv|xlsx|pdf|xml)$/;

  const csv = await download(viewer, "CSV");
  expect(csv.name).toMatch(fileName);
  expect(csv.name.endsWith(".csv")).toBe(true);
  await expect(viewer.getByTestId("download-done")).toContainText(csv.name);
  const records = parse(csv.bytes, { bom: true, columns: true }) as Array<Record<string, string>>;
  expect(records.length).toBeGreaterThanOrEqual(1);
  expect(Object.keys(records[0]!)).toEqual(expect.arrayContaining(["payout_id", "status", "amount", "amount_minor", "currency", "fee"]));
  const mine = records.find((r) => r.payout_id === payoutId);
  expect(mine).toMatchObject({ status: "succeeded", currency: "ZMW", amount: "15.00", amount_minor: "1500", recipient_name: "Thandiwe Phiri", description: "Statement e2e" });

  const xlsx = await download(viewer, "XLSX");
  expect(xlsx.name.endsWith(".xlsx")).toBe(true);
  expect(xlsx.bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04])); // a zip, as every XLSX is
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
  const cells: string[] = [];
  workbook.eachSheet((sheet) => sheet.eachRow((row) => row.eachCell((cell) => cells.push(String(cell.text)))));
  expect(cells).toContain(payoutId);

  const pdf = await download(viewer, "PDF");
  expect(pdf.name.endsWith(".pdf")).toBe(true);
  expect(pdf.bytes.subarray(0, 5).toString("latin1")).toBe("%PDF-");
  expect(pdf.bytes.length).toBeGreaterThan(1000);

  const camt = await download(viewer, "camt.053");
  expect(camt.name.endsWith(".xml")).toBe(true);
  const xml = camt.bytes.toString("utf8");
  expect(xml.startsWith("<?xml")).toBe(true);
  expect(xml).toContain("urn:iso:std:iso:20022:tech:xsd:camt.053.001.08");
  expect(xml).toContain("<BkToCstmrStmt>");
});

test("an empty period says so before anything is downloaded, and a last day before the first is refused beside the field", async ({ browser }) => {
  const viewer = await signedIn(browser, "viewer");
  await viewer.goto("/statements");
  await viewer.getByLabel("Connection", { exact: true }).selectOption({ label: "pawaPay sandbox" });
  await viewer.getByLabel("Period", { exact: true }).selectOption("custom");
  await viewer.getByLabel("First day", { exact: true }).fill("2020-01-06");
  await viewer.getByLabel("Last day", { exact: true }).fill("2020-01-05");
  await expect(viewer.getByText("The last day cannot be before the first day (2020-01-06)")).toBeVisible();

  await viewer.getByLabel("Last day", { exact: true }).fill("2020-01-12");
  await expect(viewer.getByTestId("statement-title")).toContainText("6 Jan 2020 – 12 Jan 2020");
  await expect(viewer.getByTestId("nothing-settled")).toHaveText("No payouts settled in this period");
  await expect(viewer.getByTestId("download-empty")).toContainText("nothing to download");
  for (const format of ["CSV", "XLSX", "PDF", "camt.053"]) {
    await expect(viewer.getByTestId("downloads").getByRole("button", { name: format, exact: true })).toBeDisabled();
  }
  // Asked directly, the route says the same instead of sending a file.
  const response = await viewer.request.get(
    `/api/statements/export?${new URLSearchParams({ connectionId: "all", currency: "ZMW", period: "custom", from: "2020-01-06", to: "2020-01-12", format: "csv" })}`,
  );
  expect(response.status()).toBe(404);
  expect(await response.json()).toMatchObject({ empty: true, error: expect.stringContaining("No payouts settled in this period") });
});

test("the payouts list exports what its filters show", async ({ browser }) => {
  const viewer = await signedIn(browser, "viewer");
  await viewer.goto("/payouts?status=succeeded");
  await expect(viewer.getByTestId("payouts-table")).toBeVisible();
  const menu = viewer.getByTestId("payouts-export");
  await menu.locator("summary").click();
  const saved = viewer.waitForEvent("download");
  await menu.getByRole("button", { name: "CSV", exact: true }).click();
  const file = await saved;
  expect(file.suggestedFilename()).toMatch(/^all-all-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const records = parse(await readFile(await file.path()), { bom: true, columns: true }) as Array<Record<string, string>>;
  expect(records.length).toBeGreaterThanOrEqual(1);
  expect(new Set(records.map((r) => r.status))).toEqual(new Set(["succeeded"]));

  // Anonymous: no file.
  const anonymous = await browser.newContext();
  const refused = await anonymous.request.get("/api/payouts/export?format=csv");
  expect(refused.status()).toBe(401);
  await anonymous.close();
});
