import { parse } from "csv-parse/sync";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, csvWriter } from "./csv";
import { collector, exportRow, payoutsList, ugxStatement } from "./testing/fixtures";
import type { ExportInput } from "./types";

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden", "payouts.csv");

async function csvOf(input: ExportInput): Promise<Buffer> {
  const sink = collector();
  await csvWriter.write(input, sink.stream);
  return sink.done;
}

function records(bytes: Buffer): Record<string, string>[] {
  return parse(bytes, { bom: true, columns: true, relax_column_count: false }) as Record<string, string>[];
}

describe("CSV export", () => {
  it("writes exactly the golden bytes for a fixed payouts list", async () => {
    const bytes = await csvOf(payoutsList());
    // The golden file was read and checked by hand; regenerate only on purpose (UPDATE_GOLDEN=1) and review the diff.
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, bytes);
    expect(bytes.equals(readFileSync(GOLDEN))).toBe(true);
  });

  it("says a failure in words beside the provider's code and message (failure-reasons.ts), and nothing when nothing failed", async () => {
    const rows = records(await csvOf(payoutsList()));
    const failed = rows.find((r) => r.status === "failed")!;
    expect(failed).toMatchObject({
      failure_code: "insufficient_funds",
      failure_message: "'-2 balance too low",
      failure_reason: "The Paytota account did not hold enough money for this payout. (insufficient_funds)",
    });
    expect(rows.filter((r) => r.failure_reason !== "").map((r) => r.status)).toEqual(["failed"]);
  });

  it("is RFC 4180 with a UTF-8 byte-order mark, CRLF line ends and a header row", async () => {
    const bytes = await csvOf(ugxStatement());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString("utf8").slice(1);
    expect(text.split("\r\n")[0]).toBe(CSV_COLUMNS.join(","));
    expect(text.endsWith("\r\n")).toBe(true);
    // No bare LF outside quoted fields: every record ends with CRLF.
    expect(text.replace(/"(?:[^"]|"")*"/g, "").replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(records(bytes)).toHaveLength(6);
  });

  it("writes times in the export's zone with the offset, and money as decimals beside minor units", async () => {
    const [earlier, first, , , reversed, inFlight] = records(await csvOf(ugxStatement()));
    expect(first!.created_at).toBe("2026-03-02T10:00:00.000+02:00");
    expect(first!.finalized_at).toBe("2026-03-02T10:05:30.250+02:00");
    expect(first!.reversed_at).toBe("");
    expect(reversed!.created_at).toBe("2026-03-02T00:30:00.000+02:00"); // 22:30 UTC the day before
    expect([reversed!.finalized_at, reversed!.reversed_at]).toEqual(["2026-03-02T14:00:00.000+02:00", "2026-03-02T17:00:00.000+02:00"]);
    expect([earlier!.finalized_at, earlier!.reversed_at]).toEqual(["2026-02-27T11:00:00.000+02:00", "2026-03-02T18:00:00.000+02:00"]);
    expect(inFlight!.finalized_at).toBe("");
    expect(first).toMatchObject({ amount: "5000", amount_minor: "5000", fee: "5000", fee_minor: "5000", debited: "10000" });

    const usdt = records(await csvOf(payoutsList())).find((r) => r.currency === "USDT")!;
    expect(usdt).toMatchObject({
      amount: "125.00",
      amount_minor: "12500",
      fee: "1.50",
      fee_minor: "150",
      destination_amount: "10412.50",
      destination_minor: "1041250",
      destination_currency: "INR",
      fx_rate: "83.30",
    });
  });

  it("tells a fee not reported from a fee of zero", async () => {
    const rows = records(await csvOf(ugxStatement()));
    const zero = rows.find((r) => r.payout_id?.endsWith("222222222222"))!;
    const notReported = rows.find((r) => r.payout_id?.endsWith("333333333333"))!;
    expect([zero.fee, zero.fee_minor, zero.fee_currency]).toEqual(["0", "0", "UGX"]);
    expect([notReported.fee, notReported.fee_minor, notReported.fee_currency]).toEqual(["not reported", "", ""]);
  });

  it("escapes every text cell that a spreadsheet would run as a formula", async () => {
    const payloads = ['=HYPERLINK("http://evil.example","click")', "+1", "-2", "@x", "\tcmd", "\rcmd", "＝1+1", "=1+1\n=2"];
    const rows = payloads.map((payload, i) =>
      exportRow({ payoutId: `00000000-0000-4000-8000-00000000000${i}`, description: payload, recipientName: payload, failureMessage: payload, providerReference: payload }),
    );
    const parsed = records(await csvOf(payoutsList(rows)));
    parsed.forEach((record, i) => {
      for (const column of ["description", "recipient_name", "failure_message", "provider_reference"]) {
        expect(record[column], `${column} of ${JSON.stringify(payloads[i])}`).toBe(`'${payloads[i]}`);
      }
    });
    // Harmless text is left exactly as typed.
    const plain = records(await csvOf(payoutsList([exportRow({ payoutId: "00000000-0000-4000-8000-000000000009", description: "a=1, b-2" })])));
    expect(plain[0]!.description).toBe("a=1, b-2");
  });

  it("writes a negative amount as safe text and its minor units as a number (amounts are never negative; this pins what would happen)", async () => {
    const [record] = records(await csvOf(payoutsList([exportRow({ payoutId: "00000000-0000-4000-8000-000000000010", currency: "ZMW", amountMinor: -1250n })])));
    expect(record!.amount).toBe("'-12.50");
    expect(record!.amount_minor).toBe("-1250");
  });

  it("writes only the header for an empty export", async () => {
    const bytes = await csvOf(payoutsList([]));
    expect(bytes.toString("utf8")).toBe(`\ufeff${CSV_COLUMNS.join(",")}\r\n`);
  });

  it("fails the stream and rejects when reading the rows fails part-way", async () => {
    const input = payoutsList();
    input.rows = async function* () {
      yield exportRow({ payoutId: "00000000-0000-4000-8000-000000000011" });
      throw new Error("database went away");
    };
    const sink = collector();
    await expect(csvWriter.write(input, sink.stream)).rejects.toThrow("database went away");
    expect(sink.stream.destroyed).toBe(true);
  });
});
