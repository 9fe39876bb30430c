import { describe, expect, it } from "vitest";
import { PAYOUT_STATUSES, FINAL_STATUSES, allowedTransitions, assertTransition, canTransition, isFinal, type PayoutStatus } from "./payout-state";

describe("payout state machine", () => {
  it("lets final states go nowhere, but a paid payout may be reversed", () => {
    for (const s of FINAL_STATUSES) {
      const allowed = s === "succeeded" ? ["reversed"] : [];
      expect(allowedTransitions(s)).toEqual(allowed);
      for (const to of PAYOUT_STATUSES) expect(canTransition(s, to)).toBe(allowed.includes(to));
    }
    expect([...FINAL_STATUSES].sort()).toEqual(["cancelled", "expired", "failed", "rejected", "reversed", "succeeded"]);
    // Reachable only from succeeded.
    expect(PAYOUT_STATUSES.filter((from) => canTransition(from, "reversed"))).toEqual(["succeeded"]);
  });
  it("walks the happy path and refuses shortcuts", () => {
    const path: PayoutStatus[] = ["pending_approval", "approved", "submitting", "processing", "succeeded"];
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
    expect(canTransition("pending_approval", "submitting")).toBe(false);
    expect(canTransition("approved", "succeeded")).toBe(false);
    expect(() => assertTransition("succeeded", "failed")).toThrow(/final status/);
  });
  it("never lets an unknown outcome become failed without a provider answer path, and never loops to itself", () => {
    expect(canTransition("submitting", "unknown")).toBe(true);
    expect(canTransition("unknown", "submitting")).toBe(true);
    expect(canTransition("processing", "unknown")).toBe(false);
    for (const s of PAYOUT_STATUSES) expect(canTransition(s, s)).toBe(false);
  });
  it("lists exactly these transitions", () => {
    const all = PAYOUT_STATUSES.flatMap((from) => allowedTransitions(from).map((to) => `${from}>${to}`));
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(
      [
        "pending_approval>approved", "pending_approval>rejected", "pending_approval>cancelled", "pending_approval>expired",
        "approved>submitting", "approved>cancelled", "approved>pending_approval",
        "submitting>processing", "submitting>provider_pending_approval", "submitting>succeeded", "submitting>failed", "submitting>unknown",
        "processing>provider_pending_approval", "processing>succeeded", "processing>failed", "processing>cancelled",
        "provider_pending_approval>processing", "provider_pending_approval>succeeded", "provider_pending_approval>failed", "provider_pending_approval>cancelled",
        "succeeded>reversed",
        "unknown>submitting", "unknown>processing", "unknown>provider_pending_approval", "unknown>succeeded", "unknown>failed", "unknown>cancelled",
      ].sort(),
    );
    expect(isFinal("unknown")).toBe(false);
  });
});
