// Paytota Mobile Money V2 payouts connector.
//
// A Paytota payout takes two calls: initiate (POST /api/v1/payouts/, which
// creates a payout object in status "initialized" with an execution_url)
// and execute (POST {execution_url}, which sends the money). The rule this
// file is built around: an initialized payout that was never executed is
// executed, never created again. So submit() first looks for the payout it
// may already have created (by Paytota's id when the desk knows it, else by
// our reference), and only initiates when Paytota positively has none.
//
// Status mapping, and why "initialized" reads as not_found: the desk resends
// a payout only when status() says not_found, and a resend is a submit()
// call, which for an existing initialized payout executes that same payout.
// Reporting "initialized" as not_found is therefore how an interrupted
// submit (initiated, never executed) gets finished, and it is safe only
// because submit() never initiates when a payout for this reference exists.
import { createHash, type KeyObject } from "node:crypto";
import { createHttpCaller, truncate, type CallOutcome } from "../http";
import type {
  CallbackInput,
  CallbackResult,
  ConnectionConfig,
  ConnectorDeps,
  FieldIssue,
  PayoutConnector,
  PayoutRequest,
  ProviderBalance,
  ProviderResult,
  RecipientField,
  StatementApi,
  StatementRequest,
  StatementStatus,
} from "../types";
import { isKnownCurrency } from "@/server/domain/money";
import { importPublicKey, readPublicKeyAnswer, SIGNATURE_HEADER, verifyBody } from "./signature";
import {
  countryOfMsisdn,
  executeAnswerSchema,
  isRecord,
  parseJsonLossless,
  payoutError,
  payoutObjectSchema,
  requestAmount,
  responseAmountMinor,
  statementSchema,
  type AmountUnits,
  type InitiateBody,
  type PayoutObject,
  type StatementObject,
} from "./wire";

/** Never fetch the public key again because of a bad signature more often than this (forged callbacks must not make us hammer Paytota). */
export const KEY_REFRESH_MIN_INTERVAL_MS = 30_000;
const DEFAULT_CURRENCIES = ["UGX", "KES", "TZS", "RWF", "ZMW", "USD"];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MSISDN = /^[1-9]\d{8,14}$/;
const DESCRIPTION_MAX = 255;

// ---------------------------------------------------------------- key cache

/**
 * Paytota's callback public key, per connection, shared by every connector
 * instance in the process (the desk opens a connector per request). Keyed by
 * base URL and a hash of the secret key: two companies on one base URL may
 * have different keys.
 */
interface CachedKey {
  key: KeyObject | null;
  fetchedAt: number;
  loading: Promise<KeyObject | null> | null;
}
const publicKeyCache = new Map<string, CachedKey>();

/** Forgets every cached Paytota public key (tests; key rotation by hand). */
export function clearPaytotaKeyCache(): void {
  publicKeyCache.clear();
}

// ---------------------------------------------------------------- settings

/**
 * Credentials (all strings):
 * - secretKey (required): sent as `Authorization: Bearer`.
 * - brandId (required): the `brand_id` of every payout.
 * - clientEmail: the `client.email` Paytota requires, when the payout has no
 *   recipient email (recipient.details.email).
 * - lookupByReference: "true" (default) or "false". Paytota documents no
 *   lookup by reference; with "true" the connector asks
 *   GET /api/v1/payouts/?reference=<payout id> before creating a payout and to
 *   find a payout whose Paytota id was never recorded, and trusts the answer
 *   only when every listed payout carries our reference. With "false",
 *   a payout whose Paytota id is unknown can never be resolved automatically
 *   (it stays unknown for a person), and is never created twice.
 * - amountUnits: "minor" (default) or "major": how Paytota's integer amounts
 *   in answers (balances, payout objects) are read. See wire.ts.
 * - webhookPublicKeyPem: the public key of a webhook configured in Paytota's
 *   dashboard, tried before the key from GET /api/v1/public_key/.
 * - payoutType: the execute call's payout_type (default "mobile").
 * - currencies: comma-separated currencies this connection pays in
 *   (default UGX,KES,TZS,RWF,ZMW,USD).
 */
export interface PaytotaSettings {
  secretKey: string;
  brandId: string;
  clientEmail: string | null;
  lookupByReference: boolean;
  amountUnits: AmountUnits;
  webhookPublicKey: KeyObject | null;
  webhookPublicKeyProblem: string | null;
  payoutType: string;
  currencies: string[];
}

export function readSettings(credentials: Record<string, string>): PaytotaSettings {
  const pem = credentials.webhookPublicKeyPem?.trim();
  const webhookPublicKey = pem ? importPublicKey(pem) : null;
  return {
    secretKey: credentials.secretKey ?? "",
    brandId: credentials.brandId ?? "",
    clientEmail: credentials.clientEmail?.trim() || null,
    lookupByReference: (credentials.lookupByReference ?? "true").trim().toLowerCase() !== "false",
    amountUnits: credentials.amountUnits?.trim().toLowerCase() === "major" ? "major" : "minor",
    webhookPublicKey,
    webhookPublicKeyProblem: pem && !webhookPublicKey ? "webhookPublicKeyPem is not an RSA public key" : null,
    payoutType: credentials.payoutType?.trim() || "mobile",
    currencies: (credentials.currencies?.trim() ? credentials.currencies.split(",") : DEFAULT_CURRENCIES)
      .map((c) => c.trim().toUpperCase())
      .filter(Boolean),
  };
}

export function createPaytotaConnector(config: ConnectionConfig, deps: ConnectorDeps = {}): PayoutConnector {
  const baseUrl = config.baseUrl.replace(/\/+$/, "");
  const settings = readSettings(config.credentials);
  const now = deps.now ?? (() => new Date());
  const cacheKey = `${baseUrl}#${createHash("sha256").update(settings.secretKey).digest("hex").slice(0, 16)}`;

  /** Paytota's API, authenticated. */
  const api = createHttpCaller({
    deps,
    headers: (): Record<string, string> => (settings.secretKey ? { Authorization: `Bearer ${settings.secretKey}` } : {}),
  });
  /**
   * URLs Paytota hands out (execution_url, statement download_url): called
   * without the secret key. The seed's execute call takes no Authorization,
   * and a pre-signed download URL must not receive it.
   */
  const open = createHttpCaller({ deps });

  const url = (path: string) => `${baseUrl}${path}`;

  // ------------------------------------------------------------ validate

  function recipientEmail(request: PayoutRequest): string | null {
    return request.recipient.details?.email?.trim() || settings.clientEmail;
  }

  function recipientCountry(request: PayoutRequest): string | null {
    const given = request.recipient.country?.trim().toUpperCase();
    if (given) return given;
    return request.recipient.phone ? countryOfMsisdn(request.recipient.phone) : null;
  }

  function validate(request: PayoutRequest): FieldIssue[] {
    const issues: FieldIssue[] = [];
    if (!settings.secretKey || !settings.brandId) {
      issues.push({ field: "channel", message: "This Paytota connection needs its secretKey and brandId credentials" });
    }

    if (!isKnownCurrency(request.currency)) {
      issues.push({ field: "currency", message: `${request.currency} is not a currency code` });
    } else if (!settings.currencies.includes(request.currency)) {
      issues.push({ field: "currency", message: `Paytota pays in ${settings.currencies.join(", ")} on this connection, not ${request.currency}` });
    }
    if (request.amountMinor <= 0n) issues.push({ field: "amount", message: "The amount must be more than zero" });

    const phone = request.recipient.phone ?? "";
    if (phone === "") {
      issues.push({ field: "recipientPhone", message: "Paytota pays mobile-money numbers: enter the recipient's phone number" });
    } else if (!MSISDN.test(phone)) {
      issues.push({
        field: "recipientPhone",
        message: "Paytota needs the number in international form, digits only, without '+' or a leading 0 (e.g. 256700123123)",
      });
    } else {
      const byPrefix = countryOfMsisdn(phone);
      const given = request.recipient.country?.trim().toUpperCase();
      if (!byPrefix && !given) {
        issues.push({ field: "recipientPhone", message: "The country cannot be told from this number's dialling code: give the recipient's country" });
      } else if (byPrefix && given && byPrefix !== given) {
        issues.push({ field: "recipientPhone", message: `This is a ${byPrefix} number, but the recipient's country is ${given}` });
      }
    }

    const email = recipientEmail(request);
    if (!email) {
      issues.push({ field: "email", message: "Paytota requires a client email: enter the recipient's email or set the connection's clientEmail" });
    } else if (!EMAIL.test(email)) {
      issues.push({ field: "email", message: `Paytota requires a valid client email ("${email}" is not one)` });
    }

    const description = request.description.trim();
    if (description === "") issues.push({ field: "description", message: "Paytota requires a payment description" });
    else if (request.description.length > DESCRIPTION_MAX) {
      issues.push({ field: "description", message: `Paytota takes a description of at most ${DESCRIPTION_MAX} characters (this one has ${request.description.length})` });
    }
    return issues;
  }

  function initiateBody(request: PayoutRequest): InitiateBody {
    const name = request.recipient.name?.trim();
    return {
      client: {
        email: recipientEmail(request)!,
        phone: request.recipient.phone!,
        country: recipientCountry(request)!,
        ...(name ? { full_name: name } : {}),
      },
      payment: { currency: request.currency, amount: requestAmount(request.amountMinor, request.currency), description: request.description },
      reference: request.payoutId,
      brand_id: settings.brandId,
    };
  }

  // ------------------------------------------------------------ reading payouts

  type Read = { ok: true; payout: PayoutObject } | { ok: false; notFound: boolean; result: ProviderResult };

  /** GET /api/v1/payouts/{id}/ */
  async function getPayout(id: string, payoutId: string): Promise<Read> {
    const outcome = await api({ operation: "status", method: "GET", url: url(`/api/v1/payouts/${encodeURIComponent(id)}/`), payoutId });
    const base = { providerReference: id };
    if (outcome.kind === "error") {
      return { ok: false, notFound: false, result: { state: "unknown", ...base, failureMessage: `Paytota did not answer the status query: ${outcome.error}` } };
    }
    if (outcome.status === 404) {
      return {
        ok: false,
        notFound: true,
        result: {
          state: "unknown",
          ...base,
          providerStatus: "HTTP 404",
          failureMessage: `Paytota has no payout ${id}, although it gave this id for this payout earlier; check the connection's environment and keys`,
          raw: rawOf(outcome),
        },
      };
    }
    if (outcome.status !== 200) {
      return {
        ok: false,
        notFound: false,
        result: { state: "unknown", ...base, providerStatus: `HTTP ${outcome.status}`, failureMessage: `Paytota answered the status query with HTTP ${outcome.status}${errorSuffix(outcome)}`, raw: rawOf(outcome) },
      };
    }
    const parsed = outcome.jsonOk ? payoutObjectSchema.safeParse(outcome.json) : null;
    if (!parsed?.success) {
      return { ok: false, notFound: false, result: { state: "unknown", ...base, failureMessage: "Paytota's payout object could not be read", raw: rawOf(outcome) } };
    }
    if (parsed.data.id !== id) {
      return { ok: false, notFound: false, result: { state: "unknown", ...base, failureMessage: `Paytota answered with another payout (${parsed.data.id})`, raw: parsed.data } };
    }
    const mismatch = referenceMismatch(parsed.data, payoutId);
    if (mismatch) return { ok: false, notFound: false, result: mismatch };
    return { ok: true, payout: parsed.data };
  }

  type Lookup = { kind: "found"; payout: PayoutObject } | { kind: "none"; raw: unknown } | { kind: "unknown"; result: ProviderResult };

  /** GET /api/v1/payouts/?reference=<payout id>: trusted only when the filter was visibly applied. */
  async function lookup(payoutId: string): Promise<Lookup> {
    if (!settings.lookupByReference) {
      return {
        kind: "unknown",
        result: {
          state: "unknown",
          failureMessage: "Paytota's id for this payout is not known and lookup by reference is disabled on this connection; a person must check it in Paytota's dashboard",
        },
      };
    }
    const outcome = await api({
      operation: "lookup",
      method: "GET",
      url: url(`/api/v1/payouts/?reference=${encodeURIComponent(payoutId)}`),
      payoutId,
    });
    const unknown = (message: string, raw?: unknown): Lookup => ({ kind: "unknown", result: { state: "unknown", failureMessage: message, ...(raw !== undefined ? { raw } : {}) } });
    if (outcome.kind === "error") return unknown(`Paytota did not answer the lookup by reference (${outcome.error}); nothing was sent`);
    if (outcome.status !== 200) {
      return unknown(
        `Paytota answered the lookup by reference with HTTP ${outcome.status}${errorSuffix(outcome)}; it cannot confirm whether this payout exists${
          outcome.status === 404 || outcome.status === 405 ? " (if this Paytota account has no lookup by reference, set lookupByReference to false)" : ""
        }`,
        rawOf(outcome),
      );
    }
    const json = outcome.jsonOk ? outcome.json : undefined;
    const list = Array.isArray(json) ? json : isRecord(json) && Array.isArray(json.results) ? json.results : isRecord(json) && Array.isArray(json.data) ? json.data : null;
    if (!list) return unknown("Paytota's answer to the lookup by reference was not a list", rawOf(outcome));
    const payouts: PayoutObject[] = [];
    for (const item of list) {
      const parsed = payoutObjectSchema.safeParse(item);
      if (!parsed.success) return unknown("Paytota's lookup by reference listed an unreadable payout", json);
      payouts.push(parsed.data);
    }
    // A list that holds other references means the filter was ignored: its silence proves nothing.
    if (payouts.some((p) => !sameReference(p.reference, payoutId))) {
      return unknown("Paytota's lookup ignored the reference filter; it cannot confirm whether this payout exists (set lookupByReference to false)", json);
    }
    if (payouts.length === 0) {
      if (isRecord(json) && json.next) return unknown("Paytota's lookup by reference answered an empty page with more pages", json);
      return { kind: "none", raw: json };
    }
    if (payouts.length > 1) {
      return unknown(`Paytota holds ${payouts.length} payouts with this reference (${payouts.map((p) => `${p.id} ${p.status}`).join(", ")}); a person must check them`, json);
    }
    return { kind: "found", payout: payouts[0]! };
  }

  function referenceMismatch(payout: PayoutObject, payoutId: string): ProviderResult | null {
    if (payout.reference === undefined || payout.reference === null || payout.reference === "" || sameReference(payout.reference, payoutId)) return null;
    // Not this payout's: its id is not recorded as ours.
    return {
      state: "unknown",
      failureMessage: `Paytota's payout ${payout.id} (${payout.status}) carries reference ${payout.reference}, not this payout's id`,
      raw: payout,
    };
  }

  // ------------------------------------------------------------ status

  async function status(request: Pick<PayoutRequest, "payoutId" | "providerReference">): Promise<ProviderResult> {
    if (request.providerReference) {
      const read = await getPayout(request.providerReference, request.payoutId);
      return read.ok ? mapPayoutObject(read.payout) : read.result;
    }
    const found = await lookup(request.payoutId);
    if (found.kind === "unknown") return found.result;
    if (found.kind === "none") return { state: "not_found", failureMessage: "Paytota holds no payout with this reference", raw: found.raw };
    return mapPayoutObject(found.payout);
  }

  // ------------------------------------------------------------ submit

  async function submit(request: PayoutRequest): Promise<ProviderResult> {
    // The rules gate creating a payout only: one that already exists is finished whatever the settings say now.
    const issues = () => validate(request);
    if (!request.providerReference && !settings.lookupByReference && issues().length > 0) return notSent(issues());

    let payout: PayoutObject;
    if (request.providerReference) {
      // An earlier attempt created this payout: finish it, never create another.
      const read = await getPayout(request.providerReference, request.payoutId);
      if (!read.ok) {
        return read.notFound
          ? { ...read.result, failureMessage: `${read.result.failureMessage}; not creating another payout` }
          : read.result;
      }
      payout = read.payout;
    } else {
      // On the first send nothing can exist yet, so no lookup (which Paytota does not document) is needed;
      // a resend looks first, and only creates when Paytota positively lists none.
      const found =
        settings.lookupByReference && !request.firstAttempt ? await lookup(request.payoutId) : ({ kind: "none", raw: undefined } as const);
      if (found.kind === "unknown") return found.result;
      if (found.kind === "found") {
        payout = found.payout;
      } else {
        if (issues().length > 0) return notSent(issues());
        const created = await initiate(request);
        if (!created.ok) return created.result;
        payout = created.payout;
      }
    }

    if (payout.status !== "initialized") {
      // Already executed (by an earlier attempt): its status is the answer.
      return mapPayoutObject(payout);
    }
    return execute(payout, request.payoutId);
  }

  function notSent(list: FieldIssue[]): ProviderResult {
    // Nothing left the desk and nothing exists at Paytota for this payout: a final, honest "failed".
    return { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to Paytota: ${list.map((i) => `${i.field}: ${i.message}`).join("; ")}` };
  }

  type Created = { ok: true; payout: PayoutObject } | { ok: false; result: ProviderResult };

  /** Step 1: POST /api/v1/payouts/ */
  async function initiate(request: PayoutRequest): Promise<Created> {
    const body = JSON.stringify(initiateBody(request));
    const outcome = await api({
      operation: "initiate",
      method: "POST",
      url: url("/api/v1/payouts/"),
      headers: { "Content-Type": "application/json" },
      body,
      payoutId: request.payoutId,
    });
    const maybeCreated = "the payout may or may not have been created; it will be looked up by its reference, never created twice";
    if (outcome.kind === "error") {
      return { ok: false, result: { state: "unknown", failureMessage: `No answer from Paytota to the initiate call (${outcome.error}); ${maybeCreated}` } };
    }
    if (outcome.status === 200 || outcome.status === 201) {
      const parsed = outcome.jsonOk ? payoutObjectSchema.safeParse(outcome.json) : null;
      if (!parsed?.success) {
        return { ok: false, result: { state: "unknown", failureMessage: `Paytota's answer to the initiate call (HTTP ${outcome.status}) could not be read; ${maybeCreated}`, raw: rawOf(outcome) } };
      }
      const mismatch = referenceMismatch(parsed.data, request.payoutId);
      if (mismatch) return { ok: false, result: mismatch };
      return { ok: true, payout: parsed.data };
    }
    const error = describeError(outcome);
    if (outcome.status === 401 || outcome.status === 403) {
      // Paytota did not accept our key, so it cannot have acted on this request.
      return {
        ok: false,
        result: {
          state: "failed",
          providerStatus: `HTTP ${outcome.status}`,
          failureCode: error.code ?? `HTTP_${outcome.status}`,
          failureMessage: `Paytota refused the secret key or brand (${error.message ?? `HTTP ${outcome.status}`}); nothing was created. Check the connection's credentials.`,
          raw: rawOf(outcome),
        },
      };
    }
    if (outcome.status === 400 || outcome.status === 422) {
      // A validation refusal creates nothing. A refusal about the reference
      // means a payout with it may exist (an earlier attempt): look, never fail it.
      if (/reference/i.test(error.text)) {
        if (settings.lookupByReference) {
          const found = await lookup(request.payoutId);
          if (found.kind === "found") return { ok: true, payout: found.payout };
        }
        return {
          ok: false,
          result: {
            state: "unknown",
            providerStatus: `HTTP ${outcome.status}`,
            failureMessage: `Paytota refused the reference (${error.message ?? `HTTP ${outcome.status}`}); a payout with it may exist${
              settings.lookupByReference ? " but the lookup did not show it" : " and lookup by reference is disabled"
            }: a person must check`,
            raw: rawOf(outcome),
          },
        };
      }
      return {
        ok: false,
        result: {
          state: "failed",
          providerStatus: `HTTP ${outcome.status}`,
          failureCode: error.code ?? `HTTP_${outcome.status}`,
          failureMessage: `Paytota refused the payout: ${error.message ?? `HTTP ${outcome.status}`}; nothing was created`,
          raw: rawOf(outcome),
        },
      };
    }
    return {
      ok: false,
      result: { state: "unknown", providerStatus: `HTTP ${outcome.status}`, failureMessage: `Paytota answered the initiate call with HTTP ${outcome.status}${errorSuffix(outcome)}; ${maybeCreated}`, raw: rawOf(outcome) },
    };
  }

  /** Step 2: POST {execution_url} {"payout_type": "mobile"}. Every answer carries Paytota's id. */
  async function execute(payout: PayoutObject, payoutId: string): Promise<ProviderResult> {
    const providerReference = payout.id;
    const executionUrl = payout.execution_url ?? "";
    if (!/^https?:\/\//i.test(executionUrl)) {
      return { state: "unknown", providerReference, providerStatus: payout.status, failureMessage: "Paytota's initialized payout has no usable execution_url; it was not executed", raw: payout };
    }
    const outcome = await open({
      operation: "execute",
      method: "POST",
      url: executionUrl,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ payout_type: settings.payoutType }),
      payoutId,
    });
    const maybeExecuted = "the payout may or may not be executing; its status will be checked (it is never created again)";
    if (outcome.kind === "error") {
      return { state: "unknown", providerReference, failureMessage: `No answer from Paytota to the execute call (${outcome.error}); ${maybeExecuted}` };
    }
    if (outcome.status >= 200 && outcome.status < 300) {
      const parsed = outcome.jsonOk ? executeAnswerSchema.safeParse(outcome.json) : null;
      if (!parsed?.success) {
        return { state: "unknown", providerReference, failureMessage: `Paytota's answer to the execute call (HTTP ${outcome.status}) could not be read; ${maybeExecuted}`, raw: rawOf(outcome) };
      }
      const answer = parsed.data;
      switch (answer.status) {
        case "pending":
          return { state: "processing", providerStatus: "pending", providerReference, raw: answer };
        case "success":
          return { state: "succeeded", providerStatus: "success", providerReference, raw: answer };
        case "error": {
          // A documented refusal (e.g. insufficient_funds). Confirm with the
          // payout itself, in case it shows the payout executing after all.
          const code = answer.error?.code || "error";
          const message = answer.error?.message || "Paytota refused to execute the payout";
          const read = await getPayout(providerReference, payoutId);
          if (read.ok && read.payout.status !== "initialized" && read.payout.status !== "error") return mapPayoutObject(read.payout);
          return { state: "failed", providerStatus: "error", providerReference, failureCode: code, failureMessage: message, raw: answer };
        }
        default:
          return { state: "unknown", providerStatus: answer.status, providerReference, failureMessage: `Paytota answered the execute call with a status the desk does not know (${answer.status})`, raw: answer };
      }
    }
    if (outcome.status >= 400 && outcome.status < 500 && outcome.status !== 401 && outcome.status !== 403 && outcome.status !== 429) {
      // Refused: perhaps because it is already executing (an earlier attempt). The payout says which.
      const read = await getPayout(providerReference, payoutId);
      if (read.ok && read.payout.status !== "initialized") return mapPayoutObject(read.payout);
      const error = describeError(outcome);
      return {
        state: "unknown",
        providerReference,
        providerStatus: read.ok ? "initialized" : `HTTP ${outcome.status}`,
        failureMessage: `Paytota refused the execute call (HTTP ${outcome.status}${error.message ? `: ${error.message}` : ""}) and the payout is not shown executing; it will be checked again`,
        raw: rawOf(outcome),
      };
    }
    return { state: "unknown", providerReference, providerStatus: `HTTP ${outcome.status}`, failureMessage: `Paytota answered the execute call with HTTP ${outcome.status}${errorSuffix(outcome)}; ${maybeExecuted}`, raw: rawOf(outcome) };
  }

  // ------------------------------------------------------------ callbacks

  async function loadPublicKey(entry: CachedKey): Promise<KeyObject | null> {
    entry.loading ??= (async () => {
      try {
        const outcome = await api({ operation: "publicKey", method: "GET", url: url("/api/v1/public_key/") });
        entry.fetchedAt = now().getTime();
        if (outcome.kind !== "response" || outcome.status !== 200) return entry.key;
        const key = readPublicKeyAnswer(outcome.text);
        if (key) entry.key = key;
        return entry.key;
      } finally {
        entry.loading = null;
      }
    })();
    return entry.loading;
  }

  /** The cached key; fetched when absent, refreshed (rate-limited) when `refresh` says the cached one failed. */
  async function paytotaKey(refresh: boolean): Promise<KeyObject | null> {
    let entry = publicKeyCache.get(cacheKey);
    if (!entry) {
      entry = { key: null, fetchedAt: 0, loading: null };
      publicKeyCache.set(cacheKey, entry);
    }
    const stale = entry.fetchedAt === 0 || now().getTime() - entry.fetchedAt >= KEY_REFRESH_MIN_INTERVAL_MS;
    if (entry.key && !refresh) return entry.key;
    if (!stale) return entry.loading ? entry.loading : entry.key;
    return loadPublicKey(entry);
  }

  async function parseCallback(input: CallbackInput): Promise<CallbackResult> {
    let body: unknown;
    try {
      body = JSON.parse(input.rawBody);
    } catch {
      body = undefined;
    }
    const reference = isRecord(body) && typeof body.reference === "string" ? body.reference : undefined;
    const refuse = (reason: string): CallbackResult => ({ verified: false, reason, ...(reference ? { payoutId: reference } : {}) });

    const signature = input.headers.get(SIGNATURE_HEADER);
    if (!signature) return refuse("The callback carries no X-Signature header");
    if (settings.webhookPublicKeyProblem) return refuse(`Cannot verify: ${settings.webhookPublicKeyProblem}`);

    let verified = settings.webhookPublicKey ? verifyBody(input.rawBody, signature, settings.webhookPublicKey) : false;
    if (!verified) {
      const cached = await paytotaKey(false);
      verified = cached ? verifyBody(input.rawBody, signature, cached) : false;
      if (!verified) {
        // Paytota may have rotated its key: fetch it again, at most once per interval.
        const fresh = await paytotaKey(true);
        if (fresh && fresh !== cached) verified = verifyBody(input.rawBody, signature, fresh);
        if (!fresh) return refuse("Paytota's public key could not be fetched to verify the callback");
      }
    }
    if (!verified) return refuse("The X-Signature does not verify against Paytota's public key over the raw body");

    // Paytota documents no timestamp window for callbacks: a replay verifies, and the dedupeKey makes it harmless.
    const parsed = payoutObjectSchema.safeParse(body);
    if (!parsed.success) return refuse("The callback is not a Paytota payout object");
    const payout = parsed.data;
    if (payout.type && payout.type !== "payout") return refuse(`The callback is about a ${payout.type}, not a payout`);
    return {
      verified: true,
      ...(payout.reference ? { payoutId: payout.reference } : {}),
      providerReference: payout.id,
      // The same fact (this payout, this status) delivered again is the same callback.
      dedupeKey: `paytota:${payout.id}:${payout.status}`,
      // "initialized" in a callback (payout.created) is not a reason to resend: the status query decides.
      result: payout.status === "initialized" ? { ...mapPayoutObject(payout), state: "unknown" } : mapPayoutObject(payout),
    };
  }

  // ------------------------------------------------------------ balances

  async function balances(): Promise<ProviderBalance[]> {
    const outcome = await api({ operation: "balances", method: "GET", url: url("/api/v1/account/json/balance/") });
    if (outcome.kind === "error") throw new Error(`Paytota did not answer the balance query: ${outcome.error}`);
    if (outcome.status !== 200) throw new Error(`Paytota answered the balance query with HTTP ${outcome.status}${errorSuffix(outcome)}`);
    let json: unknown;
    try {
      json = parseJsonLossless(outcome.text);
    } catch {
      throw new Error("Paytota's balance answer is not JSON");
    }
    if (!isRecord(json)) throw new Error("Paytota's balance answer is not an object of currencies");
    const result: ProviderBalance[] = [];
    for (const [currency, entry] of Object.entries(json)) {
      if (!/^[A-Z]{3}$/.test(currency) || !isRecord(entry)) continue;
      const raw = JSON.parse(JSON.stringify(entry)) as unknown;
      // available_balance is what Paytota calls "currently available for withdrawal"; the payout wallet is shown beside it.
      const fields: Array<[string, string]> = [
        ["available_balance", "available"],
        ["available_payout_balance", "payout wallet"],
      ];
      for (const [field, label] of fields) {
        if (entry[field] === undefined || entry[field] === null) continue;
        try {
          result.push({ currency, amountMinor: responseAmountMinor(entry[field], currency, settings.amountUnits), label, raw });
        } catch (error) {
          throw new Error(`Paytota's ${currency} ${field} cannot be read exactly: ${(error as Error).message}`);
        }
      }
    }
    return result;
  }

  async function testConnection(): Promise<{ ok: boolean; message: string }> {
    try {
      const list = await balances();
      const shown = list.filter((b) => b.label === "available").map((b) => b.currency);
      return { ok: true, message: `Paytota answered: balances in ${shown.length ? shown.join(", ") : "no currency yet"}` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  }

  // ------------------------------------------------------------ statements

  function statementStatus(object: StatementObject): StatementStatus {
    const ready = object.status === "success" && !!object.download_url;
    const failed = ["error", "failed", "cancelled", "canceled", "expired"].includes(object.status);
    return {
      id: object.id,
      state: ready ? "ready" : failed ? "failed" : "pending",
      ...(ready ? { downloadUrl: object.download_url! } : {}),
      raw: object,
    };
  }

  function readStatement(outcome: CallOutcome, operation: string): StatementStatus {
    if (outcome.kind === "error") throw new Error(`Paytota did not answer the ${operation}: ${outcome.error}`);
    if (outcome.status !== 200 && outcome.status !== 201) throw new Error(`Paytota answered the ${operation} with HTTP ${outcome.status}${errorSuffix(outcome)}`);
    const parsed = outcome.jsonOk ? statementSchema.safeParse(outcome.json) : null;
    if (!parsed?.success) throw new Error(`Paytota's answer to the ${operation} could not be read`);
    return statementStatus(parsed.data);
  }

  const statements: StatementApi = {
    async request(input: StatementRequest) {
      const body: Record<string, unknown> = { format: input.format, timezone: "UTC" };
      if (input.from) body.from = Math.floor(input.from.getTime() / 1000);
      if (input.to) body.to = Math.floor(input.to.getTime() / 1000);
      const outcome = await api({
        operation: "statementRequest",
        method: "POST",
        url: url("/api/v1/company_statements/"),
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      return readStatement(outcome, "statement request");
    },
    async status(id: string) {
      const outcome = await api({ operation: "statementStatus", method: "GET", url: url(`/api/v1/company_statements/${encodeURIComponent(id)}/`) });
      return readStatement(outcome, "statement status query");
    },
    async download(status: StatementStatus) {
      if (status.state !== "ready" || !status.downloadUrl) throw new Error("The statement is not ready to download");
      if (!/^https?:\/\//i.test(status.downloadUrl)) throw new Error("Paytota's statement download_url is not an http(s) URL");
      const outcome = await open({ operation: "statementDownload", method: "GET", url: status.downloadUrl, headers: { Accept: "text/csv, */*" } });
      if (outcome.kind === "error") throw new Error(`The statement download failed: ${outcome.error}`);
      if (outcome.status !== 200) throw new Error(`The statement download answered HTTP ${outcome.status}`);
      return { contentType: outcome.headers.get("content-type") ?? "text/csv", body: new TextEncoder().encode(outcome.text) };
    },
  };

  const recipientFields = (): RecipientField[] => [
    {
      key: "email",
      label: "Recipient email",
      required: !settings.clientEmail,
      hint: settings.clientEmail ? `Paytota requires a client email; ${settings.clientEmail} is used when left empty` : "Paytota requires a client email",
    },
  ];

  return {
    provider: "paytota",
    capabilities: { statusQuery: true, callbacks: "signed", balances: true, statements: true },
    channels: () => [],
    recipientKind: "msisdn",
    recipientFields,
    validate,
    submit,
    status,
    parseCallback,
    balances,
    statements,
    testConnection,
  };
}

// ---------------------------------------------------------------- mapping

/** Paytota payout statuses in the desk's words (see the top of this file for "initialized"). */
export function mapPayoutObject(payout: PayoutObject): ProviderResult {
  const base = { providerStatus: payout.status, providerReference: payout.id, raw: payout };
  switch (payout.status) {
    case "initialized":
      return {
        state: "not_found",
        ...base,
        failureMessage: "Paytota created the payout but it was never executed; resending executes this same payout",
      };
    case "pending":
      return { state: "processing", ...base };
    case "success":
      return { state: "succeeded", ...base };
    case "error": {
      const error = payoutError(payout);
      return { state: "failed", ...base, failureCode: error.code, failureMessage: error.message };
    }
    default:
      return { state: "unknown", ...base, failureMessage: `Paytota reports a status the desk does not know (${payout.status})` };
  }
}

// ---------------------------------------------------------------- helpers

function sameReference(a: string | null | undefined, b: string): boolean {
  return typeof a === "string" && a.toLowerCase() === b.toLowerCase();
}

function rawOf(outcome: CallOutcome): unknown {
  if (outcome.kind !== "response") return undefined;
  return outcome.jsonOk ? outcome.json : truncate(outcome.text);
}

/**
 * Paytota's error bodies come in the platform's shapes: {"status":"error","error":{code,message}},
 * {"detail": "..."}, or field errors {"field": [{"message","code"}] | ["message"]}.
 */
function describeError(outcome: CallOutcome): { code?: string; message?: string; text: string } {
  if (outcome.kind !== "response" || !outcome.jsonOk || !isRecord(outcome.json)) {
    return { text: outcome.kind === "response" ? outcome.text : "" };
  }
  const json = outcome.json;
  const text = JSON.stringify(json);
  if (isRecord(json.error)) {
    return {
      ...(typeof json.error.code === "string" ? { code: json.error.code } : {}),
      ...(typeof json.error.message === "string" ? { message: json.error.message } : {}),
      text,
    };
  }
  if (typeof json.detail === "string") return { message: json.detail, text };
  const parts: string[] = [];
  let code: string | undefined;
  const walk = (value: unknown, path: string) => {
    if (typeof value === "string") parts.push(path ? `${path}: ${value}` : value);
    else if (Array.isArray(value)) for (const item of value) walk(item, path);
    else if (isRecord(value)) {
      if (typeof value.message === "string") {
        parts.push(path ? `${path}: ${value.message}` : value.message);
        if (!code && typeof value.code === "string") code = value.code;
      } else for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
    }
  };
  walk(json, "");
  return { ...(code ? { code } : {}), ...(parts.length ? { message: parts.join("; ") } : {}), text };
}

function errorSuffix(outcome: CallOutcome): string {
  const error = describeError(outcome);
  return error.message ? ` (${error.message})` : "";
}
