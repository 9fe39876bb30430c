// The Paytota connector against the built-in emulator, over real HTTP: the
// two-step payout (initiate, execute), the sandbox's magic numbers, signed
// callbacks received by a local receiver, the "initialized but never
// executed" rule, lookups by reference, injected transport faults on both
// steps, balances in minor units and statements. Connectors get a
// holdProviderReference like the desk's (a map standing in for the payout
// row) unless a test says the desk does not hold ids; lost-initiate.test.ts
// drives the fault matrix for a lost initiate answer to the end.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createPaytotaEmulator, payoutFee, type PaytotaEmulator, type PaytotaEmulatorAccount } from "@/server/sandbox/paytota";
import type { CallbackInput, ConnectionConfig, PayoutRequest, ProviderCallRecord } from "../types";
import { clearPaytotaKeyCache, createPaytotaConnector, generateSigningKey, KEY_REFRESH_MIN_INTERVAL_MS, paytotaConnectorFactory, sandboxCredentials, signBody } from "./index";
import { waitFor } from "@/server/testing/wait";

const BRAND = "edd6c020-eac6-4b4e-9716-47928f3401de";

let emulator: PaytotaEmulator;
let emulatorServer: ServedHandler;
let majorEmulator: PaytotaEmulator;
let majorServer: ServedHandler;
let loose: PaytotaEmulator;
let looseServer: ServedHandler;
let receiverServer: ServedHandler;
let baseUrl: string;
const accounts = new Map<string, PaytotaEmulatorAccount>();
const received: CallbackInput[] = [];
const seen: Array<{ method: string; url: string; headers: Headers; body: string }> = [];
let calls: ProviderCallRecord[] = [];
/** The ids the "desk" holds, by payout id (what holdProviderReference writes on the payout row). */
let held = new Map<string, string>();
let clock = () => new Date();

beforeAll(async () => {
  receiverServer = await serveWebHandler(async (request) => {
    received.push({ headers: request.headers, rawBody: await request.text(), url: request.url, method: request.method });
    return Response.json({ status: "ok" });
  });
  const callbackUrl = `${receiverServer.url}/api/webhooks/conn-1`;
  for (const key of ["sk-main", "sk-faults", "sk-nolookup", "sk-balance", "sk-statements"]) accounts.set(key, { brandId: BRAND, callbackUrl });
  const lookupAccount = async (key: string) => accounts.get(key) ?? null;

  emulator = createPaytotaEmulator({ accounts: lookupAccount, callbackDelayMs: 60, callbackRetryDelaysMs: [40, 80], statementDelayMs: 60 });
  emulatorServer = await serveWebHandler(async (request) => {
    seen.push({ method: request.method, url: request.url, headers: request.headers, body: await request.clone().text() });
    return emulator.handle(request);
  });
  baseUrl = `${emulatorServer.url}/api/sandbox/paytota`;

  majorEmulator = createPaytotaEmulator({ accounts: lookupAccount, amountUnits: "major", callbackDelayMs: 60 });
  majorServer = await serveWebHandler(majorEmulator.handle);
  // An API that ignores ?reference= (lists everything): the connector must not trust its silence.
  loose = createPaytotaEmulator({ accounts: lookupAccount, lookupByReference: false, callbackDelayMs: 60 });
  looseServer = await serveWebHandler(loose.handle);
});

afterAll(async () => {
  for (const e of [emulator, majorEmulator, loose]) e.close();
  await Promise.all([emulatorServer.close(), majorServer.close(), looseServer.close(), receiverServer.close()]);
});

beforeEach(() => {
  calls = [];
  held = new Map();
  clock = () => new Date();
});

async function holdLikeTheDesk(payoutId: string, reference: string): Promise<void> {
  const current = held.get(payoutId);
  if (current && current !== reference) throw new Error("the payout already holds another provider id");
  held.set(payoutId, reference);
}

function connector(options: { key?: string; credentials?: Record<string, string>; timeoutMs?: number; url?: string; hold?: false | ((payoutId: string, reference: string) => Promise<void>) } = {}) {
  const config: ConnectionConfig = {
    id: "conn-1",
    provider: "paytota",
    name: "Paytota sandbox",
    environment: "sandbox",
    baseUrl: options.url ?? baseUrl,
    credentials: { secretKey: options.key ?? "sk-main", brandId: BRAND, clientEmail: "payouts@desk.example", ...options.credentials },
    callbackUrl: `${receiverServer.url}/api/webhooks/conn-1`,
  };
  const hold = options.hold === undefined ? holdLikeTheDesk : options.hold;
  return createPaytotaConnector(config, {
    onCall: (call) => void calls.push(call),
    // Generous: on a busy machine a normal answer must not become a timeout (fault tests set their own short one).
    timeoutMs: options.timeoutMs ?? 15_000,
    now: () => clock(),
    ...(hold ? { holdProviderReference: hold } : {}),
  });
}

function payout(phone: string, overrides: Partial<PayoutRequest> = {}): PayoutRequest {
  return {
    payoutId: randomUUID(),
    amountMinor: 500n,
    currency: "UGX",
    recipient: { phone, country: "UG" },
    channel: null,
    description: "Test Payout",
    createdAt: new Date(),
    ...overrides,
  };
}

const callbackFor = (reference: string, status?: string) => () =>
  received.find((c) => c.rawBody.includes(reference) && (!status || JSON.parse(c.rawBody).status === status));
const atEmulator = (em: PaytotaEmulator, reference: string) => em.payouts().filter((p) => p.reference === reference);

describe("the calls on the wire", () => {
  it("initiates with the seed's body and Bearer key, then executes with {payout_type: mobile} and no key", async () => {
    const request = payout("256700123123", { recipient: { phone: "256700123123", country: "UG", name: "Jane Rose" } });
    const result = await connector().submit(request);
    const created = emulator.payoutByReference(request.payoutId)!;
    expect(result).toMatchObject({ state: "processing", providerStatus: "pending", providerReference: created.id });

    const initiate = seen.find((s) => s.method === "POST" && s.url.endsWith("/api/v1/payouts/") && s.body.includes(request.payoutId))!;
    expect(initiate.headers.get("authorization")).toBe("Bearer sk-main");
    expect(initiate.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(initiate.body)).toEqual({
      client: { email: "payouts@desk.example", phone: "256700123123", country: "UG", full_name: "Jane Rose" },
      payment: { currency: "UGX", amount: "500", description: "Test Payout" },
      reference: request.payoutId,
      brand_id: BRAND,
    });
    const execute = seen.find((s) => s.url === created.executionUrl)!;
    expect(execute.method).toBe("POST");
    expect(execute.body).toBe('{"payout_type":"mobile"}');
    expect(execute.headers.get("authorization")).toBeNull();

    // Created once and executed once, with its id held in between; no undocumented lookup.
    expect(calls.map((c) => c.operation)).toEqual(["initiate", "execute"]);
    expect(held.get(request.payoutId)).toBe(created.id);
    expect(JSON.stringify(calls)).not.toContain("sk-main");
    expect(created.executions).toBe(1);
  });

  it("sends a 2-decimal currency as a major-unit string", async () => {
    const request = payout("254712345678", { currency: "KES", amountMinor: 1250n, recipient: { phone: "254712345678", country: "KE" } });
    expect(await connector().submit(request)).toMatchObject({ state: "processing" });
    const initiate = seen.find((s) => s.method === "POST" && s.body.includes(request.payoutId))!;
    expect(JSON.parse(initiate.body).payment).toEqual({ currency: "KES", amount: "12.50", description: "Test Payout" });
    expect(emulator.payoutByReference(request.payoutId)!.amountMinor).toBe(1250n);
  });

  it("is the registered factory and describes itself", () => {
    expect(paytotaConnectorFactory).toBe(createPaytotaConnector);
    const c = connector();
    expect(c.capabilities).toEqual({ statusQuery: true, callbacks: "signed", balances: true, statements: true });
    expect(c.channels()).toEqual([]);
    expect(c.recipientKind).toBe("msisdn");
    expect(c.recipientFields!()).toEqual([expect.objectContaining({ key: "email", required: false })]);
    const fresh = sandboxCredentials();
    expect(fresh.secretKey).toMatch(/^sandbox-[0-9a-f]{48}$/);
    expect(fresh.brandId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("payouts through the emulator", () => {
  it("…123: processing, then a signed callback that verifies as succeeded; the key is fetched once per connection", async () => {
    clearPaytotaKeyCache();
    const request = payout("256700123123");
    const submitted = await connector().submit(request);
    expect(submitted).toMatchObject({ state: "processing", providerStatus: "pending" });

    const callback = await waitFor(callbackFor(request.payoutId, "success"), 30_000);
    expect(callback.headers.get("x-signature")).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const parsed = await connector().parseCallback!(callback);
    expect(parsed).toEqual({
      verified: true,
      payoutId: request.payoutId,
      providerReference: submitted.providerReference,
      dedupeKey: `paytota:${submitted.providerReference}:success`,
      result: expect.objectContaining({ state: "succeeded", providerStatus: "success", providerReference: submitted.providerReference }),
    });
    expect(await connector().status({ payoutId: request.payoutId, providerReference: submitted.providerReference })).toMatchObject({
      state: "succeeded",
      providerStatus: "success",
    });
    // Without the reference, the lookup by our id finds it too (and reports Paytota's id).
    expect(await connector().status({ payoutId: request.payoutId })).toMatchObject({ state: "succeeded", providerReference: submitted.providerReference });
    // Another connector instance for the same connection uses the cached key.
    await connector().parseCallback!(callback);
    expect(calls.filter((c) => c.operation === "publicKey")).toHaveLength(1);
  });

  it("…111: execute answers insufficient_funds → failed, with Paytota's id; status and callback agree", async () => {
    const request = payout("256700123111");
    const result = await connector().submit(request);
    const created = emulator.payoutByReference(request.payoutId)!;
    expect(result).toMatchObject({ state: "failed", providerStatus: "error", failureCode: "insufficient_funds", providerReference: created.id });
    expect(result.failureMessage).toBe("Insufficient funds to proceed with operation.");
    expect(await connector().status({ payoutId: request.payoutId, providerReference: created.id })).toMatchObject({
      state: "failed",
      failureCode: "insufficient_funds",
    });
    const callback = await waitFor(callbackFor(request.payoutId, "error"), 30_000);
    expect(await connector().parseCallback!(callback)).toMatchObject({ verified: true, result: { state: "failed", failureCode: "insufficient_funds" } });
  });

  it("a payout above the balance fails with insufficient_funds too", async () => {
    const request = payout("256700123123", { amountMinor: 60_000_000n });
    expect(await connector().submit(request)).toMatchObject({ state: "failed", failureCode: "insufficient_funds" });
  });

  it.each([
    ["256700123222", "invalid_account"],
    ["256700123333", "transaction_failed"],
  ])("%s: processing, then fails with %s (callback and status agree)", async (phone, code) => {
    const request = payout(phone);
    const submitted = await connector().submit(request);
    expect(submitted).toMatchObject({ state: "processing" });
    const callback = await waitFor(callbackFor(request.payoutId, "error"), 30_000);
    expect(await connector().parseCallback!(callback)).toMatchObject({
      verified: true,
      dedupeKey: `paytota:${submitted.providerReference}:error`,
      result: { state: "failed", providerStatus: "error", failureCode: code, failureMessage: expect.any(String) },
    });
    expect(await connector().status({ payoutId: request.payoutId, providerReference: submitted.providerReference })).toMatchObject({
      state: "failed",
      failureCode: code,
    });
  });

  it("…444 stays pending: processing, no callback", async () => {
    const request = payout("256700123444");
    const submitted = await connector().submit(request);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await connector().status({ payoutId: request.payoutId, providerReference: submitted.providerReference })).toMatchObject({
      state: "processing",
      providerStatus: "pending",
    });
    expect(callbackFor(request.payoutId)()).toBeUndefined();
  });
});

describe("never two payouts for one id", () => {
  it("submitting the same payout twice leaves one payout, executed once, and maps to its status", async () => {
    const request = payout("256700123123");
    const first = await connector().submit(request);
    const again = await connector().submit(request);
    const withReference = await connector().submit({ ...request, providerReference: first.providerReference! });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
    expect(emulator.payout(first.providerReference!)!.executions).toBe(1);
    for (const result of [again, withReference]) expect(result).toMatchObject({ state: "processing", providerReference: first.providerReference });
    await waitFor(callbackFor(request.payoutId, "success"), 30_000);
    expect(await connector().submit(request)).toMatchObject({ state: "succeeded", providerReference: first.providerReference });
  });

  it("crash between initiate and execute: a later submit with the known reference executes the SAME payout", async () => {
    const request = payout("256700123123");
    // What the desk did before it crashed: the initiate call only.
    const response = await fetch(`${baseUrl}/api/v1/payouts/`, {
      method: "POST",
      headers: { Authorization: "Bearer sk-main", "Content-Type": "application/json" },
      body: JSON.stringify({
        client: { email: "a@b.example", phone: "256700123123", country: "UG" },
        payment: { currency: "UGX", amount: "500", description: "Test Payout" },
        reference: request.payoutId,
        brand_id: BRAND,
      }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; status: string; execution_url: string };
    expect(created).toMatchObject({ status: "initialized", execution_url: expect.stringContaining(`/po/${created.id}/paytota_proxy/`) });

    // The status query reports "never executed" as not_found (the desk's resend path), with Paytota's id.
    expect(await connector().status({ payoutId: request.payoutId, providerReference: created.id })).toMatchObject({
      state: "not_found",
      providerStatus: "initialized",
      providerReference: created.id,
    });
    const result = await connector().submit({ ...request, providerReference: created.id });
    expect(result).toMatchObject({ state: "processing", providerReference: created.id });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
    expect(emulator.payout(created.id)!.executions).toBe(1);
    expect(calls.map((c) => c.operation)).toEqual(["status", "status", "execute"]);
  });

  it("initiate answer lost: not_found (nothing can have run); the resend initiates again and executes that one, never the orphan", async () => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode: "drop-after-accept", operation: "initiate" }, "sk-main");
    const first = await connector().submit(request);
    expect(first.state).toBe("unknown");
    expect(first.providerReference).toBeUndefined();
    expect(held.has(request.payoutId)).toBe(false);
    const orphan = emulator.payoutByReference(request.payoutId)!;
    expect(orphan.status).toBe("initialized");

    const status = await connector().status({ payoutId: request.payoutId });
    expect(status).toMatchObject({ state: "not_found" });
    expect(status.providerReference).toBeUndefined(); // the orphan's id is not taken
    const resent = await connector().submit({ ...request, firstAttempt: false });
    expect(resent).toMatchObject({ state: "processing" });
    expect(resent.providerReference).not.toBe(orphan.id);
    expect(held.get(request.payoutId)).toBe(resent.providerReference);
    expect(emulator.payout(resent.providerReference!)!.executions).toBe(1);
    expect(orphan.executions).toBe(0);
    expect(orphan.status).toBe("initialized");
  });

  it("a payout Paytota shows executing is taken as this payout's, never initiated again", async () => {
    const request = payout("256700123123");
    // The desk lost the id after executing (say, a database restored from a backup): the lookup is the safety net.
    const first = await connector({ hold: false }).submit(request);
    expect(first).toMatchObject({ state: "processing" });
    expect(await connector().status({ payoutId: request.payoutId })).toMatchObject({ state: expect.stringMatching(/processing|succeeded/), providerReference: first.providerReference });
    expect(await connector().submit({ ...request, firstAttempt: false })).toMatchObject({ state: expect.stringMatching(/processing|succeeded/), providerReference: first.providerReference });
    expect(emulator.payoutsByReference(request.payoutId, { repeats: true })).toHaveLength(1);
    expect(emulator.payout(first.providerReference!)!.executions).toBe(1);
  });

  it("an id that cannot be held is never executed", async () => {
    const request = payout("256700123123");
    const result = await connector({ hold: async () => Promise.reject(new Error("database unreachable")) }).submit(request);
    const created = emulator.payoutByReference(request.payoutId)!;
    expect(result).toMatchObject({ state: "unknown" });
    expect(result.providerReference).toBeUndefined();
    expect(result.failureMessage).toMatch(/database unreachable.*not executed/);
    expect(created.executions).toBe(0);
    expect(calls.map((c) => c.operation)).toEqual(["initiate"]);
  });

  it("says not_found only when Paytota lists no payout with this reference", async () => {
    expect(await connector().status({ payoutId: randomUUID() })).toMatchObject({ state: "not_found" });
    // An unknown Paytota id is not "never seen": it is a contradiction for a person, and nothing is re-created.
    const request = payout("256700123123");
    const missing = randomUUID();
    expect(await connector().status({ payoutId: request.payoutId, providerReference: missing })).toMatchObject({ state: "unknown", providerStatus: "HTTP 404" });
    expect(await connector().submit({ ...request, providerReference: missing })).toMatchObject({ state: "unknown" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(0);
  });

  it("a lookup that ignored the reference filter tells nothing: the held ids decide, or a person does", async () => {
    const looseUrl = `${looseServer.url}/api/sandbox/paytota`;
    expect(await connector({ url: looseUrl }).submit(payout("256700123123"))).toMatchObject({ state: "processing" });
    const request = payout("256700123123");
    await loose.injectFault({ mode: "timeout", operation: "initiate" }, "sk-main");
    expect(await connector({ url: looseUrl, timeoutMs: 300 }).submit(request)).toMatchObject({ state: "unknown" });
    // Without the desk holding ids, the unfiltered list proves nothing: a person must look.
    const unheld = await connector({ url: looseUrl, hold: false }).status({ payoutId: request.payoutId });
    expect(unheld).toMatchObject({ state: "unknown" });
    expect(unheld.failureMessage).toMatch(/ignored the reference filter/);
    // With it, nothing can have been executed: initiated again, under a repeat of the refused reference.
    expect(await connector({ url: looseUrl }).status({ payoutId: request.payoutId })).toMatchObject({ state: "not_found" });
    expect(await connector({ url: looseUrl }).submit({ ...request, firstAttempt: false })).toMatchObject({ state: "processing" });
    const atLoose = loose.payoutsByReference(request.payoutId, { repeats: true });
    expect(atLoose.map((p) => p.executions).sort()).toEqual([0, 1]);
  });

  it("with lookupByReference=false and no held ids: creates directly, never resolves an unknown id to not_found, never creates twice", async () => {
    const c = connector({ key: "sk-nolookup", credentials: { lookupByReference: "false" }, timeoutMs: 400, hold: false });
    const ok = payout("256700123123");
    expect(await c.submit(ok)).toMatchObject({ state: "processing" });
    expect(calls.map((call) => call.operation)).toEqual(["initiate", "execute"]);

    const request = payout("256700123123");
    await emulator.injectFault({ mode: "timeout", operation: "initiate" }, "sk-nolookup");
    expect(await c.submit(request)).toMatchObject({ state: "unknown" });
    expect(await c.status({ payoutId: request.payoutId })).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/lookup by reference is disabled/) });
    // Even if something resends it, Paytota's duplicate-reference refusal is not read as a failure.
    const again = await c.submit(request);
    expect(again).toMatchObject({ state: "unknown", providerStatus: "HTTP 400" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
  });
});

describe("faults injected in the emulator", () => {
  const c = () => connector({ key: "sk-faults", timeoutMs: 300 });

  it("initiate 500 (nothing created): unknown; then not_found, and the resend creates it once", async () => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode: "500", operation: "initiate" }, "sk-faults");
    expect(await c().submit(request)).toMatchObject({ state: "unknown", providerStatus: "HTTP 500" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(0);
    expect(await c().status({ payoutId: request.payoutId })).toMatchObject({ state: "not_found" });
    expect(await c().submit({ ...request, firstAttempt: false })).toMatchObject({ state: "processing" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
  });

  it.each(["garbage", "timeout", "drop-after-accept"] as const)("initiate %s (created, answer lost): unknown; then initiated again and that one executed, the orphan never", async (mode) => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode, operation: "initiate" }, "sk-faults");
    const first = await c().submit(request);
    expect(first).toMatchObject({ state: "unknown" });
    const orphan = emulator.payoutByReference(request.payoutId)!;
    expect(orphan.status).toBe("initialized");
    expect(await c().status({ payoutId: request.payoutId })).toMatchObject({ state: "not_found" });
    const resent = await c().submit({ ...request, firstAttempt: false });
    expect(resent).toMatchObject({ state: "processing", providerReference: expect.any(String) });
    expect(resent.providerReference).not.toBe(orphan.id);
    const all = emulator.payoutsByReference(request.payoutId, { repeats: true });
    expect(all).toHaveLength(2);
    expect(all.find((p) => p.id === resent.providerReference)!.executions).toBe(1);
    expect(orphan.executions).toBe(0);
  });

  it("initiate slow (within the timeout): processing", async () => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode: "slow", operation: "initiate", delayMs: 150 }, "sk-faults");
    // Slow, but far within this connection's timeout (however busy the machine).
    expect(await connector({ key: "sk-faults", timeoutMs: 15_000 }).submit(request)).toMatchObject({ state: "processing" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
  });

  it("execute 500 (not executed): unknown WITH Paytota's id; status → not_found; the resend executes the same payout", async () => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode: "500", operation: "execute" }, "sk-faults");
    const first = await c().submit(request);
    const created = emulator.payoutByReference(request.payoutId)!;
    expect(first).toMatchObject({ state: "unknown", providerReference: created.id, providerStatus: "HTTP 500" });
    expect(created.executions).toBe(0);
    expect(await c().status({ payoutId: request.payoutId, providerReference: created.id })).toMatchObject({ state: "not_found", providerStatus: "initialized" });
    expect(await c().submit({ ...request, providerReference: created.id })).toMatchObject({ state: "processing", providerReference: created.id });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
    expect(created.executions).toBe(1);
  });

  it.each(["garbage", "timeout", "drop-after-accept"] as const)("execute %s (executed): unknown with Paytota's id; status → processing; a resend does not execute again", async (mode) => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode, operation: "execute" }, "sk-faults");
    const first = await c().submit(request);
    const created = emulator.payoutByReference(request.payoutId)!;
    expect(first).toMatchObject({ state: "unknown", providerReference: created.id });
    // The execution went through (pending, or already final by the time the client gave up).
    const executed = expect.stringMatching(/^(processing|succeeded)$/);
    expect(await c().status({ payoutId: request.payoutId, providerReference: created.id })).toMatchObject({ state: executed });
    expect(await c().submit({ ...request, providerReference: created.id })).toMatchObject({ state: executed });
    expect(created.executions).toBe(1);
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
    await waitFor(() => created.status === "success", 30_000);
    expect(await c().status({ payoutId: request.payoutId, providerReference: created.id })).toMatchObject({ state: "succeeded" });
  });

  it("execute slow (within the timeout): processing", async () => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode: "slow", operation: "execute", delayMs: 150 }, "sk-faults");
    // Slow, but far within this connection's timeout (however busy the machine).
    expect(await connector({ key: "sk-faults", timeoutMs: 15_000 }).submit(request)).toMatchObject({ state: "processing" });
  });

  it("a refused execute (already executing) reads the payout instead of failing it", async () => {
    const request = payout("256700123123");
    const first = await c().submit(request);
    const created = emulator.payout(first.providerReference!)!;
    // Someone executes it again (a race): Paytota refuses, the payout's own status is the answer.
    const response = await fetch(created.executionUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"payout_type":"mobile"}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: "error", error: { code: "invalid_status" } });
    expect(created.executions).toBe(1);
  });

  it("status 500 / garbage / timeout: unknown, then resolved by the next query", async () => {
    const request = payout("256700123123");
    const first = await c().submit(request);
    for (const mode of ["500", "garbage", "timeout"] as const) {
      await emulator.injectFault({ mode, operation: "status" }, "sk-faults");
      expect(await c().status({ payoutId: request.payoutId, providerReference: first.providerReference })).toMatchObject({ state: "unknown", providerReference: first.providerReference });
    }
    expect(await c().status({ payoutId: request.payoutId, providerReference: first.providerReference })).toMatchObject({ state: expect.stringMatching(/processing|succeeded/) });
  });

  it("a failed lookup is asked again later: unknown, never not_found on a lookup that did not answer", async () => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode: "timeout", operation: "lookup" }, "sk-faults");
    expect(await c().status({ payoutId: request.payoutId })).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/asked again/) });
    await emulator.injectFault({ mode: "500", operation: "lookup" }, "sk-faults");
    expect(await c().status({ payoutId: request.payoutId })).toMatchObject({ state: "unknown" });
    expect(await c().status({ payoutId: request.payoutId })).toMatchObject({ state: "not_found" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(0);
  });

  it("faults can be set over HTTP with the company's key", async () => {
    const response = await fetch(`${baseUrl}/_sandbox/faults`, {
      method: "POST",
      headers: { Authorization: "Bearer sk-faults", "Content-Type": "application/json" },
      body: JSON.stringify({ mode: "500", operation: "balance" }),
    });
    expect(response.status).toBe(200);
    await expect(c().balances!()).rejects.toThrow(/HTTP 500/);
    expect((await fetch(`${baseUrl}/_sandbox/faults`, { method: "POST", body: "{}" })).status).toBe(401);
  });
});

describe("refusals", () => {
  it("an unknown secret key: failed, nothing created (and nothing executed: no id was ever held)", async () => {
    const request = payout("256700123123");
    const result = await connector({ key: "sk-wrong" }).submit(request);
    expect(result).toMatchObject({ state: "failed", providerStatus: "HTTP 401" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(0);
    // Asking about it answers unknown: Paytota refused the key, it did not say it never saw the payout.
    expect(await connector({ key: "sk-wrong" }).status({ payoutId: request.payoutId })).toMatchObject({ state: "unknown", failureMessage: expect.stringMatching(/HTTP 401/) });
  });

  it("a brand the key may not pay for: failed, nothing created", async () => {
    const request = payout("256700123123");
    const result = await connector({ credentials: { brandId: randomUUID() } }).submit(request);
    expect(result).toMatchObject({ state: "failed", providerStatus: "HTTP 400", failureCode: "invalid" });
    expect(result.failureMessage).toMatch(/brand_id/);
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(0);
  });

  it("a request that breaks the rules is not sent", async () => {
    const request = payout("0700123123");
    const result = await connector().submit(request);
    expect(result).toMatchObject({ state: "failed", failureCode: "NOT_SENT" });
    expect(calls).toHaveLength(0);
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(0);
  });

  it("an existing payout is finished even if the connection's rules changed since it was created", async () => {
    const request = payout("256700123123");
    await emulator.injectFault({ mode: "500", operation: "execute" }, "sk-main");
    const first = await connector().submit(request);
    expect(first).toMatchObject({ state: "unknown", providerReference: expect.any(String) });
    // The clientEmail setting was removed meanwhile: a new payout could not be created, this one is still executed.
    const c = connector({ credentials: { clientEmail: "" } });
    expect(c.validate(request)).not.toEqual([]);
    expect(await c.submit({ ...request, providerReference: first.providerReference! })).toMatchObject({ state: "processing" });
    expect(atEmulator(emulator, request.payoutId)).toHaveLength(1);
    expect(emulator.payout(first.providerReference!)!.executions).toBe(1);
  });
});

describe("callbacks", () => {
  async function finishedCallback() {
    const request = payout("256700123123");
    await connector().submit(request);
    return waitFor(callbackFor(request.payoutId, "success"), 30_000);
  }
  const input = (callback: CallbackInput, changes: { body?: string; signature?: string | null }): CallbackInput => {
    const headers = new Headers(callback.headers);
    if (changes.signature === null) headers.delete("x-signature");
    else if (changes.signature !== undefined) headers.set("x-signature", changes.signature);
    return { ...callback, headers, rawBody: changes.body ?? callback.rawBody };
  };

  it("refuses forged, tampered and unsigned callbacks (still naming the payout, so the desk asks)", async () => {
    const callback = await finishedCallback();
    const reference = JSON.parse(callback.rawBody).reference as string;
    const forger = generateSigningKey(1024);
    const forgedBody = callback.rawBody.replace('"status":"success"', '"status":"error"');
    const cases = [
      input(callback, { body: forgedBody, signature: signBody(forgedBody, forger.privateKeyPem) }),
      input(callback, { body: forgedBody }),
      input(callback, { body: ` ${callback.rawBody}` }),
      input(callback, { signature: null }),
      input(callback, { signature: "AAAA" }),
    ];
    for (const forged of cases) {
      const parsed = await connector().parseCallback!(forged);
      expect(parsed).toMatchObject({ verified: false, payoutId: reference });
    }
    const notJson = await connector().parseCallback!(input(callback, { body: "nope", signature: signBody("nope", forger.privateKeyPem) }));
    expect(notJson.verified).toBe(false);
  });

  it("a replayed callback verifies with the same dedupeKey; Paytota documents no timestamp window, so age is not checked", async () => {
    const callback = await finishedCallback();
    const first = await connector().parseCallback!(callback);
    clock = () => new Date(Date.now() + 30 * 24 * 3600_000); // a month later
    const replay = await connector().parseCallback!(input(callback, {}));
    expect(first.verified && replay.verified).toBe(true);
    if (first.verified && replay.verified) expect(replay.dedupeKey).toBe(first.dedupeKey);
  });

  it("refreshes the public key once after a rotation, and not again for every forged callback", async () => {
    clearPaytotaKeyCache();
    const before = await finishedCallback();
    expect((await connector().parseCallback!(before)).verified).toBe(true);
    emulator.rotateSigningKey();
    const after = await finishedCallback();
    // Within the rate limit the cached (old) key is all there is.
    expect((await connector().parseCallback!(after)).verified).toBe(false);
    const t0 = Date.now();
    clock = () => new Date(t0 + KEY_REFRESH_MIN_INTERVAL_MS + 1000);
    calls = [];
    expect((await connector().parseCallback!(after)).verified).toBe(true);
    expect(calls.filter((c) => c.operation === "publicKey")).toHaveLength(1);
    // A forged callback right after does not fetch again.
    calls = [];
    expect((await connector().parseCallback!(input(after, { signature: "AAAA" }))).verified).toBe(false);
    expect(calls.filter((c) => c.operation === "publicKey")).toHaveLength(0);
  });

  it("accepts a webhook key configured on the connection", async () => {
    clearPaytotaKeyCache();
    const callback = await finishedCallback();
    const c = connector({ credentials: { webhookPublicKeyPem: emulator.publicKeyPem() } });
    expect((await c.parseCallback!(callback)).verified).toBe(true);
    expect(calls.filter((call) => call.operation === "publicKey")).toHaveLength(0);
  });
});

describe("balances", () => {
  it("reads available_balance and the payout wallet as bigint minor units, and moves with payouts", async () => {
    const c = connector({ key: "sk-balance" });
    const before = await c.balances!();
    expect(before).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ currency: "UGX", amountMinor: 50_000_000n, label: "available" }),
        expect.objectContaining({ currency: "UGX", amountMinor: 50_000_000n, label: "payout wallet" }),
        expect.objectContaining({ currency: "KES", amountMinor: 100_000_000n, label: "available" }),
      ]),
    );
    await c.submit(payout("254712345678", { currency: "KES", amountMinor: 1250n, recipient: { phone: "254712345678", country: "KE" } }));
    const after = await c.balances!();
    // The emulator takes its fee on top of the amount: 15.00 KES + 1% of 12.50 (0.125, rounded half up) = 15.13 KES.
    expect(payoutFee(1250n, "KES")).toBe(1513n);
    expect(after.find((b) => b.currency === "KES" && b.label === "available")!.amountMinor).toBe(100_000_000n - 1250n - 1513n);
    expect(await c.testConnection!()).toMatchObject({ ok: true });
    expect(await connector({ key: "sk-wrong" }).testConnection!()).toMatchObject({ ok: false, message: expect.stringMatching(/HTTP 401/) });
  });

  it("reads major-unit answers exactly when amountUnits=major", async () => {
    const c = connector({ url: `${majorServer.url}/api/sandbox/paytota`, credentials: { amountUnits: "major" } });
    await c.submit(payout("254712345678", { currency: "KES", amountMinor: 1255n, recipient: { phone: "254712345678", country: "KE" } }));
    const response = await fetch(`${majorServer.url}/api/sandbox/paytota/api/v1/account/json/balance/`, { headers: { Authorization: "Bearer sk-main" } });
    // 12.55 KES and its fee of 15.13 KES (15.00 + 0.1255 rounded half up), written in major units.
    expect(await response.text()).toContain('"available_balance":999972.32');
    const balances = await c.balances!();
    expect(balances.find((b) => b.currency === "KES" && b.label === "available")!.amountMinor).toBe(100_000_000n - 1255n - 1513n);
  });
});

describe("statements", () => {
  it("requests a CSV statement, polls it to success and downloads it without the secret key", async () => {
    const c = connector({ key: "sk-statements" });
    const request = payout("256700123123");
    const submitted = await c.submit(request);
    const from = new Date(Date.now() - 3600_000);
    const requested = await c.statements!.request({ format: "csv", from, to: new Date(Date.now() + 3600_000) });
    expect(requested).toMatchObject({ state: "pending" });
    const body = JSON.parse(seen.filter((s) => s.url.endsWith("/api/v1/company_statements/")).at(-1)!.body);
    expect(body).toEqual({ format: "csv", timezone: "UTC", from: Math.floor(from.getTime() / 1000), to: expect.any(Number) });

    let status = await c.statements!.status(requested.id);
    for (let i = 0; status.state === "pending" && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = await c.statements!.status(requested.id);
    }
    expect(status.state).toBe("ready");
    expect(status.downloadUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/sandbox\/paytota\/_sandbox\/statements\//);
    const file = await c.statements!.download(status);
    expect(file.contentType).toMatch(/text\/csv/);
    const csv = new TextDecoder().decode(file.body);
    expect(csv.split("\r\n")[0]).toBe("id,reference,created_on,updated_on,status,currency,amount,fee_amount,phone,description");
    expect(csv).toContain(`${submitted.providerReference},${request.payoutId}`);
    expect(seen.find((s) => s.url.includes("/_sandbox/statements/"))!.headers.get("authorization")).toBeNull();
  });
});

describe("validate", () => {
  const issues = (request: PayoutRequest, credentials?: Record<string, string>) => connector({ credentials }).validate(request);

  it("accepts a well-formed payout", () => {
    expect(issues(payout("256700123123"))).toEqual([]);
    expect(issues(payout("254712345678", { currency: "KES", recipient: { phone: "254712345678" } }))).toEqual([]);
  });

  it("names the field and the rule", () => {
    expect(issues(payout("256700123123", { amountMinor: 0n }))).toEqual([{ field: "amount", message: "The amount must be more than zero" }]);
    expect(issues(payout("256700123123", { currency: "EUR" }))[0]).toMatchObject({ field: "currency", message: expect.stringMatching(/UGX, KES/) });
    expect(issues(payout("256700123123", { currency: "XYZ" }))[0]).toMatchObject({ field: "currency" });
    expect(issues(payout("+256700123123"))[0]).toMatchObject({ field: "recipientPhone", message: expect.stringMatching(/digits only/) });
    expect(issues(payout("0700123123"))[0]).toMatchObject({ field: "recipientPhone" });
    expect(issues(payout("", { recipient: { phone: null } }))[0]).toMatchObject({ field: "recipientPhone" });
    expect(issues(payout("256700123123", { recipient: { phone: "256700123123", country: "KE" } }))[0]).toMatchObject({
      field: "recipientPhone",
      message: "This is a UG number, but the recipient's country is KE",
    });
    expect(issues(payout("999700123123", { recipient: { phone: "999700123123" } }))[0]).toMatchObject({ field: "recipientPhone", message: expect.stringMatching(/country/) });
    expect(issues(payout("256700123123", { description: "  " }))).toEqual([{ field: "description", message: "Paytota requires a payment description" }]);
    expect(issues(payout("256700123123", { description: "x".repeat(256) }))[0]).toMatchObject({ field: "description", message: expect.stringMatching(/at most 255/) });
  });

  it("needs a client email: the recipient's, or the connection's clientEmail", () => {
    expect(issues(payout("256700123123"), { clientEmail: "" })).toEqual([{ field: "email", message: expect.stringMatching(/client email/) }]);
    expect(issues(payout("256700123123", { recipient: { phone: "256700123123", details: { email: "jane@example.com" } } }), { clientEmail: "" })).toEqual([]);
    expect(issues(payout("256700123123", { recipient: { phone: "256700123123", details: { email: "jane" } } }))[0]).toMatchObject({ field: "email" });
  });

  it("flags missing credentials", () => {
    expect(issues(payout("256700123123"), { secretKey: "" })[0]).toMatchObject({ field: "channel", message: expect.stringMatching(/secretKey and brandId/) });
  });
});
