// pawaPay Merchant API v1 connector.
//
// Sends payouts (optionally RFC 9421-signed), reads their status, verifies
// signed callbacks and reads wallet balances. It reports what pawaPay said
// in the desk's words and never decides more than the wire proves: when we
// cannot know whether pawaPay acted on a payout, the answer is "unknown" and
// the desk asks again with the same payoutId (pawaPay's idempotency key).
import { privateKeyFromPem } from "@/server/security/key-cache";
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
  ProviderCallRecord,
  ProviderResult,
} from "../types";
import { fromPreciseDecimalString, isKnownCurrency, toShortDecimalString } from "@/server/domain/money";
import {
  algorithmsForKey,
  contentDigest,
  hasSignature,
  importPublicKey,
  isSignatureAlgorithm,
  PAWAPAY_REQUEST_COMPONENTS,
  receivedAuthorities,
  signMessage,
  verifyContentDigest,
  verifyMessageSignature,
  type DigestAlgorithm,
  type EcdsaSignatureFormat,
  type SignatureAlgorithm,
} from "./http-signature";
import { msisdnProblem, predictCorrespondent, resolveCorrespondents, CORRESPONDENTS, type Correspondent } from "./correspondents";
import {
  CODE_DESCRIPTIONS,
  errorBodySchema,
  initiationResponseSchema,
  payoutObjectSchema,
  publicKeysSchema,
  walletBalancesSchema,
  type PayoutObject,
  type PayoutRequestBody,
} from "./wire";

/** pawaPay's amount rule: no leading zeros, at most two decimals, 1–23 characters. */
const AMOUNT_PATTERN = /^(0|[1-9]\d*)(\.\d{1,2})?$/;
/** "Between 4 and 22 alphanumeric characters"; pawaPay's own example has spaces, so spaces are allowed. */
const STATEMENT_DESCRIPTION_PATTERN = /^[A-Za-z0-9 ]{4,22}$/;
/** How long pawaPay's callback-signing keys are used before they are fetched again. */
export const PUBLIC_KEYS_TTL_MS = 60 * 60_000;
/**
 * Never ask pawaPay for its keys more often than this per connection, however
 * many callbacks name a keyid we do not hold (a forged callback must not make
 * us hammer pawaPay), and however often a fetch fails.
 */
export const KEY_REFRESH_MIN_INTERVAL_MS = 60_000;

// ---------------------------------------------------------------- key cache

/**
 * pawaPay's callback-signing public keys, per connection, shared by every
 * connector instance in the process: the desk opens a connector per request,
 * so keys held by the instance were fetched again for every callback. Keyed
 * by base URL and a hash of the API token (two merchants on one base URL are
 * two pawaPay accounts).
 */
interface CachedKeys {
  keys: Map<string, KeyObject>;
  /** Last answer that was read (ms; 0: never). */
  fetchedAt: number;
  /** Last attempt, answered or not (ms; 0: never). */
  triedAt: number;
  loading: Promise<void> | null;
}
const publicKeyCache = new Map<string, CachedKeys>();

/** Forgets every cached pawaPay public key (tests; key rotation by hand). */
export function clearPawapayKeyCache(): void {
  publicKeyCache.clear();
}

/**
 * Credentials (all strings):
 * - apiToken: the Bearer token.
 * - signingKeyPem, signingKeyId, signingAlgorithm: optional request signing
 *   (PKCS#8 PEM; algorithm default ecdsa-p256-sha256). Without a key,
 *   requests go unsigned.
 * - ecdsaSignatureFormat: "der" (default, what pawaPay's own examples send)
 *   or "raw" (r‖s, the RFC 9421 form).
 * - contentDigestAlgorithm: "sha-512" (default) or "sha-256".
 * - correspondents: see resolveCorrespondents.
 * - requireSignedCallbacks: "false" to trust unsigned callbacks (default: an unsigned callback is only
 *   a hint, confirmed by a status query before anything changes).
 * - callbackClockSkewSeconds (default 60), callbackMaxAgeSeconds (default none).
 */
export function createPawapayConnector(config: ConnectionConfig, deps: ConnectorDeps = {}): PayoutConnector {
  const baseUrl = config.baseUrl.replace(/\/+$/, "");
  const credentials = config.credentials;
  const now = deps.now ?? (() => new Date());

  // A bad setting must not break pages that only list channels: it is
  // reported where it matters (validate, submit) instead of thrown here.
  let table: Correspondent[];
  let configProblem: string | null = null;
  try {
    table = resolveCorrespondents(credentials.correspondents);
  } catch (error) {
    table = [...CORRESPONDENTS];
    configProblem = `The connection's correspondents setting is invalid: ${(error as Error).message}`;
  }
  const signer = readSigner(credentials);
  const digestAlgorithm: DigestAlgorithm = credentials.contentDigestAlgorithm === "sha-256" ? "sha-256" : "sha-512";
  const requireSignedCallbacks = credentials.requireSignedCallbacks !== "false";

  // ------------------------------------------------------------ transport

  /** The one way this connector talks HTTP (see ../http.ts): timeout, latency, a record of every call. */
  const call = createHttpCaller({
    deps,
    headers: (): Record<string, string> => (credentials.apiToken ? { Authorization: `Bearer ${credentials.apiToken}` } : {}),
  });

  // ------------------------------------------------------------ mapping

  function correspondentFor(request: Pick<PayoutRequest, "channel" | "recipient">): Correspondent | null {
    if (request.channel) return table.find((c) => c.code === request.channel) ?? null;
    return request.recipient.phone ? predictCorrespondent(request.recipient.phone, table) : null;
  }

  /** The request body, or why it cannot be sent at all. */
  function buildBody(request: PayoutRequest): { ok: true; body: PayoutRequestBody } | { ok: false; message: string } {
    if (configProblem) return { ok: false, message: configProblem };
    const issues = validate(request);
    if (issues.length > 0) return { ok: false, message: issues.map((i) => `${i.field}: ${i.message}`).join("; ") };
    const correspondent = correspondentFor(request)!;
    return {
      ok: true,
      body: {
        payoutId: request.payoutId,
        amount: toShortDecimalString(request.amountMinor, request.currency),
        currency: request.currency,
        correspondent: correspondent.code,
        recipient: { type: "MSISDN", address: { value: request.recipient.phone ?? "" } },
        // RFC 3339 without fractional seconds, as in pawaPay's examples.
        customerTimestamp: request.createdAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
        statementDescription: request.description,
        // `country` is optional and implied by the correspondent; leaving it
        // out keeps the body exactly the documented example's shape.
      },
    };
  }

  function validate(request: PayoutRequest): FieldIssue[] {
    const issues: FieldIssue[] = [];
    if (configProblem) issues.push({ field: "channel", message: configProblem });

    // pawaPay pays mobile-money wallets only: an absent number is checked as an empty one.
    const phone = request.recipient.phone ?? "";
    let correspondent: Correspondent | null = null;
    if (request.channel) {
      correspondent = table.find((c) => c.code === request.channel) ?? null;
      if (!correspondent) {
        issues.push({ field: "channel", message: `${request.channel} is not a network this pawaPay connection pays to` });
      }
    } else {
      correspondent = predictCorrespondent(phone, table);
    }

    const phoneProblem = msisdnProblem(phone, correspondent, table);
    if (phoneProblem) {
      issues.push({ field: "recipientPhone", message: phoneProblem });
    } else if (!request.channel && !correspondent) {
      issues.push({ field: "channel", message: "The network cannot be told from this number's prefix: choose the mobile network" });
    }
    if (correspondent && request.recipient.country && request.recipient.country.toUpperCase() !== correspondent.countryAlpha2) {
      issues.push({ field: "recipientPhone", message: `${correspondent.label} pays to ${correspondent.country} numbers only` });
    }

    if (correspondent && request.currency !== correspondent.currency) {
      issues.push({ field: "currency", message: `${correspondent.label} pays in ${correspondent.currency}, not ${request.currency}` });
    } else if (!correspondent && !table.some((c) => c.currency === request.currency)) {
      issues.push({ field: "currency", message: `pawaPay pays no network in ${request.currency} on this connection` });
    }

    if (request.amountMinor <= 0n) {
      issues.push({ field: "amount", message: "The amount must be more than zero" });
    } else if (isKnownCurrency(request.currency)) {
      const amount = toShortDecimalString(request.amountMinor, request.currency);
      const decimals = amount.includes(".") ? amount.split(".")[1]!.length : 0;
      const allowed = correspondent && correspondent.currency === request.currency ? correspondent.decimals : 2;
      if (decimals > allowed) {
        issues.push({
          field: "amount",
          message:
            allowed === 0
              ? `${correspondent?.label ?? "pawaPay"} takes whole amounts only (${amount} has decimals)`
              : `${correspondent?.label ?? "pawaPay"} takes at most ${allowed} decimal place${allowed === 1 ? "" : "s"}`,
        });
      } else if (amount.length > 23 || !AMOUNT_PATTERN.test(amount)) {
        issues.push({ field: "amount", message: "The amount is too long for pawaPay (at most 23 characters)" });
      }
    }

    if (!STATEMENT_DESCRIPTION_PATTERN.test(request.description)) {
      const length = request.description.length;
      issues.push({
        field: "description",
        message:
          length < 4 || length > 22
            ? `pawaPay needs a description of 4 to 22 characters (this one has ${length})`
            : "pawaPay allows only letters, digits and spaces in the description",
      });
    }
    return issues;
  }

  // ------------------------------------------------------------ status

  async function status(request: Pick<PayoutRequest, "payoutId" | "providerReference">): Promise<ProviderResult> {
    const url = `${baseUrl}/payouts/${encodeURIComponent(request.payoutId)}`;
    const outcome = await call({ operation: "status", method: "GET", url, payoutId: request.payoutId });
    if (outcome.kind === "error") {
      return { state: "unknown", failureMessage: `pawaPay did not answer the status query: ${outcome.error}` };
    }
    if (outcome.status !== 200) {
      return {
        state: "unknown",
        providerStatus: `HTTP ${outcome.status}`,
        failureMessage: `pawaPay answered the status query with HTTP ${outcome.status}${errorSuffix(outcome.json)}`,
        raw: outcome.jsonOk ? outcome.json : truncate(outcome.text),
      };
    }
    // v1 answers an array of zero or one payouts.
    if (!outcome.jsonOk || !Array.isArray(outcome.json)) {
      return { state: "unknown", failureMessage: "pawaPay's status answer was not the expected list", raw: truncate(outcome.text) };
    }
    if (outcome.json.length === 0) return { state: "not_found", raw: outcome.json };
    const matching = outcome.json.filter((p) => isRecord(p) && typeof p.payoutId === "string" && p.payoutId.toLowerCase() === request.payoutId.toLowerCase());
    if (matching.length !== 1) {
      return { state: "unknown", failureMessage: "pawaPay's status answer did not hold exactly this payout", raw: outcome.json };
    }
    const parsed = payoutObjectSchema.safeParse(matching[0]);
    if (!parsed.success) return { state: "unknown", failureMessage: "pawaPay's payout object was unreadable", raw: matching[0] };
    return mapPayoutObject(parsed.data);
  }

  // ------------------------------------------------------------ submit

  async function submit(request: PayoutRequest): Promise<ProviderResult> {
    const built = buildBody(request);
    if (!built.ok) {
      // Nothing left the desk, so nothing can exist at pawaPay: a final, honest "failed".
      return { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to pawaPay: ${built.message}` };
    }
    const url = `${baseUrl}/payouts`;
    const body = JSON.stringify(built.body);
    let headers: Record<string, string>;
    try {
      headers = requestHeaders("POST", url, body);
    } catch (error) {
      return { state: "failed", failureCode: "NOT_SENT", failureMessage: `Not sent to pawaPay: could not sign the request (${(error as Error).message})` };
    }
    const outcome = await call({ operation: "submit", method: "POST", url, headers, body, payoutId: request.payoutId });

    if (outcome.kind === "error") {
      return {
        state: "unknown",
        failureMessage: `No answer from pawaPay (${outcome.error}); the payout may or may not have been created, its status will be checked`,
      };
    }

    if (outcome.status >= 200 && outcome.status < 300) {
      const parsed = outcome.jsonOk ? initiationResponseSchema.safeParse(outcome.json) : null;
      if (!parsed?.success) {
        return {
          state: "unknown",
          failureMessage: `pawaPay's answer (HTTP ${outcome.status}) could not be read; its status will be checked`,
          raw: outcome.jsonOk ? outcome.json : truncate(outcome.text),
        };
      }
      const answer = parsed.data;
      switch (answer.status) {
        case "ACCEPTED":
        case "ENQUEUED":
          return { state: "processing", providerStatus: answer.status, raw: answer };
        case "REJECTED": {
          // A rejected initiation is not stored by pawaPay: nothing will happen to it.
          const code = answer.rejectionReason?.rejectionCode ?? "REJECTED";
          return {
            state: "failed",
            providerStatus: "REJECTED",
            failureCode: code,
            failureMessage: answer.rejectionReason?.rejectionMessage || CODE_DESCRIPTIONS[code] || "pawaPay rejected the payout",
            raw: answer,
          };
        }
        case "DUPLICATE_IGNORED": {
          // pawaPay already has a payout with this id (an earlier attempt got through): its state is the answer.
          const current = await status(request);
          if (current.state === "not_found") {
            return {
              state: "unknown",
              providerStatus: "DUPLICATE_IGNORED",
              failureMessage: "pawaPay reported a duplicate but does not show the payout yet; its status will be checked",
              raw: answer,
            };
          }
          return current;
        }
        default:
          return {
            state: "unknown",
            providerStatus: answer.status,
            failureMessage: `pawaPay answered with an initiation status the desk does not know (${answer.status})`,
            raw: answer,
          };
      }
    }

    const error = outcome.jsonOk ? errorBodySchema.safeParse(outcome.json) : null;
    if (error?.success && outcome.status === 401) {
      // pawaPay did not authenticate the request, so it cannot have acted on it.
      return {
        state: "failed",
        providerStatus: "HTTP 401",
        failureCode: errorCodeOf(error.data.errorMessage, 401),
        failureMessage: `pawaPay refused the API token (${error.data.errorMessage}); nothing was created. Check the connection's token.`,
        raw: error.data,
      };
    }
    if (error?.success && (outcome.status === 400 || outcome.status === 403)) {
      // pawaPay refused the request before creating anything (bad request,
      // bad signature). An earlier attempt with the same id could still
      // exist, so ask before calling it failed.
      const current = await status(request);
      if (current.state === "not_found") {
        const code = errorCodeOf(error.data.errorMessage, outcome.status);
        return {
          state: "failed",
          providerStatus: `HTTP ${outcome.status}`,
          failureCode: code,
          failureMessage: `pawaPay refused the request (HTTP ${outcome.status}: ${error.data.errorMessage}); nothing was created${
            code === "HTTP_SIGNATURE_ERROR" ? ". Check the signing key registered with pawaPay" : ""
          }`,
          raw: error.data,
        };
      }
      if (current.state !== "unknown") return current;
      return {
        state: "unknown",
        providerStatus: `HTTP ${outcome.status}`,
        failureMessage: `pawaPay refused the request (${error.data.errorMessage}) and the status check did not confirm that nothing exists`,
        raw: error.data,
      };
    }
    // 5xx, 404, 409, 429, redirects, or an answer that is not pawaPay's error shape:
    // we cannot tell whether the payout was created.
    return {
      state: "unknown",
      providerStatus: `HTTP ${outcome.status}`,
      failureMessage: `pawaPay answered HTTP ${outcome.status}${errorSuffix(outcome.json)}; the payout may or may not have been created, its status will be checked`,
      raw: outcome.jsonOk ? outcome.json : truncate(outcome.text),
    };
  }

  /** Content-Digest, Content-Length and, when a key is configured, the RFC 9421 signature. */
  function requestHeaders(method: string, url: string, body: string): Record<string, string> {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(body, "utf8")),
      "Content-Digest": contentDigest(body, digestAlgorithm),
    };
    if (signer.kind === "problem") throw new Error(signer.problem);
    if (signer.kind === "none") return headers;
    const at = now();
    headers["Signature-Date"] = at.toISOString();
    const signed = signMessage(
      { method, url, headers: new Headers(headers) },
      {
        privateKey: signer.key,
        keyId: signer.keyId,
        alg: signer.alg,
        created: Math.floor(at.getTime() / 1000),
        components: PAWAPAY_REQUEST_COMPONENTS,
        ecdsaFormat: signer.ecdsaFormat,
      },
    );
    headers["Signature-Input"] = signed["Signature-Input"];
    headers["Signature"] = signed.Signature;
    return headers;
  }

  // ------------------------------------------------------------ callbacks

  const keyCacheKey = `${baseUrl}#${createHash("sha256").update(credentials.apiToken ?? "").digest("hex").slice(0, 16)}`;

  function cachedKeys(): CachedKeys {
    let entry = publicKeyCache.get(keyCacheKey);
    if (!entry) publicKeyCache.set(keyCacheKey, (entry = { keys: new Map(), fetchedAt: 0, triedAt: 0, loading: null }));
    return entry;
  }

  /** One fetch at a time per connection; a failed or unreadable answer keeps the keys held so far. */
  function loadPublicKeys(entry: CachedKeys): Promise<void> {
    entry.loading ??= (async () => {
      try {
        entry.triedAt = now().getTime();
        const outcome = await call({ operation: "publicKeys", method: "GET", url: `${baseUrl}/public-key/http` });
        if (outcome.kind !== "response" || outcome.status !== 200 || !outcome.jsonOk) return;
        const parsed = publicKeysSchema.safeParse(outcome.json);
        if (!parsed.success) return;
        // pawaPay's list replaces ours: a key it no longer lists (revoked) is no longer trusted.
        const keys = new Map<string, KeyObject>();
        for (const item of parsed.data) {
          try {
            keys.set(item.id, importPublicKey(item.key));
          } catch {
            // an unreadable key is simply not usable
          }
        }
        entry.keys = keys;
        entry.fetchedAt = now().getTime();
      } finally {
        entry.loading = null;
      }
    })();
    return entry.loading;
  }

  async function pawapayKey(keyId: string): Promise<KeyObject | null> {
    const entry = cachedKeys();
    if (entry.loading) await entry.loading;
    // Keys past their time are not trusted: a key pawaPay revoked must stop
    // verifying within the hour even when its list cannot be read (the
    // callback is refused, pawaPay resends it, the status query settles the payout).
    const fresh = () => entry.fetchedAt > 0 && now().getTime() - entry.fetchedAt < PUBLIC_KEYS_TTL_MS;
    // Keys past their time, or a keyid we do not hold (pawaPay may have rotated
    // its keys): fetch again, but at most once per interval per connection.
    const mayFetch = entry.triedAt === 0 || now().getTime() - entry.triedAt >= KEY_REFRESH_MIN_INTERVAL_MS;
    if ((!fresh() || !entry.keys.has(keyId)) && mayFetch) await loadPublicKeys(entry);
    return fresh() ? (entry.keys.get(keyId) ?? null) : null;
  }

  async function parseCallback(input: CallbackInput): Promise<CallbackResult> {
    let body: unknown;
    try {
      body = JSON.parse(input.rawBody);
    } catch {
      return { verified: false, reason: "The callback body is not JSON" };
    }
    const parsed = payoutObjectSchema.safeParse(body);
    const payoutId = isRecord(body) && typeof body.payoutId === "string" ? body.payoutId : undefined;
    const refuse = (reason: string): Extract<CallbackResult, { verified: false }> => ({ verified: false, reason, ...(payoutId ? { payoutId } : {}) });

    if (!hasSignature(input.headers)) {
      // Not evidence, but a sign that something happened: the desk asks pawaPay (a status query) and
      // answers 2xx, so an account without callback signing is not resent the same callback forever.
      if (requireSignedCallbacks) {
        return { ...refuse("The callback is not signed; its status will be confirmed with pawaPay"), hint: true };
      }
      // Explicitly configured to trust unsigned callbacks; a digest, if sent, must still match.
      if (input.headers.has("content-digest")) {
        const digest = verifyContentDigest(input.headers.get("content-digest"), input.rawBody);
        if (!digest.ok) return refuse(digest.reason);
      }
    } else {
      const digest = verifyContentDigest(input.headers.get("content-digest"), input.rawBody);
      if (!digest.ok) return refuse(digest.reason);
      const verification = await verifyMessageSignature(
        {
          method: input.method,
          url: input.url,
          headers: input.headers,
          alternateAuthorities: receivedAuthorities(input.url, input.headers),
        },
        {
          keyLookup: pawapayKey,
          requiredComponents: ["content-digest"],
          now,
          clockSkewSeconds: numberSetting(credentials.callbackClockSkewSeconds) ?? 60,
          ...(numberSetting(credentials.callbackMaxAgeSeconds) !== undefined
            ? { maxAgeSeconds: numberSetting(credentials.callbackMaxAgeSeconds)! }
            : {}),
        },
      );
      if (!verification.ok) return refuse(`The callback signature is not valid: ${verification.reason}`);
    }

    if (!parsed.success) return refuse("The callback is not a pawaPay payout");
    const result = mapPayoutObject(parsed.data);
    return {
      verified: true,
      payoutId: parsed.data.payoutId,
      // From the body only: what the signature covers through Content-Digest (a required component), never a header
      // outside it. (A connection set to trust unsigned callbacks trusts the body as it comes.)
      dedupeKey: `${parsed.data.payoutId}:${parsed.data.status}`,
      result,
    };
  }

  // ------------------------------------------------------------ balances

  async function balances(): Promise<ProviderBalance[]> {
    const outcome = await call({ operation: "balances", method: "GET", url: `${baseUrl}/v1/wallet-balances` });
    if (outcome.kind === "error") throw new Error(`pawaPay did not answer the balance query: ${outcome.error}`);
    if (outcome.status !== 200) throw new Error(`pawaPay answered the balance query with HTTP ${outcome.status}${errorSuffix(outcome.json)}`);
    const parsed = outcome.jsonOk ? walletBalancesSchema.safeParse(outcome.json) : null;
    if (!parsed?.success) throw new Error("pawaPay's balance answer could not be read");
    return parsed.data.balances.map((entry) => ({
      currency: entry.currency,
      // Exact: refuses a balance with more precision than the currency rather than rounding it.
      amountMinor: fromPreciseDecimalString(entry.balance, entry.currency),
      label: entry.mno ? `${entry.country} ${entry.mno}` : entry.country,
      raw: entry,
    }));
  }

  return {
    provider: "pawapay",
    capabilities: { statusQuery: true, callbacks: "signed", balances: true, statements: false },
    channels: () => table.map((c) => ({ code: c.code, label: c.label, country: c.countryAlpha2, currency: c.currency })),
    validate,
    submit,
    status,
    parseCallback,
    balances,
  };
}

// ------------------------------------------------------------ helpers

type Signer =
  | { kind: "none" }
  | { kind: "problem"; problem: string }
  | { kind: "key"; key: KeyObject; keyId: string; alg: SignatureAlgorithm; ecdsaFormat: EcdsaSignatureFormat };

function readSigner(credentials: Record<string, string>): Signer {
  if (!credentials.signingKeyPem) return { kind: "none" };
  const alg = credentials.signingAlgorithm || "ecdsa-p256-sha256";
  if (!isSignatureAlgorithm(alg)) return { kind: "problem", problem: `Unsupported signing algorithm ${alg}` };
  if (!credentials.signingKeyId) return { kind: "problem", problem: "A signing key is configured without its key id (signingKeyId)" };
  let key: KeyObject;
  try {
    key = privateKeyFromPem(credentials.signingKeyPem);
  } catch (error) {
    return { kind: "problem", problem: `The signing key cannot be read (${(error as Error).message})` };
  }
  if (!algorithmsForKey(key).includes(alg)) return { kind: "problem", problem: `The signing key does not fit ${alg}` };
  const ecdsaFormat: EcdsaSignatureFormat = credentials.ecdsaSignatureFormat === "raw" ? "raw" : "der";
  return { kind: "key", key, keyId: credentials.signingKeyId, alg, ecdsaFormat };
}

/**
 * pawaPay v1 payout statuses in the desk's words. No fee, debit or
 * conversion is set: pawaPay's v1 payout object (initiation answer, status,
 * callback) carries only the amount and currency that were asked for, and its
 * fees are settled outside the API, so the desk says "not reported".
 */
export function mapPayoutObject(payout: PayoutObject): ProviderResult {
  const providerStatus = payout.status;
  switch (payout.status) {
    case "ACCEPTED":
    case "ENQUEUED":
    case "SUBMITTED":
      return { state: "processing", providerStatus, raw: payout };
    case "COMPLETED":
      return { state: "succeeded", providerStatus, raw: payout };
    case "FAILED": {
      const code = payout.failureReason?.failureCode ?? "FAILED";
      return {
        state: "failed",
        providerStatus,
        failureCode: code,
        failureMessage: payout.failureReason?.failureMessage || CODE_DESCRIPTIONS[code] || "pawaPay reports the payout failed",
        raw: payout,
      };
    }
    default:
      return { state: "unknown", providerStatus, failureMessage: `pawaPay reports a status the desk does not know (${providerStatus})`, raw: payout };
  }
}



function errorCodeOf(message: string, status: number): string {
  const match = /^([A-Z][A-Z0-9_]{2,})\b/.exec(message.trim());
  return match ? match[1]! : `HTTP_${status}`;
}

function errorSuffix(json: unknown): string {
  const parsed = errorBodySchema.safeParse(json);
  return parsed.success ? ` (${parsed.data.errorMessage})` : "";
}


function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function numberSetting(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
