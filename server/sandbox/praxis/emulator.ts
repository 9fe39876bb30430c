// An emulator of Praxis's Cashier Direct API 1.2 (payouts to the sandbox
// "Test E-Wallet") and of the Agent API's find-order, as a Web-standard
// handler: (Request) => Promise<Response>. Mounted by the desk at
// /api/sandbox/praxis/[...path] and by tests over real HTTP.
//
// Paths below the mount point:
//   POST /api/direct          Direct API (the connection's baseUrl points here)
//   POST /api/find-order      Agent API find-order (also /agent/find-order)
//   GET  /site/process/{id}   the page a pending_async redirect_url points to
//   POST /_sandbox/faults     fault injection (emulator only, signed like a request)
//
// What it enforces, as Praxis does: the merchant (merchant_id +
// application_key), the request signature (sha384 over sorted values + the
// Merchant Secret), version 1.2, the 1-minute timestamp window, the required
// fields. Every answer to a known merchant is signed with its secret; an
// unknown merchant gets an unsigned refusal (there is no secret to sign with).
// A reused order_id never creates a second transaction: the existing one is
// answered. Final statuses are notified to notification_url, signed, and
// resent until the merchant answers a signed {status: 0} reply.
//
// State lives in memory on the instance.
import { randomBytes } from "node:crypto";
import { isKnownCurrency } from "@/server/domain/money";
import {
  integerField,
  parsePraxisObject,
  PRAXIS_VERSION,
  textField,
  toPraxisJson,
  verifyPraxis,
  withSignature,
  type PraxisFields,
} from "@/server/connectors/praxis/signature";
import {
  fromPraxisAmount,
  PRAXIS_MAX_AMOUNT_DIGITS,
  PRAXIS_SANDBOX_GATEWAY,
  PRAXIS_TEST_PROCESSOR,
  type PraxisNotificationStatus,
  type PraxisTransactionStatus,
} from "@/server/connectors/praxis/wire";
import { answerUnderFault, createCallbackSender, createEmulatorTasks, droppedResponse, faultBook, type CallbackAttempt, type EmulatorFault } from "../emulator-kit";

// ---------------------------------------------------------------- options

/** What Praxis knows about a merchant application. */
export interface PraxisEmulatorAccount {
  /** The Merchant Secret shared with the merchant: verifies requests, signs answers and notifications. */
  merchantSecret: string;
  /** When set, notifications go here instead of the request's notification_url (a URL fixed in Praxis's configuration). */
  notificationUrl?: string;
  /** Gateway codes this merchant may pay through (default: the Test E-Wallet gateway). */
  gateways?: string[];
}

/**
 * Fault injection (emulator only). A fault bites the next `count` matching
 * requests of the merchant it was set for (or of every merchant when set
 * through options / injectFault without a merchant id).
 *
 * - "500": answer HTTP 500 with an HTML page. Not processed by default.
 * - "garbage": process, then answer 200 with a body that is not JSON.
 * - "timeout": process, then never answer until the client gives up.
 * - "slow": process, then answer normally after `delayMs` (default 5000).
 * - "drop-after-accept": process, then break the connection mid-answer.
 * - "negative-status": process, then answer a signed status -1 (Praxis's
 *   "internal/network error": the outcome is unknown to the merchant).
 * - "bad-signature": process, then answer normally with a wrong signature.
 * `process` overrides whether the request is acted on before the fault.
 *
 * Over HTTP: POST {basePath}/_sandbox/faults with a signed body
 * {merchant_id, application_key, timestamp, mode, count?, operation?,
 * delayMs?, process?, signature}; mode "clear" removes the merchant's faults.
 */
export type PraxisFaultMode = "500" | "garbage" | "timeout" | "slow" | "drop-after-accept" | "negative-status" | "bad-signature";
export type PraxisFaultOperation = "payout" | "status" | "any";

/** What goes wrong, on which calls, how often, until when: the kit's fault with this emulator's modes and operations. */
export type PraxisFault = EmulatorFault<PraxisFaultMode, PraxisFaultOperation>;

export interface PraxisEmulatorOptions {
  /** Path prefix stripped from request paths (default "/api/sandbox/praxis"; "" for none). */
  basePath?: string;
  /** Looks a merchant application up; null means these ids are not a Praxis merchant. */
  accounts: (merchantId: string, applicationKey: string) => Promise<PraxisEmulatorAccount | null> | PraxisEmulatorAccount | null;
  /** Time from a pending answer to the final status and its notification (default 1500 ms). */
  callbackDelayMs?: number;
  /** Waits before each resend of a notification that was not acknowledged (default 5 s, 30 s, 5 min — Praxis resends after ~5 minutes). */
  callbackRetryDelaysMs?: number[];
  /** How long a request's timestamp is valid, and the tolerated clock skew ahead (default 60 s). */
  timestampWindowSeconds?: number;
  /** Used to post notifications (default node:http, as the connectors post). */
  fetch?: typeof fetch;
  now?: () => Date;
  faults?: PraxisFault[];
  log?: (message: string) => void;
}

// ---------------------------------------------------------------- state

export interface NotificationAttempt extends CallbackAttempt {
  transactionStatus: PraxisNotificationStatus;
  /** True when the merchant answered a validly signed status 0. */
  acknowledged: boolean;
}

export interface EmulatedPraxisTransaction {
  merchantId: string;
  orderId: string;
  traceId: number;
  /** Empty on an early rejection, as at Praxis. */
  transactionId: string;
  status: PraxisTransactionStatus;
  /** Praxis's integer amount (cents, or as-is for the listed currencies). */
  amount: bigint;
  amountMinor: bigint;
  currency: string;
  country: string;
  pin: string;
  gateway: string;
  accountNumber: string;
  fullName?: string;
  email?: string;
  description?: string;
  notificationUrl: string;
  returnUrl: string;
  redirectUrl: string | null;
  errorCode: string;
  errorDetails: string;
  created: string;
  notifications: NotificationAttempt[];
}

/**
 * The sandbox's outcomes, chosen by the last two digits of the wallet
 * (data_account_number, the recipient's MSISDN):
 * - 00: approved at once (and notified);
 * - 01: rejected at once, error_code 1 (and notified as declined);
 * - 02: pending, then declined by notification;
 * - 03: pending_async with a redirect_url, then approved by notification;
 * - 04: pending, then cancelled by notification;
 * - 05: pending for ever (no notification): for status polling;
 * - 06: early rejection: rejected at once with an empty transaction_id;
 * - anything else: pending, then approved by notification.
 */
export type PraxisSandboxOutcome =
  | { initial: "approved" | "rejected" | "early_rejection" }
  | { initial: "pending" | "pending_async"; final: "approved" | "rejected" | "cancelled" | null };

export function sandboxOutcome(accountNumber: string): PraxisSandboxOutcome {
  switch (accountNumber.slice(-2)) {
    case "00":
      return { initial: "approved" };
    case "01":
      return { initial: "rejected" };
    case "02":
      return { initial: "pending", final: "rejected" };
    case "03":
      return { initial: "pending_async", final: "approved" };
    case "04":
      return { initial: "pending", final: "cancelled" };
    case "05":
      return { initial: "pending", final: null };
    case "06":
      return { initial: "early_rejection" };
    default:
      return { initial: "pending", final: "approved" };
  }
}

interface MerchantState {
  id: string;
  transactions: Map<string, EmulatedPraxisTransaction>;
  faults: Required<PraxisFault>[];
}

export interface PraxisEmulator {
  handle(request: Request): Promise<Response>;
  /** Every transaction held, across merchants (live objects: read, do not mutate). */
  payouts(): EmulatedPraxisTransaction[];
  payout(orderId: string, merchantId?: string): EmulatedPraxisTransaction | undefined;
  /** Adds a fault for one merchant or, without a merchant id, for all. */
  injectFault(fault: PraxisFault, merchantId?: string): void;
  /** Resolves when no status change or notification delivery is scheduled. */
  idle(): Promise<void>;
  /** Cancels every timer (status changes, notification resends, hanging answers). */
  close(): void;
}

/** The emulator's own status codes for logical errors (Praxis documents "positive", not the numbers). */
export const PRAXIS_EMULATOR_ERRORS = {
  invalidRequest: 1,
  authentication: 2,
  signature: 3,
  expired: 4,
  orderNotFound: 5,
  gateway: 6,
} as const;

const HTTP_URL = /^https?:\/\/[^\s]+$/i;

export function createPraxisEmulator(options: PraxisEmulatorOptions): PraxisEmulator {
  const basePath = (options.basePath ?? "/api/sandbox/praxis").replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  const callbackDelayMs = options.callbackDelayMs ?? 1500;
  const retryDelays = options.callbackRetryDelaysMs ?? [5000, 30_000, 300_000];
  const window = options.timestampWindowSeconds ?? 60;
  const postNotification = options.fetch;
  const log = options.log ?? (() => {});

  const merchants = new Map<string, MerchantState>();
  const secrets = new Map<string, string>();
  const globalFaults: Required<PraxisFault>[] = (options.faults ?? []).map(normaliseFault);
  const tasks = createEmulatorTasks("praxis-emulator", log);
  const sendNotification = createCallbackSender({ tasks, post: postNotification, now, log });
  let nextTraceId = 1_000_000_700;
  let closed = false;
  const unixNow = () => Math.floor(now().getTime() / 1000);

  function merchantState(merchantId: string): MerchantState {
    let state = merchants.get(merchantId);
    if (!state) {
      state = { id: merchantId, transactions: new Map(), faults: [] };
      merchants.set(merchantId, state);
    }
    return state;
  }

  // ------------------------------------------------------------ answers

  function json(body: PraxisFields, status = 200): Response {
    return new Response(toPraxisJson(body), { status, headers: { "content-type": "application/json" } });
  }

  function signed(secret: string, body: PraxisFields): Response {
    return json(withSignature(body, secret));
  }

  /** A logical error (positive status), signed when the merchant is known. */
  function refusal(secret: string | null, status: number, description: string): Response {
    const body: PraxisFields = { description, status, version: PRAXIS_VERSION };
    return secret ? signed(secret, body) : json(body);
  }

  // ------------------------------------------------------------ authentication

  type Authenticated = { fields: PraxisFields; merchant: MerchantState; account: PraxisEmulatorAccount; secret: string };

  async function authenticate(request: Request): Promise<Authenticated | Response> {
    const fields = parsePraxisObject(await request.text());
    if (!fields) return refusal(null, PRAXIS_EMULATOR_ERRORS.invalidRequest, "Invalid request: the body must be a JSON object");
    const merchantId = textField(fields, "merchant_id") ?? "";
    const applicationKey = textField(fields, "application_key") ?? "";
    const account = merchantId && applicationKey ? await options.accounts(merchantId, applicationKey) : null;
    if (!account) {
      return refusal(null, PRAXIS_EMULATOR_ERRORS.authentication, "Authentication failed: unknown merchant_id or application_key");
    }
    const secret = account.merchantSecret;
    if (!verifyPraxis(fields, secret)) return refusal(secret, PRAXIS_EMULATOR_ERRORS.signature, "Invalid signature");
    if (textField(fields, "version") !== PRAXIS_VERSION) {
      return refusal(secret, PRAXIS_EMULATOR_ERRORS.invalidRequest, `Invalid request: version must be ${PRAXIS_VERSION}`);
    }
    const timestamp = integerField(fields, "timestamp");
    if (timestamp === null) return refusal(secret, PRAXIS_EMULATOR_ERRORS.invalidRequest, "Invalid request: timestamp is required");
    const age = BigInt(unixNow()) - timestamp;
    if (age > BigInt(window) || age < BigInt(-window)) {
      return refusal(secret, PRAXIS_EMULATOR_ERRORS.expired, "Request expired: the timestamp is valid for 1 minute");
    }
    secrets.set(merchantId, secret);
    return { fields, merchant: merchantState(merchantId), account, secret };
  }

  // ------------------------------------------------------------ routing

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    let path = url.pathname;
    if (basePath) {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) return plain(404, `The Praxis emulator is mounted at ${basePath}`);
      path = path.slice(basePath.length);
    }
    path = path.replace(/\/+$/, "") || "/";

    try {
      if (path.startsWith("/site/process/")) {
        if (method !== "GET") return plain(405, "Method not allowed");
        return new Response(
          "<!doctype html><title>Test E-Wallet</title><p>[TEST] Test E-Wallet: the customer would confirm the payout here. The sandbox approves it by itself.</p>",
          { status: 200, headers: { "content-type": "text/html; charset=utf-8" } },
        );
      }
      const operation = path === "/api/direct" ? "payout" : path === "/api/find-order" || path === "/agent/find-order" ? "status" : path === "/_sandbox/faults" ? "faults" : null;
      if (!operation) return plain(404, "Not found");
      if (method !== "POST") return plain(405, "Method not allowed");

      const auth = await authenticate(request);
      if (auth instanceof Response) return auth;
      if (operation === "faults") return controlFaults(auth);
      if (operation === "payout") return withFault(request, auth, "payout", () => createPayout(request, auth));
      return withFault(request, auth, "status", () => findOrder(auth));
    } catch (error) {
      log(`[praxis-emulator] ${(error as Error).message}`);
      return json({ description: "Internal error", status: -1, version: PRAXIS_VERSION }, 500);
    }
  }

  // ------------------------------------------------------------ faults

  function takeFault(merchant: MerchantState, operation: "payout" | "status"): Required<PraxisFault> | null {
    return FAULTS.take([merchant.faults, globalFaults], operation);
  }

  async function withFault(request: Request, auth: Authenticated, operation: "payout" | "status", answer: () => Promise<Response> | Response): Promise<Response> {
    const fault = takeFault(auth.merchant, operation);
    if (!fault) return answer();
    log(`[praxis-emulator] fault ${fault.mode} on ${operation}`);
    return answerUnderFault(tasks, request, fault, answer, {
      serverError: () =>
        new Response("<html><body><h1>500 Internal Server Error</h1></body></html>", { status: 500, headers: { "content-type": "text/html" } }),
      gatewayTimeout: () => plain(504, "Gateway timeout"),
      dropped: () => droppedResponse('{"description":"Ok","error_code":'),
      async other(mode, processed) {
        switch (mode) {
          case "negative-status":
            return signed(auth.secret, { description: "Internal error: the gateway did not answer in time", status: -1, version: PRAXIS_VERSION });
          case "bad-signature": {
            const response = processed ?? (await answer());
            const body = parsePraxisObject(await response.text()) ?? { description: "Ok", status: 0, version: PRAXIS_VERSION };
            return json(withSignature(body, `${auth.secret}-not-the-secret`));
          }
        }
      },
    });
  }

  function controlFaults(auth: Authenticated): Response {
    const mode = textField(auth.fields, "mode") ?? "";
    if (mode === "clear") {
      auth.merchant.faults.length = 0;
      return signed(auth.secret, { description: "Ok", faults: 0, status: 0, version: PRAXIS_VERSION });
    }
    const fault = parseFault(auth.fields);
    if (!fault) {
      return refusal(auth.secret, PRAXIS_EMULATOR_ERRORS.invalidRequest, `Invalid request: mode must be one of ${FAULT_MODES.join(", ")}, clear`);
    }
    auth.merchant.faults.push(fault);
    return signed(auth.secret, { description: "Ok", faults: auth.merchant.faults.length, status: 0, version: PRAXIS_VERSION });
  }

  // ------------------------------------------------------------ Direct API payout

  function createPayout(request: Request, auth: Authenticated): Response {
    const { fields, merchant, account, secret } = auth;
    const invalid = (description: string) => refusal(secret, PRAXIS_EMULATOR_ERRORS.invalidRequest, `Invalid request: ${description}`);

    const orderId = textField(fields, "order_id") ?? "";
    if (orderId === "" || orderId.length > 50) return invalid("order_id is required, at most 50 characters");
    // The order_id is the merchant's idempotency key: a resend is answered with the transaction it created.
    const existing = merchant.transactions.get(orderId);
    if (existing) return signed(secret, directAnswer(existing));

    if (textField(fields, "transaction_type") !== "payout") return invalid("transaction_type must be payout (the sandbox emulates payouts only)");
    const currency = textField(fields, "currency") ?? "";
    if (!/^[A-Z]{3}$/.test(currency) || !isKnownCurrency(currency)) return invalid("currency must be an ISO 4217 code");
    const amountText = textField(fields, "amount") ?? "";
    const amount = integerField(fields, "amount");
    if (amount === null || amount <= 0n || amountText.trim().length > PRAXIS_MAX_AMOUNT_DIGITS) {
      return invalid("amount must be a positive integer in cents, int(20)");
    }
    const amountMinor = fromPraxisAmount(amount, currency);
    if (amountMinor === null) return invalid(`amount ${amount} cents is not a whole number of ${currency}`);
    const country = textField(fields, "country") ?? "";
    if (!/^[A-Z]{2}$/.test(country)) return invalid("country must be an ISO 3166-1 alpha-2 code");
    const pin = textField(fields, "pin") ?? "";
    if (pin === "" || pin.length > 50) return invalid("pin is required, at most 50 characters");
    const returnUrl = textField(fields, "return_url") ?? "";
    if (!HTTP_URL.test(returnUrl) || returnUrl.length > 256) return invalid("return_url must be a URL of at most 256 characters");
    const requestedNotificationUrl = textField(fields, "notification_url") ?? "";
    if (!HTTP_URL.test(requestedNotificationUrl) || requestedNotificationUrl.length > 256) {
      return invalid("notification_url must be a URL of at most 256 characters");
    }
    const gateway = textField(fields, "gateway") ?? "";
    if (gateway === "") return invalid("gateway is required");
    if (!(account.gateways ?? [PRAXIS_SANDBOX_GATEWAY]).includes(gateway)) {
      return refusal(secret, PRAXIS_EMULATOR_ERRORS.gateway, `Gateway ${gateway} is not available for this application`);
    }
    const accountNumber = textField(fields, "data_account_number") ?? "";
    if (!/^\d{6,20}$/.test(accountNumber)) return invalid(`data_account_number (the ${PRAXIS_TEST_PROCESSOR} wallet number) must be 6 to 20 digits`);
    const email = textField(fields, "data_email");
    if (email !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return invalid("data_email must be an e-mail address");
    for (const name of ["variable1", "variable2", "variable3"]) {
      const value = textField(fields, name);
      if (value !== null && value.length > 256) return invalid(`${name} is at most 256 characters`);
    }

    const outcome = sandboxOutcome(accountNumber);
    const origin = new URL(request.url).origin;
    const traceId = nextTraceId++;
    const transaction: EmulatedPraxisTransaction = {
      merchantId: merchant.id,
      orderId,
      traceId,
      transactionId: outcome.initial === "early_rejection" ? "" : randomDigits(14),
      status: "pending",
      amount,
      amountMinor,
      currency,
      country,
      pin,
      gateway,
      accountNumber,
      ...(textField(fields, "data_full_name") ? { fullName: textField(fields, "data_full_name")! } : {}),
      ...(email ? { email } : {}),
      ...(textField(fields, "variable1") ? { description: textField(fields, "variable1")! } : {}),
      notificationUrl: account.notificationUrl ?? requestedNotificationUrl,
      returnUrl,
      redirectUrl: null,
      errorCode: "0",
      errorDetails: "",
      created: now().toISOString(),
      notifications: [],
    };
    merchant.transactions.set(orderId, transaction);

    switch (outcome.initial) {
      case "approved":
        settle(transaction, "approved");
        break;
      case "rejected":
        settle(transaction, "rejected");
        break;
      case "early_rejection":
        settle(transaction, "rejected", "[TEST] Transaction status: rejected (the gateway refused the attempt)");
        break;
      case "pending":
      case "pending_async": {
        transaction.status = outcome.initial;
        transaction.errorDetails = `[TEST] Transaction status: ${outcome.initial === "pending_async" ? "redirect" : "pending"}`;
        if (outcome.initial === "pending_async") {
          transaction.redirectUrl = `${origin}${basePath}/site/process/${Buffer.from(`${traceId}:${randomBytes(6).toString("hex")}`).toString("base64url")}`;
        }
        const final = outcome.final;
        if (final) {
          tasks.schedule(callbackDelayMs, () => {
            if (transaction.status === "pending" || transaction.status === "pending_async") settle(transaction, final);
          });
        }
        break;
      }
    }
    return signed(secret, directAnswer(transaction));
  }

  /** Final status, then its notification. */
  function settle(transaction: EmulatedPraxisTransaction, status: "approved" | "rejected" | "cancelled", details?: string): void {
    transaction.status = status;
    transaction.redirectUrl = null;
    transaction.errorCode = status === "rejected" ? "1" : "0";
    transaction.errorDetails = details ?? `[TEST] Transaction status: ${status}`;
    deliverNotification(transaction);
  }

  /** The Direct API answer, in the order and shape of Praxis's sandbox examples. */
  function directAnswer(transaction: EmulatedPraxisTransaction): PraxisFields {
    return {
      description: "Ok",
      error_code: transaction.errorCode,
      error_details: transaction.errorDetails,
      payment_processor: PRAXIS_TEST_PROCESSOR,
      redirect_url: transaction.redirectUrl,
      status: 0,
      trace_id: transaction.traceId,
      transaction_id: transaction.transactionId,
      transaction_status: transaction.status,
      version: PRAXIS_VERSION,
    };
  }

  // ------------------------------------------------------------ Agent API find-order

  function findOrder(auth: Authenticated): Response {
    const orderId = textField(auth.fields, "order_id") ?? "";
    if (orderId === "") return refusal(auth.secret, PRAXIS_EMULATOR_ERRORS.invalidRequest, "Invalid request: order_id is required");
    const transaction = auth.merchant.transactions.get(orderId);
    if (!transaction) {
      return signed(auth.secret, { description: "Order not found", status: PRAXIS_EMULATOR_ERRORS.orderNotFound, timestamp: unixNow(), version: PRAXIS_VERSION });
    }
    const orderStatus = transaction.status === "approved" ? "approved" : transaction.status === "pending" || transaction.status === "pending_async" ? "pending" : "rejected";
    return signed(auth.secret, {
      status: 0,
      description: "Ok",
      order_id: transaction.orderId,
      order_status: orderStatus,
      transaction_type: "payout",
      transaction_status: transaction.status,
      trace_id: transaction.traceId,
      transaction_id: transaction.transactionId,
      amount: transaction.amount,
      currency: transaction.currency,
      payment_processor: PRAXIS_TEST_PROCESSOR,
      redirect_url: transaction.redirectUrl,
      error_code: transaction.errorCode,
      error_details: transaction.errorDetails,
      version: PRAXIS_VERSION,
      timestamp: unixNow(),
    });
  }

  // ------------------------------------------------------------ notifications

  function notificationStatus(status: PraxisTransactionStatus): PraxisNotificationStatus {
    if (status === "rejected") return "declined";
    if (status === "approved" || status === "cancelled") return status;
    return "pending";
  }

  function deliverNotification(transaction: EmulatedPraxisTransaction): void {
    const url = transaction.notificationUrl;
    const secret = secrets.get(transaction.merchantId);
    if (!url || !secret || closed) return;
    sendNotification({
      url,
      label: `[praxis-emulator] notification for ${transaction.orderId}`,
      retryDelaysMs: retryDelays,
      start: (at): NotificationAttempt => ({ at, url, transactionStatus: notificationStatus(transaction.status), acknowledged: false }),
      // Each (re)send is signed afresh, with its own timestamp.
      request: (attempt) => ({
        headers: { "Content-Type": "application/json" },
        body: toPraxisJson(
          withSignature(
            {
              amount: transaction.amount,
              currency: transaction.currency,
              error_code: transaction.errorCode,
              error_details: transaction.errorDetails,
              merchant_id: transaction.merchantId,
              order_id: transaction.orderId,
              timestamp: unixNow(),
              trace_id: transaction.traceId,
              transaction_id: transaction.transactionId,
              transaction_status: attempt.transactionStatus,
            },
            secret,
          ),
        ),
      }),
      // Only a signed {status: 0} counts as received; anything else is resent.
      async accepted(response) {
        const reply = parsePraxisObject(await response.text());
        return response.ok && reply !== null && integerField(reply, "status") === 0n && verifyPraxis(reply, secret);
      },
      keep(attempt, acknowledged) {
        attempt.acknowledged = acknowledged;
        transaction.notifications.push(attempt);
      },
    });
  }

  // ------------------------------------------------------------ instance API

  return {
    handle,
    payouts: () => [...merchants.values()].flatMap((m) => [...m.transactions.values()]),
    payout(orderId, merchantId) {
      for (const m of merchants.values()) {
        if (merchantId !== undefined && m.id !== merchantId) continue;
        const found = m.transactions.get(orderId);
        if (found) return found;
      }
      return undefined;
    },
    injectFault(fault, merchantId) {
      const normalised = normaliseFault(fault);
      if (merchantId === undefined) globalFaults.push(normalised);
      else merchantState(merchantId).faults.push(normalised);
    },
    idle: () => tasks.idle(),
    close() {
      closed = true;
      tasks.close();
    },
  };
}

// ---------------------------------------------------------------- helpers

const FAULT_MODES: readonly PraxisFaultMode[] = ["500", "garbage", "timeout", "slow", "drop-after-accept", "negative-status", "bad-signature"];
const FAULT_OPERATIONS: readonly PraxisFaultOperation[] = ["payout", "status", "any"];
const FAULTS = faultBook<PraxisFaultMode, PraxisFaultOperation>({ modes: FAULT_MODES, operations: FAULT_OPERATIONS, defaultOperation: "payout", refusals: ["500"] });
const normaliseFault = FAULTS.normalise;


function parseFault(fields: PraxisFields): Required<PraxisFault> | null {
  return FAULTS.parse({
    mode: textField(fields, "mode"),
    operation: textField(fields, "operation") ?? undefined,
    count: integerField(fields, "count"),
    delayMs: integerField(fields, "delayMs"),
    process: fields.process,
  });
}

function randomDigits(n: number): string {
  let out = "";
  for (const byte of randomBytes(n)) out += String(byte % 10);
  return out.replace(/^0/, "1");
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
