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
      ["2607634567", "phone.invalid"],
      ["260763456789543", "phone.invalid"],
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
    if (!r.ok) expect(r.message).toMatch(/Uganda.*Zambia/);
  });
});
