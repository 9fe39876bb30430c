// Paytota (Mobile Money V2 payouts) wire shapes and the few exact
// conversions the connector and the emulator share. Parsing is lenient about
// extra fields (the payout object is large and grows) and strict about the
// fields a decision is made on: id, reference, status, execution_url.
import { parseKeepingNumbers } from "../json-numbers";
import { z } from "zod";
import { currencyExponent, formatUnits, fromPreciseDecimalString, isKnownCurrency } from "@/server/domain/money";

/** POST /api/v1/payouts/ body, in the documented field order. */
export interface InitiateBody {
  client: { email: string; phone: string; country: string; full_name?: string };
  payment: { currency: string; amount: string; description: string };
  reference: string;
  brand_id: string;
}

/** The payout object: answer to initiate (201), GET /api/v1/payouts/{id}/, and the callback body. */
export const payoutObjectSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().optional(),
  status: z.string().min(1),
  reference: z.string().nullish(),
  brand_id: z.string().nullish(),
  execution_url: z.string().nullish(),
  event_type: z.string().nullish(),
  created_on: z.number().nullish(),
  updated_on: z.number().nullish(),
  client: z.looseObject({ phone: z.string().nullish(), email: z.string().nullish() }).nullish(),
  payment: z.looseObject({ amount: z.unknown(), currency: z.string().nullish() }).nullish(),
  status_history: z.array(z.looseObject({ status: z.string(), timestamp: z.number().nullish() })).nullish(),
  transaction_data: z
    .looseObject({
      attempts: z.array(z.looseObject({ error: z.unknown(), successful: z.boolean().nullish() })).nullish(),
      extra: z.unknown(),
    })
    .nullish(),
});
export type PayoutObject = z.infer<typeof payoutObjectSchema>;

/** POST {execution_url} answer. */
export const executeAnswerSchema = z.looseObject({
  status: z.string(),
  details: z
    .looseObject({
      return_code: z.string().nullish(),
      message: z.string().nullish(),
      transaction: z.looseObject({ status: z.string().nullish(), internal_reference: z.string().nullish() }).nullish(),
    })
    .nullish(),
  error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});
export type ExecuteAnswer = z.infer<typeof executeAnswerSchema>;

/** Company statement object (POST /api/v1/company_statements/, GET …/{id}/). */
export const statementSchema = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  download_url: z.string().nullish(),
  format: z.string().nullish(),
});
export type StatementObject = z.infer<typeof statementSchema>;

/** The documented payout statuses. Anything else is kept visible and never read as final. */
export const PAYOUT_STATUSES = ["initialized", "pending", "success", "error"] as const;

// ---------------------------------------------------------------- references

/**
 * The reference a repeated initiate carries when Paytota refused the payout
 * id because an earlier, unanswered initiate already used it: the payout id,
 * a dot, and a random tag. Callbacks and lookups read the payout id back with
 * payoutIdOfReference.
 */
export function repeatReference(payoutId: string, tag: string): string {
  return `${payoutId}.${tag}`;
}

const OUR_REFERENCE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\.[0-9a-z]{1,32})?$/i;

/** The desk's payout id a Paytota reference names (the id itself, or a repeat of it); null for any other reference. */
export function payoutIdOfReference(reference: string | null | undefined): string | null {
  const match = typeof reference === "string" ? OUR_REFERENCE.exec(reference) : null;
  return match ? match[1]!.toLowerCase() : null;
}

// ---------------------------------------------------------------- amounts

/**
 * How Paytota's JSON integers (payout object amounts, balances) are read.
 * The seed shows `"amount": "500"` sent and `"amount": 500` answered for UGX,
 * where major and minor units coincide. Paytota runs on the CHIP Collect
 * platform, whose amounts are integers in the currency's smallest unit, and
 * an integer answer could not carry cents otherwise: "minor" is the default.
 */
export type AmountUnits = "minor" | "major";

/** Minor units as the request's decimal string in major units, with the currency's decimals ("500", "5.50"). */
export function requestAmount(amountMinor: bigint, currency: string): string {
  return formatUnits(amountMinor, currencyExponent(currency));
}

/** Reads an amount Paytota answered (a JSON number kept as its source text, or a string) into minor units. */
export function responseAmountMinor(value: unknown, currency: string, units: AmountUnits): bigint {
  const text = value instanceof JsonNumber ? value.text : typeof value === "string" ? value.trim() : null;
  if (text === null) throw new Error(`not an amount (${typeof value})`);
  if (!isKnownCurrency(currency)) throw new Error(`${currency} is not a known currency`);
  if (units === "minor") {
    if (!/^-?\d+$/.test(text)) throw new Error(`"${text}" is not an integer count of minor units`);
    return BigInt(text);
  }
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`"${text}" is not a decimal amount`);
  return fromPreciseDecimalString(text, currency);
}

/** Minor units as Paytota's integer answer (JSON number text) in the given units; exact, never a float. */
export function answerAmountText(amountMinor: bigint, currency: string, units: AmountUnits): string {
  if (units === "minor") return amountMinor.toString();
  const exponent = currencyExponent(currency);
  const decimal = formatUnits(amountMinor, exponent);
  return decimal.includes(".") ? decimal.replace(/\.?0+$/, "") : decimal;
}

// ---------------------------------------------------------------- lossless JSON

/** A JSON number kept as its source text, so money never passes through a float. */
export class JsonNumber {
  constructor(readonly text: string) {}
  toJSON(): unknown {
    // Timeline records and raw payloads stay readable JSON.
    return /^-?\d+$/.test(this.text) && Number.isSafeInteger(Number(this.text)) ? Number(this.text) : this.text;
  }
}

/** JSON.parse, but every number becomes a JsonNumber holding its exact source text. Throws on invalid JSON. */
export function parseJsonLossless(text: string): unknown {
  return parseKeepingNumbers(text, (numberText) => new JsonNumber(numberText));
}

/**
 * A payout object (or a list of them) read from Paytota's answer text: the
 * money inside every `payment` object stays JsonNumber (exact, read with
 * responseAmountMinor), every other number (timestamps) becomes a JS number,
 * as the schema reads it. Throws on invalid JSON.
 */
export function readPayoutJson(text: string): unknown {
  const plain = (value: unknown, exact: boolean): unknown => {
    if (value instanceof JsonNumber) return exact ? value : Number(value.text);
    if (Array.isArray(value)) return value.map((item) => plain(item, exact));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item, exact || key === "payment")]));
    }
    return value;
  };
  return plain(parseJsonLossless(text), false);
}

// ---------------------------------------------------------------- booked money

export interface PaytotaBooked {
  fee?: { amountMinor: bigint; currency: string };
  debited?: { amountMinor: bigint; currency: string };
}

/**
 * The money a payout object says Paytota booked: `payment.fee_amount` is the
 * fee (in `payment.currency`, in the connection's amountUnits).
 *
 * What left the balance is stated only where the object's own figures say it
 * without a doubt. Paytota documents `amount`, `fee_amount` and `net_amount`
 * but not whether a payout's fee comes on top of the amount or out of it, so
 * net_amount is read only when its arithmetic is unambiguous:
 * - fee 0 and net = amount: the amount is what left;
 * - net = amount + fee: the fee came on top, net is what left;
 * - net = amount − fee: the fee came out of the amount, the amount is what left;
 * - anything else (say a fee with net = amount): "not reported".
 * Money is never guessed: an unreadable figure leaves the field out.
 */
export function paytotaBookedMoney(payout: PayoutObject, units: AmountUnits): PaytotaBooked {
  const payment = payout.payment;
  const currency = typeof payment?.currency === "string" ? payment.currency : "";
  if (!payment || !isKnownCurrency(currency)) return {};
  const read = (value: unknown): bigint | null => {
    if (value === undefined || value === null) return null;
    try {
      const minor = responseAmountMinor(value, currency, units);
      return minor < 0n ? null : minor;
    } catch {
      return null;
    }
  };
  const amount = read(payment.amount);
  const fee = read(payment.fee_amount);
  const net = read(payment.net_amount);
  if (fee === null) return {};
  let debited: bigint | null = null;
  if (amount !== null && net !== null) {
    if (fee === 0n && net === amount) debited = amount;
    else if (fee > 0n && net === amount + fee) debited = net;
    else if (fee > 0n && net === amount - fee) debited = amount;
  }
  return { fee: { amountMinor: fee, currency }, ...(debited !== null ? { debited: { amountMinor: debited, currency } } : {}) };
}

// ---------------------------------------------------------------- countries

/** Dialling code → ISO 3166-1 alpha-2, for the markets Paytota's mobile-money payouts reach (and neighbours). */
export const DIAL_CODES: ReadonlyArray<readonly [string, string]> = [
  ["256", "UG"],
  ["254", "KE"],
  ["255", "TZ"],
  ["250", "RW"],
  ["257", "BI"],
  ["211", "SS"],
  ["243", "CD"],
  ["260", "ZM"],
  ["265", "MW"],
  ["258", "MZ"],
  ["233", "GH"],
  ["234", "NG"],
  ["237", "CM"],
  ["225", "CI"],
  ["221", "SN"],
  ["251", "ET"],
  ["27", "ZA"],
];

export function countryOfMsisdn(msisdn: string): string | null {
  for (const [code, country] of DIAL_CODES) if (msisdn.startsWith(code)) return country;
  return null;
}

/** The failure a payout object in status "error" carries, wherever Paytota put it. */
export function payoutError(payout: PayoutObject): { code: string; message: string } {
  const attempts = payout.transaction_data?.attempts ?? [];
  for (let i = attempts.length - 1; i >= 0; i--) {
    const error = attempts[i]!.error;
    if (isRecord(error)) {
      const code = typeof error.code === "string" && error.code ? error.code : "error";
      const message = typeof error.message === "string" && error.message ? error.message : "Paytota reports the payout failed";
      return { code, message };
    }
    if (typeof error === "string" && error) return { code: "error", message: error };
  }
  const extra = payout.transaction_data?.extra;
  const webhook = isRecord(extra) && isRecord(extra.webhook_payload) ? extra.webhook_payload : null;
  if (webhook && typeof webhook.message === "string" && webhook.message) {
    return { code: typeof webhook.return_code === "string" && webhook.return_code ? webhook.return_code : "error", message: webhook.message };
  }
  return { code: "error", message: "Paytota reports the payout failed" };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}
