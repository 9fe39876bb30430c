// One payout per provider through the browser: the maker creates it on the
// provider's built-in sandbox connection, the approver approves it, and the
// payout page shows the final status the emulator's sandbox rules lead to.
import { expect, test } from "@playwright/test";
import { signedIn, submitPayoutForm } from "./helpers";
import { approveOnCard } from "./approve";

interface UiCase {
  connection: string;
  fill: Record<string, string>;
  select?: Record<string, string>;
}

const CASES: Record<string, UiCase> = {
  pawaPay: { connection: "pawaPay sandbox", fill: { Amount: "15", "Recipient phone": "260763456789", Description: "Invoice 2001" } },
  Muda: {
    connection: "Muda sandbox",
    fill: { Amount: "5000", Currency: "UGX", "Recipient phone": "256772123456", "Recipient name": "Okello J", Description: "Invoice 2002" },
  },
  Paytota: {
    connection: "Paytota sandbox",
    fill: { Amount: "500", Currency: "UGX", "Recipient phone": "256772123456", Description: "Payout 2004" },
  },
  PontisGlobe: {
    connection: "PontisGlobe sandbox",
    select: { "Payment method": "IN-imps" },
    fill: { Amount: "25.00", "Account holder": "Asha Rao", "Account number": "123456789012", IFSC: "HDFC0001234", Description: "Supplier 2005" },
  },
  Praxis: {
    connection: "Praxis sandbox",
    fill: { Amount: "10.00", Currency: "USD", "Recipient phone": "256772123410", Description: "Refund 2003" },
  },
};

for (const [provider, c] of Object.entries(CASES)) {
  test(`${provider}: create, approve, and see it succeed`, async ({ browser }) => {
    const maker = await signedIn(browser, "maker");
    await maker.goto("/payouts/new");
    await maker.getByLabel("Connection").selectOption({ label: `${c.connection} (sandbox)` });
    for (const [label, value] of Object.entries(c.select ?? {})) await maker.getByLabel(label, { exact: true }).selectOption(value);
    for (const [label, value] of Object.entries(c.fill)) await maker.getByLabel(label, { exact: true }).fill(value);
    await submitPayoutForm(maker);
    const payoutUrl = new URL(maker.url()).pathname;

    const approver = await signedIn(browser, "approver");
    await approver.goto(payoutUrl);
    await approveOnCard(approver);
    await expect(approver.locator("[data-status=succeeded]").first()).toBeVisible({ timeout: 45_000 });
    // The history may show the last step a poll after the status badge: wait for it, then read the whole history.
    await expect(approver.getByTestId("timeline-event").last()).toHaveAttribute("data-to", "succeeded");
    const steps = await approver.getByTestId("timeline-event").evaluateAll((els) => els.map((e) => e.getAttribute("data-to")));
    expect(steps.slice(0, 3)).toEqual(["pending_approval", "approved", "submitting"]);
  });
}
