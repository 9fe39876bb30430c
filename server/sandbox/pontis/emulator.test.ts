// The PontisGlobe emulator spoken to over real HTTP with plain fetch and the
// crypto helpers, the way a merchant integration (not our connector) would:
// authentication, encryption, sessions, the body limit, validation,
// idempotency, the magic cents, callbacks and fault injection.
import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeKey, decryptPayload, encryptPayload, requestSignature, sandboxCredentials } from "@/server/connectors/pontis";
import { serveWebHandler, type ServedHandler } from "../http";
import { createPontisEmulator, sandboxAccountFor, sandboxOutcome, type PontisEmulator, type PontisEmulatorAccount } from "./index";
import { waitFor } from "@/server/testing/wait";

const BASE_PATH = "/api/sandbox/pontis";

let emulator: PontisEmulator;
let server: ServedHandler;
let receiver: ServedHandler;
let api: string;
const accounts = new Map<string, PontisEmulatorAccount>();
const callbacks: Array<{ headers: Headers; body: string }> = [];
const refuse = new Map<string, number>();

beforeAll(async () => {
  receiver = await serveWebHandler(async (request) => {
    const body = await request.text();
    for (const [id, left] of refuse) {
      if (left > 0 && body.includes(id)) {
        refuse.set(id, left - 1);
        return new Response("busy", { status: 503 });
      }
    }
    callbacks.push({ headers: request.headers, body });
    return new Response(null, { status: 204 });
  });
  emulator = createPontisEmulator({
    accounts: async (apiKey) => accounts.get(apiKey) ?? null,
    callbackDelayMs: 60,
    approvalDelayMs: 40,
    callbackRetryDelaysMs: [30, 30, 30],
  });
  server = await serveWebHandler(emulator.handle);
  api = `${server.url}${BASE_PATH}`;
});

afterAll(async () => {
  emulator.close();
  await server.close();
  await receiver.close();
});

function merchant(overrides: Partial<PontisEmulatorAccount> = {}) {
  const credentials = sandboxCredentials();
  accounts.set(credentials.apiKey, { ...sandboxAccountFor(credentials, `${receiver.url}/hooks/pontis`)!, ...overrides });
  return credentials;
}

type Credentials = ReturnType<typeof sandboxCredentials>;

/** One Pontis request as the docs' Quickstart helper makes it. */
async function call(
  path: string,
  payload: unknown,
  creds: Credentials,
  options: { jwt?: string | null; timestamp?: number; signatureKey?: string; rawBody?: string; apiKey?: string } = {},
) {
  const enc = encryptPayload(payload, decodeKey(creds.encryptionKey, "e"));
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-api-key": options.apiKey ?? creds.apiKey,
    "x-timestamp": timestamp,
    "x-signature": requestSignature(timestamp, enc, decodeKey(options.signatureKey ?? creds.hmacKey, "h")),
  };
  if (options.jwt) headers.authorization = `Bearer ${options.jwt}`;
  const response = await fetch(`${api}${path}`, { method: "POST", headers, body: options.rawBody ?? JSON.stringify({ data: enc }) });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

async function login(creds: Credentials): Promise<string> {
  const { status, json } = await call("/api/v1/user/login", { email: creds.email, password: creds.password }, creds);
  expect(status).toBe(200);
  return json.data.access_token;
}

function sendBody(overrides: Record<string, unknown> = {}) {
  return {
    idempotency_key: randomUUID(),
    country_code: "PH",
    currency_code: "PHP",
    payment_method: "bank_local",
    source_amount: "10.00",
    source_currency: "USDT",
    recipient_details: { name: "Juan dela Cruz", account_number: "1234567890" },
    ...overrides,
  };
}

const errorShape = (code: string) => ({ ok: false, request_id: expect.stringMatching(/^[0-9A-Z]{26}$/), error: { code, message: expect.any(String) } });

describe("authentication", () => {
  it("logs in with the encrypted email and password and issues a Bearer JWT", async () => {
    const creds = merchant();
    const { status, json } = await call("/api/v1/user/login", { email: creds.email, password: creds.password }, creds);
    expect(status).toBe(200);
    expect(json).toEqual({ ok: true, data: { access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), token_type: "Bearer", expires_in: 900 } });
    const wrong = await call("/api/v1/user/login", { email: creds.email, password: "nope" }, creds);
    expect(wrong).toEqual({ status: 401, json: errorShape("unauthorized") });
  });

  it("refuses unknown keys, bad signatures, stale timestamps and undecryptable bodies", async () => {
    const creds = merchant();
    const payload = { email: creds.email, password: creds.password };
    expect(await call("/api/v1/user/login", payload, creds, { apiKey: "unknown" })).toEqual({ status: 401, json: errorShape("unauthorized") });
    expect(await call("/api/v1/user/login", payload, creds, { signatureKey: sandboxCredentials().hmacKey })).toEqual({ status: 401, json: errorShape("invalid_signature") });
    const stale = await call("/api/v1/user/login", payload, creds, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale).toEqual({ status: 401, json: errorShape("unauthorized") });
    expect(stale.json.error.message).toMatch(/±300 s/);
    expect((await call("/api/v1/user/login", payload, creds, { timestamp: Math.floor(Date.now() / 1000) + 290 })).status).toBe(200);
    expect(await call("/api/v1/user/login", payload, creds, { rawBody: '{"payload":1}' })).toEqual({ status: 400, json: errorShape("bad_request") });
    // Signed correctly but encrypted under another key.
    const other = { ...creds, encryptionKey: sandboxCredentials().encryptionKey };
    expect(await call("/api/v1/user/login", payload, other)).toEqual({ status: 400, json: errorShape("bad_request") });
  });

  it("needs a valid, unexpired JWT for payouts", async () => {
    const creds = merchant();
    const path = "/api/v1/payouts/getPayoutStatus";
    expect(await call(path, { transaction_id: "x" }, creds)).toEqual({ status: 401, json: errorShape("unauthorized") });
    expect(await call(path, { transaction_id: "x" }, creds, { jwt: "a.b.c" })).toEqual({ status: 401, json: errorShape("unauthorized") });
    // A token of another merchant is not valid here.
    const stranger = await login(merchant());
    expect(await call(path, { transaction_id: "x" }, creds, { jwt: stranger })).toEqual({ status: 401, json: errorShape("unauthorized") });
    const jwt = await login(creds);
    expect(await call(path, { transaction_id: "x" }, creds, { jwt })).toEqual({ status: 404, json: errorShape("not_found") });
    emulator.expireSessions();
    expect(await call(path, { transaction_id: "x" }, creds, { jwt })).toEqual({ status: 401, json: errorShape("jwt_expired") });
  });

  it("expires tokens after expires_in", async () => {
    const short = createPontisEmulator({ basePath: "", accounts: async (k) => accounts.get(k) ?? null, jwtExpiresInSeconds: 1 });
    const served = await serveWebHandler(short.handle);
    try {
      const creds = merchant();
      const enc = (payload: unknown) => encryptPayload(payload, decodeKey(creds.encryptionKey, "e"));
      const post = async (path: string, payload: unknown, jwt?: string) => {
        const data = enc(payload);
        const ts = String(Math.floor(Date.now() / 1000));
        const response = await fetch(`${served.url}${path}`, {
          method: "POST",
          headers: { "x-api-key": creds.apiKey, "x-timestamp": ts, "x-signature": requestSignature(ts, data, decodeKey(creds.hmacKey, "h")), ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
          body: JSON.stringify({ data }),
        });
        return { status: response.status, json: (await response.json()) as any };
      };
      const token = (await post("/api/v1/user/login", { email: creds.email, password: creds.password })).json.data;
      expect(token.expires_in).toBe(1);
      expect((await post("/api/v1/payouts/getPayoutStatus", { transaction_id: "x" }, token.access_token)).status).toBe(404);
      await new Promise((resolve) => setTimeout(resolve, 1050));
      expect(await post("/api/v1/payouts/getPayoutStatus", { transaction_id: "x" }, token.access_token)).toEqual({ status: 401, json: errorShape("jwt_expired") });
    } finally {
      short.close();
      await served.close();
    }
  });

  it("refuses a body over 64 KB with 413, and a suspended account with 403", async () => {
    const creds = merchant();
    const big = await call("/api/v1/user/login", { email: creds.email, password: creds.password, pad: "x".repeat(50_000) }, creds);
    expect(big).toEqual({ status: 413, json: errorShape("payload_too_large") });
    const suspended = merchant({ suspended: true });
    expect(await call("/api/v1/user/login", { email: suspended.email, password: suspended.password }, suspended)).toEqual({ status: 403, json: errorShape("account_suspended") });
  });

  it("answers unknown routes 404 and other methods 405", async () => {
    expect((await fetch(`${api}/api/v1/nothing`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${api}/api/v1/user/login`)).status).toBe(405);
  });
});

describe("sendPayoutRequest", () => {
  it("validates the documented fields with 400 validation_error naming the field", async () => {
    const creds = merchant();
    const jwt = await login(creds);
    const keys: string[] = [];
    const send = (overrides: Record<string, unknown>) => {
      const body = sendBody(overrides);
      keys.push(String(body.idempotency_key));
      return call("/api/v1/payouts/sendPayoutRequest", body, creds, { jwt });
    };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ idempotency_key: "not-a-uuid" }, /idempotency_key/],
      [{ country_code: "PHL" }, /country_code/],
      [{ payment_method: "imps" }, /not available for PH/],
      [{ currency_code: "USD" }, /pays in PHP/],
      [{ source_amount: "10.001" }, /source_amount/],
      [{ source_amount: 10 }, /source_amount/],
      [{ source_amount: "0.00" }, /more than zero/],
      [{ source_currency: "USDC" }, /source_currency/],
      [{ recipient_details: { account_number: "1" } }, /recipient_details.name/],
      [{ recipient_details: { name: "A" } }, /account_number/],
      [{ country_code: "IN", currency_code: "INR", payment_method: "imps", recipient_details: { name: "A", account_number: "1" } }, /ifsc/],
      [{ country_code: "IN", currency_code: "INR", payment_method: "imps", recipient_details: { name: "A", account_number: "1", ifsc: "X" } }, /ifsc is not valid/],
    ];
    for (const [overrides, message] of cases) {
      const { status, json } = await send(overrides);
      expect(status, JSON.stringify(overrides)).toBe(400);
      expect(json).toEqual(errorShape("validation_error"));
      expect(json.error.message).toMatch(message);
    }
    expect(keys.filter((key) => emulator.payout(key))).toEqual([]);
  });

  it("creates one payout per idempotency_key: a reuse returns the original transaction", async () => {
    const creds = merchant();
    const jwt = await login(creds);
    const body = sendBody();
    const first = await call("/api/v1/payouts/sendPayoutRequest", body, creds, { jwt });
    expect(first).toEqual({ status: 201, json: { ok: true, data: { transaction_id: expect.any(String), status: "pending" } } });
    const again = await call("/api/v1/payouts/sendPayoutRequest", { ...body, source_amount: "99.00" }, creds, { jwt });
    expect(again.json.data.transaction_id).toBe(first.json.data.transaction_id);
    expect(emulator.payouts().filter((p) => p.idempotencyKey === body.idempotency_key)).toHaveLength(1);
  });

  it("applies the business rules: balance, limits, screening, frozen wallet", async () => {
    const send = async (account: Partial<PontisEmulatorAccount>, overrides: Record<string, unknown> = {}) => {
      const creds = merchant(account);
      return call("/api/v1/payouts/sendPayoutRequest", sendBody(overrides), creds, { jwt: await login(creds) });
    };
    const poor = await send({ balance: "5.00" });
    expect(poor).toEqual({ status: 422, json: errorShape("insufficient_funds") });
    expect(poor.json.error.message).toBe("Insufficient available balance. Available: 5.00 USDT");
    expect(await send({ perPayoutLimit: "9.99" })).toEqual({ status: 422, json: errorShape("per_payout_limit_exceeded") });
    expect(await send({ dailyLimit: "9.99" })).toEqual({ status: 422, json: errorShape("daily_limit_exceeded") });
    expect(await send({ monthlyLimit: "9.99" })).toEqual({ status: 422, json: errorShape("monthly_limit_exceeded") });
    expect(await send({}, { recipient_details: { name: "Sanctioned Co", account_number: "1" } })).toEqual({ status: 422, json: errorShape("screening_failed") });
    expect(await send({ walletFrozen: true })).toEqual({ status: 409, json: errorShape("wallet_frozen") });
  });

  it("reserves the amount and gives it back when the payout fails", async () => {
    const creds = merchant({ balance: "100.00" });
    const jwt = await login(creds);
    await call("/api/v1/payouts/sendPayoutRequest", sendBody({ source_amount: "30.01" }), creds, { jwt });
    expect(await emulator.balance(creds.apiKey)).toBe(6999n);
    await emulator.idle();
    expect(await emulator.balance(creds.apiKey)).toBe(10_000n);
  });
});

describe("the sandbox lifecycle and callbacks", () => {
  it("maps the trailing cents", () => {
    expect(sandboxOutcome("125.00")).toEqual({ status: "completed", message: expect.any(String) });
    expect(sandboxOutcome("125")).toMatchObject({ status: "completed" });
    expect(sandboxOutcome("1.01")).toEqual({ status: "failed", message: "Insufficient funds" });
    expect(sandboxOutcome("1.02")).toEqual({ status: "failed", message: "Recipient not found" });
    expect(sandboxOutcome("1.03")).toMatchObject({ status: "pending" });
    expect(sandboxOutcome("1.04")).toEqual({ status: "failed", message: "Network error" });
    expect(sandboxOutcome("1.5")).toMatchObject({ status: "completed" }); // .50
    expect(sandboxOutcome("1.99")).toMatchObject({ status: "completed" });
  });

  it("pending → processing → completed, with a signed callback on the final state only", async () => {
    const creds = merchant();
    const jwt = await login(creds);
    const sent = await call("/api/v1/payouts/sendPayoutRequest", sendBody({ source_amount: "12.00" }), creds, { jwt });
    const transactionId = sent.json.data.transaction_id as string;
    const status = async () => (await call("/api/v1/payouts/getPayoutStatus", { transaction_id: transactionId }, creds, { jwt })).json;
    expect(await status()).toEqual({ ok: true, data: { transaction_id: transactionId, status: "pending", status_message: expect.any(String) } });
    await waitFor(() => emulator.payout(transactionId)!.status === "processing");
    const callback = await waitFor(() => callbacks.find((c) => c.body.includes(transactionId)));
    expect(JSON.parse(callback.body)).toEqual({ transaction_id: transactionId, status: "completed", status_message: expect.any(String) });
    const timestamp = callback.headers.get("x-pontis-timestamp")!;
    const expected = createHmac("sha256", decodeKey(creds.hmacKey, "h")).update(`${timestamp}.${callback.body}`).digest("hex");
    expect(callback.headers.get("x-pontis-signature")).toBe(`sha256=${expected}`);
    expect(callback.headers.get("x-pontis-event-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect((await status()).data.status).toBe("completed");
    expect(callbacks.filter((c) => c.body.includes(transactionId))).toHaveLength(1);
  });

  it("pending_approval above the auto-approval limit, then pending, then final", async () => {
    const creds = merchant({ autoApprovalLimit: "50.00" });
    const jwt = await login(creds);
    const sent = await call("/api/v1/payouts/sendPayoutRequest", sendBody({ source_amount: "50.01" }), creds, { jwt });
    expect(sent.json.data.status).toBe("pending_approval");
    const transactionId = sent.json.data.transaction_id as string;
    await waitFor(() => emulator.payout(transactionId)!.status !== "pending_approval");
    const callback = await waitFor(() => callbacks.find((c) => c.body.includes(transactionId)));
    expect(JSON.parse(callback.body)).toMatchObject({ status: "failed", status_message: "Insufficient funds" });
  });

  it("redelivers a refused callback with the same event id, freshly signed", async () => {
    const creds = merchant();
    const jwt = await login(creds);
    const sent = await call("/api/v1/payouts/sendPayoutRequest", sendBody({ source_amount: "1.02" }), creds, { jwt });
    const transactionId = sent.json.data.transaction_id as string;
    refuse.set(transactionId, 2);
    await waitFor(() => callbacks.find((c) => c.body.includes(transactionId)));
    // The receiver has the body before the emulator has read its answer: wait for the record.
    const attempts = await waitFor(() => {
      const list = emulator.payout(transactionId)!.callbackAttempts;
      return list.length === 3 && list;
    });
    expect(attempts.map((a) => a.httpStatus)).toEqual([503, 503, 204]);
    expect(new Set(attempts.map((a) => a.eventId)).size).toBe(1);
  });

  it("a reversal after completion is a new event, called back", async () => {
    const creds = merchant();
    const jwt = await login(creds);
    const sent = await call("/api/v1/payouts/sendPayoutRequest", sendBody(), creds, { jwt });
    const transactionId = sent.json.data.transaction_id as string;
    await waitFor(() => callbacks.find((c) => c.body.includes(transactionId)));
    expect(emulator.settle(transactionId, "reversed")).toBe(true);
    const reversal = await waitFor(() => callbacks.find((c) => c.body.includes(transactionId) && c.body.includes('"reversed"')));
    const first = callbacks.find((c) => c.body.includes(transactionId))!;
    expect(reversal.headers.get("x-pontis-event-id")).not.toBe(first.headers.get("x-pontis-event-id"));
  });
});

describe("faults", () => {
  it("are set over HTTP, authenticated like the provider, and bite the next request", async () => {
    const creds = merchant();
    const jwt = await login(creds);
    expect((await call("/_sandbox/faults", { mode: "500" }, creds, { signatureKey: sandboxCredentials().hmacKey })).status).toBe(401);
    expect(await call("/_sandbox/faults", { mode: "explode" }, creds)).toEqual({ status: 400, json: errorShape("validation_error") });
    expect((await call("/_sandbox/faults", { mode: "500" }, creds)).json).toEqual({ ok: true, data: { faults: [expect.objectContaining({ mode: "500", operation: "send", process: false })] } });
    const body = sendBody();
    expect(await call("/api/v1/payouts/sendPayoutRequest", body, creds, { jwt })).toEqual({ status: 500, json: errorShape("internal_error") });
    expect(emulator.payout(body.idempotency_key)).toBeUndefined();
    expect((await call("/api/v1/payouts/sendPayoutRequest", body, creds, { jwt })).status).toBe(201);
    await call("/_sandbox/faults", { mode: "garbage", count: 3 }, creds);
    expect((await call("/_sandbox/faults", { clear: true }, creds)).json).toEqual({ ok: true, data: { faults: [] } });
    expect((await call("/api/v1/payouts/sendPayoutRequest", sendBody(), creds, { jwt })).status).toBe(201);
  });

  it("garbage and drop-after-accept act on the request before breaking the answer", async () => {
    const creds = merchant();
    const jwt = await login(creds);
    await emulator.injectFault({ mode: "garbage" }, creds.apiKey);
    const garbled = sendBody();
    const answer = await call("/api/v1/payouts/sendPayoutRequest", garbled, creds, { jwt });
    expect(answer.status).toBe(200);
    expect(typeof answer.json).toBe("string");
    expect(emulator.payout(garbled.idempotency_key)).toBeDefined();
    await emulator.injectFault({ mode: "drop-after-accept" }, creds.apiKey);
    const dropped = sendBody();
    await expect(call("/api/v1/payouts/sendPayoutRequest", dropped, creds, { jwt })).rejects.toThrow();
    expect(emulator.payout(dropped.idempotency_key)).toBeDefined();
  });
});

describe("encrypted answers", () => {
  it("answers {data: enc(envelope)} when configured", async () => {
    const encrypted = createPontisEmulator({ basePath: "", accounts: async (k) => accounts.get(k) ?? null, encryptResponses: true });
    const served = await serveWebHandler(encrypted.handle);
    try {
      const creds = merchant();
      const data = encryptPayload({ email: creds.email, password: creds.password }, decodeKey(creds.encryptionKey, "e"));
      const ts = String(Math.floor(Date.now() / 1000));
      const response = await fetch(`${served.url}/api/v1/user/login`, {
        method: "POST",
        headers: { "x-api-key": creds.apiKey, "x-timestamp": ts, "x-signature": requestSignature(ts, data, decodeKey(creds.hmacKey, "h")) },
        body: JSON.stringify({ data }),
      });
      const body = (await response.json()) as { data: string };
      expect(Object.keys(body)).toEqual(["data"]);
      expect(decryptPayload(body.data, decodeKey(creds.encryptionKey, "e"))).toMatchObject({ ok: true, data: { token_type: "Bearer" } });
    } finally {
      encrypted.close();
      await served.close();
    }
  });
});
