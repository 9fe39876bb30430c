// Paytota Mobile Money V2 payouts connector.
//
// A Paytota payout takes two calls: initiate (POST /api/v1/payouts/, which
// creates a payout object in status "initialized" with an execution_url)
// and execute (POST {execution_url}, which sends the money). Only execute
// moves money, and only the answer to initiate gives us the payout's id and
// execution_url. The rules this file is built around:
//
// 1. The desk holds the id before the money moves. After an initiate answer,
//    the id is handed to deps.holdProviderReference, which writes it on the
//    payout row, and only once that has succeeded is the payout executed. So
//    a payout the desk holds no Paytota id for was never executed by us:
//    either the initiate answer was lost (a timeout, a 5xx, garbage, a dropped
//    connection), or the worker stopped before holding the id, and in both
//    cases nothing was executed.
// 2. Hence a lost initiate is redone. status() of a payout without an id says
//    not_found (the desk's cue to resend), and the resend initiates again and
//    executes the payout that answer names. A payout the lost attempt may
//    have created at Paytota (the orphan) stays "initialized" for ever: it is
//    never executed, because nothing executes a payout whose id was not
//    answered to the initiate call of this very attempt and held first.
// 3. An initialized payout whose id the desk holds (initiate answered, the
//    execute answer lost or never sent) is executed, never created again.
//    status() reports its "initialized" as not_found for that reason: the
//    resend is a submit() with the held id, which executes that same payout.
//
// Where Paytota's docs are silent, the reading that can never pay twice:
// - A repeated reference. The docs call the reference "unique" but say
//   nothing of a second initiate with it. Any answer is safe: a new payout
//   (executed, the first stays an orphan), the existing payout (executed only
//   if still initialized, read otherwise), or a refusal naming the reference
//   (initiated once more under a repeat of the reference, see wire.ts).
// - The lookup by reference (GET /api/v1/payouts/?reference=) is not
//   documented and a Paytota that follows its docs answers 404 to it. It is
//   only a safety net (credential lookupByReference): a listed payout that
//   was executed is taken as this payout's, and nothing is initiated again.
//   An answer that is no trustworthy list tells nothing either way.
// - Without holdProviderReference (a connector used outside the desk) rule 1
//   cannot be promised, so a payout without an id is reported not_found only
//   when a trustworthy lookup lists no payout at all with its reference, and
//   is otherwise left unknown for a person.
import { createHash, randomBytes, type KeyObject } from "node:crypto";
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
  paytotaBookedMoney,
  payoutError,
  payoutIdOfReference,
  payoutObjectSchema,
  readPayoutJson,
  repeatReference,
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
 *   lookup by reference. With "true", before it reports a payout without a
 *   Paytota id as never executed, and before it initiates again after Paytota
 *   refused a repeated reference, the connector asks
 *   GET /api/v1/payouts/?reference=<payout id>; a listed payout that Paytota
 *   shows executing or final is taken as this payout's (recorded, never
 *   created again). The answer counts only when every listed payout carries
 *   our reference; a 404 or 405 (no such lookup: Paytota as documented) or a
 *   list that ignored the filter tells nothing, and the desk's own record of
 *   the ids it holds decides. A lookup that fails (timeout, 5xx) is asked
 *   again later. With "false" the lookup is never made.
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

  function initiateBody(request: PayoutRequest, reference: string): InitiateBody {
    const name = request.recipient.name?.trim();
    return {
      client: {
        email: recipientEmail(request)!,
        phone: request.recipient.phone!,
        country: recipientCountry(request)!,
        ...(name ? { full_name: name } : {}),
      },
      payment: { currency: request.currency, amount: requestAmount(request.amountMinor, request.currency), description: request.description },
      reference,
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
    const parsed = outcome.jsonOk ? payoutObjectSchema.safeParse(payoutJson(outcome.text)) : null;
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

  /**
   * What GET /api/v1/payouts/?reference=<payout id> tells:
   * - listed: a list we can trust (every entry carries our reference; possibly empty);
   * - silent: nothing either way (disabled, no such lookup on this Paytota, filter ignored);
   * - unknown: it could not be asked now (no answer, 5xx, unreadable): ask again later.
   */
  type Lookup =
    | { kind: "listed"; payouts: PayoutObject[]; raw: unknown }
    | { kind: "silent"; why: string; raw?: unknown }
    | { kind: "unknown"; result: ProviderResult };

  async function lookup(payoutId: string): Promise<Lookup> {
    if (!settings.lookupByReference) return { kind: "silent", why: "lookup by reference is disabled on this connection" };
    const outcome = await api({
      operation: "lookup",
      method: "GET",
      url: url(`/api/v1/payouts/?reference=${encodeURIComponent(payoutId)}`),
      payoutId,
    });
    const unknown = (message: string, raw?: unknown): Lookup => ({ kind: "unknown", result: { state: "unknown", failureMessage: message, ...(raw !== undefined ? { raw } : {}) } });
    if (outcome.kind === "error") return unknown(`Paytota did not answer the lookup by reference (${outcome.error}); it will be asked again`);
    if (outcome.status === 404 || outcome.status === 405) {
      // Paytota as documented: there is no such lookup. Its silence is not an answer.
      return { kind: "silent", why: `Paytota has no lookup by reference (HTTP ${outcome.status})`, raw: rawOf(outcome) };
    }
    if (outcome.status !== 200) {
      return unknown(`Paytota answered the lookup by reference with HTTP ${outcome.status}${errorSuffix(outcome)}; it will be asked again`, rawOf(outcome));
    }
    // Money in the listed payouts is read exactly (their `payment` numbers kept as text).
    const json = outcome.jsonOk ? payoutJson(outcome.text) : undefined;
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
      return { kind: "silent", why: "Paytota's lookup ignored the reference filter", raw: json };
    }
    if (payouts.length === 0 && isRecord(json) && json.next) return unknown("Paytota's lookup by reference answered an empty page with more pages", json);
    return { kind: "listed", payouts, raw: json };
  }

  /**
   * What Paytota may hold for a payout whose id the desk does not: a payout
   * it executed (taken as ours, never created again), or nothing executed
   * (with `proof` saying whether a trusted list showed that, and any
   * initialized orphans it listed, which are never executed).
   */
  type Prior =
    | { kind: "executed"; payout: PayoutObject }
    | { kind: "nothing_executed"; listed: boolean; orphans: PayoutObject[]; why: string; raw?: unknown }
    | { kind: "unknown"; result: ProviderResult };

  async function priorPayout(payoutId: string): Promise<Prior> {
    const found = await lookup(payoutId);
    if (found.kind === "unknown") return found;
    if (found.kind === "silent") return { kind: "nothing_executed", listed: false, orphans: [], why: found.why, raw: found.raw };
    const executed = found.payouts.filter((p) => p.status !== "initialized");
    if (executed.length > 1) {
      return {
        kind: "unknown",
        result: {
          state: "unknown",
          failureMessage: `Paytota holds ${executed.length} executed payouts with this reference (${executed.map((p) => `${p.id} ${p.status}`).join(", ")}); a person must check them`,
          raw: found.raw,
        },
      };
    }
    if (executed.length === 1) return { kind: "executed", payout: executed[0]! };
    const orphans = found.payouts;
    return {
      kind: "nothing_executed",
      listed: true,
      orphans,
      why: orphans.length === 0 ? "Paytota lists no payout with this reference" : `Paytota lists only never-executed payouts with this reference (${orphans.map((p) => p.id).join(", ")})`,
      raw: found.raw,
    };
  }

  function referenceMismatch(payout: PayoutObject, payoutId: string): ProviderResult | null {
    if (payout.reference === undefined || payout.reference === null || payout.reference === "" || isOurReference(payout.reference, payoutId)) return null;
    // Not this payout's: its id is not recorded as ours.
    return {
      state: "unknown",
      failureMessage: `Paytota's payout ${payout.id} (${payout.status}) carries reference ${payout.reference}, not this payout's id`,
      raw: payout,
    };
  }

  // ------------------------------------------------------------ status

  /** True when the desk holds every Paytota id before the payout is executed (rule 1 at the top of this file). */
  const deskHoldsIds = typeof deps.holdProviderReference === "function";

  async function status(request: Pick<PayoutRequest, "payoutId" | "providerReference">): Promise<ProviderResult> {
    if (request.providerReference) {
      const read = await getPayout(request.providerReference, request.payoutId);
      return read.ok ? mapPayoutObject(read.payout, settings.amountUnits) : read.result;
    }
    // The desk holds no Paytota id for this payout. Execution needs the id and
    // execution_url that only an initiate answer gives, and the desk holds that
    // id before executing, so no attempt of ours can have executed it: the
    // initiate answer was lost, or the worker stopped before holding the id.
    // not_found is then the honest answer, and the resend initiates again.
    const prior = await priorPayout(request.payoutId);
    if (prior.kind === "unknown") return prior.result;
    if (prior.kind === "executed") return mapPayoutObject(prior.payout, settings.amountUnits);
    const orphans = prior.orphans.length > 0 ? `; Paytota's never-executed ${prior.orphans.map((p) => p.id).join(", ")} will stay so` : "";
    if (deskHoldsIds) {
      return {
        state: "not_found",
        failureMessage: `Paytota's id for this payout never reached the desk, so it was never executed (${prior.why}); it will be initiated again${orphans}`,
        ...(prior.raw !== undefined ? { raw: prior.raw } : {}),
      };
    }
    if (prior.listed && prior.orphans.length === 0) {
      return { state: "not_found", failureMessage: "Paytota holds no payout with this reference", raw: prior.raw };
    }
    return {
      state: "unknown",
      failureMessage: `Paytota's id for this payout is not known and ${prior.why}${
        prior.orphans.length > 0 ? " but lists an initialized payout whose id was never recorded" : ""
      }; without the desk holding Paytota ids before execution, a person must check it in Paytota's dashboard`,
      ...(prior.raw !== undefined ? { raw: prior.raw } : {}),
    };
  }

  // ------------------------------------------------------------ submit

  async function submit(request: PayoutRequest): Promise<ProviderResult> {
    if (request.providerReference) {
      // An earlier attempt created this payout and the desk holds its id: finish it, never create another.
      // The connection's rules gate creating a payout only, so this one is finished whatever they say now.
      const read = await getPayout(request.providerReference, request.payoutId);
      if (!read.ok) {
        return read.notFound
          ? { ...read.result, failureMessage: `${read.result.failureMessage}; not creating another payout` }
          : read.result;
      }
      if (read.payout.status !== "initialized") return mapPayoutObject(read.payout, settings.amountUnits); // already executed: its status is the answer
      return execute(read.payout, request.payoutId);
    }

    // No id held: nothing was executed (rule 1), so a payout is initiated, first or again.
    const issues = validate(request);
    if (issues.length > 0) return notSent(issues);
    const first = await initiate(request, request.payoutId);
    if (first.kind === "created") return holdThenExecute(first.payout, request.payoutId);
    if (first.kind === "failed") return first.result;

    // Paytota refused the payout id as a reference already used: an earlier
    // initiate reached it and its answer was lost. Before initiating under a
    // repeat of the reference, the lookup (where Paytota has one) shows
    // whether a payout with it ever ran; one that did is this payout's.
    const prior = await priorPayout(request.payoutId);
    if (prior.kind === "unknown") return { ...prior.result, failureMessage: `Paytota already holds a payout with this reference; ${prior.result.failureMessage}` };
    if (prior.kind === "executed") return mapPayoutObject(prior.payout, settings.amountUnits);
    if (!deskHoldsIds) {
      return {
        ...first.result,
        failureMessage: `${first.result.failureMessage}; a payout with it exists and ${prior.why}: a person must check`,
      };
    }
    const again = await initiate(request, repeatReference(request.payoutId, randomBytes(4).toString("hex")));
    if (again.kind === "created") return holdThenExecute(again.payout, request.payoutId);
    return again.result;
  }

  /** Holds Paytota's id on the payout, then executes: never the other way round (rule 1). */
  async function holdThenExecute(payout: PayoutObject, payoutId: string): Promise<ProviderResult> {
    // Paytota answered with a payout that already ran (it gives back the existing payout for a repeated reference): its status is the answer.
    if (payout.status !== "initialized") return mapPayoutObject(payout, settings.amountUnits);
    if (deps.holdProviderReference) {
      try {
        await deps.holdProviderReference(payoutId, payout.id);
      } catch (error) {
        // Not executed, and no id in the result either: the payout that holds another id (or none) decides what happens next.
        return {
          state: "unknown",
          providerStatus: payout.status,
          failureMessage: `Paytota created payout ${payout.id}, but the desk could not hold its id (${(error as Error).message}), so it was not executed and never will be`,
          raw: payout,
        };
      }
    }
    return execute(payout, payoutId);
  }

  function notSent(list: FieldIssue[]): ProviderResult {
    // Nothing left the desk and nothing was executed at Paytota for this payout: a final, honest "failed".
    return { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to Paytota: ${list.map((i) => `${i.field}: ${i.message}`).join("; ")}` };
  }

  type Initiated =
    | { kind: "created"; payout: PayoutObject }
    /** Paytota refused the reference as taken: the payout id reached it before. */
    | { kind: "reference_taken"; result: ProviderResult }
    | { kind: "failed"; result: ProviderResult };

  /** Step 1: POST /api/v1/payouts/ */
  async function initiate(request: PayoutRequest, reference: string): Promise<Initiated> {
    const body = JSON.stringify(initiateBody(request, reference));
    const outcome = await api({
      operation: "initiate",
      method: "POST",
      url: url("/api/v1/payouts/"),
      headers: { "Content-Type": "application/json" },
      body,
      payoutId: request.payoutId,
    });
    const maybeCreated = "a payout may or may not have been created; it is never executed without its id, and the payout will be initiated again";
    const unknown = (result: ProviderResult): Initiated => ({ kind: "failed", result });
    if (outcome.kind === "error") return unknown({ state: "unknown", failureMessage: `No answer from Paytota to the initiate call (${outcome.error}); ${maybeCreated}` });
    if (outcome.status === 200 || outcome.status === 201) {
      const parsed = outcome.jsonOk ? payoutObjectSchema.safeParse(payoutJson(outcome.text)) : null;
      if (!parsed?.success) {
        return unknown({ state: "unknown", failureMessage: `Paytota's answer to the initiate call (HTTP ${outcome.status}) could not be read; ${maybeCreated}`, raw: rawOf(outcome) });
      }
      const mismatch = referenceMismatch(parsed.data, request.payoutId);
      if (mismatch) return { kind: "failed", result: mismatch };
      return { kind: "created", payout: parsed.data };
    }
    const error = describeError(outcome);
    if (outcome.status === 401 || outcome.status === 403) {
      // Paytota did not accept our key, so it cannot have acted on this request (and nothing of ours was executed).
      return {
        kind: "failed",
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
      // A refusal about the reference means a payout with it exists (an
      // earlier attempt whose answer was lost): never a failure of this payout.
      if (/reference/i.test(error.text)) {
        return {
          kind: "reference_taken",
          result: {
            state: "unknown",
            providerStatus: `HTTP ${outcome.status}`,
            failureMessage: `Paytota refused the reference ${reference} (${error.message ?? `HTTP ${outcome.status}`})`,
            raw: rawOf(outcome),
          },
        };
      }
      // Any other validation refusal creates nothing.
      return {
        kind: "failed",
        result: {
          state: "failed",
          providerStatus: `HTTP ${outcome.status}`,
          failureCode: error.code ?? `HTTP_${outcome.status}`,
          failureMessage: `Paytota refused the payout: ${error.message ?? `HTTP ${outcome.status}`}; nothing was created`,
          raw: rawOf(outcome),
        },
      };
    }
    return unknown({ state: "unknown", providerStatus: `HTTP ${outcome.status}`, failureMessage: `Paytota answered the initiate call with HTTP ${outcome.status}${errorSuffix(outcome)}; ${maybeCreated}`, raw: rawOf(outcome) });
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
        case "success": {
          // Paid at once. The execute answer carries no fee and a final payout is never asked about
          // again, so the payout object is read now for what Paytota booked (kept "not reported" if it cannot be).
          const read = await getPayout(providerReference, payoutId);
          if (read.ok && read.payout.status === "success") return mapPayoutObject(read.payout, settings.amountUnits);
          return { state: "succeeded", providerStatus: "success", providerReference, raw: answer };
        }
        case "error": {
          // A documented refusal (e.g. insufficient_funds). Confirm with the
          // payout itself, in case it shows the payout executing after all.
          const code = answer.error?.code || "error";
          const message = answer.error?.message || "Paytota refused to execute the payout";
          const read = await getPayout(providerReference, payoutId);
          if (read.ok && read.payout.status !== "initialized" && read.payout.status !== "error") return mapPayoutObject(read.payout, settings.amountUnits);
          return { state: "failed", providerStatus: "error", providerReference, failureCode: code, failureMessage: message, raw: answer };
        }
        default:
          return { state: "unknown", providerStatus: answer.status, providerReference, failureMessage: `Paytota answered the execute call with a status the desk does not know (${answer.status})`, raw: answer };
      }
    }
    if (outcome.status >= 400 && outcome.status < 500 && outcome.status !== 401 && outcome.status !== 403 && outcome.status !== 429) {
      // Refused: perhaps because it is already executing (an earlier attempt). The payout says which.
      const read = await getPayout(providerReference, payoutId);
      if (read.ok && read.payout.status !== "initialized") return mapPayoutObject(read.payout, settings.amountUnits);
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
    // The payout object's money is read exactly: `payment` numbers stay as their text.
    const body = payoutJson(input.rawBody);
    const rawReference = isRecord(body) && typeof body.reference === "string" ? body.reference : undefined;
    // A repeated initiate's reference names the same payout.
    const reference = rawReference ? (payoutIdOfReference(rawReference) ?? rawReference) : undefined;
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
      ...(payout.reference ? { payoutId: payoutIdOfReference(payout.reference) ?? payout.reference } : {}),
      providerReference: payout.id,
      // The same fact (this payout, this status) delivered again is the same callback.
      dedupeKey: `paytota:${payout.id}:${payout.status}`,
      // "initialized" in a callback (payout.created) is not a reason to resend: the status query decides.
      // Nor is its id taken: it may be the orphan of a lost initiate, which
      // must never replace the id the desk holds (and then be executed).
      result: payout.status === "initialized" ? initializedHint(payout) : mapPayoutObject(payout, settings.amountUnits),
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
export function mapPayoutObject(payout: PayoutObject, units: AmountUnits = "minor"): ProviderResult {
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
      // Paid: the fee (and, where the figures say it, what left the balance) as Paytota booked them.
      // In flight or failed, nothing is taken: Paytota's docs do not say whether a failed payout's fee
      // is kept, and a fee recorded while in flight would outlive a failure (a later answer never clears one).
      return { state: "succeeded", ...base, ...paytotaBookedMoney(payout, units) };
    case "error": {
      const error = payoutError(payout);
      return { state: "failed", ...base, failureCode: error.code, failureMessage: error.message };
    }
    default:
      return { state: "unknown", ...base, failureMessage: `Paytota reports a status the desk does not know (${payout.status})` };
  }
}

/** An "initialized" payout object seen in a callback: a cue to ask, carrying no id to record. */
function initializedHint(payout: PayoutObject): ProviderResult {
  return {
    state: "unknown",
    providerStatus: payout.status,
    failureMessage: `Paytota reports payout ${payout.id} created and not executed; the status query decides`,
    raw: payout,
  };
}

// ---------------------------------------------------------------- helpers

function sameReference(a: string | null | undefined, b: string): boolean {
  return typeof a === "string" && a.toLowerCase() === b.toLowerCase();
}

/** The payout id itself, or a repeat of it (a second initiate after Paytota refused the first reference). */
function isOurReference(reference: string, payoutId: string): boolean {
  return sameReference(reference, payoutId) || payoutIdOfReference(reference) === payoutId.toLowerCase();
}

/** A payout object (or list) from Paytota's answer text with its money exact (see readPayoutJson); undefined when the text is not JSON it can read. */
function payoutJson(text: string): unknown {
  try {
    return readPayoutJson(text);
  } catch {
    return undefined;
  }
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
