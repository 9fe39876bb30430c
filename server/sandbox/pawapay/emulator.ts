// An emulator of pawaPay's Merchant API v1 (payouts), as a Web-standard
// handler: (Request) => Promise<Response>. Mounted by the desk at
// /api/sandbox/pawapay/[...path] (pass basePath so it can strip it) and by
// tests over real HTTP with serveWebHandler.
//
// It speaks the published protocol, including the uncomfortable parts:
// RFC 9421 request signatures (403 HTTP_SIGNATURE_ERROR), every documented
// validation rule answered as a 200 REJECTED with the right rejectionCode,
// DUPLICATE_IGNORED for a reused payoutId, the sandbox's magic numbers,
// signed callbacks with retries, and injectable faults so the desk's
// handling of "we do not know what happened" can be tested.
//
// State lives in memory on the instance.
import { createHash, createPrivateKey, createPublicKey, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { fromDecimalString, toDecimalString } from "@/server/domain/money";
import {
  contentDigest,
  generatePawapaySigningKey,
  hasSignature,
  importPublicKey,
  PAWAPAY_CALLBACK_COMPONENTS,
  receivedAuthorities,
  signMessage,
  verifyContentDigest,
  verifyMessageSignature,
  type EcdsaSignatureFormat,
} from "@/server/connectors/pawapay/http-signature";
import { EMULATED_MMOS, sandboxOutcome, type EmulatedMmo } from "./mmo";
import { answerUnderFault, createCallbackSender, createEmulatorTasks, droppedResponse, faultBook, readJson, type CallbackAttempt, type EmulatorFault } from "../emulator-kit";

// ---------------------------------------------------------------- options

/** What pawaPay knows about a merchant, as configured in its dashboard. */
export interface PawapayEmulatorAccount {
  /** Stable merchant identity (state is kept per merchant); defaults to a hash of the token. */
  merchantId?: string;
  merchantName?: string;
  /** Where payout callbacks go; none means no callbacks. */
  callbackUrl?: string;
  /** The merchant's registered request-signing public keys, by keyid (PEM or base64 SPKI). */
  publicKeys: Record<string, string>;
  /** Refuse unsigned payouts. Default: true when any public key is registered. */
  requireSignature?: boolean;
}

/**
 * Fault injection (emulator only, not part of pawaPay's API). A fault bites
 * the next `count` matching requests of the merchant it was set for (or of
 * every merchant when set through options / injectFault without a token).
 *
 * - "500": answer 500 with pawaPay's error body. Not processed by default.
 * - "garbage": process, then answer 200 with a body that is not JSON.
 * - "timeout": process, then never answer until the client gives up.
 * - "slow": process, then answer normally after `delayMs` (default 5000).
 * - "drop-after-accept": process, then break the connection mid-answer.
 * - "enqueue": accept payouts as ENQUEUED; they wait for fail-enqueued
 *   (or emulator.releaseEnqueued) instead of being processed.
 * `process` overrides whether the request is acted on before the fault.
 *
 * Over HTTP: POST {basePath}/_sandbox/faults with the merchant's Bearer
 * token and {mode, count?, operation?, delayMs?, process?}; DELETE clears.
 */
export type PawapayFaultMode = "500" | "garbage" | "timeout" | "slow" | "drop-after-accept" | "enqueue";
export type PawapayFaultOperation = "payout" | "status" | "balances" | "any";

/** What goes wrong, on which calls, how often, until when: the kit's fault with this emulator's modes and operations. */
export type PawapayFault = EmulatorFault<PawapayFaultMode, PawapayFaultOperation>;

export interface PawapayEmulatorOptions {
  /** Path prefix the emulator is mounted under, stripped from request paths (e.g. "/api/sandbox/pawapay"). */
  basePath?: string;
  /** Looks a merchant up by API token; null means the token is not valid. */
  accounts: (apiToken: string) => Promise<PawapayEmulatorAccount | null>;
  /** Time from acceptance to the final status and its callback (default 1500 ms). */
  callbackDelayMs?: number;
  /** Waits before each redelivery of a callback that was not answered 2xx (default 2 s, 10 s, 30 s). */
  callbackRetryDelaysMs?: number[];
  /** Used to post callbacks (default node:http, as the connectors post). */
  fetch?: typeof fetch;
  now?: () => Date;
  /** Opening wallet balances per merchant (default ZMW 1,000,000.00 and a few others). */
  initialBalances?: Array<{ country: string; currency: string; balance: string }>;
  /** The emulator's own callback-signing key (default: a fresh ECDSA P-256 pair). */
  signingKey?: { keyId: string; privateKeyPem: string };
  /** How the emulator writes ECDSA callback signatures (default "der", like pawaPay's own libraries). */
  ecdsaSignatureFormat?: EcdsaSignatureFormat;
  /** Clock tolerance when checking request signatures (default 60 s). */
  signatureClockSkewSeconds?: number;
  faults?: PawapayFault[];
  log?: (message: string) => void;
}

// ---------------------------------------------------------------- state

export type EmulatedPayoutStatus = "ACCEPTED" | "ENQUEUED" | "SUBMITTED" | "COMPLETED" | "FAILED";

export type { CallbackAttempt } from "../emulator-kit";

export interface EmulatedPayout {
  merchant: string;
  payoutId: string;
  status: EmulatedPayoutStatus;
  amount: string;
  amountMinor: bigint;
  currency: string;
  country: string;
  correspondent: string;
  recipient: { type: "MSISDN"; address: { value: string } };
  customerTimestamp: string;
  statementDescription: string;
  created: string;
  receivedByRecipient?: string;
  correspondentIds?: Record<string, string>;
  failureReason?: { failureCode: string; failureMessage: string };
  metadata?: Record<string, string>;
  callbackUrl?: string;
  callbackAttempts: CallbackAttempt[];
}

interface MerchantState {
  id: string;
  name: string;
  payouts: Map<string, EmulatedPayout>;
  /** Available balance per "COUNTRY:CURRENCY", in minor units of the currency. */
  balances: Map<string, bigint>;
  faults: Required<PawapayFault>[];
}

export interface PawapayEmulator {
  handle(request: Request): Promise<Response>;
  /** The emulator's callback-signing public key, as GET /public-key/http serves it. */
  readonly publicKey: { id: string; pem: string };
  /** Every payout held, across merchants (live objects: read, do not mutate). */
  payouts(): EmulatedPayout[];
  payout(payoutId: string): EmulatedPayout | undefined;
  /** Adds a fault for one merchant (by API token) or, without a token, for all. */
  injectFault(fault: PawapayFault, apiToken?: string): Promise<void>;
  /** Lets an ENQUEUED payout proceed as if the operator came back. */
  releaseEnqueued(payoutId: string): boolean;
  /** Resolves when no status change or callback delivery is scheduled. */
  idle(): Promise<void>;
  /** Cancels every timer (status changes, callback retries, hanging answers). */
  close(): void;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const AMOUNT = /^(0|[1-9]\d*)(\.\d{1,2})?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const STATEMENT_DESCRIPTION = /^[A-Za-z0-9 ]{4,22}$/;

// Emulator's choice of integer errorCode values (pawaPay documents the field, not the numbers).
const ERROR_CODES = { internal: 1, authentication: 2, signature: 3, badRequest: 4, notFound: 5 } as const;

const DEFAULT_BALANCES = [
  { country: "ZMB", currency: "ZMW", balance: "1000000.00" },
  { country: "UGA", currency: "UGX", balance: "100000000" },
  { country: "GHA", currency: "GHS", balance: "100000.00" },
  { country: "KEN", currency: "KES", balance: "1000000" },
];

export function createPawapayEmulator(options: PawapayEmulatorOptions): PawapayEmulator {
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  const callbackDelayMs = options.callbackDelayMs ?? 1500;
  const retryDelays = options.callbackRetryDelaysMs ?? [2000, 10_000, 30_000];
  const postCallback = options.fetch;
  const log = options.log ?? (() => {});
  const ecdsaFormat = options.ecdsaSignatureFormat ?? "der";

  const signing = (() => {
    if (options.signingKey) {
      const privateKey = createPrivateKey(options.signingKey.privateKeyPem);
      return { keyId: options.signingKey.keyId, privateKey, pem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString() };
    }
    const pair = generatePawapaySigningKey("ecdsa-p256-sha256");
    return { keyId: `pawapay-sandbox-${randomBytes(4).toString("hex")}`, privateKey: createPrivateKey(pair.privateKeyPem), pem: pair.publicKeyPem };
  })();

  const merchants = new Map<string, MerchantState>();
  const globalFaults: Required<PawapayFault>[] = (options.faults ?? []).map(normaliseFault);
  const tasks = createEmulatorTasks("pawapay-emulator", log);
  const sendCallback = createCallbackSender({ tasks, post: postCallback, now, log });
  /** Merchants whose next payout is accepted as ENQUEUED (set by an "enqueue" fault). */
  const enqueueNext = new Set<string>();

  // ------------------------------------------------------------ merchants

  function merchantFor(token: string, account: PawapayEmulatorAccount): MerchantState {
    const id = account.merchantId ?? `token-${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
    let state = merchants.get(id);
    if (!state) {
      state = { id, name: account.merchantName ?? "Sandbox merchant", payouts: new Map(), balances: new Map(), faults: [] };
      for (const entry of options.initialBalances ?? DEFAULT_BALANCES) {
        state.balances.set(`${entry.country}:${entry.currency}`, fromDecimalString(entry.balance, entry.currency));
      }
      merchants.set(id, state);
    }
    return state;
  }

  async function authenticate(request: Request): Promise<{ token: string; account: PawapayEmulatorAccount; merchant: MerchantState } | Response> {
    const header = request.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return errorResponse(401, ERROR_CODES.authentication, "AUTHENTICATION_ERROR: a Bearer token is required");
    const account = await options.accounts(match[1]!);
    if (!account) return errorResponse(401, ERROR_CODES.authentication, "AUTHENTICATION_ERROR: the API token is not valid");
    return { token: match[1]!, account, merchant: merchantFor(match[1]!, account) };
  }

  function takeFault(merchant: MerchantState, operation: Exclude<PawapayFaultOperation, "any">): Required<PawapayFault> | null {
    return FAULTS.take([merchant.faults, globalFaults], operation);
  }

  // ------------------------------------------------------------ routing

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    let path = url.pathname;
    if (basePath) {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) {
        return errorResponse(404, ERROR_CODES.notFound, `NOT_FOUND: the emulator is mounted at ${basePath}`);
      }
      path = path.slice(basePath.length);
    }
    path = path.replace(/\/+$/, "") || "/";

    try {
      if (path === "/public-key/http") {
        if (method !== "GET") return methodNotAllowed();
        // Public, like pawaPay's: merchants fetch it without a token.
        return json(200, [{ id: signing.keyId, key: signing.pem }]);
      }

      const auth = await authenticate(request);
      if (auth instanceof Response) return auth;

      if (path === "/payouts") {
        if (method !== "POST") return methodNotAllowed();
        return withFault(request, auth.merchant, "payout", () => createPayout(request, auth.account, auth.merchant));
      }
      if (path === "/payouts/resend-callback") {
        if (method !== "POST") return methodNotAllowed();
        return resendCallback(request, auth.account, auth.merchant);
      }
      const failEnqueued = /^\/payouts\/fail-enqueued\/([^/]+)$/.exec(path);
      if (failEnqueued) {
        if (method !== "POST") return methodNotAllowed();
        return failEnqueuedPayout(decodeURIComponent(failEnqueued[1]!), auth.merchant);
      }
      const single = /^\/payouts\/([^/]+)$/.exec(path);
      if (single) {
        if (method !== "GET") return methodNotAllowed();
        const id = decodeURIComponent(single[1]!);
        return withFault(request, auth.merchant, "status", async () => {
          const payout = auth.merchant.payouts.get(id.toLowerCase());
          return json(200, payout ? [payoutObject(payout)] : []);
        });
      }
      if (path === "/v1/wallet-balances") {
        if (method !== "GET") return methodNotAllowed();
        return withFault(request, auth.merchant, "balances", async () => json(200, { balances: walletBalances(auth.merchant) }));
      }
      if (path === "/active-conf") {
        if (method !== "GET") return methodNotAllowed();
        return json(200, activeConfiguration(auth.merchant));
      }
      if (path === "/v1/predict-correspondent") {
        if (method !== "POST") return methodNotAllowed();
        return predictCorrespondentAnswer(request);
      }
      if (path === "/_sandbox/faults") {
        if (method === "DELETE") {
          auth.merchant.faults.length = 0;
          return json(200, { faults: [] });
        }
        if (method !== "POST") return methodNotAllowed();
        const body = await readJson(request);
        const fault = parseFault(body);
        if (!fault) return errorResponse(400, ERROR_CODES.badRequest, "PARAMETER_INVALID: mode must be one of 500, garbage, timeout, slow, drop-after-accept, enqueue");
        auth.merchant.faults.push(fault);
        return json(200, { faults: auth.merchant.faults });
      }
      return errorResponse(404, ERROR_CODES.notFound, `NOT_FOUND: no endpoint ${method} ${path}`);
    } catch (error) {
      log(`[pawapay-emulator] ${method} ${path} failed: ${(error as Error).stack ?? error}`);
      return errorResponse(500, ERROR_CODES.internal, "Internal error");
    }
  }

  /** Runs `answer` under the merchant's next matching fault, if any. */
  async function withFault(
    request: Request,
    merchant: MerchantState,
    operation: Exclude<PawapayFaultOperation, "any">,
    answer: () => Promise<Response>,
  ): Promise<Response> {
    const fault = takeFault(merchant, operation);
    if (!fault || fault.mode === "enqueue") {
      if (fault) enqueueNext.add(merchant.id);
      return answer();
    }
    log(`[pawapay-emulator] fault ${fault.mode} on ${operation}`);
    return answerUnderFault(tasks, request, fault, answer, {
      serverError: () => errorResponse(500, ERROR_CODES.internal, "Internal error"),
      gatewayTimeout: () => errorResponse(504, ERROR_CODES.internal, "Gateway timeout"),
      dropped: () => droppedResponse('{"payoutId":'),
    });
  }

  // ------------------------------------------------------------ POST /payouts

  async function createPayout(request: Request, account: PawapayEmulatorAccount, merchant: MerchantState): Promise<Response> {
    const bytes = new Uint8Array(await request.arrayBuffer());
    const signatureProblem = await checkRequestSignature(request, bytes, account);
    if (signatureProblem) return errorResponse(403, ERROR_CODES.signature, `HTTP_SIGNATURE_ERROR: ${signatureProblem}`);

    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
      return rejected("", "INVALID_INPUT", "The request body is not valid JSON");
    }
    if (!isRecord(body)) return rejected("", "INVALID_INPUT", "The request body must be a JSON object");

    const payoutId = body.payoutId;
    if (typeof payoutId !== "string" || !UUID_V4.test(payoutId)) {
      return rejected(typeof payoutId === "string" ? payoutId : "", "PARAMETER_INVALID", "payoutId must be a UUIDv4");
    }
    // Duplication logic relies on payoutId alone: a reused id never creates a second payout.
    const existing = merchant.payouts.get(payoutId.toLowerCase());
    if (existing) return json(200, { payoutId, status: "DUPLICATE_IGNORED", created: existing.created });

    const problem = validatePayout(body);
    if ("rejectionCode" in problem) return rejected(payoutId, problem.rejectionCode, problem.rejectionMessage);
    const { mmo, amountMinor } = problem;

    const balanceKey = `${mmo.country}:${mmo.currency}`;
    const available = merchant.balances.get(balanceKey) ?? 0n;
    if (amountMinor > available) {
      return rejected(payoutId, "BALANCE_INSUFFICIENT", `The ${mmo.currency} wallet holds ${toDecimalString(available, mmo.currency)}`);
    }
    // Reserved at acceptance (so concurrent payouts cannot overdraw), given back if the payout fails.
    merchant.balances.set(balanceKey, available - amountMinor);

    const enqueued = enqueueNext.delete(merchant.id);
    const created = now().toISOString();
    const payout: EmulatedPayout = {
      merchant: merchant.id,
      payoutId,
      status: enqueued ? "ENQUEUED" : "ACCEPTED",
      amount: body.amount as string,
      amountMinor,
      currency: mmo.currency,
      country: mmo.country,
      correspondent: mmo.correspondent,
      recipient: { type: "MSISDN", address: { value: (body.recipient as { address: { value: string } }).address.value } },
      customerTimestamp: body.customerTimestamp as string,
      statementDescription: body.statementDescription as string,
      created,
      ...(Array.isArray(body.metadata) && body.metadata.length > 0
        ? { metadata: Object.fromEntries((body.metadata as Array<{ fieldName: string; fieldValue: string }>).map((m) => [m.fieldName, m.fieldValue])) }
        : {}),
      callbackUrl: account.callbackUrl,
      callbackAttempts: [],
    };
    merchant.payouts.set(payoutId.toLowerCase(), payout);
    if (!enqueued) startLifecycle(payout);
    return json(200, { payoutId, status: payout.status, created });
  }

  async function checkRequestSignature(request: Request, bytes: Uint8Array, account: PawapayEmulatorAccount): Promise<string | null> {
    const keys = account.publicKeys ?? {};
    const required = account.requireSignature ?? Object.keys(keys).length > 0;
    const signed = hasSignature(request.headers);
    if (!signed) return required ? "this account accepts signed requests only (Signature and Signature-Input are missing)" : null;
    const digest = verifyContentDigest(request.headers.get("content-digest"), bytes);
    if (!digest.ok) return digest.reason;
    const verification = await verifyMessageSignature(
      {
        method: request.method,
        url: request.url,
        headers: request.headers,
        alternateAuthorities: receivedAuthorities(request.url, request.headers),
      },
      {
        keyLookup: (keyId) => {
          const pem = keys[keyId];
          if (!pem) return null;
          try {
            return importPublicKey(pem);
          } catch {
            return null;
          }
        },
        requiredComponents: ["@method", "@authority", "@path", "content-digest"],
        now,
        clockSkewSeconds: options.signatureClockSkewSeconds ?? 60,
      },
    );
    return verification.ok ? null : verification.reason;
  }

  type Valid = { mmo: EmulatedMmo; amountMinor: bigint };
  type Invalid = { rejectionCode: string; rejectionMessage: string };

  /** Every rule the API reference states, in the order a request is read. */
  function validatePayout(body: Record<string, unknown>): Valid | Invalid {
    const reject = (rejectionCode: string, rejectionMessage: string): Invalid => ({ rejectionCode, rejectionMessage });

    const correspondent = body.correspondent;
    if (typeof correspondent !== "string" || correspondent === "") return reject("PARAMETER_INVALID", "correspondent is required");
    const mmo = EMULATED_MMOS.find((m) => m.correspondent === correspondent);
    if (!mmo) return reject("INVALID_CORRESPONDENT", `Correspondent ${correspondent} is not supported`);

    const currency = body.currency;
    if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency)) return reject("PARAMETER_INVALID", "currency must be an ISO 4217 code in upper case");
    if (currency !== mmo.currency) return reject("INVALID_CURRENCY", `${correspondent} supports ${mmo.currency} only`);

    if (body.country !== undefined) {
      if (typeof body.country !== "string" || !/^[A-Z]{3}$/.test(body.country)) return reject("PARAMETER_INVALID", "country must be an ISO 3166-1 alpha-3 code");
      if (body.country !== mmo.country) return reject("INVALID_COUNTRY", `${correspondent} operates in ${mmo.country}`);
    }

    const recipient = body.recipient;
    if (!isRecord(recipient) || recipient.type !== "MSISDN" || !isRecord(recipient.address) || typeof recipient.address.value !== "string") {
      return reject("PARAMETER_INVALID", "recipient must be {type: MSISDN, address: {value}}");
    }
    const msisdn = recipient.address.value;
    if (!/^\d+$/.test(msisdn) || msisdn.startsWith("0") || !msisdn.startsWith(mmo.dialCode) || msisdn.length !== mmo.msisdnLength) {
      return reject("INVALID_RECIPIENT_FORMAT", `The MSISDN must be ${mmo.msisdnLength} digits starting with ${mmo.dialCode}, without '+' or separators`);
    }

    const amount = body.amount;
    if (typeof amount !== "string" || amount.length < 1 || amount.length > 23 || !AMOUNT.test(amount)) {
      return reject("INVALID_AMOUNT", "amount must be a decimal string such as 5, 5.5 or 5.55 with no leading zeros");
    }
    const decimals = amount.includes(".") ? amount.split(".")[1]!.length : 0;
    if (decimals > mmo.decimals) {
      return reject("INVALID_AMOUNT", `${correspondent} supports ${mmo.decimals} decimal place${mmo.decimals === 1 ? "" : "s"}`);
    }
    const amountMinor = fromDecimalString(amount, mmo.currency);
    if (amountMinor < fromDecimalString(mmo.minPayout, mmo.currency)) return reject("AMOUNT_TOO_SMALL", `The minimum payout for ${correspondent} is ${mmo.minPayout}`);
    if (amountMinor > fromDecimalString(mmo.maxPayout, mmo.currency)) return reject("AMOUNT_TOO_LARGE", `The maximum payout for ${correspondent} is ${mmo.maxPayout}`);

    const customerTimestamp = body.customerTimestamp;
    if (typeof customerTimestamp !== "string" || !RFC3339.test(customerTimestamp) || Number.isNaN(Date.parse(customerTimestamp))) {
      return reject("PARAMETER_INVALID", "customerTimestamp must be an RFC 3339 date-time");
    }

    const description = body.statementDescription;
    if (typeof description !== "string" || !STATEMENT_DESCRIPTION.test(description)) {
      return reject("PARAMETER_INVALID", "statementDescription must be 4 to 22 alphanumeric characters");
    }

    if (body.metadata !== undefined) {
      if (!Array.isArray(body.metadata)) return reject("PARAMETER_INVALID", "metadata must be a list");
      if (body.metadata.length > 10) return reject("PARAMETER_INVALID", "Up to 10 metadata fields can be attached");
      for (const item of body.metadata) {
        if (!isRecord(item) || typeof item.fieldName !== "string" || typeof item.fieldValue !== "string") {
          return reject("PARAMETER_INVALID", "Each metadata item needs fieldName and fieldValue strings");
        }
        if (item.isPII !== undefined && typeof item.isPII !== "boolean") return reject("PARAMETER_INVALID", "metadata isPII must be a boolean");
      }
    }
    return { mmo, amountMinor };
  }

  // ------------------------------------------------------------ lifecycle

  function startLifecycle(payout: EmulatedPayout): void {
    tasks.schedule(Math.floor(callbackDelayMs / 2), () => {
      if (payout.status === "ACCEPTED") payout.status = "SUBMITTED";
    });
    tasks.schedule(callbackDelayMs, () => {
      if (payout.status !== "SUBMITTED" && payout.status !== "ACCEPTED") return;
      const outcome = sandboxOutcome(payout.correspondent, payout.recipient.address.value);
      if (outcome.final === "SUBMITTED") {
        payout.status = "SUBMITTED"; // stuck at the operator: no final status, no callback
        return;
      }
      if (outcome.final === "COMPLETED") {
        payout.status = "COMPLETED";
        payout.receivedByRecipient = now().toISOString();
        payout.correspondentIds = { [`${operatorOf(payout)}_INIT`]: randomDigits(10), [`${operatorOf(payout)}_FINAL`]: randomDigits(10) };
      } else {
        fail(payout, outcome.failureCode, outcome.failureMessage);
      }
      deliverCallback(payout);
    });
  }

  function fail(payout: EmulatedPayout, failureCode: string, failureMessage: string): void {
    payout.status = "FAILED";
    payout.failureReason = { failureCode, failureMessage };
    const merchant = merchants.get(payout.merchant);
    if (merchant) {
      const key = `${payout.country}:${payout.currency}`;
      merchant.balances.set(key, (merchant.balances.get(key) ?? 0n) + payout.amountMinor);
    }
  }

  function deliverCallback(payout: EmulatedPayout): void {
    const url = payout.callbackUrl;
    if (!url) return;
    sendCallback({
      url,
      label: `[pawapay-emulator] callback for ${payout.payoutId}`,
      retryDelaysMs: retryDelays,
      start: (at): CallbackAttempt => ({ at, url }),
      request() {
        const body = JSON.stringify(payoutObject(payout));
        const at = now();
        const headers: Record<string, string> = {
          "Content-Type": "application/json",
          "Content-Digest": contentDigest(body, "sha-512"),
          "Signature-Date": at.toISOString(),
        };
        const signed = signMessage(
          { method: "POST", url, headers: new Headers(headers) },
          {
            privateKey: signing.privateKey,
            keyId: signing.keyId,
            alg: "ecdsa-p256-sha256",
            created: Math.floor(at.getTime() / 1000),
            components: PAWAPAY_CALLBACK_COMPONENTS,
            ecdsaFormat,
          },
        );
        return { headers: { ...headers, "Signature-Input": signed["Signature-Input"], Signature: signed.Signature }, body };
      },
      keep: (attempt) => payout.callbackAttempts.push(attempt),
    });
  }

  // ------------------------------------------------------------ other endpoints

  async function resendCallback(request: Request, account: PawapayEmulatorAccount, merchant: MerchantState): Promise<Response> {
    const body = await readJson(request);
    const payoutId = isRecord(body) && typeof body.payoutId === "string" ? body.payoutId : "";
    const payout = merchant.payouts.get(payoutId.toLowerCase());
    if (!payout) return json(200, { payoutId, status: "REJECTED", rejectionReason: { rejectionCode: "PAYOUT_NOT_FOUND", rejectionMessage: "No payout with this payoutId" } });
    if (payout.status !== "COMPLETED" && payout.status !== "FAILED") {
      return json(200, { payoutId, status: "REJECTED", rejectionReason: { rejectionCode: "INVALID_STATE", rejectionMessage: "The payout is not final yet" } });
    }
    payout.callbackUrl = account.callbackUrl ?? payout.callbackUrl;
    if (!payout.callbackUrl) {
      return json(200, { payoutId, status: "REJECTED", rejectionReason: { rejectionCode: "CALLBACK_URL_NOT_CONFIGURED", rejectionMessage: "No callback URL is configured" } });
    }
    deliverCallback(payout);
    return json(200, { payoutId, status: "ACCEPTED" });
  }

  function failEnqueuedPayout(payoutId: string, merchant: MerchantState): Response {
    const payout = merchant.payouts.get(payoutId.toLowerCase());
    if (!payout) return json(200, { payoutId, status: "REJECTED", rejectionReason: { rejectionCode: "PAYOUT_NOT_FOUND", rejectionMessage: "No payout with this payoutId" } });
    if (payout.status !== "ENQUEUED") {
      return json(200, { payoutId, status: "REJECTED", rejectionReason: { rejectionCode: "INVALID_STATE", rejectionMessage: `The payout is ${payout.status}, not ENQUEUED` } });
    }
    fail(payout, "MANUALLY_CANCELLED", "The enqueued payout was cancelled by the merchant");
    deliverCallback(payout);
    return json(200, { payoutId, status: "ACCEPTED" });
  }

  function walletBalances(merchant: MerchantState) {
    return [...merchant.balances].map(([key, minor]) => {
      const [country, currency] = key.split(":") as [string, string];
      return { country, balance: toDecimalString(minor, currency), currency, mno: "" };
    });
  }

  function activeConfiguration(merchant: MerchantState) {
    const countries = [...new Set(EMULATED_MMOS.map((m) => m.country))];
    return {
      merchantId: merchant.id,
      merchantName: merchant.name,
      countries: countries.map((country) => ({
        country,
        correspondents: EMULATED_MMOS.filter((m) => m.country === country).map((m) => ({
          correspondent: m.correspondent,
          currency: m.currency,
          ownerName: merchant.name,
          operationTypes: [{ operationType: "PAYOUT", minTransactionLimit: m.minPayout, maxTransactionLimit: m.maxPayout }],
        })),
      })),
    };
  }

  async function predictCorrespondentAnswer(request: Request): Promise<Response> {
    const body = await readJson(request);
    const raw = isRecord(body) && typeof body.msisdn === "string" ? body.msisdn : "";
    // predict-correspondent is forgiving about layout, unlike payouts.
    const msisdn = raw.replace(/[\s+\-()]/g, "");
    let best: EmulatedMmo | null = null;
    let length = 0;
    for (const m of EMULATED_MMOS) {
      for (const prefix of m.prefixes) {
        if (msisdn.startsWith(prefix) && prefix.length > length && msisdn.length === m.msisdnLength) {
          best = m;
          length = prefix.length;
        }
      }
    }
    if (!best) return errorResponse(400, ERROR_CODES.badRequest, "INVALID_RECIPIENT_FORMAT: the number matches no supported operator");
    return json(200, { country: best.country, operator: best.operator, correspondent: best.correspondent, msisdn });
  }

  // ------------------------------------------------------------ instance API

  return {
    handle,
    publicKey: { id: signing.keyId, pem: signing.pem },
    payouts: () => [...merchants.values()].flatMap((m) => [...m.payouts.values()]),
    payout: (payoutId) => {
      for (const m of merchants.values()) {
        const found = m.payouts.get(payoutId.toLowerCase());
        if (found) return found;
      }
      return undefined;
    },
    async injectFault(fault, apiToken) {
      const normalised = normaliseFault(fault);
      if (apiToken === undefined) {
        globalFaults.push(normalised);
        return;
      }
      const account = await options.accounts(apiToken);
      if (!account) throw new Error("injectFault: unknown API token");
      merchantFor(apiToken, account).faults.push(normalised);
    },
    releaseEnqueued(payoutId) {
      for (const m of merchants.values()) {
        const payout = m.payouts.get(payoutId.toLowerCase());
        if (payout?.status === "ENQUEUED") {
          payout.status = "ACCEPTED";
          startLifecycle(payout);
          return true;
        }
      }
      return false;
    },
    idle: () => tasks.idle(),
    close() {
      tasks.close();
    },
  };
}

// ---------------------------------------------------------------- helpers

function payoutObject(payout: EmulatedPayout) {
  return {
    payoutId: payout.payoutId,
    status: payout.status,
    amount: payout.amount,
    currency: payout.currency,
    country: payout.country,
    correspondent: payout.correspondent,
    recipient: payout.recipient,
    customerTimestamp: payout.customerTimestamp,
    statementDescription: payout.statementDescription,
    created: payout.created,
    ...(payout.receivedByRecipient ? { receivedByRecipient: payout.receivedByRecipient } : {}),
    ...(payout.correspondentIds ? { correspondentIds: payout.correspondentIds } : {}),
    ...(payout.failureReason ? { failureReason: payout.failureReason } : {}),
    ...(payout.metadata ? { metadata: payout.metadata } : {}),
  };
}

function operatorOf(payout: EmulatedPayout): string {
  return EMULATED_MMOS.find((m) => m.correspondent === payout.correspondent)?.operator ?? "MMO";
}

function randomDigits(n: number): string {
  let out = "";
  for (const byte of randomBytes(n)) out += String(byte % 10);
  return out;
}

const FAULT_MODES: readonly PawapayFaultMode[] = ["500", "garbage", "timeout", "slow", "drop-after-accept", "enqueue"];
const FAULT_OPERATIONS: readonly PawapayFaultOperation[] = ["payout", "status", "balances", "any"];
const FAULTS = faultBook<PawapayFaultMode, PawapayFaultOperation>({ modes: FAULT_MODES, operations: FAULT_OPERATIONS, defaultOperation: "payout", refusals: ["500"] });
const normaliseFault = FAULTS.normalise;

function parseFault(body: unknown): Required<PawapayFault> | null {
  return isRecord(body) ? FAULTS.parse(body as { mode: unknown }) : null;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function errorResponse(status: number, errorCode: number, errorMessage: string): Response {
  return json(status, { errorId: randomUUID(), errorCode, errorMessage });
}

function rejected(payoutId: string, rejectionCode: string, rejectionMessage: string): Response {
  return json(200, { payoutId, status: "REJECTED", rejectionReason: { rejectionCode, rejectionMessage } });
}

function methodNotAllowed(): Response {
  return errorResponse(405, ERROR_CODES.badRequest, "METHOD_NOT_ALLOWED");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
