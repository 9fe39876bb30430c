// Fees and amounts as Muda booked them, read by the connector from Muda's own
// answers, against the built-in emulator over real HTTP: the fee and total
// of a paid payout (from the transaction record), the payout paid at once
// (whose send answer carries no fee), and a failed payout (not reported).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createMudaEmulator, type MudaEmulator, type MudaEmulatorAccount } from "@/server/sandbox/muda";
import type { ConnectionConfig, PayoutRequest, ProviderCallRecord } from "../types";
import { createMudaConnector } from "./index";
import { mudaBookedMoney } from "./booked";
import { waitFor } from "@/server/testing/wait";

const BASE_PATH = "/api/sandbox/muda";
let emulator: MudaEmulator;
let server: ServedHandler;
const accounts = new Map<string, MudaEmulatorAccount>();

beforeAll(async () => {
  emulator = createMudaEmulator({ basePath: BASE_PATH, accounts: (apiKey) => accounts.get(apiKey) ?? null, callbackDelayMs: 60 });
  server = await serveWebHandler(emulator.handle);
});

afterAll(async () => {
  emulator.close();
  await server.close();
});

/** A connector on a wallet of its own, so each test sees only its own debits. */
function connectorWithWallet(balance: string) {
  const apiKey = `key-${randomUUID()}`;
  accounts.set(apiKey, { secretKey: "secret", balances: { UGX: `${balance}.0000000` } });
  const calls: ProviderCallRecord[] = [];
  const config: ConnectionConfig = {
    id: "conn-muda",
    provider: "muda",
    name: "Muda sandbox",
    environment: "sandbox",
    baseUrl: `${server.url}${BASE_PATH}`,
    credentials: { apiKey, secretKey: "secret" },
    callbackUrl: "http://127.0.0.1:9/unused",
  };
  return { connector: createMudaConnector(config, { onCall: (call) => void calls.push(call), timeoutMs: 5000 }), calls };
}

function payout(amountMinor: bigint): PayoutRequest {
  return {
    payoutId: randomUUID(),
    amountMinor,
    currency: "UGX",
    recipient: { phone: "256772123456", name: "Nakato Sarah", country: "UG" },
    channel: null,
    description: "Desk payout",
    createdAt: new Date(),
  };
}

async function wallet(connector: ReturnType<typeof connectorWithWallet>["connector"]) {
  return (await connector.balances!()).find((b) => b.currency === "UGX")!.amountMinor;
}

describe("Muda: the money of a payout, from Muda's answers", () => {
  it("a paid payout: the fee and total_amount of Muda's transaction record, and the wallet moved by exactly that", async () => {
    const { connector } = connectorWithWallet("1000000");
    const request = payout(5_000n);
    const sent = await connector.submit(request);
    // In flight: Muda has reserved amount and fee, but nothing is booked for the desk yet.
    expect(sent.state).toBe("processing");
    expect(sent.fee).toBeUndefined();
    expect(sent.debited).toBeUndefined();

    await waitFor(() => emulator.payout(request.payoutId)?.status === "SUCCESS");
    const paid = await connector.status(request);
    expect(paid.state).toBe("succeeded");
    expect(paid.fee).toEqual({ amountMinor: 2_000n, currency: "UGX" });
    expect(paid.debited).toEqual({ amountMinor: 7_000n, currency: "UGX" });
    // What the desk records is what left the wallet: a statement reconciles.
    expect(1_000_000n - (await wallet(connector))).toBe(paid.debited!.amountMinor);
    expect(paid.debited!.amountMinor).toBe(request.amountMinor + paid.fee!.amountMinor);
  });

  it("a payout paid at once (200 SUCCESS, no fee in the answer): the connector reads the transaction record before the payout is final", async () => {
    const { connector, calls } = connectorWithWallet("1000000");
    const request = payout(1_111n); // …111: the emulator pays at once
    const sent = await connector.submit(request);
    expect(sent.state).toBe("succeeded");
    expect(sent.fee).toEqual({ amountMinor: 2_000n, currency: "UGX" });
    expect(sent.debited).toEqual({ amountMinor: 3_111n, currency: "UGX" });
    // The send answer itself said nothing of the fee: the figures came from the status query.
    expect(calls.map((c) => c.operation)).toEqual(["token", "submit", "status"]);
    expect(JSON.stringify(calls[1]!.response)).not.toMatch(/fee/);
    expect(1_000_000n - (await wallet(connector))).toBe(3_111n);
  });

  it("a failed payout: no fee and no debit reported (Muda refunded them; its docs do not say a fee is kept)", async () => {
    const { connector } = connectorWithWallet("1000000");
    const request = payout(5_222n); // …222: fails later
    await connector.submit(request);
    await waitFor(() => emulator.payout(request.payoutId)?.status === "FAILED");
    const failed = await connector.status(request);
    expect(failed.state).toBe("failed");
    expect(failed.fee).toBeUndefined();
    expect(failed.debited).toBeUndefined();
    expect(await wallet(connector)).toBe(1_000_000n);
  });
});

describe("mudaBookedMoney", () => {
  it("reads JSON numbers exactly, in major units, at the currency's exponent", () => {
    const text = '{"status":200,"data":{"currency":"UGX","amount":50000.00,"fee":1000.00,"total_amount":51000.00}}';
    expect(mudaBookedMoney(text)).toEqual({ fee: { amountMinor: 1_000n, currency: "UGX" }, debited: { amountMinor: 51_000n, currency: "UGX" } });
    // A figure past 2^53 stays exact: it never passes through a float.
    expect(mudaBookedMoney('{"data":{"currency":"UGX","fee":0,"total_amount":9007199254740993}}')).toEqual({
      fee: { amountMinor: 0n, currency: "UGX" },
      debited: { amountMinor: 9_007_199_254_740_993n, currency: "UGX" },
    });
  });

  it("leaves out what it cannot read exactly: not reported, never rounded or guessed", () => {
    // Half a shilling has no minor unit to land in.
    expect(mudaBookedMoney('{"data":{"currency":"UGX","fee":1000.50,"total_amount":6000}}')).toEqual({ debited: { amountMinor: 6_000n, currency: "UGX" } });
    expect(mudaBookedMoney('{"data":{"currency":"UGX","fee":-5,"total_amount":1e4}}')).toEqual({});
    expect(mudaBookedMoney('{"data":{"fee":2000}}')).toEqual({}); // no currency: no money
    expect(mudaBookedMoney('{"data":{"currency":"UGX"}}')).toEqual({});
    expect(mudaBookedMoney("not json")).toEqual({});
  });
});
