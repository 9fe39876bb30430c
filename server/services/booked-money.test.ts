// Fees and amounts as each provider booked them, through the whole desk: one
// payout per provider, created, approved and worked as a worker would
// (send, callbacks, status checks) against the built-in emulators over real
// HTTP, on PGlite and (with TEST_DATABASE_URL) PostgreSQL. The payout row
// holds what the provider reported and null ("not reported") where it said
// nothing; the provider's balance moved by the amount plus the fee the desk
// recorded, so a statement of that balance reconciles; the overview adds the
// fees up next to what was paid.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import type { ProviderKind } from "@/server/connectors/types";
import { PROVIDER_CASES } from "@/server/testing/provider-cases";
import { payoutFee } from "@/server/sandbox/paytota";
import type { PontisEmulator } from "@/server/sandbox/pontis";
import { openConnector, openCredentials } from "./connections";
import { sandboxEmulator } from "./sandbox-hosting";

const FINAL = ["succeeded", "failed", "cancelled", "rejected", "reversed"];

/** What each built-in sandbox provider books for its success case (PROVIDER_CASES), by its own rules. */
const EXPECTED: Record<ProviderKind, { fee: { amountMinor: bigint; currency: string } | null; debited: { amountMinor: bigint; currency: string } | null }> = {
  // Muda's transaction record: product 10011's flat 2,000 UGX fee on a 5,000 UGX payout, total_amount 7,000.
  muda: { fee: { amountMinor: 2_000n, currency: "UGX" }, debited: { amountMinor: 7_000n, currency: "UGX" } },
  // Paytota's payout object: fee_amount from the emulator's schedule (500 + 1% of 500 = 505), net_amount = amount + fee.
  paytota: { fee: { amountMinor: payoutFee(500n, "UGX"), currency: "UGX" }, debited: { amountMinor: 500n + payoutFee(500n, "UGX"), currency: "UGX" } },
  // pawaPay, Praxis and PontisGlobe (as documented) state no fee, debit or conversion in any answer.
  pawapay: { fee: null, debited: null },
  praxis: { fee: null, debited: null },
  pontis: { fee: null, debited: null },
};

describe.each(testDatabases())("money as the provider booked it, through the desk, on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function connectionOf(provider: ProviderKind) {
    return t.desk.db.connection.findFirstOrThrow({ where: { provider } });
  }

  /** The provider's own balance in `currency`, in minor units, as it reports it; null for a provider without balances. */
  async function balanceAt(provider: ProviderKind, currency: string): Promise<bigint | null> {
    const connection = await connectionOf(provider);
    if (provider === "pontis") {
      // PontisGlobe has no balance API; its emulator's wallet is read directly.
      const emulator = (await sandboxEmulator("pontis", t.desk)) as unknown as PontisEmulator;
      return emulator.balance(openCredentials(t.desk, connection).apiKey!);
    }
    const connector = openConnector(t.desk, connection);
    if (!connector.balances) return null;
    const balances = (await connector.balances()).filter((b) => b.currency === currency);
    // Paytota reports the available balance beside its payout wallet: the available one is the money.
    return (balances.find((b) => b.label === "available") ?? balances[0])?.amountMinor ?? null;
  }

  /** Creates, approves and works one payout to a final status, as the workers would. */
  async function payOut(provider: ProviderKind) {
    const { success } = PROVIDER_CASES.find((c) => c.provider === provider)!;
    const connection = await connectionOf(provider);
    const created = await t.caller("maker").payouts.create({ id: randomUUID(), connectionId: connection.id, ...success });
    await approveAsRead(t.caller("approver"), created.id);
    const deadline = Date.now() + 20_000;
    for (;;) {
      await t.work.run({ payoutId: created.id, all: true, max: 1 });
      const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id: created.id } });
      if (FINAL.includes(payout.status)) return payout;
      if (Date.now() > deadline) throw new Error(`${provider} payout ${created.id} still ${payout.status}`);
      // Waiting for a callback or for the provider to move on.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const paid: Array<{ provider: ProviderKind; currency: string; amountMinor: bigint; feeMinor: bigint | null; feeCurrency: string | null }> = [];

  it.each(PROVIDER_CASES.map((c) => c.provider))("%s: the payout row holds the money the provider reported, and its balance moved by amount + fee", async (provider) => {
    const { success } = PROVIDER_CASES.find((c) => c.provider === provider)!;
    const before = await balanceAt(provider, success.currency);
    const payout = await payOut(provider);
    expect(payout.status).toBe("succeeded");
    paid.push({ provider, currency: payout.currency, amountMinor: payout.amountMinor, feeMinor: payout.feeMinor, feeCurrency: payout.feeCurrency });

    const expected = EXPECTED[provider];
    // Reported where the provider said it; null — "not reported", never 0 — where it did not.
    expect({ amountMinor: payout.feeMinor, currency: payout.feeCurrency }).toEqual(expected.fee ?? { amountMinor: null, currency: null });
    expect({ amountMinor: payout.debitedMinor, currency: payout.debitedCurrency }).toEqual(expected.debited ?? { amountMinor: null, currency: null });
    // No built-in sandbox answer reports a conversion (PontisGlobe documents none in its answers).
    expect([payout.destinationMinor, payout.destinationCurrency, payout.fxRate]).toEqual([null, null, null]);

    const after = await balanceAt(provider, success.currency);
    if (provider === "praxis") {
      // Praxis has no balance to reconcile against.
      expect([before, after]).toEqual([null, null]);
      return;
    }
    // What left the provider's balance is exactly the amount plus the fee the desk recorded (none recorded: none charged),
    // and, where the provider reported a debit, that debit.
    expect(before! - after!).toBe(payout.amountMinor + (payout.feeMinor ?? 0n));
    if (payout.debitedMinor !== null) expect(before! - after!).toBe(payout.debitedMinor);
  });

  it("the payouts list carries the fee columns, and the overview adds today's fees up next to what was paid", async () => {
    expect(paid.map((p) => p.provider).sort()).toEqual([...PROVIDER_CASES.map((c) => c.provider)].sort());
    const list = await t.caller("viewer").payouts.list({ limit: 50 });
    const muda = list.items.find((p) => p.connection.provider === "muda")!;
    expect([muda.feeMinor, muda.feeCurrency, muda.debitedMinor]).toEqual([2_000n, "UGX", 7_000n]);
    expect(list.items.find((p) => p.connection.provider === "pawapay")!.feeMinor).toBeNull();

    const { paidToday } = await t.caller("viewer").overview.summary();
    const ugx = paidToday.find((line) => line.currency === "UGX")!;
    // Muda's 5,000 and Paytota's 500, with Muda's 2,000 and Paytota's 505 fees.
    expect(ugx).toEqual({ currency: "UGX", amountMinor: 5_500n, count: 2, fees: [{ currency: "UGX", amountMinor: 2_000n + payoutFee(500n, "UGX"), count: 2 }], feesNotReported: 0 });
    // pawaPay, Praxis and PontisGlobe reported no fee: counted apart, never added up as 0.
    for (const currency of ["ZMW", "USD", "USDT"]) {
      expect(paidToday.find((line) => line.currency === currency)).toMatchObject({ count: 1, fees: [], feesNotReported: 1 });
    }
  });
});
