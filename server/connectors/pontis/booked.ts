// The money a PontisGlobe answer says it booked for a payout, when it says any.
//
// Pontis's published status answer (getPayoutStatus) and callback carry only
// {transaction_id, status, status_message}; the send answer only
// {transaction_id, status}. None states the USDT debited, a fee, the amount
// the recipient receives or the rate used, so against Pontis as documented
// the desk records none of them: "not reported". The send request's
// source_amount (the desk's own payout amount) and currency_code (its
// channel's currency) are what the desk asked for, not what Pontis booked,
// and the connector does not restate them as such.
//
// Should an answer carry the amounts (a Pontis environment that reports them;
// the emulator's reportAmounts), they are read under the names Pontis uses
// for the same things in the send request, as decimal strings like
// source_amount ("125.00"):
//   source_amount [+ source_currency, default USDT as in the request] → debited
//     (what left the wallet: the source of the conversion)
//   destination_amount + destination_currency (or currency_code) → destination,
//     with exchange_rate (destination units per source unit) as written
//   fee + fee_currency → fee (a fee without its currency is not money)
// A JSON number, a figure finer than its currency or anything unreadable is
// left out: never rounded, never passed through a float.
import { fromPreciseDecimalString, isKnownCurrency } from "@/server/domain/money";
import type { BookedMoney } from "../types";

export interface PontisBooked {
  fee?: BookedMoney;
  debited?: BookedMoney;
  destination?: BookedMoney & { rate?: string };
}

const DECIMAL = /^\d+(\.\d+)?$/;
/** The source currency when an answer names none: USDT, the documented default of source_currency. */
const DEFAULT_SOURCE_CURRENCY = "USDT";

export function pontisBookedMoney(data: Record<string, unknown>): PontisBooked {
  const text = (value: unknown): string | null => (typeof value === "string" && DECIMAL.test(value.trim()) ? value.trim() : null);
  const code = (value: unknown): string | null => (typeof value === "string" && isKnownCurrency(value.trim().toUpperCase()) ? value.trim().toUpperCase() : null);
  const money = (value: unknown, currency: string | null): BookedMoney | undefined => {
    const amount = text(value);
    if (amount === null || currency === null) return undefined;
    try {
      return { amountMinor: fromPreciseDecimalString(amount, currency), currency };
    } catch {
      return undefined;
    }
  };

  const sourceCurrency = data.source_currency === undefined || data.source_currency === null ? DEFAULT_SOURCE_CURRENCY : code(data.source_currency);
  const debited = money(data.source_amount, sourceCurrency);
  const fee = money(data.fee, code(data.fee_currency));
  const destinationAmount = money(data.destination_amount, code(data.destination_currency ?? data.currency_code));
  const rate = text(data.exchange_rate);
  const destination = destinationAmount ? { ...destinationAmount, ...(rate !== null && !/^0+(\.0+)?$/.test(rate) ? { rate } : {}) } : undefined;
  return { ...(fee ? { fee } : {}), ...(debited ? { debited } : {}), ...(destination ? { destination } : {}) };
}
