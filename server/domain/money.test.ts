import { describe, expect, it } from "vitest";
import { currencyExponent, formatMoney, fromPreciseDecimalString, MAX_STORABLE_MINOR, MoneyError, parseAmount, toDecimalString, toShortDecimalString } from "./money";

describe("money", () => {
  it("knows ISO 4217 exponents", () => {
    expect(currencyExponent("UGX")).toBe(0);
    expect(currencyExponent("USD")).toBe(2);
    expect(currencyExponent("KWD")).toBe(3);
    expect(() => currencyExponent("XXY")).toThrow(/not an ISO 4217/);
    expect(currencyExponent("USDT")).toBe(2);
  });
  it("parses without floats", () => {
    expect(parseAmount("15", "ZMW")).toBe(1500n);
    expect(parseAmount("0.1", "USD")).toBe(10n);
    expect(parseAmount("1,250.05", "USD")).toBe(125005n);
    expect(parseAmount("1.234", "KWD")).toBe(1234n);
    expect(parseAmount("90071992547409931", "UGX")).toBe(90071992547409931n);
  });
  it("refuses what it cannot represent exactly", () => {
    expect(() => parseAmount("1.5", "UGX")).toThrow(/whole number/);
    expect(() => parseAmount("1.234", "USD")).toThrow(/at most 2 decimal places/);
    for (const bad of ["", "-5", "1e3", ".5", "5.", "00.5", "1,25.00", "abc"]) {
      expect(() => parseAmount(bad, "USD"), bad).toThrow();
    }
  });
  it("formats", () => {
    expect(toDecimalString(1500n, "ZMW")).toBe("15.00");
    expect(toShortDecimalString(1500n, "ZMW")).toBe("15");
    expect(toShortDecimalString(1550n, "ZMW")).toBe("15.5");
    expect(toDecimalString(5n, "KWD")).toBe("0.005");
    expect(toDecimalString(-5n, "USD")).toBe("-0.05");
    expect(formatMoney(123456789n, "USD")).toBe("1,234,567.89 USD");
    expect(formatMoney(5000n, "UGX")).toBe("5,000 UGX");
  });
  it("reads over-precise provider balances only when exact", () => {
    expect(fromPreciseDecimalString("4621.0000000", "UGX")).toBe(4621n);
    expect(fromPreciseDecimalString("21798.03", "ZMW")).toBe(2179803n);
    expect(() => fromPreciseDecimalString("1.005", "USD")).toThrow();
  });
  it("refuses amounts PostgreSQL's bigint cannot hold, naming the rule", () => {
    // int8's largest value in ZMW minor units is exactly representable and accepted here; payout limits are the service's.
    expect(parseAmount("92233720368547758.07", "ZMW")).toBe(MAX_STORABLE_MINOR);
    for (const [amount, currency] of [
      ["92233720368547758.08", "ZMW"],
      ["9999999999999999999", "ZMW"],
      ["9223372036854775808", "UGX"],
      ["9".repeat(400), "UGX"],
    ] as const) {
      let error: unknown;
      try {
        parseAmount(amount, currency);
      } catch (e) {
        error = e;
      }
      expect(error, amount).toBeInstanceOf(MoneyError);
      expect((error as MoneyError).rule).toBe("amount.range");
      expect((error as MoneyError).message).toContain(`at most ${formatMoney(MAX_STORABLE_MINOR, currency)}`);
      expect((error as MoneyError).message.length).toBeLessThan(200);
    }
  });
});
