// Muda Payments connector (Stellar-backed mobile money, Uganda).
//
// OAuth sign-in (tokens shared across connectors, see ./token.ts), direct
// payouts with the desk's payout id as Muda's reference_id, status by
// reference_id, wallet balances, and Muda's webhooks — which are unsigned,
// so they are only ever a hint to ask Muda for the status.
//
// It reports what Muda said and never more: when we cannot know whether Muda
// acted on a payout, the answer is "unknown" and the desk asks again by
// reference_id.
import { checkMsisdn } from "@/server/domain/phone";
import {
  currencyExponent,
  formatMoney,
  fromDecimalString,
  fromPreciseDecimalString,
  isKnownCurrency,
  toShortDecimalString,
} from "@/server/domain/money";
import { createHttpCaller, truncate, type CallInput, type CallOutcome } from "../http";
import type {
  CallbackInput,
  CallbackResult,
  ConnectionConfig,
  ConnectorDeps,
  FieldIssue,
  PayoutConnector,
  PayoutRequest,
  ProviderBalance,
  ProviderCallRecord,
  ProviderResult,
} from "../types";
import { mudaBookedMoney } from "./booked";
import { rawNumber, stringifyWithNumbers } from "./json";
import { DEFAULT_PRODUCT_ID, mudaProduct, type MudaProduct } from "./products";
import { mudaTokenSource, type TokenResult } from "./token";
import { FAILED_WORDS, HELD_WORDS, isRecord, PROCESSING_WORDS, readEnvelope, stringField, SUCCEEDED_WORDS } from "./wire";

/** Why a webhook is never applied as it stands. */
export const MUDA_WEBHOOK_REASON = "Muda webhooks are not signed: confirming with a status query";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Muda's balances are Stellar amounts: 7 decimals. */
const BALANCE_PATTERN = /^-?\d+(\.\d+)?$/;

export type MudaApiVersion = "current" | "seed";

export interface MudaConnector extends PayoutConnector {
  readonly apiVersion: MudaApiVersion;
  readonly product: MudaProduct | undefined;
}

/**
 * Credentials (all strings):
 * - apiKey, secretKey: exchanged at POST /v1/clients/oauth/token for a Bearer token.
 * - productId: Muda's payout product (default "10011", mobile money push UGX).
 * - apiVersion: "current" (default; POST /v1/payment/direct-payout) or
 *   "seed" (the older POST /v1/direct-payout with clientId, phone and memo).
 * - clientId: Muda's numeric client id, needed by apiVersion "seed" only.
 *
 * The connection's baseUrl is Muda's host (https://api.muda.tech); a
 * trailing /v1 is tolerated.
 */
export function createMudaConnector(config: ConnectionConfig, deps: ConnectorDeps = {}): MudaConnector {
  const baseUrl = config.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
  const credentials = config.credentials;
  const productId = (credentials.productId ?? "").trim() || DEFAULT_PRODUCT_ID;
  const product = mudaProduct(productId);
  const apiVersion: MudaApiVersion = credentials.apiVersion === "seed" ? "seed" : "current";
  const nowMs = () => (deps.now ? deps.now().getTime() : Date.now());

  const configProblem = (() => {
    if (!credentials.apiKey || !credentials.secretKey) return "The connection needs Muda's apiKey and secretKey";
    if (credentials.apiVersion && !["current", "seed"].includes(credentials.apiVersion)) {
      return `apiVersion must be "current" or "seed", not "${credentials.apiVersion}"`;
    }
    if (!/^\d{1,18}$/.test(productId)) return `productId must be Muda's numeric product id, not "${productId}"`;
    if (apiVersion === "seed" && !/^\d{1,18}$/.test(credentials.clientId ?? "")) {
      return "apiVersion \"seed\" needs Muda's numeric clientId in the connection's credentials";
    }
    return null;
  })();

  // ------------------------------------------------------------ transport

  const call = createHttpCaller({ deps });
  // The sign-in is recorded without the secret (recordBody) and without the token it returns.
  const tokenCall = createHttpCaller({
    deps: { ...deps, onCall: deps.onCall ? (record) => deps.onCall!(withoutToken(record)) : undefined },
  });
  const tokens = mudaTokenSource({
    baseUrl,
    apiKey: credentials.apiKey ?? "",
    secretKey: credentials.secretKey ?? "",
    call: tokenCall,
    now: nowMs,
  });

  type Authorized = { kind: "outcome"; outcome: CallOutcome } | { kind: "no-token"; problem: Extract<TokenResult, { ok: false }> };

  /**
   * One authenticated call. On a 401 the token is dropped, a new one fetched,
   * and the call made once more. That is safe for the payout POST too: a 401
   * means Muda did not authenticate the request, so it did not act on it —
   * and the retry carries the same reference_id anyway.
   */
  async function authorized(input: CallInput): Promise<Authorized> {
    let token = await tokens.get();
    if (!token.ok) return { kind: "no-token", problem: token };
    let outcome = await call({ ...input, headers: { ...input.headers, Authorization: `Bearer ${token.token}` } });
    if (outcome.kind === "response" && outcome.status === 401) {
      tokens.invalidate(token.token);
      token = await tokens.get();
      if (!token.ok) return { kind: "no-token", problem: token };
      outcome = await call({ ...input, headers: { ...input.headers, Authorization: `Bearer ${token.token}` } });
    }
    return { kind: "outcome", outcome };
  }

  // ------------------------------------------------------------ validate

  function validate(request: PayoutRequest): FieldIssue[] {
    const issues: FieldIssue[] = [];
    if (configProblem) issues.push({ field: "channel", message: configProblem });

    const currency = request.currency;
    if (product && currency !== product.currency) {
      issues.push({ field: "currency", message: `Muda's product ${product.productId} pays in ${product.currency}, not ${currency}` });
    } else if (!isKnownCurrency(currency)) {
      issues.push({ field: "currency", message: `${currency} is not a currency Muda can pay in` });
    }

    if (request.amountMinor <= 0n) {
      issues.push({ field: "amount", message: "The amount must be more than zero" });
    } else if (product && currency === product.currency) {
      const min = fromDecimalString(product.minAmount, currency);
      const max = fromDecimalString(product.maxAmount, currency);
      if (request.amountMinor < min) issues.push({ field: "amount", message: `Muda pays at least ${formatMoney(min, currency)}` });
      if (request.amountMinor > max) issues.push({ field: "amount", message: `Muda pays at most ${formatMoney(max, currency)}` });
    }
    // Amounts are in minor units of an ISO currency, so UGX (0 decimals) is always whole here.

    const phone = request.recipient.phone ?? "";
    const dial = product?.dialCode ?? (currency === "UGX" ? "256" : currency === "KES" ? "254" : null);
    const country = product?.country ?? (currency === "UGX" ? "UG" : currency === "KES" ? "KE" : null);
    if (dial && country) {
      const length = product?.msisdnLength ?? 12;
      const digits = length - dial.length;
      if (!new RegExp(`^${dial}\\d{${digits}}$`).test(phone)) {
        issues.push({
          field: "recipientPhone",
          message: `Muda pays ${country === "UG" ? "Ugandan" : "Kenyan"} mobile numbers written ${dial}${"X".repeat(digits)} (${length} digits, no +)`,
        });
      } else {
        const check = checkMsisdn(phone, country);
        if (!check.ok) issues.push({ field: "recipientPhone", message: check.message });
      }
    } else if (!/^[1-9]\d{7,14}$/.test(phone)) {
      issues.push({ field: "recipientPhone", message: "Muda needs the mobile number as digits with the country code, no +" });
    }

    // Muda's current API needs the account holder's name for Kenyan payouts (extra_data.account_name).
    if (currency === "KES" && !(request.recipient.name ?? "").trim()) {
      issues.push({ field: "recipientName", message: "Muda needs the account holder's name for KES payouts" });
    }
    return issues;
  }

  // ------------------------------------------------------------ submit

  function payoutBody(request: PayoutRequest): { path: string; body: string } {
    const amount = rawNumber(toShortDecimalString(request.amountMinor, request.currency));
    const phone = request.recipient.phone ?? "";
    const name = (request.recipient.name ?? "").trim();
    if (apiVersion === "seed") {
      return {
        path: "/v1/direct-payout",
        body: stringifyWithNumbers({
          clientId: rawNumber(credentials.clientId!),
          amount,
          phone,
          reference_id: request.payoutId,
          currency: request.currency,
          product_id: rawNumber(productId),
          memo: request.description,
        }),
      };
    }
    return {
      path: "/v1/payment/direct-payout",
      body: stringifyWithNumbers({
        reference_id: request.payoutId,
        amount,
        trans_type: "PUSH",
        currency: request.currency,
        product_id: rawNumber(productId),
        account_number: phone,
        extra_data: name ? { account_name: name } : {},
      }),
    };
  }

  async function submit(request: PayoutRequest): Promise<ProviderResult> {
    const issues = validate(request);
    if (issues.length > 0) {
      // Nothing left the desk, so nothing can exist at Muda: a final, honest "failed".
      return { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to Muda: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}` };
    }
    const { path, body } = payoutBody(request);
    const answer = await authorized({
      operation: "submit",
      method: "POST",
      url: `${baseUrl}${path}`,
      headers: { "Content-Type": "application/json" },
      body,
      payoutId: request.payoutId,
    });

    if (answer.kind === "no-token") {
      if (answer.problem.kind === "refused") {
        // The payout request itself was never sent.
        return { state: "failed", failureCode: "AUTH_REFUSED", failureMessage: `Not sent to Muda: ${answer.problem.message}` };
      }
      return {
        state: "unknown",
        failureMessage: `Not sent: could not sign in to Muda (${answer.problem.message}); its status will be checked before anything is resent`,
      };
    }

    const outcome = answer.outcome;
    if (outcome.kind === "error") {
      return {
        state: "unknown",
        failureMessage: `No answer from Muda (${outcome.error}); the payout may or may not have been created, its status will be checked`,
      };
    }
    const raw = outcome.jsonOk ? outcome.json : truncate(outcome.text);
    const envelope = outcome.jsonOk ? readEnvelope(outcome.json) : null;

    if (outcome.status >= 200 && outcome.status < 300) {
      const mapped = envelope ? withBookedMoney(mapTransaction(outcome.status, envelope, request.payoutId), outcome.text) : null;
      if (!mapped) {
        return { state: "unknown", failureMessage: `Muda's answer (HTTP ${outcome.status}) could not be read; its status will be checked`, raw };
      }
      if (mapped.state === "succeeded" && !mapped.fee && !mapped.debited) {
        // Paid at once (200 SUCCESS), and the payout answer carries no fee: a
        // final payout is never asked about again, so this is the one chance
        // to read what Muda booked. Its transaction record says (fee,
        // total_amount); if it cannot be read now, the fee stays "not reported".
        const booked = await status(request);
        if (booked.state === "succeeded") {
          return { ...mapped, ...(booked.fee ? { fee: booked.fee } : {}), ...(booked.debited ? { debited: booked.debited } : {}) };
        }
      }
      return mapped;
    }

    if (outcome.status === 401 && envelope) {
      // Refused even with a token Muda had just issued. Unauthenticated requests are not acted upon.
      return {
        state: "failed",
        providerStatus: "HTTP 401",
        failureCode: "UNAUTHORIZED",
        failureMessage: `Muda refused the request as unauthenticated${suffix(envelope.message)}; nothing was created. Check the connection's credentials`,
        raw,
      };
    }

    if ((outcome.status === 400 || outcome.status === 403 || outcome.status === 422) && envelope) {
      // Muda refused the request before creating anything. An earlier attempt
      // with the same reference_id could still exist, so ask before calling it failed.
      const current = await status(request);
      if (current.state === "not_found") {
        const insufficient = /insufficient\s+balance/i.test(envelope.message ?? "");
        return {
          state: "failed",
          providerStatus: `HTTP ${outcome.status}`,
          failureCode: insufficient ? "INSUFFICIENT_BALANCE" : outcome.status === 403 ? "FORBIDDEN" : "INVALID_REQUEST",
          failureMessage: insufficient
            ? "Muda refused the payout: insufficient balance in the Muda wallet; nothing was created"
            : `Muda refused the request (HTTP ${outcome.status}${suffix(envelope.message)}); nothing was created`,
          raw,
        };
      }
      if (current.state !== "unknown") return current;
      return {
        state: "unknown",
        providerStatus: `HTTP ${outcome.status}`,
        failureMessage: `Muda refused the request (HTTP ${outcome.status}${suffix(envelope.message)}) and the status check did not confirm that nothing exists`,
        raw,
      };
    }

    if (outcome.status === 409) {
      // A transaction with this reference_id exists (an earlier attempt got through): its state is the answer.
      const current = await status(request);
      if (current.state === "not_found") {
        return {
          state: "unknown",
          providerStatus: "HTTP 409",
          failureMessage: "Muda reported a duplicate reference_id but does not show the payout yet; its status will be checked",
          raw,
        };
      }
      return current;
    }

    // 5xx, 429, 404, redirects, or an answer that is not Muda's envelope: we cannot tell whether it was created.
    return {
      state: "unknown",
      providerStatus: `HTTP ${outcome.status}`,
      failureMessage: `Muda answered HTTP ${outcome.status}${suffix(envelope?.message)}; the payout may or may not have been created, its status will be checked`,
      raw,
    };
  }

  // ------------------------------------------------------------ status

  async function status(request: Pick<PayoutRequest, "payoutId" | "providerReference">): Promise<ProviderResult> {
    const answer = await authorized({
      operation: "status",
      method: "GET",
      url: `${baseUrl}/v1/payment/transactionReferenceId/${encodeURIComponent(request.payoutId)}`,
      payoutId: request.payoutId,
    });
    if (answer.kind === "no-token") {
      return { state: "unknown", failureMessage: `Could not sign in to Muda to ask for the status: ${answer.problem.message}` };
    }
    const outcome = answer.outcome;
    if (outcome.kind === "error") return { state: "unknown", failureMessage: `Muda did not answer the status query: ${outcome.error}` };
    const raw = outcome.jsonOk ? outcome.json : truncate(outcome.text);
    const envelope = outcome.jsonOk ? readEnvelope(outcome.json) : null;
    if (outcome.status === 404 && isMudaNotFound(outcome.json)) {
      // Muda's own "not found" envelope ({"status":404,…,"data":null}), on the host where we just
      // signed in: it has no such transaction. A gateway's bare 404 ({"message":"Not Found"}, HTML) is not that.
      return { state: "not_found", providerStatus: "HTTP 404", raw };
    }
    if (outcome.status >= 200 && outcome.status < 300 && envelope) {
      const mapped = withBookedMoney(mapTransaction(outcome.status, envelope, request.payoutId), outcome.text);
      if (mapped) return mapped;
    }
    return {
      state: "unknown",
      providerStatus: `HTTP ${outcome.status}`,
      failureMessage: `Muda answered the status query with HTTP ${outcome.status}${suffix(envelope?.message)}`,
      raw,
    };
  }

  // ------------------------------------------------------------ webhooks

  async function parseCallback(input: CallbackInput): Promise<CallbackResult> {
    let body: unknown;
    try {
      body = JSON.parse(input.rawBody);
    } catch {
      return { verified: false, reason: "The callback body is not JSON" };
    }
    const reference = isRecord(body) ? stringField(body, "reference_id") : undefined;
    if (!reference || !UUID.test(reference)) {
      return { verified: false, reason: "The callback names no payout of the desk (reference_id)" };
    }
    // Anyone can post this: it is never applied, only a reason to ask Muda.
    return { verified: false, hint: true, reason: MUDA_WEBHOOK_REASON, payoutId: reference.toLowerCase() };
  }

  // ------------------------------------------------------------ balances

  type BalanceRead = { ok: true; balances: ProviderBalance[] } | { ok: false; message: string };

  async function readBalances(): Promise<BalanceRead> {
    const answer = await authorized({ operation: "balances", method: "GET", url: `${baseUrl}/v1/payment/balance` });
    if (answer.kind === "no-token") return { ok: false, message: answer.problem.message };
    const outcome = answer.outcome;
    if (outcome.kind === "error") return { ok: false, message: `Muda did not answer the balance query: ${outcome.error}` };
    const envelope = outcome.jsonOk ? readEnvelope(outcome.json) : null;
    if (outcome.status !== 200) {
      return { ok: false, message: `Muda answered the balance query with HTTP ${outcome.status}${suffix(envelope?.message)}` };
    }
    // Documented as a bare list; also read inside the usual envelope.
    const list = Array.isArray(outcome.json) ? outcome.json : Array.isArray(envelope?.data) ? envelope.data : null;
    if (!list) return { ok: false, message: "Muda's balance answer could not be read" };
    const balances: ProviderBalance[] = [];
    for (const item of list) {
      if (!isRecord(item)) return { ok: false, message: "Muda's balance answer could not be read" };
      const currency = stringField(item, "currency", "asset_code");
      const balance = item.balance;
      if (!currency || typeof balance !== "string" || !BALANCE_PATTERN.test(balance.trim())) {
        return { ok: false, message: "Muda's balance answer could not be read" };
      }
      // Stellar assets that are not money the desk pays in (XLM for fees…) are not payout balances.
      if (!isKnownCurrency(currency)) continue;
      let amountMinor: bigint;
      try {
        amountMinor = fromPreciseDecimalString(balance, currency);
      } catch {
        // Not rounded, ever: a figure the desk cannot show exactly is reported as such.
        const exponent = currencyExponent(currency);
        return {
          ok: false,
          message: `Muda reports a ${currency} balance of ${balance}, which is finer than ${currency}'s smallest unit (${
            exponent === 0 ? `whole ${currency}` : `${exponent} decimals`
          }); the desk shows balances exactly or not at all`,
        };
      }
      const asset = stringField(item, "asset_code");
      balances.push({ currency, amountMinor, ...(asset && asset !== currency ? { label: asset } : {}), raw: item });
    }
    return { ok: true, balances };
  }

  async function balances(): Promise<ProviderBalance[]> {
    const read = await readBalances();
    if (!read.ok) throw new Error(read.message);
    return read.balances;
  }

  async function testConnection(): Promise<{ ok: boolean; message: string }> {
    if (configProblem) return { ok: false, message: configProblem };
    const token = await tokens.get({ fresh: true });
    if (!token.ok) return { ok: false, message: token.message };
    const read = await readBalances();
    if (!read.ok) return { ok: false, message: `Signed in to Muda, but the balance read failed: ${read.message}` };
    const shown = read.balances.map((b) => formatMoney(b.amountMinor, b.currency)).join(", ") || "no balances";
    return { ok: true, message: `Signed in to Muda (product ${productId}); wallet: ${shown}` };
  }

  return {
    provider: "muda",
    apiVersion,
    product,
    capabilities: { statusQuery: true, callbacks: "hint", balances: true, statements: false },
    recipientKind: "msisdn",
    // Muda routes to the network itself.
    channels: () => [],
    validate,
    // Muda publishes its product's limits (GET /v1/payment/products: 10011 pays at most 2,000,000 UGX).
    payoutMaximum: (currency) => (product && currency === product.currency ? fromDecimalString(product.maxAmount, currency) : null),
    submit,
    status,
    parseCallback,
    balances,
    testConnection,
  };
}

// ------------------------------------------------------------ mapping

/**
 * A transaction in Muda's words → the desk's. `code` is the HTTP status (210
 * means "verification required – on hold"). Null when the answer is not a
 * readable transaction of this payout.
 */
export function mapTransaction(code: number, envelope: { status?: number; message?: string; data: unknown }, payoutId: string): ProviderResult | null {
  const data = envelope.data;
  if (!isRecord(data)) return null;
  const reference = stringField(data, "reference_id");
  if (reference && reference.toLowerCase() !== payoutId.toLowerCase()) return null;
  const word = stringField(data, "status")?.toUpperCase();
  const providerReference = stringField(data, "trans_id", "transaction_id");
  const base = { ...(providerReference ? { providerReference } : {}), raw: envelope };

  if (code === 210 || envelope.status === 210 || (word && (HELD_WORDS as readonly string[]).includes(word))) {
    return {
      state: "provider_pending_approval",
      providerStatus: word ?? "ON_HOLD",
      failureMessage: `Muda holds the payout for verification${suffix(envelope.message)}`,
      ...base,
    };
  }
  if (!word) return null;
  if (data.is_offline === true) {
    // The mobile network is down: Muda stored the payout and processes it later. Never a failure.
    return { state: "processing", providerStatus: `${word} (offline)`, ...base };
  }
  if ((SUCCEEDED_WORDS as readonly string[]).includes(word)) return { state: "succeeded", providerStatus: word, ...base };
  if ((PROCESSING_WORDS as readonly string[]).includes(word)) return { state: "processing", providerStatus: word, ...base };
  if ((FAILED_WORDS as readonly string[]).includes(word)) {
    const reason = stringField(data, "reason", "failure_reason", "message") ?? envelope.message;
    return {
      state: "failed",
      providerStatus: word,
      failureCode: "FAILED",
      failureMessage: reason && !/^success/i.test(reason) ? `Muda reports the payout failed: ${reason}` : "Muda reports the payout failed",
      ...base,
    };
  }
  return { state: "unknown", providerStatus: word, failureMessage: `Muda reports a status the desk does not know (${word})`, ...base };
}

/**
 * The fee and total Muda booked, added to a paid payout's result (see
 * ./booked.ts). Only a paid payout's figures are taken: while in flight Muda
 * has only reserved them, and for a failed payout its docs do not say whether
 * the fee is kept or refunded, so the desk says "not reported" rather than
 * record a fee that may have come back (a later answer never clears one).
 */
function withBookedMoney(result: ProviderResult | null, answerText: string): ProviderResult | null {
  if (!result || result.state !== "succeeded") return result;
  return { ...result, ...mudaBookedMoney(answerText) };
}

function isMudaNotFound(json: unknown): boolean {
  return isRecord(json) && json.status === 404 && "data" in json && json.data === null;
}

function suffix(message: string | undefined): string {
  return message ? `: ${message}` : "";
}

/** The sign-in's record without the access token it returned. */
function withoutToken(record: ProviderCallRecord): ProviderCallRecord {
  const response = record.response;
  if (isRecord(response) && isRecord(response.data) && "access_token" in response.data) {
    return { ...record, response: { ...response, data: { ...response.data, access_token: "[redacted]" } } };
  }
  if (typeof response === "string" && response.includes("access_token")) return { ...record, response: "[redacted]" };
  return record;
}
