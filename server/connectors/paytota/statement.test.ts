// Reading Paytota's statement CSV: by header name, exact money, "not reported" fees, and refusals that name line and column.
import { describe, expect, it } from "vitest";
import { StatementFormatError } from "../statement-lines";
import { readPaytotaStatement } from "./statement";

const bytes = (text: string) => new TextEncoder().encode(text);
const ID = "0b6f7a52-3c1d-4e8a-9f00-1a2b3c4d5e6f";

describe("reading a Paytota statement", () => {
  it("reads the emulator's columns: money exact in minor units, the desk's payout id from the reference", () => {
    const csv =
      "id,reference,created_on,updated_on,status,currency,amount,fee_amount,phone,description\r\n" +
      `pt-1,${ID},2026-05-01T10:00:00.000Z,2026-05-01T10:00:02.000Z,success,UGX,5000,575,256772123456,"Rent, May"\r\n` +
      `pt-2,${ID}.x1,2026-05-01T10:00:00.000Z,2026-05-01T10:00:00.000Z,initialized,KES,12.50,0.00,254700000000,x\r\n` +
      "pt-3,someone-else,1777629600,,pending,USD,-7.10,,1,y\r\n";
    const lines = readPaytotaStatement(bytes(csv));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      line: 2,
      providerReference: "pt-1",
      payoutId: ID,
      state: "succeeded",
      providerStatus: "success",
      amount: { amountMinor: 5000n, currency: "UGX" },
      fee: { amountMinor: 575n, currency: "UGX" },
    });
    expect(lines[0]!.createdAt?.toISOString()).toBe("2026-05-01T10:00:00.000Z");
    expect(lines[1]).toMatchObject({ payoutId: ID, state: "not_found", amount: { amountMinor: 1250n }, fee: { amountMinor: 0n } });
    expect(lines[2]).toMatchObject({ payoutId: null, state: "processing", amount: { amountMinor: 710n, currency: "USD" }, fee: null });
    expect(lines[2]!.createdAt?.toISOString()).toBe("2026-05-01T10:00:00.000Z");
  });

  it("finds columns by name in any order and keeps only payouts when a type column says", () => {
    const csv = "Amount,Currency,Status,ID,Type\n100,UGX,error,a,payout\n900,UGX,success,b,top_up\n";
    const lines = readPaytotaStatement(bytes(`\ufeff${csv}`));
    expect(lines.map((l) => [l.providerReference, l.state, l.reference])).toEqual([["a", "failed", null]]);
  });

  it("keeps a status it does not know visible, never final", () => {
    const [line] = readPaytotaStatement(bytes("id,status,currency,amount\na,on_hold,UGX,1\n"));
    expect(line).toMatchObject({ state: "unknown", providerStatus: "on_hold" });
  });

  it("refuses a statement without a required column, naming it", () => {
    expect(() => readPaytotaStatement(bytes("id,status,currency\na,success,UGX\n"))).toThrow(/no "amount" column/);
  });

  it("refuses cells it cannot read exactly, naming line and column", () => {
    const csv = "id,status,currency,amount,fee_amount,created_on\na,success,KES,5.555,0,2026-05-01T00:00:00Z\nb,success,ZZZ,5,,\nc,success,UGX,5,x,yesterday\n";
    try {
      readPaytotaStatement(bytes(csv));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StatementFormatError);
      const problems = (error as StatementFormatError).problems;
      expect(problems).toContain('line 2, column amount: "5.555" has more precision than KES allows');
      expect(problems.some((p) => p.startsWith("line 3, column currency:"))).toBe(true);
      expect(problems.some((p) => p.startsWith("line 4, column fee_amount:"))).toBe(true);
      expect(problems.some((p) => p.startsWith("line 4, column created_on:"))).toBe(true);
    }
  });

  it("refuses what is not a CSV table or not UTF-8", () => {
    expect(() => readPaytotaStatement(bytes(""))).toThrow(/empty/);
    expect(() => readPaytotaStatement(bytes('id,status\n"a,b\n'))).toThrow(StatementFormatError);
    expect(() => readPaytotaStatement(new Uint8Array([0x69, 0x64, 0xff, 0x0a]))).toThrow(/UTF-8/);
  });
});
