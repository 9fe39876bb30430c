// The rules of judging one payout against the provider's record, one by one.
import { describe, expect, it } from "vitest";
import { judge, unknownToDesk, type DeskSide, type ProviderSide } from "./reconciliation";

const UGX = (n: bigint) => ({ amountMinor: n, currency: "UGX" });

function desk(over: Partial<DeskSide> = {}): DeskSide {
  return {
    payoutId: "4b0e5e0c-3a0e-4c55-9a40-2f6f6a1b0c01",
    status: "succeeded",
    amount: UGX(5000n),
    fee: null,
    debited: null,
    providerReference: "pt-1",
    finalizedAt: new Date("2026-05-01T10:00:00Z"),
    ...over,
  };
}

function provider(over: Partial<ProviderSide> = {}): ProviderSide {
  return { state: "succeeded", providerStatus: "success", providerReference: "pt-1", amount: UGX(5000n), fee: null, ...over };
}

describe("judging a payout against the provider's record", () => {
  it("matches a paid payout of the same amount", () => {
    expect(judge(desk(), provider()).kind).toBe("matched");
  });

  it("names both amounts in an amount mismatch", () => {
    const verdict = judge(desk(), provider({ amount: UGX(6000n) }));
    expect(verdict.kind).toBe("amount_mismatch");
    expect(verdict.detail).toContain("5,000 UGX");
    expect(verdict.detail).toContain("6,000 UGX");
  });

  it("treats another currency as an amount mismatch", () => {
    expect(judge(desk(), provider({ amount: { amountMinor: 5000n, currency: "KES" } })).kind).toBe("amount_mismatch");
  });

  it("compares fees only where the provider reports one; 0 reported agrees with a fee not reported at the desk", () => {
    expect(judge(desk({ fee: null }), provider({ fee: null })).kind).toBe("matched");
    expect(judge(desk({ fee: UGX(300n) }), provider({ fee: null })).kind).toBe("matched");
    expect(judge(desk({ fee: null }), provider({ fee: UGX(0n) })).kind).toBe("matched");
    expect(judge(desk({ fee: UGX(0n) }), provider({ fee: UGX(0n) })).kind).toBe("matched");
    expect(judge(desk({ fee: UGX(300n) }), provider({ fee: UGX(300n) })).kind).toBe("matched");
  });

  it("is a fee mismatch when the provider charged a fee the desk did not record, or another fee", () => {
    const unrecorded = judge(desk({ fee: null }), provider({ fee: UGX(300n) }));
    expect(unrecorded.kind).toBe("fee_mismatch");
    expect(unrecorded.detail).toMatch(/no fee recorded \(not reported\).*300 UGX/);
    expect(judge(desk({ fee: UGX(0n) }), provider({ fee: UGX(300n) })).kind).toBe("fee_mismatch");
    expect(judge(desk({ fee: UGX(200n) }), provider({ fee: UGX(300n) })).kind).toBe("fee_mismatch");
  });

  it("compares what left the balance when both sides recorded it", () => {
    expect(judge(desk({ debited: UGX(5300n) }), provider({ debited: UGX(5300n) })).kind).toBe("matched");
    expect(judge(desk({ debited: UGX(5300n) }), provider({ debited: UGX(5400n) })).kind).toBe("amount_mismatch");
    expect(judge(desk({ debited: null }), provider({ debited: UGX(5400n) })).kind).toBe("matched");
  });

  it("is a status mismatch when both are final and disagree on the money", () => {
    expect(judge(desk({ status: "failed" }), provider()).kind).toBe("status_mismatch");
    expect(judge(desk(), provider({ state: "failed", providerStatus: "error" })).kind).toBe("status_mismatch");
    expect(judge(desk({ status: "reversed" }), provider()).kind).toBe("status_mismatch");
    expect(judge(desk({ status: "reversed" }), provider({ state: "reversed", providerStatus: "reversed" })).kind).toBe("matched");
    expect(judge(desk({ status: "failed" }), provider({ state: "failed", providerStatus: "error" })).kind).toBe("matched");
  });

  it("names the most serious difference and lists them all", () => {
    const verdict = judge(desk({ status: "failed", fee: UGX(1n) }), provider({ amount: UGX(1n), fee: UGX(2n) }));
    expect(verdict.kind).toBe("status_mismatch");
    expect(verdict.kind !== "in_flight" && verdict.kind !== "unanswered" && verdict.differences).toHaveLength(3);
  });

  it("never calls a payout the desk still has in flight an exception, whatever the provider says", () => {
    for (const status of ["submitting", "processing", "provider_pending_approval", "unknown"] as const) {
      expect(judge(desk({ status, finalizedAt: null }), provider()).kind).toBe("in_flight");
      expect(judge(desk({ status, finalizedAt: null }), null).kind).toBe("in_flight");
    }
    const final = judge(desk({ status: "processing", finalizedAt: null }), provider());
    expect(final.kind === "in_flight" && final.providerFinal).toBe(true);
    const both = judge(desk({ status: "processing", finalizedAt: null }), provider({ state: "processing", providerStatus: "pending" }));
    expect(both.kind === "in_flight" && both.providerFinal).toBe(false);
  });

  it("is a status mismatch when the desk is final and the provider still in flight, unless the desk settled it as the statement was made", () => {
    const pending = provider({ state: "processing", providerStatus: "pending" });
    expect(judge(desk(), pending, { snapshotAt: new Date("2026-05-02T00:00:00Z") }).kind).toBe("status_mismatch");
    expect(judge(desk(), pending).kind).toBe("status_mismatch");
    expect(judge(desk({ finalizedAt: new Date("2026-05-02T00:00:30Z") }), pending, { snapshotAt: new Date("2026-05-02T00:00:00Z") }).kind).toBe("in_flight");
  });

  it("is missing at the provider only when the desk paid and the provider has no record", () => {
    expect(judge(desk(), null).kind).toBe("missing_at_provider");
    expect(judge(desk({ status: "reversed" }), null).kind).toBe("missing_at_provider");
    expect(judge(desk({ status: "failed" }), null).kind).toBe("matched");
  });

  it("reads a record that moved no money (created, never executed) as not paid", () => {
    const initialized = provider({ state: "not_found", providerStatus: "initialized" });
    expect(judge(desk({ status: "failed" }), initialized).kind).toBe("matched");
    expect(judge(desk(), initialized).kind).toBe("status_mismatch");
  });

  it("calls a status word the desk does not know a status mismatch for a final payout, and an answer it could not get unanswered", () => {
    expect(judge(desk(), provider({ state: "unknown", providerStatus: "on_hold" })).kind).toBe("status_mismatch");
    expect(judge(desk(), provider({ state: "unknown", providerStatus: null })).kind).toBe("unanswered");
  });

  it("describes a line unknown to the desk with its money and reference", () => {
    const verdict = unknownToDesk(provider({ providerReference: "pt-9" }), "that no desk payout accounts for");
    expect(verdict.kind).toBe("unknown_to_desk");
    expect(verdict.detail).toContain("5,000 UGX");
    expect(verdict.detail).toContain("pt-9");
  });
});
