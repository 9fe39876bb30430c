import { money } from "@/components/payouts/format";
import { formatInZone } from "@/server/domain/statement";
import { RESULT_LABELS, type ResultKind } from "@/server/domain/reconciliation";
import type { ItemSide, RunSummary } from "./types";

export { RESULT_LABELS };

export const KIND_TONES: Record<ResultKind, string> = {
  matched: "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
  amount_mismatch: "bg-rose-50 text-rose-800 ring-rose-600/20",
  fee_mismatch: "bg-amber-50 text-amber-800 ring-amber-600/20",
  status_mismatch: "bg-rose-50 text-rose-800 ring-rose-600/20",
  missing_at_provider: "bg-orange-50 text-orange-800 ring-orange-600/30",
  unknown_to_desk: "bg-violet-50 text-violet-800 ring-violet-600/20",
};

export const METHOD_WORDS = { statement: "the provider's statement", status_queries: "a status query per payout" } as const;

export const RUN_STATUS_WORDS: Record<RunSummary["status"], string> = {
  queued: "Waiting for a worker",
  running: "Running",
  done: "Done",
  failed: "Failed",
};

/** A period as the desk's zone shows it, naming the zone: [from, to). */
export function periodText(from: Date | string, to: Date | string, zone: string): string {
  return `${formatInZone(new Date(from), zone)} – ${formatInZone(new Date(to), zone)}`;
}

/** An amount stored on an item side (minor units as a string), or what its absence means. */
export function sideMoney(value: ItemSide["amount"], absent = "—"): string {
  if (!value) return absent;
  try {
    return money(BigInt(value.minor), value.currency);
  } catch {
    return `${value.minor} (minor units) ${value.currency}`;
  }
}

/** Exceptions of a finished run, from its summary counts. */
export function exceptionCount(counts: RunSummary["counts"]): number {
  if (!counts) return 0;
  return Object.entries(counts).reduce((sum, [kind, n]) => (kind === "matched" ? sum : sum + (n ?? 0)), 0);
}
