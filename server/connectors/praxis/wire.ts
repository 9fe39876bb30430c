// Praxis wire facts shared by the connector and the emulator: amounts in
// "cents", the transaction statuses, the sandbox gateway.
import { currencyExponent, isKnownCurrency } from "@/server/domain/money";

/**
 * Praxis counts amounts in cents, i.e. hundredths of the unit, EXCEPT for
 * these currencies, whose amount is sent as-is in the currency's own minor
 * unit (PROVIDERS.md, from Praxis's list of currencies whose fraction is not
 * 100): JPY, CLP, KRW, VND (no minor unit) and BHD, IQD, JOD, LYD, OMR, TND
 * (thousandths).
 *
 * Consequence worth knowing: any other currency is taken as having 100 cents,
 * even where ISO 4217 says otherwise, so UGX 5,000 is sent as 500000 and a
 * KWD amount must be a whole number of hundredths.
 */
export const PRAXIS_AS_IS_CURRENCIES: readonly string[] = ["JPY", "CLP", "KRW", "VND", "BHD", "IQD", "JOD", "LYD", "OMR", "TND"];

/** amount is int(20). */
export const PRAXIS_MAX_AMOUNT_DIGITS = 20;

export type AmountConversion = { ok: true; amount: bigint } | { ok: false; message: string };

/** The desk's minor units as Praxis's integer `amount`. Exact, bigint only. */
export function toPraxisAmount(amountMinor: bigint, currency: string): AmountConversion {
  if (!isKnownCurrency(currency)) return { ok: false, message: `${currency} is not an ISO 4217 currency code` };
  if (amountMinor <= 0n) return { ok: false, message: "The amount must be more than zero" };
  let amount: bigint;
  if (PRAXIS_AS_IS_CURRENCIES.includes(currency)) {
    amount = amountMinor;
  } else {
    const exponent = currencyExponent(currency);
    if (exponent <= 2) {
      amount = amountMinor * 10n ** BigInt(2 - exponent);
    } else {
      const divisor = 10n ** BigInt(exponent - 2);
      if (amountMinor % divisor !== 0n) {
        return { ok: false, message: `Praxis counts ${currency} in hundredths: use at most 2 decimal places` };
      }
      amount = amountMinor / divisor;
    }
  }
  if (amount.toString().length > PRAXIS_MAX_AMOUNT_DIGITS) {
    return { ok: false, message: `The amount is too large for Praxis (at most ${PRAXIS_MAX_AMOUNT_DIGITS} digits in cents)` };
  }
  return { ok: true, amount };
}

/** Praxis's integer `amount` back to minor units; null when it cannot be represented exactly. */
export function fromPraxisAmount(amount: bigint, currency: string): bigint | null {
  if (!isKnownCurrency(currency)) return null;
  if (PRAXIS_AS_IS_CURRENCIES.includes(currency)) return amount;
  const exponent = currencyExponent(currency);
  if (exponent >= 2) return amount * 10n ** BigInt(exponent - 2);
  const divisor = 10n ** BigInt(2 - exponent);
  return amount % divisor === 0n ? amount / divisor : null;
}

/**
 * The sandbox "Test E-Wallet" gateway code (Praxis gateways are opaque
 * codes; this is the one of Praxis's published payout example). The built-in
 * emulator routes it to its Test E-Wallet processor.
 */
export const PRAXIS_SANDBOX_GATEWAY = "s-pTSZyK23E1Ee5KZpcNbX_aFl0HuhQ0";
export const PRAXIS_TEST_PROCESSOR = "Test E-Wallet";

/** transaction_status values of Direct API responses and find-order. */
export type PraxisTransactionStatus = "pending" | "pending_async" | "approved" | "rejected" | "cancelled";
/** transaction_status values of notifications. */
export type PraxisNotificationStatus = "pending" | "approved" | "declined" | "cancelled" | "requested";

/** Status descriptions that mean "this order does not exist" in a find-order answer. */
export const ORDER_NOT_FOUND = /\b(order|transaction)\b[^.]*\b(not\s+found|does\s+not\s+exist)\b|\bno\s+such\s+order\b|\bunknown\s+order\b/i;
