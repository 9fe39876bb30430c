// The Praxis emulator spoken to over real HTTP with plain fetch and hand-made
// signatures, the way a merchant integration (not our connector) would:
// authentication, signatures, the timestamp window, required fields, the
// sandbox shapes and outcomes, duplicates, find-order, notifications with
// resends, and fault injection over HTTP.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  parsePraxisObject,
  PRAXIS_SANDBOX_GATEWAY,
  sandboxCredentials,
  signPraxis,
  toPraxisJson,
  verifyPraxis,
  withSignature,
  type PraxisFields,
} from "@/server/connectors/praxis";
import { serveWebHandler, type ServedHandler } from "../http";
import { createPraxisEmulator, sandboxAccountFor, sandboxBaseUrl, type PraxisEmulator, type PraxisEmulatorAccount } from "./index";
import { waitFor } from "@/server/testing/wait";

const MERCHANT = sandboxCredentials();
const FIXED = sandboxCredentials();
const BASE_PATH = "/api/sandbox/praxis";

let emulator: PraxisEmulator;
let server: ServedHandler;
let receiver: ServedHandler;
let fixedReceiver: ServedHandler;
let api: string;
/** How the receiver answers: by order_id, the next replies to give (default: a signed status 0). */
const replies = new Map<string, Array<"unsigned-ok" | "wrong-signature" | "status-1" | "http-500">>();
const notifications: Array<{ body: PraxisFields; raw: string; url: string }> = [];

function reply(kind: "ok" | "unsigned-ok" | "wrong-signature" | "status-1" | "http-500"): Response {
  const base = { description: "Ok", status: kind === "status-1" ? 1 : 0, timestamp: Math.floor(Date.now() / 1000), version: "1.2" };
  if (kind === "http-500") return new Response("oops", { status: 500 });
  if (kind === "unsigned-ok") return Response.json(base);
  return new Response(toPraxisJson(withSignature(base, kind === "wrong-signature" ? "nope" : MERCHANT.merchantSecret)), {
    headers: { "content-type": "application/json" },
  });
}

beforeAll(async () => {
  const handler = async (request: Request) => {
    const raw = await request.text();
    const body = parsePraxisObject(raw)!;
    notifications.push({ body, raw, url: request.url });
    const queue = replies.get(String(body.order_id)) ?? [];
    return reply(queue.shift() ?? "ok");
  };
  receiver = await serveWebHandler(handler);
  fixedReceiver = await serveWebHandler(handler);
  emulator = createPraxisEmulator({
    accounts: (merchantId, applicationKey): PraxisEmulatorAccount | null =>
      sandboxAccountFor(MERCHANT, merchantId, applicationKey) ??
      sandboxAccountFor(FIXED, merchantId, applicationKey, `${fixedReceiver.url}/fixed`),
    callbackDelayMs: 50,
    callbackRetryDelaysMs: [30, 30, 30],
  });
  server = await serveWebHandler(emulator.handle);
  api = `${server.url}${BASE_PATH}`;
});

afterAll(async () => {
  emulator.close();
  await server.close();
  await receiver.close();
  await fixedReceiver.close();
});

const now = () => Math.floor(Date.now() / 1000);

function payoutFields(overrides: PraxisFields = {}, who = MERCHANT): PraxisFields {
  return {
    amount: 1500n,
    application_key: who.applicationKey,
    country: "ZM",
    currency: "USD",
    data_account_number: "260763456789",
    gateway: PRAXIS_SANDBOX_GATEWAY,
    merchant_id: who.merchantId,
    notification_url: `${receiver.url}/notify`,
    order_id: randomUUID(),
    pin: "customer-1",
    return_url: "https://desk.example/payouts/1",
    timestamp: now(),
    transaction_type: "payout",
    version: "1.2",
    ...overrides,
  };
}

async function post(path: string, fields: PraxisFields | string, secret: string | null = MERCHANT.merchantSecret) {
  const body = typeof fields === "string" ? fields : toPraxisJson(secret ? withSignature(fields, secret) : fields);
  const response = await fetch(`${api}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  const text = await response.text();
  return { status: response.status, text, json: parsePraxisObject(text), plain: (() => { try { return JSON.parse(text); } catch { return text; } })() };
}

const direct = (fields: PraxisFields, secret?: string | null) => post("/api/direct", fields, secret);
const findOrder = (orderId: string, path = "/api/find-order") =>
  post(path, { application_key: MERCHANT.applicationKey, merchant_id: MERCHANT.merchantId, order_id: orderId, timestamp: now(), version: "1.2" });

describe("authentication, signature, timestamp", () => {
  it("refuses an unknown merchant with an unsigned positive status", async () => {
    const { status, plain } = await direct(payoutFields({ merchant_id: "nobody" }));
    expect(status).toBe(200);
    expect(plain).toEqual({ description: expect.stringContaining("Authentication"), status: 2, version: "1.2" });
    const wrongKey = await direct(payoutFields({ application_key: FIXED.applicationKey }));
    expect(wrongKey.plain.status).toBe(2);
  });

  it("refuses a bad signature with a signed status 3, and creates nothing", async () => {
    const fields = payoutFields();
    const { json, plain } = await direct(fields, "not-the-secret");
    expect(plain).toMatchObject({ description: "Invalid signature", status: 3 });
    expect(verifyPraxis(json!, MERCHANT.merchantSecret)).toBe(true);
    const unsigned = await direct(fields, null);
    expect(unsigned.plain.status).toBe(3);
    expect(emulator.payout(String(fields.order_id))).toBeUndefined();
  });

  it("enforces the 1-minute timestamp window and version 1.2", async () => {
    expect((await direct(payoutFields({ timestamp: now() - 90 }))).plain).toMatchObject({ status: 4, description: expect.stringContaining("expired") });
    expect((await direct(payoutFields({ timestamp: now() + 90 }))).plain.status).toBe(4);
    expect((await direct(payoutFields({ timestamp: now() - 30 }))).plain.status).toBe(0);
    expect((await direct(payoutFields({ version: "1.3" }))).plain).toMatchObject({ status: 1, description: expect.stringContaining("version") });
  });

  it("answers non-JSON with an unsigned status 1, and routes only its own paths", async () => {
    expect((await direct("<xml/>" as never)).plain).toMatchObject({ status: 1 });
    expect((await fetch(`${server.url}/api/direct`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${api}/api/direct`)).status).toBe(405);
    expect((await fetch(`${api}/elsewhere`, { method: "POST" })).status).toBe(404);
  });
});

describe("the Direct API payout", () => {
  it("answers a pending payout in the sandbox's shape, signed", async () => {
    const { json, plain } = await direct(payoutFields());
    expect(Object.keys(plain)).toEqual([
      "description",
      "error_code",
      "error_details",
      "payment_processor",
      "redirect_url",
      "status",
      "trace_id",
      "transaction_id",
      "transaction_status",
      "version",
      "signature",
    ]);
    expect(plain).toMatchObject({
      description: "Ok",
      error_code: "0",
      error_details: "[TEST] Transaction status: pending",
      payment_processor: "Test E-Wallet",
      redirect_url: null,
      status: 0,
      trace_id: expect.any(Number),
      transaction_id: expect.stringMatching(/^\d{14}$/),
      transaction_status: "pending",
      version: "1.2",
    });
    expect(verifyPraxis(json!, MERCHANT.merchantSecret)).toBe(true);
  });

  it("takes the amount as a JSON integer or a string of digits, and reads it in cents", async () => {
    const a = payoutFields({ amount: "250000", currency: "UGX" });
    expect((await direct(a)).plain.status).toBe(0);
    expect(emulator.payout(String(a.order_id))).toMatchObject({ amount: 250000n, amountMinor: 2500n });
    const b = payoutFields({ amount: 1500n, currency: "BHD" });
    await direct(b);
    expect(emulator.payout(String(b.order_id))).toMatchObject({ amount: 1500n, amountMinor: 1500n });
  });

  const invalid: Array<[string, PraxisFields]> = [
    ["order_id", { order_id: "" }],
    ["transaction_type", { transaction_type: "sale" }],
    ["currency", { currency: "usd" }],
    ["amount", { amount: 0n }],
    ["amount", { amount: "12.5" }],
    ["amount", { amount: 123456789012345678901n }],
    ["whole number", { amount: 150n, currency: "UGX" }],
    ["country", { country: "ZMB" }],
    ["pin", { pin: "" }],
    ["return_url", { return_url: "nowhere" }],
    ["notification_url", { notification_url: null }],
    ["data_account_number", { data_account_number: "+260 76" }],
    ["data_email", { data_email: "nope" }],
  ];
  for (const [rule, overrides] of invalid) {
    it(`refuses a bad ${rule} with a signed status 1 and creates nothing`, async () => {
      const fields = payoutFields(overrides);
      const { json, plain } = await direct(fields);
      expect(plain).toMatchObject({ status: 1, description: expect.stringContaining(rule) });
      expect(verifyPraxis(json!, MERCHANT.merchantSecret)).toBe(true);
      if (fields.order_id) expect(emulator.payout(String(fields.order_id))).toBeUndefined();
    });
  }

  it("refuses a gateway the merchant does not have (status 6)", async () => {
    expect((await direct(payoutFields({ gateway: "other" }))).plain).toMatchObject({ status: 6, description: expect.stringContaining("Gateway") });
  });

  it("a reused order_id answers the existing transaction and never creates a second", async () => {
    const fields = payoutFields();
    const first = await direct(fields);
    const second = await direct({ ...fields, amount: 999999n, timestamp: now() });
    expect(second.plain.trace_id).toBe(first.plain.trace_id);
    expect(second.plain.transaction_id).toBe(first.plain.transaction_id);
    expect(emulator.payouts().filter((p) => p.orderId === fields.order_id)).toHaveLength(1);
    expect(emulator.payout(String(fields.order_id))!.amount).toBe(1500n);
  });

  it("the same order_id of two merchants are two transactions", async () => {
    const orderId = randomUUID();
    await direct(payoutFields({ order_id: orderId }));
    await post("/api/direct", payoutFields({ order_id: orderId }, FIXED), FIXED.merchantSecret);
    expect(emulator.payouts().filter((p) => p.orderId === orderId)).toHaveLength(2);
  });
});

describe("sandbox outcomes, find-order and notifications", () => {
  it("…00 approved at once, notified signed with the documented fields", async () => {
    const fields = payoutFields({ data_account_number: "260763456700" });
    const { plain } = await direct(fields);
    expect(plain).toMatchObject({ transaction_status: "approved", error_details: "[TEST] Transaction status: approved", error_code: "0" });
    const note = await waitFor(() => notifications.find((n) => n.body.order_id === fields.order_id));
    expect(Object.keys(JSON.parse(note.raw)).sort()).toEqual(
      ["amount", "currency", "error_code", "error_details", "merchant_id", "order_id", "signature", "timestamp", "trace_id", "transaction_id", "transaction_status"].sort(),
    );
    expect(JSON.parse(note.raw)).toMatchObject({ amount: 1500, currency: "USD", merchant_id: MERCHANT.merchantId, trace_id: plain.trace_id, transaction_status: "approved" });
    expect(verifyPraxis(note.body, MERCHANT.merchantSecret)).toBe(true);
  });

  it("…01 rejected at once (error_code 1), notified as declined", async () => {
    const fields = payoutFields({ data_account_number: "260763456701" });
    expect((await direct(fields)).plain).toMatchObject({ transaction_status: "rejected", error_code: "1", error_details: "[TEST] Transaction status: rejected" });
    const note = await waitFor(() => notifications.find((n) => n.body.order_id === fields.order_id));
    expect(note.body.transaction_status).toBe("declined");
  });

  it("…03 pending_async with a redirect_url, then approved; find-order follows it", async () => {
    const fields = payoutFields({ data_account_number: "260763456703" });
    const { plain } = await direct(fields);
    expect(plain).toMatchObject({ transaction_status: "pending_async", error_details: "[TEST] Transaction status: redirect", redirect_url: expect.stringContaining("/site/process/") });
    expect((await findOrder(String(fields.order_id))).plain).toMatchObject({ status: 0, order_status: "pending", transaction_status: "pending_async" });
    await waitFor(() => notifications.find((n) => n.body.order_id === fields.order_id));
    const found = await findOrder(String(fields.order_id), "/agent/find-order");
    expect(found.plain).toMatchObject({
      status: 0,
      order_id: fields.order_id,
      order_status: "approved",
      transaction_type: "payout",
      transaction_status: "approved",
      trace_id: plain.trace_id,
      amount: 1500,
      currency: "USD",
    });
    expect(verifyPraxis(found.json!, MERCHANT.merchantSecret)).toBe(true);
  });

  it("…04 cancelled, …06 early rejection with an empty transaction_id", async () => {
    const cancelled = payoutFields({ data_account_number: "260763456704" });
    await direct(cancelled);
    await waitFor(() => notifications.find((n) => n.body.order_id === cancelled.order_id && n.body.transaction_status === "cancelled"));
    const early = await direct(payoutFields({ data_account_number: "260763456706" }));
    expect(early.plain).toMatchObject({ transaction_status: "rejected", transaction_id: "" });
  });

  it("find-order of an unknown order: a signed 'Order not found'", async () => {
    const { json, plain } = await findOrder(randomUUID());
    expect(plain).toMatchObject({ status: 5, description: "Order not found" });
    expect(verifyPraxis(json!, MERCHANT.merchantSecret)).toBe(true);
  });

  it("resends until the merchant answers a signed status 0, re-signing each time", async () => {
    const fields = payoutFields({ data_account_number: "260763456700" });
    replies.set(String(fields.order_id), ["http-500", "unsigned-ok", "wrong-signature"]);
    await direct(fields);
    const transaction = emulator.payout(String(fields.order_id))!;
    await waitFor(() => transaction.notifications.some((n) => n.acknowledged));
    expect(transaction.notifications.map((n) => [n.httpStatus, n.acknowledged])).toEqual([
      [500, false],
      [200, false],
      [200, false],
      [200, true],
    ]);
    const sent = notifications.filter((n) => n.body.order_id === fields.order_id);
    expect(sent).toHaveLength(4);
    expect(sent.every((n) => verifyPraxis(n.body, MERCHANT.merchantSecret))).toBe(true);
  });

  it("gives up after its last resend, and a status-1 reply counts as not received", async () => {
    const fields = payoutFields({ data_account_number: "260763456701" });
    replies.set(String(fields.order_id), ["status-1", "status-1", "status-1", "status-1", "status-1"]);
    await direct(fields);
    const transaction = emulator.payout(String(fields.order_id))!;
    await waitFor(() => transaction.notifications.length === 4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(transaction.notifications.every((n) => !n.acknowledged)).toBe(true);
    expect(transaction.notifications).toHaveLength(4);
  });

  it("an account with a fixed notification URL is notified there, not at the request's URL", async () => {
    const fields = payoutFields({ data_account_number: "260763456700" }, FIXED);
    await post("/api/direct", fields, FIXED.merchantSecret);
    const note = await waitFor(() => notifications.find((n) => n.body.order_id === fields.order_id));
    expect(note.url).toBe(`${fixedReceiver.url}/fixed`);
  });
});

describe("fault injection over HTTP", () => {
  const control = (fields: PraxisFields, secret: string | null = MERCHANT.merchantSecret) =>
    post("/_sandbox/faults", { application_key: MERCHANT.applicationKey, merchant_id: MERCHANT.merchantId, timestamp: now(), version: "1.2", ...fields }, secret);

  it("is authenticated like a Praxis request", async () => {
    expect((await control({ mode: "500" }, "wrong")).plain.status).toBe(3);
    expect((await control({ mode: "nonsense" })).plain.status).toBe(1);
  });

  it("a 500 bites the next payout without creating it; clear removes pending faults", async () => {
    expect((await control({ mode: "500", count: 1n })).plain).toMatchObject({ status: 0, faults: 1 });
    const fields = payoutFields();
    const failed = await direct(fields);
    expect(failed.status).toBe(500);
    expect(emulator.payout(String(fields.order_id))).toBeUndefined();
    expect((await direct(fields)).plain.status).toBe(0);

    await control({ mode: "garbage" });
    expect((await control({ mode: "clear" })).plain).toMatchObject({ status: 0, faults: 0 });
    expect((await direct(payoutFields())).plain.status).toBe(0);
  });

  it("negative-status and bad-signature process the payout, then answer -1 / a wrong signature", async () => {
    await control({ mode: "negative-status" });
    const a = payoutFields();
    const negative = await direct(a);
    expect(negative.plain).toMatchObject({ status: -1 });
    expect(verifyPraxis(negative.json!, MERCHANT.merchantSecret)).toBe(true);
    expect(emulator.payout(String(a.order_id))).toBeDefined();

    await control({ mode: "bad-signature" });
    const b = payoutFields();
    const bad = await direct(b);
    expect(bad.plain).toMatchObject({ status: 0, transaction_status: "pending" });
    expect(verifyPraxis(bad.json!, MERCHANT.merchantSecret)).toBe(false);
    expect(emulator.payout(String(b.order_id))).toBeDefined();
  });

  it("garbage and drop-after-accept process the payout; a status fault bites find-order only", async () => {
    await control({ mode: "garbage" });
    const a = payoutFields();
    const garbage = await direct(a);
    expect(garbage.json).toBeNull();
    expect(emulator.payout(String(a.order_id))).toBeDefined();

    await control({ mode: "drop-after-accept" });
    const b = payoutFields();
    await expect(direct(b)).rejects.toThrow();
    expect(emulator.payout(String(b.order_id))).toBeDefined();

    await control({ mode: "negative-status", operation: "status" });
    expect((await direct(payoutFields())).plain.status).toBe(0);
    expect((await findOrder(String(a.order_id))).plain.status).toBe(-1);
    expect((await findOrder(String(a.order_id))).plain.status).toBe(0);
  });

  it("timeout holds the answer until the client gives up, after creating the payout", async () => {
    await control({ mode: "timeout" });
    const fields = payoutFields();
    const body = toPraxisJson(withSignature(fields, MERCHANT.merchantSecret));
    await expect(
      fetch(`${api}/api/direct`, { method: "POST", headers: { "Content-Type": "application/json" }, body, signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    expect(emulator.payout(String(fields.order_id))).toBeDefined();
  });
});

describe("wiring helpers", () => {
  it("sandboxAccountFor answers only for the connection's own ids", () => {
    expect(sandboxAccountFor(MERCHANT, MERCHANT.merchantId, MERCHANT.applicationKey)).toEqual({
      merchantSecret: MERCHANT.merchantSecret,
      gateways: [PRAXIS_SANDBOX_GATEWAY],
    });
    expect(sandboxAccountFor(MERCHANT, MERCHANT.merchantId, "other")).toBeNull();
    expect(sandboxAccountFor({ ...MERCHANT, merchantSecret: "" }, MERCHANT.merchantId, MERCHANT.applicationKey)).toBeNull();
    expect(sandboxBaseUrl("http://localhost:3000/")).toBe("http://localhost:3000/api/sandbox/praxis/api/direct");
    expect(signPraxis({ a: "1" }, "s")).toMatch(/^[0-9a-f]{96}$/);
  });
});
