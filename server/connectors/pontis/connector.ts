// PontisGlobe connector: USDT-funded bank payouts.
//
// Every request is AES-256-GCM encrypted and HMAC-signed (./crypto.ts) and,
// except the login, carries a session JWT (./session.ts). Pontis knows a
// payout by our payout id as `idempotency_key` on the send, but answers
// status queries only by its own `transaction_id`; re-sending the same
// idempotency_key is documented to return the original transaction_id, so
// that is how a payout whose send went unanswered is found again.
//
// As everywhere in the desk: when we cannot know whether Pontis acted, the
// answer is "unknown", never "failed".
import { createHttpCaller, truncate, type CallOutcome } from "../http";
import type {
  CallbackInput,
  CallbackResult,
  ConnectionConfig,
  ConnectorDeps,
  FieldIssue,
  PayoutConnector,
  PayoutRequest,
  ProviderResult,
  RecipientField,
} from "../types";
import { toDecimalString } from "@/server/domain/money";
import {
  callbackSignature,
  decodeKey,
  decryptPayload,
  encryptPayload,
  hexEquals,
  looksEncrypted,
  MAX_BODY_BYTES,
  requestSignature,
} from "./crypto";
import { pontisBookedMoney } from "./booked";
import { channelCode, findMethod, resolvePaymentMethods, PAYMENT_METHODS, type PaymentMethod } from "./methods";
import { cachedToken, forgetToken, refreshMarginMs, sessionKey, singleFlight, storeToken } from "./session";
import { codeForStatus, describeError, isRecord, mapTransactionStatus, readEnvelope, type Envelope, type SendPayoutPayload } from "./wire";

export const PONTIS_PATHS = {
  login: "/api/v1/user/login",
  send: "/api/v1/payouts/sendPayoutRequest",
  status: "/api/v1/payouts/getPayoutStatus",
} as const;

/** The desk's payout currency for Pontis: payouts are funded from the USDT wallet. */
export const SOURCE_CURRENCY = "USDT";

/** Callbacks older (or further in the future) than this are refused. */
const CALLBACK_WINDOW_SECONDS = 300;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Codes Pontis says to simply retry; nothing was created. */
const RETRY_NOW_CODES = new Set(["rate_moved", "quote_expired"]);

export interface PontisConnectorDeps extends ConnectorDeps {
  /**
   * Waits before the quick re-sends (same idempotency_key) of a send answered
   * 5xx or 429 (default 1 s, 2 s). Beyond them the outcome is "unknown" and
   * the desk's status polling carries on with its own, longer backoff.
   */
  retryDelaysMs?: number[];
}

/**
 * Credentials (all strings):
 * - apiKey: sent as x-api-key.
 * - encryptionKey: base64url of the 32-byte AES-256-GCM key.
 * - hmacKey: base64url of the 32-byte HMAC-SHA256 key (requests and callbacks).
 * - email, password: the API user that logs in for session tokens.
 * - defaultPaymentMethod (optional): channel used when a payout has none
 *   ("PH-bank_local", or a bare method such as "imps").
 * - defaultCountry (optional): ISO alpha-2 deciding a bare method's country.
 * - paymentNetwork (optional): sent as payment_network on every payout.
 * - sourceOfFunds (optional): sent as source_of_funds on every payout.
 * - paymentMethods (optional): JSON list replacing the built-in channel table (see methods.ts).
 */
export function createPontisConnector(config: ConnectionConfig, deps: PontisConnectorDeps = {}): PayoutConnector {
  const baseUrl = config.baseUrl.replace(/\/+$/, "");
  const credentials = config.credentials;
  const now = deps.now ?? (() => new Date());
  const retryDelays = deps.retryDelaysMs ?? [1000, 2000];

  // Configuration problems are reported where they matter (validate, submit,
  // testConnection) rather than thrown, so pages listing channels still work.
  const problems: string[] = [];
  let encKey: Buffer | null = null;
  let hmacKey: Buffer | null = null;
  try {
    encKey = decodeKey(credentials.encryptionKey, "encryptionKey");
  } catch (error) {
    problems.push((error as Error).message);
  }
  try {
    hmacKey = decodeKey(credentials.hmacKey, "hmacKey");
  } catch (error) {
    problems.push((error as Error).message);
  }
  for (const name of ["apiKey", "email", "password"] as const) {
    if (!credentials[name]) problems.push(`${name} is missing`);
  }
  let table: PaymentMethod[];
  try {
    table = resolvePaymentMethods(credentials.paymentMethods);
  } catch (error) {
    table = [...PAYMENT_METHODS];
    problems.push(`paymentMethods is invalid: ${(error as Error).message}`);
  }
  const configProblem = problems.length > 0 ? `The PontisGlobe connection is misconfigured: ${problems.join("; ")}` : null;
  const session = sessionKey(baseUrl, credentials.apiKey ?? "", credentials.email ?? "");

  const apiCall = createHttpCaller({ deps, secretHeaders: ["x-api-key"] });
  // The login's answer holds the session token: it is kept off the timeline.
  const loginCall = createHttpCaller({
    deps: { ...deps, onCall: (record) => deps.onCall?.({ ...record, ...(record.response !== undefined ? { response: withoutToken(record.response) } : {}) }) },
    secretHeaders: ["x-api-key"],
  });

  // ------------------------------------------------------------ transport

  type Answer =
    | { kind: "not_sent"; message: string }
    | { kind: "login_failed"; definitive: boolean; message: string }
    | { kind: "transport"; error: string; timedOut: boolean }
    | { kind: "answer"; status: number; envelope: Envelope; raw: unknown; retryAfterMs: number | null };

  /** Encrypts, signs and posts one payload. */
  async function post(operation: string, path: string, payload: unknown, record: unknown, token: string | null, payoutId?: string): Promise<Answer> {
    if (configProblem || !encKey || !hmacKey) return { kind: "not_sent", message: configProblem ?? "keys missing" };
    const enc = encryptPayload(payload, encKey);
    const body = JSON.stringify({ data: enc });
    if (Buffer.byteLength(body, "utf8") > MAX_BODY_BYTES) {
      return { kind: "not_sent", message: `the request would be ${Buffer.byteLength(body, "utf8")} bytes, over PontisGlobe's 64 KB limit` };
    }
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "x-api-key": credentials.apiKey!,
      "x-timestamp": timestamp,
      "x-signature": requestSignature(timestamp, enc, hmacKey),
    };
    if (token) headers.Authorization = `Bearer ${token}`;
    const outcome: CallOutcome = await (token === null ? loginCall : apiCall)({
      operation,
      method: "POST",
      url: `${baseUrl}${path}`,
      headers,
      body,
      recordBody: record,
      ...(payoutId ? { payoutId } : {}),
    });
    if (outcome.kind === "error") return { kind: "transport", error: outcome.error, timedOut: outcome.timedOut };
    const envelope = readEnvelope(outcome.json, outcome.jsonOk, encKey);
    return {
      kind: "answer",
      status: outcome.status,
      envelope,
      raw: envelope.kind === "unreadable" ? (outcome.jsonOk ? outcome.json : truncate(outcome.text)) : envelope.body,
      retryAfterMs: retryAfter(outcome.headers.get("retry-after")),
    };
  }

  type Login = { ok: true; token: string; expiresIn: number } | { ok: false; definitive: boolean; message: string };

  async function login(): Promise<Login> {
    const answer = await post("login", PONTIS_PATHS.login, { email: credentials.email, password: credentials.password }, { email: credentials.email }, null);
    if (answer.kind === "not_sent") return { ok: false, definitive: true, message: answer.message };
    if (answer.kind === "login_failed") return { ok: false, definitive: answer.definitive, message: answer.message };
    if (answer.kind === "transport") return { ok: false, definitive: false, message: `PontisGlobe did not answer the login (${answer.error})` };
    const { envelope, status } = answer;
    if (envelope.kind === "ok" && status >= 200 && status < 300) {
      const token = envelope.data.access_token;
      const expiresIn = envelope.data.expires_in;
      if (typeof token === "string" && token !== "" && typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0) {
        const at = now().getTime();
        storeToken(session, { token, expiresAtMs: at + expiresIn * 1000, refreshAtMs: at + expiresIn * 1000 - refreshMarginMs(expiresIn) });
        return { ok: true, token, expiresIn };
      }
      return { ok: false, definitive: false, message: "PontisGlobe's login answer held no usable access_token / expires_in" };
    }
    if (envelope.kind === "ok") return { ok: false, definitive: false, message: `PontisGlobe answered the login with HTTP ${status}` };
    if (envelope.kind === "error") {
      const definitive = status >= 400 && status < 500 && status !== 429;
      return { ok: false, definitive, message: `PontisGlobe refused the login (HTTP ${status}): ${describeError(envelope.code, envelope.message)}` };
    }
    return { ok: false, definitive: false, message: `PontisGlobe's login answer (HTTP ${status}) could not be read: ${envelope.reason}` };
  }

  async function sessionToken(force: boolean): Promise<Login> {
    if (!force) {
      const cached = cachedToken(session, now().getTime());
      if (cached) return { ok: true, token: cached.token, expiresIn: Math.round((cached.expiresAtMs - now().getTime()) / 1000) };
    }
    return singleFlight(session, login);
  }

  /**
   * An authenticated post. A 401 for the session token (jwt_expired, or
   * unauthorized: "bad/missing JWT — re-login") means Pontis did not act on
   * the request, so it is sent once more after a fresh login.
   */
  async function authedPost(operation: string, path: string, payload: unknown, record: unknown, payoutId?: string): Promise<Answer> {
    let login = await sessionToken(false);
    if (!login.ok) return { kind: "login_failed", definitive: login.definitive, message: login.message };
    const first = await post(operation, path, payload, record, login.token, payoutId);
    if (!(first.kind === "answer" && first.status === 401 && first.envelope.kind === "error" && ["jwt_expired", "unauthorized"].includes(first.envelope.code))) {
      return first;
    }
    forgetToken(session, login.token);
    login = await sessionToken(true);
    if (!login.ok) return { kind: "login_failed", definitive: login.definitive, message: login.message };
    return post(operation, path, payload, record, login.token, payoutId);
  }

  // ------------------------------------------------------------ payouts

  function methodFor(request: Pick<PayoutRequest, "channel" | "recipient">): PaymentMethod | null {
    const channel = request.channel || credentials.defaultPaymentMethod || "";
    if (!channel) return null;
    return findMethod(table, channel, request.recipient.country || credentials.defaultCountry || null);
  }

  function channelProblem(channel: string, country: string | null): string {
    const sameMethod = table.filter((m) => m.method === channel);
    if (sameMethod.length === 0) return `${channel} is not a payment method this PontisGlobe connection pays through`;
    const codes = sameMethod.map(channelCode).join(", ");
    return country
      ? `${channel} does not pay to ${country} on this connection (it pays through ${codes})`
      : `${channel} exists in several countries: choose the country's channel (${codes})`;
  }

  function buildPayload(request: PayoutRequest, method: PaymentMethod): SendPayoutPayload {
    const details: Record<string, string> = { name: (request.recipient.name ?? "").trim(), account_number: (request.recipient.accountNumber ?? "").trim() };
    for (const field of method.fields) {
      const value = request.recipient.details?.[field.key]?.trim();
      if (value) details[field.key] = value;
    }
    return {
      idempotency_key: request.payoutId,
      country_code: method.country,
      currency_code: method.currency,
      payment_method: method.method,
      ...(credentials.paymentNetwork ? { payment_network: credentials.paymentNetwork } : {}),
      source_amount: toDecimalString(request.amountMinor, SOURCE_CURRENCY),
      source_currency: SOURCE_CURRENCY,
      recipient_details: details,
      ...(request.description.trim() !== "" ? { purpose_of_payment: request.description } : {}),
      ...(credentials.sourceOfFunds ? { source_of_funds: credentials.sourceOfFunds } : {}),
    };
  }

  function validate(request: PayoutRequest): FieldIssue[] {
    const issues: FieldIssue[] = [];
    if (configProblem) issues.push({ field: "channel", message: configProblem });
    if (request.currency !== SOURCE_CURRENCY) {
      issues.push({ field: "currency", message: `PontisGlobe pays out of a USDT wallet: the payout amount must be in USDT, not ${request.currency}` });
    }
    if (request.amountMinor <= 0n) issues.push({ field: "amount", message: "The amount must be more than zero" });

    const channel = request.channel || credentials.defaultPaymentMethod || "";
    const method = methodFor(request);
    if (!channel) {
      issues.push({ field: "channel", message: "Choose the payment method (country and bank network) PontisGlobe should pay through" });
    } else if (!method) {
      issues.push({
        field: "channel",
        message: channelProblem(channel, request.recipient.country || credentials.defaultCountry || null),
      });
    } else if (request.recipient.country && request.recipient.country.toUpperCase() !== method.country) {
      issues.push({ field: "channel", message: `${method.label} pays to ${method.country} accounts, but the recipient's country is ${request.recipient.country}` });
    }

    if (!request.recipient.name || request.recipient.name.trim() === "") {
      issues.push({ field: "recipientName", message: "PontisGlobe needs the recipient's name (recipient_details.name is required)" });
    }
    const account = (request.recipient.accountNumber ?? "").trim();
    if (account === "") {
      issues.push({ field: "accountNumber", message: "Enter the recipient's bank account number" });
    } else if (method?.accountNumber && !new RegExp(method.accountNumber.regex).test(account)) {
      issues.push({ field: "accountNumber", message: `${method.label}: ${method.accountNumber.rule}` });
    }
    for (const field of method?.fields ?? []) {
      const value = request.recipient.details?.[field.key]?.trim() ?? "";
      if (value === "") {
        if (field.required) issues.push({ field: field.key, message: `${method!.label} needs the recipient's ${field.label}` });
      } else if (field.pattern && !new RegExp(field.pattern.regex).test(value)) {
        issues.push({ field: field.key, message: `${field.label}: ${field.pattern.rule}` });
      }
    }

    if (issues.length === 0 && method && encKey) {
      // The encrypted body grows by a third; Pontis refuses bodies over 64 KB.
      const size = Buffer.byteLength(JSON.stringify({ data: encryptPayload(buildPayload(request, method), encKey) }), "utf8");
      if (size > MAX_BODY_BYTES) {
        issues.push({ field: "description", message: `The payout is too large for PontisGlobe's 64 KB request limit (${size} bytes): shorten the description` });
      }
    }
    return issues;
  }

  /** What a send answer means. `lookup`: the send was made only to learn the transaction of an earlier one. */
  function interpretSend(answer: Answer, lookup: boolean): ProviderResult {
    const unknown = (message: string, extra: Partial<ProviderResult> = {}): ProviderResult => ({ state: "unknown", failureMessage: message, ...extra });
    switch (answer.kind) {
      case "not_sent":
        return lookup ? unknown(`Could not ask PontisGlobe: ${answer.message}`) : { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to PontisGlobe: ${answer.message}` };
      case "login_failed":
        return lookup || !answer.definitive
          ? unknown(`${answer.message}; ${lookup ? "the payout's status could not be checked" : "the payout was not sent, its status will be checked"}`)
          : { state: "failed", failureCode: "LOGIN_REFUSED", failureMessage: `${answer.message}. The payout was not sent; check the connection's credentials.` };
      case "transport":
        return unknown(`No answer from PontisGlobe (${answer.error}); the payout may or may not have been created, its status will be checked`);
    }
    const { status, envelope, raw } = answer;
    if (envelope.kind === "unreadable") {
      return unknown(`PontisGlobe's answer (HTTP ${status}) could not be read (${envelope.reason}); its status will be checked`, { providerStatus: `HTTP ${status}`, raw });
    }
    if (envelope.kind === "ok") {
      const transactionId = envelope.data.transaction_id;
      if (status < 200 || status >= 300 || typeof transactionId !== "string" || transactionId === "") {
        return unknown(`PontisGlobe's answer (HTTP ${status}) named no transaction; its status will be checked`, { providerStatus: `HTTP ${status}`, raw });
      }
      const word = typeof envelope.data.status === "string" ? envelope.data.status : "";
      return mapTransactionStatus(word, stringOr(envelope.data.status_message), transactionId, raw);
    }
    const { code, message } = envelope;
    const words = describeError(code, message);
    const refused = (): ProviderResult => ({
      state: "failed",
      providerStatus: `HTTP ${status}`,
      failureCode: code.toUpperCase(),
      failureMessage: `${words}. Nothing was created at PontisGlobe.`,
      raw,
    });
    if (status >= 500 || status === 429) {
      return unknown(`${words} (HTTP ${status}); the payout may or may not have been created, its status will be checked`, { providerStatus: `HTTP ${status}`, raw });
    }
    if (status === 400 || status === 413 || status === 422) return refused();
    if (status === 409 && code === "wallet_frozen") return refused();
    if ((status === 401 || status === 403) && !lookup) return refused();
    // 401/403 on a lookup say nothing about the payout; quote_used (we send
    // no quote, so it can only be about an earlier use), 404 on a send and
    // anything undocumented: we cannot tell what exists.
    return unknown(`${words} (HTTP ${status}); the desk cannot tell whether the payout exists`, { providerStatus: `HTTP ${status}`, raw });
  }

  /** Sends (or re-sends, with the same idempotency_key) the payout, with a couple of quick retries on 5xx/429. */
  async function send(request: PayoutRequest, method: PaymentMethod, operation: string): Promise<Answer> {
    const payload = buildPayload(request, method);
    let retriedNow = false;
    for (let attempt = 0; ; attempt++) {
      const answer = await authedPost(operation, PONTIS_PATHS.send, payload, payload, request.payoutId);
      if (answer.kind !== "answer") return answer;
      const code = answer.envelope.kind === "error" ? answer.envelope.code : "";
      if (answer.status === 422 && RETRY_NOW_CODES.has(code) && !retriedNow) {
        // "retry": the rate moved under a quote Pontis made for us; nothing was created.
        retriedNow = true;
        continue;
      }
      if ((answer.status >= 500 || answer.status === 429) && attempt < retryDelays.length) {
        const wait = Math.max(retryDelays[attempt]!, answer.retryAfterMs ?? 0);
        // A long Retry-After is left to the desk's status polling.
        if (wait > Math.max(5000, retryDelays[attempt]!)) return answer;
        await sleep(wait);
        continue;
      }
      return answer;
    }
  }

  async function submit(request: PayoutRequest): Promise<ProviderResult> {
    const issues = validate(request);
    if (issues.length > 0) {
      // Nothing left the desk: a final, honest "failed".
      return { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to PontisGlobe: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}` };
    }
    const result = interpretSend(await send(request, methodFor(request)!, "submit"), false);
    if (result.state === "failed" && request.providerReference) {
      // An earlier attempt is known to exist: its status is the truth, not this refusal.
      const current = await queryStatus(request.providerReference, request.payoutId);
      if (current.state !== "not_found") return current.state === "unknown" ? { ...current, failureMessage: `${result.failureMessage} — but an earlier attempt exists and its status could not be read` } : current;
    }
    return result;
  }

  // ------------------------------------------------------------ status

  async function queryStatus(transactionId: string, payoutId: string): Promise<ProviderResult> {
    const payload = { transaction_id: transactionId };
    const answer = await authedPost("status", PONTIS_PATHS.status, payload, payload, payoutId);
    const base = { providerReference: transactionId };
    switch (answer.kind) {
      case "not_sent":
      case "login_failed":
        return { state: "unknown", ...base, failureMessage: `Could not ask PontisGlobe: ${answer.message}` };
      case "transport":
        return { state: "unknown", ...base, failureMessage: `PontisGlobe did not answer the status query (${answer.error})` };
    }
    const { status, envelope, raw } = answer;
    if (envelope.kind === "ok" && status === 200) {
      const data = envelope.data;
      if (typeof data.status !== "string" || (data.transaction_id !== undefined && data.transaction_id !== transactionId)) {
        return { state: "unknown", ...base, failureMessage: "PontisGlobe's status answer did not describe this transaction", raw };
      }
      return withBookedMoney(mapTransactionStatus(data.status, stringOr(data.status_message), transactionId, raw), data);
    }
    if (envelope.kind === "error" && status === 404 && envelope.code === "not_found") {
      return { state: "not_found", ...base, providerStatus: "not_found", failureMessage: describeError(envelope.code, envelope.message), raw };
    }
    const words = envelope.kind === "error" ? describeError(envelope.code, envelope.message) : envelope.kind === "unreadable" ? `unreadable answer: ${envelope.reason}` : "unexpected answer";
    return { state: "unknown", ...base, providerStatus: `HTTP ${status}`, failureMessage: `PontisGlobe answered the status query with HTTP ${status} (${words})`, raw };
  }

  /**
   * Pontis answers status by transaction_id only. When the desk does not know
   * it (the send went unanswered), the payout is sent again with the same
   * idempotency_key, which Pontis documents to return the original
   * transaction_id instead of creating another — and creates it once if the
   * first send never arrived. That needs the whole payout: pass the full
   * PayoutRequest to status() (a Pick with only the ids gets "unknown").
   */
  async function status(request: Pick<PayoutRequest, "payoutId" | "providerReference">): Promise<ProviderResult> {
    if (request.providerReference) return queryStatus(request.providerReference, request.payoutId);
    if (!isFullRequest(request)) {
      return {
        state: "unknown",
        failureMessage: "PontisGlobe answers status by its transaction id, which the desk does not know yet; the full payout is needed to look it up by re-sending its idempotency key",
      };
    }
    const method = methodFor(request);
    if (!method || validate(request).length > 0) {
      return { state: "unknown", failureMessage: "The payout can no longer be rebuilt as it was sent (its channel or fields are invalid now), so its PontisGlobe transaction cannot be looked up" };
    }
    const found = interpretSend(await send(request, method, "lookup"), true);
    if (!found.providerReference || found.state === "unknown") return found;
    // The send answer may only echo the original status: ask for the current one.
    const current = await queryStatus(found.providerReference, request.payoutId);
    return current.state === "unknown" || current.state === "not_found" ? found : current;
  }

  // ------------------------------------------------------------ callbacks

  async function parseCallback(input: CallbackInput): Promise<CallbackResult> {
    if (!hmacKey) return { verified: false, reason: configProblem ?? "no HMAC key" };
    const timestamp = input.headers.get("x-pontis-timestamp")?.trim() ?? "";
    const signature = input.headers.get("x-pontis-signature")?.trim() ?? "";
    if (!timestamp || !signature) return { verified: false, reason: "The callback carries no x-pontis-timestamp / x-pontis-signature" };
    if (!/^\d{1,12}$/.test(timestamp)) return { verified: false, reason: "x-pontis-timestamp is not a unix time in seconds" };
    const expected = callbackSignature(timestamp, input.rawBody, hmacKey);
    if (!signature.toLowerCase().startsWith("sha256=") || !hexEquals(signature.slice(7), expected.slice(7))) {
      return { verified: false, reason: "The callback signature does not match (wrong HMAC key, or the body was altered)" };
    }
    const age = Math.floor(now().getTime() / 1000) - Number(timestamp);
    if (age > CALLBACK_WINDOW_SECONDS) return { verified: false, reason: `The callback is stale (signed ${age} s ago, more than ${CALLBACK_WINDOW_SECONDS} s)` };
    if (age < -CALLBACK_WINDOW_SECONDS) return { verified: false, reason: `The callback is dated ${-age} s in the future` };

    let body: unknown;
    try {
      body = JSON.parse(input.rawBody);
      // Documented plain; an encrypted {"data": enc} body is read too.
      if (isRecord(body) && looksEncrypted(body.data) && body.transaction_id === undefined && encKey) body = decryptPayload(body.data, encKey);
    } catch (error) {
      return { verified: false, reason: `The callback body cannot be read (${(error as Error).message})` };
    }
    if (!isRecord(body) || typeof body.transaction_id !== "string" || body.transaction_id === "" || typeof body.status !== "string") {
      return { verified: false, reason: "The callback is not a PontisGlobe transaction status" };
    }
    // The documented body has no payout id: the desk finds the payout by
    // providerReference. An idempotency_key, if Pontis echoes one, is used too.
    const payoutId = typeof body.idempotency_key === "string" && UUID.test(body.idempotency_key) ? body.idempotency_key.toLowerCase() : undefined;
    return {
      verified: true,
      ...(payoutId ? { payoutId } : {}),
      providerReference: body.transaction_id,
      // From signed content only. x-pontis-event-id is outside the HMAC, so a
      // replay inside the window could carry any event id: keyed on it, the
      // same signed body counted as new each time. The same transaction in
      // the same status is the same fact, whoever redelivers it.
      dedupeKey: `pontis:${body.transaction_id}:${body.status}`,
      result: withBookedMoney(mapTransactionStatus(body.status, stringOr(body.status_message), body.transaction_id, body), body),
    };
  }

  // ------------------------------------------------------------ admin

  async function testConnection(): Promise<{ ok: boolean; message: string }> {
    if (configProblem) return { ok: false, message: configProblem };
    const result = await sessionToken(true);
    return result.ok
      ? { ok: true, message: `Logged in to PontisGlobe as ${credentials.email}; the session lasts ${result.expiresIn} s` }
      : { ok: false, message: result.message };
  }

  const recipientFields = (): RecipientField[] => {
    const seen = new Map<string, RecipientField & { channels: string[]; requiredFor: string[] }>();
    for (const m of table) {
      for (const f of m.fields) {
        const entry = seen.get(f.key);
        const where = `${m.label}${f.required ? " (required)" : ""}`;
        const code = channelCode(m);
        if (entry) {
          entry.hint = `${entry.hint}; ${where}`;
          entry.channels.push(code);
          if (f.required) entry.requiredFor.push(code);
        } else {
          seen.set(f.key, { key: f.key, label: f.label, required: false, hint: `Used by ${where}`, channels: [code], requiredFor: f.required ? [code] : [] });
        }
      }
    }
    return [...seen.values()];
  };

  return {
    provider: "pontis",
    capabilities: { statusQuery: true, callbacks: "signed", balances: false, statements: false },
    channels: () => table.map((m) => ({ code: channelCode(m), label: m.label, country: m.country, currency: m.currency })),
    recipientKind: "bank_account",
    recipientFields,
    // The amount is the USDT the payout is funded with; the channel's currency is what the recipient receives.
    payoutCurrencies: () => ["USDT"],
    validate,
    submit,
    status,
    parseCallback,
    testConnection,
  };
}

// ------------------------------------------------------------ helpers

/**
 * The amounts an answer carries (see ./booked.ts: none, against Pontis as
 * documented), taken for a payout that was paid (completed, or reversed
 * after completing): the conversion happened then. For a payout in flight or
 * not paid nothing is taken, so a figure can never outlive a failure (a later
 * answer never clears one).
 */
function withBookedMoney(result: ProviderResult, data: Record<string, unknown>): ProviderResult {
  if (result.state !== "succeeded" && result.state !== "reversed") return result;
  return { ...result, ...pontisBookedMoney(data) };
}

function isFullRequest(request: Pick<PayoutRequest, "payoutId" | "providerReference">): request is PayoutRequest {
  const r = request as Partial<PayoutRequest>;
  return typeof r.amountMinor === "bigint" && typeof r.currency === "string" && isRecord(r.recipient) && typeof r.description === "string";
}

/** A login answer as recorded: access_token replaced. */
function withoutToken(response: unknown): unknown {
  if (isRecord(response) && isRecord(response.data) && "access_token" in response.data) {
    return { ...response, data: { ...response.data, access_token: "[redacted]" } };
  }
  return response;
}

function stringOr(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function retryAfter(value: string | null): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
