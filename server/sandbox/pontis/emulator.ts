// An emulator of PontisGlobe's payout API, as a Web-standard handler:
// (Request) => Promise<Response>. Mounted by the desk at
// /api/sandbox/pontis/[...path] (pass basePath so it can strip it) and by
// tests over real HTTP with serveWebHandler.
//
// It enforces what Pontis enforces: x-api-key, the ±5 minute x-timestamp
// window, the HMAC x-signature over `${timestamp}.${enc}`, AES-256-GCM
// bodies, short-lived JWTs from the login, the 64 KB body limit, required
// fields, idempotency (a reused idempotency_key returns the original
// transaction, never a second one), the documented error envelope and codes,
// the sandbox's trailing-cents outcomes, an auto-approval limit, and signed
// callbacks on final states with retries. Faults can be injected to test
// "we do not know what happened".
//
// Money: the USDT wallet is debited by source_amount at the send (given back
// if the payout fails, is rejected, canceled or reversed); Pontis documents
// no fee, and the emulator charges none. Each payout is converted at the
// sandbox's placeholder rate of its destination currency (Pontis: "quotes
// return placeholder rates"). Pontis's documented answers and callbacks carry
// only {transaction_id, status, status_message}, so that is all they carry
// by default; reportAmounts adds the amounts (source_amount, source_currency,
// destination_amount, destination_currency, exchange_rate, fee,
// fee_currency), a Pontis that reported them being what the connector reads.
//
// State lives in memory on the instance.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { currencyExponent, fromDecimalString, isKnownCurrency, toDecimalString } from "@/server/domain/money";
import {
  callbackSignature,
  decodeKey,
  decryptPayload,
  encryptPayload,
  hexEquals,
  MAX_BODY_BYTES,
  requestSignature,
} from "@/server/connectors/pontis/crypto";
import { EMULATED_METHODS, sandboxOutcome } from "./methods";
import { answerUnderFault, createCallbackSender, createEmulatorTasks, droppedResponse, faultBook, type CallbackAttempt, type EmulatorFault } from "../emulator-kit";

// ---------------------------------------------------------------- options

/** What Pontis knows about a merchant (an API key), as set up in its dashboard. */
export interface PontisEmulatorAccount {
  /** Stable merchant identity (state is kept per merchant); defaults to a hash of the API key. */
  merchantId?: string;
  /** base64url of the 32-byte AES-256-GCM key shared with the merchant. */
  encryptionKey: string;
  /** base64url of the 32-byte HMAC-SHA256 key shared with the merchant. */
  hmacKey: string;
  /** The API user's login. */
  email: string;
  password: string;
  /** Where callbacks go; none means no callbacks. */
  callbackUrl?: string;
  /** Opening USDT wallet balance (default "1000000.00"). */
  balance?: string;
  /** Payouts above this go to pending_approval (default "1000.00"). */
  autoApprovalLimit?: string;
  /** 422 per_payout_limit_exceeded above this (default "50000.00"). */
  perPayoutLimit?: string;
  /** 422 daily_limit_exceeded / monthly_limit_exceeded when set. */
  dailyLimit?: string;
  monthlyLimit?: string;
  /** 409 wallet_frozen on every send. */
  walletFrozen?: boolean;
  /** 403 account_suspended on every authenticated call. */
  suspended?: boolean;
}

/**
 * Fault injection (emulator only). A fault bites the next `count` matching
 * requests, after authentication and decryption.
 * - "500": answer 500 internal_error. Not processed by default.
 * - "429": answer 429 rate_limited. Not processed by default.
 * - "garbage": process, then answer 200 with a body that is not JSON.
 * - "timeout": process, then never answer until the client gives up.
 * - "slow": process, then answer normally after `delayMs` (default 5000).
 * - "drop-after-accept": process, then break the connection mid-answer.
 *
 * Over HTTP: POST {basePath}/_sandbox/faults, authenticated like the login
 * (x-api-key, x-timestamp, x-signature, encrypted body) with the plaintext
 * {mode, count?, operation?, delayMs?, process?}, or {clear: true}.
 */
export type PontisFaultMode = "500" | "429" | "garbage" | "timeout" | "slow" | "drop-after-accept";
export type PontisFaultOperation = "send" | "status" | "login" | "any";

/** What goes wrong, on which calls, how often, until when: the kit's fault with this emulator's modes and operations. */
export type PontisFault = EmulatorFault<PontisFaultMode, PontisFaultOperation>;

export interface PontisEmulatorOptions {
  /** Path prefix stripped from request paths (default "/api/sandbox/pontis"; "" for none). */
  basePath?: string;
  /** Looks a merchant up by x-api-key; null means the key is not valid. */
  accounts: (apiKey: string) => Promise<PontisEmulatorAccount | null>;
  /** Time from pending to the final status and its callback (default 1500 ms). */
  callbackDelayMs?: number;
  /** Time a pending_approval payout waits for the (automatic) approval (default callbackDelayMs). */
  approvalDelayMs?: number;
  /** Waits before each redelivery of a callback not answered 2xx (default 2 s, 10 s, 30 s). */
  callbackRetryDelaysMs?: number[];
  /** Session lifetime, the login's expires_in (default 900 s). */
  jwtExpiresInSeconds?: number;
  /** Answer {"data": enc(JSON envelope)} instead of plain JSON, once the merchant is known (default false, as documented). */
  encryptResponses?: boolean;
  /** x-timestamp window (default 300 s). */
  timestampToleranceSeconds?: number;
  /**
   * Add the payout's amounts to status answers and callbacks (default false:
   * Pontis documents none there). An emulator extension, to exercise a
   * provider that reports what it converted.
   */
  reportAmounts?: boolean;
  /** Destination units per USDT by destination currency (default SANDBOX_RATES, placeholders like Pontis's sandbox quotes). */
  rates?: Record<string, string>;
  fetch?: typeof fetch;
  now?: () => Date;
  faults?: PontisFault[];
  log?: (message: string) => void;
}

// ---------------------------------------------------------------- state

export type EmulatedPontisStatus = "pending_approval" | "pending" | "processing" | "completed" | "failed" | "rejected" | "canceled" | "reversed";

const FINAL_STATUSES: readonly EmulatedPontisStatus[] = ["completed", "failed", "rejected", "canceled", "reversed"];

export interface PontisCallbackAttempt extends CallbackAttempt {
  eventId: string;
  status: string;
}

export interface EmulatedPontisPayout {
  merchant: string;
  transactionId: string;
  idempotencyKey: string;
  status: EmulatedPontisStatus;
  statusMessage: string;
  sourceAmount: string;
  amountMinor: bigint;
  sourceCurrency: "USDT";
  /** What the recipient receives, in minor units of currencyCode, at `rate`; null when the emulator has no rate for the currency. */
  destinationMinor: bigint | null;
  rate: string | null;
  countryCode: string;
  currencyCode: string;
  paymentMethod: string;
  paymentNetwork?: string;
  recipientDetails: Record<string, string>;
  purposeOfPayment?: string;
  sourceOfFunds?: string;
  createdAt: string;
  callbackUrl?: string;
  callbackAttempts: PontisCallbackAttempt[];
}

interface MerchantState {
  id: string;
  apiKey: string;
  byKey: Map<string, EmulatedPontisPayout>;
  byTransaction: Map<string, EmulatedPontisPayout>;
  balanceMinor: bigint;
  faults: Required<PontisFault>[];
}

export interface PontisEmulator {
  handle(request: Request): Promise<Response>;
  /** Every payout held, across merchants (live objects: read, do not mutate). */
  payouts(): EmulatedPontisPayout[];
  /** A payout by transaction_id or idempotency_key. */
  payout(id: string): EmulatedPontisPayout | undefined;
  /** The USDT wallet of a merchant, in cents. */
  balance(apiKey: string): Promise<bigint>;
  injectFault(fault: PontisFault, apiKey?: string): Promise<void>;
  /** Moves a payout to any status as Pontis' back office would (e.g. reversed after completed); final ones are called back. */
  settle(transactionId: string, status: EmulatedPontisStatus, statusMessage?: string): boolean;
  /** Makes every session token issued so far answer 401 jwt_expired. */
  expireSessions(): void;
  /** How many logins succeeded (tests prove the token cache). */
  logins(): number;
  /** Resolves when no status change or callback delivery is scheduled. */
  idle(): Promise<void>;
  /** Cancels every timer. */
  close(): void;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Placeholder rates (destination units per USDT), as Pontis's sandbox quotes are placeholders. */
export const SANDBOX_RATES: Readonly<Record<string, string>> = {
  PHP: "56.10",
  INR: "85.40",
  IDR: "16250.00",
  VND: "25400",
  NGN: "1530.00",
  MXN: "18.90",
};

/**
 * USDT cents converted at `rate` into minor units of `currency`, rounded down
 * (never more than the rate gives). Exact bigint arithmetic.
 */
export function convertUsdt(sourceMinor: bigint, rate: string, currency: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(rate);
  if (!match) throw new Error(`rate ${rate} is not a decimal`);
  const decimals = (match[2] ?? "").length;
  const scaled = BigInt(`${match[1]}${match[2] ?? ""}`);
  const exponent = currencyExponent(currency);
  return (sourceMinor * scaled * 10n ** BigInt(exponent)) / (10n ** BigInt(currencyExponent("USDT")) * 10n ** BigInt(decimals));
}
const AMOUNT = /^(0|[1-9]\d*)(\.\d{1,2})?$/;

export function createPontisEmulator(options: PontisEmulatorOptions): PontisEmulator {
  const basePath = (options.basePath ?? "/api/sandbox/pontis").replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  const callbackDelayMs = options.callbackDelayMs ?? 1500;
  const approvalDelayMs = options.approvalDelayMs ?? callbackDelayMs;
  const retryDelays = options.callbackRetryDelaysMs ?? [2000, 10_000, 30_000];
  const jwtLifetime = options.jwtExpiresInSeconds ?? 900;
  const tolerance = options.timestampToleranceSeconds ?? 300;
  const rates = options.rates ?? SANDBOX_RATES;
  const postCallback = options.fetch;
  const log = options.log ?? (() => {});
  const jwtSecret = randomBytes(32);

  const merchants = new Map<string, MerchantState>();
  const globalFaults: Required<PontisFault>[] = (options.faults ?? []).map(normaliseFault);
  const tasks = createEmulatorTasks("pontis-emulator", log);
  const sendCallback = createCallbackSender({ tasks, post: postCallback, now, log });
  const expiredTokens = new Set<string>();
  /** jti → epoch ms the token stops working (tracked to the millisecond; the JWT's exp is in seconds). */
  const issuedTokens = new Map<string, number>();
  let loginCount = 0;

  // ------------------------------------------------------------ merchants

  function merchantFor(apiKey: string, account: PontisEmulatorAccount): MerchantState {
    const id = account.merchantId ?? `key-${createHash("sha256").update(apiKey).digest("hex").slice(0, 16)}`;
    let state = merchants.get(id);
    if (!state) {
      state = {
        id,
        apiKey,
        byKey: new Map(),
        byTransaction: new Map(),
        balanceMinor: fromDecimalString(account.balance ?? "1000000.00", "USDT"),
        faults: [],
      };
      merchants.set(id, state);
    }
    return state;
  }

  interface Caller {
    apiKey: string;
    account: PontisEmulatorAccount;
    merchant: MerchantState;
    encKey: Buffer;
    payload: unknown;
  }

  /**
   * Authenticates a request the way Pontis does and returns its decrypted
   * payload. `jwt` is false for the login (and the fault endpoint).
   */
  async function authenticate(request: Request, jwt: boolean): Promise<Caller | Response> {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > MAX_BODY_BYTES) return error(413, "payload_too_large", `The request body is ${bytes.length} bytes; the limit is 64 KB`);
    const apiKey = request.headers.get("x-api-key") ?? "";
    const account = apiKey ? await options.accounts(apiKey) : null;
    if (!account) return error(401, "unauthorized", apiKey ? "Unknown API key" : "x-api-key is required");
    let encKey: Buffer;
    let hmacKey: Buffer;
    try {
      encKey = decodeKey(account.encryptionKey, "encryptionKey");
      hmacKey = decodeKey(account.hmacKey, "hmacKey");
    } catch (problem) {
      return error(500, "internal_error", `The sandbox account is misconfigured: ${(problem as Error).message}`);
    }
    const merchant = merchantFor(apiKey, account);
    const answer = (status: number, code: string, message: string) => error(status, code, message, options.encryptResponses ? encKey : null);

    const timestamp = request.headers.get("x-timestamp") ?? "";
    if (!/^\d{1,12}$/.test(timestamp)) return answer(401, "unauthorized", "x-timestamp must be the unix time in seconds");
    const skew = Math.abs(Math.floor(now().getTime() / 1000) - Number(timestamp));
    if (skew > tolerance) return answer(401, "unauthorized", `x-timestamp is ${skew} s away from the server's clock (allowed ±${tolerance} s)`);

    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
      return answer(400, "bad_request", "The body must be JSON: {\"data\": \"<encrypted payload>\"}");
    }
    if (!isRecord(body) || typeof body.data !== "string") return answer(400, "bad_request", "The body must be {\"data\": \"<encrypted payload>\"}");
    const signature = request.headers.get("x-signature") ?? "";
    if (!hexEquals(signature, requestSignature(timestamp, body.data, hmacKey))) {
      return answer(401, "invalid_signature", "x-signature does not match HMAC-SHA256(hmacKey, `${x-timestamp}.${data}`)");
    }
    let payload: unknown;
    try {
      payload = decryptPayload(body.data, encKey);
    } catch (problem) {
      return answer(400, "bad_request", `data could not be decrypted: ${(problem as Error).message}`);
    }

    if (jwt) {
      const header = request.headers.get("authorization") ?? "";
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) return answer(401, "unauthorized", "authorization: Bearer <JWT> is required");
      const verdict = verifyJwt(match[1]!, apiKey);
      if (verdict) return answer(401, verdict, verdict === "jwt_expired" ? "The session token expired: log in again" : "The session token is not valid");
    }
    if (account.suspended) return answer(403, "account_suspended", "This account is suspended");
    return { apiKey, account, merchant, encKey, payload };
  }

  // ------------------------------------------------------------ JWTs

  function issueJwt(apiKey: string): string {
    const iat = Math.floor(now().getTime() / 1000);
    const jti = randomUUID();
    const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const claims = Buffer.from(
      JSON.stringify({ sub: createHash("sha256").update(apiKey).digest("hex").slice(0, 24), iat, exp: Math.ceil(now().getTime() / 1000) + jwtLifetime, jti }),
    ).toString("base64url");
    const signature = createHmac("sha256", jwtSecret).update(`${header}.${claims}`).digest("base64url");
    issuedTokens.set(jti, now().getTime() + jwtLifetime * 1000);
    return `${header}.${claims}.${signature}`;
  }

  /** null when valid, else the error code. */
  function verifyJwt(token: string, apiKey: string): "unauthorized" | "jwt_expired" | null {
    const parts = token.split(".");
    if (parts.length !== 3) return "unauthorized";
    const expected = createHmac("sha256", jwtSecret).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "unauthorized";
    let claims: { sub?: string; exp?: number; jti?: string };
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    } catch {
      return "unauthorized";
    }
    if (claims.sub !== createHash("sha256").update(apiKey).digest("hex").slice(0, 24)) return "unauthorized";
    if (typeof claims.exp !== "number" || claims.exp <= Math.floor(now().getTime() / 1000)) return "jwt_expired";
    const expiresAtMs = claims.jti ? issuedTokens.get(claims.jti) : undefined;
    if (expiresAtMs === undefined) return "unauthorized";
    if (expiresAtMs <= now().getTime() || expiredTokens.has(claims.jti!)) return "jwt_expired";
    return null;
  }

  // ------------------------------------------------------------ routing

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    let path = url.pathname;
    if (basePath) {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) return error(404, "not_found", `The emulator is mounted at ${basePath}`);
      path = path.slice(basePath.length);
    }
    path = path.replace(/\/+$/, "") || "/";

    try {
      const operation =
        path === "/api/v1/user/login" ? "login" : path === "/api/v1/payouts/sendPayoutRequest" ? "send" : path === "/api/v1/payouts/getPayoutStatus" ? "status" : path === "/_sandbox/faults" ? "faults" : null;
      if (!operation) return error(404, "not_found", `No endpoint ${method} ${path}`);
      if (method !== "POST") return error(405, "bad_request", `${path} takes POST`);

      const caller = await authenticate(request, operation === "send" || operation === "status");
      if (caller instanceof Response) return caller;

      switch (operation) {
        case "login":
          return withFault(request, caller, "login", async () => login(caller));
        case "send":
          return withFault(request, caller, "send", async () => send(caller));
        case "status":
          return withFault(request, caller, "status", async () => statusOf(caller));
        case "faults": {
          const body = caller.payload;
          if (isRecord(body) && body.clear === true) {
            caller.merchant.faults.length = 0;
            return ok(caller, 200, { faults: [] });
          }
          const fault = parseFault(body);
          if (!fault) return reply(caller, 400, errorBody("validation_error", `mode must be one of ${FAULT_MODES.join(", ")}`));
          caller.merchant.faults.push(fault);
          return ok(caller, 200, { faults: caller.merchant.faults });
        }
      }
    } catch (problem) {
      log(`[pontis-emulator] ${method} ${path} failed: ${(problem as Error).stack ?? problem}`);
      return error(500, "internal_error", "Internal error");
    }
  }

  function takeFault(merchant: MerchantState, operation: Exclude<PontisFaultOperation, "any">): Required<PontisFault> | null {
    return FAULTS.take([merchant.faults, globalFaults], operation);
  }

  async function withFault(request: Request, caller: Caller, operation: Exclude<PontisFaultOperation, "any">, answer: () => Promise<Response>): Promise<Response> {
    const fault = takeFault(caller.merchant, operation);
    if (!fault) return answer();
    log(`[pontis-emulator] fault ${fault.mode} on ${operation}`);
    return answerUnderFault(tasks, request, fault, answer, {
      serverError: () => reply(caller, 500, errorBody("internal_error", "Internal error")),
      gatewayTimeout: () => reply(caller, 504, errorBody("internal_error", "Gateway timeout")),
      dropped: () => droppedResponse('{"ok":true,"data":{"transaction_id":', 201),
      other: (_mode: "429") =>
        new Response(JSON.stringify(errorBody("rate_limited", "Too many requests")), {
          status: 429,
          headers: { "content-type": "application/json", "retry-after": "0" },
        }),
    });
  }

  // ------------------------------------------------------------ login

  function login(caller: Caller): Response {
    const body = caller.payload;
    if (!isRecord(body) || typeof body.email !== "string" || typeof body.password !== "string") {
      return reply(caller, 400, errorBody("validation_error", "email and password are required"));
    }
    const sameEmail = body.email.trim().toLowerCase() === caller.account.email.trim().toLowerCase();
    if (!sameEmail || !safeEqual(body.password, caller.account.password)) return reply(caller, 401, errorBody("unauthorized", "Invalid email or password"));
    loginCount++;
    return ok(caller, 200, { access_token: issueJwt(caller.apiKey), token_type: "Bearer", expires_in: jwtLifetime });
  }

  // ------------------------------------------------------------ sendPayoutRequest

  function send(caller: Caller): Response {
    const body = caller.payload;
    const invalid = (message: string) => reply(caller, 400, errorBody("validation_error", message));
    if (!isRecord(body)) return invalid("The payload must be a JSON object");
    const key = body.idempotency_key;
    if (typeof key !== "string" || !UUID_V4.test(key)) return invalid("idempotency_key must be a UUID v4");

    // A reused idempotency_key returns the original transaction, never a second one.
    const existing = caller.merchant.byKey.get(key.toLowerCase());
    if (existing) return ok(caller, 201, { transaction_id: existing.transactionId, status: existing.status });

    const checked = validateSend(body);
    if ("message" in checked) return invalid(checked.message);
    const { amountMinor, details } = checked;
    const account = caller.account;

    if (account.walletFrozen) return reply(caller, 409, errorBody("wallet_frozen", "The wallet is frozen; contact PontisGlobe support"));
    if (/sanction/i.test(details.name ?? "")) return reply(caller, 422, errorBody("screening_failed", "Recipient failed sanctions screening"));
    const perPayout = fromDecimalString(account.perPayoutLimit ?? "50000.00", "USDT");
    if (amountMinor > perPayout) {
      return reply(caller, 422, errorBody("per_payout_limit_exceeded", `The per-payout limit is ${toDecimalString(perPayout, "USDT")} USDT`));
    }
    for (const [limit, code, since] of [
      [account.dailyLimit, "daily_limit_exceeded", startOfDay(now())],
      [account.monthlyLimit, "monthly_limit_exceeded", startOfMonth(now())],
    ] as const) {
      if (!limit) continue;
      const used = volumeSince(caller.merchant, since);
      if (used + amountMinor > fromDecimalString(limit, "USDT")) {
        return reply(caller, 422, errorBody(code, `The cap is ${limit} USDT; ${toDecimalString(used, "USDT")} USDT is already used`));
      }
    }
    if (amountMinor > caller.merchant.balanceMinor) {
      return reply(caller, 422, errorBody("insufficient_funds", `Insufficient available balance. Available: ${toDecimalString(caller.merchant.balanceMinor, "USDT")} USDT`));
    }
    // Reserved now (so concurrent payouts cannot overdraw), given back if the payout does not complete.
    caller.merchant.balanceMinor -= amountMinor;

    const approval = amountMinor > fromDecimalString(account.autoApprovalLimit ?? "1000.00", "USDT");
    const currencyCode = body.currency_code as string;
    const rate = isKnownCurrency(currencyCode) ? (rates[currencyCode] ?? null) : null;
    const payout: EmulatedPontisPayout = {
      merchant: caller.merchant.id,
      transactionId: randomUUID(),
      idempotencyKey: key,
      status: approval ? "pending_approval" : "pending",
      statusMessage: approval ? "Awaiting approval: above the auto-approval limit" : "Accepted and queued for processing",
      sourceAmount: body.source_amount as string,
      amountMinor,
      sourceCurrency: "USDT",
      destinationMinor: rate ? convertUsdt(amountMinor, rate, currencyCode) : null,
      rate,
      countryCode: body.country_code as string,
      currencyCode: body.currency_code as string,
      paymentMethod: body.payment_method as string,
      ...(typeof body.payment_network === "string" ? { paymentNetwork: body.payment_network } : {}),
      recipientDetails: details,
      ...(typeof body.purpose_of_payment === "string" ? { purposeOfPayment: body.purpose_of_payment } : {}),
      ...(typeof body.source_of_funds === "string" ? { sourceOfFunds: body.source_of_funds } : {}),
      createdAt: now().toISOString(),
      ...(account.callbackUrl ? { callbackUrl: account.callbackUrl } : {}),
      callbackAttempts: [],
    };
    caller.merchant.byKey.set(key.toLowerCase(), payout);
    caller.merchant.byTransaction.set(payout.transactionId, payout);
    if (approval) {
      tasks.schedule(approvalDelayMs, () => {
        if (payout.status !== "pending_approval") return;
        payout.status = "pending";
        payout.statusMessage = "Approved; queued for processing";
        startProcessing(payout);
      });
    } else {
      startProcessing(payout);
    }
    return ok(caller, 201, { transaction_id: payout.transactionId, status: payout.status });
  }

  type Checked = { amountMinor: bigint; details: Record<string, string> } | { message: string };

  /** The documented fields and the emulated methods' recipient rules. */
  function validateSend(body: Record<string, unknown>): Checked {
    const country = body.country_code;
    if (typeof country !== "string" || !/^[A-Z]{2}$/.test(country)) return { message: "country_code must be ISO 3166-1 alpha-2 (e.g. PH)" };
    const currency = body.currency_code;
    if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency)) return { message: "currency_code must be an ISO 4217 code (e.g. PHP)" };
    const method = body.payment_method;
    if (typeof method !== "string" || method === "") return { message: "payment_method is required" };
    const entry = EMULATED_METHODS.find((m) => m.country === country && m.method === method);
    if (!entry) return { message: `payment_method ${method} is not available for ${country}` };
    if (entry.currency !== currency) return { message: `${country} ${method} pays in ${entry.currency}, not ${currency}` };
    if (body.payment_network !== undefined && typeof body.payment_network !== "string") return { message: "payment_network must be a string" };
    const amount = body.source_amount;
    if (typeof amount !== "string" || !AMOUNT.test(amount)) return { message: 'source_amount must be a decimal string such as "125.00"' };
    const amountMinor = fromDecimalString(amount, "USDT");
    if (amountMinor <= 0n) return { message: "source_amount must be more than zero" };
    if (body.source_currency !== undefined && body.source_currency !== "USDT") return { message: "source_currency must be USDT" };
    const recipient = body.recipient_details;
    if (!isRecord(recipient)) return { message: "recipient_details is required" };
    const details: Record<string, string> = {};
    for (const [name, value] of Object.entries(recipient)) {
      if (typeof value !== "string") return { message: `recipient_details.${name} must be a string` };
      details[name] = value;
    }
    if (!details.name || details.name.trim() === "") return { message: "recipient_details.name is required" };
    for (const field of entry.fields) {
      const value = details[field.key];
      if (!value || value.trim() === "") {
        if (field.required) return { message: `recipient_details.${field.key} is required for ${method} in ${country}` };
      } else if (field.pattern && !field.pattern.test(value)) {
        return { message: `recipient_details.${field.key} is not valid: ${field.rule}` };
      }
    }
    for (const name of ["purpose_of_payment", "source_of_funds"] as const) {
      if (body[name] !== undefined && typeof body[name] !== "string") return { message: `${name} must be a string` };
    }
    return { amountMinor, details };
  }

  function volumeSince(merchant: MerchantState, since: Date): bigint {
    let total = 0n;
    for (const p of merchant.byKey.values()) {
      if (Date.parse(p.createdAt) >= since.getTime() && !["failed", "rejected", "canceled"].includes(p.status)) total += p.amountMinor;
    }
    return total;
  }

  // ------------------------------------------------------------ lifecycle

  function startProcessing(payout: EmulatedPontisPayout): void {
    const outcome = sandboxOutcome(payout.sourceAmount);
    if (outcome.status === "pending") return; // .03: stays pending, no callback
    tasks.schedule(Math.floor(callbackDelayMs / 2), () => {
      if (payout.status === "pending") {
        payout.status = "processing";
        payout.statusMessage = "Sent to the beneficiary bank";
      }
    });
    tasks.schedule(callbackDelayMs, () => {
      if (payout.status !== "pending" && payout.status !== "processing") return;
      settleTo(payout, outcome.status, outcome.message);
    });
  }

  function settleTo(payout: EmulatedPontisPayout, status: EmulatedPontisStatus, message: string): void {
    const wasFunded = !["failed", "rejected", "canceled", "reversed"].includes(payout.status);
    payout.status = status;
    payout.statusMessage = message;
    const merchant = merchants.get(payout.merchant);
    if (merchant && wasFunded && ["failed", "rejected", "canceled", "reversed"].includes(status)) merchant.balanceMinor += payout.amountMinor;
    if (FINAL_STATUSES.includes(status)) {
      const body = JSON.stringify({ transaction_id: payout.transactionId, status, status_message: message, ...amountsOf(payout) });
      deliverCallback(payout, { eventId: randomUUID(), status, body });
    }
  }

  interface CallbackEvent {
    eventId: string;
    status: string;
    /** The event as it happened; redeliveries repeat it byte for byte with the same event id. */
    body: string;
  }

  function deliverCallback(payout: EmulatedPontisPayout, event: CallbackEvent): void {
    const url = payout.callbackUrl;
    const merchant = merchants.get(payout.merchant);
    if (!url || !merchant) return;
    sendCallback({
      url,
      label: `[pontis-emulator] callback for ${payout.transactionId}`,
      retryDelaysMs: retryDelays,
      start: (at): PontisCallbackAttempt => ({ at, url, eventId: event.eventId, status: event.status }),
      async request() {
        const account = await options.accounts(merchant.apiKey);
        if (!account) throw new Error("the merchant is gone");
        const hmacKey = decodeKey(account.hmacKey, "hmacKey");
        // Signed afresh at each attempt, so a redelivery is not stale.
        const timestamp = String(Math.floor(now().getTime() / 1000));
        return {
          headers: {
            "content-type": "application/json",
            "x-pontis-timestamp": timestamp,
            "x-pontis-signature": callbackSignature(timestamp, event.body, hmacKey),
            "x-pontis-event-id": event.eventId,
          },
          body: event.body,
        };
      },
      keep: (attempt) => payout.callbackAttempts.push(attempt),
    });
  }

  // ------------------------------------------------------------ getPayoutStatus

  function statusOf(caller: Caller): Response {
    const body = caller.payload;
    if (!isRecord(body) || typeof body.transaction_id !== "string" || body.transaction_id === "") {
      return reply(caller, 400, errorBody("validation_error", "transaction_id is required"));
    }
    const payout = caller.merchant.byTransaction.get(body.transaction_id);
    if (!payout) return reply(caller, 404, errorBody("not_found", "No transaction with this transaction_id"));
    return ok(caller, 200, { transaction_id: payout.transactionId, status: payout.status, status_message: payout.statusMessage, ...amountsOf(payout) });
  }

  /** The payout's amounts as decimal strings, only with reportAmounts (see the top of this file). */
  function amountsOf(payout: EmulatedPontisPayout): Record<string, string> {
    if (!options.reportAmounts) return {};
    return {
      source_amount: toDecimalString(payout.amountMinor, "USDT"),
      source_currency: payout.sourceCurrency,
      ...(payout.destinationMinor !== null && payout.rate
        ? { destination_amount: toDecimalString(payout.destinationMinor, payout.currencyCode), destination_currency: payout.currencyCode, exchange_rate: payout.rate }
        : {}),
      // The emulator charges no fee (Pontis documents none): it says so.
      fee: "0.00",
      fee_currency: payout.sourceCurrency,
    };
  }

  // ------------------------------------------------------------ answers

  function ok(caller: Caller, status: number, data: unknown): Response {
    return reply(caller, status, { ok: true, data });
  }

  function reply(caller: Caller, status: number, envelope: unknown): Response {
    return options.encryptResponses ? json(status, { data: encryptPayload(envelope, caller.encKey) }) : json(status, envelope);
  }

  function error(status: number, code: string, message: string, encKey: Buffer | null = null): Response {
    const envelope = errorBody(code, message);
    return encKey ? json(status, { data: encryptPayload(envelope, encKey) }) : json(status, envelope);
  }

  // ------------------------------------------------------------ instance API

  function findPayout(id: string): EmulatedPontisPayout | undefined {
    for (const m of merchants.values()) {
      const found = m.byTransaction.get(id) ?? m.byKey.get(id.toLowerCase());
      if (found) return found;
    }
    return undefined;
  }

  return {
    handle,
    payouts: () => [...merchants.values()].flatMap((m) => [...m.byKey.values()]),
    payout: findPayout,
    async balance(apiKey) {
      const account = await options.accounts(apiKey);
      if (!account) throw new Error("balance: unknown API key");
      return merchantFor(apiKey, account).balanceMinor;
    },
    async injectFault(fault, apiKey) {
      const normalised = normaliseFault(fault);
      if (apiKey === undefined) {
        globalFaults.push(normalised);
        return;
      }
      const account = await options.accounts(apiKey);
      if (!account) throw new Error("injectFault: unknown API key");
      merchantFor(apiKey, account).faults.push(normalised);
    },
    settle(transactionId, status, statusMessage) {
      const payout = findPayout(transactionId);
      if (!payout) return false;
      settleTo(payout, status, statusMessage ?? DEFAULT_MESSAGES[status]);
      return true;
    },
    expireSessions() {
      for (const jti of issuedTokens.keys()) expiredTokens.add(jti);
    },
    logins: () => loginCount,
    idle: () => tasks.idle(),
    close() {
      tasks.close();
    },
  };
}

// ---------------------------------------------------------------- helpers

const DEFAULT_MESSAGES: Record<EmulatedPontisStatus, string> = {
  pending_approval: "Awaiting approval",
  pending: "Accepted and queued for processing",
  processing: "Sent to the beneficiary bank",
  completed: "Paid to the beneficiary",
  failed: "Failed",
  rejected: "Rejected by compliance",
  canceled: "Canceled",
  reversed: "Returned by the beneficiary bank",
};

const FAULT_MODES: readonly PontisFaultMode[] = ["500", "429", "garbage", "timeout", "slow", "drop-after-accept"];
const FAULT_OPERATIONS: readonly PontisFaultOperation[] = ["send", "status", "login", "any"];
const FAULTS = faultBook<PontisFaultMode, PontisFaultOperation>({ modes: FAULT_MODES, operations: FAULT_OPERATIONS, defaultOperation: "send", refusals: ["500", "429"] });
const normaliseFault = FAULTS.normalise;


function parseFault(body: unknown): Required<PontisFault> | null {
  return isRecord(body) ? FAULTS.parse(body as { mode: unknown }) : null;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID-looking request id, as in Pontis' examples. */
function requestId(): string {
  let out = "";
  for (const byte of randomBytes(26)) out += CROCKFORD[byte % 32];
  return out;
}

function errorBody(code: string, message: string) {
  return { ok: false, request_id: requestId(), error: { code, message } };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function safeEqual(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

function startOfDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

function startOfMonth(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
