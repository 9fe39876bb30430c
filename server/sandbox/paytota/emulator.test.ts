// The Paytota emulator on its own, over real HTTP: what it enforces, the
// shapes it answers, callbacks signed over the raw body and retried, the
// sandbox numbers, and the duplicate-reference rule.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { readPublicKeyAnswer, verifyBody } from "@/server/connectors/paytota/signature";
import { JsonNumber } from "@/server/connectors/paytota/wire";
import { createPaytotaEmulator, payoutFee, sandboxAccountFor, toJsonText, type PaytotaEmulator } from "./index";
import { waitFor as waitForWithin } from "@/server/testing/wait";

const BRAND = "edd6c020-eac6-4b4e-9716-47928f3401de";
let emulator: PaytotaEmulator;
let server: ServedHandler;
let receiver: ServedHandler;
let base: string;
const deliveries: Array<{ body: string; signature: string | null; answered: number }> = [];
let failNextDeliveries = 0;

beforeAll(async () => {
  receiver = await serveWebHandler(async (request) => {
    const answered = failNextDeliveries-- > 0 ? 500 : 200;
    deliveries.push({ body: await request.text(), signature: request.headers.get("x-signature"), answered });
    return new Response(null, { status: answered });
  });
  emulator = createPaytotaEmulator({
    accounts: (key) => (key === "sk-test" ? { brandId: BRAND, callbackUrl: `${receiver.url}/hook`, companyId: "706d0675-b131-468c-940d-bc0ea3599e7f" } : null),
    callbackDelayMs: 30,
    callbackRetryDelaysMs: [30, 30],
    statementDelayMs: 20,
  });
  server = await serveWebHandler(emulator.handle);
  base = `${server.url}/api/sandbox/paytota`;
});

afterAll(async () => {
  emulator.close();
  await server.close();
  await receiver.close();
});

const auth = { Authorization: "Bearer sk-test", "Content-Type": "application/json" };

function initiateBody(overrides: Record<string, unknown> = {}) {
  return {
    client: { email: "example@gmail.com", phone: "256700123123", country: "UG" },
    payment: { currency: "UGX", amount: "500", description: "Test Payout" },
    reference: randomUUID(),
    brand_id: BRAND,
    ...overrides,
  };
}

async function initiate(body: unknown, headers: Record<string, string> = auth) {
  const response = await fetch(`${base}/api/v1/payouts/`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

async function execute(url: string, body: unknown = { payout_type: "mobile" }) {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

const waitFor = <T>(probe: () => T | undefined | null | false, timeoutMs = 3000) => waitForWithin(probe, timeoutMs);

describe("authentication", () => {
  it("needs a known Bearer secret key, except on the execution URL", async () => {
    expect((await initiate(initiateBody(), { "Content-Type": "application/json" })).status).toBe(401);
    expect((await initiate(initiateBody(), { Authorization: "Bearer nope", "Content-Type": "application/json" })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/account/json/balance/`)).status).toBe(401);
  });

  it("serves its public key as a JSON string of the PEM", async () => {
    const response = await fetch(`${base}/api/v1/public_key/`, { headers: auth });
    const text = await response.text();
    expect(JSON.parse(text)).toBe(emulator.publicKeyPem());
    expect(JSON.parse(text)).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(readPublicKeyAnswer(text)).not.toBeNull();
  });
});

describe("initiate", () => {
  it("answers 201 with the seed's payout object, amounts as integers", async () => {
    const body = initiateBody();
    const { status, json } = await initiate(body);
    expect(status).toBe(201);
    expect(json).toMatchObject({
      type: "payout",
      status: "initialized",
      reference: body.reference,
      brand_id: BRAND,
      company_id: "706d0675-b131-468c-940d-bc0ea3599e7f",
      event_type: "payout.created",
      client: { email: "example@gmail.com", phone: "256700123123", country: "UG" },
      payment: { amount: 500, currency: "UGX", fee_amount: 0, net_amount: 500, description: "Test Payout", is_outgoing: true, payment_type: "payout" },
      status_history: [{ status: "initialized", timestamp: expect.any(Number) }],
      execution_url: `${base}/po/${json.id}/paytota_proxy/`,
      reference_generated: body.reference,
    });
    expect(json.created_on).toBe(json.updated_on);
  });

  it.each([
    [{ brand_id: randomUUID() }, "brand_id"],
    [{ brand_id: undefined }, "brand_id"],
    [{ reference: "" }, "reference"],
    [{ client: { email: "nope", phone: "256700123123", country: "UG" } }, "client"],
    [{ client: { email: "a@b.co", phone: "+256700123123", country: "UG" } }, "client"],
    [{ client: { email: "a@b.co", phone: "256700123123", country: "uganda" } }, "client"],
    [{ payment: { currency: "UGX", amount: 500, description: "x" } }, "payment"],
    [{ payment: { currency: "UGX", amount: "500.5", description: "x" } }, "payment"],
    [{ payment: { currency: "UGX", amount: "0", description: "x" } }, "payment"],
    [{ payment: { currency: "EUR", amount: "5", description: "x" } }, "payment"],
    [{ payment: { currency: "UGX", amount: "5", description: "x".repeat(256) } }, "payment"],
  ])("refuses %j with a field error on %s, creating nothing", async (overrides, field) => {
    const body = initiateBody(overrides);
    const before = emulator.payouts().length;
    const { status, json } = await initiate(body);
    expect(status).toBe(400);
    expect(Object.keys(json)).toEqual([field]);
    expect(JSON.stringify(json)).toMatch(/"message":"(?:[^"\\]|\\.)+","code":"[a-z_]+"/);
    expect(emulator.payouts()).toHaveLength(before);
  });

  it("never creates two payouts for one reference", async () => {
    const body = initiateBody();
    expect((await initiate(body)).status).toBe(201);
    const again = await initiate(body);
    expect(again).toEqual({ status: 400, json: { reference: [{ message: "A payout with this reference already exists.", code: "unique" }] } });
    expect(emulator.payouts().filter((p) => p.reference === body.reference)).toHaveLength(1);
  });

  it("lists payouts by reference; answers 404 for an unknown id", async () => {
    const body = initiateBody();
    const { json } = await initiate(body);
    const list = await fetch(`${base}/api/v1/payouts/?reference=${body.reference}`, { headers: auth });
    expect(await list.json()).toEqual({ results: [expect.objectContaining({ id: json.id, reference: body.reference })], next: null, previous: null });
    const single = await fetch(`${base}/api/v1/payouts/${json.id}/`, { headers: auth });
    expect(await single.json()).toMatchObject({ id: json.id, status: "initialized" });
    const missing = await fetch(`${base}/api/v1/payouts/${randomUUID()}/`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "Not found." });
  });
});

describe("readings the docs leave open", () => {
  it("a repeated reference can make another payout, or answer the existing one; the lookup can be absent", async () => {
    const other = (repeatedReference: "create" | "return", lookupByReference: boolean | "absent" = true) =>
      createPaytotaEmulator({ accounts: (key) => (key === "sk-test" ? { brandId: BRAND } : null), repeatedReference, lookupByReference });
    const creating = other("create");
    const returning = other("return", "absent");
    const [creatingServer, returningServer] = await Promise.all([serveWebHandler(creating.handle), serveWebHandler(returning.handle)]);
    try {
      const body = initiateBody();
      const post = (url: string) => fetch(`${url}/api/sandbox/paytota/api/v1/payouts/`, { method: "POST", headers: auth, body: JSON.stringify(body) });
      const first = await post(creatingServer.url);
      const second = await post(creatingServer.url);
      expect([first.status, second.status]).toEqual([201, 201]);
      const ids = [((await first.json()) as { id: string }).id, ((await second.json()) as { id: string }).id];
      expect(new Set(ids).size).toBe(2);
      expect(creating.payoutsByReference(body.reference)).toHaveLength(2);
      const listed = await fetch(`${creatingServer.url}/api/sandbox/paytota/api/v1/payouts/?reference=${body.reference}`, { headers: auth });
      expect(((await listed.json()) as { results: unknown[] }).results).toHaveLength(2);

      const created = await post(returningServer.url);
      const repeated = await post(returningServer.url);
      expect([created.status, repeated.status]).toEqual([201, 200]);
      expect(((await repeated.json()) as { id: string }).id).toBe(((await created.json()) as { id: string }).id);
      expect(returning.payoutsByReference(body.reference)).toHaveLength(1);
      // As documented, there is no lookup by reference.
      const lookup = await fetch(`${returningServer.url}/api/sandbox/paytota/api/v1/payouts/?reference=${body.reference}`, { headers: auth });
      expect(lookup.status).toBe(404);
    } finally {
      creating.close();
      returning.close();
      await Promise.all([creatingServer.close(), returningServer.close()]);
    }
  });
});

describe("execute and the lifecycle", () => {
  it("executes once: pending, then success with a signed callback carrying the full payout object", async () => {
    const { json: created } = await initiate(initiateBody());
    expect(await execute(created.execution_url, { payout_type: "bank" })).toMatchObject({ status: 400, json: { status: "error", error: { code: "invalid_payout_type" } } });
    const { status, json } = await execute(created.execution_url);
    expect(status).toBe(200);
    expect(json).toEqual({
      status: "pending",
      details: { return_code: "200", message: "Transaction received for processing", transaction: { status: "pending", internal_reference: expect.stringMatching(/^[0-9A-F]{32}$/) } },
    });
    expect(await execute(created.execution_url)).toMatchObject({ status: 400, json: { error: { code: "invalid_status" } } });
    expect(emulator.payout(created.id)!.executions).toBe(1);

    const delivery = await waitFor(() => deliveries.find((d) => d.body.includes(created.id) && d.body.includes('"payout.success"')));
    const key = readPublicKeyAnswer(JSON.stringify(emulator.publicKeyPem()))!;
    expect(verifyBody(delivery.body, delivery.signature!, key)).toBe(true);
    const payload = JSON.parse(delivery.body);
    expect(payload).toMatchObject({
      id: created.id,
      status: "success",
      event_type: "payout.success",
      payment: { amount: 500, paid_on: expect.any(Number) },
      status_history: [{ status: "initialized" }, { status: "pending" }, { status: "success" }],
      transaction_data: { attempts: [{ successful: true, payment_method: "paytota_proxy" }] },
    });
  });

  it("answers insufficient_funds for …111 and when the balance is short; the payout becomes error", async () => {
    for (const overrides of [
      { client: { email: "a@b.co", phone: "256700123111", country: "UG" } },
      { payment: { currency: "UGX", amount: "900000000", description: "Too much" } },
    ]) {
      const { json: created } = await initiate(initiateBody(overrides));
      const { json } = await execute(created.execution_url);
      expect(json).toEqual({ status: "error", error: { code: "insufficient_funds", message: "Insufficient funds to proceed with operation." } });
      expect(emulator.payout(created.id)!.status).toBe("error");
    }
  });

  it("retries a callback that was not answered 2xx", async () => {
    const { json: created } = await initiate(initiateBody({ client: { email: "a@b.co", phone: "256700123222", country: "UG" } }));
    failNextDeliveries = 1;
    await execute(created.execution_url);
    await waitFor(() => emulator.payout(created.id)!.callbackAttempts.length >= 2);
    const attempts = emulator.payout(created.id)!.callbackAttempts;
    expect(attempts.map((a) => a.httpStatus)).toEqual([500, 200]);
    const bodies = deliveries.filter((d) => d.body.includes(created.id)).map((d) => d.body);
    expect(new Set(bodies).size).toBe(1); // the same signed bytes each time
    expect(JSON.parse(bodies[0]!)).toMatchObject({ status: "error", transaction_data: { attempts: [{ error: { code: "invalid_account" } }] } });
  });

  it("unknown payouts cannot be executed", async () => {
    expect((await execute(`${base}/po/${randomUUID()}/paytota_proxy/`)).status).toBe(404);
  });
});

describe("fees: booked on top of the amount, reported in the payout object", () => {
  // A company of its own with a balance just big enough to tell "amount" from "amount + fee".
  let fees: PaytotaEmulator;
  let feesServer: ServedHandler;
  let feesBase: string;
  const feesAuth = { Authorization: "Bearer sk-fees", "Content-Type": "application/json" };
  beforeAll(async () => {
    fees = createPaytotaEmulator({
      accounts: (key) => (key === "sk-fees" ? { brandId: BRAND } : null),
      initialBalances: { UGX: "20000" },
      callbackDelayMs: 20,
    });
    feesServer = await serveWebHandler(fees.handle);
    feesBase = `${feesServer.url}/api/sandbox/paytota`;
  });
  afterAll(async () => {
    fees.close();
    await feesServer.close();
  });

  async function send(phone: string, amount: string) {
    const response = await fetch(`${feesBase}/api/v1/payouts/`, {
      method: "POST",
      headers: feesAuth,
      body: JSON.stringify(initiateBody({ client: { email: "a@b.co", phone, country: "UG" }, payment: { currency: "UGX", amount, description: "Fee" } })),
    });
    const created = (await response.json()) as Record<string, any>;
    return { created, executed: await execute(created.execution_url) };
  }
  const ugx = async () => {
    const json = (await (await fetch(`${feesBase}/api/v1/account/json/balance/`, { headers: feesAuth })).json()) as Record<string, Record<string, number>>;
    return json.UGX!;
  };
  const object = async (id: string) => (await (await fetch(`${feesBase}/api/v1/payouts/${id}/`, { headers: feesAuth })).json()) as Record<string, any>;

  it("takes amount + fee from the balance and answers fee_amount, net_amount = amount + fee", async () => {
    expect(payoutFee(5_000n, "UGX")).toBe(550n); // 500 flat + 1% of 5,000
    const { created, executed } = await send("256700123123", "5000");
    expect(created.payment).toMatchObject({ amount: 5000, fee_amount: 0, net_amount: 5000 }); // not executed: nothing charged yet
    expect(executed.json.status).toBe("pending");
    expect(await ugx()).toMatchObject({ available_balance: 20_000 - 5_550, pending_outgoing: 5_550, balance: 20_000 });
    await waitFor(() => fees.payout(created.id)?.status === "success");
    const paid = await object(created.id);
    expect(paid.payment).toMatchObject({ amount: 5000, fee_amount: 550, net_amount: 5550 });
    expect(paid.transaction_data.attempts[0]).toMatchObject({ successful: true, fee_amount: 550 });
    expect(await ugx()).toMatchObject({ available_balance: 14_450, pending_outgoing: 0, balance: 14_450 });
  });

  it("refuses a payout the balance covers without its fee, and refunds amount and fee of a failed one", async () => {
    const before = (await ugx()).available_balance!;
    // 14,450 left: 14,000 would fit, 14,000 + 640 does not.
    expect(payoutFee(14_000n, "UGX")).toBe(640n);
    expect((await send("256700123123", "14000")).executed.json).toMatchObject({ status: "error", error: { code: "insufficient_funds" } });
    expect((await ugx()).available_balance).toBe(before);

    const { created } = await send("256700123222", "1000"); // …222: executes, then fails
    expect((await ugx()).available_balance).toBe(before - 1_000 - 510);
    await waitFor(() => fees.payout(created.id)?.status === "error");
    expect((await object(created.id)).payment).toMatchObject({ amount: 1000, fee_amount: 0, net_amount: 1000 });
    expect((await ugx()).available_balance).toBe(before);
  });
});

describe("balances and statements", () => {
  it("answers every documented balance field as integers", async () => {
    const response = await fetch(`${base}/api/v1/account/json/balance/`, { headers: auth });
    const json = (await response.json()) as Record<string, Record<string, unknown>>;
    expect(Object.keys(json.UGX!).sort()).toEqual(
      ["available_balance", "available_payout_balance", "balance", "fee_sell", "gross_balance", "payout_balance", "payout_fee_sell", "payout_gross_balance", "payout_overdraft", "pending_outgoing", "pending_payouts", "reserved"].sort(),
    );
    expect(Number.isInteger(json.KES!.available_balance)).toBe(true);
  });

  it("refuses a statement download without its token", async () => {
    const created = await fetch(`${base}/api/v1/company_statements/`, { method: "POST", headers: auth, body: JSON.stringify({ format: "csv", timezone: "UTC" }) });
    expect(created.status).toBe(201);
    const statement = (await created.json()) as { id: string; status: string; download_url: null };
    expect(statement).toMatchObject({ status: "pending", download_url: null, type: "statement_request" });
    await emulator.idle();
    const ready = (await (await fetch(`${base}/api/v1/company_statements/${statement.id}/`, { headers: auth })).json()) as { status: string; download_url: string };
    expect(ready.status).toBe("success");
    expect((await fetch(ready.download_url)).status).toBe(200);
    expect((await fetch(ready.download_url.replace(/token=\w+/, "token=wrong"))).status).toBe(403);
    const xlsx = await fetch(`${base}/api/v1/company_statements/`, { method: "POST", headers: auth, body: JSON.stringify({ format: "xlsx" }) });
    expect(xlsx.status).toBe(400);
  });
});

describe("faults and wiring", () => {
  it("a 500 fault is not processed by default; a bad fault is refused", async () => {
    await emulator.injectFault({ mode: "500" }, "sk-test");
    const body = initiateBody();
    expect((await fetch(`${base}/api/v1/payouts/`, { method: "POST", headers: auth, body: JSON.stringify(body) })).status).toBe(500);
    expect(emulator.payoutByReference(body.reference)).toBeUndefined();
    const bad = await fetch(`${base}/_sandbox/faults`, { method: "POST", headers: auth, body: JSON.stringify({ mode: "explode" }) });
    expect(bad.status).toBe(400);
  });

  it("sandboxAccountFor answers accounts() for a connection", () => {
    expect(sandboxAccountFor({ secretKey: "sk", brandId: BRAND }, "http://desk/api/webhooks/c1")).toEqual({ brandId: BRAND, callbackUrl: "http://desk/api/webhooks/c1" });
    expect(sandboxAccountFor({ secretKey: "sk", brandId: BRAND }, null)).toEqual({ brandId: BRAND });
    expect(sandboxAccountFor({ secretKey: "sk" }, "http://x")).toBeNull();
  });

  it("writes amounts as exact JSON numbers", () => {
    expect(toJsonText({ a: new JsonNumber("999987.45"), b: [1, "x"], c: new JsonNumber("90071992547409931") })).toBe('{"a":999987.45,"b":[1,"x"],"c":90071992547409931}');
  });
});
