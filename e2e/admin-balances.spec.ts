import { expect, test } from "@playwright/test";
import { signedIn } from "./helpers";

test("an admin adds a pawaPay connection at the built-in emulator, tests it and pauses it", async ({ browser }) => {
  const admin = await signedIn(browser, "admin");
  await admin.goto("/connections");
  await admin.getByRole("button", { name: "Add connection" }).click();

  const form = admin.getByRole("form", { name: "Add connection" });
  await expect(form.getByLabel("Provider", { exact: true })).toHaveValue("pawapay");
  // Field errors name the field and the rule, next to the field.
  await form.getByRole("button", { name: "Add connection" }).click();
  await expect(form.getByText("Give the connection a name")).toBeVisible();
  await expect(form.getByText("API token is required")).toBeVisible();

  const token = `e2e-token-${Date.now()}`;
  await form.getByLabel("Name").fill("pawaPay e2e");
  await expect(form.getByLabel("Built-in pawaPay emulator")).toBeChecked();
  const tokenInput = form.getByLabel("API token");
  await expect(tokenInput).toHaveAttribute("type", "password");
  await expect(tokenInput).toHaveAttribute("autocomplete", "off");
  await tokenInput.fill(token);
  await form.getByRole("button", { name: "Add connection" }).click();
  await expect(admin.getByTestId("connections-notice")).toContainText("Added pawaPay e2e");

  const card = admin.locator('[data-testid=connection][data-connection-name="pawaPay e2e"]');
  await expect(card.getByTestId("connection-status")).toHaveText("Active");
  await expect(card.getByTestId("callback-url")).toContainText("/api/webhooks/");
  await expect(card.getByTestId("public-key")).toContainText("BEGIN PUBLIC KEY");

  await card.getByRole("button", { name: "Test connection" }).click();
  await expect(card.getByTestId("test-result")).toHaveAttribute("data-ok", "true");
  await expect(card.getByTestId("test-result")).toContainText("accepted the credentials");

  // The token is write-only: the edit form shows it as stored, never its value.
  await card.getByRole("button", { name: "Edit pawaPay e2e" }).click();
  const edit = admin.getByRole("form", { name: "Edit pawaPay e2e" });
  await expect(edit.getByLabel("API token")).toHaveValue("");
  await expect(edit.getByLabel("API token")).toHaveAccessibleDescription(/^Stored\. Leave blank to keep it/);
  expect(await admin.content()).not.toContain(token);
  // Saving with the secret left blank keeps it: the connection still works afterwards.
  await edit.getByLabel("Signing key id").fill("e2e-key-1");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(admin.getByTestId("connections-notice")).toHaveText("Saved pawaPay e2e");
  await card.getByRole("button", { name: "Test connection" }).click();
  await expect(card.getByTestId("test-result")).toHaveAttribute("data-ok", "true");
  await expect(card.getByTestId("public-key")).toBeVisible();
  await expect(card).toContainText("key id e2e-key-1");

  await card.getByRole("button", { name: "Pause pawaPay e2e…" }).click();
  await card.getByRole("button", { name: "Pause connection" }).click();
  await expect(card.getByTestId("connection-status")).toHaveText("Paused");
  await expect(card.getByTestId("paused-note")).toContainText("cannot choose it for new payouts");
});

test("non-admins see why they cannot manage connections", async ({ browser }) => {
  const viewer = await signedIn(browser, "viewer");
  await viewer.goto("/connections");
  await expect(viewer.getByText("Only admins manage connections")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Add connection" })).toHaveCount(0);
  const forced = await viewer.request.post("/api/trpc/connections.pause", { data: { json: { id: "00000000-0000-4000-8000-000000000000" } } });
  expect(forced.status()).toBe(403);
});

test("the balances page reads the pawaPay sandbox balance on Refresh and charts it", async ({ browser }) => {
  const viewer = await signedIn(browser, "viewer");
  await viewer.goto("/balances");
  const sandbox = viewer.locator('[data-testid=connection-balances][data-connection-name="pawaPay sandbox"]');
  await expect(sandbox).toBeVisible();

  await viewer.getByRole("button", { name: "Refresh balances" }).click();
  const zmw = sandbox.locator("[data-testid=balance-row][data-currency=ZMW]");
  await expect(zmw.getByTestId("balance")).toHaveText(/^[\d,]+\.\d{2} ZMW$/);
  await expect(zmw.getByTestId("available")).toHaveText(/ZMW/);
  await expect(zmw).not.toContainText("not read yet");

  await zmw.getByRole("button", { name: "Chart pawaPay sandbox ZMW" }).click();
  const chart = viewer.getByTestId("balance-chart");
  await expect(chart).toBeVisible();
  await expect(chart.locator("svg.recharts-surface").first()).toBeVisible();
  await expect(chart).toContainText("ZMW");
});
