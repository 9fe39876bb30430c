// PontisGlobe wire shapes as the connector reads them, the status words in
// the desk's terms, and human words for every documented error code.
import type { ProviderResult } from "../types";
import { decryptPayload, looksEncrypted } from "./crypto";

/** The decrypted body of POST /api/v1/payouts/sendPayoutRequest. Field order kept as documented. */
export interface SendPayoutPayload {
  idempotency_key: string;
  country_code: string;
  currency_code: string;
  payment_method: string;
  payment_network?: string;
  source_amount: string;
  source_currency: string;
  recipient_details: Record<string, string>;
  purpose_of_payment?: string;
  source_of_funds?: string;
}

/**
 * A Pontis answer, once read:
 * - ok: `{ok:true, data}`;
 * - error: `{ok:false, request_id, error:{code,message}}`;
 * - unreadable: anything else (not JSON, not the envelope, or an encrypted
 *   body that does not decrypt) — the outcome is unknown.
 */
export type Envelope =
  | { kind: "ok"; data: Record<string, unknown>; body: unknown; encrypted: boolean }
  | { kind: "error"; code: string; message: string; requestId?: string; body: unknown; encrypted: boolean }
  | { kind: "unreadable"; reason: string };

/**
 * Reads an answer. Pontis documents plain JSON answers; an encrypted answer
 * ({"data": enc}, or {"ok":…, "data": enc}) is decrypted with the
 * connection's encryption key, so the connector works whichever way a Pontis
 * environment answers.
 */
export function readEnvelope(json: unknown, jsonOk: boolean, encryptionKey: Buffer | null): Envelope {
  if (!jsonOk || !isRecord(json)) return { kind: "unreadable", reason: "the answer is not a JSON object" };
  let body: Record<string, unknown> = json;
  let encrypted = false;
  if (looksEncrypted(body.data)) {
    if (!encryptionKey) return { kind: "unreadable", reason: "the answer is encrypted and no encryption key is configured" };
    let plain: unknown;
    try {
      plain = decryptPayload(body.data, encryptionKey);
    } catch (error) {
      return { kind: "unreadable", reason: `the encrypted answer could not be decrypted (${(error as Error).message})` };
    }
    encrypted = true;
    if (typeof body.ok === "boolean") {
      // {ok, data: enc}: the envelope is plain, its data encrypted.
      body = { ...body, data: plain };
    } else if (isRecord(plain)) {
      body = plain;
    } else {
      return { kind: "unreadable", reason: "the decrypted answer is not a JSON object" };
    }
  }
  if (body.ok === true) {
    if (!isRecord(body.data)) return { kind: "unreadable", reason: "ok:true without a data object" };
    return { kind: "ok", data: body.data, body, encrypted };
  }
  if (body.ok === false && isRecord(body.error) && typeof body.error.code === "string") {
    return {
      kind: "error",
      code: body.error.code,
      message: typeof body.error.message === "string" ? body.error.message : "",
      ...(typeof body.request_id === "string" ? { requestId: body.request_id } : {}),
      body,
      encrypted,
    };
  }
  return { kind: "unreadable", reason: "the answer is not Pontis' {ok, data | error} envelope" };
}

/** Pontis' error codes (by HTTP status) in the finance team's words. */
export const ERROR_DESCRIPTIONS: Record<string, string> = {
  validation_error: "PontisGlobe refused the request as invalid (a field is missing or malformed)",
  bad_request: "PontisGlobe could not read the request",
  unauthorized: "PontisGlobe did not accept the credentials (API key, email and password, or session token)",
  invalid_signature: "PontisGlobe could not verify the request: check the connection's HMAC and encryption keys and this server's clock",
  jwt_expired: "The PontisGlobe session token expired",
  forbidden: "PontisGlobe does not allow this (KYC is required, or the account may not do this)",
  ip_not_allowed: "This server's IP address is not on the PontisGlobe allow-list",
  account_suspended: "The PontisGlobe account is suspended",
  not_found: "PontisGlobe has no such transaction",
  quote_used: "The exchange-rate quote was already used",
  wallet_frozen: "The PontisGlobe USDT wallet is frozen",
  payload_too_large: "The request is larger than PontisGlobe's 64 KB limit",
  insufficient_funds: "The PontisGlobe USDT wallet balance is too low for this payout",
  per_payout_limit_exceeded: "The amount is above the account's per-payout limit",
  daily_limit_exceeded: "Today's payout volume would exceed the account's daily cap",
  monthly_limit_exceeded: "This month's payout volume would exceed the account's monthly cap",
  quote_expired: "The exchange-rate quote expired",
  rate_moved: "The exchange rate moved more than 0.5% since the quote was issued",
  screening_failed: "The recipient failed sanctions screening",
  rate_limited: "Too many requests to PontisGlobe (rate limited)",
  internal_error: "PontisGlobe had an internal error",
};

/** HTTP status → the code to assume when an answer carries no code of its own. */
export function codeForStatus(status: number): string {
  if (status === 413) return "payload_too_large";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "internal_error";
  return `http_${status}`;
}

export function describeError(code: string, message: string): string {
  const words = ERROR_DESCRIPTIONS[code] ?? `PontisGlobe refused the request (${code})`;
  return message && message !== words ? `${words}: ${message}` : words;
}

/** Pontis transaction statuses. reversed may follow completed. */
export const TRANSACTION_STATUSES = ["pending_approval", "pending", "processing", "completed", "failed", "rejected", "canceled", "reversed"] as const;

/**
 * A transaction status in the desk's words.
 * - canceled is final and nothing was paid: failed, failureCode CANCELED.
 * - reversed follows completed: the money came back. The desk moves a
 *   succeeded payout to its own final status `reversed` (statements need the
 *   difference), with failureCode REVERSED and Pontis' words.
 * - any other word is unknown, never guessed final.
 */
export function mapTransactionStatus(status: string, statusMessage: string | undefined, transactionId: string | undefined, raw: unknown): ProviderResult {
  const base = { providerStatus: status, ...(transactionId ? { providerReference: transactionId } : {}), raw };
  const message = statusMessage && statusMessage.trim() !== "" ? statusMessage : undefined;
  switch (status) {
    case "pending_approval":
      return { state: "provider_pending_approval", ...base };
    case "pending":
    case "processing":
      return { state: "processing", ...base };
    case "completed":
      return { state: "succeeded", ...base };
    case "failed":
      return { state: "failed", ...base, failureCode: "FAILED", failureMessage: message ?? "PontisGlobe reports the payout failed" };
    case "rejected":
      return { state: "failed", ...base, failureCode: "REJECTED", failureMessage: message ?? "PontisGlobe rejected the payout" };
    case "canceled":
      return { state: "failed", ...base, failureCode: "CANCELED", failureMessage: message ?? "The payout was canceled at PontisGlobe; nothing was paid" };
    case "reversed":
      return {
        state: "reversed",
        ...base,
        failureCode: "REVERSED",
        failureMessage: `PontisGlobe reversed the payout after it completed: the money came back to the wallet${message ? ` (${message})` : ""}`,
      };
    default:
      return { state: "unknown", ...base, failureMessage: `PontisGlobe reports a status the desk does not know (${status})` };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
