import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { parse } from "csv-parse/sync";
import { signedIn } from "./helpers";

/** Clicks a button of the audit export and returns the saved file's name and bytes. */
async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const saved = page.waitForEvent("download");
  await page.getByTestId("audit-export").getByRole("button", { name: button, exact: true }).click();
  const file = await saved;
  return { name: file.suggestedFilename(), bytes: await readFile(await file.path()) };
}

test("an admin reads the audit trail, filters it, verifies the chain and downloads a period as CSV and evidence pack", async ({ browser }) => {
  const admin = await signedIn(browser, "admin");
  // Something of today's to find: the admin's own sign-in, and a settings change.
  await admin.goto("/settings");
  await admin.getByLabel("Merchant name").fill(`Audit e2e ${Date.now()}`);
  await admin.getByRole("button", { name: "Save" }).first().click();
  await expect(admin.getByText(/^Saved\./)).toBeVisible();

  await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await expect(admin.getByRole("heading", { name: "Audit" })).toBeVisible();
  await expect(admin.getByTestId("audit-entry").first()).toBeVisible();

  // Filter: the admin's own entries, then only settings changes; the address bar keeps the filters.
  await admin.getByLabel("Who").selectOption({ label: "Ada Admin (admin@demo.desk)" });
  await admin.getByLabel("Action starts with").fill("settings.");
  await admin.getByLabel("Action starts with").press("Enter");
  await expect(admin).toHaveURL(/action=settings\./);
  const rows = admin.getByTestId("audit-entry");
  await expect(rows.first()).toContainText("settings.update");
  for (const text of await rows.allInnerTexts()) expect(text).toContain("settings.update");
  // Before and after side by side, and a link to the object.
  await expect(rows.first().getByTestId("audit-changes")).toBeVisible();
  await expect(rows.first().getByTestId("audit-object-link")).toHaveAttribute("href", "/settings");

  await admin.getByTestId("verify-chain-button").click();
  await expect(admin.getByTestId("verify-intact")).toContainText("The chain is intact", { timeout: 30_000 });
  await expect(admin.getByTestId("verify-intact")).toContainText(/Head: entry #\d+/);

  const csv = await download(admin, "CSV");
  expect(csv.name).toMatch(/^audit-\d{4}-\d{2}-\d{2}(-\d{4}-\d{2}-\d{2})?\.csv$/);
  const records = parse(csv.bytes, { bom: true, columns: true }) as Array<Record<string, string>>;
  expect(records.length).toBeGreaterThan(0);
  expect(Object.keys(records[0]!)).toEqual(["id", "at_utc", "actor_id", "actor_email", "actor_name", "action", "entity_type", "entity_id", "ip", "details", "prev_hash", "hash"]);
  expect(records.some((r) => r.action === "settings.update" && r.actor_email === "admin@demo.desk")).toBe(true);
  await expect(admin.getByTestId("download-done")).toContainText(csv.name);

  const pack = await download(admin, "Evidence pack");
  expect(pack.name).toMatch(/^audit-evidence-.*\.jsonl$/);
  const lines = pack.bytes.toString("utf8").trimEnd().split("\n");
  const { manifest } = JSON.parse(lines.at(-1)!);
  expect(manifest).toMatchObject({ entries: lines.length - 1, linksInPack: { intact: true } });
  expect(manifest.chainHead.hash).toMatch(/^[0-9a-f]{64}$/);
});

test("the menu and the payouts page show each role only what it can use", async ({ browser }) => {
  const viewer = await signedIn(browser, "viewer");
  await viewer.goto("/payouts");
  await expect(viewer.getByRole("link", { name: "New payout" })).toHaveCount(0);
  await expect(viewer.getByRole("link", { name: "Bulk upload" })).toHaveCount(0);
  await expect(viewer.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" })).toBeVisible();
  await expect(viewer.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Connections" })).toHaveCount(0);

  const maker = await signedIn(browser, "maker");
  await maker.goto("/payouts");
  await expect(maker.getByRole("link", { name: "New payout" })).toBeVisible();
  await expect(maker.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" })).toHaveCount(0);
  await maker.goto("/audit");
  await expect(maker.getByText("The audit trail is for viewers, approvers and admins")).toBeVisible();
});

test("an admin adds a user whose password is shown once, and disabling them is confirmed", async ({ browser }) => {
  const admin = await signedIn(browser, "admin");
  await admin.goto("/settings#users");
  const email = `e2e-${Date.now()}@users.test`;
  const form = admin.getByRole("form", { name: "Add a user" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Name").fill("Eve Example");
  await form.getByLabel("Role").selectOption("viewer");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(admin.getByTestId("one-time-password-value")).toHaveText(/^[A-Za-z0-9_-]{20}$/);

  const row = admin.locator(`[data-testid=user-row][data-email="${email}"]`);
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: "Disable" }).click();
  await admin.getByRole("group", { name: "Confirm for Eve Example" }).getByRole("button", { name: "Disable" }).click();
  await expect(row.getByTestId("user-status")).toHaveText("Disabled");
});
