// The pawaPay connector against the built-in emulator, over real HTTP:
// signed payouts, the sandbox's magic numbers, signed callbacks received by
// a local receiver, duplicates, refusals and injected transport faults.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createPawapayEmulator, type PawapayEmulator, type PawapayEmulatorAccount } from "@/server/sandbox/pawapay";
import type { CallbackInput, ConnectionConfig, PayoutRequest, ProviderCallRecord } from "../types";
import { clearPawapayKeyCache, createPawapayConnector, KEY_REFRESH_MIN_INTERVAL_MS, pawapayConnectorFactory, PUBLIC_KEYS_TTL_MS } from "./index";
import {
  contentDigest,
  generatePawapaySigningKey,
  importPublicKey,
  PAWAPAY_CALLBACK_COMPONENTS,
  signMessage,
  SIGNATURE_ALGORITHMS,
  verifyMessageSignature,
  type SignatureAlgorithm,
} from "./http-signature";
import { waitFor } from "@/server/testing/wait";

const SEED_BODY =
  '{"payoutId":"f4401bd2-1568-4140-bf2d-eb77d2b2b639","amount":"15","currency":"ZMW","correspondent":"MTN_MOMO_ZMB",' +
  '"recipient":{"type":"MSISDN","address":{"value":"260763456789"}},"customerTimestamp":"2020-02-21T17:32:28Z",' +
  '"statementDescription":"Note of 4 to 22 chars"}';
const SEED_DIGEST = "sha-512=:ZULO+PyoV12wIltJ5qsv6WloMrbfETtczyhtZKVt00P/VmwSX/gi0cGlWGddMfP5W+5MS9C/NPNnmC3r3DK+ng==:";

const deskKeys = Object.fromEntries(SIGNATURE_ALGORITHMS.map((alg) => [alg, generatePawapaySigningKey(alg)])) as Record<
  SignatureAlgorithm,
  { privateKeyPem: string; publicKeyPem: string }
>;

let emulator: PawapayEmulator;
let emulatorServer: ServedHandler;
let receiverServer: ServedHandler;
let baseUrl: string;
const accounts = new Map<string, PawapayEmulatorAccount>();
const received: CallbackInput[] = [];
let calls: ProviderCallRecord[] = [];

beforeAll(async () => {
  receiverServer = await serveWebHandler(async (request) => {
    received.push({ headers: request.headers, rawBody: await request.text(), url: request.url, method: request.method });
    return Response.json({ status: "ok" });
  });
  const callbackUrl = `${receiverServer.url}/api/webhooks/conn-1`;
  accounts.set("tok-signed", {
    merchantId: "merchant-signed",
    callbackUrl,
    publicKeys: Object.fromEntries(SIGNATURE_ALGORITHMS.map((alg) => [`desk-${alg}`, deskKeys[alg].publicKeyPem])),
    requireSignature: true,
  });
  accounts.set("tok-open", { merchantId: "merchant-open", callbackUrl, publicKeys: {} });
  accounts.set("tok-balance", { merchantId: "merchant-balance", callbackUrl, publicKeys: {} });
  emulator = createPawapayEmulator({
    basePath: "/api/sandbox/pawapay",
    accounts: async (token) => accounts.get(token) ?? null,
    callbackDelayMs: 80,
    callbackRetryDelaysMs: [50, 100],
  });
  emulatorServer = await serveWebHandler(emulator.handle);
  baseUrl = `${emulatorServer.url}/api/sandbox/pawapay`;
});

afterAll(async () => {
  emulator.close();
  await emulatorServer.close();
  await receiverServer.close();
});

beforeEach(() => {
  calls = [];
  // pawaPay's keys are cached per process: each test starts without them, so its count of key fetches is its own.
  clearPawapayKeyCache();
});

function connector(options: { token?: string; alg?: SignatureAlgorithm | null; credentials?: Record<string, string>; timeoutMs?: number; url?: string } = {}) {
  const alg = options.alg === undefined ? "ecdsa-p256-sha256" : options.alg;
  const credentials: Record<string, string> = { apiToken: options.token ?? "tok-signed", ...(alg ? signingCredentials(alg) : {}), ...options.credentials };
  const config: ConnectionConfig = {
    id: "conn-1",
    provider: "pawapay",
    name: "pawaPay sandbox",
    environment: "sandbox",
    baseUrl: options.url ?? baseUrl,
    credentials,
    callbackUrl: `${receiverServer.url}/api/webhooks/conn-1`,
  };
  return createPawapayConnector(config, { onCall: (call) => void calls.push(call), timeoutMs: options.timeoutMs ?? 5000 });
}

function signingCredentials(alg: SignatureAlgorithm) {
  return { signingKeyPem: deskKeys[alg].privateKeyPem, signingKeyId: `desk-${alg}`, signingAlgorithm: alg };
}

function payout(phone: string, overrides: Partial<PayoutRequest> = {}): PayoutRequest {
  return {
    payoutId: randomUUID(),
    amountMinor: 1500n,
    currency: "ZMW",
    recipient: { phone, country: "ZM" },
    channel: null,
    description: "Desk payout",
    createdAt: new Date(),
    ...overrides,
  };
}

const callbackFor = (payoutId: string) => () => received.find((c) => c.rawBody.includes(payoutId));

describe("the request on the wire", () => {
  it("sends the seed example as the exact 268-byte body with PROVIDERS.md's digest, signed", async () => {
    let captured: { headers: Headers; body: string; url: string } | undefined;
    const capture = await serveWebHandler(async (request) => {
      captured = { headers: request.headers, body: await request.text(), url: request.url };
      return Response.json({ payoutId: "f4401bd2-1568-4140-bf2d-eb77d2b2b639", status: "ACCEPTED", created: "2020-02-21T17:32:29Z" });
    });
    try {
      const result = await connector({ url: capture.url }).submit({
        payoutId: "f4401bd2-1568-4140-bf2d-eb77d2b2b639",
        amountMinor: 1500n,
        currency: "ZMW",
        recipient: { phone: "260763456789", country: "ZM" },
        channel: "MTN_MOMO_ZMB",
        description: "Note of 4 to 22 chars",
        createdAt: new Date("2020-02-21T17:32:28.000Z"),
      });
      expect(result).toMatchObject({ state: "processing", providerStatus: "ACCEPTED" });
      expect(captured!.body).toBe(SEED_BODY);
      expect(captured!.headers.get("content-digest")).toBe(SEED_DIGEST);
      expect(captured!.headers.get("content-length")).toBe("268");
      expect(captured!.headers.get("content-type")).toBe("application/json");
      expect(captured!.headers.get("authorization")).toBe("Bearer tok-signed");
      expect(captured!.headers.get("signature-input")).toMatch(
        /^sig-pp=\("@method" "@authority" "@path" "signature-date" "content-digest" "content-type" "content-length"\);keyid="desk-ecdsa-p256-sha256";alg="ecdsa-p256-sha256";created=(\d+);expires=(\d+)$/,
      );
      const [, created, expires] = /created=(\d+);expires=(\d+)/.exec(captured!.headers.get("signature-input")!)!;
      expect(Number(expires) - Number(created)).toBe(300);
      expect(captured!.headers.get("signature-date")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const verified = await verifyMessageSignature(
        { method: "POST", url: captured!.url, headers: captured!.headers },
        { keyLookup: () => importPublicKey(deskKeys["ecdsa-p256-sha256"].publicKeyPem), requiredComponents: ["content-digest"] },
      );
      expect(verified.ok).toBe(true);
      // The timeline record keeps the body and signature headers, never the token.
      const record = calls.find((c) => c.operation === "submit")!;
      expect(JSON.stringify(record)).not.toContain("tok-signed");
      expect(record).toMatchObject({ method: "POST", httpStatus: 200, payoutId: "f4401bd2-1568-4140-bf2d-eb77d2b2b639" });
      expect(record.latencyMs).toBeGreaterThanOrEqual(0);
    } finally {
      await capture.close();
    }
  });

  it("is the registered factory and describes itself", () => {
    expect(pawapayConnectorFactory).toBe(createPawapayConnector);
    const c = connector();
    expect(c.capabilities).toEqual({ statusQuery: true, callbacks: "signed", balances: true, statements: false });
    expect(c.channels().map((ch) => ch.code)).toEqual(expect.arrayContaining(["MTN_MOMO_ZMB", "AIRTEL_OAPI_ZMB", "ZAMTEL_ZMB", "MTN_MOMO_UGA"]));
    expect(c.channels().find((ch) => ch.code === "ZAMTEL_ZMB")).toEqual({ code: "ZAMTEL_ZMB", label: expect.any(String), country: "ZM", currency: "ZMW" });
  });
});

describe("payouts through the emulator", () => {
  it("260763456789: processing, then a signed callback that verifies as succeeded", async () => {
    const c = connector();
    const request = payout("260763456789");
    expect(await c.submit(request)).toMatchObject({ state: "processing", providerStatus: "ACCEPTED" });

    const callback = await waitFor(callbackFor(request.payoutId));
    expect(callback.headers.get("signature-input")).toContain('sig-pp=("@method" "@authority" "@path" "signature-date" "content-digest" "content-type")');
    const parsed = await c.parseCallback!(callback);
    expect(parsed).toMatchObject({
      verified: true,
      payoutId: request.payoutId,
      dedupeKey: `${request.payoutId}:COMPLETED`,
      result: { state: "succeeded", providerStatus: "COMPLETED" },
    });
    expect(await c.status(request)).toMatchObject({ state: "succeeded", providerStatus: "COMPLETED" });
    // Keys were fetched once and cached.
    await c.parseCallback!(callback);
    expect(calls.filter((call) => call.operation === "publicKeys")).toHaveLength(1);
  });

  it("260763456079: fails with RECIPIENT_NOT_FOUND (status and callback agree)", async () => {
    const c = connector();
    const request = payout("260763456079");
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
    const callback = await waitFor(callbackFor(request.payoutId));
    expect(await c.parseCallback!(callback)).toMatchObject({ verified: true, result: { state: "failed", failureCode: "RECIPIENT_NOT_FOUND" } });
    expect(await c.status(request)).toMatchObject({ state: "failed", providerStatus: "FAILED", failureCode: "RECIPIENT_NOT_FOUND", failureMessage: expect.any(String) });
  });

  it("Airtel 260973456119: fails with OTHER_ERROR, the network predicted from the prefix", async () => {
    const c = connector();
    const request = payout("260973456119");
    await c.submit(request);
    expect(emulator.payout(request.payoutId)?.correspondent).toBe("AIRTEL_OAPI_ZMB");
    await waitFor(callbackFor(request.payoutId));
    expect(await c.status(request)).toMatchObject({ state: "failed", failureCode: "OTHER_ERROR" });
  });

  it("260763456129: stays SUBMITTED, processing, with no callback", async () => {
    const c = connector();
    const request = payout("260763456129");
    await c.submit(request);
    await emulator.idle();
    expect(await c.status(request)).toMatchObject({ state: "processing", providerStatus: "SUBMITTED" });
    expect(received.find((r) => r.rawBody.includes(request.payoutId))).toBeUndefined();
  });

  it("an unknown payoutId is not_found", async () => {
    expect(await connector().status({ payoutId: randomUUID() })).toMatchObject({ state: "not_found" });
  });

  it("a resend of the same payoutId is DUPLICATE_IGNORED, resolved by status, and creates nothing", async () => {
    const c = connector();
    const request = payout("260763456789");
    await c.submit(request);
    await waitFor(callbackFor(request.payoutId));
    const again = await c.submit(request);
    expect(again).toMatchObject({ state: "succeeded", providerStatus: "COMPLETED" });
    expect(calls.map((call) => call.operation)).toEqual(["submit", "submit", "status"]);
    expect(emulator.payouts().filter((p) => p.payoutId === request.payoutId)).toHaveLength(1);
  });

  for (const alg of SIGNATURE_ALGORITHMS) {
    it(`is accepted when signed with ${alg}`, async () => {
      expect(await connector({ alg }).submit(payout("260763456789"))).toMatchObject({ state: "processing" });
    });
  }

  it("is accepted with raw r‖s ECDSA signatures and sha-256 digests too", async () => {
    const c = connector({ credentials: { ecdsaSignatureFormat: "raw", contentDigestAlgorithm: "sha-256" } });
    expect(await c.submit(payout("260763456789"))).toMatchObject({ state: "processing" });
  });

  it("works unsigned with an account that does not require signatures", async () => {
    expect(await connector({ token: "tok-open", alg: null }).submit(payout("260763456789"))).toMatchObject({ state: "processing" });
  });
});

describe("refusals", () => {
  it("maps a REJECTED initiation to failed with pawaPay's rejectionCode", async () => {
    const c = connector();
    const result = await c.submit(payout("260763456789", { amountMinor: 6_000_000n })); // 60,000 ZMW: above the MMO maximum
    expect(result).toMatchObject({ state: "failed", providerStatus: "REJECTED", failureCode: "AMOUNT_TOO_LARGE", failureMessage: expect.stringContaining("maximum") });
  });

  it("maps the emulator's INVALID_AMOUNT and INVALID_RECIPIENT_FORMAT when the desk's table is more lenient", async () => {
    // A connection whose table wrongly claims 3 decimals for UGX would never pass money.ts;
    // instead, pretend MTN Zambia numbers have 13 digits and send one.
    const lenient = connector({ credentials: { correspondents: '[{"code":"MTN_MOMO_ZMB","msisdnLength":13}]' } });
    expect(await lenient.submit(payout("2607634567890"))).toMatchObject({ state: "failed", failureCode: "INVALID_RECIPIENT_FORMAT" });
    const sloppy = connector({ credentials: { correspondents: '[{"code":"MPESA_KEN","decimals":2}]' } });
    const kes = payout("254712345678", { currency: "KES", amountMinor: 10055n, recipient: { phone: "254712345678", country: "KE" } });
    // KES has 2 decimals in ISO 4217 but M-Pesa takes whole shillings: the emulator refuses 100.55.
    expect(await sloppy.submit(kes)).toMatchObject({ state: "failed", failureCode: "INVALID_AMOUNT" });
  });

  it("an unsigned payout to an account that requires signatures: 403, failed, nothing created", async () => {
    const request = payout("260763456789");
    const result = await connector({ alg: null }).submit(request);
    expect(result).toMatchObject({ state: "failed", providerStatus: "HTTP 403", failureCode: "HTTP_SIGNATURE_ERROR" });
    expect(result.failureMessage).toMatch(/nothing was created/);
    expect(calls.map((call) => [call.operation, call.httpStatus])).toEqual([
      ["submit", 403],
      ["status", 200],
    ]);
    expect(emulator.payout(request.payoutId)).toBeUndefined();
  });

  it("a payout signed with a key pawaPay does not know: 403, failed", async () => {
    const stranger = generatePawapaySigningKey("ecdsa-p256-sha256");
    const c = connector({ credentials: { signingKeyPem: stranger.privateKeyPem } });
    const request = payout("260763456789");
    expect(await c.submit(request)).toMatchObject({ state: "failed", failureCode: "HTTP_SIGNATURE_ERROR" });
    expect(emulator.payout(request.payoutId)).toBeUndefined();
  });

  it("a bad API token: 401, failed without a status query", async () => {
    const result = await connector({ token: "nope" }).submit(payout("260763456789"));
    expect(result).toMatchObject({ state: "failed", providerStatus: "HTTP 401" });
    expect(calls.map((call) => call.operation)).toEqual(["submit"]);
  });
});

describe("validate", () => {
  const c = () => connector();
  const fields = (request: PayoutRequest) => c().validate(request).map((issue) => issue.field);

  it("accepts a good payout", () => {
    expect(c().validate(payout("260763456789"))).toEqual([]);
    expect(c().validate(payout("260953456789", { channel: "ZAMTEL_ZMB" }))).toEqual([]);
  });

  it("names the field and the rule", () => {
    expect(fields(payout("0763456789"))).toContain("recipientPhone");
    expect(fields(payout("26076345678"))).toContain("recipientPhone"); // 11 digits
    expect(fields(payout("+260763456789"))).toContain("recipientPhone");
    expect(fields(payout("260713456789"))).toEqual(["channel"]); // no network owns 26071
    expect(fields(payout("260763456789", { channel: "MTN_MOMO_XXX" }))).toContain("channel");
    expect(fields(payout("260763456789", { currency: "USD", amountMinor: 100n }))).toContain("currency");
    expect(fields(payout("260763456789", { amountMinor: 0n }))).toContain("amount");
    expect(fields(payout("260763456789", { description: "abc" }))).toEqual(["description"]);
    expect(fields(payout("260763456789", { description: "Salary: March!" }))).toEqual(["description"]);
    expect(fields(payout("260763456789", { description: "Twenty three characters" }))).toEqual(["description"]);
    const message = c().validate(payout("260763456789", { description: "Twenty three characters" }))[0]!.message;
    expect(message).toMatch(/4 to 22 characters/);
  });

  it("refuses more decimals than the network takes, and says so before sending", async () => {
    const strict = connector({ credentials: { correspondents: '[{"code":"MTN_MOMO_ZMB","decimals":1}]' } });
    const request = payout("260763456789", { amountMinor: 1055n });
    expect(strict.validate(request)).toEqual([{ field: "amount", message: expect.stringMatching(/at most 1 decimal place/) }]);
    expect(strict.validate(payout("260763456789", { amountMinor: 1050n }))).toEqual([]);
    expect(await strict.submit(request)).toMatchObject({ state: "failed", failureCode: "NOT_SENT" });
    expect(calls).toHaveLength(0);
  });

  it("sends the shortest decimal string", async () => {
    const request = payout("260763456789", { amountMinor: 1550n });
    await connector().submit(request);
    expect(emulator.payout(request.payoutId)?.amount).toBe("15.5");
  });
});

describe("callbacks", () => {
  async function realCallback() {
    const request = payout("260763456789");
    await connector().submit(request);
    return waitFor(callbackFor(request.payoutId));
  }

  it("refuses a tampered body", async () => {
    const callback = await realCallback();
    const forged = { ...callback, rawBody: callback.rawBody.replace("COMPLETED", "FAILED") };
    expect(await connector().parseCallback!(forged)).toMatchObject({ verified: false, reason: expect.stringMatching(/Content-Digest/) });
  });

  it("refuses a callback re-signed with another key under pawaPay's keyid", async () => {
    const callback = await realCallback();
    const keyId = /keyid="([^"]+)"/.exec(callback.headers.get("signature-input")!)![1]!;
    const attacker = generatePawapaySigningKey("ecdsa-p256-sha256");
    const body = callback.rawBody.replace("COMPLETED", "FAILED");
    const headers = new Headers({ "Content-Type": "application/json", "Content-Digest": contentDigest(body), "Signature-Date": new Date().toISOString(), host: new URL(callback.url).host });
    const signed = signMessage({ method: "POST", url: callback.url, headers }, { privateKey: attacker.privateKeyPem, keyId, alg: "ecdsa-p256-sha256", components: PAWAPAY_CALLBACK_COMPONENTS });
    headers.set("Signature-Input", signed["Signature-Input"]);
    headers.set("Signature", signed.Signature);
    const result = await connector().parseCallback!({ ...callback, headers, rawBody: body });
    expect(result).toMatchObject({ verified: false, payoutId: JSON.parse(body).payoutId });
  });

  it("refuses an unknown keyid without asking pawaPay for keys more than once", async () => {
    const callback = await realCallback();
    const c = connector();
    expect(await c.parseCallback!(callback)).toMatchObject({ verified: true });
    const headers = new Headers(callback.headers);
    headers.set("Signature-Input", callback.headers.get("signature-input")!.replace(/keyid="[^"]+"/, 'keyid="rotated-key"'));
    expect(await c.parseCallback!({ ...callback, headers })).toMatchObject({ verified: false, reason: expect.stringMatching(/Unknown signing key/) });
    expect(await c.parseCallback!({ ...callback, headers })).toMatchObject({ verified: false });
    expect(calls.filter((call) => call.operation === "publicKeys")).toHaveLength(1);
  });

  it("takes an unsigned callback only as a hint to ask pawaPay, unless the connection trusts them", async () => {
    const callback = await realCallback();
    const headers = new Headers({ "content-type": "application/json" });
    const unsigned = { ...callback, headers };
    expect(await connector().parseCallback!(unsigned)).toMatchObject({
      verified: false,
      hint: true,
      payoutId: JSON.parse(callback.rawBody).payoutId,
      reason: expect.stringMatching(/not signed/),
    });
    expect(await connector({ credentials: { requireSignedCallbacks: "false" } }).parseCallback!(unsigned)).toMatchObject({
      verified: true,
      result: { state: "succeeded" },
    });
  });

  it("refuses a callback replayed after its signature expired, or older than a configured maximum age", async () => {
    const callback = await realCallback();
    const config = (credentials: Record<string, string>, offsetMs: number) =>
      createPawapayConnector(
        { id: "conn-1", provider: "pawapay", name: "x", environment: "sandbox", baseUrl, credentials: { apiToken: "tok-signed", ...credentials }, callbackUrl: "" },
        { now: () => new Date(Date.now() + offsetMs) },
      );
    expect(await config({}, 3600_000).parseCallback!(callback)).toMatchObject({ verified: false, reason: expect.stringMatching(/expired/) });
    expect(await config({}, 120_000).parseCallback!(callback)).toMatchObject({ verified: true });
    expect(await config({ callbackMaxAgeSeconds: "30" }, 120_000).parseCallback!(callback)).toMatchObject({ verified: false, reason: expect.stringMatching(/older/) });
  });

  it("keeps pawaPay's keys for the process: a new connector per callback fetches them once", async () => {
    const callback = await realCallback();
    for (let i = 0; i < 3; i++) expect(await connector().parseCallback!(callback)).toMatchObject({ verified: true });
    expect(calls.filter((call) => call.operation === "publicKeys")).toHaveLength(1);
    // Another pawaPay account (another token) has its own keys.
    await connector({ token: "tok-open", alg: null }).parseCallback!(callback);
    expect(calls.filter((call) => call.operation === "publicKeys")).toHaveLength(2);
  });

  it("fetches keys for unknown keyids at most once a minute, and again when an hour old", async () => {
    const callback = await realCallback();
    let clock = Date.now();
    // A wide clock tolerance, so the same genuine callback still verifies an hour on: this test is about key fetches.
    const c = () =>
      createPawapayConnector(
        { id: "conn-1", provider: "pawapay", name: "x", environment: "sandbox", baseUrl, credentials: { apiToken: "tok-signed", callbackClockSkewSeconds: "7200" }, callbackUrl: "" },
        { now: () => new Date(clock), onCall: (call) => void calls.push(call) },
      );
    const headers = new Headers(callback.headers);
    headers.set("Signature-Input", callback.headers.get("signature-input")!.replace(/keyid="[^"]+"/, 'keyid="forged-key"'));
    const forged = { ...callback, headers };
    const fetches = () => calls.filter((call) => call.operation === "publicKeys").length;

    for (let i = 0; i < 5; i++) expect(await c().parseCallback!(forged)).toMatchObject({ verified: false });
    expect(fetches()).toBe(1); // the first fetch ever; the other four waited
    expect(await c().parseCallback!(callback)).toMatchObject({ verified: true });
    expect(fetches()).toBe(1);

    clock += KEY_REFRESH_MIN_INTERVAL_MS + 1000;
    for (let i = 0; i < 3; i++) await c().parseCallback!(forged);
    expect(fetches()).toBe(2);
    clock += KEY_REFRESH_MIN_INTERVAL_MS / 2;
    await c().parseCallback!(forged);
    expect(fetches()).toBe(2);

    clock += PUBLIC_KEYS_TTL_MS;
    expect(await c().parseCallback!(callback)).toMatchObject({ verified: true });
    expect(fetches()).toBe(3);
    expect(await c().parseCallback!(callback)).toMatchObject({ verified: true });
    expect(fetches()).toBe(3);
  });

  it("stops trusting keys it could not refresh for an hour", async () => {
    const callback = await realCallback();
    let clock = Date.now();
    let url = baseUrl;
    const c = () =>
      createPawapayConnector(
        { id: "conn-1", provider: "pawapay", name: "x", environment: "sandbox", baseUrl, credentials: { apiToken: "tok-signed", callbackClockSkewSeconds: "7200" }, callbackUrl: "" },
        { now: () => new Date(clock), onCall: (call) => void calls.push(call), fetch: (input, init) => fetch(String(input).replace(baseUrl, url), init) },
      );
    expect(await c().parseCallback!(callback)).toMatchObject({ verified: true });
    const closed = await serveWebHandler(async () => new Response(""));
    await closed.close();
    url = `${closed.url}/api/sandbox/pawapay`; // pawaPay's key list cannot be read any more
    clock += PUBLIC_KEYS_TTL_MS + 1000;
    expect(await c().parseCallback!(callback)).toMatchObject({ verified: false });
    url = baseUrl;
    clock += KEY_REFRESH_MIN_INTERVAL_MS;
    expect(await c().parseCallback!(callback)).toMatchObject({ verified: true });
  });

  it("refuses garbage", async () => {
    const result = await connector().parseCallback!({ headers: new Headers(), rawBody: "not json", url: "http://x/", method: "POST" });
    expect(result).toMatchObject({ verified: false });
  });
});

describe("transport faults are unknown, never failed", () => {
  it("timeout: unknown, and the status query then finds the payout", async () => {
    await emulator.injectFault({ mode: "timeout" }, "tok-signed");
    const c = connector({ timeoutMs: 300 });
    const request = payout("260763456789");
    const result = await c.submit(request);
    expect(result).toMatchObject({ state: "unknown" });
    expect(result.failureMessage).toMatch(/timed out/);
    expect(calls[0]).toMatchObject({ operation: "submit", error: expect.stringMatching(/timed out/) });
    // pawaPay acted on it although we never heard: the status query resolves it.
    expect(["processing", "succeeded"]).toContain((await c.status(request)).state);
  });

  it("500: unknown, and the status query says pawaPay never saw it", async () => {
    await emulator.injectFault({ mode: "500" }, "tok-signed");
    const c = connector();
    const request = payout("260763456789");
    expect(await c.submit(request)).toMatchObject({ state: "unknown", providerStatus: "HTTP 500" });
    expect(await c.status(request)).toMatchObject({ state: "not_found" });
    // …so the desk resends with the same id, and this time it goes through.
    expect(await c.submit(request)).toMatchObject({ state: "processing" });
  });

  it("garbage and a dropped connection after acceptance: unknown", async () => {
    const c = connector();
    await emulator.injectFault({ mode: "garbage" }, "tok-signed");
    expect(await c.submit(payout("260763456789"))).toMatchObject({ state: "unknown" });
    await emulator.injectFault({ mode: "drop-after-accept" }, "tok-signed");
    const dropped = payout("260763456789");
    expect(await c.submit(dropped)).toMatchObject({ state: "unknown" });
    expect(emulator.payout(dropped.payoutId)).toBeDefined();
  });

  it("a status query that times out or gets a 500 is unknown", async () => {
    await emulator.injectFault({ mode: "500", operation: "status" }, "tok-signed");
    expect(await connector().status({ payoutId: randomUUID() })).toMatchObject({ state: "unknown" });
  });

  it("nobody listening: unknown", async () => {
    const closed = await serveWebHandler(async () => new Response(""));
    await closed.close();
    expect(await connector({ url: closed.url }).submit(payout("260763456789"))).toMatchObject({ state: "unknown" });
  });
});

describe("balances", () => {
  it("reads the wallet in minor units, debited by the payouts made", async () => {
    const c = connector({ token: "tok-balance", alg: null });
    const before = (await c.balances!()).find((b) => b.currency === "ZMW")!;
    expect(before).toMatchObject({ currency: "ZMW", amountMinor: 100_000_000n, label: "ZMB" });
    const request = payout("260763456789", { amountMinor: 12_345n });
    await c.submit(request);
    await waitFor(callbackFor(request.payoutId));
    const after = (await c.balances!()).find((b) => b.currency === "ZMW")!;
    expect(after.amountMinor).toBe(100_000_000n - 12_345n);
    expect(after.raw).toMatchObject({ balance: "999876.55" });
  });
});
