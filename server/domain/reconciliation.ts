// What one comparison of a desk payout with the provider's own record means.
// Pure: the reconciliation service (server/services/reconciliation.ts) reads
// both sides and writes the verdicts; every rule of judging lives here, so it
// can be tested line by line.
//
// The rules, and why:
// - Statuses are compared by what they mean for money: paid, not paid,
//   reversed. The desk's `failed` and a Paytota payout that was created but
//   never executed agree (no money moved), so they match.
// - A payout still in flight at the desk is not an exception whatever the
//   provider says: the desk has not settled it yet and its own status checks
//   will (the service asks for one at once when the provider is already
//   final). Only a payout the desk calls final can disagree with the provider.
// - A statement is a snapshot taken while the run waits for it: a payout the
//   desk settled after the provider made the statement may still show in
//   flight there. That is no mismatch either (see `snapshotAt`).
// - A fee the provider does not report is no fee of 0: nothing is compared.
//   A fee of 0 reported by the provider agrees with a desk that recorded no
//   fee (nothing charged, nothing to explain); any other fee the desk did not
//   record is a fee mismatch, since the desk's books miss that money.
// - An answer we could not get (timeout, 5xx, a query the provider cannot
//   answer for this payout) is "unanswered": it proves nothing either way.
import type { PayoutStatus } from "./payout-state";
import { formatMoney, isKnownCurrency } from "./money";

export const RESULT_KINDS = ["matched", "amount_mismatch", "fee_mismatch", "status_mismatch", "missing_at_provider", "unknown_to_desk"] as const;
export type ResultKind = (typeof RESULT_KINDS)[number];
export type ExceptionKind = Exclude<ResultKind, "matched">;
export const EXCEPTION_KINDS: readonly ExceptionKind[] = ["status_mismatch", "amount_mismatch", "fee_mismatch", "missing_at_provider", "unknown_to_desk"];

export const RESULT_LABELS: Record<ResultKind, string> = {
  matched: "Matched",
  amount_mismatch: "Amount mismatch",
  fee_mismatch: "Fee mismatch",
  status_mismatch: "Status mismatch",
  missing_at_provider: "Missing at the provider",
  unknown_to_desk: "Unknown to the desk",
};

export function isResultKind(value: unknown): value is ResultKind {
  return typeof value === "string" && (RESULT_KINDS as readonly string[]).includes(value);
}

export interface Money {
  amountMinor: bigint;
  currency: string;
}

/** The desk's side of one payout, as the payout row holds it. */
export interface DeskSide {
  payoutId: string;
  status: PayoutStatus;
  amount: Money;
  /** Null: not reported by the provider, never 0. */
  fee: Money | null;
  debited: Money | null;
  providerReference: string | null;
  finalizedAt: Date | null;
}

/** The provider's states, in the desk's words (the same words as the connector contract's ProviderState). */
export type ProviderRecordState = "processing" | "provider_pending_approval" | "succeeded" | "failed" | "reversed" | "not_found" | "unknown";

/** The provider's side: a statement line or a status answer. */
export interface ProviderSide {
  state: ProviderRecordState;
  /** The provider's own word; absent on an answer we could not get. */
  providerStatus: string | null;
  providerReference: string | null;
  /** Absent or null: the provider did not say. */
  amount?: Money | null;
  fee?: Money | null;
  debited?: Money | null;
}

export type Verdict =
  | { kind: ResultKind; differences: string[]; detail: string }
  /** Still being settled at the desk; `providerFinal` says the provider already is (worth a status check now). */
  | { kind: "in_flight"; providerFinal: boolean; detail: string }
  | { kind: "unanswered"; detail: string };

type MoneyClass = "paid" | "not_paid" | "reversed" | "in_flight";

const DESK_CLASS: Record<PayoutStatus, MoneyClass> = {
  pending_approval: "in_flight",
  approved: "in_flight",
  submitting: "in_flight",
  processing: "in_flight",
  provider_pending_approval: "in_flight",
  unknown: "in_flight",
  succeeded: "paid",
  failed: "not_paid",
  cancelled: "not_paid",
  rejected: "not_paid",
  reversed: "reversed",
  expired: "not_paid",
};

const CLASS_WORDS: Record<MoneyClass | "none" | "unknown", string> = {
  paid: "paid",
  not_paid: "not paid",
  reversed: "reversed",
  in_flight: "in flight",
  none: "no record",
  unknown: "a status the desk does not know",
};

function providerClass(state: ProviderRecordState): MoneyClass | "none" | "unknown" {
  switch (state) {
    case "succeeded":
      return "paid";
    case "failed":
      return "not_paid";
    case "reversed":
      return "reversed";
    case "processing":
    case "provider_pending_approval":
      return "in_flight";
    case "not_found":
      return "none";
    default:
      return "unknown";
  }
}

/** How long before the statement was made a desk settlement may still show in flight on it. */
export const SNAPSHOT_GRACE_MS = 60_000;

function showMoney(money: Money): string {
  return isKnownCurrency(money.currency) ? formatMoney(money.amountMinor, money.currency) : `${money.amountMinor} (minor units) ${money.currency}`;
}

function sameMoney(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amountMinor === b.amountMinor;
}

/**
 * Judges one desk payout against the provider's record of it (`provider`
 * null: the provider has no record). `snapshotAt`: when the provider's
 * record was taken, for a statement made while the run waited.
 */
export function judge(desk: DeskSide, provider: ProviderSide | null, opts: { snapshotAt?: Date } = {}): Verdict {
  if (provider && provider.state === "unknown" && provider.providerStatus === null) {
    return { kind: "unanswered", detail: "The provider did not answer the status query; nothing could be compared" };
  }
  const deskClass = DESK_CLASS[desk.status];
  // A record that moved no money (Paytota's "initialized": created, never executed) counts as not paid;
  // "none" is left for no record at all.
  const recorded = provider !== null && provider.providerStatus !== null;
  const stated = provider ? providerClass(provider.state) : "none";
  const theirs = stated === "none" && recorded ? "not_paid" : stated;
  const providerWord = provider?.providerStatus ? ` (${provider.providerStatus})` : "";

  if (deskClass === "in_flight") {
    const providerFinal = theirs !== "in_flight" && theirs !== "unknown";
    return {
      kind: "in_flight",
      providerFinal,
      detail: `Still in flight at the desk (${desk.status}); the provider shows ${CLASS_WORDS[theirs]}${providerWord}. The desk's own status checks settle it`,
    };
  }

  if (theirs === "none") {
    if (deskClass === "not_paid") {
      return matched(`The provider has no record of it and the desk shows it ${desk.status}: nothing was paid on either side`);
    }
    const differences = [`The desk shows it ${desk.status}; the provider has no record of it`];
    return { kind: "missing_at_provider", differences, detail: differences.join("; ") };
  }

  if (theirs === "in_flight" && opts.snapshotAt && desk.finalizedAt && desk.finalizedAt.getTime() >= opts.snapshotAt.getTime() - SNAPSHOT_GRACE_MS) {
    return {
      kind: "in_flight",
      providerFinal: false,
      detail: `Settled at the desk (${desk.status}) while the provider made its statement, which still shows it in flight${providerWord}; the next run compares it`,
    };
  }

  const statusDifferences: string[] = [];
  if (theirs === "unknown") {
    statusDifferences.push(`The desk shows it ${desk.status}; the provider's status${providerWord} is not one the desk knows`);
  } else if (theirs !== deskClass) {
    statusDifferences.push(`Status: the desk shows it ${desk.status} (${CLASS_WORDS[deskClass]}); the provider shows it ${CLASS_WORDS[theirs]}${providerWord}`);
  }

  const amountDifferences: string[] = [];
  if (provider!.amount && !sameMoney(provider!.amount, desk.amount)) {
    amountDifferences.push(`Amount: the desk has ${showMoney(desk.amount)}; the provider has ${showMoney(provider!.amount)}`);
  }
  if (provider!.debited && desk.debited && !sameMoney(provider!.debited, desk.debited)) {
    amountDifferences.push(`Debited: the desk recorded ${showMoney(desk.debited)}; the provider has ${showMoney(provider!.debited)}`);
  }

  const feeDifferences: string[] = [];
  const theirFee = provider!.fee ?? null;
  if (theirFee) {
    if (desk.fee === null) {
      if (theirFee.amountMinor !== 0n) feeDifferences.push(`Fee: the desk has no fee recorded (not reported); the provider charged ${showMoney(theirFee)}`);
    } else if (!sameMoney(desk.fee, theirFee)) {
      feeDifferences.push(`Fee: the desk recorded ${showMoney(desk.fee)}; the provider charged ${showMoney(theirFee)}`);
    }
  }

  const differences = [...statusDifferences, ...amountDifferences, ...feeDifferences];
  if (differences.length === 0) return matched(`The provider shows it ${CLASS_WORDS[theirs]}${providerWord}, for the same amount`);
  // One item per payout, named by its most serious difference; the detail lists them all.
  const kind: ResultKind = statusDifferences.length ? "status_mismatch" : amountDifferences.length ? "amount_mismatch" : "fee_mismatch";
  return { kind, differences, detail: differences.join("; ") };
}

function matched(detail: string): Verdict {
  return { kind: "matched", differences: [], detail };
}

/** A line of the provider's record that no desk payout accounts for. */
export function unknownToDesk(provider: ProviderSide, why: string): Verdict {
  const what = provider.amount ? ` of ${showMoney(provider.amount)}` : "";
  const status = provider.providerStatus ? `, ${provider.providerStatus}` : "";
  const detail = `The provider has a payout${what}${status} (reference ${provider.providerReference ?? "none"}) ${why}`;
  return { kind: "unknown_to_desk", differences: [detail], detail };
}
