// A lost answer to Paytota's initiate call converges, over real HTTP to the
// emulator, for every reading of what Paytota's docs leave open: the lookup
// by reference filtered, ignoring its filter, or absent (404, Paytota as
// documented), and a repeated reference refused, accepted as a new payout,
// or answered with the existing one. Faults hit the initiate call (500 with
// and without processing, timeout, garbage, dropped connection; once or
// twice running), the lookup, the execute call, and the desk itself (the id
// cannot be held). The connector is driven in the order the desk drives it
// (server/services/submission.ts): submit on the first send; then status
// queries, and a resend (firstAttempt false) only when status says
// not_found on a payout that is `unknown`; the payout row is a small model
// here: its status and the Paytota id it holds.
//
// The figures: every payout reaches a final status, the one the sandbox
// number gives, and Paytota executed exactly one payout for it, the one
// whose id the desk holds. Every other payout Paytota holds for it (the
// orphans of lost answers) is still initialized and was never executed.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveWebHandler, type ServedHandler } from "@/server/sandbox/http";
import { createPaytotaEmulator, type PaytotaEmulator, type PaytotaEmulatorOptions, type PaytotaFault } from "@/server/sandbox/paytota";
import type { PayoutRequest, ProviderResult } from "../types";
import { createPaytotaConnector } from "./index";

const BRAND = "edd6c020-eac6-4b4e-9716-47928f3401de";
// A hanging answer is given up after this. On a busy machine a normal answer may miss it too: one more lost
// answer, which the drill must survive like any other (so no assertion depends on it).
const TIMEOUT_MS = 1000;

type Lookup = NonNullable<PaytotaEmulatorOptions["lookupByReference"]>;
type Repeated = NonNullable<PaytotaEmulatorOptions["repeatedReference"]>;

interface Variant {
  lookup: Lookup;
  repeated: Repeated;
  emulator: PaytotaEmulator;
  server: ServedHandler;
  baseUrl: string;
}

const variants: Variant[] = [];

beforeAll(async () => {
  for (const lookup of [true, false, "absent"] as Lookup[]) {
    for (const repeated of ["refuse", "create", "return"] as Repeated[]) {
      // Every secret key is its own company, so payouts run side by side and each takes only its own faults.
      const emulator = createPaytotaEmulator({
        accounts: () => ({ brandId: BRAND }),
        lookupByReference: lookup,
        repeatedReference: repeated,
        callbackDelayMs: 30,
      });
      const server = await serveWebHandler(emulator.handle);
      variants.push({ lookup, repeated, emulator, server, baseUrl: `${server.url}/api/sandbox/paytota` });
    }
  }
});

afterAll(async () => {
  for (const v of variants) v.emulator.close();
  await Promise.all(variants.map((v) => v.server.close()));
});

/** What the desk's payout row holds, and how the desk applies a provider result to it (applyProviderResult). */
interface Row {
  status: "submitting" | "unknown" | "processing" | "succeeded" | "failed";
  providerReference: string | null;
  resends: number;
  notes: string[];
}

function apply(row: Row, result: ProviderResult): void {
  row.notes.push(`${result.state}${result.providerStatus ? ` ${result.providerStatus}` : ""}${result.failureMessage ? `: ${result.failureMessage}` : ""}`);
  if (row.status === "succeeded" || row.status === "failed") return;
  if (result.state === "not_found") return;
  if (result.providerReference) row.providerReference = result.providerReference;
  if (result.state === "succeeded" || result.state === "failed" || result.state === "processing") row.status = result.state;
  else if (result.state === "unknown" && row.status === "submitting") row.status = "unknown";
}

interface Case {
  name: string;
  phone: string;
  expected: "succeeded" | "failed";
  faults: PaytotaFault[];
  /** The desk fails to hold the id this many times (a database error at the wrong moment). */
  holdFailures?: number;
}

const CASES: Case[] = [
  { name: "no fault", phone: "256700123123", expected: "succeeded", faults: [] },
  { name: "initiate 500, not processed", phone: "256700123123", expected: "succeeded", faults: [{ mode: "500", operation: "initiate" }] },
  { name: "initiate 500, processed", phone: "256700123123", expected: "succeeded", faults: [{ mode: "500", operation: "initiate", process: true }] },
  { name: "initiate timeout", phone: "256700123123", expected: "succeeded", faults: [{ mode: "timeout", operation: "initiate" }] },
  { name: "initiate garbage", phone: "256700123123", expected: "succeeded", faults: [{ mode: "garbage", operation: "initiate" }] },
  { name: "initiate dropped after accept", phone: "256700123123", expected: "succeeded", faults: [{ mode: "drop-after-accept", operation: "initiate", process: true }] },
  { name: "initiate dropped twice (the resend's answer lost too)", phone: "256700123123", expected: "succeeded", faults: [{ mode: "drop-after-accept", operation: "initiate", process: true, count: 2 }] },
  { name: "initiate garbage, then timeout", phone: "256700123123", expected: "succeeded", faults: [{ mode: "garbage", operation: "initiate" }, { mode: "timeout", operation: "initiate" }] },
  { name: "initiate timeout, the lookup fails too", phone: "256700123123", expected: "succeeded", faults: [{ mode: "timeout", operation: "initiate" }, { mode: "500", operation: "lookup", count: 2 }] },
  { name: "initiate dropped on a number that then fails", phone: "256700123222", expected: "failed", faults: [{ mode: "drop-after-accept", operation: "initiate", process: true }] },
  { name: "initiate timeout on a number with no funds", phone: "256700123111", expected: "failed", faults: [{ mode: "timeout", operation: "initiate" }] },
  { name: "the id cannot be held after initiate", phone: "256700123123", expected: "succeeded", faults: [], holdFailures: 1 },
  { name: "initiate garbage, then the id cannot be held", phone: "256700123123", expected: "succeeded", faults: [{ mode: "garbage", operation: "initiate" }], holdFailures: 1 },
  { name: "execute 500, not executed", phone: "256700123123", expected: "succeeded", faults: [{ mode: "500", operation: "execute" }] },
  { name: "execute timeout (executed)", phone: "256700123123", expected: "succeeded", faults: [{ mode: "timeout", operation: "execute" }] },
  { name: "execute dropped (executed), status lost too", phone: "256700123123", expected: "succeeded", faults: [{ mode: "drop-after-accept", operation: "execute" }, { mode: "garbage", operation: "status" }] },
];

/** One payout, from the first send to a final status, in the desk's order. */
async function drive(variant: Variant, testCase: Case) {
  const secretKey = `sk-${randomUUID()}`;
  for (const fault of testCase.faults) await variant.emulator.injectFault(fault, secretKey);
  const row: Row = { status: "submitting", providerReference: null, resends: 0, notes: [] };
  const request: PayoutRequest = {
    payoutId: randomUUID(),
    amountMinor: 500n,
    currency: "UGX",
    recipient: { phone: testCase.phone, country: "UG" },
    channel: null,
    description: "Lost initiate drill",
    createdAt: new Date(),
  };
  let holdFailures = testCase.holdFailures ?? 0;
  const connector = createPaytotaConnector(
    {
      id: "conn-drill",
      provider: "paytota",
      name: "Paytota drill",
      environment: "sandbox",
      baseUrl: variant.baseUrl,
      credentials: { secretKey, brandId: BRAND, clientEmail: "payouts@desk.example" },
      callbackUrl: "http://127.0.0.1:9/unused",
    },
    {
      timeoutMs: TIMEOUT_MS,
      // The payout row's providerReference, written only over none or the same id.
      async holdProviderReference(payoutId, reference) {
        expect(payoutId).toBe(request.payoutId);
        if (holdFailures > 0) {
          holdFailures--;
          throw new Error("the database did not answer");
        }
        if (row.providerReference && row.providerReference !== reference) throw new Error("the payout already holds another provider id");
        row.providerReference = reference;
      },
    },
  );

  apply(row, await connector.submit({ ...request, providerReference: null, firstAttempt: true }));
  for (let round = 0; round < 1000 && row.status !== "succeeded" && row.status !== "failed"; round++) {
    const answer = await connector.status({ payoutId: request.payoutId, providerReference: row.providerReference });
    if (answer.state === "not_found") {
      row.notes.push(`not_found: ${answer.failureMessage ?? ""}`);
      if (row.status === "unknown") {
        row.status = "submitting";
        row.resends++;
        apply(row, await connector.submit({ ...request, providerReference: row.providerReference, firstAttempt: false }));
      }
      continue;
    }
    apply(row, answer);
    if (row.status === "processing" || row.status === "unknown") await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const atPaytota = variant.emulator.payoutsByReference(request.payoutId, { repeats: true });
  return { request, row, atPaytota };
}

describe.each(["refuse", "create", "return"] as Repeated[])("a repeated reference %s", (repeated) => {
  describe.each([
    [true, "filtered"],
    [false, "ignoring its filter"],
    ["absent", "absent (HTTP 404)"],
  ] as Array<[Lookup, string]>)("lookup by reference %s", (lookup) => {
    it("every payout converges, executed exactly once, the executed one being the id the desk holds", async () => {
      const variant = variants.find((v) => v.lookup === lookup && v.repeated === repeated)!;
      const runs = await Promise.all(CASES.map(async (testCase) => ({ testCase, ...(await drive(variant, testCase)) })));
      for (const { testCase, row, atPaytota } of runs) {
        const context = `${testCase.name}: ${row.notes.join(" | ")}`;
        expect(row.status, context).toBe(testCase.expected);
        const executed = atPaytota.filter((p) => p.executions > 0);
        expect(executed.map((p) => p.executions), context).toEqual([1]);
        expect(row.providerReference, context).toBe(executed[0]!.id);
        // The orphans of lost answers: created, never executed, never will be.
        for (const orphan of atPaytota.filter((p) => p.id !== row.providerReference)) {
          expect(orphan.status, context).toBe("initialized");
          expect(orphan.executions, context).toBe(0);
        }
      }
      // The drill did lose answers: some payouts needed a resend, and some left an orphan (unless Paytota answers a repeat with the same payout).
      expect(runs.filter((r) => r.row.resends > 0).length).toBeGreaterThanOrEqual(8);
      const orphans = runs.flatMap((r) => r.atPaytota.filter((p) => p.id !== r.row.providerReference));
      if (repeated === "return") expect(orphans).toHaveLength(0);
      else expect(orphans.length).toBeGreaterThanOrEqual(8);
    });
  });
});
