import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { describe, expect, it } from "vitest";
import { createPdfWriter, pdfWriter } from "./pdf";
import { collector, exportRow, payoutsList, ugxSection, ugxStatement, usdtStatement, UGX_SUMMARY } from "./testing/fixtures";
import type { ExportInput, ExportWriter } from "./types";

interface Extracted {
  bytes: Buffer;
  /** Per page, its lines (text items on one baseline joined by a space). */
  pages: string[][];
  text: string;
}

async function pdfOf(input: ExportInput, writer: ExportWriter = pdfWriter): Promise<Extracted> {
  const sink = collector();
  await writer.write(input, sink.stream);
  const bytes = await sink.done;
  const pdf = await getDocument({ data: new Uint8Array(bytes), verbosity: 0, useSystemFonts: false }).promise;
  const pages: string[][] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent();
    const lines = new Map<number, string[]>();
    for (const item of content.items) {
      if (!("str" in item) || item.str.trim() === "") continue;
      const y = Math.round(item.transform[5] as number);
      lines.set(y, [...(lines.get(y) ?? []), item.str]);
    }
    pages.push([...lines.entries()].sort((a, b) => b[0] - a[0]).map(([, parts]) => parts.join(" ")));
  }
  await pdf.destroy();
  return { bytes, pages, text: pages.flat().join("\n") };
}

function line(extracted: Extracted, start: string): string {
  const found = extracted.pages.flat().find((l) => l.startsWith(start));
  if (!found) throw new Error(`no line starting "${start}" in:\n${extracted.text}`);
  return found;
}

/** The same characters, in any order: shaped Indic text comes back from a PDF in glyph (visual) order. */
const sameLetters = (a: string, b: string) => [...a.replace(/\s/g, "")].sort().join("") === [...b.replace(/\s/g, "")].sort().join("");

describe("PDF export", () => {
  it("shows the header, balances, totals, fees, reversals, in flight and unexplained movement of a statement", async () => {
    const pdf = await pdfOf(ugxStatement());
    expect(line(pdf, "Statement")).toBe("Statement — Kafue Traders Ltd");
    expect(line(pdf, "Connection:")).toMatch(/^Connection: Paytota sandbox\s+Currency: UGX$/);
    expect(line(pdf, "Period:")).toBe("Period: 2026-03-02 00:00 to 2026-03-03 00:00 (not included), Africa/Lusaka (UTC+02:00)");
    expect(line(pdf, "Generated")).toBe("Generated 2026-03-03 09:15 (Africa/Lusaka) by Ruth Banda (ruth@kafue.example)");
    expect(line(pdf, "Opening balance")).toBe("Opening balance 1,000,000 UGX 2026-03-02 00:00");
    expect(line(pdf, "Settled: succeeded")).toBe("Settled: succeeded 25,000 UGX 2");
    expect(line(pdf, "Settled: failed")).toBe("Settled: failed 7,222 UGX 1");
    expect(line(pdf, "Settled: reversed")).toBe("Settled: reversed 3,000 UGX 1");
    expect(line(pdf, "Paid")).toBe("Paid 28,000 UGX payouts paid in the period, including any reversed since (see Reversals)");
    expect(line(pdf, "Fees")).toBe("Fees 5,500 UGX 1 payout: fee not reported by the provider (not counted as 0)");
    expect(line(pdf, "Reversals")).toBe("Reversals 5,000 UGX paid payouts the provider took back in the period");
    expect(line(pdf, "In flight at the end")).toBe("In flight at the end 4,000 UGX 1");
    expect(line(pdf, "Closing balance")).toBe("Closing balance 1,071,500 UGX 2026-03-02 23:59");
    expect(line(pdf, "Unexplained movement")).toMatch(/^Unexplained movement 100,000 UGX closing − \(opening − paid − fees \+ reversals\)/);
    // The figures add up as finance checks them: opening − paid − fees + reversals + unexplained = closing.
    const amount = (label: string) => Number(/([\d,]+) UGX/.exec(line(pdf, label))![1]!.replaceAll(",", ""));
    expect(amount("Opening balance") - amount("Paid") - amount("Fees") + amount("Reversals") + amount("Unexplained")).toBe(amount("Closing balance"));
    expect(line(pdf, "End of the detail")).toBe("End of the detail: 6 payouts.");
    expect(pdf.pages).toHaveLength(1);
    expect(pdf.pages[0]!.at(-1)).toMatch(/Ruth Banda \(ruth@kafue\.example\) Page 1 of 1$/);
  });

  it("lists every payout with its amount and fee, a fee not reported saying so", async () => {
    const pdf = await pdfOf(ugxStatement());
    expect(line(pdf, "Created")).toBe("Created Finalized Payout id Status Recipient Description Provider reference Amount Fee Destination");
    expect(line(pdf, "2026-03-02 10:00")).toBe(
      '2026-03-02 10:00 2026-03-02 10:05 0b7c6f5e-1d2a-4e8b-9c3d-111111111111 succeeded Okello J Invoice 77, "March" PT-1001 5,000 UGX 5,000 UGX',
    );
    expect(line(pdf, "2026-03-02 23:00")).toMatch(/in flight 0b7c6f5e-1d2a-4e8b-9c3d-555555555555 processing .* 4,000 UGX not reported$/);
    // A long description is cut to its column with an ellipsis (the CSV and XLSX carry it whole).
    expect(pdf.text).toMatch(/=HYPERLINK\("http:\/\/evil\.ex[a-z]*…/);
  });

  it("prints non-Latin recipient names and currency signs with embedded fonts", async () => {
    const pdf = await pdfOf(payoutsList());
    for (const name of ["ተስፋዬ ገብሩ", "王小明", "பிரியா ஐயர்"]) {
      expect(pdf.text.replace(/\s+/g, ""), name).toContain(name.replace(/\s+/g, ""));
    }
    const hindi = pdf.pages.flat().find((l) => l.includes("0b7c6f5e-1d2a-4e8b-9c3d-222222222222"))!;
    expect(hindi.split(" ").some((word, i, words) => sameLetters(`${word}${words[i + 1] ?? ""}`, "अमित शर्मा"))).toBe(true);
    for (const word of ["محمد", "علي"]) expect(pdf.text).toContain(word);
    // Descriptions are cut to their column here (the list has a Connection column too).
    expect(pdf.text).toContain("School fees ₹ (Chen");
    expect(pdf.text).toContain("Remittance ₱ 2,800.");
    expect(pdf.text).toContain("10,412.50 INR");
    // Fonts are embedded (TrueType subsets), none is left to the reader.
    const raw = pdf.bytes.toString("latin1");
    expect(raw).toContain("/FontFile2");
    for (const font of ["NotoSans", "NotoSansEthiopic", "NotoSansSC", "NotoSansTamil", "NotoSansArabic"]) expect(raw).toMatch(new RegExp(`/BaseFont /[A-Z]{6}\\+${font}-`));
    expect(raw).not.toMatch(/\/BaseFont \/(Helvetica|Times|Courier)/);
  });

  it("says when the provider reports no balance", async () => {
    const pdf = await pdfOf(usdtStatement());
    expect(line(pdf, "Opening balance")).toBe("Opening balance the provider reports no balance");
    expect(line(pdf, "Closing balance")).toBe("Closing balance the provider reports no balance");
    expect(line(pdf, "Unexplained movement")).toBe("Unexplained movement not known without the provider's balances");
    expect(line(pdf, "Paid")).toMatch(/^Paid 175\.00 USDT /);
    expect(line(pdf, "Fees")).toMatch(/^Fees 1\.50 USDT 1 payout: fee not reported/);
  });

  it("shows each section and their total when a statement covers several connections", async () => {
    const input = ugxStatement();
    const second = { ...ugxSection(), connectionId: "9a8b7c6d-5e4f-4a3b-8c2d-000000000003", connectionName: "Muda sandbox", provider: "muda" };
    input.sections = [ugxSection(), second];
    input.total = { ...UGX_SUMMARY, paidMinor: 50_000n };
    const pdf = await pdfOf(input);
    expect(pdf.text).toContain("Paytota sandbox (paytota) — UGX");
    expect(pdf.text).toContain("Muda sandbox (muda) — UGX");
    expect(pdf.text).toContain("Total — UGX");
    expect(pdf.text).toContain("Paid 50,000 UGX");
    expect(line(pdf, "Created")).toContain("Connection"); // several connections: the detail names each row's
  });

  it("repeats the column headers on every page and numbers pages x of y", async () => {
    const rows = Array.from({ length: 150 }, (_, i) =>
      exportRow({ payoutId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, description: `Payout ${i}` }),
    );
    const pdf = await pdfOf(payoutsList(rows));
    expect(pdf.pages.length).toBeGreaterThanOrEqual(3);
    pdf.pages.forEach((lines, i) => {
      expect(lines.some((l) => l.startsWith("Created Finalized Payout id")), `headers on page ${i + 1}`).toBe(true);
      expect(lines.at(-1)).toMatch(new RegExp(`Page ${i + 1} of ${pdf.pages.length}$`));
    });
    for (const i of [0, 75, 149]) expect(pdf.text).toContain(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
    expect(line(pdf, "End of the detail")).toBe("End of the detail: 150 payouts.");
  });

  it("stops the detail at its limit and says how many payouts it does not list", async () => {
    const rows = Array.from({ length: 12 }, (_, i) => exportRow({ payoutId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` }));
    const pdf = await pdfOf(payoutsList(rows), createPdfWriter({ maxDetailRows: 5 }));
    expect(pdf.text).toContain("00000000-0000-4000-8000-000000000004");
    expect(pdf.text).not.toContain("00000000-0000-4000-8000-000000000005");
    expect(pdf.text.replace(/\s+/g, " ")).toContain(
      "The detail stops after 5 payouts: 7 more are not listed here (a PDF lists at most 5). The summary counts them all; the CSV and XLSX exports list every one.",
    );
  });

  it("says so when there is nothing to list", async () => {
    const pdf = await pdfOf(payoutsList([]));
    expect(pdf.text).toContain("No payout in this export.");
    expect(pdf.text).toContain("Filters: Status: any; created 2 March 2026");
  });
});

describe("PDF fonts", () => {
  it("opens each font once, however many texts are drawn with it", async () => {
    // pdfkit numbers every font it opens (F1, F2 …); drawing with a key it did not cache reopens
    // and reparses the font for each text (that once made a 10,000-row PDF take minutes).
    const { default: PDFDocument } = await import("pdfkit");
    const { baseFontSource, FontPicker } = await import("./pdf-fonts");
    const doc = new PDFDocument({ font: baseFontSource() });
    const fonts = new FontPicker(doc);
    const opened = () => (doc as unknown as { _fontCount: number })._fontCount;
    const draw = (text: string, bold = false) => {
      for (const run of fonts.runs(text, bold)) doc.font(run.font).text(run.text, 10, 10, { lineBreak: false });
    };
    draw("warm up: Okello J, अमित शर्मा, 王小明, محمد علي");
    draw("bold", true);
    const afterFirstUse = opened();
    for (let i = 0; i < 50; i++) {
      draw(`Okello J ${i}`);
      draw(`王小明 ${i} محمد علي`);
      draw(`Total ${i}`, true);
    }
    expect(opened()).toBe(afterFirstUse);
    doc.end();
  });
});
