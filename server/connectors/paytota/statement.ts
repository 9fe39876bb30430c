// Reads a Paytota company statement (the CSV that `statements.download`
// fetches) into lines in the desk's words.
//
// Paytota documents the request, poll and download, not the file's columns.
// What this reads, and why:
// - Columns are found by their header name, in any order and case: `id`,
//   `status`, `currency` and `amount` are required; `reference`,
//   `created_on` and `fee_amount` are read when present. A statement without
//   a required column is refused, naming it: guessing by position could read
//   a fee as an amount.
// - Amounts are decimal text in major units, as a statement for people is
//   written (the built-in emulator writes "5000" UGX, "12.50" KES); extra
//   decimals must be zeros, so nothing is rounded. A minus sign (money out)
//   is read as the same amount: every line is a payout.
// - An empty fee cell is "not reported", never 0.
// - A `type` / `payment_type` / `transaction_type` column, where present,
//   keeps the lines that are payouts: a statement may list other movements.
// - Statuses as the payout API's: initialized (created, never executed: no
//   money moved), pending, success, error; any other word is kept and never
//   read as final.
// - Any cell that cannot be read exactly fails the whole statement, naming
//   line and column: a reconciliation that skipped an unreadable line would
//   report the payout as missing, which is worse than saying why it stopped.
import { parse } from "csv-parse/sync";
import { fromPreciseDecimalString, isKnownCurrency } from "@/server/domain/money";
import { StatementFormatError, type StatementLine } from "../statement-lines";
import type { ProviderState } from "../types";
import { payoutIdOfReference } from "./wire";

const COLUMNS = {
  id: ["id", "payout_id"],
  reference: ["reference"],
  createdOn: ["created_on", "created_at", "created"],
  status: ["status"],
  currency: ["currency"],
  amount: ["amount"],
  fee: ["fee_amount", "fee"],
  type: ["type", "payment_type", "transaction_type"],
} as const;
const REQUIRED = ["id", "status", "currency", "amount"] as const;

const STATES: Record<string, ProviderState> = {
  initialized: "not_found",
  pending: "processing",
  success: "succeeded",
  error: "failed",
};

export function readPaytotaStatement(body: Uint8Array): StatementLine[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw new StatementFormatError(["the file is not UTF-8 text"]);
  }
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, info: true }) as unknown as typeof records;
  } catch (error) {
    throw new StatementFormatError([`the file is not a CSV table (${(error as Error).message})`]);
  }
  if (records.length === 0) throw new StatementFormatError(["the file is empty: not even a header row"]);

  const header = records[0]!.record.map((name) => name.trim().toLowerCase());
  const column = Object.fromEntries(
    Object.entries(COLUMNS).map(([key, names]) => [key, header.findIndex((name) => (names as readonly string[]).includes(name))]),
  ) as Record<keyof typeof COLUMNS, number>;
  const missing = REQUIRED.filter((key) => column[key] < 0);
  if (missing.length) {
    throw new StatementFormatError(missing.map((key) => `the header has no "${COLUMNS[key][0]}" column (it has: ${header.join(", ") || "nothing"})`));
  }

  const lines: StatementLine[] = [];
  const problems: string[] = [];
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    const cell = (key: keyof typeof COLUMNS) => (column[key] >= 0 ? (record[column[key]] ?? "").trim() : "");
    const problem = (key: keyof typeof COLUMNS, rule: string) => problems.push(`line ${line}, column ${COLUMNS[key][0]}: ${rule}`);

    const type = cell("type").toLowerCase();
    if (column.type >= 0 && type !== "" && type !== "payout") continue;

    const id = cell("id");
    if (!id) problem("id", "the payout id is empty");
    const currency = cell("currency").toUpperCase();
    if (!isKnownCurrency(currency)) {
      problem("currency", `"${cell("currency")}" is not an ISO 4217 currency code`);
      continue;
    }
    const amount = readAmount(cell("amount"), currency);
    if (typeof amount === "string") problem("amount", amount);
    const feeText = cell("fee");
    const fee = feeText === "" ? null : readAmount(feeText, currency);
    if (typeof fee === "string") problem("fee", fee);
    const createdText = cell("createdOn");
    const createdAt = createdText === "" ? null : readTime(createdText);
    if (createdAt === undefined) problem("createdOn", `"${createdText}" is neither an ISO 8601 time nor unix seconds`);
    const providerStatus = cell("status").toLowerCase();
    if (!providerStatus) problem("status", "the status is empty");
    if (!id || typeof amount === "string" || typeof fee === "string" || createdAt === undefined || !providerStatus) continue;

    const reference = cell("reference") || null;
    lines.push({
      line,
      providerReference: id,
      reference,
      payoutId: payoutIdOfReference(reference),
      state: STATES[providerStatus] ?? "unknown",
      providerStatus,
      amount: { amountMinor: amount, currency },
      fee: fee === null ? null : { amountMinor: fee, currency },
      createdAt,
    });
  }
  if (problems.length) throw new StatementFormatError(problems);
  return lines;
}

/** Minor units of a decimal cell, or why it cannot be read exactly. */
function readAmount(text: string, currency: string): bigint | string {
  if (text === "") return "the amount is empty";
  const magnitude = text.startsWith("-") ? text.slice(1) : text;
  try {
    return fromPreciseDecimalString(magnitude, currency);
  } catch (error) {
    return (error as Error).message;
  }
}

/** A time cell: ISO 8601, or unix seconds. Undefined when it is neither. */
function readTime(text: string): Date | undefined {
  const date = /^\d{9,11}$/.test(text) ? new Date(Number(text) * 1000) : /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : null;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}
