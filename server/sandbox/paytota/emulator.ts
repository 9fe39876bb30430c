// An emulator of Paytota's Mobile Money V2 payouts API, as a Web-standard
// handler: (Request) => Promise<Response>. Mounted by the desk at
// /api/sandbox/paytota/[...path] (pass basePath so it can strip it) and by
// tests over real HTTP with serveWebHandler.
//
// It speaks the published protocol: Bearer secret key, brand_id, the
// two-step initiate (201 payout object, status "initialized", execution_url)
// and execute ({"payout_type":"mobile"} → pending, or error
// insufficient_funds), GET /api/v1/payouts/{id}/, callbacks carrying the full
// payout object signed with X-Signature (RSA PKCS#1 v1.5, SHA-256, raw body)
// and retried, the public key at /api/v1/public_key/, balances, and company
// statements (request, poll, download). Faults can be injected on every call.
//
// Where Paytota's docs are silent, the emulator's choices (documented, and
// what the connector is tested against):
// - Sandbox outcomes, by the recipient phone number's last three digits:
//     …111  execute answers {"status":"error","error":{"code":"insufficient_funds"}}
//           (also whenever the balance is below the amount); the payout becomes "error"
//     …222  executes (pending), then fails: error invalid_account
//     …333  executes (pending), then fails: error transaction_failed
//     …444  executes (pending) and stays pending, no callback
//     other executes (pending), then succeeds
// - A second initiate with a reference already used answers 400 with a
//   field error on `reference`: never a second payout for one reference.
//   The docs do not say, so the other readings can be chosen
//   (repeatedReference): "create" makes another payout with the same
//   reference, "return" answers the existing payout (200) as if idempotent.
// - GET /api/v1/payouts/?reference=<ref> lists the company's payouts with
//   that reference ({"results": [...], "next": null, "previous": null});
//   with lookupByReference: false it ignores the filter, like an API that
//   does not know the parameter; with "absent" it answers 404, like a
//   Paytota that offers only what its docs list.
// - Executing a payout that is not "initialized" answers 400
//   {"status":"error","error":{"code":"invalid_status"}}.
// - Amounts in answers are integers in minor units (amountUnits "minor"),
//   or major units with amountUnits "major".
// - Fees: Paytota publishes no fee schedule, so the emulator charges its own
//   (payoutFees; by default a flat part plus 1% per currency, see
//   DEFAULT_PAYOUT_FEES). The fee is taken on top of the amount when the
//   payout is executed (amount + fee reserved, both given back if it fails),
//   and the payout object says so: payment.fee_amount is the fee,
//   payment.net_amount what the payout took from the balance (amount + fee);
//   a payout not executed, or failed and refunded, shows fee_amount 0.
// - The execute URL takes no Authorization (the seed lists none).
//
// State lives in memory on the instance.
import { createHash, createPrivateKey, createPublicKey, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { currencyExponent, formatUnits, isKnownCurrency, parseAmount, toDecimalString } from "@/server/domain/money";
import { generateSigningKey, signBody } from "@/server/connectors/paytota/signature";
import { answerAmountText, JsonNumber, type AmountUnits } from "@/server/connectors/paytota/wire";
import { answerUnderFault, createCallbackSender, createEmulatorTasks, droppedResponse, faultBook, readJson, type CallbackAttempt, type EmulatorFault } from "../emulator-kit";

// ---------------------------------------------------------------- options

/** What Paytota knows about a company, as configured in its dashboard. */
export interface PaytotaEmulatorAccount {
  /** The brand the secret key may pay for (brand_id must match). */
  brandId: string;
  /** Where payout callbacks go; none means no callbacks. */
  callbackUrl?: string;
  /** Stable company identity (state is kept per company); defaults to a hash of the secret key. */
  companyId?: string;
}

/**
 * Fault injection (emulator only, not part of Paytota's API). A fault bites
 * the next `count` matching requests of the company it was set for (or of
 * every company when set through options / injectFault without a key).
 *
 * - "500": answer 500. Not processed by default.
 * - "garbage": process, then answer 200 with a body that is not JSON.
 * - "timeout": process, then never answer until the client gives up.
 * - "slow": process, then answer normally after `delayMs` (default 5000).
 * - "drop-after-accept": process, then break the connection mid-answer.
 * `process` overrides whether the request is acted on before the fault.
 *
 * Over HTTP: POST {basePath}/_sandbox/faults with the company's Bearer
 * secret key and {mode, count?, operation?, delayMs?, process?}; DELETE clears.
 */
export type PaytotaFaultMode = "500" | "garbage" | "timeout" | "slow" | "drop-after-accept";
export type PaytotaFaultOperation = "initiate" | "execute" | "status" | "lookup" | "balance" | "statements" | "publicKey" | "any";

/** What goes wrong, on which calls, how often, until when: the kit's fault with this emulator's modes and operations. */
export type PaytotaFault = EmulatorFault<PaytotaFaultMode, PaytotaFaultOperation>;

export interface PaytotaEmulatorOptions {
  /** Path prefix the emulator is mounted under, stripped from request paths (default "/api/sandbox/paytota"). */
  basePath?: string;
  /** Looks a company up by secret key; null means the key is not valid. */
  accounts: (secretKey: string) => Promise<PaytotaEmulatorAccount | null> | PaytotaEmulatorAccount | null;
  /** Public URL of the emulator (origin + basePath) for execution and download URLs; default: the request's origin + basePath. */
  publicUrl?: string;
  /** Time from execution to the final status and its callback (default 1500 ms). */
  callbackDelayMs?: number;
  /** Waits before each redelivery of a callback that was not answered 2xx (default 2 s, 10 s, 30 s). */
  callbackRetryDelaysMs?: number[];
  /** Time for a statement to be generated (default 500 ms). */
  statementDelayMs?: number;
  /** Used to post callbacks (default node:http, as the connectors post). */
  fetch?: typeof fetch;
  now?: () => Date;
  /** Opening balances per company, major units per currency (default UGX 50,000,000, KES 1,000,000.00, …). */
  initialBalances?: Record<string, string>;
  /** The emulator's own RSA callback-signing key (PKCS#8 PEM; default: a fresh 2048-bit pair). */
  signingKeyPem?: string;
  /** How integer amounts are written in answers (default "minor"). */
  amountUnits?: AmountUnits;
  /** The fee of a payout per currency (default DEFAULT_PAYOUT_FEES); a currency not listed is paid without a fee. */
  payoutFees?: Record<string, PaytotaFeeRule>;
  /**
   * GET /api/v1/payouts/?reference=: true (default) filters by reference,
   * false ignores the filter (lists everything), "absent" answers 404 (the
   * documented API has no such call).
   */
  lookupByReference?: boolean | "absent";
  /** A second initiate with a used reference: "refuse" (default, 400 on reference), "create" another payout, or "return" the existing one. */
  repeatedReference?: "refuse" | "create" | "return";
  faults?: PaytotaFault[];
  log?: (message: string) => void;
}

// ---------------------------------------------------------------- state

export type EmulatedPayoutStatus = "initialized" | "pending" | "success" | "error";

export type { CallbackAttempt } from "../emulator-kit";

export interface EmulatedPayout {
  company: string;
  id: string;
  reference: string;
  brandId: string;
  status: EmulatedPayoutStatus;
  client: { email: string; phone: string; country: string; full_name: string };
  currency: string;
  amountMinor: bigint;
  /** The fee taken from the balance with the amount (0 until executed, and again once a failure refunded it). */
  feeMinor: bigint;
  description: string;
  createdOn: number;
  updatedOn: number;
  paidOn: number | null;
  statusHistory: Array<{ status: string; timestamp: number }>;
  executionUrl: string;
  executions: number;
  internalReference?: string;
  error?: { code: string; message: string };
  callbackUrl?: string;
  callbackAttempts: CallbackAttempt[];
}

interface EmulatedStatement {
  id: string;
  company: string;
  format: string;
  timezone: string;
  from: number | null;
  to: number | null;
  status: "pending" | "success";
  token: string;
  publicUrl: string;
  createdOn: number;
  updatedOn: number;
  finishedOn: number | null;
}

interface CompanyState {
  id: string;
  payouts: Map<string, EmulatedPayout>;
  byReference: Map<string, string>;
  /** Available balance per currency, in minor units. */
  balances: Map<string, bigint>;
  statements: Map<string, EmulatedStatement>;
  faults: Required<PaytotaFault>[];
}

export interface PaytotaEmulator {
  handle(request: Request): Promise<Response>;
  /** The callback-signing public key, as GET /api/v1/public_key/ serves it (PEM). */
  publicKeyPem(): string;
  /** Replaces the callback-signing key (tests of key rotation). */
  rotateSigningKey(privateKeyPem?: string): void;
  /** Every payout held, across companies (live objects: read, do not mutate). */
  payouts(): EmulatedPayout[];
  /** Payouts whose reference is this one or, with `repeats`, a repeat of it ("<reference>.<tag>", as the desk's connector makes them). */
  payoutsByReference(reference: string, options?: { repeats?: boolean }): EmulatedPayout[];
  payout(id: string): EmulatedPayout | undefined;
  payoutByReference(reference: string): EmulatedPayout | undefined;
  /** Available balance of a company (by secret key) in minor units. */
  balance(secretKey: string, currency: string): Promise<bigint | undefined>;
  /** Adds a fault for one company (by secret key) or, without a key, for all. */
  injectFault(fault: PaytotaFault, secretKey?: string): Promise<void>;
  /** Resolves when no status change or callback delivery is scheduled. */
  idle(): Promise<void>;
  /** Cancels every timer (status changes, callback retries, hanging answers). */
  close(): void;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MSISDN = /^[1-9]\d{8,14}$/;
const AMOUNT = /^(0|[1-9]\d*)(\.\d+)?$/;

/**
 * The emulator's payout fee in one currency: a flat part (major units,
 * decimal string) plus basis points of the amount, rounded half up to the
 * currency's minor unit.
 */
export interface PaytotaFeeRule {
  flat?: string;
  basisPoints?: number;
}

/** The emulator's own fee schedule (Paytota publishes none): a flat part plus 1% of the amount. */
export const DEFAULT_PAYOUT_FEES: Readonly<Record<string, PaytotaFeeRule>> = {
  UGX: { flat: "500", basisPoints: 100 },
  KES: { flat: "15.00", basisPoints: 100 },
  TZS: { flat: "500.00", basisPoints: 100 },
  RWF: { flat: "200", basisPoints: 100 },
  ZMW: { flat: "2.50", basisPoints: 100 },
  USD: { flat: "0.30", basisPoints: 100 },
};

/** The fee of a payout of `amountMinor` under `rules`, in minor units; exact bigint arithmetic. */
export function payoutFee(amountMinor: bigint, currency: string, rules: Readonly<Record<string, PaytotaFeeRule>> = DEFAULT_PAYOUT_FEES): bigint {
  const rule = rules[currency];
  if (!rule) return 0n;
  const flat = rule.flat ? parseAmount(rule.flat, currency) : 0n;
  const bps = BigInt(rule.basisPoints ?? 0);
  // Half up: (amount × bps + 5,000) / 10,000, in whole minor units.
  const share = (amountMinor * bps + 5_000n) / 10_000n;
  return flat + share;
}

const DEFAULT_BALANCES: Record<string, string> = {
  UGX: "50000000",
  KES: "1000000.00",
  TZS: "10000000.00",
  RWF: "10000000",
  ZMW: "100000.00",
  USD: "10000.00",
};

export function createPaytotaEmulator(options: PaytotaEmulatorOptions): PaytotaEmulator {
  const basePath = (options.basePath ?? "/api/sandbox/paytota").replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  const seconds = () => Math.floor(now().getTime() / 1000);
  const callbackDelayMs = options.callbackDelayMs ?? 1500;
  const retryDelays = options.callbackRetryDelaysMs ?? [2000, 10_000, 30_000];
  const statementDelayMs = options.statementDelayMs ?? 500;
  const postCallback = options.fetch;
  const log = options.log ?? (() => {});
  const units: AmountUnits = options.amountUnits ?? "minor";
  const lookupMode = options.lookupByReference ?? true;
  const repeatedReference = options.repeatedReference ?? "refuse";
  const feeRules = options.payoutFees ?? DEFAULT_PAYOUT_FEES;

  let signing = makeSigning(options.signingKeyPem);

  const companies = new Map<string, CompanyState>();
  const payoutsById = new Map<string, EmulatedPayout>();
  const globalFaults: Required<PaytotaFault>[] = (options.faults ?? []).map(normaliseFault);
  const tasks = createEmulatorTasks("paytota-emulator", log);
  const sendCallback = createCallbackSender({ tasks, post: postCallback, now, log });

  // ------------------------------------------------------------ companies

  function companyFor(secretKey: string, account: PaytotaEmulatorAccount): CompanyState {
    const id = account.companyId ?? uuidFromHash(`company:${secretKey}`);
    let state = companies.get(id);
    if (!state) {
      state = { id, payouts: new Map(), byReference: new Map(), balances: new Map(), statements: new Map(), faults: [] };
      for (const [currency, amount] of Object.entries(options.initialBalances ?? DEFAULT_BALANCES)) {
        state.balances.set(currency, parseAmount(amount, currency));
      }
      companies.set(id, state);
    }
    return state;
  }

  type Auth = { secretKey: string; account: PaytotaEmulatorAccount; company: CompanyState };

  async function authenticate(request: Request): Promise<Auth | Response> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    if (!match) return json(401, { detail: "Authentication credentials were not provided." });
    const account = await options.accounts(match[1]!);
    if (!account) return json(401, { detail: "Invalid token." });
    return { secretKey: match[1]!, account, company: companyFor(match[1]!, account) };
  }

  function takeFault(company: CompanyState, operation: Exclude<PaytotaFaultOperation, "any">): Required<PaytotaFault> | null {
    return FAULTS.take([company.faults, globalFaults], operation);
  }

  // ------------------------------------------------------------ routing

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    let path = url.pathname;
    if (basePath) {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) return json(404, { detail: `The emulator is mounted at ${basePath}` });
      path = path.slice(basePath.length);
    }
    path = `${path.replace(/\/+$/, "")}/`;
    const publicUrl = (options.publicUrl ?? `${url.origin}${basePath}`).replace(/\/+$/, "");

    try {
      // Unauthenticated: the execution URL (as in the seed) and pre-signed statement downloads.
      const execute = /^\/po\/([^/]+)\/paytota_proxy\/$/.exec(path);
      if (execute) {
        if (method !== "POST") return methodNotAllowed();
        const payout = payoutsById.get(decodeURIComponent(execute[1]!));
        if (!payout) return json(404, { detail: "Not found." });
        const company = companies.get(payout.company)!;
        return withFault(request, company, "execute", () => executePayout(request, payout));
      }
      const download = /^\/_sandbox\/statements\/([^/]+)\.csv\/$/.exec(path);
      if (download) {
        if (method !== "GET") return methodNotAllowed();
        return downloadStatement(decodeURIComponent(download[1]!), url.searchParams.get("token") ?? "");
      }

      const auth = await authenticate(request);
      if (auth instanceof Response) return auth;
      const { company } = auth;

      if (path === "/api/v1/public_key/") {
        if (method !== "GET") return methodNotAllowed();
        return withFault(request, company, "publicKey", async () => json(200, signing.publicKeyPem));
      }
      if (path === "/api/v1/payouts/") {
        if (method === "POST") return withFault(request, company, "initiate", () => initiatePayout(request, auth, publicUrl));
        if (method === "GET") {
          if (lookupMode === "absent") return json(404, { detail: "Not found." });
          return withFault(request, company, "lookup", async () => listPayouts(company, url.searchParams));
        }
        return methodNotAllowed();
      }
      const single = /^\/api\/v1\/payouts\/([^/]+)\/$/.exec(path);
      if (single) {
        if (method !== "GET") return methodNotAllowed();
        return withFault(request, company, "status", async () => {
          const payout = company.payouts.get(decodeURIComponent(single[1]!));
          return payout ? rawJson(200, payoutObject(payout)) : json(404, { detail: "Not found." });
        });
      }
      if (path === "/api/v1/account/json/balance/") {
        if (method !== "GET") return methodNotAllowed();
        return withFault(request, company, "balance", async () => rawJson(200, balanceAnswer(company)));
      }
      if (path === "/api/v1/company_statements/") {
        if (method !== "POST") return methodNotAllowed();
        return withFault(request, company, "statements", () => createStatement(request, company, publicUrl));
      }
      const statement = /^\/api\/v1\/company_statements\/([^/]+)\/$/.exec(path);
      if (statement) {
        if (method !== "GET") return methodNotAllowed();
        return withFault(request, company, "statements", async () => {
          const found = company.statements.get(decodeURIComponent(statement[1]!));
          return found ? json(200, statementObject(found)) : json(404, { detail: "Not found." });
        });
      }
      if (path === "/_sandbox/faults/") {
        if (method === "DELETE") {
          company.faults.length = 0;
          return json(200, { faults: [] });
        }
        if (method !== "POST") return methodNotAllowed();
        const fault = parseFault(await readJson(request));
        if (!fault) return json(400, { mode: [`mode must be one of ${FAULT_MODES.join(", ")}; operation one of ${FAULT_OPERATIONS.join(", ")}`] });
        company.faults.push(fault);
        return json(200, { faults: company.faults });
      }
      return json(404, { detail: `No endpoint ${method} ${path}` });
    } catch (error) {
      log(`[paytota-emulator] ${method} ${path} failed: ${(error as Error).stack ?? error}`);
      return json(500, { detail: "Internal server error" });
    }
  }

  /** Runs `answer` under the company's next matching fault, if any. */
  async function withFault(
    request: Request,
    company: CompanyState,
    operation: Exclude<PaytotaFaultOperation, "any">,
    answer: () => Promise<Response>,
  ): Promise<Response> {
    const fault = takeFault(company, operation);
    if (!fault) return answer();
    log(`[paytota-emulator] fault ${fault.mode} on ${operation}`);
    return answerUnderFault(tasks, request, fault, answer, {
      serverError: () => new Response("<h1>Server Error (500)</h1>", { status: 500, headers: { "content-type": "text/html" } }),
      gatewayTimeout: () => json(504, { detail: "Gateway timeout" }),
      dropped: (processed) => droppedResponse('{"status":', processed?.status ?? 200),
    });
  }

  // ------------------------------------------------------------ step 1: initiate

  async function initiatePayout(request: Request, auth: Auth, publicUrl: string): Promise<Response> {
    const body = await readJson(request);
    if (!isRecord(body)) return json(400, { __all__: [{ message: "The request body must be a JSON object", code: "parse_error" }] });

    if (typeof body.brand_id !== "string" || body.brand_id === "") return fieldError("brand_id", "This field is required.", "required");
    if (body.brand_id !== auth.account.brandId) return fieldError("brand_id", "Brand not found or not available to this key.", "invalid");

    const reference = body.reference;
    if (typeof reference !== "string" || reference.trim() === "") return fieldError("reference", "This field is required.", "required");
    if (reference.length > 255) return fieldError("reference", "Ensure this field has no more than 255 characters.", "max_length");
    const existing = auth.company.byReference.get(reference.toLowerCase());
    if (existing !== undefined) {
      if (repeatedReference === "refuse") return fieldError("reference", "A payout with this reference already exists.", "unique");
      if (repeatedReference === "return") return rawJson(200, payoutObject(auth.company.payouts.get(existing)!));
    }

    const client = body.client;
    if (!isRecord(client)) return fieldError("client", "This field is required.", "required");
    if (typeof client.email !== "string" || !EMAIL.test(client.email)) return fieldError("client.email", "Enter a valid email address.", "invalid");
    if (typeof client.phone !== "string" || !MSISDN.test(client.phone)) {
      return fieldError("client.phone", "Enter the number in international form, digits only, e.g. 256700123123.", "invalid");
    }
    if (typeof client.country !== "string" || !/^[A-Z]{2}$/.test(client.country)) return fieldError("client.country", "Enter an ISO 3166-1 alpha-2 country code.", "invalid");

    const payment = body.payment;
    if (!isRecord(payment)) return fieldError("payment", "This field is required.", "required");
    const currency = payment.currency;
    if (typeof currency !== "string" || !isKnownCurrency(currency)) return fieldError("payment.currency", "Enter a valid currency code.", "invalid");
    if (!auth.company.balances.has(currency)) return fieldError("payment.currency", `${currency} is not enabled for payouts on this account.`, "invalid");
    if (typeof payment.amount !== "string" || !AMOUNT.test(payment.amount)) {
      return fieldError("payment.amount", 'Send the amount as a string in major units, e.g. "500".', "invalid");
    }
    const decimals = payment.amount.includes(".") ? payment.amount.split(".")[1]!.length : 0;
    if (decimals > currencyExponent(currency)) return fieldError("payment.amount", `${currency} takes at most ${currencyExponent(currency)} decimal places.`, "invalid");
    const amountMinor = parseAmount(payment.amount, currency);
    if (amountMinor <= 0n) return fieldError("payment.amount", "Ensure this value is greater than 0.", "min_value");
    if (payment.description !== undefined && (typeof payment.description !== "string" || payment.description.length > 255)) {
      return fieldError("payment.description", "Ensure this field has no more than 255 characters.", "max_length");
    }

    const id = randomUUID();
    const at = seconds();
    const payout: EmulatedPayout = {
      company: auth.company.id,
      id,
      reference,
      brandId: body.brand_id,
      status: "initialized",
      client: { email: client.email, phone: client.phone, country: client.country, full_name: typeof client.full_name === "string" ? client.full_name : "" },
      currency,
      amountMinor,
      feeMinor: 0n,
      description: typeof payment.description === "string" ? payment.description : "",
      createdOn: at,
      updatedOn: at,
      paidOn: null,
      statusHistory: [{ status: "initialized", timestamp: at }],
      executionUrl: `${publicUrl}/po/${id}/paytota_proxy/`,
      executions: 0,
      ...(auth.account.callbackUrl ? { callbackUrl: auth.account.callbackUrl } : {}),
      callbackAttempts: [],
    };
    auth.company.payouts.set(id, payout);
    // The first payout keeps the reference (what "return" answers); "create" lists every one.
    if (existing === undefined) auth.company.byReference.set(reference.toLowerCase(), id);
    payoutsById.set(id, payout);
    return rawJson(201, payoutObject(payout, "payout.created"));
  }

  function listPayouts(company: CompanyState, params: URLSearchParams): Response {
    const reference = params.get("reference");
    const all = [...company.payouts.values()];
    const listed = lookupMode === true && reference !== null ? all.filter((p) => p.reference.toLowerCase() === reference.toLowerCase()) : all.slice(0, 100);
    return rawJson(200, { results: listed.map((p) => payoutObject(p)), next: null, previous: null });
  }

  // ------------------------------------------------------------ step 2: execute

  async function executePayout(request: Request, payout: EmulatedPayout): Promise<Response> {
    const body = await readJson(request);
    if (!isRecord(body) || body.payout_type !== "mobile") {
      return json(400, { status: "error", error: { code: "invalid_payout_type", message: 'payout_type must be "mobile" for a mobile-money payout' } });
    }
    if (payout.status !== "initialized") {
      return json(400, { status: "error", error: { code: "invalid_status", message: `The payout is ${payout.status}, not initialized` } });
    }
    payout.executions++;
    const company = companies.get(payout.company)!;
    const available = company.balances.get(payout.currency) ?? 0n;
    const fee = payoutFee(payout.amountMinor, payout.currency, feeRules);
    if (suffix(payout) === "111" || available < payout.amountMinor + fee) {
      const error = { code: "insufficient_funds", message: "Insufficient funds to proceed with operation." };
      finish(payout, "error", error);
      deliverCallback(payout);
      return json(200, { status: "error", error });
    }
    // Amount and fee reserved at execution (so concurrent payouts cannot overdraw), given back if the payout fails.
    payout.feeMinor = fee;
    company.balances.set(payout.currency, available - payout.amountMinor - fee);
    payout.status = "pending";
    payout.internalReference = randomBytes(16).toString("hex").toUpperCase();
    payout.updatedOn = seconds();
    payout.statusHistory.push({ status: "pending", timestamp: payout.updatedOn });
    startLifecycle(payout);
    return json(200, {
      status: "pending",
      details: {
        return_code: "200",
        message: "Transaction received for processing",
        transaction: { status: "pending", internal_reference: payout.internalReference },
      },
    });
  }

  function startLifecycle(payout: EmulatedPayout): void {
    tasks.schedule(callbackDelayMs, () => {
      if (payout.status !== "pending") return;
      switch (suffix(payout)) {
        case "444":
          return; // stuck at the operator: no final status, no callback
        case "222":
          refund(payout);
          finish(payout, "error", { code: "invalid_account", message: "The recipient's mobile money account is not valid" });
          break;
        case "333":
          refund(payout);
          finish(payout, "error", { code: "transaction_failed", message: "The operator declined the transaction" });
          break;
        default:
          finish(payout, "success");
      }
      deliverCallback(payout);
    });
  }

  function finish(payout: EmulatedPayout, status: "success" | "error", error?: { code: string; message: string }): void {
    payout.status = status;
    payout.updatedOn = seconds();
    if (status === "success") payout.paidOn = payout.updatedOn;
    if (error) payout.error = error;
    payout.statusHistory.push({ status, timestamp: payout.updatedOn });
  }

  /** A failed payout gives back the amount and the fee: nothing stays charged for it. */
  function refund(payout: EmulatedPayout): void {
    const company = companies.get(payout.company);
    if (company) company.balances.set(payout.currency, (company.balances.get(payout.currency) ?? 0n) + payout.amountMinor + payout.feeMinor);
    payout.feeMinor = 0n;
  }

  // ------------------------------------------------------------ callbacks

  function deliverCallback(payout: EmulatedPayout): void {
    const url = payout.callbackUrl;
    if (!url) return;
    sendCallback({
      url,
      label: `[paytota-emulator] callback for ${payout.id}`,
      retryDelaysMs: retryDelays,
      start: (at): CallbackAttempt => ({ at, url }),
      request() {
        const body = toJsonText(payoutObject(payout, `payout.${payout.status}`));
        return { headers: { "Content-Type": "application/json", "X-Signature": signBody(body, signing.privateKey) }, body };
      },
      keep: (attempt) => payout.callbackAttempts.push(attempt),
    });
  }

  // ------------------------------------------------------------ payout object

  function amount(minor: bigint, currency: string): JsonNumber {
    return new JsonNumber(answerAmountText(minor, currency, units));
  }

  function payoutObject(payout: EmulatedPayout, eventType?: string) {
    const succeeded = payout.status === "success";
    const webhookPayload =
      payout.status === "success" || payout.status === "error"
        ? {
            client: { email: payout.client.email, full_name: payout.client.full_name },
            message: payout.error?.message ?? "Transaction successful",
            return_code: payout.error ? "400" : "200",
            transaction: {
              amount: amount(payout.amountMinor, payout.currency),
              mobile: payout.client.phone,
              status: succeeded ? "successful" : "failed",
              country: payout.client.country,
              currency: payout.currency,
              operator: "SANDBOX",
              transaction_type: "payout",
              external_reference: payout.id,
              internal_reference: payout.internalReference ?? null,
            },
          }
        : null;
    return {
      id: payout.id,
      type: "payout",
      client: {
        email: payout.client.email,
        phone: payout.client.phone,
        country: payout.client.country,
        full_name: payout.client.full_name,
        city: "",
        state: "",
        zip_code: "",
        street_address: "",
        personal_code: "",
        tax_number: "",
      },
      status: payout.status,
      is_test: true,
      payment: {
        amount: amount(payout.amountMinor, payout.currency),
        paid_on: payout.paidOn,
        currency: payout.currency,
        fee_amount: amount(payout.feeMinor, payout.currency),
        net_amount: amount(payout.amountMinor + payout.feeMinor, payout.currency),
        description: payout.description,
        is_outgoing: true,
        payment_type: "payout",
        pending_amount: amount(0n, payout.currency),
        remote_paid_on: payout.paidOn,
      },
      user_id: null,
      brand_id: payout.brandId,
      reference: payout.reference,
      company_id: payout.company,
      created_on: payout.createdOn,
      event_type: eventType ?? `payout.${payout.status === "initialized" ? "created" : payout.status}`,
      updated_on: payout.updatedOn,
      sender_name: "",
      execution_url: payout.executionUrl,
      status_history: payout.statusHistory,
      transaction_data: {
        flow: payout.status === "initialized" ? "payform" : "server_to_server",
        extra: webhookPayload ? { webhook_payload: webhookPayload } : {},
        country: "",
        attempts:
          payout.status === "success" || payout.status === "error"
            ? [
                {
                  flow: "server_to_server",
                  error: payout.error ?? null,
                  extra: webhookPayload ? { webhook_payload: webhookPayload } : {},
                  successful: succeeded,
                  fee_amount: amount(payout.feeMinor, payout.currency),
                  payment_method: "paytota_proxy",
                  processing_time: payout.updatedOn,
                },
              ]
            : [],
        payment_method: payout.status === "initialized" ? "" : "paytota_proxy",
      },
      reference_generated: payout.reference,
      recipient_card_brand: payout.status === "initialized" ? null : "paytota_proxy",
      recipient_card_country: "",
      payout_method_whitelist: null,
    };
  }

  // ------------------------------------------------------------ balances

  function balanceAnswer(company: CompanyState) {
    const answer: Record<string, unknown> = {};
    for (const [currency, available] of company.balances) {
      let pending = 0n;
      for (const p of company.payouts.values()) if (p.currency === currency && p.status === "pending") pending += p.amountMinor + p.feeMinor;
      const zero = amount(0n, currency);
      answer[currency] = {
        balance: amount(available + pending, currency),
        fee_sell: zero,
        reserved: zero,
        gross_balance: amount(available + pending, currency),
        payout_balance: amount(available, currency),
        payout_fee_sell: zero,
        pending_payouts: amount(pending, currency),
        payout_overdraft: zero,
        pending_outgoing: amount(pending, currency),
        available_balance: amount(available, currency),
        payout_gross_balance: amount(available + pending, currency),
        available_payout_balance: amount(available, currency),
      };
    }
    return answer;
  }

  // ------------------------------------------------------------ statements

  async function createStatement(request: Request, company: CompanyState, publicUrl: string): Promise<Response> {
    const body = await readJson(request);
    if (!isRecord(body)) return json(400, { __all__: [{ message: "The request body must be a JSON object", code: "parse_error" }] });
    if (body.format !== "csv") return fieldError("format", 'The emulator generates "csv" statements only.', "invalid");
    const timezone = typeof body.timezone === "string" && body.timezone ? body.timezone : "UTC";
    const bound = (value: unknown) => (typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : null);
    if (body.from !== undefined && bound(body.from) === null) return fieldError("from", "Enter a Unix timestamp in seconds.", "invalid");
    if (body.to !== undefined && bound(body.to) === null) return fieldError("to", "Enter a Unix timestamp in seconds.", "invalid");
    const at = seconds();
    const statement: EmulatedStatement = {
      id: randomUUID(),
      company: company.id,
      format: "csv",
      timezone,
      from: bound(body.from),
      to: bound(body.to),
      status: "pending",
      token: randomBytes(16).toString("hex"),
      publicUrl,
      createdOn: at,
      updatedOn: at,
      finishedOn: null,
    };
    company.statements.set(statement.id, statement);
    tasks.schedule(statementDelayMs, () => {
      statement.status = "success";
      statement.updatedOn = statement.finishedOn = seconds();
    });
    return json(201, statementObject(statement));
  }

  function statementObject(statement: EmulatedStatement) {
    const query = [statement.from !== null ? `from=${statement.from}` : "", statement.to !== null ? `to=${statement.to}` : ""].filter(Boolean).join("&");
    return {
      format: statement.format,
      timezone: statement.timezone,
      is_test: true,
      company_uid: statement.company,
      query_string: query,
      status: statement.status,
      download_url: statement.status === "success" ? `${statement.publicUrl}/_sandbox/statements/${statement.id}.csv?token=${statement.token}` : null,
      began_on: statement.status === "success" ? statement.createdOn : null,
      finished_on: statement.finishedOn,
      created_on: statement.createdOn,
      updated_on: statement.updatedOn,
      type: "statement_request",
      id: statement.id,
    };
  }

  function downloadStatement(id: string, token: string): Response {
    for (const company of companies.values()) {
      const statement = company.statements.get(id);
      if (!statement) continue;
      if (statement.status !== "success" || token !== statement.token) break;
      const rows = [["id", "reference", "created_on", "updated_on", "status", "currency", "amount", "fee_amount", "phone", "description"]];
      for (const p of company.payouts.values()) {
        if (statement.from !== null && p.createdOn < statement.from) continue;
        if (statement.to !== null && p.createdOn > statement.to) continue;
        rows.push([
          p.id,
          p.reference,
          new Date(p.createdOn * 1000).toISOString(),
          new Date(p.updatedOn * 1000).toISOString(),
          p.status,
          p.currency,
          toDecimalString(p.amountMinor, p.currency),
          formatUnits(p.feeMinor, currencyExponent(p.currency)),
          p.client.phone,
          p.description,
        ]);
      }
      const csv = rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
      return new Response(csv, { status: 200, headers: { "content-type": "text/csv; charset=utf-8" } });
    }
    // What a pre-signed storage URL answers when it is wrong or expired.
    return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403, headers: { "content-type": "application/xml" } });
  }

  // ------------------------------------------------------------ instance API

  return {
    handle,
    publicKeyPem: () => signing.publicKeyPem,
    rotateSigningKey(privateKeyPem) {
      signing = makeSigning(privateKeyPem);
    },
    payouts: () => [...payoutsById.values()],
    payoutsByReference(reference, { repeats = false } = {}) {
      const wanted = reference.toLowerCase();
      return [...payoutsById.values()].filter((p) => {
        const own = p.reference.toLowerCase();
        return own === wanted || (repeats && own.startsWith(`${wanted}.`));
      });
    },
    payout: (id) => payoutsById.get(id),
    payoutByReference(reference) {
      for (const company of companies.values()) {
        const id = company.byReference.get(reference.toLowerCase());
        if (id) return company.payouts.get(id);
      }
      return undefined;
    },
    async balance(secretKey, currency) {
      const account = await options.accounts(secretKey);
      if (!account) return undefined;
      return companyFor(secretKey, account).balances.get(currency);
    },
    async injectFault(fault, secretKey) {
      const normalised = normaliseFault(fault);
      if (secretKey === undefined) {
        globalFaults.push(normalised);
        return;
      }
      const account = await options.accounts(secretKey);
      if (!account) throw new Error("injectFault: unknown secret key");
      companyFor(secretKey, account).faults.push(normalised);
    },
    idle: () => tasks.idle(),
    close() {
      tasks.close();
    },
  };
}

// ---------------------------------------------------------------- helpers

function makeSigning(privateKeyPem?: string): { privateKey: KeyObject; publicKeyPem: string } {
  const pem = privateKeyPem ?? generateSigningKey().privateKeyPem;
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString() };
}

function suffix(payout: EmulatedPayout): string {
  return payout.client.phone.slice(-3);
}

function uuidFromHash(text: string): string {
  const hex = createHash("sha256").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const FAULT_MODES: readonly PaytotaFaultMode[] = ["500", "garbage", "timeout", "slow", "drop-after-accept"];
const FAULT_OPERATIONS: readonly PaytotaFaultOperation[] = ["initiate", "execute", "status", "lookup", "balance", "statements", "publicKey", "any"];
const FAULTS = faultBook<PaytotaFaultMode, PaytotaFaultOperation>({ modes: FAULT_MODES, operations: FAULT_OPERATIONS, defaultOperation: "initiate", refusals: ["500"] });
const normaliseFault = FAULTS.normalise;

function parseFault(body: unknown): Required<PaytotaFault> | null {
  return isRecord(body) ? FAULTS.parse(body as { mode: unknown }) : null;
}

/** JSON text in which JsonNumber values are written as the exact numbers they hold. */
export function toJsonText(value: unknown): string {
  const MARK = "\u0000num:";
  const text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const original = typeof this === "object" && this !== null ? (this as Record<string, unknown>)[key] : undefined;
    return original instanceof JsonNumber ? MARK + original.text : v;
  });
  return text.replace(/"\\u0000num:(-?\d+(?:\.\d+)?)"/g, "$1");
}

function rawJson(status: number, body: unknown): Response {
  return new Response(toJsonText(body), { status, headers: { "content-type": "application/json" } });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** A field error in the platform's shape: {"client": {"phone": [{"message", "code"}]}}. */
function fieldError(path: string, message: string, code: string): Response {
  const parts = path.split(".");
  let body: unknown = [{ message, code }];
  for (let i = parts.length - 1; i >= 0; i--) body = { [parts[i]!]: body };
  return json(400, body);
}

function methodNotAllowed(): Response {
  return json(405, { detail: "Method not allowed." });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
