// Exact amounts: request strings in major units, answers read from the JSON
// number's source text (never a float), in minor units by default.
import { describe, expect, it } from "vitest";
import { answerAmountText, countryOfMsisdn, JsonNumber, parseJsonLossless, requestAmount, responseAmountMinor } from "./wire";

describe("amounts", () => {
  it("writes the request amount as a major-unit string with the currency's decimals", () => {
    expect(requestAmount(500n, "UGX")).toBe("500");
    expect(requestAmount(550n, "KES")).toBe("5.50");
    expect(requestAmount(1n, "USD")).toBe("0.01");
    expect(requestAmount(1234n, "KWD")).toBe("1.234");
  });

  it("reads answer integers as minor units, or as major units when configured", () => {
    expect(responseAmountMinor(new JsonNumber("500"), "UGX", "minor")).toBe(500n);
    expect(responseAmountMinor(new JsonNumber("550"), "KES", "minor")).toBe(550n);
    expect(responseAmountMinor(new JsonNumber("550"), "KES", "major")).toBe(55000n);
    expect(responseAmountMinor(new JsonNumber("5.5"), "KES", "major")).toBe(550n);
    expect(responseAmountMinor("12.50", "USD", "major")).toBe(1250n);
    expect(() => responseAmountMinor(new JsonNumber("5.5"), "KES", "minor")).toThrow(/integer/);
    expect(() => responseAmountMinor(new JsonNumber("5.555"), "KES", "major")).toThrow();
    expect(() => responseAmountMinor(new JsonNumber("1e3"), "UGX", "minor")).toThrow();
    expect(() => responseAmountMinor(5, "UGX", "minor")).toThrow();
  });

  it("writes answer amounts exactly", () => {
    expect(answerAmountText(550n, "KES", "minor")).toBe("550");
    expect(answerAmountText(550n, "KES", "major")).toBe("5.5");
    expect(answerAmountText(500n, "KES", "major")).toBe("5");
  });

  it("keeps every JSON number's source text, beyond float precision", () => {
    const parsed = parseJsonLossless('{"UGX":{"balance":90071992547409931,"x":"a \\" 1","n":[-0.10,2e5]}}') as Record<string, Record<string, unknown>>;
    expect((parsed.UGX!.balance as JsonNumber).text).toBe("90071992547409931");
    expect(parsed.UGX!.x).toBe('a " 1');
    expect((parsed.UGX!.n as JsonNumber[]).map((n) => n.text)).toEqual(["-0.10", "2e5"]);
    expect(responseAmountMinor(parsed.UGX!.balance, "UGX", "minor")).toBe(90071992547409931n);
    expect(() => parseJsonLossless("{nope")).toThrow();
  });
});

describe("countries", () => {
  it("tells the country from the dialling code", () => {
    expect(countryOfMsisdn("256700123123")).toBe("UG");
    expect(countryOfMsisdn("254712345678")).toBe("KE");
    expect(countryOfMsisdn("999123")).toBeNull();
  });
});
