// The money Muda's transaction record says it booked for a payout.
//
// Muda's "Get Transaction" (GET /v1/payment/transactionReferenceId/{id})
// answers `fee` ("Transaction fee") and `total_amount` ("Total amount
// including fees") beside `amount` and `currency`, as JSON numbers in major
// units ("fee": 1000.00). Those are what the desk records: the fee charged,
// and the total that left the wallet.
//
// What the desk does NOT do is state a fee Muda's answer does not carry,
// e.g. from the product definition (GET /v1/payment/products, product
// 10011: a flat fee of 2,000 UGX). The product list is a price list, not a
// booking: it can change between the send and the booking, and it carries two
// fee figures (`provider_fee` and `fee_amount`) without saying which the
// merchant's wallet pays. A payout whose answer says nothing of the fee shows
// "not reported" rather than a figure the desk inferred.
import { fromPreciseDecimalString, isKnownCurrency } from "@/server/domain/money";
import type { BookedMoney } from "../types";
import { parseWithNumbers, plainDecimal } from "./json";
import { isRecord } from "./wire";

export interface MudaBooked {
  fee?: BookedMoney;
  debited?: BookedMoney;
}

/**
 * Reads `data.fee` and `data.total_amount` from the exact text of a Muda
 * answer (numbers kept as their source text, never a float). Anything that is
 * absent, negative, not a plain decimal or finer than the currency's smallest
 * unit is left out: not reported, never rounded or guessed.
 */
export function mudaBookedMoney(answerText: string): MudaBooked {
  let body: unknown;
  try {
    body = parseWithNumbers(answerText);
  } catch {
    return {};
  }
  const data = isRecord(body) && isRecord(body.data) ? body.data : null;
  if (!data) return {};
  const currency = typeof data.currency === "string" ? data.currency.trim().toUpperCase() : "";
  if (!isKnownCurrency(currency)) return {};

  const amount = (value: unknown): BookedMoney | undefined => {
    // A JSON number is what Muda documents; a decimal string is read the same way.
    const text = plainDecimal(value) ?? (typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? value.trim() : null);
    if (text === null || text.startsWith("-")) return undefined;
    try {
      return { amountMinor: fromPreciseDecimalString(text, currency), currency };
    } catch {
      return undefined;
    }
  };
  const fee = amount(data.fee);
  const debited = amount(data.total_amount);
  return { ...(fee ? { fee } : {}), ...(debited ? { debited } : {}) };
}
