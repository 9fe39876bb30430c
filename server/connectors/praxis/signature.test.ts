// Praxis's signature on the published examples (exact bytes), the JSON
// reader that keeps numbers as text, and the amount rule.
import { describe, expect, it } from "vitest";
import {
  JsonNumber,
  parsePraxisJson,
  parsePraxisObject,
  signatureBase,
  signatureText,
  signPraxis,
  toPraxisJson,
  verifyPraxis,
  withSignature,
  type PraxisFields,
} from "./signature";
import { fromPraxisAmount, ORDER_NOT_FOUND, PRAXIS_AS_IS_CURRENCIES, toPraxisAmount } from "./wire";

const SECRET = "MerchantSecretKey";

// The seed's responses, exactly as published (JSON text, numbers as numbers).
const APPROVED = `{
    "description": "Ok",
    "error_code": "0",
    "error_details": "[TEST] Transaction status: approved",
    "payment_processor": "Test E-Wallet",
    "redirect_url": null,
    "status": 0,
    "trace_id": 1000000681,
    "transaction_id": "15607165967620",
    "transaction_status": "approved",
    "version": "1.2",
    "signature": "6b3868298fda3b8ac824de0524db0dcd3ab6e2fb8c7234e091d10adb736dc7696faee249707e3ed41b566be585f087c6"
}`;
const REJECTED = `{
    "description": "Ok",
    "error_code": "1",
    "error_details": "[TEST] Transaction status: rejected",
    "payment_processor": "Test E-Wallet",
    "redirect_url": null,
    "status": 0,
    "trace_id": 1000000682,
    "transaction_id": "15607165967622",
    "transaction_status": "rejected",
    "version": "1.2",
    "signature": "dfe57cca17865e091054c6240b36895d3c8b31efca081960e797b7b3c821811210a6f02a3932a25bca21e3f970594b97"
}`;
// The seed prints the redirect_url with its host removed ("https:\/\/\/site/..."), so this one cannot reproduce.
const REDIRECT_AS_PRINTED = `{
    "description": "Ok",
    "error_code": "0",
    "error_details": "[TEST] Transaction status: redirect",
    "payment_processor": "Test E-Wallet",
    "redirect_url": "https:\\/\\/\\/site\\/process\\/WEYrdE5XKzhhKzRjQjBIbE5kWlpLZz09",
    "status": 0,
    "trace_id": 1000000680,
    "transaction_id": "15607165967613",
    "transaction_status": "pending_async",
    "version": "1.2",
    "signature": "75d2fd31757ac3717c594983cec015130123f813979d6ffa74c096f506cad4587a774445836070014fbae2b109378596"
}`;

/** The seed's request example, as printed (transaction_type "payout", hosts removed from the URLs). */
function requestAsPrinted(): PraxisFields {
  return {
    amount: "100",
    application_key: "Sandbox",
    country: "GB",
    currency: "USD",
    data_full_name: "John Doe",
    gateway: "s-pTSZyK23E1Ee5KZpcNbX_aFl0HuhQ0",
    merchant_id: "Test-Integration-Merchant",
    notification_url: "https:///v1/deposits/tx-1560610955",
    order_id: "test-1560610955",
    pin: "1",
    return_url: "https:///payment_result/tx-1560610955",
    timestamp: new JsonNumber("1588796654"),
    transaction_type: "payout",
    version: "1.2",
    signature: "cd2a4fac3deb0082f2faf414fa4723e9511c1b7c0f4d3e3fa724b1466b40a13ba4d148022a35a451a88079d2945f1611",
  };
}

describe("the published test vectors", () => {
  it("the Approved response: exact signature string and sha384", () => {
    const fields = parsePraxisObject(APPROVED)!;
    expect(signatureBase(fields, SECRET)).toBe(
      "Ok0[TEST] Transaction status: approvedTest E-Wallet0100000068115607165967620approved1.2MerchantSecretKey",
    );
    expect(signPraxis(fields, SECRET)).toBe(
      "6b3868298fda3b8ac824de0524db0dcd3ab6e2fb8c7234e091d10adb736dc7696faee249707e3ed41b566be585f087c6",
    );
    expect(verifyPraxis(fields, SECRET)).toBe(true);
    expect(verifyPraxis(fields, "AnotherSecret")).toBe(false);
  });

  it("the Rejected response reproduces too", () => {
    expect(verifyPraxis(parsePraxisObject(REJECTED)!, SECRET)).toBe(true);
  });

  it("the Redirect response does not reproduce as printed (its redirect_url lost its host)", () => {
    expect(verifyPraxis(parsePraxisObject(REDIRECT_AS_PRINTED)!, SECRET)).toBe(false);
  });

  it("the request example reproduces as Praxis published it (a deposit, \"sale\", with its merchant URLs), not as edited in the seed", () => {
    expect(verifyPraxis(requestAsPrinted(), SECRET)).toBe(false);
    const original = {
      ...requestAsPrinted(),
      transaction_type: "sale",
      notification_url: "https://api.merchant.com/v1/deposits/tx-1560610955",
      return_url: "https://merchant.com/payment_result/tx-1560610955",
    };
    expect(verifyPraxis(original, SECRET)).toBe(true);
    // The amount as a JSON string ("100") or integer (100) signs the same.
    expect(verifyPraxis({ ...original, amount: 100n }, SECRET)).toBe(true);
  });

  it("a tampered field or a truncated signature does not verify; upper-case hex does", () => {
    const fields = parsePraxisObject(APPROVED)!;
    expect(verifyPraxis({ ...fields, transaction_status: "pending" }, SECRET)).toBe(false);
    expect(verifyPraxis({ ...fields, signature: (fields.signature as string).slice(0, 95) }, SECRET)).toBe(false);
    expect(verifyPraxis({ ...fields, signature: (fields.signature as string).toUpperCase() }, SECRET)).toBe(true);
    const { signature: _s, ...unsigned } = fields;
    expect(verifyPraxis(unsigned, SECRET)).toBe(false);
  });
});

describe("value text", () => {
  it("null is empty, numbers keep their digits, booleans print as PHP does, nested values concatenate in key order", () => {
    expect(signatureText(null)).toBe("");
    expect(signatureText(new JsonNumber("12345678901234567890123"))).toBe("12345678901234567890123");
    expect(signatureText(123456789012345678901234567890n)).toBe("123456789012345678901234567890");
    expect(signatureText(true)).toBe("1");
    expect(signatureText(false)).toBe("");
    expect(signatureText({ b: "2", a: ["x", 1] })).toBe("x12");
    expect(() => signatureText(1.5)).toThrow();
  });

  it("withSignature signs everything but signature, and puts it last", () => {
    const body = withSignature({ status: 0, description: "Ok", version: "1.2", timestamp: 1700000000 }, SECRET);
    expect(Object.keys(body).at(-1)).toBe("signature");
    expect(body.signature).toBe(signPraxis({ description: "Ok", status: 0, timestamp: 1700000000, version: "1.2" }, SECRET));
    expect(verifyPraxis(body, SECRET)).toBe(true);
  });
});

describe("JSON with exact numbers", () => {
  it("keeps every number's text and round-trips bigints without floats", () => {
    const parsed = parsePraxisJson('{"amount": 123456789012345678901, "rate": 1.50, "n": -0, "s": "x\\u00e9", "a": [1, true, null], "__proto__": "p"}') as PraxisFields;
    expect((parsed.amount as JsonNumber).text).toBe("123456789012345678901");
    expect((parsed.rate as JsonNumber).text).toBe("1.50");
    expect(parsed.s).toBe("xé");
    expect(Object.keys(parsed)).toContain("__proto__");
    expect(toPraxisJson({ amount: 123456789012345678901n, s: "é", n: null })).toBe('{"amount":123456789012345678901,"s":"é","n":null}');
  });

  it("refuses what is not JSON", () => {
    for (const bad of ["", "{", '{"a":}', "{'a':1}", '{"a":01}', "[1,]", '{"a":1} x', "<html>"]) {
      expect(() => parsePraxisJson(bad), bad).toThrow();
    }
    expect(parsePraxisObject("[1]")).toBeNull();
  });
});

describe("amounts in cents", () => {
  it("multiplies or divides to hundredths for ordinary currencies", () => {
    expect(toPraxisAmount(1050n, "USD")).toEqual({ ok: true, amount: 1050n });
    expect(toPraxisAmount(5000n, "UGX")).toEqual({ ok: true, amount: 500000n }); // not in Praxis's list: 100 cents per unit
    expect(toPraxisAmount(12340n, "KWD")).toEqual({ ok: true, amount: 1234n });
    expect(toPraxisAmount(12345n, "KWD")).toMatchObject({ ok: false, message: expect.stringContaining("2 decimal places") });
  });

  it("sends the listed currencies as-is, in their own minor unit", () => {
    expect(PRAXIS_AS_IS_CURRENCIES).toEqual(["JPY", "CLP", "KRW", "VND", "BHD", "IQD", "JOD", "LYD", "OMR", "TND"]);
    expect(toPraxisAmount(1000n, "JPY")).toEqual({ ok: true, amount: 1000n });
    expect(toPraxisAmount(1500n, "BHD")).toEqual({ ok: true, amount: 1500n });
    expect(toPraxisAmount(1234n, "TND")).toEqual({ ok: true, amount: 1234n });
  });

  it("refuses zero, unknown currencies and more than 20 digits; converts back exactly", () => {
    expect(toPraxisAmount(0n, "USD").ok).toBe(false);
    expect(toPraxisAmount(100n, "XYZ").ok).toBe(false);
    expect(toPraxisAmount(10n ** 20n, "USD").ok).toBe(false);
    expect(toPraxisAmount(10n ** 20n - 1n, "USD").ok).toBe(true);
    expect(fromPraxisAmount(500000n, "UGX")).toBe(5000n);
    expect(fromPraxisAmount(500050n, "UGX")).toBeNull();
    expect(fromPraxisAmount(1234n, "KWD")).toBe(12340n);
    expect(fromPraxisAmount(1500n, "BHD")).toBe(1500n);
  });
});

describe("find-order's not-found wording", () => {
  it("is recognised only when it is about the order", () => {
    for (const text of ["Order not found", "Transaction with this order_id does not exist", "No such order", "unknown order"]) {
      expect(ORDER_NOT_FOUND.test(text), text).toBe(true);
    }
    for (const text of ["Merchant not found", "Invalid signature", "Request expired", "Application not found"]) {
      expect(ORDER_NOT_FOUND.test(text), text).toBe(false);
    }
  });
});
