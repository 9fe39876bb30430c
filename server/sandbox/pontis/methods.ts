// What the emulated PontisGlobe pays to, and the sandbox's magic cents.
// Kept apart from the connector's table on purpose: the connector's rules are
// checked against what the "provider" enforces, not against themselves.
import type { EmulatedPontisStatus } from "./emulator";

export interface EmulatedMethod {
  country: string;
  currency: string;
  method: string;
  fields: Array<{ key: string; required: boolean; pattern?: RegExp; rule?: string }>;
}

const ACCOUNT = { key: "account_number", required: true };

export const EMULATED_METHODS: readonly EmulatedMethod[] = [
  { country: "PH", currency: "PHP", method: "bank_local", fields: [ACCOUNT] },
  {
    country: "IN",
    currency: "INR",
    method: "imps",
    fields: [ACCOUNT, { key: "ifsc", required: true, pattern: /^[A-Z]{4}0[A-Z0-9]{6}$/, rule: "11 characters: 4 letters, 0, then 6 letters or digits" }],
  },
  { country: "ID", currency: "IDR", method: "bank_local", fields: [ACCOUNT, { key: "bank_code", required: true }] },
  { country: "VN", currency: "VND", method: "bank_local", fields: [ACCOUNT, { key: "bank_code", required: true }] },
  { country: "NG", currency: "NGN", method: "bank_local", fields: [ACCOUNT, { key: "bank_code", required: true }] },
  { country: "MX", currency: "MXN", method: "spei", fields: [{ ...ACCOUNT, pattern: /^\d{18}$/, rule: "a CLABE of 18 digits" }] },
];

export interface SandboxOutcome {
  status: Extract<EmulatedPontisStatus, "completed" | "failed" | "pending">;
  message: string;
}

/**
 * The sandbox rule: the trailing cents of source_amount decide the eventual
 * status. .00 completed, .01 failed "Insufficient funds", .02 failed
 * "Recipient not found", .03 stays pending, .04 failed "Network error";
 * any other cents behave as .00.
 */
export function sandboxOutcome(sourceAmount: string): SandboxOutcome {
  const fraction = sourceAmount.includes(".") ? sourceAmount.split(".")[1]!.padEnd(2, "0") : "00";
  switch (fraction) {
    case "01":
      return { status: "failed", message: "Insufficient funds" };
    case "02":
      return { status: "failed", message: "Recipient not found" };
    case "03":
      return { status: "pending", message: "Accepted and queued for processing" };
    case "04":
      return { status: "failed", message: "Network error" };
    default:
      return { status: "completed", message: "Paid to the beneficiary" };
  }
}
