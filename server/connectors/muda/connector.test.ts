// The Muda connector against the built-in emulator, over real HTTP: the
// sign-in and its shared token cache, payouts to every sandbox outcome,
// unsigned webhooks received by a local receiver, duplicates, refusals,
// injected transport faults, balances and the validation rules.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createMudaEmulator, sandboxAccountFor, type MudaEmulator, type MudaEmulatorAccount } from "@/server/sandbox/muda";
import type { CallbackInput, ConnectionConfig, PayoutRequest, ProviderCallRecord } from "../types";
import { clearMudaTokenCache, createMudaConnector, mapTransaction, mudaConnectorFactory, MUDA_WEBHOOK_REASON, sandboxCredentials } from "./index";
import { parseWithNumbers, plainDecimal, rawNumber, stringifyWithNumbers } from "./json";
import { waitFor } from "@/server/testing/wait";

const BASE_PATH = "/api/sandbox/muda";

let emulator: MudaEmulator;
let dupEmulator: MudaEmulator;
let emulatorServer: ServedHandler;
let dupServer: ServedHandler;
let receiverServer: ServedHandler;
let baseUrl: string;
let callbackUrl: string;
const accounts = new Map<string, MudaEmulatorAccount>();
const received: CallbackInput[] = [];
let calls: ProviderCallRecord[] = [];
/** The clock both the emulator and the connectors read (tests move it to expire tokens). */
let clockOffsetMs = 0;
const clock = () => new Date(Date.now() + clockOffsetMs);

beforeAll(async () => {
  receiverServer = await serveWebHandler(async (request) => {
    received.push({ headers: request.headers, rawBody: await request.text(), url: request.url, method: request.method });
    return Response.json({ status: "ok" });
  });
  callbackUrl = `${receiverServer.url}/api/webhooks/conn-muda`;
  accounts.set("key-main", { secretKey: "secret-main", callbackUrl });
  accounts.set("key-tokens", { secretKey: "secret-tokens", callbackUrl });
  accounts.set("key-poor", { secretKey: "secret-poor", callbackUrl, balances: { UGX: "10000.0000000" } });
  accounts.set("key-balance", { secretKey: "secret-balance", callbackUrl, balances: { UGX: "4621.0000000", XLM: "12.5000000" } });
  accounts.set("key-fraction", { secretKey: "secret-fraction", callbackUrl, balances: { UGX: "4621.5000000" } });
  accounts.set("key-seed", { secretKey: "secret-seed", callbackUrl, clientId: "12345" });
  const options = {
    basePath: BASE_PATH,
    accounts: (apiKey: string) => accounts.get(apiKey) ?? null,
    callbackDelayMs: 80,
    offlineDelayMs: 150,
    callbackRetryDelaysMs: [50, 100],
    now: clock,
  };
  emulator = createMudaEmulator(options);
  dupEmulator = createMudaEmulator({ ...options, duplicates: "409" });
  emulatorServer = await serveWebHandler(emulator.handle);
  dupServer = await serveWebHandler(dupEmulator.handle);
  baseUrl = `${emulatorServer.url}${BASE_PATH}`;
});

afterAll(async () => {
  emulator.close();
  dupEmulator.close();
  await emulatorServer.close();
  await dupServer.close();
  await receiverServer.close();
});

beforeEach(() => {
  calls = [];
});

function connector(options: { key?: string; secret?: string; credentials?: Record<string, string>; timeoutMs?: number; url?: string } = {}) {
  const key = options.key ?? "key-main";
  const config: ConnectionConfig = {
    id: "conn-muda",
    provider: "muda",
    name: "Muda sandbox",
    environment: "sandbox",
    baseUrl: options.url ?? baseUrl,
    credentials: { apiKey: key, secretKey: options.secret ?? accounts.get(key)?.secretKey ?? "nope", ...options.credentials },
    callbackUrl,
  };
  return createMudaConnector(config, { onCall: (call) => void calls.push(call), timeoutMs: options.timeoutMs ?? 5000, now: clock });
}

function payout(amountMinor: bigint, overrides: Partial<PayoutRequest> = {}): PayoutRequest {
  return {
    payoutId: randomUUID(),
    amountMinor,
    currency: "UGX",
    recipient: { phone: "256772123456", name: "Nakato Sarah", country: "UG" },
    channel: null,
    description: "Desk payout",
    createdAt: new Date(),
    ...overrides,
  };
}

const webhookFor = (payoutId: string, status?: string) => () =>
  received.find((c) => c.rawBody.includes(payoutId) && (!status || c.rawBody.includes(`"status":"${status}"`)));
const count = (payoutId: string) => emulator.payouts().filter((p) => p.referenceId === payoutId).length;
const ops = () => calls.map((c) => `${c.operation}${c.httpStatus ? ` ${c.httpStatus}` : c.error ? " error" : ""}`);

describe("the wire", () => {
  it("writes money as JSON numbers from the decimal string, and reads them back as text", () => {
    expect(stringifyWithNumbers({ amount: rawNumber("10000"), fee: rawNumber("0.50"), note: "x" })).toBe('{"amount":10000,"fee":0.50,"note":"x"}');
    // A string in the data that looks like a marker stays a string.
    expect(stringifyWithNumbers({ a: "\u0000n0\u0000", b: rawNumber("1") })).toBe('{"a":"\\u0000n0\\u0000","b":1}');
    expect(() => rawNumber("1e3")).toThrow();
    const parsed = parseWithNumbers('{"amount": 123456789012345678901.25, "n": [1, -2.5e3], "s": "\\u00e9", "t": true, "z": null}') as Record<string, unknown>;
    expect(plainDecimal(parsed.amount)).toBe("123456789012345678901.25");
    expect(plainDecimal((parsed.n as unknown[])[1])).toBeNull(); // exponents are refused as amounts
    expect(parsed.s).toBe("é");
    expect(() => parseWithNumbers('{"a":1,}')).toThrow(SyntaxError);
    expect(() => parseWithNumbers("[1] x")).toThrow(SyntaxError);
  });

  it("sends the exact documented bodies: sign-in, then the current-version payout", async () => {
    clearMudaTokenCache();
    const seen: Array<{ method: string; path: string; headers: Headers; body: string }> = [];
    const capture = await serveWebHandler(async (request) => {
      const body = await request.text();
      seen.push({ method: request.method, path: new URL(request.url).pathname, headers: request.headers, body });
      if (new URL(request.url).pathname.endsWith("/oauth/token")) {
        return Response.json({ status: 200, message: "success", data: { access_token: "jwt.token.here", token_type: "Bearer", expires_in: 7200 } });
      }
      return Response.json({ status: 202, message: "Transaction is being processed", data: { trans_id: "tx-1", status: "PENDING", is_offline: false } }, { status: 202 });
    });
    try {
      const c = connector({ url: `${capture.url}/` });
      const request = payout(10_000n, { payoutId: "7c0d4a52-6f5e-4b4e-9d47-1c7f0e1a2b3c" });
      expect(await c.submit(request)).toMatchObject({ state: "processing", providerStatus: "PENDING", providerReference: "tx-1" });
      expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /v1/clients/oauth/token", "POST /v1/payment/direct-payout"]);
      expect(seen[0]!.body).toBe('{"secret_key":"secret-main","api_key":"key-main"}');
      expect(seen[1]!.body).toBe(
        '{"reference_id":"7c0d4a52-6f5e-4b4e-9d47-1c7f0e1a2b3c","amount":10000,"trans_type":"PUSH","currency":"UGX","product_id":10011,' +
          '"account_number":"256772123456","extra_data":{"account_name":"Nakato Sarah"}}',
      );
      expect(seen[1]!.headers.get("authorization")).toBe("Bearer jwt.token.here");
      expect(seen[1]!.headers.get("content-type")).toBe("application/json");
      // The timeline keeps neither the secret nor the token.
      const timeline = JSON.stringify(calls);
      expect(timeline).not.toContain("secret-main");
      expect(timeline).not.toContain("jwt.token.here");
      expect(calls[0]).toMatchObject({ operation: "token", httpStatus: 200, request: { body: { secret_key: "[redacted]", api_key: "key-main" } } });
      expect(calls[1]).toMatchObject({ operation: "submit", httpStatus: 202, payoutId: request.payoutId });
    } finally {
      await capture.close();
      clearMudaTokenCache();
    }
  });

  it("is the registered factory, describes itself, and makes sandbox credentials", () => {
    expect(mudaConnectorFactory).toBe(createMudaConnector);
    const c = connector();
    expect(c.capabilities).toEqual({ statusQuery: true, callbacks: "hint", balances: true, statements: false });
    expect(c.channels()).toEqual([]);
    expect(c.apiVersion).toBe("current");
    const a = sandboxCredentials();
    const b = sandboxCredentials();
    expect(a).toMatchObject({ apiKey: expect.stringMatching(/^muda-sandbox-[0-9a-f]{24}$/), secretKey: expect.any(String), productId: "10011" });
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(sandboxAccountFor(a, "http://desk/api/webhooks/x")).toEqual({ secretKey: a.secretKey, callbackUrl: "http://desk/api/webhooks/x" });
  });
});

describe("payouts through the emulator", () => {
  it("10,000 UGX: PENDING (processing), then an unsigned webhook (a hint) and a status query that says SUCCESS", async () => {
    const c = connector();
    const request = payout(10_000n);
    const submitted = await c.submit(request);
    expect(submitted).toMatchObject({ state: "processing", providerStatus: "PENDING", providerReference: expect.any(String) });

    const webhook = await waitFor(webhookFor(request.payoutId, "SUCCESS"));
    expect(JSON.parse(webhook.rawBody)).toMatchObject({ type: "transaction_status", reference_id: request.payoutId, status: "SUCCESS", amount: 10000, currency: "UGX" });
    expect(webhook.rawBody).toContain('"amount":10000,');
    expect(await c.parseCallback!(webhook)).toEqual({ verified: false, hint: true, reason: MUDA_WEBHOOK_REASON, payoutId: request.payoutId });

    const confirmed = await c.status(request);
    expect(confirmed).toMatchObject({ state: "succeeded", providerStatus: "SUCCESS", providerReference: submitted.providerReference });
  });

  it("…111: completes at once (200 SUCCESS)", async () => {
    const request = payout(5_111n);
    expect(await connector().submit(request)).toMatchObject({ state: "succeeded", providerStatus: "SUCCESS" });
    await waitFor(webhookFor(request.payoutId, "SUCCESS"));
  });

  it("…222: processing, then FAILED on the status query (and the webhook is still only a hint)", async () => {
    const c = connector();
    const request = payout(7_222n);
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    const webhook = await waitFor(webhookFor(request.payoutId, "FAILED"));
    expect(await c.parseCallback!(webhook)).toMatchObject({ verified: false, hint: true, payoutId: request.payoutId });
    expect(await c.status(request)).toMatchObject({
      state: "failed",
      providerStatus: "FAILED",
      failureCode: "FAILED",
      failureMessage: expect.stringMatching(/could not receive/),
    });
  });

  it("…333: 210 on hold is provider_pending_approval, until Muda approves (succeeded) or rejects (failed)", async () => {
    const c = connector();
    const approved = payout(3_333n);
    expect(await c.submit(approved)).toMatchObject({ state: "provider_pending_approval", providerStatus: "ON_HOLD" });
    expect(await c.status(approved)).toMatchObject({ state: "provider_pending_approval", providerStatus: "ON_HOLD" });
    expect(emulator.releaseHold(approved.payoutId, "approve")).toBe(true);
    await waitFor(webhookFor(approved.payoutId, "SUCCESS"));
    expect(await c.status(approved)).toMatchObject({ state: "succeeded" });

    const rejected = payout(4_333n);
    await c.submit(rejected);
    emulator.releaseHold(rejected.payoutId, "reject");
    expect(await c.status(rejected)).toMatchObject({ state: "failed", failureMessage: expect.stringMatching(/Rejected after verification/) });
  });

  it("…444: is_offline is processing (never a failure), and succeeds when the network is back", async () => {
    const c = connector();
    const request = payout(6_444n);
    expect(await c.submit(request)).toMatchObject({ state: "processing", providerStatus: "PENDING (offline)" });
    expect(await c.status(request)).toMatchObject({ state: "processing", providerStatus: "PENDING (offline)" });
    await waitFor(webhookFor(request.payoutId, "SUCCESS"));
    expect(await c.status(request)).toMatchObject({ state: "succeeded", providerStatus: "SUCCESS" });
  });

  it("…555: stays PENDING, with no webhook", async () => {
    const c = connector();
    const request = payout(8_555n);
    await c.submit(request);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await c.status(request)).toMatchObject({ state: "processing", providerStatus: "PENDING" });
    expect(received.find((r) => r.rawBody.includes(request.payoutId))).toBeUndefined();
  });

  it("an unknown reference_id is not_found", async () => {
    expect(await connector().status({ payoutId: randomUUID() })).toMatchObject({ state: "not_found", providerStatus: "HTTP 404" });
  });

  it("the seed-version endpoint, chosen by apiVersion \"seed\": /v1/direct-payout with clientId, phone and memo", async () => {
    const c = connector({ key: "key-seed", credentials: { apiVersion: "seed", clientId: "12345" } });
    expect(c.apiVersion).toBe("seed");
    const request = payout(10_000n, { description: "March salary" });
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    expect(emulator.payout(request.payoutId)).toMatchObject({ apiVersion: "seed", memo: "March salary", accountNumber: "256772123456" });
    expect(calls.find((call) => call.operation === "submit")?.url).toMatch(/\/v1\/direct-payout$/);
    expect(connector({ key: "key-seed", credentials: { apiVersion: "seed" } }).validate(request)).toEqual([
      { field: "channel", message: expect.stringMatching(/clientId/) },
    ]);
  });
});

describe("reading Muda's answers", () => {
  const envelope = (status: number, data: unknown, message = "x") => ({ status, message, data });
  const id = "7c0d4a52-6f5e-4b4e-9d47-1c7f0e1a2b3c";

  it("maps every documented status word, keeps unknown ones non-final, and checks the reference", () => {
    expect(mapTransaction(200, envelope(200, { status: "COMPLETED", transaction_id: "t1" }), id)).toMatchObject({ state: "succeeded", providerReference: "t1" });
    expect(mapTransaction(200, envelope(200, { status: "PROCESSING" }), id)).toMatchObject({ state: "processing" });
    expect(mapTransaction(200, envelope(200, { status: "REVERSED" }), id)).toMatchObject({ state: "unknown", providerStatus: "REVERSED" });
    // 210 in the envelope counts even when the HTTP layer said 200.
    expect(mapTransaction(200, envelope(210, { status: "PENDING" }), id)).toMatchObject({ state: "provider_pending_approval" });
    // Offline is never a failure, whatever the word.
    expect(mapTransaction(200, envelope(200, { status: "FAILED", is_offline: true }), id)).toMatchObject({ state: "processing" });
    expect(mapTransaction(200, envelope(200, { status: "SUCCESS", reference_id: "someone-else" }), id)).toBeNull();
    expect(mapTransaction(200, envelope(200, null), id)).toBeNull();
  });
});

describe("idempotency: one payout per payout id", () => {
  it("a resend of the same id answers the existing transaction and creates nothing", async () => {
    const c = connector();
    const request = payout(12_000n);
    const first = await c.submit(request);
    await waitFor(webhookFor(request.payoutId, "SUCCESS"));
    const again = await c.submit(request);
    expect(again).toMatchObject({ state: "succeeded", providerStatus: "SUCCESS", providerReference: first.providerReference });
    expect(count(request.payoutId)).toBe(1);
  });

  it("a 409 duplicate (where Muda answers so) is resolved by a status query", async () => {
    const c = connector({ url: `${dupServer.url}${BASE_PATH}` });
    const request = payout(13_000n);
    await c.submit(request);
    calls = [];
    const again = await c.submit(request);
    expect(ops()).toEqual(["submit 409", "status 200"]);
    expect(["processing", "succeeded"]).toContain(again.state);
    expect(dupEmulator.payouts().filter((p) => p.referenceId === request.payoutId)).toHaveLength(1);
  });
});

describe("refusals", () => {
  it("Insufficient balance: failed INSUFFICIENT_BALANCE after Muda confirms nothing exists", async () => {
    const request = payout(9_000n); // 9,000 + 2,000 fee > 10,000
    const result = await connector({ key: "key-poor" }).submit(request);
    expect(result).toMatchObject({ state: "failed", providerStatus: "HTTP 400", failureCode: "INSUFFICIENT_BALANCE" });
    expect(ops()).toEqual(["token 200", "submit 400", "status 404"]);
    expect(count(request.payoutId)).toBe(0);
    // 8,000 + 2,000 fits exactly.
    expect(await connector({ key: "key-poor" }).submit(payout(8_000n))).toMatchObject({ state: "processing" });
  });

  it("a 422 validation refusal is failed (nothing created); the desk's own rules stop what it knows before sending", async () => {
    // A product the desk has no table for is sent; the emulator does not sell it.
    const c = connector({ credentials: { productId: "99999" } });
    const request = payout(10_000n);
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "failed", providerStatus: "HTTP 422", failureCode: "INVALID_REQUEST", failureMessage: expect.stringMatching(/product_id 99999/) });
    expect(count(request.payoutId)).toBe(0);

    calls = [];
    expect(await connector().submit(payout(400n))).toMatchObject({ state: "failed", failureCode: "NOT_SENT", failureMessage: expect.stringMatching(/at least 500 UGX/) });
    expect(calls).toHaveLength(0);
  });

  it("credentials Muda refuses: failed (nothing was sent) for a payout, unknown for a status query", async () => {
    const c = connector({ secret: "wrong-secret" });
    const request = payout(10_000n);
    expect(await c.submit(request)).toMatchObject({ state: "failed", failureCode: "AUTH_REFUSED", failureMessage: expect.stringMatching(/Not sent to Muda.*HTTP 401/) });
    expect(ops()).toEqual(["token 401"]);
    expect(count(request.payoutId)).toBe(0);
    expect(await c.status(request)).toMatchObject({ state: "unknown" });
    expect(await c.testConnection!()).toMatchObject({ ok: false, message: expect.stringMatching(/refused the sign-in/) });
  });
});

describe("the token: shared, refreshed before expiry, single-flight, renewed on 401", () => {
  beforeEach(() => {
    clearMudaTokenCache();
    clockOffsetMs = 0;
  });

  it("is exchanged once and shared by every connector of the connection", async () => {
    const before = await emulator.tokenExchanges("key-tokens");
    const request = payout(10_000n);
    await connector({ key: "key-tokens" }).submit(request);
    await connector({ key: "key-tokens" }).status(request);
    await connector({ key: "key-tokens" }).balances!();
    expect(await emulator.tokenExchanges("key-tokens")).toBe(before + 1);
    expect(ops()).toEqual(["token 200", "submit 202", "status 200", "balances 200"]);
  });

  it("concurrent callers share one exchange", async () => {
    const before = await emulator.tokenExchanges("key-tokens");
    const results = await Promise.all(Array.from({ length: 6 }, () => connector({ key: "key-tokens" }).status({ payoutId: randomUUID() })));
    expect(results.map((r) => r.state)).toEqual(Array(6).fill("not_found"));
    expect(await emulator.tokenExchanges("key-tokens")).toBe(before + 1);
    expect(calls.filter((c) => c.operation === "token")).toHaveLength(1);
  });

  it("is refreshed at 80% of expires_in, before Muda would refuse it: no 401 is ever seen", async () => {
    const c = connector({ key: "key-tokens" });
    await c.status({ payoutId: randomUUID() });
    clockOffsetMs = 7200 * 1000 * 0.79;
    await c.status({ payoutId: randomUUID() });
    expect(ops()).toEqual(["token 200", "status 404", "status 404"]);
    calls = [];
    clockOffsetMs = 7200 * 1000 * 0.81; // still valid at Muda for 19% of its life, but due for renewal
    await c.status({ payoutId: randomUUID() });
    expect(ops()).toEqual(["token 200", "status 404"]);
    calls = [];
    clockOffsetMs = 7200 * 1000 * 1.5; // the first token has long expired at Muda; the renewed one has not
    await c.status({ payoutId: randomUUID() });
    expect(ops()).toEqual(["status 404"]);
  });

  it("a 401 on a read drops the token, signs in again and retries once", async () => {
    const c = connector({ key: "key-tokens" });
    const request = payout(10_000n);
    await c.submit(request);
    await emulator.revokeTokens("key-tokens");
    calls = [];
    expect(await c.status(request)).toMatchObject({ state: expect.stringMatching(/processing|succeeded/) });
    expect(ops()).toEqual(["status 401", "token 200", "status 200"]);
  });

  it("a 401 on the payout POST is retried once with a new token (an unauthenticated request was not acted upon): one payout", async () => {
    const c = connector({ key: "key-tokens" });
    await c.status({ payoutId: randomUUID() });
    await emulator.revokeTokens("key-tokens");
    calls = [];
    const request = payout(10_000n);
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    expect(ops()).toEqual(["submit 401", "token 200", "submit 202"]);
    expect(count(request.payoutId)).toBe(1);
  });

  it("a sign-in that fails for transport reasons: the payout is not sent and is unknown, resolved by status later", async () => {
    await emulator.injectFault({ mode: "500", operation: "token" }, "key-tokens");
    const c = connector({ key: "key-tokens" });
    const request = payout(10_000n);
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/Not sent: could not sign in/) });
    expect(ops()).toEqual(["token 500"]);
    expect(await c.status(request)).toMatchObject({ state: "not_found" });
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    expect(count(request.payoutId)).toBe(1);
  });

  it("keeps using a still-valid token while Muda's sign-in is briefly down", async () => {
    const c = connector({ key: "key-tokens" });
    await c.status({ payoutId: randomUUID() });
    clockOffsetMs = 7200 * 1000 * 0.9;
    await emulator.injectFault({ mode: "garbage", operation: "token", process: false }, "key-tokens");
    calls = [];
    expect(await c.status({ payoutId: randomUUID() })).toMatchObject({ state: "not_found" });
    expect(ops()).toEqual(["token 200", "status 404"]);
  });
});

describe("transport faults are unknown, never failed — and never a second payout", () => {
  it("timeout: unknown; the status query then finds the payout", async () => {
    await emulator.injectFault({ mode: "timeout" }, "key-main");
    const c = connector({ timeoutMs: 300 });
    const request = payout(10_000n);
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/timed out/) });
    expect(calls.find((call) => call.operation === "submit")).toMatchObject({ error: expect.stringMatching(/timed out/) });
    expect(["processing", "succeeded"]).toContain((await c.status(request)).state);
    expect(count(request.payoutId)).toBe(1);
  });

  it("500: unknown; status says not_found; the resend with the same id goes through once", async () => {
    await emulator.injectFault({ mode: "500" }, "key-main");
    const c = connector();
    const request = payout(10_000n);
    expect(await c.submit(request)).toMatchObject({ state: "unknown", providerStatus: "HTTP 500" });
    expect(await c.status(request)).toMatchObject({ state: "not_found" });
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    expect(count(request.payoutId)).toBe(1);
  });

  it("garbage body: unknown; status resolves it; a resend creates nothing new", async () => {
    await emulator.injectFault({ mode: "garbage" }, "key-main");
    const c = connector();
    const request = payout(10_000n);
    expect(await c.submit(request)).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/could not be read/) });
    expect(await c.status(request)).toMatchObject({ state: expect.stringMatching(/processing|succeeded/) });
    await c.submit(request);
    expect(count(request.payoutId)).toBe(1);
  });

  it("slow: answered within the timeout is read normally; beyond it, unknown and resolved by status", async () => {
    await emulator.injectFault({ mode: "slow", delayMs: 100 }, "key-main");
    const fast = payout(10_000n);
    expect(await connector({ timeoutMs: 1000 }).submit(fast)).toMatchObject({ state: "processing" });
    await emulator.injectFault({ mode: "slow", delayMs: 800 }, "key-main");
    const slow = payout(10_000n);
    const c = connector({ timeoutMs: 300 });
    expect(await c.submit(slow)).toMatchObject({ state: "unknown" });
    expect(["processing", "succeeded"]).toContain((await c.status(slow)).state);
    expect(count(fast.payoutId) + count(slow.payoutId)).toBe(2);
  });

  it("connection dropped after Muda accepted: unknown; status finds it", async () => {
    await emulator.injectFault({ mode: "drop-after-accept" }, "key-main");
    const c = connector();
    const request = payout(10_000n);
    expect(await c.submit(request)).toMatchObject({ state: "unknown" });
    expect(count(request.payoutId)).toBe(1);
    expect(["processing", "succeeded"]).toContain((await c.status(request)).state);
  });

  it("a status query that gets a 500 or garbage is unknown, not not_found", async () => {
    await emulator.injectFault({ mode: "500", operation: "status" }, "key-main");
    expect(await connector().status({ payoutId: randomUUID() })).toMatchObject({ state: "unknown", providerStatus: "HTTP 500" });
    await emulator.injectFault({ mode: "garbage", operation: "status" }, "key-main");
    expect(await connector().status({ payoutId: randomUUID() })).toMatchObject({ state: "unknown" });
  });

  it("a 404 that is not Muda's envelope (HTML, a gateway's {message}) is unknown, not not_found", async () => {
    const answers = [new Response("<html>Not Found</html>", { status: 404 }), Response.json({ message: "Not Found" }, { status: 404 })];
    const other = await serveWebHandler(async (request) =>
      new URL(request.url).pathname.endsWith("/oauth/token")
        ? Response.json({ status: 200, message: "success", data: { access_token: "t", expires_in: 7200 } })
        : answers.shift()!,
    );
    try {
      const c = connector({ url: other.url });
      expect(await c.status({ payoutId: randomUUID() })).toMatchObject({ state: "unknown", providerStatus: "HTTP 404" });
      expect(await c.status({ payoutId: randomUUID() })).toMatchObject({ state: "unknown", providerStatus: "HTTP 404" });
    } finally {
      await other.close();
    }
  });

  it("nobody listening: unknown", async () => {
    const closed = await serveWebHandler(async () => new Response(""));
    await closed.close();
    expect(await connector({ url: closed.url }).submit(payout(10_000n))).toMatchObject({ state: "unknown" });
  });
});

describe("webhooks are hints, never trusted", () => {
  it("a forged webhook claiming success is not applied: it only names the payout to check", async () => {
    const c = connector();
    const request = payout(7_222n); // will fail at Muda
    await c.submit(request);
    const forged: CallbackInput = {
      headers: new Headers({ "content-type": "application/json" }),
      rawBody: JSON.stringify({ type: "transaction_status", reference_id: request.payoutId, status: "SUCCESS", amount: 7222, currency: "UGX" }),
      url: callbackUrl,
      method: "POST",
    };
    const parsed = await c.parseCallback!(forged);
    expect(parsed).toEqual({ verified: false, hint: true, reason: MUDA_WEBHOOK_REASON, payoutId: request.payoutId });
    // The status query, which is what the desk does with a hint, tells the truth.
    await waitFor(webhookFor(request.payoutId, "FAILED"));
    expect(await c.status(request)).toMatchObject({ state: "failed" });
  });

  it("a replayed webhook reads the same both times (the desk de-duplicates hints by body)", async () => {
    const c = connector();
    const request = payout(10_000n);
    await c.submit(request);
    const webhook = await waitFor(webhookFor(request.payoutId, "SUCCESS"));
    expect(await c.parseCallback!(webhook)).toEqual(await c.parseCallback!({ ...webhook }));
  });

  it("garbage, or no payout id of the desk: refused without a hint", async () => {
    const c = connector();
    const input = (rawBody: string): CallbackInput => ({ headers: new Headers(), rawBody, url: callbackUrl, method: "POST" });
    expect(await c.parseCallback!(input("not json"))).toEqual({ verified: false, reason: "The callback body is not JSON" });
    expect(await c.parseCallback!(input('{"reference_id":"ref123456","status":"SUCCESS"}'))).toMatchObject({ verified: false });
    expect(await c.parseCallback!(input('{"reference_id":"ref123456","status":"SUCCESS"}'))).not.toHaveProperty("hint");
  });
});

describe("balances", () => {
  it("reads the 7-decimal wallet into bigint minor units, skipping assets that are not money", async () => {
    const balances = await connector({ key: "key-balance" }).balances!();
    expect(balances).toEqual([{ currency: "UGX", amountMinor: 4621n, raw: { asset_code: "UGX", currency: "UGX", balance: "4621.0000000" } }]);
  });

  it("is debited by the amount and Muda's flat fee on a payout", async () => {
    accounts.set("key-debit", { secretKey: "secret-debit", callbackUrl, balances: { UGX: "1000000.0000000" } });
    const c = connector({ key: "key-debit" });
    const request = payout(123_456n);
    await c.submit(request);
    await waitFor(webhookFor(request.payoutId, "SUCCESS"));
    expect((await c.balances!())[0]).toMatchObject({ currency: "UGX", amountMinor: 1_000_000n - 123_456n - 2_000n, raw: { balance: "874544.0000000" } });
  });

  it("refuses to round a balance finer than the currency: a clear error instead", async () => {
    await expect(connector({ key: "key-fraction" }).balances!()).rejects.toThrow(/UGX balance of 4621\.5000000.*finer than UGX's smallest unit/);
  });

  it("testConnection: signs in afresh and reads the balance", async () => {
    const result = await connector({ key: "key-balance" }).testConnection!();
    expect(result).toEqual({ ok: true, message: "Signed in to Muda (product 10011); wallet: 4,621 UGX" });
    expect(ops()).toEqual(["token 200", "balances 200"]);
  });
});

describe("validate", () => {
  const fields = (request: PayoutRequest, credentials?: Record<string, string>) => connector({ credentials }).validate(request).map((i) => i.field);

  it("accepts a good payout", () => {
    expect(connector().validate(payout(10_000n))).toEqual([]);
    expect(connector().validate(payout(500n))).toEqual([]);
    expect(connector().validate(payout(2_000_000n, { recipient: { phone: "256701234567" } }))).toEqual([]);
  });

  it("names the field and the rule", () => {
    const issues = (request: PayoutRequest) => connector().validate(request);
    expect(issues(payout(499n))).toEqual([{ field: "amount", message: "Muda pays at least 500 UGX" }]);
    expect(issues(payout(2_000_001n))).toEqual([{ field: "amount", message: "Muda pays at most 2,000,000 UGX" }]);
    expect(issues(payout(0n))).toEqual([{ field: "amount", message: "The amount must be more than zero" }]);
    expect(issues(payout(1_000n, { currency: "KES" }))).toContainEqual({ field: "currency", message: "Muda's product 10011 pays in UGX, not KES" });
    expect(issues(payout(1_000n, { recipient: { phone: "+256772123456" } }))).toEqual([
      { field: "recipientPhone", message: "Muda pays Ugandan mobile numbers written 256XXXXXXXXX (12 digits, no +)" },
    ]);
    expect(fields(payout(1_000n, { recipient: { phone: "0772123456" } }))).toEqual(["recipientPhone"]);
    expect(fields(payout(1_000n, { recipient: { phone: "25677212345" } }))).toEqual(["recipientPhone"]); // 11 digits
    expect(fields(payout(1_000n, { recipient: { phone: "260763456789" } }))).toEqual(["recipientPhone"]); // Zambia
    expect(fields(payout(1_000n, { recipient: { phone: "256414123456" } }))).toEqual(["recipientPhone"]); // a Kampala landline
    expect(fields(payout(1_000n, { recipient: { phone: null } }))).toEqual(["recipientPhone"]);
  });

  it("reports a broken connection setting on the form instead of throwing", () => {
    expect(fields(payout(1_000n), { productId: "abc" })).toEqual(["channel"]);
    expect(fields(payout(1_000n), { apiVersion: "v3" })).toEqual(["channel"]);
  });

  it("for a product without a local table, still needs KES recipients' names (extra_data.account_name)", () => {
    const kes = payout(10_000n, { currency: "KES", recipient: { phone: "254712345678", name: "" } });
    expect(connector({ credentials: { productId: "20011" } }).validate(kes)).toEqual([
      { field: "recipientName", message: "Muda needs the account holder's name for KES payouts" },
    ]);
  });
});
