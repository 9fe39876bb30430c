// Two-factor sign-in as a new approver meets it: an admin adds them; their
// first sign-in (the one allowed without a code) lands on the set-up page;
// they add the desk to an "authenticator" by typing the manual key (here:
// otplib computing codes from it), confirm, see ten recovery codes once; then
// every sign-in asks for a code after the password, a wrong one is refused
// beside the field, and a recovery code works in place of the app.
import { expect, test } from "@playwright/test";
import { freshCode, markCodeUsed, signedIn, wrongCode } from "./helpers";

test("a new approver enrols from the manual key on their one grace sign-in, then signs in with a code, or a recovery code", async ({ browser }) => {
  test.setTimeout(180_000);
  const admin = await signedIn(browser, "admin");
  await admin.goto("/settings#users");
  const email = `totp-${Date.now()}@users.test`;
  const password = "an e2e approver's password";
  const form = admin.getByRole("form", { name: "Add a user" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Name").fill("Tess Totp");
  await form.getByLabel("Role").selectOption("approver");
  await form.getByLabel("Initial password").fill(password);
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(admin.locator(`[data-testid=user-row][data-email="${email}"]`)).toBeVisible();
  await admin.context().close();

  const page = await (await browser.newContext()).newPage();
  const signInWithPassword = async () => {
    await page.goto("/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  };

  // The one sign-in without a code lands on the set-up page, and says why.
  await signInWithPassword();
  await page.waitForURL(/\/account\/security/);
  await expect(page.getByTestId("two-factor-required")).toContainText("Two-factor sign-in is required of approvers");
  // Other pages send them back here until they have set it up.
  await page.goto("/payouts");
  await page.waitForURL(/\/account\/security/);

  await page.getByRole("button", { name: "Set up two-factor sign-in" }).click();
  // The QR code is a data: image drawn by the server; the page's CSP lets it load.
  const qr = page.getByTestId("totp-qr");
  await expect(qr).toBeVisible();
  await expect.poll(() => qr.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0))).toBeGreaterThan(0);
  const key = (await page.getByTestId("totp-manual-key").innerText()).replace(/\s+/g, "");
  expect(key).toMatch(/^[A-Z2-7]{32}$/);

  await page.getByLabel("Code from the app").fill(await wrongCode(key));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByTestId("error-Code from the app")).toContainText("not the code of the key you are setting up");
  await page.getByLabel("Code from the app").fill(await freshCode(key));
  await page.getByRole("button", { name: "Confirm" }).click();
  const codes = page.getByTestId("recovery-codes").locator("li");
  await expect(codes).toHaveCount(10);
  markCodeUsed(key);
  const recoveryCode = await codes.nth(2).innerText();
  expect(recoveryCode).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
  await page.getByRole("button", { name: "I have saved them" }).click();
  await expect(page.getByTestId("two-factor-state")).toContainText("On since");
  await expect(page.getByText("10 of 10 recovery codes left")).toBeVisible();

  // Next sign-in: the password, then the code.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  await signInWithPassword();
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  await page.getByLabel("Authentication code").fill(await wrongCode(key));
  await page.getByRole("button", { name: "Verify and sign in" }).click();
  await expect(page.getByTestId("error-Authentication code")).toContainText("not right");
  await page.getByLabel("Authentication code").fill(await freshCode(key));
  await page.getByRole("button", { name: "Verify and sign in" }).click();
  await expect(page.getByTestId("signed-in-user")).toContainText(email);
  markCodeUsed(key);
  // Enrolled: the dashboard no longer sends them to the set-up page.
  await page.goto("/payouts");
  await expect(page).toHaveURL(/\/payouts$/);

  // A recovery code instead of the app, once.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  await signInWithPassword();
  await page.getByLabel("Authentication code").fill(recoveryCode);
  await page.getByRole("button", { name: "Verify and sign in" }).click();
  await expect(page.getByTestId("signed-in-user")).toContainText(email);
  await page.getByTestId("signed-in-user").getByRole("link", { name: "Two-factor sign-in" }).click();
  await expect(page.getByText("9 of 10 recovery codes left")).toBeVisible();
});
