import { describe, expect, it } from "vitest";
import { checkMsisdn } from "./phone";

describe("checkMsisdn", () => {
  it("accepts the pawaPay sandbox numbers and normalises layout", () => {
    expect(checkMsisdn("260763456789")).toMatchObject({ ok: true, msisdn: "260763456789", country: "ZM" });
    expect(checkMsisdn("+260 763 456-789")).toMatchObject({ ok: true, msisdn: "260763456789" });
    expect(checkMsisdn("256772123456")).toMatchObject({ ok: true, country: "UG" });
  });
  it("refuses the seed's invalid examples with the rule broken", () => {
    const cases: Array<[string, string]> = [
      ["0260763456789", "phone.country_code"],
      ["2607634567", "phone.too_short"],
      ["260763456789543", "phone.too_long"],
      ["26076345678a", "phone.digits"],
      ["", "phone.required"],
      ["0763456789", "phone.country_code"],
    ];
    for (const [input, rule] of cases) {
      const r = checkMsisdn(input);
      expect(r.ok, input).toBe(false);
      if (!r.ok) expect(r.rule, input).toBe(rule);
    }
  });
  it("refuses a number from another country than the payout's", () => {
    const r = checkMsisdn("256772123456", "ZM");
    expect(r).toMatchObject({ ok: false, rule: "phone.country_mismatch" });
    if (!r.ok) expect(r.message).toBe("This is a Ugandan number; this payout needs a Zambian number");
  });

  it("names the real problem: length, country code, area code or type", () => {
    const message = (input: string) => {
      const r = checkMsisdn(input);
      return r.ok ? "ok" : `${r.rule}: ${r.message}`;
    };
    // +1 is a country code: "12345" is a number far too short, not one with an unknown code.
    expect(message("12345")).toBe("phone.too_short: Too short: this has 5 digits with the country code (e.g. 260763456789 has 12)");
    // +1 is known; 555 is not an area code in use in any country of +1.
    expect(message("+1 555 123 4500")).toBe(
      "phone.unassigned: Country code +1 is right, but 555 123 4500 is not a number in use there: check the area or network code",
    );
    expect(message("2607634567")).toBe(
      "phone.too_short: Too short for a Zambian number: this has 10 digits; Zambian mobile numbers have 12 with the country code (e.g. 260955123456)",
    );
    expect(message("260763456789543")).toMatch(/^phone.too_long: Too long for a Zambian number: this has 15 digits/);
    expect(message("999558708954")).toBe("phone.country_code: The number does not start with a known country code (e.g. 260 for Zambia, 256 for Uganda)");
    expect(message("260211234567")).toBe("phone.not_mobile: This is not a mobile number; mobile money needs a mobile number");
    expect(message("+260 99 1234567")).toMatch(/^phone.invalid: Not a valid Zambian number: the length is right/);
  });

  it("words other countries without an adjective by name", () => {
    expect(checkMsisdn("37255870895", "ZM")).toMatchObject({ ok: false, message: "This is an Estonian number; this payout needs a Zambian number" });
    expect(checkMsisdn("393471234567", "UG")).toMatchObject({ ok: false, message: "This is a number from Italy; this payout needs a Ugandan number" });
  });
});
