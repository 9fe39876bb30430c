// Muda's wire shapes. Every answer is an envelope
// {"status": <HTTP code>, "message": "...", "data": ... | null}.
// Parsing is lenient about extra fields and strict about the few a decision is made on.

export interface MudaEnvelope {
  status?: number;
  message?: string;
  data: unknown;
}

/** Transaction status words Muda documents, by meaning. */
export const SUCCEEDED_WORDS = ["SUCCESS", "COMPLETED"] as const;
export const FAILED_WORDS = ["FAILED"] as const;
export const PROCESSING_WORDS = ["PENDING", "PROCESSING"] as const;
/**
 * Not documented by Muda: the word a transaction held for verification (the
 * 210 answer) shows on a status query. The emulator uses ON_HOLD; the others
 * are read the same way because they can only mean "held", never final.
 */
export const HELD_WORDS = ["ON_HOLD", "HOLD", "HELD", "VERIFICATION_REQUIRED"] as const;

/** The webhook Muda posts to the account's registered URL (unsigned). */
export interface MudaWebhook {
  type: "transaction_status" | "transaction_event" | string;
  timestamp: string;
  reference_id: string;
  status: string;
  amount: unknown;
  currency: string;
  transaction_id?: string;
  [key: string]: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The envelope, when the body is one (a JSON object with a `data` member or a message). */
export function readEnvelope(json: unknown): MudaEnvelope | null {
  if (!isRecord(json)) return null;
  if (!("data" in json) && typeof json.message !== "string") return null;
  return {
    ...(typeof json.status === "number" ? { status: json.status } : {}),
    ...(typeof json.message === "string" ? { message: json.message } : {}),
    data: json.data ?? null,
  };
}

export function stringField(record: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = record[name];
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  }
  return undefined;
}
