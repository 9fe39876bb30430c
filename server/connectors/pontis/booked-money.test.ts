// PontisGlobe's money of a payout, against the built-in emulator over real
// HTTP. As documented, Pontis's answers and callbacks carry no amounts, so the
// desk records none ("not reported"); an answer that does carry them (the
// emulator's reportAmounts) gives the USDT debited, the INR or PHP received
// and the rate, from the status query and the signed callback alike.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { convertUsdt, createPontisEmulator, sandboxAccountFor, SANDBOX_RATES, type PontisEmulator, type PontisEmulatorAccount } from "@/server/sandbox/pontis";
import type { CallbackInput, ConnectionConfig, PayoutRequest } from "../types";
import { createPontisConnector, sandboxCredentials } from "./index";
import { pontisBookedMoney } from "./booked";
import { waitFor } from "@/server/testing/wait";

const BASE_PATH = "/api/sandbox/pontis";
let documented: PontisEmulator;
let reporting: PontisEmulator;
let documentedServer: ServedHandler;
let reportingServer: ServedHandler;
let receiver: ServedHandler;
const accounts = new Map<string, PontisEmulatorAccount>();
const received: CallbackInput[] = [];

beforeAll(async () => {
  receiver = await serveWebHandler(async (request) => {
    received.push({ headers: request.headers, rawBody: await request.text(), url: request.url, method: request.method });
    return Response.json({ received: true });
  });
  const options = { basePath: BASE_PATH, accounts: async (apiKey: string) => accounts.get(apiKey) ?? null, callbackDelayMs: 60, callbackRetryDelaysMs: [30] };
  documented = createPontisEmulator(options);
  reporting = createPontisEmulator({ ...options, reportAmounts: true });
  documentedServer = await serveWebHandler(documented.handle);
  reportingServer = await serveWebHandler(reporting.handle);
});

afterAll(async () => {
  documented.close();
  reporting.close();
  await Promise.all([documentedServer.close(), reportingServer.close(), receiver.close()]);
});

function merchant(server: ServedHandler) {
  const credentials = sandboxCredentials();
  const callbackUrl = `${receiver.url}/api/webhooks/conn-pontis`;
  accounts.set(credentials.apiKey, sandboxAccountFor(credentials, callbackUrl)!);
  const config: ConnectionConfig = {
    id: "conn-pontis",
    provider: "pontis",
    name: "PontisGlobe sandbox",
    environment: "sandbox",
    baseUrl: `${server.url}${BASE_PATH}`,
    credentials,
    callbackUrl,
  };
  return { connector: createPontisConnector(config, { timeoutMs: 5000, retryDelaysMs: [20] }), apiKey: credentials.apiKey };
}

const imps = (amountMinor: bigint): PayoutRequest => ({
  payoutId: randomUUID(),
  amountMinor,
  currency: "USDT",
  recipient: { name: "Asha Rao", accountNumber: "123456789012", country: "IN", details: { ifsc: "HDFC0001234" } },
  channel: "IN-imps",
  description: "Supplier 9",
  createdAt: new Date(),
});

const philippines = (amountMinor: bigint): PayoutRequest => ({
  payoutId: randomUUID(),
  amountMinor,
  currency: "USDT",
  recipient: { name: "Juan dela Cruz", accountNumber: "1234567890", country: "PH" },
  channel: "PH-bank_local",
  description: "Supplier 10",
  createdAt: new Date(),
});

async function paid(emulator: PontisEmulator, connector: ReturnType<typeof merchant>["connector"], request: PayoutRequest) {
  const sent = await connector.submit(request);
  expect(sent.state).toBe("processing");
  await waitFor(() => emulator.payout(request.payoutId)?.status === "completed");
  const callback = await waitFor(() => received.find((c) => c.rawBody.includes(sent.providerReference!) && c.rawBody.includes('"completed"')));
  return { sent, status: await connector.status({ payoutId: request.payoutId, providerReference: sent.providerReference! }), callback: await connector.parseCallback!(callback) };
}

describe("PontisGlobe: the money of a payout", () => {
  it("as documented (status and callback carry no amounts): nothing is reported, though the wallet paid the source amount", async () => {
    const { connector, apiKey } = merchant(documentedServer);
    const before = await documented.balance(apiKey);
    const { sent, status, callback } = await paid(documented, connector, imps(2_500n));
    expect(status.state).toBe("succeeded");
    for (const result of [sent, status, callback.verified ? callback.result : null]) {
      expect(result).not.toBeNull();
      expect(result!.fee).toBeUndefined();
      expect(result!.debited).toBeUndefined();
      expect(result!.destination).toBeUndefined();
    }
    // The desk's own amount is what the wallet paid; the desk just does not claim Pontis said so.
    expect(before - (await documented.balance(apiKey))).toBe(2_500n);
  });

  it("an answer that reports them: USDT debited, INR received and the rate, the same from the status query and the callback", async () => {
    const { connector, apiKey } = merchant(reportingServer);
    const before = await reporting.balance(apiKey);
    const { status, callback } = await paid(reporting, connector, imps(2_500n));
    // 25.00 USDT at the placeholder 85.40 INR per USDT = 2,135.00 INR.
    expect(convertUsdt(2_500n, SANDBOX_RATES.INR!, "INR")).toBe(213_500n);
    const expected = {
      state: "succeeded",
      fee: { amountMinor: 0n, currency: "USDT" },
      debited: { amountMinor: 2_500n, currency: "USDT" },
      destination: { amountMinor: 213_500n, currency: "INR", rate: "85.40" },
    };
    expect(status).toMatchObject(expected);
    expect(callback.verified && callback.result).toMatchObject(expected);
    expect(before - (await reporting.balance(apiKey))).toBe(status.debited!.amountMinor + status.fee!.amountMinor);
  });

  it("PHP: a conversion rounds down to the centavo, and a failed payout reports nothing", async () => {
    const { connector } = merchant(reportingServer);
    const { status } = await paid(reporting, connector, philippines(1_099n)); // 10.99 USDT × 56.10 = 616.539 PHP
    expect(status.destination).toEqual({ amountMinor: 61_653n, currency: "PHP", rate: "56.10" });

    const failing = imps(2_502n); // .02: fails "Recipient not found"
    const sent = await connector.submit(failing);
    await waitFor(() => reporting.payout(failing.payoutId)?.status === "failed");
    const failed = await connector.status({ payoutId: failing.payoutId, providerReference: sent.providerReference! });
    expect(failed.state).toBe("failed");
    expect(failed.fee ?? failed.debited ?? failed.destination).toBeUndefined();
  });
});

describe("pontisBookedMoney", () => {
  it("reads decimal strings exactly; JSON numbers, finer-than-currency figures and currencies it does not know are left out", () => {
    expect(pontisBookedMoney({ source_amount: "125.00", destination_amount: "10675.00", destination_currency: "INR", exchange_rate: "85.40" })).toEqual({
      debited: { amountMinor: 12_500n, currency: "USDT" },
      destination: { amountMinor: 1_067_500n, currency: "INR", rate: "85.40" },
    });
    expect(pontisBookedMoney({ source_amount: 125, destination_amount: 10675.5, destination_currency: "INR" })).toEqual({});
    expect(pontisBookedMoney({ source_amount: "125.001", fee: "1.00" })).toEqual({}); // a fee without its currency is not money
    expect(pontisBookedMoney({ destination_amount: "5.00", currency_code: "ZZZ" })).toEqual({});
    // The destination currency may be named as in the send request (currency_code); a rate of zero is not a rate.
    expect(pontisBookedMoney({ destination_amount: "561.00", currency_code: "PHP", exchange_rate: "0" })).toEqual({ destination: { amountMinor: 56_100n, currency: "PHP" } });
  });
});
