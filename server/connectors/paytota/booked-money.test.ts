// Fees and amounts as Paytota booked them, read by the connector from
// Paytota's own payout object (status query and signed callback), against the
// built-in emulator over real HTTP: fee_amount and what left the balance for
// a paid payout, in minor and in major amountUnits, nothing for a failed one,
// and the reading rules of net_amount on hand-made payout objects.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createPaytotaEmulator, payoutFee, type PaytotaEmulator, type PaytotaEmulatorAccount } from "@/server/sandbox/paytota";
import type { CallbackInput, ConnectionConfig, PayoutRequest } from "../types";
import { createPaytotaConnector } from "./index";
import { JsonNumber, paytotaBookedMoney, payoutObjectSchema, readPayoutJson, type PayoutObject } from "./wire";
import { waitFor } from "@/server/testing/wait";

const BRAND = "edd6c020-eac6-4b4e-9716-47928f3401de";
let minor: PaytotaEmulator;
let major: PaytotaEmulator;
let minorServer: ServedHandler;
let majorServer: ServedHandler;
let receiver: ServedHandler;
const accounts = new Map<string, PaytotaEmulatorAccount>();
const received: CallbackInput[] = [];

beforeAll(async () => {
  receiver = await serveWebHandler(async (request) => {
    received.push({ headers: request.headers, rawBody: await request.text(), url: request.url, method: request.method });
    return Response.json({ status: "ok" });
  });
  const lookup = async (key: string) => accounts.get(key) ?? null;
  minor = createPaytotaEmulator({ accounts: lookup, callbackDelayMs: 60, callbackRetryDelaysMs: [40] });
  major = createPaytotaEmulator({ accounts: lookup, amountUnits: "major", callbackDelayMs: 60, callbackRetryDelaysMs: [40] });
  minorServer = await serveWebHandler(minor.handle);
  majorServer = await serveWebHandler(major.handle);
});

afterAll(async () => {
  minor.close();
  major.close();
  await Promise.all([minorServer.close(), majorServer.close(), receiver.close()]);
});

/** A connector on a company of its own (its own balances), against the minor- or major-unit emulator. */
function company(units: "minor" | "major" = "minor") {
  const secretKey = `sk-${randomUUID()}`;
  accounts.set(secretKey, { brandId: BRAND, callbackUrl: `${receiver.url}/api/webhooks/conn-paytota` });
  const config: ConnectionConfig = {
    id: "conn-paytota",
    provider: "paytota",
    name: "Paytota sandbox",
    environment: "sandbox",
    baseUrl: `${(units === "major" ? majorServer : minorServer).url}/api/sandbox/paytota`,
    credentials: { secretKey, brandId: BRAND, clientEmail: "payouts@desk.example", amountUnits: units },
    callbackUrl: `${receiver.url}/api/webhooks/conn-paytota`,
  };
  const held = new Map<string, string>();
  const connector = createPaytotaConnector(config, {
    timeoutMs: 15_000,
    holdProviderReference: async (payoutId, reference) => void held.set(payoutId, reference),
  });
  const available = async (currency: string) => (await connector.balances!()).find((b) => b.currency === currency && b.label === "available")!.amountMinor;
  return { connector, available, held };
}

function payout(phone: string, amountMinor: bigint, currency = "UGX", country = "UG"): PayoutRequest {
  return { payoutId: randomUUID(), amountMinor, currency, recipient: { phone, country }, channel: null, description: "Fee test", createdAt: new Date() };
}

describe("Paytota: the money of a payout, from Paytota's payout object", () => {
  it("a paid payout: fee_amount as the fee, amount + fee as what left the balance, from the status query and the signed callback alike", async () => {
    const { connector, available, held } = company();
    const before = await available("UGX");
    const request = payout("256772123456", 5_000n);
    const sent = await connector.submit(request);
    expect(sent.state).toBe("processing");
    // The execute answer says nothing of money.
    expect(sent.fee).toBeUndefined();

    const fee = payoutFee(5_000n, "UGX"); // the emulator's own schedule: 500 + 1% = 550 UGX
    expect(fee).toBe(550n);
    const callback = await waitFor(() => received.find((c) => c.rawBody.includes(held.get(request.payoutId)!) && c.rawBody.includes('"status":"success"')));
    const parsed = await connector.parseCallback!(callback);
    expect(parsed.verified).toBe(true);
    if (!parsed.verified) return;
    expect(parsed.result).toMatchObject({ state: "succeeded", fee: { amountMinor: fee, currency: "UGX" }, debited: { amountMinor: 5_000n + fee, currency: "UGX" } });

    const queried = await connector.status({ payoutId: request.payoutId, providerReference: held.get(request.payoutId)! });
    expect(queried).toMatchObject({ state: "succeeded", fee: { amountMinor: fee, currency: "UGX" }, debited: { amountMinor: 5_550n, currency: "UGX" } });
    // The balance moved by exactly what the desk records: a statement reconciles.
    expect(before - (await available("UGX"))).toBe(queried.debited!.amountMinor);
  });

  it("amountUnits major: a fee with cents (15.13 KES) is read exactly from the major-unit answer", async () => {
    const { connector, available, held } = company("major");
    const before = await available("KES");
    const request = payout("254712345678", 1_255n, "KES", "KE");
    await connector.submit(request);
    await waitFor(() => major.payout(held.get(request.payoutId) ?? "")?.status === "success");
    const paid = await connector.status({ payoutId: request.payoutId, providerReference: held.get(request.payoutId)! });
    expect(paid).toMatchObject({ state: "succeeded", fee: { amountMinor: 1_513n, currency: "KES" }, debited: { amountMinor: 2_768n, currency: "KES" } });
    expect(JSON.stringify(paid.raw)).toMatch(/"fee_amount":"?15\.13"?/);
    expect(before - (await available("KES"))).toBe(2_768n);
  });

  it("a failed payout: nothing reported, and the balance is whole again", async () => {
    const { connector, available, held } = company();
    const before = await available("UGX");
    const request = payout("256772123222", 5_000n); // …222: executes, then fails
    await connector.submit(request);
    await waitFor(() => minor.payout(held.get(request.payoutId) ?? "")?.status === "error");
    const failed = await connector.status({ payoutId: request.payoutId, providerReference: held.get(request.payoutId)! });
    expect(failed.state).toBe("failed");
    expect(failed.fee).toBeUndefined();
    expect(failed.debited).toBeUndefined();
    expect(await available("UGX")).toBe(before);
  });
});

describe("paytotaBookedMoney: what a payout object's figures say, and no more", () => {
  const object = (payment: Record<string, unknown>): PayoutObject =>
    payoutObjectSchema.parse({ id: "7c4ea981-55b1-418a-be23-ea9f5f3e1a91", status: "success", payment: { currency: "UGX", ...payment } });
  const n = (text: string) => new JsonNumber(text);

  it("the seed's own example (fee 0): fee 0 and the amount as what left", () => {
    expect(paytotaBookedMoney(object({ amount: n("500"), fee_amount: n("0"), net_amount: n("500") }), "minor")).toEqual({
      fee: { amountMinor: 0n, currency: "UGX" },
      debited: { amountMinor: 500n, currency: "UGX" },
    });
  });

  it("net_amount is taken as what left only when its arithmetic is unambiguous", () => {
    // On top: net = amount + fee.
    expect(paytotaBookedMoney(object({ amount: n("5000"), fee_amount: n("550"), net_amount: n("5550") }), "minor").debited).toEqual({ amountMinor: 5_550n, currency: "UGX" });
    // Out of the amount: net = amount − fee, so the amount is what left.
    expect(paytotaBookedMoney(object({ amount: n("5000"), fee_amount: n("550"), net_amount: n("4450") }), "minor").debited).toEqual({ amountMinor: 5_000n, currency: "UGX" });
    // A fee with net = amount could mean either: the fee is reported, what left is not.
    expect(paytotaBookedMoney(object({ amount: n("5000"), fee_amount: n("550"), net_amount: n("5000") }), "minor")).toEqual({ fee: { amountMinor: 550n, currency: "UGX" } });
  });

  it("never rounds, never takes a float, and reports nothing without a fee_amount", () => {
    expect(paytotaBookedMoney(object({ amount: n("5000"), fee_amount: n("550.5"), net_amount: n("5550") }), "minor")).toEqual({});
    expect(paytotaBookedMoney(object({ amount: n("5000"), net_amount: n("5000") }), "minor")).toEqual({});
    // A number already read as a JS number could have been rounded: refused.
    expect(paytotaBookedMoney(object({ amount: 5000, fee_amount: 550, net_amount: 5550 }), "minor")).toEqual({});
    expect(paytotaBookedMoney(payoutObjectSchema.parse({ id: "x", status: "success", payment: { currency: "XYZ", amount: n("1"), fee_amount: n("1") } }), "minor")).toEqual({});
  });

  it("readPayoutJson keeps payment money exact past 2^53 and reads the rest as numbers", () => {
    const payout = payoutObjectSchema.parse(
      readPayoutJson('{"id":"p","status":"success","created_on":1747308302,"payment":{"currency":"UGX","amount":9007199254740993,"fee_amount":1,"net_amount":9007199254740994}}'),
    );
    expect(payout.created_on).toBe(1747308302);
    expect(paytotaBookedMoney(payout, "minor")).toEqual({
      fee: { amountMinor: 1n, currency: "UGX" },
      debited: { amountMinor: 9_007_199_254_740_994n, currency: "UGX" },
    });
  });
});
