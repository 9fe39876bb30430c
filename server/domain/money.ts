// Money is an integer count of minor units (bigint) plus an ISO 4217 code.
// Exponents come from the maintained ISO 4217 table in `currency-codes`;
// nothing here ever goes through a JavaScript float.
import currencyCodes from "currency-codes";

export type CurrencyCode = string;

export interface Money {
  amountMinor: bigint;
  currency: CurrencyCode;
}

export class MoneyError extends Error {
  constructor(
    message: string,
    readonly rule: string,
  ) {
    super(message);
    this.name = "MoneyError";
  }
}

/**
 * Settlement assets some providers fund payouts from that ISO 4217 does not
 * list. USDT is quoted by PontisGlobe with two decimals ("125.00"), and the
 * desk keeps it at that precision so its amounts match the provider's.
 */
const NON_ISO_CURRENCIES: Readonly<Record<string, number>> = { USDT: 2 };

/** Number of decimal places of an ISO 4217 currency (UGX 0, USD 2, KWD 3). */
export function currencyExponent(currency: string): number {
  const extra = NON_ISO_CURRENCIES[currency];
  if (extra !== undefined) return extra;
  const entry = /^[A-Z]{3}$/.test(currency) ? currencyCodes.code(currency) : undefined;
  if (!entry) throw new MoneyError(`${currency} is not an ISO 4217 currency code`, "currency.unknown");
  return entry.digits;
}

export function isKnownCurrency(currency: string): boolean {
  return currency in NON_ISO_CURRENCIES || (/^[A-Z]{3}$/.test(currency) && currencyCodes.code(currency) !== undefined);
}

const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d+))?$/;

/**
 * The largest amount in minor units the desk can store: PostgreSQL's bigint
 * (int8). Anything above it is refused as money, not left to fail in the
 * database. Payout limits (far lower) are the services' business.
 */
export const MAX_STORABLE_MINOR = 2n ** 63n - 1n;

/**
 * Parses a decimal amount typed by a person ("1,250.50", "1250.5", "1250")
 * into minor units. Refuses more decimals than the currency has, negative
 * numbers, exponents and anything that is not plainly a number; never rounds.
 */
export function parseAmount(input: string, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const trimmed = input.trim();
  if (trimmed === "") throw new MoneyError("Enter an amount", "amount.required");
  // Thousands separators are allowed only in their proper places.
  const plain = /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(trimmed) ? trimmed.replaceAll(",", "") : trimmed;
  const match = DECIMAL.exec(plain);
  if (!match) {
    throw new MoneyError(
      `"${input}" is not an amount: use digits with an optional decimal point, e.g. 1250.50`,
      "amount.format",
    );
  }
  const whole = match[1]!;
  const fraction = match[2] ?? "";
  if (fraction.length > exponent) {
    throw new MoneyError(
      exponent === 0
        ? `${currency} has no minor unit: enter a whole number`
        : `${currency} allows at most ${exponent} decimal place${exponent === 1 ? "" : "s"}`,
      "amount.decimals",
    );
  }
  // More digits than int8 has can only be out of range; say so before making a huge BigInt.
  if (whole.replace(/^0+/, "").length > 19) throw outOfRange(trimmed, currency);
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, "0") || "0");
  if (minor > MAX_STORABLE_MINOR) throw outOfRange(trimmed, currency);
  return minor;
}

function outOfRange(amount: string, currency: string): MoneyError {
  const shown = amount.length > 40 ? `${amount.slice(0, 40)}…` : amount;
  return new MoneyError(
    `${shown} ${currency} is more than any amount the desk can record (at most ${formatMoney(MAX_STORABLE_MINOR, currency)})`,
    "amount.range",
  );
}

/** Minor units as a plain decimal string with exactly the currency's decimals: 1250n USD → "12.50". */
export function toDecimalString(amountMinor: bigint, currency: string): string {
  return formatUnits(amountMinor, currencyExponent(currency));
}

/** Minor units at a given exponent, as a plain decimal string ("-12.50"). */
export function formatUnits(amountMinor: bigint, exponent: number): string {
  const negative = amountMinor < 0n;
  const abs = negative ? -amountMinor : amountMinor;
  const digits = abs.toString().padStart(exponent + 1, "0");
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? "" : `.${digits.slice(-exponent)}`;
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/**
 * Minor units as the shortest decimal string (trailing zeros dropped):
 * 1500n ZMW → "15", 1550n → "15.5". Some providers want this form.
 */
export function toShortDecimalString(amountMinor: bigint, currency: string): string {
  const full = toDecimalString(amountMinor, currency);
  return full.includes(".") ? full.replace(/\.?0+$/, "") : full;
}

/** Parses a provider's decimal string at the currency's exponent; refuses extra precision. */
export function fromDecimalString(value: string, currency: string): bigint {
  const negative = value.startsWith("-");
  const minor = parseAmount(negative ? value.slice(1) : value, currency);
  return negative ? -minor : minor;
}

/**
 * Parses a decimal string that may carry more decimals than the currency
 * (e.g. a balance of "4621.0000000"); extra digits must be zeros, otherwise
 * the value cannot be represented exactly and is refused.
 */
export function fromPreciseDecimalString(value: string, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new MoneyError(`"${value}" is not a decimal amount`, "amount.format");
  const [, sign, whole, fraction = ""] = match;
  const kept = fraction.slice(0, exponent);
  if (/[^0]/.test(fraction.slice(exponent))) {
    throw new MoneyError(`"${value}" has more precision than ${currency} allows`, "amount.decimals");
  }
  const minor = BigInt(whole!) * 10n ** BigInt(exponent) + BigInt(kept.padEnd(exponent, "0") || "0");
  return sign ? -minor : minor;
}

/** Human display with grouping: 1234567n USD → "12,345.67 USD". */
export function formatMoney(amountMinor: bigint, currency: string, opts: { code?: boolean } = {}): string {
  const plain = toDecimalString(amountMinor, currency);
  const negative = plain.startsWith("-");
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split(".");
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const text = `${negative ? "-" : ""}${grouped}${fraction !== undefined ? `.${fraction}` : ""}`;
  return opts.code === false ? text : `${text} ${currency}`;
}
