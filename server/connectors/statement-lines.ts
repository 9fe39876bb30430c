// A provider statement read into lines in the desk's words: what each payout
// on it is, for how much, at what fee. Reconciliation compares these with the
// desk's payouts. Reading a provider's file format is a connector's job (it
// is wire format); each provider with statements has a reader beside its
// connector (paytota/statement.ts).
import type { BookedMoney, ProviderState } from "./types";

export interface StatementLine {
  /** Line number in the file (the header is line 1), for messages and the record. */
  line: number;
  /** The provider's own id of the payout. */
  providerReference: string;
  /** The reference the desk gave it, as written on the line. */
  reference: string | null;
  /** The desk's payout id the reference names, when it names one. */
  payoutId: string | null;
  state: ProviderState;
  /** The provider's own status word, as written. */
  providerStatus: string;
  amount: BookedMoney;
  /** Null: the line reports no fee ("not reported", never 0). */
  fee: BookedMoney | null;
  /** When the provider created it, if the line says. */
  createdAt: Date | null;
}

/** A statement that cannot be read exactly; each problem names the line and the column. */
export class StatementFormatError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `The statement cannot be read: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more problem(s)` : ""}`,
    );
    this.name = "StatementFormatError";
  }
}

export type StatementReader = (body: Uint8Array) => StatementLine[];
