// The pawaPay emulator spoken to over real HTTP with plain fetch, the way a
// merchant integration (not our connector) would: every documented rule,
// signatures, the lifecycle, callbacks and fault injection.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  contentDigest,
  generatePawapaySigningKey,
  importPublicKey,
  signMessage,
  verifyContentDigest,
  verifyMessageSignature,
} from "@/server/connectors/pawapay/http-signature";
import { serveWebHandler, type ServedHandler } from "../http";
import { createPawapayEmulator, type PawapayEmulator, type PawapayEmulatorAccount } from "./index";
import { waitFor } from "@/server/testing/wait";

const BASE_PATH = "/api/sandbox/pawapay";
const merchantKey = generatePawapaySigningKey("ecdsa-p256-sha256");

let emulator: PawapayEmulator;
let server: ServedHandler;
let receiver: ServedHandler;
let api: string;
const accounts = new Map<string, PawapayEmulatorAccount>();
const callbacks: Array<{ headers: Headers; body: string; url: string }> = [];
/** payoutId → how many of its callback deliveries the receiver still refuses. */
const refuseCallbacks = new Map<string, number>();

beforeAll(async () => {
  receiver = await serveWebHandler(async (request) => {
    const body = await request.text();
    const payoutId = (() => {
      try {
        return JSON.parse(body).payoutId as string;
      } catch {
        return "";
      }
    })();
    const refusals = refuseCallbacks.get(payoutId) ?? 0;
    if (refusals > 0) {
      refuseCallbacks.set(payoutId, refusals - 1);
      return new Response("busy", { status: 503 });
    }
    callbacks.push({ headers: request.headers, body, url: request.url });
    return new Response(null, { status: 204 });
  });
  const callbackUrl = `${receiver.url}/hooks/pawapay`;
  accounts.set("open", { merchantId: "m-open", callbackUrl, publicKeys: {} });
  accounts.set("signed", { merchantId: "m-signed", callbackUrl, publicKeys: { "merchant-key": merchantKey.publicKeyPem } });
  accounts.set("quiet", { merchantId: "m-quiet", publicKeys: {} });
  emulator = createPawapayEmulator({
    basePath: BASE_PATH,
    accounts: async (token) => accounts.get(token) ?? null,
    callbackDelayMs: 60,
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

function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    payoutId: randomUUID(),
    amount: "15",
    currency: "ZMW",
    correspondent: "MTN_MOMO_ZMB",
    recipient: { type: "MSISDN", address: { value: "260763456789" } },
    customerTimestamp: "2020-02-21T17:32:28Z",
    statementDescription: "Note of 4 to 22 chars",
    ...overrides,
  };
}

async function call(method: string, path: string, options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null) headers.Authorization = `Bearer ${options.token ?? "open"}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["Content-Type"] ??= "application/json";
  }
  const response = await fetch(`${api}${path}`, { method, headers, body: payload });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json, headers: response.headers };
}

const payout = (payload: unknown, token = "open") => call("POST", "/payouts", { body: payload, token });

describe("authentication and routing", () => {
  it("answers 401 in pawaPay's error shape without a valid token", async () => {
    for (const token of [null, "wrong"]) {
      const { status, json } = await call("GET", "/v1/wallet-balances", { token });
      expect(status).toBe(401);
      expect(json).toEqual({ errorId: expect.any(String), errorCode: expect.any(Number), errorMessage: expect.any(String) });
    }
  });

  it("serves its public key without a token", async () => {
    const { status, json } = await call("GET", "/public-key/http", { token: null });
    expect(status).toBe(200);
    expect(json).toEqual([{ id: emulator.publicKey.id, key: expect.stringContaining("BEGIN PUBLIC KEY") }]);
    expect(importPublicKey(json[0].key).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("strips its mount point, and only that", async () => {
    const outside = await fetch(`${server.url}/payouts/${randomUUID()}`, { headers: { Authorization: "Bearer open" } });
    expect(outside.status).toBe(404);
    expect((await call("GET", `/payouts/${randomUUID()}`)).json).toEqual([]);
    expect((await call("GET", "/nowhere")).status).toBe(404);
    expect((await call("DELETE", "/payouts")).status).toBe(405);
  });
});

describe("POST /payouts validation (200 REJECTED with the documented codes)", () => {
  it("accepts the seed example and answers with created", async () => {
    const request = body();
    const { status, json } = await payout(request);
    expect(status).toBe(200);
    expect(json).toEqual({ payoutId: request.payoutId, status: "ACCEPTED", created: expect.stringMatching(/Z$/) });
  });

  it("accepts every valid amount example of the API reference", async () => {
    for (const amount of ["5", "5.0", "5.00", "5.5", "5.55", "1"]) {
      expect((await payout(body({ amount }))).json.status, amount).toBe("ACCEPTED");
    }
  });

  const cases: Array<[string, Record<string, unknown> | string, string]> = [
    ["unparsable JSON", "{not json", "INVALID_INPUT"],
    ["a payoutId that is not a UUID", { payoutId: "order-1" }, "PARAMETER_INVALID"],
    ["a UUIDv1 payoutId", { payoutId: "f4401bd2-1568-1140-bf2d-eb77d2b2b639" }, "PARAMETER_INVALID"],
    ["amount 5.", { amount: "5." }, "INVALID_AMOUNT"],
    ["amount 5.555", { amount: "5.555" }, "INVALID_AMOUNT"],
    ["amount of 24 characters", { amount: "555555555555555555555555" }, "INVALID_AMOUNT"],
    ["amount .5", { amount: ".5" }, "INVALID_AMOUNT"],
    ["amount -5.5", { amount: "-5.5" }, "INVALID_AMOUNT"],
    ["amount 00.5", { amount: "00.5" }, "INVALID_AMOUNT"],
    ["amount 00.00", { amount: "00.00" }, "INVALID_AMOUNT"],
    ["amount 00001.32", { amount: "00001.32" }, "INVALID_AMOUNT"],
    ["a numeric amount", { amount: 15 }, "INVALID_AMOUNT"],
    ["decimals an MMO does not take", { amount: "1000.5", currency: "UGX", correspondent: "MTN_MOMO_UGA", recipient: { type: "MSISDN", address: { value: "256771234567" } } }, "INVALID_AMOUNT"],
    ["an amount below the minimum", { amount: "0.5" }, "AMOUNT_TOO_SMALL"],
    ["an amount above the maximum", { amount: "50000.01" }, "AMOUNT_TOO_LARGE"],
    ["a currency the MMO does not use", { currency: "USD" }, "INVALID_CURRENCY"],
    ["a lower-case currency", { currency: "zmw" }, "PARAMETER_INVALID"],
    ["an unknown correspondent", { correspondent: "MTN_MOMO_XYZ" }, "INVALID_CORRESPONDENT"],
    ["a country the MMO is not in", { country: "UGA" }, "INVALID_COUNTRY"],
    ["a recipient that is not an MSISDN", { recipient: { type: "EMAIL", address: { value: "a@b.c" } } }, "PARAMETER_INVALID"],
    ["a customerTimestamp that is not RFC 3339", { customerTimestamp: "2020-02-21 17:32:28" }, "PARAMETER_INVALID"],
    ["a statementDescription of 3 characters", { statementDescription: "abc" }, "PARAMETER_INVALID"],
    ["a statementDescription of 23 characters", { statementDescription: "abcdefghijklmnopqrstuvw" }, "PARAMETER_INVALID"],
    ["punctuation in statementDescription", { statementDescription: "Salary, March!" }, "PARAMETER_INVALID"],
    ["11 metadata items", { metadata: Array.from({ length: 11 }, (_, i) => ({ fieldName: `f${i}`, fieldValue: "v" })) }, "PARAMETER_INVALID"],
    ["a metadata item without a value", { metadata: [{ fieldName: "orderId" }] }, "PARAMETER_INVALID"],
  ];
  for (const msisdn of ["+260763456789", "260 763 456789", "260-7634-56789", "0260763456789", "2607634567", "260763456789543", "999558708954", "37255870895"]) {
    cases.push([`the MSISDN ${msisdn}`, { recipient: { type: "MSISDN", address: { value: msisdn } } }, "INVALID_RECIPIENT_FORMAT"]);
  }

  for (const [name, change, code] of cases) {
    it(`rejects ${name} with ${code} and stores nothing`, async () => {
      const request = typeof change === "string" ? change : body(change);
      const { status, json } = await payout(request);
      expect(status).toBe(200);
      expect(json).toMatchObject({ status: "REJECTED", rejectionReason: { rejectionCode: code, rejectionMessage: expect.any(String) } });
      if (typeof request !== "string" && typeof request.payoutId === "string") {
        expect((await call("GET", `/payouts/${request.payoutId}`)).json).toEqual([]);
      }
    });
  }

  it("accepts 10 metadata items, an offset timestamp and a matching country", async () => {
    const request = body({
      country: "ZMB",
      customerTimestamp: "2020-02-21T19:32:28.123+02:00",
      metadata: Array.from({ length: 10 }, (_, i) => ({ fieldName: `f${i}`, fieldValue: "v", isPII: i === 0 })),
    });
    expect((await payout(request)).json.status).toBe("ACCEPTED");
  });

  it("answers a reused payoutId with DUPLICATE_IGNORED and never creates a second payout", async () => {
    const request = body();
    expect((await payout(request)).json.status).toBe("ACCEPTED");
    const again = await payout({ ...request, amount: "20" });
    expect(again.json).toMatchObject({ payoutId: request.payoutId, status: "DUPLICATE_IGNORED" });
    expect(emulator.payouts().filter((p) => p.payoutId === request.payoutId)).toHaveLength(1);
    expect(emulator.payout(request.payoutId as string)?.amount).toBe("15");
  });

  it("creates one payout when the same payoutId arrives many times at once", async () => {
    const request = body();
    const answers = await Promise.all(Array.from({ length: 8 }, () => payout(request)));
    const statuses = answers.map((a) => a.json.status).sort();
    expect(statuses).toEqual(["ACCEPTED", ...Array(7).fill("DUPLICATE_IGNORED")]);
    expect(emulator.payouts().filter((p) => p.payoutId === request.payoutId)).toHaveLength(1);
  });

  it("refuses a payout bigger than the wallet with BALANCE_INSUFFICIENT", async () => {
    const poor = createPawapayEmulator({
      accounts: async () => ({ publicKeys: {} }),
      initialBalances: [{ country: "ZMB", currency: "ZMW", balance: "10.00" }],
    });
    const response = await poor.handle(
      new Request("http://emulator/payouts", { method: "POST", headers: { Authorization: "Bearer x" }, body: JSON.stringify(body()) }),
    );
    expect(await response.json()).toMatchObject({ status: "REJECTED", rejectionReason: { rejectionCode: "BALANCE_INSUFFICIENT" } });
    poor.close();
  });
});

describe("request signatures", () => {
  function signedRequest(payload: string, options: { created?: number; key?: string; keyId?: string } = {}) {
    const url = `${api}/payouts`;
    const headers: Record<string, string> = {
      Authorization: "Bearer signed",
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(payload)),
      "Content-Digest": contentDigest(payload),
      "Signature-Date": new Date().toISOString(),
    };
    const signed = signMessage(
      { method: "POST", url, headers: new Headers(headers) },
      { privateKey: options.key ?? merchantKey.privateKeyPem, keyId: options.keyId ?? "merchant-key", alg: "ecdsa-p256-sha256", created: options.created },
    );
    return { url, headers: { ...headers, "Signature-Input": signed["Signature-Input"], Signature: signed.Signature } };
  }

  it("accepts a correctly signed payout", async () => {
    const payload = JSON.stringify(body());
    const { url, headers } = signedRequest(payload);
    const response = await fetch(url, { method: "POST", headers, body: payload });
    expect((await response.json()).status).toBe("ACCEPTED");
  });

  it("answers 403 HTTP_SIGNATURE_ERROR for unsigned, tampered, expired or foreign-key requests, creating nothing", async () => {
    const attempts: Array<[string, () => { url: string; headers: Record<string, string>; payload: string }]> = [
      ["unsigned", () => ({ url: `${api}/payouts`, headers: { Authorization: "Bearer signed", "Content-Type": "application/json" }, payload: JSON.stringify(body()) })],
      [
        "tampered",
        () => {
          const payload = JSON.stringify(body());
          return { ...signedRequest(payload), payload: payload.replace('"15"', '"45"') };
        },
      ],
      [
        "expired",
        () => {
          const payload = JSON.stringify(body());
          return { ...signedRequest(payload, { created: Math.floor(Date.now() / 1000) - 1000 }), payload };
        },
      ],
      [
        "foreign key",
        () => {
          const payload = JSON.stringify(body());
          return { ...signedRequest(payload, { key: generatePawapaySigningKey().privateKeyPem }), payload };
        },
      ],
      [
        "unknown keyid",
        () => {
          const payload = JSON.stringify(body());
          return { ...signedRequest(payload, { keyId: "someone-else" }), payload };
        },
      ],
    ];
    for (const [name, make] of attempts) {
      const { url, headers, payload } = make();
      const response = await fetch(url, { method: "POST", headers, body: payload });
      const json = await response.json();
      expect(response.status, name).toBe(403);
      expect(json.errorMessage, name).toMatch(/^HTTP_SIGNATURE_ERROR/);
      expect(emulator.payout(JSON.parse(payload).payoutId), name).toBeUndefined();
    }
  });
});

describe("lifecycle and callbacks", () => {
  it("goes ACCEPTED → SUBMITTED → COMPLETED and posts a signed callback (DER ECDSA, sha-512 digest)", async () => {
    const request = body();
    await payout(request);
    expect((await call("GET", `/payouts/${request.payoutId}`)).json[0].status).toBe("ACCEPTED");
    const callback = await waitFor(() => callbacks.find((c) => c.body.includes(request.payoutId as string)));
    const object = JSON.parse(callback.body);
    expect(object).toMatchObject({
      payoutId: request.payoutId,
      status: "COMPLETED",
      amount: "15",
      currency: "ZMW",
      country: "ZMB",
      correspondent: "MTN_MOMO_ZMB",
      recipient: { type: "MSISDN", address: { value: "260763456789" } },
      receivedByRecipient: expect.any(String),
      correspondentIds: expect.any(Object),
    });
    expect(callback.url).toBe(`${receiver.url}/hooks/pawapay`);
    expect(verifyContentDigest(callback.headers.get("content-digest"), callback.body)).toEqual({ ok: true, algorithms: ["sha-512"] });
    expect(callback.headers.get("signature-date")).toMatch(/Z$/);
    const signature = Buffer.from(/:(.*):/.exec(callback.headers.get("signature")!)![1]!, "base64");
    expect(signature[0]).toBe(0x30);
    const keys = (await call("GET", "/public-key/http", { token: null })).json as Array<{ id: string; key: string }>;
    const verified = await verifyMessageSignature(
      { method: "POST", url: callback.url, headers: callback.headers },
      { keyLookup: (id) => (keys.find((k) => k.id === id) ? importPublicKey(keys.find((k) => k.id === id)!.key) : null), requiredComponents: ["content-digest"] },
    );
    expect(verified).toMatchObject({ ok: true, alg: "ecdsa-p256-sha256" });
    expect((await call("GET", `/payouts/${request.payoutId}`)).json).toEqual([object]);
  });

  it("follows the sandbox numbers for MTN and Airtel Zambia", async () => {
    const expectations: Array<[string, string, string, string | undefined]> = [
      ["MTN_MOMO_ZMB", "260763456079", "FAILED", "RECIPIENT_NOT_FOUND"],
      ["MTN_MOMO_ZMB", "260763456119", "FAILED", "OTHER_ERROR"],
      ["MTN_MOMO_ZMB", "260763456129", "SUBMITTED", undefined],
      ["AIRTEL_OAPI_ZMB", "260973456789", "COMPLETED", undefined],
      ["AIRTEL_OAPI_ZMB", "260973456089", "FAILED", "RECIPIENT_NOT_FOUND"],
      ["AIRTEL_OAPI_ZMB", "260973456119", "FAILED", "OTHER_ERROR"],
      ["AIRTEL_OAPI_ZMB", "260973456129", "SUBMITTED", undefined],
      ["ZAMTEL_ZMB", "260953456789", "COMPLETED", undefined],
      ["MTN_MOMO_ZMB", "260761111111", "COMPLETED", undefined],
    ];
    const ids = [];
    for (const [correspondent, msisdn] of expectations) {
      const request = body({ correspondent, recipient: { type: "MSISDN", address: { value: msisdn } } });
      expect((await payout(request, "quiet")).json.status).toBe("ACCEPTED");
      ids.push(request.payoutId as string);
    }
    await emulator.idle();
    for (const [i, [, msisdn, status, failureCode]] of expectations.entries()) {
      const [object] = (await call("GET", `/payouts/${ids[i]}`, { token: "quiet" })).json;
      expect(object.status, msisdn).toBe(status);
      expect(object.failureReason?.failureCode, msisdn).toBe(failureCode);
    }
  });

  it("retries a callback the merchant did not take, with fresh signatures", async () => {
    const request = body();
    refuseCallbacks.set(request.payoutId as string, 2);
    await payout(request);
    await waitFor(() => callbacks.find((c) => c.body.includes(request.payoutId as string)));
    // The receiver has the body before the emulator has read its answer: wait for the record.
    const attempts = await waitFor(() => {
      const list = emulator.payout(request.payoutId as string)!.callbackAttempts;
      return list.length === 3 && list;
    });
    expect(attempts.map((a) => a.httpStatus)).toEqual([503, 503, 204]);
  });

  it("resends a callback on request, and refuses for an unknown or unfinished payout", async () => {
    const request = body();
    await payout(request);
    await waitFor(() => callbacks.find((c) => c.body.includes(request.payoutId as string)));
    const before = callbacks.filter((c) => c.body.includes(request.payoutId as string)).length;
    expect((await call("POST", "/payouts/resend-callback", { body: { payoutId: request.payoutId } })).json).toEqual({ payoutId: request.payoutId, status: "ACCEPTED" });
    await waitFor(() => callbacks.filter((c) => c.body.includes(request.payoutId as string)).length > before);
    const unknown = await call("POST", "/payouts/resend-callback", { body: { payoutId: randomUUID() } });
    expect(unknown.json).toMatchObject({ status: "REJECTED" });
  });

  it("enqueues on request (fault endpoint) and cancels with fail-enqueued, giving the money back", async () => {
    const balance = async () => (await call("GET", "/v1/wallet-balances")).json.balances.find((b: { currency: string }) => b.currency === "ZMW").balance;
    const start = await balance();
    expect((await call("POST", "/_sandbox/faults", { body: { mode: "enqueue" } })).status).toBe(200);
    const request = body({ amount: "100" });
    expect((await payout(request)).json.status).toBe("ENQUEUED");
    expect((await call("GET", `/payouts/${request.payoutId}`)).json[0].status).toBe("ENQUEUED");
    expect(await balance()).not.toBe(start);
    expect((await call("POST", `/payouts/fail-enqueued/${request.payoutId}`)).json).toEqual({ payoutId: request.payoutId, status: "ACCEPTED" });
    const callback = await waitFor(() => callbacks.find((c) => c.body.includes(request.payoutId as string)));
    expect(JSON.parse(callback.body)).toMatchObject({ status: "FAILED", failureReason: { failureCode: "MANUALLY_CANCELLED" } });
    expect(await balance()).toBe(start);
    expect((await call("POST", `/payouts/fail-enqueued/${request.payoutId}`)).json.status).toBe("REJECTED");
  });
});

describe("other endpoints", () => {
  it("reports balances as decimal strings", async () => {
    const { json } = await call("GET", "/v1/wallet-balances", { token: "quiet" });
    expect(json.balances).toContainEqual({ country: "ZMB", balance: expect.stringMatching(/^\d+\.\d{2}$/), currency: "ZMW", mno: "" });
    expect(json.balances).toContainEqual({ country: "UGA", balance: "100000000", currency: "UGX", mno: "" });
  });

  it("gives the active configuration with payout limits", async () => {
    const { json } = await call("GET", "/active-conf");
    const zambia = json.countries.find((c: { country: string }) => c.country === "ZMB");
    expect(zambia.correspondents.map((c: { correspondent: string }) => c.correspondent)).toEqual(["MTN_MOMO_ZMB", "AIRTEL_OAPI_ZMB", "ZAMTEL_ZMB"]);
    expect(zambia.correspondents[0]).toMatchObject({ currency: "ZMW", operationTypes: [{ operationType: "PAYOUT", minTransactionLimit: "1", maxTransactionLimit: "50000" }] });
  });

  it("predicts the correspondent from a number", async () => {
    expect((await call("POST", "/v1/predict-correspondent", { body: { msisdn: "+260 97 3456789" } })).json).toEqual({
      country: "ZMB",
      operator: "AIRTEL",
      correspondent: "AIRTEL_OAPI_ZMB",
      msisdn: "260973456789",
    });
  });
});

describe("fault injection", () => {
  it("500 does not create the payout; garbage and drop-after-accept do", async () => {
    await call("POST", "/_sandbox/faults", { body: { mode: "500" } });
    const first = body();
    const failed = await payout(first);
    expect(failed.status).toBe(500);
    expect(failed.json).toMatchObject({ errorId: expect.any(String), errorMessage: expect.any(String) });
    expect(emulator.payout(first.payoutId as string)).toBeUndefined();

    await call("POST", "/_sandbox/faults", { body: { mode: "garbage" } });
    const second = body();
    const garbage = await payout(second);
    expect(typeof garbage.json).toBe("string");
    expect(emulator.payout(second.payoutId as string)).toBeDefined();

    await call("POST", "/_sandbox/faults", { body: { mode: "drop-after-accept" } });
    const third = body();
    await expect(payout(third)).rejects.toThrow();
    expect(emulator.payout(third.payoutId as string)).toBeDefined();
  });

  it("timeout holds the answer until the client gives up; slow answers late", async () => {
    await call("POST", "/_sandbox/faults", { body: { mode: "timeout" } });
    const held = body();
    await expect(
      fetch(`${api}/payouts`, { method: "POST", headers: { Authorization: "Bearer open" }, body: JSON.stringify(held), signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    expect(emulator.payout(held.payoutId as string)).toBeDefined();

    await call("POST", "/_sandbox/faults", { body: { mode: "slow", delayMs: 150 } });
    const started = Date.now();
    expect((await payout(body())).json.status).toBe("ACCEPTED");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("refuses an unknown mode, and DELETE clears pending faults", async () => {
    expect((await call("POST", "/_sandbox/faults", { body: { mode: "explode" } })).status).toBe(400);
    await call("POST", "/_sandbox/faults", { body: { mode: "500", count: 5 } });
    expect((await call("DELETE", "/_sandbox/faults")).json).toEqual({ faults: [] });
    expect((await payout(body())).status).toBe(200);
  });
});
