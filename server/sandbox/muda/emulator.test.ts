// The Muda emulator spoken to over real HTTP with plain fetch, the way a
// client integration (not our connector) would: the sign-in and its tokens,
// every payout rule, the sandbox outcomes, duplicates, the wallet, unsigned
// webhooks with retries, and fault injection over HTTP.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "../http";
import { createMudaEmulator, sandboxOutcome, type MudaEmulator, type MudaEmulatorAccount } from "./index";
import { waitFor } from "@/server/testing/wait";

const BASE_PATH = "/api/sandbox/muda";

let emulator: MudaEmulator;
let server: ServedHandler;
let receiver: ServedHandler;
let api: string;
let clockOffsetMs = 0;
const accounts = new Map<string, MudaEmulatorAccount>();
const webhooks: Array<{ headers: Headers; body: string }> = [];
/** reference_id → how many of its webhook deliveries the receiver still refuses. */
const refuse = new Map<string, number>();

beforeAll(async () => {
  receiver = await serveWebHandler(async (request) => {
    const body = await request.text();
    const reference = (JSON.parse(body) as { reference_id: string }).reference_id;
    const refusals = refuse.get(reference) ?? 0;
    if (refusals > 0) {
      refuse.set(reference, refusals - 1);
      return new Response("busy", { status: 503 });
    }
    webhooks.push({ headers: request.headers, body });
    return new Response(null, { status: 204 });
  });
  accounts.set("k1", { secretKey: "s1", callbackUrl: `${receiver.url}/hooks/muda` });
  accounts.set("k2", { secretKey: "s2", callbackUrl: `${receiver.url}/hooks/muda`, balances: { UGX: "3222.0000000" } });
  accounts.set("quiet", { secretKey: "s3" });
  accounts.set("seed", { secretKey: "s4", clientId: "12345" });
  emulator = createMudaEmulator({
    accounts: async (apiKey) => accounts.get(apiKey) ?? null,
    tokenLifetimeSeconds: 60,
    callbackDelayMs: 60,
    offlineDelayMs: 100,
    callbackRetryDelaysMs: [30, 30, 30],
    now: () => new Date(Date.now() + clockOffsetMs),
  });
  server = await serveWebHandler(emulator.handle);
  api = `${server.url}${BASE_PATH}`;
});

afterAll(async () => {
  emulator.close();
  await server.close();
  await receiver.close();
});

async function call(method: string, path: string, options: { token?: string | null; body?: string | Record<string, unknown> } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${api}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, text, json: json as { status: number; message: string; data: Record<string, unknown> | null } };
}

async function signIn(apiKey = "k1", secret = accounts.get(apiKey)!.secretKey): Promise<string> {
  const answer = await call("POST", "/v1/clients/oauth/token", { body: { secret_key: secret, api_key: apiKey } });
  expect(answer.status).toBe(200);
  return answer.json.data!.access_token as string;
}

/** A current-version payout body as raw JSON text (amount is a bare JSON number). */
function payoutBody(amount: string, overrides: Record<string, string> = {}): { reference: string; body: string } {
  const reference = overrides.reference_id ?? randomUUID();
  const fields: Record<string, string> = {
    reference_id: JSON.stringify(reference),
    amount,
    trans_type: '"PUSH"',
    currency: '"UGX"',
    product_id: "10011",
    account_number: '"256772123456"',
    extra_data: '{"account_name":"Nakato Sarah"}',
  };
  for (const [key, value] of Object.entries(overrides)) if (key !== "reference_id") fields[key] = value;
  const body = `{${Object.entries(fields)
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `"${k}":${v}`)
    .join(",")}}`;
  return { reference, body };
}

describe("sign-in", () => {
  it("issues a Bearer JWT with expires_in, in Muda's envelope", async () => {
    const answer = await call("POST", "/v1/clients/oauth/token", { body: { secret_key: "s1", api_key: "k1" } });
    expect(answer.json).toEqual({
      status: 200,
      message: "success",
      data: { access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), token_type: "Bearer", expires_in: 60 },
    });
    const claims = JSON.parse(Buffer.from((answer.json.data!.access_token as string).split(".")[1]!, "base64url").toString());
    expect(claims.exp - claims.iat).toBe(60);
  });

  it("refuses missing fields (400), a wrong secret or an unknown key (401)", async () => {
    expect((await call("POST", "/v1/clients/oauth/token", { body: { api_key: "k1" } })).status).toBe(400);
    const wrong = await call("POST", "/v1/clients/oauth/token", { body: { secret_key: "nope", api_key: "k1" } });
    expect(wrong).toMatchObject({ status: 401, json: { status: 401, data: null } });
    expect((await call("POST", "/v1/clients/oauth/token", { body: { secret_key: "s1", api_key: "nobody" } })).status).toBe(401);
  });

  it("refuses API calls without a token, with a forged or expired one, after revocation and after the secret is rotated", async () => {
    expect((await call("GET", "/v1/payment/balance")).status).toBe(401);
    const token = await signIn();
    expect((await call("GET", "/v1/payment/balance", { token })).status).toBe(200);
    const [h, p] = token.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), api_key: "k2" })).toString("base64url");
    expect((await call("GET", "/v1/payment/balance", { token: `${h}.${forgedPayload}.${token.split(".")[2]}` })).status).toBe(401);

    clockOffsetMs = 61_000;
    expect(await call("GET", "/v1/payment/balance", { token })).toMatchObject({ status: 401, json: { message: expect.stringMatching(/expired/) } });
    clockOffsetMs = 0;

    const fresh = await signIn();
    await emulator.revokeTokens("k1");
    expect((await call("GET", "/v1/payment/balance", { token: fresh })).status).toBe(401);

    accounts.set("rotating", { secretKey: "old" });
    const old = await signIn("rotating", "old");
    accounts.set("rotating", { secretKey: "new" });
    expect((await call("GET", "/v1/payment/balance", { token: old })).status).toBe(401);
    expect((await call("GET", "/v1/payment/balance", { token: await signIn("rotating", "new") })).status).toBe(200);
  });
});

describe("POST /v1/payment/direct-payout", () => {
  it("accepts a payout (202 PENDING), then SUCCESS with an unsigned webhook; the wallet pays amount + flat fee", async () => {
    accounts.set("wallet", { secretKey: "w", callbackUrl: `${receiver.url}/hooks/muda`, balances: { UGX: "100000.0000000" } });
    const token = await signIn("wallet", "w");
    const { reference, body } = payoutBody("10000");
    const answer = await call("POST", "/v1/payment/direct-payout", { token, body });
    expect(answer.status).toBe(202);
    expect(answer.json).toEqual({ status: 202, message: "Transaction is being processed", data: { trans_id: expect.any(String), status: "PENDING", is_offline: false } });

    const webhook = await waitFor(() => webhooks.find((w) => w.body.includes(reference)));
    expect(webhook.headers.get("signature")).toBeNull();
    expect(webhook.body).toMatch(/"amount":10000,/);
    expect(JSON.parse(webhook.body)).toEqual({
      type: "transaction_status",
      timestamp: expect.any(String),
      reference_id: reference,
      status: "SUCCESS",
      amount: 10000,
      currency: "UGX",
      transaction_id: answer.json.data!.trans_id,
      trans_type: "PUSH",
      account_number: "256772123456",
    });
    const status = await call("GET", `/v1/payment/transactionReferenceId/${reference}`, { token });
    expect(status.json).toMatchObject({
      status: 200,
      data: { reference_id: reference, status: "SUCCESS", fee: 2000, total_amount: 12000, trans_id: answer.json.data!.trans_id },
    });
    // Written as Muda's example writes them: JSON numbers with two decimals.
    expect(status.text).toMatch(/"fee":2000\.00,"total_amount":12000\.00,/);
    const balance = await call("GET", "/v1/payment/balance", { token });
    expect(balance.json).toEqual([{ asset_code: "UGX", currency: "UGX", balance: "88000.0000000" }]);
  });

  it("follows the sandbox outcomes by the amount's last three digits", async () => {
    expect(["1111", "2222", "3333", "4444", "5555", "10000", "1500.00"].map(sandboxOutcome)).toEqual([
      "success-now",
      "fail",
      "hold",
      "offline",
      "stuck",
      "success",
      "success",
    ]);
    const token = await signIn();
    const now = await call("POST", "/v1/payment/direct-payout", { token, body: payoutBody("1111").body });
    expect(now).toMatchObject({ status: 200, json: { message: "Transaction completed successfully", data: { status: "SUCCESS" } } });
    const held = payoutBody("1333");
    expect(await call("POST", "/v1/payment/direct-payout", { token, body: held.body })).toMatchObject({
      status: 210,
      json: { status: 210, message: "Verification required – on hold", data: { status: "ON_HOLD" } },
    });
    const released = await call("POST", `/_sandbox/hold/${held.reference}`, { token, body: { decision: "approve" } });
    expect(released).toMatchObject({ status: 200, json: { data: { status: "PENDING" } } });
    await waitFor(() => emulator.payout(held.reference)?.status === "SUCCESS");

    const offline = payoutBody("1444");
    expect(await call("POST", "/v1/payment/direct-payout", { token, body: offline.body })).toMatchObject({ status: 202, json: { data: { is_offline: true } } });
    await waitFor(() => emulator.payout(offline.reference)?.status === "SUCCESS");
    expect(emulator.payout(offline.reference)?.isOffline).toBe(false);

    const failing = payoutBody("1222");
    await call("POST", "/v1/payment/direct-payout", { token, body: failing.body });
    await waitFor(() => webhooks.find((w) => w.body.includes(failing.reference)));
    expect((await call("GET", `/v1/payment/transactionReferenceId/${failing.reference}`, { token })).json.data).toMatchObject({
      status: "FAILED",
      reason: expect.any(String),
    });
  });

  it("refunds the wallet when a payout fails, and answers Insufficient balance (400) beyond it", async () => {
    const token = await signIn("k2");
    // 3,222 wallet: 1,222 + 2,000 fee fits exactly, once.
    const failing = payoutBody("1222");
    expect((await call("POST", "/v1/payment/direct-payout", { token, body: failing.body })).status).toBe(202);
    expect((await call("GET", "/v1/payment/balance", { token })).json).toEqual([{ asset_code: "UGX", currency: "UGX", balance: "0.0000000" }]);
    const refused = payoutBody("1000");
    expect(await call("POST", "/v1/payment/direct-payout", { token, body: refused.body })).toMatchObject({
      status: 400,
      json: { status: 400, message: "Insufficient balance", data: null },
    });
    expect(emulator.payout(refused.reference)).toBeUndefined();
    await waitFor(() => emulator.payout(failing.reference)?.status === "FAILED");
    expect((await call("GET", "/v1/payment/balance", { token })).json).toEqual([{ asset_code: "UGX", currency: "UGX", balance: "3222.0000000" }]);
  });

  it("never creates two transactions for one reference_id: a resend answers the existing one", async () => {
    const token = await signIn();
    const { reference, body } = payoutBody("20000");
    const first = await call("POST", "/v1/payment/direct-payout", { token, body });
    const second = await call("POST", "/v1/payment/direct-payout", { token, body: payoutBody("30000", { reference_id: reference }).body });
    expect(second.json.data!.trans_id).toBe(first.json.data!.trans_id);
    expect(emulator.payouts().filter((p) => p.referenceId === reference)).toHaveLength(1);
    expect(emulator.payout(reference)?.amount).toBe("20000");
  });

  it("enforces each rule with a 422 envelope, creating nothing", async () => {
    const token = await signIn();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ trans_type: '"PULL"' }, /trans_type/],
      [{ product_id: "1" }, /product_id 1 is not a product/],
      [{ currency: '"KES"' }, /pays in UGX only/],
      [{ amount: '"10000"' }, /amount must be a positive number/], // a string, not a number
      [{ amount: "1e4" }, /amount must be a positive number/],
      [{ amount: "10000.5" }, /UGX amounts must be whole numbers/],
      [{ amount: "499" }, /minimum of 500 UGX/],
      [{ amount: "2000001" }, /maximum of 2000000 UGX/],
      [{ account_number: '"+256772123456"' }, /account_number must be 256XXXXXXXXX/],
      [{ account_number: '"25677212345"' }, /account_number/],
      [{ extra_data: '"x"' }, /extra_data/],
    ];
    for (const [overrides, message] of cases) {
      const { reference, body } = payoutBody("10000", overrides);
      const answer = await call("POST", "/v1/payment/direct-payout", { token, body });
      expect(answer, JSON.stringify(overrides)).toMatchObject({ status: 422, json: { status: 422, message: expect.stringMatching(message), data: null } });
      expect(emulator.payout(reference)).toBeUndefined();
    }
    expect((await call("POST", "/v1/payment/direct-payout", { token, body: "{not json" })).status).toBe(400);
    expect((await call("POST", "/v1/payment/direct-payout", { token, body: payoutBody("10000", { reference_id: "bad ref!" }).body })).status).toBe(422);
  });

  it("the seed-version /v1/direct-payout takes clientId, phone and memo", async () => {
    const token = await signIn("seed");
    const reference = randomUUID();
    const body = `{"clientId":12345,"amount":10000,"phone":"256772123456","reference_id":"${reference}","currency":"UGX","product_id":10011,"memo":"Payment for services"}`;
    expect(await call("POST", "/v1/direct-payout", { token, body })).toMatchObject({ status: 202, json: { data: { status: "PENDING" } } });
    expect(emulator.payout(reference)).toMatchObject({ apiVersion: "seed", memo: "Payment for services" });
    const wrongClient = body.replace("12345", "999").replace(reference, randomUUID());
    expect(await call("POST", "/v1/direct-payout", { token, body: wrongClient })).toMatchObject({ status: 422, json: { message: expect.stringMatching(/clientId/) } });
  });
});

describe("reads", () => {
  it("status: 404 envelope for an unknown reference_id", async () => {
    const token = await signIn();
    expect(await call("GET", `/v1/payment/transactionReferenceId/${randomUUID()}`, { token })).toMatchObject({
      status: 404,
      json: { status: 404, message: "Transaction not found", data: null },
    });
  });

  it("products: 10011 mobile money push UGX, flat fee 2000, min 500, max 2,000,000 (as Muda's docs list them)", async () => {
    const answer = await call("GET", "/v1/payment/products", { token: await signIn() });
    expect(answer.json.data).toEqual([
      {
        product_id: 10011,
        product_name: expect.any(String),
        product_code: "MOBILE_MONEY",
        transaction_type: "PUSH",
        status: "active",
        currency: "UGX",
        fee_type: "FLAT",
        fee_amount: "2000.0",
        requires_extra_data: 0,
        min_amount: 500,
        max_amount: 2000000,
      },
    ]);
  });

  it("unknown paths and methods answer Muda's envelope", async () => {
    const token = await signIn();
    expect(await call("GET", "/v1/nothing", { token })).toMatchObject({ status: 404, json: { status: 404, data: null } });
    expect((await call("GET", "/v1/payment/direct-payout", { token })).status).toBe(405);
    expect((await fetch(`${server.url}/elsewhere`)).status).toBe(404);
  });
});

describe("webhooks", () => {
  it("are redelivered until the receiver answers 2xx", async () => {
    const token = await signIn();
    const { reference, body } = payoutBody("1111");
    refuse.set(reference, 2);
    await call("POST", "/v1/payment/direct-payout", { token, body });
    await waitFor(() => webhooks.find((w) => w.body.includes(reference)));
    await emulator.idle();
    expect(emulator.payout(reference)!.callbackAttempts.map((a) => a.httpStatus)).toEqual([503, 503, 204]);
  });

  it("are not sent when the account has no webhook URL", async () => {
    const token = await signIn("quiet");
    const { reference, body } = payoutBody("1111");
    await call("POST", "/v1/payment/direct-payout", { token, body });
    await emulator.idle();
    expect(emulator.payout(reference)!.callbackAttempts).toEqual([]);
  });
});

describe("fault injection", () => {
  it("over HTTP: a 500 creates nothing; garbage, drop-after-accept and timeout create the payout once", async () => {
    const token = await signIn();
    expect((await call("POST", "/_sandbox/faults", { token, body: { mode: "nonsense" } })).status).toBe(400);
    expect((await call("POST", "/_sandbox/faults", { token: null, body: { mode: "500" } })).status).toBe(401);

    await call("POST", "/_sandbox/faults", { token, body: { mode: "500" } });
    const a = payoutBody("10000");
    expect(await call("POST", "/v1/payment/direct-payout", { token, body: a.body })).toMatchObject({ status: 500, json: { status: 500, data: null } });
    expect(emulator.payout(a.reference)).toBeUndefined();

    await call("POST", "/_sandbox/faults", { token, body: { mode: "garbage" } });
    const b = payoutBody("10000");
    const garbage = await call("POST", "/v1/payment/direct-payout", { token, body: b.body });
    expect(garbage.status).toBe(200);
    expect(garbage.json).toBeUndefined();
    expect(emulator.payout(b.reference)).toBeDefined();

    await call("POST", "/_sandbox/faults", { token, body: { mode: "drop-after-accept" } });
    const c = payoutBody("10000");
    await expect(call("POST", "/v1/payment/direct-payout", { token, body: c.body })).rejects.toThrow();
    expect(emulator.payout(c.reference)).toBeDefined();

    await emulator.injectFault({ mode: "timeout" }, "k1");
    const d = payoutBody("10000");
    await expect(
      fetch(`${api}/v1/payment/direct-payout`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: d.body,
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    expect(emulator.payout(d.reference)).toBeDefined();

    await call("POST", "/_sandbox/faults", { token, body: { mode: "500", count: 5, operation: "status" } });
    expect((await call("DELETE", "/_sandbox/faults", { token })).status).toBe(200);
    expect((await call("GET", `/v1/payment/transactionReferenceId/${b.reference}`, { token })).status).toBe(200);
  });

  it("slow answers after delayMs", async () => {
    const token = await signIn();
    await emulator.injectFault({ mode: "slow", delayMs: 150 }, "k1");
    const started = Date.now();
    const answer = await call("POST", "/v1/payment/direct-payout", { token, body: payoutBody("10000").body });
    expect(answer.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
