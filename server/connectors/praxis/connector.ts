// Praxis Cashier Direct API 1.2 connector: payouts to e-wallets.
//
// Sends signed payouts (order_id = the desk's payout id), reads their status
// with the Agent API's find-order, verifies signed notifications and answers
// them with the signed reply Praxis expects. Every Praxis answer is signed
// with the Merchant Secret; an answer whose signature does not verify is not
// trusted and the outcome is "unknown" — the desk asks again with the same
// order_id, which Praxis never pays twice.
import { createHash, randomUUID } from "node:crypto";
import { createHttpCaller, truncate, type CallOutcome } from "../http";
import type {
  CallbackInput,
  CallbackReply,
  CallbackResult,
  ConnectionConfig,
  ConnectorDeps,
  FieldIssue,
  PayoutConnector,
  PayoutRequest,
  ProviderResult,
  RecipientField,
} from "../types";
import { isKnownCurrency } from "@/server/domain/money";
import { checkMsisdn } from "@/server/domain/phone";
import {
  integerField,
  JsonNumber,
  parsePraxisObject,
  PRAXIS_VERSION,
  textField,
  toPraxisJson,
  verifyPraxis,
  withSignature,
  type PraxisFields,
  type PraxisValue,
} from "./signature";
import { ORDER_NOT_FOUND, PRAXIS_SANDBOX_GATEWAY, toPraxisAmount } from "./wire";

/** Default tolerance for a notification's timestamp: Praxis resends unanswered notifications after ~5 minutes. */
const DEFAULT_CALLBACK_MAX_AGE_SECONDS = 600;
/** How far in the future a notification's timestamp may be (clock skew). */
const CALLBACK_FUTURE_SKEW_SECONDS = 60;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Credentials (all strings):
 * - merchantId, applicationKey, merchantSecret: required, from Praxis.
 * - gateway: the payout gateway code; in a sandbox connection it defaults to
 *   the Test E-Wallet gateway (PRAXIS_SANDBOX_GATEWAY).
 * - notificationUrl: optional; sent as notification_url instead of the
 *   connection's callbackUrl (e.g. a public address in front of the desk).
 * - returnUrl: optional return_url (required by Praxis, unused for e-wallet
 *   payouts); default: the desk's page of the payout, /payouts/{id}.
 * - agentBaseUrl: optional base of the Agent API; default: baseUrl without
 *   its trailing "/direct" (https://pci-gw-test.praxispay.com/api), so
 *   find-order is POST {agentBaseUrl}/find-order, as in Praxis's 1.2-era docs.
 * - callbackMaxAgeSeconds: optional notification timestamp window (default 600).
 */
export function createPraxisConnector(config: ConnectionConfig, deps: ConnectorDeps = {}): PayoutConnector {
  const credentials = config.credentials;
  const directUrl = config.baseUrl.replace(/\/+$/, "");
  const agentBase = (credentials.agentBaseUrl?.trim() || directUrl.replace(/\/direct$/, "")).replace(/\/+$/, "");
  const findOrderUrl = `${agentBase}/find-order`;
  const now = deps.now ?? (() => new Date());
  const merchantId = credentials.merchantId?.trim() ?? "";
  const applicationKey = credentials.applicationKey?.trim() ?? "";
  const secret = credentials.merchantSecret ?? "";
  const gateway = credentials.gateway?.trim() || (config.environment === "sandbox" ? PRAXIS_SANDBOX_GATEWAY : "");
  const notificationUrl = credentials.notificationUrl?.trim() || config.callbackUrl;
  const callbackMaxAge = nonNegativeNumber(credentials.callbackMaxAgeSeconds) ?? DEFAULT_CALLBACK_MAX_AGE_SECONDS;

  const missing = [
    ["merchantId", merchantId],
    ["applicationKey", applicationKey],
    ["merchantSecret", secret],
    ["gateway", gateway],
  ]
    .filter(([, value]) => !value)
    .map(([name]) => name);
  const configProblem = missing.length > 0 ? `The Praxis connection lacks ${missing.join(", ")}` : null;

  // No secret header: Praxis authenticates by the signature in the body, and the secret never travels.
  const call = createHttpCaller({ deps });
  const unixNow = () => Math.floor(now().getTime() / 1000);

  // ------------------------------------------------------------ validation and the body

  function recipientCountry(request: PayoutRequest): { ok: true; msisdn: string; country: string } | { ok: false; message: string } {
    const check = checkMsisdn(request.recipient.phone ?? "", request.recipient.country ?? null);
    if (!check.ok) return { ok: false, message: check.message };
    return { ok: true, msisdn: check.msisdn, country: check.country };
  }

  function validate(request: PayoutRequest): FieldIssue[] {
    const issues: FieldIssue[] = [];
    if (configProblem) issues.push({ field: "channel", message: configProblem });
    if (!isKnownCurrency(request.currency)) {
      issues.push({ field: "currency", message: `${request.currency} is not an ISO 4217 currency code` });
    } else {
      const amount = toPraxisAmount(request.amountMinor, request.currency);
      if (!amount.ok) issues.push({ field: "amount", message: amount.message });
    }
    const recipient = recipientCountry(request);
    if (!recipient.ok) issues.push({ field: "recipientPhone", message: recipient.message });
    const name = request.recipient.name?.trim() ?? "";
    if (name.length > 256) issues.push({ field: "recipientName", message: "Praxis takes a recipient name of at most 256 characters" });
    const email = request.recipient.details?.email?.trim() ?? "";
    if (email !== "" && (email.length > 256 || !EMAIL.test(email))) {
      issues.push({ field: "email", message: "The wallet e-mail must be an address like name@example.com" });
    }
    // The description travels in variable1, varchar(256).
    if (request.description.length > 256) {
      issues.push({ field: "description", message: `Praxis takes a description of at most 256 characters (this one has ${request.description.length})` });
    }
    return issues;
  }

  /** The signed Direct API body, or why it cannot be sent. */
  function buildPayoutBody(request: PayoutRequest): { ok: true; body: PraxisFields } | { ok: false; message: string } {
    const issues = validate(request);
    if (issues.length > 0) return { ok: false, message: issues.map((i) => `${i.field}: ${i.message}`).join("; ") };
    const amount = toPraxisAmount(request.amountMinor, request.currency);
    const recipient = recipientCountry(request);
    if (!amount.ok || !recipient.ok) return { ok: false, message: "unreachable: validated above" };
    const name = request.recipient.name?.trim();
    const email = request.recipient.details?.email?.trim();
    const fields: PraxisFields = {
      amount: amount.amount,
      application_key: applicationKey,
      country: recipient.country,
      currency: request.currency,
      // The e-wallet account is the recipient's MSISDN (digits with country code).
      data_account_number: recipient.msisdn,
      ...(email ? { data_email: email } : {}),
      ...(name ? { data_full_name: name } : {}),
      gateway,
      merchant_id: merchantId,
      notification_url: notificationUrl,
      order_id: request.payoutId,
      pin: customerPin(recipient.msisdn),
      return_url: credentials.returnUrl?.trim() || returnUrlFor(request.payoutId),
      timestamp: unixNow(),
      transaction_type: "payout",
      variable1: request.description,
      version: PRAXIS_VERSION,
    };
    return { ok: true, body: withSignature(fields, secret) };
  }

  function returnUrlFor(payoutId: string): string {
    try {
      return new URL(`/payouts/${encodeURIComponent(payoutId)}`, config.callbackUrl).toString();
    } catch {
      return config.callbackUrl;
    }
  }

  // ------------------------------------------------------------ reading answers

  type Answer =
    | { kind: "untrusted"; result: ProviderResult }
    | { kind: "signed"; status: bigint; fields: PraxisFields; raw: unknown };

  /** Turns an HTTP outcome into a verified Praxis answer, or the "unknown" it must be read as. */
  function readAnswer(outcome: CallOutcome, what: string): Answer {
    if (outcome.kind === "error") {
      return { kind: "untrusted", result: { state: "unknown", failureMessage: `No answer from Praxis to the ${what} (${outcome.error})` } };
    }
    const fields = parsePraxisObject(outcome.text);
    const raw = fields ? plainJson(fields) : truncate(outcome.text);
    if (outcome.status >= 500 || outcome.status < 200 || (outcome.status >= 300 && outcome.status < 400)) {
      return {
        kind: "untrusted",
        result: { state: "unknown", providerStatus: `HTTP ${outcome.status}`, failureMessage: `Praxis answered the ${what} with HTTP ${outcome.status}`, raw },
      };
    }
    if (!fields) {
      return {
        kind: "untrusted",
        result: { state: "unknown", providerStatus: `HTTP ${outcome.status}`, failureMessage: `Praxis's answer to the ${what} is not a JSON object`, raw },
      };
    }
    const description = textField(fields, "description");
    if (!verifyPraxis(fields, secret)) {
      return {
        kind: "untrusted",
        result: {
          state: "unknown",
          ...(textField(fields, "status") !== null ? { providerStatus: `status ${textField(fields, "status")}` } : {}),
          failureMessage: `Praxis's answer to the ${what} does not carry a valid signature for this connection's secret, so it is not trusted${
            description ? ` (it said: ${description})` : ""
          }`,
          raw,
        },
      };
    }
    const status = integerField(fields, "status");
    if (status === null) {
      return { kind: "untrusted", result: { state: "unknown", failureMessage: `Praxis's answer to the ${what} has no status`, raw } };
    }
    return { kind: "signed", status, fields, raw };
  }

  // ------------------------------------------------------------ find-order

  type FindOrder =
    | { kind: "untrusted"; result: ProviderResult }
    | { kind: "negative"; result: ProviderResult }
    | { kind: "not_found"; raw: unknown; description: string }
    | { kind: "refused"; status: bigint; description: string; raw: unknown }
    | { kind: "found"; fields: PraxisFields; raw: unknown };

  async function findOrder(orderId: string, operation: string, payoutId?: string): Promise<FindOrder> {
    const body = withSignature(
      { application_key: applicationKey, merchant_id: merchantId, order_id: orderId, timestamp: unixNow(), version: PRAXIS_VERSION },
      secret,
    );
    const outcome = await call({
      operation,
      method: "POST",
      url: findOrderUrl,
      headers: { "Content-Type": "application/json" },
      body: toPraxisJson(body),
      ...(payoutId ? { payoutId } : {}),
    });
    const answer = readAnswer(outcome, "order lookup");
    if (answer.kind === "untrusted") return answer;
    const description = textField(answer.fields, "description") ?? "";
    if (answer.status < 0n) {
      return {
        kind: "negative",
        result: {
          state: "unknown",
          providerStatus: `status ${answer.status}`,
          failureMessage: `Praxis had an internal error looking the order up (${description || "no description"})`,
          raw: answer.raw,
        },
      };
    }
    if (answer.status > 0n) {
      if (ORDER_NOT_FOUND.test(description)) return { kind: "not_found", raw: answer.raw, description };
      return { kind: "refused", status: answer.status, description, raw: answer.raw };
    }
    return { kind: "found", fields: answer.fields, raw: answer.raw };
  }

  async function status(request: Pick<PayoutRequest, "payoutId" | "providerReference">): Promise<ProviderResult> {
    if (configProblem) return { state: "unknown", failureMessage: configProblem };
    const found = await findOrder(request.payoutId, "status", request.payoutId);
    switch (found.kind) {
      case "untrusted":
      case "negative":
        return found.result;
      case "not_found":
        return { state: "not_found", providerStatus: found.description, raw: found.raw };
      case "refused":
        // A logical error of the lookup itself says nothing about the payout.
        return {
          state: "unknown",
          providerStatus: `status ${found.status}`,
          failureMessage: `Praxis refused the order lookup: ${found.description || "no description"}`,
          raw: found.raw,
        };
      case "found": {
        const fields = found.fields;
        const orderId = textField(fields, "order_id");
        if (orderId !== null && orderId !== request.payoutId) {
          return { state: "unknown", failureMessage: `Praxis answered about another order (${orderId})`, raw: found.raw };
        }
        const type = textField(fields, "transaction_type");
        if (type !== null && type !== "payout") {
          return { state: "unknown", providerStatus: type, failureMessage: `Praxis reports this order as a ${type}, not a payout`, raw: found.raw };
        }
        const source = transactionFields(fields);
        return mapTransaction(source, found.raw);
      }
    }
  }

  // ------------------------------------------------------------ submit

  async function submit(request: PayoutRequest): Promise<ProviderResult> {
    const built = buildPayoutBody(request);
    if (!built.ok) {
      // Nothing left the desk, so nothing exists at Praxis.
      return { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to Praxis: ${built.message}` };
    }
    const outcome = await call({
      operation: "submit",
      method: "POST",
      url: directUrl,
      headers: { "Content-Type": "application/json" },
      body: toPraxisJson(built.body),
      payoutId: request.payoutId,
    });
    const answer = readAnswer(outcome, "payout");
    if (answer.kind === "untrusted") {
      return { ...answer.result, failureMessage: `${answer.result.failureMessage}; the payout may or may not exist, its status will be checked` };
    }
    const description = textField(answer.fields, "description") ?? "";
    if (answer.status < 0n) {
      // Negative: an internal or network error at Praxis — the gateway may have acted.
      return {
        state: "unknown",
        providerStatus: `status ${answer.status}`,
        failureMessage: `Praxis reported an internal error (${description || "no description"}); the payout may or may not exist, its status will be checked`,
        raw: answer.raw,
      };
    }
    if (answer.status > 0n) {
      // A logical error creates nothing — but an earlier attempt with this
      // order_id might exist (a resend after an unknown outcome), so ask first.
      const current = await status(request);
      if (current.state === "not_found") {
        return {
          state: "failed",
          providerStatus: `status ${answer.status}`,
          failureCode: `PRAXIS_${answer.status}`,
          failureMessage: `Praxis refused the payout: ${description || "no description"}`,
          raw: answer.raw,
        };
      }
      if (current.state !== "unknown") return current;
      return {
        ...current,
        failureMessage: `Praxis refused the request (${description || "no description"}) and the order lookup could not confirm that nothing exists: ${current.failureMessage ?? ""}`,
      };
    }
    return mapTransaction(answer.fields, answer.raw);
  }

  // ------------------------------------------------------------ notifications

  async function parseCallback(input: CallbackInput): Promise<CallbackResult> {
    const fields = parsePraxisObject(input.rawBody);
    if (!fields) return { verified: false, reason: "The notification body is not a JSON object" };
    const orderId = textField(fields, "order_id") ?? "";
    const refuse = (reason: string): CallbackResult => ({ verified: false, reason, ...(orderId ? { payoutId: orderId } : {}) });
    if (!secret) return refuse("The connection has no merchantSecret to verify notifications with");
    if (!verifyPraxis(fields, secret)) return refuse("The notification signature is not valid for this connection's secret");
    if (textField(fields, "merchant_id") !== merchantId) return refuse("The notification is for another merchant_id");
    if (!orderId) return refuse("The notification has no order_id");
    const timestamp = integerField(fields, "timestamp");
    if (timestamp === null) return refuse("The notification has no timestamp");
    const age = BigInt(unixNow()) - timestamp;
    if (age > BigInt(callbackMaxAge)) return refuse(`The notification is stale (signed ${age} s ago; at most ${callbackMaxAge} s are accepted)`);
    if (age < BigInt(-CALLBACK_FUTURE_SKEW_SECONDS)) return refuse("The notification's timestamp is in the future");

    const word = textField(fields, "transaction_status") ?? "";
    const traceId = textField(fields, "trace_id") ?? "";
    const transactionId = textField(fields, "transaction_id") ?? "";
    const raw = plainJson(fields);
    const result = mapTransaction(fields, raw);
    const reference = traceId || transactionId;
    return {
      verified: true,
      payoutId: orderId,
      ...(reference ? { providerReference: reference } : {}),
      // From signed content only (the signature covers every field but itself); not the timestamp, so a re-signed redelivery is the same callback.
      dedupeKey: `${orderId}:${word}:${traceId || transactionId}`,
      result,
    };
  }

  function callbackReply(accepted: boolean): CallbackReply {
    // Anything but a signed status 0 makes Praxis resend in ~5 minutes: wanted for a refused one.
    const reply = withSignature(
      {
        description: accepted ? "Ok" : "Notification not accepted",
        status: accepted ? 0 : 1,
        timestamp: unixNow(),
        version: PRAXIS_VERSION,
      },
      secret,
    );
    return { httpStatus: 200, contentType: "application/json", body: toPraxisJson(reply) };
  }

  // ------------------------------------------------------------ connection test

  async function testConnection(): Promise<{ ok: boolean; message: string }> {
    if (configProblem) return { ok: false, message: configProblem };
    const found = await findOrder(`connection-test-${randomUUID()}`, "testConnection");
    switch (found.kind) {
      case "not_found":
        return { ok: true, message: `Praxis answered with a valid signature for merchant ${merchantId} (${found.description})` };
      case "untrusted":
      case "negative":
        return { ok: false, message: found.result.failureMessage ?? "Praxis's answer could not be used" };
      case "refused":
        return { ok: false, message: `Praxis refused the signed lookup (status ${found.status}): ${found.description || "no description"}` };
      case "found":
        return { ok: false, message: "Praxis claims to know a random order id; the answer is not plausible" };
    }
  }

  const emailField: RecipientField = {
    key: "email",
    label: "Wallet e-mail",
    required: false,
    hint: "Only if the e-wallet is registered by e-mail; sent as data_email",
  };

  return {
    provider: "praxis",
    capabilities: { statusQuery: true, callbacks: "signed", balances: false, statements: false },
    channels: () => [],
    recipientKind: "msisdn",
    recipientFields: () => [emailField],
    validate,
    submit,
    status,
    parseCallback,
    callbackReply,
    testConnection,
  };
}

// ---------------------------------------------------------------- mapping

/**
 * A Praxis transaction status in the desk's words. Covers the Direct API
 * response words (pending, pending_async, approved, rejected, cancelled),
 * the notification words (declined, requested) and find-order's payout
 * words; any other word stays "unknown", never guessed final.
 * cancelled has no desk state of its own: it is final and nothing was paid,
 * so it is "failed" with failureCode CANCELLED.
 * No fee, debit or conversion is set: Direct API 1.2 answers, notifications
 * and find-order carry the amount and currency that were asked for and no
 * fee, so the desk says "not reported".
 */
export function mapTransaction(fields: PraxisFields, raw: unknown): ProviderResult {
  const word = textField(fields, "transaction_status") ?? "";
  const traceId = textField(fields, "trace_id") ?? "";
  const transactionId = textField(fields, "transaction_id") ?? "";
  const reference = traceId || transactionId;
  const base = { providerStatus: word, ...(reference ? { providerReference: reference } : {}), raw };
  const errorCode = textField(fields, "error_code") ?? "";
  const details = textField(fields, "error_details") ?? "";
  switch (word) {
    case "pending":
    case "pending_async": // customer action expected at the PSP; redirect_url stays in raw
    case "authorized":
    case "in progress":
    case "processing":
      return { state: "processing", ...base };
    case "requested": // a payout awaiting the merchant's approval in Praxis's back office
      return { state: "provider_pending_approval", ...base };
    case "approved":
      return { state: "succeeded", ...base };
    case "rejected":
    case "declined":
      return {
        state: "failed",
        ...base,
        failureCode: errorCode && errorCode !== "0" ? errorCode : word.toUpperCase(),
        failureMessage: details || textField(fields, "description") || `Praxis reports the payout ${word}`,
      };
    case "cancelled":
      return {
        state: "failed",
        ...base,
        failureCode: "CANCELLED",
        failureMessage: details || "The payout was cancelled at Praxis (by an agent or in the merchant dashboard); nothing was paid",
      };
    default:
      return {
        state: "unknown",
        ...base,
        failureMessage: word ? `Praxis reports a transaction status the desk does not know (${word})` : "Praxis's answer has no transaction_status",
      };
  }
}

/** find-order answers flat fields in 1.2; a nested `transaction` object (later versions) is read too. */
function transactionFields(fields: PraxisFields): PraxisFields {
  if (textField(fields, "transaction_status") !== null) return fields;
  const nested = fields.transaction;
  if (nested && typeof nested === "object" && !Array.isArray(nested) && !(nested instanceof JsonNumber)) {
    const inner = nested as PraxisFields;
    return { ...inner, transaction_status: inner.transaction_status ?? inner.status ?? null };
  }
  return fields;
}

/**
 * The stable customer id (`pin`) Praxis asks for: the first 32 hex characters
 * of sha256 over the recipient's MSISDN. The same wallet always gets the same
 * pin (Praxis keeps customer history and limits by it), and the pin does not
 * spell out the phone number.
 */
export function customerPin(msisdn: string): string {
  return createHash("sha256").update(`praxis-pin:${msisdn}`).digest("hex").slice(0, 32);
}

/** Praxis JSON as plain JSON for the timeline: safe integers as numbers, others as their exact text. */
export function plainJson(value: PraxisValue): unknown {
  if (value instanceof JsonNumber) {
    const n = Number(value.text);
    return /^-?\d+$/.test(value.text) && Number.isSafeInteger(n) ? n : value.text;
  }
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plainJson);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJson(v)]));
  return value ?? null;
}

function nonNegativeNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
