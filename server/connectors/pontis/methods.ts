// The payment methods (the desk's "channels") a PontisGlobe connection pays
// to: a destination country, its currency, the method Pontis routes by, and
// the recipient_details fields that method needs besides name and
// account_number.
//
// Pontis documents PH bank_local PHP and IN imps INR (with `ifsc`) in its
// examples and says the other fields "depend on payment_method". The rest of
// this table is the desk's best reading and can be replaced per connection
// with the `paymentMethods` credential (JSON, same shape as PaymentMethod).

export interface MethodField {
  /** Key in recipient_details, and in PayoutRequest.recipient.details. */
  key: string;
  label: string;
  required: boolean;
  /** A format rule, with the words to say when it is broken. */
  pattern?: { regex: string; rule: string };
}

export interface PaymentMethod {
  country: string;
  currency: string;
  method: string;
  label: string;
  fields: MethodField[];
  /** Rule for recipient.accountNumber, if any beyond "present". */
  accountNumber?: { regex: string; rule: string };
}

const IFSC: MethodField = {
  key: "ifsc",
  label: "IFSC",
  required: true,
  pattern: { regex: "^[A-Z]{4}0[A-Z0-9]{6}$", rule: "an IFSC is 11 characters: 4 letters, a zero, then 6 letters or digits (e.g. HDFC0001234)" },
};
const BANK_CODE_OPTIONAL: MethodField = { key: "bank_code", label: "Bank code", required: false };
const BANK_CODE: MethodField = { key: "bank_code", label: "Bank code", required: true };

export const PAYMENT_METHODS: readonly PaymentMethod[] = [
  { country: "PH", currency: "PHP", method: "bank_local", label: "Philippines bank transfer (PHP)", fields: [BANK_CODE_OPTIONAL] },
  {
    country: "IN",
    currency: "INR",
    method: "imps",
    label: "India IMPS (INR)",
    fields: [IFSC],
    accountNumber: { regex: "^\\d{9,18}$", rule: "an Indian bank account number has 9 to 18 digits" },
  },
  { country: "ID", currency: "IDR", method: "bank_local", label: "Indonesia bank transfer (IDR)", fields: [BANK_CODE] },
  { country: "VN", currency: "VND", method: "bank_local", label: "Vietnam bank transfer (VND)", fields: [BANK_CODE] },
  { country: "NG", currency: "NGN", method: "bank_local", label: "Nigeria bank transfer (NGN)", fields: [BANK_CODE] },
  {
    country: "MX",
    currency: "MXN",
    method: "spei",
    label: "Mexico SPEI (MXN)",
    fields: [],
    accountNumber: { regex: "^\\d{18}$", rule: "a CLABE has 18 digits" },
  },
];

/** The desk's channel code of a method: "IN-imps", "PH-bank_local". */
export function channelCode(m: Pick<PaymentMethod, "country" | "method">): string {
  return `${m.country}-${m.method}`;
}

/**
 * Finds the method a channel names. Accepts the desk's code ("IN-imps") or a
 * bare Pontis method ("imps") with the recipient's country deciding when a
 * method exists in several countries.
 */
export function findMethod(table: readonly PaymentMethod[], channel: string, country?: string | null): PaymentMethod | null {
  const compound = /^([A-Za-z]{2})-(.+)$/.exec(channel);
  if (compound) {
    return table.find((m) => m.country === compound[1]!.toUpperCase() && m.method === compound[2]) ?? null;
  }
  const matches = table.filter((m) => m.method === channel);
  if (country) return matches.find((m) => m.country === country.toUpperCase()) ?? null;
  return matches.length === 1 ? matches[0]! : null;
}

/** Reads the `paymentMethods` credential (a JSON list), or the built-in table. Throws with the reason when it is malformed. */
export function resolvePaymentMethods(setting: string | undefined): PaymentMethod[] {
  if (!setting || setting.trim() === "") return [...PAYMENT_METHODS];
  const parsed: unknown = JSON.parse(setting);
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error("paymentMethods must be a non-empty JSON list");
  return parsed.map((entry, index) => {
    const e = entry as Partial<PaymentMethod>;
    if (!e || typeof e !== "object") throw new Error(`paymentMethods[${index}] is not an object`);
    if (typeof e.country !== "string" || !/^[A-Z]{2}$/.test(e.country)) throw new Error(`paymentMethods[${index}].country must be ISO 3166-1 alpha-2`);
    if (typeof e.currency !== "string" || !/^[A-Z]{3}$/.test(e.currency)) throw new Error(`paymentMethods[${index}].currency must be ISO 4217`);
    if (typeof e.method !== "string" || e.method === "") throw new Error(`paymentMethods[${index}].method is required`);
    const fields = Array.isArray(e.fields) ? e.fields : [];
    for (const f of fields) {
      if (!f || typeof f.key !== "string" || f.key === "") throw new Error(`paymentMethods[${index}].fields need a key`);
    }
    return {
      country: e.country,
      currency: e.currency,
      method: e.method,
      label: typeof e.label === "string" && e.label ? e.label : `${e.country} ${e.method} (${e.currency})`,
      fields: fields.map((f) => ({ key: f.key, label: f.label || f.key, required: f.required === true, ...(f.pattern ? { pattern: f.pattern } : {}) })),
      ...(e.accountNumber ? { accountNumber: e.accountNumber } : {}),
    };
  });
}
