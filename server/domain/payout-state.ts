// The payout's one state machine. Every allowed transition is listed once
// here; every other one is refused; final states are final.

export const PAYOUT_STATUSES = [
  "pending_approval",
  "approved",
  "rejected",
  "submitting",
  "processing",
  "provider_pending_approval",
  "unknown",
  "succeeded",
  "failed",
  "cancelled",
  "reversed",
  "expired",
] as const;

export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<PayoutStatus> = new Set(["rejected", "succeeded", "failed", "cancelled", "reversed", "expired"]);

/** Who may cause a transition; the service checks the source it applies. */
export type TransitionSource = "user" | "provider_response" | "callback" | "status_query" | "system";

const TRANSITIONS: Readonly<Record<PayoutStatus, readonly PayoutStatus[]>> = {
  // Waiting for the checker: approved, rejected, withdrawn by the maker, or
  // not fully approved within the policy's window.
  pending_approval: ["approved", "rejected", "cancelled", "expired"],
  // Approved but not yet handed to the provider: a worker claims it; or, when
  // what would be sent no longer matches what was approved, its approvals are
  // void and it waits for approval again.
  approved: ["submitting", "cancelled", "pending_approval"],
  // The request is (or may be) on the wire. A crash or a timeout leaves the
  // outcome unknown, never failed.
  submitting: ["processing", "provider_pending_approval", "succeeded", "failed", "unknown"],
  processing: ["provider_pending_approval", "succeeded", "failed", "cancelled"],
  provider_pending_approval: ["processing", "succeeded", "failed", "cancelled"],
  // Resolved by a status query; back to submitting only when the provider
  // says it never saw the payout (resent with the same idempotency key).
  unknown: ["submitting", "processing", "provider_pending_approval", "succeeded", "failed", "cancelled"],
  rejected: [],
  // The one way out of a final status: the provider paid, then took the money
  // back (PontisGlobe `reversed`). Its own status, so statements can tell the
  // difference; nothing else ever leaves succeeded.
  succeeded: ["reversed"],
  failed: [],
  cancelled: [],
  reversed: [],
  expired: [],
};

export function isFinal(status: PayoutStatus): boolean {
  return FINAL_STATUSES.has(status);
}

export function canTransition(from: PayoutStatus, to: PayoutStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedTransitions(from: PayoutStatus): readonly PayoutStatus[] {
  return TRANSITIONS[from];
}

export class TransitionError extends Error {
  constructor(
    readonly from: PayoutStatus,
    readonly to: PayoutStatus,
  ) {
    super(
      isFinal(from)
        ? `Payout is ${from}, a final status; it cannot become ${to}`
        : `A payout cannot go from ${from} to ${to}`,
    );
    this.name = "TransitionError";
  }
}

/** Throws TransitionError unless from → to is listed above. */
export function assertTransition(from: PayoutStatus, to: PayoutStatus): void {
  if (!canTransition(from, to)) throw new TransitionError(from, to);
}

/** Non-final statuses in which the desk is waiting on the provider. */
export const IN_FLIGHT_STATUSES: readonly PayoutStatus[] = ["submitting", "processing", "provider_pending_approval", "unknown"];

export const STATUS_LABELS: Readonly<Record<PayoutStatus, string>> = {
  pending_approval: "Pending approval",
  approved: "Approved",
  rejected: "Rejected",
  submitting: "Submitting",
  processing: "Processing",
  provider_pending_approval: "Held by provider",
  unknown: "Outcome unknown",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
  reversed: "Reversed",
  expired: "Expired",
};
