// An emulator of Muda Payments' API (OAuth sign-in, direct payouts, status by
// reference_id, products, balance), as a Web-standard handler:
// (Request) => Promise<Response>. Mounted by the desk at /api/sandbox/muda
// (pass basePath so it can strip it) and by tests over real HTTP with
// serveWebHandler.
//
// Muda documents no sandbox behaviour, so the outcomes are chosen by the
// amount's last three digits (see sandboxOutcome). Muda's webhooks are
// unsigned, and so are the emulator's. Faults can be injected so that the
// desk's handling of "we do not know what happened" can be tested.
//
// State lives in memory on the instance.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { formatUnits } from "@/server/domain/money";
import { parseWithNumbers, plainDecimal, rawNumber, stringifyWithNumbers } from "@/server/connectors/muda/json";
import { MUDA_PRODUCTS, type MudaProduct } from "@/server/connectors/muda/products";
import { answerUnderFault, createCallbackSender, createEmulatorTasks, droppedResponse, faultBook, readJson, type CallbackAttempt, type EmulatorFault } from "../emulator-kit";

// ---------------------------------------------------------------- options

/** What Muda knows about a client, as set up in its dashboard. */
export interface MudaEmulatorAccount {
  /** The secret_key shared with the client; the api_key is what accounts() was asked with. */
  secretKey: string;
  /** Where webhooks go; none means no webhooks. */
  callbackUrl?: string;
  /** Stable client identity (state is kept per client); defaults to a hash of the api_key. */
  merchantId?: string;
  /** Muda's numeric client id; when set, the seed-version /v1/direct-payout must send it as clientId. */
  clientId?: string;
  /** Opening wallet balances by currency, as Muda shows them ("50000000.0000000"). Default: UGX 50,000,000. */
  balances?: Record<string, string>;
}

/**
 * Fault injection (emulator only, not part of Muda's API). A fault bites the
 * next `count` matching requests of the client it was set for (or of every
 * client when set through options / injectFault without an api key).
 *
 * - "500": answer 500 with Muda's error envelope. Not processed by default.
 * - "garbage": process, then answer 200 with a body that is not JSON.
 * - "timeout": process, then never answer until the client gives up.
 * - "slow": process, then answer normally after `delayMs` (default 5000).
 * - "drop-after-accept": process, then break the connection mid-answer.
 * `process` overrides whether the request is acted on before the fault.
 *
 * Over HTTP: POST {basePath}/_sandbox/faults with a Bearer token and
 * {mode, count?, operation?, delayMs?, process?}; DELETE clears.
 */
export type MudaFaultMode = "500" | "garbage" | "timeout" | "slow" | "drop-after-accept";
export type MudaFaultOperation = "payout" | "status" | "balance" | "token" | "any";

/** What goes wrong, on which calls, how often, until when: the kit's fault with this emulator's modes and operations. */
export type MudaFault = EmulatorFault<MudaFaultMode, MudaFaultOperation>;

export interface MudaEmulatorOptions {
  /** Path prefix the emulator is mounted under, stripped from request paths (default "/api/sandbox/muda"). */
  basePath?: string;
  /** Looks a client up by api_key; null means the key is not valid. */
  accounts: (apiKey: string) => Promise<MudaEmulatorAccount | null> | MudaEmulatorAccount | null;
  /** expires_in of issued tokens, in seconds (default 7200, as Muda). */
  tokenLifetimeSeconds?: number;
  /** Time from acceptance to the final status and its webhook (default 1500 ms). */
  callbackDelayMs?: number;
  /** How long the mobile network stays "offline" for an is_offline payout (default 3 × callbackDelayMs). */
  offlineDelayMs?: number;
  /** Waits before each redelivery of a webhook that was not answered 2xx (default 2 s, 10 s, 30 s). */
  callbackRetryDelaysMs?: number[];
  /**
   * What a reused reference_id gets. Muda does not document it: "existing"
   * (default) answers the existing transaction as it stands now; "409"
   * answers 409 Conflict. Never a second transaction.
   */
  duplicates?: "existing" | "409";
  /** Used to post webhooks (default node:http, as the connectors post). */
  fetch?: typeof fetch;
  now?: () => Date;
  faults?: MudaFault[];
  log?: (message: string) => void;
}

// ---------------------------------------------------------------- state

export type MudaTransactionStatus = "PENDING" | "PROCESSING" | "ON_HOLD" | "SUCCESS" | "FAILED";

export type { CallbackAttempt } from "../emulator-kit";

export interface EmulatedTransaction {
  merchant: string;
  referenceId: string;
  transId: string;
  status: MudaTransactionStatus;
  /** The amount as it was sent (JSON number text, major units). */
  amount: string;
  /** Amount and fee in stroops (1e-7 of the currency unit), as the Stellar wallet counts. */
  amountStroops: bigint;
  feeStroops: bigint;
  currency: string;
  productId: string;
  accountNumber: string;
  accountName?: string;
  memo?: string;
  apiVersion: "current" | "seed";
  isOffline: boolean;
  reason?: string;
  createdAt: string;
  updatedAt: string;
  callbackUrl?: string;
  callbackAttempts: CallbackAttempt[];
}

interface MerchantState {
  id: string;
  transactions: Map<string, EmulatedTransaction>;
  /** Wallet per currency, in stroops. */
  balances: Map<string, bigint>;
  faults: Required<MudaFault>[];
  /** Ids (jti) of the tokens issued and not revoked, with their expiry (epoch seconds). */
  tokens: Map<string, number>;
  tokenExchanges: number;
}

export interface MudaEmulator {
  handle(request: Request): Promise<Response>;
  /** Every transaction held, across clients (live objects: read, do not mutate). */
  payouts(): EmulatedTransaction[];
  payout(referenceId: string): EmulatedTransaction | undefined;
  /** How many successful token exchanges a client (by api_key) made, or all clients together. */
  tokenExchanges(apiKey?: string): Promise<number>;
  /** Makes every token issued so far invalid (Muda answers 401 until the client signs in again). */
  revokeTokens(apiKey?: string): Promise<void>;
  /** Adds a fault for one client (by api_key) or, without a key, for all. */
  injectFault(fault: MudaFault, apiKey?: string): Promise<void>;
  /** Muda's operators decide on a payout held for verification (210). */
  releaseHold(referenceId: string, decision: "approve" | "reject"): boolean;
  /** Resolves when no status change or webhook delivery is scheduled. */
  idle(): Promise<void>;
  /** Cancels every timer (status changes, webhook retries, hanging answers). */
  close(): void;
}

/**
 * The sandbox's outcomes (Muda documents none), by the last three digits of
 * the amount in whole currency units:
 * - …111: completes at once: 200 SUCCESS (webhook shortly after).
 * - …222: 202 PENDING, then FAILED (the wallet is refunded).
 * - …333: 210 "verification required – on hold" (ON_HOLD) until releaseHold()
 *   or POST {basePath}/_sandbox/hold/{reference_id} {"decision":"approve"|"reject"}.
 * - …444: 202 PENDING with is_offline: true; the network comes back after
 *   offlineDelayMs and the payout then succeeds.
 * - …555: 202 PENDING for ever, no webhook.
 * - anything else: 202 PENDING, then SUCCESS after callbackDelayMs.
 */
export type SandboxOutcome = "success-now" | "fail" | "hold" | "offline" | "stuck" | "success";

export function sandboxOutcome(amount: string): SandboxOutcome {
  const whole = amount.split(".")[0]!;
  switch (whole.slice(-3)) {
    case "111":
      return "success-now";
    case "222":
      return "fail";
    case "333":
      return "hold";
    case "444":
      return "offline";
    case "555":
      return "stuck";
    default:
      return "success";
  }
}

const STROOPS = 7;
const DEFAULT_BALANCES: Record<string, string> = { UGX: "50000000.0000000" };
const REFERENCE = /^[A-Za-z0-9_-]{1,64}$/;

export function createMudaEmulator(options: MudaEmulatorOptions): MudaEmulator {
  const basePath = (options.basePath ?? "/api/sandbox/muda").replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  const tokenLifetime = options.tokenLifetimeSeconds ?? 7200;
  const callbackDelayMs = options.callbackDelayMs ?? 1500;
  const offlineDelayMs = options.offlineDelayMs ?? callbackDelayMs * 3;
  const retryDelays = options.callbackRetryDelaysMs ?? [2000, 10_000, 30_000];
  const postCallback = options.fetch;
  const duplicates = options.duplicates ?? "existing";
  const log = options.log ?? (() => {});
  const jwtKey = randomBytes(32);

  const merchants = new Map<string, MerchantState>();
  const globalFaults: Required<MudaFault>[] = (options.faults ?? []).map(normaliseFault);
  const tasks = createEmulatorTasks("muda-emulator", log);
  const sendCallback = createCallbackSender({ tasks, post: postCallback, now, log });

  // ------------------------------------------------------------ clients

  function merchantFor(apiKey: string, account: MudaEmulatorAccount): MerchantState {
    const id = account.merchantId ?? `key-${sha256(apiKey).slice(0, 16)}`;
    let state = merchants.get(id);
    if (!state) {
      state = { id, transactions: new Map(), balances: new Map(), faults: [], tokens: new Map(), tokenExchanges: 0 };
      for (const [currency, balance] of Object.entries(account.balances ?? DEFAULT_BALANCES)) {
        const stroops = toStroops(balance);
        if (stroops === null) throw new Error(`Opening balance ${balance} ${currency} is not a decimal with at most 7 places`);
        state.balances.set(currency, stroops);
      }
      merchants.set(id, state);
    }
    return state;
  }

  async function lookup(apiKey: string): Promise<MudaEmulatorAccount | null> {
    if (apiKey === "") return null;
    return (await options.accounts(apiKey)) ?? null;
  }

  // ------------------------------------------------------------ tokens (HS256 JWTs)

  function issueToken(apiKey: string, account: MudaEmulatorAccount, merchant: MerchantState): string {
    const iat = Math.floor(now().getTime() / 1000);
    const jti = randomUUID();
    for (const [id, exp] of merchant.tokens) if (exp <= iat) merchant.tokens.delete(id);
    merchant.tokens.set(jti, iat + tokenLifetime);
    merchant.tokenExchanges++;
    const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const payload = base64url(
      JSON.stringify({ sub: merchant.id, api_key: apiKey, sv: sha256(account.secretKey).slice(0, 16), iat, exp: iat + tokenLifetime, jti }),
    );
    const signature = createHmac("sha256", jwtKey).update(`${header}.${payload}`).digest("base64url");
    return `${header}.${payload}.${signature}`;
  }

  async function authenticate(request: Request): Promise<{ apiKey: string; account: MudaEmulatorAccount; merchant: MerchantState } | Response> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    if (!match) return envelope(401, "Unauthorized: a Bearer token is required");
    const parts = match[1]!.split(".");
    if (parts.length !== 3) return envelope(401, "Unauthorized: invalid token");
    const expected = createHmac("sha256", jwtKey).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return envelope(401, "Unauthorized: invalid token");
    let claims: { api_key?: string; sv?: string; exp?: number; jti?: string };
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    } catch {
      return envelope(401, "Unauthorized: invalid token");
    }
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= now().getTime()) return envelope(401, "Unauthorized: token expired");
    const apiKey = claims.api_key ?? "";
    const account = await lookup(apiKey);
    // A rotated secret ends the tokens issued under the old one.
    if (!account || claims.sv !== sha256(account.secretKey).slice(0, 16)) return envelope(401, "Unauthorized: invalid token");
    const merchant = merchantFor(apiKey, account);
    if (!claims.jti || !merchant.tokens.has(claims.jti)) return envelope(401, "Unauthorized: token revoked");
    return { apiKey, account, merchant };
  }

  async function signIn(request: Request): Promise<Response> {
    const body = await readJson(request);
    if (!isRecord(body) || typeof body.api_key !== "string" || typeof body.secret_key !== "string") {
      return envelope(400, "api_key and secret_key are required");
    }
    const account = await lookup(body.api_key);
    if (!account || !safeEqual(body.secret_key, account.secretKey)) return envelope(401, "Invalid api_key or secret_key");
    const merchant = merchantFor(body.api_key, account);
    return withFault(request, merchant, "token", async () =>
      json(200, {
        status: 200,
        message: "success",
        data: { access_token: issueToken(body.api_key as string, account, merchant), token_type: "Bearer", expires_in: tokenLifetime },
      }),
    );
  }

  // ------------------------------------------------------------ faults

  function takeFault(merchant: MerchantState, operation: Exclude<MudaFaultOperation, "any">): Required<MudaFault> | null {
    return FAULTS.take([merchant.faults, globalFaults], operation);
  }

  /** Runs `answer` under the client's next matching fault, if any. */
  async function withFault(
    request: Request,
    merchant: MerchantState,
    operation: Exclude<MudaFaultOperation, "any">,
    answer: () => Promise<Response>,
  ): Promise<Response> {
    const fault = takeFault(merchant, operation);
    if (!fault) return answer();
    log(`[muda-emulator] fault ${fault.mode} on ${operation}`);
    return answerUnderFault(tasks, request, fault, answer, {
      serverError: () => envelope(500, "An unexpected error occurred"),
      gatewayTimeout: () => envelope(504, "Gateway timeout"),
      dropped: () => droppedResponse('{"status":'),
    });
  }

  // ------------------------------------------------------------ routing

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    let path = url.pathname;
    if (basePath) {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) return envelope(404, `The emulator is mounted at ${basePath}`);
      path = path.slice(basePath.length);
    }
    path = path.replace(/\/+$/, "") || "/";

    try {
      if (path === "/v1/clients/oauth/token") {
        if (method !== "POST") return methodNotAllowed();
        return signIn(request);
      }

      const auth = await authenticate(request);
      if (auth instanceof Response) return auth;
      const { account, merchant } = auth;

      if (path === "/v1/payment/direct-payout") {
        if (method !== "POST") return methodNotAllowed();
        return withFault(request, merchant, "payout", () => createPayout(request, account, merchant, "current"));
      }
      if (path === "/v1/direct-payout") {
        if (method !== "POST") return methodNotAllowed();
        return withFault(request, merchant, "payout", () => createPayout(request, account, merchant, "seed"));
      }
      const single = /^\/v1\/payment\/transactionReferenceId\/([^/]+)$/.exec(path);
      if (single) {
        if (method !== "GET") return methodNotAllowed();
        const reference = decodeURIComponent(single[1]!);
        return withFault(request, merchant, "status", async () => {
          const transaction = merchant.transactions.get(reference);
          if (!transaction) return envelope(404, "Transaction not found");
          return json(200, { status: 200, message: "success", data: transactionObject(transaction) });
        });
      }
      if (path === "/v1/payment/products") {
        if (method !== "GET") return methodNotAllowed();
        return json(200, { status: 200, message: "success", data: MUDA_PRODUCTS.map(productObject) });
      }
      if (path === "/v1/payment/balance") {
        if (method !== "GET") return methodNotAllowed();
        return withFault(request, merchant, "balance", async () =>
          json(
            200,
            [...merchant.balances].map(([currency, stroops]) => ({ asset_code: currency, currency, balance: formatUnits(stroops, STROOPS) })),
          ),
        );
      }
      if (path === "/v1/payment/statement") {
        if (method !== "GET") return methodNotAllowed();
        return json(200, { status: 200, message: "success", data: [...merchant.transactions.values()].map(transactionObject) });
      }
      if (path === "/_sandbox/faults") {
        if (method === "DELETE") {
          merchant.faults.length = 0;
          return json(200, { status: 200, message: "success", data: { faults: [] } });
        }
        if (method !== "POST") return methodNotAllowed();
        const fault = parseFault(await readJson(request));
        if (!fault) return envelope(400, "mode must be one of 500, garbage, timeout, slow, drop-after-accept");
        merchant.faults.push(fault);
        return json(200, { status: 200, message: "success", data: { faults: merchant.faults } });
      }
      const hold = /^\/_sandbox\/hold\/([^/]+)$/.exec(path);
      if (hold) {
        if (method !== "POST") return methodNotAllowed();
        const body = await readJson(request);
        const decision = isRecord(body) ? body.decision : undefined;
        if (decision !== "approve" && decision !== "reject") return envelope(400, 'decision must be "approve" or "reject"');
        const transaction = merchant.transactions.get(decodeURIComponent(hold[1]!));
        if (!transaction) return envelope(404, "Transaction not found");
        if (!release(transaction, decision)) return envelope(409, `The transaction is ${transaction.status}, not ON_HOLD`);
        return json(200, { status: 200, message: "success", data: transactionObject(transaction) });
      }
      return envelope(404, "Resource not found");
    } catch (error) {
      log(`[muda-emulator] ${method} ${path} failed: ${(error as Error).stack ?? error}`);
      return envelope(500, "An unexpected error occurred");
    }
  }

  // ------------------------------------------------------------ payouts

  async function createPayout(
    request: Request,
    account: MudaEmulatorAccount,
    merchant: MerchantState,
    apiVersion: "current" | "seed",
  ): Promise<Response> {
    let body: unknown;
    try {
      body = parseWithNumbers(await request.text());
    } catch {
      return envelope(400, "The request body is not valid JSON");
    }
    if (!isRecord(body)) return envelope(400, "The request body must be a JSON object");

    const reference = body.reference_id;
    if (typeof reference !== "string" || !REFERENCE.test(reference)) {
      return envelope(422, "reference_id is required: 1 to 64 letters, digits, '-' or '_'");
    }
    // A reused reference_id never creates a second transaction.
    const existing = merchant.transactions.get(reference);
    if (existing) {
      if (duplicates === "409") return envelope(409, "Duplicate reference_id");
      return transactionAnswer(existing);
    }

    const checked = checkPayout(body, account, apiVersion);
    if ("message" in checked) return envelope(422, checked.message);
    const { product, amount, amountStroops, accountNumber } = checked;

    const feeStroops = toStroops(product.flatFee)!;
    const available = merchant.balances.get(product.currency) ?? 0n;
    if (amountStroops + feeStroops > available) return envelope(400, "Insufficient balance");
    // Debited at acceptance (so concurrent payouts cannot overdraw), refunded if the payout fails.
    merchant.balances.set(product.currency, available - amountStroops - feeStroops);

    const outcome = sandboxOutcome(amount);
    const at = now().toISOString();
    const extra = isRecord(body.extra_data) ? body.extra_data : {};
    const transaction: EmulatedTransaction = {
      merchant: merchant.id,
      referenceId: reference,
      transId: randomUUID(),
      status: outcome === "success-now" ? "SUCCESS" : outcome === "hold" ? "ON_HOLD" : "PENDING",
      amount,
      amountStroops,
      feeStroops,
      currency: product.currency,
      productId: product.productId,
      accountNumber,
      ...(typeof extra.account_name === "string" ? { accountName: extra.account_name } : {}),
      ...(typeof body.memo === "string" ? { memo: body.memo } : {}),
      apiVersion,
      isOffline: outcome === "offline",
      createdAt: at,
      updatedAt: at,
      callbackUrl: account.callbackUrl,
      callbackAttempts: [],
    };
    merchant.transactions.set(reference, transaction);

    switch (outcome) {
      case "success-now":
        tasks.schedule(Math.min(callbackDelayMs, 50), () => deliverCallback(transaction));
        break;
      case "fail":
        settleLater(transaction, callbackDelayMs, "FAILED", "The recipient's mobile money account could not receive the payout");
        break;
      case "offline":
        tasks.schedule(offlineDelayMs, () => {
          if (transaction.status !== "PENDING") return;
          transaction.isOffline = false;
          transaction.status = "PROCESSING";
          touch(transaction);
          settleLater(transaction, callbackDelayMs, "SUCCESS");
        });
        break;
      case "success":
        settleLater(transaction, callbackDelayMs, "SUCCESS");
        break;
      case "hold":
      case "stuck":
        break;
    }
    return transactionAnswer(transaction);
  }

  type Checked = { product: MudaProduct; amount: string; amountStroops: bigint; accountNumber: string } | { message: string };

  /** The rules Muda states (and the product's limits), in the order a request is read. */
  function checkPayout(body: Record<string, unknown>, account: MudaEmulatorAccount, apiVersion: "current" | "seed"): Checked {
    if (apiVersion === "seed") {
      const clientId = plainDecimal(body.clientId);
      if (!clientId || !/^\d+$/.test(clientId)) return { message: "clientId is required (a number)" };
      if (account.clientId && clientId !== account.clientId) return { message: "clientId does not belong to this api_key" };
      if (body.memo !== undefined && typeof body.memo !== "string") return { message: "memo must be a string" };
    } else {
      if (body.trans_type !== "PUSH") return { message: 'trans_type must be "PUSH"' };
      if (body.extra_data !== undefined && !isRecord(body.extra_data)) return { message: "extra_data must be an object" };
    }

    const productText = plainDecimal(body.product_id) ?? (typeof body.product_id === "string" ? body.product_id : null);
    const product = MUDA_PRODUCTS.find((p) => p.productId === productText);
    if (!product) return { message: `product_id ${productText ?? "(missing)"} is not a product of this account` };

    if (typeof body.currency !== "string") return { message: "currency is required" };
    if (body.currency !== product.currency) return { message: `Product ${product.productId} pays in ${product.currency} only` };

    const amount = plainDecimal(body.amount);
    if (amount === null || amount.startsWith("-")) return { message: "amount must be a positive number in major units" };
    const decimals = amount.includes(".") ? amount.split(".")[1]!.length : 0;
    if (product.currency === "UGX" && decimals > 0) return { message: "UGX amounts must be whole numbers" };
    const amountStroops = toStroops(amount);
    if (amountStroops === null || decimals > 2) return { message: `amount has too many decimals for ${product.currency}` };
    if (amountStroops < toStroops(product.minAmount)!) return { message: `Amount below the minimum of ${product.minAmount} ${product.currency}` };
    if (amountStroops > toStroops(product.maxAmount)!) return { message: `Amount above the maximum of ${product.maxAmount} ${product.currency}` };

    const accountNumber = apiVersion === "seed" ? body.phone : body.account_number;
    const field = apiVersion === "seed" ? "phone" : "account_number";
    const digits = product.msisdnLength - product.dialCode.length;
    if (typeof accountNumber !== "string" || !new RegExp(`^${product.dialCode}\\d{${digits}}$`).test(accountNumber)) {
      return { message: `${field} must be ${product.dialCode}${"X".repeat(digits)} (${product.msisdnLength} digits, no +)` };
    }
    if (product.currency === "KES") {
      const extra = isRecord(body.extra_data) ? body.extra_data : {};
      if (typeof extra.account_name !== "string" || extra.account_name.trim() === "") return { message: "extra_data.account_name is required for KES" };
    }
    return { product, amount, amountStroops, accountNumber };
  }

  /** The creation answer, also given for a reused reference_id: the transaction as it stands. */
  function transactionAnswer(transaction: EmulatedTransaction): Response {
    const data = { trans_id: transaction.transId, status: transaction.status, is_offline: transaction.isOffline };
    switch (transaction.status) {
      case "SUCCESS":
        return json(200, { status: 200, message: "Transaction completed successfully", data });
      case "FAILED":
        return json(200, { status: 200, message: transaction.reason ?? "Transaction failed", data });
      case "ON_HOLD":
        return json(210, { status: 210, message: "Verification required – on hold", data });
      default:
        return json(202, { status: 202, message: "Transaction is being processed", data });
    }
  }

  function settleLater(transaction: EmulatedTransaction, delayMs: number, final: "SUCCESS" | "FAILED", reason?: string): void {
    tasks.schedule(Math.floor(delayMs / 2), () => {
      if (transaction.status === "PENDING") {
        transaction.status = "PROCESSING";
        touch(transaction);
      }
    });
    tasks.schedule(delayMs, () => {
      if (transaction.status !== "PENDING" && transaction.status !== "PROCESSING") return;
      settle(transaction, final, reason);
    });
  }

  function settle(transaction: EmulatedTransaction, final: "SUCCESS" | "FAILED", reason?: string): void {
    transaction.status = final;
    touch(transaction);
    if (final === "FAILED") {
      transaction.reason = reason ?? "Transaction failed";
      const merchant = merchants.get(transaction.merchant);
      if (merchant) {
        const refund = transaction.amountStroops + transaction.feeStroops;
        merchant.balances.set(transaction.currency, (merchant.balances.get(transaction.currency) ?? 0n) + refund);
      }
    }
    deliverCallback(transaction);
  }

  function release(transaction: EmulatedTransaction, decision: "approve" | "reject"): boolean {
    if (transaction.status !== "ON_HOLD") return false;
    if (decision === "reject") {
      settle(transaction, "FAILED", "Rejected after verification");
    } else {
      transaction.status = "PENDING";
      touch(transaction);
      settleLater(transaction, callbackDelayMs, "SUCCESS");
    }
    return true;
  }

  function touch(transaction: EmulatedTransaction): void {
    transaction.updatedAt = now().toISOString();
  }

  // ------------------------------------------------------------ webhooks (unsigned, like Muda's)

  function deliverCallback(transaction: EmulatedTransaction): void {
    const url = transaction.callbackUrl;
    if (!url) return;
    sendCallback({
      url,
      label: `[muda-emulator] webhook for ${transaction.referenceId}`,
      retryDelaysMs: retryDelays,
      start: (at): CallbackAttempt => ({ at, url }),
      request: () => ({
        headers: { "Content-Type": "application/json" },
        body: stringifyWithNumbers({
          type: "transaction_status",
          timestamp: now().toISOString(),
          reference_id: transaction.referenceId,
          status: transaction.status,
          amount: rawNumber(transaction.amount),
          currency: transaction.currency,
          transaction_id: transaction.transId,
          trans_type: "PUSH",
          account_number: transaction.accountNumber,
          ...(transaction.reason ? { reason: transaction.reason } : {}),
        }),
      }),
      keep: (attempt) => transaction.callbackAttempts.push(attempt),
    });
  }

  // ------------------------------------------------------------ instance API

  async function merchantOf(apiKey: string): Promise<MerchantState> {
    const account = await lookup(apiKey);
    if (!account) throw new Error("Unknown api_key");
    return merchantFor(apiKey, account);
  }

  function find(referenceId: string): EmulatedTransaction | undefined {
    for (const m of merchants.values()) {
      const found = m.transactions.get(referenceId);
      if (found) return found;
    }
    return undefined;
  }

  return {
    handle,
    payouts: () => [...merchants.values()].flatMap((m) => [...m.transactions.values()]),
    payout: find,
    async tokenExchanges(apiKey) {
      if (apiKey !== undefined) return (await merchantOf(apiKey)).tokenExchanges;
      return [...merchants.values()].reduce((sum, m) => sum + m.tokenExchanges, 0);
    },
    async revokeTokens(apiKey) {
      const targets = apiKey !== undefined ? [await merchantOf(apiKey)] : [...merchants.values()];
      for (const m of targets) m.tokens.clear();
    },
    async injectFault(fault, apiKey) {
      const normalised = normaliseFault(fault);
      if (apiKey === undefined) globalFaults.push(normalised);
      else (await merchantOf(apiKey)).faults.push(normalised);
    },
    releaseHold(referenceId, decision) {
      const transaction = find(referenceId);
      return transaction ? release(transaction, decision) : false;
    },
    idle: () => tasks.idle(),
    close() {
      tasks.close();
    },
  };
}

// ---------------------------------------------------------------- helpers

/**
 * A transaction as Muda's Get Transaction answers it: beside the amount, the
 * `fee` and the `total_amount` ("Total amount including fees"), JSON numbers
 * in major units written with two decimals as in Muda's example
 * ("fee": 1000.00, "total_amount": 51000.00). They are what the wallet was
 * debited at acceptance; a FAILED transaction was refunded both (see settle).
 */
function transactionObject(transaction: EmulatedTransaction) {
  return {
    trans_id: transaction.transId,
    transaction_id: transaction.transId,
    reference_id: transaction.referenceId,
    status: transaction.status,
    amount: rawNumber(transaction.amount),
    fee: rawNumber(documentedDecimal(transaction.feeStroops)),
    total_amount: rawNumber(documentedDecimal(transaction.amountStroops + transaction.feeStroops)),
    currency: transaction.currency,
    trans_type: "PUSH",
    product_id: rawNumber(transaction.productId),
    account_number: transaction.accountNumber,
    is_offline: transaction.isOffline,
    ...(transaction.reason ? { reason: transaction.reason } : {}),
    created_at: transaction.createdAt,
    updated_at: transaction.updatedAt,
  };
}

/**
 * A product as GET /v1/payment/products lists it in Muda's docs: the fee as
 * `fee_type` "FLAT" and `fee_amount` a decimal string ("2000.0"), limits as
 * JSON numbers. (Muda also lists a `provider_fee`; the emulator charges the
 * wallet `fee_amount` and lists no provider fee of its own.)
 */
function productObject(product: MudaProduct) {
  return {
    product_id: rawNumber(product.productId),
    product_name: product.label,
    product_code: "MOBILE_MONEY",
    transaction_type: product.transType,
    status: "active",
    currency: product.currency,
    fee_type: "FLAT",
    fee_amount: `${product.flatFee}.0`,
    requires_extra_data: rawNumber("0"),
    min_amount: rawNumber(product.minAmount),
    max_amount: rawNumber(product.maxAmount),
  };
}

/** Stroops as Muda's documented amounts: two decimals ("2000.00"), or every decimal the amount needs. */
function documentedDecimal(stroops: bigint): string {
  const full = formatUnits(stroops, STROOPS);
  const [whole, fraction = ""] = full.split(".");
  const kept = fraction.replace(/0+$/, "");
  return `${whole}.${kept.padEnd(2, "0")}`;
}

/** A decimal string with at most 7 places, in stroops; null otherwise. */
function toStroops(decimal: string): bigint | null {
  const match = /^(\d+)(?:\.(\d{1,7}))?$/.exec(decimal);
  if (!match) return null;
  return BigInt(match[1]!) * 10n ** BigInt(STROOPS) + BigInt((match[2] ?? "").padEnd(STROOPS, "0"));
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function safeEqual(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

const FAULT_MODES: readonly MudaFaultMode[] = ["500", "garbage", "timeout", "slow", "drop-after-accept"];
const FAULT_OPERATIONS: readonly MudaFaultOperation[] = ["payout", "status", "balance", "token", "any"];
const FAULTS = faultBook<MudaFaultMode, MudaFaultOperation>({ modes: FAULT_MODES, operations: FAULT_OPERATIONS, defaultOperation: "payout", refusals: ["500"] });
const normaliseFault = FAULTS.normalise;

function parseFault(body: unknown): Required<MudaFault> | null {
  return isRecord(body) ? FAULTS.parse(body as { mode: unknown }) : null;
}

function json(status: number, body: unknown): Response {
  return new Response(stringifyWithNumbers(body), { status, headers: { "content-type": "application/json" } });
}

/** Muda's error envelope: data is null. */
function envelope(status: number, message: string): Response {
  return json(status, { status, message, data: null });
}

function methodNotAllowed(): Response {
  return envelope(405, "Method not allowed");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
