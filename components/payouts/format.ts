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
