import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validateXML } from "xmllint-wasm";
import { describe, expect, it } from "vitest";
import { camt053Writer } from "./camt053";
import { collector, exportRow, payoutsList, ugxStatement, usdtStatement } from "./testing/fixtures";
import type { ExportInput } from "./types";

const XSD = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "standards", "camt.053.001.08.xsd"), "utf8");

async function camtOf(input: ExportInput): Promise<string> {
  const sink = collector();
  await camt053Writer.write(input, sink.stream);
  return (await sink.done).toString("utf8");
}

async function validate(xml: string) {
  return validateXML({
    xml: [{ fileName: "statement.xml", contents: xml }],
    schema: [{ fileName: "camt.053.001.08.xsd", contents: XSD }],
  });
}

/** The text of the first `<name>` in `xml`, or undefined. */
function first(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}(?: [^>]*)?>([^<]*)</${name}>`).exec(xml)?.[1];
}

function all(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?: [^>]*)?>([\\s\\S]*?)</${name}>`, "g"))].map((m) => m[1]!);
}

interface Entry {
  xml: string;
  ref: string;
  amount: string;
  ccy: string;
  direction: "CRDT" | "DBIT";
}

function entries(stmt: string): Entry[] {
  return all(stmt, "Ntry").map((xml) => {
    const amount = /^\s*<NtryRef>[^<]*<\/NtryRef>\s*<Amt Ccy="([A-Z]{3})">([^<]+)<\/Amt>\s*<CdtDbtInd>(CRDT|DBIT)<\/CdtDbtInd>/.exec(xml)!;
    return { xml, ref: first(xml, "NtryRef")!, ccy: amount[1]!, amount: amount[2]!, direction: amount[3] as "CRDT" | "DBIT" };
  });
}

function balances(stmt: string): Record<string, { amount: string; ccy: string; direction: string; xml: string }> {
  return Object.fromEntries(
    all(stmt, "Bal").map((xml) => {
      const amount = /<Amt Ccy="([A-Z]{3})">([^<]+)<\/Amt>\s*<CdtDbtInd>(CRDT|DBIT)/.exec(xml)!;
      return [first(xml, "Cd")!, { ccy: amount[1]!, amount: amount[2]!, direction: amount[3]!, xml }];
    }),
  );
}

/** Minor units of a decimal text at `exponent` decimals, signed by direction. */
const minor = (text: string, direction: string, exponent: number) => {
  const [whole, fraction = ""] = text.split(".");
  const value = BigInt(whole!) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, "0") || "0");
  return direction === "DBIT" ? -value : value;
};

/** OPBD + credits − debits = CLBD, to the minor unit. */
function expectBalanced(stmt: string, exponent: number) {
  const bal = balances(stmt);
  const moved = entries(stmt).reduce((sum, e) => sum + minor(e.amount, e.direction, exponent), 0n);
  expect(minor(bal.OPBD!.amount, bal.OPBD!.direction, exponent) + moved).toBe(minor(bal.CLBD!.amount, bal.CLBD!.direction, exponent));
}

describe("camt.053.001.08 export", () => {
  it("is valid against the ISO schema for a statement, a statement without balances and a payouts list", async () => {
    for (const input of [ugxStatement(), usdtStatement(), payoutsList(), payoutsList([])]) {
      const result = await validate(await camtOf(input));
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    }
  });

  it("is checked by a validator that can fail", async () => {
    const xml = (await camtOf(usdtStatement())).replace('Ccy="XXX"', 'Ccy="USDT"');
    const result = await validate(xml);
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => e.message).join("\n")).toMatch(/Ccy.*USDT/);
  });

  it("carries the provider's opening and closing balances and one booked entry per payout that moved money", async () => {
    const xml = await camtOf(ugxStatement());
    const stmts = all(xml, "Stmt");
    expect(stmts).toHaveLength(1);
    const stmt = stmts[0]!;
    expect(first(stmt, "FrDtTm")).toBe("2026-03-02T00:00:00.000+02:00");
    expect(first(stmt, "ToDtTm")).toBe("2026-03-02T23:59:59.999+02:00");
    const bal = balances(stmt);
    expect(bal.OPBD).toMatchObject({ amount: "1000000", ccy: "UGX", direction: "CRDT" });
    expect(bal.OPBD!.xml).toContain("<DtTm>2026-03-02T00:00:00+02:00</DtTm>");
    expect(bal.CLBD).toMatchObject({ amount: "1071500", ccy: "UGX", direction: "CRDT" });

    const byRef = Object.fromEntries(entries(stmt).map((e) => [e.ref, e]));
    expect(Object.keys(byRef)).toEqual([
      "0b7c6f5e1d2a4e8b9c3d666666666666-R", // paid before the period, 2,000 back in it (its fee belongs to the period it was paid in)
      "0b7c6f5e1d2a4e8b9c3d111111111111", // succeeded: 5,000 + fee 5,000
      "0b7c6f5e1d2a4e8b9c3d222222222222", // succeeded: 20,000, fee reported as 0
      // 333…: failed, no fee reported: moved nothing, no entry
      "0b7c6f5e1d2a4e8b9c3d444444444444", // paid in the period: 3,000 + fee 500…
      "0b7c6f5e1d2a4e8b9c3d444444444444-R", // …and taken back in it: 3,000
      // 555…: still in flight: no entry
      "UNEXPLAINED",
    ]);
    const paid = byRef["0b7c6f5e1d2a4e8b9c3d111111111111"]!;
    expect(paid).toMatchObject({ amount: "10000", direction: "DBIT" });
    expect(paid.xml).toContain("<Cd>BOOK</Cd>");
    expect(paid.xml).toContain("<EndToEndId>0b7c6f5e1d2a4e8b9c3d111111111111</EndToEndId>");
    expect(paid.xml).toContain("<UETR>0b7c6f5e-1d2a-4e8b-9c3d-111111111111</UETR>");
    expect(all(paid.xml, "AcctSvcrRef")).toEqual(["PT-1001", "PT-1001"]);
    expect(paid.xml).toMatch(/<InstdAmt>\s*<Amt Ccy="UGX">5000<\/Amt>/);
    expect(paid.xml).toMatch(/<Rcrd>\s*<Amt Ccy="UGX">5000<\/Amt>\s*<CdtDbtInd>DBIT<\/CdtDbtInd>\s*<ChrgInclInd>true<\/ChrgInclInd>/);
    expect(first(paid.xml, "Nm")).toBe("Okello J");
    expect(all(paid.xml, "Ustrd")).toEqual(['Invoice 77, &quot;March&quot;']);

    const zeroFee = byRef["0b7c6f5e1d2a4e8b9c3d222222222222"]!;
    expect(zeroFee).toMatchObject({ amount: "20000", direction: "DBIT" });
    expect(zeroFee.xml).toMatch(/<TtlChrgsAndTaxAmt Ccy="UGX">0<\/TtlChrgsAndTaxAmt>/); // reported as 0: a charge of 0
    expect(all(zeroFee.xml, "Ustrd")).toEqual(["=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)"]);

    expect(byRef["0b7c6f5e1d2a4e8b9c3d444444444444"]).toMatchObject({ amount: "3500", direction: "DBIT" });
    const reversal = byRef["0b7c6f5e1d2a4e8b9c3d444444444444-R"]!;
    expect(reversal).toMatchObject({ amount: "3000", direction: "CRDT" });
    expect(reversal.xml).toContain("<RvslInd>true</RvslInd>");
    expect(reversal.xml).toContain("<DtTm>2026-03-02T17:00:00+02:00</DtTm>"); // booked when it was taken back
    expect(reversal.xml).toContain("<SubFmlyCd>RRTN</SubFmlyCd>");
    const earlier = byRef["0b7c6f5e1d2a4e8b9c3d666666666666-R"]!;
    expect(earlier).toMatchObject({ amount: "2000", direction: "CRDT" });
    expect(earlier.xml).toContain("<DtTm>2026-03-02T18:00:00+02:00</DtTm>");
    expect(byRef.UNEXPLAINED).toMatchObject({ amount: "100000", direction: "CRDT" });

    // 1,000,000 + 2,000 − 10,000 − 20,000 − 3,500 + 3,000 + 100,000 = 1,071,500
    // (opening − paid 28,000 − fees 5,500 + reversals 5,000 + unexplained 100,000)
    expectBalanced(stmt, 0);
    expect(first(stmt, "AddtlStmtInf")).toContain("1 payout(s) of 4000 still in flight at the end have no entry.");
  });

  it("states the desk's own movements when the provider reports no balance, and writes USDT as XXX", async () => {
    const stmt = all(await camtOf(usdtStatement()), "Stmt")[0]!;
    const bal = balances(stmt);
    expect(bal.OPBD).toMatchObject({ amount: "0.00", ccy: "XXX", direction: "CRDT" });
    expect(bal.CLBD).toMatchObject({ amount: "176.50", ccy: "XXX", direction: "DBIT" }); // paid 175.00 + fees 1.50
    for (const b of [bal.OPBD!, bal.CLBD!]) expect(b.xml).toMatch(/<SubTp>\s*<Prtry>DESK MOVEMENTS ONLY<\/Prtry>/);
    expect(first(stmt, "Ccy")).toBe("XXX");
    expect(first(stmt, "Nm")).toBe("PontisGlobe sandbox (amounts in USDT)");
    const info = first(stmt, "AddtlStmtInf")!;
    expect(info).toContain("The provider reports no balance");
    expect(info).toContain("Amounts are USDT, not an ISO 4217 currency; Ccy XXX stands for it, at 2 decimals.");

    const [converted, noFee] = entries(stmt);
    expect(converted).toMatchObject({ amount: "126.50", ccy: "XXX", direction: "DBIT" });
    expect(converted!.xml).toMatch(/<CntrValAmt>\s*<Amt Ccy="INR">10412\.50<\/Amt>\s*<CcyXchg>\s*<SrcCcy>XXX<\/SrcCcy>\s*<TrgtCcy>INR<\/TrgtCcy>\s*<XchgRate>83\.3<\/XchgRate>/);
    expect(converted!.xml).toContain("<SubFmlyCd>XBCT</SubFmlyCd>");
    // A provider reference longer than Max35Text is given whole in words, never cut.
    expect(converted!.xml).not.toContain("<AcctSvcrRef>");
    expect(first(converted!.xml, "AddtlTxInf")).toContain("Provider reference: PG-REF-0001-WITH-A-VERY-LONG-IDENTIFIER-BEYOND-35.");
    expect(first(converted!.xml, "Nm")).toBe("பிரியா ஐயர்");
    expect(noFee).toMatchObject({ amount: "50.00", direction: "DBIT" });
    expect(noFee!.xml).not.toContain("<Chrgs>");
    expect(first(noFee!.xml, "AddtlTxInf")).toContain("Fee: not reported by the provider.");
    // A carriage return survives as a character reference.
    expect(all(noFee!.xml, "Ustrd")).toEqual(["Remittance ₱ 2,800.00&#13;second line"]);
    expectBalanced(stmt, 2);
  });

  it("makes one statement per connection and currency of a payouts list, each balanced", async () => {
    const xml = await camtOf(payoutsList());
    const stmts = all(xml, "Stmt");
    expect(stmts.map((s) => first(s, "Ccy"))).toEqual(["UGX", "XXX"]);
    expectBalanced(stmts[0]!, 0);
    expectBalanced(stmts[1]!, 2);
    expect(entries(stmts[0]!).map((e) => e.ref)).not.toContain("UNEXPLAINED");
  });

  it("keeps long and odd text within the schema: descriptions split over Ustrd, names cut, controls replaced", async () => {
    const description = "d".repeat(300);
    const input = payoutsList([
      exportRow({ payoutId: "not-a-uuid", description, recipientName: `${"n".repeat(150)}`, failureMessage: "bad\u0001byte" }),
    ]);
    const xml = await camtOf(input);
    expect((await validate(xml)).valid).toBe(true);
    expect(all(xml, "Ustrd").join("")).toBe(description);
    const creditor = /<Cdtr>\s*<Pty>\s*<Nm>([^<]*)<\/Nm>/.exec(xml)![1]!;
    expect([...creditor]).toHaveLength(140);
    expect(creditor.endsWith("n…")).toBe(true);
    expect(xml).not.toContain("<UETR>");
    expect(xml).toContain("bad\ufffdbyte");
  });
});
