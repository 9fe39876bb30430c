// The PontisGlobe connector against the built-in emulator, over real HTTP:
// encrypted and signed requests, session tokens, the sandbox's magic cents,
// signed callbacks received by a local receiver, idempotent resends,
// refusals and injected transport faults.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createPontisEmulator, sandboxAccountFor, type PontisEmulator, type PontisEmulatorAccount } from "@/server/sandbox/pontis";
import type { CallbackInput, ConnectionConfig, PayoutConnector, PayoutRequest, ProviderCallRecord } from "../types";
import {
  callbackSignature,
  clearPontisSessions,
  createPontisConnector,
  decodeKey,
  decryptToString,
  pontisConnectorFactory,
  requestSignature,
  sandboxCredentials,
  type PontisConnectorDeps,
} from "./index";
import { waitFor } from "@/server/testing/wait";

const BASE_PATH = "/api/sandbox/pontis";

let emulator: PontisEmulator;
let encryptedEmulator: PontisEmulator;
let emulatorServer: ServedHandler;
let encryptedServer: ServedHandler;
let receiver: ServedHandler;
let baseUrl: string;
let callbackUrl: string;
const accounts = new Map<string, PontisEmulatorAccount>();
const received: CallbackInput[] = [];
/** transaction id → how many of its callback deliveries the receiver still refuses. */
const refuseCallbacks = new Map<string, number>();
let calls: ProviderCallRecord[] = [];

beforeAll(async () => {
  receiver = await serveWebHandler(async (request) => {
    const rawBody = await request.text();
    for (const [transactionId, left] of refuseCallbacks) {
      if (left > 0 && rawBody.includes(transactionId)) {
        refuseCallbacks.set(transactionId, left - 1);
        return new Response("busy", { status: 503 });
      }
    }
    received.push({ headers: request.headers, rawBody, url: request.url, method: request.method });
    return Response.json({ received: true });
  });
  callbackUrl = `${receiver.url}/api/webhooks/conn-pontis`;
  const options = {
    basePath: BASE_PATH,
    accounts: async (apiKey: string) => accounts.get(apiKey) ?? null,
    callbackDelayMs: 80,
    approvalDelayMs: 60,
    callbackRetryDelaysMs: [30, 30, 30],
  };
  emulator = createPontisEmulator(options);
  encryptedEmulator = createPontisEmulator({ ...options, encryptResponses: true });
  emulatorServer = await serveWebHandler(emulator.handle);
  encryptedServer = await serveWebHandler(encryptedEmulator.handle);
  baseUrl = `${emulatorServer.url}${BASE_PATH}`;
  main = newAccount();
});

afterAll(async () => {
  emulator.close();
  encryptedEmulator.close();
  await emulatorServer.close();
  await encryptedServer.close();
  await receiver.close();
});

beforeEach(() => {
  calls = [];
});

/** A fresh merchant at the emulator, as the desk's sandbox wiring would register it. */
function newAccount(overrides: Partial<PontisEmulatorAccount> = {}) {
  const credentials = sandboxCredentials();
  accounts.set(credentials.apiKey, { ...sandboxAccountFor(credentials, callbackUrl)!, ...overrides });
  return credentials;
}

/** The account most tests use (registered once the receiver's URL is known). */
let main: ReturnType<typeof sandboxCredentials>;

function connector(
  options: { credentials?: Record<string, string>; url?: string; deps?: PontisConnectorDeps } = {},
): PayoutConnector {
  const config: ConnectionConfig = {
    id: "conn-pontis",
    provider: "pontis",
    name: "PontisGlobe sandbox",
    environment: "sandbox",
    baseUrl: options.url ?? baseUrl,
    credentials: options.credentials ?? main,
    callbackUrl,
  };
  return createPontisConnector(config, { onCall: (call) => void calls.push(call), timeoutMs: 1000, retryDelaysMs: [20, 20], ...options.deps });
}

function payout(amountMinor: bigint, overrides: Partial<PayoutRequest> = {}): PayoutRequest {
  return {
    payoutId: randomUUID(),
    amountMinor,
    currency: "USDT",
    recipient: { name: "Juan dela Cruz", accountNumber: "1234567890", country: "PH" },
    channel: "PH-bank_local",
    description: "Desk payout",
    createdAt: new Date(),
    ...overrides,
  };
}

const imps = (amountMinor: bigint, overrides: Partial<PayoutRequest> = {}) =>
  payout(amountMinor, {
    channel: "IN-imps",
    recipient: { name: "Asha Rao", accountNumber: "123456789012", country: "IN", details: { ifsc: "HDFC0001234" } },
    ...overrides,
  });

const callbackFor = (transactionId: string, status?: string) => () =>
  received.find((c) => c.rawBody.includes(transactionId) && (!status || c.rawBody.includes(`"status":"${status}"`)));

const countAt = (em: PontisEmulator, payoutId: string) => em.payouts().filter((p) => p.idempotencyKey === payoutId).length;

describe("the request on the wire", () => {
  it("encrypts and signs the seed's payout exactly, records the plaintext, and never the secrets", async () => {
    const captured: Array<{ path: string; headers: Headers; body: string }> = [];
    const capture = await serveWebHandler(async (request) => {
      const path = new URL(request.url).pathname;
      captured.push({ path, headers: request.headers, body: await request.text() });
      if (path.endsWith("/user/login")) return Response.json({ ok: true, data: { access_token: "jwt-1", token_type: "Bearer", expires_in: 900 } });
      return Response.json({ ok: true, data: { transaction_id: "029b2038-6166-4bea-80a9-f1a2425a85eb", status: "pending" } }, { status: 201 });
    });
    try {
      const credentials = sandboxCredentials();
      const request = payout(1000n, { payoutId: "f4401bd2-1568-4140-bf2d-eb77d2b2b639", description: "" });
      const result = await connector({ url: capture.url, credentials }).submit(request);
      expect(result).toMatchObject({ state: "processing", providerStatus: "pending", providerReference: "029b2038-6166-4bea-80a9-f1a2425a85eb" });

      const [login, send] = captured as [(typeof captured)[0], (typeof captured)[0]];
      expect(login.path).toBe("/api/v1/user/login");
      expect(login.headers.get("authorization")).toBeNull();
      expect(send.path).toBe("/api/v1/payouts/sendPayoutRequest");
      expect(send.headers.get("authorization")).toBe("Bearer jwt-1");
      for (const { headers, body } of captured) {
        const enc = JSON.parse(body).data as string;
        expect(Object.keys(JSON.parse(body))).toEqual(["data"]);
        expect(headers.get("x-api-key")).toBe(credentials.apiKey);
        expect(headers.get("content-type")).toBe("application/json");
        const timestamp = headers.get("x-timestamp")!;
        expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
        expect(headers.get("x-signature")).toBe(requestSignature(timestamp, enc, decodeKey(credentials.hmacKey, "hmacKey")));
      }
      const plaintext = (body: string) => decryptToString(JSON.parse(body).data, decodeKey(credentials.encryptionKey, "encryptionKey"));
      expect(JSON.parse(plaintext(login.body))).toEqual({ email: credentials.email, password: credentials.password });
      expect(plaintext(send.body)).toBe(
        '{"idempotency_key":"f4401bd2-1568-4140-bf2d-eb77d2b2b639","country_code":"PH","currency_code":"PHP","payment_method":"bank_local",' +
          '"source_amount":"10.00","source_currency":"USDT","recipient_details":{"name":"Juan dela Cruz","account_number":"1234567890"}}',
      );

      // The timeline keeps the plaintext payload and no secret at all.
      expect(calls.map((c) => c.operation)).toEqual(["login", "submit"]);
      const recorded = JSON.stringify(calls);
      for (const secret of [credentials.password, credentials.apiKey, credentials.encryptionKey, credentials.hmacKey, "jwt-1"]) {
        expect(recorded).not.toContain(secret);
      }
      expect(calls[0]!.request).toMatchObject({ body: { email: credentials.email } });
      expect(calls[0]!.response).toEqual({ ok: true, data: { access_token: "[redacted]", token_type: "Bearer", expires_in: 900 } });
      expect(calls[1]).toMatchObject({
        payoutId: "f4401bd2-1568-4140-bf2d-eb77d2b2b639",
        httpStatus: 201,
        request: { body: { idempotency_key: "f4401bd2-1568-4140-bf2d-eb77d2b2b639", source_amount: "10.00", recipient_details: { name: "Juan dela Cruz" } } },
      });
    } finally {
      await capture.close();
    }
  });

  it("is the registered factory and describes itself", () => {
    expect(pontisConnectorFactory).toBe(createPontisConnector);
    const c = connector();
    expect(c.capabilities).toEqual({ statusQuery: true, callbacks: "signed", balances: false, statements: false });
    expect(c.recipientKind).toBe("bank_account");
    expect(c.channels()).toEqual(
      expect.arrayContaining([
        { code: "PH-bank_local", label: expect.any(String), country: "PH", currency: "PHP" },
        { code: "IN-imps", label: expect.any(String), country: "IN", currency: "INR" },
      ]),
    );
    expect(c.recipientFields!().map((f) => f.key)).toEqual(["bank_code", "ifsc"]);
  });
});

describe("payouts through the emulator", () => {
  it(".00: pending, then a signed callback that verifies as succeeded, and status agrees", async () => {
    const c = connector();
    const request = payout(12_500n);
    const sent = await c.submit(request);
    expect(sent).toMatchObject({ state: "processing", providerStatus: "pending", providerReference: expect.any(String) });
    expect(emulator.payout(request.payoutId)).toMatchObject({ sourceAmount: "125.00", currencyCode: "PHP", purposeOfPayment: "Desk payout" });

    const callback = await waitFor(callbackFor(sent.providerReference!));
    const parsed = await c.parseCallback!(callback);
    expect(parsed).toMatchObject({
      verified: true,
      providerReference: sent.providerReference,
      dedupeKey: `pontis:${sent.providerReference}:completed`,
      result: { state: "succeeded", providerStatus: "completed", providerReference: sent.providerReference },
    });
    expect(parsed.verified && parsed.payoutId).toBeFalsy(); // the documented callback carries no payout id
    expect(await c.status(request)).toMatchObject({ state: "succeeded", providerReference: sent.providerReference });
    expect(await c.status({ payoutId: request.payoutId, providerReference: sent.providerReference })).toMatchObject({ state: "succeeded", providerStatus: "completed" });
  });

  for (const [cents, message] of [
    [1n, "Insufficient funds"],
    [2n, "Recipient not found"],
    [4n, "Network error"],
  ] as const) {
    it(`.0${cents}: fails with "${message}" (callback and status agree)`, async () => {
      const c = connector();
      const request = imps(5000n + cents);
      const sent = await c.submit(request);
      expect(sent).toMatchObject({ state: "processing" });
      const callback = await waitFor(callbackFor(sent.providerReference!));
      expect(await c.parseCallback!(callback)).toMatchObject({ verified: true, result: { state: "failed", failureCode: "FAILED", failureMessage: message } });
      expect(await c.status({ payoutId: request.payoutId, providerReference: sent.providerReference })).toMatchObject({
        state: "failed",
        providerStatus: "failed",
        failureMessage: message,
      });
    });
  }

  it(".03: stays pending, processing, with no callback", async () => {
    const c = connector();
    const sent = await c.submit(payout(5003n));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await c.status({ payoutId: "x", providerReference: sent.providerReference })).toMatchObject({ state: "processing", providerStatus: "pending" });
    expect(callbackFor(sent.providerReference!)()).toBeUndefined();
  });

  it("other cents behave as .00", async () => {
    const sent = await connector().submit(payout(5057n));
    expect(await connector().parseCallback!(await waitFor(callbackFor(sent.providerReference!)))).toMatchObject({ result: { state: "succeeded" } });
  });

  it("above the auto-approval limit: provider_pending_approval, then paid", async () => {
    const c = connector();
    const request = payout(250_000n); // 2,500.00 USDT > 1,000.00
    const sent = await c.submit(request);
    expect(sent).toMatchObject({ state: "provider_pending_approval", providerStatus: "pending_approval" });
    expect(await c.status({ payoutId: request.payoutId, providerReference: sent.providerReference })).toMatchObject({ state: "provider_pending_approval" });
    const callback = await waitFor(callbackFor(sent.providerReference!));
    expect(await c.parseCallback!(callback)).toMatchObject({ result: { state: "succeeded" } });
  });

  it("a transaction Pontis does not know is not_found", async () => {
    expect(await connector().status({ payoutId: randomUUID(), providerReference: randomUUID() })).toMatchObject({ state: "not_found", providerStatus: "not_found" });
  });

  it("a resend of the same payout id returns the original transaction and creates nothing", async () => {
    const c = connector();
    const request = payout(4200n);
    const first = await c.submit(request);
    await waitFor(callbackFor(first.providerReference!));
    const again = await c.submit(request);
    expect(again).toMatchObject({ state: "succeeded", providerStatus: "completed", providerReference: first.providerReference });
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("canceled and rejected are failed with their own codes; a reversal after completion is reversed", async () => {
    const c = connector();
    const paid = await c.submit(payout(3000n));
    await waitFor(callbackFor(paid.providerReference!, "completed"));
    emulator.settle(paid.providerReference!, "reversed");
    const reversal = await waitFor(callbackFor(paid.providerReference!, "reversed"));
    expect(await c.parseCallback!(reversal)).toMatchObject({
      verified: true,
      result: { state: "reversed", providerStatus: "reversed", failureCode: "REVERSED", failureMessage: expect.stringMatching(/reversed the payout after it completed/) },
    });
    expect(await c.status({ payoutId: "x", providerReference: paid.providerReference })).toMatchObject({ state: "reversed", failureCode: "REVERSED" });

    for (const [status, code] of [
      ["canceled", "CANCELED"],
      ["rejected", "REJECTED"],
    ] as const) {
      const sent = await c.submit(payout(5003n)); // stays pending until the back office acts
      emulator.settle(sent.providerReference!, status);
      expect(await c.parseCallback!(await waitFor(callbackFor(sent.providerReference!, status)))).toMatchObject({ result: { state: "failed", failureCode: code } });
      expect(await c.status({ payoutId: "x", providerReference: sent.providerReference })).toMatchObject({ state: "failed", providerStatus: status, failureCode: code });
    }
  });

  it("reads encrypted answers ({\"data\": enc}) just as well", async () => {
    const c = connector({ url: `${encryptedServer.url}${BASE_PATH}` });
    const request = payout(1500n);
    const sent = await c.submit(request);
    expect(sent).toMatchObject({ state: "processing", providerStatus: "pending" });
    expect(calls.find((call) => call.operation === "submit")!.response).toEqual({ data: expect.stringMatching(/^[\w-]+:[\w-]+:[\w-]+$/) });
    expect(sent.raw).toMatchObject({ ok: true, data: { transaction_id: sent.providerReference } });
    await encryptedEmulator.idle();
    expect(await c.status({ payoutId: request.payoutId, providerReference: sent.providerReference })).toMatchObject({ state: "succeeded" });
    expect(await c.status({ payoutId: request.payoutId, providerReference: randomUUID() })).toMatchObject({ state: "not_found" });
    // A refusal is encrypted too, and still read.
    expect(await c.submit(payout(1500n, { recipient: { name: "Sanctioned Person", accountNumber: "1", country: "PH" } }))).toMatchObject({
      state: "failed",
      failureCode: "SCREENING_FAILED",
    });
  });
});

describe("finding a payout whose send went unanswered", () => {
  it("status() without a reference re-sends the same idempotency_key to learn the transaction, creating nothing", async () => {
    const c = connector();
    const request = payout(7700n);
    const sent = await c.submit(request);
    await waitFor(callbackFor(sent.providerReference!));
    calls = [];
    const found = await c.status(request); // full request, no providerReference
    expect(found).toMatchObject({ state: "succeeded", providerReference: sent.providerReference });
    expect(calls.map((call) => call.operation)).toEqual(["lookup", "status"]);
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("with only the ids it cannot look Pontis up: unknown, and nothing is sent", async () => {
    const result = await connector().status({ payoutId: randomUUID(), providerReference: null });
    expect(result).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/transaction id/) });
    expect(calls).toHaveLength(0);
  });
});

describe("sessions", () => {
  it("one login serves every connector of the account, and concurrent first calls share it", async () => {
    const credentials = newAccount();
    const before = emulator.logins();
    const a = connector({ credentials });
    const b = connector({ credentials });
    const results = await Promise.all([a.submit(payout(100n)), b.submit(payout(100n)), a.submit(payout(100n))]);
    expect(results.map((r) => r.state)).toEqual(["processing", "processing", "processing"]);
    await connector({ credentials }).status({ payoutId: "x", providerReference: results[0]!.providerReference });
    expect(emulator.logins() - before).toBe(1);
  });

  it("on jwt_expired it logs in again and retries once", async () => {
    const credentials = newAccount();
    const c = connector({ credentials });
    const first = await c.submit(payout(100n));
    emulator.expireSessions();
    const before = emulator.logins();
    const request = payout(200n);
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    expect(emulator.logins() - before).toBe(1);
    expect(calls.map((call) => [call.operation, call.httpStatus])).toEqual([
      ["login", 200],
      ["submit", 201],
      ["submit", 401],
      ["login", 200],
      ["submit", 201],
    ]);
    expect(calls[2]!.response).toMatchObject({ ok: false, error: { code: "jwt_expired" } });
    expect(countAt(emulator, request.payoutId)).toBe(1);
    expect(first.state).toBe("processing");
  });

  it("renews a token shortly before it expires", async () => {
    const shortLived = createPontisEmulator({ basePath: "", accounts: async (k) => accounts.get(k) ?? null, jwtExpiresInSeconds: 1, callbackDelayMs: 20 });
    const server = await serveWebHandler(shortLived.handle);
    try {
      const credentials = newAccount();
      const c = connector({ credentials, url: server.url });
      expect(await c.testConnection!()).toEqual({ ok: true, message: expect.stringMatching(/Logged in .* 1 s/) });
      await c.submit(payout(100n));
      expect(shortLived.logins()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 850)); // inside the last 20% of the token's life
      expect(await c.submit(payout(100n))).toMatchObject({ state: "processing" });
      expect(shortLived.logins()).toBe(2);
      expect(calls.filter((call) => call.httpStatus === 401)).toHaveLength(0);
    } finally {
      shortLived.close();
      await server.close();
    }
  });

  it("testConnection reports refused credentials and misconfiguration", async () => {
    clearPontisSessions();
    expect(await connector({ credentials: { ...main, password: "wrong" } }).testConnection!()).toEqual({
      ok: false,
      message: expect.stringMatching(/refused the login \(HTTP 401\).*Invalid email or password/),
    });
    expect(await connector({ credentials: { ...main, hmacKey: sandboxCredentials().hmacKey } }).testConnection!()).toEqual({
      ok: false,
      message: expect.stringMatching(/invalid_signature|could not verify the request/),
    });
    expect(await connector({ credentials: { ...main, encryptionKey: "short" } }).testConnection!()).toEqual({
      ok: false,
      message: expect.stringMatching(/encryptionKey must decode to 32 bytes/),
    });
  });
});

describe("refusals: failed with Pontis' code, nothing created", () => {
  const refusal = async (account: Partial<PontisEmulatorAccount>, request: PayoutRequest, code: string, message: RegExp) => {
    const c = connector({ credentials: newAccount(account) });
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "failed", failureCode: code, failureMessage: expect.stringMatching(message) });
    expect(result.failureMessage).toMatch(/Nothing was created|not sent/);
    expect(countAt(emulator, request.payoutId)).toBe(0);
    return result;
  };

  it("422 insufficient_funds, per_payout_limit_exceeded, daily and monthly caps, screening_failed", async () => {
    const low = await refusal({ balance: "5.00" }, payout(1000n), "INSUFFICIENT_FUNDS", /wallet balance is too low.*Available: 5.00 USDT/);
    expect(low).toMatchObject({ providerStatus: "HTTP 422", raw: { ok: false, request_id: expect.any(String), error: { code: "insufficient_funds" } } });
    await refusal({ perPayoutLimit: "100.00" }, payout(10_001n), "PER_PAYOUT_LIMIT_EXCEEDED", /per-payout limit/);
    await refusal({ dailyLimit: "50.00" }, payout(5001n), "DAILY_LIMIT_EXCEEDED", /daily cap/);
    await refusal({ monthlyLimit: "50.00" }, payout(5001n), "MONTHLY_LIMIT_EXCEEDED", /monthly cap/);
    await refusal({}, payout(1000n, { recipient: { name: "Sanctioned Trader", accountNumber: "1", country: "PH" } }), "SCREENING_FAILED", /sanctions screening/);
  });

  it("409 wallet_frozen and 400 validation_error", async () => {
    await refusal({ walletFrozen: true }, payout(1000n), "WALLET_FROZEN", /wallet is frozen/);
    // A connection whose channel table is more lenient than Pontis: Thailand is not served.
    const credentials = { ...newAccount(), paymentMethods: '[{"country":"TH","currency":"THB","method":"bank_local"}]' };
    const request = payout(1000n, { channel: "TH-bank_local", recipient: { name: "Somchai", accountNumber: "1", country: "TH" } });
    expect(await connector({ credentials }).submit(request)).toMatchObject({ state: "failed", providerStatus: "HTTP 400", failureCode: "VALIDATION_ERROR", failureMessage: expect.stringMatching(/not available for TH/) });
  });

  it("a refused login (wrong password, suspended account) fails the payout unsent", async () => {
    const wrong = { ...newAccount(), password: "not-the-password" };
    const request = payout(1000n);
    expect(await connector({ credentials: wrong }).submit(request)).toMatchObject({ state: "failed", failureCode: "LOGIN_REFUSED", failureMessage: expect.stringMatching(/Invalid email or password.*not sent/) });
    await refusal({ suspended: true }, payout(1000n), "LOGIN_REFUSED", /account is suspended/);
  });

  it("a body over 64 KB is never sent", async () => {
    const request = payout(1000n, { description: "x".repeat(70_000) });
    expect(connector().validate(request)).toEqual([{ field: "description", message: expect.stringMatching(/64 KB/) }]);
    expect(await connector().submit(request)).toMatchObject({ state: "failed", failureCode: "NOT_SENT" });
    expect(calls).toHaveLength(0);
  });
});

describe("codes the emulator does not produce, from a scripted Pontis", () => {
  /** Answers the login, then each send/status with the next scripted [httpStatus, body]. */
  async function scripted(answers: Array<[number, unknown]>) {
    const seen: string[] = [];
    const server = await serveWebHandler(async (request) => {
      const path = new URL(request.url).pathname;
      seen.push(path);
      if (path.endsWith("/user/login")) return Response.json({ ok: true, data: { access_token: `jwt-${seen.length}`, token_type: "Bearer", expires_in: 900 } });
      const [status, body] = answers.shift() ?? [500, { ok: false, request_id: "r", error: { code: "internal_error", message: "script exhausted" } }];
      return Response.json(body, { status });
    });
    return { server, seen, c: connector({ url: server.url, credentials: sandboxCredentials() }) };
  }
  const refusal = (code: string, message = "") => ({ ok: false, request_id: "01J9F5Z4X7Y3K2B1Q0M8N7V6T5", error: { code, message } });
  const created = { ok: true, data: { transaction_id: "t-1", status: "pending" } };

  it("rate_moved is retried once at once (nothing was created), then failed", async () => {
    const once = await scripted([[422, refusal("rate_moved")], [201, created]]);
    const twice = await scripted([[422, refusal("rate_moved")], [422, refusal("rate_moved", "moved 0.7%")]]);
    try {
      expect(await once.c.submit(payout(100n))).toMatchObject({ state: "processing", providerReference: "t-1" });
      expect(await twice.c.submit(payout(100n))).toMatchObject({ state: "failed", failureCode: "RATE_MOVED", failureMessage: expect.stringMatching(/moved more than 0.5%.*moved 0.7%/) });
    } finally {
      await once.server.close();
      await twice.server.close();
    }
  });

  it("409 quote_used and a 404 on the send are unknown (something may exist); 403 ip_not_allowed is failed", async () => {
    const s = await scripted([[409, refusal("quote_used")], [404, refusal("not_found")], [403, refusal("ip_not_allowed")]]);
    try {
      expect(await s.c.submit(payout(100n))).toMatchObject({ state: "unknown", providerStatus: "HTTP 409", failureMessage: expect.stringMatching(/quote was already used/) });
      expect(await s.c.submit(payout(100n))).toMatchObject({ state: "unknown", providerStatus: "HTTP 404" });
      expect(await s.c.submit(payout(100n))).toMatchObject({ state: "failed", failureCode: "IP_NOT_ALLOWED", failureMessage: expect.stringMatching(/allow-list/) });
    } finally {
      await s.server.close();
    }
  });

  it("a 401 that survives a fresh login is failed on a send, unknown on a status query", async () => {
    const s = await scripted([[401, refusal("unauthorized")], [401, refusal("unauthorized")], [401, refusal("jwt_expired")], [401, refusal("jwt_expired")]]);
    try {
      expect(await s.c.submit(payout(100n))).toMatchObject({ state: "failed", failureCode: "UNAUTHORIZED" });
      expect(await s.c.status({ payoutId: "x", providerReference: "t-1" })).toMatchObject({ state: "unknown", providerReference: "t-1" });
      expect(s.seen.filter((p) => p.endsWith("/user/login"))).toHaveLength(3); // first login + one re-login per call
    } finally {
      await s.server.close();
    }
  });

  it("a refusal of a payout known to exist defers to its status", async () => {
    const s = await scripted([[422, refusal("insufficient_funds")], [200, { ok: true, data: { transaction_id: "t-9", status: "completed", status_message: "Paid" } }]]);
    try {
      expect(await s.c.submit(payout(100n, { providerReference: "t-9" }))).toMatchObject({ state: "succeeded", providerReference: "t-9" });
    } finally {
      await s.server.close();
    }
  });

  it("a status answer about another transaction, or an undocumented status, is unknown", async () => {
    const s = await scripted([
      [200, { ok: true, data: { transaction_id: "other", status: "completed" } }],
      [200, { ok: true, data: { transaction_id: "t-1", status: "settled" } }],
    ]);
    try {
      expect(await s.c.status({ payoutId: "x", providerReference: "t-1" })).toMatchObject({ state: "unknown" });
      expect(await s.c.status({ payoutId: "x", providerReference: "t-1" })).toMatchObject({ state: "unknown", providerStatus: "settled" });
    } finally {
      await s.server.close();
    }
  });
});

describe("transport faults are unknown, never failed, and status() resolves them without duplicates", () => {
  it("timeout: unknown; the lookup finds the payout Pontis created", async () => {
    const credentials = newAccount();
    await emulator.injectFault({ mode: "timeout" }, credentials.apiKey);
    const c = connector({ credentials, deps: { timeoutMs: 300 } });
    await c.testConnection!(); // log in first, so only the send times out
    const request = payout(1000n);
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/timed out/) });
    expect(countAt(emulator, request.payoutId)).toBe(1);
    const found = await c.status(request);
    expect(["processing", "succeeded"]).toContain(found.state);
    expect(found.providerReference).toBe(emulator.payout(request.payoutId)!.transactionId);
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("500 once: retried quickly with the same key, one payout", async () => {
    const credentials = newAccount();
    await emulator.injectFault({ mode: "500" }, credentials.apiKey);
    const c = connector({ credentials });
    const request = payout(1000n);
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    expect(calls.filter((call) => call.operation === "submit").map((call) => call.httpStatus)).toEqual([500, 201]);
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("500 and 429 beyond the quick retries: unknown, nothing created; the lookup then sends it once", async () => {
    const credentials = newAccount();
    await emulator.injectFault({ mode: "500", count: 2 }, credentials.apiKey);
    await emulator.injectFault({ mode: "429" }, credentials.apiKey);
    const c = connector({ credentials });
    const request = payout(1000n);
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "unknown", providerStatus: "HTTP 429" });
    expect(calls.filter((call) => call.operation === "submit").map((call) => call.httpStatus)).toEqual([500, 500, 429]);
    expect(countAt(emulator, request.payoutId)).toBe(0);
    expect(await c.status(request)).toMatchObject({ state: "processing", providerReference: expect.any(String) });
    expect(await c.status(request)).toMatchObject({ providerReference: emulator.payout(request.payoutId)!.transactionId });
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("garbage body: unknown; the lookup resolves it", async () => {
    const credentials = newAccount();
    await emulator.injectFault({ mode: "garbage" }, credentials.apiKey);
    const c = connector({ credentials });
    const request = payout(1000n);
    expect(await c.submit(request)).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/could not be read/) });
    expect(await c.status(request)).toMatchObject({ providerReference: emulator.payout(request.payoutId)!.transactionId });
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("connection dropped after Pontis accepted: unknown; the lookup resolves it", async () => {
    const credentials = newAccount();
    await emulator.injectFault({ mode: "drop-after-accept" }, credentials.apiKey);
    const c = connector({ credentials });
    const request = payout(1000n);
    expect(await c.submit(request)).toMatchObject({ state: "unknown" });
    expect(countAt(emulator, request.payoutId)).toBe(1);
    expect(["processing", "succeeded"]).toContain((await c.status(request)).state);
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("a slow answer within the timeout is simply the answer", async () => {
    const credentials = newAccount();
    await emulator.injectFault({ mode: "slow", delayMs: 150 }, credentials.apiKey);
    const request = payout(1000n);
    expect(await connector({ credentials }).submit(request)).toMatchObject({ state: "processing" });
    expect(countAt(emulator, request.payoutId)).toBe(1);
  });

  it("a status query that fails is unknown, keeping the reference", async () => {
    const credentials = newAccount();
    const c = connector({ credentials });
    const sent = await c.submit(payout(1000n));
    await emulator.injectFault({ mode: "500", operation: "status" }, credentials.apiKey);
    expect(await c.status({ payoutId: "x", providerReference: sent.providerReference })).toMatchObject({ state: "unknown", providerReference: sent.providerReference });
    await emulator.injectFault({ mode: "garbage", operation: "status" }, credentials.apiKey);
    expect(await c.status({ payoutId: "x", providerReference: sent.providerReference })).toMatchObject({ state: "unknown" });
  });

  it("a login that fails in transport leaves the payout unknown, not failed", async () => {
    const credentials = newAccount();
    await emulator.injectFault({ mode: "500", operation: "login" }, credentials.apiKey);
    const request = payout(1000n);
    expect(await connector({ credentials }).submit(request)).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/login/) });
  });

  it("nobody listening: unknown", async () => {
    const closed = await serveWebHandler(async () => new Response(""));
    await closed.close();
    expect(await connector({ url: closed.url, credentials: sandboxCredentials() }).submit(payout(1000n))).toMatchObject({ state: "unknown" });
  });
});

describe("callbacks", () => {
  async function realCallback() {
    const sent = await connector().submit(payout(1000n));
    return waitFor(callbackFor(sent.providerReference!));
  }

  function signed(body: string, options: { at?: number; key?: string; eventId?: string } = {}): CallbackInput {
    const timestamp = String(options.at ?? Math.floor(Date.now() / 1000));
    return {
      headers: new Headers({
        "content-type": "application/json",
        "x-pontis-timestamp": timestamp,
        "x-pontis-signature": callbackSignature(timestamp, body, decodeKey(options.key ?? main.hmacKey, "hmacKey")),
        "x-pontis-event-id": options.eventId ?? randomUUID(),
      }),
      rawBody: body,
      url: callbackUrl,
      method: "POST",
    };
  }

  it("a redelivered callback (the receiver refused it first) has the same dedupeKey", async () => {
    const sent = await connector().submit(payout(1000n));
    refuseCallbacks.set(sent.providerReference!, 1);
    const callback = await waitFor(callbackFor(sent.providerReference!));
    // The receiver has the body before the emulator has read its answer: wait for the record.
    const attempts = await waitFor(() => {
      const list = emulator.payout(sent.providerReference!)!.callbackAttempts;
      return list.length === 2 && list;
    });
    expect(attempts.map((a) => a.httpStatus)).toEqual([503, 200]);
    expect(attempts[0]!.eventId).toBe(attempts[1]!.eventId);
    const parsed = await connector().parseCallback!(callback);
    expect(parsed).toMatchObject({ verified: true, dedupeKey: `pontis:${sent.providerReference}:completed` });
    // Replayed as is: verified again with the same dedupeKey, so the desk applies it once.
    expect(await connector().parseCallback!(callback)).toEqual(parsed);
  });

  it("keys a callback on what the HMAC covers: a new event id or a fresh signature does not make a replay new", async () => {
    // x-pontis-event-id is outside the signature: keyed on it, a valid body replayed
    // inside the window with any event id counted as a new callback.
    const body = JSON.stringify({ transaction_id: "t-replay", status: "failed", status_message: "Insufficient funds" });
    const first = await connector().parseCallback!(signed(body, { eventId: "evt-a" }));
    const replayed = await connector().parseCallback!(signed(body, { eventId: "evt-b" }));
    const resigned = await connector().parseCallback!(signed(body, { at: Math.floor(Date.now() / 1000) - 60 }));
    expect(first).toMatchObject({ verified: true, dedupeKey: "pontis:t-replay:failed" });
    expect(replayed).toMatchObject({ verified: true, dedupeKey: "pontis:t-replay:failed" });
    expect(resigned).toMatchObject({ verified: true, dedupeKey: "pontis:t-replay:failed" });
    // Another signed status of the same transaction is another fact.
    const other = JSON.stringify({ transaction_id: "t-replay", status: "completed" });
    expect(await connector().parseCallback!(signed(other))).toMatchObject({ verified: true, dedupeKey: "pontis:t-replay:completed" });
  });

  it("refuses a forged signature, a wrong key, and a tampered body", async () => {
    const callback = await realCallback();
    const forged = new Headers(callback.headers);
    forged.set("x-pontis-signature", `sha256=${"0".repeat(64)}`);
    expect(await connector().parseCallback!({ ...callback, headers: forged })).toMatchObject({ verified: false, reason: expect.stringMatching(/signature does not match/) });
    const body = callback.rawBody.replace("completed", "failed");
    expect(await connector().parseCallback!({ ...callback, rawBody: body })).toMatchObject({ verified: false });
    expect(await connector().parseCallback!(signed(body, { key: sandboxCredentials().hmacKey }))).toMatchObject({ verified: false });
    const bare = new Headers(callback.headers);
    bare.set("x-pontis-signature", callback.headers.get("x-pontis-signature")!.slice(7)); // without "sha256="
    expect(await connector().parseCallback!({ ...callback, headers: bare })).toMatchObject({ verified: false });
  });

  it("refuses stale and future callbacks, even when correctly signed", async () => {
    const body = JSON.stringify({ transaction_id: randomUUID(), status: "completed", status_message: "ok" });
    const now = Math.floor(Date.now() / 1000);
    expect(await connector().parseCallback!(signed(body, { at: now - 301 }))).toMatchObject({ verified: false, reason: expect.stringMatching(/stale/) });
    expect(await connector().parseCallback!(signed(body, { at: now + 400 }))).toMatchObject({ verified: false, reason: expect.stringMatching(/future/) });
    expect(await connector().parseCallback!(signed(body, { at: now - 290 }))).toMatchObject({ verified: true });
  });

  it("refuses missing headers and bodies that are not a transaction status", async () => {
    const body = JSON.stringify({ transaction_id: "t", status: "completed" });
    expect(await connector().parseCallback!({ headers: new Headers(), rawBody: body, url: callbackUrl, method: "POST" })).toMatchObject({ verified: false });
    // The event id is not signed, so it proves nothing and decides nothing: its absence refuses nothing.
    const noEvent = signed(body);
    noEvent.headers.delete("x-pontis-event-id");
    expect(await connector().parseCallback!(noEvent)).toMatchObject({ verified: true, dedupeKey: "pontis:t:completed" });
    expect(await connector().parseCallback!(signed("not json"))).toMatchObject({ verified: false });
    expect(await connector().parseCallback!(signed('{"status":"completed"}'))).toMatchObject({ verified: false });
  });

  it("uses an echoed idempotency_key as the payout id, and keeps undocumented statuses unknown", async () => {
    const payoutId = randomUUID();
    const body = JSON.stringify({ transaction_id: "t-1", status: "completed", status_message: "ok", idempotency_key: payoutId });
    expect(await connector().parseCallback!(signed(body, { eventId: "evt-1" }))).toMatchObject({ verified: true, payoutId, providerReference: "t-1", dedupeKey: "pontis:t-1:completed" });
    const odd = JSON.stringify({ transaction_id: "t-2", status: "on_hold" });
    expect(await connector().parseCallback!(signed(odd))).toMatchObject({ verified: true, result: { state: "unknown", providerStatus: "on_hold" } });
  });
});

describe("validate", () => {
  const fields = (request: PayoutRequest) => connector().validate(request).map((issue) => issue.field);

  it("accepts good payouts", () => {
    expect(connector().validate(payout(12_500n))).toEqual([]);
    expect(connector().validate(imps(12_500n))).toEqual([]);
    expect(connector().validate(payout(100n, { channel: "bank_local" }))).toEqual([]); // bare method + recipient country
  });

  it("names the field and the rule", () => {
    expect(connector().validate(payout(100n, { currency: "PHP" }))).toEqual([{ field: "currency", message: expect.stringMatching(/USDT wallet/) }]);
    expect(fields(payout(0n))).toEqual(["amount"]);
    expect(fields(payout(100n, { channel: null }))).toEqual(["channel"]);
    expect(fields(payout(100n, { channel: "XX-wire" }))).toEqual(["channel"]);
    expect(fields(payout(100n, { channel: "IN-imps", recipient: { name: "A", accountNumber: "123456789", country: "PH", details: { ifsc: "HDFC0001234" } } }))).toEqual(["channel"]);
    expect(fields(payout(100n, { recipient: { name: " ", accountNumber: "1", country: "PH" } }))).toEqual(["recipientName"]);
    expect(fields(payout(100n, { recipient: { name: "A", accountNumber: null, country: "PH" } }))).toEqual(["accountNumber"]);
    expect(connector().validate(imps(100n, { recipient: { name: "A", accountNumber: "123456789", country: "IN" } }))).toEqual([
      { field: "ifsc", message: expect.stringMatching(/IMPS.*IFSC/) },
    ]);
    expect(fields(imps(100n, { recipient: { name: "A", accountNumber: "123456789", country: "IN", details: { ifsc: "hdfc1234" } } }))).toEqual(["ifsc"]);
    expect(fields(imps(100n, { recipient: { name: "A", accountNumber: "12-34", country: "IN", details: { ifsc: "HDFC0001234" } } }))).toEqual(["accountNumber"]);
    expect(fields(payout(100n, { channel: "ID-bank_local", recipient: { name: "A", accountNumber: "1", country: "ID" } }))).toEqual(["bank_code"]);
  });

  it("uses the connection's default payment method and country", () => {
    const c = connector({ credentials: { ...main, defaultPaymentMethod: "imps" } });
    expect(c.validate(imps(100n, { channel: null, recipient: { name: "A", accountNumber: "123456789", country: null, details: { ifsc: "HDFC0001234" } } }))).toEqual([]);
    const d = connector({ credentials: { ...main, defaultPaymentMethod: "bank_local", defaultCountry: "PH" } });
    expect(d.validate(payout(100n, { channel: null, recipient: { name: "A", accountNumber: "1", country: null } }))).toEqual([]);
  });

  it("refuses to send what it would refuse to validate, without a call", async () => {
    expect(await connector().submit(payout(100n, { currency: "USD" }))).toMatchObject({ state: "failed", failureCode: "NOT_SENT", failureMessage: expect.stringMatching(/currency/) });
    expect(calls).toHaveLength(0);
  });
});
