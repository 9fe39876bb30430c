// A statement summary as the lines every format prints, in the order finance
// reads them (opening, what settled, fees, reversals, in flight, closing, and
// what the desk cannot explain), so XLSX and PDF say the same thing in the same words.
import type { ExportMeta, StatementSummary } from "./types";

export interface SummaryLine {
  label: string;
  /** Minor units in the summary's currency; null when there is no figure (see note). */
  amountMinor: bigint | null;
  count?: number;
  at?: Date;
  note?: string;
  /** A line that totals or balances (printed bold). */
  strong?: boolean;
}

export const NO_BALANCE_NOTE = "the provider reports no balance";

export function summaryLines(summary: StatementSummary): SummaryLine[] {
  const lines: SummaryLine[] = [];
  lines.push(balanceLine("Opening balance", summary.balanceReported ? summary.opening : null, summary.balanceReported));
  for (const total of summary.settled) {
    lines.push({ label: `Settled: ${total.status}`, amountMinor: total.amountMinor, count: total.count });
  }
  if (summary.settled.length === 0) lines.push({ label: "Settled", amountMinor: 0n, count: 0, note: "no payout reached a final status in the period" });
  lines.push({
    label: "Paid",
    amountMinor: summary.paidMinor,
    note: "payouts paid in the period, including any reversed since (see Reversals)",
    strong: true,
  });
  lines.push({
    label: "Fees",
    amountMinor: summary.feesMinor,
    note:
      summary.feesNotReported > 0
        ? `${summary.feesNotReported} payout${summary.feesNotReported === 1 ? "" : "s"}: fee not reported by the provider (not counted as 0)`
        : undefined,
  });
  lines.push({ label: "Reversals", amountMinor: summary.reversalsMinor, note: "paid payouts the provider took back in the period" });
  lines.push({ label: "In flight at the end", amountMinor: summary.inFlightAtEnd.amountMinor, count: summary.inFlightAtEnd.count });
  lines.push(balanceLine("Closing balance", summary.balanceReported ? summary.closing : null, summary.balanceReported));
  lines.push(
    summary.unexplainedMinor === null
      ? { label: "Unexplained movement", amountMinor: null, note: "not known without the provider's balances" }
      : {
          label: "Unexplained movement",
          amountMinor: summary.unexplainedMinor,
          note: "closing − (opening − paid − fees + reversals): top-ups and charges the desk never saw",
          strong: true,
        },
  );
  return lines;
}

function balanceLine(label: string, point: StatementSummary["opening"], reported: boolean): SummaryLine {
  if (!reported) return { label, amountMinor: null, note: NO_BALANCE_NOTE, strong: true };
  if (!point) return { label, amountMinor: null, note: "no balance snapshot for this moment", strong: true };
  return { label, amountMinor: point.amountMinor, at: point.at, note: undefined, strong: true };
}

/** "Statement" or "Payouts" and what it covers, for titles. */
export function exportTitle(meta: ExportMeta): string {
  return meta.kind === "statement" ? "Statement" : "Payouts";
}
