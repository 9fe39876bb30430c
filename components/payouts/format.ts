import { formatMoney } from "@/server/domain/money";

export function money(amountMinor: bigint, currency: string): string {
  try {
    return formatMoney(amountMinor, currency);
  } catch {
    return `${amountMinor.toString()} (minor units) ${currency}`;
  }
}

const dateTime = new Intl.DateTimeFormat("en-GB", {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZone: "UTC",
});

/** Timestamps are shown in UTC, labelled, so two offices read the same time. */
export function when(date: Date | string): string {
  return `${dateTime.format(new Date(date))} UTC`;
}

/** How the recipient is addressed: +MSISDN for mobile money, the account number for bank payouts. */
export function phone(msisdn: string | null, account?: string | null): string {
  if (msisdn) return `+${msisdn}`;
  return account ? `account ${account}` : "";
}

/**
 * Money a provider reported for a payout (fee, debit, amount received), or
 * "Not reported" when it stated none: a missing figure is never shown as 0.
 */
export function reported(amountMinor: bigint | null | undefined, currency: string | null | undefined): string {
  if (amountMinor === null || amountMinor === undefined || !currency) return NOT_REPORTED;
  return money(amountMinor, currency);
}

export const NOT_REPORTED = "Not reported";

/** A conversion rate as the provider wrote it, with its units: "85.40 INR per USDT". */
export function rate(fxRate: string | null | undefined, source: string, destination: string | null | undefined): string | null {
  if (!fxRate || !destination) return null;
  return `${fxRate} ${destination} per ${source}`;
}
