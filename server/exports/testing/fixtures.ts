// Small fixed statements for the format writers' golden tests, worked out by
// hand (no database): a UGX connection that reports balances and a USDT one
// that does not, with the text an export must survive (formulas, scripts, tabs).
import { Writable } from "node:stream";
import type { ExportInput, ExportRow, ExportRows, StatementSection, StatementSummary } from "../types";

export const ZONE = "Africa/Lusaka"; // UTC+02:00 all year

const at = (iso: string) => new Date(iso);

function row(overrides: Partial<ExportRow> & Pick<ExportRow, "payoutId">): ExportRow {
  return {
    createdAt: at("2026-03-02T08:00:00.000Z"),
    finalizedAt: at("2026-03-02T08:05:00.000Z"),
    status: "succeeded",
    connectionName: "Paytota sandbox",
    provider: "paytota",
    currency: "UGX",
    amountMinor: 5_000n,
    feeMinor: null,
    feeCurrency: null,
    debitedMinor: null,
    debitedCurrency: null,
    destinationMinor: null,
    destinationCurrency: null,
    fxRate: null,
    recipientName: null,
    recipientPhone: null,
    recipientAccount: null,
    description: "",
    providerReference: null,
    failureCode: null,
    failureMessage: null,
    ...overrides,
  };
}

/** Paytota, UGX, balances reported. In the statement service's order: reversed in the period having been paid before, then settled in it, then in flight. */
export const UGX_ROWS: ExportRow[] = [
  row({
    payoutId: "0b7c6f5e-1d2a-4e8b-9c3d-666666666666",
    createdAt: at("2026-02-27T08:00:00.000Z"),
    finalizedAt: at("2026-02-27T09:00:00.000Z"), // paid before the period…
    reversedAt: at("2026-03-02T16:00:00.000Z"), // …taken back in it
    status: "reversed",
    amountMinor: 2_000n,
    feeMinor: 300n,
    feeCurrency: "UGX",
    recipientName: "Nakato Sarah",
    recipientPhone: "256772000006",
    description: "Refund of deposit",
    providerReference: "PT-0996",
  }),
  row({
    payoutId: "0b7c6f5e-1d2a-4e8b-9c3d-111111111111",
    createdAt: at("2026-03-02T08:00:00.000Z"),
    finalizedAt: at("2026-03-02T08:05:30.250Z"),
    amountMinor: 5_000n,
    feeMinor: 5_000n,
    feeCurrency: "UGX",
    debitedMinor: 10_000n,
    debitedCurrency: "UGX",
    recipientName: "Okello J",
    recipientPhone: "256772123456",
    description: "Invoice 77, \"March\"",
    providerReference: "PT-1001",
  }),
  row({
    payoutId: "0b7c6f5e-1d2a-4e8b-9c3d-222222222222",
    createdAt: at("2026-03-02T09:00:00.000Z"),
    finalizedAt: at("2026-03-02T09:01:00.000Z"),
    amountMinor: 20_000n,
    feeMinor: 0n,
    feeCurrency: "UGX",
    recipientName: "अमित शर्मा",
    recipientPhone: "256772000002",
    description: '=HYPERLINK("http://evil.example","click")',
    providerReference: "PT-1002",
  }),
  row({
    payoutId: "0b7c6f5e-1d2a-4e8b-9c3d-333333333333",
    createdAt: at("2026-03-02T10:00:00.000Z"),
    finalizedAt: at("2026-03-02T10:00:40.000Z"),
    status: "failed",
    amountMinor: 7_222n,
    recipientName: "محمد علي",
    recipientPhone: "256772000111",
    description: "+1",
    failureCode: "insufficient_funds",
    failureMessage: "-2 balance too low",
  }),
  row({
    payoutId: "0b7c6f5e-1d2a-4e8b-9c3d-444444444444",
    createdAt: at("2026-03-01T22:30:00.000Z"), // 00:30 on 2 March in Lusaka
    finalizedAt: at("2026-03-02T12:00:00.000Z"),
    reversedAt: at("2026-03-02T15:00:00.000Z"),
    status: "reversed",
    amountMinor: 3_000n,
    feeMinor: 500n,
    feeCurrency: "UGX",
    recipientName: "ተስፋዬ ገብሩ",
    recipientPhone: "256772000004",
    description: "@x",
    providerReference: "PT-1004",
  }),
  row({
    payoutId: "0b7c6f5e-1d2a-4e8b-9c3d-555555555555",
    createdAt: at("2026-03-02T21:00:00.000Z"),
    finalizedAt: null,
    status: "processing",
    amountMinor: 4_000n,
    recipientName: "王小明",
    recipientPhone: "256772000005",
    description: "\tleading tab",
    providerReference: "PT-1005",
  }),
];

/**
 * By the statement service's rules: paid 28,000 (two succeeded, 25,000, and
 * 3,000 paid in the period and reversed since), fees 5,500 on payouts settled
 * in the period, reversals 5,000 (3,000 + 2,000 paid before the period).
 * opening 1,000,000 − 28,000 − 5,500 + 5,000 = 971,500; the provider's closing
 * 1,071,500 leaves 100,000 unexplained (a top-up the desk never saw).
 */
export const UGX_SUMMARY: StatementSummary = {
  currency: "UGX",
  balanceReported: true,
  opening: { amountMinor: 1_000_000n, at: at("2026-03-01T22:00:00.000Z") },
  closing: { amountMinor: 1_071_500n, at: at("2026-03-02T21:59:00.000Z") },
  settled: [
    { status: "succeeded", count: 2, amountMinor: 25_000n },
    { status: "failed", count: 1, amountMinor: 7_222n },
    { status: "reversed", count: 1, amountMinor: 3_000n },
  ],
  paidMinor: 28_000n,
  feesMinor: 5_500n,
  feesNotReported: 1,
  reversalsMinor: 5_000n,
  inFlightAtEnd: { count: 1, amountMinor: 4_000n },
  unexplainedMinor: 100_000n,
};

/** PontisGlobe, USDT (not ISO 4217), no balance; converts to INR and PHP. */
export const USDT_ROWS: ExportRow[] = [
  row({
    payoutId: "7d1e2f3a-4b5c-4d6e-8f70-aaaaaaaaaaaa",
    connectionName: "PontisGlobe sandbox",
    provider: "pontis",
    currency: "USDT",
    createdAt: at("2026-03-02T11:00:00.000Z"),
    finalizedAt: at("2026-03-02T11:02:00.000Z"),
    amountMinor: 12_500n,
    feeMinor: 150n,
    feeCurrency: "USDT",
    debitedMinor: 12_650n,
    debitedCurrency: "USDT",
    destinationMinor: 1_041_250n,
    destinationCurrency: "INR",
    fxRate: "83.30",
    recipientName: "பிரியா ஐயர்",
    recipientAccount: "HDFC0001234 / 50100012345678",
    description: "School fees ₹ (Chennai)",
    providerReference: "PG-REF-0001-WITH-A-VERY-LONG-IDENTIFIER-BEYOND-35",
  }),
  row({
    payoutId: "7d1e2f3a-4b5c-4d6e-8f70-bbbbbbbbbbbb",
    connectionName: "PontisGlobe sandbox",
    provider: "pontis",
    currency: "USDT",
    createdAt: at("2026-03-02T12:00:00.000Z"),
    finalizedAt: at("2026-03-02T12:03:00.000Z"),
    amountMinor: 5_000n,
    feeMinor: null,
    destinationMinor: 280_000n,
    destinationCurrency: "PHP",
    fxRate: "56.00",
    recipientName: "Maria Santos",
    recipientAccount: "BDO 001234567890",
    description: "Remittance ₱ 2,800.00\rsecond line",
    providerReference: "PG-REF-0002",
  }),
];

export const USDT_SUMMARY: StatementSummary = {
  currency: "USDT",
  balanceReported: false,
  opening: null,
  closing: null,
  settled: [{ status: "succeeded", count: 2, amountMinor: 17_500n }],
  paidMinor: 17_500n,
  feesMinor: 150n,
  feesNotReported: 1,
  reversalsMinor: 0n,
  inFlightAtEnd: { count: 0, amountMinor: 0n },
  unexplainedMinor: null,
};

export async function* iterate(rows: ExportRow[]): ExportRows {
  for (const r of rows) yield r;
}

const META = {
  merchantName: "Kafue Traders Ltd",
  timeZone: ZONE,
  periodFrom: at("2026-03-01T22:00:00.000Z"), // 2 March 00:00 in Lusaka
  periodTo: at("2026-03-02T22:00:00.000Z"),
  generatedAt: at("2026-03-03T07:15:00.000Z"),
  generatedBy: "Ruth Banda (ruth@kafue.example)",
};

export function ugxSection(): StatementSection {
  return {
    connectionId: "9a8b7c6d-5e4f-4a3b-8c2d-000000000001",
    connectionName: "Paytota sandbox",
    provider: "paytota",
    summary: UGX_SUMMARY,
    rows: () => iterate(UGX_ROWS),
  };
}

export function usdtSection(): StatementSection {
  return {
    connectionId: "9a8b7c6d-5e4f-4a3b-8c2d-000000000002",
    connectionName: "PontisGlobe sandbox",
    provider: "pontis",
    summary: USDT_SUMMARY,
    rows: () => iterate(USDT_ROWS),
  };
}

/** A statement of one connection (Paytota, UGX). */
export function ugxStatement(): ExportInput {
  return {
    meta: { ...META, kind: "statement", connectionLabel: "Paytota sandbox", currency: "UGX" },
    sections: [ugxSection()],
    total: UGX_SUMMARY,
    rows: () => iterate(UGX_ROWS),
  };
}

/** A statement of a connection whose provider reports no balance (PontisGlobe, USDT). */
export function usdtStatement(): ExportInput {
  return {
    meta: { ...META, kind: "statement", connectionLabel: "PontisGlobe sandbox", currency: "USDT" },
    sections: [usdtSection()],
    total: USDT_SUMMARY,
    rows: () => iterate(USDT_ROWS),
  };
}

/** A payouts list under filters: rows only, several currencies. */
export function payoutsList(rows: ExportRow[] = [...UGX_ROWS, ...USDT_ROWS]): ExportInput {
  return {
    meta: { ...META, kind: "payouts", connectionLabel: "All connections", currency: null, filters: "Status: any; created 2 March 2026" },
    sections: [],
    total: null,
    rows: () => iterate(rows),
  };
}

export { row as exportRow };

/** Collects everything written to it; `done` resolves with the bytes when the writer ends it. */
export function collector(): { stream: Writable; done: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  let resolve!: (value: Buffer) => void;
  let reject!: (error: Error) => void;
  const done = new Promise<Buffer>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  stream.on("finish", () => resolve(Buffer.concat(chunks)));
  stream.on("error", reject);
  stream.on("close", () => reject(new Error("closed before finishing")));
  // A test of a failing writer may never await `done`: its rejection is expected, not unhandled.
  done.catch(() => undefined);
  return { stream, done };
}
