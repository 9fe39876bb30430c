// The Praxis connector against the built-in emulator, over real HTTP: signed
// payouts to the Test E-Wallet, every sandbox outcome, signed notifications
// received by a local receiver and answered with the signed reply, resends,
// refusals and injected transport faults.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createPraxisEmulator, sandboxAccountFor, type PraxisEmulator } from "@/server/sandbox/praxis";
import type { CallbackInput, CallbackResult, ConnectionConfig, PayoutRequest, ProviderCallRecord } from "../types";
import {
  createPraxisConnector,
  customerPin,
  parsePraxisObject,
  praxisConnectorFactory,
  PRAXIS_SANDBOX_GATEWAY,
  sandboxCredentials,
  signPraxis,
  toPraxisJson,
  verifyPraxis,
  withSignature,
} from "./index";
import { waitFor } from "@/server/testing/wait";

const CREDENTIALS = sandboxCredentials();
const OTHER = sandboxCredentials();
const BASE_PATH = "/api/sandbox/praxis";

let emulator: PraxisEmulator;
let emulatorServer: ServedHandler;
let receiverServer: ServedHandler;
let baseUrl: string;
let callbackUrl: string;
const received: Array<{ input: CallbackInput; parsed: CallbackResult }> = [];
/** order_id → how many notifications the receiver still refuses (signed status 1). */
const refuse = new Map<string, number>();
let calls: ProviderCallRecord[] = [];

beforeAll(async () => {
  receiverServer = await serveWebHandler(async (request) => {
    const input: CallbackInput = { headers: request.headers, rawBody: await request.text(), url: request.url, method: request.method };
    const c = connector();
    const parsed = await c.parseCallback!(input);
    received.push({ input, parsed });
    const orderId = parsed.payoutId ?? "";
    const refusals = refuse.get(orderId) ?? 0;
    if (refusals > 0) refuse.set(orderId, refusals - 1);
    const reply = c.callbackReply!(parsed.verified && refusals === 0, input);
    return new Response(reply.body, { status: reply.httpStatus, headers: { "content-type": reply.contentType } });
  });
  callbackUrl = `${receiverServer.url}/api/webhooks/conn-praxis`;
  emulator = createPraxisEmulator({
    basePath: BASE_PATH,
    accounts: (merchantId, applicationKey) =>
      sandboxAccountFor(CREDENTIALS, merchantId, applicationKey) ?? sandboxAccountFor(OTHER, merchantId, applicationKey),
    callbackDelayMs: 60,
    callbackRetryDelaysMs: [40, 40, 40],
  });
  emulatorServer = await serveWebHandler(emulator.handle);
  baseUrl = `${emulatorServer.url}${BASE_PATH}/api/direct`;
});

afterAll(async () => {
  emulator.close();
  await emulatorServer.close();
  await receiverServer.close();
});

beforeEach(() => {
  calls = [];
});

function connector(options: { credentials?: Record<string, string>; timeoutMs?: number; url?: string; now?: () => Date; environment?: "sandbox" | "live" } = {}) {
  const config: ConnectionConfig = {
    id: "conn-praxis",
    provider: "praxis",
    name: "Praxis sandbox",
    environment: options.environment ?? "sandbox",
    baseUrl: options.url ?? baseUrl,
    credentials: { ...CREDENTIALS, ...options.credentials },
    callbackUrl,
  };
  return createPraxisConnector(config, {
    onCall: (call) => void calls.push(call),
    timeoutMs: options.timeoutMs ?? 2000,
    ...(options.now ? { now: options.now } : {}),
  });
}

function payout(phone: string, overrides: Partial<PayoutRequest> = {}): PayoutRequest {
  return {
    payoutId: randomUUID(),
    amountMinor: 1500n,
    currency: "USD",
    recipient: { phone, country: "ZM", name: "Mary Banda" },
    channel: null,
    description: "Commission March",
    createdAt: new Date(),
    ...overrides,
  };
}

const notificationFor = (orderId: string) => () => received.find((r) => r.parsed.payoutId === orderId && r.parsed.verified);
const countAt = (orderId: string) => emulator.payouts().filter((p) => p.orderId === orderId).length;

describe("the request on the wire", () => {
  it("sends a signed Direct API payout with the desk's id as order_id and integer cents", async () => {
    let captured: { body: string; headers: Headers } | undefined;
    const capture = await serveWebHandler(async (request) => {
      captured = { body: await request.text(), headers: request.headers };
      const answer = withSignature(
        {
          description: "Ok",
          error_code: "0",
          error_details: "[TEST] Transaction status: approved",
          payment_processor: "Test E-Wallet",
          redirect_url: null,
          status: 0,
          trace_id: 1000000681,
          transaction_id: "15607165967620",
          transaction_status: "approved",
          version: "1.2",
        },
        CREDENTIALS.merchantSecret,
      );
      return new Response(toPraxisJson(answer), { headers: { "content-type": "application/json" } });
    });
    try {
      const request = payout("260763456789", { recipient: { phone: "260763456789", country: "ZM", name: "Mary Banda", details: { email: "mary@example.com" } } });
      const at = new Date("2024-05-06T07:08:09Z");
      const result = await connector({ url: `${capture.url}/api/direct`, now: () => at }).submit(request);
      expect(result).toMatchObject({ state: "succeeded", providerStatus: "approved", providerReference: "1000000681" });

      expect(captured!.headers.get("content-type")).toBe("application/json");
      expect(captured!.body).toContain('"amount":1500,');
      const body = parsePraxisObject(captured!.body)!;
      expect(Object.keys(body)).toEqual([
        "amount",
        "application_key",
        "country",
        "currency",
        "data_account_number",
        "data_email",
        "data_full_name",
        "gateway",
        "merchant_id",
        "notification_url",
        "order_id",
        "pin",
        "return_url",
        "timestamp",
        "transaction_type",
        "variable1",
        "version",
        "signature",
      ]);
      expect(JSON.parse(captured!.body)).toEqual({
        amount: 1500,
        application_key: CREDENTIALS.applicationKey,
        country: "ZM",
        currency: "USD",
        data_account_number: "260763456789",
        data_email: "mary@example.com",
        data_full_name: "Mary Banda",
        gateway: PRAXIS_SANDBOX_GATEWAY,
        merchant_id: CREDENTIALS.merchantId,
        notification_url: callbackUrl,
        order_id: request.payoutId,
        pin: customerPin("260763456789"),
        return_url: `${receiverServer.url}/payouts/${request.payoutId}`,
        timestamp: Math.floor(at.getTime() / 1000),
        transaction_type: "payout",
        variable1: "Commission March",
        version: "1.2",
        signature: expect.stringMatching(/^[0-9a-f]{96}$/),
      });
      expect(verifyPraxis(body, CREDENTIALS.merchantSecret)).toBe(true);
      const record = calls.find((c) => c.operation === "submit")!;
      expect(JSON.stringify(record)).not.toContain(CREDENTIALS.merchantSecret);
      expect(record).toMatchObject({ method: "POST", httpStatus: 200, payoutId: request.payoutId });
    } finally {
      await capture.close();
    }
  });

  it("notificationUrl and returnUrl credentials override the defaults", async () => {
    let body: Record<string, unknown> | undefined;
    const capture = await serveWebHandler(async (request) => {
      body = JSON.parse(await request.text());
      return Response.json({ description: "Ok", status: 0, version: "1.2" });
    });
    try {
      await connector({
        url: `${capture.url}/api/direct`,
        credentials: { notificationUrl: "https://public.example/api/webhooks/conn-praxis", returnUrl: "https://public.example/done" },
      }).submit(payout("260763456789"));
      expect(body).toMatchObject({ notification_url: "https://public.example/api/webhooks/conn-praxis", return_url: "https://public.example/done" });
    } finally {
      await capture.close();
    }
  });

  it("the pin is stable per wallet and does not spell the number", () => {
    expect(customerPin("260763456789")).toBe(customerPin("260763456789"));
    expect(customerPin("260763456789")).not.toBe(customerPin("260763456788"));
    expect(customerPin("260763456789")).toMatch(/^[0-9a-f]{32}$/);
  });

  it("a response signed with another secret, or not signed, is not trusted: unknown", async () => {
    for (const sign of [(f: Record<string, unknown>) => ({ ...f, signature: signPraxis(f as never, "not-the-secret") }), (f: Record<string, unknown>) => f]) {
      const capture = await serveWebHandler(async () =>
        Response.json(sign({ description: "Ok", error_code: "1", error_details: "rejected", status: 0, trace_id: 1, transaction_id: "", transaction_status: "rejected", version: "1.2" })),
      );
      try {
        const result = await connector({ url: `${capture.url}/api/direct` }).submit(payout("260763456789"));
        expect(result.state).toBe("unknown");
        expect(result.failureMessage).toContain("signature");
      } finally {
        await capture.close();
      }
    }
  });

  it("is the registered factory and describes itself", () => {
    expect(praxisConnectorFactory).toBe(createPraxisConnector);
    const c = connector();
    expect(c.capabilities).toEqual({ statusQuery: true, callbacks: "signed", balances: false, statements: false });
    expect(c.channels()).toEqual([]);
    expect(c.recipientKind).toBe("msisdn");
    expect(c.recipientFields!()).toEqual([expect.objectContaining({ key: "email", required: false })]);
    expect(c.balances).toBeUndefined();
  });
});

describe("payouts through the emulator", () => {
  it("…00: approved at once, and the approved notification verifies and is acknowledged", async () => {
    const c = connector();
    const request = payout("260763456700");
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "succeeded", providerStatus: "approved", providerReference: expect.stringMatching(/^\d{10}$/) });
    expect(result.raw).toMatchObject({ payment_processor: "Test E-Wallet", error_details: "[TEST] Transaction status: approved" });
    const note = await waitFor(notificationFor(request.payoutId));
    expect(note.parsed).toMatchObject({
      verified: true,
      payoutId: request.payoutId,
      providerReference: result.providerReference,
      dedupeKey: `${request.payoutId}:approved:${result.providerReference}`,
      result: { state: "succeeded", providerStatus: "approved" },
    });
    await waitFor(() => emulator.payout(request.payoutId)!.notifications.length === 1);
    await emulator.idle();
    expect(emulator.payout(request.payoutId)!.notifications).toEqual([expect.objectContaining({ acknowledged: true, transactionStatus: "approved" })]);
    expect(await c.status(request)).toMatchObject({ state: "succeeded", providerStatus: "approved", providerReference: result.providerReference });
  });

  it("any other number: pending (processing), then approved by notification and by status", async () => {
    const c = connector();
    const request = payout("260763456789");
    expect(await c.submit(request)).toMatchObject({ state: "processing", providerStatus: "pending" });
    const note = await waitFor(notificationFor(request.payoutId));
    expect(note.parsed).toMatchObject({ verified: true, result: { state: "succeeded", providerStatus: "approved" } });
    expect(await c.status(request)).toMatchObject({ state: "succeeded" });
  });

  it("…01: rejected at once with Praxis's error code and details", async () => {
    const c = connector();
    const request = payout("260763456701");
    expect(await c.submit(request)).toMatchObject({
      state: "failed",
      providerStatus: "rejected",
      failureCode: "1",
      failureMessage: "[TEST] Transaction status: rejected",
    });
    const note = await waitFor(notificationFor(request.payoutId));
    expect(note.parsed).toMatchObject({ verified: true, result: { state: "failed", providerStatus: "declined", failureCode: "1" } });
  });

  it("…02: pending, then declined (notification and status agree)", async () => {
    const c = connector();
    const request = payout("260763456702");
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    const note = await waitFor(notificationFor(request.payoutId));
    expect(note.parsed).toMatchObject({ verified: true, result: { state: "failed", providerStatus: "declined" } });
    expect(await c.status(request)).toMatchObject({ state: "failed", providerStatus: "rejected", failureCode: "1" });
  });

  it("…03: pending_async keeps the redirect_url visible, then approved", async () => {
    const c = connector();
    const request = payout("260763456703");
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "processing", providerStatus: "pending_async" });
    const redirect = (result.raw as { redirect_url: string }).redirect_url;
    expect(redirect).toContain(`${BASE_PATH}/site/process/`);
    expect((await fetch(redirect)).status).toBe(200);
    await waitFor(notificationFor(request.payoutId));
    expect(await c.status(request)).toMatchObject({ state: "succeeded" });
  });

  it("…04: cancelled is final and unpaid: failed with CANCELLED", async () => {
    const c = connector();
    const request = payout("260763456704");
    await c.submit(request);
    const note = await waitFor(notificationFor(request.payoutId));
    expect(note.parsed).toMatchObject({ verified: true, result: { state: "failed", providerStatus: "cancelled", failureCode: "CANCELLED" } });
    expect(await c.status(request)).toMatchObject({ state: "failed", providerStatus: "cancelled", failureCode: "CANCELLED" });
  });

  it("…05: stays pending (processing) with no notification", async () => {
    const c = connector();
    const request = payout("260763456705");
    await c.submit(request);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await c.status(request)).toMatchObject({ state: "processing", providerStatus: "pending" });
    expect(received.some((r) => r.parsed.payoutId === request.payoutId)).toBe(false);
  });

  it("…06: an early rejection with an empty transaction_id still carries Praxis's trace_id", async () => {
    const request = payout("260763456706");
    const result = await connector().submit(request);
    expect(result).toMatchObject({ state: "failed", providerStatus: "rejected", providerReference: expect.stringMatching(/^\d+$/) });
    expect((result.raw as { transaction_id: string }).transaction_id).toBe("");
  });

  it("a logical error (positive status) is failed once find-order confirms nothing exists", async () => {
    const request = payout("260763456789");
    const result = await connector({ credentials: { gateway: "no-such-gateway" } }).submit(request);
    expect(result).toMatchObject({ state: "failed", providerStatus: "status 6", failureCode: "PRAXIS_6", failureMessage: expect.stringContaining("Gateway") });
    expect(calls.map((c) => c.operation)).toEqual(["submit", "status"]);
    expect(countAt(request.payoutId)).toBe(0);
  });

  it("an unknown order is not_found", async () => {
    expect(await connector().status({ payoutId: randomUUID() })).toMatchObject({ state: "not_found" });
  });

  it("UGX goes out in cents (x100), JPY as-is", async () => {
    const ugx = payout("256772123456", { currency: "UGX", amountMinor: 5000n, recipient: { phone: "256772123456", country: "UG" } });
    await connector().submit(ugx);
    expect(emulator.payout(ugx.payoutId)).toMatchObject({ amount: 500000n, amountMinor: 5000n, country: "UG" });
    const jpy = payout("260763456789", { currency: "JPY", amountMinor: 1000n });
    await connector().submit(jpy);
    expect(emulator.payout(jpy.payoutId)).toMatchObject({ amount: 1000n, amountMinor: 1000n });
  });
});

describe("idempotency", () => {
  it("the same payout id twice: one transaction, the same trace_id, mapped to its current status", async () => {
    const c = connector();
    const request = payout("260763456789");
    const first = await c.submit(request);
    const second = await c.submit(request);
    expect(first).toMatchObject({ state: "processing" });
    expect(second).toMatchObject({ state: "processing", providerReference: first.providerReference });
    expect(countAt(request.payoutId)).toBe(1);
    await waitFor(notificationFor(request.payoutId));
    expect(await c.submit(request)).toMatchObject({ state: "succeeded", providerReference: first.providerReference });
    expect(countAt(request.payoutId)).toBe(1);
  });
});

describe("notifications", () => {
  async function approvedNotification(): Promise<{ input: CallbackInput; request: PayoutRequest }> {
    const request = payout("260763456700");
    await connector().submit(request);
    const note = await waitFor(notificationFor(request.payoutId));
    return { input: note.input, request };
  }

  function resigned(input: CallbackInput, change: (fields: Record<string, unknown>) => Record<string, unknown>, secret = CREDENTIALS.merchantSecret): CallbackInput {
    const fields = parsePraxisObject(input.rawBody)!;
    const { signature: _s, ...rest } = fields;
    return { ...input, rawBody: toPraxisJson(withSignature(change(rest as never) as never, secret)) };
  }

  it("a forged notification (another secret) or a tampered one is refused", async () => {
    const { input, request } = await approvedNotification();
    const c = connector();
    const forged = await c.parseCallback!(resigned(input, (f) => f, "guessed-secret"));
    expect(forged).toMatchObject({ verified: false, payoutId: request.payoutId, reason: expect.stringContaining("signature") });
    const tampered = { ...input, rawBody: input.rawBody.replace('"approved"', '"declined"') };
    expect(await c.parseCallback!(tampered)).toMatchObject({ verified: false });
    expect(await c.parseCallback!({ ...input, rawBody: "not json" })).toMatchObject({ verified: false });
  });

  it("a correctly signed notification for another merchant_id is refused", async () => {
    const { input } = await approvedNotification();
    expect(await connector().parseCallback!(resigned(input, (f) => ({ ...f, merchant_id: OTHER.merchantId })))).toMatchObject({
      verified: false,
      reason: expect.stringContaining("merchant_id"),
    });
  });

  it("a replayed notification has the same dedupeKey", async () => {
    const { input } = await approvedNotification();
    const c = connector();
    const a = await c.parseCallback!(input);
    const b = await c.parseCallback!(input);
    expect(a.verified && b.verified).toBe(true);
    expect(a.dedupeKey).toBe(b.dedupeKey);
  });

  it("a stale notification (older than 10 minutes by default, or the configured window) or one from the future is refused", async () => {
    const { input } = await approvedNotification();
    const later = (seconds: number) => () => new Date(Date.now() + seconds * 1000);
    expect(await connector({ now: later(9 * 60) }).parseCallback!(input)).toMatchObject({ verified: true });
    expect(await connector({ now: later(11 * 60) }).parseCallback!(input)).toMatchObject({ verified: false, reason: expect.stringContaining("stale") });
    expect(await connector({ now: later(120), credentials: { callbackMaxAgeSeconds: "60" } }).parseCallback!(input)).toMatchObject({ verified: false });
    expect(await connector({ now: later(-5 * 60) }).parseCallback!(input)).toMatchObject({ verified: false, reason: expect.stringContaining("future") });
  });

  it("replies a signed status 0 when accepted and a signed non-zero status when refused", async () => {
    const { input } = await approvedNotification();
    const c = connector();
    const ok = c.callbackReply!(true, input);
    const okBody = parsePraxisObject(ok.body)!;
    expect(ok).toMatchObject({ httpStatus: 200, contentType: "application/json" });
    expect(JSON.parse(ok.body)).toEqual({ description: "Ok", status: 0, timestamp: expect.any(Number), version: "1.2", signature: expect.any(String) });
    expect(verifyPraxis(okBody, CREDENTIALS.merchantSecret)).toBe(true);
    const no = parsePraxisObject(c.callbackReply!(false, input).body)!;
    expect(JSON.parse(toPraxisJson(no)).status).toBe(1);
    expect(verifyPraxis(no, CREDENTIALS.merchantSecret)).toBe(true);
  });

  it("Praxis resends a notification until the desk acknowledges it", async () => {
    const request = payout("260763456700");
    refuse.set(request.payoutId, 2);
    await connector().submit(request);
    await waitFor(() => emulator.payout(request.payoutId)?.notifications.some((n) => n.acknowledged));
    expect(emulator.payout(request.payoutId)!.notifications.map((n) => n.acknowledged)).toEqual([false, false, true]);
    const keys = received.filter((r) => r.parsed.payoutId === request.payoutId).map((r) => r.parsed.dedupeKey);
    expect(new Set(keys).size).toBe(1);
  });
});

describe("injected faults: unknown, resolved by status, never a duplicate", () => {
  async function faultThenResolve(mode: "timeout" | "garbage" | "drop-after-accept" | "negative-status" | "bad-signature" | "slow", expectedStatus?: string) {
    emulator.injectFault({ mode, delayMs: 800 }, CREDENTIALS.merchantId);
    const c = connector({ timeoutMs: 400 });
    const request = payout("260763456789");
    const result = await c.submit(request);
    expect(result.state).toBe("unknown");
    if (expectedStatus) expect(result.providerStatus).toBe(expectedStatus);
    expect(countAt(request.payoutId)).toBe(1);
    expect(await c.status(request)).toMatchObject({ state: expect.stringMatching(/^(processing|succeeded)$/) });
    // The desk resends only on not_found; a resend anyway still creates nothing new.
    expect((await c.submit(request)).state).toMatch(/^(processing|succeeded)$/);
    expect(countAt(request.payoutId)).toBe(1);
  }

  it("timeout", () => faultThenResolve("timeout"));
  it("garbage body", () => faultThenResolve("garbage"));
  it("dropped connection after Praxis accepted", () => faultThenResolve("drop-after-accept"));
  it("a negative status (Praxis's internal error) is unknown, never failed", () => faultThenResolve("negative-status", "status -1"));
  it("an answer with a bad signature is not trusted", () => faultThenResolve("bad-signature"));
  it("a slow answer beyond the timeout", () => faultThenResolve("slow"));

  it("a slow answer within the timeout is read normally", async () => {
    emulator.injectFault({ mode: "slow", delayMs: 100 }, CREDENTIALS.merchantId);
    const request = payout("260763456789");
    expect(await connector({ timeoutMs: 2000 }).submit(request)).toMatchObject({ state: "processing" });
    expect(countAt(request.payoutId)).toBe(1);
  });

  it("500 creates nothing: unknown, then not_found, then the resend creates exactly one", async () => {
    emulator.injectFault({ mode: "500" }, CREDENTIALS.merchantId);
    const c = connector();
    const request = payout("260763456789");
    expect(await c.submit(request)).toMatchObject({ state: "unknown", providerStatus: "HTTP 500" });
    expect(countAt(request.payoutId)).toBe(0);
    expect(await c.status(request)).toMatchObject({ state: "not_found" });
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    expect(countAt(request.payoutId)).toBe(1);
  });

  it("faults on the status query are unknown too", async () => {
    const c = connector({ timeoutMs: 400 });
    const request = payout("260763456789");
    await c.submit(request);
    for (const mode of ["negative-status", "bad-signature", "500", "garbage", "timeout"] as const) {
      emulator.injectFault({ mode, operation: "status" }, CREDENTIALS.merchantId);
      expect((await c.status(request)).state, mode).toBe("unknown");
    }
    expect((await c.status(request)).state).toMatch(/^(processing|succeeded)$/);
  });
});

describe("testConnection", () => {
  it("passes with the right ids and secret", async () => {
    expect(await connector().testConnection!()).toMatchObject({ ok: true });
  });

  it("fails with a wrong secret, unknown ids, or an unreachable host", async () => {
    expect(await connector({ credentials: { merchantSecret: "wrong" } }).testConnection!()).toMatchObject({ ok: false, message: expect.stringContaining("signature") });
    expect(await connector({ credentials: { merchantId: "nobody" } }).testConnection!()).toMatchObject({ ok: false });
    expect(await connector({ url: "http://127.0.0.1:9/api/direct", timeoutMs: 300 }).testConnection!()).toMatchObject({ ok: false });
  });

  it("uses agentBaseUrl when given", async () => {
    await connector({ credentials: { agentBaseUrl: `${emulatorServer.url}${BASE_PATH}/agent` } }).testConnection!();
    expect(calls[0]!.url).toBe(`${emulatorServer.url}${BASE_PATH}/agent/find-order`);
    await connector().testConnection!();
    expect(calls[1]!.url).toBe(`${emulatorServer.url}${BASE_PATH}/api/find-order`);
  });
});

describe("validate", () => {
  it("accepts a good payout, with or without a country", () => {
    expect(connector().validate(payout("260763456789"))).toEqual([]);
    expect(connector().validate(payout("260763456789", { recipient: { phone: "260763456789" } }))).toEqual([]);
  });

  it("names the field and the rule", () => {
    const issues = (overrides: Partial<PayoutRequest>) => connector().validate(payout("260763456789", overrides));
    expect(issues({ amountMinor: 0n })).toEqual([{ field: "amount", message: "The amount must be more than zero" }]);
    expect(issues({ currency: "KWD", amountMinor: 12345n })).toEqual([{ field: "amount", message: expect.stringContaining("hundredths") }]);
    expect(issues({ currency: "XYZ" })).toEqual([{ field: "currency", message: expect.stringContaining("ISO 4217") }]);
    expect(issues({ recipient: { phone: "0763456789", country: "ZM" } })).toEqual([{ field: "recipientPhone", message: expect.stringContaining("country code") }]);
    expect(issues({ recipient: { phone: "256772123456", country: "ZM" } })).toEqual([{ field: "recipientPhone", message: expect.stringContaining("Zambia") }]);
    expect(issues({ recipient: { phone: "260763456789", country: "ZM", details: { email: "not-an-email" } } })).toEqual([
      { field: "email", message: expect.stringContaining("e-mail") },
    ]);
    expect(issues({ description: "x".repeat(257) })).toEqual([{ field: "description", message: expect.stringContaining("256") }]);
  });

  it("a connection without its secret or gateway says so, and sends nothing", async () => {
    const c = connector({ credentials: { merchantSecret: "" } });
    expect(c.validate(payout("260763456789"))).toEqual([{ field: "channel", message: expect.stringContaining("merchantSecret") }]);
    expect(await c.submit(payout("260763456789"))).toMatchObject({ state: "failed", failureCode: "NOT_SENT" });
    expect(calls).toEqual([]);
    const live = connector({ environment: "live", credentials: { gateway: "" } });
    expect(live.validate(payout("260763456789"))).toEqual([{ field: "channel", message: expect.stringContaining("gateway") }]);
  });
});
