// CSV (RFC 4180): UTF-8 with a byte-order mark, CRLF line ends, a header row,
// one row per payout. csv-stringify quotes what needs quoting and escapes
// formulas; this file only decides the columns and how each value is written.
//
// - Timestamps: ISO 8601 with milliseconds and the offset of the export's
//   zone (2026-03-01T14:05:09.123+02:00), so each is an exact instant and
//   reads as local time. finalized_at is when the payout reached its final
//   status (for a reversed one, when it was paid); reversed_at when the
//   provider took it back.
// - Money: the decimal string in the currency's exponent ("12.50", "5000")
//   beside the integer count of minor units (1250, 5000), never a float.
// - A fee the provider did not report: `fee` says "not reported" and
//   `fee_minor` is empty, where a fee of zero is "0.00" and 0.
// - The byte-order mark makes Excel read the file as UTF-8 (names in any
//   script); csv-parse (bom: true) and most readers skip it.
// - Formula injection: every text cell starting with =, +, -, @, tab or CR
//   (or their full-width forms) gets a leading apostrophe (csv-stringify's
//   escape_formulas), so `=HYPERLINK(...)` typed as a description is shown,
//   never run. Minor-unit integers are handed over as bigints, which
//   csv-stringify leaves alone: a number cannot be a formula. Amounts are
//   never negative here (a reversal is a status, not a negative amount); if a
//   negative decimal string ever reached this writer it would be written
//   `'-12.50` (text, safe, no longer a number in a spreadsheet) while its
//   minor-unit column would stay the number -1250.
import { stringify } from "csv-stringify";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { decimal } from "./amounts";
import { drained } from "./streams";
import type { ExportInput, ExportRow, ExportWriter } from "./types";
import { ZonedClock } from "./zoned-time";
import { failureInWords } from "@/server/domain/failure-reasons";

export const NOT_REPORTED = "not reported";

export const CSV_COLUMNS = [
  "payout_id",
  "created_at",
  "finalized_at",
  "reversed_at",
  "status",
  "connection",
  "provider",
  "currency",
  "amount",
  "amount_minor",
  "fee",
  "fee_minor",
  "fee_currency",
  "debited",
  "debited_minor",
  "debited_currency",
  "destination_amount",
  "destination_minor",
  "destination_currency",
  "fx_rate",
  "recipient_name",
  "recipient_phone",
  "recipient_account",
  "description",
  "provider_reference",
  "failure_code",
  "failure_message",
  /** The provider's code and message in words (failure-reasons.ts), as the payout page and the list say it. */
  "failure_reason",
] as const;

type Cell = string | bigint | null;

function money(minor: bigint | null, currency: string | null): [Cell, Cell] {
  if (minor === null || currency === null) return [null, null];
  return [decimal(minor, currency), minor];
}

export function csvRecord(row: ExportRow, clock: ZonedClock): Cell[] {
  const [fee, feeMinor] = row.feeMinor === null ? [NOT_REPORTED, null] : money(row.feeMinor, row.feeCurrency ?? row.currency);
  const [debited, debitedMinor] = money(row.debitedMinor, row.debitedCurrency);
  const [destination, destinationMinor] = money(row.destinationMinor, row.destinationCurrency);
  return [
    row.payoutId,
    clock.iso(row.createdAt),
    row.finalizedAt ? clock.iso(row.finalizedAt) : null,
    row.reversedAt ? clock.iso(row.reversedAt) : null,
    row.status,
    row.connectionName,
    row.provider,
    row.currency,
    decimal(row.amountMinor, row.currency),
    row.amountMinor,
    fee,
    feeMinor,
    row.feeMinor === null ? null : (row.feeCurrency ?? row.currency),
    debited,
    debitedMinor,
    row.debitedMinor === null ? null : row.debitedCurrency,
    destination,
    destinationMinor,
    row.destinationMinor === null ? null : row.destinationCurrency,
    row.fxRate,
    row.recipientName,
    row.recipientPhone,
    row.recipientAccount,
    row.description,
    row.providerReference,
    row.failureCode,
    row.failureMessage,
    failureInWords(row.provider, row.failureCode, row.failureMessage),
  ];
}

/** RFC 4180 as the desk writes it (BOM, CRLF, formula cells escaped); the audit export writes with the same. */
export const CSV_FORMAT = { bom: true, record_delimiter: "windows", escape_formulas: true } as const;

export const csvWriter: ExportWriter = {
  format: "csv",
  extension: "csv",
  contentType: "text/csv; charset=utf-8",
  async write(input: ExportInput, out: Writable): Promise<void> {
    const clock = new ZonedClock(input.meta.timeZone);
    const stringifier = stringify({
      header: true,
      columns: [...CSV_COLUMNS],
      ...CSV_FORMAT,
    });
    // pipeline ends `out` after the last byte, and destroys both sides if either fails
    // (a client gone away stops the reading; a failed read aborts the download).
    const done = pipeline(stringifier, out);
    try {
      for await (const row of input.rows()) {
        if (!stringifier.write(csvRecord(row, clock))) await drained(stringifier);
      }
      stringifier.end();
    } catch (error) {
      stringifier.destroy(error as Error);
    }
    await done;
  },
};
