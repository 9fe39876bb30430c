// The contract between what a statement or a payouts list holds (the
// services read it from the database, page by page) and the format writers
// (CSV, XLSX, PDF, camt.053), which turn it into bytes on a stream they are
// handed, reading rows as they come and never holding them all.

/** One payout as every export shows it. Money is minor units (bigint), never a float. */
export interface ExportRow {
  payoutId: string;
  createdAt: Date;
  /** When it reached its final status (null while in flight). */
  finalizedAt: Date | null;
  /**
   * When the provider took it back, for a reversed payout (its finalizedAt is
   * when it was paid). Optional, added after the first contract: a reader that
   * leaves it out gets the reversal dated by finalizedAt in camt.053 and an
   * empty reversed_at column.
   */
  reversedAt?: Date | null;
  status: string;
  connectionName: string;
  provider: string;
  currency: string;
  amountMinor: bigint;
  /** Null: the provider reports no fee for it ("not reported", never 0). */
  feeMinor: bigint | null;
  feeCurrency: string | null;
  debitedMinor: bigint | null;
  debitedCurrency: string | null;
  destinationMinor: bigint | null;
  destinationCurrency: string | null;
  fxRate: string | null;
  recipientName: string | null;
  recipientPhone: string | null;
  recipientAccount: string | null;
  description: string;
  providerReference: string | null;
  failureCode: string | null;
  failureMessage: string | null;
}

/** A provider balance at a moment (from the balance snapshots). */
export interface BalancePoint {
  amountMinor: bigint;
  at: Date;
}

/** Counts and sums of one final status in the period. */
export interface StatusTotal {
  status: string;
  count: number;
  amountMinor: bigint;
}

/**
 * A statement's figures for one connection (or all) and one currency. The
 * identity finance checks: opening − paid − fees + reversals + unexplained = closing.
 */
export interface StatementSummary {
  currency: string;
  /** False for providers that report no balance (Praxis, PontisGlobe): opening, closing and unexplained are then null. */
  balanceReported: boolean;
  opening: BalancePoint | null;
  closing: BalancePoint | null;
  /** Payouts that reached a final status in the period, per status. */
  settled: StatusTotal[];
  /** Sum of succeeded payouts in the period (money out). */
  paidMinor: bigint;
  /** Fees the provider reported on payouts settled in the period. */
  feesMinor: bigint;
  /** Settled payouts whose provider reported no fee (shown as "not reported", not counted as 0). */
  feesNotReported: number;
  /** Paid payouts the provider took back in the period (money in). */
  reversalsMinor: bigint;
  /** Still in flight at the end of the period. */
  inFlightAtEnd: { count: number; amountMinor: bigint };
  /** closing − (opening − paid − fees + reversals): top-ups and charges the desk never saw. Null without balances. */
  unexplainedMinor: bigint | null;
}

/** What every export says about itself in its header or summary. */
export interface ExportMeta {
  /** "Statement" or "Payouts". */
  kind: "statement" | "payouts";
  merchantName: string;
  /** A connection's name, or "All connections". */
  connectionLabel: string;
  /** The statement's currency; null for a payouts list of several. */
  currency: string | null;
  /** The period [from, to): instants. */
  periodFrom: Date;
  periodTo: Date;
  /** IANA zone every time in the file is shown in (and named). */
  timeZone: string;
  generatedAt: Date;
  /** Who asked for it (name and email). */
  generatedBy: string;
  /** The list's filters in words, for a payouts export. */
  filters?: string;
}

/** The rows, read page by page as the writer consumes them. */
export type ExportRows = AsyncIterable<ExportRow>;

export type ExportFormat = "csv" | "xlsx" | "pdf" | "camt053";

/** One connection's part of a statement. */
export interface StatementSection {
  connectionId: string;
  connectionName: string;
  provider: string;
  summary: StatementSummary;
  /** Its payouts settled in the period (and those in flight at its end), read afresh on each call. */
  rows: () => ExportRows;
}

/**
 * What a writer is given. A statement has a section per connection (one when
 * a single connection was chosen) and, with several, their total; a payouts
 * list has only rows.
 */
export interface ExportInput {
  meta: ExportMeta;
  sections: StatementSection[];
  /** The statement's totals over its sections (the single section's summary when there is one). */
  total: StatementSummary | null;
  /** Every row of the export in order: the statement's detail, or the payouts list under its filters. */
  rows: () => ExportRows;
}

/** A format: how its file is named and typed, and the function that writes it. */
export interface ExportWriter {
  format: ExportFormat;
  extension: string;
  contentType: string;
  /** Writes the whole file to `out` (a Node stream), reading rows as it goes; ends `out` when done. */
  write(input: ExportInput, out: import("node:stream").Writable): Promise<void>;
}
