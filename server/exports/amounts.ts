// Money as the export formats need it, from bigint minor units. The currency
// table lookup is cached: a million-row export asks for the same few
// exponents millions of times.
import { currencyExponent, formatUnits } from "@/server/domain/money";

const exponents = new Map<string, number>();

/** The currency's number of decimals (UGX 0, ZMW 2, KWD 3, USDT 2): see server/domain/money.ts. */
export function exponentOf(currency: string): number {
  let exponent = exponents.get(currency);
  if (exponent === undefined) {
    exponent = currencyExponent(currency);
    exponents.set(currency, exponent);
  }
  return exponent;
}

/** "12.50" for 1250n ZMW, "5000" for 5000n UGX: exactly the currency's decimals, no grouping. */
export function decimal(amountMinor: bigint, currency: string): string {
  return formatUnits(amountMinor, exponentOf(currency));
}

/** "1,234.50 ZMW": for people (PDF). */
export function grouped(amountMinor: bigint, currency: string): string {
  const plain = decimal(amountMinor, currency);
  const negative = plain.startsWith("-");
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split(".");
  const withCommas = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${withCommas}${fraction !== undefined ? `.${fraction}` : ""} ${currency}`;
}

/**
 * Largest magnitude (in minor units) written to a spreadsheet as a number.
 * A spreadsheet number is an IEEE 754 double and Excel shows at most 15
 * significant digits; every decimal of at most 15 significant digits
 * survives the round trip through a double (DBL_DIG = 15), so an amount of
 * up to 999,999,999,999,999 minor units (about 10^13 major units of a
 * 2-decimal currency) is shown exactly, to the minor unit. That is below
 * 2^53 (≈ 9.007 × 10^15, where doubles stop holding every integer) on
 * purpose: between 10^15 and 2^53 the integer would survive but Excel would
 * display and add it rounded to 15 digits. Above the limit the amount is
 * written as its exact decimal text instead, right-aligned, so nothing is
 * shown rounded; the desk's payout limits are many orders of magnitude lower.
 */
export const MAX_SPREADSHEET_NUMBER_MINOR = 999_999_999_999_999n;

/** The amount as a spreadsheet number (exact to the minor unit), or its decimal text when too large for that. */
export function spreadsheetAmount(amountMinor: bigint, currency: string): number | string {
  const exponent = exponentOf(currency);
  if (amountMinor > MAX_SPREADSHEET_NUMBER_MINOR || amountMinor < -MAX_SPREADSHEET_NUMBER_MINOR) {
    return formatUnits(amountMinor, exponent);
  }
  // Both operands are exact doubles (|minor| < 2^53, 10^e exact for e ≤ 22) and IEEE division is
  // correctly rounded: the result is the double nearest the exact decimal amount.
  return Number(amountMinor) / 10 ** exponent;
}

/** The spreadsheet number format of a currency: `#,##0.00 "ZMW"`, `#,##0 "UGX"`, `#,##0.000 "KWD"`. */
export function spreadsheetFormat(currency: string): string {
  const exponent = exponentOf(currency);
  // The code is quoted text in the format; a currency code is [A-Z]{3,4}, so it needs no escaping.
  return `#,##0${exponent > 0 ? `.${"0".repeat(exponent)}` : ""} "${currency}"`;
}
